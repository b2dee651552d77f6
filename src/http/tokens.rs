//! `GET /api/v1/tokens/self`: the token of the request, so that a page shows a control only to a
//! token that may use it (the map's planner tab: publishing over validation errors, admins only).

use super::AppState;
use super::auth::{self, Role};
use super::error::{ApiError, ApiResult};
use crate::wire;
use crate::wire::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;

/// `GET /api/v1/tokens/self`: the role, scope and abilities of the bearer token.
#[utoipa::path(get, path = "/api/v1/tokens/self", tag = "meta",
    responses((status = 200, description = "The token of the request: its role, scope and what it may do", body = wire::meta::TokenSelf),
              (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "No store (serving a file): there are no tokens", body = Problem, content_type = "application/problem+json")))]
pub async fn token_self(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<wire::meta::TokenSelf>> {
    let caller = auth::require_any(&state, &headers, &Role::ALL).await?;
    caller
        .describe()
        .map(Json)
        .ok_or_else(|| ApiError::internal("an authenticated request without a token"))
}
