//! The NATS front-end: the same operations as gRPC, as a NATS service
//! (`jimbot-coordinator`, discoverable with `$SRV.PING`, `$SRV.INFO`,
//! `$SRV.STATS`) with endpoints `jimbot.coordinator.{acquire,renew,release,status}`.
//! Requests and replies are the protobuf messages of the gRPC service; a
//! request that cannot be used gets a service error (`Nats-Service-Error`,
//! `Nats-Service-Error-Code`: 400 malformed, 503 unavailable).

use std::sync::Arc;

use async_nats::{
    Client,
    service::{self, ServiceExt},
};
use bytes::Bytes;
use futures::StreamExt;
use jimbot_nats::{Token, subject};
use jimbot_schemas::v1;
use jimbot_service::{Shutdown, trace_context};
use prost::Message;
use tokio::{sync::Semaphore, task::JoinSet};
use tracing::Instrument as _;

use crate::{
    actor::{ActorError, Coordinator},
    convert,
};

/// The NATS service name.
pub const SERVICE_NAME: &str = "jimbot-coordinator";
/// Largest request accepted, in bytes.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Requests answered at once; past it, 503 at once.
const MAX_IN_FLIGHT: usize = 16_384;

/// The operations, as endpoint names.
pub const OPERATIONS: [&str; 4] = ["acquire", "renew", "release", "status"];

/// Why the NATS service could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the NATS service: {0}")]
pub struct NatsApiError(String);

/// How long to wait before trying to register the service again.
const REGISTER_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

type Requests = futures::stream::BoxStream<'static, (&'static str, service::Request)>;

/// Registers the service and its endpoints.
async fn register(client: &Client) -> Result<(service::Service, Vec<Requests>), NatsApiError> {
    let service = client
        .service_builder()
        .description(
            "JimBot resource coordinator: leases on GPU time, memory, the Claude API quota and CPU",
        )
        .start(SERVICE_NAME, env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| NatsApiError(e.to_string()))?;
    let group = service.group(subject::coordinator_service());
    let mut endpoints = Vec::new();
    for operation in OPERATIONS {
        // Check the endpoint subject is the one the subject table names.
        debug_assert_eq!(
            format!("{}.{operation}", subject::coordinator_service()),
            subject::coordinator_request(&Token::new(operation))
        );
        let endpoint = group
            .endpoint(operation)
            .await
            .map_err(|e| NatsApiError(e.to_string()))?;
        endpoints.push(endpoint.map(move |request| (operation, request)).boxed());
    }
    Ok((service, endpoints))
}

/// Registers the service (retrying until it can or shutdown starts), serves
/// it until `shutdown`, then stops taking requests and finishes those in
/// flight.
pub async fn serve(client: Client, coordinator: Coordinator, shutdown: Shutdown) {
    let (service, endpoints) = loop {
        match register(&client).await {
            Ok(registered) => break registered,
            Err(e) => {
                tracing::warn!(error = %e, "retrying");
                tokio::select! {
                    () = shutdown.requested() => return,
                    () = tokio::time::sleep(REGISTER_RETRY) => {}
                }
            }
        }
    };
    {
        let mut requests = futures::stream::select_all(endpoints);
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut in_flight = JoinSet::new();
        loop {
            tokio::select! {
                () = shutdown.requested() => break,
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                next = requests.next() => {
                    let Some((operation, request)) = next else { break };
                    let Ok(permit) = permits.clone().try_acquire_owned() else {
                        let _ = request.respond(Err(error(503, "too many requests in flight; retry shortly"))).await;
                        continue;
                    };
                    let coordinator = coordinator.clone();
                    let span = request_span(operation, request.message.headers.as_ref());
                    in_flight.spawn(async move {
                        let response = handle(&coordinator, operation, &request.message.payload).await;
                        if let Err(e) = request.respond(response).await {
                            tracing::warn!(operation, error = %e, "NATS reply not sent");
                        }
                        drop(permit);
                    }.instrument(span));
                }
            }
        }
        drop(requests);
        if let Err(e) = service.stop().await {
            tracing::warn!(error = %e, "stopping the NATS service");
        }
        while in_flight.join_next().await.is_some() {}
    }
}

/// A request's span, continuing the caller's trace when its headers carry
/// one; made only when spans are exported (this is the hot path).
fn request_span(operation: &'static str, headers: Option<&async_nats::HeaderMap>) -> tracing::Span {
    if !trace_context::exporting() {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(parent: None, "coordinator.request", operation);
    if let Some(headers) = headers {
        trace_context::continue_remote(&span, &trace_context::NatsHeaders(headers));
    }
    span
}

fn error(code: usize, status: impl Into<String>) -> service::error::Error {
    service::error::Error {
        status: status.into(),
        code,
    }
}

fn unavailable(e: ActorError) -> service::error::Error {
    error(503, e.to_string())
}

/// Answers one request: the encoded response, or a service error.
pub async fn handle(
    coordinator: &Coordinator,
    operation: &str,
    payload: &[u8],
) -> Result<Bytes, service::error::Error> {
    if payload.len() > MAX_REQUEST_BYTES {
        return Err(error(
            413,
            format!(
                "request of {} bytes exceeds {MAX_REQUEST_BYTES}",
                payload.len()
            ),
        ));
    }
    let malformed =
        |kind: &str, e: prost::DecodeError| error(400, format!("malformed {kind}: {e}"));
    let encoded = match operation {
        "acquire" => {
            let request = v1::AcquireRequest::decode(payload)
                .map_err(|e| malformed("jimbot.v1.AcquireRequest", e))?;
            let answer = match convert::acquire(request) {
                Ok(acquire) => coordinator.acquire(acquire).await.map_err(unavailable)?,
                Err(denial) => Err(denial),
            };
            convert::acquire_response(&answer).encode_to_vec()
        }
        "renew" => {
            let request = v1::RenewRequest::decode(payload)
                .map_err(|e| malformed("jimbot.v1.RenewRequest", e))?;
            let answer = match convert::renew(request).map_err(|e| error(400, e.to_string()))? {
                Ok((id, holder, duration)) => coordinator
                    .renew(id, holder, duration)
                    .await
                    .map_err(unavailable)?,
                Err(failure) => Err(failure),
            };
            convert::renew_response(&answer).encode_to_vec()
        }
        "release" => {
            let request = v1::ReleaseRequest::decode(payload)
                .map_err(|e| malformed("jimbot.v1.ReleaseRequest", e))?;
            let answer = match convert::release(request).map_err(|e| error(400, e.to_string()))? {
                Ok((id, holder)) => coordinator.release(id, holder).await.map_err(unavailable)?,
                Err(failure) => Err(failure),
            };
            convert::release_response(&answer).encode_to_vec()
        }
        "status" => {
            let request = v1::StatusRequest::decode(payload)
                .map_err(|e| malformed("jimbot.v1.StatusRequest", e))?;
            let names =
                convert::resources(request.resources).map_err(|e| error(400, e.to_string()))?;
            let snap = coordinator.status(names).await.map_err(unavailable)?;
            convert::status_response(&snap).encode_to_vec()
        }
        other => return Err(error(404, format!("unknown operation {other:?}"))),
    };
    Ok(Bytes::from(encoded))
}
