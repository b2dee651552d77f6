//! Spatial indexes over the registers: [`ComponentIndex`] (hundreds of thousands of points) and
//! [`ShopIndex`] (points and footprints).
//!
//! Both answer in metres measured like the atlas's (a local metric frame at the query point,
//! [`LocalFrame`]), sorted by distance, then by code (components) or id (shops), then by index.
//! They keep positions into the slice they were built from, not the items.
//!
//! [`ComponentIndex`] is lean: an R-tree of `([f64; 2], u32)` points bulk-loaded (not inserted),
//! the codes packed in one string with offsets, and a code-sorted permutation for
//! [`ComponentIndex::by_code`]: about 60 bytes a component (see `benches/assets.rs`). A component
//! with a non-finite position is left out of the tree (it can still be found by code).

use super::{Component, Shop, ShopGeometry};
use crate::geometry::measure::{LocalFrame, point_segment_distance};
use crate::geometry::pip;
use geo::{BoundingRect, Coord, MultiPolygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use std::cmp::Ordering;

type PointTree = RTree<GeomWithData<[f64; 2], u32>>;

/// The query box of `radius_m` around a point, in degrees, in `frame` (1 % wider against the
/// variation of the frame across the box).
fn query_box(frame: &LocalFrame, lon: f64, lat: f64, radius_m: f64) -> AABB<[f64; 2]> {
    let (rx, ry) = (
        1.01 * radius_m / frame.m_per_deg_lon,
        1.01 * radius_m / frame.m_per_deg_lat,
    );
    AABB::from_corners([lon - rx, lat - ry], [lon + rx, lat + ry])
}

/// Whether a query is answerable.
fn valid_query(lon: f64, lat: f64, radius_m: f64) -> bool {
    lon.is_finite() && lat.is_finite() && radius_m.is_finite() && radius_m >= 0.0
}

/// Codes packed in one string.
#[derive(Debug, Default)]
struct Codes {
    text: String,
    /// `ends[i]`: the end of code `i` in `text`.
    ends: Vec<u32>,
}

impl Codes {
    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text
            .get(start..self.ends[i] as usize)
            .unwrap_or_default()
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4
    }
}

/// A spatial and code index over a slice of components.
pub struct ComponentIndex {
    tree: PointTree,
    codes: Codes,
    /// Component indices sorted by code (then index).
    by_code: Vec<u32>,
}

impl ComponentIndex {
    /// Indexes `components` (at most `u32::MAX`).
    pub fn new(components: &[Component]) -> ComponentIndex {
        let mut codes = Codes {
            text: String::with_capacity(components.iter().map(|c| c.code.len()).sum()),
            ends: Vec::with_capacity(components.len()),
        };
        for c in components {
            codes.text.push_str(&c.code);
            codes.ends.push(codes.text.len() as u32);
        }
        let points = components
            .iter()
            .enumerate()
            .filter(|(_, c)| c.lon.is_finite() && c.lat.is_finite())
            .map(|(i, c)| GeomWithData::new([c.lon, c.lat], i as u32))
            .collect();
        let tree = RTree::bulk_load(points);
        let mut by_code: Vec<u32> = (0..components.len() as u32).collect();
        by_code.sort_by(|&a, &b| codes.get(a as usize).cmp(codes.get(b as usize)));
        ComponentIndex {
            tree,
            codes,
            by_code,
        }
    }

    /// Components indexed.
    pub fn len(&self) -> usize {
        self.codes.ends.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.codes.ends.is_empty()
    }

    /// The code of component `i`.
    pub fn code(&self, i: usize) -> &str {
        self.codes.get(i)
    }

    fn order(&self, a: &(usize, f64), b: &(usize, f64)) -> Ordering {
        a.1.total_cmp(&b.1)
            .then_with(|| self.code(a.0).cmp(self.code(b.0)))
            .then(a.0.cmp(&b.0))
    }

