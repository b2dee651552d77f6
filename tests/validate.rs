//! Validation on hand-made fixtures (one per edge case; each is written to a temporary directory,
//! read back and validated, and must equal its committed copy under `fixtures/validate/`), with
//! the exact findings expected of each; injected defects on a lattice district (recall), clean
//! districts (no false positives), `--fix` output, scoped (incremental) validation, and the
//! bound on the report's size.

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

/// Validates a fixture built in code after a round trip through a file in a temporary directory
/// (nothing is written into the source tree). The committed copy, when there is one, must be the
/// same feature set (regenerate it by hand with `gridatlas::geo_io::write_path` when a fixture
/// changes on purpose).
fn check(name: &str, features: Vec<Feature>) -> Report {
    let set = FeatureSet::new(features, vec![]).expect("unique codes");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("{name}.geojson"));
    gridatlas::geo_io::write_path(&set, &path).expect("write fixture");
    let back = gridatlas::geo_io::read_path(&path).expect("fixture reads back");
    assert_eq!(back, set, "{name}: the file round trip changed the fixture");
    let committed = fixture_path(name);
    if committed.exists() {
        let c = gridatlas::geo_io::read_path(&committed).expect("committed fixture reads");
        assert_eq!(c, set, "{name}: fixtures/validate/{name}.geojson is stale");
    }
    validate(&back, &Options::default())
}

/// One expected finding: rule, kind, severity, codes, and the area (m², ±1 %, at least ±0.05 m²)
/// when the finding has one.
type Want<'a> = (Rule, &'a str, Severity, &'a [&'a str], Option<f64>);

