//! One resource's limit, devices and wait queue.

use std::time::Duration;

use super::{Acquire, Lease, Ticket, quota::Gcra};
use crate::domain::{At, Priority};

#[derive(Debug, Clone)]
pub(super) enum Limit {
    /// A fixed amount, returned on release.
    Pool { capacity: u64 },
    /// A replenishing rate, used up by grants.
    Rate(Gcra),
}

#[derive(Debug, Clone)]
pub(super) struct Resource {
    pub(super) name: &'static str,
    pub(super) unit: &'static str,
    pub(super) limit: Limit,
    pub(super) allocated: u64,
    /// Largest single grant (a GPU memory grant must fit one device).
    pub(super) max_quantity: u64,
    /// Leases last at most this long (GPU time slices).
    pub(super) max_lease: Option<Duration>,
    /// Checked against the machine's available memory.
    pub(super) machine_memory: bool,
    /// For GPU memory: each grant is placed on one device with room for it.
    pub(super) devices: Vec<Device>,
    pub(super) waiting: Vec<Waiter>,
}

#[derive(Debug, Clone)]
pub(super) struct Device {
    pub(super) name: String,
    pub(super) capacity: u64,
    pub(super) allocated: u64,
}

impl Resource {
    /// The device a grant of `quantity` goes to: the one with the least room
    /// that still fits it (keeping large holes for large requests), the
    /// first such on ties. `Some(None)` for resources without devices;
    /// `None` when no device has room.
    pub(super) fn placement(&self, quantity: u64) -> Option<Option<usize>> {
        if self.devices.is_empty() {
            return Some(None);
        }
        self.devices
            .iter()
            .enumerate()
            .filter(|(_, d)| d.capacity - d.allocated >= quantity)
            .min_by_key(|(i, d)| (d.capacity - d.allocated, *i))
            .map(|(i, _)| Some(i))
    }

    pub(super) fn device_mut(&mut self, name: Option<&str>) -> Option<&mut Device> {
        let name = name?;
        self.devices.iter_mut().find(|d| d.name == name)
    }
}

#[derive(Debug, Clone)]
pub(super) struct Waiter {
    pub(super) tickets: Vec<Ticket>,
    pub(super) request: Acquire,
    pub(super) arrived: At,
    pub(super) deadline: At,
    pub(super) seq: u64,
}

/// One resource's state, for status and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceStatus {
    /// Name.
    pub name: &'static str,
    /// Unit of the amounts.
    pub unit: &'static str,
    /// Capacity (for quotas: the burst).
    pub capacity: u64,
    /// Held by leases (for quotas: calls used and not yet replenished).
    pub allocated: u64,
    /// Free now.
    pub available: u64,
    /// Waiting requests and their quantity per (requested) priority.
    pub waiting: Vec<(Priority, u64, u64)>,
    /// Live leases, oldest first.
    pub leases: Vec<Lease>,
    /// For quotas without a call free: when the next one is.
    pub next_available_in: Option<Duration>,
}
