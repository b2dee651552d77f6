//! The Shapefile export: a .zip holding, for every layer with features, `<layer>.shp`, `.shx`,
//! `.dbf` (GBK or UTF-8), `.prj` (ESRI WKT, `geo_io::prj_write`) and `.cpg`.

use super::table::{self, ColumnType, Source};
use super::{ExportError, Options, project};
use crate::geo_io::dbf_write::{self, Encoding, Field, FieldType};
use crate::geo_io::prj_write::esri_wkt;
use crate::geo_io::shp_write::{self, ShapeType};
use crate::model::{Feature, FeatureSet, Layer};
use serde_json::Value;
use std::collections::HashSet;
use std::io::Write;

/// The widest DBF text field, in bytes.
pub const MAX_TEXT: usize = 254;

/// One column of a layer's DBF: its name, where the values come from, its DBF type.
#[derive(Debug, Clone, PartialEq)]
pub struct DbfColumn {
    /// The DBF field name (≤ 10 bytes in the encoding).
    pub name: String,
    /// The property.
    pub source: Source,
    /// The DBF field type.
    pub kind: FieldType,
    ty: ColumnType,
}

/// The DBF name of a column: the fixed ones (`layer`, `code`, `p1_name`, …) as they are, an
/// attribute's key cut to 10 bytes in the encoding and made unique with `_2`, `_3`, ….
fn column_name(
    source: &Source,
    taken: &mut HashSet<String>,
    encoding: Encoding,
    table: &str,
) -> Result<String, ExportError> {
    let wanted = match source {
        Source::Person(i, part) => format!("p{}_{}", i + 1, part.suffix()),
        Source::Attribute(k) => k.clone(),
        other => other.property(),
    };
    let fits = |s: &str| {
        encoding
            .encode(s)
            .is_some_and(|b| !b.is_empty() && b.len() <= 10 && !b.contains(&0))
    };
    if encoding.encode(&wanted).is_none() {
        return Err(ExportError::Table {
            table: table.to_owned(),
            message: format!(
                "the attribute name {wanted:?} has a character GBK cannot write; export with encoding utf-8"
            ),
        });
    }
    table::unique_name(&wanted, taken, fits).ok_or_else(|| ExportError::Table {
        table: table.to_owned(),
        message: format!("no DBF field name of at most 10 bytes could be made from {wanted:?}"),
    })
}

/// Digits after the decimal point in Rust's shortest form of `x`.
fn decimals(x: f64) -> usize {
    let s = format!("{x}");
    s.split_once('.').map_or(0, |(_, d)| d.len())
}

/// An N field as wide as `values` need: as many decimals as the longest shortest-round-trip
/// fraction when `fractional` (whole numbers otherwise); `None` when that is over 20
/// characters or 15 decimals.
pub(crate) fn numeric_field(
    values: impl Iterator<Item = f64>,
    fractional: bool,
) -> Option<FieldType> {
    let (mut len, mut dec) = (1usize, 0usize);
    for v in values {
        let d = if fractional { decimals(v) } else { 0 };
        dec = dec.max(d);
        let int_len = format!("{:.0}", v.trunc()).len() + usize::from(v < 0.0 && v.trunc() == 0.0);
        len = len.max(int_len);
    }
    let len = len + if dec > 0 { dec + 1 } else { 0 };
    (len <= 20 && dec <= 15).then_some(FieldType::Numeric {
        len: len as u8,
        dec: dec as u8,
    })
}

/// The DBF columns of a layer's features, sized to their values.
pub fn columns(
    features: &[&Feature],
    encoding: Encoding,
    table: &str,
) -> Result<Vec<DbfColumn>, ExportError> {
    let mut taken = HashSet::new();
    let mut out = Vec::new();
    for source in table::sources(features, true) {
        let name = column_name(&source, &mut taken, encoding, table)?;
        let values: Vec<Value> = features.iter().map(|f| source.value(f)).collect();
        let mut ty = ColumnType::of(values.iter());
        let numeric = |ty: ColumnType| {
            numeric_field(
                values.iter().filter_map(Value::as_f64),
                ty == ColumnType::Real,
            )
        };
        let kind = match ty {
            ColumnType::Bool => FieldType::Logical,
            ColumnType::Integer | ColumnType::Real => match numeric(ty) {
                Some(k) => k,
                None => {
                    ty = ColumnType::Json;
                    text_field(features, &source, &values, encoding)?
                }
            },
            ColumnType::Text | ColumnType::Json => {
                text_field(features, &source, &values, encoding)?
            }
        };
        out.push(DbfColumn {
            name,
            source,
            kind,
            ty,
        });
    }
    if out.len() > 255 {
        return Err(ExportError::Table {
            table: table.to_owned(),
            message: format!(
                "{} columns; a DBF table has at most 255 (export as GeoPackage)",
                out.len()
            ),
        });
    }
    Ok(out)
}

