//! Inspecting an upload for the web map's mapping step (`POST /api/v1/drafts/inspect`): what a
//! table-format file holds, without making features of it. See docs/formats.md.
//!
//! 1. The file is read into [`Table`]s by [`source::read_tables`] — every table format, the
//!    same limits and the same located problems as an upload (a truncated `.shp`, a bad
//!    `.cpg`) — except that an unknown coordinate system (no `.prj`, one not identified) is
//!    not a problem here: the layer is told with no system, the reason, and a guess from the
//!    coordinates' size ([`guess_crs`]), so the map can offer the choice.
//! 2. Per layer: its name and file, the declared geometry type, the record count, each column
//!    with up to [`SAMPLES`] distinct values, and the first [`PREVIEW_ROWS`] rows with their
//!    geometry summarised (type, vertices, first vertex in longitude/latitude when the system
//!    is known, else as written).
//! 3. A suggested [`ColumnMapping`] ([`suggest`]): the standard names, else common Chinese
//!    column names (网格编码 → code, 网格名称 → name, 所属街道 → parent, 图层 → layer, 类型 → kind,
//!    责任人/联系电话/职务 with the same number suffix → a person), preferring columns every
//!    layer has; a file layer without a layer column whose name is a layer's
//!    (`road_segment.shp`, 居村网格.shp) gets `layer_of`.

use super::crs::FileCrs;
use super::dbf::{DbfEncoding, EncodingSource};
use super::mapping::{ColumnMapping, PersonColumns};
use super::read::ReadError;
use super::source::{self, Format, ImportOptions, Table};
use crate::model::Layer;
use serde_json::Value;
use std::collections::BTreeSet;

/// Rows previewed per layer.
pub const PREVIEW_ROWS: usize = 5;
/// Distinct sample values per column.
pub const SAMPLES: usize = 5;
/// Characters of a sample or preview text kept (longer ones end in `…`).
pub const MAX_TEXT_CHARS: usize = 80;

/// What a file holds.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// Its file layers, in the order read.
    pub layers: Vec<LayerReport>,
    /// The mapping suggested for all of them.
    pub mapping: ColumnMapping,
}

/// One file layer.
#[derive(Debug, Clone)]
pub struct LayerReport {
    /// The file, as problems name it (`areas.shp`).
    pub file: String,
    /// The file layer's name (Shapefile stem).
    pub name: String,
    /// The declared geometry type (`polygon`, `polyline`, …), else that of the first row with
    /// a geometry.
    pub geometry_type: Option<String>,
    /// Records.
    pub records: usize,
    /// The columns, with samples.
    pub columns: Vec<ColumnReport>,
    /// The first rows.
    pub preview: Vec<PreviewRow>,
    /// The system identified (or given).
    pub crs: Option<FileCrs>,
    /// Why none is known.
    pub crs_unknown: Option<String>,
    /// A system the coordinates look like, when none is known.
    pub crs_guess: Option<FileCrs>,
    /// The text encoding and where it came from.
    pub encoding: Option<(DbfEncoding, EncodingSource)>,
}

/// One column.
#[derive(Debug, Clone)]
pub struct ColumnReport {
    /// Its name.
    pub name: String,
    /// Up to [`SAMPLES`] distinct non-empty values, in record order, as text.
    pub samples: Vec<String>,
    /// Rows with a non-empty value.
    pub filled: usize,
}

/// One previewed row.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    /// Its record number, from 1.
    pub record: usize,
    /// One value per column (long texts cut).
    pub values: Vec<Value>,
    /// Its geometry, summarised.
    pub geometry: GeometrySummary,
}

/// A geometry in a few numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeometrySummary {
    /// The GeoJSON type; `None`: no geometry.
    pub kind: Option<String>,
    /// Vertices.
    pub vertices: usize,
    /// The first vertex in longitude/latitude (the system known).
    pub first_lon_lat: Option<[f64; 2]>,
    /// The first vertex as written in the file (the system unknown).
    pub first_xy: Option<[f64; 2]>,
}

