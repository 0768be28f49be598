//! Every way a request can fail, and the HTTP answer for each.
//!
//! The mod treats any non-2xx as "retry later": these are only for the cases
//! where re-sending is right (NATS unavailable, overload) or where the client
//! is not the mod (command producers).

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

/// Seconds a client should wait before re-sending after a 503 or 429.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Seconds to wait after a full store: space comes back only when an
/// operator makes room or old events age out, not within a second.
pub const STORE_FULL_RETRY_AFTER_SECS: u64 = 10;

/// A request the gateway cannot serve now, or at all.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// NATS is down, a stream is missing, or acknowledgements timed out.
    /// Nothing in the request is claimed to be stored.
    #[error("{0}")]
    Unavailable(String),
    /// No stream captures the subject (the server lost its store, say):
    /// answered like [`ApiError::Unavailable`], and provisioning is re-run.
    #[error("{0}")]
    StreamMissing(String),
    /// JetStream refuses to store more: the stream reached its byte or
    /// message limit, or the server its storage limit. Answered 503 with
    /// the reason `store_full`; nothing in the request is claimed stored.
    #[error("{0}")]
    StoreFull(String),
    /// Too many requests are in flight.
    #[error("too many requests in flight; retry shortly")]
    Overloaded,
    /// The session sent more requests than its rate limit allows.
    #[error("rate limit of session {session} exceeded")]
    RateLimited {
        /// The session.
        session: String,
        /// When the next request will be allowed, in whole seconds.
        retry_after_secs: u64,
    },
    /// A message is larger than NATS accepts.
    #[error("{0}")]
    TooLarge(String),
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A client sent something unusable.
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// The valid values, when the problem is an unknown one.
        valid: Option<&'static [&'static str]>,
    },
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, retry_after) = match &self {
            ApiError::Unavailable(_) | ApiError::StreamMissing(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, Some(RETRY_AFTER_SECS))
            }
            ApiError::StoreFull(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(STORE_FULL_RETRY_AFTER_SECS),
            ),
            ApiError::Overloaded => (StatusCode::TOO_MANY_REQUESTS, Some(RETRY_AFTER_SECS)),
            ApiError::RateLimited {
                retry_after_secs, ..
            } => (StatusCode::TOO_MANY_REQUESTS, Some(*retry_after_secs)),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, None),
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, None),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, None),
        };
        let mut body = json!({ "error": self.to_string() });
        if let ApiError::BadRequest {
            valid: Some(valid), ..
        } = &self
        {
            body["valid"] = json!(valid);
        }
        if let ApiError::StoreFull(_) = &self {
            // Tells clients and operators why: a full store, not a passing outage.
            body["reason"] = json!("store_full");
        }
        if let Some(seconds) = retry_after {
            body["retry_after_secs"] = json!(seconds);
        }
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
