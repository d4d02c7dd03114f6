//! Redis stopped under a running platform: the configured fail mode applies, with a clear log line.
//! (Its own test binary: it captures the log, and `tracing` caches callsite interest per process.)
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use agentic_core::Platform;
use agentic_core::engine::Bootstrap;
use agentic_core::limit::{FailMode, Quota, RateLimitPolicy};
use agentic_core::model::Plan;
use agentic_core::testing::LogCapture;
use agentic_store_memory::MemoryStore;
use agentic_store_redis::{RedisLimiterOptions, RedisRateLimiter};
use axum::body::Body;
use axum::http::Request;
use common::{PrivateRedis, redis_url};
use tower::ServiceExt;

async fn platform(url: &str, fail_mode: FailMode) -> (axum::Router, String, Platform) {
    let limiter = RedisRateLimiter::connect(url, RedisLimiterOptions::default()).await.unwrap();
    let policy =
        RateLimitPolicy { per_principal: Some(Quota::per_minute(100)), fail_mode, ..RateLimitPolicy::default() };
    let platform =
        Platform::builder().store(Arc::new(MemoryStore::new())).rate_limits(Arc::new(limiter), policy).build().unwrap();
    let report = platform
        .bootstrap(Bootstrap {
            slug: "acme".into(),
            plan: Plan::Free,
            admin_email: "admin@acme.test".into(),
            admin_password: "admin password 123".into(),
            api_key: None,
        })
        .await
        .unwrap()
        .unwrap();
    let key = secrecy::ExposeSecret::expose_secret(&report.api_key).to_owned();
    (platform.router(), key, platform)
}

async fn me(router: &axum::Router, key: &str) -> axum::http::Response<Body> {
    let request = Request::get("/v1/me").header("authorization", format!("Bearer {key}")).body(Body::empty()).unwrap();
    router.clone().oneshot(request).await.unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn a_stopped_redis_applies_the_fail_mode_with_a_clear_log_line() {
    let Some(_) = redis_url() else { return };
    let buffer = LogCapture::default();
    let subscriber = tracing_subscriber::fmt().with_writer(buffer.make_writer()).with_ansi(false).finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut redis = PrivateRedis::start();
    let (open, open_key, open_platform) = platform(&redis.url(), FailMode::Open).await;
    let (closed, closed_key, _) = platform(&redis.url(), FailMode::Closed).await;

    let response = me(&open, &open_key).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["ratelimit-limit"], "100");
    assert_eq!(me(&closed, &closed_key).await.status(), 200);

    redis.stop();
    let started = std::time::Instant::now();
    let response = me(&open, &open_key).await;
    assert_eq!(response.status(), 200, "fail open lets the request through");
    assert!(response.headers().get("ratelimit-limit").is_none());
    let response = me(&closed, &closed_key).await;
    assert_eq!(response.status(), 503, "fail closed refuses");
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "no hang: {:?}", started.elapsed());

    let log = buffer.text();
    assert!(log.contains("rate limiter unavailable; letting the request through"), "{log}");
    assert!(log.contains("rate limiter unavailable; refusing the request"), "{log}");
    let metrics = open_platform.metrics().render().unwrap();
    assert!(metrics.contains("rate_limit_backend_errors_total 1"), "{metrics}");
}
