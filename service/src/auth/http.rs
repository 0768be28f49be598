//! The axum middleware: `route_layer(from_fn_with_state(access, enforce))`.
//!
//! 401 with `WWW-Authenticate: Bearer` for a missing or wrong key, 403 for a
//! network not allowed; the bodies say no more than the status.

use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, Request, State},
    http::{StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{Access, Rejection, record};

/// Middleware enforcing `access`. The peer address comes from axum's
/// `ConnectInfo<SocketAddr>`; without it the peer is in no network. On
/// success the request carries the [`super::Granted`] as an extension.
pub async fn enforce(State(access): State<Access>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.as_bytes());
    let decision = access.check(authorization, peer);
    record("http", &decision);
    match decision {
        Ok(granted) => {
            request.extensions_mut().insert(granted);
            next.run(request).await
        }
        Err(rejection) => rejected(rejection),
    }
}

/// The answer to a refused request.
pub fn rejected(rejection: Rejection) -> Response {
    match rejection {
        Rejection::MissingKey | Rejection::InvalidKey => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": "unauthorized" })),
        )
            .into_response(),
        Rejection::Network => {
            (StatusCode::FORBIDDEN, Json(json!({ "error": "forbidden" }))).into_response()
        }
    }
}
