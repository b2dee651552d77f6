//! The registers' files: components and shops in GeoJSON and CSV, read with every problem
//! located, and written as GeoJSON that reads back as written.
//!
//! **GeoJSON** ([`read_components_geojson`], [`read_shops_geojson`]): a `FeatureCollection` whose
//! features have `properties.layer` `component` (resp. `shop`) and a `Point` geometry (shops:
//! `Point` or `Polygon`, the footprint; rings closed, at least 4 positions, exterior turned
//! counter-clockwise and holes clockwise when read). Positions are 2 or 3 finite numbers, longitude
//! in [-180, 180] and latitude in [-90, 90] (a third, the altitude, is dropped).
//!
//! - component properties: `code` (required), `owner` (权属单位, required), `maintainer`,
//!   `state` (identifier or Chinese name, default `intact`), `survey_date`;
//! - shop properties: `id` and `name` (required), `credit_code`, `contact`, `phone`,
//!   `pledge_signed`, `frontage` (`{"segment": …, "distance_m": …, "source": "nearest" |
//!   "manual"}`);
//! - any other property is kept in `attributes` (at most [`MAX_ATTRIBUTES`]).
//!
//! **CSV** ([`read_components_csv`], [`read_shops_csv`]), as offices export them from Excel: UTF-8
//! (with or without a byte-order mark) or GBK, given or detected as for the roster
//! ([`crate::field::roster`]); a header row naming the columns in any order, in English or
//! Chinese; cells trimmed, a `'` before a formula character dropped; empty rows skipped; any other
//! column kept as a text attribute named by its header (empty cells left out).
//!
//! | component column | headers |
//! | --- | --- |
//! | code (required) | `code` 部件编码 部件标识码 |
//! | lon, lat (required) | `lon` 经度, `lat` 纬度 |
//! | owner (required) | `owner` 权属单位 |
//! | maintainer | `maintainer` 养护单位 |
//! | state | `state` 部件状态 状态 (identifier or 完好/破损/丢失/占用/废弃; empty: 完好) |
//! | survey date | `survey_date` 普查日期 采集日期 |
//!
//! | shop column | headers |
//! | --- | --- |
//! | id, name (required) | `id` 门店编号, `name` 店名 名称 |
//! | credit code | `credit_code` 统一社会信用代码 |
//! | contact, phone | `contact` 联系人, `phone` 联系电话 |
//! | pledge signed | `pledge_signed` 签约日期 承诺日期 |
//! | position | `lon` 经度 + `lat` 纬度 (the door), or `wkt` 轮廓 (`POLYGON ((…))` footprint, or `POINT (lon lat)`); a row with a footprint takes the footprint |
//!
//! Dates: `2024-05-01`, `2024/5/1`, `2024.05.01`, `20240501` or `2024年5月1日`.
//!
//! **Coordinates** are WGS84 unless the caller says the file is in another system ([`Crs`]:
//! GCJ-02 of Amap/Tencent, BD-09 of Baidu), when each position is range-checked as given and
//! converted to WGS84 ([`Crs::checked_to_wgs84`], as the field fixes are).
//!
//! **Problems**: every problem is collected (the first [`MAX_PROBLEMS`], the rest counted), each
//! located: `row 7, column 经度: "121,3" is not a number` (the header is row 1), `feature 3 (code
//! 3101160101000017), properties.owner: missing` (features counted from 0, as in the boundary
//! reader). Bounds: at most [`MAX_ITEMS`] items and [`MAX_BYTES`] bytes a file, text fields at
//! most [`MAX_TEXT`] characters, a footprint at most [`MAX_POSITIONS`] positions.
//!
//! The readers do not judge codes, credit codes or duplicates: those are findings of the rules
//! ([`super::rules`]), so that a file with bad codes is read and each bad code reported.
//!
//! **Writers** ([`write_components_geojson`], [`write_shops_geojson`]): the GeoJSON above, with
//! `layer` first, then the known properties, then the attributes; optional values that are `None`
//! (or empty) are left out. They refuse (naming the item, from 1) what the reader would refuse,
//! and an attribute named like a known property.

use super::{Component, ComponentState, Frontage, Shop, ShopGeometry};
pub use crate::field::roster::Encoding;
use crate::geometry::crs::Crs;
use crate::model::text::unneutralise;
use chrono::NaiveDate;
use geo::{LineString, Polygon};
use rayon::prelude::*;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;

/// Most components or shops in one file.
pub const MAX_ITEMS: usize = 1_000_000;
/// Largest file, bytes.
pub const MAX_BYTES: usize = 256 << 20;
/// Longest text field (code, name, owner, …) and attribute name, in characters.
pub const MAX_TEXT: usize = 200;
/// Most problems listed for one file (the rest are counted).
pub const MAX_PROBLEMS: usize = 100;
/// Most attributes of one item.
pub const MAX_ATTRIBUTES: usize = 100;
/// Most positions of one footprint.
pub const MAX_POSITIONS: usize = 10_000;

/// Properties a component feature has besides its attributes.
pub const COMPONENT_PROPERTIES: [&str; 6] = [
    "layer",
    "code",
    "owner",
    "maintainer",
    "state",
    "survey_date",
];
/// Properties a shop feature has besides its attributes.
pub const SHOP_PROPERTIES: [&str; 8] = [
    "layer",
    "id",
    "name",
    "credit_code",
    "contact",
    "phone",
    "pledge_signed",
    "frontage",
];

// ---------------------------------------------------------------------------------------------
// Problems.

/// Where a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The file as a whole.
    File,
    /// A CSV row as the spreadsheet shows it: the header is row 1.
    Row(usize),
    /// A feature of a GeoJSON file, counted from 0 (its index in `features`).
    Feature(usize),
    /// An item given to a writer, counted from 1.
    Item(usize),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File => f.write_str("the file"),
            Place::Row(r) => write!(f, "row {r}"),
            Place::Feature(i) => write!(f, "feature {i}"),
            Place::Item(i) => write!(f, "item {i}"),
        }
    }
}

