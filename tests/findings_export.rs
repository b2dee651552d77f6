//! A draft's validation findings exported over HTTP (`GET /api/v1/drafts/{id}/report/export`)
//! as a GeoPackage and as a GBK Shapefile .zip in CGCS2000 3° Gauss–Krüger zone 40
//! (EPSG:4528), read back by GDAL (`ogr2ogr -t_srs EPSG:4490`), on both stores (`suite!`).
//!
//! The draft is street 310116101 of fixtures/demo-dirty.geojson (gaps, an overlap, blocks
//! outside their grids, a self-intersection). An upload cannot carry a hierarchy defect (the
//! reader refuses unknown and wrong-layer parents), so the table of findings without a
//! location is checked on the report's findings plus one such finding, exported through the
//! same library calls the service makes. The files must hold every finding of the report:
//! per table as many features as the report has findings of that dimension, in report order,
//! with the same rule, kind, severity, codes, Chinese and English messages, fix and measures,
//! and every coordinate within 1 mm of the report's GeoJSON location.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/gdal.rs"]
mod gdal_support;
#[path = "support/http.rs"]
mod http_support;

use db::TestDb;
use gdal_support::{gdal, ogr_layer, ogr_layer_with, run};
use gridatlas::atlas::Atlas;
use gridatlas::geo_io::crs::FileCrs;
use gridatlas::geo_io::export::findings::{self, FindingRecord};
use gridatlas::geo_io::export::{Encoding, Options};
use gridatlas::http::{AppState, ServeConfig};
use gridatlas::store::Store;
use http_support::problem;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

const STREET: &str = "310116101";

struct Server {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
}

async fn start(db: &TestDb) -> Server {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    let set = store.load_generation(n).expect("load");
    let state = AppState::with_store(
        Atlas::build(set).with_generation(i64::from(n)),
        ServeConfig::default(),
        Some(store.clone()),
    );
    Server {
        base: http_support::serve(state).await,
        client: reqwest::Client::new(),
        store,
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

    async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }
}

/// Street 310116101 of the dirty demo district.
fn dirty_street() -> String {
    let set = gridatlas::geo_io::read_path(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo-dirty.geojson"
    )))
    .expect("the dirty demo reads");
    let of = gridatlas::store::street_of_features(&set);
    let features: Vec<Value> = set
        .features()
        .iter()
        .filter(|f| of.get(f.code.as_str()) == Some(&STREET))
        .map(gridatlas::geo_io::feature_to_json)
        .collect();
    assert!(features.len() > 50, "{}", features.len());
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// The table a report finding belongs in.
fn table_of(f: &Value) -> &'static str {
    match f["location"]["type"].as_str() {
        None => "findings_unlocated",
        Some("Point" | "MultiPoint") => "findings_points",
        Some("LineString" | "MultiLineString") => "findings_lines",
        Some("Polygon" | "MultiPolygon") => "findings_areas",
        Some(t) => panic!("unexpected location type {t}"),
    }
}

const TABLES: [&str; 4] = [
    "findings_points",
    "findings_lines",
    "findings_areas",
    "findings_unlocated",
];

/// Every position of a GeoJSON geometry.
fn positions(g: &Value) -> Vec<(f64, f64)> {
    fn walk(v: &Value, out: &mut Vec<(f64, f64)>) {
        match v.as_array().map(Vec::as_slice) {
            Some([x, y, ..]) if x.is_number() => {
                out.push((x.as_f64().expect("x"), y.as_f64().expect("y")));
            }
            Some(items) => items.iter().for_each(|i| walk(i, out)),
            None => {}
        }
    }
    let mut out = Vec::new();
    walk(&g["coordinates"], &mut out);
    out
}

fn metres(p: (f64, f64), q: (f64, f64)) -> f64 {
    let dy = (p.1 - q.1) * 111_320.0;
    let dx = (p.0 - q.0) * 111_320.0 * p.1.to_radians().cos();
    dx.hypot(dy)
}

