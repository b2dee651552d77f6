//! GeoPackage and CSV import: GeoPackages made by GDAL's ogr2ogr (scripts/ensure-gdal) from the
//! demo district with Chinese column names in CGCS2000 3° Gauss–Krüger zone 40 (EPSG:4528), one
//! layer and two, read through the column mapping to the same features as the GeoJSON (every
//! vertex within 1 mm); CSVs with WKT (GBK) and with longitude/latitude columns; uploads through
//! `POST /api/v1/drafts` on both stores (`suite!`) by content type and by `filename=`; the
//! located errors (a view, a truncated GeoPackage, bad WKT on a line, a wrong encoding); the
//! CLI's `validate` on a GeoPackage.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;
#[path = "support/shapefiles.rs"]
mod shapefiles;

use db::TestDb;
use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};
use gridatlas::geo_io::mapping::ColumnMapping;
use gridatlas::geo_io::source::{self, Format, ImportOptions};
use gridatlas::model::FeatureSet;
use gridatlas::store::Store;
use http_support::{enc, post_draft as post, problem, run};
use serde_json::Value;
use shapefiles::{DEMO, MAPPING, assert_same, chinese_geojson, ogr, opts, problems};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

struct Fixture {
    dir: tempfile::TempDir,
    /// Every feature in one layer `grids`.
    one: PathBuf,
    /// Two layers, `areas` and `roads`.
    two: PathBuf,
    /// Every feature as a GBK CSV with a WKT column in EPSG:4528.
    csv_gbk: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let (areas, roads) = chinese_geojson(dir.path());
        let all = dir.path().join("all.geojson");
        let one = dir.path().join("demo.gpkg");
        let two = dir.path().join("layers.gpkg");
        let p = |x: &Path| x.to_str().expect("path").to_string();
        let gk = ["-s_srs", "EPSG:4490", "-t_srs", "EPSG:4528"];
        let mut args = vec!["-f", "GPKG"];
        args.extend(gk);
        let (one_s, all_s, two_s, areas_s, roads_s) =
            (p(&one), p(&all), p(&two), p(&areas), p(&roads));
        ogr(&[&args[..], &["-nln", "grids", &one_s, &all_s]].concat());
        ogr(&[&args[..], &["-nln", "areas", &two_s, &areas_s]].concat());
        ogr(&[&args[..], &["-update", "-nln", "roads", &two_s, &roads_s]].concat());
        let csv = dir.path().join("grids.csv");
        let mut args = vec!["-f", "CSV", "-lco", "GEOMETRY=AS_WKT"];
        args.extend(gk);
        ogr(&[&args[..], &[&p(&csv), &all_s]].concat());
        let text = std::fs::read_to_string(&csv).expect("GDAL writes UTF-8");
        assert!(text.starts_with("WKT,"), "{}", &text[..40]);
        let (gbk, _, bad) = encoding_rs::GBK.encode(&text);
        assert!(!bad);
        Fixture {
            dir,
            one,
            two,
            csv_gbk: gbk.into_owned(),
        }
    })
}

fn demo() -> FeatureSet {
    gridatlas::geo_io::read_path(Path::new(DEMO)).expect("demo")
}

#[test]
fn gdal_geopackages_read_as_the_geojson() {
    let fx = fixture();
    let original = demo();
    // One layer, from the path (the CLI's way) and from memory (the upload's).
    let read = source::read_path(None, &fx.one, &opts()).expect("demo.gpkg");
    let worst = assert_same(&original, &read);
    eprintln!("one layer: worst vertex distance {worst:.3e} m");
    let bytes = std::fs::read(&fx.one).expect("read");
    let read = source::read_bytes(Format::GeoPackage, "demo.gpkg", &bytes, &opts()).expect("bytes");
    assert_same(&original, &read);
    // Two layers: parents across them, each layer's own geometry type.
    let read = source::read_path(Some(Format::GeoPackage), &fx.two, &opts()).expect("layers");
    assert_same(&original, &read);
    // The tables, as the mapping step sees them: the fid is not a column.
    let tables = source::read_tables(
        Format::GeoPackage,
        "layers.gpkg",
        &std::fs::read(&fx.two).expect("r"),
        &opts(),
    )
    .expect("tables");
    let names: Vec<&str> = tables.iter().map(|t| t.layer.as_str()).collect();
    assert_eq!(names, ["areas", "roads"]);
    assert_eq!(tables[0].columns[..3], ["图层", "网格编码", "网格名称"]);
    assert_eq!(tables[0].rows[0].record, 1);
}

