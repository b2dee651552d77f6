//! The HTTP API driven over real HTTP: a real server on an ephemeral loopback port, reqwest as the
//! client, the demo district as data.

use gridatlas::atlas::Atlas;
use gridatlas::geometry::crs::Crs;
use gridatlas::http::{AppState, ServeConfig, router};
use gridatlas::model::{FeatureSet, Layer, Role};
use serde_json::{Value, json};
use std::sync::OnceLock;

fn demo() -> &'static FeatureSet {
    static SET: OnceLock<FeatureSet> = OnceLock::new();
    SET.get_or_init(|| {
        gridatlas::geo_io::read_path(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/demo-district.geojson"
        )))
        .expect("demo fixture")
    })
}

struct Server {
    base: String,
    client: reqwest::Client,
}

async fn start(config: ServeConfig) -> Server {
    let state = AppState::new(Atlas::build(demo().clone()).with_generation(1), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
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
}

/// A point well inside a block of the demo district, and that block.
fn inner_point() -> (f64, f64, &'static gridatlas::model::Feature) {
    let set = demo();
    let block = set.layer(Layer::Block).nth(100).expect("blocks");
    let area = block.geometry.as_area().expect("area");
    let p = geo::InteriorPoint::interior_point(area).expect("interior point");
    (p.x(), p.y(), block)
}

async fn problem(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let v: Value = resp.json().await.expect("json");
    assert!(
        v["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("urn:gridatlas:problem:")),
        "{v}"
    );
    assert_eq!(v["status"], status);
    v
}

#[tokio::test]
async fn lookup_returns_the_block_and_its_head() {
    let s = start(ServeConfig::default()).await;
    let (x, y, block) = inner_point();
    let resp = s.get(&format!("/api/v1/lookup?lon={x}&lat={y}")).await;
    // API answers, the fast path's included, carry nosniff as the web map's files do.
    assert_eq!(
        resp.headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["block"]["code"], block.code.as_str());
    let nosniff = s.get("/api/v1/areas/nope").await;
    assert_eq!(
        nosniff
            .headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );
    let head = block.person(Role::BlockHead).expect("head");
    assert_eq!(v["block_head"]["name"], head.name.as_str());
    assert_eq!(v["fallback"], Value::Null);
    assert_eq!(v["generation"], 1);
    assert_eq!(v["street"]["layer"], "street");
    assert_eq!(v["district"]["code"], "310116");
}

#[tokio::test]
async fn gcj02_and_bd09_points_land_on_the_same_block() {
    let s = start(ServeConfig::default()).await;
    let (x, y, block) = inner_point();
    for crs in [Crs::Gcj02, Crs::Bd09] {
        let (gx, gy) = crs.from_wgs84(x, y);
        let v: Value = s
            .get(&format!("/api/v1/lookup?lon={gx}&lat={gy}&crs={crs}"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["block"]["code"], block.code.as_str(), "{crs}");
        assert!((v["lon"].as_f64().expect("lon") - x).abs() < 1e-8);
        assert_eq!(v["input"]["crs"], crs.as_str());
    }
    // Without conversion the shifted point is hundreds of metres off: another block.
    let (gx, gy) = Crs::Gcj02.from_wgs84(x, y);
    let v: Value = s
        .get(&format!("/api/v1/lookup?lon={gx}&lat={gy}"))
        .await
        .json()
        .await
        .expect("json");
    assert_ne!(v["block"]["code"], block.code.as_str());
}

#[tokio::test]
async fn bad_parameters_are_problems_naming_the_parameter() {
    let s = start(ServeConfig::default()).await;
    for (q, param) in [
        ("lat=30.8", "lon"),
        ("lon=abc&lat=30.8", "lon"),
        ("lon=121.2&lat=95", "lat"),
        ("lon=121.2&lat=NaN", "lat"),
        ("lon=121.2&lat=30.8&crs=mercator", "crs"),
    ] {
        let v = problem(s.get(&format!("/api/v1/lookup?{q}")).await, 400).await;
        assert_eq!(v["parameter"], param, "{q}: {v}");
        assert!(
            v["detail"].as_str().is_some_and(|d| d.contains(param)),
            "{v}"
        );
    }
    let v = problem(s.get("/api/v1/areas?layer=grid").await, 400).await;
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("resident_grid"))
    );
    problem(s.get("/api/v1/areas/999999").await, 404).await;
    problem(s.get("/api/v1/nothing-here").await, 404).await;
    problem(s.get("/api/v1/tiles/25/0/0.mvt").await, 400).await;
    problem(s.get("/api/v1/tiles/3/9/0.mvt").await, 400).await;
}

#[tokio::test]
async fn batch_lookups_keep_order_and_agree_with_single_lookups() {
    let s = start(ServeConfig {
        max_batch_points: 2_000,
        max_body_bytes: 1 << 20,
        ..ServeConfig::default()
    })
    .await;
    let (x, y, _) = inner_point();
    let points: Vec<[f64; 2]> = (0..1000)
        .map(|i| {
            [
                x + (i as f64) * 1e-4 - 0.05,
                y + ((i * 7 % 13) as f64) * 1e-4,
            ]
        })
        .collect();
    let resp = s
        .client
        .post(format!("{}/api/v1/lookup", s.base))
        .json(&json!({"points": points}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("json");
    let results = v["results"].as_array().expect("results");
    assert_eq!(results.len(), 1000);
    for i in [0usize, 1, 500, 999] {
        let [px, py] = points[i];
        let single: Value = s
            .get(&format!("/api/v1/lookup?lon={px}&lat={py}"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(results[i]["block"], single["block"]["code"], "point {i}");
        assert_eq!(results[i]["street"], single["street"]["code"], "point {i}");
    }
    // An out-of-range point gets an error in place; the others are answered.
    let resp = s
        .client
        .post(format!("{}/api/v1/lookup", s.base))
        .json(&json!({"points": [[x, y], [500.0, 1.0]]}))
        .send()
        .await
        .expect("post");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["results"][1]["index"], 1);
    assert!(
        v["results"][1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("longitude"))
    );
    assert!(v["results"][0]["block"].is_string());

    // 413: too many points; 413: body over the limit; 415: wrong media type; 422 / 400.
    let many: Vec<[f64; 2]> = vec![[x, y]; 2_001];
    let v = problem(
        s.client
            .post(format!("{}/api/v1/lookup", s.base))
            .json(&json!({"points": many}))
            .send()
            .await
            .expect("post"),
        413,
    )
    .await;
    assert!(v["detail"].as_str().is_some_and(|d| d.contains("2000")));
    let huge = format!(
        "{{\"points\": [{}]}}",
        vec!["[121.2,30.8]"; 100_000].join(",")
    );
    problem(
        s.client
            .post(format!("{}/api/v1/lookup", s.base))
            .header("content-type", "application/json")
            .body(huge)
            .send()
            .await
            .expect("post"),
        413,
    )
    .await;
    problem(
        s.client
            .post(format!("{}/api/v1/lookup", s.base))
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .expect("post"),
        415,
    )
    .await;
    problem(
        s.client
            .post(format!("{}/api/v1/lookup", s.base))
            .json(&json!({"pts": []}))
            .send()
            .await
            .expect("post"),
        422,
    )
    .await;
    problem(
        s.client
            .post(format!("{}/api/v1/lookup", s.base))
            .header("content-type", "application/json")
            .body("{\"points\": [")
            .send()
            .await
            .expect("post"),
        400,
    )
    .await;
}

#[tokio::test]
async fn ndjson_streams_one_answer_per_line() {
    let s = start(ServeConfig::default()).await;
    let (x, y, block) = inner_point();
    let (gx, gy) = Crs::Gcj02.from_wgs84(x, y);
    let body =
        format!("[{x},{y}]\n{{\"lon\":{gx},\"lat\":{gy},\"crs\":\"gcj02\"}}\nnot json\n\n[1,2]");
    let resp = s
        .client
        .post(format!("{}/api/v1/lookup", s.base))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/x-ndjson")
    );
    let text = resp.text().await.expect("text");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(lines[0]["block"], block.code.as_str());
    assert_eq!(lines[1]["block"], block.code.as_str());
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].is_string());
    assert_eq!(lines[3]["line"], 5);
    assert_eq!(lines[3]["fallback"], "outside");
}

#[tokio::test]
async fn areas_search_detail_and_children() {
    let s = start(ServeConfig::default()).await;
    let v: Value = s
        .get("/api/v1/areas?q=%E6%9C%B1%E6%B3%BE&layer=street")
        .await
        .json()
        .await
        .expect("json"); // 朱泾
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["code"], "310116101");
    let v: Value = s
        .get("/api/v1/areas?q=三村居委会")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|i| i["code"] == "310116001002"),
        "{v}"
    );
    let v: Value = s
        .get("/api/v1/areas/310116001002?geometry=1")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(v["layer"], "resident_grid");
    assert_eq!(v["parents"][0]["code"], "310116001");
    assert_eq!(v["parents"][1]["code"], "310116");
    assert!(v["children"]["block"].as_u64().is_some_and(|n| n >= 1));
    assert!(matches!(
        v["geometry"]["type"].as_str(),
        Some("Polygon" | "MultiPolygon")
    ));
    assert!(
        v["people"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["role"] == "station_head"))
    );
    let c: Value = s
        .get("/api/v1/areas/310116001002/children")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        c["items"].as_array().map(Vec::len),
        v["children"]["block"].as_u64().map(|n| n as usize)
    );
    let page: Value = s
        .get("/api/v1/areas?layer=block&limit=10&offset=20")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(10));
    assert!(page["total"].as_u64().is_some_and(|t| t > 4000));
}

