//! Exporting validation findings as GeoJSON, a Shapefile .zip or a GeoPackage, in
//! longitude/latitude or any [`FileCrs`] of the catalogue (docs/formats.md, "Export of
//! validation findings").
//!
//! 1. One table per dimension of the findings' locations ([`Table`]): `findings_points`
//!    (MultiPoint; Shapefile type 8), `findings_lines` (MultiLineString; PolyLine),
//!    `findings_areas` (MultiPolygon; Polygon), and `findings_unlocated` for findings without a
//!    location (GeoPackage: an `attributes` table; Shapefile: a lone `.dbf`, which GDAL reads
//!    as a layer without geometry). Only tables with findings are written; every finding is in
//!    exactly one table, in report order.
//! 2. The same twelve columns in every table, all at most 10 characters ([`COLUMNS`]).
//! 3. Nothing is truncated or guessed: a text over 254 bytes in a DBF, a character GBK cannot
//!    write, a location that is not a GeoJSON geometry or a coordinate the system cannot take
//!    is an [`ExportError::Finding`] naming the finding (its index in the list and its rule).
//!
//! The input is [`FindingRecord`], a plain record the validator's findings
//! (`validate::Finding`) and the stored report's (`wire::drafts::Finding`) convert to; this
//! module knows neither.

use super::gpkg::{self, create_feature_table, geometry_blob, ident};
use super::{ExportError, Options};
use crate::geo_io::crs::FileCrs;
use crate::geo_io::dbf_write::{self, Encoding, Field, FieldType};
use crate::geo_io::prj_write::esri_wkt;
use crate::geo_io::shp_write::{self, Shape, ShapeType};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Binary, Bool, Double, Nullable, Text};
use diesel::sqlite::Sqlite;
use serde_json::{Value, json};
use std::io::Write;

/// One finding to export.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingRecord {
    /// Rule (`overlap`, `gap`, …).
    pub rule: String,
    /// Sub-kind within the rule.
    pub kind: String,
    /// `error` | `warning`.
    pub severity: String,
    /// Codes of the features involved.
    pub codes: Vec<String>,
    /// GeoJSON geometry of the defect in longitude/latitude, if it has one.
    pub location: Option<Value>,
    /// Area of the defect, m².
    pub area_m2: Option<f64>,
    /// Length, m.
    pub length_m: Option<f64>,
    /// Width, m.
    pub width_m: Option<f64>,
    /// The message in Chinese.
    pub message_zh: String,
    /// The message in English.
    pub message_en: String,
    /// The suggested fix.
    pub fix: Option<FixRecord>,
    /// The location was cut down to bound the report.
    pub simplified: bool,
    /// The finding stands for this many of its group (itself included).
    pub omitted: Option<usize>,
}

/// A finding's suggested fix.
#[derive(Debug, Clone, PartialEq)]
pub struct FixRecord {
    /// `merge_into` | `subtract_from` | `repair` | `manual`.
    pub action: String,
    /// The feature to change.
    pub target: Option<String>,
    /// In Chinese.
    pub zh: String,
    /// In English.
    pub en: String,
}

impl FixRecord {
    /// The fix as it is in the report: `{"action", "target"?, "message": {"zh", "en"}}`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"action": self.action, "message": {"zh": self.zh, "en": self.en}});
        if let (Some(t), Some(o)) = (&self.target, v.as_object_mut()) {
            o.insert("target".into(), json!(t));
        }
        v
    }
}

/// A table of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// Findings located by points (MultiPoint).
    Points,
    /// Findings located by lines (MultiLineString).
    Lines,
    /// Findings located by areas (MultiPolygon).
    Areas,
    /// Findings without a location.
    Unlocated,
}

impl Table {
    /// Every table, in output order.
    pub const ALL: [Table; 4] = [Table::Points, Table::Lines, Table::Areas, Table::Unlocated];

    /// The table (Shapefile: file stem) name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Points => "findings_points",
            Table::Lines => "findings_lines",
            Table::Areas => "findings_areas",
            Table::Unlocated => "findings_unlocated",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Table::Points => "校验问题（点）",
            Table::Lines => "校验问题（线）",
            Table::Areas => "校验问题（面）",
            Table::Unlocated => "校验问题（无位置）",
        }
    }
}

