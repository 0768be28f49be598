//! The command channel back to the game: producers `POST /api/v1/commands`,
//! the mod polls `GET /api/v1/commands/poll`.
//!
//! Commands wait in the `COMMANDS` work-queue stream, one subject per session.
//! A poll reads them through that session's durable consumer, acknowledges
//! (removes) them, and only then returns them: a command is never handed out
//! twice, and one that could not be removed is not handed out at all.

use std::time::Duration;

use async_nats::{
    HeaderMap,
    header::NATS_MESSAGE_ID,
    jetstream::{
        AckKind,
        consumer::{AckPolicy, DeliverPolicy, pull},
    },
};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap as HttpHeaders, StatusCode, header},
    response::IntoResponse,
};
use bytes::Bytes;
use futures::StreamExt;
use jimbot_nats::{subject, topology::streams};
use jimbot_schemas::v1;
use prost::Message as _;
use serde::{Deserialize, Serialize};

use crate::{app::AppState, error::ApiError, ingest::build::PROTOBUF, session::Session};

/// The commands the mod understands (spec section 7.4).
pub const COMMAND_NAMES: &[&str] = &[
    "start_new_run",
    "select_deck",
    "select_stake",
    "navigate_menu",
    "play_hand",
    "discard",
    "sort_hand",
    "select_card",
    "buy_joker",
    "buy_booster",
    "buy_voucher",
    "sell_joker",
    "reroll_shop",
    "skip_shop",
    "select_small_blind",
    "select_big_blind",
    "select_boss_blind",
    "skip_blind",
    "go_to_shop",
];

/// Most commands returned by one poll.
const MAX_PER_POLL: usize = 100;

/// How long a session's poll consumer lives without polls.
const POLL_CONSUMER_IDLE: Duration = Duration::from_secs(3600);

/// The JSON form: `{type, payload: {position} | {index} | {}}`.
#[derive(Debug, Deserialize)]
struct CommandRequest {
    r#type: String,
    #[serde(default)]
    payload: Option<CommandPayload>,
}

#[derive(Debug, Default, Deserialize)]
struct CommandPayload {
    position: Option<f64>,
    index: Option<f64>,
}

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
pub async fn post_command(
    State(state): State<AppState>,
    session: Session,
    headers: HttpHeaders,
    body: Bytes,
) -> Result<(StatusCode, Json<QueuedReport>), ApiError> {
    state.admit(&session)?;
    let commands = parse_commands(&body, &headers)?;
    let subject = subject::command(session.token());
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .filter(|key| !key.is_empty() && key.len() <= 256);
    let now = std::time::SystemTime::now();

    let mut pending = Vec::with_capacity(commands.len());
    for (i, mut command) in commands.into_iter().enumerate() {
        command.session = session.token().as_str().to_owned();
        command.issuer = "gateway-rest".to_owned();
        command.issued_at = Some(now.into());
        let mut nats_headers = HeaderMap::new();
        nats_headers.insert("Content-Type", PROTOBUF);
        nats_headers.insert(
            crate::ingest::build::MESSAGE_TYPE_HEADER,
            "jimbot.v1.Command",
        );
        if let Some(key) = idempotency_key {
            let id = format!("{}:command:{key}:{i}", session.token());
            nats_headers.insert(NATS_MESSAGE_ID, id.as_str());
            command.command_id = format!("{key}:{i}");
        }
        let line = command.line.clone();
        let ack = state
            .jetstream()
            .publish_with_headers(
                subject.clone(),
                nats_headers,
                command.encode_to_vec().into(),
            )
            .await
            .map_err(|e| ApiError::Unavailable(format!("queueing the command failed: {e}")))?;
        pending.push(async move { ack.await.map(|ack| (line, ack)) });
    }
    let acks = tokio::time::timeout(
        state.settings().publish_timeout,
        futures::future::try_join_all(pending),
    )
    .await
    .map_err(|_| ApiError::Unavailable("JetStream did not acknowledge in time".to_owned()))?
    .map_err(|e| ApiError::Unavailable(format!("queueing the command failed: {e}")))?;
    let queued = acks
        .into_iter()
        .map(|(line, ack)| Queued {
            line,
            seq: ack.sequence,
            duplicate: ack.duplicate,
        })
        .collect();
    let report = QueuedReport {
        session: session.token().as_str().to_owned(),
        queued,
    };
    Ok((StatusCode::ACCEPTED, Json(report)))
}

/// Reads the JSON form, or text lines; rejects unknown command names.
fn parse_commands(body: &[u8], headers: &HttpHeaders) -> Result<Vec<v1::Command>, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
        || body.trim_ascii_start().starts_with(b"{");
    if is_json {
        let request: CommandRequest =
            serde_json::from_slice(body).map_err(|e| bad(format!("invalid command JSON: {e}")))?;
        return Ok(vec![json_command(request)?]);
    }
    let text =
        std::str::from_utf8(body).map_err(|_| bad("command text is not UTF-8".to_owned()))?;
    let commands: Vec<v1::Command> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(line_command)
        .collect::<Result<_, _>>()?;
    if commands.is_empty() {
        return Err(bad(
            "no command given: send {\"type\": ..., \"payload\": {...}} or lines `name[:params]`"
                .to_owned(),
        ));
    }
    Ok(commands)
}