/// One problem of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub place: Place,
    /// The item's code (component) or id (shop), when readable.
    pub code: Option<String>,
    /// The column as its header is written (CSV) or the member's path (`properties.code`).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    /// `row 7, column 经度: …`; `feature 3 (code X), properties.owner: …`; `item 2, lon: …`;
    /// `row 1: …`; `column 经度: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.place != Place::File {
            write!(f, "{}", self.place)?;
            if let Some(c) = &self.code {
                write!(f, " ({c})")?;
            }
            match (&self.place, &self.field) {
                (Place::Row(_), Some(c)) => write!(f, ", column {c}: ")?,
                (_, Some(c)) => write!(f, ", {c}: ")?,
                (_, None) => f.write_str(": ")?,
            }
        } else if let Some(c) = &self.field {
            write!(f, "column {c}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem of a file (the first [`MAX_PROBLEMS`], and how many more there were).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssetErrors {
    /// The problems, in file order.
    pub problems: Vec<Problem>,
    /// Problems past [`MAX_PROBLEMS`], not listed.
    pub more: usize,
}

impl AssetErrors {
    fn file(message: impl Into<String>) -> AssetErrors {
        AssetErrors {
            problems: vec![Problem {
                place: Place::File,
                code: None,
                field: None,
                message: message.into(),
            }],
            more: 0,
        }
    }

    fn push(&mut self, p: Problem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else {
            self.more += 1;
        }
    }
}

impl fmt::Display for AssetErrors {
    /// One problem a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        if self.more > 0 {
            write!(f, "\n… and {} more problems", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for AssetErrors {}

/// The problems of one item, collected as it is read.
struct Item {
    place: Place,
    problems: Vec<Problem>,
}

impl Item {
    fn new(place: Place) -> Item {
        Item {
            place,
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            place: self.place.clone(),
            code: None,
            field: Some(field.to_string()).filter(|f| !f.is_empty()),
            message: message.into(),
        });
    }

    /// `Ok(value)` when there was no problem, else the problems named with `code`.
    fn finish<T>(self, value: Option<T>, code: Option<&str>) -> Result<T, Vec<Problem>> {
        match value {
            Some(v) if self.problems.is_empty() => Ok(v),
            _ => {
                let mut problems = self.problems;
                for p in &mut problems {
                    p.code = code.filter(|c| !c.is_empty()).map(str::to_string);
                }
                Err(problems)
            }
        }
    }
}

/// Gathers items read one by one (in parallel or not) in file order.
fn gather<T>(results: Vec<Result<T, Vec<Problem>>>) -> Result<Vec<T>, AssetErrors> {
    let mut errors = AssetErrors::default();
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(v) => out.push(v),
            Err(ps) => ps.into_iter().for_each(|p| errors.push(p)),
        }
    }
    if errors.problems.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// Values shared by both formats.

/// A text value's problem: too long, or blank when required.
fn text_problem(v: &str, required: bool) -> Option<String> {
    if v.chars().count() > MAX_TEXT {
        Some(format!("longer than {MAX_TEXT} characters"))
    } else if required && v.trim().is_empty() {
        Some("empty".into())
    } else {
        None
    }
}

/// A date as offices write it: `2024-05-01`, `2024/5/1`, `2024.05.01`, `20240501`, `2024年5月1日`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let s = s.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        .ok_or_else(|| {
            format!(
                "{s:?} is not a date (2024-05-01, 2024/5/1, 2024.05.01, 20240501 or 2024年5月1日)"
            )
        })
}

/// A component state by identifier or Chinese name.
fn parse_state(s: &str) -> Result<ComponentState, String> {
    ComponentState::parse(s).ok_or_else(|| {
        let accepted: Vec<String> = ComponentState::ALL
            .iter()
            .map(|k| format!("{} ({})", k.as_str(), k.name_zh()))
            .collect();
        format!("unknown state {s:?}: one of {}", accepted.join(", "))
    })
}

/// A position in `crs`, range-checked, in WGS84.
fn position(lon: f64, lat: f64, crs: Crs) -> Result<(f64, f64), String> {
    crs.checked_to_wgs84(lon, lat)
}

/// A footprint from rings of positions (each 2 or 3 numbers) in `crs`; problems are reported
/// with the ring and position (from 0) they are at, or `None` for the whole polygon.
fn footprint(
    rings: &[Vec<Vec<f64>>],
    crs: Crs,
    mut problem: impl FnMut(Option<(usize, usize)>, String),
) -> Option<Polygon<f64>> {
    let total: usize = rings.iter().map(Vec::len).sum();
    if rings.is_empty() {
        problem(None, "a polygon needs an exterior ring".into());
        return None;
    }
    if total > MAX_POSITIONS {
        problem(
            None,
            format!("{total} positions, more than the {MAX_POSITIONS} accepted"),
        );
        return None;
    }
    let mut ok = true;
    let mut out: Vec<LineString<f64>> = Vec::with_capacity(rings.len());
    for (r, ring) in rings.iter().enumerate() {
        let mut coords = Vec::with_capacity(ring.len());
        for (k, p) in ring.iter().enumerate() {
            match p.as_slice() {
                [lon, lat] | [lon, lat, _] => match position(*lon, *lat, crs) {
                    Ok((x, y)) => coords.push(geo::Coord { x, y }),
                    Err(m) => {
                        problem(Some((r, k)), m);
                        ok = false;
                    }
                },
                _ => {
                    problem(
                        Some((r, k)),
                        format!("{} numbers, not 2 (longitude, latitude) or 3", p.len()),
                    );
                    ok = false;
                }
            }
        }
        if ring.len() < 4 {
            problem(
                Some((r, 0)),
                format!("a ring of {} positions: at least 4 needed", ring.len()),
            );
            ok = false;
        } else if ring.first() != ring.last() {
            problem(
                Some((r, ring.len() - 1)),
                "the ring is not closed: its last position must repeat the first".into(),
            );
            ok = false;
        }
        out.push(LineString(coords));
    }
    if !ok {
        return None;
    }
    let mut rings = out.into_iter();
    let exterior = rings.next()?;
    let polygon = Polygon::new(exterior, rings.collect());
    Some(geo::Orient::orient(
        &polygon,
        geo::orient::Direction::Default,
    ))
}

