//! Retention: ended runs deleted with their approval requests, old cost records folded into roll-ups that cost
//! summaries keep counting, across tenants, in batches.

use std::sync::Arc;

use chrono::Duration;

use super::budgets::record;
use super::fixtures::{now, project, tenant_with_admin, tenant_with_project};
use super::runs::{gated, run};
use super::{Case, case};
use crate::clock::Timestamp;
use crate::events::Event;
use crate::model::{CostFilter, CostGroupBy, Money, Run, RunStatus};
use crate::store::Store;

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(ended_runs_are_deleted_with_their_approvals_across_tenants_in_batches),
        case!(old_cost_records_fold_into_roll_ups_that_summaries_keep),
    ]
}

async fn ended_runs_are_deleted_with_their_approvals_across_tenants_in_batches(store: Arc<dyn Store>) {
    let (a, a_admin, pa) = tenant_with_project(&*store, "alpha").await;
    let (b, b_admin, pb) = tenant_with_project(&*store, "bravo").await;
    let t0 = now();
    let long_ago = t0 - Duration::hours(3);
    let ended = async |run: &Run, at: Timestamp| {
        let event = Event::run_cancelled(run, Money::ZERO, at);
        store.tenant(run.tenant_id).cancel_run(run.id, &event, at).await.unwrap().unwrap();
    };
    let keyed = Run { idempotency_key: Some("nightly".into()), ..run(a.id, pa.id, a_admin.user.id, long_ago) };
    store.tenant(a.id).insert_run(&keyed, &[]).await.unwrap();
    ended(&keyed, t0 - Duration::hours(2)).await;
    let mut waiting = run(a.id, pa.id, a_admin.user.id, long_ago);
    let request = gated(&mut waiting, t0 + Duration::hours(1));
    store.tenant(a.id).insert_gated_run(&waiting, &request).await.unwrap();
    ended(&waiting, t0 - Duration::minutes(100)).await;
    let of_b = run(b.id, pb.id, b_admin.user.id, long_ago);
    store.tenant(b.id).insert_run(&of_b, &[]).await.unwrap();
    ended(&of_b, t0 - Duration::minutes(90)).await;
    // Kept: one that ended recently, and one that is old but still queued.
    let recent = run(a.id, pa.id, a_admin.user.id, long_ago);
    store.tenant(a.id).insert_run(&recent, &[]).await.unwrap();
    ended(&recent, t0 - Duration::minutes(10)).await;
    let queued = run(a.id, pa.id, a_admin.user.id, long_ago);
    store.tenant(a.id).insert_run(&queued, &[]).await.unwrap();

    let cutoff = t0 - Duration::hours(1);
    assert_eq!(store.system().delete_runs_ended_before(cutoff, 2).await.unwrap(), 2, "the batch limit holds");
    assert_eq!(store.system().delete_runs_ended_before(cutoff, 10).await.unwrap(), 1);
    assert_eq!(store.system().delete_runs_ended_before(cutoff, 10).await.unwrap(), 0);

    for gone in [&keyed, &waiting, &of_b] {
        assert_eq!(store.tenant(gone.tenant_id).get_run(gone.id).await.unwrap(), None, "{}", gone.id);
    }
    assert_eq!(store.tenant(a.id).get_approval(request.id).await.unwrap(), None, "the request goes with its run");
    let kept = store.tenant(a.id).get_run(recent.id).await.unwrap().unwrap();
    assert_eq!(kept.status, RunStatus::Cancelled);
    assert_eq!(store.tenant(a.id).get_run(queued.id).await.unwrap().unwrap().status, RunStatus::Queued);
    // A deleted run's idempotency key is free again.
    assert_eq!(store.tenant(a.id).run_by_idempotency_key("nightly").await.unwrap(), None);
    let again = Run { idempotency_key: Some("nightly".into()), ..run(a.id, pa.id, a_admin.user.id, now()) };
    store.tenant(a.id).insert_run(&again, &[]).await.unwrap();
    assert_eq!(store.tenant(a.id).run_by_idempotency_key("nightly").await.unwrap().map(|r| r.id), Some(again.id));
}

