//! Failover on a 3-node JetStream cluster: the real gateway binary, with
//! `--stream-replicas 3`, ingests batches while the `GAME_EVENTS` leader is
//! killed. Every event the gateway acknowledged must be in the stream exactly
//! once; re-sends after a 503 (as the mod does) must not store anything twice.
//! The old leader, restarted, then catches up with what it missed.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_nats::jetstream;
use jimbot_nats::testing::NatsCluster;
use jimbot_schemas::v1;
use jimbot_service::testing::ServiceProcess;
use prost::Message as _;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const SESSION: &str = "failover";
const BATCHES: usize = 150;
const EVENTS_PER_BATCH: usize = 10;
/// Batches acknowledged before the leader is killed.
const BATCHES_BEFORE_KILL: usize = 15;
/// How long one batch may keep being refused (503) while a leader is elected.
const BATCH_DEADLINE: Duration = Duration::from_secs(60);

fn event_id(batch: usize, index: usize) -> String {
    format!("ev-{batch:03}-{index:02}")
}

/// A batch as the mod sends it; `attempt` changes only the `batch_id`, as the
/// mod's re-sends do, so the events keep their ids and timestamps.
fn batch_body(batch: usize, attempt: usize) -> String {
    let events: Vec<Value> = (0..EVENTS_PER_BATCH)
        .map(|index| {
            json!({
                "version": 1,
                "event_id": event_id(batch, index),
                "source": "BalatroMCP",
                "type": "HAND_PLAYED",
                "payload": {"hand_number": index, "hands_remaining": 3},
                "timestamp": 1000.0 + (batch * EVENTS_PER_BATCH + index) as f64,
            })
        })
        .collect();
    json!({
        "batch_id": format!("batch-{batch}-attempt-{attempt}"),
        "source": "BalatroMCP",
        "timestamp": 1000.0 + batch as f64,
        "events": events,
    })
    .to_string()
}

/// A minimal HTTP/1.1 POST; `None` when nothing answered (connection refused,
/// reset or no answer within 30 s).
async fn post(addr: SocketAddr, path: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response))
        .await
        .ok()?
        .ok()?;
    let response = String::from_utf8_lossy(&response);
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let (_, body) = response.split_once("\r\n\r\n")?;
    Some((status, body.to_owned()))
}

/// What the gateway acknowledged: event id -> stream sequence.
type Acknowledged = Arc<Mutex<BTreeMap<String, u64>>>;

