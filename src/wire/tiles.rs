//! The shape of `GET /api/v1/tiles.json`: TileJSON 3.0.0 (the subset gridatlas writes).
//! (The tiles themselves are Mapbox Vector Tiles, binary.)

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A vector layer of the tiles (one per gridatlas layer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorLayer {
    /// Layer id (a gridatlas layer).
    pub id: String,
    /// Chinese name of the layer.
    pub description: String,
    /// Lowest zoom with features of this layer.
    pub minzoom: u8,
    /// Highest zoom.
    pub maxzoom: u8,
    /// Feature properties and their types (`String`).
    pub fields: BTreeMap<String, String>,
}

/// TileJSON 3.0.0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TileJson {
    /// `3.0.0`.
    pub tilejson: String,
    /// `gridatlas`.
    pub name: String,
    /// The generation number as a string (`0` when serving a file).
    pub version: String,
    /// `xyz`.
    pub scheme: String,
    /// URL templates of the tiles.
    pub tiles: Vec<String>,
    /// Lowest zoom.
    pub minzoom: u8,
    /// Highest zoom.
    pub maxzoom: u8,
    /// `[min_lon, min_lat, max_lon, max_lat]` of the territory.
    pub bounds: [f64; 4],
    /// `[lon, lat, zoom]` to start at.
    pub center: [f64; 3],
    /// One per gridatlas layer.
    pub vector_layers: Vec<VectorLayer>,
}
