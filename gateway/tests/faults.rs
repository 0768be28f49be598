//! Faults under load, against real nats-servers: NATS restarted while
//! clients keep posting, and a `GAME_EVENTS` stream that is full. In both,
//! nothing is answered 2xx that is not stored, every acknowledged event is
//! stored exactly once after the clients' re-sends, and the gateway recovers
//! by itself once NATS (or space) is back.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_nats::jetstream;
use common::{fixture, spawn_app_with};
use jimbot_gateway::config::Settings;
use jimbot_nats::{TopologyOptions, testing::NatsServer};
use jimbot_schemas::v1;
use jimbot_service::testing::ServiceProcess;
use prost::Message as _;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// The events of a fixture the mod really sent, as templates: each test
/// event is one of them with a new id and timestamp.
fn templates() -> Vec<Value> {
    let batch: Value =
        serde_json::from_slice(&fixture("batch_mixed.json")).expect("batch_mixed is valid JSON");
    batch["events"].as_array().expect("events").clone()
}

fn event_id(client: usize, batch: usize, index: usize) -> String {
    format!("c{client}-b{batch:03}-e{index:02}")
}

/// A batch as the mod sends it; `attempt` changes only the `batch_id`, as
/// the mod's re-sends do, so the events keep their ids and timestamps.
fn batch_body(
    templates: &[Value],
    client: usize,
    batch: usize,
    size: usize,
    attempt: usize,
) -> String {
    let events: Vec<Value> = (0..size)
        .map(|index| {
            let mut event = templates[index % templates.len()].clone();
            event["event_id"] = json!(event_id(client, batch, index));
            event["timestamp"] = json!(1000.5 + (batch * size + index) as f64);
            event
        })
        .collect();
    json!({
        "batch_id": format!("c{client}-b{batch}-attempt-{attempt}"),
        "source": "BalatroMCP",
        "timestamp": 1_751_439_161_000_u64,
        "events": events,
    })
    .to_string()
}

/// Every `GAME_EVENTS` message's event id (`session/event_id`) with the
/// sequences that hold it.
async fn stored_ids(js: &jetstream::Context) -> BTreeMap<String, Vec<u64>> {
    let mut stream = js.get_stream("GAME_EVENTS").await.expect("stream");
    let state = stream.info().await.expect("info").state.clone();
    let mut stored: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    if state.messages == 0 {
        return stored;
    }
    for seq in state.first_sequence..=state.last_sequence {
        let message = stream.get_raw_message(seq).await.expect("stored message");
        let event = v1::Event::decode(message.payload).expect("a jimbot.v1.Event");
        stored
            .entry(format!("{}/{}", event.session, event.event_id))
            .or_default()
            .push(seq);
    }
    stored
}

/// Asserts that the stream holds each acknowledged event exactly once, at
/// the acknowledged sequence, and nothing that was never sent.
fn assert_exactly_the_acknowledged(
    stored: &BTreeMap<String, Vec<u64>>,
    acknowledged: &BTreeMap<String, u64>,
    sent: &BTreeSet<String>,
) {
    for (id, seq) in acknowledged {
        let copies = stored
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged event {id} (seq {seq}) is not stored"));
        assert_eq!(copies, &vec![*seq], "{id} stored once, where acknowledged");
    }
    for (id, copies) in stored {
        assert!(sent.contains(id), "{id} stored but never sent");
        assert_eq!(copies.len(), 1, "{id} stored {} times", copies.len());
    }
}

/// Records what a 202's report acknowledged; panics on anything else.
fn record_acknowledged(
    report: &Value,
    session: &str,
    expected: &[String],
    acknowledged: &mut BTreeMap<String, u64>,
) {
    let events = report["events"].as_array().expect("events report");
    assert_eq!(events.len(), expected.len(), "{report}");
    for (event, id) in events.iter().zip(expected) {
        let status = event["status"].as_str().expect("status");
        assert!(
            status == "stored" || status == "duplicate",
            "{id} was {status}: {event}"
        );
        assert_eq!(event["event_id"], json!(id));
        let seq = event["seq"].as_u64().expect("a sequence");
        let previous = acknowledged.insert(format!("{session}/{id}"), seq);
        assert!(previous.is_none(), "{id} acknowledged twice: {event}");
    }
}

