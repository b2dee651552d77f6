//! GPX files of patrol tracks: reading what phones' track recorders export, and writing a
//! person's track back out. This module owns the GPX format only; cleaning the fixes and joining
//! them into paths is the parent module's ([`super::clean`], [`super::paths`]).
//!
//! **Read** ([`read_gpx`], [`read_gpx_segments`]): GPX 1.0 and 1.1, with or without the
//! namespace, UTF-8 (a byte-order mark is skipped). Only *tracks* are read — every `<trkpt>` of
//! every `<trkseg>` of every `<trk>`, in file order. Waypoints (`<wpt>`) and routes (`<rte>`) are
//! places marked or planned, not where a person walked: they are skipped, as are `<metadata>`,
//! `<extensions>` (anywhere), elements of other namespaces and any element this reader does not
//! use (`<ele>`, `<course>`, `<speed>`, `<sat>`, …).
//!
//! Of a track point this reader takes:
//! - `lat` and `lon` (attributes, required, in range), in the [`GpxOptions::crs`] the recorder
//!   wrote — WGS84 as GPX prescribes, or GCJ-02 as some Chinese apps write — turned into WGS84;
//! - `<time>` (required: a fix without a time cannot join a path or be checked for speed),
//!   xsd:dateTime; a time without a zone is taken as UTC, as GPX prescribes; fractions of a
//!   second are kept to the millisecond (truncated);
//! - `<hdop>` (optional) as the accuracy: `hdop` × [`GpxOptions::metres_per_hdop`] metres. HDOP is
//!   a dilution of precision, not a distance; multiplied by a typical consumer receiver's range
//!   error (5 m, [`METRES_PER_HDOP`]) it estimates the horizontal error. Recorders that write
//!   the accuracy in metres into `<hdop>` (OsmAnd does) take `Some(1.0)`; `None` ignores `<hdop>`
//!   and leaves the accuracy unknown. A point without `<hdop>` has no accuracy (`None`).
//!
//! Reading is bounded ([`GpxOptions::max_bytes`], [`GpxOptions::max_points`]) and never panics;
//! the first problem stops it, and its error says where: the track, segment and point (each
//! counted from 1 in file order) and the line, or the byte and line of malformed XML.
//!
//! **Write** ([`write_gpx`]): GPX 1.1 of one person's track, one `<trkseg>` per path, times in
//! UTC to the millisecond, the accuracy as `<hdop>` (÷ [`METRES_PER_HDOP`]); read back with the
//! default options it gives the same fixes, bit for bit.
//!
//! XML is read with `quick-xml` (already a dependency). The `gpx` crate (0.10) was considered and
//! not taken: it refuses a track point with an element it does not know (GPX 1.0's `<course>`,
//! which recorders write, is one), its errors name neither the point nor the position, it takes
//! a second XML parser (`xml-rs`) and has no bound on points.

use super::Fix;
use crate::geometry::crs::Crs;
use chrono::{DateTime, NaiveDateTime};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};
use std::fmt::Write as _;

/// Metres of horizontal error per unit of HDOP: a typical consumer GPS receiver's range error.
pub const METRES_PER_HDOP: f64 = 5.0;
/// Largest GPX file read by default (64 MiB: a day of a fix every second is about 12 MiB).
pub const MAX_GPX_BYTES: usize = 64 << 20;
/// Most track points read from one file by default.
pub const MAX_GPX_POINTS: usize = 1_000_000;

/// The namespaces of GPX 1.0 and 1.1 start with this.
const GPX_NS: &str = "http://www.topografix.com/GPX/";

/// How to read a GPX file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpxOptions {
    /// The system the recorder wrote `lat`/`lon` in (GPX prescribes WGS84; some Chinese apps
    /// write GCJ-02).
    pub crs: Crs,
    /// Metres of accuracy per unit of `<hdop>`; `None`: ignore `<hdop>`.
    pub metres_per_hdop: Option<f64>,
    /// Largest file accepted, bytes.
    pub max_bytes: usize,
    /// Most track points accepted.
    pub max_points: usize,
}

impl Default for GpxOptions {
    fn default() -> Self {
        GpxOptions {
            crs: Crs::Wgs84,
            metres_per_hdop: Some(METRES_PER_HDOP),
            max_bytes: MAX_GPX_BYTES,
            max_points: MAX_GPX_POINTS,
        }
    }
}

