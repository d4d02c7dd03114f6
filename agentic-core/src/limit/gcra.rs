//! The generic cell rate algorithm, in integer microseconds.
//!
//! Each key stores one number, its *theoretical arrival time* (TAT). A quota of `limit` per `period` spaces
//! requests `interval = period / limit` apart and tolerates a burst of `limit`: a request is allowed when
//! `max(tat, now) + interval − now ≤ limit × interval`. This is a token bucket of capacity `limit` refilled at
//! one token per interval, stored as one timestamp instead of a count and a refill time. `gcra.lua` in
//! `agentic-store-redis` is the same arithmetic.

use super::{Decision, LimitScope, Quota};

/// The stored state of one key: its TAT in microseconds (0 for a fresh key).
pub type GcraState = i64;

/// Decides a set of checks at `now` (microseconds) against their current TATs, all or nothing. Returns the
/// decision and, when allowed, the new TAT of each check (in order).
pub fn evaluate(now: i64, checks: &[(GcraState, Quota, LimitScope)]) -> (Decision, Option<Vec<GcraState>>) {
    let mut new_tats = Vec::with_capacity(checks.len());
    let mut tightest: Option<(u32, u32, i64)> = None;
    for &(tat, quota, scope) in checks {
        let interval = quota.interval_micros();
        let capacity = i64::from(quota.limit).saturating_mul(interval);
        let start = tat.max(now);
        let new_tat = start.saturating_add(interval);
        if new_tat - now > capacity {
            let decision = Decision {
                allowed: false,
                limit: quota.limit,
                remaining: 0,
                reset_micros: start - now,
                retry_after_micros: new_tat - now - capacity,
                denied_by: Some(scope),
            };
            return (decision, None);
        }
        let remaining = u32::try_from((capacity - (new_tat - now)) / interval).unwrap_or(u32::MAX);
        if tightest.is_none_or(|(_, r, _)| remaining < r) {
            tightest = Some((quota.limit, remaining, new_tat - now));
        }
        new_tats.push(new_tat);
    }
    let (limit, remaining, reset_micros) = tightest.unwrap_or((0, 0, 0));
    let decision = Decision { allowed: true, limit, remaining, reset_micros, retry_after_micros: 0, denied_by: None };
    (decision, Some(new_tats))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn quota(limit: u32, secs: u64) -> Quota {
        Quota::new(limit, Duration::from_secs(secs))
    }

    #[test]
    fn a_burst_of_exactly_the_limit_then_one_per_interval() {
        let q = quota(10, 60); // one every 6 s
        let mut tat = 0;
        let now = 1_000_000_000;
        for i in 0..10 {
            let (d, tats) = evaluate(now, &[(tat, q, LimitScope::Principal)]);
            assert!(d.allowed, "request {i}");
            assert_eq!(d.remaining, 9 - i);
            tat = tats.unwrap()[0];
        }
        let (denied, none) = evaluate(now, &[(tat, q, LimitScope::Principal)]);
        assert!(!denied.allowed && none.is_none());
        assert_eq!(denied.retry_after_micros, 6_000_000);
        assert_eq!(denied.reset_micros, 60_000_000);
        // One interval later exactly one more is allowed.
        let (later, _) = evaluate(now + 6_000_000, &[(tat, q, LimitScope::Principal)]);
        assert!(later.allowed);
        assert_eq!(later.remaining, 0);
    }

    #[test]
    fn all_or_nothing_across_limits() {
        let loose = quota(100, 60);
        let tight = quota(1, 60);
        let now = 5_000_000;
        let (first, tats) = evaluate(now, &[(0, loose, LimitScope::Tenant), (0, tight, LimitScope::Route)]);
        assert!(first.allowed);
        assert_eq!((first.limit, first.remaining), (1, 0), "headers describe the tightest limit");
        let tats = tats.unwrap();
        let (second, none) =
            evaluate(now, &[(tats[0], loose, LimitScope::Tenant), (tats[1], tight, LimitScope::Route)]);
        assert!(!second.allowed);
        assert_eq!(second.denied_by, Some(LimitScope::Route));
        assert!(none.is_none(), "the tenant's quota is not consumed by a refused request");
    }
}
