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
//! A file may also carry `"example": true`, a free-text `"note"` and a `"source"` list of strings;
//! they do not change any computation ([`Calendar::is_example`] reads the first). Any other field
//! is an error.
//!
//! Every computation is bounded: a limit is at most [`MAX_LIMIT`] of its unit, and a search for
//! working time gives up after [`MAX_SEARCH_DAYS`] days without any (a calendar with no working
//! day at all), with an error, never a loop.

pub mod stages;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;
use std::collections::BTreeSet;

/// Largest number of units in one limit (e.g. 3,650 days).
pub const MAX_LIMIT: u32 = 3650;

/// Most consecutive days searched for working time before giving up.
pub const MAX_SEARCH_DAYS: i64 = 3700;

/// The example calendar shipped in `fixtures/calendar.example.json` (marked `"example": true`):
/// 09:00–12:00 and 13:00–17:00 at UTC+8, Saturday and Sunday off, and the State Council's
/// published 2026 public holidays and adjusted working days (调休), with the sources in the file.
/// Only 2026 is in it (the 2027 schedule had not been published when it was written), so later
/// dates count as ordinary weekdays and weekends. A starting point for a district's own file, not
/// a calendar to rely on as it is.
pub const EXAMPLE_CALENDAR: &[u8] = include_bytes!("../../fixtures/calendar.example.json");

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
    /// The file is marked `"example": true`.
    example: bool,
}

/// The calendar file as written (`PUT /api/v1/calendar`, `gridatlas calendar import`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    /// The district's offset from UTC, whole hours (8 in China).
    utc_offset_h: i32,
    /// The working periods of a working day, `[["08:30", "11:30"], ["13:00", "17:30"]]`: start
    /// before end, in order, not overlapping.
    #[schema(value_type = Vec<Vec<String>>)]
    work_hours: Vec<(String, String)>,
    /// Weekend days (`mon` … `sun`).
    #[serde(default)]
    weekend: Vec<String>,
    /// Holidays (no work on these dates).
    #[serde(default)]
    holidays: Vec<NaiveDate>,
    /// Working days on a weekend (调休).
    #[serde(default)]
    workdays: Vec<NaiveDate>,
    /// Marks an example file (see [`Calendar::is_example`]).
    #[serde(default)]
    example: bool,
    /// Free text for the reader; ignored.
    #[serde(default, rename = "note")]
    _note: Option<String>,
    /// Where the dates come from, for the reader; ignored.
    #[serde(default, rename = "source")]
    _source: Vec<String>,
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
            example: f.example,
        })
    }

    /// Whether the file was marked `"example": true` (like [`EXAMPLE_CALENDAR`]): its dates are
    /// illustrative and must be checked before the calendar is used for real due times.
    pub fn is_example(&self) -> bool {
        self.example
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

impl std::fmt::Display for Limit {
    /// The form it is written in: `"5 work_hours"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, unit) = match self {
            Limit::WorkHours(n) => (n, "work_hours"),
            Limit::WorkDays(n) => (n, "work_days"),
            Limit::Hours(n) => (n, "hours"),
            Limit::Days(n) => (n, "days"),
        };
        write!(f, "{n} {unit}")
    }
}

