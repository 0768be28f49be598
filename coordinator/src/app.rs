//! The coordinator once it is on NATS: the actor over the stored state, and
//! the gRPC, NATS-service and work-queue front-ends on it.
//!
//! Built without waiting on NATS, so the routes exist as soon as the service
//! reports ready; each part does its own start-up (reading the stored state,
//! registering the NATS service, creating the queue's consumer) in its task,
//! and requests arriving before the state is read wait for it.

use axum::Router;
use jimbot_schemas::v1::resource_coordinator_server::ResourceCoordinatorServer;
use jimbot_service::{
    App, Started,
    auth::{ApiKeys, grpc::RequireKey},
    run::not_found,
};
use tonic::service::interceptor::InterceptedService;

use crate::{actor::Coordinator, config::ResourcesConfig, grpc::GrpcApi, nats_api, work_queue};

/// The fully qualified gRPC service name.
pub const GRPC_SERVICE: &str = "jimbot.v1.ResourceCoordinator";

/// Builds the app, with the gRPC service open to every caller.
pub async fn build(started: Started, resources: ResourcesConfig) -> App {
    build_with_keys(started, resources, ApiKeys::none()).await
}

/// Builds the app; the gRPC `ResourceCoordinator` requires one of `keys`
/// (health and reflection stay open).
pub async fn build_with_keys(started: Started, resources: ResourcesConfig, keys: ApiKeys) -> App {
    let js = async_nats::jetstream::new(started.nats.clone());
    let shutdown = started.shutdown.clone();
    let (coordinator, actor) = Coordinator::start(js.clone(), resources, shutdown.clone());
    let server =
        ResourceCoordinatorServer::new(GrpcApi::new(coordinator.clone(), shutdown.clone()))
            .max_decoding_message_size(nats_api::MAX_REQUEST_BYTES);
    App::new(Router::new().fallback(not_found))
        .with_task("coordinator", actor)
        .with_task(
            "nats-service",
            nats_api::serve(started.nats, coordinator.clone(), shutdown.clone()),
        )
        .with_task(
            "request-queue",
            work_queue::consume(js, coordinator, shutdown),
        )
        .with_grpc(
            tonic::service::Routes::new(InterceptedService::new(server, RequireKey::new(keys))),
            &[GRPC_SERVICE],
        )
}
