//! Rule `invalid_geometry`: each area on its own.
//!
//! Kinds:
//! * `self_intersection` (error): two edges of the feature cross, overlap along a stretch, or a
//!   ring passes twice through the same position; `location` is the point (or points).
//! * `repeated_point` (warning): the same position twice in a row; `location` lists them.
//! * `spike` (error): a zero-width part: the ring goes out and comes back along (within the
//!   tolerance) the same line, for at least the tolerance; `location` is the tip, `length_m` the
//!   spike's length.
//! * `collapsed_ring` (error): fewer than three distinct positions, or all of them within the
//!   tolerance of one line.
//! * `hole_outside_shell` (error): a hole with a vertex outside its shell (by more than the
//!   tolerance); `location` is the hole.
//! * `overlapping_holes` (error): two holes of one polygon overlapping; `location` is the overlap.
//! * `overlapping_parts` (error): two parts of a multipolygon overlapping; `location` the overlap.
//!
//! Crossing edges are found by a sweep over the feature's edges sorted by their west end, with
//! exact orientation predicates; cost O(n log n + pairs whose x-ranges overlap) per feature.

use super::geom::{area_json, distance_to_boundary_m, measure, multipoint_json, point_json};
use super::types::{Finding, Fix, FixAction, Message, Options, Rule, Severity};
use crate::geometry::measure::{LocalFrame, point_segment_distance};
use crate::geometry::pip;
use crate::model::Feature;
use geo::{BooleanOps, BoundingRect, Coord, LineString, MultiPolygon, Polygon};

fn finding(
    f: &Feature,
    kind: &'static str,
    severity: Severity,
    location: serde_json::Value,
    zh: String,
    en: String,
) -> Finding {
    Finding {
        rule: Rule::InvalidGeometry,
        kind,
        severity,
        codes: vec![f.code.clone()],
        location: Some(location),
        area_m2: None,
        length_m: None,
        width_m: None,
        message: Message { zh, en },
        fix: Some(Fix {
            action: FixAction::Repair,
            target: Some(f.code.clone()),
            message: Message {
                zh: format!("重建 {} 的边界环", f.code),
                en: format!("rebuild the rings of {}", f.code),
            },
        }),
        shape: None,
        location_simplified: false,
        omitted: None,
    }
}

/// The ring's positions without consecutive repeats and without the closing position.
pub(crate) fn distinct(r: &LineString<f64>) -> Vec<Coord<f64>> {
    let mut v: Vec<Coord<f64>> = Vec::with_capacity(r.0.len());
    for &c in &r.0 {
        if v.last() != Some(&c) {
            v.push(c);
        }
    }
    while v.len() > 1 && v.first() == v.last() {
        v.pop();
    }
    v
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: c.x, y: c.y },
    )
}

fn on_segment(a: Coord<f64>, b: Coord<f64>, p: Coord<f64>) -> bool {
    p.x >= a.x.min(b.x) && p.x <= a.x.max(b.x) && p.y >= a.y.min(b.y) && p.y <= a.y.max(b.y)
}

