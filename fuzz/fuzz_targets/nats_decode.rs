//! Protobuf decoding of what consumers read from NATS: `jimbot.v1.Event`,
//! `EventBatch` and `Command`, analytics' partial decoder, and the replay
//! line built from a stored message.
//!
//! Properties: whatever decodes re-encodes to a fixpoint; analytics' partial
//! view accepts every payload the full `Event` accepts; a replay line is one
//! line that reads back to the same sequence and the event's bytes.

#![no_main]

use async_nats::HeaderMap;
use bytes::Bytes;
use jimbot_analytics::decode::{
    Decoded, Delivery, EVENT_MESSAGE_TYPE, MESSAGE_TYPE_HEADER, decode,
};
use jimbot_analytics::domain::StreamSeq;
use jimbot_gateway::replay::{StoredMessage, ndjson};
use jimbot_schemas::v1;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use time::OffsetDateTime;

const SUBJECT: &str = "jimbot.game.s1.game_state";

fuzz_target!(|data: &[u8]| {
    let event = fixpoint::<v1::Event>(data);
    fixpoint::<v1::EventBatch>(data);
    fixpoint::<v1::Command>(data);
    analytics(data, event.is_some());
    replay_line(data, event.as_ref());
});

/// Decodes `data` as `M`; if it decodes, encoding, decoding and encoding again
/// gives the same bytes (maps are B-trees, so the order is stable).
fn fixpoint<M: Message + Default>(data: &[u8]) -> Option<M> {
    let message = M::decode(data).ok()?;
    let first = message.encode_to_vec();
    let again = M::decode(first.as_slice()).expect("own encoding decodes");
    assert_eq!(
        again.encode_to_vec(),
        first,
        "re-encoding is not a fixpoint"
    );
    Some(message)
}

fn analytics(data: &[u8], full_event_decodes: bool) {
    let mut headers = HeaderMap::new();
    headers.insert(MESSAGE_TYPE_HEADER, EVENT_MESSAGE_TYPE);
    let delivery = Delivery {
        seq: StreamSeq(7),
        subject: SUBJECT.into(),
        headers: Some(headers),
        payload: Bytes::copy_from_slice(data),
        stored_at_ms: 1_790_000_000_000,
    };
    match decode(delivery) {
        Decoded::Event(observation) => assert_eq!(observation.session.as_str(), "s1"),
        Decoded::Poison(poison) => assert!(
            !full_event_decodes,
            "analytics refused an Event the full decoder reads: {}",
            poison.detail
        ),
    }
}

fn replay_line(data: &[u8], event: Option<&v1::Event>) {
    let message = StoredMessage {
        sequence: 7,
        subject: SUBJECT.to_owned(),
        stored_at: OffsetDateTime::UNIX_EPOCH,
        payload: Bytes::copy_from_slice(data),
    };
    let line = match ndjson::line_for(&message) {
        Ok(line) => line,
        Err(error) => {
            assert!(event.is_none(), "no line for a decodable Event: {error}");
            return;
        }
    };
    assert!(line.ends_with(b"\n"));
    assert_eq!(
        line.iter().filter(|b| **b == b'\n').count(),
        1,
        "not one line"
    );
    let parsed = ndjson::parse_line(&line)
        .unwrap_or_else(|e| panic!("line does not read back: {e}: {line:?}"));
    assert_eq!(parsed.sequence, 7);
    assert_eq!(parsed.session, "s1");
    if let Some(event) = event {
        assert_eq!(parsed.event, ndjson::original(event), "event bytes changed");
    }
}
