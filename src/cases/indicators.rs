//! The standard indicators of a period (考核指标): counts and rates over the cases reported in
//! `[from, to)`, each case as it stood at a moment `as_of` (the end of the period, or now if that
//! is earlier). Formulas (docs/cases.md has them with their sources):
//!
//! | rate | formula |
//! |---|---|
//! | 先行发现率 `first_discovery_rate` | `patrol_valid ÷ valid` |
//! | 有效上报率 `valid_report_rate` | `patrol_valid ÷ patrol_decided` |
//! | 前端自治解决率 `front_end_resolution_rate` | `resolved_front_end ÷ disposed` |
//! | 及时核实率 `verify_on_time_rate` | `verified_on_time ÷ verify_due` |
//! | 按期处置率 `dispose_on_time_rate` | `disposed_on_time ÷ dispose_due` |
//! | 结案率 `close_rate` | `closed ÷ opened` |
//! | 按期结案率 `on_time_rate` | `closed_on_time ÷ closed` |
//! | 返工率 `rework_rate` | `reworked ÷ checked` |
//! | 退单率 `return_rate` | `returned ÷ dispatched` |
//! | 派遣准确率 `dispatch_accuracy` | `(dispatched − returned) ÷ dispatched` |
//! | 延期率 `extension_rate` | `extended ÷ dispatched` |
//! | 实际解决率 `actual_resolution_rate` | `resolved_by_verdict ÷ verdicts` |
//! | 群众满意率 `satisfaction_rate` | `satisfied ÷ verdicts` |
//!
//! and the counts 超期未结数 `overdue` and 督办数 `supervised`. A rate with an empty denominator
//! is `null`, not 0 or 1. Every count is additive: the indicators of a union of disjoint case
//! sets are the sums of the counts ([`Indicators::merge`]) with the rates computed again.
//!
//! "By `as_of`" means an event at or before `as_of`. The stage and the due time of a case *at*
//! `as_of` are those set by its latest event by then. This module holds the meaning and a plain
//! reference implementation over whole cases ([`Indicators::add`], [`compute`], [`persons`]); the
//! stores compute the same in SQL over per-case facts ([`super::facts`]), and a property test
//! holds them equal.

