//! Coverage of road segments by patrol paths: the engine the server and `gridatlas coverage` run
//! ([`CoverageIndex`]), and the brute-force geometric reference it is checked against
//! ([`reference_coverage`]). Block visits and time inside grids are [`super::geofence`]'s.
//!
//! # Definition (exactly as computed)
//!
//! - A **path** is the polyline through the fixes of one of [`super::paths`]' paths, in order; a
//!   path of one fix is that point.
//! - A road segment's **length** `length_m` is the sum of the lengths of its lines' edges, and its
//!   **covered length** `covered_m` the measure of the set of points of its lines lying within
//!   `radius_m` (distance ≤ radius) of any path — of any person, any number of times: a stretch
//!   passed by two paths, or twice by one, counts once. A stretch of line drawn twice by the
//!   segment itself counts twice, in both lengths. **Share** = `covered_m / length_m` (0 for a
//!   segment of no length).
//! - Distances and lengths of a segment are measured in the segment's own local metric frame
//!   ([`LocalFrame`] at its first coordinate): road segments are a few hundred metres long, so the
//!   frame's error is far below a centimetre wherever the segment lies in a 50 km district.
//!
//! # How
//!
//! The points within `radius_m` of a path edge form a capsule (a rectangle along the edge and a
//! disc at each end). The distance to a convex set is convex along a line, so the parameters
//! `t ∈ [0, 1]` of a road edge lying in a capsule form one interval: the hull of the road edge
//! clipped against the rectangle and against the two discs. Each road edge keeps the union of its
//! intervals (sorted, disjoint); a segment's covered length is the sum over its edges of the edge's
//! length times the measure of that union. No sampling, no polygons: the answer is exact up to
//! floating point.
//!
//! [`CoverageIndex::new`] puts every road edge in the cells of a uniform lon/lat grid (cells of
//! about `max(2·radius, 40 m)`) lying within `radius_m` of it, so a path edge only asks the cells
//! its bounding box touches. Build it once per atlas generation; each batch of fixes goes into a
//! [`Tally`] ([`CoverageIndex::add_path`]); tallies of parallel workers [`Tally::merge`]; and
//! [`CoverageIndex::finish`] sums them up per segment, in input order.

use super::Fix;
use crate::geometry::measure::LocalFrame;
use geo::{
    BooleanOps, Buffer, Coord, Euclidean, Length, LineString, MultiLineString, MultiPolygon, Point,
    buffer::{BufferStyle, LineCap, LineJoin},
};
use serde::Serialize;

/// The coverage of one road segment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentCoverage {
    /// The segment's code.
    pub code: String,
    /// Its length, metres.
    pub length_m: f64,
    /// The length within the radius of a path, metres.
    pub covered_m: f64,
    /// `covered_m / length_m` (0 when the length is 0).
    pub share: f64,
}

impl SegmentCoverage {
    fn new(code: String, length_m: f64, covered_m: f64) -> SegmentCoverage {
        let covered_m = covered_m.clamp(0.0, length_m);
        let share = if length_m > 0.0 {
            covered_m / length_m
        } else {
            0.0
        };
        SegmentCoverage {
            code,
            length_m,
            covered_m,
            share,
        }
    }
}

/// One road edge, in its segment's frame translated to the edge's start: the edge runs from
/// `(0, 0)` to `(dx, dy)` metres; a lon/lat point maps to `((lon − lon0)·mx, (lat − lat0)·my)`.
#[derive(Debug, Clone, Copy)]
struct RoadEdge {
    lon0: f64,
    lat0: f64,
    mx: f64,
    my: f64,
    dx: f64,
    dy: f64,
    len2: f64,
}

/// A segment: its code and the range of its edges.
#[derive(Debug, Clone)]
struct Segment {
    code: String,
    length_m: f64,
    edges: std::ops::Range<u32>,
}

