//! The coverage engine behind the `overlap`, `gap`, `containment` and `sliver` rules.
//!
//! A *scope* is a parent area and its children that must tile it: the district and its streets,
//! a street and its grids of the three kinds together, a grid and its blocks.
//!
//! 1. **Edge matching.** Every ring edge of every child is taken in the direction that keeps the
//!    child's inside on its left (shells counter-clockwise, holes clockwise, whatever the input
//!    orientation); the parent's edges are taken reversed. Edges are keyed by the bit patterns of
//!    their end positions, sorted, and summed with their direction. When the children tile the
//!    parent exactly, every edge cancels (it is shared by two children in opposite directions, or
//!    by a child and the reversed parent): the sum of the children's indicator functions minus
//!    the parent's has no boundary, hence is zero everywhere — no overlap, no gap, nothing
//!    outside. That costs one sort of the scope's edges, O(E log E), and nothing else.
//! 2. **Defect regions.** Edges that do not cancel bound the regions where the children do not
//!    tile the parent (overlaps, gaps, parts outside, or mere T-junctions and snapping noise).
//!    They are grouped into connected clusters (shared end positions); clusters whose boxes
//!    (grown by 1 m) touch are merged, so every defect region lies wholly inside one cluster box.
//! 3. **Exact polygons, locally.** Per cluster box, only the children whose box meets it are
//!    clipped to it, and the defect polygons are computed with boolean operations (i_overlay):
//!    pairwise intersections of candidates whose boxes meet (overlaps, [`super::overlap`]), the
//!    clipped parent minus the union of the clipped children (gaps, [`super::gap`]), each clipped
//!    child minus the parent (outside, [`super::containment`]). A huge polygon touching thousands of others costs one clip per cluster, never a pass per
//!    neighbour.
//! 4. **Tolerance.** Each defect polygon is measured geodesically; those narrower than the
//!    tolerance (width = 2·area/perimeter) are dropped (by the rules), those narrower than the
//!    sliver width become slivers ([`super::sliver`]). [`to_finding`] turns each defect into a
//!    finding with its rule's message; [`super::cross`] uses the same steps across scopes.
//!
//! Streets without a district feature form a scope without a parent: only overlaps are checked,
//! by testing the midpoints of the edges that do not cancel against the other streets.

use super::findings::{Defect, defect_finding};
use super::geom::{
    bbox, distance_to_boundary_m, expand, metres_to_deg, oriented, rect_polygon, rect_within,
    rects_intersect, ring_signed_area,
};
use super::types::{Ctx, Finding, Rule};
use super::{containment, gap, overlap, sliver};
use crate::geometry::pip;
use crate::model::Layer;
use geo::{Area, BooleanOps, Coord, LineString, MultiPolygon, Rect};
use rustc_hash::FxHashMap;
use std::collections::{BTreeSet, HashMap};

/// A parent and the children that must tile it.
#[derive(Debug, Clone)]
pub(crate) struct Scope {
    /// Index of the parent feature; `None` for streets when there is no district feature.
    pub parent: Option<usize>,
    /// Indices of the children (areas).
    pub children: Vec<usize>,
}

/// The scopes of a feature set, ordered by parent index.
pub(crate) fn scopes(ctx: &Ctx<'_>) -> Vec<Scope> {
    let fs = ctx.features;
    let district = fs
        .iter()
        .position(|f| f.layer == Layer::District && f.geometry.as_area().is_some());
    let mut map: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    for (i, f) in fs.iter().enumerate() {
        if f.layer == Layer::District || !f.layer.is_area() || f.geometry.as_area().is_none() {
            continue;
        }
        let key = match (f.layer, ctx.parent(i)) {
            (_, Some(p)) => Some(p),
            (Layer::Street, None) if f.parent.is_none() => district,
            _ => continue,
        };
        if let Some(p) = key
            && fs[p].geometry.as_area().is_none()
        {
            continue;
        }
        map.entry(key).or_default().push(i);
    }
    let mut out: Vec<Scope> = map
        .into_iter()
        .map(|(parent, children)| Scope { parent, children })
        .collect();
    out.sort_by_key(|s| s.parent.map_or(0, |p| p + 1));
    out
}

type Key = [u64; 4];

#[inline]
fn bits(c: Coord<f64>) -> (u64, u64) {
    // +0.0 folds -0.0 into 0.0.
    ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits())
}

struct Edge {
    key: Key,
    sign: i32,
    owner: u32,
}

