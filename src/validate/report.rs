//! Bounding and paging a report, so that no upload can make it large.
//!
//! A 190 000-vertex zigzag used to give 189 999 spike findings (a 95 MB report). Now, after the
//! findings are sorted and counted (the [`super::Summary`] counts every defect, so the error count
//! that refuses a publish is exact):
//!
//! 1. **Per group.** Of the findings with the same rule, kind, severity and codes, the first
//!    [`MAX_PER_GROUP`] are listed (largest area first); the rest become one finding of that group
//!    with `omitted: n` (the number of findings it stands for), no location, the sum of their
//!    areas, and their defect polygons kept in memory so `--fix` still repairs them all.
//! 2. **Whole report.** Past the first [`MAX_LISTED`] findings, the rest are folded into one
//!    finding per rule, kind and severity (empty `codes`, no fix, `omitted: n`) at the end.
//! 3. **Locations.** Coordinates are rounded to 1e-7° (about 1 cm). A location with more than
//!    [`MAX_LOCATION_POSITIONS`] positions, or any location once the report holds
//!    [`MAX_REPORT_POSITIONS`] positions, is replaced by its first positions (points) or its
//!    bounding box (lines, polygons), and the finding says `location_simplified: true`.
//!
//! Invariant: `summary.errors` (and `warnings`, `by_rule`) equal the sum over the listed findings
//! of `omitted` (or 1 when absent).
//!
//! [`page`] and [`page_value`] cut a report (in memory, or as stored JSON) into pages of findings.

use super::types::{Finding, Message, Report, Summary};
use geo::MultiPolygon;
use serde::Serialize;
use serde_json::{Value, json};

/// Findings listed per (rule, kind, severity, codes); the rest are summarised in one finding.
pub const MAX_PER_GROUP: usize = 100;
/// Findings listed in a whole report before the rest are folded per rule, kind and severity.
pub const MAX_LISTED: usize = 10_000;
/// Positions kept in one finding's location.
pub const MAX_LOCATION_POSITIONS: usize = 1_000;
/// Positions kept in all locations of a report together.
pub const MAX_REPORT_POSITIONS: usize = 200_000;
/// Largest page of findings [`page`] hands out.
pub const MAX_PAGE: usize = 1_000;
/// Decimal places of the coordinates of a location (1e-7° is about 1 cm).
pub const LOCATION_DECIMALS: i32 = 7;

/// How many findings a listed finding stands for.
pub fn represented(f: &Finding) -> usize {
    f.omitted.unwrap_or(1)
}

/// Applies steps 1–3 to findings sorted by (rule, severity, codes, kind).
pub(crate) fn bound(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len().min(MAX_LISTED + 16));
    let mut run_len = 0usize;
    for f in findings {
        let same = out.last().is_some_and(|l: &Finding| {
            (l.rule, l.severity, &l.codes, l.kind) == (f.rule, f.severity, &f.codes, f.kind)
        });
        run_len = if same { run_len + 1 } else { 1 };
        if run_len <= MAX_PER_GROUP {
            out.push(f);
        } else if run_len == MAX_PER_GROUP + 1 {
            out.push(summary_of(f));
        } else if let Some(last) = out.last_mut() {
            absorb(last, f);
        }
    }
    if out.len() > MAX_LISTED {
        let rest = out.split_off(MAX_LISTED);
        let mut folded: Vec<Finding> = Vec::new();
        for mut f in rest {
            f.codes.clear();
            f.fix = None;
            match folded
                .iter()
                .position(|g| (g.rule, g.severity, g.kind) == (f.rule, f.severity, f.kind))
            {
                Some(k) => absorb(&mut folded[k], f),
                None => folded.push(summary_of(f)),
            }
        }
        for g in &mut folded {
            g.shape = None;
            g.message = folded_message(g);
        }
        out.extend(folded);
        out.sort_by_key(|f| (f.rule, f.severity));
    }
    let mut budget = MAX_REPORT_POSITIONS;
    for f in &mut out {
        if let Some(loc) = f.location.take() {
            let (loc, simplified, used) = compact_location(loc, budget);
            budget = budget.saturating_sub(used);
            f.location = Some(loc);
            f.location_simplified |= simplified;
        }
    }
    out
}