/// The uniform lon/lat grid of cells holding road edges (compressed rows).
#[derive(Debug, Clone)]
struct Cells {
    lon0: f64,
    lat0: f64,
    /// Cell size, degrees of longitude and latitude.
    dlon: f64,
    dlat: f64,
    nx: usize,
    ny: usize,
    /// Per cell `i`, its edges are `items[start[i]..start[i + 1]]`.
    start: Vec<u32>,
    items: Vec<u32>,
}

impl Cells {
    fn empty() -> Cells {
        Cells {
            lon0: 0.0,
            lat0: 0.0,
            dlon: 1.0,
            dlat: 1.0,
            nx: 0,
            ny: 0,
            start: vec![0],
            items: Vec::new(),
        }
    }

    /// The cell columns and rows a lon/lat box touches, clamped to the grid; `None` outside it.
    #[inline]
    fn range(
        &self,
        min: (f64, f64),
        max: (f64, f64),
    ) -> Option<(
        std::ops::RangeInclusive<usize>,
        std::ops::RangeInclusive<usize>,
    )> {
        let x0 = ((min.0 - self.lon0) / self.dlon).floor();
        let x1 = ((max.0 - self.lon0) / self.dlon).floor();
        let y0 = ((min.1 - self.lat0) / self.dlat).floor();
        let y1 = ((max.1 - self.lat0) / self.dlat).floor();
        let (nx, ny) = (self.nx as f64, self.ny as f64);
        // NaN compares false: a non-finite fix touches nothing.
        if !(x1 >= 0.0 && y1 >= 0.0 && x0 < nx && y0 < ny) {
            return None;
        }
        let c = |v: f64, n: usize| (v.max(0.0) as usize).min(n - 1);
        Some((
            c(x0, self.nx)..=c(x1, self.nx),
            c(y0, self.ny)..=c(y1, self.ny),
        ))
    }

    #[inline]
    fn cell(&self, x: usize, y: usize) -> &[u32] {
        let i = y * self.nx + x;
        &self.items[self.start[i] as usize..self.start[i + 1] as usize]
    }
}

/// The road segments of an atlas generation, indexed for coverage. Immutable; share it.
#[derive(Debug, Clone)]
pub struct CoverageIndex {
    radius_m: f64,
    segments: Vec<Segment>,
    edges: Vec<RoadEdge>,
    cells: Cells,
}

/// The covered parts of every road edge so far: intervals of `t` per edge. One per worker; merge
/// them ([`Tally::merge`]) and [`CoverageIndex::finish`].
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Per road edge: disjoint intervals of `t`, sorted.
    covered: Vec<Vec<(f64, f64)>>,
    /// Candidate edges of one path edge (reused).
    scratch: Vec<u32>,
    /// Fixes added.
    fixes: u64,
}

impl Tally {
    /// Adds `other`'s covered parts to this tally's (both of the same index).
    ///
    /// # Panics
    ///
    /// When the tallies come from indexes with a different number of road edges.
    pub fn merge(&mut self, other: &Tally) {
        assert_eq!(
            self.covered.len(),
            other.covered.len(),
            "tallies of different coverage indexes"
        );
        for (mine, theirs) in self.covered.iter_mut().zip(&other.covered) {
            for &(lo, hi) in theirs {
                insert(mine, lo, hi);
            }
        }
        self.fixes += other.fixes;
    }

    /// Fixes added so far (over merges too).
    pub fn fixes(&self) -> u64 {
        self.fixes
    }
}

/// Adds `[lo, hi]` to sorted disjoint intervals, merging what it overlaps or touches.
#[inline]
fn insert(v: &mut Vec<(f64, f64)>, lo: f64, hi: f64) {
    // Most insertions extend or fall inside the last interval (a walk along the edge).
    if let Some(last) = v.last_mut() {
        if lo >= last.0 && lo <= last.1 {
            if hi > last.1 {
                last.1 = hi;
            }
            return;
        }
    }
    let i = v.partition_point(|iv| iv.1 < lo);
    let j = i + v[i..].partition_point(|iv| iv.0 <= hi);
    if i == j {
        v.insert(i, (lo, hi));
    } else {
        let merged = (lo.min(v[i].0), hi.max(v[j - 1].1));
        v[i] = merged;
        v.drain(i + 1..j);
    }
}

