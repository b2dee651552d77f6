//! The cases aggregate: cases and their histories ([`Cases`]). A change is decided on the case
//! as read inside the write transaction that records it (the row locked), so two changes never
//! interleave and a refused one writes nothing.
//!
//! Tables: `cases`, `case_events`, `case_feedback`.

use super::StoreResult;
use crate::cases::workflow::{Refusal, Step};
use crate::cases::{Case, CaseFilter, Feedback, NewCase};

/// Cases and their events.
pub trait Cases {
    /// Stores a reported case (stage `reported`, the report recorded as its first event).
    fn create_case(&self, case: &NewCase) -> StoreResult<Case>;

    /// One case with its events.
    fn get_case(&self, id: i64) -> StoreResult<Case>;

    /// Cases matching `filter`, newest first, and how many match in all.
    fn list_cases(&self, filter: &CaseFilter) -> StoreResult<(Vec<Case>, i64)>;

    /// Reads case `id` in a write transaction (its row locked), asks `decide` for the step and
    /// records it: the event appended and the case's state updated. A refusal writes nothing and
    /// is returned as is.
    fn change_case(
        &self,
        id: i64,
        decide: &mut dyn FnMut(&Case) -> Result<Step, Refusal>,
    ) -> StoreResult<Result<Case, Refusal>>;

    /// Records the reporter's verdict on case `id` in a write transaction (its row locked): with
    /// `secret`, only if it is the case's feedback secret (else a refusal); `decide` checks the
    /// case and gives the step the verdict takes (a reopening), if any. At most one verdict per
    /// case ([`StoreError::Conflict`](super::StoreError::Conflict) for a second). A refusal
    /// writes nothing.
    fn give_feedback(
        &self,
        id: i64,
        feedback: &Feedback,
        secret: Option<&str>,
        decide: &mut dyn FnMut(&Case) -> Result<Option<Step>, Refusal>,
    ) -> StoreResult<Result<Case, Refusal>>;
}
