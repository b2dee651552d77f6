//! Integration tests of the GeoJSON reader (docs/geojson-format.md): every rejection names the
//! feature index, its code and the JSON path; write → read gives the identical feature set.

use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon, Winding};
use gridatlas::geo_io::{Problem, ReadError, read, read_slice, write};
use gridatlas::model::{
    Feature, FeatureSet, Geometry, Kind, Layer, ManagementUnit, ManagementUnitKind, Person, Role,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers

fn square(x: f64, y: f64, d: f64) -> Value {
    json!([[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]])
}

fn area(layer: &str, code: &str, parent: Option<&str>, kind: Option<&str>) -> Value {
    let mut props = json!({"layer": layer, "code": code, "name": format!("{layer} {code}")});
    if let Some(p) = parent {
        props["parent"] = json!(p);
    }
    if let Some(k) = kind {
        props["kind"] = json!(k);
    }
    json!({
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": square(121.0, 30.8, 0.01)},
    })
}

fn road(code: &str, parent: &str) -> Value {
    json!({
        "type": "Feature",
        "properties": {"layer": "road_segment", "code": code, "name": "road", "parent": parent},
        "geometry": {"type": "LineString", "coordinates": [[121.0, 30.8], [121.001, 30.801]]},
    })
}

/// A valid little territory: district D, street S, resident grid G, block B, road segment R.
fn territory() -> Vec<Value> {
    vec![
        area("district", "D", None, None),
        area("street", "S", Some("D"), Some("town")),
        area("resident_grid", "G", Some("S"), Some("residents")),
        area("block", "B", Some("G"), None),
        road("R", "B"),
    ]
}

fn collection(features: Vec<Value>) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn problems_of(input: &str) -> Vec<Problem> {
    match read_slice(input.as_bytes()) {
        Err(ReadError::Invalid(p)) => p,
        Ok(set) => panic!("expected problems, read {} features", set.len()),
        Err(e) => panic!("expected problems, got {e}"),
    }
}

/// Asserts that `problems` has exactly one problem at `path`, on feature `index` with `code`,
/// whose message contains every one of `needles`; its display names index, code and path.
#[track_caller]
fn assert_problem(
    problems: &[Problem],
    index: usize,
    code: Option<&str>,
    path: &str,
    needles: &[&str],
) {
    let at: Vec<&Problem> = problems.iter().filter(|p| p.path == path).collect();
    assert_eq!(
        at.len(),
        1,
        "one problem at {path} expected in {problems:#?}"
    );
    let p = at[0];
    assert_eq!(p.index, Some(index), "{p:?}");
    assert_eq!(p.code.as_deref(), code, "{p:?}");
    for n in needles {
        assert!(
            p.message.contains(n),
            "{:?} should contain {n:?}",
            p.message
        );
    }
    let shown = p.to_string();
    assert!(shown.starts_with(&format!("feature {index}")), "{shown}");
    if let Some(c) = code {
        assert!(shown.contains(&format!("(code {c})")), "{shown}");
    }
    assert!(shown.contains(path), "{shown}");
}

/// Replaces feature `i`'s geometry coordinates (and type).
fn with_geometry(mut fs: Vec<Value>, i: usize, ty: &str, coords: Value) -> Vec<Value> {
    fs[i]["geometry"] = json!({"type": ty, "coordinates": coords});
    fs
}

// ---------------------------------------------------------------------------------------------
// Acceptance

#[test]
fn reads_the_territory() {
    let set = read_slice(collection(territory()).as_bytes()).expect("valid");
    assert_eq!(set.len(), 5);
    assert_eq!(set.district().map(|d| d.code.as_str()), Some("D"));
    let road = set.get("R").expect("road");
    assert_eq!(road.layer, Layer::RoadSegment);
    assert!(matches!(road.geometry, Geometry::Line(ref ml) if ml.0.len() == 1));
    assert_eq!(set.get("S").and_then(|s| s.kind), Some(Kind::Town));
    assert_eq!(set.parent_of(road).map(|b| b.code.as_str()), Some("B"));
}

#[test]
fn fuzz_seeds_are_what_they_claim() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let hierarchy = gridatlas::geo_io::read_path(&dir.join("hierarchy.geojson")).expect("valid");
    assert_eq!(hierarchy.len(), 7);
    assert!(gridatlas::geo_io::read_path(&dir.join("minimal.geojson")).is_ok());
    assert!(matches!(
        gridatlas::geo_io::read_path(&dir.join("problems.geojson")),
        Err(ReadError::Invalid(_))
    ));
}

