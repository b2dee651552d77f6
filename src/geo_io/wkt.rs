//! Well-known text geometry (OGC 06-103r4 §7) for the CSV reader: `POINT`, `LINESTRING`,
//! `POLYGON`, `MULTIPOINT`, `MULTILINESTRING`, `MULTIPOLYGON`, with `Z`, `M` or `ZM` (z and m read
//! and dropped; untagged coordinates of 3 or 4 numbers too), `EMPTY`, keywords in any case,
//! `MULTIPOINT (1 2, 3 4)` and `MULTIPOINT ((1 2), (3 4))`. Into the [`Geom`] of
//! [`super::wkb`]. See docs/formats.md.
//!
//! Hand-written (the grammar is small): the `wkt` crate parses into `geo-types` with generic
//! numbers and reports errors without a position, and the reader wants the character at fault
//! and a vertex limit checked while parsing. Errors name the character position (from 1),
//! what was expected and what was found. Collections, curves and EWKT's `SRID=…;` are refused
//! by name (the system is the CSV's `crs=`).

use super::wkb::{Geom, Xy};

/// Parses one geometry; `Ok(None)` for `POINT EMPTY`. At most `max_positions` vertices.
pub fn parse(text: &str, max_positions: usize) -> Result<Option<Geom>, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        vertices: 0,
        max: max_positions,
    };
    let g = p.geometry()?;
    p.space();
    if p.pos < p.s.len() {
        return Err(p.error("the end of the geometry"));
    }
    Ok(g)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    vertices: usize,
    max: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn found(&self) -> String {
        match self.s.get(self.pos..) {
            Some([]) | None => "the end of the text".into(),
            Some(rest) => {
                let t: String = String::from_utf8_lossy(&rest[..rest.len().min(12)]).into();
                format!("{t:?}")
            }
        }
    }

    fn error(&self, expected: &str) -> String {
        let at = String::from_utf8_lossy(&self.s[..self.pos.min(self.s.len())])
            .chars()
            .count()
            + 1;
        format!(
            "WKT at character {at}: expected {expected}, found {}",
            self.found()
        )
    }

    fn word(&mut self) -> String {
        self.space();
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_alphabetic() {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.pos]).to_ascii_uppercase()
    }

    fn peek(&mut self, c: u8) -> bool {
        self.space();
        self.s.get(self.pos) == Some(&c)
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(&format!("{:?}", c as char)))
        }
    }

    fn number(&mut self) -> Result<Option<f64>, String> {
        self.space();
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_digit() || b"+-.eE".contains(&self.s[self.pos]))
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Ok(None);
        }
        let t =
            std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.error("a number"))?;
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => {
                self.pos = start;
                Err(self.error("a number"))
            }
        }
    }

    /// A coordinate of `dims` numbers (`None`: 2 to 4).
    fn coord(&mut self, dims: Option<usize>) -> Result<Xy, String> {
        self.vertices += 1;
        if self.vertices > self.max {
            return Err(format!(
                "more than {} vertices in one geometry (the limit)",
                self.max
            ));
        }
        let mut v = Vec::with_capacity(4);
        while v.len() < dims.unwrap_or(4) {
            match self.number()? {
                Some(x) => v.push(x),
                None => break,
            }
        }
        let ok = match dims {
            Some(d) => v.len() == d,
            None => v.len() >= 2,
        };
        if !ok {
            return Err(self.error(&match dims {
                Some(d) => format!("a number ({d} per coordinate)"),
                None => "a number (2 to 4 per coordinate)".into(),
            }));
        }
        Ok((v[0], v[1]))
    }

    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, String>,
    ) -> Result<Vec<T>, String> {
        self.expect(b'(')?;
        let mut v = vec![item(self)?];
        while self.peek(b',') {
            self.pos += 1;
            v.push(item(self)?);
        }
        self.expect(b')')?;
        Ok(v)
    }

    fn points(&mut self, dims: Option<usize>) -> Result<Vec<Xy>, String> {
        self.list(|p| p.coord(dims))
    }

    fn rings(&mut self, dims: Option<usize>) -> Result<Vec<Vec<Xy>>, String> {
        self.list(|p| p.points(dims))
    }

    /// `EMPTY`, else nothing consumed.
    fn empty(&mut self) -> bool {
        let save = self.pos;
        if self.word() == "EMPTY" {
            return true;
        }
        self.pos = save;
        false
    }

    fn geometry(&mut self) -> Result<Option<Geom>, String> {
        self.space();
        let start = self.pos;
        let kind = self.word();
        if kind == "SRID" {
            return Err(
                "EWKT with SRID=…; is not read: give the coordinate system as crs= (--crs)".into(),
            );
        }
        let save = self.pos;
        let dims = match self.word().as_str() {
            "Z" | "M" => Some(3),
            "ZM" => Some(4),
            _ => {
                self.pos = save;
                None
            }
        };
        let e = self.empty();
        Ok(Some(match kind.as_str() {
            "POINT" if e => return Ok(None),
            "POINT" => {
                self.expect(b'(')?;
                let c = self.coord(dims)?;
                self.expect(b')')?;
                Geom::Point(c)
            }
            "LINESTRING" if e => Geom::LineString(vec![]),
            "LINESTRING" => Geom::LineString(self.points(dims)?),
            "POLYGON" if e => Geom::Polygon(vec![]),
            "POLYGON" => Geom::Polygon(self.rings(dims)?),
            "MULTIPOINT" if e => Geom::MultiPoint(vec![]),
            "MULTIPOINT" => Geom::MultiPoint(self.list(|p| {
                if p.peek(b'(') {
                    p.pos += 1;
                    let c = p.coord(dims)?;
                    p.expect(b')')?;
                    Ok(c)
                } else {
                    p.coord(dims)
                }
            })?),
            "MULTILINESTRING" if e => Geom::MultiLineString(vec![]),
            "MULTILINESTRING" => Geom::MultiLineString(self.rings(dims)?),
            "MULTIPOLYGON" if e => Geom::MultiPolygon(vec![]),
            "MULTIPOLYGON" => Geom::MultiPolygon(self.list(|p| p.rings(dims))?),
            "GEOMETRYCOLLECTION" | "CIRCULARSTRING" | "COMPOUNDCURVE" | "CURVEPOLYGON"
            | "MULTICURVE" | "MULTISURFACE" | "TIN" | "TRIANGLE" | "POLYHEDRALSURFACE" => {
                return Err(format!(
                    "a {kind} is not read: only points, line strings, polygons and their MULTI forms"
                ));
            }
            _ => {
                self.pos = start;
                return Err(self.error(
                    "a geometry type (POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON)",
                ));
            }
        }))
    }
}

