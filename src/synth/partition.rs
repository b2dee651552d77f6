//! Splitting a set of mesh cells into contiguous regions: components, spread-out seeds, and
//! region growing (multi-source Dijkstra with noisy costs and per-region weights adjusted until
//! the sizes approach their targets). A region only grows through cells it has claimed, so every
//! region is connected.

use super::mesh::Mesh;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// Marker for "no label".
pub const NONE: u32 = u32::MAX;

/// A box-sized map from cell to local index, reset after every use.
pub struct Scratch {
    local: Vec<u32>,
}

impl Scratch {
    /// A scratch map for `mesh`.
    pub fn new(mesh: &Mesh) -> Self {
        Scratch {
            local: vec![NONE; mesh.len()],
        }
    }

    fn set(&mut self, cells: &[u32]) {
        for (i, &c) in cells.iter().enumerate() {
            self.local[c as usize] = i as u32;
        }
    }

    fn clear(&mut self, cells: &[u32]) {
        for &c in cells {
            self.local[c as usize] = NONE;
        }
    }
}

/// Connected components of `cells`, largest first (ties: first cell order).
pub fn components(mesh: &Mesh, scratch: &mut Scratch, cells: &[u32]) -> Vec<Vec<u32>> {
    scratch.set(cells);
    let mut seen = vec![false; cells.len()];
    let mut out = Vec::new();
    let mut queue = VecDeque::new();
    for s in 0..cells.len() {
        if seen[s] {
            continue;
        }
        seen[s] = true;
        queue.push_back(s);
        let mut comp = Vec::new();
        while let Some(i) = queue.pop_front() {
            comp.push(cells[i]);
            for nb in mesh.neighbours(cells[i] as usize).into_iter().flatten() {
                let j = scratch.local[nb];
                if j != NONE && !seen[j as usize] {
                    seen[j as usize] = true;
                    queue.push_back(j as usize);
                }
            }
        }
        out.push(comp);
    }
    scratch.clear(cells);
    out.sort_by_key(|c| std::cmp::Reverse(c.len()));
    out
}

