//! Drafts and publishing: upload (read, scope, merge into the current generation, validate,
//! store), read a draft and its report, publish. The CLI (`import`, `publish`, `drafts`) and the
//! HTTP API (`/api/v1/drafts…`) both come here.
//!
//! Writes are authorized by what they change, not by what they declare: the effective change of
//! a draft on its base generation ([`store::effective_change`]) is checked against the caller at
//! upload and again at publish, with the token as it is then.

use super::access::Caller;
use super::error::{Error, Result};
use crate::geo_io::ReadError;
use crate::geo_io::crs::FileCrs;
use crate::geo_io::dbf::EncodingSource;
use crate::geo_io::inspect;
use crate::geo_io::source::{self, Format, ImportOptions};
use crate::model::{FeatureSet, Layer};
use crate::store::{self, DraftId, DraftInfo, GenerationInfo, NewDraft, Store};
use crate::validate;
use crate::wire::drafts as wire;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

/// Where an upload comes from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A request body: problems are reported as an API reports them (the first, and up to 1,000
    /// in `problems`).
    Bytes(&'a [u8]),
    /// A file, read streaming: problems are reported in full with the file's name.
    File(&'a Path),
}

/// An upload to store as a draft.
#[derive(Debug, Clone)]
pub struct Upload<'a> {
    /// The feature file (GeoJSON, or a table format through `geo_io::source`).
    pub source: Source<'a>,
    /// Its format: for bytes, `None` is GeoJSON; for a file, `None` goes by the extension.
    pub format: Option<Format>,
    /// Its file name, for messages (bytes only; e.g. the upload's `filename`).
    pub name: Option<String>,
    /// Coordinate system, DBF encoding, column mapping (the table formats).
    pub import: ImportOptions,
    /// The streets it replaces; `None`: the streets it touches (or everything, with the
    /// district feature).
    pub streets: Option<Vec<String>>,
}

/// A stored upload: what the API answers, and the full report (the CLI prints it).
#[derive(Debug, Clone)]
pub struct Uploaded {
    /// The answer.
    pub draft: wire::DraftCreated,
    /// The streets the draft covers, as stored.
    pub covered_streets: Option<Vec<String>>,
    /// The whole validation report.
    pub report: Value,
    /// Errors in it.
    pub errors: usize,
}

/// The codes and layers of `set`: the known parents of an upload of some of its streets.
pub fn known_codes(set: &FeatureSet) -> HashMap<String, Layer> {
    set.features()
        .iter()
        .map(|f| (f.code.clone(), f.layer))
        .collect()
}

fn read_upload(
    source: Source<'_>,
    format: Option<Format>,
    name: Option<&str>,
    opts: &ImportOptions,
) -> Result<FeatureSet> {
    match source {
        Source::File(path) => source::read_path(format, path, opts)
            .map_err(|e| Error::unprocessable(format!("reading {}: {e}", path.display()))),
        Source::Bytes(bytes) => {
            let format = format.unwrap_or(Format::GeoJson);
            source::read_bytes(format, name.unwrap_or("upload"), bytes, opts).map_err(read_error)
        }
    }
}

/// A reading error of a request body as the API answers it: the first problem, and up to
/// 1,000 in `problems`.
fn read_error(e: ReadError) -> Error {
    match e {
        ReadError::Syntax { .. } => Error::bad_request(e.to_string()),
        ReadError::TooLarge(p) => Error::too_large(p.to_string()),
        ReadError::Invalid(problems) => {
            let first = problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            Error::unprocessable(format!(
                "{} problem(s) in the upload; first: {first}",
                problems.len()
            ))
            .with_extra(json!({"problems": problems.iter().take(1000).collect::<Vec<_>>()}))
        }
        ReadError::Io(e) => Error::bad_request(format!("reading the body: {e}")),
    }
}

