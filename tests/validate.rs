//! Validation on hand-made fixtures (one per edge case, also committed as GeoJSON under
//! `fixtures/validate/`), injected defects on a lattice district (recall), clean districts (no
//! false positives), `--fix` output, and scoped (incremental) validation.

use geo::MultiPolygon;
use gridatlas::model::{Feature, FeatureSet, Geometry, Layer};
use gridatlas::validate::shapes::*;
use gridatlas::validate::{
    Finding, Options, Report, Rule, Severity, fix, validate, validate_scoped,
};
use std::path::PathBuf;

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/validate")
        .join(format!("{name}.geojson"))
}

/// Validates a fixture built in code, and writes it under fixtures/validate/ when missing or
/// when `UPDATE_FIXTURES` is set.
fn check(name: &str, features: Vec<Feature>) -> Report {
    let set = FeatureSet::new(features, vec![]).expect("unique codes");
    let path = fixture_path(name);
    if std::env::var_os("UPDATE_FIXTURES").is_some() || !path.exists() {
        gridatlas::geo_io::write_path(&set, &path).expect("write fixture");
    }
    validate(&set, &Options::default())
}

fn street(mp: MultiPolygon<f64>) -> Feature {
    area(Layer::Street, "310116101", None, mp)
}

fn rules(r: &Report) -> Vec<(Rule, &'static str, Vec<String>)> {
    r.findings
        .iter()
        .map(|f| (f.rule, f.kind, f.codes.clone()))
        .collect()
}

fn one(r: &Report) -> &Finding {
    assert_eq!(r.findings.len(), 1, "{:#?}", rules(r));
    &r.findings[0]
}

#[test]
fn hole_filled_by_another_grid_is_clean_and_unfilled_hole_is_a_gap() {
    let holed = MultiPolygon(vec![poly(
        &[(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)],
        &[&[(30.0, 30.0), (30.0, 60.0), (60.0, 60.0), (60.0, 30.0)]],
    )]);
    let fill = MultiPolygon(vec![rect(30.0, 30.0, 60.0, 60.0)]);
    let r = check(
        "hole",
        vec![
            street(sq(0.0, 0.0, 100.0)),
            area(Layer::ResidentGrid, "g1", Some("310116101"), holed.clone()),
            area(Layer::ExtendedGrid, "g2", Some("310116101"), fill),
        ],
    );
    assert!(r.findings.is_empty(), "{:#?}", rules(&r));
    let r = validate(
        &FeatureSet::new(
            vec![
                street(sq(0.0, 0.0, 100.0)),
                area(Layer::ResidentGrid, "g1", Some("310116101"), holed),
            ],
            vec![],
        )
        .expect("unique"),
        &Options::default(),
    );
    let f = one(&r);
    assert_eq!((f.rule, f.severity), (Rule::Gap, Severity::Error));
    assert!((f.area_m2.unwrap_or(0.0) - 900.0).abs() < 1.0);
}

#[test]
fn multipolygon_grid_tiles_with_its_neighbour() {
    // g1 is two separate squares; g2 is the L between them.
    let g1 = MultiPolygon(vec![
        rect(0.0, 0.0, 50.0, 50.0),
        rect(50.0, 50.0, 100.0, 100.0),
    ]);
    let g2 = MultiPolygon(vec![
        rect(50.0, 0.0, 100.0, 50.0),
        rect(0.0, 50.0, 50.0, 100.0),
    ]);
    let s = MultiPolygon(vec![poly(
        &[
            (0.0, 0.0),
            (50.0, 0.0),
            (100.0, 0.0),
            (100.0, 50.0),
            (100.0, 100.0),
            (50.0, 100.0),
            (0.0, 100.0),
            (0.0, 50.0),
        ],
        &[],
    )]);
    let r = check(
        "multipolygon",
        vec![
            street(s),
            area(Layer::ResidentGrid, "g1", Some("310116101"), g1),
            area(Layer::StreetGrid, "g2", Some("310116101"), g2),
        ],
    );
    assert!(r.findings.is_empty(), "{:#?}", rules(&r));
}

