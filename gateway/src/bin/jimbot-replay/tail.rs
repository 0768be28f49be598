//! `tail`: a session's events as they arrive, as NDJSON on stdout.

use std::io::Write as _;

use anyhow::Context as _;
use async_nats::jetstream;
use jimbot_gateway::replay::{EventReader, Query, Start, ndjson};
use jimbot_nats::Token;

use crate::Selection;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The session to follow (it need not exist yet).
    session: String,
    /// Start with every stored event instead of only new ones.
    #[arg(long, conflicts_with = "from_seq")]
    all: bool,
    #[command(flatten)]
    selection: Selection,
}

pub async fn run(js: &jetstream::Context, args: Args) -> anyhow::Result<()> {
    let session = Token::new(&args.session);
    let mut query =
        Query::session(&session, args.selection.types(), args.selection.range())?.follow();
    if !args.all && args.selection.from_seq.is_none() && args.selection.since.is_none() {
        query.start = Start::New;
    }
    let mut reader = EventReader::open(js, query).await?;
    let mut stdout = std::io::stdout().lock();
    loop {
        let message = tokio::select! {
            message = reader.next() => message,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(message) = message else {
            return Ok(());
        };
        let message = message?;
        match stdout
            .write_all(&ndjson::line_for(&message)?)
            .and_then(|()| stdout.flush())
        {
            Ok(()) => {}
            // The reader went away (`| head`): done, not failed.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(e).context("writing to stdout failed"),
        }
    }
}
