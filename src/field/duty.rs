//! Duty: shift templates per team and the "2+X" duty modes as data ([`FieldSettings`], the
//! example in fixtures/field.example.json), who is on which shift on which date ([`DutyEntry`]),
//! and attendance (电子考勤): the class of one check-in ([`classify`]) and of a person's shift
//! ([`attendance`]).
//!
//! A shift runs from its start on its date to its end, on the next day when the end is not
//! after the start (a night shift 20:00–08:00), in the settings' UTC offset. Attendance, per
//! shift, with `grace` = [`CheckInRules::grace_min`]:
//!
//! | class | when |
//! |---|---|
//! | `on_time` | a check-in (not outside) at or before start + grace |
//! | `late` | the first check-in (not outside) after start + grace, before the end |
//! | `absent` | no check-in (not outside) between [`CheckInRules::early_min`] before the start and the end, once the shift has ended |
//! | `early_leave` | a check-out before end − grace with no check-in after it |
//! | `outside` | a check-in or check-out neither inside the assigned areas, within [`CheckInRules::near_m`] of them, nor within [`CheckInRules::workstation_m`] of the grid's workstation |
//!
//! A shift not yet ended with no check-in is `pending`. A punch belongs to the shift whose
//! window — from `early_min` before its start to `early_min` after its end — contains it.

use super::FixRules;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A duty mode of the "2+X" joint patrols: which category groups a shift focuses on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyMode {
    /// Identifier, e.g. `day`.
    pub code: String,
    /// Chinese name, e.g. 日间模式（市容优先）.
    pub name_zh: String,
    /// Task-list group codes the patrol task list shows first, in order.
    pub groups: Vec<String>,
}

/// A shift template of one team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftTemplate {
    /// The team it belongs to (a staff member's `team`).
    pub team: String,
    /// Identifier within the team, e.g. `day`.
    pub code: String,
    /// Chinese name, e.g. 白班.
    pub name_zh: String,
    /// Start, local time `HH:MM`.
    #[schema(value_type = String, example = "08:00")]
    pub start: NaiveTime,
    /// End, local time `HH:MM`; on the next day when not after the start.
    #[schema(value_type = String, example = "20:00")]
    pub end: NaiveTime,
    /// The duty mode (a [`DutyMode::code`]).
    pub mode: String,
}

/// Rules of check-in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInRules {
    /// A point within this many metres of an assigned area counts as there.
    #[schema(minimum = 0, maximum = 10000)]
    pub near_m: f64,
    /// A point within this many metres of the grid's workstation counts as there.
    #[schema(minimum = 0, maximum = 10000)]
    pub workstation_m: f64,
    /// Minutes after the start (before the end) that are still on time.
    #[schema(minimum = 0, maximum = 720)]
    pub grace_min: i64,
    /// Minutes before the start a check-in is accepted for the shift (and after its end a
    /// check-out).
    #[schema(minimum = 0, maximum = 720)]
    pub early_min: i64,
}

impl Default for CheckInRules {
    fn default() -> Self {
        CheckInRules {
            near_m: 50.0,
            workstation_m: 100.0,
            grace_min: 5,
            early_min: 60,
        }
    }
}

/// Rules of coverage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageRules {
    /// A road segment's length within this many metres of a path is covered.
    #[schema(minimum = 0, maximum = 10000)]
    pub radius_m: f64,
    /// A segment counts as covered when at least this share of it is.
    #[schema(exclusive_minimum = 0, maximum = 1)]
    pub covered_share: f64,
}

impl Default for CoverageRules {
    fn default() -> Self {
        CoverageRules {
            radius_m: 20.0,
            covered_share: 0.8,
        }
    }
}

