//! The cell index behind [`super::Atlas`]: a uniform raster over the territory whose cells answer
//! "which polygon of each layer contains this point?" — without any test where possible, and
//! otherwise with the exact rule of [`crate::geometry::pip`] over the few edges inside the cell.
//!
//! 1. **Marking** (build): every edge of every polygon marks the cells its segment may touch,
//!    widened by 1e-9 of a cell against rounding. A cell without a polygon's mark lies wholly
//!    inside or wholly outside it, so one test of its centre decides the whole cell. Per layer, a
//!    cell gets the first polygon in file order covering it (*default*) and, as *candidates*, the
//!    marked polygons before the default. A cell with no candidate in any layer is a *combo*
//!    cell: it points to a shared entry of four feature ids, and one read answers a lookup.
//! 2. **Mixed cells.** The crossing rule counts the edges straddling the point's `y` that lie
//!    east of it. Within the cell's row, a candidate's edges are split into those wholly east of
//!    the cell (each always crossed when it straddles `y`), wholly west (never crossed) and those
//!    touching the cell. The first two depend only on `y`: a parity for `y` below the row plus
//!    *steps* (vertex `y`s inside the row where it flips). Since a closed ring straddles every `y`
//!    an even number of times, counting westward (straddling edges *not* strictly left of the
//!    point) gives the same parity; each candidate uses the side with fewer steps. So a point's
//!    parity per candidate is `base ^ steps ≤ y ^ crossings of the edges in the cell` — the same
//!    answer as the whole polygon, bit for bit.
//! 3. **One test per edge for all layers.** A mixed cell keeps the distinct edges touching it
//!    once, with their coordinates inline and a bit mask of the candidates (of all four layers)
//!    owning them: an edge shared by two blocks, their grids and streets is tested once, and the
//!    candidates' parities come out as one 32-bit word. Per layer, the first candidate with an
//!    odd parity wins, else the default. Cells with more than 32 candidates use several groups.
//!
//! Nothing of the polygons is kept after the build except what the cells store.

use crate::geometry::pip;
use geo::{Coord, MultiPolygon, Rect};

/// Sentinel for "no polygon".
pub const NONE: u32 = u32::MAX;
/// Entry flag: the low bits index the combo table rather than the mixed-cell groups.
const COMBO: u32 = 1 << 31;

/// The raster's geometry: origin, cell size in degrees, and dimensions.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    x0: f64,
    y0: f64,
    dx: f64,
    dy: f64,
    /// `1 / dx`, `1 / dy`: rows and columns are found by multiplication.
    inv_dx: f64,
    inv_dy: f64,
    /// Columns.
    pub ncols: u32,
    /// Rows.
    pub nrows: u32,
}

impl Grid {
    /// A raster covering `bbox` with cells of about `cell_m` metres.
    pub fn covering(bbox: Rect<f64>, cell_m: f64) -> Grid {
        let frame = crate::geometry::measure::LocalFrame::new(bbox.center().x, bbox.center().y);
        let dx = cell_m / frame.m_per_deg_lon;
        let dy = cell_m / frame.m_per_deg_lat;
        // A margin of one cell so that every vertex is strictly inside the raster.
        let x0 = bbox.min().x - dx;
        let y0 = bbox.min().y - dy;
        let ncols = (((bbox.max().x - x0) / dx).floor() as u32)
            .saturating_add(2)
            .max(1);
        let nrows = (((bbox.max().y - y0) / dy).floor() as u32)
            .saturating_add(2)
            .max(1);
        Grid {
            x0,
            y0,
            dx,
            dy,
            inv_dx: 1.0 / dx,
            inv_dy: 1.0 / dy,
            ncols,
            nrows,
        }
    }

    /// Column of `x` (may be out of range: negative or ≥ ncols).
    #[inline]
    pub fn col_f(&self, x: f64) -> f64 {
        floor((x - self.x0) * self.inv_dx)
    }

    /// Row of `y` (may be out of range).
    #[inline]
    pub fn row_f(&self, y: f64) -> f64 {
        floor((y - self.y0) * self.inv_dy)
    }

    #[inline]
    fn clamp_row(&self, r: f64) -> u32 {
        r.clamp(0.0, f64::from(self.nrows - 1)) as u32
    }

    #[inline]
    fn clamp_col(&self, c: f64) -> u32 {
        c.clamp(0.0, f64::from(self.ncols - 1)) as u32
    }

