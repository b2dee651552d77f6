//! The placement as JSON without building a `serde_json::Value`.
//!
//! [`Atlas::placement_view`] borrows the placement and the atlas's features and serialises
//! straight into the output: the same bytes as serialising [`Atlas::placement_json`] (tested
//! below), without cloning people and attributes per request.
//!
//! 1. Each area's JSON object (`code`, `name`, `layer`, `kind`, `people`, `attributes`) is
//!    rendered once, the first time a placement names it, and kept in the atlas
//!    ([`Fragments`]: three lazily filled slots per feature; a feature never looked up costs
//!    three empty slots, 72 bytes).
//! 2. Likewise a block's block head and the management units serving a grid. The placement
//!    writes those fragments verbatim (`serde_json::value::RawValue`) and renders only what
//!    depends on the point: road segments with their distances, fallback, distance, generation.
//! 3. [`PlacementView::serialize_entries`] lets a caller append members to the same object (the
//!    HTTP API adds `input` and `gcj02`).

use super::{Atlas, Fallback, FeatureId, Placement, round_cm};
use crate::model::{Feature, Layer, Role};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::value::RawValue;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// Per feature, pre-rendered JSON (each slot filled on first use): the feature as an area of a
/// placement, its block head (`null` if none), and the management units serving it (`[]`).
pub(crate) struct Fragments {
    area: Vec<OnceLock<Box<RawValue>>>,
    head: Vec<OnceLock<Box<RawValue>>>,
    units: Vec<OnceLock<Box<RawValue>>>,
    /// The members of compact answers (batch lookups), all features at once on first use.
    compact: OnceLock<CompactMembers>,
}

/// Per feature, its members of a compact answer, JSON-escaped, in one contiguous string: a
/// street `"street":"…"`, a grid `"grid":"…","grid_layer":"…"`, a block
/// `"block":"…","block_head":"…"|null`, a road segment `"road_segment":"…"`. A batch answer is
/// then a few copies from this table per point instead of chasing each feature's strings
/// (cache misses that dominated batches on a large district).
struct CompactMembers {
    /// `text[ends[i - 1]..ends[i]]` is feature `i`'s (`ends[-1]` = 0).
    ends: Vec<usize>,
    text: String,
}

impl CompactMembers {
    fn build(atlas: &Atlas) -> CompactMembers {
        let features = atlas.features().features();
        let mut text = String::with_capacity(features.len() * 64);
        let mut ends = Vec::with_capacity(features.len());
        for f in features {
            let key = match f.layer {
                Layer::Street => Some("street"),
                l if l.is_grid() => Some("grid"),
                Layer::Block => Some("block"),
                Layer::RoadSegment => Some("road_segment"),
                _ => None,
            };
            if let Some(key) = key {
                text.push('"');
                text.push_str(key);
                text.push_str("\":");
                push_json_str(&mut text, &f.code);
                if f.layer.is_grid() {
                    text.push_str(",\"grid_layer\":");
                    push_json_str(&mut text, f.layer.as_str());
                } else if f.layer == Layer::Block {
                    text.push_str(",\"block_head\":");
                    match f.person(Role::BlockHead) {
                        Some(h) => push_json_str(&mut text, &h.name),
                        None => text.push_str("null"),
                    }
                }
            }
            ends.push(text.len());
        }
        text.shrink_to_fit();
        CompactMembers { ends, text }
    }

    fn get(&self, id: FeatureId) -> &str {
        let i = id as usize;
        let start = match i {
            0 => 0,
            _ => self.ends.get(i - 1).copied().unwrap_or(0),
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or("")
    }
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it (no allocation).
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    // Codes and names need no escaping: one branch-free scan (vectorised), then one copy.
    if !s.bytes().fold(false, |esc, b| {
        esc | (b < 0x20) | (b == b'"') | (b == b'\\')
    }) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `b` is ASCII, so `i` is a character boundary.
        out.push_str(&s[start..i]);
        if short.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

impl Fragments {
    /// Empty slots for `n` features.
    pub(crate) fn new(n: usize) -> Fragments {
        let slots = || std::iter::repeat_with(OnceLock::new).take(n).collect();
        Fragments {
            area: slots(),
            head: slots(),
            units: slots(),
            compact: OnceLock::new(),
        }
    }
}

/// An area of a placement: code, name, layer, kind, people and attributes (the last three only
/// when present).
struct AreaJson<'a>(&'a Feature);

impl Serialize for AreaJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let f = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("code", &f.code)?;
        m.serialize_entry("name", &f.name)?;
        m.serialize_entry("layer", f.layer.as_str())?;
        if let Some(k) = f.kind {
            m.serialize_entry("kind", k.as_str())?;
        }
        if !f.people.is_empty() {
            m.serialize_entry("people", &f.people)?;
        }
        if !f.attributes.is_empty() {
            m.serialize_entry("attributes", &f.attributes)?;
        }
        m.end()
    }
}

