//! `gridatlas synth`: determinism, counts, exact clean coverage, people, road segments, defects.
//!
//! Generation at scale 1 takes about a second in release mode; run with `cargo test --release`.

use geo::{Coord, LineString, MultiPolygon};
use gridatlas::geometry::measure::area_m2;
use gridatlas::geometry::pip::contains;
use gridatlas::model::{Feature, FeatureSet, Kind, Layer, Role};
use gridatlas::synth::{DefectKind, SynthOptions, Truth, synth};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

fn clean() -> &'static (FeatureSet, Truth) {
    static SET: OnceLock<(FeatureSet, Truth)> = OnceLock::new();
    SET.get_or_init(|| synth(&SynthOptions::default()))
}

fn dirty() -> &'static (FeatureSet, Truth) {
    static SET: OnceLock<(FeatureSet, Truth)> = OnceLock::new();
    SET.get_or_init(|| {
        synth(&SynthOptions {
            seed: 1,
            scale: 1.0,
            dirty: 3,
        })
    })
}

fn bytes(set: &FeatureSet) -> Vec<u8> {
    let mut out = Vec::new();
    gridatlas::geo_io::write::write(set, &mut out).expect("write to memory");
    out
}

fn area(f: &Feature) -> &MultiPolygon<f64> {
    f.geometry.as_area().expect("an area")
}

fn children<'a>(set: &'a FeatureSet, parent: &str, layers: &[Layer]) -> Vec<&'a Feature> {
    set.features()
        .iter()
        .filter(|f| layers.contains(&f.layer) && f.parent.as_deref() == Some(parent))
        .collect()
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_does_not() {
    let a = bytes(&clean().0);
    let b = bytes(&synth(&SynthOptions::default()).0);
    assert!(a == b, "two runs with seed 1 differ");
    let c = bytes(
        &synth(&SynthOptions {
            seed: 2,
            ..SynthOptions::default()
        })
        .0,
    );
    assert!(a != c);
}

#[test]
fn real_divisions_are_all_there() {
    let (set, truth) = clean();
    assert!(truth.defects.is_empty());
    let table: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/jinshan-divisions.json")).expect("fixture");
    let d = set.district().expect("district");
    assert_eq!((d.code.as_str(), d.name.as_str()), ("310116", "金山区"));
    let streets = table["streets"].as_array().expect("streets");
    assert_eq!(set.layer(Layer::Street).count(), 11);
    let mut committees = 0;
    for s in streets {
        let code = s["code"].as_str().expect("code");
        let f = set.get(code).expect("street present");
        assert_eq!(f.layer, Layer::Street);
        assert_eq!(Some(f.name.as_str()), s["name"].as_str());
        assert_eq!(f.kind.map(|k| k.as_str()), s["kind"].as_str());
        assert_eq!(f.parent.as_deref(), Some("310116"));
        for c in s["committees"].as_array().expect("committees") {
            let g = set
                .get(c["code"].as_str().expect("code"))
                .expect("resident grid present");
            assert_eq!(g.layer, Layer::ResidentGrid);
            assert_eq!(g.parent.as_deref(), Some(code));
            assert_eq!(g.kind.map(|k| k.as_str()), c["kind"].as_str());
            committees += 1;
        }
    }
    assert_eq!(committees, 244);
    assert_eq!(set.layer(Layer::ResidentGrid).count(), 244);
    // Street grids carry a police station; extended grids use the glossary's kinds, most in the zone.
    for f in set.layer(Layer::StreetGrid) {
        let ps = f
            .attributes
            .get("police_station")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        assert!(ps.ends_with("派出所"), "{}", f.code);
        assert!(
            f.code.len() == 12 && f.code.as_bytes()[9] == b'S',
            "{}",
            f.code
        );
    }
    let ext: Vec<&Feature> = set.layer(Layer::ExtendedGrid).collect();
    let in_zone = ext
        .iter()
        .filter(|f| f.parent.as_deref() == Some("310116503"))
        .count();
    assert!(in_zone * 11 > ext.len() * 2, "{in_zone} of {}", ext.len());
    for k in [
        Kind::Factory,
        Kind::Campus,
        Kind::IndustrialPark,
        Kind::BusinessDistrict,
        Kind::Institution,
        Kind::PublicArea,
    ] {
        assert!(ext.iter().any(|f| f.kind == Some(k)), "{k}");
    }
    // 城管 units serve 3–6 neighbouring grids of one street (a few more where leftovers joined).
    let city: Vec<_> = set
        .management_units
        .iter()
        .filter(|u| u.kind == gridatlas::model::ManagementUnitKind::CityManagement)
        .collect();
    assert!(city.len() > 40);
    let typical = city
        .iter()
        .filter(|u| (3..=6).contains(&u.grids.len()))
        .count();
    assert!(
        typical * 10 >= city.len() * 8,
        "{typical} of {} units have 3–6 grids",
        city.len()
    );
    for u in &city {
        let streets: std::collections::BTreeSet<_> = u
            .grids
            .iter()
            .map(|g| set.get(g).and_then(|f| f.parent.clone()))
            .collect();
        assert_eq!(streets.len(), 1, "{} spans streets", u.code);
    }
    assert!(
        set.management_units
            .iter()
            .any(|u| u.kind == gridatlas::model::ManagementUnitKind::MarketSupervision)
    );
}

