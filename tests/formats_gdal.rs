//! The Shapefile and GeoPackage exports and the `.prj` writer read back by GDAL, an
//! independent implementation (Debian `gdal-bin`, installed by `scripts/ensure-gdal`), and
//! `geo_io::crs::FileCrs` checked against GDAL/PROJ's `gdaltransform` — the second reference
//! besides the pyproj table of tests/projection.rs.
//!
//! The demo district is exported as a GBK Shapefile in CGCS2000 3° Gauss–Krüger zone 40
//! (EPSG:4528) and as a GeoPackage; `ogr2ogr -t_srs EPSG:4490` converts each layer back to
//! GeoJSON, which must hold the same features: count per layer, codes, Chinese names, parents,
//! kinds, people, attributes, and every coordinate within 1 mm of the original.

#[path = "support/gdal.rs"]
mod gdal_support;

use gdal_support::{gdal, ogr_layer, run};
use gridatlas::geo_io::crs::FileCrs;
use gridatlas::geo_io::export::{self, Encoding, Options};
use gridatlas::geo_io::prj_write;
use gridatlas::model::{Feature, FeatureSet, Geometry, Layer};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn demo() -> FeatureSet {
    gridatlas::geo_io::read_path(&root().join("fixtures/demo-district.geojson"))
        .expect("the demo district reads")
}

type Ring = Vec<(f64, f64)>;

/// The rings of a geometry, each turned counter-clockwise, sorted by their first point (GDAL
/// may give holes and parts in another order or orientation).
fn rings_of_model(g: &Geometry) -> Vec<Ring> {
    let pts = |ls: &geo::LineString<f64>| ls.0.iter().map(|c| (c.x, c.y)).collect::<Ring>();
    let rings = match g {
        Geometry::Area(mp) => {
            mp.0.iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .map(pts)
                .collect()
        }
        Geometry::Line(ml) => ml.0.iter().map(pts).collect(),
    };
    normalise(rings, g.as_area().is_some())
}

fn rings_of_json(g: &Value) -> Vec<Ring> {
    let ring = |r: &Value| -> Ring {
        r.as_array()
            .expect("ring")
            .iter()
            .map(|p| (p[0].as_f64().expect("x"), p[1].as_f64().expect("y")))
            .collect()
    };
    let c = &g["coordinates"];
    let list = |v: &Value| v.as_array().expect("array").clone();
    let (rings, area): (Vec<Ring>, bool) = match g["type"].as_str().expect("type") {
        "Polygon" => (list(c).iter().map(ring).collect(), true),
        "MultiPolygon" => (
            list(c).iter().flat_map(list).map(|r| ring(&r)).collect(),
            true,
        ),
        "LineString" => (vec![ring(c)], false),
        "MultiLineString" => (list(c).iter().map(ring).collect(), false),
        t => panic!("unexpected geometry type {t}"),
    };
    normalise(rings, area)
}

fn normalise(mut rings: Vec<Ring>, area: bool) -> Vec<Ring> {
    if area {
        for r in &mut rings {
            let a: f64 = r
                .windows(2)
                .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
                .sum();
            if a < 0.0 {
                r.reverse();
            }
        }
    }
    rings.sort_by(|a, b| a[0].partial_cmp(&b[0]).expect("finite"));
    rings
}

/// The largest distance in metres between corresponding points (panics on a shape mismatch).
fn max_distance(a: &[Ring], b: &[Ring], what: &str) -> f64 {
    assert_eq!(a.len(), b.len(), "{what}: number of rings/parts");
    let mut worst = 0.0f64;
    for (ra, rb) in a.iter().zip(b) {
        assert_eq!(ra.len(), rb.len(), "{what}: number of points");
        for (p, q) in ra.iter().zip(rb) {
            let dy = (p.1 - q.1) * 111_320.0;
            let dx = (p.0 - q.0) * 111_320.0 * p.1.to_radians().cos();
            worst = worst.max(dx.hypot(dy));
        }
    }
    worst
}

