//! Writing a report: plain text for a terminal, JSON, or GeoJSON findings a map can draw; and
//! its findings as a Shapefile .zip or a GeoPackage ([`export`], through
//! `geo_io::export::findings`).

use super::fix::Change;
use super::types::{Finding, Report};
use crate::geo_io::export::findings::{self as export_findings, FindingRecord, FixRecord};
use crate::geo_io::export::{ExportError, Options};
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per finding, then a summary.
    Text,
    /// `{summary, findings[, changes]}`.
    Json,
    /// A FeatureCollection, one feature per finding (geometry = the defect).
    Geojson,
}

impl Format {
    /// Every format, by name.
    pub const ALL: [(&'static str, Format); 3] = [
        ("text", Format::Text),
        ("json", Format::Json),
        ("geojson", Format::Geojson),
    ];
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, f)| *f)
            .ok_or_else(|| format!("{s:?} is not a report format (text, json, geojson)"))
    }
}

/// The report in `format`; `changes` are the repairs of `--fix`, if any.
pub fn render(report: &Report, changes: Option<&[Change]>, format: Format) -> String {
    match format {
        Format::Text => text(report, changes),
        Format::Json => {
            let mut v = json!({"summary": report.summary, "findings": report.findings});
            if let (Some(c), Some(o)) = (changes, v.as_object_mut()) {
                o.insert("changes".into(), json!(c));
            }
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Geojson => {
            let mut s = serde_json::to_string(&geojson(report)).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// The findings as a GeoJSON FeatureCollection (findings without a location get a null geometry).
pub fn geojson(report: &Report) -> Value {
    let features: Vec<Value> = report.findings.iter().map(finding_feature).collect();
    json!({"type": "FeatureCollection", "summary": report.summary, "features": features})
}

fn finding_feature(f: &Finding) -> Value {
    let mut p = Map::new();
    p.insert("rule".into(), json!(f.rule));
    p.insert("kind".into(), json!(f.kind));
    p.insert("severity".into(), json!(f.severity));
    p.insert("codes".into(), json!(f.codes));
    for (k, v) in [
        ("area_m2", f.area_m2),
        ("length_m", f.length_m),
        ("width_m", f.width_m),
    ] {
        if let Some(v) = v {
            p.insert(k.into(), json!(v));
        }
    }
    p.insert("message_zh".into(), json!(f.message.zh));
    p.insert("message_en".into(), json!(f.message.en));
    if let Some(fix) = &f.fix {
        p.insert("fix_action".into(), json!(fix.action));
        if let Some(t) = &fix.target {
            p.insert("fix_target".into(), json!(t));
        }
        p.insert("fix_zh".into(), json!(fix.message.zh));
        p.insert("fix_en".into(), json!(fix.message.en));
    }
    json!({"type": "Feature", "properties": p, "geometry": f.location.clone().unwrap_or(Value::Null)})
}

/// A finding as the findings export takes it.
pub fn record(f: &Finding) -> FindingRecord {
    FindingRecord {
        rule: f.rule.as_str().to_owned(),
        kind: f.kind.to_owned(),
        severity: f.severity.as_str().to_owned(),
        codes: f.codes.clone(),
        location: f.location.clone(),
        area_m2: f.area_m2,
        length_m: f.length_m,
        width_m: f.width_m,
        message_zh: f.message.zh.clone(),
        message_en: f.message.en.clone(),
        fix: f.fix.as_ref().map(|x| FixRecord {
            action: x.action.as_str().to_owned(),
            target: x.target.clone(),
            zh: x.message.zh.clone(),
            en: x.message.en.clone(),
        }),
        simplified: f.location_simplified,
        omitted: f.omitted,
    }
}

/// A file format the findings are exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// A .zip of Shapefiles, one per table.
    Shapefile,
    /// A GeoPackage.
    GeoPackage,
}

/// The report's findings as a file of `format` (docs/formats.md, "Export of validation
/// findings").
pub fn export(report: &Report, format: FileFormat, opts: &Options) -> Result<Vec<u8>, ExportError> {
    let records: Vec<FindingRecord> = report.findings.iter().map(record).collect();
    match format {
        FileFormat::Shapefile => export_findings::to_zip_bytes(&records, opts),
        FileFormat::GeoPackage => export_findings::to_gpkg_bytes(&records, opts),
    }
}

fn text(report: &Report, changes: Option<&[Change]>) -> String {
    let mut s = String::new();
    for f in &report.findings {
        let _ = write!(
            s,
            "{:<7} {:<16} {:<18} {}",
            f.severity.as_str(),
            f.rule.as_str(),
            f.kind,
            f.codes.join(",")
        );
        if let Some(a) = f.area_m2 {
            let _ = write!(s, "  {a:.2} m²");
        }
        if let Some(l) = f.length_m {
            let _ = write!(s, "  {l:.2} m");
        }
        let _ = writeln!(s, "\n        {}\n        {}", f.message.en, f.message.zh);
        if let Some(fix) = &f.fix {
            let _ = writeln!(s, "        fix: {}", fix.message.en);
        }
    }
    if let Some(ch) = changes {
        let _ = writeln!(s, "changes made by --fix: {}", ch.len());
        for c in ch {
            let _ = writeln!(
                s,
                "  {:<14} {:<10} {}",
                c.code,
                c.action.as_str(),
                c.message.en
            );
        }
    }
    let sm = &report.summary;
    let _ = writeln!(
        s,
        "{} feature(s), {} scope(s) checked in {:.1} ms (tolerance {} m): {} error(s), {} warning(s)",
        sm.features_checked, sm.scopes_checked, sm.time_ms, sm.tolerance_m, sm.errors, sm.warnings
    );
    for (rule, sev) in &sm.by_rule {
        let parts: Vec<String> = sev.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let _ = writeln!(s, "  {rule}: {}", parts.join(", "));
    }
    s
}
