//! The shapes of `GET /api/v1/areas` (search), `/areas/{code}` (one area) and
//! `/areas/{code}/children`.

use super::{GeoJsonGeometry, Kind, Layer, ManagementUnit, Person};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

/// The query of `GET /api/v1/areas`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AreaSearchQuery {
    /// Code prefix or part of the name (Chinese included).
    pub q: Option<String>,
    /// Only areas of this layer.
    #[param(value_type = Option<Layer>)]
    pub layer: Option<String>,
    /// Only children of this parent code.
    pub parent: Option<String>,
    /// Page size (default 50, at most 1000).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 1000)]
    pub limit: Option<String>,
    /// Items to skip (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    pub offset: Option<String>,
    /// Include each area's GeoJSON geometry (`true`/`1`; default `false`/`0`).
    #[param(value_type = Option<bool>)]
    pub geometry: Option<String>,
}

/// The query of `GET /api/v1/areas/{code}` and `/areas/{code}/children`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GeometryQuery {
    /// Include the GeoJSON geometry (`true`/`1`; default `false`/`0`).
    #[param(value_type = Option<bool>)]
    pub geometry: Option<String>,
}

/// An area in a list (search results, children).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaSummary {
    /// Code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Layer.
    #[schema(value_type = Layer)]
    pub layer: Layer,
    /// Kind, null when the layer has none.
    #[schema(value_type = Option<Kind>)]
    pub kind: Option<Kind>,
    /// Parent code (null for the district).
    pub parent: Option<String>,
    /// Bounding box, null for an empty geometry.
    pub bbox: Option<[f64; 4]>,
    /// People responsible (children lists only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<Vec<Person>>,
    /// The geometry (with `geometry=1` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<GeoJsonGeometry>)]
    pub geometry: Option<geojson::Geometry>,
}

/// A page of search results: `GET /api/v1/areas`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaPage {
    /// The areas of this page.
    pub items: Vec<AreaSummary>,
    /// Number of areas matching, over all pages.
    pub total: usize,
    /// Page size.
    pub limit: usize,
    /// Areas skipped.
    pub offset: usize,
    /// The generation answering (null when serving a file).
    pub generation: Option<i64>,
}

/// The children of an area, in file order: `GET /api/v1/areas/{code}/children`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaChildren {
    /// The children, each with its `people`.
    pub items: Vec<AreaSummary>,
    /// Number of children.
    pub total: usize,
    /// The generation answering (null when serving a file).
    pub generation: Option<i64>,
}

/// An ancestor of an area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaRef {
    /// Code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Layer.
    #[schema(value_type = Layer)]
    pub layer: Layer,
}

/// One area: `GET /api/v1/areas/{code}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AreaDetail {
    /// Code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Layer.
    #[schema(value_type = Layer)]
    pub layer: Layer,
    /// Kind, null when the layer has none.
    #[schema(value_type = Option<Kind>)]
    pub kind: Option<Kind>,
    /// Parent code (null for the district).
    pub parent: Option<String>,
    /// Ancestors, nearest first.
    pub parents: Vec<AreaRef>,
    /// Number of children per layer.
    pub children: BTreeMap<String, usize>,
    /// People responsible.
    pub people: Vec<Person>,
    /// Management units serving the area (grids only; empty otherwise).
    pub management_units: Vec<ManagementUnit>,
    /// Every other property, as given.
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Bounding box, null for an empty geometry.
    pub bbox: Option<[f64; 4]>,
    /// Area in square metres (rounded), null for road segments.
    pub area_m2: Option<f64>,
    /// Length in metres (geodesic, rounded to the decimetre) of a road segment, null for areas.
    pub length_m: Option<f64>,
    /// The generation answering (null when serving a file).
    pub generation: Option<i64>,
    /// The geometry (with `geometry=1` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<GeoJsonGeometry>)]
    pub geometry: Option<geojson::Geometry>,
}
