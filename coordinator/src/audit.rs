//! The audit trail: every grant, renewal, release, expiry and denial as a
//! `jimbot.v1.CoordinatorEvent` on `jimbot.coordinator.events.<kind>`
//! (stream `COORDINATOR`).

use async_nats::{Client, HeaderMap};
use jimbot_nats::{Token, subject};
use jimbot_schemas::v1;
use prost::Message;
use tokio::sync::mpsc;

use crate::{
    convert,
    domain::At,
    scheduler::{Denial, Lease},
};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A lease was granted.
    Granted,
    /// A lease was renewed.
    Renewed,
    /// A lease was released.
    Released,
    /// A lease expired.
    Expired,
    /// An acquire was denied.
    Denied,
}

impl Kind {
    /// The subject token and `kind` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Granted => "granted",
            Kind::Renewed => "renewed",
            Kind::Released => "released",
            Kind::Expired => "expired",
            Kind::Denied => "denied",
        }
    }
}

/// Most events published together.
const BATCH: usize = 256;
/// How long the first event of a batch waits for others.
const BATCH_WINDOW: std::time::Duration = std::time::Duration::from_millis(2);

/// Publishes audit events, in order, from one task (so a decision costs a
/// channel send, not a task of its own).
#[derive(Debug, Clone)]
pub struct Audit {
    tx: mpsc::UnboundedSender<(Kind, v1::CoordinatorEvent)>,
}

impl Audit {
    /// Publishes on `client` until every handle is dropped.
    pub fn new(client: Client) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Kind, v1::CoordinatorEvent)>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                // Events that come close together leave in one write: under
                // load that saves a system call per decision here and in
                // nats-server.
                let window = tokio::time::sleep(BATCH_WINDOW);
                tokio::pin!(window);
                while batch.len() < BATCH {
                    let room = BATCH - batch.len();
                    tokio::select! {
                        biased;
                        more = rx.recv_many(&mut batch, room) => if more == 0 { break },
                        () = &mut window => break,
                    }
                }
                for (kind, event) in batch.drain(..) {
                    let subject = subject::coordinator_event(&Token::new(kind.as_str()));
                    let mut headers = HeaderMap::new();
                    headers.insert("Content-Type", "application/protobuf");
                    headers.insert("Jimbot-Message-Type", "jimbot.v1.CoordinatorEvent");
                    let payload = event.encode_to_vec().into();
                    // Not awaiting JetStream's acknowledgement: the audit must
                    // never hold up a decision; the leases themselves are what
                    // is stored with acknowledgement.
                    if let Err(e) = client.publish_with_headers(subject, headers, payload).await {
                        tracing::warn!(error = %e, "audit event not published");
                    }
                }
            }
        });
        Self { tx }
    }

    /// Records something that happened to `lease`.
    pub fn lease(&self, kind: Kind, lease: &Lease, at: At) {
        self.publish(
            kind,
            v1::CoordinatorEvent {
                kind: kind.as_str().to_owned(),
                at: Some(convert::timestamp(at)),
                lease: Some(convert::lease(lease)),
                ..Default::default()
            },
        );
    }

    /// Records a denial.
    pub fn denied(&self, resource: &str, holder: &str, denial: &Denial, at: At) {
        self.publish(
            Kind::Denied,
            v1::CoordinatorEvent {
                kind: Kind::Denied.as_str().to_owned(),
                at: Some(convert::timestamp(at)),
                resource: resource.to_owned(),
                holder: holder.to_owned(),
                denial: Some(convert::denial(denial)),
                ..Default::default()
            },
        );
    }

    fn publish(&self, kind: Kind, event: v1::CoordinatorEvent) {
        let _ = self.tx.send((kind, event));
    }
}