use super::{Action, Case, Event, Satisfaction, Source, Stage};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Counts and rates over a set of cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Indicators {
    /// Cases reported in the period (by `as_of`).
    pub cases: u64,
    /// Of which found on patrol (巡查上报).
    pub patrol: u64,
    /// Valid cases: accepted by then and not voided by then.
    pub valid: u64,
    /// Valid cases found on patrol.
    pub patrol_valid: u64,
    /// Patrol reports decided by then (accepted, rejected or voided).
    pub patrol_decided: u64,
    /// Disposed of by then, at the front end or taken to the back end.
    pub disposed: u64,
    /// Disposed of by their grid (front end) before any back-end involvement.
    pub resolved_front_end: u64,
    /// Escalated or dispatched to a department (back end) by then.
    pub escalated_back_end: u64,
    /// Due to be verified by then: verified, or awaiting verification past its due time.
    pub verify_due: u64,
    /// Verified by then.
    pub verified: u64,
    /// Verified within the verification limit.
    pub verified_on_time: u64,
    /// Due to be disposed of by then: disposed, or awaiting disposal past its due time.
    pub dispose_due: u64,
    /// Disposed of by then, every disposal within its limit, and not awaiting one past due.
    pub disposed_on_time: u64,
    /// Opened (立案) by then.
    pub opened: u64,
    /// Closed (结案) at `as_of`.
    pub closed: u64,
    /// Closed with every stage by then ended within its limit.
    pub closed_on_time: u64,
    /// Checked (核查) by then, passed or sent back.
    pub checked: u64,
    /// Sent back for rework (返工) by then.
    pub reworked: u64,
    /// Dispatched (派遣) by then.
    pub dispatched: u64,
    /// Returned (退单) by the unit it was dispatched to, by then.
    pub returned: u64,
    /// Given an extension (延期) by then.
    pub extended: u64,
    /// 超期未结数: not finished at `as_of` and past the due time in force then.
    pub overdue: u64,
    /// 督办数: supervised (督办) by then.
    pub supervised: u64,
    /// Reporters' verdicts (回访) given by then.
    pub verdicts: u64,
    /// Of which: really solved.
    pub resolved_by_verdict: u64,
    /// Of which: satisfied or basically satisfied.
    pub satisfied: u64,
    /// Cases reopened by a "not resolved" verdict by then.
    pub reopened: u64,
    /// 先行发现率: patrol_valid ÷ valid.
    pub first_discovery_rate: Option<f64>,
    /// 有效上报率: patrol_valid ÷ patrol_decided.
    pub valid_report_rate: Option<f64>,
    /// 前端自治解决率: resolved_front_end ÷ disposed.
    pub front_end_resolution_rate: Option<f64>,
    /// 及时核实率: verified_on_time ÷ verify_due.
    pub verify_on_time_rate: Option<f64>,
    /// 按期处置率: disposed_on_time ÷ dispose_due.
    pub dispose_on_time_rate: Option<f64>,
    /// 结案率: closed ÷ opened.
    pub close_rate: Option<f64>,
    /// 按期结案率 (按时办结率): closed_on_time ÷ closed.
    pub on_time_rate: Option<f64>,
    /// 返工率: reworked ÷ checked.
    pub rework_rate: Option<f64>,
    /// 退单率: returned ÷ dispatched.
    pub return_rate: Option<f64>,
    /// 派遣准确率: (dispatched − returned) ÷ dispatched.
    pub dispatch_accuracy: Option<f64>,
    /// 延期率: extended ÷ dispatched.
    pub extension_rate: Option<f64>,
    /// 实际解决率: resolved_by_verdict ÷ verdicts.
    pub actual_resolution_rate: Option<f64>,
    /// 群众满意率: satisfied ÷ verdicts.
    pub satisfaction_rate: Option<f64>,
    /// 质量考评得分率: a street's mean score in a closed quality review ÷ the rubric's total
    /// ([`super::review`]); set by the ranked table of streets when it names a review, else
    /// `null`. Not counted from cases.
    pub review_score: Option<f64>,
}

/// The count fields of [`Indicators`], in order: the columns the stores' queries return.
pub const COUNTS: [&str; 27] = [
    "cases",
    "patrol",
    "valid",
    "patrol_valid",
    "patrol_decided",
    "disposed",
    "resolved_front_end",
    "escalated_back_end",
    "verify_due",
    "verified",
    "verified_on_time",
    "dispose_due",
    "disposed_on_time",
    "opened",
    "closed",
    "closed_on_time",
    "checked",
    "reworked",
    "dispatched",
    "returned",
    "extended",
    "overdue",
    "supervised",
    "verdicts",
    "resolved_by_verdict",
    "satisfied",
    "reopened",
];

/// The Chinese name of every count and rate of [`Indicators`] (for tables and spreadsheets).
pub const NAMES_ZH: [(&str, &str); 41] = [
    ("cases", "案件数"),
    ("patrol", "巡查上报数"),
    ("valid", "有效案件数"),
    ("patrol_valid", "有效巡查上报数"),
    ("patrol_decided", "已判定巡查上报数"),
    ("disposed", "已处置数"),
    ("resolved_front_end", "前端自治解决数"),
    ("escalated_back_end", "流转后端数"),
    ("verify_due", "应核实数"),
    ("verified", "已核实数"),
    ("verified_on_time", "按时核实数"),
    ("dispose_due", "应处置数"),
    ("disposed_on_time", "按期处置数"),
    ("opened", "立案数"),
    ("closed", "结案数"),
    ("closed_on_time", "按期结案数"),
    ("checked", "核查数"),
    ("reworked", "返工数"),
    ("dispatched", "派遣数"),
    ("returned", "退单数"),
    ("extended", "延期数"),
    ("overdue", "超期未结数"),
    ("supervised", "督办数"),
    ("verdicts", "回访数"),
    ("resolved_by_verdict", "回访已解决数"),
    ("satisfied", "满意数"),
    ("reopened", "回访重启数"),
    ("first_discovery_rate", "先行发现率"),
    ("valid_report_rate", "有效上报率"),
    ("front_end_resolution_rate", "前端自治解决率"),
    ("verify_on_time_rate", "及时核实率"),
    ("dispose_on_time_rate", "按期处置率"),
    ("close_rate", "结案率"),
    ("on_time_rate", "按期结案率"),
    ("rework_rate", "返工率"),
    ("return_rate", "退单率"),
    ("dispatch_accuracy", "派遣准确率"),
    ("extension_rate", "延期率"),
    ("actual_resolution_rate", "实际解决率"),
    ("satisfaction_rate", "群众满意率"),
    ("review_score", "质量考评得分率"),
];

