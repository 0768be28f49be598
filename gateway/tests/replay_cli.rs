//! `jimbot-replay` as a user runs it: export a session, publish it into
//! another, follow one live, and get a clear message when something is wrong.

mod common;

use std::{process::Output, time::Duration};

use common::{TestApp, fixture, spawn_app};
use jimbot_gateway::replay::ndjson::parse_line;
use tokio::io::{AsyncBufReadExt as _, BufReader};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-replay");

async fn replay(app: &TestApp, args: &[&str]) -> Output {
    tokio::process::Command::new(BINARY)
        .args(["--nats-url", &app.server.url()])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run jimbot-replay")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn ingest(app: &TestApp, session: &str, file: &str) {
    let reply = app
        .post(&format!("/s/{session}/api/v1/events/batch"), fixture(file))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
}

#[tokio::test]
async fn export_then_publish_recreates_the_session_and_a_second_publish_stores_nothing() {
    let app = spawn_app().await;
    ingest(&app, "original", "batch_startup.json").await;
    ingest(&app, "original", "batch_hand_scoring.json").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("original.ndjson");
    let file = file.to_str().unwrap();

    let output = replay(&app, &["export", "original", "-o", file]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let original = app.events("original").await;
    assert!(
        stderr(&output).contains(&format!("exported {} events", original.len())),
        "{}",
        stderr(&output)
    );
    let exported = std::fs::read(file).unwrap();
    assert_eq!(
        exported
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
        original.len()
    );

    let output = replay(&app, &["publish", "--file", file, "--to-session", "copy"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "{} stored, 0 duplicates, 0 invalid",
            original.len()
        )),
        "{}",
        stderr(&output)
    );
    let copy = app.events("copy").await;
    assert_eq!(copy.len(), original.len());
    for ((_, a), (subject, b)) in original.iter().zip(&copy) {
        assert!(subject.starts_with("jimbot.game.copy."));
        assert_eq!(a.event_id, b.event_id);
        assert_eq!(a.r#type, b.r#type);
        assert_eq!(a.original_json, b.original_json, "payload byte for byte");
        assert_eq!(a.client_timestamp_ms, b.client_timestamp_ms);
        assert_eq!(b.session, "copy");
    }

    let output = replay(&app, &["publish", "--file", file, "--to-session", "copy"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("0 stored, {} duplicates", original.len())),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        app.events("copy").await.len(),
        original.len(),
        "nothing new"
    );

    // A type filter.
    let states = dir.path().join("states.ndjson");
    let output = replay(
        &app,
        &[
            "export",
            "original",
            "--types",
            "game_state,HEARTBEAT",
            "-o",
            states.to_str().unwrap(),
        ],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let exported = std::fs::read(&states).unwrap();
    let expected = original
        .iter()
        .filter(|(subject, _)| subject.ends_with(".game_state") || subject.ends_with(".heartbeat"))
        .count();
    assert!(expected > 0);
    let lines: Vec<_> = exported
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(lines.len(), expected);

    // Straight from the stored session, a range of it.
    let sequences: Vec<u64> = app
        .stored("GAME_EVENTS", "jimbot.game.original.")
        .await
        .iter()
        .map(|m| m.sequence)
        .collect();
    assert!(sequences.len() >= 4);
    let (from, to) = (sequences[1].to_string(), sequences[2].to_string());
    let output = replay(
        &app,
        &[
            "publish",
            "--from-session",
            "original",
            "--from-seq",
            &from,
            "--to-seq",
            &to,
            "--to-session",
            "slice",
            "--speed",
            "50",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let slice = app.events("slice").await;
    assert_eq!(slice.len(), 2, "{}", stderr(&output));
    assert_eq!(slice[0].1.event_id, original[1].1.event_id);
    assert_eq!(slice[1].1.event_id, original[2].1.event_id);
    app.wait_for_no_replay_consumers().await;
}

#[tokio::test]
async fn tail_prints_new_events_as_they_arrive() {
    let app = spawn_app().await;
    ingest(&app, "live", "batch_startup.json").await;
    let mut child = tokio::process::Command::new(BINARY)
        .args(["--nats-url", &app.server.url(), "tail", "live"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tail");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let before = app.events("live").await.len() as u64;

    // The consumer exists once tail is ready; then new events must show.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while app.replay_consumers().await == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tail never subscribed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ingest(&app, "live", "batch_hand_scoring.json").await;
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("a line in time")
        .expect("read")
        .expect("a line");
    let parsed = parse_line(line.as_bytes()).expect("a replay line");
    assert_eq!(parsed.sequence, before + 1, "only events after it started");
    assert_eq!(parsed.session, "live");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn errors_say_what_is_wrong() {
    let app = spawn_app().await;
    ingest(&app, "s", "batch_startup.json").await;
    let dir = tempfile::tempdir().unwrap();

    let output = replay(&app, &["export", "nobody"]).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no events of session nobody are stored"),
        "{}",
        stderr(&output)
    );

    let missing = dir.path().join("missing.ndjson");
    let output = replay(
        &app,
        &[
            "publish",
            "--file",
            missing.to_str().unwrap(),
            "--to-session",
            "x",
        ],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("missing.ndjson"),
        "{}",
        stderr(&output)
    );

    let garbage = dir.path().join("garbage.ndjson");
    std::fs::write(&garbage, "{\"seq\":1}\nnot json\n").unwrap();
    let output = replay(
        &app,
        &[
            "publish",
            "--file",
            garbage.to_str().unwrap(),
            "--to-session",
            "x",
        ],
    )
    .await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("garbage.ndjson:1"),
        "names the line: {}",
        stderr(&output)
    );
    assert!(app.events("x").await.is_empty());

    for speed in ["0", "-1", "fast", "inf"] {
        let speed = format!("--speed={speed}");
        let output = replay(
            &app,
            &[
                "publish",
                "--from-session",
                "s",
                "--to-session",
                "x",
                &speed,
            ],
        )
        .await;
        assert!(!output.status.success(), "{speed}");
        assert!(
            stderr(&output).contains("--speed"),
            "{speed}: {}",
            stderr(&output)
        );
    }
    let output = replay(&app, &["export", "s", "--types", "NOPE"]).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("unknown event type"),
        "{}",
        stderr(&output)
    );
    let output = replay(&app, &["export", "s", "--from-seq", "9", "--to-seq", "2"]).await;
    assert!(!output.status.success());
    assert!(stderr(&output).contains("to_seq"), "{}", stderr(&output));

    let output = tokio::process::Command::new(BINARY)
        .args(["--nats-url", "nats://127.0.0.1:1", "export", "s"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("cannot connect to NATS"),
        "{}",
        stderr(&output)
    );
}
