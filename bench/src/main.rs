//! `jimbot-loadgen`: emulates BalatroMCP instances against the gateway (or
//! publishes the same events straight to JetStream as a baseline), verifies
//! that the stream holds exactly what was acknowledged, and reports
//! throughput and latency as a table and as JSON.

mod baseline;
mod gateway;
mod pacing;
mod replay;
mod stats;
mod verify;
mod workload;

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand, ValueEnum};
use pacing::Pacing;
use stats::{Row, Tally};

/// Load generator for the JimBot gateway, with a direct-JetStream baseline.
#[derive(Debug, Parser)]
#[command(name = "jimbot-loadgen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one load and print its row.
    Run(Box<RunArgs>),
    /// Print the table of rows saved as JSON files.
    Table {
        /// Row files written by `run --json`.
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// What to run.
    #[arg(long, value_enum)]
    mode: Mode,
    /// The gateway's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    gateway: String,
    /// NATS, for verification and the baseline.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// Game instances (sessions), each with one connection.
    #[arg(long, default_value_t = 16)]
    instances: usize,
    /// Events per batch (batch and baseline modes).
    #[arg(long, default_value_t = 50)]
    batch_size: usize,
    /// How long to run.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Appended to the row's name, e.g. the gateway setting under test.
    #[arg(long)]
    label: Option<String>,
    /// Events in the replayed session (replay mode).
    #[arg(long, default_value_t = 1_000_000)]
    replay_events: u64,
    /// Stop each instance after this many events instead.
    #[arg(long)]
    events_per_instance: Option<u64>,
    /// Requests (batches) per second per instance (single, batch and
    /// baseline modes); unset: as fast as they are answered. A paced
    /// baseline batch waits for all its acks, like a gateway request.
    #[arg(long)]
    rate: Option<f64>,
    /// Baseline: acks in flight per instance.
    #[arg(long, default_value_t = 256)]
    window: usize,
    /// Label for JetStream's flush policy during the run.
    #[arg(long, default_value = "default")]
    sync: String,
    /// The service under test, for peak RSS and CPU time.
    #[arg(long)]
    watch_pid: Option<u32>,
    /// Also write the row here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Re-send a request answered 503 or 429, or lost in transport, up to
    /// this many times (as the mod does), waiting what `Retry-After` says;
    /// events a re-send finds already stored count once. 0: never re-send.
    #[arg(long, default_value_t = 0)]
    retry: u32,
    /// The longest wait between re-sends, whatever `Retry-After` says.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    retry_max_wait: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// One event per request.
    Single,
    /// Batches of `--batch-size` as fast as they are acknowledged.
    Batch,
    /// Every instance at the mod's own pacing.
    Realistic,
    /// The batch mix straight to JetStream.
    Baseline,
    /// Store one session of `--replay-events` straight to JetStream, then
    /// read it back through the gateway as NDJSON.
    Replay,
}

/// When a worker stops.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    duration: Duration,
    events: Option<u64>,
}

