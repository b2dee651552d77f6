//! Assigning mesh cells to the hierarchy: district → streets → grids (street grids along roads,
//! extended grids as clumps, resident grids around committee seeds) → blocks; and the road paths
//! that become road segments.
//!
//! Steps, in order:
//! 1. the district outline (control points + midpoint displacement, scaled by √scale) is filled
//!    row by row; the largest connected set of cells inside it is the district;
//! 2. streets grow from their town centres (weighted multi-source Dijkstra with noisy costs,
//!    weights adjusted until the areas approach the street sizes);
//! 3. roads link neighbouring town centres and radiate from each centre; cells within a band of a
//!    road form street-grid corridors, cut by street and into pieces of about 2.5 km;
//! 4. extended grids grow as clumps from random seeds, off the corridors;
//! 5. the remaining cells of each street are split into components; committees are distributed
//!    over the components, residents' committees nearest the town centre, and their grids grow
//!    from spread seeds; components too small for a committee join a neighbouring grid;
//! 6. blocks grow inside every grid from spread seeds;
//! 7. in large street-grid blocks a cell path along the grid's road gives road segments.

use super::divisions::{self, Divisions, Street};
use super::mesh::{Mesh, mix, unit};
use super::partition::{self, NONE, Scratch};
use crate::geometry::measure::LocalFrame;
use crate::model::{Kind, Layer};
use geo::Coord;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Distance between neighbouring cell centres, in metres.
pub const CELL_M: f64 = 70.0;
/// Centre of the metric frame and of the scaling.
pub const ORIGIN: (f64, f64) = (121.21, 30.83);
/// Half-width of a street-grid corridor (centre distance to the road), in metres.
const BAND_M: f64 = 0.75 * CELL_M;

/// The district outline, lon/lat, clockwise from the west: the north border with Songjiang, the
/// east border with Fengxian, the coast of Hangzhou Bay, the west border with Zhejiang (≈660 km²
/// before noise; the real district has ≈586 km²).
const OUTLINE: [(f64, f64); 25] = [
    (120.955, 30.87),
    (120.975, 30.905),
    (121.03, 30.915),
    (121.09, 30.9),
    (121.15, 30.915),
    (121.2, 30.91),
    (121.25, 30.9),
    (121.31, 30.9),
    (121.34, 30.88),
    (121.36, 30.85),
    (121.4, 30.83),
    (121.44, 30.815),
    (121.455, 30.795),
    (121.44, 30.775),
    (121.4, 30.76),
    (121.36, 30.712),
    (121.31, 30.7),
    (121.27, 30.707),
    (121.24, 30.73),
    (121.2, 30.775),
    (121.15, 30.77),
    (121.1, 30.765),
    (121.06, 30.79),
    (121.01, 30.825),
    (120.97, 30.845),
];

/// A grid (any of the three layers).
#[derive(Debug, Clone)]
pub struct GridInfo {
    /// Layer.
    pub layer: Layer,
    /// Kind (resident and extended grids).
    pub kind: Option<Kind>,
    /// Code (final after [`Layout::finish_codes`]).
    pub code: String,
    /// Name.
    pub name: String,
    /// Street index.
    pub street: u32,
    /// Road (street grids).
    pub road: Option<u32>,
    /// Sort key among the street's grids of its layer.
    pub key: (u32, u32),
    /// False when dissolved during clean-up.
    pub alive: bool,
}

/// A block.
#[derive(Debug, Clone)]
pub struct BlockInfo {
    /// Grid index.
    pub grid: u32,
    /// Code.
    pub code: String,
    /// Number of cells.
    pub cells: u32,
}

/// A road of the generated network.
#[derive(Debug, Clone)]
pub struct Road {
    /// Name.
    pub name: String,
    /// Polyline, local metres.
    pub line: Vec<(f64, f64)>,
}

/// A cell path that becomes one road segment.
#[derive(Debug, Clone)]
pub struct RoadPath {
    /// Block index.
    pub block: u32,
    /// Road index.
    pub road: u32,
    /// Cells along the path (adjacent, all in the block).
    pub cells: Vec<u32>,
}

