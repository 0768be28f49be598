//! The I/O of replay: stored messages of `GAME_EVENTS` in stream order,
//! stopping where the query says.
//!
//! JetStream does the work: a replay of what is stored is read by a pull
//! consumer in large batches, a live read by an ordered consumer (gap
//! recovery, flow control). Either is deleted as soon as the reader is done
//! or dropped, so a client that goes away leaves nothing behind on the
//! server.

use std::time::Duration;

use async_nats::jetstream::{
    self,
    consumer::{
        AckPolicy, DeliverPolicy,
        pull::{self, OrderedConfig},
    },
};
use bytes::Bytes;
use futures::StreamExt as _;
use jimbot_nats::topology::streams;
use jimbot_schemas::v1;
use prost::Message as _;
use time::OffsetDateTime;

use super::query::{End, Query, Start};

/// One message of `GAME_EVENTS` as stored.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// Its stream sequence.
    pub sequence: u64,
    /// Its subject (`jimbot.game.<session>.<type>`).
    pub subject: String,
    /// When JetStream stored it.
    pub stored_at: OffsetDateTime,
    /// The protobuf `jimbot.v1.Event`.
    pub payload: Bytes,
}

impl StoredMessage {
    /// The event it holds.
    pub fn decode(&self) -> Result<v1::Event, ReadError> {
        v1::Event::decode(self.payload.clone()).map_err(|e| ReadError {
            kind: ReadErrorKind::Undecodable,
            message: format!("message {} is not a jimbot.v1.Event: {e}", self.sequence),
        })
    }
}

/// Why reading failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ReadError {
    kind: ReadErrorKind,
    message: String,
}

/// What kind of failure a [`ReadError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadErrorKind {
    /// NATS is not reachable or did not answer.
    Unavailable,
    /// `GAME_EVENTS` does not exist.
    StreamMissing,
    /// The server refused the consumer (a filter it does not accept, ...).
    Refused,
    /// A stored message is not an event.
    Undecodable,
}

impl ReadError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ReadErrorKind {
        self.kind
    }

    pub(crate) fn new(kind: ReadErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    fn unavailable(what: &str, error: impl std::fmt::Display) -> Self {
        Self {
            kind: ReadErrorKind::Unavailable,
            message: format!("{what}: {error}"),
        }
    }
}

/// Messages a replay's pull consumer fetches per request.
const PULL_BATCH: usize = 4096;

/// Reads the messages a [`Query`] selects, in stream order.
pub struct EventReader {
    source: Source,
    /// Stop after this sequence (the query's bound, or the stream's last
    /// sequence when the reader opened, unless following).
    last: Option<u64>,
    query: Query,
}

/// Where messages come from.
enum Source {
    /// A replay of what is stored: a plain pull consumer fetching large
    /// batches (several times faster than an ordered consumer's 500), with
    /// no acks; a lost delivery fails the read rather than leaving a gap.
    Pull {
        messages: Box<pull::Stream>,
        cleanup: Cleanup,
        last_delivered: u64,
    },
    /// A live read: an ordered consumer (it recovers from gaps by itself).
    Ordered {
        messages: Box<pull::Ordered>,
        cleanup: Cleanup,
    },
    Done,
}

impl std::fmt::Debug for EventReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.source {
            Source::Pull { .. } => "pull consumer",
            Source::Ordered { .. } => "ordered consumer",
            Source::Done => "done",
        };
        f.debug_struct("EventReader")
            .field("source", &source)
            .field("last", &self.last)
            .field("query", &self.query)
            .finish()
    }
}

