//! Budgets (reserve → settle) and cost summaries.

use std::sync::Arc;

use chrono::Duration;

use super::fixtures::{now, project, tenant_with_admin};
use super::{Case, case};
use crate::clock::Timestamp;
use crate::events::EventKind;
use crate::ids::EventId;
use crate::ids::{CostRecordId, ProjectId, ReservationId, TenantId};
use crate::model::{BudgetThreshold, CostFilter, CostGroupBy, CostRecord, Money, Project, Reservation, ReserveOutcome};
use crate::store::{EventQuery, Store, StoreError};

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(concurrent_reservations_never_overspend),
        case!(expired_reservations_stop_counting),
        case!(unlimited_budgets_and_releases),
        case!(settlements_without_a_reservation_still_count),
        case!(a_settlement_stores_the_calls_events_with_it),
        case!(reservations_need_a_project_of_the_tenant),
        case!(cost_summaries_filter_and_group),
        case!(an_overshooting_settlement_blocks_reservations_until_the_budget_is_raised),
        case!(spending_that_would_overflow_is_refused_and_changes_nothing),
    ]
}

fn reservation(tenant: TenantId, project: ProjectId, nanos: i64, expires_at: Timestamp) -> Reservation {
    Reservation {
        id: ReservationId::new(),
        tenant_id: tenant,
        project_id: project,
        amount: Money::from_nanos(nanos),
        expires_at,
    }
}

pub(super) fn record(tenant: TenantId, project: ProjectId, cost: i64, at: Timestamp) -> CostRecord {
    CostRecord {
        id: CostRecordId::new(),
        tenant_id: tenant,
        project_id: project,
        run_id: None,
        agent: Some("qa_tester".into()),
        operation: "llm_call".into(),
        provider: "anthropic".into(),
        model: "claude-sonnet-4-20250514".into(),
        input_tokens: 100,
        output_tokens: 50,
        cached_input_tokens: 10,
        cost: Money::from_nanos(cost),
        latency_ms: 1200,
        created_at: at,
    }
}

async fn budgeted_project(store: &dyn Store, slug: &str, budget: Option<i64>) -> Project {
    let (t, admin) = tenant_with_admin(store, slug).await;
    let mut p = project(t.id, None, admin.user.id);
    p.budget = budget.map(Money::from_nanos);
    store.tenant(t.id).insert_project(&p).await.unwrap();
    p
}

