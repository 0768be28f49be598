//! The task that owns the [`Scheduler`]: it takes requests from the
//! front-ends, applies them with the current time, persists what changed
//! (pipelined, through [`store`]), answers each request once its change is
//! acknowledged by JetStream, publishes the audit trail, wakes up for
//! expiries, wait timeouts and quota refills, and keeps the gauges current.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_nats::jetstream::{self, kv};
use jimbot_service::Shutdown;
use sysinfo::{MemoryRefreshKind, RefreshKind, System};
use tokio::{
    sync::{mpsc, oneshot, watch},
    time::Instant,
};

use crate::{
    audit::{Audit, Kind},
    clock::Clock,
    config::ResourcesConfig,
    domain::{At, Ident, LeaseId},
    metrics::{self, Decisions, Operation},
    scheduler::{
        Acquire, Denial, Effect, Lease, LeaseFailure, LeaseFailureReason, ResourceStatus,
        Scheduler, Ticket, names,
    },
    store::{self, StoreError, Write, Writes},
};

/// An acquire's answer.
pub type AcquireAnswer = Result<Lease, Denial>;
/// A renew's or release's answer.
pub type LeaseAnswer = Result<Lease, LeaseFailure>;

/// Why a request got no answer from the coordinator.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ActorError {
    kind: ActorErrorKind,
    message: String,
}

/// What kind of failure an [`ActorError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorErrorKind {
    /// The coordinator is stopping or stopped.
    Stopped,
    /// The change could not be stored; nothing was granted.
    Store,
}

impl ActorError {
    /// What kind of failure it is.
    pub fn kind(&self) -> ActorErrorKind {
        self.kind
    }

    fn stopped() -> Self {
        Self {
            kind: ActorErrorKind::Stopped,
            message: "the coordinator is stopping".to_owned(),
        }
    }

    fn store(e: &StoreError) -> Self {
        Self {
            kind: ActorErrorKind::Store,
            message: format!("not stored, nothing changed: {e}"),
        }
    }
}

/// The state of some resources at one instant.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Per resource.
    pub resources: Vec<ResourceStatus>,
    /// When.
    pub at: At,
    /// Highest fencing token issued.
    pub fencing_counter: u64,
}

enum Command {
    Acquire(Acquire, oneshot::Sender<Result<AcquireAnswer, ActorError>>),
    Renew(
        LeaseId,
        Ident,
        Option<Duration>,
        oneshot::Sender<Result<LeaseAnswer, ActorError>>,
    ),
    Release(
        LeaseId,
        Ident,
        oneshot::Sender<Result<LeaseAnswer, ActorError>>,
    ),
    Status(Vec<String>, oneshot::Sender<Snapshot>),
    /// A grant could not be stored: take it back.
    Revert(LeaseId),
}

enum Reply {
    Acquire(oneshot::Sender<Result<AcquireAnswer, ActorError>>),
    Lease(oneshot::Sender<Result<LeaseAnswer, ActorError>>),
}

/// A handle to the coordinator; cheap to clone.
#[derive(Debug, Clone)]
pub struct Coordinator {
    tx: mpsc::Sender<Command>,
    changes: watch::Receiver<u64>,
    decisions: Arc<Decisions>,
    /// The bucket, once loaded: where leases expired under a previous
    /// coordinator are looked up.
    bucket: Arc<OnceLock<kv::Store>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Acquire(..) => "Acquire",
            Command::Renew(..) => "Renew",
            Command::Release(..) => "Release",
            Command::Status(..) => "Status",
            Command::Revert(..) => "Revert",
        })
    }
}

/// How many requests may queue for the actor before callers wait.
const QUEUE: usize = 4096;

