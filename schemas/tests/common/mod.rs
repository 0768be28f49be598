//! Shared helpers for the integration tests.

#![allow(dead_code, reason = "each test binary uses a subset")]

use serde_json::Value;

use std::collections::BTreeSet;
use std::sync::LazyLock;

/// Directory of the byte-exact BalatroMCP bodies copied into the repository.
pub const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/balatromcp/");

/// Every fixture file the directory must hold, with whether it is a
/// single-event body. The directory is read, not this list, and the two must
/// agree: a new fixture cannot be silently skipped, a missing one fails.
pub const EXPECTED_FIXTURES: [(&str, bool); 15] = [
    ("single_connection_test.json", true),
    ("batch_startup.json", false),
    ("event_game_state.json", true),
    ("batch_hand_scoring.json", false),
    ("batch_round_end.json", false),
    ("batch_shop_purchase_unicode.json", false),
    ("batch_mixed.json", false),
    ("edge_empty_tables.json", false),
    ("edge_menu_state.json", false),
    ("edge_big_numbers.json", false),
    ("edge_invalid_json_inf_nan.json", false),
    ("edge_invalid_json_control_chars.json", false),
    ("edge_large_game_state.json", false),
    ("edge_resend_after_outage_a.json", false),
    ("edge_resend_after_outage_b.json", false),
];

/// One fixture file.
#[derive(Debug)]
pub struct Fixture {
    /// File name, e.g. `batch_startup.json`.
    pub name: String,
    /// A single-event body (`POST /api/v1/events`) rather than a batch.
    pub single: bool,
    /// The file's bytes.
    pub body: Vec<u8>,
}

/// Every `*.json` file of [`FIXTURE_DIR`], sorted by name, read once per test
/// binary.
pub static FIXTURES: LazyLock<Vec<Fixture>> = LazyLock::new(load_fixtures);

fn load_fixtures() -> Vec<Fixture> {
    let entries =
        std::fs::read_dir(FIXTURE_DIR).unwrap_or_else(|e| panic!("read {FIXTURE_DIR}: {e}"));
    let mut names: Vec<String> = entries
        .map(|entry| entry.unwrap_or_else(|e| panic!("read {FIXTURE_DIR}: {e}")))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    let found: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    let expected: BTreeSet<&str> = EXPECTED_FIXTURES.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        found, expected,
        "{FIXTURE_DIR} does not hold exactly the expected fixtures; update EXPECTED_FIXTURES"
    );
    names
        .into_iter()
        .map(|name| {
            let single = EXPECTED_FIXTURES
                .iter()
                .any(|(expected, single)| *expected == name && *single);
            let body = std::fs::read(format!("{FIXTURE_DIR}{name}"))
                .unwrap_or_else(|e| panic!("read {name}: {e}"));
            Fixture { name, single, body }
        })
        .collect()
}

/// The bytes of fixture `name`.
pub fn fixture(name: &str) -> Vec<u8> {
    FIXTURES
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .body
        .clone()
}

/// Parses the mod's bytes leniently into a value (via the crate's pre-pass),
/// then normalises it like `to_mod_json` renders: sentinels -> "inf"/"nan"
/// strings, numbers -> f64, empty `{}` -> `[]`, `null` members dropped.
pub fn lenient_value(bytes: &[u8]) -> Value {
    let sanitized = jimbot_schemas::balatro::sanitize(bytes);
    let value: Value = serde_json::from_str(sanitized.as_str()).expect("lenient JSON");
    normalise(value)
}

pub fn normalise(value: Value) -> Value {
    use jimbot_schemas::balatro::{NEG_INF, NEG_NAN, POS_INF, POS_NAN};
    match value {
        Value::String(s) => Value::String(
            match s.as_str() {
                POS_INF => "inf",
                NEG_INF => "-inf",
                POS_NAN => "nan",
                NEG_NAN => "-nan",
                other => other,
            }
            .to_owned(),
        ),
        Value::Number(n) => {
            let f = n.as_f64().expect("finite");
            let f = if f == 0.0 { 0.0 } else { f };
            Value::from(f)
        }
        Value::Object(map) if map.is_empty() => Value::Array(Vec::new()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, normalise(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        other => other,
    }
}
