//! The registers' files: every problem located, encodings, coordinate systems, bounds, and
//! writers that the readers read back identically.

use chrono::NaiveDate;
use geo::{Coord, LineString, Polygon};
use gridatlas::assets::io::{
    AssetErrors, Encoding, MAX_TEXT, read_components_csv, read_components_geojson, read_shops_csv,
    read_shops_geojson, write_components_geojson, write_shops_geojson,
};
use gridatlas::assets::{BindingSource, Component, ComponentState, Frontage, Shop, ShopGeometry};
use gridatlas::geometry::crs::Crs;
use proptest::prelude::*;
use serde_json::json;

fn lines(e: &AssetErrors) -> Vec<String> {
    e.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn component_csv_problems_are_located_by_row_and_column() {
    let csv = "部件编码,经度,纬度,权属单位,部件状态,普查日期,材质\n\
               3101160101000001,121.001,30.751,水务局,完好,2024/5/1,铸铁\n\
               3101160101000002,121，3,30.751,水务局,坏了,2024-13-01,\n\
               \n\
               ,200,30.751,,,,\n\
               3101160101000004,121.0,95,水务局,,,\n";
    let e = read_components_csv(csv.as_bytes(), None, Crs::Wgs84).unwrap_err();
    assert_eq!(
        lines(&e),
        [
            "row 3 (3101160101000002), column 经度: \"121，3\" is not a number",
            "row 3 (3101160101000002), column 部件状态: unknown state \"坏了\": one of intact (完好), damaged (破损), missing (丢失), occupied (占用), abandoned (废弃)",
            "row 3 (3101160101000002), column 普查日期: \"2024-13-01\" is not a date (2024-05-01, 2024/5/1, 2024.05.01, 20240501 or 2024年5月1日)",
            "row 4, column 部件编码: empty",
            "row 4, column 经度: longitude 200 is outside [-180, 180]",
            "row 4, column 权属单位: empty",
            "row 5 (3101160101000004), column 纬度: latitude 95 is outside [-90, 90]",
        ]
    );
    let ok = read_components_csv(
        "code,lon,lat,owner\n3101160101000001,121.001,30.751,水务局\n".as_bytes(),
        None,
        Crs::Wgs84,
    )
    .unwrap();
    assert_eq!(ok[0].state, ComponentState::Intact);
}

#[test]
fn component_csv_headers_are_checked_first() {
    let e = read_components_csv("编码,经度,纬度,经度\n".as_bytes(), None, Crs::Wgs84).unwrap_err();
    assert_eq!(
        lines(&e),
        [
            "row 1, column 经度: a second column for lon (column 4)",
            "row 1: no column 部件编码 (code)",
            "row 1: no column 权属单位 (owner)",
        ]
    );
    let e = read_components_csv(b"", None, Crs::Wgs84).unwrap_err();
    assert_eq!(lines(&e), ["the file is empty: no header row"]);
}

#[test]
fn gbk_files_and_other_columns_as_attributes() {
    let text = "部件标识码,经度,纬度,权属单位,养护单位,状态,采集日期,材质,备注\r\n\
                3101160118000001,121.001,30.751,金山区路灯管理所,金山照明公司,破损,20240501,'=铸铁,\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    for (bytes, encoding) in [(gbk.to_vec(), None), (gbk.to_vec(), Some(Encoding::Gbk))] {
        let cs = read_components_csv(&bytes, encoding, Crs::Wgs84).unwrap();
        assert_eq!(
            cs,
            [Component {
                code: "3101160118000001".into(),
                lon: 121.001,
                lat: 30.751,
                owner: "金山区路灯管理所".into(),
                maintainer: Some("金山照明公司".into()),
                state: ComponentState::Damaged,
                survey_date: NaiveDate::from_ymd_opt(2024, 5, 1),
                attributes: json!({"材质": "=铸铁"}).as_object().unwrap().clone(),
            }]
        );
    }
}

#[test]
fn coordinates_from_chinese_web_maps_are_converted() {
    let (lon, lat) = (121.3412345, 30.7498765);
    let (gx, gy) = Crs::Gcj02.from_wgs84(lon, lat);
    let csv = format!("code,lon,lat,owner\n3101160101000001,{gx},{gy},水务局\n");
    let cs = read_components_csv(csv.as_bytes(), None, Crs::Gcj02).unwrap();
    assert!((cs[0].lon - lon).abs() < 1e-9 && (cs[0].lat - lat).abs() < 1e-9);
    let (bx, by) = Crs::Bd09.from_wgs84(lon, lat);
    let geojson = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"layer": "component", "code": "X", "owner": "O"},
         "geometry": {"type": "Point", "coordinates": [bx, by]}}]});
    let cs = read_components_geojson(geojson.to_string().as_bytes(), Crs::Bd09).unwrap();
    assert!((cs[0].lon - lon).abs() < 1e-9 && (cs[0].lat - lat).abs() < 1e-9);
}

