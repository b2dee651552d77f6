//! Case intake over the native API: categories (the task list), cases and their status changes,
//! and indicators.
//!
//! - `GET /api/v1/categories[?layer=&street=]` (public read), `PUT /api/v1/categories` (admin:
//!   replaces the task list; body in the task-list file format);
//! - `POST /api/v1/cases` (role intake) → 201 with the case and its assignment;
//!   `GET /api/v1/cases/{id}`, `GET /api/v1/cases?grid=&street=&status=&overdue=1&limit=&offset=`,
//!   `POST /api/v1/cases/{id}/events` (role intake; 409 with the reason for a refused transition);
//! - `GET /api/v1/indicators?street=&from=&to=` (public read).
//!
//! Routing itself is [`crate::routing::route`]; the lifecycle rules are in [`crate::cases`].
//!
//! Input is bounded before any work: a case or event body is at most [`MAX_CASE_BODY_BYTES`];
//! every text field is checked against its limit in characters ([`crate::cases::limits`]), times
//! against the clock ([`crate::cases::check_reported_at`], [`crate::cases::check_event_at`]);
//! query times must lie in the years 1 to 9999, and every date computed from them is checked
//! (422 naming the parameter, never a panic).

use super::AppState;
use super::auth::{self, Caller, Role};
use super::drafts::{blocking, store_error};
use super::error::{ApiError, ApiResult};
use super::lookup::to_wgs84;
use crate::cases::{self as rules, Case, CaseFilter, NewCase, Source, Status, indicators, limits};
use crate::geometry::crs::Crs;
use crate::routing::categories::{Category, EXAMPLE_TASK_LIST, parse_task_list};
use crate::routing::{self, RouteError};
use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The categories in force: the store's, or the example list when serving a file.
pub async fn categories_of(state: &AppState) -> ApiResult<Arc<Vec<Category>>> {
    match state.store() {
        Ok(store) => {
            let cats = blocking(move || store.categories().map_err(store_error)).await?;
            Ok(Arc::new(cats))
        }
        Err(_) => {
            // The embedded list is tested to parse; should it not, that is a 500 naming why,
            // never an empty list.
            static EXAMPLE: OnceLock<Result<Arc<Vec<Category>>, String>> = OnceLock::new();
            EXAMPLE
                .get_or_init(|| {
                    parse_task_list(EXAMPLE_TASK_LIST)
                        .map(Arc::new)
                        .map_err(|p| format!("the embedded example task list: {}", p.join("; ")))
                })
                .clone()
                .map_err(ApiError::internal)
        }
    }
}

/// `GET /api/v1/categories`: the case categories (task list items).
#[utoipa::path(get, path = "/api/v1/categories", tag = "cases",
    params(
        ("layer" = Option<String>, Query, description = "Only categories owned by this grid layer"),
        ("street" = Option<String>, Query, description = "The district's items plus this street's own (自选) items"),
    ),
    responses((status = 200, description = "`{items: [{code, name_zh, name_en, layer, group, group_zh, group_en, list, street?}], total}`", body = Object)))]
pub async fn list_categories(
    State(state): State<AppState>,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q?;
    let layer = match q.get("layer") {
        None => None,
        Some(l) => Some(
            l.parse::<crate::model::Layer>()
                .ok()
                .filter(|l| l.is_grid())
                .ok_or_else(|| {
                    ApiError::invalid_parameter(
                        "layer",
                        format!(
                            "{l:?} is not a grid layer (resident_grid, street_grid, extended_grid)"
                        ),
                    )
                })?,
        ),
    };
    let cats = categories_of(&state).await?;
    let items: Vec<&Category> = cats
        .iter()
        .filter(|c| layer.is_none_or(|l| c.layer == l))
        .filter(|c| match (q.get("street"), &c.street) {
            (_, None) => true,
            (Some(s), Some(cs)) => s == cs,
            (None, Some(_)) => true,
        })
        .collect();
    Ok(Json(json!({"items": items, "total": items.len()})))
}

