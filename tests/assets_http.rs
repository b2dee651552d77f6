//! The asset registers over HTTP, on both stores: components imported as GeoJSON (admin, whole
//! register) and as GBK CSV (a dispatcher, its street only), listed with their class names,
//! grid and block, looked up by code and near a point; a file with a bad code refused with its
//! finding and nothing stored; shops bound to the road segment they face, listed per segment
//! with contacts only for the roles that need them, bound by hand (kept over a re-import),
//! inspected up to escalation, and found at a point with their block head; a component case
//! dispatched owner-first; writes answered only after the token is checked.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http;
#[path = "support/segments.rs"]
mod segments;

use db::TestDb;
use geo::InteriorPoint;
use gridatlas::assets::codes::credit_check_char;
use gridatlas::assets::{Component, ComponentState, Shop, ShopGeometry};
use gridatlas::atlas::Atlas;
use gridatlas::http::{AppState, ServeConfig};
use gridatlas::model::Layer;
use gridatlas::service::setup::{bootstrap_categories, bootstrap_demo};
use gridatlas::store::{Store, TokenSpec};
use http::{problem, run, serve};
use segments::{offset, street_segment};
use serde_json::{Value, json};
use std::sync::Arc;

suite!(components_over_http, shops_over_http, class_table_over_http);

struct Server {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    admin: String,
    planner: String,
    dispatcher: String,
    other_dispatcher: String,
    worker: String,
    other_worker: String,
    intake: String,
    /// A road segment of a street grid: its middle, code and direction (east, north).
    segment: ((f64, f64), String, (f64, f64)),
    /// Another road segment.
    other_segment: String,
    street: String,
    grid: String,
    /// A resident grid and a point inside it.
    resident: (String, (f64, f64)),
}

fn token(store: &dyn Store, spec: TokenSpec) -> String {
    let t = gridatlas::service::access::create_token(store, &spec).expect("token");
    format!("Bearer {}", t.secret)
}

fn spec(role: &str, streets: &[&str], grids: &[&str]) -> TokenSpec {
    TokenSpec {
        role: role.into(),
        streets: streets.iter().map(|s| (*s).to_owned()).collect(),
        grids: grids.iter().map(|s| (*s).to_owned()).collect(),
        ..TokenSpec::default()
    }
}

async fn start(db: &TestDb) -> Server {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let g = bootstrap_demo(store.as_ref()).expect("demo");
    bootstrap_categories(store.as_ref()).expect("categories");
    let atlas = Atlas::build(store.load_generation(g).expect("load")).with_generation(1);
    let segment = street_segment(&atlas);
    let at = atlas.locate(segment.0.0, segment.0.1);
    let code = |i: usize| atlas.feature(at[i].expect("placed")).code.clone();
    let (street, grid) = (code(1), code(2));
    let other_street = atlas
        .features()
        .layer(Layer::Street)
        .map(|s| s.code.clone())
        .find(|s| *s != street)
        .expect("a second street");
    let other_grid = atlas
        .features()
        .features()
        .iter()
        .filter(|f| f.layer.is_grid())
        .map(|f| f.code.clone())
        .find(|g| *g != grid)
        .expect("a second grid");
    let other_segment = atlas
        .features()
        .layer(Layer::RoadSegment)
        .map(|f| f.code.clone())
        .find(|c| *c != segment.1)
        .expect("another segment");
    let resident = atlas
        .features()
        .layer(Layer::ResidentGrid)
        .find_map(|f| {
            let p = f.geometry.as_area().and_then(|a| a.interior_point())?;
            let id = atlas.find(&f.code)?;
            let at = atlas.locate(p.x(), p.y());
            // in another street, so that the street's shops do not hold it
            let elsewhere = at[1].is_some_and(|st| atlas.feature(st).code != street);
            (at.contains(&Some(id)) && elsewhere).then(|| (f.code.clone(), (p.x(), p.y())))
        })
        .expect("a resident grid with an interior point");
    let s = store.as_ref();
    let server = Server {
        resident,
        other_segment,
        admin: token(s, spec("admin", &[], &[])),
        planner: token(s, spec("planner", &[&street], &[])),
        dispatcher: token(s, spec("dispatcher", &[&street], &[])),
        other_dispatcher: token(s, spec("dispatcher", &[&other_street], &[])),
        worker: token(s, spec("grid_worker", &[], &[&grid])),
        other_worker: token(s, spec("grid_worker", &[], &[&other_grid])),
        intake: token(s, spec("intake", &["*"], &[])),
        store: store.clone(),
        client: reqwest::Client::new(),
        segment,
        street,
        grid,
        base: String::new(),
    };
    let state = AppState::with_store(atlas, ServeConfig::default(), Some(store));
    state.reload_registers().expect("registers");
    Server {
        base: serve(state).await,
        ..server
    }
}

