//! `GET /api/v1/sessions` and `GET /api/v1/sessions/{session}/events`:
//! NDJSON by default, Server-Sent Events for `Accept: text/event-stream`.
//!
//! Events stream as they are read (a bounded channel between the reader task
//! and the response body), so a session of any size costs the same memory.

use std::time::Duration;

use axum::{
    Json,
    body::Body,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::{Bytes, BytesMut};
use futures::FutureExt as _;
use jimbot_nats::Token;
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::{
    ndjson,
    query::{Query, QueryError, Range, TypeFilter},
    reader::{EventReader, ReadError, ReadErrorKind},
    sessions,
};
use crate::{app::AppState, error::ApiError};

/// Lines buffered between the reader and a slow client.
const BUFFER: usize = 16;
/// Bytes of lines sent to the client in one write, at most (one line more).
const CHUNK: usize = 64 * 1024;
/// How often an idle event stream sends an SSE comment, so proxies keep it.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Most sessions one page lists.
const MAX_PAGE: usize = 1000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    offset: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/sessions?offset=&limit=`: sessions by name, with counts and
/// first/last sequence and time.
pub async fn list_sessions(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params: ListParams = parse_params(query.as_deref())?;
    let offset = parse_number(params.offset.as_deref(), "offset")?.unwrap_or(0);
    let limit = parse_number(params.limit.as_deref(), "limit")?.unwrap_or(100);
    if limit == 0 || limit > MAX_PAGE as u64 {
        return Err(bad_request(QueryError::new(
            "limit",
            format!("must be 1 to {MAX_PAGE}"),
        )));
    }
    state.ensure_connected()?;
    let page = sessions::list(state.jetstream(), offset as usize, limit as usize)
        .await
        .map_err(read_error)?;
    Ok(Json(page).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventParams {
    from_seq: Option<String>,
    to_seq: Option<String>,
    since: Option<String>,
    until: Option<String>,
    types: Option<String>,
    follow: Option<String>,
}

/// `GET /api/v1/sessions/{session}/events`: the session's events in stream
/// order, as the mod sent them (see [`ndjson`] for the line format).
pub async fn session_events(
    State(state): State<AppState>,
    Path(session): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let session = Token::new(&session);
    let params: EventParams = parse_params(query.as_deref())?;
    let follow = match params.follow.as_deref() {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(_) => {
            return Err(bad_request(QueryError::new(
                "follow",
                "must be true or false",
            )));
        }
    };
    let sse = accepts_event_stream(&headers);
    let mut range = Range {
        from_sequence: parse_number(params.from_seq.as_deref(), "from_seq")?,
        to_sequence: parse_number(params.to_seq.as_deref(), "to_seq")?,
        since: parse_time(params.since.as_deref(), "since")?,
        until: parse_time(params.until.as_deref(), "until")?,
    };
    // An SSE client reconnecting says where it got to.
    if sse
        && let Some(last) = headers
            .get("last-event-id")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
    {
        range.from_sequence = Some(last.saturating_add(1));
    }
    let types =
        TypeFilter::parse_list(params.types.as_deref().unwrap_or_default()).map_err(bad_request)?;
    let mut query = Query::session(&session, &types, range).map_err(bad_request)?;
    if follow {
        query = query.follow();
    }

    state.ensure_connected()?;
    if !follow
        && sessions::find(state.jetstream(), &session)
            .await
            .map_err(read_error)?
            .is_none()
    {
        return Err(ApiError::NotFound(format!(
            "no events of session {session} are stored"
        )));
    }
    let permit = state.open_stream()?;
    let reader = EventReader::open(state.jetstream(), query)
        .await
        .map_err(read_error)?;

    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(BUFFER);
    let shutdown = state.shutdown().clone();
    tokio::spawn(async move {
        let _permit = permit;
        tokio::select! {
            () = pump(reader, tx, sse) => {}
            () = shutdown.requested() => {}
        }
    });
    let content_type = if sse {
        "text/event-stream"
    } else {
        "application/x-ndjson"
    };
    let mut response = Response::new(Body::from_stream(ReceiverStream::new(rx)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Streamed: tell buffering proxies (nginx) to pass lines on at once.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// Moves lines from the reader to the response until either side is done.
///
/// Lines already read are sent together (up to [`CHUNK`]), so a fast replay
/// is a few large writes rather than one per event.
async fn pump(mut reader: EventReader, tx: mpsc::Sender<Result<Bytes, std::io::Error>>, sse: bool) {
    let mut keep_alive =
        tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    loop {
        let mut next = tokio::select! {
            next = reader.next() => next,
            _ = keep_alive.tick(), if sse => {
                if tx.send(Ok(Bytes::from_static(b": keep-alive\n\n"))).await.is_err() {
                    return;
                }
                continue;
            }
            () = tx.closed() => return,
        };
        let mut chunk = BytesMut::new();
        let mut lines = 0u64;
        let failure = loop {
            match next.map(|read| read.and_then(|m| ndjson::line_for(&m).map(|line| (m, line)))) {
                None => break Some(None),
                Some(Err(e)) => break Some(Some(e)),
                Some(Ok((message, line))) => {
                    if sse {
                        write_sse_frame(&mut chunk, &message, &line);
                    } else {
                        chunk.extend_from_slice(&line);
                    }
                    lines += 1;
                }
            }
            if chunk.len() >= CHUNK {
                break None;
            }
            // Only what is already there; never wait with lines unsent.
            match reader.next().now_or_never() {
                Some(read) => next = read,
                None => break None,
            }
        };
        metrics::counter!("gateway_replay_events_total").increment(lines);
        keep_alive.reset();
        if !chunk.is_empty() && tx.send(Ok(chunk.freeze())).await.is_err() {
            return;
        }
        match failure {
            None => {}
            Some(None) => return,
            Some(Some(e)) => {
                tracing::warn!(error = %e, "replay stream ended early");
                let end = if sse {
                    let data = serde_json::json!({ "error": e.to_string() });
                    Ok(Bytes::from(format!("event: error\ndata: {data}\n\n")))
                } else {
                    // Abort the body: a client must not mistake a cut-short
                    // replay for a complete one.
                    Err(std::io::Error::other(e.to_string()))
                };
                let _ = tx.send(end).await;
                return;
            }
        }
    }
}

/// `id: <seq>`, `event: <type>`, `data: <line>`, appended to `out`.
fn write_sse_frame(out: &mut BytesMut, message: &super::reader::StoredMessage, line: &[u8]) {
    let (_, event_type) = ndjson::session_and_type(&message.subject);
    let data = line.strip_suffix(b"\n").unwrap_or(line);
    out.extend_from_slice(
        format!("id: {}\nevent: {event_type}\ndata: ", message.sequence).as_bytes(),
    );
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
}

fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| media.trim().starts_with("text/event-stream"))
}

fn parse_params<T: for<'de> Deserialize<'de> + Default>(
    query: Option<&str>,
) -> Result<T, ApiError> {
    match query {
        None | Some("") => Ok(T::default()),
        Some(query) => serde_urlencoded::from_str(query)
            .map_err(|e| bad_request(QueryError::new("query", e.to_string()))),
    }
}

fn parse_number(raw: Option<&str>, field: &'static str) -> Result<Option<u64>, ApiError> {
    raw.map(|raw| {
        raw.parse::<u64>().map_err(|_| {
            bad_request(QueryError::new(
                field,
                format!("{:?} is not a non-negative integer", shorten(raw)),
            ))
        })
    })
    .transpose()
}

/// RFC 3339, or milliseconds since the Unix epoch.
fn parse_time(raw: Option<&str>, field: &'static str) -> Result<Option<OffsetDateTime>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let invalid = || {
        bad_request(QueryError::new(
            field,
            format!(
                "{:?} is neither RFC 3339 (2026-11-27T10:00:00Z) nor Unix milliseconds",
                shorten(raw)
            ),
        ))
    };
    if let Ok(millis) = raw.parse::<i64>() {
        return OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map(Some)
            .map_err(|_| invalid());
    }
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(Some)
        .map_err(|_| invalid())
}

fn shorten(raw: &str) -> String {
    raw.chars().take(64).collect()
}

fn bad_request(error: QueryError) -> ApiError {
    ApiError::BadRequest {
        message: error.to_string(),
        valid: None,
    }
}

/// The HTTP answer for a read that failed.
pub(crate) fn read_error(error: ReadError) -> ApiError {
    match error.kind() {
        ReadErrorKind::StreamMissing => ApiError::StreamMissing(error.to_string()),
        ReadErrorKind::Refused => ApiError::BadRequest {
            message: error.to_string(),
            valid: None,
        },
        ReadErrorKind::Unavailable | ReadErrorKind::Undecodable => {
            ApiError::Unavailable(error.to_string())
        }
    }
}
