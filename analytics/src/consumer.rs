//! The durable pull consumer `analytics` on `GAME_EVENTS`: fetch a batch,
//! decode it, dead-letter what cannot be used, apply the rest and commit it
//! with its last sequence in one transaction, then acknowledge.
//!
//! Exactly-once effect: a message at or below the committed sequence is
//! acknowledged without being applied again. No message is skipped: a
//! failed batch is handed back (`Nak`) in order, and a message that arrives
//! while older ones are still pending elsewhere (delivered to a process that
//! died) makes the consumer read those from the stream first.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use async_nats::{
    Client, HeaderMap,
    header::NATS_MESSAGE_ID,
    jetstream::{self, AckKind, consumer::PullConsumer, message::Acker},
};
use futures::{StreamExt as _, future::join_all};
use jimbot_nats::{
    Token, subject,
    topology::{consumers, streams},
};
use jimbot_service::Shutdown;
use tracing::Instrument as _;

use crate::{
    decode::{Decoded, Delivery, Poison, decode},
    domain::Outcome,
    domain::StreamSeq,
    metrics,
    runs::Tracker,
    store::{BatchWrite, DeadLetterRow, FinishedStats, StoreError, StoreErrorKind, Writer},
    trace,
};

/// Headers of a message dead-lettered by analytics (besides the gateway's
/// `Jimbot-Reason` and `Jimbot-Detail`).
pub mod dead_letter_headers {
    /// Why.
    pub const REASON: &str = "Jimbot-Reason";
    /// The decoder's message.
    pub const DETAIL: &str = "Jimbot-Detail";
    /// The message's subject in `GAME_EVENTS`.
    pub const SUBJECT: &str = "Jimbot-Subject";
    /// The message's sequence in `GAME_EVENTS`.
    pub const SEQUENCE: &str = "Jimbot-Stream-Sequence";
}

/// How the consumer fetches.
#[derive(Debug, Clone, Copy)]
pub struct ConsumerSettings {
    /// Most messages per batch (and per transaction).
    pub batch_size: usize,
    /// Longest wait for a batch to fill before taking what came.
    pub batch_wait: Duration,
}

/// Where the consumer is, for the summary endpoint.
#[derive(Debug, Default)]
pub struct Progress {
    pending: AtomicU64,
    lag_ms: AtomicU64,
    last_seq: AtomicU64,
}

impl Progress {
    /// Messages not yet delivered to the consumer, as of the last batch.
    pub fn pending(&self) -> u64 {
        self.pending.load(Ordering::Relaxed)
    }

    /// Age of the last applied message when it was applied.
    pub fn lag(&self) -> Duration {
        Duration::from_millis(self.lag_ms.load(Ordering::Relaxed))
    }

    /// The last applied sequence.
    pub fn last_seq(&self) -> u64 {
        self.last_seq.load(Ordering::Relaxed)
    }