fn push_ring(
    out: &mut Vec<Edge>,
    ring: &LineString<f64>,
    exterior: bool,
    reversed: bool,
    owner: u32,
) {
    let c = &ring.0;
    if c.len() < 2 {
        return;
    }
    let ccw = ring_signed_area(c) > 0.0;
    let mut dir = if ccw == exterior { 1 } else { -1 };
    if reversed {
        dir = -dir;
    }
    let n = c.len();
    let closed = c[0] == c[n - 1];
    let m = if closed { n - 1 } else { n };
    for i in 0..m {
        let (a, b) = (c[i], c[(i + 1) % n]);
        if a == b {
            continue;
        }
        let (ka, kb) = (bits(a), bits(b));
        if ka < kb {
            out.push(Edge {
                key: [ka.0, ka.1, kb.0, kb.1],
                sign: dir,
                owner,
            });
        } else {
            out.push(Edge {
                key: [kb.0, kb.1, ka.0, ka.1],
                sign: -dir,
                owner,
            });
        }
    }
}

fn push_area(out: &mut Vec<Edge>, mp: &MultiPolygon<f64>, reversed: bool, owner: u32) {
    for p in &mp.0 {
        push_ring(out, p.exterior(), true, reversed, owner);
        for h in p.interiors() {
            push_ring(out, h, false, reversed, owner);
        }
    }
}

/// An edge that did not cancel, with one feature (position in the scope; `u32::MAX` = parent)
/// whose edge it is.
pub(crate) struct Leftover {
    pub a: Coord<f64>,
    pub b: Coord<f64>,
    pub owner: u32,
}

/// Step 1: the edges of the scope that do not cancel.
pub(crate) fn leftover_edges(
    parent: Option<&MultiPolygon<f64>>,
    children: &[&MultiPolygon<f64>],
) -> Vec<Leftover> {
    leftover_edges_of(parent.as_slice(), children)
}

/// Step 1 with several parents (all reversed): the edges of Σ children − Σ parents that do not
/// cancel.
pub(crate) fn leftover_edges_of(
    parents: &[&MultiPolygon<f64>],
    children: &[&MultiPolygon<f64>],
) -> Vec<Leftover> {
    let mut edges = Vec::with_capacity(
        children
            .iter()
            .map(|c| c.0.iter().map(|p| p.exterior().0.len()).sum::<usize>())
            .sum::<usize>()
            * 2,
    );
    for (k, c) in children.iter().enumerate() {
        push_area(&mut edges, c, false, k as u32);
    }
    for p in parents {
        push_area(&mut edges, p, true, u32::MAX);
    }
    edges.sort_unstable_by_key(|e| e.key);
    let mut out = Vec::new();
    let mut i = 0;
    while i < edges.len() {
        let mut j = i;
        let mut net = 0;
        while j < edges.len() && edges[j].key == edges[i].key {
            net += edges[j].sign;
            j += 1;
        }
        if net != 0 {
            let k = edges[i].key;
            let a = Coord {
                x: f64::from_bits(k[0]),
                y: f64::from_bits(k[1]),
            };
            let b = Coord {
                x: f64::from_bits(k[2]),
                y: f64::from_bits(k[3]),
            };
            let owner = edges[i..j]
                .iter()
                .find(|e| e.sign.signum() == net.signum())
                .map_or(edges[i].owner, |e| e.owner);
            out.push(Leftover { a, b, owner });
        }
        i = j;
    }
    out
}

struct Dsu(Vec<usize>);
impl Dsu {
    fn new(n: usize) -> Self {
        Dsu((0..n).collect())
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        self.0[a.max(b)] = a.min(b);
        true
    }
}

/// Step 2: boxes of the merged clusters of leftover edges, each grown by `margin`.
pub(crate) fn cluster_boxes(left: &[Leftover], margin: f64) -> Vec<Rect<f64>> {
    let mut dsu = Dsu::new(left.len());
    let mut at: FxHashMap<(u64, u64), usize> = FxHashMap::default();
    for (i, e) in left.iter().enumerate() {
        for c in [e.a, e.b] {
            match at.entry(bits(c)) {
                std::collections::hash_map::Entry::Occupied(o) => {
                    dsu.union(i, *o.get());
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i);
                }
            }
        }
    }
    let mut boxes: HashMap<usize, Rect<f64>> = HashMap::new();
    for (i, e) in left.iter().enumerate() {
        let r = dsu.find(i);
        let seg = Rect::new(e.a, e.b);
        boxes
            .entry(r)
            .and_modify(|b| *b = union_rect(b, &seg))
            .or_insert(seg);
    }
    merge_boxes(boxes.into_values().map(|b| expand(&b, margin)).collect())
}

