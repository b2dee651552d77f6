//! Coverage of road segments by patrol paths and geofencing (issue 16): hand-built paths with
//! known answers, the interval of a line against a capsule against sampling, generated tracks on
//! the demo district against the brute-force geometric reference (buffer and clip), the
//! `gridatlas coverage` command, and entering and leaving blocks of the demo.

#[path = "support/patrols.rs"]
mod patrols;

use geo::{Coord, LineString, MultiLineString};
use gridatlas::atlas::Atlas;
use gridatlas::field::coverage::{
    CoverageIndex, REFERENCE_ARC_RAD, SegmentCoverage, capsule_interval, reference_coverage,
};
use gridatlas::field::geofence::{Crossing, Event, Fence, geofence};
use gridatlas::field::{Fix, FixRules, clean, paths};
use gridatlas::geometry::measure::{LocalFrame, point_segment_distance};
use gridatlas::model::{FeatureSet, Layer};
use proptest::prelude::*;
use std::sync::OnceLock;

const R: f64 = 20.0;

fn frame() -> LocalFrame {
    LocalFrame::new(121.3, 30.8)
}

/// A fix at local metres `(x, y)` at `t_s` seconds.
fn fix(t_s: i64, x: f64, y: f64) -> Fix {
    let c = frame().to_lonlat(Coord { x, y });
    Fix {
        t_ms: patrols::START_MS + t_s * 1000,
        lon: c.x,
        lat: c.y,
        accuracy_m: Some(5.0),
    }
}

/// A path of fixes 10 m and 10 s apart from `(x0, y)` to `(x1, y)`.
fn walk(x0: f64, x1: f64, y: f64) -> Vec<Fix> {
    let n = ((x1 - x0).abs() / 10.0).ceil() as i64;
    (0..=n)
        .map(|i| fix(i * 10, x0 + (x1 - x0) * i as f64 / n as f64, y))
        .collect()
}

/// The straight segment from local (0, 0) to (100, 0).
fn straight() -> MultiLineString<f64> {
    let f = frame();
    MultiLineString(vec![LineString(vec![
        f.to_lonlat(Coord { x: 0.0, y: 0.0 }),
        f.to_lonlat(Coord { x: 100.0, y: 0.0 }),
    ])])
}

/// The engine's and the reference's coverage of the straight segment by `paths`.
fn both(paths: &[&[Fix]]) -> (SegmentCoverage, SegmentCoverage) {
    let line = straight();
    let index = CoverageIndex::new([("S".to_string(), &line)], R);
    let mut tally = index.tally();
    index.add_paths(&mut tally, paths.iter().copied());
    let engine = index.finish(&tally).remove(0);
    let reference = reference_coverage([("S".to_string(), &line)], paths, R).remove(0);
    (engine, reference)
}

#[track_caller]
fn covers(paths: &[&[Fix]], want_m: f64) {
    let (e, r) = both(paths);
    assert!((e.length_m - 100.0).abs() < 1e-6, "{e:?}");
    assert!(
        (e.covered_m - want_m).abs() < 1e-6,
        "engine {} m, want {want_m} m",
        e.covered_m
    );
    assert!((e.share - want_m / 100.0).abs() < 1e-8);
    // The reference's arcs are inscribed polygons: a little short where a line crosses an arc.
    assert!(
        (r.covered_m - want_m).abs() < 0.5,
        "reference {} m, want {want_m} m",
        r.covered_m
    );
}

#[test]
fn a_path_along_half_a_segment_covers_half() {
    // Walking from x = −50 to x = 30 covers up to 30 + R = 50 m of the 100 m.
    covers(&[&walk(-50.0, 30.0, 0.0)], 50.0);
    // On the line from 20 to 30: [0, 50] again.
    covers(&[&walk(20.0, 30.0, 0.0)], 50.0);
}

#[test]
fn a_parallel_path_covers_all_at_19_m_and_nothing_at_21_m() {
    covers(&[&walk(-100.0, 200.0, 19.0)], 100.0);
    covers(&[&walk(-100.0, 200.0, -19.0)], 100.0);
    covers(&[&walk(-100.0, 200.0, 21.0)], 0.0);
}

