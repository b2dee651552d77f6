//! The durable-write floor of a check-in on SQLite (used by scripts/bench-field as the peer of
//! the check-in latency): what committing one small row per request costs on this machine's
//! disk, with nothing else — no HTTP, no reads, no classification.
//!
//! `cargo run --release --example commit_floor -- FILE RATE SECONDS`
//!
//! Creates FILE (a new SQLite database, which must not exist) with the store's settings — WAL
//! journal, `synchronous = FULL` — and a table like `checkins`; then, open loop as
//! examples/checkin_load does, one row is due every 1/RATE s. One writer commits whatever is due
//! (one row, or all that queued while the previous commit synced: a group commit, as the store's
//! check-ins are written), and each row's latency is counted from its intended start to the end
//! of the commit that made it durable. Prints the summary line of checkin_load and a JSON line.
//! PostgreSQL's floor is measured with `pgbench` (scripts/bench-field).

#[path = "support/latency.rs"]
mod latency;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        anyhow::bail!("usage: commit_floor FILE RATE SECONDS");
    }
    let file = &args[1];
    let rate: f64 = args[2].parse().context("RATE: rows per second")?;
    let secs: f64 = args[3].parse().context("SECONDS: how long")?;
    if !(rate > 0.0 && secs > 0.0) {
        anyhow::bail!("RATE and SECONDS must be positive");
    }
    if std::path::Path::new(file).exists() {
        anyhow::bail!("{file} exists: give a new file");
    }
    let mut conn = SqliteConnection::establish(file).with_context(|| format!("opening {file}"))?;
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000; \
         CREATE TABLE floor (id INTEGER PRIMARY KEY, staff TEXT NOT NULL, t TEXT NOT NULL, \
         lon REAL NOT NULL, lat REAL NOT NULL, place TEXT NOT NULL, class TEXT NOT NULL); \
         CREATE INDEX floor_staff_t ON floor (staff, t);",
    )
    .context("preparing the database")?;
    let total = (rate * secs).round() as usize;
    let period = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now() + Duration::from_millis(50);
    let mut latencies: Vec<Duration> = Vec::with_capacity(total);
    let mut commits = 0u64;
    let mut next = 0usize;
    while next < total {
        let due = start + period.mul_f64(next as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        // Everything due by now goes into this commit.
        let now = Instant::now();
        let mut last = next;
        while last + 1 < total && start + period.mul_f64((last + 1) as f64) <= now {
            last += 1;
        }
        conn.transaction(|c| {
            for i in next..=last {
                diesel::sql_query(
                    "INSERT INTO floor (staff, t, lon, lat, place, class) \
                     VALUES (?, datetime('now'), 121.17, 30.90, 'inside', 'on_time')",
                )
                .bind::<diesel::sql_types::Text, _>(format!("P{:04}", i % 200))
                .execute(c)?;
            }
            diesel::QueryResult::Ok(())
        })
        .context("committing")?;
        commits += 1;
        let done = Instant::now();
        for i in next..=last {
            latencies.push(done - (start + period.mul_f64(i as f64)));
        }
        next = last + 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let p = latency::Percentiles(&latencies);
    let n = latencies.len();
    println!(
        "   {n} rows at {rate}/s in {elapsed:.1} s ({:.0}/s achieved) in {commits} commits",
        n as f64 / elapsed
    );
    println!("{}", p.line());
    println!(
        "{}",
        serde_json::json!({
            "rows": n, "rate": rate, "elapsed_s": elapsed, "commits": commits,
            "p50_ms": p.ms(0.5), "p90_ms": p.ms(0.9), "p99_ms": p.ms(0.99),
            "p999_ms": p.ms(0.999), "max_ms": p.ms(1.0),
        })
    );
    Ok(())
}
