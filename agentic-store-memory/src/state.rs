//! The store's tables. Tenant-owned maps are keyed by `(TenantId, id)`, so a tenant's rows form one contiguous
//! range: lookups and pages never touch another tenant's rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;

use agentic_core::ids::{
    ApiKeyId, CostRecordId, DeliveryId, DepartmentId, EventId, ProjectId, ReservationId, TenantId, UserId, WebhookId,
};
use agentic_core::model::{
    BudgetThreshold, CostRecord, Delivery, DeliveryAttempt, Department, Email, Money, Project, Reservation, Role, Slug,
    StoredApiKey, Tenant, UserRecord, WebhookEndpoint,
};
use agentic_core::store::{Page, PageRequest, StoreError, StoreResult};
use uuid::Uuid;

#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) tenants: BTreeMap<TenantId, Tenant>,
    pub(crate) slugs: HashMap<Slug, TenantId>,
    pub(crate) users: BTreeMap<(TenantId, UserId), UserRecord>,
    pub(crate) emails: HashMap<(TenantId, Email), UserId>,
    pub(crate) api_keys: BTreeMap<(TenantId, ApiKeyId), StoredApiKey>,
    pub(crate) lookups: HashMap<String, (TenantId, ApiKeyId)>,
    pub(crate) departments: BTreeMap<(TenantId, DepartmentId), Department>,
    pub(crate) department_names: HashMap<(TenantId, String), DepartmentId>,
    pub(crate) projects: BTreeMap<(TenantId, ProjectId), Project>,
    pub(crate) spending: HashMap<(TenantId, ProjectId), Spending>,
    pub(crate) reservations: HashMap<(TenantId, ProjectId), BTreeMap<ReservationId, Reservation>>,
    pub(crate) reservation_projects: HashMap<(TenantId, ReservationId), ProjectId>,
    pub(crate) cost_records: BTreeMap<(TenantId, CostRecordId), CostRecord>,
    /// Every cost record by when it was made, for the retention sweep.
    pub(crate) cost_ages: BTreeSet<(agentic_core::clock::Timestamp, TenantId, CostRecordId)>,
    /// The totals of cost records past their retention, by tenant and roll-up.
    pub(crate) cost_rollups: BTreeMap<(TenantId, agentic_core::model::CostRollupKey), agentic_core::model::CostTotals>,
    pub(crate) agents: BTreeMap<(TenantId, String), agentic_core::store::StoredAgent>,
    pub(crate) runs: BTreeMap<(TenantId, agentic_core::ids::RunId), agentic_core::model::Run>,
    /// Runs a worker may claim (queued, or running under a lease), oldest first, so claiming does not scan every
    /// run ever made. Kept in step by [`State::reindex_run`].
    pub(crate) active_runs: BTreeSet<(agentic_core::ids::RunId, TenantId)>,
    /// Ended runs by when they ended, for the retention sweep (an entry may outlive a later change of its run:
    /// the sweep checks the run itself).
    pub(crate) ended_runs: BTreeSet<(agentic_core::clock::Timestamp, TenantId, agentic_core::ids::RunId)>,
    pub(crate) approvals: BTreeMap<(TenantId, agentic_core::ids::ApprovalId), agentic_core::model::Approval>,
    /// Pending approval requests by expiry, so the expiry sweep reads only what is due.
    pub(crate) pending_approvals: BTreeSet<(agentic_core::clock::Timestamp, TenantId, agentic_core::ids::ApprovalId)>,
    pub(crate) events: BTreeMap<(TenantId, agentic_core::ids::EventId), agentic_core::events::Event>,
    /// Events no relay has finished with, oldest first, each with the lease of the relay working on it.
    pub(crate) unrelayed: BTreeMap<(agentic_core::ids::EventId, TenantId), Option<agentic_core::clock::Timestamp>>,
    pub(crate) endpoints: BTreeMap<(TenantId, WebhookId), WebhookEndpoint>,
    pub(crate) deliveries: BTreeMap<(TenantId, DeliveryId), StoredDelivery>,
    /// The delivery of each (endpoint, event): there is at most one.
    pub(crate) delivery_keys: HashMap<(TenantId, WebhookId, EventId), DeliveryId>,
    /// Deliveries a dispatcher may claim, by when: pending ones at `next_attempt_at`, claimed ones when their
    /// lease lapses.
    pub(crate) due_deliveries: BTreeSet<(agentic_core::clock::Timestamp, TenantId, DeliveryId)>,
    pub(crate) attempts: BTreeMap<(TenantId, DeliveryId, u32), DeliveryAttempt>,
    pub(crate) schedules: BTreeMap<(TenantId, agentic_core::ids::ScheduleId), crate::schedules::StoredSchedule>,
    /// Schedules that are not paused, by when a scheduler should look at them (claimed ones stay: their lease
    /// may lapse).
    pub(crate) schedule_wakes: BTreeSet<(agentic_core::clock::Timestamp, TenantId, agentic_core::ids::ScheduleId)>,
    /// The run holding each idempotency key.
    pub(crate) idempotency_keys: HashMap<(TenantId, String), agentic_core::ids::RunId>,
}

