//! Cases (案件): what was reported, where it was routed, and its lifecycle; and the indicators
//! computed from a set of cases. Plain data and rules, no I/O (the store keeps cases durably).
//!
//! The life of a case is the national standard's workflow ([`workflow`]: stages, the actions
//! between them, who may take them, and the time limit of every stage on a working calendar).
//! A case is *done* when it is finished: closed, rejected or void.
//!
//! Times and text are bounded ([`check_reported_at`], [`check_event_time`], [`limits`]): a report
//! is not in the future (beyond [`CLOCK_SKEW`]) nor older than [`MAX_REPORT_AGE_DAYS`]; a status
//! change is not in the future either, nor earlier than the case's previous event; every text
//! field has a length limit in characters.

pub mod facts;
pub mod indicators;
pub mod photos;
pub mod review;
pub mod scoring;
pub mod workflow;

pub use workflow::{Action, Stage, StageLimits, Track};

use crate::routing::Assignment;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Where a case came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Found by grid staff on patrol (网格先行发现).
    Patrol,
    /// The 12345 hotline.
    Hotline,
    /// A WeChat mini-program or app.
    App,
    /// An Open311 GeoReport v2 client.
    Open311,
}

impl Source {
    /// Every source.
    pub const ALL: [Source; 4] = [
        Source::Patrol,
        Source::Hotline,
        Source::App,
        Source::Open311,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Patrol => "patrol",
            Source::Hotline => "hotline",
            Source::App => "app",
            Source::Open311 => "open311",
        }
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Source::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown source {s:?} (patrol, hotline, app or open311)"))
    }
}

/// How far in the future (by the server's clock) a reported time or an event may lie: clocks of
/// phones and hotline desks drift.
pub const CLOCK_SKEW: Duration = Duration::minutes(5);

/// How old a reported time may be, in days (a year and a day): older reports are typos or
/// attempts to move a case out of every indicator period.
pub const MAX_REPORT_AGE_DAYS: i64 = 366;

/// Length limits of text fields, in characters (Unicode scalar values, not bytes).
pub mod limits {
    /// A case's description (for Open311: the description and the address as given, each).
    pub const DESCRIPTION: usize = 2_000;
    /// An event's note.
    pub const NOTE: usize = 1_000;
    /// A name: an event's `by`, a department, an Open311 first or last name.
    pub const NAME: usize = 100;
    /// An e-mail address (RFC 5321's longest path).
    pub const EMAIL: usize = 254;
    /// A phone number.
    pub const PHONE: usize = 32;
    /// An Open311 `address_string`.
    pub const ADDRESS: usize = 500;
    /// A photo (media) URL.
    pub const MEDIA_URL: usize = 2_048;
    /// An Open311 `device_id` or `account_id`.
    pub const ID: usize = 100;
}

/// Checks that `value` has at most `max` characters; the error names the field and the limit.
/// Cheap on any input: it counts at most `max + 1` characters.
pub fn check_len(field: &str, value: &str, max: usize) -> Result<(), String> {
    // a string of at most `max` bytes has at most `max` characters
    if value.len() <= max || value.chars().nth(max).is_none() {
        Ok(())
    } else {
        Err(format!(
            "field `{field}` is longer than {max} characters (the limit)"
        ))
    }
}

/// Checks a case's reported time against `now`: at most [`CLOCK_SKEW`] ahead, at most
/// [`MAX_REPORT_AGE_DAYS`] behind.
pub fn check_reported_at(t: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if now
        .checked_add_signed(CLOCK_SKEW)
        .is_none_or(|late| t > late)
    {
        return Err(format!(
            "{} is in the future (by this server's clock, {} minutes of skew allowed)",
            t.to_rfc3339(),
            CLOCK_SKEW.num_minutes()
        ));
    }
    if now
        .checked_sub_signed(Duration::days(MAX_REPORT_AGE_DAYS))
        .is_none_or(|early| t < early)
    {
        return Err(format!(
            "{} is more than {MAX_REPORT_AGE_DAYS} days ago",
            t.to_rfc3339()
        ));
    }
    Ok(())
}

/// Checks the time of a new event: not in the future (beyond [`CLOCK_SKEW`]). That it does not
/// precede the case's latest event is checked by [`workflow::apply`].
pub fn check_event_time(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if now
        .checked_add_signed(CLOCK_SKEW)
        .is_none_or(|late| at > late)
    {
        return Err(format!(
            "{} is in the future (by this server's clock, {} minutes of skew allowed)",
            at.to_rfc3339(),
            CLOCK_SKEW.num_minutes()
        ));
    }
    Ok(())
}

