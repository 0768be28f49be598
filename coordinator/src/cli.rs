//! The coordinator's flags, with environment fallbacks.

use std::{net::SocketAddr, path::PathBuf};

use jimbot_service::CommonArgs;

/// JimBot resource coordinator: leases for GPU time, memory and the Claude API quota.
#[derive(Debug, clap::Parser)]
#[command(name = "jimbot-coordinator", version, about)]
pub struct Cli {
    /// HTTP listen addresses, comma-separated (health and metrics).
    #[arg(
        long,
        env = "COORDINATOR_HTTP_ADDR",
        default_value = "127.0.0.1:8082",
        value_delimiter = ','
    )]
    pub http_addr: Vec<SocketAddr>,

    /// gRPC listen addresses, comma-separated (ResourceCoordinator, health,
    /// reflection).
    #[arg(
        long,
        env = "COORDINATOR_GRPC_ADDR",
        default_value = "127.0.0.1:50052",
        value_delimiter = ','
    )]
    pub grpc_addr: Vec<SocketAddr>,

    /// Resource configuration file (TOML); the documented defaults when unset.
    #[arg(long, env = "COORDINATOR_CONFIG")]
    pub config: Option<PathBuf>,

    /// API keys the gRPC `ResourceCoordinator` requires (none: open).
    #[command(flatten)]
    pub auth: jimbot_service::auth::KeyArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}
