//! The one point-in-polygon rule used everywhere (atlas, brute force, validation, tests).
//!
//! A point is inside an area when a ray from it towards +x crosses the area's rings an odd number
//! of times, where an edge `(a, b)` with `a.y <= b.y` after ordering counts when
//! `a.y <= p.y < b.y` (half-open in y) and `p` lies strictly to the left of the upward edge, by
//! the exact `orient2d` predicate of the `robust` crate. Holes are rings like any other, so they
//! are honoured by the parity; multipolygons are the union of their parts' rings.
//!
//! # Boundary semantics
//!
//! The rule is the exact version of the classic crossing test: a point exactly on an edge counts as
//! lying just to its *east* (and, on a horizontal edge, just *north*). Every decision depends only
//! on the edge's two endpoints (taken in canonical order) and the point, so two areas that share an
//! edge with identical endpoints decide identically on it, and a point on a shared edge or vertex
//! of a tiling belongs to **exactly one** of the tiles: the one north-east of it.
//!
//! ```
//! use gridatlas::geometry::pip::contains;
//! use geo::{polygon, MultiPolygon};
//! let west = MultiPolygon(vec![polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)]]);
//! let east = MultiPolygon(vec![polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)]]);
//! // On the shared edge x = 1: the eastern square owns it.
//! assert!(!contains(&west, 1.0, 0.5));
//! assert!(contains(&east, 1.0, 0.5));
//! // The shared vertex (1, 0) also goes to exactly one square.
//! assert_eq!(contains(&west, 1.0, 0.0) as u8 + contains(&east, 1.0, 0.0) as u8, 1);
//! ```

use geo::{Coord, LineString, MultiPolygon};

/// Whether edge `(a, b)` is crossed by the ray from `(x, y)` towards +x, by the rule above.
#[inline]
pub fn crosses(a: Coord<f64>, b: Coord<f64>, x: f64, y: f64) -> bool {
    let (lo, hi) = if a.y <= b.y { (a, b) } else { (b, a) };
    if !(lo.y <= y && y < hi.y) {
        return false;
    }
    left_of(lo, hi, x, y)
}

/// Whether `(x, y)` lies strictly to the left of the line through `lo` → `hi` (exact; `lo` is the
/// lower endpoint, so for an edge straddling `y` this is the crossing decision of [`crosses`]).
#[inline]
pub fn left_of(lo: Coord<f64>, hi: Coord<f64>, x: f64, y: f64) -> bool {
    // Fast, exact-enough filter: when the point is clearly to one side, skip the exact predicate.
    let det = (hi.x - lo.x) * (y - lo.y) - (hi.y - lo.y) * (x - lo.x);
    let bound = 4.0
        * f64::EPSILON
        * ((hi.x - lo.x).abs() * (y - lo.y).abs() + (hi.y - lo.y).abs() * (x - lo.x).abs());
    if det > bound {
        return true;
    }
    if det < -bound {
        return false;
    }
    robust::orient2d(
        robust::Coord { x: lo.x, y: lo.y },
        robust::Coord { x: hi.x, y: hi.y },
        robust::Coord { x, y },
    ) > 0.0
}

/// Number of crossings of the ray from `(x, y)` with the edges of one ring.
#[inline]
pub fn ring_crossings(ring: &LineString<f64>, x: f64, y: f64) -> u32 {
    ring.0
        .windows(2)
        .filter(|w| crosses(w[0], w[1], x, y))
        .count() as u32
}

/// Whether `(x, y)` is inside `area` by the module's rule.
pub fn contains(area: &MultiPolygon<f64>, x: f64, y: f64) -> bool {
    let mut n = 0u32;
    for p in &area.0 {
        n += ring_crossings(p.exterior(), x, y);
        for h in p.interiors() {
            n += ring_crossings(h, x, y);
        }
    }
    n % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, MultiPolygon, Polygon, polygon};

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)]
    }

    #[test]
    fn hole_is_outside() {
        let outer = square(0.0, 0.0, 10.0, 10.0);
        let hole = LineString::from(vec![
            (4.0, 4.0),
            (4.0, 6.0),
            (6.0, 6.0),
            (6.0, 4.0),
            (4.0, 4.0),
        ]);
        let p = MultiPolygon(vec![Polygon::new(outer.exterior().clone(), vec![hole])]);
        assert!(contains(&p, 1.0, 1.0));
        assert!(!contains(&p, 5.0, 5.0));
        assert!(!contains(&p, 11.0, 5.0));
    }

    #[test]
    fn four_squares_share_a_vertex_with_exactly_one_owner() {
        let tiles: Vec<MultiPolygon<f64>> = [
            square(0.0, 0.0, 1.0, 1.0),
            square(1.0, 0.0, 2.0, 1.0),
            square(0.0, 1.0, 1.0, 2.0),
            square(1.0, 1.0, 2.0, 2.0),
        ]
        .into_iter()
        .map(|p| MultiPolygon(vec![p]))
        .collect();
        for &(x, y) in &[(1.0, 1.0), (1.0, 0.5), (0.5, 1.0), (1.5, 1.0), (1.0, 1.5)] {
            let owners = tiles.iter().filter(|t| contains(t, x, y)).count();
            assert_eq!(owners, 1, "({x}, {y})");
        }
        // The north-east tile owns the centre vertex.
        assert!(contains(&tiles[3], 1.0, 1.0));
    }

    #[test]
    fn slanted_shared_edge_has_one_owner_at_tiny_offsets() {
        // Two triangles sharing the edge (0,0)-(3,1e-9 + 7): points on and next to it.
        let a = Coord { x: 0.1, y: 0.2 };
        let b = Coord { x: 3.3, y: 7.7 };
        let left = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![a, b, Coord { x: -5.0, y: 4.0 }, a]),
            vec![],
        )]);
        let right = MultiPolygon(vec![Polygon::new(
            LineString::from(vec![a, Coord { x: 9.0, y: 1.0 }, b, a]),
            vec![],
        )]);
        for i in 1..1000 {
            let t = i as f64 / 1000.0;
            let x = a.x + t * (b.x - a.x);
            let y = a.y + t * (b.y - a.y);
            for dx in [-1e-15, 0.0, 1e-15] {
                let n = contains(&left, x + dx, y) as u8 + contains(&right, x + dx, y) as u8;
                assert_eq!(n, 1, "t={t} dx={dx}");
            }
        }
    }
}
