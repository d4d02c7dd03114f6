//! Departments and projects.

use std::sync::Arc;

use super::fixtures::{department, project, tenant_with_admin};
use super::{Case, case};
use crate::ids::{DepartmentId, ProjectId};
use crate::store::{PageRequest, Store, StoreError};

pub(super) fn cases() -> Vec<(&'static str, Case)> {
    vec![
        case!(department_names_are_unique_per_tenant_ignoring_case),
        case!(projects_round_trip_and_reference_their_own_departments),
    ]
}

async fn department_names_are_unique_per_tenant_ignoring_case(store: Arc<dyn Store>) {
    let (a, _) = tenant_with_admin(&*store, "alpha").await;
    let (b, _) = tenant_with_admin(&*store, "bravo").await;
    let qa = department(a.id, "QA");
    store.tenant(a.id).insert_department(&qa).await.unwrap();
    assert_eq!(store.tenant(a.id).get_department(qa.id).await.unwrap(), Some(qa.clone()));
    let shouting = department(a.id, "qa");
    assert!(matches!(store.tenant(a.id).insert_department(&shouting).await, Err(StoreError::Conflict { .. })));
    store.tenant(b.id).insert_department(&department(b.id, "QA")).await.unwrap();
    let listed = store.tenant(a.id).list_departments(PageRequest::first()).await.unwrap();
    assert_eq!(listed.data, vec![qa]);
    assert_eq!(store.tenant(a.id).get_department(DepartmentId::new()).await.unwrap(), None);
}

async fn projects_round_trip_and_reference_their_own_departments(store: Arc<dyn Store>) {
    let (a, a_admin) = tenant_with_admin(&*store, "alpha").await;
    let (b, _) = tenant_with_admin(&*store, "bravo").await;
    let a_dept = department(a.id, "Web");
    let b_dept = department(b.id, "Web");
    store.tenant(a.id).insert_department(&a_dept).await.unwrap();
    store.tenant(b.id).insert_department(&b_dept).await.unwrap();

    let site = project(a.id, Some(a_dept.id), a_admin.user.id);
    store.tenant(a.id).insert_project(&site).await.unwrap();
    assert_eq!(store.tenant(a.id).get_project(site.id).await.unwrap(), Some(site.clone()));
    let unfiled = project(a.id, None, a_admin.user.id);
    store.tenant(a.id).insert_project(&unfiled).await.unwrap();
    let listed = store.tenant(a.id).list_projects(PageRequest::first()).await.unwrap();
    assert_eq!(listed.data, vec![site, unfiled]);

    // Another tenant's department is as missing as a made-up one.
    for department in [b_dept.id, DepartmentId::new()] {
        let sneaky = project(a.id, Some(department), a_admin.user.id);
        assert!(matches!(store.tenant(a.id).insert_project(&sneaky).await, Err(StoreError::MissingReference { .. })));
    }
    assert_eq!(store.tenant(a.id).get_project(ProjectId::new()).await.unwrap(), None);
}
