//! Lookups per CPU-second on the demo district (robust to a busy machine: counts this process's
//! user+system time, not wall time).
//! `cargo run --release --example lookup_cpu -- [FILE] [N] [CELL_M|-] [locate|lookup]`.

use gridatlas::atlas::Atlas;
use rand::{Rng, SeedableRng};

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .map_or("fixtures/demo-district.geojson", String::as_str);
    let n: usize = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    let set = gridatlas::geo_io::read_path(std::path::Path::new(path))?;
    let cell: Option<f64> = args.get(3).and_then(|s| s.parse().ok());
    let raw = set.position_count() * 16;
    let t = std::time::Instant::now();
    let c0 = cpu_seconds();
    let atlas = Atlas::build_with(
        set,
        gridatlas::atlas::AtlasOptions {
            cell_m: cell,
            ..Default::default()
        },
    );
    println!(
        "build {:.3} s (wall), {:.2} s CPU",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c0
    );
    let (cells, combo, words) = atlas.raster_stats();
    println!(
        "index {} bytes = {:.2}x raw; {cells} cells, {:.1}% no test, {words} cell edges",
        atlas.index_heap_bytes(),
        atlas.index_heap_bytes() as f64 / raw as f64,
        100.0 * combo as f64 / cells as f64
    );
    for (part, bytes) in atlas.index_heap_breakdown() {
        println!(
            "  {part}: {bytes} bytes = {:.2}x raw",
            bytes as f64 / raw as f64
        );
    }
    let b = atlas
        .territory_bbox()
        .ok_or_else(|| anyhow::anyhow!("empty"))?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut pts = Vec::new();
    while pts.len() < 1 << 16 {
        let (x, y) = (
            rng.random_range(b.min().x..b.max().x),
            rng.random_range(b.min().y..b.max().y),
        );
        if atlas.locate(x, y)[1].is_some() {
            pts.push((x, y));
        }
    }
    let only: Option<&str> = args.get(4).map(String::as_str);
    for (name, full) in [("locate", false), ("lookup", true)] {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let t0 = cpu_seconds();
        let w0 = std::time::Instant::now();
        let acc = run_loop(&atlas, &pts, n, full);
        let cpu = cpu_seconds() - t0;
        println!(
            "{name}: {n} lookups, {:.0} ns/lookup CPU ({:.2} M/s per core), wall {:.2} s (checksum {acc})",
            cpu * 1e9 / n as f64,
            n as f64 / cpu / 1e6,
            w0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The measured loop, out of line so that `valgrind --tool=callgrind --toggle-collect=*run_loop*`
/// counts the instructions of the lookups alone.
#[inline(never)]
fn run_loop(atlas: &Atlas, pts: &[(f64, f64)], n: usize, full: bool) -> u64 {
    let mut acc = 0u64;
    for i in 0..n {
        let (x, y) = pts[i & 0xFFFF];
        if full {
            let p = atlas.lookup(x, y);
            acc += u64::from(p.block.unwrap_or(0)) + p.roads.len() as u64;
        } else {
            acc += u64::from(atlas.locate(x, y)[3].unwrap_or(0));
        }
    }
    acc
}
