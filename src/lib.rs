//! gridatlas: the boundary backbone of urban grid management (网格化管理).
//!
//! Pipeline: GeoJSON ([`geo_io`]) → [`model::FeatureSet`] → validation → stored generation →
//! [`atlas::Atlas`] (in-memory index) → lookups. [`synth`] generates a realistic demo district.
//! See docs/architecture.md for the whole picture.

pub mod assets;
pub mod atlas;
pub mod calendar;
pub mod cases;
pub mod cli;
pub mod field;
pub mod geo_io;
pub mod geometry;
pub mod http;
pub mod model;
pub mod routing;
pub mod service;
pub mod store;
pub mod synth;
pub mod validate;
pub mod wire;
