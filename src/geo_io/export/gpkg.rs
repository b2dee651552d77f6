//! The GeoPackage export (OGC 12-128r18, version 1.4): `gpkg_spatial_ref_sys`, `gpkg_contents`,
//! `gpkg_geometry_columns`, one feature table per layer with features (geometry column `geom`:
//! the GeoPackage binary header with an XY envelope, then little-endian WKB MultiPolygon or
//! MultiLineString) and the attributes table `management_units`. Text is UTF-8. No spatial
//! index is written (GDAL and QGIS read the file without one).

use super::table::{self, ColumnType, Source};
use super::{ExportError, Options, project};
use crate::geo_io::crs::FileCrs;
use crate::geo_io::prj_write::esri_wkt;
use crate::geo_io::shp_write::Shape;
use crate::model::{Feature, FeatureSet};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Binary, Bool, Double, Integer, Nullable, Text};
use diesel::sqlite::Sqlite;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

/// A quoted SQL identifier.
pub(crate) fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(crate) fn io(e: impl std::fmt::Display) -> ExportError {
    ExportError::Io(e.to_string())
}

/// The envelope (min x, max x, min y, max y) of a shape.
fn envelope(shape: &Shape) -> [f64; 4] {
    let pts: Box<dyn Iterator<Item = &(f64, f64)>> = match shape {
        Shape::Polygons(p) => Box::new(p.iter().flatten().flatten()),
        Shape::Lines(l) => Box::new(l.iter().flatten()),
        Shape::Points(p) => Box::new(p.iter()),
    };
    pts.fold(
        [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ],
        |e, &(x, y)| [e[0].min(x), e[1].max(x), e[2].min(y), e[3].max(y)],
    )
}

fn wkb_points(out: &mut Vec<u8>, pts: &[(f64, f64)]) {
    out.extend_from_slice(&(pts.len() as u32).to_le_bytes());
    for &(x, y) in pts {
        out.extend_from_slice(&x.to_le_bytes());
        out.extend_from_slice(&y.to_le_bytes());
    }
}

/// The GeoPackage binary geometry of a shape: header (magic `GP`, version 0, flags: little
/// endian, XY envelope), SRS id, envelope, WKB (MultiPolygon, MultiLineString or MultiPoint).
pub fn geometry_blob(shape: &Shape, srs_id: i32) -> Vec<u8> {
    let mut out = vec![b'G', b'P', 0, 0b0000_0011];
    out.extend_from_slice(&srs_id.to_le_bytes());
    for v in envelope(shape) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.push(1);
    match shape {
        Shape::Polygons(polys) => {
            out.extend_from_slice(&6u32.to_le_bytes());
            out.extend_from_slice(&(polys.len() as u32).to_le_bytes());
            for rings in polys {
                out.push(1);
                out.extend_from_slice(&3u32.to_le_bytes());
                out.extend_from_slice(&(rings.len() as u32).to_le_bytes());
                for r in rings {
                    wkb_points(&mut out, r);
                }
            }
        }
        Shape::Lines(lines) => {
            out.extend_from_slice(&5u32.to_le_bytes());
            out.extend_from_slice(&(lines.len() as u32).to_le_bytes());
            for l in lines {
                out.push(1);
                out.extend_from_slice(&2u32.to_le_bytes());
                wkb_points(&mut out, l);
            }
        }
        Shape::Points(points) => {
            out.extend_from_slice(&4u32.to_le_bytes());
            out.extend_from_slice(&(points.len() as u32).to_le_bytes());
            for &(x, y) in points {
                out.push(1);
                out.extend_from_slice(&1u32.to_le_bytes());
                out.extend_from_slice(&x.to_le_bytes());
                out.extend_from_slice(&y.to_le_bytes());
            }
        }
    }
    out
}

const SCHEMA: &str = "
PRAGMA application_id = 1196444487;
PRAGMA user_version = 10300;
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
  identifier TEXT UNIQUE, description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
";

/// A GeoPackage column: name, source, SQL type.
struct Column {
    name: String,
    source: Source,
    ty: ColumnType,
}

fn columns(features: &[&Feature]) -> Vec<Column> {
    let mut taken: HashSet<String> = ["fid".to_owned(), "geom".to_owned()].into();
    table::sources(features, false)
        .into_iter()
        .filter_map(|source| {
            let name = match &source {
                Source::Attribute(k) => k.clone(),
                other => other.property(),
            };
            let name = table::unique_name(&name, &mut taken, |_| true)?;
            let ty = match &source {
                Source::People => ColumnType::Json,
                s => ColumnType::of(
                    features
                        .iter()
                        .map(|f| s.value(f))
                        .collect::<Vec<_>>()
                        .iter(),
                ),
            };
            Some(Column { name, source, ty })
        })
        .collect()
}

