//! Rule `overlap` (error): two features of one layer overlapping by at least the tolerance:
//! streets with streets; grids of any of the three kinds with each other; blocks with blocks —
//! siblings (computed by the coverage engine, [`super::coverage`]) or not (a block of one grid
//! pushing into a block of the neighbouring grid, computed by [`super::cross`]; the message then
//! names both parents). One finding per connected overlap polygon; `codes` are the two features;
//! the fix subtracts the overlap from the larger of the two (it loses the smaller share of its
//! area) — across parents, from the one lying outside its own parent there.
//!
//! This file owns the overlap pieces of two features ([`overlaps`]) and their message; the
//! coverage engine and [`super::cross`] find the pairs to compare.

use super::findings::{Defect, fix_msg};
use super::geom::measure;
use super::types::{Ctx, Fix, FixAction, Message, Rule, Severity};
use geo::{BooleanOps, MultiPolygon, Polygon};

/// The overlaps of features `ia` and `ib`, given as (clipped, oriented) areas `a` and `b`: one
/// defect per connected piece at least `tol` wide; `target` picks the feature to subtract a piece
/// from.
pub(crate) fn overlaps(
    a: &MultiPolygon<f64>,
    b: &MultiPolygon<f64>,
    (ia, ib): (usize, usize),
    tol: f64,
    mut target: impl FnMut(&Polygon<f64>) -> usize,
    out: &mut Vec<Defect>,
) {
    for p in a.intersection(b).0 {
        let m = measure(&p);
        if m.width_m < tol {
            continue;
        }
        let target = target(&p);
        out.push(Defect {
            rule: Rule::Overlap,
            what: "overlap",
            severity: Severity::Error,
            features: vec![ia, ib],
            polygon: p,
            area_m2: m.area_m2,
            width_m: m.width_m,
            target: Some(target),
        });
    }
}

/// The message and fix of an overlap defect (`sliver`: narrower than the sliver width).
pub(crate) fn describe(ctx: &Ctx<'_>, d: &Defect, sliver: bool) -> (Message, Option<Fix>) {
    let fs = ctx.features;
    let (a, b) = (&fs[d.features[0]], &fs[d.features[1]]);
    let noun_zh = if sliver {
        "细长重叠（碎片）"
    } else {
        "重叠"
    };
    let noun_en = if sliver { "sliver overlap" } else { "overlap" };
    // Features of different parents (found across scopes): name the parents too.
    let (pa, pb) = (ctx.parent(d.features[0]), ctx.parent(d.features[1]));
    let (across_zh, across_en) = match (pa, pb) {
        (Some(x), Some(y)) if x != y => (
            format!("（分属 {} 与 {}）", fs[x].code, fs[y].code),
            format!(" (in {} and {})", fs[x].code, fs[y].code),
        ),
        _ => (String::new(), String::new()),
    };
    let msg = Message {
        zh: format!(
            "{} {} 与 {} {}{across_zh} {} {:.1} 平方米",
            a.layer.name_zh(),
            a.code,
            b.layer.name_zh(),
            b.code,
            noun_zh,
            d.area_m2
        ),
        en: format!(
            "{} {} and {} {}{across_en}: {noun_en} of {:.1} m² (width {:.2} m)",
            a.layer, a.code, b.layer, b.code, d.area_m2, d.width_m
        ),
    };
    let t = d.target.map(|t| fs[t].code.as_str());
    let fix = fix_msg(
        FixAction::SubtractFrom,
        t,
        format!("从 {} 中扣除重叠部分", t.unwrap_or("")),
        format!("subtract the overlap from {}", t.unwrap_or("")),
    );
    (msg, fix)
}

#[cfg(test)]
mod tests {
    use crate::model::Layer;
    use crate::validate::shapes::*;
    use crate::validate::{FixAction, Options, Rule, validate_features};
    use geo::MultiPolygon;

    fn grid_pair(b: MultiPolygon<f64>) -> Vec<crate::model::Feature> {
        vec![
            area(
                Layer::Street,
                "s",
                None,
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 100.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "g1",
                Some("s"),
                MultiPolygon(vec![rect(0.0, 0.0, 60.0, 100.0)]),
            ),
            area(Layer::StreetGrid, "g2", Some("s"), b),
        ]
    }

    #[test]
    fn grids_of_different_kinds_overlap() {
        let fs = grid_pair(MultiPolygon(vec![rect(50.0, 0.0, 100.0, 100.0)]));
        let r = validate_features(&fs, &Options::default());
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        let f = &r.findings[0];
        assert_eq!((f.rule, f.kind), (Rule::Overlap, "overlap"));
        assert_eq!(f.codes, vec!["g1", "g2"]);
        assert!((f.area_m2.unwrap_or(0.0) - 1000.0).abs() < 1.0);
        let fix = f.fix.as_ref().map(|x| (x.action, x.target.clone()));
        assert_eq!(fix, Some((FixAction::SubtractFrom, Some("g1".to_string()))));
    }

    #[test]
    fn multipolygon_part_overlapping_a_neighbour() {
        // g2 has two parts; the second pokes 5 m into g1. Plus a hole in g1 filled by a g2 part.
        let g1 = MultiPolygon(vec![poly(
            &[(0.0, 0.0), (60.0, 0.0), (60.0, 100.0), (0.0, 100.0)],
            &[&[(10.0, 10.0), (10.0, 20.0), (20.0, 20.0), (20.0, 10.0)]],
        )]);
        let g2 = MultiPolygon(vec![
            rect(60.0, 0.0, 100.0, 100.0),
            rect(10.0, 10.0, 20.0, 20.0),
            rect(55.0, 40.0, 60.0, 50.0),
        ]);
        let fs = vec![
            area(
                Layer::Street,
                "s",
                None,
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 100.0)]),
            ),
            area(Layer::ResidentGrid, "g1", Some("s"), g1),
            area(Layer::StreetGrid, "g2", Some("s"), g2),
        ];
        let r = validate_features(&fs, &Options::default());
        let ov: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.rule == Rule::Overlap)
            .collect();
        assert_eq!(ov.len(), 1, "{:?}", r.findings);
        assert!((ov[0].area_m2.unwrap_or(0.0) - 50.0).abs() < 0.5);
        assert!(
            r.findings
                .iter()
                .all(|f| f.rule == Rule::Overlap || f.rule == Rule::InvalidGeometry),
            "{:?}",
            r.findings
        );
    }

    #[test]
    fn blocks_in_different_grids_are_different_scopes() {
        let fs = vec![
            area(
                Layer::Street,
                "s",
                None,
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 100.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "g1",
                Some("s"),
                MultiPolygon(vec![rect(0.0, 0.0, 50.0, 100.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "g2",
                Some("s"),
                MultiPolygon(vec![rect(50.0, 0.0, 100.0, 100.0)]),
            ),
            area(
                Layer::Block,
                "b1",
                Some("g1"),
                MultiPolygon(vec![rect(0.0, 0.0, 50.0, 100.0)]),
            ),
            area(
                Layer::Block,
                "b2",
                Some("g2"),
                MultiPolygon(vec![rect(50.0, 0.0, 100.0, 100.0)]),
            ),
        ];
        assert!(
            validate_features(&fs, &Options::default())
                .findings
                .is_empty()
        );
    }
}
