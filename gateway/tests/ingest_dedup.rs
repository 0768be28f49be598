//! Re-sent events are stored once and reported as duplicates.

mod common;

use common::{fixture, spawn_app};

#[tokio::test]
async fn the_same_batch_twice_is_stored_once() {
    let app = spawn_app().await;
    let body = fixture("batch_round_end.json");
    let first = app
        .post("/s/twice/api/v1/events/batch", body.clone())
        .await
        .json();
    let second = app.post("/s/twice/api/v1/events/batch", body).await;
    assert_eq!(second.status, 202);
    let second = second.json();
    let n = first["totals"]["stored"].as_u64().expect("count");
    assert!(n > 0);
    assert_eq!(second["totals"]["stored"], 0, "{second}");
    assert_eq!(second["totals"]["duplicates"], n, "{second}");
    for (a, b) in first["events"]
        .as_array()
        .expect("events")
        .iter()
        .zip(second["events"].as_array().expect("events"))
    {
        assert_eq!(b["status"], "duplicate");
        assert_eq!(
            a["seq"], b["seq"],
            "a duplicate reports the original's sequence"
        );
    }
    assert_eq!(app.events("twice").await.len() as u64, n);
}

#[tokio::test]
async fn outage_resends_with_new_batch_ids_are_stored_once() {
    let app = spawn_app().await;
    let a = app
        .post(
            "/s/outage/api/v1/events/batch",
            fixture("edge_resend_after_outage_a.json"),
        )
        .await
        .json();
    let b = app
        .post(
            "/s/outage/api/v1/events/batch",
            fixture("edge_resend_after_outage_b.json"),
        )
        .await
        .json();
    assert_ne!(a["batch_id"], b["batch_id"]);
    assert_eq!(a["totals"]["stored"], 10, "{a}");
    assert_eq!(b["totals"]["stored"], 0, "{b}");
    assert_eq!(b["totals"]["duplicates"], 10, "{b}");
    assert_eq!(app.events("outage").await.len(), 10);
}

#[tokio::test]
async fn the_same_events_in_two_sessions_are_two_games() {
    let app = spawn_app().await;
    let body = fixture("edge_resend_after_outage_a.json");
    app.post("/s/game-1/api/v1/events/batch", body.clone())
        .await;
    let other = app.post("/s/game-2/api/v1/events/batch", body).await.json();
    assert_eq!(other["totals"]["stored"], 10, "{other}");
}

#[tokio::test]
async fn a_recurring_event_id_with_another_timestamp_is_a_new_event() {
    // The mod's ids come from the game's reseeded RNG and can recur.
    let app = spawn_app().await;
    let event = |timestamp: &str| {
        format!(
            r#"{{"batch_id":"b","source":"BalatroMCP","timestamp":1751439161000,"events":[{{"type":"HEARTBEAT","source":"BalatroMCP","event_id":"71cfca46-053e-473a-be11-0752902e0e6e","version":1,"timestamp":{timestamp},"payload":{{"version":"0.1.0","uptime":1,"headless":false,"game_state":"1"}}}}]}}"#
        )
    };
    let first = app
        .post("/s/rng/api/v1/events/batch", event("248396.05"))
        .await
        .json();
    let later = app
        .post("/s/rng/api/v1/events/batch", event("250000.5"))
        .await
        .json();
    assert_eq!(first["totals"]["stored"], 1);
    assert_eq!(later["totals"]["stored"], 1, "{later}");
    assert_eq!(app.events("rng").await.len(), 2);
}

#[tokio::test]
async fn hostile_event_ids_are_stored_and_still_deduplicated() {
    let app = spawn_app().await;
    let long = "x".repeat(10_000);
    let body = format!(
        r#"{{"batch_id":"b","events":[{{"type":"HEARTBEAT","event_id":"a\r\nX-Evil: 1","timestamp":1}},{{"type":"HEARTBEAT","event_id":"{long}","timestamp":2}},{{"type":"HEARTBEAT","event_id":"ünïcode","timestamp":3}}]}}"#
    );
    let first = app
        .post("/s/hostile/api/v1/events/batch", body.clone())
        .await;
    assert_eq!(first.status, 202, "{}", first.text());
    assert_eq!(first.json()["totals"]["stored"], 3, "{}", first.text());
    let again = app
        .post("/s/hostile/api/v1/events/batch", body)
        .await
        .json();
    assert_eq!(again["totals"]["duplicates"], 3, "{again}");
    let stored = app.stored("GAME_EVENTS", "jimbot.game.hostile.").await;
    for message in &stored {
        let id = message.headers.get("Nats-Msg-Id").expect("id").as_str();
        assert!(
            id.len() < 200 && id.bytes().all(|b| b.is_ascii_graphic()),
            "{id:?}"
        );
        assert!(message.headers.get("X-Evil").is_none());
    }
    let events = app.events("hostile").await;
    assert_eq!(
        events[0].1.event_id, "a\r\nX-Evil: 1",
        "the id itself is kept in the event"
    );
}
