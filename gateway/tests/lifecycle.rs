//! The binary starts, waits for NATS, serves health and metrics, and stops
//! gracefully.

use jimbot_service::testing::{
    COMMON_FLAGS, assert_invalid_settings_fail_fast, assert_service_lifecycle, help_text,
};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-gateway");

#[tokio::test]
async fn starts_waits_for_nats_serves_health_and_stops_on_sigterm() {
    assert_service_lifecycle(BINARY, "jimbot-gateway").await;
}

#[tokio::test]
async fn help_names_every_flag_and_its_environment_variable() {
    let help = help_text(BINARY).await;
    let own = [
        "--http-addr",
        "GATEWAY_HTTP_ADDR",
        "--body-limit",
        "GATEWAY_BODY_LIMIT",
        "--max-in-flight",
        "GATEWAY_MAX_IN_FLIGHT",
        "--publish-timeout",
        "GATEWAY_PUBLISH_TIMEOUT",
        "--rate-limit",
        "GATEWAY_RATE_LIMIT",
        "--grpc-addr",
        "GATEWAY_GRPC_ADDR",
        "--max-streams",
        "GATEWAY_MAX_STREAMS",
        "--atomic-batches",
        "GATEWAY_ATOMIC_BATCHES",
    ];
    for expected in own.iter().chain(COMMON_FLAGS) {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
}

#[tokio::test]
async fn invalid_settings_fail_fast_with_a_message() {
    assert_invalid_settings_fail_fast(BINARY).await;
}

#[tokio::test]
async fn an_address_this_machine_lacks_is_skipped_when_another_is_bound() {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: binding it fails with
    // EADDRNOTAVAIL, as [::1] does where IPv6 is disabled. Nothing is sent.
    let process = jimbot_service::testing::ServiceProcess::spawn(
        BINARY,
        "nats://127.0.0.1:1",
        // Not loopback: allowed explicitly, as no API key is configured.
        &[
            "--http-addr",
            "192.0.2.1:8080",
            "--allow-unauthenticated-remote",
        ],
    )
    .expect("spawn");
    let live = process
        .wait_for("/health/live", 200, std::time::Duration::from_secs(20))
        .await;
    assert!(live.is_some(), "serves the address it could bind");
}

#[tokio::test]
async fn an_address_in_use_is_an_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let output = tokio::process::Command::new(BINARY)
        .args(["--http-addr", &addr, "--nats-url", "nats://127.0.0.1:1"])
        .output()
        .await
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
}

#[tokio::test]
async fn grpc_health_and_reflection_answer_like_grpcurl_expects() {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };

    let server = jimbot_nats::testing::NatsServer::start()
        .await
        .expect("nats-server");
    let process =
        jimbot_service::testing::ServiceProcess::spawn(BINARY, &server.url(), &[]).expect("spawn");
    process
        .wait_for("/health/ready", 200, std::time::Duration::from_secs(20))
        .await
        .expect("ready");
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", process.grpc_addr()))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");

    let mut health = HealthClient::new(channel.clone());
    for service in ["", "jimbot.v1.EventBus"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope.Service".to_owned(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .expect("reflection")
        .into_inner();
    let response = responses.message().await.expect("answer").expect("one");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("{response:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["jimbot.v1.EventBus", "grpc.health.v1.Health"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
}

#[tokio::test]
async fn sigterm_ends_live_streams_instead_of_waiting_out_the_grace_period() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let server = jimbot_nats::testing::NatsServer::start()
        .await
        .expect("nats-server");
    let mut process =
        jimbot_service::testing::ServiceProcess::spawn(BINARY, &server.url(), &[]).expect("spawn");
    process
        .wait_for("/health/ready", 200, std::time::Duration::from_secs(20))
        .await
        .expect("ready");
    let mut stream = tokio::net::TcpStream::connect(process.http_addr())
        .await
        .expect("connect");
    stream
        .write_all(
            b"GET /api/v1/sessions/live/events?follow=true HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n",
        )
        .await
        .expect("request");
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).await.expect("response");
    assert!(
        head[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head[..n])
    );

    // Well under the 30 s grace period: the stream is ended, not waited for.
    let status = process
        .terminate(std::time::Duration::from_secs(10))
        .await
        .expect("stopped in time");
    assert!(status.success(), "{status:?}");
}
