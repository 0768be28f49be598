//! The I/O: publishes a request's messages together and waits for every
//! acknowledgement (pipelined, never one round trip per event).

use std::time::{Duration, Instant};

use async_nats::jetstream::{
    self, ErrorCode,
    context::{PublishError, PublishErrorKind},
    publish::PublishAck,
};
use futures::future::try_join_all;

use super::build::{Item, Outgoing};
use crate::error::ApiError;

/// Publishes every message, then awaits all their acknowledgements.
///
/// `Ok` only when JetStream acknowledged every one (stored, or recognised as
/// a duplicate); any failure fails the whole request, so nothing is reported
/// stored that is not. Messages that did get stored before a failure are
/// recognised as duplicates when the client re-sends.
pub async fn publish_all(
    js: &jetstream::Context,
    messages: Vec<Outgoing>,
    timeout: Duration,
) -> Result<Vec<(Item, PublishAck)>, ApiError> {
    let started = Instant::now();
    let work = async {
        let mut pending = Vec::with_capacity(messages.len());
        for message in messages {
            // Moved, not cloned: headers are the costliest part of a message.
            let ack = js
                .publish_with_headers(message.subject.clone(), message.headers, message.payload)
                .await
                .map_err(|e| failure(&message.subject, e))?;
            let (subject, item) = (message.subject, message.item);
            pending.push(async move {
                ack.await
                    .map(|ack| (item, ack))
                    .map_err(|e| failure(&subject, e))
            });
        }
        try_join_all(pending).await
    };
    let outcome = tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::Unavailable(format!(
                "JetStream did not acknowledge within {} ms",
                timeout.as_millis()
            )))
        });
    let label = if outcome.is_ok() { "acked" } else { "failed" };
    metrics::histogram!("gateway_publish_ack_seconds", "outcome" => label)
        .record(started.elapsed().as_secs_f64());
    outcome
}

fn failure(subject: &str, error: PublishError) -> ApiError {
    match error.kind() {
        PublishErrorKind::MaxPayloadExceeded => ApiError::TooLarge(format!(
            "message for {subject} exceeds NATS max_payload: {error}"
        )),
        PublishErrorKind::StreamNotFound => {
            ApiError::StreamMissing(format!("no stream stores {subject}: {error}"))
        }
        PublishErrorKind::TimedOut => {
            ApiError::Unavailable(format!("JetStream did not acknowledge {subject} in time"))
        }
        _ if store_full(&error) => ApiError::StoreFull(format!(
            "JetStream store full, {subject} not stored: {error}"
        )),
        _ => ApiError::Unavailable(format!("publishing to {subject} failed: {error}")),
    }
}

/// Whether JetStream refused the message for want of space: the stream's
/// `max_bytes`/`max_msgs` with discard `new` (10077, "maximum bytes/messages
/// exceeded"), or the server's or account's storage limit (10047, 10028,
/// 10023). Codes from nats-server's `server/errors.json`.
fn store_full(error: &PublishError) -> bool {
    use std::error::Error as _;
    let Some(refusal) = error
        .source()
        .and_then(|source| source.downcast_ref::<jetstream::Error>())
    else {
        return false;
    };
    match refusal.error_code() {
        ErrorCode::STORAGE_RESOURCES_EXCEEDED
        | ErrorCode::MEMORY_RESOURCES_EXCEEDED
        | ErrorCode::INSUFFICIENT_RESOURCES => true,
        // "Stream store failed" also covers I/O errors; only the limits are a full store.
        ErrorCode::STREAM_STORE_FAILED => refusal.to_string().contains("maximum"),
        _ => false,
    }
}

/// Most events one atomic batch may hold (the server's default limit).
const MAX_ATOMIC_BATCH: usize = 1000;

