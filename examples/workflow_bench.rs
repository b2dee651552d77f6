//! The case workflow at scale (BENCHMARKS.md, "Case workflow (issue 14)").
//!
//! `cargo run --release --example workflow_bench -- DATABASE [CASES] [TRANSITIONS]`
//!
//! DATABASE is a SQLite path or a `postgres://` URL. A store holding fewer than CASES cases
//! (default 1,000,000) is filled first: the demo district and the example task list when it is
//! empty, then the missing cases at random points inside the district with random district-wide
//! categories, reported over the last year, each routed by `routing::route` and taken through
//! its history by `workflow::apply` (report, accept, verify, open, dispatch, dispose, check,
//! close, with some transfers, returns, extensions, reworks, holds, supervision and street-queue
//! cases), ids in the order reported. 80 % end closed, 3 % rejected, 2 % void and 15 % open at
//! every open stage; open cases are recent (their latest event in the last ten days). The rows
//! are written in bulk (multi-row INSERTs in transactions of 25,000 cases on SQLite, `COPY …
//! FROM STDIN BINARY` on PostgreSQL, then `VACUUM (ANALYZE)`), not through
//! `Store::create_case`, which commits each case on its own.
//!
//! `WORKFLOW_BENCH_DAYS=N` (≥ 11, default 365) spreads the closed cases over the last N days
//! instead of a year; `WORKFLOW_BENCH_FILL_ONLY=1` stops after the fill (scripts/bench-portal).
//!
//! Then it measures, one JSON line per measurement on standard output (plans and progress go to
//! standard error):
//!
//! * `list`: `Store::list_cases` of one street's open cases (`stages = Stage::OPEN`), newest
//!   first, 50 a page, at offset 0 and 500: plain, of one category, and overdue only; 200
//!   queries per variant over the district's streets (and categories): p50, p95 and max in
//!   milliseconds;
//! * `list_raw`: the same listing as bare SQL through diesel's `sql_query` (the count, the page
//!   and the page's events, the columns the store reads, no JSON parsed): the database alone;
//! * `list_service`, `list_service_district`: `service::cases::list` (what
//!   `GET /api/v1/cases?street=S&stage=open` does below HTTP) for a dispatcher token of that
//!   street, and for one of the district centre (every street);
//! * `transitions`: TRANSITIONS (default 20,000; 0 skips them) actions through
//!   `Store::change_case` with `workflow::apply` on open cases chosen at random (the next step of
//!   each: accept, verify, open, dispatch, dispose or transfer, check or rework, close, resume,
//!   sometimes supervise), by one thread and by two; each action is one durable transaction, as
//!   the API makes it.
//!
//! The listings run right after the fill, again after the transitions (on PostgreSQL the open
//! cases' pages are then no longer all-visible, as in a running system between two autovacuums)
//! and, on PostgreSQL, once more after `VACUUM (ANALYZE) cases`. Before each round
//! the plans of the listing's statements for the busiest street go to standard error
//! (PostgreSQL: `EXPLAIN (ANALYZE, BUFFERS)`; SQLite: `EXPLAIN QUERY PLAN`).

use anyhow::{Context, anyhow};
use chrono::{DateTime, Duration, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use gridatlas::atlas::Atlas;
use gridatlas::calendar::Calendar;
use gridatlas::cases::workflow::{self, Refusal, Request, Step};
use gridatlas::cases::{Action, Case, CaseFilter, Event, Source, Stage, Track};
use gridatlas::model::Layer;
use gridatlas::routing::categories::Category;
use gridatlas::routing::{Confidence, RouteOptions, route};
use gridatlas::service::access::Caller;
use gridatlas::store::{DatabaseUrl, Store, Token};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::sync::Arc;
use std::time::Instant;

/// Departments and management units cases are dispatched to (back end).
const DEPARTMENTS: [&str; 8] = [
    "城管执法中队",
    "市容环卫所",
    "绿化管理所",
    "房屋管理办",
    "水务所",
    "市场监管所",
    "交警中队",
    "供电所",
];

/// Cases generated and written per transaction.
const CHUNK: usize = 25_000;

/// Queries per listing variant.
const QUERIES: usize = 200;

/// The open stages, as SQL literals.
const OPEN_SQL: &str =
    "'reported','accepted','verified','opened','dispatched','disposed','checked','on_hold'";

// ---------------------------------------------------------------------------------------------
// Rows, once per backend (the schemas differ in their timestamp types).

macro_rules! backend_rows {
    ($module:ident, $schema:ident) => {
        mod $module {
            use chrono::{DateTime, Utc};
            use diesel::prelude::*;
            use gridatlas::cases::Case;
            use gridatlas::store::$schema::{case_events, cases};

            /// Every column of `cases`.
            #[derive(Insertable)]
            #[diesel(table_name = cases, treat_none_as_default_value = false)]
            pub struct CaseRow {
                id: i64,
                category: String,
                source: String,
                description: String,
                stage: String,
                input_lon: f64,
                input_lat: f64,
                input_crs: String,
                lon: f64,
                lat: f64,
                reported_at: DateTime<Utc>,
                created_at: DateTime<Utc>,
                updated_at: DateTime<Utc>,
                due_at: DateTime<Utc>,
                done_at: Option<DateTime<Utc>>,
                street: Option<String>,
                grid: Option<String>,
                block: Option<String>,
                generation: Option<i64>,
                confidence: String,
                department: Option<String>,
                photos: String,
                contact: Option<String>,
                created_by: String,
                assignment: String,
                track: Option<String>,
                assigned_grid: Option<String>,
                supervised: bool,
                duplicate_of: Option<i64>,
                limits: String,
            }

            /// Every column of `case_events`.
            #[derive(Insertable, QueryableByName)]
            #[diesel(table_name = case_events, treat_none_as_default_value = false)]
            pub struct EventRow {
                pub case_id: i64,
                seq: i32,
                at: DateTime<Utc>,
                stage: String,
                actor: String,
                department: Option<String>,
                note: Option<String>,
                action: String,
                role: String,
                photos: String,
                grid: Option<String>,
                until: Option<DateTime<Utc>>,
                duplicate_of: Option<i64>,
                due_at: Option<DateTime<Utc>>,
                on_time: Option<bool>,
            }

            /// The columns of `cases` the store reads for a listing.
            #[allow(dead_code)]
            #[derive(QueryableByName)]
            #[diesel(table_name = cases)]
            pub struct RawCase {
                pub id: i64,
                category: String,
                source: String,
                description: String,
                stage: String,
                track: Option<String>,
                input_lon: f64,
                input_lat: f64,
                input_crs: String,
                reported_at: DateTime<Utc>,
                created_at: DateTime<Utc>,
                updated_at: DateTime<Utc>,
                due_at: DateTime<Utc>,
                done_at: Option<DateTime<Utc>>,
                street: Option<String>,
                grid: Option<String>,
                block: Option<String>,
                generation: Option<i64>,
                assigned_grid: Option<String>,
                department: Option<String>,
                supervised: bool,
                duplicate_of: Option<i64>,
                limits: String,
                photos: String,
                created_by: String,
                assignment: String,
            }

            /// The rows of a case and its history, as the store writes them.
            pub fn rows(
                c: &Case,
                contact: Option<String>,
            ) -> serde_json::Result<(CaseRow, Vec<EventRow>)> {
                let events = c
                    .events
                    .iter()
                    .map(|e| {
                        Ok(EventRow {
                            case_id: c.id,
                            seq: e.seq,
                            at: e.at,
                            stage: e.stage.as_str().into(),
                            actor: e.by.clone(),
                            department: e.department.clone(),
                            note: e.note.clone(),
                            action: e.action.as_str().into(),
                            role: e.role.clone(),
                            photos: serde_json::to_string(&e.photos)?,
                            grid: e.grid.clone(),
                            until: e.until,
                            duplicate_of: e.duplicate_of,
                            due_at: e.due_at,
                            on_time: e.on_time,
                        })
                    })
                    .collect::<serde_json::Result<Vec<_>>>()?;
                let input = |k: &str| c.input.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0);
                let row = CaseRow {
                    id: c.id,
                    category: c.category.clone(),
                    source: c.source.as_str().into(),
                    description: c.description.clone(),
                    stage: c.stage.as_str().into(),
                    input_lon: input("lon"),
                    input_lat: input("lat"),
                    input_crs: "wgs84".into(),
                    lon: c.assignment.point[0],
                    lat: c.assignment.point[1],
                    reported_at: c.reported_at,
                    created_at: c.created_at,
                    updated_at: c.updated_at,
                    due_at: c.due_at,
                    done_at: c.done_at,
                    street: c.street.clone(),
                    grid: c.grid.clone(),
                    block: c.block.clone(),
                    generation: c.generation,
                    confidence: c.assignment.confidence.as_str().into(),
                    department: c.department.clone(),
                    photos: serde_json::to_string(&c.photos)?,
                    contact,
                    created_by: c.created_by.clone(),
                    assignment: serde_json::to_string(&c.assignment)?,
                    track: c.track.map(|t| t.as_str().into()),
                    assigned_grid: c.assigned_grid.clone(),
                    supervised: c.supervised,
                    duplicate_of: c.duplicate_of,
                    limits: serde_json::to_string(&c.limits)?,
                };
                Ok((row, events))
            }
        }
    };
}

