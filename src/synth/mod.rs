//! `gridatlas synth`: a deterministic demo district on real division names and codes.
//!
//! The demo is 金山区 (310116) with its 11 real streets and 244 real committees
//! (fixtures/jinshan-divisions.json, NBS 2023 codes), placed where the district really is, each
//! street around its real town centre. Above scale 1 the territory grows by √scale about its
//! centre and generated streets and committees (well-formed codes) fill it.
//!
//! Pipeline:
//! 1. [`layout`]: a fine hexagonal mesh (60 m cells, perturbed and rounded vertices) and the
//!    assignment of every cell to a street, a grid and a block, by region growing;
//! 2. [`defects`] (dirty mode): cell-level defects edit the labels;
//! 3. [`boundary`]: boundary chains between different label tuples, simplified once with a
//!    planarity-preserving rule, assembled into the rings of every area of every layer — so
//!    shared edges have identical coordinates on both sides and the layers tile exactly;
//! 4. (dirty mode) slivers and bow-ties edit block polygons;
//! 5. features with names, people and attributes, and management units.
//!
//! [`patrols`] adds a deterministic day of the field force on a district: roster, duty, check-ins,
//! GPS tracks and the ground truth planted in them.
//!
//! # Codes
//!
//! | what | code |
//! |---|---|
//! | district | 6-digit statistical code, `310116` |
//! | street | 9-digit statistical code; generated ones `310116` + 0xx subdistrict / 1xx town / 4xx–5xx zone |
//! | resident grid | its committee's 12-digit code; generated ones street + 001–199 residents / 200–399 villagers |
//! | street grid | street code + `S` + 2-digit sequence, e.g. `310116101S01` |
//! | extended grid | street code + `E` + 2-digit sequence, e.g. `310116101E03` |
//! | block | grid code + `B` + 2-digit sequence, e.g. `310116101001B07`, `310116101S01B02` |
//! | road segment | block code + `R` + 2-digit sequence, e.g. `310116101S01B02R01` |
//! | management unit | street code + `C` (城管) or `M` (市场监管) + 2-digit sequence |

pub mod assets;
pub mod boundary;
pub mod defects;
pub mod divisions;
pub mod layout;
pub mod mesh;
pub mod partition;
pub mod patrols;
pub mod survey;

use crate::model::{
    Feature, FeatureSet, Geometry, Kind, Layer, ManagementUnit, ManagementUnitKind, Person, Role,
};
use geo::{Coord, LineString, MultiLineString, MultiPolygon};
use layout::Layout;
use partition::NONE;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Largest supported scale (street codes of one district run out beyond it).
pub const MAX_SCALE: f64 = 30.0;

/// Largest distance, in metres, between a mesh vertex dropped by simplification and the boundary
/// that replaces it.
pub const SIMPLIFY_M: f64 = 34.0;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Random seed; the same seed and scale give byte-identical output.
    pub seed: u64,
    /// 1 = the real district (≈5,000 blocks); 20 ≈ a whole city (≈100,000 blocks).
    pub scale: f64,
    /// Number of each kind of defect to inject (0 = clean coverage).
    pub dirty: usize,
}

impl Default for SynthOptions {
    fn default() -> Self {
        SynthOptions {
            seed: 1,
            scale: 1.0,
            dirty: 0,
        }
    }
}

/// Kinds of injected defect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectKind {
    /// Part of a parent covered by none of its children.
    Gap,
    /// Two siblings overlapping.
    Overlap,
    /// A thin gap or overlap (drawing noise).
    Sliver,
    /// A block sticking out of its grid.
    BlockOutsideGrid,
    /// A self-intersecting ring.
    SelfIntersection,
}

/// One injected defect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Defect {
    /// Kind.
    pub kind: DefectKind,
    /// Codes of the features involved.
    pub codes: Vec<String>,
    /// A point inside the defect, `[lon, lat]`.
    pub point: [f64; 2],
}

/// Ground truth of a dirty synthesis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Every injected defect.
    pub defects: Vec<Defect>,
}

/// Generates a district.
///
/// # Panics
///
/// When the options are out of range (scale not in 1..=30); [`try_synth`] returns an error
/// instead.
pub fn synth(opts: &SynthOptions) -> (FeatureSet, Truth) {
    match try_synth(opts) {
        Ok(x) => x,
        Err(e) => panic!("synth: {e:#}"),
    }
}

