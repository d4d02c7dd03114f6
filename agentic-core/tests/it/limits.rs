//! Rate limits over HTTP: 429 with the right headers, tiers by plan, route and role overrides, per-IP limits
//! before authentication, and the fail modes.

use std::net::SocketAddr;
use std::sync::Arc;

use agentic_core::limit::{
    Decision, FailMode, LimitCheck, LimitError, PlanQuotas, Quota, RateLimitPolicy, RateLimiter, RouteOverride,
};
use agentic_core::model::Role;
use agentic_store_memory::MemoryRateLimiter;
use async_trait::async_trait;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use serde_json::json;

use crate::support::{MASTER_KEY, TestApp};

fn policy() -> RateLimitPolicy {
    RateLimitPolicy {
        per_ip: Some(Quota::per_minute(2)),
        plans: PlanQuotas { free: Some(Quota::per_hour(3)), developer: Some(Quota::per_hour(6)), enterprise: None },
        per_principal: None,
        roles: vec![(Role::Viewer, Quota::per_minute(1))],
        routes: vec![RouteOverride::parse("GET /v1/projects", "2/minute").unwrap()],
        login_per_account: None,
        fail_mode: FailMode::Open,
    }
}

async fn limited_app(policy: RateLimitPolicy, limiter: Arc<dyn RateLimiter>) -> TestApp {
    TestApp::with(move |b| {
        b.jwt_key(agentic_core::auth::jwt::KeyPair::hs256("hs-1", crate::support::HS_SECRET).unwrap())
            .rate_limits(limiter, policy)
    })
    .await
}

/// A tenant on `plan`; returns its admin's API key.
async fn tenant(app: &TestApp, slug: &str, plan: &str) -> String {
    app.call(
        "POST",
        "/v1/tenants",
        Some(MASTER_KEY),
        Some(json!({"name": slug, "slug": slug, "plan": plan, "admin_email": format!("boss@{slug}.test"),
            "admin_password": "tenant password 1"})),
    )
    .await
    .expect(201);
    let token = app.login(slug, &format!("boss@{slug}.test"), "tenant password 1").await;
    app.api_key(&token, &["users:manage", "departments:manage"]).await.1
}

async fn get(app: &TestApp, path: &str, key: &str) -> axum::http::Response<Body> {
    let request = Request::get(path).header("authorization", format!("Bearer {key}")).body(Body::empty()).unwrap();
    tower::ServiceExt::oneshot(app.router.clone(), request).await.unwrap()
}

fn header(response: &axum::http::Response<Body>, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn plans_set_the_tenant_tier_and_429s_carry_the_headers() {
    let app = limited_app(policy(), Arc::new(MemoryRateLimiter::new())).await;
    let free = tenant(&app, "freebie", "free").await;
    // Creating the key above cost the tenant one request of its 3 per hour.
    let first = get(&app, "/v1/me", &free).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "ratelimit-limit").as_deref(), Some("3"));
    assert_eq!(header(&first, "ratelimit-remaining").as_deref(), Some("1"));
    assert_eq!(header(&first, "ratelimit-reset").as_deref(), Some("2400"), "two requests are 40 minutes of quota");
    assert_eq!(get(&app, "/v1/me", &free).await.status(), 200);
    let refused = get(&app, "/v1/me", &free).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "retry-after").as_deref(), Some("1200"));
    assert_eq!(header(&refused, "ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(header(&refused, "content-type").as_deref(), Some("application/problem+json"));
    let body = axum::body::to_bytes(refused.into_body(), usize::MAX).await.unwrap();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["type"], "https://agentic.dev/problems/rate-limited");
    assert!(problem["detail"].as_str().unwrap().contains("tenant"));

    // The enterprise tenant (bootstrap) has no tier: no limit, no headers.
    for _ in 0..10 {
        let response = get(&app, "/v1/me", &app.admin_key).await;
        assert_eq!(response.status(), 200);
        assert!(header(&response, "ratelimit-limit").is_none());
    }
    let metrics = app.platform.metrics().render().unwrap();
    assert!(metrics.contains(r#"rate_limit_hits_total{scope="tenant"} 1"#), "{metrics}");
}

#[tokio::test]
async fn route_overrides_win_over_role_and_tier() {
    let app = limited_app(policy(), Arc::new(MemoryRateLimiter::new())).await;
    let dev = tenant(&app, "devshop", "developer").await; // 6/hour, one used
    let projects = get(&app, "/v1/projects", &dev).await;
    assert_eq!(header(&projects, "ratelimit-limit").as_deref(), Some("2"), "the route limit is the tightest");
    assert_eq!(get(&app, "/v1/projects", &dev).await.status(), 200);
    let refused = get(&app, "/v1/projects", &dev).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "retry-after").as_deref(), Some("30"));
    // Other routes still run on the tenant tier: 6 − 1 (key) − 2 (projects) = 3 left.
    let me = get(&app, "/v1/me", &dev).await;
    assert_eq!(me.status(), 200);
    assert_eq!(header(&me, "ratelimit-remaining").as_deref(), Some("2"));

    // A viewer is limited to 1/minute by role, except on the overridden route (2/minute).
    let (_, viewer_token) = app.user("viewer@acme.test", &["viewer"]).await;
    assert_eq!(get(&app, "/v1/me", &viewer_token).await.status(), 200);
    assert_eq!(get(&app, "/v1/me", &viewer_token).await.status(), 429);
    assert_eq!(get(&app, "/v1/projects", &viewer_token).await.status(), 200);
    assert_eq!(get(&app, "/v1/projects", &viewer_token).await.status(), 200);
    assert_eq!(get(&app, "/v1/projects", &viewer_token).await.status(), 429);
}

