//! Spending on LLM calls: reserve the worst case before a call, settle the actual after, and report.

use crate::Platform;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::{CostRecordId, ProjectId, ReservationId, TenantId};
use crate::llm::{ChatRequest, ChatResponse};
use crate::model::{BudgetStatus, CostFilter, CostGroupBy, CostRecord, CostTotals, Reservation, ReserveOutcome};
use crate::store::StoreError;

/// What is known about a finished LLM call when it is settled.
#[derive(Clone, Copy, Debug)]
pub struct LlmCall<'a> {
    /// The provider that served it (as in the pricing table).
    pub provider: &'a str,
    /// The model requested (priced by this name; the response's model is recorded).
    pub model: &'a str,
    /// The run or workflow it belonged to.
    pub run_id: Option<crate::ids::RunId>,
    /// The agent that made it.
    pub agent: Option<&'a str>,
    /// The answer, with usage and latency.
    pub response: &'a ChatResponse,
}

/// Tokens a provider adds around each message (role markers, separators).
const MESSAGE_FRAMING_TOKENS: u64 = 8;
/// Tokens a provider adds when tools are offered (Anthropic documents ~350 for its tool-use instructions).
const TOOL_PROMPT_TOKENS: u64 = 500;

/// An upper bound on the input tokens of a request, counted per character of its encoded form. ASCII (English,
/// code, JSON) averages about four characters per token; one per three keeps the estimate above the truth. Any
/// other character (CJK, emoji, accents) is counted as one token per UTF-8 byte, the worst case of byte-level
/// BPE. Each message adds its framing, and offering tools adds the provider's tool-use instructions. A call that
/// still costs more than its reservation is charged in full and blocks the project's further calls once it is
/// over budget ([`BudgetStatus::admits`](crate::model::BudgetStatus::admits)).
pub fn estimate_input_tokens(request: &ChatRequest) -> u64 {
    let text = serde_json::to_string(&(&request.system, &request.messages, &request.tools)).unwrap_or_default();
    let (ascii, other_bytes) = text.chars().fold((0_u64, 0_u64), |(ascii, other), c| {
        if c.is_ascii() { (ascii + 1, other) } else { (ascii, other + c.len_utf8() as u64) }
    });
    let framing = MESSAGE_FRAMING_TOKENS * (request.messages.len() as u64 + 1);
    let tools = if request.tools.is_empty() { 0 } else { TOOL_PROMPT_TOKENS };
    ascii.div_ceil(3) + other_bytes + framing + tools
}

impl Platform {
    /// Holds the worst-case cost of `request` on `provider` against the project's budget. Refused with
    /// [`Error::BudgetExceeded`] when it does not fit; an unpriced model is [`Error::Pricing`].
    pub async fn reserve_llm_call(
        &self,
        tenant: TenantId,
        project: ProjectId,
        provider: &str,
        request: &ChatRequest,
    ) -> Result<Reservation> {
        let amount = self.inner.pricing.worst_case(
            provider,
            &request.model,
            estimate_input_tokens(request),
            u64::from(request.max_tokens),
        )?;
        let now = self.inner.clock.now();
        let reservation = Reservation {
            id: ReservationId::new(),
            tenant_id: tenant,
            project_id: project,
            amount,
            expires_at: now + self.inner.reservation_ttl,
        };
        match self.inner.store.tenant(tenant).reserve(&reservation, now).await {
            Ok(ReserveOutcome::Reserved(held)) => Ok(held),
            Ok(ReserveOutcome::Refused(status)) => Err(Error::BudgetExceeded { project, status, requested: amount }),
            Err(StoreError::MissingReference { .. }) => Err(Error::NotFound("project")),
            Err(other) => Err(other.into()),
        }
    }

    /// Records what a call cost, releases its reservation, updates the metrics, and publishes
    /// `project.budget_warning` / `project.budget_exceeded` when this settlement crossed 90% / 100%.
    pub async fn settle_llm_call(&self, reservation: &Reservation, call: LlmCall<'_>) -> Result<CostRecord> {
        let record = self.cost_record(reservation, call)?;
        self.apply_settlement(reservation, &record, &[]).await?;
        Ok(record)
    }

