//! The command channel back to the game: producers `POST /api/v1/commands`,
//! the mod polls `GET /api/v1/commands/poll`.
//!
//! Commands wait in the `COMMANDS` work-queue stream, one subject per
//! session. A poll removes what it returns before answering ([`queue`]): a
//! command is never handed out twice, and one that could not be removed is
//! not handed out. Once the answer is written, delivery is up to the network:
//! the mod's protocol has no acknowledgement (spec section 7.5).

pub mod parse;
pub mod queue;

use async_nats::{HeaderMap, header::NATS_MESSAGE_ID};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap as HttpHeaders, StatusCode, header},
    response::IntoResponse,
};
use bytes::Bytes;
use jimbot_nats::subject;
use prost::Message as _;
use serde::Serialize;

use crate::{
    app::AppState,
    error::ApiError,
    ingest::build::{MESSAGE_TYPE_HEADER, PROTOBUF},
    session::Session,
};

/// One queued command in the answer.
#[derive(Debug, Serialize)]
pub struct Queued {
    /// The line the mod will read.
    pub line: String,
    /// Its sequence in `COMMANDS`.
    pub seq: u64,
    /// True when an `Idempotency-Key` showed it was queued before.
    pub duplicate: bool,
}

/// The answer to `POST /api/v1/commands`.
#[derive(Debug, Serialize)]
pub struct QueuedReport {
    /// The session whose queue holds the commands.
    pub session: String,
    /// The commands, in queue order.
    pub queued: Vec<Queued>,
}

/// `POST /api/v1/commands`: a JSON command, or text lines `name[:params]`.
///
/// With an `Idempotency-Key` header, a retried request queues nothing new
/// (within the `COMMANDS` dedup window, two minutes).
pub async fn post_command(
    State(state): State<AppState>,
    session: Session,
    headers: HttpHeaders,
    body: Bytes,
) -> Result<(StatusCode, Json<QueuedReport>), ApiError> {
    state.admit(&session)?;
    let commands = parse::parse_commands(&body, &headers)?;
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .filter(|key| !key.is_empty() && key.len() <= 256);
    let queue = enqueue(&state, &session, commands, idempotency_key);
    let queued = tokio::time::timeout(state.settings().publish_timeout, queue)
        .await
        .map_err(|_| ApiError::Unavailable("JetStream did not acknowledge in time".to_owned()))??;
    let report = QueuedReport {
        session: session.token().as_str().to_owned(),
        queued,
    };
    Ok((StatusCode::ACCEPTED, Json(report)))
}

/// Publishes the commands to the session's queue and awaits every ack.
async fn enqueue(
    state: &AppState,
    session: &Session,
    commands: Vec<jimbot_schemas::v1::Command>,
    idempotency_key: Option<&str>,
) -> Result<Vec<Queued>, ApiError> {
    let subject = subject::command(session.token());
    let now = std::time::SystemTime::now();
    let failed = |e: &dyn std::fmt::Display| {
        ApiError::Unavailable(format!("queueing the command failed: {e}"))
    };
    let mut pending = Vec::with_capacity(commands.len());
    for (i, mut command) in commands.into_iter().enumerate() {
        command.session = session.token().as_str().to_owned();
        command.issuer = "gateway-rest".to_owned();
        command.issued_at = Some(now.into());
        let mut headers = HeaderMap::new();
        headers.insert("Content-Type", PROTOBUF);
        headers.insert(MESSAGE_TYPE_HEADER, "jimbot.v1.Command");
        if let Some(key) = idempotency_key {
            headers.insert(
                NATS_MESSAGE_ID,
                format!("{}:command:{key}:{i}", session.token()).as_str(),
            );
            command.command_id = format!("{key}:{i}");
        }
        let line = command.line.clone();
        let ack = state
            .jetstream()
            .publish_with_headers(subject.clone(), headers, command.encode_to_vec().into())
            .await
            .map_err(|e| failed(&e))?;
        pending.push(async move { ack.await.map(|ack| (line, ack)) });
    }
    let acks = futures::future::try_join_all(pending)
        .await
        .map_err(|e| failed(&e))?;
    Ok(acks
        .into_iter()
        .map(|(line, ack)| Queued {
            line,
            seq: ack.sequence,
            duplicate: ack.duplicate,
        })
        .collect())
}

/// `GET /api/v1/commands/poll`: `200 text/plain`, one command per line, in
/// queue order, framed by `Content-Length`; removes exactly what it returns.
/// Polls are exempt from the rate limit (the mod polls twice a second).
pub async fn poll(
    State(state): State<AppState>,
    session: Session,
) -> Result<impl IntoResponse, ApiError> {
    state.ensure_connected()?;
    let take = queue::take(state.poll_consumers(), state.jetstream(), session.token());
    let lines = tokio::time::timeout(state.settings().publish_timeout, take)
        .await
        .map_err(|_| ApiError::Unavailable("reading the command queue timed out".to_owned()))??;
    let mut body = lines.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    // A `String` body is sent with `Content-Length`, never chunked: the
    // mod's plainest HTTP backend cannot de-chunk.
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    ))
}

/// `HEAD /api/v1/commands/poll`: answers like a poll without taking anything
/// (a probe must not empty the queue).
pub async fn poll_head() -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
    )
}
