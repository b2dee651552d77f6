//! From cell labels to polygons with identical shared edges.
//!
//! 1. Every cell gets an *atom*: the tuple of all its labels (street, grid, block, extra block).
//!    Every area of every layer is a union of atoms.
//! 2. Mesh edges between different atoms are boundary edges. On a hexagonal mesh every vertex
//!    touches three cells, so a vertex has 0, 2 or 3 boundary edges; vertices with 3 are *nodes*.
//! 3. Boundary edges are chained from node to node (or around a closed loop): every chain
//!    separates the same two atoms along its whole length.
//! 4. Chains are simplified once, keeping their end nodes. A vertex is removed only when the
//!    triangle it spans with its neighbours contains no other live vertex or protected point
//!    (exact `orient2d`), which keeps the whole arrangement planar: no new crossings, and every
//!    protected point (road-segment vertices, defect points) stays on its side of every boundary.
//! 5. The rings of an area are the chains with the area on exactly one side, oriented with the
//!    area on the left and linked end to start. Counter-clockwise rings are exteriors, clockwise
//!    rings holes (RFC 7946). Since every ring is made of the same simplified chains, two areas
//!    that share a border have identical coordinates along it.

use super::layout::Layout;
use super::mesh::Mesh;
use super::partition::NONE;
use geo::{Coord, LineString, MultiPolygon, Polygon};
use std::collections::HashMap;

/// A chain of boundary vertices between two atoms.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Vertices (indices into [`Arrangement::coords`]); first == last for a closed loop.
    pub verts: Vec<u32>,
    /// Atom on the left.
    pub left: u32,
    /// Atom on the right.
    pub right: u32,
}

/// All boundaries of a layout.
pub struct Arrangement {
    /// Coordinates of every boundary vertex (lon/lat, rounded).
    pub coords: Vec<Coord<f64>>,
    /// Atoms: `[street, grid, block, extra]`.
    pub atoms: Vec<[u32; 4]>,
    /// Chains.
    pub chains: Vec<Chain>,
}

/// Builds the arrangement of `lay`'s labels.
pub fn arrangement(lay: &Layout) -> Arrangement {
    let mesh: &Mesh = &lay.mesh;
    let n = mesh.len();
    let mut atom_of = vec![0u32; n];
    let mut atoms: Vec<[u32; 4]> = vec![[NONE; 4]];
    let mut index: HashMap<[u32; 4], u32> = HashMap::new();
    index.insert([NONE; 4], 0);
    for (c, a) in atom_of.iter_mut().enumerate() {
        let key = [lay.street[c], lay.grid[c], lay.block[c], lay.extra[c]];
        *a = *index.entry(key).or_insert_with(|| {
            atoms.push(key);
            atoms.len() as u32 - 1
        });
    }
    // Boundary edges (a → b with atom `left` on the left).
    let mut slot = vec![NONE; mesh.vertex_count()];
    let mut coords = Vec::new();
    let mut edges: Vec<[u32; 4]> = Vec::new();
    let mut vid_of = |v: u32, coords: &mut Vec<Coord<f64>>| -> u32 {
        let s = &mut slot[v as usize];
        if *s == NONE {
            *s = coords.len() as u32;
            coords.push(mesh.vertex_lonlat(v));
        }
        *s
    };
    for c in 0..n {
        let cs = mesh.corners(c);
        let nbs = mesh.neighbours(c);
        for k in 0..3 {
            let Some(nb) = nbs[k] else { continue };
            let (a, b) = (atom_of[c], atom_of[nb]);
            if a != b {
                let va = vid_of(cs[k], &mut coords);
                let vb = vid_of(cs[(k + 1) % 6], &mut coords);
                edges.push([va, vb, a, b]);
            }
        }
    }
    let nv = coords.len();
    let mut adj = vec![[NONE; 3]; nv];
    let mut deg = vec![0u8; nv];
    for (e, ed) in edges.iter().enumerate() {
        for &v in &ed[..2] {
            let d = &mut deg[v as usize];
            if (*d as usize) < 3 {
                adj[v as usize][*d as usize] = e as u32;
            }
            *d += 1;
        }
    }
    let mut used = vec![false; edges.len()];
    let mut chains = Vec::new();
    let walk = |start: u32, e0: u32, used: &mut Vec<bool>| -> Chain {
        let mut verts = vec![start];
        let ed = edges[e0 as usize];
        let (left, right) = if ed[0] == start {
            (ed[2], ed[3])
        } else {
            (ed[3], ed[2])
        };
        let mut v = start;
        let mut e = e0;
        loop {
            used[e as usize] = true;
            let ed = edges[e as usize];
            let w = if ed[0] == v { ed[1] } else { ed[0] };
            verts.push(w);
            if deg[w as usize] != 2 || w == start {
                break;
            }
            let [x, y, _] = adj[w as usize];
            let next = if x == e { y } else { x };
            if used[next as usize] {
                break;
            }
            v = w;
            e = next;
        }
        Chain { verts, left, right }
    };
    for v in 0..nv {
        if deg[v] != 2 {
            for &e in adj[v].iter().take((deg[v] as usize).min(3)) {
                if !used[e as usize] {
                    chains.push(walk(v as u32, e, &mut used));
                }
            }
        }
    }
    for e in 0..edges.len() {
        if !used[e] {
            let start = edges[e][0];
            chains.push(walk(start, e as u32, &mut used));
        }
    }
    Arrangement {
        coords,
        atoms,
        chains,
    }
}

