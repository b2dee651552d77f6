//! Shapefile reading: one layer (`.shp` geometry through the `shapefile` crate, `.dbf` through
//! [`super::dbf`], `.prj` through [`super::prj`], `.cpg`) into a [`Table`] of rows with
//! GeoJSON geometry in longitude/latitude. See docs/formats.md.
//!
//! 1. The system: the one given (`--crs`, `crs=`) wins, else the `.prj` (one not identified is
//!    a problem naming the `.prj` and why); no `.prj` and none given is a problem. When
//!    inspecting ([`Options::keep_unknown_crs`]) an unknown system is not a problem: the
//!    coordinates are kept as they are and the reason told in the table's `info`.
//! 2. The `.dbf`: fields decoded in the encoding of [`super::dbf::choose_encoding`]; a name or
//!    value not valid in it is a problem naming record and field (and the encoding's source).
//! 3. Each record: the shape read in turn (a truncated or corrupt `.shp` is a problem at the
//!    record where reading failed), its type checked against the file header's (a record of
//!    another family is "mixed geometry"), rings grouped into polygons (each hole goes to the
//!    outer ring containing its first vertex; ring order in a Shapefile is free), every vertex
//!    converted to longitude/latitude; a converted vertex outside China (73–136°E, 3–54°N) from
//!    a projected system is a problem suggesting a wrong `.prj` or zone prefix. Z and M are
//!    dropped; a null shape is a missing geometry; points are passed on (the layer checks
//!    refuse them); multipatches are refused.
//! 4. The `.shp` and `.dbf` must hold the same number of records.
//!
//! Record numbers in problems count from 1 (the first record is record 1; ArcGIS's FID is
//! one less).

use super::crs::FileCrs;
use super::dbf::{self, DbfEncoding, RawTable};
use super::prj;
use super::read::Problem;
use super::source::{Row, Table, TableInfo};
use super::wkb::lon_lat;
use serde_json::{Value, json};
use shapefile::record::traits::HasXY;
use shapefile::{PolygonRing, Shape, ShapeType};
use std::io::Cursor;

/// The files of one Shapefile layer.
#[derive(Debug, Clone, Copy)]
pub struct Files<'a> {
    /// The name of the `.shp` as given or in the archive (used in problems).
    pub shp_name: &'a str,
    /// The file layer's name (the stem).
    pub layer: &'a str,
    /// `.shp` bytes.
    pub shp: &'a [u8],
    /// `.dbf` bytes.
    pub dbf: Option<&'a [u8]>,
    /// `.prj` bytes.
    pub prj: Option<&'a [u8]>,
    /// `.cpg` bytes.
    pub cpg: Option<&'a [u8]>,
}

/// Options of one layer's reading.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The system, overriding the `.prj`.
    pub crs: Option<FileCrs>,
    /// The DBF encoding, overriding the `.cpg`.
    pub encoding: Option<DbfEncoding>,
    /// Most records.
    pub max_records: usize,
    /// Most vertices in one record.
    pub max_positions: usize,
    /// An unknown system is no problem: the coordinates are kept as they are and the reason
    /// goes to [`TableInfo::crs_unknown`] (for inspecting).
    pub keep_unknown_crs: bool,
}

/// A problem located at `path` (no feature index or code yet).
pub(crate) fn problem(path: String, message: String) -> Problem {
    Problem {
        index: None,
        code: None,
        path,
        message,
    }
}

