//! Durable runs: queue a run, let any replica's worker claim it under a lease, keep the lease alive while working,
//! record the outcome; a run whose worker died is claimed again after its lease lapses (up to [`MAX_ATTEMPTS`],
//! then failed with a reason). Every write of a worker is fenced by its lease (worker and attempt); a worker that
//! could not renew for a full lease stops working, since another may hold the run by then.

use std::time::Duration;

use serde_json::json;
use tracing::Instrument;

use crate::Platform;
use crate::agents::{AgentKey, AgentSpec};
use crate::api::ExecuteRequest;
use crate::auth::Principal;
use crate::engine::agent_loop::AgentSpan;
use crate::engine::inline_runs::InlineSlot;
use crate::engine::{AgentTask, RunControl};
use crate::error::{Error, Result};
use crate::events::{Event, EventKind};
use crate::ids::RunId;
use crate::model::{
    Permission, Run, RunFinish, RunKind, RunLease, RunProgress, RunStatus, ValidationError, validate_text,
};
use crate::store::Cancellation;

/// Starts of one run before it is failed as repeatedly interrupted.
pub const MAX_ATTEMPTS: u32 = 3;
/// How long a worker's claim on a run lasts by default (see [`PlatformBuilder::run_lease`](crate::PlatformBuilder::run_lease)).
/// A working worker renews it every third of this, so a run may take longer than its lease.
pub const LEASE: chrono::Duration = chrono::Duration::minutes(10);
/// How often [`Platform::run_maintenance`] expires overdue approval requests.
pub const APPROVAL_SWEEP: Duration = Duration::from_secs(5);
/// How often the upkeep loop samples the usage gauges (a scan of every tenant's rows on PostgreSQL).
pub const USAGE_SAMPLE: Duration = Duration::from_secs(30);
/// Tenants and users with a run created within this window count as active.
pub const ACTIVE_WINDOW: chrono::Duration = chrono::Duration::hours(24);
/// The longest a caller may wait for a result in one request.
pub const MAX_WAIT: Duration = Duration::from_secs(crate::api::MAX_WAIT_SECS);
/// How soon a waiter first re-reads a run it waits for, in case it ends on another replica (an end in this
/// process wakes it at once); the interval doubles up to [`WAIT_POLL_MAX`] so idle waiters cost the store little.
const WAIT_POLL: Duration = Duration::from_millis(100);
/// The longest interval between a waiter's re-reads.
const WAIT_POLL_MAX: Duration = Duration::from_secs(1);
/// How often a worker reads its run for a cancel asked on another replica (one asked here wakes it at once).
const CANCEL_POLL: Duration = Duration::from_secs(1);
/// First wait before recording a run's outcome again after the store failed; doubles up to [`FINISH_RETRY_MAX`].
const FINISH_RETRY: Duration = Duration::from_millis(100);
/// Longest wait between attempts to record a run's outcome.
const FINISH_RETRY_MAX: Duration = Duration::from_secs(2);

/// Whether `principal` may cancel `run`: the permission that starts such a run (`agents:execute` or
/// `workflows:create`), and for somebody else's run also `approvals:approve`. [`Platform::cancel_run`] applies it;
/// a page asks it before offering a cancel button.
pub fn may_cancel(principal: &Principal, run: &Run) -> Result<()> {
    principal.require(match run.kind {
        RunKind::Agent => Permission::AgentsExecute,
        RunKind::Workflow => Permission::WorkflowsCreate,
    })?;
    if run.requested_by != principal.user_id {
        principal.require(Permission::ApprovalsApprove)?;
    }
    Ok(())
}

impl Platform {
    /// Queues a run of `agent`. Needs `agents:execute`; the agent and the project must exist in the tenant.
    pub async fn execute_agent(&self, principal: &Principal, agent: &str, request: ExecuteRequest) -> Result<Run> {
        self.execute_agent_keyed(principal, agent, request, None).await
    }