#[tokio::test]
async fn client_ips_are_limited_before_authentication() {
    let app = limited_app(policy(), Arc::new(MemoryRateLimiter::new())).await;
    let attempt = |ip: [u8; 4]| {
        let mut request = Request::post("/v1/auth/login")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"tenant":"acme","email":"admin@acme.test","password":"guess guess guess"}"#))
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from((ip, 40000))));
        tower::ServiceExt::oneshot(app.router.clone(), request)
    };
    assert_eq!(attempt([10, 0, 0, 1]).await.unwrap().status(), 401);
    assert_eq!(attempt([10, 0, 0, 1]).await.unwrap().status(), 401);
    let third = attempt([10, 0, 0, 1]).await.unwrap();
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    assert_eq!(attempt([10, 0, 0, 2]).await.unwrap().status(), 401, "another address has its own quota");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_quota_and_a_spoofed_header_changes_nothing() {
    let limiter: Arc<dyn RateLimiter> = Arc::new(MemoryRateLimiter::new());
    let app = TestApp::with(move |b| {
        b.jwt_key(agentic_core::auth::jwt::KeyPair::hs256("hs-1", crate::support::HS_SECRET).unwrap())
            .rate_limits(limiter, policy())
            .trusted_proxies(vec!["10.0.0.0/8".parse().unwrap()])
    })
    .await;
    let attempt = |peer: [u8; 4], forwarded_for: &str| {
        let mut request = Request::post("/v1/auth/login")
            .header("content-type", "application/json")
            .header("x-forwarded-for", forwarded_for)
            .body(Body::from(r#"{"tenant":"acme","email":"admin@acme.test","password":"guess guess guess"}"#))
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(SocketAddr::from((peer, 40000))));
        tower::ServiceExt::oneshot(app.router.clone(), request)
    };
    // Through the load balancer (10.0.0.5): two clients, each with its own two attempts a minute.
    let balancer = [10, 0, 0, 5];
    for _ in 0..2 {
        assert_eq!(attempt(balancer, "198.51.100.1").await.unwrap().status(), 401);
    }
    assert_eq!(attempt(balancer, "198.51.100.1").await.unwrap().status(), 429);
    // A spoofed hop before the real one changes nothing: the rightmost untrusted hop is the client.
    assert_eq!(attempt(balancer, "6.6.6.6, 198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(attempt(balancer, "198.51.100.2").await.unwrap().status(), 401, "another client, another quota");
    // Straight from the internet, the header is ignored: the peer is the client.
    let direct = [203, 0, 113, 9];
    for n in 0..2 {
        assert_eq!(attempt(direct, &format!("198.51.100.{}", 50 + n)).await.unwrap().status(), 401);
    }
    assert_eq!(attempt(direct, "198.51.100.99").await.unwrap().status(), 429, "a new header does not escape");
}

#[derive(Debug)]
struct BrokenLimiter;

#[async_trait]
impl RateLimiter for BrokenLimiter {
    async fn check(&self, _: &[LimitCheck]) -> Result<Decision, LimitError> {
        Err(LimitError("backend down".into()))
    }
}

#[tokio::test]
async fn a_limiter_that_cannot_decide_applies_the_fail_mode() {
    let open = limited_app(policy(), Arc::new(BrokenLimiter)).await;
    let key = tenant(&open, "opener", "free").await;
    for _ in 0..5 {
        assert_eq!(get(&open, "/v1/me", &key).await.status(), 200);
    }
    assert!(open.platform.metrics().render().unwrap().contains("rate_limit_backend_errors_total"));

    let closed =
        limited_app(RateLimitPolicy { fail_mode: FailMode::Closed, ..policy() }, Arc::new(BrokenLimiter)).await;
    let response = get(&closed, "/v1/me", &closed.admin_key).await;
    // The bootstrap tenant is enterprise (no tier) and has no role limit for admins: nothing to check, so it
    // passes even with a broken limiter. A free tenant's request must be decided, and is refused.
    assert_eq!(response.status(), 200);
    let status = closed
        .call(
            "POST",
            "/v1/tenants",
            Some(MASTER_KEY),
            Some(json!({"name": "c", "slug": "closed-t", "plan": "free", "admin_email": "b@c.test", "admin_password": "tenant password 1"})),
        )
        .await
        .status;
    assert_eq!(status, 201, "unauthenticated requests without a client address have no limit to decide");
    let token = closed.login("closed-t", "b@c.test", "tenant password 1").await;
    let refused = get(&closed, "/v1/me", &token).await;
    assert_eq!(refused.status(), 503);
}

#[tokio::test]
async fn sign_ins_are_limited_per_account_through_the_shared_limiter() {
    let policy = RateLimitPolicy { login_per_account: Some(Quota::per_minute(2)), per_ip: None, ..policy() };
    let app = limited_app(policy, Arc::new(MemoryRateLimiter::new())).await;
    let body = |email: &str| json!({"tenant": "acme", "email": email, "password": "admin password 123"});
    app.call("POST", "/v1/auth/login", None, Some(body("admin@acme.test"))).await.expect(200);
    app.call("POST", "/v1/auth/login", None, Some(body("ADMIN@acme.test"))).await.expect(200);
    let refused = app.call("POST", "/v1/auth/login", None, Some(body("admin@acme.test"))).await.expect(429);
    assert!(refused["detail"].as_str().unwrap().contains("sign-in attempts"), "{refused}");
    // Another account of the same tenant has its own allowance.
    app.call("POST", "/v1/auth/login", None, Some(body("other@acme.test"))).await.expect(401);
}
