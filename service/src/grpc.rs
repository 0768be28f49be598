//! The gRPC side of a service: the standard health service and server
//! reflection at once, the service's own gRPC services once it is on NATS.

use std::sync::{Arc, OnceLock};

use axum::{Router, extract::Request, response::Response};
use tonic_health::{ServingStatus, server::HealthReporter};
use tower::ServiceExt;

use crate::app;

/// The gRPC router and the health it reports.
#[derive(Debug, Clone)]
pub(crate) struct Grpc {
    health: HealthReporter,
    router: Router,
    services: Arc<OnceLock<Router>>,
    names: Arc<OnceLock<Vec<&'static str>>>,
}

impl Grpc {
    /// Health and reflection, then the service's own services once they exist.
    /// The server reports `NOT_SERVING` until [`Grpc::serve`].
    pub(crate) async fn new() -> Self {
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        let mut routes = tonic::service::Routes::new(health_service);
        match reflection_builder().build_v1() {
            Ok(v1) => routes = routes.add_service(v1),
            Err(e) => tracing::error!(error = %e, "gRPC reflection v1 unavailable"),
        }
        // grpcurl before 1.8.8 and many IDEs speak only v1alpha.
        match reflection_builder().build_v1alpha() {
            Ok(v1alpha) => routes = routes.add_service(v1alpha),
            Err(e) => tracing::error!(error = %e, "gRPC reflection v1alpha unavailable"),
        }
        let services: Arc<OnceLock<Router>> = Arc::default();
        let router = routes.prepare().into_axum_router().fallback({
            let services = services.clone();
            move |request: Request| route_to_services(services.clone(), request)
        });
        Self {
            health,
            router,
            services,
            names: Arc::default(),
        }
    }

    pub(crate) fn router(&self) -> Router {
        self.router.clone()
    }

    /// Starts serving the service's own gRPC services (if any); reports the
    /// server and them serving.
    pub(crate) async fn serve(&self, grpc: Option<app::Grpc>) {
        if let Some(grpc) = grpc {
            let _ = self.services.set(grpc.routes.prepare().into_axum_router());
            for name in &grpc.names {
                self.health
                    .set_service_status(*name, ServingStatus::Serving)
                    .await;
            }
            let _ = self.names.set(grpc.names);
        }
        self.health
            .set_service_status("", ServingStatus::Serving)
            .await;
    }

    /// Reports every service (and the server) not serving.
    pub(crate) async fn start_draining(&self) {
        self.health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        for name in self.names.get().into_iter().flatten() {
            self.health
                .set_service_status(*name, ServingStatus::NotServing)
                .await;
        }
    }
}

fn reflection_builder() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(jimbot_schemas::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
}

async fn route_to_services(services: Arc<OnceLock<Router>>, request: Request) -> Response {
    match services.get() {
        Some(router) => match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        },
        None => tonic::Status::unavailable("starting: not connected to NATS yet").into_http(),
    }
}
