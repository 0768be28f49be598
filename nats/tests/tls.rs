//! TLS to NATS: the connection flags against a nats-server that requires
//! TLS, with certificates made by a CA generated in the test.

use clap::Parser;
use jimbot_nats::{
    ConnectErrorKind, NatsArgs, connect,
    testing::{NatsServer, TestPki},
};

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    nats: NatsArgs,
}

fn args(url: &str, extra: &[&str]) -> NatsArgs {
    let mut argv = vec!["test", "--nats-url", url];
    argv.extend_from_slice(extra);
    Cli::try_parse_from(argv).expect("valid flags").nats
}

async fn tls_server(pki: &TestPki) -> NatsServer {
    NatsServer::builder()
        .config(pki.nats_tls_config())
        .client_ca(pki.ca())
        .start()
        .await
        .expect("nats-server with TLS")
}

#[tokio::test]
async fn a_client_trusting_the_ca_connects_over_tls() {
    let pki = TestPki::generate().expect("certificates");
    let server = tls_server(&pki).await;
    let ca = pki.ca().display().to_string();
    for extra in [
        vec!["--nats-tls-ca", ca.as_str()],
        vec!["--nats-tls-ca", ca.as_str(), "--nats-tls-required"],
    ] {
        let client = connect(&args(&server.url(), &extra), "test")
            .await
            .unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        // A round trip through the server, not just a handshake.
        let mut inbox = client.subscribe("tls.check").await.expect("subscribe");
        client
            .publish("tls.check", "over tls".into())
            .await
            .expect("publish");
        let message = futures::StreamExt::next(&mut inbox).await.expect("message");
        assert_eq!(&message.payload[..], b"over tls");
    }
}

#[tokio::test]
async fn a_client_not_trusting_the_ca_is_refused() {
    let pki = TestPki::generate().expect("certificates");
    let other = TestPki::generate().expect("another CA");
    let server = tls_server(&pki).await;
    let other_ca = other.ca().display().to_string();
    for extra in [vec![], vec!["--nats-tls-ca", other_ca.as_str()]] {
        let err = connect(&args(&server.url(), &extra), "test")
            .await
            .expect_err("an untrusted server certificate");
        // Final, not retried as if the server were still starting.
        assert_eq!(
            err.kind(),
            ConnectErrorKind::InvalidConfig,
            "{extra:?}: {err}"
        );
        assert!(
            err.to_string()
                .contains("invalid peer certificate: UnknownIssuer"),
            "{extra:?}: {err}"
        );
    }
}

#[tokio::test]
async fn tls_required_refuses_a_server_without_tls() {
    let server = NatsServer::start().await.expect("plain nats-server");
    connect(&args(&server.url(), &[]), "test")
        .await
        .expect("plain text is fine unless TLS is required");
    let err = connect(&args(&server.url(), &["--nats-tls-required"]), "test")
        .await
        .expect_err("TLS required, server without TLS");
    assert_ne!(err.kind(), ConnectErrorKind::Authentication, "{err}");
}
