//! W3C trace context (`traceparent`, `tracestate`) across process edges: read
//! from HTTP and NATS headers into a span's parent, and written from the
//! current span into the headers of what a service publishes.
//!
//! Without an OTLP endpoint no propagator is installed, spans carry no
//! OpenTelemetry context, and these functions do nothing.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::http;
use opentelemetry::{
    propagation::{Extractor, Injector},
    trace::TraceContextExt as _,
};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The header names of W3C trace context.
pub const HEADERS: [&str; 2] = ["traceparent", "tracestate"];

/// W3C caps `tracestate` at 512 characters; longer is not trace context,
/// and would eat into the room NATS leaves for headers.
const MAX_VALUE_LEN: usize = 512;

static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Whether spans are exported (an OTLP endpoint is configured). Per-message
/// spans cost something on hot paths; they are made only when they go
/// somewhere.
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

pub(crate) fn set_exporting() {
    EXPORTING.store(true, Ordering::Relaxed);
}

/// HTTP request headers as a propagation source.
#[derive(Debug)]
pub struct HttpHeaders<'a>(pub &'a http::HeaderMap);

impl Extractor for HttpHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// NATS message headers as a propagation source.
#[derive(Debug)]
pub struct NatsHeaders<'a>(pub &'a async_nats::HeaderMap);

impl Extractor for NatsHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_ref()).collect()
    }
}

/// The remote span the headers name, if they carry a valid one.
pub fn remote_span(headers: &dyn Extractor) -> Option<opentelemetry::trace::SpanContext> {
    let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(headers));
    let remote = context.span().span_context().clone();
    remote.is_valid().then_some(remote)
}

/// Makes `span` a child of the remote span the headers name, so the work
/// continues the caller's trace. Call before the span is first entered.
pub fn continue_remote(span: &tracing::Span, headers: &dyn Extractor) {
    if span.is_disabled() || !exporting() {
        return;
    }
    let context = opentelemetry::global::get_text_map_propagator(|p| p.extract(headers));
    if context.span().span_context().is_valid() {
        // Fails only if the span already started; then it keeps its own trace.
        let _ = span.set_parent(context);
    }
}

/// The trace headers to put on a message published on behalf of `incoming`:
/// the current span's context when spans are exported (so consumers become
/// its children), otherwise the caller's own headers passed on unchanged.
pub fn outgoing_headers(incoming: &http::HeaderMap) -> Vec<(&'static str, String)> {
    if exporting() {
        let mut injected = Collected(Vec::new());
        let context = tracing::Span::current().context();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&context, &mut injected);
        });
        if !injected.0.is_empty() {
            return injected.0;
        }
    }
    HEADERS
        .into_iter()
        .filter_map(|name| {
            let value = incoming.get(name)?.to_str().ok()?;
            (value.len() <= MAX_VALUE_LEN).then(|| (name, value.to_owned()))
        })
        .collect()
}

struct Collected(Vec<(&'static str, String)>);

impl Injector for Collected {
    fn set(&mut self, key: &str, value: String) {
        // The propagator only writes the W3C names; anything else is dropped
        // rather than leaked into message headers.
        if let Some(name) = HEADERS.into_iter().find(|h| *h == key)
            && value.len() <= MAX_VALUE_LEN
        {
            self.0.push((name, value));
        }
    }
}

/// The span of each HTTP request (as tower-http's default, at INFO: request
/// spans are what gets exported), continuing the caller's `traceparent`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpan;

impl<B> tower_http::trace::MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &http::Request<B>) -> tracing::Span {
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            // Bounded and escaped: the URI is the client's.
            uri = %crate::log_text::untrusted_display(request.uri()),
            version = ?request.version(),
        );
        continue_remote(&span, &HttpHeaders(request.headers()));
        span
    }
}