/// The rates of [`Indicators`], in order (the last, `review_score`, from a quality review).
pub const RATES: [&str; 14] = [
    "first_discovery_rate",
    "valid_report_rate",
    "front_end_resolution_rate",
    "verify_on_time_rate",
    "dispose_on_time_rate",
    "close_rate",
    "on_time_rate",
    "rework_rate",
    "return_rate",
    "dispatch_accuracy",
    "extension_rate",
    "actual_resolution_rate",
    "satisfaction_rate",
    "review_score",
];

fn rate(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| (n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
}

/// What a case was at a moment, read from its events: the plain reference the SQL of the stores
/// is tested against.
struct AsOf<'a> {
    events: Vec<&'a Event>,
    at: DateTime<Utc>,
}

impl<'a> AsOf<'a> {
    fn new(case: &'a Case, at: DateTime<Utc>) -> AsOf<'a> {
        AsOf {
            events: case.events.iter().filter(|e| e.at <= at).collect(),
            at,
        }
    }

    /// When the case first had an event matching `f`, by then.
    fn first(&self, f: impl Fn(&Event) -> bool) -> Option<DateTime<Utc>> {
        self.events.iter().filter(|e| f(e)).map(|e| e.at).min()
    }

    fn any(&self, f: impl Fn(&Event) -> bool) -> bool {
        self.events.iter().any(|e| f(e))
    }

    fn did(&self, action: Action) -> bool {
        self.any(|e| e.action == action)
    }

    /// The stage at the moment (that of the latest event by then).
    fn stage(&self) -> Option<Stage> {
        self.events.last().map(|e| e.stage)
    }

    /// Whether the due time in force at the moment (that of the latest event by then that set
    /// one) has passed.
    fn past_due(&self) -> bool {
        self.events
            .iter()
            .rev()
            .find_map(|e| e.due_at)
            .is_some_and(|d| d < self.at)
    }
}

impl Indicators {
    /// Adds one case as it stood at `as_of` (the reference implementation). A case reported
    /// after `as_of` is not counted.
    pub fn add(&mut self, case: &Case, as_of: DateTime<Utc>) {
        if case.reported_at > as_of {
            return;
        }
        let c = AsOf::new(case, as_of);
        let patrol = case.source == Source::Patrol;
        self.cases += 1;
        self.patrol += u64::from(patrol);
        let accepted = c.did(Action::Accept);
        let voided = c.did(Action::Void);
        let valid = accepted && !voided;
        self.valid += u64::from(valid);
        self.patrol_valid += u64::from(patrol && valid);
        self.patrol_decided += u64::from(patrol && (accepted || voided || c.did(Action::Reject)));

        let front = c.first(|e| e.action == Action::Dispose && e.grid.is_some());
        let back = c.first(|e| {
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
        self.disposed += u64::from(front.is_some() || back.is_some());

        let stage = c.stage();
        let past_due = c.past_due();
        let verified = c.did(Action::Verify);
        self.verified += u64::from(verified);
        self.verify_due += u64::from(verified || (stage == Some(Stage::Accepted) && past_due));
        self.verified_on_time += u64::from(
            verified && !c.any(|e| e.action == Action::Verify && e.on_time == Some(false)),
        );
        let disposed = c.did(Action::Dispose);
        let awaiting_late = stage == Some(Stage::Dispatched) && past_due;
        self.dispose_due += u64::from(disposed || awaiting_late);
        self.disposed_on_time += u64::from(
            disposed
                && !awaiting_late
                && !c.any(|e| e.action == Action::Dispose && e.on_time == Some(false)),
        );
        self.opened += u64::from(c.did(Action::Open));
        let closed = stage == Some(Stage::Closed);
        self.closed += u64::from(closed);
        self.closed_on_time += u64::from(closed && !c.any(|e| e.on_time == Some(false)));
        self.checked += u64::from(c.any(|e| matches!(e.action, Action::Check | Action::Rework)));
        self.reworked += u64::from(c.did(Action::Rework));
        self.dispatched += u64::from(c.did(Action::Dispatch));
        self.returned += u64::from(c.did(Action::Return));
        self.extended += u64::from(c.did(Action::ApproveExtension));
        self.overdue += u64::from(stage.is_some_and(|s| !s.is_terminal()) && past_due);
        self.supervised += u64::from(c.did(Action::Supervise));
        self.reopened += u64::from(c.did(Action::Reopen));
        if let Some(f) = case.feedback.as_ref().filter(|f| f.at <= as_of) {
            self.verdicts += 1;
            self.resolved_by_verdict += u64::from(f.resolved);
            self.satisfied += u64::from(f.satisfaction != Satisfaction::Dissatisfied);
        }
    }

    /// The count named `name` (one of [`COUNTS`]), mutably.
    pub fn count_mut(&mut self, name: &str) -> Option<&mut u64> {
        Some(match name {
            "cases" => &mut self.cases,
            "patrol" => &mut self.patrol,
            "valid" => &mut self.valid,
            "patrol_valid" => &mut self.patrol_valid,
            "patrol_decided" => &mut self.patrol_decided,
            "disposed" => &mut self.disposed,
            "resolved_front_end" => &mut self.resolved_front_end,
            "escalated_back_end" => &mut self.escalated_back_end,
            "verify_due" => &mut self.verify_due,
            "verified" => &mut self.verified,
            "verified_on_time" => &mut self.verified_on_time,
            "dispose_due" => &mut self.dispose_due,
            "disposed_on_time" => &mut self.disposed_on_time,
            "opened" => &mut self.opened,
            "closed" => &mut self.closed,
            "closed_on_time" => &mut self.closed_on_time,
            "checked" => &mut self.checked,
            "reworked" => &mut self.reworked,
            "dispatched" => &mut self.dispatched,
            "returned" => &mut self.returned,
            "extended" => &mut self.extended,
            "overdue" => &mut self.overdue,
            "supervised" => &mut self.supervised,
            "verdicts" => &mut self.verdicts,
            "resolved_by_verdict" => &mut self.resolved_by_verdict,
            "satisfied" => &mut self.satisfied,
            "reopened" => &mut self.reopened,
            _ => return None,
        })
    }

    /// The count named `name` (one of [`COUNTS`]).
    pub fn count(&self, name: &str) -> Option<u64> {
        self.clone().count_mut(name).map(|v| *v)
    }

    /// The rate named `name` (one of [`RATES`]), if it has a value.
    pub fn rate(&self, name: &str) -> Option<f64> {
        match name {
            "first_discovery_rate" => self.first_discovery_rate,
            "valid_report_rate" => self.valid_report_rate,
            "front_end_resolution_rate" => self.front_end_resolution_rate,
            "verify_on_time_rate" => self.verify_on_time_rate,
            "dispose_on_time_rate" => self.dispose_on_time_rate,
            "close_rate" => self.close_rate,
            "on_time_rate" => self.on_time_rate,
            "rework_rate" => self.rework_rate,
            "return_rate" => self.return_rate,
            "dispatch_accuracy" => self.dispatch_accuracy,
            "extension_rate" => self.extension_rate,
            "actual_resolution_rate" => self.actual_resolution_rate,
            "satisfaction_rate" => self.satisfaction_rate,
            "review_score" => self.review_score,
            _ => None,
        }
    }

    /// Adds the counts of `other` (the rates are computed again by [`Indicators::finish`]).
    pub fn merge(&mut self, other: &Indicators) {
        for name in COUNTS {
            if let (Some(a), Some(b)) = (self.count_mut(name), other.count(name)) {
                *a += b;
            }
        }
    }

    /// Fills in the rates from the counts.
    pub fn finish(mut self) -> Self {
        self.first_discovery_rate = rate(self.patrol_valid, self.valid);
        self.valid_report_rate = rate(self.patrol_valid, self.patrol_decided);
        self.front_end_resolution_rate = rate(self.resolved_front_end, self.disposed);
        self.verify_on_time_rate = rate(self.verified_on_time, self.verify_due);
        self.dispose_on_time_rate = rate(self.disposed_on_time, self.dispose_due);
        self.close_rate = rate(self.closed, self.opened);
        self.on_time_rate = rate(self.closed_on_time, self.closed);
        self.rework_rate = rate(self.reworked, self.checked);
        self.return_rate = rate(self.returned, self.dispatched);
        self.dispatch_accuracy = rate(
            self.dispatched.saturating_sub(self.returned),
            self.dispatched,
        );
        self.extension_rate = rate(self.extended, self.dispatched);
        self.actual_resolution_rate = rate(self.resolved_by_verdict, self.verdicts);
        self.satisfaction_rate = rate(self.satisfied, self.verdicts);
        self
    }
}

/// What the indicators are broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// One row: the whole district (or the street asked for).
    District,
    /// Per street code (cases outside every street are in no row).
    Street,
    /// Per grid code (cases in a street queue are in no row).
    Grid,
    /// Per department: the one the case was last dispatched to on the back end (none: no row).
    Department,
    /// Per category code (the service folds categories into their task-list groups).
    Category,
}

/// A period, a moment and which cases: what the indicators are computed over.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// Cases reported at or after this…
    pub from: DateTime<Utc>,
    /// …and before this.
    pub to: DateTime<Utc>,
    /// As they stood at this moment.
    pub as_of: DateTime<Utc>,
    /// Only this street's cases.
    pub street: Option<String>,
    /// Only these categories (`None`: all).
    pub categories: Option<Vec<String>>,
}

impl Scope {
    /// Whether `case` is one of the scope's cases.
    pub fn holds(&self, case: &Case) -> bool {
        case.reported_at >= self.from
            && case.reported_at < self.to
            && case.reported_at <= self.as_of
            && self
                .street
                .as_ref()
                .is_none_or(|s| case.street.as_ref() == Some(s))
            && self
                .categories
                .as_ref()
                .is_none_or(|c| c.contains(&case.category))
    }
}

/// The key of `case` in `by`: `None` for the district row; a case with no key has no row.
pub fn key_of(case: &Case, by: Dimension) -> Option<Option<String>> {
    match by {
        Dimension::District => Some(None),
        Dimension::Street => case.street.clone().map(Some),
        Dimension::Grid => case.grid.clone().map(Some),
        Dimension::Department => last_department(case).map(Some),
        Dimension::Category => Some(Some(case.category.clone())),
    }
}

/// The department a case was last dispatched (or transferred) to on the back end, whenever.
pub fn last_department(case: &Case) -> Option<String> {
    case.events
        .iter()
        .rev()
        .find(|e| matches!(e.action, Action::Dispatch | Action::Transfer) && e.department.is_some())
        .and_then(|e| e.department.clone())
}

/// The indicators of the cases of `scope` broken down by `by` (reference implementation), rates
/// filled in. The district row's key is `None`.
pub fn compute<'a>(
    cases: impl IntoIterator<Item = &'a Case>,
    scope: &Scope,
    by: Dimension,
) -> BTreeMap<Option<String>, Indicators> {
    let mut rows: BTreeMap<Option<String>, Indicators> = BTreeMap::new();
    for c in cases.into_iter().filter(|c| scope.holds(c)) {
        if let Some(key) = key_of(c, by) {
            rows.entry(key).or_default().add(c, scope.as_of);
        }
    }
    rows.into_iter().map(|(k, v)| (k, v.finish())).collect()
}