/// What a table-format file holds, for the map's mapping step (`POST /api/v1/drafts/inspect`):
/// its layers, columns, first rows, systems and encodings, and a suggested mapping. Nothing is
/// stored; a problem of the files is a 422 located as the upload locates it.
pub fn inspect(
    format: Format,
    name: Option<&str>,
    bytes: &[u8],
    opts: &ImportOptions,
) -> Result<wire::Inspection> {
    if format == Format::GeoJson {
        return Err(Error::unsupported_media_type(
            "GeoJSON has the standard properties and needs no mapping: upload it to POST /api/v1/drafts; inspect takes the table formats (a zipped Shapefile, …)",
        ));
    }
    let found =
        inspect::inspect(format, name.unwrap_or("upload"), bytes, opts).map_err(read_error)?;
    let crs_ref = |c: FileCrs| wire::CrsRef {
        code: format!("EPSG:{}", c.epsg()),
        name: c.name(),
    };
    let layers = found
        .layers
        .into_iter()
        .map(|l| wire::InspectedLayer {
            name: l.name,
            file: l.file,
            geometry_type: l.geometry_type,
            records: l.records,
            columns: l
                .columns
                .into_iter()
                .map(|c| wire::InspectedColumn {
                    name: c.name,
                    samples: c.samples,
                    filled: c.filled,
                })
                .collect(),
            preview: l
                .preview
                .into_iter()
                .map(|r| wire::PreviewRow {
                    record: r.record,
                    values: r.values,
                    geometry: wire::GeometrySummary {
                        kind: r.geometry.kind,
                        vertices: r.geometry.vertices,
                        first_lon_lat: r.geometry.first_lon_lat,
                        first_xy: r.geometry.first_xy,
                    },
                })
                .collect(),
            crs: wire::InspectedCrs {
                crs: l.crs.map(crs_ref),
                reason: l.crs_unknown,
                guess: l.crs_guess.map(crs_ref),
            },
            encoding: l.encoding.map(|(e, s)| wire::InspectedEncoding {
                encoding: e.as_str().to_string(),
                source: match s {
                    EncodingSource::Given => "given",
                    EncodingSource::Cpg => "cpg",
                    EncodingSource::Ldid => "ldid",
                    EncodingSource::Detected => "detected",
                }
                .to_string(),
            }),
        })
        .collect();
    Ok(wire::Inspection {
        // The variant's name, as `Format`'s serde names it (lowercase).
        format: format!("{format:?}").to_ascii_lowercase(),
        layers,
        suggested_mapping: found.mapping,
    })
}

