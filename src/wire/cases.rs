//! Cases, categories and indicators on the wire: `/api/v1/categories`, `/api/v1/cases…`,
//! `/api/v1/indicators`. Requests are read as given (every field checked by the service, errors
//! naming the field); responses are the domain's own data types ([`Case`], [`Category`],
//! [`Indicators`], which carry their OpenAPI schema) in the lists and pages of the API.

pub use crate::calendar::CalendarFile;
pub use crate::cases::indicators::Indicators;
pub use crate::cases::{Action, Case, Event, Stage};
pub use crate::routing::Assignment;
pub use crate::routing::categories::{Category, TaskListFile};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A case submission (native API and Open311 alike), before routing.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    /// Longitude in `crs`.
    pub lon: f64,
    /// Latitude in `crs`.
    pub lat: f64,
    /// wgs84 (default) | cgcs2000 | gcj02 | bd09.
    #[serde(default)]
    pub crs: Option<String>,
    /// Category code (see /api/v1/categories).
    pub category: String,
    /// What is wrong (at most 2,000 characters).
    #[serde(default)]
    pub description: String,
    /// patrol | hotline | app | open311.
    #[schema(value_type = crate::cases::Source)]
    pub source: String,
    /// When reported (RFC 3339); default now. At most 5 minutes ahead of the server's clock, at
    /// most 366 days ago.
    #[serde(default)]
    pub reported_at: Option<String>,
    /// Photo URLs (at most 20, each http(s) and at most 2,048 characters).
    #[serde(default)]
    pub photos: Vec<String>,
    /// Route with the generation in force at this generation number or RFC 3339 time.
    #[serde(default)]
    pub at: Option<String>,
    /// For a component category (部件): the 16-digit code of the component the case is about;
    /// without it, the nearest component of the category's classes within 10 m is taken.
    #[serde(default)]
    pub component: Option<String>,
    /// The address as the reporter gave it (Open311 `address_string`, at most 500 characters);
    /// appended to the description. Not part of the native API.
    #[serde(skip)]
    pub address: Option<String>,
}

/// An action on a case (one step of the workflow; see docs/cases.md for the table).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// accept | reject | verify | open | dispatch | transfer | return | dispose | check | rework
    /// | close | escalate | request_extension | approve_extension | refuse_extension | hold |
    /// resume | void | supervise.
    pub action: String,
    /// Who did it (a person's name, at most 100 characters) when the token names nobody; the
    /// token is recorded too.
    #[serde(default)]
    pub by: Option<String>,
    /// The reason (reject, return, rework, hold, void, refuse_extension, request_extension) or
    /// the result (dispose); at most 1,000 characters.
    #[serde(default)]
    pub note: Option<String>,
    /// Photo URLs (at most 20, each http(s) and at most 2,048 characters): before and after.
    #[serde(default)]
    pub photos: Vec<String>,
    /// The grid to dispatch or transfer to (front end).
    #[serde(default)]
    pub grid: Option<String>,
    /// The department to dispatch or transfer to (back end; at most 100 characters).
    #[serde(default)]
    pub department: Option<String>,
    /// RFC 3339: the review date (hold) or the due time asked for (request_extension).
    #[serde(default)]
    pub until: Option<String>,
    /// Instead of `until` for request_extension: how much longer, e.g. `"2 work_days"`, counted
    /// on the working calendar from the current due time.
    #[serde(default)]
    pub extend_by: Option<String>,
    /// The case this one duplicates (void).
    #[serde(default)]
    pub duplicate_of: Option<i64>,
    /// When (RFC 3339); default now. Not before the case's latest event, at most 5 minutes ahead
    /// of the server's clock.
    #[serde(default)]
    pub at: Option<String>,
}

/// An open case of the same category near a new one (a possible duplicate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Duplicate {
    /// The case.
    pub id: i64,
    /// Its stage.
    pub stage: crate::cases::Stage,
    /// Metres between the two points.
    pub distance_m: f64,
    /// How long before the new case it was reported, in minutes.
    pub age_minutes: i64,
}

