//! The field force in diesel: staff and duty replaced per street and period, check-ins
//! appended, track chunks as MultiPoint M geometries read by period, person and bounding box,
//! and the purge of old fixes and check-ins.

use super::*;
use crate::field::duty::{CheckIn, DutyEntry};
use crate::field::roster::{OrgKind, Staff};
use crate::field::{Fix, Track};
use crate::store::field::{CheckInContext, Field, TrackQuery};
use crate::store::{KeyWrite, Keyed, OwnedKeyWrite};
use chrono::NaiveDate;

/// Rows per multi-row INSERT (at most 10 bound values each).
const FIELD_CHUNK: usize = 2000;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::staff, treat_none_as_default_value = false)]
struct StaffRow {
    id: String,
    name: String,
    phone: Option<String>,
    role: String,
    org: String,
    org_kind: String,
    team: Option<String>,
    street: String,
    areas: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::duty)]
struct DutyRow {
    staff: String,
    date: NaiveDate,
    shift: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::checkins)]
struct CheckInRow {
    id: i64,
    staff: String,
    t: DateTime<Utc>,
    punch: String,
    lon: f64,
    lat: f64,
    accuracy_m: Option<f64>,
    place: String,
    distance_m: Option<f64>,
    area: Option<String>,
    class: String,
    shift_date: Option<NaiveDate>,
    shift: Option<String>,
    recorded_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = schema::checkins, treat_none_as_default_value = false)]
struct NewCheckInRow<'a> {
    staff: &'a str,
    t: DateTime<Utc>,
    punch: &'a str,
    lon: f64,
    lat: f64,
    accuracy_m: Option<f64>,
    place: &'a str,
    distance_m: Option<f64>,
    area: Option<&'a str>,
    class: &'a str,
    shift_date: Option<NaiveDate>,
    shift: Option<&'a str>,
    recorded_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::tracks)]
struct TrackRow {
    staff: String,
    fixes: pd::MultiPoint<pd::PointM>,
}

#[derive(Insertable)]
#[diesel(table_name = schema::tracks)]
struct NewTrackRow<'a> {
    staff: &'a str,
    t_from: DateTime<Utc>,
    t_to: DateTime<Utc>,
    n: i32,
    min_lon: f64,
    min_lat: f64,
    max_lon: f64,
    max_lat: f64,
    fixes: pd::MultiPoint<pd::PointM>,
    last_lon: Option<f64>,
    last_lat: Option<f64>,
}

fn bad(what: impl std::fmt::Display) -> StoreError {
    StoreError::Data(format!("field: {what}"))
}

fn staff_row(s: &Staff) -> StoreResult<StaffRow> {
    Ok(StaffRow {
        id: s.id.clone(),
        name: s.name.clone(),
        phone: s.phone.clone(),
        role: s.role.as_str().to_owned(),
        org: s.org.clone(),
        org_kind: s.org_kind.as_str().to_owned(),
        team: s.team.clone(),
        street: s.street.clone(),
        areas: convert::try_json("staff areas", &s.areas)?,
    })
}

fn staff_from_row(r: StaffRow) -> StoreResult<Staff> {
    Ok(Staff {
        role: r
            .role
            .parse()
            .map_err(|()| bad(format!("staff {}: role {:?}", r.id, r.role)))?,
        org_kind: OrgKind::parse(&r.org_kind)
            .ok_or_else(|| bad(format!("staff {}: org_kind {:?}", r.id, r.org_kind)))?,
        areas: serde_json::from_str(&r.areas)
            .map_err(|e| bad(format!("staff {}: areas: {e}", r.id)))?,
        id: r.id,
        name: r.name,
        phone: r.phone,
        org: r.org,
        team: r.team,
        street: r.street,
    })
}

