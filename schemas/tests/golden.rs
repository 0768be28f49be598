//! Cross-language golden vectors (see docs/clients.md).
//!
//! Rust writes the protobuf encoding of every fixture event to
//! `schemas/golden/events/` with an index of expected field values
//! (`events.json`); the Python and TypeScript tests decode them. The other
//! direction: those tests encode the events of [`client_events`] to
//! `schemas/golden/from-python/` and `from-ts/`, which Rust decodes here.
//!
//! `UPDATE_GOLDEN=1 cargo test -p jimbot-schemas --test golden` rewrites the
//! Rust-written vectors after a reviewed change.

mod common;

use common::FIXTURES;
use jimbot_schemas::balatro::{parse_batch, parse_single};
use jimbot_schemas::v1::{self, EventType, event::Payload, joker, scoring};
use prost::Message;
use serde_json::{Value, json};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const GOLDEN_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/golden");

fn update_requested() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// A double as JSON: a number, or "inf"/"-inf"/"nan", which JSON lacks.
fn double(value: f64) -> Value {
    if value.is_nan() {
        json!("nan")
    } else if value.is_infinite() {
        json!(if value > 0.0 { "inf" } else { "-inf" })
    } else {
        json!(value)
    }
}

fn opt_double(value: Option<f64>) -> Value {
    value.map_or(Value::Null, double)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The name of the `payload` oneof's field, as the .proto spells it.
fn payload_case(payload: &Payload) -> &'static str {
    match payload {
        Payload::GameState(_) => "game_state",
        Payload::Heartbeat(_) => "heartbeat",
        Payload::MoneyChanged(_) => "money_changed",
        Payload::ScoreChanged(_) => "score_changed",
        Payload::HandPlayed(_) => "hand_played",
        Payload::CardsDiscarded(_) => "cards_discarded",
        Payload::JokersChanged(_) => "jokers_changed",
        Payload::RoundChanged(_) => "round_changed",
        Payload::PhaseChanged(_) => "phase_changed",
        Payload::RoundComplete(_) => "round_complete",
        Payload::JokerTrigger(_) => "joker_trigger",
        Payload::Scoring(_) => "scoring",
        Payload::ConnectionTest(_) => "connection_test",
        Payload::LearningDecision(_) => "learning_decision",
        Payload::Error(_) => "error",
        Payload::Diagnostic(_) => "diagnostic",
    }
}

/// The name of the `Scoring.detail` oneof's field, as the .proto spells it.
fn scoring_case(detail: &scoring::Detail) -> &'static str {
    match detail {
        scoring::Detail::HandEvalStart(_) => "hand_eval_start",
        scoring::Detail::JokerTrigger(_) => "joker_trigger",
        scoring::Detail::HandEvalComplete(_) => "hand_eval_complete",
        scoring::Detail::ScoreUpdate(_) => "score_update",
        scoring::Detail::MultUpdate(_) => "mult_update",
        scoring::Detail::ChipsUpdate(_) => "chips_update",
    }
}

fn game_state_fields(state: &v1::GameState) -> Value {
    json!({
        "in_game": state.in_game,
        "game_id": state.game_id,
        "ante": opt_double(state.ante),
        "round": opt_double(state.round),
        "chips": opt_double(state.chips),
        "mult": opt_double(state.mult),
        "money": opt_double(state.money),
        "hands_remaining": opt_double(state.hands_remaining),
        "discards_remaining": opt_double(state.discards_remaining),
        "phase": state.phase,
        "joker_names": state.jokers.iter().map(|j| j.name.clone()).collect::<Vec<_>>(),
        "hand": state.hand.iter().map(|c| json!([c.rank, c.suit])).collect::<Vec<_>>(),
        "score_history_keys": state.score_history.keys().collect::<Vec<_>>(),
        "shop_item_keys": state.shop_items.keys().collect::<Vec<_>>(),
    })
}