backend_rows!(sqlite_rows, schema_sqlite);
backend_rows!(pg_rows, schema_pg);

/// Bulk writes of rows, per backend.
trait InsertRows<C, E> {
    fn insert_rows(&mut self, cases: Vec<C>, events: Vec<E>) -> QueryResult<()>;
}

impl InsertRows<sqlite_rows::CaseRow, sqlite_rows::EventRow> for SqliteConnection {
    fn insert_rows(
        &mut self,
        cases: Vec<sqlite_rows::CaseRow>,
        events: Vec<sqlite_rows::EventRow>,
    ) -> QueryResult<()> {
        use gridatlas::store::schema_sqlite as s;
        // 30 and 15 bound values a row: under SQLite's 32,766 per statement
        self.immediate_transaction(|conn| {
            for part in cases.chunks(1000) {
                diesel::insert_into(s::cases::table)
                    .values(part)
                    .execute(conn)?;
            }
            for part in events.chunks(2000) {
                diesel::insert_into(s::case_events::table)
                    .values(part)
                    .execute(conn)?;
            }
            Ok(())
        })
    }
}

impl InsertRows<pg_rows::CaseRow, pg_rows::EventRow> for PgConnection {
    fn insert_rows(
        &mut self,
        cases: Vec<pg_rows::CaseRow>,
        events: Vec<pg_rows::EventRow>,
    ) -> QueryResult<()> {
        use gridatlas::store::schema_pg as s;
        self.transaction(|conn| {
            diesel::copy_from(s::cases::table)
                .from_insertable(cases)
                .execute(conn)?;
            diesel::copy_from(s::case_events::table)
                .from_insertable(events)
                .execute(conn)?;
            Ok(())
        })
    }
}

/// A connection of our own beside the store's pool (bulk writes, bare queries, plans).
enum Raw {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

/// Runs `$body` with the connection of either backend: `$conn` the connection, `$s` the
/// backend's schema module, `$rows` its row module, `$ts` its timestamp SQL type.
macro_rules! on_raw {
    ($raw:expr, |$conn:ident, $s:ident, $rows:ident, $ts:ident| $body:expr) => {
        match $raw {
            Raw::Sqlite($conn) => {
                #[allow(unused_imports)]
                use gridatlas::store::schema_sqlite as $s;
                #[allow(unused_imports)]
                use sqlite_rows as $rows;
                #[allow(dead_code)]
                type $ts = diesel::sql_types::TimestamptzSqlite;
                $body
            }
            Raw::Pg($conn) => {
                #[allow(unused_imports)]
                use gridatlas::store::schema_pg as $s;
                #[allow(unused_imports)]
                use pg_rows as $rows;
                #[allow(dead_code)]
                type $ts = diesel::sql_types::Timestamptz;
                $body
            }
        }
    };
}

impl Raw {
    fn open(url: &str) -> anyhow::Result<Raw> {
        Ok(match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => {
                let mut c = SqliteConnection::establish(&path.to_string_lossy())?;
                // bulk writes need no fsync per transaction: the file is synced at the end
                c.batch_execute(
                    "PRAGMA busy_timeout = 30000; PRAGMA synchronous = OFF; \
                     PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY;",
                )?;
                Raw::Sqlite(c)
            }
            DatabaseUrl::Postgres(url) => {
                let mut c = PgConnection::establish(&url)?;
                c.batch_execute("SET synchronous_commit = off")?;
                Raw::Pg(c)
            }
        })
    }

    fn count_and_max(&mut self) -> QueryResult<(i64, i64)> {
        on_raw!(self, |conn, s, rows, Ts| {
            let n: i64 = s::cases::table.count().get_result(conn)?;
            let max: Option<i64> = s::cases::table
                .select(diesel::dsl::max(s::cases::id))
                .first(conn)?;
            Ok((n, max.unwrap_or(0)))
        })
    }

    /// After a bulk fill: the id sequence, statistics, and the file synced.
    fn finish_fill(&mut self) -> QueryResult<()> {
        match self {
            Raw::Sqlite(c) => {
                c.batch_execute("PRAGMA synchronous = FULL; PRAGMA wal_checkpoint(TRUNCATE);")
            }
            // one statement at a time: VACUUM cannot run in the implicit transaction of several
            Raw::Pg(c) => [
                "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))",
                "VACUUM (ANALYZE) cases",
                "VACUUM (ANALYZE) case_events",
            ]
            .into_iter()
            .try_for_each(|sql| c.batch_execute(sql)),
        }
    }

    /// Bytes on disk: (database, cases with indexes, events with indexes) on PostgreSQL; the
    /// file (and its WAL) on SQLite.
    fn sizes(&mut self, url: &str) -> anyhow::Result<serde_json::Value> {
        #[derive(QueryableByName)]
        struct Sizes {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            db: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            cases: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            events: i64,
        }
        Ok(match self {
            Raw::Sqlite(_) => {
                let DatabaseUrl::Sqlite(path) = DatabaseUrl::parse(url)? else {
                    anyhow::bail!("not a SQLite path");
                };
                let len = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
                let mut wal = path.as_os_str().to_owned();
                wal.push("-wal");
                serde_json::json!({"file_bytes": len(&path), "wal_bytes": len(wal.as_ref())})
            }
            Raw::Pg(c) => {
                let s: Sizes = diesel::sql_query(
                    "SELECT pg_database_size(current_database()) AS db, \
                     pg_total_relation_size('cases') AS cases, \
                     pg_total_relation_size('case_events') AS events",
                )
                .get_result(c)?;
                serde_json::json!({"database_bytes": s.db, "cases_bytes": s.cases, "events_bytes": s.events})
            }
        })
    }

    /// Open cases' ids.
    fn open_ids(&mut self) -> QueryResult<Vec<i64>> {
        let open: Vec<&str> = Stage::OPEN.iter().map(|s| s.as_str()).collect();
        on_raw!(self, |conn, s, rows, Ts| s::cases::table
            .filter(s::cases::stage.eq_any(open))
            .select(s::cases::id)
            .order(s::cases::id)
            .load(conn))
    }