/// Every cell's labels and the tables they index.
pub struct Layout {
    /// The mesh.
    pub mesh: Mesh,
    /// Divisions (streets in index order).
    pub div: Divisions,
    /// Street of each cell ([`NONE`] outside the district).
    pub street: Vec<u32>,
    /// Grid of each cell.
    pub grid: Vec<u32>,
    /// Block of each cell.
    pub block: Vec<u32>,
    /// A second block a cell also belongs to (only set by injected defects).
    pub extra: Vec<u32>,
    /// Grids.
    pub grids: Vec<GridInfo>,
    /// Blocks.
    pub blocks: Vec<BlockInfo>,
    /// Roads.
    pub roads: Vec<Road>,
    /// Road paths.
    pub paths: Vec<RoadPath>,
    /// Centre cell of each street.
    pub centres: Vec<u32>,
}

fn noisy_line(
    a: (f64, f64),
    b: (f64, f64),
    amp: f64,
    depth: u32,
    rng: &mut ChaCha8Rng,
) -> Vec<(f64, f64)> {
    let mut pts = vec![a, b];
    for lvl in 0..depth {
        let mut next = Vec::with_capacity(pts.len() * 2);
        for w in pts.windows(2) {
            let (p, q) = (w[0], w[1]);
            let (dx, dy) = (q.0 - p.0, q.1 - p.1);
            let off = rng.random_range(-1.0..1.0) * amp / (1.6f64).powi(lvl as i32);
            next.push(p);
            next.push(((p.0 + q.0) / 2.0 - dy * off, (p.1 + q.1) / 2.0 + dx * off));
        }
        if let Some(&l) = pts.last() {
            next.push(l);
        }
        pts = next;
    }
    pts
}