/// The report has exactly these findings, in this order.
fn assert_findings(r: &Report, want: &[Want<'_>]) {
    let got: Vec<_> = r
        .findings
        .iter()
        .map(|f| (f.rule, f.kind, f.severity, f.codes.clone(), f.area_m2))
        .collect();
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(want) {
        let codes: Vec<String> = w.3.iter().map(|c| c.to_string()).collect();
        assert_eq!((g.0, g.1, g.2, &g.3), (w.0, w.1, w.2, &codes), "{got:#?}");
        match (g.4, w.4) {
            (Some(a), Some(e)) => assert!(
                (a - e).abs() <= (0.01 * e).max(0.05),
                "{:?} {:?}: area {a} m², expected {e} m²",
                g.0,
                g.3
            ),
            (a, e) => assert_eq!(a.is_some(), e.is_some(), "{got:#?}"),
        }
    }
    let errors = want.iter().filter(|w| w.2 == Severity::Error).count();
    assert_eq!(r.summary.errors, errors);
    assert_eq!(r.summary.warnings, want.len() - errors);
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
    assert_findings(&r, &[]);
    let r = check(
        "hole-unfilled",
        vec![
            street(sq(0.0, 0.0, 100.0)),
            area(Layer::ResidentGrid, "g1", Some("310116101"), holed),
        ],
    );
    assert_findings(
        &r,
        &[(
            Rule::Gap,
            "gap",
            Severity::Error,
            &["310116101", "g1"],
            Some(900.0),
        )],
    );
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
    assert_findings(&r, &[]);
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
    assert_findings(
        &r,
        &[(
            Rule::Gap,
            "gap",
            Severity::Error,
            &["310116101", "a"],
            Some(8.0),
        )],
    );
    let f = &r.findings[0];
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
    // A 0.4 m × 100 m overlap.
    assert_findings(
        &r,
        &[(
            Rule::Sliver,
            "overlap",
            Severity::Error,
            &["a", "b"],
            Some(40.0),
        )],
    );
    assert!((r.findings[0].width_m.unwrap_or(0.0) - 0.398).abs() < 0.005);
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
    assert_findings(&r, &[]);
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
    // b2 does not overlap b1; g2 has no blocks (not checked for gaps, nothing to overlap).
    assert_findings(
        &r,
        &[(
            Rule::Containment,
            "outside_parent",
            Severity::Error,
            &["b2", "g1"],
            Some(500.0),
        )],
    );
}

#[test]
fn block_pushing_into_a_block_of_the_neighbouring_grid() {
    // b2 (grid g1) reaches 10 m east into grid g2, onto block b4.
    let features = vec![
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
        area(
            Layer::Block,
            "b3",
            Some("g2"),
            MultiPolygon(vec![rect(50.0, 0.0, 100.0, 50.0)]),
        ),
        area(
            Layer::Block,
            "b4",
            Some("g2"),
            MultiPolygon(vec![rect(50.0, 50.0, 100.0, 100.0)]),
        ),
    ];
    let r = check("block-into-neighbour-block", features.clone());
    assert_findings(
        &r,
        &[
            (
                Rule::Overlap,
                "overlap",
                Severity::Error,
                &["b2", "b4"],
                Some(500.0),
            ),
            (
                Rule::Containment,
                "outside_parent",
                Severity::Error,
                &["b2", "g1"],
                Some(500.0),
            ),
        ],
    );
    let ov = &r.findings[0];
    assert!(ov.message.en.contains("in g1 and g2"), "{}", ov.message.en);
    // The fix cuts the part from the block that left its grid, not from its neighbour.
    assert_eq!(
        ov.fix.as_ref().and_then(|f| f.target.as_deref()),
        Some("b2")
    );
    assert_eq!(
        ov.location.as_ref().map(|l| l["type"].clone()),
        Some("Polygon".into())
    );
    let set = FeatureSet::new(features, vec![]).expect("unique");
    let fixed = fix::repair(&set, &r, &Options::default());
    assert_findings(&validate(&fixed.set, &Options::default()), &[]);
}

#[test]
fn grid_pushing_into_a_grid_of_the_neighbouring_street() {
    let district = area(
        Layer::District,
        "310116",
        None,
        MultiPolygon(vec![poly(
            &[
                (0.0, 0.0),
                (100.0, 0.0),
                (200.0, 0.0),
                (200.0, 100.0),
                (100.0, 100.0),
                (0.0, 100.0),
            ],
            &[],
        )]),
    );
    let s1 = area(
        Layer::Street,
        "s1",
        None,
        MultiPolygon(vec![poly(
            &[
                (0.0, 0.0),
                (100.0, 0.0),
                (100.0, 50.0),
                (100.0, 100.0),
                (0.0, 100.0),
                (0.0, 50.0),
            ],
            &[],
        )]),
    );
    let s2 = area(
        Layer::Street,
        "s2",
        None,
        MultiPolygon(vec![poly(
            &[
                (100.0, 0.0),
                (200.0, 0.0),
                (200.0, 50.0),
                (200.0, 100.0),
                (100.0, 100.0),
                (100.0, 50.0),
            ],
            &[],
        )]),
    );
    let r = check(
        "grid-into-neighbour-grid",
        vec![
            district,
            s1,
            s2,
            area(
                Layer::ResidentGrid,
                "ga1",
                Some("s1"),
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 50.0)]),
            ),
            area(
                Layer::StreetGrid,
                "ga2",
                Some("s1"),
                MultiPolygon(vec![rect(0.0, 50.0, 110.0, 100.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "gb1",
                Some("s2"),
                MultiPolygon(vec![rect(100.0, 0.0, 200.0, 50.0)]),
            ),
            area(
                Layer::ExtendedGrid,
                "gb2",
                Some("s2"),
                MultiPolygon(vec![rect(100.0, 50.0, 200.0, 100.0)]),
            ),
        ],
    );
    assert_findings(
        &r,
        &[
            (
                Rule::Overlap,
                "overlap",
                Severity::Error,
                &["ga2", "gb2"],
                Some(500.0),
            ),
            (
                Rule::Containment,
                "outside_parent",
                Severity::Error,
                &["ga2", "s1"],
                Some(500.0),
            ),
        ],
    );
    assert_eq!(
        r.findings[0].fix.as_ref().and_then(|f| f.target.as_deref()),
        Some("ga2")
    );
}

#[test]
fn street_outside_the_district_scope_overlapping_a_street() {
    // A file holds one district, so its streets are siblings; through the library a street may
    // name an unknown parent: it is in no scope, yet its overlap with s1 must be reported.
    let r = gridatlas::validate::validate_features(
        &[
            area(Layer::District, "310116", None, sq(0.0, 0.0, 100.0)),
            area(Layer::Street, "s1", Some("310116"), sq(0.0, 0.0, 100.0)),
            area(
                Layer::Street,
                "s2",
                Some("310999"),
                MultiPolygon(vec![rect(97.0, 0.0, 200.0, 100.0)]),
            ),
        ],
        &Options::default(),
    );
    assert_findings(
        &r,
        &[
            (
                Rule::Hierarchy,
                "unknown_parent",
                Severity::Error,
                &["s2", "310999"],
                None,
            ),
            (
                Rule::Overlap,
                "overlap",
                Severity::Error,
                &["s1", "s2"],
                Some(300.0),
            ),
        ],
    );
}

#[test]
fn blocks_overlapping_inside_overlapping_grids_are_reported_too() {
    // g1 and g2 overlap over [50, 60] × [0, 100]; each is tiled by its own block, so the edges
    // of blocks and grids cancel there and only the grids' overlap points to the blocks'.
    let r = check(
        "blocks-in-overlapping-grids",
        vec![
            street(sq(0.0, 0.0, 100.0)),
            area(
                Layer::ResidentGrid,
                "g1",
                Some("310116101"),
                MultiPolygon(vec![rect(0.0, 0.0, 60.0, 100.0)]),
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
                MultiPolygon(vec![rect(0.0, 0.0, 60.0, 100.0)]),
            ),
            area(
                Layer::Block,
                "b2",
                Some("g2"),
                MultiPolygon(vec![rect(50.0, 0.0, 100.0, 100.0)]),
            ),
        ],
    );
    assert_findings(
        &r,
        &[
            (
                Rule::Overlap,
                "overlap",
                Severity::Error,
                &["b1", "b2"],
                Some(1000.0),
            ),
            (
                Rule::Overlap,
                "overlap",
                Severity::Error,
                &["g1", "g2"],
                Some(1000.0),
            ),
        ],
    );
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
    assert_findings(
        &r,
        &[(
            Rule::InvalidGeometry,
            "overlapping_holes",
            Severity::Error,
            &["310116101"],
            Some(400.0),
        )],
    );
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

/// A street whose north side is a zigzag of `teeth` teeth 1 cm wide and 10 m high: every tip and
/// every valley is a spike (the 190 000-vertex polygon).
fn zigzag_street(teeth: usize) -> Feature {
    let d = 0.01;
    let w = teeth as f64 * d;
    let mut shell = vec![(0.0, 0.0), (w, 0.0), (w, 10.0)];
    for k in 0..teeth {
        let x = w - k as f64 * d;
        shell.push((x - d / 2.0, 20.0));
        shell.push((x - d, 10.0));
    }
    area(
        Layer::Street,
        "310116101",
        None,
        MultiPolygon(vec![poly(&shell, &[])]),
    )
}

#[test]
fn a_zigzag_gives_a_bounded_report_that_still_counts_every_spike() {
    let street = zigzag_street(95_000);
    let vertices = street
        .geometry
        .as_area()
        .map_or(0, |a| a.0[0].exterior().0.len() - 1);
    assert_eq!(vertices, 190_003);
    // The true number of problems: every finding of the rule, unbounded.
    let raw = gridatlas::validate::invalid_geometry::check_feature(&street, &Options::default());
    let spikes = raw.iter().filter(|f| f.kind == "spike").count();
    assert!(spikes >= 189_999, "{spikes}");
    let raw_errors = raw.iter().filter(|f| f.severity == Severity::Error).count();
    let raw_size = serde_json::to_vec(&raw).map_or(0, |v| v.len());

    let set = FeatureSet::new(vec![street], vec![]).expect("unique");
    let r = validate(&set, &Options::default());
    // Counts are exact: the summary counts every spike, listed or not.
    assert_eq!(r.summary.errors, raw_errors);
    assert_eq!(r.summary.by_rule["invalid_geometry"]["error"], raw_errors);
    let listed: usize = r
        .findings
        .iter()
        .map(gridatlas::validate::report::represented)
        .sum();
    assert_eq!(listed, r.summary.errors + r.summary.warnings);
    // 100 spikes listed, one finding standing for the rest.
    let listed_spikes: Vec<&Finding> = r.findings.iter().filter(|f| f.kind == "spike").collect();
    assert_eq!(listed_spikes.len(), 101, "{:#?}", rules(&r));
    let rest: Vec<&&Finding> = listed_spikes
        .iter()
        .filter(|f| f.omitted.is_some())
        .collect();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].omitted, Some(spikes - 100));
    assert_eq!(rest[0].codes, vec!["310116101"]);
    assert_eq!(rest[0].location, None);
    assert!(r.findings.len() <= 110, "{}", r.findings.len());
    // The stored form (the report as JSON) is small.
    let stored = serde_json::to_vec(&r).expect("json");
    eprintln!(
        "zigzag: {} raw findings, {} bytes unbounded; {} listed, {} bytes bounded",
        raw.len(),
        raw_size,
        r.findings.len(),
        stored.len()
    );
    assert!(stored.len() < 1_000_000, "{} bytes", stored.len());
    let v: serde_json::Value = serde_json::from_slice(&stored).expect("json");
    let last = v["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["omitted"].is_number()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["rule"], "invalid_geometry");
    assert_eq!(last["severity"], "error");
    assert_eq!(last["omitted"], spikes - 100);
}
