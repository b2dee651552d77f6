//! Rule `gap`: the part of a parent covered by none of its children: the district by its streets
//! and a street by its grids (the three kinds together) are errors; a grid by its blocks is a
//! warning (cases there fall back to the grid). A scope whose parent has no children at all is
//! not checked (nothing has been drawn there yet). One finding per connected gap polygon; `codes`
//! are the parent, then the suggested merge target: the child sharing the longest boundary with
//! the gap. The coverage engine ([`super::coverage`]) finds the boxes to look in; this file
//! computes the gap polygons there ([`gaps`]), their merge target and their message.

use super::findings::{Defect, fix_msg};
use super::geom::{bbox, distance_to_boundary_m, expand, measure, metres_to_deg, rects_intersect};
use super::types::{Ctx, Fix, FixAction, Message, Rule, Severity};
use crate::geometry::measure::LocalFrame;
use crate::model::Feature;
use geo::{BooleanOps, Coord, MultiPolygon, Polygon, Rect};

/// The gap severity of a scope: errors but for blocks in a grid (warnings: cases fall back to
/// the grid).
pub(crate) fn gap_severity(parent: &Feature) -> Severity {
    if parent.layer.is_grid() {
        Severity::Warning
    } else {
        Severity::Error
    }
}

/// The gaps of one cluster box: the clipped parent `pclip` (feature `parent`) minus the union of
/// the clipped children `clipped` (features `involved`). One defect per piece at least `tol`
/// wide, with the child sharing the longest boundary with it as merge target.
pub(crate) fn gaps(
    pclip: &MultiPolygon<f64>,
    clipped: &[MultiPolygon<f64>],
    involved: &[usize],
    parent: usize,
    severity: Severity,
    tol: f64,
    out: &mut Vec<Defect>,
) {
    let union = geo::unary_union(clipped.iter());
    for p in pclip.difference(&union).0 {
        let m = measure(&p);
        if m.width_m < tol {
            continue;
        }
        let target = longest_shared(&p, involved, clipped, tol);
        let mut features = vec![parent];
        if let Some(t) = target {
            features.push(t);
        }
        out.push(Defect {
            rule: Rule::Gap,
            what: "gap",
            severity,
            features,
            polygon: p,
            area_m2: m.area_m2,
            width_m: m.width_m,
            target,
        });
    }
}

/// The entry of `involved` whose clipped area (same position in `clipped`) shares the longest
/// boundary with `gap`.
fn longest_shared(
    gap: &Polygon<f64>,
    involved: &[usize],
    clipped: &[MultiPolygon<f64>],
    tol: f64,
) -> Option<usize> {
    let eps = tol.max(0.001);
    let mut score = vec![0.0f64; involved.len()];
    let boxes: Vec<Option<Rect<f64>>> = clipped.iter().map(bbox).collect();
    let frame = gap
        .exterior()
        .0
        .first()
        .map(|c| LocalFrame::new(c.x, c.y))?;
    let grow = metres_to_deg(eps, gap.exterior().0[0].y);
    for r in std::iter::once(gap.exterior()).chain(gap.interiors()) {
        for w in r.0.windows(2) {
            let m = Coord {
                x: (w[0].x + w[1].x) / 2.0,
                y: (w[0].y + w[1].y) / 2.0,
            };
            let (pa, pb) = (frame.to_xy(w[0]), frame.to_xy(w[1]));
            let len = (pb.x - pa.x).hypot(pb.y - pa.y);
            let mr = expand(&Rect::new(m, m), grow);
            for (k, c) in clipped.iter().enumerate() {
                if !boxes[k].is_some_and(|b| rects_intersect(&b, &mr)) {
                    continue;
                }
                if distance_to_boundary_m(m, c) <= eps {
                    score[k] += len;
                }
            }
        }
    }
    let (best, s) = score
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))?;
    (*s > 0.0).then_some(involved[best])
}

