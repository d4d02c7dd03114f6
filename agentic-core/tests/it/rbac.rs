//! Every role × every operation of the OpenAPI document → the expected status, for JWT and API-key principals
//! alike, and anonymously. An operation missing from the matrix fails the test.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::{Value, json};

use crate::support::TestApp;

struct Fixture {
    tenant_id: String,
    victim_user: String,
    department: String,
    project: String,
    run: String,
    webhook: String,
    delivery: String,
    schedule: String,
    knowledge: String,
    document: String,
    /// One key of the victim per caller (eight credentials, then anonymous), so each revocation finds its own.
    victim_keys: Vec<String>,
}

/// What one call sends.
enum Payload {
    None,
    Json(Value),
    Yaml(&'static str),
}

/// `(fixture, a number unique to this call, the caller's slot)` → `(method, path, payload)`.
type Target = fn(&Fixture, usize, usize) -> (&'static str, String, Payload);

/// One operation: its `METHOD /template`, how to call it, and the statuses for admin, manager, developer and viewer,
/// then for a caller with no credentials.
struct Case {
    operation: &'static str,
    target: Target,
    roles: [u16; 4],
    anonymous: u16,
}

const fn case(operation: &'static str, target: Target, roles: [u16; 4]) -> Case {
    Case { operation, target, roles, anonymous: 401 }
}

/// A webhook endpoint that does not exist.
const NO_WEBHOOK: &str = "/v1/webhooks/0190f5f5-0000-7000-8000-000000000000";

/// A schedule that does not exist.
const NO_SCHEDULE: &str = "/v1/schedules/0190f5f5-0000-7000-8000-000000000000";

/// A knowledge base that does not exist.
const NO_KNOWLEDGE: &str = "/v1/knowledge/0190f5f5-0000-7000-8000-000000000000";

/// An approval request that does not exist.
const NO_APPROVAL: &str = "/v1/approvals/0190f5f5-0000-7000-8000-000000000000";

const AGENT_YAML: &str = "name: Reviewer\nrole: Code Reviewer\ngoal: Review changes\nbackstory: Careful.\n\
                          tools: []\nllm:\n  provider: mock\n  model: mock\nrisk_level: low\n";

fn cases() -> Vec<Case> {
    vec![
        Case { anonymous: 200, ..case("GET /health", |_, _, _| ("GET", "/health".into(), Payload::None), [200; 4]) },
        Case { anonymous: 200, ..case("GET /ready", |_, _, _| ("GET", "/ready".into(), Payload::None), [200; 4]) },
        Case {
            anonymous: 200,
            ..case(
                "POST /v1/auth/login",
                |_, _, _| {
                    let body = json!({"tenant": "acme", "email": "victim@acme.test", "password": "user password 123"});
                    ("POST", "/v1/auth/login".into(), Payload::Json(body))
                },
                [200; 4],
            )
        },
        // Only the platform master key creates tenants; no tenant credential is it.
        case(
            "POST /v1/tenants",
            |_, n, _| {
                let body = json!({"name": "T", "slug": format!("t-{n}"), "admin_email": "a@t.test",
                    "admin_password": "tenant admin password"});
                ("POST", "/v1/tenants".into(), Payload::Json(body))
            },
            [401; 4],
        ),
        // Only the platform master key changes a tenant's plan; no tenant credential is it.
        case(
            "PATCH /v1/tenants/{id}",
            |f, _, _| ("PATCH", format!("/v1/tenants/{}", f.tenant_id), Payload::Json(json!({"plan": "developer"}))),
            [401; 4],
        ),
        case("GET /v1/me", |_, _, _| ("GET", "/v1/me".into(), Payload::None), [200; 4]),
        case(
            "GET /v1/tenants/{id}",
            |f, _, _| ("GET", format!("/v1/tenants/{}", f.tenant_id), Payload::None),
            [200; 4],
        ),
        // Every member reads the tenant's guardrail; only an admin (users:manage) changes it.
        case(
            "GET /v1/settings/guardrails",
            |_, _, _| ("GET", "/v1/settings/guardrails".into(), Payload::None),
            [200; 4],
        ),
        case(
            "PUT /v1/settings/guardrails",
            |_, _, _| ("PUT", "/v1/settings/guardrails".into(), Payload::Json(json!({"outgoing": "redact"}))),
            [200, 403, 403, 403],
        ),
        case("GET /v1/users", |_, _, _| ("GET", "/v1/users".into(), Payload::None), [200, 403, 403, 403]),
        case(
            "POST /v1/users",
            |_, n, _| {
                let body =
                    json!({"email": format!("new{n}@acme.test"), "password": "new user password", "roles": ["viewer"]});
                ("POST", "/v1/users".into(), Payload::Json(body))
            },
            [201, 403, 403, 403],
        ),
        case(
            "GET /v1/users/{id}",
            |f, _, _| ("GET", format!("/v1/users/{}", f.victim_user), Payload::None),
            [200, 403, 403, 403],
        ),
        case(
            "PATCH /v1/users/{id}",
            |f, _, _| ("PATCH", format!("/v1/users/{}", f.victim_user), Payload::Json(json!({"roles": ["viewer"]}))),
            [200, 403, 403, 403],
        ),
        case("GET /v1/api-keys", |_, _, _| ("GET", "/v1/api-keys".into(), Payload::None), [200; 4]),
        case(
            "POST /v1/api-keys",
            |_, _, _| ("POST", "/v1/api-keys".into(), Payload::Json(json!({"name": "read only", "scopes": []}))),
            [201; 4],
        ),
        // Someone else's key: only users:manage revokes it (everyone may revoke their own: tested below).
        case(
            "DELETE /v1/api-keys/{id}",
            |f, _, caller| ("DELETE", format!("/v1/api-keys/{}", f.victim_keys[caller]), Payload::None),
            [200, 403, 403, 403],
        ),
        case("GET /v1/departments", |_, _, _| ("GET", "/v1/departments".into(), Payload::None), [200; 4]),
        case(
            "POST /v1/departments",
            |_, n, _| ("POST", "/v1/departments".into(), Payload::Json(json!({"name": format!("Dept {n}")}))),
            [201, 201, 403, 403],
        ),
        case(
            "GET /v1/departments/{id}",
            |f, _, _| ("GET", format!("/v1/departments/{}", f.department), Payload::None),
            [200; 4],
        ),
        case(
            "PATCH /v1/departments/{id}",
            |f, n, _| {
                let body = json!({"description": n.to_string()});
                ("PATCH", format!("/v1/departments/{}", f.department), Payload::Json(body))
            },
            [200, 200, 403, 403],
        ),
        // The fixture's department has a project: a manager learns it cannot go yet (409), others are refused first.
        case(
            "DELETE /v1/departments/{id}",
            |f, _, _| ("DELETE", format!("/v1/departments/{}", f.department), Payload::None),
            [409, 409, 403, 403],
        ),
        case("GET /v1/projects", |_, _, _| ("GET", "/v1/projects".into(), Payload::None), [200; 4]),
        case(
            "POST /v1/projects",
            |f, n, _| {
                let body = json!({"name": format!("P{n}"), "department_id": f.department, "budget": "100.00"});
                ("POST", "/v1/projects".into(), Payload::Json(body))
            },
            [201, 201, 403, 403],
        ),
        case(
            "GET /v1/projects/{id}",
            |f, _, _| ("GET", format!("/v1/projects/{}", f.project), Payload::None),
            [200; 4],
        ),
        case(
            "PATCH /v1/projects/{id}",
            |f, n, _| {
                ("PATCH", format!("/v1/projects/{}", f.project), Payload::Json(json!({"description": n.to_string()})))
            },
            [200, 200, 403, 403],
        ),
        case(
            "GET /v1/projects/{id}/costs",
            |f, _, _| ("GET", format!("/v1/projects/{}/costs", f.project), Payload::None),
            [200; 4],
        ),
        case("GET /v1/costs", |_, _, _| ("GET", "/v1/costs".into(), Payload::None), [200; 4]),
        case("GET /v1/agents", |_, _, _| ("GET", "/v1/agents".into(), Payload::None), [200; 4]),
        case("GET /v1/agents/{name}", |_, _, _| ("GET", "/v1/agents/qa_tester".into(), Payload::None), [200; 4]),
        case(
            "PUT /v1/agents/{name}",
            |_, n, _| ("PUT", format!("/v1/agents/reviewer_{n}"), Payload::Yaml(AGENT_YAML)),
            [201, 201, 403, 403],
        ),
        // A built-in that is not overridden: a manager learns it cannot be deleted (409), others are refused first.
        case(
            "DELETE /v1/agents/{name}",
            |_, _, _| ("DELETE", "/v1/agents/qa_tester".into(), Payload::None),
            [409, 409, 403, 403],
        ),
        case(
            "POST /v1/agents/{name}/execute",
            |f, _, _| {
                let body = json!({"task": "Say hello", "project_id": f.project});
                ("POST", "/v1/agents/qa_tester/execute".into(), Payload::Json(body))
            },
            [202, 202, 202, 403],
        ),
        case(
            "POST /v1/workflows",
            |f, _, _| {
                let body =
                    json!({"name": "ProjectPipelineWorkflow", "args": {"goal": "Ship it"}, "project_id": f.project});
                ("POST", "/v1/workflows".into(), Payload::Json(body))
            },
            [202, 202, 202, 403],
        ),
        case("GET /v1/runs", |_, _, _| ("GET", "/v1/runs?status=completed".into(), Payload::None), [200; 4]),
        case("GET /v1/runs/{id}", |f, _, _| ("GET", format!("/v1/runs/{}", f.run), Payload::None), [200; 4]),
        case(
            "GET /v1/runs/{id}/result",
            |f, _, _| ("GET", format!("/v1/runs/{}/result", f.run), Payload::None),
            [200; 4],
        ),
        // The fixture's run has ended: whoever may cancel it learns that (409); a developer who did not start it
        // needs approvals:approve (403), as does a viewer.
        case(
            "POST /v1/runs/{id}/cancel",
            |f, _, _| ("POST", format!("/v1/runs/{}/cancel", f.run), Payload::None),
            [409, 409, 403, 403],
        ),
        // The fixture's run has ended: its stream sends what it stored and closes.
        case(
            "GET /v1/runs/{id}/events",
            |f, _, _| ("GET", format!("/v1/runs/{}/events", f.run), Payload::None),
            [200; 4],
        ),
        case(
            "GET /v1/runs/{id}/costs",
            |f, _, _| ("GET", format!("/v1/runs/{}/costs", f.run), Payload::None),
            [200; 4],
        ),
        case("GET /v1/events", |_, _, _| ("GET", "/v1/events".into(), Payload::None), [200; 4]),
        // The stream never ends: a request with a malformed resume id answers at once, after authorisation.
        case(
            "GET /v1/events/stream",
            |_, _, _| ("GET", "/v1/events/stream?type=agent.exploded".into(), Payload::None),
            [400; 4],
        ),
        case("GET /v1/events/types", |_, _, _| ("GET", "/v1/events/types".into(), Payload::None), [200; 4]),
        case("GET /v1/webhooks", |_, _, _| ("GET", "/v1/webhooks".into(), Payload::None), [200, 403, 403, 403]),
        case(
            "POST /v1/webhooks",
            |_, n, _| {
                let body = json!({"url": format!("https://93.184.215.14/hook/{n}"), "events": ["*"]});
                ("POST", "/v1/webhooks".into(), Payload::Json(body))
            },
            [201, 403, 403, 403],
        ),
        case(
            "GET /v1/webhooks/{id}",
            |f, _, _| ("GET", format!("/v1/webhooks/{}", f.webhook), Payload::None),
            [200, 403, 403, 403],
        ),
        case(
            "PATCH /v1/webhooks/{id}",
            |f, n, _| {
                ("PATCH", format!("/v1/webhooks/{}", f.webhook), Payload::Json(json!({"description": n.to_string()})))
            },
            [200, 403, 403, 403],
        ),
        // No such endpoint: a webhook manager learns that (404), anyone else is refused before the lookup (403).
        case("DELETE /v1/webhooks/{id}", |_, _, _| ("DELETE", NO_WEBHOOK.into(), Payload::None), [404, 403, 403, 403]),
        case(
            "POST /v1/webhooks/{id}/rotate-secret",
            |f, _, _| ("POST", format!("/v1/webhooks/{}/rotate-secret", f.webhook), Payload::Json(json!({}))),
            [200, 403, 403, 403],
        ),
        case(
            "GET /v1/webhooks/{id}/deliveries",
            |f, _, _| ("GET", format!("/v1/webhooks/{}/deliveries", f.webhook), Payload::None),
            [200, 403, 403, 403],
        ),
        case(
            "POST /v1/webhooks/{id}/replay",
            |f, _, _| {
                let body = json!({"since": "2020-01-01T00:00:00Z"});
                ("POST", format!("/v1/webhooks/{}/replay", f.webhook), Payload::Json(body))
            },
            [202, 403, 403, 403],
        ),
        case(
            "GET /v1/deliveries/{id}",
            |f, _, _| ("GET", format!("/v1/deliveries/{}", f.delivery), Payload::None),
            [200, 403, 403, 403],
        ),
        case(
            "POST /v1/deliveries/{id}/retry",
            |f, _, _| ("POST", format!("/v1/deliveries/{}/retry", f.delivery), Payload::None),
            [202, 403, 403, 403],
        ),
        case(
            "GET /v1/projects/{id}/context",
            |f, _, _| ("GET", format!("/v1/projects/{}/context", f.project), Payload::None),
            [200; 4],
        ),
        case(
            "GET /v1/projects/{id}/context/{key}",
            |f, _, _| ("GET", format!("/v1/projects/{}/context/shared", f.project), Payload::None),
            [200; 4],
        ),
        case(
            "PUT /v1/projects/{id}/context/{key}",
            |f, n, _| ("PUT", format!("/v1/projects/{}/context/k{n}", f.project), Payload::Json(json!({"value": n}))),
            [200, 200, 200, 403],
        ),
        case(
            "DELETE /v1/projects/{id}/context/{key}",
            |f, _, _| ("DELETE", format!("/v1/projects/{}/context/absent", f.project), Payload::None),
            [404, 404, 404, 403],
        ),
        case(
            "POST /v1/projects/{id}/context/{key}/append",
            |f, n, _| {
                ("POST", format!("/v1/projects/{}/context/log/append", f.project), Payload::Json(json!({"item": n})))
            },
            [200, 200, 200, 403],
        ),
        case(
            "GET /v1/runs/{id}/handoffs",
            |f, _, _| ("GET", format!("/v1/runs/{}/handoffs", f.run), Payload::None),
            [200; 4],
        ),
        case("GET /v1/schedules", |_, _, _| ("GET", "/v1/schedules".into(), Payload::None), [200; 4]),
        case(
            "POST /v1/schedules",
            |f, n, _| {
                let body = json!({"name": format!("s{n}"), "target": {"agent": "qa_tester", "task": "Test"},
                    "project_id": f.project, "spec": {"cron": "@daily"}});
                ("POST", "/v1/schedules".into(), Payload::Json(body))
            },
            [201, 201, 201, 403],
        ),
        case(
            "GET /v1/schedules/{id}",
            |f, _, _| ("GET", format!("/v1/schedules/{}", f.schedule), Payload::None),
            [200; 4],
        ),
        case(
            "PATCH /v1/schedules/{id}",
            |f, n, _| ("PATCH", format!("/v1/schedules/{}", f.schedule), Payload::Json(json!({"note": n.to_string()}))),
            [200, 200, 200, 403],
        ),
        case(
            "DELETE /v1/schedules/{id}",
            |_, _, _| ("DELETE", NO_SCHEDULE.into(), Payload::None),
            [404, 404, 404, 403],
        ),
        case(
            "POST /v1/schedules/{id}/pause",
            |f, _, _| ("POST", format!("/v1/schedules/{}/pause", f.schedule), Payload::None),
            [200, 200, 200, 403],
        ),
        case(
            "POST /v1/schedules/{id}/resume",
            |f, _, _| ("POST", format!("/v1/schedules/{}/resume", f.schedule), Payload::None),
            [200, 200, 200, 403],
        ),
        case(
            "POST /v1/schedules/{id}/trigger",
            |f, _, _| ("POST", format!("/v1/schedules/{}/trigger", f.schedule), Payload::None),
            [200, 200, 200, 403],
        ),
        case(
            "POST /v1/schedules/{id}/backfill",
            |f, _, _| {
                let body = json!({"from": "2020-01-01T00:00:00Z", "to": "2020-01-02T00:00:00Z"});
                ("POST", format!("/v1/schedules/{}/backfill", f.schedule), Payload::Json(body))
            },
            [200, 200, 200, 403],
        ),
        case(
            "GET /v1/schedules/{id}/runs",
            |f, _, _| ("GET", format!("/v1/schedules/{}/runs", f.schedule), Payload::None),
            [200; 4],
        ),
        case(
            "GET /v1/schedules/{id}/upcoming",
            |f, _, _| ("GET", format!("/v1/schedules/{}/upcoming", f.schedule), Payload::None),
            [200; 4],
        ),
        case("GET /v1/knowledge", |_, _, _| ("GET", "/v1/knowledge".into(), Payload::None), [200; 4]),
        case(
            "POST /v1/knowledge",
            |_, n, _| ("POST", "/v1/knowledge".into(), Payload::Json(json!({"name": format!("Base {n}")}))),
            [201, 201, 201, 403],
        ),
        case(
            "GET /v1/knowledge/{id}",
            |f, _, _| ("GET", format!("/v1/knowledge/{}", f.knowledge), Payload::None),
            [200; 4],
        ),
        // No such base: a manager of knowledge learns that (404), anyone else is refused before the lookup (403).
        case(
            "DELETE /v1/knowledge/{id}",
            |_, _, _| ("DELETE", NO_KNOWLEDGE.into(), Payload::None),
            [404, 404, 404, 403],
        ),
        case(
            "GET /v1/knowledge/{id}/documents",
            |f, _, _| ("GET", format!("/v1/knowledge/{}/documents", f.knowledge), Payload::None),
            [200; 4],
        ),
        case(
            "POST /v1/knowledge/{id}/documents",
            |f, n, _| {
                let body = json!({"content": format!("# Note {n}\n\nNote number {n}.")});
                ("POST", format!("/v1/knowledge/{}/documents", f.knowledge), Payload::Json(body))
            },
            [201, 201, 201, 403],
        ),
        case(
            "GET /v1/knowledge/{id}/documents/{doc}",
            |f, _, _| ("GET", format!("/v1/knowledge/{}/documents/{}", f.knowledge, f.document), Payload::None),
            [200; 4],
        ),
        case(
            "DELETE /v1/knowledge/{id}/documents/{doc}",
            |f, _, _| ("DELETE", format!("/v1/knowledge/{}/documents/{}", f.knowledge, f.run), Payload::None),
            [404, 404, 404, 403],
        ),
        case(
            "POST /v1/knowledge/{id}/search",
            |f, _, _| {
                ("POST", format!("/v1/knowledge/{}/search", f.knowledge), Payload::Json(json!({"query": "handbook"})))
            },
            [200; 4],
        ),
        case("GET /v1/approvals", |_, _, _| ("GET", "/v1/approvals".into(), Payload::None), [200, 200, 403, 403]),
        // No such request: an approver learns that (404), anyone else is refused before the lookup (403).
        case(
            "POST /v1/approvals/{id}/approve",
            |_, _, _| ("POST", format!("{NO_APPROVAL}/approve"), Payload::Json(json!({}))),
            [404, 404, 403, 403],
        ),
        case(
            "POST /v1/approvals/{id}/deny",
            |_, _, _| ("POST", format!("{NO_APPROVAL}/deny"), Payload::Json(json!({}))),
            [404, 404, 403, 403],
        ),
    ]
}

async fn fixture(app: &TestApp) -> Fixture {
    let me = app.call("GET", "/v1/me", Some(&app.admin_key), None).await.expect(200);
    let (victim_user, victim_token) = app.user("victim@acme.test", &["viewer"]).await;
    let mut victim_keys = Vec::new();
    for _ in 0..=ROLES.len() * 2 {
        victim_keys.push(app.api_key(&victim_token, &[]).await.0);
    }
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
    let run = app
        .call(
            "POST",
            "/v1/agents/qa_tester/execute",
            Some(&app.admin_key),
            Some(json!({"task": "Say hello", "project_id": project["id"]})),
        )
        .await
        .expect(202);
    let body = json!({"url": "https://93.184.215.14/hook", "events": ["agent.*"]});
    let webhook = app.call("POST", "/v1/webhooks", Some(&app.admin_key), Some(body)).await.expect(201);
    assert!(app.platform.work_once("w").await.unwrap(), "the fixture's run is done before the matrix reads it");
    app.platform.relay_events().await.unwrap();
    let deliveries = format!("/v1/webhooks/{}/deliveries", webhook["id"].as_str().unwrap());
    let deliveries = app.call("GET", &deliveries, Some(&app.admin_key), None).await.expect(200);
    let body = json!({"name": "Nightly", "target": {"agent": "qa_tester", "task": "Test"}, "project_id": project["id"],
        "spec": {"cron": "0 3 * * *", "timezone": "Europe/Berlin"}});
    let schedule = app.call("POST", "/v1/schedules", Some(&app.admin_key), Some(body)).await.expect(201);
    let shared = format!("/v1/projects/{}/context/shared", project["id"].as_str().unwrap());
    app.call("PUT", &shared, Some(&app.admin_key), Some(json!({"value": "for everyone"}))).await.expect(200);
    let knowledge =
        app.call("POST", "/v1/knowledge", Some(&app.admin_key), Some(json!({"name": "Handbook"}))).await.expect(201);
    let knowledge = knowledge["id"].as_str().unwrap().to_owned();
    let upload = json!({"content": "# Handbook\n\nThe handbook of the company."});
    let documents = format!("/v1/knowledge/{knowledge}/documents");
    let document = app.call("POST", &documents, Some(&app.admin_key), Some(upload)).await.expect(201);
    Fixture {
        knowledge,
        document: document["id"].as_str().unwrap().to_owned(),
        schedule: schedule["id"].as_str().unwrap().to_owned(),
        webhook: webhook["id"].as_str().unwrap().to_owned(),
        delivery: deliveries["data"][0]["id"].as_str().expect("the run's events made deliveries").to_owned(),
        tenant_id: me["user"]["tenant_id"].as_str().unwrap().to_owned(),
        victim_user,
        department: department["id"].as_str().unwrap().to_owned(),
        project: project["id"].as_str().unwrap().to_owned(),
        run: run["id"].as_str().unwrap().to_owned(),
        victim_keys,
    }
}

const ROLES: [&str; 4] = ["admin", "manager", "developer", "viewer"];
const ROLE_SCOPES: [&[&str]; 4] = [
    &[
        "agents:execute",
        "workflows:create",
        "approvals:approve",
        "departments:manage",
        "users:manage",
        "webhooks:manage",
        "knowledge:manage",
    ],
    &["agents:execute", "workflows:create", "approvals:approve", "departments:manage", "knowledge:manage"],
    &["agents:execute", "workflows:create", "knowledge:manage"],
    &[],
];

async fn send(app: &TestApp, (method, path, payload): (&str, String, Payload), bearer: Option<&str>) -> u16 {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(bearer) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    let request = match payload {
        Payload::None => request.body(Body::empty()),
        Payload::Json(body) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap())),
        Payload::Yaml(yaml) => request.header(header::CONTENT_TYPE, "application/yaml").body(Body::from(yaml)),
    }
    .unwrap();
    let response = app.send(request).await;
    if response.status.as_u16() == 403 {
        assert_eq!(response.body["type"], "https://agentic.dev/problems/forbidden");
    }
    response.status.as_u16()
}

