//! The quality review by sampling (质量考评) over the native API:
//!
//! - `POST /api/v1/reviews` (supervisor): draw a sample of a period's closed cases, with its
//!   reviewers' assignments when they are given → 201 with the review (its seed, sample and
//!   assignments); `GET /api/v1/reviews` (supervisor: every review; reviewer: those assigning
//!   them something);
//! - `GET /api/v1/reviews/{id}` (supervisor: everything; reviewer: their own tasks);
//! - `POST /api/v1/reviews/{id}/assignments` (supervisor): the reviewers of a review drawn
//!   without them;
//! - `GET /api/v1/reviews/{id}/cases/{case_id}` (supervisor, or the reviewer it is assigned
//!   to): the sampled case in full, but for the reporter's contact;
//! - `PUT /api/v1/reviews/{id}/cases/{case_id}/score` (the assigned reviewer's own token): the
//!   score, replaced by a later one until the review is closed;
//! - `GET /api/v1/reviews/{id}/results`, `POST /api/v1/reviews/{id}/close` (supervisor): the
//!   results per case and street with the cases for arbitration; closing makes them final;
//! - `GET /api/v1/review-rubric` (public read), `PUT /api/v1/review-rubric` (admin): the rubric
//!   new reviews use.
//!
//! The edge checks the token of every route taking a body before the body is read; a handler
//! authenticates again, reads the body within its limit, makes one service call
//! ([`crate::service::review`]) on the blocking pool and answers the typed result.

use super::AppState;
use super::auth::{self, Role};
use super::error::{ApiError, ApiResult};
use super::query::Params;
use crate::service::review as service;
use crate::wire::problem::Problem;
use crate::wire::review as wire;
use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Most bytes of a review's body: 500 reviewers and a rubric of 30 items with their notes fit.
pub const MAX_REVIEW_BODY_BYTES: usize = 1024 * 1024;

/// Reads a JSON body of at most [`MAX_REVIEW_BODY_BYTES`] (413 naming the limit beyond).
async fn review_json<T: DeserializeOwned>(mut req: Request, state: &AppState) -> ApiResult<T> {
    let limit = MAX_REVIEW_BODY_BYTES.min(state.config().max_body_bytes);
    DefaultBodyLimit::max(limit).apply(&mut req);
    match Json::<T>::from_request(req, state).await {
        Ok(Json(v)) => Ok(v),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::too_large(format!(
            "the body is larger than {limit} bytes (the limit of a review request)"
        ))
        .with_extra(json!({"limit": limit}))),
        Err(e) => Err(e.into()),
    }
}

fn ids(id: &str, case_id: &str) -> ApiResult<(i64, i64)> {
    Ok((
        service::review_id(id)?,
        crate::service::cases::case_id(case_id).map_err(|_| {
            ApiError::invalid_parameter("case_id", format!("{case_id:?} is not a case id"))
        })?,
    ))
}

