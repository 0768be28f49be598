//! The scheduling rules, exactly: explicit instants, no clock.

use std::time::Duration;

use super::*;
use crate::config::ResourcesConfig;

const SEC: Duration = Duration::from_secs(1);

fn at(ms: u64) -> At {
    At::from_unix(Duration::from_secs(1_800_000_000) + Duration::from_millis(ms))
}

fn config(text: &str) -> ResourcesConfig {
    ResourcesConfig::parse(text).unwrap()
}

fn scheduler() -> Scheduler {
    Scheduler::new(&config(
        "[cpu]\ncores = 4\n[memory]\nbudget = 1000\n[scheduling]\naging_step = \"10s\"\n\
         [gpu]\ntime_slice = \"100ms\"\ndevices = [{ memory = 600 }, { memory = 400 }]",
    ))
}

fn request(resource: &str, quantity: u64, priority: Priority, holder: &str) -> Acquire {
    Acquire {
        resource: resource.to_owned(),
        quantity,
        priority,
        holder: Ident::parse(holder).unwrap(),
        lease_duration: 60 * SEC,
        wait_timeout: 60 * SEC,
        request_id: None,
    }
}

fn ident(s: &str) -> Ident {
    Ident::parse(s).unwrap()
}

/// (ticket, lease) of every grant among the effects.
fn grants(effects: &[Effect]) -> Vec<(Ticket, Lease)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Granted { tickets, lease, .. } => Some((tickets[0], lease.clone())),
            _ => None,
        })
        .collect()
}

fn denials(effects: &[Effect]) -> Vec<(Ticket, Denial)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Denied {
                tickets, denial, ..
            } => Some((tickets[0], denial.clone())),
            _ => None,
        })
        .collect()
}

fn failure(effects: &[Effect]) -> LeaseFailureReason {
    match effects {
        [Effect::LeaseFailed { failure, .. }] => failure.reason,
        other => panic!("expected one failure, got {other:?}"),
    }
}

fn cpu(s: &Scheduler) -> ResourceStatus {
    s.status(&["cpu".to_owned()], at(0)).remove(0)
}

#[test]
fn contention_serves_high_then_medium_then_low_first_come_within() {
    let mut s = scheduler();
    s.acquire(0, request("cpu", 4, Priority::Low, "blocker"), at(0));
    let blocker = grants(&s.take_effects())[0].1.id;
    // Arrival order deliberately mixed.
    let arrivals = [
        (1, Priority::Low),
        (2, Priority::Medium),
        (3, Priority::High),
        (4, Priority::Low),
        (5, Priority::High),
        (6, Priority::Medium),
    ];
    for (ticket, priority) in arrivals {
        s.acquire(
            ticket,
            request("cpu", 4, priority, &format!("h{ticket}")),
            at(ticket),
        );
    }
    assert!(s.take_effects().is_empty(), "all wait");
    assert_eq!(
        cpu(&s).waiting,
        vec![
            (Priority::High, 2, 8),
            (Priority::Medium, 2, 8),
            (Priority::Low, 2, 8)
        ]
    );
    let mut order = Vec::new();
    let mut holding = (blocker, ident("blocker"));
    for step in 0..6 {
        let now = at(100 + step);
        s.release(100 + step, holding.0, &holding.1, now);
        let granted = grants(&s.take_effects());
        assert_eq!(granted.len(), 1, "one at a time: the whole CPU each");
        order.push(granted[0].0);
        holding = (granted[0].1.id, granted[0].1.holder.clone());
    }
    assert_eq!(order, vec![3, 5, 2, 6, 1, 4]);
}

