//! The replay line format: one stored event per line, the mod's original JSON
//! kept byte for byte next to what the backbone knows about it.
//!
//! ```text
//! {"seq":42,"session":"default","type":"game_state","received_at":"2026-11-27T10:00:00.123Z","event":<the mod's bytes>}
//! ```
//!
//! The mod's bytes are embedded as they are, even when they are not strict
//! JSON (bare `inf`, raw control characters: the mod sends those). Only an
//! event whose bytes hold a line break (a client that pretty-printed) cannot
//! sit on one line; it is written as `"event_base64":"..."` instead. The
//! metadata comes first and never contains `,"event`, so a reader finds the
//! event by position without parsing it.

use base64::Engine as _;
use bytes::{BufMut as _, Bytes, BytesMut};
use jimbot_schemas::{balatro::to_mod_json, v1};
use serde::Deserialize;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use prost::Message as _;

use super::reader::{ReadError, ReadErrorKind, StoredMessage};

const EVENT_KEY: &[u8] = b",\"event\":";
const EVENT_BASE64_KEY: &[u8] = b",\"event_base64\":";

/// The two fields of a stored `jimbot.v1.Event` a line needs. Decoding only
/// these skips the typed payload (a GAME_STATE is most of its 8-21 KB).
#[derive(Clone, PartialEq, prost::Message)]
struct LineFields {
    #[prost(message, optional, tag = "9")]
    received_at: Option<prost_types::Timestamp>,
    #[prost(bytes = "bytes", tag = "17")]
    original_json: Bytes,
}

/// One line for a stored message, newline included, decoding no more of the
/// event than the line needs.
pub fn line_for(message: &StoredMessage) -> Result<Bytes, ReadError> {
    let fields = LineFields::decode(message.payload.clone()).map_err(|e| {
        ReadError::new(
            ReadErrorKind::Undecodable,
            format!("message {} is not a jimbot.v1.Event: {e}", message.sequence),
        )
    })?;
    if fields.original_json.is_empty() {
        // Published typed: the whole event is needed to render it.
        return Ok(line(message, &message.decode()?));
    }
    let event = v1::Event {
        received_at: fields.received_at,
        original_json: fields.original_json,
        ..Default::default()
    };
    Ok(line(message, &event))
}

/// One line: `message` with its decoded `event`, newline included.
pub fn line(message: &StoredMessage, event: &v1::Event) -> Bytes {
    let (session, event_type) = session_and_type(&message.subject);
    let received_at = received_at(message, event);
    let raw = original(event);
    let raw = &raw[..];
    let mut out = BytesMut::with_capacity(raw.len() + 128);
    out.put_slice(b"{\"seq\":");
    out.put_slice(message.sequence.to_string().as_bytes());
    out.put_slice(b",\"session\":\"");
    out.put_slice(session.as_bytes());
    out.put_slice(b"\",\"type\":\"");
    out.put_slice(event_type.as_bytes());
    out.put_slice(b"\",\"received_at\":\"");
    out.put_slice(rfc3339(received_at).as_bytes());
    out.put_u8(b'"');
    if raw.contains(&b'\n') || raw.contains(&b'\r') {
        out.put_slice(EVENT_BASE64_KEY);
        out.put_u8(b'"');
        out.put_slice(
            base64::engine::general_purpose::STANDARD
                .encode(raw)
                .as_bytes(),
        );
        out.put_u8(b'"');
    } else {
        out.put_slice(EVENT_KEY);
        out.put_slice(raw);
    }
    out.put_slice(b"}\n");
    out.freeze()
}

/// The event as its client sent it: the mod's bytes, or for an event
/// published typed (gRPC), its rendering in the mod's shape.
pub fn original(event: &v1::Event) -> Bytes {
    if event.original_json.is_empty() {
        Bytes::from(to_mod_json(event).to_string())
    } else {
        event.original_json.clone()
    }
}

/// When the gateway received the event (its storage time if unrecorded).
pub fn received_at(message: &StoredMessage, event: &v1::Event) -> OffsetDateTime {
    event
        .received_at
        .and_then(|t| OffsetDateTime::from_unix_timestamp_nanos(timestamp_nanos(&t)).ok())
        .unwrap_or(message.stored_at)
}

/// A line read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine {
    /// The stream sequence it was stored at.
    pub sequence: u64,
    /// The session it was stored in.
    pub session: String,
    /// When the gateway received it.
    pub received_at: OffsetDateTime,
    /// The mod's bytes, exactly.
    pub event: Bytes,
}

