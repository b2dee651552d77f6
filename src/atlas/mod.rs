//! The atlas: an immutable in-memory index over one feature set, answering "who owns this point?".
//!
//! 1. **Build** ([`Atlas::build`]): the areas of four layers — district, street, grid (the three
//!    grid kinds together) and block — go into one [`raster::Raster`]: a uniform grid of cells
//!    (about a third of a block wide) in which each cell lists, per layer, the few polygons whose
//!    boundary may cross it, and the polygon covering it entirely. Road segments go into an R-tree
//!    of their pieces, with a per-cell bit saying whether any road is within the default radius;
//!    each layer's polygon boxes go into an R-tree for the gap fallback.
//! 2. **Lookup** ([`Atlas::lookup`]): one cell read. Most cells lie wholly inside one block, grid,
//!    street and district: their answer is a shared entry and no geometry is tested. Elsewhere the
//!    candidates are tested with the exact rule of [`crate::geometry::pip`], restricted to their
//!    edges in the point's raster row.
//! 3. **Placement** ([`Placement`]): feature ids; [`Atlas::placement_json`] renders names, people
//!    and management units as a `Value`; [`Atlas::placement_view`] ([`json`]) serialises the same
//!    bytes straight from borrowed, pre-rendered feature fragments (the HTTP API's path).
//!
//! # Rules
//!
//! - **Boundaries.** A point on a shared edge or vertex has exactly one owner: the area to its
//!   north-east, by the exact rule of [`crate::geometry::pip`] (an edge point counts as lying just
//!   east of the edge, and on a horizontal edge just north).
//! - **Overlaps** (invalid data): the first containing area in file order wins, in every layer.
//! - **Holes and multipolygons** are honoured: a point in a hole is not in the area.
//! - **Layers are tested independently**, so a grid is returned only when it contains the point —
//!   even when a block sticks out of its grid. The hierarchy is used at build time instead: a cell
//!   inside one block, one grid, one street and the district needs no test at all.
//! - **Fallback.** A point in no block gets the nearest block within `nearest_radius_m` (default
//!   50 m) — of its own grid when it is in one — with `fallback: "nearest"` and `distance_m`; a
//!   point in no grid likewise gets the nearest grid (and that grid's nearest block, if within
//!   the radius). Beyond the radius: `fallback: "grid"` (a grid but no block), `"street"` (a street
//!   but no grid), `"district"` (in the district but no street), or `"outside"`.
//! - **Road segments** within `road_radius_m` (default 30 m) are listed nearest first, with their
//!   distance in metres (local metric frame, see [`crate::geometry::measure::LocalFrame`]).

pub mod cli;
pub mod json;
pub mod raster;
pub mod tiles;

use crate::geometry::measure::LocalFrame;
use crate::model::{Feature, FeatureSet, Layer, Role};
use geo::{Coord, MultiPolygon, Rect};
use raster::{LAYERS, NONE, Raster};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Index of a feature in the atlas's feature set.
pub type FeatureId = u32;

/// Options for building an atlas.
#[derive(Debug, Clone)]
pub struct AtlasOptions {
    /// Raster cell size in metres; `None` picks about a third of the mean block width.
    pub cell_m: Option<f64>,
    /// Default radius for road segments, metres.
    pub road_radius_m: f64,
    /// Default radius for the nearest-area fallback, metres.
    pub nearest_radius_m: f64,
}

impl Default for AtlasOptions {
    fn default() -> Self {
        AtlasOptions {
            cell_m: None,
            road_radius_m: 30.0,
            nearest_radius_m: 50.0,
        }
    }
}

/// How a placement was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// The point lies in a block (and its grid, street, district): no fallback.
    None,
    /// Some layer was filled with the nearest area within the radius.
    Nearest,
    /// In a grid, but no block within the radius.
    Grid,
    /// In a street, but no grid within the radius.
    Street,
    /// In the district, but in no street.
    District,
    /// Outside the district.
    Outside,
}

impl Fallback {
    /// The JSON value: `null` for none, else the snake_case name.
    pub fn as_json(self) -> Value {
        match self {
            Fallback::None => Value::Null,
            Fallback::Nearest => json!("nearest"),
            Fallback::Grid => json!("grid"),
            Fallback::Street => json!("street"),
            Fallback::District => json!("district"),
            Fallback::Outside => json!("outside"),
        }
    }
}