#[test]
fn geopackage_problems_are_located() {
    let fx = fixture();
    // Without a mapping: the columns found, at the layer.
    let ps = problems(source::read_path(None, &fx.two, &ImportOptions::default()));
    assert_eq!(ps[0].path, "layers.gpkg layer areas", "{ps:?}");
    assert!(
        ps[0].message.contains("图层, 网格编码, 网格名称"),
        "{}",
        ps[0].message
    );
    // A wrong mapping: parents unknown, by layer, feature (fid) and column.
    let mut m = ColumnMapping::from_json(MAPPING).expect("m");
    m.parent = Some("网格名称".into());
    let o = ImportOptions {
        mapping: Some(m),
        ..ImportOptions::default()
    };
    let ps = problems(source::read_path(None, &fx.one, &o));
    let p = ps
        .iter()
        .find(|p| p.message.starts_with("unknown parent"))
        .expect("unknown parent");
    assert!(
        p.path.starts_with("demo.gpkg layer grids feature ")
            && p.path.ends_with(", field 网格名称"),
        "{p:?}"
    );
    // Truncated.
    let bytes = std::fs::read(&fx.one).expect("read");
    let ps = problems(source::read_bytes(
        Format::GeoPackage,
        "demo.gpkg",
        &bytes[..bytes.len() / 2],
        &opts(),
    ));
    assert_eq!(ps[0].path, "demo.gpkg");
    assert!(ps[0].message.starts_with("truncated"), "{}", ps[0].message);
    // Not a GeoPackage.
    let ps = problems(source::read_bytes(
        Format::GeoPackage,
        "x.gpkg",
        b"{}",
        &opts(),
    ));
    assert!(ps[0].message.contains("not a GeoPackage"), "{ps:?}");
    // A view registered as a layer, and a corrupt geometry.
    let edited = fx.dir.path().join("view.gpkg");
    std::fs::copy(&fx.one, &edited).expect("copy");
    let mut conn = SqliteConnection::establish(edited.to_str().expect("p")).expect("open");
    conn.batch_execute(
        "CREATE VIEW v AS SELECT * FROM grids;
         INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES ('v', 'features', 'v', 4528);
         INSERT INTO gpkg_geometry_columns VALUES ('v', 'geom', 'GEOMETRY', 4528, 0, 0);
         -- GDAL's R-tree triggers call SpatiaLite functions this connection lacks.
         DROP TRIGGER IF EXISTS rtree_grids_geom_insert;
         DROP TRIGGER IF EXISTS rtree_grids_geom_update1;
         DROP TRIGGER IF EXISTS rtree_grids_geom_update2;
         DROP TRIGGER IF EXISTS rtree_grids_geom_update3;
         DROP TRIGGER IF EXISTS rtree_grids_geom_update4;
         DROP TRIGGER IF EXISTS rtree_grids_geom_update5;
         DROP TRIGGER IF EXISTS rtree_grids_geom_update6;
         DROP TRIGGER IF EXISTS rtree_grids_geom_update7;
         DROP TRIGGER IF EXISTS rtree_grids_geom_delete;
         UPDATE grids SET geom = X'47500003' WHERE fid = 12;",
    )
    .expect("edit");
    drop(conn);
    let ps = problems(source::read_path(None, &edited, &opts()));
    assert!(
        ps.iter()
            .any(|p| p.path == "view.gpkg layer v" && p.message.contains("a view")),
        "{ps:?}"
    );
    assert!(
        ps.iter()
            .any(|p| p.path == "view.gpkg layer grids feature 12, geometry"
                && p.message.contains("not a GeoPackage geometry")),
        "{ps:?}"
    );
    // A system that is not taken (Beijing 1954), unless one is given.
    let srs = fx.dir.path().join("srs.gpkg");
    std::fs::copy(&fx.one, &srs).expect("copy");
    let mut conn = SqliteConnection::establish(srs.to_str().expect("p")).expect("open");
    conn.batch_execute(
        "UPDATE gpkg_spatial_ref_sys SET organization_coordsys_id = 2437 WHERE srs_id = 4528",
    )
    .expect("edit");
    drop(conn);
    let ps = problems(source::read_path(None, &srs, &opts()));
    assert_eq!(ps[0].path, "srs.gpkg layer grids", "{ps:?}");
    assert!(ps[0].message.contains("Beijing"), "{}", ps[0].message);
    let mut o = opts();
    o.crs = Some(source::parse_crs("EPSG:4528").expect("crs"));
    assert_eq!(
        source::read_path(None, &srs, &o).expect("given").len(),
        5746
    );
}

