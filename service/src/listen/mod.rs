//! How a service's listeners accept and keep connections: optional TLS, a
//! bound on open connections, and the timeouts that close connections which
//! send too slowly, send nothing, or stop reading.
//!
//! Every HTTP and gRPC listener of a service is served here, HTTP/1.1 and
//! HTTP/2 (prior knowledge, or ALPN over TLS) alike, over TLS on every
//! listener when `--tls-cert` is set (but loopback ones with
//! `--tls-except-loopback`):
//!
//! - a new connection has `--header-timeout` to finish its TLS handshake and
//!   send its first request head (HTTP/1.1) or connection preface (HTTP/2);
//! - an HTTP/1.1 connection then has `--header-timeout` after each response
//!   to send the whole next request head (hyper's header read timeout), so a
//!   kept-alive connection idle for that long is closed too;
//! - an HTTP/2 connection is pinged every [`H2_PING_INTERVAL`] and closed
//!   when a ping goes unanswered for [`H2_PING_TIMEOUT`];
//! - a request body has `--body-timeout` from its head to arrive whole;
//! - a write that makes no progress for `--write-timeout` (the client
//!   stopped reading) closes the connection, dropping the response;
//! - at most `--max-connections` are open at once (across the process's
//!   listeners); past it, new ones wait in the kernel's accept queue.

mod body;
mod watched;

use std::{
    error::Error as StdError,
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{Router, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    time::Instant,
};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::tls::{self, TlsError};

/// How often an idle HTTP/2 connection is pinged.
pub const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
/// How long a ping may go unanswered before the connection is closed.
pub const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);

/// File descriptors kept free for everything but client connections (NATS,
/// logs, the analytics database, outgoing OTLP).
const RESERVED_FDS: u64 = 256;

/// TLS, connection limits and timeouts; flags with environment fallbacks,
/// shared by every service's HTTP and gRPC listeners.
#[derive(Debug, Clone, clap::Args)]
pub struct ListenArgs {
    /// PEM certificate chain (leaf first) to serve HTTPS and gRPC over TLS
    /// with; needs --tls-key. Without both, listeners speak plain text.
    #[arg(
        id = "listen_tls_cert",
        long = "tls-cert",
        env = "JIMBOT_TLS_CERT",
        value_name = "PEM",
        requires = "listen_tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(
        id = "listen_tls_key",
        long = "tls-key",
        env = "JIMBOT_TLS_KEY",
        value_name = "PEM",
        requires = "listen_tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

    /// With TLS, keep loopback listeners plain text: the game mod speaks
    /// plain HTTP to `localhost`, while other machines get TLS.
    #[arg(long, env = "JIMBOT_TLS_EXCEPT_LOOPBACK", requires = "listen_tls_cert")]
    pub tls_except_loopback: bool,

    /// Client connections open at once, across all listeners; further ones
    /// wait in the kernel's accept queue. Capped by the open-file limit.
    #[arg(
        long,
        env = "JIMBOT_MAX_CONNECTIONS",
        default_value_t = 16_384,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub max_connections: u32,

    /// Time a connection has to send a complete request head: from accept
    /// (TLS handshake included) for the first, from the previous response
    /// for the next ones. Slow or idle connections are closed after it.
    #[arg(
        long,
        env = "JIMBOT_HEADER_TIMEOUT",
        default_value = "10s",
        value_parser = parse_duration
    )]
    pub header_timeout: Duration,

    /// Time a client has, once a request head is in, to send the whole
    /// body; a body still arriving after it fails the request.
    #[arg(
        long,
        env = "JIMBOT_BODY_TIMEOUT",
        default_value = "60s",
        value_parser = parse_duration
    )]
    pub body_timeout: Duration,

    /// Time a response write may make no progress (the client is not
    /// reading) before the connection is closed.
    #[arg(
        long,
        env = "JIMBOT_WRITE_TIMEOUT",
        default_value = "30s",
        value_parser = parse_duration
    )]
    pub write_timeout: Duration,
}

impl ListenArgs {
    /// Reads the TLS files and sizes the connection bound; fails on files
    /// that cannot be used.
    pub(crate) fn prepare(&self) -> Result<Arc<Listening>, TlsError> {
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(tls::acceptor(cert, key)?),
            _ => None,
        };
        let max_connections = connection_budget(u64::from(self.max_connections));
        Ok(Arc::new(Listening {
            tls,
            tls_except_loopback: self.tls_except_loopback,
            permits: Arc::new(Semaphore::new(max_connections)),
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            write_timeout: self.write_timeout,
        }))
    }
}