/// The field force's settings: modes, shift templates, check-in, track and coverage rules,
/// and how long fixes are kept. Stored as one setting; fixtures/field.example.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldSettings {
    /// Offset of local time from UTC, hours (shift times are local).
    #[schema(minimum = -12, maximum = 14)]
    pub utc_offset_h: i32,
    /// Duty modes.
    pub modes: Vec<DutyMode>,
    /// Shift templates.
    pub shifts: Vec<ShiftTemplate>,
    /// Check-in rules.
    #[serde(default)]
    pub check_in: CheckInRules,
    /// Fix and path rules.
    #[serde(default)]
    pub tracks: FixRules,
    /// Coverage rules.
    #[serde(default)]
    pub coverage: CoverageRules,
    /// Days fixes and check-ins are kept before the server purges them.
    #[schema(minimum = 1, maximum = 3650)]
    pub retention_days: i64,
}

/// The example settings, shipped with the binary.
pub const EXAMPLE: &str = include_str!("../../fixtures/field.example.json");

impl Default for FieldSettings {
    fn default() -> Self {
        FieldSettings {
            utc_offset_h: 8,
            modes: Vec::new(),
            shifts: Vec::new(),
            check_in: CheckInRules::default(),
            tracks: FixRules::default(),
            coverage: CoverageRules::default(),
            retention_days: 180,
        }
    }
}

impl FieldSettings {
    /// Parses and checks settings from JSON.
    pub fn from_json(text: &str) -> Result<FieldSettings, String> {
        let s: FieldSettings = serde_json::from_str(text).map_err(|e| e.to_string())?;
        s.check()?;
        Ok(s)
    }

    /// Checks the settings: offset, modes and shifts named once, every shift's mode known,
    /// rules positive, retention at least a day.
    pub fn check(&self) -> Result<(), String> {
        if !(-12..=14).contains(&self.utc_offset_h) {
            return Err(format!(
                "utc_offset_h: {} is not -12 to 14",
                self.utc_offset_h
            ));
        }
        let mut modes = std::collections::BTreeSet::new();
        for (i, m) in self.modes.iter().enumerate() {
            if m.code.is_empty() || !modes.insert(m.code.as_str()) {
                return Err(format!(
                    "modes[{i}]: code {:?} is empty or repeated",
                    m.code
                ));
            }
        }
        let mut shifts = std::collections::BTreeSet::new();
        for (i, s) in self.shifts.iter().enumerate() {
            if s.code.is_empty() || !shifts.insert((s.team.as_str(), s.code.as_str())) {
                return Err(format!(
                    "shifts[{i}]: shift {:?} of team {:?} is empty or repeated",
                    s.code, s.team
                ));
            }
            if !modes.contains(s.mode.as_str()) {
                return Err(format!("shifts[{i}]: mode {:?} is not in modes", s.mode));
            }
            if s.start == s.end {
                return Err(format!("shifts[{i}]: start and end are both {}", s.start));
            }
        }
        let c = &self.check_in;
        for (name, v) in [
            ("check_in.near_m", c.near_m),
            ("check_in.workstation_m", c.workstation_m),
            ("coverage.radius_m", self.coverage.radius_m),
        ] {
            if !(v.is_finite() && (0.0..=10_000.0).contains(&v)) {
                return Err(format!("{name}: {v} is not 0 to 10000 metres"));
            }
        }
        if !(0..=720).contains(&c.grace_min) || !(0..=720).contains(&c.early_min) {
            return Err("check_in.grace_min and early_min are 0 to 720 minutes".into());
        }
        let share = self.coverage.covered_share;
        if !(share > 0.0 && share <= 1.0) {
            return Err(format!("coverage.covered_share: {share} is not in (0, 1]"));
        }
        self.tracks.check().map_err(|e| format!("tracks.{e}"))?;
        if !(1..=3650).contains(&self.retention_days) {
            return Err(format!(
                "retention_days: {} is not 1 to 3650",
                self.retention_days
            ));
        }
        Ok(())
    }

