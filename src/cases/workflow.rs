//! The case workflow of the national digital city-management standard (GB/T 30428, CJ/T 315):
//! stages, the actions that move a case between them, who may take each action, and the time
//! limit of every stage counted on a working calendar.
//!
//! ```text
//! 上报 reported ─accept→ 受理 accepted ─verify→ 核实 verified ─open→ 立案 opened ─dispatch→ 派遣 dispatched
//!    │ (a patrol report is verified at once:           ↑ return (退单) / resume        │ transfer (转派): to another
//!    │                                                 │ opened ─transfer→ dispatched  │ grid or department
//!    │  accept → verified)                             │ escalate (front end → back end, when the front-end limit passes)
//!    └─reject→ 不予受理 rejected                        │                                 ↓ dispose
//! 结案 closed ←close─ 核查 checked ←check─ 处置 disposed ─rework (返工)→ dispatched
//! any open stage ─void→ 作废 void (e.g. a duplicate, linked to the case it duplicates)
//! opened | dispatched ─hold→ 挂账 on_hold ─resume→ opened
//! dispatched: request_extension → approve_extension | refuse_extension (延期, new due time)
//! any open stage: supervise (督办, a flag)
//! closed ─reopen (the reporter's verdict "not resolved", 回访)→ dispatched
//! ```
//!
//! [`RULES`] is the one table: an action, the stages it may start from, the stage it leads to,
//! who may take it ([`Party`]) and what it needs. [`apply`] checks a request against the table
//! and the case and returns the [`Step`] to store: the event (who, role, time, note, photos, the
//! due time of the stage it starts and whether the stage it ends was on time) and the case's new
//! stage, assignee and due time. Who the caller is (token role and scope) is checked by the
//! service against [`Rule::parties`]; everything else is here. Plain data, no I/O.
//!
//! Time limits are per stage ([`StageLimits`], [`limit_of`]): taken from the category (task list item, its
//! group, or [`StageLimits::default`]) when the case is reported and kept on the case, so that
//! a later change to the task list or the calendar never rewrites history.

use super::{Case, Source};
pub use crate::calendar::stages::{PartialLimits, StageLimits};
use crate::calendar::{Calendar, Limit};
use crate::routing::Principle;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The stage of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 上报: reported, waiting for the centre to accept it.
    Reported,
    /// 受理: accepted, waiting for a grid worker to verify it on site.
    Accepted,
    /// 核实: verified, waiting to be opened.
    Verified,
    /// 立案: opened, waiting to be dispatched.
    Opened,
    /// 派遣: dispatched to a grid (front end) or a department (back end) for disposal.
    Dispatched,
    /// 处置: disposed of, waiting for the on-site check.
    Disposed,
    /// 核查: checked on site, waiting to be closed.
    Checked,
    /// 结案: closed.
    Closed,
    /// 不予受理: rejected at intake (with a reason).
    Rejected,
    /// 挂账: on hold, cannot be solved now (with a reason and a review date).
    OnHold,
    /// 作废: void (e.g. a duplicate).
    Void,
}

impl Stage {
    /// Every stage, in workflow order.
    pub const ALL: [Stage; 11] = [
        Stage::Reported,
        Stage::Accepted,
        Stage::Verified,
        Stage::Opened,
        Stage::Dispatched,
        Stage::Disposed,
        Stage::Checked,
        Stage::Closed,
        Stage::Rejected,
        Stage::OnHold,
        Stage::Void,
    ];

