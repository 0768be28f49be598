//! The life of a service process: serve health at once, get onto NATS, serve
//! the service's own routes (HTTP and gRPC), and on SIGTERM drain and stop.

use std::{
    future::Future,
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::Request,
    http::{StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
};
use jimbot_nats::{NatsArgs, Topology, TopologyArgs};
use serde_json::json;
use tower::ServiceExt;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

use crate::{
    app::{App, Shutdown, Started},
    boot, grpc, health, listen,
    listen::ListenArgs,
    metrics, shutdown,
    telemetry::TelemetryArgs,
};

/// How long shutdown waits for in-flight requests, and then for NATS to
/// flush, before exiting anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// The settings every service shares.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub nats: NatsArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub topology: TopologyArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub telemetry: TelemetryArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub listen: ListenArgs,
}

/// Why a service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A setting is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS certificate or key cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// Getting onto NATS failed for good.
    #[error(transparent)]
    Boot(#[from] boot::BootError),
    /// The HTTP server failed.
    #[error("HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// Where a service listens.
#[derive(Debug, Clone, Copy)]
pub struct Listen<'a> {
    /// HTTP: health, metrics and the service's REST routes.
    pub http: &'a [SocketAddr],
    /// gRPC (HTTP/2, over TLS when configured): the gRPC health service, reflection and the
    /// service's own gRPC services. Empty for services without gRPC.
    pub grpc: &'a [SocketAddr],
}

impl<'a> Listen<'a> {
    /// HTTP only.
    pub fn http(http: &'a [SocketAddr]) -> Self {
        Self { http, grpc: &[] }
    }
}

/// Runs a service until SIGTERM or Ctrl-C.
///
/// The listeners are bound first, so `/health/live` (and the gRPC health
/// service) answer while NATS is still awaited; the service's own routes
/// answer 503 with `Retry-After` (gRPC: `UNAVAILABLE`) until `app` has built
/// them from the connected client.
///
/// Every address is served. One that this machine does not have (`[::1]`
/// with IPv6 disabled) is skipped with a warning, as long as another one of
/// the same kind is bound; any other bind failure is an error.
pub async fn run<F, Fut, A>(
    service: &'static str,
    listen: Listen<'_>,
    common: &CommonArgs,
    app: F,
) -> Result<(), RunError>
where
    F: FnOnce(Started) -> Fut,
    Fut: Future<Output = A>,
    A: Into<App>,
{
    let topology = Topology::standard(&common.topology.options().map_err(RunError::Config)?);
    let metrics_handle = metrics::recorder();
    metrics::describe_service(service);
    let health = health::Health::default();
    let app_slot: Arc<OnceLock<Router>> = Arc::default();
    let listening = common.listen.prepare()?;
    listen::describe_metrics();

    let listeners = bind_all(service, "http", listen.http).await?;
    let grpc_listeners = match listen.grpc {
        [] => Vec::new(),
        addrs => bind_all(service, "grpc", addrs).await?,
    };
    let (stop_http, http_stopped) = tokio::sync::watch::channel(false);
    let (stop_app, app_shutdown) = Shutdown::new();
    let router = health::router(health.clone(), metrics_handle)
        .layer(middleware::from_fn(metrics::track_http))
        .fallback({
            let app_slot = app_slot.clone();
            move |request: Request| route_to_app(app_slot, request)
        })
        .layer(
            // A 5xx (say 503 while NATS is away) is the client's cue to
            // retry, not a fault of this process: WARN, not ERROR.
            TraceLayer::new_for_http()
                .make_span_with(crate::trace_context::RequestSpan)
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        );
    let grpc = grpc::Grpc::new().await;
    let grpc_router = grpc.router();
    let mut servers = tokio::task::JoinSet::new();
    let all = listeners
        .into_iter()
        .map(|l| (("http", l), router.clone()))
        .chain(
            grpc_listeners
                .into_iter()
                .map(|l| (("grpc", l), grpc_router.clone())),
        );
    for ((kind, listener), router) in all {
        servers.spawn(listen::serve(
            kind,
            listener,
            router,
            listening.clone(),
            http_stopped.clone(),
        ));
    }
    tracing::info!(service, transport = listening.scheme(), "serving");

    let signal = shutdown::signal();
    tokio::pin!(signal);
    let client = tokio::select! {
        booted = boot::onto_nats(&common.nats, service, &topology, &health) => Some(booted?),
        () = &mut signal => None,
    };
    let mut tasks = tokio::task::JoinSet::new();
    if let Some(client) = &client {
        let started = Started {
            nats: client.clone(),
            shutdown: app_shutdown,
        };
        let app: App = app(started).await.into();
        let router = app.http.layer(middleware::from_fn(metrics::track_http));
        let _ = app_slot.set(router);
        grpc.serve(app.grpc).await;
        health.start_serving();
        for (name, task) in app.tasks {
            tasks.spawn(async move {
                task.await;
                tracing::debug!(task = name, "background task finished");
            });
        }
        tracing::info!(service, "ready");
        signal.await;
    }

    // Drain: report not ready, end streams and background work, finish
    // in-flight requests, then flush NATS; each step bounded, so a stuck
    // client cannot hold the process forever.
    health.start_draining();
    grpc.start_draining().await;
    let _ = stop_app.send(true);
    let _ = stop_http.send(true);
    let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(joined) = servers.join_next().await {
            if let Err(e) = joined {
                tracing::error!(error = %e, "HTTP server task failed");
            }
        }
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            grace = ?SHUTDOWN_GRACE,
            "requests still in flight after the grace period; stopping anyway"
        );
    }
    if tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_err()
    {
        tracing::warn!("background tasks still running after the grace period; stopping anyway");
    }
    if let Some(client) = client {
        match tokio::time::timeout(SHUTDOWN_GRACE, client.drain()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "draining the NATS connection failed"),
            Err(_) => tracing::warn!("draining the NATS connection timed out"),
        }
    }
    tracing::info!(service, "stopped");
    Ok(())
}

/// Binds every address; see [`run`] for which failures are tolerated.
async fn bind_all(
    service: &'static str,
    kind: &'static str,
    addrs: &[SocketAddr],
) -> Result<Vec<tokio::net::TcpListener>, RunError> {
    let mut listeners = Vec::with_capacity(addrs.len());
    let mut skipped = None;
    for &addr in addrs {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => {
                let local = listener.local_addr().map_err(RunError::Serve)?;
                tracing::info!(service, kind, addr = %local, "listening");
                listeners.push(listener);
            }
            // EADDRNOTAVAIL, or EAFNOSUPPORT (97 on Linux): no such address here.
            Err(e)
                if e.kind() == std::io::ErrorKind::AddrNotAvailable
                    || e.raw_os_error() == Some(97) =>
            {
                tracing::warn!(service, kind, %addr, error = %e, "address not available here; not listening on it");
                skipped = Some((addr, e));
            }
            Err(source) => return Err(RunError::Bind { addr, source }),
        }
    }
    match (listeners.is_empty(), skipped) {
        (true, Some((addr, source))) => Err(RunError::Bind { addr, source }),
        (true, None) => Err(RunError::Config(format!("no {kind} address to listen on"))),
        _ => Ok(listeners),
    }
}

async fn route_to_app(app: Arc<OnceLock<Router>>, request: Request) -> Response {
    match app.get() {
        Some(router) => match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        },
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            Json(json!({ "error": "starting: not connected to NATS yet" })),
        )
            .into_response(),
    }
}

/// The answer for paths no route matches: 404 with a JSON body.
pub async fn not_found(request: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "not found", "path": request.uri().path() })),
    )
        .into_response()
}
