//! The `.prj` file of a Shapefile (WKT1, as ArcGIS and GDAL write it): which [`FileCrs`] its
//! coordinates are in, identified by the parameters, never by a name alone. See
//! docs/formats.md.
//!
//! 1. Bytes → text: at most [`MAX_PRJ_BYTES`], a UTF-8 BOM dropped, UTF-8 or else strict GBK
//!    (Chinese names in files from Chinese ArcGIS).
//! 2. Text → tree ([`parse`]): `KEY[value, …]` with `[` or `(`, keys case-insensitive, values
//!    quoted strings (`""` inside is a quote), numbers, bare words (`EAST`) or nodes; nesting at
//!    most [`MAX_DEPTH`] deep. Syntax errors name the byte offset and what was expected.
//! 3. Tree → system ([`identify`]): `LOCAL_CS` is refused; a name or spheroid of Beijing 1954,
//!    New Beijing or Xi'an 1980 anywhere is refused (their conversion needs local shift
//!    parameters); the spheroid (semi-major axis and inverse flattening), the datum (CGCS2000
//!    or WGS84), the prime meridian, the angular and linear units, the projection and every
//!    parameter (central meridian, false easting/northing, scale, latitude of origin) must
//!    match one row of the catalogue (`geo_io::crs`), else the error names what does not. The
//!    name only chooses between rows with identical maths (3° or 6° zone CM 117E).
//! 4. A root `AUTHORITY["EPSG", n]` is a hint: `n` must be the code identified (or one with
//!    identical maths), else the file contradicts itself and is refused.

use super::crs::{CONVERT_FIRST, Datum, FileCrs, LegacyDatum, ZoneWidth};
use std::borrow::Cow;
use std::fmt::Write as _;
use thiserror::Error;

/// The largest `.prj` read, bytes (real ones are under 1 KiB).
pub const MAX_PRJ_BYTES: usize = 64 * 1024;

/// The deepest nesting of `KEY[…]` read (real ones are 4 deep).
pub const MAX_DEPTH: usize = 16;

/// A `.prj` that is not taken, with the reason.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PrjError {
    /// Larger than [`MAX_PRJ_BYTES`].
    #[error("the .prj is {len} bytes; at most {max} are read")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Neither UTF-8 nor GBK.
    #[error("the .prj is neither UTF-8 nor GBK text")]
    NotText,
    /// Nothing but white space.
    #[error("the .prj is empty")]
    Empty,
    /// Not well-formed WKT.
    #[error("the .prj is not valid WKT: at byte {offset}, expected {expected}, found {found}")]
    Syntax {
        /// Byte offset in the text.
        offset: usize,
        /// What was expected there.
        expected: &'static str,
        /// What was there.
        found: String,
    },
    /// Nested deeper than [`MAX_DEPTH`].
    #[error("the .prj nests brackets deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// Text after the root node.
    #[error("the .prj has text after the end of its WKT, at byte {offset}")]
    Trailing {
        /// Byte offset of the text.
        offset: usize,
    },
    /// WKT2 (ISO 19162), which this reader does not take.
    #[error(
        "the .prj is WKT2 ({key}[…]); only WKT1 is read (the ESRI .prj form, or OGC WKT1 as GDAL writes it): save the .prj in ESRI form"
    )]
    Wkt2 {
        /// The root keyword.
        key: String,
    },
    /// A root other than PROJCS or GEOGCS.
    #[error("a .prj whose root is {key}[…] is not taken: expected PROJCS[…] or GEOGCS[…]")]
    UnsupportedRoot {
        /// The root keyword.
        key: String,
    },
    /// A local coordinate system.
    #[error(
        "the .prj is LOCAL_CS[\"{name}\"]: a local grid with no stated relation to longitude/latitude is not taken; {CONVERT_FIRST}"
    )]
    LocalCs {
        /// Its name.
        name: String,
    },
    /// Beijing 1954, New Beijing or Xi'an 1980.
    #[error(
        "the .prj is on the {datum} datum ({evidence}), which is not taken: its conversion to CGCS2000 needs seven shift parameters that differ by area, and none is guessed; {CONVERT_FIRST}"
    )]
    Legacy {
        /// The datum.
        datum: LegacyDatum,
        /// What identified it: a name or the spheroid's numbers.
        evidence: String,
    },
    /// A node that must be there is not.
    #[error("{within}[…] in the .prj has no {key}[…]")]
    Missing {
        /// The missing keyword.
        key: &'static str,
        /// The node it should be in.
        within: &'static str,
    },
    /// A node with the wrong values.
    #[error("{key}[…] in the .prj: {detail}")]
    BadValue {
        /// The keyword.
        key: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A spheroid other than CGCS2000's and WGS84's.
    #[error(
        "spheroid \"{name}\" (semi-major axis {a}, inverse flattening {inv_f}) is neither CGCS2000 (6378137, 298.257222101) nor WGS84 (6378137, 298.257223563); {CONVERT_FIRST}"
    )]
    Spheroid {
        /// Its name.
        name: String,
        /// Semi-major axis.
        a: f64,
        /// Inverse flattening.
        inv_f: f64,
    },
    /// A datum on the right ellipsoid but with another name (e.g. NAD83 on GRS80).
    #[error(
        "datum \"{name}\" on the {spheroid} spheroid is neither CGCS2000 (D_China_2000 / China_2000) nor WGS84 (D_WGS_1984 / WGS_1984); other datums on the same ellipsoid are not taken"
    )]
    UnknownDatum {
        /// The datum's name.
        name: String,
        /// "CGCS2000/GRS80" or "WGS84".
        spheroid: &'static str,
    },
    /// A datum shift to WGS84 other than zero.
    #[error(
        "datum \"{datum}\" has TOWGS84[{values}]: a datum shift is not applied; {CONVERT_FIRST}"
    )]
    DatumShift {
        /// The datum's name.
        datum: String,
        /// The shift parameters as written.
        values: String,
    },
    /// A prime meridian other than Greenwich.
    #[error("prime meridian \"{name}\" at {value}° is not Greenwich (0°)")]
    PrimeMeridian {
        /// Its name.
        name: String,
        /// Its longitude.
        value: f64,
    },
    /// An angular unit other than the degree.
    #[error("angular unit \"{name}\" ({factor} rad) is not the degree (0.0174532925199433 rad)")]
    AngularUnit {
        /// Its name.
        name: String,
        /// Radians per unit.
        factor: f64,
    },
    /// A linear unit other than the metre.
    #[error("linear unit \"{name}\" ({factor} m) is not the metre")]
    LinearUnit {
        /// Its name.
        name: String,
        /// Metres per unit.
        factor: f64,
    },
    /// A projection method not taken.
    #[error(
        "projection \"{name}\" is not taken: expected Gauss_Kruger / Transverse_Mercator (CGCS2000 Gauss-Kruger, WGS84 UTM) or Web Mercator (Mercator_Auxiliary_Sphere, Mercator_1SP on the sphere)"
    )]
    Projection {
        /// Its name.
        name: String,
    },
    /// A parameter the projection does not have.
    #[error("parameter {name} = {value} is not one of projection {projection}'s")]
    Parameter {
        /// The projection.
        projection: String,
        /// The parameter as named.
        name: String,
        /// Its value.
        value: f64,
    },
    /// A parameter given twice.
    #[error("parameter {name} is given twice")]
    DuplicateParameter {
        /// The parameter as named.
        name: String,
    },
    /// A parameter the projection needs.
    #[error("projection {projection} has no parameter {name}")]
    MissingParameter {
        /// The projection.
        projection: String,
        /// The parameter's name.
        name: &'static str,
    },
    /// Parameters that match no system of the catalogue.
    #[error(
        "the projection's parameters match no coordinate system taken (EPSG:4491-4554, 32649-32651, 3857): {reason} [{parameters}]. If this is a local (city) grid under a standard name, {CONVERT_FIRST}"
    )]
    NoMatch {
        /// Which parameters are off, with the values expected.
        reason: String,
        /// Every parameter as read.
        parameters: String,
    },
    /// A root authority code the parameters contradict.
    #[error(
        "the .prj says AUTHORITY[\"EPSG\",\"{code}\"] but its parameters are those of {identified}: the code and the parameters must agree"
    )]
    AuthorityMismatch {
        /// The code in the file.
        code: u32,
        /// What the parameters say.
        identified: FileCrs,
    },
}

