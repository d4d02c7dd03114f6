//! When a failed delivery is tried again: a schedule like Svix's, with jitter, that a receiver's `Retry-After`
//! overrides (capped).

use std::time::Duration;

/// The delays between a delivery's attempts, and how far a receiver may push the next one back.
#[derive(Clone, Debug, PartialEq)]
pub struct RetrySchedule {
    /// Before each attempt of a round: the first is usually zero (at once), then one delay per retry. After the
    /// last, the delivery is `failed`.
    pub delays: Vec<Duration>,
    /// Each delay is moved by up to this share either way (0.2: ±20%), so that deliveries failed together do not
    /// come back together.
    pub jitter: f64,
    /// The longest `Retry-After` honoured (a longer one waits this long).
    pub max_retry_after: Duration,
}

impl Default for RetrySchedule {
    /// At once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (eight attempts over about 28 hours), ±20%,
    /// `Retry-After` honoured up to an hour.
    fn default() -> Self {
        const MINUTE: u64 = 60;
        const HOUR: u64 = 60 * MINUTE;
        let delays = [0, 5, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
        Self {
            delays: delays.map(Duration::from_secs).to_vec(),
            jitter: 0.2,
            max_retry_after: Duration::from_secs(HOUR),
        }
    }
}

impl RetrySchedule {
    /// The delay before the next attempt after `made` failed attempts of this round, or `None` when the round is
    /// over. `retry_after` (a 429's or 503's) replaces the scheduled delay, capped; `unit` is a uniform random
    /// number in [0, 1) that places the jitter.
    pub fn next_delay(&self, made: u32, retry_after: Option<Duration>, unit: f64) -> Option<Duration> {
        let scheduled = *self.delays.get(made as usize)?;
        if let Some(asked) = retry_after {
            return Some(asked.min(self.max_retry_after));
        }
        let spread = self.jitter.clamp(0.0, 1.0) * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
        Some(scheduled.mul_f64(1.0 + spread))
    }

    /// The delay before a round's first attempt (unjittered: a new delivery goes out at once).
    pub fn first_delay(&self) -> Duration {
        self.delays.first().copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_is_eight_attempts_with_bounded_jitter() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.delays.len(), 8);
        assert_eq!(schedule.next_delay(1, None, 0.5), Some(Duration::from_secs(5)));
        assert_eq!(schedule.next_delay(1, None, 0.0), Some(Duration::from_secs(4)));
        assert_eq!(schedule.next_delay(2, None, 1.0), Some(Duration::from_secs(360)));
        assert_eq!(schedule.next_delay(8, None, 0.5), None, "the round is over after the eighth attempt");
    }

    #[test]
    fn retry_after_replaces_the_delay_up_to_its_cap_but_never_extends_the_round() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.next_delay(1, Some(Duration::from_secs(2)), 0.9), Some(Duration::from_secs(2)));
        let asked = Some(Duration::from_secs(86_400));
        assert_eq!(schedule.next_delay(3, asked, 0.5), Some(Duration::from_secs(3_600)));
        assert_eq!(schedule.next_delay(8, Some(Duration::from_secs(1)), 0.5), None);
    }
}
