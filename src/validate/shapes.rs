//! Hand-made shapes in metres around a fixed origin (121.2° E, 30.8° N), for tests, fixtures and
//! benchmarks: squares, rectangles, L-shapes, hexagon tilings, holes, features.

use crate::geometry::measure::LocalFrame;
use crate::model::{Feature, Geometry, Layer};
use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon};

/// Longitude of the origin.
pub const LON0: f64 = 121.2;
/// Latitude of the origin.
pub const LAT0: f64 = 30.8;

fn frame() -> LocalFrame {
    LocalFrame::new(LON0, LAT0)
}

/// Lon/lat of the point `x` m east and `y` m north of the origin.
pub fn at(x: f64, y: f64) -> Coord<f64> {
    frame().to_lonlat(Coord { x, y })
}

/// A closed ring through metre positions (closing position added), as given (no reorientation).
pub fn ring(pts: &[(f64, f64)]) -> LineString<f64> {
    let mut v: Vec<Coord<f64>> = pts.iter().map(|&(x, y)| at(x, y)).collect();
    if let Some(&first) = v.first() {
        v.push(first);
    }
    LineString(v)
}

/// A polygon from metre positions of the shell (counter-clockwise expected) and holes.
pub fn poly(shell: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
    Polygon::new(ring(shell), holes.iter().map(|h| ring(h)).collect())
}

/// Axis-aligned rectangle `[x0, x1] × [y0, y1]` in metres, counter-clockwise.
pub fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
    poly(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1)], &[])
}

/// Square with lower-left corner `(x0, y0)` and side `s` metres, as a one-part area.
pub fn sq(x0: f64, y0: f64, s: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![rect(x0, y0, x0 + s, y0 + s)])
}

/// An L-shape: the square `[x0, x0+s]²` without its upper-right quarter.
pub fn l_shape(x0: f64, y0: f64, s: f64) -> MultiPolygon<f64> {
    let h = s / 2.0;
    MultiPolygon(vec![poly(
        &[
            (x0, y0),
            (x0 + s, y0),
            (x0 + s, y0 + h),
            (x0 + h, y0 + h),
            (x0 + h, y0 + s),
            (x0, y0 + s),
        ],
        &[],
    )])
}

/// An area feature.
pub fn area(layer: Layer, code: &str, parent: Option<&str>, mp: MultiPolygon<f64>) -> Feature {
    Feature {
        layer,
        code: code.into(),
        name: code.into(),
        parent: parent.map(Into::into),
        kind: layer.kinds().first().copied(),
        people: vec![],
        attributes: serde_json::Map::new(),
        geometry: Geometry::Area(mp),
    }
}

/// A road segment through metre positions.
pub fn road(code: &str, parent: &str, pts: &[(f64, f64)]) -> Feature {
    Feature {
        layer: Layer::RoadSegment,
        code: code.into(),
        name: code.into(),
        parent: Some(parent.into()),
        kind: None,
        people: vec![],
        attributes: serde_json::Map::new(),
        geometry: Geometry::Line(MultiLineString(vec![LineString(
            pts.iter().map(|&(x, y)| at(x, y)).collect(),
        )])),
    }
}

/// A pointy-top hexagon tiling: `cols × rows` hexagons of circumradius `r` metres, with exactly
/// shared vertices (computed once per lattice point). Hexagons are returned row by row.
pub fn hex_tiling(cols: usize, rows: usize, r: f64) -> Vec<MultiPolygon<f64>> {
    let w = 3f64.sqrt() * r;
    // Vertex k of the hexagon centred at (cx, cy): angle 30° + 60°k.
    let vertex = |cx: f64, cy: f64, k: usize| {
        let a = (30.0 + 60.0 * k as f64).to_radians();
        // Round to a lattice so that neighbours compute bit-identical positions.
        let x = ((cx + r * a.cos()) * 1e6).round() / 1e6;
        let y = ((cy + r * a.sin()) * 1e6).round() / 1e6;
        at(x, y)
    };
    let mut out = Vec::with_capacity(cols * rows);
    for j in 0..rows {
        for i in 0..cols {
            let cx = i as f64 * w + if j % 2 == 1 { w / 2.0 } else { 0.0 };
            let cy = j as f64 * 1.5 * r;
            let mut v: Vec<Coord<f64>> = (0..6).map(|k| vertex(cx, cy, k)).collect();
            v.push(v[0]);
            out.push(MultiPolygon(vec![Polygon::new(LineString(v), vec![])]));
        }
    }
    out
}