/// A column of every findings table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `rule`.
    Rule,
    /// `kind`.
    Kind,
    /// `severity`.
    Severity,
    /// `codes`, comma-joined.
    Codes,
    /// `message`: the Chinese message.
    Message,
    /// `message_en`.
    MessageEn,
    /// `fix`: the fix as JSON text (`{"action","target","message":{"zh","en"}}`).
    Fix,
    /// `area_m2`.
    AreaM2,
    /// `length_m`.
    LengthM,
    /// `width_m`.
    WidthM,
    /// `simplified`: the location was cut down (logical).
    Simplified,
    /// `omitted`: the number of findings this one stands for.
    Omitted,
}

/// The columns, in order.
pub const COLUMNS: [Column; 12] = [
    Column::Rule,
    Column::Kind,
    Column::Severity,
    Column::Codes,
    Column::Message,
    Column::MessageEn,
    Column::Fix,
    Column::AreaM2,
    Column::LengthM,
    Column::WidthM,
    Column::Simplified,
    Column::Omitted,
];

/// A column's value for one finding.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Text(String),
    Real(f64),
    Int(i64),
    Bool(bool),
}

impl Column {
    /// The column's name (≤ 10 ASCII characters: the same in the DBF and the GeoPackage).
    pub fn name(self) -> &'static str {
        match self {
            Column::Rule => "rule",
            Column::Kind => "kind",
            Column::Severity => "severity",
            Column::Codes => "codes",
            Column::Message => "message",
            Column::MessageEn => "message_en",
            Column::Fix => "fix",
            Column::AreaM2 => "area_m2",
            Column::LengthM => "length_m",
            Column::WidthM => "width_m",
            Column::Simplified => "simplified",
            Column::Omitted => "omitted",
        }
    }

    /// The finding's member the column holds, as error messages name it.
    pub fn property(self) -> &'static str {
        match self {
            Column::Message => "message.zh",
            Column::MessageEn => "message.en",
            Column::Simplified => "location_simplified",
            other => other.name(),
        }
    }

    fn sql_type(self) -> &'static str {
        match self {
            Column::AreaM2 | Column::LengthM | Column::WidthM => "REAL",
            Column::Omitted => "INTEGER",
            Column::Simplified => "BOOLEAN",
            _ => "TEXT",
        }
    }

    fn value(self, f: &FindingRecord) -> Cell {
        let text = |s: &str| Cell::Text(s.to_owned());
        let real = |x: Option<f64>| x.map_or(Cell::Null, Cell::Real);
        match self {
            Column::Rule => text(&f.rule),
            Column::Kind => text(&f.kind),
            Column::Severity => text(&f.severity),
            Column::Codes => text(&f.codes.join(",")),
            Column::Message => text(&f.message_zh),
            Column::MessageEn => text(&f.message_en),
            Column::Fix => f
                .fix
                .as_ref()
                .map_or(Cell::Null, |x| Cell::Text(x.to_json().to_string())),
            Column::AreaM2 => real(f.area_m2),
            Column::LengthM => real(f.length_m),
            Column::WidthM => real(f.width_m),
            Column::Simplified => Cell::Bool(f.simplified),
            Column::Omitted => f.omitted.map_or(Cell::Null, |n| {
                Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
            }),
        }
    }
}

fn finding_error(
    index: usize,
    f: &FindingRecord,
    property: &str,
    message: impl Into<String>,
) -> ExportError {
    ExportError::Finding {
        index,
        rule: f.rule.clone(),
        property: property.to_owned(),
        message: message.into(),
    }
}

/// A location in longitude/latitude, by dimension.
#[derive(Debug, Clone, PartialEq)]
enum Located {
    Points(Vec<(f64, f64)>),
    Lines(Vec<Vec<(f64, f64)>>),
    Areas(Vec<Vec<Vec<(f64, f64)>>>),
}

fn position(v: &Value) -> Result<(f64, f64), String> {
    match v.as_array().map(Vec::as_slice) {
        Some([x, y, ..]) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => Ok((x, y)),
            _ => Err(format!("{v} is not a position [x, y]")),
        },
        _ => Err(format!("{v} is not a position [x, y]")),
    }
}

