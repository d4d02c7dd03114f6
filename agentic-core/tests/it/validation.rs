//! Bad input gets a clear 4xx problem, never a 500.

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};

use crate::support::TestApp;

#[tokio::test]
async fn malformed_requests_get_clear_problems() {
    let app = TestApp::new().await;
    let key = app.admin_key.clone();
    let raw = |method: &str, path: &str, content_type: Option<&str>, body: &[u8]| {
        let mut request = Request::builder().method(method).uri(path).header("authorization", format!("Bearer {key}"));
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        request.body(Body::from(body.to_vec())).unwrap()
    };
    let check = |status: u16, slug: &str, detail_has: &str| (status, slug.to_owned(), detail_has.to_owned());
    let cases = vec![
        (raw("POST", "/v1/users", Some("application/json"), b"{not json"), check(400, "malformed-body", "")),
        (raw("POST", "/v1/users", Some("text/plain"), b"{}"), check(415, "unsupported-media-type", "")),
        (raw("POST", "/v1/users", None, b"{}"), check(415, "unsupported-media-type", "")),
        (
            raw(
                "POST",
                "/v1/users",
                Some("application/json"),
                br#"{"email":"a@b.co","password":"long enough pw","roles":["root"]}"#,
            ),
            check(422, "validation", "root"),
        ),
        (
            raw(
                "POST",
                "/v1/users",
                Some("application/json"),
                br#"{"email":"not-an-email","password":"long enough pw","roles":["viewer"]}"#,
            ),
            check(422, "validation", "email"),
        ),
        (
            raw(
                "POST",
                "/v1/users",
                Some("application/json"),
                br#"{"email":"a@b.co","password":"short","roles":["viewer"]}"#,
            ),
            check(422, "validation", "password"),
        ),
        (
            raw(
                "POST",
                "/v1/users",
                Some("application/json"),
                br#"{"email":"a@b.co","password":"long enough pw","roles":[]}"#,
            ),
            check(422, "validation", "roles"),
        ),
        (
            raw(
                "POST",
                "/v1/users",
                Some("application/json"),
                br#"{"email":"a@b.co","password":"long enough pw","roles":["viewer"],"role":"admin"}"#,
            ),
            check(422, "validation", "role"),
        ),
        (
            raw("POST", "/v1/departments", Some("application/json"), br#"{"name":"   "}"#),
            check(422, "validation", "name"),
        ),
        (
            raw("POST", "/v1/projects", Some("application/json"), br#"{"name":"P","budget":12.5}"#),
            check(422, "validation", "budget"),
        ),
        (
            raw("POST", "/v1/projects", Some("application/json"), br#"{"name":"P","budget":"-1"}"#),
            check(422, "validation", "budget"),
        ),
        (raw("GET", "/v1/users/not-a-uuid", None, b""), check(400, "bad-path", "")),
        (raw("GET", "/v1/users?limit=abc", None, b""), check(400, "bad-query", "")),
        (raw("GET", "/v1/nowhere", None, b""), check(404, "not-found", "")),
        (raw("PUT", "/v1/users", None, b""), check(405, "method-not-allowed", "")),
        (
            raw(
                "POST",
                "/v1/departments",
                Some("application/json"),
                format!(r#"{{"name":"{}"}}"#, "x".repeat(2 * 1024 * 1024)).as_bytes(),
            ),
            check(413, "payload-too-large", ""),
        ),
    ];
    for (request, (status, slug, detail_has)) in cases {
        let what = format!("{} {}", request.method(), request.uri());
        let response = app.send(request).await;
        assert_eq!(response.status.as_u16(), status, "{what}: {}", response.body);
        assert_eq!(response.body["type"], format!("https://agentic.dev/problems/{slug}"), "{what}");
        let detail = response.body["detail"].as_str().unwrap();
        assert!(detail.contains(&detail_has), "{what}: detail {detail:?} should mention {detail_has:?}");
    }
}

#[tokio::test]
async fn conflicts_are_409() {
    let app = TestApp::new().await;
    app.user("dup@acme.test", &["viewer"]).await;
    let response = app
        .call(
            "POST",
            "/v1/users",
            Some(&app.admin_key),
            Some(json!({"email": "DUP@acme.test", "password": "long enough pw", "roles": ["viewer"]})),
        )
        .await;
    assert_eq!(response.status.as_u16(), 409);
    app.call("POST", "/v1/departments", Some(&app.admin_key), Some(json!({"name": "Ops"}))).await.expect(201);
    app.call("POST", "/v1/departments", Some(&app.admin_key), Some(json!({"name": "ops"}))).await.expect(409);
}

#[tokio::test]
async fn login_failures_are_indistinguishable() {
    let app = TestApp::new().await;
    app.user("dev@acme.test", &["developer"]).await;
    let mut details = Vec::new();
    for (tenant, email, password) in [
        ("acme", "dev@acme.test", "wrong password!"),
        ("acme", "nobody@acme.test", "user password 123"),
        ("nope", "dev@acme.test", "user password 123"),
        ("Not A Slug", "bad email", "x"),
    ] {
        let response = app
            .call("POST", "/v1/auth/login", None, Some(json!({"tenant": tenant, "email": email, "password": password})))
            .await;
        assert_eq!(response.status.as_u16(), 401);
        details.push(response.body["detail"].as_str().unwrap().to_owned());
    }
    details.dedup();
    assert_eq!(details.len(), 1, "{details:?}");
}

#[tokio::test]
async fn repeated_failed_sign_ins_lock_the_account_for_doubling_times() {
    let app = TestApp::new().await;
    app.user("dev@acme.test", &["developer"]).await;
    let login = |email: &'static str, password: &'static str| {
        let app = &app;
        async move {
            app.call(
                "POST",
                "/v1/auth/login",
                None,
                Some(json!({"tenant": "acme", "email": email, "password": password})),
            )
            .await
        }
    };
    // An existing account and an unknown one behave alike: five free failures, then a lockout on the sixth.
    for email in ["dev@acme.test", "ghost@acme.test"] {
        for _ in 0..6 {
            assert_eq!(login(email, "wrong password!").await.status.as_u16(), 401, "{email}");
        }
        let locked = login(email, "user password 123").await;
        assert_eq!(locked.status.as_u16(), 429, "{email}: even the right password waits: {}", locked.body);
        assert_eq!(locked.headers["retry-after"], "1");
        assert!(locked.body["detail"].as_str().unwrap().contains("failed sign-ins"), "{}", locked.body);
    }
    // Another failure after the lockout doubles it.
    app.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(login("dev@acme.test", "wrong password!").await.status.as_u16(), 401);
    assert_eq!(login("dev@acme.test", "user password 123").await.headers["retry-after"], "2");
    // Once it has passed, the right password signs in and the streak starts over.
    app.clock.advance(chrono::Duration::seconds(3));
    login("dev@acme.test", "user password 123").await.expect(200);
    assert_eq!(login("dev@acme.test", "wrong password!").await.status.as_u16(), 401);
    login("dev@acme.test", "user password 123").await.expect(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_beyond_the_hashing_capacity_are_turned_away_with_retry_after() {
    let app = TestApp::with(|b| {
        b.jwt_key(agentic_core::auth::jwt::KeyPair::hs256("hs-1", crate::support::HS_SECRET).unwrap())
            .password_hashing(1, 0)
    })
    .await;
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let body = json!({"tenant": "acme", "email": format!("u{i}@acme.test"), "password": "wrong password!"});
            let router = app.router.clone();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let request = Request::post("/v1/auth/login")
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap();
                let response = router.oneshot(request).await.unwrap();
                (response.status().as_u16(), response.headers().get("retry-after").cloned())
            })
        })
        .collect();
    let mut busy = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            (401, _) => {}
            (503, Some(retry_after)) => {
                assert_eq!(retry_after, "1");
                busy += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(busy > 0, "eight concurrent hashes with room for one: some are turned away");
}

#[tokio::test]
async fn pagination_walks_every_item_once() {
    let app = TestApp::new().await;
    for i in 0..7 {
        app.call("POST", "/v1/departments", Some(&app.admin_key), Some(json!({"name": format!("D{i}")})))
            .await
            .expect(201);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(after) => format!("/v1/departments?limit=3&after={after}"),
            None => "/v1/departments?limit=3".into(),
        };
        let page = app.call("GET", &path, Some(&app.admin_key), None).await.expect(200);
        for d in page["data"].as_array().unwrap() {
            seen.push(d["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, (0..7).map(|i| format!("D{i}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn service_documents_are_served() {
    let app = TestApp::new().await;
    let openapi = app.call("GET", "/openapi.json", None, None).await.expect(200);
    assert_eq!(openapi["openapi"], "3.1.0");
    for path in ["/v1/users", "/v1/api-keys", "/v1/projects/{id}", "/v1/auth/login", "/v1/tenants", "/v1/workflows"] {
        assert!(openapi["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    // The problem catalogue is API: its schema lists every slug, and the description documents each one.
    let slugs = openapi["components"]["schemas"]["ProblemType"]["enum"].as_array().expect("ProblemType schema");
    let description = openapi["info"]["description"].as_str().unwrap();
    for kind in agentic_core::api::ProblemType::ALL {
        assert!(slugs.contains(&json!(kind.slug())), "{kind} missing from the ProblemType schema");
        let row = format!("| `{}` | {} | {} |", kind.slug(), kind.status(), kind.title());
        assert!(description.contains(&row), "{kind} missing from the description");
    }
    // A run's output is typed: an agent run's or a workflow's shape (or null), and every reference resolves.
    let schemas = &openapi["components"]["schemas"];
    let shapes: Vec<&str> = schemas["Run"]["properties"]["output"]["oneOf"]
        .as_array()
        .expect("Run.output is oneOf")
        .iter()
        .filter_map(|s| s["$ref"].as_str())
        .collect();
    assert_eq!(shapes, ["#/components/schemas/AgentRunOutput", "#/components/schemas/PipelineOutput"]);
    let agent_output = &schemas["AgentRunOutput"]["properties"];
    assert!(["answer", "steps", "usage"].iter().all(|f| agent_output[f].is_object()), "{agent_output}");
    assert!(schemas["Usage"]["properties"]["input_tokens"].is_object());
    let mut refs = Vec::new();
    collect_refs(&openapi, &mut refs);
    for reference in refs {
        let name = reference.strip_prefix("#/components/schemas/").expect("a schema reference");
        assert!(schemas[name].is_object(), "{reference} does not resolve");
    }
    let docs = app.send(Request::get("/docs").body(Body::empty()).unwrap()).await;
    assert_eq!((docs.status.as_u16(), docs.headers["location"].to_str().unwrap()), (303, "/docs/"));
    app.call("GET", "/health", None, None).await.expect(200);
    app.call("GET", "/ready", None, None).await.expect(200);
    app.call("GET", "/v1/me", Some(&app.admin_key), None).await.expect(200);
    let text = scrape(&app.platform.metrics_router(), None).await.1;
    assert!(text.contains(r#"http_requests_total{method="GET",route="/v1/me",status="200"}"#), "{text}");
}

/// The docs UI works offline and under a strict policy: every file it loads is ours, served with a
/// Content-Security-Policy that allows our own origin only, and it reads our document.
#[tokio::test]
async fn the_docs_ui_is_served_from_the_binary_under_a_same_origin_policy() {
    let app = TestApp::new().await;
    let get = |path: &str| app.send(Request::get(path).body(Body::empty()).unwrap());
    let page = get("/docs/").await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.body.as_str().expect("an HTML page").to_owned();
    // What the page loads: every src and href, each a path on our origin, each served with the policy.
    let mut loaded = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for piece in html.split(attribute).skip(1) {
            loaded.push(piece.split('"').next().unwrap().to_owned());
        }
    }
    assert!(loaded.iter().any(|l| l.ends_with("swagger-ui-bundle.js")), "{html}");
    for file in &loaded {
        assert!(!file.contains("//") && !file.starts_with("data:"), "{file} is not on our origin");
        let path = format!("/docs/{}", file.trim_start_matches("./"));
        let reply = get(&path).await;
        assert_eq!(reply.status.as_u16(), 200, "{path}");
        assert_eq!(reply.headers["content-security-policy"], agentic_core::http::DOCS_CONTENT_SECURITY_POLICY);
    }
    assert_eq!(page.headers["content-security-policy"], agentic_core::http::DOCS_CONTENT_SECURITY_POLICY);
    for directive in ["default-src 'none'", "script-src 'self';", "connect-src 'self';", "style-src 'self' 'sha256-"] {
        assert!(agentic_core::http::DOCS_CONTENT_SECURITY_POLICY.contains(directive), "{directive}");
    }
    // The initializer reads our document and asks no validator elsewhere for a badge.
    let initializer = get("/docs/swagger-initializer.js").await.body.as_str().unwrap().to_owned();
    assert!(initializer.contains("\"/openapi.json\""), "{initializer}");
    assert!(initializer.contains("\"validatorUrl\": \"none\""), "{initializer}");
    assert!(!initializer.contains("http://") && !initializer.contains("https://"), "{initializer}");
}

/// Every `$ref` in a JSON document.
fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner.as_str()) {
                    ("$ref", Some(reference)) => refs.push(reference.to_owned()),
                    _ => collect_refs(inner, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
        _ => {}
    }
}

pub(crate) async fn scrape(router: &axum::Router, bearer: Option<&str>) -> (u16, String) {
    use tower::ServiceExt;
    let mut request = Request::get("/metrics");
    if let Some(bearer) = bearer {
        request = request.header("authorization", format!("Bearer {bearer}"));
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn metrics_stay_off_the_api_unless_a_token_opens_them() {
    // By default the API listener has no /metrics at all, and project ids are no label.
    let app = TestApp::new().await;
    let project = app.call("POST", "/v1/projects", Some(&app.admin_key), Some(json!({"name": "P"}))).await.expect(201);
    assert_eq!(scrape(&app.router, None).await.0, 404);
    assert_eq!(scrape(&app.router, Some(&app.admin_key)).await.0, 404, "not even for a tenant's admin");
    let (status, text) = scrape(&app.platform.metrics_router(), None).await;
    assert_eq!(status, 200);
    assert!(!text.contains(project["id"].as_str().unwrap()));

    // With a metrics token, the API serves them to its bearer only.
    let token = "metrics-token-0123456789abcdefghijkl";
    let app = TestApp::with(|b| b.metrics_token(token.into())).await;
    assert_eq!(scrape(&app.router, None).await.0, 401);
    assert_eq!(scrape(&app.router, Some(&app.admin_key)).await.0, 401);
    let (status, text) = scrape(&app.router, Some(token)).await;
    assert_eq!(status, 200);
    assert!(text.contains("http_requests_total"), "{text}");
    let store = std::sync::Arc::new(agentic_store_memory::MemoryStore::new());
    let short = agentic_core::Platform::builder().store(store).metrics_token("short".into()).build();
    assert!(matches!(short, Err(agentic_core::Error::Config(_))), "a guessable token is refused");
}

#[test]
fn a_failed_workflow_step_keeps_its_cause() {
    use agentic_core::Error;
    use agentic_core::http::problem::problem_for;
    let budget = agentic_core::model::BudgetStatus {
        budget: Some(agentic_core::model::Money::from_nanos(100)),
        spent: agentic_core::model::Money::from_nanos(100),
        reserved: agentic_core::model::Money::ZERO,
    };
    let cause = Error::BudgetExceeded {
        project: agentic_core::ids::ProjectId::new(),
        status: budget,
        requested: agentic_core::model::Money::from_nanos(5),
    };
    let failed = Error::step("task 2 (developer)", cause);
    assert!(matches!(failed.cause(), Error::BudgetExceeded { .. }));
    assert_eq!(failed.code(), "budget-exceeded");
    let problem = problem_for(&failed);
    assert_eq!(problem.status, 402, "a budget refusal inside a step is still a 402, not a 409");
    assert!(problem.detail.starts_with("task 2 (developer) failed: the budget of project"), "{}", problem.detail);
    let internal = Error::step("planning", Error::Internal("pool timed out at db-3.internal".into()));
    assert_eq!(internal.public_detail(), "planning failed: an internal error occurred");
    assert!(internal.is_internal());
}

#[tokio::test]
async fn every_write_route_answers_an_oversized_body_with_a_413_problem() {
    let app = TestApp::new().await;
    let openapi = app.send(Request::get("/openapi.json").body(Body::empty()).unwrap()).await.body;
    // Past every route's limit: the API's (1 MiB) and a document upload's (10 MiB).
    let huge = "x".repeat(11 * 1024 * 1024);
    let mut checked = Vec::new();
    for (path, operations) in openapi["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let Some(body) = operation.get("requestBody") else { continue };
            let content_type = body["content"].as_object().unwrap().keys().next().unwrap().clone();
            // Any well-formed path: the body limit answers before the handler looks the object up.
            let uri =
                path.replace("{id}", &agentic_core::ids::ProjectId::new().to_string()).replace("{name}", "qa_tester");
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header("authorization", format!("Bearer {}", app.admin_key))
                .header("content-type", &content_type)
                .body(Body::from(huge.clone()))
                .unwrap();
            // `send` also checks that the answer is a problem document.
            let response = app.send(request).await;
            assert_eq!(response.status.as_u16(), 413, "{method} {path}: {}", response.body);
            checked.push(format!("{method} {path}"));
        }
    }
    assert!(checked.len() >= 10, "every write route was tried: {checked:?}");
}