    fn set(&self, pending: u64, lag: Duration, last_seq: StreamSeq) {
        self.pending.store(pending, Ordering::Relaxed);
        self.lag_ms.store(
            u64::try_from(lag.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.last_seq.store(last_seq.0, Ordering::Relaxed);
        metrics::gauges(pending, lag, last_seq.0);
    }
}

/// Why a batch could not be finished (it is handed back and retried).
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// The consumer could not be reached or fetched from.
    #[error("fetching from the analytics consumer failed: {0}")]
    Fetch(String),
    /// A dead letter could not be stored.
    #[error("dead-lettering failed: {0}")]
    DeadLetter(String),
    /// The database refused the batch.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The applied state: the database writer and what it holds.
#[derive(Debug)]
pub struct Processor {
    writer: Writer,
    tracker: Tracker,
    last_seq: StreamSeq,
    finished: FinishedStats,
    /// Sum of the final antes of finished runs (for the mean).
    ante_sum: f64,
}

impl Processor {
    /// Loads the stored state (blocking).
    pub fn load(writer: Writer) -> Result<Self, StoreError> {
        let stored = writer.load()?;
        let finished = writer.finished_stats()?;
        #[allow(clippy::cast_precision_loss, reason = "run counts are far below 2^52")]
        let ante_sum = finished.mean_final_ante.unwrap_or(0.0) * finished.finished as f64;
        let processor = Self {
            tracker: Tracker::new(stored.sessions, stored.next_run),
            last_seq: stored.last_seq,
            writer,
            finished,
            ante_sum,
        };
        metrics::finished(processor.finished, processor.tracker.open_runs());
        Ok(processor)
    }

    /// The last applied sequence.
    pub fn last_seq(&self) -> StreamSeq {
        self.last_seq
    }

    /// Applies decoded messages (in sequence order, all above `last_seq`)
    /// and commits them in one transaction (blocking).
    pub fn apply(&mut self, decoded: &[Decoded]) -> Result<Applied, StoreError> {
        let mut ledger = self.tracker.begin();
        let mut counts = BTreeMap::new();
        let mut dead = Vec::new();
        let mut last_seq = self.last_seq;
        for item in decoded {
            match item {
                Decoded::Event(o) => {
                    self.tracker.apply(&mut ledger, o);
                    *counts.entry(o.event_type).or_insert(0u64) += 1;
                    last_seq = last_seq.max(o.seq);
                }
                Decoded::Poison(p) => {
                    dead.push(DeadLetterRow {
                        seq: p.seq,
                        subject: p.subject.clone(),
                        reason: p.reason.as_str(),
                        detail: p.detail.clone(),
                        at_ms: p.stored_at_ms,
                    });
                    last_seq = last_seq.max(p.seq);
                }
            }
        }
        let batch = BatchWrite {
            ledger,
            counts,
            dead,
            last_seq,
        };
        self.writer.commit(&batch)?;
        let finished: Vec<_> = batch.ledger.closed.iter().map(|r| r.outcome).collect();
        let applied = Applied {
            started: batch.ledger.started,
            stale: batch.ledger.stale,
            finished,
            counts: batch.counts,
        };
        for run in &batch.ledger.closed {
            self.finished.finished += 1;
            self.finished.won += u64::from(run.outcome == Outcome::Won);
            #[allow(clippy::cast_precision_loss, reason = "antes are small")]
            {
                self.ante_sum += run.final_ante as f64;
            }
        }
        self.tracker.commit(batch.ledger);
        self.last_seq = last_seq;
        if !applied.finished.is_empty() || applied.started > 0 {
            #[allow(clippy::cast_precision_loss, reason = "run counts are far below 2^52")]
            let mean =
                (self.finished.finished > 0).then(|| self.ante_sum / self.finished.finished as f64);
            self.finished.mean_final_ante = mean;
            metrics::finished(self.finished, self.tracker.open_runs());
        }
        Ok(applied)
    }
}

/// What a committed batch did, for the metrics.
#[derive(Debug, Default)]
pub struct Applied {
    /// Runs started.
    pub started: u64,
    /// Stale states ignored.
    pub stale: u64,
    /// Outcomes of the runs that ended.
    pub finished: Vec<Outcome>,
    /// Events by type.
    pub counts: BTreeMap<&'static str, u64>,
}

/// Runs the consumer until `shutdown` fires, retrying (with backoff) after
/// any failure; the failed batch is redelivered.
pub async fn consume(
    client: Client,
    shutdown: Shutdown,
    processor: Processor,
    settings: ConsumerSettings,
    progress: Arc<Progress>,
) {
    let processor = Arc::new(Mutex::new(processor));
    let mut delay = Duration::from_millis(100);
    loop {
        match pump(&client, &shutdown, &processor, settings, &progress).await {
            Ok(()) => return,
            Err(e) => {
                ::metrics::counter!(metrics::BATCH_FAILURES).increment(1);
                tracing::warn!(error = %e, retry_in = ?delay, "analytics batch failed; it will be redelivered");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = shutdown.requested() => return,
                }
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// One fetched message, split into what is decoded and what acknowledges it.
struct Fetched {
    delivery: Delivery,
    acker: Acker,
    pending: u64,
}

async fn pump(
    client: &Client,
    shutdown: &Shutdown,
    processor: &Arc<Mutex<Processor>>,
    settings: ConsumerSettings,
    progress: &Progress,
) -> Result<(), ConsumeError> {
    let js = jetstream::new(client.clone());
    let consumer: PullConsumer = js
        .get_consumer_from_stream(consumers::ANALYTICS, streams::GAME_EVENTS)
        .await
        .map_err(|e| ConsumeError::Fetch(e.to_string()))?;
    // Continuous pulls: while one batch is applied, the next arrives. Should
    // a batch fail, it is handed back and this stream dropped; whatever it
    // had buffered is read again from the stream as a gap (see `handle`).
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(settings.batch_size * 2)
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await
        .map_err(|e| ConsumeError::Fetch(e.to_string()))?;
    loop {
        let (fetched, fetch_error) =
            next_batch(&mut messages, shutdown, settings, processor, progress).await;
        if !fetched.is_empty() {
            let span = tracing::info_span!("analytics.batch", messages = fetched.len());
            let message_spans = trace::message_spans(
                &span,
                fetched.iter().filter_map(|f| f.delivery.headers.as_ref()),
            );
            handle(&js, processor, fetched, progress)
                .instrument(span)
                .await?;
            drop(message_spans);
        }
        if let Some(e) = fetch_error {
            return Err(e);
        }
        if shutdown.is_requested() {
            return Ok(());
        }
    }
}

/// Hands messages back for immediate redelivery, in order.
async fn nak_all(fetched: &[Fetched]) {
    acknowledge(fetched.iter().map(|f| (&f.acker, AckKind::Nak(None)))).await;
}

/// The next batch: waits for a first message (reporting an idle consumer
/// as caught up meanwhile), then takes what follows until the batch is full
/// or `batch_wait` has passed. On shutdown, returns what has come so far.
async fn next_batch(
    messages: &mut async_nats::jetstream::consumer::pull::Stream,
    shutdown: &Shutdown,
    settings: ConsumerSettings,
    processor: &Arc<Mutex<Processor>>,
    progress: &Progress,
) -> (Vec<Fetched>, Option<ConsumeError>) {
    const IDLE_REPORT: Duration = Duration::from_secs(1);
    let mut fetched = Vec::with_capacity(settings.batch_size);
    let mut deadline = None;
    while fetched.len() < settings.batch_size {
        let wait = deadline.unwrap_or_else(|| tokio::time::Instant::now() + IDLE_REPORT);
        let next = tokio::select! {
            next = tokio::time::timeout_at(wait, messages.next()) => next,
            () = shutdown.requested() => return (fetched, None),
        };
        let message = match next {
            Ok(Some(Ok(message))) => message,
            Ok(Some(Err(e))) => return (fetched, Some(ConsumeError::Fetch(e.to_string()))),
            Ok(None) => {
                return (
                    fetched,
                    Some(ConsumeError::Fetch("the message stream ended".to_owned())),
                );
            }
            Err(_elapsed) if deadline.is_some() => break,
            Err(_elapsed) => {
                let last = processor
                    .lock()
                    .map(|p| p.last_seq())
                    .unwrap_or(StreamSeq(0));
                progress.set(0, Duration::ZERO, last);
                continue;
            }
        };
        let Ok(info) = message.info() else {
            // Not a JetStream delivery: nothing to acknowledge.
            continue;
        };
        let (seq, pending) = (StreamSeq(info.stream_sequence), info.pending);
        let stored_at_ms =
            i64::try_from(info.published.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let (message, acker) = message.split();
        fetched.push(Fetched {
            delivery: Delivery {
                seq,
                subject: message.subject,
                headers: message.headers,
                payload: message.payload,
                stored_at_ms,
            },
            acker,
            pending,
        });
        deadline.get_or_insert_with(|| tokio::time::Instant::now() + settings.batch_wait);
    }
    (fetched, None)
}

async fn handle(
    js: &jetstream::Context,
    processor: &Arc<Mutex<Processor>>,
    mut fetched: Vec<Fetched>,
    progress: &Progress,
) -> Result<(), ConsumeError> {
    let started = Instant::now();
    let last_applied = processor
        .lock()
        .map(|p| p.last_seq())
        .unwrap_or(StreamSeq(0));
    fetched.sort_by_key(|f| f.delivery.seq);
    let (done, mut fresh): (Vec<_>, Vec<_>) = fetched
        .into_iter()
        .partition(|f| f.delivery.seq <= last_applied);
    if !done.is_empty() {
        ::metrics::counter!(metrics::REDELIVERED).increment(done.len() as u64);
        acknowledge(done.iter().map(|f| (&f.acker, AckKind::Ack))).await;
    }
    fresh.dedup_by_key(|f| f.delivery.seq);
    let Some(last) = fresh.last() else {
        return Ok(());
    };
    let (last_seq, pending) = (last.delivery.seq, last.pending);
    let last_stored_ms = last.delivery.stored_at_ms;

    // Moved out, not cloned: headers are a message's costliest part. Gaps
    // below a fetched message are filled from the stream first (see
    // `fill_gap`); those carry no acknowledgement of their own.
    let mut deliveries = Vec::with_capacity(fresh.len());
    let mut acked_by: Vec<Option<usize>> = Vec::with_capacity(fresh.len());
    let mut expected = last_applied.0 + 1;
    for (index, f) in fresh.iter_mut().enumerate() {
        if f.delivery.seq.0 > expected {
            let filled = match fill_gap(js, expected, f.delivery.seq.0).await {
                Ok(filled) => filled,
                Err(e) => {
                    nak_all(&fresh).await;
                    return Err(e);
                }
            };
            acked_by.extend(filled.iter().map(|_| None));
            deliveries.extend(filled);
        }
        expected = f.delivery.seq.0 + 1;
        acked_by.push(Some(index));
        deliveries.push(Delivery {
            seq: f.delivery.seq,
            subject: std::mem::replace(
                &mut f.delivery.subject,
                async_nats::Subject::from_static(""),
            ),
            headers: f.delivery.headers.take(),
            payload: std::mem::take(&mut f.delivery.payload),
            stored_at_ms: f.delivery.stored_at_ms,
        });
    }
    let outcome = apply(js, processor, deliveries).await;
    let (applied, decoded) = match outcome {
        Ok(applied) => applied,
        Err(e) => {
            // In order, so JetStream redelivers them before anything newer.
            nak_all(&fresh).await;
            return Err(e);
        }
    };
    acknowledge(decoded.iter().zip(&acked_by).filter_map(|(d, index)| {
        let kind = match d {
            Decoded::Event(_) => AckKind::Ack,
            Decoded::Poison(_) => AckKind::Term,
        };
        index.map(|i| (&fresh[i].acker, kind))
    }))
    .await;

    for (event_type, n) in &applied.counts {
        ::metrics::counter!(metrics::EVENTS, "type" => *event_type).increment(*n);
    }
    ::metrics::counter!(metrics::RUNS_STARTED).increment(applied.started);
    ::metrics::counter!(metrics::STALE_STATES).increment(applied.stale);
    for outcome in &applied.finished {
        ::metrics::counter!(metrics::RUNS_FINISHED, "outcome" => outcome.as_str()).increment(1);
    }
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(i64::MAX);
    let lag = Duration::from_millis(u64::try_from(now_ms - last_stored_ms).unwrap_or(0));
    progress.set(pending, lag, last_seq);
    metrics::batch_committed(decoded.len(), started.elapsed());
    Ok(())
}

/// The messages stored between `from` (inclusive) and `to` (exclusive),
/// read from the stream.
///
/// A gap means messages below `to` are still pending on the consumer,
/// delivered to a process that died before acknowledging them; JetStream
/// redelivers them only after the ack wait, and applying anything newer
/// first would skip them for good. Reading them directly keeps the order;
/// their late redeliveries are then acknowledged as already applied.
/// Messages deleted from the stream (by its age or size limits) are skipped.
async fn fill_gap(
    js: &jetstream::Context,
    from: u64,
    to: u64,
) -> Result<Vec<Delivery>, ConsumeError> {
    use async_nats::jetstream::stream::RawMessageErrorKind;
    let stream = js
        .get_stream(streams::GAME_EVENTS)
        .await
        .map_err(|e| ConsumeError::Fetch(e.to_string()))?;
    let mut filled = Vec::new();
    let mut next = from;
    while next < to {
        // Read through the stream leader, not a direct get a lagging
        // replica might answer: a message missed here would be lost.
        match stream
            .get_first_raw_message_by_subject(subject::game_all(), next)
            .await
        {
            Ok(message) if message.sequence < to => {
                next = message.sequence + 1;
                filled.push(Delivery {
                    seq: StreamSeq(message.sequence),
                    subject: message.subject,
                    headers: Some(message.headers),
                    payload: message.payload,
                    stored_at_ms: i64::try_from(message.time.unix_timestamp_nanos() / 1_000_000)
                        .unwrap_or(0),
                });
            }
            Ok(_) => break,
            Err(e) if e.kind() == RawMessageErrorKind::NoMessageFound => break,
            Err(e) => {
                return Err(ConsumeError::Fetch(format!(
                    "reading a gap from the stream: {e}"
                )));
            }
        }
    }
    if !filled.is_empty() {
        ::metrics::counter!(metrics::GAP_FILLED).increment(filled.len() as u64);
        tracing::info!(
            from,
            to,
            filled = filled.len(),
            "read messages still pending elsewhere from the stream"
        );
    }
    Ok(filled)
}

/// Decodes and applies a batch off the runtime; poison is dead-lettered
/// before the batch that records it is committed.
async fn apply(
    js: &jetstream::Context,
    processor: &Arc<Mutex<Processor>>,
    deliveries: Vec<Delivery>,
) -> Result<(Applied, Vec<Decoded>), ConsumeError> {
    let commit = |processor: Arc<Mutex<Processor>>, decoded: Vec<Decoded>| {
        let mut processor = processor.lock().map_err(|_| {
            StoreError::new(
                StoreErrorKind::Query,
                "a previous batch panicked while applying",
            )
        })?;
        let applied = processor.apply(&decoded)?;
        Ok::<_, StoreError>((applied, decoded))
    };
    let first = {
        let processor = processor.clone();
        tokio::task::spawn_blocking(move || {
            let decoded: Vec<Decoded> = deliveries.into_iter().map(decode).collect();
            if decoded.iter().any(|d| matches!(d, Decoded::Poison(_))) {
                return Ok(Err(decoded));
            }
            commit(processor, decoded).map(Ok)
        })
        .await
        .map_err(|e| ConsumeError::Fetch(format!("applying panicked: {e}")))??
    };
    match first {
        Ok(applied) => Ok(applied),
        Err(decoded) => {
            dead_letter(js, &decoded).await?;
            let processor = processor.clone();
            Ok(
                tokio::task::spawn_blocking(move || commit(processor, decoded))
                    .await
                    .map_err(|e| ConsumeError::Fetch(format!("applying panicked: {e}")))??,
            )
        }
    }
}

/// Stores every poison message of a batch in `DEAD_LETTER`, keyed by its
/// sequence, so a batch retried after a crash stores each one once.
async fn dead_letter(js: &jetstream::Context, decoded: &[Decoded]) -> Result<(), ConsumeError> {
    let mut acks = Vec::new();
    for item in decoded {
        let Decoded::Poison(poison) = item else {
            continue;
        };
        ::metrics::counter!(metrics::DEAD_LETTERS, "reason" => poison.reason.as_str()).increment(1);
        tracing::warn!(seq = poison.seq.0, subject = %jimbot_service::log_text::untrusted(&poison.subject), reason = poison.reason.as_str(),
            detail = %jimbot_service::log_text::untrusted(&poison.detail), "terminating a message that cannot be used");
        let (subject, headers) = dead_letter_message(poison);
        let ack = js
            .publish_with_headers(subject, headers, poison.payload.clone())
            .await
            .map_err(|e| ConsumeError::DeadLetter(e.to_string()))?;
        acks.push(ack);
    }
    for ack in acks {
        ack.await
            .map_err(|e| ConsumeError::DeadLetter(e.to_string()))?;
    }
    Ok(())
}

fn dead_letter_message(poison: &Poison) -> (String, HeaderMap) {
    use dead_letter_headers as h;
    let mut headers = HeaderMap::new();
    headers.insert(
        NATS_MESSAGE_ID,
        format!("analytics:{}", poison.seq.0).as_str(),
    );
    headers.insert(h::REASON, poison.reason.as_str());
    headers.insert(h::DETAIL, header_safe(&poison.detail).as_str());
    headers.insert(h::SUBJECT, header_safe(&poison.subject).as_str());
    headers.insert(h::SEQUENCE, poison.seq.0.to_string().as_str());
    (
        subject::dead_letter(&Token::new(poison.reason.as_str())),
        headers,
    )
}

/// Header values must be short printable ASCII (no CR/LF to split them).
fn header_safe(text: &str) -> String {
    text.chars()
        .take(1024)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Sends acknowledgements together; one that is lost only means a
/// redelivery, which the committed sequence makes harmless.
async fn acknowledge<'a>(acks: impl Iterator<Item = (&'a Acker, AckKind)>) {
    let results = join_all(acks.map(|(acker, kind)| acker.ack_with(kind))).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    if failed > 0 {
        tracing::warn!(
            failed,
            "acknowledgements not sent; those messages will be redelivered"
        );
    }
}