    /// The stages a case is open in (not closed, rejected or void).
    pub const OPEN: [Stage; 8] = [
        Stage::Reported,
        Stage::Accepted,
        Stage::Verified,
        Stage::Opened,
        Stage::Dispatched,
        Stage::Disposed,
        Stage::Checked,
        Stage::OnHold,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Reported => "reported",
            Stage::Accepted => "accepted",
            Stage::Verified => "verified",
            Stage::Opened => "opened",
            Stage::Dispatched => "dispatched",
            Stage::Disposed => "disposed",
            Stage::Checked => "checked",
            Stage::Closed => "closed",
            Stage::Rejected => "rejected",
            Stage::OnHold => "on_hold",
            Stage::Void => "void",
        }
    }

    /// The Chinese name of the standard.
    pub fn name_zh(self) -> &'static str {
        match self {
            Stage::Reported => "上报",
            Stage::Accepted => "受理",
            Stage::Verified => "核实",
            Stage::Opened => "立案",
            Stage::Dispatched => "派遣",
            Stage::Disposed => "处置",
            Stage::Checked => "核查",
            Stage::Closed => "结案",
            Stage::Rejected => "不予受理",
            Stage::OnHold => "挂账",
            Stage::Void => "作废",
        }
    }

    /// Whether a case in this stage is finished (closed, rejected or void): nothing more happens.
    pub fn is_terminal(self) -> bool {
        matches!(self, Stage::Closed | Stage::Rejected | Stage::Void)
    }

    /// The actions allowed from this stage, in table order.
    pub fn actions(self) -> Vec<Action> {
        RULES
            .iter()
            .filter(|r| r.from.contains(&self))
            .map(|r| r.action)
            .collect()
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Stage::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown stage {s:?} ({})",
                    Stage::ALL.map(Stage::as_str).join(", ")
                )
            })
    }
}

/// Who disposes of a dispatched case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    /// 前端自治: the owning grid.
    FrontEnd,
    /// 后端共治: a department or management unit.
    BackEnd,
}

impl Track {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Track::FrontEnd => "front_end",
            Track::BackEnd => "back_end",
        }
    }
}

impl FromStr for Track {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "front_end" => Ok(Track::FrontEnd),
            "back_end" => Ok(Track::BackEnd),
            _ => Err(format!("unknown track {s:?} (front_end or back_end)")),
        }
    }
}

/// What happens to a case: one event of its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 上报: the report itself (the first event; not requested through the API).
    Report,
    /// 受理.
    Accept,
    /// 不予受理 (reason in the note).
    Reject,
    /// 核实 on site.
    Verify,
    /// 立案.
    Open,
    /// 派遣 to a grid (front end) or a department (back end).
    Dispatch,
    /// 转派 to another grid or department.
    Transfer,
    /// 退单: the assignee returns a wrongly dispatched case (reason in the note).
    Return,
    /// 处置 (result in the note, photos).
    Dispose,
    /// 核查 passed.
    Check,
    /// 核查 failed: 返工, back to disposal.
    Rework,
    /// 结案.
    Close,
    /// The front-end limit passed: to the back end (the centre dispatches it to a department).
    Escalate,
    /// 延期申请: the assignee asks for a later due time.
    RequestExtension,
    /// 延期批准: the due time becomes the one asked for.
    ApproveExtension,
    /// 延期驳回.
    RefuseExtension,
    /// 挂账 (reason in the note, review date in `until`).
    Hold,
    /// Back from hold, to be dispatched again.
    Resume,
    /// 作废 (reason in the note; `duplicate_of` links a duplicate to its case).
    Void,
    /// 督办: the district's supervision flag.
    Supervise,
    /// The reporter's verdict "not resolved" (回访不满意): a closed case goes back to disposal by
    /// its last assignee.
    Reopen,
}

