//! Tests of the reader through its entry points.

use super::geometry::crs_problem;
use super::problems::one_of;
use super::*;
use crate::model::Kind;

fn fc(features: &str) -> String {
    format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#)
}

const SQUARE: &str = "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]";

fn feature(props: &str, geom: &str) -> String {
    format!(r#"{{"type":"Feature","properties":{{{props}}},"geometry":{geom}}}"#)
}

fn street(code: &str) -> String {
    feature(
        &format!(r#""layer":"street","code":"{code}","name":"S","kind":"town""#),
        &format!(r#"{{"type":"Polygon","coordinates":{SQUARE}}}"#),
    )
}

fn problems(input: &str) -> Vec<Problem> {
    match read_slice(input.as_bytes()) {
        Err(ReadError::Invalid(p)) => p,
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn reads_a_minimal_street() {
    let set = read_slice(fc(&street("1")).as_bytes()).expect("valid");
    assert_eq!(set.len(), 1);
    assert_eq!(set.features()[0].kind, Some(Kind::Town));
}

#[test]
fn reader_and_slice_agree() {
    let input = fc(&street("1"));
    let a = read(input.as_bytes()).expect("valid");
    let b = read_slice(input.as_bytes()).expect("valid");
    assert_eq!(a, b);
}

#[test]
fn byte_order_mark_is_skipped() {
    let mut input = BOM.to_vec();
    input.extend_from_slice(fc(&street("1")).as_bytes());
    assert_eq!(read(&input[..]).expect("valid").len(), 1);
    assert_eq!(read_slice(&input).expect("valid").len(), 1);
}

/// A reader that returns one byte per call, as a slow network stream may.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(out)) => {
                *out = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn byte_order_mark_is_skipped_from_a_trickling_reader() {
    let mut input = BOM.to_vec();
    input.extend_from_slice(fc(&street("1")).as_bytes());
    assert_eq!(read(Trickle(&input)).expect("valid").len(), 1);
    assert_eq!(read(Trickle(&input[3..])).expect("valid").len(), 1);
    assert!(matches!(
        read(Trickle(b"\xEF\xBB")),
        Err(ReadError::Syntax { .. })
    ));
}

#[test]
fn members_in_any_order() {
    let input = format!(
        r#"{{"features":[{}],"name":"x","type":"FeatureCollection"}}"#,
        street("1")
    );
    assert_eq!(read_slice(input.as_bytes()).expect("valid").len(), 1);
}

#[test]
fn position_node_keeps_first_two_numbers() {
    let input = fc(&feature(
        r#""layer":"street","code":"1","name":"S","kind":"town""#,
        r#"{"type":"Polygon","coordinates":[[[0,0,5],[1,0,5],[1,1,5],[0,1,5],[0,0,5]]]}"#,
    ));
    let set = read_slice(input.as_bytes()).expect("valid");
    assert_eq!(set.position_count(), 5);
}

#[test]
fn non_number_in_position_is_located() {
    let p = problems(&fc(&feature(
        r#""layer":"street","code":"1","name":"S","kind":"town""#,
        r#"{"type":"Polygon","coordinates":[[[0,0],[1,"x"],[1,1],[0,1],[0,0]]]}"#,
    )));
    assert_eq!(p[0].path, "features[0].geometry.coordinates[0][1][1]");
}

#[test]
fn empty_position() {
    let p = problems(&fc(&feature(
        r#""layer":"road_segment","code":"1","name":"S","parent":"x""#,
        r#"{"type":"LineString","coordinates":[[0,0],[]]}"#,
    )));
    assert_eq!(p[0].path, "features[0].geometry.coordinates[1]");
    assert!(p[0].message.contains("position is empty"), "{p:?}");
}

#[test]
fn too_deep_and_too_shallow() {
    let p = problems(&fc(&feature(
        r#""layer":"street","code":"1","name":"S","kind":"town""#,
        r#"{"type":"Polygon","coordinates":[[0,0],[1,0],[1,1],[0,1],[0,0]]}"#,
    )));
    assert!(p[0].message.contains("single position"), "{p:?}");
}

#[test]
fn problems_per_feature_are_capped() {
    let coords: Vec<String> = (0..50).map(|i| format!("[500,{i}]")).collect();
    let p = problems(&fc(&feature(
        r#""layer":"street","code":"1","name":"S","kind":"town""#,
        &format!(
            r#"{{"type":"LineString","coordinates":[{}]}}"#,
            coords.join(",")
        ),
    )));
    // 20 listed (the type mismatch and 19 longitudes) plus one summary.
    assert_eq!(p.len(), 21);
    assert!(p[20].message.contains("more problem(s)"), "{p:?}");
}

#[test]
fn position_limit_stops_reading() {
    let opts = ReadOptions {
        max_positions_per_feature: Some(3),
        ..ReadOptions::default()
    };
    match read_slice_with(fc(&street("1")).as_bytes(), &opts) {
        Err(ReadError::TooLarge(p)) => assert_eq!(p.index, Some(0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn feature_limit_stops_reading() {
    let opts = ReadOptions {
        max_features: Some(1),
        ..ReadOptions::default()
    };
    let input = fc(&format!("{},{}", street("1"), street("2")));
    match read_slice_with(input.as_bytes(), &opts) {
        Err(ReadError::TooLarge(p)) => assert_eq!(p.index, Some(1)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn crs_names() {
    let name = |n: &str| serde_json::json!({"type": "name", "properties": {"name": n}});
    assert_eq!(crs_problem(&name("urn:ogc:def:crs:OGC:1.3:CRS84")), None);
    assert_eq!(crs_problem(&name("urn:ogc:def:crs:EPSG::4326")), None);
    assert_eq!(crs_problem(&name("EPSG:4490")), None);
    let p = crs_problem(&name("urn:ogc:def:crs:EPSG::4549")).expect("rejected");
    assert!(p.contains("EPSG::4549") && p.contains("WGS84"), "{p}");
    assert!(crs_problem(&name("EPSG:43260")).is_some());
}

#[test]
fn syntax_error_has_position() {
    match read_slice(b"{\"type\":\"FeatureCollection\",\n\"features\":[1e400]}") {
        Err(ReadError::Syntax { line, message, .. }) => {
            assert_eq!(line, 2);
            assert!(message.starts_with("number out of range"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_of_lists() {
    assert_eq!(one_of(["a"].into_iter(), "or"), "a");
    assert_eq!(one_of(["a", "b", "c"].into_iter(), "or"), "a, b or c");
}
