//! The wire types (`gridatlas::wire`) against real answers of a real server (the demo district
//! as generation 1 of a SQLite store): every hand-rendered answer deserialises into its type
//! (unknown members refused) and re-serialises to the same JSON value; snapshots (insta) of
//! representative answers; the OpenAPI document names a typed body for every read route.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use db::TestDb;
use gridatlas::atlas::Atlas;
use gridatlas::geometry::crs::Crs;
use gridatlas::http::{AppState, ServeConfig};
use gridatlas::model::Layer;
use gridatlas::wire;
use http_support::{demo, problem, run, serve};
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

struct Server {
    base: String,
    client: reqwest::Client,
    store: std::sync::Arc<dyn gridatlas::store::Store>,
    _db: TestDb,
}

async fn start() -> Server {
    let db = TestDb::sqlite();
    let store: std::sync::Arc<dyn gridatlas::store::Store> = std::sync::Arc::from(db.open());
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    gridatlas::http::serve::bootstrap_categories(store.as_ref()).expect("categories");
    let set = store.load_generation(n).expect("load");
    let state = AppState::with_store(
        Atlas::build(set).with_generation(i64::from(n)),
        ServeConfig::default(),
        Some(store.clone()),
    );
    Server {
        base: serve(state).await,
        client: reqwest::Client::new(),
        store,
        _db: db,
    }
}

impl Server {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    async fn json(&self, path: &str) -> Value {
        let resp = self.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        resp.json().await.expect("json")
    }

    async fn post(&self, path: &str, ctype: &str, body: String) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .expect("post")
    }
}

/// `v` deserialises into `T` and serialises back to the same JSON value.
fn round_trip<T: DeserializeOwned + Serialize>(v: &Value) -> T {
    let typed: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{} refuses {v}: {e}", std::any::type_name::<T>()));
    assert_eq!(
        &serde_json::to_value(&typed).expect("serialise"),
        v,
        "{} changes the value",
        std::any::type_name::<T>()
    );
    typed
}

/// Points of every kind of placement in the demo district: inside blocks, on block edges
/// (vertices), on road segments, in grids with management units, and random points over the
/// territory and beyond (gaps, fallbacks, outside).
fn demo_points() -> Vec<(f64, f64)> {
    let set = demo();
    let mut points = Vec::new();
    for (i, b) in set
        .layer(Layer::Block)
        .enumerate()
        .filter(|(i, _)| i % 9 == 0)
    {
        let area = b.geometry.as_area().expect("area");
        let p = geo::InteriorPoint::interior_point(area).expect("interior");
        points.push((p.x(), p.y()));
        if let Some(c) = area.0.first().and_then(|p| p.exterior().0.get(i % 3)) {
            points.push((c.x, c.y));
        }
    }
    for r in set.layer(Layer::RoadSegment).step_by(11) {
        let line = r.geometry.as_line().expect("line");
        if let Some(c) = line.0.first().and_then(|l| l.0.get(1)) {
            points.push((c.x, c.y));
        }
    }
    for u in &set.management_units {
        for g in u.grids.iter().take(2) {
            let grid = set.get(g).expect("grid of a unit");
            let area = grid.geometry.as_area().expect("area");
            let p = geo::InteriorPoint::interior_point(area).expect("interior");
            points.push((p.x(), p.y()));
        }
    }
    let atlas = Atlas::build(set.clone());
    let bbox = atlas.territory_bbox().expect("bbox");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    for _ in 0..300 {
        let (w, h) = (bbox.width() * 1.2, bbox.height() * 1.2);
        points.push((
            bbox.min().x - bbox.width() * 0.1 + rng.random::<f64>() * w,
            bbox.min().y - bbox.height() * 0.1 + rng.random::<f64>() * h,
        ));
    }
    points
}