impl Plan {
    /// Whether a worker that started at `started` and sent `sent` events is done.
    pub fn done(&self, started: Instant, sent: u64) -> bool {
        self.events
            .map_or_else(|| started.elapsed() >= self.duration, |max| sent >= max)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Run(args) => run(*args).await,
        Command::Table { files } => {
            let mut rows = Vec::new();
            for file in files {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                rows.push(
                    serde_json::from_str::<Row>(&text)
                        .with_context(|| format!("parsing {}", file.display()))?,
                );
            }
            print!("{}", stats::table(&rows));
            Ok(())
        }
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    if args.instances == 0 || args.batch_size == 0 {
        bail!("--instances and --batch-size must be at least 1");
    }
    let client = async_nats::connect(args.nats_url.as_str())
        .await
        .with_context(|| format!("cannot connect to NATS at {}", args.nats_url))?;
    let js = async_nats::jetstream::new(client);
    let templates = Arc::new(workload::Templates::from_fixtures());
    let plan = Plan {
        duration: args.duration,
        events: args.events_per_instance,
    };
    let run_id = format!("r{}", std::process::id());
    let before = args.watch_pid.map(process_cpu_seconds).transpose()?;

    let interval = match args.rate {
        Some(rate) if rate > 0.0 && rate.is_finite() => Some(Duration::from_secs_f64(1.0 / rate)),
        Some(rate) => bail!("--rate must be a positive number, got {rate}"),
        None => None,
    };
    if let Mode::Replay = args.mode {
        let session = format!("{run_id}-replay");
        let (tally, elapsed) = replay::run(
            &js,
            &templates,
            &args.gateway,
            &session,
            args.replay_events,
            args.window,
        )
        .await?;
        let lines: u64 = tally.stored.values().sum();
        let verified = lines == args.replay_events;
        if !verified {
            eprintln!(
                "verification: replayed {lines} of {} events",
                args.replay_events
            );
        }
        let name = format!("replay {}-event session to NDJSON", args.replay_events);
        return finish(
            &args,
            Row::new(&name, &args.sync, &tally, elapsed, verified),
            before,
            verified,
        );
    }
    // Instances at a fixed rate start spread over one interval, like
    // independent games, not all in the same instant.
    let pacing = |i: usize| Pacing {
        interval,
        start_offset: interval.map_or(Duration::ZERO, |every| {
            every.mul_f64(i as f64 / args.instances as f64)
        }),
    };
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    let encoded = Arc::new(baseline::encode(&templates));
    for i in 0..args.instances {
        let session = format!("{run_id}-{i}");
        match args.mode {
            Mode::Baseline => {
                workers.spawn(baseline::instance(
                    plan,
                    js.clone(),
                    encoded.clone(),
                    args.batch_size,
                    args.window,
                    session,
                    pacing(i),
                ));
            }
            Mode::Replay => unreachable!("handled above"),
            mode => {
                let shape = match mode {
                    Mode::Single => gateway::Shape::Single,
                    Mode::Realistic => gateway::Shape::Realistic,
                    _ => gateway::Shape::Batch(args.batch_size),
                };
                workers.spawn(gateway::instance(
                    plan,
                    shape,
                    templates.clone(),
                    args.gateway.clone(),
                    session,
                    pacing(i),
                    gateway::Retry {
                        attempts: args.retry,
                        max_wait: args.retry_max_wait,
                    },
                ));
            }
        }
    }
    let mut tally = Tally::default();
    while let Some(worker) = workers.join_next().await {
        tally.merge(worker.context("a worker failed")?);
    }
    let elapsed = started.elapsed();

    if tally.retries > 0 {
        eprintln!(
            "re-sent {} requests; {} events were already stored by a failed attempt",
            tally.retries, tally.recovered
        );
    }
    let mismatches = verify::stream_matches(&js, &run_id, &tally.stored).await?;
    for mismatch in &mismatches {
        eprintln!("verification: {mismatch}");
    }
    let name = match args.mode {
        Mode::Single => format!("gateway single x{}", args.instances),
        Mode::Batch => match args.rate {
            Some(rate) => format!(
                "gateway batch-{} x{} at {rate:.1} req/s each",
                args.batch_size, args.instances
            ),
            None => format!("gateway batch-{} x{}", args.batch_size, args.instances),
        },
        Mode::Realistic => format!("gateway realistic x{}", args.instances),
        Mode::Baseline => match args.rate {
            Some(rate) => format!(
                "baseline batch-{} x{} at {rate:.1} req/s each",
                args.batch_size, args.instances
            ),
            None => format!("baseline batch-{} x{}", args.batch_size, args.instances),
        },
        Mode::Replay => unreachable!("handled above"),
    };
    let name = match &args.label {
        Some(label) => format!("{name}, {label}"),
        None => name,
    };
    let row = Row::new(&name, &args.sync, &tally, elapsed, mismatches.is_empty());
    finish(&args, row, before, mismatches.is_empty())
}

/// Adds the service's CPU and memory to `row`, prints it and saves it.
fn finish(
    args: &RunArgs,
    mut row: Row,
    cpu_before: Option<f64>,
    verified: bool,
) -> anyhow::Result<()> {
    if let (Some(pid), Some(before)) = (args.watch_pid, cpu_before) {
        let cpu = process_cpu_seconds(pid)? - before;
        row.cpu_s_per_1k_events = Some(cpu / (row.events.max(1) as f64) * 1000.0);
        row.peak_rss_mib = Some(peak_rss_mib(pid)?);
    }
    print!("{}", stats::table(std::slice::from_ref(&row)));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&row)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if !verified {
        bail!("the stream does not hold exactly the acknowledged events");
    }
    Ok(())
}

/// User plus system CPU seconds of a process, from `/proc/<pid>/stat`.
fn process_cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("no process {pid}"))?;
    // Fields after the parenthesised name; utime and stime are the 14th and 15th.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Clock ticks are 100 per second on Linux.
    Ok((ticks(11) + ticks(12)) / 100.0)
}

/// Peak resident set size (VmHWM) of a process, in MiB.
fn peak_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("no process {pid}"))?;
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|value| value.parse::<f64>().ok())
        .context("no VmHWM in /proc status")?;
    Ok(kib / 1024.0)
}
