//! Reading any taken format into a feature set — the one place the format is dispatched (the
//! CLI and the upload API both call here). See docs/formats.md.
//!
//! 1. [`Format`]: by the `--format` flag / query parameter, else the content type, else the
//!    file extension (`.geojson`/`.json`, `.zip` or `.shp` for Shapefile, `.gpkg`, `.csv`).
//! 2. GeoJSON goes to the streaming reader unchanged. The table formats are read into
//!    [`Table`]s (rows of column values and a GeoJSON geometry already in longitude/latitude)
//!    by [`super::shp`], [`super::gpkg`] (one table per feature table) or [`super::csv_read`];
//!    a problem of the files themselves (a missing or wrong `.prj` or srs_id, the encoding, a
//!    truncated `.shp` or `.gpkg`, bad WKT, mixed geometry) is located by file, layer, record
//!    (`record`, `feature` or `line`) and field and stops there.
//! 3. Each table's columns are matched with the [`ColumnMapping`] (the standard names by
//!    default; without them the problem lists the columns found), each row becomes a GeoJSON
//!    Feature value and all of them go through the GeoJSON reader's checks
//!    (`read::read_feature_values`); its problems are relocated from `features[i].properties.code`
//!    to `grids.shp record 12, field 网格编码`.
//! 4. [`super::inspect`]: the file layers, their columns and the first rows, for the map's
//!    mapping step (over the same [`Table`]s, with what each reader tells in [`TableInfo`]).

use super::crs::FileCrs;
use super::dbf::{DbfEncoding, EncodingSource};
use super::mapping::{ColumnMapping, Resolved};
use super::read::{self, Problem, ReadError, ReadOptions};
use super::{archive, csv_read, gpkg, shp};
use crate::geometry::crs::Crs;
use crate::model::FeatureSet;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A file format taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The GeoJSON feature format (docs/geojson-format.md).
    GeoJson,
    /// A Shapefile: a zip with one or more `.shp` and their `.dbf`, `.prj`, `.cpg`, or a `.shp`
    /// path with the others beside it.
    Shapefile,
    /// A GeoPackage: each feature table a file layer.
    #[serde(rename = "gpkg")]
    GeoPackage,
    /// A CSV table with a WKT column or longitude/latitude columns.
    Csv,
}