/// A C field as wide as the longest value; a value over 254 bytes or with a character the
/// encoding cannot write is an error naming the feature.
fn text_field(
    features: &[&Feature],
    source: &Source,
    values: &[Value],
    encoding: Encoding,
) -> Result<FieldType, ExportError> {
    let mut len = 1usize;
    for (f, v) in features.iter().zip(values) {
        let Some(text) = table::as_text(v) else {
            continue;
        };
        let err = |message: String| ExportError::Feature {
            layer: f.layer,
            code: f.code.clone(),
            property: source.property(),
            message,
        };
        let bytes = encoding.encode(&text).ok_or_else(|| {
            err(format!(
                "{text:?} has a character GBK cannot write; export with encoding utf-8"
            ))
        })?;
        if bytes.len() > MAX_TEXT {
            return Err(err(format!(
                "the text is {} bytes in {encoding:?}, a DBF text field holds at most {MAX_TEXT}; nothing is cut: export as GeoPackage, or shorten it",
                bytes.len()
            )));
        }
        len = len.max(bytes.len());
    }
    Ok(FieldType::Char { len: len as u8 })
}

fn dbf_value(c: &DbfColumn, v: Value) -> dbf_write::Value {
    match (c.ty, v) {
        (_, Value::Null) => dbf_write::Value::Null,
        (ColumnType::Bool, Value::Bool(b)) => dbf_write::Value::Bool(b),
        (ColumnType::Integer | ColumnType::Real, Value::Number(n)) => n
            .as_f64()
            .map_or(dbf_write::Value::Null, dbf_write::Value::Number),
        (_, v) => table::as_text(&v).map_or(dbf_write::Value::Null, dbf_write::Value::Text),
    }
}

/// The five files of one layer: (extension, bytes).
pub fn layer_files(
    layer: Layer,
    features: &[&Feature],
    opts: &Options,
    date: (u16, u8, u8),
) -> Result<Vec<(&'static str, Vec<u8>)>, ExportError> {
    let table = layer.as_str();
    let columns = columns(features, opts.encoding, table)?;
    let shapes = features
        .iter()
        .map(|f| project(f, opts.crs))
        .collect::<Result<Vec<_>, _>>()?;
    let kind = if layer.is_area() {
        ShapeType::Polygon
    } else {
        ShapeType::PolyLine
    };
    let (shp, shx) = shp_write::write(kind, &shapes).map_err(|e| {
        let code = match &e {
            shp_write::ShpError::Empty(i) | shp_write::ShpError::NotFinite(i) => {
                features.get(*i).map(|f| f.code.clone())
            }
            shp_write::ShpError::TooLarge => None,
        };
        match code {
            Some(code) => ExportError::Feature {
                layer,
                code,
                property: "geometry".into(),
                message: e.to_string(),
            },
            None => ExportError::Table {
                table: table.to_owned(),
                message: e.to_string(),
            },
        }
    })?;
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| Field {
            name: c.name.clone(),
            kind: c.kind,
        })
        .collect();
    let records: Vec<Vec<dbf_write::Value>> = features
        .iter()
        .map(|f| {
            columns
                .iter()
                .map(|c| dbf_value(c, c.source.value(f)))
                .collect()
        })
        .collect();
    let dbf = dbf_write::write(&fields, &records, opts.encoding, date).map_err(|e| {
        match e.record().and_then(|r| features.get(r)) {
            Some(f) => ExportError::Feature {
                layer,
                code: f.code.clone(),
                property: "attributes".into(),
                message: e.to_string(),
            },
            None => ExportError::Table {
                table: table.to_owned(),
                message: e.to_string(),
            },
        }
    })?;
    Ok(vec![
        ("shp", shp),
        ("shx", shx),
        ("dbf", dbf),
        ("prj", esri_wkt(opts.crs).into_bytes()),
        ("cpg", opts.encoding.cpg().as_bytes().to_vec()),
    ])
}

/// The layers of `set` with features, in hierarchy order, with their features in file order.
pub fn layers(set: &FeatureSet) -> Vec<(Layer, Vec<&Feature>)> {
    Layer::ALL
        .into_iter()
        .map(|l| (l, set.layer(l).collect::<Vec<_>>()))
        .filter(|(_, fs)| !fs.is_empty())
        .collect()
}

/// Today's date (UTC) for the DBF header.
pub(crate) fn today() -> (u16, u8, u8) {
    use chrono::Datelike;
    let d = chrono::Utc::now().date_naive();
    (
        u16::try_from(d.year()).unwrap_or(2000),
        d.month() as u8,
        d.day() as u8,
    )
}

/// `set` as a .zip of Shapefiles, one per layer with features.
pub fn write_zip<W: Write + std::io::Seek>(
    set: &FeatureSet,
    opts: &Options,
    out: W,
) -> Result<W, ExportError> {
    let io = |e: &dyn std::fmt::Display| ExportError::Io(e.to_string());
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    let date = today();
    for (layer, features) in layers(set) {
        for (ext, bytes) in layer_files(layer, &features, opts, date)? {
            zip.start_file(format!("{}.{ext}", layer.as_str()), options)
                .map_err(|e| io(&e))?;
            zip.write_all(&bytes).map_err(|e| io(&e))?;
        }
    }
    zip.finish().map_err(|e| io(&e))
}

/// `set` as the bytes of a .zip of Shapefiles.
pub fn to_zip_bytes(set: &FeatureSet, opts: &Options) -> Result<Vec<u8>, ExportError> {
    Ok(write_zip(set, opts, std::io::Cursor::new(Vec::new()))?.into_inner())
}