async fn concurrent_reservations_never_overspend(store: Arc<dyn Store>) {
    const AMOUNT: i64 = 1_000_000;
    let p = budgeted_project(&*store, "spendy", Some(10 * AMOUNT)).await;
    let expires = now() + Duration::minutes(5);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let store = Arc::clone(&store);
        let r = reservation(p.tenant_id, p.id, AMOUNT, expires);
        tasks.push(tokio::spawn(async move { store.tenant(r.tenant_id).reserve(&r, now()).await }));
    }
    let mut held = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            ReserveOutcome::Reserved(r) => held.push(r),
            ReserveOutcome::Refused(status) => {
                refused += 1;
                assert!(status.spent.nanos() + status.reserved.nanos() + AMOUNT > 10 * AMOUNT, "{status:?}");
            }
        }
    }
    assert_eq!(held.len(), 10, "exactly the budget's worth is reserved");
    assert_eq!(refused, 90);

    // Settle concurrently, each a little under its reservation.
    let mut tasks = Vec::new();
    for r in held {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let rec = record(r.tenant_id, r.project_id, AMOUNT - 1, now());
            store.tenant(r.tenant_id).settle(r.id, &rec, &[], now()).await.unwrap()
        }));
    }
    let mut crossed = Vec::new();
    let mut line_events = Vec::new();
    for task in tasks {
        let settlement = task.await.unwrap();
        crossed.extend(settlement.crossed);
        line_events.extend(settlement.events);
    }
    let status = store.tenant(p.tenant_id).budget_status(p.id, now()).await.unwrap().unwrap();
    assert_eq!(status.spent.nanos(), 10 * (AMOUNT - 1));
    assert!(status.spent.nanos() <= 10 * AMOUNT);
    assert_eq!(status.reserved, Money::ZERO);
    assert_eq!(crossed, vec![BudgetThreshold::Warning], "90% is announced once; 100% was not reached");

    // One more settlement (of a call that ran over its estimate) crosses 100%, once.
    let r = reservation(p.tenant_id, p.id, 5, now() + Duration::minutes(5));
    let ReserveOutcome::Reserved(r) = store.tenant(p.tenant_id).reserve(&r, now()).await.unwrap() else {
        panic!("10 nano-dollars are left")
    };
    let over = store.tenant(p.tenant_id).settle(r.id, &record(p.tenant_id, p.id, 20, now()), &[], now()).await.unwrap();
    assert_eq!(over.crossed, vec![BudgetThreshold::Exceeded]);
    line_events.extend(over.events);
    let again = store
        .tenant(p.tenant_id)
        .settle(ReservationId::new(), &record(p.tenant_id, p.id, 1, now()), &[], now())
        .await
        .unwrap();
    assert!(again.crossed.is_empty() && again.events.is_empty());
    // Each line's event was stored with the settlement that crossed it (the outbox), with the data the engine
    // defines for it (a store that builds it itself builds the same).
    let kinds: Vec<_> = line_events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EventKind::ProjectBudgetWarning, EventKind::ProjectBudgetExceeded]);
    assert_eq!(line_events[1].data["spent"], serde_json::json!(Money::from_nanos(10 * (AMOUNT - 1) + 20)));
    let stored_query = EventQuery {
        project_id: Some(p.id),
        after: Some(EventId::from_uuid(uuid::Uuid::nil())),
        ..EventQuery::default()
    };
    let mut stored = store.tenant(p.tenant_id).list_events(&stored_query).await.unwrap().data;
    stored.sort_by_key(|e| e.kind.as_str());
    line_events.sort_by_key(|e| e.kind.as_str());
    assert_eq!(stored, line_events);
    let r = reservation(p.tenant_id, p.id, 1, now() + Duration::minutes(5));
    assert!(matches!(store.tenant(p.tenant_id).reserve(&r, now()).await.unwrap(), ReserveOutcome::Refused(_)));
}

