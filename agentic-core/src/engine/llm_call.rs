//! One budgeted model call, as agents and LLM-backed tools make them: reserve the worst case, call, then settle the
//! actual cost (one cost record) or release the hold. A call abandoned midway — its future dropped, as when a
//! worker that lost its run's lease stops — releases its hold in the background instead of keeping the
//! project's budget tied up until the reservation expires.
//!
//! Once the provider has answered, the money is spent: a settlement the store refuses is retried, and if it still
//! fails the hold is kept (it goes on counting against the budget) and the charge waits in the platform's
//! pending charges, which the upkeep loop ([`Platform::run_maintenance`]) settles when the store is back.

use tracing::Instrument;

use crate::Platform;
use crate::error::{Error, Result};
use crate::ids::{ProjectId, TenantId};
use crate::llm::{ChatRequest, ChatResponse, LlmProvider};
use crate::model::{CostRecord, Reservation};

use super::budgets::LlmCall;
use super::on_abandon::OnAbandon;

/// Who makes a call and for what: the budget it is charged to and what its cost record says.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallSite<'a> {
    pub(crate) tenant: TenantId,
    pub(crate) project: ProjectId,
    /// The provider's name in the pricing table and cost records.
    pub(crate) provider: &'a str,
    pub(crate) model: &'a str,
    pub(crate) run_id: Option<crate::ids::RunId>,
    pub(crate) agent: Option<&'a str>,
    /// The run's controls (cancel, token cap), for calls made by a run.
    pub(crate) control: Option<&'a super::RunControl>,
}

impl Platform {
    /// Makes one model call charged to `site`. Fails with [`Error::BudgetExceeded`] before calling when the
    /// worst case does not fit, and with [`Error::Llm`] when the provider fails (the hold is released).
    pub(crate) async fn budgeted_chat(
        &self,
        site: CallSite<'_>,
        provider: &dyn LlmProvider,
        mut request: ChatRequest,
    ) -> Result<(ChatResponse, CostRecord)> {
        if let Some(control) = site.control {
            control.admit(&mut request)?;
        }
        // Before anything is held or sent: a blocked call costs nothing and leaves nothing behind.
        self.guard_outgoing(site.tenant, provider, &mut request).await?;
        let reservation = self.reserve_llm_call(site.tenant, site.project, site.provider, &request).await?;
        let hold = OnAbandon::new({
            let (platform, reservation) = (self.clone(), reservation.clone());
            async move {
                if let Err(error) = platform.release_llm_call(&reservation).await {
                    tracing::warn!(%error, reservation = %reservation.id, "could not release an abandoned budget hold");
                }
            }
        });
        // Named and attributed by OpenTelemetry's GenAI conventions, so trace backends show it as a model call.
        let span = tracing::info_span!(
            "chat",
            otel.name = format!("chat {}", site.model).as_str(),
            otel.kind = "client",
            gen_ai.operation.name = "chat",
            gen_ai.system = %site.provider,
            gen_ai.request.model = %site.model,
            gen_ai.request.max_tokens = request.max_tokens,
            gen_ai.response.model = tracing::field::Empty,
            gen_ai.usage.input_tokens = tracing::field::Empty,
            gen_ai.usage.output_tokens = tracing::field::Empty,
            error.type = tracing::field::Empty,
            tenant_id = %site.tenant,
            project_id = %site.project,
            run_id = site.run_id.map(tracing::field::display),
            agent = site.agent,
        );
        let started = std::time::Instant::now();
        let answered = provider.chat(request).instrument(span.clone()).await;
        let status = answered.as_ref().map_or_else(crate::llm::LlmError::kind, |_| "ok");
        // The metrics are labelled like the call's cost record (the provider that answered, the model it reports),
        // so that calls, tokens and cost line up; a failed call has only the provider and model asked for.
        let provider_name = match &answered {
            Ok(response) => response.provider.as_deref().unwrap_or(site.provider),
            Err(_) => site.provider,
        };
        let model = match &answered {
            Ok(response) => {
                span.record("gen_ai.response.model", response.model.as_str());
                span.record("gen_ai.usage.input_tokens", response.usage.input_tokens);
                span.record("gen_ai.usage.output_tokens", response.usage.output_tokens);
                if response.model.is_empty() { site.model } else { response.model.as_str() }
            }
            Err(_) => {
                span.record("error.type", status);
                site.model
            }
        };
        self.inner.metrics.llm.call(provider_name, model, status, started.elapsed().as_secs_f64());
        let provider_name = provider_name.to_owned();
        let response = answered.map_err(Error::Llm)?;
        let call = LlmCall {
            provider: &provider_name,
            model: site.model,
            run_id: site.run_id,
            agent: site.agent,
            response: &response,
        };
        let record = self.cost_record(&reservation, call)?;
        // From here on the hold is kept or settled, never released: the provider has answered.
        hold.disarm();
        let event = self.llm_call_event(&site, &record);
        self.settle_or_defer(reservation, &record, event).await;
        if let Some(control) = site.control {
            control.record(response.usage, record.cost);
        }
        Ok((response, record))
    }