/// A finding standing for itself, to which further findings of its group are added.
fn summary_of(mut f: Finding) -> Finding {
    f.omitted = Some(represented(&f));
    f.location = None;
    f.location_simplified = false;
    f.length_m = None;
    f.width_m = None;
    f.message = group_message(&f);
    f
}

fn absorb(into: &mut Finding, f: Finding) {
    into.omitted = Some(represented(into) + represented(&f));
    into.area_m2 = match (into.area_m2, f.area_m2) {
        (Some(a), Some(b)) => Some(super::findings::round(a + b, 3)),
        (a, b) => a.or(b),
    };
    if let Some(s) = f.shape {
        into.shape
            .get_or_insert_with(|| MultiPolygon(vec![]))
            .0
            .extend(s.0);
    }
    into.message = group_message(into);
}

fn group_message(f: &Finding) -> Message {
    let n = represented(f);
    let codes = f.codes.join(", ");
    Message {
        zh: format!(
            "另有 {n} 项 {} / {} 问题（{codes}）未逐项列出",
            f.rule.as_str(),
            f.kind
        ),
        en: format!(
            "{n} more {} / {} finding(s) of {codes}, not listed one by one",
            f.rule.as_str(),
            f.kind
        ),
    }
}

fn folded_message(f: &Finding) -> Message {
    let n = represented(f);
    Message {
        zh: format!(
            "报告已达 {MAX_LISTED} 项上限：另有 {n} 项 {} / {} 问题未列出",
            f.rule.as_str(),
            f.kind
        ),
        en: format!(
            "report limit of {MAX_LISTED} findings reached: {n} more {} / {} finding(s) not listed",
            f.rule.as_str(),
            f.kind
        ),
    }
}

/// Rounds a location's coordinates and caps its positions (at most [`MAX_LOCATION_POSITIONS`],
/// and at most `budget`). Returns the location, whether it was simplified, and the positions
/// it holds.
pub fn compact_location(loc: Value, budget: usize) -> (Value, bool, usize) {
    let n = count_positions(&loc);
    let cap = MAX_LOCATION_POSITIONS.min(budget).max(5);
    if n <= cap {
        let mut loc = loc;
        round_positions(&mut loc);
        return (loc, false, n);
    }
    let mut pts: Vec<[f64; 2]> = Vec::new();
    collect_positions(&loc["coordinates"], &mut pts);
    let r = |x: f64| super::findings::round(x, LOCATION_DECIMALS);
    if loc["type"] == "MultiPoint" {
        let kept: Vec<Value> = pts
            .iter()
            .take(cap)
            .map(|p| json!([r(p[0]), r(p[1])]))
            .collect();
        let k = kept.len();
        return (json!({"type": "MultiPoint", "coordinates": kept}), true, k);
    }
    let (mut x0, mut y0, mut x1, mut y1) = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for p in &pts {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let (x0, y0, x1, y1) = (r(x0), r(y0), r(x1), r(y1));
    let ring = json!([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]);
    (json!({"type": "Polygon", "coordinates": [ring]}), true, 5)
}

fn is_position(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|a| a.first().is_some_and(Value::is_number))
}

fn count_positions(v: &Value) -> usize {
    match v {
        Value::Array(a) if is_position(v) && !a.is_empty() => 1,
        Value::Array(a) => a.iter().map(count_positions).sum(),
        Value::Object(o) => o.get("coordinates").map_or(0, count_positions),
        _ => 0,
    }
}

