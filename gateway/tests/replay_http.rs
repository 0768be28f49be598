//! HTTP replay: what the mod sent comes back byte for byte, in order, over
//! NDJSON and Server-Sent Events, with the bounds asked for and clear errors
//! for the rest.

mod common;

use axum::{body::Body, http::Request};
use common::{BATCH_FIXTURES, TestApp, fixture, session_for, spawn_app};
use futures::StreamExt as _;
use http_body_util::BodyExt as _;
use jimbot_gateway::replay::ndjson::{ParsedLine, parse_line};
use jimbot_schemas::balatro;
use tower::ServiceExt as _;

/// Posts `file` into `session`; the mod's bytes of each event, in order.
async fn ingest(app: &TestApp, session: &str, file: &str) -> Vec<Vec<u8>> {
    let body = fixture(file);
    let reply = app
        .post(&format!("/s/{session}/api/v1/events/batch"), body.clone())
        .await;
    assert_eq!(reply.status, 202, "{file}: {}", reply.text());
    balatro::parse_batch(&body)
        .expect("fixture parses")
        .events
        .into_iter()
        .map(|event| event.raw.to_vec())
        .collect()
}

fn lines(body: &[u8]) -> Vec<ParsedLine> {
    body.split_inclusive(|b| *b == b'\n')
        .map(|line| {
            parse_line(line).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(line)))
        })
        .collect()
}

#[tokio::test]
async fn every_fixture_replays_byte_identical_and_in_order() {
    let app = spawn_app().await;
    for file in BATCH_FIXTURES {
        let session = session_for(file);
        let sent = ingest(&app, &session, file).await;

        let reply = app.get(&format!("/api/v1/sessions/{session}/events")).await;
        assert_eq!(reply.status, 200, "{file}: {}", reply.text());
        assert_eq!(reply.headers["content-type"], "application/x-ndjson");
        let replayed = lines(&reply.body);
        assert_eq!(replayed.len(), sent.len(), "{file}");
        for (line, raw) in replayed.iter().zip(&sent) {
            assert_eq!(line.event, raw.as_slice(), "{file}: seq {}", line.sequence);
            assert_eq!(line.session, session);
        }
        let stored = app.events(&session).await;
        let sequences: Vec<u64> = replayed.iter().map(|l| l.sequence).collect();
        assert!(
            sequences.windows(2).all(|w| w[0] < w[1]),
            "{file}: in stream order"
        );
        assert_eq!(stored.len(), sequences.len());
        for ((_, event), line) in stored.iter().zip(&replayed) {
            let received = event.received_at.expect("received_at");
            assert_eq!(
                line.received_at.unix_timestamp_nanos(),
                i128::from(received.seconds) * 1_000_000_000 + i128::from(received.nanos),
                "{file}: the gateway's receive time rides alongside"
            );
        }
    }
    app.wait_for_no_replay_consumers().await;
}

