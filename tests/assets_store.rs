//! The asset registers in the store, on both stores: components and shops (point and polygon)
//! round trips with every field; queries by box, codes, owner, class, subclass, state, segment,
//! in pages; whole-register replace against upsert; a manual frontage kept over a computed one;
//! deletes and state changes; the start-up load in chunks; inspections; points counted once per
//! case (also when added at once from several threads); the assets setting.

#[macro_use]
#[path = "support/db.rs"]
mod db;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use db::TestDb;
use geo::{LineString, Polygon};
use gridatlas::assets::{
    BindingSource, Component, ComponentState, Frontage, Inspection, InspectionItem, PointsEntry,
    PointsReason, Shop, ShopGeometry,
};
use gridatlas::store::{ComponentQuery, RegisterScope, Setting, ShopQuery, Store, StoreError};
use serde_json::json;
use std::sync::Arc;

suite!(
    components_round_trip,
    component_queries_and_pages,
    component_codes_beyond_one_bound_list,
    components_replace_or_upsert,
    component_delete_and_state,
    all_components_in_chunks,
    shops_round_trip,
    shop_queries_and_pages,
    manual_frontage_is_kept,
    shops_replace_upsert_delete,
    inspections_by_shop_and_date,
    points_once_per_case,
    points_once_per_case_from_threads,
    assets_setting,
);

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 10, h, 0, 0)
        .single()
        .expect("time")
}

/// Component `serial` of class/subclass `cs` (4 digits) at (lon, lat).
fn component(cs: &str, serial: u32, lon: f64, lat: f64) -> Component {
    Component {
        code: format!("310116{cs}{serial:06}"),
        lon,
        lat,
        owner: "区水务局".into(),
        maintainer: None,
        state: ComponentState::Intact,
        survey_date: None,
        attributes: serde_json::Map::new(),
    }
}

fn codes(cs: &[Component]) -> Vec<&str> {
    cs.iter().map(|c| c.code.as_str()).collect()
}

fn query<'a>() -> ComponentQuery<'a> {
    ComponentQuery::default()
}

fn components_round_trip(db: &TestDb) {
    let store = db.open();
    let mut attributes = serde_json::Map::new();
    attributes.insert("材质".into(), json!("铸铁"));
    attributes.insert("口径".into(), json!(700));
    attributes.insert("a".into(), json!({"z": [1, 2.5, null], "b": true}));
    let full = Component {
        code: "3101160101000001".into(),
        lon: 121.123_456_789_012_3,
        lat: 30.987_654_321_098_7,
        owner: "区水务局".into(),
        maintainer: Some("城投养护公司".into()),
        state: ComponentState::Damaged,
        survey_date: Some(date(2026, 3, 15)),
        attributes,
    };
    let bare = component("0202", 7, -0.5, -89.25);
    store
        .put_components(&[bare.clone(), full.clone()], RegisterScope::All)
        .expect("put");
    let back = store
        .component("3101160101000001")
        .expect("read")
        .expect("found");
    assert_eq!(back, full);
    assert_eq!(
        serde_json::to_string(&back.attributes).expect("json"),
        serde_json::to_string(&full.attributes).expect("json"),
        "attribute order survives"
    );
    assert_eq!(
        store.component(&bare.code).expect("read"),
        Some(bare.clone())
    );
    assert_eq!(store.component("3101160101999999").expect("read"), None);
    assert_eq!(store.component_count().expect("count"), 2);
    assert_eq!(
        store.components(&query()).expect("all"),
        vec![full, bare],
        "by code"
    );
    // Codes too short to hold a class, or a subclass, are stored as given.
    let mut short = component("", 1, 0.0, 0.0);
    short.code = "3101".into();
    store
        .put_components(std::slice::from_ref(&short), RegisterScope::Upsert)
        .expect("put short");
    assert_eq!(store.component(&short.code).expect("read"), Some(short));
    let mut short = component("", 1, 0.0, 0.0);
    short.code = "310116010".into();
    store
        .put_components(std::slice::from_ref(&short), RegisterScope::Upsert)
        .expect("put short");
    assert_eq!(store.component(&short.code).expect("read"), Some(short));
}