fn positions(v: &Value) -> Result<Vec<(f64, f64)>, String> {
    v.as_array()
        .ok_or_else(|| format!("{v} is not an array of positions"))?
        .iter()
        .map(position)
        .collect()
}

fn nested<T>(v: &Value, each: impl Fn(&Value) -> Result<T, String>) -> Result<Vec<T>, String> {
    v.as_array()
        .ok_or_else(|| format!("{v} is not an array"))?
        .iter()
        .map(each)
        .collect()
}

/// A GeoJSON geometry as points, lines or areas; `None` for a geometry without positions.
/// A GeometryCollection must hold one dimension only.
fn locate(g: &Value) -> Result<Option<Located>, String> {
    let c = &g["coordinates"];
    let located = match g["type"].as_str() {
        Some("Point") => Located::Points(vec![position(c)?]),
        Some("MultiPoint") => Located::Points(positions(c)?),
        Some("LineString") => Located::Lines(vec![positions(c)?]),
        Some("MultiLineString") => Located::Lines(nested(c, positions)?),
        Some("Polygon") => Located::Areas(vec![nested(c, positions)?]),
        Some("MultiPolygon") => Located::Areas(nested(c, |p| nested(p, positions))?),
        Some("GeometryCollection") => {
            let mut out: Option<Located> = None;
            for member in g["geometries"]
                .as_array()
                .ok_or("a GeometryCollection without `geometries`")?
            {
                out = match (out, locate(member)?) {
                    (a, None) => a,
                    (None, b) => b,
                    (Some(Located::Points(mut a)), Some(Located::Points(b))) => {
                        a.extend(b);
                        Some(Located::Points(a))
                    }
                    (Some(Located::Lines(mut a)), Some(Located::Lines(b))) => {
                        a.extend(b);
                        Some(Located::Lines(a))
                    }
                    (Some(Located::Areas(mut a)), Some(Located::Areas(b))) => {
                        a.extend(b);
                        Some(Located::Areas(a))
                    }
                    _ => {
                        return Err(
                            "a GeometryCollection of points, lines and areas mixed: no one table holds it"
                                .into(),
                        );
                    }
                };
            }
            return Ok(out);
        }
        Some(t) => return Err(format!("{t:?} is not a GeoJSON geometry type")),
        None => return Err(format!("{g} is not a GeoJSON geometry")),
    };
    let empty = match &located {
        Located::Points(p) => p.is_empty(),
        Located::Lines(l) => l.iter().all(Vec::is_empty),
        Located::Areas(a) => a.iter().flatten().all(Vec::is_empty),
    };
    Ok((!empty).then_some(located))
}

/// The table of finding `f` and its shape in `crs` (`None`: unlocated).
fn shape_of(
    index: usize,
    f: &FindingRecord,
    crs: FileCrs,
) -> Result<(Table, Option<Shape>), ExportError> {
    let loc = match f.location.as_ref().filter(|v| !v.is_null()) {
        None => None,
        Some(g) => locate(g).map_err(|e| finding_error(index, f, "location", e))?,
    };
    let Some(loc) = loc else {
        return Ok((Table::Unlocated, None));
    };
    let mut failure = None;
    let mut pt = |&(x, y): &(f64, f64)| -> (f64, f64) {
        match crs.from_lon_lat(x, y) {
            Ok(p) if p.0.is_finite() && p.1.is_finite() => p,
            Ok(_) => {
                failure.get_or_insert_with(|| format!("({x}, {y}) is not finite in {crs}"));
                (f64::NAN, f64::NAN)
            }
            Err(e) => {
                failure
                    .get_or_insert_with(|| format!("({x}, {y}) cannot be written in {crs}: {e}"));
                (f64::NAN, f64::NAN)
            }
        }
    };
    let (table, shape) = match &loc {
        Located::Points(p) => (
            Table::Points,
            Shape::Points(p.iter().map(&mut pt).collect()),
        ),
        Located::Lines(l) => (
            Table::Lines,
            Shape::Lines(l.iter().map(|l| l.iter().map(&mut pt).collect()).collect()),
        ),
        Located::Areas(a) => (
            Table::Areas,
            Shape::Polygons(
                a.iter()
                    .map(|rings| {
                        rings
                            .iter()
                            .map(|r| r.iter().map(&mut pt).collect())
                            .collect()
                    })
                    .collect(),
            ),
        ),
    };
    match failure {
        Some(m) => Err(finding_error(index, f, "location", m)),
        None => Ok((table, Some(shape))),
    }
}

