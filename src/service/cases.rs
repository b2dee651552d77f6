//! Cases: the task list (categories), intake (check, route, store), the case list and one case,
//! status changes, and the indicators. The native API and Open311 both come here; routing itself
//! is [`crate::routing::route`] and the lifecycle rules are [`crate::cases`].
//!
//! Input is bounded before any work: every text field is checked against its limit in
//! characters ([`crate::cases::limits`]), times against the clock
//! ([`crate::cases::check_reported_at`], [`crate::cases::check_event_at`]); query times must lie
//! in the years 1 to 9999, and every date computed from them is checked (422 naming the
//! parameter, never a panic).

use super::access::Caller;
use super::error::{Error, Result};
use super::usize_param;
use crate::atlas::Atlas;
use crate::cases::{self as rules, Case, CaseFilter, NewCase, Source, Status, indicators, limits};
use crate::geometry::crs::Crs;
use crate::model::Layer;
use crate::routing::categories::{Category, EXAMPLE_TASK_LIST, parse_task_list};
use crate::routing::{self, RouteError, RouteOptions};
use crate::store::Store;
use crate::wire::cases as wire;
use chrono::{DateTime, Datelike, FixedOffset, Utc};
use serde_json::{Value, json};
use std::sync::{Arc, OnceLock};

/// Most photo URLs per case.
pub const MAX_PHOTOS: usize = 20;

/// The case as the API shows it at `now` (the reporter's contact details are never shown).
pub fn case_view(case: Case, now: DateTime<Utc>) -> wire::CaseView {
    wire::CaseView {
        overdue: case.is_overdue(now),
        case,
    }
}

/// The categories in force: the store's, or the embedded example list when serving a file
/// without a store.
pub fn categories(store: Option<&dyn Store>) -> Result<Arc<Vec<Category>>> {
    if let Some(store) = store {
        return Ok(Arc::new(store.categories()?));
    }
    // The embedded list is tested to parse; should it not, that is a 500 naming why, never an
    // empty list.
    static EXAMPLE: OnceLock<std::result::Result<Arc<Vec<Category>>, String>> = OnceLock::new();
    EXAMPLE
        .get_or_init(|| {
            parse_task_list(EXAMPLE_TASK_LIST)
                .map(Arc::new)
                .map_err(|p| format!("the embedded example task list: {}", p.join("; ")))
        })
        .clone()
        .map_err(Error::internal)
}

fn categories_wire(items: Vec<Category>) -> wire::Categories {
    wire::Categories {
        total: items.len(),
        items,
    }
}

/// The categories matching `q` (a grid layer; the district's items plus one street's own).
pub fn list_categories(cats: &[Category], q: &wire::CategoriesQuery) -> Result<wire::Categories> {
    let layer = match &q.layer {
        None => None,
        Some(l) => Some(
            l.parse::<Layer>()
                .ok()
                .filter(|l| l.is_grid())
                .ok_or_else(|| {
                    Error::invalid_parameter(
                        "layer",
                        format!(
                            "{l:?} is not a grid layer (resident_grid, street_grid, extended_grid)"
                        ),
                    )
                })?,
        ),
    };
    let items: Vec<Category> = cats
        .iter()
        .filter(|c| layer.is_none_or(|l| c.layer == l))
        .filter(|c| match (&q.street, &c.street) {
            (Some(s), Some(cs)) => s == cs,
            _ => true,
        })
        .cloned()
        .collect();
    Ok(categories_wire(items))
}

/// Replaces the task list with `body` (the task-list file format; admin only).
pub fn replace_categories(
    store: &dyn Store,
    caller: &Caller,
    body: &[u8],
) -> Result<wire::Categories> {
    if !caller.is_admin() {
        return Err(Error::forbidden(
            "replacing the task list needs an admin token",
        ));
    }
    let cats = parse_task_list(body).map_err(|problems| {
        Error::unprocessable(format!(
            "the task list has {} problem(s): {}",
            problems.len(),
            problems.first().cloned().unwrap_or_default()
        ))
        .with_extra(json!({"problems": problems}))
    })?;
    store.replace_categories(&cats)?;
    Ok(categories_wire(cats))
}

