//! The field force's flows, for the CLI and HTTP alike: the settings, the staff roster (import
//! and export, scoped by street), the duty roster, check-in (电子考勤: where the point lies
//! against the person's assigned areas, which shift it counts for, its class), fix ingest
//! (cleaned per person, stored in chunks per local day), attendance per person, team, grid and
//! street, tracks, geofence events, coverage, the current shift's task list, and the purge of
//! old fixes.
//!
//! Who may do what:
//!
//! | what | who |
//! |---|---|
//! | settings, roster of any street | admin |
//! | roster and duty of its streets | dispatcher |
//! | check in, send fixes | the person's own `grid_worker` token (`subject` = 工号); admin; fixes also a dispatcher for its streets' people (a device gateway) |
//! | check-ins, tracks, per-person attendance and coverage (personal data) | admin, supervisor, the street's dispatcher |
//! | attendance and coverage aggregates | any token that reads cases |

use super::access::{Caller, Role};
use super::error::{Error, Result};
use super::idempotency::{self, Outcome};
use crate::atlas::{Atlas, FeatureId};
use crate::field::duty::{
    CheckIn, Class, DutyEntry, FieldSettings, Place, Punch, Span, attendance, classify,
};
use crate::field::roster::{MAX_STAFF, Staff};
use crate::field::{Fix, FixRules, Track, clean, distance_m, speed_kmh};
use crate::geometry::crs::Crs;
use crate::model::Layer;
use crate::store::{KeyClaim, KeyWrite, OwnedKeyWrite, Setting, Store, TrackQuery};
use crate::wire::field as w;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Most fixes in one ingest.
pub const MAX_FIXES: usize = 500_000;
/// Most days one attendance or coverage query spans.
pub const MAX_PERIOD_DAYS: i64 = 31;

/// The roles that read personal data of the field force.
pub const PERSONAL: [Role; 3] = [Role::Admin, Role::Supervisor, Role::Dispatcher];

/// The field settings in force: the store's, or the example shipped with gridatlas (`true`).
pub fn settings(store: &dyn Store) -> Result<(FieldSettings, bool)> {
    settings_of(store.setting(Setting::Field)?.as_deref())
}

/// The field settings of their stored JSON (`None`: the example's), and whether they are the
/// example's.
fn settings_of(stored: Option<&str>) -> Result<(FieldSettings, bool)> {
    match stored {
        Some(json) => FieldSettings::from_json(json)
            .map(|s| (s, false))
            .map_err(|e| Error::internal(format!("the stored field settings: {e}"))),
        None => FieldSettings::from_json(crate::field::duty::EXAMPLE)
            .map(|s| (s, true))
            .map_err(|e| Error::internal(format!("the example field settings: {e}"))),
    }
}

/// Replaces the field settings (admin).
pub fn replace_settings(store: &dyn Store, caller: &Caller, json: &str) -> Result<FieldSettings> {
    caller.require(Role::Admin)?;
    let s = FieldSettings::from_json(json)
        .map_err(|e| Error::unprocessable(format!("field settings: {e}")))?;
    let text = serde_json::to_string(&s).map_err(Error::internal)?;
    store.replace_setting(Setting::Field, &text)?;
    Ok(s)
}

/// Whether the caller may read the personal data of people of `street`.
pub fn reads_personal(caller: &Caller, street: &str) -> bool {
    caller.is_admin()
        || caller.has(Role::Supervisor)
        || (caller.has(Role::Dispatcher) && caller.has_street(Some(street)))
}

/// The 工号 a `grid_worker` token stands for (its `subject`).
fn own_staff(caller: &Caller) -> Option<&str> {
    caller
        .token
        .as_ref()
        .filter(|t| t.role == Role::GridWorker.as_str())
        .and_then(|t| t.subject.as_deref())
}

/// Whether the caller may act for `staff` (check in, send fixes): the person's own token or an
/// admin; with `gateway`, also a dispatcher of the person's street.
fn acts_for(caller: &Caller, staff: &Staff, gateway: bool) -> bool {
    caller.is_admin()
        || own_staff(caller) == Some(staff.id.as_str())
        || (gateway && caller.has(Role::Dispatcher) && caller.has_street(Some(&staff.street)))
}

fn person(store: &dyn Store, id: &str) -> Result<Staff> {
    store
        .staff_member(id)?
        .ok_or_else(|| Error::not_found(format!("no staff member with 工号 {id:?}")))
}

