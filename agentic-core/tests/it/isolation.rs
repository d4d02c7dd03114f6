//! With two tenants, every route given the other tenant's id answers 404 and changes nothing.

use serde_json::{Value, json};

use crate::support::TestApp;

crate::both_backends!(foreign_ids, foreign_ids_are_not_found_and_untouched);

async fn foreign_ids_are_not_found_and_untouched(app: TestApp) {
    let (b_tenant, b_admin) = app.second_tenant("beta").await;

    // Objects owned by tenant B.
    let b_me = app.call("GET", "/v1/me", Some(&b_admin), None).await.expect(200);
    let b_user = app
        .call(
            "POST",
            "/v1/users",
            Some(&b_admin),
            Some(json!({"email": "dev@beta.test", "password": "beta password 1", "roles": ["developer"]})),
        )
        .await
        .expect(201);
    let b_key =
        app.call("POST", "/v1/api-keys", Some(&b_admin), Some(json!({"name": "ci", "scopes": []}))).await.expect(201);
    let b_key_text = b_key["key"].as_str().unwrap().to_owned();
    let b_dept =
        app.call("POST", "/v1/departments", Some(&b_admin), Some(json!({"name": "Beta QA"}))).await.expect(201);
    let b_project = app
        .call("POST", "/v1/projects", Some(&b_admin), Some(json!({"name": "Beta site", "department_id": b_dept["id"]})))
        .await
        .expect(201);
    let id = |v: &Value, field: &str| v[field].as_str().unwrap().to_owned();
    let b_user_id = id(&b_user, "id");
    let b_key_id = id(&b_key["api_key"], "id");
    let b_dept_id = id(&b_dept, "id");
    let b_project_id = id(&b_project, "id");
    let b_run = app
        .call(
            "POST",
            "/v1/agents/qa_tester/execute",
            Some(&b_admin),
            Some(json!({"task": "B's", "project_id": b_project_id})),
        )
        .await
        .expect(202);
    let b_run_id = id(&b_run, "id");

    let before = snapshot(&app, &b_admin).await;

    // Tenant A's admin (every permission) aims at B's ids.
    let a = app.admin_key.clone();
    let attempts: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/v1/tenants/{b_tenant}"), None),
        ("GET", format!("/v1/users/{b_user_id}"), None),
        ("PATCH", format!("/v1/users/{b_user_id}"), Some(json!({"roles": ["admin"], "active": false}))),
        ("PATCH", format!("/v1/users/{}", id(&b_me["user"], "id")), Some(json!({"password": "hijacked password!"}))),
        ("DELETE", format!("/v1/api-keys/{b_key_id}"), None),
        ("GET", format!("/v1/departments/{b_dept_id}"), None),
        ("GET", format!("/v1/projects/{b_project_id}"), None),
        ("GET", format!("/v1/runs/{b_run_id}"), None),
        ("POST", format!("/v1/runs/{b_run_id}/cancel"), None),
        ("GET", format!("/v1/runs/{b_run_id}/events"), None),
        ("GET", format!("/v1/runs/{b_run_id}/costs"), None),
        ("PATCH", format!("/v1/projects/{b_project_id}"), Some(json!({"budget": "0.00"}))),
        ("PATCH", format!("/v1/departments/{b_dept_id}"), Some(json!({"name": "Taken over"}))),
        ("DELETE", format!("/v1/departments/{b_dept_id}"), None),
        ("POST", "/v1/projects".into(), Some(json!({"name": "Sneaky", "department_id": b_dept_id}))),
    ];
    for (method, path, body) in attempts {
        let response = app.call(method, &path, Some(&a), body).await;
        assert_eq!(response.status.as_u16(), 404, "{method} {path}: {}", response.body);
        assert_eq!(response.body["type"], "https://agentic.dev/problems/not-found");
    }

    // Lists in A show none of B's objects.
    for path in ["/v1/users", "/v1/api-keys", "/v1/departments", "/v1/projects", "/v1/runs"] {
        let list = app.call("GET", path, Some(&a), None).await.expect(200);
        let text = list.to_string();
        for foreign in [&b_user_id, &b_key_id, &b_dept_id, &b_project_id, &b_tenant, &b_run_id] {
            assert!(!text.contains(foreign.as_str()), "{path} leaks {foreign}");
        }
    }

    // B is exactly as it was, and its key and admin still work.
    let after = snapshot(&app, &b_admin).await;
    assert_eq!(before, after);
    app.call("GET", "/v1/me", Some(&b_key_text), None).await.expect(200);
    app.login("beta", "boss@other.test", "other password 123").await;
}

