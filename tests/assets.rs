//! The registers on a small atlas: shop binding and blocks, the component and shop indexes, the
//! points record's window, and the register rules with their fixtures
//! (`tests/data/assets/`).

mod support;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon};
use gridatlas::assets::binding::{anchor, bind, block_of};
use gridatlas::assets::classes::ClassTable;
use gridatlas::assets::index::{ComponentIndex, ShopIndex};
use gridatlas::assets::io::{read_components_csv, read_shops_geojson};
use gridatlas::assets::record::{Level, standing};
use gridatlas::assets::rules::{AssetRules, check};
use gridatlas::assets::{
    BindingSource, Component, ComponentState, PointsEntry, PointsReason, PointsRule, Shop,
    ShopGeometry,
};
use gridatlas::atlas::Atlas;
use gridatlas::field::distance_m;
use gridatlas::geometry::crs::Crs;
use gridatlas::geometry::measure::LocalFrame;
use gridatlas::model::{FeatureSet, Geometry, Layer};
use gridatlas::validate::{Finding, Rule, Severity};
use proptest::prelude::*;
use std::sync::OnceLock;
use support::feature;

/// Between the two horizontal roads, exactly (binary fractions: the distances are equal).
const MID_LAT: f64 = 30.75 + 1.0 / 256.0;
const HALF_GAP: f64 = 1.0 / 8192.0;
/// The vertical road R-C.
const RC_LON: f64 = 121.009;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    let c = |x, y| Coord { x, y };
    MultiPolygon(vec![Polygon::new(
        LineString(vec![c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1), c(x0, y0)]),
        vec![],
    )])
}

fn line(points: &[(f64, f64)]) -> Geometry {
    Geometry::Line(MultiLineString(vec![LineString(
        points.iter().map(|&(x, y)| Coord { x, y }).collect(),
    )]))
}

/// District 310116 = street 310116101 = one grid = one block: [121.0, 121.01] × [30.75, 30.76].
/// Roads: R-B north and R-A south of `MID_LAT` (R-B first in the file), R-C along `RC_LON`.
fn atlas() -> &'static Atlas {
    static ATLAS: OnceLock<Atlas> = OnceLock::new();
    ATLAS.get_or_init(|| {
        let area = rect(121.0, 30.75, 121.01, 30.76);
        let fs = vec![
            feature(
                Layer::District,
                "310116",
                None,
                Geometry::Area(area.clone()),
            ),
            feature(
                Layer::Street,
                "310116101",
                Some("310116"),
                Geometry::Area(area.clone()),
            ),
            feature(
                Layer::ResidentGrid,
                "310116101001",
                Some("310116101"),
                Geometry::Area(area.clone()),
            ),
            feature(
                Layer::Block,
                "310116101001B01",
                Some("310116101001"),
                Geometry::Area(area),
            ),
            feature(
                Layer::RoadSegment,
                "R-B",
                Some("310116101001"),
                line(&[(121.002, MID_LAT + HALF_GAP), (121.008, MID_LAT + HALF_GAP)]),
            ),
            feature(
                Layer::RoadSegment,
                "R-A",
                Some("310116101001"),
                line(&[(121.002, MID_LAT - HALF_GAP), (121.008, MID_LAT - HALF_GAP)]),
            ),
            feature(
                Layer::RoadSegment,
                "R-C",
                Some("310116101001"),
                line(&[(RC_LON, 30.751), (RC_LON, 30.759)]),
            ),
        ];
        Atlas::build(FeatureSet::new(fs, vec![]).expect("unique codes"))
    })
}

/// The point `dx_m` east and `dy_m` north of `(lon, lat)`.
fn offset(lon: f64, lat: f64, dx_m: f64, dy_m: f64) -> (f64, f64) {
    let c = LocalFrame::new(lon, lat).to_lonlat(Coord { x: dx_m, y: dy_m });
    (c.x, c.y)
}

fn square_m(lon: f64, lat: f64, side_m: f64) -> ShopGeometry {
    let f = LocalFrame::new(lon, lat);
    let c = |x, y| f.to_lonlat(Coord { x, y });
    ShopGeometry::Polygon(Polygon::new(
        LineString(vec![
            c(0.0, 0.0),
            c(side_m, 0.0),
            c(side_m, side_m),
            c(0.0, side_m),
            c(0.0, 0.0),
        ]),
        vec![],
    ))
}

// ---------------------------------------------------------------------------------------------
// Binding.

