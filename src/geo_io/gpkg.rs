//! GeoPackage reading: every feature table of a GeoPackage (OGC 12-128r18, 1.0–1.4) into a
//! [`Table`] of rows with GeoJSON geometry in longitude/latitude, one per file layer (the
//! table's name). See docs/formats.md.
//!
//! The file is untrusted:
//!
//! 1. It is opened read-only and immutable (`file:…?mode=ro&immutable=1`: SQLite neither
//!    writes, locks nor reads a journal or WAL beside it), through diesel's SQLite (the one
//!    the export writes with); an upload is first written to a temporary file. Then
//!    `PRAGMA trusted_schema=OFF` (no function of the file's schema runs), `query_only=ON`,
//!    `cell_size_check=ON` (a corrupt page is an error, not a wild read).
//! 2. Only tables registered in `gpkg_contents` as `features` and in `gpkg_geometry_columns`
//!    are read, and only real tables: a view or a virtual table registered as a layer is a
//!    problem naming it, a `features` table without its geometry column row too. Other
//!    contents (`attributes`, tiles) are not read.
//! 3. Bounded: at most [`MAX_LAYERS`] layers, [`MAX_COLUMNS`] columns per layer, the reader's
//!    `max_features` rows over all layers, [`MAX_BLOB`] bytes per geometry and the reader's
//!    `max_positions_per_feature` vertices per geometry.
//! 4. The system: the one given wins, else the layer's `srs_id` through
//!    `gpkg_spatial_ref_sys`: organization `EPSG` and `organization_coordsys_id` by
//!    [`FileCrs::from_epsg`], else the `definition` WKT by [`super::prj`]; srs_id 0 and −1
//!    (undefined) and a system not taken are problems at the layer.
//! 5. Each row: its `fid` (the rowid) numbers it in problems (`demo.gpkg layer grids feature
//!    12, field 网格编码`); the attributes as JSON values (a binary attribute is a problem); the
//!    geometry through [`super::wkb::gpkg_blob`], checked against the layer's declared type
//!    (a line in a `MULTIPOLYGON` layer is mixed geometry), every vertex to longitude/latitude.

use super::crs::FileCrs;
use super::export::gpkg::ident;
use super::prj;
use super::read::Problem;
use super::shp::problem;
use super::source::{Row, Table, TableInfo};
use super::wkb;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde_json::Value;
use std::path::Path;

/// The most feature tables read from one GeoPackage.
pub const MAX_LAYERS: usize = 64;
/// The most columns of one feature table.
pub const MAX_COLUMNS: usize = 1024;
/// The most bytes of one geometry.
pub const MAX_BLOB: i64 = 64 << 20;

/// Options of the reading.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The system, overriding the layers' `srs_id`.
    pub crs: Option<FileCrs>,
    /// Most rows over all layers.
    pub max_records: usize,
    /// Most vertices in one geometry.
    pub max_positions: usize,
}

/// Reads a GeoPackage from memory (written to a temporary file first); `name` names it in
/// problems.
pub fn read_bytes(name: &str, bytes: &[u8], opts: &Options) -> Result<Vec<Table>, Vec<Problem>> {
    let io = |e: std::io::Error| vec![problem(name.to_string(), format!("a temporary file: {e}"))];
    let mut file = tempfile::Builder::new()
        .prefix("gridatlas-upload-")
        .suffix(".gpkg")
        .tempfile()
        .map_err(io)?;
    std::io::Write::write_all(&mut file, bytes).map_err(io)?;
    std::io::Write::flush(&mut file).map_err(io)?;
    read_path(name, file.path(), opts)
}

/// The URI of a path opened read-only and immutable (`%`, `?` and `#` escaped).
fn uri(path: &Path) -> Option<String> {
    let p = path.to_str()?;
    let mut s = String::from("file:");
    for c in p.chars() {
        match c {
            '%' => s.push_str("%25"),
            '?' => s.push_str("%3f"),
            '#' => s.push_str("%23"),
            c => s.push(c),
        }
    }
    s.push_str("?mode=ro&immutable=1");
    Some(s)
}

