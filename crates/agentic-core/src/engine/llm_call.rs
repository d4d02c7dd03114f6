//! One budgeted model call, as agents and LLM-backed tools make them: reserve the worst case, call, then settle the
//! actual cost (one cost record) or release the hold. A call abandoned midway — its future dropped, as when a
//! worker that lost its run's lease stops — releases its hold in the background instead of keeping the
//! project's budget tied up until the reservation expires.

use tracing::Instrument;

use crate::Platform;
use crate::error::{Error, Result};
use crate::ids::{ProjectId, TenantId};
use crate::llm::{ChatRequest, ChatResponse, LlmProvider};
use crate::model::CostRecord;

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
    pub(crate) run_id: Option<uuid::Uuid>,
    pub(crate) agent: Option<&'a str>,
}

impl Platform {
    /// Makes one model call charged to `site`. Fails with [`Error::BudgetExceeded`] before calling when the
    /// worst case does not fit, and with [`Error::Llm`] when the provider fails (the hold is released).
    pub(crate) async fn budgeted_chat(
        &self,
        site: CallSite<'_>,
        provider: &dyn LlmProvider,
        request: ChatRequest,
    ) -> Result<(ChatResponse, CostRecord)> {
        let reservation = self.reserve_llm_call(site.tenant, site.project, site.provider, &request).await?;
        let hold = OnAbandon::new({
            let (platform, reservation) = (self.clone(), reservation.clone());
            async move {
                if let Err(error) = platform.release_llm_call(&reservation).await {
                    tracing::warn!(%error, reservation = %reservation.id, "could not release an abandoned budget hold");
                }
            }
        });
        let response = provider
            .chat(request)
            .instrument(tracing::info_span!("llm_call", provider = %site.provider, model = %site.model))
            .await
            .map_err(Error::Llm)?;
        let call = LlmCall {
            provider: site.provider,
            model: site.model,
            run_id: site.run_id,
            agent: site.agent,
            response: &response,
        };
        let record = self.settle_llm_call(&reservation, call).await?;
        hold.disarm();
        Ok((response, record))
    }
}