/// Where segments `ab` and `cd` meet improperly for a valid ring: a proper crossing, a touch of an
/// endpoint on the other's interior, or a collinear overlap of positive length. Shared endpoints
/// alone are not reported here.
fn bad_contact(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> Option<Coord<f64>> {
    let o1 = orient(a, b, c);
    let o2 = orient(a, b, d);
    let o3 = orient(c, d, a);
    let o4 = orient(c, d, b);
    if o1 * o2 < 0.0 && o3 * o4 < 0.0 {
        let t = o3 / (o3 - o4);
        return Some(Coord {
            x: a.x + t * (b.x - a.x),
            y: a.y + t * (b.y - a.y),
        });
    }
    if o1 == 0.0 && on_segment(a, b, c) && !(c == a || c == b) {
        return Some(c);
    }
    if o2 == 0.0 && on_segment(a, b, d) && !(d == a || d == b) {
        return Some(d);
    }
    if o3 == 0.0 && on_segment(c, d, a) && a != c && a != d {
        return Some(a);
    }
    if o4 == 0.0 && on_segment(c, d, b) && b != c && b != d {
        return Some(b);
    }
    // Collinear and sharing an endpoint, overlapping beyond it (a -> b and a -> d same direction).
    if o1 == 0.0 && o2 == 0.0 {
        let same_dir = |p: Coord<f64>, q: Coord<f64>, r: Coord<f64>| {
            (q.x - p.x) * (r.x - p.x) + (q.y - p.y) * (r.y - p.y) > 0.0
        };
        if (a == c && same_dir(a, b, d))
            || (a == d && same_dir(a, b, c))
            || (b == c && same_dir(b, a, d))
            || (b == d && same_dir(b, a, c))
        {
            return Some(if a == c || a == d { a } else { b });
        }
    }
    None
}

/// Whether the vertex `b` between `a` and `c` (metric positions) is a spike tip: the ring goes
/// out to `b` and comes back within `tol` of the same line, for at least `tol`.
fn is_spike(pa: Coord<f64>, pb: Coord<f64>, pc: Coord<f64>, tol: f64) -> Option<f64> {
    let (u, v) = (pa - pb, pc - pb);
    let (lu, lv) = (u.x.hypot(u.y), v.x.hypot(v.y));
    if u.x * v.x + u.y * v.y <= 0.0 || lu == 0.0 || lv == 0.0 {
        return None;
    }
    let (short, long_a, long_b) = if lu < lv { (pa, pb, pc) } else { (pc, pb, pa) };
    (lu.min(lv) >= tol && point_segment_distance(short, long_a, long_b) < tol).then_some(lu.min(lv))
}

/// The ring without spike tips (and without consecutive repeats), closed; used by `--fix`.
pub(crate) fn despike(r: &LineString<f64>, tol: f64) -> LineString<f64> {
    let mut d = distinct(r);
    let Some(&o) = d.first() else {
        return r.clone();
    };
    let frame = LocalFrame::new(o.x, o.y);
    let mut changed = true;
    while changed && d.len() > 3 {
        changed = false;
        let n = d.len();
        for i in 0..n {
            let (a, b, c) = (d[(i + n - 1) % n], d[i], d[(i + 1) % n]);
            if is_spike(frame.to_xy(a), frame.to_xy(b), frame.to_xy(c), tol).is_some() {
                d.remove(i);
                changed = true;
                break;
            }
        }
    }
    if let Some(&f) = d.first() {
        d.push(f);
    }
    LineString(d)
}

/// Whether every position lies within `tol` of the line through the first position and the one
/// farthest from it (metric positions).
fn flat(xy: &[Coord<f64>], tol: f64) -> bool {
    let p0 = xy[0];
    let d2 = |c: &Coord<f64>| (c.x - p0.x).powi(2) + (c.y - p0.y).powi(2);
    let Some(p1) = xy.iter().max_by(|a, b| d2(a).total_cmp(&d2(b))).copied() else {
        return true;
    };
    xy.iter().all(|&c| point_segment_distance(c, p0, p1) < tol)
}

struct Edge {
    a: Coord<f64>,
    b: Coord<f64>,
    ring: usize,
    idx: usize,
    len: usize,
}

/// Checks one feature (lines are not checked here).
pub fn check_feature(f: &Feature, opts: &Options) -> Vec<Finding> {
    let Some(mp) = f.geometry.as_area() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let Some(first) = mp.0.first().and_then(|p| p.exterior().0.first()).copied() else {
        out.push(finding(
            f,
            "collapsed_ring",
            Severity::Error,
            serde_json::Value::Null,
            format!("{} 的几何为空", f.code),
            format!("{} has an empty geometry", f.code),
        ));
        return out;
    };
    let frame = LocalFrame::new(first.x, first.y);
    let tol = opts.tolerance_m;

    // Per ring: repeats, collapse, spikes, self-touch.
    let mut rings: Vec<Vec<Coord<f64>>> = Vec::new();
    for p in &mp.0 {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            if let Some(d) = check_ring(f, r, &frame, tol, &mut out) {
                rings.push(d);
            }
        }
    }

    let mut points = crossing_points(&rings);
    if !points.is_empty() {
        points.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
        points.dedup();
        let mut fd = finding(
            f,
            "self_intersection",
            Severity::Error,
            multipoint_json(&points),
            format!("{} 的边界自相交（{} 处）", f.code, points.len()),
            format!("{} self-intersects at {} point(s)", f.code, points.len()),
        );
        fd.length_m = None;
        out.push(fd);
        return out;
    }

    check_holes_and_parts(f, mp, tol, &mut out);
    out
}