#[tokio::test]
async fn tiles_decode_as_mvt_with_the_expected_features() {
    let s = start(ServeConfig::default()).await;
    let (x, y, block) = inner_point();
    let z = 14u8;
    let n = f64::from(1u32 << z);
    let tx = ((x + 180.0) / 360.0 * n).floor() as u32;
    let lat = y.to_radians();
    let ty = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor()
        as u32;
    let resp = s.get(&format!("/api/v1/tiles/{z}/{tx}/{ty}.mvt")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/vnd.mapbox-vector-tile")
    );
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("etag")
        .to_owned();
    let bytes = resp.bytes().await.expect("bytes").to_vec();
    let reader = mvt_reader::Reader::new(bytes).expect("valid MVT");
    let layers = reader.get_layer_names().expect("layers");
    for l in ["district", "street", "block"] {
        assert!(layers.iter().any(|n| n == l), "{l} in {layers:?}");
    }
    let block_layer = layers
        .iter()
        .position(|n| n == "block")
        .expect("block layer");
    let features = reader.get_features(block_layer).expect("features");
    let codes: Vec<String> = features
        .iter()
        .filter_map(|f| {
            f.properties
                .as_ref()
                .and_then(|p| p.get("code"))
                .map(|v| format!("{v:?}"))
        })
        .collect();
    assert!(
        codes.iter().any(|c| c.contains(&block.code)),
        "{} not in {codes:?}",
        block.code
    );
    // Same generation, same tile: 304.
    let resp = s
        .client
        .get(format!("{}/api/v1/tiles/{z}/{tx}/{ty}.mvt", s.base))
        .header("if-none-match", etag)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 304);
    // Blocks are not in low-zoom tiles.
    let resp = s.get("/api/v1/tiles/8/214/105.mvt").await;
    let reader =
        mvt_reader::Reader::new(resp.bytes().await.expect("bytes").to_vec()).expect("valid MVT");
    assert!(
        !reader
            .get_layer_names()
            .expect("layers")
            .iter()
            .any(|n| n == "block")
    );
    let tj: Value = s
        .get("/api/v1/tiles.json")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(tj["tilejson"], "3.0.0");
    assert!(
        tj["tiles"][0]
            .as_str()
            .is_some_and(|t| t.ends_with("/api/v1/tiles/{z}/{x}/{y}.mvt"))
    );
}

