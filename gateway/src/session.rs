//! Which game instance a request belongs to.
//!
//! The mod sends no session or game id, so the gateway takes it from the URL
//! form `/s/{session}/api/v1/...` (a mod selects it with its configured URL
//! alone), else the `X-Jimbot-Session` header, else `default`.

use std::{collections::HashMap, convert::Infallible};

use axum::{
    extract::{FromRequestParts, OriginalUri, Path},
    http::request::Parts,
};
use jimbot_nats::Token;

/// The header naming the session when the URL does not.
pub const SESSION_HEADER: &str = "x-jimbot-session";

/// The session used when a request names none.
pub const DEFAULT_SESSION: &str = "default";

/// A request's session, sanitised into a subject token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Session(pub Token);

impl Session {
    /// The subject token.
    pub fn token(&self) -> &Token {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        if let Ok(Path(params)) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await
            && let Some(session) = params.get("session")
        {
            return Ok(Session(Token::new(session)));
        }
        // A `/s/{session}/` segment the extractor refused (not UTF-8 once
        // percent-decoded) still names a session: use it as sent. Inside a
        // nested router `parts.uri` has lost its `/s/{session}` prefix; the
        // original URI keeps it.
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path(), |original| original.path());
        if let Some(rest) = path.strip_prefix("/s/")
            && let Some((segment, _)) = rest.split_once('/')
        {
            return Ok(Session(Token::new(segment)));
        }
        let header = parts
            .headers
            .get(SESSION_HEADER)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .filter(|value| !value.is_empty());
        Ok(Session(Token::new(
            header.as_deref().unwrap_or(DEFAULT_SESSION),
        )))
    }
}
