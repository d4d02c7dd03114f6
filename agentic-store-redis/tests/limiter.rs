//! The Redis limiter against a real Redis: exact across replicas, and never a hang when Redis stops.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use agentic_core::limit::{LimitCheck, LimitScope, Quota, RateLimiter};
use agentic_store_redis::{RedisLimiterOptions, RedisRateLimiter};
use common::{PrivateRedis, redis_url};

fn options() -> RedisLimiterOptions {
    // A fresh prefix per run: tests never see each other's (or an earlier run's) keys.
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    RedisLimiterOptions { prefix: format!("agentic-test:{run}:"), ..RedisLimiterOptions::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_admit_exactly_the_quota() {
    let Some(url) = redis_url() else { return };
    let options = RedisLimiterOptions { timeout: Duration::from_secs(2), ..options() };
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(Arc::new(RedisRateLimiter::connect(&url, options.clone()).await.unwrap()));
    }
    let quota = Quota::per_hour(200);
    let key =
        format!("replicas-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    let allowed = Arc::new(AtomicU32::new(0));
    let mut callers = Vec::new();
    // 64 callers × 16 requests = 1,024 offered, 5.1 × the quota, spread over the three replicas.
    for caller in 0..64 {
        let limiter = Arc::clone(&replicas[caller % 3]);
        let (allowed, key) = (Arc::clone(&allowed), key.clone());
        callers.push(tokio::spawn(async move {
            for _ in 0..16 {
                let check = LimitCheck { key: key.clone(), quota, scope: LimitScope::Tenant };
                if limiter.check(&[check]).await.unwrap().allowed {
                    allowed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for caller in callers {
        caller.await.unwrap();
    }
    assert_eq!(allowed.load(Ordering::Relaxed), 200);
}

#[tokio::test]
async fn decisions_report_limits_and_refusals_consume_nothing() {
    let Some(url) = redis_url() else { return };
    let limiter = RedisRateLimiter::connect(&url, options()).await.unwrap();
    let tenant = LimitCheck { key: "decisions-t".into(), quota: Quota::per_hour(5), scope: LimitScope::Tenant };
    let route = LimitCheck { key: "decisions-r".into(), quota: Quota::per_minute(1), scope: LimitScope::Route };
    let first = limiter.check(&[tenant.clone(), route.clone()]).await.unwrap();
    assert!(first.allowed);
    assert_eq!((first.limit, first.remaining), (1, 0));
    let refused = limiter.check(&[tenant.clone(), route.clone()]).await.unwrap();
    assert!(!refused.allowed);
    assert_eq!(refused.denied_by, Some(LimitScope::Route));
    assert_eq!(refused.retry_after_secs(), 60);
    // The tenant's quota lost only the one allowed request.
    let alone = limiter.check(&[tenant]).await.unwrap();
    assert_eq!(alone.remaining, 3);
}

#[tokio::test]
async fn a_stopped_redis_is_an_error_not_a_hang() {
    let Some(_) = redis_url() else { return };
    let mut redis = PrivateRedis::start();
    let limiter = RedisRateLimiter::connect(&redis.url(), options()).await.unwrap();
    let check = LimitCheck { key: "stop".into(), quota: Quota::per_minute(100), scope: LimitScope::Principal };
    assert!(limiter.check(std::slice::from_ref(&check)).await.unwrap().allowed);
    redis.stop();
    let started = Instant::now();
    let outcome = limiter.check(&[check]).await;
    assert!(outcome.is_err(), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}
