//! The gRPC API against the real binary and a real nats-server.

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use jimbot_nats::testing::NatsServer;
use jimbot_schemas::v1::{self, Priority};

#[tokio::test]
async fn acquire_renew_release_and_status_round_trip() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, SMALL).await;
    let lease = granted(
        &c.grpc
            .acquire(acquire("cpu", 1, Priority::High, "trainer"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert!(lease.lease_id.starts_with("l-"));
    assert!(lease.fencing_token > 0);
    let status = resource(&mut c.grpc, "cpu").await;
    assert_eq!(
        (status.capacity, status.allocated, status.available),
        (2, 1, 1)
    );
    assert_eq!(status.unit, "cores");
    assert_eq!(status.leases, vec![lease.clone()]);

    let renewed = c
        .grpc
        .renew(v1::RenewRequest {
            lease_id: lease.lease_id.clone(),
            holder: "trainer".to_owned(),
            lease_duration: secs(120),
        })
        .await
        .unwrap()
        .into_inner();
    let Some(v1::renew_response::Outcome::Renewed(renewed)) = renewed.outcome else {
        panic!("{renewed:?}")
    };
    assert!(renewed.expires_at.unwrap().seconds > lease.expires_at.unwrap().seconds);
    assert_eq!(renewed.fencing_token, lease.fencing_token);

    let released = c
        .grpc
        .release(v1::ReleaseRequest {
            lease_id: lease.lease_id.clone(),
            holder: "trainer".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        released.outcome,
        Some(v1::release_response::Outcome::Released(_))
    ));
    assert_eq!(resource(&mut c.grpc, "cpu").await.allocated, 0);
    // Released means gone.
    let again = c
        .grpc
        .release(v1::ReleaseRequest {
            lease_id: lease.lease_id,
            holder: "trainer".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(release_failure(&again), v1::LeaseFailureReason::NotFound);
}

#[tokio::test]
async fn contention_grants_high_then_medium_then_low_first_come_within() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, "[cpu]\ncores = 1\n").await;
    let blocker = granted(
        &c.grpc
            .acquire(acquire("cpu", 1, Priority::Low, "blocker"))
            .await
            .unwrap()
            .into_inner(),
    );
    let (tx, mut grants) = tokio::sync::mpsc::unbounded_channel();
    let arrivals = [
        ("low-1", Priority::Low),
        ("medium-1", Priority::Medium),
        ("low-2", Priority::Low),
        ("high-1", Priority::High),
        ("medium-2", Priority::Medium),
        ("high-2", Priority::High),
    ];
    for (n, (holder, priority)) in arrivals.into_iter().enumerate() {
        let mut grpc = c.grpc.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut request = acquire("cpu", 1, priority, holder);
            request.wait_timeout = secs(60);
            let lease = granted(&grpc.acquire(request).await.unwrap().into_inner());
            tx.send(lease).unwrap();
        });
        // Arrival order is the order they are queued in.
        wait_for_waiting(&mut c.grpc, "cpu", n as u64 + 1).await;
    }
    let mut order = Vec::new();
    let mut holding = blocker;
    for _ in 0..6 {
        c.grpc
            .release(v1::ReleaseRequest {
                lease_id: holding.lease_id.clone(),
                holder: holding.holder.clone(),
            })
            .await
            .unwrap();
        holding = tokio::time::timeout(Duration::from_secs(20), grants.recv())
            .await
            .expect("a grant")
            .unwrap();
        order.push(holding.holder.clone());
    }
    assert_eq!(
        order,
        ["high-1", "high-2", "medium-1", "medium-2", "low-1", "low-2"]
    );
}

#[tokio::test]
async fn the_same_request_id_twice_gives_one_lease() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, SMALL).await;
    let mut request = acquire("memory", 1024, Priority::Medium, "kg");
    request.request_id = "query-7".to_owned();
    let first = granted(&c.grpc.acquire(request.clone()).await.unwrap().into_inner());
    let second = granted(&c.grpc.acquire(request).await.unwrap().into_inner());
    assert_eq!(first, second);
    let memory = resource(&mut c.grpc, "memory").await;
    assert_eq!((memory.allocated, memory.leases.len()), (1024, 1));
}

