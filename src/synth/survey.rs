//! Survey-dense boundaries: a vertex every few metres along every edge, as boundaries drawn from
//! field surveys have them (`gridatlas synth --vertex-spacing-m 2..10`).
//!
//! 1. Every edge `a → b` of every ring is cut into steps of `min_m..=max_m` metres (drawn per
//!    step), and every inserted vertex is moved off the straight line by a little survey noise
//!    (at most `noise_m`, and at most 5 % of its distance to the nearer end, so the densified edge
//!    stays in a thin lens about the original one and cannot reach another boundary).
//! 2. The steps and the noise are drawn from a hash of the edge's two end points in a canonical
//!    order (the smaller coordinate first), never from the ring being walked: the two areas on
//!    either side of a shared edge — and the grid and street whose boundary runs along the same
//!    edge — get exactly the same vertices, in opposite order. The district stays a valid
//!    coverage: no gaps, no overlaps, shared edges identical.
//! 3. Inserted vertices are rounded to 1e-7° (about 1 cm); the original vertices are untouched.
//!
//! Road segments are lines and are left as they are.

use super::mesh::{mix, unit};
use crate::geometry::measure::LocalFrame;
use crate::model::{FeatureSet, Geometry};
use geo::{Coord, LineString};

/// How dense: vertex spacing (metres, drawn uniformly per step) and the largest survey noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spacing {
    /// Shortest step, metres.
    pub min_m: f64,
    /// Longest step, metres.
    pub max_m: f64,
    /// Largest distance of an inserted vertex from the original edge, metres.
    pub noise_m: f64,
}

impl Default for Spacing {
    fn default() -> Self {
        Spacing {
            min_m: 2.0,
            max_m: 10.0,
            noise_m: 0.3,
        }
    }
}

impl std::str::FromStr for Spacing {
    type Err = String;

    /// `MIN..MAX` (metres, e.g. `2..10`) or one number for a fixed step.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let num = |t: &str| -> Result<f64, String> {
            t.trim()
                .parse::<f64>()
                .map_err(|_| format!("{t:?} is not a number of metres"))
        };
        let (min_m, max_m) = match s.split_once("..") {
            Some((a, b)) => (num(a)?, num(b)?),
            None => {
                let v = num(s)?;
                (v, v)
            }
        };
        if !(min_m.is_finite() && max_m.is_finite() && 0.5 <= min_m && min_m <= max_m) {
            return Err(format!(
                "spacing must be MIN..MAX metres with 0.5 <= MIN <= MAX, got {s:?}"
            ));
        }
        Ok(Spacing {
            min_m,
            max_m,
            ..Spacing::default()
        })
    }
}

const DECIMALS: f64 = 1e7;

fn round7(c: Coord<f64>) -> Coord<f64> {
    Coord {
        x: (c.x * DECIMALS).round() / DECIMALS,
        y: (c.y * DECIMALS).round() / DECIMALS,
    }
}

fn key(c: Coord<f64>) -> (u64, u64) {
    (c.x.to_bits(), c.y.to_bits())
}

/// The vertices strictly between `a` and `b`, in the direction `a → b`; the same set for
/// `b → a`, reversed.
pub fn densify_edge(
    a: Coord<f64>,
    b: Coord<f64>,
    spacing: &Spacing,
    seed: u64,
    out: &mut Vec<Coord<f64>>,
) {
    let reversed = (a.x, a.y) > (b.x, b.y);
    let (p, q) = if reversed { (b, a) } else { (a, b) };
    let frame = LocalFrame::new(p.x, p.y);
    let (px, qx) = (frame.to_xy(p), frame.to_xy(q));
    let (dx, dy) = (qx.x - px.x, qx.y - px.y);
    let len = dx.hypot(dy);
    if !(len.is_finite() && len > spacing.min_m) {
        return;
    }
    let (kp, kq) = (key(p), key(q));
    let mut h = mix(seed ^ mix(kp.0 ^ mix(kp.1 ^ mix(kq.0 ^ mix(kq.1)))));
    let (nx, ny) = (-dy / len, dx / len);
    let start = out.len();
    let mut t = 0.0;
    loop {
        h = mix(h);
        t += spacing.min_m + (spacing.max_m - spacing.min_m) * unit(h);
        // The last step is never shorter than half the minimum.
        if t > len - 0.5 * spacing.min_m {
            break;
        }
        h = mix(h);
        let room = 0.05 * t.min(len - t);
        let off = (2.0 * unit(h) - 1.0) * spacing.noise_m.min(room);
        let f = t / len;
        let c = frame.to_lonlat(Coord {
            x: px.x + f * dx + off * nx,
            y: px.y + f * dy + off * ny,
        });
        out.push(round7(c));
    }
    if reversed {
        out[start..].reverse();
    }
}

fn densify_ring(ring: &LineString<f64>, spacing: &Spacing, seed: u64) -> LineString<f64> {
    let mut out = Vec::with_capacity(ring.0.len() * 4);
    for w in ring.0.windows(2) {
        out.push(w[0]);
        densify_edge(w[0], w[1], spacing, seed, &mut out);
    }
    if let Some(&last) = ring.0.last() {
        out.push(last);
    }
    LineString(out)
}

/// Densifies the rings of every area of `set` (see the module docs).
pub fn densify(set: FeatureSet, spacing: &Spacing, seed: u64) -> FeatureSet {
    let (mut features, units) = set.into_parts();
    let seed = mix(seed ^ 0x5375_7276_6579);
    for f in &mut features {
        if let Geometry::Area(mp) = &mut f.geometry {
            for poly in &mut mp.0 {
                let ext = densify_ring(poly.exterior(), spacing, seed);
                let ints: Vec<LineString<f64>> = poly
                    .interiors()
                    .iter()
                    .map(|r| densify_ring(r, spacing, seed))
                    .collect();
                *poly = geo::Polygon::new(ext, ints);
            }
        }
    }
    // The codes were unique before and are unchanged.
    match FeatureSet::new(features, units) {
        Ok(s) => s,
        Err(f) => unreachable!("densify changed no code, yet {} repeats", f.code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_edge_gets_the_same_vertices_from_both_sides() {
        let a = Coord {
            x: 121.1234567,
            y: 30.7654321,
        };
        let b = Coord {
            x: 121.1241,
            y: 30.7661,
        };
        let s = Spacing::default();
        let (mut ab, mut ba) = (Vec::new(), Vec::new());
        densify_edge(a, b, &s, 7, &mut ab);
        densify_edge(b, a, &s, 7, &mut ba);
        ba.reverse();
        assert_eq!(ab, ba);
        // ~100 m at 2..10 m
        assert!((9..=50).contains(&ab.len()), "{}", ab.len());
        let f = LocalFrame::new(a.x, a.y);
        let mut prev = f.to_xy(a);
        for c in ab.iter().chain([&b]) {
            let p = f.to_xy(*c);
            let d = (p.x - prev.x).hypot(p.y - prev.y);
            assert!((0.9..=10.5).contains(&d), "{d}");
            prev = p;
        }
    }

    #[test]
    fn spacing_parses() {
        assert_eq!(
            "2..10".parse::<Spacing>().map(|s| (s.min_m, s.max_m)),
            Ok((2.0, 10.0))
        );
        assert_eq!("5".parse::<Spacing>().map(|s| s.max_m), Ok(5.0));
        assert!("10..2".parse::<Spacing>().is_err());
        assert!("x".parse::<Spacing>().is_err());
        assert!("0..1".parse::<Spacing>().is_err());
    }
}