// ---------------------------------------------------------------------------------------------
// GeoJSON reading.

/// A string, borrowed from the input when it holds no escape.
struct CowStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = CowStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// The members of an object, raw, in order.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(CowStr(k)) = map.next_key()? {
                    if out.len() > MAX_ATTRIBUTES + SHOP_PROPERTIES.len() {
                        return Err(de::Error::custom(format_args!(
                            "more than {MAX_ATTRIBUTES} attributes"
                        )));
                    }
                    out.push((k, map.next_value()?));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// The `features` array, refused past [`MAX_ITEMS`] elements.
struct Features<'a>(Vec<&'a RawValue>);

impl<'de: 'a, 'a> Deserialize<'de> for Features<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Features<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of features")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(f) = seq.next_element()? {
                    if out.len() == MAX_ITEMS {
                        return Err(de::Error::custom(format_args!(
                            "more than {MAX_ITEMS} features"
                        )));
                    }
                    out.push(f);
                }
                Ok(Features(out))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Option<&'a RawValue>,
    #[serde(borrow, default)]
    features: Option<Features<'a>>,
}

#[derive(Deserialize)]
struct FeatureIn<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Option<&'a RawValue>,
    #[serde(borrow, default)]
    properties: Option<&'a RawValue>,
    #[serde(borrow, default)]
    geometry: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct GeometryIn<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Option<&'a RawValue>,
    #[serde(borrow, default)]
    coordinates: Option<&'a RawValue>,
}

/// "a number", "an object", … of a raw JSON value.
fn json_kind(raw: &RawValue) -> &'static str {
    match raw.get().as_bytes().first() {
        Some(b'"') => "a string",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

fn is_null(raw: &RawValue) -> bool {
    raw.get() == "null"
}

/// A raw value as a string.
fn json_str(raw: &RawValue) -> Result<Cow<'_, str>, String> {
    serde_json::from_str::<CowStr>(raw.get())
        .map(|s| s.0)
        .map_err(|_| format!("{} where a string is expected", json_kind(raw)))
}

/// The top of a GeoJSON file: the features, raw.
fn geojson_features(bytes: &[u8]) -> Result<Vec<&RawValue>, AssetErrors> {
    if bytes.len() > MAX_BYTES {
        return Err(AssetErrors::file(format!(
            "the file is {} bytes, more than the {MAX_BYTES} accepted",
            bytes.len()
        )));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| AssetErrors::file(format!("not UTF-8 at byte {}", e.valid_up_to())))?;
    let top: Top = serde_json::from_str(text)
        .map_err(|e| AssetErrors::file(format!("not a GeoJSON FeatureCollection: {e}")))?;
    match top.ty.map(json_str) {
        Some(Ok(t)) if t == "FeatureCollection" => {}
        Some(Ok(t)) => {
            return Err(AssetErrors::file(format!(
                "type {t:?}: a FeatureCollection is expected"
            )));
        }
        _ => {
            return Err(AssetErrors::file(
                "no \"type\": \"FeatureCollection\" at the top",
            ));
        }
    }
    top.features
        .map(|f| f.0)
        .ok_or_else(|| AssetErrors::file("no \"features\" array"))
}

/// A feature's properties (with `layer` checked) and its geometry.
fn feature_parts<'a>(
    raw: &'a RawValue,
    layer: &str,
    it: &mut Item,
) -> Option<(Members<'a>, Option<&'a RawValue>)> {
    if !raw.get().starts_with('{') {
        it.problem(
            "",
            format!("{}: a Feature object is expected", json_kind(raw)),
        );
        return None;
    }
    let f: FeatureIn = match serde_json::from_str(raw.get()) {
        Ok(f) => f,
        Err(e) => {
            it.problem("", format!("not a GeoJSON Feature: {e}"));
            return None;
        }
    };
    match f.ty.map(json_str) {
        Some(Ok(t)) if t == "Feature" => {}
        _ => it.problem("type", "must be \"Feature\""),
    }
    let members = match f.properties {
        None => {
            it.problem("properties", "missing");
            return None;
        }
        Some(p) => match serde_json::from_str::<Members>(p.get()) {
            Ok(m) => m,
            Err(e) => {
                it.problem("properties", format!("not an object of properties: {e}"));
                return None;
            }
        },
    };
    match members
        .0
        .iter()
        .find(|(k, _)| k == "layer")
        .map(|(_, v)| json_str(v))
    {
        Some(Ok(l)) if l == layer => {}
        Some(Ok(l)) => it.problem(
            "properties.layer",
            format!("{l:?}: this file holds {layer} features"),
        ),
        Some(Err(m)) => it.problem("properties.layer", m),
        None => it.problem("properties.layer", format!("missing: must be {layer:?}")),
    }
    Some((members, f.geometry))
}

