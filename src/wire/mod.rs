//! The JSON shapes of the HTTP API ("wire types"): one Rust type per response body, per query
//! string and per request body, from which the OpenAPI document's schemas are generated.
//!
//! # Conventions (for every route, read and write side)
//!
//! 1. **Plain data.** `wire` depends on the data types of the layers below it ([`crate::model`],
//!    and the domain's own data where the API shows it as it is: a case, a category, an
//!    assignment, indicators — those derive `ToSchema` themselves), `serde`, `serde_json`,
//!    `utoipa` and `geojson` — never on `http`, `service`, `store`, `atlas` or `validate`
//!    (`tests/layers.rs`). Conversions from internal types live in the service layer or next to
//!    the handler, not here, except small pure functions over `model` types (e.g. [`geometry`]).
//!    The one other format, [`sheet`] (report tables as CSV and XLSX), adds `csv` and
//!    `rust_xlsxwriter` and is as plain: data in, bytes out, no I/O.
//! 2. **One file per area of the API**: `lookup.rs`, `areas.rs`, `tiles.rs`, `meta.rs`,
//!    `open311.rs`, `problem.rs` (read side); `drafts.rs`, `cases.rs`, … (write side);
//!    `sheet.rs` (spreadsheet exports of report tables, not JSON). Shared
//!    shapes (people, management units, GeoJSON geometry, enum schemas) are in this file.
//!    Spell arrays as arrays (`[f64; 4]` for a bounding box `[min_lon, min_lat, max_lon,
//!    max_lat]`), not through a type alias: utoipa does not see through aliases.
//! 3. **Responses** derive `Serialize + Deserialize + ToSchema`, with
//!    `#[serde(deny_unknown_fields)]` (so a test deserialising a real answer catches a member the
//!    type forgets; utoipa then writes `additionalProperties: false`). Members always present but
//!    possibly null are `Option<T>` without `skip_serializing_if` (utoipa: required, nullable);
//!    members sometimes absent are `Option<T>` with
//!    `#[serde(default, skip_serializing_if = "Option::is_none")]` (utoipa: not required).
//!    Every field has a `///` doc: it becomes the schema's description.
//! 4. **Query strings** are a struct of `Option<String>` fields deriving `Deserialize + IntoParams`
//!    (`#[into_params(parameter_in = Query)]`), each documented with its real type and format in
//!    `#[param(value_type = …, …)]`. The handler extracts it with `http::query::Params<T>` (the
//!    last of a repeated parameter wins, unknown parameters are ignored — as before typing) and
//!    parses each field with the route's precise parser, so a bad value is still a problem+json
//!    naming the parameter (`parameter `limit`: "x" is not a non-negative integer`).
//! 5. **Request bodies** derive `Deserialize + ToSchema` (plus `Serialize` for tests and clients),
//!    `#[serde(deny_unknown_fields)]`.
//! 6. **Data of the model** (`Layer`, `Kind`, `Role`, `ManagementUnitKind`, `Person`,
//!    `ManagementUnit`) and of the domain where the API shows it as it is (a case, a category,
//!    indicators) derive `ToSchema` where they are defined, so their schema cannot drift from
//!    them; wire types use them directly (re-exported here) and a query parameter names its real
//!    type in `#[param(value_type = Option<Layer>)]`.
//! 7. **Geometries** are [`geojson::Geometry`] (RFC 7946) with
//!    `#[schema(value_type = wire::GeoJsonGeometry)]`, the hand-written schema component below.
//! 8. **Errors** are [`problem::Problem`] (`application/problem+json`); every `utoipa::path`
//!    names it for its 4xx/5xx answers:
//!    `(status = 400, body = wire::problem::Problem, content_type = "application/problem+json")`.
//! 9. **Hand-rendered answers** (the placement, batch and NDJSON lookups are written from
//!    pre-rendered fragments for speed) keep their renderer; their wire type documents them and a
//!    test deserialises many real answers into it and re-serialises to the same JSON value.
//! 10. Every `utoipa::path` names its typed success body (`body = wire::…`) and its params
//!     (`params(wire::…::SomeQuery)`); `Object` is reserved for truly free-form members
//!     (attributes).

pub mod areas;
pub mod assets;
pub mod cases;
pub mod drafts;
pub mod events;
pub mod field;
pub mod lookup;
pub mod meta;
pub mod open311;
pub mod problem;
pub mod review;
pub mod sheet;
pub mod tiles;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

pub use crate::model::{Kind, Layer, ManagementUnit, ManagementUnitKind, Person, Role};

/// A GeoJSON geometry (RFC 7946): the schema of [`geojson::Geometry`] in the OpenAPI document.
///
/// The API writes Polygon / MultiPolygon for areas and LineString / MultiLineString for road
/// segments; the schema admits every geometry type but GeometryCollection.
pub struct GeoJsonGeometry;

