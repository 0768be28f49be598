//! The binary starts, waits for NATS, serves health and metrics, and stops
//! gracefully.

use jimbot_service::testing::{COMMON_FLAGS, assert_service_lifecycle, help_text};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-analytics");

#[tokio::test]
async fn starts_waits_for_nats_serves_health_and_stops_on_sigterm() {
    assert_service_lifecycle(BINARY, "jimbot-analytics").await;
}

#[tokio::test]
async fn help_names_every_flag_and_its_environment_variable() {
    let help = help_text(BINARY).await;
    let own = ["--http-addr", "ANALYTICS_HTTP_ADDR"];
    for expected in own.iter().chain(COMMON_FLAGS) {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
}

#[tokio::test]
async fn invalid_settings_fail_fast_with_a_message() {
    let output = tokio::process::Command::new(BINARY)
        .args(["--stream-replicas", "9"])
        .output()
        .await
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--stream-replicas"), "{stderr}");

    let output = tokio::process::Command::new(BINARY)
        .args([
            "--duplicate-window",
            "2h",
            "--game-events-max-age",
            "1h",
            "--http-addr",
            "127.0.0.1:0",
        ])
        .output()
        .await
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--duplicate-window"), "{stderr}");
}
