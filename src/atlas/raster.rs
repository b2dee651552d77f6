//! The cell index behind [`super::Atlas`]: a uniform raster over the territory, and per-layer
//! polygon stores with horizontal *band* edge lists.
//!
//! 1. **Polygons** of one layer are stored flat: every ring's vertices, closed, in one `Vec`, so
//!    an edge is a vertex index `i` meaning `(verts[i], verts[i + 1])`.
//! 2. **Bands.** For each polygon and each raster row it spans, the list of its edges that can
//!    straddle a `y` in that row. The point-in-polygon rule ([`crate::geometry::pip`]) only counts
//!    edges straddling the query's `y`, so testing a polygon's band edges gives exactly the same
//!    answer as testing all its edges — in a fraction of the time.
//! 3. **Cells.** Every raster cell knows, per layer, the polygons whose boundary may pass through
//!    it (*candidates*, tested in file order) and the first polygon in file order that covers the
//!    whole cell (*default*, needing no test). Candidates after the default can never win and are
//!    dropped. A cell with no candidates in any layer resolves to a shared *combo* entry: one
//!    memory read answers the lookup.
//!
//! Marking is conservative: an edge marks every cell its segment may touch, widened by a hair
//! (1e-9 of a cell) against rounding, so a cell without a polygon's mark is entirely inside or
//! entirely outside that polygon, and testing one point in it decides the whole cell.

use crate::geometry::pip;
use geo::{Coord, MultiPolygon, Rect};

/// Sentinel for "no polygon".
pub const NONE: u32 = u32::MAX;
/// Entry flag: the low bits index the combo table rather than the mixed-cell records.
const COMBO: u32 = 1 << 31;

/// The raster's geometry: origin, cell size in degrees, and dimensions.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    x0: f64,
    y0: f64,
    dx: f64,
    dy: f64,
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
            ncols,
            nrows,
        }
    }

    /// Column of `x` (may be out of range: negative or ≥ ncols).
    #[inline]
    pub fn col_f(&self, x: f64) -> f64 {
        ((x - self.x0) / self.dx).floor()
    }

    /// Row of `y` (may be out of range).
    #[inline]
    pub fn row_f(&self, y: f64) -> f64 {
        ((y - self.y0) / self.dy).floor()
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
        let c = self.col_f(x);
        let r = self.row_f(y);
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

    /// Calls `f(row, col)` for every cell the segment `a`–`b` may touch (conservatively).
    fn for_edge_cells(&self, a: Coord<f64>, b: Coord<f64>, mut f: impl FnMut(u32, u32)) {
        let (r0, r1) = self.edge_rows(a, b);
        let ex = self.dx * 1e-9;
        let (xmin, xmax) = (a.x.min(b.x), a.x.max(b.x));
        for r in r0..=r1 {
            // x-range of the segment inside this row's band.
            let (lo, hi) = if r0 == r1 || a.y == b.y {
                (xmin, xmax)
            } else {
                let yb0 = self.y0 + f64::from(r) * self.dy;
                let yb1 = yb0 + self.dy;
                let at = |y: f64| a.x + (b.x - a.x) * ((y - a.y) / (b.y - a.y));
                let (ya, yb) = (yb0.max(a.y.min(b.y)), yb1.min(a.y.max(b.y)));
                let (xa, xb) = (at(ya), at(yb));
                (xa.min(xb).max(xmin), xa.max(xb).min(xmax))
            };
            let c0 = self.clamp_col(self.col_f(lo - ex));
            let c1 = self.clamp_col(self.col_f(hi + ex));
            for c in c0..=c1 {
                f(r, c);
            }
        }
    }
}

/// The polygons of one layer, stored flat, with their band edge lists.
#[derive(Debug, Default)]
pub struct PolyStore {
    verts: Vec<Coord<f64>>,
    /// Per polygon: range of its vertices in `verts`, and of its rings.
    poly_verts: Vec<(u32, u32)>,
    /// Start vertex of every ring (all polygons), plus one past the end.
    ring_starts: Vec<u32>,
    poly_rings: Vec<(u32, u32)>,
    /// Per polygon: first band row and offset of its row table in `band_ranges`.
    band_row0: Vec<u32>,
    band_rows: Vec<u32>,
    band_table: Vec<u32>,
    /// Per polygon and row: range into `band_edges`.
    band_ranges: Vec<u32>,
    band_edges: Vec<u32>,
    /// Bounding boxes.
    pub bboxes: Vec<Rect<f64>>,
}

