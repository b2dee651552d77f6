//! The synthetic day of patrols (`synth::patrols`): deterministic, and the planted truth holds
//! on the demo district — checked with the atlas and plain geometry, not with the generator's
//! own helpers.

use chrono::{Duration, NaiveDate};
use geo::Coord;
use gridatlas::atlas::Atlas;
use gridatlas::field::duty::{EXAMPLE, FieldSettings, Punch};
use gridatlas::geometry::measure::LocalFrame;
use gridatlas::model::{FeatureSet, Layer};
use gridatlas::synth::patrols::{PatrolDay, patrol_day};
use gridatlas::synth::{SynthOptions, synth};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).expect("date")
}

fn settings() -> FieldSettings {
    FieldSettings::from_json(EXAMPLE).expect("example settings")
}

fn district() -> &'static FeatureSet {
    static SET: OnceLock<FeatureSet> = OnceLock::new();
    SET.get_or_init(|| synth(&SynthOptions::default()).0)
}

fn atlas() -> &'static Atlas {
    static A: OnceLock<Atlas> = OnceLock::new();
    A.get_or_init(|| Atlas::build(district().clone()))
}

fn day() -> &'static PatrolDay {
    static DAY: OnceLock<PatrolDay> = OnceLock::new();
    DAY.get_or_init(|| {
        let t = std::time::Instant::now();
        let d = patrol_day(district(), &settings(), date(), 1);
        eprintln!(
            "patrol day: {} staff, {} on duty, {} fixes, {} check-ins in {:.2} s",
            d.staff.len(),
            d.duty.len(),
            d.fix_count(),
            d.checkins.len(),
            t.elapsed().as_secs_f64()
        );
        d
    })
}

/// The grid (resident, street or extended) at a point.
fn grid_at(lon: f64, lat: f64) -> Option<&'static str> {
    let a = atlas();
    a.locate(lon, lat)[2].map(|id| a.feature(id).code.as_str())
}

fn shift_span(staff: &str) -> (i64, i64) {
    let d = day();
    let s = settings();
    let entry = d.duty.iter().find(|e| e.staff == staff).expect("duty");
    let team = d
        .staff
        .iter()
        .find(|p| p.id == staff)
        .and_then(|p| p.team.clone())
        .expect("team");
    let t = s.shift(&team, &entry.shift).expect("template");
    let (a, b) = s.span(t, entry.date);
    (a.timestamp_millis(), b.timestamp_millis())
}

#[test]
fn the_same_seed_gives_the_same_day_and_another_seed_another() {
    let again = patrol_day(district(), &settings(), date(), 1);
    assert!(&again == day(), "two runs with seed 1 differ");
    let other = patrol_day(district(), &settings(), date(), 2);
    assert!(other.tracks != day().tracks);
    // The roster's ids do not depend on the seed.
    let ids = |d: &PatrolDay| d.staff.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&other), ids(day()));
}

#[test]
fn the_roster_is_the_districts_field_force() {
    let d = day();
    let set = district();
    let street_grids = set.layer(Layer::StreetGrid).count();
    let resident = set.layer(Layer::ResidentGrid).count();
    let streets = set.layer(Layer::Street).count();
    assert_eq!(d.staff.len(), 2 * street_grids + resident + 2 * streets);
    assert!((300..1000).contains(&d.staff.len()), "{}", d.staff.len());
    assert_eq!(d.duty.len(), d.staff.len());
    for s in &d.staff {
        s.check().expect("valid staff");
        let grid = set.get(&s.areas[0]).expect("assigned grid");
        assert_eq!(grid.parent.as_deref(), Some(s.street.as_str()));
        assert!(s.id.starts_with(&format!("G{}-", grid.code)), "{}", s.id);
        if grid.layer == Layer::StreetGrid && s.id.ends_with("-01") {
            // The grid's enforcement officer on the public board is the same person.
            assert!(grid.people.iter().any(|p| p.name == s.name));
        }
    }
    let night = d.duty.iter().filter(|e| e.shift == "night").count();
    assert_eq!(night, 2 * streets);
    assert_eq!(d.workstations.len(), resident);
    for w in &d.workstations {
        assert_eq!(grid_at(w.lon, w.lat), Some(w.grid.as_str()), "{}", w.grid);
        assert!(!w.address.is_empty());
    }
}

