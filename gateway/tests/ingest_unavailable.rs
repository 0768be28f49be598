//! When NATS is down nothing is claimed stored (503 with Retry-After); when
//! it is back the gateway recovers by itself. Past the in-flight bound,
//! requests get 429 at once.

mod common;

use std::time::Duration;

use axum::{body::Body, http::Request};
use common::{fixture, spawn_app, spawn_app_with};
use jimbot_gateway::config::Settings;

#[tokio::test]
async fn outage_answers_503_and_recovery_stores_each_event_once() {
    let mut app = spawn_app().await;
    let body = fixture("batch_mixed.json");
    let before = app.post("/s/o/api/v1/events/batch", body.clone()).await;
    assert_eq!(before.status, 202);

    app.server.stop().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let during = app
        .post("/s/o/api/v1/events/batch", fixture("batch_round_end.json"))
        .await;
    assert_eq!(during.status, 503, "{}", during.text());
    assert_eq!(during.headers.get("retry-after").expect("Retry-After"), "1");
    assert!(
        during.json()["error"]
            .as_str()
            .expect("error")
            .contains("NATS")
    );

    app.server.restart().await.expect("restart");
    let mut after = None;
    for _ in 0..100 {
        let reply = app
            .post("/s/o/api/v1/events/batch", fixture("batch_round_end.json"))
            .await;
        if reply.status == 202 {
            after = Some(reply.json());
            break;
        }
        assert_eq!(reply.status, 503, "only 503 while reconnecting");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = after.expect("recovered without a restart");
    assert_eq!(after["totals"]["dead_lettered"], 0);
    // Re-sending the first batch after the outage stores nothing new.
    let resend = app.post("/s/o/api/v1/events/batch", body).await.json();
    assert_eq!(resend["totals"]["stored"], 0, "{resend}");
    let expected = 4 + after["totals"]["stored"].as_u64().expect("n");
    assert_eq!(app.events("o").await.len() as u64, expected);
}

#[tokio::test]
async fn missing_stream_answers_503() {
    let app = spawn_app().await;
    app.js.delete_stream("GAME_EVENTS").await.expect("delete");
    let reply = app
        .post("/s/x/api/v1/events/batch", fixture("edge_menu_state.json"))
        .await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert!(
        reply.json()["error"]
            .as_str()
            .expect("error")
            .contains("stream")
    );
}

#[tokio::test]
async fn requests_past_the_in_flight_bound_get_429_at_once() {
    let app = spawn_app_with(Settings {
        max_in_flight: 1,
        ..Settings::default()
    })
    .await;
    // Occupy the only slot with a request whose body never finishes.
    let (sender, stalled_body) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let stalled = Request::post("/api/v1/events/batch")
        .body(Body::from_stream(tokio_stream_from(stalled_body)))
        .expect("request");
    let router = app.router.clone();
    let occupying = tokio::spawn(async move { tower::ServiceExt::oneshot(router, stalled).await });
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = std::time::Instant::now();
    let rejected = app
        .post("/api/v1/events/batch", fixture("edge_menu_state.json"))
        .await;
    assert_eq!(rejected.status, 429, "{}", rejected.text());
    assert_eq!(
        rejected.headers.get("retry-after").expect("Retry-After"),
        "1"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered at once, not queued"
    );

    drop(sender);
    occupying.await.expect("task").expect("infallible");
    let accepted = app
        .post("/api/v1/events/batch", fixture("edge_menu_state.json"))
        .await;
    assert_eq!(accepted.status, 202, "slot free again");
}

#[tokio::test]
async fn per_session_rate_limit_answers_429() {
    let app = spawn_app_with(Settings {
        rate_limit: std::num::NonZeroU32::new(2),
        ..Settings::default()
    })
    .await;
    let statuses: Vec<u16> = futures_collect(&app, "limited").await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        3,
        "{statuses:?}"
    );
    let other = app
        .post(
            "/s/other/api/v1/events/batch",
            fixture("edge_menu_state.json"),
        )
        .await;
    assert_eq!(other.status, 202, "another session has its own budget");
}

async fn futures_collect(app: &common::TestApp, session: &str) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let reply = app
            .post(
                &format!("/s/{session}/api/v1/events/batch"),
                fixture("edge_menu_state.json"),
            )
            .await;
        statuses.push(reply.status.as_u16());
    }
    statuses
}

fn tokio_stream_from(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}

#[tokio::test]
async fn acknowledgements_slower_than_the_publish_timeout_answer_503() {
    let app = spawn_app_with(Settings {
        // No JetStream round trip fits in a microsecond.
        publish_timeout: Duration::from_micros(1),
        ..Settings::default()
    })
    .await;
    let reply = app
        .post("/s/slow/api/v1/events/batch", fixture("batch_mixed.json"))
        .await;
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.headers.get("retry-after").expect("Retry-After"), "1");
    assert!(
        reply.json()["error"]
            .as_str()
            .expect("error")
            .contains("acknowledge")
    );
}