async fn old_cost_records_fold_into_roll_ups_that_summaries_keep(store: Arc<dyn Store>) {
    let (t, admin) = tenant_with_admin(&*store, "sums").await;
    let (o, o_admin) = tenant_with_admin(&*store, "other").await;
    let (p1, p2, po) =
        (project(t.id, None, admin.user.id), project(t.id, None, admin.user.id), project(o.id, None, o_admin.user.id));
    for p in [&p1, &p2, &po] {
        store.tenant(p.tenant_id).insert_project(p).await.unwrap();
    }
    let day1: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    let day2: Timestamp = "2026-03-02T23:59:59Z".parse().unwrap();
    let mut a = record(t.id, p1.id, 100, day1);
    a.agent = Some("developer".into());
    a.run_id = Some(crate::ids::RunId::new());
    let mut b = record(t.id, p1.id, 200, day2);
    (b.model, b.provider) = ("gpt-4o".into(), "openai".into());
    let mut c = record(t.id, p2.id, 400, day2);
    c.agent = None;
    let d = crate::model::CostRecord {
        id: crate::ids::CostRecordId::new(),
        created_at: day1 + Duration::hours(1),
        ..a.clone()
    };
    let recent = record(t.id, p1.id, 800, now());
    let other = record(o.id, po.id, 9_999, day1);
    for r in [&a, &b, &c, &d, &recent, &other] {
        store.tenant(r.tenant_id).settle(crate::ids::ReservationId::new(), r, &[], now()).await.unwrap();
    }
    let handle = store.tenant(t.id);
    let groupings = [
        None,
        Some(CostGroupBy::Project),
        Some(CostGroupBy::Agent),
        Some(CostGroupBy::Model),
        Some(CostGroupBy::Provider),
        Some(CostGroupBy::Day),
        Some(CostGroupBy::DayAgent),
    ];
    let only_p1 = CostFilter { project: Some(p1.id), ..CostFilter::default() };
    let filters = [CostFilter::default(), only_p1];
    let mut before = Vec::new();
    for filter in filters {
        for by in groupings {
            before.push(handle.cost_summary(filter, by).await.unwrap());
        }
    }
    let other_before = store.tenant(o.id).cost_summary(CostFilter::default(), None).await.unwrap();

    let cutoff: Timestamp = "2026-03-03T00:00:00Z".parse().unwrap();
    assert_eq!(store.system().roll_up_cost_records_before(cutoff, 3).await.unwrap(), 3, "the batch limit holds");
    assert_eq!(store.system().roll_up_cost_records_before(cutoff, 10).await.unwrap(), 2, "the other tenant's too");
    assert_eq!(store.system().roll_up_cost_records_before(cutoff, 10).await.unwrap(), 0);

    let mut after = Vec::new();
    for filter in filters {
        for by in groupings {
            after.push(handle.cost_summary(filter, by).await.unwrap());
        }
    }
    assert_eq!(after, before, "every summary counts each call once, folded or not");
    assert_eq!(store.tenant(o.id).cost_summary(CostFilter::default(), None).await.unwrap(), other_before);
    assert_eq!(handle.run_costs(a.run_id.unwrap()).await.unwrap(), vec![], "the record itself is gone");
    let (total, _) = handle.cost_summary(CostFilter::default(), None).await.unwrap();
    assert_eq!((total.calls, total.cost.nanos()), (5, 1_600));

    // A day's roll-up counts from the day's start: a window that holds it counts it whole, one that starts
    // later in the day does not.
    let first_day =
        CostFilter { project: None, from: Some(day1 - Duration::hours(10)), to: Some(cutoff - Duration::days(1)) };
    let (in_day1, _) = handle.cost_summary(first_day, None).await.unwrap();
    assert_eq!((in_day1.calls, in_day1.cost.nanos()), (2, 200));
    let later = CostFilter { from: Some(day1), ..first_day };
    assert_eq!(handle.cost_summary(later, None).await.unwrap().0.calls, 0);

    // A record folded later joins its day's roll-up.
    let late = crate::model::CostRecord {
        id: crate::ids::CostRecordId::new(),
        created_at: day1 + Duration::hours(2),
        ..a.clone()
    };
    handle.settle(crate::ids::ReservationId::new(), &late, &[], now()).await.unwrap();
    assert_eq!(store.system().roll_up_cost_records_before(cutoff, 10).await.unwrap(), 1);
    let (_, by_agent) = handle.cost_summary(only_p1, Some(CostGroupBy::Agent)).await.unwrap();
    let agents: Vec<(String, u64, i64)> =
        by_agent.iter().map(|g| (g.key.clone().unwrap(), g.calls, g.cost.nanos())).collect();
    assert_eq!(agents, vec![("developer".to_owned(), 3, 300), ("qa_tester".to_owned(), 2, 1_000)]);
}
