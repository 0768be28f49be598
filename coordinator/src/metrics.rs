//! What `/metrics` shows about the coordinator (Prometheus, through the
//! recorder `jimbot-service` installs).

use std::time::Duration;

use metrics::{counter, gauge, histogram};

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

/// How long a decision took.
pub fn decision(operation: &'static str, took: Duration) {
    histogram!("coordinator_decision_seconds", "operation" => operation).record(took.as_secs_f64());
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
