//! Vector tiles of a survey-dense district, per zoom 8–18: size (median, max) and build time
//! (median, p99), cold (built) and warm (from the atlas's tile cache), and the process's memory.
//!
//! `cargo run --release --example tiles_bench -- [--scale S] [--spacing MIN..MAX] [--seed N]
//!  [--file FILE] [--tiles N] [--full]`
//!
//! The district is `gridatlas synth --scale S --vertex-spacing-m MIN..MAX` made in memory
//! (defaults: scale 4.4, 2..10 m: about 23,000 blocks), or read from FILE. Per zoom, every tile
//! over the district's bounding box, or N random ones of them when there are more (default 400);
//! tiles with nothing in them are not counted. `--full` cuts every tile from the full geometry
//! ([`Atlas::tile_full_geometry`], the tiles as they were before the zoom bands) for comparison.

use gridatlas::atlas::Atlas;
use gridatlas::synth::survey::{Spacing, densify};
use gridatlas::synth::{SynthOptions, try_synth};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn mem(label: &str) {
    println!(
        "memory {label}: VmRSS {:.0} MB, VmHWM {:.0} MB",
        status_kb("VmRSS:") as f64 / 1024.0,
        status_kb("VmHWM:") as f64 / 1024.0
    );
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

fn lon_to_x(z: u8, lon: f64) -> u32 {
    let n = f64::from(1u32 << z);
    (((lon + 180.0) / 360.0 * n).floor().clamp(0.0, n - 1.0)) as u32
}

fn lat_to_y(z: u8, lat: f64) -> u32 {
    let n = f64::from(1u32 << z);
    let r = lat.to_radians();
    let y = (1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (y.floor().clamp(0.0, n - 1.0)) as u32
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opt = |name: &str| -> Option<&str> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(String::as_str)
    };
    let full = args.iter().any(|a| a == "--full");
    let scale: f64 = opt("--scale").and_then(|s| s.parse().ok()).unwrap_or(4.4);
    let seed: u64 = opt("--seed").and_then(|s| s.parse().ok()).unwrap_or(1);
    let limit: usize = opt("--tiles").and_then(|s| s.parse().ok()).unwrap_or(400);
    let spacing: Spacing = opt("--spacing")
        .unwrap_or("2..10")
        .parse()
        .map_err(anyhow::Error::msg)?;

    let t = Instant::now();
    let set = match opt("--file") {
        Some(f) => gridatlas::geo_io::read_path(std::path::Path::new(f))?,
        None => {
            let (set, _) = try_synth(&SynthOptions {
                seed,
                scale,
                dirty: 0,
            })?;
            densify(set, &spacing, seed)
        }
    };
    let blocks: Vec<_> = set
        .features()
        .iter()
        .filter(|f| f.layer == gridatlas::model::Layer::Block)
        .collect();
    let block_vertices: usize = blocks
        .iter()
        .filter_map(|f| f.geometry.as_area())
        .flat_map(|mp| mp.0.iter())
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum();
    println!(
        "dataset: {} features, {} blocks, {} block vertices, {} positions in all ({:.1} s)",
        set.len(),
        blocks.len(),
        block_vertices,
        set.position_count(),
        t.elapsed().as_secs_f64()
    );
    mem("after the dataset");
    let t = Instant::now();
    let atlas = Atlas::build(set);
    println!("atlas build: {:.2} s", t.elapsed().as_secs_f64());
    mem("after the atlas");
    if !full {
        let t = Instant::now();
        let g = atlas.prepare_tiles().tile_geometry();
        println!(
            "tile geometry (topology + {} bands): {:.2} s, {:.1} MB ({})",
            g.bands.len(),
            t.elapsed().as_secs_f64(),
            g.heap_bytes() as f64 / 1e6,
            g.bands
                .iter()
                .map(|b| format!("z≤{}: {} points", b.zoom, b.points()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        mem("after the tile geometry");
    }
    let bbox = atlas
        .territory_bbox()
        .ok_or_else(|| anyhow::anyhow!("empty district"))?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    println!(
        "\n| zoom | tiles | size median | size max | cold median | cold p99 | cold max | warm median | warm p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut all_under = true;
    for z in 8u8..=18 {
        let (x0, x1) = (lon_to_x(z, bbox.min().x), lon_to_x(z, bbox.max().x));
        let (y0, y1) = (lat_to_y(z, bbox.max().y), lat_to_y(z, bbox.min().y));
        let count = u64::from(x1 - x0 + 1) * u64::from(y1 - y0 + 1);
        let tiles: Vec<(u32, u32)> = if count as usize <= limit {
            (x0..=x1)
                .flat_map(|x| (y0..=y1).map(move |y| (x, y)))
                .collect()
        } else {
            let mut v: Vec<(u32, u32)> = (0..limit)
                .map(|_| (rng.random_range(x0..=x1), rng.random_range(y0..=y1)))
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let (mut sizes, mut cold, mut warm) = (Vec::new(), Vec::new(), Vec::new());
        for &(x, y) in &tiles {
            let t = Instant::now();
            let b = if full {
                atlas.tile_full_geometry(z, x, y)?
            } else {
                atlas.tile(z, x, y)?
            };
            let c = t.elapsed().as_secs_f64() * 1e3;
            if b.is_empty() {
                continue;
            }
            sizes.push(b.len() as f64 / 1e3);
            cold.push(c);
            if !full {
                let t = Instant::now();
                let again = atlas.tile(z, x, y)?;
                warm.push(t.elapsed().as_secs_f64() * 1e3);
                anyhow::ensure!(again == b, "the cache changed tile {z}/{x}/{y}");
            }
        }
        for v in [&mut sizes, &mut cold, &mut warm] {
            v.sort_by(f64::total_cmp);
        }
        let max_size = sizes.last().copied().unwrap_or(0.0);
        all_under &= max_size < 300.0;
        println!(
            "| {z} | {} | {:.1} kB | {:.1} kB | {:.2} ms | {:.2} ms | {:.2} ms | {} | {} |",
            sizes.len(),
            pct(&sizes, 0.5),
            max_size,
            pct(&cold, 0.5),
            pct(&cold, 0.99),
            cold.last().copied().unwrap_or(f64::NAN),
            if full {
                "—".to_owned()
            } else {
                format!("{:.3} ms", pct(&warm, 0.5))
            },
            if full {
                "—".to_owned()
            } else {
                format!("{:.3} ms", pct(&warm, 0.99))
            },
        );
    }
    println!("\nevery sampled tile under 300 kB: {all_under}");
    if !full {
        let s = atlas.tile_cache().stats();
        println!(
            "tile cache: {} tiles, {:.1} MB (budget {:.0} MB), {} hits, {} misses",
            s.tiles,
            s.bytes as f64 / 1e6,
            atlas.tile_cache().budget() as f64 / 1e6,
            s.hits,
            s.misses
        );
    }
    mem("at the end");
    Ok(())
}
