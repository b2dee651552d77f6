//! Fixes as they arrive: NDJSON lines (this module; GPX files are read elsewhere in `field`).
//!
//! One JSON object per line:
//!
//! ```json
//! {"staff": "W0001", "lon": 121.34, "lat": 30.74, "t": "2026-05-01T08:00:10+08:00", "accuracy_m": 8, "crs": "gcj02"}
//! ```
//!
//! | member | | |
//! |---|---|---|
//! | `staff` | required | the person's id (工号), 1 to [`MAX_STAFF_BYTES`] bytes, no control characters |
//! | `lon`, `lat` | required | numbers, longitude in [-180, 180] and latitude in [-90, 90] |
//! | `t` | required | an RFC 3339 time (with an offset), or a number: milliseconds since the Unix epoch, an integer between 2000-01-01 and 2100-01-01 (so seconds are not mistaken for milliseconds) |
//! | `accuracy_m` | optional | a number ≥ 0, metres; `null` = not reported |
//! | `crs` | optional | `wgs84` (default), `cgcs2000`, `gcj02` or `bd09` (see [`Crs`]); the point is converted to WGS84 |
//!
//! Any other member is refused, and so is a repeated one. Blank lines are skipped. Every bad line
//! is an error naming its line number and the member, e.g. `line 12: "lat": 91 is outside
//! [-90, 90]`; input is bounded by [`Limits`] (line length, number of lines).

use super::Fix;
use crate::geometry::crs::Crs;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;
use std::io::BufRead;

/// Longest accepted `staff`, bytes.
pub const MAX_STAFF_BYTES: usize = 64;

/// Earliest accepted epoch-milliseconds `t` (2000-01-01T00:00:00Z).
const MIN_T_MS: i64 = 946_684_800_000;
/// Latest accepted epoch-milliseconds `t` (2100-01-01T00:00:00Z).
const MAX_T_MS: i64 = 4_102_444_800_000;

/// One person's fix as read.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffFix {
    /// The person's id (工号).
    pub staff: String,
    /// The fix, converted to WGS84.
    pub fix: Fix,
}

/// Bounds on NDJSON input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line, bytes (without the line end).
    pub max_line_bytes: usize,
    /// Most lines (blank lines count).
    pub max_lines: usize,
    /// Stop after this many bad lines (each is reported).
    pub max_errors: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 1024,
            max_lines: 10_000_000,
            max_errors: 100,
        }
    }
}

/// A bad line (or a read error at a line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, naming the member.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for LineError {}

