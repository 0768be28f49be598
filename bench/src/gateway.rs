//! Drives the gateway over HTTP as N BalatroMCP instances would.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use serde::Deserialize;

use crate::{
    Plan,
    pacing::Pacing,
    stats::Tally,
    workload::{Templates, batch_body},
};

/// What one instance posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One event per request to `/api/v1/events`.
    Single,
    /// Batches of `n` events to `/api/v1/events/batch`, as fast as answered.
    Batch(usize),
    /// The mod's own pacing: a state diff (1-3 change events and a
    /// GAME_STATE) every 500 ms, a heartbeat and a GAME_STATE every 5 s.
    Realistic,
}

#[derive(Debug, Deserialize)]
struct Report {
    events: Vec<EventReport>,
}

#[derive(Debug, Deserialize)]
struct EventReport {
    status: String,
    r#type: Option<String>,
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Runs one instance (session) until the plan's deadline or event budget.
pub async fn instance(
    plan: Plan,
    shape: Shape,
    templates: std::sync::Arc<Templates>,
    gateway: String,
    session: String,
    pacing: Pacing,
    retry: Retry,
) -> Tally {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut tally = Tally::default();
    let mut counter: u64 = 0;
    let started = Instant::now();
    let mut next_heartbeat = started;
    let mut next_diff = started;
    let mut schedule = pacing.schedule(started);
    while !plan.done(started, counter) {
        schedule.due().await;
        let (path, body, events) = match shape {
            Shape::Single => {
                let mut body = String::new();
                let template = templates.mixed((counter % 50) as usize, counter as usize);
                template.write(
                    &mut body,
                    &format!("{session}-{counter}"),
                    counter as f64 + 0.5,
                );
                ("events", body, 1)
            }
            Shape::Batch(size) => {
                let body = batch(&session, counter, size, |i, n| templates.mixed(i, n));
                ("events/batch", body, size as u64)
            }
            Shape::Realistic => {
                let now = Instant::now();
                let wake = next_diff.min(next_heartbeat);
                if wake > now {
                    tokio::time::sleep(wake - now).await;
                    continue;
                }
                let (body, events) = if next_heartbeat <= now {
                    next_heartbeat += Duration::from_secs(5);
                    let body = batch(&session, counter, 2, |i, n| {
                        if i == 0 {
                            &templates.heartbeats[n % templates.heartbeats.len()]
                        } else {
                            &templates.game_states[n % templates.game_states.len()]
                        }
                    });
                    (body, 2)
                } else {
                    next_diff += Duration::from_millis(500);
                    let changes = 1 + (counter % 3) as usize;
                    let body = batch(&session, counter, changes + 1, |i, n| {
                        if i == changes {
                            &templates.game_states[n % templates.game_states.len()]
                        } else {
                            &templates.changes[n % templates.changes.len()]
                        }
                    });
                    (body, changes as u64 + 1)
                };
                ("events/batch", body, events)
            }
        };
        counter += events;
        let uri = format!("{gateway}/s/{session}/api/v1/{path}");
        send(
            &client,
            &uri,
            &session,
            Bytes::from(body),
            retry,
            &mut tally,
        )
        .await;
    }
    tally
}

/// How a refused request is re-sent, as the mod does after a 503: the same
/// events again, so a retried request must not be counted twice.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Re-sends allowed per request after the first attempt (0: none).
    pub attempts: u32,
    /// The longest wait between attempts, whatever `Retry-After` says.
    pub max_wait: Duration,
}

/// The wait before re-sending when the answer names none.
const DEFAULT_RETRY_WAIT: Duration = Duration::from_millis(500);

