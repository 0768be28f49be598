//! Acquire requests through JetStream: a requester publishes a protobuf
//! `AcquireRequest` to `jimbot.coordinator.queue.acquire` (stream
//! `COORDINATOR_REQUESTS`, a work queue) with its reply subject in the
//! `Jimbot-Reply-To` header; the coordinator consumes the stream durably and
//! publishes the `AcquireResponse` there.
//!
//! A request is acknowledged only after its answer is published, so a
//! request in the queue, or waiting for capacity when a coordinator dies,
//! is answered by the next one. Its wait timeout counts from when it was
//! queued. A request without a request id gets `queue-<stream sequence>`,
//! so a redelivered request cannot be granted twice while its lease lives;
//! and its answer is recorded in the lease bucket before it is sent, until
//! the request is acknowledged, so a request redelivered after its answer
//! was sent gets that answer again even if its lease is gone by then.

use std::time::Duration;

use async_nats::{
    Client, HeaderMap,
    jetstream::{self, AckKind, Message, consumer::pull, kv},
};
use futures::StreamExt;
use jimbot_nats::Topology;
use jimbot_schemas::v1;
use jimbot_service::Shutdown;
use prost::Message as _;
use tokio::task::JoinSet;

use crate::{
    actor::Coordinator,
    convert,
    domain::Ident,
    scheduler::{Denial, DenialReason},
    store,
};

/// The header naming where the answer goes.
pub const REPLY_TO_HEADER: &str = "Jimbot-Reply-To";
/// How often a request still waiting tells JetStream it is being worked on
/// (well within the consumer's `ack_wait`).
const PROGRESS_INTERVAL: Duration = Duration::from_secs(3);

/// Why the queue consumer could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot consume the coordinator's request queue: {0}")]
pub struct WorkQueueError(String);

/// How long to wait before trying to reach the queue again.
const SUBSCRIBE_RETRY: Duration = Duration::from_secs(1);

/// Creates (or finds) the durable consumer and starts pulling from it; the
/// bucket where answers are recorded until their request is acknowledged.
async fn subscribe(js: &jetstream::Context) -> Result<(pull::Stream, kv::Store), WorkQueueError> {
    let bucket = jimbot_nats::topology::buckets::COORDINATOR_LEASES;
    let answers = js
        .get_key_value(bucket)
        .await
        .map_err(|e| WorkQueueError(format!("bucket {bucket}: {e}")))?;
    let spec = Topology::coordinator_requests_consumer();
    let stream = js
        .get_stream(&spec.stream)
        .await
        .map_err(|e| WorkQueueError(format!("stream {}: {e}", spec.stream)))?;
    let consumer = stream
        .get_or_create_consumer(spec.name(), spec.config.clone())
        .await
        .map_err(|e| WorkQueueError(format!("consumer {}: {e}", spec.name())))?;
    let messages = consumer
        .messages()
        .await
        .map_err(|e| WorkQueueError(e.to_string()))?;
    Ok((messages, answers))
}

/// Consumes the queue (retrying to reach it until it can or shutdown
/// starts) until `shutdown`, then leaves unanswered requests unacknowledged.
pub async fn consume(js: jetstream::Context, coordinator: Coordinator, shutdown: Shutdown) {
    let (mut messages, answers) = loop {
        match subscribe(&js).await {
            Ok(subscribed) => break subscribed,
            Err(e) => {
                tracing::warn!(error = %e, "retrying");
                tokio::select! {
                    () = shutdown.requested() => return,
                    () = tokio::time::sleep(SUBSCRIBE_RETRY) => {}
                }
            }
        }
    };
    let client = js.client();
    {
        let mut in_flight = JoinSet::new();
        loop {
            tokio::select! {
                () = shutdown.requested() => break,
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                next = messages.next() => match next {
                    Some(Ok(message)) => {
                        let coordinator = coordinator.clone();
                        let client = client.clone();
                        let answers = answers.clone();
                        in_flight.spawn(answer(client, coordinator, answers, message));
                    }
                    Some(Err(e)) => tracing::warn!(error = %e, "request queue"),
                    None => break,
                },
            }
        }
        drop(messages);
        while in_flight.join_next().await.is_some() {}
    }
}

