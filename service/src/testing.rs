//! Test helpers that run a service binary as a real process.

mod otlp;
pub use otlp::{CollectedSpan, OtlpCollector};

use std::{
    net::SocketAddr,
    process::{ExitStatus, Stdio},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    process::{Child, Command},
};

/// A service binary running on free ports; killed when dropped.
#[derive(Debug)]
pub struct ServiceProcess {
    child: Child,
    http_addr: SocketAddr,
    grpc_addr: SocketAddr,
}

impl ServiceProcess {
    /// Starts `binary` with `--http-addr` on a free port, `--nats-url nats_url`
    /// and any `extra` flags. Services with gRPC get a free gRPC port through
    /// their environment (`GATEWAY_GRPC_ADDR`, `COORDINATOR_GRPC_ADDR`; the
    /// others ignore those), so tests can run side by side.
    pub fn spawn(binary: &str, nats_url: &str, extra: &[&str]) -> std::io::Result<Self> {
        Self::spawn_with_env(binary, nats_url, extra, &[])
    }

    /// As [`Self::spawn`], with `env` set last (over the test defaults).
    pub fn spawn_with_env(
        binary: &str,
        nats_url: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> std::io::Result<Self> {
        let free = || -> std::io::Result<SocketAddr> {
            let port = jimbot_nats::testing::free_port()?;
            Ok(SocketAddr::from(([127, 0, 0, 1], port)))
        };
        let http_addr = free()?;
        let grpc_addr = free()?;
        let child = Command::new(binary)
            .args([
                "--http-addr",
                &http_addr.to_string(),
                "--nats-url",
                nats_url,
            ])
            .args(extra)
            .env("LOG_FORMAT", "text")
            .env("GATEWAY_GRPC_ADDR", grpc_addr.to_string())
            .env("COORDINATOR_GRPC_ADDR", grpc_addr.to_string())
            // The developer's own settings must not change what is tested.
            .env_remove("NATS_USER")
            .env_remove("NATS_PASSWORD")
            .env_remove("NATS_TOKEN")
            .env_remove("NATS_NKEY")
            .env_remove("NATS_CREDS")
            .env_remove("NATS_TLS_CA")
            .env_remove("NATS_TLS_CERT")
            .env_remove("NATS_TLS_KEY")
            .env_remove("NATS_TLS_REQUIRED")
            .env_remove("JIMBOT_API_KEYS_FILE")
            .env_remove("JIMBOT_API_KEY_HASHES")
            .env_remove("GATEWAY_INGEST_ALLOW_CIDR")
            .env_remove("JIMBOT_STREAM_REPLICAS")
            .env_remove("JIMBOT_GAME_EVENTS_MAX_AGE")
            .env_remove("JIMBOT_GAME_EVENTS_MAX_BYTES")
            .env_remove("JIMBOT_DUPLICATE_WINDOW")
            .env_remove("JIMBOT_TLS_CERT")
            .env_remove("JIMBOT_TLS_KEY")
            .env_remove("JIMBOT_TLS_EXCEPT_LOOPBACK")
            .env_remove("JIMBOT_MAX_CONNECTIONS")
            .env_remove("JIMBOT_HEADER_TIMEOUT")
            .env_remove("JIMBOT_BODY_TIMEOUT")
            .env_remove("JIMBOT_WRITE_TIMEOUT")
            .env_remove("GATEWAY_ALLOW_UNAUTHENTICATED_REMOTE")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        Ok(Self {
            child,
            http_addr,
            grpc_addr,
        })
    }

    /// The HTTP address.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// The gRPC address (for services that serve gRPC).
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// `GET path`: the status and body, or `None` if nothing answered.
    pub async fn get(&self, path: &str) -> Option<(u16, String)> {
        http_get(self.http_addr, path).await
    }

    /// Polls `path` until it answers `status`, up to `timeout`.
    pub async fn wait_for(&self, path: &str, status: u16, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some((got, body)) = self.get(path).await
                && got == status
            {
                return Some(body);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Sends SIGTERM and waits for the exit status, up to `timeout`.
    pub async fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let pid = self.child.id()?;
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .ok()?;
        tokio::time::timeout(timeout, self.child.wait())
            .await
            .ok()?
            .ok()
    }
}

/// A minimal HTTP/1.1 GET (no client library needed in tests).
pub async fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .ok()?
        .ok()?;
    let response = String::from_utf8_lossy(&response);
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())?;
    Some((status, body))
}

/// What every service binary must do, checked against a real nats-server:
/// serve liveness while NATS is not up yet (and not readiness), become ready
/// once it is, with the topology provisioned, expose metrics, answer unknown
/// paths with a JSON 404, and stop cleanly on SIGTERM.
pub async fn assert_service_lifecycle(binary: &str, service: &str) {
    assert_service_lifecycle_with(binary, service, &[]).await;
}

