//! Runs of one tenant.

use async_trait::async_trait;

use super::StoreResult;
use crate::clock::Timestamp;
use crate::ids::RunId;
use crate::model::{Run, RunFinish, RunLease, RunProgress};

/// Runs of the handle's tenant. Claiming (across tenants) is on the system interface. Every write by a worker is
/// fenced by its [`RunLease`]: it applies only while the run is `running` under that worker and attempt.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Records a new run.
    async fn insert_run(&self, run: &Run) -> StoreResult<()>;

    /// A run by id.
    async fn get_run(&self, id: RunId) -> StoreResult<Option<Run>>;

    /// Extends the lease on `lease.run` to `lease.duration` from now (the store's clock where it has one, else `at`), saving
    /// `progress` when given. `false` if the lease no longer holds: another worker has taken the run over, and
    /// this one must stop.
    async fn renew_run(&self, lease: &RunLease<'_>, progress: Option<&RunProgress>, at: Timestamp)
    -> StoreResult<bool>;

    /// Ends `lease.run`. `false` if the lease no longer holds (another worker took over): the other
    /// worker's result stands.
    async fn finish_run(&self, lease: &RunLease<'_>, finish: &RunFinish, at: Timestamp) -> StoreResult<bool>;

    /// Gives `lease.run` back unfinished (its worker is shutting down): `queued` again at once, without counting the
    /// attempt, so no worker waits out the lease and no attempt is spent. `false` if the lease no longer holds.
    async fn release_run(&self, lease: &RunLease<'_>, at: Timestamp) -> StoreResult<bool>;
}
