//! Cases: the task list (categories) and the working calendar, intake (check, route, look for
//! duplicates, store), the case list, one case, the street queue, the workflow's actions (who may
//! take them, decided on the case as stored) and the escalation sweep; the indicators are
//! [`super::assessment`]'s. The native API and Open311 both come here; routing itself is [`crate::routing::route`] and the
//! workflow's rules are [`crate::cases::workflow`].
//!
//! Input is bounded before any work: every text field is checked against its limit in
//! characters ([`crate::cases::limits`]), times against the clock
//! ([`crate::cases::check_reported_at`], [`crate::cases::check_event_time`]); query times must
//! lie in the years 1 to 9999, and every date computed from them is checked (422 naming the
//! parameter, never a panic).

use super::access::{Caller, Role};
use super::error::{Error, Result};
use super::idempotency::{self, Outcome};
use super::usize_param;
use crate::atlas::Atlas;
use crate::calendar::{Calendar, EXAMPLE_CALENDAR, Limit};
use crate::cases::workflow::{self, Party, Refusal, Request};
use crate::cases::{
    self as rules, Action, Case, CaseFilter, NewCase, Source, Stage, Track, Visibility, limits,
};
use crate::geometry::crs::Crs;
use crate::model::Layer;
use crate::routing::categories::{Category, EXAMPLE_TASK_LIST, parse_task_list};
use crate::routing::{self, RouteError, RouteOptions};
use crate::store::{KeyClaim, KeyWrite, Setting, Store};
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
        stage_zh: case.stage.name_zh().to_owned(),
        next: case.stage.actions(),
        reworks: case.reworks(),
        returns: case.returns(),
        pending_extension: case.pending_extension(),
        possible_duplicates: Vec::new(),
        feedback_secret: None,
        case,
    }
}

/// The working calendar in force: the store's, or the example calendar shipped with gridatlas
/// (`true`) when none was loaded or there is no store.
pub fn calendar(store: Option<&dyn Store>) -> Result<(Arc<Calendar>, bool)> {
    if let Some(json) = store
        .map(|s| s.setting(Setting::Calendar))
        .transpose()?
        .flatten()
    {
        let cal = Calendar::from_json(json.as_bytes())
            .map_err(|e| Error::internal(format!("the stored working calendar: {e}")))?;
        return Ok((Arc::new(cal), false));
    }
    static EXAMPLE: OnceLock<std::result::Result<Arc<Calendar>, String>> = OnceLock::new();
    EXAMPLE
        .get_or_init(|| {
            Calendar::from_json(EXAMPLE_CALENDAR)
                .map(Arc::new)
                .map_err(|e| format!("the embedded example calendar: {e}"))
        })
        .clone()
        .map(|c| (c, true))
        .map_err(Error::internal)
}

/// The calendar file in force, and whether it is the example.
pub fn calendar_view(store: Option<&dyn Store>) -> Result<wire::CalendarView> {
    let stored = store
        .map(|s| s.setting(Setting::Calendar))
        .transpose()?
        .flatten();
    let (text, example) = match stored {
        Some(t) => (t, false),
        None => (String::from_utf8_lossy(EXAMPLE_CALENDAR).into_owned(), true),
    };
    let calendar = serde_json::from_str(&text)
        .map_err(|e| Error::internal(format!("the working calendar is not JSON: {e}")))?;
    Ok(wire::CalendarView { example, calendar })
}