#[derive(QueryableByName)]
struct Layer {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    object_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    object_sql: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    column_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    geometry_type_name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    srs_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    organization: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    organization_coordsys_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    definition: Option<String>,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct ColumnInfo {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

/// The SQLite header (the first 100 bytes) against the file's length: not SQLite, or
/// truncated (when the header's page count is valid: its change counter matches).
fn check_header(head: &[u8], len: u64) -> Result<(), String> {
    if len == 0 {
        return Err("not a GeoPackage: the file is empty".into());
    }
    if head.len() < 100 || &head[..16] != b"SQLite format 3\0" {
        return Err(
            "not a GeoPackage: it does not start with \"SQLite format 3\" (a GeoPackage is an SQLite database)"
                .into(),
        );
    }
    let be16 = |i: usize| u16::from_be_bytes([head[i], head[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let page = match be16(16) {
        1 => 65536u64,
        n => u64::from(n),
    };
    let pages = u64::from(be32(28));
    if pages > 0 && be32(24) == be32(92) && page * pages > len {
        return Err(format!(
            "truncated: the header says {} bytes ({pages} pages of {page}), the file has {len}",
            page * pages
        ));
    }
    Ok(())
}

#[derive(QueryableByName)]
struct FeatureRow {
    #[diesel(sql_type = BigInt)]
    fid: i64,
    #[diesel(sql_type = Nullable<Text>)]
    vals: Option<String>,
    #[diesel(sql_type = Text)]
    gtype: String,
    #[diesel(sql_type = BigInt)]
    glen: i64,
    #[diesel(sql_type = Nullable<diesel::sql_types::Binary>)]
    geom: Option<Vec<u8>>,
}

/// Reads a GeoPackage file; `name` names it in problems.
pub fn read_path(name: &str, path: &Path, opts: &Options) -> Result<Vec<Table>, Vec<Problem>> {
    let at_file = |m: String| vec![problem(name.to_string(), m)];
    let mut head = Vec::with_capacity(100);
    let len = std::fs::File::open(path)
        .and_then(|f| {
            let len = f.metadata()?.len();
            std::io::Read::read_to_end(&mut std::io::Read::take(f, 100), &mut head)?;
            Ok(len)
        })
        .map_err(|e| at_file(format!("cannot read: {e}")))?;
    check_header(&head, len).map_err(at_file)?;
    let url = uri(path).ok_or_else(|| at_file("the path is not UTF-8".into()))?;
    let mut conn = SqliteConnection::establish(&url)
        .map_err(|e| at_file(format!("cannot open the GeoPackage: {e}")))?;
    conn.batch_execute(
        "PRAGMA trusted_schema=OFF; PRAGMA query_only=ON; PRAGMA cell_size_check=ON;",
    )
    .map_err(|e| at_file(format!("not a GeoPackage (an SQLite database): {e}")))?;
    let has_contents = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('gpkg_contents', 'gpkg_geometry_columns', 'gpkg_spatial_ref_sys') ORDER BY name",
    )
    .load::<Name>(&mut conn)
    .map_err(|e| at_file(format!("not a GeoPackage (an SQLite database): {e}")))?;
    if has_contents.len() < 3 {
        let found: Vec<String> = has_contents.into_iter().map(|n| n.name).collect();
        return Err(at_file(format!(
            "not a GeoPackage: it lacks the tables gpkg_contents, gpkg_geometry_columns and gpkg_spatial_ref_sys (it has {})",
            if found.is_empty() {
                "none of them".to_string()
            } else {
                found.join(", ")
            }
        )));
    }
    let layers = diesel::sql_query(format!(
        "SELECT c.table_name AS table_name, m.type AS object_type, m.sql AS object_sql,
                g.column_name AS column_name, g.geometry_type_name AS geometry_type_name,
                g.srs_id AS srs_id, s.organization AS organization,
                s.organization_coordsys_id AS organization_coordsys_id, s.definition AS definition
         FROM gpkg_contents c
         LEFT JOIN sqlite_master m ON m.name = c.table_name AND m.type IN ('table', 'view')
         LEFT JOIN gpkg_geometry_columns g ON g.table_name = c.table_name
         LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id
         WHERE lower(c.data_type) = 'features'
         ORDER BY c.table_name LIMIT {}",
        MAX_LAYERS + 1
    ))
    .load::<Layer>(&mut conn)
    .map_err(|e| at_file(format!("cannot read gpkg_contents: {e}")))?;
    if layers.len() > MAX_LAYERS {
        return Err(at_file(format!(
            "more than {MAX_LAYERS} feature tables (the limit)"
        )));
    }
    if layers.is_empty() {
        return Err(at_file(
            "no feature table: gpkg_contents registers no table with data_type 'features'".into(),
        ));
    }
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    let mut budget = opts.max_records;
    for l in &layers {
        let at = format!("{name} layer {}", l.table_name);
        match read_layer(&mut conn, &at, l, opts, &mut budget) {
            Ok(t) => tables.push(t),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(tables)
    } else {
        Err(problems)
    }
}

/// The layer's system: given, else its srs_id's.
fn layer_crs(l: &Layer, given: Option<FileCrs>) -> Result<FileCrs, String> {
    if let Some(c) = given {
        return Ok(c);
    }
    let srs = l.srs_id.unwrap_or(0);
    let hint = "give the coordinate system (e.g. crs=EPSG:4528, --crs EPSG:4528)";
    if srs == 0 || srs == -1 {
        return Err(format!(
            "the layer's srs_id is {srs}, an undefined system: {hint}"
        ));
    }
    let org = l.organization.as_deref().unwrap_or("");
    let by_code = match (org.eq_ignore_ascii_case("EPSG"), l.organization_coordsys_id) {
        (true, Some(code)) => Some(
            u32::try_from(code)
                .map_err(|_| format!("EPSG:{code} is not an EPSG code"))
                .and_then(|c| FileCrs::from_epsg(c).map_err(|e| e.to_string())),
        ),
        _ => None,
    };
    match by_code {
        Some(Ok(c)) => Ok(c),
        Some(Err(e)) => Err(format!("srs_id {srs} of gpkg_spatial_ref_sys: {e} — or {hint}")),
        None => match l.definition.as_deref() {
            Some(d) if !d.trim().is_empty() && d.trim() != "undefined" => prj::identify_str(d)
                .map_err(|e| {
                    format!("srs_id {srs} of gpkg_spatial_ref_sys ({org}): its definition: {e} — or {hint}")
                }),
            _ => Err(format!(
                "srs_id {srs} is not in gpkg_spatial_ref_sys with an EPSG code or a definition: {hint}"
            )),
        },
    }
}

/// The dimension a declared geometry type allows (`None`: any).
fn declared_dimension(t: &str) -> Option<u8> {
    match t.to_ascii_uppercase().as_str() {
        "POINT" | "MULTIPOINT" => Some(0),
        "LINESTRING" | "MULTILINESTRING" => Some(1),
        "POLYGON" | "MULTIPOLYGON" => Some(2),
        _ => None,
    }
}

fn read_layer(
    conn: &mut SqliteConnection,
    at: &str,
    l: &Layer,
    opts: &Options,
    budget: &mut usize,
) -> Result<Table, Vec<Problem>> {
    let one = |m: String| vec![problem(at.to_string(), m)];
    let virtual_table = l.object_sql.as_deref().is_some_and(|s| {
        s.trim_start()
            .to_ascii_uppercase()
            .starts_with("CREATE VIRTUAL")
    });
    match l.object_type.as_deref() {
        Some("table") if !virtual_table => {}
        Some("table") => {
            return Err(one(
                "a virtual table registered as a feature table: not read (only ordinary tables are)".into(),
            ));
        }
        Some("view") => {
            return Err(one(
                "a view registered as a feature table: views are not read (their SQL would run on the server); save the layer as a table".into(),
            ));
        }
        _ => {
            return Err(one(
                "registered in gpkg_contents but there is no such table".into(),
            ));
        }
    }
    let Some(geom_col) = &l.column_name else {
        return Err(one(
            "registered as features in gpkg_contents but not in gpkg_geometry_columns: no geometry column is known".into(),
        ));
    };
    let crs = layer_crs(l, opts.crs).map_err(one)?;
    let cols = diesel::sql_query(format!(
        "SELECT name, type AS ty, pk FROM pragma_table_info(?) LIMIT {}",
        MAX_COLUMNS + 3
    ))
    .bind::<Text, _>(&l.table_name)
    .load::<ColumnInfo>(conn)
    .map_err(|e| one(format!("cannot read the columns: {e}")))?;
    // The INTEGER PRIMARY KEY is the fid (the rowid) that numbers the features, not an
    // attribute.
    let fid = (cols.iter().filter(|c| c.pk > 0).count() == 1)
        .then(|| {
            cols.iter()
                .find(|c| c.pk > 0 && c.ty.eq_ignore_ascii_case("INTEGER"))
        })
        .flatten()
        .map(|c| c.name.clone());
    let mut columns: Vec<String> = cols
        .into_iter()
        .map(|c| c.name)
        .filter(|c| Some(c) != fid.as_ref())
        .collect();
    if !columns.iter().any(|c| c == geom_col) {
        return Err(one(format!(
            "gpkg_geometry_columns names the geometry column {geom_col:?}, which the table does not have"
        )));
    }
    columns.retain(|c| c != geom_col);
    if columns.len() > MAX_COLUMNS {
        return Err(one(format!("more than {MAX_COLUMNS} columns (the limit)")));
    }
    let attrs: Vec<String> = columns
        .iter()
        .map(|c| {
            let c = ident(c);
            format!(
                "CASE typeof({c}) WHEN 'blob' THEN json_object('$blob', length({c})) ELSE {c} END"
            )
        })
        .collect();
    let g = ident(geom_col);
    let sql = format!(
        "SELECT rowid AS fid, json_array({}) AS vals, typeof({g}) AS gtype,
                coalesce(length({g}), 0) AS glen,
                CASE WHEN typeof({g}) = 'blob' AND length({g}) <= {MAX_BLOB} THEN {g} END AS geom
         FROM {} ORDER BY rowid LIMIT {}",
        attrs.join(", "),
        ident(&l.table_name),
        budget.saturating_add(1).min(i64::MAX as usize)
    );
    let rows = diesel::sql_query(sql)
        .load::<FeatureRow>(conn)
        .map_err(|e| {
            one(format!(
                "cannot read the rows ({e}): the GeoPackage is truncated or corrupt"
            ))
        })?;
    if rows.len() > *budget {
        return Err(one(format!(
            "more than {} features in all (the limit)",
            opts.max_records
        )));
    }
    *budget -= rows.len();
    let declared = l.geometry_type_name.as_deref().unwrap_or("GEOMETRY");
    let want = declared_dimension(declared);
    let source = format!("the layer's srs_id {}", l.srs_id.unwrap_or(0));
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let record = usize::try_from(r.fid).unwrap_or(0);
        let place = format!("{at} feature {}", r.fid);
        let geometry = match (r.gtype.as_str(), r.geom) {
            ("null", _) => Value::Null,
            ("blob", Some(b)) => match wkb::gpkg_blob(&b, opts.max_positions) {
                Ok(None) => Value::Null,
                Ok(Some(geom)) => match want {
                    Some(d) if d != geom.dimension() => {
                        problems.push(problem(
                            format!("{place}, geometry"),
                            format!(
                                "a {} in a {declared} layer: mixed geometry",
                                geom.type_name()
                            ),
                        ));
                        Value::Null
                    }
                    _ => geom.to_geojson(crs, &source).unwrap_or_else(|m| {
                        problems.push(problem(format!("{place}, geometry"), m));
                        Value::Null
                    }),
                },
                Err(m) => {
                    problems.push(problem(format!("{place}, geometry"), m));
                    Value::Null
                }
            },
            ("blob", None) => {
                problems.push(problem(
                    format!("{place}, geometry"),
                    format!("{} bytes, more than {MAX_BLOB} (the limit)", r.glen),
                ));
                Value::Null
            }
            (t, _) => {
                problems.push(problem(
                    format!("{place}, geometry"),
                    format!("a {t} value, not a GeoPackage geometry (a blob)"),
                ));
                Value::Null
            }
        };
        let values = match r.vals.as_deref().map(serde_json::from_str::<Vec<Value>>) {
            Some(Ok(v)) if v.len() == columns.len() => v,
            other => {
                let why = match other {
                    Some(Err(e)) => e.to_string(),
                    _ => "not one value per column".into(),
                };
                problems.push(problem(place, format!("cannot read the attributes: {why}")));
                continue;
            }
        };
        let mut vals = Vec::with_capacity(values.len());
        for (v, c) in values.into_iter().zip(&columns) {
            match v {
                Value::Object(o) if o.contains_key("$blob") => {
                    problems.push(problem(
                        format!("{place}, field {c}"),
                        format!(
                            "a binary value ({} bytes): only text and numbers are read as attributes",
                            o["$blob"]
                        ),
                    ));
                    vals.push(Value::Null);
                }
                v => vals.push(v),
            }
        }
        out.push(Row {
            record,
            values: vals,
            geometry,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Table {
        file: at.to_string(),
        layer: l.table_name.clone(),
        record_name: "feature",
        columns,
        rows: out,
        info: TableInfo {
            crs: Some(crs),
            crs_unknown: None,
            encoding: None,
            geometry_type: Some(declared.to_ascii_lowercase()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes() {
        assert_eq!(
            uri(Path::new("/tmp/a?b#c%d.gpkg")).as_deref(),
            Some("file:/tmp/a%3fb%23c%25d.gpkg?mode=ro&immutable=1")
        );
    }

    #[test]
    fn not_a_geopackage() {
        let o = Options {
            crs: None,
            max_records: 10,
            max_positions: 10,
        };
        let e = read_bytes("x.gpkg", b"hello, not sqlite", &o).expect_err("not sqlite");
        assert_eq!(e[0].path, "x.gpkg");
        assert!(
            e[0].message.contains("not a GeoPackage"),
            "{}",
            e[0].message
        );
        let e = read_bytes("x.gpkg", b"", &o).expect_err("empty");
        assert!(
            e[0].message.contains("not a GeoPackage"),
            "{}",
            e[0].message
        );
        let mut head = b"SQLite format 3\0".to_vec();
        head.resize(100, 0);
        head[16..18].copy_from_slice(&4096u16.to_be_bytes());
        head[28..32].copy_from_slice(&10u32.to_be_bytes());
        let e = check_header(&head, 8192).expect_err("short");
        assert!(
            e.starts_with("truncated: the header says 40960 bytes"),
            "{e}"
        );
        assert!(check_header(&head, 40960).is_ok());
        head[92] = 1; // the page count is not valid: no claim
        assert!(check_header(&head, 8192).is_ok());
    }

    #[test]
    fn declared_types() {
        assert_eq!(declared_dimension("MultiPolygon"), Some(2));
        assert_eq!(declared_dimension("LINESTRING"), Some(1));
        assert_eq!(declared_dimension("GEOMETRY"), None);
    }
}