/// The checks of one ring on its own (repeated points, collapse, spikes, a position passed twice);
/// its distinct positions unless it collapsed.
fn check_ring(
    f: &Feature,
    r: &LineString<f64>,
    frame: &LocalFrame,
    tol: f64,
    out: &mut Vec<Finding>,
) -> Option<Vec<Coord<f64>>> {
    let repeats: Vec<Coord<f64>> =
        r.0.windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
    if !repeats.is_empty() {
        out.push(finding(
            f,
            "repeated_point",
            Severity::Warning,
            multipoint_json(&repeats),
            format!("{} 有 {} 处重复点", f.code, repeats.len()),
            format!("{} has {} repeated point(s)", f.code, repeats.len()),
        ));
    }
    let d = distinct(r);
    let xy: Vec<Coord<f64>> = d.iter().map(|&c| frame.to_xy(c)).collect();
    if d.len() < 3 || flat(&xy, tol) {
        out.push(finding(
            f,
            "collapsed_ring",
            Severity::Error,
            multipoint_json(&d),
            format!("{} 有退化的环（无面积或宽度小于容差）", f.code),
            format!(
                "{} has a collapsed ring (no area, or narrower than the tolerance)",
                f.code
            ),
        ));
        return None;
    }
    // Spikes.
    let n = xy.len();
    for i in 0..n {
        let (pa, pb, pc) = (xy[(i + n - 1) % n], xy[i], xy[(i + 1) % n]);
        if let Some(len) = is_spike(pa, pb, pc, tol) {
            let mut fd = finding(
                f,
                "spike",
                Severity::Error,
                point_json(d[i]),
                format!("{} 有尖刺（零宽度部分）", f.code),
                format!("{} has a spike (zero-width part)", f.code),
            );
            fd.length_m = Some(len);
            out.push(fd);
        }
    }
    // A ring through the same position twice (self-touch).
    let mut sorted: Vec<(u64, u64)> = d
        .iter()
        .map(|c| ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits()))
        .collect();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        let c = Coord {
            x: f64::from_bits(w[0].0),
            y: f64::from_bits(w[0].1),
        };
        out.push(finding(
            f,
            "self_intersection",
            Severity::Error,
            point_json(c),
            format!("{} 的边界自相交（同一点经过两次）", f.code),
            format!(
                "{} self-intersects (a ring passes twice through a point)",
                f.code
            ),
        ));
    }
    Some(d)
}

/// The points where edges of the rings (all rings of all parts) cross or share a stretch; rings
/// of a polygon may touch at a vertex.
fn crossing_points(rings: &[Vec<Coord<f64>>]) -> Vec<Coord<f64>> {
    let mut edges: Vec<Edge> = Vec::new();
    for (ri, d) in rings.iter().enumerate() {
        let n = d.len();
        if n < 3 {
            continue;
        }
        for i in 0..n {
            edges.push(Edge {
                a: d[i],
                b: d[(i + 1) % n],
                ring: ri,
                idx: i,
                len: n,
            });
        }
    }
    edges.sort_by(|e, g| e.a.x.min(e.b.x).total_cmp(&g.a.x.min(g.b.x)));
    let mut points: Vec<Coord<f64>> = Vec::new();
    for i in 0..edges.len() {
        let e = &edges[i];
        let emax = e.a.x.max(e.b.x);
        let (eminy, emaxy) = (e.a.y.min(e.b.y), e.a.y.max(e.b.y));
        for g in &edges[i + 1..] {
            if g.a.x.min(g.b.x) > emax {
                break;
            }
            if g.a.y.max(g.b.y) < eminy || g.a.y.min(g.b.y) > emaxy {
                continue;
            }
            if e.ring == g.ring {
                let adjacent = (e.idx + 1) % e.len == g.idx || (g.idx + 1) % g.len == e.idx;
                if adjacent {
                    continue;
                }
            }
            let hit = if e.ring == g.ring {
                bad_contact(e.a, e.b, g.a, g.b)
            } else {
                // Rings of a polygon may touch at a vertex, but not cross or share a stretch.
                bad_contact(e.a, e.b, g.a, g.b).filter(|p| {
                    let endpoint = |q: &Coord<f64>| q == p;
                    let touch_only = (endpoint(&e.a) || endpoint(&e.b))
                        != (endpoint(&g.a) || endpoint(&g.b))
                        && !(orient(e.a, e.b, g.a) == 0.0 && orient(e.a, e.b, g.b) == 0.0);
                    !touch_only
                })
            };
            if let Some(p) = hit {
                points.push(p);
            }
        }
    }
    points
}