/// The streets a draft of `set` replaces: those named, else those its features lie in (`None`:
/// a file with the district replaces everything).
fn covered_streets(set: &FeatureSet, named: Option<Vec<String>>) -> Option<Vec<String>> {
    match named {
        Some(list) => Some(
            list.iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        None if set.district().is_some() => None,
        None => {
            let streets: BTreeSet<String> = store::street_of_features(set)
                .values()
                .map(|s| (*s).to_owned())
                .collect();
            Some(streets.into_iter().collect())
        }
    }
}

/// The declared scope of an upload against the caller: a whole-territory file needs an admin;
/// the covered streets and every street a feature lies in must be the caller's.
fn authorize_declared(caller: &Caller, set: &FeatureSet, covered: Option<&[String]>) -> Result<()> {
    let Some(streets) = covered else {
        if caller.is_admin() {
            return Ok(());
        }
        return Err(Error::forbidden(
            "a file with the district feature replaces the whole territory; only an admin token may upload it (planners upload their streets)",
        ));
    };
    caller.check_streets(streets.iter().map(String::as_str))?;
    // Features outside any covered street (e.g. an orphan grid) must also be in scope.
    let of = store::street_of_features(set);
    let stray: Vec<&str> = set
        .features()
        .iter()
        .filter(|f| f.layer != Layer::District)
        .filter_map(|f| of.get(f.code.as_str()))
        .filter(|s| !streets.iter().any(|c| c == *s))
        .copied()
        .collect();
    caller.check_streets(stray)
}

/// Checks the effective change of a draft against the caller: every street it touches must be
/// in the caller's scope, and changes outside any one street (the district, units serving
/// several streets, features under no street) need an admin.
pub fn authorize_change(caller: &Caller, scope: &store::ChangeScope) -> Result<()> {
    if !scope.admin_only.is_empty() && !caller.is_admin() {
        return Err(Error::forbidden(format!(
            "only an admin token may make these changes: {}",
            scope.admin_only.join("; ")
        ))
        .with_extra(json!({"admin_only": scope.admin_only})));
    }
    caller.check_streets(scope.streets.iter().map(String::as_str))
}

/// Reads, scopes, merges, validates and stores an upload as a draft.
pub fn upload(store: &dyn Store, caller: &Caller, upload: Upload<'_>) -> Result<Uploaded> {
    let base = store.current_generation()?;
    let base_set = match &base {
        Some(g) => store.load_generation(g.number)?,
        None => FeatureSet::default(),
    };
    let mut opts = upload.import;
    if opts.read.known_parents.is_none() {
        // A file of one street names its parent (the district) by code without holding it.
        opts.read.known_parents = Some(Arc::new(known_codes(&base_set)));
    }
    let set = read_upload(upload.source, upload.format, upload.name.as_deref(), &opts)?;
    let covered = covered_streets(&set, upload.streets);
    authorize_declared(caller, &set, covered.as_deref())?;
    let whole = store::draft_as_whole(&base_set, &set, covered.as_deref())?;
    // What the draft would really change, whatever it declared, must be in scope.
    authorize_change(caller, &store::effective_change(&base_set, &whole))?;
    let (report, errors) = validate::draft_report(&whole).map_err(Error::internal)?;
    let by = caller.name();
    let id = store.create_draft(NewDraft {
        features: &set,
        covered_streets: covered.clone(),
        report: report.clone(),
        error_count: errors,
        created_by: &by,
    })?;
    Ok(Uploaded {
        draft: wire::DraftCreated {
            id,
            base_generation: base.map_or(0, |g| g.number),
            features: set.len(),
            streets: covered.clone(),
            summary: summary(&report),
            report: report_path(id),
        },
        covered_streets: covered,
        report,
        errors,
    })
}

fn report_path(id: DraftId) -> String {
    format!("/api/v1/drafts/{id}/report")
}

/// A report's counts from its summary, which counts every finding (a bounded report lists at
/// most a few per rule and feature and summarises the rest). A report stored without a summary
/// is counted from its findings (`omitted` included).
pub fn summary(report: &Value) -> wire::ReportSummary {
    let s = &report["summary"];
    if let (Some(errors), Some(warnings), Some(rules)) = (
        s["errors"].as_u64(),
        s["warnings"].as_u64(),
        s["by_rule"].as_object(),
    ) {
        let by_rule = rules
            .iter()
            .map(|(rule, sev)| {
                let counts = sev
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, n)| n.as_u64().map(|n| (k.clone(), n)))
                    .collect();
                (rule.clone(), counts)
            })
            .collect();
        return wire::ReportSummary {
            errors,
            warnings,
            by_rule,
        };
    }
    let mut errors = 0;
    let mut warnings = 0;
    let mut by_rule: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let n = f["omitted"].as_u64().unwrap_or(1);
        let sev = f["severity"].as_str().unwrap_or("error").to_owned();
        if sev == "error" {
            errors += n;
        } else {
            warnings += n;
        }
        *by_rule
            .entry(f["rule"].as_str().unwrap_or("?").to_owned())
            .or_default()
            .entry(sev)
            .or_default() += n;
    }
    wire::ReportSummary {
        errors,
        warnings,
        by_rule,
    }
}

/// Checks that the caller may see draft `info`: an admin, the token that uploaded it, or a planner
/// whose streets include every street the draft covers (a draft of no street or of the whole
/// territory: only its uploader and admins).
fn authorize_read(caller: &Caller, info: &DraftInfo) -> Result<()> {
    if caller.is_admin() || info.created_by == caller.name() {
        return Ok(());
    }
    match &info.covered_streets {
        Some(streets) if !streets.is_empty() => {
            caller.check_streets(streets.iter().map(String::as_str))
        }
        Some(_) => Err(Error::forbidden(
            "this draft covers no street: only its uploader and admins may read it",
        )),
        None => Err(Error::forbidden(
            "a whole-territory draft can only be read by an admin",
        )),
    }
}