/// The interval `[lo, hi] ⊆ [0, 1]` of `t` where the point `t·d` lies within `r` of the segment
/// `a`–`b` (the capsule), or `None` when it is empty or a single point. `d` must not be zero.
#[inline]
pub fn capsule_interval(d: Coord<f64>, a: Coord<f64>, b: Coord<f64>, r: f64) -> Option<(f64, f64)> {
    let len2 = d.x * d.x + d.y * d.y;
    let r2 = r * r;
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    // The discs at both ends: |t·d − c|² ≤ r².
    let mut disc = |c: Coord<f64>| {
        let dc = d.x * c.x + d.y * c.y;
        let cc = c.x * c.x + c.y * c.y;
        let q = dc * dc - len2 * (cc - r2);
        if q >= 0.0 {
            let s = q.sqrt();
            lo = lo.min((dc - s) / len2);
            hi = hi.max((dc + s) / len2);
        }
    };
    disc(a);
    let (ex, ey) = (b.x - a.x, b.y - a.y);
    let l2 = ex * ex + ey * ey;
    if l2 > 0.0 {
        disc(b);
        // The rectangle: 0 ≤ u ≤ l and |v| ≤ r, with u along the edge and v across it, both
        // linear in t; clipped slab by slab.
        let l = l2.sqrt();
        let (ux, uy) = (ex / l, ey / l);
        let (mut tlo, mut thi) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut slab = |k: f64, o: f64, min: f64, max: f64| {
            if k == 0.0 {
                if o < min || o > max {
                    tlo = f64::INFINITY;
                }
            } else {
                let (t1, t2) = ((min - o) / k, (max - o) / k);
                let (t1, t2) = if t1 <= t2 { (t1, t2) } else { (t2, t1) };
                tlo = tlo.max(t1);
                thi = thi.min(t2);
            }
        };
        slab(d.x * ux + d.y * uy, -(a.x * ux + a.y * uy), 0.0, l);
        slab(-d.x * uy + d.y * ux, a.x * uy - a.y * ux, -r, r);
        if tlo <= thi {
            lo = lo.min(tlo);
            hi = hi.max(thi);
        }
    }
    let (lo, hi) = (lo.max(0.0), hi.min(1.0));
    (lo < hi).then_some((lo, hi))
}

impl CoverageIndex {
    /// Indexes road segments `(code, lines)` (WGS84 lon/lat) for a coverage radius in metres.
    /// The results of [`CoverageIndex::finish`] follow this order. A radius that is not a finite
    /// non-negative number counts as 0.
    pub fn new<'a>(
        segments: impl IntoIterator<Item = (String, &'a MultiLineString<f64>)>,
        radius_m: f64,
    ) -> CoverageIndex {
        let radius_m = if radius_m.is_finite() && radius_m >= 0.0 {
            radius_m
        } else {
            0.0
        };
        let mut out = CoverageIndex {
            radius_m,
            segments: Vec::new(),
            edges: Vec::new(),
            cells: Cells::empty(),
        };
        // Edges with their lon/lat boxes, for the cells.
        let mut boxes: Vec<[f64; 4]> = Vec::new();
        for (code, lines) in segments {
            let first = lines.iter().flat_map(|l| l.0.first()).next().copied();
            let frame = first.map(|c| LocalFrame::new(c.x, c.y));
            let begin = out.edges.len() as u32;
            let mut length_m = 0.0;
            if let Some(frame) = frame {
                for line in lines {
                    for w in line.0.windows(2) {
                        let (p, q) = (frame.to_xy(w[0]), frame.to_xy(w[1]));
                        let (dx, dy) = (q.x - p.x, q.y - p.y);
                        let len2 = dx * dx + dy * dy;
                        if !(len2 > 0.0 && len2.is_finite()) {
                            continue;
                        }
                        length_m += len2.sqrt();
                        out.edges.push(RoadEdge {
                            lon0: w[0].x,
                            lat0: w[0].y,
                            mx: frame.m_per_deg_lon,
                            my: frame.m_per_deg_lat,
                            dx,
                            dy,
                            len2,
                        });
                        boxes.push([
                            w[0].x.min(w[1].x),
                            w[0].y.min(w[1].y),
                            w[0].x.max(w[1].x),
                            w[0].y.max(w[1].y),
                        ]);
                    }
                }
            }
            out.segments.push(Segment {
                code,
                length_m,
                edges: begin..out.edges.len() as u32,
            });
        }
        out.cells = out.build_cells(&boxes);
        out
    }

