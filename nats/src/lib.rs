//! NATS for the JimBot backbone: subjects, the JetStream topology and its
//! provisioning, connection setup, readiness, and (feature `testing`) a
//! harness that runs real nats-server processes.

pub mod connect;
pub mod provision;
pub mod readiness;
pub mod subject;
#[cfg(feature = "testing")]
pub mod testing;
pub mod topology;

pub use connect::{ConnectError, ConnectErrorKind, NatsArgs, connect, connect_with_retry};
pub use provision::{Outcome, ProvisionError, ProvisionErrorKind, Report, provision};
pub use readiness::Readiness;
pub use subject::Token;
pub use topology::{Topology, TopologyArgs, TopologyOptions};