/// Replaces the working calendar with `body` (the calendar file; admin only). Cases keep the
/// due times already computed; new stages are counted on the new calendar.
pub fn replace_calendar(
    store: &dyn Store,
    caller: &Caller,
    body: &[u8],
) -> Result<wire::CalendarView> {
    if !caller.is_admin() {
        return Err(Error::forbidden(
            "replacing the working calendar needs an admin token",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| Error::unprocessable(format!("the calendar file is not UTF-8: {e}")))?;
    Calendar::from_json(body).map_err(Error::unprocessable)?;
    store.replace_setting(Setting::Calendar, text)?;
    calendar_view(Some(store))
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

/// Checks photo URLs: at most [`MAX_PHOTOS`], each http(s) and within its length.
fn check_photos(photos: &[String]) -> Result<()> {
    if photos.len() > MAX_PHOTOS {
        return Err(Error::field(
            "photos",
            format!("more than {MAX_PHOTOS} URLs"),
        ));
    }
    for u in photos {
        check_text("photos", u, limits::MEDIA_URL)?;
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err(Error::field(
                "photos",
                format!("{u:?} is not an http(s) URL"),
            ));
        }
    }
    Ok(())
}

/// The cheap checks of a submission, before any lookup: lengths, counts, times, coordinates.
pub fn check(input: wire::CaseInput, now: DateTime<Utc>) -> Result<Checked> {
    check_text("category", &input.category, limits::ID)?;
    check_text("description", &input.description, limits::DESCRIPTION)?;
    if let Some(a) = &input.address {
        check_text("address_string", a, limits::ADDRESS)?;
    }
    check_photos(&input.photos)?;
    if let Some(c) = &input.component {
        check_text("component", c, limits::ID)?;
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

/// Who may submit cases: intake desks, grid workers on patrol, dispatchers.
pub const REPORTERS: [Role; 3] = [Role::Intake, Role::GridWorker, Role::Dispatcher];

/// A case just reported: the stored case, its possible duplicates, and the reporter's feedback
/// secret (shown once; only its SHA-256 is stored).
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The case.
    pub case: Case,
    /// Open cases of its category near it.
    pub duplicates: Vec<wire::Duplicate>,
    /// The reporter's feedback secret.
    pub feedback_secret: String,
}

impl Submitted {
    /// The case as the API answers its intake, at `now`: with its duplicates and the secret.
    pub fn view(self, now: DateTime<Utc>) -> wire::CaseView {
        let mut v = case_view(self.case, now);
        v.possible_duplicates = self.duplicates;
        v.feedback_secret = Some(self.feedback_secret);
        v
    }
}

/// Routes a checked submission on `atlas`, looks for possible duplicates and stores it as a
/// reported case, its `reported` stage due by the category's `accept` limit on the working
/// calendar, with a new feedback secret (`contact`: the reporter's details, stored, never
/// shown).
pub fn submit(
    store: &dyn Store,
    caller: &Caller,
    atlas: &Atlas,
    registers: &dyn routing::Registers,
    checked: Checked,
    contact: Option<Value>,
    options: &RouteOptions,
) -> Result<Submitted> {
    submit_keyed(
        store, caller, atlas, registers, checked, contact, options, None,
    )?
    .done()
}

/// [`submit`] with an idempotency key ([`super::idempotency`]): a key already used for this
/// request gives the answer then (201, the case view at `key.now` with its duplicates, without
/// the feedback secret, which is never stored in clear) and stores nothing.
#[allow(clippy::too_many_arguments)]
pub fn submit_keyed(
    store: &dyn Store,
    caller: &Caller,
    atlas: &Atlas,
    registers: &dyn routing::Registers,
    checked: Checked,
    contact: Option<Value>,
    options: &RouteOptions,
    key: Option<&KeyClaim>,
) -> Result<Outcome<Submitted>> {
    caller.require_any(&REPORTERS)?;
    if let Some(r) = idempotency::earlier(store, key)? {
        return Ok(Outcome::Replay(r));
    }
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
    let mut assignment = routing::route(atlas, wgs.0, wgs.1, category, reported_at, options)
        .map_err(|e| match e {
            RouteError::Outside { .. } => Error::unprocessable(e.to_string())
                .with_extra(json!({"field": "lon/lat", "wgs84": [wgs.0, wgs.1]})),
            RouteError::OtherStreet { .. } => Error::field("category", e),
            RouteError::DueDate { .. } => Error::field("reported_at", e),
        })?;
    routing::route_assets(
        &mut assignment,
        atlas,
        registers,
        category,
        input.component.as_deref(),
        options,
    )
    .map_err(|e| Error::field("component", e))?;
    let (calendar, _) = calendar(Some(store))?;
    let due_at = workflow::due(&calendar, reported_at, category.limits.accept)
        .map_err(|e| Error::field("reported_at", e.to_string()))?;
    let duplicates = possible_duplicates(store, &category.code, wgs, reported_at, options)?;
    let mut description = input.description;
    if let Some(addr) = input.address.as_deref().filter(|a| !a.is_empty()) {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str("地址: ");
        description.push_str(addr);
    }
    let feedback_secret = super::access::new_secret();
    let new = NewCase {
        feedback_sha256: Some(crate::store::secret_hash(&feedback_secret)),
        category: category.code.clone(),
        source,
        description,
        input: (input.lon, input.lat, crs.as_str().to_owned()),
        reported_at,
        photos: input.photos,
        created_by: caller.person(None),
        role: caller.role().to_owned(),
        contact,
        assignment,
        limits: category.limits,
        due_at,
    };
    let now = key.map_or_else(Utc::now, |k| k.now);
    let answer = |case: &Case| {
        let mut v = case_view(case.clone(), now);
        v.possible_duplicates = duplicates.clone();
        idempotency::answer(201, &v, Some(case.id))
    };
    let key = key.map(|claim| KeyWrite {
        claim,
        answer: &answer,
    });
    let written = store.create_case_keyed(&new, key.as_ref())?;
    Ok(
        match idempotency::outcome(key.as_ref().map(|k| k.claim), written)? {
            Outcome::Done(case) => Outcome::Done(Submitted {
                case,
                duplicates,
                feedback_secret,
            }),
            Outcome::Replay(r) => Outcome::Replay(r),
        },
    )
}

/// Metres between two WGS84 points (haversine on a sphere of the mean Earth radius).
fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371_008.8;
    let (p1, p2) = (a.1.to_radians(), b.1.to_radians());
    let dp = p2 - p1;
    let dl = (b.0 - a.0).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// Most possible duplicates returned with a new case.
pub const MAX_DUPLICATES: usize = 10;

/// Open cases of `category` within the radius of `at`, reported in the window before
/// `reported_at` (and not after it), nearest first.
pub fn possible_duplicates(
    store: &dyn Store,
    category: &str,
    at: (f64, f64),
    reported_at: DateTime<Utc>,
    options: &RouteOptions,
) -> Result<Vec<wire::Duplicate>> {
    duplicates_where(store, category, at, reported_at, options, |_| true)
}

/// [`possible_duplicates`] among the cases `keep` lets through.
fn duplicates_where(
    store: &dyn Store,
    category: &str,
    at: (f64, f64),
    reported_at: DateTime<Utc>,
    options: &RouteOptions,
    keep: impl Fn(&Case) -> bool,
) -> Result<Vec<wire::Duplicate>> {
    let r = options.duplicate_radius_m;
    if r <= 0.0 || options.duplicate_window_h == 0 {
        return Ok(Vec::new());
    }
    let dlat = r / 111_000.0;
    let dlon = r / (111_000.0 * at.1.to_radians().cos().max(0.01));
    let from = reported_at - chrono::Duration::hours(i64::from(options.duplicate_window_h));
    let filter = CaseFilter {
        categories: vec![category.to_owned()],
        stages: Stage::OPEN.to_vec(),
        reported_from: Some(from),
        reported_to: Some(reported_at + chrono::Duration::microseconds(1)),
        bbox: Some([at.0 - dlon, at.1 - dlat, at.0 + dlon, at.1 + dlat]),
        limit: 1000,
        ..CaseFilter::default()
    };
    let (cases, _) = store.list_cases(&filter)?;
    let mut out: Vec<wire::Duplicate> = cases
        .into_iter()
        .filter(|c| keep(c))
        .filter_map(|c| {
            let d = metres(at, (c.assignment.point[0], c.assignment.point[1]));
            (d <= r).then(|| wire::Duplicate {
                id: c.id,
                stage: c.stage,
                distance_m: (d * 10.0).round() / 10.0,
                age_minutes: (reported_at - c.reported_at).num_minutes(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.id.cmp(&b.id)));
    out.truncate(MAX_DUPLICATES);
    Ok(out)
}

/// Case `id` from its path segment; 400 naming `id` unless a positive integer.
pub fn case_id(raw: &str) -> Result<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|&i| i > 0)
        .ok_or_else(|| Error::invalid_parameter("id", format!("{raw:?} is not a case id")))
}

/// What `caller` may see of the cases (403 for a role that reads no cases).
pub fn visibility(caller: &Caller) -> Result<Visibility> {
    if caller.is_admin() {
        return Ok(Visibility::All);
    }
    caller.require_any(&Role::CASE_READERS)?;
    let Some(t) = &caller.token else {
        return Ok(Visibility::All);
    };
    Ok(match t.role.parse::<Role>() {
        Ok(Role::Dispatcher) if !t.streets.iter().any(|s| s == "*") => {
            Visibility::Streets(t.streets.clone())
        }
        Ok(Role::Department) => Visibility::Departments(t.department.iter().cloned().collect()),
        Ok(Role::GridWorker) => Visibility::Grids(t.grids.clone()),
        _ => Visibility::All,
    })
}

/// Whether a case is visible under `v`.
pub(crate) fn visible(v: &Visibility, c: &Case) -> bool {
    match v {
        Visibility::All => true,
        Visibility::Streets(s) => c.street.as_ref().is_some_and(|x| s.contains(x)),
        Visibility::Grids(g) => [&c.grid, &c.assigned_grid]
            .into_iter()
            .any(|x| x.as_ref().is_some_and(|x| g.contains(x))),
        Visibility::Departments(d) => {
            c.department.as_ref().is_some_and(|x| d.contains(x))
                || c.events
                    .iter()
                    .any(|e| e.department.as_ref().is_some_and(|x| d.contains(x)))
        }
    }
}

/// Case `id`, if `caller` may see it (403 naming the scope otherwise).
pub fn get(store: &dyn Store, caller: &Caller, id: i64) -> Result<Case> {
    let v = visibility(caller)?;
    let case = store.get_case(id)?;
    if !visible(&v, &case) {
        return Err(Error::forbidden(format!(
            "case {id} is outside this token's scope ({})",
            scope_text(caller)
        )));
    }
    Ok(case)
}

/// Case `id` as the desk shows it: [`get`]'s case with, while it is open, its possible
/// duplicates — the other open cases of its category near it reported in the window before it,
/// among those the caller may see.
pub fn view(
    store: &dyn Store,
    caller: &Caller,
    id: i64,
    options: &RouteOptions,
    now: DateTime<Utc>,
) -> Result<wire::CaseView> {
    let case = get(store, caller, id)?;
    let duplicates = if case.done_at.is_none() {
        let v = visibility(caller)?;
        let at = (case.assignment.point[0], case.assignment.point[1]);
        duplicates_where(store, &case.category, at, case.reported_at, options, |c| {
            c.id != id && visible(&v, c)
        })?
    } else {
        Vec::new()
    };
    let mut view = case_view(case, now);
    view.possible_duplicates = duplicates;
    Ok(view)
}

fn scope_text(caller: &Caller) -> String {
    match &caller.token {
        None => "the operator".to_owned(),
        Some(t) => {
            let mut parts = vec![format!("role {}", t.role)];
            if !t.streets.is_empty() {
                parts.push(format!("streets {}", t.streets.join(", ")));
            }
            if !t.grids.is_empty() {
                parts.push(format!("grids {}", t.grids.join(", ")));
            }
            if let Some(d) = &t.department {
                parts.push(format!("department {d}"));
            }
            parts.join("; ")
        }
    }
}

fn flag_param(name: &str, raw: Option<&str>) -> Result<bool> {
    match raw {
        None | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(Error::invalid_parameter(
            name,
            format!("{other:?} is not 1/0/true/false"),
        )),
    }
}

/// The stages of a `stage` parameter: names separated by commas, or `open`.
fn stages_param(raw: Option<&str>) -> Result<Vec<Stage>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim) {
        if part == "open" {
            out.extend(Stage::OPEN);
        } else {
            out.push(
                part.parse::<Stage>()
                    .map_err(|e| Error::invalid_parameter("stage", e))?,
            );
        }
    }
    out.sort_by_key(|s| *s as u8);
    out.dedup();
    Ok(out)
}

/// The filter of the case list from its query, with the page size and offset; 400 naming the
/// parameter at fault.
pub fn list_filter(
    q: &wire::CaseListQuery,
    now: DateTime<Utc>,
    utc_offset: FixedOffset,
) -> Result<(CaseFilter, usize, usize)> {
    let limit = usize_param("limit", q.limit.as_deref(), 50, 1000)?;
    let max_offset = usize::try_from(i64::MAX).unwrap_or(usize::MAX);
    let offset = usize_param("offset", q.offset.as_deref(), 0, max_offset)?;
    let filter = CaseFilter {
        grid: q.grid.clone(),
        street: q.street.clone(),
        stages: stages_param(q.stage.as_deref())?,
        department: q.department.clone(),
        supervised: flag_param("supervised", q.supervised.as_deref())?,
        overdue_at: flag_param("overdue", q.overdue.as_deref())?.then_some(now),
        categories: categories_param(q.category.as_deref())?,
        reported_from: time_param("from", q.from.as_deref(), utc_offset)?,
        reported_to: time_param("to", q.to.as_deref(), utc_offset)?,
        offset: i64::try_from(offset)
            .map_err(|_| Error::invalid_parameter("offset", "too large"))?,
        limit: i64::try_from(limit).map_err(|_| Error::invalid_parameter("limit", "too large"))?,
        ..CaseFilter::default()
    };
    Ok((filter, limit, offset))
}

/// Most categories in one `category=` list.
pub const MAX_CATEGORY_FILTER: usize = 100;

/// `category=A,B`: the category codes (each as the task list spells them; an unknown one simply
/// matches nothing), at most [`MAX_CATEGORY_FILTER`].
fn categories_param(raw: Option<&str>) -> Result<Vec<String>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let codes: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    if codes.is_empty() {
        return Err(Error::invalid_parameter(
            "category",
            "no category code given",
        ));
    }
    if codes.len() > MAX_CATEGORY_FILTER {
        return Err(Error::invalid_parameter(
            "category",
            format!("at most {MAX_CATEGORY_FILTER} codes"),
        ));
    }
    if let Some(bad) = codes.iter().find(|c| c.len() > 64) {
        return Err(Error::invalid_parameter(
            "category",
            format!(
                "{:?}… is longer than 64 bytes",
                &bad.chars().take(16).collect::<String>()
            ),
        ));
    }
    Ok(codes)
}

/// A page of the cases `caller` may see, newest first.
pub fn list(
    store: &dyn Store,
    caller: &Caller,
    q: &wire::CaseListQuery,
    now: DateTime<Utc>,
    utc_offset: FixedOffset,
) -> Result<wire::CaseList> {
    let (mut filter, limit, offset) = list_filter(q, now, utc_offset)?;
    if let (Some(f), Some(t)) = (filter.reported_from, filter.reported_to) {
        if t < f {
            return Err(Error::invalid_parameter(
                "to",
                format!("{} is before from ({})", t.to_rfc3339(), f.to_rfc3339()),
            ));
        }
    }
    filter.visibility = visibility(caller)?;
    let (cases, total) = store.list_cases(&filter)?;
    Ok(wire::CaseList {
        items: cases.into_iter().map(|c| case_view(c, now)).collect(),
        total,
        limit,
        offset,
    })
}

/// How many of the cases `caller` may see, of a street or grid and reported in a period, are in
/// each stage; how many are open, overdue now, supervised and queued. One count per figure.
pub fn stats(
    store: &dyn Store,
    caller: &Caller,
    q: &wire::CaseStatsQuery,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<wire::CaseStats> {
    let from = time_param("from", q.from.as_deref(), offset)?;
    let to = time_param("to", q.to.as_deref(), offset)?;
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(Error::invalid_parameter(
                "to",
                format!("{} is before from ({})", t.to_rfc3339(), f.to_rfc3339()),
            ));
        }
    }
    let base = CaseFilter {
        grid: q.grid.clone(),
        street: q.street.clone(),
        reported_from: from,
        reported_to: to,
        visibility: visibility(caller)?,
        limit: 0,
        ..CaseFilter::default()
    };
    let count = |f: CaseFilter| -> Result<i64> { Ok(store.list_cases(&f)?.1) };
    let mut by_stage = std::collections::BTreeMap::new();
    let mut total = 0;
    let mut open = 0;
    for stage in Stage::ALL {
        let n = count(CaseFilter {
            stages: vec![stage],
            ..base.clone()
        })?;
        total += n;
        if Stage::OPEN.contains(&stage) {
            open += n;
        }
        by_stage.insert(stage.as_str().to_owned(), n);
    }
    Ok(wire::CaseStats {
        total,
        by_stage,
        open,
        overdue: count(CaseFilter {
            overdue_at: Some(now),
            ..base.clone()
        })?,
        supervised: count(CaseFilter {
            supervised: true,
            ..base.clone()
        })?,
        queued: count(CaseFilter {
            queued: true,
            stages: Stage::OPEN.to_vec(),
            ..base.clone()
        })?,
        from,
        to,
    })
}

