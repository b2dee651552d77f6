//! The categories aggregate: what cases are counted against — the case categories, i.e. the
//! task list the routing uses, stored in task-list order, and the working calendar the stage
//! limits are counted on (stored as its JSON file, parsed by the service) ([`Categories`]).
//!
//! Tables: `categories`, `settings` (key `calendar`).

use super::StoreResult;
use crate::routing::categories::Category;

/// Case categories (the task list of the routing).
pub trait Categories {
    /// Replaces the case categories (the task list) with `categories`, in that order.
    fn replace_categories(&self, categories: &[Category]) -> StoreResult<()>;

    /// The case categories, in task-list order.
    fn categories(&self) -> StoreResult<Vec<Category>>;

    /// Stores the working calendar (its JSON file, already checked), replacing the last one.
    fn replace_calendar(&self, json: &str) -> StoreResult<()>;

    /// The working calendar's JSON file, if one was stored.
    fn calendar(&self) -> StoreResult<Option<String>>;
}
