//! Shapefile import against GDAL: the demo district made into Shapefiles by `ogr2ogr` (installed
//! by scripts/ensure-gdal) — GBK attributes with Chinese column names, CGCS2000 3° Gauss–Krüger
//! zone 40 (EPSG:4528) — reads back, through a column mapping, to the same features as the
//! GeoJSON with every vertex within 1 mm; and the located errors: missing and wrong .prj, mixed
//! geometry, truncated .shp, wrong encoding, a table without the standard names.

#[path = "support/shapefiles.rs"]
mod shapefiles;

use gridatlas::geo_io::mapping::ColumnMapping;
use gridatlas::geo_io::source::{self, Format, ImportOptions};
use gridatlas::model::Layer;
use shapefiles::{DEMO, MAPPING, assert_same, fixture, opts, problems, zip_shapefiles};
use std::path::Path;

#[test]
fn gbk_gauss_kruger_shapefile_reads_as_the_geojson() {
    let original = gridatlas::geo_io::read_path(Path::new(DEMO)).expect("demo");
    let fx = fixture();
    let cpg = std::fs::read(fx.shps[0].with_extension("cpg")).expect("GDAL writes a .cpg");
    assert!(String::from_utf8_lossy(&cpg).contains("936"));
    // Zipped, from memory.
    let read = source::read_bytes(Format::Shapefile, "demo.zip", &fx.zip, &opts()).expect("zip");
    let worst = assert_same(&original, &read);
    eprintln!("zip: worst vertex distance {:.3e} m", worst);
    // The .shp path with its sidecars beside it (the areas only).
    let areas = source::read_path(None, &fx.shps[0], &{
        let mut o = opts();
        o.read.known_parents = None;
        o
    });
    let areas = areas.expect("areas.shp");
    assert_eq!(
        areas.len(),
        original
            .features()
            .iter()
            .filter(|f| f.layer != Layer::RoadSegment)
            .count()
    );
    // Without the .cpg: detected (the bytes are not UTF-8, so GBK).
    let no_cpg = zip_shapefiles(&fx.shps, &|n, b| (!n.ends_with(".cpg")).then_some(b));
    let read = source::read_bytes(Format::Shapefile, "demo.zip", &no_cpg, &opts()).expect("no cpg");
    assert_same(&original, &read);
}

#[test]
fn missing_prj_is_located_unless_given() {
    let fx = fixture();
    let zip = zip_shapefiles(&fx.shps, &|n, b| (!n.ends_with(".prj")).then_some(b));
    let ps = problems(source::read_bytes(
        Format::Shapefile,
        "demo.zip",
        &zip,
        &opts(),
    ));
    assert_eq!(ps.len(), 2, "{ps:?}");
    assert_eq!(ps[0].path, "areas.prj");
    assert!(ps[0].message.starts_with("missing"), "{}", ps[0].message);
    assert!(ps[0].message.contains("EPSG:4528"), "{}", ps[0].message);
    let mut o = opts();
    o.crs = Some(source::parse_crs("EPSG:4528").expect("crs"));
    let set = source::read_bytes(Format::Shapefile, "demo.zip", &zip, &o).expect("with crs");
    assert_eq!(set.len(), 5746);
}

#[test]
fn wrong_prj_is_located() {
    let fx = fixture();
    // Xi'an 1980: refused by name, for the areas' .prj.
    let xian = br#"PROJCS["Xian_1980_3_Degree_GK_Zone_40",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",40500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    let zip = zip_shapefiles(&fx.shps, &|n, b| {
        Some(if n == "areas.prj" { xian.to_vec() } else { b })
    });
    let ps = problems(source::read_bytes(
        Format::Shapefile,
        "demo.zip",
        &zip,
        &opts(),
    ));
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0].path, "areas.prj");
    assert!(ps[0].message.contains("Xi'an 1980"), "{}", ps[0].message);
    // A .prj of another zone (CM 117E, no prefix): the vertices land outside China.
    let wrong = br#"PROJCS["CGCS2000_3_Degree_GK_CM_117E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",117.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    let zip = zip_shapefiles(&fx.shps, &|n, b| {
        Some(if n == "roads.prj" { wrong.to_vec() } else { b })
    });
    let ps = problems(source::read_bytes(
        Format::Shapefile,
        "demo.zip",
        &zip,
        &opts(),
    ));
    assert!(!ps.is_empty());
    assert_eq!(ps[0].path, "roads.shp record 1, geometry", "{ps:?}");
    assert!(
        ps[0].message.contains("EPSG:4548") || ps[0].message.contains("CM 117E"),
        "{}",
        ps[0].message
    );
}

#[test]
fn mixed_geometry_is_located() {
    let fx = fixture();
    // Record 3 of areas.shp made a polyline (same layout as a polygon): shape type 5 → 3.
    let zip = zip_shapefiles(&fx.shps, &|n, mut b| {
        if n == "areas.shp" {
            let mut pos = 100usize;
            for _ in 0..2 {
                let len = u32::from_be_bytes(b[pos + 4..pos + 8].try_into().expect("len")) as usize;
                pos += 8 + 2 * len;
            }
            assert_eq!(b[pos + 8], 5);
            b[pos + 8] = 3;
        }
        Some(b)
    });
    let ps = problems(source::read_bytes(
        Format::Shapefile,
        "demo.zip",
        &zip,
        &opts(),
    ));
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!(ps[0].path, "areas.shp record 3, geometry");
    assert!(
        ps[0].message.contains("mixed geometry"),
        "{}",
        ps[0].message
    );
}