    /// The cell of a point, if it is inside the raster.
    #[inline]
    pub fn cell_of(&self, x: f64, y: f64) -> Option<(u32, u32)> {
        // For non-negative values truncation is `floor`, the same as in `col_f` and `row_f`.
        let c = (x - self.x0) * self.inv_dx;
        let r = (y - self.y0) * self.inv_dy;
        // NaN fails both comparisons and lands here too.
        if c >= 0.0 && r >= 0.0 && c < f64::from(self.ncols) && r < f64::from(self.nrows) {
            Some((r as u32, c as u32))
        } else {
            None
        }
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.ncols as usize * self.nrows as usize
    }

    /// True when the raster has no cells (never: it has at least one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Centre of a cell.
    pub fn center(&self, row: u32, col: u32) -> Coord<f64> {
        Coord {
            x: self.x0 + (f64::from(col) + 0.5) * self.dx,
            y: self.y0 + (f64::from(row) + 0.5) * self.dy,
        }
    }

    /// The lon/lat rectangle of cells `rows × cols` (inclusive ranges).
    pub fn cell_rect(&self, row: u32, col: u32) -> Rect<f64> {
        let min = Coord {
            x: self.x0 + f64::from(col) * self.dx,
            y: self.y0 + f64::from(row) * self.dy,
        };
        Rect::new(
            min,
            Coord {
                x: min.x + self.dx,
                y: min.y + self.dy,
            },
        )
    }

    /// Rows an edge `a`–`b` can straddle (inclusive).
    fn edge_rows(&self, a: Coord<f64>, b: Coord<f64>) -> (u32, u32) {
        let eps = self.dy * 1e-9;
        (
            self.clamp_row(self.row_f(a.y.min(b.y) - eps)),
            self.clamp_row(self.row_f(a.y.max(b.y) + eps)),
        )
    }

    /// Columns (inclusive, clamped) the segment `a`–`b` may touch within row `r`, where
    /// `(r0, r1)` are its [`Grid::edge_rows`]; conservative by 1e-9 of a cell.
    fn edge_cols_in_row(
        &self,
        a: Coord<f64>,
        b: Coord<f64>,
        r: u32,
        r0: u32,
        r1: u32,
    ) -> (u32, u32) {
        let ex = self.dx * 1e-9;
        let (xmin, xmax) = (a.x.min(b.x), a.x.max(b.x));
        // x-range of the segment inside this row's band.
        let (lo, hi) = if r0 == r1 || a.y == b.y {
            (xmin, xmax)
        } else {
            // The row widened by 1e-9 of a cell: a point whose row is `r` lies inside it, even
            // with the rounding of its row computation.
            let ey = self.dy * 1e-9;
            let yb0 = self.y0 + f64::from(r) * self.dy - ey;
            let yb1 = yb0 + self.dy + 2.0 * ey;
            let at = |y: f64| a.x + (b.x - a.x) * ((y - a.y) / (b.y - a.y));
            let (ya, yb) = (yb0.max(a.y.min(b.y)), yb1.min(a.y.max(b.y)));
            let (xa, xb) = (at(ya), at(yb));
            (xa.min(xb).max(xmin), xa.max(xb).min(xmax))
        };
        (
            self.clamp_col(self.col_f(lo - ex)),
            self.clamp_col(self.col_f(hi + ex)),
        )
    }

    /// Calls `f(row, col)` for every cell the segment `a`–`b` may touch (conservatively).
    fn for_edge_cells(&self, a: Coord<f64>, b: Coord<f64>, mut f: impl FnMut(u32, u32)) {
        let (r0, r1) = self.edge_rows(a, b);
        for r in r0..=r1 {
            let (c0, c1) = self.edge_cols_in_row(a, b, r, r0, r1);
            for c in c0..=c1 {
                f(r, c);
            }
        }
    }
}

/// `v.floor()` without the libm call (exact for |v| < 2⁶³; NaN gives 0, far values saturate — the
/// callers clamp or range-check the result).
#[inline]
fn floor(v: f64) -> f64 {
    let t = v as i64 as f64;
    if t > v { t - 1.0 } else { t }
}

