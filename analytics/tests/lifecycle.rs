//! The binary starts, waits for NATS, serves health and metrics, and stops
//! gracefully.

use jimbot_service::testing::{
    COMMON_FLAGS, assert_invalid_settings_fail_fast, assert_service_lifecycle_with, help_text,
};

const BINARY: &str = env!("CARGO_BIN_EXE_jimbot-analytics");

#[tokio::test]
async fn starts_waits_for_nats_serves_health_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("analytics.db");
    let db = db.to_str().expect("UTF-8 path");
    assert_service_lifecycle_with(BINARY, "jimbot-analytics", &["--db", db]).await;
}

#[tokio::test]
async fn help_names_every_flag_and_its_environment_variable() {
    let help = help_text(BINARY).await;
    let own = [
        "--http-addr",
        "ANALYTICS_HTTP_ADDR",
        "--db",
        "ANALYTICS_DB",
        "--batch-size",
        "ANALYTICS_BATCH_SIZE",
        "--batch-wait",
        "ANALYTICS_BATCH_WAIT",
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
async fn own_invalid_settings_fail_fast_with_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").expect("write");
    let db = not_a_dir.join("analytics.db");
    let cases: [(&[&str], &str); 4] = [
        (&["--batch-size", "0"], "--batch-size"),
        (&["--batch-size", "100000"], "--batch-size"),
        (&["--batch-wait", "1ms"], "--batch-wait"),
        (&["--db", db.to_str().expect("UTF-8")], "analytics.db"),
    ];
    for (args, expected) in cases {
        let output = tokio::process::Command::new(BINARY)
            .args(args)
            .args([
                "--http-addr",
                "127.0.0.1:0",
                "--nats-url",
                "nats://127.0.0.1:1",
            ])
            .env_remove("ANALYTICS_DB")
            .env_remove("ANALYTICS_BATCH_SIZE")
            .env_remove("ANALYTICS_BATCH_WAIT")
            .output()
            .await
            .expect("run");
        assert!(!output.status.success(), "{args:?} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
