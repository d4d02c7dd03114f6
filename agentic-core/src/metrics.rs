//! Prometheus metrics, in a registry the [`Platform`](crate::Platform) owns (never a global one).

use prometheus::{
    CounterVec, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

use crate::error::Error;

/// The platform's metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// `http_requests_total{method,route,status}`.
    pub http_requests_total: IntCounterVec,
    /// `http_request_duration_seconds{method,route}`.
    pub http_request_duration_seconds: HistogramVec,
    /// `llm_tokens_total{provider,model,type}`, type `input`, `output` or `cached_input`.
    pub llm_tokens_total: IntCounterVec,
    /// `llm_cost_usd_total{provider,model}`: money spent on LLM calls.
    pub llm_cost_usd_total: CounterVec,
    /// `llm_reservation_overshoot_total{provider}`: calls that cost more than their reserved worst case.
    pub llm_reservation_overshoot_total: IntCounterVec,
    /// `project_cost_usd{project_id}`: a project's settled spending (one series per project that spent).
    pub project_cost_usd: GaugeVec,
    /// `rate_limit_hits_total{scope}`: requests refused by a limit, by the limit's scope.
    pub rate_limit_hits_total: IntCounterVec,
    /// `rate_limit_backend_errors_total`: decisions the limiter backend could not make (fail mode applied).
    pub rate_limit_backend_errors_total: IntCounter,
    /// `agent_executions_total{agent_name,status}` (tenant-defined agents count as `custom`).
    pub agent_executions_total: IntCounterVec,
    /// `agent_execution_duration_seconds{agent_name}`.
    pub agent_execution_duration_seconds: HistogramVec,
    /// `events_stored_total{type}`: events stored (listable and deliverable), by type.
    pub events_stored_total: IntCounterVec,
    /// `event_store_failures_total`: events the store refused (they reached the sink only).
    pub event_store_failures_total: IntCounter,
    /// `webhook_deliveries_total{status}`: delivery attempts by what they led to: `succeeded`, `retrying` (failed,
    /// tried again later) or `failed` (failed, given up: the schedule is over or the endpoint is gone). The failure
    /// ratio is `(retrying + failed) / all`.
    pub webhook_deliveries_total: IntCounterVec,
    /// `webhook_attempt_duration_seconds`: how long delivery attempts took.
    pub webhook_attempt_duration_seconds: prometheus::Histogram,
    /// `webhook_deliveries_pending`: deliveries not yet made, across tenants (sampled by the dispatchers).
    pub webhook_deliveries_pending: prometheus::IntGauge,
    /// Schedule fires, by what became of them (`started`, `skipped`, `buffered`).
    pub schedule_fires_total: IntCounterVec,
    /// Skipped schedule fires, by reason (`overlap`, `budget`, `missed`, `paused`, `not_permitted`,
    /// `invalid_target`).
    pub schedule_skipped_total: IntCounterVec,
    /// How long after its planned start (fire time plus jitter) a scheduled fire's run was created.
    pub schedule_fire_lag_seconds: prometheus::Histogram,
}

