//! API keys and client networks: who may call a service.
//!
//! - [`keys`]: keys kept as SHA-256 hashes, compared in constant time;
//! - [`networks`]: CIDR allow-lists, for clients that cannot send a key;
//! - [`http`]: the axum middleware (401 / 403);
//! - [`grpc`]: the tonic interceptor (`UNAUTHENTICATED`);
//! - [`KeyArgs`]: the `--api-keys-file` / `--api-key-hashes` flags.
//!
//! With no keys configured, authentication is off ([`ApiKeys::is_enabled`]).
//! Rejections are counted in `auth_rejections_total{protocol,reason}`;
//! accepted keys, by name, in `auth_authenticated_total{protocol,key}`. A key
//! itself is never logged.

pub mod grpc;
pub mod http;
pub mod keys;
pub mod networks;

use std::{net::IpAddr, path::PathBuf, sync::Arc};

pub use keys::{ApiKeys, constant_time_eq, hash_key};
pub use networks::Networks;

/// Why an authentication setting is unusable. Never holds a key.
#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// The key file could not be read.
    #[error("cannot read the API key file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of a key file (or an entry of the list) is unusable.
    #[error("{unit} {at}: {reason}")]
    Entry {
        /// `line` or `entry`.
        unit: &'static str,
        /// Its number, from 1.
        at: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// No entries at all: refused rather than running without authentication.
    #[error(
        "no API key hashes given (an empty list would turn authentication off; \
         leave the setting unset for that)"
    )]
    NoKeys,
    /// The same error, in a named key file.
    #[error("API key file {path}: {source}")]
    InFile {
        /// The file.
        path: PathBuf,
        /// The error.
        source: Box<AuthConfigError>,
    },
    /// An entry of a network list is not a CIDR or an address.
    #[error("entry {at}: {value:?} is not a network (CIDR such as 10.0.0.0/8) or an address")]
    Network {
        /// Its number, from 1.
        at: usize,
        /// The entry.
        value: String,
    },
    /// Input to hash was empty.
    #[error("no key on standard input")]
    EmptyKey,
}

impl AuthConfigError {
    fn in_file(self, path: &std::path::Path) -> Self {
        Self::InFile {
            path: path.to_owned(),
            source: Box::new(self),
        }
    }
}

/// The flags naming the accepted API keys; with neither, authentication is
/// off. Each is parsed (and a file read) when the flags are, so a bad value
/// stops the service before it starts.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KeyArgs {
    /// File of accepted API keys, as SHA-256 hashes: one `[NAME:]HEX` per
    /// line (`#` comments allowed); NAME shows in logs and metrics. Requests
    /// then need `Authorization: Bearer <key>`.
    #[arg(
        long,
        env = "JIMBOT_API_KEYS_FILE",
        value_name = "PATH",
        value_parser = parse_key_file,
        conflicts_with = "api_key_hashes"
    )]
    pub api_keys_file: Option<ApiKeys>,

    /// Accepted API keys as SHA-256 hashes, comma-separated `[NAME:]HEX`
    /// (instead of a file).
    #[arg(
        long,
        env = "JIMBOT_API_KEY_HASHES",
        value_name = "[NAME:]HEX,...",
        value_parser = parse_key_list,
        hide_env_values = true
    )]
    pub api_key_hashes: Option<ApiKeys>,
}

impl KeyArgs {
    /// The accepted keys (none: authentication off).
    pub fn keys(&self) -> ApiKeys {
        self.api_keys_file
            .clone()
            .or_else(|| self.api_key_hashes.clone())
            .unwrap_or_default()
    }
}

fn parse_key_file(path: &str) -> Result<ApiKeys, AuthConfigError> {
    ApiKeys::from_file(std::path::Path::new(path))
}

fn parse_key_list(list: &str) -> Result<ApiKeys, AuthConfigError> {
    ApiKeys::parse_list(list)
}

/// The hash of a key read from standard input (what `hash-key` commands
/// print): one trailing line break is not part of the key.
pub fn hash_key_input(input: &[u8]) -> Result<String, AuthConfigError> {
    let key = input
        .strip_suffix(b"\n")
        .map(|k| k.strip_suffix(b"\r").unwrap_or(k))
        .unwrap_or(input);
    if key.is_empty() {
        return Err(AuthConfigError::EmptyKey);
    }
    Ok(hash_key(key))
}

/// Who may call a set of routes.
#[derive(Debug, Clone, Default)]
pub struct Access {
    keys: ApiKeys,
    networks: Option<Networks>,
}

/// How a request got in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Granted {
    /// Authentication is off for these routes.
    Open,
    /// With the key of this name.
    Key(Arc<str>),
    /// From an allowed network.
    Network,
}

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// No key where one is required (401).
    MissingKey,
    /// A key that is not accepted, or a malformed `Authorization` (401).
    InvalidKey,
    /// From a network not allowed, without a key (403).
    Network,
}

impl Rejection {
    /// The metric label.
    pub fn reason(self) -> &'static str {
        match self {
            Self::MissingKey => "missing_key",
            Self::InvalidKey => "invalid_key",
            Self::Network => "network",
        }
    }
}

impl Access {
    /// Anyone.
    pub fn open() -> Self {
        Self::default()
    }