/// The feature's geometry: a point, or (`polygons`) a polygon too.
fn feature_geometry(
    raw: Option<&RawValue>,
    polygons: bool,
    crs: Crs,
    it: &mut Item,
) -> Option<ShopGeometry> {
    let expected = if polygons {
        "Point or Polygon"
    } else {
        "Point"
    };
    let Some(raw) = raw else {
        it.problem("geometry", format!("missing: a {expected} is expected"));
        return None;
    };
    let g: GeometryIn = match serde_json::from_str(raw.get()) {
        Ok(g) => g,
        Err(_) => {
            it.problem(
                "geometry",
                format!("{}: a {expected} is expected", json_kind(raw)),
            );
            return None;
        }
    };
    let ty = g.ty.map(json_str).and_then(Result::ok);
    let Some(coords) = g.coordinates else {
        it.problem("geometry.coordinates", "missing");
        return None;
    };
    match ty.as_deref() {
        Some("Point") => match serde_json::from_str::<Vec<f64>>(coords.get()) {
            Ok(p) => match p.as_slice() {
                [lon, lat] | [lon, lat, _] => match position(*lon, *lat, crs) {
                    Ok((x, y)) => Some(ShopGeometry::Point(x, y)),
                    Err(m) => {
                        it.problem("geometry.coordinates", m);
                        None
                    }
                },
                _ => {
                    it.problem(
                        "geometry.coordinates",
                        format!("{} numbers, not 2 (longitude, latitude) or 3", p.len()),
                    );
                    None
                }
            },
            Err(e) => {
                it.problem(
                    "geometry.coordinates",
                    format!("not a position [longitude, latitude]: {e}"),
                );
                None
            }
        },
        Some("Polygon") if polygons => {
            match serde_json::from_str::<Vec<Vec<Vec<f64>>>>(coords.get()) {
                Ok(rings) => footprint(&rings, crs, |at, m| match at {
                    Some((r, k)) => it.problem(&format!("geometry.coordinates[{r}][{k}]"), m),
                    None => it.problem("geometry.coordinates", m),
                })
                .map(ShopGeometry::Polygon),
                Err(e) => {
                    it.problem(
                        "geometry.coordinates",
                        format!("not the rings of a polygon: {e}"),
                    );
                    None
                }
            }
        }
        other => {
            it.problem(
                "geometry.type",
                format!(
                    "{}: a {expected} is expected",
                    other.map_or_else(|| "missing".to_string(), |t| format!("{t:?}"))
                ),
            );
            None
        }
    }
}

/// A text property: `None` when absent, null or (optional) empty.
fn text_property(
    it: &mut Item,
    key: &str,
    raw: Option<&RawValue>,
    required: bool,
) -> Option<String> {
    let field = format!("properties.{key}");
    let v = match raw.filter(|r| !is_null(r)).map(json_str) {
        None => {
            if required {
                it.problem(&field, "missing");
            }
            return None;
        }
        Some(Err(m)) => {
            it.problem(&field, m);
            return None;
        }
        Some(Ok(v)) => v,
    };
    if let Some(m) = text_problem(&v, required) {
        it.problem(&field, m);
        return None;
    }
    Some(v.into_owned()).filter(|v| !v.is_empty())
}

/// A date property.
fn date_property(it: &mut Item, key: &str, raw: Option<&RawValue>) -> Option<NaiveDate> {
    let s = text_property(it, key, raw, false)?;
    parse_date(&s)
        .map_err(|m| it.problem(&format!("properties.{key}"), m))
        .ok()
}

/// The properties that are not `known`, as attributes.
fn attributes(
    it: &mut Item,
    members: &[(Cow<str>, &RawValue)],
    known: &[&str],
) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in members {
        if known.contains(&k.as_ref()) {
            continue;
        }
        if k.chars().count() > MAX_TEXT {
            it.problem(
                "properties",
                format!("a property name longer than {MAX_TEXT} characters"),
            );
            continue;
        }
        match serde_json::from_str::<Value>(v.get()) {
            Ok(v) => {
                out.insert(k.to_string(), v);
            }
            Err(e) => it.problem(&format!("properties.{k}"), e.to_string()),
        }
    }
    out
}

/// The raw value of property `key`.
fn member<'a>(members: &[(Cow<str>, &'a RawValue)], key: &str) -> Option<&'a RawValue> {
    members
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
}

fn component_feature(raw: &RawValue, i: usize, crs: Crs) -> Result<Component, Vec<Problem>> {
    let mut it = Item::new(Place::Feature(i));
    let Some((members, geometry)) = feature_parts(raw, "component", &mut it) else {
        return it.finish(None, None);
    };
    let m = members.0.as_slice();
    let point = feature_geometry(geometry, false, crs, &mut it);
    let code = text_property(&mut it, "code", member(m, "code"), true);
    let owner = text_property(&mut it, "owner", member(m, "owner"), true);
    let maintainer = text_property(&mut it, "maintainer", member(m, "maintainer"), false);
    let state = match text_property(&mut it, "state", member(m, "state"), false) {
        None => Some(ComponentState::Intact),
        Some(s) => parse_state(&s)
            .map_err(|e| it.problem("properties.state", e))
            .ok(),
    };
    let survey_date = date_property(&mut it, "survey_date", member(m, "survey_date"));
    let attributes = attributes(&mut it, m, &COMPONENT_PROPERTIES);
    let value = match (&code, owner, state, point) {
        (Some(code), Some(owner), Some(state), Some(ShopGeometry::Point(lon, lat))) => {
            Some(Component {
                code: code.clone(),
                lon,
                lat,
                owner,
                maintainer,
                state,
                survey_date,
                attributes,
            })
        }
        _ => None,
    };
    it.finish(value, code.as_deref())
}

fn shop_feature(raw: &RawValue, i: usize, crs: Crs) -> Result<Shop, Vec<Problem>> {
    let mut it = Item::new(Place::Feature(i));
    let Some((members, geometry)) = feature_parts(raw, "shop", &mut it) else {
        return it.finish(None, None);
    };
    let m = members.0.as_slice();
    let geometry = feature_geometry(geometry, true, crs, &mut it);
    let id = text_property(&mut it, "id", member(m, "id"), true);
    let name = text_property(&mut it, "name", member(m, "name"), true);
    let credit_code = text_property(&mut it, "credit_code", member(m, "credit_code"), false);
    let contact = text_property(&mut it, "contact", member(m, "contact"), false);
    let phone = text_property(&mut it, "phone", member(m, "phone"), false);
    let pledge_signed = date_property(&mut it, "pledge_signed", member(m, "pledge_signed"));
    let frontage = match member(m, "frontage").filter(|r| !is_null(r)) {
        None => None,
        Some(r) => match serde_json::from_str::<Frontage>(r.get()) {
            Ok(f) if !(f.distance_m.is_finite() && f.distance_m >= 0.0) => {
                it.problem("properties.frontage.distance_m", "not a distance in metres");
                None
            }
            Ok(f) => match text_problem(&f.segment, true) {
                Some(p) => {
                    it.problem("properties.frontage.segment", p);
                    None
                }
                None => Some(f),
            },
            Err(e) => {
                it.problem("properties.frontage", e.to_string());
                None
            }
        },
    };
    let attributes = attributes(&mut it, m, &SHOP_PROPERTIES);
    let value = match (&id, name, geometry) {
        (Some(id), Some(name), Some(geometry)) => Some(Shop {
            id: id.clone(),
            name,
            credit_code,
            contact,
            phone,
            pledge_signed,
            geometry,
            frontage,
            attributes,
        }),
        _ => None,
    };
    it.finish(value, id.as_deref())
}

