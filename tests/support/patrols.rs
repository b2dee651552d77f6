//! Generated patrol tracks on a district, for the coverage tests and benchmark: people walking
//! along road segments (across the junction to another starting within 100 m of the end, or
//! through the blocks to a point part-way along a road up to 400 m away), a fix every 10 s with GPS noise,
//! gaps of a few minutes, and outliers hundreds of metres off. Deterministic for a seed.

#![allow(dead_code)]

use geo::Coord;
use gridatlas::field::Fix;
use gridatlas::geometry::measure::LocalFrame;
use gridatlas::model::{FeatureSet, Layer};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// 2026-05-01T08:00:00+08:00.
pub const START_MS: i64 = 1_777_593_600_000;

/// A road segment's line, in a district-wide metric frame.
struct Road {
    xy: Vec<Coord<f64>>,
}

/// `people` people walking for `hours` from 08:00, a fix every `every_s` seconds: `(staff, fixes)`
/// in time order per person.
pub fn patrols(
    set: &FeatureSet,
    people: usize,
    hours: f64,
    every_s: f64,
    seed: u64,
) -> Vec<(String, Vec<Fix>)> {
    let first = set
        .layer(Layer::RoadSegment)
        .filter_map(|f| f.geometry.as_line())
        .flat_map(|l| l.0.iter().flat_map(|ls| ls.0.first()))
        .next()
        .copied()
        .unwrap_or(Coord { x: 121.3, y: 30.8 });
    let frame = LocalFrame::new(first.x, first.y);
    let roads: Vec<Road> = set
        .layer(Layer::RoadSegment)
        .filter_map(|f| f.geometry.as_line())
        .filter_map(|l| l.0.first())
        .map(|ls| Road {
            xy: ls.0.iter().map(|c| frame.to_xy(*c)).collect(),
        })
        .filter(|r| r.xy.len() >= 2)
        .collect();
    assert!(!roads.is_empty(), "no road segments");
    // Ends of roads by 100 m cell: (road, starting from its end). The demo's segments stop some
    // 70 m short of each other at junctions.
    let key = |c: Coord<f64>| ((c.x / 100.0).floor() as i64, (c.y / 100.0).floor() as i64);
    let mut ends: HashMap<(i64, i64), Vec<(usize, bool)>> = HashMap::new();
    for (i, r) in roads.iter().enumerate() {
        ends.entry(key(r.xy[0])).or_default().push((i, false));
        ends.entry(key(r.xy[r.xy.len() - 1]))
            .or_default()
            .push((i, true));
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let steps = (hours * 3600.0 / every_s) as usize;
    (0..people)
        .map(|p| {
            let speed = rng.random_range(0.9..1.6);
            let (mut road, mut rev) = (rng.random_range(0..roads.len()), rng.random_bool(0.5));
            let mut line = walk_line(&roads[road], rev);
            let mut k = 0; // vertex index of the current edge's start
            let mut along = 0.0; // metres along the current edge
            let mut gap = 0usize;
            let mut fixes = Vec::with_capacity(steps);
            for s in 0..steps {
                // Move.
                let mut left = speed * every_s;
                while left > 0.0 {
                    let (a, b) = (line[k], line[k + 1]);
                    let len = (b.x - a.x).hypot(b.y - a.y);
                    if along + left < len {
                        along += left;
                        left = 0.0;
                    } else {
                        left -= len - along;
                        along = 0.0;
                        k += 1;
                        if k + 1 >= line.len() {
                            // At the end: another road starting near here, else back.
                            let end = line[line.len() - 1];
                            let (cx, cy) = key(end);
                            let mut near: Vec<(usize, bool)> = Vec::new();
                            for dx in -1..=1 {
                                for dy in -1..=1 {
                                    if let Some(v) = ends.get(&(cx + dx, cy + dy)) {
                                        near.extend(v.iter().copied().filter(|&(i, r)| {
                                            let xy = &roads[i].xy;
                                            let s = if r { xy[xy.len() - 1] } else { xy[0] };
                                            i != road && (s.x - end.x).hypot(s.y - end.y) < 100.0
                                        }));
                                    }
                                }
                            }
                            if rng.random_bool(0.3) {
                                // Through the blocks to a point part-way along a road up to
                                // 400 m away, then along it.
                                let mut far: Vec<(usize, bool)> = Vec::new();
                                for dx in -4..=4 {
                                    for dy in -4..=4 {
                                        if let Some(v) = ends.get(&(cx + dx, cy + dy)) {
                                            far.extend(v.iter().filter(|&&(i, _)| i != road));
                                        }
                                    }
                                }
                                if let Some(&(i, r)) =
                                    far.get(rng.random_range(0..far.len().max(1)))
                                {
                                    (road, rev) = (i, r);
                                }
                                let whole = walk_line(&roads[road], rev);
                                let cut = rng.random_range(0..whole.len() - 1);
                                let f = rng.random_range(0.1..0.9);
                                let (a, b) = (whole[cut], whole[cut + 1]);
                                line = vec![
                                    end,
                                    Coord {
                                        x: a.x + (b.x - a.x) * f,
                                        y: a.y + (b.y - a.y) * f,
                                    },
                                ];
                                line.extend_from_slice(&whole[cut + 1..]);
                            } else {
                                if near.is_empty() || rng.random_bool(0.1) {
                                    rev = !rev;
                                } else {
                                    (road, rev) = near[rng.random_range(0..near.len())];
                                }
                                // Across the junction, then along the road.
                                line = walk_line(&roads[road], rev);
                                line.insert(0, end);
                            }
                            k = 0;
                        }
                    }
                }
                if gap > 0 {
                    gap -= 1;
                    continue;
                }
                if rng.random_bool(0.004) {
                    gap = rng.random_range(6..30);
                }
                let (a, b) = (line[k], line[k + 1]);
                let len = (b.x - a.x).hypot(b.y - a.y).max(1e-9);
                let mut at = Coord {
                    x: a.x + (b.x - a.x) * along / len,
                    y: a.y + (b.y - a.y) * along / len,
                };
                let sigma = rng.random_range(2.0..8.0);
                at.x += sigma * normal(&mut rng);
                at.y += sigma * normal(&mut rng);
                if rng.random_bool(0.005) {
                    let angle = rng.random_range(0.0..std::f64::consts::TAU);
                    let d = rng.random_range(300.0..900.0);
                    at.x += d * angle.cos();
                    at.y += d * angle.sin();
                }
                let ll = frame.to_lonlat(at);
                fixes.push(Fix {
                    t_ms: START_MS + (s as f64 * every_s * 1000.0) as i64,
                    lon: ll.x,
                    lat: ll.y,
                    accuracy_m: Some((sigma * 2.0).round()),
                });
            }
            (format!("W{p:04}"), fixes)
        })
        .collect()
}

fn walk_line(r: &Road, rev: bool) -> Vec<Coord<f64>> {
    let mut v = r.xy.clone();
    if rev {
        v.reverse();
    }
    v
}

/// A standard normal deviate (Box–Muller).
fn normal(rng: &mut impl Rng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}