    /// [`execute_agent`](Self::execute_agent) under an idempotency key (the `Idempotency-Key` header): the same
    /// key with the same request within [`IDEMPOTENCY_WINDOW`](crate::model::IDEMPOTENCY_WINDOW) returns the run
    /// the first request started, and the same key with another request is a validation error.
    pub async fn execute_agent_keyed(
        &self,
        principal: &Principal,
        agent: &str,
        request: ExecuteRequest,
        idempotency_key: Option<&str>,
    ) -> Result<Run> {
        let (mut run, spec) = self.prepare_agent_run(principal, agent, &request).await?;
        run.idempotency_key = idempotency_key.map(validate_idempotency_key).transpose()?;
        self.submit_run(principal, run, request.wait, Some(spec)).await
    }

    /// The queued run `request` asks for, checked (permission, agent, task, token cap) but not stored, with the
    /// agent's spec as read for the check.
    pub(crate) async fn prepare_agent_run(
        &self,
        principal: &Principal,
        agent: &str,
        request: &ExecuteRequest,
    ) -> Result<(Run, AgentSpec)> {
        principal.require(Permission::AgentsExecute)?;
        let key = AgentKey::parse(agent).map_err(|_| Error::NotFound("agent"))?;
        let (spec, _) = self.agent_spec(principal.tenant_id, &key).await?;
        let task = validate_text("task", &request.task, 20_000)?;
        let token_cap = super::run_control::requested_token_cap(request.budget_tokens, request.context.as_ref())?;
        let mut input = json!({"task": task, "context": request.context});
        if let Some(cap) = token_cap {
            input["budget_tokens"] = json!(cap);
        }
        // A request may raise the agent's risk, never lower it: the spec's level is what approval gates go by.
        let risk_level = request.risk_level.map_or(spec.risk_level, |asked| asked.max(spec.risk_level));
        let now = self.inner.clock.now();
        Ok((Run::queued(principal.tenant_id, request.project_id, key, input, risk_level, principal.user_id, now), spec))
    }

    /// Stores a new run — gated behind an approval request when its risk needs one — and, with `wait`, waits
    /// for it to finish. `spec` is an agent run's spec as just read: a run worked here at once is stored with its
    /// `agent.started` and works with that spec (no second read, no second commit).
    pub(crate) async fn submit_run(
        &self,
        principal: &Principal,
        run: Run,
        wait: Option<u64>,
        spec: Option<AgentSpec>,
    ) -> Result<Run> {
        if wait.is_some_and(|w| w > MAX_WAIT.as_secs()) {
            return Err(ValidationError::new("wait", format!("must be at most {} seconds", MAX_WAIT.as_secs())).into());
        }
        if let Some(earlier) = self.idempotent_replay(&run).await? {
            return self.answer(principal, earlier, wait).await;
        }
        // A caller who waits has its run worked here, without the queue (see `inline_runs`), when a slot is free.
        let slot = wait.filter(|&seconds| seconds > 0).and_then(|_| self.inner.inline_runs.slot());
        let claimed_at = tokio::time::Instant::now();
        let inline = slot.as_ref().map(|slot| (slot.worker(), spec.is_some()));
        match self.insert_new_run(run.clone(), inline).await? {
            Some(run) if run.status == RunStatus::Running => match (slot, wait) {
                (Some(slot), Some(seconds)) => self.work_inline(principal, run, slot, claimed_at, seconds, spec).await,
                _ => Ok(run),
            },
            Some(run) => self.answer(principal, run, wait).await,
            // A request with the same key won the race: its run is the answer.
            None => match self.idempotent_replay(&run).await? {
                Some(earlier) => self.answer(principal, earlier, wait).await,
                None => Err(Error::Conflict("a run with this idempotency key was created meanwhile".into())),
            },
        }
    }