    fn build_cells(&self, boxes: &[[f64; 4]]) -> Cells {
        let Some(bbox) = boxes.iter().copied().reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        }) else {
            return Cells::empty();
        };
        let centre = LocalFrame::new((bbox[0] + bbox[2]) / 2.0, (bbox[1] + bbox[3]) / 2.0);
        // Degrees per metre, made larger by the widest spread of latitude (cos varies).
        let r = self.radius_m;
        let margin_m = 1.0 + r * 0.01;
        let mut cell_m = (2.0 * r).max(40.0);
        let pad_lon = (r + margin_m) / centre.m_per_deg_lon * 1.05;
        let pad_lat = (r + margin_m) / centre.m_per_deg_lat * 1.05;
        let (lon0, lat0) = (bbox[0] - pad_lon, bbox[1] - pad_lat);
        let (w, h) = (bbox[2] + pad_lon - lon0, bbox[3] + pad_lat - lat0);
        let (mut nx, mut ny, mut dlon, mut dlat);
        loop {
            dlon = cell_m / centre.m_per_deg_lon;
            dlat = cell_m / centre.m_per_deg_lat;
            nx = ((w / dlon).ceil() as usize).max(1);
            ny = ((h / dlat).ceil() as usize).max(1);
            if nx.saturating_mul(ny) <= 1 << 24 {
                break;
            }
            cell_m *= 2.0;
        }
        let mut cells = Cells {
            lon0,
            lat0,
            dlon,
            dlat,
            nx,
            ny,
            start: Vec::new(),
            items: Vec::new(),
        };
        // Two passes: count, then fill.
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (i, (e, b)) in self.edges.iter().zip(boxes).enumerate() {
            let pad = (r + margin_m) / e.mx.min(e.my) * 1.01;
            let Some((xs, ys)) = cells.range((b[0] - pad, b[1] - pad), (b[2] + pad, b[3] + pad))
            else {
                continue;
            };
            // Half the cell's diagonal, metres in the edge's frame.
            let half_diag = 0.5 * (dlon * e.mx).hypot(dlat * e.my);
            for y in ys {
                for x in xs.clone() {
                    let c = Coord {
                        x: (lon0 + (x as f64 + 0.5) * dlon - e.lon0) * e.mx,
                        y: (lat0 + (y as f64 + 0.5) * dlat - e.lat0) * e.my,
                    };
                    let dist = crate::geometry::measure::point_segment_distance(
                        c,
                        Coord { x: 0.0, y: 0.0 },
                        Coord { x: e.dx, y: e.dy },
                    );
                    if dist <= r + margin_m + half_diag {
                        pairs.push(((y * nx + x) as u32, i as u32));
                    }
                }
            }
        }
        pairs.sort_unstable();
        cells.start = vec![0; nx * ny + 1];
        for &(c, _) in &pairs {
            cells.start[c as usize + 1] += 1;
        }
        for i in 0..nx * ny {
            cells.start[i + 1] += cells.start[i];
        }
        cells.items = pairs.into_iter().map(|(_, e)| e).collect();
        cells
    }

    /// The radius, metres.
    pub fn radius_m(&self) -> f64 {
        self.radius_m
    }

    /// Number of road segments.
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Whether there are no road segments.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Number of road edges indexed.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// An empty tally for this index.
    pub fn tally(&self) -> Tally {
        Tally {
            covered: vec![Vec::new(); self.edges.len()],
            scratch: Vec::new(),
            fixes: 0,
        }
    }

    /// Adds one path (consecutive fixes of one person joined as [`super::paths`] joins them; a
    /// single fix is a point). Fixes with non-finite coordinates cover nothing.
    ///
    /// # Panics
    ///
    /// When `tally` is not of this index ([`CoverageIndex::tally`]).
    pub fn add_path(&self, tally: &mut Tally, path: &[Fix]) {
        assert_eq!(
            tally.covered.len(),
            self.edges.len(),
            "a tally of another coverage index"
        );
        tally.fixes += path.len() as u64;
        match path {
            [] => {}
            [f] => self.add_edge(tally, f, f),
            _ => {
                for w in path.windows(2) {
                    self.add_edge(tally, &w[0], &w[1]);
                }
            }
        }
    }

    /// Adds every path of `paths`.
    pub fn add_paths<'a>(&self, tally: &mut Tally, paths: impl IntoIterator<Item = &'a [Fix]>) {
        for p in paths {
            self.add_path(tally, p);
        }
    }

    /// The capsule of the path edge `a`–`b` against the road edges near it.
    #[inline]
    fn add_edge(&self, tally: &mut Tally, a: &Fix, b: &Fix) {
        let min = (a.lon.min(b.lon), a.lat.min(b.lat));
        let max = (a.lon.max(b.lon), a.lat.max(b.lat));
        let Some((xs, ys)) = self.cells.range(min, max) else {
            return;
        };
        let r = self.radius_m;
        if xs.start() == xs.end() && ys.start() == ys.end() {
            for &e in self.cells.cell(*xs.start(), *ys.start()) {
                self.add_on(tally, e, a, b, r);
            }
            return;
        }
        let mut scratch = std::mem::take(&mut tally.scratch);
        scratch.clear();
        for y in ys {
            for x in xs.clone() {
                scratch.extend_from_slice(self.cells.cell(x, y));
            }
        }
        scratch.sort_unstable();
        scratch.dedup();
        for &e in &scratch {
            self.add_on(tally, e, a, b, r);
        }
        tally.scratch = scratch;
    }

    #[inline]
    fn add_on(&self, tally: &mut Tally, e: u32, a: &Fix, b: &Fix, r: f64) {
        let edge = &self.edges[e as usize];
        let pa = Coord {
            x: (a.lon - edge.lon0) * edge.mx,
            y: (a.lat - edge.lat0) * edge.my,
        };
        let pb = Coord {
            x: (b.lon - edge.lon0) * edge.mx,
            y: (b.lat - edge.lat0) * edge.my,
        };
        // Quick rejection: the capsule's box against the edge's box.
        let (ex0, ex1) = (edge.dx.min(0.0), edge.dx.max(0.0));
        let (ey0, ey1) = (edge.dy.min(0.0), edge.dy.max(0.0));
        if pa.x.max(pb.x) + r < ex0
            || pa.x.min(pb.x) - r > ex1
            || pa.y.max(pb.y) + r < ey0
            || pa.y.min(pb.y) - r > ey1
        {
            return;
        }
        let d = Coord {
            x: edge.dx,
            y: edge.dy,
        };
        debug_assert!(edge.len2 > 0.0);
        if let Some((lo, hi)) = capsule_interval(d, pa, pb, r) {
            insert(&mut tally.covered[e as usize], lo, hi);
        }
    }

    /// The coverage of every segment, in input order.
    ///
    /// # Panics
    ///
    /// When `tally` is not of this index.
    pub fn finish(&self, tally: &Tally) -> Vec<SegmentCoverage> {
        assert_eq!(
            tally.covered.len(),
            self.edges.len(),
            "a tally of another coverage index"
        );
        self.segments
            .iter()
            .map(|s| {
                let covered: f64 = (s.edges.start..s.edges.end)
                    .map(|e| {
                        let len = self.edges[e as usize].len2.sqrt();
                        let t: f64 = tally.covered[e as usize]
                            .iter()
                            .map(|(lo, hi)| hi - lo)
                            .sum();
                        len * t
                    })
                    .sum();
                SegmentCoverage::new(s.code.clone(), s.length_m, covered)
            })
            .collect()
    }
}

