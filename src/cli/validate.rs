//! `gridatlas validate FILE [--format text|json|geojson|gpkg|shapefile] [--tolerance-m 0.05]
//! [--fix OUT.geojson] [--output OUT] [--report-crs EPSG:n] [--report-encoding gbk|utf-8]`.
//!
//! `--format gpkg` and `--format shapefile` write the findings as a GeoPackage or a .zip of
//! Shapefiles (`validate::output::export`; docs/formats.md) to `--output`, which they need,
//! in `--report-crs` (default EPSG:4490) with DBF text in `--report-encoding` (default gbk).
//!
//! Exit codes: 0 no errors (warnings allowed), 1 errors, 2 the file cannot be read (the reader's
//! problems are printed on stderr). With `--fix`, the repaired file is written, every change is
//! listed, the report printed is that of the repaired file, and the exit code is that of the
//! repaired file.

use crate::geo_io::crs::FileCrs;
use crate::geo_io::export::{self, Encoding};
use crate::geo_io::{self, ReadError};
use crate::validate::output::{FileFormat, Format, render};
use crate::validate::{Options, fix, validate};
use clap::builder::TypedValueParser as _;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `gridatlas validate`.
#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// The feature file to check: GeoJSON, or a Shapefile (.zip, or .shp with its sidecars).
    pub file: PathBuf,
    /// Its format, coordinate system, encoding and column mapping.
    #[command(flatten)]
    pub input: super::input::InputArgs,
    /// Report format: text, json, geojson, or the findings as a file: gpkg (GeoPackage) or
    /// shapefile (a .zip), which need --output.
    #[arg(long, default_value = "text",
          value_parser = clap::builder::PossibleValuesParser::new(
              Format::ALL.map(|(n, _)| n).into_iter().chain(["gpkg", "shapefile"]))
              .try_map(|s| ReportFormat::parse(&s)))]
    pub format: ReportFormat,
    /// Differences below this many metres are not defects.
    #[arg(long, default_value_t = 0.05)]
    pub tolerance_m: f64,
    /// Gaps and overlaps narrower than this many metres are reported as slivers.
    #[arg(long, default_value_t = 1.0)]
    pub sliver_width_m: f64,
    /// Write a repaired file here (snap, merge gaps and slivers, subtract overlaps).
    #[arg(long, value_name = "OUT.geojson")]
    pub fix: Option<PathBuf>,
    /// Write the report to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Coordinate system of a gpkg or shapefile report: EPSG:4490 (default), a CGCS2000
    /// Gauss-Kruger zone EPSG:4491-4554, 4326, 32649-32651 or 3857.
    #[arg(long, value_parser = super::store::parse_crs)]
    pub report_crs: Option<FileCrs>,
    /// Text encoding of a shapefile report's DBF: gbk (default) or utf-8.
    #[arg(long, value_parser = parse_encoding)]
    pub report_encoding: Option<Encoding>,
}

/// What `--format` asks for: a report, or the findings as a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// Text, JSON or GeoJSON.
    Report(Format),
    /// A GeoPackage or a Shapefile .zip.
    File(FileFormat),
}

impl ReportFormat {
    fn parse(s: &str) -> Result<ReportFormat, String> {
        match s {
            "gpkg" => Ok(ReportFormat::File(FileFormat::GeoPackage)),
            "shapefile" => Ok(ReportFormat::File(FileFormat::Shapefile)),
            other => other.parse().map(ReportFormat::Report),
        }
    }
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    Encoding::parse(s).ok_or_else(|| format!("{s:?}: expected gbk or utf-8"))
}

/// Runs the command; returns the exit code.
pub fn run(args: &ValidateArgs) -> anyhow::Result<i32> {
    match args.format {
        ReportFormat::File(_) if args.output.is_none() => {
            anyhow::bail!("--format gpkg and --format shapefile write a file: give --output")
        }
        ReportFormat::Report(_) if args.report_crs.is_some() || args.report_encoding.is_some() => {
            anyhow::bail!(
                "--report-crs and --report-encoding are for --format gpkg or --format shapefile"
            )
        }
        _ => {}
    }
    let (format, import) = args.input.options()?;
    let set = match geo_io::source::read_path(format, &args.file, &import) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", args.file.display());
            if let ReadError::Invalid(problems) = &e {
                for p in problems {
                    eprintln!("  {p}");
                }
            }
            return Ok(2);
        }
    };
    let opts = Options {
        tolerance_m: args.tolerance_m,
        sliver_width_m: args.sliver_width_m,
        ..Options::default()
    };
    let report = validate(&set, &opts);
    let (report, changes) = match &args.fix {
        None => (report, None),
        Some(out) => {
            let fixed = fix::repair(&set, &report, &opts);
            geo_io::write_path(&fixed.set, out)?;
            let after = validate(&fixed.set, &opts);
            eprintln!(
                "--fix: {} change(s) written to {}; before: {} error(s), {} warning(s); after: {} error(s), {} warning(s)",
                fixed.changes.len(),
                out.display(),
                report.summary.errors,
                report.summary.warnings,
                after.summary.errors,
                after.summary.warnings
            );
            (after, Some(fixed.changes))
        }
    };
    match args.format {
        ReportFormat::File(file_format) => {
            let opts = export::Options {
                crs: args.report_crs.unwrap_or(FileCrs::CGCS2000),
                encoding: args.report_encoding.unwrap_or(Encoding::Gbk),
            };
            let bytes = crate::validate::output::export(&report, file_format, &opts)?;
            match &args.output {
                Some(p) => std::fs::write(p, bytes)?,
                None => anyhow::bail!("--format gpkg and --format shapefile need --output"),
            }
        }
        ReportFormat::Report(format) => {
            let text = render(&report, changes.as_deref(), format);
            match &args.output {
                Some(p) => std::fs::write(p, text)?,
                None => std::io::stdout().lock().write_all(text.as_bytes())?,
            }
        }
    }
    Ok(if report.is_clean() { 0 } else { 1 })
}