#[test]
fn third_ordinate_is_dropped() {
    let fs = with_geometry(
        territory(),
        4,
        "LineString",
        json!([[121.0, 30.8, 12.5], [121.001, 30.801, 13.0]]),
    );
    let set = read_slice(collection(fs).as_bytes()).expect("valid");
    let line = set
        .get("R")
        .and_then(|f| f.geometry.as_line())
        .expect("line");
    assert_eq!(line.0[0].0[0], Coord { x: 121.0, y: 30.8 });
}

#[test]
fn street_without_district_needs_no_parent() {
    let fs = vec![
        area("street", "S", None, Some("subdistrict")),
        area("street_grid", "SG", Some("S"), None),
        area("extended_grid", "E", Some("S"), Some("campus")),
    ];
    let set = read_slice(collection(fs).as_bytes()).expect("valid");
    assert_eq!(set.len(), 3);
    assert!(set.district().is_none());
}

#[test]
fn children_may_come_before_parents() {
    let mut fs = territory();
    fs.reverse();
    assert!(read_slice(collection(fs).as_bytes()).is_ok());
}

#[test]
fn orientation_is_normalised() {
    // Exterior clockwise, hole counter-clockwise: both reversed on reading.
    let cw_exterior = json!([[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]);
    let ccw_hole = json!([[2, 2], [4, 2], [4, 4], [2, 4], [2, 2]]);
    let fs = with_geometry(territory(), 0, "Polygon", json!([cw_exterior, ccw_hole]));
    let set = read_slice(collection(fs).as_bytes()).expect("valid");
    let poly = &set
        .get("D")
        .and_then(|f| f.geometry.as_area())
        .expect("area")
        .0[0];
    assert!(poly.exterior().is_ccw());
    assert!(poly.interiors()[0].is_cw());
    // Same vertices, reversed, still closed.
    assert_eq!(poly.exterior().0.len(), 5);
    assert_eq!(poly.exterior().0[1], Coord { x: 10.0, y: 0.0 });
    assert_eq!(poly.exterior().0.first(), poly.exterior().0.last());
}

#[test]
fn polygon_and_multipolygon_are_both_stored_as_multipolygon() {
    let fs = with_geometry(
        territory(),
        0,
        "MultiPolygon",
        json!([square(0.0, 0.0, 1.0), square(5.0, 5.0, 1.0)]),
    );
    let set = read_slice(collection(fs).as_bytes()).expect("valid");
    assert_eq!(
        set.get("D")
            .and_then(|f| f.geometry.as_area())
            .map(|m| m.0.len()),
        Some(2)
    );
    assert_eq!(
        set.get("S")
            .and_then(|f| f.geometry.as_area())
            .map(|m| m.0.len()),
        Some(1)
    );
}

#[test]
fn attributes_are_kept_in_order() {
    let mut fs = territory();
    let props = fs[3]["properties"].as_object_mut().expect("object");
    props.insert("zeta".into(), json!(1));
    props.insert("alpha".into(), json!({"nested": [1, "two", null]}));
    props.insert("households".into(), json!(1234.5));
    props.insert("note".into(), Value::Null);
    let set = read_slice(collection(fs).as_bytes()).expect("valid");
    let attrs = &set.get("B").expect("block").attributes;
    let keys: Vec<&str> = attrs.keys().map(String::as_str).collect();
    assert_eq!(keys, ["zeta", "alpha", "households", "note"]);
    assert_eq!(attrs["alpha"], json!({"nested": [1, "two", null]}));
}

#[test]
fn people_are_read() {
    let mut fs = territory();
    fs[3]["properties"]["people"] = json!([
        {"role": "block_head", "name": "王五", "phone": "13800000000", "staff_id": "G0001"},
        {"role": "volunteer", "name": "赵六", "photo_url": "https://example.org/z.jpg", "phone": null},
    ]);
    let set = read_slice(collection(fs.clone()).as_bytes()).expect("valid");
    let b = set.get("B").expect("block");
    assert_eq!(
        b.person(Role::BlockHead).map(|p| p.name.as_str()),
        Some("王五")
    );
    let v = b.person(Role::Volunteer).expect("volunteer");
    assert_eq!(v.phone, None);
    assert_eq!(v.photo_url.as_deref(), Some("https://example.org/z.jpg"));
    assert_eq!(v.staff_id, None);
    let head = b.person(Role::BlockHead).expect("head");
    assert_eq!(head.staff_id.as_deref(), Some("G0001"));
    // a staff_id that is not a string is located
    fs[3]["properties"]["people"][0]["staff_id"] = json!(7);
    let e = read_slice(collection(fs).as_bytes()).expect_err("invalid");
    assert!(e.to_string().contains("staff_id"), "{e}");
}

#[test]
fn management_units_are_read() {
    let input = json!({
        "type": "FeatureCollection",
        "features": territory(),
        "management_units": [{
            "code": "MU1", "name": "城管一中队", "kind": "city_management", "grids": ["G"],
            "people": [{"role": "enforcement_officer", "name": "李四"}],
        }],
    })
    .to_string();
    let set = read_slice(input.as_bytes()).expect("valid");
    assert_eq!(
        set.management_units,
        vec![ManagementUnit {
            code: "MU1".into(),
            name: "城管一中队".into(),
            kind: ManagementUnitKind::CityManagement,
            grids: vec!["G".into()],
            people: vec![Person {
                role: Role::EnforcementOfficer,
                name: "李四".into(),
                phone: None,
                photo_url: None,
                staff_id: None,
            }],
        }]
    );
}

#[test]
fn crs84_and_cgcs2000_are_accepted() {
    for name in [
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:EPSG::4490",
        "EPSG:4326",
    ] {
        let input = json!({
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": name}},
            "features": territory(),
        })
        .to_string();
        assert!(read_slice(input.as_bytes()).is_ok(), "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// Rejections: one test each

#[test]
fn rejects_huge_number_as_syntax_error_with_position() {
    let input = "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Feature\",\n\"geometry\":{\"type\":\"Point\",\"coordinates\":[1e400,0]}}]}";
    match read_slice(input.as_bytes()) {
        Err(ReadError::Syntax {
            line,
            column,
            message,
        }) => {
            assert_eq!(line, 3);
            assert!(column > 30, "{column}");
            assert!(message.contains("number out of range"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rejects_malformed_json_with_position() {
    let input = "{\"type\":\"FeatureCollection\",\n\"features\":[{\"type\":\"Feature\",]}";
    match read(input.as_bytes()) {
        Err(ReadError::Syntax { line, column, .. }) => {
            assert_eq!((line, column), (2, 31));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(read_slice(b""), Err(ReadError::Syntax { .. })));
    assert!(matches!(read_slice(b"[]"), Err(ReadError::Syntax { .. })));
    assert!(matches!(
        read_slice(format!("{} x", collection(territory())).as_bytes()),
        Err(ReadError::Syntax { .. })
    ));
}

#[test]
fn rejects_longitude_out_of_range() {
    let fs = with_geometry(
        territory(),
        1,
        "Polygon",
        json!([[[0, 0], [180.5, 0], [1, 1], [0, 0]]]),
    );
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        1,
        Some("S"),
        "features[1].geometry.coordinates[0][1][0]",
        &["longitude 180.5", "[-180, 180]"],
    );
}

#[test]
fn rejects_latitude_out_of_range() {
    let fs = with_geometry(
        territory(),
        4,
        "LineString",
        json!([[121, 30], [121, -90.25]]),
    );
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        4,
        Some("R"),
        "features[4].geometry.coordinates[1][1]",
        &["latitude -90.25", "[-90, 90]"],
    );
}

#[test]
fn hints_at_swapped_and_projected_coordinates() {
    let fs = with_geometry(
        territory(),
        4,
        "LineString",
        json!([[30.8, 121.0], [30.9, 121.0]]),
    );
    let p = problems_of(&collection(fs));
    assert!(p[0].message.contains("swapped"), "{p:?}");
    let fs = with_geometry(
        territory(),
        4,
        "LineString",
        json!([[350000.0, 3400000.0], [350010.0, 3400000.0]]),
    );
    let p = problems_of(&collection(fs));
    assert!(p[0].message.contains("projected"), "{p:?}");
}

#[test]
fn rejects_position_with_one_number() {
    let fs = with_geometry(territory(), 4, "LineString", json!([[121, 30], [121]]));
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        4,
        Some("R"),
        "features[4].geometry.coordinates[1]",
        &["1 number", "[longitude, latitude]"],
    );
}

#[test]
fn rejects_ring_with_fewer_than_four_positions() {
    let fs = with_geometry(territory(), 2, "Polygon", json!([[[0, 0], [1, 0], [0, 0]]]));
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        2,
        Some("G"),
        "features[2].geometry.coordinates[0]",
        &["3 position(s)", "at least 4"],
    );
}

#[test]
fn rejects_unclosed_ring() {
    let fs = with_geometry(
        territory(),
        3,
        "MultiPolygon",
        json!([square(0.0, 0.0, 1.0), [[[5, 5], [6, 5], [6, 6], [5, 6]]]]),
    );
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        3,
        Some("B"),
        "features[3].geometry.coordinates[1][0]",
        &["not closed", "[5, 6]", "[5, 5]"],
    );
}

#[test]
fn rejects_line_with_one_position() {
    let fs = with_geometry(
        territory(),
        4,
        "MultiLineString",
        json!([[[121, 30], [121.1, 30]], [[121, 30]]]),
    );
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        4,
        Some("R"),
        "features[4].geometry.coordinates[1]",
        &["1 position(s)", "at least 2"],
    );
}

#[test]
fn rejects_null_geometry() {
    let mut fs = territory();
    fs[2]["geometry"] = Value::Null;
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        2,
        Some("G"),
        "features[2].geometry",
        &["null", "Polygon"],
    );
}

#[test]
fn rejects_geometry_type_that_does_not_fit_the_layer() {
    let fs = with_geometry(territory(), 4, "Polygon", square(0.0, 0.0, 1.0));
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        4,
        Some("R"),
        "features[4].geometry.type",
        &["road_segment", "LineString", "not a Polygon"],
    );
    let fs = with_geometry(territory(), 3, "Point", json!([121, 30]));
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        3,
        Some("B"),
        "features[3].geometry.type",
        &["\"Point\"", "Polygon"],
    );
}

#[test]
fn rejects_missing_code() {
    let mut fs = territory();
    fs[3]["properties"]
        .as_object_mut()
        .expect("obj")
        .remove("code");
    fs[3]["id"] = json!("B");
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        3,
        None,
        "features[3].properties.code",
        &["missing code", "\"id\""],
    );
    // The road segment whose parent it was now has an unknown parent.
    assert_problem(
        &p,
        4,
        Some("R"),
        "features[4].properties.parent",
        &["unknown parent B"],
    );
}

