//! Test support: small, exact tilings built from a (possibly jittered) lattice.
#![allow(dead_code)]

use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon};
use gridatlas::model::{Feature, FeatureSet, Geometry, Kind, Layer, Person, Role};

/// A lattice of `n × n` unit cells starting at (lon0, lat0) with cell size `step` degrees; vertex
/// (i, j) is jittered by up to `jitter` cells, deterministically from `seed`.
pub struct Lattice {
    pub n: usize,
    pub lon0: f64,
    pub lat0: f64,
    pub step: f64,
    pub jitter: f64,
    pub seed: u64,
}

impl Lattice {
    pub fn vertex(&self, i: usize, j: usize) -> Coord<f64> {
        let h = |k: u64| {
            let mut z = self.seed
                ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                ^ k;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) as f64 / u64::MAX as f64) - 0.5
        };
        // Border vertices stay on the straight outline.
        let jx = if i == 0 || i == self.n {
            0.0
        } else {
            h(1) * self.jitter
        };
        let jy = if j == 0 || j == self.n {
            0.0
        } else {
            h(2) * self.jitter
        };
        Coord {
            x: self.lon0 + (i as f64 + jx) * self.step,
            y: self.lat0 + (j as f64 + jy) * self.step,
        }
    }

    /// The counter-clockwise boundary ring of the lattice rectangle [i0, i1) × [j0, j1), with every
    /// lattice vertex on it (so neighbours share identical edges).
    pub fn rect_ring(&self, i0: usize, j0: usize, i1: usize, j1: usize) -> LineString<f64> {
        let mut v = Vec::new();
        for i in i0..i1 {
            v.push(self.vertex(i, j0));
        }
        for j in j0..j1 {
            v.push(self.vertex(i1, j));
        }
        for i in (i0 + 1..=i1).rev() {
            v.push(self.vertex(i, j1));
        }
        for j in (j0 + 1..=j1).rev() {
            v.push(self.vertex(i0, j));
        }
        v.push(self.vertex(i0, j0));
        LineString(v)
    }

    pub fn rect(&self, i0: usize, j0: usize, i1: usize, j1: usize) -> MultiPolygon<f64> {
        MultiPolygon(vec![Polygon::new(self.rect_ring(i0, j0, i1, j1), vec![])])
    }
}

pub fn feature(layer: Layer, code: &str, parent: Option<&str>, geometry: Geometry) -> Feature {
    let kind = match layer {
        Layer::Street => Some(Kind::Town),
        Layer::ResidentGrid => Some(Kind::Residents),
        Layer::ExtendedGrid => Some(Kind::Factory),
        _ => None,
    };
    let people = if layer == Layer::Block {
        vec![Person {
            role: Role::BlockHead,
            name: format!("块长{code}"),
            phone: Some("021-0000000".into()),
            photo_url: None,
            staff_id: None,
        }]
    } else {
        vec![]
    };
    Feature {
        layer,
        code: code.into(),
        name: format!("名称{code}"),
        parent: parent.map(Into::into),
        kind,
        people,
        attributes: Default::default(),
        geometry,
    }
}

