//! The storage commands: `import`, `publish`, `generations`, `drafts`, `diff`, `export`,
//! `migrate`, `watch`. Each takes its arguments and writes its output to the given writer
//! (standard output in the binary), so tests can drive them directly. The operator at the
//! command line holds the database itself and so acts with every right ([`Caller::operator`]).

pub use super::db::DatabaseArgs;
use super::db::default_user;
use crate::geo_io::crs::FileCrs;
use crate::geo_io::export;
use crate::service::access::Caller;
use crate::service::{drafts, generations};
use crate::store::{DraftId, GenerationNo, WatchEvent};
use crate::wire::drafts::Generation;
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::PathBuf;

/// `gridatlas import FILE`: store a GeoJSON file as a draft, with its validation report.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The feature file to import: GeoJSON, or a Shapefile (.zip, or .shp with its sidecars).
    pub file: PathBuf,
    /// Its format, coordinate system, encoding and column mapping.
    #[command(flatten)]
    pub input: super::input::InputArgs,
    /// Replace only these streets (comma-separated codes) of the current generation; without
    /// it the file is the whole territory.
    #[arg(long, value_delimiter = ',')]
    pub streets: Option<Vec<String>>,
    /// Who is importing.
    #[arg(long, default_value_t = default_user())]
    pub by: String,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// `gridatlas publish DRAFT`: make a draft the next generation.
