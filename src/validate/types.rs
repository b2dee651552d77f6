//! The vocabulary of validation shared by every rule: the run [`Options`], [`Rule`], [`Severity`],
//! [`Finding`] with its [`Message`] and [`Fix`], the [`Summary`] and [`Report`], and the read-only
//! context of one run ([`Ctx`]). It uses no rule; the pipeline is in `validate/mod.rs`.

use crate::model::{Feature, Layer};
use geo::MultiPolygon;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// Options of a validation run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Differences below this many metres are not defects (see the module docs).
    pub tolerance_m: f64,
    /// Gaps and overlaps narrower than this (width = 2·area/perimeter) are slivers.
    pub sliver_width_m: f64,
    /// Check grid codes as 15-digit unit-grid codes (rule `codes`, kind `grid_code_15`, see
    /// [`super::codes`]); off by default.
    pub grid_codes_15: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tolerance_m: 0.05,
            sliver_width_m: 1.0,
            grid_codes_15: false,
        }
    }
}

/// The rule a finding belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Broken geometry of one feature.
    InvalidGeometry,
    /// Codes and parents.
    Hierarchy,
    /// Two features of one layer overlapping (siblings or not).
    Overlap,
    /// Part of a parent covered by none of its children.
    Gap,
    /// Part of a child outside its parent; road segment leaving its grid.
    Containment,
    /// A thin gap or overlap.
    Sliver,
    /// Codes that do not follow their scheme: 15-digit grid codes, component codes, shop credit
    /// codes and ids (see [`super::codes`] and [`crate::assets::rules`]).
    Codes,
}

impl Rule {
    /// Identifier used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::InvalidGeometry => "invalid_geometry",
            Rule::Hierarchy => "hierarchy",
            Rule::Overlap => "overlap",
            Rule::Gap => "gap",
            Rule::Containment => "containment",
            Rule::Sliver => "sliver",
            Rule::Codes => "codes",
        }
    }
}

/// Severity: errors block publishing, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks publishing.
    Error,
    /// Shown, does not block.
    Warning,
}

impl Severity {
    /// Identifier used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A message in Chinese and English.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

/// What the repair would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FixAction {
    /// Add the defect polygon to `target` (gaps).
    MergeInto,
    /// Remove the defect polygon from `target` (overlaps, parts outside the parent).
    SubtractFrom,
    /// Rebuild `target`'s rings (self-intersections, repeated points, spikes).
    Repair,
    /// Needs a person: the data must be corrected by hand.
    Manual,
}

impl FixAction {
    /// The action's name, as serialised (`merge_into`, `subtract_from`, `repair`, `manual`).
    pub fn as_str(self) -> &'static str {
        match self {
            FixAction::MergeInto => "merge_into",
            FixAction::SubtractFrom => "subtract_from",
            FixAction::Repair => "repair",
            FixAction::Manual => "manual",
        }
    }
}

/// A fix suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fix {
    /// What to do.
    pub action: FixAction,
    /// The feature to change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// In words.
    pub message: Message,
}

/// One defect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Rule.
    pub rule: Rule,
    /// Sub-kind within the rule, e.g. `self_intersection`, `unknown_parent`, `outside_parent`.
    pub kind: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Codes of the features involved (for overlaps both features; for gaps the parent; for
    /// containment the child, then the parent).
    pub codes: Vec<String>,
    /// GeoJSON geometry of the defect itself.
    pub location: Option<serde_json::Value>,
    /// Geodesic area of the defect, m².
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_m2: Option<f64>,
    /// Geodesic length (road segment outside its grid, spike), m.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_m: Option<f64>,
    /// Width = 2·area/perimeter, m (gaps, overlaps, parts outside).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width_m: Option<f64>,
    /// Message.
    pub message: Message,
    /// Suggested fix.
    pub fix: Option<Fix>,
    /// The location was cut down to its first positions (points) or its bounding box (lines,
    /// polygons) to bound the report; see [`report`].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub location_simplified: bool,
    /// Set on a finding that summarises others of its group: the number of findings it stands
    /// for (itself included); see [`report`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omitted: Option<usize>,
    /// The defect polygon, for `--fix`.
    #[serde(skip)]
    pub shape: Option<MultiPolygon<f64>>,
}

/// Counts and timing of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Features checked.
    pub features_checked: usize,
    /// Coverage scopes checked (parent + children).
    pub scopes_checked: usize,
    /// Number of error findings.
    pub errors: usize,
    /// Number of warning findings.
    pub warnings: usize,
    /// Findings per rule, then per severity.
    pub by_rule: BTreeMap<String, BTreeMap<String, usize>>,
    /// Wall time of the validation, milliseconds.
    pub time_ms: f64,
    /// Tolerance used, metres.
    pub tolerance_m: f64,
}

/// The result of a validation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Summary.
    pub summary: Summary,
    /// Findings, ordered by rule, severity, codes and kind; bounded (see [`report`]): a finding
    /// with `omitted: n` stands for n findings, and the summary counts them all.
    pub findings: Vec<Finding>,
}

impl Report {
    /// True when there is no error (warnings allowed).
    pub fn is_clean(&self) -> bool {
        self.summary.errors == 0
    }
}

/// Shared, read-only state of one run.
pub(crate) struct Ctx<'a> {
    pub features: &'a [Feature],
    pub opts: &'a Options,
    /// Code → index of the first feature with that code.
    pub by_code: FxHashMap<&'a str, usize>,
    /// Index of each feature's parent, when it exists and has an allowed layer.
    parents: Vec<Option<usize>>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(features: &'a [Feature], opts: &'a Options) -> Self {
        let mut by_code = FxHashMap::default();
        by_code.reserve(features.len());
        for (i, f) in features.iter().enumerate() {
            by_code.entry(f.code.as_str()).or_insert(i);
        }
        let parents = features
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let p = *by_code.get(f.parent.as_deref()?)?;
                (p != i && f.layer.parent_layers().contains(&features[p].layer)).then_some(p)
            })
            .collect();
        Ctx {
            features,
            opts,
            by_code,
            parents,
        }
    }

    /// The parent index of feature `i` when it exists and has an allowed layer.
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parents[i]
    }

    /// The street a feature belongs to (itself for a street), following valid parents.
    pub fn street_of(&self, mut i: usize) -> Option<usize> {
        for _ in 0..8 {
            if self.features[i].layer == Layer::Street {
                return Some(i);
            }
            i = self.parent(i)?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::FixAction;

    #[test]
    fn fix_action_names_are_their_serialised_names() {
        for a in [
            FixAction::MergeInto,
            FixAction::SubtractFrom,
            FixAction::Repair,
            FixAction::Manual,
        ] {
            assert_eq!(
                serde_json::to_value(a).expect("serialises"),
                serde_json::Value::String(a.as_str().to_owned())
            );
        }
    }
}
