//! Case intake over the native API: categories (the task list), cases and their status changes,
//! and indicators.
//!
//! - `GET /api/v1/categories[?layer=&street=]` (public read), `PUT /api/v1/categories` (admin:
//!   replaces the task list; body in the task-list file format);
//! - `POST /api/v1/cases` (intake, grid_worker, dispatcher) → 201 with the reported case, its
//!   assignment and its possible duplicates;
//!   `GET /api/v1/cases/{id}`, `GET /api/v1/cases?grid=&street=&stage=&department=&supervised=
//!   &overdue=1&limit=&offset=` (the roles that read cases, each within its scope),
//!   `POST /api/v1/cases/{id}/events` (an action of the workflow by the party the table names;
//!   409 naming the stage and the allowed actions);
//! - `GET /api/v1/queue?street=` (dispatcher, supervisor): a street's queue;
//! - `GET /api/v1/calendar` (public read), `PUT /api/v1/calendar` (admin): the working calendar;
//! - `GET /api/v1/indicators?street=&from=&to=` (public read).
//!
//! The flows are [`crate::service::cases`]; a handler authenticates, reads the body within its
//! limit ([`MAX_CASE_BODY_BYTES`]), makes the service call on the blocking pool and answers the
//! typed result.

use super::AppState;
use super::auth::{self, Caller, Role};
use super::error::{ApiError, ApiResult};
use super::idempotency;
use super::query::Params;
use crate::routing::categories::Category;
use crate::service::cases as service;
use crate::service::idempotency::Outcome;
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
    state
        .blocking(move || service::categories(store.as_deref()))
        .await
}

/// Checks a text field's length in characters; 422 naming the field and the limit.
pub fn check_text(name: &str, value: &str, max: usize) -> ApiResult<()> {
    Ok(service::check_text(name, value, max)?)
}

/// Checks that a query time lies in the years 1 to 9999; 422 naming the parameter otherwise.
pub fn check_query_time(name: &str, t: DateTime<Utc>) -> ApiResult<DateTime<Utc>> {
    Ok(service::check_query_time(name, t)?)
}

/// Checks, routes and stores a case (native API and Open311), with its possible duplicates and
/// feedback secret; errors name the field at fault.
pub async fn submit(
    state: &AppState,
    caller: &Caller,
    input: CaseInput,
    contact: Option<Value>,
) -> ApiResult<service::Submitted> {
    Ok(submit_keyed(state, caller, input, contact, None)
        .await?
        .done()?)
}

/// [`submit`] with an idempotency key: a replay is not announced again.
async fn submit_keyed(
    state: &AppState,
    caller: &Caller,
    input: CaseInput,
    contact: Option<Value>,
    key: Option<crate::store::KeyClaim>,
) -> ApiResult<Outcome<service::Submitted>> {
    let checked = service::check(input, Utc::now())?;
    let atlas = match checked.at() {
        None => state.atlas(),
        Some(at) => super::lookup::atlas_at(state, at.to_owned()).await?,
    };
    let store = state.store()?;
    let caller = caller.clone();
    let options = state.config().routing;
    let registers = state.registers();
    let outcome = state
        .blocking(move || {
            service::submit_keyed(
                store.as_ref(),
                &caller,
                &atlas,
                registers.as_ref(),
                checked,
                contact,
                &options,
                key.as_ref(),
            )
        })
        .await?;
    let case = match outcome {
        Outcome::Done(case) => case,
        Outcome::Replay(r) => return Ok(Outcome::Replay(r)),
    };
    metrics::counter!("gridatlas_cases_total", "confidence" => case.case.assignment.confidence.as_str())
        .increment(1);
    state.announce_case(&case.case);
    Ok(Outcome::Done(case))
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
    request_body(content = wire::TaskListFile, description = "A task list file (任务清单)"),
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
    let cats = state
        .blocking(move || service::replace_categories(store.as_ref(), &caller, &body))
        .await?;
    Ok(Json(cats))
}