/// 3 classes × 2 subclasses × 5 serials on a line of longitudes; owners and states alternate.
fn sample() -> Vec<Component> {
    let mut out = Vec::new();
    let mut i = 0;
    for cs in ["0101", "0102", "0201", "0202", "0301", "0302"] {
        for serial in 1..=5 {
            let mut c = component(cs, serial, 121.0 + f64::from(i) * 0.001, 31.0);
            c.owner = if i % 2 == 0 {
                "区水务局"
            } else {
                "区绿化局"
            }
            .into();
            c.state = ComponentState::ALL[i as usize % 5];
            out.push(c);
            i += 1;
        }
    }
    out
}

fn component_queries_and_pages(db: &TestDb) {
    let store = db.open();
    let all = sample();
    store.put_components(&all, RegisterScope::All).expect("put");
    let run = |q: &ComponentQuery<'_>| store.components(q).expect("query");
    let expect = |f: &dyn Fn(&Component) -> bool| -> Vec<Component> {
        all.iter().filter(|c| f(c)).cloned().collect()
    };

    // Box: edges included, the exact coordinate of a component on the edge.
    let (lo, hi) = (all[3].lon, all[7].lon);
    let got = run(&ComponentQuery {
        bbox: Some([lo, 30.9, hi, 31.0]),
        ..query()
    });
    assert_eq!(
        got,
        expect(&|c| c.lon >= lo && c.lon <= hi),
        "box with edges"
    );
    assert!(
        run(&ComponentQuery {
            bbox: Some([lo, 31.000_000_1, hi, 31.1]),
            ..query()
        })
        .is_empty(),
        "a box just north of the line"
    );

    let wanted = vec![
        all[4].code.clone(),
        all[0].code.clone(),
        "3101169999000001".to_string(),
    ];
    assert_eq!(
        codes(&run(&ComponentQuery {
            codes: Some(&wanted),
            ..query()
        })),
        vec![all[0].code.as_str(), all[4].code.as_str()]
    );
    assert_eq!(
        run(&ComponentQuery {
            owner: Some("区绿化局"),
            ..query()
        }),
        expect(&|c| c.owner == "区绿化局")
    );
    assert_eq!(
        run(&ComponentQuery {
            class: Some("02"),
            ..query()
        }),
        expect(&|c| c.class() == Some("02"))
    );
    assert_eq!(
        run(&ComponentQuery {
            subclass: Some("0302"),
            ..query()
        }),
        expect(&|c| c.class() == Some("03") && c.subclass() == Some("02"))
    );
    assert_eq!(
        run(&ComponentQuery {
            state: Some(ComponentState::Missing),
            ..query()
        }),
        expect(&|c| c.state == ComponentState::Missing)
    );
    // Filters together.
    assert_eq!(
        run(&ComponentQuery {
            class: Some("01"),
            owner: Some("区水务局"),
            state: Some(ComponentState::Intact),
            ..query()
        }),
        expect(&|c| c.class() == Some("01")
            && c.owner == "区水务局"
            && c.state == ComponentState::Intact)
    );

    // Pages of 4 by code, with a filter: every component once, in order.
    let mut pages = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = run(&ComponentQuery {
            class: Some("01"),
            limit: Some(4),
            after: after.as_deref(),
            ..query()
        });
        assert!(page.len() <= 4);
        let Some(last) = page.last() else { break };
        after = Some(last.code.clone());
        pages.push(page);
    }
    assert_eq!(pages.len(), 3, "10 components in pages of 4");
    assert_eq!(
        pages.concat(),
        expect(&|c| c.class() == Some("01")),
        "the pages are the whole"
    );
}

