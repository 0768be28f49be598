//! `jimbot.v1.EventBus` over a real gRPC connection: the REST ingest's
//! semantics, live subscriptions that clean up after themselves, replay, and
//! precise errors for bad requests.

mod common;

use std::time::Duration;

use common::{TestApp, fixture, spawn_app, spawn_app_with};
use futures::StreamExt as _;
use jimbot_gateway::config::Settings;
use jimbot_schemas::{
    balatro,
    v1::{self, EventType, publish_result::Outcome},
};
use tonic::Code;
use tonic_types::StatusExt as _;

fn typed(event_id: &str, event_type: EventType) -> v1::Event {
    v1::Event {
        event_id: event_id.to_owned(),
        r#type: event_type.into(),
        client_timestamp_ms: Some(1_751_439_161_000.0),
        ..Default::default()
    }
}

fn publish_typed(session: &str, event: v1::Event) -> v1::PublishRequest {
    v1::PublishRequest {
        session: session.to_owned(),
        body: Some(v1::publish_request::Body::Event(event)),
    }
}

fn mod_batch(session: &str, body: Vec<u8>) -> v1::PublishBatchRequest {
    v1::PublishBatchRequest {
        session: session.to_owned(),
        body: Some(v1::publish_batch_request::Body::ModJson(body.into())),
    }
}

fn violations(status: &tonic::Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn publish_stores_once_and_reports_duplicates() {
    let app = spawn_app().await;
    let mut grpc = app.grpc().await;

    let request = publish_typed("g", typed("e-1", EventType::Heartbeat));
    let first = grpc
        .publish(request.clone())
        .await
        .expect("publish")
        .into_inner();
    let result = first.result.expect("result");
    assert_eq!(result.event_id, "e-1");
    assert_eq!(result.msg_id, "g:e-1:1751439161000");
    let Some(Outcome::Stored(stored)) = result.outcome else {
        panic!("stored: {result:?}");
    };
    let again = grpc.publish(request).await.expect("publish").into_inner();
    let Some(Outcome::Duplicate(duplicate)) = again.result.unwrap().outcome else {
        panic!("a re-send is a duplicate");
    };
    assert_eq!(duplicate.sequence, stored.sequence);

    let events = app.events("g").await;
    assert_eq!(events.len(), 1);
    let (subject, event) = &events[0];
    assert_eq!(subject, "jimbot.game.g.heartbeat");
    assert_eq!(event.type_name, "HEARTBEAT");
    let rendered: serde_json::Value = serde_json::from_slice(&event.original_json).unwrap();
    assert_eq!(
        rendered["type"], "HEARTBEAT",
        "typed events get their JSON shape"
    );

    // The mod's JSON goes through the REST path.
    let body = fixture("single_connection_test.json");
    let reply = grpc
        .publish(v1::PublishRequest {
            session: String::new(),
            body: Some(v1::publish_request::Body::ModJson(body.into())),
        })
        .await
        .expect("publish")
        .into_inner();
    assert!(matches!(
        reply.result.unwrap().outcome,
        Some(Outcome::Stored(_))
    ));
    assert_eq!(
        app.events("default").await.len(),
        1,
        "empty session is default"
    );
}

#[tokio::test]
async fn publish_batch_reports_each_event_like_rest() {
    let app = spawn_app().await;
    let mut grpc = app.grpc().await;
    let body = fixture("batch_mixed.json");
    let expected = balatro::parse_batch(&body).unwrap();

    let reply = grpc
        .publish_batch(mod_batch("b", body.clone()))
        .await
        .expect("batch")
        .into_inner();
    assert_eq!(reply.results.len(), expected.events.len());
    assert_eq!(Some(reply.batch_id.clone()), expected.batch_id);
    for (i, result) in reply.results.iter().enumerate() {
        assert_eq!(result.index as usize, i);
        assert!(
            matches!(result.outcome, Some(Outcome::Stored(_))),
            "{result:?}"
        );
    }
    let again = grpc
        .publish_batch(mod_batch("b", body))
        .await
        .unwrap()
        .into_inner();
    assert!(
        again
            .results
            .iter()
            .all(|r| matches!(r.outcome, Some(Outcome::Duplicate(_))))
    );

    // A body that is not even lenient JSON is dead-lettered whole.
    let garbage = grpc
        .publish_batch(mod_batch("b", b"\x00not json".to_vec()))
        .await
        .unwrap()
        .into_inner();
    let dead = garbage.body_dead_lettered.expect("dead-lettered");
    assert_eq!(dead.reason(), v1::DeadLetterReason::InvalidBody);
    assert_eq!(dead.stream, "DEAD_LETTER");

    // Typed batches: every bad field is named.
    let batch = v1::EventBatch {
        batch_id: "tb".to_owned(),
        events: vec![
            typed("ok", EventType::Heartbeat),
            typed("no-type", EventType::Unspecified),
            v1::Event {
                client_timestamp_ms: Some(f64::NAN),
                ..typed("nan", EventType::Custom)
            },
        ],
        ..Default::default()
    };
    let status = grpc
        .publish_batch(v1::PublishBatchRequest {
            session: "b".to_owned(),
            body: Some(v1::publish_batch_request::Body::Batch(batch)),
        })
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&status),
        [
            "batch.events[1].type",
            "batch.events[2].type_name",
            "batch.events[2].client_timestamp_ms"
        ]
    );
    let stored = app.events("b").await.len();
    assert_eq!(
        stored,
        expected.events.len(),
        "nothing of a refused batch is stored"
    );

    let status = grpc
        .publish_batch(v1::PublishBatchRequest {
            session: "b".to_owned(),
            body: None,
        })
        .await
        .expect_err("no body");
    assert_eq!(violations(&status), ["body"]);
    let status = grpc
        .publish_batch(v1::PublishBatchRequest {
            session: "b".to_owned(),
            body: Some(v1::publish_batch_request::Body::Batch(
                v1::EventBatch::default(),
            )),
        })
        .await
        .expect_err("empty batch");
    assert_eq!(violations(&status), ["batch.events"]);
}

