//! Logs to stderr (text or JSON), and traces over OTLP/HTTP when an endpoint is configured. Without one no
//! exporter exists: nothing leaves the process.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{Config, LogFormat};

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// The installed subscriber's exporter, flushed by [`shutdown`](Self::shutdown).
pub(crate) struct Telemetry {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered and stops the exporter.
    pub(crate) fn shutdown(self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("agentic-server: could not flush the last traces: {error}");
        }
    }
}

/// Installs the global subscriber: the log filter, the log format, and the OTLP exporter when configured.
pub(crate) fn init(config: &Config) -> Result<Telemetry, String> {
    // The log filter applies to the logs only: `AGENTIC_LOG=warn` quiets the logs, not the traces.
    let filter = EnvFilter::new(&config.log);
    let log: BoxedLayer = match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter).boxed(),
        LogFormat::Json => {
            tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_filter(filter).boxed()
        }
    };
    #[cfg(feature = "otlp")]
    let (traces, provider) = match &config.otlp {
        Some(otlp) => {
            let (layer, provider) = otlp_layer(otlp)?;
            (Some(layer), Some(provider))
        }
        None => (None, None),
    };
    #[cfg(not(feature = "otlp"))]
    let traces: Option<BoxedLayer> = match &config.otlp {
        Some(otlp) => {
            return Err(format!(
                "AGENTIC_OTLP_ENDPOINT is {} but this build has no OTLP export (cargo feature `otlp`)",
                otlp.endpoint
            ));
        }
        None => None,
    };
    let layers: Vec<BoxedLayer> = std::iter::once(log).chain(traces).collect();
    tracing_subscriber::registry()
        .with(layers)
        .try_init()
        .map_err(|e| format!("cannot install the log subscriber: {e}"))?;
    Ok(Telemetry {
        #[cfg(feature = "otlp")]
        provider,
    })
}

/// The platform's span layer exporting in batches over OTLP/HTTP (protobuf). Requests that arrive with a
/// `traceparent` follow their caller's sampling decision; new traces are recorded at `sample_ratio`.
#[cfg(feature = "otlp")]
fn otlp_layer(otlp: &crate::config::Otlp) -> Result<(BoxedLayer, opentelemetry_sdk::trace::SdkTracerProvider), String> {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(otlp.endpoint.clone())
        .build()
        .map_err(|e| format!("cannot build the OTLP exporter for {}: {e}", otlp.endpoint))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(otlp.sample_ratio))))
        .with_resource(opentelemetry_sdk::Resource::builder().with_service_name(otlp.service_name.clone()).build())
        .build();
    // The platform's spans are at `info`, where the layer records by default: dependencies' debug and trace
    // spans stay out of the traces.
    let layer = agentic_core::telemetry::span_layer(provider.tracer("agentic")).boxed();
    Ok((layer, provider))
}
