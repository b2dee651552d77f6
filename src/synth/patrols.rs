//! A deterministic day of the field force for a district ([`patrol_day`]): the roster, the duty
//! roster, check-ins and check-outs, GPS tracks, and the ground truth of what was planted in
//! them (who came late, left early, stayed away, never entered the assigned grid; which road
//! segments nobody walked).
//!
//! # Who
//!
//! | who | 工号 | team, shift | organisation | areas |
//! |---|---|---|---|---|
//! | the street grid's enforcement officer and assistant (the people on the feature) | `G` + grid code + `-01`, `-02` | `patrol`, `day` | 城管中队 of the street | the grid |
//! | a night pair in one street grid per street (generated names) | `G` + grid code + `-03`, `-04` | `patrol`, `night` | 城管中队 of the street | the grid |
//! | one grid worker (网格员, role `assistant`) per resident grid (generated name) | `G` + grid code + `-01` | `grid`, `day` | the grid's committee | the grid |
//!
//! Ids depend only on the codes; names and phones of generated people on the seed and the id.
//! People whose team has no such shift template in the settings are on the roster without duty.
//!
//! # How they move
//!
//! Everyone on duty walks at 1–1.5 m/s from check-in (or the shift's start) to check-out: a
//! patroller along the road segments of the grid, end to end, then on to a nearby segment (or
//! back along the same one), now and then through a block of the grid; a grid worker from block
//! to block of the resident grid, starting at the grid's workstation. A fix every 10 s (± under a
//! second) with GPS noise (a drift of ≈4 m plus 5–15 m, `accuracy_m` 5–15 reported). Meal breaks
//! pause the tracker: one of 60–90 min near the first third of a shift of 6–10 hours, two (40–70
//! and 30–45 min) in a longer one. A few gaps (phone in a pocket, 2–5 min without fixes), one far
//! outlier (2 km away, good accuracy) for about one person in twenty, and for about one in ten 1–3
//! fixes with `accuracy_m` 150 (and 50–100 m off).
//!
//! # What is planted ([`PatrolTruth`])
//!
//! - road segments nobody walks: one in about one street grid in twelve (at least three), chosen
//!   among segments at least 50 m from any other segment; no fix lies within 32 m of them;
//! - one day patroller walks a neighbouring street grid only: no fix inside (or within 20 m of)
//!   the assigned grid, check-in and check-out at least 50 m outside it;
//! - about 3 % of the people (at least two) check in 10–40 min late;
//! - one person checks out 1–3 hours early; one is absent (duty but no check-in and no fixes);
//! - everyone else checks in 1–20 min before the start and out between 3 min before the end
//!   and 10 min after it (when reaching the next waypoint of the walk).
//!
//! Workstations (工作站) of resident grids are returned in [`PatrolDay::workstations`] (a point
//! inside a block of the grid and a generated address): adding them to the synthesised features
//! would change the committed demo district.

use super::divisions;
use super::mesh::mix;
use crate::field::Fix;
use crate::field::duty::{DutyEntry, FieldSettings, Punch, ShiftTemplate};
use crate::field::roster::{OrgKind, Staff};
use crate::geometry::measure::{LocalFrame, point_segment_distance};
use crate::geometry::pip;
use crate::model::{Feature, FeatureSet, Layer, Role};
use chrono::{DateTime, NaiveDate, Utc};
use geo::{Coord, InteriorPoint, MultiPolygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

/// Seconds between fixes.
pub const FIX_EVERY_S: i64 = 10;
/// No fix lies within this many metres of an unwalked road segment.
pub const UNWALKED_CLEAR_M: f64 = 32.0;
/// No fix of the person who never enters the grid lies within this many metres of it.
pub const ASTRAY_CLEAR_M: f64 = 20.0;

/// One check-in or check-out as a phone would send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthCheckIn {
    /// 工号.
    pub staff: String,
    /// When.
    pub t: DateTime<Utc>,
    /// In or out.
    pub punch: Punch,
    /// Longitude, WGS84.
    pub lon: f64,
    /// Latitude, WGS84.
    pub lat: f64,
    /// Reported accuracy, metres.
    pub accuracy_m: f64,
}

/// One person's fixes of the day, by time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// 工号.
    pub staff: String,
    /// Fixes, strictly increasing in time.
    pub fixes: Vec<Fix>,
}

/// A resident grid's workstation (工作站).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workstation {
    /// The grid's code.
    pub grid: String,
    /// Name, e.g. 三村网格工作站.
    pub name: String,
    /// Longitude, WGS84.
    pub lon: f64,
    /// Latitude, WGS84.
    pub lat: f64,
    /// Postal address (generated).
    pub address: String,
}

/// The person who never enters the assigned grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Astray {
    /// 工号.
    pub staff: String,
    /// The assigned grid.
    pub grid: String,
    /// The neighbouring grid walked instead.
    pub walked_grid: String,
}

/// A late check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Late {
    /// 工号.
    pub staff: String,
    /// Minutes after the shift's start.
    pub minutes: i64,
}

/// An early check-out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyLeave {
    /// 工号.
    pub staff: String,
    /// Minutes before the shift's end (whole minutes, rounded down).
    pub minutes: i64,
}

/// A punch outside the assigned grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutsidePunch {
    /// 工号.
    pub staff: String,
    /// In or out.
    pub punch: Punch,
    /// Distance from the assigned grid, metres (of the reported point).
    pub distance_m: f64,
}

