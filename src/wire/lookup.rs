//! The shapes of `GET /api/v1/lookup` (a [`Placement`]) and `POST /api/v1/lookup` (a
//! [`BatchRequest`] answered by a [`BatchResponse`], or NDJSON lines answered by
//! [`NdjsonLine`]s; an answered line is a [`CompactPlacement`] with its `line`).
//!
//! These answers are rendered by hand from pre-rendered fragments (`atlas::json`), not from these
//! types: the types document them, and `tests/wire_lookup.rs` checks that real answers
//! deserialise into them (unknown members refused) and re-serialise to the same JSON.

use super::{Kind, Layer, ManagementUnit, Person};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The query of `GET /api/v1/lookup`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// Longitude in `crs`, in [-180, 180].
    #[param(value_type = f64, required = true, minimum = -180.0, maximum = 180.0)]
    pub lon: Option<String>,
    /// Latitude in `crs`, in [-90, 90].
    #[param(value_type = f64, required = true, minimum = -90.0, maximum = 90.0)]
    pub lat: Option<String>,
    /// Coordinate system of `lon`/`lat` (default wgs84; also accepted: epsg:4326, 4326,
    /// epsg:4490, 4490, gcj-02, bd-09, any case).
    #[param(value_type = Option<CrsName>)]
    pub crs: Option<String>,
    /// A generation number, or an RFC 3339 time (the generation in force then); default: the
    /// current one.
    #[param(value_type = Option<String>)]
    pub at: Option<String>,
}

/// The query of `POST /api/v1/lookup` (NDJSON only: the default CRS of the lines).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// Default coordinate system of NDJSON lines (JSON batches name theirs in the body).
    #[param(value_type = Option<CrsName>)]
    pub crs: Option<String>,
}

/// A coordinate system of input points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CrsName {
    /// WGS84 (EPSG:4326), the stored system.
    Wgs84,
    /// CGCS2000 (EPSG:4490), treated as WGS84.
    Cgcs2000,
    /// GCJ-02 (Amap, Tencent, WeChat).
    Gcj02,
    /// BD-09 (Baidu).
    Bd09,
}

/// Why a placement is not a plain "inside a block" answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fallback {
    /// In a gap: the nearest area within the snapping distance.
    Nearest,
    /// Inside a grid but no block.
    Grid,
    /// Inside a street but no grid.
    Street,
    /// Inside the district only.
    District,
    /// Outside the territory.
    Outside,
}

/// An area of a placement (district, street, grid or block).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementArea {
    /// Code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Layer.
    #[schema(value_type = Layer)]
    pub layer: Layer,
    /// Kind (absent when the layer has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Kind>)]
    pub kind: Option<Kind>,
    /// People responsible (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<Person>,
    /// Every other property of the area, as given (absent when none).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// A road segment near the point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoadSegmentNear {
    /// Code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Distance from the point, metres (centimetre precision).
    pub distance_m: f64,
}

/// The point as asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupInput {
    /// Longitude as given.
    pub lon: f64,
    /// Latitude as given.
    pub lat: f64,
    /// Coordinate system of the input.
    pub crs: CrsName,
}

/// Who owns a point: the answer of `GET /api/v1/lookup`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// Longitude of the point in WGS84.
    pub lon: f64,
    /// Latitude of the point in WGS84.
    pub lat: f64,
    /// The district (null outside it).
    pub district: Option<PlacementArea>,
    /// The street (街镇).
    pub street: Option<PlacementArea>,
    /// The grid (居村 / 街面 / 拓展网格).
    pub grid: Option<PlacementArea>,
    /// The responsibility block (责任块).
    pub block: Option<PlacementArea>,
    /// The block's head (责任块长), null when there is no block or no head.
    pub block_head: Option<Person>,
    /// The management units serving the grid.
    pub management_units: Vec<ManagementUnit>,
    /// Road segments near the point, nearest first.
    pub road_segments: Vec<RoadSegmentNear>,
    /// Null for a point inside a block; otherwise why not.
    pub fallback: Option<Fallback>,
    /// Distance to the area of a `nearest` fallback, metres; null otherwise.
    pub distance_m: Option<f64>,
    /// The generation answering (null when serving a file).
    pub generation: Option<i64>,
    /// The point as asked for.
    pub input: LookupInput,
    /// The point in GCJ-02, `[lon, lat]` (for Amap / Tencent maps).
    pub gcj02: [f64; 2],
}

/// A JSON batch: `POST /api/v1/lookup` with `Content-Type: application/json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Coordinate system of the points (default wgs84; aliases as for `GET`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<CrsName>)]
    pub crs: Option<String>,
    /// The points, `[lon, lat]` each (at most the server's batch limit, 100 000 by default).
    pub points: Vec<[f64; 2]>,
}

/// The compact placement of one point of a batch (JSON), or of one NDJSON line (with `line`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompactPlacement {
    /// Line number of the input, 1-based (NDJSON answers only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Street code.
    pub street: Option<String>,
    /// Grid code.
    pub grid: Option<String>,
    /// Layer of the grid.
    #[schema(value_type = Option<Layer>)]
    pub grid_layer: Option<Layer>,
    /// Block code.
    pub block: Option<String>,
    /// Name of the block head.
    pub block_head: Option<String>,
    /// Code of the nearest road segment.
    pub road_segment: Option<String>,
    /// As in the placement.
    pub fallback: Option<Fallback>,
    /// As in the placement.
    pub distance_m: Option<f64>,
    /// Longitude in WGS84.
    pub lon: f64,
    /// Latitude in WGS84.
    pub lat: f64,
}

/// A point of a batch that could not be placed (out of range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchPointError {
    /// Index of the point in `points`.
    pub index: usize,
    /// What is wrong with it.
    pub error: String,
}

/// One result of a JSON batch, in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BatchItem {
    /// The point's placement.
    Placed(CompactPlacement),
    /// The point's error.
    Failed(BatchPointError),
}

/// The answer to a JSON batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchResponse {
    /// The generation answering (null when serving a file).
    pub generation: Option<i64>,
    /// Coordinate system of the input points.
    pub crs: CrsName,
    /// Number of points.
    pub count: usize,
    /// One result per point, in input order.
    pub results: Vec<BatchItem>,
}

/// An NDJSON line that could not be answered (not a point, out of range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NdjsonLineError {
    /// Line number of the input (1-based).
    pub line: usize,
    /// What is wrong with it.
    pub error: String,
}

/// The last line of a stream cut short (a limit, the request timeout, the body cut).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NdjsonStreamEnd {
    /// What ended the stream.
    pub error: String,
    /// The HTTP status the problem would have had.
    pub status: u16,
    /// The first line not answered.
    pub line: usize,
}

/// One line of the NDJSON answer of `POST /api/v1/lookup`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NdjsonLine {
    /// An answered line (with `line`).
    Placed(CompactPlacement),
    /// A line that could not be answered.
    Failed(NdjsonLineError),
    /// The end of a stream cut short.
    End(NdjsonStreamEnd),
}