impl Action {
    /// Every action, in table order.
    pub const ALL: [Action; 21] = [
        Action::Report,
        Action::Accept,
        Action::Reject,
        Action::Verify,
        Action::Open,
        Action::Dispatch,
        Action::Transfer,
        Action::Return,
        Action::Dispose,
        Action::Check,
        Action::Rework,
        Action::Close,
        Action::Escalate,
        Action::RequestExtension,
        Action::ApproveExtension,
        Action::RefuseExtension,
        Action::Hold,
        Action::Resume,
        Action::Void,
        Action::Supervise,
        Action::Reopen,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Report => "report",
            Action::Accept => "accept",
            Action::Reject => "reject",
            Action::Verify => "verify",
            Action::Open => "open",
            Action::Dispatch => "dispatch",
            Action::Transfer => "transfer",
            Action::Return => "return",
            Action::Dispose => "dispose",
            Action::Check => "check",
            Action::Rework => "rework",
            Action::Close => "close",
            Action::Escalate => "escalate",
            Action::RequestExtension => "request_extension",
            Action::ApproveExtension => "approve_extension",
            Action::RefuseExtension => "refuse_extension",
            Action::Hold => "hold",
            Action::Resume => "resume",
            Action::Void => "void",
            Action::Supervise => "supervise",
            Action::Reopen => "reopen",
        }
    }

    /// The rule of this action.
    pub fn rule(self) -> &'static Rule {
        // RULES has one row per action, in the order of Action::ALL (tested).
        &RULES[self as usize]
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Action::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown action {s:?} ({})",
                    Action::ALL.map(Action::as_str).join(", ")
                )
            })
    }
}

/// Who may take an action (the service maps token roles onto these; an admin is every party).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// Whoever submits cases (intake desks, grid workers on patrol).
    Reporter,
    /// The district centre or the street sub-centre of the case's street (`dispatcher`).
    Dispatcher,
    /// Whoever the case is dispatched to: a `department` token of that department, or a
    /// `grid_worker` of that grid.
    Assignee,
    /// A `grid_worker` of the case's grid (the street's dispatcher when it has none).
    GridWorker,
    /// The district's supervision (`supervisor`).
    Supervisor,
    /// gridatlas itself (the escalation sweep).
    System,
    /// The reporter, giving a verdict through the feedback link (or an intake desk for them):
    /// `POST /api/v1/cases/{id}/feedback`, never the events API.
    Resident,
}

/// What an action needs besides the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A note (the reason, or the result).
    Note,
    /// A target: `grid` (front end) or `department` (back end), exactly one; a dispatch
    /// naming neither goes as routed ([`crate::routing::Assignment::dispatch_target`]).
    Target,
    /// `until`: a review date (hold) or the due time asked for (extension; or a `limit`).
    Until,
}

/// One row of the transition table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The action.
    pub action: Action,
    /// The stages it may start from.
    pub from: &'static [Stage],
    /// The stage it leads to (`None`: the stage stays).
    pub to: Option<Stage>,
    /// Who may take it.
    pub parties: &'static [Party],
    /// What it needs.
    pub needs: &'static [Need],
}

use Party::{Assignee, Dispatcher, GridWorker, Reporter, Resident, Supervisor, System};
use Stage::*;

