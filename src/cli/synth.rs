//! `gridatlas synth`: the deterministic demo district.

use crate::synth::{SynthOptions, try_synth};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `gridatlas synth`.
#[derive(Debug, Clone, clap::Args)]
pub struct SynthArgs {
    /// Random seed: the same seed and scale give byte-identical output.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Size: 1 = 金山区 (≈5,000 blocks), 20 ≈ a whole city (≈100,000 blocks); at most 30.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Inject N defects of each kind (gap, overlap, sliver, block outside grid, self-intersection).
    #[arg(long, default_value_t = 0)]
    pub dirty: usize,
    /// Where to write the ground truth of the injected defects (JSON); required with --dirty.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Output GeoJSON file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `gridatlas synth`.
pub fn run(args: SynthArgs) -> anyhow::Result<()> {
    if args.dirty > 0 && args.truth.is_none() {
        anyhow::bail!("--dirty needs --truth PATH for the ground truth");
    }
    let opts = SynthOptions {
        seed: args.seed,
        scale: args.scale,
        dirty: args.dirty,
    };
    let (set, truth) = try_synth(&opts)?;
    match &args.out {
        Some(p) => crate::geo_io::write::write_path(&set, p)?,
        None => {
            let stdout = std::io::stdout();
            crate::geo_io::write::write(&set, std::io::BufWriter::new(stdout.lock()))?;
        }
    }
    if let Some(p) = &args.truth {
        let mut f = std::io::BufWriter::new(std::fs::File::create(p)?);
        serde_json::to_writer_pretty(&mut f, &truth)?;
        f.write_all(b"\n")?;
        f.flush()?;
    }
    Ok(())
}