impl Server {
    async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> reqwest::Response {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self.client.request(m, format!("{}{path}", self.base));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        if let Some((ct, b)) = body {
            r = r.header("content-type", ct).body(b);
        }
        r.send().await.expect("request")
    }

    async fn ok(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Value {
        let resp = self.send(method, path, auth, body).await;
        let status = resp.status();
        let v: Value = resp.json().await.expect("json");
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    async fn json(&self, method: &str, path: &str, auth: &str, body: Value) -> reqwest::Response {
        self.send(
            method,
            path,
            Some(auth),
            Some(("application/json", body.to_string().into_bytes())),
        )
        .await
    }
}

fn component(serial: u32, at: (f64, f64), owner: &str) -> Component {
    Component {
        code: format!("3101160101{serial:06}"),
        lon: at.0,
        lat: at.1,
        owner: owner.into(),
        maintainer: Some("区排水养护所".into()),
        state: ComponentState::Intact,
        survey_date: None,
        attributes: serde_json::Map::new(),
    }
}

fn geojson_components(c: &[Component]) -> (&'static str, Vec<u8>) {
    let text = gridatlas::assets::io::write_components_geojson(c).expect("geojson");
    ("application/geo+json", text.into_bytes())
}

fn components_over_http(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let (mid, _, (ex, ey)) = s.segment.clone();
        // three covers beside the segment, 3 m apart across it
        let (a, b, c) = (
            offset(mid, -ey * 3.0, ex * 3.0),
            offset(mid, ey * 3.0, -ex * 3.0),
            offset(mid, -ey * 9.0, ex * 9.0),
        );
        let first = vec![
            component(1, a, "区自来水公司"),
            component(2, b, "区自来水公司"),
            component(3, c, "区燃气公司"),
        ];
        let path = "/api/v1/components";
        // who may replace the register: an admin only, the token checked before the body
        problem(
            s.send("PUT", path, None, Some(geojson_components(&first)))
                .await,
            401,
        )
        .await;
        problem(
            s.send(
                "PUT",
                path,
                Some(&s.planner),
                Some(geojson_components(&first)),
            )
            .await,
            403,
        )
        .await;
        let done = s
            .ok(
                "PUT",
                path,
                Some(&s.admin),
                Some(geojson_components(&first)),
            )
            .await;
        assert_eq!(done["stored"], 3, "{done}");
        assert_eq!(done["replaced"], true);

        // listed with class names and the areas the atlas places them in
        let list = s
            .ok("GET", "/api/v1/components?subclass=0101", None, None)
            .await;
        let items = list["components"].as_array().expect("components");
        assert_eq!(items.len(), 3, "{list}");
        assert_eq!(items[0]["code"], "3101160101000001");
        assert_eq!(items[0]["class_name"], "公用设施");
        assert_eq!(items[0]["street"]["code"], s.street.as_str());
        assert_eq!(items[0]["grid"]["code"], s.grid.as_str());
        assert!(items[0]["block"]["code"].is_string(), "{list}");
        assert!(list.get("next_after").is_none());
        // paging by code
        let page = s.ok("GET", "/api/v1/components?limit=2", None, None).await;
        assert_eq!(page["components"].as_array().map(Vec::len), Some(2));
        assert_eq!(page["next_after"], "3101160101000002");
        let rest = s
            .ok(
                "GET",
                "/api/v1/components?limit=2&after=3101160101000002",
                None,
                None,
            )
            .await;
        assert_eq!(rest["components"][0]["code"], "3101160101000003");
        let one = s
            .ok("GET", "/api/v1/components/3101160101000003", None, None)
            .await;
        assert_eq!(one["owner"], "区燃气公司");
        problem(
            s.send("GET", "/api/v1/components/3101160101999999", None, None)
                .await,
            404,
        )
        .await;
        for bad in [
            "state=broken",
            "subclass=01",
            "limit=0",
            "limit=10001",
            "bbox=1,2,3",
        ] {
            problem(
                s.send("GET", &format!("/api/v1/components?{bad}"), None, None)
                    .await,
                400,
            )
            .await;
        }

        // near a point: nearest first, within the radius only
        let near = s
            .ok(
                "GET",
                &format!("/api/v1/components/near?lon={}&lat={}&radius_m=5", a.0, a.1),
                None,
                None,
            )
            .await;
        let codes: Vec<&str> = near["components"]
            .as_array()
            .expect("near")
            .iter()
            .filter_map(|c| c["code"].as_str())
            .collect();
        assert_eq!(codes, ["3101160101000001"], "{near}");
        let wider = s
            .ok(
                "GET",
                &format!(
                    "/api/v1/components/near?lon={}&lat={}&radius_m=20",
                    a.0, a.1
                ),
                None,
                None,
            )
            .await;
        let d: Vec<f64> = wider["components"]
            .as_array()
            .expect("near")
            .iter()
            .filter_map(|c| c["distance_m"].as_f64())
            .collect();
        assert_eq!(d.len(), 3, "{wider}");
        assert!(
            d[0] < 0.01 && (d[1] - 6.0).abs() < 0.1 && (d[2] - 6.0).abs() < 0.1,
            "{d:?}"
        );
        problem(
            s.send(
                "GET",
                &format!(
                    "/api/v1/components/near?lon={}&lat={}&radius_m=5000",
                    a.0, a.1
                ),
                None,
                None,
            )
            .await,
            400,
        )
        .await;

        // a dispatcher adds one by CSV in GBK inside its street; outside it, refused
        let d4 = offset(mid, -ey * 12.0, ex * 12.0);
        let csv = format!(
            "部件编码,经度,纬度,权属单位,状态\n3101160101000004,{},{},区自来水公司,破损\n",
            d4.0, d4.1
        );
        let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
        let added = s
            .ok(
                "POST",
                "/api/v1/components?encoding=gbk",
                Some(&s.dispatcher),
                Some(("text/csv", gbk.to_vec())),
            )
            .await;
        assert_eq!(added["stored"], 1, "{added}");
        assert_eq!(added["replaced"], false);
        let four = s
            .ok("GET", "/api/v1/components/3101160101000004", None, None)
            .await;
        assert_eq!(four["state"], "damaged");
        let refused = problem(
            s.send(
                "POST",
                "/api/v1/components",
                Some(&s.other_dispatcher),
                Some(("text/csv", gbk.to_vec())),
            )
            .await,
            403,
        )
        .await;
        assert!(
            refused["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&s.street)),
            "{refused}"
        );
        assert_eq!(s.store.component_count().expect("count"), 4);

        // a code of another district: refused with its finding, nothing stored
        let mut bad = component(5, d4, "区自来水公司");
        bad.code = "3201150101000005".into();
        let v = problem(
            s.send(
                "POST",
                path,
                Some(&s.admin),
                Some(geojson_components(&[bad])),
            )
            .await,
            422,
        )
        .await;
        let findings = v["findings"].as_array().expect("findings");
        assert_eq!(findings.len(), 1, "{v}");
        assert!(findings[0].to_string().contains("3201150101000005"), "{v}");
        assert_eq!(s.store.component_count().expect("count"), 4);
        // a malformed file: its problems located, nothing stored
        let v = problem(
            s.send(
                "POST",
                path,
                Some(&s.admin),
                Some((
                    "text/csv",
                    b"code,lon,lat,owner\n3101160101000009,abc,31,x\n".to_vec(),
                )),
            )
            .await,
            422,
        )
        .await;
        assert!(
            v["problems"][0].as_str().is_some_and(|p| p.contains("lon")),
            "{v}"
        );
        problem(
            s.send(
                "POST",
                path,
                Some(&s.admin),
                Some(("application/xml", b"<x/>".to_vec())),
            )
            .await,
            415,
        )
        .await;

        // a component case names the cover and goes to its owner
        let case = s
            .json(
                "POST",
                "/api/v1/cases",
                &s.intake,
                json!({
                    "lon": b.0, "lat": b.1, "category": "SG0202",
                    "description": "井盖缺失", "source": "patrol",
                    "component": "3101160101000002"
                }),
            )
            .await;
        let status = case.status();
        let v: Value = case.json().await.expect("json");
        assert_eq!(status.as_u16(), 201, "{v}");
        let assignment = &v["assignment"];
        assert_eq!(assignment["dispatch"]["principle"], "owner", "{v}");
        assert_eq!(assignment["dispatch"]["department"], "区自来水公司", "{v}");
        assert_eq!(assignment["component"]["code"], "3101160101000002", "{v}");
    });
}

/// The district's own class table: replaces the example's, checked against what is in use.
fn class_table_over_http(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let path = "/api/v1/component-classes";
        let example = s.ok("GET", path, None, None).await;
        assert_eq!(example["example"], true, "{example}");
        // a component of subclass 0198, which the example table lacks: refused by the code rule
        let (mid, _, _) = s.segment.clone();
        let mut new = component(7, mid, "区自来水公司");
        new.code = "3101160198000007".into();
        let v = problem(
            s.send(
                "POST",
                "/api/v1/components",
                Some(&s.admin),
                Some(geojson_components(std::slice::from_ref(&new))),
            )
            .await,
            422,
        )
        .await;
        assert!(
            v["findings"].to_string().contains("3101160198000007"),
            "{v}"
        );
        // a cover of 0101 is registered
        s.ok(
            "POST",
            "/api/v1/components",
            Some(&s.admin),
            Some(geojson_components(&[component(1, mid, "区自来水公司")])),
        )
        .await;

        // the district's table: the example's, with 0198 added to class 01
        let mut table = example.clone();
        table["example"] = json!(false);
        table["note"] = json!("金山区部件分类（测试）");
        table["classes"][0]["subclasses"]
            .as_array_mut()
            .expect("subclasses")
            .push(json!({"code": "98", "name_zh": "测试设施", "name_en": "Test facility"}));
        problem(s.json("PUT", path, &s.planner, table.clone()).await, 403).await;
        problem(
            s.send(
                "PUT",
                path,
                None,
                Some(("application/json", b"{}".to_vec())),
            )
            .await,
            401,
        )
        .await;
        // a table without class 01 lacks what the cover and the task list use: refused, each named
        let mut lacking = table.clone();
        lacking["classes"]
            .as_array_mut()
            .expect("classes")
            .remove(0);
        let v = problem(s.json("PUT", path, &s.admin, lacking).await, 422).await;
        let problems = v["problems"].as_array().expect("problems");
        assert!(
            problems[0]
                .as_str()
                .is_some_and(|p| p.contains("class 01 subclass 01") && p.contains("1 registered")),
            "{v}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.as_str().is_some_and(|p| p.contains("SG0202"))),
            "the task list's cover item names class 0101: {v}"
        );
        // an invalid table: every problem located
        let mut twice = table.clone();
        twice["classes"][1]["code"] = json!("01");
        let v = problem(s.json("PUT", path, &s.admin, twice).await, 422).await;
        assert!(
            v["problems"][0]
                .as_str()
                .is_some_and(|p| p.starts_with("classes[1].code")),
            "{v}"
        );
        problem(
            s.send(
                "PUT",
                path,
                Some(&s.admin),
                Some(("application/json", b"{\"classes\": [".to_vec())),
            )
            .await,
            400,
        )
        .await;
        // nothing changed so far
        assert_eq!(s.ok("GET", path, None, None).await, example);

        let put = s.json("PUT", path, &s.admin, table.clone()).await;
        assert_eq!(put.status().as_u16(), 200);
        assert_eq!(s.ok("GET", path, None, None).await, table);
        // the new subclass is accepted now, and named
        s.ok(
            "POST",
            "/api/v1/components",
            Some(&s.admin),
            Some(geojson_components(&[new])),
        )
        .await;
        let one = s
            .ok("GET", "/api/v1/components/3101160198000007", None, None)
            .await;
        assert_eq!(one["subclass_name"], "测试设施", "{one}");
        let near = s
            .ok(
                "GET",
                &format!(
                    "/api/v1/components/near?lon={}&lat={}&radius_m=1",
                    mid.0, mid.1
                ),
                None,
                None,
            )
            .await;
        assert!(near.to_string().contains("测试设施"), "{near}");
    });
}