/// Merges touching boxes until none touch (sweep on min x, repeated while something merged).
pub(crate) fn merge_boxes(mut boxes: Vec<Rect<f64>>) -> Vec<Rect<f64>> {
    loop {
        boxes.sort_by(|a, b| a.min().x.total_cmp(&b.min().x));
        let mut d = Dsu::new(boxes.len());
        let mut merged = false;
        for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                if boxes[j].min().x > boxes[i].max().x {
                    break;
                }
                if rects_intersect(&boxes[i], &boxes[j]) {
                    merged |= d.union(i, j);
                }
            }
        }
        if !merged {
            return boxes;
        }
        let mut m: HashMap<usize, Rect<f64>> = HashMap::new();
        for (i, b) in boxes.iter().enumerate() {
            let r = d.find(i);
            m.entry(r)
                .and_modify(|x| *x = union_rect(x, b))
                .or_insert(*b);
        }
        boxes = m.into_values().collect();
    }
}

fn union_rect(a: &Rect<f64>, b: &Rect<f64>) -> Rect<f64> {
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
}

/// Checks one scope; returns its findings.
pub(crate) fn check_scope(ctx: &Ctx<'_>, scope: &Scope) -> Vec<Finding> {
    let defects = scope_defects(ctx, scope);
    defects.into_iter().map(|d| to_finding(ctx, d)).collect()
}

/// Turns a defect into a finding with its rule's message and fix (a gap or overlap narrower than
/// the sliver width under rule `sliver`).
pub(crate) fn to_finding(ctx: &Ctx<'_>, d: Defect) -> Finding {
    let sliver = sliver::is_sliver_defect(ctx, &d);
    let (message, fix) = match d.rule {
        Rule::Overlap => overlap::describe(ctx, &d, sliver),
        Rule::Gap => gap::describe(ctx, &d, sliver),
        _ => containment::describe(ctx, &d),
    };
    defect_finding(ctx, d, sliver, message, fix)
}

/// Steps 1–4 for one scope.
pub(crate) fn scope_defects(ctx: &Ctx<'_>, scope: &Scope) -> Vec<Defect> {
    let fs = ctx.features;
    let kids: Vec<&MultiPolygon<f64>> = scope
        .children
        .iter()
        .filter_map(|&i| fs[i].geometry.as_area())
        .collect();
    if kids.len() != scope.children.len() {
        return Vec::new();
    }
    let parent = scope.parent.and_then(|p| fs[p].geometry.as_area());
    let left = leftover_edges(parent, &kids);
    if left.is_empty() {
        return Vec::new();
    }
    let Some(parent_mp) = parent else {
        return parentless_overlaps(ctx, scope, &kids, &left);
    };
    let lat = left[0].a.y;
    let margin = metres_to_deg(1.0, lat);
    let boxes = cluster_boxes(&left, margin);
    let kid_boxes: Vec<Option<Rect<f64>>> = kids.iter().map(|k| bbox(k)).collect();
    let parent_box = bbox(parent_mp);
    let pi = scope.parent.unwrap_or(0);
    let gap_sev = gap::gap_severity(&fs[pi]);
    let tol = ctx.opts.tolerance_m;
    let areas: Vec<f64> = kids.iter().map(|k| k.unsigned_area()).collect();
    let mut out = Vec::new();
    for rect in boxes {
        let rp = MultiPolygon(vec![rect_polygon(rect)]);
        let involved: Vec<usize> = (0..kids.len())
            .filter(|&k| kid_boxes[k].is_some_and(|b| rects_intersect(&b, &rect)))
            .collect();
        // Feature indices of the involved children.
        let members: Vec<usize> = involved.iter().map(|&k| scope.children[k]).collect();
        let clip = |mp: &MultiPolygon<f64>, b: Option<Rect<f64>>| -> MultiPolygon<f64> {
            match b {
                Some(b) if rect_within(&b, &rect) => oriented(mp),
                _ => oriented(&mp.intersection(&rp)),
            }
        };
        let clipped: Vec<MultiPolygon<f64>> = involved
            .iter()
            .map(|&k| clip(kids[k], kid_boxes[k]))
            .collect();
        let cboxes: Vec<Option<Rect<f64>>> = clipped.iter().map(bbox).collect();
        let pclip = clip(parent_mp, parent_box);
        for a in 0..involved.len() {
            for b in a + 1..involved.len() {
                let (Some(ba), Some(bb)) = (cboxes[a], cboxes[b]) else {
                    continue;
                };
                if !rects_intersect(&ba, &bb) {
                    continue;
                }
                let (ka, kb) = (involved[a], involved[b]);
                // Subtract from the larger feature: it loses the smaller share of its area.
                let target = if areas[ka] >= areas[kb] { ka } else { kb };
                overlap::overlaps(
                    &clipped[a],
                    &clipped[b],
                    (members[a], members[b]),
                    tol,
                    |_| scope.children[target],
                    &mut out,
                );
            }
        }
        gap::gaps(&pclip, &clipped, &members, pi, gap_sev, tol, &mut out);
        for (c, &k) in clipped.iter().zip(&members) {
            containment::outside_parent(c, &pclip, k, pi, tol, &mut out);
        }
    }
    out
}

