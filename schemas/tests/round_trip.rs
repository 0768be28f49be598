//! The typed model carries every field the mod sent: rendering the proto back
//! to the mod's JSON gives the original event (modulo the documented
//! normalisations), and protobuf encoding is lossless.

mod common;

use common::{FIXTURES, fixture, lenient_value, normalise};
use jimbot_schemas::balatro::{parse_batch, parse_single, to_mod_json};
use jimbot_schemas::v1;
use prost::Message;

fn all_events() -> Vec<(String, v1::Event)> {
    let mut out = Vec::new();
    for (name, single) in FIXTURES {
        let body = fixture(name);
        let parsed = if single {
            vec![parse_single(&body).unwrap()]
        } else {
            parse_batch(&body).unwrap().events
        };
        for p in parsed {
            out.push((format!("{name}#{}", p.index), p.result.unwrap()));
        }
    }
    out
}

#[test]
fn to_mod_json_gives_back_every_field_the_mod_sent() {
    let mut checked = 0;
    for (name, event) in all_events() {
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

#[test]
fn protobuf_encode_decode_is_lossless() {
    for (name, mut event) in all_events() {
        event.session = "s1".into();
        event.received_at = Some(prost_types::Timestamp {
            seconds: 1_751_439_161,
            nanos: 5,
        });
        let bytes = event.encode_to_vec();
        let decoded = v1::Event::decode(bytes.as_slice()).unwrap();
        // Compare encodings (NaN != NaN defeats PartialEq) and the rendering.
        assert_eq!(decoded.encode_to_vec(), bytes, "{name}");
        assert_eq!(
            normalise(to_mod_json(&decoded)),
            normalise(to_mod_json(&event)),
            "{name}"
        );
        assert_eq!(decoded.original_json, event.original_json);
        if !event.client_timestamp_ms.is_some_and(f64::is_nan) {
            assert_eq!(decoded.client_timestamp_ms, event.client_timestamp_ms);
        }
    }
}

#[test]
fn descriptor_set_is_exposed() {
    let set = prost_types::FileDescriptorSet::decode(jimbot_schemas::FILE_DESCRIPTOR_SET).unwrap();
    let names: Vec<_> = set.file.iter().filter_map(|f| f.name.as_deref()).collect();
    assert!(names.contains(&"jimbot/v1/event.proto"), "{names:?}");
    assert!(names.contains(&"jimbot/v1/event_bus.proto"));
    assert!(names.contains(&"jimbot/v1/coordinator.proto"));
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
        type_name::<v1::event_bus_service_client::EventBusServiceClient<()>>(),
        type_name::<v1::event_bus_service_server::EventBusServiceServer<()>>(),
        type_name::<v1::resource_coordinator_service_client::ResourceCoordinatorServiceClient<()>>(
        ),
        type_name::<v1::resource_coordinator_service_server::ResourceCoordinatorServiceServer<()>>(
        ),
    ];
    assert!(names.iter().all(|n| n.contains("jimbot_schemas::v1")));
}