#[test]
fn aging_lifts_a_starved_low_request_above_later_high_ones() {
    let mut s = scheduler();
    s.acquire(0, request("cpu", 4, Priority::High, "blocker"), at(0));
    let mut holding = grants(&s.take_effects())[0].1.clone();
    s.acquire(1, request("cpu", 4, Priority::Low, "starved"), at(0));
    // A steady stream of HIGH requests, each arriving before the CPU frees.
    let mut served = Vec::new();
    for round in 0..5u64 {
        let now = at(5_000 * (round + 1));
        s.acquire(10 + round, request("cpu", 4, Priority::High, "busy"), now);
        s.release(100 + round, holding.id, &holding.holder, now);
        let granted = grants(&s.take_effects());
        served.push(granted[0].0);
        holding = granted[0].1.clone();
    }
    // LOW waited 20 s (two 10 s steps) by round 4 and then competes as HIGH
    // with an earlier arrival than every waiting HIGH.
    assert_eq!(served, vec![10, 11, 12, 1, 13]);
}

#[test]
fn a_large_first_request_is_not_overtaken_by_smaller_ones() {
    let mut s = scheduler();
    s.acquire(0, request("cpu", 3, Priority::High, "a"), at(0));
    let a = grants(&s.take_effects())[0].1.clone();
    s.acquire(1, request("cpu", 4, Priority::High, "big"), at(1));
    s.acquire(2, request("cpu", 1, Priority::Medium, "small"), at(2));
    assert!(
        grants(&s.take_effects()).is_empty(),
        "1 core is free but big is first"
    );
    s.release(3, a.id, &a.holder, at(3));
    let granted: Vec<_> = grants(&s.take_effects()).into_iter().map(|g| g.0).collect();
    assert_eq!(granted, vec![1]);
}

#[test]
fn a_wait_times_out_with_a_retry_hint_and_a_zero_wait_is_answered_at_once() {
    let mut s = scheduler();
    s.acquire(0, request("cpu", 4, Priority::High, "a"), at(0));
    s.take_effects();
    let mut waits = request("cpu", 1, Priority::High, "b");
    waits.wait_timeout = 2 * SEC;
    s.acquire(1, waits, at(0));
    let mut now_only = request("cpu", 1, Priority::High, "c");
    now_only.wait_timeout = Duration::ZERO;
    s.acquire(2, now_only, at(0));
    let denied = denials(&s.take_effects());
    assert_eq!(denied[0].0, 2);
    assert_eq!(denied[0].1.reason, DenialReason::Timeout);
    assert_eq!(
        denied[0].1.retry_after,
        Some(60 * SEC),
        "when a's lease ends"
    );
    assert_eq!(s.next_wakeup(at(0)), Some(at(2_000)));
    s.tick(at(1_999));
    assert!(s.take_effects().is_empty());
    s.tick(at(2_000));
    let effects = s.take_effects();
    let denied = denials(&effects);
    assert_eq!(
        (denied[0].0, denied[0].1.reason),
        (1, DenialReason::Timeout)
    );
    assert!(
        matches!(&effects[0], Effect::Denied { holder, .. } if *holder == ident("b")),
        "the denial names who waited, for the audit"
    );
    assert_eq!(cpu(&s).waiting.iter().map(|w| w.1).sum::<u64>(), 0);
}

#[test]
fn the_gauges_have_the_numbers_without_copying_the_leases() {
    let mut s = scheduler();
    s.acquire(0, request("cpu", 3, Priority::High, "a"), at(0));
    s.take_effects();
    let gauges = s.gauges(at(0));
    let cpu_gauges = gauges.iter().find(|r| r.name == "cpu").expect("cpu");
    assert_eq!((cpu_gauges.allocated, cpu_gauges.available), (3, 1));
    assert!(cpu_gauges.leases.is_empty());
    assert_eq!(cpu(&s).leases.len(), 1);
    assert_eq!(gauges.len(), s.status(&[], at(0)).len());
}

