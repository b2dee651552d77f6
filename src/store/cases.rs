//! The cases aggregate: routed cases and their events ([`Cases`]); a status change is checked
//! against the allowed transitions atomically with its write.
//!
//! Tables: `cases`, `case_events`.

use super::StoreResult;
use crate::cases::{Case, CaseFilter, NewCase, Status};
use chrono::{DateTime, Utc};

/// Cases and their events (status changes).
pub trait Cases {
    /// Stores a routed case (status `assigned`, first event recorded).
    fn create_case(&self, case: &NewCase) -> StoreResult<Case>;

    /// One case with its events.
    fn get_case(&self, id: i64) -> StoreResult<Case>;

    /// Cases matching `filter`, newest first, and how many match in all.
    fn list_cases(&self, filter: &CaseFilter) -> StoreResult<(Vec<Case>, i64)>;

    /// Changes a case's status, atomically with the check that the transition is allowed
    /// ([`StoreError::Conflict`](super::StoreError::Conflict) with the reason if not).
    fn add_case_event(
        &self,
        id: i64,
        status: Status,
        by: &str,
        department: Option<&str>,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Case>;
}
