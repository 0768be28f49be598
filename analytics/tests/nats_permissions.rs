//! The real analytics service as the `analytics` user of
//! `nats/config/permissions.conf`: it provisions, consumes and acknowledges
//! `GAME_EVENTS` and dead-letters what it cannot decode, within that user's
//! permissions.

#[path = "../../nats/tests/support/secure_server.rs"]
mod secure_server;

use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer};
use jimbot_schemas::v1;
use jimbot_service::testing::ServiceProcess;
use prost::Message as _;
use secure_server::{SecureServer, password};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-analytics");

#[tokio::test]
async fn analytics_does_its_job_as_its_own_nats_user() {
    let nats = SecureServer::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("analytics.db");
    let pass = password("analytics");
    let process = ServiceProcess::spawn(
        BINARY,
        &nats.url(),
        &[
            "--db",
            db.to_str().expect("UTF-8"),
            "--nats-user",
            "analytics",
            "--nats-password",
            &pass,
        ],
    )
    .expect("spawn");
    process
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("provisions as `analytics`:\n{}", nats.log()));

    // What the gateway would store: one event, and one payload that is not a
    // jimbot.v1.Event (dead-lettered by analytics).
    let gateway = jetstream::new(nats.connect("gateway").await);
    let event = v1::Event {
        event_id: "e-1".to_owned(),
        ..Default::default()
    };
    for payload in [event.encode_to_vec(), vec![0xff, 0xff, 0xff]] {
        gateway
            .publish("jimbot.game.s1.heartbeat", payload.into())
            .await
            .expect("sent")
            .await
            .expect("stored");
    }

    let admin = jetstream::new(nats.connect("admin").await);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let mut consumer: PullConsumer = admin
            .get_consumer_from_stream("analytics", "GAME_EVENTS")
            .await
            .expect("consumer");
        let acked = consumer
            .info()
            .await
            .expect("info")
            .ack_floor
            .stream_sequence;
        let dead = admin
            .get_stream("DEAD_LETTER")
            .await
            .expect("stream")
            .info()
            .await
            .expect("info")
            .state
            .messages;
        if acked == 2 && dead == 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "acknowledged up to {acked}, {dead} dead letters:\n{}",
            nats.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!nats.log().contains("Violation"), "{}", nats.log());
}