#[test]
fn geojson_problems_name_the_feature_and_member() {
    let long = "长".repeat(MAX_TEXT + 1);
    let geojson = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"layer": "component", "code": "3101160101000001", "owner": "水务局"},
         "geometry": {"type": "Point", "coordinates": [121.0, 30.75]}},
        {"type": "Feature", "properties": {"layer": "shop", "code": 7, "owner": long},
         "geometry": {"type": "LineString", "coordinates": [[121.0, 30.75], [121.1, 30.75]]}},
        {"type": "Feature", "properties": {"layer": "component", "code": "3101160101000003", "state": "丢失", "survey_date": "yesterday"},
         "geometry": {"type": "Point", "coordinates": [181.0, 30.75, 4.0]}},
        [1, 2],
        {"type": "Feature", "properties": null, "geometry": null},
    ]});
    let e = read_components_geojson(geojson.to_string().as_bytes(), Crs::Wgs84).unwrap_err();
    assert_eq!(
        lines(&e),
        [
            "feature 1, properties.layer: \"shop\": this file holds component features",
            "feature 1, geometry.type: \"LineString\": a Point is expected",
            "feature 1, properties.code: a number where a string is expected",
            "feature 1, properties.owner: longer than 200 characters",
            "feature 2 (3101160101000003), geometry.coordinates: longitude 181 is outside [-180, 180]",
            "feature 2 (3101160101000003), properties.owner: missing",
            "feature 2 (3101160101000003), properties.survey_date: \"yesterday\" is not a date (2024-05-01, 2024/5/1, 2024.05.01, 20240501 or 2024年5月1日)",
            "feature 3: an array: a Feature object is expected",
            "feature 4, properties: missing",
        ]
    );
    let e = read_components_geojson(b"{\"type\": \"Feature\"}", Crs::Wgs84).unwrap_err();
    assert_eq!(
        lines(&e),
        ["type \"Feature\": a FeatureCollection is expected"]
    );
    let e = read_components_geojson(b"{\"type\": ", Crs::Wgs84).unwrap_err();
    assert!(lines(&e)[0].starts_with("not a GeoJSON FeatureCollection: EOF"));
}

#[test]
fn problems_are_bounded() {
    let mut csv = String::from("code,lon,lat,owner\n");
    for i in 0..150 {
        csv.push_str(&format!("C{i},x,30.75,O\n"));
    }
    let e = read_components_csv(csv.as_bytes(), None, Crs::Wgs84).unwrap_err();
    assert_eq!((e.problems.len(), e.more), (100, 50));
    assert!(e.to_string().ends_with("… and 50 more problems"));
}

#[test]
fn shop_csv_with_points_and_footprints() {
    let csv = "门店编号,店名,统一社会信用代码,联系人,联系电话,签约日期,经度,纬度,轮廓\n\
               MD-001,老街面馆,91310116MA1J0000M0,王芳,021-57000001,2024年3月1日,121.005,30.7539,\n\
               MD-002,五金店,,,,,,,\"POLYGON ((121.003 30.7539, 121.003 30.754, 121.0031 30.754, 121.0031 30.7539, 121.003 30.7539))\"\n\
               MD-003,花店,,,,,,,\"POLYGON ((121.003 30.7539, 121.0031 30.7539, 121.0031 30.754))\"\n\
               ,水果店,,,,,,30.7,\n";
    let e = read_shops_csv(csv.as_bytes(), None, Crs::Wgs84).unwrap_err();
    assert_eq!(
        lines(&e),
        [
            "row 4 (MD-003), column 轮廓: ring 1, position 1: a ring of 3 positions: at least 4 needed",
            "row 5, column 门店编号: empty",
            "row 5, column 经度: empty",
        ]
    );
    let good: String = csv.lines().take(3).map(|l| format!("{l}\n")).collect();
    let shops = read_shops_csv(good.as_bytes(), None, Crs::Wgs84).unwrap();
    assert_eq!(shops[0].geometry, ShopGeometry::Point(121.005, 30.7539));
    assert_eq!(shops[0].pledge_signed, NaiveDate::from_ymd_opt(2024, 3, 1));
    assert_eq!(shops[0].credit_code.as_deref(), Some("91310116MA1J0000M0"));
    // The clockwise footprint is turned counter-clockwise.
    let ShopGeometry::Polygon(p) = &shops[1].geometry else {
        panic!("a footprint")
    };
    assert_eq!(
        p.exterior().0[1],
        Coord {
            x: 121.0031,
            y: 30.7539
        }
    );
    let e = read_shops_csv("id,name\nA,B\n".as_bytes(), None, Crs::Wgs84).unwrap_err();
    assert_eq!(
        lines(&e),
        ["row 1: no position: columns 经度 (lon) and 纬度 (lat), or 轮廓 (wkt)"]
    );
}

#[test]
fn writers_refuse_what_readers_would() {
    let mut c = component(0, 121.0, 30.75);
    c.attributes.insert("code".into(), json!("x"));
    c.lon = f64::NAN;
    let e = write_components_geojson(&[component(1, 121.0, 30.75), c]).unwrap_err();
    assert_eq!(
        lines(&e),
        [
            "item 2 (3101160101000000), attributes.code: named like a property gridatlas writes",
            "item 2 (3101160101000000), lon, lat: longitude NaN is outside [-180, 180]",
        ]
    );
}

