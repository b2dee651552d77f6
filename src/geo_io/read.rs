//! Streaming reader for the GeoJSON feature format (docs/geojson-format.md).
//!
//! 1. The top-level object is walked with a serde [`Visitor`]; its members may come in any order.
//!    `features` is consumed one element at a time: each feature is parsed into a small raw form
//!    (properties as a JSON map, coordinates as a compact tree), checked, converted to a
//!    [`Feature`] and the raw form dropped. Memory stays near the size of the result.
//! 2. Per feature: `layer`, `code`, `name`, `parent`, `kind`, `people`, the geometry type for the
//!    layer, every position (two or three finite numbers, longitude in [-180, 180], latitude in
//!    [-90, 90]), ring length and closure, line length. Ring orientation is normalised silently
//!    (exterior counter-clockwise, holes clockwise, RFC 7946).
//! 3. Across features, during the stream: duplicate codes, more than one district.
//! 4. After the stream: parents (known code, right layer) and the `management_units` member.
//!
//! Every problem is collected (up to [`ReadOptions::max_problems_per_feature`] per feature, then
//! one summary line) and returned together in [`ReadError::Invalid`], each with the feature index,
//! its code when readable, and the JSON path of the member at fault.

use crate::model::{
    Feature, FeatureSet, Geometry, Kind, Layer, ManagementUnit, ManagementUnitKind, Person, Role,
};
use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon, Winding};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// One problem with the input, located precisely enough for a planner to fix it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Index of the feature in the `features` array, when the problem belongs to one.
    pub index: Option<usize>,
    /// The feature's code, when it has a readable one (for a management unit: the unit's code).
    pub code: Option<String>,
    /// JSON path of the offending member, e.g. `features[3].geometry.coordinates[0][5][1]`.
    pub path: String,
    /// What is wrong, in plain English.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.index {
            write!(f, "feature {i}")?;
            if let Some(c) = &self.code {
                write!(f, " (code {c})")?;
            }
            write!(f, ", ")?;
        }
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read input: {0}")]
    Io(#[from] std::io::Error),
    /// The input is not well-formed JSON (or not a JSON object at the top).
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// Well-formed JSON with one or more problems; every problem found is listed.
    #[error("{} problem(s) in input; first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<Problem>),
    /// A limit of [`ReadOptions`] was exceeded; reading stopped there.
    #[error("input too large: {0}")]
    TooLarge(Problem),
}

/// Limits for reading untrusted input. The defaults impose no size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Most features accepted; more gives [`ReadError::TooLarge`].
    pub max_features: Option<usize>,
    /// Most positions (more exactly: array elements inside `coordinates`) in one feature's
    /// geometry; more gives [`ReadError::TooLarge`]. Checked while parsing, so a huge geometry
    /// is refused before it is held in memory.
    pub max_positions_per_feature: Option<usize>,
    /// Most problems listed for one feature; the rest are counted in one summary problem.
    /// Default 20 (a feature in the wrong CRS would otherwise give one problem per position).
    pub max_problems_per_feature: usize,
    /// Codes outside the file that a `parent` may name, with their layers: when a planner uploads
    /// one street, its parent (the district) is in the current generation, not in the file; and
    /// a management unit of that upload may serve grids of other streets.
    pub known_parents: Option<std::sync::Arc<HashMap<String, Layer>>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_features: None,
            max_positions_per_feature: None,
            max_problems_per_feature: 20,
            known_parents: None,
        }
    }
}

/// Reads a FeatureCollection from a byte stream, with default options.
pub fn read<R: Read>(input: R) -> Result<FeatureSet, ReadError> {
    read_with(input, &ReadOptions::default())
}

/// Reads a FeatureCollection from a byte stream.
pub fn read_with<R: Read>(input: R, opts: &ReadOptions) -> Result<FeatureSet, ReadError> {
    read_buffered(BufReader::with_capacity(1 << 16, input), opts)
}

/// Reads a FeatureCollection from memory, with default options.
pub fn read_slice(input: &[u8]) -> Result<FeatureSet, ReadError> {
    read_slice_with(input, &ReadOptions::default())
}

/// Reads a FeatureCollection from memory.
pub fn read_slice_with(input: &[u8], opts: &ReadOptions) -> Result<FeatureSet, ReadError> {
    let input = input.strip_prefix(BOM).unwrap_or(input);
    run(serde_json::Deserializer::from_slice(input), opts)
}

/// Reads a FeatureCollection from a file, with default options.
pub fn read_path(path: &Path) -> Result<FeatureSet, ReadError> {
    read_path_with(path, &ReadOptions::default())
}

/// Reads a FeatureCollection from a file.
pub fn read_path_with(path: &Path, opts: &ReadOptions) -> Result<FeatureSet, ReadError> {
    let f = std::fs::File::open(path)?;
    read_buffered(BufReader::with_capacity(1 << 20, f), opts)
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn read_buffered<R: BufRead>(mut input: R, opts: &ReadOptions) -> Result<FeatureSet, ReadError> {
    // Skip a UTF-8 byte order mark (written by some Windows GIS tools). The parser reads straight
    // from `input` (a BufReader reads byte by byte fastest); only when the first read returned
    // fewer than 3 bytes that could start a mark are they collected and chained in front.
    let buf = input.fill_buf()?;
    if buf.starts_with(BOM) {
        input.consume(BOM.len());
        return run(serde_json::Deserializer::from_reader(input), opts);
    }
    if buf.len() >= BOM.len() || !BOM.starts_with(buf) || buf.is_empty() {
        return run(serde_json::Deserializer::from_reader(input), opts);
    }
    let mut head = Vec::with_capacity(BOM.len());
    while head.len() < BOM.len() {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len().min(BOM.len() - head.len());
        head.extend_from_slice(&buf[..n]);
        input.consume(n);
    }
    let head = if head == BOM { Vec::new() } else { head };
    let chained = std::io::Cursor::new(head).chain(input);
    run(serde_json::Deserializer::from_reader(chained), opts)
}

fn run<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    opts: &ReadOptions,
) -> Result<FeatureSet, ReadError> {
    let mut st = State::new(opts);
    let parsed = (&mut de)
        .deserialize_any(TopVisitor { st: &mut st })
        .and_then(|()| de.end());
    if let Some(p) = st.too_large.take() {
        return Err(ReadError::TooLarge(p));
    }
    if let Err(e) = parsed {
        return Err(syntax_error(e));
    }
    st.finish()
}

fn syntax_error(e: serde_json::Error) -> ReadError {
    if e.is_io() {
        return ReadError::Io(e.into());
    }
    let (line, column) = (e.line(), e.column());
    let full = e.to_string();
    let suffix = format!(" at line {line} column {column}");
    let mut message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    if message == "number out of range" {
        message.push_str(" (a number this large is not a finite coordinate or value)");
    }
    ReadError::Syntax {
        line,
        column,
        message,
    }
}

// ---------------------------------------------------------------------------------------------
// Reader state

/// What the cross-feature checks need of each feature.
struct Meta {
    code: Option<String>,
    layer: Option<Layer>,
    parent: Option<String>,
}