/// A planted fix: a far outlier or one with a bad accuracy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlantedFix {
    /// 工号.
    pub staff: String,
    /// Its time, milliseconds since the epoch.
    pub t_ms: i64,
}

/// A stretch without fixes while walking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// 工号.
    pub staff: String,
    /// From (milliseconds since the epoch) …
    pub from_ms: i64,
    /// … to.
    pub to_ms: i64,
}

/// What was planted in the day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatrolTruth {
    /// The person who walks a neighbouring grid instead of the assigned one.
    pub never_in_grid: Option<Astray>,
    /// Late check-ins.
    pub late: Vec<Late>,
    /// Early check-outs.
    pub early_leave: Vec<EarlyLeave>,
    /// On duty, but no check-in and no fixes.
    pub absent: Vec<String>,
    /// Punches more than the check-in rules' `near_m` outside the assigned grid.
    pub outside: Vec<OutsidePunch>,
    /// Road segments nobody walks, by code.
    pub unwalked_segments: Vec<String>,
    /// Fixes 2 km off (with a good accuracy).
    pub far_outliers: Vec<PlantedFix>,
    /// Fixes reporting `accuracy_m` 150.
    pub inaccurate: Vec<PlantedFix>,
    /// Gaps (phone in a pocket); meal breaks are not listed.
    pub gaps: Vec<Gap>,
}

/// A day of the field force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatrolDay {
    /// The date (local) of the day's shifts.
    pub date: NaiveDate,
    /// The roster, by 工号.
    pub staff: Vec<Staff>,
    /// Who is on which shift, by 工号.
    pub duty: Vec<DutyEntry>,
    /// Each present person's fixes, by 工号.
    pub tracks: Vec<Track>,
    /// Check-ins and check-outs, by time.
    pub checkins: Vec<SynthCheckIn>,
    /// Resident grids' workstations, by grid code.
    pub workstations: Vec<Workstation>,
    /// What was planted.
    pub truth: PatrolTruth,
}

impl PatrolDay {
    /// Number of fixes.
    pub fn fix_count(&self) -> usize {
        self.tracks.iter().map(|t| t.fixes.len()).sum()
    }
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A random stream for `key` (an id or code) and `stream`.
fn rng_for(seed: u64, key: &str, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(seed ^ mix(fnv(key) ^ mix(stream))))
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn dist(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// A block a walker may cross: its area, bounding box and a point surely inside.
struct Block<'a> {
    code: &'a str,
    area: &'a MultiPolygon<f64>,
    bbox: [f64; 4],
    inner: Coord<f64>,
}

impl Block<'_> {
    /// A random point inside (rejection in the bounding box; the inner point after 20 misses).
    fn random_point(&self, rng: &mut ChaCha8Rng) -> Coord<f64> {
        for _ in 0..20 {
            let x = rng.random_range(self.bbox[0]..=self.bbox[2]);
            let y = rng.random_range(self.bbox[1]..=self.bbox[3]);
            if pip::contains(self.area, x, y) {
                return Coord { x, y };
            }
        }
        self.inner
    }
}

fn bbox_of<'a>(pts: impl Iterator<Item = &'a Coord<f64>>) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for c in pts {
        b[0] = b[0].min(c.x);
        b[1] = b[1].min(c.y);
        b[2] = b[2].max(c.x);
        b[3] = b[3].max(c.y);
    }
    b
}

fn area_points(a: &MultiPolygon<f64>) -> impl Iterator<Item = &Coord<f64>> {
    a.0.iter().flat_map(|p| p.exterior().0.iter())
}

/// A road segment.
struct Seg<'a> {
    code: &'a str,
    grid: usize,
    block: &'a str,
    pts: Vec<Coord<f64>>,
    bbox: [f64; 4],
}

/// A staffed grid.
struct Grid<'a> {
    f: &'a Feature,
    area: &'a MultiPolygon<f64>,
    frame: LocalFrame,
    blocks: Vec<Block<'a>>,
    /// Per block: the neighbouring blocks and a vertex shared with each, off the grid's
    /// boundary.
    adj: Vec<Vec<(usize, Coord<f64>)>>,
    segs: Vec<usize>,
}

impl Grid<'_> {
    /// Distance in metres from a lon/lat point to the grid (0 inside).
    fn distance_m(&self, p: Coord<f64>) -> f64 {
        if pip::contains(self.area, p.x, p.y) {
            return 0.0;
        }
        let q = self.frame.to_xy(p);
        let mut best = f64::INFINITY;
        for poly in &self.area.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for w in ring.0.windows(2) {
                    let d =
                        point_segment_distance(q, self.frame.to_xy(w[0]), self.frame.to_xy(w[1]));
                    best = best.min(d);
                }
            }
        }
        best
    }
}

fn vertex_key(c: &Coord<f64>) -> (i64, i64) {
    ((c.x * 1e7).round() as i64, (c.y * 1e7).round() as i64)
}

