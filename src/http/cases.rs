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
//! The flows are [`crate::service::cases`]; a handler authenticates, reads the body within its
//! limit ([`MAX_CASE_BODY_BYTES`]), makes the service call on the blocking pool and answers the
//! typed result.

use super::AppState;
use super::auth::{self, Caller, Role};
use super::drafts::blocking;
use super::error::{ApiError, ApiResult};
use super::query::Params;
use crate::cases::Case;
use crate::routing::categories::Category;
use crate::service::cases as service;
use crate::wire::cases as wire;
use crate::wire::problem::Problem;
use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;

pub use crate::wire::cases::{CaseInput, EventInput};

/// Most bytes of a case or event body (native JSON or an Open311 form): ample for every field at
/// its limit however escaped, far below the server's upload limit.
pub const MAX_CASE_BODY_BYTES: usize = 1024 * 1024;

/// The categories in force: the store's, or the example list when serving a file.
pub async fn categories_of(state: &AppState) -> ApiResult<Arc<Vec<Category>>> {
    let store = state.store().ok();
    blocking(move || service::categories(store.as_deref())).await
}

/// Checks a text field's length in characters; 422 naming the field and the limit.
pub fn check_text(name: &str, value: &str, max: usize) -> ApiResult<()> {
    Ok(service::check_text(name, value, max)?)
}

/// Checks that a query time lies in the years 1 to 9999; 422 naming the parameter otherwise.
pub fn check_query_time(name: &str, t: DateTime<Utc>) -> ApiResult<DateTime<Utc>> {
    Ok(service::check_query_time(name, t)?)
}

/// Checks, routes and stores a case (native API and Open311); errors name the field at fault.
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    input: CaseInput,
    contact: Option<Value>,
) -> ApiResult<Case> {
    let checked = service::check(input, Utc::now())?;
    let atlas = match checked.at() {
        None => state.atlas(),
        Some(at) => super::lookup::atlas_at(state, at.to_owned()).await?,
    };
    let store = state.store()?;
    let caller = caller.clone();
    let options = state.config().routing;
    let case = blocking(move || {
        service::submit(store.as_ref(), &caller, &atlas, checked, contact, &options)
    })
    .await?;
    metrics::counter!("gridatlas_cases_total", "confidence" => case.assignment.confidence.as_str())
        .increment(1);
    Ok(case)
}

/// `GET /api/v1/categories`: the case categories (task list items).
#[utoipa::path(get, path = "/api/v1/categories", tag = "cases",
    params(wire::CategoriesQuery),
    responses((status = 200, description = "The categories", body = wire::Categories),
        (status = 400, description = "Invalid parameter (`layer` not a grid layer) or query string", body = Problem, content_type = "application/problem+json")))]
pub async fn list_categories(
    State(state): State<AppState>,
    Params(q): Params<wire::CategoriesQuery>,
) -> ApiResult<Json<wire::Categories>> {
    let cats = categories_of(&state).await?;
    Ok(Json(service::list_categories(&cats, &q)?))
}

