//! `gridatlas staff import|export` and `gridatlas duty import`: the field force's roster (CSV in
//! UTF-8 or GBK as offices export it, or JSON) and duty roster, at the command line — the same
//! checks and the same store calls as `PUT /api/v1/staff` and `PUT /api/v1/duty`, as the
//! operator.

use super::db::DatabaseArgs;
use crate::field::roster::{self, Encoding};
use crate::service::{access::Caller, field};
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `gridatlas staff`.
#[derive(Debug, clap::Args)]
pub struct StaffArgs {
    #[command(subcommand)]
    command: StaffCommand,
}

#[derive(Debug, clap::Subcommand)]
enum StaffCommand {
    /// Replace the roster of the streets of the people in FILE (or of --streets) with them.
    Import {
        /// A CSV file (.csv: English or Chinese headers 工号, 姓名, 联系电话, 角色, 所属单位,
        /// 单位类型, 班组, 所属街道, 责任区域) or a JSON array of people (.json).
        file: PathBuf,
        /// CSV encoding: utf-8 or gbk (default: detected — valid UTF-8, else GBK).
        #[arg(long)]
        encoding: Option<String>,
        /// Replace these streets' rosters (comma-separated; default: the people's streets).
        #[arg(long, value_delimiter = ',')]
        streets: Option<Vec<String>>,
        /// Who imports it, for the log.
        #[arg(long, default_value_t = super::db::default_user())]
        by: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Write the roster (of one street) as CSV with Chinese headers or as JSON.
    Export {
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
        /// CSV encoding: utf-8 (with a BOM, for Excel) or gbk.
        #[arg(long, default_value = "utf-8")]
        encoding: String,
        /// Only this street's people.
        #[arg(long)]
        street: Option<String>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// Arguments of `gridatlas duty`.
#[derive(Debug, clap::Args)]
pub struct DutyArgs {
    #[command(subcommand)]
    command: DutyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DutyCommand {
    /// Store a duty roster: JSON `{"from", "to", "entries": [{"staff", "date", "shift"}]}`.
    Import {
        /// The file.
        file: PathBuf,
        /// Who imports it, for the log.
        #[arg(long, default_value_t = super::db::default_user())]
        by: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// The `--encoding` of a CSV file.
pub(crate) fn encoding(e: &str) -> anyhow::Result<Encoding> {
    match e.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Ok(Encoding::Utf8),
        "gbk" | "gb2312" | "gb18030" => Ok(Encoding::Gbk),
        _ => anyhow::bail!("--encoding {e:?}: expected utf-8 or gbk"),
    }
}

fn problems(e: &roster::RosterErrors) -> String {
    let mut s: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
    if e.more > 0 {
        s.push(format!("… and {} more", e.more));
    }
    s.join("\n  ")
}

/// Runs `gridatlas staff …`.
pub fn run(args: StaffArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        StaffCommand::Import {
            file,
            encoding: enc,
            streets,
            by,
            db,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let json = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let staff = if json {
                roster::read_json(&bytes)
            } else {
                roster::read_csv(&bytes, enc.as_deref().map(encoding).transpose()?)
            }
            .map_err(|e| anyhow::anyhow!("{}:\n  {}", file.display(), problems(&e)))?;
            let store = db.open()?;
            let atlas = crate::service::generations::atlas(
                store.as_ref(),
                crate::service::generations::Which::Current,
            )?;
            let done = field::import_staff(
                store.as_ref(),
                &atlas,
                &Caller::operator(by),
                streets,
                staff,
            )
            .map_err(|e| match e.extra.as_ref().and_then(|x| x.get("problems")) {
                Some(p) => anyhow::anyhow!("{}\n  {p}", e.detail),
                None => anyhow::anyhow!("{}", e.detail),
            })?;
            writeln!(
                out,
                "stored {} people for {}",
                done.staff,
                done.streets.join(", ")
            )?;
        }
        StaffCommand::Export {
            format,
            encoding: enc,
            street,
            db,
        } => {
            let store = db.open()?;
            let staff =
                field::list_staff(store.as_ref(), &Caller::operator("cli"), street.as_deref())?;
            match format.as_str() {
                "json" => writeln!(out, "{}", roster::write_json(&staff)?)?,
                "csv" => out.write_all(
                    &roster::write_csv(&staff, encoding(&enc)?)
                        .map_err(|e| anyhow::anyhow!("{}", problems(&e)))?,
                )?,
                f => anyhow::bail!("--format {f:?}: expected csv or json"),
            }
        }
    }
    Ok(())
}

/// Runs `gridatlas duty …`.
pub fn run_duty(args: DutyArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        DutyCommand::Import { file, by, db } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let input: crate::wire::field::DutyInput = serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: not a duty roster", file.display()))?;
            let store = db.open()?;
            let n = field::put_duty(store.as_ref(), &Caller::operator(by), &input)
                .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
            writeln!(
                out,
                "stored {n} duty entries for {}..={}",
                input.from, input.to
            )?;
        }
    }
    Ok(())
}
