//! Shapefile uploads through `POST /api/v1/drafts` on both stores (`suite!`): the demo district
//! as a GBK Shapefile in EPSG:4528 made by ogr2ogr (tests/support/shapefiles.rs), zipped,
//! uploaded as application/zip (or application/octet-stream with `filename=`) with the column
//! mapping as a query parameter, validated and published; without the mapping the 422 lists
//! the columns found; an unknown type is 415, a bad parameter 400.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;
#[path = "support/shapefiles.rs"]
mod shapefiles;

use db::TestDb;
use gridatlas::atlas::Atlas;
use gridatlas::http::{AppState, ServeConfig, router};
use gridatlas::store::Store;
use http_support::{problem, run};
use serde_json::Value;
use std::sync::Arc;

async fn start(db: &TestDb) -> (String, String, Arc<dyn Store>) {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    let set = store.load_generation(n).expect("load");
    let state = AppState::with_store(
        Atlas::build(set).with_generation(i64::from(n)),
        ServeConfig::default(),
        Some(store.clone()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let secret = gridatlas::http::auth::new_secret();
    store.create_token("admin", &[], &secret).expect("token");
    (format!("http://{addr}"), secret, store)
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn post(
    base: &str,
    token: &str,
    query: &str,
    ctype: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/drafts{query}"))
        .bearer_auth(token)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .expect("post")
}

fn shapefile_upload_validates_and_publishes(db: &TestDb) {
    let zip = shapefiles::fixture().zip.clone();
    run(async move {
        let (base, token, store) = start(db).await;
        let q = format!("?mapping={}", enc(shapefiles::MAPPING));
        let r = post(&base, &token, &q, "application/zip", zip.clone()).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let d: Value = r.json().await.expect("json");
        assert_eq!(d["features"], 5746, "{d}");
        let id = d["id"].as_i64().expect("id");
        let r = reqwest::Client::new()
            .post(format!("{base}/api/v1/drafts/{id}/publish"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("publish");
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        assert!(status.is_success(), "{status}: {body}");
        // The published generation holds the demo's features (the management units are not in
        // a Shapefile), every vertex within 1e-8° (about 1 mm) of the GeoJSON's.
        let current = store.current_generation().expect("gen").expect("some");
        let published = store.load_generation(current.number).expect("load");
        let demo = http_support::demo();
        assert_eq!(published.len(), demo.len());
        for f in demo.features() {
            let g = published
                .get(&f.code)
                .unwrap_or_else(|| panic!("{} missing", f.code));
            assert_eq!(
                (f.layer, &f.name, &f.parent, f.kind),
                (g.layer, &g.name, &g.parent, g.kind)
            );
            let coords = |x: &gridatlas::model::Feature| -> Vec<(f64, f64)> {
                use geo::CoordsIter;
                match &x.geometry {
                    gridatlas::model::Geometry::Area(a) => {
                        a.coords_iter().map(|c| (c.x, c.y)).collect()
                    }
                    gridatlas::model::Geometry::Line(l) => {
                        l.coords_iter().map(|c| (c.x, c.y)).collect()
                    }
                }
            };
            let (a, b) = (coords(f), coords(g));
            assert_eq!(a.len(), b.len(), "{}", f.code);
            for ((x1, y1), (x2, y2)) in a.iter().zip(&b) {
                assert!(
                    (x1 - x2).abs() < 1e-8 && (y1 - y2).abs() < 1e-8,
                    "{}: {x1},{y1} vs {x2},{y2}",
                    f.code
                );
            }
        }
        // Octet-stream with the file name's extension, the mapping as given.
        let q = format!("?filename=demo.zip&mapping={}", enc(shapefiles::MAPPING));
        let r = post(&base, &token, &q, "application/octet-stream", zip.clone()).await;
        assert_eq!(r.status(), 201);
        // Without a mapping: the columns found.
        let r = post(
            &base,
            &token,
            "?filename=demo.zip",
            "application/zip",
            zip.clone(),
        )
        .await;
        let p = problem(r, 422).await;
        let first = &p["problems"][0];
        assert_eq!(first["path"], "areas.shp", "{p}");
        assert!(
            first["message"]
                .as_str()
                .expect("message")
                .contains("图层, 网格编码, 网格名称"),
            "{p}"
        );
        // A wrong mapping parameter and an unknown type.
        let r = post(
            &base,
            &token,
            "?mapping=%7Bnope",
            "application/zip",
            zip.clone(),
        )
        .await;
        problem(r, 400).await;
        let r = post(
            &base,
            &token,
            "?crs=EPSG:4214",
            "application/zip",
            zip.clone(),
        )
        .await;
        let p = problem(r, 400).await;
        assert!(
            p["detail"].as_str().expect("detail").contains("Beijing"),
            "{p}"
        );
        let r = post(&base, &token, "", "text/plain", zip).await;
        problem(r, 415).await;
    });
}

suite!(shapefile_upload_validates_and_publishes);