impl EventReader {
    /// Opens a reader; fails at once when NATS or the stream is not there.
    pub async fn open(js: &jetstream::Context, query: Query) -> Result<Self, ReadError> {
        let stream = js
            .get_stream(streams::GAME_EVENTS)
            .await
            .map_err(|e| match e.kind() {
                jetstream::context::GetStreamErrorKind::JetStream(inner)
                    if inner.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
                {
                    ReadError::new(
                        ReadErrorKind::StreamMissing,
                        format!("stream {} does not exist", streams::GAME_EVENTS),
                    )
                }
                _ => ReadError::unavailable("reading the stream's state failed", e),
            })?;
        let last_stored = stream.cached_info().state.last_sequence;
        let last = match query.end {
            End::CaughtUp => Some(
                query
                    .to_sequence
                    .map_or(last_stored, |to| to.min(last_stored)),
            ),
            End::Follow => query.to_sequence,
        };
        let mut reader = Self {
            source: Source::Done,
            last,
            query,
        };
        if reader.query.end == End::CaughtUp
            && (last == Some(0) || reader.query.start == Start::New)
        {
            return Ok(reader);
        }
        reader.source = match reader.query.end {
            End::CaughtUp => pull(&stream, &reader.query).await?,
            End::Follow => ordered(&stream, &reader.query).await?,
        };
        Ok(reader)
    }

    /// The next message, or `None` once the query's end is reached.
    pub async fn next(&mut self) -> Option<Result<StoredMessage, ReadError>> {
        loop {
            let delivery = match &mut self.source {
                Source::Done => return None,
                Source::Pull {
                    messages,
                    last_delivered,
                    ..
                } => next_pulled(messages, last_delivered).await,
                Source::Ordered { messages, .. } => next_ordered(messages).await,
            };
            let (message, pending) = match delivery {
                Some(Ok(delivery)) => delivery,
                failed_or_ended => {
                    self.finish();
                    return failed_or_ended.map(|read| read.map(|(message, _)| message));
                }
            };
            let (sequence, stored_at) = (message.sequence, message.stored_at);
            if self.last.is_some_and(|last| sequence > last)
                || self.query.until.is_some_and(|until| stored_at > until)
            {
                self.finish();
                return None;
            }
            let caught_up = self.query.end == End::CaughtUp && pending == 0;
            if self.last == Some(sequence) || caught_up {
                self.finish();
            }
            if self.query.since.is_some_and(|since| stored_at < since) {
                continue;
            }
            return Some(Ok(message));
        }
    }

    /// Stops reading; a consumer is deleted (in the background).
    fn finish(&mut self) {
        match std::mem::replace(&mut self.source, Source::Done) {
            Source::Ordered { cleanup, .. } | Source::Pull { cleanup, .. } => cleanup.spawn(),
            Source::Done => {}
        }
    }
}