/// `PUT /api/v1/categories` (admin): replaces the task list.
#[utoipa::path(put, path = "/api/v1/categories", tag = "cases",
    request_body(content = Object, description = "A task list: `{groups: [{code, name_zh, name_en, layer, list, street?, items: [{code, name_zh, name_en}]}]}`"),
    responses(
        (status = 200, description = "The new categories", body = Object),
        (status = 401, description = "No token"), (status = 403, description = "Not an admin"),
        (status = 422, description = "Invalid task list: every problem listed", content_type = "application/problem+json"),
    ))]
pub async fn put_categories(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let caller = auth::require(&state, &headers, Role::Admin).await?;
    if !caller.is_admin() {
        return Err(ApiError::forbidden(
            "replacing the task list needs an admin token",
        ));
    }
    let cats = parse_task_list(&body).map_err(|problems| {
        ApiError::unprocessable(format!(
            "the task list has {} problem(s): {}",
            problems.len(),
            problems.first().cloned().unwrap_or_default()
        ))
        .with_extra(json!({"problems": problems}))
    })?;
    let store = state.store()?;
    let saved = cats.clone();
    blocking(move || store.replace_categories(&saved).map_err(store_error)).await?;
    Ok(Json(json!({"items": cats, "total": cats.len()})))
}

/// A case submission (native API and Open311 alike), before routing.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    /// Longitude in `crs`.
    pub lon: f64,
    /// Latitude in `crs`.
    pub lat: f64,
    /// wgs84 (default) | cgcs2000 | gcj02 | bd09.
    #[serde(default)]
    pub crs: Option<String>,
    /// Category code (see /api/v1/categories).
    pub category: String,
    /// What is wrong (at most 2,000 characters).
    #[serde(default)]
    pub description: String,
    /// patrol | hotline | app | open311.
    pub source: String,
    /// When reported (RFC 3339); default now. At most 5 minutes ahead of the server's clock, at
    /// most 366 days ago.
    #[serde(default)]
    pub reported_at: Option<String>,
    /// Photo URLs (at most 20, each http(s) and at most 2,048 characters).
    #[serde(default)]
    pub photos: Vec<String>,
    /// Route with the generation in force at this generation number or RFC 3339 time.
    #[serde(default)]
    pub at: Option<String>,
    /// The address as the reporter gave it (Open311 `address_string`, at most 500 characters);
    /// appended to the description. Not part of the native API.
    #[serde(skip)]
    pub address: Option<String>,
}

/// Most photo URLs per case.
const MAX_PHOTOS: usize = 20;

/// Most bytes of a case or event body (native JSON or an Open311 form): ample for every field at
/// its limit however escaped, far below the server's upload limit.
pub const MAX_CASE_BODY_BYTES: usize = 1024 * 1024;

/// A 422 problem naming a body field.
fn field_error(name: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::unprocessable(format!("field `{name}`: {detail}")).with_extra(json!({"field": name}))
}

/// Checks a text field's length in characters; 422 naming the field and the limit.
/// Text may not contain U+0000 either: PostgreSQL cannot store it, and both stores must agree.
pub fn check_text(name: &str, value: &str, max: usize) -> ApiResult<()> {
    rules::check_len(name, value, max).map_err(|detail| {
        ApiError::unprocessable(detail).with_extra(json!({"field": name, "limit": max}))
    })?;
    if value.contains('\0') {
        return Err(field_error(
            name,
            "contains U+0000 (NUL), which text cannot carry",
        ));
    }
    Ok(())
}

/// An optional RFC 3339 time field of a body (default `now`); 422 naming the field if it does
/// not parse.
fn time_field(name: &str, raw: Option<&str>, now: DateTime<Utc>) -> ApiResult<DateTime<Utc>> {
    let Some(s) = raw else {
        return Ok(now);
    };
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| field_error(name, format!("{s:?} is not an RFC 3339 time: {e}")))
}

