//! The registers end to end through the service, on both stores: a missing manhole cover
//! reported next to a cover goes to that cover's owner department (owner-first) and is
//! dispatched there as routed, the grid kept as territory; a shop-front occupation reported at
//! a shop goes to the shop's block head and, once opened (立案), adds to the shop's record (once
//! per case); inspections escalate a shop by its points; a file with bad component codes is
//! refused with one finding per bad code and nothing stored.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/segments.rs"]
mod segments;

use chrono::{Duration, Utc};
use db::TestDb;
use gridatlas::assets::record::Level;
use gridatlas::assets::{
    Component, ComponentState, Inspection, InspectionItem, Shop, ShopGeometry,
};
use gridatlas::atlas::Atlas;
use gridatlas::cases::workflow::{self, Action, Request};
use gridatlas::model::Role as PersonRole;
use gridatlas::routing::{Principle, RouteOptions};
use gridatlas::service::access::Caller;
use gridatlas::service::assets::{self as assets, Registers};
use gridatlas::service::cases::{act, check, submit};
use gridatlas::service::setup::{bootstrap_categories, bootstrap_demo};
use gridatlas::store::Store;
use gridatlas::wire::cases::{CaseInput, EventInput};
use segments::{offset, street_segment};
use std::sync::Arc;

suite!(
    a_missing_cover_goes_to_its_owner,
    a_shop_front_case_counts_on_the_shop,
    bad_component_codes_one_finding_each,
);

struct World {
    store: Arc<dyn Store>,
    atlas: Atlas,
    operator: Caller,
}

fn world(db: &TestDb) -> World {
    let store: Arc<dyn Store> = Arc::from(gridatlas::store::open(&db.url).expect("store"));
    let g = bootstrap_demo(store.as_ref()).expect("demo");
    bootstrap_categories(store.as_ref()).expect("categories");
    let atlas = Atlas::build(store.load_generation(g).expect("generation")).with_generation(1);
    World {
        store,
        atlas,
        operator: Caller::operator("测试"),
    }
}

fn report(w: &World, category: &str, at: (f64, f64)) -> gridatlas::cases::Case {
    let now = Utc::now();
    let input = CaseInput {
        lon: at.0,
        lat: at.1,
        crs: None,
        category: category.into(),
        description: "测试".into(),
        source: "patrol".into(),
        reported_at: Some((now - Duration::minutes(30)).to_rfc3339()),
        photos: Vec::new(),
        at: None,
        component: None,
        address: None,
    };
    let registers = Registers::load(w.store.as_ref()).expect("registers");
    let checked = check(input, now).expect("checked");
    submit(
        w.store.as_ref(),
        &w.operator,
        &w.atlas,
        &registers,
        checked,
        None,
        &RouteOptions::default(),
    )
    .expect("submitted")
    .case
}

fn step(w: &World, id: i64, action: &str) -> gridatlas::cases::Case {
    let ev = EventInput {
        action: action.into(),
        ..EventInput::default()
    };
    act(w.store.as_ref(), &w.operator, id, ev, Utc::now()).expect(action)
}

fn cover(code: &str, at: (f64, f64), owner: &str) -> Component {
    Component {
        code: code.into(),
        lon: at.0,
        lat: at.1,
        owner: owner.into(),
        maintainer: None,
        state: ComponentState::Intact,
        survey_date: None,
        attributes: serde_json::Map::new(),
    }
}

