//! The conformance suite of [`ContextStore`] backends (memory, PostgreSQL, Redis): compare-and-set by version,
//! expiry, appends that lose nothing under concurrency, the limits, and scopes that never see each other.
//!
//! ```
//! use std::sync::Arc;
//! use agentic_core::store::ContextStore;
//!
//! let trials = agentic_core::testing::context::context_trials("memory", || async {
//!     let store: Arc<dyn ContextStore> = Arc::new(agentic_store_memory::MemoryContextStore::new());
//!     (store, (), None)
//! });
//! assert!(trials.len() >= 4);
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::fixtures::now;
use crate::ids::{ProjectId, RunId, TenantId, UserId};
use crate::model::{ContextLimits, ContextRefusal, ContextWrite, Expect, Provenance};
use crate::store::{ContextScope, ContextStore};

/// A case: the store, and a scope (a tenant's project) that exists for it (for a store that checks projects,
/// such as PostgreSQL's foreign key) with a second one of another tenant.
pub type ContextCase =
    fn(Arc<dyn ContextStore>, ContextScope, ContextScope) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every case, by name.
pub fn context_cases() -> Vec<(&'static str, ContextCase)> {
    vec![
        ("values_are_written_at_the_version_read_and_expire", |s, a, b| Box::pin(compare_and_set_and_expiry(s, a, b))),
        ("concurrent_appends_from_three_clients_lose_nothing", |s, a, _| Box::pin(concurrent_appends(s, a))),
        ("limits_are_checked_in_the_write", |s, a, _| Box::pin(limits(s, a))),
        ("a_project_sees_only_its_own_keys", |s, a, b| Box::pin(isolation(s, a, b))),
    ]
}

/// Every case as a test of its own, named `<backend>::context::<case>`, each on a fresh store from `make`, which
/// returns the store, a guard kept alive for the case, and the two scopes to use (`None`: made-up ones, for a
/// store that does not check projects).
pub fn context_trials<G, F, Fut>(backend: &str, make: F) -> Vec<libtest_mimic::Trial>
where
    G: Send + 'static,
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = (Arc<dyn ContextStore>, G, Option<(ContextScope, ContextScope)>)> + Send + 'static,
{
    context_cases()
        .into_iter()
        .map(|(name, case)| {
            let make = make.clone();
            libtest_mimic::Trial::test(format!("{backend}::context::{name}"), move || {
                super::run_case(async move {
                    let (store, guard, scopes) = make().await;
                    let (a, b) = scopes.unwrap_or_else(|| (scope(), scope()));
                    case(store, a, b).await;
                    drop(guard);
                })
            })
        })
        .collect()
}

fn scope() -> ContextScope {
    ContextScope { tenant: TenantId::new(), project: ProjectId::new() }
}

fn write<'a>(key: &'a str, provenance: &'a Provenance, at: crate::clock::Timestamp) -> ContextWrite<'a> {
    ContextWrite { key, provenance, ttl: Duration::from_secs(3600), now: at, limits: ContextLimits::default() }
}

async fn compare_and_set_and_expiry(store: Arc<dyn ContextStore>, a: ContextScope, _: ContextScope) {
    let by = Provenance { user_id: Some(UserId::new()), agent: Some("developer".into()), run_id: Some(RunId::new()) };
    let at = now();
    assert_eq!(store.get(a, "plan", at).await.unwrap(), None);
    let first = store.put(a, &json!({"steps": [1, 2.5, "x"]}), Expect::Absent, &write("plan", &by, at)).await.unwrap();
    let first = first.unwrap();
    assert_eq!((first.value.clone(), first.written_by.clone()), (json!({"steps": [1, 2.5, "x"]}), by.clone()));
    assert_eq!(store.get(a, "plan", at).await.unwrap().as_ref(), Some(&first));
    let again = store.put(a, &json!(1), Expect::Absent, &write("plan", &by, at)).await.unwrap();
    assert_eq!(again, Err(ContextRefusal::Stale { current: Some(first.version) }));

    // At the version read: written, with a newer version; at an older one: refused, nothing changed.
    let later = at + chrono::Duration::milliseconds(5);
    let second = store.put(a, &json!("v2"), Expect::Version(first.version), &write("plan", &by, later)).await;
    let second = second.unwrap().unwrap();
    assert!(second.version > first.version);
    let stale = store.put(a, &json!("v3"), Expect::Version(first.version), &write("plan", &by, later)).await;
    assert_eq!(stale.unwrap(), Err(ContextRefusal::Stale { current: Some(second.version) }));
    assert_eq!(store.get(a, "plan", later).await.unwrap().unwrap().value, json!("v2"));
    let listed = store.list(a, later).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].key.as_str(), listed[0].version, listed[0].size), ("plan", second.version, 4));

    // A value lives for its time to live, and is gone after it (a new write starts from a newer version).
    let short = ContextWrite { ttl: Duration::from_secs(2), ..write("brief", &by, later) };
    let brief = store.put(a, &json!(true), Expect::Any, &short).await.unwrap().unwrap();
    let after = later + chrono::Duration::seconds(3);
    assert_eq!(
        store.get(a, "brief", later + chrono::Duration::seconds(1)).await.unwrap().map(|e| e.value),
        Some(json!(true))
    );
    assert_eq!(store.get(a, "brief", after).await.unwrap(), None);
    assert_eq!(store.list(a, after).await.unwrap().iter().map(|k| k.key.as_str()).collect::<Vec<_>>(), ["plan"]);
    let reborn = store.put(a, &json!(false), Expect::Absent, &write("brief", &by, after)).await.unwrap().unwrap();
    assert!(reborn.version > brief.version, "versions grow across expiry");

    // Deletes honour the expectation too.
    let refused = store.delete(a, "plan", Expect::Version(first.version), after).await.unwrap();
    assert_eq!(refused, Err(ContextRefusal::Stale { current: Some(second.version) }));
    assert_eq!(store.delete(a, "plan", Expect::Version(second.version), after).await.unwrap(), Ok(true));
    assert_eq!(store.delete(a, "plan", Expect::Any, after).await.unwrap(), Ok(false));
    assert_eq!(store.get(a, "plan", after).await.unwrap(), None);
    let recreated = store.put(a, &json!(3), Expect::Absent, &write("plan", &by, after)).await.unwrap().unwrap();
    assert!(recreated.version > second.version);
}

