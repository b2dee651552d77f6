//! The checks of one feature's `geometry`: its type for the layer, every position (two or three
//! finite numbers, longitude in [-180, 180], latitude in [-90, 90]), ring length and closure, line
//! length; rings are normalised to exterior counter-clockwise, holes clockwise (RFC 7946).

use super::problems::{Ctx, type_name};
use super::raw::{Node, RawGeometry};
use crate::model::{Geometry, Layer};
use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon, Winding};
use serde_json::Value;
use std::fmt;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum GeomType {
    Polygon,
    MultiPolygon,
    LineString,
    MultiLineString,
}

pub(super) fn check_geometry(
    c: &mut Ctx,
    g: Option<RawGeometry>,
    layer: Option<Layer>,
) -> Option<Geometry> {
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
    let ty = geometry_type(c, g.ty.as_ref(), layer)?;
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

/// What a feature of layer `l` must have as geometry.
fn wanted(l: Layer) -> &'static str {
    if l.is_area() {
        "a Polygon or MultiPolygon"
    } else {
        "a LineString or MultiLineString"
    }
}

/// The geometry `type` member.
fn geometry_type(c: &mut Ctx, ty: Option<&Value>, layer: Option<Layer>) -> Option<GeomType> {
    match ty {
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
    }
}

/// Runs `item` on each element of a list node; `None` when the node is not a list, it is too
/// short, or any element failed. Every element is checked even after a failure.
pub(super) fn list<T>(
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

pub(super) fn expect_list<'n>(
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

pub(super) fn polygon(c: &mut Ctx, node: &Node, path: &mut CoordPath) -> Option<Polygon<f64>> {
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

pub(super) fn ring(c: &mut Ctx, node: &Node, path: &mut CoordPath) -> Option<LineString<f64>> {
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

pub(super) fn line(c: &mut Ctx, node: &Node, path: &mut CoordPath) -> Option<LineString<f64>> {
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

pub(super) fn positions(
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

pub(super) fn position(c: &mut Ctx, node: &Node, path: &mut CoordPath) -> Option<Coord<f64>> {
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
pub(super) struct CoordPath(Vec<usize>);

impl fmt::Display for CoordPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(".geometry.coordinates")?;
        for i in &self.0 {
            write!(f, "[{i}]")?;
        }
        Ok(())
    }
}

/// The problem with a legacy `crs` member, if it names anything but WGS84 / CGCS2000 lon-lat.
pub(super) fn crs_problem(v: &Value) -> Option<String> {
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