/// A road segment near the point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoadHit {
    /// The road segment.
    pub feature: FeatureId,
    /// Distance from the point, metres.
    pub distance_m: f64,
}

/// The answer to "who owns this point?", as feature ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The district.
    pub district: Option<FeatureId>,
    /// The street (街镇).
    pub street: Option<FeatureId>,
    /// The grid of any of the three kinds.
    pub grid: Option<FeatureId>,
    /// The responsibility block.
    pub block: Option<FeatureId>,
    /// Road segments within the radius, nearest first.
    pub roads: Vec<RoadHit>,
    /// How the placement was reached.
    pub fallback: Fallback,
    /// Distance to the nearest area used, when `fallback` is `Nearest`.
    pub distance_m: Option<f64>,
}

/// Per-call lookup options.
#[derive(Debug, Clone, Copy)]
pub struct LookupOptions {
    /// Radius for road segments, metres (0 = none).
    pub road_radius_m: f64,
    /// Radius for the nearest-area fallback, metres.
    pub nearest_radius_m: f64,
}

type BoxTree = RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>;
type LineTree = RTree<GeomWithData<rstar::primitives::Line<[f64; 2]>, FeatureId>>;

/// The immutable index. Cheap to share (`Arc<Atlas>`); build a new one for a new generation.
pub struct Atlas {
    set: FeatureSet,
    generation: Option<i64>,
    options: AtlasOptions,
    raster: Raster,
    /// Per indexed layer: store slot → feature id.
    slot_feature: [Vec<FeatureId>; LAYERS],
    /// Per indexed layer: R-tree of polygon bounding boxes (data = slot).
    boxes: [BoxTree; LAYERS],
    roads: LineTree,
    /// One bit per raster cell: a road piece lies within the default radius of the cell.
    near_road: Vec<u64>,
    /// Grid feature id → management unit indices.
    units_by_grid: HashMap<FeatureId, Vec<u32>>,
    /// Parent feature id → children, in file order.
    children: HashMap<FeatureId, Vec<FeatureId>>,
    /// Per feature, its JSON object in placements, rendered on first use (see [`json`]).
    fragments: json::Fragments,
}

/// The indexed layer of a feature layer.
fn indexed_layer(layer: Layer) -> Option<usize> {
    match layer {
        Layer::District => Some(0),
        Layer::Street => Some(1),
        Layer::ResidentGrid | Layer::StreetGrid | Layer::ExtendedGrid => Some(2),
        Layer::Block => Some(3),
        Layer::RoadSegment => None,
    }
}

impl Atlas {
    /// Builds the atlas of `set` with default options.
    pub fn build(set: FeatureSet) -> Atlas {
        Atlas::build_with(set, AtlasOptions::default())
    }

