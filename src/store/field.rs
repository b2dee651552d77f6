//! The field aggregate: the staff roster, the duty roster, check-ins and patrol tracks
//! ([`Field`]). The rules (attendance, cleaning, paths, coverage) are [`crate::field`]; this
//! keeps what was decided and recorded.
//!
//! Tracks are kept as chunks: one row per person, ingested batch and local day, holding the
//! cleaned fixes as one MultiPoint M geometry (M = seconds since the Unix epoch, to the
//! millisecond) with the chunk's time span and bounding box, so a period's tracks of an area
//! are read without decoding others. The device's accuracy is not kept once a fix passed it.
//!
//! Tables: `staff`, `duty`, `checkins`, `tracks`.

use super::{KeyWrite, Keyed, OwnedKeyWrite, StoreResult};
use crate::field::duty::{CheckIn, DutyEntry};
use crate::field::roster::Staff;
use crate::field::{Fix, Track};
use chrono::{DateTime, NaiveDate, Utc};

/// Which tracks to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackQuery<'a> {
    /// Fixes at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Fixes before this time.
    pub to: Option<DateTime<Utc>>,
    /// Of these people only (`None`: anyone).
    pub staff: Option<&'a [String]>,
    /// Chunks whose bounding box meets this one `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
}

/// What [`Field::checkin_context`] reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckInContext {
    /// The person (`None`: no such 工号).
    pub staff: Option<Staff>,
    /// The stored field settings as JSON (`None`: none stored).
    pub settings: Option<String>,
    /// Their latest position at or before the check-in's time.
    pub last_position: Option<Fix>,
    /// Their duty entries of the dates asked for, by date then shift.
    pub duty: Vec<DutyEntry>,
}

/// The field force.
pub trait Field {
    /// Replaces the staff of `streets` (every street when `None`) with `staff` (which must all
    /// belong to those streets) in one transaction.
    fn replace_staff(&self, streets: Option<&[String]>, staff: &[Staff]) -> StoreResult<()>;

    /// The staff of `streets` (everyone when `None`), by 工号.
    fn staff(&self, streets: Option<&[String]>) -> StoreResult<Vec<Staff>>;

    /// One person, by 工号.
    fn staff_member(&self, id: &str) -> StoreResult<Option<Staff>>;

    /// Replaces the duty entries of `staff` on the dates `from..=to` with `entries`.
    fn replace_duty(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        staff: &[String],
        entries: &[DutyEntry],
    ) -> StoreResult<()>;

    /// Duty entries on the dates `from..=to` (of one person when `staff` is given), by date,
    /// then person.
    fn duty(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        staff: Option<&str>,
    ) -> StoreResult<Vec<DutyEntry>>;

    /// Records a check-in; returns its id.
    fn add_checkin(&self, checkin: &CheckIn) -> StoreResult<i64>;

    /// [`Field::add_checkin`] with an idempotency key recorded in its transaction (see
    /// [`super::Idempotency`]): a key already used gives its record and stores nothing.
    /// SQLite writes check-ins that arrive together in one transaction (a group commit, each in
    /// a savepoint of its own: one refused leaves the others written); hence the owned key.
    fn add_checkin_keyed(
        &self,
        checkin: &CheckIn,
        key: Option<OwnedKeyWrite<i64>>,
    ) -> StoreResult<Keyed<i64>>;

    /// Check-ins with `from <= t < to` (of one person when `staff` is given), by time.
    fn checkins(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        staff: Option<&str>,
    ) -> StoreResult<Vec<CheckIn>>;

    /// The latest stored position of a person at or before `at`: their last kept fix or
    /// check-in, whichever is later, the fix on a tie (for the speed check of the next one).
    /// Each person's newest position is kept in the table `positions` by the stores' triggers, so
    /// a time at or after it is one primary-key read.
    fn last_position(&self, staff: &str, at: DateTime<Utc>) -> StoreResult<Option<Fix>>;

    /// What a check-in reads, on one connection: the person ([`Field::staff_member`]), the
    /// stored field settings ([`super::Categories::setting`] of [`super::Setting::Field`]),
    /// their [`Field::last_position`] at `at` and their duty entries of the dates `from..=to`
    /// ([`Field::duty`]). One call instead of four, and on both stores one statement (a join
    /// the stores keep prepared) unless the position must be searched (a check-in dated before
    /// the person's newest): on PostgreSQL each statement is a round trip, and a check-in is
    /// the busiest write there is.
    fn checkin_context(
        &self,
        staff: &str,
        at: DateTime<Utc>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<CheckInContext>;

    /// Stores track chunks (each non-empty, fixes by time) in one transaction.
    fn add_tracks(&self, tracks: &[Track]) -> StoreResult<()>;

    /// [`Field::add_tracks`] with an idempotency key recorded in its transaction (see
    /// [`super::Idempotency`]): a key already used gives its record and stores nothing.
    fn add_tracks_keyed(
        &self,
        tracks: &[Track],
        key: Option<&KeyWrite<'_, ()>>,
    ) -> StoreResult<Keyed<()>>;

    /// The tracks `query` asks for, fixes outside its period left out, one [`Track`] per stored
    /// chunk, by person then time.
    fn tracks(&self, query: &TrackQuery<'_>) -> StoreResult<Vec<Track>>;

    /// Deletes the fixes and check-ins older than `before` (chunks wholly before it; a chunk
    /// straddling it is kept whole); returns how many chunks and check-ins went.
    fn purge_field(&self, before: DateTime<Utc>) -> StoreResult<(usize, usize)>;

    /// Bytes the track chunks' fixes take as stored (the geometry values), and the number of
    /// fixes: for the benchmark of bytes per fix.
    fn track_bytes(&self) -> StoreResult<(u64, u64)>;
}