#[tokio::test]
async fn openapi_lists_every_api_route_and_meta_endpoints_answer() {
    let s = start(ServeConfig::default()).await;
    let doc: Value = s
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/lookup",
        "/api/v1/areas",
        "/api/v1/areas/{code}",
        "/api/v1/areas/{code}/children",
        "/api/v1/tiles/{z}/{x}/{y}.mvt",
        "/api/v1/tiles.json",
        "/api/v1/config",
        "/api/v1/openapi.json",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "{p} missing from OpenAPI");
    }
    assert!(paths["/api/v1/lookup"].get("post").is_some());
    assert!(paths.contains_key("/api/v1/drafts/{id}"));
    // The export of a draft's validation findings (issue 19).
    assert!(
        paths["/api/v1/drafts/{id}/report/export"]
            .get("get")
            .is_some()
    );
    // The mapping step's inspection of a file (issue 19), a typed answer.
    assert_eq!(
        paths["/api/v1/drafts/inspect"]["post"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/Inspection"
    );
    // Operation ids are unique (the OpenAPI validator and client generators refuse duplicates).
    let mut ids: Vec<&str> = paths
        .values()
        .filter_map(Value::as_object)
        .flat_map(|ops| ops.values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate operation ids among {ids:?}");
    // No property that refers to another schema carries a `default` (openapi-python-client refuses
    // "ModelProperty cannot have a default value", scripts/test-client).
    let schemas = doc["components"]["schemas"].as_object();
    assert!(
        schemas.is_some_and(|m| !m.is_empty()),
        "no components.schemas"
    );
    // One name, one schema: the registers' area reference (code and name) does not take the place
    // of the atlas's (with its layer), which area parents and case assignments answer.
    let area_ref = &doc["components"]["schemas"]["AreaRef"]["properties"];
    assert!(area_ref.get("layer").is_some(), "AreaRef: {area_ref}");
    assert!(doc["components"]["schemas"]["AssetAreaRef"]["properties"]["code"].is_object());
    for (name, schema) in schemas.into_iter().flatten() {
        for (prop, p) in schema["properties"].as_object().into_iter().flatten() {
            let refers = p.get("$ref").is_some()
                || ["oneOf", "allOf", "anyOf"]
                    .iter()
                    .filter_map(|k| p[*k].as_array())
                    .flatten()
                    .any(|s| s.get("$ref").is_some());
            assert!(
                !(refers && p.get("default").is_some()),
                "{name}.{prop}: a schema reference with a default: {p}"
            );
        }
    }
    assert_eq!(s.get("/healthz").await.text().await.expect("text"), "ok");
    let r: Value = s.get("/readyz").await.json().await.expect("json");
    assert_eq!(r["ready"], true);
    let _ = s.get("/api/v1/lookup?lon=121.2&lat=30.8").await;
    let m = s.get("/metrics").await.text().await.expect("text");
    assert!(m.contains("http_requests_total"), "{m}");
    assert!(m.contains("http_request_duration_seconds"));
    let c: Value = s.get("/api/v1/config").await.json().await.expect("json");
    assert_eq!(c["district"]["name"], "金山区");
    // Serving a file: no store, so no drafts or cases (the web map hides those tabs).
    assert_eq!(c["writable"], false, "{c}");
    let (_, _, block) = inner_point();
    let photo = block
        .person(Role::BlockHead)
        .and_then(|p| p.photo_url.clone())
        .expect("photo");
    let resp = s.get(&photo).await;
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/svg+xml")
    );
    assert!(resp.text().await.expect("svg").starts_with("<svg"));
    let index = s.get("/").await;
    assert_eq!(index.status(), 200);
    assert!(index.text().await.expect("html").contains("<html"));
}

