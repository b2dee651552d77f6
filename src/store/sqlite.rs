//! The embedded SQLite backend: one file, WAL journal, `synchronous=FULL`, bundled libsqlite3
//! (built with `SQLITE_ENABLE_QPSG`: see `.cargo/config.toml`), the WAL checkpointed by a thread
//! of its own (`Checkpointer`).
//!
//! Opening checks the file before SQLite reads it: a file that does not start with the SQLite
//! header, or that is shorter than its header says, is reported as [`StoreError::Corrupt`];
//! damage that SQLite finds later ("database disk image is malformed") is reported the same way.

use super::group::GroupCommit;
use super::{Backend, Keyed, StoreError, StoreResult, WatchEvent};
use diesel::QueryResult;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::schema_sqlite as schema;

type Conn = SqliteConnection;
const BACKEND: Backend = Backend::Sqlite;

/// The SQLite migrations, embedded in the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// How often a watcher polls for new generations.
const POLL: Duration = Duration::from_millis(500);

/// How often the checkpointer copies the WAL's frames into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// A WAL holding more frames than this after a passive checkpoint gets a second passive
/// checkpoint, holding this process's writer lock, so that it ends with every frame copied and
/// the next writer starts the WAL over. Under a steady stream of commits a passive checkpoint
/// never catches the WAL with every frame copied at the moment a writer begins, so writers never
/// start it over: the file grows without end, and every commit that extends it syncs the file
/// system's metadata too (on ext4, stalls of ~100 ms at its 5 s journal commits). Not RESTART:
/// it takes SQLite's write lock, and writers that find it taken wait in SQLite's busy handler
/// (sleeps of 1, 2, 5, 10, … ms): ~130 ms stalls; nor RESTART under the writer lock: it syncs the
/// whole file with every writer waiting. The second passive checkpoint copies only the frames
/// of the moments since the first, and waits for no reader: one that holds an older snapshot
/// keeps it from completing, and the next tick tries again.
const WAL_RESTART_FRAMES: i64 = 16_384;

/// What a WAL file is cut back to when a writer starts it over (`journal_size_limit`).
const WAL_SIZE_LIMIT: i64 = 64 << 20;
// The pool's connections set it with a literal (`Pragmas`).
const _: () = assert!(WAL_SIZE_LIMIT == 67_108_864);

/// Store on a SQLite file.
pub struct SqliteStore {
    pool: Pool<ConnectionManager<Conn>>,
    /// Stops the checkpointer (dropped first: see the `Drop` impl).
    checkpointer: Option<Checkpointer>,
    /// Check-ins arriving together, written in one transaction ([`group_checkins`]).
    checkins: GroupCommit<imp::CheckInItem, StoreResult<Keyed<i64>>>,
    /// This store's hold on the file (dropped after the pool: fields drop in order).
    _file: OpenFile,
}

/// The background checkpointer of a store: the pool's connections never checkpoint
/// (`wal_autocheckpoint = 0`), because SQLite's automatic checkpoint runs in the connection whose
/// commit crossed 1,000 WAL pages, inside its write (and this process's writer lock): every few
/// hundred check-ins one request copied the WAL into the database file and synced it, ~100 ms,
/// and every writer behind it waited. Here a thread of its own does it, PASSIVE (it never blocks
/// readers or writers), every [`CHECKPOINT_EVERY`], and again holding the writer lock when the
/// WAL holds more than [`WAL_RESTART_FRAMES`], so that writers start it over.
struct Checkpointer {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
    /// Checkpoints under the writer lock that copied every frame (for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    restarts: Arc<AtomicU64>,
}

