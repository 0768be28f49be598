//! `spawn_app()`: a gateway router over a fresh nats-server with the
//! topology provisioned, and helpers to call it and read the streams back.
#![allow(dead_code, reason = "each test file uses a different subset")]

use std::path::Path;

use async_nats::{
    Client,
    jetstream::{self, message::StreamMessage},
};
use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use http_body_util::BodyExt;
use jimbot_gateway::{AppState, app, config::Settings};
use jimbot_nats::{Topology, TopologyOptions, provision, testing::NatsServer};
use jimbot_schemas::v1::{self, event_bus_client::EventBusClient};
use jimbot_service::Shutdown;
use prost::Message as _;
use serde_json::Value;
use tower::ServiceExt;

pub struct TestApp {
    pub server: NatsServer,
    pub client: Client,
    pub js: jetstream::Context,
    pub state: AppState,
    pub router: Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Settings::default()).await
}

pub async fn spawn_app_with(settings: Settings) -> TestApp {
    let server = NatsServer::start().await.expect("nats-server");
    let client = server.connect().await;
    let js = jetstream::new(client.clone());
    provision(&js, &Topology::standard(&TopologyOptions::default()))
        .await
        .expect("provision");
    let state = AppState::new(client.clone(), settings, Shutdown::never());
    let router = app(state.clone());
    TestApp {
        server,
        client,
        js,
        state,
        router,
    }
}

/// Every batch body the real mod sends, in `fixtures/balatromcp/`.
pub const BATCH_FIXTURES: &[&str] = &[
    "batch_startup.json",
    "batch_hand_scoring.json",
    "batch_round_end.json",
    "batch_shop_purchase_unicode.json",
    "batch_mixed.json",
    "edge_empty_tables.json",
    "edge_menu_state.json",
    "edge_big_numbers.json",
    "edge_invalid_json_inf_nan.json",
    "edge_invalid_json_control_chars.json",
    "edge_large_game_state.json",
    "edge_resend_after_outage_a.json",
    "edge_resend_after_outage_b.json",
];

/// A session of its own for each fixture (they share event ids).
pub fn session_for(file: &str) -> String {
    file.trim_end_matches(".json").replace('_', "-")
}

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/balatromcp")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl TestApp {
    /// Serves `jimbot.v1.EventBus` on a free port and connects a client.
    pub async fn grpc(&self) -> EventBusClient<tonic::transport::Channel> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = jimbot_gateway::grpc::routes(self.state.clone()).into_axum_router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        EventBusClient::connect(format!("http://{addr}"))
            .await
            .expect("gRPC connect")
    }

    /// The number of consumers on `GAME_EVENTS` besides the durable ones.
    pub async fn replay_consumers(&self) -> usize {
        use futures::TryStreamExt as _;
        let stream = self.js.get_stream("GAME_EVENTS").await.expect("stream");
        let names: Vec<String> = stream
            .consumer_names()
            .try_collect()
            .await
            .expect("consumer names");
        names.iter().filter(|n| n.starts_with("replay-")).count()
    }

    /// Waits up to 10 s for the replay consumers to be gone.
    pub async fn wait_for_no_replay_consumers(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = self.replay_consumers().await;
            if left == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{left} replay consumers left behind"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn post(&self, path: &str, body: impl Into<Body>) -> Reply {
        self.post_with(path, body, &[("content-type", "application/json")])
            .await
    }

    pub async fn post_with(
        &self,
        path: &str,
        body: impl Into<Body>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::post(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request.body(body.into()).expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    /// Every message of `stream` whose subject starts with `prefix`, in order.
    pub async fn stored(&self, stream: &str, prefix: &str) -> Vec<StreamMessage> {
        let mut stream = self.js.get_stream(stream).await.expect("stream");
        let state = stream.info().await.expect("info").state.clone();
        let mut found = Vec::new();
        if state.messages == 0 {
            return found;
        }
        for seq in state.first_sequence..=state.last_sequence {
            if let Ok(message) = stream.get_raw_message(seq).await
                && message.subject.as_str().starts_with(prefix)
            {
                found.push(message);
            }
        }
        found
    }

    /// The game events stored for `session`, decoded.
    pub async fn events(&self, session: &str) -> Vec<(String, v1::Event)> {
        self.stored("GAME_EVENTS", &format!("jimbot.game.{session}."))
            .await
            .into_iter()
            .map(|m| {
                let event = v1::Event::decode(m.payload.clone())
                    .expect("stored payload is a jimbot.v1.Event");
                (m.subject.to_string(), event)
            })
            .collect()
    }
}
