//! Routing of cases about components (部件, owner-first) and shop fronts (门责, to the shop's block
//! head) on the demo district, through `routing::route_assets` over small registers built here
//! (the service's registers over the store are tested in tests/assets.rs).

#[path = "support/http.rs"]
mod http_support;

use chrono::{TimeZone, Utc};
use geo::InteriorPoint;
use gridatlas::atlas::{Atlas, FeatureId};
use gridatlas::model::{Layer, Role};
use gridatlas::routing::categories::{Category, ItemKind, parse_task_list};
use gridatlas::routing::{
    AssetRouteError, ComponentRef, Principle, Registers, RouteOptions, ShopHit, ShopRef, route,
    route_assets,
};
use http_support::demo;
use std::sync::OnceLock;

fn atlas() -> &'static Atlas {
    static ATLAS: OnceLock<Atlas> = OnceLock::new();
    ATLAS.get_or_init(|| Atlas::build(demo().clone()).with_generation(1))
}

const TASKS: &str = r#"{"groups": [{"code": "SG02", "name_zh": "设施管理", "layer": "street_grid",
  "list": "mandatory", "items": [
    {"code": "SG0202", "name_zh": "窨井盖缺损", "kind": "component", "component_classes": ["0101", "0102"]},
    {"code": "SG0102", "name_zh": "跨门营业", "kind": "frontage"},
    {"code": "SG0201", "name_zh": "道路破损"}]}]}"#;

fn category(code: &str) -> Category {
    parse_task_list(TASKS.as_bytes())
        .expect("task list")
        .into_iter()
        .find(|c| c.code == code)
        .expect("category")
}

/// Metres east of `(lon, lat)`.
fn east(p: (f64, f64), m: f64) -> (f64, f64) {
    (p.0 + m / (111_320.0 * p.1.to_radians().cos()), p.1)
}

fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    gridatlas::field::distance_m(a, b)
}

struct Comp {
    code: &'static str,
    at: (f64, f64),
    owner: &'static str,
}

struct Shop {
    id: &'static str,
    /// Where it is measured from.
    at: (f64, f64),
    /// Its anchor (the atlas's block there takes the case).
    anchor: (f64, f64),
}

/// Registers over plain lists, measuring as the service's do (metres on the sphere).
struct Lists {
    components: Vec<Comp>,
    shops: Vec<Shop>,
}

impl Lists {
    fn component_ref(c: &Comp, d: f64) -> ComponentRef {
        ComponentRef {
            code: c.code.into(),
            class: c.code[6..10].into(),
            owner: c.owner.into(),
            maintainer: None,
            state: "intact".into(),
            distance_m: d,
            found: String::new(),
        }
    }
}

impl Registers for Lists {
    fn component(&self, code: &str, lon: f64, lat: f64) -> Option<ComponentRef> {
        let c = self.components.iter().find(|c| c.code == code)?;
        Some(Lists::component_ref(c, metres(c.at, (lon, lat))))
    }

    fn components_near(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<ComponentRef> {
        let mut v: Vec<ComponentRef> = self
            .components
            .iter()
            .map(|c| Lists::component_ref(c, metres(c.at, (lon, lat))))
            .filter(|c| c.distance_m <= radius_m)
            .collect();
        v.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then(a.code.cmp(&b.code))
        });
        v
    }

    fn shops_near(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<ShopHit> {
        let mut v: Vec<ShopHit> = self
            .shops
            .iter()
            .map(|s| ShopHit {
                shop: ShopRef {
                    id: s.id.into(),
                    name: format!("店{}", s.id),
                    segment: None,
                    distance_m: metres(s.at, (lon, lat)),
                },
                anchor: s.anchor,
            })
            .filter(|h| h.shop.distance_m <= radius_m)
            .collect();
        v.sort_by(|a, b| a.shop.distance_m.total_cmp(&b.shop.distance_m));
        v
    }
}

