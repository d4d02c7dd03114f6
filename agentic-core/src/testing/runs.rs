//! Runs: insertion, claiming with leases across tenants, finishing only by the lease holder.

use std::sync::Arc;

use chrono::Duration;

use super::fixtures::{now, project, tenant_with_admin, tenant_with_project};
use super::{Case, case};
use crate::clock::Timestamp;
use crate::events::{Event, EventKind};
use crate::ids::{ProjectId, TenantId, UserId};
use crate::model::RiskLevel;
use crate::model::{Approval, ApprovalStatus, Money, Run, RunFinish, RunKind, RunLease, RunProgress, RunStatus};
use crate::store::EventQuery;
use crate::store::{Store, StoreError};

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(runs_are_claimed_once_and_reclaimed_after_their_lease),
        case!(a_renewed_lease_keeps_the_run_and_saves_progress),
        case!(overdue_approvals_expire_across_tenants_and_deny_their_runs),
        case!(runs_are_listed_newest_first_filtered_and_paged),
        case!(cancelling_ends_waiting_runs_marks_running_ones_and_leaves_ended_ones),
        case!(an_idempotency_key_names_one_run_of_its_tenant_for_a_day),
        case!(a_run_is_stored_with_its_start_event_or_neither_is),
    ]
}

async fn an_idempotency_key_names_one_run_of_its_tenant_for_a_day(store: Arc<dyn Store>) {
    let (a, admin, p) = tenant_with_project(&*store, "alpha").await;
    let (b, b_admin, pb) = tenant_with_project(&*store, "bravo").await;
    let t0 = now();
    let keyed = |tenant: TenantId, project: ProjectId, by: UserId, at: Timestamp| Run {
        idempotency_key: Some("order-1".into()),
        ..run(tenant, project, by, at)
    };
    let first = keyed(a.id, p.id, admin.user.id, t0);
    store.tenant(a.id).insert_run(&first, &[]).await.unwrap();
    assert_eq!(store.tenant(a.id).run_by_idempotency_key("order-1").await.unwrap().map(|r| r.id), Some(first.id));
    assert_eq!(store.tenant(a.id).run_by_idempotency_key("order-2").await.unwrap(), None);

    // Within the window the key is taken, for plain and gated runs alike; another tenant has keys of its own.
    let soon = t0 + Duration::hours(23);
    let second = keyed(a.id, p.id, admin.user.id, soon);
    assert!(matches!(store.tenant(a.id).insert_run(&second, &[]).await, Err(StoreError::Conflict { .. })));
    let mut waiting = keyed(a.id, p.id, admin.user.id, soon);
    let request = gated(&mut waiting, soon + Duration::hours(1));
    let refused = store.tenant(a.id).insert_gated_run(&waiting, &request).await;
    assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
    assert_eq!(store.tenant(a.id).get_run(waiting.id).await.unwrap(), None, "nothing of it was stored");
    assert_eq!(store.tenant(b.id).run_by_idempotency_key("order-1").await.unwrap(), None);
    store.tenant(b.id).insert_run(&keyed(b.id, pb.id, b_admin.user.id, soon), &[]).await.unwrap();

    // Past the window a new run takes the key over; the old one keeps no key.
    let later = keyed(a.id, p.id, admin.user.id, t0 + Duration::hours(25));
    store.tenant(a.id).insert_run(&later, &[]).await.unwrap();
    assert_eq!(store.tenant(a.id).run_by_idempotency_key("order-1").await.unwrap().map(|r| r.id), Some(later.id));
    assert_eq!(store.tenant(a.id).get_run(first.id).await.unwrap().unwrap().idempotency_key, None);
}

