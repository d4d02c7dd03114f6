//! The context store's conformance suite on Redis (each case under a key prefix of its own), and Redis expiring
//! a value itself. Without `REDIS_URL` there are no cases (under `AGENTIC_REQUIRE_BACKENDS=1` that fails).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use agentic_core::ids::{ProjectId, TenantId};
use agentic_core::model::{ContextLimits, ContextWrite, Expect, Provenance};
use agentic_core::store::{ContextScope, ContextStore};
use agentic_store_redis::{RedisContextOptions, RedisContextStore};

async fn connect(url: &str) -> RedisContextStore {
    let options =
        RedisContextOptions { prefix: format!("agentic:ctx:test:{}:", TenantId::new()), ..Default::default() };
    RedisContextStore::connect(url, options).await.unwrap()
}

fn expiry_trial(url: String) -> libtest_mimic::Trial {
    libtest_mimic::Trial::test("redis::context::redis_expires_a_value_itself", move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let store = connect(&url).await;
            let scope = ContextScope { tenant: TenantId::new(), project: ProjectId::new() };
            let by = Provenance::default();
            let now = chrono::Utc::now();
            let write = ContextWrite {
                key: "brief",
                provenance: &by,
                ttl: Duration::from_millis(700),
                now,
                limits: ContextLimits::default(),
            };
            store.put(scope, &serde_json::json!(1), Expect::Any, &write).await.unwrap().unwrap();
            let mut raw = redis::Client::open(url.as_str()).unwrap().get_multiplexed_async_connection().await.unwrap();
            let pattern = format!("*{}*", scope.project);
            let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query_async(&mut raw).await.unwrap();
            assert_eq!(keys.len(), 2, "the value and the project's index: {keys:?}");
            tokio::time::sleep(Duration::from_millis(1_000)).await;
            let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query_async(&mut raw).await.unwrap();
            assert!(keys.is_empty(), "Redis expired both itself: {keys:?}");
        });
        Ok(())
    })
}

fn main() -> std::process::ExitCode {
    let mut trials = Vec::new();
    if let Some(url) = common::redis_url() {
        let for_cases = url.clone();
        trials = agentic_core::testing::context::context_trials("redis", move || {
            let url = for_cases.clone();
            async move { (Arc::new(connect(&url).await) as Arc<dyn ContextStore>, (), None) }
        });
        trials.push(expiry_trial(url));
    }
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit_code()
}