    /// A valid key, when any key is configured; anyone otherwise.
    pub fn keys(keys: ApiKeys) -> Self {
        Self {
            keys,
            networks: None,
        }
    }

    /// A peer inside `networks`, or (from anywhere) a valid key.
    pub fn keys_or_networks(keys: ApiKeys, networks: Networks) -> Self {
        Self {
            keys,
            networks: Some(networks),
        }
    }

    /// Whether a key is ever required or a network ever refused.
    pub fn is_restricted(&self) -> bool {
        self.keys.is_enabled() || self.networks.is_some()
    }

    /// The accepted keys.
    pub fn api_keys(&self) -> &ApiKeys {
        &self.keys
    }

    /// Decides on a request from its `Authorization` value and peer address
    /// (unknown peers are outside every network).
    pub fn check(
        &self,
        authorization: Option<&[u8]>,
        peer: Option<IpAddr>,
    ) -> Result<Granted, Rejection> {
        if let Some(networks) = &self.networks {
            if peer.is_some_and(|peer| networks.contains(peer)) {
                return Ok(Granted::Network);
            }
            // Outside the networks: only a key gets in, if keys exist.
            if !self.keys.is_enabled() || authorization.is_none() {
                return Err(Rejection::Network);
            }
        } else if !self.keys.is_enabled() {
            return Ok(Granted::Open);
        }
        let presented = authorization.ok_or(Rejection::MissingKey)?;
        let key = bearer_token(presented).ok_or(Rejection::InvalidKey)?;
        self.keys
            .verify(key)
            .map(Granted::Key)
            .ok_or(Rejection::InvalidKey)
    }
}

/// The token of `Bearer <token>` (scheme in any case).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = token.trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Counts one decision; `protocol` is `http` or `grpc`.
fn record(protocol: &'static str, decision: &Result<Granted, Rejection>) {
    match decision {
        Ok(Granted::Key(name)) => {
            tracing::debug!(protocol, key = %name, "authenticated");
            metrics::counter!("auth_authenticated_total", "protocol" => protocol, "key" => name.to_string())
                .increment(1);
        }
        Ok(_) => {}
        Err(rejection) => {
            tracing::debug!(protocol, reason = rejection.reason(), "request refused");
            metrics::counter!("auth_rejections_total", "protocol" => protocol, "reason" => rejection.reason())
                .increment(1);
        }
    }
}

/// Describes the metrics (call once per process).
pub fn describe_metrics() {
    metrics::describe_counter!(
        "auth_rejections_total",
        "Requests refused by authentication, by protocol and reason (missing_key, invalid_key, network)"
    );
    metrics::describe_counter!(
        "auth_authenticated_total",
        "Requests let in by an API key, by protocol and key name"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> ApiKeys {
        ApiKeys::parse_list(&format!("ops:{}", hash_key(b"right"))).expect("valid")
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().expect("address"))
    }

    #[test]
    fn keys_only() {
        let access = Access::keys(keys());
        assert_eq!(
            access.check(None, ip("127.0.0.1")),
            Err(Rejection::MissingKey)
        );
        assert_eq!(
            access.check(Some(b"Bearer wrong"), None),
            Err(Rejection::InvalidKey)
        );
        assert_eq!(
            access.check(Some(b"Basic right"), None),
            Err(Rejection::InvalidKey)
        );
        assert_eq!(
            access.check(Some(b"Bearer "), None),
            Err(Rejection::InvalidKey)
        );
        assert_eq!(
            access.check(Some(b"bearer right"), None),
            Ok(Granted::Key("ops".into()))
        );
        assert_eq!(
            Access::keys(ApiKeys::none()).check(None, None),
            Ok(Granted::Open)
        );
    }

    #[test]
    fn keys_or_networks() {
        let nets: Networks = "10.0.0.0/8".parse().expect("valid");
        let access = Access::keys_or_networks(keys(), nets.clone());
        assert_eq!(access.check(None, ip("10.1.1.1")), Ok(Granted::Network));
        assert_eq!(
            access.check(None, ip("192.168.0.1")),
            Err(Rejection::Network)
        );
        assert_eq!(access.check(None, None), Err(Rejection::Network));
        assert_eq!(
            access.check(Some(b"Bearer right"), ip("192.168.0.1")),
            Ok(Granted::Key("ops".into()))
        );
        assert_eq!(
            access.check(Some(b"Bearer wrong"), ip("192.168.0.1")),
            Err(Rejection::InvalidKey)
        );
        // Without keys, the network alone decides.
        let access = Access::keys_or_networks(ApiKeys::none(), nets);
        assert_eq!(
            access.check(Some(b"Bearer right"), ip("192.168.0.1")),
            Err(Rejection::Network)
        );
    }

    #[test]
    fn hashing_input_drops_one_line_break() {
        assert_eq!(hash_key_input(b"right\n").expect("key"), hash_key(b"right"));
        assert_eq!(
            hash_key_input(b"right\r\n").expect("key"),
            hash_key(b"right")
        );
        assert_eq!(hash_key_input(b"right").expect("key"), hash_key(b"right"));
        assert_eq!(
            hash_key_input(b"right\n\n").expect("key"),
            hash_key(b"right\n")
        );
        assert!(hash_key_input(b"\n").is_err());
        assert!(hash_key_input(b"").is_err());
    }
}