#[test]
fn an_unrenewed_lease_expires_at_its_time_and_then_cannot_be_renewed() {
    let mut s = scheduler();
    let mut short = request("cpu", 4, Priority::High, "a");
    short.lease_duration = 5 * SEC;
    s.acquire(0, short, at(0));
    let lease = grants(&s.take_effects())[0].1.clone();
    s.acquire(1, request("cpu", 2, Priority::Low, "b"), at(1_000));
    assert_eq!(s.next_wakeup(at(1_000)), Some(at(5_000)));
    s.tick(at(4_999));
    assert!(s.take_effects().is_empty(), "not yet");
    assert_eq!(cpu(&s).allocated, 4);
    s.tick(at(5_000));
    let effects = s.take_effects();
    assert!(matches!(&effects[0], Effect::Expired { lease: l } if l.id == lease.id));
    assert_eq!(
        grants(&effects)[0].0,
        1,
        "the waiter gets the reclaimed capacity"
    );
    assert_eq!(cpu(&s).allocated, 2);
    s.renew(2, lease.id, &lease.holder, None, at(5_001));
    assert_eq!(failure(&s.take_effects()), LeaseFailureReason::Expired);
    s.release(3, lease.id, &lease.holder, at(5_001));
    assert_eq!(failure(&s.take_effects()), LeaseFailureReason::Expired);
}

#[test]
fn renewing_moves_the_expiry_from_now() {
    let mut s = scheduler();
    let mut short = request("cpu", 1, Priority::High, "a");
    short.lease_duration = 5 * SEC;
    s.acquire(0, short, at(0));
    let lease = grants(&s.take_effects())[0].1.clone();
    s.renew(1, lease.id, &lease.holder, None, at(4_000));
    let effects = s.take_effects();
    let Effect::Renewed { lease: renewed, .. } = &effects[0] else {
        panic!("{effects:?}")
    };
    assert_eq!(renewed.expires_at, at(9_000));
    assert_eq!(renewed.id, lease.id);
    s.renew(2, lease.id, &lease.holder, Some(SEC), at(4_000));
    s.take_effects();
    s.tick(at(4_999));
    assert!(s.take_effects().is_empty());
    s.tick(at(5_000));
    assert!(matches!(&s.take_effects()[..], [Effect::Expired { .. }]));
}

#[test]
fn the_claude_quota_grants_exactly_its_calls_then_says_when_the_next_is_allowed() {
    let mut s = scheduler();
    let call = |priority, n: u64| {
        let mut r = request("claude_api", 1, priority, &format!("strategist-{n}"));
        r.wait_timeout = Duration::ZERO;
        r
    };
    let mut granted = 0;
    for n in 0..90 {
        s.acquire(n, call(Priority::Medium, n), at(0));
        granted += grants(&s.take_effects()).len();
    }
    assert_eq!(granted, 90);
    // MEDIUM may not touch the HIGH reserve (10 of 100).
    s.acquire(90, call(Priority::Medium, 90), at(0));
    let denied = denials(&s.take_effects());
    assert_eq!(denied[0].1.reason, DenialReason::QuotaExhausted);
    assert_eq!(denied[0].1.retry_after, Some(36 * SEC));
    for n in 100..110 {
        s.acquire(n, call(Priority::High, n), at(0));
        granted += grants(&s.take_effects()).len();
    }
    assert_eq!(granted, 100);
    s.acquire(200, call(Priority::High, 200), at(0));
    let denied = denials(&s.take_effects());
    assert_eq!(denied[0].1.reason, DenialReason::QuotaExhausted);
    assert_eq!(denied[0].1.retry_after, Some(36 * SEC), "one call per 36 s");
    let status = s.status(&["claude_api".to_owned()], at(0)).remove(0);
    assert_eq!((status.available, status.allocated), (0, 100));
    assert_eq!(status.next_available_in, Some(36 * SEC));
    s.acquire(201, call(Priority::High, 201), at(36_000));
    assert_eq!(grants(&s.take_effects()).len(), 1);
}

#[test]
fn a_quota_request_that_may_wait_is_granted_when_a_call_is_replenished() {
    let mut s = scheduler();
    for n in 0..100 {
        s.acquire(n, request("claude_api", 1, Priority::High, "s"), at(0));
    }
    assert_eq!(grants(&s.take_effects()).len(), 100);
    s.acquire(100, request("claude_api", 1, Priority::High, "s"), at(0));
    assert!(s.take_effects().is_empty(), "waits");
    assert_eq!(s.next_wakeup(at(0)), Some(at(36_000)));
    s.tick(at(36_000));
    assert_eq!(grants(&s.take_effects())[0].0, 100);
}