/// Every single, batch and NDJSON lookup answer of the demo points deserialises into its wire
/// type and re-serialises to the same value; the points reach every kind of answer.
#[test]
fn lookup_answers_round_trip_through_the_wire_types() {
    run(async {
        let s = start().await;
        let points = demo_points();
        let mut fallbacks = std::collections::BTreeSet::new();
        let (mut units, mut roads, mut heads, mut attributes) = (0, 0, 0, 0);
        for (i, &(x, y)) in points.iter().enumerate() {
            let mut queries = vec![format!("lon={x}&lat={y}")];
            if i % 5 == 0 {
                let (gx, gy) = Crs::Gcj02.from_wgs84(x, y);
                let (bx, by) = Crs::Bd09.from_wgs84(x, y);
                queries.push(format!("lon={gx}&lat={gy}&crs=gcj02"));
                queries.push(format!("lon={bx}&lat={by}&crs=BD-09"));
                queries.push(format!("lon={x}&lat={y}&at=1"));
            }
            for q in queries {
                let v = s.json(&format!("/api/v1/lookup?{q}")).await;
                let p: wire::lookup::Placement = round_trip(&v);
                fallbacks.insert(format!("{:?}", p.fallback));
                units += usize::from(!p.management_units.is_empty());
                roads += usize::from(!p.road_segments.is_empty());
                heads += usize::from(p.block_head.is_some());
                attributes += usize::from(
                    [&p.district, &p.street, &p.grid, &p.block]
                        .iter()
                        .any(|a| a.as_ref().is_some_and(|a| !a.attributes.is_empty())),
                );
            }
        }
        for f in ["None", "Some(Nearest)", "Some(Outside)"] {
            assert!(fallbacks.contains(f), "no {f} among {fallbacks:?}");
        }
        assert!(
            units > 0 && roads > 0 && heads > 0,
            "{units} {roads} {heads}"
        );
        eprintln!("placements with attributes: {attributes}");

        // A JSON batch, with a point out of range.
        let mut batch: Vec<[f64; 2]> = points.iter().map(|&(x, y)| [x, y]).collect();
        batch.push([200.0, 31.0]);
        let body = json!({"crs": "wgs84", "points": batch}).to_string();
        let resp = s.post("/api/v1/lookup", "application/json", body).await;
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.expect("json");
        let b: wire::lookup::BatchResponse = round_trip(&v);
        assert_eq!(b.results.len(), batch.len());
        assert!(matches!(
            b.results.last(),
            Some(wire::lookup::BatchItem::Failed(_))
        ));
        assert!(
            b.results[..points.len()]
                .iter()
                .all(|r| matches!(r, wire::lookup::BatchItem::Placed(_)))
        );
        // The same in GCJ-02.
        let gcj: Vec<[f64; 2]> = points
            .iter()
            .take(50)
            .map(|&(x, y)| {
                let (a, b) = Crs::Gcj02.from_wgs84(x, y);
                [a, b]
            })
            .collect();
        let body = json!({"crs": "gcj02", "points": gcj}).to_string();
        let v: Value = s
            .post("/api/v1/lookup", "application/json", body)
            .await
            .json()
            .await
            .expect("json");
        round_trip::<wire::lookup::BatchResponse>(&v);

        // NDJSON: points, GCJ-02 objects, a bad line, then a line too long ending the stream.
        let mut body = String::new();
        for (i, &(x, y)) in points.iter().enumerate() {
            if i % 2 == 0 {
                body.push_str(&format!("[{x},{y}]\n"));
            } else {
                let (gx, gy) = Crs::Gcj02.from_wgs84(x, y);
                body.push_str(&format!(
                    "{{\"lon\":{gx},\"lat\":{gy},\"crs\":\"gcj02\"}}\n"
                ));
            }
        }
        body.push_str("not json\n[1, 2, 3]\n");
        body.push_str(&format!("[{}]\n", " ".repeat(5000)));
        let resp = s
            .post("/api/v1/lookup?crs=wgs84", "application/x-ndjson", body)
            .await;
        assert_eq!(resp.status(), 200);
        let text = resp.text().await.expect("text");
        let lines: Vec<wire::lookup::NdjsonLine> = text
            .lines()
            .map(|l| round_trip(&serde_json::from_str(l).expect("json line")))
            .collect();
        let count =
            |f: fn(&wire::lookup::NdjsonLine) -> bool| lines.iter().filter(|l| f(l)).count();
        assert_eq!(
            count(|l| matches!(l, wire::lookup::NdjsonLine::Placed(_))),
            points.len()
        );
        assert_eq!(
            count(|l| matches!(l, wire::lookup::NdjsonLine::Failed(_))),
            2
        );
        assert!(matches!(
            lines.last(),
            Some(wire::lookup::NdjsonLine::End(_))
        ));
    });
}

