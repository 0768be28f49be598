//! The scheduler: resources, leases, wait queues, aging and quotas as a pure,
//! synchronous state machine. Every call takes `now`, so the rules below are
//! tested exactly, without clocks or I/O; the [`crate::actor`] owns one and
//! does the waiting, persisting and answering.
//!
//! Rules:
//! - A request is granted at once when it fits and no waiting request for the
//!   same resource comes before it; otherwise it waits (up to its wait
//!   timeout) or, with a zero timeout, is denied at once.
//! - Waiting requests are ordered by effective priority, then by arrival
//!   (first come, first served). The effective priority of a request rises one
//!   level (LOW to MEDIUM to HIGH) per `aging_step` waited, so after two steps
//!   a LOW request competes as HIGH, ahead of every HIGH request that arrived
//!   after it: nothing starves.
//! - The first request in that order is served first: a request behind it is
//!   not granted before it, even if it would fit (no overtaking), so a large
//!   request is not starved by small ones.
//! - GPU time leases last at most one time slice; renewing one is refused
//!   while others wait for the GPU, so the devices rotate among waiting
//!   holders in the same order.
//! - Quotas (the Claude API) follow [`quota::Gcra`]; a granted call is used
//!   up, and releasing its lease gives nothing back.

mod answer;
mod lease;
pub mod quota;
mod resource;

use std::{
    collections::{BTreeSet, HashMap, VecDeque},
    time::Duration,
};

use crate::{
    config::ResourcesConfig,
    domain::{At, FencingToken, Ident, LeaseId, Priority},
};
pub use answer::{Denial, DenialReason, Effect, LeaseFailure, LeaseFailureReason};
pub use lease::{Acquire, Lease, Ticket};
use quota::Gcra;
pub use resource::ResourceStatus;
use resource::{Device, Limit, Resource, Waiter};

/// Resource names.
pub mod names {
    /// GPU time: devices, leased one time slice at a time.
    pub const GPU: &str = "gpu";
    /// GPU memory, in bytes, across devices.
    pub const GPU_MEMORY: &str = "gpu_memory";
    /// The memory budget, in bytes.
    pub const MEMORY: &str = "memory";
    /// Claude API calls.
    pub const CLAUDE_API: &str = "claude_api";
    /// CPU cores.
    pub const CPU: &str = "cpu";
}

/// Shortest lease a request may ask for: shorter ones could expire before
/// the holder heard of them.
pub const MIN_LEASE_DURATION: Duration = Duration::from_millis(10);

/// How many expired lease ids are remembered, so renewing one says it expired.
const EXPIRED_REMEMBERED: usize = 100_000;

/// How soon a request denied for lack of machine memory may try again.
const MACHINE_MEMORY_RETRY: Duration = Duration::from_secs(1);

/// How many fencing tokens are reserved per persisted high-water mark.
pub const FENCING_BLOCK: u64 = 1024;

/// The state machine.
#[derive(Debug)]
pub struct Scheduler {
    aging_step: Duration,
    max_lease: Duration,
    max_wait: Duration,
    resources: Vec<Resource>,
    leases: HashMap<LeaseId, Lease>,
    expiries: BTreeSet<(At, LeaseId)>,
    by_request: HashMap<Ident, Pending>,
    expired: HashMap<LeaseId, At>,
    expired_order: VecDeque<LeaseId>,
    fencing: u64,
    fencing_reserved: u64,
    next_seq: u64,
    machine_available: Option<u64>,
    effects: Vec<Effect>,
}

#[derive(Debug, Clone, Copy)]
enum Pending {
    Lease(LeaseId),
    Waiting(u64),
}