/// Checks a text field's length in characters; 422 naming the field and the limit.
/// Text may not contain U+0000 either: PostgreSQL cannot store it, and both stores must agree.
pub fn check_text(name: &str, value: &str, max: usize) -> Result<()> {
    rules::check_len(name, value, max).map_err(|detail| {
        Error::unprocessable(detail).with_extra(json!({"field": name, "limit": max}))
    })?;
    if value.contains('\0') {
        return Err(Error::field(
            name,
            "contains U+0000 (NUL), which text cannot carry",
        ));
    }
    Ok(())
}

/// An optional RFC 3339 time field of a body (default `now`); 422 naming the field if it does
/// not parse.
fn time_field(name: &str, raw: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let Some(s) = raw else {
        return Ok(now);
    };
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::field(name, format!("{s:?} is not an RFC 3339 time: {e}")))
}

/// A submission that passed the cheap checks (lengths, counts, times, coordinates).
#[derive(Debug, Clone)]
pub struct Checked {
    input: wire::CaseInput,
    crs: Crs,
    source: Source,
    reported_at: DateTime<Utc>,
    wgs: (f64, f64),
}

impl Checked {
    /// The generation to route with, as asked (`at`).
    pub fn at(&self) -> Option<&str> {
        self.input.at.as_deref()
    }
}

/// The cheap checks of a submission, before any lookup: lengths, counts, times, coordinates.
pub fn check(input: wire::CaseInput, now: DateTime<Utc>) -> Result<Checked> {
    check_text("category", &input.category, limits::ID)?;
    check_text("description", &input.description, limits::DESCRIPTION)?;
    if let Some(a) = &input.address {
        check_text("address_string", a, limits::ADDRESS)?;
    }
    if input.photos.len() > MAX_PHOTOS {
        return Err(Error::field(
            "photos",
            format!("more than {MAX_PHOTOS} URLs"),
        ));
    }
    for u in &input.photos {
        check_text("photos", u, limits::MEDIA_URL)?;
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err(Error::field(
                "photos",
                format!("{u:?} is not an http(s) URL"),
            ));
        }
    }
    let reported_at = time_field("reported_at", input.reported_at.as_deref(), now)?;
    rules::check_reported_at(reported_at, now).map_err(|e| Error::field("reported_at", e))?;
    let crs: Crs = match &input.crs {
        None => Crs::Wgs84,
        Some(s) => s.parse().map_err(|e: String| Error::field("crs", e))?,
    };
    let source: Source = input
        .source
        .parse()
        .map_err(|e: String| Error::field("source", e))?;
    let wgs = crs
        .checked_to_wgs84(input.lon, input.lat)
        .map_err(|e| Error::field("lon/lat", e))?;
    Ok(Checked {
        input,
        crs,
        source,
        reported_at,
        wgs,
    })
}

/// Routes a checked submission on `atlas` and stores it as a case (`contact`: the reporter's
/// details, stored, never shown).
pub fn submit(
    store: &dyn Store,
    caller: &Caller,
    atlas: &Atlas,
    checked: Checked,
    contact: Option<Value>,
    options: &RouteOptions,
) -> Result<Case> {
    let Checked {
        input,
        crs,
        source,
        reported_at,
        wgs,
    } = checked;
    let cats = categories(Some(store))?;
    let category = cats
        .iter()
        .find(|c| c.code == input.category)
        .ok_or_else(|| {
            Error::field(
                "category",
                format!(
                    "unknown category {:?} (GET /api/v1/categories lists them)",
                    input.category
                ),
            )
        })?;
    let assignment = routing::route(atlas, wgs.0, wgs.1, category, reported_at, options).map_err(
        |e| match e {
            RouteError::Outside { .. } => Error::unprocessable(e.to_string())
                .with_extra(json!({"field": "lon/lat", "wgs84": [wgs.0, wgs.1]})),
            RouteError::OtherStreet { .. } => Error::field("category", e),
            RouteError::DueDate { .. } => Error::field("reported_at", e),
        },
    )?;
    let mut description = input.description;
    if let Some(addr) = input.address.as_deref().filter(|a| !a.is_empty()) {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str("地址: ");
        description.push_str(addr);
    }
    let new = NewCase {
        category: category.code.clone(),
        source,
        description,
        input: (input.lon, input.lat, crs.as_str().to_owned()),
        reported_at,
        photos: input.photos,
        created_by: caller.name(),
        contact,
        assignment,
    };
    Ok(store.create_case(&new)?)
}

