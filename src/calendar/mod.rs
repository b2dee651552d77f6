//! The working calendar: working hours, weekend days, public holidays and adjusted working days
//! (调休), and time limits counted on it (`5 work_hours`, `2 work_days`) or in clock time
//! (`3 hours`, `7 days`). Plain data and arithmetic; the case workflow's stage due times are
//! computed with it (issue 14).
//!
//! The calendar file, written by hand by a district:
//!
//! ```json
//! {"utc_offset_h": 8, "work_hours": [["08:30", "11:30"], ["13:00", "17:30"]],
//!  "weekend": ["sat", "sun"], "holidays": ["2026-10-01"], "workdays": ["2026-10-10"]}
//! ```
//!
//! Semantics, exactly:
//! 1. A day is a working day if it is listed in `workdays` (an adjusted working day on a
//!    weekend), or it is neither a weekend day nor listed in `holidays`. A date in both lists is
//!    an error of the file.
//! 2. Working time is the `work_hours` periods of working days, in the calendar's offset.
//! 3. `work_hours`/`work_days` add working time: a start outside working time begins at the next
//!    working period; one work day is the sum of one day's periods (with the hours above, 1 work
//!    day from Tuesday 10:00 is Wednesday 10:00); a due time that falls exactly on the end of a
//!    period is that end, not the next period's start.
//! 4. `hours`/`days` add clock time.
//!
//! Every computation is bounded: a limit is at most [`MAX_LIMIT`] of its unit, and a search for
//! working time gives up after [`MAX_SEARCH_DAYS`] days without any (a calendar with no working
//! day at all), with an error, never a loop.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;
use std::collections::BTreeSet;

/// Largest number of units in one limit (e.g. 3,650 days).
pub const MAX_LIMIT: u32 = 3650;

/// Most consecutive days searched for working time before giving up.
pub const MAX_SEARCH_DAYS: i64 = 3700;

/// A working calendar (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    offset: FixedOffset,
    /// Working periods of a working day, sorted, not overlapping, each start before its end.
    periods: Vec<(NaiveTime, NaiveTime)>,
    /// Weekend days, indexed by days from Monday.
    weekend: [bool; 7],
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    /// Minutes of working time in one working day.
    day_minutes: i64,
}

/// The calendar file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    utc_offset_h: i32,
    work_hours: Vec<(String, String)>,
    #[serde(default)]
    weekend: Vec<String>,
    #[serde(default)]
    holidays: Vec<NaiveDate>,
    #[serde(default)]
    workdays: Vec<NaiveDate>,
}

/// A time limit: a count of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Working hours.
    WorkHours(u32),
    /// Working days (each the length of one day's working periods).
    WorkDays(u32),
    /// Clock hours.
    Hours(u32),
    /// Clock days.
    Days(u32),
}

impl std::str::FromStr for Limit {
    type Err = String;

    /// `"5 work_hours"`, `"2 work_days"`, `"3 hours"`, `"7 days"`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "{s:?}: expected a count and a unit, e.g. \"5 work_hours\""
            ));
        };
        let n: u32 = n
            .parse()
            .map_err(|_| format!("{s:?}: {n:?} is not a whole number"))?;
        if n == 0 || n > MAX_LIMIT {
            return Err(format!("{s:?}: the count must be 1 to {MAX_LIMIT}"));
        }
        match unit {
            "work_hours" => Ok(Limit::WorkHours(n)),
            "work_days" => Ok(Limit::WorkDays(n)),
            "hours" => Ok(Limit::Hours(n)),
            "days" => Ok(Limit::Days(n)),
            other => Err(format!(
                "{s:?}: unknown unit {other:?} (work_hours, work_days, hours, days)"
            )),
        }
    }
}

fn weekday(name: &str) -> Result<Weekday, String> {
    Ok(match name {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        other => {
            return Err(format!(
                "weekend: {other:?} is not a day (mon, tue, wed, thu, fri, sat, sun)"
            ));
        }
    })
}