/// The transition table (one row per action, in the order of [`Action::ALL`]).
pub const RULES: [Rule; 21] = [
    Rule {
        action: Action::Report,
        from: &[],
        to: Some(Reported),
        parties: &[Reporter],
        needs: &[],
    },
    Rule {
        action: Action::Accept,
        from: &[Reported],
        // a patrol report goes on to `verified` at once (see `apply`)
        to: Some(Accepted),
        parties: &[Dispatcher],
        needs: &[],
    },
    Rule {
        action: Action::Reject,
        from: &[Reported],
        to: Some(Rejected),
        parties: &[Dispatcher],
        needs: &[Need::Note],
    },
    Rule {
        action: Action::Verify,
        from: &[Accepted],
        to: Some(Verified),
        parties: &[GridWorker],
        needs: &[],
    },
    Rule {
        action: Action::Open,
        from: &[Verified],
        to: Some(Opened),
        parties: &[Dispatcher],
        needs: &[],
    },
    Rule {
        action: Action::Dispatch,
        from: &[Opened],
        to: Some(Dispatched),
        parties: &[Dispatcher],
        needs: &[Need::Target],
    },
    Rule {
        action: Action::Transfer,
        from: &[Opened, Dispatched],
        to: Some(Dispatched),
        parties: &[Dispatcher],
        needs: &[Need::Target],
    },
    Rule {
        action: Action::Return,
        from: &[Dispatched],
        to: Some(Opened),
        parties: &[Assignee],
        needs: &[Need::Note],
    },
    Rule {
        action: Action::Dispose,
        from: &[Dispatched],
        to: Some(Disposed),
        parties: &[Assignee],
        needs: &[Need::Note],
    },
    Rule {
        action: Action::Check,
        from: &[Disposed],
        to: Some(Checked),
        parties: &[GridWorker],
        needs: &[],
    },
    Rule {
        action: Action::Rework,
        from: &[Disposed],
        to: Some(Dispatched),
        parties: &[GridWorker],
        needs: &[Need::Note],
    },
    Rule {
        action: Action::Close,
        from: &[Checked],
        to: Some(Closed),
        parties: &[Dispatcher],
        needs: &[],
    },
    Rule {
        action: Action::Escalate,
        from: &[Dispatched],
        to: Some(Opened),
        parties: &[System, Dispatcher],
        needs: &[],
    },
    Rule {
        action: Action::RequestExtension,
        from: &[Dispatched],
        to: None,
        parties: &[Assignee],
        needs: &[Need::Note, Need::Until],
    },
    Rule {
        action: Action::ApproveExtension,
        from: &[Dispatched],
        to: None,
        parties: &[Dispatcher],
        needs: &[],
    },
    Rule {
        action: Action::RefuseExtension,
        from: &[Dispatched],
        to: None,
        parties: &[Dispatcher],
        needs: &[Need::Note],
    },
    Rule {
        action: Action::Hold,
        from: &[Opened, Dispatched],
        to: Some(OnHold),
        parties: &[Dispatcher],
        needs: &[Need::Note, Need::Until],
    },
    Rule {
        action: Action::Resume,
        from: &[OnHold],
        to: Some(Opened),
        parties: &[Dispatcher],
        needs: &[],
    },
    Rule {
        action: Action::Void,
        from: &Stage::OPEN,
        to: Some(Void),
        parties: &[Dispatcher],
        needs: &[Need::Note],
    },
    Rule {
        action: Action::Supervise,
        from: &Stage::OPEN,
        to: None,
        parties: &[Supervisor],
        needs: &[],
    },
    Rule {
        action: Action::Reopen,
        from: &[Closed],
        to: Some(Dispatched),
        parties: &[Resident],
        needs: &[],
    },
];

/// The limit of `stage` (on `track` when dispatched) in `limits`; `None` for a stage without one
/// (closed, rejected, void; on hold runs to its review date instead).
pub fn limit_of(limits: &StageLimits, stage: Stage, track: Option<Track>) -> Option<Limit> {
    Some(match stage {
        Reported => limits.accept,
        Accepted => limits.verify,
        Verified => limits.open,
        Opened => limits.dispatch,
        Dispatched => match track {
            Some(Track::FrontEnd) => limits.front_end,
            _ => limits.dispose,
        },
        Disposed => limits.check,
        Checked => limits.close,
        Closed | Rejected | Void | OnHold => return None,
    })
}

/// An action asked for, with everything it may carry (checked for length and form by the
/// service; its meaning is checked here).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The action.
    pub action: Action,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who (a person: the token's subject, or the name given).
    pub by: String,
    /// In which role (the token's role, or `system`).
    pub role: String,
    /// A note: the reason, or the result.
    pub note: Option<String>,
    /// Photo URLs (e.g. before and after disposal).
    pub photos: Vec<String>,
    /// The grid dispatched or transferred to (front end).
    pub grid: Option<String>,
    /// The department dispatched or transferred to (back end).
    pub department: Option<String>,
    /// The review date (hold) or the due time asked for (extension).
    pub until: Option<DateTime<Utc>>,
    /// The case this one duplicates (void).
    pub duplicate_of: Option<i64>,
}

