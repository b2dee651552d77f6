//! CSV reading: one CSV file is one file layer (named by the file's stem), a [`Table`] whose
//! rows carry a GeoJSON geometry in longitude/latitude from a WKT column or from
//! longitude/latitude columns (points). See docs/formats.md.
//!
//! 1. The encoding: the one given (`--encoding`, `encoding=`), else detected strictly as for a
//!    DBF: the bytes all valid UTF-8 → UTF-8, else GBK. A UTF-8 byte order mark is dropped.
//!    Text that is not valid in the chosen encoding is a problem naming the first line at fault
//!    and where the encoding came from, never replaced.
//! 2. The header row names the columns (at most [`MAX_COLUMNS`], unique, none empty); every
//!    row must have as many fields. The geometry: the mapping's `wkt` column, else a column
//!    named `wkt`, `WKT` or `geometry`; else the mapping's `lon`/`lat`, else columns `lon` and
//!    `lat`. Neither is a problem listing the columns found. The geometry columns are not
//!    attributes; the other cells are text (empty: absent), matched by the column mapping.
//! 3. The system: the one given (`crs=EPSG:4528`), default EPSG:4490 (CGCS2000 lon/lat); every
//!    vertex through `FileCrs::to_lon_lat` with the plausibility check of the other readers.
//! 4. Problems are located by line (the header is line 1; a quoted value over several lines
//!    counts them all) and column: `demo.csv line 12, field wkt: WKT at character 30: …`.

use super::crs::FileCrs;
use super::dbf::{DbfEncoding, EncodingSource};
use super::mapping::ColumnMapping;
use super::read::Problem;
use super::shp::problem;
use super::source::{Row, Table, TableInfo};
use super::{wkb, wkt};
use serde_json::Value;

/// The most columns of a CSV.
pub const MAX_COLUMNS: usize = 1024;

/// Options of the reading.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The system; default EPSG:4490.
    pub crs: Option<FileCrs>,
    /// The encoding; default detected.
    pub encoding: Option<DbfEncoding>,
    /// The mapping (its `wkt`, `lon`, `lat`).
    pub mapping: Option<&'a ColumnMapping>,
    /// Most rows.
    pub max_records: usize,
    /// Most vertices in one geometry.
    pub max_positions: usize,
}

/// The text of the file in the encoding given or detected; `Err` names the first line that
/// is not valid text.
fn decode(
    name: &str,
    bytes: &[u8],
    given: Option<DbfEncoding>,
) -> Result<(String, DbfEncoding, EncodingSource), Problem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let (enc, from, source) = match given {
        Some(e) => (e, EncodingSource::Given, "the encoding given"),
        None if std::str::from_utf8(bytes).is_ok() => {
            (DbfEncoding::Utf8, EncodingSource::Detected, "detection")
        }
        None => (
            DbfEncoding::Gbk,
            EncodingSource::Detected,
            "detection: it is not UTF-8",
        ),
    };
    if let Some(text) = enc.decode(bytes) {
        return Ok((text.into_owned(), enc, from));
    }
    // GBK's trail bytes are never 0x0A, so lines can be decoded one by one to find the first.
    let line = bytes
        .split(|&b| b == b'\n')
        .position(|l| enc.decode(l).is_none())
        .map_or(1, |i| i + 1);
    Err(problem(
        format!("{name} line {line}"),
        format!(
            "not valid {} text (chosen by {source}); give the right encoding (utf-8 or gbk)",
            enc.as_str()
        ),
    ))
}

enum GeomColumns {
    Wkt(usize),
    LonLat(usize, usize),
}

