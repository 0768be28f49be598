//! `--atomic-batches`: a request's events stored as one JetStream atomic
//! batch, with the same per-event report, and re-sends still stored once.

mod common;

use common::{TestApp, fixture, spawn_app_with};
use jimbot_gateway::config::Settings;
use serde_json::Value;

async fn atomic_app() -> TestApp {
    spawn_app_with(Settings {
        atomic_batches: true,
        ..Settings::default()
    })
    .await
}

fn sequences(report: &Value) -> Vec<u64> {
    report["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect()
}

#[tokio::test]
async fn a_batch_is_stored_together_and_reported_event_by_event() {
    let app = atomic_app().await;
    let reply = app
        .post("/s/atomic/api/v1/events/batch", fixture("batch_mixed.json"))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    let report = reply.json();
    let stored = app.events("atomic").await;
    assert!(stored.len() > 2);
    assert_eq!(report["totals"]["stored"], stored.len());
    let reported = sequences(&report);
    let in_stream: Vec<u64> = app
        .stored("GAME_EVENTS", "jimbot.game.atomic.")
        .await
        .iter()
        .map(|m| m.sequence)
        .collect();
    assert_eq!(reported, in_stream, "each event's own sequence, in order");
    // Stored as one batch (not by the fallback): the batch headers were kept.
    let messages = app.stored("GAME_EVENTS", "jimbot.game.atomic.").await;
    let batch_ids: Vec<Option<String>> = messages
        .iter()
        .map(|m| m.headers.get("Nats-Batch-Id").map(|v| v.to_string()))
        .collect();
    assert!(batch_ids[0].is_some(), "stored by an atomic batch");
    assert!(batch_ids.iter().all(|id| id == &batch_ids[0]), "one batch");
    for (entry, (_, event)) in report["events"].as_array().unwrap().iter().zip(&stored) {
        assert_eq!(entry["event_id"], event.event_id.as_str());
        assert_eq!(entry["status"], "stored");
    }
}

#[tokio::test]
async fn resends_fall_back_to_single_publishes_and_are_stored_once() {
    let app = atomic_app().await;
    let first = app
        .post(
            "/s/r/api/v1/events/batch",
            fixture("edge_resend_after_outage_a.json"),
        )
        .await
        .json();
    let n = first["totals"]["stored"].as_u64().unwrap();
    assert!(n > 1);
    // Same events, another batch id: JetStream refuses the atomic batch
    // (known message ids), the events go one by one as duplicates.
    let second = app
        .post(
            "/s/r/api/v1/events/batch",
            fixture("edge_resend_after_outage_b.json"),
        )
        .await;
    assert_eq!(second.status, 202);
    let second = second.json();
    assert_eq!(second["totals"]["stored"], 0, "{second}");
    assert_eq!(second["totals"]["duplicates"], n, "{second}");
    assert_eq!(sequences(&first), sequences(&second));
    assert_eq!(app.events("r").await.len() as u64, n);
}

#[tokio::test]
async fn new_and_known_events_mixed_are_each_stored_once() {
    let app = atomic_app().await;
    let known = r#"{"type":"HEARTBEAT","event_id":"k-1","timestamp":1.5,"source":"BalatroMCP","payload":{}}"#;
    let new = r#"{"type":"HEARTBEAT","event_id":"n-1","timestamp":2.5,"source":"BalatroMCP","payload":{}}"#;
    let broken = r#"{"event_id":"no-type","timestamp":3.5}"#;
    let one = format!(r#"{{"batch_id":"b1","events":[{known}]}}"#);
    assert_eq!(app.post("/s/m/api/v1/events/batch", one).await.status, 202);

    let mixed = format!(r#"{{"batch_id":"b2","events":[{known},{broken},{new}]}}"#);
    let reply = app.post("/s/m/api/v1/events/batch", mixed).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    let report = reply.json();
    let statuses: Vec<&str> = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["duplicate", "dead_lettered", "stored"],
        "{report}"
    );
    let ids: Vec<String> = app
        .events("m")
        .await
        .into_iter()
        .map(|(_, e)| e.event_id)
        .collect();
    assert_eq!(ids, ["k-1", "n-1"]);
}