/// A path edge's lon/lat box, with (path, edge) indices: the reference's filter.
type PathPiece =
    rstar::primitives::GeomWithData<rstar::primitives::Rectangle<[f64; 2]>, (u32, u32)>;

/// The largest angle, radians, of one straight piece of the arcs of the reference's buffers
/// (i_overlay's finest). Every vertex of a buffer lies on its circle, so a buffer of radius `r`
/// lies inside the exact one and a buffer of radius `r / cos(REFERENCE_ARC_RAD / 2)` contains it.
pub const REFERENCE_ARC_RAD: f64 = 0.01 * std::f64::consts::PI;

/// The brute-force geometric REFERENCE for [`CoverageIndex`] — for tests and checking, not used
/// by the server. Per segment, in its local frame ([`LocalFrame`] at its first coordinate): the
/// paths' pieces near it (one fix: a point) are buffered by `radius_m` with `geo`'s [`Buffer`]
/// (round caps and joins; arcs of [`REFERENCE_ARC_RAD`]), the segment's lines are clipped against
/// the buffer ([`BooleanOps::clip`]) and the pieces measured. Arcs are polygons inscribed in their
/// circles, so the covered length falls short of the exact one where a road line crosses an arc.
pub fn reference_coverage<'a>(
    segments: impl IntoIterator<Item = (String, &'a MultiLineString<f64>)>,
    paths: &[&[Fix]],
    radius_m: f64,
) -> Vec<SegmentCoverage> {
    // Path edges (a single fix: an edge from it to itself) with their lon/lat boxes.
    let mut pieces: Vec<PathPiece> = Vec::new();
    for (pi, p) in paths.iter().enumerate() {
        let n = p.len();
        for i in 0..n.saturating_sub(1).max(usize::from(n == 1)) {
            let (a, b) = (&p[i], &p[(i + 1).min(n - 1)]);
            let rect = rstar::primitives::Rectangle::from_corners(
                [a.lon.min(b.lon), a.lat.min(b.lat)],
                [a.lon.max(b.lon), a.lat.max(b.lat)],
            );
            pieces.push(rstar::primitives::GeomWithData::new(
                rect,
                (pi as u32, i as u32),
            ));
        }
    }
    let tree = rstar::RTree::bulk_load(pieces);
    let style = || {
        BufferStyle::new(radius_m)
            .line_cap(LineCap::Round(REFERENCE_ARC_RAD))
            .line_join(LineJoin::Round(REFERENCE_ARC_RAD))
    };
    segments
        .into_iter()
        .map(|(code, lines)| {
            let Some(first) = lines.iter().flat_map(|l| l.0.first()).next().copied() else {
                return SegmentCoverage::new(code, 0.0, 0.0);
            };
            let frame = LocalFrame::new(first.x, first.y);
            let local = MultiLineString(
                lines
                    .iter()
                    .map(|l| LineString(l.0.iter().map(|c| frame.to_xy(*c)).collect()))
                    .collect(),
            );
            let length_m = Euclidean.length(&local);
            // The segment's lon/lat box grown by the radius (and a metre).
            let grow_lon = (radius_m + 1.0) / frame.m_per_deg_lon * 1.1;
            let grow_lat = (radius_m + 1.0) / frame.m_per_deg_lat * 1.1;
            let (mut min, mut max) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for c in lines.iter().flat_map(|l| l.0.iter()) {
                min = [min[0].min(c.x), min[1].min(c.y)];
                max = [max[0].max(c.x), max[1].max(c.y)];
            }
            let query = rstar::AABB::from_corners(
                [min[0] - grow_lon, min[1] - grow_lat],
                [max[0] + grow_lon, max[1] + grow_lat],
            );
            let mut hits: Vec<(u32, u32)> = tree
                .locate_in_envelope_intersecting(&query)
                .map(|g| g.data)
                .collect();
            if hits.is_empty() {
                return SegmentCoverage::new(code, length_m, 0.0);
            }
            hits.sort_unstable();
            // Runs of consecutive edges of one path become one line string.
            let mut strokes: Vec<LineString<f64>> = Vec::new();
            let mut points: Vec<Point<f64>> = Vec::new();
            let xy = |f: &Fix| frame.to_xy(Coord { x: f.lon, y: f.lat });
            let mut k = 0;
            while k < hits.len() {
                let (pi, i0) = hits[k];
                let mut i1 = i0;
                while k + 1 < hits.len() && hits[k + 1] == (pi, i1 + 1) {
                    k += 1;
                    i1 += 1;
                }
                k += 1;
                let p = paths[pi as usize];
                if p.len() == 1 {
                    points.push(Point(xy(&p[0])));
                } else {
                    strokes.push(LineString(
                        p[i0 as usize..=i1 as usize + 1].iter().map(xy).collect(),
                    ));
                }
            }
            let mut area: MultiPolygon<f64> = MultiLineString(strokes).buffer_with_style(style());
            for p in points {
                area = area.union(&p.buffer_with_style(style()));
            }
            let inside = area.clip(&local, false);
            SegmentCoverage::new(code, length_m, Euclidean.length(&inside))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn intervals_merge() {
        let mut v = Vec::new();
        insert(&mut v, 0.5, 0.6);
        insert(&mut v, 0.1, 0.2);
        insert(&mut v, 0.55, 0.7);
        insert(&mut v, 0.8, 0.9);
        assert_eq!(v, [(0.1, 0.2), (0.5, 0.7), (0.8, 0.9)]);
        insert(&mut v, 0.15, 0.85);
        assert_eq!(v, [(0.1, 0.9)]);
        insert(&mut v, 0.0, 0.05);
        assert_eq!(v, [(0.0, 0.05), (0.1, 0.9)]);
    }

    #[test]
    fn capsule_interval_cases() {
        let d = c(100.0, 0.0);
        // A parallel path edge 10 m off from x = 20 to 40 covers x ∈ [20 − √300, 40 + √300].
        let (lo, hi) = capsule_interval(d, c(20.0, 10.0), c(40.0, 10.0), 20.0).expect("hit");
        let s = 300f64.sqrt();
        assert!((lo - (20.0 - s) / 100.0).abs() < 1e-12 && (hi - (40.0 + s) / 100.0).abs() < 1e-12);
        // A point path.
        let (lo, hi) = capsule_interval(d, c(50.0, 0.0), c(50.0, 0.0), 20.0).expect("hit");
        assert!((lo - 0.3).abs() < 1e-12 && (hi - 0.7).abs() < 1e-12);
        // Too far.
        assert!(capsule_interval(d, c(0.0, 21.0), c(100.0, 21.0), 20.0).is_none());
        // Crossing perpendicularly.
        let (lo, hi) = capsule_interval(d, c(50.0, -100.0), c(50.0, 100.0), 20.0).expect("hit");
        assert!((lo - 0.3).abs() < 1e-12 && (hi - 0.7).abs() < 1e-12);
    }
}
