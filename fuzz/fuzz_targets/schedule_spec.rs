//! A schedule's timing as the API takes it (`{"cron", "timezone"}`, `{"every", "offset"}` or `{"at"}`): checked,
//! and when valid, its fire times computed around a fixed instant. Never a panic; fire times strictly increase
//! and a catch-up stays within its bounds.
#![no_main]

use agentic_core::model::ScheduleSpec;
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = serde_json::from_slice::<ScheduleSpec>(data) else { return };
    let Ok(timing) = spec.timing() else { return };
    let now = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).single().expect("a valid instant");
    let upcoming = timing.upcoming(now, 5);
    assert!(upcoming.windows(2).all(|pair| pair[0] < pair[1]), "fire times increase: {upcoming:?}");
    assert!(upcoming.iter().all(|at| *at > now), "fire times are after the instant asked about");
    if let Some(first) = upcoming.first() {
        let due = timing.due(now - chrono::Duration::days(2), *first, chrono::Duration::hours(1));
        assert!(due.fire.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(due.fire.iter().all(|at| at <= first), "nothing due is in the future");
    }
});