impl Checkpointer {
    fn start(path: &Path, every: Duration, restart_frames: i64) -> StoreResult<Checkpointer> {
        let mut conn = connect(path)?;
        conn.batch_execute(&format!(
            "PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}; PRAGMA busy_timeout = 0;"
        ))
        .map_err(db_err)?;
        let restarts = Arc::new(AtomicU64::new(0));
        let counted = restarts.clone();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(every)
                {
                    match checkpoint(&mut conn, "PASSIVE") {
                        Ok((_, frames)) if frames > restart_frames => {
                            match one_writer(|| checkpoint(&mut conn, "PASSIVE")) {
                                Ok((false, _)) => {
                                    counted.fetch_add(1, Ordering::Relaxed);
                                }
                                // A reader kept it from completing: the next tick tries again.
                                Ok((true, _)) => {}
                                Err(e) => {
                                    tracing::warn!(error = %e, frames, "SQLite checkpoint failed")
                                }
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed"),
                    }
                }
            })
            .map_err(|e| StoreError::Pool(format!("starting the checkpointer: {e}")))?;
        Ok(Checkpointer {
            stop,
            thread,
            restarts,
        })
    }
}

/// The answer of `PRAGMA wal_checkpoint`.
#[derive(diesel::QueryableByName)]
struct CheckpointRow {
    /// 1: it could not complete (a RESTART waited for readers in vain).
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    /// Frames in the WAL.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
    /// Frames of the WAL copied into the database file.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    checkpointed: i32,
}

/// Runs a checkpoint of `mode`; answers whether it was kept from completing (busy, or frames
/// left that a reader's snapshot still needs), and the frames the WAL holds (-1: not in WAL mode).
fn checkpoint(conn: &mut Conn, mode: &str) -> diesel::QueryResult<(bool, i64)> {
    use diesel::RunQueryDsl;
    let row: CheckpointRow =
        diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(conn)?;
    Ok((
        row.busy != 0 || row.checkpointed < row.log,
        i64::from(row.log),
    ))
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some(Checkpointer { stop, thread, .. }) = self.checkpointer.take() {
            drop(stop);
            // its connection closes before the pool's: the last to close checkpoints the rest
            let _ = thread.join();
        }
    }
}

type Db = SqliteStore;

#[derive(Debug)]
struct Pragmas;

impl CustomizeConnection<Conn, diesel::r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut Conn) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(
            "PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; \
             PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;",
        )
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

fn is_corruption(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("malformed") || m.contains("not a database") || m.contains("disk image")
}

/// A diesel error, with SQLite's corruption messages turned into [`StoreError::Corrupt`].
fn db_err(e: diesel::result::Error) -> StoreError {
    if let diesel::result::Error::DatabaseError(_, info) = &e {
        if is_corruption(info.message()) {
            return StoreError::Corrupt {
                path: "the SQLite database".into(),
                detail: info.message().to_string(),
            };
        }
    }
    StoreError::Backend(e)
}

fn corrupt(path: &Path, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.display().to_string(),
        detail: detail.into(),
    }
}

/// Checks the header of an existing, non-empty file: the magic string, and that the file is at
/// least as long as the page count in its header says.
fn check_header(path: &Path) -> StoreResult<()> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(()); // does not exist yet: SQLite creates it
    };
    if meta.len() == 0 {
        return Ok(());
    }
    let mut header = [0u8; 100];
    let mut file = std::fs::File::open(path).map_err(|e| corrupt(path, e.to_string()))?;
    if meta.len() < 100 || file.read_exact(&mut header).is_err() {
        return Err(corrupt(
            path,
            format!(
                "only {} bytes, shorter than a SQLite header (truncated?)",
                meta.len()
            ),
        ));
    }
    if &header[..16] != b"SQLite format 3\0" {
        return Err(corrupt(path, "not a SQLite database (bad header)"));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65_536u64,
        n => u64::from(n),
    };
    let change_counter = &header[24..28];
    let valid_for = &header[92..96];
    let pages = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    // With a non-empty WAL, a checkpoint cut short by a crash may have written the new header
    // before the pages it counts; SQLite redoes it from the WAL, so the size says nothing then.
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_has_frames = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
    if !wal_has_frames && change_counter == valid_for && pages > 0 && meta.len() < pages * page_size
    {
        return Err(corrupt(
            path,
            format!(
                "truncated: {} bytes, but the header says {pages} pages of {page_size} bytes",
                meta.len()
            ),
        ));
    }
    Ok(())
}