fn sql_type(t: ColumnType) -> &'static str {
    match t {
        ColumnType::Integer => "INTEGER",
        ColumnType::Real => "REAL",
        ColumnType::Bool => "BOOLEAN",
        ColumnType::Text | ColumnType::Json => "TEXT",
    }
}

type Query<'a> = diesel::query_builder::BoxedSqlQuery<'a, Sqlite, diesel::query_builder::SqlQuery>;

fn bind<'a>(q: Query<'a>, ty: ColumnType, v: Value) -> Query<'a> {
    match (ty, v) {
        (ColumnType::Bool, Value::Bool(b)) => q.bind::<Nullable<Bool>, _>(Some(b)),
        (ColumnType::Integer, Value::Number(n)) => match n.as_i64() {
            Some(i) => q.bind::<Nullable<diesel::sql_types::BigInt>, _>(Some(i)),
            None => q.bind::<Nullable<Double>, _>(n.as_f64()),
        },
        (ColumnType::Real, Value::Number(n)) => q.bind::<Nullable<Double>, _>(n.as_f64()),
        (_, v) => q.bind::<Nullable<Text>, _>(table::as_text(&v)),
    }
}

/// Writes `set` as a new GeoPackage at `path` (which must not exist).
pub fn write_path(set: &FeatureSet, opts: &Options, path: &Path) -> Result<(), ExportError> {
    create(path, opts.crs, |conn| write_tables(conn, set, opts))
}

/// Creates the GeoPackage `path` (which must not exist) with its metadata tables and the
/// spatial reference systems of `crs` and EPSG:4326, then runs `fill` in one transaction; on
/// an error the file is removed.
pub(crate) fn create(
    path: &Path,
    crs: FileCrs,
    fill: impl FnOnce(&mut SqliteConnection) -> Result<(), ExportError>,
) -> Result<(), ExportError> {
    if path.exists() {
        return Err(ExportError::Io(format!(
            "{} exists already",
            path.display()
        )));
    }
    let url = path
        .to_str()
        .ok_or_else(|| ExportError::Io(format!("{} is not a UTF-8 path", path.display())))?;
    let mut conn = SqliteConnection::establish(url).map_err(io)?;
    conn.batch_execute(SCHEMA).map_err(io)?;
    conn.batch_execute("BEGIN").map_err(io)?;
    match insert_srs(&mut conn, crs).and_then(|()| fill(&mut conn)) {
        Ok(()) => conn.batch_execute("COMMIT").map_err(io),
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK");
            drop(conn);
            let _ = std::fs::remove_file(path);
            Err(e)
        }
    }
}

/// The `gpkg_spatial_ref_sys` rows of `crs` and of EPSG:4326 (which every GeoPackage has,
/// requirement 11).
fn insert_srs(conn: &mut SqliteConnection, crs: FileCrs) -> Result<(), ExportError> {
    let mut srs = vec![crs];
    if crs != FileCrs::WGS84 {
        srs.push(FileCrs::WGS84);
    }
    for crs in srs {
        diesel::sql_query("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, 'EPSG', ?, ?, NULL)")
            .bind::<Text, _>(crs.name())
            .bind::<Integer, _>(crs.epsg() as i32)
            .bind::<Integer, _>(crs.epsg() as i32)
            .bind::<Text, _>(esri_wkt(crs))
            .execute(conn)
            .map_err(io)?;
    }
    Ok(())
}

