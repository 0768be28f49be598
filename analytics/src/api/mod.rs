//! The query API on `/api/v1/analytics/...`: JSON by default, CSV with
//! `Accept: text/csv`.

mod csv;
mod error;
mod params;

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use jimbot_nats::topology::{consumers, streams};
use serde::Serialize;
use serde_json::json;

pub use error::ApiError;
pub use params::{DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET};

use self::{csv::Field, params::Params};
use crate::{
    consumer::Progress,
    domain::RunId,
    store::{Reader, StoreError},
};

const RUN_PARAMS: &[&str] = &["session", "from", "to", "outcome", "limit", "offset"];
const PAGE_PARAMS: &[&str] = &["limit", "offset"];

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct ApiState {
    reader: Reader,
    progress: Arc<Progress>,
}

impl ApiState {
    /// State over the database's reader and the consumer's progress.
    pub fn new(reader: Reader, progress: Arc<Progress>) -> Self {
        Self { reader, progress }
    }
}

/// The query routes.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/analytics/summary", get(summary))
        .route("/api/v1/analytics/runs", get(runs))
        .route("/api/v1/analytics/runs/{id}", get(run))
        .route("/api/v1/analytics/jokers", get(jokers))
        .with_state(state)
}

/// Whether the client asked for CSV.
fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| {
            v.trim()
                .split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
        })
}

fn csv_response(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// Runs a database read off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| {
            ApiError::Store(crate::store::StoreError::new(
                crate::store::StoreErrorKind::Query,
                format!("query task failed: {e}"),
            ))
        })?
        .map_err(ApiError::from)
}

#[derive(Serialize)]
struct ConsumerView {
    stream: &'static str,
    consumer: &'static str,
    pending: u64,
    lag_seconds: f64,
    last_applied_seq: u64,
}

async fn summary(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    Params::parse(query.as_deref(), &[])?;
    let reader = state.reader.clone();
    let summary = blocking(move || reader.summary()).await?;
    let consumer = ConsumerView {
        stream: streams::GAME_EVENTS,
        consumer: consumers::ANALYTICS,
        pending: state.progress.pending(),
        lag_seconds: state.progress.lag().as_secs_f64(),
        last_applied_seq: state.progress.last_seq().max(summary.last_applied_seq),
    };
    if wants_csv(&headers) {
        let mut fields = vec![
            ("runs", summary.runs.to_string()),
            ("in_progress", summary.in_progress.to_string()),
            ("won", summary.won.to_string()),
            ("lost", summary.lost.to_string()),
            ("abandoned", summary.abandoned.to_string()),
            (
                "win_rate",
                summary.win_rate.map(|r| r.to_string()).unwrap_or_default(),
            ),
            (
                "mean_final_ante",
                summary
                    .mean_final_ante
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
            ),
            ("events_processed", summary.events_processed.to_string()),
            ("dead_letters", summary.dead_letters.to_string()),
            ("consumer_pending", consumer.pending.to_string()),
            ("consumer_lag_seconds", consumer.lag_seconds.to_string()),
            ("last_applied_seq", consumer.last_applied_seq.to_string()),
        ]
        .into_iter()
        .map(|(name, value)| Field {
            name: name.to_owned(),
            value,
        })
        .collect::<Vec<_>>();
        fields.extend(summary.events_by_type.iter().map(|(t, n)| Field {
            name: format!("events.{t}"),
            value: n.to_string(),
        }));
        return Ok(csv_response(csv::render(&fields)));
    }
    let mut body = serde_json::to_value(&summary).unwrap_or_default();
    body["consumer"] = json!(consumer);
    Ok(Json(body).into_response())
}

async fn runs(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref(), RUN_PARAMS)?;
    let (filter, page) = (params.run_filter()?, params.page()?);
    let reader = state.reader.clone();
    let (runs, total) = blocking(move || reader.runs(&filter, page)).await?;
    if wants_csv(&headers) {
        return Ok(csv_response(csv::render(&runs)));
    }
    let next_offset =
        (page.offset + (runs.len() as u64) < total).then(|| page.offset + runs.len() as u64);
    Ok(Json(json!({
        "runs": runs,
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
        "next_offset": next_offset,
    }))
    .into_response())
}

async fn run(
    State(state): State<ApiState>,
    Path(raw_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    Params::parse(query.as_deref(), &[])?;
    let id = RunId::parse(&raw_id).ok_or_else(|| {
        ApiError::bad(
            "id",
            format!(
                "must be a positive integer, got {:?}",
                raw_id.chars().take(64).collect::<String>()
            ),
        )
    })?;
    let reader = state.reader.clone();
    let detail = blocking(move || reader.run(id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no run {id}")))?;
    if wants_csv(&headers) {
        return Ok(csv_response(csv::render(&detail.rounds)));
    }
    let replay = replay(
        &detail.run.session,
        detail.run.first_seq,
        detail.run.last_seq,
    );
    let mut body = serde_json::to_value(&detail).unwrap_or_default();
    body["replay"] = replay;
    Ok(Json(body).into_response())
}

/// How to read a run's events back from the stream.
fn replay(session: &str, first_seq: i64, last_seq: i64) -> serde_json::Value {
    let filter = jimbot_nats::subject::game_session(&jimbot_nats::Token::new(session));
    json!({
        "stream": streams::GAME_EVENTS,
        "filter_subject": filter,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "messages": "an ordered consumer on the stream with this filter, from first_seq, stopping after last_seq",
        "gateway": format!(
            "/api/v1/sessions/{}/events?from_seq={first_seq}&to_seq={last_seq}",
            jimbot_nats::Token::new(session)
        ),
    })
}

async fn jokers(
    State(state): State<ApiState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let page = Params::parse(query.as_deref(), PAGE_PARAMS)?.page()?;
    let reader = state.reader.clone();
    let (jokers, total) = blocking(move || reader.jokers(page)).await?;
    if wants_csv(&headers) {
        return Ok(csv_response(csv::render(&jokers)));
    }
    Ok(Json(json!({
        "jokers": jokers,
        "total": total,
        "limit": page.limit,
        "offset": page.offset,
    }))
    .into_response())
}
