//! Where projects' shared context lives. A trait of its own rather than part of [`TenantStore`](super::TenantStore):
//! the reference server keeps it in Redis when `REDIS_URL` is set, beside a PostgreSQL store. Each method names
//! the tenant and the project; the engine has checked that the project is the tenant's.
//!
//! Every write is atomic with respect to the others on the same key (compare-and-set by version, appends that
//! lose nothing), and the limits ([`ContextLimits`](crate::model::ContextLimits)) are checked in the write.

use async_trait::async_trait;

use super::StoreResult;
use crate::clock::Timestamp;
use crate::ids::{ProjectId, TenantId};
use crate::model::{ContextEntry, ContextKey, ContextRefusal, ContextWrite, Expect};

/// A project's context: whose it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContextScope {
    /// The tenant.
    pub tenant: TenantId,
    /// The project.
    pub project: ProjectId,
}

/// Projects' shared context.
#[async_trait]
pub trait ContextStore: Send + Sync {
    /// The live value of `key` (`None` when absent or expired at `now`).
    async fn get(&self, scope: ContextScope, key: &str, now: Timestamp) -> StoreResult<Option<ContextEntry>>;

    /// The project's live keys at `now`, sorted by key.
    async fn list(&self, scope: ContextScope, now: Timestamp) -> StoreResult<Vec<ContextKey>>;

    /// Writes `value` under `write.key` if the key meets `expect` (an expired value counts as absent), with a new
    /// version ([`ContextWrite::next_version`]) and expiry; refuses a value over the size limit, and a new key
    /// past the key limit.
    async fn put(
        &self,
        scope: ContextScope,
        value: &serde_json::Value,
        expect: Expect,
        write: &ContextWrite<'_>,
    ) -> StoreResult<Result<ContextEntry, ContextRefusal>>;

    /// Appends `item` to the list under `write.key` (an absent or expired one becomes `[item]`), atomically: of
    /// concurrent appends none is lost. Renews the expiry; the size and key limits apply as to a put.
    async fn append(
        &self,
        scope: ContextScope,
        item: &serde_json::Value,
        write: &ContextWrite<'_>,
    ) -> StoreResult<Result<ContextEntry, ContextRefusal>>;

    /// Deletes `key` if it meets `expect`; `Ok(false)` when there was no live value.
    async fn delete(
        &self,
        scope: ContextScope,
        key: &str,
        expect: Expect,
        now: Timestamp,
    ) -> StoreResult<Result<bool, ContextRefusal>>;
}
