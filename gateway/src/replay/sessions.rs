//! Which sessions `GAME_EVENTS` holds: counts from the stream's per-subject
//! state, first and last event by direct get (no consumer, no scan).

use std::collections::BTreeMap;

use async_nats::jetstream::{self, stream::Stream};
use futures::TryStreamExt as _;
use jimbot_nats::{Token, subject, topology::streams};
use serde::Serialize;

use super::{
    ndjson::{rfc3339, session_and_type},
    reader::{ReadError, ReadErrorKind},
};

/// One session's extent in `GAME_EVENTS`.
#[derive(Debug, Clone, Serialize)]
pub struct SessionSummary {
    /// The session (subject token).
    pub session: String,
    /// Events stored.
    pub events: u64,
    /// Stream sequence of its first stored event.
    pub first_seq: u64,
    /// Stream sequence of its last stored event.
    pub last_seq: u64,
    /// When its first event was stored (RFC 3339).
    pub first_at: String,
    /// When its last event was stored (RFC 3339).
    pub last_at: String,
}

/// A page of sessions, by name.
#[derive(Debug, Clone, Serialize)]
pub struct SessionPage {
    /// Sessions in the stream.
    pub total: usize,
    /// The page.
    pub sessions: Vec<SessionSummary>,
}

/// Sessions by name, `offset` skipped, at most `limit`.
pub async fn list(
    js: &jetstream::Context,
    offset: usize,
    limit: usize,
) -> Result<SessionPage, ReadError> {
    let stream = game_events(js).await?;
    let counts = counts(&stream, &subject::game_all()).await?;
    let total = counts.len();
    let mut sessions = Vec::with_capacity(limit.min(total));
    for (session, events) in counts.into_iter().skip(offset).take(limit) {
        if let Some(summary) = extent(&stream, session, events).await? {
            sessions.push(summary);
        }
    }
    Ok(SessionPage { total, sessions })
}

/// One session, or `None` when the stream holds none of its events.
pub async fn find(
    js: &jetstream::Context,
    session: &Token,
) -> Result<Option<SessionSummary>, ReadError> {
    let stream = game_events(js).await?;
    let counts = counts(&stream, &subject::game_session(session)).await?;
    match counts.into_iter().next() {
        Some((session, events)) => extent(&stream, session, events).await,
        None => Ok(None),
    }
}

async fn game_events(js: &jetstream::Context) -> Result<Stream<()>, ReadError> {
    js.get_stream_no_info(streams::GAME_EVENTS)
        .await
        .map_err(|e| {
            ReadError::new(
                ReadErrorKind::Unavailable,
                format!("reading {}: {e}", streams::GAME_EVENTS),
            )
        })
}

/// Events per session under `filter`.
async fn counts(stream: &Stream<()>, filter: &str) -> Result<BTreeMap<String, u64>, ReadError> {
    let mut subjects = stream
        .info_with_subjects(filter)
        .await
        .map_err(|e| classify_info_error(&e.to_string()))?;
    let mut counts = BTreeMap::new();
    while let Some((subject, count)) = subjects
        .try_next()
        .await
        .map_err(|e| classify_info_error(&e.to_string()))?
    {
        let (session, _) = session_and_type(&subject);
        *counts.entry(session.to_owned()).or_default() += count as u64;
    }
    Ok(counts)
}

fn classify_info_error(message: &str) -> ReadError {
    let kind = if message.contains("stream not found") {
        ReadErrorKind::StreamMissing
    } else {
        ReadErrorKind::Unavailable
    };
    ReadError::new(kind, format!("reading {}: {message}", streams::GAME_EVENTS))
}

/// First and last event of a session; `None` if it vanished meanwhile.
async fn extent(
    stream: &Stream<()>,
    session: String,
    events: u64,
) -> Result<Option<SessionSummary>, ReadError> {
    let filter = subject::game_session(&Token::new(&session));
    let first = stream
        .direct_get_next_for_subject(filter.clone(), Some(1))
        .await;
    let last = stream.direct_get_last_for_subject(filter).await;
    let (first, last) = match (first, last) {
        (Ok(first), Ok(last)) => (first, last),
        (Err(e), _) | (_, Err(e))
            if e.kind() == jetstream::stream::DirectGetErrorKind::NotFound =>
        {
            return Ok(None);
        }
        (Err(e), _) | (_, Err(e)) => {
            return Err(ReadError::new(
                ReadErrorKind::Unavailable,
                format!("reading session {session}: {e}"),
            ));
        }
    };
    Ok(Some(SessionSummary {
        session,
        events,
        first_seq: first.sequence,
        last_seq: last.sequence,
        first_at: rfc3339(first.time),
        last_at: rfc3339(last.time),
    }))
}
