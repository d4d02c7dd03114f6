//! Project budgets and cost records of one tenant.

use async_trait::async_trait;

use super::StoreResult;
use crate::clock::Timestamp;
use crate::ids::{ProjectId, ReservationId};
use crate::model::{
    BudgetStatus, CostFilter, CostGroupBy, CostRecord, CostTotals, Reservation, ReserveOutcome, Settlement,
};

/// Budgets and costs of the handle's tenant. Every method is atomic: concurrent reservations against one project
/// never together exceed its budget.
#[async_trait]
pub trait BudgetStore: Send + Sync {
    /// Holds `reservation.amount` against the project's budget if spent + unexpired reservations + amount stay
    /// within it (always, for an unlimited budget); otherwise refuses with the current status.
    /// [`StoreError::MissingReference`](super::StoreError::MissingReference) if the project does not exist.
    async fn reserve(&self, reservation: &Reservation, now: Timestamp) -> StoreResult<ReserveOutcome>;

    /// Records `record`, adds its cost to the project's spending and drops the reservation (if it still
    /// exists — an expired one may be gone, but the money was still spent). Reports the 90% and 100% lines the
    /// settlement crossed, each once per project. `events` (the call's own, such as its `run.llm_call`) are
    /// stored in the same transaction, ahead of the lines' events: all of it, or nothing.
    async fn settle(
        &self,
        reservation: ReservationId,
        record: &CostRecord,
        events: &[crate::events::Event],
        now: Timestamp,
    ) -> StoreResult<Settlement>;

    /// Drops a reservation without spending (the call failed before costing anything).
    async fn release(&self, reservation: ReservationId) -> StoreResult<()>;

    /// Where the project's budget stands at `now`, or `None` if there is no such project.
    async fn budget_status(&self, project: ProjectId, now: Timestamp) -> StoreResult<Option<BudgetStatus>>;

    /// The cost records of one run (every model call it made, its workflow steps' included), oldest first.
    async fn run_costs(&self, run: crate::ids::RunId) -> StoreResult<Vec<CostRecord>>;

    /// Totals of the matching cost records: overall, and per group when `group_by` is given (groups sorted by
    /// key).
    async fn cost_summary(
        &self,
        filter: CostFilter,
        group_by: Option<CostGroupBy>,
    ) -> StoreResult<(CostTotals, Vec<CostTotals>)>;
}