/// Inspects a file of a table format (GeoJSON has no tables: an error).
pub fn inspect(
    format: Format,
    name: &str,
    bytes: &[u8],
    opts: &ImportOptions,
) -> Result<Inspection, ReadError> {
    let opts = ImportOptions {
        keep_unknown_crs: true,
        ..opts.clone()
    };
    let tables = source::read_tables(format, name, bytes, &opts)?;
    Ok(of_tables(&tables))
}

/// The report of tables already read.
pub fn of_tables(tables: &[Table]) -> Inspection {
    Inspection {
        layers: tables.iter().map(layer_report).collect(),
        mapping: suggest(tables),
    }
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_TEXT_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(cut(s)),
        other => Some(cut(&other.to_string())),
    }
}

fn layer_report(t: &Table) -> LayerReport {
    let known = t.info.crs_unknown.is_none();
    let columns = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut samples: Vec<String> = Vec::new();
            let mut filled = 0;
            for row in &t.rows {
                let Some(s) = row.values.get(i).and_then(as_text) else {
                    continue;
                };
                filled += 1;
                if samples.len() < SAMPLES && !samples.contains(&s) {
                    samples.push(s);
                }
            }
            ColumnReport {
                name: c.clone(),
                samples,
                filled,
            }
        })
        .collect();
    let preview: Vec<PreviewRow> = t
        .rows
        .iter()
        .take(PREVIEW_ROWS)
        .map(|r| PreviewRow {
            record: r.record,
            values: r
                .values
                .iter()
                .map(|v| match v {
                    Value::String(s) => Value::String(cut(s)),
                    other => other.clone(),
                })
                .collect(),
            geometry: summarise(&r.geometry, known),
        })
        .collect();
    let geometry_type = t.info.geometry_type.clone().or_else(|| {
        t.rows
            .iter()
            .find_map(|r| r.geometry.get("type").and_then(Value::as_str))
            .map(str::to_owned)
    });
    let crs_guess = match t.info.crs_unknown {
        Some(_) => t
            .rows
            .iter()
            .find_map(|r| first_vertex(&r.geometry))
            .and_then(|[x, y]| guess_crs(x, y)),
        None => None,
    };
    LayerReport {
        file: t.file.clone(),
        name: t.layer.clone(),
        geometry_type,
        records: t.rows.len(),
        columns,
        preview,
        crs: t.info.crs,
        crs_unknown: t.info.crs_unknown.clone(),
        crs_guess,
        encoding: t.info.encoding,
    }
}

/// The vertices of a GeoJSON geometry's coordinates, and the first.
fn walk(v: &Value, n: &mut usize, first: &mut Option<[f64; 2]>) {
    let Some(a) = v.as_array() else {
        return;
    };
    if let (Some(x), Some(y)) = (
        a.first().and_then(Value::as_f64),
        a.get(1).and_then(Value::as_f64),
    ) {
        *n += 1;
        if first.is_none() {
            *first = Some([x, y]);
        }
        return;
    }
    for c in a {
        walk(c, n, first);
    }
}

fn first_vertex(g: &Value) -> Option<[f64; 2]> {
    let mut n = 0;
    let mut first = None;
    walk(g.get("coordinates")?, &mut n, &mut first);
    first
}

/// A geometry's type, vertex count and first vertex (`lon_lat`: its coordinates are
/// longitude/latitude).
pub fn summarise(g: &Value, lon_lat: bool) -> GeometrySummary {
    let Some(kind) = g.get("type").and_then(Value::as_str) else {
        return GeometrySummary::default();
    };
    let mut vertices = 0;
    let mut first = None;
    if let Some(c) = g.get("coordinates") {
        walk(c, &mut vertices, &mut first);
    }
    GeometrySummary {
        kind: Some(kind.to_string()),
        vertices,
        first_lon_lat: first.filter(|_| lon_lat),
        first_xy: first.filter(|_| !lon_lat),
    }
}