impl GeoJsonGeometry {
    /// The schema as JSON (OpenAPI 3.1 / JSON Schema 2020-12).
    pub fn json() -> serde_json::Value {
        let position = serde_json::json!({
            "type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3,
            "description": "[lon, lat] in WGS84"
        });
        let array = |items: serde_json::Value, min: u64| serde_json::json!({"type": "array", "items": items, "minItems": min});
        let line = array(position.clone(), 2);
        let ring = array(position.clone(), 4);
        let polygon = array(ring, 1);
        let variant = |name: &str, coordinates: serde_json::Value| {
            serde_json::json!({
                "type": "object",
                "title": name,
                "required": ["type", "coordinates"],
                "properties": {
                    "type": {"type": "string", "enum": [name]},
                    "coordinates": coordinates,
                    "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4}
                }
            })
        };
        serde_json::json!({
            "description": "A GeoJSON geometry (RFC 7946), WGS84 longitude/latitude",
            "oneOf": [
                variant("Point", position.clone()),
                variant("MultiPoint", array(position, 0)),
                variant("LineString", line.clone()),
                variant("MultiLineString", array(line, 0)),
                variant("Polygon", polygon.clone()),
                variant("MultiPolygon", array(polygon, 0)),
            ]
        })
    }
}

impl PartialSchema for GeoJsonGeometry {
    fn schema() -> RefOr<Schema> {
        constant_schema(Self::json(), "GeoJSON schema")
    }
}

/// A schema written as JSON: a constant document of utoipa's own schema model, so it always
/// parses (each one is tested below).
fn constant_schema(json: serde_json::Value, what: &str) -> RefOr<Schema> {
    #[allow(clippy::expect_used)]
    let schema: Schema = serde_json::from_value(json).expect(what);
    RefOr::T(schema)
}

impl ToSchema for GeoJsonGeometry {}

/// A time bound of a query (`from`, `to`, `as_of`): an RFC 3339 time, or a date `YYYY-MM-DD`
/// standing for a local midnight of the district's zone (which one each parameter says). The
/// schema of those `String` parameters in the OpenAPI document, so that a client (or a
/// generator of requests) knows the two forms the server parses.
pub struct TimeOrDate;

impl TimeOrDate {
    /// The schema as JSON (OpenAPI 3.1 / JSON Schema 2020-12).
    pub fn json() -> serde_json::Value {
        serde_json::json!({
            "description": "An RFC 3339 time, or a date YYYY-MM-DD (a local midnight of the district's zone)",
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ]
        })
    }
}

impl PartialSchema for TimeOrDate {
    fn schema() -> RefOr<Schema> {
        constant_schema(Self::json(), "time-or-date schema")
    }
}

impl ToSchema for TimeOrDate {}

/// The GeoJSON geometry of a model geometry: Polygon / LineString when it has one part,
/// MultiPolygon / MultiLineString otherwise (as the GeoJSON writer does).
pub fn geometry(g: &crate::model::Geometry) -> geojson::Geometry {
    use crate::model::Geometry as G;
    fn line(ls: &geo::LineString<f64>) -> Vec<Vec<f64>> {
        ls.0.iter().map(|c| vec![c.x, c.y]).collect()
    }
    fn polygon(p: &geo::Polygon<f64>) -> Vec<Vec<Vec<f64>>> {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(line)
            .collect()
    }
    let value = match g {
        G::Area(mp) => match mp.0.as_slice() {
            [one] => geojson::Value::Polygon(polygon(one)),
            many => geojson::Value::MultiPolygon(many.iter().map(polygon).collect()),
        },
        G::Line(ml) => match ml.0.as_slice() {
            [one] => geojson::Value::LineString(line(one)),
            many => geojson::Value::MultiLineString(many.iter().map(line).collect()),
        },
    };
    geojson::Geometry::new(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geojson_schema_parses_and_names_every_type() {
        let RefOr::T(Schema::OneOf(one)) = GeoJsonGeometry::schema() else {
            panic!("a oneOf schema");
        };
        assert_eq!(one.items.len(), 6);
    }

    #[test]
    fn time_or_date_schema_parses_and_names_both_forms() {
        let RefOr::T(Schema::AnyOf(any)) = TimeOrDate::schema() else {
            panic!("an anyOf schema");
        };
        let json = serde_json::to_value(&any.items).expect("json");
        let formats: Vec<&str> = json
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["format"].as_str())
            .collect();
        assert_eq!(formats, ["date-time", "date"]);
    }

    #[test]
    fn geometry_matches_the_geojson_writer() {
        let set = crate::geo_io::read_path(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/demo-district.geojson"
        )))
        .expect("demo fixture");
        for f in set.features().iter().step_by(7) {
            let ours = serde_json::to_value(geometry(&f.geometry)).expect("json");
            assert_eq!(ours, crate::geo_io::write::geometry_to_json(&f.geometry));
        }
    }
}
