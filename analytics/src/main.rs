//! `jimbot-analytics`: turns game events into runs, statistics and metrics.

use std::sync::Arc;

use clap::Parser;
use jimbot_analytics::{
    api::{self, ApiState},
    config::AnalyticsArgs,
    consumer::{self, Processor, Progress},
    store,
};
use jimbot_service::{App, CommonArgs, Listen, run::not_found, telemetry::Telemetry};

const SERVICE: &str = "jimbot-analytics";

/// JimBot analytics: turns game events into runs, statistics and metrics.
#[derive(Debug, Parser)]
#[command(name = SERVICE, version, about)]
struct Config {
    #[command(flatten)]
    analytics: AnalyticsArgs,

    #[command(flatten)]
    common: CommonArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let _telemetry = Telemetry::init(SERVICE, &config.common.telemetry)?;
    // Settings first, then the database: either fails fast, before NATS,
    // and an invalid setting leaves no database behind.
    config
        .common
        .topology
        .options()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let db = config.analytics.db.clone();
    let (writer, reader) = tokio::task::spawn_blocking(move || store::open(&db)).await??;
    let processor = tokio::task::spawn_blocking(move || Processor::load(writer)).await??;
    tracing::info!(db = %config.analytics.db.display(), last_applied_seq = processor.last_seq().0, "database open");
    let progress = Arc::new(Progress::default());
    let settings = config.analytics.consumer();
    jimbot_service::run(
        SERVICE,
        Listen::http(&config.analytics.http_addr),
        &config.common,
        |started| async move {
            jimbot_analytics::metrics::describe();
            let router = api::router(ApiState::new(reader, progress.clone())).fallback(not_found);
            App::new(router).with_task(
                "consumer",
                consumer::consume(
                    started.nats,
                    started.shutdown,
                    processor,
                    settings,
                    progress,
                ),
            )
        },
    )
    .await?;
    Ok(())
}