/// Areas (search, one with geometry, children), config, TileJSON and readiness round-trip
/// through their wire types; problems through `Problem`.
#[test]
fn other_read_answers_round_trip_through_the_wire_types() {
    run(async {
        let s = start().await;
        for q in [
            "",
            "?layer=block&limit=20&geometry=1",
            "?layer=road_segment&limit=5&geometry=true",
            "?q=%E6%9D%91&limit=30",
        ] {
            let v = s.json(&format!("/api/v1/areas{q}")).await;
            let page: wire::areas::AreaPage = round_trip(&v);
            for a in page.items.iter().take(5) {
                let v = s
                    .json(&format!("/api/v1/areas/{}?geometry=1", a.code))
                    .await;
                round_trip::<wire::areas::AreaDetail>(&v);
                let v = s
                    .json(&format!("/api/v1/areas/{}/children?geometry=1", a.code))
                    .await;
                round_trip::<wire::areas::AreaChildren>(&v);
            }
        }
        let district = demo().layer(Layer::District).next().expect("district");
        for q in ["", "?geometry=0"] {
            let v = s.json(&format!("/api/v1/areas/{}{q}", district.code)).await;
            round_trip::<wire::areas::AreaDetail>(&v);
            let v = s
                .json(&format!("/api/v1/areas/{}/children{q}", district.code))
                .await;
            round_trip::<wire::areas::AreaChildren>(&v);
        }
        let grid = &demo().management_units[0].grids[0];
        let v = s.json(&format!("/api/v1/areas/{grid}")).await;
        let d: wire::areas::AreaDetail = round_trip(&v);
        assert!(!d.management_units.is_empty());
        round_trip::<wire::meta::Config>(&s.json("/api/v1/config").await);
        round_trip::<wire::tiles::TileJson>(&s.json("/api/v1/tiles.json").await);
        round_trip::<wire::meta::Readiness>(&s.json("/readyz").await);
        for (path, status) in [
            ("/api/v1/lookup?lon=x&lat=31", 400),
            ("/api/v1/lookup?lat=31", 400),
            ("/api/v1/lookup?lon=121.4&lat=31&at=99", 404),
            ("/api/v1/areas?limit=5000", 400),
            ("/api/v1/areas?layer=nope", 400),
            ("/api/v1/areas/NOPE", 404),
            ("/api/v1/tiles/99/0/0.mvt", 400),
        ] {
            let v = problem(s.get(path).await, status).await;
            round_trip::<wire::problem::Problem>(&v);
        }
    });
}

