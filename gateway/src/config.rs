//! The gateway's own settings; flags with environment fallbacks.

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use jimbot_nats::TopologyOptions;

use crate::auth::{AuthArgs, AuthPolicy};

/// What the gateway's HTTP API accepts and how hard it pushes back.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayArgs {
    /// REST listen addresses, comma-separated. The mod polls
    /// `http://localhost:8080`, which may resolve to `::1` first, so both
    /// loopback addresses are served by default.
    #[arg(
        long,
        env = "GATEWAY_HTTP_ADDR",
        default_value = "127.0.0.1:8080,[::1]:8080",
        value_delimiter = ','
    )]
    pub http_addr: Vec<SocketAddr>,

    /// gRPC (`jimbot.v1.EventBus`, health, reflection) listen addresses,
    /// comma-separated.
    #[arg(
        long,
        env = "GATEWAY_GRPC_ADDR",
        default_value = "127.0.0.1:50051",
        value_delimiter = ','
    )]
    pub grpc_addr: Vec<SocketAddr>,

    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(
        long,
        env = "GATEWAY_BODY_LIMIT",
        default_value_t = 16 * 1024 * 1024,
        value_parser = clap::value_parser!(u32).range(1024..)
    )]
    pub body_limit: u32,

    /// Most events one batch request may carry; larger batches get 413. The
    /// mod sends at most 50 (its aggregator's hard-coded batch size).
    #[arg(
        long,
        env = "GATEWAY_MAX_BATCH_EVENTS",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_batch_events: u32,

    /// Requests handled at once; further ones get 429 at once (no queue).
    #[arg(
        long,
        env = "GATEWAY_MAX_IN_FLIGHT",
        default_value_t = 512,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_in_flight: u32,

    /// Replay and subscription streams open at once (HTTP and gRPC); further
    /// ones get 429 / RESOURCE_EXHAUSTED. Each holds a JetStream consumer.
    #[arg(
        long,
        env = "GATEWAY_MAX_STREAMS",
        default_value_t = 256,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_streams: u32,

    /// How long to wait for JetStream to acknowledge a request's events
    /// before answering 503 (the mod then re-sends them).
    #[arg(
        long,
        env = "GATEWAY_PUBLISH_TIMEOUT",
        default_value = "5s",
        value_parser = parse_duration
    )]
    pub publish_timeout: Duration,

    /// Publish each request's events as one JetStream atomic batch: one disk
    /// sync per request instead of one per event. Much faster against
    /// servers with `sync_interval: always` (production); slower with the
    /// default flush policy.
    #[arg(long, env = "GATEWAY_ATOMIC_BATCHES")]
    pub atomic_batches: bool,

    /// Requests per second allowed per session (a burst of the same size);
    /// unset: no per-session limit.
    #[arg(long, env = "GATEWAY_RATE_LIMIT")]
    pub rate_limit: Option<NonZeroU32>,

    /// API keys and the mod's client networks (see [`crate::auth`]).
    #[command(flatten)]
    pub auth: AuthArgs,
}

impl GatewayArgs {
    /// The settings the request handlers need, with the topology options the
    /// service was started with.
    pub fn settings(&self, topology: TopologyOptions) -> Settings {
        Settings {
            body_limit: self.body_limit as usize,
            max_batch_events: self.max_batch_events as usize,
            max_in_flight: self.max_in_flight as usize,
            max_streams: self.max_streams as usize,
            publish_timeout: self.publish_timeout,
            atomic_batches: self.atomic_batches,
            rate_limit: self.rate_limit.map(governor::Quota::per_second),
            topology,
            auth: self.auth.policy(),
        }
    }
}

/// The settings the request handlers need (see [`GatewayArgs`]).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// Most events in one batch request.
    pub max_batch_events: usize,
    /// Requests handled at once.
    pub max_in_flight: usize,
    /// Replay and subscription streams open at once.
    pub max_streams: usize,
    /// How long to wait for JetStream's acknowledgements.
    pub publish_timeout: Duration,
    /// Whether a request's events are published as one atomic batch.
    pub atomic_batches: bool,
    /// Requests allowed per session, if limited (polls are exempt).
    pub rate_limit: Option<governor::Quota>,
    /// The topology to re-provision when a stream has gone missing.
    pub topology: TopologyOptions,
    /// Who may call what; [`AuthPolicy::is_enabled`] says whether API keys
    /// are required.
    pub auth: AuthPolicy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            body_limit: 16 * 1024 * 1024,
            max_batch_events: 1000,
            max_in_flight: 512,
            max_streams: 256,
            publish_timeout: Duration::from_secs(5),
            atomic_batches: false,
            rate_limit: None,
            topology: TopologyOptions::default(),
            auth: AuthPolicy::default(),
        }
    }
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(raw).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}