/// The indicators of one person, over the steps they took themselves: the patrol reports they
/// filed, the verifications they made, the cases they resolved at the front end.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PersonIndicators {
    /// Patrol reports they filed.
    pub reports: u64,
    /// Of which decided by then (accepted, rejected or voided).
    pub reports_decided: u64,
    /// Of which valid (accepted and not voided by then).
    pub reports_valid: u64,
    /// Verifications they made by then.
    pub verified: u64,
    /// Of which within the limit.
    pub verified_on_time: u64,
    /// Cases they resolved at the front end by then.
    pub resolved_front_end: u64,
    /// 有效上报率: reports_valid ÷ reports_decided.
    pub valid_report_rate: Option<f64>,
    /// 及时核实率 of their own verifications: verified_on_time ÷ verified.
    pub verify_on_time_rate: Option<f64>,
}

/// The counts of [`PersonIndicators`], in order (the columns the stores' queries return).
pub const PERSON_COUNTS: [&str; 6] = [
    "reports",
    "reports_decided",
    "reports_valid",
    "verified",
    "verified_on_time",
    "resolved_front_end",
];

impl PersonIndicators {
    /// The count named `name` (one of [`PERSON_COUNTS`]), mutably.
    pub fn count_mut(&mut self, name: &str) -> Option<&mut u64> {
        Some(match name {
            "reports" => &mut self.reports,
            "reports_decided" => &mut self.reports_decided,
            "reports_valid" => &mut self.reports_valid,
            "verified" => &mut self.verified,
            "verified_on_time" => &mut self.verified_on_time,
            "resolved_front_end" => &mut self.resolved_front_end,
            _ => return None,
        })
    }

