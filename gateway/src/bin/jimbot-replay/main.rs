//! `jimbot-replay`: export, re-publish and follow game sessions stored in
//! `GAME_EVENTS`, straight over NATS.

mod export;
mod publish;
mod tail;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use jimbot_gateway::replay::{Range, TypeFilter, query::QueryError};
use jimbot_nats::NatsArgs;
use time::OffsetDateTime;

/// Export, re-publish and follow JimBot game sessions.
#[derive(Debug, Parser)]
#[command(
    name = "jimbot-replay",
    version,
    about = "Export, re-publish and follow JimBot game sessions stored in NATS JetStream"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    #[command(flatten)]
    nats: NatsArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a session's events (or a range of them) as NDJSON, one event per
    /// line as the mod sent it, with its sequence and receive time.
    Export(export::Args),
    /// Publish an NDJSON export, or a stored session, into a session, at the
    /// original pacing times a speed factor. Events already there (same id
    /// and timestamp, within the stream's dedup window) are not stored twice.
    Publish(publish::Args),
    /// Print a session's events as NDJSON as they arrive, until Ctrl-C.
    Tail(tail::Args),
}

/// Which events of a session; shared by the subcommands.
#[derive(Debug, Clone, clap::Args)]
struct Selection {
    /// First stream sequence (inclusive).
    #[arg(long)]
    from_seq: Option<u64>,
    /// Last stream sequence (inclusive).
    #[arg(long)]
    to_seq: Option<u64>,
    /// Only events stored at or after this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    since: Option<OffsetDateTime>,
    /// Only events stored at or before this time (RFC 3339).
    #[arg(long, value_parser = parse_time)]
    until: Option<OffsetDateTime>,
    /// Only these event types, comma-separated (e.g. GAME_STATE,HAND_PLAYED).
    #[arg(long, value_parser = parse_types)]
    types: Option<TypeList>,
}

/// A parsed `--types` list (one flag value, so clap keeps it whole).
#[derive(Debug, Clone)]
struct TypeList(Vec<TypeFilter>);

impl Selection {
    fn is_empty(&self) -> bool {
        self.from_seq.is_none()
            && self.to_seq.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && self.types.is_none()
    }

    fn range(&self) -> Range {
        Range {
            from_sequence: self.from_seq,
            to_sequence: self.to_seq,
            since: self.since,
            until: self.until,
        }
    }

    fn types(&self) -> &[TypeFilter] {
        self.types.as_ref().map_or(&[], |list| &list.0)
    }
}

fn parse_time(raw: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time (2026-11-27T10:00:00Z): {e}"))
}

fn parse_types(raw: &str) -> Result<TypeList, String> {
    TypeFilter::parse_list(raw)
        .map(TypeList)
        .map_err(|e: QueryError| e.message)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let outcome = async {
        let client = jimbot_nats::connect(&cli.nats, "jimbot-replay").await?;
        let js = async_nats::jetstream::new(client.clone());
        let result = match cli.command {
            Command::Export(args) => export::run(&js, args).await,
            Command::Publish(args) => publish::run(&client, &js, args).await,
            Command::Tail(args) => tail::run(&js, args).await,
        };
        // Whatever was published must leave before the process does.
        let _ = client.flush().await;
        result
    }
    .await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jimbot-replay: {e:#}");
            ExitCode::FAILURE
        }
    }
}