/// The polygons of one layer, stored flat, with their band edge lists (build time only).
#[derive(Debug, Default)]
struct PolyStore {
    verts: Vec<Coord<f64>>,
    /// Start vertex of every ring (all polygons), plus one past the end.
    ring_starts: Vec<u32>,
    /// Per polygon: range of its rings in `ring_starts`.
    poly_rings: Vec<(u32, u32)>,
    /// Per polygon: first band row and offset of its row table in `band_ranges`.
    band_row0: Vec<u32>,
    band_rows: Vec<u32>,
    band_table: Vec<u32>,
    /// Per polygon and row: range into `band_edges`.
    band_ranges: Vec<u32>,
    band_edges: Vec<u32>,
    /// Bounding boxes.
    bboxes: Vec<Rect<f64>>,
}

impl PolyStore {
    fn len(&self) -> usize {
        self.poly_rings.len()
    }

    fn push(&mut self, area: &MultiPolygon<f64>) {
        let v0 = self.verts.len();
        let r0 = self.ring_starts.len() as u32;
        for p in &area.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                if ring.0.len() < 2 {
                    continue;
                }
                self.ring_starts.push(self.verts.len() as u32);
                self.verts.extend_from_slice(&ring.0);
            }
        }
        let r1 = self.ring_starts.len() as u32;
        self.poly_rings.push((r0, r1));
        let mut it = self.verts[v0..].iter();
        let bbox = match it.next() {
            Some(&first) => {
                let (mut min, mut max) = (first, first);
                for c in it {
                    min.x = min.x.min(c.x);
                    min.y = min.y.min(c.y);
                    max.x = max.x.max(c.x);
                    max.y = max.y.max(c.y);
                }
                Rect::new(min, max)
            }
            None => Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 }),
        };
        self.bboxes.push(bbox);
    }

    fn ring_end(&self, ring: u32) -> u32 {
        self.ring_starts
            .get(ring as usize + 1)
            .copied()
            .unwrap_or(self.verts.len() as u32)
    }

    /// Every edge of polygon `k`, as the index of its first vertex.
    fn edges(&self, k: usize) -> impl Iterator<Item = u32> + '_ {
        let (r0, r1) = self.poly_rings[k];
        (r0..r1).flat_map(move |r| {
            let s = self.ring_starts[r as usize];
            let e = self.ring_end(r);
            s..e.saturating_sub(1).max(s)
        })
    }

    /// The endpoints of edge `e`.
    #[inline]
    fn edge(&self, e: u32) -> (Coord<f64>, Coord<f64>) {
        (self.verts[e as usize], self.verts[e as usize + 1])
    }

    fn build_bands(&mut self, grid: &Grid) {
        let n = self.len();
        self.band_row0 = Vec::with_capacity(n);
        self.band_rows = Vec::with_capacity(n);
        self.band_table = Vec::with_capacity(n);
        let mut scratch: Vec<(u32, u32)> = Vec::new();
        for k in 0..n {
            scratch.clear();
            let b = self.bboxes[k];
            let (row0, row1) = grid.edge_rows(b.min(), b.max());
            for e in self.edges(k) {
                let (a, bb) = self.edge(e);
                if a.y == bb.y {
                    continue; // a horizontal edge never straddles any y
                }
                let (r0, r1) = grid.edge_rows(a, bb);
                for r in r0..=r1 {
                    scratch.push((r - row0, e));
                }
            }
            scratch.sort_unstable();
            let rows = row1 - row0 + 1;
            self.band_row0.push(row0);
            self.band_rows.push(rows);
            self.band_table.push(self.band_ranges.len() as u32);
            let mut i = 0;
            for r in 0..rows {
                self.band_ranges.push(self.band_edges.len() as u32);
                while i < scratch.len() && scratch[i].0 == r {
                    self.band_edges.push(scratch[i].1);
                    i += 1;
                }
            }
            self.band_ranges.push(self.band_edges.len() as u32);
        }
    }

    /// Polygon `k`'s band edges in raster row `row` (empty outside its rows).
    fn band(&self, k: u32, row: u32) -> &[u32] {
        let k = k as usize;
        let Some(rr) = row.checked_sub(self.band_row0[k]) else {
            return &[];
        };
        if rr >= self.band_rows[k] {
            return &[];
        }
        let t = (self.band_table[k] + rr) as usize;
        &self.band_edges[self.band_ranges[t] as usize..self.band_ranges[t + 1] as usize]
    }

    /// Whether polygon `k` contains `(x, y)`, which lies in raster row `row`.
    fn contains(&self, k: u32, row: u32, x: f64, y: f64) -> bool {
        let mut inside = false;
        for &ei in self.band(k, row) {
            let (a, b) = self.edge(ei);
            if pip::crosses(a, b, x, y) {
                inside = !inside;
            }
        }
        inside
    }
}

