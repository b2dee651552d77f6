//! Exporting a feature set as a Shapefile (.zip) or a GeoPackage, in longitude/latitude or any
//! [`FileCrs`] of the catalogue (docs/formats.md, "Export").
//!
//! 1. One table per layer that has features (`district`, `street`, `resident_grid`, …), named
//!    after the layer; areas are MultiPolygons (Shapefile: Polygon), road segments
//!    MultiLineStrings (Shapefile: PolyLine).
//! 2. Columns ([`table`]): `layer`, `code`, `name`, `parent` and `kind` (when any feature of
//!    the layer has one), the people, then the attributes in first-seen order. A GeoPackage
//!    keeps the people as one JSON text column `people` and the attributes under their own
//!    names; a Shapefile splits the people into `p1_role`, `p1_name`, `p1_tel`, `p1_photo`,
//!    `p1_staff`, `p2_…` and shortens attribute names to DBF's 10 bytes.
//! 3. Nothing is truncated or guessed: a text longer than a DBF field (254 bytes), a character
//!    GBK cannot write, or a coordinate the system cannot take is an [`ExportError`] naming the
//!    layer, the feature's code and the property.
//! 4. Management units (no geometry) go into the GeoPackage as the attributes table
//!    `management_units`; the Shapefile export leaves them out (GeoJSON keeps them).
//! 5. Validation findings ([`findings`]): one table per dimension of their locations, and one
//!    for the findings without a location.

pub mod findings;
pub mod gpkg;
pub mod shapefile;
pub mod table;

use super::crs::FileCrs;
pub use super::dbf_write::Encoding;
use crate::model::{Feature, Geometry, Layer};
use thiserror::Error;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// A GeoJSON FeatureCollection in longitude/latitude (docs/geojson-format.md).
    GeoJson,
    /// A .zip of Shapefiles, one per layer.
    Shapefile,
    /// A GeoPackage, one table per layer.
    GeoPackage,
}

impl Format {
    /// Parses `geojson`, `shapefile` (or `shp`), `gpkg` (or `geopackage`).
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "geojson" => Some(Format::GeoJson),
            "shapefile" | "shp" => Some(Format::Shapefile),
            "gpkg" | "geopackage" => Some(Format::GeoPackage),
            _ => None,
        }
    }

    /// The media type of the output.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::GeoJson => "application/geo+json",
            Format::Shapefile => "application/zip",
            Format::GeoPackage => "application/geopackage+sqlite3",
        }
    }

    /// The file name extension of the output.
    pub fn extension(self) -> &'static str {
        match self {
            Format::GeoJson => "geojson",
            Format::Shapefile => "zip",
            Format::GeoPackage => "gpkg",
        }
    }
}

/// How to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The coordinate system of the output (GeoJSON is always longitude/latitude).
    pub crs: FileCrs,
    /// The DBF text encoding (Shapefile only; a GeoPackage is UTF-8).
    pub encoding: Encoding,
}

impl Default for Options {
    /// CGCS2000 longitude/latitude (EPSG:4490), GBK.
    fn default() -> Self {
        Options {
            crs: FileCrs::CGCS2000,
            encoding: Encoding::Gbk,
        }
    }
}

/// Why an export failed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ExportError {
    /// A feature's value or geometry the format or system cannot take.
    #[error("{layer} feature {code:?}, {property}: {message}")]
    Feature {
        /// Layer.
        layer: Layer,
        /// Code.
        code: String,
        /// The property (`name`, `people[0].phone`, an attribute, `geometry`).
        property: String,
        /// What is wrong, and what to do.
        message: String,
    },
    /// A validation finding's value or location the format or system cannot take.
    #[error("finding {index} ({rule}), {property}: {message}")]
    Finding {
        /// Index of the finding in the list exported (0-based, report order).
        index: usize,
        /// Its rule.
        rule: String,
        /// The member (`message.zh`, `codes`, `location`, …).
        property: String,
        /// What is wrong, and what to do.
        message: String,
    },
    /// A layer's table as a whole (too many columns, a name that cannot be written).
    #[error("{table}: {message}")]
    Table {
        /// Table (layer) name.
        table: String,
        /// What is wrong.
        message: String,
    },
    /// Writing the output.
    #[error("writing the export: {0}")]
    Io(String),
}

/// A shape in output coordinates: polygons (outer ring then holes) or lines.
pub(crate) fn project(f: &Feature, crs: FileCrs) -> Result<super::shp_write::Shape, ExportError> {
    use super::shp_write::Shape;
    let mut failure = None;
    let mut pt = |c: &geo::Coord<f64>| -> (f64, f64) {
        match crs.from_lon_lat(c.x, c.y) {
            Ok(p) => p,
            Err(e) => {
                failure.get_or_insert_with(|| {
                    format!("({}, {}) cannot be written in {crs}: {e}", c.x, c.y)
                });
                (f64::NAN, f64::NAN)
            }
        }
    };
    let shape = match &f.geometry {
        Geometry::Area(mp) => Shape::Polygons(
            mp.0.iter()
                .map(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(|r| r.0.iter().map(&mut pt).collect())
                        .collect()
                })
                .collect(),
        ),
        Geometry::Line(ml) => Shape::Lines(
            ml.0.iter()
                .map(|l| l.0.iter().map(&mut pt).collect())
                .collect(),
        ),
    };
    match failure {
        Some(message) => Err(ExportError::Feature {
            layer: f.layer,
            code: f.code.clone(),
            property: "geometry".into(),
            message,
        }),
        None => Ok(shape),
    }
}
