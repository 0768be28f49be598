//! `nats/config/permissions.conf`: each service's user can do its job (the
//! same JetStream calls and subjects its code uses) and is refused outside it.

#[path = "support/secure_server.rs"]
mod secure_server;

use std::time::Duration;

use async_nats::{
    HeaderMap,
    jetstream::{self, consumer::pull},
};
use futures::{StreamExt as _, TryStreamExt as _};
use jimbot_nats::{
    Topology, TopologyOptions, provision,
    topology::{buckets, consumers, streams},
};
use secure_server::{SecureServer, expect_violation, password};

fn topology() -> Topology {
    Topology::standard(&TopologyOptions::default())
}

/// Messages in `stream` (read as admin).
async fn count(server: &SecureServer, stream: &str) -> u64 {
    let js = jetstream::new(server.connect("admin").await);
    let mut stream = js.get_stream(stream).await.expect("stream");
    stream.info().await.expect("info").state.messages
}

/// A server whose topology the gateway has provisioned.
async fn provisioned() -> SecureServer {
    let server = SecureServer::start().await;
    let js = jetstream::new(server.connect("gateway").await);
    provision(&js, &topology())
        .await
        .expect("gateway provisions");
    server
}

#[tokio::test]
async fn every_service_user_provisions_the_topology() {
    let server = SecureServer::start().await;
    // Whichever service starts first creates everything; the others find it.
    for user in ["analytics", "gateway", "coordinator"] {
        let js = jetstream::new(server.connect(user).await);
        provision(&js, &topology())
            .await
            .unwrap_or_else(|e| panic!("{user}: {e}"));
    }
    // The coordinator's own consumer, created by the coordinator alone.
    let spec = Topology::coordinator_requests_consumer();
    let js = jetstream::new(server.connect("coordinator").await);
    js.get_stream(&spec.stream)
        .await
        .expect("stream")
        .get_or_create_consumer(spec.name(), spec.config.clone())
        .await
        .expect("coordinator's consumer");
}

#[tokio::test]
async fn no_service_can_delete_or_purge_a_stream() {
    let server = provisioned().await;
    for user in ["gateway", "analytics", "coordinator"] {
        let (client, mut errors) = server.connect_watching(user).await;
        let js = jetstream::ContextBuilder::new()
            .timeout(Duration::from_secs(1))
            .build(client);
        assert!(
            js.delete_stream(streams::GAME_EVENTS).await.is_err(),
            "{user}"
        );
        expect_violation(&mut errors, "$JS.API.STREAM.DELETE.GAME_EVENTS").await;
        let stream = js
            .get_stream(streams::GAME_EVENTS)
            .await
            .expect("info allowed");
        assert!(stream.purge().await.is_err(), "{user}");
        expect_violation(&mut errors, "$JS.API.STREAM.PURGE.GAME_EVENTS").await;
    }
    let admin = jetstream::new(server.connect("admin").await);
    admin
        .get_stream(streams::GAME_EVENTS)
        .await
        .expect("still there");
}

#[tokio::test]
async fn gateway_ingests_replays_and_queues_commands() {
    let server = provisioned().await;
    let js = jetstream::new(server.connect("gateway").await);
    for subject in [
        "jimbot.game.s1.game_state",
        "jimbot.deadletter.not_json",
        "jimbot.commands.s1",
    ] {
        js.publish(subject, "x".into())
            .await
            .expect("sent")
            .await
            .unwrap_or_else(|e| panic!("{subject}: {e}"));
    }

    // Replay: a short-lived consumer on GAME_EVENTS, and direct reads.
    let stream = js.get_stream(streams::GAME_EVENTS).await.expect("stream");
    let replay = stream
        .create_consumer(pull::Config {
            name: Some("replay-test".to_owned()),
            filter_subject: "jimbot.game.s1.>".to_owned(),
            ..Default::default()
        })
        .await
        .expect("replay consumer");
    let read: Vec<_> = replay
        .fetch()
        .max_messages(10)
        .expires(Duration::from_secs(1))
        .messages()
        .await
        .expect("fetch")
        .try_collect()
        .await
        .expect("messages");
    assert_eq!(read.len(), 1);
    stream
        .direct_get_last_for_subject("jimbot.game.s1.game_state")
        .await
        .expect("direct get");
    stream.delete_consumer("replay-test").await.expect("delete");

    // The command poll: a consumer per session on COMMANDS, acknowledged.
    let commands = js.get_stream(streams::COMMANDS).await.expect("stream");
    let poll = commands
        .create_consumer(pull::Config {
            durable_name: Some("poll-s1".to_owned()),
            filter_subject: "jimbot.commands.s1".to_owned(),
            ..Default::default()
        })
        .await
        .expect("poll consumer");
    let mut polled = poll
        .fetch()
        .max_messages(10)
        .messages()
        .await
        .expect("fetch");
    let command = polled.next().await.expect("one").expect("message");
    command.double_ack().await.expect("ack");
    assert_eq!(
        count(&server, streams::COMMANDS).await,
        0,
        "taken off the work queue"
    );
}

