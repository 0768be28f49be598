//! The service's own Prometheus metrics (on `/metrics`, next to the
//! standard HTTP ones). Names are listed here once; the Grafana dashboard
//! in `deploy/grafana/dashboards/analytics.json` reads them.

use std::time::Duration;

use crate::store::FinishedStats;

/// Counter, by `type`: game events applied.
pub const EVENTS: &str = "analytics_events_total";
/// Counter, by `reason`: messages terminated and dead-lettered.
pub const DEAD_LETTERS: &str = "analytics_dead_letters_total";
/// Counter: deliveries of messages already applied (acknowledged again, not counted).
pub const REDELIVERED: &str = "analytics_redelivered_total";
/// Counter: GAME_STATEs older than one already applied (ignored for runs).
pub const STALE_STATES: &str = "analytics_stale_states_total";
/// Gauge: messages in `GAME_EVENTS` not yet delivered to the consumer.
pub const PENDING: &str = "analytics_consumer_pending";
/// Gauge: seconds between storing the last applied message and applying it.
pub const LAG: &str = "analytics_consumer_lag_seconds";
/// Gauge: the last applied `GAME_EVENTS` sequence.
pub const LAST_SEQ: &str = "analytics_last_applied_sequence";
/// Histogram: seconds to fill gaps, decode, dead-letter, apply, commit and
/// acknowledge one batch.
pub const BATCH_SECONDS: &str = "analytics_batch_duration_seconds";
/// Counter: messages in committed batches (rate = throughput).
pub const BATCH_MESSAGES: &str = "analytics_batch_messages_total";
/// Counter: runs started.
pub const RUNS_STARTED: &str = "analytics_runs_started_total";
/// Counter, by `outcome`: runs finished.
pub const RUNS_FINISHED: &str = "analytics_runs_finished_total";
/// Gauge: runs open now.
pub const RUNS_OPEN: &str = "analytics_runs_open";
/// Gauge: won over finished runs.
pub const WIN_RATE: &str = "analytics_win_rate";
/// Gauge: mean final ante of finished runs.
pub const MEAN_FINAL_ANTE: &str = "analytics_mean_final_ante";
/// Counter: messages read from the stream to fill a gap (after a crash).
pub const GAP_FILLED: &str = "analytics_gap_filled_total";
/// Counter: batches that failed and were handed back for redelivery.
pub const BATCH_FAILURES: &str = "analytics_batch_failures_total";

/// Gives every metric its help text on `/metrics`.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(EVENTS, "Game events applied, by type");
    describe_counter!(
        DEAD_LETTERS,
        "Messages terminated and dead-lettered, by reason"
    );
    describe_counter!(REDELIVERED, "Deliveries of messages already applied");
    describe_counter!(STALE_STATES, "GAME_STATEs older than one already applied");
    describe_gauge!(
        PENDING,
        "Messages in GAME_EVENTS not yet delivered to the consumer"
    );
    describe_gauge!(
        LAG,
        Unit::Seconds,
        "Age of the newest applied message when applied"
    );
    describe_gauge!(LAST_SEQ, "The last applied GAME_EVENTS sequence");
    describe_histogram!(
        BATCH_SECONDS,
        Unit::Seconds,
        "Time to fill gaps, decode, dead-letter, apply, commit and acknowledge a batch"
    );
    describe_counter!(BATCH_MESSAGES, "Messages in committed batches");
    describe_counter!(RUNS_STARTED, "Runs started");
    describe_counter!(RUNS_FINISHED, "Runs finished, by outcome");
    describe_gauge!(RUNS_OPEN, "Runs in progress");
    describe_gauge!(WIN_RATE, "Won over finished runs");
    describe_gauge!(MEAN_FINAL_ANTE, "Mean final ante of finished runs");
    describe_counter!(
        BATCH_FAILURES,
        "Batches handed back for redelivery after a failure"
    );
    describe_counter!(GAP_FILLED, "Messages read from the stream to fill a gap");
}

/// Records what a committed batch did.
pub fn batch_committed(messages: usize, took: Duration) {
    metrics::counter!(BATCH_MESSAGES).increment(messages as u64);
    metrics::histogram!(BATCH_SECONDS).record(took.as_secs_f64());
}

/// Sets the consumer position gauges.
#[allow(clippy::cast_precision_loss, reason = "gauges are floating point")]
pub fn gauges(pending: u64, lag: Duration, last_seq: u64) {
    metrics::gauge!(PENDING).set(pending as f64);
    metrics::gauge!(LAG).set(lag.as_secs_f64());
    metrics::gauge!(LAST_SEQ).set(last_seq as f64);
}

/// Sets the run gauges from the database's totals.
#[allow(clippy::cast_precision_loss, reason = "gauges are floating point")]
pub fn finished(stats: FinishedStats, open_runs: usize) {
    metrics::gauge!(RUNS_OPEN).set(open_runs as f64);
    if stats.finished > 0 {
        metrics::gauge!(WIN_RATE).set(stats.won as f64 / stats.finished as f64);
    }
    if let Some(ante) = stats.mean_final_ante {
        metrics::gauge!(MEAN_FINAL_ANTE).set(ante);
    }
}
