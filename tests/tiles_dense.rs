//! Survey-dense boundaries (`synth --vertex-spacing-m 2..10`) and their vector tiles: the dense
//! district is still a valid coverage, every tile at zoom 8–18 decodes and weighs under 300 kB,
//! neighbours meet exactly in the simplified tiles, and the tile cache gives identical bytes and
//! dies with its generation.
//!
//! Scale 1 (about 4,800 blocks, 1.3 M block vertices); run with `cargo test --release --test
//! tiles_dense` for speed.

use gridatlas::atlas::Atlas;
use gridatlas::atlas::topology::{BANDS, band_of};
use gridatlas::model::{FeatureSet, Layer};
use gridatlas::synth::survey::{Spacing, densify};
use gridatlas::synth::{SynthOptions, synth};
use gridatlas::validate::{Options, validate};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::OnceLock;

fn dense() -> &'static FeatureSet {
    static SET: OnceLock<FeatureSet> = OnceLock::new();
    SET.get_or_init(|| {
        let (set, _) = synth(&SynthOptions {
            seed: 3,
            scale: 1.0,
            dirty: 0,
        });
        densify(set, &Spacing::default(), 3)
    })
}

fn atlas() -> &'static Atlas {
    static ATLAS: OnceLock<Atlas> = OnceLock::new();
    ATLAS.get_or_init(|| Atlas::build(dense().clone()).with_generation(1))
}

#[test]
fn densified_district_is_dense_and_still_valid() {
    let set = dense();
    let blocks: Vec<_> = set
        .features()
        .iter()
        .filter(|f| f.layer == Layer::Block)
        .collect();
    let vertices: usize = blocks
        .iter()
        .filter_map(|f| f.geometry.as_area())
        .flat_map(|mp| mp.0.iter())
        .map(|p| p.exterior().0.len())
        .sum();
    assert!(blocks.len() > 4_000, "{} blocks", blocks.len());
    assert!(
        vertices > 200 * blocks.len(),
        "{vertices} vertices for {} blocks",
        blocks.len()
    );
    let report = validate(set, &Options::default());
    assert!(
        report.findings.is_empty(),
        "{:#?}",
        report
            .findings
            .iter()
            .take(10)
            .map(|f| (f.rule, f.kind, &f.codes))
            .collect::<Vec<_>>()
    );
}

fn tile_range(z: u8, atlas: &Atlas) -> (u32, u32, u32, u32) {
    let b = atlas.territory_bbox().expect("a district");
    let n = f64::from(1u32 << z);
    let x = |lon: f64| ((lon + 180.0) / 360.0 * n).floor() as u32;
    let y = |lat: f64| {
        let r = f64::to_radians(lat);
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor() as u32
    };
    (x(b.min().x), x(b.max().x), y(b.max().y), y(b.min().y))
}

#[test]
fn every_tile_at_zoom_8_to_18_decodes_and_is_under_300_kb() {
    let atlas = atlas();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    for z in 8u8..=18 {
        let (x0, x1, y0, y1) = tile_range(z, atlas);
        let all = u64::from(x1 - x0 + 1) * u64::from(y1 - y0 + 1);
        let tiles: Vec<(u32, u32)> = if all <= 600 {
            (x0..=x1)
                .flat_map(|x| (y0..=y1).map(move |y| (x, y)))
                .collect()
        } else {
            (0..80)
                .map(|_| (rng.random_range(x0..=x1), rng.random_range(y0..=y1)))
                .collect()
        };
        let mut largest = 0;
        for (x, y) in tiles {
            let bytes = atlas.tile(z, x, y).expect("tile");
            largest = largest.max(bytes.len());
            assert!(bytes.len() < 300_000, "{z}/{x}/{y}: {} bytes", bytes.len());
            if !bytes.is_empty() {
                let r = mvt_reader::Reader::new(bytes).expect("valid MVT");
                let names = r.get_layer_names().expect("layers");
                for i in 0..names.len() {
                    r.get_features(i).expect("features decode");
                }
            }
        }
        eprintln!("zoom {z}: largest tile {largest} bytes");
    }
}

/// Every boundary position of the simplified areas of a band, with how many rings pass through
/// it: in an exact coverage, each position on a shared edge is passed by both areas, so an edge
/// simplified differently on its two sides shows up as positions that only one of two block
/// neighbours has.
#[test]
fn neighbouring_blocks_share_every_simplified_vertex() {
    let atlas = atlas();
    let set = atlas.features();
    let g = atlas.tile_geometry();
    assert_eq!(g.bands.len(), BANDS.len());
    let band = g.band(13).expect("zoom 13 is banded");
    assert_eq!(band_of(13).map(|b| BANDS[b]), Some(13));
    // Directed edges of every block ring: an interior edge must appear reversed in a neighbour.
    let mut edges: HashMap<([u32; 2], [u32; 2]), u32> = HashMap::new();
    let mut outer: HashMap<([u32; 2], [u32; 2]), u32> = HashMap::new();
    for (i, f) in set.features().iter().enumerate() {
        let target = match f.layer {
            Layer::Block => &mut edges,
            Layer::District => &mut outer,
            _ => continue,
        };
        for rings in band.polygons(i as u32) {
            for r in rings {
                for k in 0..r.len() {
                    *target.entry((r[k], r[(k + 1) % r.len()])).or_default() += 1;
                }
            }
        }
    }
    let unmatched: Vec<_> = edges
        .keys()
        .filter(|&&(a, b)| !edges.contains_key(&(b, a)) && !outer.contains_key(&(a, b)))
        .take(5)
        .collect();
    assert!(
        unmatched.is_empty(),
        "block edges with no neighbour across them and not on the district's boundary: {unmatched:?} (of {})",
        edges.len()
    );
    // The band has far fewer points than the full geometry.
    let full: usize = set.position_count();
    assert!(band.points() * 4 < full, "{} of {full}", band.points());
}

#[test]
fn the_cache_returns_the_same_bytes_and_a_new_generation_starts_empty() {
    let atlas = atlas();
    let (x0, _, y0, _) = tile_range(14, atlas);
    let (x, y) = (x0 + 1, y0 + 1);
    let first = atlas.tile(14, x, y).expect("tile");
    let before = atlas.tile_cache().stats();
    let again = atlas.tile(14, x, y).expect("tile");
    let after = atlas.tile_cache().stats();
    assert_eq!(first, again);
    assert_eq!(after.hits, before.hits + 1);
    assert_eq!(first, atlas.tile_uncached(14, x, y).expect("tile"));
    assert!(after.tiles >= 1 && after.bytes >= first.len());

    // A publish: the new generation's atlas has a cache of its own, empty, whose tiles are those
    // of its content.
    let next = Atlas::build(dense().clone()).with_generation(2);
    assert_eq!(next.tile_cache().stats().tiles, 0);
    assert_eq!(next.tile(14, x, y).expect("tile"), first);
    assert_eq!(next.tile_cache().stats().misses, 1);
    // A zero budget keeps nothing.
    let none = Atlas::build(dense().clone()).with_tile_cache_bytes(0);
    none.tile(14, x, y).expect("tile");
    assert_eq!(none.tile_cache().stats().tiles, 0);
}