/// Number of indexed area layers (district, street, grid, block).
pub const LAYERS: usize = 4;

/// At most this many candidates share one parity word; a cell with more gets several groups.
const GROUP: usize = 32;

/// An edge of some candidates that passes through a mixed cell (build time).
#[derive(Debug, Clone, Copy)]
struct CellEdge {
    a: Coord<f64>,
    b: Coord<f64>,
    /// Candidates (bits of the group) counting this edge with the westward rule.
    mask_w: u32,
    /// All candidates owning this edge.
    mask_all: u32,
}

/// The raster of cells over all indexed layers.
///
/// A mixed cell's groups lie contiguously in `data`, so that a lookup reads a few neighbouring
/// cache lines. One group, in 64-bit words:
///
/// - 0: the candidates' parity bits for a `y` below every step (low 32 bits), and the candidates
///   counting westward (high 32 bits);
/// - 1: the cumulative candidate count per layer (4 × 8 bits: layer `l` owns bits
///   `end[l-1]..end[l]`; bit 31 set when another group of the same cell follows), the number of
///   steps (16 bits) and of chain vertices (16 bits) — or `0xffff` in both and the two counts
///   (32 bits each) in one more word;
/// - then the cell's default feature id per layer (4 × 32 bits);
/// - the candidates' feature ids, by layer then file order (2 per word);
/// - the steps' `y` (f64), then their masks (2 per word): at `y >= step` the bits flip;
/// - the chain vertices (x, y) of the edges crossing the cell;
/// - per link between consecutive vertices, the candidates owning it (2 per word; zero between
///   two chains).
#[derive(Debug)]
pub struct Raster {
    /// Geometry.
    pub grid: Grid,
    /// One entry per cell: `COMBO | index` into `combos`, or the word offset of its first group.
    cells: Vec<u32>,
    /// Per-layer answers (feature ids) of cells that need no test.
    combos: Vec<[u32; LAYERS]>,
    /// The groups of the mixed cells.
    data: Vec<u64>,
    /// Number of edges stored in mixed cells (statistics).
    n_edges: usize,
}

/// Contribution of the edges of one candidate lying wholly on one side of a cell, within a row:
/// the parity for `y` below the row and the `y`s inside the row where it flips.
#[derive(Default)]
struct Side {
    parity: bool,
    steps: Vec<f64>,
}

impl Side {
    fn add(&mut self, lo: f64, hi: f64, ry0: f64, ry1: f64) {
        // The edge counts for lo <= y < hi: a flip at lo and one at hi.
        for t in [lo, hi] {
            if t < ry0 {
                self.parity = !self.parity;
            } else if t <= ry1 {
                self.steps.push(t);
            }
        }
    }
}

/// Builds one mixed cell's groups from its candidates `(layer, slot)` (layer, then file order).
struct CellBuilder {
    edges: Vec<([u64; 4], CellEdge)>,
    merged: Vec<CellEdge>,
    used: Vec<bool>,
    chain: std::collections::VecDeque<(Coord<f64>, u32)>,
    steps: Vec<(f64, u32)>,
    east: Side,
    west: Side,
    inside: Vec<(Coord<f64>, Coord<f64>)>,
}

impl Raster {
    /// Builds the raster over `areas[l]` = the `(feature id, area)`s of layer `l`, in file order.
    /// Returns it with the bounding box of every area, per layer (in the given order).
    pub fn build(
        areas: [Vec<(u32, &MultiPolygon<f64>)>; LAYERS],
        cell_m: f64,
    ) -> (Raster, [Vec<Rect<f64>>; LAYERS]) {
        let mut stores: [PolyStore; LAYERS] = Default::default();
        for (store, list) in stores.iter_mut().zip(&areas) {
            for (_, a) in list {
                store.push(a);
            }
        }
        let ids: [Vec<u32>; LAYERS] =
            std::array::from_fn(|l| areas[l].iter().map(|&(id, _)| id).collect());
        let id_of = |l: usize, k: u32| if k == NONE { NONE } else { ids[l][k as usize] };
        let mut bbox: Option<Rect<f64>> = None;
        for s in &stores {
            for b in &s.bboxes {
                bbox = Some(match bbox {
                    None => *b,
                    Some(x) => Rect::new(
                        Coord {
                            x: x.min().x.min(b.min().x),
                            y: x.min().y.min(b.min().y),
                        },
                        Coord {
                            x: x.max().x.max(b.max().x),
                            y: x.max().y.max(b.max().y),
                        },
                    ),
                });
            }
        }
        let bbox = bbox.unwrap_or(Rect::new(
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 0.0, y: 0.0 },
        ));
        let grid = Grid::covering(bbox, cell_m);
        for s in stores.iter_mut() {
            s.build_bands(&grid);
        }

