//! Writes a large, valid GeoJSON file for measuring the reader.
//!
//!     cargo run --release --example big_geojson -- OUT.geojson [BLOCKS] [VERTICES]
//!
//! One district, 10 streets, 100 resident grids per street, BLOCKS blocks (default 200,000)
//! spread over the grids, each a polygon of VERTICES corners (default 40) with full-precision
//! coordinates, a block head and two attributes. 200,000 × 40 gives a file of about 330 MB.

use geo::{Coord, LineString, MultiPolygon, Polygon, Winding};
use gridatlas::geo_io::write_path;
use gridatlas::model::{Feature, FeatureSet, Geometry, Kind, Layer, Person, Role};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::path::PathBuf;

fn circle(rng: &mut ChaCha8Rng, cx: f64, cy: f64, r: f64, n: usize) -> Geometry {
    let mut pts: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / n as f64;
            let rr = r * rng.random_range(0.8..1.0);
            Coord {
                x: cx + rr * a.cos(),
                y: cy + rr * a.sin(),
            }
        })
        .collect();
    pts.push(pts[0]);
    let mut ring = LineString(pts);
    ring.make_ccw_winding();
    Geometry::Area(MultiPolygon(vec![Polygon::new(ring, vec![])]))
}

fn feature(layer: Layer, code: String, parent: Option<String>, geometry: Geometry) -> Feature {
    Feature {
        layer,
        name: format!("{} {code}", layer.name_zh()),
        code,
        parent,
        kind: None,
        people: Vec::new(),
        attributes: serde_json::Map::new(),
        geometry,
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow::anyhow!("usage: OUT [BLOCKS] [VERTICES]"))?,
    );
    let blocks: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(200_000);
    let vertices: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(40);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (cx, cy) = (121.3, 30.8);
    let mut fs = vec![feature(
        Layer::District,
        "310116".into(),
        None,
        circle(&mut rng, cx, cy, 0.3, 400),
    )];
    let mut grids = Vec::new();
    for s in 0..10 {
        let code = format!("310116{:03}", 100 + s);
        let mut f = feature(
            Layer::Street,
            code.clone(),
            Some("310116".into()),
            circle(&mut rng, cx, cy, 0.1, 200),
        );
        f.kind = Some(Kind::Town);
        fs.push(f);
        for g in 0..100 {
            let gcode = format!("{code}{:03}", g + 1);
            let mut f = feature(
                Layer::ResidentGrid,
                gcode.clone(),
                Some(code.clone()),
                circle(&mut rng, cx, cy, 0.01, 100),
            );
            f.kind = Some(Kind::Residents);
            fs.push(f);
            grids.push(gcode);
        }
    }
    for b in 0..blocks {
        let grid = &grids[b % grids.len()];
        let x = cx + rng.random_range(-0.25..0.25);
        let y = cy + rng.random_range(-0.25..0.25);
        let mut f = feature(
            Layer::Block,
            format!("{grid}B{b:06}"),
            Some(grid.clone()),
            circle(&mut rng, x, y, 0.001, vertices),
        );
        f.people.push(Person {
            role: Role::BlockHead,
            name: "王小明".into(),
            phone: Some("13800000000".into()),
            photo_url: None,
            staff_id: None,
        });
        f.attributes
            .insert("households".into(), json!(rng.random_range(10..500)));
        f.attributes
            .insert("compound".into(), json!(format!("第{b}小区")));
        fs.push(f);
    }
    let set =
        FeatureSet::new(fs, Vec::new()).map_err(|f| anyhow::anyhow!("duplicate {}", f.code))?;
    write_path(&set, &out)?;
    println!(
        "{} features, {} positions, {} bytes",
        set.len(),
        set.position_count(),
        std::fs::metadata(&out)?.len()
    );
    Ok(())
}