    /// The local offset.
    pub fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset_h * 3600)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
    }

    /// The local date of `t`.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.offset()).date_naive()
    }

    /// Team `team`'s shift `code`.
    pub fn shift(&self, team: &str, code: &str) -> Option<&ShiftTemplate> {
        self.shifts
            .iter()
            .find(|s| s.team == team && s.code == code)
    }

    /// The mode `code`.
    pub fn mode(&self, code: &str) -> Option<&DutyMode> {
        self.modes.iter().find(|m| m.code == code)
    }

    /// When shift `s` runs on `date`: `[start, end)` in UTC.
    pub fn span(&self, s: &ShiftTemplate, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let off = self.offset();
        let at = |d: NaiveDate, t: NaiveTime| {
            off.from_local_datetime(&d.and_time(t))
                .single()
                .map(|x| x.with_timezone(&Utc))
                .unwrap_or_else(|| d.and_time(t).and_utc())
        };
        let start = at(date, s.start);
        let end_date = if s.end > s.start {
            date
        } else {
            date.succ_opt().unwrap_or(date)
        };
        (start, at(end_date, s.end))
    }
}

/// One entry of the duty roster: `staff` works shift `shift` of their team on `date`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyEntry {
    /// 工号.
    pub staff: String,
    /// The shift's local start date.
    #[schema(value_type = String, example = "2026-12-01")]
    pub date: NaiveDate,
    /// Shift template code (of the person's team).
    pub shift: String,
}

/// A check-in or a check-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Punch {
    /// 签到.
    In,
    /// 签退.
    Out,
}

impl Punch {
    /// The identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Punch::In => "in",
            Punch::Out => "out",
        }
    }
}

/// Where a check-in was, relative to the person's assigned areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// Inside an assigned area (its boundary included).
    Inside,
    /// Outside but within [`CheckInRules::near_m`] of one.
    Near,
    /// Within [`CheckInRules::workstation_m`] of an assigned grid's workstation.
    Workstation,
    /// None of these.
    Outside,
}

impl Place {
    /// The identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Place::Inside => "inside",
            Place::Near => "near",
            Place::Workstation => "workstation",
            Place::Outside => "outside",
        }
    }

    /// Whether the place counts as at work.
    pub fn counts(self) -> bool {
        self != Place::Outside
    }
}

/// The attendance class of one check-in or of a shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// 正常.
    OnTime,
    /// 迟到.
    Late,
    /// 早退.
    EarlyLeave,
    /// 缺勤.
    Absent,
    /// 不在岗位区域.
    Outside,
    /// No check-in yet; the shift has not ended.
    Pending,
    /// The person has no shift at that time.
    NoShift,
}

impl Class {
    /// The identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::OnTime => "on_time",
            Class::Late => "late",
            Class::EarlyLeave => "early_leave",
            Class::Absent => "absent",
            Class::Outside => "outside",
            Class::Pending => "pending",
            Class::NoShift => "no_shift",
        }
    }
}

/// A shift as it runs: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

impl Span {
    /// Whether a punch at `t` belongs to this shift: from `early_min` before the start to
    /// `early_min` after the end.
    pub fn window_contains(&self, t: DateTime<Utc>, rules: &CheckInRules) -> bool {
        let w = Duration::minutes(rules.early_min);
        self.start - w <= t && t < self.end + w
    }
}

/// The class of one punch at `t` at `place` for `span`.
pub fn classify(
    span: &Span,
    t: DateTime<Utc>,
    punch: Punch,
    place: Place,
    rules: &CheckInRules,
) -> Class {
    if !place.counts() {
        return Class::Outside;
    }
    let grace = Duration::minutes(rules.grace_min);
    match punch {
        Punch::In if t <= span.start + grace => Class::OnTime,
        Punch::In => Class::Late,
        Punch::Out if t < span.end - grace => Class::EarlyLeave,
        Punch::Out => Class::OnTime,
    }
}

/// A punch as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// When.
    pub t: DateTime<Utc>,
    /// In or out.
    pub punch: Punch,
    /// Where.
    pub place: Place,
}