fn dist2(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

impl Layout {
    /// Builds the layout of a district at `scale`.
    pub fn build(seed: u64, scale: f64, rng: &mut ChaCha8Rng) -> anyhow::Result<Layout> {
        let mut t = std::time::Instant::now();
        let mut div = divisions::jinshan()?;
        let extra_streets = ((scale - 1.0) * div.streets.len() as f64).round().max(0.0) as usize;
        divisions::add_generated(&mut div, extra_streets, rng)?;

        // 1. Outline and mesh.
        let frame = LocalFrame::new(ORIGIN.0, ORIGIN.1);
        let k = scale.sqrt();
        let ctrl: Vec<(f64, f64)> = OUTLINE
            .iter()
            .map(|&(lon, lat)| {
                let p = frame.to_xy(Coord { x: lon, y: lat });
                (p.x * k, p.y * k)
            })
            .collect();
        let mut outline = Vec::new();
        for i in 0..ctrl.len() {
            let (a, b) = (ctrl[i], ctrl[(i + 1) % ctrl.len()]);
            let mut seg = noisy_line(a, b, 0.12, 6, rng);
            seg.pop();
            outline.extend(seg);
        }
        let mut bbox = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
        for &(x, y) in &outline {
            bbox = [
                bbox[0].min(x),
                bbox[1].min(y),
                bbox[2].max(x),
                bbox[3].max(y),
            ];
        }
        let mesh = Mesh::new(frame, CELL_M, bbox, 6, mix(seed ^ 0x5EED));
        let n = mesh.len();
        let mut scratch = Scratch::new(&mesh);
        let mut inside_cells = Vec::new();
        let mut xs = Vec::new();
        for r in 0..mesh.rows {
            let (_, y) = mesh.centre_xy(r * mesh.cols);
            xs.clear();
            for i in 0..outline.len() {
                let (p, q) = (outline[i], outline[(i + 1) % outline.len()]);
                let (lo, hi) = if p.1 <= q.1 { (p, q) } else { (q, p) };
                if lo.1 <= y && y < hi.1 {
                    xs.push(lo.0 + (y - lo.1) / (hi.1 - lo.1) * (hi.0 - lo.0));
                }
            }
            xs.sort_by(f64::total_cmp);
            for c in 0..mesh.cols {
                let cell = r * mesh.cols + c;
                let (x, _) = mesh.centre_xy(cell);
                let crossings = xs.iter().filter(|&&v| v > x).count();
                if crossings % 2 == 1 {
                    inside_cells.push(cell as u32);
                }
            }
        }
        let inside = partition::components(&mesh, &mut scratch, &inside_cells)
            .into_iter()
            .next()
            .unwrap_or_default();
        let mut inside = inside;
        inside.sort_unstable();
        let mut is_in = vec![false; n];
        for &c in &inside {
            is_in[c as usize] = true;
        }
        anyhow::ensure!(!inside.is_empty(), "empty district");

        super::phase("layout: outline", &mut t);
        // Cell costs: smooth noise at two scales plus jitter.
        let cost: Vec<f32> = (0..n)
            .map(|c| {
                let (x, y) = mesh.centre_xy(c);
                (0.45
                    + 0.8 * mesh.noise(x, y, 1800.0, 1)
                    + 0.35 * mesh.noise(x, y, 420.0, 2)
                    + 0.25 * unit(mix(c as u64 ^ 0xC057))) as f32
            })
            .collect();

        // 2. Streets.
        let nearest_inside = |x: f64, y: f64| -> u32 {
            let mut best = (f64::MAX, inside[0]);
            if let Some(c) = mesh.cell_at(x, y)
                && is_in[c]
            {
                return c as u32;
            }
            for &c in &inside {
                let (cx, cy) = mesh.centre_xy(c as usize);
                let d = (cx - x).powi(2) + (cy - y).powi(2);
                if d < best.0 {
                    best = (d, c);
                }
            }
            best.1
        };
        let mut centres: Vec<u32> = Vec::new();
        let mut taken = BTreeSet::new();
        for s in div.streets.iter().filter(|s| !s.generated) {
            let [lon, lat] = s.centre.unwrap_or([ORIGIN.0, ORIGIN.1]);
            let p = frame.to_xy(Coord { x: lon, y: lat });
            let c = nearest_inside(p.x, p.y);
            taken.insert(c);
            centres.push(c);
        }
        let gen_count = div.streets.iter().filter(|s| s.generated).count();
        if gen_count > 0 {
            let cand: Vec<u32> = (0..(gen_count * 40).max(2000))
                .map(|_| inside[rng.random_range(0..inside.len())])
                .collect();
            let mut md: Vec<f64> = cand
                .iter()
                .map(|&c| {
                    let p = mesh.centre_xy(c as usize);
                    centres
                        .iter()
                        .map(|&s| dist2(p, mesh.centre_xy(s as usize)))
                        .fold(f64::MAX, f64::min)
                })
                .collect();
            for _ in 0..gen_count {
                let mut best = (f64::MIN, 0);
                for (i, &d) in md.iter().enumerate() {
                    if d > best.0 && !taken.contains(&cand[i]) {
                        best = (d, i);
                    }
                }
                let c = cand[best.1];
                taken.insert(c);
                centres.push(c);
                let p = mesh.centre_xy(c as usize);
                for (i, &cc) in cand.iter().enumerate() {
                    md[i] = md[i].min(dist2(p, mesh.centre_xy(cc as usize)));
                }
            }
        }
        for (s, &c) in div.streets.iter_mut().zip(&centres) {
            let ll = mesh.centre_lonlat(c as usize);
            s.centre = Some([ll.x, ll.y]);
        }
        let sizes: Vec<f64> = div.streets.iter().map(|s| s.size).collect();
        let lab = partition::grow(&mesh, &mut scratch, &inside, &centres, &sizes, &cost, 3);
        let mut street = vec![NONE; n];
        for (i, &c) in inside.iter().enumerate() {
            street[c as usize] = lab[i];
        }
        super::phase("layout: streets", &mut t);
        let mut street_cells: Vec<Vec<u32>> = vec![Vec::new(); div.streets.len()];
        for &c in &inside {
            if street[c as usize] != NONE {
                street_cells[street[c as usize] as usize].push(c);
            }
        }

        // 3. Roads and street-grid corridors.
        let mut roads = Vec::new();
        let mut links = BTreeSet::new();
        for i in 0..centres.len() {
            let pi = mesh.centre_xy(centres[i] as usize);
            let mut near: Vec<(f64, usize)> = (0..centres.len())
                .filter(|&j| j != i)
                .map(|j| (dist2(pi, mesh.centre_xy(centres[j] as usize)), j))
                .collect();
            near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(d2, j) in near.iter().take(3) {
                if d2.sqrt() < 16_000.0 {
                    links.insert((i.min(j), i.max(j)));
                }
            }
        }
        for (idx, &(i, j)) in links.iter().enumerate() {
            let a = mesh.centre_xy(centres[i] as usize);
            let b = mesh.centre_xy(centres[j] as usize);
            let name = if idx < divisions::ROADS.len() {
                divisions::ROADS[idx].to_string()
            } else {
                divisions::road_name(rng, &div.streets[i].short())
            };
            roads.push(Road {
                name,
                line: noisy_line(a, b, 0.07, 5, rng),
            });
        }
        for (i, s) in div.streets.iter().enumerate() {
            let spokes = match s.kind {
                Kind::Subdistrict => 3,
                Kind::Zone => 4,
                _ => 2,
            };
            let a = mesh.centre_xy(centres[i] as usize);
            let len = s.size.sqrt() * 1000.0;
            for _ in 0..spokes {
                let ang = rng.random_range(0.0..std::f64::consts::TAU);
                let l = len * rng.random_range(0.45..0.85);
                let b = (a.0 + l * ang.cos(), a.1 + l * ang.sin());
                roads.push(Road {
                    name: divisions::road_name(rng, &s.short()),
                    line: noisy_line(a, b, 0.08, 4, rng),
                });
            }
        }
        let mut road_d = vec![f32::INFINITY; n];
        let mut road_of = vec![NONE; n];
        let mut road_t = vec![0f32; n];
        for (ri, road) in roads.iter().enumerate() {
            let mut t0 = 0.0;
            for w in road.line.windows(2) {
                let (p, q) = (w[0], w[1]);
                let len = dist2(p, q).sqrt();
                let steps = (len / (CELL_M / 3.0)).ceil().max(1.0) as usize;
                for sidx in 0..=steps {
                    let f = sidx as f64 / steps as f64;
                    let (x, y) = (p.0 + f * (q.0 - p.0), p.1 + f * (q.1 - p.1));
                    let Some(c0) = mesh.cell_at(x, y) else {
                        continue;
                    };
                    for c in std::iter::once(c0).chain(mesh.neighbours(c0).into_iter().flatten()) {
                        if !is_in[c] {
                            continue;
                        }
                        let dd = dist2((x, y), mesh.centre_xy(c)).sqrt();
                        if dd <= BAND_M && (dd as f32) < road_d[c] {
                            road_d[c] = dd as f32;
                            road_of[c] = ri as u32;
                            road_t[c] = (t0 + f * len) as f32;
                        }
                    }
                }
                t0 += len;
            }
        }
        let mut span: BTreeMap<(u32, u32), (f32, f32)> = BTreeMap::new();
        for &c in &inside {
            let r = road_of[c as usize];
            if r != NONE {
                let e = span
                    .entry((street[c as usize], r))
                    .or_insert((f32::MAX, f32::MIN));
                e.0 = e.0.min(road_t[c as usize]);
                e.1 = e.1.max(road_t[c as usize]);
            }
        }
        let mut pieces: BTreeMap<(u32, u32), (f32, u32)> = BTreeMap::new();
        for (&key, &(lo, hi)) in &span {
            let l = rng.random_range(1800.0..3200.0);
            let np = (((hi - lo) as f64 / l).round() as u32).max(1);
            pieces.insert(key, (lo, np));
        }
        let mut grid = vec![NONE; n];
        let mut grids: Vec<GridInfo> = Vec::new();
        let mut sg_index: BTreeMap<(u32, u32, u32), u32> = BTreeMap::new();
        for &c in &inside {
            let cu = c as usize;
            let r = road_of[cu];
            if r == NONE {
                continue;
            }
            let s = street[cu];
            let Some(&(lo, np)) = pieces.get(&(s, r)) else {
                continue;
            };
            let (_, hi) = span.get(&(s, r)).copied().unwrap_or((lo, lo + 1.0));
            let w = ((hi - lo) / np as f32).max(1.0);
            let piece = (((road_t[cu] - lo) / w) as u32).min(np - 1);
            let key = (s, r, piece);
            let id = *sg_index.entry(key).or_insert_with(|| {
                grids.push(GridInfo {
                    layer: Layer::StreetGrid,
                    kind: None,
                    code: String::new(),
                    name: String::new(),
                    street: s,
                    road: Some(r),
                    key: (r, piece),
                    alive: true,
                });
                grids.len() as u32 - 1
            });
            grid[cu] = id;
        }
        // Keep the largest piece of each street grid; the rest goes back to the free cells.
        let mut lay = Layout {
            mesh,
            div,
            street,
            grid,
            block: vec![NONE; n],
            extra: vec![NONE; n],
            grids,
            blocks: Vec::new(),
            roads,
            paths: Vec::new(),
            centres,
        };
        let per_grid = lay.cells_per_grid(&inside);
        for (g, cells) in per_grid.iter().enumerate() {
            let comps = partition::components(&lay.mesh, &mut scratch, cells);
            for (i, comp) in comps.iter().enumerate() {
                if i > 0 || comp.len() < 12 {
                    for &c in comp {
                        lay.grid[c as usize] = NONE;
                    }
                }
            }
            if comps.first().is_none_or(|c| c.len() < 12) {
                lay.grids[g].alive = false;
            }
        }

        super::phase("layout: street grids", &mut t);
        // 4. Extended grids.
        let cell_area = lay.mesh.d * lay.mesh.d * 3f64.sqrt() / 2.0;
        for (s, cells) in street_cells.iter().enumerate() {
            let kinds: Vec<Kind> = match lay.div.streets[s].kind {
                Kind::Subdistrict => vec![
                    Kind::Factory,
                    Kind::BusinessDistrict,
                    Kind::Institution,
                    Kind::Campus,
                    Kind::PublicArea,
                ],
                Kind::Zone => vec![
                    Kind::IndustrialPark,
                    Kind::IndustrialPark,
                    Kind::IndustrialPark,
                    Kind::Factory,
                    Kind::Factory,
                    Kind::Factory,
                    Kind::Factory,
                    Kind::BusinessDistrict,
                    Kind::Institution,
                    Kind::Campus,
                ],
                _ => {
                    let mut v = vec![Kind::Factory, Kind::Campus, Kind::Institution];
                    v.push(
                        [
                            Kind::PublicArea,
                            Kind::BusinessDistrict,
                            Kind::IndustrialPark,
                        ][rng.random_range(0..3)],
                    );
                    v
                }
            };
            for kind in kinds {
                let (lo, hi) = match kind {
                    Kind::IndustrialPark => (0.8, 2.0),
                    Kind::Factory => (0.15, 0.6),
                    Kind::Campus => (0.08, 0.25),
                    Kind::BusinessDistrict => (0.1, 0.3),
                    Kind::Institution => (0.05, 0.15),
                    _ => (0.05, 0.3),
                };
                let target = (rng.random_range(lo..hi) * 1e6 / cell_area).round() as usize;
                let target = target.min(cells.len() / 8).max(8);
                let free =
                    |lay: &Layout, c: usize| lay.grid[c] == NONE && lay.street[c] == s as u32;
                let mut seed_cell = None;
                for _ in 0..60 {
                    let c = cells[rng.random_range(0..cells.len())] as usize;
                    if free(&lay, c)
                        && lay
                            .mesh
                            .neighbours(c)
                            .into_iter()
                            .flatten()
                            .all(|nb| free(&lay, nb))
                    {
                        seed_cell = Some(c);
                        break;
                    }
                }
                let Some(sc) = seed_cell else { continue };
                let id = lay.grids.len() as u32;
                let sp = lay.mesh.centre_xy(sc);
                let mut heap = std::collections::BinaryHeap::new();
                heap.push((std::cmp::Reverse(0u64), sc));
                let mut got = Vec::new();
                let stretch = rng.random_range(0.5..1.0);
                let ang = rng.random_range(0.0..std::f64::consts::PI);
                while let Some((_, c)) = heap.pop() {
                    if got.len() >= target {
                        break;
                    }
                    if !free(&lay, c) {
                        continue;
                    }
                    lay.grid[c] = id;
                    got.push(c);
                    for nb in lay.mesh.neighbours(c).into_iter().flatten() {
                        if free(&lay, nb) {
                            let p = lay.mesh.centre_xy(nb);
                            let (dx, dy) = (p.0 - sp.0, p.1 - sp.1);
                            let u = dx * ang.cos() + dy * ang.sin();
                            let v = (-dx * ang.sin() + dy * ang.cos()) / stretch;
                            let d =
                                (u * u + v * v).sqrt() * (0.75 + 0.5 * unit(mix(nb as u64 ^ 0xE7)));
                            heap.push((std::cmp::Reverse((d * 1000.0) as u64), nb));
                        }
                    }
                }
                if got.len() < 8 {
                    for c in got {
                        lay.grid[c] = NONE;
                    }
                    continue;
                }
                let n_same = lay
                    .grids
                    .iter()
                    .filter(|g| g.street == s as u32 && g.layer == Layer::ExtendedGrid)
                    .count();
                lay.grids.push(GridInfo {
                    layer: Layer::ExtendedGrid,
                    kind: Some(kind),
                    code: String::new(),
                    name: extended_name(kind, &lay.div.streets[s], rng),
                    street: s as u32,
                    road: None,
                    key: (n_same as u32, 0),
                    alive: true,
                });
            }
        }

        super::phase("layout: extended grids", &mut t);
        // 5. Resident grids.
        for (s, cells) in street_cells.iter().enumerate() {
            lay.resident_grids(s, cells, &mut scratch, &cost, rng)?;
        }

        super::phase("layout: resident grids", &mut t);
        // 6. Blocks.
        lay.finish_codes();
        let per_grid = lay.cells_per_grid(&inside);
        for (g, cells) in per_grid.iter().enumerate() {
            if cells.is_empty() {
                lay.grids[g].alive = false;
                continue;
            }
            let info = &lay.grids[g];
            let k = match info.layer {
                Layer::ResidentGrid => rng.random_range(11..=19usize).min(cells.len() / 5).max(1),
                Layer::StreetGrid => (cells.len() as f64 / 8.0).round().clamp(1.0, 40.0) as usize,
                _ => (cells.len() as f64 / 16.0).round().clamp(1.0, 30.0) as usize,
            };
            let seeds = partition::spread_seeds(&lay.mesh, &mut scratch, cells, k, rng);
            let targets = vec![1.0; seeds.len()];
            let lab = partition::grow(&lay.mesh, &mut scratch, cells, &seeds, &targets, &cost, 2);
            let base = lay.blocks.len() as u32;
            let mut counts = vec![0u32; seeds.len()];
            for (i, &c) in cells.iter().enumerate() {
                let l = lab[i];
                lay.block[c as usize] = base + l;
                counts[l as usize] += 1;
            }
            let code = lay.grids[g].code.clone();
            for (i, cnt) in counts.into_iter().enumerate() {
                lay.blocks.push(BlockInfo {
                    grid: g as u32,
                    code: format!("{code}B{:02}", i + 1),
                    cells: cnt,
                });
            }
        }

        super::phase("layout: blocks", &mut t);
        // 7. Road paths in large street-grid blocks.
        let mut block_cells: Vec<Vec<u32>> = vec![Vec::new(); lay.blocks.len()];
        for &c in &inside {
            let b = lay.block[c as usize];
            if b != NONE {
                block_cells[b as usize].push(c);
            }
        }
        for (b, cells) in block_cells.iter().enumerate() {
            let g = lay.blocks[b].grid as usize;
            let Some(r) = lay.grids[g].road else { continue };
            if cells.len() < 8 {
                continue;
            }
            let on: Vec<u32> = cells
                .iter()
                .copied()
                .filter(|&c| road_of[c as usize] == r)
                .collect();
            let (Some(&a), Some(&z)) = (
                on.iter()
                    .min_by(|x, y| road_t[**x as usize].total_cmp(&road_t[**y as usize])),
                on.iter()
                    .max_by(|x, y| road_t[**x as usize].total_cmp(&road_t[**y as usize])),
            ) else {
                continue;
            };
            if road_t[z as usize] - road_t[a as usize] < 3.0 * CELL_M as f32 {
                continue;
            }
            let step = |c: u32| -> f64 {
                if road_of[c as usize] == r {
                    1.0 + road_d[c as usize] as f64 / CELL_M
                } else {
                    3.0
                }
            };
            let Some(p) = partition::path(&lay.mesh, &mut scratch, cells, a, z, &step) else {
                continue;
            };
            if p.len() < 4 {
                continue;
            }
            let np = (p.len() / 7).clamp(1, 3).min((p.len() - 1) / 3).max(1);
            let per = (p.len() - 1) as f64 / np as f64;
            for i in 0..np {
                let from = (i as f64 * per).round() as usize;
                let to = (((i + 1) as f64 * per).round() as usize).min(p.len() - 1);
                lay.paths.push(RoadPath {
                    block: b as u32,
                    road: r,
                    cells: p[from..=to].to_vec(),
                });
            }
        }
        Ok(lay)
    }

    /// Cells of every grid, in cell order.
    pub fn cells_per_grid(&self, inside: &[u32]) -> Vec<Vec<u32>> {
        let mut out = vec![Vec::new(); self.grids.len()];
        for &c in inside {
            let g = self.grid[c as usize];
            if g != NONE {
                out[g as usize].push(c);
            }
        }
        out
    }

    fn resident_grids(
        &mut self,
        s: usize,
        cells: &[u32],
        scratch: &mut Scratch,
        cost: &[f32],
        rng: &mut ChaCha8Rng,
    ) -> anyhow::Result<()> {
        let free: Vec<u32> = cells
            .iter()
            .copied()
            .filter(|&c| self.grid[c as usize] == NONE)
            .collect();
        let comps = partition::components(&self.mesh, scratch, &free);
        let committees = self.div.streets[s].committees.clone();
        let k = committees.len();
        let avg = free.len() as f64 / k.max(1) as f64;
        let eligible = comps
            .iter()
            .take(k)
            .take_while(|c| c.len() as f64 >= (0.25 * avg).max(8.0))
            .count()
            .max(1);
        let mut alloc = vec![1usize; eligible];
        for _ in eligible..k {
            let mut best = (f64::MIN, 0);
            for (i, a) in alloc.iter().enumerate() {
                let q = comps[i].len() as f64 / (*a as f64 + 1.0);
                if q > best.0 {
                    best = (q, i);
                }
            }
            alloc[best.1] += 1;
        }
        let centre = self.mesh.centre_xy(self.centres[s] as usize);
        let mut seeds: Vec<(f64, u32, usize)> = Vec::new();
        for (i, &a) in alloc.iter().enumerate() {
            for sd in partition::spread_seeds(&self.mesh, scratch, &comps[i], a, rng) {
                seeds.push((dist2(centre, self.mesh.centre_xy(sd as usize)), sd, i));
            }
        }
        anyhow::ensure!(
            seeds.len() == k,
            "street {}: {} seeds for {k} committees",
            self.div.streets[s].code,
            seeds.len()
        );
        seeds.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by_key(|&i| {
            (
                committees[i].kind != Kind::Residents,
                committees[i].code.clone(),
            )
        });
        let mut grid_of_seed = vec![0u32; k];
        let base = self.grids.len() as u32;
        for (ci, c) in committees.iter().enumerate() {
            self.grids.push(GridInfo {
                layer: Layer::ResidentGrid,
                kind: Some(c.kind),
                code: c.code.clone(),
                name: c.name.clone(),
                street: s as u32,
                road: None,
                key: (ci as u32, 0),
                alive: true,
            });
        }
        for (j, &ci) in order.iter().enumerate() {
            grid_of_seed[j] = base + ci as u32;
        }
        for (i, comp) in comps.iter().enumerate() {
            if i < eligible {
                let idx: Vec<usize> = (0..k).filter(|&j| seeds[j].2 == i).collect();
                let sd: Vec<u32> = idx.iter().map(|&j| seeds[j].1).collect();
                let tg: Vec<f64> = idx
                    .iter()
                    .map(|&j| {
                        if committees[order[j]].kind == Kind::Residents {
                            0.45
                        } else {
                            1.0
                        }
                    })
                    .collect();
                let lab = partition::grow(&self.mesh, scratch, comp, &sd, &tg, cost, 3);
                for (ci, &c) in comp.iter().enumerate() {
                    if lab[ci] != NONE {
                        self.grid[c as usize] = grid_of_seed[idx[lab[ci] as usize]];
                    }
                }
            } else {
                // Too small for a committee: join the neighbouring grid it shares most sides with.
                let mut votes: BTreeMap<u32, usize> = BTreeMap::new();
                for &c in comp {
                    for nb in self.mesh.neighbours(c as usize).into_iter().flatten() {
                        let g = self.grid[nb];
                        if g != NONE && self.street[nb] == s as u32 {
                            *votes.entry(g).or_default() += 1;
                        }
                    }
                }
                let target = votes
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(&g, _)| g);
                let g = match target {
                    Some(g) => g,
                    None => {
                        let n_same = self
                            .grids
                            .iter()
                            .filter(|g| g.street == s as u32 && g.layer == Layer::ExtendedGrid)
                            .count();
                        self.grids.push(GridInfo {
                            layer: Layer::ExtendedGrid,
                            kind: Some(Kind::PublicArea),
                            code: String::new(),
                            name: extended_name(Kind::PublicArea, &self.div.streets[s], rng),
                            street: s as u32,
                            road: None,
                            key: (n_same as u32, 0),
                            alive: true,
                        });
                        self.grids.len() as u32 - 1
                    }
                };
                for &c in comp {
                    self.grid[c as usize] = g;
                }
            }
        }
        Ok(())
    }

    /// Gives street and extended grids their codes (street code + `S`/`E` + 2-digit sequence)
    /// and names; drops dissolved grids from numbering.
    fn finish_codes(&mut self) {
        let mut order: Vec<usize> = (0..self.grids.len()).collect();
        order.sort_by_key(|&g| (self.grids[g].street, self.grids[g].layer, self.grids[g].key));
        let mut seq: BTreeMap<(u32, Layer), u32> = BTreeMap::new();
        let mut road_seq: BTreeMap<(u32, u32), u32> = BTreeMap::new();
        for g in order {
            let info = &self.grids[g];
            if !info.alive || info.layer == Layer::ResidentGrid {
                continue;
            }
            let st = &self.div.streets[info.street as usize];
            let n = seq.entry((info.street, info.layer)).or_default();
            *n += 1;
            let letter = if info.layer == Layer::StreetGrid {
                'S'
            } else {
                'E'
            };
            let code = format!("{}{letter}{:02}", st.code, n);
            let name = if let Some(r) = info.road {
                let m = road_seq.entry((info.street, r)).or_default();
                *m += 1;
                format!(
                    "{}{}第{}街面网格",
                    st.short(),
                    self.roads[r as usize].name,
                    m
                )
            } else {
                info.name.clone()
            };
            self.grids[g].code = code;
            self.grids[g].name = name;
        }
    }
}

fn extended_name(kind: Kind, s: &Street, rng: &mut ChaCha8Rng) -> String {
    let pick = |rng: &mut ChaCha8Rng, v: &[&str]| v[rng.random_range(0..v.len())].to_string();
    let what = match kind {
        Kind::Factory => pick(
            rng,
            &[
                "化工厂区",
                "机械厂区",
                "纺织厂区",
                "食品厂区",
                "电子厂区",
                "新材料厂区",
                "汽配厂区",
            ],
        ),
        Kind::Campus => pick(
            rng,
            &["中学校区", "小学校区", "职业技术学校校区", "实验学校校区"],
        ),
        Kind::IndustrialPark => pick(rng, &["工业园区", "科技园区", "物流园区", "创业园区"]),
        Kind::BusinessDistrict => pick(rng, &["商务区", "商业中心", "商贸区"]),
        Kind::Institution => pick(rng, &["政府机关", "卫生院", "税务所", "社区事务受理中心"]),
        _ => pick(rng, &["公园", "广场", "体育中心", "湿地公园", "滨河绿地"]),
    };
    format!("{}{what}", s.short())
}
