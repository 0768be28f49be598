//! `publish`: events from an export or a stored session into a session, at
//! the original pacing times a speed factor, each stored at most once.

use std::{
    io::BufRead as _,
    path::PathBuf,
    time::{Duration, Instant, SystemTime},
};

use anyhow::{Context as _, bail};
use async_nats::{Client, jetstream};
use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use jimbot_gateway::{
    ingest::{
        build::{Item, Outgoing, RequestContext, event_message},
        publish::publish_all,
    },
    replay::{EventReader, Query, ndjson, sessions},
    session::Session,
};
use jimbot_nats::Token;
use jimbot_schemas::balatro::parse_single_bytes;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::Selection;

/// Events published together when nothing makes them wait.
const CHUNK: usize = 256;
/// How long to wait for JetStream's acknowledgements of one chunk.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Publish into this session.
    #[arg(long)]
    to_session: String,
    /// An NDJSON export to publish (`-` for stdin).
    #[arg(
        long,
        conflicts_with = "from_session",
        required_unless_present = "from_session"
    )]
    file: Option<PathBuf>,
    /// A stored session to publish.
    #[arg(long)]
    from_session: Option<String>,
    #[command(flatten)]
    selection: Selection,
    /// Pacing: `1` replays at the original speed, `10` ten times faster,
    /// `max` without waiting.
    #[arg(long, default_value = "max", value_parser = parse_speed)]
    speed: Speed,
}

/// How fast to replay.
#[derive(Debug, Clone, Copy)]
enum Speed {
    Factor(f64),
    Max,
}

fn parse_speed(raw: &str) -> Result<Speed, String> {
    if raw.eq_ignore_ascii_case("max") {
        return Ok(Speed::Max);
    }
    match raw.parse::<f64>() {
        Ok(factor) if factor.is_finite() && factor > 0.0 => Ok(Speed::Factor(factor)),
        _ => Err("must be a positive number or `max`".to_owned()),
    }
}

/// One event to publish: where it came from and its bytes.
struct Source {
    /// Line number or stream sequence, for messages.
    origin: String,
    received_at: OffsetDateTime,
    event: Bytes,
}

pub async fn run(client: &Client, js: &jetstream::Context, args: Args) -> anyhow::Result<()> {
    let target = Session(Token::new(&args.to_session));
    let (tx, mut rx) = mpsc::channel::<anyhow::Result<Source>>(CHUNK * 4);
    let total = match (&args.file, &args.from_session) {
        (Some(_), _) if !args.selection.is_empty() => {
            bail!(
                "--from-seq, --to-seq, --since, --until and --types select from --from-session; export the range you want instead"
            )
        }
        (Some(path), _) => {
            let lines = count_lines(path)?;
            let path = path.clone();
            tokio::task::spawn_blocking(move || read_file(&path, &tx));
            lines
        }
        (None, Some(session)) => {
            let session = Token::new(session);
            let Some(summary) = sessions::find(js, &session).await? else {
                bail!("no events of session {session} are stored");
            };
            let query = Query::session(&session, args.selection.types(), args.selection.range())?;
            let reader = EventReader::open(js, query).await?;
            tokio::spawn(read_session(reader, tx));
            summary.events
        }
        (None, None) => bail!("give --file or --from-session"),
    };

    let progress = progress_bar(total, "publishing");
    let started = Instant::now();
    let mut counts = Counts::default();
    let mut pacing: Option<(OffsetDateTime, Instant)> = None;
    let mut chunk = Vec::with_capacity(CHUNK);
    let max_payload = client.server_info().max_payload;
    while let Some(source) = rx.recv().await {
        let source = source?;
        if let Speed::Factor(factor) = args.speed {
            let (first, start) = *pacing.get_or_insert((source.received_at, Instant::now()));
            let offset = (source.received_at - first).as_seconds_f64().max(0.0) / factor;
            let due = start + Duration::from_secs_f64(offset);
            if due > Instant::now() {
                counts.add(publish(js, std::mem::take(&mut chunk)).await?);
                tokio::time::sleep_until(due.into()).await;
            }
        }
        let context = RequestContext {
            session: target.clone(),
            path: "jimbot-replay".to_owned(),
            content_type: None,
            received_at: SystemTime::now().into(),
            trace: Vec::new(),
            max_payload,
        };
        match parse_single_bytes(source.event) {
            Ok(parsed) => match parsed.result {
                Ok(event) => chunk.push(event_message(&context, 0, event)),
                Err(e) => counts.invalid(&source.origin, &e.to_string()),
            },
            Err(e) => counts.invalid(&source.origin, &e.to_string()),
        }
        if chunk.len() == CHUNK {
            counts.add(publish(js, std::mem::take(&mut chunk)).await?);
        }
        progress.inc(1);
    }
    counts.add(publish(js, chunk).await?);
    progress.finish_and_clear();
    eprintln!(
        "published {} events into session {} in {:.1} s: {} stored, {} duplicates, {} invalid",
        counts.stored + counts.duplicates + counts.invalid,
        target.token(),
        started.elapsed().as_secs_f64(),
        counts.stored,
        counts.duplicates,
        counts.invalid,
    );
    Ok(())
}

