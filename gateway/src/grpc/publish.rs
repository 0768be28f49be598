//! `Publish` and `PublishBatch`: the REST ingest's semantics over gRPC.
//!
//! A body in the mod's JSON goes through exactly the REST path. A typed event
//! is checked field by field (a client that builds protobuf can be told
//! precisely what is wrong, unlike the mod) and then stored like a parsed one.

use bytes::Bytes;
use jimbot_schemas::{
    balatro::{canonical_name, to_mod_json},
    v1::{self, EventType},
};
use tonic::{Request, Status};

use super::status::invalid;
use crate::{
    app::AppState,
    ingest::{
        self, Built,
        build::{RequestContext, event_message},
        report::{EventReport, IngestReport, Status as Outcome},
    },
    session::{DEFAULT_SESSION, Session},
};

/// Most events one `PublishBatch` may carry.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Longest event id accepted from a typed event.
const MAX_EVENT_ID_LEN: usize = 1024;

/// `Publish`.
pub async fn publish(
    state: &AppState,
    request: Request<v1::PublishRequest>,
) -> Result<v1::PublishResponse, Status> {
    let (context, request) = context(state, request, "Publish", |r| &r.session)?;
    let built = match request.body {
        Some(v1::publish_request::Body::ModJson(body)) => {
            ingest::off_runtime_if_large(&context, body, ingest::single_messages).await?
        }
        Some(v1::publish_request::Body::Event(event)) => {
            let event = checked_event(event, "event")?;
            (None, vec![event_message(&context, 0, event)])
        }
        None => return Err(missing_body()),
    };
    let mut report = store(state, context, built).await?;
    let result = match report.body.take() {
        Some(body) => result(body),
        None => report
            .events
            .into_iter()
            .next()
            .map(result)
            .ok_or_else(|| Status::internal("the event was published but not reported"))?,
    };
    Ok(v1::PublishResponse {
        result: Some(result),
    })
}

/// `PublishBatch`.
pub async fn publish_batch(
    state: &AppState,
    request: Request<v1::PublishBatchRequest>,
) -> Result<v1::PublishBatchResponse, Status> {
    let (context, request) = context(state, request, "PublishBatch", |r| &r.session)?;
    let built = match request.body {
        Some(v1::publish_batch_request::Body::ModJson(body)) => {
            ingest::off_runtime_if_large(&context, body, ingest::batch_messages).await?
        }
        Some(v1::publish_batch_request::Body::Batch(batch)) => typed_batch(&context, batch)?,
        None => return Err(missing_body()),
    };
    let report = store(state, context, built).await?;
    Ok(v1::PublishBatchResponse {
        batch_id: report.batch_id.clone().unwrap_or_default(),
        body_dead_lettered: report.body.map(|body| dead_lettered(&body)),
        results: report.events.into_iter().map(result).collect(),
    })
}

/// Admission (connected, rate, an in-flight permit) and the request context.
fn context<T>(
    state: &AppState,
    request: Request<T>,
    operation: &str,
    session: impl Fn(&T) -> &String,
) -> Result<(RequestContext, T), Status> {
    let (metadata, _, request) = request.into_parts();
    let name = session(&request);
    let session = Session(jimbot_nats::Token::new(if name.is_empty() {
        DEFAULT_SESSION
    } else {
        name
    }));
    state.admit(&session)?;
    let headers = metadata.into_headers();
    let path = format!("/jimbot.v1.EventBus/{operation}");
    Ok((state.request_context(session, &path, &headers), request))
}

async fn store(
    state: &AppState,
    context: RequestContext,
    built: Built,
) -> Result<IngestReport, Status> {
    // Shares the REST ingest's bound on requests in flight.
    let _permit =
        state.in_flight().clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted("too many requests in flight; retry shortly")
        })?;
    let (batch_id, messages) = built;
    Ok(ingest::store(state, context, batch_id, messages).await?)
}