/// A value in a WKT node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A quoted string, unquoted.
    Text(String),
    /// A number.
    Number(f64),
    /// A bare word, e.g. `EAST`.
    Word(String),
    /// A nested node.
    Node(Node),
}

/// A WKT node: `KEY[values]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The keyword as written.
    pub key: String,
    /// The values in order.
    pub args: Vec<Value>,
}

impl Node {
    fn is(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }

    /// The direct children with keyword `key` (case-insensitive).
    pub fn children<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.args.iter().filter_map(move |v| match v {
            Value::Node(n) if n.is(key) => Some(n),
            _ => None,
        })
    }

    /// The first direct child with keyword `key`.
    pub fn child(&self, key: &str) -> Option<&Node> {
        self.args.iter().find_map(|v| match v {
            Value::Node(n) if n.is(key) => Some(n),
            _ => None,
        })
    }

    /// The first value if it is a string (the name of most nodes).
    pub fn name(&self) -> Option<&str> {
        match self.args.first() {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// The `i`-th value as a number.
    fn number(&self, i: usize) -> Option<f64> {
        match self.args.get(i) {
            Some(Value::Number(x)) => Some(*x),
            _ => None,
        }
    }
}

/// The coordinate system of a `.prj` file's bytes.
pub fn identify(bytes: &[u8]) -> Result<FileCrs, PrjError> {
    if bytes.len() > MAX_PRJ_BYTES {
        return Err(PrjError::TooLarge {
            len: bytes.len(),
            max: MAX_PRJ_BYTES,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text: Cow<'_, str> = match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => encoding_rs::GBK
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or(PrjError::NotText)?,
    };
    identify_str(&text)
}

/// The coordinate system of a `.prj` file's text.
pub fn identify_str(text: &str) -> Result<FileCrs, PrjError> {
    identify_tree(&parse(text)?)
}

/// Parses WKT1 text into its tree.
pub fn parse(text: &str) -> Result<Node, PrjError> {
    if text.len() > MAX_PRJ_BYTES {
        return Err(PrjError::TooLarge {
            len: text.len(),
            max: MAX_PRJ_BYTES,
        });
    }
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
    };
    p.skip_ws();
    if p.pos == p.s.len() {
        return Err(PrjError::Empty);
    }
    let key = p.word();
    if key.is_empty() {
        return Err(p.error("a keyword such as PROJCS"));
    }
    p.skip_ws();
    let root = p.node_body(key, 1)?;
    p.skip_ws();
    if p.pos < p.s.len() {
        return Err(PrjError::Trailing { offset: p.pos });
    }
    Ok(root)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        // NULs: some writers pad the file.
        while let Some(c) = self.s.get(self.pos) {
            if c.is_ascii_whitespace() || *c == 0 {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn error(&self, expected: &'static str) -> PrjError {
        let found = match self.text.get(self.pos..).and_then(|r| r.chars().next()) {
            None => "the end of the text".to_owned(),
            Some(c) => format!("{c:?}"),
        };
        PrjError::Syntax {
            offset: self.pos,
            expected,
            found,
        }
    }

    /// A keyword or bare word: `[A-Za-z_][A-Za-z0-9_]*` (empty if none).
    fn word(&mut self) -> String {
        let start = self.pos;
        if matches!(self.peek(), Some(c) if c.is_ascii_alphabetic() || c == b'_') {
            while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
                self.pos += 1;
            }
        }
        self.text
            .get(start..self.pos)
            .unwrap_or_default()
            .to_owned()
    }

    /// After the keyword: `[` or `(`, values separated by commas, the matching close.
    fn node_body(&mut self, key: String, depth: usize) -> Result<Node, PrjError> {
        let close = match self.peek() {
            Some(b'[') => b']',
            Some(b'(') => b')',
            _ => return Err(self.error("'[' or '('")),
        };
        if depth > MAX_DEPTH {
            return Err(PrjError::TooDeep { max: MAX_DEPTH });
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(Node { key, args });
        }
        loop {
            self.skip_ws();
            args.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(Node { key, args });
                }
                _ => {
                    return Err(self.error(if close == b']' {
                        "',' or ']'"
                    } else {
                        "',' or ')'"
                    }));
                }
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, PrjError> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::Text),
            Some(c) if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.') => self.number(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let word = self.word();
                self.skip_ws();
                if matches!(self.peek(), Some(b'[' | b'(')) {
                    self.node_body(word, depth + 1).map(Value::Node)
                } else {
                    Ok(Value::Word(word))
                }
            }
            _ => Err(self.error("a string, a number or a keyword")),
        }
    }

    fn string(&mut self) -> Result<String, PrjError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut start = self.pos;
        loop {
            match self.peek() {
                None => {
                    self.pos = open;
                    return Err(self.error("a closing '\"' for the string starting here"));
                }
                Some(b'"') => {
                    out.push_str(self.text.get(start..self.pos).unwrap_or_default());
                    self.pos += 1;
                    if self.peek() == Some(b'"') {
                        // `""` is a quote inside the string.
                        out.push('"');
                        self.pos += 1;
                        start = self.pos;
                    } else {
                        return Ok(out);
                    }
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn number(&mut self) -> Result<Value, PrjError> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.pos += 1;
        }
        let text = self.text.get(start..self.pos).unwrap_or_default();
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Number(x)),
            _ => {
                self.pos = start;
                Err(self.error("a finite number"))
            }
        }
    }
}

