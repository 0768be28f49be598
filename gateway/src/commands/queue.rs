//! Taking a session's commands off the `COMMANDS` work queue for a poll.
//!
//! Each session is read through a durable consumer of its own (cached here,
//! and deleted by the server after two idle minutes). A poll fetches what is
//! queued without waiting, removes it with one confirmed acknowledgement
//! (`AckPolicy::All` on the last message), and only then hands it out. If
//! anything fails first, or the poll is abandoned, the commands are handed
//! back (NAK) at once, in their order, for the next poll.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use async_nats::jetstream::{
    self, AckKind, Message,
    consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull},
};
use futures::{StreamExt, future::join_all};
use jimbot_nats::{Token, subject, topology::streams};
use jimbot_schemas::v1;
use jimbot_service::log_text::untrusted;
use prost::Message as _;

use crate::error::ApiError;

/// Most commands returned by one poll.
const MAX_PER_POLL: usize = 100;
/// A session's consumer is deleted by the server after this long unpolled.
const IDLE: Duration = Duration::from_secs(120);
/// Consumers cached at most; past it the cache starts over.
const MAX_CACHED: usize = 10_000;

/// The per-session poll consumers, cached so a poll costs two round trips.
#[derive(Debug, Default)]
pub struct PollConsumers(Mutex<HashMap<Token, PullConsumer>>);

impl PollConsumers {
    async fn get(
        &self,
        js: &jetstream::Context,
        session: &Token,
    ) -> Result<PullConsumer, ApiError> {
        if let Some(consumer) = self.lock().get(session) {
            return Ok(consumer.clone());
        }
        let config = pull::Config {
            durable_name: Some(format!("poll-{session}")),
            description: Some("jimbot-gateway: commands polled by one game instance".to_owned()),
            filter_subject: subject::command(session),
            deliver_policy: DeliverPolicy::All,
            ack_policy: AckPolicy::Explicit,
            ack_wait: Duration::from_secs(5),
            inactive_threshold: IDLE,
            ..Default::default()
        };
        let consumer = js
            .create_consumer_on_stream(config, streams::COMMANDS)
            .await
            .map_err(|e| unavailable(&e))?;
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED {
            cache.clear();
        }
        cache.insert(session.clone(), consumer.clone());
        Ok(consumer)
    }

    fn forget(&self, session: &Token) {
        self.lock().remove(session);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Token, PullConsumer>> {
        // The map holds no invariant a panic could break.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Removes and returns `session`'s queued command lines, in queue order.
pub async fn take(
    consumers: &PollConsumers,
    js: &jetstream::Context,
    session: &Token,
) -> Result<Vec<String>, ApiError> {
    let consumer = consumers.get(js, session).await?;
    let messages = match fetch(&consumer).await {
        Ok(messages) => messages,
        // The server deletes idle consumers: make a new one, once.
        Err(_) => {
            consumers.forget(session);
            fetch(&consumers.get(js, session).await?).await?
        }
    };
    let mut fetched = HandBackOnDrop(messages);
    let commands: Vec<Option<String>> = fetched
        .0
        .iter()
        .map(
            |message| match v1::Command::decode(message.payload.clone()) {
                Ok(command)
                    if !command.line.is_empty() && !command.line.contains(char::is_control) =>
                {
                    Some(command.line)
                }
                other => {
                    tracing::warn!(
                        subject = %untrusted(&message.subject),
                        command = %untrusted(&format!("{other:?}")),
                        "dropping an unusable command"
                    );
                    None
                }
            },
        )
        .collect();
    // Remove them all at once (a work queue needs one ack per message);
    // what could not be removed is handed back and not returned.
    let messages = std::mem::take(&mut fetched.0);
    let removed = join_all(messages.iter().map(|message| message.double_ack())).await;
    let mut lines = Vec::with_capacity(commands.len());
    for ((message, command), outcome) in messages.into_iter().zip(commands).zip(removed) {
        match outcome {
            Ok(()) => lines.extend(command),
            Err(e) => {
                tracing::warn!(error = %e, "could not remove a polled command; it stays queued");
                fetched.0.push(message);
            }
        }
    }
    Ok(lines)
}

async fn fetch(consumer: &PullConsumer) -> Result<Vec<Message>, ApiError> {
    let mut batch = consumer
        .fetch()
        .max_messages(MAX_PER_POLL)
        .expires(Duration::from_secs(1))
        .messages()
        .await
        .map_err(|e| unavailable(&e))?;
    let mut messages = Vec::new();
    while let Some(message) = batch.next().await {
        messages.push(message.map_err(|e| unavailable(&e))?);
    }
    Ok(messages)
}

/// Fetched messages not yet removed: NAKed when dropped, so an abandoned or
/// failed poll leaves them queued for the next one instead of hidden until
/// the ack wait runs out.
struct HandBackOnDrop(Vec<Message>);

impl Drop for HandBackOnDrop {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let messages = std::mem::take(&mut self.0);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for message in messages {
                    let _ = message.ack_with(AckKind::Nak(None)).await;
                }
            });
        }
    }
}

fn unavailable(error: &dyn std::fmt::Display) -> ApiError {
    ApiError::Unavailable(format!("reading the command queue failed: {error}"))
}