    /// Open cases per street, most first.
    fn open_per_street(&mut self) -> QueryResult<Vec<(Option<String>, i64)>> {
        let open: Vec<&str> = Stage::OPEN.iter().map(|s| s.as_str()).collect();
        on_raw!(self, |conn, s, rows, Ts| {
            let mut v: Vec<(Option<String>, i64)> = s::cases::table
                .filter(s::cases::stage.eq_any(open))
                .group_by(s::cases::street)
                .select((s::cases::street, diesel::dsl::count_star()))
                .load(conn)?;
            v.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
            Ok(v)
        })
    }

    /// The listing as bare SQL: the count, the page, the page's events (the statements the
    /// store runs, with the columns it reads). Returns (total, rows).
    fn list(&mut self, q: &ListQuery, now: DateTime<Utc>) -> QueryResult<(i64, usize)> {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let (filter, page) = q.sql();
        on_raw!(self, |conn, s, rows, Ts| {
            // the street is the first parameter, the time (overdue only) the second
            let query = |sql: String| {
                let b = diesel::sql_query(sql)
                    .into_boxed()
                    .bind::<diesel::sql_types::Text, _>(q.street.clone());
                if q.overdue { b.bind::<Ts, _>(now) } else { b }
            };
            let total = query(format!("SELECT count(*) AS n FROM cases WHERE {filter}"))
                .get_result::<Count>(conn)?
                .n;
            let cases: Vec<rows::RawCase> = query(format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE {filter} {page}"
            ))
            .load(conn)?;
            let ids: Vec<String> = cases.iter().map(|c| c.id.to_string()).collect();
            let n = cases.len();
            if !ids.is_empty() {
                let events: Vec<rows::EventRow> = diesel::sql_query(format!(
                    "SELECT * FROM case_events WHERE case_id IN ({}) ORDER BY case_id, seq",
                    ids.join(",")
                ))
                .load(conn)?;
                std::hint::black_box(events.iter().map(|e| e.case_id).sum::<i64>());
            }
            Ok((total, n))
        })
    }

    /// The plans of the listing's statements.
    fn explain(&mut self, q: &ListQuery, now: DateTime<Utc>) -> QueryResult<Vec<String>> {
        #[derive(QueryableByName)]
        struct PgLine {
            #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
            line: String,
        }
        #[derive(QueryableByName)]
        struct SqliteLine {
            #[diesel(sql_type = diesel::sql_types::Text)]
            detail: String,
        }
        let (filter, page) = q.sql();
        let statements = [
            format!("SELECT count(*) AS n FROM cases WHERE {filter}"),
            format!("SELECT {CASE_COLUMNS} FROM cases WHERE {filter} {page}"),
        ];
        let mut out = Vec::new();
        for sql in statements {
            out.push(format!("-- {sql}"));
            let pg = matches!(self, Raw::Pg(_));
            let sql = if pg {
                format!("EXPLAIN (ANALYZE, BUFFERS) {sql}")
            } else {
                format!("EXPLAIN QUERY PLAN {sql}")
            };
            on_raw!(self, |conn, s, rows, Ts| {
                let b = diesel::sql_query(sql)
                    .into_boxed()
                    .bind::<diesel::sql_types::Text, _>(q.street.clone());
                let b = if q.overdue { b.bind::<Ts, _>(now) } else { b };
                if pg {
                    out.extend(b.load::<PgLine>(conn)?.into_iter().map(|l| l.line));
                } else {
                    out.extend(b.load::<SqliteLine>(conn)?.into_iter().map(|l| l.detail));
                }
            });
        }
        Ok(out)
    }
}

/// The columns of `cases` the store reads.
const CASE_COLUMNS: &str = "id, category, source, description, stage, track, input_lon, \
    input_lat, input_crs, reported_at, created_at, updated_at, due_at, done_at, street, grid, \
    block, generation, assigned_grid, department, supervised, duplicate_of, limits, photos, \
    created_by, assignment";

// ---------------------------------------------------------------------------------------------
// The fill: a plan per case (its outcome and the time between its events), then the case built
// by the workflow itself.

/// One step of a planned history.
#[derive(Debug, Clone, Copy)]
enum Do {
    Accept,
    Reject,
    Verify,
    Open,
    Dispatch { front: bool, dept: u8 },
    Transfer { dept: u8 },
    Return,
    Supervise,
    RequestExtension,
    ApproveExtension,
    Dispose,
    Rework,
    Check,
    Close,
    Hold,
    Void,
}

/// A case to be: where, what, from whom, and its history (each step with the seconds since
/// the previous event).
struct Plan {
    reported_at: DateTime<Utc>,
    x: f64,
    y: f64,
    cat: u16,
    source: Source,
    queue: bool,
    steps: Vec<(Do, u32)>,
}

/// The stage a step leads to (the workflow's table, for the steps planned here).
fn leads_to(stage: Stage, step: Do, source: Source) -> Stage {
    match step {
        Do::Accept if source == Source::Patrol => Stage::Verified,
        Do::Accept => Stage::Accepted,
        Do::Reject => Stage::Rejected,
        Do::Verify => Stage::Verified,
        Do::Open | Do::Return => Stage::Opened,
        Do::Dispatch { .. } | Do::Transfer { .. } | Do::Rework => Stage::Dispatched,
        Do::Supervise | Do::RequestExtension | Do::ApproveExtension => stage,
        Do::Dispose => Stage::Disposed,
        Do::Check => Stage::Checked,
        Do::Close => Stage::Closed,
        Do::Hold => Stage::OnHold,
        Do::Void => Stage::Void,
    }
}

fn pick<T: Copy>(rng: &mut StdRng, weighted: &[(T, u32)]) -> T {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut r = rng.random_range(0..total);
    for &(v, w) in weighted {
        if r < w {
            return v;
        }
        r -= w;
    }
    weighted[weighted.len() - 1].0
}

