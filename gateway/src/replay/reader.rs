//! The I/O of replay: an ordered JetStream consumer over `GAME_EVENTS` that
//! yields stored messages in stream order, and stops where the query says.
//!
//! JetStream does the work (ordering, gap detection and recovery, flow
//! control); this adds the end conditions and deletes the consumer as soon as
//! the reader is done or dropped, so a client that goes away leaves nothing
//! behind on the server.

use async_nats::jetstream::{
    self,
    consumer::{DeliverPolicy, pull::OrderedConfig},
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

/// Reads the messages a [`Query`] selects, in stream order.
pub struct EventReader {
    messages: Option<jetstream::consumer::pull::Ordered>,
    cleanup: Option<Cleanup>,
    /// Stop after this sequence (the query's bound, or the stream's last
    /// sequence when the reader opened, unless following).
    last: Option<u64>,
    query: Query,
}

impl std::fmt::Debug for EventReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventReader")
            .field("open", &self.messages.is_some())
            .field("last", &self.last)
            .field("query", &self.query)
            .finish_non_exhaustive()
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
                    ReadError {
                        kind: ReadErrorKind::StreamMissing,
                        message: format!("stream {} does not exist", streams::GAME_EVENTS),
                    }
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
        let mut config = OrderedConfig {
            name: Some(format!("replay-{}", nuid::next())),
            deliver_policy: match query.start {
                Start::All => DeliverPolicy::All,
                Start::New => DeliverPolicy::New,
                Start::Sequence(start_sequence) => {
                    DeliverPolicy::ByStartSequence { start_sequence }
                }
                Start::Time(start_time) => DeliverPolicy::ByStartTime { start_time },
            },
            ..Default::default()
        };
        match query.subjects.as_slice() {
            [one] => config.filter_subject = one.clone(),
            many => config.filter_subjects = many.to_vec(),
        }
        let consumer = stream
            .create_consumer(config)
            .await
            .map_err(|e| match e.kind() {
                jetstream::stream::ConsumerErrorKind::JetStream(inner) => ReadError {
                    kind: ReadErrorKind::Refused,
                    message: format!("JetStream refused the replay consumer: {inner}"),
                },
                _ => ReadError::unavailable("creating the replay consumer failed", e),
            })?;
        let cleanup = Cleanup {
            stream: stream.clone(),
            name: consumer.cached_info().name.clone(),
        };
        let nothing_to_read = query.end == End::CaughtUp
            && (consumer.cached_info().num_pending == 0 || last == Some(0));
        let mut reader = Self {
            messages: None,
            cleanup: Some(cleanup),
            last,
            query,
        };
        if nothing_to_read {
            reader.finish();
            return Ok(reader);
        }
        let messages = consumer
            .messages()
            .await
            .map_err(|e| ReadError::unavailable("starting the replay failed", e))?;
        reader.messages = Some(messages);
        Ok(reader)
    }

    /// The next message, or `None` once the query's end is reached.
    pub async fn next(&mut self) -> Option<Result<StoredMessage, ReadError>> {
        loop {
            let messages = self.messages.as_mut()?;
            let message = match messages.next().await {
                Some(Ok(message)) => message,
                Some(Err(e)) => {
                    self.finish();
                    return Some(Err(ReadError::unavailable("replay interrupted", e)));
                }
                None => {
                    self.finish();
                    return None;
                }
            };
            let (sequence, stored_at, pending) = match message.info() {
                Ok(info) => (info.stream_sequence, info.published, info.pending),
                Err(e) => {
                    self.finish();
                    return Some(Err(ReadError::unavailable("malformed delivery", e)));
                }
            };
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
            let message = message.message;
            return Some(Ok(StoredMessage {
                sequence,
                subject: message.subject.to_string(),
                stored_at,
                payload: message.payload,
            }));
        }
    }

    /// Stops reading and deletes the consumer (in the background).
    fn finish(&mut self) {
        self.messages = None;
        if let Some(cleanup) = self.cleanup.take() {
            cleanup.spawn();
        }
    }
}

impl Drop for EventReader {
    fn drop(&mut self) {
        self.finish();
    }
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