/// The message and fix of a gap defect (`sliver`: narrower than the sliver width).
pub(crate) fn describe(ctx: &Ctx<'_>, d: &Defect, sliver: bool) -> (Message, Option<Fix>) {
    let fs = ctx.features;
    let p = &fs[d.features[0]];
    let noun_zh = if sliver {
        "细长空隙（碎片）"
    } else {
        "空隙"
    };
    let noun_en = if sliver { "sliver gap" } else { "gap" };
    let msg = Message {
        zh: format!(
            "{} {} 内有 {:.1} 平方米{}未被下级覆盖",
            p.layer.name_zh(),
            p.code,
            d.area_m2,
            noun_zh
        ),
        en: format!(
            "{} {}: {noun_en} of {:.1} m² (width {:.2} m) covered by none of its children",
            p.layer, p.code, d.area_m2, d.width_m
        ),
    };
    let fix = match d.target {
        Some(t) => fix_msg(
            FixAction::MergeInto,
            Some(&fs[t].code),
            format!("将空隙并入相邻的 {}（共用边界最长）", fs[t].code),
            format!(
                "merge the gap into {} (longest shared boundary)",
                fs[t].code
            ),
        ),
        None => fix_msg(
            FixAction::Manual,
            None,
            "空隙不与任何下级相邻，请补画".into(),
            "the gap borders no child: draw the missing area".into(),
        ),
    };
    (msg, fix)
}

#[cfg(test)]
mod tests {
    use crate::model::Layer;
    use crate::validate::shapes::*;
    use crate::validate::{FixAction, Options, Rule, Severity, validate_features};
    use geo::MultiPolygon;

    #[test]
    fn gap_at_a_tripoint_is_found_with_its_merge_target() {
        // Three grids meet at (50, 50); a 4 m triangle at the tripoint is uncovered.
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
                MultiPolygon(vec![poly(
                    &[
                        (0.0, 0.0),
                        (50.0, 0.0),
                        (50.0, 46.0),
                        (46.0, 50.0),
                        (0.0, 50.0),
                    ],
                    &[],
                )]),
            ),
            area(
                Layer::ResidentGrid,
                "b",
                Some("s"),
                MultiPolygon(vec![poly(
                    &[
                        (50.0, 0.0),
                        (100.0, 0.0),
                        (100.0, 100.0),
                        (50.0, 100.0),
                        (50.0, 46.0),
                    ],
                    &[],
                )]),
            ),
            area(
                Layer::ExtendedGrid,
                "c",
                Some("s"),
                MultiPolygon(vec![poly(
                    &[
                        (0.0, 50.0),
                        (46.0, 50.0),
                        (50.0, 50.0),
                        (50.0, 100.0),
                        (0.0, 100.0),
                    ],
                    &[],
                )]),
            ),
        ];
        let r = validate_features(&fs, &Options::default());
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        let f = &r.findings[0];
        assert_eq!((f.rule, f.severity), (Rule::Gap, Severity::Error));
        assert!((f.area_m2.unwrap_or(0.0) - 8.0).abs() < 0.05);
        assert_eq!(f.codes[0], "s");
        let fix = f.fix.as_ref().map(|x| x.action);
        assert_eq!(fix, Some(FixAction::MergeInto));
    }

    #[test]
    fn gap_in_a_grid_is_a_warning_and_a_hole_gap_is_found() {
        let fs = vec![
            area(
                Layer::Street,
                "s",
                None,
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 100.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "g",
                Some("s"),
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 100.0)]),
            ),
            // A block with a hole that nothing fills.
            area(
                Layer::Block,
                "b",
                Some("g"),
                MultiPolygon(vec![poly(
                    &[(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)],
                    &[&[(40.0, 40.0), (40.0, 60.0), (60.0, 60.0), (60.0, 40.0)]],
                )]),
            ),
        ];
        let r = validate_features(&fs, &Options::default());
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        assert_eq!(
            (r.findings[0].rule, r.findings[0].severity),
            (Rule::Gap, Severity::Warning)
        );
        assert!((r.findings[0].area_m2.unwrap_or(0.0) - 400.0).abs() < 1.0);
        assert_eq!(
            r.findings[0].fix.as_ref().and_then(|x| x.target.clone()),
            Some("b".into())
        );
        assert!(r.is_clean());
    }

    #[test]
    fn district_gap_between_streets() {
        let fs = vec![
            area(
                Layer::District,
                "d",
                None,
                MultiPolygon(vec![rect(0.0, 0.0, 300.0, 100.0)]),
            ),
            area(
                Layer::Street,
                "s1",
                Some("d"),
                MultiPolygon(vec![rect(0.0, 0.0, 140.0, 100.0)]),
            ),
            area(
                Layer::Street,
                "s2",
                None,
                MultiPolygon(vec![rect(150.0, 0.0, 300.0, 100.0)]),
            ),
        ];
        let r = validate_features(&fs, &Options::default());
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        assert_eq!(r.findings[0].rule, Rule::Gap);
        assert_eq!(r.findings[0].codes[0], "d");
    }
}
