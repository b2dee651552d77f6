//! Coverage matching and geofencing on the demo district (`synth --scale 1`): 1,000 people
//! walking along road segments with a fix every 10 s (GPS noise, gaps, outliers), cleaned and
//! joined into paths beforehand.
//!
//! Run: `cargo bench --bench coverage` (`GRIDATLAS_BENCH_HOURS=H` for another length of day,
//! default 2 h = 720,000 fixes). Fixes per second on one core are printed to stderr before the
//! criterion timings.

#[path = "../tests/support/patrols.rs"]
mod patrols;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gridatlas::atlas::Atlas;
use gridatlas::field::coverage::CoverageIndex;
use gridatlas::field::geofence::geofence;
use gridatlas::field::{Fix, FixRules, clean, paths};
use gridatlas::model::Layer;
use gridatlas::synth::{SynthOptions, synth};
use std::hint::black_box;
use std::time::Instant;

fn bench(c: &mut Criterion) {
    let hours: f64 = std::env::var("GRIDATLAS_BENCH_HOURS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let (set, _) = synth(&SynthOptions::default());
    let rules = FixRules::default();
    let t = Instant::now();
    let people: Vec<Vec<Fix>> = patrols::patrols(&set, 1000, hours, 10.0, 11)
        .into_iter()
        .map(|(_, fixes)| clean(fixes, None, &rules).kept)
        .collect();
    let fixes: usize = people.iter().map(Vec::len).sum();
    eprintln!(
        "coverage bench: {fixes} fixes kept of 1000 people × {hours} h ({:.1} s to generate)",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let index = CoverageIndex::new(
        set.layer(Layer::RoadSegment)
            .filter_map(|f| Some((f.code.clone(), f.geometry.as_line()?))),
        20.0,
    );
    eprintln!(
        "coverage bench: index of {} segments, {} edges built in {:.1} ms",
        index.len(),
        index.edge_count(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let all: Vec<&[Fix]> = people.iter().flat_map(|p| paths(p, &rules)).collect();
    let atlas = Atlas::build(set.clone());

    // A plain timing first, so the number is printed whatever criterion does.
    for _ in 0..3 {
        let t = Instant::now();
        let mut tally = index.tally();
        index.add_paths(&mut tally, all.iter().copied());
        let matched = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let result = index.finish(&tally);
        let finished = t.elapsed().as_secs_f64();
        let covered = result.iter().filter(|s| s.share >= 0.8).count();
        eprintln!(
            "coverage bench: matching {:.2} M fixes/s on one core ({:.0} ms), finish {:.1} ms, \
             {covered} of {} segments ≥ 80 %",
            fixes as f64 / matched / 1e6,
            matched * 1e3,
            finished * 1e3,
            result.len()
        );
    }
    let t = Instant::now();
    let mut events = 0;
    for p in &people {
        events += geofence(&atlas, &paths(p, &rules)).events.len();
    }
    let fenced = t.elapsed().as_secs_f64();
    eprintln!(
        "coverage bench: geofencing {:.0} ns per fix ({:.2} M fixes/s), {events} events",
        fenced / fixes as f64 * 1e9,
        fixes as f64 / fenced / 1e6
    );

    let mut g = c.benchmark_group("coverage");
    g.sample_size(10);
    g.throughput(Throughput::Elements(fixes as u64));
    g.bench_function("match_demo_day", |b| {
        b.iter(|| {
            let mut tally = index.tally();
            index.add_paths(&mut tally, all.iter().copied());
            black_box(tally.fixes())
        })
    });
    g.bench_function("geofence_demo_day", |b| {
        b.iter(|| {
            let mut n = 0;
            for p in &people {
                n += geofence(&atlas, &paths(p, &rules)).events.len();
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
