//! What the scheduler answers: refusals, failures, and the changes the
//! actor persists, publishes and reports, in order.

use std::time::Duration;

use super::{Lease, Ticket};
use crate::domain::{At, Ident, LeaseId};

/// Why an acquire was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialReason {
    /// No such resource.
    UnknownResource,
    /// Zero, or more than the resource could ever grant.
    InvalidQuantity,
    /// Lease duration or wait timeout out of range.
    InvalidDuration,
    /// Did not fit within the wait timeout.
    Timeout,
    /// The quota has no calls left for now.
    QuotaExhausted,
    /// Fits the budget but not the machine's available memory.
    InsufficientSystemMemory,
    /// A malformed request.
    InvalidArgument,
    /// The coordinator is stopping.
    ShuttingDown,
}

/// An acquire's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// Why.
    pub reason: DenialReason,
    /// For people.
    pub message: String,
    /// When trying again may succeed; `None` when it never will.
    pub retry_after: Option<Duration>,
}

impl Denial {
    /// A refusal that retrying will not change.
    pub fn permanent(reason: DenialReason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// Why a renew or release failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseFailureReason {
    /// No such lease (never granted, released, or expired long ago).
    NotFound,
    /// It expired and its capacity was reclaimed.
    Expired,
    /// Another holder's lease.
    NotHolder,
    /// Renewal duration out of range.
    InvalidDuration,
    /// A GPU time slice others are waiting for.
    Preempted,
}

/// A renew's or release's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseFailure {
    /// Why.
    pub reason: LeaseFailureReason,
    /// For people.
    pub message: String,
}

impl LeaseFailure {
    /// The lease expired and its capacity was reclaimed.
    pub fn expired(id: LeaseId) -> Self {
        Self {
            reason: LeaseFailureReason::Expired,
            message: format!("lease {id} expired and its capacity was reclaimed; acquire again"),
        }
    }
}

/// What changed, for the actor to persist, publish and answer, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A lease was granted to these tickets. `fresh` is false when the
    /// request id matched a lease that already existed.
    Granted {
        /// Who to answer.
        tickets: Vec<Ticket>,
        /// The lease.
        lease: Lease,
        /// A new lease (to persist) rather than a repeated request.
        fresh: bool,
    },
    /// An acquire was refused (at once, or after waiting).
    Denied {
        /// Who to answer.
        tickets: Vec<Ticket>,
        /// Why.
        denial: Denial,
        /// The resource asked for (as given).
        resource: String,
        /// Who asked (the first asker, when several joined one wait).
        holder: Ident,
    },
    /// A lease was renewed.
    Renewed {
        /// Who to answer.
        ticket: Ticket,
        /// The lease, with its new expiry.
        lease: Lease,
    },
    /// A lease was released.
    Released {
        /// Who to answer.
        ticket: Ticket,
        /// The lease as it was.
        lease: Lease,
    },
    /// A renew or release failed; nothing changed.
    LeaseFailed {
        /// Who to answer.
        ticket: Ticket,
        /// Why.
        failure: LeaseFailure,
    },
    /// A lease expired and its capacity was reclaimed.
    Expired {
        /// The lease.
        lease: Lease,
    },
    /// Fencing tokens up to `up_to` may be handed out; persist before any
    /// grant with a token above the previous mark is answered.
    FencingReserved {
        /// The new high-water mark.
        up_to: u64,
    },
    /// A quota's state changed.
    QuotaUsed {
        /// The resource.
        resource: String,
        /// Its new theoretical arrival time.
        tat: At,
    },
}
