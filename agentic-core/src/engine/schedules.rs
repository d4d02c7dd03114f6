//! Schedules as callers manage them: create, change, pause, resume, delete, list, trigger, backfill, and the next
//! fire times. Writing needs `workflows:create` (a trigger or a backfill also the permission that starts the
//! target, since it starts a run now); any member reads. The scheduler that fires them is `engine/scheduler.rs`.

use std::time::Duration;

use serde_json::json;

use crate::Platform;
use crate::api::{
    BackfillReport, BackfillRequest, CreateScheduleRequest, ExecuteRequest, FireOutcome, FireReport, PauseRequest,
    TriggerRequest, UpcomingFire, UpcomingFires, UpdateScheduleRequest, WorkflowRequest,
};
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::ids::ScheduleId;
use crate::model::{
    Fire, FireOrigin, MAX_DESCRIPTION_CHARS, Permission, Run, Schedule, SkipReason, Timing, ValidationError,
    validate_name, validate_optional_text,
};
use crate::store::{Page, PageRequest, RunQuery, StoreError};

/// The catch-up window of a schedule that names none.
pub const DEFAULT_CATCHUP_WINDOW: Duration = Duration::from_secs(3600);
/// The longest catch-up window.
pub const MAX_CATCHUP_WINDOW: Duration = Duration::from_secs(366 * 24 * 3600);
/// The longest jitter.
pub const MAX_JITTER: Duration = Duration::from_secs(3600);
/// The most fire times one backfill acts on (ask again with a later range for more; a longer range is refused,
/// never cut short silently).
pub const MAX_BACKFILL_FIRES: usize = 1_000;
/// The most fire times `upcoming` lists.
pub const MAX_UPCOMING: u32 = 100;
/// How many times a change is retried when a scheduler or another caller wrote the schedule meanwhile.
const CHANGE_ATTEMPTS: usize = 5;
/// How long a trigger or a backfill waits for a scheduler that holds the schedule to finish with it.
const CLAIM_WAIT: Duration = Duration::from_secs(5);

