//! Time as a dependency.
//!
//! Expiry (API keys, tokens) is decided against the [`Clock`] the [`Platform`](crate::Platform) owns, so tests can
//! move time instead of sleeping.

use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};
use parking_lot::Mutex;

/// A point in time, always UTC.
pub type Timestamp = DateTime<Utc>;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock, at microsecond precision (what PostgreSQL stores), so a value read back from any store
/// equals the value written.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        to_micros(Utc::now())
    }
}

/// Truncates a timestamp to whole microseconds.
pub fn to_micros(at: Timestamp) -> Timestamp {
    at.duration_trunc(Duration::microseconds(1)).unwrap_or(at)
}

/// A clock that only moves when told to; for tests.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock stopped at `start` (truncated to microseconds, like [`SystemClock`]).
    pub fn new(start: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(to_micros(start))))
    }

    /// Moves the clock forward (or backward, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock();
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock()
    }
}