/// Why a GPX file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GpxError {
    /// The options are unusable.
    #[error("GPX options: {0}")]
    Options(String),
    /// The file is larger than [`GpxOptions::max_bytes`].
    #[error("the file is {bytes} bytes, more than the {max} accepted")]
    TooLarge {
        /// Size of the file.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The file is not UTF-8.
    #[error("not UTF-8 at byte {offset} (line {line}): GPX files are read as UTF-8")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
        /// Its line, from 1.
        line: usize,
    },
    /// The file is not well-formed XML (or ends too early).
    #[error("malformed XML at line {line} (byte {offset}): {message}")]
    Xml {
        /// Line, from 1.
        line: usize,
        /// Byte offset in the file.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// Well-formed XML, but not GPX.
    #[error("not GPX: {0}")]
    NotGpx(String),
    /// More track points than [`GpxOptions::max_points`].
    #[error("more than {max} track points (at track {track}, segment {segment})")]
    TooManyPoints {
        /// The limit.
        max: usize,
        /// The track where the limit was passed, from 1.
        track: usize,
        /// The segment in that track, from 1.
        segment: usize,
    },
    /// A track point is unusable.
    #[error("track {track}, segment {segment}, point {point} (line {line}): {message}")]
    Point {
        /// Track, from 1, in file order.
        track: usize,
        /// Segment in the track, from 1.
        segment: usize,
        /// Point in the segment, from 1.
        point: usize,
        /// Line of the point's start tag, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// Every track point of a GPX file, in file order, in WGS84 (see the module doc).
pub fn read_gpx(bytes: &[u8], options: &GpxOptions) -> Result<Vec<Fix>, GpxError> {
    Ok(read_gpx_segments(bytes, options)?.concat())
}

/// The track points of a GPX file, one vector per non-empty `<trkseg>` (of all tracks, in file
/// order), in WGS84.
pub fn read_gpx_segments(bytes: &[u8], options: &GpxOptions) -> Result<Vec<Vec<Fix>>, GpxError> {
    if let Some(k) = options.metres_per_hdop {
        if !(k.is_finite() && k > 0.0) {
            return Err(GpxError::Options(format!(
                "metres_per_hdop {k} is not a positive number"
            )));
        }
    }
    if bytes.len() > options.max_bytes {
        return Err(GpxError::TooLarge {
            bytes: bytes.len(),
            max: options.max_bytes,
        });
    }
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let text = std::str::from_utf8(&bytes[bom..]).map_err(|e| {
        let offset = bom + e.valid_up_to();
        GpxError::NotUtf8 {
            offset,
            line: line_at(bytes, offset),
        }
    })?;
    let mut p = Parser {
        reader: NsReader::from_str(text),
        text,
        bom,
        options,
        points: 0,
        track: 0,
        out: Vec::new(),
    };
    p.document()?;
    Ok(p.out)
}

/// The line (from 1) of byte `offset`.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    1 + bytes[..end].iter().filter(|&&b| b == b'\n').count()
}

/// An element, as far as this reader cares: its local name, and whether it is GPX's (in a GPX
/// namespace or in none).
struct Element<'i> {
    start: BytesStart<'i>,
    gpx: bool,
    /// Whether it was `<x/>` (no content, no end tag).
    empty: bool,
}

impl Element<'_> {
    fn is(&self, local: &str) -> bool {
        self.gpx && self.start.local_name().as_ref() == local
    }
}

/// What the parser sees next.
enum Next<'i> {
    Open(Element<'i>),
    /// The end tag of the element being read.
    Close,
    Eof,
}

struct Parser<'i, 'o> {
    reader: NsReader<&'i [u8]>,
    text: &'i str,
    /// Bytes before `text` in the file (a byte-order mark).
    bom: usize,
    options: &'o GpxOptions,
    points: usize,
    /// The current track, from 1.
    track: usize,
    out: Vec<Vec<Fix>>,
}

