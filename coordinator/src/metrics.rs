//! What `/metrics` shows about the coordinator (Prometheus, through the
//! recorder `jimbot-service` installs).

use std::time::Duration;

use metrics::{Counter, Histogram, counter, gauge, histogram};

use crate::{
    domain::Priority,
    scheduler::{DenialReason, ResourceStatus, names},
};

/// Names and help texts, registered once.
pub fn describe() {
    metrics::describe_gauge!(
        "coordinator_capacity",
        "Capacity per resource (quotas: the burst)"
    );
    metrics::describe_gauge!("coordinator_allocated", "Allocated per resource");
    metrics::describe_gauge!("coordinator_available", "Available per resource");
    metrics::describe_gauge!(
        "coordinator_waiting_requests",
        "Waiting requests per resource and priority"
    );
    metrics::describe_gauge!(
        "coordinator_claude_calls_left",
        "Claude API calls that could be granted now"
    );
    metrics::describe_gauge!(
        "coordinator_fencing_counter",
        "Highest fencing token issued"
    );
    metrics::describe_counter!("coordinator_grants_total", "Leases granted");
    metrics::describe_counter!("coordinator_denials_total", "Acquires denied, by reason");
    metrics::describe_counter!("coordinator_expiries_total", "Leases expired unrenewed");
    metrics::describe_counter!("coordinator_releases_total", "Leases released");
    metrics::describe_histogram!(
        "coordinator_decision_seconds",
        "From a request's arrival to its answer (including persistence)"
    );
    metrics::describe_counter!(
        "coordinator_decisions_within_total",
        "Decisions answered within `le` seconds (cumulative; 100 us steps up to 1 ms)"
    );
}

/// Upper bounds, in microseconds, of `coordinator_decisions_within_total`:
/// the shared histogram's buckets jump from 0.5 ms to 1 ms to 2.5 ms, too
/// coarse to tell a p99 of 0.6 ms from one of 0.95 ms.
pub const WITHIN_MICROS: [u64; 15] = [
    100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000, 1_500, 2_000, 3_000, 5_000, 10_000,
];

/// The operations a decision is timed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// An acquire that may not wait.
    Acquire,
    /// An acquire that may wait (its wait included).
    AcquireWaiting,
    /// A renewal.
    Renew,
    /// A release.
    Release,
}

impl Operation {
    const ALL: [Operation; 4] = [
        Operation::Acquire,
        Operation::AcquireWaiting,
        Operation::Renew,
        Operation::Release,
    ];

    /// The `operation` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Acquire => "acquire",
            Operation::AcquireWaiting => "acquire_waiting",
            Operation::Renew => "renew",
            Operation::Release => "release",
        }
    }
}

/// Decision-time metrics with their handles looked up once, so timing a
/// decision costs a few atomic adds rather than a registry lookup per label
/// set.
#[derive(Debug)]
pub struct Decisions {
    by_operation: [DecisionMetrics; 4],
}

#[derive(Debug)]
struct DecisionMetrics {
    seconds: Histogram,
    /// One per bound of [`WITHIN_MICROS`], then `+Inf`.
    within: Vec<Counter>,
}

impl Decisions {
    /// Registers the handles with the installed recorder.
    pub fn new() -> Self {
        Self {
            by_operation: Operation::ALL.map(|operation| {
                let label = operation.as_str();
                let within = WITHIN_MICROS
                    .iter()
                    .map(|&us| (us as f64 / 1e6).to_string())
                    .chain(std::iter::once("+Inf".to_owned()))
                    .map(|le| {
                        counter!(
                            "coordinator_decisions_within_total",
                            "operation" => label,
                            "le" => le
                        )
                    })
                    .collect();
                DecisionMetrics {
                    seconds: histogram!("coordinator_decision_seconds", "operation" => label),
                    within,
                }
            }),
        }
    }

    /// How long a decision took.
    pub fn record(&self, operation: Operation, took: Duration) {
        let m = &self.by_operation[operation as usize];
        m.seconds.record(took.as_secs_f64());
        for counter in &m.within[first_within(took)..] {
            counter.increment(1);
        }
    }
}

/// The index of the first bound of [`WITHIN_MICROS`] at or above `took`
/// (its length when none is: only `+Inf` counts it).
fn first_within(took: Duration) -> usize {
    let nanos = took.as_nanos();
    WITHIN_MICROS.partition_point(|&bound| u128::from(bound) * 1_000 < nanos)
}

impl Default for Decisions {
    fn default() -> Self {
        Self::new()
    }
}

/// The gauges, from a status snapshot.
pub fn resources(status: &[ResourceStatus], fencing: u64) {
    for r in status {
        gauge!("coordinator_capacity", "resource" => r.name).set(r.capacity as f64);
        gauge!("coordinator_allocated", "resource" => r.name).set(r.allocated as f64);
        gauge!("coordinator_available", "resource" => r.name).set(r.available as f64);
        for &(priority, requests, _) in &r.waiting {
            gauge!(
                "coordinator_waiting_requests",
                "resource" => r.name,
                "priority" => priority.as_str()
            )
            .set(requests as f64);
        }
        if r.name == names::CLAUDE_API {
            gauge!("coordinator_claude_calls_left").set(r.available as f64);
        }
    }
    gauge!("coordinator_fencing_counter").set(fencing as f64);
}

/// A grant.
pub fn granted(resource: &'static str, priority: Priority) {
    counter!("coordinator_grants_total", "resource" => resource, "priority" => priority.as_str())
        .increment(1);
}

/// A denial. Resources are labelled only when known, so hostile names cannot
/// mint label values.
pub fn denied(resource: Option<&'static str>, reason: DenialReason) {
    counter!(
        "coordinator_denials_total",
        "resource" => resource.unwrap_or("unknown"),
        "reason" => reason_label(reason)
    )
    .increment(1);
}

/// An expiry.
pub fn expired(resource: &'static str) {
    counter!("coordinator_expiries_total", "resource" => resource).increment(1);
}

/// A release.
pub fn released(resource: &'static str) {
    counter!("coordinator_releases_total", "resource" => resource).increment(1);
}

fn reason_label(reason: DenialReason) -> &'static str {
    match reason {
        DenialReason::UnknownResource => "unknown_resource",
        DenialReason::InvalidQuantity => "invalid_quantity",
        DenialReason::InvalidDuration => "invalid_duration",
        DenialReason::Timeout => "timeout",
        DenialReason::QuotaExhausted => "quota_exhausted",
        DenialReason::InsufficientSystemMemory => "insufficient_system_memory",
        DenialReason::InvalidArgument => "invalid_argument",
        DenialReason::ShuttingDown => "shutting_down",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_counts_from_the_first_bound_at_or_above_it() {
        let within = |us| {
            WITHIN_MICROS
                .get(first_within(Duration::from_micros(us)))
                .copied()
        };
        assert_eq!(within(0), Some(100));
        assert_eq!(within(100), Some(100), "bounds are inclusive");
        assert_eq!(within(101), Some(200));
        assert_eq!(
            WITHIN_MICROS.get(first_within(Duration::from_nanos(100_001))),
            Some(&200),
            "not truncated to whole microseconds"
        );
        assert_eq!(within(999), Some(1_000));
        assert_eq!(within(1_001), Some(1_500));
        assert_eq!(within(10_000), Some(10_000));
        assert_eq!(within(10_001), None, "only +Inf");
    }
}