/// The neighbours of each block of `g`: blocks sharing a vertex with it that is not on the
/// grid's boundary, with the middle one of those shared vertices.
fn adjacency(g: &Grid) -> Vec<Vec<(usize, Coord<f64>)>> {
    let boundary: HashSet<(i64, i64)> = area_points(g.area).map(vertex_key).collect();
    let mut owners: BTreeMap<(i64, i64), (Coord<f64>, Vec<usize>)> = BTreeMap::new();
    for (b, block) in g.blocks.iter().enumerate() {
        for c in area_points(block.area) {
            let k = vertex_key(c);
            if boundary.contains(&k) {
                continue;
            }
            let e = owners.entry(k).or_insert_with(|| (*c, Vec::new()));
            if !e.1.contains(&b) {
                e.1.push(b);
            }
        }
    }
    let mut shared: BTreeMap<(usize, usize), Vec<Coord<f64>>> = BTreeMap::new();
    for (c, bs) in owners.values() {
        for &a in bs {
            for &b in bs {
                if a != b {
                    shared.entry((a, b)).or_default().push(*c);
                }
            }
        }
    }
    let mut out = vec![Vec::new(); g.blocks.len()];
    for ((a, b), vs) in shared {
        out[a].push((b, vs[vs.len() / 2]));
    }
    out
}

/// Where a person walks: segments and blocks of one grid, in that grid's metric frame.
struct Route {
    frame: LocalFrame,
    segs: Vec<Vec<Coord<f64>>>,
    blocks: Vec<usize>,
    detour_p: f64,
}

/// A walker: position and the waypoints ahead, in the route's frame.
struct Walker {
    pos: Coord<f64>,
    queue: VecDeque<Coord<f64>>,
    /// The block a walker from block to block is in.
    block: Option<usize>,
}

impl Walker {
    fn plan(&mut self, route: &Route, grid: &Grid, rng: &mut ChaCha8Rng) {
        if let (true, Some(b)) = (route.segs.is_empty(), self.block) {
            // From block to block through a vertex they share (or about the same block).
            let next = &grid.adj[b];
            if next.is_empty() || rng.random::<f64>() < 0.2 {
                self.queue
                    .push_back(route.frame.to_xy(grid.blocks[b].random_point(rng)));
            } else {
                let (n, v) = next[rng.random_range(0..next.len())];
                self.queue.push_back(route.frame.to_xy(v));
                self.queue
                    .push_back(route.frame.to_xy(grid.blocks[n].random_point(rng)));
                self.block = Some(n);
            }
            return;
        }
        let detour = !route.blocks.is_empty()
            && (route.segs.is_empty() || rng.random::<f64>() < route.detour_p);
        if detour {
            let mut best: Option<Coord<f64>> = None;
            for _ in 0..2 {
                let b = &grid.blocks[route.blocks[rng.random_range(0..route.blocks.len())]];
                let p = route.frame.to_xy(b.random_point(rng));
                if best.is_none_or(|q| dist(p, self.pos) < dist(q, self.pos)) {
                    best = Some(p);
                }
            }
            if let Some(p) = best {
                self.queue.push_back(p);
            }
            return;
        }
        if route.segs.is_empty() {
            // Nothing to walk: a few steps about.
            let a = rng.random::<f64>() * std::f64::consts::TAU;
            self.queue.push_back(Coord {
                x: self.pos.x + 30.0 * a.cos(),
                y: self.pos.y + 30.0 * a.sin(),
            });
            return;
        }
        let near = |s: &Vec<Coord<f64>>, p: Coord<f64>| {
            let (a, b) = (s[0], s[s.len() - 1]);
            dist(a, p).min(dist(b, p))
        };
        // The nearest of three random segments; the one just walked only now and then.
        let score = |i: usize, turn: bool| {
            let d = near(&route.segs[i], self.pos);
            if d < 1e-6 && route.segs.len() > 1 && !turn {
                d + 200.0
            } else {
                d
            }
        };
        let turn = rng.random::<f64>() < 0.15;
        let mut pick = rng.random_range(0..route.segs.len());
        for _ in 0..2 {
            let c = rng.random_range(0..route.segs.len());
            if score(c, turn) < score(pick, turn) {
                pick = c;
            }
        }
        let s = &route.segs[pick];
        let forward = dist(s[0], self.pos) <= dist(s[s.len() - 1], self.pos);
        if forward {
            self.queue.extend(s.iter().copied());
        } else {
            self.queue.extend(s.iter().rev().copied());
        }
    }