#[test]
fn rejects_numeric_and_empty_code() {
    let mut fs = territory();
    fs[3]["properties"]["code"] = json!(310116101);
    fs[4]["properties"]["code"] = json!("");
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        3,
        None,
        "features[3].properties.code",
        &["must be a string", "\"310116101\""],
    );
    assert_problem(&p, 4, None, "features[4].properties.code", &["empty"]);
}

#[test]
fn rejects_duplicate_code_naming_the_other_feature() {
    let mut fs = territory();
    fs.push(area("block", "B", Some("G"), None));
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        5,
        Some("B"),
        "features[5].properties.code",
        &["duplicate code B", "feature 3"],
    );
}

#[test]
fn rejects_unknown_parent() {
    let mut fs = territory();
    fs[3]["properties"]["parent"] = json!("NOPE");
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        3,
        Some("B"),
        "features[3].properties.parent",
        &["unknown parent NOPE"],
    );
}

#[test]
fn rejects_parent_of_the_wrong_layer() {
    let mut fs = territory();
    fs[3]["properties"]["parent"] = json!("S");
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        3,
        Some("B"),
        "features[3].properties.parent",
        &[
            "parent S is a street (feature 1)",
            "resident_grid, street_grid or extended_grid",
        ],
    );
}

#[test]
fn rejects_street_whose_parent_is_not_the_district() {
    let mut fs = territory();
    fs.push(area("street", "S2", Some("G"), Some("zone")));
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        5,
        Some("S2"),
        "features[5].properties.parent",
        &["is a resident_grid", "must be district"],
    );
}

