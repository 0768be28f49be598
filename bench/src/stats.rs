//! What one run measured, and how it is shown.

use std::{collections::BTreeMap, time::Duration};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Counts and latencies gathered by the workers of one run.
#[derive(Debug)]
pub struct Tally {
    /// Request (or batch) latencies in microseconds.
    pub latency: Histogram<u64>,
    /// Requests sent.
    pub requests: u64,
    /// Events newly stored, per subject token (`<session>.<type>`).
    pub stored: BTreeMap<String, u64>,
    /// Events acknowledged as duplicates.
    pub duplicates: u64,
    /// Failed requests by HTTP status (or `error` for transport failures).
    pub errors: BTreeMap<String, u64>,
    /// Re-sends after a 503, 429 or transport failure (`--retry`).
    pub retries: u64,
    /// Events a re-send found already stored by its failed predecessor.
    pub recovered: u64,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            latency: Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds"),
            requests: 0,
            stored: BTreeMap::new(),
            duplicates: 0,
            errors: BTreeMap::new(),
            retries: 0,
            recovered: 0,
        }
    }
}

impl Tally {
    /// Folds another worker's tally into this one.
    pub fn merge(&mut self, other: Tally) {
        self.latency.add(&other.latency).expect("same bounds");
        self.requests += other.requests;
        self.duplicates += other.duplicates;
        self.retries += other.retries;
        self.recovered += other.recovered;
        for (subject, n) in other.stored {
            *self.stored.entry(subject).or_default() += n;
        }
        for (status, n) in other.errors {
            *self.errors.entry(status).or_default() += n;
        }
    }

    /// Records one request's latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.latency.saturating_record(micros);
    }
}

/// One row of the benchmark table (also written as JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    /// What ran, e.g. `gateway batch-50`.
    pub name: String,
    /// JetStream's flush policy during the run (`default` or `always`).
    pub sync: String,
    /// Events newly stored.
    pub events: u64,
    /// Requests (or baseline batches) completed.
    pub requests: u64,
    /// Wall-clock seconds of the measured phase.
    pub seconds: f64,
    /// Stored events per second.
    pub events_per_sec: f64,
    /// Requests per second.
    pub requests_per_sec: f64,
    /// Latency percentiles in milliseconds: p50, p90, p99, p99.9, max.
    pub latency_ms: [f64; 5],
    /// Failures by status.
    pub errors: BTreeMap<String, u64>,
    /// Re-sends after a 503, 429 or transport failure (`--retry`).
    #[serde(default)]
    pub retries: u64,
    /// Whether the stream holds exactly the acknowledged events.
    pub verified: bool,
    /// Peak resident memory of the service under test, MiB.
    pub peak_rss_mib: Option<f64>,
    /// CPU seconds of the service under test per 1,000 events.
    pub cpu_s_per_1k_events: Option<f64>,
}

impl Row {
    /// The row for a finished run.
    pub fn new(name: &str, sync: &str, tally: &Tally, elapsed: Duration, verified: bool) -> Self {
        let events: u64 = tally.stored.values().sum();
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        let ms = |q: f64| tally.latency.value_at_quantile(q) as f64 / 1000.0;
        Row {
            name: name.to_owned(),
            sync: sync.to_owned(),
            events,
            requests: tally.requests,
            seconds,
            events_per_sec: events as f64 / seconds,
            requests_per_sec: tally.requests as f64 / seconds,
            latency_ms: [
                ms(0.5),
                ms(0.9),
                ms(0.99),
                ms(0.999),
                tally.latency.max() as f64 / 1000.0,
            ],
            errors: tally.errors.clone(),
            retries: tally.retries,
            verified,
            peak_rss_mib: None,
            cpu_s_per_1k_events: None,
        }
    }
}

/// The human table for a set of rows, with each gateway row's ratio to the
/// baseline of the same flush policy.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| run | sync | events/s | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | ratio to baseline | peak RSS MiB | CPU s / 1k events | errors | verified |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let baseline = rows
            .iter()
            .find(|r| {
                r.name.starts_with("baseline") && !r.name.contains(" at ") && r.sync == row.sync
            })
            .map(|b| b.events_per_sec);
        let ratio = match baseline {
            // Only the batch rows send what the baseline sends.
            Some(b)
                if b > 0.0
                    && row.name.starts_with("gateway batch")
                    && !row.name.contains(" at ") =>
            {
                format!("{:.2}", row.events_per_sec / b)
            }
            _ => "-".to_owned(),
        };
        let optional = |v: Option<f64>, digits: usize| {
            v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
        };
        let mut errors: Vec<String> = row
            .errors
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        if row.retries > 0 {
            errors.push(format!("retried: {}", row.retries));
        }
        let errors = if errors.is_empty() {
            "0".to_owned()
        } else {
            errors.join(", ")
        };
        let [p50, p90, p99, p999, max] = row.latency_ms;
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} | {p50:.2} | {p90:.2} | {p99:.2} | {p999:.2} | {max:.2} | {ratio} | {} | {} | {errors} | {} |\n",
            row.name,
            row.sync,
            row.events_per_sec,
            row.requests_per_sec,
            optional(row.peak_rss_mib, 1),
            optional(row.cpu_s_per_1k_events, 4),
            if row.verified { "yes" } else { "NO" },
        ));
    }
    out
}