#[test]
fn blocks_are_sized_like_compounds() {
    let (set, _) = clean();
    let blocks: Vec<&Feature> = set.layer(Layer::Block).collect();
    assert!(
        (4000..=6000).contains(&blocks.len()),
        "{} blocks",
        blocks.len()
    );
    let mut per_grid: BTreeMap<&str, usize> = BTreeMap::new();
    for b in &blocks {
        *per_grid
            .entry(b.parent.as_deref().expect("parent"))
            .or_default() += 1;
        let head = b.person(Role::BlockHead).expect("block head");
        assert!(!head.name.is_empty());
        assert_eq!(head.phone.as_deref().map(str::len), Some(11));
        assert_eq!(
            head.photo_url.as_deref(),
            Some(format!("/avatars/{}.svg", b.code).as_str())
        );
    }
    let rg: Vec<&Feature> = set.layer(Layer::ResidentGrid).collect();
    let ok = rg
        .iter()
        .filter(|g| (8..=20).contains(per_grid.get(g.code.as_str()).unwrap_or(&0)))
        .count();
    assert!(
        ok * 10 >= rg.len() * 9,
        "{ok} of {} resident grids have 8–20 blocks",
        rg.len()
    );
    for g in &rg {
        assert!(g.person(Role::StationHead).is_some());
        let deputies = g
            .people
            .iter()
            .filter(|p| p.role == Role::DeputyHead)
            .count();
        assert!((1..=3).contains(&deputies));
        assert!(g.person(Role::EnforcementOfficer).is_some());
    }
}

type Key = ([u64; 2], [u64; 2]);

fn edge_key(a: Coord<f64>, b: Coord<f64>) -> Key {
    let ka = [a.x.to_bits(), a.y.to_bits()];
    let kb = [b.x.to_bits(), b.y.to_bits()];
    if ka <= kb { (ka, kb) } else { (kb, ka) }
}

fn toggle_edges(mp: &MultiPolygon<f64>, acc: &mut HashMap<Key, u32>) {
    let mut ring = |ls: &LineString<f64>| {
        for w in ls.0.windows(2) {
            *acc.entry(edge_key(w[0], w[1])).or_default() += 1;
        }
    };
    for p in &mp.0 {
        ring(p.exterior());
        p.interiors().iter().for_each(&mut ring);
    }
}

fn check_tiling(set: &FeatureSet, parent: &Feature, layers: &[Layer]) {
    let kids = children(set, &parent.code, layers);
    assert!(!kids.is_empty(), "{} has no children", parent.code);
    let mut acc = HashMap::new();
    toggle_edges(area(parent), &mut acc);
    let mut sum = 0.0;
    for k in &kids {
        toggle_edges(area(k), &mut acc);
        sum += area_m2(area(k));
    }
    let odd = acc.values().filter(|&&n| n % 2 == 1).count();
    assert_eq!(odd, 0, "{}: {odd} edges not cancelled", parent.code);
    let total = area_m2(area(parent));
    assert!(
        (sum - total).abs() <= 1e-6 * total,
        "{}: children {sum} m², parent {total} m²",
        parent.code
    );
}