/// [`assert_service_lifecycle`] with `extra` flags (say, a data path in a
/// temporary directory, so the test writes nothing into the source tree).
pub async fn assert_service_lifecycle_with(binary: &str, service: &str, extra: &[&str]) {
    use jimbot_nats::testing::{NatsServer, free_port};

    let port = free_port().expect("free port");
    let nats_url = format!("nats://127.0.0.1:{port}");
    let mut process = ServiceProcess::spawn(binary, &nats_url, extra).expect("spawn service");

    process
        .wait_for("/health/live", 200, Duration::from_secs(20))
        .await
        .expect("live while NATS is still down");
    let (status, body) = process.get("/health/ready").await.expect("ready answers");
    assert_eq!(status, 503, "not ready without NATS: {body}");
    assert!(body.contains("connecting to NATS"), "{body}");
    let (status, _) = process.get("/api/v1/anything").await.expect("answers");
    assert_eq!(status, 503, "service routes wait for NATS");

    let server = NatsServer::builder()
        .port(port)
        .start()
        .await
        .expect("nats-server");
    let body = process
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .expect("ready once NATS is up");
    assert!(body.contains("\"ready\""), "{body}");
    let js = async_nats::jetstream::new(server.connect().await);
    js.get_stream("GAME_EVENTS")
        .await
        .expect("topology provisioned");

    let (status, body) = process.get("/no/such/path").await.expect("answers");
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("not found"), "{body}");

    let (status, metrics) = process.get("/metrics").await.expect("metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains(&format!("jimbot_build_info{{service=\"{service}\"")),
        "{metrics}"
    );
    assert!(
        metrics.contains("http_requests_total{route=\"/health/ready\""),
        "{metrics}"
    );

    let exit = process
        .terminate(Duration::from_secs(15))
        .await
        .expect("exits after SIGTERM");
    assert!(exit.success(), "clean exit after SIGTERM: {exit}");
}

/// Runs `binary --help` and returns what it printed.
pub async fn help_text(binary: &str) -> String {
    let output = Command::new(binary)
        .arg("--help")
        .output()
        .await
        .expect("run --help");
    assert!(output.status.success(), "--help exits 0");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every flag (and its environment variable) that [`crate::CommonArgs`]
/// gives each service, for `--help` tests.
pub const COMMON_FLAGS: &[&str] = &[
    "--nats-url",
    "NATS_URL",
    "--nats-user",
    "NATS_USER",
    "--nats-password",
    "NATS_PASSWORD",
    "--nats-token",
    "NATS_TOKEN",
    "--nats-nkey",
    "NATS_NKEY",
    "--nats-creds",
    "NATS_CREDS",
    "--nats-tls-ca",
    "NATS_TLS_CA",
    "--nats-tls-cert",
    "NATS_TLS_CERT",
    "--nats-tls-key",
    "NATS_TLS_KEY",
    "--nats-tls-required",
    "NATS_TLS_REQUIRED",
    "--stream-replicas",
    "JIMBOT_STREAM_REPLICAS",
    "--game-events-max-age",
    "JIMBOT_GAME_EVENTS_MAX_AGE",
    "--game-events-max-bytes",
    "JIMBOT_GAME_EVENTS_MAX_BYTES",
    "--duplicate-window",
    "JIMBOT_DUPLICATE_WINDOW",
    "--tls-cert",
    "JIMBOT_TLS_CERT",
    "--tls-key",
    "JIMBOT_TLS_KEY",
    "--tls-except-loopback",
    "JIMBOT_TLS_EXCEPT_LOOPBACK",
    "--max-connections",
    "JIMBOT_MAX_CONNECTIONS",
    "--header-timeout",
    "JIMBOT_HEADER_TIMEOUT",
    "--body-timeout",
    "JIMBOT_BODY_TIMEOUT",
    "--write-timeout",
    "JIMBOT_WRITE_TIMEOUT",
    "--log-format",
    "LOG_FORMAT",
    "--log-filter",
    "RUST_LOG",
    "--otlp-endpoint",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// Invalid settings make `binary` exit at once, naming the flag at fault.
pub async fn assert_invalid_settings_fail_fast(binary: &str) {
    let cases: [&[&str]; 2] = [
        &["--stream-replicas", "9"],
        &[
            "--duplicate-window",
            "2h",
            "--game-events-max-age",
            "1h",
            "--http-addr",
            "127.0.0.1:0",
        ],
    ];
    for args in cases {
        let output = Command::new(binary)
            .args(args)
            .env_remove("JIMBOT_STREAM_REPLICAS")
            .output()
            .await
            .expect("run");
        assert!(!output.status.success(), "{args:?} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(args[0]), "{args:?}: {stderr}");
    }
}
