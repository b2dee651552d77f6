//! Places of the demo district the asset tests put components and shops at: a point some
//! metres off another, and the middle of a long road segment of a street grid.

#![allow(dead_code)]

use geo::Coord;
use gridatlas::atlas::Atlas;
use gridatlas::geometry::measure::LocalFrame;
use gridatlas::model::Layer;

/// The point `east_m` east and `north_m` north of `p`.
pub fn offset(p: (f64, f64), east_m: f64, north_m: f64) -> (f64, f64) {
    let c = LocalFrame::new(p.0, p.1).to_lonlat(Coord {
        x: east_m,
        y: north_m,
    });
    (c.x, c.y)
}

/// The middle of a road segment of a street grid, the segment's code and its direction
/// (a unit vector east, north).
pub fn street_segment(atlas: &Atlas) -> ((f64, f64), String, (f64, f64)) {
    for f in atlas.features().layer(Layer::RoadSegment) {
        let Some(id) = atlas.find(&f.code) else {
            continue;
        };
        let grid = atlas
            .ancestors(id)
            .into_iter()
            .find(|&a| atlas.feature(a).layer.is_grid());
        if grid.is_none_or(|g| atlas.feature(g).layer != Layer::StreetGrid) {
            continue;
        }
        let Some(line) = f.geometry.as_line().and_then(|l| l.0.first()) else {
            continue;
        };
        if line.0.len() < 2 {
            continue;
        }
        let (a, b) = (line.0[0], line.0[1]);
        let frame = LocalFrame::new(a.x, a.y);
        let bx = frame.to_xy(b);
        let len = bx.x.hypot(bx.y);
        if len < 60.0 {
            continue;
        }
        let mid = frame.to_lonlat(Coord {
            x: bx.x / 2.0,
            y: bx.y / 2.0,
        });
        return ((mid.x, mid.y), f.code.clone(), (bx.x / len, bx.y / len));
    }
    panic!("no long street-grid segment");
}
