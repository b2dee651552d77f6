//! `gridatlas scoring load|show`: the assessment's scoring scheme (weights per indicator per
//! assessed kind, grade bands), checked and stored like the task list; the example shipped with
//! gridatlas is in force until one is loaded.

use super::db::DatabaseArgs;
use crate::cases::scoring::Scheme;
use crate::service::{access::Caller, assessment};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `gridatlas scoring`.
#[derive(Debug, clap::Args)]
pub struct ScoringArgs {
    #[command(subcommand)]
    command: ScoringCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ScoringCommand {
    /// Check a scheme file and store it.
    Load {
        /// The scheme file (JSON: grades, kinds).
        file: PathBuf,
        /// Who loads it, for the log.
        #[arg(long, default_value_t = super::db::default_user())]
        by: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Print the scheme in force (JSON).
    Show(DatabaseArgs),
}

/// Runs `gridatlas scoring …`.
pub fn run(args: ScoringArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        ScoringCommand::Load { file, by, db } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            // Every problem of the file, one per line.
            if let Err(problems) = Scheme::from_json(&bytes) {
                anyhow::bail!(
                    "{}: {} problem(s):\n  {}",
                    file.display(),
                    problems.len(),
                    problems.join("\n  ")
                );
            }
            let store = db.open()?;
            assessment::replace_scoring(store.as_ref(), &Caller::operator(by), &bytes)?;
            writeln!(out, "loaded the scoring scheme from {}", file.display())?;
        }
        ScoringCommand::Show(db) => {
            let store = db.open()?;
            let (scheme, example) = assessment::scoring(Some(store.as_ref()))?;
            if example {
                eprintln!("no scheme loaded: the example shipped with gridatlas is in force");
            }
            writeln!(out, "{}", serde_json::to_string_pretty(&scheme)?)?;
        }
    }
    Ok(())
}