/// The system a vertex `(x, y)` of an unknown system looks like: longitude/latitude over China
/// (EPSG:4490), or a CGCS2000 Gauss–Krüger easting with its zone in front (3° zones 25–45:
/// EPSG:4513–4533; 6° zones 13–23: EPSG:4491–4501). A guess to offer, never applied.
pub fn guess_crs(x: f64, y: f64) -> Option<FileCrs> {
    if (73.0..=136.0).contains(&x) && (3.0..=54.0).contains(&y) {
        return Some(FileCrs::CGCS2000);
    }
    if !(0.0..10_000_000.0).contains(&y) || !(10_000_000.0..100_000_000.0).contains(&x) {
        return None;
    }
    let zone = (x / 1_000_000.0).floor() as u32;
    let code = match zone {
        25..=45 => 4513 + (zone - 25),
        13..=23 => 4491 + (zone - 13),
        _ => return None,
    };
    FileCrs::from_epsg(code).ok()
}

const CODE: &[&str] = &[
    "code",
    "网格编码",
    "编码",
    "代码",
    "编号",
    "网格代码",
    "网格编号",
];
const NAME: &[&str] = &["name", "网格名称", "名称", "名字"];
const PARENT: &[&str] = &[
    "parent",
    "所属街道",
    "所属街镇",
    "上级编码",
    "父级",
    "父级编码",
    "上级",
];
const LAYER: &[&str] = &["layer", "图层", "层", "层级"];
const KIND: &[&str] = &["kind", "类型", "类别"];
const PERSON: &[&str] = &["责任人", "负责人", "网格员", "姓名", "联系人", "人员"];
const PHONE: &[&str] = &["联系电话", "电话", "手机", "手机号", "联系方式"];
const STAFF: &[&str] = &["工号", "staff_id"];
const ROLE: &[&str] = &["职务", "角色", "岗位", "role"];

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b)
}

/// The first of `names` that is a column, preferring one every table has.
fn pick(tables: &[Table], names: &[&str]) -> Option<String> {
    let has = |t: &Table, n: &str| t.columns.iter().find(|c| same(c, n)).cloned();
    let everywhere = names.iter().find_map(|n| {
        let found: Vec<String> = tables.iter().filter_map(|t| has(t, n)).collect();
        (found.len() == tables.len() && !found.is_empty()).then(|| found[0].clone())
    });
    everywhere.or_else(|| {
        names
            .iter()
            .find_map(|n| tables.iter().find_map(|t| has(t, n)))
    })
}

/// A column's name as one of `bases` followed by an optional number: the number (`""` for
/// none).
fn suffix_of<'a>(column: &'a str, bases: &[&str]) -> Option<&'a str> {
    bases.iter().find_map(|b| {
        let rest = column.trim().strip_prefix(b)?;
        rest.chars()
            .all(|c| c.is_ascii_digit() || c == '_')
            .then_some(rest)
    })
}