impl Coordinator {
    /// A handle at once, and the task that loads the stored state (retrying
    /// while NATS or the bucket is unavailable), then runs the actor and the
    /// store writer until `shutdown` fires (then waiting requests are refused
    /// and every queued write is finished). Requests sent before the state is
    /// loaded wait for it.
    pub fn start(
        js: jetstream::Context,
        config: ResourcesConfig,
        shutdown: Shutdown,
    ) -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (changed, changes) = watch::channel(0);
        metrics::describe();
        let decisions = Arc::new(Decisions::new());
        let bucket: Arc<OnceLock<kv::Store>> = Arc::default();
        let loaded_bucket = bucket.clone();
        let revert = tx.downgrade();
        let task = async move {
            let Some((kv, loaded)) = load(&js, &shutdown).await else {
                return;
            };
            let _ = loaded_bucket.set(kv.clone());
            tracing::info!(
                leases = loaded.leases.len(),
                fencing = loaded.fencing,
                "restored the coordinator's state"
            );
            let mut scheduler = Scheduler::new(&config);
            let (writer, writes) = store::writer(js.clone(), kv, &loaded);
            scheduler.restore(loaded.fencing, &loaded.quotas, loaded.leases);
            let actor = Actor {
                scheduler,
                clock: Clock::start(),
                rx,
                revert,
                writes,
                audit: Audit::new(js.client()),
                replies: HashMap::new(),
                next_ticket: 0,
                changed,
                system: System::new_with_specifics(
                    RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
                )
                .inspect_err(|e| {
                    tracing::warn!(error = %e, "cannot read the machine's memory; not checked");
                })
                .ok(),
                memory_checked: None,
            };
            let writer = tokio::spawn(writer.run());
            actor.run(shutdown).await;
            if let Err(e) = writer.await {
                tracing::error!(error = %e, "lease store writer failed");
            }
        };
        (
            Self {
                tx,
                changes,
                decisions,
                bucket,
            },
            task,
        )
    }

    /// Asks for a lease; answers once granted and stored, denied, or timed out.
    pub async fn acquire(&self, request: Acquire) -> Result<AcquireAnswer, ActorError> {
        let started = std::time::Instant::now();
        // Time spent waiting for capacity is not decision time.
        let operation = if request.wait_timeout.is_zero() {
            Operation::Acquire
        } else {
            Operation::AcquireWaiting
        };
        let (reply, answer) = oneshot::channel();
        self.send(Command::Acquire(request, reply)).await?;
        let answer = answer.await.map_err(|_| ActorError::stopped())?;
        self.decisions.record(operation, started.elapsed());
        answer
    }

    /// Renews a lease.
    pub async fn renew(
        &self,
        id: LeaseId,
        holder: Ident,
        duration: Option<Duration>,
    ) -> Result<LeaseAnswer, ActorError> {
        let started = std::time::Instant::now();
        let (reply, answer) = oneshot::channel();
        self.send(Command::Renew(id, holder, duration, reply))
            .await?;
        let answer = answer.await.map_err(|_| ActorError::stopped())?;
        let answer = self.expired_earlier(id, answer).await;
        self.decisions.record(Operation::Renew, started.elapsed());
        answer
    }

    /// Releases a lease.
    pub async fn release(&self, id: LeaseId, holder: Ident) -> Result<LeaseAnswer, ActorError> {
        let started = std::time::Instant::now();
        let (reply, answer) = oneshot::channel();
        self.send(Command::Release(id, holder, reply)).await?;
        let answer = answer.await.map_err(|_| ActorError::stopped())?;
        let answer = self.expired_earlier(id, answer).await;
        self.decisions.record(Operation::Release, started.elapsed());
        answer
    }

    /// A lease this coordinator has never seen may have expired under a
    /// previous one: the deletion of its key says so. Only `NOT_FOUND`
    /// answers pay for the look-up; if it fails, `NOT_FOUND` stands.
    async fn expired_earlier(
        &self,
        id: LeaseId,
        answer: Result<LeaseAnswer, ActorError>,
    ) -> Result<LeaseAnswer, ActorError> {
        let Ok(Err(failure)) = &answer else {
            return answer;
        };
        if failure.reason != LeaseFailureReason::NotFound {
            return answer;
        }
        let Some(bucket) = self.bucket.get() else {
            return answer;
        };
        match store::expired_at(bucket, id).await {
            Ok(Some(_)) => Ok(Err(LeaseFailure::expired(id))),
            Ok(None) => answer,
            Err(e) => {
                tracing::warn!(lease = %id, error = %e, "cannot tell whether the lease expired earlier");
                answer
            }
        }
    }

    /// The state of the named resources (all when empty).
    pub async fn status(&self, resources: Vec<String>) -> Result<Snapshot, ActorError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Status(resources, reply)).await?;
        answer.await.map_err(|_| ActorError::stopped())
    }

    /// Changes whenever something may have changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    async fn send(&self, command: Command) -> Result<(), ActorError> {
        self.tx
            .send(command)
            .await
            .map_err(|_| ActorError::stopped())
    }
}

struct Actor {
    scheduler: Scheduler,
    clock: Clock,
    rx: mpsc::Receiver<Command>,
    revert: mpsc::WeakSender<Command>,
    writes: Writes,
    audit: Audit,
    replies: HashMap<Ticket, Reply>,
    next_ticket: Ticket,
    changed: watch::Sender<u64>,
    /// `None` where the machine's memory cannot be read.
    system: Option<System>,
    memory_checked: Option<Instant>,
}

/// How often gauges are refreshed (and the machine's memory re-read for
/// waiting memory requests).
const GAUGE_INTERVAL: Duration = Duration::from_millis(500);
/// The machine's available memory is re-read at most this often.
const MEMORY_REFRESH: Duration = Duration::from_millis(100);
/// Commands applied per wake-up before effects are processed.
const BATCH: usize = 256;

