//! Differences between two feature sets: which features were added, removed or changed, and the
//! area that changed hands.
//!
//! For an area feature, `gained_m2` is the geodesic area of `new − old` and `lost_m2` of
//! `old − new` (geo's boolean operations, then [`crate::geometry::measure::area_m2`]); an added
//! feature gains its whole area, a removed one loses it. Road segments report no area.

use super::{AreaChange, ChangeKind};
use crate::geometry::measure::area_m2;
use crate::model::{Feature, FeatureSet, Geometry};
use geo::BooleanOps;

fn changed_fields(a: &Feature, b: &Feature) -> Vec<&'static str> {
    let mut out = Vec::new();
    if a.geometry != b.geometry {
        out.push("geometry");
    }
    if a.name != b.name {
        out.push("name");
    }
    if a.parent != b.parent {
        out.push("parent");
    }
    if a.kind != b.kind {
        out.push("kind");
    }
    if a.people != b.people {
        out.push("people");
    }
    if a.attributes != b.attributes {
        out.push("attributes");
    }
    if a.layer != b.layer {
        out.push("layer");
    }
    out
}

fn area_of(f: &Feature) -> Option<f64> {
    f.geometry.as_area().map(area_m2)
}

/// The features that differ from `old` to `new`, ordered by layer then code.
pub fn diff_sets(old: &FeatureSet, new: &FeatureSet) -> Vec<AreaChange> {
    let mut out = Vec::new();
    for f in new.features() {
        match old.get(&f.code) {
            None => out.push(AreaChange {
                layer: f.layer,
                code: f.code.clone(),
                name: f.name.clone(),
                change: ChangeKind::Added,
                fields: Vec::new(),
                gained_m2: area_of(f),
                lost_m2: f.geometry.as_area().map(|_| 0.0),
            }),
            Some(o) if o != f => {
                let (gained, lost) = match (&o.geometry, &f.geometry) {
                    (Geometry::Area(a), Geometry::Area(b)) if a == b => (Some(0.0), Some(0.0)),
                    (Geometry::Area(a), Geometry::Area(b)) => (
                        Some(area_m2(&b.difference(a))),
                        Some(area_m2(&a.difference(b))),
                    ),
                    (Geometry::Area(a), Geometry::Line(_)) => (None, Some(area_m2(a))),
                    (Geometry::Line(_), Geometry::Area(b)) => (Some(area_m2(b)), None),
                    (Geometry::Line(_), Geometry::Line(_)) => (None, None),
                };
                out.push(AreaChange {
                    layer: f.layer,
                    code: f.code.clone(),
                    name: f.name.clone(),
                    change: ChangeKind::Changed,
                    fields: changed_fields(o, f),
                    gained_m2: gained,
                    lost_m2: lost,
                });
            }
            Some(_) => {}
        }
    }
    for o in old.features() {
        if new.get(&o.code).is_none() {
            out.push(AreaChange {
                layer: o.layer,
                code: o.code.clone(),
                name: o.name.clone(),
                change: ChangeKind::Removed,
                fields: Vec::new(),
                gained_m2: o.geometry.as_area().map(|_| 0.0),
                lost_m2: area_of(o),
            });
        }
    }
    out.sort_by(|a, b| (a.layer, &a.code).cmp(&(b.layer, &b.code)));
    out
}