#[test]
fn a_shop_exactly_between_two_segments_binds_to_the_smaller_code() {
    let a = atlas();
    let shop = ShopGeometry::Point(121.005, MID_LAT);
    let hits = a.roads_near(121.005, MID_LAT, 30.0);
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].distance_m, hits[1].distance_m, "an exact tie");
    // The atlas lists R-B first (file order); the binding takes R-A (smaller code).
    assert_eq!(a.feature(hits[0].feature).code, "R-B");
    let f = bind(a, &shop, 30.0).unwrap();
    assert_eq!(
        (f.segment.as_str(), f.source),
        ("R-A", BindingSource::Nearest)
    );
    assert!((f.distance_m - hits[0].distance_m).abs() < 1e-9);
    // A millimetre nearer to R-B: R-B.
    let (lon, lat) = offset(121.005, MID_LAT, 0.0, 0.002);
    assert_eq!(
        bind(a, &ShopGeometry::Point(lon, lat), 30.0)
            .unwrap()
            .segment,
        "R-B"
    );
}

#[test]
fn the_binding_distance_is_a_limit_to_the_centimetre() {
    let a = atlas();
    for (d, bound) in [(29.9, true), (30.1, false)] {
        let (lon, lat) = offset(RC_LON, 30.758, -d, 0.0);
        let f = bind(a, &ShopGeometry::Point(lon, lat), 30.0);
        assert_eq!(f.is_some(), bound, "{d} m");
        if let Some(f) = f {
            assert_eq!(f.segment, "R-C");
            assert!((f.distance_m - d).abs() < 0.005, "{}", f.distance_m);
        }
        // A larger binding distance reaches it.
        assert!(bind(a, &ShopGeometry::Point(lon, lat), 31.0).is_some());
    }
}

#[test]
fn a_footprint_binds_by_its_distance_to_the_segment() {
    let a = atlas();
    // A 10 m square whose south edge is 5 m north of R-B.
    let (lon, lat) = offset(121.005, MID_LAT + HALF_GAP, 0.0, 5.0);
    let shop = square_m(lon, lat, 10.0);
    let f = bind(a, &shop, 30.0).unwrap();
    assert_eq!(f.segment, "R-B");
    assert!((f.distance_m - 5.0).abs() < 0.01, "{}", f.distance_m);
    // Its anchor lies inside it.
    let (x, y) = anchor(&shop);
    let ShopGeometry::Polygon(p) = &shop else {
        unreachable!()
    };
    assert!(geo::Contains::contains(p, &geo::Point::new(x, y)));
    // Straddling R-A: distance 0.
    let (lon, lat) = offset(121.005, MID_LAT - HALF_GAP, 0.0, -3.0);
    let f = bind(a, &square_m(lon, lat, 6.0), 30.0).unwrap();
    assert_eq!((f.segment.as_str(), f.distance_m), ("R-A", 0.0));
    // Far from every road.
    let (lon, lat) = offset(121.001, 30.759, 0.0, 0.0);
    assert!(bind(a, &square_m(lon, lat, 10.0), 30.0).is_none());
}

#[test]
fn a_shop_is_in_the_block_of_its_anchor() {
    let a = atlas();
    let block = block_of(a, &ShopGeometry::Point(121.005, 30.755)).unwrap();
    assert_eq!(a.feature(block).code, "310116101001B01");
    let (lon, lat) = offset(121.005, 30.755, 0.0, 0.0);
    assert_eq!(block_of(a, &square_m(lon, lat, 8.0)), Some(block));
    assert_eq!(block_of(a, &ShopGeometry::Point(120.99, 30.755)), None);
}

// ---------------------------------------------------------------------------------------------
// Indexes.

fn component(code: &str, lon: f64, lat: f64) -> Component {
    Component {
        code: code.into(),
        lon,
        lat,
        owner: "金山区水务局".into(),
        maintainer: None,
        state: ComponentState::Intact,
        survey_date: None,
        attributes: Default::default(),
    }
}

fn random_components(n: usize, seed: u64) -> Vec<Component> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let class = ["0101", "0102", "0118", "0304"][rng.random_range(0..4)];
            component(
                &format!("310116{class}{:06}", i % (n / 2).max(1)),
                121.0 + rng.random_range(0.0..0.01),
                30.75 + rng.random_range(0.0..0.01),
            )
        })
        .collect()
}

