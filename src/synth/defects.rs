//! Injected defects for `--dirty N`: N of each kind, in distinct grids far from each other, each
//! with a point strictly inside it.
//!
//! | kind | how | what a validator should report |
//! |---|---|---|
//! | `gap` (even n) | two adjacent cells on the border of two resident grids belong to no grid and no block | street `codes[0]` not covered by its grids, between grids `codes[1]` and `codes[2]` |
//! | `gap` (odd n) | one cell inside block `codes[1]` belongs to no block (a hole) | grid `codes[0]` not covered by its blocks |
//! | `overlap` | a cell of block `codes[1]` also belongs to its sibling `codes[0]` | blocks `codes[0]` and `codes[1]` overlap (≈3,100 m²) |
//! | `sliver` | interior vertices of a border between sibling blocks are moved by 0.4 m in one of the two blocks, into it (even n: thin gap) or into the neighbour (odd n: thin overlap) | grid `codes[0]` not covered / blocks `codes[1]`, `codes[2]` overlap, by a sliver < 1 m wide |
//! | `block_outside_grid` | a cell outside the district joins block `codes[0]` | block `codes[0]` not inside its grid `codes[1]` |
//! | `self_intersection` | two consecutive vertices of a border of block `codes[0]` are swapped: a bow-tie | ring of block `codes[0]` self-intersects (a tiny gap/overlap with its neighbour appears at the same spot) |
//!
//! Cell-level defects (gap, overlap, block outside grid) are applied to the labels before the
//! boundaries are built, so their shapes follow the mesh; their points are cell centres, which the
//! simplification keeps strictly inside. Sliver and self-intersection edit block polygons after
//! assembly; every point is checked with [`crate::geometry::pip::contains`] before it is kept.

use super::boundary::Arrangement;
use super::layout::Layout;
use super::partition::NONE;
use super::{Defect, DefectKind};
use crate::geometry::pip::contains;
use crate::model::Layer;
use geo::{Coord, MultiPolygon};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;

/// Bookkeeping that keeps defects apart.
#[derive(Default)]
pub struct Used {
    grids: BTreeSet<u32>,
    cells: BTreeSet<u32>,
}

fn simple_removal(lay: &Layout, c: usize, same: &dyn Fn(usize) -> bool, removed: &[usize]) -> bool {
    let nbs = lay.mesh.neighbours(c);
    let member: Vec<bool> = nbs
        .iter()
        .map(|nb| nb.is_some_and(|x| same(x) && !removed.contains(&x)))
        .collect();
    let runs = (0..6)
        .filter(|&i| member[i] && !member[(i + 5) % 6])
        .count();
    member.iter().any(|&m| m) && runs <= 1
}