/// A case as the API shows it: the stored case (with its assignment and history; the reporter's
/// contact details are never shown), whether it is overdue now, what may happen next, and its
/// counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// Past the due time of its stage and not finished.
    pub overdue: bool,
    /// The stage's Chinese name.
    pub stage_zh: String,
    /// The actions allowed from the stage.
    pub next: Vec<crate::cases::Action>,
    /// 返工: failed checks.
    pub reworks: usize,
    /// 退单: returns by an assignee.
    pub returns: usize,
    /// The due time asked for by an extension request waiting for a decision.
    pub pending_extension: Option<chrono::DateTime<chrono::Utc>>,
    /// On intake, and in the one-case view while open: open cases of the same category near it,
    /// reported shortly before (in the one-case view: those the token may see).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub possible_duplicates: Vec<Duplicate>,
    /// On intake only: the reporter's feedback secret (回访), shown this once (only its SHA-256
    /// is kept); give it to the reporter with the case id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_secret: Option<String>,
}

/// The reporter's verdict on a closed case (`POST /api/v1/cases/{id}/feedback`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// The case's feedback secret (given at intake), unless an intake token is sent.
    #[serde(default)]
    pub secret: Option<String>,
    /// Whether the problem was really solved; `false` reopens the case to disposal.
    pub resolved: bool,
    /// satisfied | basically_satisfied | dissatisfied (or 满意 | 基本满意 | 不满意).
    #[schema(value_type = crate::cases::Satisfaction)]
    pub satisfaction: String,
    /// A comment (at most 1,000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// `GET /api/v1/cases`: a page of cases, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseList {
    /// The page.
    pub items: Vec<CaseView>,
    /// Cases matching the filter.
    pub total: i64,
    /// Page size.
    pub limit: usize,
    /// Skipped.
    pub offset: usize,
}

/// `GET /api/v1/cases/stats`: how many of the cases of a scope and period are in each stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseStats {
    /// Cases reported in the period (within the token's scope and the filters).
    pub total: i64,
    /// Of these, per stage (every stage, 0 included).
    pub by_stage: std::collections::BTreeMap<String, i64>,
    /// Not finished (every stage but closed, rejected and void).
    pub open: i64,
    /// Past the due time of their stage and not finished, now.
    pub overdue: i64,
    /// Supervised by the district (督办).
    pub supervised: i64,
    /// Not finished and in the street queue (the routing gave them no grid).
    pub queued: i64,
    /// The period: reported at or after (`null`: since the first case).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// … and before (`null`: until now).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// Query of `GET /api/v1/cases/stats`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CaseStatsQuery {
    /// Street code.
    pub street: Option<String>,
    /// Grid code (as routed, or dispatched to).
    pub grid: Option<String>,
    /// Reported at or after: an RFC 3339 time, or a date (its midnight in the district's zone).
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub from: Option<String>,
    /// Reported before (same forms as `from`).
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub to: Option<String>,
}

/// Query of `GET /api/v1/cases`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    /// Grid code.
    pub grid: Option<String>,
    /// Street code.
    pub street: Option<String>,
    /// Stages, comma-separated (reported, accepted, verified, opened, dispatched, disposed,
    /// checked, closed, rejected, on_hold, void), or `open` for every stage not finished.
    pub stage: Option<String>,
    /// The department dispatched to.
    pub department: Option<String>,
    /// 1: only supervised (督办) cases.
    pub supervised: Option<String>,
    /// 1: only cases past the due time of their stage and not finished.
    pub overdue: Option<String>,
    /// Category codes, comma-separated (at most 100).
    pub category: Option<String>,
    /// Reported at or after: an RFC 3339 time, or a date (its midnight in the district's time zone).
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub from: Option<String>,
    /// Reported before: an RFC 3339 time, or a date (its midnight in the district's time zone).
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub to: Option<String>,
    /// Page size (default 50, at most 1000).
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
    /// Skip this many.
    #[param(value_type = Option<u64>)]
    pub offset: Option<String>,
}

/// `GET`/`PUT /api/v1/categories`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Categories {
    /// The categories.
    pub items: Vec<Category>,
    /// How many.
    pub total: usize,
}

/// Query of `GET /api/v1/categories`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoriesQuery {
    /// Only categories owned by this grid layer (resident_grid, street_grid, extended_grid).
    pub layer: Option<String>,
    /// The district's items plus this street's own (自选) items.
    pub street: Option<String>,
}

/// The indicators of one street or grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AreaIndicators {
    /// The area's code.
    pub code: String,
    /// Its name in the served generation.
    pub name: Option<String>,
    /// Its indicators.
    #[serde(flatten)]
    pub indicators: Indicators,
}