impl Request {
    /// A request of `action` at `at` by `by` in `role`, with nothing else.
    pub fn new(action: Action, at: DateTime<Utc>, by: &str, role: &str) -> Request {
        Request {
            action,
            at,
            by: by.to_owned(),
            role: role.to_owned(),
            note: None,
            photos: Vec::new(),
            grid: None,
            department: None,
            until: None,
            duplicate_of: None,
        }
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not allowed from the case's stage (or state): 409, naming the stage and what is allowed.
    #[error("{detail}")]
    Conflict {
        /// The message.
        detail: String,
        /// The case's stage.
        stage: Stage,
        /// The actions allowed from it.
        allowed: Vec<Action>,
    },
    /// The caller may not take this action on this case: 403 naming what was needed.
    #[error("{0}")]
    Forbidden(String),
    /// A field is missing or wrong for this action: 422 naming it.
    #[error("field `{field}`: {detail}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// What an action does to a case: the event to append and the case's new state.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The event (its `seq` is the case's next).
    pub event: super::Event,
    /// The stage after.
    pub stage: Stage,
    /// The track after.
    pub track: Option<Track>,
    /// The grid it is dispatched to, after.
    pub assigned_grid: Option<String>,
    /// The department it is dispatched to, after.
    pub department: Option<String>,
    /// The due time of the stage after.
    pub due_at: DateTime<Utc>,
    /// The supervision flag after.
    pub supervised: bool,
    /// The case it duplicates, after.
    pub duplicate_of: Option<i64>,
    /// When it was finished (closed, rejected or void), after.
    pub done_at: Option<DateTime<Utc>>,
}

fn conflict(case: &Case, detail: String) -> Refusal {
    let allowed = case.stage.actions();
    Refusal::Conflict {
        detail: format!(
            "case {}: {detail} (the case is {} {}; allowed from {}: {})",
            case.id,
            case.stage.as_str(),
            case.stage.name_zh(),
            case.stage.as_str(),
            if allowed.is_empty() {
                "none, the case is finished".to_owned()
            } else {
                allowed
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        stage: case.stage,
        allowed,
    }
}

fn invalid(field: &'static str, detail: impl Into<String>) -> Refusal {
    Refusal::Invalid {
        field,
        detail: detail.into(),
    }
}

/// The due time of `limit` from `at` on `calendar` (422 naming `at` if it cannot be computed).
pub fn due(calendar: &Calendar, at: DateTime<Utc>, limit: Limit) -> Result<DateTime<Utc>, Refusal> {
    calendar
        .due(at.with_timezone(&calendar.offset()), limit)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| invalid("at", e))
}

/// Checks `req` against the table and `case` and computes the step: the event and the case's
/// new state, with the due time of the stage it enters counted on `calendar` from `req.at`.
/// The caller's right to act as one of the rule's parties is the service's to check.
pub fn apply(case: &Case, req: &Request, calendar: &Calendar) -> Result<Step, Refusal> {
    let rule = req.action.rule();
    if req.action == Action::Report {
        return Err(invalid(
            "action",
            "`report` is the case's first event: submit a case with POST /api/v1/cases",
        ));
    }
    if !rule.from.contains(&case.stage) {
        return Err(conflict(case, format!("cannot {}", req.action.as_str())));
    }
    if let Some(last) = case.events.iter().map(|e| e.at).max() {
        if req.at < last {
            return Err(invalid(
                "at",
                format!(
                    "case {}: {} is before the case's latest event ({}); events are recorded in order",
                    case.id,
                    req.at.to_rfc3339(),
                    last.to_rfc3339()
                ),
            ));
        }
    }
    let note = req.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if rule.needs.contains(&Need::Note) && note.is_none() {
        return Err(invalid(
            "note",
            format!(
                "{} needs a note (the reason, or the result)",
                req.action.as_str()
            ),
        ));
    }
    if rule.needs.contains(&Need::Until) && req.until.is_none() {
        return Err(invalid(
            "until",
            format!(
                "{} needs `until` (a review date, or the due time asked for)",
                req.action.as_str()
            ),
        ));
    }
    let target = if rule.needs.contains(&Need::Target) {
        match (&req.grid, &req.department) {
            (Some(g), None) if !g.trim().is_empty() => Some((Track::FrontEnd, g.clone())),
            (None, Some(d)) if !d.trim().is_empty() => Some((Track::BackEnd, d.clone())),
            // dispatched as routed: owner-first to the component's owner department, else
            // territory-first to the grid
            (None, None) if req.action == Action::Dispatch => {
                match case.assignment.dispatch_target() {
                    Some((Principle::Owner, d)) => Some((Track::BackEnd, d.to_owned())),
                    Some((Principle::Territory, g)) => Some((Track::FrontEnd, g.to_owned())),
                    None => {
                        return Err(invalid(
                            "grid/department",
                            "dispatch needs `grid` or `department`: the routing found no owner \
                             (street queue)",
                        ));
                    }
                }
            }
            _ => {
                return Err(invalid(
                    "grid/department",
                    format!(
                        "{} needs exactly one of `grid` (front end) or `department` (back end)",
                        req.action.as_str()
                    ),
                ));
            }
        }
    } else {
        if req.grid.is_some() || req.department.is_some() {
            return Err(invalid(
                "grid/department",
                format!("{} takes no `grid` or `department`", req.action.as_str()),
            ));
        }
        None
    };
    if req.duplicate_of.is_some() && req.action != Action::Void {
        return Err(invalid(
            "duplicate_of",
            "only `void` links a case to the one it duplicates",
        ));
    }
    if req.until.is_some() && !rule.needs.contains(&Need::Until) {
        return Err(invalid(
            "until",
            format!("{} takes no `until`", req.action.as_str()),
        ));
    }
    let mut step = Step {
        event: super::Event {
            seq: case.events.iter().map(|e| e.seq).max().unwrap_or(0) + 1,
            at: req.at,
            action: req.action,
            stage: case.stage,
            by: req.by.clone(),
            role: req.role.clone(),
            note: note.map(str::to_owned),
            photos: req.photos.clone(),
            grid: None,
            department: None,
            until: req.until,
            duplicate_of: req.duplicate_of,
            due_at: None,
            on_time: None,
        },
        stage: case.stage,
        track: case.track,
        assigned_grid: case.assigned_grid.clone(),
        department: case.department.clone(),
        due_at: case.due_at,
        supervised: case.supervised,
        duplicate_of: case.duplicate_of,
        done_at: case.done_at,
    };
    let pending = case.pending_extension();
    match req.action {
        Action::Accept if case.source == Source::Patrol => step.stage = Verified,
        Action::Dispatch | Action::Transfer => {
            let (track, code) = target.ok_or_else(|| invalid("grid/department", "missing"))?;
            if track == Track::FrontEnd && case.escalated() {
                return Err(conflict(
                    case,
                    "was escalated to the back end: dispatch it to a `department`".to_owned(),
                ));
            }
            if req.action == Action::Transfer {
                // to whom it is (or, returned, was last) dispatched
                let last = case
                    .events
                    .iter()
                    .rev()
                    .find(|e| matches!(e.action, Action::Dispatch | Action::Transfer));
                let Some(last) = last else {
                    return Err(conflict(
                        case,
                        "was never dispatched: dispatch it rather than transfer it".to_owned(),
                    ));
                };
                let before = match (&last.grid, &last.department) {
                    (Some(g), _) => (Track::FrontEnd, g),
                    (None, Some(d)) => (Track::BackEnd, d),
                    (None, None) => (Track::FrontEnd, &String::new()),
                };
                if (track, &code) == (before.0, before.1) {
                    return Err(conflict(
                        case,
                        format!("was dispatched to {code}; transfer names another"),
                    ));
                }
            }
            step.track = Some(track);
            match track {
                Track::FrontEnd => {
                    step.event.grid = Some(code.clone());
                    step.assigned_grid = Some(code);
                    step.department = None;
                }
                Track::BackEnd => {
                    step.event.department = Some(code.clone());
                    step.department = Some(code);
                    step.assigned_grid = None;
                }
            }
        }
        Action::Escalate => {
            if case.track != Some(Track::FrontEnd) {
                return Err(conflict(
                    case,
                    "is not with the front end; only front-end disposal escalates".to_owned(),
                ));
            }
            step.track = Some(Track::BackEnd);
            step.assigned_grid = None;
        }
        Action::Return => {
            step.event.grid = case.assigned_grid.clone();
            step.event.department = case.department.clone();
            step.assigned_grid = None;
            step.department = None;
            // a front-end case returned by its grid stays on the front end until dispatched
            // again; an escalated one stays with the back end
            step.track = case.escalated().then_some(Track::BackEnd);
        }
        Action::Dispose => {
            // who disposed of it: the grid (front end) or the department (back end)
            step.event.grid = case.assigned_grid.clone();
            step.event.department = case.department.clone();
        }
        Action::RequestExtension => {
            if pending.is_some() {
                return Err(conflict(
                    case,
                    "has an extension request waiting for a decision".to_owned(),
                ));
            }
            if let Some(until) = req.until {
                if until <= case.due_at {
                    return Err(invalid(
                        "until",
                        format!(
                            "{} is not after the current due time {}",
                            until.to_rfc3339(),
                            case.due_at.to_rfc3339()
                        ),
                    ));
                }
            }
        }
        Action::ApproveExtension | Action::RefuseExtension => {
            let Some(until) = pending else {
                return Err(conflict(
                    case,
                    "has no extension request waiting for a decision".to_owned(),
                ));
            };
            if req.action == Action::ApproveExtension {
                step.due_at = until;
                step.event.due_at = Some(until);
            }
        }
        Action::Hold => {
            if let Some(until) = req.until {
                if until <= req.at {
                    return Err(invalid(
                        "until",
                        format!(
                            "the review date {} is not after {}",
                            until.to_rfc3339(),
                            req.at.to_rfc3339()
                        ),
                    ));
                }
                step.due_at = until;
                step.event.due_at = Some(until);
            }
        }
        Action::Resume => {
            // dispatched again from scratch; an escalated case still goes to the back end
            step.assigned_grid = None;
            step.department = None;
            step.track = case.escalated().then_some(Track::BackEnd);
        }
        Action::Void => {
            if req.duplicate_of == Some(case.id) {
                return Err(invalid("duplicate_of", "a case cannot duplicate itself"));
            }
            step.duplicate_of = req.duplicate_of;
        }
        Action::Reopen => {
            // back to whoever disposed of it last
            let last = case.events.iter().rev().find(|e| {
                matches!(
                    e.action,
                    Action::Dispatch | Action::Transfer | Action::Dispose
                )
            });
            match last.map(|e| (&e.grid, &e.department)) {
                Some((Some(g), _)) => {
                    step.track = Some(Track::FrontEnd);
                    step.assigned_grid = Some(g.clone());
                    step.department = None;
                    step.event.grid = Some(g.clone());
                }
                Some((None, Some(d))) => {
                    step.track = Some(Track::BackEnd);
                    step.department = Some(d.clone());
                    step.assigned_grid = None;
                    step.event.department = Some(d.clone());
                }
                _ => {
                    return Err(conflict(
                        case,
                        "was never dispatched: there is nobody to reopen it to".to_owned(),
                    ));
                }
            }
            step.done_at = None;
        }
        Action::Supervise => {
            if case.supervised {
                return Err(conflict(case, "is already supervised (督办)".to_owned()));
            }
            step.supervised = true;
        }
        _ => {}
    }
    if let Some(to) = rule.to {
        if !(req.action == Action::Accept && case.source == Source::Patrol) {
            step.stage = to;
        }
    }
    let enters = rule.to.is_some();
    if enters {
        // the stage it ends: was it ended in time?
        step.event.on_time = Some(req.at <= case.due_at);
        if let Some(limit) = limit_of(&case.limits, step.stage, step.track) {
            let due_at = due(calendar, req.at, limit)?;
            step.due_at = due_at;
            step.event.due_at = Some(due_at);
        }
    }
    if step.stage.is_terminal() {
        step.done_at = Some(req.at);
    }
    step.event.stage = step.stage;
    Ok(step)
}

#[cfg(test)]
mod tests;