impl Actor {
    async fn run(mut self, shutdown: Shutdown) {
        let mut gauges = tokio::time::interval(GAUGE_INTERVAL);
        gauges.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let wake = self
                .scheduler
                .next_wakeup(self.clock.now())
                .map(|at| self.clock.instant(at));
            tokio::select! {
                () = shutdown.requested() => break,
                command = self.rx.recv() => {
                    let Some(command) = command else { break };
                    let now = self.clock.now();
                    self.scheduler.tick(now);
                    self.handle(command, now);
                    for _ in 1..BATCH {
                        match self.rx.try_recv() {
                            Ok(command) => self.handle(command, now),
                            Err(_) => break,
                        }
                    }
                }
                () = sleep_until(wake) => self.scheduler.tick(self.clock.now()),
                _ = gauges.tick() => {
                    self.refresh_memory(true);
                    let now = self.clock.now();
                    self.scheduler.tick(now);
                    metrics::resources(&self.scheduler.gauges(now), self.scheduler.fencing_counter());
                }
            }
            self.process();
        }
        // Refuse what waits, answer what is queued, then let the writer finish.
        self.scheduler.shut_down();
        self.process();
        self.rx.close();
        while let Some(command) = self.rx.recv().await {
            let now = self.clock.now();
            self.handle(command, now);
            self.scheduler.shut_down();
            self.process();
        }
    }

    fn refresh_memory(&mut self, force: bool) {
        let due = self
            .memory_checked
            .is_none_or(|at| at.elapsed() >= MEMORY_REFRESH);
        if let Some(system) = &mut self.system
            && (force || due)
        {
            system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
            self.memory_checked = Some(Instant::now());
            self.scheduler
                .set_machine_available_memory(Some(system.available_memory()));
        }
    }

    fn ticket(&mut self, reply: Reply) -> Ticket {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.replies.insert(ticket, reply);
        ticket
    }

    fn handle(&mut self, command: Command, now: At) {
        match command {
            Command::Acquire(request, reply) => {
                if request.resource == names::MEMORY {
                    self.refresh_memory(false);
                }
                let ticket = self.ticket(Reply::Acquire(reply));
                self.scheduler.acquire(ticket, request, now);
            }
            Command::Renew(id, holder, duration, reply) => {
                let ticket = self.ticket(Reply::Lease(reply));
                self.scheduler.renew(ticket, id, &holder, duration, now);
            }
            Command::Release(id, holder, reply) => {
                let ticket = self.ticket(Reply::Lease(reply));
                self.scheduler.release(ticket, id, &holder, now);
            }
            Command::Status(names, reply) => {
                let _ = reply.send(Snapshot {
                    resources: self.scheduler.status(&names, now),
                    at: now,
                    fencing_counter: self.scheduler.fencing_counter(),
                });
            }
            Command::Revert(id) => {
                if let Some(lease) = self.scheduler.lease(id).cloned() {
                    self.scheduler.release(Ticket::MAX, id, &lease.holder, now);
                    for effect in self.scheduler.take_effects() {
                        match effect {
                            // Not a release anyone asked for: no answer, no
                            // audit; the key is deleted in case the write
                            // landed after all.
                            Effect::Released { lease, .. } => {
                                self.writes.send(Write::Forget(lease), None);
                            }
                            other => self.effect(other),
                        }
                    }
                }
            }
        }
    }

    fn process(&mut self) {
        let effects = self.scheduler.take_effects();
        if effects.is_empty() {
            return;
        }
        for effect in effects {
            self.effect(effect);
        }
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn effect(&mut self, effect: Effect) {
        let now = self.clock.now();
        match effect {
            Effect::Granted {
                tickets,
                lease,
                fresh,
            } => {
                let replies: Vec<_> = tickets
                    .iter()
                    .filter_map(|t| self.take_acquire(*t))
                    .collect();
                if !fresh {
                    for reply in replies {
                        let _ = reply.send(Ok(Ok(lease.clone())));
                    }
                    return;
                }
                let audit = self.audit.clone();
                let revert = self.revert.clone();
                let stored = lease.clone();
                self.writes.send(
                    Write::Lease(lease),
                    Some(Box::new(move |result: Result<(), StoreError>| match result {
                        Ok(()) => {
                            metrics::granted(static_name(&stored.resource), stored.priority);
                            audit.lease(Kind::Granted, &stored, now);
                            let mut delivered = false;
                            for reply in replies {
                                delivered |= reply.send(Ok(Ok(stored.clone()))).is_ok();
                            }
                            // Everyone who asked has gone (a waiting client
                            // hung up): release it rather than let it sit
                            // until it expires.
                            if !delivered && let Some(tx) = revert.upgrade() {
                                let (reply, _) = oneshot::channel();
                                let _ = tx.try_send(Command::Release(
                                    stored.id,
                                    stored.holder.clone(),
                                    reply,
                                ));
                            }
                        }
                        Err(e) => {
                            tracing::error!(lease = %stored.id, error = %e, "grant not stored; taken back");
                            let error = ActorError::store(&e);
                            for reply in replies {
                                let _ = reply.send(Err(error.clone()));
                            }
                            if let Some(tx) = revert.upgrade() {
                                let _ = tx.try_send(Command::Revert(stored.id));
                            }
                        }
                    })),
                );
            }
            Effect::Denied {
                tickets,
                denial,
                resource,
                holder,
            } => {
                metrics::denied(known_name(&resource), denial.reason);
                self.audit.denied(&resource, holder.as_str(), &denial, now);
                for ticket in tickets {
                    if let Some(reply) = self.take_acquire(ticket) {
                        let _ = reply.send(Ok(Err(denial.clone())));
                    }
                }
            }
            Effect::Renewed { ticket, lease } => {
                let reply = self.take_lease(ticket);
                let audit = self.audit.clone();
                let stored = lease.clone();
                self.writes.send(
                    Write::Lease(lease),
                    Some(Box::new(move |result| {
                        if result.is_ok() {
                            audit.lease(Kind::Renewed, &stored, now);
                        }
                        answer(reply, result, stored);
                    })),
                );
            }
            Effect::Released { ticket, lease } => {
                let reply = self.take_lease(ticket);
                let audit = self.audit.clone();
                let stored = lease.clone();
                self.writes.send(
                    Write::Forget(lease),
                    Some(Box::new(move |result| {
                        if result.is_ok() {
                            metrics::released(static_name(&stored.resource));
                            audit.lease(Kind::Released, &stored, now);
                        }
                        answer(reply, result, stored);
                    })),
                );
            }
            Effect::LeaseFailed { ticket, failure } => {
                if let Some(reply) = self.take_lease(ticket) {
                    let _ = reply.send(Ok(Err(failure)));
                }
            }
            Effect::Expired { lease } => {
                metrics::expired(static_name(&lease.resource));
                self.audit.lease(Kind::Expired, &lease, now);
                self.writes.send(Write::Expire(lease), None);
            }
            Effect::FencingReserved { up_to } => {
                self.writes.send(Write::Fencing(up_to), None);
            }
            Effect::QuotaUsed { resource, tat } => {
                self.writes.send(Write::Quota(resource, tat), None);
            }
        }
    }

    fn take_acquire(
        &mut self,
        ticket: Ticket,
    ) -> Option<oneshot::Sender<Result<AcquireAnswer, ActorError>>> {
        match self.replies.remove(&ticket) {
            Some(Reply::Acquire(reply)) => Some(reply),
            _ => None,
        }
    }

    fn take_lease(
        &mut self,
        ticket: Ticket,
    ) -> Option<oneshot::Sender<Result<LeaseAnswer, ActorError>>> {
        match self.replies.remove(&ticket) {
            Some(Reply::Lease(reply)) => Some(reply),
            _ => None,
        }
    }
}