/// Snapshots of representative answers (tests/snapshots/wire__*.snap).
#[test]
fn snapshots_of_read_answers() {
    run(async {
        let s = start().await;
        let set = demo();
        let block = set.layer(Layer::Block).nth(100).expect("blocks");
        let p = geo::InteriorPoint::interior_point(block.geometry.as_area().expect("area"))
            .expect("interior");
        let (x, y) = (p.x(), p.y());
        // The GCJ-02 conversions (trigonometry, iterated inverse) are rounded: their last digits
        // may differ between platforms' maths libraries.
        insta::assert_json_snapshot!(
            "lookup",
            s.json(&format!("/api/v1/lookup?lon={x}&lat={y}")).await,
            {".gcj02[]" => insta::rounded_redaction(7)}
        );
        let (gx, gy) = Crs::Gcj02.from_wgs84(x, y);
        let body = json!({"crs": "gcj02", "points": [[gx, gy], [121.0, 20.0], [181.0, 0.0]]});
        let resp = s
            .post("/api/v1/lookup", "application/json", body.to_string())
            .await;
        insta::assert_json_snapshot!(
            "batch",
            resp.json::<Value>().await.expect("json"),
            {".results[].lon" => insta::rounded_redaction(7), ".results[].lat" => insta::rounded_redaction(7)}
        );
        insta::assert_json_snapshot!(
            "areas_search",
            s.json("/api/v1/areas?layer=street&limit=3").await
        );
        let road = set.layer(Layer::RoadSegment).next().expect("a road");
        // a road segment has a length (its card shows it), an area has none
        let detail = s.json(&format!("/api/v1/areas/{}", road.code)).await;
        let len = detail["length_m"]
            .as_f64()
            .expect("length_m of a road segment");
        let line = road.geometry.as_line().expect("a line");
        let expected = gridatlas::geometry::measure::length_m(line);
        assert!(
            len > 1.0 && (len - expected).abs() <= 0.05,
            "{len} vs {expected}"
        );
        assert_eq!(detail["area_m2"], Value::Null);
        insta::assert_json_snapshot!(
            "area_road_with_geometry",
            s.json(&format!("/api/v1/areas/{}?geometry=1", road.code))
                .await
        );
        insta::assert_json_snapshot!(
            "area_block",
            s.json(&format!("/api/v1/areas/{}", block.code)).await
        );
        let parent = block.parent.as_deref().expect("parent");
        insta::assert_json_snapshot!(
            "area_children",
            s.json(&format!("/api/v1/areas/{parent}/children")).await
        );
        insta::assert_json_snapshot!("config", s.json("/api/v1/config").await);
        insta::assert_json_snapshot!("tilejson", s.json("/api/v1/tiles.json").await);
        for (name, path, status) in [
            ("problem_lon", "/api/v1/lookup?lon=abc&lat=31", 400),
            ("problem_crs", "/api/v1/lookup?lon=121&lat=31&crs=utm", 400),
            ("problem_limit", "/api/v1/areas?limit=x", 400),
            ("problem_unknown_area", "/api/v1/areas/NOPE", 404),
        ] {
            insta::assert_json_snapshot!(name, problem(s.get(path).await, status).await);
        }
        let resp = s.post("/api/v1/lookup", "text/csv", "1,2".into()).await;
        insta::assert_json_snapshot!("problem_media_type", problem(resp, 415).await);
    });
}

/// The OpenAPI document names a typed body (a schema reference) for every success answer of the
/// read routes, and the GeoJSON geometry schema.
#[test]
fn openapi_names_typed_read_responses() {
    run(async {
        let s = start().await;
        let doc = s.json("/api/v1/openapi.json").await;
        for (path, method, schema) in [
            ("/api/v1/lookup", "get", "Placement"),
            ("/api/v1/lookup", "post", "BatchResponse"),
            ("/api/v1/areas", "get", "AreaPage"),
            ("/api/v1/areas/{code}", "get", "AreaDetail"),
            ("/api/v1/areas/{code}/children", "get", "AreaChildren"),
            ("/api/v1/tiles.json", "get", "TileJson"),
            ("/api/v1/config", "get", "Config"),
            ("/readyz", "get", "Readiness"),
        ] {
            let r = &doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
                ["schema"]["$ref"];
            assert_eq!(
                r.as_str(),
                Some(format!("#/components/schemas/{schema}").as_str()),
                "{method} {path}"
            );
        }
        let geometry = &doc["components"]["schemas"]["AreaSummary"]["properties"]["geometry"];
        assert!(
            geometry.to_string().contains("GeoJsonGeometry"),
            "{geometry}"
        );
        assert!(doc["components"]["schemas"]["GeoJsonGeometry"]["oneOf"].is_array());
        let lookup_params: Vec<&str> = doc["paths"]["/api/v1/lookup"]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert_eq!(lookup_params, ["lon", "lat", "crs", "at"]);
    });
}

