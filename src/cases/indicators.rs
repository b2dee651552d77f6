//! Indicators of how well the front end works, over the cases reported in a period, as of a
//! moment (the end of the period, or now if that is earlier):
//!
//! - `first_discovery_rate` (网格先行发现率) = cases found on patrol ÷ all cases;
//! - `front_end_resolution_rate` (前端自治解决率) = cases disposed of by their grid (front end) ÷
//!   cases disposed of at the front end or escalated / dispatched to the back end by then; cases
//!   not yet that far are not counted;
//! - `on_time_rate` (按时办结率) = cases closed by then with every stage ended by its due time
//!   (as recorded on each event) ÷ cases closed by then;
//! - `overdue` = cases not finished whose current stage is past due (as of now; a past period
//!   counts the stage due times recorded by then).
//!
//! - `actual_resolution_rate` (实际解决率) = reporters' verdicts "solved" ÷ verdicts given by then;
//! - `satisfaction_rate` (群众满意率) = verdicts 满意 or 基本满意 ÷ verdicts given by then;
//! - `reopened` = cases a "not resolved" verdict sent back to disposal.
//!
//! A rate with an empty denominator is `null`, not 0 or 1.

use super::{Action, Case, Event};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Counts and rates over a set of cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Indicators {
    /// Cases reported in the period.
    pub cases: u64,
    /// Of which found on patrol.
    pub patrol: u64,
    /// Disposed of by then (front end or back end).
    pub disposed: u64,
    /// Resolved at the front end by then.
    pub resolved_front_end: u64,
    /// Escalated to the back end by then.
    pub escalated_back_end: u64,
    /// Done by then.
    pub done: u64,
    /// Done by their due date.
    pub done_on_time: u64,
    /// Not done and past due.
    pub overdue: u64,
    /// Reporters' verdicts (回访) given by then.
    pub verdicts: u64,
    /// Of which: really solved.
    pub resolved_by_verdict: u64,
    /// Of which: satisfied or basically satisfied.
    pub satisfied: u64,
    /// Cases reopened by a "not resolved" verdict by then.
    pub reopened: u64,
    /// patrol ÷ cases.
    pub first_discovery_rate: Option<f64>,
    /// resolved_front_end ÷ disposed.
    pub front_end_resolution_rate: Option<f64>,
    /// done_on_time ÷ done.
    pub on_time_rate: Option<f64>,
    /// 实际解决率: resolved_by_verdict ÷ verdicts.
    pub actual_resolution_rate: Option<f64>,
    /// 群众满意率: satisfied ÷ verdicts.
    pub satisfaction_rate: Option<f64>,
}

fn rate(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
}

/// When the case first had an event matching `f`, if by `as_of`.
fn first_at(
    case: &Case,
    as_of: DateTime<Utc>,
    f: impl Fn(&Event) -> bool,
) -> Option<DateTime<Utc>> {
    case.events
        .iter()
        .filter(|e| e.at <= as_of && f(e))
        .map(|e| e.at)
        .min()
}

impl Indicators {
    /// Adds one case.
    pub fn add(&mut self, case: &Case, as_of: DateTime<Utc>) {
        self.cases += 1;
        if let Some(f) = case.feedback.as_ref().filter(|f| f.at <= as_of) {
            self.verdicts += 1;
            self.resolved_by_verdict += u64::from(f.resolved);
            self.satisfied += u64::from(f.satisfaction != super::Satisfaction::Dissatisfied);
        }
        if first_at(case, as_of, |e| e.action == Action::Reopen).is_some() {
            self.reopened += 1;
        }
        if case.source == super::Source::Patrol {
            self.patrol += 1;
        }
        let front = first_at(case, as_of, |e| {
            e.action == Action::Dispose && e.grid.is_some()
        });
        let back = first_at(case, as_of, |e| {
            e.action == Action::Escalate
                || (matches!(e.action, Action::Dispatch | Action::Transfer)
                    && e.department.is_some())
        });
        // disposed at the front end before any back-end involvement
        let front = front.filter(|f| back.is_none_or(|b| f < &b));
        if front.is_some() {
            self.resolved_front_end += 1;
        } else if back.is_some() {
            self.escalated_back_end += 1;
        }
        if front.is_some() || back.is_some() {
            self.disposed += 1;
        }
        match first_at(case, as_of, |e| e.action == Action::Close) {
            Some(_) => {
                self.done += 1;
                let late = case
                    .events
                    .iter()
                    .any(|e| e.at <= as_of && e.on_time == Some(false));
                if !late {
                    self.done_on_time += 1;
                }
            }
            None => {
                // the due time in force at `as_of`: that of the latest event by then that set one
                let due = case
                    .events
                    .iter()
                    .filter(|e| e.at <= as_of)
                    .filter_map(|e| e.due_at)
                    .next_back();
                let finished = case
                    .events
                    .iter()
                    .any(|e| e.at <= as_of && e.stage.is_terminal());
                if !finished && due.is_some_and(|d| d < as_of) {
                    self.overdue += 1;
                }
            }
        }
    }

    /// Fills in the rates from the counts.
    pub fn finish(mut self) -> Self {
        self.first_discovery_rate = rate(self.patrol, self.cases);
        self.front_end_resolution_rate = rate(self.resolved_front_end, self.disposed);
        self.on_time_rate = rate(self.done_on_time, self.done);
        self.actual_resolution_rate = rate(self.resolved_by_verdict, self.verdicts);
        self.satisfaction_rate = rate(self.satisfied, self.verdicts);
        self
    }
}

/// Indicators of the district, each street and each grid.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Breakdown {
    /// All cases.
    pub district: Indicators,
    /// Per street code (cases with no street are in the district only).
    pub streets: BTreeMap<String, Indicators>,
    /// Per grid code (cases in a street queue are in their street only).
    pub grids: BTreeMap<String, Indicators>,
    /// Per department (the one a case is, or was last, dispatched to on the back end).
    pub departments: BTreeMap<String, Indicators>,
}

/// Computes the indicators of `cases` (already limited to the period) as of `as_of`.
pub fn compute<'a>(cases: impl IntoIterator<Item = &'a Case>, as_of: DateTime<Utc>) -> Breakdown {
    let mut b = Breakdown::default();
    for c in cases {
        b.district.add(c, as_of);
        if let Some(s) = &c.street {
            b.streets.entry(s.clone()).or_default().add(c, as_of);
        }
        if let Some(g) = &c.grid {
            b.grids.entry(g.clone()).or_default().add(c, as_of);
        }
        let department = c.department.as_ref().or_else(|| {
            c.events
                .iter()
                .rev()
                .find_map(|e| e.department.as_ref().filter(|_| e.at <= as_of))
        });
        if let Some(d) = department {
            b.departments.entry(d.clone()).or_default().add(c, as_of);
        }
    }
    b.district = b.district.finish();
    for v in b
        .streets
        .values_mut()
        .chain(b.grids.values_mut())
        .chain(b.departments.values_mut())
    {
        *v = std::mem::take(v).finish();
    }
    b
}
