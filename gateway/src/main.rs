//! `jimbot-gateway`: the BalatroMCP-compatible front door that publishes game
//! events to NATS JetStream and carries commands back to the game.

use clap::Parser;
use jimbot_gateway::{AppState, app, config::GatewayArgs, grpc};
use jimbot_service::{App, CommonArgs, Listen, telemetry::Telemetry};

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
        Listen {
            http: &config.gateway.http_addr,
            grpc: &config.gateway.grpc_addr,
        },
        &config.common,
        |started| async move {
            let state = AppState::new(started.nats, settings, started.shutdown);
            App::new(app(state.clone())).with_grpc(grpc::routes(state), &[grpc::SERVICE_NAME])
        },
    )
    .await?;
    Ok(())
}