/// Reads the features of a GeoJSON file with `item` (in parallel), in file order.
fn read_features<T: Send>(
    bytes: &[u8],
    crs: Crs,
    item: fn(&RawValue, usize, Crs) -> Result<T, Vec<Problem>>,
) -> Result<Vec<T>, AssetErrors> {
    let features = geojson_features(bytes)?;
    gather(
        features
            .par_iter()
            .enumerate()
            .map(|(i, f)| item(f, i, crs))
            .collect(),
    )
}

/// Reads components from GeoJSON (see the module doc), coordinates given in `crs`.
pub fn read_components_geojson(bytes: &[u8], crs: Crs) -> Result<Vec<Component>, AssetErrors> {
    read_features(bytes, crs, component_feature)
}

/// Reads shops from GeoJSON (see the module doc), coordinates given in `crs`.
pub fn read_shops_geojson(bytes: &[u8], crs: Crs) -> Result<Vec<Shop>, AssetErrors> {
    read_features(bytes, crs, shop_feature)
}

// ---------------------------------------------------------------------------------------------
// CSV reading.

/// A known column: its key (the English header) and its Chinese headers (the first is written).
struct Column {
    key: &'static str,
    zh: &'static [&'static str],
    required: bool,
}

const fn col(key: &'static str, zh: &'static [&'static str], required: bool) -> Column {
    Column { key, zh, required }
}

const C_CODE: usize = 0;
const C_LON: usize = 1;
const C_LAT: usize = 2;
const C_OWNER: usize = 3;
const C_MAINTAINER: usize = 4;
const C_STATE: usize = 5;
const C_SURVEY: usize = 6;
const COMPONENT_COLUMNS: [Column; 7] = [
    col("code", &["部件编码", "部件标识码"], true),
    col("lon", &["经度"], true),
    col("lat", &["纬度"], true),
    col("owner", &["权属单位"], true),
    col("maintainer", &["养护单位"], false),
    col("state", &["部件状态", "状态"], false),
    col("survey_date", &["普查日期", "采集日期"], false),
];

const S_ID: usize = 0;
const S_NAME: usize = 1;
const S_CREDIT: usize = 2;
const S_CONTACT: usize = 3;
const S_PHONE: usize = 4;
const S_PLEDGE: usize = 5;
const S_LON: usize = 6;
const S_LAT: usize = 7;
const S_WKT: usize = 8;
const SHOP_COLUMNS: [Column; 9] = [
    col("id", &["门店编号"], true),
    col("name", &["店名", "名称"], true),
    col("credit_code", &["统一社会信用代码"], false),
    col("contact", &["联系人"], false),
    col("phone", &["联系电话"], false),
    col("pledge_signed", &["签约日期", "承诺日期"], false),
    col("lon", &["经度"], false),
    col("lat", &["纬度"], false),
    col("wkt", &["轮廓", "WKT"], false),
];

/// What a header cell names.
enum HeaderCell {
    Known(usize),
    Attribute(String),
    Blank,
}

/// One CSV row being read: its known cells (trimmed, `'` dropped), its attributes, and the
/// headers as written for problems.
struct Row<'r> {
    cells: Vec<&'r str>,
    headers: &'r [String],
    attributes: Map<String, Value>,
    it: Item,
}

impl Row<'_> {
    fn cell(&self, c: usize) -> &str {
        self.cells.get(c).copied().unwrap_or("")
    }

    fn problem(&mut self, c: usize, message: impl Into<String>) {
        let h = self.headers[c].clone();
        self.it.problem(&h, message);
    }

    /// A text cell; `None` when empty.
    fn text(&mut self, c: usize, required: bool) -> Option<String> {
        let v = self.cell(c);
        if let Some(m) = text_problem(v, required) {
            self.problem(c, m);
            return None;
        }
        Some(v.to_string()).filter(|v| !v.is_empty())
    }

    fn number(&mut self, c: usize) -> Option<f64> {
        let v = self.cell(c);
        if v.is_empty() {
            self.problem(c, "empty");
            return None;
        }
        let parsed = v.parse::<f64>().ok();
        if parsed.is_none() {
            let m = format!("{v:?} is not a number");
            self.problem(c, m);
        }
        parsed
    }

    fn date(&mut self, c: usize) -> Option<NaiveDate> {
        let v = self.cell(c);
        if v.is_empty() {
            return None;
        }
        parse_date(v).map_err(|m| self.problem(c, m)).ok()
    }

    /// The point of the `lon`, `lat` columns, in `crs`.
    fn point(&mut self, lon: usize, lat: usize, crs: Crs) -> Option<(f64, f64)> {
        let (x, y) = (self.number(lon), self.number(lat));
        match position(x?, y?, crs) {
            Ok(p) => Some(p),
            Err(m) => {
                let c = if m.starts_with("latitude") { lat } else { lon };
                self.problem(c, m);
                None
            }
        }
    }
}