/// The findings of one table: their indices in the input and their shapes (in the output
/// system; none for the unlocated).
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The table.
    pub table: Table,
    /// Index of each finding in the input.
    pub indices: Vec<usize>,
    shapes: Vec<Shape>,
}

/// `findings` split by table (only tables with findings, in [`Table::ALL`] order), their
/// locations converted to `crs`.
pub fn split(findings: &[FindingRecord], crs: FileCrs) -> Result<Vec<Split>, ExportError> {
    let mut out: Vec<Split> = Table::ALL
        .into_iter()
        .map(|table| Split {
            table,
            indices: Vec::new(),
            shapes: Vec::new(),
        })
        .collect();
    for (i, f) in findings.iter().enumerate() {
        let (table, shape) = shape_of(i, f, crs)?;
        if let Some(s) = out.iter_mut().find(|s| s.table == table) {
            s.indices.push(i);
            s.shapes.extend(shape);
        }
    }
    out.retain(|s| !s.indices.is_empty());
    Ok(out)
}

/// The findings as a GeoJSON FeatureCollection in longitude/latitude: one feature per finding
/// (a null geometry for the unlocated), the columns as properties (`codes` an array, `fix` an
/// object).
pub fn to_geojson(findings: &[FindingRecord]) -> Value {
    let features: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "type": "Feature",
                "geometry": f.location.clone().unwrap_or(Value::Null),
                "properties": {
                    "rule": f.rule,
                    "kind": f.kind,
                    "severity": f.severity,
                    "codes": f.codes,
                    "message": f.message_zh,
                    "message_en": f.message_en,
                    "fix": f.fix.as_ref().map(FixRecord::to_json),
                    "area_m2": f.area_m2,
                    "length_m": f.length_m,
                    "width_m": f.width_m,
                    "simplified": f.simplified,
                    "omitted": f.omitted,
                },
            })
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// A text as a DBF in `encoding` holds it: GBK has no superscript two or three, so the units
/// `m²` and `m³` of the English messages are written `m2` and `m3` (docs/formats.md); any
/// other character GBK lacks stays, and is refused when encoded.
fn dbf_text(text: String, encoding: Encoding) -> String {
    if encoding == Encoding::Gbk && text.contains(['²', '³']) {
        text.replace('²', "2").replace('³', "3")
    } else {
        text
    }
}

/// The DBF field of `column` over the findings of `indices`.
fn dbf_field(
    column: Column,
    findings: &[FindingRecord],
    indices: &[usize],
    opts: &Options,
) -> Result<FieldType, ExportError> {
    let cells = indices.iter().map(|&i| (i, column.value(&findings[i])));
    match column {
        Column::Simplified => Ok(FieldType::Logical),
        Column::AreaM2 | Column::LengthM | Column::WidthM | Column::Omitted => {
            let values: Vec<(usize, f64)> = cells
                .filter_map(|(i, c)| match c {
                    Cell::Real(x) => Some((i, x)),
                    Cell::Int(n) => Some((i, n as f64)),
                    _ => None,
                })
                .collect();
            if let Some(&(i, x)) = values.iter().find(|(_, x)| !x.is_finite()) {
                return Err(finding_error(
                    i,
                    &findings[i],
                    column.property(),
                    format!("{x} is not a number a DBF can hold"),
                ));
            }
            let fractional = column != Column::Omitted;
            super::shapefile::numeric_field(values.iter().map(|&(_, x)| x), fractional).ok_or_else(
                || {
                    let (i, x) = values
                        .iter()
                        .copied()
                        .max_by_key(|(_, x)| format!("{x}").len())
                        .unwrap_or((0, 0.0));
                    finding_error(
                        i,
                        &findings[i],
                        column.property(),
                        format!(
                            "{x} needs more than a DBF number field's 20 characters; export as GeoPackage"
                        ),
                    )
                },
            )
        }
        _ => {
            let mut len = 1usize;
            for (i, c) in cells {
                let Cell::Text(text) = c else { continue };
                let text = dbf_text(text, opts.encoding);
                let f = &findings[i];
                let bytes = opts.encoding.encode(&text).ok_or_else(|| {
                    finding_error(
                        i,
                        f,
                        column.property(),
                        format!(
                            "{text:?} has a character GBK cannot write; export with encoding utf-8"
                        ),
                    )
                })?;
                if bytes.len() > super::shapefile::MAX_TEXT {
                    return Err(finding_error(
                        i,
                        f,
                        column.property(),
                        format!(
                            "the text is {} bytes in {:?}, a DBF text field holds at most {}; nothing is cut: export as GeoPackage",
                            bytes.len(),
                            opts.encoding,
                            super::shapefile::MAX_TEXT
                        ),
                    ));
                }
                len = len.max(bytes.len());
            }
            Ok(FieldType::Char { len: len as u8 })
        }
    }
}

