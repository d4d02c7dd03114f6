//! The cross-tenant operations.

use std::collections::BTreeMap;
use std::ops::Bound;

use agentic_core::model::{Slug, StoredApiKey, Tenant, User, UserRecord};
use agentic_core::store::{PlatformUsage, ProjectSpending, StoreError, StoreResult, SystemStore};
use async_trait::async_trait;
use parking_lot::RwLock;

use crate::MemoryStore;
use crate::state::{State, canonical_roles};

#[async_trait]
impl SystemStore for MemoryStore {
    async fn create_tenant(&self, tenant: &Tenant, admin: &UserRecord) -> StoreResult<()> {
        insert_tenant(&mut self.state.write(), tenant, admin)
    }

    async fn bootstrap_tenant(&self, tenant: &Tenant, admin: &UserRecord, key: &StoredApiKey) -> StoreResult<bool> {
        let mut state = self.state.write();
        if !state.tenants.is_empty() {
            return Ok(false);
        }
        // Checked before anything is written, so a refusal leaves nothing behind (as the PostgreSQL transaction).
        if key.key.owner_id != admin.user.id {
            return Err(StoreError::MissingReference { what: "the key's owner".into() });
        }
        if state.lookups.contains_key(&key.lookup) {
            return Err(StoreError::conflict("an API key with this lookup id"));
        }
        insert_tenant(&mut state, tenant, admin)?;
        state.lookups.insert(key.lookup.clone(), (tenant.id, key.key.id));
        let mut stored = key.clone();
        stored.key.tenant_id = tenant.id;
        state.api_keys.insert((tenant.id, key.key.id), stored);
        Ok(true)
    }

    async fn tenant_by_slug(&self, slug: &Slug) -> StoreResult<Option<Tenant>> {
        let state = self.state.read();
        Ok(state.slugs.get(slug).and_then(|id| state.tenants.get(id)).cloned())
    }

    async fn has_tenants(&self) -> StoreResult<bool> {
        Ok(!self.state.read().tenants.is_empty())
    }