/// A random history: 80 % closed, 3 % rejected, 2 % void, 15 % open at some stage (recent).
fn plan(rng: &mut StdRng, now: DateTime<Utc>, point: (f64, f64, u16)) -> Plan {
    let source = pick(
        rng,
        &[
            (Source::Patrol, 50),
            (Source::Hotline, 30),
            (Source::App, 15),
            (Source::Open311, 5),
        ],
    );
    fn span(rng: &mut StdRng, lo: u32, hi: u32) -> u32 {
        rng.random_range(lo..hi)
    }
    const M: u32 = 60;
    const H: u32 = 3600;
    const D: u32 = 86_400;
    // the full life of a case, with the occasional detour
    let mut full: Vec<(Do, u32)> = vec![(Do::Accept, span(rng, 5 * M, 2 * H))];
    if source != Source::Patrol {
        full.push((Do::Verify, span(rng, 30 * M, 4 * H)));
    }
    full.push((Do::Open, span(rng, 5 * M, H)));
    let front = span(rng, 0, 100) < 60;
    full.push((
        Do::Dispatch {
            front,
            dept: span(rng, 0, 8) as u8,
        },
        span(rng, 5 * M, H),
    ));
    let detour = span(rng, 0, 100);
    if detour < 3 {
        full.push((
            Do::Transfer {
                dept: span(rng, 0, 8) as u8,
            },
            span(rng, H, 10 * H),
        ));
    } else if detour < 5 {
        full.push((Do::Return, span(rng, H, 8 * H)));
        full.push((
            Do::Dispatch {
                front: false,
                dept: span(rng, 0, 8) as u8,
            },
            span(rng, 10 * M, 2 * H),
        ));
    }
    if span(rng, 0, 100) < 4 {
        full.push((Do::Supervise, span(rng, H, 2 * D)));
    }
    if span(rng, 0, 100) < 3 {
        full.push((Do::RequestExtension, span(rng, H, D)));
        full.push((Do::ApproveExtension, span(rng, 30 * M, 4 * H)));
    }
    full.push((Do::Dispose, span(rng, 4 * H, 5 * D)));
    if span(rng, 0, 100) < 6 {
        full.push((Do::Rework, span(rng, H, D)));
        full.push((Do::Dispose, span(rng, 4 * H, 3 * D)));
    }
    full.push((Do::Check, span(rng, H, D)));
    full.push((Do::Close, span(rng, 30 * M, 8 * H)));

    let outcome = span(rng, 0, 100);
    let (steps, open) = if outcome < 80 {
        (full, false)
    } else if outcome < 83 {
        (vec![(Do::Reject, span(rng, 10 * M, 4 * H))], false)
    } else if outcome < 85 {
        let mut v = Vec::new();
        if span(rng, 0, 2) == 0 {
            v.push((Do::Accept, span(rng, 5 * M, 2 * H)));
        }
        v.push((Do::Void, span(rng, 10 * M, 4 * H)));
        (v, false)
    } else {
        let mut target = pick(
            rng,
            &[
                (Stage::Reported, 10),
                (Stage::Accepted, 10),
                (Stage::Verified, 7),
                (Stage::Opened, 10),
                (Stage::Dispatched, 35),
                (Stage::Disposed, 13),
                (Stage::Checked, 5),
                (Stage::OnHold, 10),
            ],
        );
        if target == Stage::Accepted && source == Source::Patrol {
            target = Stage::Verified;
        }
        let stop = if target == Stage::OnHold {
            Stage::Opened
        } else {
            target
        };
        let mut stage = Stage::Reported;
        let mut v = Vec::new();
        for &(step, secs) in &full {
            if stage == stop {
                break;
            }
            stage = leads_to(stage, step, source);
            v.push((step, secs));
        }
        if target == Stage::OnHold {
            v.push((Do::Hold, rng.random_range(H..2 * D)));
        }
        // the district supervises some cases that are stuck
        if target != Stage::Reported
            && !v.iter().any(|(d, _)| matches!(d, Do::Supervise))
            && rng.random_range(0..100) < 8
        {
            v.push((Do::Supervise, rng.random_range(M..D)));
        }
        (v, true)
    };
    let took: i64 = steps.iter().map(|&(_, s)| i64::from(s)).sum();
    let reported_at = if open {
        // open cases are recent: their latest event lies in the last ten days
        now - Duration::seconds(rng.random_range(60..10 * i64::from(D)) + took)
    } else {
        // closed cases: over the last year (WORKFLOW_BENCH_DAYS days)
        let end = (spread_days() * i64::from(D)).max(took + 601);
        now - Duration::seconds(rng.random_range(took + 600..end))
    };
    Plan {
        reported_at,
        x: point.0,
        y: point.1,
        cat: point.2,
        source,
        queue: rng.random_range(0..100) < 3,
        steps,
    }
}

fn absorb(case: &mut Case, step: Step) {
    case.stage = step.stage;
    case.track = step.track;
    case.assigned_grid = step.assigned_grid;
    case.department = step.department;
    case.due_at = step.due_at;
    case.supervised = step.supervised;
    case.duplicate_of = step.duplicate_of;
    case.done_at = step.done_at;
    case.updated_at = step.event.at;
    case.events.push(step.event);
}

fn person(role: &str, n: i64) -> String {
    let who = match role {
        "dispatcher" => "调度员",
        "grid_worker" => "网格员",
        "department" => "承办人",
        "supervisor" => "督办员",
        _ => "受理员",
    };
    format!("{who} {} via token:{} ({role})", n % 40 + 1, n % 40 + 1)
}

/// Builds case `id` of plan `p`: routed, reported, and taken through its planned steps by
/// `workflow::apply`. Returns the case and its reporter's contact details (stored, never shown).
fn build(
    p: &Plan,
    id: i64,
    atlas: &Atlas,
    cats: &[Category],
    cal: &Calendar,
    opts: &RouteOptions,
) -> anyhow::Result<(Case, Option<String>)> {
    let cat = &cats[usize::from(p.cat)];
    let mut a = route(atlas, p.x, p.y, cat, p.reported_at, opts).map_err(|e| anyhow!("{e}"))?;
    // the grid a dispatcher would pick for a case in the street queue
    let routed_grid = a.grid.as_ref().map(|g| g.code.clone());
    if p.queue && a.grid.is_some() {
        a.confidence = Confidence::StreetQueue;
        a.queue = a.street.as_ref().map(|s| s.code.clone());
        a.grid = None;
        a.block = None;
        a.block_head = None;
        a.grid_people.clear();
        a.road_segment = None;
        a.management_units.clear();
        a.candidates.clear();
        a.distance_m = None;
        a.layer_mismatch = false;
        a.mismatch_reason = None;
    }
    let role = if p.source == Source::Patrol {
        "grid_worker"
    } else {
        "intake"
    };
    let due_at = workflow::due(cal, p.reported_at, cat.limits.accept)?;
    let created_by = person(role, id);
    let report = Event {
        seq: 1,
        at: p.reported_at,
        action: Action::Report,
        stage: Stage::Reported,
        by: created_by.clone(),
        role: role.into(),
        note: Some(format!("routed: {}", a.confidence.as_str())),
        photos: Vec::new(),
        grid: None,
        department: None,
        until: None,
        duplicate_of: None,
        due_at: Some(due_at),
        on_time: None,
    };
    let photos = if p.source == Source::Patrol || id % 3 == 0 {
        vec![format!("https://img.example.cn/cases/{id}/report.jpg")]
    } else {
        Vec::new()
    };
    let contact = matches!(p.source, Source::Hotline | Source::Open311).then(|| {
        serde_json::json!({"name": "市民", "phone": format!("138{:08}", id % 100_000_000)})
            .to_string()
    });
    let description = match p.source {
        Source::Patrol => format!("{}：网格巡查发现", cat.name_zh),
        Source::Hotline => format!("{}：12345 热线来电反映", cat.name_zh),
        Source::App => format!("{}：随申拍上报", cat.name_zh),
        Source::Open311 => format!("{}：市民上报", cat.name_zh),
    };
    let mut case = Case {
        id,
        category: cat.code.clone(),
        source: p.source,
        description,
        stage: Stage::Reported,
        track: None,
        input: serde_json::json!({"lon": p.x, "lat": p.y, "crs": "wgs84"}),
        reported_at: p.reported_at,
        created_at: p.reported_at + Duration::seconds(id % 90),
        updated_at: p.reported_at,
        due_at,
        done_at: None,
        street: a.street.as_ref().map(|s| s.code.clone()),
        grid: a.grid.as_ref().map(|s| s.code.clone()),
        block: a.block.as_ref().map(|s| s.code.clone()),
        generation: a.generation,
        assigned_grid: None,
        department: None,
        supervised: false,
        duplicate_of: None,
        limits: cat.limits,
        photos,
        created_by,
        assignment: a,
        events: vec![report],
        feedback: None,
    };
    let mut at = p.reported_at;
    for &(step, secs) in &p.steps {
        at += Duration::seconds(i64::from(secs));
        let grid_role = if case.grid.is_some() {
            "grid_worker"
        } else {
            "dispatcher"
        };
        let assignee = match case.track {
            Some(Track::BackEnd) => "department",
            _ => "grid_worker",
        };
        let (action, role) = match step {
            Do::Accept => (Action::Accept, "dispatcher"),
            Do::Reject => (Action::Reject, "dispatcher"),
            Do::Verify => (Action::Verify, grid_role),
            Do::Open => (Action::Open, "dispatcher"),
            Do::Dispatch { .. } => (Action::Dispatch, "dispatcher"),
            Do::Transfer { .. } => (Action::Transfer, "dispatcher"),
            Do::Return => (Action::Return, assignee),
            Do::Supervise => (Action::Supervise, "supervisor"),
            Do::RequestExtension => (Action::RequestExtension, assignee),
            Do::ApproveExtension => (Action::ApproveExtension, "dispatcher"),
            Do::Dispose => (Action::Dispose, assignee),
            Do::Rework => (Action::Rework, grid_role),
            Do::Check => (Action::Check, grid_role),
            Do::Close => (Action::Close, "dispatcher"),
            Do::Hold => (Action::Hold, "dispatcher"),
            Do::Void => (Action::Void, "dispatcher"),
        };
        let mut req = Request::new(action, at, &person(role, id + secs as i64), role);
        match step {
            Do::Reject => req.note = Some("不属于城市管理范围".into()),
            Do::Dispatch { front, dept } => {
                let grid = routed_grid.as_ref().filter(|_| front && !case.escalated());
                match grid {
                    Some(g) => req.grid = Some(g.clone()),
                    None => req.department = Some(DEPARTMENTS[usize::from(dept)].into()),
                }
            }
            Do::Transfer { dept } => {
                let mut d = DEPARTMENTS[usize::from(dept)];
                if case.department.as_deref() == Some(d) {
                    d = DEPARTMENTS[(usize::from(dept) + 1) % DEPARTMENTS.len()];
                }
                req.department = Some(d.into());
            }
            Do::Return => req.note = Some("非本单位职责，申请退单".into()),
            Do::RequestExtension => {
                req.note = Some("需协调多个部门，申请延期".into());
                req.until = Some(case.due_at + Duration::days(3));
            }
            Do::Dispose => {
                req.note = Some("已处置完毕".into());
                req.photos = vec![format!("https://img.example.cn/cases/{id}/after.jpg")];
            }
            Do::Rework => req.note = Some("核查未通过，返工".into()),
            Do::Hold => {
                req.note = Some("需纳入专项整治，暂时挂账".into());
                req.until = Some(at + Duration::days(30));
            }
            Do::Void => req.note = Some("重复上报".into()),
            _ => {}
        }
        let step = workflow::apply(&case, &req, cal)
            .map_err(|r| anyhow!("case {id}, {}: {r}", action.as_str()))?;
        absorb(&mut case, step);
    }
    Ok((case, contact))
}

