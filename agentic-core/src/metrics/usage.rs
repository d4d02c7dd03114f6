//! Gauges sampled from the store by the upkeep loop: runs by status, tenants and users, storage per tenant,
//! projects' spending and budgets. Every replica samples the same store, so dashboards and rules take `max` over
//! replicas, never `sum`.

use std::sync::Arc;

use prometheus::{GaugeVec, IntCounterVec, IntGauge, IntGaugeVec};

use super::guard::BoundedLabel;
use super::{Bounds, Registrar, usd};
use crate::error::Error;
use crate::model::{RunKind, RunStatus};
use crate::store::PlatformUsage;

/// The platform's state as the store last reported it.
#[derive(Clone, Debug)]
pub struct UsageMetrics {
    /// `runs{kind,status}`: runs of each kind in each status, all tenants.
    runs: IntGaugeVec,
    /// `oldest_queued_run_age_seconds`: how long the oldest queued run has waited (0 when none waits).
    oldest_queued_run_age_seconds: IntGauge,
    /// `tenants`: tenants on the platform.
    tenants: IntGauge,
    /// `active_tenants`: tenants with a run created in the last 24 hours.
    active_tenants: IntGauge,
    /// `active_users`: users who requested a run in the last 24 hours.
    active_users: IntGauge,
    /// `tenant_storage_bytes{tenant_id}`: what a tenant's rows take in the store.
    tenant_storage_bytes: IntGaugeVec,
    storage_tenants: Arc<BoundedLabel>,
    /// `project_cost_usd{project_id}`: a project's settled spending (projects that have spent or have a budget).
    project_cost_usd: GaugeVec,
    /// `project_budget_usd{project_id}`: a project's budget, for projects that have one.
    project_budget_usd: GaugeVec,
    /// One bound for both project gauges, so that a project exported in one is exported in the other.
    projects: Arc<BoundedLabel>,
    /// `retention_deleted_total{kind}`: what the retention sweeps deleted: `events`, `runs` (ended ones) and
    /// `cost_records` (folded into their roll-ups).
    retention_deleted_total: IntCounterVec,
}

impl UsageMetrics {
    pub(super) fn register(r: &Registrar<'_>, bounds: &Bounds) -> Result<Self, Error> {
        let retention_deleted_total = r.int_counter_vec(
            "retention_deleted_total",
            "Rows deleted past their retention, by kind (events, runs, cost_records)",
            &["kind"],
        )?;
        for kind in ["events", "runs", "cost_records"] {
            retention_deleted_total.with_label_values(&[kind]);
        }
        Ok(Self {
            retention_deleted_total,
            runs: r.int_gauge_vec(
                "runs",
                "Runs of each kind in each status, all tenants (sampled)",
                &["kind", "status"],
            )?,
            oldest_queued_run_age_seconds: r.int_gauge(
                "oldest_queued_run_age_seconds",
                "How long the oldest queued run has waited for a worker (sampled; 0 when none waits)",
            )?,
            tenants: r.int_gauge("tenants", "Tenants on the platform (sampled)")?,
            active_tenants: r
                .int_gauge("active_tenants", "Tenants with a run created in the last 24 hours (sampled)")?,
            active_users: r.int_gauge("active_users", "Users who requested a run in the last 24 hours (sampled)")?,
            tenant_storage_bytes: r.int_gauge_vec(
                "tenant_storage_bytes",
                "Bytes a tenant's rows take in the store (sampled)",
                &["tenant_id"],
            )?,
            storage_tenants: Arc::new(bounds.tenant("tenant_storage_bytes")),
            project_cost_usd: r.gauge_vec(
                "project_cost_usd",
                "Settled LLM spending of a project, USD (sampled)",
                &["project_id"],
            )?,
            project_budget_usd: r.gauge_vec(
                "project_budget_usd",
                "A project's budget, USD (sampled)",
                &["project_id"],
            )?,
            projects: Arc::new(bounds.project("project_cost_usd")),
        })
    }

    /// Sets every gauge from a snapshot taken at `now`.
    pub fn sampled(&self, usage: &PlatformUsage, now: crate::clock::Timestamp) {
        for kind in [RunKind::Agent, RunKind::Workflow] {
            for status in RunStatus::ALL {
                let count = usage.runs_by_status.iter().find(|(k, s, _)| (*k, *s) == (kind, status)).map_or(0, |r| r.2);
                self.runs.with_label_values(&[kind.as_str(), status.as_str()]).set(gauge(count));
            }
        }
        let waited = usage.oldest_queued_at.map_or(0, |at| (now - at).num_seconds().max(0));
        self.oldest_queued_run_age_seconds.set(waited);
        self.tenants.set(gauge(usage.tenants));
        self.active_tenants.set(gauge(usage.active_tenants));
        self.active_users.set(gauge(usage.active_users));
        // Each sample replaces the last: a tenant or project gone from the store, or a budget removed, leaves no
        // stale series behind.
        self.tenant_storage_bytes.reset();
        for (tenant, bytes) in &usage.storage_bytes {
            if let Some(label) = self.storage_tenants.admit_gauge(&tenant.to_string()) {
                self.tenant_storage_bytes.with_label_values(&[label]).set(gauge(*bytes));
            }
        }
        self.project_cost_usd.reset();
        self.project_budget_usd.reset();
        for project in &usage.projects {
            let id = project.project_id.to_string();
            let Some(label) = self.projects.admit_gauge(&id) else { continue };
            self.project_cost_usd.with_label_values(&[label]).set(usd(project.spent));
            if let Some(budget) = project.budget {
                self.project_budget_usd.with_label_values(&[label]).set(usd(budget));
            }
        }
    }
}

impl UsageMetrics {
    /// Counts what a retention sweep deleted.
    pub fn swept(&self, sweep: &crate::engine::RetentionSweep) {
        for (kind, count) in [("events", sweep.events), ("runs", sweep.runs), ("cost_records", sweep.cost_records)] {
            self.retention_deleted_total.with_label_values(&[kind]).inc_by(count);
        }
    }
}

fn gauge(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