/// A delivery with what only the store and its dispatcher see.
#[derive(Clone, Debug)]
pub(crate) struct StoredDelivery {
    pub(crate) delivery: Delivery,
    pub(crate) round_attempts: u32,
    pub(crate) lease: Option<(String, agentic_core::clock::Timestamp)>,
}

impl StoredDelivery {
    /// When a dispatcher may next claim it (`None`: never again, it is over).
    pub(crate) fn claimable_at(&self) -> Option<agentic_core::clock::Timestamp> {
        match (&self.lease, self.delivery.next_attempt_at) {
            _ if self.delivery.status != agentic_core::model::DeliveryStatus::Pending => None,
            (Some((_, until)), Some(next)) => Some((*until).max(next)),
            (Some((_, until)), None) => Some(*until),
            (None, next) => next,
        }
    }
}

impl State {
    /// Refuses events of another tenant than `tenant`, before anything changes (an outbox write goes with its
    /// change or not at all).
    pub(crate) fn check_events(tenant: TenantId, events: &[agentic_core::events::Event]) -> StoreResult<()> {
        if events.iter().any(|e| e.tenant_id != tenant) {
            return Err(StoreError::conflict("an event of another tenant"));
        }
        Ok(())
    }

    /// Stores events of `tenant` (checked by [`State::check_events`]), to be relayed.
    pub(crate) fn store_events(&mut self, tenant: TenantId, events: &[agentic_core::events::Event]) {
        for event in events {
            self.events.insert((tenant, event.id), event.clone());
            self.unrelayed.insert((event.id, tenant), None);
        }
    }

    /// Replaces a delivery, keeping the claimable index in step.
    pub(crate) fn put_delivery(&mut self, stored: StoredDelivery) {
        let key = (stored.delivery.tenant_id, stored.delivery.id);
        if let Some(old) = self.deliveries.get(&key).and_then(StoredDelivery::claimable_at) {
            self.due_deliveries.remove(&(old, key.0, key.1));
        }
        if let Some(at) = stored.claimable_at() {
            self.due_deliveries.insert((at, key.0, key.1));
        }
        self.delivery_keys.insert((key.0, stored.delivery.endpoint_id, stored.delivery.event_id), key.1);
        self.deliveries.insert(key, stored);
    }

    /// Removes a delivery with its attempts.
    pub(crate) fn remove_delivery(&mut self, tenant: TenantId, id: DeliveryId) {
        if let Some(stored) = self.deliveries.remove(&(tenant, id)) {
            if let Some(at) = stored.claimable_at() {
                self.due_deliveries.remove(&(at, tenant, id));
            }
            self.delivery_keys.remove(&(tenant, stored.delivery.endpoint_id, stored.delivery.event_id));
            let attempts: Vec<_> =
                self.attempts.range((tenant, id, 0)..=(tenant, id, u32::MAX)).map(|(k, _)| *k).collect();
            for key in attempts {
                self.attempts.remove(&key);
            }
        }
    }

    /// The run `worker` holds: running and leased by it.
    pub(crate) fn held_run(
        &mut self,
        tenant: TenantId,
        lease: &agentic_core::model::RunLease<'_>,
    ) -> Option<&mut agentic_core::model::Run> {
        self.runs.get_mut(&(tenant, lease.run)).filter(|run| {
            run.status == agentic_core::model::RunStatus::Running
                && run.lease_owner.as_deref() == Some(lease.worker)
                && run.attempts == lease.attempt
        })
    }

    /// Moves a run waiting for approval on after its request was decided: queued when approved, else `denied`
    /// with the reason (`approval denied`, `approval expired`).
    pub(crate) fn resolve_gated_run(
        &mut self,
        tenant: TenantId,
        id: agentic_core::ids::RunId,
        decision: agentic_core::model::ApprovalStatus,
        at: agentic_core::clock::Timestamp,
    ) {
        use agentic_core::model::RunStatus;
        let Some(run) = self.runs.get_mut(&(tenant, id)).filter(|r| r.status == RunStatus::AwaitingApproval) else {
            return;
        };
        let (status, error) = decision.run_outcome();
        run.status = status;
        if error.is_some() {
            run.error = error;
        }
        run.updated_at = at;
        self.reindex_run(tenant, id);
    }

