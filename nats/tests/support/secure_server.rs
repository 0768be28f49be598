//! A nats-server running `nats/config/permissions.conf` (a user per
//! service), on a free port with a temporary store; killed on drop.
//!
//! The harness's `NatsServer` checks readiness anonymously, which this
//! configuration refuses, so this starts the same binary itself.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use jimbot_nats::testing::{free_port, nats_server_binary};
use tokio::sync::mpsc;

/// The users of `permissions.conf` and the environment variable holding each password.
pub const USERS: [(&str, &str); 4] = [
    ("gateway", "JIMBOT_NATS_GATEWAY_PASSWORD"),
    ("analytics", "JIMBOT_NATS_ANALYTICS_PASSWORD"),
    ("coordinator", "JIMBOT_NATS_COORDINATOR_PASSWORD"),
    ("admin", "JIMBOT_NATS_ADMIN_PASSWORD"),
];

/// The permissions config shipped in `nats/config/`.
pub fn permissions_conf() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../nats/config/permissions.conf")
}

/// The password the test server gives `user`.
pub fn password(user: &str) -> String {
    format!("{user}-test-password")
}

pub struct SecureServer {
    child: Child,
    port: u16,
    store: tempfile::TempDir,
}

impl SecureServer {
    /// Starts the server and waits until JetStream answers the admin user.
    pub async fn start() -> Self {
        let store = tempfile::Builder::new()
            .prefix("jimbot-nats-secure-")
            .tempdir()
            .expect("tempdir");
        let port = free_port().expect("free port");
        let log = std::fs::File::create(store.path().join("nats-server.log")).expect("log");
        let mut command = Command::new(nats_server_binary().expect("nats-server installed"));
        command
            .arg("-c")
            .arg(permissions_conf())
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(store.path().join("jetstream"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        for (user, variable) in USERS {
            command.env(variable, password(user));
        }
        let server = Self {
            child: command.spawn().expect("spawn nats-server"),
            port,
            store,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(client) = server.try_connect("admin").await
                && async_nats::jetstream::new(client)
                    .query_account()
                    .await
                    .is_ok()
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server with permissions.conf did not start:\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.store.path().join("nats-server.log")).unwrap_or_default()
    }

    async fn try_connect(
        &self,
        user: &str,
    ) -> Result<async_nats::Client, async_nats::ConnectError> {
        async_nats::ConnectOptions::with_user_and_password(user.to_owned(), password(user))
            .connection_timeout(Duration::from_millis(500))
            .max_reconnects(Some(0))
            .connect(self.url())
            .await
    }

    /// A client logged in as `user`.
    pub async fn connect(&self, user: &str) -> async_nats::Client {
        self.connect_watching(user).await.0
    }

    /// A client logged in as `user`, and the errors the server sends it
    /// (permission violations arrive this way, not as call results).
    pub async fn connect_watching(
        &self,
        user: &str,
    ) -> (async_nats::Client, mpsc::UnboundedReceiver<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let client =
            async_nats::ConnectOptions::with_user_and_password(user.to_owned(), password(user))
                .event_callback(move |event| {
                    let tx = tx.clone();
                    async move {
                        if let async_nats::Event::ServerError(error) = event {
                            let _ = tx.send(error.to_string());
                        }
                    }
                })
                .connect(self.url())
                .await
                .unwrap_or_else(|e| panic!("{user} cannot connect: {e}"));
        (client, rx)
    }
}

impl Drop for SecureServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits up to 5 s for the server to report a permissions violation naming `subject`.
pub async fn expect_violation(errors: &mut mpsc::UnboundedReceiver<String>, subject: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, errors.recv()).await {
            Ok(Some(error))
                if error.contains("Permissions Violation") && error.contains(subject) =>
            {
                return;
            }
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => panic!("no permissions violation reported for {subject}"),
        }
    }
}
