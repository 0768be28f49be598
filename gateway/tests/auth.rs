//! Authentication against the real app over a real nats-server: API keys on
//! the REST API and gRPC, client networks on the mod's routes, and the
//! start-up errors for unusable key files.

mod common;
#[path = "../../nats/tests/support/secure_server.rs"]
mod secure_server;

use std::{net::SocketAddr, process::Stdio, time::Duration};

use axum::{body::Body, http::Request};
use common::{TestApp, fixture, spawn_app_with};
use jimbot_gateway::{auth::AuthPolicy, config::Settings};
use jimbot_nats::testing::NatsServer;
use jimbot_schemas::v1;
use jimbot_service::{
    auth::{ApiKeys, Networks, hash_key},
    testing::ServiceProcess,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-gateway");
const KEY: &str = "correct horse battery staple";

fn keys() -> ApiKeys {
    ApiKeys::parse_list(&format!("trainer:{}", hash_key(KEY.as_bytes()))).expect("valid")
}

async fn app_with(policy: AuthPolicy) -> TestApp {
    spawn_app_with(Settings {
        auth: policy,
        ..Settings::default()
    })
    .await
}

/// Serves the app on 127.0.0.1 with the peer address known to handlers, as
/// the service's own listeners do.
async fn serve(app: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app.router.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    addr
}

/// One HTTP/1.1 request over a fresh connection: status and body.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn get(path: &str, authorization: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.body(Body::empty()).expect("request")
}

