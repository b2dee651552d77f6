//! Shapefiles made by GDAL's ogr2ogr (installed by scripts/ensure-gdal) from the demo district:
//! Chinese column names, GBK attributes, CGCS2000 3° Gauss–Krüger zone 40 (EPSG:4528); areas and
//! road segments in two layers (a Shapefile holds one geometry type), zipped.
#![allow(dead_code)]

use gridatlas::geo_io::crs::FileCrs;
use gridatlas::model::{Feature, FeatureSet, Geometry, Layer};
use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/demo-district.geojson"
);

/// The mapping of the Chinese columns the fixtures have.
pub const MAPPING: &str = r#"{"layer":"图层","code":"网格编码","name":"网格名称","parent":"所属街道","kind":"类型",
  "people":[{"role_column":"职务1","name":"责任人1","phone":"联系电话1"},
            {"role_column":"职务2","name":"责任人2","phone":"联系电话2"},
            {"role_column":"职务3","name":"责任人3","phone":"联系电话3"},
            {"role_column":"职务4","name":"责任人4","phone":"联系电话4"},
            {"role_column":"职务5","name":"责任人5","phone":"联系电话5"}]}"#;

fn ogr2ogr() -> &'static str {
    static P: OnceLock<String> = OnceLock::new();
    P.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/ensure-gdal");
        let out = Command::new(script)
            .output()
            .expect("run scripts/ensure-gdal");
        assert!(
            out.status.success(),
            "scripts/ensure-gdal failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .expect("ogr2ogr path")
            .trim()
            .to_string()
    })
}

fn run(args: &[&str]) {
    let out = Command::new(ogr2ogr())
        .args(args)
        .output()
        .expect("ogr2ogr");
    assert!(
        out.status.success(),
        "ogr2ogr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The demo's features with Chinese column names (layer, kind and role in Chinese), split into
/// areas and road segments (a Shapefile holds one geometry type).
pub fn chinese_geojson(dir: &Path) -> (PathBuf, PathBuf) {
    let demo: Value = serde_json::from_slice(&std::fs::read(DEMO).expect("demo")).expect("json");
    let mut areas = Vec::new();
    let mut roads = Vec::new();
    for f in demo["features"].as_array().expect("features") {
        let p = &f["properties"];
        let layer: Layer = p["layer"].as_str().expect("layer").parse().expect("layer");
        let mut q = Map::new();
        q.insert("图层".into(), json!(layer.name_zh()));
        q.insert("网格编码".into(), p["code"].clone());
        q.insert("网格名称".into(), p["name"].clone());
        q.insert("所属街道".into(), p["parent"].clone());
        let kind = p["kind"].as_str().map(|k| {
            gridatlas::model::Kind::ALL
                .into_iter()
                .find(|x| x.as_str() == k)
                .expect("kind")
                .name_zh()
        });
        q.insert("类型".into(), json!(kind));
        let people = p["people"].as_array().cloned().unwrap_or_default();
        assert!(people.len() <= 5, "the fixture has at most 5 people");
        for i in 1..=5 {
            let person = people.get(i - 1);
            let role = person.map(|x| {
                gridatlas::model::Role::ALL
                    .into_iter()
                    .find(|r| r.as_str() == x["role"].as_str().expect("role"))
                    .expect("role")
                    .name_zh()
            });
            q.insert(format!("职务{i}"), json!(role));
            q.insert(
                format!("责任人{i}"),
                person.map_or(Value::Null, |x| x["name"].clone()),
            );
            q.insert(
                format!("联系电话{i}"),
                person.map_or(Value::Null, |x| x["phone"].clone()),
            );
        }
        let g = json!({"type": "Feature", "properties": q, "geometry": f["geometry"]});
        if layer == Layer::RoadSegment {
            roads.push(g)
        } else {
            areas.push(g)
        }
    }
    let all: Vec<Value> = areas.iter().chain(&roads).cloned().collect();
    let write = |name: &str, fs: Vec<Value>| {
        let path = dir.join(name);
        let fc = json!({"type": "FeatureCollection", "features": fs});
        std::fs::write(&path, serde_json::to_vec(&fc).expect("json")).expect("write");
        path
    };
    write("all.geojson", all);
    (write("areas.geojson", areas), write("roads.geojson", roads))
}

/// Runs ogr2ogr with `args`.
pub fn ogr(args: &[&str]) {
    run(args)
}

/// The demo as a GBK Shapefile pair (areas, roads) in EPSG:4528, made by ogr2ogr in `dir`.
pub fn make_shapefiles(dir: &Path) -> Vec<PathBuf> {
    let (areas, roads) = chinese_geojson(dir);
    let mut out = Vec::new();
    for (src, name) in [(&areas, "areas.shp"), (&roads, "roads.shp")] {
        let dst = dir.join(name);
        run(&[
            "-f",
            "ESRI Shapefile",
            "-lco",
            "ENCODING=CP936",
            "-s_srs",
            "EPSG:4490",
            "-t_srs",
            "EPSG:4528",
            dst.to_str().expect("path"),
            src.to_str().expect("path"),
        ]);
        out.push(dst);
    }
    out
}

/// Changes (or drops, with `None`) a file's bytes, by its name.
pub type Edit<'a> = &'a dyn Fn(&str, Vec<u8>) -> Option<Vec<u8>>;

/// Zips every sidecar of `shps`; `edit` may change (or drop, with `None`) a file's bytes.
pub fn zip_shapefiles(shps: &[PathBuf], edit: Edit<'_>) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for shp in shps {
        for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
            let p = shp.with_extension(ext);
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            if let Some(bytes) = edit(&name, bytes) {
                w.start_file(name, zip::write::SimpleFileOptions::default())
                    .expect("start");
                w.write_all(&bytes).expect("write");
            }
        }
    }
    w.finish().expect("finish").into_inner()
}

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub shps: Vec<PathBuf>,
    pub zip: Vec<u8>,
}

pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let shps = make_shapefiles(dir.path());
        let zip = zip_shapefiles(&shps, &|_, b| Some(b));
        Fixture {
            _dir: dir,
            shps,
            zip,
        }
    })
}

/// Every feature of `a` is in `b` with the same properties and people (role, name, phone), and
/// every vertex within 1 mm on the ground (compared in EPSG:4528 metres). Returns the largest
/// distance in metres.
pub fn assert_same(a: &FeatureSet, b: &FeatureSet) -> f64 {
    assert_eq!(a.len(), b.len(), "feature count");
    let gk = FileCrs::from_epsg(4528).expect("4528");
    let mut worst = 0.0f64;
    let by_code: std::collections::HashMap<&str, &Feature> =
        b.features().iter().map(|f| (f.code.as_str(), f)).collect();
    for f in a.features() {
        let g = by_code
            .get(f.code.as_str())
            .unwrap_or_else(|| panic!("{} missing", f.code));
        assert_eq!(
            (f.layer, &f.name, &f.parent, f.kind),
            (g.layer, &g.name, &g.parent, g.kind),
            "{}",
            f.code
        );
        let people = |x: &Feature| {
            x.people
                .iter()
                .map(|p| (p.role, p.name.clone(), p.phone.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(people(f), people(g), "{} people", f.code);
        let pts = |x: &Feature| -> Vec<Vec<(f64, f64)>> {
            match &x.geometry {
                Geometry::Area(mp) => {
                    mp.0.iter()
                        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                        .map(|r| r.0.iter().map(|c| (c.x, c.y)).collect())
                        .collect()
                }
                Geometry::Line(ml) => {
                    ml.0.iter()
                        .map(|l| l.0.iter().map(|c| (c.x, c.y)).collect())
                        .collect()
                }
            }
        };
        let (pa, pb) = (pts(f), pts(g));
        assert_eq!(
            pa.iter().map(Vec::len).collect::<Vec<_>>(),
            pb.iter().map(Vec::len).collect::<Vec<_>>(),
            "{} rings",
            f.code
        );
        for (ra, rb) in pa.iter().zip(&pb) {
            for (&(x1, y1), &(x2, y2)) in ra.iter().zip(rb) {
                let (e1, n1) = gk.from_lon_lat(x1, y1).expect("project");
                let (e2, n2) = gk.from_lon_lat(x2, y2).expect("project");
                let d = (e1 - e2).hypot(n1 - n2);
                worst = worst.max(d);
                assert!(
                    d < 1e-3,
                    "{}: ({x1}, {y1}) read as ({x2}, {y2}), {d} m",
                    f.code
                );
            }
        }
    }
    worst
}

/// Import options mapping the Chinese columns of [`MAPPING`].
pub fn opts() -> gridatlas::geo_io::source::ImportOptions {
    gridatlas::geo_io::source::ImportOptions {
        mapping: Some(
            gridatlas::geo_io::mapping::ColumnMapping::from_json(MAPPING).expect("mapping"),
        ),
        ..Default::default()
    }
}

/// The located problems of a read that must fail with them.
pub fn problems(
    r: Result<FeatureSet, gridatlas::geo_io::ReadError>,
) -> Vec<gridatlas::geo_io::Problem> {
    match r {
        Err(gridatlas::geo_io::ReadError::Invalid(p)) => p,
        Err(e) => panic!("expected located problems, got {e}"),
        Ok(s) => panic!("expected problems, read {} features", s.len()),
    }
}
