//! Validation of a feature set: broken geometry, hierarchy, and the coverage rules of the glossary
//! (streets tile the district; the three grid layers together tile each street; blocks lie inside
//! their grid without overlapping; road segments lie inside their grid).
//!
//! # Pipeline
//!
//! 1. [`hierarchy`]: codes and parents (unknown or wrong-layer parent, duplicate code, cycles).
//! 2. [`invalid_geometry`]: each area on its own (self-intersections, repeated points, spikes,
//!    collapsed rings, holes outside their shell, overlapping holes, overlapping parts).
//! 3. Coverage, one *scope* at a time (a parent and its children: district → streets,
//!    street → its grids of the three kinds together, grid → its blocks), in parallel over scopes:
//!    [`coverage`] matches the directed edges of the children against the reversed edges of the
//!    parent (the *edge-matching* approach of a coverage validator). When every edge cancels, the
//!    children tile the parent exactly and nothing more is computed. Only where edges are left over
//!    are exact defect polygons computed with boolean operations on the few polygons involved, and
//!    turned into [`overlap`], [`gap`], [`containment`] and [`sliver`] findings.
//! 4. [`cross`]: overlaps between features of one layer that are not siblings (a block pushing
//!    into a block of the neighbouring grid), by edge matching each layer against its parents.
//! 5. [`containment`] also checks road segments against their grid.
//! 6. The findings are sorted, counted into the [`Summary`], then bounded ([`report`]): at most
//!    100 per rule, kind, severity and codes (the rest summarised in one finding with `omitted`),
//!    compact locations. The counts stay exact.
//!
//! # Tolerance (`tolerance_m`, default 0.05 m)
//!
//! Differences smaller than the tolerance are not defects. Exactly:
//!
//! * A gap, overlap or part outside the parent is reported only when its **width** is at least the
//!   tolerance, where width = 2 · area / perimeter (geodesic m² and m). For a long strip this is
//!   the strip's width; for a compact shape it lies between its inradius and its inscribed
//!   diameter. So a vertex lying up to `tolerance_m` off a neighbour's edge (with or without a
//!   matching vertex), or two vertices up to `tolerance_m` apart, never produce a finding.
//! * A spike is a vertex where the ring turns back on itself: the nearer of its two neighbours
//!   lies closer than the tolerance to the segment from the spike to the other neighbour, and is
//!   at least the tolerance away from the spike.
//! * A ring collapses when it has fewer than three distinct positions or all of them lie within
//!   the tolerance of one line.
//! * A hole is outside its shell when one of its vertices is outside the shell by more than the
//!   tolerance; holes (and parts of a multipolygon) overlap when their intersection is at least
//!   the tolerance wide.
//! * A road segment leaves its grid when a piece of it outside the grid reaches farther than the
//!   tolerance from the grid.
//!
//! # Slivers
//!
//! A gap or overlap whose width is below `sliver_width_m` (default 1 m) is reported with rule
//! `sliver` (its `kind` says `gap` or `overlap`) and the severity the gap or overlap would have had:
//! it still breaks full coverage, but it is drawing noise, not a real disagreement about ownership.

pub mod cli;
mod coverage;
mod cross;
pub mod fix;
mod geom;
pub mod hierarchy;
pub mod invalid_geometry;
pub mod output;
pub mod report;

pub mod containment;
pub mod gap;
pub mod overlap;
pub mod shapes;
pub mod sliver;

use crate::model::{Feature, FeatureSet, Layer};
use geo::MultiPolygon;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

/// Options of a validation run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Differences below this many metres are not defects (see the module docs).
    pub tolerance_m: f64,
    /// Gaps and overlaps narrower than this (width = 2·area/perimeter) are slivers.
    pub sliver_width_m: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tolerance_m: 0.05,
            sliver_width_m: 1.0,
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

/// The report stored with a draft: the whole draft (the current generation with the upload
/// applied) validated with the default options, as JSON, with its number of errors. Used by every
/// way a draft is made (CLI import, HTTP upload, the first-run demo). A report that cannot be
/// serialised is an error, never stored in its place.
pub fn draft_report(whole: &FeatureSet) -> Result<(serde_json::Value, usize), serde_json::Error> {
    let report = validate(whole, &Options::default());
    let errors = report.summary.errors;
    Ok((serde_json::to_value(&report)?, errors))
}