fn a_missing_cover_goes_to_its_owner(db: &TestDb) {
    let w = world(db);
    let (mid, _, (ux, uy)) = street_segment(&w.atlas);
    // two covers and a lamp near the point: the nearest cover's owner takes the case
    let side = |m: f64| offset(mid, -uy * m, ux * m);
    let components = vec![
        cover("3101160118000001", side(1.0), "区路灯管理所"),
        cover("3101160102000001", side(4.0), "区排水公司"),
        cover("3101160101000001", side(-7.0), "区自来水公司"),
    ];
    let imported =
        assets::import_components(w.store.as_ref(), &w.atlas, &w.operator, components, true)
            .expect("imported");
    assert_eq!(imported.stored, 3);
    let case = report(&w, "SG0202", mid);
    let a = &case.assignment;
    let c = a.component.as_ref().expect("a cover found");
    assert_eq!(
        (c.code.as_str(), c.owner.as_str()),
        ("3101160102000001", "区排水公司")
    );
    assert!((c.distance_m - 4.0).abs() < 0.05, "{}", c.distance_m);
    assert_eq!(
        a.dispatch.as_ref().map(|h| h.principle),
        Some(Principle::Owner)
    );
    let grid = case.grid.clone().expect("territory");
    // patrol report: accept (verified at once), open, dispatch as routed
    step(&w, case.id, "accept");
    step(&w, case.id, "open");
    let dispatched = step(&w, case.id, "dispatch");
    assert_eq!(dispatched.department.as_deref(), Some("区排水公司"));
    assert_eq!(dispatched.assigned_grid, None);
    assert_eq!(
        dispatched.grid.as_deref(),
        Some(grid.as_str()),
        "the grid stays the territory"
    );
    // as stored
    let stored = w.store.get_case(case.id).expect("case");
    assert_eq!(stored.department.as_deref(), Some("区排水公司"));
    assert_eq!(
        stored.assignment.component.map(|c| c.code),
        Some("3101160102000001".into())
    );
}

fn a_shop_front_case_counts_on_the_shop(db: &TestDb) {
    let w = world(db);
    let (mid, segment, (ux, uy)) = street_segment(&w.atlas);
    let door = offset(mid, -uy * 12.0, ux * 12.0);
    let shop = Shop {
        id: "MZ-0001".into(),
        name: "张记面馆".into(),
        credit_code: Some("91310116MA1JXXXX0A".into()),
        contact: Some("张伟".into()),
        phone: Some("13900000000".into()),
        pledge_signed: None,
        geometry: ShopGeometry::Point(door.0, door.1),
        frontage: None,
        attributes: serde_json::Map::new(),
    };
    // a credit code with a wrong check character is refused, naming the shop
    let e = assets::import_shops(
        w.store.as_ref(),
        &w.atlas,
        &w.operator,
        vec![shop.clone()],
        true,
    )
    .expect_err("bad credit code");
    let findings = e
        .extra
        .as_ref()
        .and_then(|x| x["findings"].as_array())
        .expect("findings");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["kind"], "shop_credit_code");
    assert_eq!(findings[0]["codes"][0], "MZ-0001");
    let mut shop = shop;
    let first17 = "91310116MA1JXXXX0";
    let check = gridatlas::assets::codes::credit_check_char(first17).expect("check char");
    shop.credit_code = Some(format!("{first17}{check}"));
    assets::import_shops(w.store.as_ref(), &w.atlas, &w.operator, vec![shop], true)
        .expect("imported");
    let stored = w.store.shop("MZ-0001").expect("read").expect("shop");
    let frontage = stored.frontage.expect("bound");
    assert_eq!(frontage.segment, segment);
    assert!(
        (frontage.distance_m - 12.0).abs() < 0.1,
        "{}",
        frontage.distance_m
    );

    let case = report(&w, "SG0102", offset(door, ux * 2.0, uy * 2.0));
    let a = &case.assignment;
    assert_eq!(a.shop.as_ref().map(|s| s.id.as_str()), Some("MZ-0001"));
    let block = w.atlas.locate(door.0, door.1)[3].expect("the shop's block");
    let block = w.atlas.feature(block);
    assert_eq!(
        a.block.as_ref().map(|b| b.code.as_str()),
        Some(block.code.as_str())
    );
    assert_eq!(a.block_head.as_ref(), block.person(PersonRole::BlockHead));
    let since = Utc::now() - Duration::days(1);
    assert!(
        w.store
            .points(Some("MZ-0001"), since)
            .expect("points")
            .is_empty()
    );
    step(&w, case.id, "accept");
    step(&w, case.id, "open");
    let points = w.store.points(Some("MZ-0001"), since).expect("points");
    assert_eq!(points.len(), 1, "counted when opened");
    assert_eq!(points[0].points, 2);
    // once per case
    assert!(
        !assets::count_case(w.store.as_ref(), "MZ-0001", case.id, "SG0102", Utc::now())
            .expect("count")
    );
    // inspections: 3 failed items a time, 1 point each: 2 + 3 × 4 = 14 ≥ 12 → escalated
    let rule = assets::settings(w.store.as_ref()).expect("settings").points;
    let mut standing = None;
    for k in 0..4 {
        let inspection = Inspection {
            id: 0,
            shop: "MZ-0001".into(),
            date: (Utc::now() - Duration::days(4 - k)).date_naive(),
            inspector: "巡查员".into(),
            items: ["门前无乱堆物", "无跨门营业", "门前整洁"]
                .iter()
                .map(|i| InspectionItem {
                    item: (*i).into(),
                    passed: false,
                    note: None,
                })
                .collect(),
            photos: Vec::new(),
        };
        let (_, _, s) = assets::inspect(
            w.store.as_ref(),
            &w.atlas,
            &w.operator,
            inspection,
            Utc::now(),
        )
        .expect("inspected");
        standing = Some(s);
    }
    let s = standing.expect("standing");
    assert_eq!(s.points_in_window, 14);
    assert_eq!(s.level, Level::Escalated);
    assert!(rule.escalate_at <= 14);

    // A case opened by a process that stopped before counting it: the minute sweep counts it,
    // dated at the opening, once.
    assert_eq!(
        assets::count_opened_cases(w.store.as_ref(), Utc::now()).expect("sweep"),
        0,
        "the first case is counted already"
    );
    let second = report(&w, "SG0103", offset(door, ux * 3.0, uy * 3.0));
    step(&w, second.id, "accept");
    let (calendar, _) =
        gridatlas::service::cases::calendar(Some(w.store.as_ref())).expect("calendar");
    let opened_at = Utc::now();
    w.store
        .change_case(second.id, &mut |c| {
            let req = Request::new(Action::Open, opened_at, "测试", "admin");
            workflow::apply(c, &req, &calendar)
        })
        .expect("stored")
        .expect("opened");
    let before = w
        .store
        .points(Some("MZ-0001"), since)
        .expect("points")
        .len();
    assert_eq!(
        assets::count_opened_cases(w.store.as_ref(), Utc::now()).expect("sweep"),
        1
    );
    let points = w.store.points(Some("MZ-0001"), since).expect("points");
    assert_eq!(points.len(), before + 1);
    let last = points.iter().find(|p| {
        matches!(&p.reason, gridatlas::assets::PointsReason::Case { case, .. } if *case == second.id)
    });
    assert_eq!(
        last.map(|p| p.at.timestamp_millis()),
        Some(opened_at.timestamp_millis())
    );
    assert_eq!(
        assets::count_opened_cases(w.store.as_ref(), Utc::now()).expect("sweep"),
        0
    );
}

