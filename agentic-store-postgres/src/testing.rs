//! Throwaway databases for tests (feature `testing`).
//!
//! [`TestDatabase::create`] makes a fresh database on the server of `DATABASE_URL`, applies the migrations as the
//! URL's role, and connects a [`PgStore`] that runs as `agentic_app`, exactly as production does. The database is
//! dropped when the value is dropped. [`database_url`] decides whether tests run: it returns `None` (and the
//! test should skip with the printed reason) when `DATABASE_URL` is unset, unless `AGENTIC_REQUIRE_BACKENDS=1`,
//! in which case it panics.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, PgPool};

use crate::pool::migrate_pool;
use crate::{PgStore, PgStoreError, PgStoreOptions};

/// `DATABASE_URL`, or `None` with a printed reason; panics if it is unset while `AGENTIC_REQUIRE_BACKENDS=1`.
#[allow(clippy::panic)]
pub fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("AGENTIC_REQUIRE_BACKENDS").is_ok_and(|v| v == "1") => {
            panic!("DATABASE_URL is unset but AGENTIC_REQUIRE_BACKENDS=1")
        }
        _ => {
            eprintln!("skipping: DATABASE_URL is unset (PostgreSQL tests need a server)");
            None
        }
    }
}

/// A fresh, migrated database, dropped on drop.
pub struct TestDatabase {
    name: String,
    admin: PgConnectOptions,
    /// The store, connected as the runtime role.
    pub store: PgStore,
    /// A pool connected as the URL's (migration) role, for inspecting or tampering in tests.
    pub admin_pool: PgPool,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDatabase").field("name", &self.name).finish_non_exhaustive()
    }
}

impl TestDatabase {
    /// Creates, migrates and connects a database named `agentic_test_<uuid>` on the server of `url`.
    pub async fn create(url: &str, options: PgStoreOptions) -> Result<Self, PgStoreError> {
        let admin: PgConnectOptions = url.parse().map_err(PgStoreError::Connect)?;
        let name = format!("agentic_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = admin.connect().await.map_err(PgStoreError::Connect)?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .map_err(PgStoreError::Database)?;
        let options_for_db = admin.clone().database(&name);
        let set_up = async {
            let admin_pool = PgPoolOptions::new()
                .max_connections(2)
                .connect_with(options_for_db.clone())
                .await
                .map_err(PgStoreError::Connect)?;
            migrate_pool(&admin_pool).await?;
            let store = PgStore::connect_with(options_for_db, options).await?;
            Ok::<_, PgStoreError>((store, admin_pool))
        };
        match set_up.await {
            Ok((store, admin_pool)) => Ok(Self { name, admin, store, admin_pool }),
            Err(error) => {
                drop_database(&mut conn, &name).await;
                Err(error)
            }
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connect options for this database as the URL's role.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop cannot await; a short-lived runtime on its own thread does the clean-up. It must not touch the
        // pools: their connections belong to the caller's runtime, which is blocked here. `WITH (FORCE)` ends
        // those connections from the server side.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(mut conn) = admin.connect().await {
                    drop_database(&mut conn, &name).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn drop_database(conn: &mut sqlx::PgConnection, name: &str) {
    let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    if let Err(error) = sqlx::query(AssertSqlSafe(statement)).execute(conn).await {
        eprintln!("could not drop test database {name}: {error}");
    }
}
