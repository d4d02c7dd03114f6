//! # agentic-store-postgres
//!
//! Every `agentic-core` store trait on PostgreSQL (sqlx 0.9), with tenant isolation enforced twice: every query
//! filters by the handle's tenant, *and* every tenant-owned table has `FORCE ROW LEVEL SECURITY` with a policy on
//! `app.current_tenant`, which each tenant-scoped transaction sets first with
//! `SELECT set_config('app.current_tenant', $1, true)` (a bound parameter, transaction-local, so it cannot leak
//! to the next user of a pooled connection).
//!
//! Roles: migrations run as the role in the URL (it owns the tables); at run time every pooled connection does
//! `SET ROLE agentic_app` — a role without `BYPASSRLS` that owns nothing — so a query missing its tenant filter
//! still sees no other tenant's rows. The cross-tenant operations of `SystemStore` are `SECURITY DEFINER`
//! functions owned by the `NOLOGIN` role `agentic_system`, each answering one question. See `migrations/`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use agentic_core::Platform;
//! use agentic_store_postgres::{PgStore, PgStoreOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let url = "postgres://postgres@127.0.0.1:5432/agentic";
//! agentic_store_postgres::migrate(url).await?;
//! let store = PgStore::connect(url, PgStoreOptions::default()).await?;
//! let platform = Platform::builder().store(Arc::new(store)).build()?;
//! # let _ = platform; Ok(()) }
//! ```

mod agents;
mod api_keys;
mod approvals;
mod budgets;
mod context;
mod departments;
mod error;
mod events;
mod knowledge;
mod pool;
mod projects;
mod rows;
mod runs;
mod schedules;
mod system;
mod tenant;
#[cfg(feature = "testing")]
pub mod testing;
mod users;
mod webhooks;

pub use error::PgStoreError;
pub use pool::{PgStore, PgStoreOptions, SchemaStatus, migrate, schema_status};

/// The embedded migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