fn time(field: &str, s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| format!("{field}: {s:?} is not HH:MM"))
}

impl Calendar {
    /// Reads a calendar file (JSON); every problem is named.
    pub fn from_json(bytes: &[u8]) -> Result<Calendar, String> {
        let f: CalendarFile =
            serde_json::from_slice(bytes).map_err(|e| format!("calendar file: {e}"))?;
        let offset = FixedOffset::east_opt(
            f.utc_offset_h
                .checked_mul(3600)
                .ok_or("utc_offset_h is out of range")?,
        )
        .filter(|_| (-12..=14).contains(&f.utc_offset_h))
        .ok_or_else(|| format!("utc_offset_h: {} is not -12 to 14", f.utc_offset_h))?;
        let mut periods = Vec::new();
        for (i, (a, b)) in f.work_hours.iter().enumerate() {
            let field = format!("work_hours[{i}]");
            let (start, end) = (time(&field, a)?, time(&field, b)?);
            if start >= end {
                return Err(format!("{field}: {a} is not before {b}"));
            }
            periods.push((start, end));
        }
        periods.sort();
        if periods.is_empty() {
            return Err("work_hours: no working period".into());
        }
        if let Some(w) = periods.windows(2).find(|w| w[0].1 > w[1].0) {
            return Err(format!(
                "work_hours: {}–{} overlaps {}–{}",
                w[0].0.format("%H:%M"),
                w[0].1.format("%H:%M"),
                w[1].0.format("%H:%M"),
                w[1].1.format("%H:%M")
            ));
        }
        let mut weekend = [false; 7];
        for d in &f.weekend {
            weekend[weekday(d)?.num_days_from_monday() as usize] = true;
        }
        let holidays: BTreeSet<NaiveDate> = f.holidays.into_iter().collect();
        let workdays: BTreeSet<NaiveDate> = f.workdays.into_iter().collect();
        if let Some(d) = holidays.intersection(&workdays).next() {
            return Err(format!("{d} is both a holiday and a working day"));
        }
        let day_minutes = periods.iter().map(|(a, b)| (*b - *a).num_minutes()).sum();
        Ok(Calendar {
            offset,
            periods,
            weekend,
            holidays,
            workdays,
            day_minutes,
        })
    }