/// Reads a JSON body of at most [`MAX_CASE_BODY_BYTES`] (413 naming the limit beyond).
async fn small_json<T: DeserializeOwned>(mut req: Request, state: &AppState) -> ApiResult<T> {
    let limit = MAX_CASE_BODY_BYTES.min(state.config().max_body_bytes);
    DefaultBodyLimit::max(limit).apply(&mut req);
    match Json::<T>::from_request(req, state).await {
        Ok(Json(v)) => Ok(v),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::too_large(format!(
            "the body is larger than {limit} bytes (the limit of a case or event)"
        ))
        .with_extra(json!({"limit": limit}))),
        Err(e) => Err(e.into()),
    }
}

/// Checks, routes and stores a case; errors name the field at fault.
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    input: CaseInput,
    contact: Option<Value>,
) -> ApiResult<Case> {
    let field = |name: &str, detail: String| field_error(name, detail);
    // the cheap checks first: lengths, counts, times
    check_text("category", &input.category, limits::ID)?;
    check_text("description", &input.description, limits::DESCRIPTION)?;
    if let Some(a) = &input.address {
        check_text("address_string", a, limits::ADDRESS)?;
    }
    if input.photos.len() > MAX_PHOTOS {
        return Err(field("photos", format!("more than {MAX_PHOTOS} URLs")));
    }
    for u in &input.photos {
        check_text("photos", u, limits::MEDIA_URL)?;
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err(field("photos", format!("{u:?} is not an http(s) URL")));
        }
    }
    let now = Utc::now();
    let reported_at = time_field("reported_at", input.reported_at.as_deref(), now)?;
    rules::check_reported_at(reported_at, now).map_err(|e| field("reported_at", e))?;
    let crs: Crs = match &input.crs {
        None => Crs::Wgs84,
        Some(s) => s.parse().map_err(|e: String| field("crs", e))?,
    };
    let source: Source = input
        .source
        .parse()
        .map_err(|e: String| field("source", e))?;
    let wgs = to_wgs84(input.lon, input.lat, crs).map_err(|e| field("lon/lat", e))?;
    let cats = categories_of(state).await?;
    let category = cats
        .iter()
        .find(|c| c.code == input.category)
        .cloned()
        .ok_or_else(|| {
            field(
                "category",
                format!(
                    "unknown category {:?} (GET /api/v1/categories lists them)",
                    input.category
                ),
            )
        })?;
    let atlas = match input.at.clone() {
        None => state.atlas(),
        Some(at) => super::lookup::atlas_at(state, at).await?,
    };
    let assignment = routing::route(
        &atlas,
        wgs.0,
        wgs.1,
        &category,
        reported_at,
        &state.config().routing,
    )
    .map_err(|e| match e {
        RouteError::Outside { .. } => ApiError::unprocessable(e.to_string())
            .with_extra(json!({"field": "lon/lat", "wgs84": [wgs.0, wgs.1]})),
        RouteError::OtherStreet { .. } => field("category", e.to_string()),
        RouteError::DueDate { .. } => field("reported_at", e.to_string()),
    })?;
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
    let store = state.store()?;
    let case = blocking(move || store.create_case(&new).map_err(store_error)).await?;
    metrics::counter!("gridatlas_cases_total", "confidence" => case.assignment.confidence.as_str())
        .increment(1);
    Ok(case)
}

/// The case as the API shows it (the reporter's contact details are never shown).
pub fn case_json(case: &Case, now: DateTime<Utc>) -> Value {
    let mut v = serde_json::to_value(case).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        o.insert("overdue".into(), json!(case.is_overdue(now)));
    }
    v
}