impl Format {
    /// By name (`geojson`, `shapefile`/`shp`, `gpkg`/`geopackage`, `csv`).
    pub fn from_name(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "geojson" | "json" => Some(Format::GeoJson),
            "shapefile" | "shp" | "zip" => Some(Format::Shapefile),
            "gpkg" | "geopackage" => Some(Format::GeoPackage),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// By a file name's extension.
    pub fn from_extension(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "geojson" | "json" => Some(Format::GeoJson),
            "zip" | "shp" => Some(Format::Shapefile),
            "gpkg" => Some(Format::GeoPackage),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// By a content type (parameters ignored).
    pub fn from_content_type(ct: &str) -> Option<Format> {
        let ct = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match ct.as_str() {
            "application/geo+json" | "application/json" => Some(Format::GeoJson),
            "application/zip" | "application/x-zip-compressed" | "application/x-shapefile" => {
                Some(Format::Shapefile)
            }
            "application/geopackage+sqlite3"
            | "application/x-sqlite3"
            | "application/vnd.sqlite3" => Some(Format::GeoPackage),
            "text/csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The names taken, for messages.
    pub const NAMES: &'static str = "geojson, shapefile, gpkg or csv";

    /// The content types an upload may have, for messages.
    pub const CONTENT_TYPES: &'static str = "GeoJSON as application/geo+json (or application/json), a zipped Shapefile as application/zip, a GeoPackage as application/geopackage+sqlite3, a CSV as text/csv";
}

/// A system named by `EPSG:n` or `n`.
pub fn parse_crs(s: &str) -> Result<FileCrs, String> {
    let t = s.trim();
    let n = t
        .strip_prefix("EPSG:")
        .or_else(|| t.strip_prefix("epsg:"))
        .unwrap_or(t);
    let code: u32 = n.parse().map_err(|_| {
        format!("{s:?} is not a coordinate system: expected EPSG:n, e.g. EPSG:4528")
    })?;
    FileCrs::from_epsg(code).map_err(|e| e.to_string())
}

/// What a `crs` given with a file says: a system of the catalogue, or longitude/latitude in
/// GCJ-02 or BD-09 (`gcj02`, `bd09`: the web maps' shifted systems, no EPSG code), taken back to
/// WGS84 after reading (`geometry::crs`).
pub fn parse_input_crs(s: &str) -> Result<(FileCrs, Option<Crs>), String> {
    match s.trim().parse::<Crs>() {
        Ok(c @ (Crs::Gcj02 | Crs::Bd09)) => Ok((FileCrs::WGS84, Some(c))),
        _ => parse_crs(s).map(|c| (c, None)).map_err(|e| {
            format!("{e} (or gcj02 or bd09 for longitude/latitude from Chinese web maps)")
        }),
    }
}

/// The reading options as a caller writes them (CLI flags, query parameters), all text.
#[derive(Debug, Clone, Copy, Default)]
pub struct Requested<'a> {
    /// `geojson` or `shapefile`.
    pub format: Option<&'a str>,
    /// The request's content type.
    pub content_type: Option<&'a str>,
    /// The file name (its extension).
    pub file_name: Option<&'a str>,
    /// `EPSG:n`, `gcj02` or `bd09`.
    pub crs: Option<&'a str>,
    /// `utf-8` or `gbk`.
    pub encoding: Option<&'a str>,
    /// The column mapping's JSON.
    pub mapping: Option<&'a str>,
}

impl Requested<'_> {
    /// The format (the one named, else the content type's, else the file name's extension;
    /// `None` when none says) and the options; `Err((parameter, message))`.
    pub fn resolve(&self) -> Result<(Option<Format>, ImportOptions), (&'static str, String)> {
        let format = match self.format {
            Some(f) => Some(Format::from_name(f).ok_or((
                "format",
                format!("{f:?} is not a format taken: expected {}", Format::NAMES),
            ))?),
            None => self
                .content_type
                .and_then(Format::from_content_type)
                .or_else(|| self.file_name.and_then(Format::from_extension)),
        };
        let (crs, shifted) = match self.crs {
            Some(c) => {
                let (crs, shifted) = parse_input_crs(c).map_err(|e| ("crs", e))?;
                (Some(crs), shifted)
            }
            None => (None, None),
        };
        let encoding = match self.encoding {
            Some(e) => Some(
                DbfEncoding::from_name(e)
                    .ok_or(("encoding", format!("{e:?}: expected utf-8 or gbk")))?,
            ),
            None => None,
        };
        let mapping = match self.mapping {
            Some(m) => Some(ColumnMapping::from_json(m).map_err(|e| ("mapping", e))?),
            None => None,
        };
        Ok((
            format,
            ImportOptions {
                crs,
                shifted,
                encoding,
                mapping,
                ..ImportOptions::default()
            },
        ))
    }
}

/// How to read a file beyond the GeoJSON reader's limits.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The GeoJSON reader's limits and known parents (its `max_features` also bounds records).
    pub read: ReadOptions,
    /// The coordinate system, overriding a `.prj`.
    pub crs: Option<FileCrs>,
    /// The longitude/latitude read are GCJ-02 or BD-09 (with `crs` WGS84): every position is
    /// taken back to WGS84 after reading.
    pub shifted: Option<Crs>,
    /// The DBF encoding, overriding a `.cpg`.
    pub encoding: Option<DbfEncoding>,
    /// The column mapping; `None`: the standard names.
    pub mapping: Option<ColumnMapping>,
    /// Most uncompressed bytes read from an archive (0: 1 GiB).
    pub max_archive_bytes: usize,
    /// Read a layer whose coordinate system is unknown (no `.prj`, one not identified) with its
    /// coordinates as they are, the reason in [`TableInfo::crs_unknown`], instead of stopping
    /// ([`super::inspect`] only; [`features`] refuses such a table).
    pub keep_unknown_crs: bool,
}

/// What a reader tells of a table beyond its rows (for [`super::inspect`]); a reader that
/// tells nothing leaves it at the default.
#[derive(Debug, Clone, Default)]
pub struct TableInfo {
    /// The system the coordinates were converted from.
    pub crs: Option<FileCrs>,
    /// Why no system is known (only with [`ImportOptions::keep_unknown_crs`]): the geometry is
    /// then in the file's own coordinates, not longitude/latitude.
    pub crs_unknown: Option<String>,
    /// The text encoding and where it was chosen (a DBF's).
    pub encoding: Option<(DbfEncoding, EncodingSource)>,
    /// The geometry type the file declares (`polygon`, `polyline`, …).
    pub geometry_type: Option<String>,
}

/// The rows of one file layer (a `.shp`, a GeoPackage table, a CSV).
#[derive(Debug, Clone)]
pub struct Table {
    /// The file, as named in problems (`grids.shp`).
    pub file: String,
    /// The file layer (Shapefile stem, GeoPackage table, CSV stem).
    pub layer: String,
    /// What a row is called in problems: `record` (Shapefile), `feature` (GeoPackage, by
    /// fid), `line` (CSV).
    pub record_name: &'static str,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Row>,
    /// What the reader tells of it beyond the rows.
    pub info: TableInfo,
}

/// One record.
#[derive(Debug, Clone)]
pub struct Row {
    /// Its number in the file, from 1.
    pub record: usize,
    /// One value per column.
    pub values: Vec<Value>,
    /// GeoJSON geometry in longitude/latitude (`null` for none).
    pub geometry: Value,
}

fn top(path: &str, message: String) -> ReadError {
    ReadError::Invalid(vec![Problem {
        index: None,
        code: None,
        path: path.to_string(),
        message,
    }])
}

/// Reads a file from memory; `name` is its file name (for messages and the extension).
pub fn read_bytes(
    format: Format,
    name: &str,
    bytes: &[u8],
    opts: &ImportOptions,
) -> Result<FeatureSet, ReadError> {
    let set = match format {
        Format::GeoJson => {
            geojson_crs(name, opts)?;
            read::read_slice_with(bytes, &opts.read)?
        }
        Format::Shapefile | Format::GeoPackage | Format::Csv => {
            features(read_tables(format, name, bytes, opts)?, opts)?
        }
    };
    Ok(unshift(set, opts))
}

/// GeoJSON is longitude/latitude (RFC 7946): a projected `crs` given with it is refused, not
/// ignored.
fn geojson_crs(name: &str, opts: &ImportOptions) -> Result<(), ReadError> {
    match opts.crs {
        Some(c) if !c.is_geographic() => Err(top(
            name,
            format!(
                "GeoJSON is longitude/latitude (RFC 7946), so it cannot be in {c}: give crs only \
                 for a Shapefile, GeoPackage or CSV, or gcj02/bd09 for shifted longitude/latitude"
            ),
        )),
        _ => Ok(()),
    }
}

/// The positions of a set read in GCJ-02 or BD-09 taken back to WGS84 (with each grid's
/// `workstation` point); the set unchanged otherwise.
fn unshift(set: FeatureSet, opts: &ImportOptions) -> FeatureSet {
    match opts.shifted {
        Some(crs) => set.map_positions(|lon, lat| crs.to_wgs84(lon, lat)),
        None => set,
    }
}

/// Reads a file; the format is `format`, else the extension's.
pub fn read_path(
    format: Option<Format>,
    path: &Path,
    opts: &ImportOptions,
) -> Result<FeatureSet, ReadError> {
    let name = path.display().to_string();
    let format = match format.or_else(|| Format::from_extension(&name)) {
        Some(f) => f,
        None => {
            return Err(top(
                &name,
                format!(
                    "unknown format: give it ({}) or use the extension .geojson, .zip, .shp, .gpkg or .csv",
                    Format::NAMES
                ),
            ));
        }
    };
    if format == Format::GeoJson {
        geojson_crs(&name, opts)?;
        return Ok(unshift(read::read_path_with(path, &opts.read)?, opts));
    }
    let tables = if format == Format::Shapefile && name.to_ascii_lowercase().ends_with(".shp") {
        vec![shapefile_beside(path, opts)?]
    } else if format == Format::GeoPackage {
        gpkg::read_path(&file_name(&name), path, &gpkg_limits(opts)).map_err(ReadError::Invalid)?
    } else {
        let bytes = std::fs::read(path)?;
        read_tables(format, &name, &bytes, opts)?
    };
    Ok(unshift(features(tables, opts)?, opts))
}

fn limits(opts: &ImportOptions) -> shp::Options {
    shp::Options {
        crs: opts.crs,
        encoding: opts.encoding,
        max_records: opts.read.max_features.unwrap_or(10_000_000),
        max_positions: opts.read.max_positions_per_feature.unwrap_or(usize::MAX),
        keep_unknown_crs: opts.keep_unknown_crs,
    }
}

fn gpkg_limits(opts: &ImportOptions) -> gpkg::Options {
    gpkg::Options {
        crs: opts.crs,
        max_records: opts.read.max_features.unwrap_or(10_000_000),
        max_positions: opts.read.max_positions_per_feature.unwrap_or(usize::MAX),
    }
}

/// The last component of a path or upload name (problems name the file, not its folder).
fn file_name(name: &str) -> String {
    name.rsplit(['/', '\\']).next().unwrap_or(name).to_string()
}

fn shapefile_beside(path: &Path, opts: &ImportOptions) -> Result<Table, ReadError> {
    let shp_bytes = std::fs::read(path)?;
    let sidecar = |ext: &str| -> Option<Vec<u8>> {
        [ext.to_string(), ext.to_ascii_uppercase()]
            .iter()
            .find_map(|e| std::fs::read(path.with_extension(e)).ok())
    };
    let (dbf, prj, cpg) = (sidecar("dbf"), sidecar("prj"), sidecar("cpg"));
    let name = path.display().to_string();
    let layer = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    shp::read_layer(
        &shp::Files {
            shp_name: &name,
            layer: &layer,
            shp: &shp_bytes,
            dbf: dbf.as_deref(),
            prj: prj.as_deref(),
            cpg: cpg.as_deref(),
        },
        &limits(opts),
    )
    .map_err(ReadError::Invalid)
}

/// Reads the tables of a table format from memory.
pub fn read_tables(
    format: Format,
    name: &str,
    bytes: &[u8],
    opts: &ImportOptions,
) -> Result<Vec<Table>, ReadError> {
    match format {
        Format::GeoJson => Err(top(name, "GeoJSON has no tables".into())),
        Format::Shapefile => shapefile_zip(name, bytes, opts),
        Format::GeoPackage => gpkg::read_bytes(&file_name(name), bytes, &gpkg_limits(opts))
            .map_err(ReadError::Invalid),
        Format::Csv => csv_read::read(
            &file_name(name),
            bytes,
            &csv_read::Options {
                crs: opts.crs,
                encoding: opts.encoding,
                mapping: opts.mapping.as_ref(),
                max_records: opts.read.max_features.unwrap_or(10_000_000),
                max_positions: opts.read.max_positions_per_feature.unwrap_or(usize::MAX),
            },
        )
        .map(|t| vec![t])
        .map_err(ReadError::Invalid),
    }
}

fn shapefile_zip(name: &str, bytes: &[u8], opts: &ImportOptions) -> Result<Vec<Table>, ReadError> {
    let max = match opts.max_archive_bytes {
        0 => 1 << 30,
        n => n,
    };
    let entries = archive::read_zip(bytes, max).map_err(|m| top(name, m))?;
    // Group by path without extension, extensions case-insensitive.
    let mut groups: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        if let Some((stem, ext)) = e.name.rsplit_once('.') {
            groups
                .entry(stem.to_string())
                .or_default()
                .insert(ext.to_ascii_lowercase(), i);
        }
    }
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    for (stem, exts) in &groups {
        let Some(&shp_i) = exts.get("shp") else {
            continue;
        };
        let get = |ext: &str| exts.get(ext).map(|&i| entries[i].bytes.as_slice());
        let shp_name = &entries[shp_i].name;
        let layer = stem.rsplit('/').next().unwrap_or(stem);
        match shp::read_layer(
            &shp::Files {
                shp_name,
                layer,
                shp: &entries[shp_i].bytes,
                dbf: get("dbf"),
                prj: get("prj"),
                cpg: get("cpg"),
            },
            &limits(opts),
        ) {
            Ok(t) => tables.push(t),
            Err(p) => problems.extend(p),
        }
    }
    if !problems.is_empty() {
        return Err(ReadError::Invalid(problems));
    }
    if tables.is_empty() {
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        return Err(top(
            name,
            format!(
                "no .shp in the archive (it holds {})",
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join(", ")
                }
            ),
        ));
    }
    Ok(tables)
}