/// Open311 GeoReport v2 JSON answers (services, a service definition, a posted request, request
/// lists public and full, errors) round-trip through `wire::open311`; snapshots of the services
/// and of a request list, with the volatile members (ids, times) redacted.
#[test]
fn open311_answers_round_trip_through_the_wire_types() {
    use wire::open311::{Open311Error, PostedRequest, Service, ServiceDefinition, ServiceRequest};
    run(async {
        let s = start().await;
        let intake = gridatlas::http::auth::new_secret();
        s.store.create_token("intake", &[], &intake).expect("token");
        let services: Vec<Service> = round_trip(&s.json("/open311/v2/services.json").await);
        assert!(!services.is_empty());
        insta::assert_json_snapshot!(
            "open311_services",
            s.json("/open311/v2/services.json").await
        );
        let code = services[0].service_code.clone();
        round_trip::<ServiceDefinition>(
            &s.json(&format!("/open311/v2/services/{code}.json")).await,
        );
        let block = demo().layer(Layer::Block).nth(100).expect("blocks");
        let p = geo::InteriorPoint::interior_point(block.geometry.as_area().expect("area"))
            .expect("interior");
        let (lat, lon) = (p.y().to_string(), p.x().to_string());
        let resp = s
            .client
            .post(format!("{}/open311/v2/requests.json", s.base))
            .form(&[
                ("api_key", intake.as_str()),
                ("service_code", code.as_str()),
                ("lat", lat.as_str()),
                ("long", lon.as_str()),
                ("description", "门口堆物"),
                ("media_url", "https://example.org/p/1.jpg"),
                ("account_id", "a-1"),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 201);
        let posted: Vec<PostedRequest> = round_trip(&resp.json().await.expect("json"));
        let id = &posted[0].service_request_id;
        let public: Vec<ServiceRequest> = round_trip(&s.json("/open311/v2/requests.json").await);
        assert!(public.iter().all(|r| r.description.is_none()));
        let full: Vec<ServiceRequest> = round_trip(
            &s.json(&format!("/open311/v2/requests/{id}.json?api_key={intake}"))
                .await,
        );
        assert_eq!(full[0].description.as_deref(), Some("门口堆物"));
        insta::assert_json_snapshot!(
            "open311_requests",
            s.json("/open311/v2/requests.json").await,
            {
                "[].service_request_id" => "[id]",
                "[].requested_datetime" => "[time]",
                "[].updated_datetime" => "[time]",
                "[].expected_datetime" => "[time]",
            }
        );
        for (path, status) in [
            ("/open311/v2/services/NOPE.json", 404),
            ("/open311/v2/requests/999999.json", 404),
            ("/open311/v2/services.json?jurisdiction_id=1", 404),
        ] {
            let resp = s.get(path).await;
            assert_eq!(resp.status().as_u16(), status, "{path}");
            round_trip::<Vec<Open311Error>>(&resp.json().await.expect("json"));
        }
    });
}

/// What the OpenAPI document says of the parameters the server parses itself is what the parsers
/// take, so that a client (or a generator of requests, as scripts/test-openapi's) sends valid
/// ones: every schema reference resolves; every `Idempotency-Key` header has the pattern of
/// `service::idempotency::parse_key`; the ids of cases, photos and reviews start at 1, as their
/// parsers do; the time bounds of the field, case and indicator queries are [`wire::TimeOrDate`],
/// and each form of it parses; a person's GPX and geofence need `staff`.
#[test]
fn openapi_parameters_state_what_the_server_parses() {
    run(async {
        let s = start().await;
        let doc = s.json("/api/v1/openapi.json").await;
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let refs = regex::Regex::new(r##""\$ref":"#/components/schemas/([^"]+)""##).expect("re");
        let mut seen = 0;
        for c in refs.captures_iter(&text) {
            assert!(
                schemas.contains_key(&c[1]),
                "unresolved reference to {}",
                &c[1]
            );
            seen += 1;
        }
        assert!(seen > 100, "{seen} references");

        let ops: Vec<(&str, &str, &serde_json::Value)> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flatten()
                    .map(move |(method, op)| (path.as_str(), method.as_str(), op))
            })
            .collect();
        let params = |op: &serde_json::Value| -> Vec<serde_json::Value> {
            op["parameters"].as_array().cloned().unwrap_or_default()
        };

        // Idempotency-Key: the pattern decides as parse_key does, for every value a header can
        // carry (HTTP drops the spaces around a field value, RFC 9110 §5.5, so none are tried).
        let mut keyed = 0;
        for (path, method, op) in &ops {
            for p in params(op).iter().filter(|p| p["name"] == "Idempotency-Key") {
                keyed += 1;
                let schema = &p["schema"];
                assert_eq!(schema["maxLength"], 128, "{method} {path}");
                let re = regex::Regex::new(schema["pattern"].as_str().expect("pattern"))
                    .expect("pattern compiles");
                let long = "k".repeat(128);
                let longer = "k".repeat(129);
                for key in [
                    "a",
                    "0",
                    "~",
                    "a b",
                    "a  b",
                    "550e8400-e29b-41d4-a716-446655440000",
                    &long,
                    &longer,
                    "",
                    "a\tb",
                    "ключ",
                    "键",
                    "a\u{7f}",
                ] {
                    let parsed = gridatlas::service::idempotency::parse_key(key.as_bytes()).is_ok();
                    assert_eq!(re.is_match(key), parsed, "{method} {path}: key {key:?}");
                }
            }
        }
        assert_eq!(keyed, 5, "operations taking an Idempotency-Key");

        // Ids: the document's minimum is the parsers' first id.
        for (path, method, op) in &ops {
            for p in params(op) {
                let name = p["name"].as_str().unwrap_or_default();
                let parser: Option<fn(&str) -> bool> = match (name, path) {
                    ("id", p) if p.starts_with("/api/v1/cases/") => {
                        Some(|s| gridatlas::service::cases::case_id(s).is_ok())
                    }
                    ("case_id", _) => Some(|s| gridatlas::service::cases::case_id(s).is_ok()),
                    ("photo", _) => Some(|s| gridatlas::service::photos::photo_id(s).is_ok()),
                    ("id", p) if p.starts_with("/api/v1/reviews/") => {
                        Some(|s| gridatlas::service::review::review_id(s).is_ok())
                    }
                    _ => None,
                };
                let Some(parses) = parser else { continue };
                assert_eq!(p["schema"]["minimum"], 1, "{method} {path} {name}");
                assert!(parses("1") && !parses("0"), "{method} {path} {name}");
            }
        }

        // Time bounds: TimeOrDate wherever the server takes either form, and both forms parse.
        for (path, names) in [
            ("/api/v1/coverage", &["from", "to"][..]),
            ("/api/v1/tracks", &["from", "to"]),
            ("/api/v1/tracks.gpx", &["from", "to"]),
            ("/api/v1/geofence", &["from", "to"]),
            ("/api/v1/checkins", &["from", "to"]),
            ("/api/v1/cases", &["from", "to"]),
            ("/api/v1/indicators", &["from", "to", "as_of"]),
            ("/api/v1/ranking", &["from", "to", "as_of"]),
        ] {
            let got: Vec<String> = params(&doc["paths"][path]["get"])
                .iter()
                .filter(|p| p["schema"]["$ref"] == "#/components/schemas/TimeOrDate")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            assert_eq!(got, names, "{path}");
        }
        let forms: Vec<&str> = schemas["TimeOrDate"]["anyOf"]
            .as_array()
            .expect("anyOf")
            .iter()
            .filter_map(|f| f["format"].as_str())
            .collect();
        assert_eq!(forms, ["date-time", "date"]);
        let utc8 = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
        for t in ["2026-12-04T08:30:00+08:00", "2026-12-04"] {
            let parsed = gridatlas::service::cases::time_param("from", Some(t), utc8);
            assert!(matches!(parsed, Ok(Some(_))), "{t}: {parsed:?}");
        }

        // Coordinate systems: the asset registers' and lookups' `crs` is CrsName, and every
        // name of it is one the parser takes.
        let crs_ref = "#/components/schemas/CrsName";
        for (path, method) in [
            ("/api/v1/components", "post"),
            ("/api/v1/components", "put"),
            ("/api/v1/shops", "post"),
            ("/api/v1/shops", "put"),
            ("/api/v1/components/near", "get"),
        ] {
            let crs = params(&doc["paths"][path][method])
                .into_iter()
                .find(|p| p["name"] == "crs")
                .expect("crs");
            assert_eq!(crs["schema"]["$ref"], crs_ref, "{method} {path}");
        }
        let names = schemas["CrsName"]["enum"].as_array().expect("enum");
        assert_eq!(names.len(), 4);
        for n in names {
            let n = n.as_str().expect("name");
            assert!(
                gridatlas::service::field::crs_param("crs", Some(n)).is_ok(),
                "{n}"
            );
        }

        for path in ["/api/v1/tracks.gpx", "/api/v1/geofence"] {
            let staff = params(&doc["paths"][path]["get"])
                .into_iter()
                .find(|p| p["name"] == "staff")
                .expect("staff");
            assert_eq!(staff["required"], true, "{path}");
        }

        // File bodies: the calendar and the task list are described member by member, and the
        // example files shipped with gridatlas (which the server takes) use only members the
        // schemas name, with every required one present.
        let body_ref = |path: &str| {
            doc["paths"][path]["put"]["requestBody"]["content"]["application/json"]["schema"]
                ["$ref"]
                .as_str()
                .map(str::to_owned)
        };
        assert_eq!(
            body_ref("/api/v1/calendar").as_deref(),
            Some("#/components/schemas/CalendarFile")
        );
        assert_eq!(
            body_ref("/api/v1/categories").as_deref(),
            Some("#/components/schemas/TaskListFile")
        );
        fn conforms(
            v: &serde_json::Value,
            schema: &serde_json::Value,
            all: &serde_json::Value,
            at: &str,
        ) {
            let schema = match schema["$ref"].as_str() {
                Some(r) => &all[r.trim_start_matches("#/components/schemas/")],
                None => schema,
            };
            let Some(props) = schema["properties"].as_object() else {
                return;
            };
            let obj = v
                .as_object()
                .unwrap_or_else(|| panic!("{at}: not an object"));
            for k in obj.keys() {
                assert!(props.contains_key(k), "{at}: member {k} not in the schema");
            }
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().expect("name");
                assert!(obj.contains_key(r), "{at}: required {r} missing");
            }
            for (k, sub) in obj {
                let p = &props[k];
                let items = if p["items"].is_object() {
                    Some(&p["items"])
                } else {
                    None
                };
                match (sub, items) {
                    (serde_json::Value::Array(xs), Some(item)) => {
                        for (i, x) in xs.iter().enumerate() {
                            conforms(x, item, all, &format!("{at}.{k}[{i}]"));
                        }
                    }
                    (serde_json::Value::Object(_), _) => {
                        conforms(sub, p, all, &format!("{at}.{k}"))
                    }
                    _ => {}
                }
            }
        }
        let all = &doc["components"]["schemas"];
        for (file, schema) in [
            ("fixtures/calendar.example.json", "CalendarFile"),
            ("fixtures/task-list.example.json", "TaskListFile"),
        ] {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(file).expect("example file"))
                    .expect("JSON");
            conforms(&v, &all[schema], all, file);
        }
        assert_eq!(
            all["TaskListGroup"]["required"],
            serde_json::json!(["code", "name_zh", "layer", "list", "items"])
        );
        assert_eq!(
            all["CalendarFile"]["required"],
            serde_json::json!(["utc_offset_h", "work_hours"])
        );
    });
}