fn post_command(authorization: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/api/v1/commands").header("content-type", "application/json");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request
        .body(Body::from(r#"{"type":"play_hand"}"#))
        .expect("request")
}

#[tokio::test]
async fn the_api_needs_a_key_once_keys_are_configured() {
    let app = app_with(AuthPolicy::new(keys(), None)).await;
    let bearer = format!("Bearer {KEY}");

    for (authorization, expected) in [
        (None, 401),
        (Some("Bearer wrong key"), 401),
        (Some(KEY), 401), // no scheme
        (Some(&*format!("Basic {KEY}")), 401),
        (Some(&*bearer), 200),
    ] {
        let reply = app.send(get("/api/v1/sessions", authorization)).await;
        assert_eq!(
            reply.status,
            expected,
            "{authorization:?}: {}",
            reply.text()
        );
        if expected == 401 {
            assert_eq!(reply.headers["www-authenticate"], "Bearer");
            // Nothing that tells a wrong key from a missing one.
            assert_eq!(reply.json(), serde_json::json!({ "error": "unauthorized" }));
        }
    }

    // Queueing a command: refused without the key, and nothing is queued.
    let reply = app.send(post_command(Some("Bearer nope"))).await;
    assert_eq!(reply.status, 401);
    assert!(app.stored("COMMANDS", "jimbot.commands.").await.is_empty());
    let reply = app.send(post_command(Some(&bearer))).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert_eq!(
        app.stored("COMMANDS", "jimbot.commands.default")
            .await
            .len(),
        1
    );

    // Replay of one session too.
    let reply = app.send(get("/api/v1/sessions/default/events", None)).await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn without_keys_everything_is_served_as_before() {
    let app = app_with(AuthPolicy::default()).await;
    assert_eq!(app.send(get("/api/v1/sessions", None)).await.status, 200);
    assert_eq!(app.send(post_command(None)).await.status, 202);
    let addr = serve(&app).await;
    let (status, body) = request(
        addr,
        "POST",
        "/api/v1/events/batch",
        &[("content-type", "application/json")],
        &fixture("batch_round_end.json"),
    )
    .await;
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn the_mod_is_served_from_loopback_without_a_key() {
    // Keys configured, no network list: the mod's routes default to loopback.
    let app = app_with(AuthPolicy::new(keys(), None)).await;
    let addr = serve(&app).await;
    let (status, body) = request(
        addr,
        "POST",
        "/s/game-1/api/v1/events/batch",
        &[("content-type", "application/json")],
        &fixture("batch_round_end.json"),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert!(!app.events("game-1").await.is_empty());

    // The poll the mod hard-codes, with no header at all.
    let bearer = format!("Bearer {KEY}");
    assert_eq!(app.send(post_command(Some(&bearer))).await.status, 202);
    let (status, body) = request(addr, "GET", "/api/v1/commands/poll", &[], b"").await;
    assert_eq!((status, body.as_str()), (200, "play_hand\n"));

    // The API next to it still wants the key, even from loopback.
    let (status, _) = request(addr, "GET", "/api/v1/sessions", &[], b"").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_network_outside_the_list_is_refused_and_nothing_is_stored() {
    let outside: Networks = "10.0.0.0/8,fd00::/8".parse().expect("valid");
    let app = app_with(AuthPolicy::new(ApiKeys::none(), Some(outside))).await;
    let addr = serve(&app).await;
    let batch = fixture("batch_round_end.json");
    let json = [("content-type", "application/json")];

    for path in [
        "/api/v1/events/batch",
        "/s/game-2/api/v1/events/batch",
        "/api/v1/events",
    ] {
        let (status, body) = request(addr, "POST", path, &json, &batch).await;
        assert_eq!(
            (status, body.as_str()),
            (403, r#"{"error":"forbidden"}"#),
            "{path}"
        );
    }
    let (status, _) = request(addr, "GET", "/api/v1/commands/poll", &[], b"").await;
    assert_eq!(status, 403);
    assert!(app.stored("GAME_EVENTS", "jimbot.").await.is_empty());
    assert!(app.stored("DEAD_LETTER", "jimbot.").await.is_empty());

    // Without keys a network list leaves the rest of the API open.
    let (status, _) = request(addr, "GET", "/api/v1/sessions", &[], b"").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_key_lets_the_mods_routes_in_from_outside_the_list() {
    let app = app_with(AuthPolicy::new(
        keys(),
        Some("10.0.0.0/8".parse().expect("valid")),
    ))
    .await;
    let addr = serve(&app).await;
    let batch = fixture("batch_round_end.json");
    let bearer = format!("Bearer {KEY}");

    let (status, _) = request(
        addr,
        "POST",
        "/s/k/api/v1/events/batch",
        &[("content-type", "application/json")],
        &batch,
    )
    .await;
    assert_eq!(status, 403, "no key, wrong network");
    let (status, _) = request(
        addr,
        "POST",
        "/s/k/api/v1/events/batch",
        &[("authorization", "Bearer wrong")],
        &batch,
    )
    .await;
    assert_eq!(status, 401, "a wrong key is a wrong key");
    assert!(app.events("k").await.is_empty());
    let (status, body) = request(
        addr,
        "POST",
        "/s/k/api/v1/events/batch",
        &[("authorization", &bearer)],
        &batch,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert!(!app.events("k").await.is_empty());
}

#[tokio::test]
async fn grpc_calls_need_the_key_in_metadata() {
    let app = app_with(AuthPolicy::new(keys(), None)).await;
    let mut grpc = app.grpc().await;
    let publish = |authorization: Option<&str>| {
        let mut request = tonic::Request::new(v1::PublishRequest {
            session: "grpc-auth".to_owned(),
            body: Some(v1::publish_request::Body::ModJson(
                fixture("single_connection_test.json").into(),
            )),
        });
        if let Some(value) = authorization {
            request
                .metadata_mut()
                .insert("authorization", value.parse().expect("ascii"));
        }
        request
    };

    for authorization in [None, Some("Bearer wrong")] {
        let status = grpc
            .publish(publish(authorization))
            .await
            .expect_err("refused");
        assert_eq!(
            status.code(),
            tonic::Code::Unauthenticated,
            "{authorization:?}"
        );
        assert_eq!(status.message(), "unauthenticated");
    }
    assert!(app.events("grpc-auth").await.is_empty());

    let reply = grpc
        .publish(publish(Some(&format!("Bearer {KEY}"))))
        .await
        .expect("published")
        .into_inner();
    assert!(matches!(
        reply.result.and_then(|r| r.outcome),
        Some(v1::publish_result::Outcome::Stored(_))
    ));
    assert_eq!(app.events("grpc-auth").await.len(), 1);
}

/// The binary with `args` (and no NATS to reach): its exit code and stderr.
async fn start_error(args: &[&str]) -> (Option<i32>, String) {
    let output = tokio::process::Command::new(BINARY)
        .args(["--nats-url", "nats://127.0.0.1:1"])
        .args(args)
        .env_remove("JIMBOT_API_KEYS_FILE")
        .env_remove("JIMBOT_API_KEY_HASHES")
        .env_remove("GATEWAY_INGEST_ALLOW_CIDR")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(20), output)
        .await
        .expect("exits at once")
        .expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn unusable_key_files_stop_the_gateway_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hash = hash_key(KEY.as_bytes());
    let cases = [
        ("empty", String::new(), "no API key hashes given"),
        (
            "comments",
            "# nobody yet\n\n".to_owned(),
            "no API key hashes given",
        ),
        (
            "raw-key",
            format!("{KEY}\n"),
            "line 1: expected a SHA-256 hash",
        ),
        (
            "bad-hex",
            format!("ops:{}zz\n", &hash[..62]),
            "line 1: expected a SHA-256 hash",
        ),
        (
            "duplicate",
            format!("a:{hash}\nb:{hash}\n"),
            "line 2: the same key hash as line 1",
        ),
    ];
    for (name, text, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &text).expect("write");
        let (code, stderr) = start_error(&["--api-keys-file", path.to_str().expect("utf-8")]).await;
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains("--api-keys-file") && stderr.contains(expected),
            "{name}: {stderr}"
        );
        assert!(
            !stderr.contains("horse"),
            "{name}: the key must not be echoed: {stderr}"
        );
    }
    let missing = dir.path().join("missing");
    let (code, stderr) = start_error(&["--api-keys-file", missing.to_str().expect("utf-8")]).await;
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot read the API key file"), "{stderr}");

    let (code, stderr) = start_error(&["--ingest-allow-cidr", "10.0.0.0/8,300.1.1.1"]).await;
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("entry 2") && stderr.contains("--ingest-allow-cidr"),
        "{stderr}"
    );
}

#[tokio::test]
async fn hash_key_prints_the_hash_of_stdin() {
    let mut child = tokio::process::Command::new(BINARY)
        .arg("hash-key")
        // The flags are parsed first: a developer's own settings must not fail it.
        .env_remove("JIMBOT_API_KEYS_FILE")
        .env_remove("JIMBOT_API_KEY_HASHES")
        .env_remove("GATEWAY_INGEST_ALLOW_CIDR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(format!("{KEY}\n").as_bytes())
        .await
        .expect("write");
    drop(stdin);
    let output = child.wait_with_output().await.expect("exit");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{}\n", hash_key(KEY.as_bytes()))
    );
}

#[tokio::test]
async fn the_running_gateway_enforces_networks_and_keeps_health_open() {
    let nats = NatsServer::start().await.expect("nats-server");
    let hashes = format!("ops:{}", hash_key(KEY.as_bytes()));
    let gateway = ServiceProcess::spawn(
        BINARY,
        &nats.url(),
        &[
            "--api-key-hashes",
            &hashes,
            "--ingest-allow-cidr",
            "192.0.2.0/24",
        ],
    )
    .expect("spawn");
    gateway
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .expect("ready without a key");
    let addr = gateway.http_addr();
    let batch = fixture("batch_round_end.json");
    let (status, _) = request(
        addr,
        "POST",
        "/api/v1/events/batch",
        &[("content-type", "application/json")],
        &batch,
    )
    .await;
    assert_eq!(status, 403, "127.0.0.1 is outside 192.0.2.0/24");
    let (status, _) = request(addr, "GET", "/api/v1/sessions", &[], b"").await;
    assert_eq!(status, 401);
    let bearer = format!("Bearer {KEY}");
    let (status, body) = request(
        addr,
        "POST",
        "/api/v1/events/batch",
        &[("authorization", &bearer)],
        &batch,
    )
    .await;
    assert_eq!(status, 202, "{body}");

    // gRPC: EventBus wants the key, the health service does not.
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", gateway.grpc_addr()))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
    tonic_health::pb::health_client::HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "jimbot.v1.EventBus".to_owned(),
        })
        .await
        .expect("health needs no key");
    let refused = v1::event_bus_client::EventBusClient::new(channel)
        .replay(v1::ReplayRequest {
            scope: Some(v1::replay_request::Scope::Session("default".to_owned())),
            ..Default::default()
        })
        .await
        .expect_err("no key");
    assert_eq!(refused.code(), tonic::Code::Unauthenticated);

    let (status, metrics) = gateway.get("/metrics").await.expect("metrics");
    assert_eq!(status, 200);
    for line in [
        r#"auth_rejections_total{protocol="http",reason="network"} 1"#,
        r#"auth_rejections_total{protocol="http",reason="missing_key"} 1"#,
        r#"auth_authenticated_total{protocol="http",key="ops"} 1"#,
        r#"auth_rejections_total{protocol="grpc",reason="missing_key"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} missing:\n{metrics}");
    }
    assert!(!metrics.contains(KEY));
}

#[tokio::test]
async fn the_gateway_works_as_its_own_nats_user_and_not_as_another() {
    let nats = secure_server::SecureServer::start().await;
    let password = secure_server::password("gateway");
    let gateway = ServiceProcess::spawn(
        BINARY,
        &nats.url(),
        &["--nats-user", "gateway", "--nats-password", &password],
    )
    .expect("spawn");
    gateway
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("provisions as `gateway`:\n{}", nats.log()));
    let addr = gateway.http_addr();
    let json = [("content-type", "application/json")];
    let (status, body) = request(
        addr,
        "POST",
        "/s/secure/api/v1/events/batch",
        &json,
        &fixture("batch_round_end.json"),
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = request(addr, "GET", "/api/v1/sessions/secure/events", &[], b"").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body.lines().filter(|l| l.starts_with('{')).count(),
        4,
        "{body}"
    );
    let (status, body) = request(
        addr,
        "POST",
        "/s/secure/api/v1/commands",
        &json,
        br#"{"type":"play_hand"}"#,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = request(addr, "GET", "/s/secure/api/v1/commands/poll", &[], b"").await;
    assert_eq!((status, body.as_str()), (200, "play_hand\n"));

    // A live subscription (an ordered consumer) over gRPC.
    let mut bus =
        v1::event_bus_client::EventBusClient::connect(format!("http://{}", gateway.grpc_addr()))
            .await
            .expect("connect");
    let mut live = bus
        .subscribe(v1::SubscribeRequest {
            filter: Some(v1::EventFilter {
                sessions: vec!["secure".to_owned()],
                ..Default::default()
            }),
            start_policy: v1::StartPolicy::All.into(),
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(10), live.message())
        .await
        .expect("in time")
        .expect("stream")
        .expect("an event");
    assert!(first.event.is_some());
    drop(live);
    assert!(!nats.log().contains("Violation"), "{}", nats.log());

    // Started as the analytics user, the same gateway may not publish events.
    let password = secure_server::password("analytics");
    let wrong = ServiceProcess::spawn(
        BINARY,
        &nats.url(),
        &[
            "--nats-user",
            "analytics",
            "--nats-password",
            &password,
            "--publish-timeout",
            "1s",
        ],
    )
    .expect("spawn");
    wrong
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .expect("ready: the topology exists");
    let (status, _) = request(
        wrong.http_addr(),
        "POST",
        "/s/denied/api/v1/events/batch",
        &json,
        &fixture("batch_round_end.json"),
    )
    .await;
    assert_eq!(status, 503, "never 202 for what was not stored");
    let (status, body) = request(addr, "GET", "/api/v1/sessions/denied/events", &[], b"").await;
    assert_eq!(status, 404, "{body}");
}
