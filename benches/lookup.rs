//! Point → placement lookups, area searches (what people type into the map: a name, pinyin,
//! initials, a part of a code, two terms), atlas build time and atlas memory on `synth --scale 1`
//! and `--scale 20`.
//!
//! Run: `cargo bench --bench lookup` (set `GRIDATLAS_BENCH_SCALES=1` to skip scale 20).
//! Memory and raster statistics are printed to stderr before the timings.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gridatlas::atlas::Atlas;
use gridatlas::model::FeatureSet;
use gridatlas::synth::{SynthOptions, synth};
use rand::{Rng, SeedableRng};
use std::hint::black_box;

fn scales() -> Vec<f64> {
    std::env::var("GRIDATLAS_BENCH_SCALES")
        .unwrap_or_else(|_| "1,20".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// `n` points uniformly in the district (rejection-sampled in its bounding box).
fn points_inside(atlas: &Atlas, n: usize) -> Vec<(f64, f64)> {
    let set = atlas.features();
    let Some(bbox) = set
        .features()
        .iter()
        .filter_map(|f| f.geometry.as_area())
        .filter_map(geo::BoundingRect::bounding_rect)
        .reduce(|a, b| {
            geo::Rect::new(
                geo::Coord {
                    x: a.min().x.min(b.min().x),
                    y: a.min().y.min(b.min().y),
                },
                geo::Coord {
                    x: a.max().x.max(b.max().x),
                    y: a.max().y.max(b.max().y),
                },
            )
        })
    else {
        return vec![(0.0, 0.0); n];
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let mut pts = Vec::with_capacity(n);
    let mut tries = 0;
    while pts.len() < n && tries < 100 * n {
        tries += 1;
        let x = rng.random_range(bbox.min().x..bbox.max().x);
        let y = rng.random_range(bbox.min().y..bbox.max().y);
        if atlas.locate(x, y)[1].is_some() {
            pts.push((x, y));
        }
    }
    pts
}

fn dataset(scale: f64) -> FeatureSet {
    synth(&SynthOptions {
        seed: 1,
        scale,
        dirty: 0,
    })
    .0
}

fn bench(c: &mut Criterion) {
    for scale in scales() {
        let set = dataset(scale);
        let raw = set.position_count() * 16;
        let blocks = set.layer(gridatlas::model::Layer::Block).count();
        let t = std::time::Instant::now();
        let atlas = Atlas::build(set.clone());
        let build = t.elapsed();
        let (cells, combo, mixed) = atlas.raster_stats();
        eprintln!(
            "scale {scale}: {} features, {blocks} blocks, {} positions ({raw} raw coordinate bytes); \
             build {build:?}; index {} bytes = {:.2}x raw; raster {cells} cells, {:.1}% need no test, {mixed} cell edges",
            set.len(),
            set.position_count(),
            atlas.index_heap_bytes(),
            atlas.index_heap_bytes() as f64 / raw.max(1) as f64,
            100.0 * combo as f64 / cells.max(1) as f64,
        );
        let pts = points_inside(&atlas, 1 << 16);

        let mut g = c.benchmark_group(format!("scale{scale}"));
        g.throughput(Throughput::Elements(pts.len() as u64));
        g.bench_function(BenchmarkId::new("lookup", pts.len()), |b| {
            b.iter(|| {
                let mut n = 0usize;
                for &(x, y) in &pts {
                    let p = atlas.lookup(black_box(x), black_box(y));
                    n += p.block.is_some() as usize + p.roads.len();
                }
                n
            })
        });
        g.bench_function(BenchmarkId::new("locate", pts.len()), |b| {
            b.iter(|| {
                let mut n = 0u32;
                for &(x, y) in &pts {
                    n = n.wrapping_add(atlas.locate(black_box(x), black_box(y))[3].unwrap_or(0));
                }
                n
            })
        });
        g.finish();

        // searches of the map's search box (the index is built by the first, outside the timing)
        let names: Vec<String> = set.features().iter().map(|f| f.name.clone()).collect();
        let name = names.get(names.len() / 2).cloned().unwrap_or_default();
        let first: String = name.chars().take(2).collect();
        let (pinyin, initials) = gridatlas::atlas::search::pinyin_of(&first);
        let queries = [
            first.clone(),
            pinyin,
            initials,
            "001".into(),
            format!("{first} 7"),
        ];
        atlas.search(Some("warm-up"), None, None, 0, 12);
        let mut g = c.benchmark_group(format!("scale{scale}-search"));
        for q in &queries {
            g.bench_function(BenchmarkId::new("search", q), |b| {
                b.iter(|| {
                    atlas
                        .search(black_box(Some(q.as_str())), None, None, 0, 12)
                        .0
                })
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("scale{scale}-build"));
        g.sample_size(10);
        g.bench_function("build", |b| {
            b.iter_batched(
                || set.clone(),
                Atlas::build,
                criterion::BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