/// Renders a fragment (infallible for these types; `null` if serde_json ever refused).
fn render(v: &impl Serialize) -> Box<RawValue> {
    serde_json::value::to_raw_value(v).unwrap_or_default()
}

impl Atlas {
    /// The placement of `(lon, lat)` as a borrowed, serialisable view: serialised, the same bytes
    /// as [`Atlas::placement_json`], at a fraction of the cost.
    pub fn placement_view<'a>(&'a self, lon: f64, lat: f64, p: &'a Placement) -> PlacementView<'a> {
        PlacementView {
            atlas: self,
            lon,
            lat,
            p,
        }
    }

    /// The pre-rendered JSON object of a feature as an area of a placement.
    fn area_fragment(&self, id: FeatureId) -> Option<&RawValue> {
        let slot = self.fragments.area.get(id as usize)?;
        Some(slot.get_or_init(|| render(&AreaJson(self.feature(id)))))
    }

    /// The pre-rendered block head of a block (`null` if it has none).
    fn head_fragment(&self, id: FeatureId) -> Option<&RawValue> {
        let slot = self.fragments.head.get(id as usize)?;
        Some(slot.get_or_init(|| render(&self.feature(id).person(Role::BlockHead))))
    }

    /// The pre-rendered array of the management units serving a grid.
    fn units_fragment(&self, id: FeatureId) -> Option<&RawValue> {
        let slot = self.fragments.units.get(id as usize)?;
        Some(slot.get_or_init(|| render(&Seq(|| self.units_of_grid(id)))))
    }
}

impl Atlas {
    /// Appends the members of the compact answer of a placement (batch lookups): `street`,
    /// `grid`, `grid_layer`, `block`, `block_head` (name), `road_segment` (nearest code),
    /// `fallback`, `distance_m`, `lon`, `lat`. The first call builds the table of pre-escaped
    /// members of every feature (see [`CompactMembers`]).
    pub fn write_compact(&self, out: &mut String, wgs: (f64, f64), p: &Placement) {
        let t = self
            .fragments
            .compact
            .get_or_init(|| CompactMembers::build(self));
        let member = |out: &mut String, id: Option<FeatureId>, none: &str| match id {
            Some(id) => out.push_str(t.get(id)),
            None => out.push_str(none),
        };
        member(out, p.street, "\"street\":null");
        out.push(',');
        member(out, p.grid, "\"grid\":null,\"grid_layer\":null");
        out.push(',');
        member(out, p.block, "\"block\":null,\"block_head\":null");
        out.push(',');
        member(
            out,
            p.roads.first().map(|r| r.feature),
            "\"road_segment\":null",
        );
        out.push_str(match p.fallback {
            Fallback::None => ",\"fallback\":null",
            Fallback::Nearest => ",\"fallback\":\"nearest\"",
            Fallback::Grid => ",\"fallback\":\"grid\"",
            Fallback::Street => ",\"fallback\":\"street\"",
            Fallback::District => ",\"fallback\":\"district\"",
            Fallback::Outside => ",\"fallback\":\"outside\"",
        });
        // Shortest round-trip digits (zmij, as serde_json writes numbers); all finite here.
        let mut num = zmij::Buffer::new();
        out.push_str(",\"distance_m\":");
        match p.distance_m {
            Some(d) => out.push_str(num.format(round_cm(d))),
            None => out.push_str("null"),
        }
        out.push_str(",\"lon\":");
        out.push_str(num.format(wgs.0));
        out.push_str(",\"lat\":");
        out.push_str(num.format(wgs.1));
    }
}

/// A placement ready to serialise (see [`Atlas::placement_view`]).
pub struct PlacementView<'a> {
    atlas: &'a Atlas,
    lon: f64,
    lat: f64,
    p: &'a Placement,
}

/// Serialises an iterator as a sequence without collecting it.
struct Seq<F>(F);

