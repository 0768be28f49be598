//! Leases, the fencing high-water mark and quota states in the JetStream KV
//! bucket `coordinator-leases`, one key each:
//!
//! - `lease.l-<token>`: a live lease (JSON), deleted when released or expired;
//! - `meta.fencing`: fencing tokens up to this may have been handed out;
//! - `quota.<resource>`: a quota's GCRA state;
//! - `answered.<stream sequence>`: the answer to a queued request, from
//!   just before it is sent until the request is acknowledged.
//!
//! Every write names the revision it replaces (`Nats-Expected-Last-Subject-
//! Sequence`; 0 for a new key), so a second coordinator writing the same
//! bucket is detected instead of silently overwritten. Writes are pipelined:
//! many keys are in flight at once, one write per key at a time, and each
//! write's completion runs its callback once JetStream has acknowledged it.
//! A lease write whose fencing token is above the stored high-water mark
//! waits for the mark (reserved well ahead, so normally already stored).

use std::collections::{HashMap, VecDeque};

use async_nats::{
    HeaderMap, HeaderValue,
    jetstream::{self, context::PublishAckFuture, kv, stream::LastRawMessageErrorKind},
};
use bytes::Bytes;
use futures::{StreamExt, stream::FuturesUnordered};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::{
    domain::{At, LeaseId},
    scheduler::Lease,
};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[error("lease store: {message}")]
pub struct StoreError {
    kind: StoreErrorKind,
    message: String,
}

/// What kind of failure a [`StoreError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// The bucket could not be opened or read.
    Unavailable,
    /// A write was not acknowledged.
    Write,
    /// A key was changed by someone else (another coordinator?).
    Conflict,
    /// A stored value could not be read.
    Corrupt,
}

impl StoreError {
    fn new(kind: StoreErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }
}

/// The key of a lease.
pub fn lease_key(lease: &Lease) -> String {
    format!("lease.{}", lease.id)
}

const FENCING_KEY: &str = "meta.fencing";

fn quota_key(resource: &str) -> String {
    format!("quota.{resource}")
}

#[derive(Debug, Serialize, Deserialize)]
struct Fencing {
    up_to: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Quota {
    tat: At,
}

/// On the deletion of an expired lease's key: when it expired (Unix
/// nanoseconds). The deletion stays the key's last message in the bucket's
/// stream, so a coordinator started later still tells a renewal of that
/// lease it expired rather than that there never was such a lease.
const EXPIRED_HEADER: &str = "Jimbot-Lease-Expired";

/// When the lease `id` expired, if its key's last change was its deletion on
/// expiry; `None` if it was released, never stored, or is live.
pub async fn expired_at(kv: &kv::Store, id: LeaseId) -> Result<Option<At>, StoreError> {
    let subject = format!("{}lease.{id}", kv.prefix);
    match kv.stream.get_last_raw_message_by_subject(&subject).await {
        Ok(message) => Ok(message
            .headers
            .get(EXPIRED_HEADER)
            .and_then(|v| v.as_str().parse::<u64>().ok())
            .map(|nanos| At::from_unix(std::time::Duration::from_nanos(nanos)))),
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
        Err(e) => Err(StoreError::new(
            StoreErrorKind::Unavailable,
            format!("read {subject}: {e}"),
        )),
    }
}

const ANSWERED_PREFIX: &str = "answered.";

/// Records the answer to the queued request at stream sequence `sequence`
/// before it is sent: if the coordinator dies before acknowledging the
/// request, the next one sends the same answer again instead of deciding
/// anew (the lease may be gone by then, and granting again would hand out a
/// lease nobody waits for).
pub async fn remember_answer(
    kv: &kv::Store,
    sequence: u64,
    answer: Bytes,
) -> Result<(), StoreError> {
    kv.put(format!("{ANSWERED_PREFIX}{sequence}"), answer)
        .await
        .map(drop)
        .map_err(|e| StoreError::new(StoreErrorKind::Write, format!("answer to {sequence}: {e}")))
}

/// The answer recorded for the queued request at `sequence`, if any.
pub async fn remembered_answer(kv: &kv::Store, sequence: u64) -> Result<Option<Bytes>, StoreError> {
    kv.get(format!("{ANSWERED_PREFIX}{sequence}"))
        .await
        .map_err(|e| {
            StoreError::new(
                StoreErrorKind::Unavailable,
                format!("answer to {sequence}: {e}"),
            )
        })
}

/// Drops the record once the request is acknowledged.
pub async fn forget_answer(kv: &kv::Store, sequence: u64) -> Result<(), StoreError> {
    kv.purge(format!("{ANSWERED_PREFIX}{sequence}"))
        .await
        .map_err(|e| StoreError::new(StoreErrorKind::Write, format!("answer to {sequence}: {e}")))
}

/// What a starting coordinator finds in the bucket.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Live leases.
    pub leases: Vec<Lease>,
    /// The fencing high-water mark.
    pub fencing: u64,
    /// Quota states by resource.
    pub quotas: Vec<(String, At)>,
    revisions: HashMap<String, u64>,
}

