//! The I/O: publishes a request's messages together and waits for every
//! acknowledgement (pipelined, never one round trip per event).

use std::time::{Duration, Instant};

use async_nats::jetstream::{
    self,
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
        _ => ApiError::Unavailable(format!("publishing to {subject} failed: {error}")),
    }
}
