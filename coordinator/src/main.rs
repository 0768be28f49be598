//! `jimbot-coordinator`: leases on the machine's scarce resources, over gRPC
//! (`:50052`) and NATS, surviving restarts.

use clap::Parser;
use jimbot_coordinator::{app, cli::Cli, config::ResourcesConfig};
use jimbot_service::{Listen, telemetry::Telemetry};

const SERVICE: &str = "jimbot-coordinator";

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = Telemetry::init(SERVICE, &cli.common.telemetry)?;
    let resources = match &cli.config {
        Some(path) => ResourcesConfig::load(path)
            .map_err(|e| anyhow::anyhow!("invalid configuration (--config): {e}"))?,
        None => ResourcesConfig::default(),
    };
    let keys = cli.auth.keys();
    jimbot_service::auth::describe_metrics();
    if keys.is_enabled() {
        tracing::info!(keys = ?keys.names().collect::<Vec<_>>(), "gRPC API keys required");
    }
    jimbot_service::run(
        SERVICE,
        Listen {
            http: &cli.http_addr,
            grpc: &cli.grpc_addr,
        },
        &cli.common,
        |started| app::build_with_keys(started, resources, keys),
    )
    .await?;
    Ok(())
}