/// The largest distance in metres from a position of either geometry to the nearest of the
/// other (the counts must agree: a Shapefile reverses rings, nothing else changes).
fn max_distance(a: &Value, b: &Value, what: &str) -> f64 {
    let (pa, pb) = (positions(a), positions(b));
    assert_eq!(pa.len(), pb.len(), "{what}: number of positions");
    let nearest = |p: (f64, f64), among: &[(f64, f64)]| {
        among
            .iter()
            .map(|&q| metres(p, q))
            .fold(f64::INFINITY, f64::min)
    };
    pa.iter()
        .map(|&p| nearest(p, &pb))
        .chain(pb.iter().map(|&q| nearest(q, &pa)))
        .fold(0.0, f64::max)
}

/// A JSON text column as GDAL's GeoJSON writer gives it: the text parsed, or the value GDAL
/// already recognised as JSON.
fn json_column(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).expect("the column's text is JSON"),
        other => other.clone(),
    }
}

fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Checks GDAL's features of one table against the report's findings of that table; answers
/// the worst coordinate error in metres.
fn check_table(table: &str, expected: &[&Value], read: &[Value], gbk: bool) -> f64 {
    assert_eq!(read.len(), expected.len(), "{table}: feature count");
    let mut worst = 0.0f64;
    for (i, (f, r)) in expected.iter().zip(read).enumerate() {
        let p = &r["properties"];
        let what = format!("{table}[{i}]");
        for (column, member) in [
            ("rule", &f["rule"]),
            ("kind", &f["kind"]),
            ("severity", &f["severity"]),
            ("message", &f["message"]["zh"]),
        ] {
            assert_eq!(&p[column], member, "{what}.{column}");
        }
        // A GBK DBF writes m² as m2 (GBK has no superscript two).
        let en = f["message"]["en"].as_str().expect("message.en");
        let en = if gbk {
            en.replace('²', "2")
        } else {
            en.to_owned()
        };
        assert_eq!(
            p["message_en"].as_str(),
            Some(en.as_str()),
            "{what}.message_en"
        );
        let codes: Vec<&str> = f["codes"]
            .as_array()
            .expect("codes")
            .iter()
            .map(|c| c.as_str().expect("code"))
            .collect();
        assert_eq!(
            p["codes"].as_str(),
            Some(codes.join(",").as_str()),
            "{what}"
        );
        if f["fix"].is_null() {
            assert!(p["fix"].is_null(), "{what}.fix");
        } else {
            let want = if gbk {
                serde_json::from_str(&f["fix"].to_string().replace('²', "2")).expect("json")
            } else {
                f["fix"].clone()
            };
            assert_eq!(json_column(&p["fix"]), want, "{what}.fix");
        }
        for m in ["area_m2", "length_m", "width_m", "omitted"] {
            match (number(&f[m]), number(&p[m])) {
                (None, got) => assert_eq!(got, None, "{what}.{m}"),
                (Some(want), got) => {
                    let got = got.unwrap_or_else(|| panic!("{what}.{m}: missing"));
                    assert!(
                        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                        "{what}.{m}: {got} != {want}"
                    );
                }
            }
        }
        let simplified = f["location_simplified"].as_bool().unwrap_or(false);
        assert!(
            // GeoPackage BOOLEAN: true/false; DBF L: GDAL gives "T"/"F".
            p["simplified"] == json!(simplified)
                || p["simplified"] == json!(if simplified { "T" } else { "F" }),
            "{what}.simplified: {}",
            p["simplified"]
        );
        if table == "findings_unlocated" {
            assert!(r["geometry"].is_null(), "{what}: {}", r["geometry"]);
        } else {
            worst = worst.max(max_distance(&f["location"], &r["geometry"], &what));
        }
    }
    worst
}

/// The layers GDAL lists in `source`.
fn layers(source: &str) -> String {
    run(Command::new("ogrinfo").args(["-ro", "-q"]).arg(source))
}

