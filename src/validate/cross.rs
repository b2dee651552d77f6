//! Overlaps between features of one layer that are not siblings: a block of grid G pushing into a
//! block of grid H, a grid of street S into a grid of street T. The scopes of
//! [`super::coverage`] only compare siblings, so such a block was reported only as lying outside
//! its grid, and the neighbour whose ground it takes was never named.
//!
//! Per layer — streets, grids (the three kinds together), blocks — top-down:
//!
//! 1. **Edge matching across the layer.** The directed edges of all its features are summed
//!    against the reversed edges of all their parents (the parents that have children of this
//!    layer). Where the data is clean the sum cancels: F = Σ children − Σ parents is zero. A
//!    point in two features of the layer lies in at most one parent unless the parents overlap
//!    there, so F ≠ 0 at it, and the region where F ≠ 0 is bounded by the edges left over.
//! 2. **Suspect boxes**: the clusters of leftover edges (as in a scope), plus the boxes of the
//!    overlaps found one layer up (where two parents overlap, F can cancel), merged until
//!    disjoint.
//! 3. **Exact polygons**: per box, the features whose box meets it (an R-tree of their boxes) are
//!    clipped to it and intersected pairwise, only pairs that are not siblings of one scope
//!    (those are the scope check's). Pieces narrower than the tolerance are dropped.
//!
//! Clean data costs one sort of each layer's edges. The finding is an `overlap` (or `sliver`)
//! naming both features, with the polygon and its area; the fix subtracts it from the feature
//! that lies outside its own parent there (the containment finding cuts the same part), else
//! from the larger one.

