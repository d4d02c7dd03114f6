//! When a schedule fires: a cron expression in an IANA time zone, a fixed interval, or once at an instant.
//!
//! [`ScheduleSpec`] is what the API takes (`{cron, timezone}`, `{every, offset}` or `{at}`); [`ScheduleSpec::timing`]
//! checks it (each mistake names its field) and gives the [`Timing`] that computes fire times.
//!
//! Cron follows croner (5 fields, or 6 with seconds first; `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`;
//! names of days and months; a day of month and a day of week both given match either, as in Vixie cron), read
//! in the schedule's time zone. **Daylight saving time**: a local time skipped by a spring-forward fires once, at
//! the first valid instant after the gap; a local time that happens twice in a fall-back fires once, at its first
//! occurrence. (croner walks local time and resolves gaps and repeats this way; the tests below pin the rule for
//! Europe/Berlin and America/New_York, so an upgrade that changed it would fail them.) An interval is aligned to the Unix epoch plus its offset, so every replica computes the same fire
//! times, and it ignores DST (it counts real time).
//!
//! ```
//! use agentic_core::model::ScheduleSpec;
//! let spec = ScheduleSpec { cron: Some("30 2 * * *".into()), timezone: Some("Europe/Berlin".into()), ..Default::default() };
//! let timing = spec.timing().unwrap();
//! // 2025-03-30 is spring-forward day in Berlin: 02:30 does not exist, so the schedule fires at 03:00 CEST.
//! let after = "2025-03-30T00:00:00Z".parse().unwrap();
//! assert_eq!(timing.next_after(after).unwrap().to_rfc3339(), "2025-03-30T01:00:00+00:00");
//! ```

use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::Timestamp;
use crate::model::ValidationError;

/// The most past fire times one catch-up starts; older ones inside the window are counted as missed instead.
pub const MAX_CATCHUP_FIRES: usize = 1_000;
/// The most fire times a catch-up walks one by one to count what it missed; past that, the count is a lower bound.
pub const MAX_CATCHUP_SCAN: u64 = 100_000;

/// The shortest interval a schedule may have.
pub const MIN_INTERVAL: Duration = Duration::seconds(1);
/// The longest interval a schedule may have.
pub const MAX_INTERVAL: Duration = Duration::days(366);

/// When a schedule fires, as the API takes it: exactly one of `cron` (with an optional `timezone`, default UTC),
/// `every` (with an optional `offset`) or `at`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// A cron expression: 5 fields, or 6 with seconds first; or `@yearly`, `@monthly`, `@weekly`, `@daily`,
    /// `@hourly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// The IANA time zone the cron expression is read in (default `UTC`), e.g. `Europe/Berlin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// A fixed interval, e.g. `30s`, `15m`, `1h 30m`, `1d` (from 1 second to 366 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    /// Shifts an interval's fire times from the Unix epoch's multiples, e.g. `every: 1d, offset: 9h` fires at
    /// 09:00 UTC (less than `every`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    /// One fire time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// A checked schedule spec: computes fire times.
#[derive(Clone, Debug)]
pub enum Timing {
    /// A cron expression read in a time zone.
    Cron {
        /// The parsed expression.
        cron: Box<croner::Cron>,
        /// Its time zone.
        zone: chrono_tz::Tz,
    },
    /// Every `every`, at the Unix epoch plus `offset` plus a multiple of `every`.
    Every {
        /// The interval.
        every: Duration,
        /// The shift from the epoch's multiples.
        offset: Duration,
    },
    /// Once.
    Once(Timestamp),
}

/// The fire times a scheduler found due at once (see [`Timing::due`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueFires {
    /// Fire times to act on now, oldest first.
    pub fire: Vec<Timestamp>,
    /// Fire times that were later than the catch-up window allows (or past [`MAX_CATCHUP_FIRES`]): skipped.
    pub missed: u64,
    /// Whether `missed` stopped counting at [`MAX_CATCHUP_SCAN`] (a cron down for very long).
    pub missed_is_lower_bound: bool,
    /// The next fire time after now, if any.
    pub next_fire_at: Option<Timestamp>,
}

