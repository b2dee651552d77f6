//! The assessment's handlers: the standard indicators (per area and per person), the scoring
//! scheme and the ranked table. The flows are [`crate::service::assessment`].

use super::AppState;
use super::auth::{self, Role};
use super::cases::small_json;
use super::error::{ApiError, ApiResult};
use super::query::Params;
use crate::service::assessment as service;
use crate::wire::cases as wire;
use crate::wire::problem::Problem;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::Value;

/// `GET /api/v1/indicators?street=&from=&to=&as_of=&group=&by=`: the standard indicators per
/// district, street, grid, department and category group.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "cases",
    params(wire::IndicatorsQuery),
    responses((status = 200, description = "Indicators per district, street, grid, department and category group; rates are null when nothing is counted", body = wire::IndicatorsReport),
        (status = 400, description = "Invalid parameter (`from`, `to`, `as_of` not a time or date; `from` not before `to`; `as_of` in the future or before `from`; an unknown `group` or breakdown)", body = Problem, content_type = "application/problem+json"),
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
        state
            .blocking(move || service::indicators(store.as_ref(), &atlas, &q, offset, Utc::now()))
            .await?,
    ))
}

/// `GET /api/v1/ranking?kind=&street=&from=&to=`: streets, grids or departments of a period,
/// scored and graded under the scoring scheme in force, best first.
#[utoipa::path(get, path = "/api/v1/ranking", tag = "cases",
    params(wire::RankingQuery),
    responses((status = 200, description = "The ranked table; rows without any valued indicator come last, unranked", body = wire::Ranking),
        (status = 400, description = "Invalid parameter (`kind`; `from`, `to` not a time or date; `from` not before `to`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No street with that code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time outside the years 1 to 9999", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_ranking(
    State(state): State<AppState>,
    Params(q): Params<wire::RankingQuery>,
) -> ApiResult<Json<wire::Ranking>> {
    let offset = state.config().routing.utc_offset;
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || service::ranking(store.as_ref(), &atlas, &q, offset, Utc::now()))
            .await?,
    ))
}

/// `GET /api/v1/scoring`: the scoring scheme in force.
#[utoipa::path(get, path = "/api/v1/scoring", tag = "cases",
    responses((status = 200, description = "The scheme, and whether it is the example shipped with gridatlas", body = wire::ScoringView)))]
pub async fn get_scoring(State(state): State<AppState>) -> ApiResult<Json<wire::ScoringView>> {
    let store = state.store().ok();
    let (scheme, example) = state
        .blocking(move || service::scoring(store.as_deref()))
        .await?;
    Ok(Json(wire::ScoringView { example, scheme }))
}

/// `PUT /api/v1/scoring` (admin): replaces the scoring scheme.
#[utoipa::path(put, path = "/api/v1/scoring", tag = "cases",
    request_body(content = Object, description = "A scoring scheme: `{grades: [[\"A\", 90], …, [\"E\", 0]], kinds: {street: [{indicator, weight, lower_is_better?}], grid: […], department: […]}}`"),
    responses(
        (status = 200, description = "The new scheme", body = wire::ScoringView),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid scheme: every problem listed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_scoring(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Json<wire::ScoringView>> {
    let caller = auth::require(&state, &headers, Role::Admin).await?;
    let body: Value = small_json(req, &state).await?;
    let store = state.store()?;
    let bytes = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    Ok(Json(
        state
            .blocking(move || service::replace_scoring(store.as_ref(), &caller, &bytes))
            .await?,
    ))
}

/// `GET /api/v1/indicators/persons?street=&from=&to=&as_of=&group=`: per person, over the steps
/// they took themselves (supervisor, or dispatcher for their streets).
#[utoipa::path(get, path = "/api/v1/indicators/persons", tag = "cases",
    params(wire::IndicatorsQuery),
    responses((status = 200, description = "One row per person: patrol reports filed, decided and valid, verifications made and on time, cases resolved at the front end", body = wire::PersonsReport),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a supervisor or dispatcher token, or a street outside the token's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No street with that code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time outside the years 1 to 9999", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_persons(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::IndicatorsQuery>,
) -> ApiResult<Json<wire::PersonsReport>> {
    let caller = auth::require_any(&state, &headers, &[Role::Supervisor, Role::Dispatcher]).await?;
    let offset = state.config().routing.utc_offset;
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || {
                service::persons(store.as_ref(), &atlas, &caller, &q, offset, Utc::now())
            })
            .await?,
    ))
}

