//! Event ingest: `POST /api/v1/events` and `POST /api/v1/events/batch`.
//!
//! The driver: parse (schemas layer) -> build messages ([`build`]) -> publish
//! them together and await every ack ([`publish`]) -> report per event
//! ([`report`]). 202 only once JetStream acknowledged everything; input that
//! cannot be used is stored raw in `DEAD_LETTER` and still answered 2xx,
//! because the mod re-sends anything answered otherwise, forever.

pub mod build;
pub mod publish;
pub mod report;

use axum::{
    Json,
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode},
};
use bytes::Bytes;
use jimbot_schemas::balatro::{
    BodyErrorKind, ParsedEvent, parse_batch_bytes_within, parse_single_bytes,
};

use crate::{app::AppState, error::ApiError, session::Session};
use build::{Outgoing, RequestContext, dead_letter_message, event_message};
use report::IngestReport;

/// The answer to an ingest request.
pub type IngestResponse = Result<(StatusCode, Json<IngestReport>), ApiError>;

/// Bodies larger than this are parsed on the blocking pool, so a big one
/// does not hold up the small requests (and polls) sharing the runtime.
const INLINE_PARSE_LIMIT: usize = 256 * 1024;

/// `POST /api/v1/events/batch`: `{batch_id, events: [...], source, timestamp}`.
pub async fn post_batch(
    State(state): State<AppState>,
    session: Session,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> IngestResponse {
    state.admit(&session)?;
    let context = state.request_context(session, uri.path(), &headers);
    let max_events = state.settings().max_batch_events;
    let (batch_id, messages) = off_runtime_if_large(&context, body, move |context, body| {
        batch_messages_within(context, body, max_events)
    })
    .await?;
    ingest(&state, context, batch_id, messages).await
}

/// `POST /api/v1/events`: one event (in practice the mod's `connection_test`).
pub async fn post_single(
    State(state): State<AppState>,
    session: Session,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> IngestResponse {
    state.admit(&session)?;
    let context = state.request_context(session, uri.path(), &headers);
    let (batch_id, messages) = off_runtime_if_large(&context, body, single_messages).await?;
    ingest(&state, context, batch_id, messages).await
}

/// A request's batch id and its messages.
pub(crate) type Built = (Option<String>, Vec<Outgoing>);

/// Runs `build`, on the blocking pool when the body is large.
pub(crate) async fn off_runtime_if_large<F>(
    context: &RequestContext,
    body: Bytes,
    build: F,
) -> Result<Built, ApiError>
where
    F: FnOnce(&RequestContext, Bytes) -> Result<Built, ApiError> + Send + 'static,
{
    if body.len() <= INLINE_PARSE_LIMIT {
        return build(context, body);
    }
    let context = context.clone();
    tokio::task::spawn_blocking(move || build(&context, body))
        .await
        .map_err(|e| ApiError::Unavailable(format!("parsing the body failed: {e}")))?
}

/// The messages for a batch body sent over gRPC, which allows as many events
/// as a typed `PublishBatch`.
pub(crate) fn batch_messages(context: &RequestContext, body: Bytes) -> Result<Built, ApiError> {
    batch_messages_within(context, body, crate::grpc::publish::MAX_BATCH_EVENTS)
}

/// The messages for a batch body: each event, or its dead letter, or the
/// whole body's dead letter. More than `max_events` events is refused whole
/// (413), like a body over the size limit: the mod never sends more than 50.
pub(crate) fn batch_messages_within(
    context: &RequestContext,
    body: Bytes,
    max_events: usize,
) -> Result<Built, ApiError> {
    match parse_batch_bytes_within(body.clone(), max_events) {
        Ok(batch) => Ok((
            batch.batch_id,
            batch
                .events
                .into_iter()
                .map(|event| message_for(context, event))
                .collect(),
        )),
        Err(error) if error.kind() == BodyErrorKind::TooManyEvents => {
            Err(ApiError::TooLarge(error.to_string()))
        }
        Err(error) => {
            let reason = error.kind().as_str();
            let message = dead_letter_message(context, None, reason, error.to_string(), body);
            Ok((None, vec![message]))
        }
    }
}

/// The message for a single-event body.
pub(crate) fn single_messages(context: &RequestContext, body: Bytes) -> Result<Built, ApiError> {
    let message = match parse_single_bytes(body.clone()) {
        Ok(event) => message_for(context, event),
        Err(error) => {
            let reason = error.kind().as_str();
            dead_letter_message(context, None, reason, error.to_string(), body)
        }
    };
    Ok((None, vec![message]))
}

async fn ingest(
    state: &AppState,
    context: RequestContext,
    batch_id: Option<String>,
    messages: Vec<Outgoing>,
) -> IngestResponse {
    let report = store(state, context, batch_id, messages).await?;
    Ok((StatusCode::ACCEPTED, Json(report)))
}

/// Publishes a request's messages and reports on each, once every one is
/// acknowledged (the REST and gRPC ingest share this).
pub(crate) async fn store(
    state: &AppState,
    context: RequestContext,
    batch_id: Option<String>,
    messages: Vec<Outgoing>,
) -> Result<IngestReport, ApiError> {
    let settings = state.settings();
    let published = if settings.atomic_batches {
        publish::publish_atomic(state.jetstream(), messages, settings.publish_timeout).await
    } else {
        publish::publish_all(state.jetstream(), messages, settings.publish_timeout).await
    };
    let acked = match published {
        Ok(acks) => acks,
        Err(error) => {
            if matches!(error, ApiError::StreamMissing(_)) {
                state.reprovision_soon();
            }
            return Err(error);
        }
    };
    let session = context.session.token().as_str().to_owned();
    Ok(IngestReport::new(session, batch_id, acked))
}

/// The message for one element of the body: the event, or its dead letter.
fn message_for(context: &RequestContext, parsed: ParsedEvent) -> Outgoing {
    match parsed.result {
        Ok(event) => {
            let message = event_message(context, parsed.index, event);
            if message.payload.len() > build::payload_limit(context) {
                let detail = format!(
                    "event {}: {} bytes encoded, more than NATS accepts",
                    parsed.index,
                    message.payload.len()
                );
                dead_letter_message(
                    context,
                    Some(parsed.index),
                    "event_too_large",
                    detail,
                    parsed.raw,
                )
            } else {
                message
            }
        }
        Err(error) => {
            let reason = error.kind().as_str();
            dead_letter_message(
                context,
                Some(parsed.index),
                reason,
                error.to_string(),
                parsed.raw,
            )
        }
    }
}
