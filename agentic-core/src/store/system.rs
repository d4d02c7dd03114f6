//! The narrow cross-tenant interface.

use async_trait::async_trait;

use super::StoreResult;
use crate::clock::Timestamp;
use crate::model::{Run, Slug, StoredApiKey, Tenant, User, UserRecord};

/// Operations that cannot be scoped to one tenant. Kept deliberately small: each method answers one question the
/// platform must ask before it knows the tenant, and exposes nothing else.
#[async_trait]
pub trait SystemStore: Send + Sync {
    /// Creates a tenant and its first admin together (both or neither).
    ///
    /// [`StoreError::Conflict`](super::StoreError::Conflict) if the slug is taken.
    async fn create_tenant(&self, tenant: &Tenant, admin: &UserRecord) -> StoreResult<()>;

    /// Creates the platform's first tenant, its admin and the admin's API key, all or nothing, if no tenant
    /// exists yet. `false` when one already does (another replica bootstrapped first, or a restart). Concurrent
    /// calls create at most one tenant.
    async fn bootstrap_tenant(&self, tenant: &Tenant, admin: &UserRecord, key: &StoredApiKey) -> StoreResult<bool>;

    /// Finds a tenant by slug (to sign in to it).
    async fn tenant_by_slug(&self, slug: &Slug) -> StoreResult<Option<Tenant>>;

    /// Whether any tenant exists (to bootstrap an empty platform).
    async fn has_tenants(&self) -> StoreResult<bool>;

    /// Claims up to `limit` runs for `worker` across tenants, oldest first: queued runs, and running runs whose
    /// lease has lapsed (their worker died). Each claimed run becomes `running`, leased to `worker` for `lease`,
    /// with `attempts` incremented (the new holder's fencing token). Leases are measured on the store's own
    /// clock where it has one (PostgreSQL), else on `now`. Concurrent claimers never get the same run.
    async fn claim_runs(
        &self,
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<Run>>;

    /// Expires up to `limit` pending approval requests across tenants whose expiry is at or before `now`, oldest
    /// expiry first: each becomes `expired`, its run `denied` and its `approval.expired` event
    /// ([`Event::approval_decided`](crate::events::Event::approval_decided)) is stored, together. Returns the
    /// decisions, with their events. A request being decided at the same moment is left to that decision.
    async fn expire_approvals(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<super::Decision>>;

    /// Deletes up to `limit` events, across tenants, whose id is below `cutoff` (stored before it: see
    /// [`EventId::floor_at`]); returns how many (fewer than `limit`: none are left).
    async fn delete_events_before(&self, cutoff: crate::ids::EventId, limit: u32) -> StoreResult<u64>;

    /// Deletes up to `limit` ended runs (completed, failed, denied, cancelled), across tenants, whose last change
    /// is before `cutoff`, oldest first, with their approval requests; an idempotency key one of them held is free
    /// again. Returns how many (fewer than `limit`: none are left). Their cost records and events have retentions
    /// of their own.
    async fn delete_runs_ended_before(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64>;

    /// Folds up to `limit` cost records, across tenants, made before `cutoff`, oldest first, into their day's
    /// roll-ups ([`CostRollupKey`](crate::model::CostRollupKey)) and deletes them, together: a tenant's cost
    /// summaries count each record once, before and after. Returns how many (fewer than `limit`: none are left).
    async fn roll_up_cost_records_before(&self, cutoff: Timestamp, limit: u32) -> StoreResult<u64>;

    /// Claims up to `limit` stored events that no relay has finished with, oldest first, for `lease` (an event
    /// whose relay died is claimed again once its lease lapses; a relay is at least once), with the enabled
    /// endpoints of their tenants. Concurrent relays never get the same event while its lease holds.
    async fn claim_relay(&self, now: Timestamp, lease: chrono::Duration, limit: u32) -> StoreResult<super::RelayBatch>;

    /// Stores `deliveries` (skipping one that exists, or whose endpoint is gone) and marks `events` relayed,
    /// together.
    async fn complete_relay(
        &self,
        events: &[(crate::ids::TenantId, crate::ids::EventId)],
        deliveries: &[super::NewDelivery],
    ) -> StoreResult<()>;

    /// Claims up to `limit` pending deliveries due at `now` (on the store's clock where it has one) whose
    /// endpoint is enabled, across tenants, soonest due first: each is leased to `worker` for `lease` (longer
    /// than an attempt may take, so no delivery is in flight twice) and its `attempts` incremented.
    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<super::ClaimedDelivery>>;

    /// How many deliveries are pending, across tenants (the `webhook_deliveries_pending` gauge).
    async fn count_pending_deliveries(&self) -> StoreResult<u64>;

    /// Claims up to `limit` schedules across tenants that are not paused, whose `wake_at` is at or before `now`
    /// and that no holder's lease holds, soonest first, for `holder` for `lease` (on the store's clock where it
    /// has one): each claim bumps the schedule's version (the claim's fencing token, see
    /// [`ScheduleStore::advance_schedule`](super::ScheduleStore::advance_schedule)). Concurrent claimers never get
    /// the same schedule while its lease holds.
    async fn claim_due_schedules(
        &self,
        holder: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<crate::model::Schedule>>;

    /// When a scheduler should look next, across tenants: the earliest `wake_at` of a schedule that is not paused,
    /// or for one a holder has claimed, the later of its `wake_at` and the claim's lease's end.
    async fn next_schedule_wake(&self) -> StoreResult<Option<Timestamp>>;

    /// The platform's usage across tenants, for the sampled gauges ([`UsageMetrics`](crate::metrics::UsageMetrics)):
    /// tenants and users active since `active_since` are those with a run created since then. Scans every
    /// tenant's rows: the upkeep loop calls it at its own, slow pace.
    async fn usage(&self, active_since: Timestamp) -> StoreResult<PlatformUsage>;

    /// Finds an API key by its lookup id, with the user it acts as.
    async fn api_key_by_lookup(&self, lookup: &str) -> StoreResult<Option<(StoredApiKey, User)>>;
}

/// The platform's usage across tenants, as [`SystemStore::usage`] reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlatformUsage {
    /// Runs of each kind in each status (a pair without runs may be left out).
    pub runs_by_status: Vec<(crate::model::RunKind, crate::model::RunStatus, u64)>,
    /// When the oldest queued run was created.
    pub oldest_queued_at: Option<Timestamp>,
    /// Tenants on the platform.
    pub tenants: u64,
    /// Tenants with a run created since `active_since`.
    pub active_tenants: u64,
    /// Distinct users who requested a run since `active_since`.
    pub active_users: u64,
    /// Every project that has a budget or has spent: its settled spending and its budget.
    pub projects: Vec<ProjectSpending>,
    /// Bytes each tenant's rows take in the store (its runs, events, cost records, context and webhook
    /// deliveries; an estimate where the store has no exact measure).
    pub storage_bytes: Vec<(crate::ids::TenantId, u64)>,
}

/// A project's settled spending and budget, as [`PlatformUsage`] reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectSpending {
    /// The project.
    pub project_id: crate::ids::ProjectId,
    /// Settled spending.
    pub spent: crate::model::Money,
    /// The budget; `None` is unlimited.
    pub budget: Option<crate::model::Money>,
}