/// Holes against their shell, holes against each other, parts against each other.
fn check_holes_and_parts(f: &Feature, mp: &MultiPolygon<f64>, tol: f64, out: &mut Vec<Finding>) {
    for p in &mp.0 {
        let shell = MultiPolygon(vec![Polygon::new(p.exterior().clone(), vec![])]);
        for h in p.interiors() {
            let outside = h.0.iter().find(|c| {
                !pip::contains(&shell, c.x, c.y) && distance_to_boundary_m(**c, &shell) > tol
            });
            if outside.is_some() {
                out.push(finding(
                    f,
                    "hole_outside_shell",
                    Severity::Error,
                    area_json(&MultiPolygon(vec![Polygon::new(h.clone(), vec![])])),
                    format!("{} 的内洞在外边界之外", f.code),
                    format!("{} has a hole outside its shell", f.code),
                ));
            }
        }
        let holes: Vec<Polygon<f64>> = p
            .interiors()
            .iter()
            .map(|h| Polygon::new(h.clone(), vec![]))
            .collect();
        out.extend(pairwise_overlaps(
            f,
            &holes,
            tol,
            "overlapping_holes",
            "内洞相互重叠",
            "holes overlap",
        ));
    }
    let parts: Vec<Polygon<f64>> =
        mp.0.iter()
            .map(|p| Polygon::new(p.exterior().clone(), vec![]))
            .collect();
    out.extend(pairwise_overlaps(
        f,
        &parts,
        tol,
        "overlapping_parts",
        "多部件相互重叠",
        "parts of the multipolygon overlap",
    ));
}

