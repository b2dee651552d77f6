//! The atlas against brute force, and its documented rules: boundaries, holes, multipolygons,
//! nearest fallback, outside, road segments.

mod support;

use gridatlas::atlas::{Atlas, AtlasOptions, Fallback, brute_force_locate};
use gridatlas::model::{FeatureSet, Layer};
use proptest::prelude::*;
use support::tiling;

fn code(set: &FeatureSet, id: Option<u32>) -> Option<&str> {
    id.map(|i| set.features()[i as usize].code.as_str())
}

fn atlases() -> Vec<(Atlas, support::Lattice)> {
    let mut v = Vec::new();
    for (k, jitter, seed, cell) in [
        (3, 0.35, 7, None),
        (3, 0.0, 1, None),
        (2, 0.2, 3, Some(40.0)),
        (4, 0.4, 9, Some(500.0)),
        // Cells far larger than blocks: over 32 candidates per cell (several parity groups).
        (4, 0.3, 11, Some(3000.0)),
        // Cells far smaller than lattice cells: most edges span several cells.
        (2, 0.3, 5, Some(12.0)),
    ] {
        let (set, lat) = tiling(k, jitter, seed);
        let atlas = Atlas::build_with(
            set,
            AtlasOptions {
                cell_m: cell,
                ..Default::default()
            },
        );
        v.push((atlas, lat));
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random points (inside and around the territory) agree with brute force in every layer.
    #[test]
    fn random_points_agree_with_brute_force(pts in prop::collection::vec((-0.1f64..1.1, -0.1f64..1.1), 200)) {
        for (atlas, lat) in atlases() {
            let span = lat.step * lat.n as f64;
            for &(u, v) in &pts {
                let (x, y) = (lat.lon0 + u * span, lat.lat0 + v * span);
                prop_assert_eq!(atlas.locate(x, y), brute_force_locate(atlas.features(), x, y), "at ({}, {})", x, y);
            }
        }
    }

    /// Points on lattice vertices and on edges (interpolated, so on or within a rounding error of
    /// the edge) agree with brute force.
    #[test]
    fn vertices_and_edge_points_agree_with_brute_force(i in 0usize..=24, j in 0usize..=24, t in 0.0f64..1.0) {
        for (atlas, lat) in atlases() {
            let (i, j) = (i % (lat.n + 1), j % (lat.n + 1));
            let a = lat.vertex(i, j);
            let b = lat.vertex((i + 1).min(lat.n), j);
            let c = lat.vertex(i, (j + 1).min(lat.n));
            for p in [a, geo::Coord { x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y) }, geo::Coord { x: a.x + t * (c.x - a.x), y: a.y + t * (c.y - a.y) }] {
                prop_assert_eq!(atlas.locate(p.x, p.y), brute_force_locate(atlas.features(), p.x, p.y));
            }
        }
    }
}

/// Every vertex and every exact edge midpoint strictly inside the territory has exactly one owner
/// in every layer (brute force counts all containing areas; the atlas agrees with the owner).
#[test]
fn shared_edges_and_vertices_have_exactly_one_owner() {
    for (atlas, lat) in atlases() {
        let set = atlas.features();
        let mut points = Vec::new();
        for i in 1..lat.n {
            for j in 1..lat.n {
                points.push(lat.vertex(i, j));
                if lat.jitter == 0.0 {
                    // Exactly on a horizontal and on a vertical edge.
                    let (a, b, c) = (lat.vertex(i, j), lat.vertex(i + 1, j), lat.vertex(i, j + 1));
                    points.push(geo::Coord {
                        x: (a.x + b.x) / 2.0,
                        y: a.y,
                    });
                    points.push(geo::Coord {
                        x: a.x,
                        y: (a.y + c.y) / 2.0,
                    });
                }
            }
        }
        for p in points {
            for layers in [
                &[Layer::District][..],
                &[Layer::Street],
                &Layer::GRIDS,
                &[Layer::Block],
            ] {
                let owners = set
                    .features()
                    .iter()
                    .filter(|f| layers.contains(&f.layer))
                    .filter(|f| {
                        gridatlas::geometry::pip::contains(
                            f.geometry.as_area().expect("area"),
                            p.x,
                            p.y,
                        )
                    })
                    .count();
                assert_eq!(owners, 1, "{layers:?} at {p:?}");
            }
            let placement = atlas.lookup(p.x, p.y);
            assert_eq!(placement.fallback, Fallback::None, "{p:?}");
            assert_eq!(
                [
                    placement.district,
                    placement.street,
                    placement.grid,
                    placement.block
                ],
                brute_force_locate(set, p.x, p.y)
            );
        }
    }
}