/// Writes a geometry as WKT (for tests and round trips): shortest round-trip numbers.
pub fn write(g: &Geom) -> String {
    let c = |&(x, y): &Xy| format!("{x} {y}");
    let line = |l: &[Xy]| format!("({})", l.iter().map(c).collect::<Vec<_>>().join(", "));
    let rings = |rs: &[Vec<Xy>]| {
        format!(
            "({})",
            rs.iter().map(|r| line(r)).collect::<Vec<_>>().join(", ")
        )
    };
    let body = match g {
        Geom::Point(p) => format!("({})", c(p)),
        Geom::LineString(l) | Geom::MultiPoint(l) => line(l),
        Geom::Polygon(rs) | Geom::MultiLineString(rs) => rings(rs),
        Geom::MultiPolygon(ps) => format!(
            "({})",
            ps.iter().map(|p| rings(p)).collect::<Vec<_>>().join(", ")
        ),
    };
    let empty = matches!(g, Geom::LineString(l) | Geom::MultiPoint(l) if l.is_empty())
        || matches!(g, Geom::Polygon(r) | Geom::MultiLineString(r) if r.is_empty())
        || matches!(g, Geom::MultiPolygon(p) if p.is_empty());
    if empty {
        format!("{} EMPTY", g.type_name())
    } else {
        format!("{} {body}", g.type_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn forms_taken() {
        assert_eq!(parse("POINT (1 2)", 9), Ok(Some(Geom::Point((1.0, 2.0)))));
        assert_eq!(
            parse(" point z(1 2 3) ", 9),
            Ok(Some(Geom::Point((1.0, 2.0))))
        );
        assert_eq!(
            parse("POINT ZM (1 2 3 4)", 9),
            Ok(Some(Geom::Point((1.0, 2.0))))
        );
        assert_eq!(parse("POINT (1 2 3)", 9), Ok(Some(Geom::Point((1.0, 2.0)))));
        assert_eq!(parse("POINT EMPTY", 9), Ok(None));
        assert_eq!(
            parse("MULTIPOINT ((1 2), (3 4))", 9),
            parse("MULTIPOINT (1 2, 3 4)", 9)
        );
        assert_eq!(
            parse("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5), (1e1 -2.5E-1, 3 3, 4 4, 1e1 -2.5E-1)))", 99)
                .map(|g| g.map(|g| g.type_name())),
            Ok(Some("MULTIPOLYGON"))
        );
        assert_eq!(
            parse("LINESTRING EMPTY", 9),
            Ok(Some(Geom::LineString(vec![])))
        );
    }

    #[test]
    fn errors_located() {
        let e = parse("POLYGON ((0 0, 1 0, 1 1, 0 0)", 99).expect_err("open");
        assert!(e.starts_with("WKT at character 30: expected ')'"), "{e}");
        let e = parse("POINT (1 x)", 9).expect_err("number");
        assert!(
            e.contains("character 10") && e.contains("found \"x)\""),
            "{e}"
        );
        let e = parse("POINT Z (1 2)", 9).expect_err("dims");
        assert!(e.contains("3 per coordinate"), "{e}");
        let e = parse("CIRCLE (1 2)", 9).expect_err("type");
        assert!(e.contains("character 1: expected a geometry type"), "{e}");
        let e = parse("GEOMETRYCOLLECTION (POINT (1 2))", 9).expect_err("gc");
        assert!(e.contains("GEOMETRYCOLLECTION is not read"), "{e}");
        let e = parse("SRID=4326;POINT (1 2)", 9).expect_err("ewkt");
        assert!(e.contains("crs="), "{e}");
        let e = parse("POINT (1 2) x", 9).expect_err("trailing");
        assert!(e.contains("the end of the geometry"), "{e}");
        let e = parse("LINESTRING (1 2, 3 4, 5 6)", 2).expect_err("limit");
        assert!(e.contains("more than 2 vertices"), "{e}");
        let e = parse("POINT (1e999 2)", 9).expect_err("inf");
        assert!(e.contains("a number"), "{e}");
        assert!(parse("", 9).is_err());
        assert!(parse("网格", 9).is_err());
    }

    fn xy() -> impl Strategy<Value = Xy> + Clone {
        (-1e8f64..1e8, -1e8f64..1e8)
    }

    fn geom() -> impl Strategy<Value = Geom> {
        let line = prop::collection::vec(xy(), 1..6);
        let rings = prop::collection::vec(line.clone(), 1..4);
        prop_oneof![
            xy().prop_map(Geom::Point),
            line.clone().prop_map(Geom::LineString),
            line.clone().prop_map(Geom::MultiPoint),
            rings.clone().prop_map(Geom::Polygon),
            rings.clone().prop_map(Geom::MultiLineString),
            prop::collection::vec(rings, 0..3).prop_map(Geom::MultiPolygon),
        ]
    }

    proptest! {
        /// What `write` writes parses back to the same geometry, numbers exactly.
        #[test]
        fn round_trip(g in geom()) {
            prop_assert_eq!(parse(&write(&g), 1 << 20), Ok(Some(g)));
        }

        /// Any text is a geometry or an error, never a panic.
        #[test]
        fn arbitrary_text(s in "\\PC{0,60}") {
            let _ = parse(&s, 100);
        }
    }
}