#[test]
fn gap_exactly_at_a_tripoint() {
    let r = check(
        "tripoint-gap",
        vec![
            street(sq(0.0, 0.0, 100.0)),
            area(
                Layer::ResidentGrid,
                "a",
                Some("310116101"),
                MultiPolygon(vec![poly(
                    &[
                        (0.0, 0.0),
                        (50.0, 0.0),
                        (50.0, 46.0),
                        (46.0, 50.0),
                        (0.0, 50.0),
                    ],
                    &[],
                )]),
            ),
            area(
                Layer::StreetGrid,
                "b",
                Some("310116101"),
                MultiPolygon(vec![poly(
                    &[
                        (50.0, 0.0),
                        (100.0, 0.0),
                        (100.0, 100.0),
                        (50.0, 100.0),
                        (50.0, 50.0),
                        (50.0, 46.0),
                    ],
                    &[],
                )]),
            ),
            area(
                Layer::ExtendedGrid,
                "c",
                Some("310116101"),
                MultiPolygon(vec![poly(
                    &[
                        (0.0, 50.0),
                        (46.0, 50.0),
                        (50.0, 50.0),
                        (50.0, 100.0),
                        (0.0, 100.0),
                    ],
                    &[],
                )]),
            ),
        ],
    );
    let f = one(&r);
    assert_eq!(f.rule, Rule::Gap);
    assert!(
        (f.area_m2.unwrap_or(0.0) - 8.0).abs() < 0.05,
        "{:?}",
        f.area_m2
    );
    assert_eq!(f.fix.as_ref().and_then(|x| x.target.as_deref()), Some("a"));
}