/// `POST /api/v1/reviews` (supervisor): draw a review.
#[utoipa::path(post, path = "/api/v1/reviews", tag = "reviews", operation_id = "create_review",
    request_body(content = wire::ReviewInput, description = "The period (`from`, `to`), `streets`, the draw (`method` random | quota | share with `n`, `per_street` or `fraction`; `stratify`: group; `seed`), `k` reviewers per case, the `rubric` (default: the one in force) and the `reviewers`"),
    responses(
        (status = 201, description = "The review: its spec with the seed that repeats the draw, its sample and its assignments", body = wire::Review),
        (status = 400, description = "Malformed JSON, or `from`/`to` not a time or date, or `from` not before `to`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supervisor or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field out of its bounds or unknown (method, n, per_street, fraction, stratify, seed, k, streets, reviewers — the problem names the `field`), an invalid rubric (every problem listed), no closed case to draw from, too many, or fewer than `k` reviewers from other streets than a case's (the problem names the case and its street)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &service::MANAGERS).await?;
    let input: wire::ReviewInput = review_json(req, &state).await?;
    let store = state.store()?;
    let atlas = state.atlas();
    let offset = state.config().routing.utc_offset;
    let review = state
        .blocking(move || {
            service::create(store.as_ref(), &caller, &atlas, input, offset, Utc::now())
        })
        .await?;
    let id = review.id;
    let mut resp = (StatusCode::CREATED, Json(review)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("/api/v1/reviews/{id}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `GET /api/v1/reviews` (supervisor, reviewer): reviews, newest first.
#[utoipa::path(get, path = "/api/v1/reviews", tag = "reviews", operation_id = "list_reviews",
    params(wire::ReviewListQuery),
    responses((status = 200, description = "A page of reviews (for a reviewer: those assigning them something, counted for them)", body = wire::ReviewList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supervisor, reviewer or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::ReviewListQuery>,
) -> ApiResult<Json<wire::ReviewList>> {
    let caller = auth::require_any(&state, &headers, &service::READERS).await?;
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || service::list(store.as_ref(), &caller, &q))
            .await?,
    ))
}

/// `GET /api/v1/reviews/{id}` (supervisor: everything; reviewer: their own tasks).
#[utoipa::path(get, path = "/api/v1/reviews/{id}", tag = "reviews", operation_id = "get_review",
    params(("id" = i64, Path, minimum = 1, description = "Review id")),
    responses((status = 200, description = "The review (for a reviewer: only their cases and assignments)", body = wire::Review),
        (status = 400, description = "`id` is not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supervisor, reviewer or admin token, or a reviewer with no task in this review", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<wire::Review>> {
    let caller = auth::require_any(&state, &headers, &service::READERS).await?;
    let id = service::review_id(&id)?;
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || service::get(store.as_ref(), &caller, id))
            .await?,
    ))
}

/// `POST /api/v1/reviews/{id}/assignments` (supervisor): assign the reviewers.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/assignments", tag = "reviews", operation_id = "assign_reviewers",
    params(("id" = i64, Path, minimum = 1, description = "Review id")),
    request_body(content = wire::AssignInput, description = "The reviewers, each `{subject, street}` of their reviewer token"),
    responses((status = 200, description = "The review with its assignments", body = wire::Review),
        (status = 400, description = "Malformed JSON, or `id` is not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supervisor or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The review has its assignments already, or is closed", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reviewer, over 500, one listed twice or of an unknown street, or fewer than `k` from other streets than a case's (the problem names the case and its street)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Json<wire::Review>> {
    let caller = auth::require_any(&state, &headers, &service::MANAGERS).await?;
    let id = service::review_id(&id)?;
    let input: wire::AssignInput = review_json(req, &state).await?;
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || service::assign(store.as_ref(), &caller, &atlas, id, input))
            .await?,
    ))
}

/// `GET /api/v1/reviews/{id}/cases/{case_id}` (supervisor, or the reviewer it is assigned to).
#[utoipa::path(get, path = "/api/v1/reviews/{id}/cases/{case_id}", tag = "reviews", operation_id = "get_review_case",
    params(("id" = i64, Path, minimum = 1, description = "Review id"), ("case_id" = i64, Path, minimum = 1, description = "Case id")),
    responses((status = 200, description = "The sampled case with its category, description, stages and events and photos (never the reporter's contact)", body = crate::wire::cases::CaseView),
        (status = 400, description = "`id` or `case_id` is not an id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supervisor, admin or reviewer token, or a reviewer the case is not assigned to", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review, or the case is not in its sample", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn case(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, case_id)): Path<(String, String)>,
) -> ApiResult<Json<crate::wire::cases::CaseView>> {
    let caller = auth::require_any(&state, &headers, &service::READERS).await?;
    let (id, case_id) = ids(&id, &case_id)?;
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || service::case(store.as_ref(), &caller, id, case_id, Utc::now()))
            .await?,
    ))
}