        let ncells = grid.len();
        // Per layer: (cell, polygon) marks of boundaries, and the first full owner per cell.
        let mut marks: [Vec<(u32, u32)>; LAYERS] = Default::default();
        let mut full: [Vec<u32>; LAYERS] = Default::default();
        let mut row_marks: Vec<(u32, u32)> = Vec::new();
        for l in 0..LAYERS {
            full[l] = vec![NONE; ncells];
            let store = &stores[l];
            for k in 0..store.len() {
                row_marks.clear();
                for e in store.edges(k) {
                    let (a, b) = store.edge(e);
                    grid.for_edge_cells(a, b, |r, c| row_marks.push((r, c)));
                }
                row_marks.sort_unstable();
                row_marks.dedup();
                for &(r, c) in &row_marks {
                    marks[l].push((r * grid.ncols + c, k as u32));
                }
                // Runs of unmarked cells inside the bbox: all in or all out; test one point.
                let b = store.bboxes[k];
                let (r0, r1) = grid.edge_rows(b.min(), b.max());
                let c0 = grid.clamp_col(grid.col_f(b.min().x));
                let c1 = grid.clamp_col(grid.col_f(b.max().x));
                let mut m = 0;
                for r in r0..=r1 {
                    while m < row_marks.len() && row_marks[m].0 < r {
                        m += 1;
                    }
                    let mut c = c0;
                    while c <= c1 {
                        while m < row_marks.len() && row_marks[m].0 == r && row_marks[m].1 < c {
                            m += 1;
                        }
                        if m < row_marks.len() && row_marks[m] == (r, c) {
                            m += 1;
                            c += 1;
                            continue;
                        }
                        let run_end = if m < row_marks.len() && row_marks[m].0 == r {
                            row_marks[m].1.min(c1 + 1)
                        } else {
                            c1 + 1
                        };
                        let p = grid.center(r, c);
                        if store.contains(k as u32, r, p.x, p.y) {
                            for cc in c..run_end {
                                let slot = &mut full[l][(r * grid.ncols + cc) as usize];
                                *slot = (*slot).min(k as u32);
                            }
                        }
                        c = run_end;
                    }
                }
            }
            marks[l].sort_unstable();
            marks[l].dedup();
        }