fn file(export: service::Export) -> Response {
    (
        [
            (header::CONTENT_TYPE, export.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", export.file_name),
            ),
        ],
        export.bytes,
    )
        .into_response()
}

async fn indicators_file(
    state: AppState,
    q: wire::IndicatorsExportQuery,
    format: &'static str,
) -> ApiResult<Response> {
    let offset = state.config().routing.utc_offset;
    let store = state.store()?;
    let atlas = state.atlas();
    let export = state
        .blocking(move || {
            let (q, table) = q.split();
            let table = table.or_else(|| (format == "csv").then(|| "street".to_owned()));
            let report = service::indicators(store.as_ref(), &atlas, &q, offset, Utc::now())?;
            let sheets = service::indicator_sheets(&report, table.as_deref())?;
            let stem = format!(
                "indicators-{}-{}",
                report.from.format("%Y%m%d"),
                report.to.format("%Y%m%d")
            );
            service::export(&sheets, format, &stem)
        })
        .await?;
    Ok(file(export))
}

/// `GET /api/v1/indicators.csv?…&table=`: one table of the indicators report as CSV (UTF-8 with
/// a BOM, Chinese headers, rates as percentages).
#[utoipa::path(get, path = "/api/v1/indicators.csv", tag = "cases",
    params(wire::IndicatorsExportQuery),
    responses((status = 200, description = "The table (default `street`) as CSV with Chinese headers", body = String, content_type = "text/csv"),
        (status = 400, description = "Invalid parameter (as `GET /api/v1/indicators`; an unknown `table`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No street with that code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time outside the years 1 to 9999", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_indicators_csv(
    State(state): State<AppState>,
    Params(q): Params<wire::IndicatorsExportQuery>,
) -> ApiResult<Response> {
    indicators_file(state, q, "csv").await
}

/// `GET /api/v1/indicators.xlsx?…&table=`: the indicators report as an XLSX workbook, one
/// worksheet per table (全区, 街镇, 网格, 部门, 类别组), Chinese headers, rates as percentages.
#[utoipa::path(get, path = "/api/v1/indicators.xlsx", tag = "cases",
    params(wire::IndicatorsExportQuery),
    responses((status = 200, description = "The workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "Invalid parameter (as `GET /api/v1/indicators`; an unknown `table`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No street with that code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time outside the years 1 to 9999", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_indicators_xlsx(
    State(state): State<AppState>,
    Params(q): Params<wire::IndicatorsExportQuery>,
) -> ApiResult<Response> {
    indicators_file(state, q, "xlsx").await
}

async fn ranking_file(
    state: AppState,
    q: wire::RankingQuery,
    format: &'static str,
) -> ApiResult<Response> {
    let offset = state.config().routing.utc_offset;
    let store = state.store()?;
    let atlas = state.atlas();
    let export = state
        .blocking(move || {
            let ranking = service::ranking(store.as_ref(), &atlas, &q, offset, Utc::now())?;
            let sheet = service::ranking_sheet(&ranking)?;
            let stem = format!(
                "ranking-{:?}-{}-{}",
                ranking.kind,
                ranking.from.format("%Y%m%d"),
                ranking.to.format("%Y%m%d")
            )
            .to_lowercase();
            service::export(&[sheet], format, &stem)
        })
        .await?;
    Ok(file(export))
}

/// `GET /api/v1/ranking.csv?kind=&street=&from=&to=&as_of=`: the ranked table as CSV.
#[utoipa::path(get, path = "/api/v1/ranking.csv", tag = "cases",
    params(wire::RankingQuery),
    responses((status = 200, description = "The ranked table as CSV with Chinese headers", body = String, content_type = "text/csv"),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No street with that code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time outside the years 1 to 9999", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_ranking_csv(
    State(state): State<AppState>,
    Params(q): Params<wire::RankingQuery>,
) -> ApiResult<Response> {
    ranking_file(state, q, "csv").await
}

/// `GET /api/v1/ranking.xlsx?kind=&street=&from=&to=&as_of=`: the ranked table as XLSX.
#[utoipa::path(get, path = "/api/v1/ranking.xlsx", tag = "cases",
    params(wire::RankingQuery),
    responses((status = 200, description = "The ranked table as a workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No street with that code", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time outside the years 1 to 9999", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_ranking_xlsx(
    State(state): State<AppState>,
    Params(q): Params<wire::RankingQuery>,
) -> ApiResult<Response> {
    ranking_file(state, q, "xlsx").await
}
