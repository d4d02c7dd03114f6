//! [`MemoryRateLimiter`]: GCRA in process memory, exact across threads (not across processes: use the Redis
//! limiter for replicas).
//!
//! Keys are spread over 64 mutex-guarded shards; a decision locks the shards of its keys in ascending order (so
//! concurrent multi-key decisions cannot deadlock), reads their TATs, decides all-or-nothing with
//! [`agentic_core::limit::evaluate`], and writes back only when allowed.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::time::Instant;

use agentic_core::limit::{Decision, GcraState, LimitCheck, LimitError, RateLimiter, evaluate};
use async_trait::async_trait;
use parking_lot::{Mutex, MutexGuard};

const SHARDS: usize = 64;
/// Past this many keys a shard drops the ones that are fully replenished (equivalent to absent).
const SWEEP_ABOVE: usize = 16_384;

/// The in-memory limiter.
pub struct MemoryRateLimiter {
    shards: Vec<Mutex<HashMap<String, GcraState>>>,
    hasher: RandomState,
    epoch: Instant,
}

impl std::fmt::Debug for MemoryRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryRateLimiter").finish_non_exhaustive()
    }
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryRateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            epoch: Instant::now(),
        }
    }

    fn shard_of(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    fn now_micros(&self) -> i64 {
        i64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(i64::MAX).saturating_add(1)
    }

    /// Decides synchronously (the async [`RateLimiter::check`] is this, ready at once).
    pub fn check_now(&self, checks: &[LimitCheck]) -> Decision {
        let now = self.now_micros();
        if let [single] = checks {
            // The common case: one shard, no bookkeeping.
            let mut map = self.shards[self.shard_of(&single.key)].lock();
            let tat = map.get(single.key.as_str()).copied().unwrap_or(0);
            let (decision, new_tats) = evaluate(now, &[(tat, single.quota, single.scope)]);
            if let Some(&[new_tat]) = new_tats.as_deref() {
                store(&mut map, &single.key, new_tat, now);
            }
            return decision;
        }
        let shard_ids: Vec<usize> = checks.iter().map(|c| self.shard_of(&c.key)).collect();
        let mut order = shard_ids.clone();
        order.sort_unstable();
        order.dedup();
        let mut guards: Vec<MutexGuard<'_, HashMap<String, GcraState>>> =
            order.iter().map(|&i| self.shards[i].lock()).collect();
        let positions: Vec<usize> = shard_ids.iter().map(|s| order.binary_search(s).unwrap_or(0)).collect();
        let state: Vec<_> = checks
            .iter()
            .zip(&positions)
            .map(|(c, &g)| (guards[g].get(c.key.as_str()).copied().unwrap_or(0), c.quota, c.scope))
            .collect();
        let (decision, new_tats) = evaluate(now, &state);
        if let Some(new_tats) = new_tats {
            for ((check, &g), tat) in checks.iter().zip(&positions).zip(new_tats) {
                store(&mut guards[g], &check.key, tat, now);
            }
        }
        decision
    }
}

fn store(map: &mut HashMap<String, GcraState>, key: &str, tat: GcraState, now: i64) {
    if map.len() > SWEEP_ABOVE {
        map.retain(|_, t| *t > now);
    }
    match map.get_mut(key) {
        Some(existing) => *existing = tat,
        None => {
            map.insert(key.to_owned(), tat);
        }
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn check(&self, checks: &[LimitCheck]) -> Result<Decision, LimitError> {
        Ok(self.check_now(checks))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use agentic_core::limit::{LimitScope, Quota};

    use super::*;

    fn check(key: &str, quota: Quota) -> LimitCheck {
        LimitCheck { key: key.into(), quota, scope: LimitScope::Principal }
    }

    #[test]
    fn threads_never_exceed_the_quota() {
        let limiter = Arc::new(MemoryRateLimiter::new());
        let quota = Quota::per_hour(1_000);
        let allowed = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..64)
            .map(|_| {
                let (limiter, allowed) = (Arc::clone(&limiter), Arc::clone(&allowed));
                std::thread::spawn(move || {
                    // 64 × 79 ≈ 5 × the quota, offered all at once.
                    for _ in 0..79 {
                        if limiter
                            .check_now(&[check("shared", quota), check("t:other", Quota::per_hour(1_000_000))])
                            .allowed
                        {
                            allowed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(allowed.load(Ordering::Relaxed), 1_000);
    }

    #[test]
    fn keys_are_independent_and_refusals_consume_nothing() {
        let limiter = MemoryRateLimiter::new();
        let tight = Quota::new(1, Duration::from_secs(3600));
        assert!(limiter.check_now(&[check("a", tight)]).allowed);
        assert!(!limiter.check_now(&[check("a", tight)]).allowed);
        assert!(limiter.check_now(&[check("b", tight)]).allowed);
        let tenant = Quota::new(2, Duration::from_secs(3600));
        // Refused by `a`: `t` is untouched, so it still has both of its requests.
        assert!(!limiter.check_now(&[check("t", tenant), check("a", tight)]).allowed);
        assert!(limiter.check_now(&[check("t", tenant)]).allowed);
        assert!(limiter.check_now(&[check("t", tenant)]).allowed);
        assert!(!limiter.check_now(&[check("t", tenant)]).allowed);
    }
}
