//! The areas of the vector tiles, simplified per zoom band with every shared edge simplified once.
//!
//! Built once per atlas (per generation), on the first tile or by [`super::Atlas::prepare_tiles`]:
//!
//! 1. **Project** every ring of the tiled area layers to Web Mercator *world units*: tile units of
//!    zoom 18 with a 4096 extent (2^30 across the world, about 6 cm at the equator), as `u32`.
//!    Repeated positions go; a ring keeps at least three.
//! 2. **Topology**, per group of layers a band shows (district and streets; with grids from
//!    zoom 11; with blocks from 13): positions become vertices (equal coordinates, one vertex). A
//!    vertex is a *node* when its occurrences in the rings do not all have the same two
//!    neighbours — three or more areas meet there, or the set of areas owning the boundary
//!    changes, or a ring touches itself. A ring without a node (an island) gets its smallest
//!    vertex as node, the same one for every ring along it. Between two nodes a ring follows an
//!    *arc*, the same vertices for every area along it (in opposite order on the other side).
//! 3. **Simplify** every arc once per band (Douglas–Peucker, in the arc's canonical direction: from
//!    its smaller end node; a closed arc is first split at its farthest vertex), keeping its end
//!    nodes, with a tolerance of the band's snapping grid ([`super::tiles::snap_grid`]: half a
//!    pixel from zoom 12, a pixel below). A shared arc is simplified the first time a ring uses it
//!    and reused after, so both sides get identical vertices and neighbours meet exactly at every
//!    zoom (no slivers between adjacent areas).
//! 4. **Reassemble** the rings from their simplified arcs. A ring with fewer than three vertices
//!    or less than a pixel of area at the band's zoom is dropped (it cannot be seen), a polygon
//!    whose exterior is dropped goes with its holes, and an area with no polygon left is not in
//!    the band's tiles.
//!
//! Bands ([`BANDS`]): zooms up to 10, 11, 12, 13, 14 and 15, each simplified for its highest zoom;
//! tiles above zoom 15 are cut from the full geometry (a tile there covers a few hundred metres).

use super::FeatureId;
use super::tiles::{min_zoom, snap_grid};
use crate::model::{FeatureSet, Geometry};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::f64::consts::PI;

/// The zoom of the world units (tile units of this zoom, extent 4096).
pub const WORLD_ZOOM: u8 = 18;
const WORLD: f64 = (1u64 << 30) as f64;
const NO: u32 = u32::MAX;

/// The highest zoom of each band; a band serves the zooms above the previous band's.
pub const BANDS: [u8; 6] = [10, 11, 12, 13, 14, 15];

/// The band serving zoom `z`, or `None` above the last band (full geometry).
pub fn band_of(z: u8) -> Option<usize> {
    BANDS.iter().position(|&b| z <= b)
}

/// World units (see the module docs) of a WGS84 position; clamped to the world.
pub fn world(lon: f64, lat: f64) -> [u32; 2] {
    let lat = lat.clamp(-85.051_128_78, 85.051_128_78).to_radians();
    let x = (lon + 180.0) / 360.0 * WORLD;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * WORLD;
    // `as` maps NaN to 0: no panic on any input.
    [
        x.round().clamp(0.0, WORLD - 1.0) as u32,
        y.round().clamp(0.0, WORLD - 1.0) as u32,
    ]
}

/// The simplified areas of one band, flat: features → polygons → rings → points.
#[derive(Debug, Default)]
pub struct Band {
    /// The band's (highest) zoom.
    pub zoom: u8,
    /// Per feature id, plus one: the start of its polygons in `poly_rings`.
    feature_polys: Vec<u32>,
    /// Per polygon, plus one: the start of its rings in `ring_pts` (the first ring is exterior).
    poly_rings: Vec<u32>,
    /// Per ring, plus one: the start of its points in `pts` (open rings: first != last).
    ring_pts: Vec<u32>,
    /// World points.
    pts: Vec<[u32; 2]>,
}

