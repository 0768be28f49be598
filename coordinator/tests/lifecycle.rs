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
    let own = ["--http-addr", "COORDINATOR_HTTP_ADDR"];
    for expected in own.iter().chain(COMMON_FLAGS) {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
}

#[tokio::test]
async fn invalid_settings_fail_fast_with_a_message() {
    assert_invalid_settings_fail_fast(BINARY).await;
}