/// The database files this process has open, with how many stores (or migrations) hold each.
static OPEN_FILES: std::sync::Mutex<BTreeMap<PathBuf, usize>> =
    std::sync::Mutex::new(BTreeMap::new());

/// One holder of a database file in [`OPEN_FILES`]; released when dropped.
struct OpenFile(PathBuf);

impl OpenFile {
    /// Registers a holder of `path`, checking the file's header first when no other holder of
    /// this process has it open: the check opens and closes the file, which would release the
    /// POSIX locks of the open connections (see [`connect`]). The registry's lock is held during
    /// the check, so no connection of another opener appears meanwhile.
    fn hold(path: &Path) -> StoreResult<OpenFile> {
        // the file may not exist yet: its directory's canonical path and its name
        let key = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) => std::fs::canonicalize(if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            })
            .map(|d| d.join(name))
            .unwrap_or_else(|_| path.to_path_buf()),
            _ => path.to_path_buf(),
        };
        let mut open = OPEN_FILES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let holders = open.get(&key).copied().unwrap_or(0);
        if holders == 0 {
            check_header(path)?;
        }
        open.insert(key.clone(), holders + 1);
        Ok(OpenFile(key))
    }
}

impl Drop for OpenFile {
    fn drop(&mut self) {
        let mut open = OPEN_FILES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match open.get(&self.0).copied() {
            Some(n) if n > 1 => {
                open.insert(self.0.clone(), n - 1);
            }
            _ => {
                open.remove(&self.0);
            }
        }
    }
}

/// A connection to `path`, in WAL mode. Never open the database file any other way while a
/// connection of this process is open (the header check runs only for the first holder: see
/// [`OpenFile::hold`]): closing that descriptor would release every POSIX lock
/// the process holds on the file (SQLite's shared lock among them), and another process closing
/// its connection would then think itself the last one and checkpoint and delete the WAL under
/// this one — corrupting the database.
fn connect(path: &Path) -> StoreResult<Conn> {
    use diesel::Connection;
    let url = path.to_string_lossy();
    let mut conn = Conn::establish(&url).map_err(|e| StoreError::Connect {
        url: url.to_string(),
        detail: e.to_string(),
    })?;
    conn.batch_execute("PRAGMA busy_timeout = 30000; PRAGMA journal_mode = WAL;")
        .map_err(|e| match db_err(e) {
            StoreError::Corrupt { detail, .. } => corrupt(path, detail),
            e => e,
        })?;
    Ok(conn)
}

fn run_migrations(conn: &mut Conn, path: &Path) -> StoreResult<Vec<String>> {
    let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| {
        let msg = e.to_string();
        if is_corruption(&msg) {
            corrupt(path, msg)
        } else {
            StoreError::Migration(msg)
        }
    })?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Applies pending migrations to the file; returns the versions applied.