crate::both_backends!(rbac_matrix, every_role_on_every_operation_gets_the_expected_status);

async fn every_role_on_every_operation_gets_the_expected_status(app: TestApp) {
    // The matrix covers the whole API: every operation the OpenAPI document lists, and nothing it does not.
    let openapi = app.call("GET", "/openapi.json", None, None).await.expect(200);
    let mut documented = BTreeSet::new();
    for (path, operations) in openapi["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let cases = cases();
    let covered: BTreeSet<String> = cases.iter().map(|c| c.operation.to_owned()).collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let unknown: Vec<_> = covered.difference(&documented).collect();
    assert!(missing.is_empty() && unknown.is_empty(), "not in the matrix: {missing:?}; not in the API: {unknown:?}");

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
    for case in &cases {
        for (slot, (role_index, who, credential)) in credentials.iter().enumerate() {
            n += 1;
            let status = send(&app, (case.target)(&fixture, n, slot), Some(credential)).await;
            if status != case.roles[*role_index] {
                failures.push(format!("{} as {who}: got {status}, want {}", case.operation, case.roles[*role_index]));
            }
        }
        n += 1;
        let status = send(&app, (case.target)(&fixture, n, credentials.len()), None).await;
        if status != case.anonymous {
            failures.push(format!("{} anonymously: got {status}, want {}", case.operation, case.anonymous));
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
