//! Exporting a generation, a draft or a draft's validation findings as GeoJSON, a Shapefile
//! .zip or a GeoPackage (`geo_io::export`, docs/formats.md "Export"): the `format`, `crs` and
//! `encoding` parameters as the API takes them, and the file.

use super::access::Caller;
use super::error::{Error, Result};
use super::{drafts, generations};
use crate::geo_io::crs::FileCrs;
use crate::geo_io::export::findings::{self as export_findings, FindingRecord, FixRecord};
use crate::geo_io::export::{self, Encoding, Format, Options};
use crate::model::FeatureSet;
use crate::store::{DraftId, Store};
use crate::wire::drafts as wire;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// The format.
    pub format: Format,
    /// Coordinate system and DBF encoding.
    pub options: Options,
}

/// An exported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// The media type.
    pub content_type: &'static str,
    /// The file name offered (`Content-Disposition`).
    pub file_name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Request {
    /// From the raw `format` (default geojson), `crs` (`EPSG:n` or `n`, default 4490) and
    /// `encoding` (default gbk) parameters; 400 naming the parameter at fault.
    pub fn parse(
        format: Option<&str>,
        crs: Option<&str>,
        encoding: Option<&str>,
    ) -> Result<Request> {
        let format = match format {
            None => Format::GeoJson,
            Some(f) => Format::parse(f).ok_or_else(|| {
                Error::invalid_parameter(
                    "format",
                    format!("{f:?}: expected geojson, shapefile or gpkg"),
                )
            })?,
        };
        let crs = match crs {
            None => FileCrs::CGCS2000,
            Some(c) => parse_crs(c).map_err(|e| Error::invalid_parameter("crs", e))?,
        };
        if format == Format::GeoJson && !crs.is_geographic() {
            return Err(Error::invalid_parameter(
                "crs",
                format!(
                    "{crs}: GeoJSON is always longitude/latitude (RFC 7946); a projected crs is for format=shapefile or gpkg"
                ),
            ));
        }
        let encoding = match encoding {
            None => Encoding::Gbk,
            Some(e) => Encoding::parse(e).ok_or_else(|| {
                Error::invalid_parameter("encoding", format!("{e:?}: expected gbk or utf-8"))
            })?,
        };
        Ok(Request {
            format,
            options: Options { crs, encoding },
        })
    }
}

/// `EPSG:n` or `n`, a code of the catalogue (`FileCrs::from_epsg`): the reader's parsing
/// (`geo_io::source::parse_crs`); an export has no GCJ-02/BD-09 (no one reads them from a file).
pub use crate::geo_io::source::parse_crs;

fn unprocessable(e: export::ExportError) -> Error {
    match e {
        export::ExportError::Io(m) => Error::internal(m),
        other => Error::unprocessable(other.to_string()),
    }
}

/// `set` written as `req` asks; a value the format cannot hold is 422 naming the feature.
pub fn write(set: &FeatureSet, req: &Request, stem: &str) -> Result<File> {
    let bytes = match req.format {
        Format::GeoJson => {
            let mut out = Vec::new();
            crate::geo_io::write(set, &mut out).map_err(Error::internal)?;
            out
        }
        Format::Shapefile => {
            export::shapefile::to_zip_bytes(set, &req.options).map_err(unprocessable)?
        }
        Format::GeoPackage => export::gpkg::to_bytes(set, &req.options).map_err(unprocessable)?,
    };
    Ok(File {
        content_type: req.format.content_type(),
        file_name: format!("{stem}.{}", req.format.extension()),
        bytes,
    })
}

/// Generation `which` as a file named `generation-N.…`.
pub fn generation(store: &dyn Store, which: generations::Which, req: &Request) -> Result<File> {
    let n = generations::resolve(store, which)?;
    let set = generations::load(store, generations::Which::Number(n))?;
    write(&set, req, &format!("generation-{n}"))
}

/// Draft `id`'s own features as a file named `draft-N.…`, if the caller may read it.
pub fn draft(store: &dyn Store, caller: &Caller, id: DraftId, req: &Request) -> Result<File> {
    let set = drafts::features(store, caller, id)?;
    write(&set, req, &format!("draft-{id}"))
}

/// A finding of a stored report as the findings export takes it.
pub fn record(f: &wire::Finding) -> FindingRecord {
    FindingRecord {
        rule: f.rule.clone(),
        kind: f.kind.clone(),
        severity: f.severity.clone(),
        codes: f.codes.clone(),
        location: f.location.clone(),
        area_m2: f.area_m2,
        length_m: f.length_m,
        width_m: f.width_m,
        message_zh: f.message.zh.clone(),
        message_en: f.message.en.clone(),
        fix: f.fix.as_ref().map(|x| FixRecord {
            action: x.action.clone(),
            target: x.target.clone(),
            zh: x.message.zh.clone(),
            en: x.message.en.clone(),
        }),
        simplified: f.location_simplified,
        omitted: f.omitted,
    }
}

/// `findings` written as `req` asks (geo_io::export::findings); a value the format cannot
/// hold is 422 naming the finding.
pub fn write_findings(findings: &[FindingRecord], req: &Request, stem: &str) -> Result<File> {
    let bytes = match req.format {
        Format::GeoJson => {
            let mut out = serde_json::to_vec(&export_findings::to_geojson(findings))
                .map_err(Error::internal)?;
            out.push(b'\n');
            out
        }
        Format::Shapefile => {
            export_findings::to_zip_bytes(findings, &req.options).map_err(unprocessable)?
        }
        Format::GeoPackage => {
            export_findings::to_gpkg_bytes(findings, &req.options).map_err(unprocessable)?
        }
    };
    Ok(File {
        content_type: req.format.content_type(),
        file_name: format!("{stem}.{}", req.format.extension()),
        bytes,
    })
}

/// Every finding of draft `id`'s validation report as a file named `draft-N-findings.…`, if
/// the caller may read the draft.
pub fn draft_findings(
    store: &dyn Store,
    caller: &Caller,
    id: DraftId,
    req: &Request,
) -> Result<File> {
    let findings: Vec<FindingRecord> = drafts::all_findings(store, caller, id)?
        .iter()
        .map(record)
        .collect();
    write_findings(&findings, req, &format!("draft-{id}-findings"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_and_named() {
        let r = Request::parse(Some("shapefile"), Some("EPSG:4528"), Some("utf-8")).expect("ok");
        assert_eq!(r.format, Format::Shapefile);
        assert_eq!(r.options.crs.epsg(), 4528);
        assert_eq!(r.options.encoding, Encoding::Utf8);
        let d = Request::parse(None, None, None).expect("defaults");
        assert_eq!(
            (d.format, d.options.crs, d.options.encoding),
            (Format::GeoJson, FileCrs::CGCS2000, Encoding::Gbk)
        );
        for (f, c, e, name) in [
            (Some("kml"), None, None, "format"),
            (Some("gpkg"), Some("EPSG:2437"), None, "crs"),
            (None, Some("4528"), None, "crs"),
            (Some("gpkg"), Some("x"), None, "crs"),
            (Some("shp"), None, Some("latin1"), "encoding"),
        ] {
            let err = Request::parse(f, c, e).expect_err("refused");
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
