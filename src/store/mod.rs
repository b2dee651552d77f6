//! Storage, split by aggregate: one trait per aggregate, and the umbrella [`Store`] that a
//! backend implements and callers hold (`Box<dyn Store>` from [`open`], `Arc<dyn Store>`).
//!
//! | aggregate | file | trait | tables |
//! |---|---|---|---|
//! | boundaries | `boundaries.rs` | [`Boundaries`]: drafts, generations, diff, watch, purge | `drafts`, `draft_features`, `generations`, `features` |
//! | access | `access.rs` | [`Access`]: API tokens | `tokens` |
//! | categories | `categories.rs` | [`Categories`]: the case categories (task list) | `categories` |
//! | cases | `cases.rs` | [`Cases`]: cases and their events | `cases`, `case_events` |
//! | reviews | `reviews.rs` | [`Reviews`]: quality reviews by sampling (质量考评) | `reviews`, `review_cases`, `review_assignments` |
//! | field | `field.rs` | [`Field`]: staff, duty, check-ins, patrol tracks | `staff`, `duty`, `checkins`, `tracks` |
//! | assets | `assets.rs` | [`Assets`]: the component (部件) and shop (门责) registers, inspections, points | `components`, `shops`, `shop_inspections`, `shop_points` |
//! | idempotency | `idempotency.rs` | [`Idempotency`]: the first answers of requests sent with an `Idempotency-Key` (written by the keyed writes of cases and field) | `idempotency_keys` |
//! | photos | `photos.rs` | [`Photos`]: the metadata of case photos (their bytes: [`objects`]) | `case_photos` |
//!
//! Callers bring every aggregate trait into scope with one `use crate::store::prelude::*;`.
//!
//! The diesel code of every aggregate (rows, queries, the `impl`s of the aggregate traits) is in
//! `diesel/`, one file per aggregate, compiled as a module of each backend (`sqlite.rs`,
//! `postgres.rs`), which hold what differs (connection, write transaction, NOTIFY, case row lock,
//! watch); see `diesel/mod.rs` for why. The diesel schemas are `schema_sqlite.rs` and
//! `schema_pg.rs`.
//!
//! **Adding a capability** (a new aggregate): a new file `src/store/<aggregate>.rs` with its
//! trait and its types; its rows, queries and `impl` in `src/store/diesel/<aggregate>.rs`; its
//! migration in both `migrations/sqlite` and `migrations/postgres`; its tables in both diesel
//! schemas (checked against the migrations by `tests/store_schema.rs`); its tests on both backends
//! in `tests/store.rs` (or a new `tests/store_<aggregate>.rs`); and one line each in the umbrella
//! [`Store`] and in [`prelude`].
//!
//! Backends:
//!
//! * **SQLite** (embedded default): one file (`gridatlas.db` unless told otherwise), WAL journal,
//!   bundled libsqlite3. Geometries are EWKB blobs (SRID 4326).
//! * **PostgreSQL + PostGIS** (production), chosen by a `postgres://` or `postgresql://` URL:
//!   geometry columns are `geometry(MultiPolygon,4326)` / `geometry(MultiLineString,4326)` with GiST
//!   indexes, and one view per layer of the current generation (`current_blocks`, …) so GIS tools
//!   open the published layers directly. A publish sends `NOTIFY gridatlas_generation, '<n>'`.
//!
//! The boundaries pipeline, in order:
//!
//! 1. [`Boundaries::create_draft`] stores an uploaded [`FeatureSet`](crate::model::FeatureSet) as
//!    a draft with its validation report. A draft that covers only some streets means "the
//!    current generation with these streets (and everything under them) replaced":
//!    [`draft_as_whole`] builds that set, which is what validation checks and what a publish
//!    makes current.
//! 2. [`Boundaries::publish`] turns a draft into generation N+1 in one transaction. It is refused
//!    while the draft's report has errors unless an override reason is given (stored with the
//!    generation), and refused with [`StoreError::Conflict`] when the draft was already published
//!    or another generation was published since the draft was made.
//! 3. Generations are temporal, not copies: a feature row is valid from generation `valid_from`
//!    up to (excluding) `valid_to`; a publish inserts only the added and changed features and
//!    closes the replaced and removed ones. Generation N is every row with
//!    `valid_from <= N AND (valid_to IS NULL OR valid_to > N)`.
//! 4. [`Boundaries::load_generation`] reads one generation back in one bulk query (the start-up
//!    path of the atlas); [`Boundaries::generation_at`] finds the generation current at an
//!    instant; [`Boundaries::diff`] lists the areas that changed between two generations with the
//!    area that changed hands in m².
//! 5. [`Boundaries::watch`] reports new generations as they are published, by any process:
//!    LISTEN/NOTIFY on PostgreSQL, polling every 500 ms on SQLite.
//!
//! A loaded generation lists its features in canonical order (layer in hierarchy order, then
//! code), so that two loads of the same generation are identical whatever order the uploads had.

mod access;
mod assets;
mod boundaries;
mod cases;
mod categories;
mod convert;
mod diff;
mod field;
mod group;
mod idempotency;
pub mod objects;
mod photos;
mod postgres;
mod reviews;
#[doc(hidden)]
pub mod schema_pg;
#[doc(hidden)]
pub mod schema_sqlite;
mod sqlite;

use serde::Serialize;