fn checkin_from_row(r: CheckInRow) -> StoreResult<CheckIn> {
    let id = r.id;
    Ok(CheckIn {
        id,
        punch: r
            .punch
            .parse()
            .map_err(|e| bad(format!("check-in {id}: {e}")))?,
        place: r
            .place
            .parse()
            .map_err(|e| bad(format!("check-in {id}: {e}")))?,
        class: r
            .class
            .parse()
            .map_err(|e| bad(format!("check-in {id}: {e}")))?,
        staff: r.staff,
        t: r.t,
        lon: r.lon,
        lat: r.lat,
        accuracy_m: r.accuracy_m,
        distance_m: r.distance_m,
        area: r.area,
        shift_date: r.shift_date,
        shift: r.shift,
        recorded_at: r.recorded_at,
    })
}

/// Milliseconds since the epoch as a time (clamped to chrono's range, which fixes never leave:
/// the service bounds them).
fn at_ms(t_ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t_ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn track_row(t: &Track) -> StoreResult<NewTrackRow<'_>> {
    let (first, last) = match (t.fixes.first(), t.fixes.last()) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(bad(format!("an empty track chunk of {}", t.staff))),
    };
    let mut bbox = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for f in &t.fixes {
        bbox[0] = bbox[0].min(f.lon);
        bbox[1] = bbox[1].min(f.lat);
        bbox[2] = bbox[2].max(f.lon);
        bbox[3] = bbox[3].max(f.lat);
    }
    Ok(NewTrackRow {
        staff: &t.staff,
        t_from: at_ms(first.t_ms),
        t_to: at_ms(last.t_ms),
        n: count_i32(t.fixes.len(), "fixes in one chunk")?,
        min_lon: bbox[0],
        min_lat: bbox[1],
        max_lon: bbox[2],
        max_lat: bbox[3],
        fixes: pd::MultiPoint {
            points: t
                .fixes
                .iter()
                .map(|f| pd::PointM {
                    x: f.lon,
                    y: f.lat,
                    m: f.t_ms as f64 / 1000.0,
                    srid: None,
                })
                .collect(),
            srid: Some(convert::SRID),
        },
        last_lon: Some(last.lon),
        last_lat: Some(last.lat),
    })
}

/// A track chunk's id, end time and last fix (absent on chunks written before it was kept).
type ChunkEnd = (i64, DateTime<Utc>, Option<f64>, Option<f64>);

fn fixes_of(mp: &pd::MultiPoint<pd::PointM>) -> Vec<Fix> {
    mp.points
        .iter()
        .map(|p| Fix {
            t_ms: (p.m * 1000.0).round() as i64,
            lon: p.x,
            lat: p.y,
            accuracy_m: None,
        })
        .collect()
}

/// A check-in to write, with its key: owned, for the backend may write it from another
/// request's thread together with others (`group_checkins`: SQLite's group commit).
pub(in crate::store) struct CheckInItem {
    checkin: CheckIn,
    key: Option<OwnedKeyWrite<i64>>,
}

/// Writes a batch of check-ins in one transaction, each in a savepoint of its own (one refused
/// — its key taken by a racing request — leaves the others written), and returns one result per
/// item, in order. A failed commit fails every item; nothing of the batch is then stored.
pub(in crate::store) fn write_checkins(
    db: &Db,
    batch: Vec<CheckInItem>,
) -> Vec<StoreResult<Keyed<i64>>> {
    let mut conn = match db.conn() {
        Ok(c) => c,
        Err(e) => {
            let msg = e.to_string();
            return batch
                .iter()
                .map(|_| Err(StoreError::Pool(msg.clone())))
                .collect();
        }
    };
    if let [item] = batch.as_slice() {
        // One check-in (PostgreSQL's every one; SQLite's when none arrived with it): no
        // savepoint, and without a key no transaction either (one INSERT is atomic): fewer
        // round trips on the busiest write.
        let key = item.key.as_ref().map(OwnedKeyWrite::as_write);
        let one = match key {
            None => insert_checkin(&mut conn, &item.checkin, None),
            Some(key) => case_tx(&mut conn, |conn| {
                insert_checkin(conn, &item.checkin, Some(&key))
            }),
        };
        return vec![idempotency::settle(
            &mut conn,
            item.key.as_ref().map(|k| &k.claim),
            one,
        )];
    }
    let mut results: Vec<StoreResult<Keyed<i64>>> = Vec::with_capacity(batch.len());
    let committed = case_tx(&mut conn, |conn| {
        for item in &batch {
            let key = item.key.as_ref().map(OwnedKeyWrite::as_write);
            let one = conn.transaction(|conn| insert_checkin(conn, &item.checkin, key.as_ref()));
            results.push(one);
        }
        Ok(())
    });
    if let Err(e) = committed {
        let msg = e.to_string();
        return batch
            .iter()
            .map(|_| {
                Err(StoreError::Backend(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::Unknown,
                    Box::new(format!("the check-ins' transaction failed: {msg}")),
                )))
            })
            .collect();
    }
    batch
        .iter()
        .zip(results)
        .map(|(item, r)| idempotency::settle(&mut conn, item.key.as_ref().map(|k| &k.claim), r))
        .collect()
}

