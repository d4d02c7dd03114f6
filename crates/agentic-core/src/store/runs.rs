//! Runs of one tenant.

use async_trait::async_trait;

use super::StoreResult;
use crate::clock::Timestamp;
use crate::ids::RunId;
use crate::model::{Run, RunFinish, RunProgress};

/// Runs of the handle's tenant. Claiming (across tenants) is on the system interface.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Records a new run.
    async fn insert_run(&self, run: &Run) -> StoreResult<()>;

    /// A run by id.
    async fn get_run(&self, id: RunId) -> StoreResult<Option<Run>>;

    /// Extends the lease `worker` holds on a running run to `until`, saving `progress` when given. `false` if it
    /// no longer holds it: the worker must stop, another one has taken the run over.
    async fn renew_run(
        &self,
        id: RunId,
        worker: &str,
        until: Timestamp,
        progress: Option<&RunProgress>,
        at: Timestamp,
    ) -> StoreResult<bool>;

    /// Ends a run `worker` holds (status `running`, leased by it). `false` if it no longer does (its lease lapsed
    /// and another worker took over): the other worker's result stands.
    async fn finish_run(&self, id: RunId, worker: &str, finish: &RunFinish, at: Timestamp) -> StoreResult<bool>;
}