use super::coverage::{Leftover, Scope, cluster_boxes, leftover_edges_of, merge_boxes, to_finding};
use super::findings::Defect;
use super::geom::{
    bbox, expand, metres_to_deg, oriented, rect_polygon, rect_within, rects_intersect,
};
use super::overlap;
use super::types::{Ctx, Finding, Rule};
use crate::geometry::pip;
use crate::model::Layer;
use geo::{Area, BooleanOps, InteriorPoint, MultiPolygon, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// The layer class compared across parents: 0 streets, 1 grids, 2 blocks.
fn class(l: Layer) -> Option<usize> {
    match l {
        Layer::Street => Some(0),
        Layer::Block => Some(2),
        l if l.is_grid() => Some(1),
        _ => None,
    }
}

fn is_overlap(f: &Finding) -> bool {
    f.rule == Rule::Overlap || (f.rule == Rule::Sliver && f.kind == "overlap")
}

/// Overlaps between non-sibling features of each layer. `scopes` are all scopes of the run;
/// `found` the scope findings (their overlaps mark where parents overlap).
pub(crate) fn check(ctx: &Ctx<'_>, scopes: &[Scope], found: &[Finding]) -> Vec<Finding> {
    let fs = ctx.features;
    let mut scope_of: Vec<Option<usize>> = vec![None; fs.len()];
    for (k, s) in scopes.iter().enumerate() {
        for &c in &s.children {
            scope_of[c] = Some(k);
        }
    }
    let class_of_code = |c: &str| ctx.by_code.get(c).and_then(|&i| class(fs[i].layer));
    let mut out: Vec<Finding> = Vec::new();
    for cls in 0..3 {
        // Where parents of this layer overlap (found by their scope, or across theirs).
        let parent_suspects: Vec<Rect<f64>> = found
            .iter()
            .chain(out.iter())
            .filter(|f| {
                is_overlap(f)
                    && f.codes
                        .first()
                        .is_some_and(|c| cls > 0 && class_of_code(c) == Some(cls - 1))
            })
            .filter_map(|f| f.shape.as_ref().and_then(bbox))
            .collect();
        let defects = layer_defects(ctx, cls, &scope_of, &parent_suspects);
        out.extend(defects.into_iter().map(|d| to_finding(ctx, d)));
    }
    out
}

/// Steps 1–3 for one layer class.
fn layer_defects(
    ctx: &Ctx<'_>,
    cls: usize,
    scope_of: &[Option<usize>],
    suspects: &[Rect<f64>],
) -> Vec<Defect> {
    let fs = ctx.features;
    let members: Vec<usize> = (0..fs.len())
        .filter(|&i| class(fs[i].layer) == Some(cls) && fs[i].geometry.as_area().is_some())
        .collect();
    if members.len() < 2 {
        return Vec::new();
    }
    // Nothing to do when every member is a sibling of every other.
    let first = scope_of[members[0]];
    if first.is_some() && members.iter().all(|&i| scope_of[i] == first) {
        return Vec::new();
    }
    let mut parents: Vec<usize> = members.iter().filter_map(|&i| ctx.parent(i)).collect();
    parents.sort_unstable();
    parents.dedup();
    let areas: Vec<&MultiPolygon<f64>> = members
        .iter()
        .filter_map(|&i| fs[i].geometry.as_area())
        .collect();
    let parent_areas: Vec<&MultiPolygon<f64>> = parents
        .iter()
        .filter_map(|&p| fs[p].geometry.as_area())
        .collect();
    let left = leftover_edges_of(&parent_areas, &areas);
    if left.is_empty() && suspects.is_empty() {
        return Vec::new();
    }
    let boxes = suspect_boxes(&left, suspects);

    let member_boxes: Vec<Option<Rect<f64>>> = areas.iter().map(|a| bbox(a)).collect();
    let tree = box_tree(&member_boxes);
    let env = |r: &Rect<f64>| AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
    // Two members are checked here unless they are siblings of one scope.
    let siblings = |a: usize, b: usize| {
        let (sa, sb) = (scope_of[members[a]], scope_of[members[b]]);
        sa.is_some() && sa == sb
    };
    let tol = ctx.opts.tolerance_m;
    let mut out = Vec::new();
    for rect in boxes {
        let mut cand: Vec<usize> = tree
            .locate_in_envelope_intersecting(&env(&rect))
            .map(|g| g.data)
            .collect();
        cand.sort_unstable();
        if cand.len() < 2 {
            continue;
        }
        let rp = MultiPolygon(vec![rect_polygon(rect)]);
        let mut clipped: Vec<Option<MultiPolygon<f64>>> = vec![None; cand.len()];
        for a in 0..cand.len() {
            for b in a + 1..cand.len() {
                let (ka, kb) = (cand[a], cand[b]);
                if siblings(ka, kb) {
                    continue;
                }
                let (Some(ba), Some(bb)) = (member_boxes[ka], member_boxes[kb]) else {
                    continue;
                };
                if !rects_intersect(&ba, &bb) {
                    continue;
                }
                for j in [a, b] {
                    if clipped[j].is_none() {
                        let k = cand[j];
                        clipped[j] = Some(match member_boxes[k] {
                            Some(bx) if rect_within(&bx, &rect) => oriented(areas[k]),
                            _ => oriented(&areas[k].intersection(&rp)),
                        });
                    }
                }
                let (Some(ca), Some(cb)) = (&clipped[a], &clipped[b]) else {
                    continue;
                };
                let (ia, ib) = (members[ka], members[kb]);
                overlap::overlaps(
                    ca,
                    cb,
                    (ia, ib),
                    tol,
                    |p| target_of(ctx, p, ia, ib, areas[ka], areas[kb]),
                    &mut out,
                );
            }
        }
    }
    out
}

/// Step 2: the boxes of the clusters of leftover edges and of the parents' overlaps, grown by
/// 1 m and merged until disjoint.
fn suspect_boxes(left: &[Leftover], suspects: &[Rect<f64>]) -> Vec<Rect<f64>> {
    let lat = left
        .first()
        .map(|e| e.a.y)
        .or_else(|| suspects.first().map(|r| r.min().y))
        .unwrap_or(0.0);
    let margin = metres_to_deg(1.0, lat);
    let mut boxes = cluster_boxes(left, margin);
    boxes.extend(suspects.iter().map(|r| expand(r, margin)));
    merge_boxes(boxes)
}

/// An R-tree of the members' boxes (position in the member list as data).
fn box_tree(boxes: &[Option<Rect<f64>>]) -> RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> {
    RTree::bulk_load(
        boxes
            .iter()
            .enumerate()
            .filter_map(|(k, b)| {
                b.map(|b| {
                    GeomWithData::new(
                        Rectangle::from_corners([b.min().x, b.min().y], [b.max().x, b.max().y]),
                        k,
                    )
                })
            })
            .collect(),
    )
}

/// The feature to subtract an overlap from: the one whose own parent does not hold the overlap
/// (it pushed out of its parent), else the larger.
fn target_of(
    ctx: &Ctx<'_>,
    p: &geo::Polygon<f64>,
    ia: usize,
    ib: usize,
    a: &MultiPolygon<f64>,
    b: &MultiPolygon<f64>,
) -> usize {
    let larger = if a.unsigned_area() >= b.unsigned_area() {
        ia
    } else {
        ib
    };
    let Some(pt) = p.interior_point() else {
        return larger;
    };
    let inside = |i: usize| {
        ctx.parent(i)
            .and_then(|q| ctx.features[q].geometry.as_area())
            .is_some_and(|q| pip::contains(q, pt.x(), pt.y()))
    };
    match (inside(ia), inside(ib)) {
        (false, true) => ia,
        (true, false) => ib,
        _ => larger,
    }
}