/// Sends every batch in order, re-sending each (new `batch_id`, same events)
/// until it is answered 202, as the mod does after a 503.
async fn ingest(gateway: SocketAddr, acknowledged: Acknowledged, answered: Arc<Mutex<usize>>) {
    let path = format!("/s/{SESSION}/api/v1/events/batch");
    for batch in 0..BATCHES {
        let deadline = Instant::now() + BATCH_DEADLINE;
        let mut attempt = 0;
        let report = loop {
            assert!(
                Instant::now() < deadline,
                "batch {batch} not accepted within {BATCH_DEADLINE:?}"
            );
            attempt += 1;
            match post(gateway, &path, &batch_body(batch, attempt)).await {
                Some((202, body)) => break body,
                Some((503 | 429, _)) | None => {
                    // The mod's own retry delay, shortened: a leader is being elected.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Some((status, body)) => panic!("batch {batch}: unexpected {status}: {body}"),
            }
        };
        let report: Value = serde_json::from_str(&report).expect("202 answers JSON");
        let events = report["events"].as_array().expect("events report");
        assert_eq!(events.len(), EVENTS_PER_BATCH, "{report}");
        let mut acknowledged = acknowledged.lock().expect("lock");
        for (index, event) in events.iter().enumerate() {
            let status = event["status"].as_str().expect("status");
            assert!(
                status == "stored" || status == "duplicate",
                "batch {batch} event {index} was {status}: {event}"
            );
            let seq = event["seq"]
                .as_u64()
                .expect("a stored event has a sequence");
            let previous = acknowledged.insert(event_id(batch, index), seq);
            assert!(previous.is_none(), "event acknowledged twice: {event}");
        }
        *answered.lock().expect("lock") = batch + 1;
    }
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The stream's current leader, once one is elected that is not `not`.
async fn leader(js: &jetstream::Context, not: Option<&str>) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut stream) = js.get_stream("GAME_EVENTS").await
            && let Ok(info) = stream.info().await
            && let Some(leader) = info.cluster.as_ref().and_then(|c| c.leader.clone())
            && Some(leader.as_str()) != not
        {
            return leader;
        }
        assert!(Instant::now() < deadline, "no GAME_EVENTS leader elected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_the_loss_of_the_stream_leader_exactly_once() {
    let mut cluster = NatsCluster::start().await.expect("3-node cluster");
    let gateway = ServiceProcess::spawn(
        env!("CARGO_BIN_EXE_jimbot-gateway"),
        &cluster.urls(),
        &["--stream-replicas", "3"],
    )
    .expect("spawn gateway");
    gateway
        .wait_for("/health/ready", 200, Duration::from_secs(60))
        .await
        .expect("gateway ready on the cluster");

    let client = async_nats::ConnectOptions::new()
        .connect(cluster.server_addrs())
        .await
        .expect("connect to the cluster");
    let js = jetstream::new(client);
    let mut stream = js.get_stream("GAME_EVENTS").await.expect("stream");
    let config = stream.info().await.expect("info").config.clone();
    assert_eq!(
        config.num_replicas, 3,
        "--stream-replicas reached the stream"
    );

    let acknowledged: Acknowledged = Arc::default();
    let answered = Arc::new(Mutex::new(0));
    let ingesting = tokio::spawn(ingest(
        gateway.http_addr(),
        acknowledged.clone(),
        answered.clone(),
    ));
    wait_until("batches before the kill", Duration::from_secs(120), || {
        *answered.lock().expect("lock") >= BATCHES_BEFORE_KILL || ingesting.is_finished()
    })
    .await;

    let old_leader = leader(&js, None).await;
    // The harness names its nodes node-1, node-2, node-3, in start order.
    let index = (0..cluster.nodes().len())
        .find(|i| format!("node-{}", i + 1) == old_leader)
        .unwrap_or_else(|| panic!("leader {old_leader} is not a harness node"));
    cluster.node_mut(index).kill();
    let answered_at_kill = *answered.lock().expect("lock");
    assert!(
        answered_at_kill < BATCHES,
        "the leader must die while batches are still being sent"
    );

    ingesting.await.expect("every batch acknowledged");
    let new_leader = leader(&js, Some(&old_leader)).await;
    assert_ne!(new_leader, old_leader);

    // Read the stream back through the surviving nodes.
    let mut stream = js.get_stream("GAME_EVENTS").await.expect("stream");
    let state = stream.info().await.expect("info").state.clone();
    let mut stored: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for seq in state.first_sequence..=state.last_sequence {
        let message = stream.get_raw_message(seq).await.expect("stored message");
        let event = v1::Event::decode(message.payload).expect("a jimbot.v1.Event");
        assert_eq!(event.session, SESSION);
        stored.entry(event.event_id).or_default().push(seq);
    }

    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert_eq!(acknowledged.len(), BATCHES * EVENTS_PER_BATCH);
    for (id, seq) in acknowledged.iter() {
        let copies = stored
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged event {id} (seq {seq}) lost"));
        assert_eq!(copies, &vec![*seq], "{id} stored once, where acknowledged");
    }
    let unexpected: BTreeSet<&String> = stored
        .keys()
        .filter(|id| !acknowledged.contains_key(*id))
        .collect();
    assert!(unexpected.is_empty(), "never sent: {unexpected:?}");
    assert_eq!(
        state.messages,
        acknowledged.len() as u64,
        "nothing else stored"
    );

    // The old leader comes back and catches up with what it missed.
    cluster
        .node_mut(index)
        .restart()
        .await
        .expect("restart the old leader");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let info = stream.info().await.expect("info").clone();
        let cluster_info = info.cluster.expect("a replicated stream");
        let caught_up = cluster_info.replicas.len() == 2
            && cluster_info
                .replicas
                .iter()
                .all(|peer| peer.current && !peer.offline && peer.lag.unwrap_or(0) == 0);
        if caught_up {
            assert_eq!(info.state.messages, acknowledged.len() as u64);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{old_leader} did not catch up: {cluster_info:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