/// Case `id` from its path segment; 400 naming `id` unless a positive integer.
pub fn case_id(raw: &str) -> Result<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|&i| i > 0)
        .ok_or_else(|| Error::invalid_parameter("id", format!("{raw:?} is not a case id")))
}

/// Case `id`.
pub fn get(store: &dyn Store, id: i64) -> Result<Case> {
    Ok(store.get_case(id)?)
}

/// The filter of the case list from its query, with the page size and offset; 400 naming the
/// parameter at fault.
pub fn list_filter(
    q: &wire::CaseListQuery,
    now: DateTime<Utc>,
) -> Result<(CaseFilter, usize, usize)> {
    let limit = usize_param("limit", q.limit.as_deref(), 50, 1000)?;
    let max_offset = usize::try_from(i64::MAX).unwrap_or(usize::MAX);
    let offset = usize_param("offset", q.offset.as_deref(), 0, max_offset)?;
    let status = match &q.status {
        None => None,
        Some(s) => Some(
            s.parse::<Status>()
                .map_err(|e| Error::invalid_parameter("status", e))?,
        ),
    };
    let overdue_at = match q.overdue.as_deref() {
        None | Some("0") | Some("false") => None,
        Some("1") | Some("true") => Some(now),
        Some(other) => {
            return Err(Error::invalid_parameter(
                "overdue",
                format!("{other:?} is not 1/0/true/false"),
            ));
        }
    };
    let filter = CaseFilter {
        grid: q.grid.clone(),
        street: q.street.clone(),
        status,
        overdue_at,
        offset: i64::try_from(offset)
            .map_err(|_| Error::invalid_parameter("offset", "too large"))?,
        limit: i64::try_from(limit).map_err(|_| Error::invalid_parameter("limit", "too large"))?,
        ..CaseFilter::default()
    };
    Ok((filter, limit, offset))
}

/// A page of cases, newest first.
pub fn list(
    store: &dyn Store,
    q: &wire::CaseListQuery,
    now: DateTime<Utc>,
) -> Result<wire::CaseList> {
    let (filter, limit, offset) = list_filter(q, now)?;
    let (cases, total) = store.list_cases(&filter)?;
    Ok(wire::CaseList {
        items: cases.into_iter().map(|c| case_view(c, now)).collect(),
        total,
        limit,
        offset,
    })
}

/// Records a status change of case `id` (409 naming the current status and the allowed next ones
/// for a refused transition, or when another change came first).
pub fn add_event(
    store: &dyn Store,
    caller: &Caller,
    id: i64,
    ev: wire::EventInput,
    now: DateTime<Utc>,
) -> Result<Case> {
    let status: Status = ev
        .status
        .parse()
        .map_err(|e: String| Error::field("status", e))?;
    for (name, value, max) in [
        ("by", &ev.by, limits::NAME),
        ("department", &ev.department, limits::NAME),
        ("note", &ev.note, limits::NOTE),
    ] {
        if let Some(v) = value {
            check_text(name, v, max)?;
        }
    }
    let at = time_field("at", ev.at.as_deref(), now)?;
    let by = match ev.by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => format!("{name} via {}", caller.name()),
        None => caller.name(),
    };
    // The case's latest event bounds `at` from below; the store checks the order again in the
    // transaction that writes the event (a change made meanwhile: 409).
    let current = store.get_case(id)?;
    rules::check_event_at(&current, at, now).map_err(|e| Error::field("at", e))?;
    Ok(store.add_case_event(
        id,
        status,
        &by,
        ev.department.as_deref(),
        ev.note.as_deref(),
        at,
    )?)
}

