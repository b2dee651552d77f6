//! The GeoJSON feature format (docs/geojson-format.md): reading (streaming, every problem
//! reported with feature index, code and JSON path) and writing.
//!
//! 1. [`read()`] parses a FeatureCollection one feature at a time, checks each feature on its own
//!    (properties, coordinates, rings, geometry type per layer), then checks codes and parents
//!    across features, and returns a [`crate::model::FeatureSet`] or every [`Problem`] found.
//!    [`read_slice`] does the same from memory; the `_with` variants take [`ReadOptions`] (size
//!    limits for untrusted input).
//! 2. [`write()`] writes a feature set back; reading what it wrote gives an identical set.
//!
//! The coordinate systems of other formats: [`crs::FileCrs`] (the systems taken, EPSG codes,
//! conversion to and from longitude/latitude) and [`prj`] (a Shapefile `.prj`'s system,
//! identified by its parameters) — see docs/formats.md. The other formats read through
//! [`source`] (the dispatch): [`shp`], [`gpkg`] (with [`wkb`]) and [`csv_read`] (with [`wkt`]).
//!
//! Export to other formats: [`export`] (a .zip of Shapefiles, a GeoPackage, in any `FileCrs`),
//! built on [`shp_write`] (`.shp`/`.shx`), [`dbf_write`] (dBASE III in GBK or UTF-8) and
//! [`prj_write`] (the `.prj` as ESRI/GDAL write it).

pub mod archive;
pub mod crs;
pub mod csv_read;
pub mod dbf;
pub mod dbf_write;
pub mod export;
pub mod gpkg;
pub mod inspect;
pub mod mapping;
pub mod prj;
pub mod prj_write;
pub mod read;
pub mod shp;
pub mod shp_write;
pub mod source;
pub mod wkb;
pub mod wkt;
pub mod write;

pub use read::{
    Problem, ReadError, ReadOptions, read, read_path, read_path_with, read_slice, read_slice_with,
    read_with,
};
pub use write::{feature_to_json, write, write_path};
