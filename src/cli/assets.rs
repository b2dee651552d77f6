//! `gridatlas components import|export` and `gridatlas shops import|export`: the asset registers
//! at the command line — the same readers, register rules and store calls as `PUT`/`POST
//! /api/v1/components` and `…/shops`, as the operator (see [`crate::service::assets`]).

use super::db::DatabaseArgs;
use super::staff::encoding;
use crate::assets::io::{self, AssetErrors};
use crate::service::{access::Caller, assets as service};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `gridatlas components` and `gridatlas shops`.
#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    #[command(subcommand)]
    command: RegisterCommand,
}

#[derive(Debug, clap::Subcommand)]
enum RegisterCommand {
    /// Add or update the items of FILE (by code or id), or with --replace make FILE the whole
    /// register. Checked by the register rules first: a file with an error is refused whole,
    /// each problem listed, nothing stored.
    Import {
        /// GeoJSON (.geojson, .json) or CSV (.csv: Chinese or English headers, see
        /// docs/assets.md).
        file: PathBuf,
        /// Replace the whole register with the file.
        #[arg(long)]
        replace: bool,
        /// Coordinates of the file: wgs84 (default), gcj02 or bd09.
        #[arg(long)]
        crs: Option<String>,
        /// CSV encoding: utf-8 or gbk (default: detected — valid UTF-8, else GBK).
        #[arg(long)]
        encoding: Option<String>,
        /// Who imports it, for the log.
        #[arg(long, default_value_t = super::db::default_user())]
        by: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Write the whole register as GeoJSON (to --output, or standard output).
    Export {
        /// The file to write.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

fn problems(file: &std::path::Path, e: &AssetErrors) -> anyhow::Error {
    let mut s: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
    if e.more > 0 {
        s.push(format!("… and {} more", e.more));
    }
    anyhow::anyhow!("{}:\n  {}", file.display(), s.join("\n  "))
}

/// A refused import: the detail and each of the rules' findings on a line.
fn refused(e: crate::service::Error) -> anyhow::Error {
    let findings: Vec<String> = e
        .extra
        .as_ref()
        .and_then(|x| x.get("findings"))
        .and_then(serde_json::Value::as_array)
        .map(|f| f.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    if findings.is_empty() {
        anyhow::anyhow!("{}", e.detail)
    } else {
        anyhow::anyhow!("{}\n  {}", e.detail, findings.join("\n  "))
    }
}

/// Which register a command works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// `gridatlas components`.
    Components,
    /// `gridatlas shops`.
    Shops,
}

/// Runs `gridatlas components …` or `gridatlas shops …`.
pub fn run(register: Register, args: RegisterArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        RegisterCommand::Import {
            file,
            replace,
            crs,
            encoding: enc,
            by,
            db,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let crs = crate::service::field::crs_param("--crs", crs.as_deref())
                .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
            let enc = enc.as_deref().map(encoding).transpose()?;
            let csv = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
            let store = db.open()?;
            let atlas = crate::service::generations::atlas(
                store.as_ref(),
                crate::service::generations::Which::Current,
            )?;
            let caller = Caller::operator(by);
            let done = match register {
                Register::Components => {
                    let items = if csv {
                        io::read_components_csv(&bytes, enc, crs)
                    } else {
                        io::read_components_geojson(&bytes, crs)
                    }
                    .map_err(|e| problems(&file, &e))?;
                    service::import_components(store.as_ref(), &atlas, &caller, items, replace)
                }
                Register::Shops => {
                    let items = if csv {
                        io::read_shops_csv(&bytes, enc, crs)
                    } else {
                        io::read_shops_geojson(&bytes, crs)
                    }
                    .map_err(|e| problems(&file, &e))?;
                    service::import_shops(store.as_ref(), &atlas, &caller, items, replace)
                }
            }
            .map_err(refused)?;
            writeln!(
                out,
                "stored {} {} ({}); {} warning(s)",
                done.stored,
                match register {
                    Register::Components => "components",
                    Register::Shops => "shops",
                },
                if done.replaced {
                    "the whole register replaced"
                } else {
                    "added or updated"
                },
                done.warnings.len()
            )?;
            for w in &done.warnings {
                writeln!(out, "  {}", serde_json::to_string(w)?)?;
            }
        }
        RegisterCommand::Export { output, db } => {
            let store = db.open()?;
            let text = match register {
                Register::Components => {
                    let mut all = Vec::new();
                    store.all_components(&mut |chunk| {
                        all.extend(chunk);
                        Ok(())
                    })?;
                    io::write_components_geojson(&all)
                }
                Register::Shops => {
                    io::write_shops_geojson(&store.shops(&crate::store::ShopQuery::default())?)
                }
            }
            .map_err(|e| problems(std::path::Path::new("(export)"), &e))?;
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => out.write_all(text.as_bytes())?,
            }
        }
    }
    Ok(())
}