/// Whether `caller` may act as `party` on `case`.
fn acts_as(caller: &Caller, party: Party, case: &Case) -> bool {
    if caller.is_admin() {
        return !matches!(party, Party::System | Party::Resident);
    }
    let Ok(role) = caller.role().parse::<Role>() else {
        return false;
    };
    let street = case.street.as_deref();
    match party {
        Party::Reporter => REPORTERS.contains(&role),
        Party::Dispatcher => role == Role::Dispatcher && caller.has_street(street),
        Party::Assignee => match case.track {
            Some(Track::BackEnd) => {
                role == Role::Department && caller.is_department(case.department.as_deref())
            }
            Some(Track::FrontEnd) => {
                role == Role::GridWorker && caller.has_grid(case.assigned_grid.as_deref())
            }
            None => false,
        },
        Party::GridWorker => match case.assigned_grid.as_deref().or(case.grid.as_deref()) {
            Some(g) => role == Role::GridWorker && caller.has_grid(Some(g)),
            // a case without a grid (the street queue): the street's sub-centre verifies it
            None => role == Role::Dispatcher && caller.has_street(street),
        },
        Party::Supervisor => role == Role::Supervisor,
        // the verdict has its own endpoint; the sweep is no caller
        Party::System | Party::Resident => false,
    }
}

