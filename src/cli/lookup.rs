//! `gridatlas lookup`: one point, or a CSV of points, against a GeoJSON file or a stored
//! generation.

use super::db::DatabaseArgs;
use crate::atlas::{Atlas, Placement};
use crate::geo_io;
use crate::service::generations::{self, Which};
use anyhow::Context;
use serde_json::json;
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

/// Arguments of `gridatlas lookup`.
#[derive(Debug, clap::Args)]
pub struct LookupArgs {
    /// The GeoJSON feature file to index (e.g. fixtures/demo-district.geojson).
    #[arg(
        long,
        required_unless_present = "database",
        conflicts_with = "database"
    )]
    pub data: Option<PathBuf>,
    /// Look up in a stored generation instead: a SQLite file or `postgres://…`.
    #[arg(long, env = "DATABASE_URL")]
    pub database: Option<String>,
    /// With --database: a generation number, or an RFC 3339 time (the generation in force then,
    /// e.g. 2026-05-01T00:00:00+08:00); default: the current generation.
    #[arg(long, requires = "database")]
    pub at: Option<String>,
    /// A CSV of `lon,lat` lines (an optional `lon,lat` header); writes one JSON line per input
    /// line, in order. Malformed lines get an error line naming the line number.
    #[arg(long, conflicts_with_all = ["lon", "lat"])]
    pub batch: Option<PathBuf>,
    /// Longitude (WGS84).
    #[arg(allow_negative_numbers = true, required_unless_present = "batch")]
    pub lon: Option<f64>,
    /// Latitude (WGS84).
    #[arg(allow_negative_numbers = true, required_unless_present = "batch")]
    pub lat: Option<f64>,
}

/// Runs the command; returns the process exit code.
pub fn run(args: LookupArgs) -> anyhow::Result<i32> {
    let atlas = match (&args.data, &args.database) {
        (Some(path), _) => Atlas::build(read_file(path)?),
        (None, Some(url)) => {
            let store = DatabaseArgs {
                database: url.clone(),
            }
            .open()?;
            let which = match &args.at {
                Some(at) => Which::parse("at", at)?,
                None => Which::Current,
            };
            generations::atlas(store.as_ref(), which)?
        }
        (None, None) => anyhow::bail!("give --data FILE or --database URL"),
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    match (args.batch, args.lon, args.lat) {
        (Some(path), _, _) => {
            let file = std::fs::File::open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            batch(&atlas, std::io::BufReader::new(file), &mut out)?;
        }
        (None, Some(lon), Some(lat)) => {
            let p = atlas.lookup(lon, lat);
            serde_json::to_writer_pretty(&mut out, &atlas.placement_json(lon, lat, &p))?;
            writeln!(out)?;
        }
        _ => anyhow::bail!("give LON LAT or --batch FILE"),
    }
    out.flush()?;
    Ok(0)
}

fn read_file(path: &std::path::Path) -> anyhow::Result<crate::model::FeatureSet> {
    match geo_io::read_path(path) {
        Ok(set) => Ok(set),
        Err(geo_io::ReadError::Invalid(problems)) => {
            for p in &problems {
                eprintln!("{}: {p}", path.display());
            }
            anyhow::bail!("{} problem(s) in {}", problems.len(), path.display());
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Parses one `lon,lat` line.
fn parse_line(line: &str) -> Result<(f64, f64), String> {
    let mut parts = line.split(',').map(str::trim);
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "expected two comma-separated numbers `lon,lat`, got {line:?}"
        ));
    };
    let lon: f64 = a
        .parse()
        .map_err(|_| format!("longitude {a:?} is not a number"))?;
    let lat: f64 = b
        .parse()
        .map_err(|_| format!("latitude {b:?} is not a number"))?;
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(format!("longitude {a} is outside [-180, 180]"));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(format!("latitude {b} is outside [-90, 90]"));
    }
    Ok((lon, lat))
}

/// The compact JSON line of a batch lookup.
pub fn batch_line(
    atlas: &Atlas,
    line: usize,
    lon: f64,
    lat: f64,
    p: &Placement,
) -> serde_json::Value {
    let code = |id: Option<u32>| id.map(|i| atlas.feature(i).code.as_str());
    json!({
        "line": line,
        "lon": lon,
        "lat": lat,
        "street": code(p.street),
        "grid": code(p.grid),
        "grid_layer": p.grid.map(|g| atlas.feature(g).layer.as_str()),
        "block": code(p.block),
        "block_head": p.block.and_then(|b| atlas.feature(b).person(crate::model::Role::BlockHead)).map(|h| h.name.as_str()),
        "road_segment": p.roads.first().map(|r| atlas.feature(r.feature).code.as_str()),
        "fallback": p.fallback.as_json(),
        "distance_m": p.distance_m.map(|d| (d * 100.0).round() / 100.0),
    })
}

/// Looks up every line of `input`, writing one JSON line per line (header and blank lines
/// excepted).
pub fn batch<R: BufRead, W: Write>(atlas: &Atlas, input: R, out: &mut W) -> anyhow::Result<()> {
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                serde_json::to_writer(
                    &mut *out,
                    &json!({"line": n, "error": format!("unreadable line: {e}")}),
                )?;
                out.write_all(b"\n")?;
                continue;
            }
        };
        let t = line.trim();
        if t.is_empty() || (n == 1 && t.eq_ignore_ascii_case("lon,lat")) {
            continue;
        }
        let v = match parse_line(t) {
            Ok((lon, lat)) => batch_line(atlas, n, lon, lat, &atlas.lookup(lon, lat)),
            Err(e) => json!({"line": n, "error": e}),
        };
        serde_json::to_writer(&mut *out, &v)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lines_are_named_and_the_run_goes_on() {
        assert!(parse_line("121.2,30.8").is_ok());
        assert!(
            parse_line("121.2")
                .unwrap_err()
                .contains("two comma-separated")
        );
        assert!(parse_line("x,30").unwrap_err().contains("longitude \"x\""));
        assert!(parse_line("121,95").unwrap_err().contains("[-90, 90]"));
        assert!(parse_line("inf,30").unwrap_err().contains("[-180, 180]"));
        let atlas = Atlas::build(crate::model::FeatureSet::default());
        let mut out = Vec::new();
        batch(
            &atlas,
            "lon,lat\n121.2,30.8\nbad\n\n121,31\n".as_bytes(),
            &mut out,
        )
        .expect("batch");
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .expect("utf8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["line"], 2);
        assert_eq!(lines[0]["fallback"], "outside");
        assert_eq!(lines[1]["line"], 3);
        assert!(
            lines[1]["error"]
                .as_str()
                .is_some_and(|e| e.contains("two comma-separated"))
        );
        assert_eq!(lines[2]["line"], 5);
    }
}