/// The files of one table: `.shp`, `.shx`, `.prj` (located tables), `.dbf`, `.cpg`.
fn table_files(
    findings: &[FindingRecord],
    split: &Split,
    opts: &Options,
    date: (u16, u8, u8),
) -> Result<Vec<(&'static str, Vec<u8>)>, ExportError> {
    let table = split.table.name();
    let mut files = Vec::new();
    let kind = match split.table {
        Table::Points => Some(ShapeType::MultiPoint),
        Table::Lines => Some(ShapeType::PolyLine),
        Table::Areas => Some(ShapeType::Polygon),
        Table::Unlocated => None,
    };
    if let Some(kind) = kind {
        let (shp, shx) = shp_write::write(kind, &split.shapes).map_err(|e| match &e {
            shp_write::ShpError::Empty(r) | shp_write::ShpError::NotFinite(r) => {
                match split.indices.get(*r) {
                    Some(&i) => finding_error(i, &findings[i], "location", e.to_string()),
                    None => ExportError::Table {
                        table: table.to_owned(),
                        message: e.to_string(),
                    },
                }
            }
            shp_write::ShpError::TooLarge => ExportError::Table {
                table: table.to_owned(),
                message: e.to_string(),
            },
        })?;
        files.push(("shp", shp));
        files.push(("shx", shx));
    }
    let fields = COLUMNS
        .iter()
        .map(|&c| {
            Ok(Field {
                name: c.name().to_owned(),
                kind: dbf_field(c, findings, &split.indices, opts)?,
            })
        })
        .collect::<Result<Vec<_>, ExportError>>()?;
    let records: Vec<Vec<dbf_write::Value>> = split
        .indices
        .iter()
        .map(|&i| {
            COLUMNS
                .iter()
                .map(|c| match c.value(&findings[i]) {
                    Cell::Null => dbf_write::Value::Null,
                    Cell::Text(t) => dbf_write::Value::Text(dbf_text(t, opts.encoding)),
                    Cell::Real(x) => dbf_write::Value::Number(x),
                    Cell::Int(n) => dbf_write::Value::Number(n as f64),
                    Cell::Bool(b) => dbf_write::Value::Bool(b),
                })
                .collect()
        })
        .collect();
    let dbf = dbf_write::write(&fields, &records, opts.encoding, date).map_err(|e| {
        match e.record().and_then(|r| split.indices.get(r)) {
            Some(&i) => finding_error(i, &findings[i], "attributes", e.to_string()),
            None => ExportError::Table {
                table: table.to_owned(),
                message: e.to_string(),
            },
        }
    })?;
    files.push(("dbf", dbf));
    if kind.is_some() {
        files.push(("prj", esri_wkt(opts.crs).into_bytes()));
    }
    files.push(("cpg", opts.encoding.cpg().as_bytes().to_vec()));
    Ok(files)
}

