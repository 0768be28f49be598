//! Clients that are slow on purpose, against the real gateway binary: a
//! request head trickled in (slowloris), thousands of connections that send
//! nothing, and a client that never reads a large replay. Each is cut off by
//! its documented timeout, memory stays bounded, and other clients are
//! served meanwhile. Timeouts are shortened by flags to keep the tests quick.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use futures::{StreamExt as _, TryStreamExt as _};
use jimbot_nats::testing::NatsServer;
use jimbot_service::testing::{ServiceProcess, http_get};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-gateway");

async fn gateway(nats: &NatsServer, extra: &[&str]) -> ServiceProcess {
    let process = ServiceProcess::spawn(BINARY, &nats.url(), extra).expect("spawn");
    process
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .expect("ready");
    process
}

/// The sum of a metric's samples whose labels include every one of `labels`.
async fn metric(process: &ServiceProcess, name: &str, labels: &[&str]) -> f64 {
    let (status, body) = process.get("/metrics").await.expect("metrics");
    assert_eq!(status, 200);
    body.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .filter(|line| labels.iter().all(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Waits (up to `timeout`) until `check` holds for the metric's value.
async fn wait_for_metric(
    process: &ServiceProcess,
    name: &str,
    labels: &[&str],
    check: impl Fn(f64) -> bool,
    timeout: Duration,
) -> f64 {
    let deadline = Instant::now() + timeout;
    loop {
        let value = metric(process, name, labels).await;
        if check(value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "{name}{labels:?} is {value} after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The gateway's resident memory in KiB, from `/proc/<pid>/status`; the
/// process is the one whose command line holds its unique HTTP address.
fn rss_kib(process: &ServiceProcess) -> u64 {
    let needle = process.http_addr().to_string();
    for entry in std::fs::read_dir("/proc").expect("/proc") {
        let Ok(entry) = entry else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_gateway = args
            .first()
            .is_some_and(|arg0| arg0.ends_with(b"jimbot-gateway"))
            && args.contains(&needle.as_bytes());
        if !is_gateway {
            continue;
        }
        let status = std::fs::read_to_string(entry.path().join("status")).expect("status");
        return status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS");
    }
    panic!("no gateway process listening on {needle}");
}

/// Reads until the server closes the connection (or resets it); what it sent.
async fn read_until_closed(stream: &mut (impl AsyncReadExt + Unpin), limit: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let read_all = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(limit, read_all)
        .await
        .expect("the server closes the connection");
    received
}

#[tokio::test]
async fn a_slowloris_client_is_cut_off_at_the_header_timeout_while_others_are_served() {
    let nats = NatsServer::start().await.expect("nats-server");
    let process = gateway(&nats, &["--header-timeout", "2s"]).await;

    let connected = Instant::now();
    let slow = TcpStream::connect(process.http_addr())
        .await
        .expect("connect");
    let (mut reader, mut writer) = slow.into_split();
    // A request head that never ends: one more header line every 200 ms.
    let trickle = tokio::spawn(async move {
        let _ = writer
            .write_all(b"GET /health/live HTTP/1.1\r\nHost: slow\r\n")
            .await;
        for i in 0.. {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let line = format!("X-Slow-{i}: still coming\r\n");
            if writer.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });

    // Others are served while the slow head is still arriving.
    for _ in 0..5 {
        let (status, _) = http_get(process.http_addr(), "/health/live")
            .await
            .expect("answer");
        assert_eq!(status, 200);
    }

    let answer = read_until_closed(&mut reader, Duration::from_secs(30)).await;
    let lasted = connected.elapsed();
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        !answer.contains(" 200 "),
        "the slow request was served: {answer}"
    );
    assert!(
        lasted >= Duration::from_millis(1900),
        "closed after {lasted:?}, before the 2 s header timeout"
    );
    assert!(lasted < Duration::from_secs(20), "closed after {lasted:?}");
    let closed = metric(
        &process,
        "http_connections_closed_total",
        &["reason=\"header_timeout\"", "listener=\"http\""],
    )
    .await;
    assert!(closed >= 1.0, "header timeouts counted: {closed}");
    let (status, _) = process.get("/health/live").await.expect("answer");
    assert_eq!(status, 200, "still serving afterwards");
}

#[tokio::test]
async fn a_trickled_request_body_is_cut_off_at_the_body_timeout() {
    let nats = NatsServer::start().await.expect("nats-server");
    let process = gateway(&nats, &["--body-timeout", "2s"]).await;

    let slow = TcpStream::connect(process.http_addr())
        .await
        .expect("connect");
    let (mut reader, mut writer) = slow.into_split();
    let sent_head = Instant::now();
    // The head at once, then a 4 KiB body one byte every 100 ms.
    let trickle = tokio::spawn(async move {
        let head = "POST /s/slow-body/api/v1/events/batch HTTP/1.1\r\nHost: slow\r\n\
                    Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n";
        let _ = writer.write_all(head.as_bytes()).await;
        for _ in 0..4096 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let (status, _) = http_get(process.http_addr(), "/health/live")
        .await
        .expect("others are served meanwhile");
    assert_eq!(status, 200);

    let answer = read_until_closed(&mut reader, Duration::from_secs(30)).await;
    let lasted = sent_head.elapsed();
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split(' ').nth(1).unwrap_or("none");
    assert!(
        !status.starts_with('2'),
        "a body that never arrived was accepted: {answer}"
    );
    assert!(
        lasted >= Duration::from_millis(1900),
        "cut off after {lasted:?}, before the 2 s body timeout"
    );
    assert!(lasted < Duration::from_secs(20), "cut off after {lasted:?}");
}

#[tokio::test]
async fn ten_thousand_idle_connections_neither_block_others_nor_grow_memory_unbounded() {
    // Each idle connection costs this process a descriptor too.
    let soft = rlimit::increase_nofile_limit(u64::MAX).expect("open-file limit");
    let wanted: u64 = 10_000;
    let idle = wanted.min(soft.saturating_sub(500));
    if idle < wanted {
        eprintln!("open-file limit {soft}: testing {idle} idle connections, not {wanted}");
    }
    let nats = NatsServer::start().await.expect("nats-server");
    // Long enough to open them all before the first is cut off.
    let process = gateway(&nats, &["--header-timeout", "30s"]).await;
    for _ in 0..20 {
        process.get("/health/ready").await.expect("warm-up");
    }
    let baseline = rss_kib(&process);

    let opening = Instant::now();
    let addr = process.http_addr();
    let mut connections: Vec<TcpStream> =
        futures::stream::iter((0..idle).map(|_| TcpStream::connect(addr)))
            .buffer_unordered(64)
            .try_collect()
            .await
            .expect("connect");
    let opened_in = opening.elapsed();
    wait_for_metric(
        &process,
        "http_connections_open",
        &["listener=\"http\""],
        |open| open >= idle as f64,
        Duration::from_secs(20),
    )
    .await;
    let with_idle = rss_kib(&process);

    let asked = Instant::now();
    let (status, body) = process.get("/api/v1/sessions").await.expect("answer");
    let answered_in = asked.elapsed();
    assert_eq!(status, 200, "{body}");

    let growth = with_idle.saturating_sub(baseline);
    let per_connection = growth * 1024 / idle;
    eprintln!(
        "{idle} idle connections opened in {opened_in:?}; gateway RSS {baseline} KiB -> \
         {with_idle} KiB (+{growth} KiB, {per_connection} bytes each); a normal request \
         answered in {answered_in:?}"
    );
    // Measured about 3-4 KiB per idle connection; a tenfold margin.
    assert!(
        per_connection < 40 * 1024,
        "{per_connection} bytes of RSS per idle connection"
    );

    // Then every one of them is closed by the header timeout.
    let closing = Instant::now();
    let mut closed = 0;
    for connection in &mut connections {
        let remaining = Duration::from_secs(90).saturating_sub(closing.elapsed());
        if tokio::time::timeout(remaining, connection.read(&mut [0u8; 1]))
            .await
            .is_ok()
        {
            closed += 1;
        }
    }
    assert_eq!(closed, idle, "idle connections closed by the server");
    let cut = metric(
        &process,
        "http_connections_closed_total",
        &["reason=\"header_timeout\""],
    )
    .await;
    assert!(cut >= idle as f64, "{cut} counted as header timeouts");
    drop(connections);
    wait_for_metric(
        &process,
        "http_connections_open",
        &["listener=\"http\""],
        |open| open <= 1.0,
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test]
async fn past_max_connections_new_ones_wait_until_a_slot_frees() {
    let nats = NatsServer::start().await.expect("nats-server");
    let process = gateway(
        &nats,
        &["--max-connections", "20", "--header-timeout", "3s"],
    )
    .await;
    // Fill every slot with connections that send nothing.
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(
            TcpStream::connect(process.http_addr())
                .await
                .expect("connect"),
        );
    }
    // The next client is not turned away: it waits in the accept queue
    // and is served once the idle ones are cut off by the header timeout.
    let asked = Instant::now();
    let mut next = TcpStream::connect(process.http_addr())
        .await
        .expect("connect (the kernel queues it)");
    next.write_all(b"GET /health/live HTTP/1.1\r\nHost: next\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let answer = read_until_closed(&mut next, Duration::from_secs(30)).await;
    let waited = asked.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(
        waited >= Duration::from_secs(2),
        "answered after {waited:?}: served past the limit of 20 open connections"
    );
    drop(idle);
}

/// The body of a chunked HTTP/1.1 response.
fn dechunk(mut chunked: &str) -> String {
    let mut body = String::new();
    while let Some((size, rest)) = chunked.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        body.push_str(&rest[..size]);
        chunked = &rest[size + 2..];
    }
    body
}

/// Posts `body` to `path` and returns the status.
async fn post(addr: SocketAddr, path: &str, body: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(body).await.expect("body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("response");
    let response = String::from_utf8_lossy(&response);
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {response}"))
}

/// Stores `batches` batches of 50 events of about 16 KiB each in `session`.
async fn store_large_session(addr: SocketAddr, session: &str, batches: usize) {
    let padding = "x".repeat(16 * 1024);
    for batch in 0..batches {
        let events: Vec<String> = (0..50)
            .map(|i| {
                format!(
                    r#"{{"version":1,"event_id":"big-{batch}-{i}","source":"BalatroMCP","type":"GAME_STATE","payload":{{"padding":"{padding}"}},"timestamp":{}.5}}"#,
                    batch * 100 + i
                )
            })
            .collect();
        let body = format!(
            r#"{{"source":"BalatroMCP","events":[{}]}}"#,
            events.join(",")
        );
        let status = post(
            addr,
            &format!("/s/{session}/api/v1/events/batch"),
            body.as_bytes(),
        )
        .await;
        assert_eq!(status, 202, "batch {batch}");
    }
}

#[tokio::test]
async fn a_client_that_never_reads_a_large_replay_is_dropped_and_others_are_served() {
    let nats = NatsServer::start().await.expect("nats-server");
    let process = gateway(&nats, &["--write-timeout", "2s"]).await;
    // About 13 MiB of NDJSON: more than the kernel buffers between the two.
    store_large_session(process.http_addr(), "big", 16).await;

    let socket = TcpSocket::new_v4().expect("socket");
    // A small receive window, so the server's writes block sooner.
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let mut stuck = socket.connect(process.http_addr()).await.expect("connect");
    stuck
        .write_all(b"GET /api/v1/sessions/big/events HTTP/1.1\r\nHost: stuck\r\n\r\n")
        .await
        .expect("request");
    let asked = Instant::now();

    // Others are served while that response is stuck.
    let (status, _) = process.get("/api/v1/sessions").await.expect("answer");
    assert_eq!(status, 200);
    let (status, _) = process.get("/health/ready").await.expect("answer");
    assert_eq!(status, 200);

    // The write timeout drops the connection (and with it the replay).
    wait_for_metric(
        &process,
        "http_connections_closed_total",
        &["reason=\"write_timeout\"", "listener=\"http\""],
        |closed| closed >= 1.0,
        Duration::from_secs(60),
    )
    .await;
    let dropped_after = asked.elapsed();
    assert!(
        dropped_after >= Duration::from_secs(2),
        "dropped after {dropped_after:?}, before the 2 s write timeout"
    );
    let js = async_nats::jetstream::new(nats.connect().await);
    let stream = js.get_stream("GAME_EVENTS").await.expect("stream");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let names: Vec<String> = stream.consumer_names().try_collect().await.expect("names");
        if !names.iter().any(|name| name.starts_with("replay-")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the replay's consumer was not deleted: {names:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // What reached the client is a cut-off response.
    let (status, full) = http_get(process.http_addr(), "/api/v1/sessions/big/events")
        .await
        .expect("a reading client gets it all");
    assert_eq!(status, 200);
    let replay = dechunk(&full);
    assert_eq!(replay.lines().count(), 16 * 50, "the whole replay");
    let received = read_until_closed(&mut stuck, Duration::from_secs(30)).await;
    assert!(
        received.len() < full.len(),
        "{} bytes reached the stuck client, the whole replay is {}",
        received.len(),
        full.len()
    );
}
