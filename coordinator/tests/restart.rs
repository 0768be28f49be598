//! A coordinator killed with leases and queued requests outstanding: the
//! next one has the same leases, fencing moves on upward, and the queued
//! requests are answered.

mod common;

use std::time::Duration;

use async_nats::HeaderMap;
use common::*;
use futures::StreamExt;
use jimbot_nats::testing::NatsServer;
use jimbot_schemas::v1::{self, Priority};
use prost::Message as _;

async fn queue(js: &async_nats::jetstream::Context, reply_to: &str, request: v1::AcquireRequest) {
    let mut headers = HeaderMap::new();
    headers.insert("Jimbot-Reply-To", reply_to);
    js.publish_with_headers(
        "jimbot.coordinator.queue.acquire",
        headers,
        request.encode_to_vec().into(),
    )
    .await
    .expect("publish")
    .await
    .expect("stored in the queue");
}

#[tokio::test]
async fn a_restarted_coordinator_keeps_leases_and_fencing_and_answers_queued_requests() {
    let server = NatsServer::start().await.expect("nats");
    let nats = server.connect().await;
    let js = async_nats::jetstream::new(nats.clone());
    let mut replies = nats.subscribe("test.replies.>").await.unwrap();
    nats.flush().await.unwrap();
    let config = "[cpu]\ncores = 2\n";

    let mut first = start(&server, config).await;
    let mut held = Vec::new();
    for holder in ["trainer", "strategist"] {
        let mut request = acquire("cpu", 1, Priority::High, holder);
        request.lease_duration = secs(600);
        held.push(granted(
            &first.grpc.acquire(request).await.unwrap().into_inner(),
        ));
    }
    // A lease that runs out around the restart.
    let mut short = acquire("memory", 1024, Priority::Low, "short-lived");
    short.lease_duration = secs(2);
    let short = granted(&first.grpc.acquire(short).await.unwrap().into_inner());
    let before = resource(&mut first.grpc, "cpu").await;
    let counter_before = state(&mut first.grpc).await.1;
    // Queued while the CPU is taken: it waits inside the coordinator.
    let mut waiting = acquire("cpu", 1, Priority::Low, "queued-1");
    waiting.wait_timeout = secs(120);
    waiting.request_id = "queued-1".to_owned();
    queue(&js, "test.replies.one", waiting).await;
    wait_for_waiting(&mut first.grpc, "cpu", 1).await;

    drop(first); // SIGKILL
    // Queued while no coordinator runs.
    let mut later = acquire("cpu", 1, Priority::Low, "queued-2");
    later.wait_timeout = secs(120);
    queue(&js, "test.replies.two", later).await;

    let mut second = start(&server, config).await;
    let after = resource(&mut second.grpc, "cpu").await;
    assert_eq!(
        after.leases, before.leases,
        "same leases, expiries and tokens"
    );
    assert_eq!(after.allocated, 2);
    assert!(state(&mut second.grpc).await.1 >= counter_before);
    // The one it was waiting on is redelivered (after the consumer's ack
    // wait), the other delivered: both wait for the CPU.
    wait_for_waiting(&mut second.grpc, "cpu", 2).await;
    for lease in &held {
        second
            .grpc
            .release(v1::ReleaseRequest {
                lease_id: lease.lease_id.clone(),
                holder: lease.holder.clone(),
            })
            .await
            .unwrap();
    }
    let mut answered = Vec::new();
    for _ in 0..2 {
        let reply = tokio::time::timeout(Duration::from_secs(30), replies.next())
            .await
            .expect("queued request answered")
            .unwrap();
        let lease = granted(&v1::AcquireResponse::decode(reply.payload).unwrap());
        assert!(
            lease.fencing_token > counter_before,
            "fencing continues upward: {} after {counter_before}",
            lease.fencing_token
        );
        answered.push((reply.subject.to_string(), lease.holder));
    }
    answered.sort();
    assert_eq!(
        answered,
        [
            ("test.replies.one".to_owned(), "queued-1".to_owned()),
            ("test.replies.two".to_owned(), "queued-2".to_owned())
        ]
    );
    // Each granted once, whatever was redelivered.
    let cpu = resource(&mut second.grpc, "cpu").await;
    assert_eq!(cpu.leases.len(), 2);
    let queue_info = js
        .get_stream("COORDINATOR_REQUESTS")
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .clone();
    assert_eq!(
        queue_info.state.messages, 0,
        "answered requests leave the queue"
    );
    // The short lease expired, whichever coordinator saw it happen.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !resource(&mut second.grpc, "memory").await.leases.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the short lease never expired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let renewed = second
        .grpc
        .renew(v1::RenewRequest {
            lease_id: short.lease_id,
            holder: "short-lived".to_owned(),
            lease_duration: None,
        })
        .await
        .unwrap()
        .into_inner();
    let reason = renew_failure(&renewed);
    assert!(
        reason == v1::LeaseFailureReason::Expired || reason == v1::LeaseFailureReason::NotFound,
        "{reason:?}"
    );
    // Every grant is in the audit trail, across both coordinators.
    let audit = js
        .get_stream("COORDINATOR")
        .await
        .unwrap()
        .get_last_raw_message_by_subject("jimbot.coordinator.events.granted")
        .await
        .expect("grants audited");
    let event = v1::CoordinatorEvent::decode(audit.payload).unwrap();
    assert_eq!(event.kind, "granted");
}