/// Lower-case letters and digits only (any script): "CGCS2000_3_Degree" → "cgcs20003degree".
fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A legacy datum named in `name` (of a PROJCS, GEOGCS, DATUM or SPHEROID).
fn legacy_by_name(name: &str) -> Option<LegacyDatum> {
    let n = norm(name);
    let any = |pats: &[&str]| pats.iter().any(|p| n.contains(p));
    if any(&["newbeijing", "新北京"]) {
        Some(LegacyDatum::NewBeijing)
    } else if any(&["beijing1954", "beijing54", "北京54", "北京1954", "1954北京"]) {
        Some(LegacyDatum::Beijing1954)
    } else if any(&["xian1980", "xian80", "西安80", "西安1980", "1980西安"]) {
        Some(LegacyDatum::Xian1980)
    } else {
        None
    }
}

/// Every name of a CRS part in the tree that names a legacy datum.
fn check_legacy_names(node: &Node) -> Result<(), PrjError> {
    let is_crs_part = ["PROJCS", "GEOGCS", "DATUM", "SPHEROID"]
        .iter()
        .any(|k| node.is(k));
    let name = node.name().filter(|_| is_crs_part);
    if let Some((name, datum)) = name.and_then(|n| Some((n, legacy_by_name(n)?))) {
        return Err(PrjError::Legacy {
            datum,
            evidence: format!("{}[\"{name}\"]", node.key.to_ascii_uppercase()),
        });
    }
    for v in &node.args {
        if let Value::Node(n) = v {
            check_legacy_names(n)?;
        }
    }
    Ok(())
}

fn identify_tree(root: &Node) -> Result<FileCrs, PrjError> {
    let key = root.key.to_ascii_uppercase();
    let crs = match key.as_str() {
        "LOCAL_CS" => {
            return Err(PrjError::LocalCs {
                name: root.name().unwrap_or_default().to_owned(),
            });
        }
        "PROJCS" => {
            check_legacy_names(root)?;
            projected(root)?
        }
        "GEOGCS" => {
            check_legacy_names(root)?;
            let geo = geographic(root)?;
            if geo.sphere {
                return Err(geo.sphere_error());
            }
            FileCrs::Geographic(geo.datum)
        }
        "PROJCRS" | "GEOGCRS" | "GEODCRS" | "GEOGRAPHICCRS" | "PROJECTEDCRS" | "BOUNDCRS"
        | "COMPOUNDCRS" | "ENGCRS" | "ENGINEERINGCRS" | "VERTCRS" | "BASEGEOGCRS" => {
            return Err(PrjError::Wkt2 {
                key: root.key.clone(),
            });
        }
        _ => {
            return Err(PrjError::UnsupportedRoot {
                key: root.key.clone(),
            });
        }
    };
    check_authority(root, crs)
}

/// The root `AUTHORITY["EPSG", n]` must agree with the parameters; where two codes have the
/// same maths (unprefixed 3° and 6° zones on the same meridian), the file's code is kept.
fn check_authority(root: &Node, crs: FileCrs) -> Result<FileCrs, PrjError> {
    let Some(code) = root_epsg(root)? else {
        return Ok(crs);
    };
    if code == crs.epsg() {
        return Ok(crs);
    }
    if let Ok(
        other @ FileCrs::GaussKruger {
            cm: b,
            prefixed: false,
            ..
        },
    ) = FileCrs::from_epsg(code)
    {
        if matches!(crs, FileCrs::GaussKruger { cm: a, prefixed: false, .. } if a == b) {
            return Ok(other);
        }
    }
    Err(PrjError::AuthorityMismatch {
        code,
        identified: crs,
    })
}

/// The code of the root `AUTHORITY["EPSG", …]`, if there is one.
fn root_epsg(root: &Node) -> Result<Option<u32>, PrjError> {
    let Some(auth) = root.child("AUTHORITY") else {
        return Ok(None);
    };
    if !auth.name().is_some_and(|n| n.eq_ignore_ascii_case("EPSG")) {
        return Ok(None);
    }
    let code = match auth.args.get(1) {
        Some(Value::Text(s)) => s.trim().parse::<u32>().ok(),
        Some(Value::Number(x)) if x.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(x) => {
            Some(*x as u32)
        }
        _ => None,
    };
    code.map(Some).ok_or_else(|| PrjError::BadValue {
        key: "AUTHORITY",
        detail: "the EPSG code is not a whole number".to_owned(),
    })
}

/// A geographic system as read: the datum, and whether the "ellipsoid" is the WGS84 sphere
/// of ESRI's old Web Mercator.
struct Geo {
    datum: Datum,
    sphere: bool,
    spheroid_name: String,
}

impl Geo {
    fn sphere_error(&self) -> PrjError {
        PrjError::Spheroid {
            name: self.spheroid_name.clone(),
            a: 6_378_137.0,
            inv_f: 0.0,
        }
    }
}

fn close(x: f64, y: f64, tol: f64) -> bool {
    (x - y).abs() <= tol
}

