//! The embedded migrations of both stores, run one at a time: for tests that write a store as an
//! older version of the code did and then migrate it.
#![allow(dead_code)]

use diesel::backend::Backend;
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Runs the embedded migrations one by one up to, excluding, `version`; returns the versions
/// applied. Panics when `version` is not among the pending ones.
pub fn migrate_before<DB, C>(
    conn: &mut C,
    source: impl Fn() -> EmbeddedMigrations,
    version: &str,
) -> Vec<String>
where
    DB: Backend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    let mut applied = Vec::new();
    loop {
        let pending = conn
            .pending_migrations(source())
            .expect("pending migrations");
        let next = pending
            .first()
            .map(|m| m.name().version().to_string())
            .unwrap_or_else(|| panic!("migration {version} is still to come"));
        if next == version {
            return applied;
        }
        applied.push(
            conn.run_next_migration(source())
                .expect("an older migration")
                .to_string(),
        );
    }
}

/// The versions still to apply.
pub fn pending<DB, C>(conn: &mut C, source: impl Fn() -> EmbeddedMigrations) -> Vec<String>
where
    DB: Backend,
    C: MigrationHarness<DB>,
    EmbeddedMigrations: MigrationSource<DB>,
{
    conn.pending_migrations(source())
        .expect("pending migrations")
        .iter()
        .map(|m| m.name().version().to_string())
        .collect()
}
