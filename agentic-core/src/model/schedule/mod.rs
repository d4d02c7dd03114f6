//! Schedules: what starts runs at fire times, and the state a scheduler keeps for each.
//!
//! A [`Schedule`] holds its definition (a [`ScheduleTarget`], a [`ScheduleSpec`], an [`OverlapPolicy`], a
//! catch-up window and a jitter) and its state (the next fire time, fires waiting for a running run to end, the
//! last run, counters), written by one holder at a time: every write checks and bumps [`Schedule::version`], so a
//! scheduler whose claim was overtaken (by another replica after its lease lapsed, or by a caller's change) writes
//! nothing. Each fire starts its run under the fire's idempotency key ([`Fire::key`]), so a fire that two holders
//! both act on still starts one run.

mod overlap;
mod timing;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use overlap::{FireAction, OverlapPolicy};
pub(crate) use timing::duration;
pub use timing::{DueFires, MAX_CATCHUP_FIRES, MAX_CATCHUP_SCAN, MAX_INTERVAL, MIN_INTERVAL, ScheduleSpec, Timing};

use crate::clock::Timestamp;
use crate::ids::{ProjectId, RunId, ScheduleId, TenantId, UserId};
use crate::model::RiskLevel;

/// What a schedule starts at each fire: an agent on a task (`{agent, task, context}`), or a workflow with its
/// arguments (`{workflow, args}`), as `POST /v1/agents/{name}/execute` and `POST /v1/workflows` take them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTarget {
    /// The agent to run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The agent's task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Extra context for the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
    /// The workflow to run (`ProjectPipelineWorkflow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The workflow's arguments, e.g. `{"goal": "..."}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub args: Option<serde_json::Value>,
}

/// How a fire came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FireOrigin {
    /// A fire time of the schedule's spec, found due by a scheduler.
    Scheduled,
    /// `POST /v1/schedules/{id}/trigger`.
    Trigger,
    /// `POST /v1/schedules/{id}/backfill`.
    Backfill,
}

impl FireOrigin {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            FireOrigin::Scheduled => "scheduled",
            FireOrigin::Trigger => "trigger",
            FireOrigin::Backfill => "backfill",
        }
    }
}

/// Why a fire started no run (`schedule.skipped`'s `reason`, the `schedule_skipped_total` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// The overlap policy skipped it: the last run had not ended.
    Overlap,
    /// The project had spent its budget.
    Budget,
    /// It was later than the catch-up window (the schedulers were down).
    Missed,
    /// It came while the schedule was paused.
    Paused,
    /// The schedule's creator is deactivated or may no longer start its target.
    NotPermitted,
    /// The target cannot run (its agent was deleted, …).
    InvalidTarget,
}

impl SkipReason {
    /// Every reason.
    pub const ALL: [SkipReason; 6] = [
        SkipReason::Overlap,
        SkipReason::Budget,
        SkipReason::Missed,
        SkipReason::Paused,
        SkipReason::NotPermitted,
        SkipReason::InvalidTarget,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SkipReason::Overlap => "overlap",
            SkipReason::Budget => "budget",
            SkipReason::Missed => "missed",
            SkipReason::Paused => "paused",
            SkipReason::NotPermitted => "not_permitted",
            SkipReason::InvalidTarget => "invalid_target",
        }
    }
}

/// One fire: a time, how it came about, and the idempotency key its run is started under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Fire {
    /// The fire time (for a trigger, when it was asked).
    pub at: DateTime<Utc>,
    /// How it came about.
    pub origin: FireOrigin,
    /// Its run's idempotency key: `schedule:<id>:<fire time in ms>` for a scheduled fire, so every holder that
    /// acts on that fire time names the same run; `schedule:<id>:<origin>:<uuid>` for a trigger or a backfill,
    /// so asking again runs again.
    pub key: String,
}

impl Fire {
    /// The scheduled fire of `schedule` at `at`.
    pub fn scheduled(schedule: ScheduleId, at: Timestamp) -> Self {
        Self { at, origin: FireOrigin::Scheduled, key: format!("schedule:{schedule}:{}", at.timestamp_millis()) }
    }

