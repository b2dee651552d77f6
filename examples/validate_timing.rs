//! Times `validate` on a lattice district (every layer, exactly shared vertices) and optionally
//! writes it as GeoJSON for the other tools of `scripts/bench-validate`:
//! `cargo run --release --example validate_timing -- BLOCKS_SIDE [OUT.geojson]`.
//! Prints one JSON line: `{"features": n, "findings": n, "runs_ms": [...], "median_ms": x}`.

use gridatlas::model::FeatureSet;
use gridatlas::validate::{Options, shapes::lattice_district, validate};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let side: usize = args.next().map_or(Ok(72), |s| s.parse())?;
    let fs = lattice_district(side, 4, 6, 40.0);
    let set =
        FeatureSet::new(fs, vec![]).map_err(|f| anyhow::anyhow!("duplicate code {}", f.code))?;
    if let Some(out) = args.next() {
        gridatlas::geo_io::write_path(&set, std::path::Path::new(&out))?;
    }
    let opts = Options::default();
    let mut runs = Vec::new();
    let mut findings = 0;
    for _ in 0..7 {
        let t = Instant::now();
        let r = validate(&set, &opts);
        runs.push(t.elapsed().as_secs_f64() * 1e3);
        findings = r.findings.len();
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({"features": set.len(), "findings": findings, "runs_ms": runs, "median_ms": sorted[sorted.len() / 2]})
    );
    Ok(())
}