async fn expired_reservations_stop_counting(store: Arc<dyn Store>) {
    let p = budgeted_project(&*store, "expiry", Some(100)).await;
    let handle = store.tenant(p.tenant_id);
    let start = now();
    let first = reservation(p.tenant_id, p.id, 100, start + Duration::seconds(60));
    assert!(matches!(handle.reserve(&first, start).await.unwrap(), ReserveOutcome::Reserved(_)));
    let second = reservation(p.tenant_id, p.id, 1, start + Duration::seconds(120));
    match handle.reserve(&second, start + Duration::seconds(1)).await.unwrap() {
        ReserveOutcome::Refused(status) => assert_eq!(status.reserved.nanos(), 100),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Past the first reservation's expiry it no longer holds anything.
    let later = start + Duration::seconds(61);
    assert!(matches!(handle.reserve(&second, later).await.unwrap(), ReserveOutcome::Reserved(_)));
    assert_eq!(handle.budget_status(p.id, later).await.unwrap().unwrap().reserved.nanos(), 1);
}

async fn unlimited_budgets_and_releases(store: Arc<dyn Store>) {
    let unlimited = budgeted_project(&*store, "free", None).await;
    let handle = store.tenant(unlimited.tenant_id);
    let huge = reservation(unlimited.tenant_id, unlimited.id, i64::MAX / 4, now() + Duration::minutes(1));
    assert!(matches!(handle.reserve(&huge, now()).await.unwrap(), ReserveOutcome::Reserved(_)));
    let settled =
        handle.settle(huge.id, &record(unlimited.tenant_id, unlimited.id, 5, now()), &[], now()).await.unwrap();
    assert!(settled.crossed.is_empty());
    assert_eq!(settled.status.budget, None);

    let (t, admin) = tenant_with_admin(&*store, "tight").await;
    let mut p = project(t.id, None, admin.user.id);
    p.budget = Some(Money::from_nanos(10));
    store.tenant(t.id).insert_project(&p).await.unwrap();
    let handle = store.tenant(t.id);
    let r = reservation(t.id, p.id, 10, now() + Duration::minutes(1));
    assert!(matches!(handle.reserve(&r, now()).await.unwrap(), ReserveOutcome::Reserved(_)));
    handle.release(r.id).await.unwrap();
    handle.release(r.id).await.unwrap();
    let status = handle.budget_status(p.id, now()).await.unwrap().unwrap();
    assert_eq!((status.spent, status.reserved), (Money::ZERO, Money::ZERO));
    let again = reservation(t.id, p.id, 10, now() + Duration::minutes(1));
    assert!(matches!(handle.reserve(&again, now()).await.unwrap(), ReserveOutcome::Reserved(_)));
}

async fn settlements_without_a_reservation_still_count(store: Arc<dyn Store>) {
    let p = budgeted_project(&*store, "late", Some(1_000)).await;
    let handle = store.tenant(p.tenant_id);
    let settled =
        handle.settle(ReservationId::new(), &record(p.tenant_id, p.id, 950, now()), &[], now()).await.unwrap();
    assert_eq!(settled.status.spent.nanos(), 950);
    assert_eq!(settled.crossed, vec![BudgetThreshold::Warning]);
    // The same record twice is a conflict, and is not counted twice.
    let duplicate = record(p.tenant_id, p.id, 1, now());
    handle.settle(ReservationId::new(), &duplicate, &[], now()).await.unwrap();
    assert!(matches!(
        handle.settle(ReservationId::new(), &duplicate, &[], now()).await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(handle.budget_status(p.id, now()).await.unwrap().unwrap().spent.nanos(), 951);
}

/// A model call's own event (`run.llm_call`) is stored by its settlement, ahead of the budget line it crossed;
/// a settlement refused stores none of its events.
async fn a_settlement_stores_the_calls_events_with_it(store: Arc<dyn Store>) {
    let p = budgeted_project(&*store, "evented", Some(1_000)).await;
    let handle = store.tenant(p.tenant_id);
    let call = |n: u32| {
        let data = serde_json::json!({"project_id": p.id, "call": n});
        crate::events::Event::new(p.tenant_id, EventKind::RunLlmCall, data, now())
    };
    let stored = || async {
        let oldest_first = EventQuery { after: Some(EventId::from_uuid(uuid::Uuid::nil())), ..EventQuery::default() };
        let events = handle.list_events(&oldest_first).await.unwrap().data;
        events.into_iter().map(|e| (e.kind, e.data["call"].as_u64())).collect::<Vec<_>>()
    };
    let first = call(1);
    let settled =
        handle.settle(ReservationId::new(), &record(p.tenant_id, p.id, 950, now()), &[first], now()).await.unwrap();
    assert_eq!(settled.crossed, vec![BudgetThreshold::Warning]);
    assert_eq!(stored().await, [(EventKind::RunLlmCall, Some(1)), (EventKind::ProjectBudgetWarning, None)]);

    let duplicate = record(p.tenant_id, p.id, 1, now());
    handle.settle(ReservationId::new(), &duplicate, &[call(2)], now()).await.unwrap();
    let refused = handle.settle(ReservationId::new(), &duplicate, &[call(3)], now()).await;
    assert!(matches!(refused, Err(StoreError::Conflict { .. })));
    let kinds = stored().await;
    assert_eq!(kinds.len(), 3, "the refused settlement stored no event: {kinds:?}");
    assert_eq!(kinds[2], (EventKind::RunLlmCall, Some(2)));
}

async fn reservations_need_a_project_of_the_tenant(store: Arc<dyn Store>) {
    let theirs = budgeted_project(&*store, "theirs", Some(100)).await;
    let (mine, _) = tenant_with_admin(&*store, "mine").await;
    let handle = store.tenant(mine.id);
    for project in [theirs.id, ProjectId::new()] {
        let r = reservation(mine.id, project, 1, now() + Duration::minutes(1));
        assert!(matches!(handle.reserve(&r, now()).await, Err(StoreError::MissingReference { .. })));
        assert!(handle.settle(r.id, &record(mine.id, project, 1, now()), &[], now()).await.is_err());
        assert_eq!(handle.budget_status(project, now()).await.unwrap(), None);
    }
    let status = store.tenant(theirs.tenant_id).budget_status(theirs.id, now()).await.unwrap().unwrap();
    assert_eq!((status.spent, status.reserved), (Money::ZERO, Money::ZERO));
}

async fn cost_summaries_filter_and_group(store: Arc<dyn Store>) {
    let p1 = budgeted_project(&*store, "sums", None).await;
    let t = p1.tenant_id;
    let handle = store.tenant(t);
    let creator = p1.created_by;
    let p2 = project(t, None, creator);
    handle.insert_project(&p2).await.unwrap();
    let day1: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    let day2: Timestamp = "2026-03-02T23:59:59Z".parse().unwrap();
    let mut a = record(t, p1.id, 100, day1);
    a.agent = Some("developer".into());
    let mut b = record(t, p1.id, 200, day2);
    b.model = "gpt-4o".into();
    b.provider = "openai".into();
    let mut c = record(t, p2.id, 400, day2);
    c.agent = None;
    for r in [&a, &b, &c] {
        handle.settle(ReservationId::new(), r, &[], now()).await.unwrap();
    }
    // Another tenant's costs never show.
    let other = budgeted_project(&*store, "other", None).await;
    store
        .tenant(other.tenant_id)
        .settle(ReservationId::new(), &record(other.tenant_id, other.id, 9_999, day1), &[], now())
        .await
        .unwrap();

    let (total, groups) = handle.cost_summary(CostFilter::default(), Some(CostGroupBy::Project)).await.unwrap();
    assert_eq!((total.calls, total.cost.nanos(), total.input_tokens, total.cached_input_tokens), (3, 700, 300, 30));
    let mut expected: Vec<(String, i64)> = vec![(p1.id.to_string(), 300), (p2.id.to_string(), 400)];
    expected.sort();
    assert_eq!(groups.iter().map(|g| (g.key.clone().unwrap(), g.cost.nanos())).collect::<Vec<_>>(), expected);

    let only_p1 = CostFilter { project: Some(p1.id), ..CostFilter::default() };
    let (_, by_model) = handle.cost_summary(only_p1, Some(CostGroupBy::Model)).await.unwrap();
    let keys: Vec<(String, u64)> = by_model.iter().map(|g| (g.key.clone().unwrap(), g.calls)).collect();
    assert_eq!(keys, vec![("claude-sonnet-4-20250514".to_owned(), 1), ("gpt-4o".to_owned(), 1)]);

    let (_, by_agent) = handle.cost_summary(CostFilter::default(), Some(CostGroupBy::Agent)).await.unwrap();
    let agents: Vec<String> = by_agent.iter().map(|g| g.key.clone().unwrap()).collect();
    assert_eq!(agents, vec!["developer", "qa_tester", "unassigned"]);

    let (_, by_provider) = handle.cost_summary(CostFilter::default(), Some(CostGroupBy::Provider)).await.unwrap();
    assert_eq!(by_provider.iter().map(|g| g.cost.nanos()).collect::<Vec<_>>(), vec![500, 200]);

    let (_, by_day) = handle.cost_summary(CostFilter::default(), Some(CostGroupBy::Day)).await.unwrap();
    let days: Vec<(String, i64)> = by_day.iter().map(|g| (g.key.clone().unwrap(), g.cost.nanos())).collect();
    assert_eq!(days, vec![("2026-03-01".to_owned(), 100), ("2026-03-02".to_owned(), 600)]);
    let (_, by_day_agent) = handle.cost_summary(CostFilter::default(), Some(CostGroupBy::DayAgent)).await.unwrap();
    let cells: Vec<(String, i64)> = by_day_agent.iter().map(|g| (g.key.clone().unwrap(), g.cost.nanos())).collect();
    let expected = [("2026-03-01 developer", 100), ("2026-03-02 qa_tester", 200), ("2026-03-02 unassigned", 400)];
    assert_eq!(cells, expected.map(|(key, cost)| (key.to_owned(), cost)));

    let window = CostFilter { project: None, from: Some(day1 + Duration::hours(1)), to: Some(day2) };
    let (in_window, _) = handle.cost_summary(window, None).await.unwrap();
    assert_eq!(in_window.calls, 0, "day2's records are at the exclusive end");
    let window = CostFilter { project: None, from: Some(day1), to: Some(day2 + Duration::seconds(1)) };
    assert_eq!(handle.cost_summary(window, None).await.unwrap().0.calls, 3);
    let (empty, none) =
        store.tenant(TenantId::new()).cost_summary(CostFilter::default(), Some(CostGroupBy::Day)).await.unwrap();
    assert_eq!((empty.calls, none.len()), (0, 0));
}

async fn an_overshooting_settlement_blocks_reservations_until_the_budget_is_raised(store: Arc<dyn Store>) {
    let p = budgeted_project(&*store, "overshoot", Some(1_000)).await;
    let handle = store.tenant(p.tenant_id);
    let expires = now() + Duration::minutes(5);
    let held = reservation(p.tenant_id, p.id, 900, expires);
    assert!(matches!(handle.reserve(&held, now()).await.unwrap(), ReserveOutcome::Reserved(_)));
    // The call cost more than its worst case (a provider added tokens the estimate did not see).
    let settled = handle.settle(held.id, &record(p.tenant_id, p.id, 1_500, now()), &[], now()).await.unwrap();
    assert_eq!(settled.status.spent, Money::from_nanos(1_500), "the whole actual cost is charged");
    assert!(settled.crossed.contains(&BudgetThreshold::Exceeded));
    // Over budget: nothing more is admitted, not even a free call.
    for amount in [0, 1] {
        let next = reservation(p.tenant_id, p.id, amount, expires);
        assert!(matches!(handle.reserve(&next, now()).await.unwrap(), ReserveOutcome::Refused(_)), "{amount}");
    }
    // At exactly the budget, a free call still fits; a paid one does not.
    let exact = budgeted_project(&*store, "exact", Some(1_000)).await;
    let exact_handle = store.tenant(exact.tenant_id);
    exact_handle
        .settle(ReservationId::new(), &record(exact.tenant_id, exact.id, 1_000, now()), &[], now())
        .await
        .unwrap();
    let free = reservation(exact.tenant_id, exact.id, 0, expires);
    assert!(matches!(exact_handle.reserve(&free, now()).await.unwrap(), ReserveOutcome::Reserved(_)));
    let paid = reservation(exact.tenant_id, exact.id, 1, expires);
    assert!(matches!(exact_handle.reserve(&paid, now()).await.unwrap(), ReserveOutcome::Refused(_)));
}

async fn spending_that_would_overflow_is_refused_and_changes_nothing(store: Arc<dyn Store>) {
    let p = budgeted_project(&*store, "huge", None).await;
    let handle = store.tenant(p.tenant_id);
    handle.settle(ReservationId::new(), &record(p.tenant_id, p.id, i64::MAX - 10, now()), &[], now()).await.unwrap();
    let overflowing = record(p.tenant_id, p.id, 11, now());
    assert!(handle.settle(ReservationId::new(), &overflowing, &[], now()).await.is_err(), "never wraps or saturates");
    let status = handle.budget_status(p.id, now()).await.unwrap().unwrap();
    assert_eq!(status.spent, Money::from_nanos(i64::MAX - 10), "the refused charge changed nothing");
    let (total, _) =
        handle.cost_summary(CostFilter { project: Some(p.id), ..CostFilter::default() }, None).await.unwrap();
    assert_eq!(total.calls, 1, "and recorded nothing");
}
