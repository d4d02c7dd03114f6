//! Traces: the platform's `tracing` spans as OpenTelemetry spans, and trace context that crosses a queue or a
//! process as W3C `traceparent` strings.
//!
//! Spans are `tracing` spans; a host app that wants traces installs [`span_layer`] (the reference server does
//! when an OTLP endpoint is configured). What `tracing` cannot do on its own is continue a trace across a hop it
//! does not see: an HTTP request from another service (its `traceparent` header), or a run queued by one replica
//! and worked by another (the run stores the `traceparent` of the span that created it). A span that carries a
//! [`TRACEPARENT`] field continues the trace that value names, and [`current_traceparent`] gives the value to
//! store. Without the `otel` feature, or without the layer, spans stay `tracing` spans and
//! [`current_traceparent`] returns nothing.

#[cfg(feature = "otel")]
mod layer;

#[cfg(feature = "otel")]
pub use layer::{SpanLayer, span_layer};

/// The span field that makes a span continue a remote trace: a W3C `traceparent` value
/// (`00-<trace id>-<parent id>-<flags>`). A malformed value is ignored: the span starts a trace of its own.
///
/// ```
/// let stored = Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// let span = tracing::info_span!("run", traceparent = stored);
/// # drop(span);
/// ```
pub const TRACEPARENT: &str = "traceparent";

/// The `traceparent` of the current span, when [`span_layer`] records it (sampled or not: an unsampled trace's
/// decision travels with it too).
pub fn current_traceparent() -> Option<String> {
    #[cfg(feature = "otel")]
    {
        layer::current_traceparent()
    }
    #[cfg(not(feature = "otel"))]
    {
        None
    }
}
