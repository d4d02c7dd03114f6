//! API keys.

use agentic_core::clock::Timestamp;
use agentic_core::ids::{ApiKeyId, UserId};
use agentic_core::model::{ApiKey, StoredApiKey};
use agentic_core::store::{ApiKeyStore, Page, PageRequest, StoreResult};
use async_trait::async_trait;

use crate::error::store_error;
use crate::rows::{ApiKeyRow, scope_names};
use crate::tenant::{PgTenant, commit};

macro_rules! columns {
    () => {
        "tenant_id, id, owner_id, name, lookup, key_hash, scopes, expires_at, last_used_at, revoked_at, created_at"
    };
}

fn key(row: ApiKeyRow) -> StoreResult<ApiKey> {
    StoredApiKey::try_from(row).map(|k| k.key)
}

#[async_trait]
impl ApiKeyStore for PgTenant {
    async fn insert_api_key(&self, stored: &StoredApiKey) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        insert_api_key(&mut *tx, self.uuid(), stored).await?;
        commit(tx).await
    }

    async fn get_api_key(&self, id: ApiKeyId) -> StoreResult<Option<ApiKey>> {
        let mut tx = self.begin().await?;
        let row: Option<ApiKeyRow> =
            sqlx::query_as(concat!("SELECT ", columns!(), " FROM api_keys WHERE tenant_id = $1 AND id = $2"))
                .bind(self.uuid())
                .bind(id.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store_error(e, "the API key"))?;
        commit(tx).await?;
        row.map(key).transpose()
    }

    async fn list_api_keys(&self, owner: Option<UserId>, page: PageRequest) -> StoreResult<Page<ApiKey>> {
        let limit = page.effective_limit();
        let mut tx = self.begin().await?;
        let rows: Vec<ApiKeyRow> = sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM api_keys WHERE tenant_id = $1 AND ($2::uuid IS NULL OR owner_id = $2) ",
            "AND ($3::uuid IS NULL OR id > $3) ORDER BY id LIMIT $4"
        ))
        .bind(self.uuid())
        .bind(owner.map(|o| o.as_uuid()))
        .bind(page.after)
        .bind(limit as i64 + 1)
        .fetch_all(&mut *tx)
        .await
        .map_err(|e| store_error(e, "API keys"))?;
        commit(tx).await?;
        let keys = rows.into_iter().map(key).collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(keys, limit, |k: &ApiKey| k.id.as_uuid()))
    }

    async fn revoke_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<Option<ApiKey>> {
        let mut tx = self.begin().await?;
        let row: Option<ApiKeyRow> = sqlx::query_as(concat!(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE tenant_id = $1 AND id = $2 RETURNING ",
            columns!()
        ))
        .bind(self.uuid())
        .bind(id.as_uuid())
        .bind(at)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the API key"))?;
        commit(tx).await?;
        row.map(key).transpose()
    }

    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, $3), $3) \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(self.uuid())
        .bind(id.as_uuid())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(|e| store_error(e, "the API key"))?;
        commit(tx).await
    }
}

/// Inserts an API key of `tenant` in a transaction already bound to that tenant.
pub(crate) async fn insert_api_key<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    tenant: uuid::Uuid,
    stored: &StoredApiKey,
) -> StoreResult<()> {
    let key = &stored.key;
    sqlx::query(concat!(
        "INSERT INTO api_keys (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(tenant)
    .bind(key.id.as_uuid())
    .bind(key.owner_id.as_uuid())
    .bind(&key.name)
    .bind(&stored.lookup)
    .bind(stored.hash.as_slice())
    .bind(scope_names(key.scopes))
    .bind(key.expires_at)
    .bind(key.last_used_at)
    .bind(key.revoked_at)
    .bind(key.created_at)
    .execute(executor)
    .await
    .map_err(|e| store_error(e, "an API key with this lookup id"))?;
    Ok(())
}
