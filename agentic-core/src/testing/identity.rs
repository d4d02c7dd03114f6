//! Tenants, users and API keys.

use std::sync::Arc;

use super::fixtures::{api_key, now, tenant, tenant_with_admin, user};
use super::{Case, case};
use crate::ids::UserId;
use crate::model::{Email, PasswordHash, Permission, PermissionSet, Role, Slug, UserPatch};
use crate::store::{PageRequest, Store, StoreError};

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(tenant_creation_is_atomic_and_slugs_are_unique),
        case!(tenant_settings_merge_key_by_key_and_stay_in_their_tenant),
        case!(users_round_trip_and_emails_are_unique_per_tenant),
        case!(user_patches_apply_and_missing_users_are_none),
        case!(users_page_in_creation_order),
        case!(api_keys_round_trip_and_lookups_are_unique),
        case!(api_key_revocation_keeps_the_first_time_and_touch_only_moves_forward),
        case!(racing_duplicate_inserts_admit_exactly_one),
        case!(bootstrap_is_all_or_nothing_and_happens_once),
    ]
}

async fn tenant_creation_is_atomic_and_slugs_are_unique(store: Arc<dyn Store>) {
    let system = store.system();
    assert!(!system.has_tenants().await.unwrap());
    let (acme, admin) = tenant_with_admin(&*store, "acme").await;
    assert!(system.has_tenants().await.unwrap());
    assert_eq!(system.tenant_by_slug(&acme.slug).await.unwrap(), Some(acme.clone()));
    assert_eq!(system.tenant_by_slug(&Slug::parse("nope").unwrap()).await.unwrap(), None);
    assert_eq!(store.tenant(acme.id).get_tenant().await.unwrap(), Some(acme.clone()));
    assert_eq!(store.tenant(acme.id).get_user(admin.user.id).await.unwrap(), Some(admin.user.clone()));

    // Same slug again: refused, and its would-be admin was not created either.
    let mut again = tenant("acme");
    again.name = "Impostor".into();
    let impostor = user(again.id, "impostor@acme.test", &[Role::Admin]);
    assert!(matches!(system.create_tenant(&again, &impostor).await, Err(StoreError::Conflict { .. })));
    assert_eq!(store.tenant(again.id).get_tenant().await.unwrap(), None);
    assert_eq!(store.tenant(again.id).get_user(impostor.user.id).await.unwrap(), None);
}

async fn tenant_settings_merge_key_by_key_and_stay_in_their_tenant(store: Arc<dyn Store>) {
    let (a, _) = tenant_with_admin(&*store, "merge-a").await;
    let (b, _) = tenant_with_admin(&*store, "merge-b").await;
    let patch = |key: &str, value: serde_json::Value| {
        let mut map = serde_json::Map::new();
        map.insert(key.to_owned(), value);
        map
    };
    let later = now() + chrono::Duration::seconds(5);
    let handle = store.tenant(a.id);
    handle.merge_tenant_settings(&patch("guardrails", serde_json::json!({"outgoing": "block"})), later).await.unwrap();
    let after = handle.merge_tenant_settings(&patch("locale", serde_json::json!("fr")), later).await.unwrap().unwrap();
    // The keys the tenant was created with stay beside the two written.
    let mut expected = a.settings.as_object().cloned().unwrap_or_default();
    expected.insert("guardrails".into(), serde_json::json!({"outgoing": "block"}));
    expected.insert("locale".into(), serde_json::json!("fr"));
    assert!(expected.len() > 2, "the fixture's tenant has settings of its own");
    assert_eq!(after.settings, serde_json::Value::Object(expected));
    assert_eq!(after.updated_at, later);
    // A key set again is replaced whole, and the other tenant is untouched.
    let replaced = handle
        .merge_tenant_settings(&patch("guardrails", serde_json::json!({"outgoing": "off"})), later)
        .await
        .unwrap();
    assert_eq!(replaced.unwrap().settings["guardrails"], serde_json::json!({"outgoing": "off"}));
    assert_eq!(store.tenant(b.id).get_tenant().await.unwrap().unwrap().settings, b.settings);
    let missing = store.tenant(crate::ids::TenantId::new());
    assert_eq!(missing.merge_tenant_settings(&patch("x", serde_json::json!(1)), later).await.unwrap(), None);
}

