//! TLS on the gateway's HTTP and gRPC listeners, and from the gateway to NATS,
//! with a CA generated in the test: clients trusting it get through, others
//! do not; bad TLS settings stop the binary at start with a clear message.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use jimbot_nats::testing::{NatsServer, TestPki};
use jimbot_service::testing::{ServiceProcess, http_get};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-gateway");

/// A client trusting only the CA in `ca`.
fn client_config(ca: &Path) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(cert.expect("CA certificate")).expect("CA added");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// `GET path` over HTTPS to `localhost` at `addr`, trusting only `ca`.
async fn https_get(addr: SocketAddr, path: &str, ca: &Path) -> std::io::Result<(u16, String)> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = tokio_rustls::TlsConnector::from(client_config(ca));
    let name = ServerName::try_from("localhost").expect("server name");
    let mut tls = connector.connect(name, tcp).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut response))
        .await
        .map_err(|_| std::io::Error::other("no answer in 10 s"))??;
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not HTTP: {response:?}")))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

async fn grpc_channel(addr: SocketAddr, ca: &Path) -> Result<Channel, tonic::transport::Error> {
    let pem = std::fs::read(ca).expect("CA file");
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(pem))
        .domain_name("localhost");
    Channel::from_shared(format!("https://{addr}"))
        .expect("endpoint")
        .tls_config(tls)?
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
}

async fn wait_ready_over_tls(process: &ServiceProcess, ca: &Path) {
    for _ in 0..400 {
        if let Ok((200, _)) = https_get(process.http_addr(), "/health/ready", ca).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway did not become ready over HTTPS");
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

#[tokio::test]
async fn https_and_grpc_answer_clients_that_trust_the_ca_and_no_others() {
    let pki = TestPki::generate().expect("certificates");
    let stranger = TestPki::generate().expect("another CA");
    let nats = NatsServer::start().await.expect("nats-server");
    let (cert, key) = (path(&pki.cert()), path(&pki.key()));
    let process = ServiceProcess::spawn(
        BINARY,
        &nats.url(),
        &["--tls-cert", &cert, "--tls-key", &key],
    )
    .expect("spawn");
    wait_ready_over_tls(&process, &pki.ca()).await;

    // HTTPS: health and the service's own routes.
    let (status, body) = https_get(process.http_addr(), "/api/v1/sessions", &pki.ca())
        .await
        .expect("HTTPS trusting the CA");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"sessions\""), "{body}");
    let err = https_get(process.http_addr(), "/health/live", &stranger.ca())
        .await
        .expect_err("a client trusting another CA");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    assert_eq!(
        http_get(process.http_addr(), "/health/live").await,
        None,
        "plain HTTP gets no HTTP answer from a TLS listener"
    );

    // gRPC over TLS (ALPN h2).
    let channel = grpc_channel(process.grpc_addr(), &pki.ca())
        .await
        .expect("gRPC over TLS trusting the CA");
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "jimbot.v1.EventBus".to_owned(),
        })
        .await
        .expect("health check over TLS")
        .into_inner()
        .status();
    assert_eq!(status, ServingStatus::Serving);
    let refused = grpc_channel(process.grpc_addr(), &stranger.ca()).await;
    let err = refused.expect_err("gRPC client trusting another CA");
    let chain = error_chain(&err);
    assert!(chain.contains("UnknownIssuer"), "{chain}");
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

#[tokio::test]
async fn tls_settings_that_cannot_work_stop_the_binary_at_start() {
    let pki = TestPki::generate().expect("certificates");
    let other = TestPki::generate().expect("another key");
    let (cert, key, other_key) = (path(&pki.cert()), path(&pki.key()), path(&other.key()));
    let missing = path(&pki.ca().with_file_name("missing.pem"));
    let cases: [(&[&str], &str); 5] = [
        (&["--tls-cert", &cert], "--tls-key"),
        (&["--tls-key", &key], "--tls-cert"),
        (
            &["--tls-cert", &missing, "--tls-key", &key],
            "cannot read the TLS certificate",
        ),
        // A key file where the certificate should be: no certificate in it.
        (
            &["--tls-cert", &key, "--tls-key", &key],
            "holds no PEM certificate",
        ),
        (
            &["--tls-cert", &cert, "--tls-key", &other_key],
            "cannot be used together",
        ),
    ];
    for (args, expected) in cases {
        let output = tokio::process::Command::new(BINARY)
            .args(args)
            // Nothing listens there: the check must come before NATS.
            .args([
                "--nats-url",
                "nats://127.0.0.1:1",
                "--http-addr",
                "127.0.0.1:0",
            ])
            .args(["--grpc-addr", "127.0.0.1:0"])
            .env_remove("JIMBOT_TLS_CERT")
            .env_remove("JIMBOT_TLS_KEY")
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(20), output)
            .await
            .unwrap_or_else(|_| panic!("{args:?}: still running after 20 s"))
            .expect("run");
        assert!(!output.status.success(), "{args:?} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn the_gateway_reaches_a_nats_server_that_requires_tls() {
    let pki = TestPki::generate().expect("certificates");
    let nats = NatsServer::builder()
        .config(pki.nats_tls_config())
        .client_ca(pki.ca())
        .start()
        .await
        .expect("nats-server with TLS");
    let ca = path(&pki.ca());
    let process =
        ServiceProcess::spawn(BINARY, &nats.url(), &["--nats-tls-ca", &ca]).expect("spawn");
    process
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .expect("ready over a TLS connection to NATS");

    // Without the CA it stops at once and says why: retrying the same
    // certificates cannot help.
    let output = tokio::process::Command::new(BINARY)
        .args(["--nats-url", &nats.url(), "--http-addr", "127.0.0.1:0"])
        .args(["--grpc-addr", "127.0.0.1:0"])
        .env_remove("NATS_TLS_CA")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(20), output)
        .await
        .expect("stopped instead of retrying")
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
}

/// This machine's address on its default route, if it has one (a UDP
/// "connection" sends nothing).
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[tokio::test]
async fn with_tls_except_loopback_the_mod_keeps_plain_http_on_localhost() {
    let pki = TestPki::generate().expect("certificates");
    let nats = NatsServer::start().await.expect("nats-server");
    let (cert, key) = (path(&pki.cert()), path(&pki.key()));
    let remote = non_loopback_ip().map(|ip| {
        let port = jimbot_nats::testing::free_port().expect("port");
        SocketAddr::new(ip, port)
    });
    let remote_arg = remote.map(|addr| addr.to_string());
    let mut args = vec![
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
        "--tls-except-loopback",
    ];
    if let Some(remote) = &remote_arg {
        args.extend(["--http-addr", remote, "--allow-unauthenticated-remote"]);
    }
    let process = ServiceProcess::spawn(BINARY, &nats.url(), &args).expect("spawn");

    // Loopback: plain HTTP, as the mod polls http://localhost:8080.
    process
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .expect("plain HTTP on loopback");
    assert!(
        https_get(process.http_addr(), "/health/live", &pki.ca())
            .await
            .is_err(),
        "no TLS on loopback"
    );

    // Any other address: TLS only.
    match remote {
        Some(remote) => {
            let (status, _) = https_get(remote, "/health/live", &pki.ca())
                .await
                .expect("HTTPS on the non-loopback address");
            assert_eq!(status, 200);
            assert_eq!(
                http_get(remote, "/health/live").await,
                None,
                "no plain text"
            );
        }
        None => eprintln!("no non-loopback address here: only the loopback side was checked"),
    }
}