fn bad_component_codes_one_finding_each(db: &TestDb) {
    let w = world(db);
    let (mid, _, _) = street_segment(&w.atlas);
    let good = cover("3101160101000002", mid, "区自来水公司");
    let bad = vec![
        good.clone(),
        cover("310116010100001", mid, "x"),  // 15 digits
        cover("3201160101000003", mid, "x"), // another district
        cover("3101169901000004", mid, "x"), // no class 99
        cover("3101160101000005", mid, "x"), // twice
        cover("3101160101000005", mid, "x"),
    ];
    let e = assets::import_components(w.store.as_ref(), &w.atlas, &w.operator, bad, true)
        .expect_err("refused");
    assert_eq!(e.kind, gridatlas::service::Kind::Unprocessable);
    let findings = e
        .extra
        .as_ref()
        .and_then(|x| x["findings"].as_array())
        .expect("findings");
    let kinds: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap_or(""),
                f["codes"][0].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(findings.len(), 4, "one per bad code: {kinds:?}");
    for (kind, code) in [
        ("component_code_format", "310116010100001"),
        ("component_code_district", "3201160101000003"),
        ("component_code_class", "3101169901000004"),
        ("component_code_duplicate", "3101160101000005"),
    ] {
        assert!(kinds.contains(&(kind, code)), "{kind} {code} in {kinds:?}");
    }
    assert_eq!(
        w.store.component_count().expect("count"),
        0,
        "nothing stored"
    );
}
