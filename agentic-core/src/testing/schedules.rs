//! Schedules in the store: stored per tenant, changed only at the version read, claimed once under a lease
//! (whose version fences the holder's write, which stores its events together), and the next wake.

use std::sync::Arc;

use chrono::Duration;

use super::fixtures::{now, project, tenant_with_admin};
use super::{Case, case};
use crate::events::Event;
use crate::ids::{ProjectId, RunId, ScheduleId, TenantId, UserId};
use crate::model::{Fire, OverlapPolicy, Schedule, ScheduleSpec, ScheduleTarget, SkipReason};
use crate::store::{EventQuery, PageRequest, ScheduleAdvance, ScheduleClaim, Store, StoreError};

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(schedules_are_stored_per_tenant_and_changed_only_at_the_version_read),
        case!(due_schedules_are_claimed_once_under_a_lease_that_fences_the_holders_write),
    ]
}

/// The lease the cases claim with: short, so a lapse is a real wait on every store's clock.
const LEASE: Duration = Duration::milliseconds(1500);

fn schedule(tenant: TenantId, project: ProjectId, wake_in: Option<Duration>) -> Schedule {
    let at = now();
    Schedule {
        id: ScheduleId::new(),
        tenant_id: tenant,
        project_id: project,
        name: "nightly".into(),
        note: None,
        target: ScheduleTarget { agent: Some("qa_tester".into()), task: Some("test".into()), ..Default::default() },
        risk_level: None,
        spec: ScheduleSpec { every: Some("1m".into()), ..Default::default() },
        overlap_policy: OverlapPolicy::BufferAll,
        catchup_window: std::time::Duration::from_secs(600),
        jitter: std::time::Duration::ZERO,
        paused: false,
        created_by: UserId::new(),
        run_as: UserId::new(),
        created_at: at,
        updated_at: at,
        next_fire_at: wake_in.map(|d| at + d),
        next_start_at: wake_in.map(|d| at + d),
        buffered: vec![Fire::scheduled(ScheduleId::new(), at)],
        wake_at: wake_in.map(|d| at + d),
        last_fire_at: None,
        last_run_id: Some(RunId::new()),
        fires_started: 3,
        fires_skipped: 1,
        version: 0,
    }
}

async fn tenant_and_project(store: &dyn Store, slug: &str) -> (TenantId, ProjectId) {
    let (tenant, admin) = tenant_with_admin(store, slug).await;
    let p = project(tenant.id, None, admin.user.id);
    store.tenant(tenant.id).insert_project(&p).await.unwrap();
    (tenant.id, p.id)
}

async fn schedules_are_stored_per_tenant_and_changed_only_at_the_version_read(store: Arc<dyn Store>) {
    let (tenant, project) = tenant_and_project(&*store, "sched-a").await;
    let (other, _) = tenant_and_project(&*store, "sched-b").await;
    let handle = store.tenant(tenant);
    let missing = schedule(tenant, ProjectId::new(), None);
    assert!(matches!(handle.insert_schedule(&missing).await, Err(StoreError::MissingReference { .. })));

    let first = schedule(tenant, project, Some(Duration::minutes(1)));
    handle.insert_schedule(&first).await.unwrap();
    assert_eq!(handle.get_schedule(first.id).await.unwrap().as_ref(), Some(&first), "every field round-trips");
    let second = schedule(tenant, project, None);
    handle.insert_schedule(&second).await.unwrap();
    let page = handle.list_schedules(&PageRequest { limit: 1, after: None }).await.unwrap();
    assert_eq!((page.data.len(), page.data[0].id), (1, first.id));
    let rest = handle.list_schedules(&PageRequest { limit: 10, after: page.next_cursor }).await.unwrap();
    assert_eq!(rest.data.iter().map(|s| s.id).collect::<Vec<_>>(), [second.id]);

    // A change applies at the version read, and bumps it; a stale one is refused.
    let mut renamed = first.clone();
    renamed.name = "hourly".into();
    renamed.paused = true;
    renamed.wake_at = None;
    let skipped = Event::schedule_skipped(&renamed, &renamed.buffered[0], SkipReason::Paused, None, 2, now());
    let after = handle.update_schedule(&renamed, std::slice::from_ref(&skipped), now()).await.unwrap().unwrap();
    assert_eq!((after.name.as_str(), after.paused, after.version), ("hourly", true, first.version + 1));
    assert_eq!(handle.get_schedule(first.id).await.unwrap(), Some(after.clone()));
    let stored = handle.list_events(&EventQuery::default()).await.unwrap().data;
    assert_eq!(stored, [skipped], "the change's events are stored with it");
    assert!(matches!(handle.update_schedule(&renamed, &[], now()).await, Err(StoreError::Conflict { .. })));
    let mut moved = after.clone();
    moved.project_id = ProjectId::new();
    assert!(matches!(handle.update_schedule(&moved, &[], now()).await, Err(StoreError::MissingReference { .. })));
    let unknown = schedule(tenant, project, None);
    assert_eq!(handle.update_schedule(&unknown, &[], now()).await.unwrap(), None);

    // Another tenant's handle sees none of it.
    let theirs = store.tenant(other);
    assert_eq!(theirs.get_schedule(first.id).await.unwrap(), None);
    assert!(theirs.list_schedules(&PageRequest::first()).await.unwrap().data.is_empty());
    assert_eq!(theirs.update_schedule(&after, &[], now()).await.unwrap(), None);
    assert_eq!(theirs.claim_schedule(first.id, "thief", now(), LEASE).await.unwrap(), None);
    assert!(!theirs.delete_schedule(first.id).await.unwrap());

    assert!(handle.delete_schedule(first.id).await.unwrap());
    assert!(!handle.delete_schedule(first.id).await.unwrap());
    assert_eq!(handle.get_schedule(first.id).await.unwrap(), None);
}