/// Reads a CSV of `columns` and turns each non-empty row into an item with `item`.
fn read_table<T: Send>(
    bytes: &[u8],
    encoding: Option<Encoding>,
    columns: &[Column],
    header_check: impl Fn(&dyn Fn(usize) -> bool) -> Option<String>,
    item: impl Fn(&mut Row) -> Option<T>,
) -> Result<Vec<T>, AssetErrors> {
    if bytes.len() > MAX_BYTES {
        return Err(AssetErrors::file(format!(
            "the file is {} bytes, more than the {MAX_BYTES} accepted",
            bytes.len()
        )));
    }
    let text = crate::field::roster::decode(bytes, encoding).map_err(AssetErrors::file)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(AssetErrors::file("the file is empty: no header row")),
        Err(e) => return Err(AssetErrors::file(format!("row 1: {e}"))),
    }
    // The header: known columns, attribute columns, blank ones.
    let mut errors = AssetErrors::default();
    let mut header_problem = |field: Option<&str>, message: String| {
        errors.push(Problem {
            place: Place::Row(1),
            code: None,
            field: field.map(str::to_string),
            message,
        })
    };
    let mut cells: Vec<HeaderCell> = Vec::with_capacity(record.len());
    let mut headers: Vec<String> = columns.iter().map(|c| c.key.to_string()).collect();
    let mut seen = vec![false; columns.len()];
    for (j, h) in record.iter().enumerate() {
        let h = unneutralise(h.trim());
        if h.is_empty() {
            cells.push(HeaderCell::Blank);
            continue;
        }
        let known = columns
            .iter()
            .position(|c| c.key.eq_ignore_ascii_case(h) || c.zh.contains(&h));
        match known {
            Some(k) if seen[k] => {
                header_problem(
                    Some(h),
                    format!("a second column for {} (column {})", columns[k].key, j + 1),
                );
                cells.push(HeaderCell::Blank);
            }
            Some(k) => {
                seen[k] = true;
                headers[k] = h.to_string();
                cells.push(HeaderCell::Known(k));
            }
            None if h.chars().count() > MAX_TEXT => {
                header_problem(
                    None,
                    format!(
                        "column {}: a header longer than {MAX_TEXT} characters",
                        j + 1
                    ),
                );
                cells.push(HeaderCell::Blank);
            }
            None => cells.push(HeaderCell::Attribute(h.to_string())),
        }
    }
    for (k, c) in columns.iter().enumerate() {
        if c.required && !seen[k] {
            header_problem(None, format!("no column {} ({})", c.zh[0], c.key));
        }
    }
    if let Some(m) = header_check(&|k| seen[k]) {
        header_problem(None, m);
    }
    if !errors.problems.is_empty() {
        return Err(errors);
    }
    let attribute_columns = cells
        .iter()
        .filter(|c| matches!(c, HeaderCell::Attribute(_)))
        .count();
    if attribute_columns > MAX_ATTRIBUTES {
        return Err(AssetErrors::file(format!(
            "{attribute_columns} other columns, more than the {MAX_ATTRIBUTES} attributes accepted"
        )));
    }
    let mut out = Vec::new();
    let mut row_number = 1;
    loop {
        row_number += 1;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                errors.push(Problem {
                    place: Place::Row(row_number),
                    code: None,
                    field: None,
                    message: e.to_string(),
                });
                continue;
            }
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if out.len() == MAX_ITEMS {
            errors.push(Problem {
                place: Place::Row(row_number),
                code: None,
                field: None,
                message: format!("more than {MAX_ITEMS} rows"),
            });
            break;
        }
        let mut row = Row {
            cells: vec![""; columns.len()],
            headers: &headers,
            attributes: Map::new(),
            it: Item::new(Place::Row(row_number)),
        };
        for (j, cell) in record.iter().enumerate() {
            let cell = unneutralise(cell.trim());
            match cells.get(j) {
                Some(HeaderCell::Known(k)) => row.cells[*k] = cell,
                _ if cell.is_empty() => {}
                Some(HeaderCell::Attribute(h)) => match text_problem(cell, false) {
                    Some(m) => row.it.problem(h, m),
                    None => {
                        row.attributes.insert(h.clone(), Value::String(cell.into()));
                    }
                },
                Some(HeaderCell::Blank) => row.it.problem(
                    "",
                    format!("a value in column {}, which has no header", j + 1),
                ),
                None => row.it.problem(
                    "",
                    format!("a value in column {} past the last header", j + 1),
                ),
            }
        }
        let value = item(&mut row);
        let code = row.cells.first().copied();
        match row.it.finish(value, code) {
            Ok(v) => out.push(v),
            Err(ps) => ps.into_iter().for_each(|p| errors.push(p)),
        }
    }
    if errors.problems.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Reads components from CSV (see the module doc): `encoding` given or detected, coordinates in
/// `crs`.
pub fn read_components_csv(
    bytes: &[u8],
    encoding: Option<Encoding>,
    crs: Crs,
) -> Result<Vec<Component>, AssetErrors> {
    read_table(
        bytes,
        encoding,
        &COMPONENT_COLUMNS,
        |_| None,
        |row| {
            let code = row.text(C_CODE, true);
            let point = row.point(C_LON, C_LAT, crs);
            let owner = row.text(C_OWNER, true);
            let maintainer = row.text(C_MAINTAINER, false);
            let state = match row.cell(C_STATE) {
                "" => Some(ComponentState::Intact),
                s => parse_state(s).map_err(|m| row.problem(C_STATE, m)).ok(),
            };
            let survey_date = row.date(C_SURVEY);
            let (lon, lat) = point?;
            Some(Component {
                code: code?,
                lon,
                lat,
                owner: owner?,
                maintainer,
                state: state?,
                survey_date,
                attributes: std::mem::take(&mut row.attributes),
            })
        },
    )
}

