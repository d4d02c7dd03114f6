//! Projects' shared context (migration `project_context`): one row per key, under row-level security like every
//! tenant table. A write locks the key's row (`FOR UPDATE`), so compare-and-set and appends are serialized per
//! key and lose nothing; creating a key also takes the project's advisory lock, so concurrent creators cannot pass
//! the key limit together.

use agentic_core::clock::Timestamp;
use agentic_core::model::{
    ContextEntry, ContextKey, ContextRefusal, ContextWrite, Expect, Provenance, append_item, check_value_size,
};
use agentic_core::store::{ContextScope, ContextStore, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};

use crate::PgStore;
use crate::error::{corrupt, store_error};
use crate::tenant::{PgTenant, commit};

#[derive(sqlx::FromRow)]
struct EntryRow {
    key: String,
    value: serde_json::Value,
    version: i64,
    expires_at: DateTime<Utc>,
    written_by: serde_json::Value,
    updated_at: DateTime<Utc>,
}

impl TryFrom<EntryRow> for ContextEntry {
    type Error = agentic_core::store::StoreError;

    fn try_from(row: EntryRow) -> Result<Self, Self::Error> {
        let written_by: Provenance =
            serde_json::from_value(row.written_by).map_err(|e| corrupt(format!("a context provenance: {e}")))?;
        Ok(ContextEntry {
            key: row.key,
            value: row.value,
            version: u64::try_from(row.version).map_err(|_| corrupt("a negative context version".into()))?,
            expires_at: row.expires_at,
            written_by,
            updated_at: row.updated_at,
        })
    }
}

/// The key's row, locked for the rest of the transaction (expired or not).
async fn locked(
    tx: &mut Transaction<'static, Postgres>,
    scope: ContextScope,
    key: &str,
) -> StoreResult<Option<ContextEntry>> {
    let row: Option<EntryRow> = sqlx::query_as(
        "SELECT key, value, version, expires_at, written_by, updated_at FROM project_context \
         WHERE tenant_id = $1 AND project_id = $2 AND key = $3 FOR UPDATE",
    )
    .bind(scope.tenant.as_uuid())
    .bind(scope.project.as_uuid())
    .bind(key)
    .fetch_optional(&mut **tx)
    .await
    .map_err(|e| store_error(e, "the context key"))?;
    row.map(ContextEntry::try_from).transpose()
}

/// The key's row locked; when it has none, after taking the project's key-creation lock and looking again (a
/// concurrent creator of the same key commits first).
async fn lock_key(
    tx: &mut Transaction<'static, Postgres>,
    scope: ContextScope,
    key: &str,
) -> StoreResult<Option<ContextEntry>> {
    if let Some(row) = locked(tx, scope, key).await? {
        return Ok(Some(row));
    }
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7001))")
        .bind(scope.project.as_uuid())
        .execute(&mut **tx)
        .await
        .map_err(|e| store_error(e, "the project's context"))?;
    locked(tx, scope, key).await
}

/// Writes `value` under the key whose row (`row`, locked) is as given: the limits checked, a new version.
async fn write(
    tx: &mut Transaction<'static, Postgres>,
    scope: ContextScope,
    row: Option<&ContextEntry>,
    value: serde_json::Value,
    write: &ContextWrite<'_>,
) -> StoreResult<Result<ContextEntry, ContextRefusal>> {
    if let Err(refusal) = check_value_size(&value, write.limits) {
        return Ok(Err(refusal));
    }
    let live = row.is_some_and(|r| r.expires_at > write.now);
    if !live {
        // A new key (under the creation lock): expired keys make room first.
        sqlx::query(
            "DELETE FROM project_context WHERE tenant_id = $1 AND project_id = $2 AND expires_at <= $3 AND key <> $4",
        )
        .bind(scope.tenant.as_uuid())
        .bind(scope.project.as_uuid())
        .bind(write.now)
        .bind(write.key)
        .execute(&mut **tx)
        .await
        .map_err(|e| store_error(e, "the project's context"))?;
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM project_context WHERE tenant_id = $1 AND project_id = $2 AND expires_at > $3",
        )
        .bind(scope.tenant.as_uuid())
        .bind(scope.project.as_uuid())
        .bind(write.now)
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| store_error(e, "the project's context"))?;
        if usize::try_from(count).unwrap_or(usize::MAX) >= write.limits.max_keys {
            return Ok(Err(ContextRefusal::TooManyKeys { limit: write.limits.max_keys as u64 }));
        }
    }
    let entry = ContextEntry {
        key: write.key.to_owned(),
        value,
        version: write.next_version(row.map(|r| r.version)),
        expires_at: write.expires_at(),
        written_by: write.provenance.clone(),
        updated_at: write.now,
    };
    let provenance = serde_json::to_value(&entry.written_by).map_err(|e| corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO project_context (tenant_id, project_id, key, value, version, expires_at, written_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, project_id, key) DO UPDATE SET \
         value = EXCLUDED.value, version = EXCLUDED.version, expires_at = EXCLUDED.expires_at, \
         written_by = EXCLUDED.written_by, updated_at = EXCLUDED.updated_at",
    )
    .bind(scope.tenant.as_uuid())
    .bind(scope.project.as_uuid())
    .bind(&entry.key)
    .bind(&entry.value)
    .bind(i64::try_from(entry.version).unwrap_or(i64::MAX))
    .bind(entry.expires_at)
    .bind(provenance)
    .bind(entry.updated_at)
    .execute(&mut **tx)
    .await
    .map_err(|e| store_error(e, "the project"))?;
    Ok(Ok(entry))
}

