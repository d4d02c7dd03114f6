//! Schedules of one tenant, and the claims on them (the cross-tenant claim is `State::claim_due_schedules`).

use agentic_core::clock::Timestamp;
use agentic_core::ids::{ScheduleId, TenantId};
use agentic_core::model::Schedule;
use agentic_core::store::{Page, PageRequest, ScheduleAdvance, ScheduleClaim, ScheduleStore, StoreError, StoreResult};
use async_trait::async_trait;

use crate::state::{State, page};
use crate::tenant::MemoryTenant;

/// A schedule with its holder's lease, which only the store sees.
#[derive(Clone, Debug)]
pub(crate) struct StoredSchedule {
    pub(crate) schedule: Schedule,
    pub(crate) lease: Option<(String, Timestamp)>,
}

impl State {
    /// Replaces a schedule, keeping the wake index in step.
    pub(crate) fn put_schedule(&mut self, stored: StoredSchedule) {
        let key = (stored.schedule.tenant_id, stored.schedule.id);
        self.unindex_schedule(key.0, key.1);
        if let Some(wake) = stored.schedule.wake_at.filter(|_| !stored.schedule.paused) {
            self.schedule_wakes.insert((wake, key.0, key.1));
        }
        self.schedules.insert(key, stored);
    }

    fn unindex_schedule(&mut self, tenant: TenantId, id: ScheduleId) {
        if let Some(wake) = self.schedules.get(&(tenant, id)).and_then(|s| s.schedule.wake_at) {
            self.schedule_wakes.remove(&(wake, tenant, id));
        }
    }

    /// Claims `(tenant, id)` for `holder` until `until` if no other lease holds at `now`: bumps its version.
    fn claim_schedule(
        &mut self,
        tenant: TenantId,
        id: ScheduleId,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Option<ScheduleClaim> {
        let stored = self.schedules.get(&(tenant, id))?;
        if stored.lease.as_ref().is_some_and(|(_, lease_until)| *lease_until > now) {
            return Some(ScheduleClaim::Held);
        }
        let mut stored = stored.clone();
        stored.schedule.version += 1;
        stored.lease = Some((holder.to_owned(), until));
        let claimed = stored.schedule.clone();
        self.put_schedule(stored);
        Some(ScheduleClaim::Claimed(Box::new(claimed)))
    }

    /// The earliest time a schedule may be claimed (`SystemStore::next_schedule_wake`): its wake, or for a
    /// claimed one the later of its wake and its lease's end. Claimed schedules seen after the first unclaimed one
    /// wake no sooner than it, so the walk stops there.
    pub(crate) fn next_schedule_wake(&self) -> Option<Timestamp> {
        let mut soonest: Option<Timestamp> = None;
        for (wake, tenant, id) in &self.schedule_wakes {
            let lease = self.schedules.get(&(*tenant, *id)).and_then(|s| s.lease.as_ref());
            let at = lease.map_or(*wake, |(_, until)| (*wake).max(*until));
            soonest = Some(soonest.map_or(at, |s| s.min(at)));
            if lease.is_none() {
                break;
            }
        }
        soonest
    }

    /// The cross-tenant claim of due schedules (`SystemStore::claim_due_schedules`).
    pub(crate) fn claim_due_schedules(
        &mut self,
        holder: &str,
        now: Timestamp,
        lease: chrono::Duration,
        limit: u32,
    ) -> Vec<Schedule> {
        let due: Vec<_> = self
            .schedule_wakes
            .range(..=(now, TenantId::from_uuid(uuid::Uuid::max()), ScheduleId::from_uuid(uuid::Uuid::max())))
            .map(|(_, tenant, id)| (*tenant, *id))
            .collect();
        let mut claimed = Vec::new();
        for (tenant, id) in due {
            if claimed.len() >= limit as usize {
                break;
            }
            if let Some(ScheduleClaim::Claimed(schedule)) = self.claim_schedule(tenant, id, holder, now, now + lease) {
                let schedule = *schedule;
                claimed.push(schedule);
            }
        }
        claimed
    }
}

#[async_trait]
impl ScheduleStore for MemoryTenant {
    async fn insert_schedule(&self, schedule: &Schedule) -> StoreResult<()> {
        let mut state = self.state.write();
        if !state.projects.contains_key(&(self.tenant, schedule.project_id)) {
            return Err(StoreError::MissingReference { what: "the project".into() });
        }
        if state.schedules.contains_key(&(self.tenant, schedule.id)) {
            return Err(StoreError::conflict("a schedule with this id"));
        }
        let schedule = Schedule { tenant_id: self.tenant, ..schedule.clone() };
        state.put_schedule(StoredSchedule { schedule, lease: None });
        Ok(())
    }

    async fn get_schedule(&self, id: ScheduleId) -> StoreResult<Option<Schedule>> {
        Ok(self.state.read().schedules.get(&(self.tenant, id)).map(|s| s.schedule.clone()))
    }

    async fn list_schedules(&self, request: &PageRequest) -> StoreResult<Page<Schedule>> {
        let state = self.state.read();
        Ok(page(&state.schedules, self.tenant, *request, |_| true, |s| s.schedule.clone(), |s| s.id.as_uuid()))
    }

    async fn update_schedule(
        &self,
        schedule: &Schedule,
        events: &[agentic_core::events::Event],
        at: Timestamp,
    ) -> StoreResult<Option<Schedule>> {
        State::check_events(self.tenant, events)?;
        let mut state = self.state.write();
        let Some(stored) = state.schedules.get(&(self.tenant, schedule.id)) else { return Ok(None) };
        if stored.schedule.version != schedule.version {
            return Err(StoreError::conflict("a newer version of the schedule"));
        }
        if stored.schedule.project_id != schedule.project_id
            && !state.projects.contains_key(&(self.tenant, schedule.project_id))
        {
            return Err(StoreError::MissingReference { what: "the project".into() });
        }
        let after =
            Schedule { tenant_id: self.tenant, version: schedule.version + 1, updated_at: at, ..schedule.clone() };
        state.put_schedule(StoredSchedule { schedule: after.clone(), lease: None });
        state.store_events(self.tenant, events);
        Ok(Some(after))
    }

    async fn delete_schedule(&self, id: ScheduleId) -> StoreResult<bool> {
        let mut state = self.state.write();
        state.unindex_schedule(self.tenant, id);
        Ok(state.schedules.remove(&(self.tenant, id)).is_some())
    }

    async fn claim_schedule(
        &self,
        id: ScheduleId,
        holder: &str,
        now: Timestamp,
        lease: chrono::Duration,
    ) -> StoreResult<Option<ScheduleClaim>> {
        Ok(self.state.write().claim_schedule(self.tenant, id, holder, now, now + lease))
    }

    async fn advance_schedule(&self, advance: &ScheduleAdvance<'_>) -> StoreResult<bool> {
        State::check_events(self.tenant, advance.events)?;
        let mut state = self.state.write();
        let schedule = advance.schedule;
        let holds = state.schedules.get(&(self.tenant, schedule.id)).is_some_and(|stored| {
            stored.schedule.version == schedule.version
                && stored.lease.as_ref().is_some_and(|(holder, _)| holder == advance.holder)
        });
        if !holds {
            return Ok(false);
        }
        let after = Schedule { tenant_id: self.tenant, version: schedule.version + 1, ..schedule.clone() };
        state.put_schedule(StoredSchedule { schedule: after, lease: None });
        state.store_events(self.tenant, advance.events);
        Ok(true)
    }
}