/// Reads NDJSON fixes. Answers every fix in input order, or the bad lines (at most
/// [`Limits::max_errors`], then reading stops), each naming its line number.
pub fn read_ndjson<R: BufRead>(
    mut input: R,
    limits: &Limits,
) -> Result<Vec<StaffFix>, Vec<LineError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut buf = Vec::new();
    let mut line = 0usize;
    loop {
        buf.clear();
        // One byte more than the limit (and the line end) tells a long line from a full one.
        let cap = limits.max_line_bytes.saturating_add(2) as u64;
        let n = match <&mut R as std::io::Read>::take(&mut input, cap).read_until(b'\n', &mut buf) {
            Ok(n) => n,
            Err(e) => {
                errors.push(LineError {
                    line: line + 1,
                    message: format!("read error: {e}"),
                });
                break;
            }
        };
        if n == 0 {
            break;
        }
        line += 1;
        if line > limits.max_lines {
            errors.push(LineError {
                line,
                message: format!("more than {} lines", limits.max_lines),
            });
            break;
        }
        let ended = buf.last() == Some(&b'\n');
        let mut body: &[u8] = &buf;
        if ended {
            body = &body[..body.len() - 1];
        }
        if body.last() == Some(&b'\r') {
            body = &body[..body.len() - 1];
        }
        if body.len() > limits.max_line_bytes || (!ended && n as u64 == cap) {
            errors.push(LineError {
                line,
                message: format!("longer than {} bytes", limits.max_line_bytes),
            });
            // Too long to go on reading line by line.
            break;
        }
        match parse_line(body) {
            Ok(Some(f)) => out.push(f),
            Ok(None) => {}
            Err(message) => {
                errors.push(LineError { line, message });
                if errors.len() >= limits.max_errors {
                    break;
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Parses one line (without its end): `Ok(None)` for a blank line.
pub fn parse_line(bytes: &[u8]) -> Result<Option<StaffFix>, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let raw: Raw = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    raw.into_fix().map(Some)
}

/// A serde_json error without its "at line 1 column N" (the column kept, briefly).
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m)
        .to_string();
    if e.is_eof() {
        format!("{message} (the line ends early)")
    } else {
        format!("{message} (column {})", e.column())
    }
}

/// The time member as given.
#[derive(Debug)]
enum Time {
    Millis(i64),
    Text(String),
}

/// A line's members as given.
#[derive(Debug, Default)]
struct Raw {
    staff: Option<String>,
    lon: Option<f64>,
    lat: Option<f64>,
    t: Option<Time>,
    accuracy_m: Option<f64>,
    crs: Option<String>,
}

impl Raw {
    fn into_fix(self) -> Result<StaffFix, String> {
        let staff = self.staff.ok_or("\"staff\" is missing")?;
        if staff.is_empty() || staff.len() > MAX_STAFF_BYTES || staff.chars().any(char::is_control)
        {
            return Err(format!(
                "\"staff\": {staff:?} is not 1 to {MAX_STAFF_BYTES} bytes without control characters"
            ));
        }
        let lon = self.lon.ok_or("\"lon\" is missing")?;
        let lat = self.lat.ok_or("\"lat\" is missing")?;
        if !(-180.0..=180.0).contains(&lon) {
            return Err(format!("\"lon\": {lon} is outside [-180, 180]"));
        }
        if !(-90.0..=90.0).contains(&lat) {
            return Err(format!("\"lat\": {lat} is outside [-90, 90]"));
        }
        let t_ms = match self.t.ok_or("\"t\" is missing")? {
            Time::Millis(ms) if (MIN_T_MS..MAX_T_MS).contains(&ms) => ms,
            Time::Millis(ms) => {
                return Err(format!(
                    "\"t\": {ms} is not epoch milliseconds between 2000 and 2100 (seconds?)"
                ));
            }
            Time::Text(s) => chrono::DateTime::parse_from_rfc3339(&s)
                .map_err(|e| format!("\"t\": {s:?} is not an RFC 3339 time: {e}"))?
                .timestamp_millis(),
        };
        if let Some(a) = self.accuracy_m {
            if a.is_nan() || a < 0.0 {
                return Err(format!("\"accuracy_m\": {a} is not a number ≥ 0"));
            }
        }
        let crs = match self.crs {
            None => Crs::Wgs84,
            Some(s) => s.parse::<Crs>().map_err(|e| format!("\"crs\": {e}"))?,
        };
        let (lon, lat) = crs
            .checked_to_wgs84(lon, lat)
            .map_err(|e| format!("\"lon\"/\"lat\": {e}"))?;
        Ok(StaffFix {
            staff,
            fix: Fix {
                t_ms,
                lon,
                lat,
                accuracy_m: self.accuracy_m,
            },
        })
    }
}

impl<'de> de::Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        d.deserialize_map(RawVisitor)
    }
}

struct RawVisitor;

/// A JSON number or an RFC 3339 string.
struct TimeValue(Time);

