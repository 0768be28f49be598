//! `jimbot-gateway`: the BalatroMCP-compatible front door that publishes game
//! events to NATS JetStream and carries commands back to the game.

use clap::Parser;
use jimbot_gateway::{AppState, app, config::GatewayArgs};
use jimbot_service::{CommonArgs, Listen, telemetry::Telemetry};

const SERVICE: &str = "jimbot-gateway";

/// JimBot gateway: the BalatroMCP-compatible front door that publishes game
/// events to NATS JetStream.
#[derive(Debug, Parser)]
#[command(name = SERVICE, version, about)]
struct Config {
    #[command(flatten)]
    gateway: GatewayArgs,

    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = Telemetry::init(SERVICE, &config.common.telemetry)?;
    let topology = config
        .common
        .topology
        .options()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let settings = config.gateway.settings(topology);
    jimbot_service::run(
        SERVICE,
        Listen::http(&config.gateway.http_addr),
        &config.common,
        |started| async move { app(AppState::new(started.nats, settings)) },
    )
    .await?;
    Ok(())
}