impl Band {
    /// The polygons of feature `id`, each as its rings (exterior first) of world points; empty
    /// when the feature is not in the band or vanished at its zoom.
    pub fn polygons(&self, id: FeatureId) -> impl Iterator<Item = Vec<&[[u32; 2]]>> + '_ {
        let i = id as usize;
        let polys = match (self.feature_polys.get(i), self.feature_polys.get(i + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        polys.map(move |p| {
            (self.poly_rings[p] as usize..self.poly_rings[p + 1] as usize)
                .map(|r| &self.pts[self.ring_pts[r] as usize..self.ring_pts[r + 1] as usize])
                .collect()
        })
    }

    /// Number of points kept.
    pub fn points(&self) -> usize {
        self.pts.len()
    }

    /// Heap bytes.
    pub fn heap_bytes(&self) -> usize {
        (self.feature_polys.capacity() + self.poly_rings.capacity() + self.ring_pts.capacity()) * 4
            + self.pts.capacity() * 8
    }
}

/// Every band of an atlas.
#[derive(Debug, Default)]
pub struct TileGeometry {
    /// One per [`BANDS`] entry.
    pub bands: Vec<Band>,
}

impl TileGeometry {
    /// Builds the bands of `set` (see the module docs).
    pub fn build(set: &FeatureSet) -> TileGeometry {
        // Groups of bands sharing the layers they show.
        let mut groups: Vec<(Vec<u8>, Vec<FeatureId>)> = Vec::new();
        for &bz in &BANDS {
            let ids: Vec<FeatureId> = set
                .features()
                .iter()
                .enumerate()
                .filter(|(_, f)| f.layer.is_area() && min_zoom(f.layer) <= bz)
                .map(|(i, _)| i as FeatureId)
                .collect();
            match groups.last_mut() {
                Some((zs, prev)) if *prev == ids => zs.push(bz),
                _ => groups.push((vec![bz], ids)),
            }
        }
        let mut bands = Vec::with_capacity(BANDS.len());
        for (zooms, ids) in groups {
            let topo = Topology::build(set, &ids);
            let mut built: Vec<Band> = zooms
                .par_iter()
                .map(|&bz| topo.simplify(bz, set.len()))
                .collect();
            bands.append(&mut built);
        }
        TileGeometry { bands }
    }

    /// The band serving zoom `z`, if any.
    pub fn band(&self, z: u8) -> Option<&Band> {
        band_of(z).and_then(|b| self.bands.get(b))
    }

    /// Heap bytes of every band.
    pub fn heap_bytes(&self) -> usize {
        self.bands.iter().map(Band::heap_bytes).sum()
    }
}

/// A polygon's rings (exterior first) as ranges of [`Topology::ids`].
type PolygonRings = Vec<(u32, u32)>;

/// The rings of a group of areas as vertex ids, with the nodes.
struct Topology {
    verts: Vec<[u32; 2]>,
    node: Vec<bool>,
    /// Per feature of the group: (feature id, per polygon its rings as ranges of `ids`).
    features: Vec<(FeatureId, Vec<PolygonRings>)>,
    /// Every ring's vertex ids, concatenated.
    ids: Vec<u32>,
}

impl Topology {
    fn build(set: &FeatureSet, group: &[FeatureId]) -> Topology {
        let mut index: FxHashMap<u64, u32> = FxHashMap::default();
        let mut verts: Vec<[u32; 2]> = Vec::new();
        let mut ids: Vec<u32> = Vec::new();
        let mut features = Vec::with_capacity(group.len());
        for &fid in group {
            let Some(Geometry::Area(mp)) = set.features().get(fid as usize).map(|f| &f.geometry)
            else {
                continue;
            };
            let mut polys = Vec::with_capacity(mp.0.len());
            for poly in &mp.0 {
                let mut rings = Vec::new();
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    let start = ids.len();
                    for c in &ring.0 {
                        let w = world(c.x, c.y);
                        let k = (u64::from(w[0]) << 32) | u64::from(w[1]);
                        let v = *index.entry(k).or_insert_with(|| {
                            verts.push(w);
                            verts.len() as u32 - 1
                        });
                        if ids.len() == start || ids.last() != Some(&v) {
                            ids.push(v);
                        }
                    }
                    while ids.len() > start + 1 && ids.last() == ids.get(start) {
                        ids.pop();
                    }
                    if ids.len() - start < 3 {
                        ids.truncate(start);
                    }
                    rings.push((start as u32, ids.len() as u32));
                }
                polys.push(rings);
            }
            features.push((fid, polys));
        }
        drop(index);
        // Nodes: a vertex whose occurrences do not all have the same two neighbours.
        let mut pair = vec![[NO, NO]; verts.len()];
        let mut node = vec![false; verts.len()];
        let rings = || {
            features
                .iter()
                .flat_map(|(_, polys)| polys.iter().flatten())
                .map(|&(a, b)| a as usize..b as usize)
        };
        for r in rings() {
            let ring = &ids[r];
            let n = ring.len();
            for i in 0..n {
                let (p, v, q) = (ring[(i + n - 1) % n], ring[i], ring[(i + 1) % n]);
                let key = [p.min(q), p.max(q)];
                let slot = &mut pair[v as usize];
                if p == q {
                    node[v as usize] = true;
                } else if slot[0] == NO {
                    *slot = key;
                } else if *slot != key {
                    node[v as usize] = true;
                }
            }
        }
        for r in rings() {
            let ring = &ids[r];
            if !ring.is_empty() && !ring.iter().any(|&v| node[v as usize]) {
                if let Some(&m) = ring.iter().min() {
                    node[m as usize] = true;
                }
            }
        }
        Topology {
            verts,
            node,
            features,
            ids,
        }
    }

