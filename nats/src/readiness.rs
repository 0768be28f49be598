//! Whether a service can do its work: connected to NATS, topology in place.

use std::time::Duration;

use async_nats::{Client, connection::State, jetstream};
use futures::TryStreamExt;

use crate::topology::Topology;

/// How long a readiness probe may wait for JetStream.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Checks the NATS connection and that the topology's streams exist.
#[derive(Debug, Clone)]
pub struct Readiness {
    client: Client,
    jetstream: jetstream::Context,
    required_streams: Vec<String>,
}

impl Readiness {
    /// A probe for the streams of `topology`.
    pub fn new(client: Client, topology: &Topology) -> Self {
        Self {
            jetstream: jetstream::new(client.clone()),
            client,
            required_streams: topology.stream_names(),
        }
    }

    /// `Ok` when ready; otherwise every reason it is not.
    pub async fn check(&self) -> Result<(), Vec<String>> {
        if self.client.connection_state() != State::Connected {
            return Err(vec!["not connected to NATS".to_owned()]);
        }
        let names = tokio::time::timeout(
            PROBE_TIMEOUT,
            self.jetstream.stream_names().try_collect::<Vec<String>>(),
        )
        .await;
        let names = match names {
            Ok(Ok(names)) => names,
            Ok(Err(e)) => return Err(vec![format!("JetStream unavailable: {e}")]),
            Err(_) => return Err(vec!["JetStream did not answer in time".to_owned()]),
        };
        let missing: Vec<String> = self
            .required_streams
            .iter()
            .filter(|required| !names.contains(required))
            .map(|name| format!("stream {name} is missing"))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(missing)
        }
    }
}
