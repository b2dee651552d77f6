//! The store-backed HTTP API (drafts, publishing, generations, private reads) over real HTTP, on
//! both stores: a SQLite file and a PostGIS database (`suite!`), each holding the demo district
//! as generation 1. Authorization is of the effective change: what a publish would really change,
//! whatever the upload declared.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use db::TestDb;
use gridatlas::atlas::Atlas;
use gridatlas::http::{AppState, ServeConfig, router};
use gridatlas::store::Store;
use http_support::{demo, problem, run};
use serde_json::{Value, json};
use std::sync::Arc;

struct Server {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    state: AppState,
}

async fn start(db: &TestDb, config: ServeConfig) -> Server {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    let set = store.load_generation(n).expect("load");
    let state = AppState::with_store(
        Atlas::build(set).with_generation(i64::from(n)),
        config,
        Some(store.clone()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        store,
        state,
    }
}

impl Server {
    fn token(&self, role: &str, streets: &[&str]) -> String {
        let secret = gridatlas::http::auth::new_secret();
        let streets: Vec<String> = streets.iter().map(|s| (*s).to_owned()).collect();
        self.store
            .create_token(role, &streets, &secret)
            .expect("token");
        secret
    }
    async fn get(&self, path: &str) -> reqwest::Response {
        self.get_as(path, None).await
    }
    async fn get_as(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut r = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.expect("request")
    }
    async fn json(&self, path: &str, token: Option<&str>) -> Value {
        let r = self.get_as(path, token).await;
        assert_eq!(r.status(), 200, "{path}");
        r.json().await.expect("json")
    }
    async fn upload(&self, token: &str, query: &str, body: String) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/drafts{query}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/geo+json")
            .body(body)
            .send()
            .await
            .expect("post")
    }
    async fn publish(&self, token: &str, id: i64) -> reqwest::Response {
        self.client
            .post(format!("{}/api/v1/drafts/{id}/publish", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("publish")
    }
    async fn generation(&self) -> i64 {
        self.json("/api/v1/generations", None).await["current"]
            .as_i64()
            .expect("current")
    }
}

/// A point well inside a block of the demo district, and that block.
fn inner_point() -> (f64, f64, &'static gridatlas::model::Feature) {
    let set = demo();
    let block = set
        .layer(gridatlas::model::Layer::Block)
        .nth(100)
        .expect("blocks");
    let area = block.geometry.as_area().expect("area");
    let p = geo::InteriorPoint::interior_point(area).expect("interior point");
    (p.x(), p.y(), block)
}

/// The features of one street (and everything under it) from the demo district, as GeoJSON
/// feature objects.
fn street_features(street: &str, rename: Option<(&str, &str)>) -> Vec<Value> {
    let set = demo();
    let of = gridatlas::store::street_of_features(set);
    set.features()
        .iter()
        .filter(|f| of.get(f.code.as_str()) == Some(&street))
        .map(|f| {
            let mut v = gridatlas::geo_io::feature_to_json(f);
            if let Some((code, name)) = rename {
                if f.code == code {
                    v["properties"]["name"] = json!(name);
                }
            }
            v
        })
        .collect()
}

fn collection(features: Vec<Value>, units: Option<Value>) -> String {
    let mut fc = json!({"type": "FeatureCollection", "features": features});
    if let Some(u) = units {
        fc["management_units"] = u;
    }
    fc.to_string()
}

fn street_upload(street: &str, rename: Option<(&str, &str)>) -> String {
    collection(street_features(street, rename), None)
}

/// The demo's management unit `code`, with its people replaced by an impostor.
fn hijacked_unit(code: &str) -> Value {
    let unit = demo()
        .management_units
        .iter()
        .find(|u| u.code == code)
        .expect("unit");
    let mut v = serde_json::to_value(unit).expect("unit json");
    v["people"] =
        json!([{"role": "enforcement_officer", "name": "冒充者", "phone": "13900000000"}]);
    v
}

fn drafts_need_tokens_scoped_to_their_streets(db: &TestDb) {
    run(async {
        let s = start(db, ServeConfig::default()).await;
        let planner = s.token("planner", &["310116101"]);
        let other = s.token("planner", &["310116102"]);
        let intake = s.token("intake", &[]);
        let post = |auth: Option<String>, ctype: &str, body: String| {
            let mut r = s
                .client
                .post(format!("{}/api/v1/drafts", s.base))
                .header("content-type", ctype)
                .body(body);
            if let Some(a) = auth {
                r = r.header("authorization", format!("Bearer {a}"));
            }
            r.send()
        };
        let good = street_upload("310116101", Some(("310116101009", "改名测试")));
        problem(
            post(None, "application/geo+json", good.clone())
                .await
                .expect("post"),
            401,
        )
        .await;
        problem(
            post(Some("nope".into()), "application/geo+json", good.clone())
                .await
                .expect("post"),
            401,
        )
        .await;
        problem(
            post(Some(intake.clone()), "application/geo+json", good.clone())
                .await
                .expect("post"),
            403,
        )
        .await;
        let v = problem(
            post(
                Some(planner.clone()),
                "application/geo+json",
                street_upload("310116102", None),
            )
            .await
            .expect("post"),
            403,
        )
        .await;
        assert_eq!(v["streets"], json!(["310116102"]), "{v}");
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("310116102"))
        );
        problem(
            post(Some(planner.clone()), "text/plain", good.clone())
                .await
                .expect("post"),
            415,
        )
        .await;
        problem(
            post(
                Some(planner.clone()),
                "application/geo+json",
                "{\"type\": \"FeatureCollection\", \"features\": [".into(),
            )
            .await
            .expect("post"),
            400,
        )
        .await;
        let bad = good.replacen("\"layer\":\"block\"", "\"layer\":\"blok\"", 1);
        let v = problem(
            post(Some(planner.clone()), "application/geo+json", bad)
                .await
                .expect("post"),
            422,
        )
        .await;
        let first = &v["problems"][0];
        assert!(
            first["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("properties.layer")),
            "{v}"
        );
        assert!(first["index"].is_u64());

        let resp = post(Some(planner.clone()), "application/geo+json", good)
            .await
            .expect("post");
        assert_eq!(resp.status(), 201);
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .expect("location");
        let draft: Value = resp.json().await.expect("json");
        assert_eq!(draft["streets"], json!(["310116101"]));
        let id = draft["id"].as_i64().expect("id");
        // The Location names a route that answers, with the draft.
        assert_eq!(location, format!("/api/v1/drafts/{id}"));
        let info = s.json(&location, Some(&planner)).await;
        assert_eq!(info["id"], id);
        assert_eq!(info["covered_streets"], json!(["310116101"]));
        assert_eq!(info["published_generation"], Value::Null);

        // Reports are private: only planners of the draft's streets and admins read them.
        let report_url = format!("/api/v1/drafts/{id}/report");
        problem(s.get(&report_url).await, 401).await;
        problem(s.get(&location).await, 401).await;
        let v = problem(s.get_as(&report_url, Some(&other)).await, 403).await;
        assert_eq!(v["streets"], json!(["310116101"]), "{v}");
        problem(s.get_as(&report_url, Some(&intake)).await, 403).await;
        let report = s.json(&report_url, Some(&planner)).await;
        assert_eq!(report["draft"], id);
        let admin = s.token("admin", &[]);
        let fc = s
            .json(&format!("{report_url}?format=geojson"), Some(&admin))
            .await;
        assert_eq!(fc["type"], "FeatureCollection");

        // Publish while lookups run: every lookup answers, with the old or the new generation.
        let (x, y, block) = inner_point();
        let url = format!("{}/api/v1/lookup?lon={x}&lat={y}", s.base);
        let client = s.client.clone();
        let lookups = tokio::spawn(async move {
            let mut seen = std::collections::BTreeSet::new();
            for _ in 0..300 {
                let r = client.get(&url).send().await.expect("lookup");
                assert_eq!(r.status(), 200);
                let v: Value = r.json().await.expect("json");
                assert!(v["block"]["code"].is_string(), "{v}");
                seen.insert(v["generation"].as_i64().expect("generation"));
            }
            seen
        });
        problem(s.publish(&other, id).await, 403).await;
        let resp = s.publish(&planner, id).await;
        assert_eq!(resp.status(), 200);
        let published: Value = resp.json().await.expect("json");
        assert_eq!(published["generation"], 2);
        let seen = lookups.await.expect("lookups");
        assert!(seen.iter().all(|g| *g == 1 || *g == 2), "{seen:?}");
        let v = s
            .json(&format!("/api/v1/lookup?lon={x}&lat={y}"), None)
            .await;
        assert_eq!(v["generation"], 2);
        assert_eq!(v["block"]["code"], block.code.as_str());
        let g = s.json("/api/v1/areas/310116101009", None).await;
        assert_eq!(g["name"], "改名测试");
        // Every generation stays readable: lookups at a generation number or a time.
        let v = s
            .json(&format!("/api/v1/lookup?lon={x}&lat={y}&at=1"), None)
            .await;
        assert_eq!(v["generation"], 1);
        assert_eq!(v["block"]["code"], block.code.as_str());
        let now = (chrono::Utc::now() + chrono::Duration::seconds(60))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let v = s
            .json(&format!("/api/v1/lookup?lon={x}&lat={y}&at={now}"), None)
            .await;
        assert_eq!(v["generation"], 2);
        problem(
            s.get(&format!(
                "/api/v1/lookup?lon={x}&lat={y}&at=2000-01-01T00:00:00%2B08:00"
            ))
            .await,
            404,
        )
        .await;
        let v = problem(
            s.get(&format!("/api/v1/lookup?lon={x}&lat={y}&at=yesterday"))
                .await,
            400,
        )
        .await;
        assert_eq!(v["parameter"], "at");
        problem(
            s.get(&format!("/api/v1/lookup?lon={x}&lat={y}&at=7")).await,
            404,
        )
        .await;

        // Published once only; generations and diff.
        problem(s.publish(&planner, id).await, 409).await;
        let gens = s.json("/api/v1/generations", None).await;
        assert_eq!(gens["items"].as_array().map(Vec::len), Some(2));
        let d = s.json("/api/v1/generations/1/diff/2", None).await;
        assert_eq!(d["items"].as_array().map(Vec::len), Some(1), "{d}");
        assert_eq!(d["items"][0]["code"], "310116101009");
        assert_eq!(d["items"][0]["fields"], json!(["name"]));
        problem(
            s.get_as("/api/v1/drafts/999/report", Some(&admin)).await,
            404,
        )
        .await;
    });
}

/// The attacks of the hardening issue: a planner token reaching another street through a road
/// segment under that street's block, through a management unit, or through a second district.
/// Each is refused at upload; nothing is published; lookups still show the real people.
fn uploads_cannot_change_what_the_token_does_not_own(db: &TestDb) {
    run(async {
        let s = start(db, ServeConfig::default()).await;
        let nobody = s.token("planner", &[]);
        let p101 = s.token("planner", &["310116101"]);
        let admin = s.token("admin", &[]);
        // (a) A road segment under a block of street 310116001, with its own "block head".
        let segment = json!({"type": "Feature", "properties": {
            "layer": "road_segment", "code": "310116001S06B01R99", "name": "注入路段",
            "parent": "310116001S06B01",
            "people": [{"role": "block_head", "name": "冒充者", "phone": "13900000000"}]},
            "geometry": {"type": "LineString", "coordinates": [[121.33473, 30.71531], [121.3333, 30.7132]]}});
        let v = problem(
            s.upload(&nobody, "", collection(vec![segment.clone()], None))
                .await,
            403,
        )
        .await;
        assert_eq!(v["streets"], json!(["310116001"]), "{v}");
        let mut with_own = street_features("310116101", None);
        with_own.push(segment);
        let v = problem(
            s.upload(&p101, "?streets=310116101", collection(with_own, None))
                .await,
            403,
        )
        .await;
        assert_eq!(v["streets"], json!(["310116001"]), "{v}");

        // (b) A management unit of street 310116001 replaced, its people swapped.
        let units = json!([hijacked_unit("310116001C01")]);
        let v = problem(
            s.upload(&nobody, "", collection(Vec::new(), Some(units.clone())))
                .await,
            403,
        )
        .await;
        assert_eq!(v["streets"], json!(["310116001"]), "{v}");
        let v = problem(
            s.upload(
                &p101,
                "?streets=310116101",
                collection(street_features("310116101", None), Some(units)),
            )
            .await,
            403,
        )
        .await;
        assert_eq!(v["streets"], json!(["310116001"]), "{v}");

        // (c) A second district next to the real one: never, not even for an admin.
        let mut fake = street_features("310116101", None);
        fake.push(json!({"type": "Feature", "properties": {
            "layer": "district", "code": "999999", "name": "假区"},
            "geometry": {"type": "Polygon", "coordinates": [[[121.0, 30.6], [121.01, 30.6], [121.01, 30.61], [121.0, 30.6]]]}}));
        for token in [&p101, &admin] {
            let v = problem(
                s.upload(token, "?streets=310116101", collection(fake.clone(), None))
                    .await,
                422,
            )
            .await;
            assert!(
                v["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("one district")),
                "{v}"
            );
        }
        // The district itself is admin-only, even when the rest is the planner's street.
        let mut renamed = street_features("310116101", None);
        let mut district = gridatlas::geo_io::feature_to_json(demo().district().expect("district"));
        district["properties"]["name"] = json!("假金山区");
        renamed.push(district);
        let v = problem(
            s.upload(&p101, "?streets=310116101", collection(renamed, None))
                .await,
            403,
        )
        .await;
        assert!(
            v["admin_only"][0]
                .as_str()
                .is_some_and(|d| d.starts_with("district feature 310116")),
            "{v}"
        );

        // A draft of no street (an admin's unit change) is read by its uploader and admins only.
        let units_only = json!([hijacked_unit("310116101C01")]);
        let resp = s
            .upload(&admin, "", collection(Vec::new(), Some(units_only)))
            .await;
        assert_eq!(resp.status(), 201);
        let id = resp.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id");
        let report = format!("/api/v1/drafts/{id}/report");
        problem(s.get_as(&report, Some(&p101)).await, 403).await;
        problem(s.get_as(&report, Some(&nobody)).await, 403).await;
        assert_eq!(s.get_as(&report, Some(&admin)).await.status(), 200);

        // Nothing was published; the unit's people are the real ones.
        assert_eq!(s.generation().await, 1);
        let (x, y) = (121.33473, 30.71531);
        let v = s
            .json(&format!("/api/v1/lookup?lon={x}&lat={y}"), None)
            .await;
        assert!(!v.to_string().contains("冒充者"), "{v}");
        let config = s.json("/api/v1/config", None).await;
        assert!(!config.to_string().contains("假"), "{config}");
    });
}

/// A draft an admin uploaded that declares one street but changes another cannot be published
/// by that one street's planner: the effective change is checked again at publish.
fn publish_checks_the_effective_change_again(db: &TestDb) {
    run(async {
        let s = start(db, ServeConfig::default()).await;
        let admin = s.token("admin", &[]);
        let p101 = s.token("planner", &["310116101"]);
        let mut features = street_features("310116101", None);
        features.extend(street_features(
            "310116102",
            Some(("310116102001", "顺带改名")),
        ));
        let resp = s
            .upload(&admin, "?streets=310116101", collection(features, None))
            .await;
        assert_eq!(resp.status(), 201);
        let draft: Value = resp.json().await.expect("json");
        let id = draft["id"].as_i64().expect("id");
        let v = problem(s.publish(&p101, id).await, 403).await;
        assert_eq!(v["streets"], json!(["310116102"]), "{v}");
        assert_eq!(s.generation().await, 1);
        // A revoked token publishes nothing either.
        let tokens = s.store.list_tokens().expect("tokens");
        let p = tokens
            .iter()
            .find(|t| t.role == "planner")
            .expect("planner");
        s.store.revoke_token(p.id).expect("revoke");
        problem(s.publish(&p101, id).await, 401).await;
        let resp = s.publish(&admin, id).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(s.generation().await, 2);
    });
}

/// A management unit's change is a change: counted in the generation and listed by diff.
fn unit_changes_are_counted_and_diffed(db: &TestDb) {
    run(async {
        let s = start(db, ServeConfig::default()).await;
        let p001 = s.token("planner", &["310116001"]);
        let body = collection(
            street_features("310116001", None),
            Some(json!([hijacked_unit("310116001C01")])),
        );
        let resp = s.upload(&p001, "?streets=310116001", body).await;
        assert_eq!(resp.status(), 201);
        let id = resp.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id");
        let resp = s.publish(&p001, id).await;
        assert_eq!(resp.status(), 200);
        let published: Value = resp.json().await.expect("json");
        assert_eq!(
            published["info"]["changes"],
            json!({"management_unit": {"added": 0, "removed": 0, "changed": 1}}),
            "{published}"
        );
        let d = s.json("/api/v1/generations/1/diff/2", None).await;
        assert_eq!(
            d["items"],
            json!([{"layer": "management_unit", "code": "310116001C01", "name": "石化城管第1管理单元",
                    "change": "changed", "fields": ["people"], "gained_m2": null, "lost_m2": null,
                    "changed_hands_m2": 0.0}]),
            "{d}"
        );
    });
}

/// The one-street workflow of the README: a file of one street, with or without the district
/// it names as parent (repeated unchanged as context), replaces that street.
fn one_street_uploads_with_or_without_the_district(db: &TestDb) {
    run(async {
        let s = start(db, ServeConfig::default()).await;
        let p101 = s.token("planner", &["310116101"]);
        let district = gridatlas::geo_io::feature_to_json(demo().district().expect("district"));
        let mut with_district = vec![district];
        with_district.extend(street_features("310116101", Some(("310116101009", "带区"))));
        for (body, name) in [
            (
                street_upload("310116101", Some(("310116101009", "不带区"))),
                "不带区",
            ),
            (collection(with_district, None), "带区"),
        ] {
            let resp = s.upload(&p101, "?streets=310116101", body).await;
            assert_eq!(
                resp.status(),
                201,
                "{}",
                resp.text().await.unwrap_or_default()
            );
            let draft: Value = resp.json().await.expect("json");
            assert_eq!(draft["summary"]["errors"], 0, "{draft}");
            let resp = s.publish(&p101, draft["id"].as_i64().expect("id")).await;
            assert_eq!(resp.status(), 200);
            let g = s.json("/api/v1/areas/310116101009", None).await;
            assert_eq!(g["name"], name);
        }
        assert_eq!(s.generation().await, 3);
        // The district stayed one and unchanged.
        let d = s.json("/api/v1/generations/1/diff/3", None).await;
        assert_eq!(d["items"].as_array().map(Vec::len), Some(1), "{d}");
    });
}

fn private_reads_need_a_token_of_any_role(db: &TestDb) {
    run(async {
        let config = ServeConfig {
            public_reads: false,
            ..ServeConfig::default()
        };
        let s = start(db, config).await;
        let (x, y, block) = inner_point();
        let url = format!("/api/v1/lookup?lon={x}&lat={y}");
        problem(s.get(&url).await, 401).await;
        problem(s.get("/api/v1/areas?q=310116").await, 401).await;
        let planner = s.token("planner", &["310116001"]);
        let last_use = || s.store.list_tokens().expect("tokens")[0].last_used_at;
        assert_eq!(last_use(), None);
        let v = s.json(&url, Some(&planner)).await;
        assert_eq!(v["block"]["code"], block.code.as_str());
        // The use is noted in memory, not written in the request, and written by a flush.
        assert_eq!(s.state.token_uses().pending(), 1);
        assert_eq!(last_use(), None);
        assert_eq!(
            s.state.token_uses().flush(s.store.as_ref()).expect("flush"),
            1
        );
        let used = last_use().expect("written by the flush");
        assert!((chrono::Utc::now() - used).num_seconds() < 60, "{used}");
        // Within the minute the token is not noted again.
        s.json(&url, Some(&planner)).await;
        assert_eq!(s.state.token_uses().pending(), 0);
        assert_eq!(s.get("/healthz").await.status(), 200);
    });
}

/// A generation and a draft export as GeoJSON, a Shapefile .zip and a GeoPackage, with a planner
/// token; parameters are checked and named.
fn generations_and_drafts_export_as_files(db: &TestDb) {
    run(async {
        let s = start(db, ServeConfig::default()).await;
        problem(
            s.get("/api/v1/generations/1/export?format=shapefile").await,
            401,
        )
        .await;
        let intake = s.token("intake", &[]);
        problem(
            s.get_as("/api/v1/generations/1/export", Some(&intake))
                .await,
            403,
        )
        .await;
        let planner = s.token("planner", &["310116101"]);
        for (url, param) in [
            ("/api/v1/generations/1/export?format=kml", "format"),
            (
                "/api/v1/generations/1/export?format=gpkg&crs=EPSG:2437",
                "crs",
            ),
            ("/api/v1/generations/1/export?crs=EPSG:4528", "crs"),
            (
                "/api/v1/generations/1/export?format=shapefile&encoding=latin1",
                "encoding",
            ),
            ("/api/v1/generations/x/export", "a"),
        ] {
            let p = problem(s.get_as(url, Some(&planner)).await, 400).await;
            assert!(p.to_string().contains(param), "{url}: {p}");
        }
        problem(
            s.get_as("/api/v1/generations/9/export", Some(&planner))
                .await,
            404,
        )
        .await;
        let fetch = |url: String| {
            let planner = planner.clone();
            let s = &s;
            async move {
                let r = s.get_as(&url, Some(&planner)).await;
                assert_eq!(r.status(), 200, "{url}");
                let ct = r.headers()["content-type"].to_str().expect("ct").to_owned();
                let cd = r.headers()["content-disposition"]
                    .to_str()
                    .expect("cd")
                    .to_owned();
                (ct, cd, r.bytes().await.expect("body").to_vec())
            }
        };
        let (ct, cd, zip) =
            fetch("/api/v1/generations/current/export?format=shapefile&crs=EPSG:4528".into()).await;
        assert_eq!(ct, "application/zip");
        assert!(cd.contains("generation-1.zip"), "{cd}");
        let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip");
        let names: Vec<&str> = archive.file_names().collect();
        assert!(
            names.contains(&"block.dbf") && names.contains(&"road_segment.shp"),
            "{names:?}"
        );
        let (ct, _, gpkg) = fetch("/api/v1/generations/1/export?format=gpkg".into()).await;
        assert_eq!(ct, "application/geopackage+sqlite3");
        assert!(gpkg.starts_with(b"SQLite format 3\0"));
        let (ct, _, json) = fetch("/api/v1/generations/1/export".into()).await;
        assert_eq!(ct, "application/geo+json");
        let set = gridatlas::geo_io::read_slice(&json).expect("the GeoJSON export reads");
        assert_eq!(set.len(), s.store.load_generation(1).expect("g1").len());
        // A draft, as uploaded.
        let r = s
            .client
            .post(format!("{}/api/v1/drafts", s.base))
            .header("content-type", "application/geo+json")
            .bearer_auth(&planner)
            .body(street_upload("310116101", None))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 201);
        let d: Value = r.json().await.expect("json");
        let id = d["id"].as_i64().expect("id");
        let (ct, cd, zip) = fetch(format!(
            "/api/v1/drafts/{id}/export?format=shapefile&encoding=utf-8"
        ))
        .await;
        assert_eq!(ct, "application/zip");
        assert!(cd.contains(&format!("draft-{id}.zip")), "{cd}");
        let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip");
        assert!(archive.file_names().any(|n| n == "street.cpg"));
        let other = s.token("planner", &["310116102"]);
        problem(
            s.get_as(&format!("/api/v1/drafts/{id}/export"), Some(&other))
                .await,
            403,
        )
        .await;
    });
}

/// Every answer of the write side read back into its wire type (`deny_unknown_fields`: a member
/// the type forgets fails) and pinned by a snapshot, the same on both stores.
fn write_side_answers_are_typed_and_pinned(db: &TestDb) {
    use gridatlas::wire::cases::{CaseList, CaseView, Categories, IndicatorsReport};
    use gridatlas::wire::drafts::{
        Diff, DraftCreated, DraftReport, DraftView, FindingsCollection, Generations, Published,
    };
    fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> T {
        let t: T = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v:#}"));
        assert_eq!(&serde_json::to_value(&t).expect("json"), v, "round trip");
        t
    }
    run(async {
        let s = start(db, ServeConfig::default()).await;
        let admin = s.token("admin", &[]);
        let street = "310116101";
        let grid = street_features(street, None)
            .into_iter()
            .find(|f| f["properties"]["layer"] == "resident_grid")
            .expect("a grid");
        let code = grid["properties"]["code"]
            .as_str()
            .expect("code")
            .to_owned();
        let r = s
            .upload(&admin, "", street_upload(street, Some((&code, "改名网格"))))
            .await;
        assert_eq!(r.status(), 201);
        let created: Value = r.json().await.expect("json");
        let d: DraftCreated = typed(&created);
        insta::assert_json_snapshot!("draft_created", created, {".id" => "[id]", ".report" => "[url]"});
        let view = s
            .json(&format!("/api/v1/drafts/{}", d.id), Some(&admin))
            .await;
        typed::<DraftView>(&view);
        insta::assert_json_snapshot!("draft_view", view, {
            ".id" => "[id]", ".report" => "[url]", ".created_at" => "[time]", ".created_by" => "[token]"
        });
        let report = s
            .json(
                &format!("/api/v1/drafts/{}/report?limit=5", d.id),
                Some(&admin),
            )
            .await;
        typed::<DraftReport>(&report);
        insta::assert_json_snapshot!("draft_report", report, {
            ".draft" => "[id]", ".report.summary.time_ms" => "[ms]"
        });
        let geo = s
            .json(
                &format!("/api/v1/drafts/{}/report?format=geojson", d.id),
                Some(&admin),
            )
            .await;
        typed::<FindingsCollection>(&geo);
        let r = s
            .client
            .post(format!("{}/api/v1/drafts/{}/publish", s.base, d.id))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("publish");
        assert_eq!(r.status(), 200);
        let published: Value = r.json().await.expect("json");
        let p: Published = typed(&published);
        assert_eq!(p.generation, 2);
        insta::assert_json_snapshot!("published", published, {
            ".info.created_at" => "[time]", ".info.created_by" => "[token]", ".info.draft_id" => "[id]"
        });
        let gens = s.json("/api/v1/generations", None).await;
        typed::<Generations>(&gens);
        insta::assert_json_snapshot!("generations", gens, {
            ".items[].created_at" => "[time]", ".items[].created_by" => "[who]", ".items[].draft_id" => "[id]"
        });
        let diff = s.json("/api/v1/generations/1/diff/2", None).await;
        let d: Diff = typed(&diff);
        assert!(
            d.items
                .iter()
                .any(|c| c.code == code && c.fields == ["name"]),
            "{diff:#}"
        );
        insta::assert_json_snapshot!("diff", diff);

        gridatlas::service::setup::bootstrap_categories(s.store.as_ref()).expect("task list");
        let cats = s.json("/api/v1/categories?layer=resident_grid", None).await;
        typed::<Categories>(&cats);
        insta::assert_json_snapshot!("categories_resident_grid", cats);
        let (lon, lat, block) = inner_point();
        let grid_layer = demo()
            .features()
            .iter()
            .find(|f| Some(&f.code) == block.parent.as_ref())
            .expect("the block's grid")
            .layer;
        let all = s.json("/api/v1/categories", None).await;
        let all: Categories = typed(&all);
        let category = all
            .items
            .iter()
            .find(|c| c.layer == grid_layer && c.street.is_none())
            .expect("a district category of the grid's layer")
            .code
            .clone();
        let r = s
            .client
            .post(format!("{}/api/v1/cases", s.base))
            .bearer_auth(&admin)
            .json(
                &json!({"lon": lon, "lat": lat, "category": category, "source": "patrol",
                          "description": "井盖缺失"}),
            )
            .send()
            .await
            .expect("case");
        assert_eq!(r.status(), 201);
        let case: Value = r.json().await.expect("json");
        let v: CaseView = typed(&case);
        assert_eq!(
            v.case.assignment.block.map(|b| b.code),
            Some(block.code.clone())
        );
        insta::assert_json_snapshot!("case_created", case, {
            ".id" => "[id]", ".reported_at" => "[time]", ".created_at" => "[time]",
            ".updated_at" => "[time]", ".due_at" => "[time]", ".assignment.due_at" => "[time]",
            ".created_by" => "[token]", ".events[].at" => "[time]", ".events[].by" => "[token]",
            ".events[].due_at" => "[time]", ".feedback_secret" => "[secret]"
        });
        let list = s.json("/api/v1/cases?limit=5", Some(&admin)).await;
        typed::<CaseList>(&list);
        let ind = s
            .json(&format!("/api/v1/indicators?street={street}"), None)
            .await;
        typed::<IndicatorsReport>(&ind);
    });
}

/// The pictures of every person of the published generation are served, management units' staff
/// included (`/avatars/310116101C01-1.svg` was a 404: only the people of areas were looked at),
/// and a road segment's area answer carries its length: what the map's cards show.
fn avatars_and_segment_lengths_come_from_the_store(db: &TestDb) {
    run(async {
        let s = start(db, ServeConfig::default()).await;
        let units = &demo().management_units;
        let photos: Vec<&str> = units
            .iter()
            .flat_map(|u| &u.people)
            .filter_map(|p| p.photo_url.as_deref())
            .collect();
        assert!(
            !photos.is_empty(),
            "the demo's units have staff with photos"
        );
        for url in photos.iter().take(20) {
            let r = s.get(url).await;
            assert_eq!(r.status(), 200, "{url}");
            assert_eq!(
                r.headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok()),
                Some("image/svg+xml"),
                "{url}"
            );
        }
        assert_eq!(s.get("/avatars/nobody.svg").await.status(), 404);
        let road = demo()
            .layer(gridatlas::model::Layer::RoadSegment)
            .next()
            .expect("a road segment");
        let v = s.json(&format!("/api/v1/areas/{}", road.code), None).await;
        let len = v["length_m"].as_f64().expect("length_m");
        assert!(len > 1.0, "{len}");
    });
}

