//! Every BalatroMCP fixture parses, with assertions on specific values.

mod common;

use common::{FIXTURES, fixture};
use jimbot_schemas::balatro::{ParsedBatch, ParsedEvent, parse_batch, parse_single};
use jimbot_schemas::v1::{self, EventType, event::Payload, scoring::Detail};

fn batch(name: &str) -> ParsedBatch {
    parse_batch(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn events(name: &str) -> Vec<v1::Event> {
    batch(name)
        .events
        .into_iter()
        .map(|p| p.result.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

fn game_state(event: &v1::Event) -> &v1::GameState {
    match &event.payload {
        Some(Payload::GameState(state)) => state,
        other => panic!("not a game state: {other:?}"),
    }
}

fn find(events: &[v1::Event], event_type: EventType) -> &v1::Event {
    events
        .iter()
        .find(|e| e.r#type() == event_type)
        .unwrap_or_else(|| panic!("no {event_type:?}"))
}

fn parsed_all(name: &str, single: bool) -> Vec<ParsedEvent> {
    let body = fixture(name);
    if single {
        vec![parse_single(&body).unwrap_or_else(|e| panic!("{name}: {e}"))]
    } else {
        batch(name).events
    }
}

#[test]
fn fixture_directory_holds_exactly_the_expected_files() {
    // Loading asserts that the directory and `EXPECTED_FIXTURES` agree.
    assert_eq!(FIXTURES.len(), common::EXPECTED_FIXTURES.len());
    assert_eq!(FIXTURES.iter().filter(|f| f.single).count(), 2);
}

#[test]
fn every_fixture_parses_and_raw_is_an_exact_span_of_the_file() {
    for common::Fixture { name, single, body } in FIXTURES.iter() {
        let name = name.as_str();
        let parsed = parsed_all(name, *single);
        assert!(!parsed.is_empty(), "{name}: no events");
        for (i, event) in parsed.iter().enumerate() {
            assert_eq!(event.index, i);
            let proto = event
                .result
                .as_ref()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!proto.type_name.is_empty());
            assert_eq!(
                proto.original_json, event.raw,
                "{name}: original_json == raw"
            );
            assert!(
                body.windows(event.raw.len()).any(|w| w == &event.raw[..]),
                "{name} event {i}: raw is not a substring of the file"
            );
            assert_eq!(event.raw.first(), Some(&b'{'));
            assert_eq!(event.raw.last(), Some(&b'}'));
            for change in &proto.changes {
                assert!(
                    body.windows(change.original_json.len())
                        .any(|w| w == &change.original_json[..])
                );
            }
        }
    }
}

#[test]
fn event_game_state_fixture_is_a_span_of_batch_round_end() {
    let whole = fixture("batch_round_end.json");
    let single = parse_single(&fixture("event_game_state.json")).unwrap();
    let in_batch = batch("batch_round_end.json")
        .events
        .into_iter()
        .find(|e| e.raw == single.raw)
        .expect("the single GAME_STATE is byte-identical to a batch element");
    assert!(
        whole
            .windows(single.raw.len())
            .any(|w| w == &single.raw[..])
    );
    assert_eq!(
        in_batch.result.unwrap().event_id,
        single.result.unwrap().event_id
    );
}

#[test]
fn connection_test_lower_case_with_data() {
    let parsed = parse_single(&fixture("single_connection_test.json")).unwrap();
    let event = parsed.result.unwrap();
    assert_eq!(event.r#type(), EventType::ConnectionTest);
    assert_eq!(event.type_name, "connection_test");
    assert_eq!(event.event_id, "");
    assert_eq!(event.version, None);
    assert!(event.payload_from_data);
    assert_eq!(event.client_timestamp_ms, Some(1_751_439_161_000.0));
    assert_eq!(event.source.as_deref(), Some("BalatroMCP"));
    match event.payload {
        Some(Payload::ConnectionTest(t)) => {
            assert_eq!(t.message.as_deref(), Some("Testing event bus connection"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn startup_batch_values() {
    let parsed = batch("batch_startup.json");
    assert_eq!(parsed.source.as_deref(), Some("BalatroMCP"));
    assert_eq!(parsed.timestamp_ms, Some(1_751_439_161_000.0));
    let events: Vec<_> = parsed
        .events
        .into_iter()
        .map(|e| e.result.unwrap())
        .collect();
    let heartbeat = find(&events, EventType::Heartbeat);
    assert_eq!(heartbeat.event_id, "71cfca46-053e-473a-be11-0752902e0e6e");
    assert_eq!(heartbeat.client_timestamp_ms, Some(248_396.052_566_67));
    assert_eq!(heartbeat.batch_id, parsed.batch_id.clone().unwrap());
    assert_eq!(heartbeat.batch_timestamp_ms, Some(1_751_439_161_000.0));
    match &heartbeat.payload {
        Some(Payload::Heartbeat(h)) => {
            assert_eq!(h.game_state.as_deref(), Some("1"));
            assert_eq!(h.version.as_deref(), Some("0.1.0"));
            assert_eq!(h.headless, Some(false));
        }
        other => panic!("{other:?}"),
    }
    let gs_event = find(&events, EventType::GameState);
    assert_eq!(gs_event.initial, Some(true));
    assert!(gs_event.has_changes);
    assert!(gs_event.changes.is_empty());
    let gs = game_state(gs_event);
    assert_eq!(gs.ante, Some(2.0));
    assert_eq!(gs.round, Some(5.0));
    assert_eq!(gs.money, Some(14.0));
    assert_eq!(gs.chips, Some(820.0));
    assert_eq!(gs.game_state.as_deref(), Some("UNKNOWN_STATE_1"));
    assert_eq!(gs.hand.len(), 8);
    assert_eq!(gs.jokers.len(), 3);
    assert_eq!(gs.consumables.len(), 1);
    assert_eq!(gs.consumables[0].name.as_deref(), Some("The Fool"));
    let deck = gs.deck.as_ref().unwrap();
    assert_eq!(deck.full_deck.len(), 52);
    assert_eq!(deck.cards_remaining.len(), 5);
    assert_eq!(deck.remaining_count, Some(44.0));
    assert_eq!(
        gs.hand[0].id,
        Some(v1::card::Id::NumericId(0.998_508_701_734_73))
    );
    assert_eq!(gs.hand[1].seal.as_deref(), Some("Red"));
    let blind = gs.blind.as_ref().unwrap();
    assert_eq!(blind.name.as_deref(), Some("Big Blind"));
    assert_eq!(blind.chips, Some(1200.0));
    assert_eq!(blind.chip_text.as_deref(), Some("1,200"));
    assert_eq!(blind.mult, Some(1.5));
    assert_eq!(gs.score_history["hand"].amt, Some(520.0));
    assert_eq!(gs.score_history["hand"].label.as_deref(), Some("Best Hand"));
    assert_eq!(gs.timestamp, Some(1_751_439_161.0));
}

#[test]
fn unicode_joker_name_and_shop_state() {
    let events = events("batch_shop_purchase_unicode.json");
    let money = find(&events, EventType::MoneyChanged);
    match &money.payload {
        Some(Payload::MoneyChanged(m)) => {
            assert_eq!(m.old_value, Some(21.0));
            assert_eq!(m.new_value, Some(15.0));
            assert_eq!(m.difference, Some(-6.0));
        }
        other => panic!("{other:?}"),
    }
    let changed = find(&events, EventType::JokersChanged);
    let Some(Payload::JokersChanged(jc)) = &changed.payload else {
        panic!("payload")
    };
    assert_eq!((jc.old_count, jc.new_count), (Some(3.0), Some(4.0)));
    assert_eq!(jc.jokers.len(), 4);
    let names: Vec<_> = jc.jokers.iter().filter_map(|j| j.name.as_deref()).collect();
    assert!(names.contains(&"Jöker ★ 小丑 \"Deluxe\""), "{names:?}");
    let gs = game_state(find(&events, EventType::GameState));
    assert!(gs.hand.is_empty());
    assert!(gs.shop_items.is_empty());
    assert_eq!(gs.blind.as_ref().unwrap().name.as_deref(), Some(""));
    assert_eq!(gs.blind.as_ref().unwrap().chips, Some(0.0));
    assert!(
        gs.jokers
            .iter()
            .any(|j| j.name.as_deref() == Some("Jöker ★ 小丑 \"Deluxe\""))
    );
}

#[test]
fn control_characters_in_joker_name() {
    let events = events("edge_invalid_json_control_chars.json");
    let gs = game_state(find(&events, EventType::GameState));
    let odd = gs
        .jokers
        .iter()
        .filter_map(|j| j.name.as_deref())
        .find(|n| n.contains('\u{7}'))
        .expect("a joker name with BEL");
    assert!(odd.contains('\u{1b}'), "{odd:?}");
    assert!(
        odd.contains('\t') && odd.contains('\n') && odd.contains('\\'),
        "{odd:?}"
    ); // The event's original bytes still hold the raw control bytes.
    let raw = &find(&events, EventType::GameState).original_json;
    assert!(raw.contains(&0x07) && raw.contains(&0x1b));
}

#[test]
fn inf_and_nan_tokens() {
    let events = events("edge_invalid_json_inf_nan.json");
    let gs_event = find(&events, EventType::GameState);
    let gs = game_state(gs_event);
    assert_eq!(gs.chips, Some(f64::INFINITY));
    assert!(gs.blind.as_ref().unwrap().chips.unwrap().is_nan());
    let score = find(&events, EventType::ScoreChanged);
    let Some(Payload::ScoreChanged(sc)) = &score.payload else {
        panic!("payload")
    };
    assert_eq!(sc.new_chips, Some(f64::INFINITY));
    assert!(sc.old_chips.unwrap().is_finite());
    // The GAME_STATE's `changes` repeats the SCORE_CHANGED event.
    assert_eq!(gs_event.changes.len(), 1);
    assert_eq!(gs_event.changes[0].event_id, score.event_id);
    assert_eq!(gs_event.changes[0].r#type(), EventType::ScoreChanged);
}

#[test]
fn big_numbers_and_negative_money() {
    let events = events("edge_big_numbers.json");
    let gs = game_state(find(&events, EventType::GameState));
    assert_eq!(gs.chips, Some(1.234_567_890_123_5e17));
    assert_eq!(gs.money, Some(-3.0));
    let blind = gs.blind.as_ref().unwrap();
    assert_eq!(blind.chips, Some(1.5e16));
    assert_eq!(blind.chip_text.as_deref(), Some("1.5e16"));
}

#[test]
fn empty_tables_become_empty_collections() {
    let events = events("edge_empty_tables.json");
    let gs_event = find(&events, EventType::GameState);
    assert!(gs_event.has_changes && gs_event.changes.is_empty());
    let gs = game_state(gs_event);
    assert_eq!(gs.game_state.as_deref(), Some("BLIND_SELECT"));
    assert!(gs.jokers.is_empty() && gs.hand.is_empty() && gs.consumables.is_empty());
    assert!(gs.shop_items.is_empty() && gs.score_history.is_empty());
    let deck = gs.deck.as_ref().unwrap();
    assert!(deck.cards_remaining.is_empty() && deck.full_deck.is_empty());
    assert!(gs.blind.is_none());
    assert_eq!(gs.ante, Some(1.0));
    let Some(Payload::Heartbeat(h)) = &find(&events, EventType::Heartbeat).payload else {
        panic!("payload")
    };
    assert_eq!(h.game_state.as_deref(), Some("7"));
}

#[test]
fn menu_state_shape() {
    let events = events("edge_menu_state.json");
    let gs = game_state(find(&events, EventType::GameState));
    assert_eq!(gs.in_game, Some(false));
    assert_eq!(gs.phase.as_deref(), Some("MENU"));
    assert_eq!(gs.timestamp, Some(1_751_439_161.0));
    assert_eq!(gs.game_state, None);
    assert_eq!(gs.ante, None);
    assert!(gs.deck.is_none() && gs.blind.is_none());
}

#[test]
fn scoring_subtypes_and_priorities() {
    let events = events("batch_hand_scoring.json");
    assert_eq!(events.len(), 4);
    let details: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::Scoring(s)) => s.detail.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(details.len(), 3);
    let Detail::HandEvalStart(start) = &details[0] else {
        panic!("{:?}", details[0])
    };
    assert_eq!(start.starting_score, Some(820.0));
    let Detail::JokerTrigger(trigger) = &details[1] else {
        panic!("{:?}", details[1])
    };
    let joker = trigger.joker.as_ref().unwrap();
    assert_eq!(joker.name.as_deref(), Some("Joker"));
    assert_eq!(
        joker.id,
        Some(v1::scoring_joker::Id::NumericId(0.998_334_062_038_26))
    );
    let Detail::HandEvalComplete(done) = &details[2] else {
        panic!("{:?}", details[2])
    };
    assert_eq!(done.final_score, done.starting_score);
    assert_eq!(done.joker_triggers, Some(1.0));
    assert_eq!(events[0].subtype.as_deref(), Some("HAND_EVAL_START"));
    assert_eq!(events[3].priority.as_deref(), Some("high"));
    let jt = find(&events, EventType::JokerTrigger);
    assert_eq!(jt.priority.as_deref(), Some("low"));
    let Some(Payload::JokerTrigger(p)) = &jt.payload else {
        panic!("payload")
    };
    assert_eq!(
        p.context_type,
        Some(v1::joker_trigger::ContextType::ContextFlag(true))
    );
    assert_eq!(p.joker_name.as_deref(), Some("Joker"));
}

#[test]
fn changes_are_parsed_into_events() {
    let events = events("batch_round_end.json");
    let gs_event = find(&events, EventType::GameState);
    assert!(gs_event.has_changes);
    let kinds: Vec<_> = gs_event.changes.iter().map(v1::Event::r#type).collect();
    assert_eq!(kinds, [EventType::ScoreChanged, EventType::HandPlayed]);
    let score = find(&events, EventType::ScoreChanged);
    let embedded = &gs_event.changes[0];
    assert_eq!(embedded.event_id, score.event_id);
    assert_eq!(embedded.payload, score.payload);
    let Some(Payload::ScoreChanged(sc)) = &score.payload else {
        panic!("payload")
    };
    assert_eq!((sc.old_chips, sc.new_chips), (Some(820.0), Some(1340.0)));
    let Some(Payload::RoundComplete(rc)) = &find(&events, EventType::RoundComplete).payload else {
        panic!("payload")
    };
    assert_eq!(rc.ante, Some(2.0));
    assert_eq!(rc.round, Some(5.0));
}

#[test]
fn mixed_batch_values() {
    let events = events("batch_mixed.json");
    let Some(Payload::RoundChanged(rc)) = &find(&events, EventType::RoundChanged).payload else {
        panic!("payload")
    };
    assert_eq!(rc.round, Some(6.0));
    let Some(Payload::PhaseChanged(pc)) = &find(&events, EventType::PhaseChanged).payload else {
        panic!("payload")
    };
    assert_eq!(pc.old_phase.as_deref(), Some("SHOP"));
    assert_eq!(pc.new_phase.as_deref(), Some("UNKNOWN_STATE_3"));
    assert!(find(&events, EventType::CardsDiscarded).payload.is_some());
    let gs = game_state(find(&events, EventType::GameState));
    assert_eq!(gs.blind.as_ref().unwrap().chips, Some(800.0));
    assert!(!find(&events, EventType::GameState).changes.is_empty());
}

#[test]
fn large_game_state() {
    let events = events("edge_large_game_state.json");
    let gs = game_state(find(&events, EventType::GameState));
    assert_eq!(gs.deck.as_ref().unwrap().full_deck.len(), 152);
    assert_eq!(gs.jokers.len(), 15);
    assert_eq!(gs.consumables.len(), 5);
}

#[test]
fn outage_resends_share_event_ids_not_batch_ids() {
    let a = batch("edge_resend_after_outage_a.json");
    let b = batch("edge_resend_after_outage_b.json");
    assert_ne!(a.batch_id, b.batch_id);
    assert_eq!(a.events.len(), 10);
    assert_eq!(b.events.len(), 10);
    let key = |batch: &ParsedBatch| {
        let mut keys: Vec<(String, u64)> = batch
            .events
            .iter()
            .map(|e| {
                let e = e.result.as_ref().unwrap();
                (e.event_id.clone(), e.client_timestamp_ms.unwrap().to_bits())
            })
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(key(&a), key(&b));
    for event in &a.events {
        let e = event.result.as_ref().unwrap();
        assert_eq!(e.r#type(), EventType::Heartbeat);
        assert_eq!(Some(e.batch_id.clone()), a.batch_id);
    }
}