fn component_codes_beyond_one_bound_list(db: &TestDb) {
    let store = db.open();
    let all: Vec<Component> = (0..12_000)
        .map(|i| component("0101", i, 121.0 + f64::from(i) * 1e-5, 31.0))
        .collect();
    store.put_components(&all, RegisterScope::All).expect("put");
    // Every code, asked for from the end, with unknown codes between: more codes than one bound
    // list holds.
    let mut wanted: Vec<String> = Vec::new();
    for c in all.iter().rev() {
        wanted.push(c.code.clone());
        wanted.push(format!("{}x", c.code));
    }
    let got = store
        .components(&ComponentQuery {
            codes: Some(&wanted),
            after: Some(&all[30].code),
            limit: Some(5000),
            ..query()
        })
        .expect("query");
    let expect: Vec<&str> = all
        .iter()
        .filter(|c| c.code > all[30].code)
        .take(5000)
        .map(|c| c.code.as_str())
        .collect();
    assert_eq!(codes(&got), expect);
    // Every other code, and as many unknown ones.
    let gone: Vec<String> = wanted.chunks(2).step_by(2).flatten().cloned().collect();
    assert!(gone.len() > 10_000);
    assert_eq!(
        store.delete_components(&gone).expect("delete many codes"),
        6000
    );
    assert_eq!(store.component_count().expect("count"), 6000);
}

fn components_replace_or_upsert(db: &TestDb) {
    let store = db.open();
    let a = component("0101", 1, 121.0, 31.0);
    let b = component("0101", 2, 121.1, 31.0);
    let c = component("0101", 3, 121.2, 31.0);
    store
        .put_components(&[a.clone(), b.clone()], RegisterScope::All)
        .expect("put");

    // Upsert: b changes, c is added, a stays.
    let mut b2 = b.clone();
    b2.owner = "区路政所".into();
    b2.lon = 121.15;
    b2.state = ComponentState::Abandoned;
    b2.maintainer = Some("养护".into());
    store
        .put_components(&[c.clone(), b2.clone()], RegisterScope::Upsert)
        .expect("upsert");
    assert_eq!(
        store.components(&query()).expect("all"),
        vec![a.clone(), b2.clone(), c.clone()]
    );

    // All: only what is given is left.
    store
        .put_components(&[c.clone(), b.clone()], RegisterScope::All)
        .expect("replace");
    assert_eq!(
        store.components(&query()).expect("all"),
        vec![b.clone(), c.clone()]
    );

    // A code given twice is a conflict and changes nothing, either way.
    for scope in [RegisterScope::All, RegisterScope::Upsert] {
        let err = store
            .put_components(&[a.clone(), a.clone()], scope)
            .expect_err("twice");
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(
            store.components(&query()).expect("all"),
            vec![b.clone(), c.clone()]
        );
    }

    // The empty register.
    store
        .put_components(&[], RegisterScope::All)
        .expect("replace with nothing");
    assert_eq!(store.component_count().expect("count"), 0);
}

fn component_delete_and_state(db: &TestDb) {
    let store = db.open();
    let all = sample();
    store.put_components(&all, RegisterScope::All).expect("put");
    assert!(
        store
            .set_component_state(&all[2].code, ComponentState::Occupied)
            .expect("state")
    );
    assert!(
        !store
            .set_component_state("3101169999000001", ComponentState::Occupied)
            .expect("state of nothing")
    );
    let got = store.component(&all[2].code).expect("read").expect("found");
    assert_eq!(got.state, ComponentState::Occupied);
    assert_eq!(
        Component {
            state: all[2].state,
            ..got
        },
        all[2],
        "nothing else changed"
    );

    let gone = vec![
        all[0].code.clone(),
        all[1].code.clone(),
        "3101169999000001".into(),
    ];
    assert_eq!(store.delete_components(&gone).expect("delete"), 2);
    assert_eq!(store.delete_components(&gone).expect("delete again"), 0);
    assert_eq!(store.component_count().expect("count"), all.len() - 2);
    assert_eq!(store.component(&all[0].code).expect("read"), None);
}

