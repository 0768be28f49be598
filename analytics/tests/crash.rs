//! Killing the process (SIGKILL, no graceful stop) while it applies
//! batches leaves a consistent database, and a restart completes it to
//! exactly what one clean pass gives.

mod common;

use common::{
    Harness, dump,
    process::{Analytics, publish},
};
use jimbot_analytics::workload::Workload;

const EVENTS: usize = 40_000;

async fn publish_workload(harness: &Harness) {
    publish(harness, &mut Workload::new(16, 7), 0, EVENTS).await;
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
    let mut service = Analytics::spawn(&harness);
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

    let mut service = Analytics::spawn(&harness);
    service.wait_applied(EVENTS as u64).await;
    let addr = service.addr;
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
