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
    interval: Option<Duration>,
    start_offset: Duration,
) -> Tally {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut tally = Tally::default();
    let mut counter: u64 = 0;
    let started = Instant::now();
    let mut next_heartbeat = started;
    let mut next_diff = started;
    // Instances at a fixed rate start spread over one interval, like
    // independent games, not all in the same instant.
    let mut next_send = started + start_offset;
    while !plan.done(started, counter) {
        // A fixed request rate (for latency below the maximum load).
        if let Some(interval) = interval {
            let now = Instant::now();
            if next_send > now {
                tokio::time::sleep(next_send - now).await;
            }
            next_send += interval;
        }
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
        let request = Request::post(uri)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("valid request");
        let sent = Instant::now();
        let outcome = client.request(request).await;
        tally.requests += 1;
        match outcome {
            Ok(response) if response.status() == StatusCode::ACCEPTED => {
                let body = response.into_body().collect().await.map(|b| b.to_bytes());
                tally.record(sent.elapsed());
                match body
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Report>(&b).ok())
                {
                    Some(report) => {
                        for event in report.events {
                            match event.status.as_str() {
                                "stored" => {
                                    let event_type =
                                        event.r#type.unwrap_or_default().to_ascii_lowercase();
                                    *tally
                                        .stored
                                        .entry(format!("{session}.{event_type}"))
                                        .or_default() += 1;
                                }
                                "duplicate" => tally.duplicates += 1,
                                other => *tally.errors.entry(other.to_owned()).or_default() += 1,
                            }
                        }
                    }
                    None => *tally.errors.entry("unreadable 202".to_owned()).or_default() += 1,
                }
            }
            Ok(response) => {
                *tally
                    .errors
                    .entry(response.status().as_u16().to_string())
                    .or_default() += 1;
                let _ = response.into_body().collect().await;
            }
            Err(_) => *tally.errors.entry("transport".to_owned()).or_default() += 1,
        }
    }
    tally
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