    /// `run.llm_call`, for the run's progress stream (a call outside a run has no stream to feed).
    fn llm_call_event(&self, site: &CallSite<'_>, record: &CostRecord) -> Option<crate::events::Event> {
        let run_id = site.run_id?;
        let data = serde_json::json!({"run_id": run_id, "project_id": site.project, "agent": site.agent.unwrap_or(""),
            "provider": record.provider, "model": record.model, "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens, "cost": record.cost});
        Some(crate::events::Event::new(site.tenant, crate::events::EventKind::RunLlmCall, data, self.inner.clock.now()))
    }

    /// Settles a call with its event (one transaction), retrying a failing store a few times; then leaves the
    /// charge to the upkeep loop and publishes the event on its own.
    async fn settle_or_defer(
        &self,
        reservation: Reservation,
        record: &CostRecord,
        event: Option<crate::events::Event>,
    ) {
        let mut wait = SETTLE_RETRY;
        for attempt in 1..=SETTLE_ATTEMPTS {
            match self.apply_settlement(&reservation, record, event.as_slice()).await {
                Ok(()) => return,
                Err(error) if attempt < SETTLE_ATTEMPTS => {
                    tracing::warn!(%error, reservation = %reservation.id, attempt, "could not settle an LLM call; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 4;
                }
                Err(error) => tracing::error!(
                    %error, reservation = %reservation.id, project_id = %reservation.project_id, cost = %record.cost,
                    "could not settle an LLM call; its hold stays and the upkeep loop will charge it"
                ),
            }
        }
        self.inner.pending_charges.lock().push(PendingCharge { reservation, record: record.clone() });
        // The last attempt may have committed with its answer lost: then the event is there already.
        if let Some(event) = event {
            self.publish_event_unless_stored(event).await;
        }
    }

    /// Settles the charges whose settlement failed earlier; returns how many still wait (the store is still
    /// failing). Run by [`run_maintenance`](Self::run_maintenance) on every sweep.
    pub async fn settle_pending_charges(&self) -> usize {
        let due = std::mem::take(&mut *self.inner.pending_charges.lock());
        let mut failed = Vec::new();
        for charge in due {
            if let Err(error) = self.apply_settlement(&charge.reservation, &charge.record, &[]).await {
                tracing::warn!(%error, reservation = %charge.reservation.id, "a pending LLM charge still cannot be settled");
                failed.push(charge);
            } else {
                tracing::info!(reservation = %charge.reservation.id, cost = %charge.record.cost, "settled a pending LLM charge");
            }
        }
        let mut pending = self.inner.pending_charges.lock();
        pending.extend(failed);
        pending.len()
    }

    /// Logs every charge still pending, in full, so that an operator can reconcile them (the process is
    /// stopping and they live in memory).
    pub(crate) fn report_pending_charges(&self) {
        for charge in self.inner.pending_charges.lock().iter() {
            tracing::error!(
                tenant_id = %charge.record.tenant_id, project_id = %charge.record.project_id,
                cost_record = %charge.record.id, cost = %charge.record.cost, provider = %charge.record.provider,
                model = %charge.record.model, input_tokens = charge.record.input_tokens,
                output_tokens = charge.record.output_tokens, "stopping with an LLM charge not settled"
            );
        }
    }
}

/// A settlement the store refused after the provider had answered, waiting for the upkeep loop.
#[derive(Clone, Debug)]
pub(crate) struct PendingCharge {
    reservation: Reservation,
    record: CostRecord,
}

/// Settlement attempts inside the call before the charge is left to the upkeep loop.
const SETTLE_ATTEMPTS: u32 = 3;
/// Wait before the second attempt; each further wait is four times longer.
const SETTLE_RETRY: std::time::Duration = std::time::Duration::from_millis(50);