fn geographic(geogcs: &Node) -> Result<Geo, PrjError> {
    let datum = geogcs.child("DATUM").ok_or(PrjError::Missing {
        key: "DATUM",
        within: "GEOGCS",
    })?;
    let datum_name = datum.name().unwrap_or_default();
    let spheroid = datum.child("SPHEROID").ok_or(PrjError::Missing {
        key: "SPHEROID",
        within: "DATUM",
    })?;
    let spheroid_name = spheroid.name().unwrap_or_default().to_owned();
    let (Some(a), Some(inv_f)) = (spheroid.number(1), spheroid.number(2)) else {
        return Err(PrjError::BadValue {
            key: "SPHEROID",
            detail: "expected a name, the semi-major axis and the inverse flattening".to_owned(),
        });
    };
    let legacy = |datum: LegacyDatum| PrjError::Legacy {
        datum,
        evidence: format!("spheroid \"{spheroid_name}\" {a}, {inv_f}"),
    };
    let n = norm(datum_name);
    let is_cgcs = n.contains("cgcs2000")
        || (n.contains("china") && n.contains("2000"))
        || ["2000国家", "国家2000", "中国2000"]
            .iter()
            .any(|p| n.contains(p));
    let is_wgs = ["wgs84", "wgs1984", "worldgeodeticsystem1984"]
        .iter()
        .any(|p| n.contains(p));
    let on_6378137 = close(a, 6_378_137.0, 1e-3);
    // The two ellipsoids taken differ in 1/f only (by 1.5e-6), each with the names of its datum.
    let known = [
        (298.257_222_101, Datum::Cgcs2000, is_cgcs, "CGCS2000/GRS80"),
        (298.257_223_563, Datum::Wgs84, is_wgs, "WGS84"),
    ];
    let ellipsoid = known
        .iter()
        .find(|(f, ..)| on_6378137 && close(inv_f, *f, 1e-7));
    let (datum_kind, sphere) = if close(a, 6_378_245.0, 0.5) && close(inv_f, 298.3, 1e-6) {
        return Err(legacy(LegacyDatum::Beijing1954));
    } else if close(a, 6_378_140.0, 0.5) && close(inv_f, 298.257, 1e-6) {
        return Err(legacy(LegacyDatum::Xian1980));
    } else if let Some(&(_, kind, named, spheroid)) = ellipsoid {
        if !named {
            return Err(PrjError::UnknownDatum {
                name: datum_name.to_owned(),
                spheroid,
            });
        }
        (kind, false)
    } else if on_6378137 && inv_f == 0.0 && is_wgs {
        (Datum::Wgs84, true)
    } else {
        return Err(PrjError::Spheroid {
            name: spheroid_name,
            a,
            inv_f,
        });
    };
    for shift in datum.children("TOWGS84") {
        let all_zero = shift
            .args
            .iter()
            .all(|v| matches!(v, Value::Number(x) if *x == 0.0));
        if !all_zero {
            let mut values = String::new();
            for (i, v) in shift.args.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let _ = match v {
                    Value::Number(x) => write!(values, "{sep}{x}"),
                    other => write!(values, "{sep}{other:?}"),
                };
            }
            return Err(PrjError::DatumShift {
                datum: datum_name.to_owned(),
                values,
            });
        }
    }
    let primem = geogcs.child("PRIMEM").ok_or(PrjError::Missing {
        key: "PRIMEM",
        within: "GEOGCS",
    })?;
    let pm = primem.number(1).ok_or_else(|| PrjError::BadValue {
        key: "PRIMEM",
        detail: "expected a name and a longitude".to_owned(),
    })?;
    if pm != 0.0 {
        return Err(PrjError::PrimeMeridian {
            name: primem.name().unwrap_or_default().to_owned(),
            value: pm,
        });
    }
    let unit = geogcs.child("UNIT").ok_or(PrjError::Missing {
        key: "UNIT",
        within: "GEOGCS",
    })?;
    let factor = unit.number(1).ok_or_else(|| PrjError::BadValue {
        key: "UNIT",
        detail: "expected a name and a factor".to_owned(),
    })?;
    if !close(factor, 1f64.to_radians(), 1e-15) {
        return Err(PrjError::AngularUnit {
            name: unit.name().unwrap_or_default().to_owned(),
            factor,
        });
    }
    Ok(Geo {
        datum: datum_kind,
        sphere,
        spheroid_name,
    })
}