impl ScheduleSpec {
    /// Checks the spec: one kind of timing, a cron expression that parses and fires at some time, a known time
    /// zone, an interval within [`MIN_INTERVAL`]..=[`MAX_INTERVAL`] with a smaller offset. Each mistake names its
    /// field (`spec.cron`, `spec.timezone`, `spec.every`, `spec.offset`, or `spec` for the combination).
    pub fn timing(&self) -> Result<Timing, ValidationError> {
        let kinds = [self.cron.is_some(), self.every.is_some(), self.at.is_some()].iter().filter(|k| **k).count();
        if kinds != 1 {
            return Err(ValidationError::new("spec", "must have exactly one of `cron`, `every` or `at`"));
        }
        if self.timezone.is_some() && self.cron.is_none() {
            return Err(ValidationError::new("spec.timezone", "applies only to `cron`"));
        }
        if self.offset.is_some() && self.every.is_none() {
            return Err(ValidationError::new("spec.offset", "applies only to `every`"));
        }
        if let Some(at) = self.at {
            return Ok(Timing::Once(crate::clock::to_micros(at)));
        }
        if let Some(every) = &self.every {
            let every = duration("spec.every", every)?;
            if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&every) {
                return Err(ValidationError::new("spec.every", "must be from 1 second to 366 days"));
            }
            let offset = self.offset.as_deref().map(|o| duration("spec.offset", o)).transpose()?;
            let offset = offset.unwrap_or_else(Duration::zero);
            if offset >= every {
                return Err(ValidationError::new("spec.offset", "must be shorter than `every`"));
            }
            return Ok(Timing::Every { every, offset });
        }
        let expression = self.cron.as_deref().unwrap_or_default();
        let zone = match self.timezone.as_deref() {
            None => chrono_tz::UTC,
            Some(name) => name.parse::<chrono_tz::Tz>().map_err(|_| {
                ValidationError::new("spec.timezone", format!("`{name}` is not an IANA time zone (e.g. Europe/Berlin)"))
            })?,
        };
        let parser = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .year(croner::parser::Year::Disallowed)
            .build();
        // croner reads an empty list item (`,` in `, * * * *`) as a field that matches nothing, then searches up to
        // the year 5000 for a time that matches it: seconds of work per request, found by fuzzing.
        if expression.split_whitespace().any(|field| field.split(',').any(str::is_empty)) {
            return Err(ValidationError::new(
                "spec.cron",
                "has an empty item in a list (two commas in a row, or one at an end)",
            ));
        }
        let cron = parser.parse(expression).map_err(|e| ValidationError::new("spec.cron", e.to_string()))?;
        let timing = Timing::Cron { cron: Box::new(cron), zone };
        // A pattern such as `0 0 30 2 *` parses but never fires.
        if timing.next_after(Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().unwrap_or_default()).is_none() {
            return Err(ValidationError::new("spec.cron", "never fires"));
        }
        Ok(timing)
    }
}

/// A duration such as `90s`, `15m`, `1h 30m` or `2d`, at whole milliseconds.
pub(crate) fn duration(field: &str, text: &str) -> Result<Duration, ValidationError> {
    let parsed = humantime::parse_duration(text.trim())
        .map_err(|e| ValidationError::new(field, format!("`{text}` is not a duration like 30s, 15m or 1h 30m: {e}")))?;
    Duration::from_std(parsed).map_err(|_| ValidationError::new(field, "is too long"))
}

