//! Cases, categories and indicators on the wire: `/api/v1/categories`, `/api/v1/cases…`,
//! `/api/v1/indicators`. Requests are read as given (every field checked by the service, errors
//! naming the field); responses are the domain's own data types ([`Case`], [`Category`],
//! [`Indicators`], which carry their OpenAPI schema) in the lists and pages of the API.

pub use crate::cases::indicators::Indicators;
pub use crate::cases::{Case, Event};
pub use crate::routing::Assignment;
pub use crate::routing::categories::Category;
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
    /// The address as the reporter gave it (Open311 `address_string`, at most 500 characters);
    /// appended to the description. Not part of the native API.
    #[serde(skip)]
    pub address: Option<String>,
}

/// A status change of a case.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// resolved_front_end | escalated_back_end | closed.
    pub status: String,
    /// Who did it (a person's name, at most 100 characters); the token is recorded too.
    #[serde(default)]
    pub by: Option<String>,
    /// The department taking over (escalated_back_end; at most 100 characters).
    #[serde(default)]
    pub department: Option<String>,
    /// A note (at most 1,000 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// When (RFC 3339); default now. Not before the case's latest event, at most 5 minutes ahead
    /// of the server's clock.
    #[serde(default)]
    pub at: Option<String>,
}

/// A case as the API shows it: the stored case (with its assignment and events; the reporter's
/// contact details are never shown) and whether it is overdue now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// Past due and not done.
    pub overdue: bool,
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

/// Query of `GET /api/v1/cases`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseListQuery {
    /// Grid code.
    pub grid: Option<String>,
    /// Street code.
    pub street: Option<String>,
    /// assigned | resolved_front_end | escalated_back_end | closed.
    pub status: Option<String>,
    /// 1: only cases past due and not done.
    pub overdue: Option<String>,
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
}

/// Query of `GET /api/v1/indicators`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorsQuery {
    /// Only this street (and its grids).
    pub street: Option<String>,
    /// Cases reported at or after (RFC 3339, or a date in the district's time zone); default 30
    /// days before `to`.
    pub from: Option<String>,
    /// Cases reported before (RFC 3339, or a date: midnight starting it); default now.
    pub to: Option<String>,
}
