//! What LLM calls cost, and where a project's budget stands.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Money;
use crate::ids::{CostRecordId, ProjectId, ReservationId, TenantId};

/// The cost of one LLM call (or another billable operation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CostRecord {
    /// Id.
    pub id: CostRecordId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Project charged.
    pub project_id: ProjectId,
    /// The run or workflow the call belonged to.
    pub run_id: Option<crate::ids::RunId>,
    /// The agent that made the call.
    pub agent: Option<String>,
    /// What was billed: `llm_call`, `embedding`, ….
    pub operation: String,
    /// Provider name (`anthropic`, `openai`, `ollama`, …).
    pub provider: String,
    /// Model as the provider reported it.
    pub model: String,
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cached input tokens.
    pub cached_input_tokens: u64,
    /// Cost.
    pub cost: Money,
    /// Wall time of the call in milliseconds.
    pub latency_ms: u64,
    /// When the call finished.
    pub created_at: DateTime<Utc>,
}

/// Money held for an LLM call in flight: its worst-case cost, released at settlement or expiry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Id.
    pub id: ReservationId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Project whose budget holds it.
    pub project_id: ProjectId,
    /// Amount held.
    pub amount: Money,
    /// After this it no longer counts against the budget (a call that never settled).
    pub expires_at: DateTime<Utc>,
}

/// Where a project's budget stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BudgetStatus {
    /// The budget; `None` is unlimited.
    pub budget: Option<Money>,
    /// Settled spending.
    pub spent: Money,
    /// Held by unexpired reservations.
    pub reserved: Money,
}

impl BudgetStatus {
    /// What is left to reserve (`None` when unlimited; never negative).
    pub fn available(&self) -> Option<Money> {
        self.budget.map(|b| {
            let left = b.nanos().saturating_sub(self.spent.nanos()).saturating_sub(self.reserved.nanos());
            Money::from_nanos(left.max(0))
        })
    }

    /// Whether a reservation of `amount` fits: always for an unlimited budget; otherwise only while spending has
    /// not overshot the budget (a call that cost more than its reservation blocks every further call, free ones
    /// too, until the budget is raised) and spent + reserved + `amount` stays within it. Every store applies this
    /// rule (the PostgreSQL store in `budget_reserve`).
    pub fn admits(&self, amount: Money) -> bool {
        match self.budget {
            None => true,
            Some(budget) => self.spent <= budget && self.available().is_some_and(|available| amount <= available),
        }
    }
}

/// A budget line crossed by a settlement; each is reported once per project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BudgetThreshold {
    /// Spending reached 90% of the budget.
    Warning,
    /// Spending reached 100% of the budget.
    Exceeded,
}

impl BudgetThreshold {
    /// The lines `spent` has reached for `budget`, lowest first.
    pub fn reached(budget: Money, spent: Money) -> Vec<BudgetThreshold> {
        let (budget, spent) = (i128::from(budget.nanos()), i128::from(spent.nanos()));
        let mut reached = Vec::new();
        if spent * 10 >= budget * 9 {
            reached.push(BudgetThreshold::Warning);
        }
        if spent >= budget {
            reached.push(BudgetThreshold::Exceeded);
        }
        reached
    }

    /// The event type announcing this line.
    pub fn event_kind(self) -> crate::events::EventKind {
        match self {
            BudgetThreshold::Warning => crate::events::EventKind::ProjectBudgetWarning,
            BudgetThreshold::Exceeded => crate::events::EventKind::ProjectBudgetExceeded,
        }
    }
}

/// The answer to a reservation request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReserveOutcome {
    /// Held.
    Reserved(Reservation),
    /// Not enough left; the status at the time of refusal.
    Refused(BudgetStatus),
}

/// What a settlement did.
#[derive(Clone, Debug, PartialEq)]
pub struct Settlement {
    /// The budget after it.
    pub status: BudgetStatus,
    /// Lines crossed by this settlement (each reported only once per project).
    pub crossed: Vec<BudgetThreshold>,
    /// The events of the lines crossed, stored with the settlement (the outbox).
    pub events: Vec<crate::events::Event>,
}

/// How to group cost summaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostGroupBy {
    /// By project.
    Project,
    /// By agent.
    Agent,
    /// By model.
    Model,
    /// By provider.
    Provider,
    /// By UTC day (`YYYY-MM-DD`).
    Day,
    /// By UTC day and agent (`YYYY-MM-DD agent`, the agent `unassigned` when none): a chart of each day's cost
    /// stacked by agent in one query.
    DayAgent,
}

