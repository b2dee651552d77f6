//! The `gridatlas` command line.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gridatlas",
    version,
    about = "Boundary backbone of urban grid management"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a GeoJSON file: geometry, hierarchy, overlaps, gaps, containment, slivers.
    Validate(gridatlas::validate::cli::ValidateArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Validate(args) => gridatlas::validate::cli::run(&args)?,
    };
    std::process::exit(code);
}
