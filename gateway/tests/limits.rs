//! Hostile input meets a limit with a clear answer: nesting depth, huge
//! strings, events per batch, request headers, and session names that try to
//! change the subject structure (`a.b`, `>`, `*`, `../x`, 10,000 characters,
//! control characters, nothing at all).

mod common;

use std::time::Duration;

use common::{spawn_app, spawn_app_with};
use jimbot_gateway::{commands::parse::MAX_LINE_LEN, config::Settings};
use jimbot_nats::{Token, testing::NatsServer};
use jimbot_schemas::balatro::MAX_DEPTH;
use jimbot_service::testing::ServiceProcess;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// A batch of one custom event whose payload is `payload` (raw JSON).
fn batch_with_payload(payload: &str) -> Vec<u8> {
    format!(r#"{{"batch_id":"b","events":[{{"type":"LIMIT_TEST","event_id":"e1","timestamp":1,"payload":{payload}}}]}}"#)
        .into_bytes()
}

/// A batch of `n` distinct heartbeats.
fn batch_of(n: usize) -> Vec<u8> {
    let events: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"type":"HEARTBEAT","event_id":"h{i}","timestamp":{i}}}"#))
        .collect();
    format!(r#"{{"batch_id":"b","events":[{}]}}"#, events.join(",")).into_bytes()
}

/// True for a subject token the topology allows: `[a-z0-9_-]`, 1 to 64 long.
fn is_token(token: &str) -> bool {
    (1..=jimbot_nats::subject::MAX_TOKEN_LEN).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// `jimbot.game.<session>.<type>` with two well-formed tokens; the session.
fn session_of(subject: &str) -> String {
    let tokens: Vec<&str> = subject.split('.').collect();
    assert_eq!(tokens.len(), 4, "subject {subject:?} has the wrong shape");
    assert_eq!(&tokens[..2], ["jimbot", "game"], "{subject:?}");
    assert!(is_token(tokens[2]), "session token of {subject:?}");
    assert!(is_token(tokens[3]), "type token of {subject:?}");
    tokens[2].to_owned()
}

#[tokio::test]
async fn nesting_up_to_the_limit_is_stored_and_deeper_is_dead_lettered() {
    let app = spawn_app().await;
    // The body, `events` and the event itself are three levels.
    let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
    let at_limit = batch_with_payload(&nested(MAX_DEPTH - 3));
    let reply = app
        .post("/s/deep-ok/api/v1/events/batch", at_limit.clone())
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(reply.json()["totals"]["stored"], 1, "{}", reply.text());
    let stored = app.events("deep-ok").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].1.original_json.len(),
        at_limit.len() - r#"{"batch_id":"b","events":[]}"#.len()
    );

    let reply = app
        .post(
            "/s/deep-no/api/v1/events/batch",
            batch_with_payload(&nested(MAX_DEPTH - 2)),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    let report = reply.json();
    assert_eq!(report["body"]["status"], "dead_lettered", "{report}");
    assert_eq!(
        report["body"]["reason"],
        format!("too_deep: nested deeper than {MAX_DEPTH} levels")
    );
    assert_eq!(
        app.stored("DEAD_LETTER", "jimbot.deadletter.too_deep")
            .await
            .len(),
        1
    );
    assert!(app.events("deep-no").await.is_empty());
}