/// The findings as the bytes of a .zip of Shapefiles: per table with findings
/// `<table>.shp/.shx/.dbf/.prj/.cpg` (`findings_unlocated`: `.dbf` and `.cpg` only).
pub fn to_zip_bytes(findings: &[FindingRecord], opts: &Options) -> Result<Vec<u8>, ExportError> {
    let io = |e: &dyn std::fmt::Display| ExportError::Io(e.to_string());
    let splits = split(findings, opts.crs)?;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    let date = super::shapefile::today();
    for s in &splits {
        for (ext, bytes) in table_files(findings, s, opts, date)? {
            zip.start_file(format!("{}.{ext}", s.table.name()), options)
                .map_err(|e| io(&e))?;
            zip.write_all(&bytes).map_err(|e| io(&e))?;
        }
    }
    Ok(zip.finish().map_err(|e| io(&e))?.into_inner())
}

type Query<'a> = diesel::query_builder::BoxedSqlQuery<'a, Sqlite, diesel::query_builder::SqlQuery>;

fn bind(q: Query<'_>, cell: Cell) -> Query<'_> {
    match cell {
        Cell::Null => q.bind::<Nullable<Text>, _>(None::<String>),
        Cell::Text(t) => q.bind::<Nullable<Text>, _>(Some(t)),
        Cell::Real(x) => q.bind::<Nullable<Double>, _>(Some(x)),
        Cell::Int(n) => q.bind::<Nullable<diesel::sql_types::BigInt>, _>(Some(n)),
        Cell::Bool(b) => q.bind::<Nullable<Bool>, _>(Some(b)),
    }
}

fn write_tables(
    conn: &mut SqliteConnection,
    findings: &[FindingRecord],
    splits: &[Split],
    srs_id: i32,
) -> Result<(), ExportError> {
    let defs: Vec<(String, &str)> = COLUMNS
        .iter()
        .map(|c| (c.name().to_owned(), c.sql_type()))
        .collect();
    let names: Vec<String> = COLUMNS.iter().map(|c| ident(c.name())).collect();
    for s in splits {
        let table = s.table.name();
        let geom_type = match s.table {
            Table::Points => Some("MULTIPOINT"),
            Table::Lines => Some("MULTILINESTRING"),
            Table::Areas => Some("MULTIPOLYGON"),
            Table::Unlocated => None,
        };
        let insert = match geom_type {
            Some(g) => {
                create_feature_table(
                    conn,
                    table,
                    s.table.description(),
                    g,
                    &defs,
                    &s.shapes,
                    srs_id,
                )?;
                format!(
                    "INSERT INTO {} (geom, {}) VALUES (?{})",
                    ident(table),
                    names.join(", "),
                    ", ?".repeat(names.len())
                )
            }
            None => {
                let cols: Vec<String> = defs
                    .iter()
                    .map(|(n, t)| format!("{} {t}", ident(n)))
                    .collect();
                conn.batch_execute(&format!(
                    "CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, {})",
                    ident(table),
                    cols.join(", ")
                ))
                .map_err(gpkg::io)?;
                diesel::sql_query(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) VALUES (?, 'attributes', ?, ?)",
                )
                .bind::<Text, _>(table)
                .bind::<Text, _>(table)
                .bind::<Text, _>(s.table.description())
                .execute(conn)
                .map_err(gpkg::io)?;
                format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    ident(table),
                    names.join(", "),
                    vec!["?"; names.len()].join(", ")
                )
            }
        };
        for (row, &i) in s.indices.iter().enumerate() {
            let mut q = diesel::sql_query(insert.as_str()).into_boxed::<Sqlite>();
            if let Some(shape) = s.shapes.get(row).filter(|_| geom_type.is_some()) {
                q = q.bind::<Binary, _>(geometry_blob(shape, srs_id));
            }
            for c in COLUMNS {
                q = bind(q, c.value(&findings[i]));
            }
            q.execute(conn).map_err(gpkg::io)?;
        }
    }
    Ok(())
}

/// Writes the findings as a new GeoPackage at `path` (which must not exist): a feature table
/// per located table with findings, the attributes table `findings_unlocated`.
pub fn write_gpkg(
    findings: &[FindingRecord],
    opts: &Options,
    path: &std::path::Path,
) -> Result<(), ExportError> {
    let splits = split(findings, opts.crs)?;
    let srs_id = opts.crs.epsg() as i32;
    gpkg::create(path, opts.crs, |conn| {
        write_tables(conn, findings, &splits, srs_id)
    })
}

