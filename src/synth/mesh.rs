//! The fine hexagonal mesh every synthetic area is made of.
//!
//! Pointy-top hexagons in a local metric frame, rows offset by half a cell on odd rows. Every
//! mesh vertex is shared by exactly three cells; it is the top corner (`N`) of one cell or the
//! bottom corner (`S`) of one cell, which gives each vertex a unique id. Vertices are perturbed by
//! a hash of their id (organic boundaries, no rectangles) and rounded once to 1e-6 degree, so a
//! vertex has the same coordinates in every ring that uses it.

use crate::geometry::measure::LocalFrame;
use geo::Coord;

/// Decimal places of every output coordinate.
pub const DECIMALS: f64 = 1e6;

/// Rounds a lon/lat coordinate to the output precision.
pub fn round_coord(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: (c.x * DECIMALS).round() / DECIMALS,
        y: (c.y * DECIMALS).round() / DECIMALS,
    }
}

/// splitmix64: a small, fast, well-mixed hash used for per-vertex and per-cell noise.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform value in [0, 1) from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The mesh: a box of `rows × cols` hexagonal cells.
#[derive(Debug, Clone)]
pub struct Mesh {
    /// Number of rows.
    pub rows: usize,
    /// Number of cells per row.
    pub cols: usize,
    /// Distance between neighbouring cell centres, in metres.
    pub d: f64,
    /// Local metres of the centre of cell (0, 0).
    pub x0: f64,
    /// Local metres of the centre of cell (0, 0).
    pub y0: f64,
    /// The metric frame (origin = district centre).
    pub frame: LocalFrame,
    seed: u64,
}

/// Neighbour directions, in counter-clockwise order starting east.
pub const E: usize = 0;

impl Mesh {
    /// A mesh covering the local box `[xmin, xmax] × [ymin, ymax]` (metres) plus a margin.
    pub fn new(frame: LocalFrame, d: f64, bbox: [f64; 4], margin: usize, seed: u64) -> Self {
        let dy = d * 3f64.sqrt() / 2.0;
        let m = margin as f64;
        let x0 = bbox[0] - m * d;
        let y0 = bbox[1] - m * dy;
        let cols = ((bbox[2] - x0) / d).ceil() as usize + margin + 1;
        let rows = ((bbox[3] - y0) / dy).ceil() as usize + margin + 1;
        Mesh {
            rows,
            cols,
            d,
            x0,
            y0,
            frame,
            seed,
        }
    }

    /// Number of cells in the box.
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// True when the box has no cells.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row spacing in metres.
    pub fn dy(&self) -> f64 {
        self.d * 3f64.sqrt() / 2.0
    }

    /// Hexagon side (centre to corner), in metres.
    pub fn side(&self) -> f64 {
        self.d / 3f64.sqrt()
    }

    /// Row and column of a cell.
    #[inline]
    pub fn rc(&self, cell: usize) -> (usize, usize) {
        (cell / self.cols, cell % self.cols)
    }

    /// Local metres of a cell centre.
    #[inline]
    pub fn centre_xy(&self, cell: usize) -> (f64, f64) {
        let (r, c) = self.rc(cell);
        let off = if r % 2 == 1 { self.d / 2.0 } else { 0.0 };
        (
            self.x0 + c as f64 * self.d + off,
            self.y0 + r as f64 * self.dy(),
        )
    }

    /// Lon/lat of a cell centre, rounded to the output precision.
    pub fn centre_lonlat(&self, cell: usize) -> Coord<f64> {
        let (x, y) = self.centre_xy(cell);
        round_coord(self.frame.to_lonlat(Coord { x, y }))
    }

    /// The cell whose centre is nearest to local `(x, y)` (approximately), if in the box.
    pub fn cell_at(&self, x: f64, y: f64) -> Option<usize> {
        let rf = ((y - self.y0) / self.dy()).round();
        if rf < 0.0 || rf >= self.rows as f64 {
            return None;
        }
        let r = rf as usize;
        let off = if r % 2 == 1 { self.d / 2.0 } else { 0.0 };
        let cf = ((x - self.x0 - off) / self.d).round();
        if cf < 0.0 || cf >= self.cols as f64 {
            return None;
        }
        let mut best = r * self.cols + cf as usize;
        let mut bd = f64::INFINITY;
        // The rounded row/col may be off by one near row boundaries: check neighbours too.
        for cand in std::iter::once(best).chain(self.neighbours(best).into_iter().flatten()) {
            let (cx, cy) = self.centre_xy(cand);
            let dd = (cx - x).powi(2) + (cy - y).powi(2);
            if dd < bd {
                bd = dd;
                best = cand;
            }
        }
        Some(best)
    }

    /// The six neighbours (E, NE, NW, W, SW, SE), `None` outside the box.
    #[inline]
    pub fn neighbours(&self, cell: usize) -> [Option<usize>; 6] {
        let (r, c) = self.rc(cell);
        let (r, c) = (r as isize, c as isize);
        let o = r & 1;
        let at = |rr: isize, cc: isize| -> Option<usize> {
            if rr < 0 || cc < 0 || rr >= self.rows as isize || cc >= self.cols as isize {
                None
            } else {
                Some(rr as usize * self.cols + cc as usize)
            }
        };
        [
            at(r, c + 1),
            at(r + 1, c + o),
            at(r + 1, c - 1 + o),
            at(r, c - 1),
            at(r - 1, c - 1 + o),
            at(r - 1, c + o),
        ]
    }

