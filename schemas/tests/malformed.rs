//! Bodies and events that cannot be used fail clearly, without spoiling
//! their siblings and without panicking.

mod common;

use jimbot_schemas::balatro::{
    BodyErrorKind, EventErrorKind, parse_batch, parse_single, to_mod_json,
};
use jimbot_schemas::v1::{EventType, event::Payload};

fn body_kind(body: &[u8]) -> BodyErrorKind {
    parse_batch(body).expect_err("should fail").kind()
}

#[test]
fn empty_body() {
    assert_eq!(body_kind(b""), BodyErrorKind::Empty);
    assert_eq!(body_kind(b"  \n"), BodyErrorKind::Empty);
    assert_eq!(parse_single(b"").unwrap_err().kind(), BodyErrorKind::Empty);
}

#[test]
fn top_level_not_an_object() {
    assert_eq!(body_kind(b"[]"), BodyErrorKind::NotAnObject);
    assert_eq!(body_kind(b"\"a string\""), BodyErrorKind::NotAnObject);
    assert_eq!(body_kind(b"42"), BodyErrorKind::NotAnObject);
    assert_eq!(
        parse_single(b"[1,2]").unwrap_err().kind(),
        BodyErrorKind::NotAnObject
    );
}

#[test]
fn truncated_and_garbage() {
    let full = common::fixture("batch_startup.json");
    let err = parse_batch(&full[..full.len() / 2]).unwrap_err();
    assert_eq!(err.kind(), BodyErrorKind::InvalidJson, "{err}");
    assert_eq!(
        body_kind(b"{\x00\xff\xfe garbage \x01"),
        BodyErrorKind::InvalidJson
    );
    assert_eq!(
        body_kind(b"{\"events\":[]} trailing"),
        BodyErrorKind::InvalidJson
    );
    assert_eq!(
        parse_single(b"{\"type\":").unwrap_err().kind(),
        BodyErrorKind::InvalidJson
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let mut body = b"{\"events\":[{\"type\":\"X\",\"payload\":".to_vec();
    body.extend(std::iter::repeat_n(b'[', depth));
    body.extend(std::iter::repeat_n(b']', depth));
    body.extend_from_slice(b"}]}");
    assert_eq!(body_kind(&body), BodyErrorKind::TooDeep);
    let mut single = b"{\"type\":\"X\",\"payload\":".to_vec();
    single.extend(std::iter::repeat_n(b'{', depth));
    assert_eq!(
        parse_single(&single).unwrap_err().kind(),
        BodyErrorKind::TooDeep
    );
}

#[test]
fn batch_without_events() {
    assert_eq!(
        body_kind(b"{\"batch_id\":\"x\"}"),
        BodyErrorKind::MissingEvents
    );
    assert_eq!(body_kind(b"{\"events\":5}"), BodyErrorKind::EventsNotArray);
    assert_eq!(
        body_kind(b"{\"events\":\"no\"}"),
        BodyErrorKind::EventsNotArray
    );
    // `{}` is the mod's empty array.
    assert!(parse_batch(b"{\"events\":{}}").unwrap().events.is_empty());
    assert!(parse_batch(b"{\"events\":[]}").unwrap().events.is_empty());
}

#[test]
fn one_bad_event_does_not_spoil_its_siblings() {
    let body = br#"{"batch_id":"b1","timestamp":1751439161000,"events":[
        {"type":"HEARTBEAT","event_id":"e0","timestamp":1.5,"payload":{"uptime":1}},
        {"type":"ROUND_CHANGED","event_id":"e1","payload":{"ante":2,"round":3}},
        42,
        {"type":"ROUND_CHANGED","event_id":"e3","payload":{"ante":"two","round":3}},
        {"event_id":"e4","payload":{}},
        {"type":"GAME_STATE","event_id":"e5","payload":{"jokers":[{"name":"J","position":0},{"name":7}]}},
        {"type":"GAME_STATE","event_id":"e6","changes":[{"type":"MONEY_CHANGED","payload":{"old_value":true}}]},
        {"type":17}
    ]}"#;
    let parsed = parse_batch(body).unwrap();
    assert_eq!(parsed.events.len(), 8);
    assert!(parsed.events[0].result.is_ok());
    assert!(parsed.events[1].result.is_ok());
    let err = |i: usize| parsed.events[i].result.as_ref().unwrap_err();

    assert_eq!(err(2).kind(), EventErrorKind::NotAnObject);
    assert_eq!(err(2).index(), 2);
    assert_eq!(&parsed.events[2].raw[..], b"42");

    assert_eq!(err(3).kind(), EventErrorKind::InvalidField);
    assert_eq!(err(3).path(), "payload.ante");
    assert_eq!(
        err(3).to_string(),
        "event 3: payload.ante: expected a number, found string \"two\""
    );
    assert_eq!(err(4).kind(), EventErrorKind::MissingType);
    assert_eq!(err(5).path(), "payload.jokers[1].name", "{}", err(5));
    assert!(
        err(5)
            .to_string()
            .starts_with("event 5: payload.jokers[1].name: ")
    );
    assert_eq!(err(6).path(), "changes[0].payload.old_value", "{}", err(6));
    assert_eq!(err(7).path(), "type");

    // The bad ones still carry their exact bytes for dead-lettering.
    let text = std::str::from_utf8(body).unwrap();
    for event in &parsed.events {
        assert!(text.contains(std::str::from_utf8(&event.raw).unwrap()));
    }
    let good = parsed.events[1].result.as_ref().unwrap();
    assert_eq!(good.batch_id, "b1");
    assert_eq!(good.batch_timestamp_ms, Some(1_751_439_161_000.0));
}