/// A run inserted with events (a claimed run's `agent.started`) stores them with it; an insert refused (its
/// idempotency key taken) stores neither.
async fn a_run_is_stored_with_its_start_event_or_neither_is(store: Arc<dyn Store>) {
    let (t, admin, p) = tenant_with_project(&*store, "started").await;
    let handle = store.tenant(t.id);
    let started = |run: &Run| {
        let data = serde_json::json!({"agent": run.agent, "run_id": run.id, "project_id": run.project_id});
        Event::new(t.id, EventKind::AgentStarted, data, run.created_at)
    };
    let of_run = |run: &Run| EventQuery { run_id: Some(run.id), ..EventQuery::default() };
    let first = Run { idempotency_key: Some("start-1".into()), ..run(t.id, p.id, admin.user.id, now()) };
    handle.insert_run(&first, &[started(&first)]).await.unwrap();
    let stored = handle.list_events(&of_run(&first)).await.unwrap().data;
    assert_eq!(stored.iter().map(|e| e.kind).collect::<Vec<_>>(), [EventKind::AgentStarted]);
    assert_eq!(stored[0].run_id, Some(first.id));

    let again = Run { idempotency_key: Some("start-1".into()), ..run(t.id, p.id, admin.user.id, now()) };
    let refused = handle.insert_run(&again, &[started(&again)]).await;
    assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
    assert_eq!(handle.get_run(again.id).await.unwrap(), None);
    assert!(handle.list_events(&of_run(&again)).await.unwrap().data.is_empty(), "nor its event");
}