    fn vid(&self, r: isize, c: isize, k: usize) -> u32 {
        (((r + 1) as usize * (self.cols + 2) + (c + 1) as usize) * 2 + k) as u32
    }

    /// Number of vertex ids.
    pub fn vertex_count(&self) -> usize {
        (self.rows + 2) * (self.cols + 2) * 2
    }

    /// The six corners as vertex ids, ordered so that edge `k` (corner `k` → corner `k+1`) is the
    /// side shared with neighbour `k`, traversed with this cell on the left.
    #[inline]
    pub fn corners(&self, cell: usize) -> [u32; 6] {
        let (r, c) = self.rc(cell);
        let (r, c) = (r as isize, c as isize);
        let o = r & 1;
        [
            self.vid(r - 1, c + o, 0),     // 330°: N of the south-east cell
            self.vid(r + 1, c + o, 1),     // 30°: S of the north-east cell
            self.vid(r, c, 0),             // 90°: N of this cell
            self.vid(r + 1, c - 1 + o, 1), // 150°: S of the north-west cell
            self.vid(r - 1, c - 1 + o, 0), // 210°: N of the south-west cell
            self.vid(r, c, 1),             // 270°: S of this cell
        ]
    }

    /// Lon/lat of a vertex, perturbed and rounded.
    pub fn vertex_lonlat(&self, vid: u32) -> Coord<f64> {
        let v = vid as usize;
        let k = v % 2;
        let rc = v / 2;
        let r = (rc / (self.cols + 2)) as f64 - 1.0;
        let c = (rc % (self.cols + 2)) as f64 - 1.0;
        let off = if (r as i64).rem_euclid(2) == 1 {
            self.d / 2.0
        } else {
            0.0
        };
        let x = self.x0 + c * self.d + off;
        let s = self.side();
        let y = self.y0 + r * self.dy() + if k == 0 { s } else { -s };
        let h = mix(self.seed ^ mix(vid as u64));
        let ang = unit(h) * std::f64::consts::TAU;
        let rad = 0.22 * s * unit(mix(h)).sqrt();
        round_coord(self.frame.to_lonlat(Coord {
            x: x + rad * ang.cos(),
            y: y + rad * ang.sin(),
        }))
    }

    /// Smooth value noise in [0, 1) at local `(x, y)`, lattice spacing `l` metres.
    pub fn noise(&self, x: f64, y: f64, l: f64, salt: u64) -> f64 {
        let (gx, gy) = (x / l, y / l);
        let (ix, iy) = (gx.floor(), gy.floor());
        let (fx, fy) = (gx - ix, gy - iy);
        let sm = |t: f64| t * t * (3.0 - 2.0 * t);
        let (sx, sy) = (sm(fx), sm(fy));
        let val = |a: f64, b: f64| -> f64 {
            unit(mix(self.seed
                ^ salt
                ^ mix(
                    (a as i64 as u64).wrapping_mul(0x1000_0000_01B3) ^ (b as i64 as u64)
                )))
        };
        let v00 = val(ix, iy);
        let v10 = val(ix + 1.0, iy);
        let v01 = val(ix, iy + 1.0);
        let v11 = val(ix + 1.0, iy + 1.0);
        let a = v00 + (v10 - v00) * sx;
        let b = v01 + (v11 - v01) * sx;
        a + (b - a) * sy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mesh() -> Mesh {
        Mesh::new(
            LocalFrame::new(121.2, 30.8),
            60.0,
            [0.0, 0.0, 600.0, 600.0],
            2,
            7,
        )
    }

    #[test]
    fn neighbours_share_the_right_edge() {
        let m = mesh();
        for cell in 0..m.len() {
            let cs = m.corners(cell);
            for (k, nb) in m.neighbours(cell).into_iter().enumerate() {
                let Some(nb) = nb else { continue };
                let ncs = m.corners(nb);
                // Our edge k is the neighbour's edge k+3, reversed.
                let kk = (k + 3) % 6;
                assert_eq!(cs[k], ncs[(kk + 1) % 6], "cell {cell} dir {k}");
                assert_eq!(cs[(k + 1) % 6], ncs[kk], "cell {cell} dir {k}");
            }
        }
    }

    #[test]
    fn corners_are_counter_clockwise_around_the_centre() {
        let m = mesh();
        let cell = m.cols * 3 + 4;
        let cs = m.corners(cell);
        let ring: Vec<Coord<f64>> = cs.iter().map(|&v| m.vertex_lonlat(v)).collect();
        let mut a = 0.0;
        for i in 0..6 {
            let (p, q) = (ring[i], ring[(i + 1) % 6]);
            a += p.x * q.y - q.x * p.y;
        }
        assert!(a > 0.0);
        let c = m.centre_lonlat(cell);
        let mp = geo::MultiPolygon(vec![geo::Polygon::new(
            geo::LineString(
                ring.iter()
                    .copied()
                    .chain(std::iter::once(ring[0]))
                    .collect(),
            ),
            vec![],
        )]);
        assert!(crate::geometry::pip::contains(&mp, c.x, c.y));
    }

    #[test]
    fn cell_at_finds_the_cell() {
        let m = mesh();
        for cell in [0, 5, m.cols + 3, m.len() - 1] {
            let (x, y) = m.centre_xy(cell);
            assert_eq!(m.cell_at(x + 3.0, y - 2.0), Some(cell));
        }
    }
}
