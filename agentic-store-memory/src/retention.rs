//! Retention: ended runs deleted, old cost records folded into their day's roll-ups. Both sweeps read an index
//! ordered by age, so a sweep that finds nothing due costs one lookup, however many rows the store holds.

use agentic_core::clock::Timestamp;
use agentic_core::model::{CostRollupKey, CostTotals};
use agentic_core::store::StoreResult;

use crate::budgets::overflow;
use crate::state::State;

impl State {
    /// Deletes up to `limit` ended runs last changed before `cutoff`, oldest first, with their approval requests
    /// and the idempotency keys they hold.
    pub(crate) fn delete_runs_ended_before(&mut self, cutoff: Timestamp, limit: u32) -> u64 {
        let mut deleted = std::collections::BTreeSet::new();
        while deleted.len() < limit as usize {
            let Some(&(ended_at, tenant, id)) = self.ended_runs.first().filter(|(at, _, _)| *at < cutoff) else {
                break;
            };
            self.ended_runs.remove(&(ended_at, tenant, id));
            // An entry may be older than its run's last change (a run changed after it ended): the run goes only
            // when its own time is past the cutoff, and its newer entry stays for a later sweep.
            let due = self.runs.get(&(tenant, id)).is_some_and(|r| r.status.is_final() && r.updated_at < cutoff);
            if !due {
                continue;
            }
            if let Some(run) = self.runs.remove(&(tenant, id))
                && let Some(key) = run.idempotency_key
                && self.idempotency_keys.get(&(tenant, key.clone())) == Some(&id)
            {
                self.idempotency_keys.remove(&(tenant, key));
            }
            deleted.insert((tenant, id));
        }
        if !deleted.is_empty() {
            self.approvals.retain(|(tenant, _), approval| !deleted.contains(&(*tenant, approval.run_id)));
        }
        deleted.len() as u64
    }

    /// Folds up to `limit` cost records made before `cutoff`, oldest first, into their roll-ups and deletes them.
    /// Checked before anything changes, so a roll-up whose cost would overflow leaves the store as it was.
    pub(crate) fn roll_up_cost_records_before(&mut self, cutoff: Timestamp, limit: u32) -> StoreResult<u64> {
        let due: Vec<_> =
            self.cost_ages.iter().take_while(|(at, _, _)| *at < cutoff).take(limit as usize).copied().collect();
        let mut folded: std::collections::HashMap<_, CostTotals> = std::collections::HashMap::new();
        for (_, tenant, id) in &due {
            if let Some(record) = self.cost_records.get(&(*tenant, *id)) {
                folded.entry((*tenant, CostRollupKey::of(record))).or_default().add(record).map_err(overflow)?;
            }
        }
        let mut merged = Vec::with_capacity(folded.len());
        for (key, totals) in folded {
            let mut sum = self.cost_rollups.get(&key).cloned().unwrap_or_default();
            sum.merge(&totals).map_err(overflow)?;
            merged.push((key, sum));
        }
        self.cost_rollups.extend(merged);
        for entry in &due {
            self.cost_ages.remove(entry);
            self.cost_records.remove(&(entry.1, entry.2));
        }
        Ok(due.len() as u64)
    }
}