async fn concurrent_appends(store: Arc<dyn ContextStore>, a: ContextScope) {
    // Three clients, 50 appends in all, every one at once.
    let clients: Vec<_> = (0..3)
        .map(|client| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let by = Provenance { agent: Some(format!("client-{client}")), ..Provenance::default() };
                let appends: Vec<_> = (0..50)
                    .filter(|i| i % 3 == client)
                    .map(|i| {
                        let (store, by) = (Arc::clone(&store), by.clone());
                        tokio::spawn(async move {
                            let item = json!({"n": i, "client": client});
                            store.append(a, &item, &write("log", &by, now())).await.unwrap().unwrap();
                        })
                    })
                    .collect();
                for append in appends {
                    append.await.unwrap();
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let log = store.get(a, "log", now()).await.unwrap().unwrap();
    let mut seen: Vec<i64> = log.value.as_array().unwrap().iter().map(|item| item["n"].as_i64().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..50).collect::<Vec<_>>(), "every append, once");
}

async fn limits(store: Arc<dyn ContextStore>, a: ContextScope) {
    let by = Provenance::default();
    let at = now();
    let tight = ContextLimits { max_value_bytes: 16, max_keys: 2 };
    let bounded = |key| ContextWrite { limits: tight, ..write(key, &by, at) };
    let large = store.put(a, &json!("a value far over sixteen bytes"), Expect::Any, &bounded("k1")).await.unwrap();
    assert_eq!(large, Err(ContextRefusal::TooLarge { size: 32, limit: 16 }));
    assert_eq!(store.get(a, "k1", at).await.unwrap(), None, "nothing was written");
    store.put(a, &json!([1]), Expect::Any, &bounded("k1")).await.unwrap().unwrap();
    store.put(a, &json!({"a": 1}), Expect::Any, &bounded("k2")).await.unwrap().unwrap();
    let third = store.put(a, &json!(3), Expect::Any, &bounded("k3")).await.unwrap();
    assert_eq!(third, Err(ContextRefusal::TooManyKeys { limit: 2 }));
    store.put(a, &json!(4), Expect::Any, &bounded("k2")).await.unwrap().unwrap();
    assert_eq!(store.append(a, &json!(5), &bounded("k2")).await.unwrap(), Err(ContextRefusal::NotAList));
    let mut appended = json!([1]);
    let mut refused = None;
    for i in 2..=9 {
        match store.append(a, &json!(i), &bounded("k1")).await.unwrap() {
            Ok(entry) => appended = entry.value,
            Err(refusal) => {
                refused = Some(refusal);
                break;
            }
        }
    }
    assert_eq!(refused, Some(ContextRefusal::TooLarge { size: 17, limit: 16 }));
    assert_eq!(appended, json!([1, 2, 3, 4, 5, 6, 7]), "15 bytes fit, 17 do not");
    assert_eq!(store.get(a, "k1", at).await.unwrap().unwrap().value, appended, "the refused append changed nothing");
}

async fn isolation(store: Arc<dyn ContextStore>, a: ContextScope, b: ContextScope) {
    let by = Provenance::default();
    let at = now();
    store.put(a, &json!("mine"), Expect::Any, &write("secret", &by, at)).await.unwrap().unwrap();
    assert_eq!(store.get(b, "secret", at).await.unwrap(), None);
    assert!(store.list(b, at).await.unwrap().is_empty());
    assert_eq!(store.delete(b, "secret", Expect::Any, at).await.unwrap(), Ok(false));
    let other_project = ContextScope { project: ProjectId::new(), ..a };
    assert_eq!(store.get(other_project, "secret", at).await.unwrap(), None);
    assert_eq!(store.get(a, "secret", at).await.unwrap().unwrap().value, json!("mine"));
}
