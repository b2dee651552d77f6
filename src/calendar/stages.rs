//! The time limit of every stage of the case workflow ([`StageLimits`]), as a task list gives
//! them per item and group ([`PartialLimits`]). Plain data: which limit applies to which stage
//! is the case workflow's to say (`limit_of`).

use super::Limit;
use serde::{Deserialize, Serialize};

/// The time limit of each stage, counted from the moment the case enters it (JSON: each a
/// limit such as `"5 work_days"`; a task list may give any of them per item or per group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageLimits {
    /// Reported → accepted or rejected.
    #[schema(value_type = String)]
    pub accept: Limit,
    /// Accepted → verified.
    #[schema(value_type = String)]
    pub verify: Limit,
    /// Verified → opened.
    #[schema(value_type = String)]
    pub open: Limit,
    /// Opened → dispatched.
    #[schema(value_type = String)]
    pub dispatch: Limit,
    /// Dispatched to a department (back end) → disposed.
    #[schema(value_type = String)]
    pub dispose: Limit,
    /// Dispatched to a grid (front end) → disposed; escalated to the back end when it passes.
    #[schema(value_type = String)]
    pub front_end: Limit,
    /// Disposed → checked.
    #[schema(value_type = String)]
    pub check: Limit,
    /// Checked → closed.
    #[schema(value_type = String)]
    pub close: Limit,
}

impl Default for StageLimits {
    /// The defaults where a task list says nothing: 1 working hour to accept, 2 to verify, 1 to
    /// open and 1 to dispatch; 5 working days for a department to dispose of a case, and the
    /// seed's 7 days for the front end; 1 working day to check and 1 to close.
    fn default() -> Self {
        StageLimits {
            accept: Limit::WorkHours(1),
            verify: Limit::WorkHours(2),
            open: Limit::WorkHours(1),
            dispatch: Limit::WorkHours(1),
            dispose: Limit::WorkDays(5),
            front_end: Limit::Days(7),
            check: Limit::WorkDays(1),
            close: Limit::WorkDays(1),
        }
    }
}

/// Some of the limits (a task-list item's or group's `limits`); the rest come from elsewhere.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartialLimits {
    /// Reported → accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub accept: Option<Limit>,
    /// Accepted → verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub verify: Option<Limit>,
    /// Verified → opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub open: Option<Limit>,
    /// Opened → dispatched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub dispatch: Option<Limit>,
    /// Back-end disposal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub dispose: Option<Limit>,
    /// Front-end disposal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub front_end: Option<Limit>,
    /// Disposed → checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub check: Option<Limit>,
    /// Checked → closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub close: Option<Limit>,
}

impl PartialLimits {
    /// Whether no limit is given.
    pub fn is_empty(&self) -> bool {
        *self == PartialLimits::default()
    }

    /// These limits where given, `base` elsewhere.
    pub fn over(&self, base: StageLimits) -> StageLimits {
        StageLimits {
            accept: self.accept.unwrap_or(base.accept),
            verify: self.verify.unwrap_or(base.verify),
            open: self.open.unwrap_or(base.open),
            dispatch: self.dispatch.unwrap_or(base.dispatch),
            dispose: self.dispose.unwrap_or(base.dispose),
            front_end: self.front_end.unwrap_or(base.front_end),
            check: self.check.unwrap_or(base.check),
            close: self.close.unwrap_or(base.close),
        }
    }
}
