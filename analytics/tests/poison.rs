//! A message that cannot be decoded is terminated and dead-lettered with its
//! reason, while the messages around it are applied.

mod common;

use async_nats::{HeaderMap, header::NATS_MESSAGE_ID, jetstream::consumer::PullConsumer};
use bytes::Bytes;
use common::Harness;
use futures::StreamExt as _;
use jimbot_schemas::v1;
use prost::Message as _;

/// Not a protobuf message (an invalid tag and wire type).
const POISON: &[u8] = b"\xff\xfe not protobuf";

fn game_state(ante: f64, round: f64, initial: bool) -> Bytes {
    let event = v1::Event {
        event_id: format!("e-{ante}-{round}"),
        r#type: v1::EventType::GameState.into(),
        type_name: "GAME_STATE".to_owned(),
        session: "s1".to_owned(),
        client_timestamp_ms: Some(1000.0 + round),
        initial: initial.then_some(true),
        payload: Some(v1::event::Payload::GameState(v1::GameState {
            in_game: Some(true),
            game_id: Some("unknown".to_owned()),
            ante: Some(ante),
            round: Some(round),
            game_state: Some("UNKNOWN_STATE_1".to_owned()),
            ..Default::default()
        })),
        ..Default::default()
    };
    Bytes::from(event.encode_to_vec())
}

fn headers(id: &str, message_type: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(NATS_MESSAGE_ID, id);
    headers.insert("Content-Type", "application/protobuf");
    headers.insert("Jimbot-Message-Type", message_type);
    headers
}

#[tokio::test]
async fn poison_is_terminated_and_dead_lettered_while_its_neighbours_are_applied() {
    let harness = Harness::start().await;
    let subject = "jimbot.game.s1.game_state";
    let messages = [
        (game_state(1.0, 1.0, true), headers("1", "jimbot.v1.Event")),
        (Bytes::from_static(POISON), headers("2", "jimbot.v1.Event")),
        (
            game_state(1.0, 2.0, false),
            headers("3", "jimbot.v1.Command"),
        ),
        (game_state(1.0, 3.0, false), headers("4", "jimbot.v1.Event")),
    ];
    for (payload, headers) in messages {
        harness
            .js
            .publish_with_headers(subject, headers, payload)
            .await
            .expect("publish")
            .await
            .expect("ack");
    }
    let consumer = harness.start_consumer().await;
    consumer.wait_applied(4).await;

    let reader = consumer.reader.clone();
    let summary = tokio::task::spawn_blocking(move || reader.summary())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.dead_letters, 2);
    assert_eq!(summary.events_by_type.get("GAME_STATE"), Some(&2));
    assert_eq!(summary.runs, 1, "the events around the poison made one run");
    let reader = consumer.reader.clone();
    let run = tokio::task::spawn_blocking(move || reader.run(jimbot_analytics::domain::RunId(1)))
        .await
        .unwrap()
        .unwrap()
        .expect("run 1");
    assert_eq!(
        (run.run.first_seq, run.run.last_seq, run.run.final_round),
        (1, 4, 3)
    );

    // Both are in DEAD_LETTER with the reason and where they came from.
    let dead = harness.js.get_stream("DEAD_LETTER").await.expect("stream");
    let reader: PullConsumer = dead
        .create_consumer(async_nats::jetstream::consumer::pull::Config::default())
        .await
        .expect("reader");
    let mut letters = reader
        .fetch()
        .max_messages(10)
        .messages()
        .await
        .expect("fetch");
    let mut found = Vec::new();
    while let Some(Ok(letter)) = letters.next().await {
        let h = letter.headers.clone().expect("headers");
        found.push((
            letter.subject.to_string(),
            h.get("Jimbot-Reason").map(|v| v.to_string()),
            h.get("Jimbot-Stream-Sequence").map(|v| v.to_string()),
            h.get("Jimbot-Subject").map(|v| v.to_string()),
            letter.payload.len(),
        ));
    }
    found.sort();
    assert_eq!(
        found,
        vec![
            (
                "jimbot.deadletter.analytics_not_protobuf".to_owned(),
                Some("analytics_not_protobuf".to_owned()),
                Some("2".to_owned()),
                Some(subject.to_owned()),
                POISON.len(),
            ),
            (
                "jimbot.deadletter.analytics_wrong_message_type".to_owned(),
                Some("analytics_wrong_message_type".to_owned()),
                Some("3".to_owned()),
                Some(subject.to_owned()),
                game_state(1.0, 2.0, false).len(),
            ),
        ]
    );

    // Nothing is left pending or waiting for redelivery: the poison was
    // terminated, not left to block the stream.
    let mut durable: PullConsumer = harness
        .js
        .get_stream("GAME_EVENTS")
        .await
        .expect("stream")
        .get_consumer("analytics")
        .await
        .expect("consumer");
    let info = durable.info().await.expect("info");
    assert_eq!(
        (info.num_pending, info.num_ack_pending, info.num_redelivered),
        (0, 0, 0)
    );
    consumer.abort().await;
}
