//! The coordinator's timing (expiry, the Claude quota's hour, waits for a
//! call) on tokio's paused clock: time moves only by `tokio::time::advance`,
//! never by sleeping, while the leases still go through a real nats-server.
//!
//! Paused time and real I/O: a paused runtime advances its clock by itself
//! whenever it has nothing to do, including while it waits for a socket, so
//! a NATS round trip could let an hour pass. Tokio holds that auto-advance
//! back while a blocking task runs; [`FrozenClock`] keeps one running for
//! the whole test, so the clock is frozen and moves only when the test says.
//! The nats-server is started (and the topology provisioned) on a thread of
//! its own with a real-time runtime, because the harness polls it with
//! timers; the client used here has a ping interval longer than any jump.

use std::time::Duration;

use async_nats::jetstream;
use futures::StreamExt;
use jimbot_coordinator::{
    actor::Coordinator,
    config::ResourcesConfig,
    domain::{Ident, Priority},
    scheduler::{Acquire, DenialReason, Lease, LeaseFailureReason},
};
use jimbot_nats::{
    provision,
    testing::NatsServer,
    topology::{Topology, TopologyOptions},
};
use jimbot_service::Shutdown;

const HOUR: Duration = Duration::from_secs(3600);
/// One Claude call is replenished this often at 100 calls an hour.
const CALL: Duration = Duration::from_secs(36);

/// Holds tokio's auto-advance back while alive (see the module comment).
struct FrozenClock(Option<std::sync::mpsc::Sender<()>>);

impl FrozenClock {
    fn hold() -> Self {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        tokio::task::spawn_blocking(move || {
            // Returns when the sender is dropped.
            let _ = rx.recv();
        });
        Self(Some(tx))
    }
}

impl Drop for FrozenClock {
    fn drop(&mut self) {
        self.0.take();
    }
}

/// A nats-server with the topology provisioned, started on a real-time
/// runtime of its own.
fn nats_server() -> NatsServer {
    std::thread::spawn(|| {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime.block_on(async {
            let server = NatsServer::start().await.expect("nats-server");
            let js = jetstream::new(server.connect().await);
            provision(&js, &Topology::standard(&TopologyOptions::default()))
                .await
                .expect("provision");
            server
        })
    })
    .join()
    .expect("server thread")
}

/// The coordinator in this (paused) runtime, over `server`.
async fn coordinator(server: &NatsServer, config: &str) -> Coordinator {
    let client = async_nats::ConnectOptions::new()
        .ping_interval(100 * HOUR)
        .connect(server.url())
        .await
        .expect("connect");
    let js = jetstream::ContextBuilder::new()
        .timeout(100 * HOUR)
        .build(client);
    let config = ResourcesConfig::parse(config).expect("config");
    let (coordinator, task) = Coordinator::start(js, config, Shutdown::never());
    tokio::spawn(task);
    coordinator
}

fn request(resource: &str, priority: Priority, holder: &str) -> Acquire {
    Acquire {
        resource: resource.to_owned(),
        quantity: 1,
        priority,
        holder: Ident::parse(holder).expect("holder"),
        lease_duration: Duration::from_secs(60),
        wait_timeout: Duration::ZERO,
        request_id: None,
    }
}

async fn grant(c: &Coordinator, request: Acquire) -> Lease {
    c.acquire(request)
        .await
        .expect("answered")
        .expect("granted")
}

/// The denial's reason and retry-after.
async fn deny(c: &Coordinator, request: Acquire) -> (DenialReason, Option<Duration>) {
    let denial = c
        .acquire(request)
        .await
        .expect("answered")
        .expect_err("denied");
    (denial.reason, denial.retry_after)
}

async fn waiting(c: &Coordinator, resource: &str) -> u64 {
    let status = c.status(vec![resource.to_owned()]).await.expect("status");
    status.resources[0]
        .waiting
        .iter()
        .map(|&(_, requests, _)| requests)
        .sum()
}

/// `future`'s output, or `None` after `limit` of real time: tokio's own
/// timeout would never fire on the frozen clock.
async fn within<T>(limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        let _ = tx.send(());
    });
    tokio::select! {
        output = future => Some(output),
        _ = rx => None,
    }
}

/// How long a test may take in real time before it fails rather than hangs.
const REAL_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(start_paused = true)]
async fn a_lease_expires_exactly_at_its_expiry_and_its_capacity_goes_to_the_waiter() {
    within(REAL_LIMIT, async {
        let server = nats_server();
        let _frozen = FrozenClock::hold();
        let c = coordinator(&server, "[cpu]\ncores = 1\n").await;
        let nats = server.connect().await;
        let mut expiries = nats
            .subscribe("jimbot.coordinator.events.expired")
            .await
            .expect("subscribe");

        let held = grant(&c, request("cpu", Priority::High, "trainer")).await;
        assert_eq!(
            held.expires_at,
            held.granted_at.plus(Duration::from_secs(60))
        );
        let mut next = request("cpu", Priority::Low, "explorer");
        next.wait_timeout = Duration::from_secs(120);
        let waiter = tokio::spawn({
            let c = c.clone();
            async move { c.acquire(next).await }
        });
        while waiting(&c, "cpu").await == 0 {
            tokio::task::yield_now().await;
        }

        // A nanosecond before: still held, still renewable in principle.
        tokio::time::advance(Duration::from_secs(60) - Duration::from_nanos(1)).await;
        let status = c.status(vec!["cpu".to_owned()]).await.expect("status");
        assert_eq!(status.resources[0].leases, std::slice::from_ref(&held));
        assert_eq!(waiting(&c, "cpu").await, 1);

        tokio::time::advance(Duration::from_nanos(1)).await;
        let next = waiter
            .await
            .expect("task")
            .expect("answered")
            .expect("granted at the expiry");
        assert_eq!(next.granted_at, held.expires_at, "not a moment later");
        let renewed = c
            .renew(held.id, held.holder.clone(), None)
            .await
            .expect("answered");
        assert_eq!(
            renewed.expect_err("expired").reason,
            LeaseFailureReason::Expired
        );
        // The audit leaves in batches gathered for at most 2 ms.
        tokio::time::advance(Duration::from_millis(5)).await;
        let event = within(Duration::from_secs(5), expiries.next()).await;
        assert!(matches!(event, Some(Some(_))), "expiry audited");

        let kv = jetstream::new(nats)
            .get_key_value("coordinator-leases")
            .await
            .expect("bucket");
        assert_eq!(
            kv.get(format!("lease.{}", held.id)).await.expect("read"),
            None,
            "the expired lease is gone from the bucket"
        );
    })
    .await
    .expect("finished in time");
}