#[tokio::test]
async fn publish_is_unavailable_without_nats_and_exhausted_past_the_bound() {
    let app = spawn_app_with(Settings {
        max_in_flight: 2,
        ..Settings::default()
    })
    .await;
    let mut grpc = app.grpc().await;

    let held = app
        .state
        .in_flight()
        .clone()
        .acquire_many_owned(2)
        .await
        .unwrap();
    let status = grpc
        .publish(publish_typed("x", typed("a", EventType::Heartbeat)))
        .await
        .expect_err("no permits left");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    drop(held);
    grpc.publish(publish_typed("x", typed("a", EventType::Heartbeat)))
        .await
        .expect("permits are back");

    let mut server = app.server;
    server.stop().await;
    let status = grpc
        .publish(publish_typed("x", typed("b", EventType::Heartbeat)))
        .await
        .expect_err("NATS is down");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
}

/// Collects up to `n` events from a subscription, waiting at most 10 s.
async fn take<S>(stream: &mut S, n: usize) -> Vec<v1::StoredEvent>
where
    S: futures::Stream<Item = Result<v1::SubscribeResponse, tonic::Status>> + Unpin,
{
    let mut events = Vec::new();
    while events.len() < n {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("events arrive in time")
            .expect("stream open")
            .expect("event");
        events.push(next.event.expect("event"));
    }
    events
}

async fn post_batch(app: &TestApp, session: &str, file: &str) -> usize {
    let reply = app
        .post(&format!("/s/{session}/api/v1/events/batch"), fixture(file))
        .await;
    assert_eq!(reply.status, 202);
    reply.json()["totals"]["stored"].as_u64().unwrap() as usize
}

