//! Connection setup: authentication and waiting for a server to come up.

use std::time::Duration;

use clap::Parser;
use jimbot_nats::{
    ConnectErrorKind, NatsArgs, connect, connect_with_retry,
    testing::{NatsServer, free_port},
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

#[tokio::test]
async fn token_authentication() {
    let server = NatsServer::builder()
        .arg("--auth")
        .arg("s3cret")
        .start()
        .await
        .expect("start");
    connect(&args(&server.url(), &["--nats-token", "s3cret"]), "test")
        .await
        .expect("right token");
    let err = connect(&args(&server.url(), &["--nats-token", "wrong"]), "test")
        .await
        .expect_err("wrong token");
    assert_eq!(err.kind(), ConnectErrorKind::Authentication, "{err}");
    // A refused credential is not retried forever.
    let err = connect_with_retry(&args(&server.url(), &[]), "test")
        .await
        .expect_err("no token");
    assert_eq!(err.kind(), ConnectErrorKind::Authentication, "{err}");
}

#[tokio::test]
async fn user_and_password_authentication() {
    let server = NatsServer::builder()
        .args(["--user", "jimbot", "--pass", "pw"])
        .start()
        .await
        .expect("start");
    connect(
        &args(
            &server.url(),
            &["--nats-user", "jimbot", "--nats-password", "pw"],
        ),
        "test",
    )
    .await
    .expect("right password");
    let err = connect(
        &args(
            &server.url(),
            &["--nats-user", "jimbot", "--nats-password", "no"],
        ),
        "test",
    )
    .await
    .expect_err("wrong password");
    assert_eq!(err.kind(), ConnectErrorKind::Authentication, "{err}");
}

#[tokio::test]
async fn waits_for_a_server_that_is_not_up_yet() {
    let port = free_port().expect("port");
    let url = format!("nats://127.0.0.1:{port}");
    let waiting = tokio::spawn({
        let args = args(&url, &[]);
        async move { connect_with_retry(&args, "test").await }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !waiting.is_finished(),
        "still waiting while nothing listens"
    );
    let _server = NatsServer::builder()
        .port(port)
        .start()
        .await
        .expect("start");
    let client = tokio::time::timeout(Duration::from_secs(15), waiting)
        .await
        .expect("connected in time")
        .expect("task")
        .expect("connected");
    client.flush().await.expect("usable connection");
}

#[test]
fn flags_reject_contradictions_and_bad_urls() {
    let parse = |extra: &[&str]| {
        let mut argv = vec!["test"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv)
    };
    assert!(
        parse(&["--nats-user", "u"]).is_err(),
        "user without password"
    );
    assert!(
        parse(&[
            "--nats-token",
            "t",
            "--nats-user",
            "u",
            "--nats-password",
            "p"
        ])
        .is_err()
    );
    assert!(
        parse(&["--nats-tls-cert", "c.pem"]).is_err(),
        "cert without key"
    );
    assert!(
        parse(&["--nats-url", "nats://a:4222,nats://b:4222"])
            .expect("two urls")
            .nats
            .urls
            .len()
            == 2
    );
    assert!(
        parse(&["--nats-url", "http://[::1"]).is_err(),
        "malformed URL"
    );
}

#[tokio::test]
async fn unreadable_credentials_file_fails_at_once() {
    let err = connect_with_retry(
        &args(
            "nats://127.0.0.1:1",
            &["--nats-creds", "/nonexistent/jimbot.creds"],
        ),
        "test",
    )
    .await
    .expect_err("missing file");
    assert_eq!(err.kind(), ConnectErrorKind::InvalidConfig);
    assert!(
        err.to_string().contains("/nonexistent/jimbot.creds"),
        "{err}"
    );
}

#[test]
fn credentials_in_urls_never_reach_logs() {
    let shown = args(
        "nats://jimbot:s3cret@127.0.0.1:4222,nats://tok3n@10.0.0.2:4222",
        &[],
    )
    .urls_display();
    assert!(
        !shown.contains("s3cret") && !shown.contains("tok3n"),
        "{shown}"
    );
    assert!(
        shown.contains("127.0.0.1:4222") && shown.contains("10.0.0.2:4222"),
        "{shown}"
    );
}

#[tokio::test]
async fn missing_tls_files_fail_at_once() {
    let err = connect_with_retry(
        &args(
            "nats://127.0.0.1:1",
            &["--nats-tls-ca", "/nonexistent/ca.pem"],
        ),
        "test",
    )
    .await
    .expect_err("missing CA");
    assert_eq!(err.kind(), ConnectErrorKind::InvalidConfig);
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}