#[test]
fn rejects_missing_parent_where_required() {
    let mut fs = territory();
    fs[2]["properties"]
        .as_object_mut()
        .expect("obj")
        .remove("parent");
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        2,
        Some("G"),
        "features[2].properties.parent",
        &["missing parent", "street"],
    );
}

#[test]
fn rejects_second_district() {
    let mut fs = territory();
    fs.push(area("district", "D2", None, None));
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        5,
        Some("D2"),
        "features[5].properties.layer",
        &["more than one district", "feature 0"],
    );
}

#[test]
fn rejects_unknown_and_missing_layer() {
    let mut fs = territory();
    fs[3]["properties"]["layer"] = json!("grid");
    fs[4]["properties"]
        .as_object_mut()
        .expect("obj")
        .remove("layer");
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        3,
        Some("B"),
        "features[3].properties.layer",
        &["unknown layer \"grid\""],
    );
    assert_problem(
        &p,
        4,
        Some("R"),
        "features[4].properties.layer",
        &["missing layer"],
    );
}

#[test]
fn rejects_missing_wrong_and_forbidden_kind() {
    let mut fs = territory();
    fs[1]["properties"]
        .as_object_mut()
        .expect("obj")
        .remove("kind");
    fs[2]["properties"]["kind"] = json!("town");
    fs[3]["properties"]["kind"] = json!("residents");
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        1,
        Some("S"),
        "features[1].properties.kind",
        &["missing kind", "subdistrict, town or zone"],
    );
    assert_problem(
        &p,
        2,
        Some("G"),
        "features[2].properties.kind",
        &[
            "\"town\" is not a kind of resident_grid",
            "residents or villagers",
        ],
    );
    assert_problem(
        &p,
        3,
        Some("B"),
        "features[3].properties.kind",
        &["a block has no kind"],
    );
}