/// A point well inside a street-grid block of the demo, and that block.
fn street_block() -> ((f64, f64), FeatureId) {
    let atlas = atlas();
    for f in atlas.features().layer(Layer::Block) {
        let Some(grid) = demo().parent_of(f) else {
            continue;
        };
        if grid.layer != Layer::StreetGrid {
            continue;
        }
        let Some(p) = f.geometry.as_area().and_then(|a| a.interior_point()) else {
            continue;
        };
        let id = atlas.find(&f.code).expect("block in atlas");
        if atlas.locate(p.x(), p.y()).contains(&Some(id)) {
            return ((p.x(), p.y()), id);
        }
    }
    panic!("no street-grid block");
}

fn routed(code: &str, at: (f64, f64)) -> gridatlas::routing::Assignment {
    let reported = Utc
        .with_ymd_and_hms(2026, 11, 2, 1, 30, 0)
        .single()
        .expect("t");
    route(
        atlas(),
        at.0,
        at.1,
        &category(code),
        reported,
        &RouteOptions::default(),
    )
    .expect("routed")
}

#[test]
fn a_missing_manhole_cover_goes_to_the_owner_of_the_nearest_cover() {
    let (p, _) = street_block();
    let regs = Lists {
        components: vec![
            // a street lamp nearer, of a class the item is not about
            Comp {
                code: "3101160201000001",
                at: east(p, 2.0),
                owner: "区路灯管理所",
            },
            Comp {
                code: "3101160101000007",
                at: east(p, 6.0),
                owner: "区自来水公司",
            },
            Comp {
                code: "3101160102000003",
                at: east(p, 8.0),
                owner: "区排水公司",
            },
        ],
        shops: vec![],
    };
    let mut a = routed("SG0202", p);
    let grid = a.grid.clone();
    route_assets(
        &mut a,
        atlas(),
        &regs,
        &category("SG0202"),
        None,
        &RouteOptions::default(),
    )
    .expect("routed");
    assert_eq!(a.about, ItemKind::Component);
    let c = a.component.as_ref().expect("component found");
    assert_eq!(
        (c.code.as_str(), c.owner.as_str(), c.found.as_str()),
        ("3101160101000007", "区自来水公司", "nearest")
    );
    assert!((c.distance_m - 6.0).abs() < 0.05, "{}", c.distance_m);
    let hint = a.dispatch.as_ref().expect("hint");
    assert_eq!(
        (hint.principle, hint.department.as_deref()),
        (Principle::Owner, Some("区自来水公司"))
    );
    assert_eq!(
        a.dispatch_target(),
        Some((Principle::Owner, "区自来水公司"))
    );
    assert_eq!(a.grid, grid, "the grid stays the territory");
    assert!(grid.is_some());

    // named by the reporter: that one, even if another is nearer
    let mut a = routed("SG0202", p);
    route_assets(
        &mut a,
        atlas(),
        &regs,
        &category("SG0202"),
        Some("3101160102000003"),
        &RouteOptions::default(),
    )
    .expect("routed");
    let c = a.component.as_ref().expect("component");
    assert_eq!(
        (c.owner.as_str(), c.found.as_str()),
        ("区排水公司", "named")
    );
}

#[test]
fn no_cover_within_ten_metres_stays_territory_first_and_says_why() {
    let (p, _) = street_block();
    let regs = Lists {
        components: vec![Comp {
            code: "3101160101000007",
            at: east(p, 10.5),
            owner: "区自来水公司",
        }],
        shops: vec![],
    };
    let mut a = routed("SG0202", p);
    route_assets(
        &mut a,
        atlas(),
        &regs,
        &category("SG0202"),
        None,
        &RouteOptions::default(),
    )
    .expect("routed");
    assert!(a.component.is_none());
    let hint = a.dispatch.as_ref().expect("hint");
    assert_eq!(hint.principle, Principle::Territory);
    assert!(
        hint.reason
            .contains("no component of classes 0101, 0102 within 10 m"),
        "{}",
        hint.reason
    );
    let grid = a.grid.as_ref().map(|g| g.code.clone()).expect("grid");
    assert_eq!(
        a.dispatch_target(),
        Some((Principle::Territory, grid.as_str()))
    );
}