/// Fills the store with `missing` more cases after id `max_id`.
/// The days closed cases are spread over (`WORKFLOW_BENCH_DAYS`, default 365): 30 makes a
/// store of one month of cases (scripts/bench-portal).
fn spread_days() -> i64 {
    static DAYS: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *DAYS.get_or_init(|| match std::env::var("WORKFLOW_BENCH_DAYS") {
        Err(_) => 365,
        Ok(v) => match v.parse::<i64>() {
            Ok(d) if d >= 11 => d,
            _ => panic!("WORKFLOW_BENCH_DAYS={v}: expected a number of days, at least 11"),
        },
    })
}

fn fill(
    raw: &mut Raw,
    atlas: &Atlas,
    cats: &[Category],
    cal: &Calendar,
    missing: usize,
    max_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<serde_json::Value> {
    let t0 = Instant::now();
    let district: Vec<u16> = cats
        .iter()
        .enumerate()
        .filter(|(_, c)| c.street.is_none())
        .map(|(i, _)| u16::try_from(i))
        .collect::<Result<_, _>>()?;
    anyhow::ensure!(!district.is_empty(), "no district-wide categories");
    let bbox = atlas
        .territory_bbox()
        .ok_or_else(|| anyhow!("empty territory"))?;
    // points and plans: cheap, made up front so that ids follow the reported times
    let mut rng = StdRng::seed_from_u64(14 + max_id as u64);
    let mut plans = Vec::with_capacity(missing);
    while plans.len() < missing {
        let x = rng.random_range(bbox.min().x..bbox.max().x);
        let y = rng.random_range(bbox.min().y..bbox.max().y);
        if atlas.locate(x, y)[1].is_none() {
            continue;
        }
        let cat = district[rng.random_range(0..district.len())];
        plans.push(plan(&mut rng, now, (x, y, cat)));
    }
    plans.sort_by_key(|p| p.reported_at);
    let planned_s = t0.elapsed().as_secs_f64();
    let opts = RouteOptions::default();
    let (mut build_s, mut write_s, mut events) = (0.0, 0.0, 0usize);
    for (k, part) in plans.chunks(CHUNK).enumerate() {
        let first = max_id + 1 + (k * CHUNK) as i64;
        let t = Instant::now();
        let built: Vec<(Case, Option<String>)> = part
            .par_iter()
            .enumerate()
            .map(|(i, p)| build(p, first + i as i64, atlas, cats, cal, &opts))
            .collect::<anyhow::Result<_>>()?;
        events += built.iter().map(|(c, _)| c.events.len()).sum::<usize>();
        macro_rules! write_rows {
            ($rows:ident, $conn:expr) => {{
                let rows: Vec<($rows::CaseRow, Vec<$rows::EventRow>)> = built
                    .into_par_iter()
                    .map(|(c, contact)| $rows::rows(&c, contact))
                    .collect::<serde_json::Result<_>>()?;
                build_s += t.elapsed().as_secs_f64();
                let t = Instant::now();
                let mut cases = Vec::with_capacity(rows.len());
                let mut evs = Vec::new();
                for (c, e) in rows {
                    cases.push(c);
                    evs.extend(e);
                }
                $conn.insert_rows(cases, evs)?;
                write_s += t.elapsed().as_secs_f64();
            }};
        }
        match raw {
            Raw::Sqlite(c) => write_rows!(sqlite_rows, c),
            Raw::Pg(c) => write_rows!(pg_rows, c),
        }
        eprintln!(
            "fill: {} / {missing} cases, {events} events, {:.0} s",
            ((k + 1) * CHUNK).min(missing),
            t0.elapsed().as_secs_f64()
        );
    }
    let t = Instant::now();
    raw.finish_fill()?;
    let finish_s = t.elapsed().as_secs_f64();
    Ok(serde_json::json!({
        "cases_added": missing,
        "events_added": events,
        "plan_s": round(planned_s, 1),
        "route_apply_serialise_s": round(build_s, 1),
        "write_s": round(write_s, 1),
        "vacuum_analyze_or_checkpoint_s": round(finish_s, 1),
        "total_s": round(t0.elapsed().as_secs_f64(), 1),
    }))
}

// ---------------------------------------------------------------------------------------------
// Measurements.

/// The 1-minute load average (the machine is shared: it says how quiet a measurement was).
fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(-1.0)
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// p50, p95 and max of durations in seconds, in milliseconds.
fn percentiles(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        v.get(((v.len() as f64 * q) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
            * 1e3
    };
    serde_json::json!({
        "p50_ms": round(at(0.50), 2),
        "p95_ms": round(at(0.95), 2),
        "max_ms": round(v.last().copied().unwrap_or(0.0) * 1e3, 2),
    })
}

/// One listing: a street's open cases, perhaps of one category or overdue only, a page.
struct ListQuery {
    street: String,
    category: Option<String>,
    overdue: bool,
    offset: i64,
    limit: i64,
}

impl ListQuery {
    fn filter(&self, now: DateTime<Utc>) -> CaseFilter {
        CaseFilter {
            street: Some(self.street.clone()),
            stages: Stage::OPEN.to_vec(),
            categories: self.category.iter().cloned().collect(),
            overdue_at: self.overdue.then_some(now),
            offset: self.offset,
            limit: self.limit,
            ..CaseFilter::default()
        }
    }

    /// The WHERE clause (the street bound as the first parameter; the time, when overdue only,
    /// as the second: `$1` and `$2` in both dialects, SQLite numbering its `$NAME` parameters in
    /// order of appearance) and the page clause.
    fn sql(&self) -> (String, String) {
        let mut w = format!("street = $1 AND stage IN ({OPEN_SQL})");
        if let Some(c) = &self.category {
            w.push_str(&format!(" AND category IN ('{}')", c.replace('\'', "''")));
        }
        if self.overdue {
            w.push_str(" AND stage NOT IN ('closed','rejected','void') AND due_at < $2");
        }
        (
            w,
            format!(
                "ORDER BY id DESC LIMIT {} OFFSET {}",
                self.limit, self.offset
            ),
        )
    }
}

/// The variants measured: (name, category filter, overdue, offset).
const VARIANTS: [(&str, bool, bool, i64); 6] = [
    ("open", false, false, 0),
    ("open", false, false, 500),
    ("open+category", true, false, 0),
    ("open+category", true, false, 500),
    ("open+overdue", false, true, 0),
    ("open+overdue", false, true, 500),
];

fn queries(
    streets: &[String],
    cats: &[String],
    category: bool,
    overdue: bool,
    offset: i64,
) -> Vec<ListQuery> {
    (0..QUERIES)
        .map(|i| ListQuery {
            street: streets[i % streets.len()].clone(),
            category: category.then(|| cats[(i * 7) % cats.len()].clone()),
            overdue,
            offset,
            limit: 50,
        })
        .collect()
}

fn dispatcher(street: &str, now: DateTime<Utc>) -> Caller {
    Caller::with_token(Token {
        id: 1,
        role: "dispatcher".into(),
        streets: vec![street.to_owned()],
        created_at: now,
        revoked: false,
        expires_at: None,
        last_used_at: None,
        grids: Vec::new(),
        department: None,
        subject: Some("workflow_bench".into()),
    })
}

fn listing(
    store: &dyn Store,
    raw: &mut Raw,
    streets: &[String],
    cats: &[String],
    head: &serde_json::Value,
) -> anyhow::Result<()> {
    let emit = |mut line: serde_json::Value, extra: serde_json::Value| {
        if let (Some(o), Some(h), Some(e)) =
            (line.as_object_mut(), head.as_object(), extra.as_object())
        {
            for (k, v) in h.iter().chain(e) {
                o.insert(k.clone(), v.clone());
            }
        }
        println!("{line}");
    };
    for (name, category, overdue, offset) in VARIANTS {
        let qs = queries(streets, cats, category, overdue, offset);
        // the store, as the service calls it
        let (mut store_t, mut raw_t) = (Vec::new(), Vec::new());
        let (mut totals, mut rows) = (0i64, 0usize);
        for q in &qs {
            let now = Utc::now();
            let t = Instant::now();
            let (cases, total) = store.list_cases(&q.filter(now))?;
            store_t.push(t.elapsed().as_secs_f64());
            anyhow::ensure!(
                cases
                    .iter()
                    .all(|c| !c.stage.is_terminal() && c.street.as_deref() == Some(&q.street)),
                "listing returned a case it should not"
            );
            totals += total;
            rows += cases.len();
        }
        // the same statements, bare
        let (mut raw_totals, mut raw_rows) = (0i64, 0usize);
        for q in &qs {
            let now = Utc::now();
            let t = Instant::now();
            let (total, n) = raw.list(q, now)?;
            raw_t.push(t.elapsed().as_secs_f64());
            raw_totals += total;
            raw_rows += n;
        }
        let n = qs.len() as f64;
        let common = serde_json::json!({
            "variant": name, "offset": offset, "limit": 50, "queries": qs.len(),
            "mean_total": round(totals as f64 / n, 1), "mean_rows": round(rows as f64 / n, 1),
        });
        emit(
            serde_json::json!({"measure": "list", "load": loadavg()}),
            merge(&common, &percentiles(store_t)),
        );
        emit(
            serde_json::json!({"measure": "list_raw",
                "mean_total": round(raw_totals as f64 / n, 1),
                "mean_rows": round(raw_rows as f64 / n, 1)}),
            merge(
                &serde_json::json!({"variant": name, "offset": offset, "limit": 50, "queries": qs.len()}),
                &percentiles(raw_t),
            ),
        );
        if !category {
            // the service: a dispatcher of the street (scope: that street), and one of the
            // district centre (scope: every street), asking for the street's open cases
            for (measure, scope) in [("list_service", None), ("list_service_district", Some("*"))] {
                let mut svc_t = Vec::new();
                for q in &qs {
                    let now = Utc::now();
                    let wq = gridatlas::wire::cases::CaseListQuery {
                        street: Some(q.street.clone()),
                        stage: Some("open".into()),
                        overdue: overdue.then(|| "1".into()),
                        limit: Some("50".into()),
                        offset: Some(offset.to_string()),
                        ..Default::default()
                    };
                    let caller = dispatcher(scope.unwrap_or(&q.street), now);
                    let t = Instant::now();
                    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
                    let page = gridatlas::service::cases::list(store, &caller, &wq, now, cst)?;
                    svc_t.push(t.elapsed().as_secs_f64());
                    std::hint::black_box(page.items.len());
                }
                emit(
                    serde_json::json!({"measure": measure}),
                    merge(
                        &serde_json::json!({"variant": name, "offset": offset, "limit": 50, "queries": qs.len()}),
                        &percentiles(svc_t),
                    ),
                );
            }
        }
    }
    Ok(())
}

fn merge(a: &serde_json::Value, b: &serde_json::Value) -> serde_json::Value {
    let mut out = a.clone();
    if let (Some(o), Some(b)) = (out.as_object_mut(), b.as_object()) {
        for (k, v) in b {
            o.insert(k.clone(), v.clone());
        }
    }
    out
}

/// The next action on a case as a dispatcher, grid worker or department would take it.
fn next_request(case: &Case, rng: &mut StdRng, now: DateTime<Utc>) -> Request {
    let r = rng.random_range(0..100);
    let (action, role) = match case.stage {
        Stage::Reported if r < 5 => (Action::Reject, "dispatcher"),
        Stage::Reported => (Action::Accept, "dispatcher"),
        Stage::Accepted => (Action::Verify, "grid_worker"),
        Stage::Verified => (Action::Open, "dispatcher"),
        Stage::Opened => (Action::Dispatch, "dispatcher"),
        Stage::Dispatched if r < 5 && !case.supervised => (Action::Supervise, "supervisor"),
        Stage::Dispatched if r < 15 => (Action::Transfer, "dispatcher"),
        Stage::Dispatched => (Action::Dispose, "department"),
        Stage::Disposed if r < 10 => (Action::Rework, "grid_worker"),
        Stage::Disposed => (Action::Check, "grid_worker"),
        Stage::Checked => (Action::Close, "dispatcher"),
        Stage::OnHold => (Action::Resume, "dispatcher"),
        // finished: nothing to do (refused by the workflow)
        _ => (Action::Close, "dispatcher"),
    };
    let mut req = Request::new(action, now, &format!("workflow_bench ({role})"), role);
    let dept = DEPARTMENTS[rng.random_range(0..DEPARTMENTS.len())];
    match action {
        Action::Reject => req.note = Some("不属于城市管理范围".into()),
        Action::Dispatch => match case.grid.as_ref().filter(|_| !case.escalated()) {
            Some(g) if r < 60 => req.grid = Some(g.clone()),
            _ => req.department = Some(dept.into()),
        },
        Action::Transfer => {
            let d = if case.department.as_deref() == Some(dept) {
                DEPARTMENTS[(DEPARTMENTS.iter().position(|x| *x == dept).unwrap_or(0) + 1)
                    % DEPARTMENTS.len()]
            } else {
                dept
            };
            req.department = Some(d.into());
        }
        Action::Dispose => req.note = Some("已处置完毕".into()),
        Action::Rework => req.note = Some("核查未通过，返工".into()),
        _ => {}
    }
    req
}

/// `n` actions by one thread on the cases of `ids` (open ones, chosen at random; finished ones
/// leave the list). Returns (done, refused, latencies).
fn transitions(
    store: &dyn Store,
    cal: &Calendar,
    mut ids: Vec<i64>,
    n: usize,
    seed: u64,
) -> anyhow::Result<(usize, usize, Vec<f64>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut done, mut refused, mut lat) = (0, 0, Vec::with_capacity(n));
    for _ in 0..n {
        if ids.is_empty() {
            break;
        }
        let k = rng.random_range(0..ids.len());
        let t = Instant::now();
        let outcome = store.change_case(ids[k], &mut |case: &Case| {
            let req = next_request(case, &mut rng, Utc::now());
            workflow::apply(case, &req, cal)
        })?;
        lat.push(t.elapsed().as_secs_f64());
        match outcome {
            Ok(case) => {
                done += 1;
                if case.stage.is_terminal() {
                    ids.swap_remove(k);
                }
            }
            Err(Refusal::Conflict { .. }) => {
                refused += 1;
                ids.swap_remove(k);
            }
            Err(r) => {
                refused += 1;
                eprintln!("refused: {r}");
            }
        }
    }
    Ok((done, refused, lat))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: workflow_bench DATABASE [CASES] [TRANSITIONS]";
    let url = args.get(1).ok_or_else(|| anyhow!(usage))?;
    let want: usize = args.get(2).map_or(Ok(1_000_000), |s| s.parse())?;
    let n_transitions: usize = args.get(3).map_or(Ok(20_000), |s| s.parse())?;

    // opening computes the facts of cases that have none (a store filled by an older version)
    let started = std::time::Instant::now();
    let store: Arc<dyn Store> = Arc::from(gridatlas::store::open(url)?);
    println!(
        "{}",
        serde_json::json!({"backend": format!("{:?}", store.backend()), "measure": "open",
            "seconds": round(started.elapsed().as_secs_f64(), 1), "load": loadavg()})
    );
    let g = match store.current_generation()? {
        Some(g) => g.number,
        None => gridatlas::http::serve::bootstrap_demo(store.as_ref())?,
    };
    gridatlas::http::serve::bootstrap_categories(store.as_ref())?;
    let cats = store.categories()?;
    let set = store.load_generation(g)?;
    let streets: Vec<String> = set.layer(Layer::Street).map(|f| f.code.clone()).collect();
    let atlas = Atlas::build(set).with_generation(i64::from(g));
    let (cal, _) = gridatlas::service::cases::calendar(Some(store.as_ref()))?;
    let backend = format!("{:?}", store.backend());
    let mut raw = Raw::open(url).context("opening a second connection")?;

    let (have, max_id) = raw.count_and_max()?;
    let now = Utc::now().trunc_subsecs(0);
    if (have as usize) < want {
        let missing = want - have as usize;
        eprintln!("filling {missing} cases (the store has {have})");
        let report = fill(&mut raw, &atlas, &cats, &cal, missing, max_id, now)?;
        println!(
            "{}",
            merge(
                &serde_json::json!({"backend": backend, "measure": "fill"}),
                &report
            )
        );
    }
    // the cases written in bulk have no facts yet: opening the store computes them, as after
    // the migration that added them
    let started = std::time::Instant::now();
    let store: Arc<dyn Store> = Arc::from(gridatlas::store::open(url)?);
    println!(
        "{}",
        serde_json::json!({"backend": backend, "measure": "facts_on_open",
            "seconds": round(started.elapsed().as_secs_f64(), 1), "load": loadavg()})
    );
    let (cases, max_id) = raw.count_and_max()?;
    check_sample(store.as_ref(), max_id)?;
    if std::env::var_os("WORKFLOW_BENCH_FILL_ONLY").is_some() {
        return Ok(());
    }
    indicators(store.as_ref(), &backend, now)?;
    let per_street = raw.open_per_street()?;
    let open: i64 = per_street.iter().map(|(_, n)| n).sum();
    let mut size = raw.sizes(url)?;
    if let Some(o) = size.as_object_mut() {
        o.insert("backend".into(), backend.clone().into());
        o.insert("measure".into(), "dataset".into());
        o.insert("cases".into(), cases.into());
        o.insert("open_cases".into(), open.into());
        o.insert(
            "open_per_street".into(),
            per_street
                .iter()
                .map(|(s, n)| (s.clone().unwrap_or_default(), serde_json::Value::from(*n)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        );
    }
    println!("{size}");

    let busiest = per_street
        .iter()
        .find_map(|(s, _)| s.clone())
        .unwrap_or_else(|| streets[0].clone());
    let district_cats: Vec<String> = cats
        .iter()
        .filter(|c| c.street.is_none())
        .map(|c| c.code.clone())
        .collect();
    let list = |raw: &mut Raw, state: &str| -> anyhow::Result<()> {
        // the busiest street's plans first
        for (name, category, overdue, offset) in VARIANTS {
            let q = ListQuery {
                street: busiest.clone(),
                category: category.then(|| district_cats[0].clone()),
                overdue,
                offset,
                limit: 50,
            };
            eprintln!("== plan ({state}): {name}, offset {offset}, street {busiest}");
            for line in raw.explain(&q, Utc::now())? {
                eprintln!("{line}");
            }
        }
        let head = serde_json::json!({"backend": backend, "cases": cases, "state": state});
        listing(store.as_ref(), raw, &streets, &district_cats, &head)
    };
    // right after the fill (PostgreSQL: vacuumed, every page all-visible), then after the
    // transitions (the open cases' pages changed, as in a running system)
    list(&mut raw, "after_fill")?;
    if n_transitions > 0 {
        transition_runs(
            store.clone(),
            &cal,
            &mut raw,
            n_transitions,
            &backend,
            cases,
        )?;
        list(&mut raw, "after_transitions")?;
        // what a vacuum of the changed pages gives back (what autovacuum does, when it runs)
        if let Raw::Pg(c) = &mut raw {
            c.batch_execute("VACUUM (ANALYZE) cases")?;
            list(&mut raw, "after_vacuum")?;
        }
    }
    Ok(())
}

/// The last full calendar month before `now` (UTC+8 midnights).
fn last_month(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    use chrono::{Datelike, TimeZone};
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    let local = now.with_timezone(&cst);
    let (y, m) = if local.month() == 1 {
        (local.year() - 1, 12)
    } else {
        (local.year(), local.month() - 1)
    };
    let start = |y: i32, m: u32| {
        cst.with_ymd_and_hms(y, m, 1, 0, 0, 0)
            .single()
            .expect("a month's first midnight")
            .with_timezone(&Utc)
    };
    (start(y, m), start(local.year(), local.month()))
}

/// `indicators`: a month's indicators per grid, street, department and person and the ranked
/// table of streets through the store's SQL (5 runs each: p50 and max in milliseconds), then the
/// same from the month's cases in memory (the reference), which must agree.
fn indicators(store: &dyn Store, backend: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
    use gridatlas::cases::indicators::{Dimension, Scope, compute};
    use gridatlas::cases::scoring::{AssessedKind, rank};
    let (from, to) = last_month(now);
    let scope = Scope {
        from,
        to,
        as_of: to,
        street: None,
        categories: None,
    };
    let (scheme, _) = gridatlas::service::assessment::scoring(Some(store))?;
    let time = |f: &mut dyn FnMut() -> anyhow::Result<usize>| -> anyhow::Result<(Vec<f64>, usize)> {
        let mut ms = Vec::new();
        let mut rows = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            rows = f()?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        Ok((ms, rows))
    };
    let report = |what: &str, f: &mut dyn FnMut() -> anyhow::Result<usize>| -> anyhow::Result<()> {
        let (ms, rows) = time(f)?;
        println!(
            "{}",
            serde_json::json!({"backend": backend, "measure": "indicators", "what": what,
                "from": from, "to": to, "rows": rows, "p50_ms": round(ms[2], 1),
                "max_ms": round(ms[4], 1), "load": loadavg()})
        );
        Ok(())
    };
    for (what, by) in [
        ("grid", Dimension::Grid),
        ("street", Dimension::Street),
        ("department", Dimension::Department),
        ("district", Dimension::District),
        ("category", Dimension::Category),
    ] {
        report(what, &mut || Ok(store.indicators(&scope, by)?.len()))?;
    }
    report("person", &mut || Ok(store.person_indicators(&scope)?.len()))?;
    report("street_ranking", &mut || {
        let rows = store.indicators(&scope, Dimension::Street)?;
        let table = rank(
            &scheme,
            AssessedKind::Street,
            rows.into_iter()
                .filter_map(|(k, v)| k.map(|k| (k, None, v))),
        );
        Ok(table.len())
    })?;
    // the reference: the month's cases read whole, counted in memory
    let t = std::time::Instant::now();
    let (cases, _) = store.list_cases(&gridatlas::cases::CaseFilter {
        reported_from: Some(from),
        reported_to: Some(to),
        limit: i64::MAX,
        ..gridatlas::cases::CaseFilter::default()
    })?;
    let read_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let mut agree = true;
    for by in [Dimension::Grid, Dimension::Street, Dimension::Department] {
        let reference = compute(&cases, &scope, by);
        let sql = store.indicators(&scope, by)?;
        agree &= reference == sql;
        if reference != sql {
            eprintln!("{by:?}: the SQL and the reference differ");
        }
    }
    let ranked_sql = rank(
        &scheme,
        AssessedKind::Street,
        store
            .indicators(&scope, Dimension::Street)?
            .into_iter()
            .filter_map(|(k, v)| k.map(|k| (k, None, v))),
    );
    let ranked_ref = rank(
        &scheme,
        AssessedKind::Street,
        compute(&cases, &scope, Dimension::Street)
            .into_iter()
            .filter_map(|(k, v)| k.map(|k| (k, None, v))),
    );
    agree &= ranked_sql == ranked_ref;
    println!(
        "{}",
        serde_json::json!({"backend": backend, "measure": "indicators_reference",
            "month_cases": cases.len(), "read_s": round(read_s, 1),
            "compute_and_compare_s": round(t.elapsed().as_secs_f64(), 1), "agree": agree,
            "ranking": ranked_sql.iter().map(|r| serde_json::json!([r.code, r.score, r.grade])).collect::<Vec<_>>()})
    );
    anyhow::ensure!(
        agree,
        "the store's SQL and the in-memory reference disagree"
    );
    verdict_reopens(store, backend, &scope, &cases)
}

/// A resident's "not resolved" on one of the month's closed cases without a verdict: the case
/// is reopened, and the month counted as of now has one verdict more, one reopened case more,
/// one closed case less and a lower 实际解决率 — through the store's SQL as through the reference.
fn verdict_reopens(
    store: &dyn Store,
    backend: &str,
    scope: &gridatlas::cases::indicators::Scope,
    cases: &[Case],
) -> anyhow::Result<()> {
    use gridatlas::cases::indicators::{Dimension, Indicators, Scope, compute};
    use gridatlas::cases::{Feedback, Satisfaction};
    let Some(target) = cases
        .iter()
        .find(|c| c.stage == Stage::Closed && c.feedback.is_none())
    else {
        anyhow::bail!("no closed case without a verdict in the month");
    };
    let cal =
        Calendar::from_json(gridatlas::calendar::EXAMPLE_CALENDAR).map_err(|e| anyhow!("{e:?}"))?;
    let now_scope = |as_of| Scope {
        as_of,
        ..scope.clone()
    };
    let district = |as_of| -> anyhow::Result<Indicators> {
        store
            .indicators(&now_scope(as_of), Dimension::District)?
            .remove(&None)
            .ok_or_else(|| anyhow!("no district row"))
    };
    let before = district(Utc::now())?;
    let at = Utc::now();
    let feedback = Feedback {
        at,
        resolved: false,
        satisfaction: Satisfaction::Dissatisfied,
        comment: Some("问题还在".into()),
        via: "link".into(),
    };
    let case = store
        .give_feedback(target.id, &feedback, None, &mut |c| {
            let mut req = Request::new(Action::Reopen, at, "resident", "resident");
            req.note = Some("问题还在".into());
            workflow::apply(c, &req, &cal).map(Some)
        })?
        .map_err(|r| anyhow!("{r}"))?;
    let as_of = Utc::now();
    let after = district(as_of)?;
    let mut reread = cases.to_vec();
    if let Some(c) = reread.iter_mut().find(|c| c.id == case.id) {
        *c = case.clone();
    }
    let reference = compute(&reread, &now_scope(as_of), Dimension::District);
    // 实际解决率 counts one more verdict, not resolved: its denominator grows, its numerator not
    let lower = after.resolved_by_verdict == before.resolved_by_verdict
        && after
            .actual_resolution_rate
            .is_some_and(|a| before.actual_resolution_rate.is_none_or(|b| a <= b));
    let shows = !case.stage.is_terminal()
        && after.verdicts == before.verdicts + 1
        && after.reopened == before.reopened + 1
        && after.closed + 1 == before.closed
        && lower;
    let agrees = reference.get(&None) == Some(&after);
    let ok = shows && agrees;
    println!(
        "{}",
        serde_json::json!({"backend": backend, "measure": "verdict_reopens", "case": case.id,
            "stage_after": case.stage.as_str(),
            "actual_resolution_rate": [before.actual_resolution_rate, after.actual_resolution_rate],
            "verdicts": [before.verdicts, after.verdicts], "closed": [before.closed, after.closed],
            "reopened": [before.reopened, after.reopened], "shows": shows,
            "agrees_with_reference": agrees})
    );
    anyhow::ensure!(ok, "the reopening did not show as expected");
    Ok(())
}

/// Reads 1,000 random cases back through the store (every JSON column parsed) and checks that
/// each history is in order and ends in the case's stage.
fn check_sample(store: &dyn Store, max_id: i64) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..1000.min(max_id) {
        let c = store.get_case(rng.random_range(1..=max_id))?;
        let last = c
            .events
            .last()
            .ok_or_else(|| anyhow!("case {}: no events", c.id))?;
        anyhow::ensure!(
            c.events.first().map(|e| e.action) == Some(Action::Report)
                && c.events
                    .windows(2)
                    .all(|w| w[0].at <= w[1].at && w[0].seq < w[1].seq)
                && last.stage == c.stage,
            "case {}: history out of order or not ending in {:?}",
            c.id,
            c.stage
        );
    }
    Ok(())
}

/// TRANSITIONS actions by one thread, then by two on disjoint halves of the open cases (read
/// afresh).
fn transition_runs(
    store: Arc<dyn Store>,
    cal: &Arc<Calendar>,
    raw: &mut Raw,
    n_transitions: usize,
    backend: &str,
    cases: i64,
) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(20_000);
    for threads in [1usize, 2] {
        let mut ids = raw.open_ids()?;
        for i in (1..ids.len()).rev() {
            ids.swap(i, rng.random_range(0..=i));
        }
        let per = n_transitions / threads;
        let share = ids.len() / threads;
        let t = Instant::now();
        let results: Vec<anyhow::Result<(usize, usize, Vec<f64>)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|k| {
                    let part = ids[k * share..(k + 1) * share].to_vec();
                    let (store, cal) = (store.clone(), cal.clone());
                    let seed = 7 + threads as u64 * 10 + k as u64;
                    s.spawn(move || transitions(store.as_ref(), &cal, part, per, seed))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("thread panicked"))))
                .collect()
        });
        let secs = t.elapsed().as_secs_f64();
        let (mut done, mut refused, mut lat) = (0, 0, Vec::new());
        for r in results {
            let (d, f, l) = r?;
            done += d;
            refused += f;
            lat.extend(l);
        }
        println!(
            "{}",
            merge(
                &serde_json::json!({
                    "backend": backend, "cases": cases, "measure": "transitions",
                    "threads": threads, "done": done, "refused": refused,
                    "seconds": round(secs, 2), "per_s": round(done as f64 / secs, 0),
                    "load": loadavg(),
                }),
                &percentiles(lat)
            )
        );
    }
    Ok(())
}
