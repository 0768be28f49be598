//! Protobuf requests in, protobuf answers out: every field of a request is
//! checked here (or by the scheduler, for what depends on the configuration).

use std::time::Duration;

use jimbot_schemas::v1;

use crate::{
    actor::Snapshot,
    domain::{At, Ident, LeaseId, Priority},
    scheduler::{
        Acquire, Denial, DenialReason, Lease, LeaseFailure, LeaseFailureReason, ResourceStatus,
    },
};

/// Longest resource name looked up; longer ones name no resource.
const MAX_RESOURCE_LEN: usize = 64;

/// A renew, release or status request that is malformed (acquire requests
/// are answered with a denial instead, which the protocol has room for).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidRequest(pub String);

/// Checks an acquire request.
pub fn acquire(request: v1::AcquireRequest) -> Result<Acquire, Denial> {
    let invalid = |message: String| Denial::permanent(DenialReason::InvalidArgument, message);
    let priority = match v1::Priority::try_from(request.priority) {
        Ok(v1::Priority::High) => Priority::High,
        Ok(v1::Priority::Medium) => Priority::Medium,
        Ok(v1::Priority::Low) => Priority::Low,
        _ => {
            return Err(invalid(format!(
                "priority must be PRIORITY_HIGH, PRIORITY_MEDIUM or PRIORITY_LOW (got {})",
                request.priority
            )));
        }
    };
    let holder = Ident::parse(&request.holder).map_err(|e| invalid(format!("holder: {e}")))?;
    let request_id = match request.request_id.as_str() {
        "" => None,
        raw => Some(Ident::parse(raw).map_err(|e| invalid(format!("request_id: {e}")))?),
    };
    let lease_duration = match request.lease_duration {
        None => {
            return Err(Denial::permanent(
                DenialReason::InvalidDuration,
                "lease_duration is required",
            ));
        }
        Some(d) => duration(d).map_err(|e| {
            Denial::permanent(
                DenialReason::InvalidDuration,
                format!("lease_duration: {e}"),
            )
        })?,
    };
    let wait_timeout = match request.wait_timeout {
        None => Duration::ZERO,
        Some(d) => duration(d).map_err(|e| {
            Denial::permanent(DenialReason::InvalidDuration, format!("wait_timeout: {e}"))
        })?,
    };
    let mut resource = request.resource;
    if resource.len() > MAX_RESOURCE_LEN {
        // Keep the denial message (and the audit record) small.
        let mut cut = MAX_RESOURCE_LEN;
        while !resource.is_char_boundary(cut) {
            cut -= 1;
        }
        resource.truncate(cut);
        resource.push('…');
    }
    Ok(Acquire {
        resource,
        quantity: request.quantity,
        priority,
        holder,
        lease_duration,
        wait_timeout,
        request_id,
    })
}

/// A renewal's lease, holder and duration (if any).
pub type Renewal = (LeaseId, Ident, Option<Duration>);

/// Checks a renew request: the lease, the holder and the duration (if any).
pub fn renew(request: v1::RenewRequest) -> Result<Result<Renewal, LeaseFailure>, InvalidRequest> {
    let (id, holder) = match lease_and_holder(&request.lease_id, &request.holder)? {
        Ok(found) => found,
        Err(failure) => return Ok(Err(failure)),
    };
    let duration = match request.lease_duration {
        None => None,
        Some(d) => match duration(d) {
            Ok(d) => Some(d),
            Err(e) => {
                return Ok(Err(LeaseFailure {
                    reason: LeaseFailureReason::InvalidDuration,
                    message: format!("lease_duration: {e}"),
                }));
            }
        },
    };
    Ok(Ok((id, holder, duration)))
}

/// Checks a release request.
pub fn release(
    request: v1::ReleaseRequest,
) -> Result<Result<(LeaseId, Ident), LeaseFailure>, InvalidRequest> {
    lease_and_holder(&request.lease_id, &request.holder)
}

fn lease_and_holder(
    lease_id: &str,
    holder: &str,
) -> Result<Result<(LeaseId, Ident), LeaseFailure>, InvalidRequest> {
    let holder = Ident::parse(holder).map_err(|e| InvalidRequest(format!("holder: {e}")))?;
    match LeaseId::parse(lease_id) {
        Some(id) => Ok(Ok((id, holder))),
        None => Ok(Err(LeaseFailure {
            reason: LeaseFailureReason::NotFound,
            message: format!(
                "no lease {:?}: lease ids look like l-123",
                lease_id.chars().take(MAX_RESOURCE_LEN).collect::<String>()
            ),
        })),
    }
}