#[derive(Debug, Clone, clap::Args)]
pub struct PublishArgs {
    /// Draft id (as printed by `import`).
    pub draft: DraftId,
    /// Publish even though the draft's report has errors; the reason is stored.
    #[arg(long)]
    pub override_reason: Option<String>,
    /// Who is publishing.
    #[arg(long, default_value_t = default_user())]
    pub by: String,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// `gridatlas generations`: list published generations.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerationsArgs {
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// `gridatlas drafts`: list stored drafts.
#[derive(Debug, Clone, clap::Args)]
pub struct DraftsArgs {
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// `gridatlas diff A B`: the areas that changed between two generations.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffArgs {
    /// Older generation (0: empty).
    pub a: GenerationNo,
    /// Newer generation.
    pub b: GenerationNo,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// `gridatlas export`: write a generation (or a draft) as GeoJSON, a Shapefile .zip or a
/// GeoPackage, to a file or standard output.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Generation number (default: the current one).
    #[arg(long, conflicts_with_all = ["at", "draft"])]
    pub generation: Option<GenerationNo>,
    /// The generation current at this instant (RFC 3339, e.g. 2026-05-01T00:00:00+08:00).
    #[arg(long, conflicts_with = "draft")]
    pub at: Option<DateTime<chrono::FixedOffset>>,
    /// Export this draft (its own features, as uploaded) instead of a generation.
    #[arg(long)]
    pub draft: Option<DraftId>,
    /// Convert this feature file instead of reading the store: GeoJSON, a Shapefile (.zip, or
    /// .shp with its sidecars), a GeoPackage or a CSV, by its extension (it must read without
    /// errors; validation is not run).
    #[arg(long, conflicts_with_all = ["generation", "at", "draft"])]
    pub from: Option<PathBuf>,
    /// The coordinate system of the --from file (EPSG:n, gcj02, bd09), overriding its .prj or
    /// srs_id (a CSV's default: EPSG:4490).
    #[arg(long, requires = "from", value_name = "EPSG:N|gcj02|bd09")]
    pub from_crs: Option<String>,
    /// The text encoding of the --from file's .dbf or CSV (utf-8 or gbk), overriding the .cpg
    /// and detection.
    #[arg(long, requires = "from")]
    pub from_encoding: Option<String>,
    /// The column mapping of the --from file (a JSON file, or the JSON itself), as `validate
    /// --mapping` takes it.
    #[arg(long, requires = "from", value_name = "FILE|JSON")]
    pub from_mapping: Option<String>,
    /// Output format: geojson (longitude/latitude), shapefile (a .zip of one Shapefile per
    /// layer) or gpkg (GeoPackage, one table per layer).
    #[arg(long, default_value = "geojson", value_parser = parse_format)]
    pub format: export::Format,
    /// Coordinate system of a Shapefile or GeoPackage: EPSG:4490 (CGCS2000 longitude/latitude,
    /// the default), a CGCS2000 Gauss-Kruger zone EPSG:4491-4554, 4326, 32649-32651 or 3857.
    #[arg(long, value_parser = parse_crs)]
    pub crs: Option<FileCrs>,
    /// Text encoding of a Shapefile's attribute table: gbk (default, what Chinese ArcGIS
    /// reads) or utf-8.
    #[arg(long, default_value = "gbk", value_parser = parse_encoding)]
    pub encoding: export::Encoding,
    /// Write to this file (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

fn parse_format(s: &str) -> std::result::Result<export::Format, String> {
    export::Format::parse(s).ok_or_else(|| format!("{s:?}: expected geojson, shapefile or gpkg"))
}

/// `EPSG:n` or `n`.
pub fn parse_crs(s: &str) -> std::result::Result<FileCrs, String> {
    crate::service::export::parse_crs(s)
}

fn parse_encoding(s: &str) -> std::result::Result<export::Encoding, String> {
    export::Encoding::parse(s).ok_or_else(|| format!("{s:?}: expected gbk or utf-8"))
}

/// `gridatlas migrate`: apply pending database migrations.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// `gridatlas watch`: print one JSON line per newly published generation.
#[derive(Debug, Clone, clap::Args)]
pub struct WatchArgs {
    /// Exit after this many generations (default: run until killed).
    #[arg(long)]
    pub count: Option<usize>,
    /// Also report generations newer than this one that already exist (default: only those
    /// published after the watch starts).
    #[arg(long)]
    pub after: Option<GenerationNo>,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
}

/// Runs `import`: one JSON line with the draft's id, base generation, feature count, covered
/// streets, error count and the whole report.
pub fn import(args: &ImportArgs, out: &mut dyn Write) -> Result<()> {
    let (format, import) = args.input.options()?;
    let store = args.db.open()?;
    let done = drafts::upload(
        store.as_ref(),
        &Caller::operator(&args.by),
        drafts::Upload {
            source: drafts::Source::File(&args.file),
            format,
            name: None,
            streets: args.streets.clone(),
            import,
        },
    )?;
    let line = serde_json::json!({
        "draft": done.draft.id,
        "base_generation": done.draft.base_generation,
        "features": done.draft.features,
        "covered_streets": done.covered_streets,
        "errors": done.errors,
        "report": done.report,
    });
    writeln!(out, "{line}")?;
    Ok(())
}

/// Runs `publish`: the new generation as one JSON line.
pub fn publish(args: &PublishArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    let g = drafts::publish(
        store.as_ref(),
        &Caller::operator(&args.by),
        args.draft,
        args.override_reason.as_deref(),
        std::time::Duration::MAX,
    )?;
    writeln!(out, "{}", serde_json::to_string(&generations::to_wire(&g))?)?;
    Ok(())
}

fn changes_text(g: &Generation) -> String {
    if g.changes.is_empty() {
        return "no change".into();
    }
    g.changes
        .iter()
        .map(|(layer, c)| format!("{layer} +{} -{} ~{}", c.added, c.removed, c.changed))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `generations`.
pub fn generations(args: &GenerationsArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    for g in generations::list(store.as_ref())? {
        let g = generations::to_wire(&g);
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&g)?)?;
        } else {
            let reason = g
                .override_reason
                .as_deref()
                .map(|r| format!(" (override: {r})"))
                .unwrap_or_default();
            writeln!(
                out,
                "{}\t{}\t{}\tdraft {}\t{} features\t{}{reason}",
                g.number,
                g.created_at.to_rfc3339(),
                g.created_by,
                g.draft_id,
                g.feature_count,
                changes_text(&g)
            )?;
        }
    }
    Ok(())
}

/// Runs `drafts`: one JSON line per draft (without its report).
pub fn drafts(args: &DraftsArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    for d in drafts::list(store.as_ref())? {
        writeln!(out, "{}", serde_json::to_string(&d)?)?;
    }
    Ok(())
}

/// Runs `diff`.
pub fn diff(args: &DiffArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    for c in generations::diff(store.as_ref(), args.a, args.b)?.items {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&c)?)?;
            continue;
        }
        let area = match (c.gained_m2, c.lost_m2) {
            (None, None) => String::new(),
            (g, l) => format!(
                "\t{:.1} m² changed hands (+{:.1} / -{:.1})",
                c.changed_hands_m2,
                g.unwrap_or(0.0),
                l.unwrap_or(0.0)
            ),
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}{area}",
            c.change,
            c.layer,
            c.code,
            c.name,
            c.fields.join(",")
        )?;
    }
    Ok(())
}