#[test]
fn a_perpendicular_crossing_covers_twice_the_radius() {
    let crossing = [fix(0, 50.0, -200.0), fix(100, 50.0, 200.0)];
    covers(&[&crossing], 2.0 * R);
    // Crossing at an angle of 30° covers 2R / sin(30°) = 80 m.
    let (s, c) = (30f64.to_radians().sin(), 30f64.to_radians().cos());
    let slanted = [
        fix(0, 50.0 - 100.0 * c, -100.0 * s),
        fix(100, 50.0 + 100.0 * c, 100.0 * s),
    ];
    covers(&[&slanted], 2.0 * R / s);
}

#[test]
fn a_single_fix_path_is_a_point() {
    covers(&[&[fix(0, 50.0, 0.0)]], 2.0 * R);
    covers(&[&[fix(0, 50.0, 12.0)]], 2.0 * (R * R - 144.0f64).sqrt());
    // Near the end: only what lies on the segment counts.
    covers(&[&[fix(0, 5.0, 0.0)]], 25.0);
    covers(&[&[fix(0, 50.0, 25.0)]], 0.0);
}

#[test]
fn overlapping_paths_do_not_count_twice() {
    let a = walk(-50.0, 30.0, 0.0); // [0, 50]
    let b = walk(10.0, 40.0, 0.0); // [−10, 60] → [0, 60]
    let back = walk(30.0, -50.0, 3.0); // [0, 50] again, walked back
    covers(&[&a, &b, &back], 60.0);
    covers(&[&a, &a, &a], 50.0);
    // Two disjoint stretches add up.
    let far = walk(90.0, 95.0, 0.0); // [70, 100]
    covers(&[&a, &far], 80.0);
}

#[test]
fn tallies_merge_to_the_same_answer() {
    let line = straight();
    let index = CoverageIndex::new([("S".to_string(), &line)], R);
    let (a, b) = (walk(-50.0, 30.0, 0.0), walk(90.0, 95.0, 0.0));
    let mut one = index.tally();
    index.add_paths(&mut one, [a.as_slice(), b.as_slice()]);
    let (mut left, mut right) = (index.tally(), index.tally());
    index.add_path(&mut left, &a);
    index.add_path(&mut right, &b);
    left.merge(&right);
    assert_eq!(index.finish(&one), index.finish(&left));
    assert_eq!(left.fixes(), (a.len() + b.len()) as u64);
    // Fixes far away or not finite cover nothing and do not panic.
    let mut t = index.tally();
    index.add_path(&mut t, &[fix(0, 1e6, 1e6), fix(10, 1e6, 1e6 + 10.0)]);
    let nan = Fix {
        lon: f64::NAN,
        ..fix(20, 0.0, 0.0)
    };
    index.add_path(&mut t, &[nan, fix(30, 0.0, 0.0)]);
    index.add_path(&mut t, &[]);
    assert!(index.finish(&t)[0].covered_m <= 20.0 + 1e-9);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The interval agrees with the distance at every sampled point (away from the radius).
    #[test]
    fn capsule_interval_matches_sampling(
        dx in -200.0..200.0f64, dy in -200.0..200.0f64,
        ax in -100.0..300.0f64, ay in -100.0..100.0f64,
        bx in -100.0..300.0f64, by in -100.0..100.0f64,
        point in any::<bool>(),
        r in 0.5..60.0f64,
    ) {
        prop_assume!(dx.hypot(dy) > 1e-3);
        let d = Coord { x: dx, y: dy };
        let a = Coord { x: ax, y: ay };
        let b = if point { a } else { Coord { x: bx, y: by } };
        let got = capsule_interval(d, a, b, r);
        for i in 0..=400 {
            let t = f64::from(i) / 400.0;
            let p = Coord { x: t * dx, y: t * dy };
            let dist = point_segment_distance(p, a, b);
            let inside = got.is_some_and(|(lo, hi)| lo <= t && t <= hi);
            if dist < r - 1e-6 {
                prop_assert!(inside, "t {} at {} m not in {:?}", t, dist, got);
            } else if dist > r + 1e-6 {
                prop_assert!(!inside, "t {} at {} m in {:?}", t, dist, got);
            }
        }
        if let Some((lo, hi)) = got {
            prop_assert!((0.0..=1.0).contains(&lo) && lo < hi && hi <= 1.0);
            // The ends lie on the capsule's boundary or the edge's ends.
            for t in [lo, hi] {
                let dist = point_segment_distance(Coord { x: t * dx, y: t * dy }, a, b);
                prop_assert!(dist <= r + 1e-6, "end {} at {} m", t, dist);
                if t > 1e-9 && t < 1.0 - 1e-9 {
                    prop_assert!((dist - r).abs() < 1e-6 * r.max(1.0), "end {} at {} m", t, dist);
                }
            }
        }
    }
}