/// What the listeners of one process share.
pub(crate) struct Listening {
    tls: Option<TlsAcceptor>,
    tls_except_loopback: bool,
    permits: Arc<Semaphore>,
    header_timeout: Duration,
    body_timeout: Duration,
    write_timeout: Duration,
}

impl std::fmt::Debug for Listening {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listening")
            .field("tls", &self.tls.is_some())
            .field("tls_except_loopback", &self.tls_except_loopback)
            .field("free_connections", &self.permits.available_permits())
            .field("header_timeout", &self.header_timeout)
            .field("body_timeout", &self.body_timeout)
            .field("write_timeout", &self.write_timeout)
            .finish()
    }
}

impl Listening {
    pub(crate) fn scheme(&self) -> &'static str {
        match (&self.tls, self.tls_except_loopback) {
            (None, _) => "plain",
            (Some(_), false) => "tls",
            (Some(_), true) => "tls except on loopback",
        }
    }

    /// The TLS a listener on `local` serves, if any.
    fn tls_on(&self, local: Option<SocketAddr>) -> Option<TlsAcceptor> {
        let loopback = local.is_some_and(|addr| addr.ip().is_loopback());
        if self.tls_except_loopback && loopback {
            return None;
        }
        self.tls.clone()
    }
}

/// Each connection holds a file descriptor: raises the soft open-file limit
/// to the hard one, and keeps the bound below what that allows, so the
/// process never fails `accept` for want of descriptors.
fn connection_budget(requested: u64) -> usize {
    let allowed = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => soft.saturating_sub(RESERVED_FDS).max(1),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read or raise the open-file limit");
            requested
        }
    };
    if requested > allowed {
        tracing::warn!(
            requested,
            allowed,
            "the open-file limit allows fewer connections than --max-connections; \
             raise it (ulimit -n) to serve more"
        );
    }
    usize::try_from(requested.min(allowed)).unwrap_or(usize::MAX)
}

/// Registers the descriptions of the connection metrics.
pub(crate) fn describe_metrics() {
    metrics::describe_gauge!(
        "http_connections_open",
        "Client connections open, by listener kind (http, grpc)"
    );
    metrics::describe_counter!(
        "http_connections_closed_total",
        "Client connections closed by the server for a reason: header_timeout, \
         write_timeout, tls_handshake"
    );
}

/// Serves `router` on `listener` until `stop` turns true, then stops
/// accepting, lets each connection finish its in-flight requests, and
/// returns when every connection is closed.
pub(crate) async fn serve(
    kind: &'static str,
    listener: TcpListener,
    router: Router,
    listening: Arc<Listening>,
    mut stop: watch::Receiver<bool>,
) {
    let tls = listening.tls_on(listener.local_addr().ok());
    // Every connection task holds a receiver; all dropped = all closed.
    let (closed_tx, closed_rx) = watch::channel(());
    // At most one warning a minute while the limit keeps being reached.
    let mut warned_at: Option<Instant> = None;
    loop {
        let permit = match listening.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if warned_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(60)) {
                    tracing::warn!(
                        kind,
                        "connection limit reached (--max-connections): new connections wait"
                    );
                    warned_at = Some(Instant::now());
                }
                tokio::select! {
                    permit = listening.permits.clone().acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_closed) => break,
                    },
                    () = stopped(&mut stop) => break,
                }
            }
        };
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(kind, &e).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        // Replies are small writes (a 202, an HTTP/2 frame): Nagle's
        // algorithm would hold them back waiting for the peer's ACK.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let connection = Connection {
            kind,
            remote,
            router: router.clone(),
            tls: tls.clone(),
            listening: listening.clone(),
            stop: stop.clone(),
            _permit: permit,
            _open: closed_rx.clone(),
        };
        tokio::spawn(connection.run(tcp));
    }
    drop(listener);
    drop(closed_rx);
    closed_tx.closed().await;
}

