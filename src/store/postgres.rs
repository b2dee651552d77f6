//! The PostgreSQL + PostGIS backend.
//!
//! Geometry columns are PostGIS `geometry(MultiPolygon,4326)` / `geometry(MultiLineString,4326)`
//! with GiST indexes; views `current_<layer>s` show the current generation per layer for GIS
//! tools. Publishes are serialised with a transaction-scoped advisory lock and announced with
//! `NOTIFY gridatlas_generation, '<n>'`, delivered to listeners when the transaction commits.

use super::{Backend, Keyed, NOTIFY_CHANNEL, StoreError, StoreResult, WatchEvent, redact_url};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool, PooledConnection};
use diesel::sql_types::Text;
use diesel::{Connection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::{Duration, Instant};

use super::schema_pg as schema;

type Conn = PgConnection;
const BACKEND: Backend = Backend::Postgres;

/// The PostgreSQL migrations, embedded in the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Advisory lock keys (arbitrary constants, "gridatlas" in spirit).
const MIGRATION_LOCK: i64 = 0x6772_6964_0001;
const PUBLISH_LOCK: i64 = 0x6772_6964_0002;

/// How often a watcher looks at its connection for notifications.
const LISTEN_POLL: Duration = Duration::from_millis(25);
/// How often a watcher re-reads the generation table anyway (in case a notification was lost).
const FALLBACK_POLL: Duration = Duration::from_secs(5);

/// Store on a PostgreSQL database with PostGIS.
pub struct PgStore {
    pool: Pool<Manager>,
    url: String,
}

/// The pool's connection manager: diesel's, with a check of a connection that costs no round
/// trip. diesel's check is a `SELECT 1` at every checkout, a round trip per store call (a
/// check-in makes three); and diesel does not mark a connection the server dropped as broken,
/// so without a check such a connection stays in the pool and fails every call made on it
/// (tests/store.rs, `postgis_connections_the_server_dropped_are_replaced`).
///
/// This check reads what the server sent while the connection sat idle, without sending
/// anything (libpq's `PQconsumeInput`, through diesel's `notifications_iter`): a server that
/// ended the connection sent its last message and closed the socket, and the read that meets
/// the close fails. It reads twice: a read may return the server's last message without yet
/// meeting the close. It runs on checkout and again on return, so a connection that failed
/// during a call (libpq then closes it) leaves the pool at once. A connection the network lost
/// without a close is found by its next call's error, as a `SELECT 1` would find it.
#[derive(Debug)]
struct Manager(ConnectionManager<Conn>);

impl Manager {
    fn open(conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        for _ in 0..2 {
            for n in conn.notifications_iter() {
                n.map_err(diesel::r2d2::Error::QueryError)?;
            }
        }
        Ok(())
    }
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        Manager::open(conn)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        self.0.has_broken(conn) || Manager::open(conn).is_err()
    }
}

type Db = PgStore;

fn db_err(e: diesel::result::Error) -> StoreError {
    StoreError::Backend(e)
}

fn establish(url: &str) -> StoreResult<Conn> {
    Conn::establish(url).map_err(|e| StoreError::Connect {
        url: redact_url(url),
        detail: e.to_string(),
    })
}

fn run_migrations(conn: &mut Conn) -> StoreResult<Vec<String>> {
    // Several processes may start at once on a fresh database: one migrates, the others wait.
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .execute(conn)
        .map_err(db_err)?;
    let result = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|v| v.iter().map(ToString::to_string).collect())
        .map_err(|e| StoreError::Migration(e.to_string()));
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .execute(conn)
        .map_err(db_err)?;
    result
}

/// Applies pending migrations; returns the versions applied.
pub fn migrate(url: &str) -> StoreResult<Vec<String>> {
    let mut conn = establish(url)?;
    run_migrations(&mut conn)
}

