//! The real gateway binary's logs, in both formats, while clients send
//! session names, paths, event types and commands full of `\n`, `\r`,
//! `ESC [31m` and tens of thousands of characters (and a command queued on
//! NATS that the mod could not read): no raw control character reaches a
//! log line, and no line grows with the input.

use std::{net::SocketAddr, process::Stdio, time::Duration};

use jimbot_nats::testing::NatsServer;
use jimbot_service::testing::http_get;
use prost::Message as _;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    process::Command,
};

/// Longest log line accepted: a few fields of at most 200 characters each,
/// with room for span context and JSON escaping.
const MAX_LINE: usize = 8 * 1024;

fn free_addr() -> SocketAddr {
    let port = jimbot_nats::testing::free_port().expect("free port");
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Sends one raw HTTP/1.1 request; the status line of the answer.
async fn send(addr: SocketAddr, head: &str, body: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let request = format!(
        "{head}\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(request.as_bytes()).await;
    let _ = stream.write_all(body).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered in time");
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// What a hostile client sends: every request carries control characters
/// (percent-encoded where HTTP forbids them raw) and 30,000 characters in a
/// URI or 100,000 in a body.
async fn hostile_requests(addr: SocketAddr) -> Vec<String> {
    let long = "A".repeat(100_000);
    // Hyper answers 414 to a URI over 64 KiB, before any of our code runs.
    let session = format!("%0A%0D%1B%5B31m{}", "A".repeat(30_000));
    let nasty = format!("\n\r\u{1b}[31m{long}");
    let body = serde_json::json!({
        "batch_id": nasty,
        "events": [
            {"type": nasty, "event_id": nasty, "timestamp": 1, "payload": {"x": nasty}},
            {"event_id": nasty},
            nasty,
        ],
    })
    .to_string();
    let mut statuses = Vec::new();
    for path in [
        format!("/s/{session}/api/v1/events/batch"),
        format!("/s/{session}/api/v1/events"),
    ] {
        statuses.push(send(addr, &format!("POST {path} HTTP/1.1"), body.as_bytes()).await);
    }
    let invalid = format!("{{\"type\":\"{nasty}\",\"payload\":{{]");
    statuses.push(send(addr, "POST /api/v1/events HTTP/1.1", invalid.as_bytes()).await);
    statuses.push(
        send(
            addr,
            &format!("POST /s/{session}/api/v1/commands HTTP/1.1"),
            format!("play_hand\u{1b}[31m{long}\nselect_card:{long}").as_bytes(),
        )
        .await,
    );
    statuses.push(
        send(
            addr,
            &format!("GET /s/{session}/api/v1/commands/poll HTTP/1.1"),
            b"",
        )
        .await,
    );
    statuses.push(
        send(
            addr,
            &format!("GET /api/v1/sessions/{session}/events?from={session} HTTP/1.1"),
            b"",
        )
        .await,
    );
    statuses.push(send(addr, &format!("GET /{session} HTTP/1.1"), b"").await);
    statuses.push(
        send(
            addr,
            &format!("POST /api/v1/events/batch HTTP/1.1\r\nX-Jimbot-Session: \u{1b}{long}"),
            body.as_bytes(),
        )
        .await,
    );
    statuses
}

/// Runs the gateway with `format` logs through the hostile requests, with
/// NATS up and then down (5xx answers are logged as failures); its output.
async fn logs_of_a_hostile_session(format: &str) -> String {
    let mut nats = NatsServer::start().await.expect("nats-server");
    let http = free_addr();
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_jimbot-gateway"))
        .args(["--http-addr", &http.to_string(), "--nats-url", &nats.url()])
        .env("GATEWAY_GRPC_ADDR", free_addr().to_string())
        .env("LOG_FORMAT", format)
        // Request spans (with their URIs) on every request, not only failures.
        .env("RUST_LOG", "info,tower_http=debug,jimbot_gateway=debug")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("gateway starts");
    let mut stdout = gateway.stdout.take().expect("stdout");
    let mut stderr = gateway.stderr.take().expect("stderr");
    let read_out = tokio::spawn(async move {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out).await;
        out
    });
    let read_err = tokio::spawn(async move {
        let mut out = Vec::new();
        let _ = stderr.read_to_end(&mut out).await;
        out
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while http_get(http, "/health/ready")
        .await
        .map(|(status, _)| status)
        != Some(200)
    {
        assert!(tokio::time::Instant::now() < deadline, "gateway not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let up = hostile_requests(http).await;
    // A producer on NATS queues a command the mod could not read; the poll
    // drops it with a warning that quotes it.
    let js = async_nats::jetstream::new(nats.connect().await);
    let command = jimbot_schemas::v1::Command {
        r#type: "play_hand".to_owned(),
        line: format!("play_hand\r\n\u{1b}[31m{}", "A".repeat(100_000)),
        ..Default::default()
    };
    js.publish("jimbot.commands.default", command.encode_to_vec().into())
        .await
        .expect("published")
        .await
        .expect("stored");
    let poll = send(http, "GET /api/v1/commands/poll HTTP/1.1", b"").await;
    assert!(poll.contains(" 200 "), "{poll}");
    assert!(up.iter().any(|s| s.contains(" 202 ")), "{up:?}");
    nats.stop().await;
    let down = hostile_requests(http).await;
    assert!(down.iter().any(|s| s.contains(" 503 ")), "{down:?}");

    let pid = gateway.id().expect("pid").to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().await;
    assert!(killed.is_ok_and(|s| s.success()));
    tokio::time::timeout(Duration::from_secs(20), gateway.wait())
        .await
        .expect("gateway stops")
        .expect("exit status");
    let mut output = read_out.await.expect("stdout");
    output.extend(read_err.await.expect("stderr"));
    String::from_utf8(output).expect("logs are UTF-8")
}

fn assert_clean(format: &str, logs: &str) {
    let lines: Vec<&str> = logs.lines().collect();
    // The requests were logged (so the checks below looked at them).
    assert!(
        lines.iter().any(|l| l.contains("AAAAAAAAAAAAAAAAAAAA")),
        "{format}: the hostile requests left no log line:\n{logs}"
    );
    for (n, line) in lines.iter().enumerate() {
        let shown = || line.chars().take(300).collect::<String>();
        assert!(
            !line.chars().any(char::is_control),
            "{format} line {n} holds a raw control character: {:?}",
            shown()
        );
        assert!(
            line.len() <= MAX_LINE,
            "{format} line {n} is {} bytes long: {:?}...",
            line.len(),
            shown()
        );
    }
}

#[tokio::test]
async fn json_logs_stay_clean_and_bounded() {
    let logs = logs_of_a_hostile_session("json").await;
    assert_clean("json", &logs);
    for line in logs.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
    }
}

#[tokio::test]
async fn text_logs_stay_clean_and_bounded() {
    let logs = logs_of_a_hostile_session("text").await;
    assert_clean("text", &logs);
}
