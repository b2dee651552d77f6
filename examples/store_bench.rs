//! Helpers for scripts/bench-store.
//!
//! * `store_bench data STREETS GRIDS BLOCKS VERTICES > file.geojson` writes a tiled territory:
//!   STREETS streets side by side, each cut into GRIDS resident grids, each into BLOCKS blocks,
//!   every ring densified to about VERTICES positions, one road segment per grid. (A stand-in for
//!   `gridatlas synth` at large scales until the synthesiser lands.)
//! * `store_bench startup DATABASE` times a service start: open the store (migrations), load the
//!   current generation, build the atlas; prints one JSON line of timings in milliseconds.

use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon};
use gridatlas::model::{Feature, FeatureSet, Geometry, Kind, Layer, Person, Role};
use std::time::Instant;

fn ring(x0: f64, y0: f64, x1: f64, y1: f64, per_side: usize) -> LineString<f64> {
    let corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)];
    let mut v = Vec::with_capacity(per_side * 4 + 1);
    for w in corners.windows(2) {
        let ((ax, ay), (bx, by)) = (w[0], w[1]);
        for k in 0..per_side {
            let t = k as f64 / per_side as f64;
            v.push(Coord {
                x: ax + (bx - ax) * t,
                y: ay + (by - ay) * t,
            });
        }
    }
    v.push(Coord { x: x0, y: y0 });
    LineString(v)
}

fn area(x0: f64, y0: f64, x1: f64, y1: f64, per_side: usize) -> Geometry {
    Geometry::Area(MultiPolygon(vec![Polygon::new(
        ring(x0, y0, x1, y1, per_side),
        vec![],
    )]))
}

fn feature(layer: Layer, code: String, parent: Option<String>, geometry: Geometry) -> Feature {
    let kind = match layer {
        Layer::Street => Some(Kind::Town),
        Layer::ResidentGrid => Some(Kind::Residents),
        _ => None,
    };
    let people = if layer == Layer::Block {
        vec![Person {
            role: Role::BlockHead,
            name: format!("块长 {code}"),
            phone: Some("021-57000000".into()),
            photo_url: None,
            staff_id: None,
        }]
    } else {
        Vec::new()
    };
    Feature {
        layer,
        name: format!("{} {code}", layer.name_zh()),
        code,
        parent,
        kind,
        people,
        attributes: serde_json::Map::new(),
        geometry,
    }
}

fn data(streets: usize, grids: usize, blocks: usize, vertices: usize) -> FeatureSet {
    let per_side = (vertices / 4).max(1);
    let (lon0, lat0, sw, sh) = (121.0, 30.6, 0.03, 0.03);
    let cols = (streets as f64).sqrt().ceil() as usize;
    let mut out = Vec::new();
    for s in 0..streets {
        let x0 = lon0 + (s % cols) as f64 * sw;
        let y0 = lat0 + (s / cols) as f64 * sh;
        let sc = format!("31011{:04}", 1000 + s);
        out.push(feature(
            Layer::Street,
            sc.clone(),
            None,
            area(x0, y0, x0 + sw, y0 + sh, per_side * grids.min(8)),
        ));
        let gw = sw / grids as f64;
        let bh = sh / blocks as f64;
        for g in 0..grids {
            let gx = x0 + g as f64 * gw;
            let gc = format!("{sc}{:03}", g + 1);
            out.push(feature(
                Layer::ResidentGrid,
                gc.clone(),
                Some(sc.clone()),
                area(gx, y0, gx + gw, y0 + sh, per_side * 2),
            ));
            for b in 0..blocks {
                let by = y0 + b as f64 * bh;
                out.push(feature(
                    Layer::Block,
                    format!("{gc}B{:03}", b + 1),
                    Some(gc.clone()),
                    area(gx, by, gx + gw, by + bh, per_side),
                ));
            }
            out.push(feature(
                Layer::RoadSegment,
                format!("{gc}R01"),
                Some(format!("{gc}B001")),
                Geometry::Line(MultiLineString(vec![LineString(vec![
                    Coord {
                        x: gx + gw * 0.1,
                        y: y0 + bh * 0.5,
                    },
                    Coord {
                        x: gx + gw * 0.9,
                        y: y0 + bh * 0.5,
                    },
                ])])),
            ));
        }
    }
    FeatureSet::new(out, Vec::new()).unwrap_or_default()
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> anyhow::Result<usize> {
        Ok(args
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("missing argument {i}"))?
            .parse()?)
    };
    match args.first().map(String::as_str) {
        Some("data") => {
            let set = data(num(1)?, num(2)?, num(3)?, num(4)?);
            let stdout = std::io::stdout();
            gridatlas::geo_io::write(&set, std::io::BufWriter::new(stdout.lock()))?;
        }
        Some("startup") => {
            let url = args
                .get(1)
                .ok_or_else(|| anyhow::anyhow!("usage: store_bench startup DATABASE"))?;
            let t0 = Instant::now();
            let store = gridatlas::store::open(url)?;
            let t_open = t0.elapsed();
            let g = store
                .current_generation()?
                .ok_or_else(|| anyhow::anyhow!("nothing published"))?;
            let set = store.load_generation(g.number)?;
            let t_load = t0.elapsed();
            let n = set.len();
            let atlas = gridatlas::atlas::Atlas::build(set).with_generation(i64::from(g.number));
            let t_ready = t0.elapsed();
            let ms = |d: std::time::Duration| (d.as_secs_f64() * 1e4).round() / 10.0;
            println!(
                "{}",
                serde_json::json!({
                    "features": n,
                    "generation": atlas.generation(),
                    "open_ms": ms(t_open),
                    "load_ms": ms(t_load - t_open),
                    "build_ms": ms(t_ready - t_load),
                    "ready_ms": ms(t_ready),
                })
            );
        }
        _ => anyhow::bail!(
            "usage: store_bench data STREETS GRIDS BLOCKS VERTICES | startup DATABASE"
        ),
    }
    Ok(())
}