#[tokio::test]
async fn a_huge_string_is_stored_when_it_fits_and_dead_lettered_cut_when_not() {
    let app = spawn_app().await;
    let max_payload = app.client.server_info().max_payload;

    let fits = batch_with_payload(&format!(r#"{{"text":"{}"}}"#, "a".repeat(max_payload / 4)));
    let reply = app.post("/s/big-ok/api/v1/events/batch", fits).await;
    assert_eq!(reply.json()["totals"]["stored"], 1, "{}", reply.text());

    // Three times what NATS accepts in one message, in one JSON string.
    let huge = batch_with_payload(&format!(r#"{{"text":"{}"}}"#, "b".repeat(3 * max_payload)));
    let reply = app
        .post("/s/big-no/api/v1/events/batch", huge.clone())
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    let report = reply.json();
    assert_eq!(report["events"][0]["status"], "dead_lettered", "{report}");
    assert!(
        report["events"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("more than NATS accepts")),
        "{report}"
    );
    let letters = app
        .stored("DEAD_LETTER", "jimbot.deadletter.event_too_large")
        .await;
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert!(
        letter.payload.len() < max_payload,
        "the dead letter fits NATS"
    );
    let original: usize = letter
        .headers
        .get("Jimbot-Truncated-From")
        .expect("the cut is recorded")
        .as_str()
        .parse()
        .expect("a length");
    assert!(original > 3 * max_payload);
    assert!(app.events("big-no").await.is_empty());
}

#[tokio::test]
async fn more_events_than_allowed_is_refused_with_413_and_nothing_stored() {
    let app = spawn_app_with(Settings {
        max_batch_events: 50,
        ..Settings::default()
    })
    .await;
    let reply = app.post("/s/fifty/api/v1/events/batch", batch_of(50)).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(reply.json()["totals"]["stored"], 50);

    let reply = app
        .post("/s/fifty-one/api/v1/events/batch", batch_of(51))
        .await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(
        reply.json()["error"],
        "51 events in one batch; at most 50 are accepted"
    );
    assert!(app.events("fifty-one").await.is_empty());
    assert!(app.stored("DEAD_LETTER", "").await.is_empty());
}

#[tokio::test]
async fn a_million_empty_events_are_refused_by_default() {
    let app = spawn_app().await;
    let limit = Settings::default().max_batch_events;
    let events = vec!["{}"; 1_000_000].join(",");
    let body = format!(r#"{{"events":[{events}]}}"#);
    let reply = app.post("/api/v1/events/batch", body).await;
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(
        reply.json()["error"],
        format!("1000000 events in one batch; at most {limit} are accepted")
    );
    assert!(app.stored("DEAD_LETTER", "").await.is_empty());
    assert!(app.stored("GAME_EVENTS", "").await.is_empty());
}

/// Session names from the header and from the URL: each must end up as one
/// well-formed token, and distinct names as distinct sessions.
#[tokio::test]
async fn hostile_session_names_never_change_the_subject_structure() {
    let app = spawn_app().await;
    let long = "s".repeat(10_000);
    let via_header = [
        "a.b",
        ">",
        "*",
        "../x",
        "a b",
        "tab\there",
        "ünïcôdé",
        long.as_str(),
        "jimbot.game.other.game_state",
    ];
    let mut expected = std::collections::BTreeSet::new();
    for name in via_header {
        let reply = app
            .send(
                axum::http::Request::post("/api/v1/events/batch")
                    .header("content-type", "application/json")
                    .header(
                        "x-jimbot-session",
                        axum::http::HeaderValue::from_bytes(name.as_bytes()).expect("header value"),
                    )
                    .body(batch_of(1).into())
                    .expect("request"),
            )
            .await;
        assert_eq!(reply.status, 202, "header {name:?}: {}", reply.text());
        let session = reply.json()["session"]
            .as_str()
            .expect("session")
            .to_owned();
        assert!(is_token(&session), "{session:?}");
        assert_eq!(session, Token::new(name).as_str());
        expected.insert(session);
    }
    // Percent-encoded in the URL (`.`, `>`, `*`, `/`, NUL, CR LF, ESC, DEL),
    // and what the session is named after decoding; a segment that is not
    // UTF-8 once decoded is used as sent.
    let via_path = [
        ("a%2Eb", "a.b"),
        ("%3E", ">"),
        ("%2A", "*"),
        ("..%2Fx", "../x"),
        ("%2E%2E", ".."),
        ("%00", "\0"),
        ("%0D%0A", "\r\n"),
        ("%1B%5B31m", "\u{1b}[31m"),
        ("%7F", "\u{7f}"),
        ("%FF%FE", "%FF%FE"),
        (long.as_str(), long.as_str()),
    ];
    for (encoded, name) in via_path {
        let reply = app
            .post(&format!("/s/{encoded}/api/v1/events/batch"), batch_of(1))
            .await;
        assert_eq!(reply.status, 202, "path {encoded}: {}", reply.text());
        let session = reply.json()["session"]
            .as_str()
            .expect("session")
            .to_owned();
        assert_eq!(session, Token::new(name).as_str(), "path {encoded}");
        expected.insert(session);
    }
    // An empty header names no session: the default one.
    let reply = app
        .post_with(
            "/api/v1/events/batch",
            batch_of(1),
            &[
                ("content-type", "application/json"),
                ("x-jimbot-session", ""),
            ],
        )
        .await;
    assert_eq!(reply.json()["session"], "default");
    expected.insert("default".to_owned());

    // The same name by header and by URL is one session (its event stored
    // once); every other name is a session of its own.
    let distinct_names: std::collections::BTreeSet<&str> = via_header
        .iter()
        .copied()
        .chain(via_path.iter().map(|(_, name)| *name))
        .chain(["default"])
        .collect();
    assert_eq!(expected.len(), distinct_names.len(), "{expected:?}");
    let stored: std::collections::BTreeSet<String> = app
        .stored("GAME_EVENTS", "")
        .await
        .iter()
        .map(|message| session_of(message.subject.as_str()))
        .collect();
    assert_eq!(stored, expected);
}

#[tokio::test]
async fn hostile_event_types_stay_one_token() {
    let app = spawn_app().await;
    let long = "t".repeat(10_000);
    let types = ["a.b", ">", "*", "../x", "x\u{1b}[31m", "", &long];
    let events: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                r#"{{"type":{},"event_id":"t{i}","timestamp":{i}}}"#,
                serde_json::json!(t)
            )
        })
        .collect();
    let body = format!(r#"{{"events":[{}]}}"#, events.join(","));
    let reply = app.post("/s/types/api/v1/events/batch", body).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    let stored = app.events("types").await;
    assert!(!stored.is_empty(), "{}", reply.text());
    for (subject, _) in &stored {
        assert_eq!(session_of(subject), "types");
    }
    assert_eq!(
        stored.len()
            + reply.json()["totals"]["dead_lettered"]
                .as_u64()
                .unwrap_or(0) as usize,
        types.len()
    );
}

/// The raw request and the status line of its answer, over a fresh connection.
async fn status_of(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may answer (and close) before reading everything.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered in time");
    let answer = String::from_utf8_lossy(&answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn oversized_and_too_many_headers_get_431_from_the_real_binary() {
    let nats = NatsServer::start().await.expect("nats-server");
    let gateway = ServiceProcess::spawn(env!("CARGO_BIN_EXE_jimbot-gateway"), &nats.url(), &[])
        .expect("gateway starts");
    gateway
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .expect("gateway ready");
    let addr = gateway.http_addr();
    let request = |extra: &str| {
        format!("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n")
            .into_bytes()
    };
    assert!(
        status_of(addr, &request(""))
            .await
            .starts_with("HTTP/1.1 200")
    );

    let many: String = (0..200).map(|i| format!("x-h{i}: v\r\n")).collect();
    let status = status_of(addr, &request(&many)).await;
    assert!(status.starts_with("HTTP/1.1 431"), "200 headers: {status}");

    let huge = format!("x-jimbot-session: {}\r\n", "a".repeat(1024 * 1024));
    let status = status_of(addr, &request(&huge)).await;
    assert!(
        status.starts_with("HTTP/1.1 431"),
        "a 1 MiB header: {status}"
    );

    // Still serving.
    assert!(
        status_of(addr, &request(""))
            .await
            .starts_with("HTTP/1.1 200")
    );
}

#[tokio::test]
async fn long_command_lines_and_names_are_refused_with_a_short_error() {
    let app = spawn_app().await;
    let long = "7".repeat(1024 * 1024);
    let reply = app
        .post_with(
            "/api/v1/commands",
            format!("play_hand\nselect_card:{long}"),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    assert_eq!(
        reply.json()["error"],
        format!(
            "command line of {} bytes; at most {MAX_LINE_LEN}",
            long.len() + "select_card:".len()
        )
    );
    let reply = app
        .post(
            "/api/v1/commands",
            serde_json::json!({ "type": long }).to_string(),
        )
        .await;
    assert_eq!(reply.status, 400);
    let error = reply.json()["error"].as_str().expect("error").to_owned();
    assert!(error.starts_with("unknown command \"7777"), "{error}");
    assert!(error.len() < 300, "{} bytes of error", error.len());
    // The longest line allowed is still queued.
    let longest = format!(
        "select_card:{}",
        "0".repeat(MAX_LINE_LEN - "select_card:".len())
    );
    let reply = app
        .post_with(
            "/api/v1/commands",
            longest,
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(app.stored("COMMANDS", "").await.len(), 1);
}

#[tokio::test]
async fn a_grpc_mod_json_batch_has_the_typed_batch_limit() {
    use jimbot_gateway::grpc::publish::MAX_BATCH_EVENTS;
    use jimbot_schemas::v1;
    let app = spawn_app().await;
    let mut grpc = app.grpc().await;
    let events = vec!["{}"; MAX_BATCH_EVENTS + 1].join(",");
    let status = grpc
        .publish_batch(v1::PublishBatchRequest {
            session: "grpc".to_owned(),
            body: Some(v1::publish_batch_request::Body::ModJson(
                format!(r#"{{"events":[{events}]}}"#).into(),
            )),
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        status.message(),
        format!(
            "{} events in one batch; at most {MAX_BATCH_EVENTS} are accepted",
            MAX_BATCH_EVENTS + 1
        )
    );
    assert!(app.stored("DEAD_LETTER", "").await.is_empty());
}