impl PgStore {
    fn scoped(&self, scope: ContextScope) -> PgTenant {
        PgTenant::new(self.pool().clone(), scope.tenant)
    }
}

#[async_trait]
impl ContextStore for PgStore {
    async fn get(&self, scope: ContextScope, key: &str, now: Timestamp) -> StoreResult<Option<ContextEntry>> {
        let mut tx = self.scoped(scope).begin().await?;
        let row: Option<EntryRow> = sqlx::query_as(
            "SELECT key, value, version, expires_at, written_by, updated_at FROM project_context \
             WHERE tenant_id = $1 AND project_id = $2 AND key = $3 AND expires_at > $4",
        )
        .bind(scope.tenant.as_uuid())
        .bind(scope.project.as_uuid())
        .bind(key)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the context key"))?;
        commit(tx).await?;
        row.map(ContextEntry::try_from).transpose()
    }

    async fn list(&self, scope: ContextScope, now: Timestamp) -> StoreResult<Vec<ContextKey>> {
        let mut tx = self.scoped(scope).begin().await?;
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT key, value, version, expires_at, written_by, updated_at FROM project_context \
             WHERE tenant_id = $1 AND project_id = $2 AND expires_at > $3 ORDER BY key",
        )
        .bind(scope.tenant.as_uuid())
        .bind(scope.project.as_uuid())
        .bind(now)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the project's context"))?;
        commit(tx).await?;
        rows.into_iter().map(|row| ContextEntry::try_from(row).map(|e| e.listed())).collect()
    }

    async fn put(
        &self,
        scope: ContextScope,
        value: &serde_json::Value,
        expect: Expect,
        change: &ContextWrite<'_>,
    ) -> StoreResult<Result<ContextEntry, ContextRefusal>> {
        let mut tx = self.scoped(scope).begin().await?;
        let row = lock_key(&mut tx, scope, change.key).await?;
        let current = row.as_ref().filter(|r| r.expires_at > change.now).map(|r| r.version);
        if !expect.admits(current) {
            return Ok(Err(ContextRefusal::Stale { current }));
        }
        let written = write(&mut tx, scope, row.as_ref(), value.clone(), change).await?;
        if written.is_ok() {
            commit(tx).await?;
        }
        Ok(written)
    }

    async fn append(
        &self,
        scope: ContextScope,
        item: &serde_json::Value,
        change: &ContextWrite<'_>,
    ) -> StoreResult<Result<ContextEntry, ContextRefusal>> {
        let mut tx = self.scoped(scope).begin().await?;
        let row = lock_key(&mut tx, scope, change.key).await?;
        let live = row.as_ref().filter(|r| r.expires_at > change.now).map(|r| &r.value);
        let value = match append_item(live, item) {
            Ok(value) => value,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let written = write(&mut tx, scope, row.as_ref(), value, change).await?;
        if written.is_ok() {
            commit(tx).await?;
        }
        Ok(written)
    }

    async fn delete(
        &self,
        scope: ContextScope,
        key: &str,
        expect: Expect,
        now: Timestamp,
    ) -> StoreResult<Result<bool, ContextRefusal>> {
        let mut tx = self.scoped(scope).begin().await?;
        let row = locked(&mut tx, scope, key).await?;
        let current = row.as_ref().filter(|r| r.expires_at > now).map(|r| r.version);
        if !expect.admits(current) {
            return Ok(Err(ContextRefusal::Stale { current }));
        }
        // The row stays, emptied and expired, so the key's next version still grows from it.
        sqlx::query(
            "UPDATE project_context SET value = 'null', expires_at = $4 \
             WHERE tenant_id = $1 AND project_id = $2 AND key = $3",
        )
        .bind(scope.tenant.as_uuid())
        .bind(scope.project.as_uuid())
        .bind(key)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the context key"))?;
        commit(tx).await?;
        Ok(Ok(current.is_some()))
    }
}