async fn answer(client: Client, coordinator: Coordinator, answers: kv::Store, message: Message) {
    let reply_to = message
        .headers
        .as_ref()
        .and_then(|h| h.get(REPLY_TO_HEADER))
        .map(|v| v.as_str().to_owned())
        .filter(|s| valid_reply_subject(s));
    let Some(reply_to) = reply_to else {
        tracing::warn!("queued request without a valid {REPLY_TO_HEADER} header; dropped");
        let _ = message.ack_with(AckKind::Term).await;
        return;
    };
    let (sequence, queued_for, redelivered) = match message.info() {
        Ok(info) => (
            info.stream_sequence,
            Duration::try_from(time::OffsetDateTime::now_utc() - info.published)
                .unwrap_or_default(),
            info.delivered > 1,
        ),
        Err(_) => (0, Duration::ZERO, false),
    };
    // Answered by a coordinator that died before acknowledging it: the same
    // answer again, not a new decision.
    if redelivered {
        match store::remembered_answer(&answers, sequence).await {
            Ok(Some(payload)) => {
                send(
                    &client,
                    &answers,
                    &message,
                    sequence,
                    reply_to,
                    payload.to_vec(),
                )
                .await;
                return;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "queued request left for redelivery");
                let _ = message
                    .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                    .await;
                return;
            }
        }
    }
    let response = match v1::AcquireRequest::decode(message.payload.as_ref()) {
        Err(e) => Err(Denial::permanent(
            DenialReason::InvalidArgument,
            format!("malformed jimbot.v1.AcquireRequest: {e}"),
        )),
        Ok(request) => match convert::acquire(request) {
            Err(denial) => Err(denial),
            Ok(mut acquire) => {
                if acquire.request_id.is_none() {
                    acquire.request_id = Ident::parse(&format!("queue-{sequence}")).ok();
                }
                acquire.wait_timeout = acquire.wait_timeout.saturating_sub(queued_for);
                let waiting = coordinator.acquire(acquire);
                tokio::pin!(waiting);
                let mut progress = tokio::time::interval(PROGRESS_INTERVAL);
                progress.tick().await;
                let outcome = loop {
                    tokio::select! {
                        outcome = &mut waiting => break outcome,
                        _ = progress.tick() => { let _ = message.ack_with(AckKind::Progress).await; }
                    }
                };
                match outcome {
                    Ok(Err(denial)) if denial.reason == DenialReason::ShuttingDown => {
                        // The next coordinator answers it.
                        let _ = message.ack_with(AckKind::Nak(None)).await;
                        return;
                    }
                    Ok(answer) => answer,
                    Err(e) => {
                        tracing::warn!(error = %e, "queued request not answered; left for redelivery");
                        let _ = message
                            .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
                            .await;
                        return;
                    }
                }
            }
        },
    };
    let payload = convert::acquire_response(&response).encode_to_vec();
    if let Err(e) = store::remember_answer(&answers, sequence, payload.clone().into()).await {
        // Unanswered, so nobody relies on it: a grant stays the lease of its
        // request id, and the redelivered request gets it.
        tracing::warn!(error = %e, "queued request left for redelivery");
        let _ = message
            .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
            .await;
        return;
    }
    send(&client, &answers, &message, sequence, reply_to, payload).await;
}

/// Publishes the answer, acknowledges the request once it has left, then
/// drops the recorded answer.
async fn send(
    client: &Client,
    answers: &kv::Store,
    message: &Message,
    sequence: u64,
    reply_to: String,
    payload: Vec<u8>,
) {
    let mut headers = HeaderMap::new();
    headers.insert("Content-Type", "application/protobuf");
    headers.insert("Jimbot-Message-Type", "jimbot.v1.AcquireResponse");
    let published = client
        .publish_with_headers(reply_to, headers, payload.into())
        .await;
    // Acknowledged only once the answer has left (flushed to the server).
    match (published, client.flush().await) {
        (Ok(()), Ok(())) => match message.double_ack().await {
            Ok(()) => {
                if let Err(e) = store::forget_answer(answers, sequence).await {
                    tracing::warn!(error = %e, "recorded answer not dropped");
                }
            }
            Err(e) => tracing::warn!(error = %e, "queued request not acknowledged"),
        },
        (Err(e), _) => tracing::warn!(error = %e, "answer to a queued request not published"),
        (_, Err(e)) => tracing::warn!(error = %e, "answer to a queued request not flushed"),
    }
}

/// A subject a reply may be published to: tokens of printable ASCII without
/// wildcards, and nothing the coordinator itself serves or records.
fn valid_reply_subject(subject: &str) -> bool {
    !subject.is_empty()
        && subject.len() <= 512
        && subject.split('.').all(|token| {
            !token.is_empty()
                && token != "*"
                && token != ">"
                && token.bytes().all(|b| b.is_ascii_graphic())
        })
        && !subject.starts_with("jimbot.")
        && !subject.starts_with("$JS.")
        && !subject.starts_with("$KV.")
}

#[cfg(test)]
mod tests {
    use super::valid_reply_subject;

    #[test]
    fn reply_subjects_are_checked() {
        assert!(valid_reply_subject("_INBOX.abc.def"));
        assert!(valid_reply_subject("trainer.replies.7"));
        for bad in [
            "",
            "a..b",
            "a.>",
            "a.*",
            "with space",
            "tab\tsubject",
            "jimbot.coordinator.acquire",
            "jimbot.coordinator.events.granted",
            "$KV.coordinator-leases.lease.l-1",
            "$JS.API.STREAM.DELETE.X",
        ] {
            assert!(!valid_reply_subject(bad), "{bad:?}");
        }
    }
}
