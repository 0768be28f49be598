//! With `--api-key-hashes`, the gRPC `ResourceCoordinator` needs the key;
//! HTTP health stays open.

use std::time::Duration;

use jimbot_nats::testing::{NatsServer, free_port};
use jimbot_schemas::v1::{self, resource_coordinator_client::ResourceCoordinatorClient};
use jimbot_service::{auth::hash_key, testing::ServiceProcess};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-coordinator");
const KEY: &str = "lease-me";

fn status(authorization: Option<&str>) -> tonic::Request<v1::StatusRequest> {
    let mut request = tonic::Request::new(v1::StatusRequest::default());
    if let Some(value) = authorization {
        request
            .metadata_mut()
            .insert("authorization", value.parse().expect("ascii"));
    }
    request
}

#[tokio::test]
async fn grpc_calls_need_the_key_and_http_health_stays_open() {
    let nats = NatsServer::start().await.expect("nats-server");
    let grpc_addr = format!("127.0.0.1:{}", free_port().expect("port"));
    let hashes = format!("trainer:{}", hash_key(KEY.as_bytes()));
    let process = ServiceProcess::spawn(
        BINARY,
        &nats.url(),
        &["--grpc-addr", &grpc_addr, "--api-key-hashes", &hashes],
    )
    .expect("spawn");
    process
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .expect("ready");
    let mut grpc = ResourceCoordinatorClient::connect(format!("http://{grpc_addr}"))
        .await
        .expect("connect");

    for authorization in [None, Some("Bearer wrong")] {
        let refused = grpc
            .status(status(authorization))
            .await
            .expect_err("refused");
        assert_eq!(
            refused.code(),
            tonic::Code::Unauthenticated,
            "{authorization:?}"
        );
    }
    grpc.status(status(Some(&format!("Bearer {KEY}"))))
        .await
        .expect("served with the key");

    let (_, metrics) = process.get("/metrics").await.expect("metrics");
    assert!(
        metrics.contains(r#"auth_rejections_total{protocol="grpc",reason="missing_key"} 1"#),
        "{metrics}"
    );
}