#[tokio::test]
async fn subscribe_from_new_sees_only_later_events_and_cleans_up() {
    let app = spawn_app().await;
    let mut grpc = app.grpc().await;
    let before = post_batch(&app, "sub", "batch_startup.json").await;

    let mut live = grpc
        .subscribe(v1::SubscribeRequest {
            filter: Some(v1::EventFilter {
                sessions: vec!["sub".to_owned()],
                ..Default::default()
            }),
            start_policy: v1::StartPolicy::New.into(),
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    let after = post_batch(&app, "sub", "batch_hand_scoring.json").await;
    post_batch(&app, "other", "batch_round_end.json").await;
    let events = take(&mut live, after).await;
    assert!(
        events.iter().all(|e| e.sequence > before as u64),
        "none from before"
    );
    assert!(
        events
            .iter()
            .all(|e| e.subject.starts_with("jimbot.game.sub."))
    );
    let sequences: Vec<u64> = events.iter().map(|e| e.sequence).collect();
    assert!(sequences.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(app.replay_consumers().await, 1);

    drop(live);
    app.wait_for_no_replay_consumers().await;
}

#[tokio::test]
async fn subscribe_from_a_sequence_sees_exactly_the_tail_filtered() {
    let app = spawn_app().await;
    let mut grpc = app.grpc().await;
    post_batch(&app, "t", "batch_startup.json").await;
    post_batch(&app, "u", "batch_startup.json").await;
    post_batch(&app, "t", "batch_hand_scoring.json").await;
    let stored = app.stored("GAME_EVENTS", "jimbot.game.t.").await;
    let start = stored[stored.len() / 2].sequence;
    let expected: Vec<u64> = stored
        .iter()
        .map(|m| m.sequence)
        .filter(|s| *s >= start)
        .collect();
    assert!(expected.len() >= 2 && expected.len() < stored.len());

    let mut tail = grpc
        .subscribe(v1::SubscribeRequest {
            filter: Some(v1::EventFilter {
                subject_pattern: "jimbot.game.T.*".to_owned(),
                ..Default::default()
            }),
            start_policy: v1::StartPolicy::Sequence.into(),
            start_sequence: start,
            ..Default::default()
        })
        .await
        .expect("subscribe")
        .into_inner();
    let got = take(&mut tail, expected.len()).await;
    assert_eq!(got.iter().map(|e| e.sequence).collect::<Vec<_>>(), expected);
    // Nothing more is pending: the next read waits.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), tail.next())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn replay_returns_the_stored_events_then_ends() {
    let app = spawn_app().await;
    let mut grpc = app.grpc().await;
    let body = fixture("edge_invalid_json_inf_nan.json");
    post_batch(&app, "r", "edge_invalid_json_inf_nan.json").await;
    post_batch(&app, "r", "batch_shop_purchase_unicode.json").await;
    let stored = app.events("r").await;

    let replay = grpc
        .replay(v1::ReplayRequest {
            scope: Some(v1::replay_request::Scope::Session("r".to_owned())),
            ..Default::default()
        })
        .await
        .expect("replay")
        .into_inner();
    let replayed: Vec<v1::StoredEvent> = replay
        .map(|r| r.expect("event").event.expect("event"))
        .collect()
        .await;
    assert_eq!(replayed.len(), stored.len());
    for (got, (subject, event)) in replayed.iter().zip(&stored) {
        assert_eq!(&got.subject, subject);
        // Compared encoded: the fixture's `nan` is not equal to itself.
        assert_eq!(
            got.event.as_ref().map(prost::Message::encode_to_vec),
            Some(prost::Message::encode_to_vec(event)),
            "the whole event, unchanged"
        );
    }
    let raw = balatro::parse_batch(&body).unwrap().events[0].raw.clone();
    assert_eq!(replayed[0].event.as_ref().unwrap().original_json, raw);

    // A sequence range, and a type filter.
    let (from, to) = (replayed[1].sequence, replayed[2].sequence);
    let ranged: Vec<u64> = grpc
        .replay(v1::ReplayRequest {
            scope: Some(v1::replay_request::Scope::Session("r".to_owned())),
            range: Some(v1::replay_request::Range::SequenceRange(
                v1::SequenceRange {
                    from_sequence: from,
                    to_sequence: to,
                },
            )),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .map(|r| r.unwrap().event.unwrap().sequence)
        .collect()
        .await;
    assert_eq!(ranged, [from, to]);
    app.wait_for_no_replay_consumers().await;
}

#[tokio::test]
async fn bad_stream_requests_are_refused_precisely() {
    let app = spawn_app_with(Settings {
        max_streams: 1,
        ..Settings::default()
    })
    .await;
    let mut grpc = app.grpc().await;
    post_batch(&app, "h", "batch_startup.json").await;

    let subscribe = |filter: v1::EventFilter| v1::SubscribeRequest {
        filter: Some(filter),
        ..Default::default()
    };
    for (pattern, why) in [
        ("jimbot.game.>.x", "> in the middle"),
        ("jimbot.game.a b", "space"),
        ("jimbot.commands.>", "outside game events"),
    ] {
        let status = grpc
            .subscribe(subscribe(v1::EventFilter {
                subject_pattern: pattern.to_owned(),
                ..Default::default()
            }))
            .await
            .expect_err(why);
        assert_eq!(status.code(), Code::InvalidArgument, "{why}");
        assert_eq!(violations(&status), ["subject_pattern"], "{why}");
    }
    let status = grpc
        .subscribe(subscribe(v1::EventFilter {
            event_types: vec![999],
            ..Default::default()
        }))
        .await
        .expect_err("unknown type");
    assert_eq!(violations(&status), ["filter.event_types"]);
    let status = grpc
        .subscribe(v1::SubscribeRequest {
            start_policy: v1::StartPolicy::Time.into(),
            ..Default::default()
        })
        .await
        .expect_err("time without a time");
    assert_eq!(violations(&status), ["start_time"]);

    let replay = |session: &str, range| v1::ReplayRequest {
        scope: Some(v1::replay_request::Scope::Session(session.to_owned())),
        range,
        ..Default::default()
    };
    let status = grpc
        .replay(replay("nobody", None))
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound);
    let inverted = Some(v1::replay_request::Range::SequenceRange(
        v1::SequenceRange {
            from_sequence: 9,
            to_sequence: 3,
        },
    ));
    let status = grpc
        .replay(replay("h", inverted))
        .await
        .expect_err("inverted");
    assert_eq!(violations(&status), ["to_seq"]);
    let status = grpc
        .replay(v1::ReplayRequest::default())
        .await
        .expect_err("no session");
    assert_eq!(violations(&status), ["session"]);

    // One stream allowed: the second is refused until the first ends.
    let first = grpc
        .subscribe(v1::SubscribeRequest::default())
        .await
        .expect("first stream");
    let status = grpc
        .subscribe(v1::SubscribeRequest::default())
        .await
        .expect_err("over the bound");
    assert_eq!(status.code(), Code::ResourceExhausted);
    drop(first);
    app.wait_for_no_replay_consumers().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match grpc.subscribe(v1::SubscribeRequest::default()).await {
            Ok(_) => break,
            Err(status) if status.code() == Code::ResourceExhausted => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "permit never returned"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    }
}