#[tokio::test]
async fn an_unrenewed_lease_expires_and_then_cannot_be_renewed() {
    let server = NatsServer::start().await.expect("nats");
    let nats = server.connect().await;
    let mut expired_events = nats
        .subscribe("jimbot.coordinator.events.expired")
        .await
        .unwrap();
    nats.flush().await.unwrap();
    let mut c = start(&server, SMALL).await;
    let mut request = acquire("cpu", 2, Priority::High, "short");
    request.lease_duration = millis(300);
    let lease = granted(&c.grpc.acquire(request).await.unwrap().into_inner());
    // A waiter gets the capacity the moment it is reclaimed.
    let mut waiting = acquire("cpu", 2, Priority::Low, "next");
    waiting.wait_timeout = secs(30);
    let next = granted(&c.grpc.acquire(waiting).await.unwrap().into_inner());
    assert!(next.fencing_token > lease.fencing_token);
    let granted_at = next.granted_at.unwrap();
    let expires_at = lease.expires_at.unwrap();
    assert!(
        (granted_at.seconds, granted_at.nanos) >= (expires_at.seconds, expires_at.nanos),
        "granted {granted_at:?} before the expiry {expires_at:?}"
    );
    let event = tokio::time::timeout(Duration::from_secs(10), expired_events.next())
        .await
        .expect("expiry published")
        .unwrap();
    let event = <v1::CoordinatorEvent as prost::Message>::decode(event.payload).unwrap();
    assert_eq!(event.kind, "expired");
    assert_eq!(event.lease.unwrap().lease_id, lease.lease_id);
    let renewed = c
        .grpc
        .renew(v1::RenewRequest {
            lease_id: lease.lease_id,
            holder: "short".to_owned(),
            lease_duration: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renew_failure(&renewed), v1::LeaseFailureReason::Expired);
    let failure = match renewed.outcome {
        Some(v1::renew_response::Outcome::Failed(f)) => f.message,
        _ => unreachable!(),
    };
    assert!(failure.contains("expired"), "{failure}");
}

#[tokio::test]
async fn hostile_requests_get_clear_answers_and_change_nothing() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, SMALL).await;
    let owned = granted(
        &c.grpc
            .acquire(acquire("cpu", 1, Priority::High, "owner"))
            .await
            .unwrap()
            .into_inner(),
    );
    let before = state(&mut c.grpc).await;
    let hundred_years = secs(100 * 365 * 86_400);
    let cases: Vec<(v1::AcquireRequest, v1::DenialReason)> = vec![
        (
            acquire("cpu", 0, Priority::High, "x"),
            v1::DenialReason::InvalidQuantity,
        ),
        (
            acquire("cpu", 3, Priority::High, "x"),
            v1::DenialReason::InvalidQuantity,
        ),
        (
            acquire("cpu", u64::MAX, Priority::High, "x"),
            v1::DenialReason::InvalidQuantity,
        ),
        (
            acquire("tpu", 1, Priority::High, "x"),
            v1::DenialReason::UnknownResource,
        ),
        (
            acquire(&"r".repeat(60_000), 1, Priority::High, "x"),
            v1::DenialReason::UnknownResource,
        ),
        (
            acquire("cpu", 1, Priority::Unspecified, "x"),
            v1::DenialReason::InvalidArgument,
        ),
        (
            v1::AcquireRequest {
                priority: -5,
                ..acquire("cpu", 1, Priority::High, "x")
            },
            v1::DenialReason::InvalidArgument,
        ),
        (
            acquire("cpu", 1, Priority::High, ""),
            v1::DenialReason::InvalidArgument,
        ),
        (
            acquire("cpu", 1, Priority::High, "bad\r\nholder"),
            v1::DenialReason::InvalidArgument,
        ),
        (
            v1::AcquireRequest {
                lease_duration: secs(0),
                ..acquire("cpu", 1, Priority::High, "x")
            },
            v1::DenialReason::InvalidDuration,
        ),
        (
            v1::AcquireRequest {
                lease_duration: None,
                ..acquire("cpu", 1, Priority::High, "x")
            },
            v1::DenialReason::InvalidDuration,
        ),
        (
            v1::AcquireRequest {
                lease_duration: hundred_years,
                ..acquire("cpu", 1, Priority::High, "x")
            },
            v1::DenialReason::InvalidDuration,
        ),
        (
            v1::AcquireRequest {
                wait_timeout: hundred_years,
                ..acquire("cpu", 1, Priority::High, "x")
            },
            v1::DenialReason::InvalidDuration,
        ),
        (
            v1::AcquireRequest {
                lease_duration: Some(prost_types::Duration {
                    seconds: -60,
                    nanos: 0,
                }),
                ..acquire("cpu", 1, Priority::High, "x")
            },
            v1::DenialReason::InvalidDuration,
        ),
    ];
    for (request, reason) in cases {
        let response = c.grpc.acquire(request.clone()).await.unwrap().into_inner();
        let denial = denied(&response);
        assert_eq!(
            denial.reason,
            reason as i32,
            "{}: {}",
            request.resource.len(),
            denial.message
        );
        assert!(!denial.message.is_empty());
        assert!(denial.message.len() < 1024, "bounded message");
        assert_eq!(
            denial.retry_after, None,
            "retrying will not help: {}",
            denial.message
        );
    }
    // Someone else's lease.
    let release = c
        .grpc
        .release(v1::ReleaseRequest {
            lease_id: owned.lease_id.clone(),
            holder: "intruder".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(release_failure(&release), v1::LeaseFailureReason::NotHolder);
    let renew = c
        .grpc
        .renew(v1::RenewRequest {
            lease_id: owned.lease_id.clone(),
            holder: "intruder".to_owned(),
            lease_duration: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renew_failure(&renew), v1::LeaseFailureReason::NotHolder);
    for lease_id in [
        "",
        "l-",
        "nonsense",
        "l-99999999999999999999999",
        "l-424242",
    ] {
        let release = c
            .grpc
            .release(v1::ReleaseRequest {
                lease_id: lease_id.to_owned(),
                holder: "owner".to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            release_failure(&release),
            v1::LeaseFailureReason::NotFound,
            "{lease_id:?}"
        );
    }
    let renew = c
        .grpc
        .renew(v1::RenewRequest {
            lease_id: owned.lease_id.clone(),
            holder: "owner".to_owned(),
            lease_duration: hundred_years,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        renew_failure(&renew),
        v1::LeaseFailureReason::InvalidDuration
    );
    let empty_holder = c
        .grpc
        .release(v1::ReleaseRequest {
            lease_id: owned.lease_id.clone(),
            holder: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(empty_holder.code(), tonic::Code::InvalidArgument);
    assert_eq!(state(&mut c.grpc).await, before);
}

#[tokio::test]
async fn memory_within_the_budget_but_beyond_the_machine_is_denied_with_that_reason() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, "[memory]\nbudget = \"1000TiB\"\n").await;
    let response = c
        .grpc
        .acquire(acquire("memory", 500 << 40, Priority::High, "kg"))
        .await
        .unwrap()
        .into_inner();
    let denial = denied(&response);
    assert_eq!(
        denial.reason,
        v1::DenialReason::InsufficientSystemMemory as i32,
        "{}",
        denial.message
    );
    assert!(denial.retry_after.is_some());
    assert_eq!(resource(&mut c.grpc, "memory").await.allocated, 0);
    // A modest grant fits both.
    granted(
        &c.grpc
            .acquire(acquire("memory", 1 << 20, Priority::High, "kg"))
            .await
            .unwrap()
            .into_inner(),
    );
}

#[tokio::test]
async fn watch_status_sends_a_snapshot_at_once_and_after_changes() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, SMALL).await;
    let mut watch = c
        .grpc
        .watch_status(v1::WatchStatusRequest {
            resources: vec!["cpu".to_owned()],
            min_interval: millis(100),
        })
        .await
        .unwrap()
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("first snapshot")
        .unwrap()
        .unwrap();
    assert_eq!(first.resources.len(), 1);
    assert_eq!(first.resources[0].allocated, 0);
    granted(
        &c.grpc
            .acquire(acquire("cpu", 2, Priority::High, "a"))
            .await
            .unwrap()
            .into_inner(),
    );
    let next = tokio::time::timeout(Duration::from_secs(10), watch.next())
        .await
        .expect("a snapshot after the change")
        .unwrap()
        .unwrap();
    assert_eq!(next.resources[0].allocated, 2);
    assert!(next.fencing_counter >= 1);
}

#[tokio::test]
async fn metrics_show_resources_decisions_and_the_claude_calls_left() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, SMALL).await;
    granted(
        &c.grpc
            .acquire(acquire("claude_api", 1, Priority::Medium, "strategist"))
            .await
            .unwrap()
            .into_inner(),
    );
    denied(
        &c.grpc
            .acquire(acquire("cpu", 0, Priority::Medium, "x"))
            .await
            .unwrap()
            .into_inner(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, metrics) = c.process.get("/metrics").await.expect("metrics");
        let wanted = [
            "coordinator_capacity{resource=\"cpu\"} 2",
            "coordinator_available{resource=\"gpu_memory\"}",
            "coordinator_waiting_requests{resource=\"cpu\",priority=\"low\"} 0",
            "coordinator_claude_calls_left 99",
            "coordinator_grants_total{resource=\"claude_api\",priority=\"medium\"} 1",
            "coordinator_denials_total{resource=\"cpu\",reason=\"invalid_quantity\"} 1",
            "coordinator_decision_seconds_bucket{operation=\"acquire\"",
            "coordinator_decisions_within_total{operation=\"acquire\",le=\"0.0001\"}",
            "coordinator_decisions_within_total{operation=\"acquire\",le=\"+Inf\"} 2",
        ];
        let missing: Vec<_> = wanted.iter().filter(|w| !metrics.contains(*w)).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "missing {missing:?} in\n{metrics}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_lease_granted_to_a_client_that_hung_up_is_released_not_leaked() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, "[cpu]\ncores = 1\n").await;
    let held = granted(
        &c.grpc
            .acquire(acquire("cpu", 1, Priority::High, "holder"))
            .await
            .unwrap()
            .into_inner(),
    );
    let mut impatient = c.grpc.clone();
    let waiting = tokio::spawn(async move {
        let mut request = acquire("cpu", 1, Priority::High, "impatient");
        request.wait_timeout = secs(60);
        impatient.acquire(request).await
    });
    wait_for_waiting(&mut c.grpc, "cpu", 1).await;
    waiting.abort();
    let _ = waiting.await;
    c.grpc
        .release(v1::ReleaseRequest {
            lease_id: held.lease_id,
            holder: "holder".to_owned(),
        })
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let cpu = resource(&mut c.grpc, "cpu").await;
        if cpu.allocated == 0
            && cpu.leases.is_empty()
            && cpu.waiting.iter().all(|w| w.requests == 0)
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "leaked: {cpu:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sigterm_answers_waiting_requests_and_exits_cleanly() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, "[cpu]\ncores = 1\n").await;
    granted(
        &c.grpc
            .acquire(acquire("cpu", 1, Priority::High, "holder"))
            .await
            .unwrap()
            .into_inner(),
    );
    let mut waiter = c.grpc.clone();
    let waiting = tokio::spawn(async move {
        let mut request = acquire("cpu", 1, Priority::High, "waiter");
        request.wait_timeout = secs(60);
        waiter.acquire(request).await
    });
    wait_for_waiting(&mut c.grpc, "cpu", 1).await;
    let exit = c
        .process
        .terminate(Duration::from_secs(20))
        .await
        .expect("exits after SIGTERM");
    assert!(exit.success(), "{exit}");
    let answer = waiting
        .await
        .unwrap()
        .expect("answered before the exit")
        .into_inner();
    let denial = denied(&answer);
    assert_eq!(denial.reason, v1::DenialReason::ShuttingDown as i32);
    assert!(denial.retry_after.is_some());
}

#[tokio::test]
async fn an_oversized_request_is_refused_and_changes_nothing() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, SMALL).await;
    let before = state(&mut c.grpc).await;
    let mut request = acquire("cpu", 1, Priority::High, "x");
    request.request_id = "r".repeat(128 * 1024);
    let status = c.grpc.acquire(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert_eq!(state(&mut c.grpc).await, before);
}