fn all_components_in_chunks(db: &TestDb) {
    let store = db.open();
    let all: Vec<Component> = (0..45_000)
        .map(|i| {
            let mut c = component(
                ["0101", "0203", "0405"][i as usize % 3],
                i,
                121.0 + f64::from(i % 300) * 1e-4,
                31.0 + f64::from(i / 300) * 1e-4,
            );
            c.state = ComponentState::ALL[i as usize % 5];
            c
        })
        .collect();
    store.put_components(&all, RegisterScope::All).expect("put");
    let mut chunks = Vec::new();
    let total = store
        .all_components(&mut |chunk| {
            chunks.push(chunk);
            Ok(())
        })
        .expect("load");
    assert_eq!(total, all.len());
    assert!(chunks.len() > 1, "read in more than one chunk");
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(chunks.concat(), sorted);

    // An error from the caller stops the load and is returned.
    let mut calls = 0;
    let err = store
        .all_components(&mut |_| {
            calls += 1;
            Err(StoreError::Data("stop".into()))
        })
        .expect_err("stopped");
    assert!(
        matches!(err, StoreError::Data(ref s) if s == "stop"),
        "{err}"
    );
    assert_eq!(calls, 1);

    // The empty register.
    store
        .put_components(&[], RegisterScope::All)
        .expect("empty");
    assert_eq!(
        store
            .all_components(&mut |_| panic!("no chunk of nothing"))
            .expect("load nothing"),
        0
    );
}

fn square(x: f64, y: f64, d: f64) -> Polygon<f64> {
    let hole = LineString::from(vec![
        (x + d / 4.0, y + d / 4.0),
        (x + d / 4.0, y + d / 2.0),
        (x + d / 2.0, y + d / 2.0),
        (x + d / 2.0, y + d / 4.0),
        (x + d / 4.0, y + d / 4.0),
    ]);
    Polygon::new(
        LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]),
        vec![hole],
    )
}

fn shop(id: &str, geometry: ShopGeometry, segment: Option<&str>) -> Shop {
    Shop {
        id: id.into(),
        name: format!("店{id}"),
        credit_code: None,
        contact: None,
        phone: None,
        pledge_signed: None,
        geometry,
        frontage: segment.map(|s| Frontage {
            segment: s.into(),
            distance_m: 12.5,
            source: BindingSource::Nearest,
        }),
        attributes: serde_json::Map::new(),
    }
}

fn shops_round_trip(db: &TestDb) {
    let store = db.open();
    let mut attributes = serde_json::Map::new();
    attributes.insert("业态".into(), json!("餐饮"));
    attributes.insert("楼层".into(), json!(1));
    let full = Shop {
        id: "SH-0001".into(),
        name: "老王面馆".into(),
        credit_code: Some("91310116MA1J8XXX0X".into()),
        contact: Some("王某".into()),
        phone: Some("13800000000".into()),
        pledge_signed: Some(date(2026, 5, 20)),
        geometry: ShopGeometry::Polygon(square(121.201_234_567_8, 31.001_234_567_8, 0.0002)),
        frontage: Some(Frontage {
            segment: "R-310116-0007".into(),
            distance_m: 7.25,
            source: BindingSource::Manual,
        }),
        attributes,
    };
    let point = shop(
        "SH-0002",
        ShopGeometry::Point(121.3, 31.1),
        Some("R-310116-0008"),
    );
    let bare = shop("SH-0003", ShopGeometry::Point(-73.5, -40.25), None);
    store
        .put_shops(
            &[bare.clone(), full.clone(), point.clone()],
            RegisterScope::All,
        )
        .expect("put");
    assert_eq!(store.shop("SH-0001").expect("read"), Some(full.clone()));
    assert_eq!(store.shop("SH-0002").expect("read"), Some(point.clone()));
    assert_eq!(store.shop("SH-0003").expect("read"), Some(bare.clone()));
    assert_eq!(store.shop("SH-9999").expect("read"), None);
    assert_eq!(
        store.shops(&ShopQuery::default()).expect("all"),
        vec![full, point, bare]
    );
}

