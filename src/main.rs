//! The `gridatlas` command line.

use clap::{Parser, Subcommand};
use gridatlas::store::cli;

/// gridatlas: validated, versioned grid boundaries (网格化管理) and fast point lookups.
#[derive(Debug, Parser)]
#[command(name = "gridatlas", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Store a GeoJSON file as a draft, with its validation report.
    Import(cli::ImportArgs),
    /// Publish a draft as the next generation.
    Publish(cli::PublishArgs),
    /// List published generations: who, when, what changed.
    Generations(cli::GenerationsArgs),
    /// List stored drafts.
    Drafts(cli::DraftsArgs),
    /// List the areas that changed between two generations.
    Diff(cli::DiffArgs),
    /// Write a generation as GeoJSON to standard output.
    Export(cli::ExportArgs),
    /// Apply pending database migrations.
    Migrate(cli::MigrateArgs),
    /// Print one JSON line per newly published generation.
    Watch(cli::WatchArgs),
}

fn main() {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match &cli.command {
        Command::Import(a) => cli::import(a, &mut out),
        Command::Publish(a) => cli::publish(a, &mut out),
        Command::Generations(a) => cli::generations(a, &mut out),
        Command::Drafts(a) => cli::drafts(a, &mut out),
        Command::Diff(a) => cli::diff(a, &mut out),
        Command::Export(a) => cli::export(a, &mut out),
        Command::Migrate(a) => cli::migrate(a, &mut out),
        Command::Watch(a) => cli::watch(a, &mut out),
    };
    if let Err(e) = result {
        eprintln!("gridatlas: {e:#}");
        std::process::exit(cli::exit_code(&e));
    }
}
