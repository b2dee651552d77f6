//! The `gridatlas` command line: one subcommand per task, each implemented in its module.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
    /// Serve the API and the web map (127.0.0.1:8080 by default).
    Serve(gridatlas::http::serve::ServeArgs),
    /// Check a GeoJSON file: geometry, hierarchy, overlaps, gaps, containment, slivers.
    Validate(gridatlas::validate::cli::ValidateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Lookup(args) => gridatlas::atlas::cli::run(args),
        Command::Serve(args) => gridatlas::http::serve::run(args),
        Command::Validate(args) => gridatlas::validate::cli::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