/// The demo district (synthesised once).
fn demo() -> &'static (FeatureSet, Atlas) {
    static DEMO: OnceLock<(FeatureSet, Atlas)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let (set, _) = gridatlas::synth::synth(&gridatlas::synth::SynthOptions::default());
        (set.clone(), Atlas::build(set))
    })
}

fn road_segments(set: &FeatureSet) -> Vec<(String, &MultiLineString<f64>)> {
    set.layer(Layer::RoadSegment)
        .filter_map(|f| Some((f.code.clone(), f.geometry.as_line()?)))
        .collect()
}

#[test]
fn generated_tracks_on_the_demo_district_agree_with_the_geometric_reference() {
    let (set, _) = demo();
    let rules = FixRules::default();
    let people = patrols::patrols(set, 40, 1.5, 10.0, 7);
    let cleaned: Vec<Vec<Fix>> = people
        .into_iter()
        .map(|(_, fixes)| clean(fixes, None, &rules).kept)
        .collect();
    let all: Vec<&[Fix]> = cleaned.iter().flat_map(|k| paths(k, &rules)).collect();
    assert!(
        all.len() > 40 && all.iter().any(|p| p.len() == 1),
        "gaps and single-fix paths expected"
    );
    let segments = road_segments(set);
    let index = CoverageIndex::new(segments.iter().map(|(c, l)| (c.clone(), *l)), R);
    let mut tally = index.tally();
    index.add_paths(&mut tally, all.iter().copied());
    let engine = index.finish(&tally);
    let reference = reference_coverage(segments.iter().map(|(c, l)| (c.clone(), *l)), &all, R);
    // The reference's arcs are inscribed polygons (vertices on the circle, pieces of at most
    // REFERENCE_ARC_RAD): grown by 1 / cos(angle / 2) they contain the exact buffer.
    let outer_r = R / (REFERENCE_ARC_RAD / 2.0).cos();
    let outer = reference_coverage(segments.iter().map(|(c, l)| (c.clone(), *l)), &all, outer_r);
    assert_eq!(engine.len(), segments.len());
    let (mut touched, mut partial, mut worst) = (0, 0, 0.0f64);
    for ((e, r), o) in engine.iter().zip(&reference).zip(&outer) {
        assert_eq!(e.code, r.code);
        assert!((e.length_m - r.length_m).abs() < 1e-6 * e.length_m.max(1.0));
        assert!(
            (e.covered_m - r.covered_m).abs() <= 0.01 * e.length_m,
            "{}: engine {} m, reference {} m of {} m",
            e.code,
            e.covered_m,
            r.covered_m,
            e.length_m
        );
        assert!(
            r.covered_m <= e.covered_m + 1e-3 && e.covered_m <= o.covered_m + 1e-3,
            "{}: engine {} m outside the reference's bracket [{}, {}]",
            e.code,
            e.covered_m,
            r.covered_m,
            o.covered_m
        );
        worst = worst.max((e.covered_m - r.covered_m).abs() / e.length_m);
        worst = worst.max((e.covered_m - r.covered_m).abs() / e.length_m);
        touched += usize::from(e.covered_m > 0.0);
        partial += usize::from(e.share > 0.05 && e.share < 0.95);
    }
    eprintln!(
        "{} paths, {touched} segments touched, {partial} partly; largest difference {:.4} % of a \
         segment's length",
        all.len(),
        worst * 100.0
    );
    assert!(
        touched > 100 && partial > 10,
        "{touched} touched, {partial} partial"
    );
}