/// Applies the cell-level defects to the labels. Returns the defects (points = cell centres).
pub fn inject_cells(
    lay: &mut Layout,
    inside: &[u32],
    n: usize,
    rng: &mut ChaCha8Rng,
    used: &mut Used,
) -> Vec<Defect> {
    let mut order: Vec<u32> = inside.to_vec();
    order.shuffle(rng);
    let mut out = Vec::new();
    let mut counts = [0usize; 4];
    let near_used = |used: &Used, lay: &Layout, c: usize| -> bool {
        if used.cells.contains(&(c as u32)) {
            return true;
        }
        lay.mesh
            .neighbours(c)
            .into_iter()
            .flatten()
            .any(|x| used.cells.contains(&(x as u32)))
    };
    let mark = |used: &mut Used, lay: &Layout, cells: &[usize], grids: &[u32]| {
        for &c in cells {
            let mut ring = vec![c];
            for _ in 0..3 {
                let mut next = ring.clone();
                for &x in &ring {
                    next.extend(lay.mesh.neighbours(x).into_iter().flatten());
                }
                ring = next;
            }
            used.cells.extend(ring.into_iter().map(|x| x as u32));
        }
        used.grids.extend(grids.iter().copied());
    };
    for &cu in &order {
        if counts.iter().all(|&k| k >= n) {
            break;
        }
        let c = cu as usize;
        let (g, b) = (lay.grid[c], lay.block[c]);
        if g == NONE
            || b == NONE
            || lay.extra[c] != NONE
            || used.grids.contains(&g)
            || near_used(used, lay, c)
        {
            continue;
        }
        let nbs: Vec<usize> = lay.mesh.neighbours(c).into_iter().flatten().collect();
        if nbs.len() < 6 {
            continue;
        }
        let big = |lay: &Layout, blk: u32| lay.blocks[blk as usize].cells >= 15;
        // Gap between two grids / hole in a block.
        if counts[0] < n {
            let k = counts[0];
            if k % 2 == 0 {
                let same_street = nbs.iter().all(|&x| lay.street[x] == lay.street[c]);
                let cand = nbs.iter().copied().find(|&x| {
                    let gx = lay.grid[x];
                    gx != g
                        && gx != NONE
                        && lay.grids[gx as usize].layer == Layer::ResidentGrid
                        && lay.grids[g as usize].layer == Layer::ResidentGrid
                        && !used.grids.contains(&gx)
                        && lay.block[x] != NONE
                        && big(lay, lay.block[x])
                        && lay.mesh.neighbours(x).into_iter().flatten().count() == 6
                        && lay
                            .mesh
                            .neighbours(x)
                            .into_iter()
                            .flatten()
                            .all(|y| lay.street[y] == lay.street[c] && lay.extra[y] == NONE)
                });
                if let Some(x) = cand.filter(|_| same_street && big(lay, b)) {
                    let ok = simple_removal(lay, c, &|y| lay.block[y] == b, &[x])
                        && simple_removal(lay, x, &|y| lay.block[y] == lay.block[x], &[c])
                        && simple_removal(lay, c, &|y| lay.grid[y] == g, &[x])
                        && simple_removal(lay, x, &|y| lay.grid[y] == lay.grid[x], &[c]);
                    if ok {
                        let gx = lay.grid[x];
                        let s = lay.street[c] as usize;
                        out.push(Defect {
                            kind: DefectKind::Gap,
                            codes: vec![
                                lay.div.streets[s].code.clone(),
                                lay.grids[g as usize].code.clone(),
                                lay.grids[gx as usize].code.clone(),
                            ],
                            point: centre(lay, c),
                        });
                        for y in [c, x] {
                            lay.grid[y] = NONE;
                            lay.block[y] = NONE;
                        }
                        mark(used, lay, &[c, x], &[g, gx]);
                        counts[0] += 1;
                        continue;
                    }
                }
            } else if nbs
                .iter()
                .all(|&x| lay.block[x] == b && lay.extra[x] == NONE)
                && lay.blocks[b as usize].cells >= 20
            {
                out.push(Defect {
                    kind: DefectKind::Gap,
                    codes: vec![
                        lay.grids[g as usize].code.clone(),
                        lay.blocks[b as usize].code.clone(),
                    ],
                    point: centre(lay, c),
                });
                lay.block[c] = NONE;
                lay.blocks[b as usize].cells -= 1;
                mark(used, lay, &[c], &[g]);
                counts[0] += 1;
                continue;
            }
        }
        // Overlap between sibling blocks.
        if counts[1] < n && big(lay, b) {
            let cand = nbs.iter().copied().find(|&x| {
                lay.grid[x] == g
                    && lay.block[x] != b
                    && lay.block[x] != NONE
                    && big(lay, lay.block[x])
            });
            if let Some(x) = cand {
                let a = lay.block[x];
                out.push(Defect {
                    kind: DefectKind::Overlap,
                    codes: vec![
                        lay.blocks[a as usize].code.clone(),
                        lay.blocks[b as usize].code.clone(),
                    ],
                    point: centre(lay, c),
                });
                lay.extra[c] = a;
                mark(used, lay, &[c], &[g]);
                counts[1] += 1;
                continue;
            }
        }
        // Block sticking out of its grid (and of the district).
        if counts[3] < n {
            let cand = nbs.iter().copied().find(|&o| {
                lay.street[o] == NONE
                    && lay.extra[o] == NONE
                    && lay.mesh.neighbours(o).into_iter().flatten().count() == 6
                    && !near_used(used, lay, o)
            });
            if let Some(o) = cand {
                out.push(Defect {
                    kind: DefectKind::BlockOutsideGrid,
                    codes: vec![
                        lay.blocks[b as usize].code.clone(),
                        lay.grids[g as usize].code.clone(),
                    ],
                    point: centre(lay, o),
                });
                lay.extra[o] = b;
                mark(used, lay, &[c, o], &[g]);
                counts[3] += 1;
                continue;
            }
        }
    }
    out
}

fn centre(lay: &Layout, c: usize) -> [f64; 2] {
    let p = lay.mesh.centre_lonlat(c);
    [p.x, p.y]
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: c.x, y: c.y },
    )
}

fn replace_in(mp: &mut MultiPolygon<f64>, from: &[Coord<f64>], to: &[Coord<f64>]) -> bool {
    let mut hit = false;
    for poly in &mut mp.0 {
        let mut edit = |ls: &mut geo::LineString<f64>| {
            for p in ls.0.iter_mut() {
                if let Some(i) = from.iter().position(|f| f == p) {
                    *p = to[i];
                    hit = true;
                }
            }
        };
        poly.exterior_mut(&mut edit);
        poly.interiors_mut(|hs| {
            for h in hs {
                edit(h);
            }
        });
    }
    hit
}