fn readable(store: &dyn Store, caller: &Caller, id: DraftId) -> Result<DraftInfo> {
    let info = store.get_draft_info(id)?;
    authorize_read(caller, &info)?;
    Ok(info)
}

fn view(info: &DraftInfo) -> wire::DraftView {
    wire::DraftView {
        id: info.id,
        created_at: info.created_at,
        created_by: info.created_by.clone(),
        base_generation: info.base_generation,
        covered_streets: info.covered_streets.clone(),
        error_count: info.error_count,
        feature_count: info.feature_count,
        published_generation: info.published_generation,
        summary: summary(&info.report),
        report: report_path(info.id),
    }
}

/// Draft `id`'s metadata and report counts, if the caller may read it.
pub fn get(store: &dyn Store, caller: &Caller, id: DraftId) -> Result<wire::DraftView> {
    readable(store, caller, id).map(|info| view(&info))
}

/// Draft `id`'s own features and management units (as uploaded, not merged with its base
/// generation), if the caller may read it.
pub fn features(store: &dyn Store, caller: &Caller, id: DraftId) -> Result<FeatureSet> {
    readable(store, caller, id)?;
    Ok(store.get_draft(id)?.features)
}

/// Every stored draft, newest last (the operator's listing).
pub fn list(store: &dyn Store) -> Result<Vec<wire::DraftView>> {
    Ok(store.list_drafts()?.iter().map(view).collect())
}

/// `offset` and `limit` of a page of findings from their raw values (default 0 and the largest
/// page); 400 naming the parameter at fault.
pub fn page_params(offset: Option<&str>, limit: Option<&str>) -> Result<(usize, usize)> {
    let num = |name: &str, raw: Option<&str>, default: usize| -> Result<usize> {
        match raw {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                Error::invalid_parameter(name, format!("{v:?} is not a non-negative integer"))
            }),
        }
    };
    let limit = num("limit", limit, validate::report::MAX_PAGE)?;
    if limit == 0 || limit > validate::report::MAX_PAGE {
        return Err(Error::invalid_parameter(
            "limit",
            format!("{limit} is out of range 1..={}", validate::report::MAX_PAGE),
        ));
    }
    Ok((num("offset", offset, 0)?, limit))
}

/// How a report page is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The report as JSON.
    Json,
    /// The findings with a location as a GeoJSON FeatureCollection.
    GeoJson,
}

impl ReportFormat {
    /// From the `format` parameter (default JSON); 400 naming it otherwise.
    pub fn parse(raw: Option<&str>) -> Result<ReportFormat> {
        match raw {
            None | Some("json") => Ok(ReportFormat::Json),
            Some("geojson") => Ok(ReportFormat::GeoJson),
            Some(other) => Err(Error::invalid_parameter(
                "format",
                format!("{other:?}: expected json or geojson"),
            )),
        }
    }
}

/// A page of a draft's report.
#[derive(Debug, Clone, PartialEq)]
pub enum ReportPage {
    /// As JSON.
    Json(wire::DraftReport),
    /// As GeoJSON.
    GeoJson(wire::FindingsCollection),
}

/// A page of draft `id`'s report, if the caller may read it.
pub fn report(
    store: &dyn Store,
    caller: &Caller,
    id: DraftId,
    format: ReportFormat,
    (offset, limit): (usize, usize),
) -> Result<ReportPage> {
    let info = readable(store, caller, id)?;
    let page =
        validate::report::page_value(&info.report, offset, limit).map_err(Error::internal)?;
    let page: wire::FindingsPage = serde_json::from_value(page).map_err(|e| {
        Error::internal(format!(
            "the stored report of draft {id} does not read: {e}"
        ))
    })?;
    Ok(match format {
        ReportFormat::Json => ReportPage::Json(wire::DraftReport {
            draft: id,
            error_count: info.error_count,
            summary: summary(&info.report),
            report: page,
        }),
        ReportFormat::GeoJson => {
            let features = page
                .findings
                .into_iter()
                .filter_map(|mut f| {
                    let geometry = f.location.take().filter(|g| !g.is_null())?;
                    Some((geometry, f))
                })
                .map(|(geometry, f)| {
                    let mut properties = serde_json::to_value(&f).map_err(Error::internal)?;
                    if let Some(o) = properties.as_object_mut() {
                        o.remove("location");
                    }
                    Ok(wire::FindingFeature {
                        kind: "Feature".into(),
                        geometry,
                        properties,
                    })
                })
                .collect::<Result<_>>()?;
            ReportPage::GeoJson(wire::FindingsCollection {
                kind: "FeatureCollection".into(),
                features,
                total: page.total,
                offset,
                limit,
            })
        }
    })
}