#[test]
fn walking_into_the_next_block_enters_and_leaves_with_midpoint_times() {
    let (set, atlas) = demo();
    // A block, a point inside it, and a walk east until the next block.
    let (a, start) = set
        .features()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.layer == Layer::Block)
        .find_map(|(i, f)| {
            let p = geo::InteriorPoint::interior_point(f.geometry.as_area()?)?;
            (atlas.locate(p.x(), p.y())[3] == Some(i as u32)).then_some((i as u32, p))
        })
        .expect("a block with an interior point");
    let f = LocalFrame::new(start.x(), start.y());
    let at = |x: f64| f.to_lonlat(Coord { x, y: 0.0 });
    let block = |x: f64| {
        let c = at(x);
        atlas.locate(c.x, c.y)
    };
    let mut x = 0.0;
    while block(x)[3] == Some(a) {
        x += 3.0;
    }
    let b = block(x)[3].expect("the next block east");
    // Fixes every 3 m and 10 s (t = 0, 10, …, plus 7 ms on odd fixes) while in A or B.
    let mut fixes = Vec::new();
    let mut k = 0;
    loop {
        let xk = 3.0 * k as f64;
        let here = block(xk)[3];
        if (here != Some(a) && here != Some(b)) || k > 200 {
            break;
        }
        let c = at(xk);
        fixes.push(Fix {
            t_ms: patrols::START_MS + k * 10_000 + (k % 2) * 7,
            lon: c.x,
            lat: c.y,
            accuracy_m: None,
        });
        k += 1;
    }
    let cross = fixes
        .iter()
        .position(|f| atlas.locate(f.lon, f.lat)[3] == Some(b))
        .expect("reaches B");
    assert!(
        cross > 0 && fixes.len() > cross + 1,
        "{cross} of {}",
        fixes.len()
    );
    let later = [Fix {
        t_ms: patrols::START_MS + 3_600_000,
        ..fixes[0]
    }];
    let rules = FixRules::default();
    let mut all = fixes.clone();
    all.extend_from_slice(&later);
    let ps = paths(&all, &rules);
    assert_eq!(ps.len(), 2, "the hour's gap splits the path");
    let g = geofence(atlas, &ps);

    let (t0, tn) = (fixes[0].t_ms, fixes[fixes.len() - 1].t_ms);
    let mid = fixes[cross - 1].t_ms + (fixes[cross].t_ms - fixes[cross - 1].t_ms) / 2;
    let grid = |i: usize| atlas.locate(fixes[i].lon, fixes[i].lat)[2];
    let ev = |t_ms, crossing, fence, feature| Event {
        t_ms,
        crossing,
        fence,
        feature,
    };
    let blocks: Vec<&Event> = g
        .events
        .iter()
        .filter(|e| e.fence == Fence::Block)
        .collect();
    assert_eq!(
        blocks,
        [
            &ev(t0, Crossing::Entered, Fence::Block, a),
            &ev(mid, Crossing::Left, Fence::Block, a),
            &ev(mid, Crossing::Entered, Fence::Block, b),
            // The path ends (a gap): the visit closes at its last fix.
            &ev(tn, Crossing::Left, Fence::Block, b),
            // The single fix after the gap: a visit of no time.
            &ev(later[0].t_ms, Crossing::Entered, Fence::Block, a),
            &ev(later[0].t_ms, Crossing::Left, Fence::Block, a),
        ]
    );
    assert_eq!(g.visited(Fence::Block), [a, b]);
    assert_eq!(g.time_inside(Fence::Block), [(a, mid - t0), (b, tn - mid)]);
    // Grids: one visit through, or a switch at the same midpoint.
    let (ga, gb) = (grid(0), grid(fixes.len() - 1));
    let inside = g.time_inside(Fence::Grid);
    if ga == gb {
        let ga = ga.expect("blocks lie in grids");
        assert_eq!(inside, [(ga, tn - t0)]);
    } else {
        let (ga, gb) = (ga.expect("a grid"), gb.expect("a grid"));
        assert_eq!(inside, [(ga, mid - t0), (gb, tn - mid)]);
    }
    // At one instant a block is left before its grid, a grid entered before its blocks.
    let at = |t: i64| -> Vec<(Crossing, Fence)> {
        g.events
            .iter()
            .filter(|e| e.t_ms == t)
            .map(|e| (e.crossing, e.fence))
            .collect()
    };
    assert_eq!(
        at(t0),
        [
            (Crossing::Entered, Fence::Grid),
            (Crossing::Entered, Fence::Block)
        ]
    );
    assert_eq!(
        at(tn),
        [
            (Crossing::Left, Fence::Block),
            (Crossing::Left, Fence::Grid)
        ]
    );
}