/// Who `party` is for `case`, for a refusal.
fn party_text(party: Party, case: &Case) -> String {
    let street = case.street.as_deref().unwrap_or("(none)");
    match party {
        Party::Reporter => "an intake, grid_worker or dispatcher token".to_owned(),
        Party::Dispatcher => format!("a dispatcher token for street {street}"),
        Party::Assignee => match (case.track, &case.assigned_grid, &case.department) {
            (Some(Track::BackEnd), _, Some(d)) => format!("the department token of {d}"),
            (Some(Track::FrontEnd), Some(g), _) => format!("a grid_worker token for grid {g}"),
            _ => "the assignee's token".to_owned(),
        },
        Party::GridWorker => match case.assigned_grid.as_deref().or(case.grid.as_deref()) {
            Some(g) => format!("a grid_worker token for grid {g}"),
            None => format!("a dispatcher token for street {street} (the case has no grid)"),
        },
        Party::Supervisor => "a supervisor token".to_owned(),
        Party::System => "gridatlas itself".to_owned(),
        Party::Resident => "the reporter's verdict (POST /api/v1/cases/{id}/feedback)".to_owned(),
    }
}

/// The parsed, length-checked request of an action (everything but the case).
fn request(
    caller: &Caller,
    ev: wire::EventInput,
    now: DateTime<Utc>,
) -> Result<(Request, Option<Limit>)> {
    let action: Action = ev
        .action
        .parse()
        .map_err(|e: String| Error::field("action", e))?;
    for (name, value, max) in [
        ("by", &ev.by, limits::NAME),
        ("department", &ev.department, limits::NAME),
        ("grid", &ev.grid, limits::ID),
        ("note", &ev.note, limits::NOTE),
        ("extend_by", &ev.extend_by, limits::ID),
    ] {
        if let Some(v) = value {
            check_text(name, v, max)?;
        }
    }
    check_photos(&ev.photos)?;
    let at = time_field("at", ev.at.as_deref(), now)?;
    rules::check_event_time(at, now).map_err(|e| Error::field("at", e))?;
    let until = match ev.until.as_deref() {
        None => None,
        Some(u) => Some(time_field("until", Some(u), now)?),
    };
    let extend_by = match ev.extend_by.as_deref() {
        None => None,
        Some(_) if until.is_some() => {
            return Err(Error::field(
                "extend_by",
                "give `until` or `extend_by`, not both",
            ));
        }
        Some(_) if action != Action::RequestExtension => {
            return Err(Error::field(
                "extend_by",
                "only request_extension takes `extend_by`",
            ));
        }
        Some(l) => Some(
            l.parse::<Limit>()
                .map_err(|e| Error::field("extend_by", e))?,
        ),
    };
    let mut req = Request::new(action, at, &caller.person(ev.by.as_deref()), caller.role());
    req.note = ev.note;
    req.photos = ev.photos;
    req.grid = ev.grid;
    req.department = ev.department;
    req.until = until;
    req.duplicate_of = ev.duplicate_of;
    Ok((req, extend_by))
}