#[test]
fn holes_and_multipolygons_are_honoured() {
    let (set, lat) = tiling(3, 0.0, 1);
    let atlas = Atlas::build(set);
    // Street S00, grid S00G00, block B00 (cells [0,3)×[0,3)) with a hole at cell (1,1).
    let centre = |i: usize, j: usize| {
        let (a, c) = (lat.vertex(i, j), lat.vertex(i + 1, j + 1));
        ((a.x + c.x) / 2.0, (a.y + c.y) / 2.0)
    };
    let (x, y) = centre(1, 1);
    assert_eq!(
        code(atlas.features(), atlas.lookup(x, y).block),
        Some("S00G00B00h")
    );
    let (x, y) = centre(0, 0);
    assert_eq!(
        code(atlas.features(), atlas.lookup(x, y).block),
        Some("S00G00B00")
    );
    // Block B11 of grid G00 covers cells [3,6)×[3,6): west column and the north-east 1×2 patch
    // are one multipolygon block, the L between them another.
    let (x, y) = centre(3, 4);
    assert_eq!(
        code(atlas.features(), atlas.lookup(x, y).block),
        Some("S00G00B11")
    );
    let (x, y) = centre(5, 5);
    assert_eq!(
        code(atlas.features(), atlas.lookup(x, y).block),
        Some("S00G00B11")
    );
    let (x, y) = centre(4, 4);
    assert_eq!(
        code(atlas.features(), atlas.lookup(x, y).block),
        Some("S00G00B11r")
    );
    let (x, y) = centre(5, 3);
    assert_eq!(
        code(atlas.features(), atlas.lookup(x, y).block),
        Some("S00G00B11r")
    );
}

#[test]
fn a_point_in_a_gap_falls_back_to_the_nearest_block_then_to_the_grid() {
    let (set, lat) = tiling(3, 0.0, 1);
    let (mut features, units) = set.into_parts();
    // Remove block S00G00B10 (cells [3,6)×[0,3)): a 3×3-cell gap inside grid S00G00.
    features.retain(|f| f.code != "S00G00B10");
    let atlas = Atlas::build(FeatureSet::new(features, units).expect("unique"));
    let set = atlas.features();
    // 10 m inside the gap from its western edge (x = vertex(3, 1).x): nearest block is B00.
    let v = lat.vertex(3, 1);
    let m_per_deg_lon = gridatlas::geometry::measure::LocalFrame::new(v.x, v.y).m_per_deg_lon;
    let p = atlas.lookup(v.x + 10.0 / m_per_deg_lon, v.y + 0.3 * lat.step);
    assert_eq!(p.fallback, Fallback::Nearest);
    assert_eq!(code(set, p.grid), Some("S00G00"));
    assert_eq!(code(set, p.block), Some("S00G00B00"));
    let d = p.distance_m.expect("distance");
    assert!((d - 10.0).abs() < 0.05, "{d}");
    // The middle of the gap is ~115 m from any block: the grid alone.
    let (a, c) = (lat.vertex(4, 1), lat.vertex(5, 2));
    let p = atlas.lookup((a.x + c.x) / 2.0, (a.y + c.y) / 2.0);
    assert_eq!(p.fallback, Fallback::Grid);
    assert_eq!(code(set, p.grid), Some("S00G00"));
    assert_eq!(p.block, None);
}

#[test]
fn outside_the_district_is_outside() {
    let (set, lat) = tiling(3, 0.3, 2);
    let atlas = Atlas::build(set);
    for (x, y) in [
        (lat.lon0 - 0.01, lat.lat0),
        (0.0, 0.0),
        (f64::NAN, 30.0),
        (121.0, f64::INFINITY),
        (200.0, 100.0),
    ] {
        let p = atlas.lookup(x, y);
        assert_eq!(p.fallback, Fallback::Outside, "({x}, {y})");
        assert_eq!(
            (p.district, p.street, p.grid, p.block),
            (None, None, None, None)
        );
    }
}