async fn due_schedules_are_claimed_once_under_a_lease_that_fences_the_holders_write(store: Arc<dyn Store>) {
    let (tenant, project) = tenant_and_project(&*store, "sched-c").await;
    let (other, other_project) = tenant_and_project(&*store, "sched-d").await;
    let handle = store.tenant(tenant);
    let due = schedule(tenant, project, Some(Duration::seconds(-5)));
    let due_elsewhere = schedule(other, other_project, Some(Duration::seconds(-1)));
    let later = schedule(tenant, project, Some(Duration::hours(1)));
    let mut paused = schedule(tenant, project, Some(Duration::seconds(-10)));
    paused.paused = true;
    let over = schedule(tenant, project, None);
    for s in [&due, &later, &paused, &over] {
        handle.insert_schedule(s).await.unwrap();
    }
    store.tenant(other).insert_schedule(&due_elsewhere).await.unwrap();
    assert_eq!(store.system().next_schedule_wake().await.unwrap(), due.wake_at, "paused schedules do not count");

    // Concurrent claimers split the due schedules (across tenants, soonest first); nobody gets one twice.
    let claimers: Vec<_> = (0..6)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let name = format!("s{i}");
                let claimed = store.system().claim_due_schedules(&name, now(), LEASE, 10).await.unwrap();
                claimed.into_iter().map(move |s| (name.clone(), s)).collect::<Vec<_>>()
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for claimer in claimers {
        claimed.extend(claimer.await.unwrap());
    }
    let mut ids: Vec<_> = claimed.iter().map(|(_, s)| s.id).collect();
    ids.sort();
    let mut expected = vec![due.id, due_elsewhere.id];
    expected.sort();
    assert_eq!(ids, expected, "the due ones, once each");
    assert!(claimed.iter().all(|(_, s)| s.version == 1), "each claim bumps the version");
    let (holder, claim) = claimed.iter().find(|(_, s)| s.id == due.id).unwrap().clone();
    assert_eq!(claim.buffered, due.buffered, "the claim returns the schedule's state");
    assert!(store.system().claim_due_schedules("late", now(), LEASE, 10).await.unwrap().is_empty());
    assert_eq!(handle.claim_schedule(due.id, "api", now(), LEASE).await.unwrap(), Some(ScheduleClaim::Held));
    let wake = store.system().next_schedule_wake().await.unwrap().unwrap();
    assert!(wake > now(), "a held schedule wakes when its lease lapses: {wake}");

    // The write is fenced: another holder, or the version before the claim, writes nothing.
    let mut advanced = claim.clone();
    advanced.next_fire_at = later.next_fire_at;
    advanced.next_start_at = later.next_start_at;
    advanced.wake_at = later.wake_at;
    advanced.buffered.clear();
    advanced.fires_started += 1;
    let fired = Event::schedule_fired(&advanced, &due.buffered[0], RunId::new(), Duration::zero(), now());
    let events = [fired.clone()];
    let mut stale = advanced.clone();
    stale.version = 0;
    for (who, schedule) in [("intruder", &advanced), (holder.as_str(), &stale)] {
        let advance = ScheduleAdvance { schedule, holder: who, events: &events };
        assert!(!handle.advance_schedule(&advance).await.unwrap(), "{who} at version {}", schedule.version);
    }
    let advance = ScheduleAdvance { schedule: &advanced, holder: &holder, events: &events };
    assert!(handle.advance_schedule(&advance).await.unwrap(), "the holder's write at its claim's version");
    let stored = handle.get_schedule(due.id).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.fires_started, stored.buffered.len()), (2, 4, 0));
    assert_eq!(stored.wake_at, later.wake_at);
    assert_eq!(handle.list_events(&EventQuery::default()).await.unwrap().data, [fired], "stored with the write");
    assert!(!handle.advance_schedule(&advance).await.unwrap(), "a claim is written once");
    let claimed_now = handle.claim_schedule(due.id, "api", now(), LEASE).await.unwrap();
    assert!(matches!(claimed_now, Some(ScheduleClaim::Claimed(ref s)) if s.version == 3), "{claimed_now:?}");

    // A holder that dies leaves the schedule to be claimed again once its lease lapses; its write is then refused.
    let elsewhere = store.tenant(other);
    tokio::time::sleep((LEASE + Duration::milliseconds(300)).to_std().unwrap()).await;
    let again = store.system().claim_due_schedules("heir", now(), LEASE, 10).await.unwrap();
    assert_eq!(again.iter().map(|s| s.id).collect::<Vec<_>>(), [due_elsewhere.id]);
    let (dead_holder, dead) = claimed.iter().find(|(_, s)| s.id == due_elsewhere.id).unwrap().clone();
    let advance = ScheduleAdvance { schedule: &dead, holder: &dead_holder, events: &[] };
    assert!(!elsewhere.advance_schedule(&advance).await.unwrap(), "the dead holder's write is refused");
    let heir = ScheduleAdvance { schedule: &again[0], holder: "heir", events: &[] };
    assert!(elsewhere.advance_schedule(&heir).await.unwrap());
}