/// Checks a status request's resource names (unknown ones are skipped).
pub fn resources(names: Vec<String>) -> Result<Vec<String>, InvalidRequest> {
    if names.len() > 64 {
        return Err(InvalidRequest("at most 64 resources".to_owned()));
    }
    Ok(names)
}

/// A protobuf duration, refused when negative or malformed.
pub fn duration(d: prost_types::Duration) -> Result<Duration, String> {
    if d.seconds < 0 || d.nanos < 0 {
        return Err("must not be negative".to_owned());
    }
    if d.nanos >= 1_000_000_000 {
        return Err("nanos must be below one second".to_owned());
    }
    Ok(Duration::new(d.seconds as u64, d.nanos as u32))
}

/// A protobuf duration.
pub fn proto_duration(d: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos() as i32,
    }
}

/// A status snapshot as the protobuf answer (gRPC and NATS alike).
pub fn status_response(s: &Snapshot) -> v1::StatusResponse {
    v1::StatusResponse {
        resources: s.resources.iter().map(resource_status).collect(),
        at: Some(timestamp(s.at)),
        fencing_counter: s.fencing_counter,
    }
}

/// A protobuf timestamp.
pub fn timestamp(at: At) -> prost_types::Timestamp {
    let d = at.since_epoch();
    prost_types::Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos() as i32,
    }
}

fn priority(p: Priority) -> v1::Priority {
    match p {
        Priority::High => v1::Priority::High,
        Priority::Medium => v1::Priority::Medium,
        Priority::Low => v1::Priority::Low,
    }
}

/// A lease.
pub fn lease(lease: &Lease) -> v1::Lease {
    v1::Lease {
        lease_id: lease.id.to_string(),
        resource: lease.resource.clone(),
        holder: lease.holder.to_string(),
        quantity: lease.quantity,
        priority: priority(lease.priority) as i32,
        fencing_token: lease.token().0,
        granted_at: Some(timestamp(lease.granted_at)),
        expires_at: Some(timestamp(lease.expires_at)),
        request_id: lease
            .request_id
            .as_ref()
            .map(Ident::to_string)
            .unwrap_or_default(),
        device: lease.device.clone().unwrap_or_default(),
    }
}

/// A denial.
pub fn denial(denial: &Denial) -> v1::Denial {
    let reason = match denial.reason {
        DenialReason::UnknownResource => v1::DenialReason::UnknownResource,
        DenialReason::InvalidQuantity => v1::DenialReason::InvalidQuantity,
        DenialReason::InvalidDuration => v1::DenialReason::InvalidDuration,
        DenialReason::Timeout => v1::DenialReason::Timeout,
        DenialReason::QuotaExhausted => v1::DenialReason::QuotaExhausted,
        DenialReason::InsufficientSystemMemory => v1::DenialReason::InsufficientSystemMemory,
        DenialReason::InvalidArgument => v1::DenialReason::InvalidArgument,
        DenialReason::ShuttingDown => v1::DenialReason::ShuttingDown,
    };
    v1::Denial {
        reason: reason as i32,
        message: denial.message.clone(),
        retry_after: denial.retry_after.map(proto_duration),
    }
}

/// A renew's or release's failure.
pub fn lease_failure(failure: &LeaseFailure) -> v1::LeaseFailure {
    let reason = match failure.reason {
        LeaseFailureReason::NotFound => v1::LeaseFailureReason::NotFound,
        LeaseFailureReason::Expired => v1::LeaseFailureReason::Expired,
        LeaseFailureReason::NotHolder => v1::LeaseFailureReason::NotHolder,
        LeaseFailureReason::InvalidDuration => v1::LeaseFailureReason::InvalidDuration,
        LeaseFailureReason::Preempted => v1::LeaseFailureReason::Preempted,
    };
    v1::LeaseFailure {
        reason: reason as i32,
        message: failure.message.clone(),
    }
}

/// An acquire's answer.
pub fn acquire_response(answer: &Result<Lease, Denial>) -> v1::AcquireResponse {
    use v1::acquire_response::Outcome;
    v1::AcquireResponse {
        outcome: Some(match answer {
            Ok(l) => Outcome::Granted(lease(l)),
            Err(d) => Outcome::Denied(denial(d)),
        }),
    }
}

/// A renew's answer.
pub fn renew_response(answer: &Result<Lease, LeaseFailure>) -> v1::RenewResponse {
    use v1::renew_response::Outcome;
    v1::RenewResponse {
        outcome: Some(match answer {
            Ok(l) => Outcome::Renewed(lease(l)),
            Err(f) => Outcome::Failed(lease_failure(f)),
        }),
    }
}

