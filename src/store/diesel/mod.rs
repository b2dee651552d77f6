//! The diesel code of every aggregate: rows, queries and the `impl`s of the aggregate traits
//! ([`Boundaries`], [`Access`], [`Categories`], [`Cases`]) and of the umbrella [`Store`], one file
//! per aggregate.
//!
//! It is written once and compiled once per backend, as a module of `sqlite.rs` and of
//! `postgres.rs` (`#[path = "diesel/mod.rs"] mod imp;`), against what the backend module defines:
//! `schema` (its diesel schema), `Conn` (its connection), `Db` (its store, with `conn()` and
//! `watch_impl`), `BACKEND`, `write_tx` (a write transaction that serialises publishes),
//! `announce` (tell other processes about a new generation), `case_tx` and `lock_case` (a case
//! write transaction and row lock), `snapshot_tx` (a read-only transaction that sees one
//! snapshot), `insert_components` (the bulk write of a register: COPY on PostgreSQL), `group_checkins` (how check-ins are committed: grouped on SQLite) and `db_err` (a diesel error, corruption recognised).
//!
//! Why not one backend-generic implementation: diesel's `MultiConnection` cannot carry the
//! PostgreSQL-only `Timestamptz` columns (a shared SQL type cannot get `AsExpression` for
//! `chrono::DateTime`: orphan rules) and does not compile SQLite multi-row INSERTs through its
//! multi-backend (`BatchInsert` for `Sqlite`), which publishing relies on; generic functions over
//! `C: Connection<Backend = B>` would need one schema and a `where` clause per query. A module
//! compiled per backend keeps one text of every query, formatted and linted like the rest.
//!
//! A new aggregate adds its file here (`mod <aggregate>;`), beside its trait in
//! `src/store/<aggregate>.rs`.

mod access;
mod assets;
mod boundaries;
mod cases;
mod categories;
mod facts;
mod field;
mod idempotency;
mod photos;
mod reviews;

pub(in crate::store) use assets::NewComponentRow;
pub(in crate::store) use boundaries::{current_number, generations_after};
pub(in crate::store) use field::CheckInItem;

use super::{
    BACKEND, Conn, Db, announce, case_tx, db_err, group_checkins, insert_components, lock_case,
    schema, snapshot_tx, write_tx,
};
use crate::cases::workflow::{Refusal, Step};
use crate::cases::{Case, CaseFilter, Event, Feedback, NewCase, Visibility};
use crate::model::{Feature, FeatureSet};
use crate::routing::categories::Category;
use crate::store::convert::{self, Columns};
use crate::store::{
    Access, Boundaries, Cases, Categories, DraftId, DraftInfo, GenerationInfo, GenerationNo,
    LayerChanges, NewDraft, Setting, Store, StoreError, StoreResult, Subject, Token,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use postgis_diesel::types as pd;
use std::collections::{BTreeMap, HashMap};

/// Rows per multi-row INSERT: 12 bound values each stays under SQLite's 32,766 and
/// PostgreSQL's 65,535 parameters.
const INSERT_CHUNK: usize = 2000;
/// Ids per `IN (…)` list.
const ID_CHUNK: usize = 10_000;

fn count_usize(n: i32, what: &str) -> StoreResult<usize> {
    usize::try_from(n).map_err(|_| StoreError::Data(format!("{what} is negative: {n}")))
}

fn count_i32(n: usize, what: &str) -> StoreResult<i32> {
    i32::try_from(n).map_err(|_| StoreError::InvalidDraft(format!("too many {what}: {n}")))
}

impl Store for Db {
    fn backend(&self) -> crate::store::Backend {
        BACKEND
    }

    fn connections(&self) -> usize {
        self.pool.max_size() as usize
    }
}

fn corrupt_row(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        path: "cases".into(),
        detail: what.to_string(),
    }
}
