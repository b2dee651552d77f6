//! Small geometric helpers shared by the rules: measures of defect polygons, rectangles, JSON.

use crate::geo_io::write::geometry_to_json;
use crate::geometry::measure::{LocalFrame, point_segment_distance};
use crate::model::Geometry;
use geo::orient::Direction;
use geo::{BoundingRect, Coord, GeodesicArea, LineString, MultiPolygon, Orient, Polygon, Rect};
use serde_json::{Value, json};

/// `mp` with shells counter-clockwise and holes clockwise (what the boolean operations expect).
pub(crate) fn oriented(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    mp.orient(Direction::Default)
}

/// Geodesic area, perimeter and width (2·area/perimeter) of one polygon.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    pub area_m2: f64,
    pub width_m: f64,
}

///
/// The polygon is oriented (shell counter-clockwise) first: the geodesic area of a clockwise shell
/// is the rest of the Earth.
pub fn measure(p: &Polygon<f64>) -> Measure {
    // Geodesic area: signed area of the oriented polygon, then its absolute value (the "unsigned"
    // geodesic area of a polygon whose signed area rounds below zero is the rest of the Earth).
    let (_, area) = p
        .orient(Direction::Default)
        .geodesic_perimeter_area_signed();
    // Width from the local metric frame: Karney's area has an absolute error of ~1e-5 m², far too
    // much for needle-thin polygons with a perimeter of micrometres.
    let Some(&o) = p.exterior().0.first() else {
        return Measure {
            area_m2: 0.0,
            width_m: 0.0,
        };
    };
    let f = LocalFrame::new(o.x, o.y);
    let (mut a, mut per) = (0.0, 0.0);
    for r in std::iter::once(p.exterior()).chain(p.interiors()) {
        let xy: Vec<Coord<f64>> = r.0.iter().map(|&c| f.to_xy(c)).collect();
        let s = ring_signed_area(&xy);
        a += if std::ptr::eq(r, p.exterior()) {
            s.abs()
        } else {
            -s.abs()
        };
        per += xy
            .windows(2)
            .map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y))
            .sum::<f64>();
    }
    let width = 2.0 * a.max(0.0) / per;
    // Degenerate (zero-perimeter or not finite) measures count as zero width: dropped.
    if !width.is_finite() || !area.is_finite() {
        return Measure {
            area_m2: 0.0,
            width_m: 0.0,
        };
    }
    Measure {
        area_m2: area.abs(),
        width_m: width,
    }
}

/// Geodesic area of an area, m² (sum of its oriented parts, see [`measure`]).
pub fn area_of(mp: &MultiPolygon<f64>) -> f64 {
    mp.0.iter().map(|p| measure(p).area_m2).sum()
}

/// The GeoJSON geometry of an area.
pub fn area_json(mp: &MultiPolygon<f64>) -> Value {
    geometry_to_json(&Geometry::Area(mp.clone()))
}

/// The GeoJSON geometry of a point.
pub fn point_json(c: Coord<f64>) -> Value {
    json!({"type": "Point", "coordinates": [c.x, c.y]})
}

/// The GeoJSON geometry of several points.
pub fn multipoint_json(cs: &[Coord<f64>]) -> Value {
    if cs.len() == 1 {
        return point_json(cs[0]);
    }
    json!({"type": "MultiPoint", "coordinates": cs.iter().map(|c| json!([c.x, c.y])).collect::<Vec<_>>()})
}

/// A rectangle as a counter-clockwise polygon.
pub fn rect_polygon(r: Rect<f64>) -> Polygon<f64> {
    let (a, b) = (r.min(), r.max());
    Polygon::new(
        LineString(vec![
            a,
            Coord { x: b.x, y: a.y },
            b,
            Coord { x: a.x, y: b.y },
            a,
        ]),
        vec![],
    )
}

/// Whether two rectangles intersect (closed).
pub fn rects_intersect(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// `r` grown by `d` on every side.
pub fn expand(r: &Rect<f64>, d: f64) -> Rect<f64> {
    Rect::new(
        Coord {
            x: r.min().x - d,
            y: r.min().y - d,
        },
        Coord {
            x: r.max().x + d,
            y: r.max().y + d,
        },
    )
}

/// Whether `inner` lies within `outer`.
pub fn rect_within(inner: &Rect<f64>, outer: &Rect<f64>) -> bool {
    inner.min().x >= outer.min().x
        && inner.min().y >= outer.min().y
        && inner.max().x <= outer.max().x
        && inner.max().y <= outer.max().y
}

/// Degrees that are at least `m` metres in every direction near latitude `lat`.
pub fn metres_to_deg(m: f64, lat: f64) -> f64 {
    let f = LocalFrame::new(0.0, lat);
    m / f.m_per_deg_lon.min(f.m_per_deg_lat).max(1.0)
}

/// Distance in metres from `p` to the nearest edge of the rings of `mp`.
pub fn distance_to_boundary_m(p: Coord<f64>, mp: &MultiPolygon<f64>) -> f64 {
    let f = LocalFrame::new(p.x, p.y);
    let o = Coord { x: 0.0, y: 0.0 };
    let mut best = f64::INFINITY;
    for poly in &mp.0 {
        for r in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for w in r.0.windows(2) {
                let d = point_segment_distance(o, f.to_xy(w[0]), f.to_xy(w[1]));
                if d < best {
                    best = d;
                }
            }
        }
    }
    best
}

/// Bounding rectangle of an area, if it has any position.
pub fn bbox(mp: &MultiPolygon<f64>) -> Option<Rect<f64>> {
    mp.bounding_rect()
}

/// Signed area (shoelace, in coordinate units) of a ring; positive when counter-clockwise.
pub fn ring_signed_area(r: &[Coord<f64>]) -> f64 {
    if r.len() < 3 {
        return 0.0;
    }
    let o = r[0];
    let mut s = 0.0;
    for w in r.windows(2) {
        s += (w[0].x - o.x) * (w[1].y - o.y) - (w[1].x - o.x) * (w[0].y - o.y);
    }
    let (a, b) = (r[r.len() - 1], r[0]);
    s += (a.x - o.x) * (b.y - o.y) - (b.x - o.x) * (a.y - o.y);
    s / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needle_triangle_has_no_width() {
        let p = Polygon::new(
            LineString(vec![
                Coord {
                    x: 121.200_420_199_228_79,
                    y: 30.800_766_599_012_505,
                },
                Coord {
                    x: 121.200_420_199_227_88,
                    y: 30.800_766_599_012_505,
                },
                Coord {
                    x: 121.200_420_199_228_33,
                    y: 30.800_766_599_012_05,
                },
                Coord {
                    x: 121.200_420_199_228_79,
                    y: 30.800_766_599_012_505,
                },
            ]),
            vec![],
        );
        let m = measure(&p);
        assert!(m.width_m < 0.001, "{} {}", m.area_m2, m.width_m);
    }
}