impl Platform {
    /// Creates a schedule; its runs act as the caller, who must be allowed to start its target.
    pub async fn create_schedule(&self, principal: &Principal, request: CreateScheduleRequest) -> Result<Schedule> {
        principal.require(Permission::WorkflowsCreate)?;
        let name = validate_name("name", &request.name, 200)?;
        let note = validate_optional_text("note", request.note, MAX_DESCRIPTION_CHARS)?;
        let timing = request.spec.timing()?;
        let now = self.inner.clock.now();
        if let Timing::Once(at) = timing
            && at <= now
        {
            return Err(ValidationError::new("spec.at", "must be in the future").into());
        }
        let mut schedule = Schedule {
            id: ScheduleId::new(),
            tenant_id: principal.tenant_id,
            project_id: request.project_id,
            name,
            note,
            target: request.target,
            risk_level: request.risk_level,
            spec: request.spec,
            overlap_policy: request.overlap_policy.unwrap_or_default(),
            catchup_window: span("catchup_window", request.catchup_window.as_deref(), MAX_CATCHUP_WINDOW)?
                .unwrap_or(DEFAULT_CATCHUP_WINDOW),
            jitter: span("jitter", request.jitter.as_deref(), MAX_JITTER)?.unwrap_or_default(),
            paused: request.paused.unwrap_or(false),
            created_by: principal.user_id,
            run_as: principal.user_id,
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
        self.target_run(principal, &schedule).await?;
        schedule.plan_next(&timing, now);
        schedule.set_wake(now);
        let store = self.inner.store.tenant(principal.tenant_id);
        store.insert_schedule(&schedule).await.map_err(missing_project)?;
        self.inner.schedule_wakeup.notify_one();
        Ok(schedule)
    }

    /// A page of the tenant's schedules, oldest first.
    pub async fn list_schedules(&self, principal: &Principal, page: PageRequest) -> Result<Page<Schedule>> {
        Ok(self.inner.store.tenant(principal.tenant_id).list_schedules(&page).await?)
    }

    /// A schedule of the caller's tenant.
    pub async fn get_schedule(&self, principal: &Principal, id: ScheduleId) -> Result<Schedule> {
        self.inner.store.tenant(principal.tenant_id).get_schedule(id).await?.ok_or(Error::NotFound("schedule"))
    }

    /// Changes a schedule (the fields given). A new spec or jitter plans the next fire time afresh from now; a new
    /// target, project or risk makes the caller the user its runs act as (and must be one the caller may start).
    pub async fn update_schedule(
        &self,
        principal: &Principal,
        id: ScheduleId,
        request: UpdateScheduleRequest,
    ) -> Result<Schedule> {
        principal.require(Permission::WorkflowsCreate)?;
        let name = request.name.as_deref().map(|n| validate_name("name", n, 200)).transpose()?;
        let note = match request.note.clone() {
            Some(text) => Some(validate_optional_text("note", Some(text), MAX_DESCRIPTION_CHARS)?),
            None => None,
        };
        let timing = request.spec.as_ref().map(|spec| spec.timing()).transpose()?;
        let catchup_window = span("catchup_window", request.catchup_window.as_deref(), MAX_CATCHUP_WINDOW)?;
        let jitter = span("jitter", request.jitter.as_deref(), MAX_JITTER)?;
        let retarget = request.target.is_some() || request.project_id.is_some() || request.risk_level.is_some();
        self.change_schedule(principal, id, retarget, |schedule, now| {
            if let Some(name) = &name {
                schedule.name.clone_from(name);
            }
            if let Some(note) = &note {
                schedule.note.clone_from(note);
            }
            if let Some(target) = &request.target {
                schedule.target = target.clone();
            }
            if let Some(project) = request.project_id {
                schedule.project_id = project;
            }
            if request.risk_level.is_some() {
                schedule.risk_level = request.risk_level;
            }
            if retarget {
                schedule.run_as = principal.user_id;
            }
            if let Some(policy) = request.overlap_policy {
                schedule.overlap_policy = policy;
            }
            if let Some(window) = catchup_window {
                schedule.catchup_window = window;
            }
            if let Some(spec) = &request.spec {
                schedule.spec = spec.clone();
            }
            if let Some(jitter) = jitter {
                schedule.jitter = jitter;
            }
            if request.spec.is_some() || jitter.is_some() {
                let timing = match &timing {
                    Some(timing) => timing.clone(),
                    None => schedule.spec.timing()?,
                };
                schedule.plan_next(&timing, now);
            }
            Ok(Vec::new())
        })
        .await
    }

    /// Pauses a schedule: it fires no more until resumed (a run it started goes on).
    pub async fn pause_schedule(
        &self,
        principal: &Principal,
        id: ScheduleId,
        request: PauseRequest,
    ) -> Result<Schedule> {
        principal.require(Permission::WorkflowsCreate)?;
        let note = validate_optional_text("note", request.note, MAX_DESCRIPTION_CHARS)?;
        self.change_schedule(principal, id, false, |schedule, _| {
            schedule.paused = true;
            if note.is_some() {
                schedule.note.clone_from(&note);
            }
            Ok(Vec::new())
        })
        .await
    }

    /// Resumes a paused schedule: the fire times that passed while it was paused are skipped and counted (reason
    /// `paused`, one `schedule.skipped` event), and it fires from the next one on.
    pub async fn resume_schedule(
        &self,
        principal: &Principal,
        id: ScheduleId,
        request: PauseRequest,
    ) -> Result<Schedule> {
        principal.require(Permission::WorkflowsCreate)?;
        let note = validate_optional_text("note", request.note, MAX_DESCRIPTION_CHARS)?;
        let mut skipped = 0;
        let resumed = self
            .change_schedule(principal, id, false, |schedule, now| {
                skipped = 0;
                if !schedule.paused {
                    return Ok(Vec::new());
                }
                schedule.paused = false;
                if note.is_some() {
                    schedule.note.clone_from(&note);
                }
                let mut events = Vec::new();
                if let Some(next) = schedule.next_fire_at.filter(|next| *next <= now) {
                    let timing = schedule.spec.timing()?;
                    let passed = timing.due(next, now, chrono::Duration::zero());
                    skipped = passed.missed + passed.fire.len() as u64;
                    schedule.fires_skipped += skipped;
                    let fire = Fire::scheduled(schedule.id, next);
                    events.push(Event::schedule_skipped(schedule, &fire, SkipReason::Paused, None, skipped, now));
                    schedule.plan_next(&timing, now);
                }
                Ok(events)
            })
            .await?;
        if skipped > 0 {
            self.count_skips(SkipReason::Paused, skipped);
            self.events_stored();
        }
        Ok(resumed)
    }

    /// Deletes a schedule; the runs it started stay.
    pub async fn delete_schedule(&self, principal: &Principal, id: ScheduleId) -> Result<()> {
        principal.require(Permission::WorkflowsCreate)?;
        let deleted = self.inner.store.tenant(principal.tenant_id).delete_schedule(id).await?;
        if deleted { Ok(()) } else { Err(Error::NotFound("schedule")) }
    }

    /// A page of the runs a schedule started, newest first (filtered as `query` says).
    pub async fn schedule_runs(&self, principal: &Principal, id: ScheduleId, query: RunQuery) -> Result<Page<Run>> {
        self.get_schedule(principal, id).await?;
        let query = RunQuery { schedule_id: Some(id), ..query };
        Ok(self.inner.store.tenant(principal.tenant_id).list_runs(&query).await?)
    }

    /// The next `count` fire times of a schedule (1–[`MAX_UPCOMING`], default 10), in UTC and as its time zone
    /// reads them.
    pub async fn upcoming_fires(
        &self,
        principal: &Principal,
        id: ScheduleId,
        count: Option<u32>,
    ) -> Result<UpcomingFires> {
        let count = count.unwrap_or(10);
        if !(1..=MAX_UPCOMING).contains(&count) {
            return Err(ValidationError::new("count", format!("must be from 1 to {MAX_UPCOMING}")).into());
        }
        let schedule = self.get_schedule(principal, id).await?;
        let timing = schedule.spec.timing()?;
        let zone = match &timing {
            Timing::Cron { zone, .. } => *zone,
            _ => chrono_tz::UTC,
        };
        let now = self.inner.clock.now();
        let data = timing
            .upcoming(now, count as usize)
            .into_iter()
            .map(|at| UpcomingFire {
                at,
                local: at.with_timezone(&zone).to_rfc3339(),
                starts_at: at + schedule.jitter_for(&timing, at),
            })
            .collect();
        Ok(UpcomingFires { timezone: zone.name().to_owned(), paused: schedule.paused, data })
    }

    /// Fires a schedule now, once, under its overlap policy unless the call names another: a run starts, or the
    /// fire is skipped (and counted) or buffered exactly as a scheduled fire would be.
    pub async fn trigger_schedule(
        &self,
        principal: &Principal,
        id: ScheduleId,
        request: TriggerRequest,
    ) -> Result<FireReport> {
        let schedule = self.check_manual_fire(principal, id).await?;
        let fire = Fire::manual(schedule.id, FireOrigin::Trigger, self.inner.clock.now());
        let reports = self.fire_manually(principal, id, vec![fire], request.overlap_policy).await?;
        reports.into_iter().next().ok_or_else(|| Error::Internal("a trigger reported no fire".into()))
    }

    /// Acts on every fire time of the schedule's spec in `[from, to]`, oldest first, under its overlap policy
    /// unless the call names another, and reports each one (a range of more than [`MAX_BACKFILL_FIRES`] fire times
    /// is refused rather than cut short).
    pub async fn backfill_schedule(
        &self,
        principal: &Principal,
        id: ScheduleId,
        request: BackfillRequest,
    ) -> Result<BackfillReport> {
        if request.to < request.from {
            return Err(ValidationError::new("to", "must not be before `from`").into());
        }
        if request.to > self.inner.clock.now() {
            return Err(
                ValidationError::new("to", "must not be in the future (the schedule fires those itself)").into()
            );
        }
        let schedule = self.check_manual_fire(principal, id).await?;
        let timing = schedule.spec.timing()?;
        let start = request.from - chrono::Duration::milliseconds(1);
        let times: Vec<_> =
            timing.upcoming(start, MAX_BACKFILL_FIRES + 1).into_iter().filter(|at| *at <= request.to).collect();
        if times.len() > MAX_BACKFILL_FIRES {
            let reason = format!("the range holds more than {MAX_BACKFILL_FIRES} fire times; backfill it in parts");
            return Err(ValidationError::new("to", reason).into());
        }
        let fires = times.into_iter().map(|at| Fire::manual(id, FireOrigin::Backfill, at)).collect();
        let fires = self.fire_manually(principal, id, fires, request.overlap_policy).await?;
        let count = |outcome: FireOutcome| fires.iter().filter(|f| f.outcome == outcome).count() as u64;
        Ok(BackfillReport {
            started: count(FireOutcome::Started),
            skipped: count(FireOutcome::Skipped),
            buffered: count(FireOutcome::Buffered),
            fires,
        })
    }

    /// The schedule a caller may fire by hand: `workflows:create`, and the permission to start its target.
    async fn check_manual_fire(&self, principal: &Principal, id: ScheduleId) -> Result<Schedule> {
        principal.require(Permission::WorkflowsCreate)?;
        let schedule = self.get_schedule(principal, id).await?;
        self.target_run(principal, &schedule).await?;
        Ok(schedule)
    }

    /// Claims the schedule (waiting up to [`CLAIM_WAIT`] for a scheduler holding it) and acts on `fires`.
    async fn fire_manually(
        &self,
        principal: &Principal,
        id: ScheduleId,
        fires: Vec<Fire>,
        policy: Option<crate::model::OverlapPolicy>,
    ) -> Result<Vec<FireReport>> {
        let holder = format!("api-{}", uuid::Uuid::now_v7().simple());
        let store = self.inner.store.tenant(principal.tenant_id);
        let deadline = tokio::time::Instant::now() + CLAIM_WAIT;
        let lease = super::scheduler::SCHEDULE_LEASE;
        let schedule = loop {
            let claim = store.claim_schedule(id, &holder, self.inner.clock.now(), lease).await?;
            match claim.ok_or(Error::NotFound("schedule"))? {
                crate::store::ScheduleClaim::Claimed(schedule) => break *schedule,
                crate::store::ScheduleClaim::Held if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                crate::store::ScheduleClaim::Held => {
                    return Err(Error::Conflict("a scheduler is firing this schedule; try again".into()));
                }
            }
        };
        self.fire_schedule(schedule, &holder, super::scheduler::Pass::Manual { fires, policy }).await
    }

    /// Reads, changes and writes a schedule, again if it was written meanwhile (by a scheduler or another
    /// caller); `retarget` checks that the caller may start its (new) target. `change` returns the events to store
    /// with the write.
    async fn change_schedule<F>(
        &self,
        principal: &Principal,
        id: ScheduleId,
        retarget: bool,
        mut change: F,
    ) -> Result<Schedule>
    where
        F: FnMut(&mut Schedule, crate::clock::Timestamp) -> Result<Vec<Event>>,
    {
        let store = self.inner.store.tenant(principal.tenant_id);
        for _ in 0..CHANGE_ATTEMPTS {
            let mut schedule = self.get_schedule(principal, id).await?;
            let now = self.inner.clock.now();
            let events = change(&mut schedule, now)?;
            if retarget {
                self.target_run(principal, &schedule).await?;
            }
            schedule.set_wake(now);
            match store.update_schedule(&schedule, &events, now).await {
                Ok(Some(updated)) => {
                    self.inner.schedule_wakeup.notify_one();
                    return Ok(updated);
                }
                Ok(None) => return Err(Error::NotFound("schedule")),
                Err(StoreError::Conflict { .. }) => continue,
                Err(error) => return Err(missing_project(error)),
            }
        }
        Err(Error::Conflict("the schedule kept changing while this change was made; try again".into()))
    }

    /// The run a fire of `schedule` starts, acting as `principal`, checked but not stored: what each fire does,
    /// and what creating or retargeting a schedule checks (each mistake named under `target.`).
    pub(crate) async fn target_run(&self, principal: &Principal, schedule: &Schedule) -> Result<Run> {
        let target = &schedule.target;
        let prepared = match (&target.agent, &target.workflow) {
            (Some(agent), None) => {
                if target.args.is_some() {
                    return Err(ValidationError::new("target.args", "applies only to `workflow`").into());
                }
                let mut request = ExecuteRequest::new(target.task.clone().unwrap_or_default(), schedule.project_id);
                request.context.clone_from(&target.context);
                request.risk_level = schedule.risk_level;
                self.prepare_agent_run(principal, agent, &request).await.map(|(run, _spec)| run)
            }
            (None, Some(workflow)) => {
                if target.task.is_some() || target.context.is_some() {
                    let field = if target.task.is_some() { "target.task" } else { "target.context" };
                    return Err(ValidationError::new(field, "applies only to `agent`").into());
                }
                let request = WorkflowRequest {
                    name: workflow.clone(),
                    args: target.args.clone().unwrap_or_else(|| json!({})),
                    project_id: schedule.project_id,
                    risk_level: schedule.risk_level,
                    wait: None,
                    budget_tokens: None,
                };
                self.prepare_workflow_run(principal, &request).await
            }
            _ => return Err(ValidationError::new("target", "must have exactly one of `agent` or `workflow`").into()),
        };
        let mut run = prepared.map_err(|error| match error {
            Error::Validation(mut invalid) => {
                invalid.field = format!("target.{}", invalid.field);
                Error::Validation(invalid)
            }
            Error::NotFound("agent") => ValidationError::new("target.agent", "names no agent of this tenant").into(),
            Error::NotFound("workflow") => {
                ValidationError::new("target.workflow", "names no workflow (there is `ProjectPipelineWorkflow`)").into()
            }
            other => other,
        })?;
        run.schedule_id = Some(schedule.id);
        Ok(run)
    }

    /// Counts `count` skipped fires for `reason`.
    pub(crate) fn count_skips(&self, reason: SkipReason, count: u64) {
        let metrics = &self.inner.metrics;
        metrics.schedules.fires_total.with_label_values(&[FireOutcome::Skipped.as_str()]).inc_by(count);
        metrics.schedules.skipped_total.with_label_values(&[reason.as_str()]).inc_by(count);
    }
}

/// A duration field (`10m`, `1h 30m`), at most `max`; `None` when absent.
fn span(field: &str, text: Option<&str>, max: Duration) -> Result<Option<Duration>> {
    let Some(text) = text else { return Ok(None) };
    let value = crate::model::duration(field, text)?.to_std().unwrap_or_default();
    if value > max {
        let max = humantime::format_duration(max);
        return Err(ValidationError::new(field, format!("must be at most {max}")).into());
    }
    Ok(Some(value))
}

/// A missing project (the store's missing reference) as the caller's 404.
fn missing_project(error: StoreError) -> Error {
    match error {
        StoreError::MissingReference { .. } => Error::NotFound("project"),
        other => other.into(),
    }
}
