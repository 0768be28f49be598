//! `/health/live`, `/health/ready` and `/metrics`, the same on every service.

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use jimbot_nats::Readiness;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;

/// What `/health/ready` reports: starting, ready, or draining.
#[derive(Debug, Clone, Default)]
pub struct Health {
    readiness: Arc<OnceLock<Readiness>>,
    serving: Arc<AtomicBool>,
    draining: Arc<AtomicBool>,
}

impl Health {
    /// From now on, readiness follows NATS and the topology.
    pub fn set_readiness(&self, readiness: Readiness) {
        let _ = self.readiness.set(readiness);
    }

    /// The service's own routes are built: ready once NATS is too.
    pub fn start_serving(&self) {
        self.serving.store(true, Ordering::SeqCst);
    }

    /// Reports not ready from now on, so load balancers stop sending traffic.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// `Ok` when ready, else every reason it is not.
    pub async fn check(&self) -> Result<(), Vec<String>> {
        if self.draining.load(Ordering::SeqCst) {
            return Err(vec!["shutting down".to_owned()]);
        }
        match self.readiness.get() {
            Some(readiness) => {
                readiness.check().await?;
                if self.serving.load(Ordering::SeqCst) {
                    Ok(())
                } else {
                    Err(vec!["starting the service".to_owned()])
                }
            }
            None => Err(vec![
                "connecting to NATS and provisioning streams".to_owned(),
            ]),
        }
    }
}

#[derive(Clone)]
struct HealthState {
    health: Health,
    metrics: PrometheusHandle,
}

/// The health and metrics routes.
pub fn router(health: Health, metrics: PrometheusHandle) -> Router {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(HealthState { health, metrics })
}

async fn live() -> impl IntoResponse {
    Json(json!({ "status": "live" }))
}

async fn ready(State(state): State<HealthState>) -> impl IntoResponse {
    match state.health.check().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(reasons) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "reasons": reasons })),
        ),
    }
}

async fn render_metrics(State(state): State<HealthState>) -> impl IntoResponse {
    state.metrics.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