fn typed_batch(context: &RequestContext, batch: v1::EventBatch) -> Result<Built, Status> {
    if batch.events.is_empty() {
        return Err(invalid(vec![(
            "batch.events".to_owned(),
            "is empty".to_owned(),
        )]));
    }
    if batch.events.len() > MAX_BATCH_EVENTS {
        return Err(invalid(vec![(
            "batch.events".to_owned(),
            format!("{} events; at most {MAX_BATCH_EVENTS}", batch.events.len()),
        )]));
    }
    let mut violations = Vec::new();
    let mut messages = Vec::with_capacity(batch.events.len());
    for (index, mut event) in batch.events.into_iter().enumerate() {
        if event.batch_id.is_empty() {
            event.batch_id.clone_from(&batch.batch_id);
        }
        match checked_event(event, &format!("batch.events[{index}]")) {
            Ok(event) => messages.push(event_message(context, index, event)),
            Err(mut problems) => violations.append(&mut problems.0),
        }
    }
    if !violations.is_empty() {
        return Err(invalid(violations));
    }
    let batch_id = Some(batch.batch_id).filter(|id| !id.is_empty());
    Ok((batch_id, messages))
}

/// A typed event's problems, by field path.
struct Violations(Vec<(String, String)>);

impl From<Violations> for Status {
    fn from(violations: Violations) -> Self {
        invalid(violations.0)
    }
}

/// Checks a typed event and fills in what the mod's JSON would have given:
/// the type's name, and the JSON rendering as `original_json` (replay shows
/// it, and an event without an id is deduplicated by it).
fn checked_event(mut event: v1::Event, path: &str) -> Result<v1::Event, Violations> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, what: String| problems.push((format!("{path}.{field}"), what));
    match event.r#type() {
        EventType::Unspecified => problem("type", "must be set".to_owned()),
        EventType::Custom if event.type_name.trim().is_empty() => {
            problem("type_name", "must name a custom event type".to_owned());
        }
        known => {
            if event.type_name.is_empty()
                && let Some(name) = canonical_name(known)
            {
                event.type_name = name.to_owned();
            }
        }
    }
    if event.type_name.len() > 256 {
        problem("type_name", "longer than 256 bytes".to_owned());
    }
    if event.event_id.len() > MAX_EVENT_ID_LEN {
        problem("event_id", format!("longer than {MAX_EVENT_ID_LEN} bytes"));
    }
    if event
        .client_timestamp_ms
        .is_some_and(|t| !t.is_finite() || t < 0.0)
    {
        problem(
            "client_timestamp_ms",
            "must be a finite, non-negative number".to_owned(),
        );
    }
    if !problems.is_empty() {
        return Err(Violations(problems));
    }
    if event.original_json.is_empty() {
        event.original_json = Bytes::from(to_mod_json(&event).to_string());
    }
    Ok(event)
}

fn missing_body() -> Status {
    invalid(vec![(
        "body".to_owned(),
        "set `event` / `batch` or `mod_json`".to_owned(),
    )])
}

fn result(report: EventReport) -> v1::PublishResult {
    let outcome = match report.status {
        Outcome::Stored => v1::publish_result::Outcome::Stored(v1::Stored {
            stream: report.stream.clone(),
            sequence: report.seq,
        }),
        Outcome::Duplicate => v1::publish_result::Outcome::Duplicate(v1::Duplicate {
            stream: report.stream.clone(),
            sequence: report.seq,
        }),
        Outcome::DeadLettered => v1::publish_result::Outcome::DeadLettered(dead_lettered(&report)),
    };
    v1::PublishResult {
        index: report.index.unwrap_or_default() as u32,
        event_id: report.event_id.unwrap_or_default(),
        msg_id: report.msg_id.unwrap_or_default(),
        outcome: Some(outcome),
    }
}

fn dead_lettered(report: &EventReport) -> v1::DeadLettered {
    let (token, detail) = report
        .dead_letter
        .clone()
        .unwrap_or(("other", String::new()));
    let reason = match (report.index, token) {
        (None, _) => v1::DeadLetterReason::InvalidBody,
        (Some(_), "event_too_large") => v1::DeadLetterReason::TooLarge,
        (Some(_), _) => v1::DeadLetterReason::InvalidEvent,
    };
    v1::DeadLettered {
        reason: reason.into(),
        detail: format!("{token}: {detail}"),
        stream: report.stream.clone(),
        sequence: report.seq,
    }
}