/// `GET /api/v1/tokens/self` names the token's role and scope and whether it may publish over
/// validation errors (admins only); no or a revoked token is refused with a 401 `unauthorized`.
fn token_self_says_who_may_publish_over_errors(db: &TestDb) {
    run(async {
        let s = start(db, ServeConfig::default()).await;
        let planner = s.token("planner", &["310116101"]);
        let admin = s.token("admin", &[]);
        let intake = s.token("intake", &[]);
        let v = s.json("/api/v1/tokens/self", Some(&planner)).await;
        assert_eq!(v["role"], "planner");
        assert_eq!(v["streets"], json!(["310116101"]));
        assert_eq!(v["may_publish"], true);
        assert_eq!(v["may_publish_over_errors"], false);
        let t: gridatlas::wire::meta::TokenSelf =
            serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}: {v:#}"));
        assert_eq!(serde_json::to_value(&t).expect("json"), v, "round trip");
        let v = s.json("/api/v1/tokens/self", Some(&admin)).await;
        assert_eq!(v["role"], "admin");
        assert_eq!(v["may_publish_over_errors"], true);
        assert_eq!(v["may_publish"], true);
        let v = s.json("/api/v1/tokens/self", Some(&intake)).await;
        assert_eq!(v["role"], "intake");
        assert_eq!(
            (
                v["may_publish"].clone(),
                v["may_publish_over_errors"].clone()
            ),
            (json!(false), json!(false))
        );
        let p = problem(s.get("/api/v1/tokens/self").await, 401).await;
        assert_eq!(p["code"], "unauthorized");
        let p = problem(
            s.get_as("/api/v1/tokens/self", Some("0".repeat(64).as_str()))
                .await,
            401,
        )
        .await;
        assert_eq!(p["code"], "unauthorized");
        let id = s
            .store
            .list_tokens()
            .expect("tokens")
            .iter()
            .find(|t| t.role == "planner")
            .expect("planner")
            .id;
        s.store.revoke_token(id).expect("revoke");
        problem(s.get_as("/api/v1/tokens/self", Some(&planner)).await, 401).await;
    });
}

suite!(
    avatars_and_segment_lengths_come_from_the_store,
    token_self_says_who_may_publish_over_errors,
    drafts_need_tokens_scoped_to_their_streets,
    uploads_cannot_change_what_the_token_does_not_own,
    publish_checks_the_effective_change_again,
    unit_changes_are_counted_and_diffed,
    one_street_uploads_with_or_without_the_district,
    private_reads_need_a_token_of_any_role,
    write_side_answers_are_typed_and_pinned,
    generations_and_drafts_export_as_files,
);