/// Checks a roster against the atlas: every person valid, 工号 unique, their street a street and
/// their areas grids, blocks, road segments or management units of the atlas.
pub fn check_roster(staff: &[Staff], atlas: &Atlas) -> Result<()> {
    if staff.len() > MAX_STAFF {
        return Err(Error::too_large(format!(
            "the roster has {} people; at most {MAX_STAFF} in one import",
            staff.len()
        )));
    }
    let units: BTreeSet<&str> = atlas
        .features()
        .management_units
        .iter()
        .map(|u| u.code.as_str())
        .collect();
    let mut seen = HashMap::new();
    let mut problems = Vec::new();
    for (i, s) in staff.iter().enumerate() {
        let at = format!("staff[{i}] ({})", s.id);
        if let Err(e) = s.check() {
            problems.push(format!("{at}: {e}"));
            continue;
        }
        if let Some(j) = seen.insert(s.id.as_str(), i) {
            problems.push(format!("{at}: 工号 {} is also staff[{j}]", s.id));
        }
        let street_ok = atlas
            .find(&s.street)
            .is_some_and(|id| atlas.feature(id).layer == Layer::Street);
        if !street_ok {
            problems.push(format!(
                "{at}: street {:?} is not a street of the atlas",
                s.street
            ));
        }
        for a in &s.areas {
            let ok = units.contains(a.as_str())
                || atlas.find(a).is_some_and(|id| {
                    let l = atlas.feature(id).layer;
                    l.is_grid() || l == Layer::Block || l == Layer::RoadSegment
                });
            if !ok {
                problems.push(format!(
                    "{at}: area {a:?} is not a grid, block, road segment or management unit"
                ));
            }
        }
        if problems.len() >= 100 {
            break;
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::unprocessable(format!(
        "the roster has {} problem(s); first: {}",
        problems.len(),
        problems[0]
    ))
    .with_extra(serde_json::json!({ "problems": problems })))
}

/// Imports a roster: replaces the staff of `streets` (default: the streets of the people
/// given) with `staff`. Admin: any street; a dispatcher: its streets only — checked against
/// every street replaced and every person's street.
pub fn import_staff(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    streets: Option<Vec<String>>,
    staff: Vec<Staff>,
) -> Result<w::StaffImported> {
    caller.require_any(&[Role::Admin, Role::Dispatcher])?;
    check_roster(&staff, atlas)?;
    let streets: Vec<String> = match streets {
        Some(s) => s,
        None => staff
            .iter()
            .map(|s| s.street.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    if let Some(s) = staff.iter().find(|s| !streets.contains(&s.street)) {
        return Err(Error::unprocessable(format!(
            "staff {} belongs to street {}, which is not among the streets replaced ({})",
            s.id,
            s.street,
            streets.join(", ")
        )));
    }
    if let Some(s) = streets.iter().find(|s| !caller.has_street(Some(s))) {
        return Err(Error::forbidden(format!(
            "this token may not change the roster of street {s}"
        )));
    }
    store.replace_staff(Some(&streets), &staff)?;
    Ok(w::StaffImported {
        staff: staff.len(),
        streets,
    })
}

/// The roster (of one street) by 工号.
fn roster_by_id(store: &dyn Store, street: Option<&str>) -> Result<HashMap<String, Staff>> {
    let streets = street.map(|s| vec![s.to_owned()]);
    Ok(store
        .staff(streets.as_deref())?
        .into_iter()
        .map(|s| (s.id.clone(), s))
        .collect())
}

/// The roster (admin, supervisor, dispatchers: their streets' people).
pub fn list_staff(store: &dyn Store, caller: &Caller, street: Option<&str>) -> Result<Vec<Staff>> {
    caller.require_any(&PERSONAL)?;
    let streets = street.map(|s| vec![s.to_owned()]);
    let mut staff = store.staff(streets.as_deref())?;
    staff.retain(|s| reads_personal(caller, &s.street));
    Ok(staff)
}

/// Replaces the duty entries of the people named in `input` on `from..=to` (admin, or a
/// dispatcher for its streets' people); every entry's shift must be one of its person's team.
pub fn put_duty(store: &dyn Store, caller: &Caller, input: &w::DutyInput) -> Result<usize> {
    caller.require_any(&[Role::Admin, Role::Dispatcher])?;
    if input.to < input.from || (input.to - input.from).num_days() > 366 {
        return Err(Error::unprocessable(
            "to must be on or after from, at most 366 days later",
        ));
    }
    if input.entries.len() > MAX_STAFF * 2 {
        return Err(Error::too_large("too many duty entries in one request"));
    }
    let (settings, _) = settings(store)?;
    let roster = roster_by_id(store, None)?;
    let mut people = BTreeSet::new();
    for (i, e) in input.entries.iter().enumerate() {
        let at = format!("entries[{i}]");
        let s = roster
            .get(&e.staff)
            .ok_or_else(|| Error::field(&at, format!("no staff member with 工号 {:?}", e.staff)))?;
        if !caller.has_street(Some(&s.street))
            || !(caller.is_admin() || caller.has(Role::Dispatcher))
        {
            return Err(Error::forbidden(format!(
                "{at}: this token may not set the duty of {} (street {})",
                s.id, s.street
            )));
        }
        if !(input.from..=input.to).contains(&e.date) {
            return Err(Error::field(
                &at,
                format!("date {} is not in {}..={}", e.date, input.from, input.to),
            ));
        }
        let team = s.team.as_deref().unwrap_or("");
        if settings.shift(team, &e.shift).is_none() {
            return Err(Error::field(
                &at,
                format!("team {team:?} of {} has no shift {:?}", s.id, e.shift),
            ));
        }
        people.insert(e.staff.clone());
    }
    let people: Vec<String> = people.into_iter().collect();
    store.replace_duty(input.from, input.to, &people, &input.entries)?;
    Ok(input.entries.len())
}

/// The duty roster on `from..=to` (of one street's people), for the roles that read personal
/// data.
pub fn duty(
    store: &dyn Store,
    caller: &Caller,
    from: NaiveDate,
    to: NaiveDate,
    street: Option<&str>,
) -> Result<Vec<DutyEntry>> {
    caller.require_any(&PERSONAL)?;
    let roster = roster_by_id(store, street)?;
    Ok(store
        .duty(from, to, None)?
        .into_iter()
        .filter(|e| {
            roster
                .get(&e.staff)
                .is_some_and(|s| reads_personal(caller, &s.street))
        })
        .collect())
}

fn shift_view(settings: &FieldSettings, team: &str, e: &DutyEntry) -> Option<(Span, w::ShiftView)> {
    let t = settings.shift(team, &e.shift)?;
    let (start, end) = settings.span(t, e.date);
    let mode_zh = settings
        .mode(&t.mode)
        .map(|m| m.name_zh.clone())
        .unwrap_or_default();
    Some((
        Span { start, end },
        w::ShiftView {
            date: e.date,
            code: t.code.clone(),
            name_zh: t.name_zh.clone(),
            start,
            end,
            mode: t.mode.clone(),
            mode_zh,
        },
    ))
}

/// The person's shift whose window contains `t` (the latest starting one when two do).
fn shift_at(
    store: &dyn Store,
    settings: &FieldSettings,
    staff: &Staff,
    t: DateTime<Utc>,
) -> Result<Option<(Span, w::ShiftView)>> {
    let (from, day) = duty_days(settings, t);
    Ok(shift_in(
        settings,
        staff,
        t,
        &store.duty(from, day, Some(&staff.id))?,
    ))
}

/// The local dates whose shifts may hold `t`: the day before (a night shift) and the day.
fn duty_days(settings: &FieldSettings, t: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let day = settings.local_date(t);
    (day.pred_opt().unwrap_or(day), day)
}

/// [`shift_at`] among `staff`'s duty entries `duty` (by date, then shift; entries of other
/// dates than [`duty_days`] are passed over): the last shift whose check-in window holds `t`.
fn shift_in(
    settings: &FieldSettings,
    staff: &Staff,
    t: DateTime<Utc>,
    duty: &[DutyEntry],
) -> Option<(Span, w::ShiftView)> {
    let (from, day) = duty_days(settings, t);
    let team = staff.team.as_deref().unwrap_or("");
    let mut found = None;
    for e in duty.iter().filter(|e| (from..=day).contains(&e.date)) {
        if let Some((span, view)) = shift_view(settings, team, e) {
            if span.window_contains(t, &settings.check_in) {
                found = Some((span, view));
            }
        }
    }
    found
}

/// Where `(lon, lat)` lies against `staff`'s assigned areas: inside one, near one, at the
/// workstation of an assigned grid, or outside — with the distance and the area matched.
pub fn place_of(
    atlas: &Atlas,
    settings: &FieldSettings,
    staff: &Staff,
    lon: f64,
    lat: f64,
) -> (Place, Option<f64>, Option<String>) {
    let rules = &settings.check_in;
    let located = atlas.locate(lon, lat);
    let areas = assigned_areas(atlas, staff);
    if let Some(&id) = areas.iter().find(|id| located.contains(&Some(**id))) {
        return (
            Place::Inside,
            Some(0.0),
            Some(atlas.feature(id).code.clone()),
        );
    }
    let mut near: Option<(f64, FeatureId)> = None;
    let mut consider = |d: f64, id: FeatureId| {
        if near.is_none_or(|(best, _)| d < best) {
            near = Some((d, id));
        }
    };
    let mut road_hits = None;
    for &id in &areas {
        let f = atlas.feature(id);
        if f.layer == Layer::RoadSegment {
            let hits = road_hits.get_or_insert_with(|| atlas.roads_near(lon, lat, rules.near_m));
            if let Some(h) = hits.iter().find(|h| h.feature == id) {
                consider(h.distance_m, id);
            }
        } else if let Some(&(_, d)) = atlas
            .areas_near(f.layer, lon, lat, rules.near_m)
            .iter()
            .find(|(a, _)| *a == id)
        {
            consider(d, id);
        }
    }
    if let Some((d, id)) = near {
        return (Place::Near, Some(d), Some(atlas.feature(id).code.clone()));
    }
    // the workstations of the assigned grids (and of the grids of assigned blocks and segments)
    let mut best: Option<(f64, FeatureId)> = None;
    for &id in &areas {
        let Some(g) = grid_of(atlas, id) else {
            continue;
        };
        if let Some((wlon, wlat)) = workstation(atlas, g) {
            let d = distance_m((wlon, wlat), (lon, lat));
            if d <= rules.workstation_m && best.is_none_or(|(b, _)| d < b) {
                best = Some((d, g));
            }
        }
    }
    if let Some((d, g)) = best {
        return (
            Place::Workstation,
            Some(d),
            Some(atlas.feature(g).code.clone()),
        );
    }
    (Place::Outside, None, None)
}

/// A grid's workstation (工作站): its `workstation` attribute `{lon, lat, address}`.
pub fn workstation(atlas: &Atlas, grid: FeatureId) -> Option<(f64, f64)> {
    let w = atlas.feature(grid).attributes.get("workstation")?;
    Some((w.get("lon")?.as_f64()?, w.get("lat")?.as_f64()?))
}

fn check_time(
    name: &str,
    t: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &FieldSettings,
) -> Result<()> {
    if t > now + crate::cases::CLOCK_SKEW {
        return Err(Error::unprocessable(format!(
            "{name}: {} is in the future (by this server's clock, {} minutes of skew allowed)",
            t.to_rfc3339(),
            crate::cases::CLOCK_SKEW.num_minutes()
        )));
    }
    if t < now - Duration::days(settings.retention_days) {
        return Err(Error::unprocessable(format!(
            "{name}: {} is older than the {} days fixes are kept",
            t.to_rfc3339(),
            settings.retention_days
        )));
    }
    Ok(())
}

/// Records a check-in or check-out: refused when the accuracy is worse than the limit, the
/// time is in the future, or the speed since the person's previous position is impossible;
/// else stored with its place and class and answered with the shift it counts for.
pub fn check_in(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    input: &w::CheckInInput,
    now: DateTime<Utc>,
) -> Result<w::CheckInResult> {
    check_in_keyed(store, atlas, caller, input, now, None)?.done()
}

/// [`check_in`] with an idempotency key ([`super::idempotency`]): a key already used for this
/// request gives the answer then (201) and stores nothing.
pub fn check_in_keyed(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    input: &w::CheckInInput,
    now: DateTime<Utc>,
    key: Option<&KeyClaim>,
) -> Result<Outcome<w::CheckInResult>> {
    caller.require_any(&[Role::GridWorker, Role::Admin])?;
    if let Some(r) = idempotency::earlier(store, key)? {
        return Ok(Outcome::Replay(r));
    }
    let id = input
        .staff
        .as_deref()
        .or_else(|| own_staff(caller))
        .ok_or_else(|| Error::field("staff", "name the 工号 (this token has no holder)"))?;
    let t = input.t.unwrap_or(now);
    // One read for everything below. The settings (and with them the local date) are not known
    // before it, so the duty entries are read for the UTC dates two before to one after `t`,
    // which hold the local day and the day before under any offset; `shift_in` keeps those two
    // (at the ends of chrono's range the bounds stay at `t`'s date: `check_time` refuses it).
    let utc_day = t.date_naive();
    let context = store.checkin_context(
        id,
        t,
        utc_day
            .checked_sub_days(chrono::Days::new(2))
            .unwrap_or(utc_day),
        utc_day
            .checked_add_days(chrono::Days::new(1))
            .unwrap_or(utc_day),
    )?;
    let staff = context
        .staff
        .ok_or_else(|| Error::not_found(format!("no staff member with 工号 {id:?}")))?;
    if !acts_for(caller, &staff, false) {
        return Err(Error::forbidden(format!(
            "this token may not check in for {} (a grid_worker token checks in only its holder)",
            staff.id
        )));
    }
    let (settings, _) = settings_of(context.settings.as_deref())?;
    let crs = crs_param("crs", input.crs.as_deref())?;
    let (lon, lat) = crs
        .checked_to_wgs84(input.lon, input.lat)
        .map_err(|e| Error::field("lon/lat", e))?;
    let rules = &settings.tracks;
    if !(input.accuracy_m.is_finite() && input.accuracy_m >= 0.0) {
        return Err(Error::field(
            "accuracy_m",
            format!("{} is not a distance", input.accuracy_m),
        ));
    }
    if input.accuracy_m > rules.max_accuracy_m {
        return Err(Error::unprocessable(format!(
            "accuracy_m: the position is accurate to {} m, worse than the {} m a check-in needs; wait for a better fix",
            input.accuracy_m, rules.max_accuracy_m
        )));
    }
    check_time("t", t, now, &settings)?;
    let here = Fix {
        t_ms: t.timestamp_millis(),
        lon,
        lat,
        accuracy_m: Some(input.accuracy_m),
    };
    if let Some(prev) = context.last_position {
        let v = speed_kmh(&prev, &here);
        if v > rules.max_speed_kmh {
            return Err(Error::unprocessable(format!(
                "impossible speed: {:.0} km/h from the position at {} ({:.0} m away); the limit is {} km/h",
                v.min(1e9),
                DateTime::from_timestamp_millis(prev.t_ms)
                    .map(|p| p.to_rfc3339())
                    .unwrap_or_default(),
                distance_m((prev.lon, prev.lat), (lon, lat)),
                rules.max_speed_kmh
            )));
        }
    }
    let punch = input.punch.unwrap_or(Punch::In);
    let (place, distance, area) = place_of(atlas, &settings, &staff, lon, lat);
    let shift = shift_in(&settings, &staff, t, &context.duty);
    let class = match &shift {
        Some((span, _)) => classify(span, t, punch, place, &settings.check_in),
        None => Class::NoShift,
    };
    let checkin = CheckIn {
        id: 0,
        staff: staff.id.clone(),
        t,
        punch,
        lon,
        lat,
        accuracy_m: Some(input.accuracy_m),
        place,
        distance_m: distance,
        area,
        class,
        shift_date: shift.as_ref().map(|(_, v)| v.date),
        shift: shift.as_ref().map(|(_, v)| v.code.clone()),
        recorded_at: now,
    };
    let mut result = w::CheckInResult {
        checkin,
        shift: shift.map(|(_, v)| v),
    };
    // owned: the store may write it from another request's thread (SQLite's group commit)
    let template = result.clone();
    let key = key.map(|claim| OwnedKeyWrite {
        claim: claim.clone(),
        answer: Box::new(move |id: &i64| {
            let mut r = template.clone();
            r.checkin.id = *id;
            idempotency::answer(201, &r, Some(*id))
        }),
    });
    let claim = key.as_ref().map(|k| k.claim.clone());
    let written = store.add_checkin_keyed(&result.checkin, key)?;
    match idempotency::outcome(claim.as_ref(), written)? {
        Outcome::Done(id) => {
            result.checkin.id = id;
            Ok(Outcome::Done(result))
        }
        Outcome::Replay(r) => Ok(Outcome::Replay(r)),
    }
}

/// A coordinate system named by a parameter (`wgs84` when absent).
pub fn crs_param(name: &str, v: Option<&str>) -> Result<Crs> {
    match v {
        None => Ok(Crs::Wgs84),
        Some(s) => Crs::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                Error::invalid_parameter(
                    name,
                    format!("{s:?} is not wgs84, cgcs2000, gcj02 or bd09"),
                )
            }),
    }
}

/// Stores fixes (already in WGS84) of one or more people: per person cleaned (accuracy, speed
/// from their previous stored position, repeated times; fixes not after their last stored one
/// are repeats), split by local day, stored in one transaction.
pub fn ingest(
    store: &dyn Store,
    caller: &Caller,
    fixes: Vec<(String, Fix)>,
    now: DateTime<Utc>,
) -> Result<w::FixesIngested> {
    ingest_keyed(store, caller, fixes, now, None)?.done()
}

/// [`ingest`] with an idempotency key ([`super::idempotency`]): a key already used for this
/// request gives the answer then (200, the counts of the first time) and stores nothing.
pub fn ingest_keyed(
    store: &dyn Store,
    caller: &Caller,
    fixes: Vec<(String, Fix)>,
    now: DateTime<Utc>,
    key: Option<&KeyClaim>,
) -> Result<Outcome<w::FixesIngested>> {
    caller.require_any(&[Role::GridWorker, Role::Dispatcher, Role::Admin])?;
    if let Some(r) = idempotency::earlier(store, key)? {
        return Ok(Outcome::Replay(r));
    }
    if fixes.len() > MAX_FIXES {
        return Err(Error::too_large(format!(
            "{} fixes in one request; at most {MAX_FIXES}",
            fixes.len()
        )));
    }
    let (settings, _) = settings(store)?;
    let received = fixes.len();
    let mut by_staff: BTreeMap<String, Vec<Fix>> = BTreeMap::new();
    for (i, (staff, f)) in fixes.into_iter().enumerate() {
        let t = DateTime::from_timestamp_millis(f.t_ms)
            .ok_or_else(|| Error::field(&format!("fix {i}"), "time out of range"))?;
        check_time(&format!("fix {i} t"), t, now, &settings)?;
        by_staff.entry(staff).or_default().push(f);
    }
    let mut out = w::FixesIngested {
        received,
        people: by_staff.len(),
        ..w::FixesIngested::default()
    };
    let mut chunks = Vec::new();
    for (id, fixes) in by_staff {
        let staff = person(store, &id)?;
        if !acts_for(caller, &staff, true) {
            return Err(Error::forbidden(format!(
                "this token may not send fixes for {} (street {})",
                staff.id, staff.street
            )));
        }
        let last = fixes
            .iter()
            .map(|f| f.t_ms)
            .max()
            .and_then(DateTime::from_timestamp_millis);
        let prev = match last {
            Some(t) => store.last_position(&staff.id, t)?,
            None => None,
        };
        let before = fixes.len();
        let fixes: Vec<Fix> = match &prev {
            Some(p) => fixes.into_iter().filter(|f| f.t_ms > p.t_ms).collect(),
            None => fixes,
        };
        out.dropped_duplicate += before - fixes.len();
        let c = clean(fixes, prev.as_ref(), &settings.tracks);
        out.dropped_accuracy += c.dropped_accuracy;
        out.dropped_speed += c.dropped_speed;
        out.dropped_duplicate += c.dropped_duplicate;
        out.stored += c.kept.len();
        let mut day_chunk: Option<(NaiveDate, Track)> = None;
        for f in c.kept {
            let day = DateTime::from_timestamp_millis(f.t_ms).map(|t| settings.local_date(t));
            match &mut day_chunk {
                Some((d, t)) if Some(*d) == day => t.fixes.push(f),
                _ => {
                    if let Some((_, t)) = day_chunk.take() {
                        chunks.push(t);
                    }
                    if let Some(d) = day {
                        day_chunk = Some((
                            d,
                            Track {
                                staff: staff.id.clone(),
                                fixes: vec![f],
                            },
                        ));
                    }
                }
            }
        }
        if let Some((_, t)) = day_chunk {
            chunks.push(t);
        }
    }
    let answer = |_: &()| idempotency::answer(200, &out, None);
    let key = key.map(|claim| KeyWrite {
        claim,
        answer: &answer,
    });
    let written = store.add_tracks_keyed(&chunks, key.as_ref())?;
    match idempotency::outcome(key.as_ref().map(|k| k.claim), written)? {
        Outcome::Done(()) => Ok(Outcome::Done(out)),
        Outcome::Replay(r) => Ok(Outcome::Replay(r)),
    }
}

/// The local day `date` as `[start, end)`.
pub fn day_span(settings: &FieldSettings, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map(|x| x.and_utc())
            .and_then(|x| x.checked_sub_signed(Duration::hours(i64::from(settings.utc_offset_h))))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    (start(date), start(date.succ_opt().unwrap_or(date)))
}

/// A period parameter pair: RFC 3339 times or local dates (a date `to` means the end of that
/// day); default today; at most [`MAX_PERIOD_DAYS`].
pub fn period(
    settings: &FieldSettings,
    from: Option<&str>,
    to: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let parse = |name: &str, s: &str, end: bool| -> Result<DateTime<Utc>> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return in_years(name, t.with_timezone(&Utc));
        }
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            Error::invalid_parameter(
                name,
                format!("{s:?} is not an RFC 3339 time or a date YYYY-MM-DD"),
            )
        })?;
        let (a, b) = day_span(settings, d);
        in_years(name, if end { b } else { a })
    };
    let from = match from {
        Some(s) => parse("from", s, false)?,
        None => day_span(settings, settings.local_date(now)).0,
    };
    let to = match to {
        Some(s) => parse("to", s, true)?,
        None => from
            .checked_add_signed(Duration::days(1))
            .ok_or_else(|| Error::invalid_parameter("from", "is too late"))?,
    };
    if to <= from {
        return Err(Error::invalid_parameter("to", "is not after from"));
    }
    if to - from > Duration::days(MAX_PERIOD_DAYS) {
        return Err(Error::invalid_parameter(
            "to",
            format!("the period is longer than {MAX_PERIOD_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// `t` if in the years 1 to 9999 (400 naming the parameter otherwise).
fn in_years(name: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    use chrono::Datelike;
    if (1..=9999).contains(&t.year()) {
        Ok(t)
    } else {
        Err(Error::invalid_parameter(
            name,
            format!("{} is outside the years 1 to 9999", t.to_rfc3339()),
        ))
    }
}

/// A date parameter (default: today, local).
pub fn date_param(
    settings: &FieldSettings,
    name: &str,
    v: Option<&str>,
    now: DateTime<Utc>,
) -> Result<NaiveDate> {
    match v {
        None => Ok(settings.local_date(now)),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| Error::invalid_parameter(name, format!("{s:?} is not a date YYYY-MM-DD"))),
    }
}

/// Check-ins of a period (admin, supervisor, the street's dispatchers).
pub fn checkins(
    store: &dyn Store,
    caller: &Caller,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    staff: Option<&str>,
    street: Option<&str>,
) -> Result<Vec<CheckIn>> {
    caller.require_any(&PERSONAL)?;
    let roster = roster_by_id(store, street)?;
    Ok(store
        .checkins(from, to, staff)?
        .into_iter()
        .filter(|c| {
            roster
                .get(&c.staff)
                .is_some_and(|s| reads_personal(caller, &s.street))
        })
        .collect())
}

/// The features `staff` is assigned to: its grids, blocks and road segments, and the grids of
/// its management units (codes the atlas does not hold are left out: the roster check names them).
fn assigned_areas(atlas: &Atlas, staff: &Staff) -> Vec<FeatureId> {
    let mut areas = Vec::new();
    for code in &staff.areas {
        if let Some(id) = atlas.find(code) {
            areas.push(id);
        } else if let Some(u) = atlas
            .features()
            .management_units
            .iter()
            .find(|u| &u.code == code)
        {
            areas.extend(u.grids.iter().filter_map(|g| atlas.find(g)));
        }
    }
    areas
}

/// The grid of a feature: itself, or its nearest grid ancestor.
fn grid_of(atlas: &Atlas, id: FeatureId) -> Option<FeatureId> {
    std::iter::once(id)
        .chain(atlas.ancestors(id))
        .find(|&a| atlas.feature(a).layer.is_grid())
}

/// The codes of the grids `staff` works in (the grids of its assigned areas).
fn grids_of(atlas: &Atlas, staff: &Staff) -> BTreeSet<String> {
    assigned_areas(atlas, staff)
        .into_iter()
        .filter_map(|id| grid_of(atlas, id))
        .map(|g| atlas.feature(g).code.clone())
        .collect()
}

fn tally(s: &mut w::AttendanceSummary, row: &w::AttendanceRow) {
    s.shifts += 1;
    match row.status {
        Class::OnTime => s.on_time += 1,
        Class::Late => s.late += 1,
        Class::Absent => s.absent += 1,
        _ => s.pending += 1,
    }
    s.early_leave += usize::from(row.early_leave);
    s.outside += usize::from(row.outside);
    s.on_duty += usize::from(row.on_duty);
}

/// Attendance of the shifts starting on `date`, as it stands at `now`: per person and shift
/// (for the roles that read personal data), and counted per street, team and grid.
#[allow(clippy::too_many_arguments)]
pub fn attendance_report(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    date: NaiveDate,
    street: Option<&str>,
    grid: Option<&str>,
    team: Option<&str>,
    now: DateTime<Utc>,
) -> Result<w::AttendanceReport> {
    caller.require_any(&[
        Role::Admin,
        Role::Supervisor,
        Role::Dispatcher,
        Role::Intake,
        Role::Department,
        Role::GridWorker,
    ])?;
    let (settings, _) = settings(store)?;
    let mut roster = roster_by_id(store, street)?;
    roster.retain(|_, s| team.is_none_or(|t| s.team.as_deref() == Some(t)));
    let entries = store.duty(date, date, None)?;
    let (from, _) = day_span(&settings, date);
    let window = Duration::minutes(settings.check_in.early_min);
    let punches = store.checkins(from - window, from + Duration::days(2) + window, None)?;
    let mut by_staff: HashMap<&str, Vec<crate::field::duty::Recorded>> = HashMap::new();
    for c in &punches {
        by_staff
            .entry(c.staff.as_str())
            .or_default()
            .push(c.recorded());
    }
    let mut rows = Vec::new();
    let mut grids_by_staff = HashMap::new();
    for e in &entries {
        let Some(s) = roster.get(&e.staff) else {
            continue;
        };
        let grids = grids_of(atlas, s);
        if grid.is_some_and(|g| !grids.contains(g)) {
            continue;
        }
        let Some((span, view)) = shift_view(&settings, s.team.as_deref().unwrap_or(""), e) else {
            continue;
        };
        let a = attendance(
            &span,
            by_staff.get(s.id.as_str()).map_or(&[][..], |v| v),
            now,
            &settings.check_in,
        );
        grids_by_staff.insert(s.id.clone(), grids);
        rows.push(w::AttendanceRow {
            staff: s.id.clone(),
            name: s.name.clone(),
            team: s.team.clone(),
            street: s.street.clone(),
            areas: s.areas.clone(),
            shift: view,
            status: a.status,
            early_leave: a.early_leave,
            outside: a.outside,
            first_in: a.first_in,
            last_out: a.last_out,
            on_duty: a.on_duty,
        });
    }
    let mut total = w::AttendanceSummary {
        key: "*".into(),
        ..Default::default()
    };
    let mut by_street: BTreeMap<String, w::AttendanceSummary> = BTreeMap::new();
    let mut by_team: BTreeMap<String, w::AttendanceSummary> = BTreeMap::new();
    let mut by_grid: BTreeMap<String, w::AttendanceSummary> = BTreeMap::new();
    for r in &rows {
        tally(&mut total, r);
        for (m, k) in [
            (&mut by_street, Some(r.street.as_str())),
            (&mut by_team, r.team.as_deref()),
        ] {
            if let Some(k) = k {
                tally(
                    m.entry(k.to_owned())
                        .or_insert_with(|| w::AttendanceSummary {
                            key: k.to_owned(),
                            ..Default::default()
                        }),
                    r,
                );
            }
        }
        for g in grids_by_staff.get(&r.staff).into_iter().flatten() {
            tally(
                by_grid
                    .entry(g.clone())
                    .or_insert_with(|| w::AttendanceSummary {
                        key: g.clone(),
                        ..Default::default()
                    }),
                r,
            );
        }
    }
    let personal =
        caller.is_admin() || caller.has(Role::Supervisor) || caller.has(Role::Dispatcher);
    let rows = personal.then(|| {
        rows.into_iter()
            .filter(|r| reads_personal(caller, &r.street))
            .collect()
    });
    Ok(w::AttendanceReport {
        date,
        now,
        total,
        by_street: by_street.into_values().collect(),
        by_team: by_team.into_values().collect(),
        by_grid: by_grid.into_values().collect(),
        rows,
    })
}

/// One person's tracks over a period (admin, supervisor, the street's dispatcher), as stored
/// chunks of cleaned fixes.
pub fn tracks(
    store: &dyn Store,
    caller: &Caller,
    staff: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(Staff, Vec<Fix>)> {
    caller.require_any(&PERSONAL)?;
    let s = person(store, staff)?;
    if !reads_personal(caller, &s.street) {
        return Err(Error::forbidden(format!(
            "this token may not read the track of {} (street {})",
            s.id, s.street
        )));
    }
    let ids = [s.id.clone()];
    let mut fixes: Vec<Fix> = store
        .tracks(&TrackQuery {
            from: Some(from),
            to: Some(to),
            staff: Some(&ids),
            bbox: None,
        })?
        .into_iter()
        .flat_map(|t| t.fixes)
        .collect();
    fixes.sort_by_key(|f| f.t_ms);
    Ok((s, fixes))
}

/// A person's track as a query names it (`staff=`, `from=`, `to=`, default today), with the
/// settings in force: what `GET /api/v1/tracks`, `tracks.gpx` and `geofence` answer from.
pub fn track_query(
    store: &dyn Store,
    caller: &Caller,
    q: &w::PeriodQuery,
    now: DateTime<Utc>,
) -> Result<(FieldSettings, Staff, Vec<Fix>)> {
    caller.require_any(&PERSONAL)?;
    let staff = q
        .staff
        .as_deref()
        .ok_or_else(|| Error::invalid_parameter("staff", "name the person (工号)"))?;
    let (settings, _) = settings(store)?;
    let (from, to) = period(&settings, q.from.as_deref(), q.to.as_deref(), now)?;
    let (s, fixes) = tracks(store, caller, staff, from, to)?;
    Ok((settings, s, fixes))
}

/// Longest period of a street's tracks (`GET /api/v1/tracks?street=`), days.
pub const MAX_STREET_TRACK_DAYS: i64 = 7;

/// The paths of every person of a street in a period (`street=` without `staff=`; default today,
/// at most [`MAX_STREET_TRACK_DAYS`]): what the street portal draws. Personal data: admin,
/// supervisors and the street's dispatchers only.
pub fn street_tracks(
    store: &dyn Store,
    caller: &Caller,
    q: &w::PeriodQuery,
    now: DateTime<Utc>,
) -> Result<w::TrackCollection> {
    caller.require_any(&PERSONAL)?;
    let street = q.street.as_deref().ok_or_else(|| {
        Error::invalid_parameter("staff", "name the person (工号), or the street (`street=`)")
    })?;
    if !reads_personal(caller, street) {
        return Err(Error::forbidden(format!(
            "this token may not read the tracks of street {street}"
        )));
    }
    let (settings, _) = settings(store)?;
    let (from, to) = period(&settings, q.from.as_deref(), q.to.as_deref(), now)?;
    if to - from > Duration::days(MAX_STREET_TRACK_DAYS) {
        return Err(Error::invalid_parameter(
            "to",
            format!("a street's tracks span at most {MAX_STREET_TRACK_DAYS} days"),
        ));
    }
    let people = store.staff(Some(&[street.to_owned()]))?;
    let ids: Vec<String> = people.iter().map(|p| p.id.clone()).collect();
    let mut by: std::collections::HashMap<String, Vec<Fix>> = std::collections::HashMap::new();
    for t in store.tracks(&TrackQuery {
        from: Some(from),
        to: Some(to),
        staff: Some(&ids),
        bbox: None,
    })? {
        by.entry(t.staff).or_default().extend(
            t.fixes
                .into_iter()
                .filter(|f| (from.timestamp_millis()..to.timestamp_millis()).contains(&f.t_ms)),
        );
    }
    let mut features = Vec::new();
    for p in &people {
        if let Some(mut fixes) = by.remove(&p.id) {
            fixes.sort_by_key(|f| f.t_ms);
            features.extend(track_collection(p, &fixes, &settings.tracks).features);
        }
    }
    Ok(w::TrackCollection {
        kind: "FeatureCollection".into(),
        features,
    })
}

/// The holder's shift now (or the next one starting today) and the patrol task list it
/// focuses on: the mode's groups first, in the mode's order, then the rest in task-list order.
pub fn my_shift(
    store: &dyn Store,
    caller: &Caller,
    categories: &[crate::routing::categories::Category],
    now: DateTime<Utc>,
) -> Result<w::MyShift> {
    caller.require(Role::GridWorker)?;
    let id = own_staff(caller).ok_or_else(|| {
        Error::forbidden("this grid_worker token names no staff member (its subject is the 工号)")
    })?;
    let staff = person(store, id)?;
    let (settings, _) = settings(store)?;
    let mut shift = shift_at(store, &settings, &staff, now)?;
    if shift.is_none() {
        let today = settings.local_date(now);
        let team = staff.team.as_deref().unwrap_or("");
        shift = store
            .duty(today, today, Some(&staff.id))?
            .iter()
            .filter_map(|e| shift_view(&settings, team, e))
            .filter(|(span, _)| span.start > now)
            .min_by_key(|(span, _)| span.start);
    }
    let groups: Vec<String> = shift
        .as_ref()
        .and_then(|(_, v)| settings.mode(&v.mode))
        .map(|m| m.groups.clone())
        .unwrap_or_default();
    let rank = |g: &str| groups.iter().position(|x| x == g).unwrap_or(groups.len());
    let mut cats: Vec<(usize, usize, String)> = categories
        .iter()
        .enumerate()
        .map(|(i, c)| (rank(&c.group), i, c.code.clone()))
        .collect();
    cats.sort();
    Ok(w::MyShift {
        staff: staff.id,
        name: staff.name,
        shift: shift.map(|(_, v)| v),
        categories: cats.into_iter().map(|(_, _, c)| c).collect(),
    })
}

/// Deletes fixes and check-ins older than the retention period; returns (chunks, check-ins).
pub fn purge(store: &dyn Store, now: DateTime<Utc>) -> Result<(usize, usize)> {
    let (settings, _) = settings(store)?;
    Ok(store.purge_field(now - Duration::days(settings.retention_days))?)
}

/// The path rules with overrides (the CLI's flags).
pub fn rules_with(base: FixRules, join_s: Option<f64>, join_m: Option<f64>) -> FixRules {
    FixRules {
        join_s: join_s.unwrap_or(base.join_s),
        join_m: join_m.unwrap_or(base.join_m),
        ..base
    }
}

/// A person's fixes as GeoJSON: one feature per path (joined by `rules`).
pub fn track_collection(staff: &Staff, fixes: &[Fix], rules: &FixRules) -> w::TrackCollection {
    let features = crate::field::paths(fixes, rules)
        .into_iter()
        .filter_map(|p| {
            let (first, last) = (p.first()?, p.last()?);
            let coords: Vec<Vec<f64>> = p.iter().map(|f| vec![f.lon, f.lat]).collect();
            let geometry = if p.len() == 1 {
                geojson::Geometry::new(geojson::Value::Point(coords[0].clone()))
            } else {
                geojson::Geometry::new(geojson::Value::LineString(coords))
            };
            let length_m = p
                .windows(2)
                .map(|w| distance_m((w[0].lon, w[0].lat), (w[1].lon, w[1].lat)))
                .sum();
            Some(w::TrackFeature {
                kind: "Feature".into(),
                geometry,
                properties: w::TrackProperties {
                    staff: staff.id.clone(),
                    name: staff.name.clone(),
                    from: DateTime::from_timestamp_millis(first.t_ms)?,
                    to: DateTime::from_timestamp_millis(last.t_ms)?,
                    fixes: p.len(),
                    length_m,
                    times_ms: p.iter().map(|f| f.t_ms).collect(),
                },
            })
        })
        .collect();
    w::TrackCollection {
        kind: "FeatureCollection".into(),
        features,
    }
}

/// Fixes of `from..to` inside the bounding box of `area` (`None`: everywhere), per person, in
/// time order (chunks of a person joined).
fn fixes_by_person(
    store: &dyn Store,
    atlas: &Atlas,
    area: Option<FeatureId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<BTreeMap<String, Vec<Fix>>> {
    let bbox = area
        .and_then(|a| atlas.bbox(a))
        .map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
    let mut by: BTreeMap<String, Vec<Fix>> = BTreeMap::new();
    for t in store.tracks(&TrackQuery {
        from: Some(from),
        to: Some(to),
        staff: None,
        bbox,
    })? {
        by.entry(t.staff).or_default().extend(t.fixes);
    }
    for v in by.values_mut() {
        v.sort_by_key(|f| f.t_ms);
    }
    Ok(by)
}

/// The grids of a street, or one grid, or every grid.
fn grids_in(
    atlas: &Atlas,
    street: Option<&str>,
    grid: Option<&str>,
) -> Result<(Option<FeatureId>, Vec<FeatureId>)> {
    let find = |name: &str, code: &str, ok: &dyn Fn(Layer) -> bool| {
        atlas
            .find(code)
            .filter(|&id| ok(atlas.feature(id).layer))
            .ok_or_else(|| Error::not_found(format!("no {name} with code {code:?}")))
    };
    Ok(match (grid, street) {
        (Some(g), _) => {
            let id = find("grid", g, &|l: Layer| l.is_grid())?;
            (Some(id), vec![id])
        }
        (None, Some(s)) => {
            let id = find("street", s, &|l: Layer| l == Layer::Street)?;
            let grids = atlas
                .children(id)
                .iter()
                .copied()
                .filter(|&c| atlas.feature(c).layer.is_grid())
                .collect();
            (Some(id), grids)
        }
        (None, None) => (
            None,
            (0..atlas.features().len())
                .filter_map(|i| u32::try_from(i).ok())
                .filter(|&i| atlas.feature(i).layer.is_grid())
                .collect(),
        ),
    })
}

/// The road segments of a grid (directly or through its blocks).
fn segments_of(atlas: &Atlas, grid: FeatureId) -> Vec<FeatureId> {
    let mut out = Vec::new();
    let mut stack = vec![grid];
    while let Some(id) = stack.pop() {
        for &c in atlas.children(id) {
            match atlas.feature(c).layer {
                Layer::RoadSegment => out.push(c),
                Layer::Block => stack.push(c),
                _ => {}
            }
        }
    }
    out.sort_unstable();
    out
}

/// Coverage of a street's (or a grid's, or the district's) road segments, blocks and grids by
/// every path in `from..to` (docs/field.md "Coverage"); per person (personal data) for the
/// roles that read it.
#[allow(clippy::too_many_arguments)]
pub fn coverage(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    street: Option<&str>,
    grid: Option<&str>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<w::CoverageReport> {
    use crate::field::coverage::CoverageIndex;
    use crate::field::geofence::{Fence, geofence};
    let (settings, _) = settings(store)?;
    let (area, grids) = grids_in(atlas, street, grid)?;
    let by_person = fixes_by_person(store, atlas, area, from, to)?;
    let rules = settings.tracks;
    let segs: Vec<(FeatureId, FeatureId)> = grids
        .iter()
        .flat_map(|&g| segments_of(atlas, g).into_iter().map(move |s| (g, s)))
        .collect();
    let index = CoverageIndex::new(
        segs.iter().filter_map(|&(_, s)| {
            let f = atlas.feature(s);
            Some((f.code.clone(), f.geometry.as_line()?))
        }),
        settings.coverage.radius_m,
    );
    let seg_pos: HashMap<FeatureId, usize> = segs
        .iter()
        .filter(|&&(_, s)| atlas.feature(s).geometry.as_line().is_some())
        .enumerate()
        .map(|(i, &(_, s))| (s, i))
        .collect();
    let mut tally = index.tally();
    let mut visited: BTreeSet<FeatureId> = BTreeSet::new();
    let mut inside: HashMap<FeatureId, i64> = HashMap::new();
    let mut fix_count = 0;
    let mut persons = Vec::new();
    let roster = roster_by_id(store, None)?;
    for (id, fixes) in &by_person {
        fix_count += fixes.len();
        let ps = crate::field::paths(fixes, &rules);
        index.add_paths(&mut tally, ps.iter().copied());
        let fence = geofence(atlas, &ps);
        visited.extend(fence.visited(Fence::Block));
        let grid_time = fence.time_inside(Fence::Grid);
        for &(g, ms) in &grid_time {
            *inside.entry(g).or_default() += ms;
        }
        let Some(s) = roster.get(id).filter(|s| reads_personal(caller, &s.street)) else {
            continue;
        };
        let mine = grids_of(atlas, s);
        let mut own = index.tally();
        index.add_paths(&mut own, ps.iter().copied());
        let own = index.finish(&own);
        let my_segs: Vec<usize> = segs
            .iter()
            .filter(|(g, _)| mine.contains(&atlas.feature(*g).code))
            .filter_map(|(_, sg)| seg_pos.get(sg).copied())
            .collect();
        persons.push(w::PersonCoverageRow {
            staff: s.id.clone(),
            name: s.name.clone(),
            team: s.team.clone(),
            fixes: fixes.len(),
            paths: ps.len(),
            walked_m: ps
                .iter()
                .flat_map(|p| p.windows(2))
                .map(|w| distance_m((w[0].lon, w[0].lat), (w[1].lon, w[1].lat)))
                .sum(),
            segments: my_segs.len(),
            covered_segments: my_segs
                .iter()
                .filter(|&&i| own[i].share >= settings.coverage.covered_share)
                .count(),
            inside_s: grid_time
                .iter()
                .filter(|(g, _)| mine.contains(&atlas.feature(*g).code))
                .map(|(_, ms)| *ms as f64 / 1000.0)
                .sum(),
        });
    }
    let done = index.finish(&tally);
    let share_ok = settings.coverage.covered_share;
    let segments: Vec<w::SegmentCoverageRow> = segs
        .iter()
        .filter_map(|&(g, s)| {
            let c = &done[*seg_pos.get(&s)?];
            let f = atlas.feature(s);
            let block = atlas
                .ancestors(s)
                .into_iter()
                .find(|&a| atlas.feature(a).layer == Layer::Block)
                .map(|b| atlas.feature(b).code.clone());
            Some(w::SegmentCoverageRow {
                code: f.code.clone(),
                name: f.name.clone(),
                grid: Some(atlas.feature(g).code.clone()),
                block,
                length_m: c.length_m,
                covered_m: c.covered_m,
                share: c.share,
                covered: c.share >= share_ok,
            })
        })
        .collect();
    let mut grid_rows = Vec::new();
    for &g in &grids {
        let f = atlas.feature(g);
        let mine: Vec<&w::SegmentCoverageRow> = segments
            .iter()
            .filter(|s| s.grid.as_deref() == Some(f.code.as_str()))
            .collect();
        let blocks: Vec<FeatureId> = atlas
            .children(g)
            .iter()
            .copied()
            .filter(|&b| atlas.feature(b).layer == Layer::Block)
            .collect();
        let inside_ms = inside.get(&g).copied().unwrap_or(0);
        grid_rows.push(w::GridCoverageRow {
            code: f.code.clone(),
            name: f.name.clone(),
            street: f.parent.clone(),
            segments: mine.len(),
            covered_segments: mine.iter().filter(|s| s.covered).count(),
            unpatrolled_segments: mine
                .iter()
                .filter(|s| s.covered_m <= 0.0)
                .map(|s| s.code.clone())
                .collect(),
            length_m: mine.iter().map(|s| s.length_m).sum(),
            covered_m: mine.iter().map(|s| s.covered_m).sum(),
            blocks: blocks.len(),
            blocks_visited: blocks.iter().filter(|b| visited.contains(b)).count(),
            inside_s: inside_ms as f64 / 1000.0,
            patrolled: inside.contains_key(&g),
        });
    }
    let unpatrolled_grids = grid_rows
        .iter()
        .filter(|g| !g.patrolled)
        .map(|g| g.code.clone())
        .collect();
    let personal =
        caller.is_admin() || caller.has(Role::Supervisor) || caller.has(Role::Dispatcher);
    Ok(w::CoverageReport {
        from,
        to,
        radius_m: settings.coverage.radius_m,
        covered_share: share_ok,
        fixes: fix_count,
        segments,
        grids: grid_rows,
        unpatrolled_grids,
        persons: personal.then_some(persons),
    })
}

/// One person's geofence events over a period (admin, supervisor, the street's dispatcher).
pub fn geofence_events(
    atlas: &Atlas,
    settings: &FieldSettings,
    s: &Staff,
    fixes: &[Fix],
) -> Vec<w::GeofenceEventView> {
    use crate::field::geofence::{Crossing, geofence};
    let ps = crate::field::paths(fixes, &settings.tracks);
    let fence = geofence(atlas, &ps);
    fence
        .events
        .iter()
        .filter_map(|e| {
            let f = atlas.feature(e.feature);
            Some(w::GeofenceEventView {
                staff: s.id.clone(),
                event: match e.crossing {
                    Crossing::Entered => "entered",
                    Crossing::Left => "left",
                }
                .into(),
                layer: f.layer,
                area: f.code.clone(),
                t: DateTime::from_timestamp_millis(e.t_ms)?,
            })
        })
        .collect()
}

/// Reads a fix batch: NDJSON lines (every bad line named, up to 20) or, for a GPX file, one
/// person's track.
pub fn read_fixes(
    body: &[u8],
    gpx: bool,
    staff: Option<&str>,
    crs: Option<&str>,
) -> Result<Vec<(String, Fix)>> {
    if gpx {
        let staff = staff.ok_or_else(|| {
            Error::invalid_parameter("staff", "a GPX file needs the person's 工号 (staff=)")
        })?;
        let opts = crate::field::gpx::GpxOptions {
            crs: crs_param("crs", crs)?,
            ..crate::field::gpx::GpxOptions::default()
        };
        let fixes = crate::field::gpx::read_gpx(body, &opts)
            .map_err(|e| Error::unprocessable(format!("GPX: {e}")))?;
        return Ok(fixes.into_iter().map(|f| (staff.to_owned(), f)).collect());
    }
    let limits = crate::field::fixes::Limits {
        max_lines: MAX_FIXES,
        max_errors: 20,
        ..crate::field::fixes::Limits::default()
    };
    crate::field::fixes::read_ndjson(body, &limits)
        .map(|v| v.into_iter().map(|s| (s.staff, s.fix)).collect())
        .map_err(|errors| {
            let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            Error::unprocessable(format!(
                "{} bad line(s); first: {}",
                lines.len(),
                lines.first().map_or("", String::as_str)
            ))
            .with_extra(serde_json::json!({ "problems": lines }))
        })
}
