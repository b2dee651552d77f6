//! The `gridatlas` command line: every argument parser (clap) of the program lives here, one file
//! per group of subcommands. A command parses its arguments, opens what it needs (a file, the
//! store), makes the service call ([`crate::service`]) and prints the answer; the flows
//! themselves are the service layer's, shared with the HTTP API.
//!
//! Exit status: 0 on success, 1 when a check found errors (`validate`), 2 on an error, 3 when a
//! publish was refused or conflicted.

pub mod assets;
pub mod calendar;
pub mod categories;
pub mod coverage;
pub mod db;
pub mod input;
pub mod lookup;
pub mod scoring;
pub mod serve;
pub mod staff;
pub mod store;
pub mod synth;
pub mod tokens;
pub mod validate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "gridatlas",
    version,
    about = "Boundary backbone of urban grid management (网格化管理)"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Who owns a point (or every point of a CSV)? Prints the placement as JSON.
    Lookup(lookup::LookupArgs),
    /// Generate a deterministic demo district (GeoJSON on stdout or --out).
    Synth(synth::SynthArgs),
    /// Create, list or revoke API tokens.
    Token(tokens::TokenArgs),
    /// Serve the API and the web map (127.0.0.1:8080 by default).
    Serve(Box<serve::ServeArgs>),
    /// Store a GeoJSON file as a draft, with its validation report.
    Import(store::ImportArgs),
    /// Publish a draft as the next generation.
    Publish(store::PublishArgs),
    /// List published generations: who, when, what changed.
    Generations(store::GenerationsArgs),
    /// List stored drafts.
    Drafts(store::DraftsArgs),
    /// List the areas that changed between two generations, with the area that changed hands.
    Diff(store::DiffArgs),
    /// Write a generation as GeoJSON to standard output.
    Export(store::ExportArgs),
    /// Apply pending database migrations.
    Migrate(store::MigrateArgs),
    /// Print one JSON line per newly published generation (any process on the same database).
    Watch(store::WatchArgs),
    /// Check a GeoJSON file: geometry, hierarchy, overlaps, gaps, containment, slivers.
    Validate(validate::ValidateArgs),
    /// List, load or export the case categories (the task list, 规定+自选).
    Categories(categories::CategoriesArgs),
    /// Due times on a working calendar (working hours, holidays, 调休 working days); load or show
    /// the calendar of the case workflow.
    Calendar(calendar::CalendarArgs),
    /// Load or show the assessment's scoring scheme (weights, grade bands).
    Scoring(scoring::ScoringArgs),
    /// Coverage of road segments by patrol tracks (NDJSON fixes): one JSON line per road segment,
    /// or per grid with --by grid.
    Coverage(coverage::CoverageArgs),
    /// Import or export the field force's staff roster (CSV in UTF-8 or GBK, or JSON).
    Staff(staff::StaffArgs),
    /// Import a duty roster (who works which shift on which date).
    Duty(staff::DutyArgs),
    /// Import or export the city component register (部件: GeoJSON, or CSV in UTF-8 or GBK).
    Components(assets::RegisterArgs),
    /// Import or export the register of shops under frontage duty (门责).
    Shops(assets::RegisterArgs),
}

/// Parses the command line, runs the command and answers the exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Not locked for the whole run: the server logs from many threads.
    let mut out = std::io::stdout();
    let ok = |r: anyhow::Result<()>| r.map(|()| 0);
    let result = match cli.command {
        Command::Lookup(args) => lookup::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Token(args) => ok(tokens::run(args, &mut out)),
        Command::Synth(args) => ok(synth::run(args)),
        Command::Import(a) => ok(store::import(&a, &mut out)),
        Command::Publish(a) => ok(store::publish(&a, &mut out)),
        Command::Generations(a) => ok(store::generations(&a, &mut out)),
        Command::Drafts(a) => ok(store::drafts(&a, &mut out)),
        Command::Diff(a) => ok(store::diff(&a, &mut out)),
        Command::Export(a) => ok(store::export(&a, &mut out)),
        Command::Migrate(a) => ok(store::migrate(&a, &mut out)),
        Command::Watch(a) => ok(store::watch(&a, &mut out)),
        Command::Validate(args) => validate::run(&args),
        Command::Categories(a) => ok(categories::run(a, &mut out)),
        Command::Calendar(a) => calendar::run(a, &mut out),
        Command::Scoring(a) => ok(scoring::run(a, &mut out)),
        Command::Coverage(a) => ok(coverage::run(&a, &mut out)),
        Command::Staff(a) => ok(staff::run(a, &mut out)),
        Command::Duty(a) => ok(staff::run_duty(a, &mut out)),
        Command::Components(a) => ok(assets::run(assets::Register::Components, a, &mut out)),
        Command::Shops(a) => ok(assets::run(assets::Register::Shops, a, &mut out)),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Exit status for a command's error: 3 for a refused or conflicting publish, 2 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<crate::service::Error>() {
        Some(s) if s.kind == crate::service::Kind::Conflict => 3,
        _ => match e.downcast_ref::<crate::store::StoreError>() {
            Some(
                crate::store::StoreError::PublishRefused { .. }
                | crate::store::StoreError::Conflict(_),
            ) => 3,
            _ => 2,
        },
    }
}