impl PolyStore {
    /// Number of polygons.
    pub fn len(&self) -> usize {
        self.poly_verts.len()
    }

    /// True when the store is empty.
    pub fn is_empty(&self) -> bool {
        self.poly_verts.is_empty()
    }

    fn push(&mut self, area: &MultiPolygon<f64>) {
        let v0 = self.verts.len() as u32;
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
        let v1 = self.verts.len() as u32;
        let r1 = self.ring_starts.len() as u32;
        self.poly_verts.push((v0, v1));
        self.poly_rings.push((r0, r1));
        let bbox = if v1 > v0 {
            let mut min = self.verts[v0 as usize];
            let mut max = min;
            for c in &self.verts[v0 as usize..v1 as usize] {
                min.x = min.x.min(c.x);
                min.y = min.y.min(c.y);
                max.x = max.x.max(c.x);
                max.y = max.y.max(c.y);
            }
            Rect::new(min, max)
        } else {
            Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 })
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
    pub fn edges(&self, k: usize) -> impl Iterator<Item = u32> + '_ {
        let (r0, r1) = self.poly_rings[k];
        (r0..r1).flat_map(move |r| {
            let s = self.ring_starts[r as usize];
            let e = self.ring_end(r);
            s..e.saturating_sub(1).max(s)
        })
    }

    /// The endpoints of edge `e`.
    #[inline]
    pub fn edge(&self, e: u32) -> (Coord<f64>, Coord<f64>) {
        (self.verts[e as usize], self.verts[e as usize + 1])
    }

    /// Number of stored vertices.
    pub fn vertex_count(&self) -> usize {
        self.verts.len()
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

    /// The range of polygon `k`'s band edges in raster row `row` (empty outside its rows).
    pub fn band(&self, k: u32, row: u32) -> (u32, u32) {
        let k = k as usize;
        let Some(rr) = row.checked_sub(self.band_row0[k]) else {
            return (0, 0);
        };
        if rr >= self.band_rows[k] {
            return (0, 0);
        }
        let t = (self.band_table[k] + rr) as usize;
        (
            self.band_ranges[t],
            self.band_ranges[t + 1] - self.band_ranges[t],
        )
    }

    /// Whether polygon `k` contains `(x, y)`, which lies in raster row `row`.
    #[inline]
    pub fn contains(&self, k: u32, row: u32, x: f64, y: f64) -> bool {
        let (start, len) = self.band(k, row);
        self.band_contains(start, len, x, y)
    }

    /// The crossing parity of the band edges `start..start + len` for `(x, y)`.
    #[inline]
    pub fn band_contains(&self, start: u32, len: u32, x: f64, y: f64) -> bool {
        let mut inside = false;
        for &ei in &self.band_edges[start as usize..(start + len) as usize] {
            let (a, b) = self.edge(ei);
            if pip::crosses(a, b, x, y) {
                inside = !inside;
            }
        }
        inside
    }

    /// Distance in metres from `frame`'s origin to the boundary of polygon `k`.
    pub fn boundary_distance_m(
        &self,
        k: usize,
        frame: &crate::geometry::measure::LocalFrame,
    ) -> f64 {
        self.edges(k)
            .map(|e| {
                let (a, b) = self.edge(e);
                frame.distance_to_segment(a, b)
            })
            .fold(f64::INFINITY, f64::min)
    }

    /// Heap bytes used.
    pub fn heap_bytes(&self) -> usize {
        self.verts.capacity() * 16
            + self.poly_verts.capacity() * 8
            + self.ring_starts.capacity() * 4
            + self.poly_rings.capacity() * 8
            + (self.band_row0.capacity() + self.band_rows.capacity() + self.band_table.capacity())
                * 4
            + self.band_ranges.capacity() * 4
            + self.band_edges.capacity() * 4
            + self.bboxes.capacity() * 32
    }
}

/// Number of indexed area layers (district, street, grid, block).
pub const LAYERS: usize = 4;

/// The raster of cells over all indexed layers.
#[derive(Debug)]
pub struct Raster {
    /// Geometry.
    pub grid: Grid,
    /// One entry per cell: `COMBO | index` into `combos`, or an offset into `mixed`.
    cells: Vec<u32>,
    /// Per-layer defaults of cells that need no test.
    combos: Vec<[u32; LAYERS]>,
    /// Mixed-cell records (shared between cells with equal records): per layer `n`, then
    /// `(polygon, band start, band length) × n`, then the default.
    mixed: Vec<u32>,
    /// Polygon stores per layer.
    pub layers: [PolyStore; LAYERS],
}

