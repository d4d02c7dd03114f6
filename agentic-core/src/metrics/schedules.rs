//! Schedule fires.

use prometheus::{Histogram, IntCounterVec};

use super::{FAST_BUCKETS, Registrar};
use crate::error::Error;

/// What became of schedules' fire times.
#[derive(Clone, Debug)]
pub struct ScheduleMetrics {
    /// `schedule_fires_total{result}`: fires by what became of them (`started`, `skipped`, `buffered`).
    pub fires_total: IntCounterVec,
    /// `schedule_skipped_total{reason}`: skipped fires, by reason (`overlap`, `budget`, `missed`, `paused`,
    /// `not_permitted`, `invalid_target`).
    pub skipped_total: IntCounterVec,
    /// `schedule_fire_lag_seconds`: how long after its planned start (fire time plus jitter) a fire's run was
    /// created.
    pub fire_lag_seconds: Histogram,
}

impl ScheduleMetrics {
    pub(super) fn register(r: &Registrar<'_>) -> Result<Self, Error> {
        let skipped_total =
            r.int_counter_vec("schedule_skipped_total", "Schedule fires that started no run, by reason", &["reason"])?;
        // Every reason is exported from the start, so that an alert on a rate sees 0 rather than no series.
        for reason in crate::model::SkipReason::ALL {
            skipped_total.with_label_values(&[reason.as_str()]);
        }
        Ok(Self {
            fires_total: r.int_counter_vec(
                "schedule_fires_total",
                "Schedule fires, by what became of them (started, skipped, buffered)",
                &["result"],
            )?,
            skipped_total,
            fire_lag_seconds: r.histogram(
                "schedule_fire_lag_seconds",
                "How long after its planned start (fire time plus jitter) a scheduled fire's run was created",
                FAST_BUCKETS,
            )?,
        })
    }
}
