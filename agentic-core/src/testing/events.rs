//! Stored events: appended per tenant, listed newest first or after a cursor, filtered, never across tenants.

use std::sync::Arc;

use serde_json::json;

use super::fixtures::{now, tenant_with_admin};
use super::{Case, case};
use crate::events::{Event, EventKind};
use crate::ids::{EventId, ProjectId, RunId, TenantId};
use crate::store::{EventQuery, Store, StoreError};

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(events_are_listed_newest_first_or_after_a_cursor_and_filtered),
        case!(events_stay_in_their_tenant),
        case!(old_events_are_deleted_across_tenants_in_batches),
    ]
}

fn event(tenant: TenantId, kind: EventKind, project: ProjectId, run: Option<RunId>) -> Event {
    Event::new(tenant, kind, json!({"project_id": project, "run_id": run, "agent": "qa_tester"}), now())
}

async fn events_are_listed_newest_first_or_after_a_cursor_and_filtered(store: Arc<dyn Store>) {
    let (a, _) = tenant_with_admin(&*store, "alpha").await;
    let handle = store.tenant(a.id);
    let (p1, p2, run) = (ProjectId::new(), ProjectId::new(), RunId::new());
    let mut appended = Vec::new();
    for i in 0..5 {
        let kind = if i % 2 == 0 { EventKind::AgentStarted } else { EventKind::AgentCompleted };
        appended.push(event(a.id, kind, if i < 3 { p1 } else { p2 }, (i == 4).then_some(run)));
    }
    handle.append_events(&appended[..2]).await.unwrap();
    handle.append_events(&appended[2..]).await.unwrap();
    handle.append_events(&[]).await.unwrap();
    let ids = |events: &[Event]| events.iter().map(|e| e.id).collect::<Vec<EventId>>();
    let all: Vec<EventId> = ids(&appended);
    let newest_first: Vec<EventId> = all.iter().rev().copied().collect();

    let first = handle.list_events(&EventQuery { limit: 2, ..EventQuery::default() }).await.unwrap();
    assert_eq!(ids(&first.data), newest_first[..2]);
    assert_eq!(first.data[0], appended[4], "an event reads back as it was stored");
    let before = first.next_cursor.map(EventId::from_uuid);
    let second = handle.list_events(&EventQuery { limit: 2, before, ..EventQuery::default() }).await.unwrap();
    assert_eq!(ids(&second.data), newest_first[2..4]);
    let before = second.next_cursor.map(EventId::from_uuid);
    let last = handle.list_events(&EventQuery { limit: 2, before, ..EventQuery::default() }).await.unwrap();
    assert_eq!((ids(&last.data), last.next_cursor), (newest_first[4..].to_vec(), None));

    let after = handle.list_events(&EventQuery { after: Some(all[1]), limit: 2, ..EventQuery::default() }).await;
    let after = after.unwrap();
    assert_eq!(ids(&after.data), all[2..4], "after a cursor: oldest first");
    assert_eq!(after.next_cursor, Some(all[3].as_uuid()));

    let of = |query: EventQuery| {
        let handle = store.tenant(a.id);
        async move { ids(&handle.list_events(&query).await.unwrap().data) }
    };
    let completed = of(EventQuery { kind: Some(EventKind::AgentCompleted), ..EventQuery::default() }).await;
    assert_eq!(completed, vec![all[3], all[1]]);
    assert_eq!(of(EventQuery { project_id: Some(p2), ..EventQuery::default() }).await, vec![all[4], all[3]]);
    assert_eq!(of(EventQuery { run_id: Some(run), ..EventQuery::default() }).await, vec![all[4]]);
    let none = EventQuery { project_id: Some(p2), kind: Some(EventKind::ApprovalDenied), ..EventQuery::default() };
    assert!(of(none).await.is_empty());
}

async fn events_stay_in_their_tenant(store: Arc<dyn Store>) {
    let (a, _) = tenant_with_admin(&*store, "alpha").await;
    let (b, _) = tenant_with_admin(&*store, "bravo").await;
    let ours = event(a.id, EventKind::AgentStarted, ProjectId::new(), None);
    store.tenant(a.id).append_events(std::slice::from_ref(&ours)).await.unwrap();
    assert!(store.tenant(b.id).list_events(&EventQuery::default()).await.unwrap().data.is_empty());
    let theirs = event(a.id, EventKind::AgentStarted, ProjectId::new(), None);
    let refused = store.tenant(b.id).append_events(&[theirs]).await;
    assert!(matches!(refused, Err(StoreError::Conflict { .. })), "{refused:?}");
    let listed = store.tenant(a.id).list_events(&EventQuery::default()).await.unwrap();
    assert_eq!(listed.data, vec![ours], "the refused batch stored nothing");
}

async fn old_events_are_deleted_across_tenants_in_batches(store: Arc<dyn Store>) {
    let (a, _) = tenant_with_admin(&*store, "alpha").await;
    let (b, _) = tenant_with_admin(&*store, "bravo").await;
    let project = ProjectId::new();
    let stored_at = |tenant: TenantId, minutes_ago: i64| {
        let at = now() - chrono::Duration::minutes(minutes_ago);
        // An event's age is its id's: ids made back then.
        let id = EventId::from_uuid(uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            u64::try_from(at.timestamp()).unwrap(),
            at.timestamp_subsec_nanos(),
        )));
        Event { id, ..event(tenant, EventKind::AgentStarted, project, None) }
    };
    let old = [stored_at(a.id, 90), stored_at(a.id, 80), stored_at(b.id, 70)];
    let recent = [stored_at(a.id, 10), stored_at(b.id, 5)];
    for event in old.iter().chain(&recent) {
        store.tenant(event.tenant_id).append_events(std::slice::from_ref(event)).await.unwrap();
    }
    let cutoff = EventId::floor_at(now() - chrono::Duration::minutes(60));
    assert_eq!(store.system().delete_events_before(cutoff, 2).await.unwrap(), 2, "the batch limit holds");
    assert_eq!(store.system().delete_events_before(cutoff, 10).await.unwrap(), 1);
    assert_eq!(store.system().delete_events_before(cutoff, 10).await.unwrap(), 0);
    let left = |tenant: TenantId| {
        let handle = store.tenant(tenant);
        async move { handle.list_events(&EventQuery::default()).await.unwrap().data }
    };
    assert_eq!(left(a.id).await, vec![recent[0].clone()]);
    assert_eq!(left(b.id).await, vec![recent[1].clone()]);
}