/// Prints the time since `t` for a phase when `GRIDATLAS_SYNTH_TIMING` is set (profiling aid).
pub(crate) fn phase(name: &str, t: &mut std::time::Instant) {
    if std::env::var_os("GRIDATLAS_SYNTH_TIMING").is_some() {
        eprintln!("synth: {name}: {:.2} s", t.elapsed().as_secs_f64());
    }
    *t = std::time::Instant::now();
}

fn sub_rng(seed: u64, stage: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mesh::mix(seed ^ mesh::mix(stage)))
}

/// Generates a district, or says why the options cannot be honoured.
pub fn try_synth(opts: &SynthOptions) -> anyhow::Result<(FeatureSet, Truth)> {
    anyhow::ensure!(
        opts.scale.is_finite() && (1.0..=MAX_SCALE).contains(&opts.scale),
        "scale must be between 1 and {MAX_SCALE}, got {}",
        opts.scale
    );
    let mut t = std::time::Instant::now();
    let mut rng = sub_rng(opts.seed, 1);
    let mut lay = Layout::build(opts.seed, opts.scale, &mut rng)?;
    phase("layout", &mut t);
    let inside: Vec<u32> = (0..lay.mesh.len() as u32)
        .filter(|&c| lay.street[c as usize] != NONE)
        .collect();

    // Dirty mode, part 1: label edits.
    let mut used = defects::Used::default();
    let mut truth = Truth::default();
    if opts.dirty > 0 {
        let mut drng = sub_rng(opts.seed, 2);
        truth.defects = defects::inject_cells(&mut lay, &inside, opts.dirty, &mut drng, &mut used);
    }

    // Boundaries.
    let mut protected: Vec<Coord<f64>> = lay
        .paths
        .iter()
        .flat_map(|p| p.cells.iter().map(|&c| lay.mesh.centre_lonlat(c as usize)))
        .collect();
    protected.extend(truth.defects.iter().map(|d| Coord {
        x: d.point[0],
        y: d.point[1],
    }));
    let mut arr = boundary::arrangement(&lay);
    phase("arrangement", &mut t);
    let mpd = (lay.mesh.frame.m_per_deg_lon, lay.mesh.frame.m_per_deg_lat);
    boundary::simplify(&mut arr, &protected, SIMPLIFY_M, mpd);
    phase("simplify", &mut t);
    let district = boundary::polygons(&arr, 1, &|a| [if a[0] != NONE { 0 } else { NONE }, NONE]);
    let streets = boundary::polygons(&arr, lay.div.streets.len(), &|a| [a[0], NONE]);
    let grids = boundary::polygons(&arr, lay.grids.len(), &|a| [a[1], NONE]);
    let mut blocks = boundary::polygons(&arr, lay.blocks.len(), &|a| [a[2], a[3]]);

    phase("polygons", &mut t);

    // Dirty mode, part 2: geometry edits.
    if opts.dirty > 0 {
        let mut drng = sub_rng(opts.seed, 3);
        let more = defects::inject_geometry(
            &lay,
            &arr,
            &mut blocks,
            &grids,
            opts.dirty,
            mpd,
            &mut drng,
            &mut used,
        );
        truth.defects.extend(more);
        let rank = |k: DefectKind| k as u8;
        truth.defects.sort_by_key(|d| rank(d.kind));
    }

    let set = features(&lay, district, streets, grids, blocks, opts.seed)?;
    phase("features", &mut t);
    Ok((set, truth))
}

fn person(rng: &mut ChaCha8Rng, role: Role, photo: String) -> Person {
    Person {
        role,
        name: divisions::person_name(rng),
        phone: Some(divisions::phone(rng)),
        photo_url: Some(format!("/avatars/{photo}.svg")),
        staff_id: None,
    }
}

fn area_feature(
    layer: Layer,
    code: String,
    name: String,
    parent: Option<String>,
    kind: Option<Kind>,
    mp: MultiPolygon<f64>,
) -> Feature {
    Feature {
        layer,
        code,
        name,
        parent,
        kind,
        people: Vec::new(),
        attributes: Map::new(),
        geometry: Geometry::Area(mp),
    }
}

