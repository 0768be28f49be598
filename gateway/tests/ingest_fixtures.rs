//! Every body the real mod sends is stored once, under the right subjects,
//! and decodes to what was sent.

mod common;

use common::{BATCH_FIXTURES as BATCHES, fixture, session_for, spawn_app};
use jimbot_schemas::{balatro, v1};
use prost::Message as _;

#[tokio::test]
async fn every_batch_fixture_is_stored_once_and_decodes_to_what_was_sent() {
    let app = spawn_app().await;
    for file in BATCHES {
        // The fixtures share event ids (one random seed): one session each.
        let session = session_for(file);
        let body = fixture(file);
        let expected = balatro::parse_batch(&body).expect("fixture parses");

        let reply = app
            .post(&format!("/s/{session}/api/v1/events/batch"), body.clone())
            .await;
        assert_eq!(reply.status, 202, "{file}: {}", reply.text());
        let report = reply.json();
        assert_eq!(
            report["totals"]["stored"],
            expected.events.len(),
            "{file}: {report}"
        );
        assert_eq!(report["totals"]["dead_lettered"], 0, "{file}: {report}");
        assert_eq!(report["session"], session);

        let stored = app.events(&session).await;
        assert_eq!(stored.len(), expected.events.len(), "{file}");
        for ((subject, event), parsed) in stored.iter().zip(&expected.events) {
            let sent = parsed.result.as_ref().expect("fixture event parses");
            let type_token = sent.type_name.to_ascii_lowercase();
            assert_eq!(
                subject,
                &format!("jimbot.game.{session}.{type_token}"),
                "{file}"
            );
            assert_eq!(event.session, session);
            assert!(event.received_at.is_some());
            assert_eq!(event.event_id, sent.event_id);
            assert_eq!(event.original_json, parsed.raw, "{file}: exact bytes kept");
            // Byte equality, not `==`: NaN scores are sent and must survive.
            let mut unstamped = event.clone();
            unstamped.session.clear();
            unstamped.received_at = None;
            assert!(
                unstamped.encode_to_vec() == sent.encode_to_vec(),
                "{file}: event {} differs from what was sent",
                parsed.index
            );
            assert_eq!(
                event.batch_id,
                expected.batch_id.clone().unwrap_or_default()
            );
        }
    }
}

#[tokio::test]
async fn invalid_json_fixtures_are_stored_not_dead_lettered() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/s/inf/api/v1/events/batch",
            fixture("edge_invalid_json_inf_nan.json"),
        )
        .await;
    assert_eq!(reply.status, 202);
    let stored = app.events("inf").await;
    let score = stored
        .iter()
        .find_map(|(_, e)| match &e.payload {
            Some(v1::event::Payload::ScoreChanged(s)) => Some(*s),
            _ => None,
        })
        .expect("SCORE_CHANGED stored");
    assert_eq!(score.new_chips, Some(f64::INFINITY));
    assert!(app.stored("DEAD_LETTER", "").await.is_empty());

    let reply = app
        .post(
            "/s/ctl/api/v1/events/batch",
            fixture("edge_invalid_json_control_chars.json"),
        )
        .await;
    assert_eq!(reply.status, 202);
    let stored = app.events("ctl").await;
    assert!(
        stored
            .iter()
            .any(|(_, e)| e.original_json.windows(1).any(|b| b == [0x07])),
        "raw BEL byte kept in original_json"
    );
}

#[tokio::test]
async fn connection_test_and_a_single_full_event() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/s/probe/api/v1/events",
            fixture("single_connection_test.json"),
        )
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    let report = reply.json();
    assert_eq!(report["events"][0]["type"], "connection_test");
    assert_eq!(report["events"][0]["status"], "stored");
    let stored = app.events("probe").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "jimbot.game.probe.connection_test");
    // No event_id: keyed by the hash of its bytes, so a re-send is a duplicate.
    let again = app
        .post(
            "/s/probe/api/v1/events",
            fixture("single_connection_test.json"),
        )
        .await;
    assert_eq!(again.json()["events"][0]["status"], "duplicate");

    let reply = app
        .post("/s/full/api/v1/events", fixture("event_game_state.json"))
        .await;
    assert_eq!(reply.status, 202);
    let stored = app.events("full").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "jimbot.game.full.game_state");
    assert!(
        !stored[0].1.changes.is_empty(),
        "embedded changes kept inside the event"
    );
}

#[tokio::test]
async fn session_comes_from_url_then_header_then_default() {
    let app = spawn_app().await;
    let body = fixture("edge_menu_state.json");
    app.post("/s/from-url/api/v1/events/batch", body.clone())
        .await;
    app.post_with(
        "/api/v1/events/batch",
        body.clone(),
        &[("x-jimbot-session", "From-Header")],
    )
    .await;
    app.post("/api/v1/events/batch", body.clone()).await;
    let hostile = app.post("/s/a.b*%3E/api/v1/events/batch", body).await;
    assert_eq!(hostile.status, 202);
    let hostile_session = hostile.json()["session"]
        .as_str()
        .expect("session")
        .to_owned();
    assert!(hostile_session.starts_with("a_b__-"), "{hostile_session}");
    for session in [
        "from-url",
        "from-header",
        "default",
        hostile_session.as_str(),
    ] {
        assert_eq!(app.events(session).await.len(), 2, "{session}");
    }
}

#[tokio::test]
async fn messages_carry_dedup_schema_and_trace_headers() {
    let app = spawn_app().await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    app.post_with(
        "/s/h/api/v1/events/batch",
        fixture("edge_menu_state.json"),
        &[
            ("content-type", "application/json"),
            ("traceparent", traceparent),
        ],
    )
    .await;
    let stored = app.stored("GAME_EVENTS", "jimbot.game.h.").await;
    let heartbeat = stored
        .iter()
        .find(|m| m.subject.as_str() == "jimbot.game.h.heartbeat")
        .expect("heartbeat");
    let headers = &heartbeat.headers;
    let msg_id = headers.get("Nats-Msg-Id").expect("dedup id").as_str();
    let event = &app
        .events("h")
        .await
        .into_iter()
        .find(|(s, _)| s.ends_with("heartbeat"))
        .expect("event")
        .1;
    let timestamp = event.client_timestamp_ms.expect("timestamp").to_string();
    assert_eq!(msg_id, format!("h:{}:{timestamp}", event.event_id));
    assert_eq!(
        headers.get("Content-Type").expect("ct").as_str(),
        "application/protobuf"
    );
    assert_eq!(
        headers.get("Jimbot-Message-Type").expect("type").as_str(),
        "jimbot.v1.Event"
    );
    assert_eq!(
        headers.get("traceparent").expect("trace").as_str(),
        traceparent
    );
}

#[tokio::test]
async fn a_configured_url_with_a_trailing_slash_still_works() {
    // The mod appends `/batch` to its configured URL by concatenation.
    let app = spawn_app().await;
    let batch = app
        .post(
            "/s/slash/api/v1/events//batch",
            fixture("edge_menu_state.json"),
        )
        .await;
    assert_eq!(batch.status, 202, "{}", batch.text());
    let single = app
        .post(
            "/s/slash/api/v1/events/",
            fixture("single_connection_test.json"),
        )
        .await;
    assert_eq!(single.status, 202, "{}", single.text());
    assert_eq!(app.events("slash").await.len(), 3);
}
