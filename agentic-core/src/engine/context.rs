//! A project's shared context: read by any member, written by those who run agents (`agents:execute`) and by
//! agents through their context tools, each write recorded with who made it. The values live in the platform's
//! [`ContextStore`](crate::store::ContextStore) (Redis in the reference server when `REDIS_URL` is set).

use std::time::Duration;

use crate::Platform;
use crate::api::{AppendContextRequest, PutContextRequest};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::ids::{ProjectId, RunId, TenantId};
use crate::model::{
    ContextEntry, ContextKey, ContextRefusal, ContextWrite, DEFAULT_CONTEXT_TTL, Expect, MAX_CONTEXT_TTL, Permission,
    Provenance, ValidationError, validate_context_key,
};
use crate::store::ContextScope;
use crate::tools::{ProjectContext, ToolError};

impl Platform {
    /// The project's live keys, sorted.
    pub async fn list_context(&self, principal: &Principal, project: ProjectId) -> Result<Vec<ContextKey>> {
        let scope = self.context_scope(principal, project).await?;
        Ok(self.inner.context.list(scope, self.inner.clock.now()).await?)
    }

    /// One live key of the project's context.
    pub async fn get_context(&self, principal: &Principal, project: ProjectId, key: &str) -> Result<ContextEntry> {
        let scope = self.context_scope(principal, project).await?;
        self.read_context(scope, key).await?.ok_or(Error::NotFound("context key"))
    }

    /// The live value of a checked key (a caller's read, or an agent's).
    async fn read_context(&self, scope: ContextScope, key: &str) -> Result<Option<ContextEntry>> {
        let key = validate_context_key(key)?;
        Ok(self.inner.context.get(scope, &key, self.inner.clock.now()).await?)
    }

    /// Writes one key, if it meets `expect` (`If-Match` / `If-None-Match`).
    pub async fn put_context(
        &self,
        principal: &Principal,
        project: ProjectId,
        key: &str,
        request: PutContextRequest,
        expect: Expect,
    ) -> Result<ContextEntry> {
        principal.require(Permission::AgentsExecute)?;
        let scope = self.context_scope(principal, project).await?;
        let by = Provenance { user_id: Some(principal.user_id), agent: None, run_id: None };
        self.write_context(scope, key, &by, request.ttl_seconds, ContextOp::Put(&request.value, expect)).await
    }

    /// Appends one item to the list under a key (creating it), losing nothing to concurrent appends.
    pub async fn append_context(
        &self,
        principal: &Principal,
        project: ProjectId,
        key: &str,
        request: AppendContextRequest,
    ) -> Result<ContextEntry> {
        principal.require(Permission::AgentsExecute)?;
        let scope = self.context_scope(principal, project).await?;
        let by = Provenance { user_id: Some(principal.user_id), agent: None, run_id: None };
        self.write_context(scope, key, &by, request.ttl_seconds, ContextOp::Append(&request.item)).await
    }