#[test]
fn coverage_is_clean_and_exact() {
    let (set, _) = clean();
    let d = set.district().expect("district");
    check_tiling(set, d, &[Layer::Street]);
    for s in set.layer(Layer::Street) {
        check_tiling(set, s, &Layer::GRIDS);
    }
    for g in set.features().iter().filter(|f| f.layer.is_grid()) {
        check_tiling(set, g, &[Layer::Block]);
    }
    let a = area_m2(area(d)) / 1e6;
    assert!((450.0..750.0).contains(&a), "district area {a} km²");
}

fn segments_cross(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let o = |p: Coord<f64>, q: Coord<f64>, r: Coord<f64>| {
        robust::orient2d(
            robust::Coord { x: p.x, y: p.y },
            robust::Coord { x: q.x, y: q.y },
            robust::Coord { x: r.x, y: r.y },
        )
    };
    let (d1, d2, d3, d4) = (o(a, b, c), o(a, b, d), o(c, d, a), o(c, d, b));
    if d1 * d2 < 0.0 && d3 * d4 < 0.0 {
        return true;
    }
    let on = |p: Coord<f64>, q: Coord<f64>, r: Coord<f64>| {
        o(p, q, r) == 0.0
            && r.x >= p.x.min(q.x)
            && r.x <= p.x.max(q.x)
            && r.y >= p.y.min(q.y)
            && r.y <= p.y.max(q.y)
    };
    on(a, b, c) || on(a, b, d) || on(c, d, a) || on(c, d, b)
}

fn ring_is_simple(ls: &LineString<f64>) -> bool {
    let p = &ls.0;
    let n = p.len() - 1;
    for i in 0..n {
        for j in i + 1..n {
            let adjacent = j == i + 1 || (i == 0 && j == n - 1);
            if adjacent {
                continue;
            }
            if segments_cross(p[i], p[i + 1], p[j], p[j + 1]) {
                return false;
            }
        }
    }
    true
}

#[test]
fn rings_are_simple_and_polygons_are_detailed() {
    let (set, _) = clean();
    let mut small = 0;
    let mut blocks = 0;
    for f in set.features().iter().filter(|f| f.layer.is_area()) {
        let n = f.geometry.position_count();
        assert!(n <= 3000, "{} has {n} positions", f.code);
        if f.layer == Layer::Block {
            blocks += 1;
            if n < 10 {
                small += 1;
            }
        } else if f.layer != Layer::District {
            assert!(n >= 8, "{} has {n} positions", f.code);
        }
        if f.layer == Layer::Block || f.layer.is_grid() {
            for p in &area(f).0 {
                assert!(
                    ring_is_simple(p.exterior()),
                    "{} exterior not simple",
                    f.code
                );
                for h in p.interiors() {
                    assert!(ring_is_simple(h), "{} hole not simple", f.code);
                }
            }
        }
    }
    assert!(
        small * 10 < blocks,
        "{small} of {blocks} blocks have < 10 positions"
    );
}

#[test]
fn every_area_is_valid_by_geo() {
    use geo::Validation;
    let (set, _) = clean();
    for f in set.features().iter().filter(|f| f.layer.is_area()) {
        assert!(
            area(f).is_valid(),
            "{} is not valid: {:?}",
            f.code,
            area(f).check_validation()
        );
    }
    let (dirty_set, truth) = dirty();
    for d in truth
        .defects
        .iter()
        .filter(|d| d.kind == DefectKind::SelfIntersection)
    {
        let b = dirty_set.get(&d.codes[0]).expect("block");
        assert!(!area(b).is_valid(), "{} should be invalid", b.code);
    }
}

#[test]
fn committed_fixtures_match_the_generator() {
    // Regenerate with:
    //   cargo run --release -- synth --seed 1 --out fixtures/demo-district.geojson
    //   cargo run --release -- synth --seed 1 --dirty 3 \
    //     --truth fixtures/demo-dirty.truth.json --out fixtures/demo-dirty.geojson
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let read =
        |name: &str| std::fs::read(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        read("demo-district.geojson") == bytes(&clean().0),
        "fixtures/demo-district.geojson is stale"
    );
    assert!(
        read("demo-dirty.geojson") == bytes(&dirty().0),
        "fixtures/demo-dirty.geojson is stale"
    );
    let truth: Truth = serde_json::from_slice(&read("demo-dirty.truth.json")).expect("truth json");
    // serde_json's default float parsing may be one ulp off: compare points with a tolerance.
    assert_eq!(truth.defects.len(), dirty().1.defects.len());
    for (a, b) in truth.defects.iter().zip(&dirty().1.defects) {
        assert_eq!((a.kind, &a.codes), (b.kind, &b.codes));
        assert!((a.point[0] - b.point[0]).abs() < 1e-12 && (a.point[1] - b.point[1]).abs() < 1e-12);
    }
}