/// Checks every table of `source` against the report; answers the worst coordinate error.
fn check_file(source: &str, findings: &[Value], dir: &Path) -> f64 {
    let listed = layers(source);
    let mut worst = 0.0f64;
    let mut seen = 0;
    for table in TABLES {
        let expected: Vec<&Value> = findings.iter().filter(|f| table_of(f) == table).collect();
        if expected.is_empty() {
            assert!(
                !listed.contains(table),
                "{source}: an empty {table}: {listed}"
            );
            continue;
        }
        let read = if table == "findings_unlocated" {
            ogr_layer_with(source, table, dir, &[])
        } else {
            ogr_layer(source, table, dir)
        };
        seen += read.len();
        worst = worst.max(check_table(
            table,
            &expected,
            &read,
            source.starts_with("/vsizip/"),
        ));
    }
    assert_eq!(seen, findings.len(), "every finding in exactly one table");
    worst
}

fn findings_export_reads_back_in_gdal(db: &TestDb) {
    gdal();
    http_support::run(async {
        let s = start(db).await;
        let admin = s.token("admin", &[]);
        let planner = s.token("planner", &[STREET]);
        let other = s.token("planner", &["310116102"]);
        let r = s
            .client
            .post(format!("{}/api/v1/drafts?streets={STREET}", s.base))
            .bearer_auth(&admin)
            .header("content-type", "application/geo+json")
            .body(dirty_street())
            .send()
            .await
            .expect("upload");
        let status = r.status();
        let d: Value = r.json().await.expect("json");
        assert_eq!(status, 201, "{d}");
        let id = d["id"].as_i64().expect("id");
        let r = s
            .get(&format!("/api/v1/drafts/{id}/report?limit=1000"), &planner)
            .await;
        assert_eq!(r.status(), 200);
        let report: Value = r.json().await.expect("report");
        let findings = report["report"]["findings"]
            .as_array()
            .expect("findings")
            .clone();
        assert_eq!(report["report"]["total"], findings.len());
        // The defects put in are there, located by points and by areas.
        for (table, rule) in [
            ("findings_points", "invalid_geometry"),
            ("findings_areas", "gap"),
            ("findings_areas", "overlap"),
            ("findings_areas", "containment"),
        ] {
            assert!(
                findings
                    .iter()
                    .any(|f| table_of(f) == table && f["rule"] == rule),
                "no {rule} finding in {table}: {findings:#?}"
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let fetch = |query: String| {
            let s = &s;
            let planner = planner.clone();
            async move {
                let r = s
                    .get(
                        &format!("/api/v1/drafts/{id}/report/export?{query}"),
                        &planner,
                    )
                    .await;
                if r.status() != 200 {
                    panic!(
                        "{query}: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    );
                }
                let ct = r.headers()["content-type"].to_str().expect("ct").to_owned();
                let cd = r.headers()["content-disposition"]
                    .to_str()
                    .expect("cd")
                    .to_owned();
                (ct, cd, r.bytes().await.expect("body").to_vec())
            }
        };
        // GeoPackage in EPSG:4528.
        let (ct, cd, gpkg) = fetch("format=gpkg&crs=EPSG:4528".into()).await;
        assert_eq!(ct, "application/geopackage+sqlite3");
        assert!(cd.contains(&format!("draft-{id}-findings.gpkg")), "{cd}");
        let path = dir.path().join("findings.gpkg");
        std::fs::write(&path, gpkg).expect("written");
        let source = path.display().to_string();
        let srs = run(Command::new("ogrinfo").args(["-ro", "-so", &source, "findings_areas"]));
        assert!(
            srs.contains("CGCS2000_3_Degree_GK_Zone_40") || srs.contains("zone 40"),
            "{srs}"
        );
        let worst = check_file(&source, &findings, dir.path());
        println!("findings GeoPackage EPSG:4528: worst coordinate error {worst:.3e} m");
        assert!(worst < 1e-3, "{worst} m");
        // Shapefile .zip in EPSG:4528, GBK.
        let (ct, cd, zip) = fetch("format=shapefile&crs=EPSG:4528&encoding=gbk".into()).await;
        assert_eq!(ct, "application/zip");
        assert!(cd.contains(&format!("draft-{id}-findings.zip")), "{cd}");
        let path = dir.path().join("findings.zip");
        std::fs::write(&path, &zip).expect("written");
        let archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip");
        assert!(archive.file_names().any(|n| n == "findings_areas.shp"));
        let source = format!("/vsizip/{}", path.display());
        let srs = run(Command::new("gdalsrsinfo")
            .args(["-e", "-o", "epsg"])
            .arg(format!("{source}/findings_points.prj")));
        assert_eq!(srs.trim(), "EPSG:4528");
        let worst = check_file(&source, &findings, dir.path());
        println!("findings Shapefile EPSG:4528 GBK: worst coordinate error {worst:.3e} m");
        assert!(worst < 1e-3, "{worst} m");
        // GeoJSON: every finding, the unlocated with a null geometry.
        let (ct, cd, json) = fetch("format=geojson".into()).await;
        assert_eq!(ct, "application/geo+json");
        assert!(cd.contains(&format!("draft-{id}-findings.geojson")), "{cd}");
        let fc: Value = serde_json::from_slice(&json).expect("GeoJSON");
        let features = fc["features"].as_array().expect("features");
        assert_eq!(features.len(), findings.len());
        for (f, g) in findings.iter().zip(features) {
            assert_eq!(g["geometry"], f["location"]);
            assert_eq!(g["properties"]["message"], f["message"]["zh"]);
        }
        // The report's findings and one without a location, through the library.
        let mut with_unlocated = findings.clone();
        with_unlocated.push(json!({
            "rule": "hierarchy",
            "kind": "unknown_parent",
            "severity": "error",
            "codes": ["310116101001B01", "310116101999"],
            "location": null,
            "message": {"zh": "街区 310116101001B01 的上级 310116101999 不存在", "en": "parent 310116101999 of block 310116101001B01 does not exist"},
            "fix": {"action": "manual", "message": {"zh": "请更正编码或上级编码", "en": "correct the code or the parent code"}},
        }));
        let records: Vec<FindingRecord> = with_unlocated
            .iter()
            .map(|v| {
                let w: gridatlas::wire::drafts::Finding =
                    serde_json::from_value(v.clone()).expect("a report finding");
                gridatlas::service::export::record(&w)
            })
            .collect();
        let opts = Options {
            crs: FileCrs::from_epsg(4528).expect("4528"),
            encoding: Encoding::Gbk,
        };
        let path = dir.path().join("unlocated.zip");
        let zip = findings::to_zip_bytes(&records, &opts).expect("zip");
        let archive = zip::ZipArchive::new(std::io::Cursor::new(zip.clone())).expect("zip");
        assert!(archive.file_names().any(|n| n == "findings_unlocated.dbf"));
        assert!(!archive.file_names().any(|n| n == "findings_unlocated.shp"));
        std::fs::write(&path, zip).expect("written");
        let source = format!("/vsizip/{}", path.display());
        assert!(layers(&source).contains("findings_unlocated"));
        let worst = check_file(&source, &with_unlocated, dir.path());
        assert!(worst < 1e-3, "{worst} m");
        let path = dir.path().join("unlocated.gpkg");
        std::fs::write(
            &path,
            findings::to_gpkg_bytes(&records, &opts).expect("gpkg"),
        )
        .expect("written");
        let source = path.display().to_string();
        let worst = check_file(&source, &with_unlocated, dir.path());
        assert!(worst < 1e-3, "{worst} m");
        // Refusals: a planner of another street; a format that is none.
        problem(
            s.get(
                &format!("/api/v1/drafts/{id}/report/export?format=gpkg"),
                &other,
            )
            .await,
            403,
        )
        .await;
        let p = problem(
            s.get(
                &format!("/api/v1/drafts/{id}/report/export?format=kml"),
                &planner,
            )
            .await,
            400,
        )
        .await;
        assert!(p.to_string().contains("format"), "{p}");
        problem(
            s.get("/api/v1/drafts/999999/report/export?format=gpkg", &admin)
                .await,
            404,
        )
        .await;
    });
}

suite!(findings_export_reads_back_in_gdal);