    /// Fills in the rates.
    pub fn finish(mut self) -> Self {
        self.valid_report_rate = rate(self.reports_valid, self.reports_decided);
        self.verify_on_time_rate = rate(self.verified_on_time, self.verified);
        self
    }
}

/// Who resolved `case` at the front end (the first disposal by a grid, before any back-end
/// involvement), and when.
pub fn front_end_resolution(case: &Case) -> Option<&Event> {
    let back = case
        .events
        .iter()
        .find(|e| {
            e.action == Action::Escalate
                || (matches!(e.action, Action::Dispatch | Action::Transfer)
                    && e.department.is_some())
        })
        .map(|e| e.at);
    case.events
        .iter()
        .find(|e| e.action == Action::Dispose && e.grid.is_some())
        .filter(|f| back.is_none_or(|b| f.at < b))
}

/// The indicators per person over the cases of `scope` (reference implementation), rates filled
/// in: a report counts for its reporter (the report's `by`), a verification for the verifier, a
/// front-end resolution for who disposed of it.
pub fn persons<'a>(
    cases: impl IntoIterator<Item = &'a Case>,
    scope: &Scope,
) -> BTreeMap<String, PersonIndicators> {
    let t = scope.as_of;
    let mut rows: BTreeMap<String, PersonIndicators> = BTreeMap::new();
    for c in cases.into_iter().filter(|c| scope.holds(c)) {
        let at = AsOf::new(c, t);
        if c.source == Source::Patrol {
            if let Some(report) = c.events.first() {
                let row = rows.entry(report.by.clone()).or_default();
                row.reports += 1;
                let accepted = at.did(Action::Accept);
                let voided = at.did(Action::Void);
                row.reports_decided += u64::from(accepted || voided || at.did(Action::Reject));
                row.reports_valid += u64::from(accepted && !voided);
            }
        }
        if let Some(v) = c
            .events
            .iter()
            .find(|e| e.action == Action::Verify)
            .filter(|e| e.at <= t)
        {
            let row = rows.entry(v.by.clone()).or_default();
            row.verified += 1;
            row.verified_on_time += u64::from(v.on_time != Some(false));
        }
        if let Some(d) = front_end_resolution(c).filter(|e| e.at <= t) {
            rows.entry(d.by.clone()).or_default().resolved_front_end += 1;
        }
    }
    rows.into_iter().map(|(k, v)| (k, v.finish())).collect()
}
