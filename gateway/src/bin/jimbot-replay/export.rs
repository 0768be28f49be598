//! `export`: a session's events to an NDJSON file (or stdout).

use std::{
    io::{BufWriter, Write},
    path::PathBuf,
    time::Instant,
};

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use jimbot_gateway::replay::{EventReader, Query, ndjson, sessions};
use jimbot_nats::Token;

use crate::Selection;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The session to export.
    session: String,
    #[command(flatten)]
    selection: Selection,
    /// Where to write; `-` for stdout.
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
}

pub async fn run(js: &jetstream::Context, args: Args) -> anyhow::Result<()> {
    let session = Token::new(&args.session);
    let query = Query::session(&session, args.selection.types(), args.selection.range())?;
    let Some(summary) = sessions::find(js, &session).await? else {
        bail!("no events of session {session} are stored");
    };
    let to_stdout = args.output.as_os_str() == "-";
    let sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        let file = std::fs::File::create(&args.output)
            .with_context(|| format!("cannot create {}", args.output.display()))?;
        Box::new(file)
    };
    let mut out = BufWriter::with_capacity(256 * 1024, sink);
    let progress = crate::publish::progress_bar(summary.events, "exporting");
    let started = Instant::now();
    let mut reader = EventReader::open(js, query).await?;
    let mut written = 0u64;
    while let Some(message) = reader.next().await {
        let message = message?;
        out.write_all(&ndjson::line_for(&message)?)
            .context("writing the export failed")?;
        written += 1;
        progress.inc(1);
    }
    out.flush().context("writing the export failed")?;
    progress.finish_and_clear();
    let destination = if to_stdout {
        "stdout".to_owned()
    } else {
        args.output.display().to_string()
    };
    eprintln!(
        "exported {written} events of session {session} to {destination} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
