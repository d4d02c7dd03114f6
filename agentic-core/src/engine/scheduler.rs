//! The scheduler: on every replica, claims due schedules (a lease, whose version is the fencing token), acts on
//! their fires and writes their state back, fenced. Each fire starts its run under the fire's idempotency key, so
//! however many replicas run, and whichever of them acts on a fire time after another died midway, a fire time
//! starts one run. A caller's trigger or backfill goes through the same pass ([`Pass::Manual`]).
//!
//! A pass, for one claimed schedule: (1) while its last run has ended, start the fires buffered behind it;
//! (2) act on the new fires — the due fire times of its spec (those later than the catch-up window counted as
//! missed), or the caller's — each as the overlap policy says; (3) write the state and the fires' events
//! together, if the claim still holds.

use std::time::Duration;

use futures_util::StreamExt;

use crate::Platform;
use crate::api::{FireOutcome, FireReport};
use crate::auth::{Credential, Principal};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::model::{Fire, FireAction, FireOrigin, OverlapPolicy, RunStatus, Schedule, SkipReason, Timing};
use crate::store::ScheduleAdvance;

/// How long a holder holds a schedule it claimed (a pass takes far less; a holder that dies leaves it this long).
pub const SCHEDULE_LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// Schedules one claim takes.
const SCHEDULE_BATCH: u32 = 200;
/// Schedules worked at once within a batch.
const FIRE_CONCURRENCY: usize = 16;
/// The longest a scheduler sleeps before it looks again (schedules created or changed on other replicas).
const SCHEDULER_POLL: Duration = Duration::from_secs(1);

/// Which fires a pass acts on.
pub(crate) enum Pass {
    /// The schedule's due fire times.
    Due,
    /// A caller's fires, under `policy` (default: the schedule's).
    Manual { fires: Vec<Fire>, policy: Option<OverlapPolicy> },
}

/// Whether a pass's runs may start: as whom, or why not.
type Admission = std::result::Result<Principal, (SkipReason, String)>;

/// What a pass learnt before acting, and what it did.
struct Firing {
    now: crate::clock::Timestamp,
    timing: Timing,
    /// Whether a run may start, and as whom: read when the pass first starts one (a pass that only skips or
    /// buffers reads neither the user nor the budget).
    admission: Option<Admission>,
    /// The schedule's last run has not ended.
    running: bool,
    events: Vec<Event>,
    reports: Vec<FireReport>,
    skips: Vec<(SkipReason, u64)>,
    lags: Vec<f64>,
}

impl Platform {
    /// Claims up to one batch of due schedules as `holder` and acts on their fires; returns how many it claimed.
    /// Tests call it to fire schedules without a background scheduler (a `ManualClock` decides what is due).
    pub async fn fire_due_schedules(&self, holder: &str) -> Result<usize> {
        let now = self.inner.clock.now();
        let claimed =
            self.inner.store.system().claim_due_schedules(holder, now, SCHEDULE_LEASE, SCHEDULE_BATCH).await?;
        let count = claimed.len();
        futures_util::stream::iter(claimed)
            .for_each_concurrent(FIRE_CONCURRENCY, |schedule| async move {
                let id = schedule.id;
                if let Err(error) = self.fire_schedule(schedule, holder, Pass::Due).await {
                    tracing::warn!(schedule_id = %id, %error, "could not fire the schedule; it is tried again once its claim lapses");
                }
            })
            .await;
        Ok(count)
    }