fn features(
    lay: &Layout,
    mut district: Vec<MultiPolygon<f64>>,
    streets: Vec<MultiPolygon<f64>>,
    grids: Vec<MultiPolygon<f64>>,
    blocks: Vec<MultiPolygon<f64>>,
    seed: u64,
) -> anyhow::Result<FeatureSet> {
    let mut rng = sub_rng(seed, 4);
    let mut out = Vec::new();
    let dcode = lay.div.code.clone();
    out.push(area_feature(
        Layer::District,
        dcode.clone(),
        lay.div.name.clone(),
        None,
        None,
        district.pop().unwrap_or_else(|| MultiPolygon(Vec::new())),
    ));
    let mut sorder: Vec<usize> = (0..lay.div.streets.len()).collect();
    sorder.sort_by(|&a, &b| lay.div.streets[a].code.cmp(&lay.div.streets[b].code));
    for (s, mp) in streets.into_iter().enumerate() {
        let st = &lay.div.streets[s];
        let mut f = area_feature(
            Layer::Street,
            st.code.clone(),
            st.name.clone(),
            Some(dcode.clone()),
            Some(st.kind),
            mp,
        );
        if let Some(c) = st.centre {
            f.attributes.insert("centre".into(), json!(c));
        }
        if st.generated {
            f.attributes.insert("generated".into(), json!(true));
        }
        out.push(f);
    }
    let mut gorder: Vec<usize> = (0..lay.grids.len())
        .filter(|&g| lay.grids[g].alive)
        .collect();
    gorder.sort_by(|&a, &b| {
        let (x, y) = (&lay.grids[a], &lay.grids[b]);
        (x.layer, &x.code).cmp(&(y.layer, &y.code))
    });
    let mut grid_mp: Vec<Option<MultiPolygon<f64>>> = grids.into_iter().map(Some).collect();
    for &g in &gorder {
        let info = &lay.grids[g];
        let st = &lay.div.streets[info.street as usize];
        let mp = grid_mp[g]
            .take()
            .unwrap_or_else(|| MultiPolygon(Vec::new()));
        let name = match info.layer {
            Layer::ResidentGrid => info
                .name
                .strip_suffix("会")
                .map(|b| format!("{b}网格"))
                .unwrap_or_else(|| info.name.clone()),
            _ => info.name.clone(),
        };
        let mut f = area_feature(
            info.layer,
            info.code.clone(),
            name,
            Some(st.code.clone()),
            info.kind,
            mp,
        );
        match info.layer {
            Layer::ResidentGrid => {
                f.attributes.insert("committee".into(), json!(info.name));
                f.people.push(person(
                    &mut rng,
                    Role::StationHead,
                    format!("{}-1", info.code),
                ));
                let deputies = rng.random_range(1..=3);
                for i in 0..deputies {
                    f.people.push(person(
                        &mut rng,
                        Role::DeputyHead,
                        format!("{}-{}", info.code, i + 2),
                    ));
                }
                f.people.push(person(
                    &mut rng,
                    Role::EnforcementOfficer,
                    format!("{}-{}", info.code, deputies + 2),
                ));
            }
            Layer::StreetGrid => {
                f.attributes.insert(
                    "police_station".into(),
                    json!(format!("{}派出所", st.short())),
                );
                if let Some(r) = info.road {
                    f.attributes
                        .insert("road".into(), json!(lay.roads[r as usize].name));
                }
                f.people.push(person(
                    &mut rng,
                    Role::EnforcementOfficer,
                    format!("{}-1", info.code),
                ));
                f.people.push(person(
                    &mut rng,
                    Role::Assistant,
                    format!("{}-2", info.code),
                ));
            }
            _ => {
                f.people.push(person(
                    &mut rng,
                    Role::EnforcementOfficer,
                    format!("{}-1", info.code),
                ));
                f.people.push(person(
                    &mut rng,
                    Role::Assistant,
                    format!("{}-2", info.code),
                ));
            }
        }
        out.push(f);
    }
    let road_lines: Vec<Vec<Coord<f64>>> = lay
        .paths
        .iter()
        .map(|p| {
            let pts: Vec<Coord<f64>> = p
                .cells
                .iter()
                .map(|&c| lay.mesh.centre_lonlat(c as usize))
                .collect();
            straighten(&pts, &blocks[p.block as usize])
        })
        .collect();
    let mut border: Vec<Option<MultiPolygon<f64>>> = blocks.into_iter().map(Some).collect();
    let mut blocks_of_grid: Vec<Vec<usize>> = vec![Vec::new(); lay.grids.len()];
    for (b, info) in lay.blocks.iter().enumerate() {
        blocks_of_grid[info.grid as usize].push(b);
    }
    for &g in &gorder {
        for &b in &blocks_of_grid[g] {
            let info = &lay.blocks[b];
            let mp = border[b].take().unwrap_or_else(|| MultiPolygon(Vec::new()));
            if mp.0.is_empty() {
                continue;
            }
            let gi = &lay.grids[g];
            let seq = info
                .code
                .rsplit('B')
                .next()
                .unwrap_or("")
                .trim_start_matches('0');
            let mut f = area_feature(
                Layer::Block,
                info.code.clone(),
                format!("{}第{}责任块", gi.name.trim_end_matches("会"), seq),
                Some(gi.code.clone()),
                None,
                mp,
            );
            f.people
                .push(person(&mut rng, Role::BlockHead, info.code.clone()));
            out.push(f);
        }
    }
    let mut seg_no: BTreeMap<u32, u32> = BTreeMap::new();
    for (pi, p) in lay.paths.iter().enumerate() {
        let info = &lay.blocks[p.block as usize];
        let n = seg_no.entry(p.block).or_default();
        *n += 1;
        let line = road_lines[pi].clone();
        let road = &lay.roads[p.road as usize].name;
        let mut f = Feature {
            layer: Layer::RoadSegment,
            code: format!("{}R{:02}", info.code, n),
            name: format!("{road}责任路段{}", n),
            parent: Some(info.code.clone()),
            kind: None,
            people: vec![person(
                &mut rng,
                Role::BlockHead,
                format!("{}R{:02}", info.code, n),
            )],
            attributes: Map::new(),
            geometry: Geometry::Line(MultiLineString(vec![LineString(line)])),
        };
        f.attributes
            .insert("road".into(), Value::String(road.clone()));
        out.push(f);
    }
    let units = management_units(lay, &mut rng);
    FeatureSet::new(out, units).map_err(|f| anyhow::anyhow!("duplicate code {}", f.code))
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    robust::orient2d(
        robust::Coord { x: a.x, y: a.y },
        robust::Coord { x: b.x, y: b.y },
        robust::Coord { x: c.x, y: c.y },
    )
}

