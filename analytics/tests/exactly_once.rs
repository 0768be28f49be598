//! Exactly-once effect: a restart in the middle of the stream, and the
//! redelivery of messages already applied, leave every table as one clean
//! pass does.

mod common;

use std::time::Instant;

use async_nats::jetstream::consumer::PullConsumer;
use common::{DEADLINE, Harness, dump, game};
use jimbot_nats::{Topology, TopologyOptions, provision};

/// The tables after one uninterrupted pass over the scripted game.
async fn clean_pass() -> Vec<String> {
    let harness = Harness::start().await;
    for (session, events) in game::scripted() {
        harness.post_batch(session, &events).await;
    }
    let consumer = harness.start_consumer().await;
    consumer.wait_applied(harness.stream_last_seq().await).await;
    consumer.abort().await;
    dump(&harness.db())
}

#[tokio::test]
async fn a_restart_in_the_middle_of_the_stream_counts_like_one_clean_pass() {
    let expected = clean_pass().await;

    let harness = Harness::start().await;
    let batches = game::scripted();
    let (first, rest) = batches.split_at(batches.len() / 2);
    for (session, events) in first {
        harness.post_batch(session, events).await;
    }
    let consumer = harness.start_consumer().await;
    let middle = harness.stream_last_seq().await;
    consumer.wait_applied(middle).await;
    consumer.abort().await;
    assert_ne!(
        dump(&harness.db()),
        expected,
        "the first half is not the whole"
    );

    for (session, events) in rest {
        harness.post_batch(session, events).await;
    }
    let consumer = harness.start_consumer().await;
    consumer.wait_applied(harness.stream_last_seq().await).await;
    consumer.abort().await;
    common::assert_same(&dump(&harness.db()), &expected);
}

#[tokio::test]
async fn redelivering_every_applied_message_changes_nothing() {
    let harness = Harness::start().await;
    for (session, events) in game::scripted() {
        harness.post_batch(session, &events).await;
    }
    let last = harness.stream_last_seq().await;
    let consumer = harness.start_consumer().await;
    consumer.wait_applied(last).await;
    consumer.abort().await;
    let before = dump(&harness.db());

    // Re-creating the durable consumer delivers the whole stream again.
    let stream = harness.js.get_stream("GAME_EVENTS").await.expect("stream");
    stream
        .delete_consumer("analytics")
        .await
        .expect("delete consumer");
    provision(
        &harness.js,
        &Topology::standard(&TopologyOptions::default()),
    )
    .await
    .expect("provision");
    let consumer = harness.start_consumer().await;
    let durable: PullConsumer = stream.get_consumer("analytics").await.expect("consumer");
    let started = Instant::now();
    loop {
        let mut durable = durable.clone();
        let info = durable.info().await.expect("consumer info");
        if info.delivered.stream_sequence >= last && info.num_ack_pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "not all redelivered and acknowledged: {info:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    consumer.abort().await;
    common::assert_same(&dump(&harness.db()), &before);
}

#[tokio::test]
async fn a_batch_the_database_refuses_is_handed_back_and_applied_once_later() {
    let expected = clean_pass().await;

    let harness = Harness::start().await;
    let batches = game::scripted();
    let (first, rest) = batches.split_at(batches.len() / 2);
    for (session, events) in first {
        harness.post_batch(session, events).await;
    }
    let consumer = harness.start_consumer().await;
    consumer.wait_applied(harness.stream_last_seq().await).await;

    // Another writer holds the database: the next commits fail (after the
    // busy timeout) and their batches are handed back for redelivery.
    let blocker = rusqlite::Connection::open(harness.db()).expect("open");
    blocker.execute_batch("BEGIN IMMEDIATE").expect("lock");
    for (session, events) in rest {
        harness.post_batch(session, events).await;
    }
    let stream = harness.js.get_stream("GAME_EVENTS").await.expect("stream");
    let mut durable: PullConsumer = stream.get_consumer("analytics").await.expect("consumer");
    let started = Instant::now();
    while durable.info().await.expect("info").num_redelivered == 0 {
        assert!(
            started.elapsed() < DEADLINE,
            "the refused batch was not handed back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    blocker.execute_batch("ROLLBACK").expect("unlock");
    drop(blocker);

    consumer.wait_applied(harness.stream_last_seq().await).await;
    consumer.abort().await;
    common::assert_same(&dump(&harness.db()), &expected);
}

#[tokio::test]
async fn a_nats_restart_in_the_middle_of_the_stream_loses_and_repeats_nothing() {
    let expected = clean_pass().await;

    let mut harness = Harness::start().await;
    let batches = game::scripted();
    let (first, rest) = batches.split_at(batches.len() / 2);
    for (session, events) in first {
        harness.post_batch(session, events).await;
    }
    let consumer = harness.start_consumer().await;
    consumer.wait_applied(harness.stream_last_seq().await).await;

    harness.server.restart().await.expect("restart nats-server");
    // The clients reconnect on their own; wait until the gateway's has.
    let started = Instant::now();
    while harness.client.connection_state() != async_nats::connection::State::Connected {
        assert!(started.elapsed() < DEADLINE, "the client did not reconnect");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for (session, events) in rest {
        harness.post_batch(session, events).await;
    }
    consumer.wait_applied(harness.stream_last_seq().await).await;
    consumer.abort().await;
    common::assert_same(&dump(&harness.db()), &expected);
}