#[test]
fn truncated_shp_is_located() {
    let fx = fixture();
    let zip = zip_shapefiles(&fx.shps, &|n, b| {
        Some(if n == "roads.shp" {
            b[..b.len() / 2].to_vec()
        } else {
            b
        })
    });
    let ps = problems(source::read_bytes(
        Format::Shapefile,
        "demo.zip",
        &zip,
        &opts(),
    ));
    assert!(
        ps.iter()
            .any(|p| p.path == "roads.shp" && p.message.starts_with("truncated")),
        "{ps:?}"
    );
    let cut = ps
        .iter()
        .find(|p| p.path.starts_with("roads.shp record "))
        .expect("the record where it is cut");
    assert!(
        cut.message.contains("truncated or corrupt"),
        "{}",
        cut.message
    );
}

#[test]
fn wrong_encoding_is_located() {
    let fx = fixture();
    // The .cpg claims UTF-8 over GBK bytes.
    let zip = zip_shapefiles(&fx.shps, &|n, b| {
        Some(if n.ends_with(".cpg") {
            b"UTF-8".to_vec()
        } else {
            b
        })
    });
    let ps = problems(source::read_bytes(
        Format::Shapefile,
        "demo.zip",
        &zip,
        &opts(),
    ));
    let first = &ps[0];
    assert_eq!(first.path, "areas.dbf field 1", "{ps:?}");
    assert!(
        first
            .message
            .contains("not valid utf-8 (chosen by the .cpg)"),
        "{}",
        first.message
    );
    assert!(
        ps.iter()
            .any(|p| p.path.starts_with("areas.dbf record 1, field ")),
        "{ps:?}"
    );
    // Given explicitly, the encoding wins over the .cpg.
    let mut o = opts();
    o.encoding = Some(gridatlas::geo_io::dbf::DbfEncoding::Gbk);
    assert_eq!(
        source::read_bytes(Format::Shapefile, "demo.zip", &zip, &o)
            .expect("gbk given")
            .len(),
        5746
    );
}

#[test]
fn no_mapping_lists_the_columns_and_problems_name_columns() {
    let fx = fixture();
    let ps = problems(source::read_bytes(
        Format::Shapefile,
        "demo.zip",
        &fx.zip,
        &ImportOptions::default(),
    ));
    assert_eq!(ps.len(), 2, "{ps:?}");
    assert_eq!(ps[0].path, "areas.shp");
    assert!(
        ps[0]
            .message
            .contains("its columns are 图层, 网格编码, 网格名称"),
        "{}",
        ps[0].message
    );
    assert!(
        ps[0].message.contains("give a column mapping"),
        "{}",
        ps[0].message
    );
    // A wrong mapping (name and code swapped): duplicate names are fine, but the parents are
    // unknown codes — located by record and column.
    let mut m = ColumnMapping::from_json(MAPPING).expect("m");
    m.parent = Some("网格名称".into());
    let o = ImportOptions {
        mapping: Some(m),
        ..ImportOptions::default()
    };
    let ps = problems(source::read_bytes(
        Format::Shapefile,
        "demo.zip",
        &fx.zip,
        &o,
    ));
    let p = ps
        .iter()
        .find(|p| p.message.starts_with("unknown parent"))
        .expect("unknown parent");
    assert!(
        p.path.starts_with("areas.shp record ") && p.path.ends_with(", field 网格名称"),
        "{p:?}"
    );
}

/// `gridatlas export --from FILE.zip` converts the Shapefile (GBK, Gauss–Krüger, Chinese
/// columns through `--from-mapping`) to the same GeoJSON; a wrong `--from-encoding` stops with
/// located problems and writes nothing.
#[test]
fn export_from_converts_a_shapefile() {
    let original = gridatlas::geo_io::read_path(Path::new(DEMO)).expect("demo");
    let fx = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = dir.path().join("demo.zip");
    std::fs::write(&zip, &fx.zip).expect("zip");
    let out = dir.path().join("out.geojson");
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gridatlas"))
            .args(["export", "--from"])
            .arg(&zip)
            .args(["--from-mapping", MAPPING])
            .args(extra)
            .arg("--output")
            .arg(&out)
            .output()
            .expect("run gridatlas")
    };
    let ok = run(&[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let read = gridatlas::geo_io::read_path(&out).expect("the GeoJSON written");
    assert_same(&original, &read);
    std::fs::remove_file(&out).expect("rm");
    let bad = run(&["--from-encoding", "utf-8"]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("record") && err.contains("utf-8"),
        "a located encoding problem: {err}"
    );
    assert!(!out.exists(), "nothing written on a failed read");
    let flag = run(&["--from-crs", "EPSG:9999"]);
    assert!(!flag.status.success());
    assert!(
        String::from_utf8_lossy(&flag.stderr).contains("--from-crs"),
        "{}",
        String::from_utf8_lossy(&flag.stderr)
    );
}
