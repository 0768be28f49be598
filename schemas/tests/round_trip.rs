//! The typed model carries every field the mod sent: rendering the proto back
//! to the mod's JSON gives the original event (modulo the documented
//! normalisations), and protobuf encoding is lossless.

mod common;

use bytes::Bytes;
use common::{FIXTURES, lenient_value, normalise};
use jimbot_schemas::balatro::{parse_batch, parse_single, to_mod_json};
use jimbot_schemas::v1;
use prost::Message;

/// Every event of every fixture: `(label, raw bytes as sent, parsed event)`.
fn all_events() -> Vec<(String, Bytes, v1::Event)> {
    let mut out = Vec::new();
    for fixture in FIXTURES.iter() {
        let name = &fixture.name;
        let parsed = if fixture.single {
            vec![parse_single(&fixture.body).unwrap()]
        } else {
            parse_batch(&fixture.body).unwrap().events
        };
        for p in parsed {
            let event = p.result.unwrap_or_else(|e| panic!("{name}: {e}"));
            out.push((format!("{name}#{}", p.index), p.raw, event));
        }
    }
    out
}

#[test]
fn to_mod_json_gives_back_every_field_the_mod_sent() {
    let mut checked = 0;
    for (name, _, event) in all_events() {
        let original = lenient_value(&event.original_json);
        let rendered = normalise(to_mod_json(&event));
        assert_eq!(
            rendered, original,
            "{name}: typed model differs from what the mod sent"
        );
        checked += 1;
    }
    assert!(checked > 40, "only {checked} events checked");
}

/// Encoding to protobuf and decoding loses nothing the mod sent: the decoded
/// event renders back to the original event's bytes (the same comparison as
/// above, but against the decoded message), so a field the typed model holds
/// but the `.proto` does not carry (or carries wrongly) fails here.
#[test]
fn protobuf_encode_decode_is_lossless() {
    let mut checked = 0;
    for (name, raw, mut event) in all_events() {
        event.session = "s1".into();
        let received_at = prost_types::Timestamp {
            seconds: 1_751_439_161,
            nanos: 5,
        };
        event.received_at = Some(received_at);
        let decoded = v1::Event::decode(event.encode_to_vec().as_slice())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            normalise(to_mod_json(&decoded)),
            lenient_value(&raw),
            "{name}: the decoded protobuf differs from what the mod sent"
        );
        assert_eq!(decoded.original_json, raw, "{name}");
        assert_eq!(decoded.session, "s1", "{name}");
        assert_eq!(decoded.received_at, Some(received_at), "{name}");
        checked += 1;
    }
    assert!(checked > 40, "only {checked} events checked");
}

#[test]
fn descriptor_set_is_exposed() {
    let set = prost_types::FileDescriptorSet::decode(jimbot_schemas::FILE_DESCRIPTOR_SET).unwrap();
    let names: Vec<_> = set.file.iter().filter_map(|f| f.name.as_deref()).collect();
    assert!(names.contains(&"jimbot/v1/event.proto"), "{names:?}");
    assert!(names.contains(&"jimbot/v1/event_bus.proto"));
    assert!(names.contains(&"jimbot/v1/coordinator.proto"));
    // The contract's service names (not buf's `...Service` convention).
    let mut services: Vec<String> = set
        .file
        .iter()
        .filter(|f| f.package() == "jimbot.v1")
        .flat_map(|f| f.service.iter().map(|s| format!("jimbot.v1.{}", s.name())))
        .collect();
    services.sort();
    assert_eq!(
        services,
        ["jimbot.v1.EventBus", "jimbot.v1.ResourceCoordinator"],
        "{services:?}"
    );
}

#[test]
fn event_type_names_round_trip() {
    use jimbot_schemas::balatro::{canonical_name, event_type_from_name};
    use v1::EventType;
    for value in 1..=16 {
        let event_type = EventType::try_from(value).unwrap();
        let name = canonical_name(event_type).unwrap();
        assert_eq!(event_type_from_name(name), event_type);
        assert_eq!(event_type_from_name(&name.to_lowercase()), event_type);
    }
    assert_eq!(
        event_type_from_name("connection_test"),
        EventType::ConnectionTest
    );
    assert_eq!(event_type_from_name("NEW_THING"), EventType::Custom);
    assert_eq!(canonical_name(EventType::Custom), None);
}

#[test]
fn grpc_clients_and_servers_are_generated() {
    use std::any::type_name;
    let names = [
        type_name::<v1::event_bus_client::EventBusClient<()>>(),
        type_name::<v1::event_bus_server::EventBusServer<()>>(),
        type_name::<v1::resource_coordinator_client::ResourceCoordinatorClient<()>>(),
        type_name::<v1::resource_coordinator_server::ResourceCoordinatorServer<()>>(),
    ];
    assert!(names.iter().all(|n| n.contains("jimbot_schemas::v1")));
}
