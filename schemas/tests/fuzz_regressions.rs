//! Inputs the fuzzers (`fuzz/`) stopped on, kept so they are tried on every
//! `cargo test`.

use jimbot_schemas::balatro::{parse_batch, parse_single, sanitize, to_mod_json};

/// Every structural byte and whitespace of the sanitised text maps back to
/// the same byte of the body: no rewrite emits one, so none lies inside a
/// rewritten stretch (where offsets are only approximate).
fn assert_structure_maps_exactly(body: &[u8]) {
    let sanitized = sanitize(body);
    let text = sanitized.as_str();
    assert_eq!(sanitized.original_offset(text.len()), body.len());
    for (pos, byte) in text.bytes().enumerate() {
        if matches!(
            byte,
            b'{' | b'}' | b'[' | b']' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r'
        ) {
            let orig = sanitized.original_offset(pos);
            assert_eq!(body.get(orig), Some(&byte), "offset {pos} maps to {orig}");
        }
    }
}

/// balatro_event: an invalid UTF-8 byte, then a bare `-inf` right after it.
/// Positions inside the two rewrites map past the body's end; positions that
/// matter (the ones checked here) do not.
#[test]
fn invalid_utf8_then_a_bare_infinity() {
    let body = b"\x89-inf-nn";
    let sanitized = sanitize(body);
    assert_eq!(sanitized.as_str(), "\u{fffd}\"\\u0000-inf\"-nn");
    assert_structure_maps_exactly(body);
    assert!(parse_single(body).is_err());
}

#[test]
fn rewrites_next_to_structure() {
    for body in [
        &b"{\"a\":[\xff,-inf,\"\x01\"],\"b\":nan}"[..],
        b"{\"events\":[inf ,\xc3,{\"type\":\"\x1f\"}]}",
        b"[-nan]\xe2\x82",
    ] {
        assert_structure_maps_exactly(body);
        let _ = parse_batch(body);
        let _ = parse_single(body);
    }
}

/// balatro_event: a number with more digits than a double holds was read a
/// unit in the last place off (serde_json's default fast path), so the
/// rendering, read again, was a different number. Numbers are now read
/// correctly rounded, exactly as Rust's own `f64` parser reads them.
#[test]
fn long_numbers_are_read_correctly_rounded_and_render_back_to_themselves() {
    for literal in [
        "124198.888888888888888888888888805256666",
        "248396.04886667",
        "0.30000000000000004441",
        "1.7976931348623157e308",
        "4.9406564584124654e-324",
        "9007199254740993",
    ] {
        let body = format!(r#"{{"type":"HEARTBEAT","timestamp":{literal}}}"#);
        let event = parse_single(body.as_bytes())
            .expect("a body")
            .result
            .expect("an event");
        let expected: f64 = literal.parse().expect("a float");
        assert_eq!(event.client_timestamp_ms, Some(expected), "{literal}");
        let rendered = to_mod_json(&event);
        let again = parse_single(rendered.to_string().as_bytes())
            .expect("a body")
            .result
            .expect("an event");
        assert_eq!(
            again.client_timestamp_ms,
            Some(expected),
            "{literal} rendered"
        );
        assert_eq!(to_mod_json(&again), rendered);
    }
}
