//! Test harness: a real nats-server with the topology, the real gateway
//! router to publish the mod's JSON through, and the analytics consumer
//! running in-process over a database in a temporary directory.
#![allow(dead_code, reason = "each test file uses a different subset")]

pub mod game;
pub mod process;

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use async_nats::{Client, jetstream};
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use jimbot_analytics::{
    api::{self, ApiState},
    consumer::{self, ConsumerSettings, Processor, Progress},
    store::{self, Reader},
};
use jimbot_gateway::{AppState, app, config::Settings};
use jimbot_nats::{Topology, TopologyOptions, provision, testing::NatsServer};
use jimbot_service::Shutdown;
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;

/// How long a test waits for the consumer to catch up.
pub const DEADLINE: Duration = Duration::from_secs(30);

pub struct Harness {
    pub server: NatsServer,
    pub client: Client,
    pub js: jetstream::Context,
    pub gateway: Router,
    pub dir: TempDir,
}

impl Harness {
    pub async fn start() -> Self {
        let server = NatsServer::start().await.expect("nats-server");
        let client = server.connect().await;
        let js = jetstream::new(client.clone());
        provision(&js, &Topology::standard(&TopologyOptions::default()))
            .await
            .expect("provision");
        let gateway = app(AppState::new(
            client.clone(),
            Settings::default(),
            Shutdown::never(),
        ));
        Self {
            server,
            client,
            js,
            gateway,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("data").join("analytics.db")
    }

    /// Posts the mod's batch body for `session` through the gateway, and
    /// re-sends it after a 503 as the mod does (JetStream may still be
    /// coming back after a restart).
    pub async fn post_batch(&self, session: &str, events: &[Value]) {
        let body = json!({
            "batch_id": format!("batch-{}", events.len()),
            "events": events,
            "source": "BalatroMCP",
            "timestamp": 1_751_439_161_000_u64,
        })
        .to_string();
        let started = Instant::now();
        loop {
            let request = Request::post(format!("/s/{session}/api/v1/events/batch"))
                .header("content-type", "application/json")
                .body(Body::from(body.clone()))
                .expect("request");
            let response = self
                .gateway
                .clone()
                .oneshot(request)
                .await
                .expect("infallible");
            let status = response.status();
            let reply = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            if status == StatusCode::SERVICE_UNAVAILABLE && started.elapsed() < DEADLINE {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            assert_eq!(
                status,
                StatusCode::ACCEPTED,
                "{}",
                String::from_utf8_lossy(&reply)
            );
            return;
        }
    }

    /// The last sequence in `GAME_EVENTS`.
    pub async fn stream_last_seq(&self) -> u64 {
        let mut stream = self.js.get_stream("GAME_EVENTS").await.expect("stream");
        stream.info().await.expect("info").state.last_sequence
    }

    /// Starts the consumer over this harness's database.
    pub async fn start_consumer(&self) -> Consumer {
        let db = self.db();
        let (writer, reader) = tokio::task::spawn_blocking(move || store::open(&db))
            .await
            .expect("join")
            .expect("open db");
        let processor = tokio::task::spawn_blocking(move || Processor::load(writer))
            .await
            .expect("join")
            .expect("load");
        let progress = Arc::new(Progress::default());
        let settings = ConsumerSettings {
            batch_size: 50,
            batch_wait: Duration::from_millis(50),
        };
        let handle = tokio::spawn(consumer::consume(
            self.client.clone(),
            Shutdown::never(),
            processor,
            settings,
            progress.clone(),
        ));
        Consumer {
            handle,
            reader,
            progress,
        }
    }
}

pub struct Consumer {
    pub handle: tokio::task::JoinHandle<()>,
    pub reader: Reader,
    pub progress: Arc<Progress>,
}

impl Consumer {
    /// Waits until the database has applied `seq`.
    pub async fn wait_applied(&self, seq: u64) {
        let started = Instant::now();
        loop {
            let reader = self.reader.clone();
            let applied = tokio::task::spawn_blocking(move || reader.summary())
                .await
                .expect("join")
                .expect("summary")
                .last_applied_seq;
            if applied >= seq {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "applied {applied} of {seq} after {DEADLINE:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The query API over this consumer's database.
    pub fn api(&self) -> Router {
        api::router(ApiState::new(self.reader.clone(), self.progress.clone()))
    }

    /// Stops the consumer task where it is (no graceful drain).
    pub async fn abort(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }
}

/// Every table's rows as text, without the columns that depend on when the
/// test ran, for comparing two databases.
pub fn dump(db: &std::path::Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open");
    let queries = [
        "SELECT id, session, first_seq, last_seq, outcome, final_ante, final_round, max_ante,
             best_score, total_score, hands_used, discards_used, final_money, jokers, events
         FROM runs ORDER BY id",
        "SELECT * FROM rounds ORDER BY run_id, round",
        "SELECT run_id, seq, money FROM run_money ORDER BY run_id, seq",
        "SELECT * FROM run_jokers ORDER BY run_id, joker",
        "SELECT * FROM event_counts ORDER BY event_type",
        "SELECT seq, subject, reason FROM dead_letters ORDER BY seq",
        "SELECT * FROM consumer_progress",
    ];
    let mut out = Vec::new();
    for sql in queries {
        let mut statement = conn.prepare(sql).expect(sql);
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                let mut line = String::new();
                for i in 0..columns {
                    let value: rusqlite::types::Value = row.get(i)?;
                    line.push_str(&format!("{value:?}|"));
                }
                Ok(line)
            })
            .expect(sql);
        for row in rows {
            out.push(row.expect("row"));
        }
        out.push("--".to_owned());
    }
    out
}

/// Calls the API router.
pub async fn get(
    router: &Router,
    path: &str,
    accept: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let mut request = Request::get(path);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or_default().to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        content_type,
    )
}

pub async fn get_json(router: &Router, path: &str) -> (StatusCode, Value) {
    let (status, body, _) = get(router, path, None).await;
    let value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"));
    (status, value)
}

/// Asserts two dumps are equal, showing the first rows that differ.
pub fn assert_same(got: &[String], expected: &[String]) {
    if got == expected {
        return;
    }
    let at = got
        .iter()
        .zip(expected)
        .position(|(g, e)| g != e)
        .unwrap_or(got.len().min(expected.len()));
    panic!(
        "databases differ at row {at} ({} rows against {}):\n got:      {:?}\n expected: {:?}",
        got.len(),
        expected.len(),
        &got[at..(at + 3).min(got.len())],
        &expected[at..(at + 3).min(expected.len())]
    );
}
