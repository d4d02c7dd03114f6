//! A tenant handle sees and changes only its own tenant's rows.

use std::sync::Arc;

use super::fixtures::{api_key, department, now, project, tenant_with_admin, user};
use super::{Case, case};
use crate::model::{PermissionSet, Role, UserPatch};
use crate::store::{PageRequest, Store};

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![case!(handles_see_and_change_only_their_tenant)]
}

async fn handles_see_and_change_only_their_tenant(store: Arc<dyn Store>) {
    let (a, a_admin) = tenant_with_admin(&*store, "alpha").await;
    let (b, _) = tenant_with_admin(&*store, "bravo").await;
    let a_handle = store.tenant(a.id);
    let b_handle = store.tenant(b.id);
    let key = api_key(a.id, a_admin.user.id, "LOOKUPalpha1", PermissionSet::EMPTY);
    a_handle.insert_api_key(&key).await.unwrap();
    let dept = department(a.id, "Ops");
    a_handle.insert_department(&dept).await.unwrap();
    let proj = project(a.id, Some(dept.id), a_admin.user.id);
    a_handle.insert_project(&proj).await.unwrap();

    // Reads through B's handle find nothing of A's.
    assert_eq!(b_handle.get_user(a_admin.user.id).await.unwrap(), None);
    assert_eq!(b_handle.user_record_by_email(&a_admin.user.email).await.unwrap(), None);
    assert_eq!(b_handle.get_api_key(key.key.id).await.unwrap(), None);
    assert_eq!(b_handle.get_department(dept.id).await.unwrap(), None);
    assert_eq!(b_handle.get_project(proj.id).await.unwrap(), None);
    for listed in [
        b_handle.list_users(PageRequest::first()).await.unwrap().data.iter().any(|u| u.tenant_id != b.id),
        b_handle.list_api_keys(None, PageRequest::first()).await.unwrap().data.iter().any(|k| k.tenant_id != b.id),
        !b_handle.list_departments(PageRequest::first()).await.unwrap().data.is_empty(),
        !b_handle.list_projects(PageRequest::first()).await.unwrap().data.is_empty(),
    ] {
        assert!(!listed, "a list through B's handle shows A's rows");
    }

    // Writes through B's handle cannot touch A's rows.
    let patch = UserPatch { at: now(), roles: Some(vec![Role::Viewer]), active: Some(false), password_hash: None };
    assert_eq!(b_handle.update_user(a_admin.user.id, &patch).await.unwrap(), None);
    assert_eq!(b_handle.revoke_api_key(key.key.id, now()).await.unwrap(), None);
    b_handle.touch_api_key(key.key.id, now()).await.unwrap();
    assert_eq!(a_handle.get_user(a_admin.user.id).await.unwrap(), Some(a_admin.user.clone()));
    assert_eq!(a_handle.get_api_key(key.key.id).await.unwrap(), Some(key.key.clone()));

    // A record claiming tenant A, written through B's handle, lands in B.
    let smuggled = user(a.id, "smuggled@example.com", &[Role::Admin]);
    b_handle.insert_user(&smuggled).await.unwrap();
    assert_eq!(a_handle.get_user(smuggled.user.id).await.unwrap(), None);
    assert_eq!(b_handle.get_user(smuggled.user.id).await.unwrap().unwrap().tenant_id, b.id);
}
