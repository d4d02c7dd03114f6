//! The tenant's settings: the outgoing guardrail on prompts to third-party providers.

use agentic_core::api::{GuardrailSettings, UpdateGuardrailSettings};
use agentic_core::llm::GuardrailAction;
use reqwest::Method;

use crate::client::{AgenticClient, Json, Repeat};
use crate::error::Result;

/// `client.settings()`.
#[derive(Clone, Copy, Debug)]
pub struct Settings<'a>(pub(crate) &'a AgenticClient);

impl Settings<'_> {
    /// The tenant's outgoing guardrail as it applies: its own choice or the platform's default, whether the
    /// platform scans at all, and the providers it does not scan.
    pub async fn guardrails(&self) -> Result<GuardrailSettings> {
        self.0.get("/v1/settings/guardrails", None).await
    }

    /// Sets what the outgoing guardrail does (needs `users:manage`): `Block`, `Redact` or `Off`.
    pub async fn set_guardrails(&self, outgoing: GuardrailAction) -> Result<GuardrailSettings> {
        let body = UpdateGuardrailSettings { outgoing };
        self.0.call(Method::PUT, "/v1/settings/guardrails", None, Some(&Json(&body)), Repeat::Safe).await
    }
}
