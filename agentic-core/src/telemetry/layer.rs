//! [`SpanLayer`]: each `tracing` span an OpenTelemetry span, started when the `tracing` span is created and ended
//! when it closes.
//!
//! Written here rather than taken from `tracing-opentelemetry`: that layer keeps a span builder behind a lock until
//! the span's first child or its end, reads the clock and takes that lock on every exit of an instrumented future,
//! and needs a per-layer filter to keep log events out of spans. On the platform's busiest path (a run executed
//! with `wait`) it cost about 18 µs per run, 9% of the run's CPU (`benches/observability_overhead`). This layer
//! does only what the platform's traces use: span names and kinds from `otel.name` / `otel.kind`, attributes from
//! the span's fields, a remote parent from a [`TRACEPARENT`](super::TRACEPARENT) field, and nothing on enter, exit
//! or events.

use std::borrow::Cow;
use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{Span as _, SpanKind, TraceContextExt, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, Span as OtelSpan};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::{LookupSpan, Registry};

use super::TRACEPARENT;

/// The longest `traceparent` value read; anything longer is not one (version 00 is 55 characters).
const TRACEPARENT_MAX: usize = 256;

/// Records `tracing` spans at `level` and above (default `INFO`) as OpenTelemetry spans of `tracer`, ready for
/// any exporter the tracer's provider has. Events stay out of spans: they belong to the logs.
///
/// Reading a span's context back ([`current_traceparent`](super::current_traceparent)) needs the subscriber to be a
/// [`Registry`] with layers, as `tracing_subscriber::registry()` builds.
#[derive(Debug, Clone)]
pub struct SpanLayer {
    tracer: SdkTracer,
    level: Level,
}

/// A [`SpanLayer`] for `tracer`, recording spans at `INFO` and above.
///
/// ```
/// use opentelemetry::trace::TracerProvider as _;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
/// let subscriber = tracing_subscriber::registry().with(agentic_core::telemetry::span_layer(provider.tracer("app")));
/// tracing::subscriber::with_default(subscriber, || {
///     let _run = tracing::info_span!("run", otel.name = "run developer").entered();
///     assert!(agentic_core::telemetry::current_traceparent().is_some());
/// });
/// ```
pub fn span_layer(tracer: SdkTracer) -> SpanLayer {
    SpanLayer { tracer, level: Level::INFO }
}

impl SpanLayer {
    /// Records spans at `level` and above instead (`DEBUG` adds dependencies' debug spans, where enabled).
    #[must_use]
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }
}

impl<S> tracing_subscriber::Layer<S> for SpanLayer
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        // Levels order by verbosity: a span more verbose than the layer's level is not recorded.
        if *attrs.metadata().level() > self.level {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut head = Head::default();
        attrs.record(&mut head);
        let parent = match head.traceparent.as_deref().and_then(remote_parent) {
            Some(remote) => remote,
            None => span
                .parent()
                .and_then(|parent| {
                    // The nearest recorded ancestor: a span below the level has no OpenTelemetry span of its own.
                    parent.scope().find_map(|ancestor| {
                        ancestor.extensions().get::<OtelSpan>().map(|recorded| recorded.span_context().clone())
                    })
                })
                .map_or_else(Context::new, |parent| Context::new().with_remote_span_context(parent)),
        };
        let name = head.name.map_or(Cow::Borrowed(attrs.metadata().name()), Cow::Owned);
        let mut builder = self.tracer.span_builder(name);
        builder.span_kind = Some(head.kind);
        let mut recorded = self.tracer.build_with_context(builder, &parent);
        // An unsampled span keeps its context (its children inherit the decision) and skips its attributes.
        if recorded.is_recording() {
            let mut fields = Fields(Vec::with_capacity(attrs.fields().len()));
            attrs.record(&mut fields);
            recorded.set_attributes(fields.0);
        }
        span.extensions_mut().insert(recorded);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(recorded) = extensions.get_mut::<OtelSpan>()
            && recorded.is_recording()
        {
            let mut fields = Fields(Vec::new());
            values.record(&mut fields);
            recorded.set_attributes(fields.0);
        }
    }

    fn on_close(&self, id: Id, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        // Taken out before it ends: ending hands it to the span processor, which must not run under the lock.
        let recorded = span.extensions_mut().remove::<OtelSpan>();
        if let Some(mut recorded) = recorded {
            recorded.end();
        }
    }
}

/// The `traceparent` of the current span (or its nearest recorded ancestor).
pub(super) fn current_traceparent() -> Option<String> {
    let context = tracing::Span::current().with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(id)?;
        span.scope().find_map(|ancestor| {
            ancestor.extensions().get::<OtelSpan>().map(|recorded| recorded.span_context().clone())
        })
    })??;
    if !context.is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&Context::new().with_remote_span_context(context), &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// The context a span continues from a `traceparent` value, when the value is valid.
fn remote_parent(traceparent: &str) -> Option<Context> {
    if traceparent.len() > TRACEPARENT_MAX {
        return None;
    }
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    context.span().span_context().is_valid().then_some(context)
}

/// The fields that shape a span rather than describe it: its name, kind and remote parent.
struct Head {
    name: Option<String>,
    kind: SpanKind,
    traceparent: Option<String>,
}

impl Default for Head {
    fn default() -> Self {
        Self { name: None, kind: SpanKind::Internal, traceparent: None }
    }
}

impl Head {
    fn set(&mut self, field: &Field, value: Cow<'_, str>) {
        match field.name() {
            "otel.name" => self.name = Some(value.into_owned()),
            "otel.kind" => {
                self.kind = match value.as_ref() {
                    "server" => SpanKind::Server,
                    "client" => SpanKind::Client,
                    "producer" => SpanKind::Producer,
                    "consumer" => SpanKind::Consumer,
                    _ => SpanKind::Internal,
                }
            }
            name if name == TRACEPARENT => self.traceparent = Some(value.into_owned()),
            _ => {}
        }
    }
}