    /// The band of zoom `bz` (see the module docs, steps 3 and 4).
    fn simplify(&self, bz: u8, n_features: usize) -> Band {
        let scale = f64::from(1u32 << (WORLD_ZOOM - bz));
        let tol = snap_grid(bz) * scale;
        // One CSS pixel (8 × 8 tile units) at the band's zoom, twice (shoelace sums).
        let min_area2 = 2.0 * 64.0 * scale * scale;
        let mut memo: FxHashMap<(u32, u32), Vec<u32>> = FxHashMap::default();
        let mut band = Band {
            zoom: bz,
            feature_polys: vec![0; n_features + 1],
            poly_rings: vec![0],
            ring_pts: vec![0],
            pts: Vec::new(),
        };
        let mut ring: Vec<u32> = Vec::new();
        let mut section: Vec<u32> = Vec::new();
        let mut fi = 0usize;
        for fid in 0..n_features {
            band.feature_polys[fid] = (band.poly_rings.len() - 1) as u32;
            let Some((f, polys)) = self.features.get(fi) else {
                continue;
            };
            if *f as usize != fid {
                continue;
            }
            fi += 1;
            for rings in polys {
                let first_ring = band.ring_pts.len();
                for (k, &(a, b)) in rings.iter().enumerate() {
                    let src = &self.ids[a as usize..b as usize];
                    ring.clear();
                    self.simplify_ring(src, tol, &mut memo, &mut section, &mut ring);
                    let ok = ring.len() >= 3 && area2(&self.verts, &ring).abs() >= min_area2;
                    if !ok {
                        if k == 0 {
                            break; // no exterior: the polygon and its holes go
                        }
                        continue;
                    }
                    band.pts
                        .extend(ring.iter().map(|&v| self.verts[v as usize]));
                    band.ring_pts.push(band.pts.len() as u32);
                }
                if band.ring_pts.len() > first_ring {
                    band.poly_rings.push((band.ring_pts.len() - 1) as u32);
                }
            }
        }
        band.feature_polys[n_features] = (band.poly_rings.len() - 1) as u32;
        band.pts.shrink_to_fit();
        band.ring_pts.shrink_to_fit();
        band.poly_rings.shrink_to_fit();
        band
    }

