//! Schedules of one tenant, and the claims schedulers take on them.
//!
//! One holder writes a schedule's state at a time. A scheduler claims due schedules across tenants
//! ([`SystemStore::claim_due_schedules`](super::SystemStore::claim_due_schedules)) and a caller's trigger or
//! backfill claims one ([`ScheduleStore::claim_schedule`]); a claim is a lease (a holder that dies leaves the
//! schedule to be claimed again once it lapses) and bumps the schedule's version, which is the fencing token:
//! [`ScheduleStore::advance_schedule`] writes only for the holder of the current version.

use async_trait::async_trait;

use super::{Page, PageRequest, StoreResult};
use crate::clock::Timestamp;
use crate::events::Event;
use crate::ids::ScheduleId;
use crate::model::Schedule;

/// What [`ScheduleStore::claim_schedule`] found.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleClaim {
    /// Claimed: the schedule as it stands, its `version` the claim's.
    Claimed(Box<Schedule>),
    /// Another holder's claim has not lapsed yet.
    Held,
}

/// A holder's write of a schedule's state, with the events it stores together.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleAdvance<'a> {
    /// The schedule after the holder's work (its `version` the claim's; the store bumps it).
    pub schedule: &'a Schedule,
    /// The holder named at the claim.
    pub holder: &'a str,
    /// `schedule.fired` / `schedule.skipped` events of the fires it acted on.
    pub events: &'a [Event],
}

/// Schedules of the handle's tenant. Every write compares and bumps [`Schedule::version`].
#[async_trait]
pub trait ScheduleStore: Send + Sync {
    /// Stores a new schedule (its `version` is stored as given).
    /// [`StoreError::MissingReference`](super::StoreError::MissingReference) if its project does not exist.
    async fn insert_schedule(&self, schedule: &Schedule) -> StoreResult<()>;

    /// A schedule by id.
    async fn get_schedule(&self, id: ScheduleId) -> StoreResult<Option<Schedule>>;

    /// Schedules, oldest first.
    async fn list_schedules(&self, page: &PageRequest) -> StoreResult<Page<Schedule>>;

    /// Replaces a schedule (a caller's change: its definition, a pause, a resume) if its version is still
    /// `schedule.version`, bumping it, and stores `events` with it; a claim on it ends (its holder's advance is
    /// refused). The schedule after, `None` if there is no such schedule, or
    /// [`StoreError::Conflict`](super::StoreError::Conflict) if it changed since it was read.
    async fn update_schedule(
        &self,
        schedule: &Schedule,
        events: &[Event],
        at: Timestamp,
    ) -> StoreResult<Option<Schedule>>;

    /// Deletes a schedule (its runs stay); `false` if there was none.
    async fn delete_schedule(&self, id: ScheduleId) -> StoreResult<bool>;

    /// Claims schedule `id` for `holder` for `lease` (on the store's clock where it has one, else `now`), whether
    /// or not it is due: a trigger, a backfill. `None` if there is no such schedule.
    async fn claim_schedule(
        &self,
        id: ScheduleId,
        holder: &str,
        now: Timestamp,
        lease: chrono::Duration,
    ) -> StoreResult<Option<ScheduleClaim>>;

    /// Writes the holder's state and stores its events, together, and ends the claim, if `advance.holder` still
    /// holds the schedule at `advance.schedule.version`; `false` (nothing written) otherwise.
    async fn advance_schedule(&self, advance: &ScheduleAdvance<'_>) -> StoreResult<bool>;
}
