//! Compiles `proto/jimbot/v1/*.proto` with protox (pure Rust, so building needs
//! no system `protoc`) and generates messages, clients and servers with
//! tonic-prost-build. The encoded descriptor set is written to OUT_DIR as well,
//! for gRPC reflection.

use std::path::PathBuf;

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from("proto");
    let proto_dir = proto_root.join("jimbot").join("v1");
    println!("cargo:rerun-if-changed={}", proto_dir.display());

    let mut files: Vec<PathBuf> = std::fs::read_dir(&proto_dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let descriptors = protox::compile(&files, [&proto_root])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("jimbot_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // `bytes::Bytes` for bytes fields: an event's original JSON is shared
        // with `ParsedEvent::raw` instead of copied.
        .bytes(".jimbot.v1")
        // Ordered maps: the same event always encodes to the same bytes.
        .btree_map(".jimbot.v1")
        .compile_fds(descriptors)?;
    Ok(())
}