impl<'i> Parser<'i, '_> {
    /// Byte offset in the file of a position in `text`.
    fn offset(&self, pos: u64) -> usize {
        usize::try_from(pos)
            .unwrap_or(usize::MAX)
            .saturating_add(self.bom)
    }

    fn line(&self, pos: u64) -> usize {
        line_at(
            self.text.as_bytes(),
            self.offset(pos).saturating_sub(self.bom),
        )
    }

    fn xml_error(&self, pos: u64, message: String) -> GpxError {
        GpxError::Xml {
            line: self.line(pos),
            offset: self.offset(pos),
            message,
        }
    }

    fn quick_xml_error(&self, e: quick_xml::Error) -> GpxError {
        self.xml_error(self.reader.error_position(), e.to_string())
    }

    /// The next element opened, the end of the current one, or the end of the file; text,
    /// comments, declarations and processing instructions are passed over.
    fn next(&mut self) -> Result<Next<'i>, GpxError> {
        loop {
            let (ns, event) = match self.reader.read_resolved_event() {
                Ok((ns, event)) => (gpx_namespace(&ns), event),
                Err(e) => return Err(self.quick_xml_error(e)),
            };
            return Ok(match event {
                Event::Start(start) => Next::Open(Element {
                    start,
                    gpx: ns,
                    empty: false,
                }),
                Event::Empty(start) => Next::Open(Element {
                    start,
                    gpx: ns,
                    empty: true,
                }),
                Event::End(_) => Next::Close,
                Event::Eof => Next::Eof,
                _ => continue,
            });
        }
    }

    /// Passes over an element and all it contains.
    fn skip(&mut self, e: &Element<'_>) -> Result<(), GpxError> {
        if e.empty {
            return Ok(());
        }
        match self.reader.read_to_end(e.start.name()) {
            Ok(_) => Ok(()),
            Err(e) => Err(self.quick_xml_error(e)),
        }
    }

    /// The error for a file that ends inside `<what>`.
    fn truncated(&self, what: &str) -> GpxError {
        self.xml_error(
            self.reader.buffer_position(),
            format!("the file ends inside <{what}> (truncated?)"),
        )
    }

    fn document(&mut self) -> Result<(), GpxError> {
        let root = match self.next()? {
            Next::Open(e) => e,
            Next::Close | Next::Eof => {
                return Err(GpxError::NotGpx("no root element (empty file)".into()));
            }
        };
        if !root.is("gpx") {
            return Err(GpxError::NotGpx(format!(
                "the root element is <{}>, not <gpx>",
                root.start.name().as_ref()
            )));
        }
        match attribute(&root.start, "version") {
            Ok(None) => {}
            Ok(Some(v)) if v == "1.0" || v == "1.1" => {}
            Ok(Some(v)) => {
                return Err(GpxError::NotGpx(format!(
                    "version {v:?}: only GPX 1.0 and 1.1 are read"
                )));
            }
            Err(message) => return Err(self.xml_error(self.reader.buffer_position(), message)),
        }
        if root.empty {
            return Ok(());
        }
        loop {
            match self.next()? {
                Next::Open(e) if e.is("trk") && !e.empty => {
                    self.track += 1;
                    self.track()?;
                }
                Next::Open(e) => self.skip(&e)?,
                Next::Close => return Ok(()),
                Next::Eof => return Err(self.truncated("gpx")),
            }
        }
    }

    /// The inside of a `<trk>`.
    fn track(&mut self) -> Result<(), GpxError> {
        let mut segment = 0;
        loop {
            match self.next()? {
                Next::Open(e) if e.is("trkseg") => {
                    segment += 1;
                    if !e.empty {
                        self.segment(segment)?;
                    }
                }
                Next::Open(e) => self.skip(&e)?,
                Next::Close => return Ok(()),
                Next::Eof => return Err(self.truncated("trk")),
            }
        }
    }

    /// The inside of a `<trkseg>`.
    fn segment(&mut self, segment: usize) -> Result<(), GpxError> {
        let mut fixes = Vec::new();
        loop {
            match self.next()? {
                Next::Open(e) if e.is("trkpt") => {
                    self.points += 1;
                    if self.points > self.options.max_points {
                        return Err(GpxError::TooManyPoints {
                            max: self.options.max_points,
                            track: self.track,
                            segment,
                        });
                    }
                    let at = Place {
                        track: self.track,
                        segment,
                        point: fixes.len() + 1,
                        pos: self.reader.buffer_position().saturating_sub(1),
                    };
                    fixes.push(self.point(&e, &at)?);
                }
                Next::Open(e) => self.skip(&e)?,
                Next::Close => break,
                Next::Eof => return Err(self.truncated("trkseg")),
            }
        }
        if !fixes.is_empty() {
            self.out.push(fixes);
        }
        Ok(())
    }

    fn point_error(&self, at: &Place, message: String) -> GpxError {
        GpxError::Point {
            track: at.track,
            segment: at.segment,
            point: at.point,
            line: self.line(at.pos),
            message,
        }
    }

    /// A `<trkpt>` (its start tag read).
    fn point(&mut self, e: &Element<'_>, at: &Place) -> Result<Fix, GpxError> {
        let coordinate = |name: &str| -> Result<f64, String> {
            match attribute(&e.start, name)? {
                None => Err(format!("no {name} attribute")),
                Some(v) => v
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| format!("{name} {v:?} is not a number")),
            }
        };
        let lat = coordinate("lat").map_err(|m| self.point_error(at, m))?;
        let lon = coordinate("lon").map_err(|m| self.point_error(at, m))?;
        let (lon, lat) = self
            .options
            .crs
            .checked_to_wgs84(lon, lat)
            .map_err(|m| self.point_error(at, m))?;
        let mut time = None;
        let mut hdop = None;
        if !e.empty {
            loop {
                match self.next()? {
                    Next::Open(c) if c.is("time") => time = Some(self.text(&c)?),
                    Next::Open(c) if c.is("hdop") => hdop = Some(self.text(&c)?),
                    Next::Open(c) => self.skip(&c)?,
                    Next::Close => break,
                    Next::Eof => return Err(self.truncated("trkpt")),
                }
            }
        }
        let t_ms = match time {
            None => return Err(self.point_error(at, "no <time>".into())),
            Some(t) => parse_time(&t).map_err(|m| self.point_error(at, m))?,
        };
        let accuracy_m = match (hdop, self.options.metres_per_hdop) {
            (Some(h), Some(k)) => match h.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Some(times(&h, v, k)),
                _ => {
                    return Err(self.point_error(at, format!("<hdop> {h:?} is not a number ≥ 0")));
                }
            },
            _ => None,
        };
        Ok(Fix {
            t_ms,
            lon,
            lat,
            accuracy_m,
        })
    }

    /// The text of a simple element (its start tag read), up to and including its end tag.
    fn text(&mut self, e: &Element<'_>) -> Result<String, GpxError> {
        if e.empty {
            return Ok(String::new());
        }
        match self.reader.read_text(e.start.name()) {
            Ok(t) => Ok(t.xml10_content().into_owned()),
            Err(err) => Err(self.quick_xml_error(err)),
        }
    }
}