    /// Deletes one key, if it meets `expect`.
    pub async fn delete_context(
        &self,
        principal: &Principal,
        project: ProjectId,
        key: &str,
        expect: Expect,
    ) -> Result<()> {
        principal.require(Permission::AgentsExecute)?;
        let scope = self.context_scope(principal, project).await?;
        let key = validate_context_key(key)?;
        match self.inner.context.delete(scope, &key, expect, self.inner.clock.now()).await? {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::NotFound("context key")),
            Err(refusal) => Err(refused(refusal)),
        }
    }

    /// Checks the key and the time to live, then applies `op`.
    pub(crate) async fn write_context(
        &self,
        scope: ContextScope,
        key: &str,
        by: &Provenance,
        ttl_seconds: Option<u64>,
        op: ContextOp<'_>,
    ) -> Result<ContextEntry> {
        let key = validate_context_key(key)?;
        let ttl = match ttl_seconds {
            None => DEFAULT_CONTEXT_TTL,
            Some(seconds) if (1..=MAX_CONTEXT_TTL.as_secs()).contains(&seconds) => Duration::from_secs(seconds),
            Some(_) => {
                let reason = format!("must be from 1 to {} seconds", MAX_CONTEXT_TTL.as_secs());
                return Err(ValidationError::new("ttl_seconds", reason).into());
            }
        };
        let now = self.inner.clock.now();
        let write = ContextWrite { key: &key, provenance: by, ttl, now, limits: self.inner.context_limits };
        let written = match op {
            ContextOp::Put(value, expect) => self.inner.context.put(scope, value, expect, &write).await?,
            ContextOp::Append(item) => self.inner.context.append(scope, item, &write).await?,
        };
        written.map_err(refused)
    }

    /// The scope of a project of the caller's tenant (404 for another tenant's).
    async fn context_scope(&self, principal: &Principal, project: ProjectId) -> Result<ContextScope> {
        let store = self.inner.store.tenant(principal.tenant_id);
        store.get_project(project).await?.ok_or(Error::NotFound("project"))?;
        Ok(ContextScope { tenant: principal.tenant_id, project })
    }
}

/// The run's project context as its agent's tools see it: writes recorded as the agent's, in its run, acting
/// for the run's user.
#[derive(Debug)]
pub(crate) struct AgentProjectContext {
    pub(crate) platform: Platform,
    pub(crate) tenant: TenantId,
    pub(crate) project: ProjectId,
    pub(crate) agent: String,
    pub(crate) run: Option<RunId>,
    pub(crate) user: Option<crate::ids::UserId>,
}

impl AgentProjectContext {
    fn scope(&self) -> ContextScope {
        ContextScope { tenant: self.tenant, project: self.project }
    }

    fn provenance(&self) -> Provenance {
        Provenance { user_id: self.user, agent: Some(self.agent.clone()), run_id: self.run }
    }

    async fn write(&self, key: &str, op: ContextOp<'_>, ttl: Option<u64>) -> Result<ContextEntry, ToolError> {
        let written = self.platform.write_context(self.scope(), key, &self.provenance(), ttl, op).await;
        written.map_err(tool_error)
    }
}

/// An engine error as the model sees it (it may correct its input).
fn tool_error(error: Error) -> ToolError {
    match error {
        Error::Validation(invalid) => ToolError::InvalidInput(invalid.to_string()),
        other => ToolError::Failed(other.public_detail()),
    }
}

#[async_trait::async_trait]
impl ProjectContext for AgentProjectContext {
    async fn get(&self, key: &str) -> std::result::Result<Option<ContextEntry>, ToolError> {
        self.platform.read_context(self.scope(), key).await.map_err(tool_error)
    }

    async fn set(&self, key: &str, value: &serde_json::Value, ttl: Option<u64>) -> Result<ContextEntry, ToolError> {
        self.write(key, ContextOp::Put(value, Expect::Any), ttl).await
    }

    async fn append(&self, key: &str, item: &serde_json::Value, ttl: Option<u64>) -> Result<ContextEntry, ToolError> {
        self.write(key, ContextOp::Append(item), ttl).await
    }
}

/// A write to one key.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ContextOp<'a> {
    /// Replace the value, if the key meets the expectation.
    Put(&'a serde_json::Value, Expect),
    /// Append to the list.
    Append(&'a serde_json::Value),
}

/// A store's refusal as the caller's error: 412 for a stale version, 413 for a value too large, 422 otherwise.
fn refused(refusal: ContextRefusal) -> Error {
    match refusal {
        ContextRefusal::Stale { .. } => Error::PreconditionFailed(refusal.to_string()),
        ContextRefusal::TooLarge { .. } => Error::TooLarge(refusal.to_string()),
        ContextRefusal::TooManyKeys { .. } | ContextRefusal::NotAList => {
            ValidationError::new("key", refusal.to_string()).into()
        }
    }
}