fn shop_queries_and_pages(db: &TestDb) {
    let store = db.open();
    // Ids that sort differently by code point and by a language's collation.
    let shops = vec![
        shop("b", ShopGeometry::Point(121.000, 31.0), Some("R1")),
        shop("B", ShopGeometry::Point(121.001, 31.0), Some("R2")),
        shop("a", ShopGeometry::Point(121.002, 31.0), Some("R1")),
        shop("_z", ShopGeometry::Point(121.003, 31.0), None),
        shop(
            "A-poly",
            ShopGeometry::Polygon(square(121.0035, 30.9995, 0.001)),
            Some("R3"),
        ),
    ];
    store.put_shops(&shops, RegisterScope::All).expect("put");
    let ids = |q: &ShopQuery<'_>| -> Vec<String> {
        store
            .shops(q)
            .expect("query")
            .into_iter()
            .map(|s| s.id)
            .collect()
    };
    assert_eq!(
        ids(&ShopQuery::default()),
        ["A-poly", "B", "_z", "a", "b"],
        "by code point on both stores"
    );
    // Box: a point on the edge, and a polygon whose box meets it without a vertex inside.
    assert_eq!(
        ids(&ShopQuery {
            bbox: Some([121.001, 30.9, 121.0036, 31.0]),
            ..Default::default()
        }),
        ["A-poly", "B", "_z", "a"]
    );
    assert_eq!(
        ids(&ShopQuery {
            bbox: Some([121.0041, 31.0002, 121.0042, 31.0003]),
            ..Default::default()
        }),
        ["A-poly"],
        "a box inside the footprint"
    );
    let want = vec!["a".to_string(), "zz".to_string(), "b".to_string()];
    assert_eq!(
        ids(&ShopQuery {
            ids: Some(&want),
            ..Default::default()
        }),
        ["a", "b"]
    );
    let segs = vec!["R1".to_string(), "R3".to_string()];
    assert_eq!(
        ids(&ShopQuery {
            segments: Some(&segs),
            ..Default::default()
        }),
        ["A-poly", "a", "b"]
    );
    assert_eq!(
        ids(&ShopQuery {
            segments: Some(&segs),
            ids: Some(&want),
            ..Default::default()
        }),
        ["a", "b"]
    );
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = ids(&ShopQuery {
            limit: Some(2),
            after: after.as_deref(),
            ..Default::default()
        });
        let Some(last) = page.last() else { break };
        after = Some(last.clone());
        seen.extend(page);
    }
    assert_eq!(seen, ["A-poly", "B", "_z", "a", "b"]);
}

fn manual(segment: &str) -> Frontage {
    Frontage {
        segment: segment.into(),
        distance_m: 3.0,
        source: BindingSource::Manual,
    }
}

fn manual_frontage_is_kept(db: &TestDb) {
    let store = db.open();
    let s1 = shop("S1", ShopGeometry::Point(121.0, 31.0), Some("R-near"));
    let s2 = shop("S2", ShopGeometry::Point(121.1, 31.0), Some("R-near"));
    store
        .put_shops(&[s1.clone(), s2.clone()], RegisterScope::All)
        .expect("put");
    assert!(
        store
            .set_frontage("S1", Some(&manual("R-hand")))
            .expect("set")
    );
    assert!(
        !store
            .set_frontage("S9", Some(&manual("R-hand")))
            .expect("set on nothing")
    );
    let frontage = |id: &str| store.shop(id).expect("read").expect("found").frontage;
    assert_eq!(frontage("S1"), Some(manual("R-hand")));

    // A re-import (upsert and whole) computing the nearest segment, or none, keeps the manual
    // binding, and takes everything else of the shop.
    let mut again = s1.clone();
    again.name = "改名".into();
    again.frontage = Some(Frontage {
        segment: "R-other".into(),
        distance_m: 20.0,
        source: BindingSource::Nearest,
    });
    store
        .put_shops(std::slice::from_ref(&again), RegisterScope::Upsert)
        .expect("upsert");
    let got = store.shop("S1").expect("read").expect("found");
    assert_eq!(got.name, "改名");
    assert_eq!(got.frontage, Some(manual("R-hand")));
    again.frontage = None;
    store
        .put_shops(&[again.clone(), s2.clone()], RegisterScope::All)
        .expect("replace");
    assert_eq!(frontage("S1"), Some(manual("R-hand")));
    assert_eq!(
        frontage("S2"),
        s2.frontage,
        "a computed binding is replaced"
    );

    // A shop written with a manual binding of its own replaces the stored one.
    again.frontage = Some(manual("R-new-hand"));
    store
        .put_shops(std::slice::from_ref(&again), RegisterScope::Upsert)
        .expect("upsert manual");
    assert_eq!(frontage("S1"), Some(manual("R-new-hand")));

    // Removed by hand, the next import binds it again.
    assert!(store.set_frontage("S1", None).expect("unset"));
    assert_eq!(frontage("S1"), None);
    store
        .put_shops(std::slice::from_ref(&s1), RegisterScope::Upsert)
        .expect("upsert");
    assert_eq!(frontage("S1"), s1.frontage);

    // A shop deleted loses its manual binding with it.
    assert!(
        store
            .set_frontage("S2", Some(&manual("R-hand")))
            .expect("set")
    );
    assert_eq!(store.delete_shops(&["S2".to_string()]).expect("delete"), 1);
    store
        .put_shops(std::slice::from_ref(&s2), RegisterScope::Upsert)
        .expect("upsert");
    assert_eq!(frontage("S2"), s2.frontage);
}