/// A server like `gridatlas serve`'s: the client address reaches the handlers (rate limit).
async fn start_with_peers(config: ServeConfig) -> Server {
    let state = AppState::new(Atlas::build(demo().clone()).with_generation(1), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
    }
}

fn limit(per_second: u32, burst: u32, loopback: bool) -> ServeConfig {
    ServeConfig {
        rate_limit: Some(gridatlas::http::ratelimit::RateLimit {
            per_second: std::num::NonZeroU32::new(per_second).expect("non-zero"),
            burst: std::num::NonZeroU32::new(burst).expect("non-zero"),
            loopback,
        }),
        ..ServeConfig::default()
    }
}

#[tokio::test]
async fn over_the_rate_limit_is_429_problem_with_retry_after() {
    let s = start_with_peers(limit(1, 3, true)).await;
    let (x, y, block) = inner_point();
    let url = format!("/api/v1/lookup?lon={x}&lat={y}");
    for i in 0..3 {
        let resp = s.get(&url).await;
        assert_eq!(resp.status(), 200, "request {i} of the burst");
    }
    let resp = s.get(&url).await;
    let retry: u64 = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in whole seconds");
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    let v = problem(resp, 429).await;
    assert_eq!(v["type"], "urn:gridatlas:problem:rate-limited");
    assert!(
        v["retry_after_ms"].as_u64().is_some_and(|ms| ms <= 1000),
        "{v}"
    );
    // Other API routes share the client's bucket; health and metrics are never limited.
    problem(s.get("/api/v1/areas?q=310116").await, 429).await;
    assert_eq!(s.get("/healthz").await.status(), 200);
    let m = s.get("/metrics").await.text().await.expect("metrics");
    assert!(m.contains("status=\"429\""), "{m}");
    // After the wait, the client may ask again.
    tokio::time::sleep(std::time::Duration::from_secs(retry)).await;
    let v: Value = s.get(&url).await.json().await.expect("json");
    assert_eq!(v["block"]["code"], block.code.as_str());
}

#[tokio::test]
async fn loopback_clients_are_not_rate_limited_by_default() {
    let s = start_with_peers(limit(1, 1, false)).await;
    let (x, y, _) = inner_point();
    for i in 0..20 {
        let resp = s.get(&format!("/api/v1/lookup?lon={x}&lat={y}")).await;
        assert_eq!(resp.status(), 200, "request {i}");
    }
}

