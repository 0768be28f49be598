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
use jimbot_schemas::balatro::{ParsedEvent, parse_batch_bytes, parse_single_bytes};

use crate::{app::AppState, error::ApiError, session::Session};
use build::{Outgoing, RequestContext, dead_letter_message, event_message};
use report::IngestReport;

/// The answer to an ingest request.
pub type IngestResponse = Result<(StatusCode, Json<IngestReport>), ApiError>;

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
    let (batch_id, messages) = match parse_batch_bytes(body.clone()) {
        Ok(batch) => (
            batch.batch_id,
            batch
                .events
                .into_iter()
                .map(|event| message_for(&context, event))
                .collect(),
        ),
        Err(error) => {
            let reason = error.kind().as_str();
            let message = dead_letter_message(&context, None, reason, error.to_string(), body);
            (None, vec![message])
        }
    };
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
    let message = match parse_single_bytes(body.clone()) {
        Ok(event) => message_for(&context, event),
        Err(error) => {
            let reason = error.kind().as_str();
            dead_letter_message(&context, None, reason, error.to_string(), body)
        }
    };
    ingest(&state, context, None, vec![message]).await
}

async fn ingest(
    state: &AppState,
    context: RequestContext,
    batch_id: Option<String>,
    messages: Vec<Outgoing>,
) -> IngestResponse {
    let acks = publish::publish_all(
        state.jetstream(),
        &messages,
        state.settings().publish_timeout,
    )
    .await?;
    let session = context.session.token().as_str().to_owned();
    let report = IngestReport::new(session, batch_id, &messages, acks);
    Ok((StatusCode::ACCEPTED, Json(report)))
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
