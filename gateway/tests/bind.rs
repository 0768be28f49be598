//! The gateway refuses to listen beyond loopback without authentication,
//! unless explicitly allowed; checked through the binary.

use std::time::Duration;

use jimbot_nats::testing::NatsServer;
use jimbot_service::{auth::hash_key, testing::ServiceProcess};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-gateway");

/// Runs the binary with `args` until it exits; its exit code and stderr.
async fn start_error(args: &[&str]) -> (Option<i32>, String) {
    let output = tokio::process::Command::new(BINARY)
        .args(args)
        // Nothing listens there: the check must come before NATS.
        .args(["--nats-url", "nats://127.0.0.1:1"])
        .env_remove("GATEWAY_ALLOW_UNAUTHENTICATED_REMOTE")
        .env_remove("GATEWAY_HTTP_ADDR")
        .env_remove("GATEWAY_GRPC_ADDR")
        .env_remove("JIMBOT_API_KEYS_FILE")
        .env_remove("JIMBOT_API_KEY_HASHES")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(20), output)
        .await
        .unwrap_or_else(|_| panic!("{args:?}: still running after 20 s"))
        .expect("run");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_remote_address_without_keys_is_refused_naming_it_and_both_ways_out() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--http-addr", "0.0.0.0:0", "--grpc-addr", "127.0.0.1:0"],
            "refusing to listen on 0.0.0.0:0 (HTTP)",
        ),
        (
            &["--http-addr", "127.0.0.1:0", "--grpc-addr", "[::]:0"],
            "refusing to listen on [::]:0 (gRPC)",
        ),
        // The default HTTP addresses are loopback; only the one gRPC address is not.
        (
            &["--grpc-addr", "192.0.2.1:50051"],
            "refusing to listen on 192.0.2.1:50051 (gRPC)",
        ),
    ];
    for (args, expected) in cases {
        let (code, stderr) = start_error(args).await;
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        for way_out in ["--api-keys-file", "--allow-unauthenticated-remote"] {
            assert!(
                stderr.contains(way_out),
                "{args:?} lacks {way_out}: {stderr}"
            );
        }
    }
}

#[tokio::test]
async fn a_remote_address_is_served_with_the_flag_or_with_keys() {
    let nats = NatsServer::start().await.expect("nats-server");
    let key_hash = hash_key(b"secret key");
    let ways: [&[&str]; 2] = [
        &["--allow-unauthenticated-remote"],
        &["--api-key-hashes", &key_hash],
    ];
    for way in ways {
        // The harness's own loopback address comes first; 0.0.0.0:0 is added.
        let mut args = vec!["--http-addr", "0.0.0.0:0"];
        args.extend_from_slice(way);
        let process = ServiceProcess::spawn(BINARY, &nats.url(), &args).expect("spawn");
        process
            .wait_for("/health/ready", 200, Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("{way:?}: not serving"));
    }
}

#[tokio::test]
async fn loopback_addresses_need_neither() {
    let nats = NatsServer::start().await.expect("nats-server");
    let process = ServiceProcess::spawn(
        BINARY,
        &nats.url(),
        &["--http-addr", "[::1]:0", "--http-addr", "127.0.0.5:0"],
    )
    .expect("spawn");
    process
        .wait_for("/health/ready", 200, Duration::from_secs(30))
        .await
        .expect("serving loopback without keys");
}

#[tokio::test]
async fn help_names_the_flag_and_its_environment_variable() {
    let help = jimbot_service::testing::help_text(BINARY).await;
    for expected in [
        "--allow-unauthenticated-remote",
        "GATEWAY_ALLOW_UNAUTHENTICATED_REMOTE",
    ] {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
}