#[test]
fn null_kind_is_allowed_where_there_is_none() {
    let mut fs = territory();
    fs[3]["properties"]["kind"] = Value::Null;
    fs[0]["properties"]["parent"] = Value::Null;
    assert!(read_slice(collection(fs).as_bytes()).is_ok());
}

#[test]
fn rejects_missing_name() {
    let mut fs = territory();
    fs[0]["properties"]
        .as_object_mut()
        .expect("obj")
        .remove("name");
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        0,
        Some("D"),
        "features[0].properties.name",
        &["missing name"],
    );
}

#[test]
fn rejects_bad_people() {
    let mut fs = territory();
    fs[3]["properties"]["people"] =
        json!([{"role": "boss", "name": "x"}, {"name": "y", "phone": 138}]);
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        3,
        Some("B"),
        "features[3].properties.people[0].role",
        &["unknown role \"boss\"", "block_head"],
    );
    assert_problem(
        &p,
        3,
        Some("B"),
        "features[3].properties.people[1].role",
        &["missing role"],
    );
    assert_problem(
        &p,
        3,
        Some("B"),
        "features[3].properties.people[1].phone",
        &["expected a string", "quotes"],
    );
}

#[test]
fn rejects_foreign_crs_naming_it() {
    let input = json!({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}},
        "features": territory(),
    })
    .to_string();
    let p = problems_of(&input);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "crs");
    assert_eq!(p[0].index, None);
    assert!(p[0].message.contains("EPSG::4549"), "{p:?}");
    assert!(
        p[0].message.contains("convert to WGS84 longitude/latitude"),
        "{p:?}"
    );
}

#[test]
fn rejects_wrong_top_level() {
    let input = json!({"type": "Feature", "properties": {}, "geometry": null}).to_string();
    let p = problems_of(&input);
    assert!(
        p.iter()
            .any(|p| p.path == "type" && p.message.contains("FeatureCollection")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.path == "features" && p.message.contains("missing")),
        "{p:?}"
    );
}

#[test]
fn rejects_bad_management_units() {
    let input = json!({
        "type": "FeatureCollection",
        "features": territory(),
        "management_units": [
            {"code": "MU1", "name": "a", "kind": "police", "grids": ["G", "B", "X"]},
            {"code": "MU1", "name": "b", "kind": "other", "grids": []},
        ],
    })
    .to_string();
    let p = problems_of(&input);
    let find = |path: &str| {
        p.iter()
            .find(|q| q.path == path)
            .unwrap_or_else(|| panic!("{path} in {p:#?}"))
    };
    assert!(find("management_units[0].kind").message.contains("police"));
    assert!(
        find("management_units[0].grids[1]")
            .message
            .contains("B is a block")
    );
    assert!(
        find("management_units[0].grids[2]")
            .message
            .contains("unknown grid X")
    );
    assert!(
        find("management_units[1].code")
            .message
            .contains("duplicate")
    );
    assert!(
        find("management_units[1].grids")
            .message
            .contains("at least one grid")
    );
    assert_eq!(
        find("management_units[0].kind").code.as_deref(),
        Some("MU1")
    );
}