/// Posts one request, re-sending it after a 503, a 429 or a transport
/// failure (up to `retry.attempts` times, honouring `Retry-After`), and
/// tallies what the final answer says.
async fn send(
    client: &HttpClient,
    uri: &str,
    session: &str,
    body: Bytes,
    retry: Retry,
    tally: &mut Tally,
) {
    let mut attempt = 0;
    loop {
        let request = Request::post(uri)
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .expect("valid request");
        let sent = Instant::now();
        let outcome = client.request(request).await;
        tally.requests += 1;
        let wait = match outcome {
            Ok(response) if response.status() == StatusCode::ACCEPTED => {
                let body = response.into_body().collect().await.map(|b| b.to_bytes());
                tally.record(sent.elapsed());
                let report = body
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Report>(&b).ok());
                match report {
                    Some(report) => record_report(report, session, attempt > 0, tally),
                    None => *tally.errors.entry("unreadable 202".to_owned()).or_default() += 1,
                }
                return;
            }
            Ok(response) => {
                let status = response.status();
                let wait = retry_after(response.headers());
                let _ = response.into_body().collect().await;
                let retryable = status == StatusCode::SERVICE_UNAVAILABLE
                    || status == StatusCode::TOO_MANY_REQUESTS;
                if !retryable || attempt >= retry.attempts {
                    *tally.errors.entry(status.as_u16().to_string()).or_default() += 1;
                    return;
                }
                wait
            }
            Err(_) => {
                if attempt >= retry.attempts {
                    *tally.errors.entry("transport".to_owned()).or_default() += 1;
                    return;
                }
                None
            }
        };
        attempt += 1;
        tally.retries += 1;
        tokio::time::sleep(wait.unwrap_or(DEFAULT_RETRY_WAIT).min(retry.max_wait)).await;
    }
}

/// Tallies a 202's per-event report. On a re-send, `duplicate` means an
/// earlier attempt of this same request stored the event before it failed
/// (this generator never sends an event id twice otherwise), so it counts
/// as stored by this run, once.
fn record_report(report: Report, session: &str, resent: bool, tally: &mut Tally) {
    for event in report.events {
        let acknowledged_here = match event.status.as_str() {
            "stored" => true,
            "duplicate" if resent => {
                tally.recovered += 1;
                true
            }
            "duplicate" => {
                tally.duplicates += 1;
                false
            }
            other => {
                *tally.errors.entry(other.to_owned()).or_default() += 1;
                false
            }
        };
        if acknowledged_here {
            let event_type = event.r#type.unwrap_or_default().to_ascii_lowercase();
            *tally
                .stored
                .entry(format!("{session}.{event_type}"))
                .or_default() += 1;
        }
    }
}

/// `Retry-After` in whole seconds, as the gateway sends it.
fn retry_after(headers: &hyper::HeaderMap) -> Option<Duration> {
    headers
        .get(hyper::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

fn batch<'t>(
    session: &str,
    counter: u64,
    size: usize,
    pick: impl Fn(usize, usize) -> &'t crate::workload::Template,
) -> String {
    let mut events = String::with_capacity(size * 512);
    for i in 0..size {
        if i > 0 {
            events.push(',');
        }
        let n = counter as usize + i;
        pick(i, n).write(&mut events, &format!("{session}-{n}"), n as f64 + 0.5);
    }
    batch_body(&format!("{session}-b{counter}"), &events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        serde_json::from_str(
            r#"{"events":[{"status":"stored","type":"GAME_STATE"},
                          {"status":"duplicate","type":"HEARTBEAT"}]}"#,
        )
        .expect("a report")
    }

    #[test]
    fn a_duplicate_on_a_resend_counts_as_stored_once_but_not_on_a_first_attempt() {
        let mut first = Tally::default();
        record_report(report(), "s", false, &mut first);
        assert_eq!(first.stored.get("s.game_state"), Some(&1));
        assert_eq!(first.stored.get("s.heartbeat"), None);
        assert_eq!((first.duplicates, first.recovered), (1, 0));

        let mut resent = Tally::default();
        record_report(report(), "s", true, &mut resent);
        assert_eq!(resent.stored.get("s.game_state"), Some(&1));
        assert_eq!(resent.stored.get("s.heartbeat"), Some(&1));
        assert_eq!((resent.duplicates, resent.recovered), (0, 1));
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        let mut headers = hyper::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(hyper::header::RETRY_AFTER, "2".parse().expect("value"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
    }
}