#[test]
fn components_within_a_radius_match_brute_force() {
    let cs = random_components(4000, 7);
    let index = ComponentIndex::new(&cs);
    assert_eq!(index.len(), 4000);
    for (k, q) in cs.iter().step_by(97).enumerate() {
        let (lon, lat) = (q.lon + 0.00001 * k as f64, q.lat);
        for radius in [0.0, 10.0, 35.0, 120.0] {
            let mut expected: Vec<(usize, f64)> = cs
                .iter()
                .enumerate()
                .map(|(i, c)| (i, distance_m((lon, lat), (c.lon, c.lat))))
                .filter(|&(_, d)| d <= radius)
                .collect();
            expected.sort_by(|a, b| {
                a.1.total_cmp(&b.1)
                    .then(cs[a.0].code.cmp(&cs[b.0].code))
                    .then(a.0.cmp(&b.0))
            });
            assert_eq!(
                index.within(lon, lat, radius),
                expected,
                "{lon} {lat} {radius}"
            );
            let nearest = expected
                .iter()
                .find(|(i, _)| cs[*i].code[6..10] == *"0118")
                .copied();
            assert_eq!(index.nearest_of(lon, lat, "01", "18", radius), nearest);
        }
    }
    assert!(index.within(f64::NAN, 30.75, 10.0).is_empty());
    assert!(index.within(121.0, 30.75, -1.0).is_empty());
}

#[test]
fn components_by_code_take_the_first_of_a_repeated_code() {
    let cs = vec![
        component("3101160101000002", 121.0, 30.75),
        component("3101160101000001", 121.0, 30.75),
        component("3101160101000002", 121.001, 30.75),
        component("bad", f64::NAN, 30.75),
    ];
    let index = ComponentIndex::new(&cs);
    assert_eq!(index.by_code("3101160101000002"), Some(0));
    assert_eq!(index.by_code("3101160101000001"), Some(1));
    assert_eq!(index.by_code("bad"), Some(3));
    assert_eq!(index.by_code("3101160101000003"), None);
    // At one point: by code, then by position.
    let at: Vec<usize> = index
        .within(121.0, 30.75, 1.0)
        .iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(at, [1, 0]);
}

fn shop(id: &str, geometry: ShopGeometry) -> Shop {
    Shop {
        id: id.into(),
        name: format!("店{id}"),
        credit_code: None,
        contact: None,
        phone: None,
        pledge_signed: None,
        geometry,
        frontage: None,
        attributes: Default::default(),
    }
}

#[test]
fn shops_at_a_point_by_footprint_or_door() {
    let (lon, lat) = (121.005, 30.755);
    let (x5, y5) = offset(lon, lat, 5.0, 0.0);
    let (x20, y20) = offset(lon, lat, 20.0, 0.0);
    let (sx, sy) = offset(lon, lat, -4.0, -4.0);
    let (fx, fy) = offset(lon, lat, 3.0, 0.0);
    let shops = vec![
        shop("B", ShopGeometry::Point(x5, y5)),
        shop("C", ShopGeometry::Point(x20, y20)),
        shop("A", square_m(sx, sy, 8.0)),
        shop("D", square_m(fx, fy, 8.0)),
    ];
    let index = ShopIndex::new(&shops);
    let hits = index.at(lon, lat, 10.0);
    let ids: Vec<&str> = hits.iter().map(|h| shops[h.0].id.as_str()).collect();
    assert_eq!(ids, ["A", "D", "B"], "{hits:?}");
    assert_eq!(hits[0].1, 0.0);
    assert!((hits[1].1 - 3.0).abs() < 0.01 && (hits[2].1 - 5.0).abs() < 0.01);
    assert_eq!(index.at(lon, lat, 0.0).len(), 1);
    assert_eq!(index.at(lon, lat, 25.0).len(), 4);
}

// ---------------------------------------------------------------------------------------------
// The points record.

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0).unwrap()
}

fn entry(at: DateTime<Utc>, points: u32) -> PointsEntry {
    PointsEntry {
        shop: "MD-001".into(),
        at,
        points,
        reason: PointsReason::Case {
            case: 1,
            category: "跨门营业".into(),
        },
    }
}

