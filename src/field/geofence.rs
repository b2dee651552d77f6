//! Geofencing one person's paths against the atlas: when they entered and left grids and blocks
//! ([`Event`]), their visits ([`Visit`]), the blocks they visited and their time inside each grid
//! ([`Geofence::time_inside`]). Plain functions over an [`Atlas`]; the coverage of road segments
//! is [`super::coverage`]'s.
//!
//! # Rules (exactly as computed)
//!
//! Every fix of every path is located with [`Atlas::locate`] (the containing grid and block, no
//! fallback: a fix in no grid is in none). Then, per path and per layer (grid, block):
//!
//! - the first fix of a path **enters** its area at the fix's time;
//! - along an edge of the path whose two fixes lie in different areas (or one in none), the
//!   person **left** the first and **entered** the second at the edge's midpoint time,
//!   `t₁ + (t₂ − t₁) / 2` rounded down to the millisecond;
//! - the last fix of a path **leaves** its area at the fix's time: a gap in the track (the end of
//!   a path, see [`super::paths`]) closes the visit at the last fix before it.
//!
//! A **visit** runs from an entering to the matching leaving. A block is **visited** when a path
//! entered it, i.e. a fix was located in it. **Time inside** a grid is the sum of its visits'
//! durations; that is, the durations of path edges with both ends in the grid, plus, for an edge
//! whose ends are in different grids, the part before (or after) its midpoint time — half the
//! edge. A single-fix path visits for no time.

use super::Fix;
use crate::atlas::{Atlas, FeatureId};
use serde::Serialize;

/// Which areas a geofence event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fence {
    /// A grid (resident, street or extended).
    Grid,
    /// A block (责任块).
    Block,
}

impl Fence {
    /// Both, in the order events of one instant are listed.
    pub const ALL: [Fence; 2] = [Fence::Grid, Fence::Block];

    /// The slot of [`Atlas::locate`]'s answer.
    fn slot(self) -> usize {
        match self {
            Fence::Grid => 2,
            Fence::Block => 3,
        }
    }

    /// The identifier.
    pub fn as_str(self) -> &'static str {
        match self {
            Fence::Grid => "grid",
            Fence::Block => "block",
        }
    }
}

/// Entered or left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Crossing {
    /// Entered the area.
    Entered,
    /// Left the area.
    Left,
}

/// One geofence event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Event {
    /// When, milliseconds since the Unix epoch.
    pub t_ms: i64,
    /// Entered or left.
    pub crossing: Crossing,
    /// A grid or a block.
    pub fence: Fence,
    /// The area (an atlas feature id).
    pub feature: FeatureId,
}

/// One stay in an area: from entering it to leaving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Visit {
    /// A grid or a block.
    pub fence: Fence,
    /// The area.
    pub feature: FeatureId,
    /// Entered, ms.
    pub from_ms: i64,
    /// Left, ms.
    pub to_ms: i64,
    /// Fixes located in the area during the visit.
    pub fixes: u32,
}

/// The geofence of one person's paths.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Geofence {
    /// Every event, by time; at one instant leavings before enterings, a block left before its
    /// grid and a grid entered before its blocks.
    pub events: Vec<Event>,
    /// Every visit, by start time.
    pub visits: Vec<Visit>,
}

impl Geofence {
    /// The areas of `fence` visited, each once, in the order first entered.
    pub fn visited(&self, fence: Fence) -> Vec<FeatureId> {
        let mut seen = rustc_hash::FxHashSet::default();
        self.visits
            .iter()
            .filter(|v| v.fence == fence && seen.insert(v.feature))
            .map(|v| v.feature)
            .collect()
    }

    /// Time inside each area of `fence`, milliseconds (the sum of its visits), in the order
    /// first entered.
    pub fn time_inside(&self, fence: Fence) -> Vec<(FeatureId, i64)> {
        let mut order: Vec<(FeatureId, i64)> = Vec::new();
        let mut at: rustc_hash::FxHashMap<FeatureId, usize> = Default::default();
        for v in self.visits.iter().filter(|v| v.fence == fence) {
            let i = *at.entry(v.feature).or_insert_with(|| {
                order.push((v.feature, 0));
                order.len() - 1
            });
            order[i].1 += v.to_ms - v.from_ms;
        }
        order
    }
}

/// An open visit while walking a path.
#[derive(Debug, Clone, Copy)]
struct Open {
    feature: FeatureId,
    from_ms: i64,
    fixes: u32,
}

/// The geofence of one person's paths (each time-ordered, as [`super::paths`] gives them, the
/// paths in time order).
pub fn geofence(atlas: &Atlas, paths: &[&[Fix]]) -> Geofence {
    let mut out = Geofence::default();
    for path in paths {
        let mut open: [Option<Open>; 2] = [None, None];
        let mut prev_t = 0;
        for (i, f) in path.iter().enumerate() {
            let here = atlas.locate(f.lon, f.lat);
            // Leavings first, then enterings, at the crossing time.
            let crossing_t = if i == 0 {
                f.t_ms
            } else {
                prev_t + (f.t_ms - prev_t).div_euclid(2)
            };
            let changed = Fence::ALL.map(|fence| {
                let k = fence as usize;
                match (open[k], here[fence.slot()]) {
                    (Some(o), Some(n)) if o.feature == n => false,
                    (None, None) => false,
                    _ => true,
                }
            });
            for fence in [Fence::Block, Fence::Grid] {
                let k = fence as usize;
                if changed[k] {
                    if let Some(o) = open[k].take() {
                        close(&mut out, fence, o, crossing_t);
                    }
                } else if let Some(o) = open[k].as_mut() {
                    o.fixes += 1;
                }
            }
            for fence in Fence::ALL {
                let k = fence as usize;
                if let (true, Some(feature)) = (changed[k], here[fence.slot()]) {
                    out.events.push(Event {
                        t_ms: crossing_t,
                        crossing: Crossing::Entered,
                        fence,
                        feature,
                    });
                    open[k] = Some(Open {
                        feature,
                        from_ms: crossing_t,
                        fixes: 1,
                    });
                }
            }
            prev_t = f.t_ms;
        }
        for fence in [Fence::Block, Fence::Grid] {
            if let Some(o) = open[fence as usize] {
                close(&mut out, fence, o, prev_t);
            }
        }
    }
    // Stable: within an instant, the order pushed.
    out.events.sort_by_key(|e| e.t_ms);
    out.visits.sort_by_key(|v| v.from_ms);
    out
}

fn close(out: &mut Geofence, fence: Fence, o: Open, t_ms: i64) {
    out.events.push(Event {
        t_ms,
        crossing: Crossing::Left,
        fence,
        feature: o.feature,
    });
    out.visits.push(Visit {
        fence,
        feature: o.feature,
        from_ms: o.from_ms,
        to_ms: t_ms,
        fixes: o.fixes,
    });
}
