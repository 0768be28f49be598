//! Provisioning against a real server: idempotent, updating, refusing.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use jimbot_nats::{
    Outcome, ProvisionErrorKind, Readiness, Topology, TopologyOptions,
    provision::{ResourceKind, provision},
    subject,
    testing::{NatsCluster, NatsServer},
    topology::streams,
};

async fn stream_info(js: &jetstream::Context, name: &str) -> stream::Info {
    js.get_stream(name)
        .await
        .expect("stream")
        .info()
        .await
        .expect("info")
        .clone()
}

#[tokio::test]
async fn provisioning_twice_changes_nothing_the_second_time() {
    let server = NatsServer::start().await.expect("start");
    let js = jetstream::new(server.connect().await);
    let topology = Topology::standard(&TopologyOptions::default());

    let first = provision(&js, &topology).await.expect("first provisioning");
    assert!(
        first
            .outcomes
            .iter()
            .all(|(_, _, o)| *o == Outcome::Created),
        "{first:?}"
    );
    assert_eq!(first.outcomes.len(), topology.streams.len() + 2);

    let second = provision(&js, &topology)
        .await
        .expect("second provisioning");
    assert!(second.is_unchanged(), "{second:?}");

    let info = stream_info(&js, streams::GAME_EVENTS).await;
    assert_eq!(info.config.subjects, vec!["jimbot.game.>".to_owned()]);
    assert_eq!(info.config.duplicate_window, Duration::from_secs(120));
    assert_eq!(info.config.discard, stream::DiscardPolicy::New);
    let commands = stream_info(&js, streams::COMMANDS).await;
    assert_eq!(
        commands.config.retention,
        stream::RetentionPolicy::WorkQueue
    );
    js.get_key_value("coordinator-leases")
        .await
        .expect("bucket exists");
}

#[tokio::test]
async fn changed_limits_are_updated_in_place() {
    let server = NatsServer::start().await.expect("start");
    let js = jetstream::new(server.connect().await);
    provision(&js, &Topology::standard(&TopologyOptions::default()))
        .await
        .expect("provision");

    let options = TopologyOptions {
        game_events_max_age: Duration::from_secs(3600),
        ..TopologyOptions::default()
    };
    let report = provision(&js, &Topology::standard(&options))
        .await
        .expect("update");
    let updated: Vec<_> = report
        .outcomes
        .iter()
        .filter(|(_, _, o)| *o != Outcome::Unchanged)
        .collect();
    assert_eq!(updated.len(), 1, "{report:?}");
    let (kind, name, outcome) = updated[0];
    assert_eq!(
        (*kind, name.as_str()),
        (ResourceKind::Stream, streams::GAME_EVENTS)
    );
    let Outcome::Updated(differences) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(differences.len(), 1);
    assert_eq!(differences[0].field, "max_age");

    let info = stream_info(&js, streams::GAME_EVENTS).await;
    assert_eq!(info.config.max_age, Duration::from_secs(3600));
}

#[tokio::test]
async fn unchangeable_difference_is_a_clear_conflict() {
    let server = NatsServer::start().await.expect("start");
    let js = jetstream::new(server.connect().await);
    // Someone created COMMANDS by hand with the wrong retention.
    js.create_stream(stream::Config {
        name: streams::COMMANDS.into(),
        subjects: vec!["jimbot.commands.>".into()],
        retention: stream::RetentionPolicy::Limits,
        ..Default::default()
    })
    .await
    .expect("create");

    let err = provision(&js, &Topology::standard(&TopologyOptions::default()))
        .await
        .expect_err("retention cannot change");
    assert_eq!(err.kind(), ProvisionErrorKind::Conflict);
    assert!(
        err.differences().iter().any(|d| d.field == "retention"),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("COMMANDS") && message.contains("retention"),
        "{message}"
    );
}

