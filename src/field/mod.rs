//! The field force (执法力量进网格): the staff roster, duty shifts and modes, check-in
//! (电子考勤), patrol tracks and the coverage of road segments and blocks. Plain data and rules,
//! no I/O (the store keeps staff, duty, check-ins and tracks durably).
//!
//! - [`roster`]: staff (工号, name, phone, role, organisation, team, assigned areas) and their
//!   CSV (UTF-8 or GBK) and JSON forms;
//! - [`duty`]: shift templates and the "2+X" duty modes as data, who is on which shift on which
//!   date, and the attendance classes of check-ins around a shift's edges;
//! - this module: a GPS fix, the limits a fix must meet ([`FixRules`]), cleaning a person's fixes
//!   ([`clean`]) and joining them into paths ([`paths`]);
//! - [`fixes`]: fixes as they arrive in NDJSON lines;
//! - [`gpx`]: the GPX format — reading phones' track recordings (GPX 1.0/1.1 tracks, WGS84 or
//!   GCJ-02) into fixes, and writing a person's paths as GPX 1.1;
//! - [`coverage`]: the share of each road segment's length within a radius of the paths, and the
//!   brute-force geometric reference it is checked against;
//! - [`geofence`]: entering and leaving grids and blocks along a person's paths, block visits and
//!   time inside grids.
//!
//! Times of fixes are milliseconds since the Unix epoch (UTC): the matching runs over millions of
//! fixes and an `i64` is what it compares.

pub mod coverage;
pub mod duty;
pub mod fixes;
pub mod geofence;
pub mod gpx;
pub mod roster;

use crate::geometry::measure::LocalFrame;
use geo::Coord;
use serde::{Deserialize, Serialize};

/// One GPS fix of one person, in WGS84.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    /// Milliseconds since the Unix epoch, UTC.
    pub t_ms: i64,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// Horizontal accuracy the device reported, metres (`None`: not reported).
    pub accuracy_m: Option<f64>,
}

/// A person's cleaned fixes, in time order: what the store keeps as one chunk of their track.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// 工号.
    pub staff: String,
    /// Fixes, by time.
    pub fixes: Vec<Fix>,
}

/// The limits fixes must meet and how they join into paths (settings `field.tracks`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixRules {
    /// A fix less accurate than this (metres) is dropped; a check-in refused.
    #[schema(exclusive_minimum = 0)]
    pub max_accuracy_m: f64,
    /// A fix implying a faster speed since the previous kept fix (km/h) is dropped; a check-in
    /// refused.
    #[schema(exclusive_minimum = 0)]
    pub max_speed_kmh: f64,
    /// Consecutive fixes join into one path when less than this many seconds apart …
    #[schema(exclusive_minimum = 0)]
    pub join_s: f64,
    /// … and less than this many metres apart.
    #[schema(exclusive_minimum = 0)]
    pub join_m: f64,
}

impl Default for FixRules {
    fn default() -> Self {
        FixRules {
            max_accuracy_m: 100.0,
            max_speed_kmh: 150.0,
            join_s: 60.0,
            join_m: 150.0,
        }
    }
}

impl FixRules {
    /// Checks the values are usable (finite and positive).
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("max_accuracy_m", self.max_accuracy_m),
            ("max_speed_kmh", self.max_speed_kmh),
            ("join_s", self.join_s),
            ("join_m", self.join_m),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{name}: {v} is not a positive number"));
            }
        }
        Ok(())
    }
}

/// Distance in metres between two WGS84 points (local frame at the first; a few kilometres at
/// most between consecutive fixes, where its error is far below a centimetre).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let f = LocalFrame::new(a.0, a.1);
    let p = f.to_xy(Coord { x: b.0, y: b.1 });
    p.x.hypot(p.y)
}

/// The speed in km/h from `a` to `b` (infinite when `b` is not later than `a` but elsewhere).
pub fn speed_kmh(a: &Fix, b: &Fix) -> f64 {
    let d = distance_m((a.lon, a.lat), (b.lon, b.lat));
    let dt_s = (b.t_ms - a.t_ms) as f64 / 1000.0;
    if dt_s <= 0.0 {
        return if d > 0.0 { f64::INFINITY } else { 0.0 };
    }
    d / dt_s * 3.6
}

/// A person's fixes once cleaned: kept in time order, and how many were dropped and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cleaned {
    /// The kept fixes, by time (a repeated time keeps the first).
    pub kept: Vec<Fix>,
    /// Dropped: accuracy worse than [`FixRules::max_accuracy_m`].
    pub dropped_accuracy: usize,
    /// Dropped: faster than [`FixRules::max_speed_kmh`] from the previous kept fix.
    pub dropped_speed: usize,
    /// Dropped: the same time as a kept fix.
    pub dropped_duplicate: usize,
}

