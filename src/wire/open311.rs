//! The JSON shapes of Open311 GeoReport v2 (`/open311/v2/…`, <https://wiki.open311.org/GeoReport_v2/>).
//!
//! The handlers build these records and render them as JSON (an array of records, as the spec
//! says) or as XML (the same members as elements), so both formats carry the same fields. Open311
//! is outside the OpenAPI document (it has its own specification); the types are still
//! `ToSchema` for clients that want them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A service (a case category): an element of `services.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// The category code.
    pub service_code: String,
    /// Chinese name.
    pub service_name: String,
    /// English name, group and layer.
    pub description: String,
    /// Always false: no extra attributes.
    pub metadata: bool,
    /// Always `realtime`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Group (Chinese and English) and layer, comma-separated.
    pub keywords: String,
    /// Group (Chinese).
    pub group: String,
}

/// A service definition: `services/{code}.json` (no extra attributes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDefinition {
    /// The category code.
    pub service_code: String,
    /// Always empty.
    #[schema(value_type = Vec<Object>)]
    pub attributes: Vec<serde_json::Value>,
}

/// A service request (a case): an element of `requests.json` and `requests/{id}.json`. What a
/// public read may not see is null (description, media URL) or rounded (lat, long to 0.001°).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    /// The case id.
    pub service_request_id: String,
    /// `open` or `closed`.
    pub status: String,
    /// Where the case stands, in words.
    pub status_notes: String,
    /// Chinese name of the category (null for an unknown category).
    pub service_name: Option<String>,
    /// The category code.
    pub service_code: String,
    /// The description (null when not visible).
    pub description: Option<String>,
    /// The grid, or the street's sub-centre.
    pub agency_responsible: Option<String>,
    /// Always null.
    pub service_notice: Option<String>,
    /// When reported (RFC 3339, local offset).
    pub requested_datetime: String,
    /// Last change (RFC 3339, local offset).
    pub updated_datetime: String,
    /// Due (RFC 3339).
    pub expected_datetime: String,
    /// The block's or grid's name.
    pub address: Option<String>,
    /// The block's code.
    pub address_id: Option<String>,
    /// Always null.
    pub zipcode: Option<String>,
    /// Latitude (WGS84).
    pub lat: f64,
    /// Longitude (WGS84).
    pub long: f64,
    /// The first photo (null when none or not visible).
    pub media_url: Option<String>,
}

/// The answer to a posted request: an element of `requests.json` (POST).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostedRequest {
    /// The new case id.
    pub service_request_id: String,
    /// Where it was routed and by when, in words.
    pub service_notice: String,
    /// The `account_id` posted, if any.
    pub account_id: Option<String>,
    /// Extension: the reporter's feedback secret (回访), shown once: the verdict on the closed
    /// case is posted with it to `/api/v1/cases/{service_request_id}/feedback`.
    pub feedback_secret: String,
}

/// An Open311 error: an element of the error array.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Open311Error {
    /// The HTTP status.
    pub code: u16,
    /// What is wrong.
    pub description: String,
}
