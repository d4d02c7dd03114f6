//! The engine's [`ToolModel`]: a tool's question goes to the calling agent's provider and model, through the same
//! budget reservation and cost accounting as the agent's own turns.

use std::sync::Arc;

use async_trait::async_trait;

use super::CallSite;
use crate::Platform;
use crate::ids::{ProjectId, RunId, TenantId};
use crate::llm::{ChatRequest, LlmProvider, Message, OutputSchema, Usage};
use crate::model::Money;
use crate::tools::{ToolError, ToolModel};

/// The agent's model as its tools see it, for one agent loop.
pub(crate) struct AgentModel {
    pub(crate) platform: Platform,
    pub(crate) provider: Arc<dyn LlmProvider>,
    pub(crate) provider_name: String,
    pub(crate) model: String,
    pub(crate) max_tokens: u32,
    pub(crate) tenant: TenantId,
    pub(crate) project: ProjectId,
    pub(crate) run_id: Option<RunId>,
    pub(crate) agent: String,
    /// The run's controls, so a tool's question counts against its token cap and stops once it is cancelled.
    pub(crate) control: super::RunControl,
    /// Tokens and money the tools' questions cost, drained into the run's totals after each round of tool calls.
    pub(crate) spent: parking_lot::Mutex<(Usage, Money)>,
}

impl std::fmt::Debug for AgentModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentModel")
            .field("provider", &self.provider_name)
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl AgentModel {
    /// Takes what the tools' questions have cost since the last call, leaving zero.
    pub(crate) fn take_spent(&self) -> (Usage, Money) {
        std::mem::take(&mut *self.spent.lock())
    }
}

#[async_trait]
impl ToolModel for AgentModel {
    /// Reserves the worst case, calls, settles.
    async fn ask(&self, system: &str, prompt: &str) -> Result<String, ToolError> {
        self.call(system, prompt, None).await
    }

    async fn ask_in_form(&self, system: &str, prompt: &str, form: &OutputSchema) -> Result<String, ToolError> {
        self.call(system, prompt, Some(form)).await
    }
}

impl AgentModel {
    async fn call(&self, system: &str, prompt: &str, form: Option<&OutputSchema>) -> Result<String, ToolError> {
        let mut request = ChatRequest::new(self.model.clone(), vec![Message::user(prompt)])
            .with_system(system)
            .with_max_tokens(self.max_tokens)
            .with_temperature(0.0);
        request.output_schema = form.cloned();
        let site = CallSite {
            tenant: self.tenant,
            project: self.project,
            provider: &self.provider_name,
            model: &self.model,
            run_id: self.run_id,
            agent: Some(&self.agent),
            control: Some(&self.control),
        };
        let (response, record) =
            self.platform.budgeted_chat(site, &*self.provider, request).await.map_err(|error| match error {
                crate::error::Error::Llm(error) => ToolError::Failed(format!("the model failed: {error}")),
                other => ToolError::Failed(other.to_string()),
            })?;
        let mut spent = self.spent.lock();
        spent.0 = spent.0.plus(response.usage);
        spent.1 = spent.1.try_add(record.cost).map_err(|e| ToolError::Failed(e.to_string()))?;
        drop(spent);
        Ok(response.text)
    }
}
