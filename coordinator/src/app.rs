//! The coordinator once it is on NATS: the actor over the stored state, and
//! the gRPC, NATS-service and work-queue front-ends on it.

use std::time::Duration;

use axum::Router;
use jimbot_schemas::v1::resource_coordinator_server::ResourceCoordinatorServer;
use jimbot_service::{App, Started, run::not_found};

use crate::{actor::Coordinator, config::ResourcesConfig, grpc::GrpcApi, nats_api, work_queue};

/// The fully qualified gRPC service name.
pub const GRPC_SERVICE: &str = "jimbot.v1.ResourceCoordinator";

/// How long to wait before trying again to read the stored state.
const RETRY: Duration = Duration::from_secs(1);

/// Builds the app: restores the stored state (retrying while NATS or the
/// bucket is unavailable), then serves every front-end.
pub async fn build(started: Started, resources: ResourcesConfig) -> App {
    let router = Router::new().fallback(not_found);
    let js = async_nats::jetstream::new(started.nats.clone());
    let shutdown = started.shutdown.clone();
    let (coordinator, actor) = loop {
        match Coordinator::start(js.clone(), &resources, shutdown.clone()).await {
            Ok(started) => break started,
            Err(e) => {
                tracing::warn!(error = %e, "cannot restore the coordinator's state; retrying");
                tokio::select! {
                    () = shutdown.requested() => return App::new(router),
                    () = tokio::time::sleep(RETRY) => {}
                }
            }
        }
    };
    let mut app = App::new(router).with_task("coordinator", actor);
    match nats_api::serve(started.nats.clone(), coordinator.clone(), shutdown.clone()).await {
        Ok(task) => app = app.with_task("nats-service", task),
        Err(e) => tracing::error!(error = %e, "NATS service not available"),
    }
    match work_queue::consume(js, coordinator.clone(), shutdown.clone()).await {
        Ok(task) => app = app.with_task("request-queue", task),
        Err(e) => tracing::error!(error = %e, "request queue not consumed"),
    }
    let server = ResourceCoordinatorServer::new(GrpcApi::new(coordinator, shutdown))
        .max_decoding_message_size(nats_api::MAX_REQUEST_BYTES);
    app.with_grpc(tonic::service::Routes::new(server), &[GRPC_SERVICE])
}