/// Takes an action on case `id`: checked against the workflow's table, the caller's right to act
/// as one of the action's parties, and the case as stored, in the transaction that records it
/// (409 naming the stage and the allowed actions; 403 naming who may; 422 naming the field).
pub fn act(
    store: &dyn Store,
    caller: &Caller,
    id: i64,
    ev: wire::EventInput,
    now: DateTime<Utc>,
) -> Result<Case> {
    act_keyed(store, caller, id, ev, now, None)?.done()
}

/// [`act`] with an idempotency key ([`super::idempotency`]): a key already used for this
/// request gives the answer then (200, the case view after the action at `now`) and changes
/// nothing.
pub fn act_keyed(
    store: &dyn Store,
    caller: &Caller,
    id: i64,
    ev: wire::EventInput,
    now: DateTime<Utc>,
    key: Option<&KeyClaim>,
) -> Result<Outcome<Case>> {
    if let Some(r) = idempotency::earlier(store, key)? {
        return Ok(Outcome::Replay(r));
    }
    let (mut req, extend_by) = request(caller, ev, now)?;
    if let Some(dup) = req.duplicate_of {
        if dup != id {
            store.get_case(dup).map_err(|e| match e {
                crate::store::StoreError::NotFound(_) => {
                    Error::field("duplicate_of", format!("there is no case {dup}"))
                }
                e => e.into(),
            })?;
        }
    }
    if let Some(g) = &req.grid {
        // a grid must exist in the atlas' sense of a code: the service cannot see the atlas
        // here, so the HTTP layer checks it (`check_grid`) before calling
        check_text("grid", g, limits::ID)?;
    }
    let (calendar, _) = calendar(Some(store))?;
    let answer = |case: &Case| idempotency::answer(200, &case_view(case.clone(), now), Some(id));
    let key = key.map(|claim| KeyWrite {
        claim,
        answer: &answer,
    });
    let written = store.change_case_keyed(
        id,
        &mut |case: &Case| {
            let rule = req.action.rule();
            if !rule.parties.iter().any(|p| acts_as(caller, *p, case)) {
                return Err(Refusal::Forbidden(format!(
                    "case {id}: {} needs {} (this token: {})",
                    req.action.as_str(),
                    rule.parties
                        .iter()
                        .filter(|p| !matches!(p, Party::System))
                        .map(|p| party_text(*p, case))
                        .collect::<Vec<_>>()
                        .join(" or "),
                    scope_text(caller)
                )));
            }
            if let Some(limit) = extend_by {
                req.until = Some(workflow::due(&calendar, case.due_at, limit)?);
            }
            workflow::apply(case, &req, &calendar)
        },
        key.as_ref(),
    )?;
    let outcome = match idempotency::outcome(key.as_ref().map(|k| k.claim), written)? {
        Outcome::Done(outcome) => outcome,
        Outcome::Replay(r) => return Ok(Outcome::Replay(r)),
    };
    let case = outcome.map_err(refusal)?;
    // 立案: a frontage case is confirmed against its shop, and counts on the shop's record (once
    // per case: the store keeps one entry per shop and case whatever retries)
    if req.action == Action::Open {
        if let Some(shop) = &case.assignment.shop {
            super::assets::count_case(store, &shop.id, case.id, &case.category, now)?;
        }
    }
    Ok(Outcome::Done(case))
}

