//! What every JimBot service binary does at its edges, so each binary's
//! `main` is only its own wiring:
//!
//! - [`auth`]: API keys and client networks (401 / 403, gRPC interceptor);
//! - [`telemetry`]: structured logs, and OTLP traces when configured;
//! - [`trace_context`]: W3C trace context in and out of HTTP and NATS headers;
//! - [`metrics`]: the Prometheus recorder and HTTP request metrics;
//! - [`log_text`]: untrusted text made safe to log (bounded, escaped);
//! - [`health`]: `/health/live`, `/health/ready` and `/metrics`;
//! - [`boot`]: connect to NATS (waiting for it) and provision the topology;
//! - [`shutdown`]: the SIGTERM / Ctrl-C signal;
//! - [`grpc`]: the gRPC health service and reflection;
//! - [`listen`]: how listeners accept and keep connections (limits, timeouts);
//! - [`tls`]: TLS for the listeners;
//! - [`run`]: all of the above in order, for a service's `main`, serving the
//!   [`App`] it builds once on NATS.

pub mod app;
pub mod auth;
pub mod boot;
mod grpc;
pub mod health;
pub mod listen;
pub mod log_text;
pub mod metrics;
pub mod run;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tls;
pub mod trace_context;

pub use app::{App, Shutdown, Started};
pub use run::{CommonArgs, Listen, RunError, run};