    /// Refuses a new run whose idempotency key another run of the tenant, created within the window before it,
    /// still holds (checked before anything changes).
    pub(crate) fn check_idempotency_key(&self, tenant: TenantId, run: &agentic_core::model::Run) -> StoreResult<()> {
        let Some(key) = &run.idempotency_key else { return Ok(()) };
        let holder = self.idempotency_keys.get(&(tenant, key.clone())).and_then(|id| self.runs.get(&(tenant, *id)));
        match holder {
            Some(held) if held.created_at >= run.created_at - agentic_core::model::IDEMPOTENCY_WINDOW => {
                Err(StoreError::conflict("a run with this idempotency key"))
            }
            _ => Ok(()),
        }
    }

    /// Gives a new run its idempotency key (after [`check_idempotency_key`](Self::check_idempotency_key)); an
    /// older holder loses it.
    pub(crate) fn take_idempotency_key(&mut self, tenant: TenantId, run: &agentic_core::model::Run) {
        let Some(key) = &run.idempotency_key else { return };
        if let Some(old) = self.idempotency_keys.insert((tenant, key.clone()), run.id)
            && let Some(holder) = self.runs.get_mut(&(tenant, old))
        {
            holder.idempotency_key = None;
        }
    }

    /// Puts a run into, or takes it out of, the claimable index after its status changed, and into the ended
    /// index once it is over.
    pub(crate) fn reindex_run(&mut self, tenant: TenantId, id: agentic_core::ids::RunId) {
        use agentic_core::model::RunStatus;
        let Some(run) = self.runs.get(&(tenant, id)) else { return };
        if matches!(run.status, RunStatus::Queued | RunStatus::Running) {
            self.active_runs.insert((id, tenant));
        } else {
            self.active_runs.remove(&(id, tenant));
        }
        if run.status.is_final() {
            self.ended_runs.insert((run.updated_at, tenant, id));
        }
    }
}

/// A project's settled spending and the budget lines already announced.
#[derive(Debug, Default)]
pub(crate) struct Spending {
    pub(crate) spent: Money,
    pub(crate) announced: Vec<BudgetThreshold>,
}

/// Ids that can bound a tenant's key range.
pub(crate) trait RangeId: Copy + Ord {
    fn from_uuid(uuid: Uuid) -> Self;
    const MIN: Self;
    const MAX: Self;
}

macro_rules! range_id {
    ($($id:ty),*) => {$(
        impl RangeId for $id {
            fn from_uuid(uuid: Uuid) -> Self {
                <$id>::from_uuid(uuid)
            }
            const MIN: Self = <$id>::from_uuid(Uuid::nil());
            const MAX: Self = <$id>::from_uuid(Uuid::max());
        }
    )*};
}
range_id!(
    UserId,
    ApiKeyId,
    DepartmentId,
    ProjectId,
    CostRecordId,
    WebhookId,
    DeliveryId,
    agentic_core::ids::ApprovalId,
    agentic_core::ids::ScheduleId
);

/// Every key of `tenant` in a map keyed by `(TenantId, I)`.
pub(crate) fn tenant_range<I: RangeId>(tenant: TenantId) -> std::ops::RangeInclusive<(TenantId, I)> {
    (tenant, I::MIN)..=(tenant, I::MAX)
}

/// One page of `tenant`'s rows of `map`, mapped by `view`, optionally filtered.
pub(crate) fn page<I: RangeId, V, T>(
    map: &BTreeMap<(TenantId, I), V>,
    tenant: TenantId,
    request: PageRequest,
    keep: impl Fn(&V) -> bool,
    view: impl Fn(&V) -> T,
    id_of: impl Fn(&T) -> Uuid,
) -> Page<T> {
    let start = match request.after {
        Some(after) => Bound::Excluded((tenant, I::from_uuid(after))),
        None => Bound::Included((tenant, I::MIN)),
    };
    let limit = request.effective_limit();
    let items: Vec<T> = map
        .range((start, Bound::Included((tenant, I::MAX))))
        .map(|(_, v)| v)
        .filter(|v| keep(v))
        .take(limit + 1)
        .map(view)
        .collect();
    Page::from_overfetch(items, limit, id_of)
}

/// Roles sorted and de-duplicated, as the store contract returns them.
pub(crate) fn canonical_roles(roles: &[Role]) -> Vec<Role> {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    roles
}
