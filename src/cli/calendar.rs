//! `gridatlas calendar due|load|show`: due times on a working calendar, for anyone to check by
//! hand; the calendar the case workflow counts on, loaded into and read from the store.
//!
//! `gridatlas calendar load FILE` checks the file and stores it (new stages are counted on it;
//! due times already computed stay); `gridatlas calendar show` prints the calendar in force (the
//! example shipped with gridatlas until one is loaded, said on standard error).
//!
//! `gridatlas calendar due --calendar FILE --from 2026-09-30T16:00:00+08:00 --limit "5 work_hours"`
//! prints the due time as RFC 3339 in the calendar's offset, one line; several `--from`/`--limit`
//! pairs, or `from,limit` lines of a CSV on standard input (an optional `from,limit` header), give
//! one line each, in order. A line that cannot be computed prints `error: …` naming it, and the
//! command then exits with status 2.

use super::db::DatabaseArgs;
use crate::calendar::{Calendar, Limit};
use crate::service::{access::Caller, cases};
use anyhow::Context;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// Arguments of `gridatlas calendar`.
#[derive(Debug, clap::Args)]
pub struct CalendarArgs {
    #[command(subcommand)]
    command: CalendarCommand,
}

#[derive(Debug, clap::Subcommand)]
enum CalendarCommand {
    /// The due time of a limit counted from a time.
    Due {
        /// The calendar file (JSON: utc_offset_h, work_hours, weekend, holidays, workdays).
        #[arg(long)]
        calendar: PathBuf,
        /// Start (RFC 3339); repeat with --limit for several.
        #[arg(long)]
        from: Vec<String>,
        /// Limit: "5 work_hours", "2 work_days", "3 hours", "7 days".
        #[arg(long)]
        limit: Vec<String>,
    },
    /// Check a calendar file and store it as the working calendar of the case workflow.
    Load {
        /// The calendar file.
        file: PathBuf,
        /// Who loads it, for the log.
        #[arg(long, default_value_t = super::db::default_user())]
        by: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Print the working calendar in force (JSON).
    Show(DatabaseArgs),
}

/// One due time, or why not.
pub fn due_line(cal: &Calendar, from: &str, limit: &str) -> Result<String, String> {
    let start = chrono::DateTime::parse_from_rfc3339(from.trim())
        .map_err(|e| format!("from {from:?} is not an RFC 3339 time: {e}"))?;
    let limit: Limit = limit.trim().parse()?;
    Ok(cal.due(start, limit)?.to_rfc3339())
}

/// A numbered `(from, limit)` pair, or why its line could not be read.
pub type Pair = (usize, Result<(String, String), String>);

/// The `from,limit` lines of a CSV (an optional header, blank lines skipped), numbered from 1.
pub fn csv_pairs(input: impl BufRead) -> Vec<Pair> {
    let mut out = Vec::new();
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                out.push((n, Err(format!("unreadable line: {e}"))));
                continue;
            }
        };
        let t = line.trim();
        if t.is_empty() || (n == 1 && t.eq_ignore_ascii_case("from,limit")) {
            continue;
        }
        out.push((
            n,
            t.split_once(',')
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .ok_or_else(|| format!("expected `from,limit`, got {t:?}")),
        ));
    }
    out
}

/// Runs `gridatlas calendar …`; returns the exit status.
pub fn run(args: CalendarArgs, out: &mut dyn Write) -> anyhow::Result<i32> {
    let (calendar, from, limit) = match args.command {
        CalendarCommand::Due {
            calendar,
            from,
            limit,
        } => (calendar, from, limit),
        CalendarCommand::Load { file, by, db } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let store = db.open()?;
            cases::replace_calendar(store.as_ref(), &Caller::operator(by), &bytes)
                .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.detail))?;
            writeln!(out, "loaded the working calendar from {}", file.display())?;
            return Ok(0);
        }
        CalendarCommand::Show(db) => {
            let store = db.open()?;
            let view = cases::calendar_view(Some(store.as_ref()))?;
            if view.example {
                eprintln!("no calendar loaded: the example shipped with gridatlas is in force");
            }
            writeln!(out, "{}", serde_json::to_string_pretty(&view.calendar)?)?;
            return Ok(0);
        }
    };
    let bytes =
        std::fs::read(&calendar).with_context(|| format!("reading {}", calendar.display()))?;
    let cal =
        Calendar::from_json(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", calendar.display()))?;
    if from.len() != limit.len() {
        anyhow::bail!(
            "give as many --limit as --from ({} and {})",
            limit.len(),
            from.len()
        );
    }
    let pairs: Vec<Pair> = if from.is_empty() {
        csv_pairs(std::io::stdin().lock())
    } else {
        from.into_iter()
            .zip(limit)
            .enumerate()
            .map(|(i, p)| (i + 1, Ok(p)))
            .collect()
    };
    let mut failed = false;
    for (n, pair) in pairs {
        match pair.and_then(|(f, l)| due_line(&cal, &f, &l)) {
            Ok(line) => writeln!(out, "{line}")?,
            Err(e) => {
                failed = true;
                writeln!(out, "error: line {n}: {e}")?;
            }
        }
    }
    Ok(if failed { 2 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_computed_in_order_and_errors_named() {
        let cal = Calendar::from_json(
            br#"{"utc_offset_h": 8, "work_hours": [["09:00", "17:00"]], "weekend": ["sat", "sun"]}"#,
        )
        .expect("calendar");
        assert_eq!(
            due_line(&cal, "2026-11-27T16:00:00+08:00", "5 work_hours").as_deref(),
            Ok("2026-11-30T13:00:00+08:00")
        );
        let pairs =
            csv_pairs("from,limit\n2026-11-27T16:00:00+08:00,1 days\n\nnonsense\n".as_bytes());
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].0, 2);
        assert!(pairs[1].1.is_err() && pairs[1].0 == 4);
        assert!(due_line(&cal, "friday", "1 days").is_err());
        assert!(due_line(&cal, "2026-11-27T16:00:00+08:00", "1 fortnight").is_err());
    }
}