/// A person's attendance of one shift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShiftAttendance {
    /// `on_time`, `late`, `absent` or `pending`.
    pub status: Class,
    /// Left before the end (a check-out before end − grace with no check-in after it).
    pub early_leave: bool,
    /// A punch of the shift was outside the assigned areas.
    pub outside: bool,
    /// The first check-in that counts.
    pub first_in: Option<DateTime<Utc>>,
    /// The last check-out.
    pub last_out: Option<DateTime<Utc>>,
    /// On duty at `now`: checked in (counting), not checked out since, within the shift.
    pub on_duty: bool,
}

/// The attendance of `span` from the person's punches (any order; those outside the shift's
/// window are ignored), as it stands at `now`.
pub fn attendance(
    span: &Span,
    punches: &[Recorded],
    now: DateTime<Utc>,
    rules: &CheckInRules,
) -> ShiftAttendance {
    let mut mine: Vec<&Recorded> = punches
        .iter()
        .filter(|p| p.t <= now && span.window_contains(p.t, rules))
        .collect();
    mine.sort_by_key(|p| p.t);
    let first_in = mine
        .iter()
        .find(|p| p.punch == Punch::In && p.place.counts() && p.t < span.end)
        .map(|p| p.t);
    let last_out = mine
        .iter()
        .rev()
        .find(|p| p.punch == Punch::Out)
        .map(|p| p.t);
    let grace = Duration::minutes(rules.grace_min);
    let status = match first_in {
        Some(t) if t <= span.start + grace => Class::OnTime,
        Some(_) => Class::Late,
        None if now >= span.end => Class::Absent,
        None => Class::Pending,
    };
    let last = mine.last();
    let early_leave = last.is_some_and(|p| p.punch == Punch::Out && p.t < span.end - grace);
    let outside = mine.iter().any(|p| !p.place.counts());
    let in_after_out = match (
        mine.iter()
            .rev()
            .find(|p| p.punch == Punch::In && p.place.counts()),
        last_out,
    ) {
        (Some(i), Some(o)) => i.t > o,
        (Some(_), None) => true,
        _ => false,
    };
    let on_duty = first_in.is_some()
        && in_after_out
        && span.start - Duration::minutes(rules.early_min) <= now
        && now < span.end;
    ShiftAttendance {
        status,
        early_leave,
        outside,
        first_in,
        last_out,
        on_duty,
    }
}

/// A check-in or check-out as recorded, with the verdict given when it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckIn {
    /// Identifier (0 before it is stored).
    pub id: i64,
    /// 工号.
    pub staff: String,
    /// When (the device's time).
    pub t: DateTime<Utc>,
    /// In or out.
    pub punch: Punch,
    /// Longitude, WGS84.
    pub lon: f64,
    /// Latitude, WGS84.
    pub lat: f64,
    /// Accuracy the device reported, metres.
    pub accuracy_m: Option<f64>,
    /// Where it was relative to the assigned areas.
    pub place: Place,
    /// Distance to the nearest assigned area (0 inside) or to the workstation, metres.
    pub distance_m: Option<f64>,
    /// The assigned area (or the grid of the workstation) it matched, if any.
    pub area: Option<String>,
    /// The class of this punch.
    pub class: Class,
    /// The shift it belongs to: its local start date …
    #[schema(value_type = Option<String>)]
    pub shift_date: Option<NaiveDate>,
    /// … and its code.
    pub shift: Option<String>,
    /// When the server recorded it.
    pub recorded_at: DateTime<Utc>,
}

impl CheckIn {
    /// The punch as attendance counts it.
    pub fn recorded(&self) -> Recorded {
        Recorded {
            t: self.t,
            punch: self.punch,
            place: self.place,
        }
    }
}

impl std::str::FromStr for Punch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Punch::In, Punch::Out]
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not in or out"))
    }
}

impl std::str::FromStr for Place {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Place::Inside,
            Place::Near,
            Place::Workstation,
            Place::Outside,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| format!("{s:?} is not a place"))
    }
}

