//! Bringing a service onto NATS: connect (waiting for the server), provision
//! the topology, then report ready.

use std::time::Duration;

use async_nats::{Client, jetstream};
use jimbot_nats::{
    ConnectError, NatsArgs, ProvisionError, ProvisionErrorKind, Readiness, Topology,
    connect_with_retry, provision,
};

use crate::health::Health;

/// Why a service could not get onto NATS.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// The connection settings cannot work.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The server's topology conflicts with the declared one.
    #[error("provisioning the JetStream topology failed")]
    Provision(#[from] ProvisionError),
}

/// Connects, provisions `topology` (retrying while JetStream is not yet
/// available, as during a cluster's leader election), and marks `health`
/// ready-capable. Race it against a shutdown signal.
pub async fn onto_nats(
    args: &NatsArgs,
    service: &str,
    topology: &Topology,
    health: &Health,
) -> Result<Client, BootError> {
    let client = connect_with_retry(args, service).await?;
    let js = jetstream::new(client.clone());
    let mut delay = Duration::from_millis(200);
    loop {
        match provision(&js, topology).await {
            Ok(report) => {
                for (kind, name, outcome) in &report.outcomes {
                    tracing::info!(%kind, %name, ?outcome, "provisioned");
                }
                break;
            }
            Err(e) if e.kind() == ProvisionErrorKind::Unavailable => {
                tracing::warn!(error = %e, retry_in = ?delay, "JetStream not available yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e.into()),
        }
    }
    health.set_readiness(Readiness::new(client.clone(), topology));
    tokio::spawn(report_connection_state(client.clone()));
    Ok(client)
}

/// Keeps the `nats_connected` gauge (1 or 0) current for the process's life.
async fn report_connection_state(client: Client) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let connected = client.connection_state() == async_nats::connection::State::Connected;
        metrics::gauge!("nats_connected").set(if connected { 1.0 } else { 0.0 });
    }
}