/// A refusal of the workflow as an API error.
pub fn refusal(r: Refusal) -> Error {
    match r {
        Refusal::Conflict {
            detail,
            stage,
            allowed,
        } => Error::conflict(detail).with_extra(json!({
            "stage": stage,
            "allowed": allowed,
        })),
        Refusal::Forbidden(detail) => Error::forbidden(detail),
        Refusal::Invalid { field, detail } => Error::field(field, detail),
    }
}

/// Records the reporter's verdict on closed case `id` (回访): with the case's feedback secret
/// (valid until [`rules::FEEDBACK_DAYS`] days after closing), or by an intake desk (`caller`) for
/// the reporter. One verdict per case (409 for a later one); "not resolved" reopens the case to
/// its last assignee (the `reopen` action, counted).
pub fn give_feedback(
    store: &dyn Store,
    caller: Option<&Caller>,
    id: i64,
    input: wire::FeedbackInput,
    now: DateTime<Utc>,
) -> Result<Case> {
    let satisfaction: rules::Satisfaction = input
        .satisfaction
        .parse()
        .map_err(|e: String| Error::field("satisfaction", e))?;
    if let Some(c) = &input.comment {
        check_text("comment", c, limits::NOTE)?;
    }
    if let Some(s) = &input.secret {
        check_text("secret", s, limits::ID)?;
    }
    let secret = match (caller, input.secret.as_deref()) {
        (Some(c), _) => {
            c.require(Role::Intake)?;
            None
        }
        (None, Some(s)) => Some(s),
        (None, None) => {
            return Err(Error::unauthorized(
                "a verdict needs the case's feedback `secret` (given at intake) or an intake token",
            ));
        }
    };
    let via = caller.map_or_else(|| "link".to_owned(), |c| c.person(None));
    let feedback = rules::Feedback {
        at: now,
        resolved: input.resolved,
        satisfaction,
        comment: input.comment.filter(|c| !c.trim().is_empty()),
        via: via.clone(),
    };
    let (calendar, _) = calendar(Some(store))?;
    let outcome = store.give_feedback(id, &feedback, secret, &mut |case: &Case| {
        if let Some(f) = &case.feedback {
            return Err(Refusal::Conflict {
                detail: format!(
                    "case {id} already has the reporter's verdict (given {}); one verdict per case",
                    f.at.to_rfc3339()
                ),
                stage: case.stage,
                allowed: case.stage.actions(),
            });
        }
        if case.stage != Stage::Closed {
            return Err(Refusal::Conflict {
                detail: format!(
                    "case {id} is {} {}: the reporter's verdict is given once it is closed",
                    case.stage.as_str(),
                    case.stage.name_zh()
                ),
                stage: case.stage,
                allowed: case.stage.actions(),
            });
        }
        if secret.is_some() {
            let closed = case.done_at.unwrap_or(case.updated_at);
            if now > closed + chrono::Duration::days(rules::FEEDBACK_DAYS) {
                return Err(Refusal::Forbidden(format!(
                    "the feedback link of case {id} expired {} days after closing ({})",
                    rules::FEEDBACK_DAYS,
                    closed.to_rfc3339()
                )));
            }
        }
        if feedback.resolved {
            return Ok(None);
        }
        let mut req = Request::new(Action::Reopen, now, &via, "reporter");
        req.note = Some(format!(
            "回访: 未解决 ({}){}",
            satisfaction.name_zh(),
            feedback
                .comment
                .as_deref()
                .map(|c| format!(": {c}"))
                .unwrap_or_default()
        ));
        workflow::apply(case, &req, &calendar).map(Some)
    });
    outcome
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(d) => Error::conflict(d),
            e => e.into(),
        })?
        .map_err(refusal)
}

