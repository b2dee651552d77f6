//! Simple-feature geometry of the table formats: [`Geom`] (points, lines, polygons and their
//! multi forms, x/y only), read from the GeoPackage binary format (header, then well-known
//! binary) here and from WKT text by [`super::wkt`], and converted to a GeoJSON geometry in
//! longitude/latitude ([`Geom::to_geojson`]). See docs/formats.md.
//!
//! 1. [`gpkg_blob`]: the GeoPackage header (OGC 12-128r18 §2.1.3): magic `GP`, version 0,
//!    flags (byte order of the header, envelope code 0–4, empty flag; the extended type —
//!    bit 5 — is refused), the SRS id, the envelope (0, 32, 48 or 64 bytes, skipped), then WKB.
//!    An empty geometry is `None` (a missing geometry).
//! 2. [`parse`]: WKB in either byte order; types 1–6 (Point … MultiPolygon) with the ISO Z, M
//!    and ZM offsets (1000, 2000, 3000) and the older high-bit Z/M flags (`0x8000_0000`,
//!    `0x4000_0000`); z and m are read and dropped. Collections, curves, surfaces and an EWKB
//!    SRID flag are refused by name. A Multi* holds only its own member type. Every count is
//!    checked against the bytes left before anything is allocated, and the vertices against
//!    the caller's limit; a point of NaNs is an empty point (WKB has no other empty point).
//! 3. [`Geom::to_geojson`]: every vertex through `FileCrs::to_lon_lat`, with the plausibility
//!    check of the Shapefile reader (a projected vertex landing outside China names the
//!    system), as `Point`, `LineString`, `Polygon` or their `Multi` forms.

use super::crs::FileCrs;
use serde_json::{Value, json};

/// A coordinate (x = longitude or easting, y = latitude or northing).
pub type Xy = (f64, f64);

/// A geometry of the simple-feature types the readers take.
#[derive(Debug, Clone, PartialEq)]
pub enum Geom {
    /// A point.
    Point(Xy),
    /// A line string.
    LineString(Vec<Xy>),
    /// A polygon: the exterior ring, then holes.
    Polygon(Vec<Vec<Xy>>),
    /// Points.
    MultiPoint(Vec<Xy>),
    /// Line strings.
    MultiLineString(Vec<Vec<Xy>>),
    /// Polygons.
    MultiPolygon(Vec<Vec<Vec<Xy>>>),
}

impl Geom {
    /// The type's name as WKT writes it (`POLYGON`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Geom::Point(_) => "POINT",
            Geom::LineString(_) => "LINESTRING",
            Geom::Polygon(_) => "POLYGON",
            Geom::MultiPoint(_) => "MULTIPOINT",
            Geom::MultiLineString(_) => "MULTILINESTRING",
            Geom::MultiPolygon(_) => "MULTIPOLYGON",
        }
    }

    /// 0 for points, 1 for lines, 2 for polygons (whether multi or not).
    pub fn dimension(&self) -> u8 {
        match self {
            Geom::Point(_) | Geom::MultiPoint(_) => 0,
            Geom::LineString(_) | Geom::MultiLineString(_) => 1,
            Geom::Polygon(_) | Geom::MultiPolygon(_) => 2,
        }
    }

    /// The GeoJSON geometry in longitude/latitude; `source` names where the system came from,
    /// for the message of a vertex outside China (e.g. "the GeoPackage's srs_id").
    pub fn to_geojson(&self, crs: FileCrs, source: &str) -> Result<Value, String> {
        let mut n = 0usize;
        let mut pt = |&(x, y): &Xy| -> Result<Value, String> {
            n += 1;
            let (lon, lat) = lon_lat(crs, n, x, y, source)?;
            Ok(json!([lon, lat]))
        };
        let mut line = |l: &[Xy]| -> Result<Value, String> {
            l.iter()
                .map(&mut pt)
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        };
        let (t, c) = match self {
            Geom::Point(p) => {
                let mut v = line(std::slice::from_ref(p))?;
                ("Point", v[0].take())
            }
            Geom::LineString(l) => ("LineString", line(l)?),
            Geom::MultiPoint(l) => ("MultiPoint", line(l)?),
            Geom::Polygon(rs) | Geom::MultiLineString(rs) => (
                if matches!(self, Geom::Polygon(_)) {
                    "Polygon"
                } else {
                    "MultiLineString"
                },
                Value::Array(rs.iter().map(|r| line(r)).collect::<Result<_, _>>()?),
            ),
            Geom::MultiPolygon(ps) => (
                "MultiPolygon",
                Value::Array(
                    ps.iter()
                        .map(|rs| {
                            rs.iter()
                                .map(|r| line(r))
                                .collect::<Result<Vec<_>, _>>()
                                .map(Value::Array)
                        })
                        .collect::<Result<_, _>>()?,
                ),
            ),
        };
        Ok(json!({"type": t, "coordinates": c}))
    }
}