/// `PUT /api/v1/reviews/{id}/cases/{case_id}/score` (the assigned reviewer): score a case.
#[utoipa::path(put, path = "/api/v1/reviews/{id}/cases/{case_id}/score", tag = "reviews", operation_id = "score_review_case",
    params(("id" = i64, Path, minimum = 1, description = "Review id"), ("case_id" = i64, Path, minimum = 1, description = "Case id")),
    request_body(content = wire::ScoreInput, description = "Points for every rubric item (0 to its maximum, whole or half points) and a comment"),
    responses((status = 200, description = "The reviewer's assignment with the score (a later score replaces it until the review is closed)", body = wire::Assignment),
        (status = 400, description = "Malformed JSON, or `id` or `case_id` is not an id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a reviewer token, or the case is not assigned to the token's holder and street", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review, or the case is not in its sample", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The review is closed: its results are final", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An item missing, unknown, out of 0 to its maximum or not a whole or half point (every problem listed); a comment over 1,000 characters", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn score(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, case_id)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Json<wire::Assignment>> {
    let caller = auth::require(&state, &headers, Role::Reviewer).await?;
    let (id, case_id) = ids(&id, &case_id)?;
    let input: wire::ScoreInput = review_json(req, &state).await?;
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || {
                service::score(store.as_ref(), &caller, id, case_id, input, Utc::now())
            })
            .await?,
    ))
}

/// `GET /api/v1/reviews/{id}/results` (supervisor): per case and per street.
#[utoipa::path(get, path = "/api/v1/reviews/{id}/results", tag = "reviews", operation_id = "get_review_results",
    params(("id" = i64, Path, minimum = 1, description = "Review id")),
    responses((status = 200, description = "Per case: the totals, mean, median, spread and whether it goes to arbitration; per street: cases reviewed, mean and rate (the `review_score` indicator)", body = wire::ReviewResults),
        (status = 400, description = "`id` is not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supervisor or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn results(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<wire::ReviewResults>> {
    let caller = auth::require_any(&state, &headers, &service::MANAGERS).await?;
    let id = service::review_id(&id)?;
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || service::results(store.as_ref(), &caller, id))
            .await?,
    ))
}

/// `POST /api/v1/reviews/{id}/close` (supervisor): the results are final.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/close", tag = "reviews", operation_id = "close_review",
    params(("id" = i64, Path, minimum = 1, description = "Review id")),
    responses((status = 200, description = "The final results", body = wire::ReviewResults),
        (status = 400, description = "`id` is not a review id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supervisor or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such review", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Closed already", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn close(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<wire::ReviewResults>> {
    let caller = auth::require_any(&state, &headers, &service::MANAGERS).await?;
    let id = service::review_id(&id)?;
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || service::close(store.as_ref(), &caller, id, Utc::now()))
            .await?,
    ))
}

/// `GET /api/v1/review-rubric`: the rubric new reviews use.
#[utoipa::path(get, path = "/api/v1/review-rubric", tag = "reviews",
    responses((status = 200, description = "The rubric, and whether it is the example shipped with gridatlas", body = wire::RubricView)))]
pub async fn get_rubric(State(state): State<AppState>) -> ApiResult<Json<wire::RubricView>> {
    let store = state.store().ok();
    let (rubric, example) = state
        .blocking(move || service::rubric(store.as_deref()))
        .await?;
    Ok(Json(wire::RubricView { example, rubric }))
}

/// `PUT /api/v1/review-rubric` (admin): replaces the rubric new reviews use.
#[utoipa::path(put, path = "/api/v1/review-rubric", tag = "reviews",
    request_body(content = wire::Rubric, description = "A rubric: `{name, items: [{key, name, max, note?}], arbitration_spread}`"),
    responses(
        (status = 200, description = "The new rubric", body = wire::RubricView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid rubric: every problem listed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_rubric(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Json<wire::RubricView>> {
    let caller = auth::require(&state, &headers, Role::Admin).await?;
    let body: Value = review_json(req, &state).await?;
    let store = state.store()?;
    let bytes = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    Ok(Json(
        state
            .blocking(move || service::replace_rubric(store.as_ref(), &caller, &bytes))
            .await?,
    ))
}