/// Runs the binary; answers (status, stdout, stderr).
fn gridatlas(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gridatlas"))
        .args(args)
        .output()
        .expect("runs gridatlas");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_coverage_command_prints_a_line_per_segment_and_per_grid() {
    let data = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo-district.geojson"
    );
    let set = gridatlas::geo_io::read_path(std::path::Path::new(data)).expect("demo reads");
    let segments = road_segments(&set);
    // Walk the first segment's line, a fix every 5 m of it and 5 s; times in both forms, one
    // point in GCJ-02.
    let line = segments[0].1.0[0].clone();
    let f = LocalFrame::new(line.0[0].x, line.0[0].y);
    let mut fixes = Vec::new();
    for w in line.0.windows(2) {
        let (p, q) = (f.to_xy(w[0]), f.to_xy(w[1]));
        let n = ((q.x - p.x).hypot(q.y - p.y) / 5.0).ceil().max(1.0) as usize;
        for i in 0..n {
            let s = i as f64 / n as f64;
            fixes.push(f.to_lonlat(Coord {
                x: p.x + (q.x - p.x) * s,
                y: p.y + (q.y - p.y) * s,
            }));
        }
    }
    fixes.push(line.0[line.0.len() - 1]);
    let dir = tempfile::tempdir().expect("tempdir");
    let tracks = dir.path().join("fixes.ndjson");
    let mut text = String::new();
    let mut kept = Vec::new();
    for (i, c) in fixes.iter().enumerate() {
        let t_ms = patrols::START_MS + 5_000 * i as i64;
        kept.push(Fix {
            t_ms,
            lon: c.x,
            lat: c.y,
            accuracy_m: Some(6.0),
        });
        let t = if i % 2 == 0 {
            t_ms.to_string()
        } else {
            format!(
                "{:?}",
                chrono::DateTime::from_timestamp_millis(t_ms)
                    .expect("a time")
                    .to_rfc3339()
            )
        };
        let (lon, lat, crs) = if i == 1 {
            let (x, y) = gridatlas::geometry::crs::Crs::Gcj02.from_wgs84(c.x, c.y);
            (x, y, r#", "crs": "gcj02""#)
        } else {
            (c.x, c.y, "")
        };
        text.push_str(&format!(
            "{{\"staff\": \"W0001\", \"lon\": {lon}, \"lat\": {lat}, \"t\": {t}, \"accuracy_m\": 6{crs}}}\n"
        ));
    }
    std::fs::write(&tracks, &text).expect("write tracks");
    let tracks = tracks.to_str().expect("utf-8 path");

    let (status, out, err) = gridatlas(&["coverage", "--data", data, "--tracks", tracks]);
    assert_eq!(status, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), segments.len());
    for (l, (code, _)) in lines.iter().zip(&segments) {
        assert_eq!(l["code"], code.as_str());
        let keys: Vec<&str> = l
            .as_object()
            .expect("object")
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys, ["code", "length_m", "covered_m", "share"]);
    }
    // The walked segment is covered whole; the same as the engine in-process.
    let index = CoverageIndex::new(segments.iter().map(|(c, l)| (c.clone(), *l)), R);
    let mut tally = index.tally();
    index.add_path(&mut tally, &kept);
    let expected = index.finish(&tally);
    assert!((expected[0].share - 1.0).abs() < 1e-9, "{:?}", expected[0]);
    for (l, e) in lines.iter().zip(&expected) {
        let share = l["share"].as_f64().expect("share");
        assert!((share - e.share).abs() < 1e-6, "{l} vs {e:?}");
    }

    let (status, out, err) = gridatlas(&[
        "coverage",
        "--data",
        data,
        "--tracks",
        tracks,
        "--by",
        "grid",
        "--radius-m",
        "20",
    ]);
    assert_eq!(status, 0, "{err}");
    let grids: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(
        grids.len(),
        set.features().iter().filter(|f| f.layer.is_grid()).count()
    );
    let walked: Vec<&serde_json::Value> = grids
        .iter()
        .filter(|g| g["covered_segments"].as_u64() > Some(0))
        .collect();
    assert!(!walked.is_empty());
    assert!(walked.iter().any(|g| g["inside_s"].as_f64() > Some(0.0)));
    let total: u64 = grids.iter().filter_map(|g| g["segments"].as_u64()).sum();
    assert_eq!(total as usize, segments.len());

    // A bad line: exit status 2, the line named.
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        format!(
            "{}{{\"staff\": \"W1\", \"lon\": 121, \"lat\": 91, \"t\": 1777593600000}}\n",
            text.lines()
                .next()
                .map(|l| format!("{l}\n"))
                .unwrap_or_default()
        ),
    )
    .expect("write");
    let (status, _, err) = gridatlas(&[
        "coverage",
        "--data",
        data,
        "--tracks",
        bad.to_str().expect("utf-8"),
    ]);
    assert_eq!(status, 2);
    assert!(
        err.contains(r#"line 2: "lat": 91 is outside [-90, 90]"#),
        "{err}"
    );
}