/// A bucket index of points for the emptiness test.
struct PointIndex {
    cell: f64,
    keys: Vec<u64>,
    ids: Vec<u32>,
}

fn key(ix: i64, iy: i64) -> u64 {
    ((ix as u64) << 32) ^ (iy as u64 & 0xFFFF_FFFF)
}

impl PointIndex {
    fn new(points: &[Coord<f64>], cell: f64) -> Self {
        let mut kv: Vec<(u64, u32)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    key((p.x / cell).floor() as i64, (p.y / cell).floor() as i64),
                    i as u32,
                )
            })
            .collect();
        kv.sort_unstable();
        PointIndex {
            cell,
            keys: kv.iter().map(|x| x.0).collect(),
            ids: kv.iter().map(|x| x.1).collect(),
        }
    }

    fn query(&self, lo: Coord<f64>, hi: Coord<f64>, mut f: impl FnMut(u32) -> bool) -> bool {
        let (x0, x1) = (
            (lo.x / self.cell).floor() as i64,
            (hi.x / self.cell).floor() as i64,
        );
        let (y0, y1) = (
            (lo.y / self.cell).floor() as i64,
            (hi.y / self.cell).floor() as i64,
        );
        for ix in x0..=x1 {
            for iy in y0..=y1 {
                let k = key(ix, iy);
                let s = self.keys.partition_point(|&x| x < k);
                for j in s..self.keys.len() {
                    if self.keys[j] != k {
                        break;
                    }
                    if f(self.ids[j]) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: c.x, y: c.y },
    )
}

/// Whether `p` lies in the closed triangle `u v w` (or on segment `u w` when degenerate).
fn in_closed_triangle(u: Coord<f64>, v: Coord<f64>, w: Coord<f64>, p: Coord<f64>) -> bool {
    let s = orient(u, v, w);
    if s == 0.0 {
        return orient(u, w, p) == 0.0
            && p.x >= u.x.min(w.x).min(v.x)
            && p.x <= u.x.max(w.x).max(v.x)
            && p.y >= u.y.min(w.y).min(v.y)
            && p.y <= u.y.max(w.y).max(v.y);
    }
    let (a, b, c) = (orient(u, v, p), orient(v, w, p), orient(w, u, p));
    if s > 0.0 {
        a >= 0.0 && b >= 0.0 && c >= 0.0
    } else {
        a <= 0.0 && b <= 0.0 && c <= 0.0
    }
}

/// Simplifies every chain in place (see the module docs). `eps_m` is the largest distance, in
/// metres, between a removed vertex and the segment that replaces it.
pub fn simplify(
    arr: &mut Arrangement,
    protected: &[Coord<f64>],
    eps_m: f64,
    m_per_deg: (f64, f64),
) {
    let nv = arr.coords.len();
    let mut all = arr.coords.clone();
    all.extend_from_slice(protected);
    let index = PointIndex::new(&all, 0.002);
    let mut alive = vec![true; all.len()];
    let dist_m = |p: Coord<f64>, a: Coord<f64>, b: Coord<f64>| -> f64 {
        let t = |c: Coord<f64>| Coord {
            x: (c.x - a.x) * m_per_deg.0,
            y: (c.y - a.y) * m_per_deg.1,
        };
        crate::geometry::measure::point_segment_distance(t(p), Coord { x: 0.0, y: 0.0 }, t(b))
    };
    for chain in &mut arr.chains {
        let vs = &chain.verts;
        let n = vs.len();
        if n < 4 {
            continue;
        }
        let closed = vs[0] == vs[n - 1];
        // Short chains keep more detail: the tolerance shrinks with the chain's length.
        let length: f64 = vs
            .windows(2)
            .map(|w| {
                let (a, b) = (all[w[0] as usize], all[w[1] as usize]);
                ((b.x - a.x) * m_per_deg.0).hypot((b.y - a.y) * m_per_deg.1)
            })
            .sum();
        let eps_m = (0.1 * length).clamp(eps_m.min(6.0), eps_m);
        let min_interior = if closed { 3 } else { 1 };
        let mut out = vec![vs[0]];
        let mut removed: Vec<u32> = Vec::new();
        for i in 1..n - 1 {
            let kept_interior = out.len() - 1;
            let left_after = n - 2 - i; // interior vertices after this one
            let must_keep = kept_interior + left_after < min_interior;
            let (u, v, w) = (out[out.len() - 1], vs[i], vs[i + 1]);
            let (cu, cv, cw) = (all[u as usize], all[v as usize], all[w as usize]);
            let ok = !must_keep
                && dist_m(cv, cu, cw) <= eps_m
                && removed
                    .iter()
                    .all(|&r| dist_m(all[r as usize], cu, cw) <= eps_m)
                && {
                    let lo = Coord {
                        x: cu.x.min(cv.x).min(cw.x),
                        y: cu.y.min(cv.y).min(cw.y),
                    };
                    let hi = Coord {
                        x: cu.x.max(cv.x).max(cw.x),
                        y: cu.y.max(cv.y).max(cw.y),
                    };
                    !index.query(lo, hi, |id| {
                        id != u && id != v && id != w && alive[id as usize] && {
                            let p = all[id as usize];
                            // A point coinciding with u or w (another id) blocks nothing new.
                            p != cu && p != cw && in_closed_triangle(cu, cv, cw, p)
                        }
                    })
                };
            if ok {
                alive[v as usize] = false;
                removed.push(v);
            } else {
                out.push(v);
                removed.clear();
            }
        }
        out.push(vs[n - 1]);
        chain.verts = out;
    }
    debug_assert!(alive.len() >= nv);
}

/// Regions of one level an atom belongs to.
pub type Membership = dyn Fn(&[u32; 4]) -> [u32; 2];

/// Builds the multipolygon of every region of one level (`count` regions), where `member(atom)`
/// gives the (up to two, [`NONE`] = none) regions an atom belongs to.
pub fn polygons(arr: &Arrangement, count: usize, member: &Membership) -> Vec<MultiPolygon<f64>> {
    let mem: Vec<[u32; 2]> = arr.atoms.iter().map(member).collect();
    let mut lists: Vec<Vec<(u32, bool)>> = vec![Vec::new(); count];
    for (ci, ch) in arr.chains.iter().enumerate() {
        let (l, r) = (mem[ch.left as usize], mem[ch.right as usize]);
        for &x in &l {
            if x != NONE && !r.contains(&x) && (x as usize) < count {
                lists[x as usize].push((ci as u32, false));
            }
        }
        for &x in &r {
            if x != NONE && !l.contains(&x) && (x as usize) < count {
                lists[x as usize].push((ci as u32, true));
            }
        }
    }
    lists.iter().map(|l| assemble(arr, l)).collect()
}

fn assemble(arr: &Arrangement, list: &[(u32, bool)]) -> MultiPolygon<f64> {
    let ends = |&(ci, rev): &(u32, bool)| -> (u32, u32) {
        let v = &arr.chains[ci as usize].verts;
        let (a, b) = (v[0], v[v.len() - 1]);
        if rev { (b, a) } else { (a, b) }
    };
    let mut by_start: Vec<(u32, usize)> = list
        .iter()
        .enumerate()
        .map(|(i, e)| (ends(e).0, i))
        .collect();
    by_start.sort_unstable();
    let mut used = vec![false; list.len()];
    let mut rings: Vec<LineString<f64>> = Vec::new();
    for i in 0..list.len() {
        if used[i] {
            continue;
        }
        let start = ends(&list[i]).0;
        let mut pts: Vec<Coord<f64>> = Vec::new();
        let mut cur = i;
        loop {
            used[cur] = true;
            let (ci, rev) = list[cur];
            let v = &arr.chains[ci as usize].verts;
            let it: Box<dyn Iterator<Item = &u32>> = if rev {
                Box::new(v.iter().rev())
            } else {
                Box::new(v.iter())
            };
            for (k, &x) in it.enumerate() {
                if k == 0 && !pts.is_empty() {
                    continue;
                }
                pts.push(arr.coords[x as usize]);
            }
            let end = ends(&list[cur]).1;
            if end == start {
                break;
            }
            let s = by_start.partition_point(|&(v, _)| v < end);
            let next = by_start[s..]
                .iter()
                .take_while(|&&(v, _)| v == end)
                .find(|&&(_, j)| !used[j])
                .map(|&(_, j)| j);
            match next {
                Some(j) => cur = j,
                None => break,
            }
        }
        if pts.len() >= 4 {
            rings.push(LineString(pts));
        }
    }
    let mut exteriors: Vec<(f64, LineString<f64>, Vec<LineString<f64>>)> = Vec::new();
    let mut holes = Vec::new();
    for r in rings {
        let a = signed_area(&r);
        if a > 0.0 {
            exteriors.push((a, r, Vec::new()));
        } else {
            holes.push(r);
        }
    }
    for h in holes {
        let p = h.0[0];
        let mut best: Option<usize> = None;
        for (i, (a, ext, _)) in exteriors.iter().enumerate() {
            if crate::geometry::pip::ring_crossings(ext, p.x, p.y) % 2 == 1
                && best.is_none_or(|b| *a < exteriors[b].0)
            {
                best = Some(i);
            }
        }
        if let Some(b) = best.or(if exteriors.is_empty() { None } else { Some(0) }) {
            exteriors[b].2.push(h);
        }
    }
    MultiPolygon(
        exteriors
            .into_iter()
            .map(|(_, e, h)| Polygon::new(e, h))
            .collect(),
    )
}

/// Twice the signed area (shoelace), positive for counter-clockwise rings.
pub fn signed_area(r: &LineString<f64>) -> f64 {
    let o = r.0[0];
    r.0.windows(2)
        .map(|w| (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_triangle_includes_its_boundary() {
        let c = |x: f64, y: f64| Coord { x, y };
        let (u, v, w) = (c(0.0, 0.0), c(1.0, 2.0), c(2.0, 0.0));
        assert!(in_closed_triangle(u, v, w, c(1.0, 0.5)));
        assert!(
            in_closed_triangle(u, v, w, c(1.0, 0.0)),
            "on the shortcut u–w"
        );
        assert!(!in_closed_triangle(u, v, w, c(1.0, -0.1)));
        assert!(!in_closed_triangle(u, v, w, c(3.0, 0.0)));
        // Degenerate (collinear) triangle: only points on the segment count.
        let (u, v, w) = (c(0.0, 0.0), c(1.0, 0.0), c(2.0, 0.0));
        assert!(in_closed_triangle(u, v, w, c(1.5, 0.0)));
        assert!(!in_closed_triangle(u, v, w, c(1.5, 0.1)));
    }

    #[test]
    fn signed_area_is_positive_counter_clockwise() {
        let ring = LineString::from(vec![
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 1.0),
            (0.0, 1.0),
            (0.0, 0.0),
        ]);
        assert!(signed_area(&ring) > 0.0);
    }
}
