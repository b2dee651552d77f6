//! The facts of a case that the indicators are computed from ([`Facts`]): when it first had each
//! kind of event, who took the steps a person is assessed on, its verdict, and its current stage
//! and due time. The stores keep one row of facts per case, written with every change of the
//! case, so that a period's indicators are one scan of one table in SQL; what a case was at a
//! moment `as_of` is then "the first X happened by `as_of`" on these times, and for the few
//! cases changed after `as_of`, the stage and due time read from their events.
//!
//! Times are microseconds since the Unix epoch (UTC): comparable as integers on both backends.
//! A store computes the facts of cases that have none when it opens; a change of the derivation
//! comes with a migration that empties the table. A rejection needs no time of its own: it is
//! the terminal stage `rejected`.

use super::indicators::{front_end_resolution, last_department};
use super::{Action, Case, Event, Satisfaction, Source, Stage};
use chrono::{DateTime, Utc};

/// [`Facts::verdict_flags`]: the verdict said "resolved".
pub const RESOLVED: i32 = 1;
/// [`Facts::verdict_flags`]: the verdict was 满意 or 基本满意.
pub const SATISFIED: i32 = 2;

/// Microseconds since the epoch.
pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The facts of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The case.
    pub case_id: i64,
    /// When it was reported.
    pub reported: i64,
    /// Its street, grid, category.
    pub street: Option<String>,
    /// Its grid.
    pub grid: Option<String>,
    /// Its category code.
    pub category: String,
    /// The department it was last dispatched to on the back end.
    pub department: Option<String>,
    /// Found on patrol.
    pub patrol: bool,
    /// Who reported it (the report's `by`).
    pub reporter: String,
    /// Who verified it (the first verification's `by`).
    pub verifier: Option<String>,
    /// Who resolved it at the front end.
    pub resolver: Option<String>,
    /// First accept.
    pub accepted: Option<i64>,
    /// First void.
    pub voided: Option<i64>,
    /// First verify.
    pub verified: Option<i64>,
    /// First verify that ended its stage late.
    pub verify_late: Option<i64>,
    /// First open.
    pub opened: Option<i64>,
    /// First dispatch.
    pub dispatched: Option<i64>,
    /// Resolved at the front end (before any back-end involvement).
    pub front: Option<i64>,
    /// First back-end involvement (escalation, or dispatch / transfer to a department).
    pub back: Option<i64>,
    /// First disposal.
    pub disposed: Option<i64>,
    /// First disposal that ended its stage late.
    pub dispose_late: Option<i64>,
    /// First check or rework.
    pub checked: Option<i64>,
    /// First rework.
    pub reworked: Option<i64>,
    /// First return.
    pub returned: Option<i64>,
    /// First approved extension.
    pub extended: Option<i64>,
    /// First supervision.
    pub supervised: Option<i64>,
    /// First reopening.
    pub reopened: Option<i64>,
    /// First event that ended a stage late.
    pub late: Option<i64>,
    /// When the reporter's verdict was given.
    pub verdict: Option<i64>,
    /// The verdict: [`RESOLVED`] if it said "resolved", plus [`SATISFIED`] if it was 满意 or 基本满意
    /// (0 without a verdict).
    pub verdict_flags: i32,
    /// The latest event.
    pub last_event: i64,
    /// The stage now.
    pub stage: Stage,
    /// The due time in force now (that of the latest event that set one).
    pub due: Option<i64>,
}

fn first(events: &[Event], f: impl Fn(&Event) -> bool) -> Option<i64> {
    events.iter().filter(|e| f(e)).map(|e| micros(e.at)).min()
}

impl Facts {
    /// The facts of `case`.
    pub fn of(case: &Case) -> Facts {
        let ev = &case.events[..];
        let did = |a: Action| first(ev, |e| e.action == a);
        let back = first(ev, |e| {
            e.action == Action::Escalate
                || (matches!(e.action, Action::Dispatch | Action::Transfer)
                    && e.department.is_some())
        });
        let resolution = front_end_resolution(case);
        Facts {
            case_id: case.id,
            reported: micros(case.reported_at),
            street: case.street.clone(),
            grid: case.grid.clone(),
            category: case.category.clone(),
            department: last_department(case),
            patrol: case.source == Source::Patrol,
            reporter: ev
                .first()
                .map_or_else(|| case.created_by.clone(), |e| e.by.clone()),
            verifier: ev
                .iter()
                .find(|e| e.action == Action::Verify)
                .map(|e| e.by.clone()),
            resolver: resolution.map(|e| e.by.clone()),
            accepted: did(Action::Accept),
            voided: did(Action::Void),
            verified: did(Action::Verify),
            verify_late: first(ev, |e| {
                e.action == Action::Verify && e.on_time == Some(false)
            }),
            opened: did(Action::Open),
            dispatched: did(Action::Dispatch),
            front: resolution.map(|e| micros(e.at)),
            back,
            disposed: did(Action::Dispose),
            dispose_late: first(ev, |e| {
                e.action == Action::Dispose && e.on_time == Some(false)
            }),
            checked: first(ev, |e| matches!(e.action, Action::Check | Action::Rework)),
            reworked: did(Action::Rework),
            returned: did(Action::Return),
            extended: did(Action::ApproveExtension),
            supervised: did(Action::Supervise),
            reopened: did(Action::Reopen),
            late: first(ev, |e| e.on_time == Some(false)),
            verdict: case.feedback.as_ref().map(|f| micros(f.at)),
            verdict_flags: case.feedback.as_ref().map_or(0, |f| {
                (if f.resolved { RESOLVED } else { 0 })
                    + (if f.satisfaction == Satisfaction::Dissatisfied {
                        0
                    } else {
                        SATISFIED
                    })
            }),
            last_event: ev
                .iter()
                .map(|e| micros(e.at))
                .max()
                .unwrap_or_else(|| micros(case.reported_at)),
            stage: ev.last().map_or(case.stage, |e| e.stage),
            due: ev.iter().rev().find_map(|e| e.due_at).map(micros),
        }
    }
}
