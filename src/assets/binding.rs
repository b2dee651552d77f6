//! Where a shop is: its anchor point, its block, and the road segment it faces (门前责任区).
//!
//! - [`anchor`]: a point shop's point; a footprint's interior point (a point inside the polygon,
//!   `geo`'s `InteriorPoint`), so that it is never outside an L-shaped shop.
//! - [`block_of`]: the block containing the anchor ([`Atlas::locate`]: no nearest-block fallback).
//! - [`bind`]: the nearest road segment within `max_m` metres (the default 30 m,
//!   [`DEFAULT_BINDING_M`]). A point's distance is the atlas's ([`Atlas::roads_near`]: local
//!   metric frame at the point); a footprint's is the shortest distance between the polygon and
//!   the road line in the local frame at its anchor, 0 when they touch or cross (or the road runs
//!   inside it). Distances are compared to the millimetre: segments within the same millimetre
//!   are tied, and a tie goes to the smaller segment code, so the binding never depends on the
//!   order of the segments in the file.

use super::{BindingSource, Frontage, ShopGeometry};
use crate::atlas::{Atlas, FeatureId};
use crate::geometry::measure::{LocalFrame, point_segment_distance};
use geo::{Coord, InteriorPoint, Intersects, Polygon};

/// The default binding distance, metres.
pub const DEFAULT_BINDING_M: f64 = 30.0;

/// The anchor point `(lon, lat)` of a shop: its point, or an interior point of its footprint (a
/// vertex of the exterior for a degenerate polygon; NaN for an empty one).
pub fn anchor(geometry: &ShopGeometry) -> (f64, f64) {
    match geometry {
        ShopGeometry::Point(lon, lat) => (*lon, *lat),
        ShopGeometry::Polygon(p) => match p.interior_point() {
            Some(pt) => (pt.x(), pt.y()),
            None => p
                .exterior()
                .0
                .first()
                .map_or((f64::NAN, f64::NAN), |c| (c.x, c.y)),
        },
    }
}

/// The block containing the shop's anchor, if any.
pub fn block_of(atlas: &Atlas, geometry: &ShopGeometry) -> Option<FeatureId> {
    let (lon, lat) = anchor(geometry);
    atlas.locate(lon, lat)[3]
}

/// The road segment the shop faces: the nearest within `max_m` metres, ties (to the
/// millimetre) to the smaller code; `None` when there is none that near.
pub fn bind(atlas: &Atlas, geometry: &ShopGeometry, max_m: f64) -> Option<Frontage> {
    let candidates = distances(atlas, geometry, max_m);
    let (feature, distance_m) = candidates.into_iter().min_by(|a, b| {
        mm(a.1)
            .cmp(&mm(b.1))
            .then_with(|| atlas.feature(a.0).code.cmp(&atlas.feature(b.0).code))
    })?;
    Some(Frontage {
        segment: atlas.feature(feature).code.clone(),
        distance_m,
        source: BindingSource::Nearest,
    })
}

/// A distance in whole millimetres, for comparing.
fn mm(d: f64) -> i64 {
    (d * 1000.0).round() as i64
}

/// Every road segment within `max_m` of the shop, with its distance.
fn distances(atlas: &Atlas, geometry: &ShopGeometry, max_m: f64) -> Vec<(FeatureId, f64)> {
    if max_m.is_nan() || max_m < 0.0 {
        return Vec::new();
    }
    match geometry {
        ShopGeometry::Point(lon, lat) => {
            if !(lon.is_finite() && lat.is_finite()) {
                return Vec::new();
            }
            atlas
                .roads_near(*lon, *lat, max_m)
                .into_iter()
                .map(|h| (h.feature, h.distance_m))
                .collect()
        }
        ShopGeometry::Polygon(p) => {
            let (lon, lat) = anchor(geometry);
            if !(lon.is_finite() && lat.is_finite()) {
                return Vec::new();
            }
            let frame = LocalFrame::new(lon, lat);
            // Every road within max_m of the polygon is within max_m + its reach from the anchor.
            let reach = p
                .exterior()
                .0
                .iter()
                .map(|c| {
                    let xy = frame.to_xy(*c);
                    xy.x.hypot(xy.y)
                })
                .fold(0.0, f64::max);
            let mut out = Vec::new();
            for hit in atlas.roads_near(lon, lat, max_m + reach) {
                let Some(line) = atlas.feature(hit.feature).geometry.as_line() else {
                    continue;
                };
                let d = polygon_line_distance_m(p, line, &frame);
                if d <= max_m {
                    out.push((hit.feature, d));
                }
            }
            out
        }
    }
}

/// Distance in metres between a polygon and a line, in `frame`: 0 when they intersect.
pub fn polygon_line_distance_m(
    polygon: &Polygon<f64>,
    line: &geo::MultiLineString<f64>,
    frame: &LocalFrame,
) -> f64 {
    if polygon.intersects(line) {
        return 0.0;
    }
    let rings: Vec<Vec<Coord<f64>>> = std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .map(|r| r.0.iter().map(|c| frame.to_xy(*c)).collect())
        .collect();
    let mut best = f64::INFINITY;
    for ls in &line.0 {
        let pts: Vec<Coord<f64>> = ls.0.iter().map(|c| frame.to_xy(*c)).collect();
        for w in pts.windows(2) {
            for ring in &rings {
                for e in ring.windows(2) {
                    best = best
                        .min(point_segment_distance(w[0], e[0], e[1]))
                        .min(point_segment_distance(w[1], e[0], e[1]))
                        .min(point_segment_distance(e[0], w[0], w[1]))
                        .min(point_segment_distance(e[1], w[0], w[1]));
                }
            }
        }
        if let [only] = pts.as_slice() {
            for ring in &rings {
                for e in ring.windows(2) {
                    best = best.min(point_segment_distance(*only, e[0], e[1]));
                }
            }
        }
    }
    best
}
