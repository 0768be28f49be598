//! The two entry points: a batch body and a single-event body.

use bytes::Bytes;
use serde_json::value::RawValue;

use super::convert::{BatchMeta, Source, convert_event};
use super::error::{BodyError, BodyErrorKind, EventError, describe_serde};
use super::lenient::List;
use super::sanitize::{MAX_DEPTH, Sanitized, sanitize};
use super::wire;
use crate::v1;

/// A batch body (`POST /api/v1/events/batch`), event by event.
#[derive(Debug, Clone)]
pub struct ParsedBatch {
    /// The batch's `batch_id` (new for every re-send: never a dedup key).
    pub batch_id: Option<String>,
    /// The batch's `source` (always "BalatroMCP" from the mod).
    pub source: Option<String>,
    /// The batch's `timestamp`: epoch ms at 1 s resolution.
    pub timestamp_ms: Option<f64>,
    /// Every element of `events`, in order, each parsed or failed on its own.
    pub events: Vec<ParsedEvent>,
}

/// One event of a body.
#[derive(Debug, Clone)]
pub struct ParsedEvent {
    /// Position in the batch's `events` (0 for a single-event body).
    pub index: usize,
    /// The event's bytes exactly as sent (possibly invalid JSON); shares memory
    /// with `Event::original_json`. Keep this for dead-lettering a failed event.
    pub raw: Bytes,
    /// The typed event, or why this event cannot be used.
    pub result: Result<v1::Event, EventError>,
}

/// Parses a batch body; see [`parse_batch_bytes`].
pub fn parse_batch(body: &[u8]) -> Result<ParsedBatch, BodyError> {
    parse_batch_bytes(Bytes::copy_from_slice(body))
}

/// Parses a batch body that is already in a [`Bytes`], without copying it:
/// each event's `raw` and `original_json` are slices of `body`.
///
/// A [`BodyError`] means nothing in the body can be used. Otherwise every
/// element of `events` yields a [`ParsedEvent`], good or bad, and the batch's
/// `batch_id` and `timestamp` are copied into each good event.
pub fn parse_batch_bytes(body: Bytes) -> Result<ParsedBatch, BodyError> {
    parse_batch_bytes_within(body, usize::MAX)
}

/// [`parse_batch_bytes`], refusing a batch of more than `max_events` events
/// ([`BodyErrorKind::TooManyEvents`]) before any event is converted, so a
/// body of a million `{}` costs one pass, not a million events.
pub fn parse_batch_bytes_within(body: Bytes, max_events: usize) -> Result<ParsedBatch, BodyError> {
    let sanitized = sanitize(&body);
    let text = sanitized.as_str();
    check_object(&sanitized)?;
    let batch: wire::Batch<'_> = serde_json::from_str(text).map_err(body_error)?;
    let Some(raw_events) = batch.events else {
        return Err(BodyError::new(
            BodyErrorKind::MissingEvents,
            "batch has no `events`",
        ));
    };
    let List(items) = serde_json::from_str::<List<&RawValue>>(raw_events.get()).map_err(|err| {
        BodyError::new(
            BodyErrorKind::EventsNotArray,
            format!("events: {}", describe_serde(&err)),
        )
    })?;
    if items.len() > max_events {
        return Err(BodyError::new(
            BodyErrorKind::TooManyEvents,
            format!(
                "{} events in one batch; at most {max_events} are accepted",
                items.len()
            ),
        ));
    }
    let meta = BatchMeta {
        batch_id: batch.batch_id.clone(),
        timestamp_ms: batch.timestamp.map(|n| n.0),
    };
    let source = Source {
        sanitized: &sanitized,
        original: &body,
    };
    let events = items
        .into_iter()
        .enumerate()
        .map(|(index, raw)| parsed_event(&source, raw, index, &meta))
        .collect();
    Ok(ParsedBatch {
        batch_id: batch.batch_id,
        source: batch.source,
        timestamp_ms: meta.timestamp_ms,
        events,
    })
}

/// Parses a single-event body (`POST /api/v1/events`, in practice only
/// `connection_test`); see [`parse_single_bytes`].
pub fn parse_single(body: &[u8]) -> Result<ParsedEvent, BodyError> {
    parse_single_bytes(Bytes::copy_from_slice(body))
}

/// Parses a single-event body without copying it.
pub fn parse_single_bytes(body: Bytes) -> Result<ParsedEvent, BodyError> {
    let sanitized = sanitize(&body);
    let text = sanitized.as_str();
    check_object(&sanitized)?;
    let raw: &RawValue = serde_json::from_str(text).map_err(body_error)?;
    let source = Source {
        sanitized: &sanitized,
        original: &body,
    };
    Ok(parsed_event(&source, raw, 0, &BatchMeta::default()))
}

fn parsed_event(
    source: &Source<'_>,
    raw: &RawValue,
    index: usize,
    meta: &BatchMeta,
) -> ParsedEvent {
    ParsedEvent {
        index,
        raw: source.original_bytes(raw),
        result: convert_event(source, raw, index, meta),
    }
}

/// Rejects empty bodies, top levels that are not objects and too deep
/// nesting, before parsing.
fn check_object(sanitized: &Sanitized<'_>) -> Result<(), BodyError> {
    if sanitized.max_depth() > MAX_DEPTH {
        return Err(BodyError::new(
            BodyErrorKind::TooDeep,
            format!("nested deeper than {MAX_DEPTH} levels"),
        ));
    }
    match sanitized.as_str().trim_start().as_bytes().first() {
        None => Err(BodyError::new(BodyErrorKind::Empty, "empty body")),
        Some(b'{') => Ok(()),
        Some(_) => Err(BodyError::new(
            BodyErrorKind::NotAnObject,
            "top level is not a JSON object",
        )),
    }
}

fn body_error(err: serde_json::Error) -> BodyError {
    let detail = describe_serde(&err);
    let kind = if detail.contains("recursion limit exceeded") {
        BodyErrorKind::TooDeep
    } else if err.is_data() {
        BodyErrorKind::InvalidField
    } else {
        BodyErrorKind::InvalidJson
    };
    BodyError::new(kind, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_over_the_event_limit_is_refused_before_conversion() {
        let body = Bytes::from_static(br#"{"events":[{"type":"A"},{"type":"B"},{}]}"#);
        let error = parse_batch_bytes_within(body.clone(), 2).unwrap_err();
        assert_eq!(error.kind(), BodyErrorKind::TooManyEvents);
        assert_eq!(
            error.to_string(),
            "3 events in one batch; at most 2 are accepted"
        );
        assert_eq!(parse_batch_bytes_within(body, 3).unwrap().events.len(), 3);
        // The mod's `{}` for an empty list is no events, under any limit.
        let empty = Bytes::from_static(br#"{"events":{}}"#);
        assert!(
            parse_batch_bytes_within(empty, 0)
                .unwrap()
                .events
                .is_empty()
        );
    }
}
