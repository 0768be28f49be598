//! `jimbot-analytics-bench`: how fast analytics catches up on a backlog and
//! how far behind it stays under live traffic. Release build only:
//!
//! ```sh
//! cargo run --release -p jimbot-analytics --features bench --bin jimbot-analytics-bench
//! ```
//!
//! 1. Catch-up: `--events` (1,000,000) synthetic game events are stored in
//!    `GAME_EVENTS`, then a fresh consumer and database apply all of them;
//!    repeated `--repeat` times (the durable consumer is re-created and the
//!    database emptied each time). Reports events/s, median of the runs.
//! 2. Live: with the consumer caught up, events are published at `--rate`
//!    (10,000/s) for `--live-duration`; for every event, the time from its
//!    publish acknowledgement to the moment its sequence is committed.
//!
//! Runs its own nats-server (the pinned one, file storage, a temporary
//! store) unless `--nats-url` names one. Prints a table and, with `--json`,
//! one JSON object per result.

use std::{
    future::IntoFuture,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::Context as _;
use async_nats::jetstream;
use clap::Parser;
use futures::future::try_join_all;
use jimbot_analytics::{
    consumer::{self, ConsumerSettings, Processor, Progress},
    store,
    workload::Workload,
};
use jimbot_nats::{
    Topology, TopologyOptions, provision,
    testing::NatsServer,
    topology::{consumers, streams},
};
use jimbot_service::Shutdown;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(
    name = "jimbot-analytics-bench",
    about = "Catch-up and live-lag benchmark of jimbot-analytics"
)]
struct Args {
    /// Events in the backlog.
    #[arg(long, default_value_t = 1_000_000)]
    events: usize,
    /// Game instances the events are spread over.
    #[arg(long, default_value_t = 64)]
    sessions: usize,
    /// Catch-up runs (the median is reported).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Live events per second.
    #[arg(long, default_value_t = 10_000)]
    rate: u32,
    /// How long the live phase publishes.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    live_duration: Duration,
    /// Messages per batch (the service's default).
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
    /// Longest wait for a batch to fill (the service's default).
    #[arg(long, default_value = "100ms", value_parser = humantime::parse_duration)]
    batch_wait: Duration,
    /// Use this nats-server instead of starting one.
    #[arg(long)]
    nats_url: Option<String>,
    /// Also print one JSON object per result.
    #[arg(long)]
    json: bool,
}

fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        !cfg!(debug_assertions),
        "build with --release: debug numbers mean nothing"
    );
    let server = match &args.nats_url {
        Some(_) => None,
        None => Some(NatsServer::start().await.context("starting nats-server")?),
    };
    let url = args
        .nats_url
        .clone()
        .or_else(|| server.as_ref().map(NatsServer::url))
        .context("no NATS")?;
    let client = async_nats::connect(&url).await.context("connecting")?;
    let js = jetstream::new(client.clone());
    let topology = Topology::standard(&TopologyOptions::default());
    provision(&js, &topology).await.context("provisioning")?;
    let mut workload = Workload::new(args.sessions, 42);

    eprintln!("storing {} events ...", args.events);
    let published = Instant::now();
    publish(&js, &mut workload, args.events).await?;
    eprintln!("stored in {:.1} s", published.elapsed().as_secs_f64());
    let state = js
        .get_stream(streams::GAME_EVENTS)
        .await?
        .info()
        .await?
        .state
        .clone();
    let backlog_end = state.last_sequence;
    eprintln!(
        "stream: {} messages, {} bytes ({} bytes per message)",
        state.messages,
        state.bytes,
        state.bytes / state.messages.max(1)
    );

    let baseline = baseline(&js, args.events).await?;
    eprintln!("baseline: pull and acknowledge only, {baseline:.0} events/s");

    let settings = ConsumerSettings {
        batch_size: args.batch_size,
        batch_wait: args.batch_wait,
    };
    let mut rates = Vec::new();
    let mut live_consumer = None;
    for run in 1..=args.repeat.max(1) {
        let dir = tempfile::tempdir()?;
        let stream = js.get_stream(streams::GAME_EVENTS).await?;
        let _ = stream.delete_consumer(consumers::ANALYTICS).await;
        provision(&js, &topology).await?;
        let (writer, reader) = store::open(&dir.path().join("analytics.db"))?;
        let processor = Processor::load(writer)?;
        let progress = Arc::new(Progress::default());
        let started = Instant::now();
        let task = tokio::spawn(consumer::consume(
            client.clone(),
            Shutdown::never(),
            processor,
            settings,
            progress.clone(),
        ));
        while progress.last_seq() < backlog_end {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let took = started.elapsed();
        #[allow(
            clippy::cast_precision_loss,
            reason = "event counts are far below 2^52"
        )]
        let rate = args.events as f64 / took.as_secs_f64();
        let summary = tokio::task::spawn_blocking(move || reader.summary()).await??;
        eprintln!(
            "catch-up {run}: {} events in {:.2} s = {rate:.0} events/s ({} runs: {} won, {} lost)",
            args.events,
            took.as_secs_f64(),
            summary.runs,
            summary.won,
            summary.lost
        );
        rates.push(rate);
        if run == args.repeat.max(1) {
            live_consumer = Some((task, progress, dir));
        } else {
            task.abort();
            let _ = task.await;
        }
    }
    rates.sort_by(f64::total_cmp);
    let median_rate = rates[rates.len() / 2];

    let (task, progress, _dir) = live_consumer.context("no consumer")?;
    eprintln!(
        "live: {} events/s for {:?} ...",
        args.rate, args.live_duration
    );
    let lags = live(&js, &mut workload, &progress, args.rate, args.live_duration).await?;
    task.abort();

    println!("| benchmark | result |");
    println!("|---|---|");
    println!(
        "| catch-up of {} stored events (median of {}) | {median_rate:.0} events/s |",
        args.events,
        rates.len()
    );
    println!(
        "| baseline: the same backlog pulled and acknowledged one by one, nothing applied | {baseline:.0} events/s |"
    );
    println!(
        "| live at {} events/s for {:?}: publish-ack to commit | p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} events) |",
        args.rate, args.live_duration, lags.p50, lags.p99, lags.max, lags.count
    );
    if args.json {
        println!(
            "{}",
            json!({"bench": "analytics_catchup", "events": args.events, "sessions": args.sessions,
                   "batch_size": args.batch_size, "runs": rates, "median_events_per_sec": median_rate,
                   "baseline_events_per_sec": baseline})
        );
        println!(
            "{}",
            json!({"bench": "analytics_live", "rate": args.rate, "seconds": args.live_duration.as_secs_f64(),
                   "events": lags.count, "lag_p50_ms": lags.p50, "lag_p99_ms": lags.p99, "lag_max_ms": lags.max})
        );
    }
    Ok(())
}