/// `GET /api/v1/indicators`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsReport {
    /// Start of the period (cases reported at or after), in the district's time zone.
    pub from: chrono::DateTime<chrono::FixedOffset>,
    /// End of the period (reported before).
    pub to: chrono::DateTime<chrono::FixedOffset>,
    /// The instant the states are counted at: `to`, or now if earlier.
    pub as_of: chrono::DateTime<chrono::FixedOffset>,
    /// The street asked for.
    pub street: Option<String>,
    /// The whole district (or the street asked for).
    pub district: Indicators,
    /// Per street.
    pub streets: Vec<AreaIndicators>,
    /// Per grid.
    pub grids: Vec<AreaIndicators>,
    /// The category group asked for.
    pub group: Option<String>,
    /// Per department (the one a case was last dispatched to on the back end; `code` is its
    /// name).
    pub departments: Vec<AreaIndicators>,
    /// Per category group of the task list (`name`: its Chinese name; a category no longer in
    /// the task list is a row of its own, without a name).
    pub groups: Vec<AreaIndicators>,
}

/// One person's row of `GET /api/v1/indicators/persons`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonIndicatorsRow {
    /// The person (the `by` of their events).
    pub person: String,
    /// Their indicators.
    #[serde(flatten)]
    pub indicators: crate::cases::indicators::PersonIndicators,
}

/// `GET /api/v1/indicators/persons`: per person, over the steps they took themselves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonsReport {
    /// Start of the period.
    pub from: chrono::DateTime<chrono::FixedOffset>,
    /// End of the period.
    pub to: chrono::DateTime<chrono::FixedOffset>,
    /// The instant the states are counted at.
    pub as_of: chrono::DateTime<chrono::FixedOffset>,
    /// The street asked for.
    pub street: Option<String>,
    /// The category group asked for.
    pub group: Option<String>,
    /// One row per person.
    pub persons: Vec<PersonIndicatorsRow>,
}

/// Query of `GET /api/v1/indicators`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorsQuery {
    /// Only this street (and its grids).
    pub street: Option<String>,
    /// Cases reported at or after (RFC 3339, or a date in the district's time zone); default 30
    /// days before `to`.
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub from: Option<String>,
    /// Cases reported before (RFC 3339, or a date: midnight starting it); default now.
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub to: Option<String>,
    /// The moment the cases are counted as they stood at (RFC 3339, or a date): default `to`,
    /// or now if earlier; not in the future, not before `from`.
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub as_of: Option<String>,
    /// Only the categories of this group of the task list.
    pub group: Option<String>,
    /// The breakdowns, comma-separated: `street`, `grid`, `department`, `group` (default all).
    pub by: Option<String>,
}

/// Query of `GET /api/v1/indicators.csv` and `.xlsx`: that of `GET /api/v1/indicators`, and the
/// table.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorsExportQuery {
    /// Only this street (and its grids).
    pub street: Option<String>,
    /// Cases reported at or after (RFC 3339, or a date); default 30 days before `to`.
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub from: Option<String>,
    /// Cases reported before; default now.
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub to: Option<String>,
    /// The moment the cases are counted as they stood at; default `to`, or now if earlier.
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub as_of: Option<String>,
    /// Only the categories of this group of the task list.
    pub group: Option<String>,
    /// The table: `district`, `street`, `grid`, `department`, `group` (CSV: default `street`;
    /// XLSX: default all, one worksheet each).
    pub table: Option<String>,
}

impl IndicatorsExportQuery {
    /// The report's query (every breakdown) and the table asked for.
    pub fn split(self) -> (IndicatorsQuery, Option<String>) {
        (
            IndicatorsQuery {
                street: self.street,
                from: self.from,
                to: self.to,
                as_of: self.as_of,
                group: self.group,
                by: None,
            },
            self.table,
        )
    }
}

/// Query of `GET /api/v1/queue`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// The street (required unless the token is scoped to exactly one street).
    pub street: Option<String>,
    /// Page size (default 50, at most 1000).
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
    /// Skip this many.
    #[param(value_type = Option<u64>)]
    pub offset: Option<String>,
}

/// A case waiting in a street's queue, with the grids nearest to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueuedCase {
    /// The case.
    pub case: CaseView,
    /// The nearest grids of the street, nearest first (at most 3).
    pub suggestions: Vec<crate::routing::Candidate>,
}

/// `GET /api/v1/queue`: a street's cases the routing could not give a grid, waiting for manual
/// dispatch, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    /// The street.
    pub street: String,
    /// The page.
    pub items: Vec<QueuedCase>,
    /// Cases waiting.
    pub total: i64,
    /// Page size.
    pub limit: usize,
    /// Skipped.
    pub offset: usize,
}