/// `k` seeds spread over the connected set `cells` by farthest-point sampling in hops.
pub fn spread_seeds(
    mesh: &Mesh,
    scratch: &mut Scratch,
    cells: &[u32],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<u32> {
    let k = k.min(cells.len());
    if k == 0 {
        return Vec::new();
    }
    scratch.set(cells);
    let mut dist = vec![u32::MAX; cells.len()];
    let mut seeds = Vec::with_capacity(k);
    let mut next = rng.random_range(0..cells.len());
    let mut queue = VecDeque::new();
    loop {
        seeds.push(cells[next]);
        dist[next] = 0;
        queue.push_back(next);
        while let Some(i) = queue.pop_front() {
            let di = dist[i] + 1;
            for nb in mesh.neighbours(cells[i] as usize).into_iter().flatten() {
                let j = scratch.local[nb];
                if j != NONE && dist[j as usize] > di {
                    dist[j as usize] = di;
                    queue.push_back(j as usize);
                }
            }
        }
        if seeds.len() == k {
            break;
        }
        // Farthest cell, with a little jitter so that seeds do not line up on the boundary.
        let mut best = (f64::MIN, 0usize);
        for (i, &d) in dist.iter().enumerate() {
            if d == 0 {
                continue;
            }
            let score = d as f64
                * (0.8 + 0.2 * super::mesh::unit(super::mesh::mix(cells[i] as u64 ^ 0xA5A5)));
            if score > best.0 {
                best = (score, i);
            }
        }
        if best.0 <= 0.0 {
            break;
        }
        next = best.1;
    }
    scratch.clear(cells);
    seeds
}

#[derive(PartialEq)]
struct Item {
    cost: f32,
    local: u32,
    label: u32,
}
impl Eq for Item {}
impl Ord for Item {
    fn cmp(&self, o: &Self) -> Ordering {
        o.cost
            .total_cmp(&self.cost)
            .then_with(|| o.local.cmp(&self.local))
            .then_with(|| o.label.cmp(&self.label))
    }
}
impl PartialOrd for Item {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Grows one region per seed over `cells`, with sizes near `targets` (relative weights).
/// `cost[cell]` is the cost of entering a cell. Returns the region of every cell of `cells`.
/// Cells not reachable from any seed get [`NONE`].
pub fn grow(
    mesh: &Mesh,
    scratch: &mut Scratch,
    cells: &[u32],
    seeds: &[u32],
    targets: &[f64],
    cost: &[f32],
    iterations: usize,
) -> Vec<u32> {
    let k = seeds.len();
    let mut labels = vec![NONE; cells.len()];
    if k == 0 {
        return labels;
    }
    scratch.set(cells);
    let total: f64 = targets.iter().sum();
    let want: Vec<f64> = targets
        .iter()
        .map(|t| t / total * cells.len() as f64)
        .collect();
    // A region's area grows with the square of its weight: start from √target.
    let mean = total / k as f64;
    let mut w: Vec<f32> = targets.iter().map(|t| (t / mean).sqrt() as f32).collect();
    // Dial's algorithm: integer costs (1/32 of a unit step), a circular array of buckets.
    const Q: f32 = 32.0;
    let max_cost = cells.iter().map(|&c| cost[c as usize]).fold(0f32, f32::max);
    let mut buckets: Vec<Vec<(u32, u32)>> = Vec::new();
    let mut best = vec![u32::MAX; cells.len()];
    for it in 0..iterations.max(1) {
        labels.iter_mut().for_each(|l| *l = NONE);
        best.iter_mut().for_each(|b| *b = u32::MAX);
        let w_min = w.iter().copied().fold(f32::MAX, f32::min).max(1e-3);
        let nb_buckets = (max_cost / w_min * Q).ceil() as usize + 2;
        buckets.iter_mut().for_each(Vec::clear);
        buckets.resize_with(nb_buckets.max(buckets.len()), Vec::new);
        let nbk = buckets.len();
        let mut pending = 0usize;
        for (r, &s) in seeds.iter().enumerate() {
            let li = scratch.local[s as usize];
            if li != NONE {
                best[li as usize] = 0;
                buckets[0].push((li, r as u32));
                pending += 1;
            }
        }
        let mut d: u32 = 0;
        while pending > 0 {
            let slot = d as usize % nbk;
            let Some((local, label)) = buckets[slot].pop() else {
                d += 1;
                continue;
            };
            pending -= 1;
            if labels[local as usize] != NONE || best[local as usize] < d {
                continue;
            }
            labels[local as usize] = label;
            let cell = cells[local as usize] as usize;
            let wl = w[label as usize];
            for nb in mesh.neighbours(cell).into_iter().flatten() {
                let j = scratch.local[nb];
                if j != NONE && labels[j as usize] == NONE {
                    let step = (((cost[cell] + cost[nb]) * 0.5 / wl * Q).round() as u32).max(1);
                    let nd = d + step;
                    if nd >= best[j as usize] {
                        continue;
                    }
                    best[j as usize] = nd;
                    buckets[nd as usize % nbk].push((j, label));
                    pending += 1;
                }
            }
        }
        if it + 1 == iterations {
            break;
        }
        let mut count = vec![0usize; k];
        for &l in &labels {
            if l != NONE {
                count[l as usize] += 1;
            }
        }
        for r in 0..k {
            let f = (want[r] / count[r].max(1) as f64).sqrt().clamp(0.6, 1.6);
            w[r] *= f as f32;
        }
    }
    scratch.clear(cells);
    labels
}

/// A shortest path of adjacent cells inside `cells` from `from` to `to`, where entering a cell
/// costs `step(cell)`. `None` when `to` cannot be reached.
pub fn path(
    mesh: &Mesh,
    scratch: &mut Scratch,
    cells: &[u32],
    from: u32,
    to: u32,
    step: &dyn Fn(u32) -> f64,
) -> Option<Vec<u32>> {
    scratch.set(cells);
    let n = cells.len();
    let mut dist = vec![f32::INFINITY; n];
    let mut prev = vec![NONE; n];
    let mut heap = BinaryHeap::new();
    let (s, t) = (scratch.local[from as usize], scratch.local[to as usize]);
    let mut found = false;
    if s != NONE && t != NONE {
        dist[s as usize] = 0.0;
        heap.push(Item {
            cost: 0.0,
            local: s,
            label: 0,
        });
        while let Some(Item { cost: c, local, .. }) = heap.pop() {
            if c > dist[local as usize] {
                continue;
            }
            if local == t {
                found = true;
                break;
            }
            for nb in mesh
                .neighbours(cells[local as usize] as usize)
                .into_iter()
                .flatten()
            {
                let j = scratch.local[nb];
                if j == NONE {
                    continue;
                }
                let nc = c + step(nb as u32) as f32;
                if nc < dist[j as usize] {
                    dist[j as usize] = nc;
                    prev[j as usize] = local;
                    heap.push(Item {
                        cost: nc,
                        local: j,
                        label: 0,
                    });
                }
            }
        }
    }
    scratch.clear(cells);
    if !found {
        return None;
    }
    let mut out = vec![to];
    let mut cur = t;
    while cur != s {
        cur = prev[cur as usize];
        if cur == NONE {
            return None;
        }
        out.push(cells[cur as usize]);
    }
    out.reverse();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::measure::LocalFrame;
    use rand::SeedableRng;

    #[test]
    fn grown_regions_are_connected_cover_everything_and_follow_targets() {
        let mesh = Mesh::new(
            LocalFrame::new(121.2, 30.8),
            60.0,
            [0.0, 0.0, 3000.0, 2000.0],
            1,
            3,
        );
        let mut scratch = Scratch::new(&mesh);
        let cells: Vec<u32> = (0..mesh.len() as u32).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let seeds = spread_seeds(&mesh, &mut scratch, &cells, 5, &mut rng);
        assert_eq!(seeds.len(), 5);
        let targets = [1.0, 1.0, 2.0, 2.0, 4.0];
        let cost: Vec<f32> = (0..mesh.len())
            .map(|c| 0.5 + (c % 7) as f32 / 7.0)
            .collect();
        let lab = grow(&mesh, &mut scratch, &cells, &seeds, &targets, &cost, 4);
        assert!(lab.iter().all(|&l| l != NONE));
        for r in 0..5u32 {
            let mine: Vec<u32> = cells
                .iter()
                .zip(&lab)
                .filter(|&(_, &l)| l == r)
                .map(|(&c, _)| c)
                .collect();
            assert_eq!(
                components(&mesh, &mut scratch, &mine).len(),
                1,
                "region {r}"
            );
            let want = targets[r as usize] / 10.0 * cells.len() as f64;
            let got = mine.len() as f64;
            assert!(
                got > 0.5 * want && got < 1.5 * want,
                "region {r}: {got} cells, want {want}"
            );
        }
    }
}
