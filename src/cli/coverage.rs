//! `gridatlas coverage`: the coverage of a district's road segments by patrol tracks, offline —
//! for planners and for checking the server. The definitions are [`crate::field::coverage`]'s and
//! [`crate::field::geofence`]'s (docs/field.md, Coverage).

use crate::atlas::{Atlas, FeatureId};
use crate::field::coverage::{CoverageIndex, SegmentCoverage};
use crate::field::duty::CoverageRules;
use crate::field::fixes::{Limits, read_ndjson};
use crate::field::geofence::{Fence, geofence};
use crate::field::{Fix, FixRules, clean, paths};
use crate::geo_io;
use crate::model::{Feature, FeatureSet, Layer};
use anyhow::Context;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// What one output line describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// One line per road segment.
    Segment,
    /// One line per grid.
    Grid,
}

/// Arguments of `gridatlas coverage`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = "\
Output, one JSON line each, in the file's order:

  --by segment (default), per road segment:
    {\"code\", \"length_m\", \"covered_m\", \"share\"}
  --by grid, per grid (resident, street and extended grids):
    {\"code\", \"segments\", \"covered_segments\" (share ≥ --covered-share),
     \"unpatrolled_segments\" (covered_m = 0), \"length_m\", \"covered_m\", \"share\",
     \"blocks\", \"visited_blocks\", \"inside_s\"}

A segment's covered length is the length of its lines within --radius-m of any path; a path joins
a person's consecutive fixes less than --join-s seconds and --join-m metres apart (fixes less
accurate than 100 m or faster than 150 km/h from the previous one are dropped first). A grid's
segments and blocks are those whose parent chain reaches it; a block is visited when a fix lies
in it; inside_s is the time of every person inside the grid. See docs/field.md.")]
pub struct CoverageArgs {
    /// The district (GeoJSON FeatureCollection with road segments).
    #[arg(long)]
    pub data: PathBuf,
    /// The fixes: NDJSON lines {"staff", "lon", "lat", "t", "accuracy_m", "crs"}.
    #[arg(long)]
    pub tracks: PathBuf,
    /// Road length within this many metres of a path is covered.
    #[arg(long, default_value_t = 20.0)]
    pub radius_m: f64,
    /// Consecutive fixes join into a path when less than this many seconds apart …
    #[arg(long, default_value_t = 60.0)]
    pub join_s: f64,
    /// … and less than this many metres apart.
    #[arg(long, default_value_t = 150.0)]
    pub join_m: f64,
    /// With --by grid: a segment counts as covered from this share on.
    #[arg(long, default_value_t = CoverageRules::default().covered_share)]
    pub covered_share: f64,
    /// One line per road segment or per grid.
    #[arg(long, value_enum, default_value_t = By::Segment)]
    pub by: By,
}

/// Runs `gridatlas coverage`.
pub fn run(args: &CoverageArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let rules = FixRules {
        join_s: args.join_s,
        join_m: args.join_m,
        ..FixRules::default()
    };
    rules
        .check()
        .map_err(|e| anyhow::anyhow!("--{}", e.replace('_', "-")))?;
    anyhow::ensure!(
        args.radius_m.is_finite() && (0.0..=10_000.0).contains(&args.radius_m),
        "--radius-m: {} is not 0 to 10000 metres",
        args.radius_m
    );
    anyhow::ensure!(
        args.covered_share > 0.0 && args.covered_share <= 1.0,
        "--covered-share: {} is not in (0, 1]",
        args.covered_share
    );
    let set = geo_io::read_path(&args.data).map_err(|e| match e {
        geo_io::ReadError::Invalid(problems) => anyhow::anyhow!(
            "{}: {} problem(s), the first: {}",
            args.data.display(),
            problems.len(),
            problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
        e => anyhow::Error::new(e).context(format!("reading {}", args.data.display())),
    })?;
    let file = std::fs::File::open(&args.tracks)
        .with_context(|| format!("opening {}", args.tracks.display()))?;
    let fixes =
        read_ndjson(std::io::BufReader::new(file), &Limits::default()).map_err(|errors| {
            for e in &errors {
                eprintln!("{}: {e}", args.tracks.display());
            }
            anyhow::anyhow!("{} bad line(s) in {}", errors.len(), args.tracks.display())
        })?;
    let read = fixes.len();
    let mut by_staff: BTreeMap<String, Vec<Fix>> = BTreeMap::new();
    for f in fixes {
        by_staff.entry(f.staff).or_default().push(f.fix);
    }
    let segments: Vec<&Feature> = set
        .layer(Layer::RoadSegment)
        .filter(|f| f.geometry.as_line().is_some())
        .collect();
    let index = CoverageIndex::new(
        segments
            .iter()
            .filter_map(|f| Some((f.code.clone(), f.geometry.as_line()?))),
        args.radius_m,
    );
    let mut tally = index.tally();
    let atlas = (args.by == By::Grid).then(|| Atlas::build(set.clone()));
    let mut inside_ms: BTreeMap<FeatureId, i64> = BTreeMap::new();
    let mut visited: std::collections::HashSet<FeatureId> = Default::default();
    let (mut kept, mut dropped, mut n_paths) = (0, 0, 0);
    for fixes in by_staff.into_values() {
        let cleaned = clean(fixes, None, &rules);
        kept += cleaned.kept.len();
        dropped += cleaned.dropped_accuracy + cleaned.dropped_speed + cleaned.dropped_duplicate;
        let ps = paths(&cleaned.kept, &rules);
        n_paths += ps.len();
        index.add_paths(&mut tally, ps.iter().copied());
        if let Some(atlas) = &atlas {
            let g = geofence(atlas, &ps);
            for (grid, ms) in g.time_inside(Fence::Grid) {
                *inside_ms.entry(grid).or_default() += ms;
            }
            visited.extend(g.visited(Fence::Block));
        }
    }
    eprintln!(
        "coverage: {read} fixes read, {kept} kept, {dropped} dropped, {n_paths} paths, {} road segments",
        index.len()
    );
    let result = index.finish(&tally);
    let mut out = BufWriter::new(out);
    match &atlas {
        None => {
            for s in &result {
                serde_json::to_writer(&mut out, s)?;
                writeln!(out)?;
            }
        }
        Some(atlas) => {
            for line in by_grid(atlas, &segments, &result, &inside_ms, &visited, args) {
                serde_json::to_writer(&mut out, &line)?;
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// The grid a feature belongs to: the first grid up its parent chain (itself if a grid).
fn grid_of<'a>(set: &'a FeatureSet, f: &'a Feature) -> Option<&'a Feature> {
    let mut at = Some(f);
    for _ in 0..8 {
        let here = at?;
        if here.layer.is_grid() {
            return Some(here);
        }
        at = set.parent_of(here);
    }
    None
}

/// One JSON object per grid, in file order.
fn by_grid(
    atlas: &Atlas,
    segments: &[&Feature],
    result: &[SegmentCoverage],
    inside_ms: &BTreeMap<FeatureId, i64>,
    visited: &std::collections::HashSet<FeatureId>,
    args: &CoverageArgs,
) -> Vec<serde_json::Value> {
    #[derive(Default)]
    struct Row {
        segments: usize,
        covered: usize,
        unpatrolled: usize,
        length_m: f64,
        covered_m: f64,
        blocks: usize,
        visited: usize,
    }
    let set = atlas.features();
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for (f, c) in segments.iter().zip(result) {
        let Some(g) = grid_of(set, f) else { continue };
        let row = rows.entry(g.code.as_str()).or_default();
        row.segments += 1;
        row.covered += usize::from(c.share >= args.covered_share);
        row.unpatrolled += usize::from(c.covered_m == 0.0);
        row.length_m += c.length_m;
        row.covered_m += c.covered_m;
    }
    for (i, f) in set.features().iter().enumerate() {
        if f.layer != Layer::Block {
            continue;
        }
        let Some(g) = grid_of(set, f) else { continue };
        let row = rows.entry(g.code.as_str()).or_default();
        row.blocks += 1;
        row.visited += usize::from(visited.contains(&(i as FeatureId)));
    }
    set.features()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.layer.is_grid())
        .map(|(i, g)| {
            let row = rows.remove(g.code.as_str()).unwrap_or_default();
            let share = if row.length_m > 0.0 {
                row.covered_m / row.length_m
            } else {
                0.0
            };
            let inside = inside_ms.get(&(i as FeatureId)).copied().unwrap_or(0);
            json!({
                "code": g.code,
                "segments": row.segments,
                "covered_segments": row.covered,
                "unpatrolled_segments": row.unpatrolled,
                "length_m": row.length_m,
                "covered_m": row.covered_m,
                "share": share,
                "blocks": row.blocks,
                "visited_blocks": row.visited,
                "inside_s": inside as f64 / 1000.0,
            })
        })
        .collect()
}
