//! Lockout after repeated failed sign-ins to one account, doubling with every further failure.
//!
//! Keyed by what the caller typed (tenant slug and e-mail, case-folded), not by the user found, so an unknown
//! address locks exactly like a known one and the lockout says nothing about which accounts exist. The state is
//! per process: across replicas the per-account rate limit of the shared limiter bounds attempts as well (see
//! `Platform::login`).

use std::collections::HashMap;
use std::time::Duration;

use parking_lot::Mutex;

use crate::clock::Timestamp;

/// Failed sign-ins without consequence; the next failure starts the first lockout.
pub const FREE_FAILURES: u32 = 5;
/// The first lockout; each further failure doubles it.
pub const FIRST_LOCKOUT: Duration = Duration::from_secs(1);
/// The longest lockout.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Accounts tracked at most; when full, entries whose lockout ended are dropped first, then the whole table (an
/// attacker filling it with junk addresses can at worst reset the counters, never grow memory without bound).
const MAX_TRACKED: usize = 100_000;
/// A failure streak is forgotten after this long without failures.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Clone, Copy, Debug)]
struct Streak {
    failures: u32,
    last_failure: Timestamp,
    locked_until: Option<Timestamp>,
}

/// Failed sign-in streaks by account.
#[derive(Debug, Default)]
pub struct LoginLockout {
    streaks: Mutex<HashMap<(String, String), Streak>>,
}

/// The account a sign-in names, as typed but case-folded and trimmed: what the lockout and the per-account rate
/// limit are keyed on.
pub fn account_key(tenant: &str, email: &str) -> (String, String) {
    (tenant.trim().to_lowercase(), email.trim().to_lowercase())
}

fn chrono_of(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

impl LoginLockout {
    /// How long the account must still wait, if it is locked at `now`.
    pub fn locked_for(&self, tenant: &str, email: &str, now: Timestamp) -> Option<Duration> {
        let streaks = self.streaks.lock();
        let until = streaks.get(&account_key(tenant, email))?.locked_until?;
        (until > now).then(|| (until - now).to_std().unwrap_or(FIRST_LOCKOUT))
    }

    /// Records a failed sign-in; returns the lockout it starts, if any.
    pub fn failed(&self, tenant: &str, email: &str, now: Timestamp) -> Option<Duration> {
        let mut streaks = self.streaks.lock();
        if streaks.len() >= MAX_TRACKED {
            streaks.retain(|_, s| s.locked_until.is_some_and(|until| until > now));
            if streaks.len() >= MAX_TRACKED {
                streaks.clear();
            }
        }
        let streak = streaks.entry(account_key(tenant, email)).or_insert(Streak {
            failures: 0,
            last_failure: now,
            locked_until: None,
        });
        if now - streak.last_failure > chrono_of(FORGET_AFTER) {
            *streak = Streak { failures: 0, last_failure: now, locked_until: None };
        }
        streak.failures = streak.failures.saturating_add(1);
        streak.last_failure = now;
        let over = streak.failures.checked_sub(FREE_FAILURES + 1)?;
        let lockout = FIRST_LOCKOUT.saturating_mul(1_u32.checked_shl(over).unwrap_or(u32::MAX)).min(MAX_LOCKOUT);
        streak.locked_until = Some(now + chrono_of(lockout));
        Some(lockout)
    }

    /// A successful sign-in ends the account's streak.
    pub fn succeeded(&self, tenant: &str, email: &str) {
        self.streaks.lock().remove(&account_key(tenant, email));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_beyond_the_free_ones_lock_for_doubling_times() {
        let lockout = LoginLockout::default();
        let t0 = chrono::Utc::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(lockout.failed("acme", "a@acme.test", t0), None);
        }
        assert_eq!(lockout.failed("acme", "a@acme.test", t0), Some(Duration::from_secs(1)));
        assert_eq!(lockout.locked_for("ACME", " A@acme.test", t0), Some(Duration::from_secs(1)), "case-folded");
        assert_eq!(lockout.failed("acme", "a@acme.test", t0), Some(Duration::from_secs(2)));
        assert_eq!(lockout.failed("acme", "a@acme.test", t0), Some(Duration::from_secs(4)));
        for _ in 0..20 {
            lockout.failed("acme", "a@acme.test", t0);
        }
        assert_eq!(lockout.locked_for("acme", "a@acme.test", t0), Some(MAX_LOCKOUT));
        assert_eq!(lockout.locked_for("acme", "b@acme.test", t0), None, "other accounts are not affected");
        assert_eq!(lockout.locked_for("acme", "a@acme.test", t0 + chrono_of(MAX_LOCKOUT)), None, "it ends");
        lockout.succeeded("acme", "a@acme.test");
        assert_eq!(lockout.failed("acme", "a@acme.test", t0), None, "a success resets the streak");
    }

    #[test]
    fn a_streak_is_forgotten_after_an_hour_without_failures() {
        let lockout = LoginLockout::default();
        let t0 = chrono::Utc::now();
        for _ in 0..FREE_FAILURES {
            lockout.failed("acme", "a@acme.test", t0);
        }
        let later = t0 + chrono_of(FORGET_AFTER) + chrono::Duration::seconds(1);
        assert_eq!(lockout.failed("acme", "a@acme.test", later), None);
    }
}