/// Whether the closed segments `a b` and `c d` have a point in common.
fn segments_touch(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let (d1, d2, d3, d4) = (
        orient(a, b, c),
        orient(a, b, d),
        orient(c, d, a),
        orient(c, d, b),
    );
    if d1 * d2 < 0.0 && d3 * d4 < 0.0 {
        return true;
    }
    let on = |p: Coord<f64>, q: Coord<f64>, r: Coord<f64>| {
        orient(p, q, r) == 0.0
            && r.x >= p.x.min(q.x)
            && r.x <= p.x.max(q.x)
            && r.y >= p.y.min(q.y)
            && r.y <= p.y.max(q.y)
    };
    on(a, b, c) || on(a, b, d) || on(c, d, a) || on(c, d, b)
}

/// Drops vertices of a road path (cell centres strictly inside `area`) while the shortcut touches
/// no ring of `area`: the line stays inside, with its end points unchanged.
fn straighten(pts: &[Coord<f64>], area: &MultiPolygon<f64>) -> Vec<Coord<f64>> {
    let clear = |a: Coord<f64>, b: Coord<f64>| {
        area.0.iter().all(|p| {
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .all(|r| r.0.windows(2).all(|e| !segments_touch(a, b, e[0], e[1])))
        })
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < pts.len() {
        out.push(pts[i]);
        let mut j = i + 1;
        while j + 1 < pts.len() && clear(pts[i], pts[j + 1]) {
            j += 1;
        }
        i = j;
    }
    out
}

/// 城管 units of 3–6 neighbouring resident/street grids, and one market-supervision unit per
/// street over its street and extended grids.
fn management_units(lay: &Layout, rng: &mut ChaCha8Rng) -> Vec<ManagementUnit> {
    let mesh = &lay.mesh;
    let mut adj: BTreeSet<(u32, u32)> = BTreeSet::new();
    for c in 0..mesh.len() {
        let g = lay.grid[c];
        if g == NONE {
            continue;
        }
        for nb in mesh.neighbours(c).into_iter().take(3).flatten() {
            let h = lay.grid[nb];
            if h != NONE && h != g && lay.grids[h as usize].street == lay.grids[g as usize].street {
                adj.insert((g.min(h), g.max(h)));
                adj.insert((g.max(h), g.min(h)));
            }
        }
    }
    let mut units = Vec::new();
    for (s, st) in lay.div.streets.iter().enumerate() {
        let mut gs: Vec<u32> = (0..lay.grids.len() as u32)
            .filter(|&g| {
                let i = &lay.grids[g as usize];
                i.alive
                    && i.street == s as u32
                    && matches!(i.layer, Layer::ResidentGrid | Layer::StreetGrid)
            })
            .collect();
        gs.sort_by(|&a, &b| lay.grids[a as usize].code.cmp(&lay.grids[b as usize].code));
        let mut taken: BTreeSet<u32> = BTreeSet::new();
        let mut groups: Vec<Vec<u32>> = Vec::new();
        for &g in &gs {
            if taken.contains(&g) {
                continue;
            }
            let want = rng.random_range(3..=6usize);
            let mut members = vec![g];
            taken.insert(g);
            let mut i = 0;
            while members.len() < want && i < members.len() {
                let m = members[i];
                for &(_, h) in adj.range((m, 0)..=(m, u32::MAX)) {
                    if members.len() < want && !taken.contains(&h) && gs.contains(&h) {
                        taken.insert(h);
                        members.push(h);
                    }
                }
                i += 1;
            }
            groups.push(members);
        }
        // Groups left with fewer than 3 grids join the smallest neighbouring group.
        let mut done: Vec<Vec<u32>> = Vec::new();
        while let Some(small) = groups.iter().position(|m| m.len() < 3) {
            let target = (0..groups.len())
                .filter(|&o| {
                    o != small
                        && groups[small]
                            .iter()
                            .any(|&a| groups[o].iter().any(|&b| adj.contains(&(a, b))))
                })
                .min_by_key(|&o| (groups[o].len(), o));
            match target {
                Some(o) => {
                    let moved = std::mem::take(&mut groups[small]);
                    groups[o].extend(moved);
                    groups.remove(small);
                }
                None => {
                    // Isolated: keep it as it is.
                    let g = groups.remove(small);
                    done.push(g);
                }
            }
        }
        done.extend(groups);
        done.sort_by_key(|m| lay.grids[m[0] as usize].code.clone());
        for (n, members) in done.into_iter().enumerate() {
            let code = format!("{}C{:02}", st.code, n + 1);
            units.push(ManagementUnit {
                code: code.clone(),
                name: format!("{}城管第{}管理单元", st.short(), n + 1),
                kind: ManagementUnitKind::CityManagement,
                grids: members
                    .iter()
                    .map(|&m| lay.grids[m as usize].code.clone())
                    .collect(),
                people: (0..2)
                    .map(|i| person(rng, Role::EnforcementOfficer, format!("{code}-{}", i + 1)))
                    .collect(),
            });
        }
        let mut market: Vec<String> = (0..lay.grids.len())
            .filter(|&g| {
                let i = &lay.grids[g];
                i.alive
                    && i.street == s as u32
                    && matches!(i.layer, Layer::StreetGrid | Layer::ExtendedGrid)
            })
            .map(|g| lay.grids[g].code.clone())
            .collect();
        market.sort();
        if !market.is_empty() {
            let code = format!("{}M01", st.code);
            units.push(ManagementUnit {
                code: code.clone(),
                name: format!("{}市场监管管理单元", st.short()),
                kind: ManagementUnitKind::MarketSupervision,
                grids: market,
                people: vec![person(rng, Role::EnforcementOfficer, format!("{code}-1"))],
            });
        }
    }
    units
}