async fn cancelling_ends_waiting_runs_marks_running_ones_and_leaves_ended_ones(store: Arc<dyn Store>) {
    use crate::store::Cancellation;
    let (a, admin) = tenant_with_admin(&*store, "alpha").await;
    let (b, _) = tenant_with_admin(&*store, "bravo").await;
    let p = project(a.id, None, admin.user.id);
    store.tenant(a.id).insert_project(&p).await.unwrap();
    let t0 = now();
    let (queued, mut waiting, working) =
        (run(a.id, p.id, admin.user.id, t0), run(a.id, p.id, admin.user.id, t0), run(a.id, p.id, admin.user.id, t0));
    let request = gated(&mut waiting, t0 + Duration::hours(1));
    store.tenant(a.id).insert_run(&queued, &[]).await.unwrap();
    store.tenant(a.id).insert_gated_run(&waiting, &request).await.unwrap();
    store.tenant(a.id).insert_run(&working, &[]).await.unwrap();
    let of_run = |run: &Run| EventQuery { run_id: Some(run.id), ..EventQuery::default() };
    let at = now();

    // Another tenant sees no run; an event of another tenant is refused and changes nothing.
    let event = Event::run_cancelled(&queued, Money::ZERO, at);
    let foreign = Event::run_cancelled(&Run { tenant_id: b.id, ..queued.clone() }, Money::ZERO, at);
    assert_eq!(store.tenant(b.id).cancel_run(queued.id, &foreign, at).await.unwrap(), None);
    assert!(store.tenant(a.id).cancel_run(queued.id, &foreign, at).await.is_err());
    assert_eq!(store.tenant(a.id).get_run(queued.id).await.unwrap().unwrap().status, RunStatus::Queued);

    // A queued run ends now, with its event, once; it is never claimed.
    match store.tenant(a.id).cancel_run(queued.id, &event, at).await.unwrap() {
        Some(Cancellation::Cancelled(run)) => {
            assert_eq!((run.status, run.error.as_deref()), (RunStatus::Cancelled, Some(crate::model::CANCELLED)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(store.tenant(a.id).list_events(&of_run(&queued)).await.unwrap().data, vec![event.clone()]);
    let again = store.tenant(a.id).cancel_run(queued.id, &event, at).await.unwrap();
    assert!(matches!(again, Some(Cancellation::AlreadyEnded(_))), "{again:?}");
    assert_eq!(store.tenant(a.id).list_events(&of_run(&queued)).await.unwrap().data.len(), 1, "stored once");

    // A gated run ends with its request withdrawn; deciding it afterwards changes nothing.
    let gated_event = Event::run_cancelled(&waiting, Money::ZERO, at);
    let cancelled = store.tenant(a.id).cancel_run(waiting.id, &gated_event, at).await.unwrap();
    assert!(matches!(cancelled, Some(Cancellation::Cancelled(ref r)) if r.status == RunStatus::Cancelled));
    let withdrawn = store.tenant(a.id).get_approval(request.id).await.unwrap().unwrap();
    assert_eq!((withdrawn.status, withdrawn.decided_at.is_some()), (ApprovalStatus::Cancelled, true));
    let decided = store.tenant(a.id).decide_approval(request.id, &verdict(true, admin.user.id, now())).await;
    assert!(!matches!(decided, Ok(Some(ref d)) if d.approval.status == ApprovalStatus::Approved), "{decided:?}");
    assert_eq!(store.tenant(a.id).get_run(waiting.id).await.unwrap().unwrap().status, RunStatus::Cancelled);

    // A running run is only marked (the first request's time stays), without an event; its worker ends it.
    let claimed = store.system().claim_runs("w1", now(), LEASE, 5).await.unwrap();
    assert_eq!(claimed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![working.id], "cancelled runs are not claimed");
    let running_event = Event::run_cancelled(&working, Money::ZERO, at);
    let marked = match store.tenant(a.id).cancel_run(working.id, &running_event, at).await.unwrap() {
        Some(Cancellation::Requested(run)) => run,
        other => panic!("{other:?}"),
    };
    assert_eq!((marked.status, marked.cancel_requested_at), (RunStatus::Running, Some(at)));
    let later = at + Duration::seconds(5);
    let remarked = store.tenant(a.id).cancel_run(working.id, &running_event, later).await.unwrap();
    assert!(matches!(remarked, Some(Cancellation::Requested(ref r)) if r.cancel_requested_at == Some(at)));
    assert!(store.tenant(a.id).list_events(&of_run(&working)).await.unwrap().data.is_empty());
    let read = store.tenant(a.id).get_run(working.id).await.unwrap().unwrap();
    assert_eq!(read.cancel_requested_at, Some(at), "the mark is what a worker on any replica reads");
    let end = RunFinish::cancelled(Money::from_nanos(3), vec![running_event.clone()]);
    assert!(store.tenant(a.id).finish_run(&lease(working.id, "w1", 1), &end, now()).await.unwrap());
    let ended = store.tenant(a.id).get_run(working.id).await.unwrap().unwrap();
    assert_eq!((ended.status, ended.cost.nanos()), (RunStatus::Cancelled, 3));
    assert!(matches!(
        store.tenant(a.id).cancel_run(working.id, &running_event, now()).await.unwrap(),
        Some(Cancellation::AlreadyEnded(_))
    ));
}

pub(super) fn run(tenant: TenantId, project: ProjectId, by: UserId, at: Timestamp) -> Run {
    Run::queued(tenant, project, "qa_tester", serde_json::json!({"task": "test it"}), RiskLevel::Low, by, at)
}

async fn runs_are_claimed_once_and_reclaimed_after_their_lease(store: Arc<dyn Store>) {
    let (a, a_admin) = tenant_with_admin(&*store, "alpha").await;
    let (b, b_admin) = tenant_with_admin(&*store, "bravo").await;
    let pa = project(a.id, None, a_admin.user.id);
    let pb = project(b.id, None, b_admin.user.id);
    store.tenant(a.id).insert_project(&pa).await.unwrap();
    store.tenant(b.id).insert_project(&pb).await.unwrap();
    let t0 = now();
    let first = run(a.id, pa.id, a_admin.user.id, t0);
    let second = run(b.id, pb.id, b_admin.user.id, t0);
    let third = run(a.id, pa.id, a_admin.user.id, t0);
    for r in [&first, &third] {
        store.tenant(a.id).insert_run(r, &[]).await.unwrap();
    }
    store.tenant(b.id).insert_run(&second, &[]).await.unwrap();
    assert!(matches!(
        store.tenant(a.id).insert_run(&run(a.id, pb.id, a_admin.user.id, t0), &[]).await,
        Err(StoreError::MissingReference { .. })
    ));
    assert_eq!(store.tenant(b.id).get_run(first.id).await.unwrap(), None);

    // Two workers split the queue, oldest first; nobody gets a run twice.
    let w1 = store.system().claim_runs("w1", now(), LEASE, 2).await.unwrap();
    assert_eq!(w1.iter().map(|r| r.id).collect::<Vec<_>>(), vec![first.id, second.id]);
    assert!(
        w1.iter().all(|r| r.status == RunStatus::Running && r.attempts == 1 && r.lease_owner.as_deref() == Some("w1"))
    );
    let w2 = store.system().claim_runs("w2", now(), LEASE, 5).await.unwrap();
    assert_eq!(w2.iter().map(|r| r.id).collect::<Vec<_>>(), vec![third.id]);
    assert!(store.system().claim_runs("w3", now(), LEASE, 5).await.unwrap().is_empty());

    // w1 finishes the first; only the lease holder, at its attempt, may — and its end's event is stored with
    // the outcome, once (the outbox): not for a refused finish, and never into another tenant.
    let end_event = |tenant: TenantId, run: &Run| {
        let data = serde_json::json!({"agent": "qa_tester", "run_id": run.id, "project_id": run.project_id,
            "cost": "0.000000007"});
        Event::new(tenant, EventKind::AgentCompleted, data, now())
    };
    let done = RunFinish {
        status: RunStatus::Completed,
        output: Some(serde_json::json!({"answer": 42})),
        error: None,
        error_code: None,
        cost: Money::from_nanos(7),
        events: vec![end_event(a.id, &first)],
    };
    let of_run = |run: &Run| EventQuery { run_id: Some(run.id), ..EventQuery::default() };
    assert!(!store.tenant(a.id).finish_run(&lease(first.id, "w2", 1), &done, now()).await.unwrap());
    assert!(!store.tenant(a.id).finish_run(&lease(first.id, "w1", 2), &done, now()).await.unwrap());
    assert!(store.tenant(a.id).list_events(&of_run(&first)).await.unwrap().data.is_empty(), "refused: no event");
    let foreign = RunFinish { events: vec![end_event(b.id, &first)], ..done.clone() };
    assert!(store.tenant(a.id).finish_run(&lease(first.id, "w1", 1), &foreign, now()).await.is_err());
    let untouched = store.tenant(a.id).get_run(first.id).await.unwrap().unwrap();
    assert_eq!(untouched.status, RunStatus::Running, "a refused event leaves the run as it was");
    assert!(store.tenant(b.id).list_events(&of_run(&first)).await.unwrap().data.is_empty());
    assert!(store.tenant(a.id).finish_run(&lease(first.id, "w1", 1), &done, now()).await.unwrap());
    let finished = store.tenant(a.id).get_run(first.id).await.unwrap().unwrap();
    assert_eq!((finished.status, finished.cost.nanos(), finished.lease_owner), (RunStatus::Completed, 7, None));
    let twice = store.tenant(a.id).finish_run(&lease(first.id, "w1", 1), &done, now()).await.unwrap();
    assert!(!twice, "finishing twice is refused");
    assert_eq!(store.tenant(a.id).list_events(&of_run(&first)).await.unwrap().data, done.events, "stored once");

    // w1 "dies" holding the second run; after its lease lapses (on the store's clock) another worker takes it over.
    lapse().await;
    let retaken = store.system().claim_runs("w4", now(), LEASE, 5).await.unwrap();
    assert_eq!(retaken.iter().map(|r| (r.id, r.attempts)).collect::<Vec<_>>(), vec![(second.id, 2), (third.id, 2)]);
    let done_b = RunFinish { events: vec![end_event(b.id, &second)], ..done.clone() };
    let stale = store.tenant(b.id).finish_run(&lease(second.id, "w1", 1), &done_b, now()).await.unwrap();
    assert!(!stale, "the old holder lost it");
    let failed = RunFinish {
        status: RunStatus::Failed,
        output: None,
        error: Some("boom".into()),
        error_code: Some("llm-failed".into()),
        cost: Money::ZERO,
        events: Vec::new(),
    };
    assert!(store.tenant(b.id).finish_run(&lease(second.id, "w4", 2), &failed, now()).await.unwrap());
    let failed_run = store.tenant(b.id).get_run(second.id).await.unwrap().unwrap();
    assert_eq!((failed_run.error.as_deref(), failed_run.error_code.as_deref()), (Some("boom"), Some("llm-failed")));

    // A worker restarted under the same name takes over its own lapsed run: the attempt tells the two apart.
    lapse().await;
    let again = store.system().claim_runs("w4", now(), LEASE, 5).await.unwrap();
    assert_eq!(again.iter().map(|r| (r.id, r.attempts)).collect::<Vec<_>>(), vec![(third.id, 3)]);
    assert!(!store.tenant(a.id).renew_run(&lease(third.id, "w4", 2), None, now()).await.unwrap(), "fenced");
    assert!(!store.tenant(a.id).finish_run(&lease(third.id, "w4", 2), &done, now()).await.unwrap(), "fenced");
    assert!(store.tenant(a.id).renew_run(&lease(third.id, "w4", 3), None, now()).await.unwrap());

    // Shutting down, the holder gives the run back: queued at once, the attempt not counted; a stale token cannot.
    assert!(!store.tenant(a.id).release_run(&lease(third.id, "w4", 2), now()).await.unwrap());
    assert!(store.tenant(a.id).release_run(&lease(third.id, "w4", 3), now()).await.unwrap());
    let released = store.tenant(a.id).get_run(third.id).await.unwrap().unwrap();
    assert_eq!((released.status, released.attempts, released.lease_owner), (RunStatus::Queued, 2, None));
    let next = store.system().claim_runs("w5", now(), LEASE, 5).await.unwrap();
    assert_eq!(next.iter().map(|r| (r.id, r.attempts)).collect::<Vec<_>>(), vec![(third.id, 3)], "no lease wait");
}

/// The lease the conformance cases claim with: short, so that a lapse is a real wait on every store's clock.
const LEASE: Duration = Duration::milliseconds(1500);

fn lease(run: crate::ids::RunId, worker: &str, attempt: u32) -> RunLease<'_> {
    RunLease { run, worker, attempt, duration: LEASE }
}

/// Waits out [`LEASE`] (stores with a clock of their own measure leases on it, not on the caller's timestamps).
async fn lapse() {
    tokio::time::sleep((LEASE + Duration::milliseconds(300)).to_std().unwrap()).await;
}

async fn a_renewed_lease_keeps_the_run_and_saves_progress(store: Arc<dyn Store>) {
    let (a, admin) = tenant_with_admin(&*store, "alpha").await;
    let (b, _) = tenant_with_admin(&*store, "bravo").await;
    let p = project(a.id, None, admin.user.id);
    store.tenant(a.id).insert_project(&p).await.unwrap();
    let t0 = now();
    let mut workflow = run(a.id, p.id, admin.user.id, t0);
    workflow.kind = RunKind::Workflow;
    workflow.agent = "project_pipeline".into();
    store.tenant(a.id).insert_run(&workflow, &[]).await.unwrap();
    assert_eq!(store.tenant(a.id).get_run(workflow.id).await.unwrap().unwrap().kind, RunKind::Workflow);

    assert_eq!(store.system().claim_runs("w1", now(), LEASE, 1).await.unwrap().len(), 1);
    let progress = RunProgress { output: serde_json::json!({"done": ["plan"]}), cost: Money::from_nanos(11) };
    let longer = RunLease { duration: LEASE * 3, ..lease(workflow.id, "w1", 1) };
    assert!(store.tenant(a.id).renew_run(&longer, Some(&progress), now()).await.unwrap());
    assert!(!store.tenant(a.id).renew_run(&lease(workflow.id, "w2", 1), None, now()).await.unwrap());
    assert!(!store.tenant(b.id).renew_run(&lease(workflow.id, "w1", 1), None, now()).await.unwrap());
    let saved = store.tenant(a.id).get_run(workflow.id).await.unwrap().unwrap();
    assert_eq!((saved.output, saved.cost.nanos()), (Some(progress.output.clone()), 11));
    assert!(saved.lease_expires_at.is_some_and(|until| until > now() + LEASE), "renewed for the longer lease");

    // Past the first lease but within the renewed one, nobody else may claim it.
    lapse().await;
    assert!(store.system().claim_runs("w2", now(), LEASE, 1).await.unwrap().is_empty());
    // A renewal without progress keeps what was saved.
    assert!(store.tenant(a.id).renew_run(&lease(workflow.id, "w1", 1), None, now()).await.unwrap());
    assert_eq!(store.tenant(a.id).get_run(workflow.id).await.unwrap().unwrap().cost.nanos(), 11);

    // Once the holder stops renewing, another worker takes it over with the saved progress; the old holder can no
    // longer renew.
    lapse().await;
    let retaken = store.system().claim_runs("w2", now(), LEASE, 1).await.unwrap();
    assert_eq!(retaken.len(), 1);
    assert_eq!((retaken[0].attempts, retaken[0].output.clone()), (2, Some(progress.output)));
    assert!(!store.tenant(a.id).renew_run(&lease(workflow.id, "w1", 1), None, now()).await.unwrap());
}

fn verdict(approve: bool, by: crate::ids::UserId, at: Timestamp) -> crate::model::Verdict {
    crate::model::Verdict { approve, by, comment: None, at }
}

pub(super) fn gated(run: &mut Run, expires_at: Timestamp) -> Approval {
    run.status = RunStatus::AwaitingApproval;
    Approval::pending_for(run, expires_at)
}

async fn overdue_approvals_expire_across_tenants_and_deny_their_runs(store: Arc<dyn Store>) {
    let (a, a_admin, pa) = tenant_with_project(&*store, "alpha").await;
    let (b, b_admin, pb) = tenant_with_project(&*store, "bravo").await;
    let t0 = now();
    let (soon, later) = (t0 + Duration::minutes(1), t0 + Duration::hours(1));
    let mut overdue_a = run(a.id, pa.id, a_admin.user.id, t0);
    let mut overdue_b = run(b.id, pb.id, b_admin.user.id, t0);
    let mut decided = run(a.id, pa.id, a_admin.user.id, t0);
    let mut fresh = run(b.id, pb.id, b_admin.user.id, t0);
    let requests = [
        (a.id, gated(&mut overdue_a, soon), overdue_a.clone()),
        (b.id, gated(&mut overdue_b, soon + Duration::seconds(1)), overdue_b.clone()),
        (a.id, gated(&mut decided, soon), decided.clone()),
        (b.id, gated(&mut fresh, later), fresh.clone()),
    ];
    for (tenant, approval, run) in &requests {
        let event = store.tenant(*tenant).insert_gated_run(run, approval).await.unwrap();
        assert_eq!((event.kind, event.run_id), (EventKind::ApprovalRequested, Some(run.id)));
    }
    let approved = store.tenant(a.id).decide_approval(requests[2].1.id, &verdict(true, a_admin.user.id, t0)).await;
    let approved = approved.unwrap().unwrap();
    assert_eq!((approved.approval.status, approved.changed), (ApprovalStatus::Approved, true));
    let again = store.tenant(a.id).decide_approval(requests[2].1.id, &verdict(false, a_admin.user.id, t0)).await;
    let again = again.unwrap().unwrap();
    assert_eq!((again.approval.status, again.changed), (ApprovalStatus::Approved, false), "decided once");
    assert!(again.event.is_none(), "an unchanged request stores no event");

    // The outbox: each change's event is stored with it, in its tenant, exactly once.
    let stored = store.tenant(a.id).list_events(&EventQuery::default()).await.unwrap().data;
    let kinds: Vec<_> = stored.iter().map(|e| (e.kind, e.run_id)).collect();
    assert_eq!(
        kinds,
        vec![
            (EventKind::ApprovalApproved, Some(decided.id)),
            (EventKind::ApprovalRequested, Some(decided.id)),
            (EventKind::ApprovalRequested, Some(overdue_a.id)),
        ]
    );
    assert_eq!(Some(&stored[0]), approved.event.as_ref(), "the event returned is the event stored");
    assert_eq!(stored[0].data["by"], serde_json::json!(a_admin.user.id));
    assert_eq!(store.tenant(b.id).list_events(&EventQuery::default()).await.unwrap().data.len(), 2);

    assert!(store.system().expire_approvals(t0, 10).await.unwrap().is_empty(), "nothing is due yet");
    let at = soon + Duration::seconds(5);
    let first = store.system().expire_approvals(at, 1).await.unwrap();
    let ids = first.iter().map(|x| x.approval.id).collect::<Vec<_>>();
    assert_eq!(ids, vec![requests[0].1.id], "the limit holds, oldest first");
    let rest = store.system().expire_approvals(at, 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|x| (x.approval.id, x.approval.status)).collect::<Vec<_>>(),
        vec![(requests[1].1.id, ApprovalStatus::Expired)]
    );
    // Each expiry's event was stored with it (the outbox), in the request's tenant.
    for (decision, (tenant, _, run)) in first.iter().chain(&rest).zip(&requests[..2]) {
        let event = decision.event.clone().unwrap();
        assert_eq!((event.kind, event.tenant_id, event.run_id), (EventKind::ApprovalExpired, *tenant, Some(run.id)));
        let of_run =
            EventQuery { run_id: Some(run.id), kind: Some(EventKind::ApprovalExpired), ..EventQuery::default() };
        assert_eq!(store.tenant(*tenant).list_events(&of_run).await.unwrap().data, vec![event]);
    }
    for (tenant, approval, run) in &requests[..2] {
        let stored = store.tenant(*tenant).get_run(run.id).await.unwrap().unwrap();
        assert_eq!((stored.status, stored.error.as_deref()), (RunStatus::Denied, Some("approval expired")));
        let request = store.tenant(*tenant).get_approval(approval.id).await.unwrap().unwrap();
        assert_eq!((request.status, request.decided_at, request.decided_by), (ApprovalStatus::Expired, Some(at), None));
    }
    assert_eq!(store.tenant(a.id).get_run(decided.id).await.unwrap().unwrap().status, RunStatus::Queued);
    assert_eq!(store.tenant(b.id).get_run(fresh.id).await.unwrap().unwrap().status, RunStatus::AwaitingApproval);
    assert!(store.system().expire_approvals(at, 10).await.unwrap().is_empty(), "each request expires once");
}

async fn runs_are_listed_newest_first_filtered_and_paged(store: Arc<dyn Store>) {
    use crate::store::RunQuery;
    let (a, a_admin) = tenant_with_admin(&*store, "alpha").await;
    let (b, b_admin) = tenant_with_admin(&*store, "bravo").await;
    let (p1, p2) = (project(a.id, None, a_admin.user.id), project(a.id, None, a_admin.user.id));
    let pb = project(b.id, None, b_admin.user.id);
    store.tenant(a.id).insert_project(&p1).await.unwrap();
    store.tenant(a.id).insert_project(&p2).await.unwrap();
    store.tenant(b.id).insert_project(&pb).await.unwrap();
    let mut made = Vec::new();
    for i in 0..5 {
        let mut r = run(a.id, if i < 3 { p1.id } else { p2.id }, a_admin.user.id, now());
        if i == 4 {
            r.kind = RunKind::Workflow;
            r.agent = "project_pipeline".into();
        }
        store.tenant(a.id).insert_run(&r, &[]).await.unwrap();
        made.push(r.id);
    }
    store.tenant(b.id).insert_run(&run(b.id, pb.id, b_admin.user.id, now()), &[]).await.unwrap();
    let ids = |query: RunQuery| {
        let store = Arc::clone(&store);
        async move { store.tenant(a.id).list_runs(&query).await.unwrap() }
    };
    let newest_first: Vec<_> = made.iter().rev().copied().collect();
    assert_eq!(ids(RunQuery::default()).await.data.iter().map(|r| r.id).collect::<Vec<_>>(), newest_first);
    let first = ids(RunQuery { limit: Some(2), ..RunQuery::default() }).await;
    assert_eq!(first.data.iter().map(|r| r.id).collect::<Vec<_>>(), newest_first[..2]);
    let cursor = first.next_cursor.map(crate::ids::RunId::from_uuid);
    let rest = ids(RunQuery { after: cursor, limit: Some(10), ..RunQuery::default() }).await;
    assert_eq!((rest.data.len(), rest.next_cursor), (3, None));
    let of_p1 = ids(RunQuery { project_id: Some(p1.id), ..RunQuery::default() }).await;
    assert_eq!(of_p1.data.len(), 3);
    let workflows = ids(RunQuery { kind: Some(RunKind::Workflow), ..RunQuery::default() }).await;
    assert_eq!(workflows.data.iter().map(|r| r.id).collect::<Vec<_>>(), [made[4]]);
    let by_agent =
        ids(RunQuery { agent: Some("qa_tester".into()), status: Some(RunStatus::Queued), ..RunQuery::default() });
    assert_eq!(by_agent.await.data.len(), 4);
    let done = ids(RunQuery { status: Some(RunStatus::Completed), ..RunQuery::default() }).await;
    assert!(done.data.is_empty());
    assert_eq!(store.tenant(b.id).list_runs(&RunQuery::default()).await.unwrap().data.len(), 1, "B sees its own");
}
