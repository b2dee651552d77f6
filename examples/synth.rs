//! Runs `gridatlas synth` until the main binary wires it in:
//! `cargo run --release --example synth -- --seed 1 --scale 1 --out demo.geojson`.

use clap::Parser;
use gridatlas::synth::{SynthArgs, run_cli};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: SynthArgs,
}

fn main() -> anyhow::Result<()> {
    run_cli(Cli::parse().args)
}