    /// Builds the atlas of `set`.
    pub fn build_with(set: FeatureSet, options: AtlasOptions) -> Atlas {
        let mut areas: [Vec<&MultiPolygon<f64>>; LAYERS] = Default::default();
        let mut slot_feature: [Vec<FeatureId>; LAYERS] = Default::default();
        for (i, f) in set.features().iter().enumerate() {
            if let (Some(l), Some(a)) = (indexed_layer(f.layer), f.geometry.as_area()) {
                areas[l].push(a);
                slot_feature[l].push(i as FeatureId);
            }
        }
        let cell_m = options
            .cell_m
            .unwrap_or_else(|| default_cell_m(&areas[3], &areas[2]));
        let raster = Raster::build(areas, cell_m);

        let boxes: [BoxTree; LAYERS] = std::array::from_fn(|l| {
            let items = raster.layers[l]
                .bboxes
                .iter()
                .enumerate()
                .map(|(k, b)| {
                    GeomWithData::new(
                        Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]),
                        k as u32,
                    )
                })
                .collect();
            RTree::bulk_load(items)
        });

        let mut pieces = Vec::new();
        for (i, f) in set.features().iter().enumerate() {
            if let Some(ml) = f.geometry.as_line() {
                for ls in &ml.0 {
                    for w in ls.0.windows(2) {
                        pieces.push(GeomWithData::new(
                            rstar::primitives::Line::new([w[0].x, w[0].y], [w[1].x, w[1].y]),
                            i as FeatureId,
                        ));
                    }
                }
            }
        }
        let roads = RTree::bulk_load(pieces);
        let near_road = near_road_bits(&raster, &roads, options.road_radius_m);

        let mut units_by_grid: HashMap<FeatureId, Vec<u32>> = HashMap::new();
        for (u, unit) in set.management_units.iter().enumerate() {
            for g in &unit.grids {
                if let Some(i) = set.index_of(g) {
                    units_by_grid
                        .entry(i as FeatureId)
                        .or_default()
                        .push(u as u32);
                }
            }
        }
        let mut children: HashMap<FeatureId, Vec<FeatureId>> = HashMap::new();
        for (i, f) in set.features().iter().enumerate() {
            if let Some(p) = f.parent.as_deref().and_then(|p| set.index_of(p)) {
                children
                    .entry(p as FeatureId)
                    .or_default()
                    .push(i as FeatureId);
            }
        }
        Atlas {
            fragments: json::Fragments::new(set.len()),
            set,
            generation: None,
            children,
            options,
            raster,
            slot_feature,
            boxes,
            roads,
            near_road,
            units_by_grid,
        }
    }

    /// Sets the generation number reported with placements.
    pub fn with_generation(mut self, generation: i64) -> Atlas {
        self.generation = Some(generation);
        self
    }

    /// The generation this atlas was built from, if known.
    pub fn generation(&self) -> Option<i64> {
        self.generation
    }

    /// The indexed feature set.
    pub fn features(&self) -> &FeatureSet {
        &self.set
    }

    /// One feature.
    pub fn feature(&self, id: FeatureId) -> &Feature {
        &self.set.features()[id as usize]
    }

    /// Default lookup options (the build options' radii).
    pub fn default_lookup(&self) -> LookupOptions {
        LookupOptions {
            road_radius_m: self.options.road_radius_m,
            nearest_radius_m: self.options.nearest_radius_m,
        }
    }

    /// Who owns `(lon, lat)` (WGS84)? With the default radii.
    #[inline]
    pub fn lookup(&self, lon: f64, lat: f64) -> Placement {
        self.lookup_with(lon, lat, self.default_lookup())
    }

    /// Only the containing area per layer (district, street, grid, block) — no fallback, no
    /// roads. The fastest question the atlas answers.
    #[inline]
    pub fn locate(&self, lon: f64, lat: f64) -> [Option<FeatureId>; LAYERS] {
        let slots = self.raster.locate(lon, lat);
        std::array::from_fn(|l| self.feature_of_slot(l, slots[l]))
    }

    #[inline]
    fn feature_of_slot(&self, layer: usize, slot: u32) -> Option<FeatureId> {
        if slot == NONE {
            None
        } else {
            Some(self.slot_feature[layer][slot as usize])
        }
    }

    /// Who owns `(lon, lat)` (WGS84)?
    pub fn lookup_with(&self, lon: f64, lat: f64, opts: LookupOptions) -> Placement {
        let [district, street, mut grid, mut block] = self.locate(lon, lat);
        let mut fallback = Fallback::None;
        let mut distance_m = None;
        if block.is_none() {
            let frame = LocalFrame::new(lon, lat);
            let finite = lon.is_finite() && lat.is_finite();
            if grid.is_none() && finite {
                if let Some((g, d)) = self.nearest(2, &frame, lon, lat, opts.nearest_radius_m, None)
                {
                    grid = Some(g);
                    distance_m = Some(d);
                    fallback = Fallback::Nearest;
                }
            }
            if let Some(g) = grid.filter(|_| finite) {
                if let Some((b, d)) =
                    self.nearest(3, &frame, lon, lat, opts.nearest_radius_m, Some(g))
                {
                    block = Some(b);
                    distance_m = Some(distance_m.map_or(d, |x: f64| x.max(d)));
                    fallback = Fallback::Nearest;
                }
            }
            if fallback == Fallback::None {
                fallback = if grid.is_some() {
                    Fallback::Grid
                } else if street.is_some() {
                    Fallback::Street
                } else if district.is_some() {
                    Fallback::District
                } else {
                    Fallback::Outside
                };
            }
        }
        let roads = if opts.road_radius_m > 0.0 && self.may_have_roads(lon, lat, opts.road_radius_m)
        {
            self.roads_near(lon, lat, opts.road_radius_m)
        } else {
            Vec::new()
        };
        Placement {
            district,
            street,
            grid,
            block,
            roads,
            fallback,
            distance_m,
        }
    }

    fn may_have_roads(&self, lon: f64, lat: f64, radius_m: f64) -> bool {
        if self.roads.size() == 0 {
            return false;
        }
        if radius_m > self.options.road_radius_m {
            return true;
        }
        match self.raster.grid.cell_of(lon, lat) {
            Some((r, c)) => {
                let i = (r * self.raster.grid.ncols + c) as usize;
                self.near_road[i / 64] >> (i % 64) & 1 == 1
            }
            None => true,
        }
    }

    /// Road segments within `radius_m` of the point, nearest first.
    pub fn roads_near(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<RoadHit> {
        let frame = LocalFrame::new(lon, lat);
        let (rx, ry) = (
            radius_m / frame.m_per_deg_lon,
            radius_m / frame.m_per_deg_lat,
        );
        let env = AABB::from_corners([lon - rx, lat - ry], [lon + rx, lat + ry]);
        let mut best: Vec<RoadHit> = Vec::new();
        for piece in self.roads.locate_in_envelope_intersecting(&env) {
            let l = piece.geom();
            let d = frame.distance_to_segment(
                Coord {
                    x: l.from[0],
                    y: l.from[1],
                },
                Coord {
                    x: l.to[0],
                    y: l.to[1],
                },
            );
            if d > radius_m {
                continue;
            }
            match best.iter_mut().find(|h| h.feature == piece.data) {
                Some(h) => h.distance_m = h.distance_m.min(d),
                None => best.push(RoadHit {
                    feature: piece.data,
                    distance_m: d,
                }),
            }
        }
        best.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then(a.feature.cmp(&b.feature))
        });
        best
    }

    /// The nearest area of indexed layer `layer` within `radius_m` (optionally only children of
    /// `parent`), by distance to its boundary; ties go to the first in file order.
    fn nearest(
        &self,
        layer: usize,
        frame: &LocalFrame,
        lon: f64,
        lat: f64,
        radius_m: f64,
        parent: Option<FeatureId>,
    ) -> Option<(FeatureId, f64)> {
        let (rx, ry) = (
            radius_m / frame.m_per_deg_lon,
            radius_m / frame.m_per_deg_lat,
        );
        let env = AABB::from_corners([lon - rx, lat - ry], [lon + rx, lat + ry]);
        let parent_code = parent.map(|p| self.feature(p).code.as_str());
        let mut best: Option<(FeatureId, f64)> = None;
        for item in self.boxes[layer].locate_in_envelope_intersecting(&env) {
            let slot = item.data;
            let id = self.slot_feature[layer][slot as usize];
            if parent_code.is_some() && self.feature(id).parent.as_deref() != parent_code {
                continue;
            }
            let d = self.raster.layers[layer].boundary_distance_m(slot as usize, frame);
            if d <= radius_m && best.is_none_or(|(bid, bd)| d < bd || (d == bd && id < bid)) {
                best = Some((id, d));
            }
        }
        best
    }

    /// Management units serving a grid.
    pub fn units_of_grid(
        &self,
        grid: FeatureId,
    ) -> impl Iterator<Item = &crate::model::ManagementUnit> {
        self.units_by_grid
            .get(&grid)
            .into_iter()
            .flatten()
            .map(|&u| &self.set.management_units[u as usize])
    }

    /// The placement as the JSON object of the API and the CLI.
    pub fn placement_json(&self, lon: f64, lat: f64, p: &Placement) -> Value {
        let area = |id: Option<FeatureId>| -> Value {
            match id {
                None => Value::Null,
                Some(id) => {
                    let f = self.feature(id);
                    let mut o = serde_json::Map::new();
                    o.insert("code".into(), json!(f.code));
                    o.insert("name".into(), json!(f.name));
                    o.insert("layer".into(), json!(f.layer.as_str()));
                    if let Some(k) = f.kind {
                        o.insert("kind".into(), json!(k.as_str()));
                    }
                    if !f.people.is_empty() {
                        o.insert("people".into(), json!(f.people));
                    }
                    if !f.attributes.is_empty() {
                        o.insert("attributes".into(), Value::Object(f.attributes.clone()));
                    }
                    Value::Object(o)
                }
            }
        };
        let block_head = p
            .block
            .and_then(|b| self.feature(b).person(Role::BlockHead))
            .map(|h| json!(h))
            .unwrap_or(Value::Null);
        let units: Vec<Value> = p
            .grid
            .into_iter()
            .flat_map(|g| self.units_of_grid(g))
            .map(|u| json!(u))
            .collect();
        let roads: Vec<Value> = p
            .roads
            .iter()
            .map(|r| {
                let f = self.feature(r.feature);
                json!({"code": f.code, "name": f.name, "distance_m": round_cm(r.distance_m)})
            })
            .collect();
        json!({
            "lon": lon,
            "lat": lat,
            "district": area(p.district),
            "street": area(p.street),
            "grid": area(p.grid),
            "block": area(p.block),
            "block_head": block_head,
            "management_units": units,
            "road_segments": roads,
            "fallback": p.fallback.as_json(),
            "distance_m": p.distance_m.map(round_cm),
            "generation": self.generation,
        })
    }

    /// Memory of the index in bytes (raster, polygon stores, R-trees, road bits) — everything but
    /// the feature set's attributes and people.
    pub fn index_heap_bytes(&self) -> usize {
        let rtree_entry = std::mem::size_of::<GeomWithData<Rectangle<[f64; 2]>, u32>>() + 8;
        let line_entry =
            std::mem::size_of::<GeomWithData<rstar::primitives::Line<[f64; 2]>, u32>>() + 8;
        self.raster.heap_bytes()
            + self
                .slot_feature
                .iter()
                .map(|v| v.capacity() * 4)
                .sum::<usize>()
            + self
                .boxes
                .iter()
                .map(|t| t.size() * rtree_entry)
                .sum::<usize>()
            + self.roads.size() * line_entry
            + self.near_road.capacity() * 8
    }

    /// The feature with `code`.
    pub fn find(&self, code: &str) -> Option<FeatureId> {
        self.set.index_of(code).map(|i| i as FeatureId)
    }

    /// Children of a feature, in file order.
    pub fn children(&self, id: FeatureId) -> &[FeatureId] {
        self.children.get(&id).map_or(&[], Vec::as_slice)
    }

    /// Ancestors of a feature, nearest first (stops at a missing parent or a cycle).
    pub fn ancestors(&self, id: FeatureId) -> Vec<FeatureId> {
        let mut out = Vec::new();
        let mut cur = self.feature(id);
        while let Some(p) = self.set.parent_of(cur) {
            let pid = self.set.index_of(&p.code).map_or(id, |i| i as FeatureId);
            if pid == id || out.contains(&pid) || out.len() > 16 {
                break;
            }
            out.push(pid);
            cur = p;
        }
        out
    }

    /// Bounding box of a feature's geometry.
    pub fn bbox(&self, id: FeatureId) -> Option<Rect<f64>> {
        match &self.feature(id).geometry {
            crate::model::Geometry::Area(a) => geo::BoundingRect::bounding_rect(a),
            crate::model::Geometry::Line(l) => geo::BoundingRect::bounding_rect(l),
        }
    }

    /// Bounding box of everything indexed.
    pub fn territory_bbox(&self) -> Option<Rect<f64>> {
        self.boxes
            .iter()
            .filter(|t| t.size() > 0)
            .map(|t| {
                let e = t.root().envelope();
                Rect::new(
                    Coord {
                        x: e.lower()[0],
                        y: e.lower()[1],
                    },
                    Coord {
                        x: e.upper()[0],
                        y: e.upper()[1],
                    },
                )
            })
            .reduce(|a, b| {
                Rect::new(
                    Coord {
                        x: a.min().x.min(b.min().x),
                        y: a.min().y.min(b.min().y),
                    },
                    Coord {
                        x: a.max().x.max(b.max().x),
                        y: a.max().y.max(b.max().y),
                    },
                )
            })
    }

    /// Features matching a search, in file order: `q` matches a code prefix or any part of the
    /// name or of a string attribute such as `committee` (case-insensitive; Chinese included);
    /// `layer` and `parent` filter. Returns the total
    /// number of matches and the page `offset..offset + limit`.
    pub fn search(
        &self,
        q: Option<&str>,
        layer: Option<Layer>,
        parent: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<FeatureId>) {
        let q = q
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase);
        let mut total = 0;
        let mut page = Vec::new();
        // Exact code matches first, then the rest in file order.
        let exact = q.as_deref().and_then(|q| self.set.index_of(q));
        let matches = |f: &Feature| {
            layer.is_none_or(|l| f.layer == l)
                && parent.is_none_or(|p| f.parent.as_deref() == Some(p))
                && q.as_deref().is_none_or(|q| {
                    f.code.to_lowercase().starts_with(q)
                        || f.name.to_lowercase().contains(q)
                        || f.attributes
                            .values()
                            .any(|v| v.as_str().is_some_and(|s| s.to_lowercase().contains(q)))
                })
        };
        let order = exact
            .into_iter()
            .chain((0..self.set.len()).filter(|&i| Some(i) != exact));
        for i in order {
            let f = &self.set.features()[i];
            if matches(f) {
                if total >= offset && page.len() < limit {
                    page.push(i as FeatureId);
                }
                total += 1;
            }
        }
        (total, page)
    }

    /// Raster statistics: (cells, cells needing no test, mixed-record words).
    pub fn raster_stats(&self) -> (usize, usize, usize) {
        self.raster.stats()
    }
}