async fn accept_failed(kind: &'static str, e: &std::io::Error) {
    use std::io::ErrorKind;
    // The peer gave up before we got to it: nothing wrong here.
    if matches!(
        e.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused
    ) {
        return;
    }
    // Out of descriptors or memory: back off rather than spin.
    tracing::error!(kind, error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// One accepted connection and what it needs.
struct Connection {
    kind: &'static str,
    remote: SocketAddr,
    router: Router,
    tls: Option<TlsAcceptor>,
    listening: Arc<Listening>,
    stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
    _open: watch::Receiver<()>,
}

impl Connection {
    async fn run(mut self, tcp: tokio::net::TcpStream) {
        let _gauge = OpenGauge::new(self.kind);
        let deadline = Instant::now() + self.listening.header_timeout;
        let Some(tls) = self.tls.clone() else {
            self.serve(tcp, deadline).await;
            return;
        };
        let handshake = tokio::select! {
            handshake = tokio::time::timeout_at(deadline, tls.accept(tcp)) => handshake,
            () = stopped(&mut self.stop) => return,
        };
        match handshake {
            Ok(Ok(stream)) => self.serve(stream, deadline).await,
            Ok(Err(e)) => {
                closed(self.kind, "tls_handshake");
                tracing::debug!(kind = self.kind, remote = %self.remote, error = %e, "TLS handshake failed");
            }
            Err(_elapsed) => {
                closed(self.kind, "header_timeout");
                tracing::debug!(kind = self.kind, remote = %self.remote, "TLS handshake too slow; closed");
            }
        }
    }

    /// Serves HTTP/1.1 or HTTP/2 on `stream` until the client closes it, a
    /// timeout closes it, or shutdown has let its requests finish.
    async fn serve<S>(self, stream: S, first_request_by: Instant)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut stop = self.stop.clone();
        let started = Arc::new(AtomicBool::new(false));
        let io = watched::Watched::new(stream, self.listening.write_timeout, started.clone());
        let service = hyper::service::service_fn({
            let router = self.router.clone();
            let remote = self.remote;
            let started = started.clone();
            let body_timeout = self.listening.body_timeout;
            move |request: hyper::Request<Incoming>| {
                started.store(true, Ordering::Relaxed);
                let mut request = request.map(|body| body::Deadline::new(body, body_timeout));
                request.extensions_mut().insert(ConnectInfo(remote));
                router.clone().oneshot(request)
            }
        });
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.listening.header_timeout);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(H2_PING_INTERVAL)
            .keep_alive_timeout(H2_PING_TIMEOUT);
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        tokio::pin!(connection);
        let first_request = tokio::time::sleep_until(first_request_by);
        tokio::pin!(first_request);
        let mut awaiting_first_request = true;
        let mut draining = false;
        loop {
            tokio::select! {
                outcome = connection.as_mut() => {
                    if let Err(e) = outcome {
                        self.ended_with(&*e);
                    }
                    return;
                }
                () = &mut first_request, if awaiting_first_request => {
                    awaiting_first_request = false;
                    if !started.load(Ordering::Relaxed) {
                        closed(self.kind, "header_timeout");
                        tracing::debug!(kind = self.kind, remote = %self.remote, "no request within the header timeout; closed");
                        return;
                    }
                }
                () = stopped(&mut stop), if !draining => {
                    draining = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }

    fn ended_with(&self, error: &(dyn StdError + Send + Sync + 'static)) {
        let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
        while let Some(e) = cause {
            if e.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_timeout)
            {
                closed(self.kind, "header_timeout");
                tracing::debug!(kind = self.kind, remote = %self.remote, "request head too slow; closed");
                return;
            }
            let stalled = e
                .downcast_ref::<std::io::Error>()
                .and_then(std::io::Error::get_ref)
                .is_some_and(|inner| inner.is::<watched::WriteStalled>());
            if stalled {
                closed(self.kind, "write_timeout");
                tracing::debug!(kind = self.kind, remote = %self.remote, error = %e, "closed");
                return;
            }
            cause = e.source();
        }
        tracing::debug!(kind = self.kind, remote = %self.remote, error = %error, "connection ended with an error");
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

fn closed(kind: &'static str, reason: &'static str) {
    metrics::counter!("http_connections_closed_total", "listener" => kind, "reason" => reason)
        .increment(1);
}

/// Counts a connection in `http_connections_open` while it lives.
struct OpenGauge(&'static str);

impl OpenGauge {
    fn new(kind: &'static str) -> Self {
        metrics::gauge!("http_connections_open", "listener" => kind).increment(1.0);
        Self(kind)
    }
}

impl Drop for OpenGauge {
    fn drop(&mut self) {
        metrics::gauge!("http_connections_open", "listener" => self.0).decrement(1.0);
    }
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(raw).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("must be longer than zero".to_owned());
    }
    Ok(duration)
}
