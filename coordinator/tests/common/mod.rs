//! Helpers: a real nats-server and the real coordinator binary on free ports.

#![allow(dead_code, reason = "each test binary uses a subset")]

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use async_nats::{HeaderMap, Message};
use bytes::Bytes;
use jimbot_nats::testing::{NatsServer, free_port};
use jimbot_schemas::v1::{self, resource_coordinator_client::ResourceCoordinatorClient};
use jimbot_service::testing::ServiceProcess;
use prost::Message as _;
use tempfile::TempDir;
use tonic::transport::Channel;

pub const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-coordinator");

/// The configuration most tests use: small numbers, easy to exhaust.
pub const SMALL: &str = r#"
[cpu]
cores = 2
[memory]
budget = "1GiB"
[claude_api]
calls_per_hour = 100
[gpu]
time_slice = "100ms"
devices = [{ name = "cuda:0", memory = "24GiB" }]
"#;

/// A running coordinator process and a gRPC client to it.
#[derive(Debug)]
pub struct Coordinator {
    pub process: ServiceProcess,
    pub grpc: ResourceCoordinatorClient<Channel>,
    pub grpc_addr: String,
    _dir: TempDir,
}

/// Starts the binary against `server` with `config` and waits until its
/// gRPC service answers.
pub async fn start(server: &NatsServer, config: &str) -> Coordinator {
    let dir = tempfile::tempdir().expect("tempdir");
    let path: PathBuf = dir.path().join("coordinator.toml");
    std::fs::write(&path, config).expect("write config");
    let grpc_addr = format!("127.0.0.1:{}", free_port().expect("port"));
    let process = ServiceProcess::spawn(
        BINARY,
        &server.url(),
        &[
            "--grpc-addr",
            &grpc_addr,
            "--config",
            path.to_str().expect("utf-8"),
        ],
    )
    .expect("spawn coordinator");
    let deadline = Instant::now() + Duration::from_secs(30);
    let grpc = loop {
        assert!(Instant::now() < deadline, "coordinator did not come up");
        if let Ok(mut client) =
            ResourceCoordinatorClient::connect(format!("http://{grpc_addr}")).await
            && client.status(v1::StatusRequest::default()).await.is_ok()
        {
            break client;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Coordinator {
        process,
        grpc,
        grpc_addr,
        _dir: dir,
    }
}

pub fn secs(s: u64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: s as i64,
        nanos: 0,
    })
}

pub fn millis(ms: u64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration {
        seconds: (ms / 1000) as i64,
        nanos: ((ms % 1000) * 1_000_000) as i32,
    })
}

pub fn acquire(
    resource: &str,
    quantity: u64,
    priority: v1::Priority,
    holder: &str,
) -> v1::AcquireRequest {
    v1::AcquireRequest {
        resource: resource.to_owned(),
        quantity,
        priority: priority as i32,
        holder: holder.to_owned(),
        lease_duration: secs(60),
        wait_timeout: None,
        request_id: String::new(),
    }
}

pub fn granted(response: &v1::AcquireResponse) -> v1::Lease {
    match &response.outcome {
        Some(v1::acquire_response::Outcome::Granted(lease)) => lease.clone(),
        other => panic!("expected a grant, got {other:?}"),
    }
}

pub fn denied(response: &v1::AcquireResponse) -> v1::Denial {
    match &response.outcome {
        Some(v1::acquire_response::Outcome::Denied(denial)) => denial.clone(),
        other => panic!("expected a denial, got {other:?}"),
    }
}

pub fn lease_failure(outcome_failed: Option<&v1::LeaseFailure>) -> v1::LeaseFailureReason {
    outcome_failed
        .map(|f| v1::LeaseFailureReason::try_from(f.reason).expect("known reason"))
        .expect("a failure")
}

pub fn renew_failure(response: &v1::RenewResponse) -> v1::LeaseFailureReason {
    match &response.outcome {
        Some(v1::renew_response::Outcome::Failed(f)) => lease_failure(Some(f)),
        other => panic!("expected a failure, got {other:?}"),
    }
}

pub fn release_failure(response: &v1::ReleaseResponse) -> v1::LeaseFailureReason {
    match &response.outcome {
        Some(v1::release_response::Outcome::Failed(f)) => lease_failure(Some(f)),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// What must not change when a request is refused: every resource's
/// numbers and leases, and the fencing counter.
pub async fn state(
    grpc: &mut ResourceCoordinatorClient<Channel>,
) -> (Vec<(String, u64, u64, Vec<String>)>, u64) {
    let status = grpc
        .status(v1::StatusRequest::default())
        .await
        .expect("status")
        .into_inner();
    let resources = status
        .resources
        .into_iter()
        .map(|r| {
            (
                r.resource,
                r.allocated,
                r.waiting.iter().map(|w| w.requests).sum(),
                r.leases.into_iter().map(|l| l.lease_id).collect(),
            )
        })
        .collect();
    (resources, status.fencing_counter)
}

/// Status of one resource.
pub async fn resource(
    grpc: &mut ResourceCoordinatorClient<Channel>,
    name: &str,
) -> v1::ResourceStatus {
    grpc.status(v1::StatusRequest {
        resources: vec![name.to_owned()],
    })
    .await
    .expect("status")
    .into_inner()
    .resources
    .remove(0)
}

/// Waits until `resource` has `requests` waiting in total.
pub async fn wait_for_waiting(
    grpc: &mut ResourceCoordinatorClient<Channel>,
    name: &str,
    requests: u64,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: u64 = resource(grpc, name)
            .await
            .waiting
            .iter()
            .map(|w| w.requests)
            .sum();
        if waiting == requests {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{name}: {waiting} waiting, expected {requests}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A NATS request to the coordinator's service.
pub async fn nats_request(
    client: &async_nats::Client,
    operation: &str,
    payload: Vec<u8>,
) -> Message {
    tokio::time::timeout(
        Duration::from_secs(20),
        client.request(
            format!("jimbot.coordinator.{operation}"),
            Bytes::from(payload),
        ),
    )
    .await
    .expect("answer in time")
    .expect("request")
}

/// The service error of a reply, if it is one.
pub fn service_error(message: &Message) -> Option<(String, String)> {
    let headers: &HeaderMap = message.headers.as_ref()?;
    Some((
        headers.get("Nats-Service-Error-Code")?.as_str().to_owned(),
        headers.get("Nats-Service-Error")?.as_str().to_owned(),
    ))
}

pub async fn nats_acquire(
    client: &async_nats::Client,
    request: v1::AcquireRequest,
) -> v1::AcquireResponse {
    let reply = nats_request(client, "acquire", request.encode_to_vec()).await;
    assert_eq!(service_error(&reply), None);
    v1::AcquireResponse::decode(reply.payload).expect("AcquireResponse")
}

/// Retry-after of a denial.
pub fn retry_after(denial: &v1::Denial) -> Option<Duration> {
    denial
        .retry_after
        .map(|d| Duration::new(d.seconds as u64, d.nanos as u32))
}