/// Validates a whole feature set.
pub fn validate(set: &FeatureSet, opts: &Options) -> Report {
    validate_features(set.features(), opts)
}

/// Validates features given as a slice (may contain duplicate codes, which are reported).
pub fn validate_features(features: &[Feature], opts: &Options) -> Report {
    run(features, opts, None)
}

/// Validates a draft in which `streets` were replaced: only those streets, their descendants and
/// their seams with neighbouring streets (the district scope, whose findings are kept only when
/// they involve one of `streets`) are checked. Findings elsewhere are not recomputed.
pub fn validate_scoped(set: &FeatureSet, streets: &[String], opts: &Options) -> Report {
    run(set.features(), opts, Some(streets))
}

/// Shared, read-only state of one run.
pub(crate) struct Ctx<'a> {
    pub features: &'a [Feature],
    pub opts: &'a Options,
    /// Code → index of the first feature with that code.
    pub by_code: geom::FxMap<&'a str, usize>,
    /// Index of each feature's parent, when it exists and has an allowed layer.
    parents: Vec<Option<usize>>,
}

impl<'a> Ctx<'a> {
    fn new(features: &'a [Feature], opts: &'a Options) -> Self {
        let mut by_code = geom::FxMap::default();
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

fn run(features: &[Feature], opts: &Options, streets: Option<&[String]>) -> Report {
    let t0 = Instant::now();
    let ctx = Ctx::new(features, opts);
    let in_scope: Option<HashSet<usize>> = streets.map(|s| {
        let wanted: HashSet<&str> = s.iter().map(String::as_str).collect();
        (0..features.len())
            .filter(|&i| {
                ctx.street_of(i)
                    .is_some_and(|st| wanted.contains(features[st].code.as_str()))
            })
            .collect()
    });
    let keep = |i: usize| in_scope.as_ref().is_none_or(|s| s.contains(&i));

    let mut findings = hierarchy::check(&ctx, &keep);
    let per_feature: Vec<Vec<Finding>> = (0..features.len())
        .into_par_iter()
        .filter(|&i| keep(i))
        .map(|i| invalid_geometry::check_feature(&features[i], opts))
        .collect();
    findings.extend(per_feature.into_iter().flatten());

    let all_scopes = coverage::scopes(&ctx);
    let scopes: Vec<&coverage::Scope> = all_scopes
        .iter()
        .filter(|s| match s.parent {
            Some(p) if features[p].layer == Layer::District => true,
            None => true,
            Some(p) => keep(p),
        })
        .collect();
    let scopes_checked = scopes.len();
    let cov: Vec<Finding> = scopes
        .par_iter()
        .map(|s| coverage::check_scope(&ctx, s))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    // Overlaps between features of one layer that are not siblings (blocks of different grids…).
    let cross = cross::check(&ctx, &all_scopes, &cov);
    for f in cov.into_iter().chain(cross) {
        // District-scope findings in a scoped run: only those touching the replaced streets.
        if in_scope.is_some()
            && !f
                .codes
                .iter()
                .any(|c| ctx.by_code.get(c.as_str()).is_some_and(|&i| keep(i)))
        {
            continue;
        }
        findings.push(f);
    }
    let roads: Vec<Vec<Finding>> = (0..features.len())
        .into_par_iter()
        .filter(|&i| keep(i) && features[i].layer == Layer::RoadSegment)
        .map(|i| containment::check_road(&ctx, i))
        .collect();
    findings.extend(roads.into_iter().flatten());

    findings.sort_by(|a, b| {
        (a.rule, a.severity, &a.codes, a.kind)
            .cmp(&(b.rule, b.severity, &b.codes, b.kind))
            .then(
                b.area_m2
                    .unwrap_or(0.0)
                    .total_cmp(&a.area_m2.unwrap_or(0.0)),
            )
    });
    let mut summary = Summary {
        features_checked: in_scope.as_ref().map_or(features.len(), HashSet::len),
        scopes_checked,
        tolerance_m: opts.tolerance_m,
        ..Summary::default()
    };
    for f in &findings {
        match f.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
        }
        *summary
            .by_rule
            .entry(f.rule.as_str().to_string())
            .or_default()
            .entry(f.severity.as_str().to_string())
            .or_default() += 1;
    }
    let findings = report::bound(findings);
    summary.time_ms = t0.elapsed().as_secs_f64() * 1000.0;
    Report { summary, findings }
}