/// Position budget of the feature being parsed.
struct Budget {
    left: usize,
    exceeded: bool,
}

struct State<'o> {
    opts: &'o ReadOptions,
    problems: Vec<Problem>,
    /// Converted features; dropped (and no longer filled) as soon as there is a problem.
    features: Vec<Feature>,
    metas: Vec<Meta>,
    codes: HashMap<String, usize>,
    district: Option<usize>,
    seen_type: bool,
    seen_features: bool,
    units: Option<Value>,
    budget: Budget,
    too_large: Option<Problem>,
}

impl<'o> State<'o> {
    fn new(opts: &'o ReadOptions) -> Self {
        State {
            opts,
            problems: Vec::new(),
            features: Vec::new(),
            metas: Vec::new(),
            codes: HashMap::new(),
            district: None,
            seen_type: false,
            seen_features: false,
            units: None,
            budget: Budget {
                left: usize::MAX,
                exceeded: false,
            },
            too_large: None,
        }
    }

    fn top_problem(&mut self, path: &str, message: String) {
        self.problems.push(Problem {
            index: None,
            code: None,
            path: path.to_string(),
            message,
        });
    }

    fn finish(mut self) -> Result<FeatureSet, ReadError> {
        if !self.seen_type {
            self.top_problem(
                "type",
                "missing \"type\": \"FeatureCollection\" at the top level".into(),
            );
        }
        if !self.seen_features {
            self.top_problem("features", "missing \"features\" array".into());
        }
        self.check_parents();
        let units = match self.units.take() {
            Some(v) => self.check_units(v),
            None => Vec::new(),
        };
        if !self.problems.is_empty() {
            // Top-level problems first, then by feature, each feature's in the order found.
            self.problems.sort_by_key(|p| p.index.map_or(0, |i| i + 1));
            return Err(ReadError::Invalid(self.problems));
        }
        FeatureSet::new(self.features, units).map_err(|f| {
            ReadError::Invalid(vec![Problem {
                index: None,
                code: Some(f.code.clone()),
                path: "features".into(),
                message: format!("duplicate code {}", f.code),
            }])
        })
    }

    fn check_parents(&mut self) {
        for (i, m) in self.metas.iter().enumerate() {
            let (Some(layer), Some(parent)) = (m.layer, m.parent.as_deref()) else {
                continue;
            };
            if layer == Layer::District {
                continue; // reported while streaming
            }
            let path = format!("features[{i}].properties.parent");
            let known = self
                .opts
                .known_parents
                .as_ref()
                .and_then(|k| k.get(parent))
                .copied();
            let message = match self.codes.get(parent) {
                None => match known {
                    Some(pl) if layer.parent_layers().contains(&pl) => continue,
                    Some(pl) => format!(
                        "parent {parent} is a {pl} in the current generation; a {layer}'s parent must be {}",
                        one_of(layer.parent_layers().iter().map(|l| l.as_str()), "or")
                    ),
                    None => format!("unknown parent {parent}: no feature has this code"),
                },
                Some(&j) if j == i => "a feature cannot be its own parent".to_string(),
                Some(&j) => match self.metas[j].layer {
                    Some(pl) if !layer.parent_layers().contains(&pl) => format!(
                        "parent {parent} is a {pl} (feature {j}); a {layer}'s parent must be {}",
                        one_of(layer.parent_layers().iter().map(|l| l.as_str()), "or")
                    ),
                    _ => continue,
                },
            };
            self.problems.push(Problem {
                index: Some(i),
                code: m.code.clone(),
                path,
                message,
            });
        }
    }