#[test]
fn reports_every_problem_in_one_file() {
    let mut fs = territory();
    fs[0]["properties"]["code"] = json!(7); // numeric code
    fs[1]["properties"]["kind"] = json!("villagers"); // wrong kind
    fs[2]["geometry"] = Value::Null; // null geometry
    fs[3]["properties"]["parent"] = json!("S"); // wrong parent layer
    fs[4] = with_geometry(fs.clone(), 4, "LineString", json!([[200, 30], [121, 95]])).remove(4);
    fs.push(area("block", "B", Some("G"), None)); // duplicate
    let p = problems_of(&collection(fs));
    let paths: Vec<&str> = p.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "features[0].properties.code",
            "features[1].properties.kind",
            // The street's parent D is unreadable (numeric code), so it is unknown.
            "features[1].properties.parent",
            "features[2].geometry",
            "features[3].properties.parent",
            "features[4].geometry.coordinates[0][0]",
            "features[4].geometry.coordinates[1][1]",
            "features[5].properties.code",
        ],
        "{p:#?}"
    );
    match read_slice(collection(territory()).replace("\"R\"", "7").as_bytes()) {
        Err(e @ ReadError::Invalid(_)) => assert!(e.to_string().starts_with("1 problem(s)")),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Round trip

fn coord(rng: &mut ChaCha8Rng) -> Coord<f64> {
    // Full-precision random doubles, so that any parsing inaccuracy shows.
    Coord {
        x: rng.random_range(-180.0..=180.0),
        y: rng.random_range(-90.0..=90.0),
    }
}

fn random_ring(rng: &mut ChaCha8Rng) -> LineString<f64> {
    let n = rng.random_range(3..8);
    let mut pts: Vec<Coord<f64>> = (0..n).map(|_| coord(rng)).collect();
    pts.push(pts[0]);
    LineString(pts)
}

fn random_area(rng: &mut ChaCha8Rng) -> Geometry {
    let polys = (0..rng.random_range(1..3))
        .map(|_| {
            let mut ext = random_ring(rng);
            ext.make_ccw_winding();
            let holes = (0..rng.random_range(0..2))
                .map(|_| {
                    let mut h = random_ring(rng);
                    h.make_cw_winding();
                    h
                })
                .collect();
            Polygon::new(ext, holes)
        })
        .collect();
    Geometry::Area(MultiPolygon(polys))
}

fn random_line(rng: &mut ChaCha8Rng) -> Geometry {
    let lines = (0..rng.random_range(1..3))
        .map(|_| LineString((0..rng.random_range(2..6)).map(|_| coord(rng)).collect()))
        .collect();
    Geometry::Line(MultiLineString(lines))
}

fn random_value(rng: &mut ChaCha8Rng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 1 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random::<i64>()),
        3 => json!(f64::from_bits(rng.random::<u64>() >> 2)),
        4 => json!(format!("值 \"{}\" \n", rng.random::<u32>())),
        5 => Value::Array((0..3).map(|_| random_value(rng, depth + 1)).collect()),
        _ => json!({"a": random_value(rng, depth + 1), "b": random_value(rng, depth + 1)}),
    }
}

fn random_feature(
    rng: &mut ChaCha8Rng,
    layer: Layer,
    code: String,
    parent: Option<String>,
) -> Feature {
    let kinds = layer.kinds();
    let kind = (!kinds.is_empty()).then(|| kinds[rng.random_range(0..kinds.len())]);
    let people = (0..rng.random_range(0..3))
        .map(|i| Person {
            role: Role::ALL[rng.random_range(0..Role::ALL.len())],
            name: format!("人{i}"),
            phone: rng
                .random_bool(0.5)
                .then(|| "+86 138 0000 0000".to_string()),
            photo_url: rng
                .random_bool(0.3)
                .then(|| "https://example.org/p.jpg".to_string()),
            staff_id: rng.random_bool(0.3).then(|| format!("G{i:04}")),
        })
        .collect();
    let mut attributes = serde_json::Map::new();
    for i in 0..rng.random_range(0..4) {
        attributes.insert(
            format!("attr{}_{i}", rng.random::<u8>()),
            random_value(rng, 0),
        );
    }
    let geometry = if layer.is_area() {
        random_area(rng)
    } else {
        random_line(rng)
    };
    Feature {
        layer,
        name: format!("{} {code}", layer.name_zh()),
        code,
        parent,
        kind,
        people,
        attributes,
        geometry,
    }
}