/// `POST /api/v1/cases` (role intake): submit a case; it is routed and stored.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", operation_id = "create_case",
    request_body(content = CaseInput, description = "The case: point, crs, category, description, source, reported_at, photos"),
    responses(
        (status = 201, description = "The stored case with its `assignment` (grid, block, block_head, road_segment, management_units, confidence, due_at, generation)", body = Object),
        (status = 400, description = "Malformed JSON", content_type = "application/problem+json"),
        (status = 401, description = "No token"), (status = 403, description = "Not an intake token"),
        (status = 413, description = "The body is over 1 MiB", content_type = "application/problem+json"),
        (status = 422, description = "Unknown category, bad coordinates, a point outside the district; `description` over 2,000 characters, over 20 `photos` or one over 2,048 characters; `reported_at` more than 5 minutes ahead or more than 366 days ago (the problem names the `field` and the `limit`)", content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Response> {
    let caller = auth::require(&state, &headers, Role::Intake).await?;
    let input: CaseInput = small_json(req, &state).await?;
    let case = submit(&state, &caller, input, None).await?;
    let mut resp = (StatusCode::CREATED, Json(case_json(&case, Utc::now()))).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("/api/v1/cases/{}", case.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

fn case_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|&i| i > 0)
        .ok_or_else(|| ApiError::invalid_parameter("id", format!("{raw:?} is not a case id")))
}

/// `GET /api/v1/cases/{id}` (role intake).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", operation_id = "get_case",
    params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, description = "The case with its assignment and events", body = Object),
        (status = 404, description = "No such case", content_type = "application/problem+json")))]
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    auth::require(&state, &headers, Role::Intake).await?;
    let id = case_id(&id)?;
    let store = state.store()?;
    let case = blocking(move || store.get_case(id).map_err(store_error)).await?;
    Ok(Json(case_json(&case, Utc::now())))
}

/// `GET /api/v1/cases` (role intake): cases, newest first, paged.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", operation_id = "list_cases",
    params(
        ("grid" = Option<String>, Query, description = "Grid code"),
        ("street" = Option<String>, Query, description = "Street code"),
        ("status" = Option<String>, Query, description = "assigned | resolved_front_end | escalated_back_end | closed"),
        ("overdue" = Option<String>, Query, description = "1: only cases past due and not done"),
        ("limit" = Option<usize>, Query, description = "Page size (default 50, at most 1000)"),
        ("offset" = Option<usize>, Query, description = "Skip this many"),
    ),
    responses((status = 200, description = "`{items, total, limit, offset}`", body = Object)))]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    auth::require(&state, &headers, Role::Intake).await?;
    let Query(q) = q?;
    let now = Utc::now();
    let (filter, limit, offset) = list_filter(&q, now)?;
    let store = state.store()?;
    let (cases, total) = blocking(move || store.list_cases(&filter).map_err(store_error)).await?;
    let items: Vec<Value> = cases.iter().map(|c| case_json(c, now)).collect();
    Ok(Json(
        json!({"items": items, "total": total, "limit": limit, "offset": offset}),
    ))
}

/// The filter of `GET /api/v1/cases` from its query, with the page size and offset; 400 naming
/// the parameter at fault.
pub fn list_filter(
    q: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> ApiResult<(CaseFilter, usize, usize)> {
    let limit = super::areas::usize_param(q, "limit", 50, 1000)?;
    let max_offset = usize::try_from(i64::MAX).unwrap_or(usize::MAX);
    let offset = super::areas::usize_param(q, "offset", 0, max_offset)?;
    let status = match q.get("status") {
        None => None,
        Some(s) => Some(
            s.parse::<Status>()
                .map_err(|e| ApiError::invalid_parameter("status", e))?,
        ),
    };
    let overdue_at = match q.get("overdue").map(String::as_str) {
        None | Some("0") | Some("false") => None,
        Some("1") | Some("true") => Some(now),
        Some(other) => {
            return Err(ApiError::invalid_parameter(
                "overdue",
                format!("{other:?} is not 1/0/true/false"),
            ));
        }
    };
    let filter = CaseFilter {
        grid: q.get("grid").cloned(),
        street: q.get("street").cloned(),
        status,
        overdue_at,
        offset: i64::try_from(offset)
            .map_err(|_| ApiError::invalid_parameter("offset", "too large"))?,
        limit: i64::try_from(limit)
            .map_err(|_| ApiError::invalid_parameter("limit", "too large"))?,
        ..CaseFilter::default()
    };
    Ok((filter, limit, offset))
}

/// A status change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// resolved_front_end | escalated_back_end | closed.
    pub status: String,
    /// Who did it (a person's name, at most 100 characters); the token is recorded too.
    #[serde(default)]
    pub by: Option<String>,
    /// The department taking over (escalated_back_end; at most 100 characters).
    #[serde(default)]
    pub department: Option<String>,
    /// A note (at most 1,000 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// When (RFC 3339); default now. Not before the case's latest event, at most 5 minutes ahead
    /// of the server's clock.
    #[serde(default)]
    pub at: Option<String>,
}

