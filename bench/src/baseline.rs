//! The baseline: the same events, already encoded, published straight to
//! JetStream with pipelined acks (same server, stream and dedup), so the
//! gateway's figure can be read as a share of what the broker itself does.

use std::{collections::VecDeque, time::Instant};

use async_nats::{HeaderMap, header::NATS_MESSAGE_ID, jetstream};
use bytes::Bytes;
use jimbot_schemas::balatro;
use prost::Message as _;

use crate::{Plan, pacing::Pacing, stats::Tally, workload::Templates};

/// A template's event as the gateway would publish it.
#[derive(Debug, Clone)]
pub struct Encoded {
    event_type: String,
    payload: Bytes,
}

/// The protobuf payload of every template, in the batch mix's order.
pub fn encode(templates: &Templates) -> (Vec<Encoded>, Vec<Encoded>) {
    let encode_all = |list: &[crate::workload::Template]| {
        list.iter()
            .map(|template| {
                let mut json = String::new();
                template.write(&mut json, "baseline", 1.5);
                let event = balatro::parse_single(json.as_bytes())
                    .expect("template parses")
                    .result
                    .expect("template is a usable event");
                Encoded {
                    event_type: template.event_type.to_ascii_lowercase(),
                    payload: Bytes::from(event.encode_to_vec()),
                }
            })
            .collect::<Vec<_>>()
    };
    let mut small = encode_all(&templates.heartbeats);
    small.extend(encode_all(&templates.changes));
    (encode_all(&templates.game_states), small)
}

/// Publishes batches of `size` for one session until the plan is done.
///
/// As fast as possible, up to `window` acks stay in flight across batches
/// and a batch's latency is the time to hand its messages to the client.
/// At a fixed rate (`pacing.interval`), each batch starts on schedule and
/// waits for all its acks, as the gateway does for a request: its latency
/// is the broker's own share of a gateway request's at that load.
pub async fn instance(
    plan: Plan,
    js: jetstream::Context,
    encoded: std::sync::Arc<(Vec<Encoded>, Vec<Encoded>)>,
    size: usize,
    window: usize,
    session: String,
    pacing: Pacing,
) -> Tally {
    let (states, small) = &*encoded;
    let mut tally = Tally::default();
    let mut pending = VecDeque::new();
    let started = Instant::now();
    let mut schedule = pacing.schedule(started);
    let mut n: u64 = 0;
    while !plan.done(started, n) {
        schedule.due().await;
        let sent = Instant::now();
        for i in 0..size {
            let event = if i == 0 {
                &states[n as usize % states.len()]
            } else {
                &small[n as usize % small.len()]
            };
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, format!("{session}-{n}").as_str());
            let subject = format!("jimbot.game.{session}.{}", event.event_type);
            match js
                .publish_with_headers(subject, headers, event.payload.clone())
                .await
            {
                Ok(ack) => pending.push_back((ack, format!("{session}.{}", event.event_type))),
                Err(_) => *tally.errors.entry("publish".to_owned()).or_default() += 1,
            }
            n += 1;
            while pending.len() > window {
                settle(&mut tally, pending.pop_front()).await;
            }
        }
        if pacing.is_paced() {
            while let Some(next) = pending.pop_front() {
                settle(&mut tally, Some(next)).await;
            }
        }
        tally.requests += 1;
        tally.record(sent.elapsed());
    }
    while let Some(next) = pending.pop_front() {
        settle(&mut tally, Some(next)).await;
    }
    tally
}

async fn settle(tally: &mut Tally, next: Option<(jetstream::context::PublishAckFuture, String)>) {
    let Some((ack, subject)) = next else { return };
    match ack.await {
        Ok(ack) if ack.duplicate => tally.duplicates += 1,
        Ok(_) => *tally.stored.entry(subject).or_default() += 1,
        Err(_) => *tally.errors.entry("ack".to_owned()).or_default() += 1,
    }
}