    fn check_units(&mut self, v: Value) -> Vec<ManagementUnit> {
        let mut out = Vec::new();
        let items = match v {
            Value::Null => return out,
            Value::Array(a) => a,
            other => {
                self.top_problem(
                    "management_units",
                    format!(
                        "management_units is {}, expected an array",
                        type_name(&other)
                    ),
                );
                return out;
            }
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (u, item) in items.into_iter().enumerate() {
            let base = format!("management_units[{u}]");
            let mut c = Ctx::new(None, base, usize::MAX);
            if let Some(unit) = self.check_unit(u, item, &mut c, &mut seen) {
                out.push(unit);
            }
            let code = c.code.clone();
            for mut p in c.into_problems() {
                p.code.clone_from(&code);
                self.problems.push(p);
            }
        }
        out
    }

    fn check_unit(
        &self,
        u: usize,
        item: Value,
        c: &mut Ctx,
        seen: &mut HashMap<String, usize>,
    ) -> Option<ManagementUnit> {
        let Value::Object(obj) = item else {
            c.problem(
                "",
                format!(
                    "management unit is {}, expected an object",
                    type_name(&item)
                ),
            );
            return None;
        };
        let (mut code, mut name, mut kind, mut grids, mut people) = (None, None, None, None, None);
        for (k, v) in obj {
            match k.as_str() {
                "code" => code = Some(v),
                "name" => name = Some(v),
                "kind" => kind = Some(v),
                "grids" => grids = Some(v),
                "people" => people = Some(v),
                other => c.problem(
                    &format!(".{other}"),
                    format!(
                        "unknown member {other:?} in a management unit; allowed: code, name, kind, grids, people"
                    ),
                ),
            }
        }
        let code = check_code(c, code, ".code", false);
        c.code.clone_from(&code);
        if let Some(code) = &code {
            if let Some(&other) = seen.get(code) {
                c.problem(
                    ".code",
                    format!("duplicate management unit code {code}: management_units[{other}] has it too"),
                );
            } else {
                seen.insert(code.clone(), u);
            }
        }
        let name = check_name(c, name, ".name");
        let kind = match kind {
            Some(Value::String(s)) => match s.as_str() {
                "city_management" => Some(ManagementUnitKind::CityManagement),
                "market_supervision" => Some(ManagementUnitKind::MarketSupervision),
                "other" => Some(ManagementUnitKind::Other),
                _ => {
                    c.problem(
                        ".kind",
                        format!("unknown management unit kind {s:?}; expected one of city_management, market_supervision, other"),
                    );
                    None
                }
            },
            None | Some(Value::Null) => {
                c.problem(
                    ".kind",
                    "missing kind (city_management, market_supervision or other)".into(),
                );
                None
            }
            Some(v) => {
                c.problem(
                    ".kind",
                    format!("kind is {}, expected a string", type_name(&v)),
                );
                None
            }
        };
        let grids = match grids {
            Some(Value::Array(a)) if !a.is_empty() => {
                let mut out = Vec::with_capacity(a.len());
                for (g, v) in a.into_iter().enumerate() {
                    let path = format!(".grids[{g}]");
                    match v {
                        Value::String(s) => {
                            let known = self
                                .opts
                                .known_parents
                                .as_ref()
                                .and_then(|k| k.get(&s))
                                .copied();
                            match self.codes.get(&s) {
                                // a grid of the current generation outside this (partial) upload
                                None if known.is_some_and(Layer::is_grid) => {}
                                None => c.problem(
                                    &path,
                                    match known {
                                        Some(l) => format!("{s} is a {l} in the current generation, not a grid; a management unit serves resident, street or extended grids"),
                                        None => format!("unknown grid {s}: no feature has this code"),
                                    },
                                ),
                                Some(&j) => match self.metas[j].layer {
                                    Some(l) if !l.is_grid() => c.problem(
                                        &path,
                                        format!("{s} is a {l} (feature {j}), not a grid; a management unit serves resident, street or extended grids"),
                                    ),
                                    _ => {}
                                },
                            }
                            out.push(s);
                        }
                        other => c.problem(
                            &path,
                            format!("grid code is {}, expected a string", type_name(&other)),
                        ),
                    }
                }
                Some(out)
            }
            Some(Value::Array(_)) | None | Some(Value::Null) => {
                c.problem(
                    ".grids",
                    "missing grids: a management unit serves at least one grid (a list of grid codes)".into(),
                );
                None
            }
            Some(v) => {
                c.problem(
                    ".grids",
                    format!(
                        "grids is {}, expected an array of grid codes",
                        type_name(&v)
                    ),
                );
                None
            }
        };
        let people = check_people(c, people, ".people");
        if c.problems.is_empty() {
            Some(ManagementUnit {
                code: code?,
                name: name?,
                kind: kind?,
                grids: grids?,
                people,
            })
        } else {
            None
        }
    }

    /// Checks one raw feature, records its problems and keeps the converted feature.
    fn accept(&mut self, index: usize, raw: RawFeature) {
        let mut c = Ctx::new(
            Some(index),
            format!("features[{index}]"),
            self.opts.max_problems_per_feature,
        );
        let (meta, feature) = check_feature(&mut c, raw);
        if let Some(code) = &meta.code {
            match self.codes.get(code) {
                Some(&j) => c.problem(
                    ".properties.code",
                    format!("duplicate code {code}: feature {j} has the same code"),
                ),
                None => {
                    self.codes.insert(code.clone(), index);
                }
            }
        }
        if meta.layer == Some(Layer::District) {
            match self.district {
                Some(j) => c.problem(
                    ".properties.layer",
                    format!("more than one district: feature {j} is already the district; a file holds at most one"),
                ),
                None => self.district = Some(index),
            }
        }
        let problems = c.into_problems();
        if problems.is_empty() && self.problems.is_empty() {
            if let Some(f) = feature {
                self.features.push(f);
            }
        } else {
            self.features = Vec::new();
        }
        for mut p in problems {
            p.code.clone_from(&meta.code);
            self.problems.push(p);
        }
        self.metas.push(meta);
    }

    fn check_crs(&mut self, path: &str, v: &Value) {
        if let Some(message) = crs_problem(v) {
            self.top_problem(path, message);
        }
    }
}

/// The problem with a legacy `crs` member, if it names anything but WGS84 / CGCS2000 lon-lat.
fn crs_problem(v: &Value) -> Option<String> {
    const CONVERT: &str =
        "convert to WGS84 longitude/latitude (EPSG:4326) or CGCS2000 (EPSG:4490) first";
    let obj = match v {
        Value::Null => return None,
        Value::Object(o) => o,
        other => {
            return Some(format!(
                "crs is {}, expected an object naming the CRS; GeoJSON (RFC 7946) is always WGS84 longitude/latitude, so the member can simply be left out",
                type_name(other)
            ));
        }
    };
    let props = obj.get("properties").and_then(Value::as_object);
    let name = match (obj.get("type").and_then(Value::as_str), props) {
        (Some("name"), Some(p)) => p.get("name").and_then(Value::as_str).map(str::to_string),
        (Some("EPSG"), Some(p)) => p.get("code").map(|c| match c {
            Value::String(s) => format!("EPSG:{s}"),
            other => format!("EPSG:{other}"),
        }),
        (Some("link"), _) => {
            return Some(format!(
                "crs links to an external CRS definition, which is not supported; {CONVERT}"
            ));
        }
        _ => None,
    };
    let Some(name) = name else {
        return Some(format!(
            "crs does not name a CRS (expected {{\"type\": \"name\", \"properties\": {{\"name\": \"urn:ogc:def:crs:OGC:1.3:CRS84\"}}}}); {CONVERT}"
        ));
    };
    let up = name.to_ascii_uppercase();
    let code = up.rsplit([':', '/']).next().unwrap_or_default();
    let epsg = up.contains("EPSG");
    let ok = code == "CRS84"
        || up == "WGS84"
        || up == "WGS 84"
        || up == "CGCS2000"
        || (epsg && (code == "4326" || code == "4490"));
    if ok {
        None
    } else {
        Some(format!("coordinates are in CRS {name}; {CONVERT}"))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// "a, b or c".
fn one_of<'a>(items: impl Iterator<Item = &'a str>, last: &str) -> String {
    let items: Vec<&str> = items.collect();
    match items.split_last() {
        None => String::new(),
        Some((l, [])) => (*l).to_string(),
        Some((l, rest)) => format!("{} {last} {l}", rest.join(", ")),
    }
}

fn layer_list() -> String {
    one_of(Layer::ALL.iter().map(|l| l.as_str()), "or")
}

// ---------------------------------------------------------------------------------------------
// Per-feature checks

/// Problems of one feature (or management unit), with paths relative to `base`.
struct Ctx {
    index: Option<usize>,
    base: String,
    code: Option<String>,
    problems: Vec<Problem>,
    max: usize,
    dropped: usize,
}

impl Ctx {
    fn new(index: Option<usize>, base: String, max: usize) -> Self {
        Ctx {
            index,
            base,
            code: None,
            problems: Vec::new(),
            max,
            dropped: 0,
        }
    }

    fn problem(&mut self, suffix: &str, message: String) {
        if self.problems.len() >= self.max {
            self.dropped += 1;
            return;
        }
        self.problems.push(Problem {
            index: self.index,
            code: None,
            path: format!("{}{suffix}", self.base),
            message,
        });
    }

    fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    fn into_problems(mut self) -> Vec<Problem> {
        if self.dropped > 0 {
            self.problems.push(Problem {
                index: self.index,
                code: None,
                path: self.base.clone(),
                message: format!(
                    "{} more problem(s) in this feature not listed (at most {} are listed per feature)",
                    self.dropped, self.max
                ),
            });
        }
        self.problems
    }
}

fn check_code(c: &mut Ctx, v: Option<Value>, path: &str, has_id: bool) -> Option<String> {
    match v {
        Some(Value::String(s)) if s.is_empty() => {
            c.problem(path, "code is empty".into());
            None
        }
        Some(Value::String(s)) if s.trim() != s => {
            c.problem(
                path,
                format!("code {s:?} has leading or trailing spaces; codes are compared exactly"),
            );
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => {
            c.problem(
                path,
                format!("code must be a string: write \"{n}\" in quotes (numbers lose leading zeros and digits)"),
            );
            None
        }
        None | Some(Value::Null) => {
            let hint = if has_id {
                " (the feature's \"id\" is not used: put the code in properties.code)"
            } else {
                ""
            };
            c.problem(path, format!("missing code{hint}"));
            None
        }
        Some(v) => {
            c.problem(
                path,
                format!("code is {}, expected a string", type_name(&v)),
            );
            None
        }
    }
}

fn check_name(c: &mut Ctx, v: Option<Value>, path: &str) -> Option<String> {
    match v {
        Some(Value::String(s)) if s.trim().is_empty() => {
            c.problem(path, "name is empty".into());
            None
        }
        Some(Value::String(s)) => Some(s),
        None | Some(Value::Null) => {
            c.problem(path, "missing name".into());
            None
        }
        Some(v) => {
            c.problem(
                path,
                format!("name is {}, expected a string", type_name(&v)),
            );
            None
        }
    }
}

fn optional_string(c: &mut Ctx, v: Option<Value>, path: &str, what: &str) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(v) => {
            let hint = if matches!(v, Value::Number(_)) {
                " (write it in quotes)"
            } else {
                ""
            };
            c.problem(
                path,
                format!("{what} is {}, expected a string{hint}", type_name(&v)),
            );
            None
        }
    }
}

fn check_people(c: &mut Ctx, v: Option<Value>, path: &str) -> Vec<Person> {
    let items = match v {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(a)) => a,
        Some(v) => {
            c.problem(
                path,
                format!(
                    "people is {}, expected an array of {{role, name, phone, photo_url}}",
                    type_name(&v)
                ),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Value::Object(obj) = item else {
            c.problem(
                &p,
                format!("person is {}, expected an object", type_name(&item)),
            );
            continue;
        };
        let (mut role, mut name, mut phone, mut photo) = (None, None, None, None);
        for (k, v) in obj {
            match k.as_str() {
                "role" => role = Some(v),
                "name" => name = Some(v),
                "phone" => phone = Some(v),
                "photo_url" => photo = Some(v),
                other => c.problem(
                    &format!("{p}.{other}"),
                    format!("unknown member {other:?} in a person; allowed: role, name, phone, photo_url"),
                ),
            }
        }
        let roles = || one_of(Role::ALL.iter().map(|r| r.as_str()), "or");
        let role = match role {
            Some(Value::String(s)) => match s.parse::<Role>() {
                Ok(r) => Some(r),
                Err(()) => {
                    c.problem(
                        &format!("{p}.role"),
                        format!("unknown role {s:?}; expected {}", roles()),
                    );
                    None
                }
            },
            None | Some(Value::Null) => {
                c.problem(&format!("{p}.role"), format!("missing role ({})", roles()));
                None
            }
            Some(v) => {
                c.problem(
                    &format!("{p}.role"),
                    format!("role is {}, expected a string", type_name(&v)),
                );
                None
            }
        };
        let name = check_name(c, name, &format!("{p}.name"));
        let phone = optional_string(c, phone, &format!("{p}.phone"), "phone");
        let photo_url = optional_string(c, photo, &format!("{p}.photo_url"), "photo_url");
        if let (Some(role), Some(name)) = (role, name) {
            out.push(Person {
                role,
                name,
                phone,
                photo_url,
            });
        }
    }
    out
}

fn check_feature(c: &mut Ctx, raw: RawFeature) -> (Meta, Option<Feature>) {
    let mut meta = Meta {
        code: None,
        layer: None,
        parent: None,
    };
    let raw = match raw {
        RawFeature::NotObject(t) => {
            c.problem("", format!("feature is {t}, expected a Feature object"));
            return (meta, None);
        }
        RawFeature::Object(o) => *o,
    };
    for key in &raw.duplicates {
        c.problem(
            &format!(".{key}"),
            format!("member {key:?} appears more than once"),
        );
    }
    for key in &raw.property_duplicates {
        c.problem(
            &format!(".properties.{key}"),
            format!("member {key:?} appears more than once in properties"),
        );
    }
    match &raw.ty {
        Some(Value::String(s)) if s == "Feature" => {}
        None => c.problem(".type", "missing \"type\": \"Feature\"".into()),
        Some(v) => c.problem(".type", format!("type is {v}, expected \"Feature\"")),
    }

    // Properties.
    let props = match raw.properties {
        Some(Value::Object(m)) => m,
        other => {
            let found = match &other {
                None => "missing",
                Some(v) => type_name(v),
            };
            c.problem(
                ".properties",
                format!(
                    "properties is {found}; expected an object with at least layer, code and name"
                ),
            );
            check_geometry(c, raw.geometry, None);
            return (meta, None);
        }
    };
    let (mut layer_v, mut code_v, mut name_v, mut parent_v, mut kind_v, mut people_v) =
        (None, None, None, None, None, None);
    let mut attributes = Map::new();
    for (k, v) in props {
        match k.as_str() {
            "layer" => layer_v = Some(v),
            "code" => code_v = Some(v),
            "name" => name_v = Some(v),
            "parent" => parent_v = Some(v),
            "kind" => kind_v = Some(v),
            "people" => people_v = Some(v),
            _ => {
                attributes.insert(k, v);
            }
        }
    }
    // The code first, so that it can be named in every problem of the feature.
    meta.code = check_code(c, code_v, ".properties.code", raw.has_id);
    let layer = match layer_v {
        Some(Value::String(s)) => match s.parse::<Layer>() {
            Ok(l) => Some(l),
            Err(()) => {
                c.problem(
                    ".properties.layer",
                    format!("unknown layer {s:?}; expected {}", layer_list()),
                );
                None
            }
        },
        None | Some(Value::Null) => {
            c.problem(
                ".properties.layer",
                format!("missing layer ({})", layer_list()),
            );
            None
        }
        Some(v) => {
            c.problem(
                ".properties.layer",
                format!("layer is {}, expected a string", type_name(&v)),
            );
            None
        }
    };
    meta.layer = layer;
    let name = check_name(c, name_v, ".properties.name");

    let parent = match parent_v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => {
            c.problem(".properties.parent", "parent is empty".into());
            None
        }
        Some(Value::String(s)) if s.trim() != s => {
            c.problem(
                ".properties.parent",
                format!("parent {s:?} has leading or trailing spaces; codes are compared exactly"),
            );
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => {
            c.problem(
                ".properties.parent",
                format!("parent must be a string: write \"{n}\" in quotes"),
            );
            None
        }
        Some(v) => {
            c.problem(
                ".properties.parent",
                format!("parent is {}, expected a code (string)", type_name(&v)),
            );
            None
        }
    };
    if let Some(l) = layer {
        if l == Layer::District && parent.is_some() {
            c.problem(
                ".properties.parent",
                "a district has no parent; remove parent".into(),
            );
        } else if l.parent_required() && parent.is_none() && !c.has_parent_problem() {
            c.problem(
                ".properties.parent",
                format!(
                    "missing parent: a {l} needs the code of its {}",
                    one_of(l.parent_layers().iter().map(|p| p.as_str()), "or")
                ),
            );
        }
    }
    meta.parent.clone_from(&parent);

    let kind = match (layer, kind_v) {
        (None, _) => None,
        (Some(l), k) if l.kinds().is_empty() => {
            if let Some(k) = k.filter(|k| !k.is_null()) {
                c.problem(
                    ".properties.kind",
                    format!(
                        "a {l} has no kind (only street, resident_grid and extended_grid have one); remove kind {k}"
                    ),
                );
            }
            None
        }
        (Some(l), k) => {
            let kinds = || one_of(l.kinds().iter().map(|k| k.as_str()), "or");
            match k {
                Some(Value::String(s)) => match s.parse::<Kind>() {
                    Ok(k) if l.kinds().contains(&k) => Some(k),
                    _ => {
                        c.problem(
                            ".properties.kind",
                            format!("kind {s:?} is not a kind of {l}; expected {}", kinds()),
                        );
                        None
                    }
                },
                None | Some(Value::Null) => {
                    c.problem(
                        ".properties.kind",
                        format!("missing kind: a {l} needs one of {}", kinds()),
                    );
                    None
                }
                Some(v) => {
                    c.problem(
                        ".properties.kind",
                        format!("kind is {}, expected a string ({})", type_name(&v), kinds()),
                    );
                    None
                }
            }
        }
    };
    let people = check_people(c, people_v, ".properties.people");

    let geometry = check_geometry(c, raw.geometry, layer);

    let feature = match (layer, meta.code.clone(), name, geometry) {
        (Some(layer), Some(code), Some(name), Some(geometry)) if !c.has_problems() => {
            Some(Feature {
                layer,
                code,
                name,
                parent,
                kind,
                people,
                attributes,
                geometry,
            })
        }
        _ => None,
    };
    (meta, feature)
}

impl Ctx {
    fn has_parent_problem(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.path.ends_with(".properties.parent"))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum GeomType {
    Polygon,
    MultiPolygon,
    LineString,
    MultiLineString,
}

fn check_geometry(c: &mut Ctx, g: Option<RawGeometry>, layer: Option<Layer>) -> Option<Geometry> {
    let wanted = |l: Layer| {
        if l.is_area() {
            "a Polygon or MultiPolygon"
        } else {
            "a LineString or MultiLineString"
        }
    };
    let g = match g {
        Some(RawGeometry::Object(g)) => g,
        None | Some(RawGeometry::Null) => {
            let what = layer.map_or(
                "a Polygon, MultiPolygon, LineString or MultiLineString",
                wanted,
            );
            let found = if g.is_none() { "missing" } else { "null" };
            c.problem(
                ".geometry",
                format!("geometry is {found}; every feature needs one ({what})"),
            );
            return None;
        }
        Some(RawGeometry::NotObject(t)) => {
            c.problem(
                ".geometry",
                format!("geometry is {t}, expected a geometry object"),
            );
            return None;
        }
    };
    for key in &g.duplicates {
        c.problem(
            &format!(".geometry.{key}"),
            format!("member {key:?} appears more than once"),
        );
    }
    if let Some(crs) = &g.crs {
        if let Some(m) = crs_problem(crs) {
            c.problem(".geometry.crs", m);
        }
    }
    let ty = match &g.ty {
        Some(Value::String(s)) => match s.as_str() {
            "Polygon" => Some(GeomType::Polygon),
            "MultiPolygon" => Some(GeomType::MultiPolygon),
            "LineString" => Some(GeomType::LineString),
            "MultiLineString" => Some(GeomType::MultiLineString),
            other => {
                let what = layer.map_or(
                    "Polygon, MultiPolygon, LineString or MultiLineString",
                    wanted,
                );
                c.problem(
                    ".geometry.type",
                    format!("geometry type {other:?} is not accepted here; expected {what}"),
                );
                None
            }
        },
        None => {
            c.problem(".geometry.type", "missing geometry type".into());
            None
        }
        Some(v) => {
            c.problem(
                ".geometry.type",
                format!("geometry type is {}, expected a string", type_name(v)),
            );
            None
        }
    };
    let ty = ty?;
    let is_area_type = matches!(ty, GeomType::Polygon | GeomType::MultiPolygon);
    if let Some(l) = layer {
        if l.is_area() != is_area_type {
            let found = match ty {
                GeomType::Polygon => "Polygon",
                GeomType::MultiPolygon => "MultiPolygon",
                GeomType::LineString => "LineString",
                GeomType::MultiLineString => "MultiLineString",
            };
            c.problem(
                ".geometry.type",
                format!("a {l} must be {}, not a {found}", wanted(l)),
            );
        }
    }
    let Some(coords) = g.coordinates else {
        c.problem(".geometry.coordinates", "missing coordinates".into());
        return None;
    };
    let mut path = CoordPath(Vec::new());
    let before = c.problems.len() + c.dropped;
    let geometry = match ty {
        GeomType::Polygon => {
            polygon(c, &coords, &mut path).map(|p| Geometry::Area(MultiPolygon(vec![p])))
        }
        GeomType::MultiPolygon => {
            let polys = list(c, &coords, &mut path, "an array of polygons", 1, polygon);
            polys.map(|p| Geometry::Area(MultiPolygon(p)))
        }
        GeomType::LineString => {
            line(c, &coords, &mut path).map(|l| Geometry::Line(MultiLineString(vec![l])))
        }
        GeomType::MultiLineString => {
            let lines = list(c, &coords, &mut path, "an array of line strings", 1, line);
            lines.map(|l| Geometry::Line(MultiLineString(l)))
        }
    };
    drop(coords);
    if c.problems.len() + c.dropped > before {
        return None;
    }
    geometry
}

/// Runs `item` on each element of a list node; `None` when the node is not a list, it is too
/// short, or any element failed. Every element is checked even after a failure.
fn list<T>(
    c: &mut Ctx,
    node: &Node,
    path: &mut CoordPath,
    what: &str,
    min: usize,
    mut item: impl FnMut(&mut Ctx, &Node, &mut CoordPath) -> Option<T>,
) -> Option<Vec<T>> {
    let items = expect_list(c, node, path, what)?;
    let mut ok = true;
    if items.len() < min {
        c.problem(&path.to_string(), format!("empty: expected {what}"));
        ok = false;
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, n) in items.iter().enumerate() {
        path.0.push(i);
        match item(c, n, path) {
            Some(v) => out.push(v),
            None => ok = false,
        }
        path.0.pop();
    }
    ok.then_some(out)
}

fn expect_list<'n>(
    c: &mut Ctx,
    node: &'n Node,
    path: &CoordPath,
    what: &str,
) -> Option<&'n [Node]> {
    match node {
        Node::List(items) => Some(items),
        Node::Pos(_) => {
            c.problem(
                &path.to_string(),
                format!("expected {what}, found a single position (a level of [ ] missing?)"),
            );
            None
        }
        Node::Num(_) => {
            c.problem(
                &path.to_string(),
                format!("expected {what}, found a number"),
            );
            None
        }
        Node::Other(t) => {
            c.problem(&path.to_string(), format!("expected {what}, found {t}"));
            None
        }
    }
}

fn polygon(c: &mut Ctx, node: &Node, path: &mut CoordPath) -> Option<Polygon<f64>> {
    let rings = list(c, node, path, "an array of rings", 1, ring)?;
    let mut rings = rings.into_iter();
    let mut exterior = rings.next()?;
    exterior.make_ccw_winding();
    let holes = rings
        .map(|mut r| {
            r.make_cw_winding();
            r
        })
        .collect();
    Some(Polygon::new(exterior, holes))
}

fn ring(c: &mut Ctx, node: &Node, path: &mut CoordPath) -> Option<LineString<f64>> {
    let coords = positions(c, node, path, "a ring (an array of positions)")?;
    if coords.len() < 4 {
        c.problem(&path.to_string(),
            format!(
                "ring has {} position(s); a ring needs at least 4 (three corners and the first repeated at the end)",
                coords.len()
            ),
        );
        return None;
    }
    let (first, last) = (coords[0], coords[coords.len() - 1]);
    if first != last {
        c.problem(&path.to_string(),
            format!(
                "ring is not closed: the last position [{}, {}] differs from the first [{}, {}]; repeat the first position at the end",
                last.x, last.y, first.x, first.y
            ),
        );
        return None;
    }
    Some(LineString(coords))
}

fn line(c: &mut Ctx, node: &Node, path: &mut CoordPath) -> Option<LineString<f64>> {
    let coords = positions(c, node, path, "a line string (an array of positions)")?;
    if coords.len() < 2 {
        c.problem(
            &path.to_string(),
            format!(
                "line string has {} position(s); it needs at least 2",
                coords.len()
            ),
        );
        return None;
    }
    Some(LineString(coords))
}

fn positions(
    c: &mut Ctx,
    node: &Node,
    path: &mut CoordPath,
    what: &str,
) -> Option<Vec<Coord<f64>>> {
    let items = expect_list(c, node, path, what)?;
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, n) in items.iter().enumerate() {
        path.0.push(i);
        match position(c, n, path) {
            Some(p) => out.push(p),
            None => ok = false,
        }
        path.0.pop();
    }
    ok.then_some(out)
}