impl Metrics {
    /// A fresh registry with the platform's metrics registered.
    pub fn new() -> Result<Self, Error> {
        let registry = Registry::new();
        let http_requests_total = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests served, by route template and status"),
            &["method", "route", "status"],
        )
        .map_err(metric_error)?;
        let http_request_duration_seconds = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency, by route template")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["method", "route"],
        )
        .map_err(metric_error)?;
        let llm_tokens_total = IntCounterVec::new(
            Opts::new("llm_tokens_total", "LLM tokens consumed, by provider, model and type"),
            &["provider", "model", "type"],
        )
        .map_err(metric_error)?;
        let llm_cost_usd_total =
            CounterVec::new(Opts::new("llm_cost_usd_total", "USD spent on LLM calls"), &["provider", "model"])
                .map_err(metric_error)?;
        let project_cost_usd =
            GaugeVec::new(Opts::new("project_cost_usd", "Settled LLM spending of a project, USD"), &["project_id"])
                .map_err(metric_error)?;
        let rate_limit_hits_total = IntCounterVec::new(
            Opts::new("rate_limit_hits_total", "Requests refused by a rate limit, by scope"),
            &["scope"],
        )
        .map_err(metric_error)?;
        let rate_limit_backend_errors_total = IntCounter::new(
            "rate_limit_backend_errors_total",
            "Rate-limit decisions the backend could not make (the fail mode decided)",
        )
        .map_err(metric_error)?;
        let agent_executions_total = IntCounterVec::new(
            Opts::new("agent_executions_total", "Agent runs finished, by agent and status"),
            &["agent_name", "status"],
        )
        .map_err(metric_error)?;
        let agent_execution_duration_seconds = HistogramVec::new(
            HistogramOpts::new("agent_execution_duration_seconds", "Agent run duration")
                .buckets(vec![0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0]),
            &["agent_name"],
        )
        .map_err(metric_error)?;
        registry.register(Box::new(agent_executions_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(agent_execution_duration_seconds.clone())).map_err(metric_error)?;
        registry.register(Box::new(http_requests_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(http_request_duration_seconds.clone())).map_err(metric_error)?;
        registry.register(Box::new(llm_tokens_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(llm_cost_usd_total.clone())).map_err(metric_error)?;
        let llm_reservation_overshoot_total = IntCounterVec::new(
            Opts::new("llm_reservation_overshoot_total", "LLM calls that cost more than their reserved worst case"),
            &["provider"],
        )
        .map_err(metric_error)?;
        registry.register(Box::new(llm_reservation_overshoot_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(project_cost_usd.clone())).map_err(metric_error)?;
        registry.register(Box::new(rate_limit_hits_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(rate_limit_backend_errors_total.clone())).map_err(metric_error)?;
        let events_stored_total = IntCounterVec::new(
            Opts::new("events_stored_total", "Events stored and relayed (to the sink and to webhooks), by type"),
            &["type"],
        )
        .map_err(metric_error)?;
        let event_store_failures_total =
            IntCounter::new("event_store_failures_total", "Events the store refused (they reached the sink only)")
                .map_err(metric_error)?;
        registry.register(Box::new(events_stored_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(event_store_failures_total.clone())).map_err(metric_error)?;
        let webhook_deliveries_total = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook delivery attempts, by outcome (succeeded, retrying, failed)",
            ),
            &["status"],
        )
        .map_err(metric_error)?;
        let webhook_attempt_duration_seconds = prometheus::Histogram::with_opts(
            HistogramOpts::new("webhook_attempt_duration_seconds", "Webhook delivery attempt latency")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]),
        )
        .map_err(metric_error)?;
        let webhook_deliveries_pending =
            prometheus::IntGauge::new("webhook_deliveries_pending", "Webhook deliveries not yet made, all tenants")
                .map_err(metric_error)?;
        registry.register(Box::new(webhook_deliveries_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(webhook_attempt_duration_seconds.clone())).map_err(metric_error)?;
        registry.register(Box::new(webhook_deliveries_pending.clone())).map_err(metric_error)?;
        let schedule_fires_total = IntCounterVec::new(
            Opts::new("schedule_fires_total", "Schedule fires, by what became of them (started, skipped, buffered)"),
            &["result"],
        )
        .map_err(metric_error)?;
        let schedule_skipped_total = IntCounterVec::new(
            Opts::new("schedule_skipped_total", "Schedule fires that started no run, by reason"),
            &["reason"],
        )
        .map_err(metric_error)?;
        // Every reason is exported from the start, so that an alert on a rate sees 0 rather than no series.
        for reason in crate::model::SkipReason::ALL {
            schedule_skipped_total.with_label_values(&[reason.as_str()]);
        }
        let schedule_fire_lag_seconds = prometheus::Histogram::with_opts(
            HistogramOpts::new(
                "schedule_fire_lag_seconds",
                "How long after its planned start (fire time plus jitter) a scheduled fire's run was created",
            )
            .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]),
        )
        .map_err(metric_error)?;
        registry.register(Box::new(schedule_fires_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(schedule_skipped_total.clone())).map_err(metric_error)?;
        registry.register(Box::new(schedule_fire_lag_seconds.clone())).map_err(metric_error)?;
        Ok(Self {
            registry,
            http_requests_total,
            http_request_duration_seconds,
            llm_tokens_total,
            llm_cost_usd_total,
            llm_reservation_overshoot_total,
            project_cost_usd,
            rate_limit_hits_total,
            rate_limit_backend_errors_total,
            agent_executions_total,
            agent_execution_duration_seconds,
            events_stored_total,
            event_store_failures_total,
            webhook_deliveries_total,
            webhook_attempt_duration_seconds,
            webhook_deliveries_pending,
            schedule_fires_total,
            schedule_skipped_total,
            schedule_fire_lag_seconds,
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

fn metric_error(e: prometheus::Error) -> Error {
    Error::Internal(format!("metrics: {e}"))
}