/// A hierarchical tiling of an `8k × 8k` lattice: 1 district, 4 streets (quadrants), 16 grids
/// (2×2 per street, alternating kinds), 64 blocks (2×2 per grid) — each block a `k × k` patch of
/// lattice cells. Block `B0` of every grid is cut in two: its north-east cell is a separate block
/// nested as a hole... (see the code) to exercise holes. Road segments run along grid rows.
pub fn tiling(k: usize, jitter: f64, seed: u64) -> (FeatureSet, Lattice) {
    let lat = Lattice {
        n: 8 * k,
        lon0: 121.1,
        lat0: 30.8,
        step: 0.0008,
        jitter,
        seed,
    };
    let mut fs = vec![feature(
        Layer::District,
        "D",
        None,
        Geometry::Area(lat.rect(0, 0, 8 * k, 8 * k)),
    )];
    let grid_layers = [
        Layer::ResidentGrid,
        Layer::StreetGrid,
        Layer::ExtendedGrid,
        Layer::ResidentGrid,
    ];
    for si in 0..2 {
        for sj in 0..2 {
            let s = format!("S{si}{sj}");
            let (i0, j0) = (si * 4 * k, sj * 4 * k);
            fs.push(feature(
                Layer::Street,
                &s,
                Some("D"),
                Geometry::Area(lat.rect(i0, j0, i0 + 4 * k, j0 + 4 * k)),
            ));
            for gi in 0..2 {
                for gj in 0..2 {
                    let g = format!("{s}G{gi}{gj}");
                    let (gi0, gj0) = (i0 + gi * 2 * k, j0 + gj * 2 * k);
                    let gl = grid_layers[gi * 2 + gj];
                    fs.push(feature(
                        gl,
                        &g,
                        Some(&s),
                        Geometry::Area(lat.rect(gi0, gj0, gi0 + 2 * k, gj0 + 2 * k)),
                    ));
                    for bi in 0..2 {
                        for bj in 0..2 {
                            let b = format!("{g}B{bi}{bj}");
                            let (bi0, bj0) = (gi0 + bi * k, gj0 + bj * k);
                            if bi == 0 && bj == 0 && k >= 3 {
                                // A block with a hole, and the hole as its own block.
                                let outer = lat.rect_ring(bi0, bj0, bi0 + k, bj0 + k);
                                let mut hole = lat.rect_ring(bi0 + 1, bj0 + 1, bi0 + 2, bj0 + 2);
                                hole.0.reverse();
                                fs.push(feature(
                                    Layer::Block,
                                    &b,
                                    Some(&g),
                                    Geometry::Area(MultiPolygon(vec![Polygon::new(
                                        outer,
                                        vec![hole],
                                    )])),
                                ));
                                fs.push(feature(
                                    Layer::Block,
                                    &format!("{b}h"),
                                    Some(&g),
                                    Geometry::Area(lat.rect(bi0 + 1, bj0 + 1, bi0 + 2, bj0 + 2)),
                                ));
                            } else if bi == 1 && bj == 1 && k >= 2 {
                                // A multipolygon block: its two diagonal halves... here: the west
                                // column and the east part as separate parts touching at edges is
                                // not a valid multipolygon, so split into west column + rest and
                                // make the rest a second block that owns one part.
                                let west =
                                    Polygon::new(lat.rect_ring(bi0, bj0, bi0 + 1, bj0 + k), vec![]);
                                let east_top = Polygon::new(
                                    lat.rect_ring(bi0 + 2.min(k), bj0 + 1, bi0 + k, bj0 + k),
                                    vec![],
                                );
                                if k >= 3 {
                                    fs.push(feature(
                                        Layer::Block,
                                        &b,
                                        Some(&g),
                                        Geometry::Area(MultiPolygon(vec![west, east_top])),
                                    ));
                                    // The rest: an L of cells [bi0+1, bi0+2) × [bj0, bj0+k) ∪ [bi0+2, bi0+k) × [bj0, bj0+1).
                                    let mut ring = vec![];
                                    ring.push(lat.vertex(bi0 + 1, bj0));
                                    for i in bi0 + 2..=bi0 + k {
                                        ring.push(lat.vertex(i, bj0));
                                    }
                                    ring.push(lat.vertex(bi0 + k, bj0 + 1));
                                    for i in (bi0 + 2..bi0 + k).rev() {
                                        ring.push(lat.vertex(i, bj0 + 1));
                                    }
                                    for j in bj0 + 2..=bj0 + k {
                                        ring.push(lat.vertex(bi0 + 2, j));
                                    }
                                    ring.push(lat.vertex(bi0 + 1, bj0 + k));
                                    for j in (bj0 + 1..bj0 + k).rev() {
                                        ring.push(lat.vertex(bi0 + 1, j));
                                    }
                                    ring.push(lat.vertex(bi0 + 1, bj0));
                                    fs.push(feature(
                                        Layer::Block,
                                        &format!("{b}r"),
                                        Some(&g),
                                        Geometry::Area(MultiPolygon(vec![Polygon::new(
                                            LineString(ring),
                                            vec![],
                                        )])),
                                    ));
                                } else {
                                    fs.push(feature(
                                        Layer::Block,
                                        &b,
                                        Some(&g),
                                        Geometry::Area(lat.rect(bi0, bj0, bi0 + k, bj0 + k)),
                                    ));
                                }
                            } else {
                                fs.push(feature(
                                    Layer::Block,
                                    &b,
                                    Some(&g),
                                    Geometry::Area(lat.rect(bi0, bj0, bi0 + k, bj0 + k)),
                                ));
                            }
                        }
                    }
                    // A road segment through the grid's middle row of cell centres.
                    let jm = gj0 + k;
                    let pts: Vec<Coord<f64>> = (gi0..=gi0 + 2 * k)
                        .map(|i| {
                            let a = lat.vertex(i, jm);
                            let b = lat.vertex(i, jm + 1);
                            Coord {
                                x: (a.x + b.x) / 2.0,
                                y: (a.y + b.y) / 2.0,
                            }
                        })
                        .collect();
                    fs.push(feature(
                        Layer::RoadSegment,
                        &format!("{g}R"),
                        Some(&g),
                        Geometry::Line(MultiLineString(vec![LineString(pts)])),
                    ));
                }
            }
        }
    }
    let set = FeatureSet::new(fs, vec![]).expect("unique codes");
    (set, lat)
}
