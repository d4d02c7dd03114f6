//! Trace context that crosses a queue or a process, as W3C `traceparent` strings.
//!
//! Spans are `tracing` spans; a host app that wants traces installs a `tracing-opentelemetry` layer (the reference
//! server does when an OTLP endpoint is configured). What `tracing` cannot do on its own is continue a trace
//! across a hop it does not see: an HTTP request from another service (its `traceparent` header), or a run queued
//! by one replica and worked by another (the run stores the `traceparent` of the span that created it). These two
//! functions do that; without the `otel` feature, or without such a layer, they do nothing and return nothing.

/// The `traceparent` of the current span, when it belongs to a recorded trace.
pub fn current_traceparent() -> Option<String> {
    imp::current_traceparent()
}

/// Makes `span` continue the trace `traceparent` names (its parent becomes the remote span). A malformed value is
/// ignored: the span starts a trace of its own.
pub fn continue_trace(span: &tracing::Span, traceparent: &str) {
    imp::continue_trace(span, traceparent);
}

#[cfg(feature = "otel")]
mod imp {
    use std::collections::HashMap;

    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;
    use opentelemetry_sdk::propagation::TraceContextPropagator;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    const TRACEPARENT: &str = "traceparent";

    pub(super) fn current_traceparent() -> Option<String> {
        let context = tracing::Span::current().context();
        if !context.span().span_context().is_valid() {
            return None;
        }
        let mut carrier = HashMap::new();
        TraceContextPropagator::new().inject_context(&context, &mut carrier);
        carrier.remove(TRACEPARENT)
    }

    pub(super) fn continue_trace(span: &tracing::Span, traceparent: &str) {
        let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
        let context = TraceContextPropagator::new().extract(&carrier);
        if context.span().span_context().is_valid() {
            let _ = span.set_parent(context);
        }
    }
}

#[cfg(not(feature = "otel"))]
mod imp {
    pub(super) fn current_traceparent() -> Option<String> {
        None
    }

    pub(super) fn continue_trace(_span: &tracing::Span, _traceparent: &str) {}
}

/// The `tracing-opentelemetry` layer as the platform's traces want it: spans only (log events stay in the logs,
/// where they are filtered and formatted once, instead of being copied into every span), without the source
/// location, target, thread and busy/idle attributes each span would otherwise carry, and without activating an
/// OpenTelemetry context on every entry into a span (the platform carries context through the spans themselves).
/// Each cut the layer's cost in `benches/observability_overhead`.
#[cfg(feature = "otel")]
pub fn span_layer<S, T>(tracer: T) -> impl tracing_subscriber::Layer<S> + Send + Sync
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span> + Send + Sync,
    T: opentelemetry::trace::Tracer + Send + Sync + 'static,
    T::Span: Send + Sync,
{
    use tracing_subscriber::Layer as _;
    tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_target(false)
        .with_context_activation(false)
        .with_filter(tracing_subscriber::filter::filter_fn(|metadata| metadata.is_span()))
}
