//! The analytics binary through a NATS restart: it stops being ready while
//! NATS is away, reconnects by itself (no restart of its own), goes on with
//! what is published afterwards, and ends with every table exactly as one
//! clean pass over the same events gives.

mod common;

use std::{
    future::IntoFuture,
    process::Stdio,
    time::{Duration, Instant},
};

use common::{DEADLINE, Harness, dump};
use futures::future::try_join_all;
use jimbot_analytics::workload::Workload;
use jimbot_service::testing::http_get;
use serde_json::Value;
use tokio::process::{Child, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-analytics");
const EVENTS: usize = 6_000;
/// Published before NATS is restarted; the rest after.
const BEFORE_RESTART: usize = 3_000;

/// Publishes events `from..to` of the deterministic workload straight to
/// JetStream, as the gateway stores them, awaiting the acks every 1,000
/// (the client bounds the acks in flight).
async fn publish(harness: &Harness, workload: &mut Workload, from: usize, to: usize) {
    let mut acks = Vec::with_capacity(1000);
    for i in from..to {
        let at = 1_767_225_600_000 + i64::try_from(i).expect("small");
        let m = workload.next_message(at);
        acks.push(
            harness
                .js
                .publish_with_headers(m.subject, m.headers, m.payload)
                .await
                .expect("publish"),
        );
        if acks.len() == 1000 || i + 1 == to {
            try_join_all(acks.drain(..).map(IntoFuture::into_future))
                .await
                .expect("acks");
        }
    }
}

/// The analytics binary over the harness's NATS and database.
struct Service {
    _child: Child,
    addr: std::net::SocketAddr,
}

impl Service {
    fn spawn(harness: &Harness) -> Self {
        let port = jimbot_nats::testing::free_port().expect("free port");
        let child = Command::new(BINARY)
            .args([
                "--http-addr",
                &format!("127.0.0.1:{port}"),
                "--nats-url",
                &harness.server.url(),
            ])
            .arg("--db")
            .arg(harness.db())
            .args(["--batch-size", "100"])
            .env("RUST_LOG", "warn")
            .env("LOG_FORMAT", "text")
            .env_remove("ANALYTICS_DB")
            .env_remove("ANALYTICS_BATCH_SIZE")
            .env_remove("ANALYTICS_BATCH_WAIT")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn jimbot-analytics");
        Self {
            _child: child,
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// Waits until `/health/ready` answers `status`.
    async fn wait_ready(&self, status: u16, what: &str) {
        let started = Instant::now();
        loop {
            if let Some((got, _)) = http_get(self.addr, "/health/ready").await
                && got == status
            {
                return;
            }
            assert!(started.elapsed() < DEADLINE, "{what} after {DEADLINE:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the summary says `at_least` events are applied.
    async fn wait_applied(&self, at_least: u64) -> u64 {
        let started = Instant::now();
        loop {
            if let Some((200, body)) = http_get(self.addr, "/api/v1/analytics/summary").await
                && let Some(applied) = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v["last_applied_seq"].as_u64())
                && applied >= at_least
            {
                return applied;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "not {at_least} applied after {DEADLINE:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn a_nats_restart_under_the_running_binary_counts_like_one_clean_pass() {
    let clean = Harness::start().await;
    publish(&clean, &mut Workload::new(16, 7), 0, EVENTS).await;
    let consumer = clean.start_consumer().await;
    consumer.wait_applied(EVENTS as u64).await;
    consumer.abort().await;
    let expected = dump(&clean.db());

    let mut harness = Harness::start().await;
    let mut workload = Workload::new(16, 7);
    publish(&harness, &mut workload, 0, BEFORE_RESTART).await;
    let service = Service::spawn(&harness);
    service.wait_ready(200, "not ready").await;
    // Stop NATS once it has started applying (it may have caught up).
    service.wait_applied(BEFORE_RESTART as u64 / 3).await;

    harness.server.stop().await;
    service
        .wait_ready(503, "still ready while NATS is down")
        .await;
    harness.server.restart().await.expect("restart nats-server");
    service
        .wait_ready(200, "not ready again after NATS came back")
        .await;

    // The test's own client reconnects too, then publishes the rest.
    let started = Instant::now();
    while harness.client.connection_state() != async_nats::connection::State::Connected {
        assert!(started.elapsed() < DEADLINE, "the client did not reconnect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    publish(&harness, &mut workload, BEFORE_RESTART, EVENTS).await;
    let applied = service.wait_applied(EVENTS as u64).await;
    assert_eq!(applied, EVENTS as u64, "nothing beyond what was published");
    drop(service);
    common::assert_same(&dump(&harness.db()), &expected);
}
