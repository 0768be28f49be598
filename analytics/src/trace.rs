//! Continuing the gateway's traces: each batch's span links to the trace of
//! every message in it (W3C `traceparent`/`tracestate` headers), the
//! OpenTelemetry convention for work that consumes many messages at once.

use async_nats::HeaderMap;
use opentelemetry::{propagation::Extractor, trace::TraceContextExt as _};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Links kept per batch span; the SDK drops links past its own limit anyway.
const MAX_LINKS: usize = 128;

struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_ref()).collect()
    }
}

/// Links `span` to the traces the messages' headers carry on.
pub fn link_messages<'a>(span: &tracing::Span, headers: impl Iterator<Item = &'a HeaderMap>) {
    if span.is_disabled() {
        return;
    }
    let linked = headers
        .filter(|h| h.get("traceparent").is_some())
        .take(MAX_LINKS);
    for headers in linked {
        let context =
            opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
        let remote = context.span().span_context().clone();
        if remote.is_valid() {
            span.add_link(remote);
        }
    }
}