/// The `--from` file, read as `import` and `validate` read theirs; every problem of the file
/// in the error (the first 50).
fn read_from(args: &ExportArgs, path: &std::path::Path) -> Result<crate::model::FeatureSet> {
    let (format, opts) = super::input::InputArgs {
        crs: args.from_crs.clone(),
        encoding: args.from_encoding.clone(),
        mapping: args.from_mapping.clone(),
        ..super::input::InputArgs::default()
    }
    .options()
    .map_err(|e| {
        let m = e.to_string();
        match m.strip_prefix("--") {
            Some(rest) => anyhow::anyhow!("--from-{rest}"),
            None => anyhow::anyhow!(m),
        }
    })?;
    crate::geo_io::source::read_path(format, path, &opts).map_err(|e| {
        let mut m = format!("{}: {e}", path.display());
        if let crate::geo_io::ReadError::Invalid(problems) = &e {
            for p in problems.iter().take(50) {
                m.push_str(&format!("\n  {p}"));
            }
            if problems.len() > 50 {
                m.push_str(&format!("\n  … and {} more", problems.len() - 50));
            }
        }
        anyhow::anyhow!(m)
    })
}

/// Runs `export`.
pub fn export(args: &ExportArgs, out: &mut dyn Write) -> Result<()> {
    let set = match (&args.from, args.draft) {
        (Some(path), _) => read_from(args, path)?,
        (None, Some(id)) => {
            let store = args.db.open()?;
            drafts::features(store.as_ref(), &Caller::operator(default_user()), id)?
        }
        (None, None) => {
            let store = args.db.open()?;
            let which = match (args.generation, args.at) {
                (Some(n), _) => generations::Which::Number(n),
                (None, Some(at)) => generations::Which::At(at.with_timezone(&Utc)),
                (None, None) => generations::Which::Current,
            };
            generations::load(store.as_ref(), which)?
        }
    };
    if args.format == export::Format::GeoJson
        && args
            .crs
            .is_some_and(|c| c != FileCrs::CGCS2000 && c != FileCrs::WGS84)
    {
        anyhow::bail!(
            "GeoJSON is always longitude/latitude (RFC 7946): --crs is for --format shapefile or gpkg"
        );
    }
    let opts = export::Options {
        crs: args.crs.unwrap_or(FileCrs::CGCS2000),
        encoding: args.encoding,
    };
    match (&args.output, args.format) {
        (Some(path), export::Format::GeoPackage) => {
            export::gpkg::write_path(&set, &opts, path)?;
        }
        (Some(path), format) => {
            let file = std::fs::File::create(path)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            write_export(&set, format, &opts, &mut std::io::BufWriter::new(file))?;
        }
        (None, format) => write_export(&set, format, &opts, &mut std::io::BufWriter::new(out))?,
    }
    Ok(())
}

fn write_export(
    set: &crate::model::FeatureSet,
    format: export::Format,
    opts: &export::Options,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        export::Format::GeoJson => crate::geo_io::write(set, &mut *out)?,
        export::Format::Shapefile => out.write_all(&export::shapefile::to_zip_bytes(set, opts)?)?,
        export::Format::GeoPackage => out.write_all(&export::gpkg::to_bytes(set, opts)?)?,
    }
    out.flush()?;
    Ok(())
}

/// Runs `migrate`.
pub fn migrate(args: &MigrateArgs, out: &mut dyn Write) -> Result<()> {
    let applied = crate::store::migrate(&args.db.database)?;
    writeln!(
        out,
        "{}",
        serde_json::json!({"database": crate::store::redact_url(&args.db.database), "applied": applied})
    )?;
    Ok(())
}

/// Runs `watch`: one JSON line per new generation on `out`, flushed at once. A line
/// `watching: current generation N` goes to standard error once the watcher listens.
pub fn watch(args: &WatchArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    let mut seen = 0usize;
    let mut failure: Option<std::io::Error> = None;
    generations::watch(store.as_ref(), args.after, &mut |event| {
        let g = match event {
            WatchEvent::Ready { current } => {
                eprintln!("watching: current generation {current}");
                return true;
            }
            WatchEvent::Published(g) => g,
        };
        let line = serde_json::json!({
            "generation": g.number,
            "created_at": g.created_at,
            "created_by": g.created_by,
            "feature_count": g.feature_count,
        });
        if let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush()) {
            failure = Some(e);
            return false;
        }
        seen += 1;
        args.count.is_none_or(|c| seen < c)
    })?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    Ok(())
}
