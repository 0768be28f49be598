//! The service's own settings: flags with environment fallbacks.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use crate::consumer::ConsumerSettings;

/// Where analytics listens and stores, and how it consumes.
#[derive(Debug, Clone, clap::Args)]
pub struct AnalyticsArgs {
    /// HTTP listen addresses, comma-separated (query API, health and metrics).
    #[arg(
        long,
        env = "ANALYTICS_HTTP_ADDR",
        default_value = "127.0.0.1:8081",
        value_delimiter = ','
    )]
    pub http_addr: Vec<SocketAddr>,

    /// The SQLite database (created, and migrated, at start).
    #[arg(long, env = "ANALYTICS_DB", default_value = "./data/analytics.db")]
    pub db: PathBuf,

    /// Most messages fetched, applied and committed together. Keep it at or
    /// below the consumer's max_ack_pending (10000).
    #[arg(
        long,
        env = "ANALYTICS_BATCH_SIZE",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u32).range(1..=10_000)
    )]
    pub batch_size: u32,

    /// Longest wait for a batch to fill (e.g. `100ms`); bounds the lag at
    /// low traffic.
    #[arg(
        long,
        env = "ANALYTICS_BATCH_WAIT",
        default_value = "100ms",
        value_parser = parse_wait
    )]
    pub batch_wait: Duration,
}

impl AnalyticsArgs {
    /// The consumer's settings.
    pub fn consumer(&self) -> ConsumerSettings {
        ConsumerSettings {
            batch_size: self.batch_size as usize,
            batch_wait: self.batch_wait,
        }
    }
}

/// A batch wait: from 10 ms (JetStream refuses shorter pull expiries) to 30 s.
fn parse_wait(raw: &str) -> Result<Duration, String> {
    let wait = humantime::parse_duration(raw).map_err(|e| e.to_string())?;
    if !(Duration::from_millis(10)..=Duration::from_secs(30)).contains(&wait) {
        return Err("must be from 10ms to 30s".to_owned());
    }
    Ok(wait)
}
