//! Request building: turns parsed events and unusable input into the NATS
//! messages to publish, with their subjects and headers.

use async_nats::{HeaderMap, header::NATS_MESSAGE_ID};
use bytes::Bytes;
use jimbot_nats::{Token, subject};
use jimbot_schemas::{balatro::canonical_name, v1};
use prost::Message as _;
use sha2::{Digest, Sha256};

use crate::session::Session;

/// `Content-Type` of every event payload.
pub const PROTOBUF: &str = "application/protobuf";
/// Header naming the protobuf message type of the payload.
pub const MESSAGE_TYPE_HEADER: &str = "Jimbot-Message-Type";
/// Headers of a dead letter.
pub mod dead_letter_headers {
    /// Why the input could not be used (the subject's last token).
    pub const REASON: &str = "Jimbot-Reason";
    /// The parser's message, naming the event index and field.
    pub const DETAIL: &str = "Jimbot-Detail";
    /// The request path.
    pub const PATH: &str = "Jimbot-Path";
    /// The session.
    pub const SESSION: &str = "Jimbot-Session";
    /// The request's `Content-Type`.
    pub const CONTENT_TYPE: &str = "Jimbot-Content-Type";
    /// Position of the event in its batch, for a single bad event.
    pub const EVENT_INDEX: &str = "Jimbot-Event-Index";
    /// Original length, when the stored bytes had to be cut to fit NATS.
    pub const TRUNCATED_FROM: &str = "Jimbot-Truncated-From";
}

/// Room left for headers when a payload must fit NATS's `max_payload`.
const HEADER_ROOM: usize = 8 * 1024;

/// What every message of one request shares.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// The request's session.
    pub session: Session,
    /// The request path, for dead letters.
    pub path: String,
    /// The request's `Content-Type`, for dead letters.
    pub content_type: Option<String>,
    /// When the gateway received the request.
    pub received_at: prost_types::Timestamp,
    /// W3C trace headers to carry on (`traceparent`, `tracestate`).
    pub trace: Vec<(&'static str, String)>,
    /// NATS's `max_payload`: bigger messages are refused by the server.
    pub max_payload: usize,
}

/// One message to publish, and what it stands for in the response.
#[derive(Debug)]
pub struct Outgoing {
    /// Where it goes.
    pub subject: String,
    /// Its headers (`Nats-Msg-Id` among them).
    pub headers: HeaderMap,
    /// Its payload.
    pub payload: Bytes,
    /// What it is, for the response.
    pub item: Item,
}

/// What a published message stands for.
#[derive(Debug, Clone)]
pub enum Item {
    /// A usable event.
    Event {
        /// Position in the request's events.
        index: usize,
        /// The event's id as sent (empty when it had none).
        event_id: String,
        /// The event's `type` as sent.
        event_type: String,
        /// Its `Nats-Msg-Id` (the dedup key).
        msg_id: String,
    },
    /// Input that could not be used, stored raw.
    DeadLetter {
        /// Position of the event, or `None` for the whole body.
        index: Option<usize>,
        /// The reason token.
        reason: &'static str,
        /// The parser's message.
        detail: String,
    },
}

/// The dedup key: `<session>:<event_id>:<client timestamp>`.
///
/// The mod's ids come from the game's reseeded RNG and can recur for other
/// events, so the client timestamp (kept by re-sends) is part of the key. An
/// event without an id is keyed by a hash of its exact bytes instead, and an
/// id that is too long or not printable ASCII by a hash of the id.
pub fn dedup_id(
    session: &Token,
    event_id: &str,
    client_timestamp_ms: Option<f64>,
    raw: &[u8],
) -> String {
    const MAX_ID_LEN: usize = 128;
    let timestamp = client_timestamp_ms
        .map(|t| t.to_string())
        .unwrap_or_default();
    if event_id.is_empty() {
        format!("{session}:sha256-{}:{timestamp}", short_hash(raw))
    } else if event_id.len() > MAX_ID_LEN || !event_id.bytes().all(|b| b.is_ascii_graphic()) {
        // It goes into a header line: hash what could break or bloat it.
        let hash = short_hash(event_id.as_bytes());
        format!("{session}:id-sha256-{hash}:{timestamp}")
    } else {
        format!("{session}:{event_id}:{timestamp}")
    }
}

/// First 128 bits of SHA-256, in hex.
fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The message for one usable event.
pub fn event_message(context: &RequestContext, index: usize, mut event: v1::Event) -> Outgoing {
    let session = context.session.token();
    event.session = session.as_str().to_owned();
    event.received_at = Some(context.received_at);
    let type_token = Token::new(canonical_name(event.r#type()).unwrap_or(&event.type_name));
    let msg_id = dedup_id(
        session,
        &event.event_id,
        event.client_timestamp_ms,
        &event.original_json,
    );
    let mut headers = HeaderMap::new();
    headers.insert(NATS_MESSAGE_ID, msg_id.as_str());
    headers.insert("Content-Type", PROTOBUF);
    headers.insert(MESSAGE_TYPE_HEADER, "jimbot.v1.Event");
    for (name, value) in &context.trace {
        headers.insert(*name, value.as_str());
    }
    let item = Item::Event {
        index,
        event_id: event.event_id.clone(),
        event_type: event.type_name.clone(),
        msg_id,
    };
    Outgoing {
        subject: subject::game_event(session, &type_token),
        headers,
        payload: Bytes::from(event.encode_to_vec()),
        item,
    }
}

/// The message that keeps unusable input raw, with the reason.
pub fn dead_letter_message(
    context: &RequestContext,
    index: Option<usize>,
    reason: &'static str,
    detail: String,
    raw: Bytes,
) -> Outgoing {
    use dead_letter_headers as h;
    let session = context.session.token();
    let mut headers = HeaderMap::new();
    // A re-sent copy of the same bad input is stored once, wherever in a
    // batch it lands (the mod re-chunks what it re-sends).
    let scope = if index.is_some() { "event" } else { "body" };
    let id = format!("{session}:deadletter:{scope}:{}", short_hash(&raw));
    headers.insert(NATS_MESSAGE_ID, id.as_str());
    headers.insert(h::REASON, reason);
    headers.insert(h::DETAIL, header_safe(&detail).as_str());
    headers.insert(h::PATH, header_safe(&context.path).as_str());
    headers.insert(h::SESSION, session.as_str());
    if let Some(content_type) = &context.content_type {
        headers.insert(h::CONTENT_TYPE, header_safe(content_type).as_str());
    }
    if let Some(index) = index {
        headers.insert(h::EVENT_INDEX, index.to_string().as_str());
    }
    for (name, value) in &context.trace {
        headers.insert(*name, value.as_str());
    }
    let limit = payload_limit(context);
    let payload = if raw.len() > limit {
        headers.insert(h::TRUNCATED_FROM, raw.len().to_string().as_str());
        raw.slice(..limit)
    } else {
        raw
    };
    Outgoing {
        subject: subject::dead_letter(&Token::new(reason)),
        headers,
        payload,
        item: Item::DeadLetter {
            index,
            reason,
            detail,
        },
    }
}

/// The largest payload that fits NATS's `max_payload` with its headers.
pub fn payload_limit(context: &RequestContext) -> usize {
    context.max_payload.saturating_sub(HEADER_ROOM)
}

/// Header values must be short printable ASCII (no CR/LF to split them).
fn header_safe(text: &str) -> String {
    const MAX: usize = 1024;
    text.chars()
        .take(MAX)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}