/// The parameters of a PROJCS by normalised name.
struct Params {
    projection: String,
    list: Vec<(&'static str, String, f64)>,
}

impl Params {
    fn read(projcs: &Node, projection: &str) -> Result<Params, PrjError> {
        let mut list: Vec<(&'static str, String, f64)> = Vec::new();
        for p in projcs.children("PARAMETER") {
            let name = p.name().unwrap_or_default();
            let value = p.number(1).ok_or_else(|| PrjError::BadValue {
                key: "PARAMETER",
                detail: format!("{name:?} has no numeric value"),
            })?;
            let canonical = match norm(name).as_str() {
                "falseeasting" => "false_easting",
                "falsenorthing" => "false_northing",
                "centralmeridian" | "longitudeofnaturalorigin" | "longitudeoforigin" => {
                    "central_meridian"
                }
                "scalefactor" | "scalefactoratnaturalorigin" => "scale_factor",
                "latitudeoforigin" | "latitudeofnaturalorigin" => "latitude_of_origin",
                "standardparallel1" => "standard_parallel_1",
                "auxiliaryspheretype" => "auxiliary_sphere_type",
                _ => {
                    return Err(PrjError::Parameter {
                        projection: projection.to_owned(),
                        name: name.to_owned(),
                        value,
                    });
                }
            };
            if list.iter().any(|(c, _, _)| *c == canonical) {
                return Err(PrjError::DuplicateParameter {
                    name: name.to_owned(),
                });
            }
            list.push((canonical, name.to_owned(), value));
        }
        Ok(Params {
            projection: projection.to_owned(),
            list,
        })
    }

    fn get(&self, name: &str) -> Option<f64> {
        self.list.iter().find(|(c, _, _)| *c == name).map(|p| p.2)
    }

    fn need(&self, name: &'static str) -> Result<f64, PrjError> {
        self.get(name).ok_or_else(|| PrjError::MissingParameter {
            projection: self.projection.clone(),
            name,
        })
    }

    /// Refuses any parameter not in `allowed`.
    fn only(&self, allowed: &[&str]) -> Result<(), PrjError> {
        match self.list.iter().find(|(c, _, _)| !allowed.contains(c)) {
            Some((_, name, value)) => Err(PrjError::Parameter {
                projection: self.projection.clone(),
                name: name.clone(),
                value: *value,
            }),
            None => Ok(()),
        }
    }

    fn describe(&self, datum: &str) -> String {
        let mut s = format!("{} on {datum}", self.projection);
        for (c, _, v) in &self.list {
            let _ = write!(s, ", {c} = {v}");
        }
        s
    }

    fn no_match(&self, datum: &str, reasons: &[String]) -> PrjError {
        PrjError::NoMatch {
            reason: reasons.join("; "),
            parameters: self.describe(datum),
        }
    }
}

fn projected(projcs: &Node) -> Result<FileCrs, PrjError> {
    let geogcs = projcs.child("GEOGCS").ok_or(PrjError::Missing {
        key: "GEOGCS",
        within: "PROJCS",
    })?;
    let geo = geographic(geogcs)?;
    let projection = projcs
        .child("PROJECTION")
        .ok_or(PrjError::Missing {
            key: "PROJECTION",
            within: "PROJCS",
        })?
        .name()
        .ok_or_else(|| PrjError::BadValue {
            key: "PROJECTION",
            detail: "expected the projection's name".to_owned(),
        })?;
    let unit = projcs.child("UNIT").ok_or(PrjError::Missing {
        key: "UNIT",
        within: "PROJCS",
    })?;
    let factor = unit.number(1).ok_or_else(|| PrjError::BadValue {
        key: "UNIT",
        detail: "expected a name and a factor".to_owned(),
    })?;
    if !close(factor, 1.0, 1e-12) {
        return Err(PrjError::LinearUnit {
            name: unit.name().unwrap_or_default().to_owned(),
            factor,
        });
    }
    let params = Params::read(projcs, projection)?;
    match norm(projection).as_str() {
        "transversemercator" | "gausskruger" => {
            if geo.sphere {
                return Err(geo.sphere_error());
            }
            let name = projcs.name().unwrap_or_default();
            transverse_mercator(&params, geo.datum, name)
        }
        "mercatorauxiliarysphere" | "popularvisualisationpseudomercator" => {
            web_mercator(&params, geo.datum, true)
        }
        "mercator" | "mercator1sp" | "mercator2sp" => {
            // On the WGS84 ellipsoid this is World Mercator (EPSG:3395) unless the file says
            // it is spherical: GDAL's PROJ4 extension or the root code.
            let extension = projcs.children("EXTENSION").any(|e| {
                e.args.get(1).is_some_and(|v| match v {
                    Value::Text(s) => {
                        s.contains("+proj=merc")
                            && s.contains("+a=6378137")
                            && s.contains("+b=6378137")
                    }
                    _ => false,
                })
            });
            let code = root_epsg(projcs)?;
            web_mercator(
                &params,
                geo.datum,
                geo.sphere || extension || code == Some(3857),
            )
        }
        _ => Err(PrjError::Projection {
            name: projection.to_owned(),
        }),
    }
}

fn datum_label(datum: Datum) -> &'static str {
    match datum {
        Datum::Cgcs2000 => "CGCS2000",
        Datum::Wgs84 => "WGS84",
    }
}

fn web_mercator(params: &Params, datum: Datum, spherical: bool) -> Result<FileCrs, PrjError> {
    params.only(&[
        "false_easting",
        "false_northing",
        "central_meridian",
        "scale_factor",
        "standard_parallel_1",
        "auxiliary_sphere_type",
    ])?;
    let label = datum_label(datum);
    let mut reasons = Vec::new();
    for (name, want) in [
        ("false_easting", 0.0),
        ("false_northing", 0.0),
        ("central_meridian", 0.0),
    ] {
        let v = params.need(name)?;
        if !close(v, want, 1e-9) {
            reasons.push(format!("{name} is {v}, not {want}"));
        }
    }
    for (name, want) in [
        ("scale_factor", 1.0),
        ("standard_parallel_1", 0.0),
        ("auxiliary_sphere_type", 0.0),
    ] {
        if let Some(v) = params.get(name).filter(|v| !close(*v, want, 1e-12)) {
            reasons.push(format!("{name} is {v}, not {want}"));
        }
    }
    if datum != Datum::Wgs84 {
        reasons.push(format!("Web Mercator is on WGS84, not {label}"));
    }
    if !spherical {
        reasons.push(
            "Mercator on the WGS84 ellipsoid is World Mercator (EPSG:3395), not Web Mercator (EPSG:3857)"
                .to_owned(),
        );
    }
    if reasons.is_empty() {
        Ok(FileCrs::WebMercator)
    } else {
        Err(params.no_match(label, &reasons))
    }
}

fn transverse_mercator(params: &Params, datum: Datum, name: &str) -> Result<FileCrs, PrjError> {
    params.only(&[
        "false_easting",
        "false_northing",
        "central_meridian",
        "scale_factor",
        "latitude_of_origin",
    ])?;
    let cm = params.need("central_meridian")?;
    let fe = params.need("false_easting")?;
    let fnorth = params.need("false_northing")?;
    let k = params.need("scale_factor")?;
    let lat0 = params.need("latitude_of_origin")?;
    let label = datum_label(datum);
    let mut reasons = Vec::new();
    if !close(lat0, 0.0, 1e-9) {
        reasons.push(format!("latitude_of_origin is {lat0}, not 0"));
    }
    if !close(fnorth, 0.0, 1e-3) {
        reasons.push(format!("false_northing is {fnorth}, not 0"));
    }
    let cm_whole = cm.round();
    let cm_deg = if close(cm, cm_whole, 1e-7) && (75.0..=135.0).contains(&cm_whole) {
        Some(cm_whole as u16)
    } else {
        None
    };
    let found = match datum {
        Datum::Cgcs2000 => {
            if !close(k, 1.0, 1e-9) {
                reasons.push(format!("scale_factor is {k}, not 1 (Gauss-Kruger)"));
            }
            let zone_fe = (fe - 500_000.0) / 1e6;
            match cm_deg {
                None => {
                    reasons.push(format!(
                        "central_meridian {cm} is not a zone meridian of China (75, 78, … 135)"
                    ));
                    None
                }
                Some(cm) if close(fe, 500_000.0, 1e-3) => {
                    // Unprefixed: 3° and 6° zones share the odd multiples of 3; the name
                    // (ESRI "3_Degree", EPSG "3-degree") picks the code, the maths are equal.
                    let n = norm(name);
                    let three = n.contains("3degree") || n.contains("3度");
                    let width = if three && ZoneWidth::Three.zone_of(cm).is_some() {
                        ZoneWidth::Three
                    } else if ZoneWidth::Six.zone_of(cm).is_some() {
                        ZoneWidth::Six
                    } else {
                        ZoneWidth::Three
                    };
                    let crs = FileCrs::gauss_kruger(width, cm, false);
                    if crs.is_none() {
                        reasons.push(format!(
                            "central_meridian {cm} is not a zone meridian of China (75, 78, … 135)"
                        ));
                    }
                    crs
                }
                Some(cm) if fe > 500_000.0 && close(zone_fe, zone_fe.round(), 1e-9) => {
                    let zone = zone_fe.round() as u16;
                    let width = [ZoneWidth::Six, ZoneWidth::Three]
                        .into_iter()
                        .find(|w| w.zones().contains(&zone));
                    match width {
                        Some(w) if w.cm_of(zone) == Some(cm) => FileCrs::gauss_kruger(w, cm, true),
                        Some(w) => {
                            reasons.push(format!(
                                "false_easting {fe} prefixes {}° zone {zone}, whose central meridian is {}, but central_meridian is {cm}",
                                w.degrees(),
                                w.cm_of(zone).unwrap_or_default()
                            ));
                            None
                        }
                        None => {
                            reasons.push(format!(
                                "false_easting {fe} prefixes zone {zone}, which is neither a 6° zone of China (13-23) nor a 3° one (25-45)"
                            ));
                            None
                        }
                    }
                }
                Some(_) => {
                    reasons.push(format!(
                        "false_easting is {fe}, neither 500000 nor a zone number × 1000000 + 500000"
                    ));
                    None
                }
            }
        }
        Datum::Wgs84 => {
            if !close(k, 0.9996, 1e-9) {
                reasons.push(format!(
                    "scale_factor is {k}, not 0.9996 (UTM; Gauss-Kruger is taken on CGCS2000 only)"
                ));
            }
            if !close(fe, 500_000.0, 1e-3) {
                reasons.push(format!("false_easting is {fe}, not 500000 (UTM)"));
            }
            match cm_deg {
                Some(cm) if (cm + 183) % 6 == 0 => {
                    let zone = (cm + 183) / 6;
                    if (49..=51).contains(&zone) {
                        Some(FileCrs::Utm { zone: zone as u8 })
                    } else {
                        reasons.push(format!(
                            "central_meridian {cm} is UTM zone {zone}N (EPSG:326{zone}); the zones taken are 49N-51N"
                        ));
                        None
                    }
                }
                _ => {
                    reasons.push(format!(
                        "central_meridian {cm} is not that of UTM zone 49N (111), 50N (117) or 51N (123)"
                    ));
                    None
                }
            }
        }
    };
    match found {
        Some(crs) if reasons.is_empty() => Ok(crs),
        _ => Err(params.no_match(label, &reasons)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Fixtures: ESRI forms from `gdalsrsinfo -o wkt_esri EPSG:n`, OGC forms from
    // `gdalsrsinfo -o wkt1 EPSG:n` (GDAL 3.6.2), pasted as written.

    const ESRI_4549: &str = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    const ESRI_4528: &str = r#"PROJCS["CGCS2000_3_Degree_GK_Zone_40",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",40500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    const OGC_4549: &str = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger CM 120E",
    GEOGCS["China Geodetic Coordinate System 2000",
        DATUM["China_2000",
            SPHEROID["CGCS2000",6378137,298.257222101,
                AUTHORITY["EPSG","1024"]],
            AUTHORITY["EPSG","1043"]],
        PRIMEM["Greenwich",0,
            AUTHORITY["EPSG","8901"]],
        UNIT["degree",0.0174532925199433,
            AUTHORITY["EPSG","9122"]],
        AUTHORITY["EPSG","4490"]],
    PROJECTION["Transverse_Mercator"],
    PARAMETER["latitude_of_origin",0],
    PARAMETER["central_meridian",120],
    PARAMETER["scale_factor",1],
    PARAMETER["false_easting",500000],
    PARAMETER["false_northing",0],
    UNIT["metre",1,
        AUTHORITY["EPSG","9001"]],
    AXIS["Northing",NORTH],
    AXIS["Easting",EAST],
    AUTHORITY["EPSG","4549"]]"#;

    const OGC_4528: &str = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger zone 40",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4490"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",120],PARAMETER["scale_factor",1],PARAMETER["false_easting",40500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Northing",NORTH],AXIS["Easting",EAST],AUTHORITY["EPSG","4528"]]"#;