#[tokio::test]
async fn queued_requests_that_cannot_be_answered_are_dropped_not_retried_forever() {
    let server = NatsServer::start().await.expect("nats");
    let nats = server.connect().await;
    let js = async_nats::jetstream::new(nats.clone());
    let mut replies = nats.subscribe("test.bad.>").await.unwrap();
    nats.flush().await.unwrap();
    let _c = start(&server, SMALL).await;
    // Garbage with a reply subject: answered with a denial.
    let mut headers = HeaderMap::new();
    headers.insert("Jimbot-Reply-To", "test.bad.garbage");
    js.publish_with_headers(
        "jimbot.coordinator.queue.acquire",
        headers,
        vec![0xff; 8].into(),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(20), replies.next())
        .await
        .expect("answered")
        .unwrap();
    let denial = denied(&v1::AcquireResponse::decode(reply.payload).unwrap());
    assert_eq!(denial.reason, v1::DenialReason::InvalidArgument as i32);
    assert!(denial.message.contains("malformed"), "{}", denial.message);
    // No reply subject, or one aimed at the coordinator itself: dropped.
    for reply_to in [None, Some("jimbot.coordinator.release"), Some("a.>")] {
        let mut headers = HeaderMap::new();
        if let Some(reply_to) = reply_to {
            headers.insert("Jimbot-Reply-To", reply_to);
        }
        js.publish_with_headers(
            "jimbot.coordinator.queue.acquire",
            headers,
            acquire("cpu", 1, Priority::High, "x")
                .encode_to_vec()
                .into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }
    let stream = js.get_stream("COORDINATOR_REQUESTS").await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut stream = stream.clone();
        if stream.info().await.unwrap().state.messages == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "requests left in the queue"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every lease of `resource`, and checks that together they fit its capacity.
async fn leases_within_capacity(
    grpc: &mut v1::resource_coordinator_client::ResourceCoordinatorClient<
        tonic::transport::Channel,
    >,
    name: &str,
) -> Vec<v1::Lease> {
    let status = resource(grpc, name).await;
    let held: u64 = status.leases.iter().map(|l| l.quantity).sum();
    assert_eq!(held, status.allocated, "allocated is what the leases hold");
    assert!(
        held <= status.capacity,
        "{name}: {held} granted of {} capacity",
        status.capacity
    );
    status.leases
}

#[tokio::test]
async fn after_a_kill_a_resent_request_id_gets_its_lease_back_and_nothing_is_granted_twice() {
    let server = NatsServer::start().await.expect("nats");
    let nats = server.connect().await;
    let config = "[cpu]\ncores = 2\n";

    let mut first = start(&server, config).await;
    let with_id = |holder: &str, request_id: &str| {
        let mut request = acquire("cpu", 1, Priority::High, holder);
        request.lease_duration = secs(600);
        request.request_id = request_id.to_owned();
        request
    };
    let trainer = granted(
        &first
            .grpc
            .acquire(with_id("trainer", "job-1"))
            .await
            .unwrap()
            .into_inner(),
    );
    let strategist = granted(&nats_acquire(&nats, with_id("strategist", "job-2")).await);
    // A third request waits inside the coordinator when it dies; its
    // caller sees the connection fail and re-sends it later.
    let mut waiting = with_id("evaluator", "job-3");
    waiting.wait_timeout = secs(120);
    let mut grpc = first.grpc.clone();
    let waiter = tokio::spawn(async move { grpc.acquire(waiting).await });
    wait_for_waiting(&mut first.grpc, "cpu", 1).await;
    drop(first); // SIGKILL
    assert!(
        waiter.await.unwrap().is_err(),
        "the waiting request died with the coordinator"
    );

    let mut second = start(&server, config).await;
    let leases = leases_within_capacity(&mut second.grpc, "cpu").await;
    assert_eq!(leases.len(), 2, "the two grants, nothing for the waiter");
    // Re-sent request ids (their callers never saw an answer, say) get the
    // leases they already hold, over gRPC and over NATS alike: not new ones.
    let again = granted(
        &second
            .grpc
            .acquire(with_id("trainer", "job-1"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(
        (again.lease_id.as_str(), again.fencing_token),
        (trainer.lease_id.as_str(), trainer.fencing_token)
    );
    let again = granted(&nats_acquire(&nats, with_id("strategist", "job-2")).await);
    assert_eq!(
        (again.lease_id.as_str(), again.fencing_token),
        (strategist.lease_id.as_str(), strategist.fencing_token)
    );
    assert_eq!(
        leases_within_capacity(&mut second.grpc, "cpu").await.len(),
        2
    );

    // Full: anything more is refused, not granted beyond the capacity.
    let refused = second
        .grpc
        .acquire(acquire("cpu", 1, Priority::High, "intruder"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(denied(&refused).reason, v1::DenialReason::Timeout as i32);

    // The waiter re-sends once a core is free: one lease, however often it asks.
    second
        .grpc
        .release(v1::ReleaseRequest {
            lease_id: trainer.lease_id.clone(),
            holder: "trainer".to_owned(),
        })
        .await
        .unwrap();
    let evaluator = granted(
        &second
            .grpc
            .acquire(with_id("evaluator", "job-3"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert!(evaluator.fencing_token > strategist.fencing_token);
    let repeat = granted(&nats_acquire(&nats, with_id("evaluator", "job-3")).await);
    assert_eq!(repeat.lease_id, evaluator.lease_id);
    let leases = leases_within_capacity(&mut second.grpc, "cpu").await;
    let mut holders: Vec<&str> = leases.iter().map(|l| l.holder.as_str()).collect();
    holders.sort_unstable();
    assert_eq!(holders, ["evaluator", "strategist"]);
}