/// Reads shops from CSV (see the module doc): `encoding` given or detected, coordinates in
/// `crs`.
pub fn read_shops_csv(
    bytes: &[u8],
    encoding: Option<Encoding>,
    crs: Crs,
) -> Result<Vec<Shop>, AssetErrors> {
    let header_check = |has: &dyn Fn(usize) -> bool| {
        let point = has(S_LON) && has(S_LAT);
        (!point && !has(S_WKT))
            .then(|| "no position: columns 经度 (lon) and 纬度 (lat), or 轮廓 (wkt)".to_string())
    };
    read_table(bytes, encoding, &SHOP_COLUMNS, header_check, |row| {
        let id = row.text(S_ID, true);
        let name = row.text(S_NAME, true);
        let credit_code = row.text(S_CREDIT, false);
        let contact = row.text(S_CONTACT, false);
        let phone = row.text(S_PHONE, false);
        let pledge_signed = row.date(S_PLEDGE);
        let geometry = if row.cell(S_WKT).is_empty() {
            row.point(S_LON, S_LAT, crs)
                .map(|(x, y)| ShopGeometry::Point(x, y))
        } else {
            match parse_wkt(row.cell(S_WKT)) {
                Ok(Wkt::Point(p)) => match position(p[0], p[1], crs) {
                    Ok((x, y)) => Some(ShopGeometry::Point(x, y)),
                    Err(m) => {
                        row.problem(S_WKT, m);
                        None
                    }
                },
                Ok(Wkt::Polygon(rings)) => {
                    let mut problems = Vec::new();
                    let p = footprint(&rings, crs, |at, m| {
                        problems.push(match at {
                            Some((r, k)) => format!("ring {}, position {}: {m}", r + 1, k + 1),
                            None => m,
                        })
                    });
                    problems.into_iter().for_each(|m| row.problem(S_WKT, m));
                    p.map(ShopGeometry::Polygon)
                }
                Err(m) => {
                    row.problem(S_WKT, m);
                    None
                }
            }
        };
        Some(Shop {
            id: id?,
            name: name?,
            credit_code,
            contact,
            phone,
            pledge_signed,
            geometry: geometry?,
            frontage: None,
            attributes: std::mem::take(&mut row.attributes),
        })
    })
}

/// A WKT shape of a shop.
#[derive(Debug, PartialEq)]
enum Wkt {
    Point(Vec<f64>),
    Polygon(Vec<Vec<Vec<f64>>>),
}