#[test]
fn sliver_between_grids() {
    let r = check(
        "sliver",
        vec![
            street(sq(0.0, 0.0, 100.0)),
            area(
                Layer::ResidentGrid,
                "a",
                Some("310116101"),
                MultiPolygon(vec![rect(0.0, 0.0, 50.0, 100.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "b",
                Some("310116101"),
                MultiPolygon(vec![rect(49.6, 0.0, 100.0, 100.0)]),
            ),
        ],
    );
    let f = one(&r);
    assert_eq!(
        (f.rule, f.kind, f.severity),
        (Rule::Sliver, "overlap", Severity::Error)
    );
    assert_eq!(f.codes, vec!["a", "b"]);
}

#[test]
fn vertex_on_a_neighbours_edge_is_not_a_defect() {
    // b has a vertex at (50, 40) on a's edge x = 50 without a matching vertex in a, and one
    // 3 cm off it at (50.03, 70): both within the 5 cm tolerance.
    let r = check(
        "vertex-on-edge",
        vec![
            street(sq(0.0, 0.0, 100.0)),
            area(
                Layer::ResidentGrid,
                "a",
                Some("310116101"),
                MultiPolygon(vec![rect(0.0, 0.0, 50.0, 100.0)]),
            ),
            area(
                Layer::StreetGrid,
                "b",
                Some("310116101"),
                MultiPolygon(vec![poly(
                    &[
                        (50.0, 0.0),
                        (100.0, 0.0),
                        (100.0, 100.0),
                        (50.0, 100.0),
                        (50.03, 70.0),
                        (50.0, 40.0),
                    ],
                    &[],
                )]),
            ),
        ],
    );
    assert!(r.findings.is_empty(), "{:#?}", rules(&r));
}

#[test]
fn bow_tie_block() {
    let r = check(
        "bow-tie",
        vec![
            street(sq(0.0, 0.0, 100.0)),
            area(
                Layer::ResidentGrid,
                "g",
                Some("310116101"),
                sq(0.0, 0.0, 100.0),
            ),
            area(
                Layer::Block,
                "b",
                Some("g"),
                MultiPolygon(vec![poly(
                    &[(0.0, 0.0), (100.0, 100.0), (100.0, 0.0), (0.0, 100.0)],
                    &[],
                )]),
            ),
        ],
    );
    let si: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == Rule::InvalidGeometry)
        .collect();
    assert_eq!(si.len(), 1, "{:#?}", rules(&r));
    assert_eq!(si[0].kind, "self_intersection");
    assert_eq!(
        si[0].location.as_ref().map(|l| l["type"].clone()),
        Some("Point".into())
    );
}

#[test]
fn block_outside_its_grid() {
    let r = check(
        "block-outside-grid",
        vec![
            street(sq(0.0, 0.0, 100.0)),
            area(
                Layer::ResidentGrid,
                "g1",
                Some("310116101"),
                MultiPolygon(vec![rect(0.0, 0.0, 50.0, 100.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "g2",
                Some("310116101"),
                MultiPolygon(vec![rect(50.0, 0.0, 100.0, 100.0)]),
            ),
            area(
                Layer::Block,
                "b1",
                Some("g1"),
                MultiPolygon(vec![rect(0.0, 0.0, 50.0, 50.0)]),
            ),
            area(
                Layer::Block,
                "b2",
                Some("g1"),
                MultiPolygon(vec![rect(0.0, 50.0, 60.0, 100.0)]),
            ),
        ],
    );
    let c: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == Rule::Containment)
        .collect();
    assert_eq!(c.len(), 1, "{:#?}", rules(&r));
    assert_eq!(c[0].codes, vec!["b2", "g1"]);
    assert!((c[0].area_m2.unwrap_or(0.0) - 500.0).abs() < 1.0);
    // b2 does not overlap b1; g2 has no blocks (not checked for gaps).
    assert_eq!(r.findings.len(), 1, "{:#?}", rules(&r));
}

#[test]
fn overlapping_holes() {
    let r = check(
        "overlapping-holes",
        vec![area(
            Layer::Street,
            "310116101",
            None,
            MultiPolygon(vec![poly(
                &[(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)],
                &[
                    &[(10.0, 10.0), (10.0, 80.0), (80.0, 80.0), (80.0, 10.0)],
                    &[(20.0, 20.0), (20.0, 40.0), (40.0, 40.0), (40.0, 20.0)],
                ],
            )]),
        )],
    );
    let f = one(&r);
    assert_eq!(
        (f.rule, f.kind),
        (Rule::InvalidGeometry, "overlapping_holes")
    );
    assert!((f.area_m2.unwrap_or(0.0) - 400.0).abs() < 1.0);
}

/// A lattice district with defects injected; each must be found with the right rule and codes.
#[test]
fn injected_defects_are_all_found() {
    let mut fs = lattice_district(24, 4, 3, 40.0);
    let idx = |fs: &[Feature], code: &str| fs.iter().position(|f| f.code == code).expect("code");
    let set_area = |fs: &mut Vec<Feature>, code: &str, mp: MultiPolygon<f64>| {
        let i = idx(fs, code);
        fs[i].geometry = Geometry::Area(mp);
    };
    let get =
        |fs: &[Feature], code: &str| fs[idx(fs, code)].geometry.as_area().cloned().expect("area");
    let shift = |mp: &MultiPolygon<f64>, k: usize, dx_m: f64| {
        // Moves vertex k of the shell (and the closing copy) dx metres east.
        let mut mp = mp.clone();
        let d = dx_m / gridatlas::geometry::measure::LocalFrame::new(LON0, LAT0).m_per_deg_lon;
        mp.0[0].exterior_mut(|r| {
            let n = r.0.len();
            r.0[k].x += d;
            if k == 0 {
                r.0[n - 1].x += d;
            }
        });
        mp
    };
    // 1. Overlap between blocks b1_1 and b2_1 (same grid g0_0): b1_1's vertices on its east side
    //    moved 6 m into b2_1. Ring of a cell: (i,j), (i+1,j), (i+1,j+1), (i,j+1).
    let b = get(&fs, "b1_1");
    set_area(&mut fs, "b1_1", shift(&shift(&b, 1, 6.0), 2, 6.0));
    // 2. Gap: block b5_5 (grid g1_1) pulled back 5 m from its east side: a gap in grid g1_1
    //    (warning) — b5_5 is at the grid's inner side, so the neighbour is b6_5 (grid g1_1).
    let b = get(&fs, "b5_5");
    set_area(&mut fs, "b5_5", shift(&shift(&b, 1, -5.0), 2, -5.0));
    // 3. Block outside its grid: b11_9 (grid g2_2, east edge of the grid at i = 12) pushed 7 m
    //    east into grid g3_2.
    let b = get(&fs, "b11_9");
    set_area(&mut fs, "b11_9", shift(&shift(&b, 1, 7.0), 2, 7.0));
    // 4. Self-intersection: b20_20's ring as a bow-tie (swap two vertices).
    let mut b = get(&fs, "b20_20");
    b.0[0].exterior_mut(|r| r.0.swap(1, 2));
    set_area(&mut fs, "b20_20", b);
    // 5. Sliver gap between grids: grid g4_0 (street s1_0) pulled back 0.4 m on its west side,
    //    and its blocks b16_0..b16_3 with it.
    let m_lon = gridatlas::geometry::measure::LocalFrame::new(LON0, LAT0).m_per_deg_lon;
    let minx = get(&fs, "g4_0").0[0]
        .exterior()
        .0
        .iter()
        .map(|c| c.x)
        .fold(f64::INFINITY, f64::min);
    let west = minx + 20.0 / m_lon;
    for code in ["g4_0", "b16_0", "b16_1", "b16_2", "b16_3"] {
        let mut g = get(&fs, code);
        g.0[0].exterior_mut(|r| {
            for c in r.0.iter_mut() {
                if c.x < west {
                    c.x += 0.4 / m_lon;
                }
            }
        });
        set_area(&mut fs, code, g);
    }
    let set = FeatureSet::new(fs, vec![]).expect("unique");
    let r = validate(&set, &Options::default());
    let has = |rule: Rule, kind: &str, codes: &[&str]| {
        r.findings.iter().any(|f| {
            f.rule == rule && f.kind == kind && codes.iter().all(|c| f.codes.iter().any(|x| x == c))
        })
    };
    assert!(
        has(Rule::Overlap, "overlap", &["b1_1", "b2_1"]),
        "{:#?}",
        rules(&r)
    );
    assert!(has(Rule::Gap, "gap", &["g1_1"]), "{:#?}", rules(&r));
    assert!(
        has(Rule::Containment, "outside_parent", &["b11_9", "g2_2"]),
        "{:#?}",
        rules(&r)
    );
    assert!(
        has(Rule::InvalidGeometry, "self_intersection", &["b20_20"]),
        "{:#?}",
        rules(&r)
    );
    assert!(has(Rule::Sliver, "gap", &["s1_0"]), "{:#?}", rules(&r));
    // Nothing else: every finding involves a changed feature or the parent of one.
    let touched = [
        "b1_1", "b5_5", "b11_9", "b20_20", "g4_0", "b16_0", "b16_1", "b16_2", "b16_3", "g0_0",
        "g1_1", "g2_2", "g5_5", "s1_0",
    ];
    for f in &r.findings {
        let ok = f.codes.iter().any(|c| touched.contains(&c.as_str()));
        assert!(
            ok,
            "unexpected finding {:?}",
            (f.rule, f.kind, &f.codes, f.area_m2, &f.location)
        );
    }

    // --fix repairs everything, and the result validates clean.
    let fixed = fix::repair(&set, &r, &Options::default());
    let after = validate(&fixed.set, &Options::default());
    assert!(after.is_clean(), "{:#?}", rules(&after));
    assert!(fixed.changes.len() >= 5);
}

#[test]
fn clean_lattices_have_no_findings() {
    for (side, g, s) in [(8, 2, 2), (24, 4, 3), (40, 5, 4), (72, 4, 6)] {
        let set = FeatureSet::new(lattice_district(side, g, s, 40.0), vec![]).expect("unique");
        let r = validate(&set, &Options::default());
        assert!(r.findings.is_empty(), "side {side}: {:#?}", rules(&r));
    }
}

#[test]
fn hex_grids_with_t_junctions_against_the_street_are_clean() {
    // Hexagon grids; the street outline is their union computed by boolean ops, so its vertices
    // do not bit-match the grids' (snapped by i_overlay): the slow path must still find nothing.
    let hexes = hex_tiling(6, 5, 80.0);
    let street_mp = geo::unary_union(hexes.iter());
    let mut fs = vec![area(Layer::Street, "s", None, street_mp)];
    for (k, h) in hexes.into_iter().enumerate() {
        fs.push(area(Layer::GRIDS[k % 3], &format!("g{k}"), Some("s"), h));
    }
    let r = validate(
        &FeatureSet::new(fs, vec![]).expect("unique"),
        &Options::default(),
    );
    assert!(r.findings.is_empty(), "{:#?}", rules(&r));
}

#[test]
fn scoped_validation_only_reports_the_replaced_street() {
    let mut fs = lattice_district(24, 4, 3, 40.0);
    // Defects in two streets: a bow-tie block in s0_0 and one in s1_1.
    for code in ["b1_1", "b13_13"] {
        let i = fs.iter().position(|f| f.code == code).expect("code");
        if let Geometry::Area(mp) = &mut fs[i].geometry {
            mp.0[0].exterior_mut(|r| r.0.swap(1, 2));
        }
    }
    let set = FeatureSet::new(fs, vec![]).expect("unique");
    let all = validate(&set, &Options::default());
    assert!(
        all.findings
            .iter()
            .any(|f| f.codes.contains(&"b1_1".to_string()))
    );
    assert!(
        all.findings
            .iter()
            .any(|f| f.codes.contains(&"b13_13".to_string()))
    );
    let scoped = validate_scoped(&set, &["s1_1".to_string()], &Options::default());
    assert!(!scoped.findings.is_empty());
    assert!(
        scoped
            .findings
            .iter()
            .all(|f| !f.codes.contains(&"b1_1".to_string())),
        "{:#?}",
        rules(&scoped)
    );
    assert!(scoped.summary.features_checked < set.len() / 2);
}

#[test]
fn geojson_output_is_a_feature_collection_with_the_defects() {
    let fs = vec![
        street(sq(0.0, 0.0, 100.0)),
        area(
            Layer::ResidentGrid,
            "a",
            Some("310116101"),
            MultiPolygon(vec![rect(0.0, 0.0, 60.0, 100.0)]),
        ),
        area(
            Layer::ResidentGrid,
            "b",
            Some("310116101"),
            MultiPolygon(vec![rect(50.0, 0.0, 100.0, 100.0)]),
        ),
    ];
    let r = validate(
        &FeatureSet::new(fs, vec![]).expect("unique"),
        &Options::default(),
    );
    let gj = gridatlas::validate::output::geojson(&r);
    assert_eq!(gj["type"], "FeatureCollection");
    let f = &gj["features"][0];
    assert_eq!(f["geometry"]["type"], "Polygon");
    assert_eq!(f["properties"]["rule"], "overlap");
    assert_eq!(f["properties"]["fix_action"], "subtract_from");
    let json =
        gridatlas::validate::output::render(&r, None, gridatlas::validate::output::Format::Json);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["by_rule"]["overlap"]["error"], 1);
    assert!(
        v["findings"][0]["message"]["zh"]
            .as_str()
            .is_some_and(|s| s.contains("重叠"))
    );
}

#[test]
fn committed_fixtures_read_back_with_the_same_verdict() {
    for (name, clean) in [
        ("hole", true),
        ("multipolygon", true),
        ("vertex-on-edge", true),
        ("tripoint-gap", false),
        ("sliver", false),
        ("bow-tie", false),
        ("block-outside-grid", false),
        ("overlapping-holes", false),
    ] {
        let set = gridatlas::geo_io::read_path(&fixture_path(name)).expect("fixture reads");
        let r = validate(&set, &Options::default());
        assert_eq!(r.is_clean(), clean, "{name}: {:#?}", rules(&r));
        if !clean {
            let fixed = fix::repair(&set, &r, &Options::default());
            let after = validate(&fixed.set, &Options::default());
            assert!(after.is_clean(), "{name} after --fix: {:#?}", rules(&after));
        }
    }
}
