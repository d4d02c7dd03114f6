//! Prometheus metrics, in a registry the [`Platform`](crate::Platform) owns (never a global one).
//!
//! Each capability registers its own group ([`HttpMetrics`], [`LlmMetrics`], [`CostMetrics`], [`RunMetrics`],
//! [`EventMetrics`], [`ScheduleMetrics`], [`UsageMetrics`]) in the one registry, and records through the group's
//! methods where a label needs the [cardinality guard](guard): a label drawn from tenants' data (tenant and
//! project ids, model names) is capped per metric by [`MetricsSettings`], the rest folded into `other` and
//! counted in `metric_label_values_folded_total{metric}`. No label ever carries raw request input: routes are
//! templates, methods outside the standard set are `other`, agents outside the built-in catalogue are `custom`.
//! `docs/observability.md` describes every metric and the dashboards and alerts built on them.

mod events;
pub mod guard;
mod http;
mod llm;
mod retrieval;
mod runs;
mod schedules;
mod usage;

use prometheus::core::Collector;
use prometheus::{
    CounterVec, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

pub use self::events::EventMetrics;
pub use self::guard::{LabelLimit, OTHER};
pub use self::http::HttpMetrics;
pub use self::llm::{CostMetrics, LlmMetrics};
pub use self::retrieval::RetrievalMetrics;
pub use self::runs::RunMetrics;
pub use self::schedules::ScheduleMetrics;
pub use self::usage::UsageMetrics;
use crate::error::Error;

/// Which labels drawn from tenants' data are exported, and how many distinct values each metric keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsSettings {
    /// `tenant_id` labels (default: up to 1,000 tenants per metric).
    pub tenant_labels: LabelLimit,
    /// `project_id` labels (default: up to 1,000 projects per metric).
    pub project_labels: LabelLimit,
    /// `model` labels: tenants' own agents may name any model of a free provider (default: up to 100 per metric;
    /// when off, every model is exported as `other`).
    pub model_labels: LabelLimit,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            tenant_labels: LabelLimit::Capped(1_000),
            project_labels: LabelLimit::Capped(1_000),
            model_labels: LabelLimit::Capped(100),
        }
    }
}

/// The platform's metrics, one group per capability.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// HTTP requests and authentication.
    pub http: HttpMetrics,
    /// Rate limits.
    pub limits: LimitMetrics,
    /// LLM calls, tokens and their cost.
    pub llm: LlmMetrics,
    /// Spending by tenant, project and agent, and projects' budgets.
    pub costs: CostMetrics,
    /// Agent and workflow runs.
    pub runs: RunMetrics,
    /// Events and webhook deliveries.
    pub events: EventMetrics,
    /// Schedule fires.
    pub schedules: ScheduleMetrics,
    /// Knowledge-base searches and the citations of answers.
    pub retrieval: RetrievalMetrics,
    /// Gauges sampled from the store: runs by status, tenants, users, storage.
    pub usage: UsageMetrics,
}

impl Metrics {
    /// A fresh registry with the platform's metrics registered, labels bounded by the default settings.
    pub fn new() -> Result<Self, Error> {
        Self::with_settings(MetricsSettings::default())
    }

    /// A fresh registry with the platform's metrics registered, labels bounded by `settings`.
    pub fn with_settings(settings: MetricsSettings) -> Result<Self, Error> {
        let registry = Registry::new();
        let r = Registrar { registry: &registry };
        let folded = r.int_counter_vec(
            "metric_label_values_folded_total",
            "Samples whose tenant, project or model label was folded into `other` (or a gauge's dropped) by the \
             cardinality cap, by metric",
            &["metric"],
        )?;
        let bounds = Bounds { settings, folded };
        Ok(Self {
            http: HttpMetrics::register(&r, &bounds)?,
            limits: LimitMetrics::register(&r)?,
            llm: LlmMetrics::register(&r, &bounds)?,
            costs: CostMetrics::register(&r, &bounds)?,
            runs: RunMetrics::register(&r)?,
            events: EventMetrics::register(&r)?,
            schedules: ScheduleMetrics::register(&r)?,
            retrieval: RetrievalMetrics::register(&r)?,
            usage: UsageMetrics::register(&r, &bounds)?,
            registry,
        })
    }

    /// The registry, for host apps to register their own metrics beside ours.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every registered metric.
    pub fn render(&self) -> Result<String, Error> {
        TextEncoder::new().encode_to_string(&self.registry.gather()).map_err(metric_error)
    }
}

