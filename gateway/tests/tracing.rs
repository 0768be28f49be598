//! End-to-end tracing across processes: a request's `traceparent` (or a new
//! trace when it has none) flows from HTTP into the gateway's span, through
//! the NATS message headers, into an analytics span of the same trace; a
//! request to the coordinator's NATS service continues its caller's trace
//! too. The real binaries export over OTLP to a collector run by the test.
//!
//! The analytics and coordinator binaries are the workspace's own, built next
//! to the gateway's by `cargo test --workspace` (what `just test` runs).

use std::{path::PathBuf, time::Duration};

use jimbot_nats::testing::NatsServer;
use jimbot_service::testing::{CollectedSpan, OtlpCollector, ServiceProcess};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const GATEWAY: &str = env!("CARGO_BIN_EXE_jimbot-gateway");
const WAIT: Duration = Duration::from_secs(30);

/// A trace the "game" started: trace id and the caller's span id.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

fn sibling_binary(name: &str) -> String {
    let path: PathBuf = PathBuf::from(GATEWAY).with_file_name(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p {name}` (or the whole workspace's tests)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// The settings that make a service export its spans to `collector` promptly.
fn traced(collector: &OtlpCollector) -> Vec<String> {
    vec![
        "--otlp-endpoint".into(),
        collector.endpoint(),
        // Spans are kept at INFO; the test binaries otherwise log at WARN.
        "--log-filter".into(),
        "warn,jimbot_service=info,jimbot_gateway=info,jimbot_analytics=info,jimbot_coordinator=info"
            .into(),
    ]
}

const FAST_EXPORT: &[(&str, &str)] = &[("OTEL_BSP_SCHEDULE_DELAY", "100")];

fn spawn(binary: &str, nats: &NatsServer, flags: &[String]) -> ServiceProcess {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    ServiceProcess::spawn_with_env(binary, &nats.url(), &flags, FAST_EXPORT).expect("spawn")
}

async fn ready(process: &ServiceProcess) {
    process
        .wait_for("/health/ready", 200, WAIT)
        .await
        .expect("service ready");
}

/// POSTs a heartbeat for `session`, with `traceparent` if given; the status.
async fn post_heartbeat(process: &ServiceProcess, session: &str, traceparent: Option<&str>) -> u16 {
    let body = format!(
        r#"{{"version":1,"event_id":"{session}-hb","source":"BalatroMCP","type":"HEARTBEAT","payload":{{"game_state":"1","version":"0.1.0","uptime":1.5,"headless":true}},"timestamp":1.5}}"#
    );
    let trace_header = traceparent
        .map(|t| format!("traceparent: {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST /s/{session}/api/v1/events HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n{trace_header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(process.http_addr())
        .await
        .expect("connect to the gateway");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8_lossy(&response);
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response}"))
}

fn find<'a>(
    spans: &'a [CollectedSpan],
    service: &str,
    name: &str,
    trace_id: &str,
) -> Option<&'a CollectedSpan> {
    spans
        .iter()
        .find(|s| s.service == service && s.name == name && s.trace_id == trace_id)
}

#[tokio::test]
async fn a_request_trace_continues_through_nats_into_analytics_and_the_coordinator() {
    let nats = NatsServer::start().await.expect("nats-server");
    let collector = OtlpCollector::start().await.expect("collector");
    let data = tempfile::tempdir().expect("temp dir");
    let db = data.path().join("analytics.db");

    let gateway = spawn(GATEWAY, &nats, &traced(&collector));
    let mut analytics_flags = traced(&collector);
    analytics_flags.extend(["--db".into(), db.to_string_lossy().into_owned()]);
    let analytics = spawn(&sibling_binary("jimbot-analytics"), &nats, &analytics_flags);
    let coordinator = spawn(
        &sibling_binary("jimbot-coordinator"),
        &nats,
        &traced(&collector),
    );
    ready(&gateway).await;
    ready(&analytics).await;
    ready(&coordinator).await;

    // 1. The caller's trace: gateway span is its child, analytics the
    //    gateway span's child.
    let traceparent = format!("00-{TRACE_ID}-{CALLER_SPAN}-01");
    assert_eq!(
        post_heartbeat(&gateway, "traced", Some(&traceparent)).await,
        202
    );
    let (gateway_span, analytics_span) = collector
        .wait_for(WAIT, |spans| {
            let gateway = find(spans, "jimbot-gateway", "request", TRACE_ID)?;
            let analytics = find(spans, "jimbot-analytics", "analytics.event", TRACE_ID)?;
            Some((gateway.clone(), analytics.clone()))
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "no gateway and analytics spans in trace {TRACE_ID}; got {:#?}",
                collector.spans()
            )
        });
    assert_eq!(
        gateway_span.parent_span_id, CALLER_SPAN,
        "gateway span's parent"
    );
    assert_eq!(
        analytics_span.parent_span_id, gateway_span.span_id,
        "the analytics span continues the gateway's span, not the caller's"
    );
    let batch = collector
        .spans()
        .into_iter()
        .find(|s| {
            s.service == "jimbot-analytics"
                && s.name == "analytics.batch"
                && s.links
                    .contains(&(TRACE_ID.to_owned(), gateway_span.span_id.clone()))
        })
        .expect("the batch span links to the message's trace");
    assert!(
        analytics_span
            .links
            .contains(&(batch.trace_id.clone(), batch.span_id.clone())),
        "the message span links back to its batch"
    );

    // 2. No traceparent: the gateway starts a trace, analytics joins it.
    assert_eq!(post_heartbeat(&gateway, "untraced", None).await, 202);
    collector
        .wait_for(WAIT, |spans| {
            spans
                .iter()
                .filter(|s| {
                    s.service == "jimbot-gateway"
                        && s.name == "request"
                        && s.parent_span_id.is_empty()
                        && s.trace_id != TRACE_ID
                })
                .find(|root| {
                    spans.iter().any(|s| {
                        s.service == "jimbot-analytics"
                            && s.name == "analytics.event"
                            && s.trace_id == root.trace_id
                            && s.parent_span_id == root.span_id
                    })
                })
                .cloned()
        })
        .await
        .expect("a new trace from the gateway's root span into analytics");

    // 3. The coordinator's NATS service continues its caller's trace.
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let coordinator_trace = "0af7651916cd43dd8448eb211c80319c";
    let coordinator_caller = "b7ad6b7169203331";
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(
        "traceparent",
        format!("00-{coordinator_trace}-{coordinator_caller}-01").as_str(),
    );
    let status = jimbot_schemas::v1::StatusRequest::default();
    client
        .request_with_headers(
            "jimbot.coordinator.status",
            headers,
            prost::Message::encode_to_vec(&status).into(),
        )
        .await
        .expect("coordinator status over NATS");
    let span = collector
        .wait_for(WAIT, |spans| {
            find(
                spans,
                "jimbot-coordinator",
                "coordinator.request",
                coordinator_trace,
            )
            .cloned()
        })
        .await
        .unwrap_or_else(|| panic!("no coordinator span; got {:#?}", collector.spans()));
    assert_eq!(span.parent_span_id, coordinator_caller);
}
