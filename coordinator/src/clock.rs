//! Wall-clock instants from tokio's clock: one reading of the system clock
//! at start, then tokio's monotonic time on top, so expiries are stored as
//! wall-clock time (meaningful to a restarted coordinator) while a running
//! one never sees time go backwards, and tests can pause time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use crate::domain::At;

/// Maps between tokio instants and [`At`].
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    wall: Duration,
    mono: Instant,
}

impl Clock {
    /// A clock reading the system clock now.
    pub fn start() -> Self {
        Self {
            wall: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
            mono: Instant::now(),
        }
    }

    /// Now.
    pub fn now(&self) -> At {
        At::from_unix(self.wall + self.mono.elapsed())
    }

    /// The tokio instant of `at` (now, if it has passed).
    pub fn instant(&self, at: At) -> Instant {
        let now = self.now();
        Instant::now() + at.since(now)
    }
}
