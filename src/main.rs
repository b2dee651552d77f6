//! The `gridatlas` command line: one subcommand per task, each implemented in its module.

use clap::{Parser, Subcommand};
use gridatlas::store::cli as store_cli;
use std::process::ExitCode;

/// mimalloc: the server allocates a response body per request (≈ 2 KB, a "large" allocation
/// for glibc, whose `malloc_consolidate` showed in profiles); mimalloc's per-thread free lists
/// make that cheap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "gridatlas",
    version,
    about = "Boundary backbone of urban grid management (网格化管理)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Who owns a point (or every point of a CSV)? Prints the placement as JSON.
    Lookup(gridatlas::atlas::cli::LookupArgs),
    /// Generate a deterministic demo district (GeoJSON on stdout or --out).
    Synth(gridatlas::synth::cli::SynthArgs),
    /// Create, list or revoke API tokens.
    Token(gridatlas::http::auth::TokenArgs),
    /// Serve the API and the web map (127.0.0.1:8080 by default).
    Serve(gridatlas::http::serve::ServeArgs),
    /// Store a GeoJSON file as a draft, with its validation report.
    Import(store_cli::ImportArgs),
    /// Publish a draft as the next generation.
    Publish(store_cli::PublishArgs),
    /// List published generations: who, when, what changed.
    Generations(store_cli::GenerationsArgs),
    /// List stored drafts.
    Drafts(store_cli::DraftsArgs),
    /// List the areas that changed between two generations, with the area that changed hands.
    Diff(store_cli::DiffArgs),
    /// Write a generation as GeoJSON to standard output.
    Export(store_cli::ExportArgs),
    /// Apply pending database migrations.
    Migrate(store_cli::MigrateArgs),
    /// Print one JSON line per newly published generation (any process on the same database).
    Watch(store_cli::WatchArgs),
    /// Check a GeoJSON file: geometry, hierarchy, overlaps, gaps, containment, slivers.
    Validate(gridatlas::validate::cli::ValidateArgs),
    /// List, load or export the case categories (the task list, 规定+自选).
    Categories(gridatlas::routing::cli::CategoriesArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Not locked for the whole run: the server logs from many threads.
    let mut out = std::io::stdout();
    let result = match cli.command {
        Command::Lookup(args) => gridatlas::atlas::cli::run(args),
        Command::Serve(args) => gridatlas::http::serve::run(args),
        Command::Token(args) => gridatlas::http::auth::run(args, &mut out).map(|()| 0),
        Command::Synth(args) => gridatlas::synth::cli::run_cli(args).map(|()| 0),
        Command::Import(a) => store_cli::import(&a, &mut out).map(|()| 0),
        Command::Publish(a) => store_cli::publish(&a, &mut out).map(|()| 0),
        Command::Generations(a) => store_cli::generations(&a, &mut out).map(|()| 0),
        Command::Drafts(a) => store_cli::drafts(&a, &mut out).map(|()| 0),
        Command::Diff(a) => store_cli::diff(&a, &mut out).map(|()| 0),
        Command::Export(a) => store_cli::export(&a, &mut out).map(|()| 0),
        Command::Migrate(a) => store_cli::migrate(&a, &mut out).map(|()| 0),
        Command::Watch(a) => store_cli::watch(&a, &mut out).map(|()| 0),
        Command::Validate(args) => gridatlas::validate::cli::run(&args),
        Command::Categories(a) => gridatlas::routing::cli::run(a, &mut out).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(store_cli::exit_code(&e))
        }
    }
}