async fn users_round_trip_and_emails_are_unique_per_tenant(store: Arc<dyn Store>) {
    let (a, _) = tenant_with_admin(&*store, "alpha").await;
    let (b, _) = tenant_with_admin(&*store, "bravo").await;
    let alice = user(a.id, "alice@example.com", &[Role::Developer, Role::Manager]);
    let users = store.tenant(a.id);
    users.insert_user(&alice).await.unwrap();
    // Roles come back in canonical order, whatever order they were written in.
    let mut expected = alice.clone();
    expected.user.roles = vec![Role::Manager, Role::Developer];
    assert_eq!(users.get_user(alice.user.id).await.unwrap(), Some(expected.user.clone()));
    let by_email = users.user_record_by_email(&Email::parse("ALICE@example.com").unwrap()).await.unwrap().unwrap();
    assert_eq!(by_email, expected);

    let twin = user(a.id, "alice@example.com", &[Role::Viewer]);
    assert!(matches!(users.insert_user(&twin).await, Err(StoreError::Conflict { .. })));
    // The same address is free in another tenant.
    store.tenant(b.id).insert_user(&user(b.id, "alice@example.com", &[Role::Viewer])).await.unwrap();
    assert_eq!(users.get_user(UserId::new()).await.unwrap(), None);
}

async fn user_patches_apply_and_missing_users_are_none(store: Arc<dyn Store>) {
    let (t, _) = tenant_with_admin(&*store, "patchy").await;
    let handle = store.tenant(t.id);
    let bob = user(t.id, "bob@example.com", &[Role::Viewer]);
    handle.insert_user(&bob).await.unwrap();
    let later = now() + chrono::Duration::seconds(5);
    let patch = UserPatch {
        at: later,
        roles: Some(vec![Role::Admin, Role::Developer]),
        active: Some(false),
        password_hash: Some(PasswordHash::from_phc("$argon2id$new".into())),
    };
    let updated = handle.update_user(bob.user.id, &patch).await.unwrap().unwrap();
    assert_eq!(updated.roles, vec![Role::Admin, Role::Developer]);
    assert!(!updated.active);
    assert_eq!(updated.updated_at, later);
    assert_eq!(updated.created_at, bob.user.created_at);
    let record = handle.user_record_by_email(&bob.user.email).await.unwrap().unwrap();
    assert_eq!(record.password_hash.as_phc(), "$argon2id$new");
    assert_eq!(record.user, updated);

    // A partial patch leaves the rest alone.
    let only_active = UserPatch { at: later, roles: None, active: Some(true), password_hash: None };
    let reactivated = handle.update_user(bob.user.id, &only_active).await.unwrap().unwrap();
    assert_eq!(reactivated.roles, vec![Role::Admin, Role::Developer]);
    assert!(reactivated.active);

    assert_eq!(handle.update_user(UserId::new(), &only_active).await.unwrap(), None);
}

async fn users_page_in_creation_order(store: Arc<dyn Store>) {
    let (t, admin) = tenant_with_admin(&*store, "pages").await;
    let handle = store.tenant(t.id);
    let mut expected = vec![admin.user.clone()];
    for i in 0..5 {
        let u = user(t.id, &format!("u{i}@example.com"), &[Role::Viewer]);
        handle.insert_user(&u).await.unwrap();
        expected.push(u.user);
    }
    let mut seen = Vec::new();
    let mut page = PageRequest { limit: 2, after: None };
    loop {
        let result = handle.list_users(page).await.unwrap();
        assert!(result.data.len() <= 2);
        seen.extend(result.data);
        match result.next_cursor {
            Some(cursor) => page.after = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, expected);
}

async fn api_keys_round_trip_and_lookups_are_unique(store: Arc<dyn Store>) {
    let (t, admin) = tenant_with_admin(&*store, "keys").await;
    let handle = store.tenant(t.id);
    let bob = user(t.id, "bob@example.com", &[Role::Developer]);
    handle.insert_user(&bob).await.unwrap();
    let scopes: PermissionSet = [Permission::AgentsExecute].into_iter().collect();
    let admin_key = api_key(t.id, admin.user.id, "LOOKUPadmin1", PermissionSet::EMPTY);
    let bob_key = api_key(t.id, bob.user.id, "LOOKUPbob001", scopes);
    handle.insert_api_key(&admin_key).await.unwrap();
    handle.insert_api_key(&bob_key).await.unwrap();

    let (found, owner) = store.system().api_key_by_lookup("LOOKUPbob001").await.unwrap().unwrap();
    assert_eq!(found, bob_key);
    assert_eq!(owner, bob.user);
    assert!(store.system().api_key_by_lookup("LOOKUPnone00").await.unwrap().is_none());
    assert_eq!(handle.get_api_key(bob_key.key.id).await.unwrap(), Some(bob_key.key.clone()));

    let duplicate = api_key(t.id, bob.user.id, "LOOKUPbob001", scopes);
    assert!(matches!(handle.insert_api_key(&duplicate).await, Err(StoreError::Conflict { .. })));
    // An owner that does not exist in this tenant is refused.
    let orphan = api_key(t.id, UserId::new(), "LOOKUPorphan", scopes);
    assert!(handle.insert_api_key(&orphan).await.is_err());

    let all = handle.list_api_keys(None, PageRequest::first()).await.unwrap();
    assert_eq!(all.data, vec![admin_key.key.clone(), bob_key.key.clone()]);
    let bobs = handle.list_api_keys(Some(bob.user.id), PageRequest::first()).await.unwrap();
    assert_eq!(bobs.data, vec![bob_key.key.clone()]);
}

async fn api_key_revocation_keeps_the_first_time_and_touch_only_moves_forward(store: Arc<dyn Store>) {
    let (t, admin) = tenant_with_admin(&*store, "revoke").await;
    let handle = store.tenant(t.id);
    let key = api_key(t.id, admin.user.id, "LOOKUPrevoke", PermissionSet::EMPTY);
    handle.insert_api_key(&key).await.unwrap();
    let first = now();
    let revoked = handle.revoke_api_key(key.key.id, first).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(first));
    let again = handle.revoke_api_key(key.key.id, first + chrono::Duration::seconds(9)).await.unwrap().unwrap();
    assert_eq!(again.revoked_at, Some(first));
    assert_eq!(handle.revoke_api_key(crate::ids::ApiKeyId::new(), first).await.unwrap(), None);

    let later = first + chrono::Duration::seconds(60);
    handle.touch_api_key(key.key.id, later).await.unwrap();
    handle.touch_api_key(key.key.id, first).await.unwrap();
    assert_eq!(handle.get_api_key(key.key.id).await.unwrap().unwrap().last_used_at, Some(later));
}

