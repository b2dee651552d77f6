//! The cases aggregate: cases and their histories ([`Cases`]). A change is decided on the case
//! as read inside the write transaction that records it (the row locked), so two changes never
//! interleave and a refused one writes nothing.
//!
//! The indicators of a period are computed in the database, from one row of facts per case
//! ([`crate::cases::facts`]) written with every change.
//!
//! Tables: `cases`, `case_events`, `case_feedback`, `case_facts`.

use super::{KeyWrite, Keyed, StoreResult};
use crate::cases::indicators::{Dimension, Indicators, PersonIndicators, Scope};
use crate::cases::workflow::{Refusal, Step};
use crate::cases::{Case, CaseFilter, Feedback, NewCase};
use std::collections::BTreeMap;

/// Cases and their events.
pub trait Cases {
    /// Stores a reported case (stage `reported`, the report recorded as its first event).
    fn create_case(&self, case: &NewCase) -> StoreResult<Case>;

    /// [`Cases::create_case`] with an idempotency key recorded in its transaction (see
    /// [`super::Idempotency`]): a key already used gives its record and stores nothing.
    fn create_case_keyed(
        &self,
        case: &NewCase,
        key: Option<&KeyWrite<'_, Case>>,
    ) -> StoreResult<Keyed<Case>>;

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

    /// [`Cases::change_case`] with an idempotency key recorded in its transaction (after the
    /// case's row is locked, so that two requests with one key on one case are decided one after
    /// the other): a key already used gives its record and nothing is decided or written; a
    /// refusal records no key.
    fn change_case_keyed(
        &self,
        id: i64,
        decide: &mut dyn FnMut(&Case) -> Result<Step, Refusal>,
        key: Option<&KeyWrite<'_, Case>>,
    ) -> StoreResult<Keyed<Result<Case, Refusal>>>;

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

    /// The indicators of the cases of `scope` broken down by `by`, rates filled in, computed in
    /// the database; the district row's key is `None`. Equal to
    /// [`crate::cases::indicators::compute`] over the same cases.
    fn indicators(
        &self,
        scope: &Scope,
        by: Dimension,
    ) -> StoreResult<BTreeMap<Option<String>, Indicators>>;

    /// The indicators per person of `scope`, computed in the database. Equal to
    /// [`crate::cases::indicators::persons`] over the same cases.
    fn person_indicators(&self, scope: &Scope) -> StoreResult<BTreeMap<String, PersonIndicators>>;
}