/// Like [`publish_all`], but a request's events go to JetStream as one
/// atomic batch: stored together with one disk sync, or not at all. Worth it
/// when the server syncs every write (`sync_interval: always`); with the
/// default flush policy pipelined single publishes are faster.
///
/// JetStream refuses a whole batch that holds a message id it has already
/// stored (a re-send), so then, and on any other refusal, the events are
/// published one by one instead, which stores the new ones, reports the
/// duplicates and surfaces real failures.
pub async fn publish_atomic(
    js: &jetstream::Context,
    messages: Vec<Outgoing>,
    timeout: Duration,
) -> Result<Vec<(Item, PublishAck)>, ApiError> {
    let (events, others): (Vec<Outgoing>, Vec<Outgoing>) = messages
        .into_iter()
        .partition(|m| matches!(m.item, Item::Event { .. }));
    if events.len() < 2 || events.len() > MAX_ATOMIC_BATCH {
        let mut all = events;
        all.extend(others);
        return publish_all(js, all, timeout).await.map(in_request_order);
    }
    let mut acked = publish_all(js, others, timeout).await?;
    let started = Instant::now();
    let committed = tokio::time::timeout(timeout, commit(js, &events)).await;
    metrics::histogram!("gateway_publish_ack_seconds", "outcome" => "atomic")
        .record(started.elapsed().as_secs_f64());
    match committed {
        Ok(Ok(batch)) => {
            // A committed batch is stored contiguously, ending at `seq`.
            let first = batch.seq + 1 - events.len() as u64;
            for (message, sequence) in events.into_iter().zip(first..) {
                let ack = serde_json::from_value(serde_json::json!({
                    "stream": batch.stream,
                    "seq": sequence,
                }))
                .map_err(|e| ApiError::Unavailable(format!("reading the batch's ack: {e}")))?;
                acked.push((message.item, ack));
            }
        }
        Ok(Err(refusal)) => {
            tracing::debug!(%refusal, "atomic batch refused; publishing its events one by one");
            metrics::counter!("gateway_atomic_batch_fallbacks_total").increment(1);
            acked.extend(publish_all(js, events, timeout).await?);
        }
        Err(_) => {
            return Err(ApiError::Unavailable(format!(
                "JetStream did not commit the batch within {} ms",
                timeout.as_millis()
            )));
        }
    }
    Ok(in_request_order(acked))
}

/// What JetStream answers to a committed batch.
#[derive(Debug, serde::Deserialize)]
struct Committed {
    stream: String,
    seq: u64,
    count: u64,
}

/// Publishes `events` as one atomic batch; the commit's answer, or why the
/// batch was refused.
async fn commit(js: &jetstream::Context, events: &[Outgoing]) -> Result<Committed, String> {
    let client = js.client();
    let batch_id = nuid::next().to_string();
    let last = events.len() - 1;
    for (i, message) in events.iter().enumerate() {
        let mut headers = message.headers.clone();
        headers.insert("Nats-Batch-Id", batch_id.as_str());
        headers.insert("Nats-Batch-Sequence", (i + 1).to_string().as_str());
        if i < last {
            client
                .publish_with_headers(message.subject.clone(), headers, message.payload.clone())
                .await
                .map_err(|e| e.to_string())?;
        } else {
            headers.insert("Nats-Batch-Commit", "1");
            let reply = client
                .request_with_headers(message.subject.clone(), headers, message.payload.clone())
                .await
                .map_err(|e| e.to_string())?;
            let committed: Result<Committed, _> = serde_json::from_slice(&reply.payload);
            return match committed {
                Ok(batch) if batch.count == events.len() as u64 => Ok(batch),
                _ => Err(String::from_utf8_lossy(&reply.payload).into_owned()),
            };
        }
    }
    Err("empty batch".to_owned())
}

/// Results sorted back into the request's order.
fn in_request_order(mut acked: Vec<(Item, PublishAck)>) -> Vec<(Item, PublishAck)> {
    acked.sort_by_key(|(item, _)| match item {
        Item::Event { index, .. } => *index,
        Item::DeadLetter { index, .. } => index.unwrap_or(0),
    });
    acked
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A publish refused by JetStream with `err_code`, as the client reports it.
    fn refused(err_code: u64, description: &str) -> PublishError {
        let server: jetstream::Error = serde_json::from_value(serde_json::json!({
            "code": 503,
            "err_code": err_code,
            "description": description,
        }))
        .expect("a JetStream API error");
        PublishError::with_source(PublishErrorKind::Other, server)
    }

    #[test]
    fn refusals_for_want_of_space_are_a_full_store() {
        for (code, description) in [
            (10077, "maximum bytes exceeded"),
            (10077, "maximum messages exceeded"),
            (10047, "insufficient storage resources available"),
            (10028, "insufficient memory resources available"),
            (10023, "insufficient resources"),
        ] {
            let error = failure("jimbot.game.s.t", refused(code, description));
            assert!(
                matches!(&error, ApiError::StoreFull(m) if m.contains(description)),
                "{code} {description}: {error:?}"
            );
        }
    }

    #[test]
    fn other_refusals_are_not_a_full_store() {
        for error in [
            refused(10077, "input/output error"),
            refused(10071, "wrong last sequence: 4"),
            PublishError::new(PublishErrorKind::BrokenPipe),
        ] {
            let mapped = failure("jimbot.game.s.t", error);
            assert!(matches!(mapped, ApiError::Unavailable(_)), "{mapped:?}");
        }
    }
}