fn payload_fields(payload: &Payload) -> Value {
    match payload {
        Payload::GameState(state) => game_state_fields(state),
        Payload::Heartbeat(p) => json!({
            "version": p.version, "uptime": opt_double(p.uptime),
            "headless": p.headless, "game_state": p.game_state,
        }),
        Payload::MoneyChanged(p) => json!({
            "old_value": opt_double(p.old_value), "new_value": opt_double(p.new_value),
            "difference": opt_double(p.difference),
        }),
        Payload::RoundChanged(p) => json!({
            "ante": opt_double(p.ante), "round": opt_double(p.round),
        }),
        Payload::ConnectionTest(p) => json!({ "message": p.message }),
        Payload::ScoreChanged(p) => json!({
            "old_chips": opt_double(p.old_chips), "new_chips": opt_double(p.new_chips),
            "old_mult": opt_double(p.old_mult), "new_mult": opt_double(p.new_mult),
        }),
        Payload::HandPlayed(p) => json!({
            "hands_remaining": opt_double(p.hands_remaining),
            "hand_number": opt_double(p.hand_number),
        }),
        Payload::CardsDiscarded(p) => json!({
            "discards_remaining": opt_double(p.discards_remaining),
        }),
        Payload::JokersChanged(p) => json!({
            "old_count": opt_double(p.old_count), "new_count": opt_double(p.new_count),
            "joker_names": p.jokers.iter().map(|j| j.name.clone()).collect::<Vec<_>>(),
        }),
        Payload::PhaseChanged(p) => json!({ "old_phase": p.old_phase, "new_phase": p.new_phase }),
        Payload::RoundComplete(p) => json!({
            "ante": opt_double(p.ante), "round": opt_double(p.round),
            "score": opt_double(p.score), "money": opt_double(p.money),
        }),
        Payload::JokerTrigger(p) => json!({
            "joker_name": p.joker_name, "timestamp": opt_double(p.timestamp),
        }),
        Payload::Scoring(p) => json!({ "detail_case": p.detail.as_ref().map(scoring_case) }),
        // Not in the fixtures: covered by the byte-exact vectors and the
        // clients' re-encoding check, their fields are not listed.
        Payload::LearningDecision(_) | Payload::Error(_) | Payload::Diagnostic(_) => json!({}),
    }
}

/// The values the Python and TypeScript tests compare a decoded event with.
fn expected_fields(event: &v1::Event) -> Value {
    json!({
        "event_id": event.event_id,
        "type": event.r#type().as_str_name(),
        "type_name": event.type_name,
        "source": event.source,
        "session": event.session,
        "client_timestamp_ms": opt_double(event.client_timestamp_ms),
        "batch_id": event.batch_id,
        "batch_timestamp_ms": opt_double(event.batch_timestamp_ms),
        "has_received_at": event.received_at.is_some(),
        "version": opt_double(event.version),
        "priority": event.priority,
        "subtype": event.subtype,
        "initial": event.initial,
        "debug": event.debug,
        "has_changes": event.has_changes,
        "changes": event.changes.iter().map(expected_fields).collect::<Vec<_>>(),
        "original_json_hex": hex(&event.original_json),
        "payload_from_data": event.payload_from_data,
        "payload_case": event.payload.as_ref().map(payload_case),
        "payload": event.payload.as_ref().map_or(Value::Null, payload_fields),
    })
}

/// The golden files Rust writes: relative path -> bytes.
fn rust_vectors() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut index = Vec::new();
    for fixture in FIXTURES.iter() {
        let parsed = if fixture.single {
            vec![parse_single(&fixture.body).unwrap_or_else(|e| panic!("{}: {e}", fixture.name))]
        } else {
            parse_batch(&fixture.body)
                .unwrap_or_else(|e| panic!("{}: {e}", fixture.name))
                .events
        };
        let stem = fixture.name.trim_end_matches(".json");
        for (i, parsed) in parsed.into_iter().enumerate() {
            let event = parsed
                .result
                .unwrap_or_else(|e| panic!("{} event {i}: {e}", fixture.name));
            let file = format!("events/{stem}.{i}.binpb");
            index.push(json!({
                "file": file,
                "fixture": fixture.name,
                "index": i,
                "expected": expected_fields(&event),
            }));
            files.insert(file, event.encode_to_vec());
        }
    }
    let index = json!({ "schema": "jimbot.v1.Event", "events": index });
    let mut text = serde_json::to_string_pretty(&index).expect("index serialises");
    text.push('\n');
    files.insert("events.json".to_owned(), text.into_bytes());
    files
}

fn golden_path(relative: &str) -> PathBuf {
    Path::new(GOLDEN_DIR).join(relative)
}

