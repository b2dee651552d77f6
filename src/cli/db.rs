//! `--database`: where the store is, shared by every command that uses one.

use crate::store::Store;
use anyhow::{Context, Result};

/// Where the database is.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Database: a SQLite file path (or `sqlite:PATH`) or `postgres://user:pass@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = crate::store::DEFAULT_DATABASE)]
    pub database: String,
}

impl DatabaseArgs {
    /// Opens the store (applying pending migrations).
    pub fn open(&self) -> Result<Box<dyn Store>> {
        crate::store::open(&self.database)
            .with_context(|| format!("opening {}", crate::store::redact_url(&self.database)))
    }
}

/// The name of the person at the terminal, for the record (`$USER`, else `cli`).
pub fn default_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}