// ---------------------------------------------------------------------------
// NATS restarted under load.

const CLIENTS: usize = 8;
const BATCHES_PER_CLIENT: usize = 40;
const EVENTS_PER_BATCH: usize = 5;
/// Batches acknowledged before NATS is stopped.
const BATCHES_BEFORE_OUTAGE: usize = 40;
/// 503s each client must have had before NATS comes back (a few seconds).
const REFUSALS_PER_CLIENT: usize = 40;
/// How long one batch may keep being refused while NATS is away.
const BATCH_DEADLINE: Duration = Duration::from_secs(90);

/// A minimal HTTP/1.1 POST; `None` when nothing answered.
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

/// What every request got, and when: the outage's bounds are compared
/// with these afterwards.
#[derive(Debug, Default)]
struct Outcomes {
    /// Event (`session/id`) -> acknowledged sequence.
    acknowledged: BTreeMap<String, u64>,
    /// Every event sent.
    sent: BTreeSet<String>,
    /// (client, sent at, answered at, status or 0 for no answer) of each
    /// request.
    requests: Vec<(usize, Instant, Instant, u16)>,
    /// Batches answered 202.
    batches_done: usize,
}

/// One game instance: sends its batches in order, re-sending each (new
/// `batch_id`, same events) until it is answered 202, as the mod does.
async fn client(gateway: SocketAddr, client: usize, outcomes: Arc<Mutex<Outcomes>>) {
    let templates = templates();
    let session = format!("fault-{client}");
    let path = format!("/s/{session}/api/v1/events/batch");
    for batch in 0..BATCHES_PER_CLIENT {
        let ids: Vec<String> = (0..EVENTS_PER_BATCH)
            .map(|index| event_id(client, batch, index))
            .collect();
        {
            let mut outcomes = outcomes.lock().expect("lock");
            outcomes
                .sent
                .extend(ids.iter().map(|id| format!("{session}/{id}")));
        }
        let deadline = Instant::now() + BATCH_DEADLINE;
        let mut attempt = 0;
        loop {
            assert!(
                Instant::now() < deadline,
                "{session} batch {batch} not accepted within {BATCH_DEADLINE:?}"
            );
            attempt += 1;
            let body = batch_body(&templates, client, batch, EVENTS_PER_BATCH, attempt);
            let sent = Instant::now();
            let answer = post(gateway, &path, &body).await;
            let answered = Instant::now();
            let accepted = {
                let mut outcomes = outcomes.lock().expect("lock");
                outcomes.requests.push((
                    client,
                    sent,
                    answered,
                    answer.as_ref().map_or(0, |(s, _)| *s),
                ));
                match answer {
                    Some((202, report)) => {
                        let report: Value =
                            serde_json::from_str(&report).expect("202 answers JSON");
                        record_acknowledged(&report, &session, &ids, &mut outcomes.acknowledged);
                        outcomes.batches_done += 1;
                        true
                    }
                    Some((503, body)) => {
                        assert!(body.contains("retry_after_secs"), "{body}");
                        false
                    }
                    // No answer (a read timed out, say): re-send like a 503.
                    None => false,
                    Some((status, body)) => {
                        panic!("{session} batch {batch}: unexpected {status}: {body}")
                    }
                }
            };
            if accepted {
                break;
            }
            // The mod's retry delay, shortened.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_under_load_loses_nothing_acknowledged_and_the_gateway_recovers_by_itself() {
    restart_under_load(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_under_load_with_atomic_batches_loses_nothing_acknowledged() {
    // A batch cut off by the outage is never committed; its re-send is.
    restart_under_load(&["--atomic-batches"]).await;
}

/// Clients post while NATS is stopped and started again under the gateway
/// binary run with `flags`.
async fn restart_under_load(flags: &[&str]) {
    let mut server = NatsServer::start().await.expect("nats-server");
    // Short, so requests during the outage are answered within it.
    let mut args = vec!["--publish-timeout", "1s"];
    args.extend_from_slice(flags);
    let gateway = ServiceProcess::spawn(env!("CARGO_BIN_EXE_jimbot-gateway"), &server.url(), &args)
        .expect("spawn gateway");
    gateway
        .wait_for("/health/ready", 200, Duration::from_secs(60))
        .await
        .expect("gateway ready");
    let js = jetstream::new(server.connect().await);

    let outcomes: Arc<Mutex<Outcomes>> = Arc::default();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| tokio::spawn(client(gateway.http_addr(), i, outcomes.clone())))
        .collect();
    wait_until(
        "batches before the outage",
        Duration::from_secs(120),
        || outcomes.lock().expect("lock").batches_done >= BATCHES_BEFORE_OUTAGE,
    )
    .await;

    server.stop().await;
    let outage_started = Instant::now();
    let not_ready = gateway
        .wait_for("/health/ready", 503, Duration::from_secs(30))
        .await
        .expect("not ready while NATS is down");
    assert!(not_ready.contains("not_ready"), "{not_ready}");
    // Keep NATS away until every client has been refused a few times.
    wait_until(
        "every client refused during the outage",
        Duration::from_secs(60),
        || {
            let outcomes = outcomes.lock().expect("lock");
            let mut refused = [0; CLIENTS];
            for (client, sent, _, status) in &outcomes.requests {
                if *sent >= outage_started && *status == 503 {
                    refused[*client] += 1;
                }
            }
            refused.iter().all(|n| *n >= REFUSALS_PER_CLIENT)
        },
    )
    .await;
    let outage_ended = Instant::now();
    assert!(
        outcomes.lock().expect("lock").batches_done < CLIENTS * BATCHES_PER_CLIENT,
        "the outage must come while batches are still being sent"
    );
    server.restart().await.expect("restart nats-server");

    // The same gateway process becomes ready again by itself.
    gateway
        .wait_for("/health/ready", 200, Duration::from_secs(60))
        .await
        .expect("ready again after NATS is back, without a restart");
    for client in clients {
        client.await.expect("every batch acknowledged in the end");
    }

    // Every client has ended: the outcomes are final.
    let outcomes = std::mem::take(&mut *outcomes.lock().expect("lock"));
    // Nothing can have been stored while NATS was down: no request that
    // began and ended inside the outage may have been answered 2xx.
    let inside: Vec<u16> = outcomes
        .requests
        .iter()
        .filter(|(_, sent, answered, _)| *sent >= outage_started && *answered <= outage_ended)
        .map(|(_, _, _, status)| *status)
        .collect();
    assert!(!inside.is_empty(), "requests were made during the outage");
    assert!(
        inside.iter().all(|status| *status == 503),
        "only 503 while NATS is down: {inside:?}"
    );

    assert_eq!(
        outcomes.acknowledged.len(),
        CLIENTS * BATCHES_PER_CLIENT * EVENTS_PER_BATCH
    );
    let stored = stored_ids(&js).await;
    assert_exactly_the_acknowledged(&stored, &outcomes.acknowledged, &outcomes.sent);
    assert_eq!(
        stored.len(),
        outcomes.acknowledged.len(),
        "nothing else stored"
    );
}

// ---------------------------------------------------------------------------
// A full stream.

/// Posts `body` through the in-process router.
async fn post_batch(app: &common::TestApp, session: &str, body: String) -> common::Reply {
    app.post(&format!("/s/{session}/api/v1/events/batch"), body)
        .await
}

#[tokio::test]
async fn a_full_stream_answers_503_naming_it_and_accepts_again_once_there_is_room() {
    // Room for a few batches only (the harness provisioned the default
    // limit; shrink it). Discard `new` makes JetStream refuse what does not
    // fit rather than drop old events.
    let topology = TopologyOptions {
        game_events_max_bytes: 64 * 1024,
        ..TopologyOptions::default()
    };
    let app = spawn_app_with(Settings {
        topology: topology.clone(),
        ..Settings::default()
    })
    .await;
    let mut stream = app.js.get_stream("GAME_EVENTS").await.expect("stream");
    let mut config = stream.info().await.expect("info").config.clone();
    config.max_bytes = topology.game_events_max_bytes;
    app.js
        .update_stream(&config)
        .await
        .expect("shrink the stream");

    let templates = templates();
    let session = "full";
    let mut acknowledged = BTreeMap::new();
    let mut sent = BTreeSet::new();
    let mut refused = None;
    for batch in 0..200 {
        let ids: Vec<String> = (0..EVENTS_PER_BATCH)
            .map(|index| event_id(0, batch, index))
            .collect();
        sent.extend(ids.iter().map(|id| format!("{session}/{id}")));
        let reply = post_batch(
            &app,
            session,
            batch_body(&templates, 0, batch, EVENTS_PER_BATCH, 1),
        )
        .await;
        match reply.status.as_u16() {
            202 => record_acknowledged(&reply.json(), session, &ids, &mut acknowledged),
            503 => {
                refused = Some((batch, ids, reply));
                break;
            }
            status => panic!("batch {batch}: unexpected {status}: {}", reply.text()),
        }
    }
    let (batch, ids, reply) = refused.expect("the stream filled up");
    assert!(batch > 0, "some batches fit");
    let body = reply.json();
    let error = body["error"].as_str().expect("error");
    assert_eq!(body["reason"], "store_full", "{body}");
    assert!(error.contains("full"), "names the full store: {error}");
    assert_eq!(
        reply.headers.get("retry-after").expect("Retry-After"),
        &jimbot_gateway::error::STORE_FULL_RETRY_AFTER_SECS.to_string()
    );
    // Still full: re-sends are refused the same way, and nothing
    // acknowledged went missing to make room.
    let again = post_batch(
        &app,
        session,
        batch_body(&templates, 0, batch, EVENTS_PER_BATCH, 2),
    )
    .await;
    assert_eq!(again.status, 503, "{}", again.text());
    assert_exactly_the_acknowledged(&stored_ids(&app.js).await, &acknowledged, &sent);

    // Space returns (an operator raises the limit): the mod's re-send lands.
    config.max_bytes = 16 * 1024 * 1024;
    app.js
        .update_stream(&config)
        .await
        .expect("grow the stream");
    let resent = post_batch(
        &app,
        session,
        batch_body(&templates, 0, batch, EVENTS_PER_BATCH, 3),
    )
    .await;
    assert_eq!(resent.status, 202, "{}", resent.text());
    record_acknowledged(&resent.json(), session, &ids, &mut acknowledged);
    let next = batch + 1;
    let next_ids: Vec<String> = (0..EVENTS_PER_BATCH)
        .map(|index| event_id(0, next, index))
        .collect();
    sent.extend(next_ids.iter().map(|id| format!("{session}/{id}")));
    let more = post_batch(
        &app,
        session,
        batch_body(&templates, 0, next, EVENTS_PER_BATCH, 1),
    )
    .await;
    assert_eq!(more.status, 202, "{}", more.text());
    record_acknowledged(&more.json(), session, &next_ids, &mut acknowledged);

    let stored = stored_ids(&app.js).await;
    assert_exactly_the_acknowledged(&stored, &acknowledged, &sent);
    assert_eq!(stored.len(), acknowledged.len(), "nothing else stored");
}
