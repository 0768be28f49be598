//! `jimbot-schemas`: the `jimbot.v1` protobuf contract shared by every JimBot
//! service, and the compatibility layer that turns the BalatroMCP mod's
//! (not quite) JSON into it.
//!
//! - [`v1`]: code generated from `proto/jimbot/v1/*.proto` (messages, gRPC
//!   clients and servers).
//! - [`balatro`]: lenient parsing of the mod's request bodies into
//!   [`v1::Event`]s, and rendering them back to the mod's JSON shape.
//! - [`FILE_DESCRIPTOR_SET`]: the encoded descriptors, for gRPC reflection.

pub mod balatro;

/// Generated `jimbot.v1` code.
#[allow(
    missing_docs,
    missing_debug_implementations,
    clippy::all,
    clippy::pedantic,
    reason = "generated code"
)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/jimbot.v1.rs"));
}

/// The encoded `google.protobuf.FileDescriptorSet` of every `jimbot.v1` file
/// (and its imports), for `tonic-reflection`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/jimbot_descriptor.bin"));
