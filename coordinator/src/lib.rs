//! `jimbot-coordinator`: leases on the machine's scarce resources (GPU time
//! and memory, a memory budget, the Claude API quota, CPU cores), with
//! priorities, over gRPC and NATS, kept in JetStream so they survive restarts.
//!
//! - [`config`]: the resource configuration file; [`cli`]: flags;
//! - [`domain`]: identifiers, priorities, instants; [`clock`]: time;
//! - [`scheduler`]: the scheduling rules, a pure state machine;
//! - [`store`]: leases and counters in the JetStream KV bucket;
//! - [`actor`]: the task that owns the scheduler, persists and answers;
//! - [`audit`]: the trail of grants, releases, expiries and denials;
//! - [`convert`]: protobuf requests in, protobuf answers out;
//! - [`grpc`], [`nats_api`], [`work_queue`]: the front-ends; [`app`] wires them;
//! - [`metrics`]: what `/metrics` shows.

pub mod actor;
pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod convert;
pub mod domain;
pub mod grpc;
pub mod metrics;
pub mod nats_api;
pub mod scheduler;
pub mod store;
pub mod work_queue;