#[test]
fn road_segments_within_the_radius_are_listed_with_distance() {
    let (set, lat) = tiling(3, 0.0, 1);
    let atlas = Atlas::build(set);
    // The road of grid S00G00 runs through cell centres of row j = 3 (between lattice rows 3 and 4).
    let (a, c) = (lat.vertex(1, 3), lat.vertex(2, 4));
    let (x, y_road) = ((a.x + c.x) / 2.0, (a.y + c.y) / 2.0);
    let m_per_deg_lat = gridatlas::geometry::measure::LocalFrame::new(x, y_road).m_per_deg_lat;
    let p = atlas.lookup(x, y_road + 20.0 / m_per_deg_lat);
    assert_eq!(p.roads.len(), 1);
    assert_eq!(atlas.feature(p.roads[0].feature).code, "S00G00R");
    assert!(
        (p.roads[0].distance_m - 20.0).abs() < 0.05,
        "{}",
        p.roads[0].distance_m
    );
    let p = atlas.lookup(x, y_road + 35.0 / m_per_deg_lat);
    assert!(p.roads.is_empty());
    let json = atlas.placement_json(x, y_road, &atlas.lookup(x, y_road));
    assert_eq!(json["road_segments"][0]["code"], "S00G00R");
    assert_eq!(json["block_head"]["role"], "block_head");
    assert_eq!(json["fallback"], serde_json::Value::Null);
}

/// Invalid data: a block sticking out of its grid into the neighbouring grid, a duplicated block
/// (an exact overlap) and a grid shifted over its neighbours. Every layer is still answered
/// exactly like brute force — in particular the grid is the one containing the point, never
/// merely the parent of the block found.
#[test]
fn blocks_outside_their_grid_and_overlaps_agree_with_brute_force() {
    let (set, lat) = tiling(3, 0.25, 4);
    let (mut features, units) = set.into_parts();
    let shift = |g: &mut gridatlas::model::Geometry, dx: f64, dy: f64| {
        if let gridatlas::model::Geometry::Area(a) = g {
            use geo::MapCoordsInPlace;
            a.map_coords_in_place(|c| geo::Coord {
                x: c.x + dx,
                y: c.y + dy,
            });
        }
    };
    let mut extra = Vec::new();
    for f in features.iter_mut() {
        match f.code.as_str() {
            // Half a block east, into grid S00G10 (its parent stays S00G00).
            "S00G00B10" => shift(&mut f.geometry, 1.5 * lat.step, 0.2 * lat.step),
            // A grid moved a third of its width north-east over its neighbours.
            "S11G01" => shift(&mut f.geometry, 2.0 * lat.step, 2.0 * lat.step),
            "S01G11B01" => {
                let mut dup = f.clone();
                dup.code = "S01G11B01dup".into();
                extra.push(dup);
            }
            _ => {}
        }
    }
    features.extend(extra);
    let set = FeatureSet::new(features, units).expect("unique codes");
    for (cell, atlas) in at_every_cell_size(&set) {
        let span = lat.step * lat.n as f64;
        let steps = 160;
        for i in 0..=steps {
            for j in 0..=steps {
                let (x, y) = (
                    lat.lon0 + span * (i as f64 / steps as f64 * 1.1 - 0.05),
                    lat.lat0 + span * (j as f64 / steps as f64 * 1.1 - 0.05),
                );
                assert_eq!(
                    atlas.locate(x, y),
                    brute_force_locate(atlas.features(), x, y),
                    "cell {cell:?} at ({x}, {y})"
                );
            }
        }
        // Vertices of the shifted block lie on no lattice edge; test them and the lattice's.
        for i in 0..=lat.n {
            for j in 0..=lat.n {
                let v = lat.vertex(i, j);
                for (x, y) in [
                    (v.x, v.y),
                    (v.x + 1.5 * lat.step, v.y + 0.2 * lat.step),
                    (v.x + 2.0 * lat.step, v.y + 2.0 * lat.step),
                ] {
                    assert_eq!(
                        atlas.locate(x, y),
                        brute_force_locate(atlas.features(), x, y),
                        "cell {cell:?} at ({x}, {y})"
                    );
                }
            }
        }
        // A point in the part of S00G00B10 that sticks out: that block, but grid S00G10.
        let set = atlas.features();
        let v = lat.vertex(6, 1);
        let (x, y) = (v.x + 0.5 * lat.step, v.y + 0.5 * lat.step);
        let [_, _, grid, block] = atlas.locate(x, y);
        let expected = brute_force_locate(set, x, y);
        assert_eq!([grid, block], [expected[2], expected[3]]);
        if code(set, block) == Some("S00G00B10") {
            assert_ne!(code(set, grid), Some("S00G00"), "({x}, {y})");
        }
    }
}