impl<'de> de::Deserialize<'de> for TimeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TimeValue, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TimeValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 string or integer epoch milliseconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TimeValue, E> {
                Ok(TimeValue(Time::Millis(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TimeValue, E> {
                Ok(TimeValue(Time::Millis(
                    i64::try_from(v).unwrap_or(i64::MAX),
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<TimeValue, E> {
                Err(E::custom(format_args!(
                    "{v} is not integer epoch milliseconds"
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TimeValue, E> {
                Ok(TimeValue(Time::Text(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// Wraps a member's error with the member's name.
fn named<E: de::Error>(name: &str, e: impl fmt::Display) -> E {
    E::custom(format_args!("{name:?}: {e}"))
}

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object {\"staff\", \"lon\", \"lat\", \"t\", \"accuracy_m\", \"crs\"}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut raw = Raw::default();
        let mut seen = [false; 6];
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let slot = match key.as_ref() {
                "staff" => 0,
                "lon" => 1,
                "lat" => 2,
                "t" => 3,
                "accuracy_m" => 4,
                "crs" => 5,
                other => {
                    return Err(de::Error::custom(format_args!(
                        "unknown member {other:?} (expected staff, lon, lat, t, accuracy_m, crs)"
                    )));
                }
            };
            if std::mem::replace(&mut seen[slot], true) {
                return Err(named(&key, "repeated"));
            }
            match slot {
                0 => raw.staff = Some(map.next_value().map_err(|e| named(&key, e))?),
                1 => raw.lon = Some(map.next_value().map_err(|e| named(&key, e))?),
                2 => raw.lat = Some(map.next_value().map_err(|e| named(&key, e))?),
                3 => {
                    let t: TimeValue = map.next_value().map_err(|e| named(&key, e))?;
                    raw.t = Some(t.0);
                }
                4 => raw.accuracy_m = map.next_value().map_err(|e| named(&key, e))?,
                _ => raw.crs = map.next_value().map_err(|e| named(&key, e))?,
            }
        }
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<StaffFix>, Vec<LineError>> {
        read_ndjson(text.as_bytes(), &Limits::default())
    }

    fn first_error(text: &str) -> String {
        match read(text) {
            Ok(v) => panic!("accepted: {v:?}"),
            Err(e) => e[0].to_string(),
        }
    }

    #[test]
    fn reads_times_in_both_forms_and_converts_crs() {
        let text = concat!(
            r#"{"staff": "W1", "lon": 121.3, "lat": 30.7, "t": "2026-05-01T08:00:10+08:00", "accuracy_m": 8}"#,
            "\n\n",
            r#"{"staff": "W1", "lon": 121.3, "lat": 30.7, "t": 1777593620000, "crs": "gcj02", "accuracy_m": null}"#,
            "\r\n",
        );
        let v = read(text).expect("reads");
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].staff, "W1");
        assert_eq!(v[0].fix.t_ms, 1_777_593_610_000);
        assert_eq!(v[0].fix.accuracy_m, Some(8.0));
        assert_eq!((v[0].fix.lon, v[0].fix.lat), (121.3, 30.7));
        assert_eq!(v[1].fix.t_ms, 1_777_593_620_000);
        assert_eq!(v[1].fix.accuracy_m, None);
        // GCJ-02 lies a few hundred metres off WGS84 in Shanghai.
        let (dx, dy) = (v[1].fix.lon - 121.3, v[1].fix.lat - 30.7);
        assert!(
            dx.abs() > 1e-4 && dx.abs() < 1e-2 && dy.abs() < 1e-2,
            "{dx} {dy}"
        );
    }

    #[test]
    fn bad_lines_name_the_line_and_the_member() {
        let ok = r#"{"staff": "W1", "lon": 121.3, "lat": 30.7, "t": 1777593620000}"#;
        let cases = [
            (
                r#"{"staff": "W1", "lon": 121.3, "lat": 91, "t": 1777593620000}"#,
                r#"line 3: "lat": 91 is outside [-90, 90]"#,
            ),
            (
                r#"{"staff": "W1", "lon": 181, "lat": 30, "t": 1777593620000}"#,
                r#"line 3: "lon": 181 is outside [-180, 180]"#,
            ),
            (
                r#"{"staff": "W1", "lon": "x", "lat": 30, "t": 1777593620000}"#,
                r#"line 3: "lon": invalid type: string "x", expected f64"#,
            ),
            (
                r#"{"staff": "W1", "lon": 121, "lat": 30, "t": 1777593620}"#,
                r#"line 3: "t": 1777593620 is not epoch milliseconds between 2000 and 2100"#,
            ),
            (
                r#"{"staff": "W1", "lon": 121, "lat": 30, "t": 1.5}"#,
                r#"line 3: "t": 1.5 is not integer epoch milliseconds"#,
            ),
            (
                r#"{"staff": "W1", "lon": 121, "lat": 30, "t": "yesterday"}"#,
                r#"line 3: "t": "yesterday" is not an RFC 3339 time"#,
            ),
            (
                r#"{"staff": "W1", "lon": 121, "lat": 30, "t": 1777593620000, "speed": 1}"#,
                r#"line 3: unknown member "speed""#,
            ),
            (
                r#"{"staff": "W1", "lon": 121, "lon": 121, "lat": 30, "t": 1777593620000}"#,
                r#"line 3: "lon": repeated"#,
            ),
            (
                r#"{"staff": "W1", "lat": 30, "t": 1777593620000}"#,
                r#"line 3: "lon" is missing"#,
            ),
            (
                r#"{"staff": "", "lon": 121, "lat": 30, "t": 1777593620000}"#,
                r#"line 3: "staff": "" is not 1 to 64 bytes"#,
            ),
            (
                r#"{"staff": "W1", "lon": 121, "lat": 30, "t": 1777593620000, "accuracy_m": -1}"#,
                r#"line 3: "accuracy_m": -1 is not a number ≥ 0"#,
            ),
            (
                r#"{"staff": "W1", "lon": 121, "lat": 30, "t": 1777593620000, "crs": "utm"}"#,
                r#"line 3: "crs": unknown crs "utm""#,
            ),
            (r#"{"staff": "W1", "lon": 121"#, "line 3: EOF while parsing"),
            ("[1, 2]", "line 3: invalid type: sequence"),
            ("\u{1}", "line 3: expected value"),
        ];
        for (bad, want) in cases {
            let got = first_error(&format!("{ok}\n\n{bad}\n{ok}\n"));
            assert!(
                got.starts_with(want),
                "{got:?} does not start with {want:?}"
            );
        }
    }

    #[test]
    fn every_bad_line_is_reported_and_input_is_bounded() {
        let bad = r#"{"staff": "W1", "lon": 121, "lat": 99, "t": 1777593620000}"#;
        let errors = read(&format!("{bad}\n{bad}\n")).expect_err("refused");
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [1, 2]);
        let ok = r#"{"staff": "W1", "lon": 121.3, "lat": 30.7, "t": 1777593620000}"#;
        let limits = Limits {
            max_line_bytes: 80,
            max_lines: 2,
            max_errors: 10,
        };
        let long = format!("{ok}{}\n", " ".repeat(100));
        let e = read_ndjson(long.as_bytes(), &limits).expect_err("too long");
        assert_eq!(e[0].to_string(), "line 1: longer than 80 bytes");
        let many = format!("{ok}\n{ok}\n{ok}\n");
        let e = read_ndjson(many.as_bytes(), &limits).expect_err("too many");
        assert_eq!(e[0].to_string(), "line 3: more than 2 lines");
        // Exactly the limit, with or without a final line end.
        assert_eq!(
            read_ndjson(format!("{ok}\n{ok}").as_bytes(), &limits).map(|v| v.len()),
            Ok(2)
        );
        let errors = read_ndjson(
            format!("{bad}\n").repeat(5).as_bytes(),
            &Limits {
                max_errors: 3,
                ..Limits::default()
            },
        )
        .expect_err("refused");
        assert_eq!(errors.len(), 3);
    }
}