#[test]
fn fixes_are_ordered_within_the_shift_and_plentiful() {
    let d = day();
    let total = d.fix_count();
    assert!((300_000..3_000_000).contains(&total), "{total} fixes");
    assert_eq!(d.tracks.len(), d.duty.len() - d.truth.absent.len());
    assert_eq!(d.checkins.len(), 2 * d.tracks.len());
    for t in &d.tracks {
        assert!(t.fixes.len() > 1000, "{}: {} fixes", t.staff, t.fixes.len());
        assert!(
            t.fixes.windows(2).all(|w| w[0].t_ms < w[1].t_ms),
            "{}",
            t.staff
        );
        let (a, b) = shift_span(&t.staff);
        let first = t.fixes[0].t_ms;
        let last = t.fixes[t.fixes.len() - 1].t_ms;
        assert!(
            first >= a - 3_600_000 && last <= b + 3_600_000,
            "{}",
            t.staff
        );
    }
    // Walking pace: most steps of 10 s cover 5–25 m (noise included).
    let mut steps = 0usize;
    let mut walking = 0usize;
    for t in &d.tracks[..20] {
        for w in t.fixes.windows(2) {
            if w[1].t_ms - w[0].t_ms > 11_000 {
                continue;
            }
            let f = LocalFrame::new(w[0].lon, w[0].lat);
            let p = f.to_xy(Coord {
                x: w[1].lon,
                y: w[1].lat,
            });
            steps += 1;
            walking += usize::from((2.0..40.0).contains(&p.x.hypot(p.y)));
        }
    }
    assert!(walking * 10 > steps * 9, "{walking} of {steps}");
}

#[test]
fn people_walk_inside_their_grid() {
    let d = day();
    let astray = d.truth.never_in_grid.as_ref().map(|a| a.staff.as_str());
    for t in d.tracks.iter().filter(|t| Some(t.staff.as_str()) != astray) {
        let grid = t.staff[1..].split('-').next().expect("grid code");
        let inside = t
            .fixes
            .iter()
            .filter(|f| grid_at(f.lon, f.lat) == Some(grid))
            .count();
        assert!(
            inside * 10 >= t.fixes.len() * 7,
            "{}: {inside} of {} fixes in {grid}",
            t.staff,
            t.fixes.len()
        );
    }
}

#[test]
fn the_person_who_never_enters_the_grid_never_does() {
    let d = day();
    let a = d.truth.never_in_grid.as_ref().expect("planted");
    let track = d.tracks.iter().find(|t| t.staff == a.staff).expect("track");
    assert!(track.fixes.len() > 1000);
    for f in &track.fixes {
        assert_ne!(grid_at(f.lon, f.lat), Some(a.grid.as_str()));
    }
    let in_walked = track
        .fixes
        .iter()
        .filter(|f| grid_at(f.lon, f.lat) == Some(a.walked_grid.as_str()))
        .count();
    assert!(in_walked * 10 >= track.fixes.len() * 7);
    // Their check-in is outside, more than 50 m away, and listed.
    let first_in = d
        .checkins
        .iter()
        .find(|c| c.staff == a.staff && c.punch == Punch::In)
        .expect("check-in");
    assert_ne!(grid_at(first_in.lon, first_in.lat), Some(a.grid.as_str()));
    let listed = d
        .truth
        .outside
        .iter()
        .find(|o| o.staff == a.staff && o.punch == Punch::In)
        .expect("listed outside");
    assert!(listed.distance_m > 50.0);
}

#[test]
fn late_early_and_absent_are_as_planted() {
    let d = day();
    assert!(d.truth.late.len() >= 2);
    assert_eq!(d.truth.early_leave.len(), 1);
    assert_eq!(d.truth.absent.len(), 1);
    let late: BTreeSet<&str> = d.truth.late.iter().map(|l| l.staff.as_str()).collect();
    let mut firsts: BTreeMap<&str, i64> = BTreeMap::new();
    let mut lasts: BTreeMap<&str, i64> = BTreeMap::new();
    for c in &d.checkins {
        let t = c.t.timestamp_millis();
        match c.punch {
            Punch::In => {
                firsts.entry(c.staff.as_str()).or_insert(t);
            }
            Punch::Out => {
                lasts.insert(c.staff.as_str(), t);
            }
        }
    }
    let grace = Duration::minutes(5).num_milliseconds();
    for (staff, t) in &firsts {
        let (start, _) = shift_span(staff);
        assert_eq!(late.contains(staff), *t > start + grace, "{staff}");
    }
    for l in &d.truth.late {
        let (start, _) = shift_span(&l.staff);
        let t = firsts[l.staff.as_str()];
        assert!(t >= start + l.minutes * 60_000 && (10..=40).contains(&l.minutes));
        // No fix before the check-in.
        let track = d.tracks.iter().find(|t| t.staff == l.staff).expect("track");
        assert!(track.fixes[0].t_ms >= t);
    }
    let early = &d.truth.early_leave[0].staff;
    for (staff, t) in &lasts {
        let (_, end) = shift_span(staff);
        assert_eq!(staff == early, *t < end - grace, "{staff}");
    }
    let absent = &d.truth.absent[0];
    assert!(d.duty.iter().any(|e| &e.staff == absent));
    assert!(d.checkins.iter().all(|c| &c.staff != absent));
    assert!(d.tracks.iter().all(|t| &t.staff != absent));
}

