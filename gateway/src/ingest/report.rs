//! The response body: what happened to each event of the request.

use async_nats::jetstream::publish::PublishAck;
use serde::Serialize;

use super::build::Item;

/// The answer to an ingest request (sent with 202 once everything is stored).
#[derive(Debug, Serialize)]
pub struct IngestReport {
    /// The session the events were stored under.
    pub session: String,
    /// The batch's id, when the body had one (never a dedup key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// One entry per event, in request order.
    pub events: Vec<EventReport>,
    /// Set when the whole body could not be used and was dead-lettered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<EventReport>,
    /// Counts over `events` and `body`.
    pub totals: Totals,
}

/// What happened to one event (or to an unusable body).
#[derive(Debug, Serialize)]
pub struct EventReport {
    /// Position in the request's events; absent for a whole body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The event's id as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// The event's type as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// The dedup key used (gRPC reports it; the REST body leaves it out).
    #[serde(skip)]
    pub msg_id: Option<String>,
    /// `stored`, `duplicate` or `dead_lettered`.
    pub status: Status,
    /// The stream that holds it.
    pub stream: String,
    /// Its sequence in that stream (for a duplicate: the original's).
    pub seq: u64,
    /// True when it was already stored (a re-send).
    pub duplicate: bool,
    /// Why it was dead-lettered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The reason token and the detail apart (for gRPC).
    #[serde(skip)]
    pub dead_letter: Option<(&'static str, String)>,
}

/// The outcome for one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Newly stored in `GAME_EVENTS`.
    Stored,
    /// Already stored: a re-send within the dedup window.
    Duplicate,
    /// Unusable; kept raw in `DEAD_LETTER` with the reason.
    DeadLettered,
}

impl Status {
    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stored => "stored",
            Status::Duplicate => "duplicate",
            Status::DeadLettered => "dead_lettered",
        }
    }
}

/// Counts per outcome.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    /// Newly stored events.
    pub stored: usize,
    /// Events already stored before.
    pub duplicates: usize,
    /// Events (or bodies) kept in `DEAD_LETTER`.
    pub dead_lettered: usize,
}

impl IngestReport {
    /// The report for each published item and its acknowledgement.
    pub fn new(session: String, batch_id: Option<String>, acked: Vec<(Item, PublishAck)>) -> Self {
        let mut report = IngestReport {
            session,
            batch_id,
            events: Vec::with_capacity(acked.len()),
            body: None,
            totals: Totals::default(),
        };
        for (item, ack) in acked {
            let entry = match item {
                Item::Event {
                    index,
                    event_id,
                    event_type,
                    msg_id,
                } => EventReport {
                    index: Some(index),
                    event_id: Some(event_id).filter(|id| !id.is_empty()),
                    r#type: Some(event_type),
                    msg_id: Some(msg_id),
                    status: if ack.duplicate {
                        Status::Duplicate
                    } else {
                        Status::Stored
                    },
                    stream: ack.stream,
                    seq: ack.sequence,
                    duplicate: ack.duplicate,
                    reason: None,
                    dead_letter: None,
                },
                Item::DeadLetter {
                    index,
                    reason,
                    detail,
                } => EventReport {
                    index,
                    event_id: None,
                    r#type: None,
                    msg_id: None,
                    status: Status::DeadLettered,
                    stream: ack.stream,
                    seq: ack.sequence,
                    duplicate: ack.duplicate,
                    reason: Some(format!("{reason}: {detail}")),
                    dead_letter: Some((reason, detail)),
                },
            };
            match entry.status {
                Status::Stored => report.totals.stored += 1,
                Status::Duplicate => report.totals.duplicates += 1,
                Status::DeadLettered => report.totals.dead_lettered += 1,
            }
            if entry.index.is_none() {
                report.body = Some(entry);
            } else {
                report.events.push(entry);
            }
        }
        // Once per request and outcome, not per event: each call hashes its
        // labels to find the counter.
        let totals = &report.totals;
        for (status, n) in [
            (Status::Stored, totals.stored),
            (Status::Duplicate, totals.duplicates),
            (Status::DeadLettered, totals.dead_lettered),
        ] {
            if n > 0 {
                metrics::counter!("gateway_events_total", "outcome" => status.as_str())
                    .increment(n as u64);
            }
        }
        report
    }
}