    /// The calendar's UTC offset.
    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// Whether `d` is a working day.
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        self.workdays.contains(&d)
            || !(self.weekend[d.weekday().num_days_from_monday() as usize]
                || self.holidays.contains(&d))
    }

    /// Whether `t` lies in working time (a period's start included, its end excluded).
    pub fn is_working_time(&self, t: DateTime<FixedOffset>) -> bool {
        let local = t.with_timezone(&self.offset).naive_local();
        self.is_working_day(local.date())
            && self
                .periods
                .iter()
                .any(|(a, b)| local.time() >= *a && local.time() < *b)
    }

    /// Whether `t` is the end of a working period of a working day.
    pub fn is_period_end(&self, t: DateTime<FixedOffset>) -> bool {
        let local = t.with_timezone(&self.offset).naive_local();
        self.is_working_day(local.date()) && self.periods.iter().any(|(_, b)| local.time() == *b)
    }

    /// The due time of `limit` counted from `from`, in the calendar's offset.
    pub fn due(
        &self,
        from: DateTime<FixedOffset>,
        limit: Limit,
    ) -> Result<DateTime<FixedOffset>, String> {
        let from = from.with_timezone(&self.offset);
        let clock = |d: Duration| {
            from.checked_add_signed(d)
                .ok_or_else(|| format!("{limit:?} after {from} is not representable"))
        };
        match limit {
            Limit::Hours(n) => clock(Duration::hours(i64::from(n))),
            Limit::Days(n) => clock(Duration::days(i64::from(n))),
            Limit::WorkHours(n) => self.add_working_minutes(from, i64::from(n) * 60),
            Limit::WorkDays(n) => self.add_working_minutes(from, i64::from(n) * self.day_minutes),
        }
    }

    /// `from` plus `minutes` (> 0) of working time.
    pub fn add_working_minutes(
        &self,
        from: DateTime<FixedOffset>,
        minutes: i64,
    ) -> Result<DateTime<FixedOffset>, String> {
        let local = from.with_timezone(&self.offset).naive_local();
        let mut left = Duration::minutes(minutes.max(0));
        let mut day = local.date();
        let mut at = local.time();
        let mut idle = 0;
        loop {
            if self.is_working_day(day) {
                idle = 0;
                for (a, b) in &self.periods {
                    if at >= *b {
                        continue;
                    }
                    let start = at.max(*a);
                    let available = *b - start;
                    if left <= available {
                        let due = day.and_time(start) + left;
                        return due.and_local_timezone(self.offset).single().ok_or_else(|| {
                            format!("{due} is not a time in the calendar's offset")
                        });
                    }
                    left -= available;
                }
            } else {
                idle += 1;
                if idle > MAX_SEARCH_DAYS {
                    return Err(format!(
                        "no working day in the {MAX_SEARCH_DAYS} days after {day}"
                    ));
                }
            }
            day = day
                .succ_opt()
                .ok_or_else(|| format!("the calendar runs out after {day}"))?;
            at = NaiveTime::MIN;
        }
    }

    /// Minutes of working time between `a` and `b` (0 when `b` is not after `a`).
    pub fn working_minutes_between(
        &self,
        a: DateTime<FixedOffset>,
        b: DateTime<FixedOffset>,
    ) -> i64 {
        let (a, b) = (
            a.with_timezone(&self.offset).naive_local(),
            b.with_timezone(&self.offset).naive_local(),
        );
        let mut total = Duration::zero();
        let mut day = a.date();
        while day <= b.date() {
            if self.is_working_day(day) {
                for (s, e) in &self.periods {
                    let (s, e) = (day.and_time(*s).max(a), day.and_time(*e).min(b));
                    if e > s {
                        total += e - s;
                    }
                }
            }
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        total.num_minutes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = r#"{"utc_offset_h": 8, "work_hours": [["08:30", "11:30"], ["13:00", "17:30"]],
        "weekend": ["sat", "sun"], "holidays": ["2026-10-01", "2026-10-02", "2026-10-05",
        "2026-10-06", "2026-10-07", "2026-10-08"], "workdays": ["2026-10-10"]}"#;

    fn cal(json: &str) -> Calendar {
        Calendar::from_json(json.as_bytes()).expect("calendar")
    }

    fn t(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("time")
    }

    fn due(c: &Calendar, from: &str, limit: &str) -> String {
        c.due(t(from), limit.parse().expect("limit"))
            .expect("due")
            .to_rfc3339()
    }

    #[test]
    fn worked_examples() {
        let nine_to_five = cal(r#"{"utc_offset_h": 8, "work_hours": [["09:00", "17:00"]],
            "weekend": ["sat", "sun"]}"#);
        // 5 working hours from Friday 16:00: 1 on Friday, 4 on Monday.
        assert_eq!(
            due(&nine_to_five, "2026-11-27T16:00:00+08:00", "5 work_hours"),
            "2026-11-30T13:00:00+08:00"
        );
        // ending exactly at a period's end is that end
        assert_eq!(
            due(&nine_to_five, "2026-11-27T16:00:00+08:00", "1 work_hours"),
            "2026-11-27T17:00:00+08:00"
        );
        let c = cal(EXAMPLE);
        // 1 work day from Tuesday 10:00 is Wednesday 10:00
        assert_eq!(
            due(&c, "2026-11-24T10:00:00+08:00", "1 work_days"),
            "2026-11-25T10:00:00+08:00"
        );
        // a start outside working time begins at the next period (lunch break)
        assert_eq!(
            due(&c, "2026-11-24T12:00:00+08:00", "1 work_hours"),
            "2026-11-24T14:00:00+08:00"
        );
        // Wednesday 30 September 16:00 before the National Day week: 1.5 h that day, then the
        // holidays (1, 2 October; the weekend; 5–8 October), 3.5 h on Friday 9 October; two work
        // days reach into the adjusted working Saturday 10 October.
        assert_eq!(
            due(&c, "2026-09-30T16:00:00+08:00", "5 work_hours"),
            "2026-10-09T13:30:00+08:00"
        );
        assert_eq!(
            due(&c, "2026-09-30T16:00:00+08:00", "2 work_days"),
            "2026-10-10T16:00:00+08:00"
        );
        // clock time ignores the calendar
        assert_eq!(
            due(&c, "2026-09-30T16:00:00+08:00", "7 days"),
            "2026-10-07T16:00:00+08:00"
        );
        // a UTC start is read in the calendar's offset
        assert_eq!(
            due(&c, "2026-11-24T02:00:00Z", "1 work_hours"),
            "2026-11-24T11:00:00+08:00"
        );
    }

    #[test]
    fn bad_files_and_limits_are_named() {
        for (json, needle) in [
            (
                r#"{"utc_offset_h": 8, "work_hours": []}"#,
                "no working period",
            ),
            (
                r#"{"utc_offset_h": 8, "work_hours": [["09:00", "08:00"]]}"#,
                "is not before",
            ),
            (
                r#"{"utc_offset_h": 8, "work_hours": [["09:00", "12:00"], ["11:00", "13:00"]]}"#,
                "overlaps",
            ),
            (
                r#"{"utc_offset_h": 8, "work_hours": [["9", "12:00"]]}"#,
                "work_hours[0]",
            ),
            (
                r#"{"utc_offset_h": 30, "work_hours": [["09:00", "12:00"]]}"#,
                "utc_offset_h",
            ),
            (
                r#"{"utc_offset_h": 8, "work_hours": [["09:00", "12:00"]], "weekend": ["fri", "sab"]}"#,
                "\"sab\"",
            ),
            (
                r#"{"utc_offset_h": 8, "work_hours": [["09:00", "12:00"]], "holidays": ["2026-10-10"], "workdays": ["2026-10-10"]}"#,
                "both",
            ),
            (
                r#"{"utc_offset_h": 8, "work_hours": [["09:00", "12:00"]], "x": 1}"#,
                "unknown field",
            ),
        ] {
            let e = Calendar::from_json(json.as_bytes()).expect_err(json);
            assert!(e.contains(needle), "{json}: {e}");
        }
        for s in [
            "5",
            "0 days",
            "5 weeks",
            "x work_hours",
            "3651 days",
            "1 days extra",
        ] {
            assert!(s.parse::<Limit>().is_err(), "{s}");
        }
        let never = cal(r#"{"utc_offset_h": 8, "work_hours": [["09:00", "17:00"]],
            "weekend": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}"#);
        let e = never
            .due(t("2026-11-24T10:00:00+08:00"), Limit::WorkHours(1))
            .expect_err("no working day");
        assert!(e.contains("no working day"), "{e}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Adding working time is monotonic, never lands outside working time (a period's end
        /// counts as inside), and the working time between the start and the due time is what
        /// was added.
        #[test]
        fn working_time_arithmetic(start_min in 0i64..(2 * 366 * 24 * 60), minutes in 1i64..(40 * 60)) {
            let c = cal(EXAMPLE);
            let from = t("2026-01-01T00:00:00+08:00") + Duration::minutes(start_min);
            let due = c.add_working_minutes(from, minutes).expect("due");
            let later = c.add_working_minutes(from, minutes + 1).expect("due");
            prop_assert!(due >= from && later > due);
            prop_assert!(c.is_working_time(due) || c.is_period_end(due), "{due}");
            prop_assert_eq!(c.working_minutes_between(from, due), minutes);
        }
    }
}