    /// Components within `radius_m` metres of the point: (index, distance in metres), nearest
    /// first, then by code.
    pub fn within(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<(usize, f64)> {
        self.within_where(lon, lat, radius_m, |_| true)
    }

    fn within_where(
        &self,
        lon: f64,
        lat: f64,
        radius_m: f64,
        keep: impl Fn(&str) -> bool,
    ) -> Vec<(usize, f64)> {
        if !valid_query(lon, lat, radius_m) {
            return Vec::new();
        }
        let frame = LocalFrame::new(lon, lat);
        let mut out: Vec<(usize, f64)> = self
            .tree
            .locate_in_envelope(&query_box(&frame, lon, lat, radius_m))
            .filter_map(|p| {
                let i = p.data as usize;
                let xy = frame.to_xy(Coord {
                    x: p.geom()[0],
                    y: p.geom()[1],
                });
                let d = xy.x.hypot(xy.y);
                (d <= radius_m && keep(self.code(i))).then_some((i, d))
            })
            .collect();
        out.sort_by(|a, b| self.order(a, b));
        out
    }

    /// The nearest component of major class `class` and subclass `subclass` (2 digits each,
    /// digits 7–8 and 9–10 of the code) within `radius_m` metres.
    pub fn nearest_of(
        &self,
        lon: f64,
        lat: f64,
        class: &str,
        subclass: &str,
        radius_m: f64,
    ) -> Option<(usize, f64)> {
        self.within_where(lon, lat, radius_m, |code| {
            code.get(6..8) == Some(class) && code.get(8..10) == Some(subclass)
        })
        .into_iter()
        .next()
    }

    /// The component with `code` (the first in the slice if several have it).
    pub fn by_code(&self, code: &str) -> Option<usize> {
        let k = self
            .by_code
            .partition_point(|&i| self.code(i as usize) < code);
        let &i = self.by_code.get(k)?;
        (self.code(i as usize) == code).then_some(i as usize)
    }

    /// Heap memory of the index, bytes (R-tree entries and nodes estimated).
    pub fn heap_bytes(&self) -> usize {
        // Leaves of 24 bytes, plus about one node of 6 children per 6 leaves and the vectors'
        // headers (rstar's default parameters).
        let entry = std::mem::size_of::<GeomWithData<[f64; 2], u32>>();
        let tree = self.tree.size() * (entry + 8) + self.tree.size() / 5 * 80;
        tree + self.codes.heap_bytes() + self.by_code.capacity() * 4
    }
}

/// The stored shape of a shop.
enum Shape {
    Point(Coord<f64>),
    Area(MultiPolygon<f64>),
}

/// A spatial index over a slice of shops.
pub struct ShopIndex {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    ids: Vec<String>,
    shapes: Vec<Shape>,
}

impl ShopIndex {
    /// Indexes `shops` (their ids and shapes are copied).
    pub fn new(shops: &[Shop]) -> ShopIndex {
        let mut items = Vec::with_capacity(shops.len());
        let mut shapes = Vec::with_capacity(shops.len());
        for (i, s) in shops.iter().enumerate() {
            let (shape, rect) = match &s.geometry {
                ShopGeometry::Point(lon, lat) => (
                    Shape::Point(Coord { x: *lon, y: *lat }),
                    Some(([*lon, *lat], [*lon, *lat])),
                ),
                ShopGeometry::Polygon(p) => {
                    let rect = p
                        .bounding_rect()
                        .map(|r| ([r.min().x, r.min().y], [r.max().x, r.max().y]));
                    (Shape::Area(MultiPolygon(vec![p.clone()])), rect)
                }
            };
            if let Some((a, b)) = rect.filter(|(a, b)| a.iter().chain(b).all(|v| v.is_finite())) {
                items.push(GeomWithData::new(Rectangle::from_corners(a, b), i as u32));
            }
            shapes.push(shape);
        }
        ShopIndex {
            tree: RTree::bulk_load(items),
            ids: shops.iter().map(|s| s.id.clone()).collect(),
            shapes,
        }
    }

    /// Shops whose point lies within `radius_m` metres of the point, or whose footprint contains
    /// it or lies within `radius_m` of it (distance 0 inside): (index, distance in metres),
    /// nearest first, then by id.
    pub fn at(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<(usize, f64)> {
        if !valid_query(lon, lat, radius_m) {
            return Vec::new();
        }
        let frame = LocalFrame::new(lon, lat);
        let origin = Coord { x: 0.0, y: 0.0 };
        let mut out: Vec<(usize, f64)> = self
            .tree
            .locate_in_envelope_intersecting(&query_box(&frame, lon, lat, radius_m))
            .filter_map(|item| {
                let i = item.data as usize;
                let d = match &self.shapes[i] {
                    Shape::Point(c) => {
                        let xy = frame.to_xy(*c);
                        xy.x.hypot(xy.y)
                    }
                    Shape::Area(a) if pip::contains(a, lon, lat) => 0.0,
                    Shape::Area(a) => {
                        a.0.iter()
                            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                            .flat_map(|r| r.0.windows(2))
                            .map(|w| {
                                point_segment_distance(origin, frame.to_xy(w[0]), frame.to_xy(w[1]))
                            })
                            .fold(f64::INFINITY, f64::min)
                    }
                };
                (d <= radius_m).then_some((i, d))
            })
            .collect();
        out.sort_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then_with(|| self.ids[a.0].cmp(&self.ids[b.0]))
                .then(a.0.cmp(&b.0))
        });
        out
    }

    /// Shops indexed.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}
