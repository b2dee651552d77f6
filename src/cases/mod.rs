//! Cases (案件): what was reported, where it was routed, and its lifecycle; and the indicators
//! computed from a set of cases. Plain data and rules, no I/O (the store keeps cases durably).
//!
//! Lifecycle: `assigned` → `resolved_front_end` (前端自治: the grid solved it) or
//! `escalated_back_end` (后端共治: handed to a department, which must be named) → `closed`.
//! Any other transition is refused with the reason and the transitions allowed from the current
//! status. A case is *done* when it is first resolved at the front end or closed.
//!
//! Times and text are bounded ([`check_reported_at`], [`check_event_at`], [`limits`]): a report
//! is not in the future (beyond [`CLOCK_SKEW`]) nor older than [`MAX_REPORT_AGE_DAYS`]; a status
//! change is not in the future either, nor earlier than the case's previous event; every text
//! field has a length limit in characters.

pub mod indicators;

use crate::routing::Assignment;
use chrono::{DateTime, Duration, FixedOffset, Utc};
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

/// The status of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Routed to a grid (or a street queue), not yet handled.
    Assigned,
    /// Solved by the grid workstation (前端自治).
    ResolvedFrontEnd,
    /// Handed to a department (后端共治).
    EscalatedBackEnd,
    /// Finished.
    Closed,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::Assigned,
        Status::ResolvedFrontEnd,
        Status::EscalatedBackEnd,
        Status::Closed,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Assigned => "assigned",
            Status::ResolvedFrontEnd => "resolved_front_end",
            Status::EscalatedBackEnd => "escalated_back_end",
            Status::Closed => "closed",
        }
    }

    /// The statuses reachable from this one.
    pub fn next(self) -> &'static [Status] {
        match self {
            Status::Assigned => &[Status::ResolvedFrontEnd, Status::EscalatedBackEnd],
            Status::ResolvedFrontEnd | Status::EscalatedBackEnd => &[Status::Closed],
            Status::Closed => &[],
        }
    }

    /// Whether a case in this status is done (solved at the front end, or closed).
    pub fn is_done(self) -> bool {
        matches!(self, Status::ResolvedFrontEnd | Status::Closed)
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown status {s:?} (assigned, resolved_front_end, escalated_back_end or closed)"
                )
            })
    }
}

/// Checks a status change; the error says why it is refused and what is allowed.
pub fn check_transition(
    id: i64,
    from: Status,
    to: Status,
    department: Option<&str>,
) -> Result<(), String> {
    if !from.next().contains(&to) {
        let allowed: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
        return Err(format!(
            "case {id} is {}; it cannot become {} (allowed from {}: {})",
            from.as_str(),
            to.as_str(),
            from.as_str(),
            if allowed.is_empty() {
                "none, the case is closed".to_owned()
            } else {
                allowed.join(", ")
            }
        ));
    }
    if to == Status::EscalatedBackEnd && department.is_none_or(|d| d.trim().is_empty()) {
        return Err(format!(
            "case {id}: escalating to the back end needs the `department` that takes it over"
        ));
    }
    Ok(())
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

/// Checks the time of a new status change of `case`: not in the future (beyond [`CLOCK_SKEW`]),
/// not before the case's latest event (the routing, or the previous change).
pub fn check_event_at(case: &Case, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
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
    check_event_order(case.id, case.events.iter().map(|e| e.at).max(), at)
}

/// Checks that a status change of case `id` at `at` does not precede `previous`, the time of its
/// latest event.
pub fn check_event_order(
    id: i64,
    previous: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<(), String> {
    match previous {
        Some(p) if at < p => Err(format!(
            "case {id}: {} is before the case's latest event ({}); events are recorded in order",
            at.to_rfc3339(),
            p.to_rfc3339()
        )),
        _ => Ok(()),
    }
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
    /// Reporter's contact details (Open311 email/phone/name); never shown publicly.
    pub contact: Option<serde_json::Value>,
    /// The routing.
    pub assignment: Assignment,
}

/// A status change, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// 1, 2, … per case (1 = routed).
    pub seq: i32,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The new status.
    pub status: Status,
    /// Who made it (a person's name as given, and the token).
    pub by: String,
    /// The department, for an escalation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// A note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

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
    /// Current status.
    pub status: Status,
    /// The point as given (`lon`, `lat`, `crs`).
    #[schema(value_type = ReportedPoint)]
    pub input: serde_json::Value,
    /// When reported.
    pub reported_at: DateTime<Utc>,
    /// When stored.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Due date, in the district's time zone.
    pub due_at: DateTime<FixedOffset>,
    /// When first done (resolved at the front end, or closed).
    pub done_at: Option<DateTime<Utc>>,
    /// Street code.
    pub street: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Block code.
    pub block: Option<String>,
    /// The generation it was routed with.
    pub generation: Option<i64>,
    /// The department it was escalated to.
    pub department: Option<String>,
    /// Photo URLs.
    pub photos: Vec<String>,
    /// Who submitted it.
    pub created_by: String,
    /// The routing, as it was made.
    pub assignment: Assignment,
    /// The status changes, oldest first.
    pub events: Vec<Event>,
}

impl Case {
    /// Whether the case is past its due date and not done, at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        match self.done_at {
            Some(_) => false,
            None => self.due_at < now,
        }
    }
}

/// Filters of a case listing.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Grid code.
    pub grid: Option<String>,
    /// Street code.
    pub street: Option<String>,
    /// Status.
    pub status: Option<Status>,
    /// Only cases past due and not done at this time.
    pub overdue_at: Option<DateTime<Utc>>,
    /// Category codes (any of).
    pub categories: Vec<String>,
    /// Ids (any of).
    pub ids: Vec<i64>,
    /// Reported at or after.
    pub reported_from: Option<DateTime<Utc>>,
    /// Reported before.
    pub reported_to: Option<DateTime<Utc>>,
    /// Skip this many (newest first).
    pub offset: i64,
    /// At most this many.
    pub limit: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_only_its_transitions() {
        use Status::*;
        let ok = [
            (Assigned, ResolvedFrontEnd),
            (Assigned, EscalatedBackEnd),
            (ResolvedFrontEnd, Closed),
            (EscalatedBackEnd, Closed),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                let r = check_transition(7, from, to, Some("城管"));
                assert_eq!(
                    r.is_ok(),
                    ok.contains(&(from, to)),
                    "{from:?} → {to:?}: {r:?}"
                );
            }
        }
        let e = check_transition(7, Closed, Assigned, None).expect_err("closed is final");
        assert!(e.contains("case 7 is closed") && e.contains("none"), "{e}");
        let e = check_transition(7, Assigned, Closed, None).expect_err("must be handled first");
        assert!(e.contains("resolved_front_end, escalated_back_end"), "{e}");
        let e = check_transition(7, Assigned, EscalatedBackEnd, Some(" ")).expect_err("dept");
        assert!(e.contains("department"), "{e}");
    }

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
        let e = check_event_order(3, Some(now), now - Duration::seconds(1)).expect_err("order");
        assert!(e.contains("case 3") && e.contains("before"), "{e}");
        assert!(check_event_order(3, Some(now), now).is_ok());
        assert!(check_event_order(3, None, DateTime::<Utc>::MIN_UTC).is_ok());
    }

    #[test]
    fn names_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
        }
        for s in Source::ALL {
            assert_eq!(s.as_str().parse::<Source>(), Ok(s));
        }
        assert!("open".parse::<Status>().is_err());
    }
}