/// Why a line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LineError(String);

#[derive(Deserialize)]
struct Meta {
    seq: u64,
    session: String,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
    #[serde(default)]
    event_base64: Option<String>,
}

/// Reads one line (with or without its newline).
pub fn parse_line(line: &[u8]) -> Result<ParsedLine, LineError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let malformed = |what: &str| LineError(format!("not a replay line: {what}"));
    if !line.starts_with(b"{") || !line.ends_with(b"}") {
        return Err(malformed("expected one JSON object"));
    }
    if let Some(at) = find(line, EVENT_KEY) {
        let mut meta = line[..at].to_vec();
        meta.push(b'}');
        let meta: Meta = serde_json::from_slice(&meta).map_err(|e| malformed(&e.to_string()))?;
        let event = &line[at + EVENT_KEY.len()..line.len() - 1];
        if event.is_empty() {
            return Err(malformed("empty event"));
        }
        Ok(ParsedLine {
            sequence: meta.seq,
            session: meta.session,
            received_at: meta.received_at,
            event: Bytes::copy_from_slice(event),
        })
    } else {
        let meta: Meta = serde_json::from_slice(line).map_err(|e| malformed(&e.to_string()))?;
        let encoded = meta
            .event_base64
            .ok_or_else(|| malformed("no \"event\" or \"event_base64\""))?;
        let event = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| malformed(&format!("event_base64: {e}")))?;
        Ok(ParsedLine {
            sequence: meta.seq,
            session: meta.session,
            received_at: meta.received_at,
            event: Bytes::from(event),
        })
    }
}

/// The session and type tokens of `jimbot.game.<session>.<type>`.
pub fn session_and_type(subject: &str) -> (&str, &str) {
    let mut tokens = subject.splitn(4, '.').skip(2);
    (
        tokens.next().unwrap_or_default(),
        tokens.next().unwrap_or_default(),
    )
}

/// RFC 3339 in UTC with the precision stored.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn timestamp_nanos(t: &prost_types::Timestamp) -> i128 {
    i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(subject: &str) -> StoredMessage {
        StoredMessage {
            sequence: 7,
            subject: subject.to_owned(),
            stored_at: OffsetDateTime::UNIX_EPOCH,
            payload: Bytes::new(),
        }
    }

    fn event(original: &[u8]) -> v1::Event {
        v1::Event {
            original_json: Bytes::copy_from_slice(original),
            received_at: Some(prost_types::Timestamp {
                seconds: 1_790_000_000,
                nanos: 123_000_000,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_mods_bytes_round_trip_exactly_even_when_not_json() {
        let raw =
            b"{\"type\":\"GAME_STATE\",\"data\":{\"chips\":inf,\"name\":\"a\x01b\"},\"event\":1}";
        let line = line(&stored("jimbot.game.s1.game_state"), &event(raw));
        assert!(line.ends_with(b"}\n"));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        let parsed = parse_line(&line).unwrap();
        assert_eq!(parsed.sequence, 7);
        assert_eq!(parsed.session, "s1");
        assert_eq!(&parsed.event[..], raw);
        assert_eq!(
            parsed.received_at.unix_timestamp_nanos(),
            1_790_000_000_123_000_000
        );
    }

    #[test]
    fn line_breaks_in_the_original_use_base64() {
        let raw = b"{\n  \"type\": \"HEARTBEAT\"\n}";
        let line = line(&stored("jimbot.game.s.heartbeat"), &event(raw));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        assert!(find(&line, EVENT_BASE64_KEY).is_some());
        assert_eq!(&parse_line(&line).unwrap().event[..], raw);
    }

    #[test]
    fn garbage_lines_are_refused_with_a_reason() {
        for bad in [
            &b""[..],
            b"not json",
            b"{}",
            b"{\"seq\":1}",
            b"{\"seq\":\"x\",\"session\":\"s\",\"received_at\":\"2026-01-01T00:00:00Z\",\"event\":{}}",
            b"{\"seq\":1,\"session\":\"s\",\"received_at\":\"2026-01-01T00:00:00Z\",\"event\":}",
            b"{\"seq\":1,\"session\":\"s\",\"received_at\":\"2026-01-01T00:00:00Z\",\"event_base64\":\"!!\"}",
        ] {
            let error = parse_line(bad).unwrap_err();
            assert!(error.to_string().starts_with("not a replay line"), "{error}");
        }
    }
}