/// Escalates every front-end case whose front-end limit passed by `now` to the back end (at
/// its due time); returns the cases escalated, as they are now. Run by the server every minute.
pub fn sweep(store: &dyn Store, now: DateTime<Utc>) -> Result<Vec<Case>> {
    let (calendar, _) = calendar(Some(store))?;
    let filter = CaseFilter {
        stages: vec![Stage::Dispatched],
        overdue_at: Some(now),
        limit: 1000,
        ..CaseFilter::default()
    };
    let (cases, _) = store.list_cases(&filter)?;
    let mut escalated = Vec::new();
    for c in cases.iter().filter(|c| c.track == Some(Track::FrontEnd)) {
        let outcome = store.change_case(c.id, &mut |case: &Case| {
            if case.stage != Stage::Dispatched
                || case.track != Some(Track::FrontEnd)
                || case.due_at > now
            {
                return Err(Refusal::Forbidden("no longer due for escalation".into()));
            }
            let last = case
                .events
                .iter()
                .map(|e| e.at)
                .max()
                .unwrap_or(case.due_at);
            let mut req = Request::new(
                Action::Escalate,
                case.due_at.max(last),
                "gridatlas",
                "system",
            );
            req.note = Some(format!(
                "the front-end limit ({}) passed at {}",
                case.limits.front_end,
                case.due_at.to_rfc3339()
            ));
            workflow::apply(case, &req, &calendar)
        })?;
        if let Ok(case) = outcome {
            escalated.push(case);
        }
    }
    Ok(escalated)
}