/// Reads everything in the bucket.
pub async fn load(js: &jetstream::Context) -> Result<(kv::Store, Loaded), StoreError> {
    let bucket = jimbot_nats::topology::buckets::COORDINATOR_LEASES;
    let kv = js
        .get_key_value(bucket)
        .await
        .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, format!("open {bucket}: {e}")))?;
    let mut keys = kv
        .keys()
        .await
        .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, format!("list keys: {e}")))?;
    let mut loaded = Loaded::default();
    while let Some(key) = keys.next().await {
        let key = key
            .map_err(|e| StoreError::new(StoreErrorKind::Unavailable, format!("list keys: {e}")))?;
        if key.starts_with(ANSWERED_PREFIX) {
            continue;
        }
        let Some(entry) = kv.entry(key.clone()).await.map_err(|e| {
            StoreError::new(StoreErrorKind::Unavailable, format!("read {key}: {e}"))
        })?
        else {
            continue;
        };
        if entry.operation != kv::Operation::Put {
            continue;
        }
        let corrupt =
            |e: serde_json::Error| StoreError::new(StoreErrorKind::Corrupt, format!("{key}: {e}"));
        if key == FENCING_KEY {
            let fencing: Fencing = serde_json::from_slice(&entry.value).map_err(corrupt)?;
            loaded.fencing = fencing.up_to;
        } else if let Some(resource) = key.strip_prefix("quota.") {
            let quota: Quota = serde_json::from_slice(&entry.value).map_err(corrupt)?;
            loaded.quotas.push((resource.to_owned(), quota.tat));
        } else if key.starts_with("lease.") {
            loaded
                .leases
                .push(serde_json::from_slice(&entry.value).map_err(corrupt)?);
        } else {
            tracing::warn!(key = %jimbot_service::log_text::untrusted(&key), "unknown key in the lease bucket; ignored");
        }
        loaded.revisions.insert(key, entry.revision);
    }
    loaded.leases.sort_by_key(|l| l.id);
    Ok((kv, loaded))
}

/// What to do with a key.
#[derive(Debug)]
pub enum Write {
    /// Store a lease.
    Lease(Lease),
    /// Delete a lease.
    Forget(Lease),
    /// Delete a lease that expired, saying so on the deletion (see
    /// [`expired_at`]).
    Expire(Lease),
    /// Store the fencing high-water mark.
    Fencing(u64),
    /// Store a quota's state.
    Quota(String, At),
}

/// Runs once the write is acknowledged (or failed).
pub type Done = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

struct Job {
    key: String,
    payload: Option<Bytes>,
    done: Option<Done>,
    /// A lease write's fencing token: it starts only once a stored
    /// high-water mark covers it (0 for other writes).
    token: u64,
    /// The fencing key's write: the mark it stores.
    mark: Option<u64>,
    /// A deletion on expiry: when the lease expired.
    expired: Option<At>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Queues writes for the [`Writer`] task.
#[derive(Debug, Clone)]
pub struct Writes(mpsc::UnboundedSender<Job>);

impl Writes {
    /// Queues `write`; `done` runs once it is acknowledged or failed.
    pub fn send(&self, write: Write, done: Option<Done>) {
        let mut expired = None;
        let (key, payload, token, mark) = match &write {
            Write::Lease(lease) => (lease_key(lease), Some(json(lease)), lease.token().0, None),
            Write::Forget(lease) => (lease_key(lease), None, 0, None),
            Write::Expire(lease) => {
                expired = Some(lease.expires_at);
                (lease_key(lease), None, 0, None)
            }
            Write::Fencing(up_to) => (
                FENCING_KEY.to_owned(),
                Some(fencing(*up_to)),
                0,
                Some(*up_to),
            ),
            Write::Quota(resource, tat) => (
                quota_key(resource),
                Some(json(&Quota { tat: *tat })),
                0,
                None,
            ),
        };
        let job = Job {
            key,
            payload,
            done,
            token,
            mark,
            expired,
        };
        if let Err(mpsc::error::SendError(job)) = self.0.send(job)
            && let Some(done) = job.done
        {
            done(Err(StoreError::new(
                StoreErrorKind::Write,
                "the writer has stopped",
            )));
        }
    }
}

fn json<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("plain data serialises"))
}

