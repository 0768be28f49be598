//! When NATS is down or silent nothing is claimed stored (503 with
//! Retry-After); when it is back the gateway recovers by itself. Past the
//! in-flight bound or a session's rate, requests get 429 at once.

mod common;

use std::time::Duration;

use axum::{body::Body, http::Request};
use common::{fixture, spawn_app, spawn_app_with};
use jimbot_gateway::config::Settings;

async fn wait_until(mut condition: impl FnMut() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not met within 10 s");
}

#[tokio::test]
async fn outage_answers_503_and_recovery_stores_each_event_once() {
    let mut app = spawn_app().await;
    let body = fixture("batch_mixed.json");
    let before = app.post("/s/o/api/v1/events/batch", body.clone()).await;
    assert_eq!(before.status, 202);

    app.server.stop().await;
    wait_until(|| app.client.connection_state() != async_nats::connection::State::Connected).await;
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
    for _ in 0..200 {
        let reply = app
            .post("/s/o/api/v1/events/batch", fixture("batch_round_end.json"))
            .await;
        if reply.status == 202 {
            after = Some(reply.json());
            break;
        }
        assert_eq!(reply.status, 503, "only 503 while reconnecting");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = after.expect("recovered without a restart");
    // batch_mixed and batch_round_end have 4 events each: each stored once.
    assert_eq!(after["totals"]["stored"], 4, "{after}");
    let resend = app.post("/s/o/api/v1/events/batch", body).await.json();
    assert_eq!(resend["totals"]["duplicates"], 4, "{resend}");
    assert_eq!(app.events("o").await.len(), 8);
}

#[tokio::test]
async fn acknowledgements_slower_than_the_publish_timeout_answer_503() {
    let mut app = spawn_app_with(Settings {
        publish_timeout: Duration::from_millis(300),
        ..Settings::default()
    })
    .await;
    // Connected, but the server answers nothing: the acks never come.
    app.server.pause();
    let started = std::time::Instant::now();
    let reply = app
        .post("/s/slow/api/v1/events/batch", fixture("batch_mixed.json"))
        .await;
    let waited = started.elapsed();
    app.server.resume();
    assert_eq!(reply.status, 503, "{}", reply.text());
    assert_eq!(reply.headers.get("retry-after").expect("Retry-After"), "1");
    assert!(
        reply.json()["error"]
            .as_str()
            .expect("error")
            .contains("acknowledge")
    );
    assert!(
        waited < Duration::from_secs(5),
        "answered at the timeout: {waited:?}"
    );
}

#[tokio::test]
async fn a_missing_stream_answers_503_and_is_provisioned_again() {
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

    // The gateway re-provisions by itself; the mod's re-send then lands.
    let mut status = 503;
    for _ in 0..100 {
        status = app
            .post("/s/x/api/v1/events/batch", fixture("edge_menu_state.json"))
            .await
            .status
            .as_u16();
        if status == 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 202, "recovered without a restart");
    assert_eq!(app.events("x").await.len(), 2);
}

#[tokio::test]
async fn requests_past_the_in_flight_bound_get_429_at_once() {
    let app = spawn_app_with(Settings {
        max_in_flight: 1,
        ..Settings::default()
    })
    .await;
    // Occupy the only slot with a request whose body never finishes. It
    // holds the slot once it waits for its body: nothing else runs meanwhile,
    // so if it has not ended after a moment, it has the slot.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let stalled = Request::post("/api/v1/events/batch")
        .body(Body::from_stream(stream_from(receiver)))
        .expect("request");
    let router = app.router.clone();
    let occupying = tokio::spawn(async move { tower::ServiceExt::oneshot(router, stalled).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !occupying.is_finished(),
        "the stalled request waits for its body"
    );

    for _ in 0..3 {
        let started = std::time::Instant::now();
        let rejected = app
            .post("/api/v1/events/batch", fixture("edge_menu_state.json"))
            .await;
        assert_eq!(rejected.status, 429, "{}", rejected.text());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "answered at once"
        );
        assert_eq!(
            rejected.headers.get("retry-after").expect("Retry-After"),
            "1"
        );
    }

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
        // Two per hour: nothing refills while the test runs.
        rate_limit: Some(governor::Quota::per_hour(
            std::num::NonZeroU32::new(2).expect("non-zero"),
        )),
        ..Settings::default()
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let reply = app
            .post(
                "/s/limited/api/v1/events/batch",
                fixture("edge_menu_state.json"),
            )
            .await;
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [202, 202, 429, 429, 429]);
    let other = app
        .post(
            "/s/other/api/v1/events/batch",
            fixture("edge_menu_state.json"),
        )
        .await;
    assert_eq!(other.status, 202, "another session has its own budget");
    let poll = app.get("/s/limited/api/v1/commands/poll").await;
    assert_eq!(poll.status, 200, "polls are not rate-limited");
}

fn stream_from(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::poll_fn(move |cx| receiver.poll_recv(cx))
}