/// Which cost records to summarise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CostFilter {
    /// Only this project.
    pub project: Option<ProjectId>,
    /// From this instant (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive).
    pub to: Option<DateTime<Utc>>,
}

/// Totals of a set of cost records.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CostTotals {
    /// The group's key (project id, agent, model, provider or day); absent for the overall total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Number of records.
    pub calls: u64,
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cached input tokens.
    pub cached_input_tokens: u64,
    /// Cost.
    pub cost: Money,
}

impl CostTotals {
    /// One record's totals (one call).
    pub fn of(record: &CostRecord) -> Self {
        CostTotals {
            key: None,
            calls: 1,
            input_tokens: record.input_tokens,
            output_tokens: record.output_tokens,
            cached_input_tokens: record.cached_input_tokens,
            cost: record.cost,
        }
    }

    /// Adds one record; [`MoneyOverflow`](super::MoneyOverflow) if the total cost no longer fits.
    pub fn add(&mut self, record: &CostRecord) -> Result<(), super::MoneyOverflow> {
        self.merge(&Self::of(record))
    }

    /// Adds another set's totals (a roll-up's); [`MoneyOverflow`](super::MoneyOverflow) if the total cost no
    /// longer fits.
    pub fn merge(&mut self, other: &CostTotals) -> Result<(), super::MoneyOverflow> {
        self.calls = self.calls.saturating_add(other.calls);
        self.input_tokens = self.input_tokens.saturating_add(other.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(other.output_tokens);
        self.cached_input_tokens = self.cached_input_tokens.saturating_add(other.cached_input_tokens);
        self.cost = self.cost.try_add(other.cost)?;
        Ok(())
    }
}

/// What a cost record past its retention is folded into: its UTC day, project, agent, operation, provider and
/// model. Cost summaries add the roll-ups of a filter's days to the records still kept, so totals survive
/// retention; a roll-up counts as of its day's start (00:00 UTC) against a summary's `from` and `to`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CostRollupKey {
    /// The UTC day the records were made.
    pub day: chrono::NaiveDate,
    /// Project charged.
    pub project_id: ProjectId,
    /// The agent that made the calls.
    pub agent: Option<String>,
    /// What was billed.
    pub operation: String,
    /// Provider name.
    pub provider: String,
    /// Model as the provider reported it.
    pub model: String,
}

impl CostRollupKey {
    /// The roll-up `record` belongs to.
    pub fn of(record: &CostRecord) -> Self {
        CostRollupKey {
            day: record.created_at.date_naive(),
            project_id: record.project_id,
            agent: record.agent.clone(),
            operation: record.operation.clone(),
            provider: record.provider.clone(),
            model: record.model.clone(),
        }
    }

    /// The instant a summary's `from` and `to` compare the roll-up with: its day's start.
    pub fn starts_at(&self) -> DateTime<Utc> {
        self.day.and_time(chrono::NaiveTime::MIN).and_utc()
    }
}

impl CostGroupBy {
    /// The key of `record` under this grouping (`unassigned` for a missing agent).
    pub fn key_of(self, record: &CostRecord) -> String {
        let day = record.created_at.date_naive();
        self.key(record.project_id, record.agent.as_deref(), &record.model, &record.provider, day)
    }

    /// The key of a roll-up's records under this grouping: the one [`key_of`](Self::key_of) gives each of them.
    pub fn key_of_rollup(self, rollup: &CostRollupKey) -> String {
        self.key(rollup.project_id, rollup.agent.as_deref(), &rollup.model, &rollup.provider, rollup.day)
    }

    fn key(
        self,
        project: ProjectId,
        agent: Option<&str>,
        model: &str,
        provider: &str,
        day: chrono::NaiveDate,
    ) -> String {
        match self {
            CostGroupBy::Project => project.to_string(),
            CostGroupBy::Agent => agent.unwrap_or("unassigned").to_owned(),
            CostGroupBy::Model => model.to_owned(),
            CostGroupBy::Provider => provider.to_owned(),
            CostGroupBy::Day => day.format("%Y-%m-%d").to_string(),
            CostGroupBy::DayAgent => format!("{} {}", day.format("%Y-%m-%d"), agent.unwrap_or("unassigned")),
        }
    }
}