#[derive(Debug, Default)]
struct Counts {
    stored: u64,
    duplicates: u64,
    invalid: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.stored += other.stored;
        self.duplicates += other.duplicates;
    }

    fn invalid(&mut self, origin: &str, why: &str) {
        eprintln!("jimbot-replay: {origin}: not published: {why}");
        self.invalid += 1;
    }
}

/// Publishes a chunk and waits for every acknowledgement.
async fn publish(js: &jetstream::Context, chunk: Vec<Outgoing>) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    if chunk.is_empty() {
        return Ok(counts);
    }
    for (item, ack) in publish_all(js, chunk, ACK_TIMEOUT).await? {
        if let Item::Event { .. } = item {
            if ack.duplicate {
                counts.duplicates += 1;
            } else {
                counts.stored += 1;
            }
        }
    }
    Ok(counts)
}

fn count_lines(path: &PathBuf) -> anyhow::Result<u64> {
    if path.as_os_str() == "-" {
        return Ok(0);
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = 0;
    for line in std::io::BufReader::new(file).split(b'\n') {
        line.with_context(|| format!("cannot read {}", path.display()))?;
        lines += 1;
    }
    Ok(lines)
}

/// Sends each line of the export (blocking I/O, on its own thread).
fn read_file(path: &PathBuf, tx: &mpsc::Sender<anyhow::Result<Source>>) {
    let input: Box<dyn std::io::Read> = if path.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        match std::fs::File::open(path) {
            Ok(file) => Box::new(file),
            Err(e) => {
                let _ =
                    tx.blocking_send(Err(anyhow::anyhow!("cannot read {}: {e}", path.display())));
                return;
            }
        }
    };
    for (index, line) in std::io::BufReader::new(input).split(b'\n').enumerate() {
        let origin = format!("{}:{}", path.display(), index + 1);
        let source = line
            .with_context(|| format!("cannot read {origin}"))
            .and_then(|line| {
                let parsed = ndjson::parse_line(&line).with_context(|| origin.clone())?;
                Ok(Source {
                    origin,
                    received_at: parsed.received_at,
                    event: parsed.event,
                })
            });
        let failed = source.is_err();
        if tx.blocking_send(source).is_err() || failed {
            return;
        }
    }
}

async fn read_session(mut reader: EventReader, tx: mpsc::Sender<anyhow::Result<Source>>) {
    while let Some(message) = reader.next().await {
        let source = message
            .and_then(|m| {
                let event = m.decode()?;
                Ok(Source {
                    origin: format!("sequence {}", m.sequence),
                    received_at: ndjson::received_at(&m, &event),
                    event: ndjson::original(&event),
                })
            })
            .map_err(anyhow::Error::from);
        let failed = source.is_err();
        if tx.send(source).await.is_err() || failed {
            return;
        }
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress_bar(total: u64, what: &'static str) -> ProgressBar {
    let bar = if total == 0 {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} events, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what);
    bar
}
