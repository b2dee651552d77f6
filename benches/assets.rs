//! The component register at district size: 500,000 components (`GRIDATLAS_BENCH_COMPONENTS`
//! for another number) spread over 30 × 30 km, read from GeoJSON and CSV, indexed, and queried.
//!
//! Run: `cargo bench --bench assets`. The file sizes, one timed read of each file, the index's
//! build time and its heap bytes are printed to stderr before the criterion timings.
//!
//! `atlas_lookup/before_registers` and `atlas_lookup/beside_500k` time the atlas's "who owns
//! this point?" on the demo district, before the components exist in the process and with the
//! 500,000 and their index in memory: the registers are kept apart from the atlas, and this
//! checks that holding them leaves lookups as fast.

use criterion::{Criterion, criterion_group, criterion_main};
use gridatlas::assets::index::ComponentIndex;
use gridatlas::assets::io::{
    read_components_csv, read_components_geojson, write_components_geojson,
};
use gridatlas::assets::{Component, ComponentState};
use gridatlas::geometry::crs::Crs;
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::time::Instant;

const CLASSES: [&str; 8] = [
    "0101", "0102", "0103", "0115", "0118", "0208", "0304", "0402",
];

fn components(n: usize) -> Vec<Component> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    (0..n)
        .map(|i| Component {
            code: format!(
                "310116{}{:06}",
                CLASSES[i % CLASSES.len()],
                i / CLASSES.len()
            ),
            lon: 121.0 + rng.random_range(0.0..0.31),
            lat: 30.7 + rng.random_range(0.0..0.27),
            owner: ["金山区水务局", "金山区路灯管理所", "金山区绿化市容局"][i % 3].into(),
            maintainer: (i % 2 == 0).then(|| "金山区市政养护公司".to_string()),
            state: ComponentState::ALL[i % 5],
            survey_date: chrono::NaiveDate::from_ymd_opt(2024, 5, 1),
            attributes: Default::default(),
        })
        .collect()
}

fn csv(cs: &[Component]) -> String {
    let mut out = String::from("部件编码,经度,纬度,权属单位,养护单位,部件状态,普查日期\n");
    for c in cs {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            c.code,
            c.lon,
            c.lat,
            c.owner,
            c.maintainer.as_deref().unwrap_or(""),
            c.state.name_zh(),
            c.survey_date.map(|d| d.to_string()).unwrap_or_default()
        ));
    }
    out
}

/// The demo district's atlas and 1,024 points inside its box.
fn demo_atlas() -> (gridatlas::atlas::Atlas, Vec<(f64, f64)>) {
    let set = gridatlas::geo_io::read_path(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo-district.geojson"
    )))
    .expect("demo fixture");
    let atlas = gridatlas::atlas::Atlas::build(set);
    let d = atlas
        .features()
        .district()
        .and_then(|f| atlas.find(&f.code))
        .and_then(|id| atlas.bbox(id))
        .expect("the district's box");
    let (x0, y0, x1, y1) = (d.min().x, d.min().y, d.max().x, d.max().y);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let points = (0..1024)
        .map(|_| (rng.random_range(x0..x1), rng.random_range(y0..y1)))
        .collect();
    (atlas, points)
}

fn lookups(c: &mut Criterion, name: &str, atlas: &gridatlas::atlas::Atlas, points: &[(f64, f64)]) {
    let mut g = c.benchmark_group("atlas_lookup");
    let mut k = 0;
    g.bench_function(name, |b| {
        b.iter(|| {
            k = (k + 1) % points.len();
            let (x, y) = points[k];
            black_box(atlas.lookup(x, y))
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let (atlas, atlas_points) = demo_atlas();
    lookups(c, "before_registers", &atlas, &atlas_points);
    let n: usize = std::env::var("GRIDATLAS_BENCH_COMPONENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500_000);
    let cs = components(n);
    let geojson = write_components_geojson(&cs).expect("written");
    let csv = csv(&cs);
    let t = Instant::now();
    let read = read_components_geojson(geojson.as_bytes(), Crs::Wgs84).expect("read");
    let geojson_s = t.elapsed().as_secs_f64();
    assert_eq!(read, cs);
    let t = Instant::now();
    let read = read_components_csv(csv.as_bytes(), None, Crs::Wgs84).expect("read");
    let csv_s = t.elapsed().as_secs_f64();
    assert_eq!(read.len(), n);
    let t = Instant::now();
    let index = ComponentIndex::new(&cs);
    let build_s = t.elapsed().as_secs_f64();
    eprintln!(
        "assets bench: {n} components; GeoJSON {:.1} MB read in {geojson_s:.2} s, CSV {:.1} MB \
         in {csv_s:.2} s; index built in {build_s:.2} s, {:.1} MB on the heap ({:.0} bytes a \
         component)",
        geojson.len() as f64 / 1e6,
        csv.len() as f64 / 1e6,
        index.heap_bytes() as f64 / 1e6,
        index.heap_bytes() as f64 / n as f64
    );

    let mut g = c.benchmark_group("assets_read");
    g.sample_size(10);
    g.bench_function("geojson", |b| {
        b.iter(|| {
            read_components_geojson(black_box(geojson.as_bytes()), Crs::Wgs84).map(|v| v.len())
        })
    });
    g.bench_function("csv", |b| {
        b.iter(|| read_components_csv(black_box(csv.as_bytes()), None, Crs::Wgs84).map(|v| v.len()))
    });
    g.bench_function("index_build", |b| {
        b.iter(|| ComponentIndex::new(black_box(&cs)).len())
    });
    g.finish();

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let points: Vec<(f64, f64)> = (0..1024)
        .map(|_| {
            (
                121.0 + rng.random_range(0.0..0.31),
                30.7 + rng.random_range(0.0..0.27),
            )
        })
        .collect();
    let mut g = c.benchmark_group("assets_query");
    let mut k = 0;
    let mut next = || {
        k = (k + 1) % points.len();
        points[k]
    };
    g.bench_function("within_10m", |b| {
        b.iter(|| {
            let (x, y) = next();
            index.within(x, y, 10.0).len()
        })
    });
    g.bench_function("within_100m", |b| {
        b.iter(|| {
            let (x, y) = next();
            index.within(x, y, 100.0).len()
        })
    });
    g.bench_function("nearest_of_10m", |b| {
        b.iter(|| {
            let (x, y) = next();
            index.nearest_of(x, y, "01", "18", 10.0)
        })
    });
    let mut j = 0;
    g.bench_function("by_code", |b| {
        b.iter(|| {
            j = (j + 7919) % cs.len();
            index.by_code(black_box(&cs[j].code))
        })
    });
    g.finish();
    lookups(c, "beside_500k", &atlas, &atlas_points);
    black_box((&index, &cs));
}

criterion_group!(benches, bench);
criterion_main!(benches);