fn position(c: &mut Ctx, node: &Node, path: &mut CoordPath) -> Option<Coord<f64>> {
    let p = match node {
        Node::Pos(p) => p,
        Node::List(items) if items.is_empty() => {
            c.problem(
                &path.to_string(),
                "position is empty; expected [longitude, latitude]".into(),
            );
            return None;
        }
        Node::List(_) => {
            c.problem(&path.to_string(),
                "expected a position [longitude, latitude], found an array of arrays (a level of [ ] too many?)".into(),
            );
            return None;
        }
        Node::Num(_) => {
            c.problem(&path.to_string(),
                "expected a position [longitude, latitude], found a number (a level of [ ] missing?)".into(),
            );
            return None;
        }
        Node::Other(t) => {
            c.problem(
                &path.to_string(),
                format!("expected a position [longitude, latitude], found {t}"),
            );
            return None;
        }
    };
    if p.bad != 0 {
        c.problem(
            &format!("{path}[{}]", p.bad - 1),
            "position element is not a number".into(),
        );
        return None;
    }
    if p.len < 2 {
        c.problem(
            &path.to_string(),
            "position has 1 number; expected [longitude, latitude]".into(),
        );
        return None;
    }
    let (x, y) = (p.x, p.y);
    let lon_ok = x.is_finite() && (-180.0..=180.0).contains(&x);
    let lat_ok = y.is_finite() && (-90.0..=90.0).contains(&y);
    if lon_ok && lat_ok {
        return Some(Coord { x, y });
    }
    let hint = if !lon_ok && !lat_ok && x.abs() > 180.0 && y.abs() > 90.0 {
        " (these look like projected coordinates in metres; convert to WGS84 longitude/latitude)"
    } else if !lat_ok && (-180.0..=180.0).contains(&y) && (-90.0..=90.0).contains(&x) {
        " (longitude and latitude swapped? GeoJSON positions are [longitude, latitude])"
    } else {
        ""
    };
    if !lon_ok && !lat_ok {
        c.problem(
            &path.to_string(),
            format!(
                "position [{x}, {y}] is not a longitude in [-180, 180] and a latitude in [-90, 90]{hint}"
            ),
        );
    } else if !lon_ok {
        c.problem(
            &format!("{path}[0]"),
            format!("longitude {x} is outside [-180, 180]{hint}"),
        );
    } else {
        c.problem(
            &format!("{path}[1]"),
            format!("latitude {y} is outside [-90, 90]{hint}"),
        );
    }
    None
}