/// One check-in and its key's record, in the caller's transaction.
fn insert_checkin(
    conn: &mut Conn,
    c: &CheckIn,
    key: Option<&KeyWrite<'_, i64>>,
) -> StoreResult<Keyed<i64>> {
    use schema::checkins::dsl as k;
    if let Some(r) = idempotency::replay_of(conn, key.map(|k| k.claim))? {
        return Ok(Keyed::Replay(r));
    }
    let row = NewCheckInRow {
        staff: &c.staff,
        t: c.t,
        punch: c.punch.as_str(),
        lon: c.lon,
        lat: c.lat,
        accuracy_m: c.accuracy_m,
        place: c.place.as_str(),
        distance_m: c.distance_m,
        area: c.area.as_deref(),
        class: c.class.as_str(),
        shift_date: c.shift_date,
        shift: c.shift.as_deref(),
        recorded_at: c.recorded_at,
    };
    let id: i64 = diesel::insert_into(k::checkins)
        .values(&row)
        .returning(k::id)
        .get_result(conn)
        .map_err(db_err)?;
    idempotency::record(conn, key, &id)?;
    Ok(Keyed::Done(id))
}

fn staff_member_on(conn: &mut Conn, id: &str) -> StoreResult<Option<Staff>> {
    use schema::staff::dsl as s;
    s::staff
        .filter(s::id.eq(id))
        .select(StaffRow::as_select())
        .first(conn)
        .optional()
        .map_err(db_err)?
        .map(staff_from_row)
        .transpose()
}

fn duty_on(
    conn: &mut Conn,
    from: NaiveDate,
    to: NaiveDate,
    staff: Option<&str>,
) -> StoreResult<Vec<DutyEntry>> {
    use schema::duty::dsl as d;
    let mut q = d::duty
        .filter(d::date.between(from, to))
        .select(DutyRow::as_select())
        .order((d::date, d::staff, d::shift))
        .into_boxed();
    if let Some(s) = staff {
        q = q.filter(d::staff.eq(s));
    }
    Ok(q.load(conn)
        .map_err(db_err)?
        .into_iter()
        .map(|r| DutyEntry {
            staff: r.staff,
            date: r.date,
            shift: r.shift,
        })
        .collect())
}

/// After an import of the roster (`staff`) or the duty roster (`duty`), committed: on
/// PostgreSQL, the table's statistics as it now is. The check-in's one read
/// ([`Field::checkin_context`]) is a statement every connection keeps with a generic plan; made
/// while the table held a handful of rows, that plan scans it whole, and PostgreSQL replaces a
/// kept plan only when the table's statistics change. These tables grow only by imports, so
/// analysing after each keeps the plan an index lookup at once, without waiting for autovacuum
/// (tests/field.rs, `postgis_checkin_lookups_use_the_index_as_tables_grow`). A few
/// milliseconds for a district's roster. A failure is logged and not returned: the import is
/// committed, and the plan is mended by the next analysis (autovacuum's or the next import's).
/// SQLite has no statistics of these tables and plans with their indexes.
fn analyze_imported(conn: &mut Conn, table: &'static str) {
    if BACKEND != crate::store::Backend::Postgres {
        return;
    }
    if let Err(e) = diesel::sql_query(format!("ANALYZE {table}")).execute(conn) {
        tracing::warn!(table, error = %e, "ANALYZE after an import failed; the rows are written");
    }
}

