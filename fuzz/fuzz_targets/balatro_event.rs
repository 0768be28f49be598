//! The mod's JSON layer on a single-event body (`POST /api/v1/events`),
//! including the lenient pre-pass for what strict JSON rejects.
//!
//! Properties: the pre-pass leaves strict JSON untouched and maps every
//! structural byte back to the same byte of the body; an accepted event
//! keeps its exact bytes, survives a protobuf round trip, and its rendering
//! in the mod's shape parses back to the same rendering.

#![no_main]

use bytes::Bytes;
use jimbot_schemas::balatro::{parse_single_bytes, sanitize, to_mod_json};
use jimbot_schemas::v1;
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    check_sanitize(data);
    let body = Bytes::copy_from_slice(data);
    let Ok(parsed) = parse_single_bytes(body.clone()) else {
        return;
    };
    assert_eq!(parsed.index, 0);
    // The event's bytes are a slice of the very same body, not a copy.
    let start = (parsed.raw.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
    assert!(
        start
            .checked_add(parsed.raw.len())
            .is_some_and(|end| end <= body.len()),
        "raw bytes are not part of the body"
    );
    let Ok(event) = parsed.result else {
        return;
    };
    assert_eq!(event.original_json, parsed.raw, "original bytes changed");
    protobuf_fixpoint(&event);
    render_fixpoint(&event);
});

fn check_sanitize(data: &[u8]) {
    let sanitized = sanitize(data);
    let text = sanitized.as_str();
    // Strict JSON has nothing the pre-pass rewrites.
    if serde_json::from_slice::<serde_json::Value>(data).is_ok() {
        assert!(sanitized.is_unchanged(), "strict JSON was rewritten");
    }
    if sanitized.is_unchanged() {
        assert_eq!(text.as_bytes(), data);
    }
    assert_eq!(sanitized.original_offset(text.len()), data.len());
    // No rewrite emits a structural byte or whitespace, so each of those is
    // outside every rewritten stretch, where offsets map exactly.
    for (pos, byte) in text.bytes().enumerate() {
        if matches!(
            byte,
            b'{' | b'}' | b'[' | b']' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r'
        ) {
            let orig = sanitized.original_offset(pos);
            assert_eq!(data.get(orig), Some(&byte), "offset {pos} maps to {orig}");
        }
    }
}

/// Encoding, decoding and encoding again gives the same bytes.
fn protobuf_fixpoint(event: &v1::Event) {
    let first = event.encode_to_vec();
    let decoded = v1::Event::decode(first.as_slice()).expect("own encoding decodes");
    assert_eq!(
        decoded.encode_to_vec(),
        first,
        "protobuf round trip changed the event"
    );
}

/// The mod-shaped rendering, parsed again, renders the same.
fn render_fixpoint(event: &v1::Event) {
    let rendered = to_mod_json(event);
    let text = rendered.to_string();
    let reparsed = parse_single_bytes(Bytes::from(text.clone()))
        .unwrap_or_else(|e| panic!("rendering {text} is not a body: {e}"));
    let again = reparsed
        .result
        .unwrap_or_else(|e| panic!("rendering {text} is not an event: {e}"));
    assert_eq!(
        to_mod_json(&again),
        rendered,
        "render -> parse -> render changed {text}"
    );
}
