//! Idempotency keys ([`Idempotency`]): the first answer to a request sent with an
//! `Idempotency-Key`, kept per principal (the token's id) and key, so that a retried request is
//! answered again instead of being applied twice.
//!
//! A key's record is written by the write that makes the request's effect, in its transaction
//! ([`KeyWrite`], taken by [`Cases::create_case_keyed`](super::Cases::create_case_keyed),
//! [`Cases::change_case_keyed`](super::Cases::change_case_keyed),
//! [`Field::add_checkin_keyed`](super::Field::add_checkin_keyed) and
//! [`Field::add_tracks_keyed`](super::Field::add_tracks_keyed)): first the key is looked up
//! (a live record is returned as [`Keyed::Replay`] and nothing is written; an expired one is
//! deleted), then the effect is written, then the record. The table's primary key
//! `(principal, idem_key)` decides between two requests racing with one key: the loser's insert
//! fails, its transaction (effect included) rolls back, and the winner's record is returned. So
//! an effect is never stored without its key, nor a key without its effect; a refused request
//! writes neither and leaves the key unused.
//!
//! Table: `idempotency_keys`.

use super::StoreResult;
use chrono::{DateTime, Utc};

/// A request's claim on a key: who, which key, which request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyClaim {
    /// The principal: the id of the token the request was sent with.
    pub principal: i64,
    /// The key (1 to 128 printable ASCII characters).
    pub key: String,
    /// The route: method and path, with the query if any (`POST /api/v1/cases`).
    pub route: String,
    /// SHA-256 of the request body, lowercase hex.
    pub request_sha256: String,
    /// The time of the request, recorded as the key's creation.
    pub now: DateTime<Utc>,
    /// Records created before this have expired: they are ignored and replaced.
    pub fresh_after: DateTime<Utc>,
}

/// The answer recorded with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status (201, 200).
    pub status: u16,
    /// The answer's JSON body.
    pub body: String,
    /// The resource the request made or changed (a case, a check-in), if any.
    pub resource_id: Option<i64>,
}

/// A key as stored: the request it was used for and the answer given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The route of the first request.
    pub route: String,
    /// SHA-256 of the first request's body.
    pub request_sha256: String,
    /// The answer to it.
    pub answer: Answer,
    /// When it was answered.
    pub created_at: DateTime<Utc>,
}

/// The outcome of a write made with a key: done now, or done before (nothing written now).
#[derive(Debug, Clone, PartialEq)]
pub enum Keyed<T> {
    /// The effect was written now (with the key's record, if a key was given).
    Done(T),
    /// The key was already used: its record, nothing written.
    Replay(KeyRecord),
}

/// A key to record with a write: the claim and how to make the answer from the write's result
/// (called inside the transaction).
pub struct KeyWrite<'a, T: ?Sized> {
    /// The claim.
    pub claim: &'a KeyClaim,
    /// The answer to record, from what was written.
    pub answer: &'a dyn Fn(&T) -> StoreResult<Answer>,
}

/// [`KeyWrite`] owning its parts, for a write that another thread may make (a group commit:
/// [`Field::add_checkin_keyed`](super::Field::add_checkin_keyed)).
pub struct OwnedKeyWrite<T: ?Sized> {
    /// The claim.
    pub claim: KeyClaim,
    /// The answer to record, from what was written.
    #[allow(clippy::type_complexity)]
    pub answer: Box<dyn Fn(&T) -> StoreResult<Answer> + Send + Sync>,
}

impl<T: ?Sized> OwnedKeyWrite<T> {
    /// Borrowed as a [`KeyWrite`].
    pub fn as_write(&self) -> KeyWrite<'_, T> {
        KeyWrite {
            claim: &self.claim,
            answer: &*self.answer,
        }
    }
}

/// Idempotency keys: read one, purge old ones. (They are written by the keyed writes.)
pub trait Idempotency {
    /// The record of `key` of `principal`, if any (expired or not: the caller compares
    /// `created_at`).
    fn idempotency_key(&self, principal: i64, key: &str) -> StoreResult<Option<KeyRecord>>;

    /// Deletes at most `limit` records created before `before`, oldest first; returns how many.
    fn purge_idempotency_keys(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<usize>;
}