    /// Stores a new run — gated behind an approval request when its risk needs one — and wakes whoever it
    /// concerns; the run as stored, or `None` if another run holds its idempotency key. With `claim_for`, a run
    /// that needs no approval is stored already claimed by that lease holder (`running`, first attempt), for this
    /// process to work it, and with its `agent.started` when the flag beside it is set.
    pub(crate) async fn insert_new_run(&self, mut run: Run, claim_for: Option<(&str, bool)>) -> Result<Option<Run>> {
        let store = self.inner.store.tenant(run.tenant_id);
        // Whichever replica works the run, its spans join the trace of what created it.
        run.traceparent = run.traceparent.or_else(crate::telemetry::current_traceparent);
        let inserted = if self.needs_approval(run.tenant_id, run.risk_level).await? {
            run.status = RunStatus::AwaitingApproval;
            let approval = self.approval_for(&run);
            store.insert_gated_run(&run, &approval).await.map(|_| self.events_stored())
        } else if let Some((worker, started)) = claim_for {
            // The lease lasts `run_lease` from the insert, on the store's clock where it has one (see `insert_run`).
            run.status = RunStatus::Running;
            run.attempts = 1;
            run.lease_owner = Some(worker.to_owned());
            run.lease_expires_at = Some(run.updated_at + self.inner.run_lease);
            let data = super::agent_loop::agent_event_data(&run.agent, Some(run.id), run.project_id);
            let started = started.then(|| Event::new(run.tenant_id, EventKind::AgentStarted, data, run.created_at));
            let stored = store.insert_run(&run, started.as_slice()).await;
            if stored.is_ok() && started.is_some() {
                self.events_stored();
            }
            stored
        } else {
            store.insert_run(&run, &[]).await.map(|()| self.inner.run_signals.run_queued())
        };
        match inserted {
            Ok(()) => Ok(Some(run)),
            Err(crate::store::StoreError::Conflict { .. }) if run.idempotency_key.is_some() => Ok(None),
            // The project is checked by the insert itself (a missing one is a missing reference), which saves a
            // read and leaves no gap between check and write.
            Err(crate::store::StoreError::MissingReference { .. }) => Err(Error::NotFound("project")),
            Err(error) => Err(error.into()),
        }
    }

    /// The run an earlier request with `run`'s idempotency key started within the window, if the requests are the
    /// same (caller, kind, agent or workflow, project, input); the same key for another request is refused.
    async fn idempotent_replay(&self, run: &Run) -> Result<Option<Run>> {
        let Some(key) = &run.idempotency_key else { return Ok(None) };
        let store = self.inner.store.tenant(run.tenant_id);
        let Some(earlier) = store.run_by_idempotency_key(key).await? else { return Ok(None) };
        if earlier.created_at < run.created_at - crate::model::IDEMPOTENCY_WINDOW {
            return Ok(None);
        }
        let same = (earlier.requested_by, earlier.kind, &earlier.agent, earlier.project_id, &earlier.input)
            == (run.requested_by, run.kind, &run.agent, run.project_id, &run.input);
        if !same {
            let reason = "was used for a different request within the last 24 hours; use a new key";
            return Err(ValidationError::new("Idempotency-Key", reason).into());
        }
        Ok(Some(earlier))
    }

    /// The answer to a run's submission: the run as stored, or with `wait`, once it ends or the wait is over.
    async fn answer(&self, principal: &Principal, run: Run, wait: Option<u64>) -> Result<Run> {
        match wait {
            Some(seconds) if seconds > 0 => self.wait_for_run(principal, run.id, Duration::from_secs(seconds)).await,
            _ => Ok(run),
        }
    }

    /// A run of the caller's tenant.
    pub async fn get_run(&self, principal: &Principal, id: RunId) -> Result<Run> {
        self.inner.store.tenant(principal.tenant_id).get_run(id).await?.ok_or(Error::NotFound("run"))
    }

    /// Cancels a run of the caller's tenant. A queued run, or one waiting for approval (its request is withdrawn),
    /// ends `cancelled` at once with its `agent.cancelled` / `workflow.cancelled` event; a running one is marked,
    /// and its worker stops at its next step (before its next model or tool call: a call in flight finishes and is
    /// settled, and no hold stays behind), ending it `cancelled`. Cancelling a cancelled run answers it again; any
    /// other ended run is a conflict.
    ///
    /// Needs the permission that started it (`agents:execute` or `workflows:create`); cancelling somebody
    /// else's run also needs `approvals:approve`.
    pub async fn cancel_run(&self, principal: &Principal, id: RunId) -> Result<Run> {
        let store = self.inner.store.tenant(principal.tenant_id);
        let run = store.get_run(id).await?.ok_or(Error::NotFound("run"))?;
        may_cancel(principal, &run)?;
        let now = self.inner.clock.now();
        let event = Event::run_cancelled(&run, run.cost, now);
        let after = match store.cancel_run(id, &event, now).await?.ok_or(Error::NotFound("run"))? {
            Cancellation::Cancelled(run) => {
                self.events_stored();
                run
            }
            Cancellation::Requested(run) => run,
            // Asking again is not a mistake: the answer is the same (a client may repeat a cancel safely).
            Cancellation::AlreadyEnded(run) if run.status == RunStatus::Cancelled => return Ok(run),
            Cancellation::AlreadyEnded(run) => {
                return Err(Error::Conflict(format!("run {id} has already ended ({})", run.status.as_str())));
            }
        };
        // Wakes waiters, and the worker's watch if it runs here (other replicas' workers find the mark by polling).
        self.inner.run_signals.run_changed(id);
        Ok(after)
    }