impl Visit for Head {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field, Cow::Borrowed(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if is_head(field.name()) {
            self.set(field, Cow::Owned(format!("{value:?}")));
        }
    }
}

fn is_head(name: &str) -> bool {
    name.starts_with("otel.") || name == TRACEPARENT
}

/// A span's describing fields as OpenTelemetry attributes, typed where `tracing` gives the type.
struct Fields(Vec<KeyValue>);

impl Visit for Fields {
    fn record_i64(&mut self, field: &Field, value: i64) {
        if !is_head(field.name()) {
            self.0.push(KeyValue::new(field.name(), value));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(value) => self.record_i64(field, value),
            Err(_) => self.record_str(field, &value.to_string()),
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if !is_head(field.name()) {
            self.0.push(KeyValue::new(field.name(), value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if !is_head(field.name()) {
            self.0.push(KeyValue::new(field.name(), value));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if !is_head(field.name()) {
            self.0.push(KeyValue::new(field.name(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if !is_head(field.name()) {
            self.0.push(KeyValue::new(field.name(), format!("{value:?}")));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
    use opentelemetry::{Key, Value};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider, SpanData};
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;
    use crate::telemetry::current_traceparent;

    fn recorder(sampler: Sampler) -> (InMemorySpanExporter, SdkTracerProvider) {
        let exporter = InMemorySpanExporter::default();
        let provider =
            SdkTracerProvider::builder().with_simple_exporter(exporter.clone()).with_sampler(sampler).build();
        (exporter, provider)
    }

    fn named<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
        spans.iter().find(|span| span.name == name).unwrap()
    }

    fn value(span: &SpanData, key: &str) -> Option<Value> {
        span.attributes.iter().find(|kv| kv.key == Key::from(key.to_owned())).map(|kv| kv.value.clone())
    }

    #[test]
    fn spans_below_the_level_are_skipped_and_their_children_join_the_nearest_recorded_ancestor() {
        let (exporter, provider) = recorder(Sampler::AlwaysOn);
        let subscriber = tracing_subscriber::registry().with(span_layer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, || {
            let _outer =
                tracing::info_span!("outer", otel.name = "outer work", count = u64::MAX, done = true).entered();
            let _quiet = tracing::debug_span!("quiet").entered();
            let inner = tracing::info_span!("inner", otel.kind = "client", ratio = 0.5, late = tracing::field::Empty);
            inner.record("late", "recorded later");
            tracing::info!("an event, which stays out of the spans");
        });
        let spans = exporter.get_finished_spans().unwrap();
        assert_eq!(spans.len(), 2, "{spans:?}");
        let (outer, inner) = (named(&spans, "outer work"), named(&spans, "inner"));
        assert_eq!(inner.parent_span_id, outer.span_context.span_id());
        assert_eq!(inner.span_kind, SpanKind::Client);
        assert_eq!(outer.span_kind, SpanKind::Internal);
        assert_eq!(value(outer, "count"), Some(Value::from(u64::MAX.to_string())), "beyond i64, kept as text");
        assert_eq!(value(outer, "done"), Some(Value::from(true)));
        assert_eq!(value(outer, "otel.name"), None, "naming fields are not attributes");
        assert_eq!(value(inner, "ratio"), Some(Value::from(0.5)));
        assert_eq!(value(inner, "late"), Some(Value::from("recorded later")));
        assert!(inner.events.is_empty() && outer.events.is_empty());
    }

    #[test]
    fn a_traceparent_field_continues_the_remote_trace_and_a_malformed_one_starts_a_new_trace() {
        let (exporter, provider) = recorder(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
        let subscriber = tracing_subscriber::registry().with(span_layer(provider.tracer("test")));
        let remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let (continued, fresh) = tracing::subscriber::with_default(subscriber, || {
            let continued = {
                let _span = tracing::info_span!("continued", traceparent = Some(remote)).entered();
                current_traceparent().unwrap()
            };
            let fresh = {
                let _span = tracing::info_span!("fresh", traceparent = "00-not-a-trace-01").entered();
                current_traceparent().unwrap()
            };
            (continued, fresh)
        });
        let spans = exporter.get_finished_spans().unwrap();
        let span = named(&spans, "continued");
        assert_eq!(span.span_context.trace_id(), TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap());
        assert_eq!(span.parent_span_id, SpanId::from_hex("00f067aa0ba902b7").unwrap());
        assert_eq!(continued, format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", span.span_context.span_id()));
        assert_eq!(value(span, "traceparent"), None);
        assert_eq!(named(&spans, "fresh").parent_span_id, SpanId::INVALID);
        assert!(!fresh.contains("4bf92f3577b34da6a3ce929d0e0e4736"));
    }

    #[test]
    fn an_unsampled_trace_exports_nothing_yet_carries_its_decision() {
        let (exporter, provider) = recorder(Sampler::TraceIdRatioBased(0.0));
        let subscriber = tracing_subscriber::registry().with(span_layer(provider.tracer("test")));
        let traceparent = tracing::subscriber::with_default(subscriber, || {
            let _span = tracing::info_span!("unsampled", tenant_id = "t").entered();
            let _child = tracing::info_span!("child").entered();
            current_traceparent().unwrap()
        });
        assert!(exporter.get_finished_spans().unwrap().is_empty());
        assert!(traceparent.ends_with("-00"), "{traceparent}");
    }

    #[test]
    fn without_the_layer_there_is_no_traceparent() {
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            let _span = tracing::info_span!("plain").entered();
            assert_eq!(current_traceparent(), None);
        });
    }
}
