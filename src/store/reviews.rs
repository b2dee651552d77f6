//! The reviews aggregate: quality reviews by sampling (质量考评) — a drawn sample of closed
//! cases, its reviewers' assignments and their scores ([`Reviews`]); and the lean list of a
//! period's closed cases a sample is drawn from. The rules (draw, assignment, results) are
//! [`crate::cases::review`]; this keeps what they decided.
//!
//! A review and its sample (and its assignments, when given with it) are written in one
//! transaction; assignments added later are refused once any exist; a score is written only to
//! its assignment of an open review (the review's row locked, so closing and scoring never
//! interleave).
//!
//! Tables: `reviews`, `review_cases`, `review_assignments`.

use super::StoreResult;
use crate::cases::review::{Assignment, NewReview, Review, ReviewSummary, Reviewer};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Which part of a review to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewScope<'a> {
    /// Every sampled case and assignment.
    All,
    /// One reviewer's assignments and their cases.
    Reviewer(&'a Reviewer),
    /// One sampled case and its assignments.
    Case(i64),
}

/// A score to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScore<'a> {
    /// Points per rubric item (already checked against the rubric).
    pub points: &'a BTreeMap<String, f64>,
    /// Their sum.
    pub total: f64,
    /// The reviewer's comment.
    pub comment: Option<&'a str>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Quality reviews.
pub trait Reviews {
    /// The closed cases (`stage = 'closed'`) with a street, reported in `[from, to)`, of
    /// `streets` (empty: every street), as `(id, street, category)` by id — without events or
    /// anything else of the case; at most `limit`.
    fn closed_cases(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        streets: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(i64, String, String)>>;

    /// Stores a review with its sample and its assignments in one transaction; returns its id.
    fn create_review(&self, review: &NewReview) -> StoreResult<i64>;

    /// Review `id` with the part of its sample and assignments `scope` asks for.
    fn get_review(&self, id: i64, scope: ReviewScope<'_>) -> StoreResult<Review>;

    /// Reviews, newest first (with `reviewer`: those with assignments of theirs, counted for
    /// them), and how many there are.
    fn list_reviews(
        &self,
        reviewer: Option<&Reviewer>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<ReviewSummary>, i64)>;

    /// Adds the assignments of review `id`, which has none yet and is open
    /// ([`StoreError::Conflict`](super::StoreError::Conflict) otherwise).
    fn assign_reviewers(&self, id: i64, assignments: &[Assignment]) -> StoreResult<()>;

    /// Records (or replaces) `reviewer`'s score of case `case_id` in review `id`: `NotFound`
    /// when the review does not exist or the case is not assigned to them, `Conflict` when the
    /// review is closed.
    fn record_score(
        &self,
        id: i64,
        case_id: i64,
        reviewer: &Reviewer,
        score: &NewScore<'_>,
    ) -> StoreResult<Assignment>;

    /// Closes review `id` at `at` (its results final); `Conflict` when it is closed already.
    fn close_review(&self, id: i64, at: DateTime<Utc>) -> StoreResult<DateTime<Utc>>;
}