pub use access::{Access, Token, TokenSpec, secret_hash};
pub use assets::{Assets, ComponentQuery, RegisterScope, ShopQuery};
pub use boundaries::{
    AreaChange, Boundaries, ChangeKind, Draft, DraftId, DraftInfo, GenerationInfo, GenerationNo,
    LayerChanges, NOTIFY_CHANNEL, NewDraft, Subject, WatchEvent, canonical, change_counts,
    draft_as_whole, street_of_features,
};
pub use cases::Cases;
pub use categories::{Categories, Setting};
pub use diff::{ChangeScope, diff_sets, effective_change};
pub use field::{CheckInContext, Field, TrackQuery};
pub use idempotency::{Answer, Idempotency, KeyClaim, KeyRecord, KeyWrite, Keyed, OwnedKeyWrite};
pub use photos::Photos;
pub use reviews::{NewScore, ReviewScope, Reviews};

/// Everything a caller needs in scope to use a store: the umbrella and every aggregate trait.
pub mod prelude {
    pub use super::{
        Access, Assets, Boundaries, Cases, Categories, Field, Idempotency, Photos, Reviews, Store,
    };
}

/// The whole store: every aggregate, on one backend. Implementations are internally pooled and
/// safe to share between threads; calls are synchronous (diesel), async callers use
/// `spawn_blocking`.
pub trait Store:
    Boundaries
    + Access
    + Categories
    + Cases
    + Photos
    + Reviews
    + Field
    + Assets
    + Idempotency
    + Send
    + Sync
{
    /// The backend in use.
    fn backend(&self) -> Backend;

    /// Connections in the pool: how many calls the store serves at once (a caller gating its
    /// blocking work on the store lets no more than this run, and answers the rest "busy").
    fn connections(&self) -> usize;
}

/// Default database when neither `--database` nor `DATABASE_URL` says otherwise.
pub const DEFAULT_DATABASE: &str = "gridatlas.db";

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No draft, generation or token with that identifier.
    #[error("not found: {0}")]
    NotFound(String),
    /// The operation lost a race or repeats one: the draft was already published, or another
    /// generation was published since the draft was made (re-import it against the new one).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Publishing a draft whose report has errors needs an override reason.
    #[error(
        "publish refused: the draft's validation report has {errors} error(s); an admin may publish it anyway with an override reason"
    )]
    PublishRefused {
        /// Number of errors in the draft's report.
        errors: usize,
    },
    /// The draft cannot be combined with the current generation (e.g. a code it adds is used by a
    /// feature outside the streets it covers).
    #[error("invalid draft: {0}")]
    InvalidDraft(String),
    /// The SQLite file is not a (complete) database.
    #[error("database file {path} is corrupt or not a gridatlas database: {detail}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The database URL is not one this build understands.
    #[error("bad database URL {0:?}: expected a file path, sqlite:PATH or postgres://…")]
    BadUrl(String),
    /// Could not connect to the database.
    #[error("cannot connect to {url}: {detail}")]
    Connect {
        /// The URL, password removed.
        url: String,
        /// The driver's message.
        detail: String,
    },
    /// Applying the embedded migrations failed.
    #[error("migrations failed: {0}")]
    Migration(String),
    /// Stored data that cannot be decoded (a row written by something else, or damaged).
    #[error("stored data cannot be read: {0}")]
    Data(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Backend(#[from] diesel::result::Error),
    /// A connection pool error.
    #[error("connection pool: {0}")]
    Pool(String),
    /// Another request with this idempotency key was stored first (its transaction and this
    /// one's raced; this one wrote nothing).
    #[error("a request with idempotency key {0:?} is in progress")]
    KeyTaken(String),
}

/// Short form of `Result<T, StoreError>`.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which backend a store uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL with PostGIS.
    Postgres,
}

/// Where a database URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `postgres://…`, `postgresql://…`, `sqlite:PATH`, `sqlite://PATH` or a plain path.
    pub fn parse(url: &str) -> StoreResult<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .or_else(|| url.strip_prefix("file:"))
            .unwrap_or(url);
        if path.is_empty() || path.contains("://") {
            return Err(StoreError::BadUrl(url.to_string()));
        }
        Ok(DatabaseUrl::Sqlite(path.into()))
    }
}

/// Opens a store, choosing the backend from the URL, and applies pending migrations.
///
/// A SQLite file that is not a complete database gives [`StoreError::Corrupt`]; an unreachable
/// PostgreSQL gives [`StoreError::Connect`].
pub fn open(url: &str) -> StoreResult<Box<dyn Store>> {
    Ok(match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => Box::new(sqlite::SqliteStore::open(&path)?),
        DatabaseUrl::Postgres(url) => Box::new(postgres::PgStore::open(&url)?),
    })
}

/// Applies pending migrations without opening a store; returns the versions applied now.
pub fn migrate(url: &str) -> StoreResult<Vec<String>> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => sqlite::migrate(&path),
        DatabaseUrl::Postgres(url) => postgres::migrate(&url),
    }
}

/// `url` with any password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            let user = userinfo.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("gridatlas.db").ok(),
            Some(DatabaseUrl::Sqlite("gridatlas.db".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:/tmp/x.db").ok(),
            Some(DatabaseUrl::Sqlite("/tmp/x.db".into()))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u:p@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert_eq!(redact_url("postgres://u:p@h/db"), "postgres://u:***@h/db");
    }
}
