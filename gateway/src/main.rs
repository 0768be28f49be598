//! `jimbot-gateway`: the BalatroMCP-compatible front door that publishes game
//! events to NATS JetStream and carries commands back to the game.

use clap::Parser;
use jimbot_gateway::{AppState, app, bind::BindArgs, config::GatewayArgs, grpc};
use jimbot_service::{App, CommonArgs, Listen, telemetry::Telemetry};

const SERVICE: &str = "jimbot-gateway";

// jemalloc, not glibc's malloc: under load glibc's spent a fifth of the
// gateway's CPU, partly waiting on arena locks when a buffer allocated on one
// worker thread is freed on another (measured: a fifth less CPU per event, and
// a third off the p99 of 50-event batches at half the maximum load). Its
// options are built in from `.cargo/config.toml`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// JimBot gateway: the BalatroMCP-compatible front door that publishes game
/// events to NATS JetStream.
#[derive(Debug, Parser)]
#[command(name = SERVICE, version, about)]
struct Config {
    #[command(flatten)]
    gateway: GatewayArgs,

    #[command(flatten)]
    common: CommonArgs,

    #[command(flatten)]
    bind: BindArgs,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Prints the SHA-256 hash of the API key read from standard input (one
    /// trailing line break is not part of the key): the form
    /// `--api-keys-file` and `--api-key-hashes` take.
    HashKey,
}

/// `hash-key`: the key never leaves this process; only its hash is printed.
fn hash_key_command() -> anyhow::Result<()> {
    use std::io::{IsTerminal as _, Read as _};
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("type the key, then Enter and Ctrl-D:");
    }
    let mut key = Vec::new();
    stdin.read_to_end(&mut key)?;
    println!("{}", jimbot_service::auth::hash_key_input(&key)?);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    if let Some(Command::HashKey) = config.command {
        return hash_key_command();
    }
    let _telemetry = Telemetry::init(SERVICE, &config.common.telemetry)?;
    let topology = config
        .common
        .topology
        .options()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
    let settings = config.gateway.settings(topology);
    // Before anything is bound: other machines never get an open port.
    config.bind.check(
        &config.gateway.http_addr,
        &config.gateway.grpc_addr,
        settings.auth.is_enabled(),
    )?;
    jimbot_service::auth::describe_metrics();
    settings.auth.log();
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