/// Creates the feature table `table` (`fid`, `geom` of `geom_type`, then `columns` as (name,
/// SQL type)) and registers it in `gpkg_contents` (with the extent of `shapes`) and
/// `gpkg_geometry_columns`.
pub(crate) fn create_feature_table(
    conn: &mut SqliteConnection,
    table: &str,
    description: &str,
    geom_type: &str,
    columns: &[(String, &str)],
    shapes: &[Shape],
    srs_id: i32,
) -> Result<(), ExportError> {
    let mut ddl = format!(
        "CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {geom_type}",
        ident(table)
    );
    for (name, ty) in columns {
        ddl.push_str(&format!(", {} {ty}", ident(name)));
    }
    ddl.push(')');
    conn.batch_execute(&ddl).map_err(io)?;
    let ext = shapes.iter().map(envelope).fold(
        [
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ],
        |a, e| {
            [
                a[0].min(e[0]),
                a[1].max(e[1]),
                a[2].min(e[2]),
                a[3].max(e[3]),
            ]
        },
    );
    diesel::sql_query(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind::<Text, _>(table)
    .bind::<Text, _>(table)
    .bind::<Text, _>(description)
    .bind::<Double, _>(ext[0])
    .bind::<Double, _>(ext[2])
    .bind::<Double, _>(ext[1])
    .bind::<Double, _>(ext[3])
    .bind::<Integer, _>(srs_id)
    .execute(conn)
    .map_err(io)?;
    diesel::sql_query("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)")
        .bind::<Text, _>(table)
        .bind::<Text, _>(geom_type)
        .bind::<Integer, _>(srs_id)
        .execute(conn)
        .map_err(io)?;
    Ok(())
}

fn write_tables(
    conn: &mut SqliteConnection,
    set: &FeatureSet,
    opts: &Options,
) -> Result<(), ExportError> {
    let srs_id = opts.crs.epsg() as i32;
    for (layer, features) in super::shapefile::layers(set) {
        let table = layer.as_str();
        let cols = columns(&features);
        let shapes = features
            .iter()
            .map(|f| project(f, opts.crs))
            .collect::<Result<Vec<_>, _>>()?;
        let geom_type = if layer.is_area() {
            "MULTIPOLYGON"
        } else {
            "MULTILINESTRING"
        };
        let defs: Vec<(String, &str)> = cols
            .iter()
            .map(|c| (c.name.clone(), sql_type(c.ty)))
            .collect();
        create_feature_table(
            conn,
            table,
            layer.name_zh(),
            geom_type,
            &defs,
            &shapes,
            srs_id,
        )?;
        let names: Vec<String> = cols.iter().map(|c| ident(&c.name)).collect();
        let insert = format!(
            "INSERT INTO {} (geom{}{}) VALUES (?{})",
            ident(table),
            if names.is_empty() { "" } else { ", " },
            names.join(", "),
            ", ?".repeat(names.len())
        );
        for (f, shape) in features.iter().zip(&shapes) {
            let mut q = diesel::sql_query(insert.as_str())
                .into_boxed::<Sqlite>()
                .bind::<Binary, _>(geometry_blob(shape, srs_id));
            for c in &cols {
                q = bind(q, c.ty, c.source.value(f));
            }
            q.execute(conn).map_err(io)?;
        }
    }
    write_units(conn, set)
}

/// The management units as the attributes table `management_units`: `code`, `name`, `kind`,
/// `grids` (JSON array of grid codes), `people` (JSON).
fn write_units(conn: &mut SqliteConnection, set: &FeatureSet) -> Result<(), ExportError> {
    if set.management_units.is_empty() {
        return Ok(());
    }
    conn.batch_execute(
        "CREATE TABLE management_units (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, grids TEXT NOT NULL, people TEXT);
         INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES ('management_units', 'attributes', 'management_units', '管理单元');",
    )
    .map_err(io)?;
    for u in &set.management_units {
        let kind = serde_json::to_value(u.kind).map_err(io)?;
        let people = (!u.people.is_empty())
            .then(|| serde_json::to_string(&u.people))
            .transpose()
            .map_err(io)?;
        diesel::sql_query(
            "INSERT INTO management_units (code, name, kind, grids, people) VALUES (?, ?, ?, ?, ?)",
        )
        .bind::<Text, _>(&u.code)
        .bind::<Text, _>(&u.name)
        .bind::<Text, _>(table::as_text(&kind).unwrap_or_default())
        .bind::<Text, _>(serde_json::to_string(&u.grids).map_err(io)?)
        .bind::<Nullable<Text>, _>(people)
        .execute(conn)
        .map_err(io)?;
    }
    Ok(())
}

/// `set` as the bytes of a GeoPackage (written to a temporary file, read back, removed).
pub fn to_bytes(set: &FeatureSet, opts: &Options) -> Result<Vec<u8>, ExportError> {
    via_temp_file(|path| write_path(set, opts, path))
}

/// The bytes of the GeoPackage `write` makes at the path it is given (a new file in a fresh
/// temporary directory, removed afterwards).
pub(crate) fn via_temp_file(
    write: impl FnOnce(&Path) -> Result<(), ExportError>,
) -> Result<Vec<u8>, ExportError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "gridatlas-gpkg-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    ));
    std::fs::create_dir(&dir).map_err(io)?;
    let path = dir.join("export.gpkg");
    let result = write(&path).and_then(|()| std::fs::read(&path).map_err(io));
    let _ = std::fs::remove_dir_all(&dir);
    result
}