impl<I, F> Serialize for Seq<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

#[derive(Serialize)]
struct RoadJson<'a> {
    code: &'a str,
    name: &'a str,
    distance_m: f64,
}

impl PlacementView<'_> {
    fn area(&self, id: Option<FeatureId>) -> Option<&RawValue> {
        id.and_then(|id| self.atlas.area_fragment(id))
    }

    /// Writes the placement's members into an open map, so a caller can add its own after them.
    pub fn serialize_entries<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        let (a, p) = (self.atlas, self.p);
        m.serialize_entry("lon", &self.lon)?;
        m.serialize_entry("lat", &self.lat)?;
        m.serialize_entry("district", &self.area(p.district))?;
        m.serialize_entry("street", &self.area(p.street))?;
        m.serialize_entry("grid", &self.area(p.grid))?;
        m.serialize_entry("block", &self.area(p.block))?;
        m.serialize_entry("block_head", &p.block.and_then(|b| a.head_fragment(b)))?;
        match p.grid.and_then(|g| a.units_fragment(g)) {
            Some(units) => m.serialize_entry("management_units", units)?,
            None => m.serialize_entry("management_units", &[] as &[u8])?,
        }
        m.serialize_entry(
            "road_segments",
            &Seq(|| {
                p.roads.iter().map(|r| {
                    let f = a.feature(r.feature);
                    RoadJson {
                        code: &f.code,
                        name: &f.name,
                        distance_m: round_cm(r.distance_m),
                    }
                })
            }),
        )?;
        let fallback = match p.fallback {
            Fallback::None => None,
            Fallback::Nearest => Some("nearest"),
            Fallback::Grid => Some("grid"),
            Fallback::Street => Some("street"),
            Fallback::District => Some("district"),
            Fallback::Outside => Some("outside"),
        };
        m.serialize_entry("fallback", &fallback)?;
        m.serialize_entry("distance_m", &p.distance_m.map(round_cm))?;
        m.serialize_entry("generation", &a.generation)
    }
}