/// How long to wait before reading the stored state again.
const LOAD_RETRY: Duration = Duration::from_secs(1);

/// Reads the stored state, retrying until it can or shutdown starts.
async fn load(
    js: &jetstream::Context,
    shutdown: &Shutdown,
) -> Option<(async_nats::jetstream::kv::Store, store::Loaded)> {
    loop {
        match store::load(js).await {
            Ok(loaded) => return Some(loaded),
            Err(e) => {
                tracing::warn!(error = %e, "cannot restore the coordinator's state; retrying");
                tokio::select! {
                    () = shutdown.requested() => return None,
                    () = tokio::time::sleep(LOAD_RETRY) => {}
                }
            }
        }
    }
}

fn answer(
    reply: Option<oneshot::Sender<Result<LeaseAnswer, ActorError>>>,
    result: Result<(), StoreError>,
    lease: Lease,
) {
    if let Some(reply) = reply {
        let _ = reply.send(
            result
                .map(|()| Ok(lease))
                .map_err(|e| ActorError::store(&e)),
        );
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The configured resource names, for metric labels.
const NAMES: [&str; 5] = [
    names::GPU,
    names::GPU_MEMORY,
    names::MEMORY,
    names::CLAUDE_API,
    names::CPU,
];

fn known_name(name: &str) -> Option<&'static str> {
    NAMES.iter().find(|n| **n == name).copied()
}

fn static_name(name: &str) -> &'static str {
    known_name(name).unwrap_or("other")
}