/// Applies slivers and bow-ties to block polygons. `blocks` are the block multipolygons,
/// `grids` the grid multipolygons.
#[allow(clippy::too_many_arguments)]
pub fn inject_geometry(
    lay: &Layout,
    arr: &Arrangement,
    blocks: &mut [MultiPolygon<f64>],
    grids: &[MultiPolygon<f64>],
    n: usize,
    m_per_deg: (f64, f64),
    rng: &mut ChaCha8Rng,
    used: &mut Used,
) -> Vec<Defect> {
    let mut order: Vec<usize> = (0..arr.chains.len()).collect();
    order.shuffle(rng);
    let mut out = Vec::new();
    let (mut slivers, mut bows) = (0usize, 0usize);
    for ci in order {
        if slivers >= n && bows >= n {
            break;
        }
        let ch = &arr.chains[ci];
        let (l, r) = (arr.atoms[ch.left as usize], arr.atoms[ch.right as usize]);
        // Plain atoms (no extra), two different blocks of one grid.
        if l[3] != NONE
            || r[3] != NONE
            || l[2] == NONE
            || r[2] == NONE
            || l[2] == r[2]
            || l[1] != r[1]
            || l[1] == NONE
        {
            continue;
        }
        let g = l[1];
        if used.grids.contains(&g) {
            continue;
        }
        let (a, b) = (l[2] as usize, r[2] as usize);
        let pts: Vec<Coord<f64>> = ch.verts.iter().map(|&v| arr.coords[v as usize]).collect();
        if pts.first() == pts.last() {
            continue;
        }
        let m = pts.len();
        if slivers < n && m >= 6 {
            let sign = if slivers % 2 == 0 { 1.0 } else { -1.0 };
            let moved: Vec<Coord<f64>> = (2..m - 2)
                .map(|i| {
                    let (p, q) = (pts[i - 1], pts[i + 1]);
                    let (dx, dy) = ((q.x - p.x) * m_per_deg.0, (q.y - p.y) * m_per_deg.1);
                    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
                    let (nx, ny) = (-dy / len * 0.4 * sign, dx / len * 0.4 * sign);
                    super::mesh::round_coord(Coord {
                        x: pts[i].x + nx / m_per_deg.0,
                        y: pts[i].y + ny / m_per_deg.1,
                    })
                })
                .collect();
            let k = moved.len() / 2;
            let (i0, i1) = if k + 1 < moved.len() {
                (k, k + 1)
            } else {
                (k.saturating_sub(1), k)
            };
            let q = [pts[i0 + 2], pts[i1 + 2], moved[i1], moved[i0]];
            let pt = Coord {
                x: q.iter().map(|c| c.x).sum::<f64>() / 4.0,
                y: q.iter().map(|c| c.y).sum::<f64>() / 4.0,
            };
            let mut cand = blocks[a].clone();
            if replace_in(&mut cand, &pts[2..m - 2], &moved) {
                let (in_a, in_b, in_g) = (
                    contains(&cand, pt.x, pt.y),
                    contains(&blocks[b], pt.x, pt.y),
                    contains(&grids[g as usize], pt.x, pt.y),
                );
                let good = if sign > 0.0 {
                    in_g && !in_a && !in_b
                } else {
                    in_a && in_b
                };
                if good {
                    blocks[a] = cand;
                    out.push(Defect {
                        kind: DefectKind::Sliver,
                        codes: vec![
                            lay.grids[g as usize].code.clone(),
                            lay.blocks[a].code.clone(),
                            lay.blocks[b].code.clone(),
                        ],
                        point: [pt.x, pt.y],
                    });
                    used.grids.insert(g);
                    slivers += 1;
                    continue;
                }
            }
        }
        if bows < n && m >= 5 {
            let k = m / 2 - 1;
            let (p, va, vb, nn) = (pts[k - 1], pts[k], pts[k + 1], pts[k + 2]);
            // Segments p→vb and va→nn must cross properly.
            let d1 = orient(p, vb, va);
            let d2 = orient(p, vb, nn);
            let d3 = orient(va, nn, p);
            let d4 = orient(va, nn, vb);
            if d1 * d2 < 0.0 && d3 * d4 < 0.0 {
                // Intersection point of p→vb and va→nn.
                let t = d3 / (d3 - d4);
                let x = Coord {
                    x: p.x + t * (vb.x - p.x),
                    y: p.y + t * (vb.y - p.y),
                };
                let pt = Coord {
                    x: (x.x + va.x + vb.x) / 3.0,
                    y: (x.y + va.y + vb.y) / 3.0,
                };
                let s = orient(x, va, vb);
                let inside = s != 0.0
                    && orient(x, va, pt) * s > 0.0
                    && orient(va, vb, pt) * s > 0.0
                    && orient(vb, x, pt) * s > 0.0;
                let mut cand = blocks[a].clone();
                if inside && replace_in(&mut cand, &[va, vb], &[vb, va]) {
                    blocks[a] = cand;
                    out.push(Defect {
                        kind: DefectKind::SelfIntersection,
                        codes: vec![lay.blocks[a].code.clone()],
                        point: [pt.x, pt.y],
                    });
                    used.grids.insert(g);
                    bows += 1;
                }
            }
        }
    }
    out
}