fn shops_replace_upsert_delete(db: &TestDb) {
    let store = db.open();
    let a = shop("A", ShopGeometry::Point(121.0, 31.0), None);
    let b = shop("B", ShopGeometry::Point(121.1, 31.0), Some("R1"));
    let c = shop(
        "C",
        ShopGeometry::Polygon(square(121.2, 31.0, 0.001)),
        Some("R2"),
    );
    store
        .put_shops(&[a.clone(), b.clone()], RegisterScope::All)
        .expect("put");
    // A point becomes a polygon by upsert.
    let mut b2 = c.clone();
    b2.id = "B".into();
    store
        .put_shops(&[b2.clone(), c.clone()], RegisterScope::Upsert)
        .expect("upsert");
    assert_eq!(
        store.shops(&ShopQuery::default()).expect("all"),
        vec![a.clone(), b2.clone(), c.clone()]
    );
    store
        .put_shops(std::slice::from_ref(&c), RegisterScope::All)
        .expect("replace");
    assert_eq!(
        store.shops(&ShopQuery::default()).expect("all"),
        vec![c.clone()]
    );
    let err = store
        .put_shops(&[a.clone(), a.clone()], RegisterScope::Upsert)
        .expect_err("twice");
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(
        store
            .delete_shops(&["C".to_string(), "A".to_string()])
            .expect("delete"),
        1
    );
    assert_eq!(store.shops(&ShopQuery::default()).expect("all"), vec![]);
}

fn inspection(shop: &str, day: u32, inspector: &str) -> Inspection {
    Inspection {
        id: 0,
        shop: shop.into(),
        date: date(2026, 12, day),
        inspector: inspector.into(),
        items: vec![
            InspectionItem {
                item: "门前无乱堆物".into(),
                passed: true,
                note: None,
            },
            InspectionItem {
                item: "无跨门营业".into(),
                passed: false,
                note: Some("摆放桌椅两张".into()),
            },
        ],
        photos: vec!["photos/2026/12/a.jpg".into(), "photos/2026/12/b.jpg".into()],
    }
}

