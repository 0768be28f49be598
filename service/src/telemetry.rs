//! Logs as structured lines, and traces exported over OTLP when an endpoint
//! is configured.

use std::io::IsTerminal as _;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer, layer::SubscriberExt, util::SubscriberInitExt};

/// Log and trace settings; flags with environment fallbacks.
#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryArgs {
    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Which logs to keep, as a tracing filter (e.g. `info,jimbot_gateway=debug`).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    pub log_filter: String,

    /// OTLP/gRPC collector to export traces to (e.g. `http://127.0.0.1:4317`);
    /// traces are not exported when unset.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line, for machines.
    Json,
    /// Human-readable lines, for a terminal.
    Text,
}

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The log filter does not parse.
    #[error("invalid log filter {filter:?}")]
    Filter {
        /// The filter as given.
        filter: String,
        /// The parser's complaint.
        source: tracing_subscriber::filter::ParseError,
    },
    /// The OTLP exporter could not be built.
    #[error("cannot set up the OTLP exporter for {endpoint}")]
    Otlp {
        /// The endpoint as given.
        endpoint: String,
        /// The exporter's complaint.
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// A global subscriber was already installed.
    #[error("logging was already initialised")]
    AlreadyInitialised(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps the trace pipeline alive; flushes pending spans when dropped.
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Installs the global subscriber for `service` (must run inside a Tokio
    /// runtime when an OTLP endpoint is set).
    pub fn init(service: &'static str, args: &TelemetryArgs) -> Result<Self, TelemetryError> {
        let filter =
            EnvFilter::try_new(&args.log_filter).map_err(|source| TelemetryError::Filter {
                filter: args.log_filter.clone(),
                source,
            })?;
        let fmt = match args.log_format {
            LogFormat::Json => tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .boxed(),
            // Colours only on a terminal: in a file or pipe the escape codes
            // are raw control characters.
            LogFormat::Text => tracing_subscriber::fmt::layer()
                .with_ansi(std::io::stdout().is_terminal())
                .boxed(),
        };

        let provider = args
            .otlp_endpoint
            .as_deref()
            .map(|endpoint| tracer_provider(service, endpoint))
            .transpose()?;
        let otel = provider
            .as_ref()
            .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer(service)));

        tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .with(otel)
            .try_init()?;
        if let Some(endpoint) = &args.otlp_endpoint {
            tracing::info!(%endpoint, "exporting traces over OTLP");
        }
        Ok(Self { provider })
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("flushing traces failed: {e}");
        }
    }
}

fn tracer_provider(
    service: &'static str,
    endpoint: &str,
) -> Result<SdkTracerProvider, TelemetryError> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|source| TelemetryError::Otlp {
            endpoint: endpoint.to_owned(),
            source,
        })?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    // W3C `traceparent`/`tracestate`, as carried in HTTP and NATS headers.
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    crate::trace_context::set_exporting();
    Ok(provider)
}