fn csv_opts() -> ImportOptions {
    let mut o = opts();
    o.crs = Some(source::parse_crs("EPSG:4528").expect("crs"));
    o
}

#[test]
fn gbk_wkt_csv_reads_as_the_geojson() {
    let fx = fixture();
    let read = source::read_bytes(Format::Csv, "grids.csv", &fx.csv_gbk, &csv_opts()).expect("csv");
    let worst = assert_same(&demo(), &read);
    eprintln!("csv: worst vertex distance {worst:.3e} m");
    // The same from a path (the CLI's way), encoding given.
    let path = fx.dir.path().join("gbk.csv");
    std::fs::write(&path, &fx.csv_gbk).expect("write");
    let mut o = csv_opts();
    o.encoding = Some(gridatlas::geo_io::dbf::DbfEncoding::Gbk);
    assert_eq!(
        source::read_path(None, &path, &o).expect("path").len(),
        5746
    );
}

#[test]
fn csv_problems_are_located() {
    let fx = fixture();
    // Told UTF-8 over GBK bytes: the header (Chinese column names) is line 1.
    let mut o = csv_opts();
    o.encoding = Some(gridatlas::geo_io::dbf::DbfEncoding::Utf8);
    let ps = problems(source::read_bytes(
        Format::Csv,
        "grids.csv",
        &fx.csv_gbk,
        &o,
    ));
    assert_eq!(ps[0].path, "grids.csv line 1", "{ps:?}");
    assert!(
        ps[0].message.contains("not valid utf-8"),
        "{}",
        ps[0].message
    );
    // Without crs=, the Gauss–Krüger numbers are not longitudes.
    let mut o = opts();
    o.read.max_features = None;
    let ps = problems(source::read_bytes(
        Format::Csv,
        "grids.csv",
        &fx.csv_gbk,
        &o,
    ));
    assert_eq!(ps[0].path, "grids.csv line 2, field WKT", "{ps:?}");
    // A bad WKT on line 3, with a value over two lines before it.
    let csv = "wkt,code,name,layer\n\"POINT (121.5 31.2)\",A,\"two\nlines\",district\n\"POLYGON ((121 31, 122 31, 122 32\",B,b,street\n";
    let ps = problems(source::read_bytes(
        Format::Csv,
        "bad.csv",
        csv.as_bytes(),
        &ImportOptions::default(),
    ));
    assert_eq!(ps[0].path, "bad.csv line 4, field wkt", "{ps:?}");
    assert!(
        ps[0].message.contains("WKT at character 33: expected ')'"),
        "{}",
        ps[0].message
    );
}

