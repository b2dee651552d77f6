//! `gridatlas synth`: the deterministic demo district, and with `--patrols DIR --date D` a day
//! of its field force (docs/synth.md, "A day of patrols").

use crate::field::duty::{EXAMPLE, FieldSettings};
use crate::synth::patrols::{PatrolDay, patrol_day};
use crate::synth::{SynthOptions, try_synth};
use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    /// Survey-dense boundaries: a vertex every MIN..MAX metres along every edge of every area
    /// (e.g. `2..10`), with a little survey noise that shared edges get identically
    /// (docs/synth.md, "Survey-dense boundaries").
    #[arg(long, value_name = "MIN..MAX")]
    pub vertex_spacing_m: Option<crate::synth::survey::Spacing>,
    /// Output GeoJSON file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write a day of patrols of the district into this directory: staff.json, duty.json,
    /// fixes.ndjson, checkins.ndjson, workstations.json and truth.json (needs --date).
    #[arg(long, requires = "date")]
    pub patrols: Option<PathBuf>,
    /// The local date (YYYY-MM-DD) of the day of patrols.
    #[arg(long, requires = "patrols")]
    pub date: Option<NaiveDate>,
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
    let set = match &args.vertex_spacing_m {
        Some(sp) => crate::synth::survey::densify(set, sp, args.seed),
        None => set,
    };
    match &args.out {
        Some(p) => crate::geo_io::write::write_path(&set, p)?,
        None => {
            let stdout = std::io::stdout();
            crate::geo_io::write::write(&set, std::io::BufWriter::new(stdout.lock()))?;
        }
    }
    if let Some(p) = &args.truth {
        write_json(p, &truth)?;
    }
    if let (Some(dir), Some(date)) = (&args.patrols, args.date) {
        let settings = FieldSettings::from_json(EXAMPLE).map_err(anyhow::Error::msg)?;
        let day = patrol_day(&set, &settings, date, args.seed);
        write_patrols(dir, &day, settings.offset())?;
    }
    Ok(())
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    serde_json::to_writer_pretty(&mut f, value)?;
    f.write_all(b"\n")?;
    f.flush()?;
    Ok(())
}

/// A time in RFC 3339 with milliseconds at `offset` (e.g. `2026-12-01T08:00:10.123+08:00`).
fn rfc3339(t: DateTime<Utc>, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// Writes the files of a day of patrols into `dir` (created if missing). Fixes are grouped by
/// person, by time within each; check-ins are by time.
pub fn write_patrols(dir: &Path, day: &PatrolDay, offset: FixedOffset) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_json(&dir.join("staff.json"), &day.staff)?;
    // As `gridatlas duty import` and `PUT /api/v1/duty` take it: the dates it replaces and the
    // entries (a shift across midnight starts on the day).
    let dates = day.duty.iter().map(|e| e.date);
    let duty = crate::wire::field::DutyInput {
        from: dates.clone().min().unwrap_or(day.date),
        to: dates.max().unwrap_or(day.date),
        entries: day.duty.clone(),
    };
    write_json(&dir.join("duty.json"), &duty)?;
    write_json(&dir.join("workstations.json"), &day.workstations)?;
    write_json(&dir.join("truth.json"), &day.truth)?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("fixes.ndjson"))?);
    for track in &day.tracks {
        let staff = serde_json::to_string(&track.staff)?;
        for f in &track.fixes {
            let t = DateTime::from_timestamp_millis(f.t_ms)
                .ok_or_else(|| anyhow::anyhow!("fix time {} out of range", f.t_ms))?;
            write!(
                w,
                "{{\"staff\":{staff},\"lon\":{},\"lat\":{},\"t\":\"{}\"",
                f.lon,
                f.lat,
                rfc3339(t, offset)
            )?;
            if let Some(a) = f.accuracy_m {
                write!(w, ",\"accuracy_m\":{a}")?;
            }
            w.write_all(b"}\n")?;
        }
    }
    w.flush()?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("checkins.ndjson"))?);
    for c in &day.checkins {
        let line = serde_json::json!({
            "staff": c.staff,
            "punch": c.punch,
            "lon": c.lon,
            "lat": c.lat,
            "t": rfc3339(c.t, offset),
            "accuracy_m": c.accuracy_m,
        });
        serde_json::to_writer(&mut w, &line)?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(())
}