pub fn migrate(path: &Path) -> StoreResult<Vec<String>> {
    let _held = OpenFile::hold(path)?;
    let mut conn = connect(path)?;
    run_migrations(&mut conn, path)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let path: PathBuf = path.to_path_buf();
        let file = OpenFile::hold(&path)?;
        {
            let mut conn = connect(&path)?;
            run_migrations(&mut conn, &path)?;
            // Reading the generation table makes SQLite look at the schema and data pages.
            current_number(&mut conn).map_err(|e| match e {
                StoreError::Corrupt { detail, .. } => corrupt(&path, detail),
                e => e,
            })?;
        }
        let manager = ConnectionManager::<Conn>::new(path.to_string_lossy());
        let pool = Pool::builder()
            .max_size(4)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            // An in-process connection does not go stale: no `SELECT 1` before every use.
            .test_on_check_out(false)
            .connection_customizer(Box::new(Pragmas))
            .build(manager)
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let store = SqliteStore {
            pool,
            checkpointer: Some(Checkpointer::start(
                &path,
                CHECKPOINT_EVERY,
                WAL_RESTART_FRAMES,
            )?),
            checkins: GroupCommit::new(CHECKIN_BATCH),
            _file: file,
        };
        store.refresh_facts_impl()?;
        Ok(store)
    }

    fn conn(&self) -> StoreResult<PooledConnection<ConnectionManager<Conn>>> {
        self.pool.get().map_err(|e| StoreError::Pool(e.to_string()))
    }

    fn watch_impl(
        &self,
        after: Option<i32>,
        on_event: &mut dyn FnMut(WatchEvent) -> bool,
    ) -> StoreResult<()> {
        let current = {
            let mut conn = self.conn()?;
            current_number(&mut conn)?
        };
        if !on_event(WatchEvent::Ready { current }) {
            return Ok(());
        }
        let mut last = after.unwrap_or(current);
        let mut first = true;
        loop {
            if !first {
                std::thread::sleep(POLL);
            }
            first = false;
            let new = {
                let mut conn = self.conn()?;
                generations_after(&mut conn, last)?
            };
            for g in new {
                last = g.number;
                if !on_event(WatchEvent::Published(g)) {
                    return Ok(());
                }
            }
        }
    }
}