fn round_cm(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// About a third of the mean block width (or of the grid width when there are no blocks).
fn default_cell_m(blocks: &[&MultiPolygon<f64>], grids: &[&MultiPolygon<f64>]) -> f64 {
    let list = if blocks.is_empty() { grids } else { blocks };
    if list.is_empty() {
        return 200.0;
    }
    let mut total = 0.0;
    for a in list {
        if let Some(b) = geo::BoundingRect::bounding_rect(*a) {
            let f = LocalFrame::new(b.center().x, b.center().y);
            total += (b.width() * f.m_per_deg_lon) * (b.height() * f.m_per_deg_lat);
        }
    }
    let mean_width = (total / list.len() as f64).sqrt();
    (mean_width / 3.0).clamp(10.0, 2_000.0)
}

/// One bit per cell: some road piece within `radius_m` of the cell.
fn near_road_bits(raster: &Raster, roads: &LineTree, radius_m: f64) -> Vec<u64> {
    let g = &raster.grid;
    let mut bits = vec![0u64; g.len().div_ceil(64)];
    for piece in roads.iter() {
        let l = piece.geom();
        let frame = LocalFrame::new(l.from[0], l.from[1]);
        // Widen by the radius plus 1 % against the variation of the frame across the segment.
        let (rx, ry) = (
            1.01 * radius_m / frame.m_per_deg_lon,
            1.01 * radius_m / frame.m_per_deg_lat,
        );
        let r = Rect::new(
            Coord {
                x: l.from[0].min(l.to[0]) - rx,
                y: l.from[1].min(l.to[1]) - ry,
            },
            Coord {
                x: l.from[0].max(l.to[0]) + rx,
                y: l.from[1].max(l.to[1]) + ry,
            },
        );
        let (r0, r1) = (
            g.row_f(r.min().y).max(0.0),
            g.row_f(r.max().y).min(f64::from(g.nrows) - 1.0),
        );
        let (c0, c1) = (
            g.col_f(r.min().x).max(0.0),
            g.col_f(r.max().x).min(f64::from(g.ncols) - 1.0),
        );
        if r1 < r0 || c1 < c0 {
            continue;
        }
        for row in r0 as u32..=r1 as u32 {
            for col in c0 as u32..=c1 as u32 {
                let i = (row * g.ncols + col) as usize;
                bits[i / 64] |= 1 << (i % 64);
            }
        }
    }
    bits
}

/// Brute force: per indexed layer, the first feature in file order containing the point, by
/// testing every area. The reference the atlas is tested against.
pub fn brute_force_locate(set: &FeatureSet, lon: f64, lat: f64) -> [Option<FeatureId>; LAYERS] {
    let mut out = [None; LAYERS];
    for (i, f) in set.features().iter().enumerate() {
        if let (Some(l), Some(a)) = (indexed_layer(f.layer), f.geometry.as_area()) {
            if out[l].is_none() && crate::geometry::pip::contains(a, lon, lat) {
                out[l] = Some(i as FeatureId);
            }
        }
    }
    out
}
