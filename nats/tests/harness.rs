//! The harness runs real servers: single, restarted, and clustered.

use async_nats::jetstream::{self, stream};
use jimbot_nats::testing::{NatsCluster, NatsServer};

async fn publish_and_count(js: &jetstream::Context, subject: &str) -> u64 {
    js.publish(subject.to_owned(), "x".into())
        .await
        .expect("publish")
        .await
        .expect("ack");
    js.get_stream("T")
        .await
        .expect("stream")
        .info()
        .await
        .expect("info")
        .state
        .messages
}

#[tokio::test]
async fn single_server_starts_with_jetstream_and_cleans_up() {
    let server = NatsServer::start().await.expect("start");
    let store = server.store_dir().to_path_buf();
    let js = jetstream::new(server.connect().await);
    js.create_stream(stream::Config {
        name: "T".into(),
        subjects: vec!["t.>".into()],
        ..Default::default()
    })
    .await
    .expect("create stream");
    assert_eq!(publish_and_count(&js, "t.a").await, 1);
    assert!(store.exists());
    drop(server);
    assert!(!store.exists(), "store directory removed on drop");
}

#[tokio::test]
async fn restart_keeps_port_and_stored_messages() {
    let mut server = NatsServer::start().await.expect("start");
    let port = server.port();
    {
        let js = jetstream::new(server.connect().await);
        js.create_stream(stream::Config {
            name: "T".into(),
            subjects: vec!["t.>".into()],
            ..Default::default()
        })
        .await
        .expect("create stream");
        assert_eq!(publish_and_count(&js, "t.a").await, 1);
    }
    server.stop().await;
    assert!(!server.is_running());
    assert!(
        async_nats::ConnectOptions::new()
            .max_reconnects(Some(0))
            .connect(server.url())
            .await
            .is_err(),
        "server is down while stopped"
    );
    server.restart().await.expect("restart");
    assert_eq!(server.port(), port);
    let js = jetstream::new(server.connect().await);
    assert_eq!(
        publish_and_count(&js, "t.b").await,
        2,
        "message from before the restart kept"
    );
}

#[tokio::test]
async fn cluster_replicates_and_survives_a_node_loss() {
    let mut cluster = NatsCluster::start().await.expect("cluster");
    assert_eq!(cluster.nodes().len(), 3);
    let client = async_nats::connect(cluster.server_addrs())
        .await
        .expect("connect");
    let js = jetstream::new(client);
    js.create_stream(stream::Config {
        name: "T".into(),
        subjects: vec!["t.>".into()],
        num_replicas: 3,
        ..Default::default()
    })
    .await
    .expect("R3 stream needs three nodes");
    assert_eq!(publish_and_count(&js, "t.a").await, 1);

    // Kill a node that is not the one we are talking to, then keep writing.
    cluster.node_mut(2).kill();
    let client = async_nats::connect(cluster.nodes()[0].url())
        .await
        .expect("connect");
    let js = jetstream::new(client);
    let mut count = 0;
    for _ in 0..100 {
        // Leadership may move; JetStream answers again within seconds.
        if let Ok(ack) = js.publish("t.b", "x".into()).await
            && ack.await.is_ok()
        {
            count = js
                .get_stream("T")
                .await
                .expect("stream")
                .info()
                .await
                .expect("info")
                .state
                .messages;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(count, 2, "two of three nodes keep the stream writable");

    cluster.node_mut(2).restart().await.expect("node rejoins");
    let client = async_nats::connect(cluster.nodes()[2].url())
        .await
        .expect("connect");
    let info = jetstream::new(client)
        .get_stream("T")
        .await
        .expect("stream")
        .info()
        .await
        .expect("info")
        .clone();
    assert_eq!(info.config.num_replicas, 3);
}
