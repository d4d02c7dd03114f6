//! Bodies of the schedules API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{ProjectId, RunId};
use crate::model::{FireOrigin, OverlapPolicy, RiskLevel, ScheduleSpec, ScheduleTarget, SkipReason};

/// `POST /v1/schedules`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateScheduleRequest {
    /// Its name (1–200 characters).
    #[schema(min_length = 1)]
    pub name: String,
    /// What it starts: `{agent, task, context}` or `{workflow, args}`.
    pub target: ScheduleTarget,
    /// The project its runs are charged to.
    pub project_id: ProjectId,
    /// The risk of its runs: may raise the target's own level, never lower it.
    #[serde(default)]
    pub risk_level: Option<RiskLevel>,
    /// When it fires: `{cron, timezone}`, `{every, offset}` or `{at}`.
    pub spec: ScheduleSpec,
    /// What a fire does while the last run has not ended (default `skip`).
    #[serde(default)]
    pub overlap_policy: Option<OverlapPolicy>,
    /// How late a fire time may still be acted on after downtime, e.g. `10m` (default `1h`, at most `366d`);
    /// older ones are skipped and counted.
    #[serde(default)]
    pub catchup_window: Option<String>,
    /// Start each fire up to this much after its fire time, e.g. `30s` (default `0s`, at most `1h`).
    #[serde(default)]
    pub jitter: Option<String>,
    /// Create it paused (default false).
    #[serde(default)]
    pub paused: Option<bool>,
    /// A note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `PATCH /v1/schedules/{id}`: the fields given are replaced. A new spec or jitter plans the next fire time
/// afresh; a new target, project or risk makes the caller the user the runs act as.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateScheduleRequest {
    /// New name.
    pub name: Option<String>,
    /// New target.
    pub target: Option<ScheduleTarget>,
    /// New project.
    pub project_id: Option<ProjectId>,
    /// New risk.
    pub risk_level: Option<RiskLevel>,
    /// New spec.
    pub spec: Option<ScheduleSpec>,
    /// New overlap policy.
    pub overlap_policy: Option<OverlapPolicy>,
    /// New catch-up window.
    pub catchup_window: Option<String>,
    /// New jitter.
    pub jitter: Option<String>,
    /// New note (blank clears it).
    pub note: Option<String>,
}

/// `POST /v1/schedules/{id}/pause` and `/resume`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// Why (kept as the schedule's note).
    pub note: Option<String>,
}

/// `POST /v1/schedules/{id}/trigger`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerRequest {
    /// The overlap policy for this fire (default: the schedule's).
    pub overlap_policy: Option<OverlapPolicy>,
}

/// `POST /v1/schedules/{id}/backfill`: acts on every fire time of the spec in `[from, to]`, oldest first, as
/// if each had come, under the overlap policy.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BackfillRequest {
    /// The first instant of the range.
    pub from: DateTime<Utc>,
    /// The last instant of the range (not in the future).
    pub to: DateTime<Utc>,
    /// The overlap policy for these fires (default: the schedule's).
    pub overlap_policy: Option<OverlapPolicy>,
}

/// What became of one fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FireOutcome {
    /// A run started (or had started: a fire acted on twice names one run).
    Started,
    /// No run started; `reason` says why.
    Skipped,
    /// Waiting for the last run to end.
    Buffered,
}

impl FireOutcome {
    /// The wire name (the `schedule_fires_total` label).
    pub const fn as_str(self) -> &'static str {
        match self {
            FireOutcome::Started => "started",
            FireOutcome::Skipped => "skipped",
            FireOutcome::Buffered => "buffered",
        }
    }
}

/// One fire and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FireReport {
    /// The fire time.
    pub fire_time: DateTime<Utc>,
    /// How it came about.
    pub origin: FireOrigin,
    /// What became of it.
    pub outcome: FireOutcome,
    /// The run it started.
    pub run_id: Option<RunId>,
    /// Why it started none.
    pub reason: Option<SkipReason>,
    /// More about the reason (for `invalid_target`, what is wrong).
    pub detail: Option<String>,
}

/// The answer to a backfill: every fire time of the range and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BackfillReport {
    /// Fires that started a run.
    pub started: u64,
    /// Fires skipped.
    pub skipped: u64,
    /// Fires waiting for the last run to end.
    pub buffered: u64,
    /// Each fire, oldest first.
    pub fires: Vec<FireReport>,
}

/// `GET /v1/schedules/{id}/upcoming?count=N`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UpcomingQuery {
    /// How many fire times, 1–100 (default 10).
    pub count: Option<u32>,
}

/// A fire time in UTC and in the schedule's own time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpcomingFire {
    /// The fire time, UTC.
    pub at: DateTime<Utc>,
    /// The same instant as the schedule reads it: local time with its offset, in the spec's time zone (UTC for
    /// an interval or a one-time spec).
    pub local: String,
    /// When its run starts (fire time plus the jitter).
    pub starts_at: DateTime<Utc>,
}

/// The next fire times of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpcomingFires {
    /// The time zone `local` is in.
    pub timezone: String,
    /// Whether the schedule is paused (it fires at none of these until resumed).
    pub paused: bool,
    /// The fire times, soonest first.
    pub data: Vec<UpcomingFire>,
}