fn credit_code(n: u32) -> String {
    let first = format!("91310116MA{n:07}");
    let check = credit_check_char(&first).expect("check char");
    format!("{first}{check}")
}

fn shop(id: &str, at: (f64, f64)) -> Shop {
    Shop {
        id: id.into(),
        name: format!("{id}号小吃店"),
        credit_code: Some(credit_code(id.len() as u32 * 7 + 1)),
        contact: Some("王老板".into()),
        phone: Some("13800138000".into()),
        pledge_signed: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
        geometry: ShopGeometry::Point(at.0, at.1),
        frontage: None,
        attributes: serde_json::Map::new(),
    }
}

fn geojson_shops(s: &[Shop]) -> (&'static str, Vec<u8>) {
    let text = gridatlas::assets::io::write_shops_geojson(s).expect("geojson");
    ("application/geo+json", text.into_bytes())
}

fn shops_over_http(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let (mid, seg, (ex, ey)) = s.segment.clone();
        let door = offset(mid, -ey * 8.0, ex * 8.0);
        let shops = vec![
            shop("S1", door),
            shop("S22", offset(door, ex * 10.0, ey * 10.0)),
            shop("S3", s.resident.1),
        ];
        let done = s
            .ok(
                "PUT",
                "/api/v1/shops",
                Some(&s.admin),
                Some(geojson_shops(&shops)),
            )
            .await;
        assert_eq!(done["stored"], 3, "{done}");

        // the frontage list of the segment: both, bound to it, in good standing
        let path = format!("/api/v1/shops?segment={seg}");
        let anonymous = s.ok("GET", &path, None, None).await;
        let list = anonymous["shops"].as_array().expect("shops");
        assert_eq!(list.len(), 2, "{anonymous}");
        assert_eq!(list[0]["frontage"]["segment"], seg.as_str());
        assert_eq!(list[0]["frontage"]["source"], "nearest");
        assert!((list[0]["frontage"]["distance_m"].as_f64().expect("m") - 8.0).abs() < 0.5);
        assert_eq!(list[0]["standing"]["level"], "good");
        assert_eq!(list[0]["geometry"]["type"], "Point");
        // contacts: not to the public, nor another street's dispatcher; to this street's
        // dispatcher and this grid's worker
        for (who, sees) in [
            (None, false),
            (Some(&s.other_dispatcher), false),
            (Some(&s.other_worker), false),
            (Some(&s.dispatcher), true),
            (Some(&s.worker), true),
        ] {
            let v = s.ok("GET", &path, who.map(String::as_str), None).await;
            assert_eq!(v["shops"][0]["phone"].is_string(), sees, "{who:?}: {v}");
            assert_eq!(v["shops"][0]["contact"].is_string(), sees, "{who:?}: {v}");
        }
        // the shops of an area: those facing its road segments (both, in the grid and the
        // street) and those standing in it (S3, in a resident grid)
        for (area, want) in [
            (&s.grid, &["S1", "S22"][..]),
            (&s.street, &["S1", "S22"]),
            (&seg, &["S1", "S22"]),
            (&s.resident.0, &["S3"]),
        ] {
            let v = s
                .ok("GET", &format!("/api/v1/shops?area={area}"), None, None)
                .await;
            let ids: Vec<&str> = v["shops"]
                .as_array()
                .expect("shops")
                .iter()
                .filter_map(|x| x["id"].as_str())
                .collect();
            assert_eq!(ids, want, "area {area}: {v}");
        }
        // paged by id
        let page = s
            .ok(
                "GET",
                &format!("/api/v1/shops?area={}&limit=1&after=S1", s.grid),
                None,
                None,
            )
            .await;
        assert_eq!(page["shops"][0]["id"], "S22", "{page}");
        assert_eq!(page["next_after"], "S22", "{page}");
        // a segment without shops in front of it lists none; an unknown area, or both filters,
        // are refused
        let none = s
            .ok(
                "GET",
                &format!("/api/v1/shops?area={}", s.other_segment),
                None,
                None,
            )
            .await;
        assert_eq!(none["shops"], json!([]), "{none}");
        for bad in [
            "area=NO-SUCH".to_string(),
            format!("area={}&segment={seg}", s.grid),
        ] {
            let v = problem(
                s.send("GET", &format!("/api/v1/shops?{bad}"), None, None)
                    .await,
                400,
            )
            .await;
            assert_eq!(v["parameter"], "area", "{v}");
        }
        // a bad token on a read is refused, not served as anonymous
        problem(s.send("GET", &path, Some("Bearer nope"), None).await, 401).await;

        // bound by hand: another grid's worker may not; this street's dispatcher may
        let other_segment = s.other_segment.clone();
        let body = json!({ "segment": other_segment });
        problem(
            s.json(
                "PUT",
                "/api/v1/shops/S1/frontage",
                &s.other_worker,
                body.clone(),
            )
            .await,
            403,
        )
        .await;
        let set = s
            .json("PUT", "/api/v1/shops/S1/frontage", &s.dispatcher, body)
            .await;
        assert_eq!(set.status().as_u16(), 200);
        let set: Value = set.json().await.expect("json");
        assert_eq!(set["frontage"]["source"], "manual", "{set}");
        problem(
            s.json(
                "PUT",
                "/api/v1/shops/S1/frontage",
                &s.dispatcher,
                json!({ "segment": "NO-SUCH" }),
            )
            .await,
            422,
        )
        .await;
        problem(
            s.json(
                "PUT",
                "/api/v1/shops/NOPE/frontage",
                &s.admin,
                json!({ "segment": null }),
            )
            .await,
            404,
        )
        .await;
        // a re-import computes the nearest again, but keeps the hand-made binding
        s.ok(
            "POST",
            "/api/v1/shops",
            Some(&s.admin),
            Some(geojson_shops(&shops)),
        )
        .await;
        let one = s.ok("GET", "/api/v1/shops/S1", None, None).await;
        assert_eq!(
            one["shop"]["frontage"]["segment"],
            other_segment.as_str(),
            "{one}"
        );
        assert_eq!(one["shop"]["frontage"]["source"], "manual");

        // inspections: 3 failed items a time, 1 point each; 12 escalate
        let inspection = json!({
            "date": chrono::Utc::now().date_naive().to_string(),
            "inspector": "P0001",
            "items": [
                {"item": "门前无乱堆物", "passed": false},
                {"item": "无跨门营业", "passed": false},
                {"item": "门前清洁", "passed": false},
                {"item": "招牌完好", "passed": true}
            ]
        });
        problem(
            s.json(
                "POST",
                "/api/v1/shops/S22/inspections",
                &s.other_worker,
                inspection.clone(),
            )
            .await,
            403,
        )
        .await;
        let mut last = Value::Null;
        for _ in 0..4 {
            let r = s
                .json(
                    "POST",
                    "/api/v1/shops/S22/inspections",
                    &s.worker,
                    inspection.clone(),
                )
                .await;
            assert_eq!(r.status().as_u16(), 200);
            last = r.json().await.expect("json");
            assert_eq!(last["points"], 3, "{last}");
        }
        assert_eq!(last["standing"]["points_in_window"], 12, "{last}");
        assert_eq!(last["standing"]["level"], "escalated", "{last}");
        let detail = s.ok("GET", "/api/v1/shops/S22", None, None).await;
        assert_eq!(detail["inspections"].as_array().map(Vec::len), Some(4));
        assert_eq!(detail["points"].as_array().map(Vec::len), Some(4));
        assert_eq!(detail["shop"]["standing"]["level"], "escalated");
        let empty = json!({"date": "2026-11-01", "inspector": "P0001", "items": []});
        problem(
            s.json("POST", "/api/v1/shops/S22/inspections", &s.worker, empty)
                .await,
            422,
        )
        .await;
        let long = json!({"date": "2026-11-01", "inspector": "x".repeat(501),
            "items": [{"item": "a", "passed": true}]});
        problem(
            s.json("POST", "/api/v1/shops/S22/inspections", &s.worker, long)
                .await,
            422,
        )
        .await;

        // the frontage at the door: the shop, and the block head its cases go to
        let at = s
            .ok(
                "GET",
                &format!("/api/v1/frontage?lon={}&lat={}", door.0, door.1),
                None,
                None,
            )
            .await;
        assert_eq!(at["shops"][0]["shop"]["id"], "S1", "{at}");
        assert!(at["shops"][0]["distance_m"].as_f64().expect("m") < 0.01);
        assert!(at["shops"][0]["block_head"]["name"].is_string(), "{at}");
        assert!(at["shops"][0]["shop"].get("phone").is_none());
        problem(
            s.send(
                "GET",
                &format!(
                    "/api/v1/frontage?lon={}&lat={}&radius_m=1000",
                    door.0, door.1
                ),
                None,
                None,
            )
            .await,
            400,
        )
        .await;

        // settings: anyone reads, only an admin writes, and a bad rule is refused by name
        let settings = s.ok("GET", "/api/v1/asset-settings", None, None).await;
        assert_eq!(settings["points"]["escalate_at"], 12, "{settings}");
        problem(
            s.json(
                "PUT",
                "/api/v1/asset-settings",
                &s.dispatcher,
                settings.clone(),
            )
            .await,
            403,
        )
        .await;
        // A bad rule is refused naming its member; a window past a century among them (its
        // start would fall before the first time chrono represents, and every shop's standing
        // is read through it).
        for (group, member, value) in [
            ("rules", "binding_m", json!(0)),
            ("points", "window_days", json!(u32::MAX)),
        ] {
            let mut bad = settings.clone();
            bad[group][member] = value;
            let v = problem(
                s.json("PUT", "/api/v1/asset-settings", &s.admin, bad).await,
                422,
            )
            .await;
            assert!(
                v["detail"].as_str().is_some_and(|d| d.contains(member)),
                "{member}: {v}"
            );
        }
        let classes = s.ok("GET", "/api/v1/component-classes", None, None).await;
        assert_eq!(classes["classes"][0]["code"], "01", "{classes}");
    });
}

