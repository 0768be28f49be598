//! A rate quota as GCRA (the generic cell rate algorithm), with a share of
//! the burst reserved for HIGH requests.
//!
//! The rule: calls are replenished evenly, one every `hour / calls_per_hour`
//! (the emission interval T). The state is one instant, the theoretical
//! arrival time (TAT): when the quota would be fully replenished. A request
//! for `n` calls at `now` is allowed when `max(TAT, now) + n·T - now` stays
//! within `burst·T` (for HIGH) or `(burst - high_reserve)·T` (for the
//! others), and then moves TAT there. So `burst` calls can be made back to
//! back after a quiet spell, and `calls_per_hour` per hour at a sustained
//! rate; the last `high_reserve` calls of the burst only HIGH may use.
//!
//! Written out rather than taken from `governor` because the state must be
//! read and written (the coordinator persists TAT, so a restart does not
//! hand out a fresh hour), the clock must be the caller's `now`, and the
//! reserve needs two limits over one state.

use std::time::Duration;

use crate::domain::{At, Priority};

/// One quota's settings and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gcra {
    interval: Duration,
    burst: u64,
    high_reserve: u64,
    tat: At,
}

impl Gcra {
    /// `per_hour` calls per hour, `burst` back to back, `high_reserve` of
    /// them for HIGH only. Requires `0 < high_reserve + 1 <= burst`,
    /// `0 < per_hour <= 3.6e9`.
    pub fn new(per_hour: u64, burst: u64, high_reserve: u64) -> Self {
        let per_hour = per_hour.max(1);
        Self {
            interval: Duration::from_nanos(3_600_000_000_000 / per_hour),
            burst: burst.max(1),
            high_reserve: high_reserve.min(burst.saturating_sub(1)),
            tat: At::from_unix(Duration::ZERO),
        }
    }

    /// The emission interval: one call is replenished this often.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Calls allowed back to back.
    pub fn burst(&self) -> u64 {
        self.burst
    }

    /// The persisted state.
    pub fn tat(&self) -> At {
        self.tat
    }

    /// Restores the persisted state.
    pub fn set_tat(&mut self, tat: At) {
        self.tat = tat;
    }

    fn limit(&self, priority: Priority) -> Duration {
        let calls = match priority {
            Priority::High => self.burst,
            Priority::Medium | Priority::Low => self.burst - self.high_reserve,
        };
        self.interval * u32::try_from(calls).unwrap_or(u32::MAX)
    }

    fn new_tat(&self, calls: u64, now: At) -> At {
        let base = self.tat.max(now);
        base.plus(
            self.interval
                .saturating_mul(u32::try_from(calls).unwrap_or(u32::MAX)),
        )
    }

    /// How long until `calls` calls at `priority` would be allowed; zero if
    /// they are now, `None` if never (more than the priority may ever use).
    pub fn wait_for(&self, calls: u64, priority: Priority, now: At) -> Option<Duration> {
        let limit = self.limit(priority);
        let needed = self.interval.checked_mul(u32::try_from(calls).ok()?)?;
        if needed > limit {
            return None;
        }
        let new_tat = self.new_tat(calls, now);
        Some(new_tat.since(now).saturating_sub(limit))
    }

    /// Takes `calls` calls if allowed now; else how long until they would be
    /// (`None`: never).
    pub fn take(
        &mut self,
        calls: u64,
        priority: Priority,
        now: At,
    ) -> Result<(), Option<Duration>> {
        match self.wait_for(calls, priority, now) {
            Some(wait) if wait.is_zero() => {
                self.tat = self.new_tat(calls, now);
                Ok(())
            }
            other => Err(other),
        }
    }

    /// Calls a HIGH request could make right now.
    pub fn available(&self, now: At) -> u64 {
        let used = self.tat.since(now);
        let limit = self.limit(Priority::High);
        let free = limit.saturating_sub(used);
        u64::try_from(free.as_nanos() / self.interval.as_nanos()).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> At {
        At::from_unix(Duration::from_secs(1_700_000_000 + secs))
    }

    #[test]
    fn the_burst_then_one_call_per_interval() {
        let mut quota = Gcra::new(100, 100, 0);
        assert_eq!(quota.interval(), Duration::from_secs(36));
        for i in 0..100 {
            assert_eq!(quota.take(1, Priority::Low, at(0)), Ok(()), "call {i}");
        }
        assert_eq!(
            quota.take(1, Priority::High, at(0)),
            Err(Some(Duration::from_secs(36)))
        );
        assert_eq!(
            quota.take(1, Priority::High, at(35)),
            Err(Some(Duration::from_secs(1)))
        );
        assert_eq!(quota.take(1, Priority::High, at(36)), Ok(()));
        assert_eq!(quota.available(at(36)), 0);
        assert_eq!(quota.available(at(36 + 360)), 10);
    }

    #[test]
    fn sustained_demand_gets_exactly_the_hourly_rate() {
        let mut quota = Gcra::new(100, 100, 0);
        // Spend the burst, then ask every second for ten hours.
        while quota.take(1, Priority::High, at(0)).is_ok() {}
        let mut granted = 0;
        for second in 1..=10 * 3600 {
            while quota.take(1, Priority::High, at(second)).is_ok() {
                granted += 1;
            }
        }
        assert_eq!(granted, 1000);
    }

    #[test]
    fn the_reserve_is_for_high_only() {
        let mut quota = Gcra::new(100, 100, 10);
        for _ in 0..90 {
            quota.take(1, Priority::Medium, at(0)).unwrap();
        }
        // The next call would eat into the reserve: MEDIUM waits one interval.
        assert_eq!(
            quota.take(1, Priority::Medium, at(0)),
            Err(Some(Duration::from_secs(36)))
        );
        for _ in 0..10 {
            quota.take(1, Priority::High, at(0)).unwrap();
        }
        assert_eq!(
            quota.take(1, Priority::High, at(0)),
            Err(Some(Duration::from_secs(36)))
        );
        assert_eq!(
            quota.take(1, Priority::Low, at(0)),
            Err(Some(Duration::from_secs(11 * 36)))
        );
    }

    #[test]
    fn more_than_the_burst_can_never_be_taken_at_once() {
        let mut quota = Gcra::new(100, 20, 5);
        assert_eq!(quota.take(21, Priority::High, at(0)), Err(None));
        assert_eq!(quota.take(16, Priority::Low, at(0)), Err(None));
        assert_eq!(quota.take(u64::MAX, Priority::High, at(0)), Err(None));
        assert_eq!(quota.take(20, Priority::High, at(0)), Ok(()));
    }
}