/// Sorts one person's fixes by time and drops those with bad accuracy, impossible speed from
/// the previous kept fix (`previous`: the last fix kept before these, if any), or a repeated
/// time.
pub fn clean(mut fixes: Vec<Fix>, previous: Option<&Fix>, rules: &FixRules) -> Cleaned {
    fixes.sort_by_key(|f| f.t_ms);
    let mut out = Cleaned {
        kept: Vec::with_capacity(fixes.len()),
        ..Cleaned::default()
    };
    let mut last = previous.copied();
    for f in fixes {
        if f.accuracy_m
            .is_some_and(|a| a.is_nan() || a > rules.max_accuracy_m)
        {
            out.dropped_accuracy += 1;
            continue;
        }
        if let Some(p) = &last {
            if p.t_ms == f.t_ms {
                out.dropped_duplicate += 1;
                continue;
            }
            if speed_kmh(p, &f) > rules.max_speed_kmh {
                out.dropped_speed += 1;
                continue;
            }
        }
        last = Some(f);
        out.kept.push(f);
    }
    out
}

/// Splits time-ordered fixes into paths: consecutive fixes join when less than
/// [`FixRules::join_s`] seconds and [`FixRules::join_m`] metres apart. A path of one fix is a
/// point (it covers what lies within the radius of it).
pub fn paths<'a>(fixes: &'a [Fix], rules: &FixRules) -> Vec<&'a [Fix]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=fixes.len() {
        let split = i == fixes.len() || !joins(&fixes[i - 1], &fixes[i], rules);
        if split {
            out.push(&fixes[start..i]);
            start = i;
        }
    }
    out
}

/// Whether two consecutive fixes join into one path.
pub fn joins(a: &Fix, b: &Fix, rules: &FixRules) -> bool {
    let dt_s = (b.t_ms - a.t_ms) as f64 / 1000.0;
    dt_s < rules.join_s && distance_m((a.lon, a.lat), (b.lon, b.lat)) < rules.join_m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(t_s: i64, east_m: f64, accuracy_m: f64) -> Fix {
        let f = LocalFrame::new(121.0, 30.8);
        let c = f.to_lonlat(Coord { x: east_m, y: 0.0 });
        Fix {
            t_ms: t_s * 1000,
            lon: c.x,
            lat: c.y,
            accuracy_m: Some(accuracy_m),
        }
    }

    #[test]
    fn cleaning_drops_bad_accuracy_impossible_speed_and_repeats() {
        let rules = FixRules::default();
        // 0 s at 0 m; 10 s at 10 m (3.6 km/h); 20 s at 5 km (900 km/h: dropped);
        // 30 s at 20 m but 150 m accuracy (dropped); 30 s again (kept: the dropped one did not
        // count); 30 s repeated (dropped).
        let fixes = vec![
            fix(20, 5_000.0, 5.0),
            fix(0, 0.0, 5.0),
            fix(10, 10.0, 5.0),
            fix(30, 20.0, 150.0),
            fix(30, 20.0, 5.0),
            fix(30, 21.0, 5.0),
        ];
        let c = clean(fixes, None, &rules);
        assert_eq!(
            c.kept.iter().map(|f| f.t_ms / 1000).collect::<Vec<_>>(),
            [0, 10, 30]
        );
        assert_eq!(
            (c.dropped_accuracy, c.dropped_speed, c.dropped_duplicate),
            (1, 1, 1)
        );
    }

    #[test]
    fn the_previous_fix_counts_for_speed() {
        let rules = FixRules::default();
        let prev = fix(0, 0.0, 5.0);
        let c = clean(vec![fix(1, 100.0, 5.0)], Some(&prev), &rules); // 360 km/h
        assert_eq!(c.dropped_speed, 1);
        assert!(c.kept.is_empty());
    }

    #[test]
    fn paths_split_on_time_and_distance_gaps() {
        let rules = FixRules::default();
        let fixes = [
            fix(0, 0.0, 5.0),
            fix(30, 40.0, 5.0),
            fix(89, 80.0, 5.0),   // 59 s later: joins
            fix(149, 120.0, 5.0), // 60 s later: splits
            fix(159, 269.0, 5.0), // 149 m: joins
            fix(169, 420.0, 5.0), // 151 m: splits
        ];
        let p = paths(&fixes, &rules);
        assert_eq!(p.iter().map(|p| p.len()).collect::<Vec<_>>(), [3, 2, 1]);
        assert!(paths(&[], &rules).is_empty());
    }
}