    async fn claim_runs(
        &self,
        worker: &str,
        now: agentic_core::clock::Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<agentic_core::model::Run>> {
        let lease_until = now + lease;
        use agentic_core::model::RunStatus;
        let mut state = self.state.write();
        let state = &mut *state;
        let claimable: Vec<_> = state
            .active_runs
            .iter()
            .filter(|(id, tenant)| {
                state.runs.get(&(*tenant, *id)).is_some_and(|r| {
                    r.status == RunStatus::Queued
                        || (r.status == RunStatus::Running && r.lease_expires_at.is_some_and(|until| until < now))
                })
            })
            .take(limit as usize)
            .map(|(id, tenant)| (*tenant, *id))
            .collect();
        let mut claimed = Vec::new();
        for key in claimable {
            if let Some(run) = state.runs.get_mut(&key) {
                run.status = RunStatus::Running;
                run.lease_owner = Some(worker.to_owned());
                run.lease_expires_at = Some(lease_until);
                run.attempts += 1;
                run.updated_at = now;
                claimed.push(run.clone());
            }
        }
        Ok(claimed)
    }

    async fn delete_events_before(&self, cutoff: agentic_core::ids::EventId, limit: u32) -> StoreResult<u64> {
        let mut state = self.state.write();
        let floor = agentic_core::ids::EventId::from_uuid(uuid::Uuid::nil());
        let tenants: Vec<_> = state.tenants.keys().copied().collect();
        // Each tenant's events are one id-ordered range: take its old end, tenant by tenant, up to the limit.
        let mut due = Vec::new();
        for tenant in tenants {
            let room = (limit as usize).saturating_sub(due.len());
            due.extend(state.events.range((tenant, floor)..(tenant, cutoff)).map(|(key, _)| *key).take(room));
        }
        for key in &due {
            state.events.remove(key);
            state.unrelayed.remove(&(key.1, key.0));
        }
        if !due.is_empty() {
            // Deliveries go with their events, as PostgreSQL's foreign key cascades.
            let gone: std::collections::HashSet<_> = due.iter().copied().collect();
            let orphans: Vec<_> = state
                .deliveries
                .iter()
                .filter(|(_, d)| gone.contains(&(d.delivery.tenant_id, d.delivery.event_id)))
                .map(|(key, _)| *key)
                .collect();
            for (tenant, id) in orphans {
                state.remove_delivery(tenant, id);
            }
        }
        Ok(due.len() as u64)
    }

    async fn delete_runs_ended_before(&self, cutoff: agentic_core::clock::Timestamp, limit: u32) -> StoreResult<u64> {
        // Most sweeps find nothing due: answer those under the shared lock.
        if self.state.read().ended_runs.first().is_none_or(|(at, _, _)| *at >= cutoff) {
            return Ok(0);
        }
        Ok(self.state.write().delete_runs_ended_before(cutoff, limit))
    }

    async fn roll_up_cost_records_before(
        &self,
        cutoff: agentic_core::clock::Timestamp,
        limit: u32,
    ) -> StoreResult<u64> {
        if self.state.read().cost_ages.first().is_none_or(|(at, _, _)| *at >= cutoff) {
            return Ok(0);
        }
        self.state.write().roll_up_cost_records_before(cutoff, limit)
    }

    async fn expire_approvals(
        &self,
        now: agentic_core::clock::Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<agentic_core::store::Decision>> {
        use agentic_core::model::ApprovalStatus;
        // Most sweeps find nothing due: answer those under the shared lock.
        if self.state.read().pending_approvals.first().is_none_or(|(expires_at, _, _)| *expires_at > now) {
            return Ok(Vec::new());
        }
        let mut state = self.state.write();
        let due: Vec<_> = state
            .pending_approvals
            .iter()
            .take_while(|(expires_at, _, _)| *expires_at <= now)
            .take(limit as usize)
            .copied()
            .collect();
        let mut expired = Vec::new();
        for entry @ (_, tenant, id) in due {
            state.pending_approvals.remove(&entry);
            let key = (tenant, id);
            let Some(approval) = state.approvals.get_mut(&key).filter(|a| a.status == ApprovalStatus::Pending) else {
                continue;
            };
            approval.status = ApprovalStatus::Expired;
            approval.decided_at = Some(now);
            let approval = approval.clone();
            state.resolve_gated_run(tenant, approval.run_id, ApprovalStatus::Expired, now);
            // The outbox: the event under the same lock as the change.
            let event = agentic_core::events::Event::approval_decided(&approval);
            state.store_events(tenant, std::slice::from_ref(&event));
            expired.push(agentic_core::store::Decision { approval, changed: true, event: Some(event) });
        }
        Ok(expired)
    }

    async fn claim_relay(
        &self,
        now: agentic_core::clock::Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<agentic_core::store::RelayBatch> {
        Ok(crate::webhooks::claim_relay(&mut self.state.write(), now, lease, limit))
    }

    async fn complete_relay(
        &self,
        events: &[(agentic_core::ids::TenantId, agentic_core::ids::EventId)],
        deliveries: &[agentic_core::store::NewDelivery],
    ) -> StoreResult<()> {
        crate::webhooks::complete_relay(&mut self.state.write(), events, deliveries);
        Ok(())
    }

    async fn claim_deliveries(
        &self,
        worker: &str,
        now: agentic_core::clock::Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<agentic_core::store::ClaimedDelivery>> {
        Ok(crate::webhooks::claim_deliveries(&mut self.state.write(), worker, now, lease, limit))
    }

    async fn count_pending_deliveries(&self) -> StoreResult<u64> {
        Ok(crate::webhooks::count_pending(&self.state.read()))
    }

    async fn claim_due_schedules(
        &self,
        holder: &str,
        now: agentic_core::clock::Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<agentic_core::model::Schedule>> {
        Ok(self.state.write().claim_due_schedules(holder, now, lease, limit))
    }

    async fn next_schedule_wake(&self) -> StoreResult<Option<agentic_core::clock::Timestamp>> {
        Ok(self.state.read().next_schedule_wake())
    }

    async fn usage(&self, active_since: agentic_core::clock::Timestamp) -> StoreResult<PlatformUsage> {
        Ok(usage(&self.state, active_since))
    }

    async fn api_key_by_lookup(&self, lookup: &str) -> StoreResult<Option<(StoredApiKey, User)>> {
        let state = self.state.read();
        let Some(&(tenant, id)) = state.lookups.get(lookup) else {
            return Ok(None);
        };
        let Some(key) = state.api_keys.get(&(tenant, id)) else {
            return Ok(None);
        };
        let owner = state.users.get(&(tenant, key.key.owner_id)).map(|r| r.user.clone());
        Ok(owner.map(|owner| (key.clone(), owner)))
    }
}

/// Inserts a tenant and its admin if the slug and the id are free.
fn insert_tenant(state: &mut State, tenant: &Tenant, admin: &UserRecord) -> StoreResult<()> {
    if state.slugs.contains_key(&tenant.slug) {
        return Err(StoreError::conflict(format!("a tenant with slug `{}`", tenant.slug)));
    }
    if state.tenants.contains_key(&tenant.id) {
        return Err(StoreError::conflict("a tenant with this id"));
    }
    state.slugs.insert(tenant.slug.clone(), tenant.id);
    state.tenants.insert(tenant.id, tenant.clone());
    let user = &admin.user;
    state.emails.insert((tenant.id, user.email.clone()), user.id);
    state.users.insert(
        (tenant.id, user.id),
        UserRecord {
            user: agentic_core::model::User {
                tenant_id: tenant.id,
                roles: canonical_roles(&user.roles),
                ..user.clone()
            },
            password_hash: admin.password_hash.clone(),
        },
    );
    Ok(())
}

/// Rows read per hold of the state's lock while sampling usage: the sample walks every table, and one hold over
/// a large store would stall every request behind it (a pending writer blocks new readers) for as long as the
/// walk takes.
const USAGE_CHUNK: usize = 1024;

/// Calls `visit` on every row of the table `table` selects, reading at most [`USAGE_CHUNK`] rows per hold of the
/// lock. Rows written between holds may be seen or not, as with any sample.
fn walk_in_chunks<T, K: Ord + Clone, V>(
    lock: &RwLock<T>,
    table: impl Fn(&T) -> &BTreeMap<K, V>,
    mut visit: impl FnMut(&K, &V),
) {
    let mut after: Option<K> = None;
    loop {
        let state = lock.read();
        let rows = match &after {
            Some(last) => table(&state).range((Bound::Excluded(last), Bound::Unbounded)),
            None => table(&state).range::<K, _>(..),
        };
        let mut seen = 0;
        for (key, value) in rows.take(USAGE_CHUNK) {
            visit(key, value);
            after = Some(key.clone());
            seen += 1;
        }
        if seen < USAGE_CHUNK {
            return;
        }
    }
}

/// [`SystemStore::usage`]; storage is estimated as the length of each row's JSON form.
fn usage(lock: &RwLock<State>, active_since: agentic_core::clock::Timestamp) -> PlatformUsage {
    use std::collections::BTreeSet;
    let mut runs_by_status = BTreeMap::<_, (_, _, u64)>::new();
    let mut oldest_queued_at = None::<agentic_core::clock::Timestamp>;
    let (mut active_tenants, mut active_users) = (BTreeSet::new(), BTreeSet::new());
    let mut storage = BTreeMap::<agentic_core::ids::TenantId, u64>::new();
    walk_in_chunks(
        lock,
        |state| &state.runs,
        |&(tenant, _), run| {
            runs_by_status.entry((run.kind.as_str(), run.status.as_str())).or_insert((run.kind, run.status, 0)).2 += 1;
            if run.status == agentic_core::model::RunStatus::Queued {
                // A queued run's `updated_at` is when it was queued (created, approved, or given back).
                oldest_queued_at = Some(oldest_queued_at.map_or(run.updated_at, |at| at.min(run.updated_at)));
            }
            if run.created_at >= active_since {
                active_tenants.insert(tenant);
                active_users.insert((tenant, run.requested_by));
            }
            *storage.entry(tenant).or_default() += json_len(run);
        },
    );
    walk_in_chunks(
        lock,
        |state| &state.events,
        |&(tenant, _), event| {
            *storage.entry(tenant).or_default() += json_len(event);
        },
    );
    walk_in_chunks(
        lock,
        |state| &state.cost_records,
        |&(tenant, _), record| {
            *storage.entry(tenant).or_default() += json_len(record);
        },
    );
    walk_in_chunks(
        lock,
        |state| &state.deliveries,
        |&(tenant, _), stored| {
            *storage.entry(tenant).or_default() += json_len(&stored.delivery);
        },
    );
    let state = lock.read();
    let projects = state
        .projects
        .iter()
        .filter_map(|(&(tenant, id), project)| {
            let spent = state.spending.get(&(tenant, id)).map_or(agentic_core::model::Money::ZERO, |s| s.spent);
            let spending = ProjectSpending { project_id: id, spent, budget: project.budget };
            (project.budget.is_some() || spent.nanos() > 0).then_some(spending)
        })
        .collect();
    PlatformUsage {
        projects,
        runs_by_status: runs_by_status.into_values().collect(),
        oldest_queued_at,
        tenants: state.tenants.len() as u64,
        active_tenants: active_tenants.len() as u64,
        active_users: active_users.len() as u64,
        storage_bytes: storage.into_iter().collect(),
    }
}

/// A row's size, estimated as the length of its JSON form.
fn json_len<T: serde::Serialize>(row: &T) -> u64 {
    serde_json::to_vec(row).map_or(0, |bytes| bytes.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_in_chunks_visits_every_row_once_in_order() {
        for rows in [0, 1, USAGE_CHUNK - 1, USAGE_CHUNK, 2 * USAGE_CHUNK + 7] {
            let keys: Vec<u32> = (0..rows as u32).map(|i| i * 2).collect();
            let lock = RwLock::new(keys.iter().map(|&key| (key, ())).collect::<BTreeMap<_, _>>());
            let mut seen = Vec::new();
            walk_in_chunks(&lock, |table| table, |&key, ()| seen.push(key));
            assert_eq!(seen, keys, "{rows} rows");
        }
    }
}
