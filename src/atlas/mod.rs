//! The atlas: an immutable in-memory index over one feature set, answering "who owns this point?".
//!
//! 1. **Build** ([`Atlas::build`]): the areas of four layers — district, street, grid (the three
//!    grid kinds together) and block — go into one [`raster::Raster`]: a uniform grid of cells
//!    (about a third of a block wide). A cell lying wholly inside one area per layer (or outside
//!    all of a layer) points to a shared entry of four feature ids; any other cell keeps the few
//!    edges crossing it, each once with its coordinates and a bit mask of the areas (of all
//!    layers) it bounds. Road segments are cut into pieces (one per line edge), listed per raster
//!    cell within the default radius (only cells with any), and put in an R-tree for other radii;
//!    each layer's polygon boxes go into an R-tree for the gap fallback.
//! 2. **Lookup** ([`Atlas::lookup`]): one cell read. Most points need no geometry at all;
//!    elsewhere each edge in the cell is tested once with the exact rule of
//!    [`crate::geometry::pip`], which decides all four layers together.
//! 3. **Placement** ([`Placement`]): feature ids; [`Atlas::placement_json`] renders names, people
//!    and management units as a `Value`; [`Atlas::placement_view`] ([`json`]) serialises the same
//!    bytes straight from borrowed, pre-rendered feature fragments (the HTTP API's path).
//! 4. **Search** ([`Atlas::search`], [`search`]): codes, names, attributes, pinyin and initials,
//!    numbers; the keys are built once per atlas (per generation) on the first search.
//!
//! # Rules
//!
//! - **Boundaries.** A point on a shared edge or vertex has exactly one owner: the area to its
//!   north-east, by the exact rule of [`crate::geometry::pip`] (an edge point counts as lying just
//!   east of the edge, and on a horizontal edge just north).
//! - **Overlaps** (invalid data): the first containing area in file order wins, in every layer.
//! - **Holes and multipolygons** are honoured: a point in a hole is not in the area.
//! - **Every layer is decided by its own areas**, so a grid is returned only when it contains the
//!   point — even when a block sticks out of its grid. The hierarchy pays off through shared
//!   geometry instead: a cell inside one block, one grid, one street and the district needs no
//!   test at all, and an edge shared by a block, its grid and its street is tested once for all.
//! - **Fallback.** A point in no block gets the nearest block within `nearest_radius_m` (default
//!   50 m) — of its own grid when it is in one — with `fallback: "nearest"` and `distance_m`; a
//!   point in no grid likewise gets the nearest grid (and that grid's nearest block, if within
//!   the radius). Beyond the radius: `fallback: "grid"` (a grid but no block), `"street"` (a street
//!   but no grid), `"district"` (in the district but no street), or `"outside"`.
//! - **Road segments** within `road_radius_m` (default 30 m) are listed nearest first, with their
//!   distance in metres (local metric frame, see [`crate::geometry::measure::LocalFrame`]).