/// `gridatlas components|shops import|export` on a SQLite file: the same readers and rules as the
/// API — a GBK CSV imported, a file with another district's code refused with the code named
/// and nothing stored, the register exported as GeoJSON that reads back to what was imported;
/// shops bound to their segment on the way in.
#[test]
fn the_cli_imports_and_exports_the_registers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("g.db");
    let (mid, seg, (ex, ey)) = {
        let store = gridatlas::store::open(&db.to_string_lossy()).expect("store");
        let g = bootstrap_demo(store.as_ref()).expect("demo");
        street_segment(&Atlas::build(store.load_generation(g).expect("load")))
    };
    let bin = env!("CARGO_BIN_EXE_gridatlas");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .arg("--database")
            .arg(&db)
            .output()
            .expect("run gridatlas")
    };
    let (a, b) = (
        offset(mid, -ey * 3.0, ex * 3.0),
        offset(mid, ey * 3.0, -ex * 3.0),
    );
    let csv = format!(
        "部件编码,经度,纬度,权属单位,状态\n3101160101000001,{},{},区自来水公司,完好\n3101160118000002,{},{},区路灯管理所,破损\n",
        a.0, a.1, b.0, b.1
    );
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    let file = dir.path().join("部件.csv");
    std::fs::write(&file, &gbk).expect("write");
    let path = file.to_string_lossy().to_string();
    let out = run(&["components", "import", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("stored 2 components"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("code,lon,lat,owner\n3201150101000003,{},{},x\n", a.0, a.1),
    )
    .expect("write");
    let out = run(&["components", "import", &bad.to_string_lossy()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3201150101000003"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = dir.path().join("out.geojson");
    let out = run(&["components", "export", "-o", &exported.to_string_lossy()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = gridatlas::assets::io::read_components_geojson(
        &std::fs::read(&exported).expect("read"),
        gridatlas::geometry::crs::Crs::Wgs84,
    )
    .expect("reads back");
    let codes: Vec<(&str, &str, ComponentState)> = back
        .iter()
        .map(|c| (c.code.as_str(), c.owner.as_str(), c.state))
        .collect();
    assert_eq!(
        codes,
        [
            ("3101160101000001", "区自来水公司", ComponentState::Intact),
            ("3101160118000002", "区路灯管理所", ComponentState::Damaged)
        ]
    );
    assert!((back[0].lon - a.0).abs() < 1e-9 && (back[0].lat - a.1).abs() < 1e-9);

    let shops_file = dir.path().join("shops.geojson");
    let (_, body) = geojson_shops(&[shop("S1", offset(mid, -ey * 8.0, ex * 8.0))]);
    std::fs::write(&shops_file, body).expect("write");
    let out = run(&[
        "shops",
        "import",
        "--replace",
        &shops_file.to_string_lossy(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["shops", "export"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shops = gridatlas::assets::io::read_shops_geojson(
        &out.stdout,
        gridatlas::geometry::crs::Crs::Wgs84,
    )
    .expect("reads back");
    assert_eq!(shops.len(), 1);
    assert_eq!(
        shops[0].frontage.as_ref().map(|f| f.segment.as_str()),
        Some(seg.as_str())
    );
}