crate::both_backends!(foreign_credentials, credentials_of_one_tenant_never_reach_another);

async fn credentials_of_one_tenant_never_reach_another(app: TestApp) {
    let (b_tenant, b_admin) = app.second_tenant("gamma").await;
    let me = app.call("GET", "/v1/me", Some(&b_admin), None).await.expect(200);
    assert_eq!(me["user"]["tenant_id"], b_tenant.as_str());
    // Signing in to A with B's admin credentials fails.
    let response = app
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"tenant": "acme", "email": "boss@other.test", "password": "other password 123"})),
        )
        .await;
    assert_eq!(response.status.as_u16(), 401);
    // Tenant slugs are unique.
    let dup = app
        .call(
            "POST",
            "/v1/tenants",
            Some(crate::support::MASTER_KEY),
            Some(json!({"name": "Again", "slug": "gamma",
            "admin_email": "x@gamma.test", "admin_password": "another password"})),
        )
        .await;
    assert_eq!(dup.status.as_u16(), 409);
}

#[tokio::test]
async fn tenant_creation_needs_the_master_key() {
    let app = TestApp::new().await;
    let body = json!({"name": "T", "slug": "tee", "admin_email": "a@t.test", "admin_password": "long password 1"});
    app.call("POST", "/v1/tenants", None, Some(body.clone())).await.expect(401);
    app.call("POST", "/v1/tenants", Some("wrong-master-key-wrong-master-key-0000"), Some(body.clone()))
        .await
        .expect(401);
    app.call("POST", "/v1/tenants", Some(&app.admin_key), Some(body.clone())).await.expect(401);

    let no_master = TestApp::build(false, |b| b).await;
    let response = no_master.call("POST", "/v1/tenants", Some(crate::support::MASTER_KEY), Some(body)).await;
    assert_eq!(response.status.as_u16(), 404);
    assert_eq!(response.body["type"], "https://agentic.dev/problems/disabled");
}

crate::both_backends!(tenant_plans, only_the_master_key_changes_a_tenants_plan);

async fn only_the_master_key_changes_a_tenants_plan(app: TestApp) {
    use crate::support::MASTER_KEY;
    let (b_tenant, b_admin) = app.second_tenant("delta").await;
    let path = format!("/v1/tenants/{b_tenant}");
    let change = json!({"plan": "developer", "name": "Delta Inc"});
    // No tenant credential can change a tier, not even the tenant's own admin.
    for bearer in [None, Some(b_admin.as_str()), Some(app.admin_key.as_str()), Some("wrong-master-key-0000000000000")] {
        app.call("PATCH", &path, bearer, Some(change.clone())).await.expect(401);
    }
    let changed = app.call("PATCH", &path, Some(MASTER_KEY), Some(change)).await.expect(200);
    assert_eq!((changed["plan"].as_str(), changed["name"].as_str()), (Some("developer"), Some("Delta Inc")));
    let read = app.call("GET", &path, Some(&b_admin), None).await.expect(200);
    assert_eq!((read["plan"].as_str(), read["name"].as_str()), (Some("developer"), Some("Delta Inc")));
    // Absent fields stay; bad values name the field; an unknown tenant is 404.
    let only_plan = app.call("PATCH", &path, Some(MASTER_KEY), Some(json!({"plan": "enterprise"}))).await.expect(200);
    assert_eq!((only_plan["plan"].as_str(), only_plan["name"].as_str()), (Some("enterprise"), Some("Delta Inc")));
    let bad = app.call("PATCH", &path, Some(MASTER_KEY), Some(json!({"plan": "platinum"}))).await;
    assert_eq!(bad.status.as_u16(), 422, "{}", bad.body);
    app.call("PATCH", &path, Some(MASTER_KEY), Some(json!({"name": " "}))).await.expect(422);
    let unknown = "/v1/tenants/0190f5f5-0000-7000-8000-000000000000";
    app.call("PATCH", unknown, Some(MASTER_KEY), Some(json!({"plan": "developer"}))).await.expect(404);
}

async fn snapshot(app: &TestApp, admin: &str) -> Vec<Value> {
    let mut parts = Vec::new();
    for path in ["/v1/users", "/v1/api-keys", "/v1/departments", "/v1/projects", "/v1/me"] {
        parts.push(app.call("GET", path, Some(admin), None).await.expect(200));
    }
    parts
}