#[test]
fn twelve_points_in_a_year_escalate() {
    let rule = PointsRule::default();
    let year = TimeDelta::days(365);
    let entries: Vec<PointsEntry> = (0..6)
        .map(|k| entry(now() - year + TimeDelta::days(30 * k + 1), 2))
        .collect();
    let s = standing(&entries, &rule, now());
    assert_eq!((s.points_in_window, s.level), (12, Level::Escalated));
    assert_eq!(s.escalated_at, Some(entries[5].at));
    // A day later the first entry has left the window.
    let s = standing(&entries, &rule, now() + TimeDelta::days(1));
    assert_eq!(
        (s.points_in_window, s.level, s.escalated_at),
        (10, Level::Warned, None)
    );
    let json = serde_json::to_value(standing(&entries, &rule, now())).unwrap();
    assert_eq!(json["level"], "escalated");
}

proptest! {
    #[test]
    fn the_window_is_the_definition(
        offsets in prop::collection::vec((-3i64..=3, 0u32..6), 0..25),
        window_days in 1u32..4,
        escalate_at in 2u32..15,
    ) {
        let rule = PointsRule { window_days, escalate_at, warn_at: 1, ..PointsRule::default() };
        let w = TimeDelta::days(i64::from(window_days));
        // Offsets in whole windows and days around now: entries exactly at the window's start,
        // at now, and after now.
        let entries: Vec<PointsEntry> = offsets
            .iter()
            .map(|&(k, p)| entry(now() - w + TimeDelta::days(k), p))
            .collect();
        let inside = |e: &PointsEntry| e.at > now() - w && e.at <= now();
        let total: u32 = entries.iter().filter(|e| inside(e)).map(|e| e.points).sum();
        let s = standing(&entries, &rule, now());
        prop_assert_eq!(s.points_in_window, total);
        let level = if total >= escalate_at { Level::Escalated } else if total >= 1 { Level::Warned } else { Level::Good };
        prop_assert_eq!(s.level, level);
        let first = entries
            .iter()
            .filter(|e| inside(e))
            .map(|e| e.at)
            .filter(|&t| entries.iter().filter(|e| inside(e) && e.at <= t).map(|e| e.points).sum::<u32>() >= escalate_at)
            .min();
        prop_assert_eq!(s.escalated_at, first.filter(|_| level == Level::Escalated));
    }
}

// ---------------------------------------------------------------------------------------------
// Rules.

fn rules() -> AssetRules {
    AssetRules::default()
}

fn kinds(findings: &[Finding]) -> Vec<(&'static str, Vec<String>)> {
    findings.iter().map(|f| (f.kind, f.codes.clone())).collect()
}

#[test]
fn a_file_with_bad_component_codes_gets_one_finding_per_bad_code() {
    let bytes = std::fs::read("tests/data/assets/components.csv").unwrap();
    let cs = read_components_csv(&bytes, None, Crs::Wgs84).unwrap();
    assert_eq!(cs.len(), 9);
    let f = check(&cs, &[], atlas(), &ClassTable::example(), &rules());
    let mut got = kinds(&f);
    got.sort();
    let s = |c: &str| vec![c.to_string()];
    assert_eq!(
        got,
        [
            ("component_code_class", s("3101160199000005")),
            ("component_code_class", s("3101169901000004")),
            ("component_code_district", s("3101170101000003")),
            ("component_code_duplicate", s("3101160118000006")),
            ("component_code_format", s("310116010100002")),
            ("component_outside_district", s("3101160304000007")),
        ]
    );
    for x in &f {
        assert!(x.fix.is_some() && !x.message.zh.is_empty() && !x.message.en.is_empty());
        let expected = if x.kind == "component_outside_district" {
            Rule::Containment
        } else {
            Rule::Codes
        };
        assert_eq!((x.rule, x.severity), (expected, Severity::Error));
    }
    let by = |k: &str| f.iter().find(|x| x.kind == k).unwrap();
    assert!(
        by("component_code_duplicate")
            .message
            .en
            .contains("components 6, 7")
    );
    assert!(
        by("component_code_format")
            .message
            .en
            .contains("15 characters, not 16 digits")
    );
    assert!(
        by("component_code_district")
            .message
            .en
            .contains("district 310117")
    );
    // The district's code comes from the atlas; another one given as data.
    let other = AssetRules {
        district_code: Some("310117".into()),
        ..rules()
    };
    let f = check(&cs, &[], atlas(), &ClassTable::example(), &other);
    assert_eq!(
        f.iter()
            .filter(|x| x.kind == "component_code_district")
            .count(),
        7
    );
    // Switched off: only the component outside the district.
    let off = AssetRules {
        component_codes: false,
        ..rules()
    };
    let f = check(&cs, &[], atlas(), &ClassTable::example(), &off);
    assert_eq!(
        kinds(&f),
        [("component_outside_district", s("3101160304000007"))]
    );
}