/// The cases waiting in `street`'s queue (the routing found no grid), oldest first, each with
/// the street's nearest grids as suggestions.
pub fn queue(
    store: &dyn Store,
    caller: &Caller,
    atlas: &Atlas,
    q: &wire::QueueQuery,
    now: DateTime<Utc>,
) -> Result<wire::Queue> {
    caller.require_any(&[Role::Dispatcher, Role::Supervisor])?;
    let street = match (&q.street, &caller.token) {
        (Some(s), _) => s.clone(),
        (None, Some(t)) if t.streets.len() == 1 && t.streets[0] != "*" => t.streets[0].clone(),
        _ => {
            return Err(Error::invalid_parameter(
                "street",
                "required (the token is not scoped to exactly one street)",
            ));
        }
    };
    if atlas
        .find(&street)
        .is_none_or(|id| atlas.feature(id).layer != Layer::Street)
    {
        return Err(Error::not_found(format!("no street with code {street}")));
    }
    if !caller.has(Role::Supervisor) && !caller.has_street(Some(&street)) {
        return Err(Error::forbidden(format!(
            "street {street} is outside this token's scope ({})",
            scope_text(caller)
        )));
    }
    let limit = usize_param("limit", q.limit.as_deref(), 50, 1000)?;
    let offset = usize_param("offset", q.offset.as_deref(), 0, 1_000_000)?;
    let filter = CaseFilter {
        street: Some(street.clone()),
        queued: true,
        stages: vec![
            Stage::Reported,
            Stage::Accepted,
            Stage::Verified,
            Stage::Opened,
        ],
        offset: i64::try_from(offset)
            .map_err(|_| Error::invalid_parameter("offset", "too large"))?,
        limit: i64::try_from(limit).map_err(|_| Error::invalid_parameter("limit", "too large"))?,
        ..CaseFilter::default()
    };
    let (cases, total) = store.list_cases(&filter)?;
    let items = cases
        .into_iter()
        .map(|c| {
            let p = c.assignment.point;
            wire::QueuedCase {
                suggestions: routing::nearest_grids(atlas, p[0], p[1], &street, 3),
                case: case_view(c, now),
            }
        })
        .collect();
    Ok(wire::Queue {
        street,
        items,
        total,
        limit,
        offset,
    })
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
