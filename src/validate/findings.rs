//! Shared pieces of the coverage findings: the [`Defect`] a rule computes before it becomes a
//! finding, the [`Finding`] record made from a defect ([`defect_finding`]), fix suggestions
//! ([`fix_msg`]) and the rounding of reported measures ([`round`]). Used by the rules
//! (`overlap`, `gap`, `containment`, `sliver`), the coverage engine and the report; it uses none
//! of them.

use super::geom::area_json;
use super::types::{Ctx, Finding, Fix, FixAction, Message, Rule, Severity};
use geo::{MultiPolygon, Polygon};

/// A defect polygon found in a scope, before it becomes a finding.
pub(crate) struct Defect {
    pub rule: Rule,
    /// `overlap`, `gap` or `outside_parent`.
    pub what: &'static str,
    pub severity: Severity,
    /// Children involved (scope positions are already resolved to feature indices).
    pub features: Vec<usize>,
    pub polygon: Polygon<f64>,
    pub area_m2: f64,
    pub width_m: f64,
    /// Gaps: the neighbour sharing the longest boundary. Overlaps: the feature to subtract from.
    pub target: Option<usize>,
}

/// The finding of defect `d` with the rule's `message` and `fix`; reported under rule `sliver`
/// when `sliver` (its `kind` still says what the defect is).
pub(crate) fn defect_finding(
    ctx: &Ctx<'_>,
    d: Defect,
    sliver: bool,
    message: Message,
    fix: Option<Fix>,
) -> Finding {
    let fs = ctx.features;
    let codes: Vec<String> = d.features.iter().map(|&i| fs[i].code.clone()).collect();
    let shape = MultiPolygon(vec![d.polygon]);
    Finding {
        rule: if sliver { Rule::Sliver } else { d.rule },
        kind: d.what,
        severity: d.severity,
        codes,
        location: Some(area_json(&shape)),
        area_m2: Some(round(d.area_m2, 3)),
        length_m: None,
        width_m: Some(round(d.width_m, 3)),
        message,
        fix,
        shape: Some(shape),
        location_simplified: false,
        omitted: None,
    }
}

/// `x` rounded to `digits` decimals.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}

/// A fix suggestion with its messages.
pub(crate) fn fix_msg(
    action: FixAction,
    target: Option<&str>,
    zh: String,
    en: String,
) -> Option<Fix> {
    Some(Fix {
        action,
        target: target.map(Into::into),
        message: Message { zh, en },
    })
}