fn collect_positions(v: &Value, out: &mut Vec<[f64; 2]>) {
    if let Value::Array(a) = v {
        if is_position(v) {
            if let (Some(x), Some(y)) = (a[0].as_f64(), a.get(1).and_then(Value::as_f64)) {
                out.push([x, y]);
            }
        } else {
            for c in a {
                collect_positions(c, out);
            }
        }
    }
}

fn round_positions(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(c) = o.get_mut("coordinates") {
                round_positions(c);
            }
        }
        Value::Array(a) => {
            for c in a.iter_mut() {
                match c.as_f64() {
                    Some(x) if c.is_number() => {
                        *c = json!(super::findings::round(x, LOCATION_DECIMALS));
                    }
                    _ => round_positions(c),
                }
            }
        }
        _ => {}
    }
}

/// A bad page request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `limit` is 0 or above [`MAX_PAGE`].
    #[error("limit {limit} is out of range: expected 1 to {max}")]
    Limit {
        /// The limit asked for.
        limit: usize,
        /// The largest page.
        max: usize,
    },
    /// The stored value is not a report (`findings` is not an array).
    #[error("the stored report has no findings array")]
    NotAReport,
}

/// One page of a report's findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<'a> {
    /// The report's summary (counts of every defect, listed or not).
    pub summary: &'a Summary,
    /// Findings listed in the report.
    pub total: usize,
    /// Index of the first finding of the page.
    pub offset: usize,
    /// Page size asked for.
    pub limit: usize,
    /// The findings `offset .. offset + limit` (fewer at the end, none past it).
    pub findings: &'a [Finding],
}

fn check_limit(limit: usize) -> Result<(), PageError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(PageError::Limit {
            limit,
            max: MAX_PAGE,
        });
    }
    Ok(())
}

/// The findings `offset .. offset + limit` of `report` (an offset past the end gives an empty
/// page). `limit` must be 1 to [`MAX_PAGE`].
pub fn page(report: &Report, offset: usize, limit: usize) -> Result<Page<'_>, PageError> {
    check_limit(limit)?;
    let total = report.findings.len();
    let a = offset.min(total);
    let b = a.saturating_add(limit).min(total);
    Ok(Page {
        summary: &report.summary,
        total,
        offset,
        limit,
        findings: &report.findings[a..b],
    })
}