impl Scheduler {
    /// An empty scheduler for `config`.
    pub fn new(config: &ResourcesConfig) -> Self {
        let pool = |name, unit, capacity| Resource {
            name,
            unit,
            limit: Limit::Pool { capacity },
            allocated: 0,
            max_quantity: capacity,
            max_lease: None,
            machine_memory: false,
            devices: Vec::new(),
            waiting: Vec::new(),
        };
        let mut resources = Vec::new();
        if let Some(gpu) = &config.gpu {
            let mut time = pool(names::GPU, "devices", gpu.devices.len() as u64);
            time.max_lease = Some(gpu.time_slice);
            resources.push(time);
            let mut memory = pool(
                names::GPU_MEMORY,
                "bytes",
                gpu.devices.iter().map(|d| d.memory).sum(),
            );
            memory.max_quantity = gpu.devices.iter().map(|d| d.memory).max().unwrap_or(0);
            memory.devices = gpu
                .devices
                .iter()
                .map(|d| Device {
                    name: d.name.clone(),
                    capacity: d.memory,
                    allocated: 0,
                })
                .collect();
            resources.push(memory);
        }
        let mut memory = pool(names::MEMORY, "bytes", config.memory_budget);
        memory.machine_memory = true;
        resources.push(memory);
        let claude = &config.claude_api;
        let gcra = Gcra::new(claude.calls_per_hour, claude.burst, claude.high_reserve);
        resources.push(Resource {
            max_quantity: gcra.burst(),
            limit: Limit::Rate(gcra),
            ..pool(names::CLAUDE_API, "calls", 0)
        });
        resources.push(pool(names::CPU, "cores", config.cpu_cores));
        Self {
            aging_step: config.scheduling.aging_step,
            max_lease: config.scheduling.max_lease_duration,
            max_wait: config.scheduling.max_wait,
            resources,
            leases: HashMap::new(),
            expiries: BTreeSet::new(),
            by_request: HashMap::new(),
            expired: HashMap::new(),
            expired_order: VecDeque::new(),
            fencing: 0,
            fencing_reserved: 0,
            next_seq: 0,
            machine_available: None,
            effects: Vec::new(),
        }
    }

    /// Restores persisted state: the fencing high-water mark, quota states
    /// and live leases (those already past their expiry expire on the next
    /// [`Scheduler::tick`]). Leases of resources no longer configured, or no
    /// longer fitting, are kept (their holders still hold them); only those on
    /// configured pools count towards `allocated`.
    pub fn restore(&mut self, fencing_reserved: u64, quotas: &[(String, At)], leases: Vec<Lease>) {
        self.fencing_reserved = fencing_reserved;
        self.fencing = self.fencing.max(fencing_reserved);
        for (name, tat) in quotas {
            if let Some(Resource {
                limit: Limit::Rate(gcra),
                ..
            }) = self.resources.iter_mut().find(|r| r.name == name)
            {
                gcra.set_tat(*tat);
            }
        }
        for lease in leases {
            self.fencing = self.fencing.max(lease.token().0);
            self.fencing_reserved = self.fencing_reserved.max(lease.token().0);
            if let Some(resource) = self.resources.iter_mut().find(|r| r.name == lease.resource)
                && matches!(resource.limit, Limit::Pool { .. })
            {
                resource.allocated = resource.allocated.saturating_add(lease.quantity);
                if let Some(device) = resource.device_mut(lease.device.as_deref()) {
                    device.allocated = device.allocated.saturating_add(lease.quantity);
                }
            }
            if let Some(request_id) = &lease.request_id {
                self.by_request
                    .insert(request_id.clone(), Pending::Lease(lease.id));
            }
            self.expiries.insert((lease.expires_at, lease.id));
            self.leases.insert(lease.id, lease);
        }
    }

    /// The highest fencing token issued (or reserved before a restart).
    pub fn fencing_counter(&self) -> u64 {
        self.fencing
    }

    /// Sets the machine's currently available memory, in bytes, checked by
    /// grants of `memory` (`None`: unknown, not checked).
    pub fn set_machine_available_memory(&mut self, bytes: Option<u64>) {
        self.machine_available = bytes;
    }

    /// What changed since the last call, in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Live leases.
    pub fn lease(&self, id: LeaseId) -> Option<&Lease> {
        self.leases.get(&id)
    }

