//! Every role × every route → the expected status, for JWT and API-key principals alike.

use serde_json::{Value, json};

use crate::support::TestApp;

struct Fixture {
    tenant_id: String,
    victim_user: String,
    department: String,
    project: String,
}

type Target = fn(&Fixture, usize) -> (&'static str, String, Option<Value>);

/// (route, target, expected status for admin, manager, developer, viewer)
fn cases() -> Vec<(&'static str, Target, [u16; 4])> {
    vec![
        ("GET /v1/me", |_, _| ("GET", "/v1/me".into(), None), [200, 200, 200, 200]),
        ("GET /v1/tenants/{id}", |f, _| ("GET", format!("/v1/tenants/{}", f.tenant_id), None), [200, 200, 200, 200]),
        ("GET /v1/users", |_, _| ("GET", "/v1/users".into(), None), [200, 403, 403, 403]),
        (
            "POST /v1/users",
            |_, n| {
                let body =
                    json!({"email": format!("new{n}@acme.test"), "password": "new user password", "roles": ["viewer"]});
                ("POST", "/v1/users".into(), Some(body))
            },
            [201, 403, 403, 403],
        ),
        ("GET /v1/users/{id}", |f, _| ("GET", format!("/v1/users/{}", f.victim_user), None), [200, 403, 403, 403]),
        (
            "PATCH /v1/users/{id}",
            |f, _| ("PATCH", format!("/v1/users/{}", f.victim_user), Some(json!({"roles": ["viewer"]}))),
            [200, 403, 403, 403],
        ),
        ("GET /v1/api-keys", |_, _| ("GET", "/v1/api-keys".into(), None), [200, 200, 200, 200]),
        (
            "POST /v1/api-keys",
            |_, _| ("POST", "/v1/api-keys".into(), Some(json!({"name": "read only", "scopes": []}))),
            [201, 201, 201, 201],
        ),
        ("GET /v1/departments", |_, _| ("GET", "/v1/departments".into(), None), [200, 200, 200, 200]),
        (
            "POST /v1/departments",
            |_, n| ("POST", "/v1/departments".into(), Some(json!({"name": format!("Dept {n}")}))),
            [201, 201, 403, 403],
        ),
        (
            "GET /v1/departments/{id}",
            |f, _| ("GET", format!("/v1/departments/{}", f.department), None),
            [200, 200, 200, 200],
        ),
        ("GET /v1/projects", |_, _| ("GET", "/v1/projects".into(), None), [200, 200, 200, 200]),
        (
            "POST /v1/projects",
            |f, n| {
                let body = json!({"name": format!("P{n}"), "department_id": f.department, "budget": "100.00"});
                ("POST", "/v1/projects".into(), Some(body))
            },
            [201, 201, 403, 403],
        ),
        ("GET /v1/projects/{id}", |f, _| ("GET", format!("/v1/projects/{}", f.project), None), [200, 200, 200, 200]),
    ]
}

async fn fixture(app: &TestApp) -> Fixture {
    let me = app.call("GET", "/v1/me", Some(&app.admin_key), None).await.expect(200);
    let (victim_user, _) = app.user("victim@acme.test", &["viewer"]).await;
    let department =
        app.call("POST", "/v1/departments", Some(&app.admin_key), Some(json!({"name": "QA"}))).await.expect(201);
    let project = app
        .call(
            "POST",
            "/v1/projects",
            Some(&app.admin_key),
            Some(json!({"name": "Site", "department_id": department["id"]})),
        )
        .await
        .expect(201);
    Fixture {
        tenant_id: me["user"]["tenant_id"].as_str().unwrap().to_owned(),
        victim_user,
        department: department["id"].as_str().unwrap().to_owned(),
        project: project["id"].as_str().unwrap().to_owned(),
    }
}

const ROLES: [&str; 4] = ["admin", "manager", "developer", "viewer"];
const ROLE_SCOPES: [&[&str]; 4] = [
    &["agents:execute", "workflows:create", "approvals:approve", "departments:manage", "users:manage"],
    &["agents:execute", "workflows:create", "approvals:approve", "departments:manage"],
    &["agents:execute", "workflows:create"],
    &[],
];

crate::both_backends!(rbac_matrix, every_role_on_every_route_gets_the_expected_status);

async fn every_role_on_every_route_gets_the_expected_status(app: TestApp) {
    let fixture = fixture(&app).await;
    let mut credentials = Vec::new();
    for (i, role) in ROLES.iter().enumerate() {
        let (_, token) = app.user(&format!("as-{role}@acme.test"), &[role]).await;
        let (_, key) = app.api_key(&token, ROLE_SCOPES[i]).await;
        credentials.push((i, format!("{role} (JWT)"), token));
        credentials.push((i, format!("{role} (API key)"), key));
    }
    let mut n = 0;
    let mut failures = Vec::new();
    for (route, target, expected) in cases() {
        for (role_index, who, credential) in &credentials {
            n += 1;
            let (method, path, body) = target(&fixture, n);
            let response = app.call(method, &path, Some(credential), body).await;
            if response.status.as_u16() != expected[*role_index] {
                failures.push(format!("{route} as {who}: got {}, want {}", response.status, expected[*role_index]));
            } else if response.status.as_u16() == 403 {
                assert_eq!(response.body["type"], "https://agentic.dev/problems/forbidden");
            }
        }
        // And with no credentials at all: 401.
        let (method, path, body) = target(&fixture, 0);
        let response = app.call(method, &path, None, body).await;
        if response.status.as_u16() != 401 {
            failures.push(format!("{route} anonymously: got {}, want 401", response.status));
        }
    }
    assert!(failures.is_empty(), "RBAC matrix mismatches:\n{}", failures.join("\n"));
}

crate::both_backends!(revoking_others_keys, revoking_someone_elses_key_needs_users_manage);

async fn revoking_someone_elses_key_needs_users_manage(app: TestApp) {
    for (role, expected) in [("admin", 200), ("manager", 403), ("developer", 403), ("viewer", 403)] {
        let (_, victim_token) = app.user(&format!("victim-{role}@acme.test"), &["viewer"]).await;
        let (victim_key_id, _) = app.api_key(&victim_token, &[]).await;
        let (_, token) = app.user(&format!("actor-{role}@acme.test"), &[role]).await;
        app.call("DELETE", &format!("/v1/api-keys/{victim_key_id}"), Some(&token), None).await.expect(expected);
        // Everyone may revoke their own.
        let (own_key_id, _) = app.api_key(&token, &[]).await;
        app.call("DELETE", &format!("/v1/api-keys/{own_key_id}"), Some(&token), None).await.expect(200);
    }
}

crate::both_backends!(permission_changes, permission_changes_apply_to_existing_tokens_and_keys);

async fn permission_changes_apply_to_existing_tokens_and_keys(app: TestApp) {
    let (user_id, token) = app.user("mover@acme.test", &["manager"]).await;
    let (_, key) = app.api_key(&token, &["departments:manage"]).await;
    app.call("POST", "/v1/departments", Some(&key), Some(json!({"name": "Ops"}))).await.expect(201);
    // Demoted: the old token and the key lose the permission at once.
    app.call("PATCH", &format!("/v1/users/{user_id}"), Some(&app.admin_key), Some(json!({"roles": ["viewer"]})))
        .await
        .expect(200);
    app.call("POST", "/v1/departments", Some(&token), Some(json!({"name": "Ops2"}))).await.expect(403);
    app.call("POST", "/v1/departments", Some(&key), Some(json!({"name": "Ops3"}))).await.expect(403);
    // Deactivated: both are refused outright.
    app.call("PATCH", &format!("/v1/users/{user_id}"), Some(&app.admin_key), Some(json!({"active": false})))
        .await
        .expect(200);
    app.call("GET", "/v1/me", Some(&token), None).await.expect(401);
    app.call("GET", "/v1/me", Some(&key), None).await.expect(401);
    let login = app
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"tenant": "acme", "email": "mover@acme.test", "password": "user password 123"})),
        )
        .await;
    assert_eq!(login.status.as_u16(), 401);
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let app = TestApp::new().await;
    let me = app.call("GET", "/v1/me", Some(&app.admin_key), None).await.expect(200);
    let path = format!("/v1/users/{}", me["user"]["id"].as_str().unwrap());
    app.call("PATCH", &path, Some(&app.admin_key), Some(json!({"active": false}))).await.expect(409);
    app.call("PATCH", &path, Some(&app.admin_key), Some(json!({"roles": ["viewer"]}))).await.expect(409);
    app.call("GET", "/v1/me", Some(&app.admin_key), None).await.expect(200);
}