impl Timing {
    /// The first fire time strictly after `after`, or `None` if there is none (a one-time schedule that has
    /// fired, a cron that matches no later time).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        match self {
            Timing::Once(at) => (*at > after).then_some(*at),
            Timing::Every { every, offset } => {
                let (every, offset) = (every.num_milliseconds(), offset.num_milliseconds());
                let since = after.timestamp_millis().checked_sub(offset)?;
                let next = since.div_euclid(every).checked_add(1)?.checked_mul(every)?.checked_add(offset)?;
                DateTime::from_timestamp_millis(next)
            }
            Timing::Cron { cron, zone } => {
                // Fire times are whole seconds, so "after" is after its whole second (croner would step over the
                // next second when handed a fraction of one).
                let whole = after.duration_trunc(Duration::seconds(1)).unwrap_or(after);
                let found = cron.find_next_occurrence(&whole.with_timezone(zone), false).ok()?;
                Some(found.with_timezone(&Utc))
            }
        }
    }

    /// What a scheduler does with a schedule whose next fire time, `next_fire_at`, has come by `now`: the fire
    /// times from `next_fire_at` to `now` that are at most `catchup_window` late fire (oldest first, at most
    /// [`MAX_CATCHUP_FIRES`]); older ones are missed, and counted, never dropped silently; the schedule then waits
    /// for the first fire time after `now`.
    pub fn due(&self, next_fire_at: Timestamp, now: Timestamp, catchup_window: Duration) -> DueFires {
        let mut due = DueFires { fire: Vec::new(), missed: 0, missed_is_lower_bound: false, next_fire_at: None };
        if next_fire_at > now {
            due.next_fire_at = Some(next_fire_at);
            return due;
        }
        let oldest_on_time = now - catchup_window;
        // Fire times too late to fire: counted, by arithmetic for an interval, one by one (bounded) for a cron.
        let mut first_on_time = Some(next_fire_at);
        if next_fire_at < oldest_on_time {
            let before_window = oldest_on_time - Duration::milliseconds(1);
            if let Timing::Every { every, .. } = self {
                let late = (before_window - next_fire_at).num_milliseconds() / every.num_milliseconds().max(1);
                due.missed = u64::try_from(late).unwrap_or(0).saturating_add(1);
                first_on_time = self.next_after(before_window);
            } else {
                let mut cursor = Some(next_fire_at);
                while let Some(at) = cursor.filter(|at| *at < oldest_on_time) {
                    due.missed += 1;
                    if due.missed >= MAX_CATCHUP_SCAN {
                        due.missed_is_lower_bound = true;
                        cursor = self.next_after(before_window);
                        break;
                    }
                    cursor = self.next_after(at);
                }
                first_on_time = cursor;
            }
        }
        let mut cursor = first_on_time;
        while let Some(at) = cursor.filter(|at| *at <= now) {
            if due.fire.len() < MAX_CATCHUP_FIRES {
                due.fire.push(at);
            } else {
                due.missed += 1;
            }
            cursor = self.next_after(at);
        }
        due.next_fire_at = cursor;
        due
    }

    /// Up to `count` fire times after `after`, in order.
    pub fn upcoming(&self, after: Timestamp, count: usize) -> Vec<Timestamp> {
        let mut times = Vec::with_capacity(count.min(1_000));
        let mut cursor = after;
        while times.len() < count {
            let Some(next) = self.next_after(cursor) else { break };
            times.push(next);
            cursor = next;
        }
        times
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn cron(expression: &str, zone: &str) -> Timing {
        let spec = ScheduleSpec { cron: Some(expression.into()), timezone: Some(zone.into()), ..Default::default() };
        spec.timing().unwrap()
    }

    fn times(timing: &Timing, after: &str, count: usize) -> Vec<String> {
        timing.upcoming(at(after), count).iter().map(|t| t.to_rfc3339()).collect()
    }

    #[test]
    fn berlin_spring_forward_fires_a_skipped_time_once_at_the_next_valid_instant() {
        // 2025-03-30: 02:00 CET jumps to 03:00 CEST. A daily 02:30 fires at 03:00 CEST (01:00Z) that day.
        let daily = cron("30 2 * * *", "Europe/Berlin");
        let fired = times(&daily, "2025-03-29T00:00:00Z", 3);
        assert_eq!(fired, ["2025-03-29T01:30:00+00:00", "2025-03-30T01:00:00+00:00", "2025-03-31T00:30:00+00:00"]);
        // Every 30 minutes: the gap's local times do not exist; real time goes on without them.
        let half_hourly = cron("*/30 * * * *", "Europe/Berlin");
        let fired = times(&half_hourly, "2025-03-30T00:15:00Z", 3);
        assert_eq!(fired, ["2025-03-30T00:30:00+00:00", "2025-03-30T01:00:00+00:00", "2025-03-30T01:30:00+00:00"]);
    }

    #[test]
    fn berlin_fall_back_fires_a_repeated_time_once() {
        // 2025-10-26: 03:00 CEST falls back to 02:00 CET, so 02:00–02:59 happen twice. 02:30 fires once, the first time.
        let daily = cron("30 2 * * *", "Europe/Berlin");
        let fired = times(&daily, "2025-10-25T12:00:00Z", 2);
        assert_eq!(fired, ["2025-10-26T00:30:00+00:00", "2025-10-27T01:30:00+00:00"]);
        // Every 30 minutes, each local time once: 02:00 and 02:30 CEST, then 03:00 CET (02:xx CET repeat them).
        let half_hourly = cron("*/30 * * * *", "Europe/Berlin");
        let fired = times(&half_hourly, "2025-10-25T23:45:00Z", 4);
        assert_eq!(
            fired,
            [
                "2025-10-26T00:00:00+00:00",
                "2025-10-26T00:30:00+00:00",
                "2025-10-26T02:00:00+00:00",
                "2025-10-26T02:30:00+00:00"
            ]
        );
    }

    #[test]
    fn new_york_both_transitions() {
        let daily = cron("30 2 * * *", "America/New_York");
        // 2025-03-09: 02:00 EST jumps to 03:00 EDT; 02:30 fires at 03:00 EDT (07:00Z).
        assert_eq!(times(&daily, "2025-03-09T05:00:00Z", 1), ["2025-03-09T07:00:00+00:00"]);
        // 2025-11-02: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice and fires once, at 01:30 EDT (05:30Z).
        let early = cron("30 1 * * *", "America/New_York");
        assert_eq!(
            times(&early, "2025-11-02T04:00:00Z", 2),
            ["2025-11-02T05:30:00+00:00", "2025-11-03T06:30:00+00:00"]
        );
    }

    #[test]
    fn leap_days_yearly_nicknames_and_seconds() {
        let leap = cron("0 12 29 2 *", "UTC");
        assert_eq!(times(&leap, "2025-01-01T00:00:00Z", 2), ["2028-02-29T12:00:00+00:00", "2032-02-29T12:00:00+00:00"]);
        let yearly = cron("@yearly", "Europe/Berlin");
        assert_eq!(times(&yearly, "2025-06-01T00:00:00Z", 1), ["2025-12-31T23:00:00+00:00"]);
        let every_second = cron("* * * * * *", "UTC");
        assert_eq!(
            times(&every_second, "2025-01-01T00:00:00.999Z", 1),
            ["2025-01-01T00:00:01+00:00"],
            "not a second late"
        );
        let with_seconds = cron("15,45 * * * * *", "UTC");
        let fired = times(&with_seconds, "2025-01-01T00:00:00Z", 3);
        assert_eq!(fired, ["2025-01-01T00:00:15+00:00", "2025-01-01T00:00:45+00:00", "2025-01-01T00:01:15+00:00"]);
    }

    #[test]
    fn intervals_are_aligned_to_the_epoch_plus_their_offset_and_once_fires_once() {
        let spec = ScheduleSpec { every: Some("1d".into()), offset: Some("9h".into()), ..Default::default() };
        let daily_at_nine = spec.timing().unwrap();
        let fired = times(&daily_at_nine, "2025-05-01T09:00:00Z", 2);
        assert_eq!(fired, ["2025-05-02T09:00:00+00:00", "2025-05-03T09:00:00+00:00"], "strictly after");
        let every_second = ScheduleSpec { every: Some("1s".into()), ..Default::default() }.timing().unwrap();
        assert_eq!(times(&every_second, "2025-05-01T00:00:00.400Z", 1), ["2025-05-01T00:00:01+00:00"]);
        let once = ScheduleSpec { at: Some(at("2025-05-01T10:00:00Z")), ..Default::default() }.timing().unwrap();
        assert_eq!(times(&once, "2025-04-01T00:00:00Z", 5), ["2025-05-01T10:00:00+00:00"]);
        assert!(once.next_after(at("2025-05-01T10:00:00Z")).is_none());
    }

    #[test]
    fn after_downtime_only_fire_times_inside_the_catch_up_window_fire_and_the_rest_are_counted() {
        let every_minute = ScheduleSpec { every: Some("1m".into()), ..Default::default() }.timing().unwrap();
        // Down from 10:00 to 12:00:30, with a 5-minute window: 11:56..12:00 fire, 10:00..11:55 (116) are missed.
        let due = every_minute.due(at("2025-05-01T10:00:00Z"), at("2025-05-01T12:00:30Z"), Duration::minutes(5));
        let fired: Vec<String> = due.fire.iter().map(|t| t.format("%H:%M").to_string()).collect();
        assert_eq!(fired, ["11:56", "11:57", "11:58", "11:59", "12:00"]);
        assert_eq!((due.missed, due.missed_is_lower_bound), (116, false));
        assert_eq!(due.next_fire_at, Some(at("2025-05-01T12:01:00Z")));
        // The same through a cron expression, counted one by one, agrees.
        let cron_minute = cron("* * * * *", "UTC");
        let by_cron = cron_minute.due(at("2025-05-01T10:00:00Z"), at("2025-05-01T12:00:30Z"), Duration::minutes(5));
        assert_eq!(by_cron, due);
        // Not yet due: nothing happens; on time: exactly the one fire time.
        let early = every_minute.due(at("2025-05-01T10:00:00Z"), at("2025-05-01T09:59:59Z"), Duration::minutes(5));
        assert_eq!((early.fire.len(), early.missed, early.next_fire_at), (0, 0, Some(at("2025-05-01T10:00:00Z"))));
        let on_time =
            every_minute.due(at("2025-05-01T10:00:00Z"), at("2025-05-01T10:00:00.200Z"), Duration::seconds(10));
        assert_eq!((on_time.fire, on_time.missed), (vec![at("2025-05-01T10:00:00Z")], 0));
        // A one-time schedule found too late is missed, and then has no next fire time.
        let once = ScheduleSpec { at: Some(at("2025-05-01T10:00:00Z")), ..Default::default() }.timing().unwrap();
        let late = once.due(at("2025-05-01T10:00:00Z"), at("2025-05-02T10:00:00Z"), Duration::minutes(5));
        assert_eq!((late.fire.len(), late.missed, late.next_fire_at), (0, 1, None));
    }

    #[test]
    fn a_huge_backlog_is_bounded_both_ways() {
        // Every second, down for a day with a day's window: 1,000 fire, the other 85,401 are counted as missed.
        let every_second = ScheduleSpec { every: Some("1s".into()), ..Default::default() }.timing().unwrap();
        let due = every_second.due(at("2025-05-01T00:00:00Z"), at("2025-05-02T00:00:00Z"), Duration::days(1));
        assert_eq!((due.fire.len(), due.missed), (MAX_CATCHUP_FIRES, 86_401 - MAX_CATCHUP_FIRES as u64));
        assert_eq!(due.next_fire_at, Some(at("2025-05-02T00:00:01Z")));
        // A per-second cron down for a week with a minute's window: the count stops at the scan bound, and says so.
        let cron_second = cron("* * * * * *", "UTC");
        let due = cron_second.due(at("2025-05-01T00:00:00Z"), at("2025-05-08T00:00:00Z"), Duration::minutes(1));
        assert_eq!((due.missed, due.missed_is_lower_bound, due.fire.len()), (MAX_CATCHUP_SCAN, true, 61));
    }

    #[test]
    fn each_mistake_names_its_field() {
        let check = |spec: ScheduleSpec, field: &str, words: &str| {
            let error = spec.timing().unwrap_err();
            assert_eq!(error.field, field, "{error}");
            assert!(error.message.contains(words), "{error}");
        };
        let cron = |c: &str| ScheduleSpec { cron: Some(c.into()), ..Default::default() };
        check(ScheduleSpec::default(), "spec", "exactly one");
        check(ScheduleSpec { every: Some("1m".into()), ..cron("* * * * *") }, "spec", "exactly one");
        check(cron("61 * * * *"), "spec.cron", "");
        check(cron("* * *"), "spec.cron", "");
        check(cron("0 0 30 2 *"), "spec.cron", "never fires");
        // Found by fuzzing (fuzz/corpus/schedule_spec): each took croner seconds to search, not an error.
        check(cron(", * * * *"), "spec.cron", "empty item");
        check(cron("0 9 1,,15 * *"), "spec.cron", "empty item");
        check(cron("0 9 * * 1-5,"), "spec.cron", "empty item");
        check(ScheduleSpec { timezone: Some("Mars/Olympus".into()), ..cron("@daily") }, "spec.timezone", "IANA");
        check(ScheduleSpec { every: Some("soon".into()), ..Default::default() }, "spec.every", "duration");
        check(ScheduleSpec { every: Some("500ms".into()), ..Default::default() }, "spec.every", "1 second");
        let offset = ScheduleSpec { every: Some("1h".into()), offset: Some("2h".into()), ..Default::default() };
        check(offset, "spec.offset", "shorter");
        check(ScheduleSpec { offset: Some("1h".into()), ..cron("@daily") }, "spec.offset", "only");
        let zoned_interval =
            ScheduleSpec { every: Some("1h".into()), timezone: Some("UTC".into()), ..Default::default() };
        check(zoned_interval, "spec.timezone", "only");
    }
}