impl Raster {
    /// Builds the raster over `layers[l]` = the areas of layer `l`, in file order.
    pub fn build(areas: [Vec<&MultiPolygon<f64>>; LAYERS], cell_m: f64) -> Raster {
        let mut stores: [PolyStore; LAYERS] = Default::default();
        for (store, list) in stores.iter_mut().zip(&areas) {
            for a in list {
                store.push(a);
            }
        }
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

        let mut cells = vec![0u32; ncells];
        let mut combos: Vec<[u32; LAYERS]> = Vec::new();
        let mut combo_ids: std::collections::HashMap<[u32; LAYERS], u32> = Default::default();
        let mut mixed: Vec<u32> = Vec::new();
        let mut record: Vec<u32> = Vec::new();
        let mut record_ids: std::collections::HashMap<Vec<u32>, u32> = Default::default();
        let mut cursor = [0usize; LAYERS];
        for (cell, entry) in cells.iter_mut().enumerate() {
            let cell = cell as u32;
            let mut defaults = [NONE; LAYERS];
            let mut any_candidates = false;
            let mut spans = [(0usize, 0usize); LAYERS];
            for l in 0..LAYERS {
                let mk = &marks[l];
                let s = cursor[l];
                let mut e = s;
                while e < mk.len() && mk[e].0 == cell {
                    e += 1;
                }
                cursor[l] = e;
                let d = full[l][cell as usize];
                defaults[l] = d;
                // Candidates before the default (in file order) only.
                let e2 = s + mk[s..e].iter().take_while(|&&(_, k)| k < d).count();
                spans[l] = (s, e2);
                any_candidates |= e2 > s;
            }
            if !any_candidates {
                let next = combos.len() as u32;
                let id = *combo_ids.entry(defaults).or_insert_with(|| {
                    combos.push(defaults);
                    next
                });
                *entry = COMBO | id;
            } else {
                let row = cell / grid.ncols;
                record.clear();
                for l in 0..LAYERS {
                    let (s, e) = spans[l];
                    record.push((e - s) as u32);
                    for &(_, k) in &marks[l][s..e] {
                        let (start, len) = stores[l].band(k, row);
                        record.extend_from_slice(&[k, start, len]);
                    }
                    record.push(defaults[l]);
                }
                let next = mixed.len() as u32;
                *entry = *record_ids.entry(record.clone()).or_insert_with(|| {
                    mixed.extend_from_slice(&record);
                    next
                });
            }
        }
        cells.shrink_to_fit();
        mixed.shrink_to_fit();
        Raster {
            grid,
            cells,
            combos,
            mixed,
            layers: stores,
        }
    }

    /// The polygon (store slot) of each layer containing `(x, y)`; [`NONE`] where none does.
    #[inline]
    pub fn locate(&self, x: f64, y: f64) -> [u32; LAYERS] {
        let Some((r, c)) = self.grid.cell_of(x, y) else {
            return [NONE; LAYERS];
        };
        let entry = self.cells[(r * self.grid.ncols + c) as usize];
        let _ = r;
        if entry & COMBO != 0 {
            return self.combos[(entry & !COMBO) as usize];
        }
        let mut out = [NONE; LAYERS];
        let mut i = entry as usize;
        for (l, slot) in out.iter_mut().enumerate() {
            let n = self.mixed[i] as usize;
            let cands = &self.mixed[i + 1..i + 1 + 3 * n];
            *slot = self.mixed[i + 1 + 3 * n];
            for c in cands.chunks_exact(3) {
                if self.layers[l].band_contains(c[1], c[2], x, y) {
                    *slot = c[0];
                    break;
                }
            }
            i += 3 * n + 2;
        }
        out
    }

    /// Whether cell `(row, col)` needs no point-in-polygon test.
    pub fn is_combo_cell(&self, row: u32, col: u32) -> bool {
        self.cells[(row * self.grid.ncols + col) as usize] & COMBO != 0
    }

    /// Heap bytes used by the index (cells, records, polygon stores).
    pub fn heap_bytes(&self) -> usize {
        self.cells.capacity() * 4
            + self.combos.capacity() * 4 * LAYERS
            + self.mixed.capacity() * 4
            + self.layers.iter().map(PolyStore::heap_bytes).sum::<usize>()
    }

    /// (cells, cells needing no test, mixed-record words) — for benchmarks and docs.
    pub fn stats(&self) -> (usize, usize, usize) {
        let combo = self.cells.iter().filter(|&&e| e & COMBO != 0).count();
        (self.cells.len(), combo, self.mixed.len())
    }
}