/// `GET`/`PUT /api/v1/calendar`: the working calendar the stage limits are counted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarView {
    /// Whether it is the example calendar shipped with gridatlas (none was loaded).
    pub example: bool,
    /// The calendar file.
    #[schema(value_type = Object)]
    pub calendar: serde_json::Value,
}

/// Query of `GET /api/v1/ranking`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// street (default) | grid | department.
    #[param(value_type = Option<crate::cases::scoring::AssessedKind>)]
    pub kind: Option<String>,
    /// Only this street's grids (kind grid).
    pub street: Option<String>,
    /// Cases reported at or after (RFC 3339, or a date); default 30 days before `to`.
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub from: Option<String>,
    /// Cases reported before; default now.
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub to: Option<String>,
    /// The moment the cases are counted as they stood at; default `to`, or now if earlier.
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub as_of: Option<String>,
    /// A closed quality review (its id) whose per-street results are the streets'
    /// `review_score` (kind `street` only).
    pub review: Option<String>,
}

/// `GET /api/v1/ranking`: the ranked table of a period under the scoring scheme in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ranking {
    /// What is ranked.
    pub kind: crate::cases::scoring::AssessedKind,
    /// Start of the period.
    pub from: chrono::DateTime<chrono::FixedOffset>,
    /// End of the period.
    pub to: chrono::DateTime<chrono::FixedOffset>,
    /// The instant the states are counted at.
    pub as_of: chrono::DateTime<chrono::FixedOffset>,
    /// Whether the scheme is the example shipped with gridatlas.
    pub example_scheme: bool,
    /// The quality review whose results are the streets' `review_score`.
    pub review: Option<i64>,
    /// The rows, best first.
    pub items: Vec<crate::cases::scoring::Ranked>,
}

/// `GET`/`PUT /api/v1/scoring`: the scoring scheme in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringView {
    /// Whether it is the example shipped with gridatlas (none was loaded).
    pub example: bool,
    /// The scheme.
    pub scheme: crate::cases::scoring::Scheme,
}

pub use crate::cases::photos::PhotoKind;

/// A photo of a case (`GET /api/v1/cases/{id}/photos…`): what is known of it and where its
/// bytes are served. The served photo carries no metadata (no EXIF, GPS, XMP or comments).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PhotoView {
    /// Photo id (within the case).
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// What it shows: report, before or after.
    pub kind: PhotoKind,
    /// `image/jpeg` or `image/png` (sniffed from the bytes).
    pub content_type: String,
    /// Size of the served photo, bytes.
    pub bytes: i64,
    /// Width as shown, pixels.
    pub width: u32,
    /// Height as shown, pixels.
    pub height: u32,
    /// When the photo was taken, as the camera recorded it (EXIF `DateTimeOriginal`: local time,
    /// with the offset when the camera recorded one); absent when it did not.
    pub taken_at: Option<String>,
    /// When it was uploaded.
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
    /// Who uploaded it.
    pub uploaded_by: String,
    /// The photo (`GET`, the roles that may see the case).
    pub url: String,
    /// Its thumbnail: JPEG, longest side at most 320 pixels.
    pub thumb_url: String,
}

impl PhotoView {
    /// The view of a stored photo.
    pub fn of(p: &crate::cases::photos::Photo) -> PhotoView {
        let url = format!("/api/v1/cases/{}/photos/{}", p.case_id, p.id);
        PhotoView {
            id: p.id,
            case_id: p.case_id,
            kind: p.kind,
            content_type: p.content_type.clone(),
            bytes: p.bytes,
            width: p.width,
            height: p.height,
            taken_at: p.taken_at.clone(),
            uploaded_at: p.uploaded_at,
            uploaded_by: p.uploaded_by.clone(),
            thumb_url: format!("{url}/thumb"),
            url,
        }
    }
}

/// The photos of a case, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PhotoList {
    /// The photos.
    pub photos: Vec<PhotoView>,
    /// The most a case may have.
    pub limit: usize,
}

/// The form of `POST /api/v1/cases/{id}/photos` (`multipart/form-data`).
#[derive(Debug, Clone, ToSchema)]
#[allow(dead_code)]
pub struct PhotoUpload {
    /// What it shows: report, before or after.
    pub kind: PhotoKind,
    /// The photo: JPEG or PNG (the format is read from the bytes); HEIC/HEIF, AVIF, WebP, GIF
    /// and others are refused (415, naming the format and what to do).
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    pub photo: Vec<u8>,
}
