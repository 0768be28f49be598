//! A queued request redelivered after its answer was sent (the coordinator
//! died before acknowledging it) gets the same answer again, even once its
//! lease is released: it is never granted twice.

mod common;

use std::time::{Duration, Instant};

use async_nats::{
    HeaderMap,
    jetstream::{self, AckKind, consumer::PullConsumer},
};
use common::*;
use futures::StreamExt;
use jimbot_nats::{Topology, testing::NatsServer};
use jimbot_schemas::v1::{self, Priority};
use prost::Message as _;

const CONFIG: &str = "[cpu]\ncores = 2\n";

async fn queue(js: &jetstream::Context, reply_to: &str, request: &v1::AcquireRequest) -> u64 {
    let mut headers = HeaderMap::new();
    headers.insert("Jimbot-Reply-To", reply_to);
    js.publish_with_headers(
        "jimbot.coordinator.queue.acquire",
        headers,
        request.encode_to_vec().into(),
    )
    .await
    .expect("publish")
    .await
    .expect("stored in the queue")
    .sequence
}

/// Waits until the bucket holds no recorded answer for `sequence`.
async fn answer_dropped(kv: &jetstream::kv::Store, sequence: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while kv
        .get(format!("answered.{sequence}"))
        .await
        .expect("read")
        .is_some()
    {
        assert!(Instant::now() < deadline, "answer to {sequence} kept");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_request_redelivered_after_its_answer_gets_that_answer_not_a_second_lease() {
    let server = NatsServer::start().await.expect("nats");
    let nats = server.connect().await;
    let js = jetstream::new(nats.clone());
    let mut replies = nats.subscribe("test.replies").await.unwrap();
    nats.flush().await.unwrap();
    let mut request = acquire("cpu", 1, Priority::High, "trainer");
    request.lease_duration = secs(600);
    request.request_id = "job-1".to_owned();

    let mut first = start(&server, CONFIG).await;
    let kv = js
        .get_key_value("coordinator-leases")
        .await
        .expect("bucket");
    let sequence = queue(&js, "test.replies", &request).await;
    let reply = replies.next().await.expect("answered");
    let lease = granted(&v1::AcquireResponse::decode(reply.payload.clone()).unwrap());
    answer_dropped(&kv, sequence).await;
    first
        .grpc
        .release(v1::ReleaseRequest {
            lease_id: lease.lease_id.clone(),
            holder: "trainer".to_owned(),
        })
        .await
        .unwrap();
    drop(first);
    let spec = Topology::coordinator_requests_consumer();
    let mut consumer: PullConsumer = js
        .get_stream(&spec.stream)
        .await
        .unwrap()
        .get_consumer(spec.name())
        .await
        .unwrap();
    // The killed coordinator's pull requests stay with the server until it
    // notices the connection gone; a request queued before that would be
    // delivered to them, and lost to this test's own fetch.
    let deadline = Instant::now() + Duration::from_secs(20);
    while consumer.info().await.unwrap().num_waiting > 0 {
        assert!(
            Instant::now() < deadline,
            "the first coordinator's pulls linger"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // What a coordinator killed between sending the answer and acknowledging
    // the request leaves behind: the request delivered once, unacknowledged,
    // and its recorded answer. The caller resends with the same request id.
    let sequence = queue(&js, "test.replies", &request).await;
    let mut delivered = consumer.fetch().max_messages(1).messages().await.unwrap();
    let message = delivered.next().await.expect("delivered").unwrap();
    assert_eq!(message.info().unwrap().stream_sequence, sequence);
    kv.put(format!("answered.{sequence}"), reply.payload.clone())
        .await
        .unwrap();
    message.ack_with(AckKind::Nak(None)).await.unwrap();

    let mut second = start(&server, CONFIG).await;
    let again = tokio::time::timeout(Duration::from_secs(20), replies.next())
        .await
        .expect("answered again")
        .expect("reply");
    assert_eq!(again.payload, reply.payload, "the answer already sent");
    answer_dropped(&kv, sequence).await;
    let status = resource(&mut second.grpc, "cpu").await;
    assert_eq!(
        (status.allocated, status.leases.len()),
        (0, 0),
        "nothing granted twice"
    );
}
