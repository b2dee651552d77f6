//! Writing a feature set as a GeoJSON FeatureCollection (RFC 7946).
//!
//! Coordinates are written with Rust's shortest round-trip float formatting, so reading the output
//! gives bit-identical coordinates. Management units go in the top-level foreign member
//! `management_units`.

use crate::model::{Feature, FeatureSet, Geometry};
use geo::{LineString, Polygon};
use serde_json::{Map, Value, json};
use std::io::{self, Write};
use std::path::Path;

fn ring(ls: &LineString<f64>) -> Value {
    Value::Array(ls.0.iter().map(|c| json!([c.x, c.y])).collect())
}

fn polygon(p: &Polygon<f64>) -> Value {
    let mut rings = vec![ring(p.exterior())];
    rings.extend(p.interiors().iter().map(ring));
    Value::Array(rings)
}

/// The GeoJSON geometry object of a geometry: Polygon / LineString when there is one part,
/// MultiPolygon / MultiLineString otherwise.
pub fn geometry_to_json(g: &Geometry) -> Value {
    match g {
        Geometry::Area(mp) if mp.0.len() == 1 => {
            json!({"type": "Polygon", "coordinates": polygon(&mp.0[0])})
        }
        Geometry::Area(mp) => json!({
            "type": "MultiPolygon",
            "coordinates": Value::Array(mp.0.iter().map(polygon).collect()),
        }),
        Geometry::Line(ml) if ml.0.len() == 1 => {
            json!({"type": "LineString", "coordinates": ring(&ml.0[0])})
        }
        Geometry::Line(ml) => json!({
            "type": "MultiLineString",
            "coordinates": Value::Array(ml.0.iter().map(ring).collect()),
        }),
    }
}

/// The properties object of a feature: the format's own properties first, then the attributes.
pub fn properties_to_json(f: &Feature) -> Map<String, Value> {
    let mut props = Map::new();
    props.insert("layer".into(), json!(f.layer.as_str()));
    props.insert("code".into(), json!(f.code));
    props.insert("name".into(), json!(f.name));
    if let Some(p) = &f.parent {
        props.insert("parent".into(), json!(p));
    }
    if let Some(k) = f.kind {
        props.insert("kind".into(), json!(k.as_str()));
    }
    if !f.people.is_empty() {
        props.insert(
            "people".into(),
            serde_json::to_value(&f.people).unwrap_or(Value::Null),
        );
    }
    for (k, v) in &f.attributes {
        props.insert(k.clone(), v.clone());
    }
    props
}

/// One feature as a GeoJSON Feature object.
pub fn feature_to_json(f: &Feature) -> Value {
    json!({
        "type": "Feature",
        "properties": Value::Object(properties_to_json(f)),
        "geometry": geometry_to_json(&f.geometry),
    })
}

/// Writes `set` as a FeatureCollection, one feature per line.
pub fn write<W: Write>(set: &FeatureSet, mut out: W) -> io::Result<()> {
    out.write_all(b"{\"type\":\"FeatureCollection\",")?;
    if !set.management_units.is_empty() {
        out.write_all(b"\"management_units\":")?;
        serde_json::to_writer(&mut out, &set.management_units)?;
        out.write_all(b",")?;
    }
    out.write_all(b"\"features\":[\n")?;
    for (i, f) in set.features().iter().enumerate() {
        if i > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut out, &feature_to_json(f))?;
    }
    out.write_all(b"\n]}\n")?;
    out.flush()
}

/// Writes `set` to a file.
pub fn write_path(set: &FeatureSet, path: &Path) -> io::Result<()> {
    let file = std::fs::File::create(path)?;
    write(set, io::BufWriter::new(file))
}
