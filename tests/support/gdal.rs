//! GDAL for the export tests: `scripts/ensure-gdal` once (never skipped), commands that must
//! succeed, and a layer converted to GeoJSON in EPSG:4490 by `ogr2ogr`.

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs scripts/ensure-gdal once; panics if GDAL cannot be provided (never skips).
pub fn gdal() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let out = Command::new(root().join("scripts/ensure-gdal"))
            .output()
            .expect("scripts/ensure-gdal runs");
        assert!(
            out.status.success(),
            "scripts/ensure-gdal failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
}

/// Runs `cmd`, which must succeed; answers its standard output.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `source`'s layer `layer` as GeoJSON in EPSG:4490 by ogr2ogr, parsed.
pub fn ogr_layer(source: &str, layer: &str, dir: &Path) -> Vec<Value> {
    ogr_layer_with(source, layer, dir, &["-t_srs", "EPSG:4490"])
}

/// `source`'s layer `layer` as GeoJSON by ogr2ogr with `args` (e.g. none for a layer without
/// geometry), parsed.
pub fn ogr_layer_with(source: &str, layer: &str, dir: &Path, args: &[&str]) -> Vec<Value> {
    let out = dir.join(format!("{layer}.geojson"));
    let _ = std::fs::remove_file(&out);
    run(Command::new("ogr2ogr")
        .args(["-f", "GeoJSON"])
        .args(args)
        .args(["-lco", "RFC7946=NO"])
        .arg(&out)
        .arg(source)
        .arg(layer));
    let v: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("ogr2ogr output")).expect("GeoJSON");
    v["features"].as_array().expect("features").clone()
}
