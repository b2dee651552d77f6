//! Mapbox Vector Tiles cut from the atlas.
//!
//! 1. Find the features whose boxes meet the tile (plus a 64/4096 buffer) in the atlas's R-trees.
//! 2. Areas up to zoom 15 come from the atlas's simplified geometry of the tile's zoom band
//!    ([`super::topology`]: every shared edge simplified once per band, so neighbours meet
//!    exactly; areas smaller than a pixel dropped), already in world units (no projection per
//!    tile); above zoom 15 and for lines, the full geometry projected to Web Mercator tile pixels
//!    (extent 4096).
//! 3. Clip polygons to the buffered tile with Sutherland–Hodgman and lines segment by segment;
//!    snap to a grid of whole pixels below zoom 12, half-pixels from 12 ([`snap_grid`]), drop
//!    repeated and collinear points (the encoder), and drop rings that collapse.
//! 4. One MVT layer per gridatlas layer, with `code`, `name`, `layer`, `kind`, `parent`. Layers
//!    appear from a minimum zoom ([`min_zoom`]): blocks and road segments from 13, grids from 11.
//! 5. Encoded tiles are kept in the atlas's bytes-bounded LRU ([`super::tile_cache`]), which dies
//!    with the atlas: a new generation starts with an empty cache.

use super::topology::{Band, WORLD_ZOOM};
use super::{Atlas, FeatureId};
use crate::model::{Feature, Geometry, Layer};
use mvt::{GeomEncoder, GeomType, Tile};
use rstar::AABB;
use std::f64::consts::PI;
use std::sync::Arc;

/// Tile extent in pixels.
pub const EXTENT: u32 = 4096;
const BUFFER: f64 = 64.0;
/// Highest zoom served.
pub const MAX_ZOOM: u8 = 18;

/// The zoom from which a layer is in the tiles.
pub fn min_zoom(layer: Layer) -> u8 {
    match layer {
        Layer::District | Layer::Street => 0,
        Layer::ResidentGrid | Layer::StreetGrid | Layer::ExtendedGrid => 11,
        Layer::Block | Layer::RoadSegment => 13,
    }
}

/// Longitude/latitude of a tile's north-west corner (`x`, `y` may be fractional).
pub fn tile_to_lonlat(z: u8, x: f64, y: f64) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let lon = x / n * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    (lon, lat)
}

struct Proj {
    scale: f64,
    /// World units (see [`super::topology`]) per tile unit of this zoom.
    world: f64,
    ox: f64,
    oy: f64,
    /// Positions snap to multiples of this many tile units (see [`snap_grid`]).
    grid: f64,
}

/// The snapping grid of zoom `z`, in tile units. A tile of extent 4096 is drawn 512 CSS pixels
/// wide, so 8 units are one pixel: below zoom 12 positions snap to whole pixels, from 12 on to
/// half-pixels. Neighbours' shared edges snap identically (no cracks), and the many
/// vertices of a street boundary that fall in one pixel at low zoom collapse to one, which
/// makes low-zoom tiles several times smaller and faster to draw.
pub fn snap_grid(z: u8) -> f64 {
    if z < 12 { 8.0 } else { 4.0 }
}

impl Proj {
    fn new(z: u8, x: u32, y: u32) -> Proj {
        let scale = f64::from(1u32 << z) * f64::from(EXTENT);
        Proj {
            scale,
            world: f64::from(1u32 << (WORLD_ZOOM.saturating_sub(z))),
            ox: f64::from(x) * f64::from(EXTENT),
            oy: f64::from(y) * f64::from(EXTENT),
            grid: snap_grid(z),
        }
    }

    /// Tile units of a point in world units.
    #[inline]
    fn world_px(&self, p: [u32; 2]) -> (f64, f64) {
        (
            f64::from(p[0]) / self.world - self.ox,
            f64::from(p[1]) / self.world - self.oy,
        )
    }