/// `PUT /api/v1/categories` (admin): replaces the task list.
#[utoipa::path(put, path = "/api/v1/categories", tag = "cases",
    request_body(content = Object, description = "A task list: `{groups: [{code, name_zh, name_en, layer, list, street?, items: [{code, name_zh, name_en}]}]}`"),
    responses(
        (status = 200, description = "The new categories", body = wire::Categories),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 4 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid task list: every problem listed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_categories(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<wire::Categories>> {
    let caller = auth::require(&state, &headers, Role::Admin).await?;
    let store = state.store()?;
    let cats =
        blocking(move || service::replace_categories(store.as_ref(), &caller, &body)).await?;
    Ok(Json(cats))
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

/// `POST /api/v1/cases` (role intake): submit a case; it is routed and stored.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", operation_id = "create_case",
    request_body(content = CaseInput, description = "The case: point, crs, category, description, source, reported_at, photos"),
    responses(
        (status = 201, description = "The stored case with its `assignment` (grid, block, block_head, road_segment, management_units, confidence, due_at, generation)", body = wire::CaseView),
        (status = 400, description = "Malformed JSON, or an invalid `at`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No generation at `at`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 128 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown category, bad coordinates, a point outside the district; `description` over 2,000 characters, over 20 `photos` or one over 2,048 characters; `reported_at` more than 5 minutes ahead or more than 366 days ago (the problem names the `field` and the `limit`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store, or the generation asked for with `at` is being built (Retry-After)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Response> {
    let caller = auth::require(&state, &headers, Role::Intake).await?;
    let input: CaseInput = small_json(req, &state).await?;
    let case = submit(&state, &caller, input, None).await?;
    let id = case.id;
    let view = service::case_view(case, Utc::now());
    let mut resp = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("/api/v1/cases/{id}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `GET /api/v1/cases/{id}` (role intake).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", operation_id = "get_case",
    params(("id" = i64, Path, description = "Case id")),
    responses((status = 200, description = "The case with its assignment and events", body = wire::CaseView),
        (status = 400, description = "`id` is not a case id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<wire::CaseView>> {
    auth::require(&state, &headers, Role::Intake).await?;
    let id = service::case_id(&id)?;
    let store = state.store()?;
    let case = blocking(move || {
        service::get(store.as_ref(), id).map(|c| service::case_view(c, Utc::now()))
    })
    .await?;
    Ok(Json(case))
}

/// `GET /api/v1/cases` (role intake): cases, newest first, paged.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", operation_id = "list_cases",
    params(wire::CaseListQuery),
    responses((status = 200, description = "A page of cases", body = wire::CaseList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::CaseListQuery>,
) -> ApiResult<Json<wire::CaseList>> {
    auth::require(&state, &headers, Role::Intake).await?;
    let store = state.store()?;
    Ok(Json(
        blocking(move || service::list(store.as_ref(), &q, Utc::now())).await?,
    ))
}

/// `POST /api/v1/cases/{id}/events` (role intake): change a case's status.
#[utoipa::path(post, path = "/api/v1/cases/{id}/events", tag = "cases", operation_id = "add_case_event",
    params(("id" = i64, Path, description = "Case id")),
    request_body(content = EventInput, description = "The new status, who, when, department, note"),
    responses((status = 200, description = "The case after the change", body = wire::CaseView),
        (status = 400, description = "Malformed JSON, or `id` is not a case id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The transition is not allowed from the case's status (the reason and the allowed ones are named), or another change came first", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown status; bad time, `at` before the case's latest event or more than 5 minutes ahead; `note` over 1,000 characters, `by` or `department` over 100 (the problem names the `field` and the `limit`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn add_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Json<wire::CaseView>> {
    let caller = auth::require(&state, &headers, Role::Intake).await?;
    let id = service::case_id(&id)?;
    let ev: EventInput = small_json(req, &state).await?;
    let store = state.store()?;
    let case = blocking(move || {
        let now = Utc::now();
        service::add_event(store.as_ref(), &caller, id, ev, now).map(|c| service::case_view(c, now))
    })
    .await?;
    Ok(Json(case))
}

/// `GET /api/v1/indicators?street=&from=&to=`: first-discovery, front-end resolution and
/// on-time rates and overdue counts per district, street and grid.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "cases",
    params(wire::IndicatorsQuery),
    responses((status = 200, description = "Indicators per district, street and grid; rates are null when nothing is counted", body = wire::IndicatorsReport),
        (status = 400, description = "Invalid parameter (`from`, `to` not a time or date; `from` not before `to`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No street with that code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time outside the years 1 to 9999", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_indicators(
    State(state): State<AppState>,
    Params(q): Params<wire::IndicatorsQuery>,
) -> ApiResult<Json<wire::IndicatorsReport>> {
    let offset = state.config().routing.utc_offset;
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        blocking(move || service::indicators(store.as_ref(), &atlas, &q, offset, Utc::now()))
            .await?,
    ))
}
