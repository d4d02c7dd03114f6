//! The outgoing guardrail on every LLM call, and each tenant's setting of it (`GET|PUT /v1/settings/guardrails`).

use crate::Platform;
use crate::api::{GuardrailSettings, UpdateGuardrailSettings};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::llm::{ChatRequest, GuardrailAction, LlmProvider, screen};
use crate::model::Permission;

/// The key of the guardrail settings in a tenant's settings object.
const SETTINGS_KEY: &str = "guardrails";

impl Platform {
    /// The action for `tenant`'s calls, and whether it is the tenant's own choice (else the platform's default).
    /// Without a guardrail installed nothing is scanned, but the tenant's choice is still what it reads back.
    async fn guardrail_action(&self, tenant: TenantId) -> Result<(GuardrailAction, bool)> {
        let own = self.inner.guardrail_settings.get(tenant).await?;
        let fallback = self.inner.guardrails.as_ref().map_or(GuardrailAction::default(), |g| g.fallback_action());
        Ok((own.unwrap_or(fallback), own.is_some()))
    }

    /// Screens a call to `provider` before it leaves: blocked (the call is not made) or redacted in place as the
    /// tenant's setting says, each finding counted in `guardrail_findings_total{kind,action}`. Calls to exempt
    /// providers, and platforms without a guardrail, pass untouched.
    pub(crate) async fn guard_outgoing(
        &self,
        tenant: TenantId,
        provider: &dyn LlmProvider,
        request: &mut ChatRequest,
    ) -> Result<()> {
        let Some(guardrails) = &self.inner.guardrails else { return Ok(()) };
        // A failover chain may reach any member: it is exempt only when all of them are.
        if provider.reaches().iter().all(|name| guardrails.is_exempt(name)) {
            return Ok(());
        }
        let provider = provider.name();
        let (action, _) = self.guardrail_action(tenant).await?;
        if action == GuardrailAction::Off {
            return Ok(());
        }
        let found = screen(guardrails.scanner(), request, action == GuardrailAction::Redact);
        for (kind, count) in &found {
            self.inner.metrics.llm.guardrail_finding(kind, action.as_str(), *count);
        }
        if action == GuardrailAction::Block && !found.is_empty() {
            tracing::info!(tenant_id = %tenant, provider, kinds = ?found.keys().collect::<Vec<_>>(), "outgoing guardrail blocked a call");
            return Err(Error::GuardrailBlocked { provider: provider.to_owned(), kinds: found.into_keys().collect() });
        }
        Ok(())
    }

    /// The caller's tenant's guardrail setting, and what applies.
    pub async fn guardrail_settings(&self, principal: &Principal) -> Result<GuardrailSettings> {
        self.settings_of(principal.tenant_id).await
    }

    async fn settings_of(&self, tenant: TenantId) -> Result<GuardrailSettings> {
        let (outgoing, own) = self.guardrail_action(tenant).await?;
        let guardrails = self.inner.guardrails.as_ref();
        Ok(GuardrailSettings {
            outgoing,
            source: if own { "tenant" } else { "default" }.to_owned(),
            installed: guardrails.is_some(),
            exempt_providers: guardrails.map(|g| g.exempt_providers().map(str::to_owned).collect()).unwrap_or_default(),
        })
    }

    /// Sets the caller's tenant's guardrail (needs `users:manage`, the tenant administrator's permission). It
    /// applies on this replica at once, and on the others within a minute.
    pub async fn set_guardrail_settings(
        &self,
        principal: &Principal,
        request: UpdateGuardrailSettings,
    ) -> Result<GuardrailSettings> {
        principal.require(Permission::UsersManage)?;
        let tenant = principal.tenant_id;
        let mut patch = serde_json::Map::new();
        patch.insert(SETTINGS_KEY.into(), serde_json::json!({"outgoing": request.outgoing}));
        let now = self.inner.clock.now();
        self.inner.store.tenant(tenant).merge_tenant_settings(&patch, now).await?.ok_or(Error::NotFound("tenant"))?;
        self.inner.guardrail_settings.forget(tenant);
        tracing::info!(tenant_id = %tenant, outgoing = request.outgoing.as_str(), "guardrail setting changed");
        self.settings_of(tenant).await
    }
}
