//! `jimbot-coordinator`: leases on the machine's scarce resources (GPU time
//! and memory, a memory budget, the Claude API quota, CPU cores), with
//! priorities, over gRPC and NATS, kept in JetStream so they survive restarts.
//!
//! - [`config`]: the resource configuration file;
//! - [`domain`]: identifiers, priorities, instants;
//! - [`scheduler`]: the scheduling rules, a pure state machine;
//! - [`store`]: leases and counters in the JetStream KV bucket;
//! - [`actor`]: the task that owns the scheduler, persists and answers;
//! - [`convert`]: protobuf requests in, protobuf answers out;
//! - [`grpc`], [`nats_api`], [`work_queue`]: the front-ends;
//! - [`metrics`]: what `/metrics` shows;
//! - [`cli`]: flags.

pub mod config;
pub mod domain;
pub mod scheduler;