    /// A fire a caller asked for (a trigger or a backfill), with a key of its own.
    pub fn manual(schedule: ScheduleId, origin: FireOrigin, at: Timestamp) -> Self {
        let key = format!("schedule:{schedule}:{}:{}", origin.as_str(), uuid::Uuid::now_v7().simple());
        Self { at, origin, key }
    }
}

/// How long a fire waiting for the running run to end (see [`Schedule::buffered`]) waits before a scheduler
/// looks again.
pub const BUFFER_RECHECK: chrono::Duration = chrono::Duration::seconds(1);

/// A schedule: its definition and its scheduler's state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Schedule {
    /// Id.
    pub id: ScheduleId,
    /// Tenant.
    pub tenant_id: TenantId,
    /// The project its runs are charged to.
    pub project_id: ProjectId,
    /// Its name.
    pub name: String,
    /// A note (e.g. why it was paused).
    pub note: Option<String>,
    /// What it starts.
    pub target: ScheduleTarget,
    /// The risk of its runs: may raise the target's own level, never lower it (default: the target's).
    pub risk_level: Option<RiskLevel>,
    /// When it fires.
    pub spec: ScheduleSpec,
    /// What a fire does while its last run has not ended.
    pub overlap_policy: OverlapPolicy,
    /// How late a fire time may be acted on after downtime; older ones are skipped and counted (reason `missed`).
    #[serde(with = "duration_text")]
    #[schema(value_type = String, example = "1h")]
    pub catchup_window: std::time::Duration,
    /// Each fire starts up to this much after its fire time (the same delay on every replica, drawn from the
    /// schedule and the fire time), to spread schedules that share a time.
    #[serde(with = "duration_text")]
    #[schema(value_type = String, example = "0s")]
    pub jitter: std::time::Duration,
    /// A paused schedule does not fire; fire times that pass meanwhile are skipped and counted (reason `paused`)
    /// when it resumes.
    pub paused: bool,
    /// Who created it.
    pub created_by: UserId,
    /// The user its runs act as: whoever last set its target, project or risk (they must still hold the
    /// permission to start the target, and be active, when each fire comes).
    pub run_as: UserId,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change (by a caller or a scheduler).
    pub updated_at: DateTime<Utc>,
    /// The next fire time of its spec; `None` once a one-time schedule has fired.
    pub next_fire_at: Option<DateTime<Utc>>,
    /// When that fire starts: its fire time plus the jitter.
    pub next_start_at: Option<DateTime<Utc>>,
    /// Fires waiting for the last run to end (`buffer_one`, `buffer_all`), oldest first.
    pub buffered: Vec<Fire>,
    /// When a scheduler looks at it next (`None`: never, it is paused or over).
    pub wake_at: Option<DateTime<Utc>>,
    /// The fire time it last acted on.
    pub last_fire_at: Option<DateTime<Utc>>,
    /// The run it started last.
    pub last_run_id: Option<RunId>,
    /// Fires that started a run.
    pub fires_started: u64,
    /// Fires skipped (by the overlap policy, an exhausted budget, a pause, downtime past the catch-up window, …).
    pub fires_skipped: u64,
    /// Bumped by every write: a write that names an older version (a scheduler overtaken by another, a change
    /// racing another) is refused.
    pub version: u64,
}

impl Schedule {
    /// Sets `next_fire_at` and `next_start_at` to the first fire time of `timing` after `after` and its start.
    pub fn plan_next(&mut self, timing: &Timing, after: Timestamp) {
        self.next_fire_at = timing.next_after(after);
        self.next_start_at = self.next_fire_at.map(|at| at + self.jitter_for(timing, at));
    }

    /// The delay of the fire at `at`: the same on every replica (drawn from the schedule's id and the fire time),
    /// below the jitter and below the gap to the following fire time, so jitter never reorders fires.
    pub fn jitter_for(&self, timing: &Timing, at: Timestamp) -> chrono::Duration {
        let jitter = u64::try_from(self.jitter.as_millis()).unwrap_or(u64::MAX);
        let gap =
            timing.next_after(at).map_or(u64::MAX, |next| u64::try_from((next - at).num_milliseconds()).unwrap_or(0));
        let bound = jitter.min(gap.saturating_sub(1));
        if bound == 0 {
            return chrono::Duration::zero();
        }
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&(self.id, at.timestamp_millis()), &mut hasher);
        let draw = std::hash::Hasher::finish(&hasher) % bound;
        chrono::Duration::milliseconds(i64::try_from(draw).unwrap_or(0))
    }

    /// Recomputes [`wake_at`](Self::wake_at) from the state at `now`: never while paused; the next start, or
    /// sooner while fires are buffered (to start them once the last run has ended).
    pub fn set_wake(&mut self, now: Timestamp) {
        self.wake_at = match (self.paused, self.buffered.is_empty()) {
            (true, _) => None,
            (false, true) => self.next_start_at,
            (false, false) => Some(self.next_start_at.map_or(now + BUFFER_RECHECK, |s| s.min(now + BUFFER_RECHECK))),
        };
    }
}

