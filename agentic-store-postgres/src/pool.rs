//! Connecting, migrating, and checking the schema version.

use std::sync::Arc;
use std::time::Duration;

use agentic_core::ids::TenantId;
use agentic_core::store::{Store, SystemStore, TenantStore};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Executor, PgPool};

use crate::MIGRATOR;
use crate::error::PgStoreError;
use crate::tenant::PgTenant;

/// Pool and role settings.
#[derive(Clone, Debug)]
pub struct PgStoreOptions {
    /// Largest number of pooled connections (default 10).
    pub max_connections: u32,
    /// How long a query may wait for a connection before failing as unavailable (default 5 s).
    pub acquire_timeout: Duration,
    /// The role every connection switches to (default `agentic_app`); `None` keeps the login role (only for a
    /// login role that is itself restricted).
    pub runtime_role: Option<String>,
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout: Duration::from_secs(5), runtime_role: Some("agentic_app".into()) }
    }
}

/// The PostgreSQL store. Clones share the pool.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` with `options` and checks that the schema is exactly the one this build knows.
    pub async fn connect(url: &str, options: PgStoreOptions) -> Result<Self, PgStoreError> {
        let connect: PgConnectOptions = url.parse().map_err(PgStoreError::Connect)?;
        Self::connect_with(connect, options).await
    }

    /// Like [`connect`](Self::connect), from parsed connect options.
    pub async fn connect_with(connect: PgConnectOptions, options: PgStoreOptions) -> Result<Self, PgStoreError> {
        let mut pool =
            PgPoolOptions::new().max_connections(options.max_connections).acquire_timeout(options.acquire_timeout);
        if let Some(role) = options.runtime_role {
            if !is_identifier(&role) {
                return Err(PgStoreError::Config(format!("`{role}` is not a plain role name")));
            }
            // The name was checked to be a plain identifier above, so quoting it is enough.
            let statement: Arc<str> = format!("SET ROLE \"{role}\"").into();
            pool = pool.after_connect(move |conn, _| {
                let statement = AssertSqlSafe(Arc::clone(&statement));
                Box::pin(async move {
                    conn.execute(statement).await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(connect).await.map_err(PgStoreError::Connect)?;
        match schema_status(&pool).await? {
            SchemaStatus::UpToDate => Ok(Self { pool }),
            other => Err(PgStoreError::Schema(other.describe())),
        }
    }

    /// The pool (connections are already switched to the runtime role).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Store for PgStore {
    fn system(&self) -> &dyn SystemStore {
        self
    }

    fn tenant(&self, tenant: TenantId) -> Box<dyn TenantStore> {
        Box::new(PgTenant::new(self.pool.clone(), tenant))
    }

    fn context_store(&self) -> std::sync::Arc<dyn agentic_core::store::ContextStore> {
        std::sync::Arc::new(self.clone())
    }
}

/// How a database's schema compares with this build's migrations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaStatus {
    /// Every known migration is applied and nothing else.
    UpToDate,
    /// Some known migrations are not applied (run `agentic-server migrate`).
    Behind {
        /// Versions not yet applied.
        missing: Vec<i64>,
    },
    /// The database has migrations this build does not know: a newer server migrated it.
    Ahead {
        /// The unknown versions.
        unknown: Vec<i64>,
    },
}

impl SchemaStatus {
    fn describe(&self) -> String {
        match self {
            SchemaStatus::UpToDate => "the schema is up to date".into(),
            SchemaStatus::Behind { missing } => format!(
                "the database schema is behind this build (missing migrations {missing:?}): run `agentic-server migrate` \
                 or start with --migrate"
            ),
            SchemaStatus::Ahead { unknown } => format!(
                "the database schema is newer than this build (unknown migrations {unknown:?}): upgrade the server"
            ),
        }
    }
}

/// Compares the applied migrations of the database behind `pool` with the embedded ones.
pub async fn schema_status(pool: &PgPool) -> Result<SchemaStatus, PgStoreError> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await
        .map_err(PgStoreError::Database)?;
    let applied: Vec<i64> = if exists {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await
            .map_err(PgStoreError::Database)?
    } else {
        Vec::new()
    };
    let known: Vec<i64> = MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).map(|m| m.version).collect();
    let unknown: Vec<i64> = applied.iter().copied().filter(|v| !known.contains(v)).collect();
    if !unknown.is_empty() {
        return Ok(SchemaStatus::Ahead { unknown });
    }
    let missing: Vec<i64> = known.iter().copied().filter(|v| !applied.contains(v)).collect();
    if !missing.is_empty() {
        return Ok(SchemaStatus::Behind { missing });
    }
    Ok(SchemaStatus::UpToDate)
}

/// Applies the embedded migrations to the database at `url`, as the URL's role (which must be allowed to create
/// tables and roles). Refuses a database that is ahead of this build.
pub async fn migrate(url: &str) -> Result<(), PgStoreError> {
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await.map_err(PgStoreError::Connect)?;
    let result = migrate_pool(&pool).await;
    pool.close().await;
    result
}

pub(crate) async fn migrate_pool(pool: &PgPool) -> Result<(), PgStoreError> {
    if let SchemaStatus::Ahead { .. } = schema_status(pool).await? {
        return Err(PgStoreError::Schema(schema_status(pool).await?.describe()));
    }
    MIGRATOR.run(pool).await?;
    Ok(())
}
