//! The categories aggregate: what cases are counted against — the case categories, i.e. the
//! task list the routing uses, stored in task-list order, and the documents the district sets:
//! the working calendar the stage limits are counted on and the scoring scheme of the
//! assessment (each stored as its JSON file, parsed by the service) ([`Categories`],
//! [`Setting`]).
//!
//! Tables: `categories`, `settings` (keys `calendar`, `scoring`, `review_rubric`, `field`,
//! `assets`).

use super::StoreResult;
use crate::routing::categories::Category;

/// Case categories (the task list of the routing).
pub trait Categories {
    /// Replaces the case categories (the task list) with `categories`, in that order.
    fn replace_categories(&self, categories: &[Category]) -> StoreResult<()>;

    /// The case categories, in task-list order.
    fn categories(&self) -> StoreResult<Vec<Category>>;

    /// Stores a setting (its JSON file, already checked), replacing the last one.
    fn replace_setting(&self, key: Setting, json: &str) -> StoreResult<()>;

    /// A setting's JSON file, if one was stored.
    fn setting(&self, key: Setting) -> StoreResult<Option<String>>;
}

/// A document the district sets, kept whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The working calendar.
    Calendar,
    /// The assessment's scoring scheme.
    Scoring,
    /// The rubric of the quality review by sampling (质量考评).
    ReviewRubric,
    /// The field force's settings: duty modes, shift templates, check-in, track and coverage
    /// rules, retention.
    Field,
    /// The asset registers' rules: the component class table and code rules, the frontage
    /// binding distance, the points rule (its shape is the service's).
    Assets,
    /// The district's component class table (大类 and 小类), replacing the shipped example.
    ComponentClasses,
}

impl Setting {
    /// The key it is stored under.
    pub fn key(self) -> &'static str {
        match self {
            Setting::Calendar => "calendar",
            Setting::Scoring => "scoring",
            Setting::ReviewRubric => "review_rubric",
            Setting::Field => "field",
            Setting::Assets => "assets",
            Setting::ComponentClasses => "component_classes",
        }
    }
}
