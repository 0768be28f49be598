//! The replay row: a session of `n` events is stored straight into
//! JetStream (the baseline's publisher), then read back through the gateway's
//! `GET /api/v1/sessions/{session}/events` as NDJSON, counting lines.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::Request;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};

use crate::{Plan, baseline, pacing::Pacing, stats::Tally, workload::Templates};

/// Stores `events` events in `session`, then replays them; the tally holds
/// the lines read (as `replayed`) and the time to the first byte.
pub async fn run(
    js: &jetstream::Context,
    templates: &Templates,
    gateway: &str,
    session: &str,
    events: u64,
    window: usize,
) -> anyhow::Result<(Tally, Duration)> {
    let fill = Instant::now();
    let encoded = std::sync::Arc::new(baseline::encode(templates));
    let plan = Plan {
        duration: Duration::MAX,
        events: Some(events),
    };
    let stored = baseline::instance(
        plan,
        js.clone(),
        encoded,
        50,
        window,
        session.to_owned(),
        Pacing::UNPACED,
    )
    .await;
    let stored: u64 = stored.stored.values().sum();
    if stored != events {
        bail!("storing the session failed: {stored} of {events} events stored");
    }
    eprintln!(
        "replay: stored {events} events in {:.1} s; replaying",
        fill.elapsed().as_secs_f64()
    );

    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let url = format!("{gateway}/api/v1/sessions/{session}/events");
    let started = Instant::now();
    let response = client
        .request(Request::get(&url).body(Empty::new())?)
        .await
        .with_context(|| format!("GET {url}"))?;
    if !response.status().is_success() {
        bail!("GET {url}: {}", response.status());
    }
    let mut tally = Tally::default();
    let mut body = response.into_body();
    let mut lines: u64 = 0;
    let mut first = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.context("the replay stream broke")?;
        if let Some(data) = frame.data_ref() {
            first.get_or_insert_with(|| started.elapsed());
            lines += data.iter().filter(|b| **b == b'\n').count() as u64;
        }
    }
    let elapsed = started.elapsed();
    tally.requests = 1;
    tally.record(first.unwrap_or(elapsed));
    tally.stored.insert("replayed".to_owned(), lines);
    Ok((tally, elapsed))
}
