//! Killing the process (SIGKILL, no graceful stop) while it applies
//! batches leaves a consistent database, and a restart completes it to
//! exactly what one clean pass gives.

mod common;

use std::{
    future::IntoFuture,
    process::Stdio,
    time::{Duration, Instant},
};

use common::{DEADLINE, Harness, dump};
use futures::future::try_join_all;
use jimbot_analytics::workload::Workload;
use serde_json::Value;
use tokio::process::{Child, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-analytics");
const EVENTS: usize = 40_000;

async fn publish_workload(harness: &Harness) {
    let mut workload = Workload::new(16, 7);
    for chunk in 0..EVENTS / 1000 {
        let mut acks = Vec::with_capacity(1000);
        for i in 0..1000 {
            let at = 1_767_225_600_000 + i64::try_from(chunk * 1000 + i).expect("small");
            let m = workload.next_message(at);
            acks.push(
                harness
                    .js
                    .publish_with_headers(m.subject, m.headers, m.payload)
                    .await
                    .expect("publish"),
            );
        }
        try_join_all(acks.into_iter().map(IntoFuture::into_future))
            .await
            .expect("acks");
    }
}

struct Service {
    child: Child,
    port: u16,
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
        Self { child, port }
    }

    /// The summary's `last_applied_seq`, once the API answers.
    async fn applied(&self) -> Option<u64> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let (status, body) =
            jimbot_service::testing::http_get(addr, "/api/v1/analytics/summary").await?;
        (status == 200).then_some(())?;
        serde_json::from_str::<Value>(&body).ok()?["last_applied_seq"].as_u64()
    }

    async fn wait_applied(&self, at_least: u64) -> u64 {
        let started = Instant::now();
        loop {
            if let Some(applied) = self.applied().await
                && applied >= at_least
            {
                return applied;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "not {at_least} applied after {DEADLINE:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn integrity(db: &std::path::Path) -> (String, u64, u64) {
    let conn = rusqlite::Connection::open(db).expect("open");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("check");
    let progress: i64 = conn
        .query_row("SELECT last_seq FROM consumer_progress", [], |r| r.get(0))
        .expect("progress");
    let counted: i64 = conn
        .query_row("SELECT SUM(events) FROM event_counts", [], |r| r.get(0))
        .expect("counts");
    (
        check,
        u64::try_from(progress).unwrap(),
        u64::try_from(counted).unwrap(),
    )
}

#[tokio::test]
async fn a_kill_during_a_batch_leaves_a_consistent_database_that_a_restart_completes() {
    let clean = Harness::start().await;
    publish_workload(&clean).await;
    let consumer = clean.start_consumer().await;
    consumer.wait_applied(EVENTS as u64).await;
    consumer.abort().await;
    let expected = dump(&clean.db());

    let harness = Harness::start().await;
    publish_workload(&harness).await;
    let mut service = Service::spawn(&harness);
    let seen = service.wait_applied(EVENTS as u64 / 10).await;
    service.child.kill().await.expect("SIGKILL");
    assert!(
        seen < EVENTS as u64,
        "everything was applied before the kill; raise EVENTS"
    );

    // Every committed batch is whole: the progress and the counts agree.
    let (check, progress, counted) = integrity(&harness.db());
    assert_eq!(check, "ok");
    assert!(
        progress >= seen && progress < EVENTS as u64,
        "progress {progress}"
    );
    assert_eq!(
        counted, progress,
        "events counted match the committed sequence"
    );

    // Messages the killed process received but never acknowledged stay
    // pending until the ack wait (30 s) runs out; the restarted one must not
    // wait for them, nor skip them: it reads them from the stream.
    let mut durable: async_nats::jetstream::consumer::PullConsumer = harness
        .js
        .get_stream("GAME_EVENTS")
        .await
        .expect("stream")
        .get_consumer("analytics")
        .await
        .expect("consumer");
    let left_pending = durable.info().await.expect("info").num_ack_pending;

    let mut service = Service::spawn(&harness);
    service.wait_applied(EVENTS as u64).await;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], service.port));
    let (_, metrics) = jimbot_service::testing::http_get(addr, "/metrics")
        .await
        .expect("metrics");
    for expected in [
        "analytics_events_total{type=\"GAME_STATE\"}",
        "analytics_runs_finished_total{outcome=\"lost\"}",
        "analytics_runs_started_total",
        "analytics_win_rate",
        "analytics_mean_final_ante",
        "analytics_consumer_pending",
        "analytics_consumer_lag_seconds",
        "analytics_batch_duration_seconds_bucket",
        &format!("analytics_last_applied_sequence {EVENTS}"),
    ] {
        assert!(
            metrics.contains(expected),
            "/metrics lacks {expected}:\n{metrics}"
        );
    }
    if left_pending > 0 {
        assert!(
            metrics.contains("analytics_gap_filled_total"),
            "{left_pending} messages were pending, yet no gap was filled:\n{metrics}"
        );
    }
    service.child.start_kill().expect("kill");
    let _ = service.child.wait().await;
    common::assert_same(&dump(&harness.db()), &expected);
}
