//! The categories aggregate: the case categories, i.e. the task list the routing uses
//! ([`Categories`]), stored in task-list order.
//!
//! Table: `categories`.

use super::StoreResult;
use crate::routing::categories::Category;

/// Case categories (the task list of the routing).
pub trait Categories {
    /// Replaces the case categories (the task list) with `categories`, in that order.
    fn replace_categories(&self, categories: &[Category]) -> StoreResult<()>;

    /// The case categories, in task-list order.
    fn categories(&self) -> StoreResult<Vec<Category>>;
}
