//! Every event's `raw` (and `original_json`) is exactly its span of the
//! original body, also when the pre-pass rewrote bytes at the very start or
//! the very end of that span (a rewrite changes lengths, so an off-by-rewrite
//! mapping shows up as a span that is too long or too short).

use jimbot_schemas::balatro::{EventErrorKind, parse_batch, parse_single, sanitize};

/// Parses `body` as a batch and returns each event's raw bytes.
fn raws(body: &[u8]) -> Vec<Vec<u8>> {
    parse_batch(body)
        .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(body)))
        .events
        .into_iter()
        .map(|event| event.raw.to_vec())
        .collect()
}

/// The `events` of a batch whose elements are `items`, joined by `sep`.
fn batch(items: &[&[u8]], sep: &[u8]) -> Vec<u8> {
    let mut body = b"{\"events\":[".to_vec();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            body.extend_from_slice(sep);
        }
        body.extend_from_slice(item);
    }
    body.extend_from_slice(b"]}");
    body
}

/// Asserts that the batch of `items` yields exactly `items` as raw spans,
/// with tight and with whitespace separators.
fn assert_exact(items: &[&[u8]]) {
    for sep in [&b","[..], b" ,\n\t", b"\n,  "] {
        let body = batch(items, sep);
        let expected: Vec<Vec<u8>> = items.iter().map(|item| item.to_vec()).collect();
        assert_eq!(
            raws(&body),
            expected,
            "body {:?}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[test]
fn bare_inf_event_then_a_normal_one() {
    let body = br#"{"events":[inf,{"type":"A"}]}"#;
    let parsed = parse_batch(body).unwrap();
    assert_eq!(&parsed.events[0].raw[..], b"inf");
    assert_eq!(&parsed.events[1].raw[..], br#"{"type":"A"}"#);
    let err = parsed.events[0].result.as_ref().unwrap_err();
    assert_eq!(err.kind(), EventErrorKind::NotAnObject);
    let event = parsed.events[1].result.as_ref().unwrap();
    assert_eq!(&event.original_json[..], br#"{"type":"A"}"#);
}

#[test]
fn bare_non_finite_events() {
    assert_exact(&[b"inf"]);
    assert_exact(&[b"-nan"]);
    assert_exact(&[b"-inf", b"nan"]);
    assert_exact(&[b"-nan", br#"{"type":"A"}"#, b"inf"]);
}

#[test]
fn object_ending_right_after_a_rewritten_control_char() {
    assert_exact(&[b"{\"type\":\"A\",\"name\":\"x\x01\"}"]);
    assert_exact(&[b"{\"type\":\"A\x1f\"}", b"{\"type\":\"B\"}"]);
    // A control char as the last byte of a string that ends the batch too.
    assert_exact(&[b"\"\x00\""]);
}

#[test]
fn object_whose_last_value_is_non_finite() {
    assert_exact(&[br#"{"type":"A","x":inf}"#]);
    assert_exact(&[br#"{"type":"A","x":-nan}"#, br#"{"type":"B"}"#]);
    assert_exact(&[br#"{"type":"A","xs":[1,inf]}"#]);
    let parsed = parse_batch(br#"{"events":[{"type":"A","x":inf}]}"#).unwrap();
    let event = parsed.events[0].result.as_ref().unwrap();
    assert_eq!(&event.original_json[..], br#"{"type":"A","x":inf}"#);
}

#[test]
fn invalid_utf8_at_the_end_of_an_event() {
    assert_exact(&[b"{\"type\":\"A\",\"name\":\"J\xff\"}"]);
    assert_exact(&[b"{\"type\":\"A\xe2\x82\"}", b"{\"type\":\"B\"}"]);
    assert_exact(&[b"\"\xc3\""]);
}

#[test]
fn batch_mixing_rewrites_and_normal_events() {
    assert_exact(&[
        br#"{"type":"HEARTBEAT","payload":{"uptime":1}}"#,
        b"inf",
        b"{\"type\":\"A\",\"name\":\"x\x07\"}",
        br#"{"type":"B","x":-inf}"#,
        b"{\"type\":\"C\",\"name\":\"\xfe\"}",
        b"-nan",
        br#"{"type":"D","payload":{"chips":nan,"mult":2}}"#,
        b"42",
    ]);
}

#[test]
fn single_event_bodies_ending_in_a_rewrite() {
    for body in [
        &br#"{"type":"A","x":inf}"#[..],
        b"{\"type\":\"A\",\"name\":\"\x01\"}",
        b"{\"type\":\"A\",\"name\":\"\xff\"}",
        b"  {\"type\":\"A\",\"x\":-nan}\n",
    ] {
        let parsed = parse_single(body).unwrap();
        assert_eq!(&parsed.raw[..], body.trim_ascii(), "{body:?}");
    }
}

#[test]
fn original_range_maps_value_boundaries_exactly() {
    let body = b"[inf,\"a\x01\",-nan]";
    let sanitized = sanitize(body);
    let text = sanitized.as_str();
    // Sanitised: ["\u0000inf","a\u0001","\u0000-nan"]
    let first = text.find(',').unwrap();
    assert_eq!(sanitized.original_range(1, first), 1..4);
    let second = text[first + 1..].find(',').unwrap() + first + 1;
    assert_eq!(sanitized.original_range(first + 1, second), 5..9);
    let last = text.len() - 1;
    assert_eq!(sanitized.original_range(second + 1, last), 10..14);
    assert_eq!(sanitized.original_range(0, text.len()), 0..body.len());
    assert_eq!(sanitized.original_offset(text.len()), body.len());
    // A body that ends in a rewrite: the end of the text is the end of the body.
    let ends_in_rewrite = sanitize(b"inf");
    let len = ends_in_rewrite.as_str().len();
    assert_eq!(ends_in_rewrite.original_range(0, len), 0..3);
}