/// Reads one CSV; `name` is its file name (the layer is its stem).
pub fn read(name: &str, bytes: &[u8], opts: &Options<'_>) -> Result<Table, Vec<Problem>> {
    let (text, enc, enc_source) = decode(name, bytes, opts.encoding).map_err(|p| vec![p])?;
    let at_file = |m: String| vec![problem(name.to_string(), m)];
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| at_file(format!("cannot read the header row: {e}")))?
        .clone();
    if header.len() > MAX_COLUMNS {
        return Err(at_file(format!(
            "{} columns, more than {MAX_COLUMNS} (the limit)",
            header.len()
        )));
    }
    let all: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    if all.len() == 1 && all[0].is_empty() {
        return Err(at_file("no header row: the file is empty".into()));
    }
    for (i, c) in all.iter().enumerate() {
        if c.is_empty() {
            return Err(vec![problem(
                format!("{name} line 1"),
                format!("column {} has no name", i + 1),
            )]);
        }
        if all[..i].contains(c) {
            return Err(vec![problem(
                format!("{name} line 1"),
                format!("the column {c:?} appears twice"),
            )]);
        }
    }
    let find = |c: &str| all.iter().position(|x| x == c);
    let listed = || format!("its columns are {}", all.join(", "));
    let mapping = opts.mapping;
    let geom = match (
        mapping.and_then(|m| m.wkt.as_deref()),
        mapping.and_then(|m| m.lon.as_deref()),
        mapping.and_then(|m| m.lat.as_deref()),
    ) {
        (Some(w), _, _) => GeomColumns::Wkt(find(w).ok_or_else(|| {
            at_file(format!(
                "no WKT column {w:?} (the mapping's wkt); {}",
                listed()
            ))
        })?),
        (None, lon, lat) if lon.is_some() || lat.is_some() => {
            let (lon, lat) = (lon.unwrap_or("lon"), lat.unwrap_or("lat"));
            match (find(lon), find(lat)) {
                (Some(x), Some(y)) => GeomColumns::LonLat(x, y),
                _ => {
                    return Err(at_file(format!(
                        "no columns {lon:?} and {lat:?} (the mapping's lon and lat); {}",
                        listed()
                    )));
                }
            }
        }
        _ => match (
            ["wkt", "WKT", "geometry"].iter().find_map(|c| find(c)),
            find("lon"),
            find("lat"),
        ) {
            (Some(w), _, _) => GeomColumns::Wkt(w),
            (None, Some(x), Some(y)) => GeomColumns::LonLat(x, y),
            _ => {
                return Err(at_file(format!(
                    "no geometry column: a CSV needs a WKT column (wkt, WKT or geometry) or lon and lat columns; {} — name them in the column mapping (\"wkt\", or \"lon\" and \"lat\")",
                    listed()
                )));
            }
        },
    };
    let geom_cols: Vec<usize> = match geom {
        GeomColumns::Wkt(w) => vec![w],
        GeomColumns::LonLat(x, y) => vec![x, y],
    };
    let columns: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| !geom_cols.contains(i))
        .map(|(_, c)| c.clone())
        .collect();
    let crs = opts.crs.unwrap_or(FileCrs::CGCS2000);
    let source = if opts.crs.is_some() {
        "the coordinate system given"
    } else {
        "EPSG:4490 longitude/latitude (the default: give crs=)"
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for rec in reader.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let m = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("{len} fields; the header has {expected_len}"),
                    _ => e.to_string(),
                };
                problems.push(problem(format!("{name} line {line}"), m));
                break;
            }
        };
        let line = rec.position().map_or(0, |p| p.line()) as usize;
        if rows.len() >= opts.max_records {
            problems.push(problem(
                format!("{name} line {line}"),
                format!("more than {} rows (the limit)", opts.max_records),
            ));
            break;
        }
        let field = |i: usize| format!("{name} line {line}, field {}", all[i]);
        let parsed = match geom {
            GeomColumns::Wkt(w) => {
                let t = rec.get(w).unwrap_or("").trim();
                if t.is_empty() {
                    Ok(None)
                } else {
                    wkt::parse(t, opts.max_positions).map_err(|m| (w, m))
                }
            }
            GeomColumns::LonLat(x, y) => {
                let num = |i: usize| -> Result<Option<f64>, (usize, String)> {
                    let t = rec.get(i).unwrap_or("").trim();
                    if t.is_empty() {
                        return Ok(None);
                    }
                    t.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .map(Some)
                        .ok_or_else(|| (i, format!("{t:?} is not a number")))
                };
                match (num(x), num(y)) {
                    (Ok(Some(a)), Ok(Some(b))) => Ok(Some(wkb::Geom::Point((a, b)))),
                    (Ok(None), Ok(None)) => Ok(None),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                    (Ok(None), _) => Err((x, "empty, but the other coordinate is not".into())),
                    (_, Ok(None)) => Err((y, "empty, but the other coordinate is not".into())),
                }
            }
        };
        let geometry = match parsed {
            Ok(None) => Value::Null,
            Ok(Some(g)) => match g.to_geojson(crs, source) {
                Ok(v) => v,
                Err(m) => {
                    problems.push(problem(field(geom_cols[0]), m));
                    Value::Null
                }
            },
            Err((i, m)) => {
                problems.push(problem(field(i), m));
                Value::Null
            }
        };
        let values = rec
            .iter()
            .enumerate()
            .filter(|(i, _)| !geom_cols.contains(i))
            .map(|(_, v)| {
                if v.trim().is_empty() {
                    Value::Null
                } else {
                    Value::String(v.to_string())
                }
            })
            .collect();
        rows.push(Row {
            record: line,
            values,
            geometry,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let stem = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let layer = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
    Ok(Table {
        file: name.to_string(),
        layer: layer.to_string(),
        record_name: "line",
        columns,
        rows,
        info: TableInfo {
            crs: Some(crs),
            crs_unknown: None,
            encoding: Some((enc, enc_source)),
            geometry_type: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options<'static> {
        Options {
            crs: None,
            encoding: None,
            mapping: None,
            max_records: 100,
            max_positions: 100,
        }
    }

    #[test]
    fn wkt_and_lon_lat() {
        let csv = "\u{feff}code,name,wkt\nG1,一,\"POINT (121.5 31.2)\"\nG2,二,\n";
        let t = read("a.csv", csv.as_bytes(), &opts()).expect("read");
        assert_eq!(t.layer, "a");
        assert_eq!(t.columns, ["code", "name"]);
        assert_eq!(t.rows[0].record, 2);
        assert_eq!(t.rows[0].geometry["coordinates"][0], 121.5);
        assert!(t.rows[1].geometry.is_null());
        let t = read("b.csv", b"lat,lon,x\n31.2,121.5,\n", &opts()).expect("lon lat");
        assert_eq!(t.columns, ["x"]);
        assert_eq!(t.rows[0].values, [Value::Null]);
        assert_eq!(t.rows[0].geometry["coordinates"][1], 31.2);
    }

    #[test]
    fn problems_located() {
        let e = read("a.csv", b"code,wkt\nG1,POINT (1 2\n", &opts()).expect_err("wkt");
        assert_eq!(e[0].path, "a.csv line 2, field wkt");
        let e = read("a.csv", b"code,x\nG1,1\n", &opts()).expect_err("no geometry");
        assert!(
            e[0].message.contains("its columns are code, x"),
            "{}",
            e[0].message
        );
        let e = read("a.csv", b"code,wkt\nG1,POINT (1 2),3\n", &opts()).expect_err("fields");
        assert_eq!(e[0].path, "a.csv line 2");
        let e = read("a.csv", b"lon,lat\n1,\n", &opts()).expect_err("half");
        assert_eq!(e[0].path, "a.csv line 2, field lat");
        let e = read("a.csv", b"lon,lat\n200,1\n", &opts()).expect_err("range");
        assert_eq!(e[0].path, "a.csv line 2, field lon");
        // GBK bytes read as UTF-8 when told so; detected, they are GBK.
        let (gbk, _, _) = encoding_rs::GBK.encode("code,名称,wkt\nG1,一网格,POINT (1 2)\n");
        let e = read(
            "g.csv",
            &gbk,
            &Options {
                encoding: Some(DbfEncoding::Utf8),
                ..opts()
            },
        )
        .expect_err("utf-8");
        assert_eq!(e[0].path, "g.csv line 1");
        assert!(
            e[0].message
                .contains("not valid utf-8 text (chosen by the encoding given)")
        );
        let t = read("g.csv", &gbk, &opts()).expect("gbk");
        assert_eq!(t.columns, ["code", "名称"]);
        let e = read("g.csv", b"\xff\xff\n", &opts()).expect_err("neither");
        assert!(e[0].message.contains("not valid gbk"), "{}", e[0].message);
    }
}