impl serde::Serialize for Limit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
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

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    /// The `holidays` or `workdays` list of the shipped example file, as written.
    fn example_list(key: &str) -> Vec<NaiveDate> {
        let v: serde_json::Value = serde_json::from_slice(EXAMPLE_CALENDAR).expect("json");
        v[key]
            .as_array()
            .expect(key)
            .iter()
            .map(|d| date(d.as_str().expect("date string")))
            .collect()
    }

    #[test]
    fn example_calendar_parses_and_is_marked() {
        let c = Calendar::from_json(EXAMPLE_CALENDAR).expect("example calendar");
        assert!(c.is_example());
        assert_eq!(c.offset(), FixedOffset::east_opt(8 * 3600).expect("offset"));
        // 09:00–12:00 and 13:00–17:00: seven hours a day
        assert_eq!(c.day_minutes, 7 * 60);
        // an unmarked file is not an example; `note` and `source` are allowed and change nothing
        assert!(!cal(EXAMPLE).is_example());
        let annotated = cal(r#"{"utc_offset_h": 8, "work_hours": [["09:00", "17:00"]],
            "example": false, "note": "x", "source": ["y"]}"#);
        assert!(!annotated.is_example());
        assert_eq!(
            annotated,
            cal(r#"{"utc_offset_h": 8, "work_hours": [["09:00", "17:00"]]}"#)
        );
        // still strict about everything else
        for json in [
            r#"{"utc_offset_h": 8, "work_hours": [["09:00", "17:00"]], "sources": ["y"]}"#,
            r#"{"utc_offset_h": 8, "work_hours": [["09:00", "17:00"]], "example": "yes"}"#,
        ] {
            assert!(Calendar::from_json(json.as_bytes()).is_err(), "{json}");
        }
    }

    /// The example file holds exactly the State Council's 2026 schedule (国务院办公厅关于2026年
    /// 部分节假日安排的通知, 2025-11-04; sources in the file) and nothing of 2027, which had not
    /// been published when it was written.
    #[test]
    fn example_calendar_has_the_2026_schedule() {
        let c = Calendar::from_json(EXAMPLE_CALENDAR).expect("example calendar");
        let (holidays, workdays) = (example_list("holidays"), example_list("workdays"));
        for d in &holidays {
            assert!(!c.is_working_day(*d), "holiday {d} is a working day");
        }
        for d in &workdays {
            assert!(c.is_working_day(*d), "调休 {d} is not a working day");
            assert!(
                matches!(d.weekday(), Weekday::Sat | Weekday::Sun),
                "调休 {d} is not a weekend day"
            );
        }
        // The notice, transcribed: each holiday's days off (放假), first to last day.
        let notice = [
            ("2026-01-01", "2026-01-03"), // 元旦 1月1日(周四)至3日(周六)
            ("2026-02-15", "2026-02-23"), // 春节 2月15日(周日)至23日(周一), 9 days
            ("2026-04-04", "2026-04-06"), // 清明节 4月4日(周六)至6日(周一)
            ("2026-05-01", "2026-05-05"), // 劳动节 5月1日(周五)至5日(周二)
            ("2026-06-19", "2026-06-21"), // 端午节 6月19日(周五)至21日(周日)
            ("2026-09-25", "2026-09-27"), // 中秋节 9月25日(周五)至27日(周日)
            ("2026-10-01", "2026-10-07"), // 国庆节 10月1日(周四)至7日(周三)
        ];
        let mut expected = Vec::new();
        for (first, last) in notice {
            let mut d = date(first);
            while d <= date(last) {
                expected.push(d);
                d = d.succ_opt().expect("next day");
            }
        }
        assert_eq!(holidays, expected);
        // 上班: 1月4日(周日), 2月14日(周六), 2月28日(周六), 5月9日(周六), 9月20日(周日), 10月10日(周六)
        let expected: Vec<NaiveDate> = [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ]
        .map(date)
        .to_vec();
        assert_eq!(workdays, expected);
        assert!(holidays.iter().chain(&workdays).all(|d| d.year() == 2026));
        // A few named days, and their neighbours.
        for (d, working) in [
            ("2026-02-13", true),  // Friday before the Spring Festival
            ("2026-02-14", true),  // Saturday, 调休 before the Spring Festival
            ("2026-02-17", false), // Tuesday, 春节 (正月初一)
            ("2026-02-23", false), // Monday, last day of the Spring Festival break
            ("2026-02-24", true),  // Tuesday after it
            ("2026-02-28", true),  // Saturday, 调休 after it
            ("2026-09-19", false), // an ordinary Saturday
            ("2026-09-20", true),  // Sunday, 调休 before National Day
            ("2026-09-24", true),  // Thursday before the Mid-Autumn Festival
            ("2026-09-25", false), // Friday, 中秋节
            ("2026-09-28", true),  // Monday between the two breaks
            ("2026-10-01", false), // Thursday, 国庆节
            ("2026-10-07", false), // Wednesday, last day of the National Day break
            ("2026-10-08", true),  // Thursday after it
            ("2026-10-10", true),  // Saturday, 调休 after National Day
            ("2026-10-11", false), // an ordinary Sunday
        ] {
            assert_eq!(c.is_working_day(date(d)), working, "{d}");
        }
    }

    #[test]
    fn example_calendar_due_times_across_the_2026_holidays() {
        let c = Calendar::from_json(EXAMPLE_CALENDAR).expect("example calendar");
        // One work day is 3 h + 4 h = 420 min; 5 work days are 2,100 min.
        //
        // Friday 25 September 16:00 is itself a holiday (中秋节, 25–27 Sep), so counting starts at
        // the next working period, Monday 28 September 09:00. Mon 28, Tue 29 and Wed 30 Sep give
        // 3 × 420 = 1,260; 1–7 October are the National Day break; Thu 8 Oct brings it to 1,680
        // and Fri 9 Oct to 2,100, exactly at the end of its afternoon period: Fri 9 Oct 17:00.
        assert_eq!(
            due(&c, "2026-09-25T16:00:00+08:00", "5 work_days"),
            "2026-10-09T17:00:00+08:00"
        );
        // From Thursday 24 September 16:00: 60 min that day (16:00–17:00), 1,260 on 28–30 Sep,
        // 420 on 8 Oct (1,740 in all), leaving 360 on Fri 9 Oct: 180 in the morning, 180 from
        // 13:00, due 16:00.
        assert_eq!(
            due(&c, "2026-09-24T16:00:00+08:00", "5 work_days"),
            "2026-10-09T16:00:00+08:00"
        );
        assert_eq!(
            c.working_minutes_between(
                t("2026-09-24T16:00:00+08:00"),
                t("2026-10-09T16:00:00+08:00")
            ),
            5 * 420
        );
        // One more work day (2,520): all of Fri 9 Oct (2,160 by then), leaving 360 on Saturday
        // 10 October, an adjusted working day (调休): due 16:00 that Saturday.
        assert_eq!(
            due(&c, "2026-09-24T16:00:00+08:00", "6 work_days"),
            "2026-10-10T16:00:00+08:00"
        );
        // Saturday 19 September is an ordinary weekend day, Sunday 20 September is 调休: one
        // working hour from Saturday 10:00 is Sunday 10:00.
        assert_eq!(
            due(&c, "2026-09-19T10:00:00+08:00", "1 work_hours"),
            "2026-09-20T10:00:00+08:00"
        );
        // Spring Festival. From Friday 13 February 16:00: 60 min that day, then Saturday
        // 14 February (调休) gives 420 (480 in all); 15–23 February are the break; Tuesday
        // 24 February gives 180 in the morning (660) and the last 180 from 13:00: due 16:00.
        // One work day (420) ends on the 调休 Saturday: 60 + 180 + 180, due 16:00.
        assert_eq!(
            due(&c, "2026-02-13T16:00:00+08:00", "1 work_days"),
            "2026-02-14T16:00:00+08:00"
        );
        assert_eq!(
            due(&c, "2026-02-13T16:00:00+08:00", "2 work_days"),
            "2026-02-24T16:00:00+08:00"
        );
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