impl Serialize for PlacementView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.serialize_entries(&mut m)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FeatureSet;
    use rand::{Rng, SeedableRng};

    fn demo() -> FeatureSet {
        crate::geo_io::read_path(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/demo-district.geojson"
        )))
        .expect("demo fixture")
    }

    /// The view serialises to exactly the bytes of `placement_json`, for points of every kind of
    /// placement: inside blocks, on roads, nearest fallbacks, outside; twice (fragments cached).
    #[test]
    fn view_bytes_equal_placement_json() {
        let atlas = Atlas::build(demo()).with_generation(7);
        let bbox = atlas.territory_bbox().expect("bbox");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut seen = std::collections::HashSet::new();
        let mut roads = 0;
        for round in 0..2 {
            for _ in 0..3000 {
                // 10 % beyond the bounding box, to reach `outside` and `district`.
                let (w, h) = (bbox.width() * 1.2, bbox.height() * 1.2);
                let lon = bbox.min().x - bbox.width() * 0.1 + rng.random::<f64>() * w;
                let lat = bbox.min().y - bbox.height() * 0.1 + rng.random::<f64>() * h;
                let p = atlas.lookup(lon, lat);
                let reference =
                    serde_json::to_string(&atlas.placement_json(lon, lat, &p)).expect("json");
                let view =
                    serde_json::to_string(&atlas.placement_view(lon, lat, &p)).expect("view");
                assert_eq!(view, reference, "({lon}, {lat}) round {round}");
                seen.insert(format!("{:?}", p.fallback));
                roads += usize::from(!p.roads.is_empty());
            }
        }
        assert!(roads > 0, "no point near a road");
        for f in ["None", "Nearest", "Outside"] {
            assert!(seen.contains(f), "no {f} placement among {seen:?}");
        }
        // Non-finite coordinates render as null in both.
        let p = atlas.lookup(f64::NAN, 30.9);
        assert_eq!(
            serde_json::to_string(&atlas.placement_view(f64::NAN, 30.9, &p)).expect("view"),
            serde_json::to_string(&atlas.placement_json(f64::NAN, 30.9, &p)).expect("json")
        );
    }

    /// The compact answer of batch lookups carries the placement's codes, layer, block head,
    /// nearest road, fallback and distance, for every kind of placement — and escapes names and
    /// codes that need it (a block head and a road code with quotes, backslashes, controls).
    #[test]
    fn compact_answers_match_the_placement() {
        let (mut features, units) = demo().into_parts();
        let tricky = "王\"小\\二\n\u{1}";
        let block = features
            .iter_mut()
            .filter(|f| f.layer == Layer::Block)
            .nth(10)
            .expect("a block");
        let head = block
            .people
            .iter_mut()
            .find(|p| p.role == Role::BlockHead)
            .expect("a block head");
        head.name = tricky.to_owned();
        let tricky_block = block.code.clone();
        let road = features
            .iter_mut()
            .find(|f| f.layer == Layer::RoadSegment)
            .expect("a road");
        road.code = format!("{}\"\\\t", road.code);
        let tricky_road = road.code.clone();
        let set = FeatureSet::new(features, units).expect("unique codes");
        let atlas = Atlas::build(set);
        let bbox = atlas.territory_bbox().expect("bbox");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut points: Vec<(f64, f64)> = (0..4000)
            .map(|_| {
                let (w, h) = (bbox.width() * 1.2, bbox.height() * 1.2);
                (
                    bbox.min().x - bbox.width() * 0.1 + rng.random::<f64>() * w,
                    bbox.min().y - bbox.height() * 0.1 + rng.random::<f64>() * h,
                )
            })
            .collect();
        // Inside the tricky block, and on the tricky road.
        let inside = |code: &str| {
            let f = atlas.feature(atlas.find(code).expect("feature"));
            match f.geometry.as_area() {
                Some(a) => geo::InteriorPoint::interior_point(a).map(|p| (p.x(), p.y())),
                None => f
                    .geometry
                    .as_line()
                    .and_then(|l| l.0.first().and_then(|ls| ls.0.first()).map(|c| (c.x, c.y))),
            }
            .expect("a point")
        };
        points.push(inside(&tricky_block));
        points.push(inside(&tricky_road));
        let mut seen = std::collections::HashSet::new();
        for (lon, lat) in points {
            let p = atlas.lookup(lon, lat);
            let full = atlas.placement_json(lon, lat, &p);
            let mut out = String::from("{");
            atlas.write_compact(&mut out, (lon, lat), &p);
            out.push('}');
            let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
            let expected = serde_json::json!({
                "street": full["street"]["code"],
                "grid": full["grid"]["code"],
                "grid_layer": full["grid"]["layer"],
                "block": full["block"]["code"],
                "block_head": full["block_head"]["name"],
                "road_segment": full["road_segments"][0]["code"],
                "fallback": full["fallback"],
                "distance_m": full["distance_m"],
                "lon": lon,
                "lat": lat,
            });
            assert_eq!(v, expected, "({lon}, {lat}): {out}");
            seen.insert(format!("{:?}", p.fallback));
            if v["block_head"] == tricky {
                seen.insert("tricky head".into());
            }
            if v["road_segment"] == tricky_road.as_str() {
                seen.insert("tricky road".into());
            }
        }
        for f in ["None", "Nearest", "Outside", "tricky head", "tricky road"] {
            assert!(seen.contains(f), "no {f} among {seen:?}");
        }
    }

    /// A feature with management units, kind, people and attributes, against `placement_json`.
    #[test]
    fn view_with_units_and_attributes_equals_placement_json() {
        let set = demo();
        assert!(
            !set.management_units.is_empty(),
            "demo has management units"
        );
        let atlas = Atlas::build(set).with_generation(1);
        let grid = atlas
            .features()
            .management_units
            .iter()
            .flat_map(|u| u.grids.iter())
            .find_map(|g| atlas.find(g))
            .expect("a grid served by a unit");
        let area = atlas.feature(grid).geometry.as_area().expect("area");
        let pt = geo::InteriorPoint::interior_point(area).expect("interior");
        let p = atlas.lookup(pt.x(), pt.y());
        assert_eq!(p.grid, Some(grid));
        let reference = atlas.placement_json(pt.x(), pt.y(), &p);
        assert!(
            !reference["management_units"]
                .as_array()
                .expect("array")
                .is_empty()
        );
        assert_eq!(
            serde_json::to_string(&atlas.placement_view(pt.x(), pt.y(), &p)).expect("view"),
            serde_json::to_string(&reference).expect("json")
        );
        // Through serde_json's Value serializer too (fragments parsed back).
        assert_eq!(
            serde_json::to_value(atlas.placement_view(pt.x(), pt.y(), &p)).expect("value"),
            reference
        );
    }
}