#[test]
fn a_named_component_must_exist_and_be_of_the_items_classes() {
    let (p, _) = street_block();
    let regs = Lists {
        components: vec![Comp {
            code: "3101160201000001",
            at: p,
            owner: "区路灯管理所",
        }],
        shops: vec![],
    };
    let opts = RouteOptions::default();
    let mut a = routed("SG0202", p);
    let e = route_assets(
        &mut a,
        atlas(),
        &regs,
        &category("SG0202"),
        Some("3101160101999999"),
        &opts,
    );
    assert_eq!(
        e,
        Err(AssetRouteError::UnknownComponent("3101160101999999".into()))
    );
    let e = route_assets(
        &mut a,
        atlas(),
        &regs,
        &category("SG0202"),
        Some("3101160201000001"),
        &opts,
    )
    .expect_err("a lamp is no manhole cover");
    assert!(
        e.to_string()
            .contains("is of class 0201, not one of category SG0202's (0101, 0102)"),
        "{e}"
    );
    let e = route_assets(
        &mut a,
        atlas(),
        &regs,
        &category("SG0201"),
        Some("3101160201000001"),
        &opts,
    )
    .expect_err("an event names no component");
    assert!(
        matches!(e, AssetRouteError::NotAComponentCategory { .. }),
        "{e}"
    );
}

#[test]
fn a_shop_front_case_goes_to_the_block_head_of_the_shops_block() {
    let (p, own_block) = street_block();
    // the shop's frontage lies in another block (a block with a head), 5 m from the point
    let other = atlas()
        .features()
        .layer(Layer::Block)
        .filter(|f| f.person(Role::BlockHead).is_some())
        .filter_map(|f| atlas().find(&f.code))
        .find(|&b| b != own_block)
        .expect("another block");
    let anchor_of = |b: FeatureId| {
        let p = atlas()
            .feature(b)
            .geometry
            .as_area()
            .and_then(|a| a.interior_point())
            .expect("interior point");
        (p.x(), p.y())
    };
    let regs = Lists {
        components: vec![],
        shops: vec![
            Shop {
                id: "S2",
                at: east(p, 12.0),
                anchor: p,
            },
            Shop {
                id: "S1",
                at: east(p, 5.0),
                anchor: anchor_of(other),
            },
        ],
    };
    let mut a = routed("SG0102", p);
    route_assets(
        &mut a,
        atlas(),
        &regs,
        &category("SG0102"),
        None,
        &RouteOptions::default(),
    )
    .expect("routed");
    assert_eq!(a.about, ItemKind::Frontage);
    assert_eq!(a.shop.as_ref().map(|s| s.id.as_str()), Some("S1"));
    let block = atlas().feature(other);
    assert_eq!(
        a.block.as_ref().map(|b| b.code.as_str()),
        Some(block.code.as_str())
    );
    assert_eq!(a.block_head.as_ref(), block.person(Role::BlockHead));
    assert_eq!(
        a.dispatch.as_ref().map(|h| h.principle),
        Some(Principle::Territory)
    );

    // no shop within 15 m: the place's own block
    let mut a = routed("SG0102", east(p, -40.0));
    let before = a.block.clone();
    route_assets(
        &mut a,
        atlas(),
        &regs,
        &category("SG0102"),
        None,
        &RouteOptions::default(),
    )
    .expect("routed");
    assert!(a.shop.is_none());
    assert_eq!(a.block, before);
    assert!(
        a.dispatch
            .as_ref()
            .is_some_and(|h| h.reason.contains("no shop within 15 m"))
    );
}

#[test]
fn an_event_stays_territory_first() {
    let (p, _) = street_block();
    let regs = Lists {
        components: vec![],
        shops: vec![],
    };
    let mut a = routed("SG0201", p);
    route_assets(
        &mut a,
        atlas(),
        &regs,
        &category("SG0201"),
        None,
        &RouteOptions::default(),
    )
    .expect("routed");
    assert_eq!(a.about, ItemKind::Event);
    assert_eq!(
        a.dispatch.as_ref().map(|h| h.principle),
        Some(Principle::Territory)
    );
    assert!(a.component.is_none() && a.shop.is_none());
}
