//! `jimbot-coordinator`: JimBot resource coordinator: leases for GPU time, memory and the Claude API quota.
//!
//! This binary connects to NATS (waiting for it), provisions the JetStream
//! topology and serves health and metrics; its own API follows.

use std::net::SocketAddr;

use axum::Router;
use clap::Parser;
use jimbot_service::{CommonArgs, Listen, run::not_found, telemetry::Telemetry};

const SERVICE: &str = "jimbot-coordinator";

/// JimBot resource coordinator: leases for GPU time, memory and the Claude API quota.
#[derive(Debug, Parser)]
#[command(name = SERVICE, version, about)]
struct Config {
    /// HTTP listen addresses, comma-separated (health and metrics).
    #[arg(
        long,
        env = "COORDINATOR_HTTP_ADDR",
        default_value = "127.0.0.1:8082",
        value_delimiter = ','
    )]
    http_addr: Vec<SocketAddr>,

    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = Telemetry::init(SERVICE, &config.common.telemetry)?;
    jimbot_service::run(
        SERVICE,
        Listen::http(&config.http_addr),
        &config.common,
        |_started| async { Router::new().fallback(not_found) },
    )
    .await?;
    Ok(())
}