/// A whole district on a jittered lattice, every layer with exactly shared vertices: blocks are
/// lattice cells, a grid is `grid_side × grid_side` blocks, a street `street_side × street_side`
/// grids; the district is the whole lattice. Grids alternate between the three grid layers.
/// `blocks_side = 72, grid_side = 4, street_side = 6` gives ≈ 5,000 blocks (like `synth --scale 1`);
/// `blocks_side = 320` ≈ 100,000 blocks (`--scale 20`). Cells are `cell_m` metres.
pub fn lattice_district(
    blocks_side: usize,
    grid_side: usize,
    street_side: usize,
    cell_m: f64,
) -> Vec<Feature> {
    let n = blocks_side;
    let jitter = |i: usize, j: usize| {
        let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        let h = h ^ (h >> 29);
        let a = (h & 0xFFFF) as f64 / 65535.0 - 0.5;
        let b = ((h >> 16) & 0xFFFF) as f64 / 65535.0 - 0.5;
        (a * 0.3 * cell_m, b * 0.3 * cell_m)
    };
    let pts: Vec<Vec<Coord<f64>>> = (0..=n)
        .map(|i| {
            (0..=n)
                .map(|j| {
                    let on_edge = i == 0 || j == 0 || i == n || j == n;
                    let (dx, dy) = if on_edge { (0.0, 0.0) } else { jitter(i, j) };
                    at(i as f64 * cell_m + dx, j as f64 * cell_m + dy)
                })
                .collect()
        })
        .collect();
    // Ring around the cell rectangle [i0, i1) × [j0, j1), counter-clockwise, through every lattice
    // point on its boundary.
    let ring_of = |i0: usize, j0: usize, i1: usize, j1: usize| {
        let mut v = Vec::with_capacity(2 * (i1 - i0 + j1 - j0) + 1);
        v.extend(pts[i0..i1].iter().map(|col| col[j0]));
        v.extend_from_slice(&pts[i1][j0..j1]);
        for i in (i0 + 1..=i1).rev() {
            v.push(pts[i][j1]);
        }
        for j in (j0 + 1..=j1).rev() {
            v.push(pts[i0][j]);
        }
        v.push(pts[i0][j0]);
        MultiPolygon(vec![Polygon::new(LineString(v), vec![])])
    };
    let mut out = vec![area(Layer::District, "d", None, ring_of(0, 0, n, n))];
    let gs = grid_side;
    let ss = street_side * gs;
    for si in (0..n).step_by(ss) {
        for sj in (0..n).step_by(ss) {
            let scode = format!("s{}_{}", si / ss, sj / ss);
            out.push(area(
                Layer::Street,
                &scode,
                Some("d"),
                ring_of(si, sj, (si + ss).min(n), (sj + ss).min(n)),
            ));
            for gi in (si..(si + ss).min(n)).step_by(gs) {
                for gj in (sj..(sj + ss).min(n)).step_by(gs) {
                    let gcode = format!("g{}_{}", gi / gs, gj / gs);
                    let layer = Layer::GRIDS[(gi / gs + gj / gs) % 3];
                    out.push(area(
                        layer,
                        &gcode,
                        Some(&scode),
                        ring_of(gi, gj, (gi + gs).min(n), (gj + gs).min(n)),
                    ));
                    for bi in gi..(gi + gs).min(n) {
                        for bj in gj..(gj + gs).min(n) {
                            out.push(area(
                                Layer::Block,
                                &format!("b{bi}_{bj}"),
                                Some(&gcode),
                                ring_of(bi, bj, bi + 1, bj + 1),
                            ));
                        }
                    }
                }
            }
        }
    }
    out
}
