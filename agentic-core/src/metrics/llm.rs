//! LLM calls, their tokens and cost, and spending by tenant, project and agent.

use std::sync::Arc;

use prometheus::{CounterVec, HistogramVec, IntCounterVec};

use super::guard::BoundedLabel;
use super::{Bounds, Registrar, SLOW_BUCKETS, usd};
use crate::error::Error;
use crate::model::CostRecord;

/// LLM calls by provider and model (models bounded by [`MetricsSettings::model_labels`](super::MetricsSettings)).
#[derive(Clone, Debug)]
pub struct LlmMetrics {
    /// `llm_calls_total{provider,model,status}`, status `ok` or the failure's kind.
    calls_total: IntCounterVec,
    /// `llm_request_duration_seconds{provider,model}`: how long calls took, answered or not.
    request_duration_seconds: HistogramVec,
    /// `llm_tokens_total{provider,model,type}`, type `input`, `output` or `cached_input`.
    tokens_total: IntCounterVec,
    /// `llm_cost_usd_total{provider,model}`: money spent on LLM calls.
    cost_usd_total: CounterVec,
    /// `llm_reservation_overshoot_total{provider}`: calls that cost more than their reserved worst case.
    pub reservation_overshoot_total: IntCounterVec,
    /// `guardrail_findings_total{kind,action}`: sensitive texts the outgoing guardrail found, by kind (the
    /// scanner's fixed vocabulary) and what was done (`block`, `redact`).
    guardrail_findings_total: IntCounterVec,
    call_models: Arc<BoundedLabel>,
    spend_models: Arc<BoundedLabel>,
}

impl LlmMetrics {
    pub(super) fn register(r: &Registrar<'_>, bounds: &Bounds) -> Result<Self, Error> {
        Ok(Self {
            calls_total: r.int_counter_vec(
                "llm_calls_total",
                "LLM calls made, by provider, model and status (ok, or the failure's kind)",
                &["provider", "model", "status"],
            )?,
            request_duration_seconds: r.histogram_vec(
                "llm_request_duration_seconds",
                "LLM call latency (retries and failover included), by provider and model",
                &["provider", "model"],
                SLOW_BUCKETS,
            )?,
            tokens_total: r.int_counter_vec(
                "llm_tokens_total",
                "LLM tokens consumed, by provider, model and type",
                &["provider", "model", "type"],
            )?,
            cost_usd_total: r.counter_vec("llm_cost_usd_total", "USD spent on LLM calls", &["provider", "model"])?,
            reservation_overshoot_total: r.int_counter_vec(
                "llm_reservation_overshoot_total",
                "LLM calls that cost more than their reserved worst case",
                &["provider"],
            )?,
            guardrail_findings_total: r.int_counter_vec(
                "guardrail_findings_total",
                "Sensitive texts the outgoing guardrail found in prompts to third-party providers, by kind and action",
                &["kind", "action"],
            )?,
            call_models: Arc::new(bounds.model("llm_calls_total")),
            spend_models: Arc::new(bounds.model("llm_cost_usd_total")),
        })
    }

    /// Counts and times one call; `status` is `ok` or the failure's kind.
    pub fn call(&self, provider: &str, model: &str, status: &str, seconds: f64) {
        let model = self.call_models.admit(model).unwrap_or(super::OTHER);
        self.calls_total.with_label_values(&[provider, model, status]).inc();
        self.request_duration_seconds.with_label_values(&[provider, model]).observe(seconds);
    }

    /// Counts `count` findings of `kind` the outgoing guardrail acted on with `action`.
    pub fn guardrail_finding(&self, kind: &str, action: &str, count: usize) {
        self.guardrail_findings_total.with_label_values(&[kind, action]).inc_by(count as u64);
    }

    /// Counts a settled call's tokens and cost.
    pub fn spent(&self, record: &CostRecord) {
        let provider = record.provider.as_str();
        let model = self.spend_models.admit(&record.model).unwrap_or(super::OTHER);
        for (kind, tokens) in [
            ("input", record.input_tokens),
            ("output", record.output_tokens),
            ("cached_input", record.cached_input_tokens),
        ] {
            self.tokens_total.with_label_values(&[provider, model, kind]).inc_by(tokens);
        }
        self.cost_usd_total.with_label_values(&[provider, model]).inc_by(usd(record.cost));
    }
}

/// Spending by tenant and agent, counted as calls settle (projects' spending and budgets are sampled:
/// [`UsageMetrics`](super::UsageMetrics)).
#[derive(Clone, Debug)]
pub struct CostMetrics {
    /// `tenant_cost_usd_total{tenant_id}`.
    tenant_cost_usd_total: CounterVec,
    /// `agent_cost_usd_total{agent_name}` (tenant-defined agents count as `custom`; calls outside a run as `none`).
    agent_cost_usd_total: CounterVec,
    tenants: Arc<BoundedLabel>,
}

impl CostMetrics {
    pub(super) fn register(r: &Registrar<'_>, bounds: &Bounds) -> Result<Self, Error> {
        Ok(Self {
            tenant_cost_usd_total: r.counter_vec(
                "tenant_cost_usd_total",
                "USD spent on LLM calls, by tenant",
                &["tenant_id"],
            )?,
            agent_cost_usd_total: r.counter_vec(
                "agent_cost_usd_total",
                "USD spent on LLM calls, by agent",
                &["agent_name"],
            )?,
            tenants: Arc::new(bounds.tenant("tenant_cost_usd_total")),
        })
    }

    /// Counts a settled call against its tenant and agent.
    pub fn spent(&self, record: &CostRecord) {
        let amount = usd(record.cost);
        if let Some(label) = self.tenants.admit(&record.tenant_id.to_string()) {
            self.tenant_cost_usd_total.with_label_values(&[label]).inc_by(amount);
        }
        let agent = record.agent.as_deref().map_or("none", crate::agents::metric_label);
        self.agent_cost_usd_total.with_label_values(&[agent]).inc_by(amount);
    }
}