/// What JetStream alone allows: an ephemeral consumer with explicit acks
/// pulling the backlog (continuous pulls) and acknowledging each message,
/// with no decoding or database.
async fn baseline(js: &jetstream::Context, count: usize) -> anyhow::Result<f64> {
    use futures::StreamExt as _;
    let stream = js.get_stream(streams::GAME_EVENTS).await?;
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::Config {
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            max_ack_pending: 10_000,
            ..Default::default()
        })
        .await?;
    let started = Instant::now();
    let mut messages = consumer.messages().await?;
    let mut seen = 0;
    while seen < count {
        let message = messages.next().await.context("stream ended")??;
        message
            .ack()
            .await
            .map_err(|e| anyhow::anyhow!("ack: {e}"))?;
        seen += 1;
    }
    #[allow(
        clippy::cast_precision_loss,
        reason = "event counts are far below 2^52"
    )]
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// Stores `count` events, keeping a bounded number of acknowledgements open.
async fn publish(
    js: &jetstream::Context,
    workload: &mut Workload,
    count: usize,
) -> anyhow::Result<()> {
    const WINDOW: usize = 5_000;
    let mut sent = 0;
    while sent < count {
        let n = WINDOW.min(count - sent);
        let mut acks = Vec::with_capacity(n);
        for _ in 0..n {
            let m = workload.next_message(now_ms());
            acks.push(
                js.publish_with_headers(m.subject, m.headers, m.payload)
                    .await?
                    .into_future(),
            );
        }
        try_join_all(acks).await?;
        sent += n;
    }
    Ok(())
}

struct Lags {
    p50: f64,
    p99: f64,
    max: f64,
    count: usize,
}

/// Publishes at `rate` for `duration`; returns, per event, the time from
/// its acknowledgement to the commit of its sequence.
async fn live(
    js: &jetstream::Context,
    workload: &mut Workload,
    progress: &Arc<Progress>,
    rate: u32,
    duration: Duration,
) -> anyhow::Result<Lags> {
    const TICK: Duration = Duration::from_millis(10);
    let per_tick = (f64::from(rate) * TICK.as_secs_f64()).round() as usize;
    // (sequence, when acknowledged), filled by the ack tasks.
    let acked: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    // (sequence committed, when first seen), sampled by a watcher.
    let committed: Arc<Mutex<Vec<(u64, Instant)>>> = Arc::default();
    let watching = {
        let (progress, committed) = (progress.clone(), committed.clone());
        tokio::spawn(async move {
            let mut last = progress.last_seq();
            loop {
                let seq = progress.last_seq();
                if seq != last {
                    committed.lock().expect("lock").push((seq, Instant::now()));
                    last = seq;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut pending = Vec::new();
    while started.elapsed() < duration {
        ticker.tick().await;
        let mut acks = Vec::with_capacity(per_tick);
        for _ in 0..per_tick {
            let m = workload.next_message(now_ms());
            acks.push(
                js.publish_with_headers(m.subject, m.headers, m.payload)
                    .await?
                    .into_future(),
            );
        }
        let acked = acked.clone();
        pending.push(tokio::spawn(async move {
            for ack in acks {
                if let Ok(ack) = ack.await {
                    acked
                        .lock()
                        .expect("lock")
                        .push((ack.sequence, Instant::now()));
                }
            }
        }));
    }
    for task in pending {
        task.await?;
    }
    let last = acked
        .lock()
        .expect("lock")
        .iter()
        .map(|(s, _)| *s)
        .max()
        .unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while progress.last_seq() < last && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    watching.abort();
    let committed = committed.lock().expect("lock").clone();
    let mut lags: Vec<f64> = acked
        .lock()
        .expect("lock")
        .iter()
        .map(|(seq, at)| {
            let index = committed.partition_point(|(c, _)| c < seq);
            committed.get(index).map_or(f64::INFINITY, |(_, seen)| {
                seen.saturating_duration_since(*at).as_secs_f64() * 1000.0
            })
        })
        .collect();
    lags.sort_by(f64::total_cmp);
    let at = |q: f64| {
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "an index into lags"
        )]
        let i = ((lags.len() as f64 - 1.0) * q).round() as usize;
        lags.get(i).copied().unwrap_or(0.0)
    };
    Ok(Lags {
        p50: at(0.5),
        p99: at(0.99),
        max: at(1.0),
        count: lags.len(),
    })
}