/// Reads a JSON body of at most [`MAX_CASE_BODY_BYTES`] (413 naming the limit beyond).
pub(super) async fn small_json<T: DeserializeOwned>(
    mut req: Request,
    state: &AppState,
) -> ApiResult<T> {
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

/// [`small_json`], with the body's bytes (for its idempotency key).
async fn small_json_bytes<T: DeserializeOwned>(
    mut req: Request,
    state: &AppState,
) -> ApiResult<(T, axum::body::Bytes)> {
    let limit = MAX_CASE_BODY_BYTES.min(state.config().max_body_bytes);
    DefaultBodyLimit::max(limit).apply(&mut req);
    let headers = req.headers().clone();
    let bytes = match axum::body::Bytes::from_request(req, state).await {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(ApiError::too_large(format!(
                "the body is larger than {limit} bytes (the limit of a case or event)"
            ))
            .with_extra(json!({"limit": limit})));
        }
        Err(e) => return Err(e.into()),
    };
    let mut again = Request::new(axum::body::Body::from(bytes.clone()));
    *again.headers_mut() = headers;
    let Json(v) = Json::<T>::from_request(again, state).await?;
    Ok((v, bytes))
}

/// `POST /api/v1/cases` (role intake): submit a case; it is routed and stored.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", operation_id = "create_case",
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 128, pattern = "^[!-~]([ -~]{0,126}[!-~])?$", description = "1 to 128 printable ASCII characters (a UUID), chosen by the client for this request and sent again with its retries: a retry of the same request (same route and body) with the same token is answered with the first answer, marked `Idempotent-Replayed: true`, and not applied again; the key is kept for 24 hours (`--idempotency-ttl-hours`)")),
    request_body(content = CaseInput, description = "The case: point, crs, category, description, source, reported_at, photos"),
    responses(
        (status = 201, description = "The stored case, stage `reported`, with its `assignment` (grid, block, block_head, road_segment, management_units, confidence, generation), the due time of its stage and its `possible_duplicates` (open cases of the category within 50 m reported in the 72 hours before); a replay has no `feedback_secret` (it is shown once, only its SHA-256 is kept)", body = wire::CaseView,
            headers(("Location" = String, description = "The case's URL"), ("Idempotent-Replayed" = String, description = "`true` when this is the first answer to an earlier request with the same `Idempotency-Key`, given again"))),
        (status = 400, description = "Malformed JSON, or an invalid `at`, or an invalid `Idempotency-Key` header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an intake, grid_worker or dispatcher token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No generation at `at`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 128 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this `Idempotency-Key` is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`Idempotency-Key` used for a different request; unknown category, bad coordinates, a point outside the district; `description` over 2,000 characters, over 20 `photos` or one over 2,048 characters; `reported_at` more than 5 minutes ahead or more than 366 days ago (the problem names the `field` and the `limit`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store, or the generation asked for with `at` is being built (Retry-After)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &service::REPORTERS).await?;
    idempotency::key(&headers)?;
    let (input, body): (CaseInput, _) = small_json_bytes(req, &state).await?;
    let now = Utc::now();
    let key = idempotency::claim(
        &state,
        &caller,
        &headers,
        "POST /api/v1/cases".into(),
        &body,
        now,
    )?;
    let submitted = match submit_keyed(&state, &caller, input, None, key).await? {
        Outcome::Done(s) => s,
        Outcome::Replay(r) => {
            let location = r.resource_id.map(|id| format!("/api/v1/cases/{id}"));
            return Ok(idempotency::replay(r, location));
        }
    };
    let id = submitted.case.id;
    let view = submitted.view(now);
    let mut resp = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("/api/v1/cases/{id}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `GET /api/v1/cases/{id}` (a role that reads cases, within its scope).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", operation_id = "get_case",
    params(("id" = i64, Path, minimum = 1, description = "Case id")),
    responses((status = 200, description = "The case with its assignment and events and, while it is open, its `possible_duplicates` (the other open cases of its category within 50 m reported in the 72 hours before it, among those the token may see)", body = wire::CaseView),
        (status = 400, description = "`id` is not a case id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role that reads no cases, or the case is outside the token's scope (streets, grids, department)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<wire::CaseView>> {
    let caller = auth::require_any(&state, &headers, &Role::CASE_READERS).await?;
    let id = service::case_id(&id)?;
    let store = state.store()?;
    let options = state.config().routing;
    let case = state
        .blocking(move || service::view(store.as_ref(), &caller, id, &options, Utc::now()))
        .await?;
    Ok(Json(case))
}

/// `GET /api/v1/cases` (a role that reads cases): the cases of the token's scope, newest first,
/// paged.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", operation_id = "list_cases",
    params(wire::CaseListQuery),
    responses((status = 200, description = "A page of cases", body = wire::CaseList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role that reads no cases", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::CaseListQuery>,
) -> ApiResult<Json<wire::CaseList>> {
    let caller = auth::require_any(&state, &headers, &Role::CASE_READERS).await?;
    let store = state.store()?;
    let offset = state.config().routing.utc_offset;
    Ok(Json(
        state
            .blocking(move || service::list(store.as_ref(), &caller, &q, Utc::now(), offset))
            .await?,
    ))
}

/// `GET /api/v1/cases/stats` (a role that reads cases): per-stage counts of the cases of the
/// token's scope, a street or grid, and a period.
#[utoipa::path(get, path = "/api/v1/cases/stats", tag = "cases", operation_id = "case_stats",
    params(wire::CaseStatsQuery),
    responses((status = 200, description = "Counts per stage, open, overdue, supervised and queued", body = wire::CaseStats),
        (status = 400, description = "Invalid parameter (a time that does not parse, `to` before `from`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role that reads no cases", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time outside the years 1 to 9999", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn stats(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::CaseStatsQuery>,
) -> ApiResult<Json<wire::CaseStats>> {
    let caller = auth::require_any(&state, &headers, &Role::CASE_READERS).await?;
    let store = state.store()?;
    let offset = state.config().routing.utc_offset;
    Ok(Json(
        state
            .blocking(move || service::stats(store.as_ref(), &caller, &q, offset, Utc::now()))
            .await?,
    ))
}

/// `POST /api/v1/cases/{id}/events`: take an action of the workflow on a case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/events", tag = "cases", operation_id = "add_case_event",
    params(("id" = i64, Path, minimum = 1, description = "Case id"), ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 128, pattern = "^[!-~]([ -~]{0,126}[!-~])?$", description = "1 to 128 printable ASCII characters (a UUID), chosen by the client for this request and sent again with its retries: a retry of the same request (same route and body) with the same token is answered with the first answer, marked `Idempotent-Replayed: true`, and not applied again; the key is kept for 24 hours (`--idempotency-ttl-hours`)")),
    request_body(content = EventInput, description = "The action, who, when, note, photos, target (grid or department), until, extend_by, duplicate_of"),
    responses((status = 200, description = "The case after the action", body = wire::CaseView, headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to an earlier request with the same `Idempotency-Key`, given again"))),
        (status = 400, description = "Malformed JSON, or `id` is not a case id, or an invalid `Idempotency-Key` header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token may not take this action on this case (the problem names who may: a dispatcher of the case's street, the department or grid it is dispatched to, a grid worker of its grid, a supervisor)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The action is not allowed from the case's stage (the problem names the `stage` and the `allowed` actions), or another change came first, or a request with this `Idempotency-Key` is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`Idempotency-Key` used for a different request; unknown action; a missing note, target or `until`; a bad time, `at` before the case's latest event or more than 5 minutes ahead; an unknown grid or `duplicate_of`; a field over its limit (the problem names the `field`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn add_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &ACTORS).await?;
    let id = service::case_id(&id)?;
    idempotency::key(&headers)?;
    let (ev, body): (EventInput, _) = small_json_bytes(req, &state).await?;
    let now = Utc::now();
    let key = idempotency::claim(
        &state,
        &caller,
        &headers,
        format!("POST /api/v1/cases/{id}/events"),
        &body,
        now,
    )?;
    if let Some(g) = &ev.grid {
        let atlas = state.atlas();
        if atlas
            .find(g)
            .is_none_or(|f| !atlas.feature(f).layer.is_grid())
        {
            return Err(service_error(crate::service::Error::field(
                "grid",
                format!("there is no grid {g} in the served generation"),
            )));
        }
    }
    let store = state.store()?;
    let outcome = state
        .blocking(move || service::act_keyed(store.as_ref(), &caller, id, ev, now, key.as_ref()))
        .await?;
    let case = match outcome {
        Outcome::Done(case) => service::case_view(case, now),
        Outcome::Replay(r) => return Ok(idempotency::replay(r, None)),
    };
    state.announce_case(&case.case);
    Ok(Json(case).into_response())
}

/// `POST /api/v1/cases/{id}/feedback`: the reporter's verdict on a closed case (回访), with the
/// case's feedback secret or an intake token.
#[utoipa::path(post, path = "/api/v1/cases/{id}/feedback", tag = "cases", operation_id = "give_feedback",
    params(("id" = i64, Path, minimum = 1, description = "Case id")),
    request_body(content = wire::FeedbackInput, description = "The verdict: `resolved`, `satisfaction`, `comment`, and the case's feedback `secret` unless an intake token is sent"),
    responses((status = 200, description = "The case with the verdict (reopened to disposal when not resolved)", body = wire::CaseView),
        (status = 400, description = "Malformed JSON, or `id` is not a case id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Neither a feedback secret nor a token; an unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The secret is not this case's, or the link expired 30 days after closing; a token other than intake", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The case is not closed, or already has a verdict", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown satisfaction; a comment over 1,000 characters", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn give_feedback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Json<wire::CaseView>> {
    // a token, when sent, is verified before the body is read
    let caller = if headers.contains_key(header::AUTHORIZATION) {
        Some(auth::require(&state, &headers, Role::Intake).await?)
    } else {
        None
    };
    let id = service::case_id(&id)?;
    let input: wire::FeedbackInput = small_json(req, &state).await?;
    let store = state.store()?;
    let case = state
        .blocking(move || {
            let now = Utc::now();
            service::give_feedback(store.as_ref(), caller.as_ref(), id, input, now)
                .map(|c| service::case_view(c, now))
        })
        .await?;
    state.announce_case(&case.case);
    Ok(Json(case))
}

/// Roles that take actions on cases.
pub const ACTORS: [Role; 4] = [
    Role::Dispatcher,
    Role::Department,
    Role::GridWorker,
    Role::Supervisor,
];

fn service_error(e: crate::service::Error) -> ApiError {
    e.into()
}

/// `GET /api/v1/queue?street=`: a street's cases the routing could not give a grid, waiting for
/// manual dispatch, with the nearest grids as suggestions.
#[utoipa::path(get, path = "/api/v1/queue", tag = "cases",
    params(wire::QueueQuery),
    responses((status = 200, description = "The street's queue, oldest first", body = wire::Queue),
        (status = 400, description = "Invalid parameter, or no `street` for a token not scoped to one street", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a dispatcher or supervisor token, or the street is outside its scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No street with that code", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn queue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::QueueQuery>,
) -> ApiResult<Json<wire::Queue>> {
    let caller = auth::require_any(&state, &headers, &[Role::Dispatcher, Role::Supervisor]).await?;
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || service::queue(store.as_ref(), &caller, &atlas, &q, Utc::now()))
            .await?,
    ))
}

/// `GET /api/v1/calendar`: the working calendar the stage limits are counted on.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "cases",
    responses((status = 200, description = "The calendar file, and whether it is the example shipped with gridatlas", body = wire::CalendarView)))]
pub async fn get_calendar(State(state): State<AppState>) -> ApiResult<Json<wire::CalendarView>> {
    let store = state.store().ok();
    Ok(Json(
        state
            .blocking(move || service::calendar_view(store.as_deref()))
            .await?,
    ))
}

/// `PUT /api/v1/calendar` (admin): replaces the working calendar.
#[utoipa::path(put, path = "/api/v1/calendar", tag = "cases",
    request_body(content = wire::CalendarFile, description = "A calendar file"),
    responses(
        (status = 200, description = "The new calendar", body = wire::CalendarView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid calendar file (the problem says what is wrong)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_calendar(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Json<wire::CalendarView>> {
    let caller = auth::require(&state, &headers, Role::Admin).await?;
    let body: Value = small_json(req, &state).await?;
    let store = state.store()?;
    let bytes = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    Ok(Json(
        state
            .blocking(move || service::replace_calendar(store.as_ref(), &caller, &bytes))
            .await?,
    ))
}
