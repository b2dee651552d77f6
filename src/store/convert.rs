//! Features ↔ database columns, shared by both backends.
//!
//! Geometries travel as postgis_diesel values (EWKB on the wire and in SQLite blobs, SRID 4326);
//! `people` and `attributes` as JSON text, so that attribute order survives a round trip.

use super::{StoreError, StoreResult};
use crate::model::{Feature, Geometry, Kind, Layer, ManagementUnit};
use postgis_diesel::types as pd;

/// SRID of every stored geometry.
pub(super) const SRID: u32 = 4326;

/// The columns of one feature row, owned, before the backend's insertable struct borrows them.
pub(super) struct Columns {
    pub code: String,
    pub layer: &'static str,
    pub name: String,
    pub parent: Option<String>,
    pub kind: Option<&'static str>,
    pub people: String,
    pub attributes: String,
    pub area: Option<pd::MultiPolygon<pd::Point>>,
    pub line: Option<pd::MultiLineString<pd::Point>>,
}

fn point(c: &geo::Coord<f64>) -> pd::Point {
    pd::Point {
        x: c.x,
        y: c.y,
        srid: None,
    }
}

fn ring(ls: &geo::LineString<f64>) -> Vec<pd::Point> {
    ls.0.iter().map(point).collect()
}

/// A polygon as postgis_diesel holds it, with `srid` (`Some` for a geometry of its own, `None`
/// for a part of a multi-geometry).
pub(super) fn to_pd_polygon(p: &geo::Polygon<f64>, srid: Option<u32>) -> pd::Polygon<pd::Point> {
    let mut rings = Vec::with_capacity(1 + p.interiors().len());
    rings.push(ring(p.exterior()));
    rings.extend(p.interiors().iter().map(ring));
    pd::Polygon { rings, srid }
}

fn to_pd_area(mp: &geo::MultiPolygon<f64>) -> pd::MultiPolygon<pd::Point> {
    pd::MultiPolygon {
        polygons: mp.0.iter().map(|p| to_pd_polygon(p, None)).collect(),
        srid: Some(SRID),
    }
}

fn to_pd_line(ml: &geo::MultiLineString<f64>) -> pd::MultiLineString<pd::Point> {
    pd::MultiLineString {
        lines: ml
            .0
            .iter()
            .map(|l| pd::LineString {
                points: ring(l),
                srid: None,
            })
            .collect(),
        srid: Some(SRID),
    }
}

fn coords(points: &[pd::Point]) -> geo::LineString<f64> {
    geo::LineString(
        points
            .iter()
            .map(|p| geo::Coord { x: p.x, y: p.y })
            .collect(),
    )
}

/// A polygon from postgis_diesel's (an empty exterior if it has no ring).
pub(super) fn from_pd_polygon(p: &pd::Polygon<pd::Point>) -> geo::Polygon<f64> {
    let mut rings = p.rings.iter().map(|r| coords(r));
    let exterior = rings.next().unwrap_or_else(|| geo::LineString(Vec::new()));
    geo::Polygon::new(exterior, rings.collect())
}

fn from_pd_area(mp: &pd::MultiPolygon<pd::Point>) -> geo::MultiPolygon<f64> {
    geo::MultiPolygon(mp.polygons.iter().map(from_pd_polygon).collect())
}

fn from_pd_line(ml: &pd::MultiLineString<pd::Point>) -> geo::MultiLineString<f64> {
    geo::MultiLineString(ml.lines.iter().map(|l| coords(&l.points)).collect())
}

/// The columns of a feature.
pub(super) fn to_columns(f: &Feature) -> StoreResult<Columns> {
    let (area, line) = match &f.geometry {
        Geometry::Area(mp) => (Some(to_pd_area(mp)), None),
        Geometry::Line(ml) => (None, Some(to_pd_line(ml))),
    };
    Ok(Columns {
        code: f.code.clone(),
        layer: f.layer.as_str(),
        name: f.name.clone(),
        parent: f.parent.clone(),
        kind: f.kind.map(Kind::as_str),
        people: try_json("people", &f.people)?,
        attributes: try_json("attributes", &f.attributes)?,
        area,
        line,
    })
}