#[tokio::test]
async fn readiness_follows_connection_and_streams() {
    let mut server = NatsServer::start().await.expect("start");
    let client = server.connect().await;
    let topology = Topology::standard(&TopologyOptions::default());
    let readiness = Readiness::new(client.clone(), &topology);

    let problems = readiness
        .check()
        .await
        .expect_err("nothing provisioned yet");
    assert!(
        problems.iter().any(|p| p.contains("GAME_EVENTS")),
        "{problems:?}"
    );

    provision(&jetstream::new(client.clone()), &topology)
        .await
        .expect("provision");
    readiness.check().await.expect("ready once provisioned");

    server.kill();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        readiness.check().await.is_err(),
        "not ready while NATS is down"
    );

    server.restart().await.expect("restart");
    let mut ready = false;
    for _ in 0..100 {
        if readiness.check().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "ready again after the client reconnects by itself");
}

#[tokio::test]
async fn cluster_topology_uses_three_replicas() {
    let cluster = NatsCluster::start().await.expect("cluster");
    let client = async_nats::connect(cluster.server_addrs())
        .await
        .expect("connect");
    let js = jetstream::new(client);
    let topology = Topology::standard(&TopologyOptions {
        replicas: 3,
        ..Default::default()
    });
    provision(&js, &topology).await.expect("provision R3");
    assert!(
        provision(&js, &topology)
            .await
            .expect("again")
            .is_unchanged()
    );
    let info = stream_info(&js, streams::GAME_EVENTS).await;
    assert_eq!(info.config.num_replicas, 3);
    assert_eq!(info.cluster.expect("cluster info").replicas.len(), 2);
}

#[test]
fn streams_do_not_overlap_and_never_capture_requests() {
    let topology = Topology::standard(&TopologyOptions::default());
    let filters: Vec<(&str, &str)> = topology
        .streams
        .iter()
        .flat_map(|s| {
            s.subjects
                .iter()
                .map(move |f| (s.name.as_str(), f.as_str()))
        })
        .collect();
    for (i, (a_name, a)) in filters.iter().enumerate() {
        assert!(
            !subject::overlaps(a, &subject::rpc_all()),
            "{a_name} captures requests"
        );
        for (b_name, b) in &filters[i + 1..] {
            assert!(!subject::overlaps(a, b), "{a_name} and {b_name} overlap");
        }
    }
}

#[tokio::test]
async fn a_long_dedup_window_applies_to_game_events_only() {
    let server = NatsServer::start().await.expect("start");
    let js = jetstream::new(server.connect().await);
    let options = TopologyOptions {
        duplicate_window: Duration::from_secs(2 * 3600),
        ..TopologyOptions::default()
    };
    // COMMANDS keeps messages for an hour: a 2 h window there would be refused.
    provision(&js, &Topology::standard(&options))
        .await
        .expect("provision");
    let window = async |name: &str| stream_info(&js, name).await.config.duplicate_window;
    assert_eq!(
        window(streams::GAME_EVENTS).await,
        Duration::from_secs(2 * 3600)
    );
    assert_eq!(window(streams::COMMANDS).await, Duration::from_secs(120));
}

#[tokio::test]
async fn commands_past_the_per_session_limit_are_refused_not_evicted() {
    let server = NatsServer::start().await.expect("start");
    let js = jetstream::new(server.connect().await);
    provision(&js, &Topology::standard(&TopologyOptions::default()))
        .await
        .expect("provision");
    let info = stream_info(&js, streams::COMMANDS).await;
    assert!(info.config.discard_new_per_subject);
    assert_eq!(info.config.max_messages_per_subject, 1000);
}

#[tokio::test]
async fn updates_keep_settings_the_topology_does_not_declare() {
    let server = NatsServer::start().await.expect("start");
    let js = jetstream::new(server.connect().await);
    provision(&js, &Topology::standard(&TopologyOptions::default()))
        .await
        .expect("provision");
    // An operator turned on compression by hand.
    let mut config = stream_info(&js, streams::GAME_EVENTS).await.config;
    config.compression = Some(stream::Compression::S2);
    js.update_stream(config).await.expect("operator update");

    let options = TopologyOptions {
        game_events_max_age: Duration::from_secs(7 * 24 * 3600),
        ..TopologyOptions::default()
    };
    let report = provision(&js, &Topology::standard(&options))
        .await
        .expect("update");
    assert!(!report.is_unchanged());
    let info = stream_info(&js, streams::GAME_EVENTS).await;
    assert_eq!(info.config.max_age, Duration::from_secs(7 * 24 * 3600));
    assert_eq!(
        info.config.compression,
        Some(stream::Compression::S2),
        "undeclared setting kept"
    );
}
