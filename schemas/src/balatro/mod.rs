//! The BalatroMCP JSON compatibility layer: the mod's request bodies in,
//! [`v1::Event`](crate::v1::Event)s out, exactly as lenient as the mod needs
//! (spec `balatromcp-wire.md` sections 4-6) and never panicking.
//!
//! Pipeline: [`sanitize`] (a one-pass pre-pass that only rewrites what strict
//! JSON rejects, borrowing when nothing needs rewriting) -> serde into typed
//! wire structs with small lenient deserialisers -> conversion into protobuf.
//! Every event keeps its exact original bytes.

mod convert;
mod error;
mod event_type;
mod lenient;
mod parse;
mod render;
mod sanitize;
mod wire;

pub use error::{BodyError, BodyErrorKind, EventError, EventErrorKind};
pub use event_type::{canonical_name, event_type_from_name, known_type_names};
pub use parse::{
    ParsedBatch, ParsedEvent, parse_batch, parse_batch_bytes, parse_batch_bytes_within,
    parse_single, parse_single_bytes,
};
pub use render::to_mod_json;
pub use sanitize::{
    MAX_DEPTH, NEG_INF, NEG_NAN, POS_INF, POS_NAN, Sanitized, sanitize, sentinel_to_f64,
};