/// The mapping suggested for `tables` (see the module doc).
pub fn suggest(tables: &[Table]) -> ColumnMapping {
    let mut m = ColumnMapping {
        code: pick(tables, CODE),
        name: pick(tables, NAME),
        parent: pick(tables, PARENT),
        layer: pick(tables, LAYER),
        kind: pick(tables, KIND),
        ..ColumnMapping::default()
    };
    for t in tables {
        if m.layer.as_ref().is_some_and(|l| t.columns.contains(l)) {
            continue;
        }
        if let Some(l) = Layer::ALL
            .into_iter()
            .find(|l| same(&t.layer, l.as_str()) || t.layer.trim() == l.name_zh())
        {
            m.layer_of.insert(t.layer.clone(), l.as_str().to_string());
        }
    }
    // People: name columns (责任人, 责任人1 …) with the phone, staff number and role column of
    // the same suffix, from the columns of the first table holding any.
    let Some(t) = tables
        .iter()
        .find(|t| t.columns.iter().any(|c| suffix_of(c, PERSON).is_some()))
    else {
        return m;
    };
    let mut seen = BTreeSet::new();
    for c in &t.columns {
        let Some(n) = suffix_of(c, PERSON) else {
            continue;
        };
        if !seen.insert(n.to_string()) || m.people.len() >= super::mapping::MAX_PEOPLE {
            continue;
        }
        let with = |bases: &[&str]| {
            t.columns
                .iter()
                .find(|x| suffix_of(x, bases) == Some(n))
                .cloned()
        };
        let role_column = with(ROLE);
        m.people.push(PersonColumns {
            role: role_column
                .is_none()
                .then(|| crate::model::Role::Assistant.as_str().to_string()),
            role_column,
            name: c.clone(),
            phone: with(PHONE),
            staff_id: with(STAFF),
        });
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo_io::source::{Row, TableInfo};
    use serde_json::json;

    fn table(layer: &str, columns: &[&str], rows: Vec<Vec<Value>>) -> Table {
        Table {
            file: format!("{layer}.shp"),
            layer: layer.into(),
            record_name: "record",
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: rows
                .into_iter()
                .enumerate()
                .map(|(i, values)| Row {
                    record: i + 1,
                    values,
                    geometry: json!({"type": "Polygon", "coordinates": [[[40_512_345.0, 3_419_876.0], [1.0, 2.0], [3.0, 4.0], [40_512_345.0, 3_419_876.0]]]}),
                })
                .collect(),
            info: TableInfo {
                crs_unknown: Some("no .prj".into()),
                ..TableInfo::default()
            },
        }
    }

    #[test]
    fn chinese_columns_suggested() {
        let cols = [
            "图层",
            "网格编码",
            "网格名称",
            "所属街道",
            "类型",
            "职务1",
            "责任人1",
            "联系电话1",
            "责任人2",
            "电话2",
            "备注",
        ];
        let row = |code: &str| {
            let mut v = vec![json!("居村网格"), json!(code)];
            v.extend((2..cols.len()).map(|_| Value::Null));
            v
        };
        let t = table("areas", &cols, vec![row("G1"), row("G2"), row("G1")]);
        let m = suggest(std::slice::from_ref(&t));
        let expected = ColumnMapping::from_json(
            r#"{"layer":"图层","code":"网格编码","name":"网格名称","parent":"所属街道","kind":"类型",
                "people":[{"role_column":"职务1","name":"责任人1","phone":"联系电话1"},
                          {"role":"assistant","name":"责任人2","phone":"电话2"}]}"#,
        )
        .expect("mapping");
        assert_eq!(m, expected);
        let r = layer_report(&t);
        assert_eq!(r.columns[1].samples, ["G1", "G2"]);
        assert_eq!(r.columns[1].filled, 3);
        assert_eq!(r.columns[2].filled, 0);
        assert_eq!(r.preview.len(), 3);
        assert_eq!(
            r.preview[0].geometry,
            GeometrySummary {
                kind: Some("Polygon".into()),
                vertices: 4,
                first_lon_lat: None,
                first_xy: Some([40_512_345.0, 3_419_876.0]),
            }
        );
        assert_eq!(r.crs_guess.map(FileCrs::epsg), Some(4528));
        assert_eq!(r.geometry_type.as_deref(), Some("Polygon"));
    }

    #[test]
    fn standard_names_and_layer_per_file() {
        let a = table("road_segment", &["code", "name", "parent"], vec![]);
        let b = table("街镇", &["CODE", "name"], vec![]);
        let m = suggest(&[a, b]);
        assert_eq!(m.code.as_deref(), Some("code"));
        assert_eq!(m.name.as_deref(), Some("name"));
        assert_eq!(m.parent.as_deref(), Some("parent"));
        assert_eq!(m.layer, None);
        assert_eq!(m.layer_of["road_segment"], "road_segment");
        assert_eq!(m.layer_of["街镇"], "street");
        assert!(m.people.is_empty());
    }

    #[test]
    fn guesses() {
        assert_eq!(guess_crs(121.2, 30.8).map(FileCrs::epsg), Some(4490));
        assert_eq!(
            guess_crs(20_512_345.0, 3_400_000.0).map(FileCrs::epsg),
            Some(4498)
        );
        assert_eq!(guess_crs(512_345.0, 3_400_000.0), None);
        assert_eq!(guess_crs(50_512_345.0, 3_400_000.0), None);
        assert_eq!(cut(&"长".repeat(100)).chars().count(), MAX_TEXT_CHARS + 1);
    }
}