    const ESRI_4509: &str = r#"PROJCS["CGCS2000_GK_CM_117E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    const OGC_4509: &str = r#"PROJCS["CGCS2000 / Gauss-Kruger CM 117E",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4490"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",117],PARAMETER["scale_factor",1],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Northing",NORTH],AXIS["Easting",EAST],AUTHORITY["EPSG","4509"]]"#;

    const ESRI_4498: &str = r#"PROJCS["CGCS2000_GK_Zone_20",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",20500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    const ESRI_32650: &str = r#"PROJCS["WGS_1984_UTM_Zone_50N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    const OGC_32650: &str = r#"PROJCS["WGS 84 / UTM zone 50N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",117],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32650"]]"#;

    const ESRI_3857: &str = r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]"#;

    const OGC_3857: &str = r#"PROJCS["WGS 84 / Pseudo-Mercator",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],PARAMETER["scale_factor",1],PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],EXTENSION["PROJ4","+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs"],AUTHORITY["EPSG","3857"]]"#;

    /// ArcGIS's older Web Mercator (ESRI 102113): Mercator on the sphere.
    const ESRI_WEB_MERCATOR_SPHERE: &str = r#"PROJCS["WGS_1984_Web_Mercator",GEOGCS["GCS_WGS_1984_Major_Auxiliary_Sphere",DATUM["D_WGS_1984_Major_Auxiliary_Sphere",SPHEROID["WGS_1984_Major_Auxiliary_Sphere",6378137.0,0.0]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],UNIT["Meter",1.0]]"#;

    const ESRI_4490: &str = r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

    const ESRI_4326: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

    const OGC_4490: &str = r#"GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4490"]]"#;

    const ESRI_BEIJING_2437: &str = r#"PROJCS["Beijing_1954_3_Degree_GK_CM_120E",GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    const ESRI_XIAN_2385: &str = r#"PROJCS["Xian_1980_3_Degree_GK_CM_120E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    const OGC_XIAN_2385: &str = r#"PROJCS["Xian 1980 / 3-degree Gauss-Kruger CM 120E",GEOGCS["Xian 1980",DATUM["Xian_1980",SPHEROID["IAG 1975",6378140,298.257,AUTHORITY["EPSG","7049"]],AUTHORITY["EPSG","6610"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4610"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",120],PARAMETER["scale_factor",1],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Northing",NORTH],AXIS["Easting",EAST],AUTHORITY["EPSG","2385"]]"#;

    const ESRI_NEW_BEIJING_4797: &str = r#"PROJCS["New_Beijing_3_Degree_Gauss_Kruger_CM_120E",GEOGCS["GCS_New_Beijing",DATUM["D_New_Beijing",SPHEROID["Krasovsky_1940",6378245.0,298.3]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    /// A city grid found online under a standard name (research file, issue 19).
    const LOCAL_CITY_GRID: &str = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",3175.49],PARAMETER["False_Northing",-26091.448],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",31.0],UNIT["Meter",1.0]]"#;

    fn epsg(text: &str) -> u32 {
        match identify_str(text) {
            Ok(crs) => crs.epsg(),
            Err(e) => panic!("{e}\n{text}"),
        }
    }

    #[test]
    fn esri_and_ogc_forms_are_identified() {
        assert_eq!(epsg(ESRI_4549), 4549);
        assert_eq!(epsg(OGC_4549), 4549);
        assert_eq!(epsg(ESRI_4528), 4528);
        assert_eq!(epsg(OGC_4528), 4528);
        assert_eq!(epsg(ESRI_4509), 4509);
        assert_eq!(epsg(OGC_4509), 4509);
        assert_eq!(epsg(ESRI_4498), 4498);
        assert_eq!(epsg(ESRI_32650), 32650);
        assert_eq!(epsg(OGC_32650), 32650);
        assert_eq!(epsg(ESRI_3857), 3857);
        assert_eq!(epsg(OGC_3857), 3857);
        assert_eq!(epsg(ESRI_WEB_MERCATOR_SPHERE), 3857);
        assert_eq!(epsg(ESRI_4490), 4490);
        assert_eq!(epsg(OGC_4490), 4490);
        assert_eq!(epsg(ESRI_4326), 4326);
        let crs = identify_str(ESRI_4528).unwrap();
        assert_eq!(
            crs,
            FileCrs::GaussKruger {
                width: ZoneWidth::Three,
                cm: 120,
                prefixed: true
            }
        );
        // The zone-40 coordinate of Shanghai has the prefix.
        let (x, _) = crs.from_lon_lat(121.47, 31.23).unwrap();
        assert!((40_500_000.0..40_700_000.0).contains(&x), "{x}");
    }

    #[test]
    fn the_name_picks_between_3_and_6_degree_zones_with_the_same_maths() {
        let three = ESRI_4509.replace("CGCS2000_GK_CM_117E", "CGCS2000_3_Degree_GK_CM_117E");
        assert_eq!(epsg(&three), 4548);
        // An OGC 6° file whose code says 3°: same maths, the code is kept.
        let coded = OGC_4509.replace(
            r#"AUTHORITY["EPSG","4509"]]"#,
            r#"AUTHORITY["EPSG","4548"]]"#,
        );
        assert_eq!(epsg(&coded), 4548);
        // CM 120E is only a 3° meridian, whatever the name says.
        let renamed = ESRI_4549.replace("CGCS2000_3_Degree_GK_CM_120E", "my_grid");
        assert_eq!(epsg(&renamed), 4549);
    }

    #[test]
    fn the_parser_takes_parentheses_any_case_white_space_bom_and_gbk() {
        let parens = ESRI_4549.replace('[', "(").replace(']', ")");
        assert_eq!(epsg(&parens), 4549);
        let lower = ESRI_4549
            .replace("PROJCS", "projcs")
            .replace("PARAMETER", "Parameter")
            .replace("Gauss_Kruger", "GAUSS_KRUGER");
        assert_eq!(epsg(&lower), 4549);
        let spaced = format!("\u{feff}\r\n  {}\r\n\0", ESRI_4549.replace(',', " ,\n  "));
        assert_eq!(identify(spaced.as_bytes()).map(FileCrs::epsg), Ok(4549));
        let chinese = ESRI_4549.replace(
            "CGCS2000_3_Degree_GK_CM_120E",
            "2000国家大地坐标系_3度带_CM_120E",
        );
        let (gbk, _, _) = encoding_rs::GBK.encode(&chinese);
        assert_eq!(identify(&gbk).map(FileCrs::epsg), Ok(4549));
        let tree = parse(r#"A["say ""hi""", -1.5e3, WORD, B()]"#).unwrap();
        assert_eq!(
            tree.args,
            vec![
                Value::Text("say \"hi\"".to_owned()),
                Value::Number(-1500.0),
                Value::Word("WORD".to_owned()),
                Value::Node(Node {
                    key: "B".to_owned(),
                    args: vec![]
                }),
            ]
        );
    }

    #[test]
    fn legacy_datums_are_refused_by_name_and_by_spheroid() {
        let cases = [
            (ESRI_BEIJING_2437, LegacyDatum::Beijing1954),
            (ESRI_XIAN_2385, LegacyDatum::Xian1980),
            (OGC_XIAN_2385, LegacyDatum::Xian1980),
            (ESRI_NEW_BEIJING_4797, LegacyDatum::NewBeijing),
        ];
        for (text, want) in cases {
            match identify_str(text) {
                Err(e @ PrjError::Legacy { datum, .. }) => {
                    assert_eq!(datum, want, "{e}");
                    let m = e.to_string();
                    assert!(
                        m.contains("shift parameters") && m.contains("CGCS2000"),
                        "{m}"
                    );
                }
                other => panic!("{other:?}"),
            }
        }
        // Renamed to look like CGCS2000: the Krasovsky and IAG 1975 numbers still give it away.
        let renamed = ESRI_BEIJING_2437
            .replace("Beijing_1954", "China_2000")
            .replace("Krasovsky_1940", "CGCS2000");
        let e = identify_str(&renamed).unwrap_err();
        assert!(
            matches!(e, PrjError::Legacy { datum: LegacyDatum::Beijing1954, ref evidence } if evidence.contains("6378245")),
            "{e}"
        );
        let renamed = ESRI_XIAN_2385.replace("Xian_1980", "China_2000");
        let e = identify_str(&renamed).unwrap_err();
        assert!(
            matches!(
                e,
                PrjError::Legacy {
                    datum: LegacyDatum::Xian1980,
                    ..
                }
            ),
            "{e}"
        );
        // Chinese names.
        let zh = ESRI_4549.replace("CGCS2000_3_Degree_GK_CM_120E", "北京54_3度带");
        assert!(matches!(
            identify_str(&zh),
            Err(PrjError::Legacy {
                datum: LegacyDatum::Beijing1954,
                ..
            })
        ));
        let geog = r#"GEOGCS["GCS_Beijing_1954",DATUM["D_Beijing_1954",SPHEROID["Krasovsky_1940",6378245.0,298.3]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
        assert!(matches!(
            identify_str(geog),
            Err(PrjError::Legacy {
                datum: LegacyDatum::Beijing1954,
                ..
            })
        ));
    }

    #[test]
    fn a_local_grid_under_a_standard_name_is_refused_naming_the_parameters() {
        let e = identify_str(LOCAL_CITY_GRID).unwrap_err();
        assert!(matches!(e, PrjError::NoMatch { .. }), "{e:?}");
        let m = e.to_string();
        println!("{m}");
        for part in [
            "latitude_of_origin is 31",
            "false_northing is -26091.448",
            "false_easting is 3175.49",
            "local",
        ] {
            assert!(m.contains(part), "{part}: {m}");
        }
        let local = r#"LOCAL_CS["Shanghai city grid",LOCAL_DATUM["local",0],UNIT["Meter",1.0],AXIS["X",EAST],AXIS["Y",NORTH]]"#;
        let e = identify_str(local).unwrap_err();
        assert_eq!(
            e,
            PrjError::LocalCs {
                name: "Shanghai city grid".to_owned()
            }
        );
        assert!(e.to_string().contains("local surveying"));
    }

    #[test]
    fn other_parameter_mismatches_are_named() {
        let cases: [(String, &str); 9] = [
            // Zone 40's prefix with CM 117.
            (
                ESRI_4528.replace(r#"Central_Meridian",120.0"#, r#"Central_Meridian",117.0"#),
                "prefixes 3° zone 40, whose central meridian is 120",
            ),
            (
                ESRI_4549.replace(r#"Central_Meridian",120.0"#, r#"Central_Meridian",120.5"#),
                "central_meridian 120.5",
            ),
            (
                ESRI_4549.replace(r#"Scale_Factor",1.0"#, r#"Scale_Factor",0.9999"#),
                "scale_factor is 0.9999",
            ),
            (
                ESRI_32650.replace(r#"Central_Meridian",117.0"#, r#"Central_Meridian",105.0"#),
                "UTM zone 48N",
            ),
            (
                ESRI_4549.replace(
                    r#"UNIT["Meter",1.0]]"#,
                    r#"UNIT["Foot_US",0.3048006096012192]]"#,
                ),
                "Foot_US",
            ),
            (
                ESRI_4549.replace("Gauss_Kruger", "Lambert_Conformal_Conic"),
                "Lambert_Conformal_Conic",
            ),
            (
                OGC_3857
                    .replace("EXTENSION", "EXT")
                    .replace(r#",AUTHORITY["EPSG","3857"]]"#, "]"),
                "World Mercator",
            ),
            (
                ESRI_4490.replace("D_China_2000", "D_North_American_1983"),
                "D_North_American_1983",
            ),
            (
                ESRI_4490.replace(r#""Greenwich",0.0"#, r#""Paris",2.33722917"#),
                "Paris",
            ),
        ];
        for (text, part) in cases {
            let m = match identify_str(&text) {
                Err(e) => e.to_string(),
                Ok(crs) => panic!("took {crs} from {text}"),
            };
            assert!(m.contains(part), "{part}: {m}");
        }
        let shifted = ESRI_4326.replace(
            r#"298.257223563]]"#,
            r#"298.257223563],TOWGS84[1,2,3,0,0,0,0]]"#,
        );
        assert!(matches!(
            identify_str(&shifted),
            Err(PrjError::DatumShift { .. })
        ));
        let zero_shift = ESRI_4326.replace(
            r#"298.257223563]]"#,
            r#"298.257223563],TOWGS84[0,0,0,0,0,0,0]]"#,
        );
        assert_eq!(epsg(&zero_shift), 4326);
    }

    #[test]
    fn a_root_authority_that_disagrees_is_refused() {
        let lying = OGC_4549.replace(
            r#"AUTHORITY["EPSG","4549"]]"#,
            r#"AUTHORITY["EPSG","4528"]]"#,
        );
        let e = identify_str(&lying).unwrap_err();
        assert!(
            matches!(e, PrjError::AuthorityMismatch { code: 4528, identified } if identified.epsg() == 4549),
            "{e}"
        );
        assert!(e.to_string().contains("EPSG:4549"), "{e}");
        let legacy = OGC_4549.replace(
            r#"AUTHORITY["EPSG","4549"]]"#,
            r#"AUTHORITY["EPSG","2385"]]"#,
        );
        assert!(matches!(
            identify_str(&legacy),
            Err(PrjError::AuthorityMismatch { code: 2385, .. })
        ));
        let geog = OGC_4490.replace(
            r#"AUTHORITY["EPSG","4490"]]"#,
            r#"AUTHORITY["EPSG","4326"]]"#,
        );
        assert!(matches!(
            identify_str(&geog),
            Err(PrjError::AuthorityMismatch { code: 4326, .. })
        ));
    }

    #[test]
    fn garbage_truncated_and_oversized_input_is_refused() {
        assert_eq!(identify(b""), Err(PrjError::Empty));
        assert_eq!(identify(b" \n "), Err(PrjError::Empty));
        assert!(matches!(
            identify(b"\xff\xfe\xfd\xfc"),
            Err(PrjError::NotText)
        ));
        assert!(matches!(
            identify_str("hello world"),
            Err(PrjError::Syntax { .. })
        ));
        for cut in [10, 60, 200, ESRI_4549.len() - 1] {
            let e = identify_str(&ESRI_4549[..cut]).unwrap_err();
            assert!(matches!(e, PrjError::Syntax { .. }), "{cut}: {e:?}");
        }
        let e = identify_str(&ESRI_4549[..ESRI_4549.len() - 1]).unwrap_err();
        assert!(e.to_string().contains("the end of the text"), "{e}");
        assert!(matches!(
            identify_str(&format!("{ESRI_4549}]")),
            Err(PrjError::Trailing { .. })
        ));
        assert!(matches!(
            identify_str(r#"PROJCS["x"]"#),
            Err(PrjError::Missing { key: "GEOGCS", .. })
        ));
        assert!(matches!(
            identify_str(r#"PROJCS["x",GEOGCS["y",DATUM["z",SPHEROID["s","a","b"]]]]"#),
            Err(PrjError::BadValue {
                key: "SPHEROID",
                ..
            })
        ));
        assert!(matches!(
            identify_str(r#"PROJCS["a",1e999]"#),
            Err(PrjError::Syntax { .. })
        ));
        assert!(matches!(
            identify_str(r#"PROJCS["a"))"#),
            Err(PrjError::Syntax { .. })
        ));
        let deep = format!("{}{}", "A[".repeat(40), "]".repeat(40));
        assert_eq!(
            identify_str(&deep),
            Err(PrjError::TooDeep { max: MAX_DEPTH })
        );
        let ok_depth = format!("{}{}", "A[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok_depth).is_ok());
        let huge = format!("{ESRI_4549}{}", " ".repeat(MAX_PRJ_BYTES));
        assert!(matches!(
            identify(huge.as_bytes()),
            Err(PrjError::TooLarge { .. })
        ));
        assert!(matches!(
            identify_str(r#"PROJCRS["WGS 84 / UTM zone 50N",BASEGEOGCRS["WGS 84"]]"#),
            Err(PrjError::Wkt2 { .. })
        ));
        assert!(matches!(
            identify_str(r#"GEOCCS["x"]"#),
            Err(PrjError::UnsupportedRoot { .. })
        ));
        let dup = ESRI_4549.replace(
            r#"PARAMETER["Scale_Factor",1.0]"#,
            r#"PARAMETER["Scale_Factor",1.0],PARAMETER["scale_factor",1.0]"#,
        );
        assert!(matches!(
            identify_str(&dup),
            Err(PrjError::DuplicateParameter { .. })
        ));
        let missing = ESRI_4549.replace(r#"PARAMETER["Latitude_Of_Origin",0.0],"#, "");
        assert!(matches!(
            identify_str(&missing),
            Err(PrjError::MissingParameter {
                name: "latitude_of_origin",
                ..
            })
        ));
    }

    proptest! {
        /// Any text, and text made of WKT's own characters, is taken or refused, never a panic.
        #[test]
        fn any_text_is_taken_or_refused(
            s in prop_oneof!["\\PC{0,200}", "[A-Z_\\[\\]\\(\\),\"0-9.eE+ -]{0,300}"],
        ) {
            let _ = identify_str(&s);
        }

        /// Real files with a byte changed and cut short: the same.
        #[test]
        fn damaged_files_are_taken_or_refused(
            which in 0usize..4,
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            cut in any::<prop::sample::Index>(),
        ) {
            let text = [ESRI_4549, OGC_4549, OGC_3857, LOCAL_CITY_GRID][which];
            let mut bytes = text.as_bytes().to_vec();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            bytes.truncate(cut.index(bytes.len()) + 1);
            let _ = identify(&bytes);
        }
    }
}