/// Vertex `n` (from 1) of a system → longitude/latitude, with the plausibility check of every
/// table reader: a vertex converted from a projected system that lands outside China
/// (73–136°E, 3–54°N) is an error suggesting a wrong system, zone prefix or swapped axes.
/// `source` says where the system came from ("the .prj (or the system given)").
pub(crate) fn lon_lat(
    crs: FileCrs,
    n: usize,
    x: f64,
    y: f64,
    source: &str,
) -> Result<(f64, f64), String> {
    let (lon, lat) = crs
        .to_lon_lat(x, y)
        .map_err(|e| format!("vertex {n} ({x}, {y}) in {}: {e}", crs.name()))?;
    let in_china = (73.0..=136.0).contains(&lon) && (3.0..=54.0).contains(&lat);
    if !(crs.is_geographic() || in_china) {
        return Err(format!(
            "vertex {n} ({x}, {y}) in {} (EPSG:{}) is longitude {lon:.4}, latitude {lat:.4}, outside China: is {source} right — zone, zone prefix on the easting, x and y swapped?",
            crs.name(),
            crs.epsg()
        ));
    }
    Ok((lon, lat))
}

/// A GeoPackage geometry blob: `Ok(None)` for an empty geometry.
pub fn gpkg_blob(b: &[u8], max_positions: usize) -> Result<Option<Geom>, String> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err(format!(
            "not a GeoPackage geometry: it does not start with the magic \"GP\" ({} bytes)",
            b.len()
        ));
    }
    if b[2] != 0 {
        return Err(format!(
            "GeoPackage geometry version {} (only version 0, of GeoPackage 1.0–1.4, is read)",
            b[2]
        ));
    }
    let flags = b[3];
    if flags & 0b0010_0000 != 0 {
        return Err("an extended GeoPackage geometry (flags bit 5): not read".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => {
            return Err(format!(
                "the geometry header's envelope code {e} is invalid"
            ));
        }
    };
    let start = 8 + envelope;
    if b.len() < start {
        return Err(format!(
            "the geometry is cut short: {} bytes, its header alone takes {start}",
            b.len()
        ));
    }
    let geom = parse(&b[start..], max_positions)?;
    let empty = flags & 0b0001_0000 != 0 || geom.as_ref().is_none();
    Ok(if empty { None } else { geom })
}

/// A WKB geometry: `Ok(None)` for an empty point (NaN coordinates); other empty geometries
/// are their empty lists.
pub fn parse(b: &[u8], max_positions: usize) -> Result<Option<Geom>, String> {
    let mut r = Reader {
        b,
        pos: 0,
        vertices: 0,
        max: max_positions,
    };
    let g = r.geometry(None)?;
    if r.pos != b.len() {
        return Err(format!(
            "{} bytes after the WKB geometry ({} bytes)",
            b.len() - r.pos,
            r.pos
        ));
    }
    Ok(match g {
        Geom::Point((x, y)) if x.is_nan() && y.is_nan() => None,
        g => Some(g),
    })
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    vertices: usize,
    max: usize,
}

