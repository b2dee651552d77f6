//! `--fix`: a repaired copy of a feature set, and the list of every change made.
//!
//! 1. Features with broken geometry are rebuilt: each shell is resolved by the even-odd rule (a
//!    bow-tie becomes its two triangles; spikes, repeated points and collapsed rings vanish), its
//!    holes (united) are subtracted, and the parts are united. Parts and holes narrower than the
//!    tolerance left by the boolean operations are dropped, and so are spike tips.
//! 2. Every gap and sliver gap is merged into its suggested neighbour (the child sharing the
//!    longest boundary with it); every overlap is subtracted from its suggested feature; every
//!    part outside a parent is cut from the child.
//! 3. Vertices of the changed features that lie within the tolerance of a vertex of an unchanged
//!    feature are snapped onto it, so that the seams match exactly again.
//! 4. Steps 1–3 are repeated on the result (at most three rounds) while errors fixable this way
//!    remain; hierarchy errors and gaps bordering no child need a person and are left.

use super::types::{FixAction, Message, Options, Report, Rule};
use super::validate;
use crate::model::{FeatureSet, Geometry};
use geo::orient::Direction;
use geo::{BooleanOps, Coord, MapCoordsInPlace, MultiPolygon, Orient, Polygon};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One change made by the repair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Feature changed.
    pub code: String,
    /// What was done.
    pub action: FixAction,
    /// The rule of the finding that caused it.
    pub rule: Rule,
    /// Area added or removed, m².
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
    /// In words.
    pub message: Message,
}

/// A repaired feature set and its changes.
#[derive(Debug, Clone)]
pub struct Fixed {
    /// The repaired set.
    pub set: FeatureSet,
    /// Every change, in order.
    pub changes: Vec<Change>,
}

fn rebuild(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let empty = MultiPolygon::<f64>(vec![]);
    let parts: Vec<MultiPolygon<f64>> =
        mp.0.iter()
            .map(|p| {
                let shell = Polygon::new(p.exterior().clone(), vec![]).union(&empty);
                let holes: Vec<MultiPolygon<f64>> = p
                    .interiors()
                    .iter()
                    .map(|h| {
                        Polygon::new(h.clone(), vec![])
                            .union(&empty)
                            .orient(Direction::Default)
                    })
                    .collect();
                if holes.is_empty() {
                    shell
                } else {
                    shell.difference(&geo::unary_union(holes.iter()))
                }
                .orient(Direction::Default)
            })
            .collect();
    geo::unary_union(parts.iter()).orient(Direction::Default)
}

/// Drops parts and holes narrower than the tolerance (boolean operations leave such crumbs).
fn drop_crumbs(mp: MultiPolygon<f64>, tol: f64) -> MultiPolygon<f64> {
    let wide = |r: &geo::LineString<f64>| {
        super::geom::measure(&Polygon::new(r.clone(), vec![])).width_m >= tol
    };
    MultiPolygon(
        mp.0.into_iter()
            .filter(|p| wide(p.exterior()))
            .map(|p| {
                let (ext, holes) = p.into_inner();
                let despike = |r: &geo::LineString<f64>| super::invalid_geometry::despike(r, tol);
                Polygon::new(
                    despike(&ext),
                    holes.iter().filter(|h| wide(h)).map(despike).collect(),
                )
            })
            .collect(),
    )
}

/// Repairs `set` according to `report` (a validation of `set` with `opts`).
pub fn repair(set: &FeatureSet, report: &Report, opts: &Options) -> Fixed {
    let mut features = set.features().to_vec();
    let mut changes = Vec::new();
    let mut report = report.clone();
    for _round in 0..3 {
        let n_before = changes.len();
        one_round(&mut features, &report, opts, &mut changes);
        if changes.len() == n_before {
            break;
        }
        let Ok(s) = FeatureSet::new(features.clone(), set.management_units.clone()) else {
            break;
        };
        report = validate(&s, opts);
        if report.is_clean() {
            break;
        }
    }
    let (fs, units) = (features, set.management_units.clone());
    let set = FeatureSet::new(fs, units).unwrap_or_else(|_| set.clone());
    Fixed { set, changes }
}