    /// The cost records of a run of the caller's tenant, oldest first (any member may read them).
    pub async fn run_costs(&self, principal: &Principal, id: RunId) -> Result<Vec<crate::model::CostRecord>> {
        let store = self.inner.store.tenant(principal.tenant_id);
        store.get_run(id).await?.ok_or(Error::NotFound("run"))?;
        Ok(store.run_costs(id).await?)
    }

    /// A page of the caller's tenant's runs, newest first, filtered (any member may read them).
    pub async fn list_runs(
        &self,
        principal: &Principal,
        query: crate::store::RunQuery,
    ) -> Result<crate::store::Page<Run>> {
        Ok(self.inner.store.tenant(principal.tenant_id).list_runs(&query).await?)
    }

    /// The run once it is final, or as it stands after `wait` (at most [`MAX_WAIT`]).
    pub async fn wait_for_run(&self, principal: &Principal, id: RunId, wait: Duration) -> Result<Run> {
        let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
        let watch = self.inner.run_signals.watch(id);
        let mut poll = WAIT_POLL;
        loop {
            // Registered before reading, so an end signalled between the read and the sleep is not missed.
            let finished = watch.notify().notified();
            tokio::pin!(finished);
            finished.as_mut().enable();
            let run = self.get_run(principal, id).await?;
            let now = tokio::time::Instant::now();
            if run.status.is_final() || now >= deadline {
                return Ok(run);
            }
            tokio::select! {
                () = finished => {}
                () = tokio::time::sleep(poll.min(deadline - now)) => poll = (poll * 2).min(WAIT_POLL_MAX),
            }
        }
    }

    /// Claims and runs at most one run as `worker`; returns whether there was one.
    pub async fn work_once(&self, worker: &str) -> Result<bool> {
        let never = std::pin::pin!(futures_util::FutureExt::fuse(std::future::pending::<()>()));
        Ok(!matches!(self.work_turn(worker, never).await?, Turn::Idle))
    }

    /// One turn of a worker: claims at most one run and works it until it ends, the lease is lost or may have
    /// lapsed, or `shutdown` resolves (the run is then given back, its attempt not counted).
    async fn work_turn<S>(&self, worker: &str, shutdown: std::pin::Pin<&mut S>) -> Result<Turn>
    where
        S: futures_util::future::FusedFuture<Output = ()>,
    {
        let now = self.inner.clock.now();
        // Taken before the claim: the lease runs from no earlier than this, whichever clock the store uses.
        let claimed_at = tokio::time::Instant::now();
        let claimed = self.inner.store.system().claim_runs(worker, now, self.inner.run_lease, 1).await?;
        let Some(run) = claimed.into_iter().next() else { return Ok(Turn::Idle) };
        self.work_claimed(run, worker, claimed_at, shutdown, None).await;
        Ok(Turn::Worked)
    }

    /// Works the waited run this request stored claimed by `slot`'s holder (see `inline_runs`) in a task of its
    /// own, so that the run goes on if the caller goes away; answers with the run once it ends, or as it stands
    /// when the wait is over.
    async fn work_inline(
        &self,
        principal: &Principal,
        run: Run,
        slot: InlineSlot,
        claimed_at: tokio::time::Instant,
        wait: u64,
        spec: Option<AgentSpec>,
    ) -> Result<Run> {
        let (platform, id) = (self.clone(), run.id);
        let work = tokio::spawn(async move {
            let stopping = std::pin::pin!(futures_util::FutureExt::fuse(slot.stopping()));
            platform.work_claimed(run, slot.worker(), claimed_at, stopping, spec).await;
        });
        let wait = Duration::from_secs(wait).min(MAX_WAIT);
        // Ended, or still running after the wait: the stored run is the answer either way.
        if let Ok(Err(error)) = tokio::time::timeout(wait, work).await
            && error.is_panic()
        {
            tracing::error!(run_id = %id, %error, "working a run panicked");
        }
        self.get_run(principal, id).await
    }