#[tokio::test]
async fn sessions_are_listed_with_counts_and_extent_and_paged() {
    let app = spawn_app().await;
    let a = ingest(&app, "alpha", "batch_startup.json").await.len();
    let b = ingest(&app, "beta", "batch_hand_scoring.json").await.len();
    ingest(&app, "gamma", "batch_round_end.json").await;

    let reply = app.get("/api/v1/sessions").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let page = reply.json();
    assert_eq!(page["total"], 3);
    let sessions = page["sessions"].as_array().expect("sessions");
    let names: Vec<&str> = sessions
        .iter()
        .map(|s| s["session"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    assert_eq!(sessions[0]["events"], a);
    assert_eq!(sessions[1]["events"], b);
    assert_eq!(sessions[0]["first_seq"], 1);
    assert_eq!(sessions[0]["last_seq"], a);
    assert_eq!(sessions[1]["first_seq"], a + 1);
    assert!(sessions[0]["first_at"].as_str().unwrap() <= sessions[0]["last_at"].as_str().unwrap());

    let page = app.get("/api/v1/sessions?offset=1&limit=1").await.json();
    assert_eq!(page["total"], 3);
    assert_eq!(page["sessions"][0]["session"], "beta");
    assert_eq!(page["sessions"].as_array().unwrap().len(), 1);
    let page = app.get("/api/v1/sessions?offset=99").await.json();
    assert_eq!(page["sessions"].as_array().unwrap().len(), 0);

    for bad in [
        "limit=0",
        "limit=100000",
        "limit=-1",
        "offset=x",
        "sort=name",
    ] {
        let reply = app.get(&format!("/api/v1/sessions?{bad}")).await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.text());
        assert!(reply.json()["error"].is_string());
    }
}

#[tokio::test]
async fn sequence_time_and_type_bounds_select_exactly() {
    let app = spawn_app().await;
    ingest(&app, "s", "batch_startup.json").await;
    ingest(&app, "s", "batch_hand_scoring.json").await;
    let all = lines(&app.get("/api/v1/sessions/s/events").await.body);
    assert!(all.len() >= 6, "enough events to slice: {}", all.len());

    let (from, to) = (all[1].sequence, all[4].sequence);
    let slice = lines(
        &app.get(&format!(
            "/api/v1/sessions/s/events?from_seq={from}&to_seq={to}"
        ))
        .await
        .body,
    );
    let expected: Vec<u64> = all[1..=4].iter().map(|l| l.sequence).collect();
    assert_eq!(
        slice.iter().map(|l| l.sequence).collect::<Vec<_>>(),
        expected
    );

    let states = lines(
        &app.get("/api/v1/sessions/s/events?types=game_state")
            .await
            .body,
    );
    assert!(!states.is_empty());
    assert!(
        states
            .iter()
            .all(|l| String::from_utf8_lossy(&l.event).contains("\"GAME_STATE\""))
    );
    let expected_states = all
        .iter()
        .filter(|l| String::from_utf8_lossy(&l.event).contains("\"type\":\"GAME_STATE\""))
        .count();
    assert_eq!(states.len(), expected_states);

    // Storage times: everything stored since the first event's time is all;
    // until a time before the first event is nothing.
    let first = app.stored("GAME_EVENTS", "jimbot.game.s.").await[0].time;
    let since = first.unix_timestamp_nanos() / 1_000_000;
    let all_since = lines(
        &app.get(&format!("/api/v1/sessions/s/events?since={since}"))
            .await
            .body,
    );
    assert_eq!(all_since.len(), all.len());
    let before = since - 60_000;
    let reply = app
        .get(&format!("/api/v1/sessions/s/events?until={before}"))
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty(), "{}", reply.text());

    // A range past the end is empty, not an error.
    let reply = app
        .get("/api/v1/sessions/s/events?from_seq=999999999")
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());
    app.wait_for_no_replay_consumers().await;
}

#[tokio::test]
async fn hostile_parameters_get_clear_errors() {
    let app = spawn_app().await;
    ingest(&app, "s", "batch_startup.json").await;

    let reply = app.get("/api/v1/sessions/nobody/events").await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert!(reply.text().contains("nobody"));

    for (query, field) in [
        ("from_seq=5&to_seq=4", "to_seq"),
        ("from_seq=0", "from_seq"),
        ("from_seq=abc", "from_seq"),
        ("to_seq=18446744073709551616", "to_seq"),
        ("to_seq=-1", "to_seq"),
        ("since=yesterday", "since"),
        (
            "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
            "until",
        ),
        ("types=GAME_STATE,NOT_A_TYPE", "types"),
        ("types=%27%3BDROP%20TABLE", "types"),
        ("follow=maybe", "follow"),
        ("from_sequence=1", "query"),
    ] {
        let reply = app.get(&format!("/api/v1/sessions/s/events?{query}")).await;
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
        let error = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(error.starts_with(field), "{query}: {error}");
    }
    let reply = app.get("/api/v1/sessions/s/events?types=NOPE").await;
    assert!(reply.text().contains("HEARTBEAT"), "lists the known types");

    // Session names that look like subject syntax stay one token.
    for hostile in ["a.b", "%3E", "*", "..%2Fx"] {
        let reply = app.get(&format!("/api/v1/sessions/{hostile}/events")).await;
        assert_eq!(reply.status, 404, "{hostile}: {}", reply.text());
    }
    let long = "x".repeat(10_000);
    let reply = app.get(&format!("/api/v1/sessions/{long}/events")).await;
    assert_eq!(reply.status, 404);
    app.wait_for_no_replay_consumers().await;
}