    /// Moves `d` metres along the waypoints; the last waypoint passed, if any.
    fn advance(
        &mut self,
        mut d: f64,
        route: &Route,
        grid: &Grid,
        rng: &mut ChaCha8Rng,
    ) -> Option<Coord<f64>> {
        let mut plans = 0;
        let mut passed = None;
        while d > 0.0 {
            let Some(&next) = self.queue.front() else {
                plans += 1;
                if plans > 64 {
                    break;
                }
                self.plan(route, grid, rng);
                continue;
            };
            let l = dist(self.pos, next);
            if l <= d {
                self.pos = next;
                self.queue.pop_front();
                passed = Some(next);
                d -= l;
            } else {
                self.pos.x += (next.x - self.pos.x) * d / l;
                self.pos.y += (next.y - self.pos.y) * d / l;
                break;
            }
        }
        passed
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Team {
    Patrol,
    Grid,
}

/// A person as planned, before walking.
struct Plan<'s> {
    staff: Staff,
    grid: usize,
    shift: Option<&'s ShiftTemplate>,
}

/// The day of the field force of `set` on `date` (local, in the settings' offset) under
/// `settings`' shift templates; the same inputs give the same day. See the module's doc.
pub fn patrol_day(
    set: &FeatureSet,
    settings: &FieldSettings,
    date: NaiveDate,
    seed: u64,
) -> PatrolDay {
    let mut clock = std::time::Instant::now();
    // Grids, their blocks and road segments.
    let mut grids: Vec<Grid> = Vec::new();
    let mut grid_ix: BTreeMap<&str, usize> = BTreeMap::new();
    for f in set.features() {
        if !matches!(f.layer, Layer::ResidentGrid | Layer::StreetGrid) {
            continue;
        }
        let Some(area) = f.geometry.as_area() else {
            continue;
        };
        let Some(origin) = area_points(area).next() else {
            continue;
        };
        grid_ix.insert(f.code.as_str(), grids.len());
        grids.push(Grid {
            f,
            area,
            frame: LocalFrame::new(origin.x, origin.y),
            blocks: Vec::new(),
            adj: Vec::new(),
            segs: Vec::new(),
        });
    }
    let mut block_grid: BTreeMap<&str, usize> = BTreeMap::new();
    for f in set.layer(Layer::Block) {
        let (Some(area), Some(&g)) = (
            f.geometry.as_area(),
            f.parent.as_deref().and_then(|p| grid_ix.get(p)),
        ) else {
            continue;
        };
        let Some(inner) = area.interior_point() else {
            continue;
        };
        block_grid.insert(f.code.as_str(), g);
        grids[g].blocks.push(Block {
            code: f.code.as_str(),
            area,
            bbox: bbox_of(area_points(area)),
            inner: inner.0,
        });
    }
    for g in &mut grids {
        g.adj = adjacency(g);
    }
    let mut segs: Vec<Seg> = Vec::new();
    for f in set.layer(Layer::RoadSegment) {
        let (Some(line), Some(block)) = (f.geometry.as_line(), f.parent.as_deref()) else {
            continue;
        };
        let Some(&g) = block_grid.get(block) else {
            continue;
        };
        let Some(ls) = line.0.iter().find(|l| l.0.len() >= 2) else {
            continue;
        };
        grids[g].segs.push(segs.len());
        segs.push(Seg {
            code: f.code.as_str(),
            grid: g,
            block,
            pts: ls.0.clone(),
            bbox: bbox_of(ls.0.iter()),
        });
    }

    super::phase("patrols: index", &mut clock);
    let mut rng = rng_for(seed, "patrols", 1);
    let unwalked = choose_unwalked(&grids, &segs, &mut rng);
    let unwalked_set: BTreeSet<usize> = unwalked.iter().copied().collect();

    // Workstations.
    let mut workstations = Vec::new();
    let mut ws_of: BTreeMap<usize, (Coord<f64>, Option<usize>)> = BTreeMap::new();
    for (gi, g) in grids.iter().enumerate() {
        if g.f.layer != Layer::ResidentGrid {
            continue;
        }
        let mut r = rng_for(seed, &g.f.code, 2);
        let (p, block) = if g.blocks.is_empty() {
            match g.area.interior_point() {
                Some(p) => (p.0, None),
                None => continue,
            }
        } else {
            let b = r.random_range(0..g.blocks.len());
            (g.blocks[b].random_point(&mut r), Some(b))
        };
        let p = Coord {
            x: round7(p.x),
            y: round7(p.y),
        };
        let street = g.f.parent.as_deref().and_then(|s| set.get(s));
        let (sname, short) = street
            .map(|s| (s.name.clone(), divisions::short_name(&s.code, &s.name)))
            .unwrap_or_default();
        let road = divisions::road_name(&mut r, &short);
        let base = g.f.name.strip_suffix("网格").unwrap_or(&g.f.name);
        ws_of.insert(gi, (p, block));
        workstations.push(Workstation {
            grid: g.f.code.clone(),
            name: format!("{base}网格工作站"),
            lon: p.x,
            lat: p.y,
            address: format!("{sname}{road}{}号", r.random_range(1..=999)),
        });
    }
    workstations.sort_by(|a, b| a.grid.cmp(&b.grid));

    // The roster.
    let mut plans: Vec<Plan> = Vec::new();
    let patrol_day_t = settings.shift("patrol", "day");
    let patrol_night_t = settings.shift("patrol", "night");
    let grid_day_t = settings.shift("grid", "day");
    let mut night_grid: BTreeMap<&str, usize> = BTreeMap::new();
    for (gi, g) in grids.iter().enumerate() {
        if g.f.layer == Layer::StreetGrid {
            let street = g.f.parent.as_deref().unwrap_or("");
            // One night grid per street: the one with the most segments (lowest code on a tie).
            let e = night_grid.entry(street).or_insert(gi);
            if grids[*e].segs.len() < g.segs.len() {
                *e = gi;
            }
        }
    }
    let night: BTreeSet<usize> = night_grid.values().copied().collect();
    for (gi, g) in grids.iter().enumerate() {
        let street = g.f.parent.clone().unwrap_or_default();
        let short = set
            .get(&street)
            .map(|s| divisions::short_name(&s.code, &s.name))
            .unwrap_or_default();
        let mut add = |seq: u32, role: Role, known: Option<&crate::model::Person>, team: Team| {
            let id = format!("G{}-{seq:02}", g.f.code);
            let mut r = rng_for(seed, &id, 3);
            let (name, phone) = match known {
                Some(p) => (p.name.clone(), p.phone.clone()),
                None => (
                    divisions::person_name(&mut r),
                    Some(divisions::phone(&mut r)),
                ),
            };
            let (org, org_kind, team_name, shift) = match team {
                Team::Patrol => (
                    format!("{short}城管中队"),
                    OrgKind::CityManagement,
                    "patrol",
                    if seq <= 2 {
                        patrol_day_t
                    } else {
                        patrol_night_t
                    },
                ),
                Team::Grid => (
                    g.f.attributes
                        .get("committee")
                        .and_then(|v| v.as_str())
                        .map(str::to_string)
                        .unwrap_or_else(|| g.f.name.clone()),
                    OrgKind::Committee,
                    "grid",
                    grid_day_t,
                ),
            };
            plans.push(Plan {
                staff: Staff {
                    id,
                    name,
                    phone,
                    role,
                    org,
                    org_kind,
                    team: Some(team_name.to_string()),
                    street: street.clone(),
                    areas: vec![g.f.code.clone()],
                },
                grid: gi,
                shift,
            });
        };
        match g.f.layer {
            Layer::StreetGrid => {
                add(
                    1,
                    Role::EnforcementOfficer,
                    g.f.person(Role::EnforcementOfficer),
                    Team::Patrol,
                );
                add(
                    2,
                    Role::Assistant,
                    g.f.person(Role::Assistant),
                    Team::Patrol,
                );
                if night.contains(&gi) {
                    add(3, Role::EnforcementOfficer, None, Team::Patrol);
                    add(4, Role::Assistant, None, Team::Patrol);
                }
            }
            _ => add(1, Role::Assistant, None, Team::Grid),
        }
    }
    plans.sort_by(|a, b| a.staff.id.cmp(&b.staff.id));

    super::phase("patrols: roster", &mut clock);
    // The planted people.
    let on_duty: Vec<usize> = (0..plans.len())
        .filter(|&i| plans[i].shift.is_some())
        .collect();
    let mut taken: BTreeSet<usize> = BTreeSet::new();
    let astray = choose_astray(&plans, &grids, &segs, &unwalked_set, &on_duty, &mut rng);
    if let Some((p, _, _)) = &astray {
        taken.insert(*p);
    }
    let pick_free = |rng: &mut ChaCha8Rng, taken: &mut BTreeSet<usize>| {
        let free: Vec<usize> = on_duty
            .iter()
            .copied()
            .filter(|i| !taken.contains(i))
            .collect();
        if free.is_empty() {
            return None;
        }
        let p = free[rng.random_range(0..free.len())];
        taken.insert(p);
        Some(p)
    };
    let absent = pick_free(&mut rng, &mut taken);
    let early = pick_free(&mut rng, &mut taken);
    let n_late = (on_duty.len() * 3 / 100).max(2);
    let mut late: BTreeSet<usize> = BTreeSet::new();
    for _ in 0..n_late {
        if let Some(p) = pick_free(&mut rng, &mut taken) {
            late.insert(p);
        }
    }

    // Walk.
    let mut truth = PatrolTruth {
        unwalked_segments: unwalked.iter().map(|&s| segs[s].code.to_string()).collect(),
        ..PatrolTruth::default()
    };
    truth.unwalked_segments.sort();
    let clear: Vec<Clear> = unwalked
        .iter()
        .map(|&s| Clear::new(&segs[s].pts, UNWALKED_CLEAR_M))
        .collect();
    let near_m = settings.check_in.near_m;
    let mut duty = Vec::new();
    for (pi, plan) in plans.iter().enumerate() {
        if let Some(shift) = plan.shift {
            duty.push(DutyEntry {
                staff: plan.staff.id.clone(),
                date,
                shift: shift.code.clone(),
            });
            if absent == Some(pi) {
                truth.absent.push(plan.staff.id.clone());
            }
        }
    }
    // Each person from their own random stream: in parallel, merged in 工号 order.
    let walked: Vec<Option<(Vec<SynthCheckIn>, Track, PatrolTruth)>> = plans
        .par_iter()
        .enumerate()
        .map(|(pi, plan)| {
            let shift = plan.shift?;
            if absent == Some(pi) {
                return None;
            }
            let mut truth = PatrolTruth::default();
            let mut checkins = Vec::with_capacity(2);
            let own = &grids[plan.grid];
            let astray_here = astray.as_ref().filter(|a| a.0 == pi);
            let (walk_grid, route) = match astray_here {
                Some((_, h, far)) => (
                    *h,
                    Route {
                        frame: grids[*h].frame,
                        segs: far
                            .iter()
                            .map(|&s| {
                                segs[s]
                                    .pts
                                    .iter()
                                    .map(|&c| grids[*h].frame.to_xy(c))
                                    .collect()
                            })
                            .collect(),
                        blocks: Vec::new(),
                        detour_p: 0.0,
                    },
                ),
                None => {
                    let skip_blocks: BTreeSet<&str> = own
                        .segs
                        .iter()
                        .filter(|s| unwalked_set.contains(s))
                        .map(|&s| segs[s].block)
                        .collect();
                    (
                        plan.grid,
                        Route {
                            frame: own.frame,
                            segs: own
                                .segs
                                .iter()
                                .filter(|s| !unwalked_set.contains(s))
                                .map(|&s| segs[s].pts.iter().map(|&c| own.frame.to_xy(c)).collect())
                                .collect(),
                            blocks: (0..own.blocks.len())
                                .filter(|&b| !skip_blocks.contains(own.blocks[b].code))
                                .collect(),
                            detour_p: 0.2,
                        },
                    )
                }
            };
            let wg = &grids[walk_grid];
            let mut r = rng_for(seed, &plan.staff.id, 4);
            let (start, end) = settings.span(shift, date);
            let (start_s, end_s) = (start.timestamp(), end.timestamp());
            // Check-in time.
            let in_s = if late.contains(&pi) {
                let m = r.random_range(10..=40i64);
                truth.late.push(Late {
                    staff: plan.staff.id.clone(),
                    minutes: m,
                });
                start_s + m * 60 + r.random_range(0..60)
            } else {
                start_s - r.random_range(60..=1200)
            };
            let out_target = if early == Some(pi) {
                end_s - r.random_range(3600..=10800)
            } else {
                end_s + r.random_range(-180..=600)
            };
            // Where the walk starts.
            let start_block = match (ws_of.get(&plan.grid), astray_here) {
                (Some((_, b)), None) => *b,
                _ => None,
            };
            let start_pos = match (ws_of.get(&plan.grid), astray_here) {
                (Some((ws, _)), None) => wg.frame.to_xy(*ws),
                (_, Some(_)) => {
                    // The end of a walked segment nearest the assigned grid (80 m or more).
                    let mut best = (f64::INFINITY, Coord { x: 0.0, y: 0.0 });
                    for s in &route.segs {
                        for &c in [s[0], s[s.len() - 1]].iter() {
                            let d = own.distance_m(wg.frame.to_lonlat(c));
                            if d < best.0 {
                                best = (d, c);
                            }
                        }
                    }
                    best.1
                }
                _ if !route.segs.is_empty() => route.segs[r.random_range(0..route.segs.len())][0],
                _ if !route.blocks.is_empty() => {
                    let b = &wg.blocks[route.blocks[r.random_range(0..route.blocks.len())]];
                    wg.frame.to_xy(b.random_point(&mut r))
                }
                _ => return None,
            };
            let mut walker = Walker {
                pos: start_pos,
                queue: VecDeque::new(),
                block: start_block,
            };
            let punch_at = |r: &mut ChaCha8Rng, p: Coord<f64>, t: i64, punch: Punch| {
                let acc = round1(r.random_range(5.0..15.0));
                let q = wg.frame.to_lonlat(Coord {
                    x: p.x + normal(r) * acc / 2.0,
                    y: p.y + normal(r) * acc / 2.0,
                });
                SynthCheckIn {
                    staff: plan.staff.id.clone(),
                    t: DateTime::from_timestamp(t, 0).unwrap_or_default(),
                    punch,
                    lon: round7(q.x),
                    lat: round7(q.y),
                    accuracy_m: acc,
                }
            };
            checkins.push(punch_at(&mut r, start_pos, in_s, Punch::In));

            // Breaks and gaps, in seconds.
            let len = end_s - start_s;
            let mut pauses: Vec<(i64, i64)> = Vec::new();
            let h = 3600;
            if len >= 10 * h {
                let a = start_s + len * 30 / 100 + r.random_range(0..=len * 6 / 100);
                pauses.push((a, a + r.random_range(40..=70) * 60));
                let b = start_s + len * 75 / 100 + r.random_range(0..=len * 4 / 100);
                pauses.push((b, b + r.random_range(30..=45) * 60));
            } else if len >= 6 * h {
                let a = start_s + len * 33 / 100 + r.random_range(0..=len * 6 / 100);
                pauses.push((a, a + r.random_range(60..=90) * 60));
            }
            let walk_from = in_s + r.random_range(30..=300);
            let mut gaps: Vec<(i64, i64)> = Vec::new();
            for _ in 0..r.random_range(0..=3) {
                let a = r.random_range(walk_from..walk_from.max(out_target - 600) + 1);
                gaps.push((a, a + r.random_range(120..=300)));
            }
            let far_at = (r.random::<f64>() < 0.05)
                .then(|| r.random_range(walk_from..out_target.max(walk_from + 1)));
            let mut bad_at: Vec<i64> = Vec::new();
            if r.random::<f64>() < 0.1 {
                for _ in 0..r.random_range(1..=3) {
                    bad_at.push(r.random_range(walk_from..out_target.max(walk_from + 1)));
                }
            }
            let speed = r.random_range(1.0..1.5);
            let mut fixes: Vec<Fix> =
                Vec::with_capacity(((out_target - walk_from).max(0) / FIX_EVERY_S) as usize + 64);
            let (mut nx, mut ny) = (normal(&mut r) * 4.0, normal(&mut r) * 4.0);
            let rho: f64 = 0.9;
            let kick = (1.0 - rho * rho).sqrt() * 4.0;
            let mut t = walk_from;
            let mut prev_t = walk_from - FIX_EVERY_S;
            let mut planted_far = far_at.is_none();
            let mut planted_bad = 0;
            let (out_s, out_pos) = loop {
                let dt = t - prev_t;
                prev_t = t;
                if let Some(&(_, b)) = pauses.iter().find(|(a, b)| *a <= t && t < *b) {
                    t = b;
                    prev_t = b;
                    continue;
                }
                let v = speed * r.random_range(0.9..1.1);
                let passed = walker.advance(v * dt as f64, &route, wg, &mut r);
                if t >= out_target {
                    // Check out on reaching a waypoint (inside the walked grid).
                    if let Some(p) = passed {
                        break (t, p);
                    }
                    if t >= out_target + 900 {
                        break (t, walker.pos);
                    }
                }
                nx = rho * nx + kick * normal(&mut r);
                ny = rho * ny + kick * normal(&mut r);
                if gaps.iter().any(|(a, b)| *a <= t && t < *b) {
                    t += FIX_EVERY_S;
                    continue;
                }
                let t_ms = t * 1000 + r.random_range(0..900);
                let mut acc = round1(r.random_range(5.0..15.0));
                let mut off = Coord {
                    x: nx + normal(&mut r) * acc / 2.0,
                    y: ny + normal(&mut r) * acc / 2.0,
                };
                let mut kind = 0;
                if !planted_far && far_at.is_some_and(|f| t >= f) {
                    let a = r.random::<f64>() * std::f64::consts::TAU;
                    off = Coord {
                        x: 2000.0 * a.cos(),
                        y: 2000.0 * a.sin(),
                    };
                    kind = 1;
                } else if planted_bad < bad_at.len()
                    && bad_at.iter().filter(|&&b| t >= b).count() > planted_bad
                {
                    acc = 150.0;
                    let a = r.random::<f64>() * std::f64::consts::TAU;
                    let d = r.random_range(50.0..100.0);
                    off = Coord {
                        x: d * a.cos(),
                        y: d * a.sin(),
                    };
                    kind = 2;
                }
                let ll = wg.frame.to_lonlat(Coord {
                    x: walker.pos.x + off.x,
                    y: walker.pos.y + off.y,
                });
                let ll = Coord {
                    x: round7(ll.x),
                    y: round7(ll.y),
                };
                let keep = clear.iter().all(|c| !c.near(ll))
                    && (astray_here.is_none() || own.distance_m(ll) > ASTRAY_CLEAR_M);
                if keep {
                    fixes.push(Fix {
                        t_ms,
                        lon: ll.x,
                        lat: ll.y,
                        accuracy_m: Some(acc),
                    });
                    let planted = PlantedFix {
                        staff: plan.staff.id.clone(),
                        t_ms,
                    };
                    match kind {
                        1 => {
                            planted_far = true;
                            truth.far_outliers.push(planted);
                        }
                        2 => {
                            planted_bad += 1;
                            truth.inaccurate.push(planted);
                        }
                        _ => {}
                    }
                }
                t += FIX_EVERY_S;
            };
            for (a, b) in gaps {
                if a < out_s {
                    truth.gaps.push(Gap {
                        staff: plan.staff.id.clone(),
                        from_ms: a * 1000,
                        to_ms: b.min(out_s) * 1000,
                    });
                }
            }
            let out = punch_at(&mut r, out_pos, out_s, Punch::Out);
            if early == Some(pi) {
                truth.early_leave.push(EarlyLeave {
                    staff: plan.staff.id.clone(),
                    minutes: (end_s - out_s) / 60,
                });
            }
            for c in [&checkins[checkins.len() - 1], &out] {
                let d = own.distance_m(Coord { x: c.lon, y: c.lat });
                if d > near_m {
                    truth.outside.push(OutsidePunch {
                        staff: plan.staff.id.clone(),
                        punch: c.punch,
                        distance_m: round1(d),
                    });
                }
            }
            checkins.push(out);
            Some((
                checkins,
                Track {
                    staff: plan.staff.id.clone(),
                    fixes,
                },
                truth,
            ))
        })
        .collect();
    super::phase("patrols: walks", &mut clock);
    let mut tracks = Vec::new();
    let mut checkins = Vec::new();
    for (c, track, t) in walked.into_iter().flatten() {
        checkins.extend(c);
        tracks.push(track);
        truth.late.extend(t.late);
        truth.early_leave.extend(t.early_leave);
        truth.outside.extend(t.outside);
        truth.far_outliers.extend(t.far_outliers);
        truth.inaccurate.extend(t.inaccurate);
        truth.gaps.extend(t.gaps);
    }
    if let Some((p, h, _)) = &astray {
        truth.never_in_grid = Some(Astray {
            staff: plans[*p].staff.id.clone(),
            grid: grids[plans[*p].grid].f.code.clone(),
            walked_grid: grids[*h].f.code.clone(),
        });
    }
    checkins.sort_by(|a, b| (a.t, &a.staff).cmp(&(b.t, &b.staff)));
    PatrolDay {
        date,
        staff: plans.into_iter().map(|p| p.staff).collect(),
        duty,
        tracks,
        checkins,
        workstations,
        truth,
    }
}

/// A zone around a polyline no fix may enter: a bounding box test, then the distance in a
/// frame at the line's first point.
struct Clear {
    frame: LocalFrame,
    pts: Vec<Coord<f64>>,
    bbox: [f64; 4],
    radius: f64,
}

impl Clear {
    fn new(line: &[Coord<f64>], radius: f64) -> Clear {
        let o = line.first().copied().unwrap_or(Coord { x: 0.0, y: 0.0 });
        let frame = LocalFrame::new(o.x, o.y);
        let b = bbox_of(line.iter());
        let (dx, dy) = (
            2.0 * radius / frame.m_per_deg_lon,
            2.0 * radius / frame.m_per_deg_lat,
        );
        Clear {
            frame,
            pts: line.iter().map(|&c| frame.to_xy(c)).collect(),
            bbox: [b[0] - dx, b[1] - dy, b[2] + dx, b[3] + dy],
            radius,
        }
    }