/// A feature from its columns.
#[allow(clippy::too_many_arguments)]
pub(super) fn from_columns(
    code: String,
    layer: &str,
    name: String,
    parent: Option<String>,
    kind: Option<&str>,
    people: &str,
    attributes: &str,
    area: Option<&pd::MultiPolygon<pd::Point>>,
    line: Option<&pd::MultiLineString<pd::Point>>,
) -> StoreResult<Feature> {
    let bad = |what: &str| StoreError::Data(format!("feature {code}: {what}"));
    let layer: Layer = layer
        .parse()
        .map_err(|()| bad(&format!("unknown layer {layer:?}")))?;
    let kind = match kind {
        Some(k) => Some(
            k.parse::<Kind>()
                .map_err(|()| bad(&format!("unknown kind {k:?}")))?,
        ),
        None => None,
    };
    let people = serde_json::from_str(people).map_err(|e| bad(&format!("people: {e}")))?;
    let attributes =
        serde_json::from_str(attributes).map_err(|e| bad(&format!("attributes: {e}")))?;
    let geometry = match (area, line) {
        (Some(a), None) => Geometry::Area(from_pd_area(a)),
        (None, Some(l)) => Geometry::Line(from_pd_line(l)),
        _ => return Err(bad("needs exactly one of area and line")),
    };
    Ok(Feature {
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

/// Management units as stored (JSON text).
pub(super) fn units_to_json(units: &[ManagementUnit]) -> StoreResult<String> {
    try_json("management units", &units)
}

/// Management units from stored JSON text.
pub(super) fn units_from_json(s: &str) -> StoreResult<Vec<ManagementUnit>> {
    serde_json::from_str(s).map_err(|e| StoreError::Data(format!("management units: {e}")))
}

/// A JSON text column decoded.
pub(super) fn json_from<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Data(format!("{what}: {e}")))
}

/// A value as JSON text; a value that cannot be serialised is an error, never stored as a
/// stand-in.
pub(super) fn try_json<T: serde::Serialize + ?Sized>(what: &str, v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Data(format!("{what} cannot be stored: {e}")))
}

/// A value as JSON text.
pub(super) fn json_to<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Person, Role};
    use geo::{LineString, MultiLineString, MultiPolygon, Polygon};

    #[test]
    fn features_round_trip_through_columns() {
        let outer = LineString::from(vec![
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 1.0),
            (0.0, 1.0),
            (0.0, 0.0),
        ]);
        let hole = LineString::from(vec![
            (0.2, 0.2),
            (0.2, 0.4),
            (0.4, 0.4),
            (0.4, 0.2),
            (0.2, 0.2),
        ]);
        let mut attributes = serde_json::Map::new();
        attributes.insert("z".into(), serde_json::json!(1));
        attributes.insert("a".into(), serde_json::json!("x"));
        let f = Feature {
            layer: Layer::ResidentGrid,
            code: "310116101001".into(),
            name: "居委".into(),
            parent: Some("310116101".into()),
            kind: Some(Kind::Residents),
            people: vec![Person {
                role: Role::StationHead,
                name: "王".into(),
                phone: Some("1".into()),
                photo_url: None,
                staff_id: None,
            }],
            attributes,
            geometry: Geometry::Area(MultiPolygon(vec![Polygon::new(outer, vec![hole])])),
        };
        let c = to_columns(&f).expect("columns");
        let back = from_columns(
            c.code,
            c.layer,
            c.name,
            c.parent,
            c.kind,
            &c.people,
            &c.attributes,
            c.area.as_ref(),
            c.line.as_ref(),
        );
        assert_eq!(back.ok().as_ref(), Some(&f));

        let line = Feature {
            layer: Layer::RoadSegment,
            kind: None,
            geometry: Geometry::Line(MultiLineString(vec![LineString::from(vec![
                (0.1, 0.1),
                (0.3, 0.30000000000000004),
            ])])),
            ..f
        };
        let c = to_columns(&line).expect("columns");
        let back = from_columns(
            c.code,
            c.layer,
            c.name,
            c.parent,
            c.kind,
            &c.people,
            &c.attributes,
            c.area.as_ref(),
            c.line.as_ref(),
        );
        assert_eq!(back.ok().as_ref(), Some(&line));
    }
}