/// A case as submitted and routed, before it has an id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    /// Category code.
    pub category: String,
    /// Where it came from.
    pub source: Source,
    /// What the reporter said.
    pub description: String,
    /// The point as given, and its CRS name.
    pub input: (f64, f64, String),
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// Who submitted it (token name), for the record.
    pub created_by: String,
    /// The submitter's role, for the record.
    pub role: String,
    /// Reporter's contact details (Open311 email/phone/name); never shown publicly.
    pub contact: Option<serde_json::Value>,
    /// The routing.
    pub assignment: Assignment,
    /// The stage limits of its category, kept with the case.
    pub limits: StageLimits,
    /// When the `reported` stage is due (the `accept` limit from `reported_at`).
    pub due_at: DateTime<Utc>,
    /// SHA-256 of the reporter's feedback secret (the secret itself is given to the reporter once).
    pub feedback_sha256: Option<String>,
}

/// One event of a case's history: an action, who took it in which role, when, and what it
/// carried; the due time of the stage it started and whether the stage it ended was on time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// 1, 2, … per case (1 = the report).
    pub seq: i32,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub action: Action,
    /// The case's stage after it.
    pub stage: Stage,
    /// Who (a person's name, and the token).
    pub by: String,
    /// In which role (`admin`, `intake`, `dispatcher`, `department`, `grid_worker`,
    /// `supervisor`; `system` for an escalation when the front-end limit passed; `migrated` for
    /// a status change recorded before the workflow).
    pub role: String,
    /// The reason or the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Photo URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
    /// The grid dispatched or transferred to (or that disposed of it, or returned it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    /// The department dispatched or transferred to (or that disposed of it, or returned it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The review date (hold) or the due time asked for (extension request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// The case this one duplicates (void).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<i64>,
    /// The due time of the stage this event started (or the new due time it set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// Whether the stage this event ended was ended by its due time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
}

/// How satisfied the reporter is (回访).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    /// 满意.
    Satisfied,
    /// 基本满意.
    BasicallySatisfied,
    /// 不满意.
    Dissatisfied,
}

impl Satisfaction {
    /// Every value.
    pub const ALL: [Satisfaction; 3] = [
        Satisfaction::Satisfied,
        Satisfaction::BasicallySatisfied,
        Satisfaction::Dissatisfied,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "satisfied",
            Satisfaction::BasicallySatisfied => "basically_satisfied",
            Satisfaction::Dissatisfied => "dissatisfied",
        }
    }

    /// The Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Satisfaction::Satisfied => "满意",
            Satisfaction::BasicallySatisfied => "基本满意",
            Satisfaction::Dissatisfied => "不满意",
        }
    }
}

impl FromStr for Satisfaction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Satisfaction::ALL
            .into_iter()
            .find(|x| x.as_str() == s || x.name_zh() == s)
            .ok_or_else(|| {
                format!(
                    "unknown satisfaction {s:?} (satisfied 满意, basically_satisfied 基本满意, dissatisfied 不满意)"
                )
            })
    }
}

/// The reporter's verdict on a closed case (回访): at most one per case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Feedback {
    /// When it was given.
    pub at: DateTime<Utc>,
    /// Whether the problem was really solved (实际解决).
    pub resolved: bool,
    /// How satisfied the reporter is (群众满意).
    pub satisfaction: Satisfaction,
    /// The reporter's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// How it was given: `link` (the reporter's feedback secret) or the intake token's name.
    pub via: String,
}

/// How long after closing a case its feedback link works, in days.
pub const FEEDBACK_DAYS: i64 = 30;

/// The point of a case as reported: `{lon, lat, crs}` (the shape of [`Case::input`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportedPoint {
    /// Longitude in `crs`.
    pub lon: f64,
    /// Latitude in `crs`.
    pub lat: f64,
    /// The coordinate system it was given in (wgs84, cgcs2000, gcj02, bd09).
    pub crs: String,
}

/// A stored case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Case {
    /// Id.
    pub id: i64,
    /// Category code.
    pub category: String,
    /// Source.
    pub source: Source,
    /// Description.
    pub description: String,
    /// The stage.
    pub stage: Stage,
    /// Front end (the grid) or back end (a department), once dispatched or escalated.
    pub track: Option<Track>,
    /// The point as given (`lon`, `lat`, `crs`).
    #[schema(value_type = ReportedPoint)]
    pub input: serde_json::Value,
    /// When reported.
    pub reported_at: DateTime<Utc>,
    /// When stored.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When the current stage is due (on hold: the review date; finished: the last stage's).
    pub due_at: DateTime<Utc>,
    /// When finished (closed, rejected or void).
    pub done_at: Option<DateTime<Utc>>,
    /// Street code.
    pub street: Option<String>,
    /// Grid code (as routed).
    pub grid: Option<String>,
    /// Block code.
    pub block: Option<String>,
    /// The generation it was routed with.
    pub generation: Option<i64>,
    /// The grid it is dispatched to (front end).
    pub assigned_grid: Option<String>,
    /// The department it is dispatched to (back end).
    pub department: Option<String>,
    /// 督办: supervised by the district.
    pub supervised: bool,
    /// The case this one duplicates (when void as a duplicate).
    pub duplicate_of: Option<i64>,
    /// The time limit of every stage, as they were when the case was reported.
    pub limits: StageLimits,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// Who submitted it.
    pub created_by: String,
    /// The routing, as it was made.
    pub assignment: Assignment,
    /// The history, oldest first.
    pub events: Vec<Event>,
    /// The reporter's verdict (回访), once given.
    pub feedback: Option<Feedback>,
}