        let mut raster = Raster {
            grid,
            cells: vec![0u32; ncells],
            combos: Vec::new(),
            data: Vec::new(),
            n_edges: 0,
        };
        // Fx hash: the build's small integer keys (SipHash is needlessly slow here).
        let mut combo_ids: rustc_hash::FxHashMap<[u32; LAYERS], u32> = Default::default();
        let mut builder = CellBuilder {
            edges: Vec::new(),
            merged: Vec::new(),
            used: Vec::new(),
            chain: Default::default(),
            steps: Vec::new(),
            east: Side::default(),
            west: Side::default(),
            inside: Vec::new(),
        };
        let mut cursor = [0usize; LAYERS];
        let mut cand_list: Vec<(usize, u32)> = Vec::new();
        for cell in 0..ncells {
            let cell = cell as u32;
            let mut defaults = [NONE; LAYERS];
            cand_list.clear();
            for l in 0..LAYERS {
                let mk = &marks[l];
                let s = cursor[l];
                let mut e = s;
                while e < mk.len() && mk[e].0 == cell {
                    e += 1;
                }
                cursor[l] = e;
                let d = full[l][cell as usize];
                defaults[l] = id_of(l, d);
                // Candidates before the default (in file order) only.
                cand_list.extend(
                    mk[s..e]
                        .iter()
                        .take_while(|&&(_, k)| k < d)
                        .map(|&(_, k)| (l, k)),
                );
            }
            if cand_list.is_empty() {
                let next = raster.combos.len() as u32;
                let combo = *combo_ids.entry(defaults).or_insert_with(|| {
                    raster.combos.push(defaults);
                    next
                });
                raster.cells[cell as usize] = COMBO | combo;
            } else {
                // Offsets beyond 2³¹ words (16 GiB) would collide with the combo flag.
                raster.cells[cell as usize] = (raster.data.len() as u32) & !COMBO;
                let (row, col) = (cell / grid.ncols, cell % grid.ncols);
                let chunks = cand_list.len().div_ceil(GROUP);
                for (g, chunk) in cand_list.chunks(GROUP).enumerate() {
                    builder.group(
                        &mut raster,
                        &stores,
                        &ids,
                        chunk,
                        row,
                        col,
                        defaults,
                        g + 1 < chunks,
                    );
                }
            }
        }
        raster.cells.shrink_to_fit();
        raster.combos.shrink_to_fit();
        raster.data.shrink_to_fit();
        let bboxes = stores.map(|s| s.bboxes);
        (raster, bboxes)
    }

    /// The index of the cell of `(x, y)`, if it is inside the raster.
    #[inline]
    pub fn cell_index(&self, x: f64, y: f64) -> Option<usize> {
        self.grid
            .cell_of(x, y)
            .map(|(r, c)| (r * self.grid.ncols + c) as usize)
    }

    /// The feature id of each layer containing `(x, y)`; [`NONE`] where none does.
    #[inline]
    pub fn locate(&self, x: f64, y: f64) -> [u32; LAYERS] {
        match self.cell_index(x, y) {
            Some(cell) => self.locate_in(cell, x, y),
            None => [NONE; LAYERS],
        }
    }

    /// [`Raster::locate`] for a point whose cell index is `cell`.
    #[inline]
    pub fn locate_in(&self, cell: usize, x: f64, y: f64) -> [u32; LAYERS] {
        let entry = self.cells[cell];
        if entry & COMBO != 0 {
            return self.combos[(entry & !COMBO) as usize];
        }
        let mut out = [NONE; LAYERS];
        let mut found = [false; LAYERS];
        let mut at = entry as usize;
        loop {
            let d = &self.data[at..];
            let (w0, w1) = (d[0], d[1]);
            let mut m = w0 as u32;
            let west = (w0 >> 32) as u32;
            let mut end = (w1 as u32).to_le_bytes();
            let more = end[LAYERS - 1] & 0x80 != 0;
            end[LAYERS - 1] &= 0x7f;
            let (mut ns, mut nv) = (((w1 >> 32) & 0xffff) as usize, (w1 >> 48) as usize);
            let mut defaults = 2;
            if ns == 0xffff || nv == 0xffff {
                ns = (d[2] as u32) as usize;
                nv = (d[2] >> 32) as usize;
                defaults = 3;
            }
            let nc = usize::from(end[LAYERS - 1]);
            let cands = defaults + 2;
            let steps = cands + nc.div_ceil(2);
            let masks = steps + ns;
            let verts = masks + ns.div_ceil(2);
            let links = verts + 2 * nv;
            let nl = nv.saturating_sub(1);
            for (i, &t) in d[steps..masks].iter().enumerate() {
                if f64::from_bits(t) <= y {
                    m ^= (d[masks + i / 2] >> (32 * (i % 2))) as u32;
                } else {
                    break;
                }
            }
            // Walk the chains: a link straddles `y` when exactly one end is at or below it.
            let v = &d[verts..links];
            let lw = &d[links..links + nl.div_ceil(2)];
            let mut it = v.chunks_exact(2).map(|c| Coord {
                x: f64::from_bits(c[0]),
                y: f64::from_bits(c[1]),
            });
            if let Some(mut prev) = it.next() {
                let mut prev_below = prev.y <= y;
                for (i, cur) in it.enumerate() {
                    let below = cur.y <= y;
                    if below != prev_below {
                        let lm = (lw.get(i / 2).copied().unwrap_or(0) >> (32 * (i % 2))) as u32;
                        if lm != 0 {
                            let (lo, hi) = if prev_below { (prev, cur) } else { (cur, prev) };
                            m ^= lm & west;
                            if pip::left_of(lo, hi, x, y) {
                                m ^= lm;
                            }
                        }
                    }
                    prev = cur;
                    prev_below = below;
                }
            }
            // Odd parities, lowest bit first: per layer the first in file order wins.
            let ends = [u32::from(end[0]), u32::from(end[1]), u32::from(end[2])];
            while m != 0 {
                let k = m.trailing_zeros();
                m &= m - 1;
                let l = usize::from(k >= ends[0])
                    + usize::from(k >= ends[1])
                    + usize::from(k >= ends[2]);
                if !found[l] {
                    found[l] = true;
                    let k = k as usize;
                    out[l] = (d[cands + k / 2] >> (32 * (k % 2))) as u32;
                }
            }
            if !more {
                for l in 0..LAYERS {
                    if !found[l] {
                        out[l] = (d[defaults + l / 2] >> (32 * (l % 2))) as u32;
                    }
                }
                return out;
            }
            at += links + nl.div_ceil(2);
        }
    }

    /// Whether cell `(row, col)` needs no point-in-polygon test.
    pub fn is_combo_cell(&self, row: u32, col: u32) -> bool {
        self.cells[(row * self.grid.ncols + col) as usize] & COMBO != 0
    }

    /// Heap bytes used, by part.
    pub fn heap_breakdown(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("cells", self.cells.capacity() * 4),
            ("combos", self.combos.capacity() * 4 * LAYERS),
            ("mixed cells", self.data.capacity() * 8),
        ]
    }

    /// (cells, cells needing no test, edges stored in mixed cells) — for benchmarks and docs.
    pub fn stats(&self) -> (usize, usize, usize) {
        let combo = self.cells.iter().filter(|&&e| e & COMBO != 0).count();
        (self.cells.len(), combo, self.n_edges)
    }
}