#[tokio::test]
async fn gateway_is_denied_outside_its_subjects() {
    let server = provisioned().await;
    let (client, mut errors) = server.connect_watching("gateway").await;

    // The coordinator's service and audit trail.
    client
        .publish("jimbot.coordinator.acquire", "x".into())
        .await
        .expect("sent");
    expect_violation(&mut errors, "jimbot.coordinator.acquire").await;
    client
        .publish("jimbot.coordinator.events.grant", "x".into())
        .await
        .expect("sent");
    expect_violation(&mut errors, "jimbot.coordinator.events.grant").await;
    assert_eq!(count(&server, streams::COORDINATOR).await, 0);

    // Analytics' consumer: no reading it.
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(1))
        .build(client.clone());
    let analytics: jetstream::consumer::PullConsumer = js
        .get_consumer_from_stream(consumers::ANALYTICS, streams::GAME_EVENTS)
        .await
        .expect("its info is readable (provisioning checks it)");
    let _ = analytics.fetch().max_messages(1).messages().await;
    expect_violation(
        &mut errors,
        "$JS.API.CONSUMER.MSG.NEXT.GAME_EVENTS.analytics",
    )
    .await;

    // Subscribing to the raw subjects (it reads through JetStream only).
    let _subscription = client.subscribe("jimbot.game.>").await.expect("sent");
    expect_violation(&mut errors, "jimbot.game.>").await;
}

#[tokio::test]
async fn analytics_consumes_and_is_denied_outside_its_subjects() {
    let server = provisioned().await;
    let gateway = jetstream::new(server.connect("gateway").await);
    for n in 0..3 {
        gateway
            .publish(format!("jimbot.game.s1.e{n}"), "x".into())
            .await
            .expect("sent")
            .await
            .expect("stored");
    }

    let (client, mut errors) = server.connect_watching("analytics").await;
    let js = jetstream::new(client.clone());
    let consumer: jetstream::consumer::PullConsumer = js
        .get_consumer_from_stream(consumers::ANALYTICS, streams::GAME_EVENTS)
        .await
        .expect("consumer");
    let mut messages = consumer
        .fetch()
        .max_messages(3)
        .messages()
        .await
        .expect("fetch");
    let mut acked = 0;
    while let Some(message) = messages.next().await {
        message.expect("message").double_ack().await.expect("ack");
        acked += 1;
    }
    assert_eq!(acked, 3);
    // Gap reads go through the stream leader.
    js.get_stream(streams::GAME_EVENTS)
        .await
        .expect("stream")
        .get_raw_message(1)
        .await
        .expect("message get");
    js.publish("jimbot.deadletter.undecodable", "x".into())
        .await
        .expect("sent")
        .await
        .expect("dead letter stored");

    client
        .publish("jimbot.game.s1.forged", "x".into())
        .await
        .expect("sent");
    expect_violation(&mut errors, "jimbot.game.s1.forged").await;
    client
        .publish("jimbot.commands.s1", "x".into())
        .await
        .expect("sent");
    expect_violation(&mut errors, "jimbot.commands.s1").await;
    assert_eq!(count(&server, streams::GAME_EVENTS).await, 3);
    assert_eq!(count(&server, streams::COMMANDS).await, 0);
}

