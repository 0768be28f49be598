//! The health and metrics routes, driven with `oneshot` (no network).

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use jimbot_nats::{Readiness, Topology, TopologyOptions, provision, testing::NatsServer};
use jimbot_service::{health, metrics};
use tower::ServiceExt;

async fn get(router: &axum::Router, path: &str) -> (StatusCode, String) {
    let response = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn ready_only_between_provisioning_and_draining() {
    let health = health::Health::default();
    let router = health::router(health.clone(), metrics::recorder());

    assert_eq!(get(&router, "/health/live").await.0, StatusCode::OK);
    let (status, body) = get(&router, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("connecting to NATS"), "{body}");

    let server = NatsServer::start().await.expect("nats-server");
    let client = server.connect().await;
    let topology = Topology::standard(&TopologyOptions::default());
    health.set_readiness(Readiness::new(client.clone(), &topology));
    let (status, body) = get(&router, "/health/ready").await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "streams missing: {body}"
    );
    assert!(body.contains("stream GAME_EVENTS is missing"), "{body}");

    provision(&async_nats::jetstream::new(client), &topology)
        .await
        .expect("provision");
    let (status, body) = get(&router, "/health/ready").await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "routes not built yet"
    );
    assert!(body.contains("starting the service"), "{body}");

    health.start_serving();
    assert_eq!(
        get(&router, "/health/ready").await,
        (StatusCode::OK, r#"{"status":"ready"}"#.to_owned())
    );

    health.start_draining();
    let (status, body) = get(&router, "/health/ready").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("shutting down"), "{body}");
    assert_eq!(
        get(&router, "/health/live").await.0,
        StatusCode::OK,
        "still live while draining"
    );
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let router = health::router(health::Health::default(), metrics::recorder());
    metrics::describe_service("jimbot-test");
    let response = router
        .clone()
        .oneshot(
            Request::get("/metrics")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(
        text.contains("jimbot_build_info{service=\"jimbot-test\""),
        "{text}"
    );
}