/// `POST /api/v1/cases/{id}/events` (role intake): change a case's status.
#[utoipa::path(post, path = "/api/v1/cases/{id}/events", tag = "cases", operation_id = "add_case_event",
    params(("id" = i64, Path, description = "Case id")),
    request_body(content = EventInput, description = "The new status, who, when, department, note"),
    responses((status = 200, description = "The case after the change", body = Object),
        (status = 404, description = "No such case", content_type = "application/problem+json"),
        (status = 409, description = "The transition is not allowed from the case's status (the reason and the allowed ones are named), or another change came first", content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", content_type = "application/problem+json"),
        (status = 422, description = "Unknown status; bad time, `at` before the case's latest event or more than 5 minutes ahead; `note` over 1,000 characters, `by` or `department` over 100 (the problem names the `field` and the `limit`)", content_type = "application/problem+json")))]
pub async fn add_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Json<Value>> {
    let caller = auth::require(&state, &headers, Role::Intake).await?;
    let id = case_id(&id)?;
    let ev: EventInput = small_json(req, &state).await?;
    let status: Status = ev
        .status
        .parse()
        .map_err(|e: String| field_error("status", e))?;
    for (name, value, max) in [
        ("by", &ev.by, limits::NAME),
        ("department", &ev.department, limits::NAME),
        ("note", &ev.note, limits::NOTE),
    ] {
        if let Some(v) = value {
            check_text(name, v, max)?;
        }
    }
    let now = Utc::now();
    let at = time_field("at", ev.at.as_deref(), now)?;
    let by = match ev.by.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => format!("{name} via {}", caller.name()),
        None => caller.name(),
    };
    let store = state.store()?;
    // The case's latest event bounds `at` from below; the store checks the order again in the
    // transaction that writes the event (a change made meanwhile: 409).
    let current = {
        let store = store.clone();
        blocking(move || store.get_case(id).map_err(store_error)).await?
    };
    rules::check_event_at(&current, at, now).map_err(|e| field_error("at", e))?;
    let case = blocking(move || {
        store
            .add_case_event(
                id,
                status,
                &by,
                ev.department.as_deref(),
                ev.note.as_deref(),
                at,
            )
            .map_err(store_error)
    })
    .await?;
    Ok(Json(case_json(&case, now)))
}

/// A 422 problem naming a query parameter whose value parses but is out of range.
fn out_of_range(name: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::unprocessable(format!("parameter `{name}`: {detail}"))
        .with_extra(json!({"parameter": name}))
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
pub fn check_query_time(name: &str, t: DateTime<Utc>) -> ApiResult<DateTime<Utc>> {
    let (min, max) = query_time_range();
    if t < min || t > max {
        return Err(out_of_range(
            name,
            format!("{} is outside the years 1 to 9999", t.to_rfc3339()),
        ));
    }
    Ok(t)
}

/// Parses a `from`/`to` bound: an RFC 3339 time or a date (midnight in the district's zone),
/// in the years 1 to 9999 (422 naming the parameter beyond; 400 if it does not parse).
pub fn time_param(
    q: &HashMap<String, String>,
    name: &str,
    offset: chrono::FixedOffset,
) -> ApiResult<Option<DateTime<Utc>>> {
    let Some(raw) = q.get(name) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return check_query_time(name, t.with_timezone(&Utc)).map(Some);
    }
    let d = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        ApiError::invalid_parameter(
            name,
            format!("{raw:?} is neither an RFC 3339 time nor a date YYYY-MM-DD"),
        )
    })?;
    if !(1..=9999).contains(&d.year()) {
        return Err(out_of_range(
            name,
            format!("{raw:?} is outside the years 1 to 9999"),
        ));
    }
    let t = d
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .ok_or_else(|| out_of_range(name, format!("{raw:?} is not a representable date")))?;
    check_query_time(name, t.with_timezone(&Utc)).map(Some)
}

