//! The NATS service (request/reply, discovery) against the real binary.

mod common;

use std::time::Duration;

use common::*;
use jimbot_nats::testing::NatsServer;
use jimbot_schemas::v1::{self, Priority};
use prost::Message as _;

#[tokio::test]
async fn the_service_is_discoverable_through_the_services_api() {
    let server = NatsServer::start().await.expect("nats");
    let _c = start(&server, SMALL).await;
    let nats = server.connect().await;
    let ping = nats
        .request("$SRV.PING.jimbot-coordinator", "".into())
        .await
        .unwrap();
    let ping: serde_json::Value = serde_json::from_slice(&ping.payload).unwrap();
    assert_eq!(ping["name"], "jimbot-coordinator");
    let info = nats
        .request("$SRV.INFO.jimbot-coordinator", "".into())
        .await
        .unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.payload).unwrap();
    let mut subjects: Vec<_> = info["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["subject"].as_str().unwrap().to_owned())
        .collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "jimbot.coordinator.acquire",
            "jimbot.coordinator.release",
            "jimbot.coordinator.renew",
            "jimbot.coordinator.status"
        ]
    );
}

#[tokio::test]
async fn the_claude_quota_grants_exactly_its_calls_and_keeps_the_high_reserve() {
    let server = NatsServer::start().await.expect("nats");
    let _c = start(&server, SMALL).await;
    let nats = server.connect().await;
    // 90 of the 100 calls are open to every priority...
    for n in 0..90 {
        granted(
            &nats_acquire(
                &nats,
                acquire("claude_api", 1, Priority::Medium, &format!("s{n}")),
            )
            .await,
        );
    }
    // ...the last 10 only to HIGH.
    for priority in [Priority::Medium, Priority::Low] {
        let denial = denied(&nats_acquire(&nats, acquire("claude_api", 1, priority, "s")).await);
        assert_eq!(denial.reason, v1::DenialReason::QuotaExhausted as i32);
    }
    for n in 0..10 {
        granted(
            &nats_acquire(
                &nats,
                acquire("claude_api", 1, Priority::High, &format!("h{n}")),
            )
            .await,
        );
    }
    let denial = denied(&nats_acquire(&nats, acquire("claude_api", 1, Priority::High, "h")).await);
    assert_eq!(
        denial.reason,
        v1::DenialReason::QuotaExhausted as i32,
        "{}",
        denial.message
    );
    // One call is replenished every 36 s (some of which has passed already).
    let retry = retry_after(&denial).expect("says when");
    assert!(
        retry <= Duration::from_secs(36) && retry > Duration::from_secs(30),
        "{retry:?}"
    );
    let status = v1::StatusResponse::decode(
        nats_request(
            &nats,
            "status",
            v1::StatusRequest {
                resources: vec!["claude_api".into()],
            }
            .encode_to_vec(),
        )
        .await
        .payload,
    )
    .unwrap();
    let claude = &status.resources[0];
    assert_eq!(
        (claude.capacity, claude.allocated, claude.available),
        (100, 100, 0)
    );
    assert!(claude.next_available_in.is_some());
}

#[tokio::test]
async fn malformed_oversized_and_hostile_requests_get_clear_errors_and_change_nothing() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, SMALL).await;
    let nats = server.connect().await;
    let owned = granted(&nats_acquire(&nats, acquire("cpu", 1, Priority::High, "owner")).await);
    let before = state(&mut c.grpc).await;
    // Not protobuf at all (a truncated varint, a wrong wire type).
    for operation in ["acquire", "renew", "release", "status"] {
        for garbage in [
            vec![0x0a, 0xff],
            vec![0xff; 16],
            b"{\"resource\":\"cpu\"}".to_vec(),
        ] {
            let reply = nats_request(&nats, operation, garbage.clone()).await;
            let (code, message) =
                service_error(&reply).unwrap_or_else(|| panic!("{operation} {garbage:?}"));
            assert_eq!(code, "400", "{operation}: {message}");
            assert!(message.contains("malformed jimbot.v1."), "{message}");
        }
    }
    let reply = nats_request(&nats, "acquire", vec![0; 65 * 1024]).await;
    assert_eq!(service_error(&reply).unwrap().0, "413");
    // Well-formed but refused.
    let cases = [
        (
            acquire("cpu", 0, Priority::High, "x"),
            v1::DenialReason::InvalidQuantity,
        ),
        (
            acquire("cpu", 3, Priority::High, "x"),
            v1::DenialReason::InvalidQuantity,
        ),
        // A client's -1 arrives as the largest uint64.
        (
            acquire("cpu", u64::MAX, Priority::High, "x"),
            v1::DenialReason::InvalidQuantity,
        ),
        (
            acquire("quantum", 1, Priority::High, "x"),
            v1::DenialReason::UnknownResource,
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
                lease_duration: secs(100 * 365 * 86_400),
                ..acquire("cpu", 1, Priority::High, "x")
            },
            v1::DenialReason::InvalidDuration,
        ),
    ];
    for (request, reason) in cases {
        let denial = denied(&nats_acquire(&nats, request).await);
        assert_eq!(denial.reason, reason as i32, "{}", denial.message);
    }
    let reply = nats_request(
        &nats,
        "release",
        v1::ReleaseRequest {
            lease_id: owned.lease_id.clone(),
            holder: "intruder".into(),
        }
        .encode_to_vec(),
    )
    .await;
    let release = v1::ReleaseResponse::decode(reply.payload).unwrap();
    assert_eq!(release_failure(&release), v1::LeaseFailureReason::NotHolder);
    let reply = nats_request(
        &nats,
        "renew",
        v1::RenewRequest {
            lease_id: owned.lease_id.clone(),
            holder: String::new(),
            lease_duration: None,
        }
        .encode_to_vec(),
    )
    .await;
    assert_eq!(service_error(&reply).unwrap().0, "400");
    assert_eq!(state(&mut c.grpc).await, before);
    // And the owner can still release it over NATS.
    let reply = nats_request(
        &nats,
        "release",
        v1::ReleaseRequest {
            lease_id: owned.lease_id,
            holder: "owner".into(),
        }
        .encode_to_vec(),
    )
    .await;
    let release = v1::ReleaseResponse::decode(reply.payload).unwrap();
    assert!(matches!(
        release.outcome,
        Some(v1::release_response::Outcome::Released(_))
    ));
}

#[tokio::test]
async fn the_same_request_id_over_nats_gives_one_lease() {
    let server = NatsServer::start().await.expect("nats");
    let mut c = start(&server, SMALL).await;
    let nats = server.connect().await;
    let mut request = acquire("gpu_memory", 20_000_000_000, Priority::High, "trainer");
    request.request_id = "run-1".to_owned();
    let (a, b) = tokio::join!(
        nats_acquire(&nats, request.clone()),
        nats_acquire(&nats, request)
    );
    assert_eq!(granted(&a), granted(&b));
    let gpu = resource(&mut c.grpc, "gpu_memory").await;
    assert_eq!((gpu.allocated, gpu.leases.len()), (20_000_000_000, 1));
}
