//! Shapefile uploads through `POST /api/v1/drafts` on both stores (`suite!`): the demo district
//! as a GBK Shapefile in EPSG:4528 made by ogr2ogr (tests/support/shapefiles.rs), zipped,
//! uploaded as application/zip (or application/octet-stream with `filename=`) with the column
//! mapping as a query parameter, validated and published; without the mapping the 422 lists
//! the columns found; an unknown type is 415, a bad parameter 400. `POST /api/v1/drafts/inspect`
//! of the same file: its layers, columns, first rows, system, encoding and a suggested mapping
//! the upload takes as it is; nothing stored.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;
#[path = "support/shapefiles.rs"]
mod shapefiles;

use db::TestDb;
use gridatlas::store::Store;
use http_support::{enc, post_draft as post, problem, run};
use serde_json::Value;
use std::sync::Arc;

async fn start(db: &TestDb) -> (String, String, Arc<dyn Store>) {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let (base, token) = http_support::start_demo(store.clone()).await;
    (base, token, store)
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

async fn inspect(base: &str, token: &str, query: &str, body: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/drafts/inspect{query}"))
        .bearer_auth(token)
        .header("content-type", "application/zip")
        .body(body)
        .send()
        .await
        .expect("inspect")
}

fn column<'a>(layer: &'a Value, name: &str) -> &'a Value {
    layer["columns"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no column {name} in {layer}"))
}