/// Rate-limit decisions.
#[derive(Clone, Debug)]
pub struct LimitMetrics {
    /// `rate_limit_hits_total{scope}`: requests refused by a limit, by the limit's scope.
    pub hits_total: IntCounterVec,
    /// `rate_limit_backend_errors_total`: decisions the limiter backend could not make (fail mode applied).
    pub backend_errors_total: IntCounter,
}

impl LimitMetrics {
    fn register(r: &Registrar<'_>) -> Result<Self, Error> {
        let hits_total =
            r.int_counter_vec("rate_limit_hits_total", "Requests refused by a rate limit, by scope", &["scope"])?;
        for scope in crate::limit::LimitScope::ALL {
            hits_total.with_label_values(&[scope.as_str()]);
        }
        Ok(Self {
            hits_total,
            backend_errors_total: r.int_counter(
                "rate_limit_backend_errors_total",
                "Rate-limit decisions the backend could not make (the fail mode decided)",
            )?,
        })
    }
}

/// The cardinality caps and the counter of what they fold, handed to each group.
pub(crate) struct Bounds {
    settings: MetricsSettings,
    folded: IntCounterVec,
}

impl Bounds {
    fn label(&self, metric: &str, limit: LabelLimit) -> guard::BoundedLabel {
        guard::BoundedLabel::new(limit, self.folded.with_label_values(&[metric]))
    }

    pub(crate) fn tenant(&self, metric: &str) -> guard::BoundedLabel {
        self.label(metric, self.settings.tenant_labels)
    }

    pub(crate) fn project(&self, metric: &str) -> guard::BoundedLabel {
        self.label(metric, self.settings.project_labels)
    }

    pub(crate) fn model(&self, metric: &str) -> guard::BoundedLabel {
        self.label(metric, self.settings.model_labels)
    }
}

/// Creates metrics and registers them in one step, so that no metric is made and forgotten.
pub(crate) struct Registrar<'a> {
    registry: &'a Registry,
}

impl Registrar<'_> {
    fn register<C: Collector + Clone + 'static>(&self, collector: C) -> Result<C, Error> {
        self.registry.register(Box::new(collector.clone())).map_err(metric_error)?;
        Ok(collector)
    }

    pub(crate) fn int_counter(&self, name: &str, help: &str) -> Result<IntCounter, Error> {
        self.register(IntCounter::new(name, help).map_err(metric_error)?)
    }

    pub(crate) fn int_counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec, Error> {
        self.register(IntCounterVec::new(Opts::new(name, help), labels).map_err(metric_error)?)
    }

    pub(crate) fn counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> Result<CounterVec, Error> {
        self.register(CounterVec::new(Opts::new(name, help), labels).map_err(metric_error)?)
    }

    pub(crate) fn int_gauge(&self, name: &str, help: &str) -> Result<IntGauge, Error> {
        self.register(IntGauge::new(name, help).map_err(metric_error)?)
    }

    pub(crate) fn int_gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> Result<IntGaugeVec, Error> {
        self.register(IntGaugeVec::new(Opts::new(name, help), labels).map_err(metric_error)?)
    }

    pub(crate) fn gauge_vec(&self, name: &str, help: &str, labels: &[&str]) -> Result<GaugeVec, Error> {
        self.register(GaugeVec::new(Opts::new(name, help), labels).map_err(metric_error)?)
    }

    pub(crate) fn histogram(&self, name: &str, help: &str, buckets: &[f64]) -> Result<Histogram, Error> {
        let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
        self.register(Histogram::with_opts(opts).map_err(metric_error)?)
    }

    pub(crate) fn histogram_vec(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: &[f64],
    ) -> Result<HistogramVec, Error> {
        let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
        self.register(HistogramVec::new(opts, labels).map_err(metric_error)?)
    }
}

/// Buckets for work that takes seconds to minutes (runs, LLM calls).
pub(crate) const SLOW_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];

/// Buckets for work that takes milliseconds (requests, deliveries, fire lag).
pub(crate) const FAST_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

fn metric_error(e: prometheus::Error) -> Error {
    Error::Internal(format!("metrics: {e}"))
}

/// Money as a float for a metric (metrics tolerate the rounding; cost reports never see it).
pub(crate) fn usd(money: crate::model::Money) -> f64 {
    money.nanos() as f64 / 1e9
}