fn inspections_by_shop_and_date(db: &TestDb) {
    let store = db.open();
    store
        .put_shops(
            &[shop("S1", ShopGeometry::Point(121.0, 31.0), None)],
            RegisterScope::All,
        )
        .expect("put");
    let mut plain = inspection("S2", 5, "Z0002");
    plain.items.truncate(1);
    plain.photos.clear();
    let mut recorded = Vec::new();
    for i in [
        inspection("S1", 9, "Z0001"),
        inspection("S1", 3, "Z0001"),
        plain,
        inspection("S1", 9, "Z0003"),
    ] {
        let id = store.add_inspection(&i, None).expect("add");
        assert!(id > 0);
        recorded.push(Inspection { id, ..i });
    }
    let ids: Vec<i64> = recorded.iter().map(|i| i.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    let all = store
        .inspections(None, date(2026, 12, 1), date(2026, 12, 31))
        .expect("all");
    assert_eq!(
        all,
        vec![
            recorded[1].clone(),
            recorded[2].clone(),
            recorded[0].clone(),
            recorded[3].clone()
        ],
        "by date, then id"
    );
    assert_eq!(
        store
            .inspections(Some("S1"), date(2026, 12, 3), date(2026, 12, 8))
            .expect("of S1"),
        vec![recorded[1].clone()],
        "the period's ends included"
    );
    assert_eq!(
        store
            .inspections(Some("S1"), date(2026, 12, 9), date(2026, 12, 9))
            .expect("one day"),
        vec![recorded[0].clone(), recorded[3].clone()]
    );
    // History stays when the shop goes.
    store.delete_shops(&["S1".to_string()]).expect("delete");
    assert_eq!(
        store
            .inspections(Some("S1"), date(2026, 12, 1), date(2026, 12, 31))
            .expect("of S1")
            .len(),
        3
    );
    // An inspection and the points it costs are written together; no points, no entry.
    assert!(store.points(Some("S2"), at(0)).expect("points").is_empty());
    let free = store
        .add_inspection(&inspection("S2", 6, "Z0004"), Some((at(4), 0)))
        .expect("add");
    let costly = store
        .add_inspection(&inspection("S2", 7, "Z0004"), Some((at(5), 3)))
        .expect("add");
    assert!(costly > free);
    assert_eq!(
        store.points(Some("S2"), at(0)).expect("points"),
        vec![PointsEntry {
            shop: "S2".into(),
            at: at(5),
            points: 3,
            reason: PointsReason::Inspection { inspection: costly },
        }]
    );
}

fn case_points(shop: &str, case: i64, h: u32) -> PointsEntry {
    PointsEntry {
        shop: shop.into(),
        at: at(h),
        points: 2,
        reason: PointsReason::Case {
            case,
            category: "跨门营业".into(),
        },
    }
}

fn points_once_per_case(db: &TestDb) {
    let store = db.open();
    let first = case_points("S1", 41, 9);
    assert!(store.add_points(&first).expect("add"));
    // The same case again, even later and with other points: not added.
    let mut again = case_points("S1", 41, 10);
    again.points = 5;
    assert!(!store.add_points(&again).expect("again"));
    // The same case on another shop, another case on the shop: added.
    let other_shop = case_points("S2", 41, 11);
    let other_case = case_points("S1", 42, 12);
    assert!(store.add_points(&other_shop).expect("other shop"));
    assert!(store.add_points(&other_case).expect("other case"));
    // Inspection entries are not deduplicated.
    let inspected = PointsEntry {
        shop: "S1".into(),
        at: at(13),
        points: 1,
        reason: PointsReason::Inspection { inspection: 7 },
    };
    assert!(store.add_points(&inspected).expect("inspection"));
    assert!(store.add_points(&inspected).expect("inspection again"));

    let s1 = store.points(Some("S1"), at(0)).expect("of S1");
    assert_eq!(
        s1,
        vec![
            first.clone(),
            other_case.clone(),
            inspected.clone(),
            inspected.clone()
        ]
    );
    assert_eq!(s1.iter().map(|e| e.points).sum::<u32>(), 6);
    assert_eq!(
        store.points(None, at(11)).expect("since 11:00"),
        vec![other_shop, other_case, inspected.clone(), inspected]
    );
}

fn points_once_per_case_from_threads(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let added: Vec<bool> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let store = Arc::clone(&store);
                scope.spawn(move || store.add_points(&case_points("S1", 77, 9)).expect("add"))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(added.iter().filter(|a| **a).count(), 1, "{added:?}");
    assert_eq!(store.points(Some("S1"), at(0)).expect("points").len(), 1);
}

fn assets_setting(db: &TestDb) {
    let store = db.open();
    assert_eq!(Setting::Assets.key(), "assets");
    assert_eq!(store.setting(Setting::Assets).expect("read"), None);
    let body = r#"{"binding_m":30,"points":{"per_failed_item":1,"per_case":2,"window_days":365,"escalate_at":12,"warn_at":6}}"#;
    store.replace_setting(Setting::Assets, body).expect("store");
    store
        .replace_setting(Setting::Field, "{}")
        .expect("another");
    assert_eq!(
        store.setting(Setting::Assets).expect("read").as_deref(),
        Some(body)
    );
}
