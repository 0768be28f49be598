//! What a service serves once it is on NATS: its HTTP routes, optionally gRPC
//! services, and background tasks that stop with the process.

use std::{future::Future, pin::Pin};

use async_nats::Client;
use axum::Router;
use tokio::sync::watch;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A service's own parts, built by the closure given to [`crate::run`].
pub struct App {
    pub(crate) http: Router,
    pub(crate) grpc: Option<Grpc>,
    pub(crate) tasks: Vec<(&'static str, Task)>,
}

pub(crate) struct Grpc {
    pub(crate) routes: tonic::service::Routes,
    pub(crate) names: Vec<&'static str>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("grpc", &self.grpc.as_ref().map(|grpc| &grpc.names))
            .field(
                "tasks",
                &self.tasks.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl App {
    /// An app serving `http` and nothing else.
    pub fn new(http: Router) -> Self {
        Self {
            http,
            grpc: None,
            tasks: Vec::new(),
        }
    }

    /// Also serves these gRPC services on the gRPC listeners; `names` are
    /// their fully qualified names (for the gRPC health service).
    pub fn with_grpc(mut self, routes: tonic::service::Routes, names: &[&'static str]) -> Self {
        self.grpc = Some(Grpc {
            routes,
            names: names.to_vec(),
        });
        self
    }

    /// Runs `task` for the life of the service. It should finish soon after
    /// [`Started::shutdown`] fires; shutdown waits for it (bounded by the grace
    /// period) after the servers have drained.
    pub fn with_task(
        mut self,
        name: &'static str,
        task: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.tasks.push((name, Box::pin(task)));
        self
    }
}

impl From<Router> for App {
    fn from(http: Router) -> Self {
        Self::new(http)
    }
}

/// What a service is given once it is on NATS.
#[derive(Debug, Clone)]
pub struct Started {
    /// The connected client (the topology is provisioned).
    pub nats: Client,
    /// Fires when the process starts shutting down.
    pub shutdown: Shutdown,
}

/// A handle that tells long-lived work (streams, consumers) to finish.
#[derive(Debug, Clone)]
pub struct Shutdown {
    requested: watch::Receiver<bool>,
    /// For [`Shutdown::never`]: the sender nobody will ever use.
    _unused: Option<std::sync::Arc<watch::Sender<bool>>>,
}

impl Shutdown {
    pub(crate) fn new() -> (watch::Sender<bool>, Self) {
        let (tx, requested) = watch::channel(false);
        let shutdown = Self {
            requested,
            _unused: None,
        };
        (tx, shutdown)
    }

    /// A handle that never fires (for tests and tools).
    pub fn never() -> Self {
        let (tx, requested) = watch::channel(false);
        Self {
            requested,
            _unused: Some(std::sync::Arc::new(tx)),
        }
    }

    /// Whether shutdown has started.
    pub fn is_requested(&self) -> bool {
        *self.requested.borrow()
    }

    /// Resolves once shutdown has started (or the process is stopping
    /// without a sender left).
    pub async fn requested(&self) {
        let mut rx = self.requested.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}