#[test]
fn a_component_one_metre_outside_the_district() {
    let (out_lon, lat) = offset(121.0, 30.755, -1.0, 0.0);
    let (in_lon, _) = offset(121.0, 30.755, 1.0, 0.0);
    let cs = vec![
        component("3101160101000001", out_lon, lat),
        component("3101160101000002", in_lon, lat),
    ];
    let f = check(&cs, &[], atlas(), &ClassTable::example(), &rules());
    assert_eq!(
        kinds(&f),
        [(
            "component_outside_district",
            vec!["3101160101000001".to_string()]
        )]
    );
    assert_eq!(
        f[0].location,
        Some(serde_json::json!({"type": "Point", "coordinates": [out_lon, lat]}))
    );
}

#[test]
fn shops_credit_codes_ids_and_bindings() {
    let bytes = std::fs::read("tests/data/assets/shops.geojson").unwrap();
    let shops = read_shops_geojson(&bytes, Crs::Wgs84).unwrap();
    let f = check(&[], &shops, atlas(), &ClassTable::example(), &rules());
    let s = |c: &str| vec![c.to_string()];
    assert_eq!(
        kinds(&f),
        [
            ("shop_unbound", s("MD-004")),
            ("shop_credit_code", s("MD-002")),
            ("shop_credit_code", s("MD-003")),
            ("shop_duplicate_id", s("MD-003")),
        ]
    );
    assert_eq!(
        (f[0].rule, f[0].severity),
        (Rule::Containment, Severity::Warning)
    );
    assert!(
        f[1].message.en.contains("wrong check character"),
        "{}",
        f[1].message.en
    );
    assert!(
        f[1].message.zh.contains("校验码错误：为 Y，应为 0"),
        "{}",
        f[1].message.zh
    );
    assert!(
        f[2].message.en.contains("bad format"),
        "{}",
        f[2].message.en
    );
    assert!(
        f[2].message.en.contains("character 14 ('O')"),
        "{}",
        f[2].message.en
    );
    assert!(
        f[3].message.en.contains("shops 3, 4"),
        "{}",
        f[3].message.en
    );
    // The binding distance is data: 30.1 m from R-C is unbound at 30 m, bound at 31 m.
    let (lon, lat) = offset(RC_LON, 30.758, -30.1, 0.0);
    let far = vec![shop("MD-010", ShopGeometry::Point(lon, lat))];
    assert_eq!(
        check(&[], &far, atlas(), &ClassTable::example(), &rules()).len(),
        1
    );
    let wider = AssetRules {
        binding_m: 31.0,
        ..rules()
    };
    assert!(check(&[], &far, atlas(), &ClassTable::example(), &wider).is_empty());
    // A shop bound by hand is not unbound.
    let mut manual = far.clone();
    manual[0].frontage = Some(gridatlas::assets::Frontage {
        segment: "R-C".into(),
        distance_m: 30.1,
        source: BindingSource::Manual,
    });
    assert!(check(&[], &manual, atlas(), &ClassTable::example(), &rules()).is_empty());
    // Credit codes off.
    let off = AssetRules {
        credit_codes: false,
        ..rules()
    };
    let f = check(&[], &shops, atlas(), &ClassTable::example(), &off);
    assert!(f.iter().all(|x| x.kind != "shop_credit_code"));
}

#[test]
fn asset_rules_are_data() {
    let r: AssetRules =
        serde_json::from_str(r#"{"district_code": "310116", "binding_m": 25}"#).unwrap();
    assert_eq!(r.binding_m, 25.0);
    assert!(r.component_codes && r.credit_codes && !r.grid_codes_15);
    assert_eq!(r.check(), Ok(()));
    assert!(serde_json::from_str::<AssetRules>(r#"{"binding": 25}"#).is_err());
    let bad = AssetRules {
        district_code: Some("31011".into()),
        ..AssetRules::default()
    };
    assert!(bad.check().is_err());
    assert_eq!(
        AssetRules::default().district_code_of(atlas()).as_deref(),
        Some("310116")
    );
    // With grid codes on, the atlas's 12-digit grid code is reported.
    let on = AssetRules {
        grid_codes_15: true,
        ..AssetRules::default()
    };
    let f = check(&[], &[], atlas(), &ClassTable::example(), &on);
    assert_eq!(
        kinds(&f),
        [("grid_code_15", vec!["310116101001".to_string()])]
    );
}