    /// Requests an acquire; the answer comes as an [`Effect`] for `ticket`
    /// (at once, or later from [`Scheduler::tick`]).
    pub fn acquire(&mut self, ticket: Ticket, request: Acquire, now: At) {
        if let Some(request_id) = &request.request_id
            && let Some(pending) = self.by_request.get(request_id).copied()
        {
            match self.repeat(ticket, &request, pending) {
                Ok(()) => return,
                // Nothing behind the id any more: a new request after all.
                Err(Stale) => {
                    self.by_request.remove(request_id);
                }
            }
        }
        let Some(index) = self
            .resources
            .iter()
            .position(|r| r.name == request.resource)
        else {
            let names: Vec<_> = self.resources.iter().map(|r| r.name).collect();
            return self.deny(
                vec![ticket],
                &request,
                Denial::permanent(
                    DenialReason::UnknownResource,
                    format!(
                        "unknown resource {:?}; known: {}",
                        request.resource,
                        names.join(", ")
                    ),
                ),
            );
        };
        if let Err(denial) = self.validate(index, &request) {
            return self.deny(vec![ticket], &request, denial);
        }
        let mut request = request;
        if let Some(slice) = self.resources[index].max_lease {
            request.lease_duration = request.lease_duration.min(slice);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let waiter = Waiter {
            tickets: vec![ticket],
            deadline: now.plus(request.wait_timeout),
            request,
            arrived: now,
            seq,
        };
        // Granted at once only if it would be first in line and fits.
        let key = self.order_key(&waiter, now);
        let first = self.resources[index]
            .waiting
            .iter()
            .all(|w| key < self.order_key(w, now));
        if first {
            match self.fits(index, &waiter.request, now) {
                Fit::Yes => return self.grant(index, waiter, now),
                Fit::Never(denial) => {
                    return self.deny(waiter.tickets, &waiter.request, denial);
                }
                // A quota that cannot refill in time: say so now, not at the deadline.
                Fit::Later(Some(wait)) if wait > waiter.request.wait_timeout => {
                    let denial = self.busy_denial(index, &waiter.request, Some(wait));
                    return self.deny(waiter.tickets, &waiter.request, denial);
                }
                Fit::Later(_) => {}
            }
        }
        if waiter.request.wait_timeout.is_zero() {
            let retry_after = self.retry_hint(index, &waiter.request, now);
            let denial = self.busy_denial(index, &waiter.request, retry_after);
            return self.deny(waiter.tickets, &waiter.request, denial);
        }
        if let Some(request_id) = &waiter.request.request_id {
            self.by_request
                .insert(request_id.clone(), Pending::Waiting(seq));
        }
        self.resources[index].waiting.push(waiter);
    }

    /// A request whose id matches a lease or a waiting request: answered
    /// like the first (or joins its wait), unless it asks for something else.
    fn repeat(&mut self, ticket: Ticket, request: &Acquire, pending: Pending) -> Result<(), Stale> {
        let same = |resource: &str, holder: &Ident, quantity: u64| {
            resource == request.resource
                && *holder == request.holder
                && quantity == request.quantity
        };
        match pending {
            Pending::Lease(id) => {
                let lease = self.leases.get(&id).ok_or(Stale)?;
                if same(&lease.resource, &lease.holder, lease.quantity) {
                    let lease = lease.clone();
                    self.effects.push(Effect::Granted {
                        tickets: vec![ticket],
                        lease,
                        fresh: false,
                    });
                } else {
                    self.deny_reused(ticket, request);
                }
            }
            Pending::Waiting(seq) => {
                let waiter = self
                    .resources
                    .iter_mut()
                    .flat_map(|r| r.waiting.iter_mut())
                    .find(|w| w.seq == seq)
                    .ok_or(Stale)?;
                if same(
                    &waiter.request.resource,
                    &waiter.request.holder,
                    waiter.request.quantity,
                ) {
                    waiter.tickets.push(ticket);
                } else {
                    self.deny_reused(ticket, request);
                }
            }
        }
        Ok(())
    }

    fn deny_reused(&mut self, ticket: Ticket, request: &Acquire) {
        self.deny(
            vec![ticket],
            request,
            Denial::permanent(
                DenialReason::InvalidArgument,
                "request_id already used for a different resource, holder or quantity",
            ),
        );
    }

    fn validate(&self, index: usize, request: &Acquire) -> Result<(), Denial> {
        let resource = &self.resources[index];
        if request.quantity == 0 || request.quantity > resource.max_quantity {
            return Err(Denial::permanent(
                DenialReason::InvalidQuantity,
                format!(
                    "quantity must be between 1 and {} {} for {} (got {})",
                    resource.max_quantity, resource.unit, resource.name, request.quantity
                ),
            ));
        }
        if request.lease_duration < MIN_LEASE_DURATION || request.lease_duration > self.max_lease {
            return Err(Denial::permanent(
                DenialReason::InvalidDuration,
                format!(
                    "lease_duration must be between {} and {} (got {})",
                    humantime::format_duration(MIN_LEASE_DURATION),
                    humantime::format_duration(self.max_lease),
                    humantime::format_duration(request.lease_duration)
                ),
            ));
        }
        if request.wait_timeout > self.max_wait {
            return Err(Denial::permanent(
                DenialReason::InvalidDuration,
                format!(
                    "wait_timeout must be at most {} (got {})",
                    humantime::format_duration(self.max_wait),
                    humantime::format_duration(request.wait_timeout)
                ),
            ));
        }
        Ok(())
    }

    /// (effective rank, arrival): smaller is served first.
    fn order_key(&self, waiter: &Waiter, now: At) -> (u64, u64) {
        let steps = now.since(waiter.arrived).as_nanos() / self.aging_step.as_nanos().max(1);
        let steps = u64::try_from(steps).unwrap_or(u64::MAX);
        (
            waiter.request.priority.rank().saturating_sub(steps),
            waiter.seq,
        )
    }

    fn fits(&self, index: usize, request: &Acquire, now: At) -> Fit {
        let resource = &self.resources[index];
        match &resource.limit {
            Limit::Pool { capacity } => {
                if resource.allocated.saturating_add(request.quantity) > *capacity
                    || resource.placement(request.quantity).is_none()
                {
                    return Fit::Later(None);
                }
                if resource.machine_memory
                    && let Some(available) = self.machine_available
                    && request.quantity > available
                {
                    return Fit::Never(Denial {
                        reason: DenialReason::InsufficientSystemMemory,
                        message: format!(
                            "{} bytes fit the memory budget but the machine has only {available} bytes available",
                            request.quantity
                        ),
                        retry_after: Some(MACHINE_MEMORY_RETRY),
                    });
                }
                Fit::Yes
            }
            Limit::Rate(gcra) => match gcra.wait_for(request.quantity, request.priority, now) {
                Some(wait) if wait.is_zero() => Fit::Yes,
                Some(wait) => Fit::Later(Some(wait)),
                None => Fit::Never(Denial::permanent(
                    DenialReason::InvalidQuantity,
                    format!(
                        "{} calls at once exceed what {} priority may ever use at once",
                        request.quantity,
                        request.priority.as_str()
                    ),
                )),
            },
        }
    }

    /// When a request that does not fit now might: the next expiry of a
    /// lease on the resource, or the quota's next call.
    fn retry_hint(&self, index: usize, request: &Acquire, now: At) -> Option<Duration> {
        match self.fits(index, request, now) {
            Fit::Later(Some(wait)) => Some(wait),
            _ => {
                let name = self.resources[index].name;
                self.expiries
                    .iter()
                    .find(|(_, id)| self.leases.get(id).is_some_and(|l| l.resource == name))
                    .map(|(at, _)| at.since(now).max(Duration::from_millis(1)))
            }
        }
    }

    fn busy_denial(
        &self,
        index: usize,
        request: &Acquire,
        retry_after: Option<Duration>,
    ) -> Denial {
        let resource = &self.resources[index];
        match resource.limit {
            Limit::Rate(_) => Denial {
                reason: DenialReason::QuotaExhausted,
                message: format!(
                    "no {} calls left for {} priority now",
                    resource.name,
                    request.priority.as_str()
                ),
                retry_after,
            },
            Limit::Pool { capacity } => Denial {
                reason: DenialReason::Timeout,
                message: format!(
                    "{} {} of {} not available in time ({} of {capacity} allocated, {} waiting)",
                    request.quantity,
                    resource.unit,
                    resource.name,
                    resource.allocated,
                    resource.waiting.len()
                ),
                retry_after,
            },
        }
    }

    fn deny(&mut self, tickets: Vec<Ticket>, request: &Acquire, denial: Denial) {
        self.effects.push(Effect::Denied {
            tickets,
            denial,
            resource: request.resource.clone(),
            holder: request.holder.clone(),
        });
    }

    fn grant(&mut self, index: usize, waiter: Waiter, now: At) {
        let request = waiter.request;
        let resource = &mut self.resources[index];
        let mut device = None;
        match &mut resource.limit {
            Limit::Pool { .. } => {
                resource.allocated += request.quantity;
                if let Some(Some(i)) = resource.placement(request.quantity) {
                    resource.devices[i].allocated += request.quantity;
                    device = Some(resource.devices[i].name.clone());
                }
            }
            Limit::Rate(gcra) => {
                if gcra.take(request.quantity, request.priority, now).is_err() {
                    debug_assert!(false, "granted a quota request that did not fit");
                }
                let tat = gcra.tat();
                self.effects.push(Effect::QuotaUsed {
                    resource: resource.name.to_owned(),
                    tat,
                });
            }
        }
        self.fencing += 1;
        // The next block is reserved while half of this one is left, so its
        // mark is stored long before a token needs it and no grant waits
        // for it (the store holds any grant above the stored mark).
        if self.fencing + FENCING_BLOCK / 2 > self.fencing_reserved {
            self.fencing_reserved = self.fencing.max(self.fencing_reserved) + FENCING_BLOCK;
            self.effects.push(Effect::FencingReserved {
                up_to: self.fencing_reserved,
            });
        }
        let id = LeaseId::new(FencingToken(self.fencing));
        let lease = Lease {
            id,
            resource: self.resources[index].name.to_owned(),
            holder: request.holder,
            quantity: request.quantity,
            priority: request.priority,
            granted_at: now,
            expires_at: now.plus(request.lease_duration),
            duration: request.lease_duration,
            request_id: request.request_id,
            device,
        };
        if let Some(request_id) = &lease.request_id {
            self.by_request
                .insert(request_id.clone(), Pending::Lease(id));
        }
        self.expiries.insert((lease.expires_at, id));
        self.leases.insert(id, lease.clone());
        self.effects.push(Effect::Granted {
            tickets: waiter.tickets,
            lease,
            fresh: true,
        });
    }

    /// Renews lease `id` for `holder` by `duration` from now (its original
    /// duration when `None`).
    pub fn renew(
        &mut self,
        ticket: Ticket,
        id: LeaseId,
        holder: &Ident,
        duration: Option<Duration>,
        now: At,
    ) {
        let lease = match self.owned(id, holder) {
            Ok(lease) => lease,
            Err(failure) => return self.effects.push(Effect::LeaseFailed { ticket, failure }),
        };
        let mut duration = duration.unwrap_or(lease.duration);
        if duration < MIN_LEASE_DURATION || duration > self.max_lease {
            return self.effects.push(Effect::LeaseFailed {
                ticket,
                failure: LeaseFailure {
                    reason: LeaseFailureReason::InvalidDuration,
                    message: format!(
                        "lease_duration must be between {} and {}",
                        humantime::format_duration(MIN_LEASE_DURATION),
                        humantime::format_duration(self.max_lease)
                    ),
                },
            });
        }
        let resource = self.resources.iter().find(|r| r.name == lease.resource);
        if let Some(resource) = resource
            && let Some(slice) = resource.max_lease
        {
            if !resource.waiting.is_empty() {
                return self.effects.push(Effect::LeaseFailed {
                    ticket,
                    failure: LeaseFailure {
                        reason: LeaseFailureReason::Preempted,
                        message: format!(
                            "{} requests wait for {}: release this slice and acquire again",
                            resource.waiting.len(),
                            resource.name
                        ),
                    },
                });
            }
            duration = duration.min(slice);
        }
        let old = lease.expires_at;
        let lease = self.leases.get_mut(&id).expect("checked above");
        lease.expires_at = now.plus(duration);
        let lease = lease.clone();
        self.expiries.remove(&(old, id));
        self.expiries.insert((lease.expires_at, id));
        self.effects.push(Effect::Renewed { ticket, lease });
    }

    /// Releases lease `id` held by `holder`.
    pub fn release(&mut self, ticket: Ticket, id: LeaseId, holder: &Ident, now: At) {
        if let Err(failure) = self.owned(id, holder) {
            return self.effects.push(Effect::LeaseFailed { ticket, failure });
        }
        let lease = self.remove(id);
        self.effects.push(Effect::Released { ticket, lease });
        self.pump(now);
    }

    fn owned(&self, id: LeaseId, holder: &Ident) -> Result<&Lease, LeaseFailure> {
        match self.leases.get(&id) {
            Some(lease) if lease.holder == *holder => Ok(lease),
            Some(_) => Err(LeaseFailure {
                reason: LeaseFailureReason::NotHolder,
                message: format!("lease {id} belongs to another holder"),
            }),
            None if self.expired.contains_key(&id) => Err(LeaseFailure::expired(id)),
            None => Err(LeaseFailure {
                reason: LeaseFailureReason::NotFound,
                message: format!("no lease {id} (never granted, released, or expired long ago)"),
            }),
        }
    }

    fn remove(&mut self, id: LeaseId) -> Lease {
        let lease = self.leases.remove(&id).expect("caller checked");
        self.expiries.remove(&(lease.expires_at, id));
        if let Some(request_id) = &lease.request_id
            && matches!(self.by_request.get(request_id), Some(Pending::Lease(l)) if *l == id)
        {
            self.by_request.remove(request_id);
        }
        if let Some(resource) = self.resources.iter_mut().find(|r| r.name == lease.resource)
            && matches!(resource.limit, Limit::Pool { .. })
        {
            resource.allocated = resource.allocated.saturating_sub(lease.quantity);
            if let Some(device) = resource.device_mut(lease.device.as_deref()) {
                device.allocated = device.allocated.saturating_sub(lease.quantity);
            }
        }
        lease
    }

    /// Expires leases and waits that are due, and grants what now fits.
    pub fn tick(&mut self, now: At) {
        while let Some(&(at, id)) = self.expiries.first() {
            if at > now {
                break;
            }
            let lease = self.remove(id);
            self.expired.insert(id, at);
            self.expired_order.push_back(id);
            if self.expired_order.len() > EXPIRED_REMEMBERED
                && let Some(old) = self.expired_order.pop_front()
            {
                self.expired.remove(&old);
            }
            self.effects.push(Effect::Expired { lease });
        }
        for index in 0..self.resources.len() {
            let (due, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.resources[index].waiting)
                .into_iter()
                .partition(|w| w.deadline <= now);
            self.resources[index].waiting = kept;
            for waiter in due {
                if let Some(request_id) = &waiter.request.request_id {
                    self.by_request.remove(request_id);
                }
                let retry_after = self.retry_hint(index, &waiter.request, now);
                let denial = self.busy_denial(index, &waiter.request, retry_after);
                self.deny(waiter.tickets, &waiter.request, denial);
            }
        }
        self.pump(now);
    }

    /// Grants waiting requests, in order, while the first one fits.
    fn pump(&mut self, now: At) {
        for index in 0..self.resources.len() {
            while !self.resources[index].waiting.is_empty() {
                let first = (0..self.resources[index].waiting.len())
                    .min_by_key(|&i| self.order_key(&self.resources[index].waiting[i], now))
                    .expect("not empty");
                let fit = self.fits(index, &self.resources[index].waiting[first].request, now);
                match fit {
                    Fit::Later(_) => break,
                    Fit::Yes | Fit::Never(_) => {
                        let waiter = self.resources[index].waiting.remove(first);
                        if let Some(request_id) = &waiter.request.request_id {
                            self.by_request.remove(request_id);
                        }
                        match fit {
                            Fit::Never(denial) => {
                                self.deny(waiter.tickets, &waiter.request, denial);
                            }
                            _ => self.grant(index, waiter, now),
                        }
                    }
                }
            }
        }
    }

    /// When [`Scheduler::tick`] next has something to do: an expiry, a wait
    /// timing out, a quota call replenished for the first waiter, or an aging
    /// step that may reorder waiters.
    pub fn next_wakeup(&self, now: At) -> Option<At> {
        let mut next = self.expiries.first().map(|(at, _)| *at);
        let mut consider = |at: At| next = Some(next.map_or(at, |n: At| n.min(at)));
        for (index, resource) in self.resources.iter().enumerate() {
            for waiter in &resource.waiting {
                consider(waiter.deadline);
                if resource.waiting.len() > 1 && waiter.request.priority != Priority::High {
                    let waited = now.since(waiter.arrived).as_nanos();
                    let step = self.aging_step.as_nanos().max(1);
                    let steps = waited / step + 1;
                    if steps <= u128::from(waiter.request.priority.rank()) {
                        let nanos = u64::try_from(steps * step).unwrap_or(u64::MAX);
                        consider(waiter.arrived.plus(Duration::from_nanos(nanos)));
                    }
                }
                if let Fit::Later(Some(wait)) = self.fits(index, &waiter.request, now) {
                    consider(now.plus(wait));
                }
            }
        }
        next
    }

    /// The state of the named resources (all when `names` is empty); unknown
    /// names are skipped.
    pub fn status(&self, names: &[String], now: At) -> Vec<ResourceStatus> {
        self.resources
            .iter()
            .filter(|r| names.is_empty() || names.iter().any(|n| n == r.name))
            .map(|r| self.resource_status(r, now, true))
            .collect()
    }

    /// Every resource's numbers without its leases: what the gauges show,
    /// refreshed often, so the leases are not copied and sorted for it.
    pub fn gauges(&self, now: At) -> Vec<ResourceStatus> {
        self.resources
            .iter()
            .map(|r| self.resource_status(r, now, false))
            .collect()
    }

    fn resource_status(&self, r: &Resource, now: At, with_leases: bool) -> ResourceStatus {
        let (capacity, allocated, available, next) = match &r.limit {
            Limit::Pool { capacity } => (
                *capacity,
                r.allocated,
                capacity.saturating_sub(r.allocated),
                None,
            ),
            Limit::Rate(gcra) => {
                let available = gcra.available(now);
                let next = (available == 0)
                    .then(|| gcra.wait_for(1, Priority::High, now))
                    .flatten();
                (gcra.burst(), gcra.burst() - available, available, next)
            }
        };
        let waiting = Priority::ALL
            .iter()
            .map(|&p| {
                let of = r.waiting.iter().filter(|w| w.request.priority == p);
                let count = of.clone().count() as u64;
                (p, count, of.map(|w| w.request.quantity).sum())
            })
            .collect();
        let mut leases: Vec<_> = if with_leases {
            self.leases
                .values()
                .filter(|l| l.resource == r.name)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        leases.sort_by_key(|l| l.id);
        ResourceStatus {
            name: r.name,
            unit: r.unit,
            capacity,
            allocated,
            available,
            waiting,
            leases,
            next_available_in: next,
        }
    }

    /// Refuses every waiting request (the coordinator is stopping).
    pub fn shut_down(&mut self) {
        for index in 0..self.resources.len() {
            for waiter in std::mem::take(&mut self.resources[index].waiting) {
                if let Some(request_id) = &waiter.request.request_id {
                    self.by_request.remove(request_id);
                }
                self.deny(
                    waiter.tickets,
                    &waiter.request,
                    Denial {
                        reason: DenialReason::ShuttingDown,
                        message: "the coordinator is shutting down; retry".to_owned(),
                        retry_after: Some(Duration::from_secs(1)),
                    },
                );
            }
        }
    }
}

/// A request id whose lease or wait no longer exists.
#[derive(Debug)]
struct Stale;

enum Fit {
    Yes,
    Later(Option<Duration>),
    Never(Denial),
}

#[cfg(test)]
mod tests;