    fn near(&self, p: Coord<f64>) -> bool {
        if p.x < self.bbox[0] || p.x > self.bbox[2] || p.y < self.bbox[1] || p.y > self.bbox[3] {
            return false;
        }
        let q = self.frame.to_xy(p);
        self.pts
            .windows(2)
            .any(|w| point_segment_distance(q, w[0], w[1]) <= self.radius)
    }
}

/// Distance in metres between two polylines (lon/lat), in a frame at `a`'s first point.
fn line_distance(a: &[Coord<f64>], b: &[Coord<f64>]) -> f64 {
    let Some(&o) = a.first() else {
        return f64::INFINITY;
    };
    let f = LocalFrame::new(o.x, o.y);
    let (pa, pb): (Vec<_>, Vec<_>) = (
        a.iter().map(|&c| f.to_xy(c)).collect(),
        b.iter().map(|&c| f.to_xy(c)).collect(),
    );
    let mut best = f64::INFINITY;
    for p in &pa {
        for w in pb.windows(2) {
            best = best.min(point_segment_distance(*p, w[0], w[1]));
        }
    }
    for p in &pb {
        for w in pa.windows(2) {
            best = best.min(point_segment_distance(*p, w[0], w[1]));
        }
    }
    best
}

/// Road segments left unwalked: in about one street grid in twelve with at least three
/// segments (at least three grids), the grid's segment farthest from every other segment,
/// when that is at least 50 m.
fn choose_unwalked(grids: &[Grid], segs: &[Seg], rng: &mut ChaCha8Rng) -> Vec<usize> {
    let margin = 100.0 / 90_000.0; // ≈100 m in degrees, generously
    let isolation = |s: usize| {
        let a = &segs[s];
        segs.iter()
            .enumerate()
            .filter(|(o, b)| {
                *o != s
                    && b.bbox[0] <= a.bbox[2] + margin
                    && a.bbox[0] <= b.bbox[2] + margin
                    && b.bbox[1] <= a.bbox[3] + margin
                    && a.bbox[1] <= b.bbox[3] + margin
            })
            .map(|(_, b)| line_distance(&a.pts, &b.pts))
            .fold(f64::INFINITY, f64::min)
    };
    let mut candidates: Vec<(usize, usize)> = Vec::new(); // (grid, segment)
    let street_grids: Vec<usize> = (0..grids.len())
        .filter(|&g| grids[g].f.layer == Layer::StreetGrid)
        .collect();
    for &g in &street_grids {
        if grids[g].segs.len() < 3 {
            continue;
        }
        let best = grids[g]
            .segs
            .iter()
            .map(|&s| (isolation(s), s))
            .filter(|(d, _)| *d >= 50.0)
            .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        if let Some((_, s)) = best {
            candidates.push((g, s));
        }
    }
    let want = (street_grids.len() / 12).max(3).min(candidates.len());
    let mut out = Vec::new();
    for _ in 0..want {
        let i = rng.random_range(0..candidates.len());
        out.push(candidates.swap_remove(i).1);
    }
    out.sort_by_key(|&s| segs[s].grid);
    out
}

/// The day patroller who walks a neighbouring street grid instead: a street grid sharing a
/// boundary vertex with theirs (of the same street if there is one), and the segments of it
/// 80–1,000 m from their grid (none of them left unwalked). Returns (plan, walked grid,
/// segments).
fn choose_astray(
    plans: &[Plan],
    grids: &[Grid],
    segs: &[Seg],
    unwalked: &BTreeSet<usize>,
    on_duty: &[usize],
    rng: &mut ChaCha8Rng,
) -> Option<(usize, usize, Vec<usize>)> {
    let key = vertex_key;
    let mut cands: Vec<usize> = on_duty
        .iter()
        .copied()
        .filter(|&i| {
            grids[plans[i].grid].f.layer == Layer::StreetGrid
                && plans[i].shift.is_some_and(|s| s.code == "day")
        })
        .collect();
    // A deterministic shuffle.
    for i in (1..cands.len()).rev() {
        let j = rng.random_range(0..=i);
        cands.swap(i, j);
    }
    for same_street in [true, false] {
        for &p in &cands {
            let g = &grids[plans[p].grid];
            let verts: HashSet<(i64, i64)> = area_points(g.area).map(key).collect();
            for (h, other) in grids.iter().enumerate() {
                if h == plans[p].grid
                    || (other.f.parent == g.f.parent) != same_street
                    || other.f.layer != Layer::StreetGrid
                    || other.segs.is_empty()
                    || !area_points(other.area).any(|c| verts.contains(&key(c)))
                {
                    continue;
                }
                let far: Vec<usize> = other
                    .segs
                    .iter()
                    .copied()
                    .filter(|s| {
                        !unwalked.contains(s)
                            && segs[*s].pts.iter().all(|&c| {
                                let d = g.distance_m(c);
                                (80.0..=1000.0).contains(&d)
                            })
                    })
                    .collect();
                if !far.is_empty() {
                    return Some((p, h, far));
                }
            }
        }
    }
    None
}