fn one_round(
    features: &mut [crate::model::Feature],
    report: &Report,
    opts: &Options,
    changes: &mut Vec<Change>,
) {
    let idx: HashMap<String, usize> = features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.code.clone(), i))
        .collect();
    let mut changed: HashSet<usize> = HashSet::new();
    // 1. Broken geometry.
    repair_geometry(features, report, opts, &idx, &mut changed, changes);
    // 2. Coverage defects.
    let (adds, subs) = coverage_edits(features, report, &idx, changes);
    apply_edits(features, &adds, &subs, opts, &mut changed);
    // 3. Snap changed features' vertices onto unchanged vertices within the tolerance.
    if !changed.is_empty() {
        snap(features, &changed, opts.tolerance_m);
    }
}

/// Polygons to merge into (`adds`) and subtract from (`subs`) each feature.
type Edits = BTreeMap<usize, Vec<Polygon<f64>>>;

/// Step 1: rebuilds the rings of every feature with an `invalid_geometry` finding.
fn repair_geometry(
    features: &mut [crate::model::Feature],
    report: &Report,
    opts: &Options,
    idx: &HashMap<String, usize>,
    changed: &mut HashSet<usize>,
    changes: &mut Vec<Change>,
) {
    let mut rebuilt: HashSet<usize> = HashSet::new();
    for f in &report.findings {
        if f.rule != Rule::InvalidGeometry {
            continue;
        }
        let Some(&i) = f.codes.first().and_then(|c| idx.get(c)) else {
            continue;
        };
        if !rebuilt.insert(i) {
            continue;
        }
        if let Geometry::Area(mp) = &features[i].geometry {
            let new = drop_crumbs(rebuild(mp), opts.tolerance_m);
            features[i].geometry = Geometry::Area(new);
            changed.insert(i);
            changes.push(Change {
                code: features[i].code.clone(),
                action: FixAction::Repair,
                rule: Rule::InvalidGeometry,
                area_m2: None,
                message: Message {
                    zh: format!("重建边界环（{}）", f.kind),
                    en: format!("rebuilt the rings ({})", f.kind),
                },
            });
        }
    }
}

/// Step 2a: the merges and subtractions the coverage findings suggest, each recorded as a change.
fn coverage_edits(
    features: &[crate::model::Feature],
    report: &Report,
    idx: &HashMap<String, usize>,
    changes: &mut Vec<Change>,
) -> (Edits, Edits) {
    let mut adds: Edits = BTreeMap::new();
    let mut subs: Edits = BTreeMap::new();
    for f in &report.findings {
        let (Some(shape), Some(fix)) = (&f.shape, &f.fix) else {
            continue;
        };
        let Some(&t) = fix.target.as_ref().and_then(|c| idx.get(c)) else {
            continue;
        };
        let list = match fix.action {
            FixAction::MergeInto => adds.entry(t).or_default(),
            FixAction::SubtractFrom => subs.entry(t).or_default(),
            _ => continue,
        };
        list.extend(shape.0.iter().cloned());
        let what = if fix.action == FixAction::MergeInto {
            ("并入", "merged")
        } else {
            ("扣除", "subtracted")
        };
        changes.push(Change {
            code: features[t].code.clone(),
            action: fix.action,
            rule: f.rule,
            area_m2: f.area_m2,
            message: Message {
                zh: format!(
                    "{}{} {:.2} 平方米（{}）",
                    what.0,
                    f.kind,
                    f.area_m2.unwrap_or(0.0),
                    f.codes.join(",")
                ),
                en: format!(
                    "{} {} of {:.2} m² ({})",
                    what.1,
                    f.kind,
                    f.area_m2.unwrap_or(0.0),
                    f.codes.join(",")
                ),
            },
        });
    }
    (adds, subs)
}