#[tokio::test(start_paused = true)]
async fn the_claude_quota_grants_100_an_hour_keeps_10_for_high_and_says_when_to_retry() {
    within(REAL_LIMIT, async {
        let server = nats_server();
        let _frozen = FrozenClock::hold();
        let c = coordinator(&server, "[claude_api]\ncalls_per_hour = 100\n").await;
        let call = |priority, holder: &str| request("claude_api", priority, holder);

        // A quiet start: the whole burst, but MEDIUM and LOW only down to the
        // reserve of 10.
        let first = grant(&c, call(Priority::Medium, "strategist")).await;
        let start = first.granted_at;
        for _ in 1..90 {
            grant(&c, call(Priority::Medium, "strategist")).await;
        }
        assert_eq!(
            deny(&c, call(Priority::Medium, "strategist")).await,
            (DenialReason::QuotaExhausted, Some(CALL)),
            "the 91st MEDIUM call: the reserve is HIGH's"
        );
        assert_eq!(
            deny(&c, call(Priority::Low, "explorer")).await.0,
            DenialReason::QuotaExhausted
        );
        for _ in 0..10 {
            grant(&c, call(Priority::High, "trainer")).await;
        }
        assert_eq!(
            deny(&c, call(Priority::High, "trainer")).await,
            (DenialReason::QuotaExhausted, Some(CALL)),
            "the 101st call: one is replenished every 36 s"
        );
        assert_eq!(
            deny(&c, call(Priority::Medium, "strategist")).await,
            (
                DenialReason::QuotaExhausted,
                Some(CALL * 11),
                // MEDIUM must wait until 11 calls are back: the reserve and its own.
            ),
        );

        // The next hour, at a sustained demand: exactly one call every 36 s,
        // 100 in the hour, and the next one a moment too early is refused.
        let mut granted = Vec::new();
        for step in 1..=100u32 {
            tokio::time::advance(CALL - Duration::from_millis(1)).await;
            assert_eq!(
                deny(&c, call(Priority::High, "trainer")).await,
                (DenialReason::QuotaExhausted, Some(Duration::from_millis(1))),
                "step {step}"
            );
            tokio::time::advance(Duration::from_millis(1)).await;
            granted.push(grant(&c, call(Priority::High, "trainer")).await.granted_at);
            assert_eq!(
                deny(&c, call(Priority::High, "trainer")).await.0,
                DenialReason::QuotaExhausted,
                "step {step}: one call, not two"
            );
        }
        assert_eq!(granted.len(), 100);
        assert_eq!(granted.last().copied(), Some(start.plus(HOUR)));
    })
    .await
    .expect("finished in time");
}

#[tokio::test(start_paused = true)]
async fn a_request_that_may_wait_gets_the_next_call_when_it_is_replenished() {
    within(REAL_LIMIT, async {
        let server = nats_server();
        let _frozen = FrozenClock::hold();
        let c = coordinator(
            &server,
            "[claude_api]\ncalls_per_hour = 100\nburst = 1\nhigh_reserve = 0\n",
        )
        .await;
        let first = grant(&c, request("claude_api", Priority::Medium, "a")).await;

        // The next call comes in 36 s: a 30 s wait is refused at once, a 60 s
        // wait is answered then.
        let mut short = request("claude_api", Priority::Medium, "b");
        short.wait_timeout = Duration::from_secs(30);
        assert_eq!(
            deny(&c, short).await,
            (DenialReason::QuotaExhausted, Some(CALL))
        );
        let mut long = request("claude_api", Priority::Medium, "c");
        long.wait_timeout = Duration::from_secs(60);
        let waiter = tokio::spawn({
            let c = c.clone();
            async move { c.acquire(long).await }
        });
        while waiting(&c, "claude_api").await == 0 {
            tokio::task::yield_now().await;
        }
        tokio::time::advance(CALL - Duration::from_millis(1)).await;
        assert_eq!(waiting(&c, "claude_api").await, 1, "not yet");
        tokio::time::advance(Duration::from_millis(1)).await;
        let lease = waiter
            .await
            .expect("task")
            .expect("answered")
            .expect("granted");
        assert_eq!(lease.granted_at, first.granted_at.plus(CALL));
    })
    .await
    .expect("finished in time");
}