#[test]
fn leniency_rules() {
    let body = b"{\"events\":[\
        {\"type\":\"game_state\",\"event_id\":\"g\",\"timestamp\":-0,\"payload\":{\"in_game\":true,\"chips\":-inf,\"mult\":-nan,\"money\":2.5e+3,\
          \"jokers\":[{\"id\":\"joker_1\",\"name\":\"A\xffB\"}],\"hand\":[],\"consumables\":{\"1\":{\"name\":\"x\"},\"2\":{\"name\":\"y\"}},\
          \"shop_items\":{\"joker_1\":{\"name\":\"J\",\"cost\":4,\"rarity\":\"common\"}},\"unknown_key\":{\"deep\":[1,2]}}},\
        {\"type\":\"Joker_Trigger\",\"payload\":{\"context_type\":\"unknown\",\"joker_name\":\"J\"}},\
        {\"type\":\"SOMETHING_NEW\",\"event_id\":\"n\",\"payload\":{\"whatever\":inf},\"extra\":1},\
        {\"type\":\"SCORING\",\"subtype\":\"FUTURE_KIND\",\"payload\":{\"a\":1}},\
        {\"type\":\"HEARTBEAT\",\"payload\":{\"uptime\":inf,\"version\":\"bell\x07\"}}\
    ]}";
    let parsed = parse_batch(body).unwrap();
    let events: Vec<_> = parsed
        .events
        .iter()
        .map(|e| e.result.as_ref().unwrap_or_else(|err| panic!("{err}")))
        .collect();

    let gs_event = events[0];
    assert_eq!(gs_event.r#type(), EventType::GameState);
    assert_eq!(gs_event.type_name, "game_state");
    assert!(gs_event.client_timestamp_ms.unwrap().is_sign_negative());
    let Some(Payload::GameState(gs)) = &gs_event.payload else {
        panic!()
    };
    assert_eq!(gs.chips, Some(f64::NEG_INFINITY));
    assert!(gs.mult.unwrap().is_nan());
    assert_eq!(gs.money, Some(2500.0));
    assert_eq!(gs.jokers[0].name.as_deref(), Some("A\u{fffd}B"));
    assert_eq!(
        gs.jokers[0].id,
        Some(jimbot_schemas::v1::joker::Id::TextId("joker_1".into()))
    );
    assert_eq!(gs.consumables.len(), 2);
    assert_eq!(gs.consumables[1].name.as_deref(), Some("y"));
    assert_eq!(gs.shop_items["joker_1"].cost, Some(4.0));
    // Invalid UTF-8 survives in the original bytes.
    assert!(gs_event.original_json.windows(3).any(|w| w == b"A\xffB"));

    let Some(Payload::JokerTrigger(jt)) = &events[1].payload else {
        panic!()
    };
    assert_eq!(
        jt.context_type,
        Some(jimbot_schemas::v1::joker_trigger::ContextType::ContextText(
            "unknown".into()
        ))
    );

    let custom = events[2];
    assert_eq!(custom.r#type(), EventType::Custom);
    assert_eq!(custom.type_name, "SOMETHING_NEW");
    assert!(custom.payload.is_none());
    assert_eq!(
        &custom.original_json[..],
        &b"{\"type\":\"SOMETHING_NEW\",\"event_id\":\"n\",\"payload\":{\"whatever\":inf},\"extra\":1}"[..]
    );

    let Some(Payload::Scoring(s)) = &events[3].payload else {
        panic!()
    };
    assert!(s.detail.is_none());

    let Some(Payload::Heartbeat(h)) = &events[4].payload else {
        panic!()
    };
    assert_eq!(h.uptime, Some(f64::INFINITY));
    assert_eq!(h.version.as_deref(), Some("bell\u{7}"));
    assert_eq!(to_mod_json(events[4])["payload"]["uptime"], "inf");
}

#[test]
fn round_trip_check_detects_a_lost_field() {
    let body = common::fixture("batch_hand_scoring.json");
    let parsed = parse_batch(&body).unwrap();
    let mut event = parsed.events[2].result.clone().unwrap();
    let original = common::lenient_value(&event.original_json);
    assert_eq!(common::normalise(to_mod_json(&event)), original);
    event.priority = None;
    assert_ne!(common::normalise(to_mod_json(&event)), original);
}
