//! Differences between two feature sets: which features were added, removed or changed, and the
//! area that changed hands.
//!
//! For an area feature, `gained_m2` is the geodesic area of `new − old` and `lost_m2` of
//! `old − new` (geo's boolean operations, then [`crate::geometry::measure::area_m2`]); an added
//! feature gains its whole area, a removed one loses it. Road segments report no area.
//! Management units are compared by code (`name`, `kind`, `grids`, `people`).
//!
//! [`effective_change`] is what a write is authorized against: every street whose features or
//! units a new generation would change, and the changes only an admin may make.

use super::{AreaChange, ChangeKind, Subject, street_of_features};
use crate::geometry::measure::area_m2;
use crate::model::{Feature, FeatureSet, Geometry, Layer, ManagementUnit};
use geo::BooleanOps;
use std::collections::{BTreeSet, HashMap};

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
                layer: f.layer.into(),
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
                    layer: f.layer.into(),
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
                layer: o.layer.into(),
                code: o.code.clone(),
                name: o.name.clone(),
                change: ChangeKind::Removed,
                fields: Vec::new(),
                gained_m2: o.geometry.as_area().map(|_| 0.0),
                lost_m2: area_of(o),
            });
        }
    }
    diff_units(old, new, &mut out);
    out.sort_by(|a, b| (a.layer, &a.code).cmp(&(b.layer, &b.code)));
    out
}

fn units_by_code(set: &FeatureSet) -> HashMap<&str, &ManagementUnit> {
    set.management_units
        .iter()
        .map(|u| (u.code.as_str(), u))
        .collect()
}

fn unit_fields(a: &ManagementUnit, b: &ManagementUnit) -> Vec<&'static str> {
    let mut out = Vec::new();
    if a.name != b.name {
        out.push("name");
    }
    if a.kind != b.kind {
        out.push("kind");
    }
    if a.grids != b.grids {
        out.push("grids");
    }
    if a.people != b.people {
        out.push("people");
    }
    out
}

fn diff_units(old: &FeatureSet, new: &FeatureSet, out: &mut Vec<AreaChange>) {
    let (before, after) = (units_by_code(old), units_by_code(new));
    let entry = |u: &ManagementUnit, change, fields| AreaChange {
        layer: Subject::ManagementUnit,
        code: u.code.clone(),
        name: u.name.clone(),
        change,
        fields,
        gained_m2: None,
        lost_m2: None,
    };
    for u in &new.management_units {
        match before.get(u.code.as_str()) {
            None => out.push(entry(u, ChangeKind::Added, Vec::new())),
            Some(o) if *o != u => out.push(entry(u, ChangeKind::Changed, unit_fields(o, u))),
            Some(_) => {}
        }
    }
    for u in &old.management_units {
        if !after.contains_key(u.code.as_str()) {
            out.push(entry(u, ChangeKind::Removed, Vec::new()));
        }
    }
}

/// The streets a change from `old` to `new` touches, and what in it only an admin may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeScope {
    /// Every street a changed, added or removed feature or management unit belongs to, before or
    /// after the change (a feature moved from street A to B touches both).
    pub streets: BTreeSet<String>,
    /// Changes outside any single street, each described: the district feature, a feature under
    /// no street, a management unit serving several streets or none.
    pub admin_only: Vec<String>,
}

impl ChangeScope {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.streets.is_empty() && self.admin_only.is_empty()
    }
}