/// The tables' rows as features, through the GeoJSON reader's checks.
pub fn features(tables: Vec<Table>, opts: &ImportOptions) -> Result<FeatureSet, ReadError> {
    let given = opts.mapping.is_some();
    let mapping = opts.mapping.clone().unwrap_or_default();
    let mut resolved = Vec::with_capacity(tables.len());
    let mut problems = Vec::new();
    for t in &tables {
        if let Some(why) = &t.info.crs_unknown {
            problems.push(Problem {
                index: None,
                code: None,
                path: t.file.clone(),
                message: format!("no coordinate system: {why}"),
            });
            continue;
        }
        match mapping.resolve(given, &t.layer, &t.columns) {
            Ok(r) => resolved.push(r),
            Err(m) => problems.push(Problem {
                index: None,
                code: None,
                path: t.file.clone(),
                message: m,
            }),
        }
    }
    if !problems.is_empty() {
        return Err(ReadError::Invalid(problems));
    }
    // Where each feature came from: (table, record).
    let mut origin: Vec<(usize, usize)> = Vec::new();
    let values = tables
        .iter()
        .zip(&resolved)
        .enumerate()
        .flat_map(|(ti, (t, r))| {
            t.rows
                .iter()
                .map(move |row| (ti, row.record, r.feature(&row.values, row.geometry.clone())))
        });
    let values = values.map(|(ti, rec, v)| {
        origin.push((ti, rec));
        v
    });
    let result = read::read_feature_values(values, &opts.read);
    let locate = |p: Problem| relocate(p, &origin, &tables, &resolved);
    match result {
        Ok(set) => Ok(set),
        Err(ReadError::Invalid(ps)) => {
            Err(ReadError::Invalid(ps.into_iter().map(locate).collect()))
        }
        Err(ReadError::TooLarge(p)) => Err(ReadError::TooLarge(locate(p))),
        Err(e) => Err(e),
    }
}

/// `features[i].properties.code` → `grids.shp record 12, field 网格编码`.
fn relocate(
    mut p: Problem,
    origin: &[(usize, usize)],
    tables: &[Table],
    resolved: &[Resolved],
) -> Problem {
    let Some(i) = p.index else {
        return p;
    };
    let Some(&(ti, record)) = origin.get(i) else {
        return p;
    };
    let prefix = format!("features[{i}]");
    let Some(rest) = p.path.strip_prefix(&prefix) else {
        return p;
    };
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let place = format!("{} {} {record}", tables[ti].file, tables[ti].record_name);
    p.path = if rest.is_empty() {
        place
    } else if let Some(g) = rest.strip_prefix("geometry") {
        format!("{place}, geometry{g}")
    } else if let Some(col) = resolved[ti].column_of(rest) {
        format!("{place}, field {col}")
    } else {
        format!("{place}, {rest}")
    };
    p
}