fn fencing(up_to: u64) -> Bytes {
    json(&Fencing { up_to })
}

/// How long to wait before storing a fencing mark again after a failure.
const FENCING_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// The task that performs the writes; finishes once every [`Writes`] handle
/// is dropped and every queued write is done.
#[derive(Debug)]
pub struct Writer {
    js: jetstream::Context,
    kv: kv::Store,
    revisions: HashMap<String, Option<u64>>,
    jobs: mpsc::UnboundedReceiver<Job>,
    /// Keys with a write in flight, and the writes waiting behind it.
    queued: HashMap<String, VecDeque<Job>>,
    /// The highest fencing mark stored.
    fencing_stored: u64,
    /// Lease writes whose token is above [`Self::fencing_stored`], in token
    /// order: no grant may be answered while the mark could fall back
    /// below its token on restart.
    held: VecDeque<Job>,
}

/// A writer over the loaded bucket, and the handle to send it writes.
pub fn writer(js: jetstream::Context, kv: kv::Store, loaded: &Loaded) -> (Writer, Writes) {
    let (tx, rx) = mpsc::unbounded_channel();
    let revisions = loaded
        .revisions
        .iter()
        .map(|(k, v)| (k.clone(), Some(*v)))
        .collect();
    let fencing_stored = loaded
        .leases
        .iter()
        .map(|l| l.token().0)
        .fold(loaded.fencing, u64::max);
    (
        Writer {
            js,
            kv,
            revisions,
            jobs: rx,
            queued: HashMap::new(),
            fencing_stored,
            held: VecDeque::new(),
        },
        Writes(tx),
    )
}

/// A write once JetStream has answered it.
struct Finished {
    key: String,
    done: Option<Done>,
    delete: bool,
    mark: Option<u64>,
    result: Result<u64, StoreError>,
}

type InFlight = std::pin::Pin<Box<dyn std::future::Future<Output = Finished> + Send>>;

impl Writer {
    /// Performs writes until every handle is dropped and all are done.
    pub async fn run(mut self) {
        let mut in_flight: FuturesUnordered<InFlight> = FuturesUnordered::new();
        let mut open = true;
        // A fencing mark that failed to store, tried again after a pause.
        let mut retry: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
        loop {
            tokio::select! {
                job = self.jobs.recv(), if open => match job {
                    Some(job) => {
                        if let Some(queue) = self.queued.get_mut(&job.key) {
                            queue.push_back(job);
                        } else {
                            self.queued.insert(job.key.clone(), VecDeque::new());
                            self.launch(job, &mut in_flight).await;
                        }
                    }
                    None => open = false,
                },
                Some(finished) = in_flight.next() => {
                    if let Some(mark) = finished.mark {
                        match finished.result {
                            Ok(revision) => {
                                self.revisions.insert(finished.key, Some(revision));
                                self.fencing_stored = self.fencing_stored.max(mark);
                                self.release_held(&mut in_flight).await;
                            }
                            Err(e) => {
                                tracing::error!(error = %e, "fencing high-water mark not stored; retrying");
                                self.revisions.insert(finished.key.clone(), None);
                                // Keeps the key busy, so later marks queue
                                // behind this one.
                                self.queued.entry(finished.key.clone()).or_default().push_front(Job {
                                    key: finished.key,
                                    payload: Some(fencing(mark)),
                                    done: None,
                                    token: 0,
                                    mark: Some(mark),
                                    expired: None,
                                });
                                retry = Some(Box::pin(tokio::time::sleep(FENCING_RETRY)));
                            }
                        }
                        if retry.is_some() {
                            continue;
                        }
                        self.next_of(FENCING_KEY, &mut in_flight).await;
                        continue;
                    }
                    let Finished { key, done, delete, result, .. } = finished;
                    match &result {
                        Ok(_) if delete => { self.revisions.remove(&key); }
                        Ok(revision) => { self.revisions.insert(key.clone(), Some(*revision)); }
                        // Unknown now: read it again before the next write.
                        Err(_) => { self.revisions.insert(key.clone(), None); }
                    }
                    if let Some(done) = done {
                        done(result.map(|_| ()));
                    } else if let Err(e) = result {
                        tracing::error!(key, error = %e, "lease store write failed");
                    }
                    self.next_of(&key, &mut in_flight).await;
                }
                () = async { retry.as_mut().expect("guarded").await }, if retry.is_some() => {
                    retry = None;
                    self.next_of(FENCING_KEY, &mut in_flight).await;
                }
                else => break,
            }
        }
    }