    /// Appends the simplified ring `src` (vertex ids, open) to `out`.
    fn simplify_ring(
        &self,
        src: &[u32],
        tol: f64,
        memo: &mut FxHashMap<(u32, u32), Vec<u32>>,
        section: &mut Vec<u32>,
        out: &mut Vec<u32>,
    ) {
        let n = src.len();
        let Some(s) = src.iter().position(|&v| self.node[v as usize]) else {
            return;
        };
        out.push(src[s]);
        let mut i = s;
        loop {
            // The section from the node at `i` to the next node (wrapping).
            section.clear();
            section.push(src[i]);
            let mut j = (i + 1) % n;
            loop {
                section.push(src[j]);
                if self.node[src[j] as usize] {
                    break;
                }
                j = (j + 1) % n;
            }
            let m = section.len();
            let (a, b) = (section[0], section[m - 1]);
            let forward = if a != b {
                a < b
            } else {
                section[1] <= section[m - 2]
            };
            if !forward {
                section.reverse();
            }
            let kept = memo
                .entry((section[0], section[1]))
                .or_insert_with(|| douglas_peucker(section, &self.verts, tol));
            if forward {
                out.extend_from_slice(&kept[1..]);
            } else {
                out.extend(kept.iter().rev().skip(1));
            }
            i = j;
            if i == s {
                break;
            }
        }
        out.pop(); // the start node again
    }
}

/// Twice the signed area of an open ring of vertex ids.
fn area2(verts: &[[u32; 2]], ring: &[u32]) -> f64 {
    let n = ring.len();
    let o = verts[ring[0] as usize];
    let p = |k: usize| {
        let v = verts[ring[k % n] as usize];
        (
            f64::from(v[0]) - f64::from(o[0]),
            f64::from(v[1]) - f64::from(o[1]),
        )
    };
    (0..n)
        .map(|k| {
            let (a, b) = (p(k), p(k + 1));
            a.0 * b.1 - b.0 * a.1
        })
        .sum()
}