    #[inline]
    fn px(&self, lon: f64, lat: f64) -> (f64, f64) {
        let lat = lat.clamp(-85.051_128_78, 85.051_128_78).to_radians();
        let x = (lon + 180.0) / 360.0 * self.scale - self.ox;
        let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * self.scale - self.oy;
        (x, y)
    }
}

/// Clips a closed ring (pixel coordinates, first != last) to the square [lo, hi]².
fn clip_ring(ring: Vec<(f64, f64)>, lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let mut pts = ring;
    // Each edge of the clip square: (axis, bound, keep-if-greater).
    for (axis, bound, greater) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        if pts.is_empty() {
            break;
        }
        let inside = |p: &(f64, f64)| {
            let v = if axis == 0 { p.0 } else { p.1 };
            if greater { v >= bound } else { v <= bound }
        };
        let cut = |a: (f64, f64), b: (f64, f64)| {
            let (va, vb) = if axis == 0 { (a.0, b.0) } else { (a.1, b.1) };
            let t = (bound - va) / (vb - va);
            (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
        };
        let mut out = Vec::with_capacity(pts.len() + 4);
        let mut prev = pts[pts.len() - 1];
        for &cur in &pts {
            match (inside(&prev), inside(&cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cut(prev, cur)),
                (false, true) => {
                    out.push(cut(prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
            prev = cur;
        }
        pts = out;
    }
    pts
}

/// Snaps to multiples of `grid` tile units and removes repeated points; `None` when fewer than
/// `min` remain.
fn snap(pts: impl Iterator<Item = (f64, f64)>, min: usize, grid: f64) -> Option<Vec<(i32, i32)>> {
    let mut out: Vec<(i32, i32)> = Vec::new();
    for (x, y) in pts {
        let p = (
            ((x / grid).round() * grid) as i32,
            ((y / grid).round() * grid) as i32,
        );
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    if min > 2 && out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    (out.len() >= min).then_some(out)
}

fn ring_area2(r: &[(i32, i32)]) -> i64 {
    let n = r.len();
    (0..n)
        .map(|i| {
            let (a, b) = (r[i], r[(i + 1) % n]);
            i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
        })
        .sum()
}

/// An area from the full geometry. `bounds` is the buffered tile in degrees (west, south, east,
/// north): of a run of consecutive vertices beyond the same side of it only the first and the
/// last are projected — clipping gives the same polygon, and a tile at zoom 18 no longer projects
/// every vertex of the district's boundary.
fn encode_area(
    f: &Feature,
    proj: &Proj,
    bounds: [f64; 4],
) -> Result<Option<mvt::GeomData>, mvt::Error> {
    let Geometry::Area(mp) = &f.geometry else {
        return Ok(None);
    };
    let [w, s, e, n] = bounds;
    let side = |c: &geo::Coord<f64>| -> u8 {
        if c.x < w {
            1
        } else if c.x > e {
            2
        } else if c.y < s {
            3
        } else if c.y > n {
            4
        } else {
            0
        }
    };
    encode_polygons(
        mp.0.iter().map(|poly| {
            std::iter::once(poly.exterior())
                .chain(poly.interiors())
                .map(|ring| {
                    let pts = &ring.0[..ring.0.len().saturating_sub(1)];
                    let k = pts.len();
                    let sides: Vec<u8> = pts.iter().map(side).collect();
                    pts.iter()
                        .enumerate()
                        .filter(|&(i, _)| {
                            let me = sides[i];
                            me == 0 || sides[(i + k - 1) % k] != me || sides[(i + 1) % k] != me
                        })
                        .map(|(_, c)| proj.px(c.x, c.y))
                        .collect()
                })
                .collect()
        }),
        proj,
    )
}

/// An area from a band's simplified geometry (world units, open rings).
fn encode_band_area(
    band: &Band,
    id: FeatureId,
    proj: &Proj,
) -> Result<Option<mvt::GeomData>, mvt::Error> {
    encode_polygons(
        band.polygons(id).map(|rings| {
            rings
                .into_iter()
                .map(|r| r.iter().map(|&p| proj.world_px(p)).collect())
                .collect()
        }),
        proj,
    )
}

/// Polygons (rings of tile units, exterior first, open) clipped, snapped and encoded.
fn encode_polygons(
    polys: impl Iterator<Item = Vec<Vec<(f64, f64)>>>,
    proj: &Proj,
) -> Result<Option<mvt::GeomData>, mvt::Error> {
    let (lo, hi) = (-BUFFER, f64::from(EXTENT) + BUFFER);
    let mut enc = GeomEncoder::<f64>::new(GeomType::Polygon);
    let mut any = false;
    for rings in polys {
        let mut exterior_kept = false;
        for (i, pts) in rings.into_iter().enumerate() {
            if i > 0 && !exterior_kept {
                break;
            }
            // Wholly outside on one side: nothing of it is in the tile.
            let outside = |f: fn(&(f64, f64)) -> f64, below: bool| {
                pts.iter()
                    .all(|p| if below { f(p) < lo } else { f(p) > hi })
            };
            if outside(|p| p.0, true)
                || outside(|p| p.0, false)
                || outside(|p| p.1, true)
                || outside(|p| p.1, false)
            {
                if i == 0 {
                    break;
                }
                continue;
            }
            let clipped = clip_ring(pts, lo, hi);
            let Some(r) = snap(clipped.into_iter(), 3, proj.grid) else {
                continue;
            };
            if ring_area2(&r) == 0 {
                continue;
            }
            for &(x, y) in &r {
                enc.add_point(f64::from(x), f64::from(y))?;
            }
            enc.complete_geom()?;
            if i == 0 {
                exterior_kept = true;
            }
            any = true;
        }
    }
    if any {
        enc.encode().map(Some)
    } else {
        Ok(None)
    }
}

fn encode_line(f: &Feature, proj: &Proj) -> Result<Option<mvt::GeomData>, mvt::Error> {
    let Geometry::Line(ml) = &f.geometry else {
        return Ok(None);
    };
    let (lo, hi) = (-BUFFER, f64::from(EXTENT) + BUFFER);
    let mut enc = GeomEncoder::<f64>::new(GeomType::Linestring);
    let mut any = false;
    for ls in &ml.0 {
        let pts: Vec<(f64, f64)> = ls.0.iter().map(|c| proj.px(c.x, c.y)).collect();
        // Keep the runs of segments that touch the buffered tile.
        let mut run: Vec<(f64, f64)> = Vec::new();
        let mut flush =
            |run: &mut Vec<(f64, f64)>, enc: &mut GeomEncoder<f64>| -> Result<(), mvt::Error> {
                if let Some(s) = snap(run.drain(..), 2, proj.grid) {
                    for (x, y) in s {
                        enc.add_point(f64::from(x), f64::from(y))?;
                    }
                    enc.complete_geom()?;
                    any = true;
                }
                Ok(())
            };
        for w in pts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let touches = a.0.max(b.0) >= lo
                && a.0.min(b.0) <= hi
                && a.1.max(b.1) >= lo
                && a.1.min(b.1) <= hi;
            if touches {
                if run.is_empty() {
                    run.push(a);
                }
                run.push(b);
            } else {
                flush(&mut run, &mut enc)?;
            }
        }
        flush(&mut run, &mut enc)?;
    }
    if any {
        enc.encode().map(Some)
    } else {
        Ok(None)
    }
}

/// Why a tile could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    /// No such tile: zoom above [`MAX_ZOOM`] or a column/row outside the zoom's range.
    #[error("no tile {z}/{x}/{y} (zoom 0..={MAX_ZOOM}, column and row below 2^zoom)")]
    Address {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// The MVT encoder refused the tile (a bug, not a bad request).
    #[error("encoding the tile failed: {0}")]
    Encode(#[from] mvt::Error),
}

impl Atlas {
    /// The vector tile `z/x/y` (uncompressed protobuf bytes), from the atlas's tile cache or
    /// built and kept there.
    pub fn tile(&self, z: u8, x: u32, y: u32) -> Result<Vec<u8>, TileError> {
        self.tile_shared(z, x, y).map(|b| b.to_vec())
    }

    /// [`Atlas::tile`], sharing the cached bytes.
    pub fn tile_shared(&self, z: u8, x: u32, y: u32) -> Result<Arc<[u8]>, TileError> {
        if let Some(b) = self.tile_cache.get((z, x, y)) {
            return Ok(b);
        }
        let b: Arc<[u8]> = self.tile_uncached(z, x, y)?.into();
        self.tile_cache.put((z, x, y), b.clone());
        Ok(b)
    }

    /// The vector tile `z/x/y`, built now (no cache).
    pub fn tile_uncached(&self, z: u8, x: u32, y: u32) -> Result<Vec<u8>, TileError> {
        self.build_tile(z, x, y, true)
    }

    /// The vector tile `z/x/y` cut from the full geometry at every zoom, as tiles were before
    /// the zoom bands (no cache): the reference of tests and benchmarks.
    pub fn tile_full_geometry(&self, z: u8, x: u32, y: u32) -> Result<Vec<u8>, TileError> {
        self.build_tile(z, x, y, false)
    }

    fn build_tile(&self, z: u8, x: u32, y: u32, bands: bool) -> Result<Vec<u8>, TileError> {
        if z > MAX_ZOOM || x >= (1u32 << z) || y >= (1u32 << z) {
            return Err(TileError::Address { z, x, y });
        }
        let band = if bands {
            self.tile_geometry().band(z)
        } else {
            None
        };
        let b = BUFFER / f64::from(EXTENT);
        let (w, n) = tile_to_lonlat(z, f64::from(x) - b, f64::from(y) - b);
        let (e, s) = tile_to_lonlat(z, f64::from(x) + 1.0 + b, f64::from(y) + 1.0 + b);
        let env = AABB::from_corners([w, s], [e, n]);
        let proj = Proj::new(z, x, y);

        // Candidate features per output layer, in file order.
        let mut by_layer: Vec<(Layer, Vec<FeatureId>)> =
            Layer::ALL.iter().map(|&l| (l, Vec::new())).collect();
        for (l, tree) in self.boxes.iter().enumerate() {
            for item in tree.locate_in_envelope_intersecting(&env) {
                let id = self.slot_feature[l][item.data as usize];
                let layer = self.feature(id).layer;
                if z >= min_zoom(layer) {
                    if let Some(entry) = by_layer.iter_mut().find(|(ll, _)| *ll == layer) {
                        entry.1.push(id);
                    }
                }
            }
        }
        if z >= min_zoom(Layer::RoadSegment) {
            let roads = &mut by_layer[Layer::ALL.len() - 1].1;
            for piece in self.roads.locate_in_envelope_intersecting(&env) {
                roads.push(piece.data);
            }
        }

        let mut tile = Tile::new(EXTENT);
        for (layer, mut ids) in by_layer {
            if ids.is_empty() {
                continue;
            }
            ids.sort_unstable();
            ids.dedup();
            let mut out = tile.create_layer(layer.as_str());
            for id in ids {
                let f = self.feature(id);
                let geom = if layer.is_area() {
                    match band {
                        Some(b) => encode_band_area(b, id, &proj),
                        None => encode_area(f, &proj, [w, s, e, n]),
                    }
                } else {
                    encode_line(f, &proj)
                };
                let Some(geom) = geom? else { continue };
                let mut feat = out.into_feature(geom);
                feat.set_id(u64::from(id) + 1);
                feat.add_tag_string("code", &f.code);
                feat.add_tag_string("name", &f.name);
                feat.add_tag_string("layer", layer.as_str());
                if let Some(k) = f.kind {
                    feat.add_tag_string("kind", k.as_str());
                }
                if let Some(p) = &f.parent {
                    feat.add_tag_string("parent", p);
                }
                out = feat.into_layer();
            }
            if out.num_features() > 0 {
                tile.add_layer(out)?;
            }
        }
        Ok(tile.to_bytes()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapping_collapses_a_pixel_and_keeps_shared_edges_identical() {
        // a densified shared edge seen from both sides, in opposite directions
        let edge: Vec<(f64, f64)> = (0..=100)
            .map(|i| (100.0 + f64::from(i) * 0.37, 200.0 + f64::from(i) * 0.11))
            .collect();
        let a = snap(edge.iter().copied(), 2, snap_grid(8)).expect("kept");
        let mut b = snap(edge.iter().rev().copied(), 2, snap_grid(8)).expect("kept");
        b.reverse();
        assert_eq!(a, b, "both sides of a shared edge snap alike");
        // 101 positions over 37 units: a few pixels at low zoom
        assert!(a.len() <= 6, "{a:?}");
        assert!(a.iter().all(|&(x, y)| x % 8 == 0 && y % 8 == 0));
        let fine = snap(edge.iter().copied(), 2, snap_grid(14)).expect("kept");
        assert!(fine.len() > a.len());
    }

    #[test]
    fn projecting_only_the_ends_of_outside_runs_gives_the_same_tile() {
        // A dense wiggly ring, much larger than the tile at zoom 16, around the tile's corner.
        let (z, x, y) = (16u8, 54_900u32, 26_850u32);
        let (lon0, lat0) = tile_to_lonlat(z, f64::from(x), f64::from(y));
        let ring: Vec<(f64, f64)> = (0..=4_000)
            .map(|i| {
                let a = f64::from(i % 4_000) / 4_000.0 * std::f64::consts::TAU;
                let r = 0.01 * (1.0 + 0.02 * (a * 37.0).sin());
                (lon0 + r * a.cos(), lat0 + 0.8 * r * a.sin())
            })
            .collect();
        let f = Feature {
            layer: Layer::District,
            code: "d".into(),
            name: "d".into(),
            parent: None,
            kind: None,
            people: Vec::new(),
            attributes: serde_json::Map::new(),
            geometry: Geometry::Area(geo::MultiPolygon(vec![geo::Polygon::new(
                geo::LineString::from(ring),
                vec![],
            )])),
        };
        let proj = Proj::new(z, x, y);
        let b = BUFFER / f64::from(EXTENT);
        let (w, n) = tile_to_lonlat(z, f64::from(x) - b, f64::from(y) - b);
        let (e, s) = tile_to_lonlat(z, f64::from(x) + 1.0 + b, f64::from(y) + 1.0 + b);
        let bytes = |bounds: [f64; 4]| -> Vec<u8> {
            let geom = encode_area(&f, &proj, bounds)
                .expect("encodes")
                .expect("in the tile");
            let mut tile = Tile::new(EXTENT);
            let layer = tile.create_layer("d");
            let layer = layer.into_feature(geom).into_layer();
            tile.add_layer(layer).expect("layer");
            tile.to_bytes().expect("bytes")
        };
        let inf = f64::INFINITY;
        assert_eq!(bytes([w, s, e, n]), bytes([-inf, -inf, inf, inf]));
    }

    #[test]
    fn clipping_keeps_the_corner_of_a_big_polygon() {
        let big = vec![
            (-100.0, -100.0),
            (5000.0, -100.0),
            (5000.0, 5000.0),
            (-100.0, 5000.0),
        ];
        let c = clip_ring(big, 0.0, 4096.0);
        assert_eq!(c.len(), 4);
        assert!(c.contains(&(0.0, 0.0)) && c.contains(&(4096.0, 4096.0)));
    }

    #[test]
    fn tile_corners_round_trip() {
        let (lon, lat) = tile_to_lonlat(0, 0.0, 0.0);
        assert!((lon + 180.0).abs() < 1e-9 && (lat - 85.0511).abs() < 1e-3);
        let p = Proj::new(14, 13709, 6710);
        let (lon, lat) = tile_to_lonlat(14, 13709.5, 6710.5);
        let (x, y) = p.px(lon, lat);
        assert!(
            (x - 2048.0).abs() < 1e-6 && (y - 2048.0).abs() < 1e-6,
            "{x} {y}"
        );
    }
}