fn listed_event_files() -> Vec<String> {
    let dir = golden_path("events");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| {
            e.expect("read golden/events")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .map(|name| format!("events/{name}"))
        .collect();
    names.sort();
    names
}

#[test]
fn rust_golden_vectors_are_up_to_date() {
    let files = rust_vectors();
    if update_requested() {
        // Stale vectors of renamed or removed fixtures go too.
        let _ = std::fs::remove_dir_all(golden_path("events"));
        std::fs::create_dir_all(golden_path("events")).expect("create golden/events");
        for (relative, bytes) in &files {
            std::fs::write(golden_path(relative), bytes)
                .unwrap_or_else(|e| panic!("write {relative}: {e}"));
        }
        return;
    }
    let wanted: Vec<&String> = files.keys().filter(|f| f.starts_with("events/")).collect();
    let found = listed_event_files();
    assert_eq!(
        found.iter().collect::<Vec<_>>(),
        wanted,
        "schemas/golden/events differs from the fixtures; rerun with UPDATE_GOLDEN=1"
    );
    for (relative, bytes) in &files {
        let committed = std::fs::read(golden_path(relative)).unwrap_or_else(|e| {
            panic!("read schemas/golden/{relative}: {e}; rerun with UPDATE_GOLDEN=1")
        });
        assert!(
            committed == *bytes,
            "schemas/golden/{relative} is stale; rerun with UPDATE_GOLDEN=1 and review the diff"
        );
    }
}

/// The events the Python and TypeScript tests build and encode; each
/// client builds the same values field by field.
fn client_events() -> Vec<(&'static str, v1::Event)> {
    let money = v1::Event {
        event_id: "client-money-1".to_owned(),
        r#type: EventType::MoneyChanged.into(),
        type_name: "money_changed".to_owned(),
        source: Some("BalatroMCP".to_owned()),
        session: "golden".to_owned(),
        client_timestamp_ms: Some(12_345.5),
        batch_id: "batch-\u{fc}".to_owned(),
        version: Some(1.0),
        priority: Some("high".to_owned()),
        original_json: b"{\"money\":inf}\x00\xff".to_vec().into(),
        payload: Some(Payload::MoneyChanged(v1::MoneyChanged {
            old_value: Some(4.0),
            new_value: Some(9.0),
            difference: Some(5.0),
        })),
        ..Default::default()
    };
    let game_state = v1::Event {
        event_id: "client-state-1".to_owned(),
        r#type: EventType::GameState.into(),
        type_name: "GAME_STATE".to_owned(),
        session: "golden".to_owned(),
        received_at: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 5,
        }),
        initial: Some(true),
        has_changes: true,
        changes: vec![v1::Event {
            r#type: EventType::RoundChanged.into(),
            type_name: "round_changed".to_owned(),
            payload: Some(Payload::RoundChanged(v1::RoundChanged {
                ante: Some(2.0),
                round: Some(3.0),
            })),
            ..Default::default()
        }],
        payload: Some(Payload::GameState(v1::GameState {
            in_game: Some(true),
            ante: Some(2.0),
            money: Some(-3.5),
            chips: Some(1e300),
            mult: Some(f64::INFINITY),
            jokers: vec![v1::Joker {
                id: Some(joker::Id::TextId("joker_1".to_owned())),
                name: Some("J\u{f6}ker \u{1f0cf}".to_owned()),
                position: Some(0.0),
                properties: None,
            }],
            score_history: BTreeMap::from([(
                "1".to_owned(),
                v1::ScoreHistoryItem {
                    label: Some("Pair".to_owned()),
                    amt: Some(10.0),
                },
            )]),
            ..Default::default()
        })),
        ..Default::default()
    };
    let custom = v1::Event {
        r#type: EventType::Custom.into(),
        type_name: "mystery_event".to_owned(),
        session: "golden".to_owned(),
        ..Default::default()
    };
    vec![
        ("money_changed", money),
        ("game_state", game_state),
        ("custom", custom),
    ]
}

fn assert_client_vectors(client: &str) {
    for (name, expected) in client_events() {
        let path = golden_path(&format!("from-{client}/{name}.binpb"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("read {}: {e}; the {client} tests write it", path.display())
        });
        let decoded =
            v1::Event::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("{client} {name}: {e}"));
        assert_eq!(decoded, expected, "{client} {name}");
    }
}

#[test]
fn python_encoded_events_decode_to_the_expected_values() {
    assert_client_vectors("python");
}

#[test]
fn typescript_encoded_events_decode_to_the_expected_values() {
    assert_client_vectors("ts");
}