/// A JSON text column as GDAL's GeoJSON writer gives it: the text, or (when GDAL recognises
/// it as JSON) the value itself.
fn json_column(v: &Value) -> Value {
    match v {
        Value::String(s) => serde_json::from_str(s).expect("the column's text is JSON"),
        Value::Array(_) | Value::Object(_) => v.clone(),
        other => panic!("expected JSON text, got {other}"),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Checks GDAL's reading of one layer against the original features; answers the worst
/// coordinate error in metres. `people` says how the people were written.
fn check_layer(original: &[&Feature], read: &[Value], people_split: bool) -> f64 {
    assert_eq!(read.len(), original.len(), "feature count");
    let mut worst = 0.0f64;
    for (f, r) in original.iter().zip(read) {
        let p = &r["properties"];
        assert_eq!(p["code"].as_str(), Some(f.code.as_str()));
        assert_eq!(p["name"].as_str(), Some(f.name.as_str()), "{}", f.code);
        assert_eq!(p["layer"].as_str(), Some(f.layer.as_str()));
        assert_eq!(text(&p["parent"]), f.parent, "{}", f.code);
        assert_eq!(
            text(&p["kind"]),
            f.kind.map(|k| k.as_str().to_owned()),
            "{}",
            f.code
        );
        if people_split {
            for (i, person) in f.people.iter().enumerate() {
                let n = i + 1;
                assert_eq!(
                    text(&p[format!("p{n}_role")]).as_deref(),
                    Some(person.role.as_str())
                );
                assert_eq!(
                    text(&p[format!("p{n}_name")]).as_deref(),
                    Some(person.name.as_str())
                );
                assert_eq!(text(&p[format!("p{n}_tel")]), person.phone, "{}", f.code);
                assert_eq!(text(&p[format!("p{n}_photo")]), person.photo_url);
            }
        } else if !f.people.is_empty() {
            let got = json_column(&p["people"]);
            assert_eq!(got, serde_json::to_value(&f.people).expect("people"));
        }
        for (k, v) in &f.attributes {
            let column = if people_split && k == "police_station" {
                "police_sta"
            } else {
                k.as_str()
            };
            assert_eq!(text(&p[column]), text(v), "{} attribute {k}", f.code);
        }
        let d = max_distance(
            &rings_of_model(&f.geometry),
            &rings_of_json(&r["geometry"]),
            &f.code,
        );
        worst = worst.max(d);
    }
    worst
}

#[test]
fn the_demo_district_as_a_gbk_shapefile_in_gauss_kruger_zone_40_reads_back_in_gdal() {
    gdal();
    let set = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = dir.path().join("demo.zip");
    let opts = Options {
        crs: FileCrs::from_epsg(4528).expect("4528"),
        encoding: Encoding::Gbk,
    };
    std::fs::write(
        &zip,
        export::shapefile::to_zip_bytes(&set, &opts).expect("exported"),
    )
    .expect("written");
    let source = format!("/vsizip/{}", zip.display());
    let info = run(Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(&source));
    assert!(
        info.contains("CGCS2000_3_Degree_GK_Zone_40") || info.contains("zone 40"),
        "{info}"
    );
    let srs = run(Command::new("gdalsrsinfo")
        .args(["-e", "-o", "epsg"])
        .arg(format!("{source}/block.prj")));
    assert_eq!(srs.trim(), "EPSG:4528");
    let mut worst = 0.0f64;
    let mut layers = 0;
    for layer in Layer::ALL {
        let original: Vec<&Feature> = set.layer(layer).collect();
        if original.is_empty() {
            continue;
        }
        layers += 1;
        let read = ogr_layer(&source, layer.as_str(), dir.path());
        worst = worst.max(check_layer(&original, &read, true));
    }
    assert_eq!(layers, 7);
    println!(
        "Shapefile EPSG:4528 GBK: worst coordinate error {:.3e} m",
        worst
    );
    assert!(worst < 1e-3, "{worst} m");
}

#[test]
fn the_demo_district_as_a_utf8_shapefile_in_lon_lat_keeps_its_chinese_names() {
    gdal();
    let set = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let zip = dir.path().join("demo.zip");
    let opts = Options {
        crs: FileCrs::CGCS2000,
        encoding: Encoding::Utf8,
    };
    std::fs::write(
        &zip,
        export::shapefile::to_zip_bytes(&set, &opts).expect("exported"),
    )
    .expect("written");
    let source = format!("/vsizip/{}", zip.display());
    let original: Vec<&Feature> = set.layer(Layer::Street).collect();
    let read = ogr_layer(&source, "street", dir.path());
    let worst = check_layer(&original, &read, true);
    assert!(worst < 1e-3, "{worst} m");
}

#[test]
fn the_demo_district_as_a_geopackage_reads_back_in_gdal() {
    gdal();
    let set = demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("demo.gpkg");
    let opts = Options {
        crs: FileCrs::from_epsg(4528).expect("4528"),
        encoding: Encoding::Utf8,
    };
    export::gpkg::write_path(&set, &opts, &path).expect("exported");
    let source = path.display().to_string();
    let info = run(Command::new("ogrinfo").args(["-ro", "-so"]).arg(&source));
    for layer in Layer::ALL {
        assert!(info.contains(layer.as_str()), "{info}");
    }
    let mut worst = 0.0f64;
    for layer in Layer::ALL {
        let original: Vec<&Feature> = set.layer(layer).collect();
        let read = ogr_layer(&source, layer.as_str(), dir.path());
        worst = worst.max(check_layer(&original, &read, false));
    }
    println!(
        "GeoPackage EPSG:4528: worst coordinate error {:.3e} m",
        worst
    );
    assert!(worst < 1e-3, "{worst} m");
    let units = ogr_layer(&source, "management_units", dir.path());
    assert_eq!(units.len(), set.management_units.len());
    for (u, r) in set.management_units.iter().zip(&units) {
        assert_eq!(r["properties"]["code"].as_str(), Some(u.code.as_str()));
        assert_eq!(r["properties"]["name"].as_str(), Some(u.name.as_str()));
        let grids = json_column(&r["properties"]["grids"]);
        assert_eq!(grids, serde_json::to_value(&u.grids).expect("grids"));
    }
    // GDAL's own validation of the GeoPackage structure.
    let srs = run(Command::new("ogrinfo").args(["-ro", "-so", &source, "block"]));
    assert!(srs.contains("Geometry: Multi Polygon"), "{srs}");
    assert!(srs.contains("Feature Count: "), "{srs}");
}

#[test]
fn every_prj_written_is_gdal_s_own_text_and_identified_as_its_epsg_code() {
    gdal();
    let dir = tempfile::tempdir().expect("tempdir");
    for code in prj_write::catalogue() {
        let crs = FileCrs::from_epsg(code).expect("catalogue");
        let wkt = prj_write::esri_wkt(crs);
        let gdal_text = run(Command::new("gdalsrsinfo")
            .args(["-o", "wkt_esri", "--single-line"])
            .arg(format!("EPSG:{code}")));
        assert_eq!(wkt, gdal_text.trim(), "EPSG:{code}");
        let prj = dir.path().join(format!("{code}.prj"));
        std::fs::write(&prj, &wkt).expect("written");
        let found = run(Command::new("gdalsrsinfo")
            .args(["-e", "-o", "epsg"])
            .arg(&prj));
        assert_eq!(found.trim(), format!("EPSG:{code}"), "{wkt}");
    }
}

/// FileCrs against `gdaltransform` (PROJ through GDAL) on a grid over China, both ways, for
/// 3° and 6° zones with and without the zone prefix: within 1 mm.
#[test]
fn gauss_kruger_zones_match_gdaltransform_within_a_millimetre() {
    gdal();
    let mut worst_fwd = 0.0f64;
    let mut worst_inv = 0.0f64;
    for code in [4528, 4549, 4513, 4554, 4491, 4509, 4497, 4512, 32650, 3857] {
        let crs = FileCrs::from_epsg(code).expect("code");
        let cm = match crs {
            FileCrs::GaussKruger { cm, .. } => f64::from(cm),
            FileCrs::Utm { zone } => 6.0 * f64::from(zone) - 183.0,
            _ => 117.0,
        };
        let mut points = Vec::new();
        for lat in [18.5, 22.0, 25.3, 30.8, 35.0, 39.9, 44.1, 49.7, 53.2] {
            for off in [-3.0, -1.5, -0.7, 0.0, 0.4, 1.49, 2.9] {
                points.push((cm + off, lat));
            }
        }
        let input: String = points.iter().map(|(x, y)| format!("{x} {y}\n")).collect();
        let out = gdaltransform(
            &["-s_srs", "EPSG:4490", "-t_srs", &format!("EPSG:{code}")],
            &input,
        );
        let projected: Vec<(f64, f64)> = points
            .iter()
            .map(|&(lon, lat)| crs.from_lon_lat(lon, lat).expect("in range"))
            .collect();
        for ((x, y), (gx, gy)) in projected.iter().zip(&out) {
            worst_fwd = worst_fwd.max((x - gx).hypot(y - gy));
        }
        let input: String = projected
            .iter()
            .map(|(x, y)| format!("{x:.6} {y:.6}\n"))
            .collect();
        let back = gdaltransform(
            &["-s_srs", &format!("EPSG:{code}"), "-t_srs", "EPSG:4490"],
            &input,
        );
        for ((x, y), (glon, glat)) in projected.iter().zip(&back) {
            let x: f64 = format!("{x:.6}").parse().expect("number");
            let y: f64 = format!("{y:.6}").parse().expect("number");
            let (lon, lat) = crs.to_lon_lat(x, y).expect("in range");
            let dy = (lat - glat) * 111_320.0;
            let dx = (lon - glon) * 111_320.0 * lat.to_radians().cos();
            worst_inv = worst_inv.max(dx.hypot(dy));
        }
    }
    println!("FileCrs vs gdaltransform: forward {worst_fwd:.3e} m, inverse {worst_inv:.3e} m");
    assert!(
        worst_fwd < 1e-3 && worst_inv < 1e-3,
        "{worst_fwd} {worst_inv}"
    );
}

fn gdaltransform(args: &[&str], input: &str) -> Vec<(f64, f64)> {
    use std::io::Write;
    let mut child = Command::new("gdaltransform")
        .args(args)
        .arg("-output_xy")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gdaltransform starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("written");
    let out = child.wait_with_output().expect("gdaltransform ends");
    assert!(out.status.success());
    let lines: Vec<(f64, f64)> = String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(|l| {
            let v: Vec<f64> = l
                .split_whitespace()
                .map(|s| s.parse().expect("number"))
                .collect();
            (v[0], v[1])
        })
        .collect();
    assert_eq!(lines.len(), input.lines().count());
    lines
}
