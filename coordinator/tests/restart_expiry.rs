//! A lease that expired under one coordinator is still `EXPIRED` to the
//! next ones, although its key was deleted: released or unknown leases stay
//! `NOT_FOUND`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use jimbot_nats::testing::NatsServer;
use jimbot_schemas::v1::{self, LeaseFailureReason, Priority};

const CONFIG: &str = "[cpu]\ncores = 4\n";

fn renew(lease: &v1::Lease) -> v1::RenewRequest {
    v1::RenewRequest {
        lease_id: lease.lease_id.clone(),
        holder: lease.holder.clone(),
        lease_duration: None,
    }
}

fn release(lease: &v1::Lease) -> v1::ReleaseRequest {
    v1::ReleaseRequest {
        lease_id: lease.lease_id.clone(),
        holder: lease.holder.clone(),
    }
}

/// Waits until the key of `lease` is gone from the bucket.
async fn deleted(kv: &async_nats::jetstream::kv::Store, lease: &v1::Lease) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while kv
        .get(format!("lease.{}", lease.lease_id))
        .await
        .expect("read")
        .is_some()
    {
        assert!(Instant::now() < deadline, "{} not deleted", lease.lease_id);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn renew_and_release_fail(c: &mut Coordinator, lease: &v1::Lease) -> [LeaseFailureReason; 2] {
    let renewed = c.grpc.renew(renew(lease)).await.unwrap().into_inner();
    let released = c.grpc.release(release(lease)).await.unwrap().into_inner();
    [renew_failure(&renewed), release_failure(&released)]
}

#[tokio::test]
async fn a_lease_that_expired_before_a_restart_is_expired_not_unknown_after_it() {
    let server = NatsServer::start().await.expect("nats");
    let mut first = start(&server, CONFIG).await;
    // Provisioned by the coordinator at its start.
    let kv = async_nats::jetstream::new(server.connect().await)
        .get_key_value("coordinator-leases")
        .await
        .expect("bucket");
    let mut short = acquire("cpu", 1, Priority::High, "trainer");
    short.lease_duration = millis(50);
    let expired = granted(&first.grpc.acquire(short).await.unwrap().into_inner());
    let released = granted(
        &first
            .grpc
            .acquire(acquire("cpu", 1, Priority::High, "strategist"))
            .await
            .unwrap()
            .into_inner(),
    );
    first.grpc.release(release(&released)).await.unwrap();
    // Expires while no coordinator runs.
    let mut later = acquire("cpu", 1, Priority::High, "explorer");
    later.lease_duration = secs(1);
    let expired_offline = granted(&first.grpc.acquire(later).await.unwrap().into_inner());
    deleted(&kv, &expired).await;
    deleted(&kv, &released).await;
    drop(first); // SIGKILL
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // The second one expires the lease it finds past due at start ...
    let mut second = start(&server, CONFIG).await;
    assert_eq!(
        renew_and_release_fail(&mut second, &expired).await,
        [LeaseFailureReason::Expired; 2],
        "expired under the first coordinator"
    );
    assert_eq!(
        renew_and_release_fail(&mut second, &released).await,
        [LeaseFailureReason::NotFound; 2],
        "released: no such lease"
    );
    deleted(&kv, &expired_offline).await;
    drop(second);

    // ... and the third one still knows it expired.
    let mut third = start(&server, CONFIG).await;
    for lease in [&expired, &expired_offline] {
        assert_eq!(
            renew_and_release_fail(&mut third, lease).await,
            [LeaseFailureReason::Expired; 2],
            "{}",
            lease.lease_id
        );
    }
    let mut never = released.clone();
    never.lease_id = "l-999999".to_owned();
    assert_eq!(
        renew_and_release_fail(&mut third, &never).await,
        [LeaseFailureReason::NotFound; 2]
    );
    assert_eq!(resource(&mut third.grpc, "cpu").await.allocated, 0);
}