/// The lookup document is byte for byte the `Value` rendering of the placement (the handler
/// serialises a borrowed view), for points inside blocks, near roads, in fallbacks and outside.
#[tokio::test]
async fn lookup_bytes_equal_the_value_document() {
    let s = start(ServeConfig::default()).await;
    let atlas = Atlas::build(demo().clone()).with_generation(1);
    let b = atlas.territory_bbox().expect("bbox");
    let n = 60;
    for i in 0..n {
        for crs in [Crs::Wgs84, Crs::Gcj02] {
            let x = b.min().x - 0.01 + (b.width() + 0.02) * f64::from(i) / f64::from(n);
            let y = b.min().y - 0.01 + (b.height() + 0.02) * f64::from((i * 37) % n) / f64::from(n);
            let body = s
                .get(&format!("/api/v1/lookup?lon={x}&lat={y}&crs={crs}"))
                .await
                .text()
                .await
                .expect("body");
            let wgs = crs.to_wgs84(x, y);
            let p = atlas.lookup(wgs.0, wgs.1);
            let doc = gridatlas::http::lookup::placement_document(&atlas, (x, y), crs, wgs, &p);
            assert_eq!(body, doc.to_string(), "({x}, {y}) {crs}");
        }
    }
}

#[tokio::test]
async fn metrics_count_unknown_methods_as_other() {
    let s = start(ServeConfig::default()).await;
    let brew = reqwest::Method::from_bytes(b"BREW").expect("method");
    let resp = s
        .client
        .request(brew, format!("{}/api/v1/lookup", s.base))
        .send()
        .await
        .expect("request");
    assert_eq!(
        resp.headers().get("allow").and_then(|v| v.to_str().ok()),
        Some("GET,HEAD,POST")
    );
    let v = problem(resp, 405).await;
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("/api/v1/lookup does not answer BREW")),
        "{v}"
    );
    let m = s.get("/metrics").await.text().await.expect("metrics");
    assert!(m.contains("method=\"OTHER\""), "{m}");
    assert!(!m.contains("BREW"), "{m}");
}

/// A request still running after `--request-timeout-s` is answered 503 problem+json: here a batch
/// lookup whose body stops arriving half-way (the client keeps the connection open).
#[tokio::test]
async fn a_request_over_the_time_limit_is_503() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = start(ServeConfig {
        request_timeout: std::time::Duration::from_millis(300),
        ..ServeConfig::default()
    })
    .await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let started = std::time::Instant::now();
    conn.write_all(
        b"POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"points\": [",
    )
    .await
    .expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    // The server answers and closes once the time is up; the body never completes.
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") || !answer.ends_with(b"}") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), conn.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    assert!(text.contains("request timeout"), "{text}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    // Instant requests are not affected by the armed-on-demand timer.
    assert_eq!(s.get("/healthz").await.status(), 200);
}

/// `/metrics` labels requests by route template, never by the raw path (clients cannot mint
/// label values), unknown API paths by their catch-all, odd methods as OTHER.
#[tokio::test]
async fn metrics_label_routes_by_template() {
    let s = start(ServeConfig::default()).await;
    let (_, _, block) = inner_point();
    assert_eq!(
        s.get(&format!("/api/v1/areas/{}", block.code))
            .await
            .status(),
        200
    );
    problem(s.get("/api/v1/no/such/thing").await, 404).await;
    let odd = reqwest::Method::from_bytes(b"BREW").expect("method");
    let resp = s
        .client
        .request(odd, format!("{}/api/v1/lookup", s.base))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 405);
    let m = s.get("/metrics").await.text().await.expect("text");
    let line = |route: &str, method: &str, status: u16| {
        m.lines().any(|l| {
            l.starts_with("http_requests_total{")
                && l.contains(&format!("route=\"{route}\""))
                && l.contains(&format!("method=\"{method}\""))
                && l.contains(&format!("status=\"{status}\""))
        })
    };
    assert!(line("/api/v1/areas/{code}", "GET", 200), "{m}");
    assert!(line("/api/v1/{*rest}", "GET", 404), "{m}");
    assert!(line("/api/v1/lookup", "OTHER", 405), "{m}");
    assert!(
        !m.contains(block.code.as_str()),
        "a raw path became a label: {m}"
    );
    assert!(m.contains("http_request_duration_seconds"), "{m}");
}