/// The period of `GET /api/v1/indicators` (`from`, `to`) from its query: default `to` = `now`,
/// `from` = 30 days before `to`; `from` must be before `to`.
pub fn indicator_period(
    q: &HashMap<String, String>,
    offset: chrono::FixedOffset,
    now: DateTime<Utc>,
) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let to = time_param(q, "to", offset)?.unwrap_or(now);
    let from = match time_param(q, "from", offset)? {
        Some(f) => f,
        None => to
            .checked_sub_signed(chrono::Duration::days(30))
            .ok_or_else(|| {
                out_of_range(
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
        return Err(ApiError::invalid_parameter(
            "from",
            format!("{from} is not before `to` ({to})"),
        ));
    }
    Ok((from, to))
}

/// `GET /api/v1/indicators?street=&from=&to=`: first-discovery, front-end resolution and
/// on-time rates and overdue counts per district, street and grid.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "cases",
    params(
        ("street" = Option<String>, Query, description = "Only this street (and its grids)"),
        ("from" = Option<String>, Query, description = "Cases reported at or after (RFC 3339, or a date in the district's time zone); default 30 days before `to`"),
        ("to" = Option<String>, Query, description = "Cases reported before (RFC 3339, or a date: midnight starting it); default now"),
    ),
    responses((status = 200, description = "`{from, to, as_of, district, streets: [...], grids: [...]}`; rates are null when nothing is counted", body = Object)))]
pub async fn get_indicators(
    State(state): State<AppState>,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Query(q) = q?;
    let offset = state.config().routing.utc_offset;
    let now = Utc::now();
    let (from, to) = indicator_period(&q, offset, now)?;
    let street = q.get("street").cloned();
    if let Some(s) = &street {
        let atlas = state.atlas();
        if atlas
            .find(s)
            .is_none_or(|id| atlas.feature(id).layer != crate::model::Layer::Street)
        {
            return Err(ApiError::not_found(format!("no street with code {s}")));
        }
    }
    let as_of = to.min(now);
    let store = state.store()?;
    let filter = CaseFilter {
        street: street.clone(),
        reported_from: Some(from),
        reported_to: Some(to),
        limit: i64::MAX,
        ..CaseFilter::default()
    };
    let (cases, _) = blocking(move || store.list_cases(&filter).map_err(store_error)).await?;
    let b = indicators::compute(&cases, as_of);
    let atlas = state.atlas();
    let named = |m: std::collections::BTreeMap<String, indicators::Indicators>| -> Vec<Value> {
        m.into_iter()
            .map(|(code, ind)| {
                let name = atlas.find(&code).map(|id| atlas.feature(id).name.clone());
                let mut v = serde_json::to_value(&ind).unwrap_or(Value::Null);
                if let Value::Object(o) = &mut v {
                    o.insert("code".into(), json!(code));
                    o.insert("name".into(), json!(name));
                }
                v
            })
            .collect()
    };
    Ok(Json(json!({
        "from": from.with_timezone(&offset),
        "to": to.with_timezone(&offset),
        "as_of": as_of.with_timezone(&offset),
        "street": street,
        "district": b.district,
        "streets": named(b.streets),
        "grids": named(b.grids),
    })))
}
