//! The storage commands of the `gridatlas` CLI: `import`, `publish`, `generations`, `diff`,
//! `export`, `migrate`, `watch`, `drafts`. Each takes its clap arguments and writes its output
//! to the given writer (standard output in the binary), so tests can drive them directly.

use super::{DraftId, GenerationNo, NewDraft, Store, StoreError};
use crate::model::FeatureSet;
use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use std::io::Write;
use std::path::PathBuf;

/// Where the database is.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Database: a SQLite file path (or `sqlite:PATH`) or `postgres://user:pass@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = super::DEFAULT_DATABASE)]
    pub database: String,
}

impl DatabaseArgs {
    /// Opens the store (applying pending migrations).
    pub fn open(&self) -> Result<Box<dyn Store>> {
        super::open(&self.database)
            .with_context(|| format!("opening {}", super::redact_url(&self.database)))
    }
}

fn default_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}

/// `gridatlas import FILE`: store a GeoJSON file as a draft, with its validation report.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The GeoJSON FeatureCollection to import.
    pub file: PathBuf,
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
    /// Publish even though the draft's report has errors; the reason is stored (admins only).
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

/// `gridatlas export`: write a generation as GeoJSON to standard output.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Generation number (default: the current one).
    #[arg(long, conflicts_with = "at")]
    pub generation: Option<GenerationNo>,
    /// The generation current at this instant (RFC 3339, e.g. 2026-05-01T00:00:00+08:00).
    #[arg(long)]
    pub at: Option<DateTime<chrono::FixedOffset>>,
    /// Database.
    #[command(flatten)]
    pub db: DatabaseArgs,
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

/// Runs `import`.
pub fn import(args: &ImportArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    let base = store.current_generation()?;
    let base_set = match &base {
        Some(g) => store.load_generation(g.number)?,
        None => FeatureSet::default(),
    };
    // A file of one street names its parent (the district) by code without holding it.
    let known = base_set
        .features()
        .iter()
        .map(|f| (f.code.clone(), f.layer))
        .collect();
    let opts = crate::geo_io::ReadOptions {
        known_parents: Some(std::sync::Arc::new(known)),
        ..crate::geo_io::ReadOptions::default()
    };
    let set = crate::geo_io::read_path_with(&args.file, &opts)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let whole = super::draft_as_whole(&base_set, &set, args.streets.as_deref())?;
    let (report, errors) = crate::validate::draft_report(&whole)?;
    let id = store.create_draft(NewDraft {
        features: &set,
        covered_streets: args.streets.clone(),
        report: report.clone(),
        error_count: errors,
        created_by: &args.by,
    })?;
    let draft = store.get_draft(id)?;
    let line = serde_json::json!({
        "draft": id,
        "base_generation": draft.info.base_generation,
        "features": set.len(),
        "covered_streets": args.streets,
        "errors": errors,
        "report": report,
    });
    writeln!(out, "{line}")?;
    Ok(())
}

/// Runs `publish`.
pub fn publish(args: &PublishArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    let g = store.publish(args.draft, &args.by, args.override_reason.as_deref())?;
    writeln!(out, "{}", serde_json::to_string(&g)?)?;
    Ok(())
}

fn changes_text(g: &super::GenerationInfo) -> String {
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
    for g in store.generations()? {
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

/// Runs `drafts`.
pub fn drafts(args: &DraftsArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    for d in store.list_drafts()? {
        let mut v = serde_json::to_value(&d)?;
        if let Some(o) = v.as_object_mut() {
            o.remove("report");
        }
        writeln!(out, "{v}")?;
    }
    Ok(())
}

/// Runs `diff`.
pub fn diff(args: &DiffArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    for c in store.diff(args.a, args.b)? {
        if args.json {
            let mut v = serde_json::to_value(&c)?;
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "changed_hands_m2".into(),
                    serde_json::json!(c.changed_hands_m2()),
                );
            }
            writeln!(out, "{v}")?;
        } else {
            let change = match c.change {
                super::ChangeKind::Added => "added",
                super::ChangeKind::Removed => "removed",
                super::ChangeKind::Changed => "changed",
            };
            let area = match (c.gained_m2, c.lost_m2) {
                (None, None) => String::new(),
                (g, l) => format!(
                    "\t{:.1} m² changed hands (+{:.1} / -{:.1})",
                    c.changed_hands_m2(),
                    g.unwrap_or(0.0),
                    l.unwrap_or(0.0)
                ),
            };
            writeln!(
                out,
                "{change}\t{}\t{}\t{}\t{}{area}",
                c.layer,
                c.code,
                c.name,
                c.fields.join(",")
            )?;
        }
    }
    Ok(())
}

/// Runs `export`.
pub fn export(args: &ExportArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    let n = match (args.generation, args.at) {
        (Some(n), _) => n,
        (None, Some(at)) => match store.generation_at(at.with_timezone(&Utc))? {
            Some(g) => g.number,
            None => bail!("no generation was published at or before {at}"),
        },
        (None, None) => match store.current_generation()? {
            Some(g) => g.number,
            None => bail!("nothing has been published yet"),
        },
    };
    let set = store.load_generation(n)?;
    crate::geo_io::write(&set, std::io::BufWriter::new(out))?;
    Ok(())
}

/// Runs `migrate`.
pub fn migrate(args: &MigrateArgs, out: &mut dyn Write) -> Result<()> {
    let applied = super::migrate(&args.db.database)?;
    writeln!(
        out,
        "{}",
        serde_json::json!({"database": super::redact_url(&args.db.database), "applied": applied})
    )?;
    Ok(())
}

/// Runs `watch`: one JSON line per new generation on `out`, flushed at once. A line
/// `watching: current generation N` goes to standard error once the watcher listens.
pub fn watch(args: &WatchArgs, out: &mut dyn Write) -> Result<()> {
    let store = args.db.open()?;
    let mut seen = 0usize;
    let mut failure: Option<std::io::Error> = None;
    store.watch(args.after, &mut |event| {
        let g = match event {
            super::WatchEvent::Ready { current } => {
                eprintln!("watching: current generation {current}");
                return true;
            }
            super::WatchEvent::Published(g) => g,
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

/// Exit status for a command's error: 3 for a refused or conflicting publish, 2 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::PublishRefused { .. } | StoreError::Conflict(_)) => 3,
        _ => 2,
    }
}