#[tokio::test]
async fn coordinator_serves_keeps_leases_and_is_denied_outside_its_subjects() {
    let server = provisioned().await;
    let (client, mut errors) = server.connect_watching("coordinator").await;
    let js = jetstream::new(client.clone());

    // The request/reply endpoint, answered to whoever asked.
    let mut endpoint = client
        .queue_subscribe("jimbot.coordinator.acquire", "q".to_owned())
        .await
        .expect("subscribe");
    client.flush().await.expect("flush");
    let responder = client.clone();
    tokio::spawn(async move {
        if let Some(request) = endpoint.next().await
            && let Some(reply) = request.reply
        {
            responder
                .publish(reply, "granted".into())
                .await
                .expect("reply");
        }
    });
    let admin = server.connect("admin").await;
    let answer = tokio::time::timeout(
        Duration::from_secs(5),
        admin.request("jimbot.coordinator.acquire", "x".into()),
    )
    .await
    .expect("answered in time")
    .expect("answer");
    assert_eq!(&answer.payload[..], b"granted");

    // Leases in the key-value bucket.
    let kv = js
        .get_key_value(buckets::COORDINATOR_LEASES)
        .await
        .expect("bucket");
    kv.put("gpu.lease-1", "held".into()).await.expect("put");
    let entry = kv
        .entry("gpu.lease-1")
        .await
        .expect("read")
        .expect("present");
    assert_eq!(&entry.value[..], b"held");
    let keys: Vec<String> = kv
        .keys()
        .await
        .expect("keys")
        .try_collect()
        .await
        .expect("keys");
    assert_eq!(keys, ["gpu.lease-1"]);

    // The audit trail.
    js.publish("jimbot.coordinator.events.grant", "x".into())
        .await
        .expect("sent")
        .await
        .expect("stored");

    // A queued request, answered to its inbox and acknowledged.
    let mut headers = HeaderMap::new();
    headers.insert("Jimbot-Reply-To", "_INBOX.requester.1");
    let mut inbox = admin
        .subscribe("_INBOX.requester.1")
        .await
        .expect("subscribe");
    admin.flush().await.expect("flush");
    jetstream::new(admin.clone())
        .publish_with_headers("jimbot.coordinator.queue.acquire", headers, "x".into())
        .await
        .expect("sent")
        .await
        .expect("queued");
    let spec = Topology::coordinator_requests_consumer();
    let queue = js
        .get_stream(&spec.stream)
        .await
        .expect("stream")
        .get_or_create_consumer(spec.name(), spec.config.clone())
        .await
        .expect("consumer");
    let mut queued = queue
        .fetch()
        .max_messages(1)
        .messages()
        .await
        .expect("fetch");
    let request = queued.next().await.expect("one").expect("message");
    client
        .publish("_INBOX.requester.1", "answer".into())
        .await
        .expect("reply");
    request.double_ack().await.expect("ack");
    let answer = tokio::time::timeout(Duration::from_secs(5), inbox.next())
        .await
        .expect("in time")
        .expect("answer");
    assert_eq!(&answer.payload[..], b"answer");

    // Outside: game events, commands, other services' requests.
    for subject in [
        "jimbot.game.s1.forged",
        "jimbot.commands.s1",
        "jimbot.learning.x",
    ] {
        client.publish(subject, "x".into()).await.expect("sent");
        expect_violation(&mut errors, subject).await;
    }
    assert_eq!(count(&server, streams::GAME_EVENTS).await, 0);
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_are_refused() {
    let server = SecureServer::start().await;
    for (user, pass) in [
        ("gateway", "wrong".to_owned()),
        ("nobody", password("nobody")),
        ("admin", password("gateway")),
    ] {
        let refused = async_nats::ConnectOptions::with_user_and_password(user.to_owned(), pass)
            .max_reconnects(Some(0))
            .connect(server.url());
        let outcome = tokio::time::timeout(Duration::from_secs(10), refused)
            .await
            .expect("answered in time");
        assert!(outcome.is_err(), "{user} with a wrong password got in");
    }
    let anonymous = async_nats::ConnectOptions::new()
        .max_reconnects(Some(0))
        .connect(server.url())
        .await;
    assert!(anonymous.is_err(), "anonymous connections are refused");
}