pub mod json;
pub mod raster;
pub mod search;
pub mod tile_cache;
pub mod tiles;
pub mod topology;

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
    /// Per raster cell: the road pieces within the default radius of the cell.
    road_cells: RoadCells,
    /// Grid feature id → management unit indices.
    units_by_grid: HashMap<FeatureId, Vec<u32>>,
    /// Parent feature id → children, in file order.
    children: HashMap<FeatureId, Vec<FeatureId>>,
    /// Per feature, its JSON object in placements, rendered on first use (see [`json`]).
    fragments: json::Fragments,
    /// A hash of the content, computed on first use (see [`Atlas::fingerprint`]).
    fingerprint: std::sync::OnceLock<u64>,
    /// The areas of the tiles simplified per zoom band, built on first use ([`topology`]).
    tile_geometry: std::sync::OnceLock<topology::TileGeometry>,
    /// Encoded tiles of this atlas (dies with it: a new generation starts empty).
    tile_cache: tile_cache::TileCache,
    /// The search keys (pinyin, numbers, …), built on the first search ([`search`]).
    search_index: std::sync::OnceLock<search::SearchIndex>,
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
        let mut areas: [Vec<(FeatureId, &MultiPolygon<f64>)>; LAYERS] = Default::default();
        let mut slot_feature: [Vec<FeatureId>; LAYERS] = Default::default();
        for (i, f) in set.features().iter().enumerate() {
            if let (Some(l), Some(a)) = (indexed_layer(f.layer), f.geometry.as_area()) {
                areas[l].push((i as FeatureId, a));
                slot_feature[l].push(i as FeatureId);
            }
        }
        let cell_m = options
            .cell_m
            .unwrap_or_else(|| default_cell_m(&areas[3], &areas[2]));
        let (raster, bboxes) = Raster::build(areas, cell_m);

        let boxes: [BoxTree; LAYERS] = bboxes.map(|list| {
            let items = list
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
        let road_cells = RoadCells::build(&raster, &roads, options.road_radius_m);

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
            fingerprint: std::sync::OnceLock::new(),
            tile_geometry: std::sync::OnceLock::new(),
            search_index: std::sync::OnceLock::new(),
            tile_cache: tile_cache::TileCache::new(tile_cache::DEFAULT_BYTES),
            set,
            generation: None,
            children,
            options,
            raster,
            slot_feature,
            boxes,
            roads,
            road_cells,
            units_by_grid,
        }
    }

    /// Sets the generation number reported with placements.
    pub fn with_generation(mut self, generation: i64) -> Atlas {
        self.generation = Some(generation);
        self
    }

    /// Sets the byte budget of the tile cache (default [`tile_cache::DEFAULT_BYTES`]; 0 = no
    /// cache). The cache starts empty.
    pub fn with_tile_cache_bytes(mut self, bytes: usize) -> Atlas {
        self.tile_cache = tile_cache::TileCache::new(bytes);
        self
    }

    /// The tile cache (its counters and budget).
    pub fn tile_cache(&self) -> &tile_cache::TileCache {
        &self.tile_cache
    }

    /// The simplified tile geometry, built on first use (see [`topology`]).
    pub fn tile_geometry(&self) -> &topology::TileGeometry {
        self.tile_geometry
            .get_or_init(|| topology::TileGeometry::build(&self.set))
    }

    /// Builds the simplified tile geometry now (a server does it before it swaps the atlas in,
    /// so no tile request waits for it).
    pub fn prepare_tiles(&self) -> &Self {
        self.tile_geometry();
        self
    }

    /// A hash of everything the atlas serves (features with their geometry, people and
    /// attributes, and the management units), the same for the same content in every process of
    /// this build: what validators such as tile ETags derive from when there is no generation
    /// number (a server of a file). Computed on first use.
    pub fn fingerprint(&self) -> u64 {
        *self.fingerprint.get_or_init(|| {
            use std::hash::{Hash, Hasher};
            // SipHash with fixed keys: deterministic across processes.
            #[allow(deprecated)]
            let mut h = std::hash::SipHasher::new();
            for f in self.set.features() {
                (f.layer.as_str(), &f.code, &f.name, &f.parent).hash(&mut h);
                f.kind.map(|k| k.as_str()).hash(&mut h);
                for p in &f.people {
                    (
                        p.role.as_str(),
                        &p.name,
                        &p.phone,
                        &p.photo_url,
                        &p.staff_id,
                    )
                        .hash(&mut h);
                }
                serde_json::Value::Object(f.attributes.clone())
                    .to_string()
                    .hash(&mut h);
                let coords: Box<dyn Iterator<Item = &geo::Coord<f64>>> = match &f.geometry {
                    crate::model::Geometry::Area(mp) => Box::new(
                        mp.0.iter()
                            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                            .flat_map(|r| r.0.iter()),
                    ),
                    crate::model::Geometry::Line(ml) => {
                        Box::new(ml.0.iter().flat_map(|l| l.0.iter()))
                    }
                };
                for c in coords {
                    (c.x.to_bits(), c.y.to_bits()).hash(&mut h);
                }
                // Ring and part boundaries: the number of positions per ring.
                match &f.geometry {
                    crate::model::Geometry::Area(mp) => {
                        for p in &mp.0 {
                            p.exterior().0.len().hash(&mut h);
                            p.interiors().iter().for_each(|r| r.0.len().hash(&mut h));
                        }
                    }
                    crate::model::Geometry::Line(ml) => {
                        ml.0.iter().for_each(|l| l.0.len().hash(&mut h));
                    }
                }
            }
            for u in &self.set.management_units {
                serde_json::to_string(u)
                    .unwrap_or_else(|e| e.to_string())
                    .hash(&mut h);
            }
            h.finish()
        })
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
        self.raster
            .locate(lon, lat)
            .map(|id| if id == NONE { None } else { Some(id) })
    }

    /// Who owns `(lon, lat)` (WGS84)?
    pub fn lookup_with(&self, lon: f64, lat: f64, opts: LookupOptions) -> Placement {
        let cell = self.raster.cell_index(lon, lat);
        let ids = cell.map_or([NONE; LAYERS], |i| self.raster.locate_in(i, lon, lat));
        let [district, street, mut grid, mut block] =
            ids.map(|id| if id == NONE { None } else { Some(id) });
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
        let roads = if opts.road_radius_m > 0.0 {
            self.roads_in(cell, lon, lat, opts.road_radius_m)
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

    /// Road segments within `radius_m` of the point, nearest first.
    pub fn roads_near(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<RoadHit> {
        self.roads_in(self.raster.cell_index(lon, lat), lon, lat, radius_m)
    }

    /// [`Atlas::roads_near`] for a point in raster cell `cell`.
    fn roads_in(&self, cell: Option<usize>, lon: f64, lat: f64, radius_m: f64) -> Vec<RoadHit> {
        if radius_m <= self.options.road_radius_m {
            if let Some(cell) = cell {
                // The common case: the pieces listed for the point's cell, if any.
                let pieces = self.road_cells.pieces_of(cell);
                if pieces.is_empty() {
                    return Vec::new();
                }
                let frame = LocalFrame::new(lon, lat);
                let mut best: Vec<RoadHit> = Vec::new();
                for &k in pieces {
                    let (a, b, feature) = self.road_cells.pieces[k as usize];
                    add_road_hit(
                        &mut best,
                        feature,
                        frame.distance_to_segment(a, b),
                        radius_m,
                    );
                }
                sort_road_hits(&mut best);
                return best;
            }
        }
        let frame = LocalFrame::new(lon, lat);
        let (rx, ry) = (
            radius_m / frame.m_per_deg_lon,
            radius_m / frame.m_per_deg_lat,
        );
        let env = AABB::from_corners([lon - rx, lat - ry], [lon + rx, lat + ry]);
        let mut best: Vec<RoadHit> = Vec::new();
        for piece in self.roads.locate_in_envelope_intersecting(&env) {
            let (a, b) = ends(piece.geom());
            let d = frame.distance_to_segment(a, b);
            add_road_hit(&mut best, piece.data, d, radius_m);
        }
        sort_road_hits(&mut best);
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
            let d = self
                .feature(id)
                .geometry
                .as_area()
                .map_or(f64::INFINITY, |a| boundary_distance_m(a, frame));
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

    /// Areas of `layer` (an area layer) whose boundary lies within `radius_m` of the point, with
    /// that distance in metres, nearest first (ties by feature id). An area containing the point
    /// is listed too when its boundary is that near. Used by case routing to find the other
    /// owners of a point near a boundary.
    pub fn areas_near(
        &self,
        layer: Layer,
        lon: f64,
        lat: f64,
        radius_m: f64,
    ) -> Vec<(FeatureId, f64)> {
        let Some(l) = indexed_layer(layer) else {
            return Vec::new();
        };
        if !(lon.is_finite() && lat.is_finite() && radius_m >= 0.0) {
            return Vec::new();
        }
        let frame = LocalFrame::new(lon, lat);
        let (rx, ry) = (
            radius_m / frame.m_per_deg_lon,
            radius_m / frame.m_per_deg_lat,
        );
        let env = AABB::from_corners([lon - rx, lat - ry], [lon + rx, lat + ry]);
        let mut out: Vec<(FeatureId, f64)> = self.boxes[l]
            .locate_in_envelope_intersecting(&env)
            .filter_map(|item| {
                let id = self.slot_feature[l][item.data as usize];
                if self.feature(id).layer != layer {
                    return None;
                }
                let d = self
                    .feature(id)
                    .geometry
                    .as_area()
                    .map_or(f64::INFINITY, |a| boundary_distance_m(a, &frame));
                (d <= radius_m).then_some((id, d))
            })
            .collect();
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        out
    }

    /// The nearest area of `layer` within `radius_m` of the point (by distance to its boundary),
    /// optionally only among the children of `parent`.
    pub fn nearest_area(
        &self,
        layer: Layer,
        lon: f64,
        lat: f64,
        radius_m: f64,
        parent: Option<FeatureId>,
    ) -> Option<(FeatureId, f64)> {
        let l = indexed_layer(layer)?;
        if !(lon.is_finite() && lat.is_finite()) {
            return None;
        }
        self.nearest(l, &LocalFrame::new(lon, lat), lon, lat, radius_m, parent)
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

    /// Memory of the index in bytes (raster cells and their edges, R-trees, road bits) —
    /// everything but the feature set itself.
    pub fn index_heap_bytes(&self) -> usize {
        self.index_heap_breakdown().iter().map(|&(_, b)| b).sum()
    }

    /// [`Atlas::index_heap_bytes`] by part, for benchmarks.
    pub fn index_heap_breakdown(&self) -> Vec<(&'static str, usize)> {
        let rtree_entry = std::mem::size_of::<GeomWithData<Rectangle<[f64; 2]>, u32>>() + 8;
        let line_entry =
            std::mem::size_of::<GeomWithData<rstar::primitives::Line<[f64; 2]>, u32>>() + 8;
        let mut parts = self.raster.heap_breakdown();
        parts.push((
            "slot ids",
            self.slot_feature.iter().map(|v| v.capacity() * 4).sum(),
        ));
        parts.push((
            "area boxes (R-trees)",
            self.boxes.iter().map(|t| t.size() * rtree_entry).sum(),
        ));
        parts.push(("road pieces (R-tree)", self.roads.size() * line_entry));
        parts.push(("road cells", self.road_cells.heap_bytes()));
        parts
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

    /// Features matching a search (see [`search`]: every term a part of the code, name or an
    /// attribute, pinyin or its initials, a whole number), best first; `layer` and `parent`
    /// filter. Returns the total number of matches and the page `offset..offset + limit`. The
    /// index is built on the first call.
    pub fn search(
        &self,
        q: Option<&str>,
        layer: Option<Layer>,
        parent: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> (usize, Vec<FeatureId>) {
        self.search_index
            .get_or_init(|| search::SearchIndex::build(&self.set))
            .search(&self.set, q, layer, parent, offset, limit)
    }

    /// Raster statistics: (cells, cells needing no test, edges stored in the other cells).
    pub fn raster_stats(&self) -> (usize, usize, usize) {
        self.raster.stats()
    }
}

/// The two ends of a stored road piece.
fn ends(l: &rstar::primitives::Line<[f64; 2]>) -> (Coord, Coord) {
    (
        Coord {
            x: l.from[0],
            y: l.from[1],
        },
        Coord {
            x: l.to[0],
            y: l.to[1],
        },
    )
}

fn round_cm(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// About a third of the mean block width (or of the grid width when there are no blocks).
fn default_cell_m(
    blocks: &[(FeatureId, &MultiPolygon<f64>)],
    grids: &[(FeatureId, &MultiPolygon<f64>)],
) -> f64 {
    let list = if blocks.is_empty() { grids } else { blocks };
    if list.is_empty() {
        return 200.0;
    }
    let mut total = 0.0;
    for (_, a) in list {
        if let Some(b) = geo::BoundingRect::bounding_rect(*a) {
            let f = LocalFrame::new(b.center().x, b.center().y);
            total += (b.width() * f.m_per_deg_lon) * (b.height() * f.m_per_deg_lat);
        }
    }
    let mean_width = (total / list.len() as f64).sqrt();
    (mean_width / 3.0).clamp(10.0, 2_000.0)
}

/// Distance in metres from `frame`'s origin to the boundary of `area`.
fn boundary_distance_m(area: &MultiPolygon<f64>, frame: &LocalFrame) -> f64 {
    area.0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|ring| ring.0.windows(2))
        .map(|w| frame.distance_to_segment(w[0], w[1]))
        .fold(f64::INFINITY, f64::min)
}

/// Keeps the smallest distance per road feature, for distances within the radius.
#[inline]
fn add_road_hit(best: &mut Vec<RoadHit>, feature: FeatureId, d: f64, radius_m: f64) {
    if d > radius_m {
        return;
    }
    match best.iter_mut().find(|h| h.feature == feature) {
        Some(h) => h.distance_m = h.distance_m.min(d),
        None => best.push(RoadHit {
            feature,
            distance_m: d,
        }),
    }
}

/// Nearest first; ties by feature id.
fn sort_road_hits(best: &mut [RoadHit]) {
    best.sort_by(|a, b| {
        a.distance_m
            .total_cmp(&b.distance_m)
            .then(a.feature.cmp(&b.feature))
    });
}

/// The road pieces within the default radius of each raster cell, stored only for the cells
/// that have any (a bit per cell, with a rank per 64 cells to find a cell's list).
#[derive(Debug, Default)]
struct RoadCells {
    /// One bit per raster cell: some road piece lies within the default radius of the cell.
    bits: Vec<u64>,
    /// Per word of `bits`: the number of set bits in the words before it.
    rank: Vec<u32>,
    /// Per cell with its bit set, in cell order, plus one: the range of its pieces in `list`.
    starts: Vec<u32>,
    /// Indices into `pieces`.
    list: Vec<u32>,
    /// Every road piece (an edge of a road line) with its feature.
    pieces: Vec<(Coord<f64>, Coord<f64>, FeatureId)>,
}

impl RoadCells {
    fn build(raster: &Raster, roads: &LineTree, radius_m: f64) -> RoadCells {
        let g = &raster.grid;
        let mut out = RoadCells {
            bits: vec![0u64; g.len().div_ceil(64)],
            ..Default::default()
        };
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for piece in roads.iter() {
            let k = out.pieces.len() as u32;
            let (a, b) = ends(piece.geom());
            out.pieces.push((a, b, piece.data));
            let frame = LocalFrame::new(a.x, a.y);
            // Widen by the radius plus 1 % against the variation of the frame across the segment.
            let (rx, ry) = (
                1.01 * radius_m / frame.m_per_deg_lon,
                1.01 * radius_m / frame.m_per_deg_lat,
            );
            let (r0, r1) = (
                g.row_f(a.y.min(b.y) - ry).max(0.0),
                g.row_f(a.y.max(b.y) + ry).min(f64::from(g.nrows) - 1.0),
            );
            let (c0, c1) = (
                g.col_f(a.x.min(b.x) - rx).max(0.0),
                g.col_f(a.x.max(b.x) + rx).min(f64::from(g.ncols) - 1.0),
            );
            if !(r0 <= r1 && c0 <= c1) {
                continue;
            }
            for row in r0 as u32..=r1 as u32 {
                for col in c0 as u32..=c1 as u32 {
                    pairs.push((row * g.ncols + col, k));
                }
            }
        }
        pairs.sort_unstable();
        let mut i = 0;
        while i < pairs.len() {
            let cell = pairs[i].0 as usize;
            out.bits[cell / 64] |= 1 << (cell % 64);
            out.starts.push(out.list.len() as u32);
            while i < pairs.len() && pairs[i].0 as usize == cell {
                out.list.push(pairs[i].1);
                i += 1;
            }
        }
        out.starts.push(out.list.len() as u32);
        let mut n = 0u32;
        out.rank = out
            .bits
            .iter()
            .map(|w| {
                let r = n;
                n += w.count_ones();
                r
            })
            .collect();
        out
    }

    /// The pieces near cell `i`.
    #[inline]
    fn pieces_of(&self, i: usize) -> &[u32] {
        let w = self.bits[i / 64];
        if w >> (i % 64) & 1 == 0 {
            return &[];
        }
        let k = (self.rank[i / 64] + (w & ((1u64 << (i % 64)) - 1)).count_ones()) as usize;
        &self.list[self.starts[k] as usize..self.starts[k + 1] as usize]
    }

    fn heap_bytes(&self) -> usize {
        self.bits.capacity() * 8
            + self.rank.capacity() * 4
            + self.starts.capacity() * 4
            + self.list.capacity() * 4
            + self.pieces.capacity() * std::mem::size_of::<(Coord<f64>, Coord<f64>, FeatureId)>()
    }
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
