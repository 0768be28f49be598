//! Every way a query can fail, and the HTTP answer for each.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::store::StoreError;

/// A query that cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A parameter is malformed, out of range, repeated or unknown.
    #[error("{parameter}: {message}")]
    BadParameter {
        /// The parameter (or path segment) at fault.
        parameter: String,
        /// What is wrong, and what would be right.
        message: String,
    },
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The database failed.
    #[error("the analytics database failed: {0}")]
    Store(#[from] StoreError),
}

impl ApiError {
    pub(crate) fn bad(parameter: &str, message: impl Into<String>) -> Self {
        Self::BadParameter {
            parameter: parameter.chars().take(64).collect(),
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Store(e) => {
                tracing::error!(error = %e, "query failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let mut body = json!({ "error": self.to_string() });
        if let ApiError::BadParameter { parameter, .. } = &self {
            body["parameter"] = json!(parameter);
        }
        (status, Json(body)).into_response()
    }
}
