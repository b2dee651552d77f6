//! `gridatlas validate FILE [--format text|json|geojson] [--tolerance-m 0.05] [--fix OUT.geojson]`.
//!
//! Exit codes: 0 no errors (warnings allowed), 1 errors, 2 the file cannot be read (the reader's
//! problems are printed on stderr). With `--fix`, the repaired file is written, every change is
//! listed, the report printed is that of the repaired file, and the exit code is that of the
//! repaired file.

use crate::geo_io::{self, ReadError};
use crate::validate::output::{Format, render};
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
    /// Report format.
    #[arg(long, default_value = "text",
          value_parser = clap::builder::PossibleValuesParser::new(Format::ALL.map(|(n, _)| n))
              .try_map(|s| s.parse::<Format>()))]
    pub format: Format,
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
}

/// Runs the command; returns the exit code.
pub fn run(args: &ValidateArgs) -> anyhow::Result<i32> {
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
    let text = render(&report, changes.as_deref(), args.format);
    match &args.output {
        Some(p) => std::fs::write(p, text)?,
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(if report.is_clean() { 0 } else { 1 })
}