    /// The scheduler loop of one replica, until `shutdown` completes: fires what is due, then sleeps until the
    /// next schedule wakes (at most [`SCHEDULER_POLL`], for schedules changed on other replicas; one changed here
    /// wakes it at once).
    pub async fn run_scheduler(&self, holder: String, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let claimed = match self.fire_due_schedules(&holder).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(%error, "the scheduler could not claim due schedules; retrying");
                    0
                }
            };
            let pause = if claimed >= SCHEDULE_BATCH as usize { Duration::ZERO } else { self.until_next_wake().await };
            tokio::select! {
                () = &mut shutdown => return,
                () = self.inner.schedule_wakeup.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// How long until the next schedule wakes, at most [`SCHEDULER_POLL`].
    async fn until_next_wake(&self) -> Duration {
        match self.inner.store.system().next_schedule_wake().await {
            Ok(Some(at)) => (at - self.inner.clock.now()).to_std().unwrap_or(Duration::ZERO).min(SCHEDULER_POLL),
            Ok(None) => SCHEDULER_POLL,
            Err(error) => {
                tracing::warn!(%error, "the scheduler could not read when the next schedule is due");
                SCHEDULER_POLL
            }
        }
    }

    /// One pass over a schedule `holder` claimed (see the module's description). Returns what became of each fire
    /// it acted on; a conflict if the claim was overtaken before the state was written (the runs it started stand,
    /// and whoever holds the schedule now finds them by their keys).
    pub(crate) async fn fire_schedule(
        &self,
        mut schedule: Schedule,
        holder: &str,
        pass: Pass,
    ) -> Result<Vec<FireReport>> {
        let mut firing = match schedule.spec.timing() {
            Ok(timing) => self.prepare_firing(&schedule, timing).await?,
            Err(error) => {
                // Only a stored spec that a newer version of the cron parser refuses: park it rather than retry.
                tracing::error!(schedule_id = %schedule.id, %error, "the schedule's spec no longer parses; it fires no more until changed");
                schedule.next_fire_at = None;
                schedule.next_start_at = None;
                schedule.buffered.clear();
                schedule.set_wake(self.inner.clock.now());
                self.write_pass(&schedule, holder, &[]).await?;
                return Ok(Vec::new());
            }
        };
        self.start_buffered(&mut schedule, &mut firing).await?;
        let (fires, policy) = match pass {
            Pass::Due => (self.due_fires(&mut schedule, &mut firing), schedule.overlap_policy),
            Pass::Manual { fires, policy } => (fires, policy.unwrap_or(schedule.overlap_policy)),
        };
        for fire in fires {
            self.act_on(&mut schedule, fire, policy, &mut firing).await?;
        }
        schedule.updated_at = firing.now;
        schedule.set_wake(firing.now);
        self.write_pass(&schedule, holder, &firing.events).await?;
        let metrics = &self.inner.metrics;
        for report in &firing.reports {
            if report.outcome != FireOutcome::Skipped {
                metrics.schedules.fires_total.with_label_values(&[report.outcome.as_str()]).inc();
            }
        }
        for (reason, count) in &firing.skips {
            self.count_skips(*reason, *count);
        }
        for lag in &firing.lags {
            metrics.schedules.fire_lag_seconds.observe(*lag);
        }
        Ok(firing.reports)
    }

    /// Writes a pass's state and events, fenced by the claim.
    async fn write_pass(&self, schedule: &Schedule, holder: &str, events: &[Event]) -> Result<()> {
        let store = self.inner.store.tenant(schedule.tenant_id);
        if !store.advance_schedule(&ScheduleAdvance { schedule, holder, events }).await? {
            tracing::warn!(schedule_id = %schedule.id, holder, "the schedule was changed or claimed by another while it fired; its state stands");
            return Err(Error::Conflict("the schedule was changed while it fired; try again".into()));
        }
        if !events.is_empty() {
            self.events_stored();
        }
        Ok(())
    }

    /// What a pass needs to know before acting: whether the last run is still going.
    async fn prepare_firing(&self, schedule: &Schedule, timing: Timing) -> Result<Firing> {
        let store = self.inner.store.tenant(schedule.tenant_id);
        let now = self.inner.clock.now();
        let running = match schedule.last_run_id {
            Some(run) => store.get_run(run).await?.is_some_and(|run| !run.status.is_final()),
            None => false,
        };
        Ok(Firing {
            now,
            timing,
            admission: None,
            running,
            events: Vec::new(),
            reports: Vec::new(),
            skips: Vec::new(),
            lags: Vec::new(),
        })
    }

    /// Whether the schedule's runs may start now: its user is active (runs act as them), and its project has not
    /// spent its budget (a skip is recorded instead of runs that would fail).
    async fn admission(&self, schedule: &Schedule, now: crate::clock::Timestamp) -> Result<Admission> {
        let store = self.inner.store.tenant(schedule.tenant_id);
        let principal = match store.get_user(schedule.run_as).await? {
            Some(user) if user.active => Principal {
                tenant_id: schedule.tenant_id,
                user_id: user.id,
                credential: Credential::Schedule { id: schedule.id },
                permissions: user.permissions(),
                roles: user.roles,
            },
            _ => {
                let detail = "the user its runs act as is deactivated or deleted".to_owned();
                return Ok(Err((SkipReason::NotPermitted, detail)));
            }
        };
        let spent = store.budget_status(schedule.project_id, now).await?;
        if spent.is_some_and(|status| status.budget.is_some_and(|budget| status.spent >= budget)) {
            return Ok(Err((SkipReason::Budget, "the project has spent its budget".to_owned())));
        }
        Ok(Ok(principal))
    }

    /// Starts the buffered fires, oldest first, while the last run has ended.
    async fn start_buffered(&self, schedule: &mut Schedule, firing: &mut Firing) -> Result<()> {
        while !firing.running && !schedule.buffered.is_empty() {
            let fire = schedule.buffered.remove(0);
            self.start(schedule, fire, firing).await?;
        }
        Ok(())
    }

    /// The schedule's fire times due now, oldest first; moves its next fire time past them and records the ones
    /// later than the catch-up window as missed.
    fn due_fires(&self, schedule: &mut Schedule, firing: &mut Firing) -> Vec<Fire> {
        let Some(next) = schedule.next_fire_at.filter(|_| schedule.next_start_at.is_some_and(|s| s <= firing.now))
        else {
            return Vec::new();
        };
        let window = chrono::Duration::from_std(schedule.catchup_window).unwrap_or(chrono::Duration::MAX);
        let due = firing.timing.due(next, firing.now, window);
        if due.missed > 0 {
            let first = Fire::scheduled(schedule.id, next);
            let detail = due.missed_is_lower_bound.then_some("at least this many; counting stopped");
            self.skip(schedule, &first, SkipReason::Missed, detail, due.missed, firing);
        }
        let timing = firing.timing.clone();
        match due.next_fire_at {
            Some(after) => schedule.plan_next(&timing, after - chrono::Duration::milliseconds(1)),
            None => {
                schedule.next_fire_at = None;
                schedule.next_start_at = None;
            }
        }
        due.fire.into_iter().map(|at| Fire::scheduled(schedule.id, at)).collect()
    }

    /// Acts on one fire as `policy` says.
    async fn act_on(
        &self,
        schedule: &mut Schedule,
        fire: Fire,
        policy: OverlapPolicy,
        firing: &mut Firing,
    ) -> Result<()> {
        match policy.on_fire(firing.running, schedule.buffered.len()) {
            FireAction::Start => self.start(schedule, fire, firing).await,
            FireAction::Skip => {
                self.skip(schedule, &fire, SkipReason::Overlap, None, 1, firing);
                Ok(())
            }
            FireAction::Buffer => {
                buffer(schedule, fire, firing);
                Ok(())
            }
            FireAction::CancelThenStart => {
                if self.cancel_last_run(schedule, firing.now).await? {
                    firing.running = false;
                    return self.start(schedule, fire, firing).await;
                }
                // The last run stops at its next step: this fire starts once it has, and replaces any fire waiting.
                for older in std::mem::take(&mut schedule.buffered) {
                    self.skip(schedule, &older, SkipReason::Overlap, None, 1, firing);
                }
                buffer(schedule, fire, firing);
                Ok(())
            }
        }
    }

    /// Starts the fire's run (or finds the one an earlier holder started for it), unless the schedule may not.
    async fn start(&self, schedule: &mut Schedule, fire: Fire, firing: &mut Firing) -> Result<()> {
        if firing.admission.is_none() {
            firing.admission = Some(self.admission(schedule, firing.now).await?);
        }
        let principal = match &firing.admission {
            Some(Ok(principal)) => principal.clone(),
            Some(Err((reason, detail))) => {
                let (reason, detail) = (*reason, detail.clone());
                self.skip(schedule, &fire, reason, Some(&detail), 1, firing);
                return Ok(());
            }
            None => return Err(Error::Internal("a schedule's admission was not read".into())),
        };
        let mut run = match self.target_run(&principal, schedule).await {
            Ok(run) => run,
            Err(Error::MissingPermission(permission)) => {
                let detail = format!("the user its runs act as lacks `{}`", permission.as_str());
                self.skip(schedule, &fire, SkipReason::NotPermitted, Some(&detail), 1, firing);
                return Ok(());
            }
            Err(error) if !error.is_internal() => {
                self.skip(schedule, &fire, SkipReason::InvalidTarget, Some(&error.public_detail()), 1, firing);
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        run.idempotency_key = Some(fire.key.clone());
        let run = match self.insert_new_run(run, None).await {
            Ok(Some(run)) => run,
            // Another holder started this fire's run before it was overtaken: that run is the fire's.
            Ok(None) => {
                let store = self.inner.store.tenant(schedule.tenant_id);
                store.run_by_idempotency_key(&fire.key).await?.ok_or_else(|| {
                    Error::Conflict("the fire's idempotency key is held, but by no run; try again".into())
                })?
            }
            Err(Error::NotFound("project")) => {
                self.skip(schedule, &fire, SkipReason::InvalidTarget, Some("its project was deleted"), 1, firing);
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        let created = self.inner.clock.now();
        let lag = match fire.origin {
            FireOrigin::Scheduled => created - (fire.at + schedule.jitter_for(&firing.timing, fire.at)),
            FireOrigin::Trigger | FireOrigin::Backfill => chrono::Duration::zero(),
        };
        if fire.origin == FireOrigin::Scheduled {
            firing.lags.push(lag.num_microseconds().unwrap_or(0).max(0) as f64 / 1e6);
        }
        schedule.last_run_id = Some(run.id);
        schedule.last_fire_at = Some(schedule.last_fire_at.map_or(fire.at, |last| last.max(fire.at)));
        schedule.fires_started += 1;
        firing.running = !run.status.is_final();
        firing.events.push(Event::schedule_fired(schedule, &fire, run.id, lag, created));
        firing.reports.push(FireReport {
            fire_time: fire.at,
            origin: fire.origin,
            outcome: FireOutcome::Started,
            run_id: Some(run.id),
            reason: None,
            detail: None,
        });
        Ok(())
    }

    /// Records `count` fires, the first `fire`, as skipped for `reason`.
    fn skip(
        &self,
        schedule: &mut Schedule,
        fire: &Fire,
        reason: SkipReason,
        detail: Option<&str>,
        count: u64,
        firing: &mut Firing,
    ) {
        schedule.fires_skipped += count;
        firing.events.push(Event::schedule_skipped(schedule, fire, reason, detail, count, firing.now));
        firing.skips.push((reason, count));
        firing.reports.push(FireReport {
            fire_time: fire.at,
            origin: fire.origin,
            outcome: FireOutcome::Skipped,
            run_id: None,
            reason: Some(reason),
            detail: detail.map(str::to_owned),
        });
    }

    /// Cancels the schedule's last run (`cancel_other`); whether it has ended (else it stops at its next step).
    async fn cancel_last_run(&self, schedule: &Schedule, now: crate::clock::Timestamp) -> Result<bool> {
        let Some(id) = schedule.last_run_id else { return Ok(true) };
        let store = self.inner.store.tenant(schedule.tenant_id);
        let Some(run) = store.get_run(id).await? else { return Ok(true) };
        let event = Event::run_cancelled(&run, run.cost, now);
        let ended = match store.cancel_run(id, &event, now).await? {
            Some(crate::store::Cancellation::Cancelled(_)) => {
                self.events_stored();
                true
            }
            Some(crate::store::Cancellation::Requested(run)) => run.status == RunStatus::Cancelled,
            Some(crate::store::Cancellation::AlreadyEnded(_)) | None => true,
        };
        self.inner.run_signals.run_changed(id);
        Ok(ended)
    }
}

/// Keeps `fire` waiting for the last run to end.
fn buffer(schedule: &mut Schedule, fire: Fire, firing: &mut Firing) {
    firing.reports.push(FireReport {
        fire_time: fire.at,
        origin: fire.origin,
        outcome: FireOutcome::Buffered,
        run_id: None,
        reason: None,
        detail: None,
    });
    schedule.buffered.push(fire);
}