/// Step 2b: applies the merges, then the subtractions, to each target feature.
fn apply_edits(
    features: &mut [crate::model::Feature],
    adds: &Edits,
    subs: &Edits,
    opts: &Options,
    changed: &mut HashSet<usize>,
) {
    let targets: BTreeSet<usize> = adds.keys().chain(subs.keys()).copied().collect();
    for t in targets {
        let Geometry::Area(mp) = &features[t].geometry else {
            continue;
        };
        let mut g = mp.orient(Direction::Default);
        if let Some(a) = adds.get(&t) {
            let mut all: Vec<MultiPolygon<f64>> = vec![g];
            all.extend(
                a.iter()
                    .map(|p| MultiPolygon(vec![p.clone()]).orient(Direction::Default)),
            );
            g = geo::unary_union(all.iter()).orient(Direction::Default);
        }
        if let Some(s) = subs.get(&t) {
            let cut: Vec<MultiPolygon<f64>> = s
                .iter()
                .map(|p| MultiPolygon(vec![p.clone()]).orient(Direction::Default))
                .collect();
            g = g
                .difference(&geo::unary_union(cut.iter()))
                .orient(Direction::Default);
        }
        features[t].geometry = Geometry::Area(drop_crumbs(g, opts.tolerance_m));
        changed.insert(t);
    }
}

use std::collections::BTreeSet;

fn snap(features: &mut [crate::model::Feature], changed: &HashSet<usize>, tol_m: f64) {
    let Some(lat) = features.iter().find_map(|f| {
        f.geometry
            .as_area()
            .and_then(|m| m.0.first())
            .and_then(|p| p.exterior().0.first())
            .map(|c| c.y)
    }) else {
        return;
    };
    let frame = crate::geometry::measure::LocalFrame::new(0.0, lat);
    let (sx, sy) = (frame.m_per_deg_lon, frame.m_per_deg_lat);
    let cell = tol_m.max(1e-6);
    let key = |c: Coord<f64>| {
        (
            (c.x * sx / cell).floor() as i64,
            (c.y * sy / cell).floor() as i64,
        )
    };
    let mut grid: HashMap<(i64, i64), Vec<Coord<f64>>> = HashMap::new();
    for (i, f) in features.iter().enumerate() {
        if changed.contains(&i) {
            continue;
        }
        if let Some(mp) = f.geometry.as_area() {
            for p in &mp.0 {
                for r in std::iter::once(p.exterior()).chain(p.interiors()) {
                    for &c in &r.0 {
                        grid.entry(key(c)).or_default().push(c);
                    }
                }
            }
        }
    }
    for &i in changed {
        if let Geometry::Area(mp) = &mut features[i].geometry {
            mp.map_coords_in_place(|c| {
                let (kx, ky) = key(c);
                let mut best: Option<(f64, Coord<f64>)> = None;
                for dx in -1..=1 {
                    for dy in -1..=1 {
                        for &q in grid
                            .get(&(kx + dx, ky + dy))
                            .map(Vec::as_slice)
                            .unwrap_or(&[])
                        {
                            let d = ((q.x - c.x) * sx).hypot((q.y - c.y) * sy);
                            if d <= tol_m && best.is_none_or(|b| d < b.0) {
                                best = Some((d, q));
                            }
                        }
                    }
                }
                best.map_or(c, |b| b.1)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Layer;
    use crate::validate::shapes::*;

    #[test]
    fn repaired_set_validates_clean() {
        let fs = vec![
            area(
                Layer::Street,
                "s",
                None,
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 100.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "a",
                Some("s"),
                MultiPolygon(vec![rect(0.0, 0.0, 45.0, 100.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "b",
                Some("s"),
                MultiPolygon(vec![rect(50.0, 0.0, 100.0, 60.0)]),
            ),
            area(
                Layer::StreetGrid,
                "c",
                Some("s"),
                MultiPolygon(vec![rect(40.0, 55.0, 100.0, 100.0)]),
            ),
            area(
                Layer::Block,
                "x",
                Some("c"),
                MultiPolygon(vec![poly(
                    &[(40.0, 55.0), (100.0, 55.0), (40.0, 100.0), (100.0, 100.0)],
                    &[],
                )]),
            ),
        ];
        let set = FeatureSet::new(fs, vec![]).unwrap_or_default();
        let opts = Options::default();
        let before = validate(&set, &opts);
        assert!(!before.is_clean());
        let fixed = repair(&set, &before, &opts);
        let after = validate(&fixed.set, &opts);
        assert!(
            after.is_clean(),
            "{:#?}\n{:#?}",
            after.findings,
            fixed.changes
        );
        assert!(!fixed.changes.is_empty());
    }
}