#[test]
fn lon_lat_csv_makes_points() {
    // Points: the table has them in longitude/latitude (here from EPSG:4528 eastings and
    // northings), and the layer checks refuse points as everywhere, located by line.
    let gk = gridatlas::geo_io::crs::FileCrs::from_epsg(4528).expect("4528");
    let (e, n) = gk.from_lon_lat(121.45, 31.22).expect("fwd");
    let csv = format!("编码,名称,图层,东,北\nP1,一,居村网格,{e},{n}\n");
    let mut o = ImportOptions {
        mapping: Some(
            ColumnMapping::from_json(
                r#"{"code":"编码","name":"名称","layer":"图层","lon":"东","lat":"北"}"#,
            )
            .expect("m"),
        ),
        ..ImportOptions::default()
    };
    o.crs = Some(gk);
    let t = source::read_tables(Format::Csv, "pts.csv", csv.as_bytes(), &o).expect("tables");
    assert_eq!(t[0].layer, "pts");
    assert_eq!(t[0].columns, ["编码", "名称", "图层"]);
    let c = &t[0].rows[0].geometry["coordinates"];
    assert!((c[0].as_f64().expect("lon") - 121.45).abs() < 1e-9, "{c}");
    assert!((c[1].as_f64().expect("lat") - 31.22).abs() < 1e-9, "{c}");
    let ps = problems(source::read_bytes(
        Format::Csv,
        "pts.csv",
        csv.as_bytes(),
        &o,
    ));
    assert!(
        ps.iter().any(|p| p.path.starts_with("pts.csv line 2")),
        "{ps:?}"
    );
}

#[test]
fn cli_validates_a_geopackage() {
    let fx = fixture();
    let bin = env!("CARGO_BIN_EXE_gridatlas");
    let out = std::process::Command::new(bin)
        .args([
            "validate",
            fx.one.to_str().expect("p"),
            "--mapping",
            MAPPING,
            "--format",
            "json",
        ])
        .output()
        .expect("run");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert!(report["summary"].is_object(), "{report}");
    // Without the mapping: exit 2, the layer's columns listed.
    let out = std::process::Command::new(bin)
        .args(["validate", fx.one.to_str().expect("p")])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("demo.gpkg layer grids") && err.contains("网格编码"),
        "{err}"
    );
}

async fn start(db: &TestDb) -> (String, String, Arc<dyn Store>) {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let (base, token) = http_support::start_demo(store.clone()).await;
    (base, token, store)
}

fn geopackage_upload(db: &TestDb) {
    let gpkg = std::fs::read(&fixture().two).expect("read");
    run(async move {
        let (base, token, _store) = start(db).await;
        let q = format!("?mapping={}", enc(MAPPING));
        let r = post(
            &base,
            &token,
            &q,
            "application/geopackage+sqlite3",
            gpkg.clone(),
        )
        .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let d: Value = r.json().await.expect("json");
        assert_eq!(d["features"], 5746, "{d}");
        // Octet-stream with the file name's extension.
        let q = format!("?filename=layers.gpkg&mapping={}", enc(MAPPING));
        let r = post(&base, &token, &q, "application/octet-stream", gpkg.clone()).await;
        assert_eq!(r.status(), 201);
        // Truncated: 422 located at the file.
        let r = post(
            &base,
            &token,
            &q,
            "application/octet-stream",
            gpkg[..gpkg.len() / 3].to_vec(),
        )
        .await;
        let p = problem(r, 422).await;
        assert_eq!(p["problems"][0]["path"], "layers.gpkg", "{p}");
        // A GBK CSV with WKT in EPSG:4528, as text/csv and by its extension.
        let csv = fixture().csv_gbk.clone();
        let q = format!("?crs=EPSG:4528&mapping={}", enc(MAPPING));
        let r = post(&base, &token, &q, "text/csv", csv.clone()).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        let q = format!("?filename=grids.csv&crs=EPSG:4528&mapping={}", enc(MAPPING));
        let r = post(&base, &token, &q, "application/octet-stream", csv.clone()).await;
        assert_eq!(r.status(), 201);
        let r = post(
            &base,
            &token,
            &format!("{q}&encoding=utf-8"),
            "text/csv",
            csv,
        )
        .await;
        let p = problem(r, 422).await;
        assert_eq!(p["problems"][0]["path"], "grids.csv line 1", "{p}");
        // Unknown type: the 415 names the types taken.
        let r = post(&base, &token, "", "text/plain", gpkg).await;
        let p = problem(r, 415).await;
        assert!(
            p["detail"]
                .as_str()
                .expect("detail")
                .contains("application/geopackage+sqlite3"),
            "{p}"
        );
    });
}

suite!(geopackage_upload);