const TYPES: [&str; 7] = [
    "Geometry",
    "Point",
    "LineString",
    "Polygon",
    "MultiPoint",
    "MultiLineString",
    "MultiPolygon",
];

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        let Some(end) = end else {
            return Err(format!(
                "the WKB is cut short at byte {} (wanted {n} more, {} left)",
                self.pos,
                self.b.len() - self.pos
            ));
        };
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self, le: bool) -> Result<u32, String> {
        let s: [u8; 4] = self.take(4)?.try_into().map_err(|_| "u32".to_string())?;
        Ok(if le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    }

    fn f64(&mut self, le: bool) -> Result<f64, String> {
        let s: [u8; 8] = self.take(8)?.try_into().map_err(|_| "f64".to_string())?;
        Ok(if le {
            f64::from_le_bytes(s)
        } else {
            f64::from_be_bytes(s)
        })
    }

    /// A count of items of at least `min` bytes each, checked against the bytes left.
    fn count(&mut self, le: bool, min: usize, what: &str) -> Result<usize, String> {
        let at = self.pos;
        let n = self.u32(le)? as usize;
        if n.saturating_mul(min) > self.b.len() - self.pos {
            return Err(format!(
                "the WKB at byte {at} says {n} {what}, more than the {} bytes left hold",
                self.b.len() - self.pos
            ));
        }
        Ok(n)
    }

    fn point(&mut self, le: bool, dims: usize) -> Result<Xy, String> {
        self.vertices += 1;
        if self.vertices > self.max {
            return Err(format!(
                "more than {} vertices in one geometry (the limit)",
                self.max
            ));
        }
        let x = self.f64(le)?;
        let y = self.f64(le)?;
        for _ in 2..dims {
            self.f64(le)?;
        }
        Ok((x, y))
    }

    fn points(&mut self, le: bool, dims: usize) -> Result<Vec<Xy>, String> {
        let n = self.count(le, 8 * dims, "points")?;
        (0..n).map(|_| self.point(le, dims)).collect()
    }

    fn rings(&mut self, le: bool, dims: usize) -> Result<Vec<Vec<Xy>>, String> {
        let n = self.count(le, 4, "rings")?;
        (0..n).map(|_| self.points(le, dims)).collect()
    }

    /// One geometry; `member` is the type a Multi* requires of its members.
    fn geometry(&mut self, member: Option<u32>) -> Result<Geom, String> {
        let at = self.pos;
        let le = match self.take(1)?[0] {
            0 => false,
            1 => true,
            o => {
                return Err(format!(
                    "the WKB at byte {at}: byte order {o} (0 or 1 expected)"
                ));
            }
        };
        let code = self.u32(le)?;
        if code & 0x2000_0000 != 0 {
            return Err(format!(
                "the WKB at byte {at} is EWKB with an SRID (type {code:#x}): not read"
            ));
        }
        let flag_dims = usize::from(code & 0x8000_0000 != 0) + usize::from(code & 0x4000_0000 != 0);
        let iso = code & 0x0fff_ffff;
        let (base, iso_dims) = (iso % 1000, iso / 1000);
        let dims = 2
            + flag_dims
            + match iso_dims {
                0 => 0,
                1 | 2 => 1,
                3 => 2,
                _ => return Err(format!("the WKB at byte {at} has the unknown type {code}")),
            };
        if flag_dims > 0 && iso_dims > 0 {
            return Err(format!(
                "the WKB at byte {at} has type {code:#x}: both the ISO and the flag Z/M forms"
            ));
        }
        if let Some(m) = member {
            if base != m {
                return Err(format!(
                    "the WKB at byte {at}: a {} inside a {}: a Multi geometry holds only its own member type",
                    type_name(base),
                    type_name(m + 3)
                ));
            }
        }
        Ok(match base {
            1 => Geom::Point(self.point(le, dims)?),
            2 => Geom::LineString(self.points(le, dims)?),
            3 => Geom::Polygon(self.rings(le, dims)?),
            4..=6 if member.is_some() => {
                return Err(format!(
                    "the WKB at byte {at}: a nested {}",
                    type_name(base)
                ));
            }
            4 => {
                let n = self.count(le, 5 + 8 * dims, "points")?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    match self.geometry(Some(1))? {
                        Geom::Point(p) => v.push(p),
                        _ => return Err("a MultiPoint member".into()),
                    }
                }
                Geom::MultiPoint(v)
            }
            5 => {
                let n = self.count(le, 9, "line strings")?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    match self.geometry(Some(2))? {
                        Geom::LineString(l) => v.push(l),
                        _ => return Err("a MultiLineString member".into()),
                    }
                }
                Geom::MultiLineString(v)
            }
            6 => {
                let n = self.count(le, 9, "polygons")?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    match self.geometry(Some(3))? {
                        Geom::Polygon(p) => v.push(p),
                        _ => return Err("a MultiPolygon member".into()),
                    }
                }
                Geom::MultiPolygon(v)
            }
            other => {
                return Err(format!(
                    "the WKB at byte {at} is a {} (type {code}): only points, line strings, polygons and their Multi forms are read",
                    type_name(other)
                ));
            }
        })
    }
}