/// Squared distance from `p` to the segment `a b`.
fn seg_dist2(p: [u32; 2], a: [u32; 2], b: [u32; 2]) -> f64 {
    let f = |v: [u32; 2]| (f64::from(v[0]), f64::from(v[1]));
    let ((px, py), (ax, ay), (bx, by)) = (f(p), f(a), f(b));
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((px - ax) * dx + (py - ay) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (ax + t * dx - px, ay + t * dy - py);
    qx * qx + qy * qy
}

/// Douglas–Peucker over `seq` (vertex ids; a closed arc when first == last), keeping both ends.
pub(crate) fn douglas_peucker(seq: &[u32], verts: &[[u32; 2]], tol: f64) -> Vec<u32> {
    let n = seq.len();
    if n <= 2 {
        return seq.to_vec();
    }
    let tol2 = tol * tol;
    let at = |k: usize| verts[seq[k] as usize];
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut stack: Vec<(usize, usize)> = Vec::new();
    if seq[0] == seq[n - 1] {
        // A closed arc: split at its farthest vertex first.
        let (k, _) = (1..n - 1).fold((1, -1.0), |best, k| {
            let d = seg_dist2(at(k), at(0), at(0));
            if d > best.1 { (k, d) } else { best }
        });
        keep[k] = true;
        stack.push((0, k));
        stack.push((k, n - 1));
    } else {
        stack.push((0, n - 1));
    }
    while let Some((i, j)) = stack.pop() {
        if j <= i + 1 {
            continue;
        }
        let (mut best, mut dmax) = (i, -1.0);
        for k in i + 1..j {
            let d = seg_dist2(at(k), at(i), at(j));
            if d > dmax {
                best = k;
                dmax = d;
            }
        }
        if dmax > tol2 {
            keep[best] = true;
            stack.push((i, best));
            stack.push((best, j));
        }
    }
    seq.iter()
        .zip(keep)
        .filter_map(|(&v, k)| k.then_some(v))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Feature, Layer};
    use geo::{LineString, MultiPolygon, Polygon};
    use proptest::prelude::*;

    fn area(code: &str, ring: Vec<(f64, f64)>) -> Feature {
        Feature {
            layer: Layer::District,
            code: code.into(),
            name: code.into(),
            parent: None,
            kind: None,
            people: Vec::new(),
            attributes: serde_json::Map::new(),
            geometry: Geometry::Area(MultiPolygon(vec![Polygon::new(
                LineString::from(ring),
                vec![],
            )])),
        }
    }

    /// Two squares side by side sharing a wiggly densified edge from (x0, y0) to (x0, y1).
    fn pair(edge: &[(f64, f64)]) -> FeatureSet {
        let (top, bottom) = (edge[0], edge[edge.len() - 1]);
        // West: counter-clockwise, up the shared edge; east: down it.
        let mut west_ring = vec![(top.0 - 0.05, top.1), (top.0 - 0.05, bottom.1)];
        west_ring.extend(edge.iter().rev().copied());
        west_ring.push((top.0 - 0.05, top.1));
        let mut east_ring: Vec<(f64, f64)> = edge.to_vec();
        east_ring.extend([(top.0 + 0.05, bottom.1), (top.0 + 0.05, top.1), top]);
        FeatureSet::new(vec![area("w", west_ring), area("e", east_ring)], vec![])
            .expect("unique codes")
    }

    fn shared(band: &Band, id: FeatureId) -> Vec<[u32; 2]> {
        let polys: Vec<_> = band.polygons(id).collect();
        polys
            .first()
            .and_then(|p| p.first())
            .map(|r| r.to_vec())
            .unwrap_or_default()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn a_shared_edge_is_simplified_identically_on_both_sides(
            steps in prop::collection::vec((1e-6f64..1e-4, -3e-6f64..3e-6), 3..300)
        ) {
            let (x0, mut y) = (121.3, 30.8);
            let mut edge = vec![(x0, y)];
            for (dy, dx) in &steps {
                y -= dy;
                edge.push((x0 + dx, y));
            }
            let set = pair(&edge);
            let geom = TileGeometry::build(&set);
            for band in &geom.bands {
                let (w, e) = (shared(band, 0), shared(band, 1));
                // The vertices of either ring that lie on the shared edge (strictly inside the
                // squares' x range), in ring order.
                let world_x = world(x0 - 0.01, 0.0)[0]..world(x0 + 0.01, 0.0)[0];
                let on = |r: &[[u32; 2]]| -> Vec<[u32; 2]> {
                    let k = r.iter().position(|p| !world_x.contains(&p[0])).unwrap_or(0);
                    let n = r.len();
                    (0..n).map(|i| r[(k + i) % n]).filter(|p| world_x.contains(&p[0])).collect()
                };
                let (mut ws, es) = (on(&w), on(&e));
                ws.reverse();
                prop_assert!(!es.is_empty() && es.len() >= 2, "zoom {}: {:?}", band.zoom, e);
                prop_assert_eq!(&ws, &es, "zoom {}", band.zoom);
                // the end nodes are kept
                prop_assert_eq!(es[0], world(edge[0].0, edge[0].1));
                let last = edge[edge.len() - 1];
                prop_assert_eq!(es[es.len() - 1], world(last.0, last.1));
            }
        }
    }

    #[test]
    fn tiny_areas_vanish_at_low_zoom_and_stay_at_high() {
        let d = 2e-5; // about 2 m
        let ring = vec![
            (121.3, 30.8),
            (121.3 + d, 30.8),
            (121.3 + d, 30.8 + d),
            (121.3, 30.8 + d),
            (121.3, 30.8),
        ];
        let set = FeatureSet::new(vec![area("t", ring)], vec![]).expect("one");
        let geom = TileGeometry::build(&set);
        assert_eq!(geom.bands.len(), BANDS.len());
        assert_eq!(geom.band(8).map(|b| b.polygons(0).count()), Some(0));
        assert_eq!(geom.band(15).map(|b| b.polygons(0).count()), Some(1));
        assert!(geom.band(16).is_none());
    }

    #[test]
    fn a_closed_arc_splits_at_its_farthest_vertex() {
        let verts = vec![[0, 0], [10, 0], [20, 1], [10, 10], [0, 10]];
        let out = douglas_peucker(&[0, 1, 2, 3, 4, 0], &verts, 2.0);
        assert_eq!(out, vec![0, 2, 3, 4, 0]);
    }
}