impl Drop for EventReader {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Where a consumer for `query` starts.
fn deliver_policy(query: &Query) -> DeliverPolicy {
    match query.start {
        Start::All => DeliverPolicy::All,
        Start::New => DeliverPolicy::New,
        Start::Sequence(start_sequence) => DeliverPolicy::ByStartSequence { start_sequence },
        Start::Time(start_time) => DeliverPolicy::ByStartTime { start_time },
    }
}

/// A consumer's `filter_subject` (one) or `filter_subjects` (several).
fn filters(query: &Query) -> (String, Vec<String>) {
    match query.subjects.as_slice() {
        [one] => (one.clone(), Vec::new()),
        many => (String::new(), many.to_vec()),
    }
}

fn consumer_name() -> String {
    format!("replay-{}", nuid::next())
}

fn refused(e: jetstream::stream::ConsumerError) -> ReadError {
    match e.kind() {
        jetstream::stream::ConsumerErrorKind::JetStream(inner) => ReadError::new(
            ReadErrorKind::Refused,
            format!("JetStream refused the replay consumer: {inner}"),
        ),
        _ => ReadError::unavailable("creating the replay consumer failed", e),
    }
}

/// A pull consumer over what `query` selects of what is stored.
async fn pull(stream: &jetstream::stream::Stream, query: &Query) -> Result<Source, ReadError> {
    let (filter_subject, filter_subjects) = filters(query);
    let config = pull::Config {
        name: Some(consumer_name()),
        deliver_policy: deliver_policy(query),
        filter_subject,
        filter_subjects,
        ack_policy: AckPolicy::None,
        // Only a backstop: the reader deletes it when done or dropped.
        inactive_threshold: Duration::from_secs(30),
        memory_storage: true,
        num_replicas: 1,
        ..Default::default()
    };
    let consumer = stream.create_consumer(config).await.map_err(refused)?;
    let cleanup = Cleanup {
        stream: stream.clone(),
        name: consumer.cached_info().name.clone(),
    };
    if consumer.cached_info().num_pending == 0 {
        cleanup.spawn();
        return Ok(Source::Done);
    }
    match consumer
        .stream()
        .max_messages_per_batch(PULL_BATCH)
        .messages()
        .await
    {
        Ok(messages) => Ok(Source::Pull {
            messages: Box::new(messages),
            cleanup,
            last_delivered: 0,
        }),
        Err(e) => {
            cleanup.spawn();
            Err(ReadError::unavailable("starting the replay failed", e))
        }
    }
}

/// An ordered consumer over the query's subjects, from its start.
async fn ordered(stream: &jetstream::stream::Stream, query: &Query) -> Result<Source, ReadError> {
    let (filter_subject, filter_subjects) = filters(query);
    let config = OrderedConfig {
        name: Some(consumer_name()),
        deliver_policy: deliver_policy(query),
        filter_subject,
        filter_subjects,
        ..Default::default()
    };
    let consumer = stream.create_consumer(config).await.map_err(refused)?;
    let cleanup = Cleanup {
        stream: stream.clone(),
        name: consumer.cached_info().name.clone(),
    };
    match consumer.messages().await {
        Ok(messages) => Ok(Source::Ordered {
            messages: Box::new(messages),
            cleanup,
        }),
        Err(e) => {
            cleanup.spawn();
            Err(ReadError::unavailable("starting the replay failed", e))
        }
    }
}

/// A delivery as a stored message, with the count pending after it and the
/// consumer's own sequence.
fn stored(message: jetstream::Message) -> Result<(StoredMessage, u64, u64), ReadError> {
    let (sequence, stored_at, pending, delivered) = match message.info() {
        Ok(info) => (
            info.stream_sequence,
            info.published,
            info.pending,
            info.consumer_sequence,
        ),
        Err(e) => return Err(ReadError::unavailable("malformed delivery", e)),
    };
    let message = message.message;
    Ok((
        StoredMessage {
            sequence,
            subject: message.subject.to_string(),
            stored_at,
            payload: message.payload,
        },
        pending,
        delivered,
    ))
}

/// A stored message and how many matching messages are pending after it.
type Delivery = Option<Result<(StoredMessage, u64), ReadError>>;

/// The next delivery of a pull consumer, checked for gaps.
async fn next_pulled(messages: &mut pull::Stream, last_delivered: &mut u64) -> Delivery {
    let message = match messages.next().await? {
        Ok(message) => message,
        Err(e) => return Some(Err(ReadError::unavailable("replay interrupted", e))),
    };
    Some(stored(message).and_then(|(message, pending, delivered)| {
        if delivered != *last_delivered + 1 {
            return Err(ReadError::new(
                ReadErrorKind::Unavailable,
                "replay interrupted: a delivery was lost; read again",
            ));
        }
        *last_delivered = delivered;
        Ok((message, pending))
    }))
}

/// The next delivery of an ordered consumer.
async fn next_ordered(messages: &mut pull::Ordered) -> Delivery {
    let message = match messages.next().await? {
        Ok(message) => message,
        Err(e) => return Some(Err(ReadError::unavailable("replay interrupted", e))),
    };
    Some(stored(message).map(|(message, pending, _)| (message, pending)))
}

/// Deletes a reader's consumer. The server would also drop it after 30 s
/// without pulls; deleting it at once keeps the consumer count honest.
#[derive(Debug)]
struct Cleanup {
    stream: jetstream::stream::Stream,
    name: String,
}

impl Cleanup {
    fn spawn(self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            if let Err(e) = self.stream.delete_consumer(&self.name).await {
                tracing::debug!(consumer = %self.name, error = %e, "deleting a replay consumer failed; the server expires it");
            }
        });
    }
}