    /// The cost record of a finished call (priced, not yet stored).
    pub(crate) fn cost_record(&self, reservation: &Reservation, call: LlmCall<'_>) -> Result<CostRecord> {
        let usage = call.response.usage;
        let cost = self.inner.pricing.cost(call.provider, call.model, &usage)?;
        Ok(CostRecord {
            id: CostRecordId::new(),
            tenant_id: reservation.tenant_id,
            project_id: reservation.project_id,
            run_id: call.run_id,
            agent: call.agent.map(str::to_owned),
            operation: "llm_call".into(),
            provider: call.provider.to_owned(),
            model: if call.response.model.is_empty() { call.model.to_owned() } else { call.response.model.clone() },
            // The record keeps three token counts: cache writes are input (priced as such above).
            input_tokens: usage.input_tokens.saturating_add(usage.cache_write_input_tokens),
            output_tokens: usage.output_tokens,
            cached_input_tokens: usage.cached_input_tokens,
            cost,
            latency_ms: u64::try_from(call.response.latency.as_millis()).unwrap_or(u64::MAX),
            created_at: self.inner.clock.now(),
        })
    }

    /// Stores `record` against its reservation with `events` (one transaction), then updates the metrics; the
    /// budget lines crossed are stored by the same call.
    /// Safe to repeat: a record already stored (an earlier attempt committed, but its answer was lost) is a
    /// conflict on its id, taken as done.
    pub(crate) async fn apply_settlement(
        &self,
        reservation: &Reservation,
        record: &CostRecord,
        events: &[crate::events::Event],
    ) -> Result<()> {
        let now = self.inner.clock.now();
        let tenant = self.inner.store.tenant(reservation.tenant_id);
        let settlement = match tenant.settle(reservation.id, record, events, now).await {
            Ok(settlement) => settlement,
            Err(StoreError::Conflict { .. }) => return Ok(()),
            Err(other) => return Err(other.into()),
        };
        let provider = record.provider.as_str();
        if record.cost > reservation.amount {
            // Charged in full all the same; once the project is over budget, its next reservation is refused.
            tracing::warn!(
                project_id = %reservation.project_id, provider, model = %record.model,
                reserved = %reservation.amount, cost = %record.cost, "an LLM call cost more than its reservation"
            );
            self.inner.metrics.llm.reservation_overshoot_total.with_label_values(&[provider]).inc();
        }
        let metrics = &self.inner.metrics;
        metrics.llm.spent(record);
        metrics.costs.spent(record);

        if !settlement.events.is_empty() || !events.is_empty() {
            self.events_stored();
        }
        Ok(())
    }

    /// Gives a reservation back without spending (the call failed before costing anything).
    pub async fn release_llm_call(&self, reservation: &Reservation) -> Result<()> {
        Ok(self.inner.store.tenant(reservation.tenant_id).release(reservation.id).await?)
    }

    /// A project's budget status. Any member may read.
    pub async fn budget_status(&self, principal: &Principal, project: ProjectId) -> Result<BudgetStatus> {
        let now = self.inner.clock.now();
        self.inner
            .store
            .tenant(principal.tenant_id)
            .budget_status(project, now)
            .await?
            .ok_or(Error::NotFound("project"))
    }

    /// Cost totals of the caller's tenant (of one project when the filter names one, which must exist). Any
    /// member may read.
    pub async fn cost_summary(
        &self,
        principal: &Principal,
        filter: CostFilter,
        group_by: Option<CostGroupBy>,
    ) -> Result<(CostTotals, Vec<CostTotals>)> {
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            return Err(crate::model::ValidationError::new("from", "must not be after `to`").into());
        }
        let store = self.inner.store.tenant(principal.tenant_id);
        if let Some(project) = filter.project
            && store.get_project(project).await?.is_none()
        {
            return Err(Error::NotFound("project"));
        }
        Ok(store.cost_summary(filter, group_by).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Message, ToolDefinition};

    fn estimate(text: &str, tools: bool) -> u64 {
        let mut request = ChatRequest::new("m", vec![Message::user(text)]);
        if tools {
            request.tools.push(ToolDefinition {
                name: "t".into(),
                description: "d".into(),
                input_schema: serde_json::json!({"type": "object"}),
            });
        }
        estimate_input_tokens(&request)
    }

    #[test]
    fn the_input_estimate_stays_above_the_worst_case_of_each_script() {
        let english = "The quick brown fox jumps over the lazy dog. ".repeat(100);
        assert!(estimate(&english, false) >= english.len() as u64 / 3, "ASCII: a token per three characters");
        // CJK and emoji: at least one token per byte of UTF-8, not one per three bytes.
        let japanese = "日本語の文章".repeat(200);
        assert!(estimate(&japanese, false) >= japanese.len() as u64);
        let emoji = "🙂🚀".repeat(300);
        assert!(estimate(&emoji, false) >= emoji.len() as u64);
        // Offering tools adds the provider's tool instructions.
        assert!(estimate("hi", true) >= estimate("hi", false) + TOOL_PROMPT_TOKENS);
    }
}