#[tokio::test]
async fn server_sent_events_follow_new_events_and_leave_no_consumer() {
    let app = spawn_app().await;
    let sent = ingest(&app, "live", "batch_startup.json").await;

    let request = Request::get("/api/v1/sessions/live/events?follow=true")
        .header("accept", "text/event-stream")
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body().into_data_stream();
    let mut frames = Vec::new();
    let mut buffer = Vec::new();
    let mut target = sent.len();
    let mut posted_more = false;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while frames.len() < target {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("events arrive in time")
            .expect("stream open")
            .expect("chunk");
        buffer.extend_from_slice(&chunk);
        while let Some(end) = find(&buffer, b"\n\n") {
            let frame: Vec<u8> = buffer.drain(..end + 2).collect();
            if !frame.starts_with(b":") {
                frames.push(frame);
            }
        }
        if frames.len() == sent.len() && !posted_more {
            // Caught up: what is posted now arrives live.
            let reply = app
                .post(
                    "/s/live/api/v1/events/batch",
                    fixture("batch_hand_scoring.json"),
                )
                .await;
            let stored = reply.json()["totals"]["stored"].as_u64().unwrap() as usize;
            assert!(stored > 0);
            target += stored;
            posted_more = true;
        }
    }
    let first = String::from_utf8_lossy(&frames[0]).into_owned();
    assert!(first.starts_with("id: 1\nevent: "), "{first}");
    let data = first.split_once("data: ").unwrap().1.trim_end();
    assert_eq!(
        parse_line(data.as_bytes()).unwrap().event,
        sent[0].as_slice()
    );
    let last = String::from_utf8_lossy(frames.last().unwrap()).into_owned();
    let expected_last = target;
    assert!(
        last.starts_with(&format!("id: {expected_last}\n")),
        "{last}"
    );

    assert!(
        app.replay_consumers().await >= 1,
        "following holds a consumer"
    );
    drop(body);
    app.wait_for_no_replay_consumers().await;

    // Reconnecting with Last-Event-ID resumes after it.
    let request = Request::get("/api/v1/sessions/live/events")
        .header("accept", "text/event-stream")
        .header("last-event-id", (expected_last - 1).to_string())
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.starts_with(&format!("id: {expected_last}\n")),
        "{text}"
    );
    assert_eq!(text.matches("\n\n").count(), 1, "{text}");
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn a_session_larger_than_a_fetch_batch_replays_completely_in_order() {
    use prost::Message as _;

    let app = spawn_app().await;
    // 10,000 events of `big`, with another session's events in between, so
    // the reader spans several fetches and skips what it must not return.
    let mut acks = Vec::new();
    for i in 0..10_000u32 {
        for session in ["big", "noise"] {
            if session == "noise" && i % 3 != 0 {
                continue;
            }
            let original = format!("{{\"type\":\"HEARTBEAT\",\"event_id\":\"{session}-{i}\"}}");
            let event = jimbot_schemas::v1::Event {
                event_id: format!("{session}-{i}"),
                r#type: jimbot_schemas::v1::EventType::Heartbeat.into(),
                type_name: "HEARTBEAT".to_owned(),
                original_json: original.into_bytes().into(),
                ..Default::default()
            };
            let subject = format!("jimbot.game.{session}.heartbeat");
            acks.push(
                app.js
                    .publish(subject, event.encode_to_vec().into())
                    .await
                    .expect("publish"),
            );
            // Bounded: the context limits acknowledgements in flight.
            if acks.len() == 1000 {
                for ack in acks.drain(..) {
                    ack.await.expect("stored");
                }
            }
        }
    }
    for ack in acks {
        ack.await.expect("stored");
    }

    let reply = app.get("/api/v1/sessions/big/events").await;
    assert_eq!(reply.status, 200);
    let replayed = lines(&reply.body);
    assert_eq!(replayed.len(), 10_000);
    for (i, line) in replayed.iter().enumerate() {
        let expected = format!("{{\"type\":\"HEARTBEAT\",\"event_id\":\"big-{i}\"}}");
        assert_eq!(line.event, expected.as_bytes(), "line {i}");
    }
    assert!(replayed.windows(2).all(|w| w[0].sequence < w[1].sequence));
    app.wait_for_no_replay_consumers().await;
}