#[test]
fn unwalked_segments_have_no_fix_within_30_m() {
    let d = day();
    let set = district();
    assert!(d.truth.unwalked_segments.len() >= 3);
    for code in &d.truth.unwalked_segments {
        let seg = set.get(code).expect("segment");
        assert_eq!(seg.layer, Layer::RoadSegment);
        let line = &seg.geometry.as_line().expect("line").0[0].0;
        let f = LocalFrame::new(line[0].x, line[0].y);
        let pts: Vec<Coord<f64>> = line.iter().map(|&c| f.to_xy(c)).collect();
        let (x0, x1, y0, y1) = pts.iter().fold(
            (f64::MAX, f64::MIN, f64::MAX, f64::MIN),
            |(a, b, c, e), p| (a.min(p.x), b.max(p.x), c.min(p.y), e.max(p.y)),
        );
        for t in &d.tracks {
            for fx in &t.fixes {
                let p = f.to_xy(Coord {
                    x: fx.lon,
                    y: fx.lat,
                });
                if p.x < x0 - 40.0 || p.x > x1 + 40.0 || p.y < y0 - 40.0 || p.y > y1 + 40.0 {
                    continue;
                }
                for w in pts.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    let (dx, dy) = (b.x - a.x, b.y - a.y);
                    let l2 = dx * dx + dy * dy;
                    let s = if l2 > 0.0 {
                        (((p.x - a.x) * dx + (p.y - a.y) * dy) / l2).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    let dist = (p.x - a.x - s * dx).hypot(p.y - a.y - s * dy);
                    assert!(dist > 30.0, "{}: fix of {} {dist:.1} m away", code, t.staff);
                }
            }
        }
    }
}

#[test]
fn planted_outliers_and_gaps_are_in_the_tracks() {
    let d = day();
    assert!(!d.truth.far_outliers.is_empty());
    assert!(!d.truth.inaccurate.is_empty());
    assert!(!d.truth.gaps.is_empty());
    let find = |staff: &str, t_ms: i64| {
        d.tracks
            .iter()
            .find(|t| t.staff == staff)
            .and_then(|t| t.fixes.iter().find(|f| f.t_ms == t_ms))
            .copied()
            .expect("planted fix")
    };
    for p in &d.truth.inaccurate {
        assert_eq!(find(&p.staff, p.t_ms).accuracy_m, Some(150.0));
    }
    for p in &d.truth.far_outliers {
        assert!(find(&p.staff, p.t_ms).accuracy_m.is_some_and(|a| a <= 15.0));
    }
    for g in &d.truth.gaps {
        let track = d.tracks.iter().find(|t| t.staff == g.staff).expect("track");
        assert!(g.to_ms > g.from_ms && g.to_ms - g.from_ms <= 300_000);
        assert!(
            track
                .fixes
                .iter()
                .all(|f| f.t_ms < g.from_ms || f.t_ms >= g.to_ms)
        );
    }
}

#[test]
fn the_files_carry_the_day() {
    // A few people's day, written as `gridatlas synth --patrols` writes it, read back.
    let d = day();
    let mut small = d.clone();
    small.tracks.truncate(3);
    let kept: BTreeSet<&str> = small.tracks.iter().map(|t| t.staff.as_str()).collect();
    small.checkins.retain(|c| kept.contains(c.staff.as_str()));
    let dir = tempfile::tempdir().expect("tempdir");
    gridatlas::cli::synth::write_patrols(dir.path(), &small, settings().offset()).expect("write");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect(name);
    let staff: Vec<gridatlas::field::roster::Staff> =
        serde_json::from_str(&read("staff.json")).expect("staff.json");
    assert_eq!(staff, d.staff);
    // duty.json is what `gridatlas duty import` and `PUT /api/v1/duty` take
    let duty: gridatlas::wire::field::DutyInput =
        serde_json::from_str(&read("duty.json")).expect("duty.json");
    assert_eq!(duty.entries, d.duty);
    assert!(
        duty.entries
            .iter()
            .all(|e| duty.from <= e.date && e.date <= duty.to)
    );
    assert_eq!(duty.from, d.date);
    let fixes: Vec<serde_json::Value> = read("fixes.ndjson")
        .lines()
        .map(|l| serde_json::from_str(l).expect("fix line"))
        .collect();
    assert_eq!(fixes.len(), small.fix_count());
    let first = &small.tracks[0].fixes[0];
    let line = &fixes[0];
    assert_eq!(line["staff"], small.tracks[0].staff.as_str());
    assert_eq!(line["lon"].as_f64(), Some(first.lon));
    assert_eq!(line["lat"].as_f64(), Some(first.lat));
    assert_eq!(line["accuracy_m"].as_f64(), first.accuracy_m);
    let t = chrono::DateTime::parse_from_rfc3339(line["t"].as_str().expect("t")).expect("rfc 3339");
    assert_eq!(t.offset().local_minus_utc(), 8 * 3600);
    assert_eq!(t.timestamp_millis(), first.t_ms);
    let punches = read("checkins.ndjson").lines().count();
    assert_eq!(punches, small.checkins.len());
    let truth: gridatlas::synth::patrols::PatrolTruth =
        serde_json::from_str(&read("truth.json")).expect("truth.json");
    assert_eq!(truth.unwalked_segments, d.truth.unwalked_segments);
}