/// A release's answer.
pub fn release_response(answer: &Result<Lease, LeaseFailure>) -> v1::ReleaseResponse {
    use v1::release_response::Outcome;
    v1::ReleaseResponse {
        outcome: Some(match answer {
            Ok(l) => Outcome::Released(lease(l)),
            Err(f) => Outcome::Failed(lease_failure(f)),
        }),
    }
}

/// One resource's status.
pub fn resource_status(status: &ResourceStatus) -> v1::ResourceStatus {
    v1::ResourceStatus {
        resource: status.name.to_owned(),
        unit: status.unit.to_owned(),
        capacity: status.capacity,
        allocated: status.allocated,
        available: status.available,
        waiting: status
            .waiting
            .iter()
            .map(|&(p, requests, quantity)| v1::WaitingCount {
                priority: priority(p) as i32,
                requests,
                quantity,
            })
            .collect(),
        leases: status.leases.iter().map(lease).collect(),
        next_available_in: status.next_available_in.map(proto_duration),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> v1::AcquireRequest {
        v1::AcquireRequest {
            resource: "cpu".to_owned(),
            quantity: 1,
            priority: v1::Priority::High as i32,
            holder: "trainer".to_owned(),
            lease_duration: Some(proto_duration(Duration::from_secs(30))),
            wait_timeout: None,
            request_id: String::new(),
        }
    }

    #[test]
    fn a_valid_request_parses() {
        let parsed = acquire(valid()).unwrap();
        assert_eq!(parsed.priority, Priority::High);
        assert_eq!(parsed.wait_timeout, Duration::ZERO);
        assert_eq!(parsed.request_id, None);
    }

    #[test]
    fn malformed_fields_are_denied_with_the_field_named() {
        let neg = prost_types::Duration {
            seconds: -1,
            nanos: 0,
        };
        let cases: Vec<(v1::AcquireRequest, DenialReason, &str)> = vec![
            (
                v1::AcquireRequest {
                    priority: 0,
                    ..valid()
                },
                DenialReason::InvalidArgument,
                "priority",
            ),
            (
                v1::AcquireRequest {
                    priority: 42,
                    ..valid()
                },
                DenialReason::InvalidArgument,
                "priority",
            ),
            (
                v1::AcquireRequest {
                    holder: String::new(),
                    ..valid()
                },
                DenialReason::InvalidArgument,
                "holder",
            ),
            (
                v1::AcquireRequest {
                    holder: "a\u{0}b".to_owned(),
                    ..valid()
                },
                DenialReason::InvalidArgument,
                "holder",
            ),
            (
                v1::AcquireRequest {
                    request_id: "x".repeat(300),
                    ..valid()
                },
                DenialReason::InvalidArgument,
                "request_id",
            ),
            (
                v1::AcquireRequest {
                    lease_duration: None,
                    ..valid()
                },
                DenialReason::InvalidDuration,
                "lease_duration",
            ),
            (
                v1::AcquireRequest {
                    lease_duration: Some(neg),
                    ..valid()
                },
                DenialReason::InvalidDuration,
                "lease_duration",
            ),
            (
                v1::AcquireRequest {
                    wait_timeout: Some(neg),
                    ..valid()
                },
                DenialReason::InvalidDuration,
                "wait_timeout",
            ),
            (
                v1::AcquireRequest {
                    wait_timeout: Some(prost_types::Duration {
                        seconds: 1,
                        nanos: 2_000_000_000,
                    }),
                    ..valid()
                },
                DenialReason::InvalidDuration,
                "wait_timeout",
            ),
        ];
        for (request, reason, field) in cases {
            let denial = acquire(request.clone()).expect_err(&format!("{request:?}"));
            assert_eq!(denial.reason, reason, "{request:?}");
            assert!(denial.message.contains(field), "{}", denial.message);
        }
    }

    #[test]
    fn huge_resource_names_are_cut() {
        let parsed = acquire(v1::AcquireRequest {
            resource: "é".repeat(10_000),
            ..valid()
        })
        .unwrap();
        assert!(parsed.resource.len() <= MAX_RESOURCE_LEN + 3);
    }

    #[test]
    fn renew_and_release_check_the_lease_id_and_holder() {
        let bad_id = renew(v1::RenewRequest {
            lease_id: "lease-one".to_owned(),
            holder: "h".to_owned(),
            lease_duration: None,
        })
        .unwrap()
        .unwrap_err();
        assert_eq!(bad_id.reason, LeaseFailureReason::NotFound);
        let no_holder = release(v1::ReleaseRequest {
            lease_id: "l-1".to_owned(),
            holder: String::new(),
        });
        assert!(no_holder.is_err());
    }
}