/// The earliest and latest times a query may name: the years 1 to 9999 (UTC), which RFC 3339
/// can write and every date computed from them (± a few days) can represent.
fn query_time_range() -> (DateTime<Utc>, DateTime<Utc>) {
    let at = |y, m, d, hms: (u32, u32, u32)| {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(hms.0, hms.1, hms.2))
            .map(|t| t.and_utc())
    };
    (
        at(1, 1, 1, (0, 0, 0)).unwrap_or(DateTime::<Utc>::MIN_UTC),
        at(9999, 12, 31, (23, 59, 59)).unwrap_or(DateTime::<Utc>::MAX_UTC),
    )
}

/// Checks that a query time lies in the years 1 to 9999; 422 naming the parameter otherwise.
pub fn check_query_time(name: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let (min, max) = query_time_range();
    if t < min || t > max {
        return Err(Error::out_of_range(
            name,
            format!("{} is outside the years 1 to 9999", t.to_rfc3339()),
        ));
    }
    Ok(t)
}

/// Parses a `from`/`to` bound: an RFC 3339 time or a date (midnight in the district's zone),
/// in the years 1 to 9999 (422 naming the parameter beyond; 400 if it does not parse).
pub fn time_param(
    name: &str,
    raw: Option<&str>,
    offset: FixedOffset,
) -> Result<Option<DateTime<Utc>>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return check_query_time(name, t.with_timezone(&Utc)).map(Some);
    }
    let d = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        Error::invalid_parameter(
            name,
            format!("{raw:?} is neither an RFC 3339 time nor a date YYYY-MM-DD"),
        )
    })?;
    if !(1..=9999).contains(&d.year()) {
        return Err(Error::out_of_range(
            name,
            format!("{raw:?} is outside the years 1 to 9999"),
        ));
    }
    let t = d
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .ok_or_else(|| Error::out_of_range(name, format!("{raw:?} is not a representable date")))?;
    check_query_time(name, t.with_timezone(&Utc)).map(Some)
}

/// The period of the indicators (`from`, `to`) from its query: default `to` = `now`, `from` =
/// 30 days before `to`; `from` must be before `to`.
pub fn indicator_period(
    q: &wire::IndicatorsQuery,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let to = time_param("to", q.to.as_deref(), offset)?.unwrap_or(now);
    let from = match time_param("from", q.from.as_deref(), offset)? {
        Some(f) => f,
        None => to
            .checked_sub_signed(chrono::Duration::days(30))
            .ok_or_else(|| {
                Error::out_of_range(
                    "to",
                    format!(
                        "the default `from`, 30 days before {}, is not representable",
                        to.to_rfc3339()
                    ),
                )
            })
            .and_then(|f| check_query_time("to", f))?,
    };
    if from >= to {
        return Err(Error::invalid_parameter(
            "from",
            format!("{from} is not before `to` ({to})"),
        ));
    }
    Ok((from, to))
}

/// First-discovery, front-end resolution and on-time rates and overdue counts per district,
/// street and grid over the cases reported in the period of `q`; names from `atlas`.
pub fn indicators(
    store: &dyn Store,
    atlas: &Atlas,
    q: &wire::IndicatorsQuery,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<wire::IndicatorsReport> {
    let (from, to) = indicator_period(q, offset, now)?;
    if let Some(s) = &q.street {
        if atlas
            .find(s)
            .is_none_or(|id| atlas.feature(id).layer != Layer::Street)
        {
            return Err(Error::not_found(format!("no street with code {s}")));
        }
    }
    let as_of = to.min(now);
    let filter = CaseFilter {
        street: q.street.clone(),
        reported_from: Some(from),
        reported_to: Some(to),
        limit: i64::MAX,
        ..CaseFilter::default()
    };
    let (cases, _) = store.list_cases(&filter)?;
    let b = indicators::compute(&cases, as_of);
    let named = |m: std::collections::BTreeMap<String, indicators::Indicators>| {
        m.into_iter()
            .map(|(code, ind)| wire::AreaIndicators {
                name: atlas.find(&code).map(|id| atlas.feature(id).name.clone()),
                code,
                indicators: ind,
            })
            .collect()
    };
    Ok(wire::IndicatorsReport {
        from: from.with_timezone(&offset),
        to: to.with_timezone(&offset),
        as_of: as_of.with_timezone(&offset),
        street: q.street.clone(),
        district: b.district,
        streets: named(b.streets),
        grids: named(b.grids),
    })
}