/// The findings as the bytes of a GeoPackage.
pub fn to_gpkg_bytes(findings: &[FindingRecord], opts: &Options) -> Result<Vec<u8>, ExportError> {
    gpkg::via_temp_file(|path| write_gpkg(findings, opts, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, location: Option<Value>) -> FindingRecord {
        FindingRecord {
            rule: rule.into(),
            kind: "k".into(),
            severity: "error".into(),
            codes: vec!["310116101001".into(), "310116101001B01".into()],
            location,
            area_m2: Some(12.345),
            length_m: None,
            width_m: Some(0.5),
            message_zh: "网格 310116101001 有缺口".into(),
            message_en: "grid 310116101001 has a gap".into(),
            fix: Some(FixRecord {
                action: "merge_into".into(),
                target: Some("310116101001B01".into()),
                zh: "并入".into(),
                en: "merge".into(),
            }),
            simplified: false,
            omitted: None,
        }
    }

    fn square() -> Value {
        json!({"type": "Polygon", "coordinates": [[[121.0, 31.0], [121.001, 31.0], [121.001, 31.001], [121.0, 31.0]]]})
    }

    fn sample() -> Vec<FindingRecord> {
        vec![
            finding("gap", Some(square())),
            finding("hierarchy", None),
            finding(
                "invalid_geometry",
                Some(json!({"type": "Point", "coordinates": [121.0, 31.0]})),
            ),
            finding(
                "containment",
                Some(json!({"type": "LineString", "coordinates": [[121.0, 31.0], [121.1, 31.1]]})),
            ),
            finding(
                "invalid_geometry",
                Some(json!({"type": "MultiPoint", "coordinates": [[121.0, 31.0], [121.2, 31.0]]})),
            ),
            finding(
                "overlap",
                Some(json!({"type": "MultiPolygon", "coordinates": []})),
            ),
        ]
    }

    #[test]
    fn every_finding_is_in_exactly_one_table() {
        let s = split(&sample(), FileCrs::CGCS2000).expect("split");
        let tables: Vec<(Table, Vec<usize>)> =
            s.iter().map(|s| (s.table, s.indices.clone())).collect();
        assert_eq!(
            tables,
            vec![
                (Table::Points, vec![2, 4]),
                (Table::Lines, vec![3]),
                (Table::Areas, vec![0]),
                // No location, and an empty one.
                (Table::Unlocated, vec![1, 5]),
            ]
        );
        let only_areas = split(&sample()[..1], FileCrs::CGCS2000).expect("split");
        assert_eq!(only_areas.len(), 1);
    }

    #[test]
    fn gbk_writes_square_metres_as_m2() {
        assert_eq!(
            dbf_text("3.5 m² 平方米".into(), Encoding::Gbk),
            "3.5 m2 平方米"
        );
        assert_eq!(dbf_text("3.5 m²".into(), Encoding::Utf8), "3.5 m²");
        let mut findings = sample();
        findings[0].message_en = "overlap of 3.5 m² (width 0.1 m)".into();
        assert!(to_zip_bytes(&findings, &Options::default()).is_ok());
    }

    #[test]
    fn column_names_fit_a_dbf() {
        for c in COLUMNS {
            assert!(c.name().len() <= 10 && c.name().is_ascii(), "{}", c.name());
        }
    }

    #[test]
    fn shapefile_zip_holds_a_lone_dbf_for_the_unlocated() {
        let opts = Options {
            crs: FileCrs::from_epsg(4528).expect("4528"),
            encoding: Encoding::Gbk,
        };
        let bytes = to_zip_bytes(&sample(), &opts).expect("exported");
        let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
        let mut names: Vec<&str> = archive.file_names().collect();
        names.sort_unstable();
        assert_eq!(
            names,
            vec![
                "findings_areas.cpg",
                "findings_areas.dbf",
                "findings_areas.prj",
                "findings_areas.shp",
                "findings_areas.shx",
                "findings_lines.cpg",
                "findings_lines.dbf",
                "findings_lines.prj",
                "findings_lines.shp",
                "findings_lines.shx",
                "findings_points.cpg",
                "findings_points.dbf",
                "findings_points.prj",
                "findings_points.shp",
                "findings_points.shx",
                "findings_unlocated.cpg",
                "findings_unlocated.dbf",
            ]
        );
    }

    #[test]
    fn values_a_dbf_cannot_hold_name_the_finding() {
        let mut findings = sample();
        findings[3].message_zh = "长".repeat(200);
        let err = to_zip_bytes(&findings, &Options::default()).expect_err("too long");
        match &err {
            ExportError::Finding {
                index,
                rule,
                property,
                ..
            } => assert_eq!(
                (*index, rule.as_str(), property.as_str()),
                (3, "containment", "message.zh")
            ),
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("finding 3 (containment)"), "{err}");
        // The GeoPackage has no length limit.
        assert!(to_gpkg_bytes(&findings, &Options::default()).is_ok());
        let mut findings = sample();
        findings[1].message_zh = "笑 😀".into();
        let err = to_zip_bytes(&findings, &Options::default()).expect_err("not GBK");
        assert!(err.to_string().contains("finding 1 (hierarchy)"), "{err}");
        let utf8 = Options {
            encoding: Encoding::Utf8,
            ..Options::default()
        };
        assert!(to_zip_bytes(&findings, &utf8).is_ok());
        // A location that is no geometry, and one outside the zone's reach.
        let mut findings = sample();
        findings[4].location = Some(json!({"type": "Circle"}));
        let err = to_zip_bytes(&findings, &Options::default()).expect_err("bad location");
        assert!(
            err.to_string()
                .contains("finding 4 (invalid_geometry), location"),
            "{err}"
        );
        let far = Options {
            crs: FileCrs::from_epsg(4528).expect("4528"),
            ..Options::default()
        };
        let mut findings = sample();
        findings[2].location = Some(json!({"type": "Point", "coordinates": [10.0, 31.0]}));
        let err = to_gpkg_bytes(&findings, &far).expect_err("outside the zone");
        assert!(
            err.to_string()
                .contains("finding 2 (invalid_geometry), location"),
            "{err}"
        );
    }

    #[test]
    fn geopackage_has_one_table_per_dimension_and_the_unlocated_as_attributes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.gpkg");
        let opts = Options {
            crs: FileCrs::from_epsg(4528).expect("4528"),
            encoding: Encoding::Gbk,
        };
        write_gpkg(&sample(), &opts, &path).expect("written");
        let mut conn = SqliteConnection::establish(path.to_str().expect("utf-8")).expect("opens");
        #[derive(QueryableByName, Debug, PartialEq)]
        struct Row {
            #[diesel(sql_type = Text)]
            table_name: String,
            #[diesel(sql_type = Text)]
            data_type: String,
        }
        let rows: Vec<Row> = diesel::sql_query(
            "SELECT table_name, data_type FROM gpkg_contents ORDER BY table_name",
        )
        .load(&mut conn)
        .expect("contents");
        let got: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.table_name.as_str(), r.data_type.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("findings_areas", "features"),
                ("findings_lines", "features"),
                ("findings_points", "features"),
                ("findings_unlocated", "attributes"),
            ]
        );
        #[derive(QueryableByName)]
        struct Msg {
            #[diesel(sql_type = Text)]
            message: String,
            #[diesel(sql_type = Nullable<Text>)]
            fix: Option<String>,
            #[diesel(sql_type = Text)]
            codes: String,
        }
        let m: Vec<Msg> = diesel::sql_query("SELECT message, fix, codes FROM findings_unlocated")
            .load(&mut conn)
            .expect("rows");
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].message, "网格 310116101001 有缺口");
        assert_eq!(m[0].codes, "310116101001,310116101001B01");
        let fix: Value = serde_json::from_str(m[0].fix.as_deref().expect("fix")).expect("json");
        assert_eq!(fix["target"], "310116101001B01");
        assert_eq!(fix["message"]["zh"], "并入");
    }

    #[test]
    fn geojson_keeps_every_finding() {
        let v = to_geojson(&sample());
        let features = v["features"].as_array().expect("features");
        assert_eq!(features.len(), 6);
        assert!(features[1]["geometry"].is_null());
        assert_eq!(features[0]["properties"]["codes"][1], "310116101001B01");
        assert_eq!(features[0]["properties"]["fix"]["action"], "merge_into");
    }
}