/// Every finding of draft `id`'s report (not paginated), in report order, if the caller may
/// read it.
pub fn all_findings(store: &dyn Store, caller: &Caller, id: DraftId) -> Result<Vec<wire::Finding>> {
    let info = readable(store, caller, id)?;
    let findings = info
        .report
        .get("findings")
        .cloned()
        .unwrap_or(Value::Array(Vec::new()));
    serde_json::from_value(findings).map_err(|e| {
        Error::internal(format!(
            "the stored report of draft {id} does not read: {e}"
        ))
    })
}

/// Publishes draft `id` as the next generation, after checking that it has not expired
/// (`ttl`), that an override comes from an admin, and that the caller may make the draft's
/// effective change on its base generation.
pub fn publish(
    store: &dyn Store,
    caller: &Caller,
    id: DraftId,
    override_reason: Option<&str>,
    ttl: std::time::Duration,
) -> Result<GenerationInfo> {
    let reason = override_reason.filter(|r| !r.trim().is_empty());
    if reason.is_some() && !caller.is_admin() {
        return Err(Error::forbidden(
            "only an admin token may publish over validation errors (`override_reason`)",
        ));
    }
    let draft = store.get_draft(id)?;
    let info = &draft.info;
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    if info
        .created_at
        .checked_add_signed(ttl)
        .is_some_and(|end| end <= chrono::Utc::now())
    {
        return Err(Error::conflict(format!(
            "draft {id} was made on {} and has expired (drafts live {} days); upload it again",
            info.created_at.to_rfc3339(),
            ttl.num_days()
        )));
    }
    match &info.covered_streets {
        Some(streets) => caller.check_streets(streets.iter().map(String::as_str))?,
        None if !caller.is_admin() => {
            return Err(Error::forbidden(
                "a whole-territory draft can only be published by an admin",
            ));
        }
        None => {}
    }
    // Again at commit: the effective change of the draft on its base generation (a publish on
    // any other base is refused by the store), against the caller as it is now.
    let base = match info.base_generation {
        0 => FeatureSet::default(),
        n => store.load_generation(n)?,
    };
    let whole = store::draft_as_whole(&base, &draft.features, info.covered_streets.as_deref())?;
    authorize_change(caller, &store::effective_change(&base, &whole))?;
    Ok(store.publish(id, &caller.name(), reason)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_the_stored_counts_or_counts_the_findings() {
        let stored = json!({"summary": {"errors": 2, "warnings": 1,
            "by_rule": {"gap": {"error": 2}, "sliver": {"warning": 1}}}, "findings": []});
        let s = summary(&stored);
        assert_eq!((s.errors, s.warnings), (2, 1));
        assert_eq!(s.by_rule["gap"]["error"], 2);
        let bare = json!({"findings": [
            {"rule": "overlap", "severity": "error", "omitted": 5},
            {"rule": "sliver", "severity": "warning"}]});
        let s = summary(&bare);
        assert_eq!((s.errors, s.warnings), (5, 1));
        assert_eq!(s.by_rule["overlap"]["error"], 5);
    }

    #[test]
    fn page_parameters_are_checked() {
        assert_eq!(
            page_params(None, None).ok(),
            Some((0, validate::report::MAX_PAGE))
        );
        assert_eq!(page_params(Some("5"), Some("10")).ok(), Some((5, 10)));
        for (o, l) in [(None, Some("0")), (None, Some("1001")), (Some("-1"), None)] {
            let e = page_params(o, l).unwrap_err();
            assert_eq!(e.kind, super::super::Kind::InvalidParameter, "{o:?} {l:?}");
        }
        assert!(ReportFormat::parse(Some("xml")).is_err());
    }
}