/// Where a track point is.
struct Place {
    track: usize,
    segment: usize,
    point: usize,
    /// Position of its start tag in the text.
    pos: u64,
}

/// Whether an element's namespace is GPX's (or none).
fn gpx_namespace(ns: &ResolveResult<'_>) -> bool {
    match ns {
        ResolveResult::Unbound => true,
        ResolveResult::Bound(ns) => ns.as_ref().starts_with(GPX_NS),
        ResolveResult::Unknown(_) => false,
    }
}

/// The value of an unprefixed attribute.
fn attribute(start: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for a in start.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.prefix().is_none() && a.key.local_name().as_ref() == name {
            let v = a
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| format!("attribute {name}: {e}"))?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// An xsd:dateTime as milliseconds since the epoch (UTC when no zone is given).
fn parse_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .map(|t| t.and_utc().timestamp_millis())
        .map_err(|_| format!("<time> {s:?} is not a date and time (like 2024-05-01T08:00:00Z)"))
}

/// GPX 1.1 of one person's track: one `<trk>` (named `name` if given) with one `<trkseg>` per
/// path (empty paths are left out), each fix a `<trkpt>` with its time (UTC, milliseconds) and
/// its accuracy as `<hdop>` (accuracy ÷ [`METRES_PER_HDOP`], chosen so that the reader's default
/// gives the same number back). Fails, naming the path and fix (from 1), on a coordinate that is
/// not a WGS84 longitude/latitude or a time outside the years 0–9999 a GPX time can hold.
pub fn write_gpx<P: AsRef<[Fix]>>(name: Option<&str>, paths: &[P]) -> Result<String, String> {
    let mut out = String::from(concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "\n",
        r#"<gpx version="1.1" creator="gridatlas" xmlns="http://www.topografix.com/GPX/1/1" "#,
        r#"xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" "#,
        r#"xsi:schemaLocation="http://www.topografix.com/GPX/1/1 "#,
        r#"http://www.topografix.com/GPX/1/1/gpx.xsd">"#,
        "\n  <trk>\n"
    ));
    if let Some(name) = name {
        let _ = writeln!(out, "    <name>{}</name>", quick_xml::escape::escape(name));
    }
    for (i, path) in paths.iter().enumerate() {
        let path = path.as_ref();
        if path.is_empty() {
            continue;
        }
        out.push_str("    <trkseg>\n");
        for (j, f) in path.iter().enumerate() {
            let at = || format!("path {}, fix {}", i + 1, j + 1);
            Crs::Wgs84
                .checked_to_wgs84(f.lon, f.lat)
                .map_err(|m| format!("{}: {m}", at()))?;
            let time = DateTime::from_timestamp_millis(f.t_ms)
                .filter(|t| (0..=9999).contains(&chrono::Datelike::year(t)))
                .ok_or_else(|| format!("{}: time {} ms cannot be written in GPX", at(), f.t_ms))?;
            let _ = write!(
                out,
                "      <trkpt lat=\"{}\" lon=\"{}\"><time>{}</time>",
                f.lat,
                f.lon,
                time.format("%Y-%m-%dT%H:%M:%S%.3fZ")
            );
            if let Some(a) = f.accuracy_m {
                let h = hdop_of(a)
                    .ok_or_else(|| format!("{}: accuracy {a} m is not a number ≥ 0", at()))?;
                let _ = write!(out, "<hdop>{h}</hdop>");
            }
            out.push_str("</trkpt>\n");
        }
        out.push_str("    </trkseg>\n");
    }
    out.push_str("  </trk>\n</gpx>\n");
    Ok(out)
}

