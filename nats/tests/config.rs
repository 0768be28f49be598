//! The shipped server configurations are valid for the pinned nats-server.

use std::{path::Path, process::Command};

use jimbot_nats::testing::nats_server_binary;

fn config_files() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut files = vec![dir.join("dev.conf"), dir.join("production.conf")];
    files.extend((1..=3).map(|i| dir.join(format!("cluster/node-{i}.conf"))));
    files
}

#[test]
fn every_config_passes_the_servers_own_check() {
    let binary = nats_server_binary().expect("nats-server installed");
    for file in config_files() {
        let output = Command::new(&binary)
            .arg("-t")
            .arg("-c")
            .arg(&file)
            .output()
            .expect("run");
        assert!(
            output.status.success(),
            "{}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The lines of the `jetstream { ... }` block, comments stripped.
fn jetstream_block(text: &str) -> Vec<String> {
    let lines: Vec<String> = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim().to_owned())
        .collect();
    let start = lines
        .iter()
        .position(|line| line.starts_with("jetstream") && line.ends_with('{'))
        .expect("a jetstream block");
    lines[start + 1..]
        .iter()
        .take_while(|line| *line != "}")
        .cloned()
        .collect()
}

#[test]
fn durable_configs_fsync_every_write() {
    for file in config_files()
        .into_iter()
        .filter(|f| !f.ends_with("dev.conf"))
    {
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(
            jetstream_block(&text)
                .iter()
                .any(|line| line == "sync_interval: always"),
            "{}",
            file.display()
        );
    }
}

#[test]
fn dev_config_keeps_the_default_sync_interval() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let text = std::fs::read_to_string(dir.join("dev.conf")).expect("read");
    assert!(
        !jetstream_block(&text)
            .iter()
            .any(|line| line.starts_with("sync_interval"))
    );
}

/// `secure.conf` (production plus a user per service) is valid once the
/// passwords are in the environment, and refused, naming the variable,
/// while one is missing.
#[test]
fn secure_config_needs_every_password() {
    let binary = nats_server_binary().expect("nats-server installed");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/secure.conf");
    let variables = [
        "JIMBOT_NATS_GATEWAY_PASSWORD",
        "JIMBOT_NATS_ANALYTICS_PASSWORD",
        "JIMBOT_NATS_COORDINATOR_PASSWORD",
        "JIMBOT_NATS_ADMIN_PASSWORD",
    ];
    let check = |missing: Option<&str>| {
        let mut command = Command::new(&binary);
        command.arg("-t").arg("-c").arg(&file);
        for variable in variables {
            command.env_remove(variable);
            if Some(variable) != missing {
                command.env(variable, "a-password");
            }
        }
        command.output().expect("run")
    };
    let output = check(None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for variable in variables {
        let output = check(Some(variable));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{variable} unset was accepted");
        assert!(stderr.contains(variable), "{variable}: {stderr}");
    }
}
