//! The binary starts, waits for NATS, serves health and metrics, and stops
//! gracefully.

use jimbot_service::testing::{
    COMMON_FLAGS, assert_invalid_settings_fail_fast, assert_service_lifecycle, help_text,
};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-coordinator");

#[tokio::test]
async fn starts_waits_for_nats_serves_health_and_stops_on_sigterm() {
    assert_service_lifecycle(BINARY, "jimbot-coordinator").await;
}

#[tokio::test]
async fn help_names_every_flag_and_its_environment_variable() {
    let help = help_text(BINARY).await;
    let own = [
        "--http-addr",
        "COORDINATOR_HTTP_ADDR",
        "--grpc-addr",
        "COORDINATOR_GRPC_ADDR",
        "--config",
        "COORDINATOR_CONFIG",
    ];
    for expected in own.iter().chain(COMMON_FLAGS) {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
}

#[tokio::test]
async fn invalid_settings_fail_fast_with_a_message() {
    assert_invalid_settings_fail_fast(BINARY).await;
}

#[tokio::test]
async fn an_impossible_or_unknown_config_key_stops_the_start_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("[memory]\nbudget = 0\n", "memory.budget"),
        ("[claude_api]\ncalls_per_hours = 100\n", "calls_per_hours"),
        ("[gpu]\ndevices = []\n", "gpu.devices"),
    ];
    for (text, key) in cases {
        let path = dir.path().join("coordinator.toml");
        std::fs::write(&path, text).expect("write");
        let output = tokio::process::Command::new(BINARY)
            .args([
                "--config",
                path.to_str().expect("utf-8"),
                "--http-addr",
                "127.0.0.1:0",
            ])
            .env_remove("COORDINATOR_CONFIG")
            .output()
            .await
            .expect("run");
        assert!(!output.status.success(), "{text:?} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(key), "{text:?}: {stderr}");
        assert!(stderr.contains("--config"), "{stderr}");
    }
    let output = tokio::process::Command::new(BINARY)
        .args(["--config", "/no/such/file.toml"])
        .output()
        .await
        .expect("run");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("/no/such/file.toml"));
}

#[tokio::test]
async fn malformed_listen_addresses_are_refused_naming_the_flag() {
    for (flag, value) in [
        ("--grpc-addr", "not-an-address"),
        ("--grpc-addr", "127.0.0.1:99999"),
        ("--http-addr", "localhost"),
    ] {
        let output = tokio::process::Command::new(BINARY)
            .args([flag, value])
            .env_remove("COORDINATOR_GRPC_ADDR")
            .env_remove("COORDINATOR_HTTP_ADDR")
            .output()
            .await
            .expect("run");
        assert!(!output.status.success(), "{flag} {value} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
    }
}
