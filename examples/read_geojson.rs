//! Reads a GeoJSON file with the streaming reader and prints a summary and every problem.
//!
//!     cargo run --release --example read_geojson -- FILE [--slice]
//!
//! `--slice` reads the whole file into memory first and parses from the slice.

use gridatlas::geo_io::{ReadError, read_path, read_slice};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .ok_or_else(|| anyhow::anyhow!("usage: FILE [--slice]"))?,
    );
    let slice = args.next().as_deref() == Some("--slice");
    let bytes = std::fs::metadata(&path)?.len();
    let start = Instant::now();
    let result = if slice {
        read_slice(&std::fs::read(&path)?)
    } else {
        read_path(&path)
    };
    let secs = start.elapsed().as_secs_f64();
    let mb = bytes as f64 / 1e6;
    match result {
        Ok(set) => println!(
            "{} features, {} positions, {} management units; {mb:.1} MB in {secs:.2} s = {:.0} MB/s",
            set.len(),
            set.position_count(),
            set.management_units.len(),
            mb / secs
        ),
        Err(ReadError::Invalid(problems)) => {
            for p in &problems {
                println!("{p}");
            }
            println!("{} problem(s); {mb:.1} MB in {secs:.2} s", problems.len());
        }
        Err(e) => println!("{e}"),
    }
    Ok(())
}