    /// Works a run claimed under `worker`'s lease (taken no earlier than `claimed_at`) until it ends, the lease is
    /// lost or may have lapsed, or `shutdown` resolves (the run is then given back, its attempt not counted).
    async fn work_claimed<S>(
        &self,
        run: Run,
        worker: &str,
        claimed_at: tokio::time::Instant,
        mut shutdown: std::pin::Pin<&mut S>,
        accepted: Option<AgentSpec>,
    ) where
        S: futures_util::future::FusedFuture<Output = ()>,
    {
        let now = self.inner.clock.now();
        if run.attempts > 1 {
            // A run given back at shutdown keeps its attempt count; one claimed at a higher count was taken over.
            self.inner.metrics.runs.lease_takeovers_total.inc();
        }
        let renewed = parking_lot::Mutex::new(claimed_at);
        let finish = if run.attempts > MAX_ATTEMPTS {
            let reason = format!("interrupted {} times; not retried again", run.attempts - 1);
            let end = match run.kind {
                RunKind::Workflow => self.workflow_end_event(&run, Err(&reason), run.cost),
                RunKind::Agent => {
                    let data = json!({"agent": run.agent, "run_id": run.id, "project_id": run.project_id,
                        "reason": reason});
                    Event::new(run.tenant_id, EventKind::AgentFailed, data, now)
                }
            };
            let output = run.output.clone();
            let error_code = Some(crate::api::ProblemType::Internal.slug().to_owned());
            RunFinish {
                status: RunStatus::Failed,
                output,
                error: Some(reason),
                error_code,
                cost: run.cost,
                events: vec![end],
            }
        } else {
            let control = RunControl::for_run(&run);
            if control.has_token_cap() {
                // A run resumed by another attempt has spent part of its cap already: its cost records say how much.
                match self.inner.store.tenant(run.tenant_id).run_costs(run.id).await {
                    Ok(records) => control.record_earlier(&records),
                    Err(error) => {
                        tracing::warn!(run_id = %run.id, %error, "could not read the run's earlier token use")
                    }
                }
            }
            // An agent run's span is its agent's invocation, named by OpenTelemetry's GenAI conventions (one span
            // where a run span over an `invoke_agent` span would say the same twice).
            let (name, operation) = match run.kind {
                RunKind::Agent => (format!("invoke_agent {}", run.agent), Some("invoke_agent")),
                RunKind::Workflow => (format!("run {}", run.agent), None),
            };
            let span = tracing::info_span!(
                "run",
                otel.name = name.as_str(),
                gen_ai.operation.name = operation,
                gen_ai.agent.name = operation.and(Some(run.agent.as_str())),
                tenant_id = %run.tenant_id,
                run_id = %run.id,
                kind = run.kind.as_str(),
                agent = %run.agent,
                attempt = run.attempts,
                status = tracing::field::Empty,
                // The trace of the request that queued it, possibly on another replica.
                traceparent = run.traceparent.as_deref(),
            );
            let work = self.perform(&run, worker, &control, accepted).instrument(span.clone());
            let outcome = tokio::select! {
                // In this order: a run claimed as the replica stops is given back before any of it is worked, and a
                // cancel or a lost lease is seen before the work's next step (an unbiased select could finish a
                // quick run in its first poll instead, after its worker was told to stop or the run to end).
                biased;
                () = &mut shutdown => Err(Interrupted::Shutdown),
                never = self.watch_cancel(&run, &control) => match never {},
                interrupted = self.keep_lease(&run, worker, &renewed) => Err(interrupted),
                finish = work => finish.ok_or(Interrupted::LeaseLost),
            };
            match outcome {
                Ok(finish) => {
                    span.record("status", finish.status.as_str());
                    finish
                }
                Err(Interrupted::Shutdown) => {
                    self.give_back(&run, worker).await;
                    return;
                }
                Err(Interrupted::LeaseLost) => {
                    tracing::warn!(run_id = %run.id, worker, "lost the run's lease; stopped working on it");
                    return;
                }
                Err(Interrupted::LeaseMayHaveLapsed) => {
                    tracing::warn!(run_id = %run.id, worker, "could not renew the run's lease in time; stopped working on it");
                    return;
                }
            }
        };
        self.record_finish(&run, worker, &finish, &renewed).await;
        self.inner.run_signals.run_changed(run.id);
    }

