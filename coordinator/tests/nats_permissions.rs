//! The real coordinator as the `coordinator` user of
//! `nats/config/permissions.conf`: it provisions, serves its NATS service,
//! keeps leases in the bucket, records the audit trail and answers queued
//! requests, all within that user's permissions.

#[path = "../../nats/tests/support/secure_server.rs"]
mod secure_server;

use std::time::Duration;

use async_nats::{HeaderMap, jetstream};
use futures::StreamExt as _;
use jimbot_nats::testing::free_port;
use jimbot_schemas::v1::{self, resource_coordinator_client::ResourceCoordinatorClient};
use jimbot_service::testing::ServiceProcess;
use prost::Message as _;
use secure_server::{SecureServer, password};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-coordinator");

fn acquire(holder: &str) -> v1::AcquireRequest {
    v1::AcquireRequest {
        resource: "cpu".to_owned(),
        quantity: 1,
        priority: v1::Priority::High as i32,
        holder: holder.to_owned(),
        lease_duration: Some(prost_types::Duration {
            seconds: 60,
            nanos: 0,
        }),
        wait_timeout: None,
        request_id: format!("{holder}-1"),
    }
}

#[tokio::test]
async fn the_coordinator_does_its_job_as_its_own_nats_user() {
    let nats = SecureServer::start().await;
    let grpc_addr = format!("127.0.0.1:{}", free_port().expect("port"));
    let pass = password("coordinator");
    let process = ServiceProcess::spawn(
        BINARY,
        &nats.url(),
        &[
            "--grpc-addr",
            &grpc_addr,
            "--nats-user",
            "coordinator",
            "--nats-password",
            &pass,
        ],
    )
    .expect("spawn");
    process
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("provisions as `coordinator`:\n{}", nats.log()));

    // gRPC: a grant is stored in the bucket and audited.
    let mut grpc = ResourceCoordinatorClient::connect(format!("http://{grpc_addr}"))
        .await
        .expect("connect");
    let granted = grpc
        .acquire(acquire("grpc"))
        .await
        .expect("acquire")
        .into_inner();
    assert!(
        matches!(
            granted.outcome,
            Some(v1::acquire_response::Outcome::Granted(_))
        ),
        "{granted:?}"
    );

    let admin = nats.connect("admin").await;
    let js = jetstream::new(admin.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let audited = js
            .get_stream("COORDINATOR")
            .await
            .expect("stream")
            .info()
            .await
            .expect("info")
            .state
            .messages;
        let leases = js
            .get_stream("KV_coordinator-leases")
            .await
            .expect("bucket")
            .info()
            .await
            .expect("info")
            .state
            .messages;
        if audited > 0 && leases > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "audit {audited}, leases {leases}:\n{}",
            nats.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The NATS service answers any requester.
    let reply = admin
        .request(
            "jimbot.coordinator.status",
            v1::StatusRequest::default().encode_to_vec().into(),
        )
        .await
        .expect("status over NATS");
    v1::StatusResponse::decode(reply.payload).expect("a status");

    // A queued request is answered on the requester's inbox.
    let inbox = admin.new_inbox();
    let mut answers = admin.subscribe(inbox.clone()).await.expect("subscribe");
    let mut headers = HeaderMap::new();
    headers.insert("Jimbot-Reply-To", inbox.as_str());
    js.publish_with_headers(
        "jimbot.coordinator.queue.acquire",
        headers,
        acquire("queued").encode_to_vec().into(),
    )
    .await
    .expect("sent")
    .await
    .expect("queued");
    let answer = tokio::time::timeout(Duration::from_secs(10), answers.next())
        .await
        .unwrap_or_else(|_| panic!("no answer on the inbox:\n{}", nats.log()))
        .expect("answer");
    let answer = v1::AcquireResponse::decode(answer.payload).expect("a response");
    assert!(
        matches!(
            answer.outcome,
            Some(v1::acquire_response::Outcome::Granted(_))
        ),
        "{answer:?}"
    );
    assert!(!nats.log().contains("Violation"), "{}", nats.log());
}