/// Streets without a district: overlaps only. A leftover edge of street A whose midpoint is inside
/// street B, farther than the tolerance from B's boundary, marks the pair (A, B).
fn parentless_overlaps(
    ctx: &Ctx<'_>,
    scope: &Scope,
    kids: &[&MultiPolygon<f64>],
    left: &[Leftover],
) -> Vec<Defect> {
    let tol = ctx.opts.tolerance_m;
    let boxes: Vec<Option<Rect<f64>>> = kids.iter().map(|k| bbox(k)).collect();
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    for e in left {
        let owner = e.owner as usize;
        if owner >= kids.len() {
            continue;
        }
        let m = Coord {
            x: (e.a.x + e.b.x) / 2.0,
            y: (e.a.y + e.b.y) / 2.0,
        };
        for (k, kid) in kids.iter().enumerate() {
            if k == owner || pairs.contains(&(owner.min(k), owner.max(k))) {
                continue;
            }
            let Some(b) = boxes[k] else { continue };
            if m.x < b.min().x || m.x > b.max().x || m.y < b.min().y || m.y > b.max().y {
                continue;
            }
            if pip::contains(kid, m.x, m.y) && distance_to_boundary_m(m, kid) > tol {
                pairs.insert((owner.min(k), owner.max(k)));
            }
        }
    }
    let mut out = Vec::new();
    for (a, b) in pairs {
        let target = if kids[a].unsigned_area() >= kids[b].unsigned_area() {
            a
        } else {
            b
        };
        overlap::overlaps(
            &oriented(kids[a]),
            &oriented(kids[b]),
            (scope.children[a], scope.children[b]),
            tol,
            |_| scope.children[target],
            &mut out,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::shapes::*;

    #[test]
    fn exact_tiling_leaves_no_edges() {
        let tiles = hex_tiling(6, 5, 100.0);
        let refs: Vec<&MultiPolygon<f64>> = tiles.iter().collect();
        let left = leftover_edges(None, &refs);
        // Only the outer boundary is left: 6·5 hexagons have 2·(6+5)·2 + … edges outside; none inside.
        let interior_left = left.len();
        assert!(interior_left > 0 && interior_left < 6 * 5 * 6 / 2);
        let two = [sq(0.0, 0.0, 10.0), sq(10.0, 0.0, 10.0)];
        let parent = MultiPolygon(vec![rect(0.0, 0.0, 20.0, 10.0)]);
        let refs: Vec<&MultiPolygon<f64>> = two.iter().collect();
        // The parent has no vertex at (10, 0) and (10, 10): T-junctions are left over.
        assert_eq!(leftover_edges(Some(&parent), &refs).len(), 6);
        let parent = MultiPolygon(vec![poly(
            &[
                (0.0, 0.0),
                (10.0, 0.0),
                (20.0, 0.0),
                (20.0, 10.0),
                (10.0, 10.0),
                (0.0, 10.0),
            ],
            &[],
        )]);
        assert!(leftover_edges(Some(&parent), &refs).is_empty());
    }

    #[test]
    fn orientation_of_the_input_does_not_matter() {
        let a = sq(0.0, 0.0, 10.0);
        let mut b = sq(10.0, 0.0, 10.0);
        b.0[0].exterior_mut(|r| r.0.reverse());
        let parent = MultiPolygon(vec![poly(
            &[
                (0.0, 0.0),
                (10.0, 0.0),
                (20.0, 0.0),
                (20.0, 10.0),
                (10.0, 10.0),
                (0.0, 10.0),
            ],
            &[],
        )]);
        assert!(leftover_edges(Some(&parent), &[&a, &b]).is_empty());
    }
}

#[cfg(test)]
mod lattice_tests {
    use crate::validate::shapes::lattice_district;
    use crate::validate::{Options, validate_features};

    #[test]
    fn clean_lattice_district_has_no_findings() {
        let fs = lattice_district(30, 4, 3, 40.0);
        let r = validate_features(&fs, &Options::default());
        assert!(
            r.findings.is_empty(),
            "{:?}",
            &r.findings[..r.findings.len().min(3)]
        );
        assert!(r.summary.scopes_checked > 50);
    }
}