    /// Records a run's outcome, retrying a failing store while the lease still holds: a completed result is not
    /// thrown away over a transient error (past the lease, another worker redoes the run).
    async fn record_finish(
        &self,
        run: &Run,
        worker: &str,
        finish: &RunFinish,
        renewed: &parking_lot::Mutex<tokio::time::Instant>,
    ) {
        let lease = self.lease_of(run, worker);
        let mut backoff = FINISH_RETRY;
        loop {
            match self.inner.store.tenant(run.tenant_id).finish_run(&lease, finish, self.inner.clock.now()).await {
                Ok(true) => {
                    if !finish.events.is_empty() {
                        self.events_stored();
                    }
                    if run.kind == RunKind::Workflow {
                        let took = (self.inner.clock.now() - run.created_at).to_std().unwrap_or_default();
                        self.inner.metrics.runs.workflow_ended(&run.agent, finish.status, took.as_secs_f64());
                    }
                    return;
                }
                Ok(false) => {
                    tracing::warn!(run_id = %run.id, worker, "lost the run's lease before finishing; another worker's result stands");
                    return;
                }
                Err(error) if tokio::time::Instant::now() + backoff < *renewed.lock() + self.lease_length() => {
                    tracing::warn!(run_id = %run.id, %error, ?backoff, "could not record the run's outcome; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(FINISH_RETRY_MAX);
                }
                Err(error) => {
                    tracing::error!(run_id = %run.id, %error, "could not record the run's outcome before its lease ran out; it will be redone");
                    return;
                }
            }
        }
    }

    /// Gives a run back unfinished (shutting down): queued again at once, its attempt not counted.
    async fn give_back(&self, run: &Run, worker: &str) {
        let lease = self.lease_of(run, worker);
        match self.inner.store.tenant(run.tenant_id).release_run(&lease, self.inner.clock.now()).await {
            Ok(true) => {
                tracing::info!(run_id = %run.id, worker, "shutting down; gave the run back to the queue");
                self.inner.run_signals.run_queued();
            }
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(run_id = %run.id, %error, "could not give the run back; it is taken over after its lease");
            }
        }
    }

