//! The service layer: every flow of the application, written once, called by the HTTP handlers
//! and the CLI alike.
//!
//! A service function takes what it works on (the store as `&dyn Store`, the atlas, the verified
//! [`access::Caller`]) and typed input, does the whole flow (checks, authorization of the effect,
//! reading, validation, storage) and answers a typed result ([`crate::wire`] types where the API
//! shows it) or an [`Error`] naming what is wrong. It is synchronous: the HTTP layer runs each
//! call on the blocking pool, so parsing a large upload, validating it or waiting for the database
//! never holds an async worker.
//!
//! Layers point one way: `http`, `cli` → `service` → `store`, `atlas`, `validate`, `routing`,
//! `geo_io` → `model`, `geometry`. Nothing here knows axum, clap or problem+json.
//!
//! - [`access`]: roles, the caller and its street scope, tokens;
//! - [`drafts`]: upload, read, report, publish;
//! - [`generations`]: history, diff, export, the generation in force at a time, its atlas;
//! - [`cases`]: categories, intake, case list, status changes;
//! - [`assessment`]: the standard indicators, scoring schemes and ranked tables;
//! - [`review`]: quality review by sampling (质量考评): draw, assign, score, results;
//! - [`idempotency`]: `Idempotency-Key`: retried requests answered again, not applied twice;
//! - [`setup`]: the demo district and the example task list for a first start.

pub mod access;
pub mod assessment;
pub mod assets;
pub mod cases;
pub mod drafts;
mod error;
pub mod events;
pub mod export;
pub mod field;
pub mod generations;
pub mod idempotency;
pub mod photos;
pub mod review;
pub mod setup;

pub use error::{Error, Kind, Result};

impl Error {
    /// Whether the problem lies with the request (a 4xx), not with the server.
    pub fn is_client_error(&self) -> bool {
        !matches!(self.kind, Kind::Internal | Kind::Unavailable)
    }
}

/// A non-negative integer query parameter `name` (raw value `raw`), `default` when absent, at
/// most `max`; 400 naming it otherwise.
pub fn usize_param(name: &str, raw: Option<&str>, default: usize, max: usize) -> Result<usize> {
    let Some(s) = raw else {
        return Ok(default);
    };
    let v: usize = s.parse().map_err(|_| {
        Error::invalid_parameter(name, format!("{s:?} is not a non-negative integer"))
    })?;
    if v > max {
        return Err(Error::invalid_parameter(
            name,
            format!("{v} is above the maximum {max}"),
        ));
    }
    Ok(v)
}