fn type_name(base: u32) -> &'static str {
    match base {
        0..=6 => TYPES[base as usize],
        7 => "GeometryCollection",
        8 => "CircularString",
        9 => "CompoundCurve",
        10 => "CurvePolygon",
        11 => "MultiCurve",
        12 => "MultiSurface",
        13 => "Curve",
        14 => "Surface",
        15 => "PolyhedralSurface",
        16 => "TIN",
        17 => "Triangle",
        _ => "geometry of an unknown type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geo_io::export::gpkg::geometry_blob;
    use crate::geo_io::shp_write::Shape;
    use proptest::prelude::*;

    fn wkb(le: bool, code: u32, body: &[f64], counts: &[u32]) -> Vec<u8> {
        // A flat writer for single geometries: the counts first (in order), then the numbers.
        let mut out = vec![u8::from(le)];
        let u = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
        out.extend_from_slice(&u(code));
        for &c in counts {
            out.extend_from_slice(&u(c));
        }
        for &x in body {
            out.extend_from_slice(&if le { x.to_le_bytes() } else { x.to_be_bytes() });
        }
        out
    }

    #[test]
    fn points_in_every_dimension_and_byte_order() {
        for le in [true, false] {
            let p = wkb(le, 1, &[1.0, 2.0], &[]);
            assert_eq!(parse(&p, 10), Ok(Some(Geom::Point((1.0, 2.0)))));
            for code in [1001, 2001, 0x8000_0001, 0x4000_0001] {
                let p = wkb(le, code, &[1.0, 2.0, 3.0], &[]);
                assert_eq!(parse(&p, 10), Ok(Some(Geom::Point((1.0, 2.0)))), "{code}");
            }
            for code in [3001, 0xC000_0001] {
                let p = wkb(le, code, &[1.0, 2.0, 3.0, 4.0], &[]);
                assert_eq!(parse(&p, 10), Ok(Some(Geom::Point((1.0, 2.0)))), "{code}");
            }
        }
        let empty = wkb(true, 1, &[f64::NAN, f64::NAN], &[]);
        assert_eq!(parse(&empty, 10), Ok(None));
    }

    #[test]
    fn line_z_and_polygon() {
        let l = wkb(true, 1002, &[1.0, 2.0, 9.0, 3.0, 4.0, 9.0], &[2]);
        assert_eq!(
            parse(&l, 10),
            Ok(Some(Geom::LineString(vec![(1.0, 2.0), (3.0, 4.0)])))
        );
        let ring = [0.0f64, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let mut p = vec![1u8];
        p.extend_from_slice(&3u32.to_le_bytes());
        p.extend_from_slice(&1u32.to_le_bytes());
        p.extend_from_slice(&4u32.to_le_bytes());
        for x in ring {
            p.extend_from_slice(&x.to_le_bytes());
        }
        let Ok(Some(Geom::Polygon(rs))) = parse(&p, 10) else {
            panic!("polygon")
        };
        assert_eq!(rs[0].len(), 4);
        // The vertex limit.
        let e = parse(&p, 3).expect_err("limit");
        assert!(e.contains("more than 3 vertices"), "{e}");
    }

    #[test]
    fn bad_wkb_named() {
        let e = parse(&wkb(true, 7, &[], &[0]), 10).expect_err("collection");
        assert!(e.contains("GeometryCollection"), "{e}");
        let e = parse(&wkb(true, 8, &[], &[0]), 10).expect_err("curve");
        assert!(e.contains("CircularString"), "{e}");
        let e = parse(&wkb(true, 0x2000_0001, &[0.0, 0.0], &[]), 10).expect_err("srid");
        assert!(e.contains("SRID"), "{e}");
        let e = parse(&wkb(true, 2, &[1.0], &[1_000_000]), 10).expect_err("count");
        assert!(e.contains("says 1000000 points"), "{e}");
        let e = parse(&wkb(true, 1, &[1.0], &[]), 10).expect_err("short");
        assert!(e.contains("cut short"), "{e}");
        let e = parse(&[2, 1, 0, 0, 0], 10).expect_err("order");
        assert!(e.contains("byte order 2"), "{e}");
        let mut trailing = wkb(true, 1, &[1.0, 2.0], &[]);
        trailing.push(0);
        assert!(parse(&trailing, 10).is_err());
        // A MultiPolygon holding a line string.
        let mut m = vec![1u8];
        m.extend_from_slice(&6u32.to_le_bytes());
        m.extend_from_slice(&1u32.to_le_bytes());
        m.extend_from_slice(&wkb(true, 2, &[0.0, 0.0, 1.0, 1.0], &[2]));
        let e = parse(&m, 10).expect_err("member");
        assert!(e.contains("LineString inside a MultiPolygon"), "{e}");
    }

    #[test]
    fn gpkg_header() {
        let point = wkb(true, 1, &[1.0, 2.0], &[]);
        let mut b = vec![b'G', b'P', 0, 0b0000_0011];
        b.extend_from_slice(&4528i32.to_le_bytes());
        b.extend_from_slice(&[0u8; 32]);
        b.extend_from_slice(&point);
        assert_eq!(gpkg_blob(&b, 10), Ok(Some(Geom::Point((1.0, 2.0)))));
        // Empty flag, no envelope.
        let mut e = vec![b'G', b'P', 0, 0b0001_0001, 0, 0, 0, 0];
        e.extend_from_slice(&wkb(true, 6, &[], &[0]));
        assert_eq!(gpkg_blob(&e, 10), Ok(None));
        assert!(gpkg_blob(b"XP\0\x01\0\0\0\0", 10).is_err());
        let mut bad = b.clone();
        bad[3] = 0b0000_1011; // envelope code 5
        assert!(
            gpkg_blob(&bad, 10)
                .expect_err("env")
                .contains("envelope code 5")
        );
        assert!(
            gpkg_blob(&b[..20], 10)
                .expect_err("cut")
                .contains("cut short")
        );
    }

    #[test]
    fn to_geojson_projects_and_checks() {
        let gk = FileCrs::from_epsg(4528).expect("4528");
        let (e, n) = gk.from_lon_lat(121.5, 31.2).expect("fwd");
        let g = Geom::MultiPolygon(vec![vec![vec![
            (e, n),
            (e + 10.0, n),
            (e, n + 10.0),
            (e, n),
        ]]]);
        let v = g.to_geojson(gk, "the srs").expect("ok");
        assert_eq!(v["type"], "MultiPolygon");
        let lon = v["coordinates"][0][0][0][0].as_f64().expect("lon");
        assert!((lon - 121.5).abs() < 1e-9);
        let far = Geom::Point((e, n - 3_200_000.0));
        let m = far.to_geojson(gk, "the srs").expect_err("outside");
        assert!(
            m.contains("outside China") && m.contains("is the srs right"),
            "{m}"
        );
    }

    fn ring() -> impl Strategy<Value = Vec<(f64, f64)>> {
        prop::collection::vec((-1e7f64..1e7, -1e7f64..1e7), 3..12)
    }

    proptest! {
        /// What the GeoPackage writer (`export::gpkg`) writes reads back to the same numbers.
        #[test]
        fn gpkg_writer_round_trip(
            polys in prop::collection::vec(prop::collection::vec(ring(), 1..4), 1..4),
            lines in prop::collection::vec(ring(), 1..4),
        ) {
            let b = geometry_blob(&Shape::Polygons(polys.clone()), 4528);
            prop_assert_eq!(gpkg_blob(&b, 1 << 20), Ok(Some(Geom::MultiPolygon(polys))));
            let b = geometry_blob(&Shape::Lines(lines.clone()), 4528);
            prop_assert_eq!(gpkg_blob(&b, 1 << 20), Ok(Some(Geom::MultiLineString(lines))));
        }

        /// Arbitrary bytes never panic.
        #[test]
        fn arbitrary_bytes_are_an_error_or_a_geometry(b in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&b, 1000);
            let mut g = b"GP\0\x01\0\0\0\0".to_vec();
            g.extend_from_slice(&b);
            let _ = gpkg_blob(&g, 1000);
        }
    }
}
