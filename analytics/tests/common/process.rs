//! The analytics binary as a real process over a [`Harness`]'s NATS and
//! database, and the workload published straight to JetStream for it.

use std::{
    net::SocketAddr,
    process::Stdio,
    time::{Duration, Instant},
};

use futures::future::try_join_all;
use jimbot_analytics::workload::Workload;
use jimbot_service::testing::http_get;
use serde_json::Value;
use tokio::process::{Child, Command};

use super::{DEADLINE, Harness};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-analytics");

/// Publishes events `from..to` of `workload` straight to JetStream, as the
/// gateway stores them, awaiting the acks every 1,000 (the client bounds the
/// acks in flight).
pub async fn publish(harness: &Harness, workload: &mut Workload, from: usize, to: usize) {
    let mut acks = Vec::with_capacity(1000);
    for i in from..to {
        let at = 1_767_225_600_000 + i64::try_from(i).expect("small");
        let m = workload.next_message(at);
        acks.push(
            harness
                .js
                .publish_with_headers(m.subject, m.headers, m.payload)
                .await
                .expect("publish"),
        );
        if acks.len() == 1000 || i + 1 == to {
            try_join_all(acks.drain(..).map(IntoFuture::into_future))
                .await
                .expect("acks");
        }
    }
}

/// The analytics binary, killed when dropped.
pub struct Analytics {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Analytics {
    pub fn spawn(harness: &Harness) -> Self {
        let port = jimbot_nats::testing::free_port().expect("free port");
        let child = Command::new(BINARY)
            .args([
                "--http-addr",
                &format!("127.0.0.1:{port}"),
                "--nats-url",
                &harness.server.url(),
            ])
            .arg("--db")
            .arg(harness.db())
            .args(["--batch-size", "100"])
            .env("RUST_LOG", "warn")
            .env("LOG_FORMAT", "text")
            .env_remove("ANALYTICS_DB")
            .env_remove("ANALYTICS_BATCH_SIZE")
            .env_remove("ANALYTICS_BATCH_WAIT")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn jimbot-analytics");
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// The summary's `last_applied_seq`, once the API answers.
    pub async fn applied(&self) -> Option<u64> {
        let (status, body) = http_get(self.addr, "/api/v1/analytics/summary").await?;
        (status == 200).then_some(())?;
        serde_json::from_str::<Value>(&body).ok()?["last_applied_seq"].as_u64()
    }

    /// Waits until the summary says `at_least` events are applied.
    pub async fn wait_applied(&self, at_least: u64) -> u64 {
        let started = Instant::now();
        loop {
            if let Some(applied) = self.applied().await
                && applied >= at_least
            {
                return applied;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "not {at_least} applied after {DEADLINE:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Waits until `/health/ready` answers `status`.
    pub async fn wait_ready(&self, status: u16, what: &str) {
        let started = Instant::now();
        loop {
            if let Some((got, _)) = http_get(self.addr, "/health/ready").await
                && got == status
            {
                return;
            }
            assert!(started.elapsed() < DEADLINE, "{what} after {DEADLINE:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