impl std::str::FromStr for Class {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Class::OnTime,
            Class::Late,
            Class::EarlyLeave,
            Class::Absent,
            Class::Outside,
            Class::Pending,
            Class::NoShift,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| format!("{s:?} is not an attendance class"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> FieldSettings {
        FieldSettings::from_json(EXAMPLE).expect("example settings")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn night() -> Span {
        let s = settings();
        let t = s.shift("patrol", "night").expect("night shift");
        let (start, end) = s.span(t, NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"));
        Span { start, end }
    }

    #[test]
    fn a_night_shift_runs_across_midnight_in_local_time() {
        let n = night();
        assert_eq!(n.start, utc("2026-12-01T20:00:00+08:00"));
        assert_eq!(n.end, utc("2026-12-02T08:00:00+08:00"));
    }

    #[test]
    fn punches_around_the_edges_of_a_night_shift() {
        let n = night();
        let r = CheckInRules::default();
        let c = |t: &str, p: Punch, pl: Place| classify(&n, utc(t), p, pl, &r);
        assert_eq!(
            c("2026-12-01T19:30:00+08:00", Punch::In, Place::Inside),
            Class::OnTime
        );
        assert_eq!(
            c("2026-12-01T20:05:00+08:00", Punch::In, Place::Near),
            Class::OnTime
        );
        assert_eq!(
            c("2026-12-01T20:05:01+08:00", Punch::In, Place::Inside),
            Class::Late
        );
        assert_eq!(
            c("2026-12-01T20:00:00+08:00", Punch::In, Place::Outside),
            Class::Outside
        );
        assert_eq!(
            c("2026-12-02T07:54:59+08:00", Punch::Out, Place::Inside),
            Class::EarlyLeave
        );
        assert_eq!(
            c("2026-12-02T07:55:00+08:00", Punch::Out, Place::Workstation),
            Class::OnTime
        );
        assert!(n.window_contains(utc("2026-12-02T08:59:59+08:00"), &r));
        assert!(!n.window_contains(utc("2026-12-02T09:00:00+08:00"), &r));
        assert!(!n.window_contains(utc("2026-12-01T18:59:59+08:00"), &r));
    }

    #[test]
    fn a_shift_is_absent_only_once_it_has_ended() {
        let n = night();
        let r = CheckInRules::default();
        let outside = Recorded {
            t: utc("2026-12-01T20:00:00+08:00"),
            punch: Punch::In,
            place: Place::Outside,
        };
        let a = attendance(&n, &[outside], utc("2026-12-02T07:59:59+08:00"), &r);
        assert_eq!(
            (a.status, a.outside, a.on_duty),
            (Class::Pending, true, false)
        );
        let a = attendance(&n, &[outside], utc("2026-12-02T08:00:00+08:00"), &r);
        assert_eq!(a.status, Class::Absent);
    }

    #[test]
    fn late_then_early_leave_then_back() {
        let n = night();
        let r = CheckInRules::default();
        let p = |t: &str, punch| Recorded {
            t: utc(t),
            punch,
            place: Place::Inside,
        };
        let punches = [
            p("2026-12-01T20:30:00+08:00", Punch::In),
            p("2026-12-02T03:00:00+08:00", Punch::Out),
        ];
        let a = attendance(&n, &punches, utc("2026-12-02T09:00:00+08:00"), &r);
        assert_eq!(
            (a.status, a.early_leave, a.on_duty),
            (Class::Late, true, false)
        );
        let a = attendance(&n, &punches[..1], utc("2026-12-02T01:00:00+08:00"), &r);
        assert!(a.on_duty);
        let back = [
            punches[0],
            punches[1],
            p("2026-12-02T03:30:00+08:00", Punch::In),
        ];
        let a = attendance(&n, &back, utc("2026-12-02T04:00:00+08:00"), &r);
        assert!(!a.early_leave && a.on_duty);
    }
}
