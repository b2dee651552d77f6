//! `gridatlas categories list|load|export`: the case categories (task list) in a store.

use super::db::DatabaseArgs;
use crate::routing::categories::{parse_task_list, task_list_json};
use crate::service::{access::Caller, cases};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `gridatlas categories`.
#[derive(Debug, clap::Args)]
pub struct CategoriesArgs {
    #[command(subcommand)]
    command: CategoriesCommand,
}

#[derive(Debug, clap::Subcommand)]
enum CategoriesCommand {
    /// One line per category: code, layer, list, street, Chinese and English names.
    List(DatabaseArgs),
    /// Replace the task list with a file (fixtures/task-list.example.json shows the format).
    Load {
        /// The task list (JSON).
        file: PathBuf,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Write the task list as JSON (the format `load` reads) to standard output.
    Export(DatabaseArgs),
}

/// Runs `gridatlas categories …`.
pub fn run(args: CategoriesArgs, out: &mut dyn Write) -> Result<()> {
    match args.command {
        CategoriesCommand::List(db) => {
            let store = db.open()?;
            for c in cases::categories(Some(store.as_ref()))?.iter() {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    c.code,
                    c.layer.as_str(),
                    serde_json::to_value(c.list)?.as_str().unwrap_or(""),
                    c.street.as_deref().unwrap_or("-"),
                    c.name_zh,
                    c.name_en
                )?;
            }
        }
        CategoriesCommand::Load { file, db } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            // Every problem of the file, one per line (the service names only the first).
            if let Err(problems) = parse_task_list(&bytes) {
                anyhow::bail!(
                    "{}: {} problem(s):\n  {}",
                    file.display(),
                    problems.len(),
                    problems.join("\n  ")
                );
            }
            let store = db.open()?;
            let loaded =
                cases::replace_categories(store.as_ref(), &Caller::operator("cli"), &bytes)?;
            writeln!(
                out,
                "loaded {} categories from {}",
                loaded.total,
                file.display()
            )?;
        }
        CategoriesCommand::Export(db) => {
            let store = db.open()?;
            let cats = cases::categories(Some(store.as_ref()))?;
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&task_list_json(&cats))?
            )?;
        }
    }
    Ok(())
}
