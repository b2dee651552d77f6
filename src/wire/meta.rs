//! The shapes of `GET /api/v1/config` (what the web map needs to start) and `GET /readyz`.
//! (`/healthz` answers `ok` as text/plain, `/metrics` Prometheus text.)

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The district served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DistrictRef {
    /// Code.
    pub code: String,
    /// Display name.
    pub name: String,
}

/// `GET /api/v1/config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The district (null when the territory has none).
    pub district: Option<DistrictRef>,
    /// Bounding box of the territory (null when empty).
    pub bbox: Option<[f64; 4]>,
    /// Centre of the bounding box, `[lon, lat]`.
    pub center: Option<[f64; 2]>,
    /// URL template of the basemap raster tiles, if configured.
    pub basemap_url: Option<String>,
    /// The generation served (null when serving a file).
    pub generation: Option<i64>,
    /// Whether reads need no token.
    pub public_reads: bool,
    /// Whether drafts, publishing and cases are possible (false when serving a file).
    pub writable: bool,
}

/// `GET /readyz`: whether an atlas is loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Readiness {
    /// Whether lookups are answered.
    pub ready: bool,
    /// The generation served (ready only; null when serving a file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// Number of features (ready only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<usize>,
    /// Why not ready (not ready only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /api/v1/tokens/self`: the token of the request — its role and scope — and what only some
/// roles may do, so that a page shows a control only to a token that may use it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenSelf {
    /// The token's id.
    pub id: i64,
    /// Its role (`admin`, `planner`, `intake`, `dispatcher`, `department`, `grid_worker`,
    /// `supervisor`, `reviewer`).
    pub role: String,
    /// The streets it acts on (`*`: every street; an admin's scope is everything).
    pub streets: Vec<String>,
    /// The grids a grid worker acts for.
    pub grids: Vec<String>,
    /// The department or management unit a department token acts for.
    pub department: Option<String>,
    /// The person holding it.
    pub subject: Option<String>,
    /// When it stops working (null: never).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether it may publish a draft over validation errors (with an `override_reason`): admins only.
    pub may_publish_over_errors: bool,
    /// Whether it may upload and publish drafts (for its streets): planners and admins.
    pub may_publish: bool,
}
