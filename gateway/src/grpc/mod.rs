//! The gateway's gRPC front door, `jimbot.v1.EventBus` (port 50051).
//!
//! - [`publish`]: `Publish` and `PublishBatch`, through the REST ingest path;
//! - [`stream`]: `Subscribe` and `Replay`, through [`crate::replay`];
//! - [`status`]: failures as gRPC statuses with field details.
//!
//! The gRPC health service and server reflection are served next to it by
//! `jimbot-service`.

pub mod publish;
pub mod status;
pub mod stream;

use jimbot_schemas::v1::{
    self,
    event_bus_server::{EventBus, EventBusServer},
};
use jimbot_service::auth::grpc::RequireKey;
use tonic::{Request, Response, Status, service::interceptor::InterceptedService};

use crate::app::AppState;
use stream::EventStream;

/// The service's fully qualified name.
pub const SERVICE_NAME: &str = "jimbot.v1.EventBus";

/// `jimbot.v1.EventBus` over the gateway's state.
#[derive(Debug, Clone)]
pub struct EventBusService {
    state: AppState,
}

/// The gRPC routes: `EventBus`, taking messages up to the REST body limit,
/// behind the API key check (see [`crate::auth`]).
pub fn routes(state: AppState) -> tonic::service::Routes {
    let limit = state.settings().body_limit;
    let keys = state.settings().auth.keys().clone();
    let server = EventBusServer::new(EventBusService { state })
        .max_decoding_message_size(limit)
        .max_encoding_message_size(limit);
    tonic::service::Routes::new(InterceptedService::new(server, RequireKey::new(keys)))
}

#[tonic::async_trait]
impl EventBus for EventBusService {
    async fn publish(
        &self,
        request: Request<v1::PublishRequest>,
    ) -> Result<Response<v1::PublishResponse>, Status> {
        publish::publish(&self.state, request)
            .await
            .map(Response::new)
    }

    async fn publish_batch(
        &self,
        request: Request<v1::PublishBatchRequest>,
    ) -> Result<Response<v1::PublishBatchResponse>, Status> {
        publish::publish_batch(&self.state, request)
            .await
            .map(Response::new)
    }

    type SubscribeStream = EventStream<v1::SubscribeResponse>;

    async fn subscribe(
        &self,
        request: Request<v1::SubscribeRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        stream::subscribe(&self.state, request.into_inner())
            .await
            .map(Response::new)
    }

    type ReplayStream = EventStream<v1::ReplayResponse>;

    async fn replay(
        &self,
        request: Request<v1::ReplayRequest>,
    ) -> Result<Response<Self::ReplayStream>, Status> {
        stream::replay(&self.state, request.into_inner())
            .await
            .map(Response::new)
    }
}
