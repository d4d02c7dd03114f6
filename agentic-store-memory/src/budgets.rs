//! Budgets and costs. Each operation runs under the store's write lock, so reserve-check-insert is one atomic
//! step: concurrent reservations never together exceed a budget.

use std::collections::BTreeMap;

use agentic_core::clock::Timestamp;
use agentic_core::events::Event;
use agentic_core::ids::{ProjectId, ReservationId};
use agentic_core::model::{
    BudgetStatus, BudgetThreshold, CostFilter, CostGroupBy, CostRecord, CostTotals, Money, Reservation, ReserveOutcome,
    Settlement,
};
use agentic_core::store::{BudgetStore, StoreError, StoreResult};
use async_trait::async_trait;

use crate::state::State;
use crate::tenant::MemoryTenant;

impl MemoryTenant {
    /// Drops the project's expired reservations and returns its status.
    fn status(&self, state: &mut State, project: ProjectId, now: Timestamp) -> Option<BudgetStatus> {
        let budget = state.projects.get(&(self.tenant, project))?.budget;
        let held = state.reservations.entry((self.tenant, project)).or_default();
        let expired: Vec<ReservationId> = held.values().filter(|r| r.expires_at <= now).map(|r| r.id).collect();
        for id in &expired {
            held.remove(id);
        }
        // A sum of holds too large to represent counts as everything held: further reservations are refused.
        let reserved = held.values().try_fold(Money::ZERO, |sum, r| sum.try_add(r.amount)).unwrap_or(Money::MAX);
        for id in expired {
            state.reservation_projects.remove(&(self.tenant, id));
        }
        let spent = state.spending.get(&(self.tenant, project)).map_or(Money::ZERO, |s| s.spent);
        Some(BudgetStatus { budget, spent, reserved })
    }
}

#[async_trait]
impl BudgetStore for MemoryTenant {
    async fn reserve(&self, reservation: &Reservation, now: Timestamp) -> StoreResult<ReserveOutcome> {
        let mut state = self.state.write();
        let project = reservation.project_id;
        let status = self
            .status(&mut state, project, now)
            .ok_or_else(|| StoreError::MissingReference { what: "the project".into() })?;
        if !status.admits(reservation.amount) {
            return Ok(ReserveOutcome::Refused(status));
        }
        let reservation = Reservation { tenant_id: self.tenant, ..reservation.clone() };
        state.reservation_projects.insert((self.tenant, reservation.id), project);
        state.reservations.entry((self.tenant, project)).or_default().insert(reservation.id, reservation.clone());
        Ok(ReserveOutcome::Reserved(reservation))
    }

    async fn settle(
        &self,
        reservation: ReservationId,
        record: &CostRecord,
        also: &[Event],
        now: Timestamp,
    ) -> StoreResult<Settlement> {
        State::check_events(self.tenant, also)?;
        let mut state = self.state.write();
        let project = record.project_id;
        let budget = match state.projects.get(&(self.tenant, project)) {
            Some(p) => p.budget,
            None => return Err(StoreError::MissingReference { what: "the project".into() }),
        };
        let record = CostRecord { tenant_id: self.tenant, ..record.clone() };
        if state.cost_records.contains_key(&(self.tenant, record.id)) {
            return Err(StoreError::conflict("a cost record with this id"));
        }
        // Checked before anything changes, so an overflow leaves the store as it was.
        let spent_before = state.spending.get(&(self.tenant, project)).map_or(Money::ZERO, |s| s.spent);
        let spent_after = spent_before.try_add(record.cost).map_err(overflow)?;
        if let Some(held_in) = state.reservation_projects.remove(&(self.tenant, reservation))
            && let Some(held) = state.reservations.get_mut(&(self.tenant, held_in))
        {
            held.remove(&reservation);
        }
        state.cost_ages.insert((record.created_at, self.tenant, record.id));
        state.cost_records.insert((self.tenant, record.id), record.clone());
        let spending = state.spending.entry((self.tenant, project)).or_default();
        spending.spent = spent_after;
        let mut crossed = Vec::new();
        if let Some(budget) = budget {
            for line in BudgetThreshold::reached(budget, spending.spent) {
                if !spending.announced.contains(&line) {
                    spending.announced.push(line);
                    crossed.push(line);
                }
            }
        }
        let status = self.status(&mut state, project, now).unwrap_or(BudgetStatus {
            budget,
            spent: record.cost,
            reserved: Money::ZERO,
        });
        // The outbox: the call's events, then the lines', under the same lock as the settlement.
        state.store_events(self.tenant, also);
        let events: Vec<Event> =
            crossed.iter().map(|&line| Event::budget_line_crossed(self.tenant, project, line, &status, now)).collect();
        state.store_events(self.tenant, &events);
        Ok(Settlement { status, crossed, events })
    }