impl PgStore {
    /// Connects and applies pending migrations.
    pub fn open(url: &str) -> StoreResult<Self> {
        {
            let mut conn = establish(url)?;
            run_migrations(&mut conn)?;
        }
        let pool = Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            // Each connection is checked when taken from the pool, without a round trip
            // (`Manager`).
            .test_on_check_out(true)
            .build(Manager(ConnectionManager::<Conn>::new(url)))
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let store = PgStore {
            pool,
            url: url.to_string(),
        };
        store.refresh_facts_impl()?;
        Ok(store)
    }

    fn conn(&self) -> StoreResult<PooledConnection<Manager>> {
        self.pool.get().map_err(|e| StoreError::Pool(e.to_string()))
    }

    fn watch_impl(
        &self,
        after: Option<i32>,
        on_event: &mut dyn FnMut(WatchEvent) -> bool,
    ) -> StoreResult<()> {
        let mut conn = establish(&self.url)?;
        diesel::sql_query(format!("LISTEN {NOTIFY_CHANNEL}"))
            .execute(&mut conn)
            .map_err(db_err)?;
        let current = current_number(&mut conn)?;
        if !on_event(WatchEvent::Ready { current }) {
            return Ok(());
        }
        let mut last = after.unwrap_or(current);
        // Look once right away: generations newer than `after` may exist already.
        let mut checked: Option<Instant> = None;
        loop {
            let mut notified = false;
            for n in conn.notifications_iter() {
                n.map_err(db_err)?;
                notified = true;
            }
            if notified || checked.is_none_or(|t| t.elapsed() >= FALLBACK_POLL) {
                checked = Some(Instant::now());
                for g in generations_after(&mut conn, last)? {
                    last = g.number;
                    if !on_event(WatchEvent::Published(g)) {
                        return Ok(());
                    }
                }
            } else {
                std::thread::sleep(LISTEN_POLL);
            }
        }
    }
}

/// A write transaction holding the publish lock, so that publishes run one after the other.
fn write_tx<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
    conn.transaction(|conn| {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({PUBLISH_LOCK})"))
            .execute(conn)
            .map_err(db_err)?;
        f(conn)
    })
}

/// `NOTIFY gridatlas_generation, '<n>'` (sent when the transaction commits).
fn announce(conn: &mut Conn, n: i32) -> diesel::QueryResult<()> {
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(NOTIFY_CHANNEL)
        .bind::<Text, _>(n.to_string())
        .execute(conn)
        .map(|_| ())
}

/// A transaction for cases and categories.
fn case_tx<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
    conn.transaction(f)
}

/// Writes a check-in on its own: PostgreSQL takes concurrent writers (and groups their WAL
/// flushes itself).
fn group_checkins(
    _db: &Db,
    item: imp::CheckInItem,
    write: impl Fn(Vec<imp::CheckInItem>) -> Vec<StoreResult<Keyed<i64>>>,
) -> StoreResult<Keyed<i64>> {
    write(vec![item]).pop().unwrap_or_else(|| {
        Err(StoreError::Data(
            "the check-in was not written: no result".into(),
        ))
    })
}

/// A read-only REPEATABLE READ transaction: every statement in it sees the snapshot of its
/// first.
fn snapshot_tx<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(f)
}

/// Writes component rows with one binary COPY: a whole district's register in one statement.
fn insert_components(
    conn: &mut Conn,
    rows: &[imp::NewComponentRow<'_>],
) -> diesel::QueryResult<()> {
    use diesel::ExecuteCopyFromDsl;
    diesel::copy_from(schema::components::table)
        .from_insertable(rows)
        .execute(conn)
        .map(|_| ())
}

/// Locks a case's row until the transaction ends, so two status changes never interleave.
fn lock_case(conn: &mut Conn, id: i64) -> StoreResult<()> {
    diesel::sql_query("SELECT id FROM cases WHERE id = $1 FOR UPDATE")
        .bind::<diesel::sql_types::BigInt, _>(id)
        .execute(conn)
        .map(|_| ())
        .map_err(db_err)
}

// The diesel code of every aggregate, written once and compiled per backend (see its module doc
// for why not one backend-generic implementation).
#[allow(clippy::duplicate_mod)]
#[path = "diesel/mod.rs"]
mod imp;

use imp::{current_number, generations_after};
