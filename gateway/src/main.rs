//! `jimbot-gateway`: JimBot gateway: the BalatroMCP-compatible front door that publishes game events to NATS JetStream.
//!
//! This binary connects to NATS (waiting for it), provisions the JetStream
//! topology and serves health and metrics; its own API follows.

use std::net::SocketAddr;

use axum::Router;
use clap::Parser;
use jimbot_service::{CommonArgs, run::not_found, telemetry::Telemetry};

const SERVICE: &str = "jimbot-gateway";

/// JimBot gateway: the BalatroMCP-compatible front door that publishes game events to NATS JetStream.
#[derive(Debug, Parser)]
#[command(name = SERVICE, version, about)]
struct Config {
    /// REST listen address (BalatroMCP posts events here and polls for commands).
    #[arg(long, env = "GATEWAY_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    http_addr: SocketAddr,

    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = Telemetry::init(SERVICE, &config.common.telemetry)?;
    jimbot_service::run(SERVICE, config.http_addr, &config.common, |_nats| async {
        Router::new().fallback(not_found)
    })
    .await?;
    Ok(())
}