    async fn release(&self, reservation: ReservationId) -> StoreResult<()> {
        let mut state = self.state.write();
        if let Some(project) = state.reservation_projects.remove(&(self.tenant, reservation))
            && let Some(held) = state.reservations.get_mut(&(self.tenant, project))
        {
            held.remove(&reservation);
        }
        Ok(())
    }

    async fn budget_status(&self, project: ProjectId, now: Timestamp) -> StoreResult<Option<BudgetStatus>> {
        let mut state = self.state.write();
        Ok(self.status(&mut state, project, now))
    }

    async fn run_costs(&self, run: agentic_core::ids::RunId) -> StoreResult<Vec<CostRecord>> {
        let state = self.state.read();
        let mut records: Vec<CostRecord> = state
            .cost_records
            .range(crate::state::tenant_range(self.tenant))
            .map(|(_, r)| r)
            .filter(|r| r.run_id == Some(run))
            .cloned()
            .collect();
        records.sort_by_key(|r| (r.created_at, r.id));
        Ok(records)
    }

    async fn cost_summary(
        &self,
        filter: CostFilter,
        group_by: Option<CostGroupBy>,
    ) -> StoreResult<(CostTotals, Vec<CostTotals>)> {
        let state = self.state.read();
        let mut total = CostTotals::default();
        let mut groups: BTreeMap<String, CostTotals> = BTreeMap::new();
        let records = state
            .cost_records
            .range((self.tenant, agentic_core::ids::CostRecordId::from_uuid(uuid::Uuid::nil()))..)
            .take_while(|((tenant, _), _)| *tenant == self.tenant)
            .map(|(_, r)| r)
            .filter(|r| filter.project.is_none_or(|p| r.project_id == p))
            .filter(|r| filter.from.is_none_or(|from| r.created_at >= from))
            .filter(|r| filter.to.is_none_or(|to| r.created_at < to));
        let mut count = |key: Option<String>, totals: &CostTotals| -> StoreResult<()> {
            total.merge(totals).map_err(overflow)?;
            if let Some(key) = key {
                let group =
                    groups.entry(key.clone()).or_insert_with(|| CostTotals { key: Some(key), ..CostTotals::default() });
                group.merge(totals).map_err(overflow)?;
            }
            Ok(())
        };
        for record in records {
            count(group_by.map(|by| by.key_of(record)), &CostTotals::of(record))?;
        }
        // What retention folded away, a day at a time (a roll-up counts as of its day's start).
        let rollups = state
            .cost_rollups
            .range((self.tenant, first_rollup())..)
            .take_while(|((tenant, _), _)| *tenant == self.tenant)
            .filter(|((_, key), _)| filter.project.is_none_or(|p| key.project_id == p))
            .filter(|((_, key), _)| filter.from.is_none_or(|from| key.starts_at() >= from))
            .filter(|((_, key), _)| filter.to.is_none_or(|to| key.starts_at() < to));
        for ((_, key), totals) in rollups {
            count(group_by.map(|by| by.key_of_rollup(key)), totals)?;
        }
        Ok((total, groups.into_values().collect()))
    }
}

/// The least roll-up key: a tenant's roll-ups are the keys from it on, up to the next tenant's.
fn first_rollup() -> agentic_core::model::CostRollupKey {
    agentic_core::model::CostRollupKey {
        day: chrono::NaiveDate::MIN,
        project_id: ProjectId::from_uuid(uuid::Uuid::nil()),
        agent: None,
        operation: String::new(),
        provider: String::new(),
        model: String::new(),
    }
}

/// A cost that no longer fits, as the store's error.
pub(crate) fn overflow(error: agentic_core::model::MoneyOverflow) -> StoreError {
    StoreError::Backend(Box::new(error))
}
