//! Longitude/latitude from Chinese web maps (`crs=gcj02`, `crs=bd09`): the demo district shifted
//! into GCJ-02 and BD-09 reads back to the WGS84 original within a millimetre, through the
//! library and through `POST /api/v1/drafts` on both stores (`suite!`); a projected system
//! given with a GeoJSON file is refused with a message, not ignored.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use db::TestDb;
use gridatlas::geo_io::ReadError;
use gridatlas::geo_io::source::{self, Format, Requested};
use gridatlas::geometry::crs::Crs;
use gridatlas::model::{FeatureSet, Geometry};
use http_support::{demo, problem, run};
use serde_json::Value;
use std::sync::Arc;

/// The demo fixture with every position moved from WGS84 into `crs`.
fn shifted_fixture(crs: Crs) -> Vec<u8> {
    fn walk(v: &mut Value, crs: Crs) {
        match v {
            Value::Array(a) if a.len() >= 2 && a.iter().all(Value::is_number) => {
                let (lon, lat) = (a[0].as_f64().expect("lon"), a[1].as_f64().expect("lat"));
                let (x, y) = crs.from_wgs84(lon, lat);
                a[0] = serde_json::json!(x);
                a[1] = serde_json::json!(y);
            }
            Value::Array(a) => a.iter_mut().for_each(|x| walk(x, crs)),
            _ => {}
        }
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo-district.geojson"
    ))
    .expect("fixture");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    for f in v["features"].as_array_mut().expect("features") {
        walk(&mut f["geometry"]["coordinates"], crs);
    }
    serde_json::to_vec(&v).expect("bytes")
}

fn positions(geometry: &Geometry) -> Vec<(f64, f64)> {
    match geometry {
        Geometry::Area(mp) => {
            mp.0.iter()
                .flat_map(|p| {
                    p.exterior()
                        .0
                        .iter()
                        .chain(p.interiors().iter().flat_map(|r| r.0.iter()))
                })
                .map(|c| (c.x, c.y))
                .collect()
        }
        Geometry::Line(ml) => {
            ml.0.iter()
                .flat_map(|l| l.0.iter())
                .map(|c| (c.x, c.y))
                .collect()
        }
    }
}

/// The largest distance in metres between corresponding positions of the same features of two
/// sets (a local equirectangular frame: exact enough at millimetres).
fn max_distance_m(a: &FeatureSet, b: &FeatureSet) -> f64 {
    assert_eq!(a.len(), b.len());
    let k = std::f64::consts::PI / 180.0 * 6_371_008.8;
    let mut worst: f64 = 0.0;
    for fa in a.features() {
        let fb = b.get(&fa.code).expect("the same features");
        let (xa, xb) = (positions(&fa.geometry), positions(&fb.geometry));
        assert_eq!(xa.len(), xb.len(), "{}", fa.code);
        for (p, q) in xa.iter().zip(&xb) {
            let dx = (p.0 - q.0) * k * (p.1 * std::f64::consts::PI / 180.0).cos();
            let dy = (p.1 - q.1) * k;
            worst = worst.max(dx.hypot(dy));
        }
    }
    worst
}

fn read_as(bytes: &[u8], crs: &str) -> Result<FeatureSet, ReadError> {
    let (format, opts) = Requested {
        crs: Some(crs),
        file_name: Some("shifted.geojson"),
        ..Requested::default()
    }
    .resolve()
    .expect("options");
    source::read_bytes(format.expect("format"), "shifted.geojson", bytes, &opts)
}

#[test]
fn gcj02_and_bd09_read_back_to_wgs84_within_a_millimetre() {
    for crs in [Crs::Gcj02, Crs::Bd09] {
        let bytes = shifted_fixture(crs);
        // read as if WGS84, the shift shows: hundreds of metres
        let raw = read_as(&bytes, "EPSG:4326").expect("read");
        let off = max_distance_m(demo(), &raw);
        assert!(off > 100.0, "{crs}: the shift is {off} m");
        let set = read_as(&bytes, crs.as_str()).expect("read");
        let d = max_distance_m(demo(), &set);
        assert!(d < 0.001, "{crs}: {d} m from the original");
    }
}

#[test]
fn a_projected_crs_with_geojson_is_refused_not_ignored() {
    let bytes = shifted_fixture(Crs::Wgs84);
    let Err(ReadError::Invalid(problems)) = read_as(&bytes, "EPSG:4528") else {
        panic!("EPSG:4528 with GeoJSON was taken");
    };
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .message
            .contains("GeoJSON is longitude/latitude"),
        "{}",
        problems[0].message
    );
    assert_eq!(problems[0].path, "shifted.geojson");
    // longitude/latitude codes are taken
    read_as(&bytes, "EPSG:4490").expect("4490");
    // an unknown name says what is taken
    let e = Requested {
        crs: Some("gcj03"),
        ..Requested::default()
    }
    .resolve()
    .expect_err("gcj03");
    assert_eq!(e.0, "crs");
    assert!(e.1.contains("gcj02 or bd09"), "{}", e.1);
    assert_eq!(Format::from_extension("x.geojson"), Some(Format::GeoJson));
}

async fn start(db: &TestDb) -> (String, String) {
    http_support::start_demo(Arc::from(db.open())).await
}

fn shifted_upload_stores_wgs84(db: &TestDb) {
    run(async move {
        let (base, token) = start(db).await;
        let client = reqwest::Client::new();
        for crs in [Crs::Gcj02, Crs::Bd09] {
            let r = client
                .post(format!("{base}/api/v1/drafts?crs={crs}"))
                .bearer_auth(&token)
                .header("content-type", "application/geo+json")
                .body(shifted_fixture(crs))
                .send()
                .await
                .expect("post");
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
            let d: Value = r.json().await.expect("json");
            let id = d["id"].as_i64().expect("id");
            let r = client
                .get(format!("{base}/api/v1/drafts/{id}/export"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("export");
            assert_eq!(r.status(), 200);
            let bytes = r.bytes().await.expect("bytes");
            let set = gridatlas::geo_io::read_slice(&bytes).expect("the export reads");
            let d = max_distance_m(demo(), &set);
            assert!(d < 0.001, "{crs}: stored {d} m from the original");
        }
        // a projected system with GeoJSON: 422 naming the file's problem
        let r = client
            .post(format!("{base}/api/v1/drafts?crs=EPSG:4528"))
            .bearer_auth(&token)
            .header("content-type", "application/geo+json")
            .body(shifted_fixture(Crs::Wgs84))
            .send()
            .await
            .expect("post");
        let p = problem(r, 422).await;
        assert!(
            p.to_string().contains("GeoJSON is longitude/latitude"),
            "{p}"
        );
    });
}

suite!(shifted_upload_stores_wgs84);