/// A condition that is always true and makes diesel send its query as a one-off statement
/// (a SQL literal is never kept as a prepared statement), so that PostgreSQL plans it on each
/// call with its parameters and the table's present size.
///
/// For the two newest-row-of-a-person lookups of [`last_position_on`] when `positions` does not
/// answer (a check-in dated before the person's newest position). As cached prepared statements,
/// PostgreSQL switches them to a generic plan after five calls and keeps that plan until the
/// table is next analysed; planned while `checkins` or `tracks` was small (a new district, or
/// just after `ANALYZE` of an empty table), the plan is a sequential scan and a sort, which then
/// reads the whole table on every check-in as it grows: a third of the check-ins of a
/// 1,000/s benchmark did, and the server fell behind. Planned per call, the index on
/// (staff, t) is used as soon as it is cheaper. The cost is the planning, tens of microseconds,
/// in the same round trip (an unnamed statement). SQLite keeps its prepared statements: without
/// statistics (the store never runs its `ANALYZE` on these tables) its planner takes the index.
fn planned_per_call() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql("TRUE")
}

/// The person's newest position at or before `at`: the newer of their newest check-in and the
/// last fix of their newest track chunk by then (a fix on a tie), or none.
///
/// First the row the triggers keep in `positions` (the newest position of all, one primary-key
/// read, a statement planned once): it is the answer when it is not after `at` — every check-in
/// made now — and no row means nothing is stored for the person. Only a time before it (a check-in
/// sent late from a phone that was offline) or a chunk whose last fix is not stored beside it
/// searches `checkins` and `tracks`.
fn last_position_on(conn: &mut Conn, staff: &str, at: DateTime<Utc>) -> StoreResult<Option<Fix>> {
    use schema::positions::dsl as ps;
    let newest: Option<Newest> = ps::positions
        .find(staff)
        .select((ps::t, ps::lon, ps::lat))
        .first(conn)
        .optional()
        .map_err(db_err)?;
    position_by(conn, staff, at, newest)
}

/// A row of `positions`: the newest position's time and, when stored, its place.
type Newest = (DateTime<Utc>, Option<f64>, Option<f64>);

/// The person's latest position at or before `at`, given their row of `positions` (`newest`):
/// that row when it is by `at` and has its place, else (a check-in sent late, or a chunk whose
/// last fix is not stored beside it) the newest check-in and chunk end by `at`, searched.
fn position_by(
    conn: &mut Conn,
    staff: &str,
    at: DateTime<Utc>,
    newest: Option<Newest>,
) -> StoreResult<Option<Fix>> {
    use schema::checkins::dsl as k;
    use schema::tracks::dsl as tr;
    match newest {
        None => return Ok(None),
        Some((t, Some(lon), Some(lat))) if t <= at => {
            return Ok(Some(Fix {
                t_ms: t.timestamp_millis(),
                lon,
                lat,
                accuracy_m: None,
            }));
        }
        Some(_) => {}
    }
    let mut checkin = k::checkins
        .filter(k::staff.eq(staff).and(k::t.le(at)))
        .order(k::t.desc())
        .select((k::t, k::lon, k::lat))
        .into_boxed();
    if BACKEND == crate::store::Backend::Postgres {
        checkin = checkin.filter(planned_per_call());
    }
    let checkin: Option<(DateTime<Utc>, f64, f64)> =
        checkin.first(conn).optional().map_err(db_err)?;
    // The chunk ending last among those that began by `at`. When it also ended by `at` (the
    // usual case: a check-in after the last batch), its last fix is stored beside it and
    // nothing is decoded; a chunk straddling `at`, or one written before the last fix was
    // kept, is decoded to find its last fix by `at`.
    let mut chunk = tr::tracks
        .filter(tr::staff.eq(staff).and(tr::t_from.le(at)))
        .order(tr::t_to.desc())
        .select((tr::id, tr::t_to, tr::last_lon, tr::last_lat))
        .into_boxed();
    if BACKEND == crate::store::Backend::Postgres {
        chunk = chunk.filter(planned_per_call());
    }
    let chunk: Option<ChunkEnd> = chunk.first(conn).optional().map_err(db_err)?;
    let at_ms = at.timestamp_millis();
    let fix = match chunk {
        None => None,
        Some((_, t_to, Some(lon), Some(lat))) if t_to <= at => Some(Fix {
            t_ms: t_to.timestamp_millis(),
            lon,
            lat,
            accuracy_m: None,
        }),
        Some((id, ..)) => {
            let fixes: pd::MultiPoint<pd::PointM> = tr::tracks
                .filter(tr::id.eq(id))
                .select(tr::fixes)
                .first(conn)
                .map_err(db_err)?;
            fixes_of(&fixes).into_iter().rfind(|f| f.t_ms <= at_ms)
        }
    };
    let checkin = checkin.map(|(t, lon, lat)| Fix {
        t_ms: t.timestamp_millis(),
        lon,
        lat,
        accuracy_m: None,
    });
    Ok(match (fix, checkin) {
        (Some(a), Some(b)) => Some(if a.t_ms >= b.t_ms { a } else { b }),
        (a, b) => a.or(b),
    })
}

