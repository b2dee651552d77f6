//! The quality review by sampling (质量考评) on the wire: `/api/v1/reviews…` and
//! `/api/v1/review-rubric`. Requests are read as given (every field checked by the service,
//! errors naming the field); responses are the domain's own data ([`Review`], [`Results`],
//! [`Rubric`], which carry their OpenAPI schema) in the lists and wrappers of the API.

pub use crate::cases::review::{
    Assignment, CaseResult, Results, Review, ReviewSummary, Reviewer, Rubric, SampleSpec,
    SampledCase, StreetResult,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// `POST /api/v1/reviews`: draw a sample of closed cases (and assign its reviewers).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// A name (at most 100 characters); default `质量考评 <from> – <to>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Cases reported at or after (RFC 3339, or a date in the district's time zone); default 30
    /// days before `to`.
    #[serde(default)]
    #[schema(value_type = Option<crate::wire::TimeOrDate>)]
    pub from: Option<String>,
    /// Cases reported before (RFC 3339, or a date: midnight starting it); default now.
    #[serde(default)]
    #[schema(value_type = Option<crate::wire::TimeOrDate>)]
    pub to: Option<String>,
    /// Street codes to draw from (at most 200); none, or `["*"]`: every street.
    #[serde(default)]
    pub streets: Vec<String>,
    /// random | quota | share.
    #[schema(value_type = crate::cases::review::Method)]
    pub method: String,
    /// random: how many cases (1 to 5,000).
    #[serde(default)]
    pub n: Option<u64>,
    /// quota: how many cases of every street (1 to 5,000).
    #[serde(default)]
    pub per_street: Option<u64>,
    /// share: which fraction of every street's cases (above 0, at most 1; rounded to the
    /// nearest case, at least one per street with cases).
    #[serde(default)]
    pub fraction: Option<f64>,
    /// `group`: share the draw out over the category groups in proportion (largest remainder),
    /// random within each.
    #[serde(default)]
    #[schema(value_type = Option<crate::cases::review::Stratify>)]
    pub stratify: Option<String>,
    /// The seed (0 to 2^53 − 1); default a random one, returned with the review so that the
    /// draw can be repeated.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Reviewers per case (1 to 9).
    pub k: u64,
    /// The rubric; default the one in force (`GET /api/v1/review-rubric`).
    #[serde(default)]
    pub rubric: Option<Rubric>,
    /// The reviewers (at most 500, each `{subject, street}` of their reviewer token); none:
    /// assign them later with `POST /api/v1/reviews/{id}/assignments`.
    #[serde(default)]
    pub reviewers: Vec<Reviewer>,
}

/// `POST /api/v1/reviews/{id}/assignments`: the reviewers of a review drawn without them.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    /// The reviewers (1 to 500, each `{subject, street}` of their reviewer token).
    pub reviewers: Vec<Reviewer>,
}

/// `PUT /api/v1/reviews/{id}/cases/{case_id}/score`: a reviewer's score of a case.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreInput {
    /// Points per rubric item key: every item, each from 0 to its maximum in whole or half
    /// points.
    pub points: BTreeMap<String, f64>,
    /// A comment (at most 1,000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Query of `GET /api/v1/reviews`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewListQuery {
    /// Page size (default 50, at most 1000).
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
    /// Skip this many.
    #[param(value_type = Option<u64>)]
    pub offset: Option<String>,
}

/// `GET /api/v1/reviews`: reviews, newest first (for a reviewer: those with tasks of theirs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewList {
    /// The page.
    pub items: Vec<ReviewSummary>,
    /// Reviews in all.
    pub total: i64,
    /// Page size.
    pub limit: usize,
    /// Skipped.
    pub offset: usize,
}

/// `GET /api/v1/reviews/{id}/results`: per case and per street, with the cases flagged for
/// arbitration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReviewResults {
    /// The review.
    pub review: i64,
    /// Its name.
    pub name: String,
    /// Period start.
    pub from: chrono::DateTime<chrono::Utc>,
    /// Period end.
    pub to: chrono::DateTime<chrono::Utc>,
    /// When it was closed: the results are final then.
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The results.
    #[serde(flatten)]
    pub results: Results,
}

/// `GET`/`PUT /api/v1/review-rubric`: the rubric new reviews use unless they bring their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricView {
    /// Whether it is the example shipped with gridatlas (none was loaded).
    pub example: bool,
    /// The rubric.
    pub rubric: Rubric,
}