/// [`page`] of a report stored as JSON (`{summary, findings}`): `{summary, total, offset, limit,
/// findings}`.
pub fn page_value(report: &Value, offset: usize, limit: usize) -> Result<Value, PageError> {
    check_limit(limit)?;
    let all = report["findings"].as_array().ok_or(PageError::NotAReport)?;
    let total = all.len();
    let a = offset.min(total);
    let b = a.saturating_add(limit).min(total);
    Ok(json!({
        "summary": report["summary"],
        "total": total,
        "offset": offset,
        "limit": limit,
        "findings": &all[a..b],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{Fix, FixAction, Rule, Severity};

    fn f(kind: &'static str, code: &str, area: f64) -> Finding {
        Finding {
            rule: Rule::Overlap,
            kind,
            severity: Severity::Error,
            codes: vec![code.into()],
            location: Some(json!({"type": "Point", "coordinates": [121.123_456_789_1, 30.5]})),
            area_m2: Some(area),
            length_m: None,
            width_m: Some(1.0),
            message: Message {
                zh: String::new(),
                en: String::new(),
            },
            fix: Some(Fix {
                action: FixAction::SubtractFrom,
                target: Some(code.into()),
                message: Message {
                    zh: String::new(),
                    en: String::new(),
                },
            }),
            location_simplified: false,
            omitted: None,
            shape: Some(crate::validate::shapes::sq(0.0, 0.0, 1.0)),
        }
    }

    #[test]
    fn groups_are_cut_at_the_limit_and_counted() {
        let mut all: Vec<Finding> = (0..250).map(|_| f("overlap", "a", 2.0)).collect();
        all.extend((0..3).map(|_| f("overlap", "b", 1.0)));
        let out = bound(all);
        assert_eq!(out.len(), MAX_PER_GROUP + 1 + 3);
        let s = &out[MAX_PER_GROUP];
        assert_eq!(s.omitted, Some(150));
        assert_eq!(s.codes, vec!["a"]);
        assert_eq!(s.area_m2, Some(300.0));
        assert_eq!(s.location, None);
        // The summarised defects are still there for --fix.
        assert_eq!(s.shape.as_ref().map(|m| m.0.len()), Some(150));
        assert_eq!(out.iter().map(represented).sum::<usize>(), 253);
        // Coordinates rounded to 1e-7°.
        assert_eq!(
            out[0].location,
            Some(json!({"type": "Point", "coordinates": [121.123_456_8, 30.5]}))
        );
    }

    #[test]
    fn the_whole_report_is_folded_past_the_limit() {
        let all: Vec<Finding> = (0..MAX_LISTED + 500)
            .map(|i| {
                f(
                    if i % 2 == 0 { "overlap" } else { "x" },
                    &format!("c{i:06}"),
                    1.0,
                )
            })
            .collect();
        let n = all.len();
        let out = bound(all);
        assert_eq!(out.len(), MAX_LISTED + 2);
        assert_eq!(out.iter().map(represented).sum::<usize>(), n);
        let folded: Vec<&Finding> = out.iter().filter(|f| f.omitted.is_some()).collect();
        assert_eq!(folded.len(), 2);
        for g in folded {
            assert_eq!(g.omitted, Some(250));
            assert!(g.codes.is_empty() && g.fix.is_none() && g.shape.is_none());
        }
    }

    #[test]
    fn large_locations_become_their_box_or_first_points() {
        let ring: Vec<Value> = (0..2000)
            .map(|i| json!([f64::from(i) * 1e-5, (f64::from(i) * 0.1).sin() * 1e-3]))
            .collect();
        let (loc, simplified, n) = compact_location(
            json!({"type": "Polygon", "coordinates": [ring.clone()]}),
            usize::MAX,
        );
        assert!(simplified);
        assert_eq!(n, 5);
        assert_eq!(loc["type"], "Polygon");
        assert_eq!(loc["coordinates"][0][0][0], 0.0);
        assert_eq!(loc["coordinates"][0][1][0], 0.019_99);
        let (loc, simplified, n) =
            compact_location(json!({"type": "MultiPoint", "coordinates": ring}), 300);
        assert!(simplified);
        assert_eq!(
            (n, loc["coordinates"].as_array().map(Vec::len)),
            (300, Some(300))
        );
        let small = json!({"type": "LineString", "coordinates": [[1.0, 2.0], [3.0, 4.0]]});
        assert_eq!(
            compact_location(small.clone(), usize::MAX),
            (small, false, 2)
        );
    }

    #[test]
    fn pages_of_a_report_and_of_its_json() {
        let report = Report {
            summary: Summary::default(),
            findings: (0..25)
                .map(|i| f("overlap", &format!("c{i}"), 1.0))
                .collect(),
        };
        let p = page(&report, 20, 10).expect("page");
        assert_eq!((p.total, p.findings.len()), (25, 5));
        assert_eq!(p.findings[0].codes, vec!["c20"]);
        assert!(page(&report, 30, 10).expect("page").findings.is_empty());
        assert_eq!(
            page(&report, 0, 0).err(),
            Some(PageError::Limit {
                limit: 0,
                max: MAX_PAGE
            })
        );
        assert!(page(&report, 0, MAX_PAGE + 1).is_err());
        let v = serde_json::to_value(&report).expect("json");
        let p = page_value(&v, 10, 3).expect("page");
        assert_eq!(p["total"], 25);
        assert_eq!(p["findings"].as_array().map(Vec::len), Some(3));
        assert_eq!(p["findings"][0]["codes"][0], "c10");
        assert_eq!(page_value(&json!({}), 0, 1), Err(PageError::NotAReport));
    }
}
