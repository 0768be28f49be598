//! Property tests: no input makes the parsers panic, and whatever they accept
//! keeps each event's exact original bytes.

mod common;

use bytes::Bytes;
use jimbot_schemas::balatro::{parse_batch_bytes, parse_single_bytes, sanitize, to_mod_json};
use proptest::prelude::*;
use serde_json::Value;

/// JSON's whitespace (RFC 8259): what may surround a value.
fn is_json_space(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

/// Where `raw` lies in `body`: it must be a slice of the very same buffer (not
/// a copy), so its offset is exact rather than "some matching substring".
fn offset_in(body: &Bytes, raw: &Bytes) -> std::ops::Range<usize> {
    let start = (raw.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
    assert!(
        start
            .checked_add(raw.len())
            .is_some_and(|end| end <= body.len()),
        "raw is not a slice of the body"
    );
    start..start + raw.len()
}

/// The value strict JSON gives `bytes` after the pre-pass, if any.
fn lenient(bytes: &[u8]) -> Option<Value> {
    serde_json::from_str(sanitize(bytes).as_str()).ok()
}

fn check(body: &[u8]) {
    let body = Bytes::copy_from_slice(body);
    if let Ok(batch) = parse_batch_bytes(body.clone()) {
        let mut previous_end = 0;
        for event in &batch.events {
            // An event is a JSON value: never empty, never padded.
            assert!(!event.raw.is_empty(), "empty raw for event {}", event.index);
            let range = offset_in(&body, &event.raw);
            assert_eq!(&body[range.clone()], &event.raw[..]);
            assert!(!is_json_space(&event.raw[0]));
            assert!(!event.raw.last().is_some_and(is_json_space));
            assert!(range.start >= previous_end, "events overlap or go back");
            previous_end = range.end;
            if let Ok(e) = &event.result {
                assert_eq!(e.original_json, event.raw);
                let _ = to_mod_json(e);
            }
        }
        // Each raw span, on its own, is exactly the value the body holds at
        // its position (a span cut too long or too short would not parse, or
        // would parse to something else).
        if let Some(Value::Array(items)) =
            lenient(&body).and_then(|mut v| v.get_mut("events").map(Value::take))
        {
            assert_eq!(items.len(), batch.events.len());
            for (item, event) in items.iter().zip(&batch.events) {
                assert_eq!(lenient(&event.raw).as_ref(), Some(item));
            }
        }
    }
    if let Ok(single) = parse_single_bytes(body.clone()) {
        // A single-event body is the event, give or take surrounding whitespace.
        let start = body.iter().position(|b| !is_json_space(b)).unwrap_or(0);
        let end = body
            .iter()
            .rposition(|b| !is_json_space(b))
            .map_or(0, |i| i + 1);
        assert_eq!(offset_in(&body, &single.raw), start..end);
        if let Ok(e) = &single.result {
            let _ = to_mod_json(e);
        }
    }
    let _ = sanitize(&body);
}

/// Batch elements that start or end with a byte the pre-pass rewrites, and
/// plain ones.
const EVENT_ITEMS: [&[u8]; 12] = [
    b"inf",
    b"-inf",
    b"nan",
    b"-nan",
    b"42",
    b"{\"type\":\"A\"}",
    b"{\"type\":\"A\",\"x\":inf}",
    b"{\"type\":\"A\",\"xs\":[1,-nan]}",
    b"{\"type\":\"A\",\"name\":\"x\x01\"}",
    b"{\"type\":\"A\",\"name\":\"\xff\"}",
    b"\"\x1f\"",
    b"\"\xe2\x82\"",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&body);
    }

    #[test]
    fn json_ish_bytes(body in "[{}\\[\\]\":,a-z0-9 .eE+\\-infa\\\\\u{0}-\u{1f}\u{80}-\u{ff}]{0,256}") {
        check(body.as_bytes());
    }

    #[test]
    fn batches_of_events_with_rewrites_at_their_edges(
        items in proptest::collection::vec(
            prop::sample::select(EVENT_ITEMS.to_vec()),
            0..8,
        ),
        seps in proptest::collection::vec(prop::sample::select(vec![",", " , ", "\n,\t"]), 8),
    ) {
        let mut body = b"{\"events\":[".to_vec();
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(seps[i].as_bytes());
            }
            body.extend_from_slice(item);
        }
        body.extend_from_slice(b"]}");
        check(&body);
        let raws: Vec<Vec<u8>> = parse_batch_bytes(Bytes::from(body))
            .unwrap()
            .events
            .into_iter()
            .map(|e| e.raw.to_vec())
            .collect();
        let expected: Vec<Vec<u8>> = items.iter().map(|item| item.to_vec()).collect();
        prop_assert_eq!(raws, expected);
    }

    #[test]
    fn bytes_spliced_into_fixtures(
        which in 0usize..common::EXPECTED_FIXTURES.len(),
        at in any::<prop::sample::Index>(),
        cut in 0usize..16,
        insert in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        let original = &common::FIXTURES[which].body;
        let at = at.index(original.len());
        let end = (at + cut).min(original.len());
        let mut body = original[..at].to_vec();
        body.extend_from_slice(&insert);
        body.extend_from_slice(&original[end..]);
        check(&body);
    }
}

#[test]
fn sanitize_borrows_valid_json() {
    let body = common::fixture("batch_startup.json");
    assert!(sanitize(&body).is_unchanged());
    assert!(!sanitize(&common::fixture("edge_invalid_json_inf_nan.json")).is_unchanged());
}
