//! Replay: reading stored events back out of `GAME_EVENTS`, for HTTP, gRPC
//! and the `jimbot-replay` tool alike.
//!
//! - [`query`]: what to read (subjects, start, end), validated;
//! - [`reader`]: the I/O, stored messages in order with end conditions;
//! - [`ndjson`]: the line format of exports and HTTP replay;
//! - [`sessions`]: which sessions the stream holds;
//! - [`http`]: the HTTP routes.

pub mod http;
pub mod ndjson;
pub mod query;
pub mod reader;
pub mod sessions;

pub use query::{Query, QueryError, Range, Start, TypeFilter};
pub use reader::{EventReader, ReadError, ReadErrorKind, StoredMessage};