impl CellBuilder {
    /// Appends one group of candidates of cell `(row, col)` to `raster`.
    #[allow(clippy::too_many_arguments)]
    fn group(
        &mut self,
        raster: &mut Raster,
        stores: &[PolyStore; LAYERS],
        ids: &[Vec<u32>; LAYERS],
        chunk: &[(usize, u32)],
        row: u32,
        col: u32,
        defaults: [u32; LAYERS],
        more: bool,
    ) {
        let grid = &raster.grid;
        let my = grid.dy * 1e-9;
        let ry0 = grid.y0 + f64::from(row) * grid.dy;
        let (ry0, ry1) = (ry0 - my, ry0 + grid.dy + my);
        self.edges.clear();
        self.steps.clear();
        let mut base = 0u32;
        let mut west_bits = 0u32;
        let mut end = [0u8; LAYERS];
        let mut cand_ids: Vec<u32> = Vec::with_capacity(chunk.len());
        for (bit, &(l, k)) in chunk.iter().enumerate() {
            let bit = 1u32 << bit;
            for e in end.iter_mut().skip(l) {
                *e += 1;
            }
            cand_ids.push(ids[l][k as usize]);
            for side in [&mut self.east, &mut self.west] {
                side.parity = false;
                side.steps.clear();
            }
            self.inside.clear();
            let store = &stores[l];
            for &ei in store.band(k, row) {
                let (a, b) = store.edge(ei);
                let (lo, hi) = if a.y <= b.y { (a, b) } else { (b, a) };
                let (r0, r1) = grid.edge_rows(a, b);
                let (c0, c1) = grid.edge_cols_in_row(a, b, row, r0, r1);
                if c0 > col {
                    self.east.add(lo.y, hi.y, ry0, ry1);
                } else if c1 < col {
                    self.west.add(lo.y, hi.y, ry0, ry1);
                } else {
                    self.inside.push((lo, hi));
                }
            }
            // Either ray decides the same (a closed ring straddles every y an even number of
            // times): take the side with fewer steps.
            let west = self.west.steps.len() < self.east.steps.len();
            let side = if west { &self.west } else { &self.east };
            if side.parity {
                base |= bit;
            }
            if west {
                west_bits |= bit;
            }
            self.steps.extend(side.steps.iter().map(|&t| (t, bit)));
            for &(lo, hi) in &self.inside {
                let key = [lo.x, lo.y, hi.x, hi.y].map(f64::to_bits);
                self.edges.push((
                    key,
                    CellEdge {
                        a: lo,
                        b: hi,
                        mask_w: if west { bit } else { 0 },
                        mask_all: bit,
                    },
                ));
            }
        }
        // Merge equal edges and equal steps (XOR: an edge twice in one polygon cancels).
        self.edges.sort_unstable_by_key(|e| e.0);
        self.merged.clear();
        let mut i = 0;
        while i < self.edges.len() {
            let (key, mut edge) = self.edges[i];
            i += 1;
            while i < self.edges.len() && self.edges[i].0 == key {
                edge.mask_w ^= self.edges[i].1.mask_w;
                edge.mask_all ^= self.edges[i].1.mask_all;
                i += 1;
            }
            if edge.mask_all != 0 || edge.mask_w != 0 {
                self.merged.push(edge);
            }
        }
        self.steps.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut step_y: Vec<f64> = Vec::new();
        let mut step_mask: Vec<u32> = Vec::new();
        let mut i = 0;
        while i < self.steps.len() {
            let (t, mut mask) = self.steps[i];
            i += 1;
            while i < self.steps.len() && self.steps[i].0 == t {
                mask ^= self.steps[i].1;
                i += 1;
            }
            if mask != 0 {
                step_y.push(t);
                step_mask.push(mask);
            }
        }
        // Chains of edges sharing endpoints: (vertex, masks of the link to the next vertex).
        let mut verts: Vec<(Coord<f64>, u32)> = Vec::with_capacity(2 * self.merged.len());
        self.used.clear();
        self.used.resize(self.merged.len(), false);
        let same = |p: Coord<f64>, q: Coord<f64>| p.x == q.x && p.y == q.y;
        // The westward owners of a link are `mask_all & west_bits` (as `mask_w` is).
        let link = |e: &CellEdge| e.mask_all;
        for s in 0..self.merged.len() {
            if self.used[s] {
                continue;
            }
            self.used[s] = true;
            let e = self.merged[s];
            self.chain.clear();
            self.chain.push_back((e.a, link(&e)));
            self.chain.push_back((e.b, 0));
            // Extend at the back, then at the front (quadratic: only for the usual few edges).
            let chaining = self.merged.len() <= 64;
            while let Some(&(tail, _)) = self.chain.back().filter(|_| chaining) {
                let next = (0..self.merged.len()).find(|&j| {
                    !self.used[j] && (same(self.merged[j].a, tail) || same(self.merged[j].b, tail))
                });
                let Some(j) = next else { break };
                self.used[j] = true;
                let f = self.merged[j];
                let other = if same(f.a, tail) { f.b } else { f.a };
                if let Some(last) = self.chain.back_mut() {
                    last.1 = link(&f);
                }
                self.chain.push_back((other, 0));
            }
            while let Some(&(head, _)) = self.chain.front().filter(|_| chaining) {
                let next = (0..self.merged.len()).find(|&j| {
                    !self.used[j] && (same(self.merged[j].a, head) || same(self.merged[j].b, head))
                });
                let Some(j) = next else { break };
                self.used[j] = true;
                let f = self.merged[j];
                let other = if same(f.a, head) { f.b } else { f.a };
                self.chain.push_front((other, link(&f)));
            }
            verts.extend(self.chain.iter().copied());
        }
        raster.n_edges += self.merged.len();

        let data = &mut raster.data;
        data.push(u64::from(base) | (u64::from(west_bits) << 32));
        let mut w1 = u64::from(u32::from_le_bytes(end)) | (u64::from(more) << 31);
        let (ns, nv) = (step_y.len() as u64, verts.len() as u64);
        if ns < 0xffff && nv < 0xffff {
            data.push(w1 | (ns << 32) | (nv << 48));
        } else {
            w1 |= 0xffff_ffff << 32;
            data.push(w1);
            data.push((ns & 0xffff_ffff) | (nv << 32));
        }
        let pair = |lo: u32, hi: u32| u64::from(lo) | (u64::from(hi) << 32);
        data.push(pair(defaults[0], defaults[1]));
        data.push(pair(defaults[2], defaults[3]));
        for c in cand_ids.chunks(2) {
            data.push(pair(c[0], c.get(1).copied().unwrap_or(0)));
        }
        data.extend(step_y.iter().map(|t| t.to_bits()));
        for c in step_mask.chunks(2) {
            data.push(pair(c[0], c.get(1).copied().unwrap_or(0)));
        }
        for (v, _) in &verts {
            data.push(v.x.to_bits());
            data.push(v.y.to_bits());
        }
        let links: Vec<u32> = verts
            .iter()
            .take(verts.len().saturating_sub(1))
            .map(|&(_, m)| m)
            .collect();
        for c in links.chunks(2) {
            data.push(pair(c[0], c.get(1).copied().unwrap_or(0)));
        }
    }
}