/// `POST /api/v1/drafts/inspect` of the GDAL-made GBK Shapefile with Chinese columns: both
/// layers with their columns, samples, first rows (first vertex in lon/lat), EPSG:4528, GBK from
/// the .cpg, and a suggested mapping the upload takes as it is; nothing is stored. Without the
/// .prj: no system, the reason and a guess (a 200, so the map can offer the choice); with
/// `crs=`: that one. A truncated .shp is a located 422; a bogus token is 401 before the body.
fn inspect_shows_layers_columns_and_a_mapping(db: &TestDb) {
    let zip = shapefiles::fixture().zip.clone();
    run(async move {
        let (base, token, store) = start(db).await;
        let drafts_before = store.list_drafts().expect("drafts").len();
        let r = inspect(&base, &token, "", zip.clone()).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        let v: Value = r.json().await.expect("json");
        // The answer is the typed one of the OpenAPI document (unknown members refused).
        serde_json::from_value::<gridatlas::wire::drafts::Inspection>(v.clone()).expect("typed");
        assert_eq!(v["format"], "shapefile");
        let names: Vec<&str> = v["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .filter_map(|l| l["name"].as_str())
            .collect();
        assert_eq!(names, ["areas", "roads"], "{v}");
        let areas = &v["layers"][0];
        assert_eq!(areas["file"], "areas.shp");
        assert_eq!(areas["geometry_type"], "polygon");
        assert_eq!(v["layers"][1]["geometry_type"], "polyline");
        let demo = http_support::demo();
        let roads = demo
            .features()
            .iter()
            .filter(|f| f.layer == gridatlas::model::Layer::RoadSegment)
            .count();
        assert_eq!(v["layers"][1]["records"], roads);
        assert_eq!(
            areas["records"].as_u64().expect("records") as usize + roads,
            5746
        );
        assert_eq!(areas["crs"]["crs"]["code"], "EPSG:4528", "{}", areas["crs"]);
        assert!(areas["crs"]["reason"].is_null());
        assert_eq!(
            areas["encoding"]["encoding"], "gbk",
            "{}",
            areas["encoding"]
        );
        assert_eq!(areas["encoding"]["source"], "cpg");
        let layer = column(areas, "图层");
        assert!(
            layer["samples"]
                .as_array()
                .expect("samples")
                .iter()
                .any(|s| s == "区"),
            "{layer}"
        );
        let code = column(areas, "网格编码");
        assert_eq!(code["filled"], areas["records"]);
        assert!(
            code["samples"]
                .as_array()
                .is_some_and(|s| (1..=5).contains(&s.len()))
        );
        let preview = areas["preview"].as_array().expect("preview");
        assert_eq!(preview.len(), 5);
        let first = &preview[0];
        assert_eq!(first["record"], 1);
        assert_eq!(
            first["values"].as_array().map(Vec::len),
            areas["columns"].as_array().map(Vec::len)
        );
        assert_eq!(first["geometry"]["type"], "MultiPolygon");
        assert!(
            first["geometry"]["vertices"]
                .as_u64()
                .is_some_and(|n| n >= 4)
        );
        let [lon, lat] = [0, 1].map(|i| {
            first["geometry"]["first_lon_lat"][i]
                .as_f64()
                .expect("lon/lat")
        });
        assert!(
            (120.0..123.0).contains(&lon) && (30.0..32.0).contains(&lat),
            "{lon},{lat}"
        );
        assert!(first["geometry"]["first_xy"].is_null());
        // The suggested mapping: the fixture's (tests/support/shapefiles.rs), and the upload
        // takes it as it is.
        let suggested = v["suggested_mapping"].clone();
        let expected: Value = serde_json::from_str(shapefiles::MAPPING).expect("mapping");
        assert_eq!(suggested, expected);
        assert_eq!(store.list_drafts().expect("drafts").len(), drafts_before);
        let q = format!("?mapping={}", enc(&suggested.to_string()));
        let r = post(&base, &token, &q, "application/zip", zip.clone()).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let drafts_before = store.list_drafts().expect("drafts").len();

        // No .prj: no system, why, and what the coordinates look like.
        let no_prj = shapefiles::zip_shapefiles(&shapefiles::fixture().shps, &|n, b| {
            (!n.ends_with(".prj")).then_some(b)
        });
        let r = inspect(&base, &token, "?filename=demo.zip", no_prj.clone()).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
        let v: Value = r.json().await.expect("json");
        let crs = &v["layers"][0]["crs"];
        assert!(crs["crs"].is_null(), "{crs}");
        assert!(
            crs["reason"]
                .as_str()
                .is_some_and(|m| m.contains("missing")),
            "{crs}"
        );
        assert_eq!(crs["guess"]["code"], "EPSG:4528", "{crs}");
        let g = &v["layers"][0]["preview"][0]["geometry"];
        assert!(g["first_lon_lat"].is_null(), "{g}");
        assert!(
            g["first_xy"][0].as_f64().is_some_and(|x| x > 40_000_000.0),
            "{g}"
        );
        // The system given: taken.
        let r = inspect(&base, &token, "?crs=EPSG:4528&encoding=gbk", no_prj.clone()).await;
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["layers"][0]["crs"]["crs"]["code"], "EPSG:4528", "{v}");
        assert_eq!(v["layers"][0]["encoding"]["source"], "given");
        // The upload without a system still refuses it.
        let q = format!("?mapping={}", enc(shapefiles::MAPPING));
        let r = post(&base, &token, &q, "application/zip", no_prj).await;
        let p = problem(r, 422).await;
        assert_eq!(p["problems"][0]["path"], "areas.prj", "{p}");

        // A problem of the files: located, as the upload locates it.
        let cut = shapefiles::zip_shapefiles(&shapefiles::fixture().shps, &|n, b| {
            Some(if n == "roads.shp" {
                b[..b.len() / 2].to_vec()
            } else {
                b
            })
        });
        let p = problem(inspect(&base, &token, "", cut).await, 422).await;
        assert!(
            p["problems"]
                .as_array()
                .expect("problems")
                .iter()
                .any(|x| x["path"] == "roads.shp"),
            "{p}"
        );
        // GeoJSON needs no inspection; a bad parameter is 400.
        let r = reqwest::Client::new()
            .post(format!("{base}/api/v1/drafts/inspect"))
            .bearer_auth(&token)
            .header("content-type", "application/geo+json")
            .body("{}")
            .send()
            .await
            .expect("post");
        problem(r, 415).await;
        problem(
            inspect(&base, &token, "?crs=EPSG:4214", zip.clone()).await,
            400,
        )
        .await;

        // A bogus token: 401 on the headers, while the client has sent a kilobyte of 10 MB.
        let addr = base.trim_start_matches("http://");
        let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let head = "POST /api/v1/drafts/inspect HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bogus\r\nContent-Type: application/zip\r\nContent-Length: 10000000\r\n\r\n";
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        conn.write_all(head.as_bytes()).await.expect("head");
        let _ = conn.write_all(&[0u8; 1024]).await;
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), conn.read(&mut buf))
            .await
            .expect("an answer before the body")
            .expect("read");
        let answer = String::from_utf8_lossy(&buf[..n]);
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
        let r = inspect(&base, "bogus", "", zip).await;
        problem(r, 401).await;
        assert_eq!(store.list_drafts().expect("drafts").len(), drafts_before);
    });
}

suite!(
    shapefile_upload_validates_and_publishes,
    inspect_shows_layers_columns_and_a_mapping
);
