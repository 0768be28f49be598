//! Continuing the gateway's traces. Each message that carries W3C trace
//! context (`traceparent`/`tracestate` headers) gets an `analytics.event`
//! span in its own trace, a child of the gateway span that published it, and
//! the batch span that applied it links to every such trace: the
//! OpenTelemetry convention for work that consumes many messages at once.
//! Nothing here runs unless spans are exported.

use async_nats::HeaderMap;
use jimbot_service::trace_context::{self, NatsHeaders};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Links kept per batch span; the SDK drops links past its own limit anyway.
const MAX_LINKS: usize = 128;

/// The spans of one batch's traced messages; they end when this is dropped,
/// once the batch is committed.
#[must_use = "the message spans end when this is dropped"]
#[derive(Debug)]
pub struct MessageSpans(#[allow(dead_code)] Vec<tracing::Span>);

/// Starts a span per traced message, each continuing its message's trace and
/// linked to `batch`, and links `batch` to (at most [`MAX_LINKS`] of) them.
pub fn message_spans<'a>(
    batch: &tracing::Span,
    headers: impl Iterator<Item = &'a HeaderMap>,
) -> MessageSpans {
    if batch.is_disabled() || !trace_context::exporting() {
        return MessageSpans(Vec::new());
    }
    let batch_context = batch.context();
    let batch_span = {
        use opentelemetry::trace::TraceContextExt as _;
        batch_context.span().span_context().clone()
    };
    let mut spans = Vec::new();
    for headers in headers.filter(|h| h.get("traceparent").is_some()) {
        let Some(remote) = trace_context::remote_span(&NatsHeaders(headers)) else {
            continue;
        };
        if spans.len() < MAX_LINKS {
            batch.add_link(remote);
        }
        let span = tracing::info_span!(parent: None, "analytics.event");
        trace_context::continue_remote(&span, &NatsHeaders(headers));
        span.add_link(batch_span.clone());
        spans.push(span);
    }
    MessageSpans(spans)
}