#[test]
fn the_same_request_id_gives_one_lease() {
    let mut s = scheduler();
    let mut r = request("cpu", 2, Priority::High, "a");
    r.request_id = Some(ident("req-1"));
    s.acquire(0, r.clone(), at(0));
    s.acquire(1, r.clone(), at(1));
    let granted = grants(&s.take_effects());
    assert_eq!(granted.len(), 2);
    assert_eq!(granted[0].1, granted[1].1);
    assert_eq!(cpu(&s).allocated, 2);
    assert_eq!(cpu(&s).leases.len(), 1);
    // Reusing the id for something else is refused.
    let mut other = r.clone();
    other.quantity = 1;
    s.acquire(2, other, at(2));
    assert_eq!(
        denials(&s.take_effects())[0].1.reason,
        DenialReason::InvalidArgument
    );
    // While waiting, a repeat joins the same wait.
    let mut w = request("cpu", 4, Priority::High, "b");
    w.request_id = Some(ident("req-2"));
    s.acquire(3, w.clone(), at(3));
    s.acquire(4, w, at(4));
    assert!(s.take_effects().is_empty());
    let lease = granted[0].1.clone();
    s.release(5, lease.id, &lease.holder, at(5));
    let effects = s.take_effects();
    let tickets: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Granted { tickets, .. } => Some(tickets.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(tickets, vec![vec![3, 4]]);
}

#[test]
fn hostile_requests_are_refused_and_change_nothing() {
    let mut s = scheduler();
    s.acquire(0, request("cpu", 1, Priority::High, "owner"), at(0));
    let lease = grants(&s.take_effects())[0].1.clone();
    let before = s.status(&[], at(0));
    let fencing = s.fencing_counter();
    let cases = [
        (
            request("cpu", 0, Priority::High, "x"),
            DenialReason::InvalidQuantity,
        ),
        (
            request("cpu", 5, Priority::High, "x"),
            DenialReason::InvalidQuantity,
        ),
        (
            request("cpu", u64::MAX, Priority::High, "x"),
            DenialReason::InvalidQuantity,
        ),
        (
            request("gpu_memory", 601, Priority::High, "x"),
            DenialReason::InvalidQuantity,
        ),
        (
            request("claude_api", 101, Priority::High, "x"),
            DenialReason::InvalidQuantity,
        ),
        (
            request("claude_api", 91, Priority::Low, "x"),
            DenialReason::InvalidQuantity,
        ),
        (
            request("tpu", 1, Priority::High, "x"),
            DenialReason::UnknownResource,
        ),
        (
            request("", 1, Priority::High, "x"),
            DenialReason::UnknownResource,
        ),
        (
            Acquire {
                lease_duration: Duration::ZERO,
                ..request("cpu", 1, Priority::High, "x")
            },
            DenialReason::InvalidDuration,
        ),
        (
            Acquire {
                lease_duration: Duration::from_secs(100 * 365 * 86_400),
                ..request("cpu", 1, Priority::High, "x")
            },
            DenialReason::InvalidDuration,
        ),
        (
            Acquire {
                wait_timeout: Duration::from_secs(100 * 365 * 86_400),
                ..request("cpu", 1, Priority::High, "x")
            },
            DenialReason::InvalidDuration,
        ),
    ];
    for (ticket, (r, reason)) in cases.into_iter().enumerate() {
        let ticket = ticket as u64 + 10;
        s.acquire(ticket, r.clone(), at(1));
        let denied = denials(&s.take_effects());
        assert_eq!(denied.len(), 1, "{r:?}");
        assert_eq!(denied[0].1.reason, reason, "{r:?}: {}", denied[0].1.message);
        assert_eq!(
            denied[0].1.retry_after, None,
            "{r:?}: retrying will not help"
        );
    }
    s.release(50, lease.id, &ident("intruder"), at(1));
    assert_eq!(failure(&s.take_effects()), LeaseFailureReason::NotHolder);
    s.renew(51, lease.id, &ident("intruder"), None, at(1));
    assert_eq!(failure(&s.take_effects()), LeaseFailureReason::NotHolder);
    s.renew(52, lease.id, &lease.holder, Some(Duration::ZERO), at(1));
    assert_eq!(
        failure(&s.take_effects()),
        LeaseFailureReason::InvalidDuration
    );
    s.release(53, LeaseId::new(FencingToken(999)), &lease.holder, at(1));
    assert_eq!(failure(&s.take_effects()), LeaseFailureReason::NotFound);
    assert_eq!(s.status(&[], at(0)), before);
    assert_eq!(s.fencing_counter(), fencing);
}

#[test]
fn memory_that_fits_the_budget_but_not_the_machine_is_denied_with_that_reason() {
    let mut s = scheduler();
    s.set_machine_available_memory(Some(300));
    s.acquire(0, request("memory", 500, Priority::High, "kg"), at(0));
    let denied = denials(&s.take_effects());
    assert_eq!(denied[0].1.reason, DenialReason::InsufficientSystemMemory);
    assert!(denied[0].1.retry_after.is_some());
    s.acquire(1, request("memory", 300, Priority::High, "kg"), at(0));
    assert_eq!(grants(&s.take_effects()).len(), 1);
    // Over the budget is a wait, whatever the machine has.
    s.set_machine_available_memory(Some(10_000));
    s.acquire(2, request("memory", 800, Priority::High, "kg"), at(0));
    assert!(s.take_effects().is_empty());
}

#[test]
fn gpu_time_slices_rotate_among_waiting_holders() {
    let mut s = scheduler();
    let mut long = request("gpu", 2, Priority::High, "trainer");
    long.lease_duration = 60 * SEC;
    s.acquire(0, long, at(0));
    let lease = grants(&s.take_effects())[0].1.clone();
    assert_eq!(lease.expires_at, at(100), "one 100 ms slice at most");
    // Alone: renewals extend by one slice.
    s.renew(1, lease.id, &lease.holder, None, at(90));
    assert!(
        matches!(&s.take_effects()[..], [Effect::Renewed { lease, .. }] if lease.expires_at == at(190))
    );
    s.acquire(2, request("gpu", 1, Priority::Low, "explorer"), at(100));
    s.renew(3, lease.id, &lease.holder, None, at(180));
    assert_eq!(failure(&s.take_effects()), LeaseFailureReason::Preempted);
    s.tick(at(190));
    let effects = s.take_effects();
    assert!(matches!(effects[0], Effect::Expired { .. }));
    assert_eq!(grants(&effects)[0].1.holder, ident("explorer"));
}

#[test]
fn the_next_fencing_block_is_reserved_while_half_of_this_one_is_left() {
    let mut s = Scheduler::new(&config("[cpu]\ncores = 100000\n"));
    let mut marks = Vec::new();
    let mut last = 0;
    for n in 0..FENCING_BLOCK + 1 {
        s.acquire(n, request("cpu", 1, Priority::High, "a"), at(0));
        for effect in s.take_effects() {
            match effect {
                Effect::FencingReserved { up_to } => marks.push((last + 1, up_to)),
                Effect::Granted { lease, .. } => last = lease.token().0,
                _ => {}
            }
        }
    }
    // (the token about to be granted, the mark reserved before it)
    assert_eq!(
        marks,
        [
            (1, 1 + FENCING_BLOCK),
            (FENCING_BLOCK / 2 + 2, 1 + 2 * FENCING_BLOCK)
        ]
    );
}

#[test]
fn restored_state_keeps_leases_and_fencing_moves_up() {
    let mut s = scheduler();
    let mut effects = Vec::new();
    for n in 0..3 {
        s.acquire(n, request("cpu", 1, Priority::High, "a"), at(0));
        effects.extend(s.take_effects());
    }
    let reserved = effects
        .iter()
        .find_map(|e| match e {
            Effect::FencingReserved { up_to } => Some(*up_to),
            _ => None,
        })
        .expect("the first grant reserves a block");
    let leases: Vec<_> = grants(&effects).into_iter().map(|g| g.1).collect();
    let mut restored = scheduler();
    restored.restore(reserved, &[], leases.clone());
    assert_eq!(cpu(&restored).allocated, 3);
    assert_eq!(cpu(&restored).leases, leases);
    restored.acquire(9, request("cpu", 1, Priority::High, "b"), at(1));
    let next = grants(&restored.take_effects())[0].1.token();
    assert!(next.0 > reserved, "{next:?} after {reserved}");
    // Past-due leases expire on the first tick.
    restored.tick(at(61_000));
    let expired = restored
        .take_effects()
        .into_iter()
        .filter(|e| matches!(e, Effect::Expired { .. }))
        .count();
    assert_eq!(expired, 4);
}

#[test]
fn shutting_down_answers_every_waiter() {
    let mut s = scheduler();
    s.acquire(0, request("cpu", 4, Priority::High, "a"), at(0));
    s.acquire(1, request("cpu", 4, Priority::High, "b"), at(0));
    s.acquire(2, request("cpu", 4, Priority::Low, "c"), at(0));
    s.take_effects();
    s.shut_down();
    let denied = denials(&s.take_effects());
    assert_eq!(
        denied
            .iter()
            .map(|(ticket, denial)| (*ticket, denial.reason))
            .collect::<Vec<_>>(),
        [
            (1, DenialReason::ShuttingDown),
            (2, DenialReason::ShuttingDown)
        ]
    );
}

#[test]
fn a_request_id_may_be_used_again_once_its_lease_is_gone() {
    let mut s = scheduler();
    let mut r = request("cpu", 1, Priority::High, "a");
    r.request_id = Some(ident("again"));
    s.acquire(0, r.clone(), at(0));
    let first = grants(&s.take_effects())[0].1.clone();
    s.release(1, first.id, &first.holder, at(1));
    s.take_effects();
    s.acquire(2, r, at(2));
    let second = grants(&s.take_effects())[0].1.clone();
    assert!(second.token() > first.token());
}

#[test]
fn gpu_memory_is_placed_on_one_device_with_room() {
    let mut s = scheduler(); // devices gpu0 = 600, gpu1 = 400
    s.acquire(0, request("gpu_memory", 350, Priority::High, "a"), at(0));
    s.acquire(1, request("gpu_memory", 350, Priority::High, "b"), at(0));
    let placed: Vec<_> = grants(&s.take_effects())
        .into_iter()
        .map(|(_, l)| l.device.unwrap())
        .collect();
    // The tightest fit first, keeping the large hole for a large request.
    assert_eq!(placed, ["gpu1", "gpu0"]);
    // 300 bytes are free in total, but no device has 300 left.
    s.acquire(2, request("gpu_memory", 300, Priority::High, "c"), at(0));
    assert!(s.take_effects().is_empty(), "waits");
    let on_gpu1 = s.status(&["gpu_memory".to_owned()], at(0)).remove(0).leases[0].clone();
    s.release(3, on_gpu1.id, &on_gpu1.holder, at(1));
    let granted = grants(&s.take_effects());
    assert_eq!(granted[0].1.device.as_deref(), Some("gpu1"));
    // Restored leases take their device's room again.
    let leases = s
        .status(&[], at(1))
        .into_iter()
        .flat_map(|r| r.leases)
        .collect();
    let mut restored = scheduler();
    restored.restore(s.fencing_counter(), &[], leases);
    restored.acquire(4, request("gpu_memory", 300, Priority::High, "d"), at(2));
    assert!(restored.take_effects().is_empty(), "no device has 300 left");
}

#[test]
fn leases_stored_before_devices_were_recorded_still_load() {
    let stored = r#"{"id":"l-3","resource":"cpu","holder":"a","quantity":1,"priority":"high",
        "granted_at":0,"expires_at":1000,"duration":1,"request_id":null}"#;
    let lease: Lease = serde_json::from_str(stored).unwrap();
    assert_eq!(lease.device, None);
}
