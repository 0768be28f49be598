//! The gateway's router and the state its handlers share.

use std::{
    sync::{Arc, Mutex},
    time::{Instant, SystemTime},
};

use async_nats::{Client, connection::State as ConnectionState, jetstream};
use axum::{
    BoxError, Json, Router,
    error_handling::HandleErrorLayer,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode, header},
    middleware::from_fn_with_state,
    response::IntoResponse,
    routing::{get, post},
};
use governor::{DefaultKeyedRateLimiter, RateLimiter, clock::Clock};
use jimbot_nats::{Token, Topology, provision};
use jimbot_service::{Shutdown, auth, run::not_found};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{ServiceBuilder, limit::GlobalConcurrencyLimitLayer};
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::{
    commands::{self, queue::PollConsumers},
    config::Settings,
    error::ApiError,
    ingest::{self, build::RequestContext},
    replay,
    session::Session,
};

/// What the handlers share: the NATS connection and the settings.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    client: Client,
    shutdown: Shutdown,
    /// Permits for requests in flight (REST and gRPC share them).
    in_flight: Arc<Semaphore>,
    /// Permits for open replay and subscription streams.
    streams: Arc<Semaphore>,
    jetstream: jetstream::Context,
    settings: Settings,
    rate_limiter: Option<Arc<DefaultKeyedRateLimiter<Token>>>,
    poll_consumers: PollConsumers,
    /// When provisioning was last re-run (at most every few seconds).
    last_reprovision: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.0.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State over a connected client; long-lived streams end on `shutdown`.
    pub fn new(client: Client, settings: Settings, shutdown: Shutdown) -> Self {
        let jetstream = jetstream::ContextBuilder::new()
            .ack_timeout(settings.publish_timeout)
            .build(client.clone());
        let rate_limiter: Option<Arc<DefaultKeyedRateLimiter<Token>>> = settings
            .rate_limit
            .map(|quota| Arc::new(RateLimiter::keyed(quota)));
        if let Some(limiter) = &rate_limiter {
            // Forget sessions that are back to a full budget, so made-up
            // session names cannot grow the table without bound.
            let limiter = Arc::downgrade(limiter);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    let Some(limiter) = limiter.upgrade() else {
                        break;
                    };
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
            });
        }
        Self(Arc::new(Inner {
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            streams: Arc::new(Semaphore::new(settings.max_streams)),
            client,
            shutdown,
            jetstream,
            settings,
            rate_limiter,
            poll_consumers: PollConsumers::default(),
            last_reprovision: Mutex::new(None),
        }))
    }

    /// The JetStream context (acks time out after the publish timeout).
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.0.jetstream
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// Fires when the gateway starts shutting down.
    pub fn shutdown(&self) -> &Shutdown {
        &self.0.shutdown
    }

    /// The request permits shared by REST and gRPC.
    pub fn in_flight(&self) -> &Arc<Semaphore> {
        &self.0.in_flight
    }

    /// A permit for one more long-lived stream, or `Overloaded`.
    pub fn open_stream(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.0
            .streams
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Overloaded)
    }

    /// Re-provisions the topology in the background (a stream went missing:
    /// the server may have lost its store), at most once every 5 seconds.
    pub fn reprovision_soon(&self) {
        const EVERY: std::time::Duration = std::time::Duration::from_secs(5);
        {
            let mut last = self
                .0
                .last_reprovision
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|at| at.elapsed() < EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let jetstream = self.0.jetstream.clone();
        let topology = Topology::standard(&self.0.settings.topology);
        tokio::spawn(async move {
            match provision(&jetstream, &topology).await {
                Ok(_) => tracing::warn!("a stream was missing; the topology is provisioned again"),
                Err(e) => tracing::error!(error = %e, "re-provisioning the topology failed"),
            }
        });
    }

    /// The poll consumers, one per session.
    pub fn poll_consumers(&self) -> &PollConsumers {
        &self.0.poll_consumers
    }

    /// Refuses at once when NATS is not connected, rather than letting the
    /// request wait out the publish timeout.
    pub fn ensure_connected(&self) -> Result<(), ApiError> {
        if self.0.client.connection_state() != ConnectionState::Connected {
            return Err(ApiError::Unavailable(
                "not connected to NATS; events are not stored, re-send them".to_owned(),
            ));
        }
        Ok(())
    }

    /// [`Self::ensure_connected`], and refuses a session over its rate.
    pub fn admit(&self, session: &Session) -> Result<(), ApiError> {
        self.ensure_connected()?;
        if let Some(limiter) = &self.0.rate_limiter
            && let Err(not_until) = limiter.check_key(session.token())
        {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            return Err(ApiError::RateLimited {
                session: session.token().to_string(),
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        Ok(())
    }

    /// What every message of a request shares.
    pub fn request_context(
        &self,
        session: Session,
        path: &str,
        headers: &HeaderMap,
    ) -> RequestContext {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        // Consumers continue this request's span (or, when spans are not
        // exported, the caller's own trace).
        let trace = jimbot_service::trace_context::outgoing_headers(headers);
        RequestContext {
            session,
            path: path.to_owned(),
            content_type: header(header::CONTENT_TYPE.as_str()),
            received_at: SystemTime::now().into(),
            trace,
            max_payload: self.0.client.server_info().max_payload,
        }
    }
}

/// How long a request body may stall between two chunks.
const BODY_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The gateway's API routes (health and metrics are served by
/// `jimbot-service` next to them).
pub fn app(state: AppState) -> Router {
    let settings = state.settings().clone();
    // The mod's routes: it cannot send a key, so its network may stand in.
    let game = Router::new()
        .route("/events", post(ingest::post_single))
        .route("/events/batch", post(ingest::post_batch))
        .route("/events/health", post(events_health))
        .route(
            "/commands/poll",
            get(commands::poll).head(commands::poll_head),
        )
        // What the mod posts to when its configured URL ends in `/`
        // (`{url}/batch` is plain string concatenation).
        .route("/events/", post(ingest::post_single))
        .route("/events//batch", post(ingest::post_batch))
        .route_layer(from_fn_with_state(
            settings.auth.game_access(),
            auth::http::enforce,
        ));
    let api = game.merge(
        Router::new()
            .route("/commands", post(commands::post_command))
            .route_layer(from_fn_with_state(
                settings.auth.api_access(),
                auth::http::enforce,
            )),
    );
    let replay = Router::new()
        .route("/sessions", get(replay::http::list_sessions))
        .route(
            "/sessions/{session}/events",
            get(replay::http::session_events),
        )
        .route_layer(from_fn_with_state(
            settings.auth.api_access(),
            auth::http::enforce,
        ));
    Router::new()
        .nest("/api/v1", api.clone().merge(replay))
        .nest("/s/{session}/api/v1", api)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(settings.body_limit))
        // A body that stops arriving must not hold its slot forever.
        .layer(RequestBodyTimeoutLayer::new(BODY_IDLE_TIMEOUT))
        // Past the bound, answer 429 at once instead of queueing.
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(|_: BoxError| async {
                    ApiError::Overloaded
                }))
                .load_shed()
                // One permit pool for all routes (`concurrency_limit` would
                // give each route its own).
                .layer(GlobalConcurrencyLimitLayer::with_semaphore(
                    state.in_flight().clone(),
                )),
        )
        .with_state(state)
}

/// `POST /api/v1/events/health`: the mod's (dormant) health probe.
async fn events_health(State(state): State<AppState>, session: Session) -> impl IntoResponse {
    match state.admit(&session) {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response(),
        Err(error) => error.into_response(),
    }
}
