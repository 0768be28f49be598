//! Connection setup shared by the services: one set of flags, one way to
//! authenticate, and patience while the server is not up yet.

use std::{path::PathBuf, time::Duration};

use async_nats::{Client, ConnectOptions, ServerAddr};

/// How to reach and authenticate to NATS; flags with environment fallbacks.
#[derive(Debug, Clone, clap::Args)]
pub struct NatsArgs {
    /// NATS server URLs, comma-separated (any one of a cluster is enough).
    #[arg(
        long = "nats-url",
        env = "NATS_URL",
        default_value = "nats://127.0.0.1:4222",
        value_delimiter = ','
    )]
    pub urls: Vec<ServerAddr>,

    /// User name for user/password authentication.
    #[arg(long = "nats-user", env = "NATS_USER", requires = "password")]
    pub user: Option<String>,

    /// Password for user/password authentication.
    #[arg(
        long = "nats-password",
        env = "NATS_PASSWORD",
        requires = "user",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// Token authentication.
    #[arg(
        long = "nats-token",
        env = "NATS_TOKEN",
        conflicts_with_all = ["user", "nkey", "creds"],
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// NKey seed (starts with `SU`) for nkey authentication.
    #[arg(
        long = "nats-nkey",
        env = "NATS_NKEY",
        conflicts_with_all = ["user", "creds"],
        hide_env_values = true
    )]
    pub nkey: Option<String>,

    /// Credentials file (JWT and nkey seed) for decentralised authentication.
    #[arg(long = "nats-creds", env = "NATS_CREDS", conflicts_with = "user")]
    pub creds: Option<PathBuf>,

    /// PEM file of CA certificates to trust for TLS.
    #[arg(long = "nats-tls-ca", env = "NATS_TLS_CA")]
    pub tls_ca: Option<PathBuf>,

    /// PEM client certificate for mutual TLS (with --nats-tls-key).
    #[arg(long = "nats-tls-cert", env = "NATS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM client key for mutual TLS (with --nats-tls-cert).
    #[arg(long = "nats-tls-key", env = "NATS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Refuse to connect without TLS.
    #[arg(long = "nats-tls-required", env = "NATS_TLS_REQUIRED")]
    pub tls_required: bool,
}

impl NatsArgs {
    /// Settings for a server at `url` with no authentication.
    pub fn new(url: &str) -> Result<Self, ConnectError> {
        let addr = url.parse::<ServerAddr>().map_err(|e| ConnectError {
            kind: ConnectErrorKind::InvalidConfig,
            message: format!("invalid NATS URL {url:?}: {e}"),
        })?;
        Ok(Self {
            urls: vec![addr],
            user: None,
            password: None,
            token: None,
            nkey: None,
            creds: None,
            tls_ca: None,
            tls_cert: None,
            tls_key: None,
            tls_required: false,
        })
    }

    /// The URLs as one comma-separated string for logs, without any
    /// credentials they carry (`nats://user:password@host`).
    pub fn urls_display(&self) -> String {
        let urls: Vec<String> = self
            .urls
            .iter()
            .map(|u| redact_credentials(u.as_url_str()))
            .collect();
        urls.join(",")
    }

    async fn options(&self, name: &str) -> Result<ConnectOptions, ConnectError> {
        let mut options = ConnectOptions::new()
            .name(name)
            .connection_timeout(Duration::from_secs(5))
            // Keep reconnecting forever: a service outlives NATS restarts.
            .max_reconnects(None)
            .event_callback(|event| async move {
                match event {
                    async_nats::Event::Connected => {
                        tracing::info!("NATS connection (re)established")
                    }
                    async_nats::Event::Disconnected => tracing::warn!("NATS connection lost"),
                    other => tracing::info!(event = %other, "NATS connection event"),
                }
            });
        if let (Some(user), Some(password)) = (&self.user, &self.password) {
            options = options.user_and_password(user.clone(), password.clone());
        }
        if let Some(token) = &self.token {
            options = options.token(token.clone());
        }
        if let Some(seed) = &self.nkey {
            options = options.nkey(seed.clone());
        }
        if let Some(creds) = &self.creds {
            options = options
                .credentials_file(creds)
                .await
                .map_err(|e| ConnectError {
                    kind: ConnectErrorKind::InvalidConfig,
                    message: format!("cannot read credentials file {}: {e}", creds.display()),
                })?;
        }
        for path in [&self.tls_ca, &self.tls_cert, &self.tls_key]
            .into_iter()
            .flatten()
        {
            std::fs::metadata(path).map_err(|e| ConnectError {
                kind: ConnectErrorKind::InvalidConfig,
                message: format!("cannot read TLS file {}: {e}", path.display()),
            })?;
        }
        if let Some(ca) = &self.tls_ca {
            options = options.add_root_certificates(ca.clone());
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
        Ok(options.require_tls(self.tls_required))
    }
}

/// `scheme://user:secret@host` -> `scheme://***@host`.
fn redact_credentials(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) if scheme.is_empty() => format!("***@{}", &rest[at + 1..]),
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Why a connection could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectErrorKind {
    /// The settings themselves are wrong (bad URL, unreadable credentials).
    InvalidConfig,
    /// The server refused the credentials.
    Authentication,
    /// The server could not be reached (yet).
    Unreachable,
}

/// A failed connection attempt.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    kind: ConnectErrorKind,
    message: String,
}

impl ConnectError {
    /// The kind of failure, for callers to match on.
    pub fn kind(&self) -> ConnectErrorKind {
        self.kind
    }
}

/// Connects once.
pub async fn connect(args: &NatsArgs, name: &str) -> Result<Client, ConnectError> {
    let options = args.options(name).await?;
    options
        .connect(args.urls.clone())
        .await
        .map_err(|e| ConnectError {
            kind: match e.kind() {
                async_nats::ConnectErrorKind::Authentication
                | async_nats::ConnectErrorKind::AuthorizationViolation => {
                    ConnectErrorKind::Authentication
                }
                // A TLS failure happens after the server answered: retrying
                // the same certificates will not help.
                async_nats::ConnectErrorKind::ServerParse | async_nats::ConnectErrorKind::Tls => {
                    ConnectErrorKind::InvalidConfig
                }
                // async-nats reports a handshake the server failed (say an
                // untrusted certificate) as I/O; it is no less final.
                _ if tls_rejected(&e) => ConnectErrorKind::InvalidConfig,
                _ => ConnectErrorKind::Unreachable,
            },
            message: format!("cannot connect to NATS at {}: {e}", args.urls_display()),
        })
}

/// Whether `error`, or anything it was caused by, is a TLS error (carried
/// inside an I/O error, as rustls's stream adapters do).
fn tls_rejected(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        let wrapped = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .is_some_and(|inner| inner.is::<rustls::Error>());
        if wrapped || e.is::<rustls::Error>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Connects, retrying with capped exponential backoff while the server is
/// unreachable (it may still be starting). Gives up at once on settings that
/// cannot work: a bad URL, unreadable credential or TLS files, a failed TLS
/// handshake, or credentials the server refuses. Race it against a shutdown
/// signal to stop waiting.
pub async fn connect_with_retry(args: &NatsArgs, name: &str) -> Result<Client, ConnectError> {
    let mut delay = Duration::from_millis(100);
    let mut attempt: u32 = 1;
    loop {
        match connect(args, name).await {
            Ok(client) => {
                tracing::info!(url = %args.urls_display(), attempt, "connected to NATS");
                return Ok(client);
            }
            Err(e) if e.kind() != ConnectErrorKind::Unreachable => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, attempt, retry_in = ?delay, "NATS not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                attempt += 1;
            }
        }
    }
}