/// `POINT (lon lat)` or `POLYGON ((lon lat, …), (…))`, any case, any spacing.
fn parse_wkt(s: &str) -> Result<Wkt, String> {
    let s = s.trim();
    let split = s.find('(').unwrap_or(s.len());
    let (keyword, rest) = s.split_at(split);
    let keyword = keyword.trim().to_ascii_uppercase();
    let positions = |text: &str| -> Result<Vec<Vec<f64>>, String> {
        text.split(',')
            .map(|p| {
                let nums: Result<Vec<f64>, _> = p.split_whitespace().map(str::parse).collect();
                match nums {
                    Ok(v) if (2..=3).contains(&v.len()) => Ok(v),
                    _ => Err(format!("{:?} is not a position (lon lat)", p.trim())),
                }
            })
            .collect()
    };
    let inner = rest
        .trim()
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("{s:?} is not WKT: POINT (lon lat) or POLYGON ((lon lat, …))"))?;
    match keyword.as_str() {
        "POINT" => {
            let mut p = positions(inner)?;
            match p.len() {
                1 => Ok(Wkt::Point(p.remove(0))),
                n => Err(format!("a POINT of {n} positions")),
            }
        }
        "POLYGON" => {
            let mut rings = Vec::new();
            let mut rest = inner.trim();
            while !rest.is_empty() {
                let body = rest
                    .strip_prefix('(')
                    .and_then(|r| r.find(')').map(|e| (&r[..e], &r[e + 1..])));
                let Some((ring, after)) = body else {
                    return Err(format!("ring {}: not (lon lat, …)", rings.len() + 1));
                };
                rings.push(positions(ring)?);
                rest = after.trim_start();
                rest = rest.strip_prefix(',').map_or(rest, str::trim_start);
            }
            Ok(Wkt::Polygon(rings))
        }
        _ => Err(format!(
            "{keyword:?}: a POINT or POLYGON is expected (WKT, WGS84 lon lat)"
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Writers.

/// A point's problem for writing.
fn write_position_problem(lon: f64, lat: f64) -> Option<String> {
    position(lon, lat, Crs::Wgs84).err()
}

/// Writes `features` (their JSON objects) as a FeatureCollection, one feature a line.
fn collection(features: Vec<Value>) -> String {
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
    for (i, f) in features.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        out.push_str(&f.to_string());
    }
    out.push_str("\n]}\n");
    out
}

/// The problems of the text fields, attributes and position of an item to write.
fn write_checks(
    it: &mut Item,
    texts: &[(&str, Option<&str>, bool)],
    attributes: &Map<String, Value>,
    reserved: &[&str],
) {
    for (field, v, required) in texts {
        match v {
            Some(v) => {
                if let Some(m) = text_problem(v, *required) {
                    it.problem(field, m);
                }
            }
            None if *required => it.problem(field, "missing"),
            None => {}
        }
    }
    if attributes.len() > MAX_ATTRIBUTES {
        it.problem("attributes", format!("more than {MAX_ATTRIBUTES}"));
    }
    for k in attributes.keys() {
        if reserved.contains(&k.as_str()) {
            it.problem(
                &format!("attributes.{k}"),
                "named like a property gridatlas writes",
            );
        } else if k.chars().count() > MAX_TEXT {
            it.problem(
                "attributes",
                format!("a name longer than {MAX_TEXT} characters"),
            );
        }
    }
}

fn properties(layer: &str, known: Vec<(&str, Value)>, attributes: &Map<String, Value>) -> Value {
    let mut p = Map::new();
    p.insert("layer".into(), Value::from(layer));
    for (k, v) in known {
        if !v.is_null() && v != "" {
            p.insert(k.into(), v);
        }
    }
    for (k, v) in attributes {
        p.insert(k.clone(), v.clone());
    }
    Value::Object(p)
}

fn date_value(d: Option<NaiveDate>) -> Value {
    d.map_or(Value::Null, |d| {
        Value::from(d.format("%Y-%m-%d").to_string())
    })
}

/// Writes `items` as a FeatureCollection of the features `feature` makes (in parallel; `Err`
/// with every problem of every item).
fn write_features<T: Sync>(
    items: &[T],
    feature: impl for<'a> Fn(&mut Item, &'a T) -> (Value, &'a str) + Sync,
) -> Result<String, AssetErrors> {
    let results: Vec<Result<Value, Vec<Problem>>> = items
        .par_iter()
        .enumerate()
        .map(|(i, x)| {
            let mut it = Item::new(Place::Item(i + 1));
            let (f, code) = feature(&mut it, x);
            it.finish(Some(f), Some(code))
        })
        .collect();
    gather(results).map(collection)
}

/// Components as GeoJSON (see the module doc), or every reason not to.
pub fn write_components_geojson(components: &[Component]) -> Result<String, AssetErrors> {
    write_features(components, |it, c| {
        write_checks(
            it,
            &[
                ("code", Some(&c.code), true),
                ("owner", Some(&c.owner), true),
                ("maintainer", c.maintainer.as_deref(), false),
            ],
            &c.attributes,
            &COMPONENT_PROPERTIES,
        );
        if let Some(m) = write_position_problem(c.lon, c.lat) {
            it.problem("lon, lat", m);
        }
        let props = properties(
            "component",
            vec![
                ("code", Value::from(c.code.as_str())),
                ("owner", Value::from(c.owner.as_str())),
                ("maintainer", Value::from(c.maintainer.clone())),
                ("state", Value::from(c.state.as_str())),
                ("survey_date", date_value(c.survey_date)),
            ],
            &c.attributes,
        );
        let f = serde_json::json!({
            "type": "Feature",
            "properties": props,
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
        });
        (f, c.code.as_str())
    })
}

/// Shops as GeoJSON (see the module doc), or every reason not to.
pub fn write_shops_geojson(shops: &[Shop]) -> Result<String, AssetErrors> {
    write_features(shops, |it, s| {
        write_checks(
            it,
            &[
                ("id", Some(&s.id), true),
                ("name", Some(&s.name), true),
                ("credit_code", s.credit_code.as_deref(), false),
                ("contact", s.contact.as_deref(), false),
                ("phone", s.phone.as_deref(), false),
                (
                    "frontage.segment",
                    s.frontage.as_ref().map(|f| f.segment.as_str()),
                    false,
                ),
            ],
            &s.attributes,
            &SHOP_PROPERTIES,
        );
        let geometry = match &s.geometry {
            ShopGeometry::Point(lon, lat) => {
                if let Some(m) = write_position_problem(*lon, *lat) {
                    it.problem("geometry", m);
                }
                serde_json::json!({"type": "Point", "coordinates": [lon, lat]})
            }
            ShopGeometry::Polygon(p) => {
                let rings: Vec<Vec<[f64; 2]>> = std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(|r| r.0.iter().map(|c| [c.x, c.y]).collect())
                    .collect();
                let as_read: Vec<Vec<Vec<f64>>> = rings
                    .iter()
                    .map(|r| r.iter().map(|c| c.to_vec()).collect())
                    .collect();
                let _ = footprint(&as_read, Crs::Wgs84, |at, m| {
                    let f = at.map_or_else(
                        || "geometry".to_string(),
                        |(r, k)| format!("geometry[{r}][{k}]"),
                    );
                    it.problem(&f, m);
                });
                serde_json::json!({"type": "Polygon", "coordinates": rings})
            }
        };
        if let Some(f) = &s.frontage {
            if !(f.distance_m.is_finite() && f.distance_m >= 0.0) {
                it.problem("frontage.distance_m", "not a distance in metres");
            }
        }
        let frontage = s
            .frontage
            .as_ref()
            .and_then(|f| serde_json::to_value(f).ok())
            .unwrap_or(Value::Null);
        let props = properties(
            "shop",
            vec![
                ("id", Value::from(s.id.as_str())),
                ("name", Value::from(s.name.as_str())),
                ("credit_code", Value::from(s.credit_code.clone())),
                ("contact", Value::from(s.contact.clone())),
                ("phone", Value::from(s.phone.clone())),
                ("pledge_signed", date_value(s.pledge_signed)),
                ("frontage", frontage),
            ],
            &s.attributes,
        );
        let f = serde_json::json!({
            "type": "Feature",
            "properties": props,
            "geometry": geometry,
        });
        (f, s.id.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkt_points_and_polygons() {
        assert_eq!(
            parse_wkt(" point( 121.5 30.75 ) "),
            Ok(Wkt::Point(vec![121.5, 30.75]))
        );
        assert_eq!(
            parse_wkt("POLYGON ((0 0, 1 0, 1 1, 0 0), (0.1 0.1,0.2 0.1,0.2 0.2,0.1 0.1))"),
            Ok(Wkt::Polygon(vec![
                vec![
                    vec![0.0, 0.0],
                    vec![1.0, 0.0],
                    vec![1.0, 1.0],
                    vec![0.0, 0.0]
                ],
                vec![
                    vec![0.1, 0.1],
                    vec![0.2, 0.1],
                    vec![0.2, 0.2],
                    vec![0.1, 0.1]
                ],
            ]))
        );
        assert!(
            parse_wkt("LINESTRING (0 0, 1 1)")
                .unwrap_err()
                .contains("POINT or POLYGON")
        );
        assert!(
            parse_wkt("POLYGON ((0 0, 1 x, 1 1, 0 0))")
                .unwrap_err()
                .contains("\"1 x\"")
        );
        assert!(parse_wkt("POLYGON EMPTY").is_err());
    }

    #[test]
    fn dates_as_offices_write_them() {
        let d = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        for s in [
            "2024-05-01",
            "2024/5/1",
            "2024.05.01",
            "20240501",
            "2024年5月1日",
            " 2024-5-1 ",
        ] {
            assert_eq!(parse_date(s), Ok(d), "{s}");
        }
        assert!(parse_date("01/05/2024").is_err());
    }
}