impl Case {
    /// Whether the case is past the due time of its stage (on hold: its review date) and not
    /// finished, at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        !self.stage.is_terminal() && self.due_at < now
    }

    /// The due time asked for by an extension request still waiting for a decision.
    pub fn pending_extension(&self) -> Option<DateTime<Utc>> {
        let mut pending = None;
        for e in &self.events {
            match e.action {
                Action::RequestExtension => pending = e.until,
                Action::ApproveExtension
                | Action::RefuseExtension
                | Action::Transfer
                | Action::Return
                | Action::Dispose
                | Action::Escalate
                | Action::Hold
                | Action::Void => pending = None,
                _ => {}
            }
        }
        pending
    }

    /// Whether the case was escalated from the front end to the back end.
    pub fn escalated(&self) -> bool {
        self.events.iter().any(|e| e.action == Action::Escalate)
    }

    /// How many times a failed check sent it back to disposal (返工).
    pub fn reworks(&self) -> usize {
        self.count(Action::Rework)
    }

    /// How many times an assignee returned it (退单).
    pub fn returns(&self) -> usize {
        self.count(Action::Return)
    }

    fn count(&self, action: Action) -> usize {
        self.events.iter().filter(|e| e.action == action).count()
    }
}

/// Which cases a caller may see: everything, or those of some streets, grids or departments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Visibility {
    /// Every case.
    #[default]
    All,
    /// Cases of these streets.
    Streets(Vec<String>),
    /// Cases routed or dispatched to these grids.
    Grids(Vec<String>),
    /// Cases dispatched to these departments, now or before.
    Departments(Vec<String>),
}

/// Filters of a case listing.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Grid code (as routed, or dispatched to).
    pub grid: Option<String>,
    /// Street code.
    pub street: Option<String>,
    /// Stages (any of).
    pub stages: Vec<Stage>,
    /// Department dispatched to.
    pub department: Option<String>,
    /// Only cases past due and not finished at this time.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Only supervised (督办) cases.
    pub supervised: bool,
    /// Only cases the routing left in the street queue.
    pub queued: bool,
    /// Category codes (any of).
    pub categories: Vec<String>,
    /// Ids (any of).
    pub ids: Vec<i64>,
    /// Reported at or after.
    pub reported_from: Option<DateTime<Utc>>,
    /// Reported before.
    pub reported_to: Option<DateTime<Utc>>,
    /// Within this WGS84 box (min lon, min lat, max lon, max lat).
    pub bbox: Option<[f64; 4]>,
    /// What the caller may see.
    pub visibility: Visibility,
    /// Skip this many (newest first).
    pub offset: i64,
    /// At most this many.
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_counted_in_characters() {
        assert!(check_len("d", &"楼".repeat(10), 10).is_ok());
        let e = check_len("d", &"楼".repeat(11), 10).expect_err("11 characters");
        assert!(e.contains("`d`") && e.contains("10"), "{e}");
        assert!(check_len("d", "", 0).is_ok());
        assert!(check_len("d", "a", 0).is_err());
    }

    #[test]
    fn times_are_bounded_by_the_clock_and_the_case() {
        let now = DateTime::parse_from_rfc3339("2026-11-29T12:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        assert!(check_reported_at(now + Duration::minutes(5), now).is_ok());
        assert!(check_reported_at(now + Duration::minutes(6), now).is_err());
        assert!(check_reported_at(now - Duration::days(366), now).is_ok());
        assert!(check_reported_at(now - Duration::days(367), now).is_err());
        assert!(check_reported_at(DateTime::<Utc>::MIN_UTC, now).is_err());
        // no overflow at the ends of time
        assert!(check_reported_at(now, DateTime::<Utc>::MAX_UTC).is_err());
        assert!(check_reported_at(now, DateTime::<Utc>::MIN_UTC).is_err());
        assert!(check_event_time(now + Duration::minutes(5), now).is_ok());
        assert!(check_event_time(now + Duration::minutes(6), now).is_err());
        assert!(check_event_time(now, DateTime::<Utc>::MIN_UTC).is_err());
    }

    #[test]
    fn names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(s.as_str().parse::<Stage>(), Ok(s));
        }
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
        }
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>(), Ok(s));
        }
        assert!("assigned".parse::<Stage>().is_err());
    }
}