/// A duration as text (`1h`, `90s`, `0s`), the form the API takes and shows.
mod duration_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &std::time::Duration, serializer: S) -> Result<S::Ok, S::Error> {
        if value.is_zero() {
            return serializer.serialize_str("0s");
        }
        serializer.serialize_str(&humantime::format_duration(*value).to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<std::time::Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(every: &str, jitter: u64) -> (Schedule, Timing) {
        let spec = ScheduleSpec { every: Some(every.into()), ..Default::default() };
        let timing = spec.timing().unwrap();
        let now = Utc::now();
        let schedule = Schedule {
            id: ScheduleId::new(),
            tenant_id: TenantId::new(),
            project_id: ProjectId::new(),
            name: "nightly".into(),
            note: None,
            target: ScheduleTarget { agent: Some("qa".into()), task: Some("t".into()), ..Default::default() },
            risk_level: None,
            spec,
            overlap_policy: OverlapPolicy::Skip,
            catchup_window: std::time::Duration::from_secs(3600),
            jitter: std::time::Duration::from_secs(jitter),
            paused: false,
            created_by: UserId::new(),
            run_as: UserId::new(),
            created_at: now,
            updated_at: now,
            next_fire_at: None,
            next_start_at: None,
            buffered: Vec::new(),
            wake_at: None,
            last_fire_at: None,
            last_run_id: None,
            fires_started: 0,
            fires_skipped: 0,
            version: 0,
        };
        (schedule, timing)
    }

    #[test]
    fn jitter_is_the_same_everywhere_and_stays_below_the_next_fire() {
        let (mut s, timing) = schedule("1m", 3600);
        let at = "2026-01-01T00:00:00Z".parse().unwrap();
        let delay = s.jitter_for(&timing, at);
        assert_eq!(delay, s.jitter_for(&timing, at), "deterministic");
        assert!(delay < chrono::Duration::minutes(1), "below the gap to the next fire: {delay}");
        let delays: std::collections::BTreeSet<_> =
            (0..20).map(|i| s.jitter_for(&timing, at + chrono::Duration::minutes(i))).collect();
        assert!(delays.len() > 10, "drawn per fire time: {delays:?}");
        s.jitter = std::time::Duration::ZERO;
        assert_eq!(s.jitter_for(&timing, at), chrono::Duration::zero());
    }

    #[test]
    fn wake_follows_the_next_start_buffered_fires_and_the_pause() {
        let (mut s, timing) = schedule("1h", 0);
        let now: Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        s.plan_next(&timing, now);
        s.set_wake(now);
        assert_eq!(s.wake_at.unwrap().to_rfc3339(), "2026-01-01T01:00:00+00:00");
        s.buffered.push(Fire::scheduled(s.id, now));
        s.set_wake(now);
        assert_eq!(s.wake_at, Some(now + BUFFER_RECHECK));
        s.paused = true;
        s.set_wake(now);
        assert_eq!(s.wake_at, None);
    }

    #[test]
    fn scheduled_fires_share_a_key_and_manual_ones_do_not() {
        let id = ScheduleId::new();
        let at = "2026-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(Fire::scheduled(id, at).key, Fire::scheduled(id, at).key);
        assert_ne!(Fire::manual(id, FireOrigin::Trigger, at).key, Fire::manual(id, FireOrigin::Trigger, at).key);
        assert!(Fire::scheduled(id, at).key.len() <= crate::model::MAX_IDEMPOTENCY_KEY_LEN);
        let text = serde_json::to_value(schedule("1m", 90).0).unwrap();
        assert_eq!((text["catchup_window"].as_str(), text["jitter"].as_str()), (Some("1h"), Some("1m 30s")));
    }
}