    /// `worker`'s lease on the run it claimed (the claim's attempt is the fencing token).
    fn lease_of<'a>(&self, run: &Run, worker: &'a str) -> RunLease<'a> {
        RunLease { run: run.id, worker, attempt: run.attempts, duration: self.inner.run_lease }
    }

    /// The run lease as a monotonic duration.
    fn lease_length(&self) -> Duration {
        self.inner.run_lease.to_std().unwrap_or(Duration::from_secs(1))
    }

    /// Cancels `control` once a cancel is asked of `run` (a caller here wakes it at once; one on another replica is
    /// found by reading the run every [`CANCEL_POLL`]); never returns, so that it can sit beside the work.
    async fn watch_cancel(&self, run: &Run, control: &RunControl) -> std::convert::Infallible {
        if run.cancel_requested_at.is_some() {
            control.cancel();
        }
        let watch = self.inner.run_signals.watch(run.id);
        while !control.is_cancelled() {
            let changed = watch.notify().notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            let _ = tokio::time::timeout(CANCEL_POLL, changed).await;
            match self.inner.store.tenant(run.tenant_id).get_run(run.id).await {
                Ok(Some(now)) if now.cancel_requested_at.is_some() => control.cancel(),
                Ok(_) => {}
                Err(error) => tracing::debug!(run_id = %run.id, %error, "could not look for a cancel request"),
            }
        }
        std::future::pending().await
    }

    /// Does a claimed run's work and says how it ended; `None` if another worker took the run over meanwhile.
    /// `accepted`: see [`run_agent_reporting`](Self::run_agent_reporting).
    async fn perform(
        &self,
        run: &Run,
        worker: &str,
        control: &RunControl,
        accepted: Option<AgentSpec>,
    ) -> Option<RunFinish> {
        if run.kind == RunKind::Workflow {
            return self.perform_workflow(run, worker, control).await;
        }
        let task = AgentTask {
            tenant_id: run.tenant_id,
            project_id: run.project_id,
            run_id: Some(run.id),
            agent: run.agent.clone(),
            task: run.input["task"].as_str().unwrap_or_default().to_owned(),
            context: run.input.get("context").cloned().filter(|c| !c.is_null()),
            cleared_risk: Some(run.risk_level),
            control: control.clone(),
            acting_user: Some(run.requested_by),
            handoff_chain: Vec::new(),
            output_schema: None,
        };
        let (result, end) = self.run_agent_reporting(task, AgentSpan::Current, accepted).await;
        let events = end.into_iter().collect();
        Some(match result {
            Err(error) if matches!(error.cause(), Error::Cancelled) => {
                RunFinish::cancelled(control.cost_so_far(), events)
            }
            Ok(outcome) => RunFinish {
                status: RunStatus::Completed,
                cost: outcome.cost,
                output: serde_json::to_value(super::AgentRunOutput::from(outcome)).ok(),
                error: None,
                error_code: None,
                events,
            },
            Err(error) => RunFinish {
                status: RunStatus::Failed,
                output: None,
                error: Some(self.failure_reason(run, &error)),
                error_code: Some(error.code().to_owned()),
                cost: control.cost_so_far(),
                events,
            },
        })
    }

    /// Why `run` failed, as its tenant may read it ([`Error::public_detail`]); an internal cause is logged with
    /// the run's id and replaced by its code, which the tenant can quote to the operators.
    pub(crate) fn failure_reason(&self, run: &Run, error: &Error) -> String {
        if error.is_internal() {
            tracing::error!(run_id = %run.id, tenant_id = %run.tenant_id, %error, "run failed on an internal error");
            return format!("{} (code: {}, run {})", error.public_detail(), error.code(), run.id);
        }
        if let Error::Llm(cause) = error {
            tracing::warn!(run_id = %run.id, error = %cause, "run failed on its LLM provider");
        }
        error.public_detail()
    }

    /// Renews `worker`'s lease on `run` every third of the lease; returns only when the lease is lost, or when a
    /// full lease has passed since the last renewal that succeeded (the store may have handed the run to another
    /// worker by now, so this one must stop calling models and tools for it).
    async fn keep_lease(
        &self,
        run: &Run,
        worker: &str,
        renewed: &parking_lot::Mutex<tokio::time::Instant>,
    ) -> Interrupted {
        let lease = self.lease_length();
        let every = (lease / 3).max(Duration::from_millis(50));
        loop {
            let deadline = *renewed.lock() + lease;
            tokio::time::sleep_until((tokio::time::Instant::now() + every).min(deadline)).await;
            if tokio::time::Instant::now() >= deadline {
                return Interrupted::LeaseMayHaveLapsed;
            }
            let sent = tokio::time::Instant::now();
            match self.renew_lease(run, worker, None).await {
                Ok(true) => *renewed.lock() = sent,
                Ok(false) => return Interrupted::LeaseLost,
                // The store is unreachable: keep working and try again until the deadline above.
                Err(error) => tracing::warn!(run_id = %run.id, %error, "could not renew the run's lease"),
            }
        }
    }

    /// Periodic upkeep until `shutdown` resolves: every [`APPROVAL_SWEEP`], expires overdue approval requests
    /// (their runs end `denied`), settles LLM charges whose settlement failed
    /// ([`settle_pending_charges`](Self::settle_pending_charges)) and deletes what is past its retention
    /// ([`apply_retention`](Self::apply_retention): events, ended runs, cost records), and samples the pending webhook deliveries; every
    /// [`USAGE_SAMPLE`] (or the interval the builder set) it samples the platform's usage gauges
    /// ([`sample_usage`](Self::sample_usage)), at the loop's pace at most. Safe to run
    /// on every replica at once. On
    /// shutdown it tries the pending charges once more and logs any left, in full.
    pub async fn run_maintenance(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut last_usage = None;
        loop {
            if let Err(error) = self.expire_approvals().await {
                tracing::warn!(%error, "could not expire overdue approval requests");
            }
            self.settle_pending_charges().await;
            if let Err(error) = self.apply_retention().await {
                tracing::warn!(%error, "could not delete what is past its retention");
            }
            self.sample_pending_deliveries().await;
            if last_usage.is_none_or(|at: tokio::time::Instant| at.elapsed() >= self.inner.usage_sample) {
                self.sample_usage().await;
                last_usage = Some(tokio::time::Instant::now());
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(APPROVAL_SWEEP) => {}
            }
        }
        if self.settle_pending_charges().await > 0 {
            self.report_pending_charges();
        }
    }

    /// Samples the gauges of [`UsageMetrics`](crate::metrics::UsageMetrics) from the store (runs by status,
    /// tenants, users, storage); the upkeep loop calls it every [`USAGE_SAMPLE`] by default.
    pub async fn sample_usage(&self) {
        let now = self.inner.clock.now();
        match self.inner.store.system().usage(now - ACTIVE_WINDOW).await {
            Ok(usage) => self.inner.metrics.usage.sampled(&usage, now),
            Err(error) => tracing::warn!(%error, "could not sample the platform's usage"),
        }
    }

    /// Extends `worker`'s lease on `run` by a full lease from now, saving `progress` when given.
    pub(crate) async fn renew_lease(&self, run: &Run, worker: &str, progress: Option<&RunProgress>) -> Result<bool> {
        let lease = self.lease_of(run, worker);
        Ok(self.inner.store.tenant(run.tenant_id).renew_run(&lease, progress, self.inner.clock.now()).await?)
    }

    /// Works runs until `shutdown` resolves; when there is nothing to do, sleeps until a run is queued in this
    /// process or `idle` passes (runs queued by other replicas are found by that poll). A process that runs
    /// workers also runs [`run_maintenance`](Self::run_maintenance), so that approvals expire while every worker
    /// is busy. A run being worked when `shutdown` resolves is given back to the queue (its attempt not counted)
    /// for another worker to start at once.
    pub async fn run_worker(&self, worker: String, idle: Duration, shutdown: impl std::future::Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(futures_util::FutureExt::fuse(shutdown));
        loop {
            // Polled, not only asked whether it has ended: a shutdown signalled since the last poll stops the worker
            // before it claims again (the runs given back at shutdown are queued at that moment, for another
            // replica's workers, not this one's).
            if futures_util::future::FusedFuture::is_terminated(&*shutdown)
                || futures_util::FutureExt::now_or_never(shutdown.as_mut()).is_some()
            {
                return;
            }
            match self.work_turn(&worker, shutdown.as_mut()).await {
                // A shutdown during the turn has been seen (the run given back): the check above ends the loop.
                Ok(Turn::Worked) => {}
                Ok(Turn::Idle) => tokio::select! {
                    // Shutdown first: a run given back at shutdown wakes an idle worker, which must not claim it.
                    biased;
                    () = &mut shutdown => return,
                    () = self.inner.run_signals.queued() => {}
                    () = tokio::time::sleep(idle) => {}
                },
                Err(error) => {
                    tracing::warn!(%error, worker, "worker could not claim a run");
                    tokio::select! {
                        () = &mut shutdown => return,
                        () = tokio::time::sleep(idle) => {}
                    }
                }
            }
        }
    }
}

/// An `Idempotency-Key` as a run stores it: 1 to 255 visible ASCII characters.
pub(crate) fn validate_idempotency_key(key: &str) -> Result<String> {
    let visible = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > crate::model::MAX_IDEMPOTENCY_KEY_LEN || !visible {
        return Err(invalid_idempotency_key());
    }
    Ok(key.to_owned())
}

/// The refusal of an `Idempotency-Key` that is not 1 to 255 visible ASCII characters.
pub(crate) fn invalid_idempotency_key() -> Error {
    let reason = format!("must be 1 to {} visible ASCII characters", crate::model::MAX_IDEMPOTENCY_KEY_LEN);
    ValidationError::new("Idempotency-Key", reason).into()
}

/// What one turn of a worker did.
enum Turn {
    /// Nothing was claimable.
    Idle,
    /// A run was worked: to its end, until its lease was lost, or until shutdown (then it was given back).
    Worked,
}

/// Why a worker stopped working on a run before it ended.
enum Interrupted {
    /// Another worker holds the run now.
    LeaseLost,
    /// No renewal succeeded for a full lease: another worker may hold the run now.
    LeaseMayHaveLapsed,
    /// The worker is shutting down.
    Shutdown,
}