fn pairwise_overlaps(
    f: &Feature,
    polys: &[Polygon<f64>],
    tol: f64,
    kind: &'static str,
    zh: &str,
    en: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    if polys.len() < 2 {
        return out;
    }
    let boxes: Vec<_> = polys.iter().map(|p| p.bounding_rect()).collect();
    for i in 0..polys.len() {
        for j in i + 1..polys.len() {
            let (Some(a), Some(b)) = (boxes[i], boxes[j]) else {
                continue;
            };
            if !super::geom::rects_intersect(&a, &b) {
                continue;
            }
            let ov = polys[i].intersection(&polys[j]);
            let pieces: Vec<Polygon<f64>> =
                ov.0.into_iter()
                    .filter(|p| measure(p).width_m >= tol)
                    .collect();
            if pieces.is_empty() {
                continue;
            }
            let shape = MultiPolygon(pieces);
            let mut fd = finding(
                f,
                kind,
                Severity::Error,
                area_json(&shape),
                format!("{} 的{}", f.code, zh),
                format!("{}: {}", f.code, en),
            );
            fd.area_m2 = Some(super::geom::area_of(&shape));
            out.push(fd);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Layer;
    use crate::validate::shapes::*;

    fn kinds(f: &Feature) -> Vec<&'static str> {
        check_feature(f, &Options::default())
            .into_iter()
            .map(|x| x.kind)
            .collect()
    }

    #[test]
    fn valid_shapes_are_clean() {
        assert!(kinds(&area(Layer::Block, "a", None, sq(0.0, 0.0, 10.0))).is_empty());
        assert!(kinds(&area(Layer::Block, "a", None, l_shape(0.0, 0.0, 10.0))).is_empty());
        let holed = MultiPolygon(vec![poly(
            &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
            &[
                &[(2.0, 2.0), (2.0, 4.0), (4.0, 4.0), (4.0, 2.0)],
                &[(6.0, 6.0), (6.0, 8.0), (8.0, 8.0), (8.0, 6.0)],
            ],
        )]);
        assert!(kinds(&area(Layer::Block, "a", None, holed)).is_empty());
        // Hole touching the shell at one vertex is valid.
        let touching = MultiPolygon(vec![poly(
            &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
            &[&[(0.0, 5.0), (3.0, 7.0), (3.0, 3.0)]],
        )]);
        assert!(kinds(&area(Layer::Block, "a", None, touching)).is_empty());
        let multi = MultiPolygon(vec![rect(0.0, 0.0, 5.0, 5.0), rect(10.0, 0.0, 15.0, 5.0)]);
        assert!(kinds(&area(Layer::Block, "a", None, multi)).is_empty());
    }

    #[test]
    fn bow_tie_self_intersects_at_its_centre() {
        let bow = MultiPolygon(vec![poly(
            &[(0.0, 0.0), (10.0, 10.0), (10.0, 0.0), (0.0, 10.0)],
            &[],
        )]);
        let f = check_feature(&area(Layer::Block, "a", None, bow), &Options::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].kind, "self_intersection");
        let loc = f[0]
            .location
            .as_ref()
            .and_then(|l| l["coordinates"].as_array())
            .cloned()
            .unwrap_or_default();
        let c = at(5.0, 5.0);
        assert!((loc[0].as_f64().unwrap_or(0.0) - c.x).abs() < 1e-9);
        assert!((loc[1].as_f64().unwrap_or(0.0) - c.y).abs() < 1e-9);
    }

    #[test]
    fn repeated_points_spikes_and_collapsed_rings() {
        let mut mp = sq(0.0, 0.0, 10.0);
        let r = &mut mp.0[0];
        r.exterior_mut(|ls| {
            let c = ls.0[1];
            ls.0.insert(1, c);
        });
        assert_eq!(
            kinds(&area(Layer::Block, "a", None, mp)),
            vec!["repeated_point"]
        );
        let spike = MultiPolygon(vec![poly(
            &[
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (5.0, 10.0),
                (5.0, 30.0),
                (5.0, 10.0),
                (0.0, 10.0),
            ],
            &[],
        )]);
        let k = kinds(&area(Layer::Block, "a", None, spike));
        assert!(k.contains(&"spike"), "{k:?}");
        let flat = MultiPolygon(vec![poly(&[(0.0, 0.0), (10.0, 0.0), (20.0, 0.01)], &[])]);
        assert_eq!(
            kinds(&area(Layer::Block, "a", None, flat)),
            vec!["collapsed_ring"]
        );
    }

    #[test]
    fn holes_outside_and_overlapping() {
        let outside = MultiPolygon(vec![poly(
            &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
            &[&[(20.0, 2.0), (20.0, 4.0), (24.0, 4.0), (24.0, 2.0)]],
        )]);
        assert_eq!(
            kinds(&area(Layer::Block, "a", None, outside)),
            vec!["hole_outside_shell"]
        );
        let nested = MultiPolygon(vec![poly(
            &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
            &[
                &[(2.0, 2.0), (2.0, 8.0), (8.0, 8.0), (8.0, 2.0)],
                &[(3.0, 3.0), (3.0, 5.0), (5.0, 5.0), (5.0, 3.0)],
            ],
        )]);
        assert_eq!(
            kinds(&area(Layer::Block, "a", None, nested)),
            vec!["overlapping_holes"]
        );
        let crossing = MultiPolygon(vec![poly(
            &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
            &[
                &[(2.0, 2.0), (2.0, 6.0), (6.0, 6.0), (6.0, 2.0)],
                &[(4.0, 4.0), (4.0, 8.0), (8.0, 8.0), (8.0, 4.0)],
            ],
        )]);
        assert_eq!(
            kinds(&area(Layer::Block, "a", None, crossing)),
            vec!["self_intersection"]
        );
    }

    #[test]
    fn overlapping_parts_of_a_multipolygon() {
        let mp = MultiPolygon(vec![rect(0.0, 0.0, 10.0, 10.0), rect(5.0, 5.0, 15.0, 15.0)]);
        let k = kinds(&area(Layer::Block, "a", None, mp));
        assert_eq!(k, vec!["self_intersection"]);
        let inside = MultiPolygon(vec![rect(0.0, 0.0, 10.0, 10.0), rect(2.0, 2.0, 5.0, 5.0)]);
        assert_eq!(
            kinds(&area(Layer::Block, "a", None, inside)),
            vec!["overlapping_parts"]
        );
    }
}