/// Points exactly on block edges that are also grid (and street) edges: one owner per layer, the
/// one north-east of the point, and the block found lies in the grid found.
#[test]
fn points_on_block_edges_that_are_grid_edges_have_consistent_owners() {
    let (set, lat) = tiling(3, 0.0, 1);
    for (_, atlas) in at_every_cell_size(&set) {
        let set = atlas.features();
        // Grid boundaries run along lattice lines 6, 12, 18 (k = 3, grids 2k wide).
        for line in [6, 12, 18] {
            for t in 1..(2 * lat.n) {
                let u = t as f64 / 2.0;
                let (a, b) = (lat.vertex(line, 0), lat.vertex(line, lat.n));
                // On the vertical grid edge x = line, at lattice vertices and edge midpoints.
                let p1 = (a.x, a.y + (b.y - a.y) * u / lat.n as f64);
                let (a, b) = (lat.vertex(0, line), lat.vertex(lat.n, line));
                let p2 = (a.x + (b.x - a.x) * u / lat.n as f64, a.y);
                for (x, y) in [p1, p2] {
                    let got = atlas.locate(x, y);
                    assert_eq!(got, brute_force_locate(set, x, y), "({x}, {y})");
                    let [_, _, grid, block] = got;
                    let (grid, block) = (grid.expect("grid"), block.expect("block"));
                    assert_eq!(
                        atlas.feature(block).parent.as_deref(),
                        Some(atlas.feature(grid).code.as_str()),
                        "({x}, {y})"
                    );
                    // North-east ownership: the owner contains points just north-east.
                    let ne = atlas.locate(x + 1e-9, y + 1e-9);
                    assert_eq!(got, ne, "({x}, {y})");
                }
            }
        }
    }
}

/// A polygon of 70,000 vertices inside one huge cell (the raster keeps a one-cell margin, so the
/// 2 km polygon lies in the cell after it): over 65,535 stored vertices in one cell (the long form
/// of a cell's counts) and edges too many to chain.
#[test]
fn a_cell_with_tens_of_thousands_of_edges_agrees_with_brute_force() {
    let n = 70_000;
    let (cx, cy, r) = (121.2, 30.8, 0.01);
    let mut ring: Vec<geo::Coord<f64>> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            // A wavy circle: the boundary crosses every horizontal line many times near the top.
            let rr = r * (1.0 + 0.1 * (t * 97.0).sin());
            geo::Coord {
                x: cx + rr * t.cos(),
                y: cy + rr * t.sin(),
            }
        })
        .collect();
    ring.push(ring[0]);
    let area = geo::MultiPolygon(vec![geo::Polygon::new(geo::LineString(ring), vec![])]);
    let set = FeatureSet::new(
        vec![support::feature(
            Layer::District,
            "D",
            None,
            gridatlas::model::Geometry::Area(area),
        )],
        vec![],
    )
    .expect("unique codes");
    let atlas = Atlas::build_with(
        set,
        AtlasOptions {
            cell_m: Some(50_000.0),
            ..Default::default()
        },
    );
    let steps = 20;
    for i in 0..=steps {
        for j in 0..=steps {
            let x = cx + r * 1.2 * (2.0 * i as f64 / steps as f64 - 1.0);
            let y = cy + r * 1.2 * (2.0 * j as f64 / steps as f64 - 1.0);
            assert_eq!(
                atlas.locate(x, y),
                brute_force_locate(atlas.features(), x, y),
                "({x}, {y})"
            );
        }
    }
}

/// The atlas of `set` with the default raster cell, 40 m cells and cells larger than the
/// district (one mixed cell), each with its cell size.
fn at_every_cell_size(set: &FeatureSet) -> impl Iterator<Item = (Option<f64>, Atlas)> + '_ {
    [None, Some(40.0), Some(3000.0)].into_iter().map(|cell| {
        let atlas = Atlas::build_with(
            set.clone(),
            AtlasOptions {
                cell_m: cell,
                ..Default::default()
            },
        );
        (cell, atlas)
    })
}