/// A random valid feature set: maybe a district, streets, grids, blocks, road segments.
fn random_set(seed: u64) -> FeatureSet {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fs = Vec::new();
    let district = rng.random_bool(0.5).then(|| "310116".to_string());
    if let Some(d) = &district {
        fs.push(random_feature(&mut rng, Layer::District, d.clone(), None));
    }
    let mut grids = Vec::new();
    for s in 0..rng.random_range(1..3) {
        let street = format!("310116{s:03}");
        let parent = if rng.random_bool(0.5) {
            district.clone()
        } else {
            None
        };
        fs.push(random_feature(
            &mut rng,
            Layer::Street,
            street.clone(),
            parent,
        ));
        for g in 0..rng.random_range(0..3) {
            let layer = Layer::GRIDS[rng.random_range(0..3)];
            let grid = format!("{street}{g:03}");
            fs.push(random_feature(
                &mut rng,
                layer,
                grid.clone(),
                Some(street.clone()),
            ));
            grids.push(grid.clone());
            for b in 0..rng.random_range(0..3) {
                let block = format!("{grid}B{b}");
                fs.push(random_feature(
                    &mut rng,
                    Layer::Block,
                    block.clone(),
                    Some(grid.clone()),
                ));
                if rng.random_bool(0.5) {
                    let parent = if rng.random_bool(0.5) {
                        block
                    } else {
                        grid.clone()
                    };
                    fs.push(random_feature(
                        &mut rng,
                        Layer::RoadSegment,
                        format!("{grid}R{b}"),
                        Some(parent),
                    ));
                }
            }
        }
    }
    // Shuffle: parents need not come first.
    for i in (1..fs.len()).rev() {
        fs.swap(i, rng.random_range(0..=i));
    }
    let units = if grids.is_empty() {
        Vec::new()
    } else {
        vec![ManagementUnit {
            code: "MU1".into(),
            name: "市场监管所".into(),
            kind: ManagementUnitKind::MarketSupervision,
            grids,
            people: Vec::new(),
        }]
    };
    FeatureSet::new(fs, units).expect("unique codes")
}

fn round_trip(set: &FeatureSet) -> FeatureSet {
    let mut out = Vec::new();
    write(set, &mut out).expect("write");
    let via_slice = read_slice(&out).unwrap_or_else(|e| panic!("{e}"));
    let via_reader = read(&out[..]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(via_slice, via_reader);
    via_slice
}

/// Bit-level comparison of every coordinate (`==` would accept -0.0 for 0.0).
fn coordinate_bits(set: &FeatureSet) -> Vec<u64> {
    let mut bits = Vec::new();
    let mut push = |ls: &LineString<f64>| {
        for c in &ls.0 {
            bits.push(c.x.to_bits());
            bits.push(c.y.to_bits());
        }
    };
    for f in set.features() {
        match &f.geometry {
            Geometry::Area(mp) => {
                for p in &mp.0 {
                    push(p.exterior());
                    p.interiors().iter().for_each(&mut push);
                }
            }
            Geometry::Line(ml) => ml.0.iter().for_each(&mut push),
        }
    }
    bits
}

#[test]
fn round_trip_of_the_territory() {
    let set = read_slice(collection(territory()).as_bytes()).expect("valid");
    assert_eq!(round_trip(&set), set);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn write_then_read_is_identical(seed in any::<u64>()) {
        let set = random_set(seed);
        let back = round_trip(&set);
        prop_assert_eq!(coordinate_bits(&back), coordinate_bits(&set));
        prop_assert_eq!(back, set);
    }

    #[test]
    fn any_finite_coordinate_survives_bit_identical(
        xs in proptest::collection::vec(-180.0f64..=180.0, 4..64),
        ys in proptest::collection::vec(-90.0f64..=90.0, 4..64),
    ) {
        let coords: Vec<Coord<f64>> = xs.iter().zip(&ys).map(|(&x, &y)| Coord { x, y }).collect();
        let triangle = Geometry::Area(MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
            vec![],
        )]));
        let plain = |layer, code: &str, parent: Option<&str>, kind, geometry| Feature {
            layer,
            code: code.into(),
            name: code.into(),
            parent: parent.map(Into::into),
            kind,
            people: Vec::new(),
            attributes: serde_json::Map::new(),
            geometry,
        };
        let street = plain(Layer::Street, "S", None, Some(Kind::Zone), triangle.clone());
        let grid = plain(Layer::StreetGrid, "G", Some("S"), None, triangle);
        let line = Geometry::Line(MultiLineString(vec![LineString(coords)]));
        let road = plain(Layer::RoadSegment, "R", Some("G"), None, line);
        let set = FeatureSet::new(vec![street, grid, road], Vec::new()).expect("unique");
        let back = round_trip(&set);
        prop_assert_eq!(coordinate_bits(&back), coordinate_bits(&set));
    }
}

