//! The analytics binary through a NATS restart: it stops being ready while
//! NATS is away, reconnects by itself (no restart of its own), goes on with
//! what is published afterwards, and ends with every table exactly as one
//! clean pass over the same events gives.

mod common;

use std::time::{Duration, Instant};

use common::{
    DEADLINE, Harness, dump,
    process::{Analytics, publish},
};
use jimbot_analytics::workload::Workload;

const EVENTS: usize = 6_000;
/// Published before NATS is restarted; the rest after.
const BEFORE_RESTART: usize = 3_000;

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
    let service = Analytics::spawn(&harness);
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
