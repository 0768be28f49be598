//! `jimbot-gateway`: the BalatroMCP-compatible front door.
//!
//! It accepts exactly what the mod sends, turns each event into a
//! `jimbot.v1.Event`, publishes it to JetStream, and answers 202 only once
//! every event is acknowledged. It also carries commands back to the game.
//!
//! - [`config`]: flags and settings;
//! - [`auth`]: API keys and the mod's client networks;
//! - [`bind`]: which addresses may be served without authentication;
//! - [`session`]: which game instance a request belongs to;
//! - [`ingest`]: the event routes (build, publish, report);
//! - [`commands`]: the command queue and the mod's poll;
//! - [`replay`]: stored events read back (HTTP, gRPC and the CLI);
//! - [`grpc`]: the gRPC `jimbot.v1.EventBus`;
//! - [`error`]: failures and their HTTP answers;
//! - [`app`]: the router and shared state.

pub mod app;
pub mod auth;
pub mod bind;
pub mod commands;
pub mod config;
pub mod error;
pub mod grpc;
pub mod ingest;
pub mod replay;
pub mod session;

pub use app::{AppState, app};