#[test]
fn docs_example_reads() {
    let doc = include_str!("../docs/geojson-format.md");
    let example = doc.split("## Example").nth(1).expect("example section");
    let json = example
        .split("```json")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("json block");
    let set = read_slice(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.len(), 7);
    assert_eq!(set.management_units.len(), 1);
    assert_eq!(
        set.get("310116101001").map(|g| &g.attributes["households"]),
        Some(&json!(1200))
    );
}

#[test]
fn rejects_foreign_crs_on_a_geometry() {
    let mut fs = territory();
    fs[1]["geometry"]["crs"] = json!({"type": "name", "properties": {"name": "EPSG:3857"}});
    let p = problems_of(&collection(fs));
    assert_problem(
        &p,
        1,
        Some("S"),
        "features[1].geometry.crs",
        &["EPSG:3857", "convert"],
    );
}

#[test]
fn rejects_members_given_twice() {
    let input =
        collection(territory()).replacen("\"geometry\":{", "\"geometry\":null,\"geometry\":{", 1);
    let p = problems_of(&input);
    assert_problem(
        &p,
        0,
        Some("D"),
        "features[0].geometry",
        &["more than once"],
    );
}

/// A key repeated inside `properties` (JSON parsers keep one of the two silently) is refused like
/// a repeated member of the feature: which block head's phone was meant is not the reader's guess.
#[test]
fn rejects_keys_given_twice_inside_properties() {
    let input = collection(territory()).replacen("\"name\":", "\"name\":\"第一\",\"name\":", 1);
    let p = problems_of(&input);
    assert_problem(
        &p,
        0,
        Some("D"),
        "features[0].properties.name",
        &["more than once in properties"],
    );
}

#[test]
fn rejects_features_that_are_not_an_array() {
    let p = problems_of(r#"{"type":"FeatureCollection","features":{"a":1}}"#);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "features");
    assert!(p[0].message.contains("expected an array"), "{p:?}");
}

#[test]
fn empty_collection_is_an_empty_set() {
    let set = read_slice(br#"{"type":"FeatureCollection","features":[]}"#).expect("valid");
    assert!(set.is_empty());
}

#[test]
fn limits_refuse_large_input() {
    use gridatlas::geo_io::{ReadOptions, read_with};
    let opts = ReadOptions {
        max_positions_per_feature: Some(4),
        ..ReadOptions::default()
    };
    // The district's square has 5 positions (plus its ring and polygon arrays).
    match read_with(collection(territory()).as_bytes(), &opts) {
        Err(ReadError::TooLarge(p)) => {
            assert_eq!(p.path, "features[0].geometry.coordinates");
            assert!(p.message.contains("more than 4 positions"), "{p}");
        }
        other => panic!("{other:?}"),
    }
    let opts = ReadOptions {
        max_features: Some(5),
        max_positions_per_feature: Some(10),
        ..ReadOptions::default()
    };
    assert!(read_with(collection(territory()).as_bytes(), &opts).is_ok());
}

#[test]
fn a_partial_upload_may_name_grids_of_the_current_generation_in_its_units() {
    use gridatlas::geo_io::{ReadOptions, read_slice_with};
    let input = json!({
        "type": "FeatureCollection",
        "features": territory(),
        "management_units": [{
            "code": "MU1", "name": "城管一中队", "kind": "city_management", "grids": ["G", "G2"],
        }],
    })
    .to_string();
    let opts = |layer: Option<Layer>| ReadOptions {
        known_parents: layer
            .map(|l| std::sync::Arc::new(std::collections::HashMap::from([("G2".to_owned(), l)]))),
        ..ReadOptions::default()
    };
    // G2 is a grid of another street, in the current generation: accepted
    let set = read_slice_with(input.as_bytes(), &opts(Some(Layer::StreetGrid))).expect("valid");
    assert_eq!(set.management_units[0].grids, ["G", "G2"]);
    // not a grid there, or unknown anywhere: refused, naming the unit's path
    for (layer, needle) in [
        (
            Some(Layer::Block),
            "G2 is a block in the current generation",
        ),
        (None, "unknown grid G2"),
    ] {
        let Err(ReadError::Invalid(problems)) = read_slice_with(input.as_bytes(), &opts(layer))
        else {
            panic!("expected problems for {layer:?}");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        let text = problems[0].to_string();
        assert!(
            text.contains(needle) && text.contains("management_units[0].grids[1]"),
            "{text}"
        );
    }
}
