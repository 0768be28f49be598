//! Unusable input is kept raw in DEAD_LETTER with the reason and still
//! answered 2xx (a non-2xx would make the mod re-send it forever); only
//! oversized bodies are refused.

mod common;

use common::{fixture, spawn_app};
use jimbot_gateway::config::Settings;

async fn assert_dead_lettered(app: &common::TestApp, session: &str, body: Vec<u8>, reason: &str) {
    let reply = app
        .post(&format!("/s/{session}/api/v1/events/batch"), body.clone())
        .await;
    assert_eq!(reply.status, 202, "{session}: {}", reply.text());
    let report = reply.json();
    assert_eq!(report["totals"]["dead_lettered"], 1, "{session}: {report}");
    assert_eq!(report["totals"]["stored"], 0);
    assert_eq!(report["body"]["status"], "dead_lettered");
    assert!(
        report["body"]["reason"]
            .as_str()
            .expect("reason")
            .starts_with(reason),
        "{session}: {report}"
    );
    let letters = app
        .stored("DEAD_LETTER", &format!("jimbot.deadletter.{reason}"))
        .await;
    let letter = letters
        .iter()
        .find(|m| m.headers.get("Jimbot-Session").map(|v| v.as_str()) == Some(session))
        .unwrap_or_else(|| panic!("{session}: no dead letter under {reason}"));
    assert_eq!(
        letter.payload.as_ref(),
        body.as_slice(),
        "{session}: raw bytes kept"
    );
    assert_eq!(
        letter.headers.get("Jimbot-Path").expect("path").as_str(),
        format!("/s/{session}/api/v1/events/batch")
    );
    assert_eq!(
        letter
            .headers
            .get("Jimbot-Reason")
            .expect("reason")
            .as_str(),
        reason
    );
    assert!(
        !letter
            .headers
            .get("Jimbot-Detail")
            .expect("detail")
            .as_str()
            .is_empty()
    );
    assert!(
        app.events(session).await.is_empty(),
        "{session}: nothing in GAME_EVENTS"
    );
}

#[tokio::test]
async fn garbage_bodies_are_dead_lettered_raw() {
    let app = spawn_app().await;
    assert_dead_lettered(
        &app,
        "binary",
        vec![0xff, 0x00, 0xfe, 0x13, 0x37],
        "not_an_object",
    )
    .await;
    let truncated = fixture("batch_mixed.json")[..500].to_vec();
    assert_dead_lettered(&app, "truncated", truncated, "invalid_json").await;
    assert_dead_lettered(&app, "array", b"[]".to_vec(), "not_an_object").await;
    assert_dead_lettered(&app, "string", br#""hello""#.to_vec(), "not_an_object").await;
    assert_dead_lettered(&app, "empty-object", b"{}".to_vec(), "missing_events").await;
    assert_dead_lettered(&app, "empty", Vec::new(), "empty_body").await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes();
    assert_dead_lettered(&app, "deep", deep, "too_deep").await;
}

#[tokio::test]
async fn a_bad_event_is_dead_lettered_and_its_siblings_stored() {
    let app = spawn_app().await;
    let body = br#"{"batch_id":"b","events":[{"type":"HEARTBEAT","event_id":"e1","timestamp":1.5,"payload":{"uptime":1}},{"event_id":"no-type","timestamp":2},{"type":"MONEY_CHANGED","event_id":"e3","timestamp":3,"payload":{"old_value":1,"new_value":"lots","difference":1}}]}"#;
    let reply = app
        .post("/s/mixed/api/v1/events/batch", body.to_vec())
        .await;
    assert_eq!(reply.status, 202);
    let report = reply.json();
    assert_eq!(report["totals"]["stored"], 1, "{report}");
    assert_eq!(report["totals"]["dead_lettered"], 2, "{report}");
    assert_eq!(report["events"][0]["status"], "stored");
    assert_eq!(report["events"][1]["status"], "dead_lettered");
    assert!(
        report["events"][1]["reason"]
            .as_str()
            .expect("reason")
            .contains("event 1"),
        "{report}"
    );
    assert!(
        report["events"][2]["reason"]
            .as_str()
            .expect("reason")
            .contains("payload.new_value"),
        "{report}"
    );
    let letters = app.stored("DEAD_LETTER", "jimbot.deadletter.event_").await;
    assert_eq!(letters.len(), 2);
    assert_eq!(
        letters[0].payload.as_ref(),
        br#"{"event_id":"no-type","timestamp":2}"#
    );
    assert_eq!(
        letters[0]
            .headers
            .get("Jimbot-Event-Index")
            .expect("index")
            .as_str(),
        "1"
    );
    assert_eq!(app.events("mixed").await.len(), 1);
}

#[tokio::test]
async fn the_same_garbage_twice_is_dead_lettered_once() {
    let app = spawn_app().await;
    app.post("/s/g/api/v1/events/batch", b"nope".to_vec()).await;
    let again = app
        .post("/s/g/api/v1/events/batch", b"nope".to_vec())
        .await
        .json();
    assert_eq!(again["body"]["duplicate"], true, "{again}");
    assert_eq!(app.stored("DEAD_LETTER", "").await.len(), 1);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let app = common::spawn_app_with(Settings::default()).await;
    let body = vec![b' '; 17 * 1024 * 1024];
    let reply = app.post("/api/v1/events/batch", body).await;
    assert_eq!(reply.status, 413);
    assert!(app.stored("DEAD_LETTER", "").await.is_empty());
}

#[tokio::test]
async fn wrong_method_and_unknown_path() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/events/batch").await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.headers.get("allow").expect("Allow header"), "POST");
    let reply = app.get("/api/v2/nothing").await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.json()["error"], "not found");
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[tokio::test]
async fn mangled_fixtures_always_get_a_2xx_and_lose_nothing() {
    let app = spawn_app().await;
    let files = [
        "batch_mixed.json",
        "edge_invalid_json_inf_nan.json",
        "batch_shop_purchase_unicode.json",
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for round in 0..150 {
        let mut body = fixture(files[round % files.len()]);
        for _ in 0..(1 + xorshift(&mut state) % 8) {
            let at = (xorshift(&mut state) as usize) % body.len();
            match xorshift(&mut state) % 3 {
                0 => body[at] = xorshift(&mut state) as u8,
                1 => body.truncate(at.max(1)),
                _ => body.insert(
                    at,
                    b"{}[]\"\\:,inf\x00\x07\xff"[(xorshift(&mut state) % 14) as usize],
                ),
            }
        }
        let session = format!("m{round}");
        let elements =
            jimbot_schemas::balatro::parse_batch(&body).map_or(1, |batch| batch.events.len());
        let reply = app
            .post(&format!("/s/{session}/api/v1/events/batch"), body)
            .await;
        assert_eq!(reply.status, 202, "round {round}: {}", reply.text());
        let report = reply.json();
        let totals = &report["totals"];
        let accounted = totals["stored"].as_u64().unwrap_or(0)
            + totals["duplicates"].as_u64().unwrap_or(0)
            + totals["dead_lettered"].as_u64().unwrap_or(0);
        assert_eq!(
            accounted, elements as u64,
            "round {round}: every element kept somewhere: {report}"
        );
        assert_eq!(
            app.events(&session).await.len() as u64,
            totals["stored"].as_u64().unwrap_or(0),
            "round {round}: stored count matches the stream"
        );
    }
}