/// `text` (whose value is `value`) × `k`, computed on the decimal digits when they fit (so that
/// 0.68 × 5 is 3.4, as a person computes it, not 3.4000000000000004), else in floating point.
fn times(text: &str, value: f64, k: f64) -> f64 {
    let exact = decimal(text)
        .zip(decimal(&k.to_string()))
        .and_then(|((m1, e1), (m2, e2))| Some((m1.checked_mul(m2)?, e1.checked_add(e2)?)))
        .and_then(|(m, e)| format!("{m}e{e}").parse::<f64>().ok());
    exact.unwrap_or(value * k)
}

/// A non-negative decimal number (`12`, `0.68`, `.5`, `1.5e3`) as `digits × 10^exp`, if the
/// digits fit.
fn decimal(s: &str) -> Option<(u128, i32)> {
    let s = s.trim();
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut m: u128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        m = m.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
    }
    Some((m, exp.checked_sub(i32::try_from(frac.len()).ok()?)?))
}

/// The `<hdop>` text for an accuracy: accuracy ÷ [`METRES_PER_HDOP`], exact in decimal (the
/// accuracy's shortest decimal × 2 ÷ 10), so that the reader's default gives the same number
/// back; `None` for a negative or non-finite accuracy.
fn hdop_of(accuracy_m: f64) -> Option<String> {
    if !(accuracy_m.is_finite() && accuracy_m >= 0.0) {
        return None;
    }
    let exact = decimal(&accuracy_m.to_string()).and_then(|(m, e)| {
        let (m, e) = (m.checked_mul(2)?, e.checked_sub(1)?);
        // Plain decimal notation (xsd:decimal has no exponent).
        let digits = m.to_string();
        if e >= 0 {
            return Some(format!("{digits}{}", "0".repeat(usize::try_from(e).ok()?)));
        }
        let frac = usize::try_from(-i64::from(e)).ok()?;
        let digits = format!("{digits:0>width$}", width = frac + 1);
        let (int, frac) = digits.split_at(digits.len() - frac);
        Some(format!("{int}.{frac}"))
    });
    Some(exact.unwrap_or_else(|| (accuracy_m / METRES_PER_HDOP).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Result<Vec<Fix>, GpxError> {
        read_gpx(s.as_bytes(), &GpxOptions::default())
    }

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .unwrap_or(i64::MIN)
    }

    /// As a phone's track recorder writes it: GPX 1.1, namespaces, metadata, a waypoint, a
    /// route, extensions on the track and the points, `<ele>`, `<speed>` and `<sat>`.
    const RECORDER_11: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<gpx version="1.1" creator="Recorder 4.2 - https://example.org"
     xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
     xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
     xsi:schemaLocation="http://www.topografix.com/GPX/1/1 http://www.topografix.com/GPX/1/1/gpx.xsd">
  <metadata><name>巡查 2024-05-01</name><time>2024-05-01T00:00:00Z</time></metadata>
  <wpt lat="30.9" lon="121.2"><time>2024-05-01T00:00:00Z</time><name>起点</name></wpt>
  <rte><rtept lat="30.9" lon="121.2"/></rte>
  <trk>
    <name>白班巡查</name>
    <extensions><gpxtpx:TrackExtension><gpxtpx:color>red</gpxtpx:color></gpxtpx:TrackExtension></extensions>
    <trkseg>
      <trkpt lat="30.8800000" lon="121.1600000">
        <ele>4.2</ele>
        <time>2024-05-01T00:00:00Z</time>
        <hdop>1.2</hdop>
        <extensions>
          <gpxtpx:TrackPointExtension><gpxtpx:speed>1.3</gpxtpx:speed><gpxtpx:time>nonsense</gpxtpx:time></gpxtpx:TrackPointExtension>
        </extensions>
      </trkpt>
      <!-- a comment -->
      <trkpt lat="30.8801" lon="121.1601"><ele>4.0</ele><time>2024-05-01T08:00:10.250+08:00</time><sat>9</sat></trkpt>
    </trkseg>
  </trk>
</gpx>
"#;

    #[test]
    fn a_recorders_gpx_1_1_with_namespaces_and_extensions() {
        let f = read(RECORDER_11).expect("reads");
        assert_eq!(
            f.len(),
            2,
            "waypoints and route points are not track points"
        );
        assert_eq!(
            f[0],
            Fix {
                t_ms: ms("2024-05-01T00:00:00Z"),
                lon: 121.16,
                lat: 30.88,
                accuracy_m: Some(6.0),
            }
        );
        assert_eq!(f[1].t_ms, ms("2024-05-01T00:00:10.250Z"));
        assert_eq!((f[1].lon, f[1].lat), (121.1601, 30.8801));
        assert_eq!(f[1].accuracy_m, None);
        // The same with a byte-order mark, and hdop as metres or ignored.
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(RECORDER_11.as_bytes());
        assert_eq!(read_gpx(&bom, &GpxOptions::default()), Ok(f.clone()));
        let metres = GpxOptions {
            metres_per_hdop: Some(1.0),
            ..GpxOptions::default()
        };
        assert_eq!(
            read_gpx(RECORDER_11.as_bytes(), &metres).map(|f| f[0].accuracy_m),
            Ok(Some(1.2))
        );
        let ignore = GpxOptions {
            metres_per_hdop: None,
            ..GpxOptions::default()
        };
        assert_eq!(
            read_gpx(RECORDER_11.as_bytes(), &ignore).map(|f| f[0].accuracy_m),
            Ok(None)
        );
    }

    #[test]
    fn gpx_1_0_with_course_and_speed() {
        let g = r#"<?xml version="1.0"?>
<gpx version="1.0" creator="GPSLogger" xmlns="http://www.topografix.com/GPX/1/0">
<time>2024-05-01T12:00:00Z</time>
<trk><name>t</name><trkseg>
<trkpt lat="30.88" lon="121.16"><ele>3</ele><time>2024-05-01T12:00:00Z</time><course>87.5</course><speed>1.2</speed><src>gps</src><sat>8</sat><hdop>0.8</hdop></trkpt>
<trkpt lat="30.8801" lon="121.16"><time>2024-05-01T12:00:05</time></trkpt>
</trkseg></trk></gpx>"#;
        let f = read(g).expect("reads");
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].accuracy_m, Some(4.0));
        assert_eq!(f[1].t_ms, ms("2024-05-01T12:00:05Z"), "no zone: UTC");
        // Without any namespace too.
        let bare = g.replace(r#" xmlns="http://www.topografix.com/GPX/1/0""#, "");
        assert_eq!(read(&bare), Ok(f));
    }

    #[test]
    fn several_tracks_and_segments_keep_their_order() {
        let g = r#"<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">
<trk><trkseg>
 <trkpt lat="30.1" lon="121.1"><time>2024-05-01T00:00:01Z</time></trkpt>
 <trkpt lat="30.2" lon="121.2"><time>2024-05-01T00:00:02Z</time></trkpt>
</trkseg><trkseg/><trkseg>
 <trkpt lat="30.3" lon="121.3"><time>2024-05-01T00:00:03Z</time></trkpt>
</trkseg></trk>
<trk><trkseg><trkpt lat="30.4" lon="121.4"><time>2024-05-01T00:00:04Z</time></trkpt></trkseg></trk>
</gpx>"#;
        let s = read_gpx_segments(g.as_bytes(), &GpxOptions::default()).expect("reads");
        let lats: Vec<Vec<f64>> = s
            .iter()
            .map(|s| s.iter().map(|f| f.lat).collect())
            .collect();
        assert_eq!(lats, [vec![30.1, 30.2], vec![30.3], vec![30.4]]);
        assert_eq!(read(g).map(|f| f.len()), Ok(4));
    }

    #[test]
    fn gcj02_tracks_come_out_in_wgs84() {
        let (lon, lat) = (121.16, 30.88);
        let (glon, glat) = Crs::Gcj02.from_wgs84(lon, lat);
        let g = format!(
            r#"<gpx version="1.1"><trk><trkseg><trkpt lat="{glat}" lon="{glon}"><time>2024-05-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>"#
        );
        let o = GpxOptions {
            crs: Crs::Gcj02,
            ..GpxOptions::default()
        };
        let f = read_gpx(g.as_bytes(), &o).expect("reads");
        assert!((f[0].lon - lon).abs() < 1e-9 && (f[0].lat - lat).abs() < 1e-9);
        assert!((glon - lon).abs() > 1e-4, "the shift is real");
    }

    fn point_error(g: &str) -> (usize, usize, usize, usize, String) {
        match read(g) {
            Err(GpxError::Point {
                track,
                segment,
                point,
                line,
                message,
            }) => (track, segment, point, line, message),
            other => panic!("expected a point error, got {other:?}"),
        }
    }

    const TWO_SEGMENTS: &str = r#"<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">
<trk><trkseg>
<trkpt lat="30.1" lon="121.1"><time>2024-05-01T00:00:01Z</time></trkpt>
</trkseg><trkseg>
<trkpt lat="30.2" lon="121.2"><time>2024-05-01T00:00:02Z</time></trkpt>
<trkpt lat="30.3" lon="121.3"><time>2024-05-01T00:00:03Z</time></trkpt>
</trkseg></trk></gpx>"#;

    #[test]
    fn a_missing_time_names_the_point() {
        let g = TWO_SEGMENTS.replace("<time>2024-05-01T00:00:03Z</time>", "<ele>2</ele>");
        assert_eq!(point_error(&g), (1, 2, 2, 6, "no <time>".into()));
        let g = TWO_SEGMENTS.replace("2024-05-01T00:00:03Z", "yesterday");
        let e = point_error(&g);
        assert_eq!((e.0, e.1, e.2), (1, 2, 2));
        assert!(e.4.contains("\"yesterday\" is not a date"), "{}", e.4);
        let g = TWO_SEGMENTS.replace(
            r#"<trkpt lat="30.1" lon="121.1"><time>2024-05-01T00:00:01Z</time></trkpt>"#,
            r#"<trkpt lat="30.1" lon="121.1"/>"#,
        );
        assert_eq!(point_error(&g), (1, 1, 1, 3, "no <time>".into()));
        let msg = read(&g).err().map(|e| e.to_string());
        assert_eq!(
            msg.as_deref(),
            Some("track 1, segment 1, point 1 (line 3): no <time>")
        );
    }

    #[test]
    fn bad_coordinates_name_the_point() {
        let g = TWO_SEGMENTS.replace(r#"lat="30.2""#, r#"lat="91.5""#);
        assert_eq!(
            point_error(&g),
            (1, 2, 1, 5, "latitude 91.5 is outside [-90, 90]".into())
        );
        let g = TWO_SEGMENTS.replace(r#"lon="121.3""#, r#"lon="east""#);
        assert_eq!(
            point_error(&g),
            (1, 2, 2, 6, "lon \"east\" is not a number".into())
        );
        let g = TWO_SEGMENTS.replace(r#" lat="30.1""#, "");
        assert_eq!(point_error(&g), (1, 1, 1, 3, "no lat attribute".into()));
        let g = TWO_SEGMENTS.replace(
            "<time>2024-05-01T00:00:01Z</time>",
            "<time>2024-05-01T00:00:01Z</time><hdop>-1</hdop>",
        );
        assert_eq!(
            point_error(&g),
            (1, 1, 1, 3, "<hdop> \"-1\" is not a number ≥ 0".into())
        );
    }

    #[test]
    fn truncated_and_malformed_files_say_where() {
        for cut in [
            TWO_SEGMENTS.len() - 10,
            TWO_SEGMENTS.len() / 2,
            TWO_SEGMENTS.find("<trkpt").unwrap_or(0) + 12,
        ] {
            match read(&TWO_SEGMENTS[..cut]) {
                Err(GpxError::Xml { offset, .. }) => assert!(offset <= cut, "{offset} > {cut}"),
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        let e = read(&TWO_SEGMENTS[..TWO_SEGMENTS.len() - 6]).err();
        assert!(
            matches!(&e, Some(GpxError::Xml { message, line: 7, .. }) if message.contains("ends inside <gpx>")),
            "{e:?}"
        );
        // Mismatched end tag, on line 3.
        let g = TWO_SEGMENTS.replacen("</trkpt>", "</trkseg>", 1);
        let e = read(&g).err();
        assert!(matches!(&e, Some(GpxError::Xml { line: 3, .. })), "{e:?}");
        // Every prefix of the file is an error or fewer points, never a panic.
        for cut in 0..TWO_SEGMENTS.len() {
            assert!(read(&TWO_SEGMENTS[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn not_gpx_not_utf8_and_limits() {
        assert!(matches!(read(""), Err(GpxError::NotGpx(_))));
        assert_eq!(
            read(r#"<kml xmlns="http://www.opengis.net/kml/2.2"/>"#),
            Err(GpxError::NotGpx(
                "the root element is <kml>, not <gpx>".into()
            ))
        );
        assert!(
            matches!(read(r#"<gpx version="2.0"/>"#), Err(GpxError::NotGpx(m)) if m.contains("2.0"))
        );
        assert!(matches!(
            read(r#"<x:gpx xmlns:x="urn:other"/>"#),
            Err(GpxError::NotGpx(_))
        ));
        assert_eq!(read(r#"<gpx version="1.1"/>"#), Ok(vec![]));
        assert_eq!(
            read_gpx(b"<gpx>\n\xB0\xD7</gpx>", &GpxOptions::default()),
            Err(GpxError::NotUtf8 { offset: 6, line: 2 })
        );
        let small = GpxOptions {
            max_bytes: 100,
            ..GpxOptions::default()
        };
        assert!(matches!(
            read_gpx(TWO_SEGMENTS.as_bytes(), &small),
            Err(GpxError::TooLarge { max: 100, .. })
        ));
        let few = GpxOptions {
            max_points: 2,
            ..GpxOptions::default()
        };
        assert_eq!(
            read_gpx(TWO_SEGMENTS.as_bytes(), &few),
            Err(GpxError::TooManyPoints {
                max: 2,
                track: 1,
                segment: 2
            })
        );
        let bad = GpxOptions {
            metres_per_hdop: Some(f64::NAN),
            ..GpxOptions::default()
        };
        assert!(matches!(
            read_gpx(TWO_SEGMENTS.as_bytes(), &bad),
            Err(GpxError::Options(_))
        ));
    }

    #[test]
    fn written_tracks_read_back_identically() {
        let path = |t0: i64, n: usize, acc: Option<f64>| -> Vec<Fix> {
            (0..n)
                .map(|i| Fix {
                    t_ms: t0 + i as i64 * 10_007,
                    lon: 121.160_123_456_789 + i as f64 * 1.37e-5,
                    lat: 30.880_987_654_321 - i as f64 * 0.91e-5,
                    accuracy_m: acc.map(|a| a + i as f64 * 0.1),
                })
                .collect()
        };
        let t0 = ms("2024-05-01T07:59:58.123Z");
        let paths = vec![
            path(t0, 40, Some(3.0)),
            path(t0 + 900_000, 25, None),
            path(t0 + 1_800_001, 1, Some(12.7)),
        ];
        let g = write_gpx(Some("张伟 <白班> & 夜班"), &paths).expect("writes");
        assert!(g.contains("<name>张伟 &lt;白班&gt; &amp; 夜班</name>"));
        assert!(g.contains("<time>2024-05-01T07:59:58.123Z</time>"));
        let back = read_gpx_segments(g.as_bytes(), &GpxOptions::default()).expect("reads");
        assert_eq!(back, paths);
        // Any accuracy a phone reports survives the hdop division.
        for i in 0..20_000 {
            for a in [
                i as f64 * 0.0137,
                i as f64 / 7.0,
                f64::from(i) * 1e-9,
                1e30 / f64::from(i + 1),
            ] {
                let h = hdop_of(a).unwrap_or_default();
                assert!(!h.contains(['e', 'E']), "{h}");
                let v: f64 = h.parse().unwrap_or(f64::NAN);
                assert_eq!(times(&h, v, METRES_PER_HDOP), a, "accuracy {a}, hdop {h}");
            }
        }
        assert_eq!(hdop_of(3.4).as_deref(), Some("0.68"));
        assert_eq!(hdop_of(15.0).as_deref(), Some("3.0"));
        assert_eq!(hdop_of(0.0).as_deref(), Some("0.0"));
        assert_eq!(times("0.68", 0.68, 5.0), 3.4);
        assert_eq!(times("1.2", 1.2, 5.0), 6.0);
        // Fixes as paths() splits them.
        let flat = paths.concat();
        let g2 = write_gpx(None, &[&flat[..40], &flat[40..]]).expect("writes");
        assert_eq!(read(&g2), Ok(flat));
    }

    #[test]
    fn unwritable_fixes_are_refused_by_name() {
        let ok = Fix {
            t_ms: 0,
            lon: 121.0,
            lat: 30.0,
            accuracy_m: None,
        };
        let bad_lat = Fix { lat: 95.0, ..ok };
        let bad_t = Fix {
            t_ms: i64::MAX,
            ..ok
        };
        let bad_acc = Fix {
            accuracy_m: Some(f64::NAN),
            ..ok
        };
        let e = write_gpx(None, &[vec![ok], vec![ok, bad_lat]]);
        assert_eq!(
            e,
            Err("path 2, fix 2: latitude 95 is outside [-90, 90]".into())
        );
        assert!(write_gpx(None, &[[bad_t]]).is_err_and(|e| e.starts_with("path 1, fix 1: time")));
        assert!(write_gpx(None, &[[bad_acc]]).is_err());
        let empty: [Vec<Fix>; 0] = [];
        assert!(write_gpx(None, &empty).is_ok_and(|g| read(&g) == Ok(vec![])));
    }
}