impl Field for Db {
    fn replace_staff(&self, streets: Option<&[String]>, staff: &[Staff]) -> StoreResult<()> {
        use schema::staff::dsl as s;
        let rows = staff
            .iter()
            .map(staff_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            match streets {
                None => diesel::delete(s::staff).execute(conn),
                Some(streets) => {
                    diesel::delete(s::staff.filter(s::street.eq_any(streets))).execute(conn)
                }
            }
            .map_err(db_err)?;
            for chunk in rows.chunks(FIELD_CHUNK) {
                diesel::insert_into(s::staff)
                    .values(chunk)
                    .execute(conn)
                    .map_err(|e| match e {
                        diesel::result::Error::DatabaseError(
                            diesel::result::DatabaseErrorKind::UniqueViolation,
                            _,
                        ) => StoreError::Conflict(
                            "a 工号 of the import is already used by a person of another street"
                                .into(),
                        ),
                        e => db_err(e),
                    })?;
            }
            Ok(())
        })?;
        analyze_imported(&mut conn, "staff");
        Ok(())
    }

    fn staff(&self, streets: Option<&[String]>) -> StoreResult<Vec<Staff>> {
        use schema::staff::dsl as s;
        let mut conn = self.conn()?;
        let mut q = s::staff
            .select(StaffRow::as_select())
            .order(s::id)
            .into_boxed();
        if let Some(streets) = streets {
            q = q.filter(s::street.eq_any(streets));
        }
        q.load(&mut conn)
            .map_err(db_err)?
            .into_iter()
            .map(staff_from_row)
            .collect()
    }

    fn staff_member(&self, id: &str) -> StoreResult<Option<Staff>> {
        staff_member_on(&mut *self.conn()?, id)
    }

    fn replace_duty(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        staff: &[String],
        entries: &[DutyEntry],
    ) -> StoreResult<()> {
        use schema::duty::dsl as d;
        let rows: Vec<DutyRow> = entries
            .iter()
            .map(|e| DutyRow {
                staff: e.staff.clone(),
                date: e.date,
                shift: e.shift.clone(),
            })
            .collect();
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            for ids in staff.chunks(ID_CHUNK) {
                diesel::delete(d::duty.filter(d::date.between(from, to).and(d::staff.eq_any(ids))))
                    .execute(conn)
                    .map_err(db_err)?;
            }
            for chunk in rows.chunks(FIELD_CHUNK) {
                diesel::insert_into(d::duty)
                    .values(chunk)
                    .execute(conn)
                    .map_err(db_err)?;
            }
            Ok(())
        })?;
        analyze_imported(&mut conn, "duty");
        Ok(())
    }

    fn duty(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        staff: Option<&str>,
    ) -> StoreResult<Vec<DutyEntry>> {
        duty_on(&mut *self.conn()?, from, to, staff)
    }

    fn add_checkin(&self, c: &CheckIn) -> StoreResult<i64> {
        match self.add_checkin_keyed(c, None)? {
            Keyed::Done(id) => Ok(id),
            Keyed::Replay(_) => Err(bad("a check-in without a key was answered by a key")),
        }
    }

    fn add_checkin_keyed(
        &self,
        c: &CheckIn,
        key: Option<OwnedKeyWrite<i64>>,
    ) -> StoreResult<Keyed<i64>> {
        let item = CheckInItem {
            checkin: c.clone(),
            key,
        };
        group_checkins(self, item, |batch| write_checkins(self, batch))
    }

    fn checkins(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        staff: Option<&str>,
    ) -> StoreResult<Vec<CheckIn>> {
        use schema::checkins::dsl as k;
        let mut conn = self.conn()?;
        let mut q = k::checkins
            .filter(k::t.ge(from).and(k::t.lt(to)))
            .select(CheckInRow::as_select())
            .order((k::t, k::id))
            .into_boxed();
        if let Some(s) = staff {
            q = q.filter(k::staff.eq(s));
        }
        q.load(&mut conn)
            .map_err(db_err)?
            .into_iter()
            .map(checkin_from_row)
            .collect()
    }

    fn last_position(&self, staff: &str, at: DateTime<Utc>) -> StoreResult<Option<Fix>> {
        last_position_on(&mut *self.conn()?, staff, at)
    }

    fn checkin_context(
        &self,
        staff: &str,
        at: DateTime<Utc>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<CheckInContext> {
        use schema::duty::dsl as d;
        use schema::positions::dsl as ps;
        use schema::settings::dsl as st;
        use schema::staff::dsl as s;
        // One statement for the four reads (one round trip on PostgreSQL, a statement both
        // stores keep prepared): the person by primary key, their row of `positions` and the
        // field settings beside it, and one row per duty entry of the dates (none: one row with
        // no entry). Every part is an index lookup whatever the tables' sizes, so the plan
        // PostgreSQL keeps for it holds (tests/field.rs grows the tables under a kept plan).
        type Row = (
            StaffRow,
            Option<Newest>,
            Option<String>,
            Option<(NaiveDate, String)>,
        );
        let mut conn = self.conn()?;
        let rows: Vec<Row> = s::staff
            .left_join(ps::positions.on(ps::staff.eq(s::id)))
            .left_join(d::duty.on(d::staff.eq(s::id).and(d::date.ge(from)).and(d::date.le(to))))
            .filter(s::id.eq(staff))
            .select((
                StaffRow::as_select(),
                (ps::t, ps::lon, ps::lat).nullable(),
                st::settings
                    .filter(st::key.eq(Setting::Field.key()))
                    .select(st::body)
                    .single_value(),
                (d::date, d::shift).nullable(),
            ))
            .load(&mut conn)
            .map_err(db_err)?;
        let mut duty: Vec<DutyEntry> = rows
            .iter()
            .filter_map(|(_, _, _, entry)| entry.as_ref())
            .map(|(date, shift)| DutyEntry {
                staff: staff.to_owned(),
                date: *date,
                shift: shift.clone(),
            })
            .collect();
        duty.sort_by(|a, b| (a.date, &a.shift).cmp(&(b.date, &b.shift)));
        let Some((person, newest, settings, _)) = rows.into_iter().next() else {
            return Ok(CheckInContext::default());
        };
        Ok(CheckInContext {
            settings,
            last_position: position_by(&mut conn, staff, at, newest)?,
            duty,
            staff: Some(staff_from_row(person)?),
        })
    }

    fn add_tracks(&self, tracks: &[Track]) -> StoreResult<()> {
        match self.add_tracks_keyed(tracks, None)? {
            Keyed::Done(()) => Ok(()),
            Keyed::Replay(_) => Err(bad("fixes without a key were answered by a key")),
        }
    }

    fn add_tracks_keyed(
        &self,
        tracks: &[Track],
        key: Option<&KeyWrite<'_, ()>>,
    ) -> StoreResult<Keyed<()>> {
        use schema::tracks::dsl as tr;
        let rows = tracks
            .iter()
            .map(track_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut conn = self.conn()?;
        let claim = key.map(|k| k.claim);
        let written = case_tx(&mut conn, |conn| {
            if let Some(r) = idempotency::replay_of(conn, claim)? {
                return Ok(Keyed::Replay(r));
            }
            for chunk in rows.chunks(FIELD_CHUNK) {
                diesel::insert_into(tr::tracks)
                    .values(chunk)
                    .execute(conn)
                    .map_err(db_err)?;
            }
            idempotency::record(conn, key, &())?;
            Ok(Keyed::Done(()))
        });
        idempotency::settle(&mut conn, claim, written)
    }

    fn tracks(&self, query: &TrackQuery<'_>) -> StoreResult<Vec<Track>> {
        use schema::tracks::dsl as tr;
        let mut conn = self.conn()?;
        let base = || {
            let mut q = tr::tracks
                .select(TrackRow::as_select())
                .order((tr::staff, tr::t_from, tr::id))
                .into_boxed();
            if let Some(from) = query.from {
                q = q.filter(tr::t_to.ge(from));
            }
            if let Some(to) = query.to {
                q = q.filter(tr::t_from.lt(to));
            }
            if let Some([x0, y0, x1, y1]) = query.bbox {
                q = q.filter(
                    tr::max_lon
                        .ge(x0)
                        .and(tr::min_lon.le(x1))
                        .and(tr::max_lat.ge(y0))
                        .and(tr::min_lat.le(y1)),
                );
            }
            q
        };
        let rows: Vec<TrackRow> = match query.staff {
            None => base().load(&mut conn).map_err(db_err)?,
            Some(ids) => {
                let mut all = Vec::new();
                for chunk in ids.chunks(ID_CHUNK) {
                    all.extend(
                        base()
                            .filter(tr::staff.eq_any(chunk))
                            .load(&mut conn)
                            .map_err(db_err)?,
                    );
                }
                all.sort_by(|a, b| a.staff.cmp(&b.staff));
                all
            }
        };
        let (from, to) = (
            query.from.map(|t| t.timestamp_millis()),
            query.to.map(|t| t.timestamp_millis()),
        );
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut fixes = fixes_of(&r.fixes);
                fixes.retain(|f| from.is_none_or(|a| f.t_ms >= a) && to.is_none_or(|b| f.t_ms < b));
                Track {
                    staff: r.staff,
                    fixes,
                }
            })
            .filter(|t| !t.fixes.is_empty())
            .collect())
    }

    fn purge_field(&self, before: DateTime<Utc>) -> StoreResult<(usize, usize)> {
        use schema::checkins::dsl as k;
        use schema::positions::dsl as ps;
        use schema::tracks::dsl as tr;
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            let chunks = diesel::delete(tr::tracks.filter(tr::t_to.lt(before)))
                .execute(conn)
                .map_err(db_err)?;
            let checkins = diesel::delete(k::checkins.filter(k::t.lt(before)))
                .execute(conn)
                .map_err(db_err)?;
            // a newest position older than the retention: everything it came from went above
            diesel::delete(ps::positions.filter(ps::t.lt(before)))
                .execute(conn)
                .map_err(db_err)?;
            Ok((chunks, checkins))
        })
    }

    fn track_bytes(&self) -> StoreResult<(u64, u64)> {
        #[derive(QueryableByName)]
        struct Sizes {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            bytes: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            fixes: i64,
        }
        let size = match BACKEND {
            crate::store::Backend::Postgres => "pg_column_size(fixes)",
            crate::store::Backend::Sqlite => "length(fixes)",
        };
        let mut conn = self.conn()?;
        let s: Sizes = diesel::sql_query(format!(
            "SELECT CAST(COALESCE(SUM({size}), 0) AS BIGINT) AS bytes, \
             CAST(COALESCE(SUM(n), 0) AS BIGINT) AS fixes FROM tracks"
        ))
        .get_result(&mut conn)
        .map_err(db_err)?;
        let count = |n: i64, what: &str| {
            u64::try_from(n).map_err(|_| StoreError::Data(format!("{what} is negative: {n}")))
        };
        Ok((
            count(s.bytes, "the tracks' bytes")?,
            count(s.fixes, "the tracks' fix count")?,
        ))
    }
}
