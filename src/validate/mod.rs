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
//!    are exact defect polygons computed with boolean operations on the few polygons involved, by
//!    the rules [`overlap`], [`gap`] and [`containment`] in the boxes the engine clips to; the
//!    engine turns each defect into a finding with the rule's message ([`sliver`] decides whether
//!    it is reported as a sliver; `findings` builds the record).
//! 4. [`cross`]: overlaps between features of one layer that are not siblings (a block pushing
//!    into a block of the neighbouring grid), by edge matching each layer against its parents.
//! 5. [`containment`] also checks road segments against their grid.
//!    When [`Options::grid_codes_15`] is on, [`codes`] checks grid codes as 15-digit unit-grid
//!    codes (off by default: the results are then unchanged).
//! 6. The findings are sorted, counted into the [`Summary`], then bounded ([`report`]): at most
//!    100 per rule, kind, severity and codes (the rest summarised in one finding with `omitted`),
//!    compact locations. The counts stay exact.
//!
//! The shared vocabulary (options, rules, findings, the report, the run context) is in `types`
//! and re-exported here; this file runs the pipeline. No rule file uses the coverage engine or
//! another rule: `coverage` and `cross` call the rules, the rules use `findings` and `geom`.
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

pub mod codes;
mod coverage;
mod cross;
mod findings;
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
mod types;

pub(crate) use types::Ctx;
pub use types::{Finding, Fix, FixAction, Message, Options, Report, Rule, Severity, Summary};

use crate::model::{Feature, FeatureSet, Layer};
use rayon::prelude::*;
use std::collections::HashSet;
use std::time::Instant;

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
    if opts.grid_codes_15 {
        findings.extend(codes::check(&ctx, &keep));
    }

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