fn component(i: u32, lon: f64, lat: f64) -> Component {
    Component {
        code: format!("31011601010{i:05}"),
        lon,
        lat,
        owner: "金山区水务局".into(),
        maintainer: None,
        state: ComponentState::Intact,
        survey_date: None,
        attributes: Default::default(),
    }
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 金山区水务局路灯\"\\\\/\n]{1,20}".prop_filter("not blank", |s| !s.trim().is_empty())
}

fn attributes() -> impl Strategy<Value = serde_json::Map<String, serde_json::Value>> {
    prop::collection::vec(
        (
            "[a-z材质备注]{1,8}".prop_filter("not a property", |k| {
                !gridatlas::assets::io::COMPONENT_PROPERTIES.contains(&k.as_str())
                    && !gridatlas::assets::io::SHOP_PROPERTIES.contains(&k.as_str())
            }),
            prop_oneof![
                text().prop_map(serde_json::Value::from),
                any::<i64>().prop_map(serde_json::Value::from),
                (-1e9f64..1e9).prop_map(serde_json::Value::from),
                any::<bool>().prop_map(serde_json::Value::from),
                Just(serde_json::Value::Null),
            ],
        ),
        0..4,
    )
    .prop_map(|kv| kv.into_iter().collect())
}

fn date() -> impl Strategy<Value = Option<NaiveDate>> {
    prop::option::of((1990i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| {
        NaiveDate::from_ymd_opt(y, m, d).expect("a day of the month up to 28")
    }))
}

prop_compose! {
    fn components()(
        code in text(), lon in -180.0f64..=180.0, lat in -90.0f64..=90.0, owner in text(),
        maintainer in prop::option::of(text()),
        state in prop::sample::select(ComponentState::ALL.to_vec()),
        survey_date in date(), attributes in attributes(),
    ) -> Component {
        Component { code, lon, lat, owner, maintainer, state, survey_date, attributes }
    }
}

fn geometry() -> impl Strategy<Value = ShopGeometry> {
    prop_oneof![
        (-180.0f64..=180.0, -90.0f64..=90.0).prop_map(|(x, y)| ShopGeometry::Point(x, y)),
        (-179.0f64..179.0, -89.0f64..89.0, 1e-6f64..0.5, 1e-6f64..0.5).prop_map(|(x, y, w, h)| {
            let c = |x, y| Coord { x, y };
            ShopGeometry::Polygon(Polygon::new(
                LineString(vec![
                    c(x, y),
                    c(x + w, y),
                    c(x + w, y + h),
                    c(x, y + h),
                    c(x, y),
                ]),
                vec![],
            ))
        }),
    ]
}

prop_compose! {
    fn shops()(
        id in text(), name in text(), credit_code in prop::option::of(text()),
        contact in prop::option::of(text()), phone in prop::option::of(text()),
        pledge_signed in date(), geometry in geometry(),
        frontage in prop::option::of((text(), 0.0f64..30.0, any::<bool>())),
        attributes in attributes(),
    ) -> Shop {
        let frontage = frontage.map(|(segment, distance_m, manual)| Frontage {
            segment,
            distance_m,
            source: if manual { BindingSource::Manual } else { BindingSource::Nearest },
        });
        Shop { id, name, credit_code, contact, phone, pledge_signed, geometry, frontage, attributes }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn components_read_back_as_written(cs in prop::collection::vec(components(), 0..20)) {
        let text = write_components_geojson(&cs).unwrap();
        let back = read_components_geojson(text.as_bytes(), Crs::Wgs84).unwrap();
        prop_assert_eq!(back, cs);
    }

    #[test]
    fn shops_read_back_as_written(shops in prop::collection::vec(shops(), 0..20)) {
        let text = write_shops_geojson(&shops).unwrap();
        let back = read_shops_geojson(text.as_bytes(), Crs::Wgs84).unwrap();
        prop_assert_eq!(back, shops);
    }

    #[test]
    fn no_input_panics_the_readers(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = read_components_geojson(&bytes, Crs::Wgs84);
        let _ = read_shops_geojson(&bytes, Crs::Gcj02);
        let _ = read_components_csv(&bytes, None, Crs::Wgs84);
        let _ = read_shops_csv(&bytes, Some(Encoding::Gbk), Crs::Bd09);
    }
}

#[test]
fn a_written_file_is_the_documented_format() {
    let mut c = component(7, 121.5, 30.75);
    c.state = ComponentState::Missing;
    c.maintainer = Some(String::new());
    let text = write_components_geojson(&[c]).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v,
        json!({"type": "FeatureCollection", "features": [{"type": "Feature",
            "properties": {"layer": "component", "code": "3101160101000007", "owner": "金山区水务局", "state": "missing"},
            "geometry": {"type": "Point", "coordinates": [121.5, 30.75]}}]})
    );
}
