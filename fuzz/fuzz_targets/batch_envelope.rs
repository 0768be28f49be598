//! The batch envelope (`POST /api/v1/events/batch`): how a body is cut into
//! events, each parsed or failed on its own.
//!
//! Properties: events come in order, each is a non-empty slice of the very
//! same body (no copies, no overlaps); accepted events keep their exact bytes,
//! carry the batch's id, and survive a protobuf round trip; a body strict JSON
//! reads as `{"events": [...]}` yields one event per array element.

#![no_main]

use bytes::Bytes;
use jimbot_schemas::balatro::parse_batch_bytes;
use jimbot_schemas::v1;
use libfuzzer_sys::fuzz_target;
use prost::Message as _;

fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    let Ok(batch) = parse_batch_bytes(body.clone()) else {
        return;
    };
    let mut previous_end = 0;
    for (position, event) in batch.events.iter().enumerate() {
        assert_eq!(event.index, position, "events out of order");
        assert!(!event.raw.is_empty(), "empty event {position}");
        let start = (event.raw.as_ptr() as usize).wrapping_sub(body.as_ptr() as usize);
        let end = start.checked_add(event.raw.len()).expect("span overflows");
        assert!(
            end <= body.len(),
            "event {position} is not a slice of the body"
        );
        assert!(
            start >= previous_end,
            "event {position} overlaps the one before"
        );
        previous_end = end;
        if let Ok(parsed) = &event.result {
            assert_eq!(parsed.original_json, event.raw);
            assert_eq!(
                Some(&parsed.batch_id),
                batch.batch_id.as_ref().or(Some(&String::new()))
            );
            let first = parsed.encode_to_vec();
            let decoded = v1::Event::decode(first.as_slice()).expect("own encoding decodes");
            assert_eq!(decoded.encode_to_vec(), first);
        }
    }
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(data)
        && let Some(serde_json::Value::Array(items)) = object.get("events")
    {
        assert_eq!(items.len(), batch.events.len(), "events lost or invented");
    }
});
