//! The gRPC front-end: `jimbot.v1.ResourceCoordinator`.

use std::{pin::Pin, time::Duration};

use futures::Stream;
use jimbot_schemas::v1::{self, resource_coordinator_server::ResourceCoordinator};
use jimbot_service::Shutdown;
use tonic::{Request, Response, Status};

use crate::{
    actor::{ActorError, ActorErrorKind, Coordinator},
    convert,
};

/// Smallest interval between two status snapshots of one watch.
const MIN_WATCH_INTERVAL: Duration = Duration::from_millis(100);
/// Used when the request names none.
const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_millis(500);

/// Serves the coordinator over gRPC.
#[derive(Debug, Clone)]
pub struct GrpcApi {
    coordinator: Coordinator,
    shutdown: Shutdown,
}

impl GrpcApi {
    /// Over `coordinator`; status streams end on `shutdown`.
    pub fn new(coordinator: Coordinator, shutdown: Shutdown) -> Self {
        Self {
            coordinator,
            shutdown,
        }
    }
}

fn status(e: ActorError) -> Status {
    match e.kind() {
        ActorErrorKind::Stopped | ActorErrorKind::Store => Status::unavailable(e.to_string()),
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<v1::WatchStatusResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ResourceCoordinator for GrpcApi {
    async fn acquire(
        &self,
        request: Request<v1::AcquireRequest>,
    ) -> Result<Response<v1::AcquireResponse>, Status> {
        let answer = match convert::acquire(request.into_inner()) {
            Ok(acquire) => self.coordinator.acquire(acquire).await.map_err(status)?,
            Err(denial) => Err(denial),
        };
        Ok(Response::new(convert::acquire_response(&answer)))
    }

    async fn renew(
        &self,
        request: Request<v1::RenewRequest>,
    ) -> Result<Response<v1::RenewResponse>, Status> {
        let parsed = convert::renew(request.into_inner())
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let answer = match parsed {
            Ok((id, holder, duration)) => self
                .coordinator
                .renew(id, holder, duration)
                .await
                .map_err(status)?,
            Err(failure) => Err(failure),
        };
        Ok(Response::new(convert::renew_response(&answer)))
    }

    async fn release(
        &self,
        request: Request<v1::ReleaseRequest>,
    ) -> Result<Response<v1::ReleaseResponse>, Status> {
        let parsed = convert::release(request.into_inner())
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let answer = match parsed {
            Ok((id, holder)) => self.coordinator.release(id, holder).await.map_err(status)?,
            Err(failure) => Err(failure),
        };
        Ok(Response::new(convert::release_response(&answer)))
    }

    async fn status(
        &self,
        request: Request<v1::StatusRequest>,
    ) -> Result<Response<v1::StatusResponse>, Status> {
        let names = convert::resources(request.into_inner().resources)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let snap = self.coordinator.status(names).await.map_err(status)?;
        Ok(Response::new(convert::status_response(&snap)))
    }

    type WatchStatusStream = WatchStream;

    async fn watch_status(
        &self,
        request: Request<v1::WatchStatusRequest>,
    ) -> Result<Response<Self::WatchStatusStream>, Status> {
        let request = request.into_inner();
        let names = convert::resources(request.resources)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let interval = match request.min_interval.map(convert::duration) {
            None => DEFAULT_WATCH_INTERVAL,
            Some(Err(e)) => return Err(Status::invalid_argument(format!("min_interval: {e}"))),
            Some(Ok(d)) => d.clamp(MIN_WATCH_INTERVAL, Duration::from_secs(3600)),
        };
        let coordinator = self.coordinator.clone();
        let shutdown = self.shutdown.clone();
        let mut changes = coordinator.changes();
        let stream = async_stream(move |tx| async move {
            loop {
                let snap = match coordinator.status(names.clone()).await {
                    Ok(snap) => snap,
                    Err(e) => {
                        let _ = tx.send(Err(status(e))).await;
                        return;
                    }
                };
                let s = convert::status_response(&snap);
                let response = v1::WatchStatusResponse {
                    resources: s.resources,
                    at: s.at,
                    fencing_counter: s.fencing_counter,
                };
                if tx.send(Ok(response)).await.is_err() {
                    return;
                }
                changes.borrow_and_update();
                tokio::select! {
                    () = shutdown.requested() => return,
                    () = tx.closed() => return,
                    _ = tokio::time::sleep(interval) => {}
                }
                tokio::select! {
                    () = shutdown.requested() => return,
                    () = tx.closed() => return,
                    changed = changes.changed() => if changed.is_err() { return },
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// A stream fed by a task writing into a small channel; the task stops when
/// the client goes away.
fn async_stream<T, F, Fut>(producer: F) -> impl Stream<Item = T> + Send
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<T>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(producer(tx));
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}
