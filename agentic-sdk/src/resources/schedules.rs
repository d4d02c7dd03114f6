//! Schedules (writing needs `workflows:create`), and their fires.

use agentic_core::api::{
    BackfillReport, BackfillRequest, CreateScheduleRequest, FireReport, PauseRequest, TriggerRequest, UpcomingFires,
    UpcomingQuery, UpdateScheduleRequest,
};
use agentic_core::ids::ScheduleId;
use agentic_core::model::{Run, Schedule};
use agentic_core::store::{Page, PageRequest, RunQuery};

use crate::client::{AgenticClient, Repeat};
use crate::error::Result;

/// `client.schedules()`.
#[derive(Clone, Copy, Debug)]
pub struct Schedules<'a>(pub(crate) &'a AgenticClient);

impl Schedules<'_> {
    /// A page of schedules, oldest first.
    pub async fn list(&self, page: PageRequest) -> Result<Page<Schedule>> {
        self.0.get("/v1/schedules", Some(&page)).await
    }

    /// Creates a schedule; its runs act as the caller.
    pub async fn create(&self, request: &CreateScheduleRequest) -> Result<Schedule> {
        self.0.post("/v1/schedules", Some(request), Repeat::Unsafe).await
    }

    /// A schedule with its state.
    pub async fn get(&self, id: ScheduleId) -> Result<Schedule> {
        self.0.get(&format!("/v1/schedules/{id}"), None).await
    }

    /// Changes a schedule.
    pub async fn update(&self, id: ScheduleId, request: &UpdateScheduleRequest) -> Result<Schedule> {
        self.0.patch(&format!("/v1/schedules/{id}"), request).await
    }

    /// Deletes a schedule (its runs stay).
    pub async fn delete(&self, id: ScheduleId) -> Result<()> {
        self.0.delete(&format!("/v1/schedules/{id}")).await
    }

    /// Pauses a schedule.
    pub async fn pause(&self, id: ScheduleId, note: Option<String>) -> Result<Schedule> {
        let request = PauseRequest { note };
        self.0.post(&format!("/v1/schedules/{id}/pause"), Some(&request), Repeat::Safe).await
    }

    /// Resumes a schedule; the fire times it missed while paused are counted as skipped.
    pub async fn resume(&self, id: ScheduleId, note: Option<String>) -> Result<Schedule> {
        let request = PauseRequest { note };
        self.0.post(&format!("/v1/schedules/{id}/resume"), Some(&request), Repeat::Safe).await
    }

    /// Fires a schedule now, under its overlap policy unless `request` names another. Not repeated on its own
    /// (a repeat would be a second fire).
    pub async fn trigger(&self, id: ScheduleId, request: &TriggerRequest) -> Result<FireReport> {
        self.0.post(&format!("/v1/schedules/{id}/trigger"), Some(request), Repeat::Unsafe).await
    }

    /// Acts on every fire time of a range, reporting each.
    pub async fn backfill(&self, id: ScheduleId, request: &BackfillRequest) -> Result<BackfillReport> {
        self.0.post(&format!("/v1/schedules/{id}/backfill"), Some(request), Repeat::Unsafe).await
    }

    /// The runs a schedule started, newest first.
    pub async fn runs(&self, id: ScheduleId, query: &RunQuery) -> Result<Page<Run>> {
        self.0.get(&format!("/v1/schedules/{id}/runs"), Some(query)).await
    }

    /// The next `count` fire times (default 10).
    pub async fn upcoming(&self, id: ScheduleId, count: Option<u32>) -> Result<UpcomingFires> {
        self.0.get(&format!("/v1/schedules/{id}/upcoming"), Some(&UpcomingQuery { count })).await
    }
}