#[test]
fn road_segments_lie_in_their_blocks() {
    let (set, _) = clean();
    let segs: Vec<&Feature> = set.layer(Layer::RoadSegment).collect();
    assert!(segs.len() > 100, "{} road segments", segs.len());
    for s in segs {
        let parent = set.parent_of(s).expect("parent block");
        assert_eq!(parent.layer, Layer::Block);
        let grid = set.parent_of(parent).expect("grid");
        assert_eq!(grid.layer, Layer::StreetGrid);
        let line = s.geometry.as_line().expect("line");
        for ls in &line.0 {
            assert!(ls.0.len() >= 2);
            for c in &ls.0 {
                assert!(
                    contains(area(parent), c.x, c.y),
                    "{} vertex outside {}",
                    s.code,
                    parent.code
                );
            }
            // No edge of the segment crosses the block boundary.
            for w in ls.0.windows(2) {
                for p in &area(parent).0 {
                    for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                        for e in r.0.windows(2) {
                            assert!(
                                !segments_cross(w[0], w[1], e[0], e[1]),
                                "{} crosses its block boundary",
                                s.code
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn dirty_truth_lists_each_defect_with_a_point_inside_it() {
    let (set, truth) = dirty();
    let get = |c: &str| set.get(c).unwrap_or_else(|| panic!("no feature {c}"));
    let inside = |c: &str, p: [f64; 2]| contains(area(get(c)), p[0], p[1]);
    for kind in [
        DefectKind::Gap,
        DefectKind::Overlap,
        DefectKind::Sliver,
        DefectKind::BlockOutsideGrid,
        DefectKind::SelfIntersection,
    ] {
        assert_eq!(
            truth.defects.iter().filter(|d| d.kind == kind).count(),
            3,
            "{kind:?}"
        );
    }
    for d in &truth.defects {
        let p = d.point;
        let c = &d.codes;
        match d.kind {
            DefectKind::Gap if c.len() == 3 => {
                assert!(inside(&c[0], p), "gap point not in street {}", c[0]);
                for g in children(set, &c[0], &Layer::GRIDS) {
                    assert!(
                        !contains(area(g), p[0], p[1]),
                        "gap point inside grid {}",
                        g.code
                    );
                }
            }
            DefectKind::Gap => {
                assert!(inside(&c[0], p));
                for b in children(set, &c[0], &[Layer::Block]) {
                    assert!(
                        !contains(area(b), p[0], p[1]),
                        "gap point inside block {}",
                        b.code
                    );
                }
            }
            DefectKind::Overlap => assert!(inside(&c[0], p) && inside(&c[1], p), "{c:?}"),
            DefectKind::Sliver => {
                let gap = inside(&c[0], p) && !inside(&c[1], p) && !inside(&c[2], p);
                let overlap = inside(&c[1], p) && inside(&c[2], p);
                assert!(gap || overlap, "{c:?}");
            }
            DefectKind::BlockOutsideGrid => {
                assert!(inside(&c[0], p) && !inside(&c[1], p), "{c:?}");
                assert_eq!(get(&c[0]).parent.as_deref(), Some(c[1].as_str()));
            }
            DefectKind::SelfIntersection => {
                let b = get(&c[0]);
                let simple = area(b).0.iter().all(|q| {
                    ring_is_simple(q.exterior()) && q.interiors().iter().all(ring_is_simple)
                });
                assert!(!simple, "{} should self-intersect", b.code);
                // The point lies in the small loop of the bow-tie: edges i and i+2 of a ring
                // cross at X, and the point is inside the triangle X, v[i+1], v[i+2].
                let rings = area(b)
                    .0
                    .iter()
                    .flat_map(|q| std::iter::once(q.exterior()).chain(q.interiors()))
                    .collect::<Vec<_>>();
                let in_loop = rings.iter().any(|r| {
                    let v = &r.0;
                    (0..v.len().saturating_sub(3)).any(|i| {
                        let (p0, a, bb, n) = (v[i], v[i + 1], v[i + 2], v[i + 3]);
                        if !segments_cross(p0, a, bb, n) {
                            return false;
                        }
                        let den = (a.x - p0.x) * (n.y - bb.y) - (a.y - p0.y) * (n.x - bb.x);
                        if den == 0.0 {
                            return false;
                        }
                        let t = ((bb.x - p0.x) * (n.y - bb.y) - (bb.y - p0.y) * (n.x - bb.x)) / den;
                        let x = Coord {
                            x: p0.x + t * (a.x - p0.x),
                            y: p0.y + t * (a.y - p0.y),
                        };
                        let q = Coord { x: p[0], y: p[1] };
                        let o = |u: Coord<f64>, w: Coord<f64>, z: Coord<f64>| {
                            (w.x - u.x) * (z.y - u.y) - (w.y - u.y) * (z.x - u.x)
                        };
                        let s = o(x, a, bb);
                        s != 0.0
                            && o(x, a, q) * s > 0.0
                            && o(a, bb, q) * s > 0.0
                            && o(bb, x, q) * s > 0.0
                    })
                });
                assert!(in_loop, "bow-tie point not in the loop of {}", b.code);
            }
        }
    }
    // Defects are apart from each other.
    for (i, a) in truth.defects.iter().enumerate() {
        for b in &truth.defects[i + 1..] {
            let dist =
                ((a.point[0] - b.point[0]) * 95_000.0).hypot((a.point[1] - b.point[1]) * 111_000.0);
            assert!(dist > 100.0, "{a:?} and {b:?} are {dist} m apart");
        }
    }
}

#[test]
#[ignore = "slow: a whole-city district (run with --release --ignored)"]
fn scale_20_is_a_city() {
    let t = std::time::Instant::now();
    let (set, _) = synth(&SynthOptions {
        seed: 1,
        scale: 20.0,
        dirty: 0,
    });
    let secs = t.elapsed().as_secs_f64();
    let blocks = set.layer(Layer::Block).count();
    let streets = set.layer(Layer::Street).count();
    assert_eq!(streets, 220);
    assert!((80_000..=125_000).contains(&blocks), "{blocks} blocks");
    assert!(set.get("310116101").is_some());
    for s in set.layer(Layer::Street) {
        let n: u32 = s.code[6..].parse().expect("digits");
        let want = match n {
            1..=99 => Kind::Subdistrict,
            100..=199 => Kind::Town,
            _ => Kind::Zone,
        };
        assert_eq!(s.kind, Some(want), "{}", s.code);
    }
    eprintln!(
        "scale 20: {secs:.1} s, {blocks} blocks, {} features, {} positions",
        set.len(),
        set.position_count()
    );
}

#[test]
fn another_seed_with_generated_streets_tiles_exactly_too() {
    use geo::Validation;
    let (set, _) = synth(&SynthOptions {
        seed: 5,
        scale: 1.6,
        dirty: 0,
    });
    let streets: Vec<&Feature> = set.layer(Layer::Street).collect();
    assert_eq!(streets.len(), 11 + 7);
    for s in &streets {
        assert_eq!(s.code.len(), 9);
        assert!(s.code.starts_with("310116"));
        let n: u32 = s.code[6..].parse().expect("digits");
        let kind = match n {
            1..=99 => Kind::Subdistrict,
            100..=199 => Kind::Town,
            400..=599 => Kind::Zone,
            _ => panic!("{} out of range", s.code),
        };
        assert_eq!(s.kind, Some(kind), "{}", s.code);
    }
    for g in set.layer(Layer::ResidentGrid) {
        let parent = g.parent.as_deref().expect("parent");
        assert!(
            g.code.len() == 12 && g.code.starts_with(parent),
            "{}",
            g.code
        );
        let n: u32 = g.code[9..].parse().expect("digits");
        let kind = if (1..=199).contains(&n) {
            Kind::Residents
        } else {
            Kind::Villagers
        };
        assert!(n <= 399);
        assert_eq!(g.kind, Some(kind), "{}", g.code);
    }
    check_tiling(&set, set.district().expect("district"), &[Layer::Street]);
    for s in &streets {
        check_tiling(&set, s, &Layer::GRIDS);
    }
    for g in set.features().iter().filter(|f| f.layer.is_grid()) {
        check_tiling(&set, g, &[Layer::Block]);
    }
    for f in set.features().iter().filter(|f| f.layer.is_area()) {
        assert!(area(f).is_valid(), "{}", f.code);
    }
}