/// Index path inside `coordinates`, formatted only when a problem is reported.
struct CoordPath(Vec<usize>);

impl fmt::Display for CoordPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(".geometry.coordinates")?;
        for i in &self.0 {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Raw forms and their serde visitors

/// A `features` element as parsed, before checking.
enum RawFeature {
    NotObject(&'static str),
    Object(Box<RawFeatureObject>),
}

struct RawFeatureObject {
    ty: Option<Value>,
    properties: Option<Value>,
    /// Keys that appear more than once inside `properties` (JSON allows it; a map keeps only one).
    property_duplicates: Vec<String>,
    geometry: Option<RawGeometry>,
    has_id: bool,
    duplicates: Vec<&'static str>,
}

/// `properties` read as a value, with the keys its object repeats (a plain `Value` would keep the
/// last silently).
struct PropertiesWithDuplicates(Value, Vec<String>);

impl<'de> Deserialize<'de> for PropertiesWithDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PropertiesWithDuplicates;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = serde_json::Map::new();
                let mut dups = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v: Value = map.next_value()?;
                    if out.insert(k.clone(), v).is_some() && !dups.contains(&k) {
                        dups.push(k);
                    }
                }
                Ok(PropertiesWithDuplicates(Value::Object(out), dups))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let v = Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(PropertiesWithDuplicates(v, Vec::new()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::Bool(v), Vec::new()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::from(v), Vec::new()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::from(v), Vec::new()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::from(v), Vec::new()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::from(v), Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::Null, Vec::new()))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::Null, Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

enum RawGeometry {
    Null,
    NotObject(&'static str),
    Object(RawGeometryObject),
}

struct RawGeometryObject {
    ty: Option<Value>,
    coordinates: Option<Node>,
    crs: Option<Value>,
    duplicates: Vec<&'static str>,
}

/// A compact tree of a `coordinates` value. An array whose first element is a number is a
/// position: only its first two numbers are kept.
enum Node {
    Num(f64),
    Pos(Pos),
    List(Vec<Node>),
    Other(&'static str),
}

struct Pos {
    x: f64,
    y: f64,
    /// Number of elements.
    len: u32,
    /// 1 + index of the first element that is not a number; 0 when all are numbers.
    bad: u32,
}

/// Implements the visitor methods for scalars and containers that are "the wrong JSON type",
/// mapping each to `$wrap(name)` (and draining containers).
macro_rules! other_types {
    ($wrap:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($wrap("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($wrap("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($wrap("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($wrap("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($wrap("a string"))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($wrap("an array"))
        }
    };
}

struct TopVisitor<'a, 'o> {
    st: &'a mut State<'o>,
}

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.st;
        while let Some(key) = map.next_key::<TopKey>()? {
            match key {
                TopKey::Type => {
                    let v: Value = map.next_value()?;
                    if st.seen_type {
                        st.top_problem("type", "member \"type\" appears more than once".into());
                    }
                    st.seen_type = true;
                    if v.as_str() != Some("FeatureCollection") {
                        let hint = match v.as_str() {
                            Some("Feature") => {
                                " (wrap the feature: {\"type\": \"FeatureCollection\", \"features\": [ … ]})"
                            }
                            _ => "",
                        };
                        st.top_problem(
                            "type",
                            format!("type is {v}, expected \"FeatureCollection\"{hint}"),
                        );
                    }
                }
                TopKey::Features => {
                    if st.seen_features {
                        st.top_problem(
                            "features",
                            "member \"features\" appears more than once".into(),
                        );
                    }
                    st.seen_features = true;
                    map.next_value_seed(FeaturesSeed { st: &mut *st })?;
                }
                TopKey::ManagementUnits => {
                    let v: Value = map.next_value()?;
                    if st.units.is_some() {
                        st.top_problem(
                            "management_units",
                            "member \"management_units\" appears more than once".into(),
                        );
                    }
                    st.units = Some(v);
                }
                TopKey::Crs => {
                    let v: Value = map.next_value()?;
                    st.check_crs("crs", &v);
                }
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Deserializes a key into one of a fixed set of names (anything else is `$other`).
macro_rules! key_enum {
    ($name:ident { $($s:literal => $v:ident),* $(,)? } else $other:ident) => {
        enum $name { $($v,)* $other }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("a member name")
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$name, E> {
                        Ok(match s { $($s => $name::$v,)* _ => $name::$other })
                    }
                }
                d.deserialize_identifier(V)
            }
        }
    };
}

key_enum!(TopKey { "type" => Type, "features" => Features, "management_units" => ManagementUnits, "crs" => Crs } else Other);
key_enum!(FeatureKey { "type" => Type, "properties" => Properties, "geometry" => Geometry, "id" => Id } else Other);
key_enum!(GeometryKey { "type" => Type, "coordinates" => Coordinates, "crs" => Crs } else Other);

struct FeaturesSeed<'a, 'o> {
    st: &'a mut State<'o>,
}

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.st;
        loop {
            let index = st.metas.len();
            st.budget = Budget {
                left: st.opts.max_positions_per_feature.unwrap_or(usize::MAX),
                exceeded: false,
            };
            let raw = match seq.next_element_seed(FeatureSeed {
                budget: &mut st.budget,
            }) {
                Ok(Some(raw)) => raw,
                Ok(None) => break,
                Err(e) => {
                    if st.budget.exceeded {
                        let max = st.opts.max_positions_per_feature.unwrap_or(usize::MAX);
                        st.too_large = Some(Problem {
                            index: Some(index),
                            code: None,
                            path: format!("features[{index}].geometry.coordinates"),
                            message: format!(
                                "more than {max} positions in one feature (the limit); simplify the geometry or split the feature"
                            ),
                        });
                    }
                    return Err(e);
                }
            };
            if let Some(max) = st.opts.max_features {
                if index >= max {
                    st.too_large = Some(Problem {
                        index: Some(index),
                        code: None,
                        path: format!("features[{index}]"),
                        message: format!("more than {max} features (the limit)"),
                    });
                    return Err(de::Error::custom("feature limit exceeded"));
                }
            }
            st.accept(index, raw);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.st.top_problem(
            "features",
            "features is an object, expected an array".into(),
        );
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.st
            .top_problem("features", "features is null, expected an array".into());
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.visit_unit()
    }
}

struct FeatureSeed<'a> {
    budget: &'a mut Budget,
}

impl<'de> DeserializeSeed<'de> for FeatureSeed<'_> {
    type Value = RawFeature;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawFeature, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FeatureSeed<'_> {
    type Value = RawFeature;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Feature object")
    }

    other_types!(RawFeature::NotObject);

    fn visit_unit<E: de::Error>(self) -> Result<RawFeature, E> {
        Ok(RawFeature::NotObject("null"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFeature, A::Error> {
        let mut o = RawFeatureObject {
            ty: None,
            properties: None,
            property_duplicates: Vec::new(),
            geometry: None,
            has_id: false,
            duplicates: Vec::new(),
        };
        while let Some(key) = map.next_key::<FeatureKey>()? {
            match key {
                FeatureKey::Type => {
                    if o.ty.replace(map.next_value()?).is_some() {
                        o.duplicates.push("type");
                    }
                }
                FeatureKey::Properties => {
                    let PropertiesWithDuplicates(v, dups) = map.next_value()?;
                    if o.properties.replace(v).is_some() {
                        o.duplicates.push("properties");
                    }
                    o.property_duplicates = dups;
                }
                FeatureKey::Geometry => {
                    let g = map.next_value_seed(GeometrySeed {
                        budget: &mut *self.budget,
                    })?;
                    if o.geometry.replace(g).is_some() {
                        o.duplicates.push("geometry");
                    }
                }
                FeatureKey::Id => {
                    map.next_value::<IgnoredAny>()?;
                    o.has_id = true;
                }
                FeatureKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(RawFeature::Object(Box::new(o)))
    }
}

struct GeometrySeed<'a> {
    budget: &'a mut Budget,
}

impl<'de> DeserializeSeed<'de> for GeometrySeed<'_> {
    type Value = RawGeometry;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawGeometry, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for GeometrySeed<'_> {
    type Value = RawGeometry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a geometry object")
    }

    other_types!(RawGeometry::NotObject);

    fn visit_unit<E: de::Error>(self) -> Result<RawGeometry, E> {
        Ok(RawGeometry::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawGeometry, A::Error> {
        let mut o = RawGeometryObject {
            ty: None,
            coordinates: None,
            crs: None,
            duplicates: Vec::new(),
        };
        while let Some(key) = map.next_key::<GeometryKey>()? {
            match key {
                GeometryKey::Type => {
                    if o.ty.replace(map.next_value()?).is_some() {
                        o.duplicates.push("type");
                    }
                }
                GeometryKey::Coordinates => {
                    let n = map.next_value_seed(NodeSeed {
                        budget: &mut *self.budget,
                    })?;
                    if o.coordinates.replace(n).is_some() {
                        o.duplicates.push("coordinates");
                    }
                }
                GeometryKey::Crs => {
                    if o.crs.replace(map.next_value()?).is_some() {
                        o.duplicates.push("crs");
                    }
                }
                GeometryKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(RawGeometry::Object(o))
    }
}

struct NodeSeed<'a> {
    budget: &'a mut Budget,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("coordinates")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Other("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Num(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Num(v))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Other("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Other("null"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Node::Other("an object"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let budget = self.budget;
        let first = match seq.next_element_seed(NodeSeed {
            budget: &mut *budget,
        })? {
            None => return Ok(Node::List(Vec::new())),
            Some(n) => n,
        };
        if let Node::Num(x) = first {
            // A position: keep the first two numbers, count the rest.
            let mut p = Pos {
                x,
                y: f64::NAN,
                len: 1,
                bad: 0,
            };
            while let Some(n) = seq.next_element_seed(NodeSeed {
                budget: &mut *budget,
            })? {
                match n {
                    Node::Num(v) if p.len == 1 => p.y = v,
                    Node::Num(_) => {}
                    _ if p.bad == 0 => p.bad = p.len.saturating_add(1),
                    _ => {}
                }
                p.len = p.len.saturating_add(1);
            }
            return Ok(Node::Pos(p));
        }
        let mut items = vec![first];
        spend(budget)?;
        while let Some(n) = seq.next_element_seed(NodeSeed {
            budget: &mut *budget,
        })? {
            spend(budget)?;
            items.push(n);
        }
        Ok(Node::List(items))
    }
}

/// Counts one stored coordinate node against the feature's budget.
fn spend<E: de::Error>(budget: &mut Budget) -> Result<(), E> {
    if budget.left == 0 {
        budget.exceeded = true;
        return Err(E::custom("position limit exceeded"));
    }
    budget.left -= 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fc(features: &str) -> String {
        format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
    }

    const SQUARE: &str = "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]";

    fn feature(props: &str, geom: &str) -> String {
        format!(r#"{{"type":"Feature","properties":{{{props}}},"geometry":{geom}}}"#)
    }

    fn street(code: &str) -> String {
        feature(
            &format!(r#""layer":"street","code":"{code}","name":"S","kind":"town""#),
            &format!(r#"{{"type":"Polygon","coordinates":{SQUARE}}}"#),
        )
    }

    fn problems(input: &str) -> Vec<Problem> {
        match read_slice(input.as_bytes()) {
            Err(ReadError::Invalid(p)) => p,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn reads_a_minimal_street() {
        let set = read_slice(fc(&street("1")).as_bytes()).expect("valid");
        assert_eq!(set.len(), 1);
        assert_eq!(set.features()[0].kind, Some(Kind::Town));
    }

    #[test]
    fn reader_and_slice_agree() {
        let input = fc(&street("1"));
        let a = read(input.as_bytes()).expect("valid");
        let b = read_slice(input.as_bytes()).expect("valid");
        assert_eq!(a, b);
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let mut input = BOM.to_vec();
        input.extend_from_slice(fc(&street("1")).as_bytes());
        assert_eq!(read(&input[..]).expect("valid").len(), 1);
        assert_eq!(read_slice(&input).expect("valid").len(), 1);
    }

    /// A reader that returns one byte per call, as a slow network stream may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(out)) => {
                    *out = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn byte_order_mark_is_skipped_from_a_trickling_reader() {
        let mut input = BOM.to_vec();
        input.extend_from_slice(fc(&street("1")).as_bytes());
        assert_eq!(read(Trickle(&input)).expect("valid").len(), 1);
        assert_eq!(read(Trickle(&input[3..])).expect("valid").len(), 1);
        assert!(matches!(
            read(Trickle(b"\xEF\xBB")),
            Err(ReadError::Syntax { .. })
        ));
    }

    #[test]
    fn members_in_any_order() {
        let input = format!(
            r#"{{"features":[{}],"name":"x","type":"FeatureCollection"}}"#,
            street("1")
        );
        assert_eq!(read_slice(input.as_bytes()).expect("valid").len(), 1);
    }

    #[test]
    fn position_node_keeps_first_two_numbers() {
        let input = fc(&feature(
            r#""layer":"street","code":"1","name":"S","kind":"town""#,
            r#"{"type":"Polygon","coordinates":[[[0,0,5],[1,0,5],[1,1,5],[0,1,5],[0,0,5]]]}"#,
        ));
        let set = read_slice(input.as_bytes()).expect("valid");
        assert_eq!(set.position_count(), 5);
    }

    #[test]
    fn non_number_in_position_is_located() {
        let p = problems(&fc(&feature(
            r#""layer":"street","code":"1","name":"S","kind":"town""#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,"x"],[1,1],[0,1],[0,0]]]}"#,
        )));
        assert_eq!(p[0].path, "features[0].geometry.coordinates[0][1][1]");
    }

    #[test]
    fn empty_position() {
        let p = problems(&fc(&feature(
            r#""layer":"road_segment","code":"1","name":"S","parent":"x""#,
            r#"{"type":"LineString","coordinates":[[0,0],[]]}"#,
        )));
        assert_eq!(p[0].path, "features[0].geometry.coordinates[1]");
        assert!(p[0].message.contains("position is empty"), "{p:?}");
    }

    #[test]
    fn too_deep_and_too_shallow() {
        let p = problems(&fc(&feature(
            r#""layer":"street","code":"1","name":"S","kind":"town""#,
            r#"{"type":"Polygon","coordinates":[[0,0],[1,0],[1,1],[0,1],[0,0]]}"#,
        )));
        assert!(p[0].message.contains("single position"), "{p:?}");
    }

    #[test]
    fn problems_per_feature_are_capped() {
        let coords: Vec<String> = (0..50).map(|i| format!("[500,{i}]")).collect();
        let p = problems(&fc(&feature(
            r#""layer":"street","code":"1","name":"S","kind":"town""#,
            &format!(
                r#"{{"type":"LineString","coordinates":[{}]}}"#,
                coords.join(",")
            ),
        )));
        // 20 listed (the type mismatch and 19 longitudes) plus one summary.
        assert_eq!(p.len(), 21);
        assert!(p[20].message.contains("more problem(s)"), "{p:?}");
    }

    #[test]
    fn position_limit_stops_reading() {
        let opts = ReadOptions {
            max_positions_per_feature: Some(3),
            ..ReadOptions::default()
        };
        match read_slice_with(fc(&street("1")).as_bytes(), &opts) {
            Err(ReadError::TooLarge(p)) => assert_eq!(p.index, Some(0)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn feature_limit_stops_reading() {
        let opts = ReadOptions {
            max_features: Some(1),
            ..ReadOptions::default()
        };
        let input = fc(&format!("{},{}", street("1"), street("2")));
        match read_slice_with(input.as_bytes(), &opts) {
            Err(ReadError::TooLarge(p)) => assert_eq!(p.index, Some(1)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn crs_names() {
        let name = |n: &str| serde_json::json!({"type": "name", "properties": {"name": n}});
        assert_eq!(crs_problem(&name("urn:ogc:def:crs:OGC:1.3:CRS84")), None);
        assert_eq!(crs_problem(&name("urn:ogc:def:crs:EPSG::4326")), None);
        assert_eq!(crs_problem(&name("EPSG:4490")), None);
        let p = crs_problem(&name("urn:ogc:def:crs:EPSG::4549")).expect("rejected");
        assert!(p.contains("EPSG::4549") && p.contains("WGS84"), "{p}");
        assert!(crs_problem(&name("EPSG:43260")).is_some());
    }

    #[test]
    fn syntax_error_has_position() {
        match read_slice(b"{\"type\":\"FeatureCollection\",\n\"features\":[1e400]}") {
            Err(ReadError::Syntax { line, message, .. }) => {
                assert_eq!(line, 2);
                assert!(message.starts_with("number out of range"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_of_lists() {
        assert_eq!(one_of(["a"].into_iter(), "or"), "a");
        assert_eq!(one_of(["a", "b", "c"].into_iter(), "or"), "a, b or c");
    }
}
