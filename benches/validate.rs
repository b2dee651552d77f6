//! Validation benchmarks on lattice districts with every layer (district, streets, grids of the
//! three kinds, blocks) and exactly shared vertices: side 72 ≈ 5,000 blocks (like
//! `synth --scale 1`), side 320 ≈ 100,000 blocks (like `--scale 20`). Clean data: the edge
//! matching proves every scope clean and no boolean operation runs. A dirty variant (a bow-tie
//! block and a grid pulled back 3 m) measures the local exact path.

use criterion::{Criterion, criterion_group, criterion_main};
use gridatlas::model::{FeatureSet, Geometry};
use gridatlas::validate::shapes::lattice_district;
use gridatlas::validate::{Options, validate};
use std::hint::black_box;

fn set(side: usize, dirty: bool) -> FeatureSet {
    let mut fs = lattice_district(side, 4, 6, 40.0);
    if dirty {
        for f in fs
            .iter_mut()
            .filter(|f| f.code == "b1_1" || f.code == "g2_2")
        {
            if let Geometry::Area(mp) = &mut f.geometry {
                mp.0[0].exterior_mut(|r| {
                    if f.code == "b1_1" {
                        r.0.swap(1, 2);
                    } else {
                        r.0[1].x -= 3e-5;
                    }
                });
            }
        }
    }
    FeatureSet::new(fs, vec![]).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let opts = Options::default();
    let mut g = c.benchmark_group("validate");
    g.sample_size(10);
    for (name, side, dirty) in [
        ("lattice72_clean", 72, false),
        ("lattice72_dirty", 72, true),
        ("lattice320_clean", 320, false),
    ] {
        let s = set(side, dirty);
        g.bench_function(name, |b| {
            b.iter(|| black_box(validate(black_box(&s), &opts)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
