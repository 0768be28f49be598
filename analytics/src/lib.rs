//! `jimbot-analytics`: a durable JetStream consumer that cuts game sessions
//! into runs, keeps statistics in an embedded SQLite database, and serves
//! them as JSON/CSV and Prometheus metrics.
//!
//! - [`domain`]: sequences, run ids, sessions, outcomes, phases;
//! - [`decode`]: a stored message to what analytics needs of it (or poison);
//! - [`runs`]: the rules that cut a session into runs and rounds;
//! - [`store`]: the database (schema, batch commits, queries);
//! - [`consumer`]: fetch, dead-letter, apply, commit, acknowledge;
//! - [`api`]: the query routes;
//! - [`metrics`], [`trace`]: what the service reports;
//! - [`config`]: the flags, with environment fallbacks;
//! - [`workload`]: a synthetic event stream for the benchmark and crash tests.

pub mod api;
pub mod config;
pub mod consumer;
pub mod decode;
pub mod domain;
mod float_text;
pub mod metrics;
pub mod runs;
pub mod store;
pub mod trace;
pub mod workload;
