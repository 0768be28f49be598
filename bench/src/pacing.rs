//! A worker's request rate: fixed (for latency below the maximum load), or
//! each request as soon as the last is answered.

use std::time::{Duration, Instant};

/// A fixed request rate, when one is set.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// Time between requests; `None`: as fast as they are answered.
    pub interval: Option<Duration>,
    /// When this worker's first request goes out.
    pub start_offset: Duration,
}

impl Pacing {
    /// Each request as soon as the last is answered.
    pub const UNPACED: Self = Self {
        interval: None,
        start_offset: Duration::ZERO,
    };

    /// Whether requests go out at a fixed rate.
    pub fn is_paced(&self) -> bool {
        self.interval.is_some()
    }

    /// The request times of a worker that started at `started`.
    pub fn schedule(self, started: Instant) -> Schedule {
        Schedule {
            interval: self.interval,
            next: started + self.start_offset,
        }
    }
}

/// When each of a worker's requests is due.
#[derive(Debug)]
pub struct Schedule {
    interval: Option<Duration>,
    next: Instant,
}

impl Schedule {
    /// Waits until the next request is due (at once when unpaced).
    pub async fn due(&mut self) {
        let Some(interval) = self.interval else {
            return;
        };
        let now = Instant::now();
        if self.next > now {
            tokio::time::sleep(self.next - now).await;
        }
        self.next += interval;
    }
}
