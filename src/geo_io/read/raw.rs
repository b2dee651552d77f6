//! The raw forms a feature is parsed into, before any check: the feature object with its
//! members as found (properties as a JSON map with the keys it repeats, coordinates as a compact
//! tree), and the position budget of the feature being parsed. Plain data: the visitors that fill
//! it are in `json.rs`, the checks that read it in `properties.rs` and `geometry.rs`.

use serde_json::Value;

/// A `features` element as parsed, before checking.
pub(super) enum RawFeature {
    NotObject(&'static str),
    Object(Box<RawFeatureObject>),
}

pub(super) struct RawFeatureObject {
    pub(super) ty: Option<Value>,
    pub(super) properties: Option<Value>,
    /// Keys that appear more than once inside `properties` (JSON allows it; a map keeps only one).
    pub(super) property_duplicates: Vec<String>,
    pub(super) geometry: Option<RawGeometry>,
    pub(super) has_id: bool,
    pub(super) duplicates: Vec<&'static str>,
}

pub(super) enum RawGeometry {
    Null,
    NotObject(&'static str),
    Object(RawGeometryObject),
}

pub(super) struct RawGeometryObject {
    pub(super) ty: Option<Value>,
    pub(super) coordinates: Option<Node>,
    pub(super) crs: Option<Value>,
    pub(super) duplicates: Vec<&'static str>,
}

/// A compact tree of a `coordinates` value. An array whose first element is a number is a
/// position: only its first two numbers are kept.
pub(super) enum Node {
    Num(f64),
    Pos(Pos),
    List(Vec<Node>),
    Other(&'static str),
}

pub(super) struct Pos {
    pub(super) x: f64,
    pub(super) y: f64,
    /// Number of elements.
    pub(super) len: u32,
    /// 1 + index of the first element that is not a number; 0 when all are numbers.
    pub(super) bad: u32,
}

/// Position budget of the feature being parsed.
pub(super) struct Budget {
    pub(super) left: usize,
    pub(super) exceeded: bool,
}