/// Reads one layer; `Err` holds every problem found (file-level ones stop the reading).
pub fn read_layer(files: &Files<'_>, opts: &Options) -> Result<Table, Vec<Problem>> {
    let name = files.shp_name;
    let stem_file = |ext: &str| {
        let base = name
            .strip_suffix(".shp")
            .or_else(|| name.strip_suffix(".SHP"));
        format!("{}.{ext}", base.unwrap_or(name))
    };
    let mut problems = Vec::new();
    let mut crs_unknown = None;
    let mut unknown = |problems: &mut Vec<Problem>, message: String| {
        if opts.keep_unknown_crs {
            crs_unknown = Some(message);
        } else {
            problems.push(problem(stem_file("prj"), message));
        }
    };
    let crs = match (opts.crs, files.prj) {
        (Some(c), _) => Some(c),
        (None, Some(p)) => match prj::identify(p) {
            Ok(c) => Some(c),
            Err(e) => {
                unknown(
                    &mut problems,
                    format!("{e} — or give the coordinate system (e.g. EPSG:4528) explicitly"),
                );
                None
            }
        },
        (None, None) => {
            unknown(
                &mut problems,
                "missing: the .prj says which coordinate system the coordinates are in; add it, or give the system (e.g. --crs EPSG:4528, crs=EPSG:4528)".into(),
            );
            None
        }
    };
    let Some(dbf_bytes) = files.dbf else {
        problems.push(problem(
            stem_file("dbf"),
            "missing: the .dbf holds the attributes (code, name, …) of each shape".into(),
        ));
        return Err(problems);
    };
    let limits = dbf::Limits {
        max_records: opts.max_records,
        ..dbf::Limits::default()
    };
    let table = match RawTable::parse(dbf_bytes, &limits) {
        Ok(t) => t,
        Err(e) => {
            problems.push(problem(stem_file("dbf"), e.to_string()));
            return Err(problems);
        }
    };
    let (enc, source) = match dbf::choose_encoding(opts.encoding, files.cpg, &table) {
        Ok(x) => x,
        Err(e) => {
            problems.push(problem(stem_file("cpg"), e));
            return Err(problems);
        }
    };
    let dbf_name = stem_file("dbf");
    let wrong = |what: String| {
        format!(
            "{what} is not valid {} (chosen by {}); give the right encoding (utf-8 or gbk)",
            enc.as_str(),
            source.describe()
        )
    };
    let mut columns = Vec::with_capacity(table.fields.len());
    for (i, f) in table.fields.iter().enumerate() {
        match enc.decode(f.name) {
            Some(n) => columns.push(n.into_owned()),
            None => {
                problems.push(problem(
                    format!("{dbf_name} field {}", i + 1),
                    wrong("the field name".into()),
                ));
                columns.push(format!("field{}", i + 1));
            }
        }
    }
    if crs.is_none() && crs_unknown.is_none() {
        return Err(problems);
    }
    let mut reader = match shapefile::ShapeReader::new(Cursor::new(files.shp)) {
        Ok(r) => r,
        Err(e) => {
            problems.push(problem(
                name.to_string(),
                format!("not a readable .shp: {e}"),
            ));
            return Err(problems);
        }
    };
    let header_type = reader.header().shape_type;
    let declared = usize::try_from(reader.header().file_length)
        .unwrap_or(0)
        .saturating_mul(2);
    if declared > files.shp.len() {
        problems.push(problem(
            name.to_string(),
            format!(
                "truncated: the header says {declared} bytes, the file has {}",
                files.shp.len()
            ),
        ));
    }
    let mut rows = Vec::new();
    for (i, shape) in reader.iter_shapes().enumerate() {
        let record = i + 1;
        if i >= opts.max_records {
            problems.push(problem(
                format!("{name} record {record}"),
                format!("more than {} records (the limit)", opts.max_records),
            ));
            return Err(problems);
        }
        let shape = match shape {
            Ok(s) => s,
            Err(e) => {
                problems.push(problem(
                    format!("{name} record {record}"),
                    format!("cannot read the shape ({e}): the .shp is truncated or corrupt here"),
                ));
                break;
            }
        };
        let at = format!("{name} record {record}, geometry");
        let geometry = match convert(&shape, header_type, crs, opts.max_positions) {
            Ok(g) => g,
            Err(m) => {
                problems.push(problem(at, m));
                Value::Null
            }
        };
        let values = match table.record(i) {
            None => {
                problems.push(problem(
                    format!("{dbf_name} record {record}"),
                    format!(
                        "missing: the .dbf has {} complete record(s) (its header says {}); it is truncated or belongs to another .shp",
                        table.complete(),
                        table.len()
                    ),
                ));
                continue;
            }
            Some((_, raw)) => {
                let mut vals = Vec::with_capacity(raw.len());
                for (f, (v, col)) in table.fields.iter().zip(raw.iter().zip(&columns)) {
                    match cell(f.kind, f.decimals, v, enc) {
                        Some(x) => vals.push(x),
                        None => {
                            problems.push(problem(
                                format!("{dbf_name} record {record}, field {col}"),
                                wrong(format!("the value ({} bytes)", v.len())),
                            ));
                            vals.push(Value::Null);
                        }
                    }
                }
                vals
            }
        };
        rows.push(Row {
            record,
            values,
            geometry,
        });
    }
    if problems.is_empty() && rows.len() != table.len() {
        problems.push(problem(
            dbf_name.clone(),
            format!(
                "the .dbf has {} records but the .shp {}: they must match one to one",
                table.len(),
                rows.len()
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Table {
        file: name.to_string(),
        layer: files.layer.to_string(),
        record_name: "record",
        columns,
        rows,
        info: TableInfo {
            crs,
            crs_unknown,
            encoding: Some((enc, source)),
            geometry_type: Some(family_name(family(header_type)).to_string()),
        },
    })
}

/// A DBF value: text for C (and D, L as written), integers and decimals as numbers; empty is
/// null. `None`: not valid text in the encoding.
fn cell(kind: u8, decimals: u8, v: &[u8], enc: DbfEncoding) -> Option<Value> {
    if v.is_empty() {
        return Some(Value::Null);
    }
    let s = enc.decode(v)?;
    if matches!(kind, b'N' | b'F') {
        if decimals == 0 {
            if let Ok(n) = s.parse::<i64>() {
                return Some(Value::from(n));
            }
        }
        if let Ok(x) = s.parse::<f64>() {
            if x.is_finite() {
                return Some(json!(x));
            }
        }
        if s.chars().all(|c| c == '*') {
            return Some(Value::Null); // an overflowed number
        }
    }
    Some(Value::String(s.into_owned()))
}

#[derive(PartialEq, Clone, Copy, Debug)]
enum Family {
    Null,
    Point,
    Line,
    Area,
    MultiPoint,
    Patch,
}

fn family(t: ShapeType) -> Family {
    use ShapeType as T;
    match t {
        T::NullShape => Family::Null,
        T::Point | T::PointZ | T::PointM => Family::Point,
        T::Polyline | T::PolylineZ | T::PolylineM => Family::Line,
        T::Polygon | T::PolygonZ | T::PolygonM => Family::Area,
        T::Multipoint | T::MultipointZ | T::MultipointM => Family::MultiPoint,
        T::Multipatch => Family::Patch,
    }
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::Null => "null shape",
        Family::Point => "point",
        Family::Line => "polyline",
        Family::Area => "polygon",
        Family::MultiPoint => "multipoint",
        Family::Patch => "multipatch",
    }
}

struct Conv {
    /// `None`: unknown, the coordinates kept as they are.
    crs: Option<FileCrs>,
    n: usize,
    max: usize,
}

impl Conv {
    fn pt<P: HasXY>(&mut self, p: &P) -> Result<Value, String> {
        self.n += 1;
        if self.n > self.max {
            return Err(format!(
                "more than {} vertices in one record (the limit)",
                self.max
            ));
        }
        let (x, y) = (p.x(), p.y());
        let Some(crs) = self.crs else {
            return Ok(json!([x, y]));
        };
        let (lon, lat) = lon_lat(crs, self.n, x, y, "the .prj (or the system given)")?;
        Ok(json!([lon, lat]))
    }

    fn line<P: HasXY>(&mut self, pts: &[P]) -> Result<Value, String> {
        pts.iter()
            .map(|p| self.pt(p))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    }
}

fn convert(
    shape: &Shape,
    header: ShapeType,
    crs: Option<FileCrs>,
    max: usize,
) -> Result<Value, String> {
    let rec = family(shape.shapetype());
    let head = family(header);
    if rec != Family::Null && rec != head {
        return Err(format!(
            "a {} in a {} layer: mixed geometry (a Shapefile holds one geometry type; split the layer)",
            family_name(rec),
            family_name(head)
        ));
    }
    let mut c = Conv { crs, n: 0, max };
    match shape {
        Shape::NullShape => Ok(Value::Null),
        Shape::Point(p) => Ok(json!({"type": "Point", "coordinates": c.pt(p)?})),
        Shape::PointM(p) => Ok(json!({"type": "Point", "coordinates": c.pt(p)?})),
        Shape::PointZ(p) => Ok(json!({"type": "Point", "coordinates": c.pt(p)?})),
        Shape::Multipoint(m) => {
            Ok(json!({"type": "MultiPoint", "coordinates": c.line(m.points())?}))
        }
        Shape::MultipointM(m) => {
            Ok(json!({"type": "MultiPoint", "coordinates": c.line(m.points())?}))
        }
        Shape::MultipointZ(m) => {
            Ok(json!({"type": "MultiPoint", "coordinates": c.line(m.points())?}))
        }
        Shape::Polyline(l) => lines(&mut c, l.parts()),
        Shape::PolylineM(l) => lines(&mut c, l.parts()),
        Shape::PolylineZ(l) => lines(&mut c, l.parts()),
        Shape::Polygon(p) => polygons(&mut c, p.rings()),
        Shape::PolygonM(p) => polygons(&mut c, p.rings()),
        Shape::PolygonZ(p) => polygons(&mut c, p.rings()),
        Shape::Multipatch(_) => {
            Err("a multipatch (3-D surface) is not taken; export the layer as polygons".into())
        }
    }
}

fn lines<P: HasXY>(c: &mut Conv, parts: &[Vec<P>]) -> Result<Value, String> {
    let parts = parts
        .iter()
        .map(|p| c.line(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({"type": "MultiLineString", "coordinates": parts}))
}

/// Even-odd test of `(x, y)` against a ring.
fn inside<P: HasXY>(ring: &[P], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    for i in 0..n {
        let (a, b) = (&ring[i], &ring[(i + n - 1) % n]);
        if (a.y() > y) != (b.y() > y) && x < (b.x() - a.x()) * (y - a.y()) / (b.y() - a.y()) + a.x()
        {
            inside = !inside;
        }
    }
    inside
}

fn polygons<P: HasXY>(c: &mut Conv, rings: &[PolygonRing<P>]) -> Result<Value, String> {
    let outers: Vec<&[P]> = rings
        .iter()
        .filter_map(|r| match r {
            PolygonRing::Outer(v) => Some(v.as_slice()),
            PolygonRing::Inner(_) => None,
        })
        .collect();
    let mut holes: Vec<Vec<&[P]>> = vec![Vec::new(); outers.len()];
    let mut lone = Vec::new();
    for r in rings {
        if let PolygonRing::Inner(h) = r {
            let home = h.first().and_then(|p| {
                outers
                    .iter()
                    .position(|o| inside(o, p.x(), p.y()))
                    .or(outers.len().checked_sub(1))
            });
            match home {
                Some(k) => holes[k].push(h.as_slice()),
                // Only counter-clockwise rings: taken as outers (the orientation is fixed later).
                None => lone.push(h.as_slice()),
            }
        }
    }
    let mut polys = Vec::new();
    for (o, hs) in outers.iter().zip(&holes) {
        let mut rs = vec![c.line(o)?];
        for h in hs {
            rs.push(c.line(h)?);
        }
        polys.push(Value::Array(rs));
    }
    for l in lone {
        polys.push(Value::Array(vec![c.line(l)?]));
    }
    Ok(json!({"type": "MultiPolygon", "coordinates": polys}))
}