    /// Starts the next write queued for `key`, or marks the key idle.
    async fn next_of(&mut self, key: &str, in_flight: &mut FuturesUnordered<InFlight>) {
        match self.queued.get_mut(key).and_then(VecDeque::pop_front) {
            Some(next) => self.launch(next, in_flight).await,
            None => {
                self.queued.remove(key);
            }
        }
    }

    /// Starts `job` (its key already marked busy), or holds it until a
    /// stored fencing mark covers its token.
    async fn launch(&mut self, job: Job, in_flight: &mut FuturesUnordered<InFlight>) {
        if job.token > self.fencing_stored {
            self.held.push_back(job);
        } else {
            let started = self.start(job).await;
            in_flight.push(started);
        }
    }

    /// Starts the held writes the stored mark now covers.
    async fn release_held(&mut self, in_flight: &mut FuturesUnordered<InFlight>) {
        while self
            .held
            .front()
            .is_some_and(|job| job.token <= self.fencing_stored)
        {
            let job = self.held.pop_front().expect("checked");
            let started = self.start(job).await;
            in_flight.push(started);
        }
    }

    async fn start(&mut self, job: Job) -> InFlight {
        let Job {
            key,
            payload,
            done,
            mark,
            expired,
            ..
        } = job;
        let delete = payload.is_none();
        let revision = match self.revisions.get(&key) {
            Some(Some(revision)) => *revision,
            Some(None) => match self.kv.entry(key.clone()).await {
                Ok(Some(entry)) => entry.revision,
                Ok(None) => 0,
                Err(e) => {
                    let error = StoreError::new(StoreErrorKind::Write, format!("read {key}: {e}"));
                    return Box::pin(async move {
                        Finished {
                            key,
                            done,
                            delete,
                            mark,
                            result: Err(error),
                        }
                    });
                }
            },
            None => 0,
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            "Nats-Expected-Last-Subject-Sequence",
            HeaderValue::from(revision),
        );
        if delete {
            headers.insert("KV-Operation", "DEL");
        }
        if let Some(at) = expired {
            headers.insert(
                EXPIRED_HEADER,
                HeaderValue::from(at.since_epoch().as_nanos().to_string().as_str()),
            );
        }
        let subject = format!(
            "{}{}",
            self.kv.put_prefix.as_ref().unwrap_or(&self.kv.prefix),
            key
        );
        let sent = self
            .js
            .publish_with_headers(subject, headers, payload.unwrap_or_default())
            .await;
        Box::pin(async move {
            let result = match sent {
                Ok(ack) => acked(ack).await,
                Err(e) => Err(StoreError::new(StoreErrorKind::Write, e.to_string())),
            };
            Finished {
                key,
                done,
                delete,
                mark,
                result,
            }
        })
    }
}

async fn acked(ack: PublishAckFuture) -> Result<u64, StoreError> {
    match ack.await {
        Ok(ack) => Ok(ack.sequence),
        Err(e) => {
            let text = e.to_string();
            // JetStream error 10071: wrong last sequence for the subject.
            let kind = if text.contains("wrong last sequence") || text.contains("10071") {
                StoreErrorKind::Conflict
            } else {
                StoreErrorKind::Write
            };
            Err(StoreError::new(kind, text))
        }
    }
}