async fn racing_duplicate_inserts_admit_exactly_one(store: Arc<dyn Store>) {
    let (t, _) = tenant_with_admin(&*store, "race").await;
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            store.tenant(t.id).insert_user(&user(t.id, "same@example.com", &[Role::Viewer])).await
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => created += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(created, 1);
    let users = store.tenant(t.id).list_users(PageRequest::first()).await.unwrap();
    assert_eq!(users.data.len(), 2, "the admin and the one winner");
    let mut tasks = Vec::new();
    for i in 0..64 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let t2 = tenant("twin");
            store.system().create_tenant(&t2, &user(t2.id, &format!("a{i}@twin.test"), &[Role::Admin])).await
        }));
    }
    let mut tenants = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            tenants += 1;
        }
    }
    assert_eq!(tenants, 1);
}

async fn bootstrap_is_all_or_nothing_and_happens_once(store: Arc<dyn Store>) {
    let system = store.system();
    // A bootstrap that fails at its last write (the key names another owner) leaves no tenant behind.
    let t = tenant("default");
    let admin = user(t.id, "admin@default.test", &[Role::Admin]);
    let stray = api_key(t.id, UserId::new(), "straylookup1", PermissionSet::from_iter(Permission::ALL));
    assert!(system.bootstrap_tenant(&t, &admin, &stray).await.is_err());
    assert!(!system.has_tenants().await.unwrap(), "nothing was created");
    assert_eq!(system.api_key_by_lookup("straylookup1").await.unwrap(), None);

    // Replicas racing on an empty store: one creates, every other one finds a tenant (whatever its slug).
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let t = tenant(&format!("replica{i}"));
            let admin = user(t.id, "admin@default.test", &[Role::Admin]);
            let key =
                api_key(t.id, admin.user.id, &format!("bootlookup{i:02}"), PermissionSet::from_iter(Permission::ALL));
            let created = store.system().bootstrap_tenant(&t, &admin, &key).await.unwrap();
            (created, t, admin, key)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (created, t, admin, key) = task.await.unwrap();
        if created {
            winners.push((t, admin, key));
        } else {
            assert_eq!(system.tenant_by_slug(&t.slug).await.unwrap(), None, "a loser wrote nothing");
            assert_eq!(system.api_key_by_lookup(&key.lookup).await.unwrap(), None);
        }
    }
    assert_eq!(winners.len(), 1, "exactly one replica bootstraps");
    let (t, admin, key) = &winners[0];
    assert_eq!(system.tenant_by_slug(&t.slug).await.unwrap().map(|found| found.id), Some(t.id));
    let (found, owner) = system.api_key_by_lookup(&key.lookup).await.unwrap().expect("the admin's key");
    assert_eq!((found.key.id, owner.id), (key.key.id, admin.user.id));
    let again = tenant("later");
    let later_admin = user(again.id, "admin@later.test", &[Role::Admin]);
    let later_key = api_key(again.id, later_admin.user.id, "latelookup01", PermissionSet::from_iter(Permission::ALL));
    assert!(!system.bootstrap_tenant(&again, &later_admin, &later_key).await.unwrap(), "a restart skips it");
}
