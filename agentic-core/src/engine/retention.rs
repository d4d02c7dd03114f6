//! Retention: how long the platform keeps what it stores, and the sweeps the upkeep loop runs to hold to it.

use std::future::Future;

use crate::error::Result;
use crate::ids::EventId;
use crate::platform::Platform;

/// How long the platform keeps what grows with use before the upkeep loop deletes it
/// ([`PlatformBuilder::retention`](crate::PlatformBuilder::retention)). What it deletes, it deletes across
/// tenants, oldest first, in batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Stored events, with their webhook deliveries and attempts, counted from when they were stored (default
    /// 30 days).
    pub events: chrono::Duration,
    /// Ended runs (completed, failed, denied, cancelled), with their approval requests, counted from when they
    /// ended (default 30 days). Runs still queued, waiting or running are never deleted. A run's idempotency key
    /// is free once the run is deleted, so a retention under a day shortens the key's window to it.
    pub runs: chrono::Duration,
    /// Cost records, counted from when they were made (default 30 days). Past it a record is folded into its
    /// day's roll-up (per project, agent, operation, provider and model), which is kept: cost summaries keep
    /// every call's tokens and cost, only a day at a time; budgets are unaffected.
    pub cost_records: chrono::Duration,
}

impl Default for Retention {
    fn default() -> Self {
        let month = chrono::Duration::days(30);
        Retention { events: month, runs: month, cost_records: month }
    }
}

/// What a retention sweep ([`Platform::apply_retention`]) deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionSweep {
    /// Events deleted.
    pub events: u64,
    /// Ended runs deleted.
    pub runs: u64,
    /// Cost records folded into their roll-ups.
    pub cost_records: u64,
}

/// Rows a sweep's statement handles at once: a long backlog is cleared in steps that each hold their locks
/// briefly.
const BATCH: u32 = 1_000;

impl Platform {
    /// Deletes what is past its [`Retention`]: events, ended runs and cost records (folded into roll-ups). The
    /// upkeep loop calls it; safe on every replica at once. Each kind is swept even when another fails; the
    /// first failure is returned.
    pub async fn apply_retention(&self) -> Result<RetentionSweep> {
        let (events, runs, cost_records) =
            (self.delete_expired_events().await, self.delete_expired_runs().await, self.roll_up_expired_costs().await);
        // What was deleted is counted even when another kind's sweep failed.
        let done = |swept: &Result<u64>| swept.as_ref().map_or(0, |n| *n);
        let partial = RetentionSweep { events: done(&events), runs: done(&runs), cost_records: done(&cost_records) };
        self.inner.metrics.usage.swept(&partial);
        if partial != RetentionSweep::default() {
            tracing::debug!(sweep = ?partial, "deleted what is past its retention");
        }
        Ok(RetentionSweep { events: events?, runs: runs?, cost_records: cost_records? })
    }

    /// Deletes the events stored longer ago than [`Retention::events`]; returns how many.
    pub async fn delete_expired_events(&self) -> Result<u64> {
        let cutoff = EventId::floor_at(self.inner.clock.now() - self.inner.retention.events);
        in_batches(|limit| self.inner.store.system().delete_events_before(cutoff, limit)).await
    }

    /// Deletes the runs that ended longer ago than [`Retention::runs`]; returns how many.
    pub async fn delete_expired_runs(&self) -> Result<u64> {
        let cutoff = self.inner.clock.now() - self.inner.retention.runs;
        in_batches(|limit| self.inner.store.system().delete_runs_ended_before(cutoff, limit)).await
    }

    /// Folds the cost records made longer ago than [`Retention::cost_records`] into their roll-ups; returns how
    /// many.
    pub async fn roll_up_expired_costs(&self) -> Result<u64> {
        let cutoff = self.inner.clock.now() - self.inner.retention.cost_records;
        in_batches(|limit| self.inner.store.system().roll_up_cost_records_before(cutoff, limit)).await
    }
}

/// Runs `sweep` a batch at a time until a batch comes back short; returns the total.
async fn in_batches<F, Fut>(sweep: F) -> Result<u64>
where
    F: Fn(u32) -> Fut,
    Fut: Future<Output = crate::store::StoreResult<u64>>,
{
    let mut total = 0;
    loop {
        let done = sweep(BATCH).await?;
        total += done;
        if done < u64::from(BATCH) {
            return Ok(total);
        }
    }
}