/// What going from `old` (the current generation) to `new` (the generation a draft would make)
/// changes, by street: the effective change a write is authorized against, whatever the upload
/// declared. Features are compared whole (geometry, name, parent, kind, people, attributes);
/// units by code.
pub fn effective_change(old: &FeatureSet, new: &FeatureSet) -> ChangeScope {
    let (old_street, new_street) = (street_of_features(old), street_of_features(new));
    let mut scope = ChangeScope::default();
    let place = |scope: &mut ChangeScope, f: &Feature, street: Option<&&str>| {
        if f.layer == Layer::District {
            scope
                .admin_only
                .push(format!("district feature {} ({})", f.code, f.name));
        } else if let Some(s) = street {
            scope.streets.insert((*s).to_owned());
        } else {
            scope.admin_only.push(format!(
                "{} {} is under no street (its parent chain reaches none)",
                f.layer, f.code
            ));
        }
    };
    for f in new.features() {
        match old.get(&f.code) {
            Some(o) if o == f => {}
            Some(o) => {
                place(&mut scope, o, old_street.get(o.code.as_str()));
                place(&mut scope, f, new_street.get(f.code.as_str()));
            }
            None => place(&mut scope, f, new_street.get(f.code.as_str())),
        }
    }
    for o in old.features() {
        if new.get(&o.code).is_none() {
            place(&mut scope, o, old_street.get(o.code.as_str()));
        }
    }
    let (before, after) = (units_by_code(old), units_by_code(new));
    let served = |u: &ManagementUnit, street_of: &HashMap<&str, &str>| -> BTreeSet<String> {
        u.grids
            .iter()
            .filter_map(|g| street_of.get(g.as_str()))
            .map(|s| (*s).to_owned())
            .collect()
    };
    let mut codes: BTreeSet<&str> = before.keys().copied().collect();
    codes.extend(after.keys().copied());
    for code in codes {
        let (o, n) = (before.get(code), after.get(code));
        if o == n {
            continue;
        }
        let mut streets = BTreeSet::new();
        if let Some(o) = o {
            streets.extend(served(o, &old_street));
        }
        if let Some(n) = n {
            streets.extend(served(n, &new_street));
        }
        match streets.len() {
            0 => scope.admin_only.push(format!(
                "management unit {code} serves no grid of any street"
            )),
            1 => scope.streets.extend(streets),
            _ => scope.admin_only.push(format!(
                "management unit {code} serves several streets ({})",
                streets.into_iter().collect::<Vec<_>>().join(", ")
            )),
        }
    }
    scope
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, ManagementUnitKind, Person, Role};
    use geo::{LineString, MultiLineString, MultiPolygon, Polygon};

    fn square(x: f64, y: f64, d: f64) -> Geometry {
        Geometry::Area(MultiPolygon(vec![Polygon::new(
            LineString::from(vec![(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]),
            vec![],
        )]))
    }

    fn feature(layer: Layer, code: &str, parent: Option<&str>, geometry: Geometry) -> Feature {
        Feature {
            layer,
            code: code.into(),
            name: format!("name {code}"),
            parent: parent.map(Into::into),
            kind: match layer {
                Layer::Street => Some(Kind::Town),
                Layer::ResidentGrid => Some(Kind::Residents),
                _ => None,
            },
            people: Vec::new(),
            attributes: serde_json::Map::new(),
            geometry,
        }
    }

    fn unit(code: &str, grids: &[&str], who: &str) -> ManagementUnit {
        ManagementUnit {
            code: code.into(),
            name: format!("unit {code}"),
            kind: ManagementUnitKind::CityManagement,
            grids: grids.iter().map(|g| (*g).to_owned()).collect(),
            people: vec![Person {
                role: Role::BlockHead,
                name: who.into(),
                phone: Some("13800000000".into()),
                photo_url: None,
                staff_id: None,
            }],
        }
    }

    /// District D; streets A (west) and B (east); grid per street; block per grid; one unit per
    /// street and one serving both.
    fn base() -> FeatureSet {
        let features = vec![
            feature(Layer::District, "D", None, square(0.0, 0.0, 2.0)),
            feature(Layer::Street, "A", Some("D"), square(0.0, 0.0, 1.0)),
            feature(Layer::Street, "B", Some("D"), square(1.0, 0.0, 1.0)),
            feature(Layer::ResidentGrid, "A1", Some("A"), square(0.0, 0.0, 1.0)),
            feature(Layer::ResidentGrid, "B1", Some("B"), square(1.0, 0.0, 1.0)),
            feature(Layer::Block, "A1-1", Some("A1"), square(0.0, 0.0, 1.0)),
            feature(Layer::Block, "B1-1", Some("B1"), square(1.0, 0.0, 1.0)),
        ];
        let units = vec![
            unit("UA", &["A1"], "甲"),
            unit("UB", &["B1"], "乙"),
            unit("UAB", &["A1", "B1"], "丙"),
        ];
        FeatureSet::new(features, units).unwrap_or_default()
    }

    fn with(
        set: &FeatureSet,
        edit: impl FnOnce(&mut Vec<Feature>, &mut Vec<ManagementUnit>),
    ) -> FeatureSet {
        let mut features = set.features().to_vec();
        let mut units = set.management_units.clone();
        edit(&mut features, &mut units);
        FeatureSet::new(features, units).unwrap_or_default()
    }

    fn streets(s: &ChangeScope) -> Vec<&str> {
        s.streets.iter().map(String::as_str).collect()
    }

    #[test]
    fn nothing_changed_touches_nothing() {
        let b = base();
        assert_eq!(b.len(), 7);
        assert!(effective_change(&b, &b).is_empty());
    }

    #[test]
    fn a_road_segment_under_another_streets_block_touches_that_street() {
        let b = base();
        let line = Geometry::Line(MultiLineString(vec![LineString::from(vec![
            (1.2, 0.5),
            (1.8, 0.5),
        ])]));
        let n = with(&b, |f, _| {
            f.push(feature(Layer::RoadSegment, "R9", Some("B1-1"), line));
        });
        let s = effective_change(&b, &n);
        assert_eq!(streets(&s), ["B"]);
        assert!(s.admin_only.is_empty(), "{:?}", s.admin_only);
    }

    #[test]
    fn a_unit_replaced_touches_the_streets_it_serves() {
        let b = base();
        let n = with(&b, |_, u| u[1] = unit("UB", &["B1"], "冒充者"));
        let s = effective_change(&b, &n);
        assert_eq!(streets(&s), ["B"]);
        let n = with(&b, |_, u| u[2] = unit("UAB", &["A1", "B1"], "冒充者"));
        let s = effective_change(&b, &n);
        assert!(s.streets.is_empty());
        assert_eq!(s.admin_only.len(), 1);
        assert!(
            s.admin_only[0].contains("several streets (A, B)"),
            "{:?}",
            s.admin_only
        );
        // Moving a unit from A to B touches both (and so needs several streets: admin only).
        let n = with(&b, |_, u| u[0] = unit("UA", &["B1"], "甲"));
        let s = effective_change(&b, &n);
        assert!(s.admin_only[0].contains("UA serves several streets (A, B)"));
    }

    #[test]
    fn the_district_and_features_under_no_street_are_admin_only() {
        let b = base();
        let n = with(&b, |f, _| {
            f.push(feature(Layer::District, "D2", None, square(5.0, 5.0, 1.0)));
        });
        let s = effective_change(&b, &n);
        assert!(
            s.admin_only[0].starts_with("district feature D2"),
            "{:?}",
            s.admin_only
        );
        let n = with(&b, |f, _| {
            f.push(feature(
                Layer::ResidentGrid,
                "X1",
                Some("NOPE"),
                square(0.2, 0.2, 0.1),
            ));
        });
        let s = effective_change(&b, &n);
        assert!(
            s.admin_only[0].contains("X1 is under no street"),
            "{:?}",
            s.admin_only
        );
    }

    #[test]
    fn a_feature_moved_between_streets_touches_both_and_removals_count() {
        let b = base();
        let n = with(&b, |f, _| {
            if let Some(g) = f.iter_mut().find(|g| g.code == "A1-1") {
                g.parent = Some("B1".into());
            }
        });
        assert_eq!(streets(&effective_change(&b, &n)), ["A", "B"]);
        let n = with(&b, |f, _| f.retain(|g| g.code != "B1-1"));
        assert_eq!(streets(&effective_change(&b, &n)), ["B"]);
    }

    #[test]
    fn unit_changes_are_counted_and_diffed() {
        let b = base();
        let n = with(&b, |_, u| {
            u[1] = unit("UB", &["B1"], "冒充者");
            u.remove(0);
        });
        let counts = super::super::change_counts(&b, &n);
        let c = counts[&Subject::ManagementUnit];
        assert_eq!((c.added, c.removed, c.changed), (0, 1, 1));
        let d = diff_sets(&b, &n);
        let got: Vec<(&str, ChangeKind, Vec<&str>)> = d
            .iter()
            .map(|c| (c.code.as_str(), c.change, c.fields.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("UA", ChangeKind::Removed, vec![]),
                ("UB", ChangeKind::Changed, vec!["people"])
            ]
        );
        assert!(d.iter().all(|c| c.layer == Subject::ManagementUnit));
        assert_eq!(serde_json::json!(d[0].layer), "management_unit");
    }
}