/// The writers of this process, one at a time: SQLite has one writer per file, and a writer
/// that finds the file locked waits in SQLite's busy handler, which sleeps 1, 2, 5, … up to
/// 100 ms between tries — under a burst of check-ins every waiter paid up to a tenth of a
/// second. Queued on this lock they are woken the moment the writer before them commits. (One
/// lock for every SQLite file of the process: writes to two files in one process, as in tests,
/// take turns too. Writers of other processes still meet the busy handler.)
static WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    /// Whether this thread holds [`WRITER`] (a write transaction inside another one runs in it).
    static WRITING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` holding [`WRITER`].
fn one_writer<T>(f: impl FnOnce() -> T) -> T {
    if WRITING.get() {
        return f();
    }
    struct Release;
    impl Drop for Release {
        fn drop(&mut self) {
            WRITING.set(false);
        }
    }
    // A writer that panicked left nothing half-done in the file (its transaction rolled back):
    // the lock is usable.
    let _turn = WRITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    WRITING.set(true);
    let _release = Release;
    f()
}

/// A write transaction: `BEGIN IMMEDIATE`, so that writers queue instead of failing when they
/// upgrade from reading; the writers of this process queue on [`WRITER`] first.
fn write_tx<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
    one_writer(|| conn.immediate_transaction(f))
}

/// SQLite has no notifications: watchers poll.
fn announce(_conn: &mut Conn, _n: i32) -> diesel::QueryResult<()> {
    Ok(())
}

/// A write transaction for cases and categories (SQLite: one writer at a time, see
/// [`write_tx`]).
fn case_tx<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
    write_tx(conn, f)
}

/// Most check-ins written in one transaction by the group commit.
const CHECKIN_BATCH: usize = 256;

/// Writes a check-in with those that arrive while another batch is being committed, in one
/// transaction and one sync of the WAL (`store::group`): behind a checkpoint or a burst, n
/// waiting check-ins take one commit instead of n.
fn group_checkins(
    db: &Db,
    item: imp::CheckInItem,
    write: impl Fn(Vec<imp::CheckInItem>) -> Vec<StoreResult<Keyed<i64>>>,
) -> StoreResult<Keyed<i64>> {
    db.checkins.submit(item, write).unwrap_or_else(|| {
        Err(StoreError::Data(
            "the check-in's batch was not written: its writer failed".into(),
        ))
    })
}

/// A read transaction: in WAL mode it reads one snapshot of the file from its first read on,
/// while writers go on.
fn snapshot_tx<T>(conn: &mut Conn, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
    diesel::Connection::transaction(conn, f)
}

/// Component rows per multi-row INSERT (11 bound values each, under SQLite's 32,766).
const COMPONENT_CHUNK: usize = 2500;

/// Writes component rows in multi-row INSERTs, with a page cache large enough for a whole
/// district's register while it runs.
fn insert_components(conn: &mut Conn, rows: &[imp::NewComponentRow<'_>]) -> QueryResult<()> {
    use diesel::RunQueryDsl;
    conn.batch_execute("PRAGMA cache_size = -131072")?;
    let written = rows.chunks(COMPONENT_CHUNK).try_for_each(|chunk| {
        diesel::insert_into(schema::components::table)
            .values(chunk)
            .execute(conn)
            .map(|_| ())
    });
    conn.batch_execute("PRAGMA cache_size = -2000")?;
    written
}

/// Nothing to do: the immediate transaction already holds the write lock.
fn lock_case(_conn: &mut Conn, _id: i64) -> StoreResult<()> {
    Ok(())
}

// The diesel code of every aggregate, written once and compiled per backend (see its module doc
// for why not one backend-generic implementation).
#[allow(clippy::duplicate_mod)]
#[path = "diesel/mod.rs"]
mod imp;

use imp::{current_number, generations_after};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncated_files_are_corrupt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("x.db");
        std::fs::write(&p, b"this is not a database at all, just some text").expect("write");
        assert!(matches!(
            SqliteStore::open(&p),
            Err(StoreError::Corrupt { .. })
        ));
        std::fs::write(&p, vec![7u8; 8192]).expect("write");
        assert!(matches!(
            SqliteStore::open(&p),
            Err(StoreError::Corrupt { .. })
        ));
    }

    /// The pool's connections never checkpoint; the store's own thread copies the WAL into the
    /// file while the store stays open (and stops when it is dropped).
    #[test]
    fn the_wal_is_checkpointed_in_the_background() {
        use diesel::RunQueryDsl;
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("c.db");
        let store = SqliteStore::open(&p).expect("open");
        let size = || std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        let before = size();
        {
            let mut conn = store.conn().expect("conn");
            let auto: Vec<Int> = diesel::sql_query("PRAGMA wal_autocheckpoint")
                .load(&mut conn)
                .expect("pragma");
            assert_eq!(
                auto[0].wal_autocheckpoint, 0,
                "pool connections do not checkpoint"
            );
            conn.batch_execute(
                "CREATE TABLE filler (b BLOB); \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
                 INSERT INTO filler SELECT zeroblob(4000) FROM n;",
            )
            .expect("fill");
        }
        // 8 MB written to the WAL; the file grows once the checkpointer has copied it
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while size() < before + 7_000_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the WAL was not checkpointed: the file is {} bytes",
                size()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(store);
    }

    /// A WAL of more frames than the limit is checkpointed to the end under the writer lock, and
    /// the next writer starts it over: it holds a few frames again, not the 2,000 written before.
    #[test]
    fn a_long_wal_is_started_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("t.db");
        let mut conn = connect(&p).expect("connect");
        conn.batch_execute("PRAGMA wal_autocheckpoint = 0; CREATE TABLE filler (b BLOB);")
            .expect("setup");
        let ckpt = Checkpointer::start(&p, Duration::from_millis(20), 1_000).expect("start");
        conn.batch_execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO filler SELECT zeroblob(4000) FROM n;",
        )
        .expect("fill");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while ckpt.restarts.load(Ordering::Relaxed) == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "no complete checkpoint"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        conn.batch_execute("INSERT INTO filler VALUES (zeroblob(10))")
            .expect("write");
        let (_, frames) = checkpoint(&mut conn, "PASSIVE").expect("checkpoint");
        assert!((0..10).contains(&frames), "the WAL holds {frames} frames");
        // Small writes for many ticks: no second checkpoint under the lock.
        for i in 0..50 {
            conn.batch_execute(&format!("INSERT INTO filler VALUES (zeroblob({i}))"))
                .expect("write");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(ckpt.restarts.load(Ordering::Relaxed), 1);
        drop(ckpt.stop);
        ckpt.thread.join().expect("join");
    }

    #[derive(diesel::QueryableByName)]
    struct Int {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        wal_autocheckpoint: i32,
    }
}
