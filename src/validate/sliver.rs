//! Rule `sliver`: gaps and overlaps narrower than `sliver_width_m` (default 1 m), where
//! width = 2 · area / perimeter (geodesic). For a long strip that is the strip's width.
//!
//! A sliver keeps the severity its gap or overlap would have had (it still breaks full coverage),
//! and its `kind` says which it is (`gap` or `overlap`), so a planner sees at a glance which
//! defects are drawing noise (snap the vertices) and which are real disagreements (redraw).
//! Parts of a child outside its parent stay `containment` findings whatever their width. The
//! coverage engine asks [`is_sliver_defect`] when it turns a defect into a finding.

use super::findings::Defect;
use super::types::{Ctx, Rule};

/// Whether a defect of this width is a sliver.
pub fn is_sliver(width_m: f64, sliver_width_m: f64) -> bool {
    width_m < sliver_width_m
}

/// Whether defect `d` is reported as a sliver: a gap or overlap narrower than `sliver_width_m`
/// (parts outside the parent never are).
pub(crate) fn is_sliver_defect(ctx: &Ctx<'_>, d: &Defect) -> bool {
    d.rule != Rule::Containment && is_sliver(d.width_m, ctx.opts.sliver_width_m)
}

#[cfg(test)]
mod tests {
    use crate::model::Layer;
    use crate::validate::shapes::*;
    use crate::validate::{Options, Rule, validate_features};

    #[test]
    fn thin_gap_is_a_sliver_wide_gap_is_a_gap() {
        // Two blocks in a grid: 0.3 m apart (sliver) and, elsewhere, 5 m apart (gap).
        for (dx, rule) in [(0.3, Rule::Sliver), (5.0, Rule::Gap)] {
            let fs = vec![
                area(
                    Layer::Street,
                    "s",
                    None,
                    MultiPolygon(vec![rect(0.0, 0.0, 100.0, 50.0)]),
                ),
                area(
                    Layer::ResidentGrid,
                    "g1",
                    Some("s"),
                    MultiPolygon(vec![rect(0.0, 0.0, 50.0, 50.0)]),
                ),
                area(
                    Layer::ResidentGrid,
                    "g2",
                    Some("s"),
                    MultiPolygon(vec![rect(50.0 + dx, 0.0, 100.0, 50.0)]),
                ),
            ];
            let r = validate_features(&fs, &Options::default());
            let cov: Vec<_> = r
                .findings
                .iter()
                .filter(|f| f.rule != Rule::InvalidGeometry)
                .collect();
            assert_eq!(cov.len(), 1, "{cov:?}");
            assert_eq!(cov[0].rule, rule);
            assert_eq!(cov[0].kind, "gap");
            let w = cov[0].width_m.unwrap_or(0.0);
            // width = 2·area/perimeter of a dx × 50 m strip.
            let expect = 2.0 * dx * 50.0 / (2.0 * (dx + 50.0));
            assert!(
                (w - expect).abs() < 0.01 * expect + 0.002,
                "{w} vs {expect}"
            );
        }
    }

    #[test]
    fn below_tolerance_is_nothing() {
        let fs = vec![
            area(
                Layer::Street,
                "s",
                None,
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 50.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "g1",
                Some("s"),
                MultiPolygon(vec![rect(0.0, 0.0, 50.03, 50.0)]),
            ),
            area(
                Layer::ResidentGrid,
                "g2",
                Some("s"),
                MultiPolygon(vec![rect(49.98, 0.0, 100.0, 50.0)]),
            ),
        ];
        let r = validate_features(&fs, &Options::default());
        assert!(r.findings.is_empty(), "{:?}", r.findings);
    }
    use geo::MultiPolygon;
}