fn json_command(request: CommandRequest) -> Result<v1::Command, ApiError> {
    let name = known_name(&request.r#type)?;
    let payload = request.payload.unwrap_or_default();
    let position = payload
        .position
        .map(|n| whole_number("payload.position", n))
        .transpose()?;
    let index = payload
        .index
        .map(|n| whole_number("payload.index", n))
        .transpose()?;
    // The mod's producer API gives `position` precedence over `index`.
    let line = match position.or(index) {
        Some(n) => format!("{name}:{n}"),
        None => name.to_owned(),
    };
    Ok(v1::Command {
        r#type: name.to_owned(),
        position,
        index,
        line,
        ..Default::default()
    })
}

fn line_command(line: &str) -> Result<v1::Command, ApiError> {
    let (name, params) = match line.split_once(':') {
        Some((name, params)) => (name, Some(params)),
        None => (line, None),
    };
    let name = known_name(name)?;
    let index = match (name, params) {
        ("select_card", Some(params)) => Some(
            params
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    bad(format!(
                        "select_card needs a 0-based hand index, got {params:?}"
                    ))
                })?,
        ),
        _ => None,
    };
    Ok(v1::Command {
        r#type: name.to_owned(),
        index,
        line: line.to_owned(),
        ..Default::default()
    })
}

fn known_name(name: &str) -> Result<&'static str, ApiError> {
    COMMAND_NAMES
        .iter()
        .find(|known| **known == name)
        .copied()
        .ok_or_else(|| ApiError::BadRequest {
            message: format!("unknown command {name:?}"),
            valid: Some(COMMAND_NAMES),
        })
}

fn whole_number(field: &str, n: f64) -> Result<i64, ApiError> {
    if n.is_finite() && n.fract() == 0.0 && (0.0..=1e9).contains(&n) {
        Ok(n as i64)
    } else {
        Err(bad(format!(
            "{field} must be a whole number from 0, got {n}"
        )))
    }
}

fn bad(message: String) -> ApiError {
    ApiError::BadRequest {
        message,
        valid: None,
    }
}

/// `GET /api/v1/commands/poll`: `200 text/plain`, one command per line, in
/// queue order; removes exactly what it returns.
pub async fn poll(
    State(state): State<AppState>,
    session: Session,
) -> Result<impl IntoResponse, ApiError> {
    state.admit(&session)?;
    let js = state.jetstream();
    let name = format!("poll-{}", session.token());
    let config = pull::Config {
        durable_name: Some(name.clone()),
        description: Some("jimbot-gateway: commands polled by one game instance".to_owned()),
        filter_subject: subject::command(session.token()),
        deliver_policy: DeliverPolicy::All,
        ack_policy: AckPolicy::Explicit,
        ack_wait: Duration::from_secs(30),
        inactive_threshold: POLL_CONSUMER_IDLE,
        ..Default::default()
    };
    let unavailable = |e: &dyn std::fmt::Display| {
        ApiError::Unavailable(format!("reading the command queue failed: {e}"))
    };
    let consumer = js
        .create_consumer_on_stream(config, streams::COMMANDS)
        .await
        .map_err(|e| unavailable(&e))?;
    let mut batch = consumer
        .fetch()
        .max_messages(MAX_PER_POLL)
        .messages()
        .await
        .map_err(|e| unavailable(&e))?;

    let mut messages = Vec::new();
    while let Some(message) = batch.next().await {
        messages.push(message.map_err(|e| unavailable(&e))?);
    }

    // Remove in queue order; stop at the first failure and hand back the
    // rest, so what is returned is exactly what was removed.
    let mut lines = Vec::with_capacity(messages.len());
    let mut remaining = messages.into_iter();
    for message in remaining.by_ref() {
        let line = match v1::Command::decode(message.payload.clone()) {
            Ok(command) if !command.line.is_empty() && !command.line.contains(['\r', '\n']) => {
                command.line
            }
            other => {
                tracing::warn!(subject = %message.subject, ?other, "dropping an unusable command");
                let _ = message.ack_with(AckKind::Term).await;
                continue;
            }
        };
        if let Err(e) = message.double_ack().await {
            tracing::warn!(error = %e, "could not remove a polled command; it stays queued");
            let _ = message.ack_with(AckKind::Nak(None)).await;
            break;
        }
        lines.push(line);
    }
    for message in remaining {
        let _ = message.ack_with(AckKind::Nak(None)).await;
    }

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
