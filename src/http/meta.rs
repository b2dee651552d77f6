//! Health, readiness, metrics, the web map's configuration, and the OpenAPI document.

use super::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use utoipa::OpenApi;

/// The OpenAPI 3.1 document, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(title = "gridatlas", description = "Boundaries of urban grid management (网格化管理): lookups, areas, vector tiles, drafts and generations. Errors are RFC 9457 problem+json."),
    paths(
        super::lookup::get_lookup,
        super::lookup::post_lookup,
        super::areas::list,
        super::areas::one,
        super::areas::children,
        super::tiles::tile,
        super::tiles::tilejson,
        super::drafts::create,
        super::drafts::get_draft,
        super::drafts::report,
        super::drafts::publish,
        super::drafts::generations,
        super::drafts::diff,
        super::cases::list_categories,
        super::cases::put_categories,
        super::cases::create,
        super::cases::one,
        super::cases::list,
        super::cases::add_event,
        super::cases::get_indicators,
        config,
        healthz,
        readyz,
        metrics,
        openapi,
    ),
    tags(
        (name = "lookup", description = "Who owns a point"),
        (name = "areas", description = "Streets, grids, blocks, road segments"),
        (name = "tiles", description = "Mapbox Vector Tiles"),
        (name = "drafts", description = "Uploads, validation reports, publishing, generations"),
        (name = "cases", description = "Case categories (task lists), case intake and routing, lifecycle, indicators; Open311 GeoReport v2 is at /open311/v2/"),
        (name = "meta", description = "Health, metrics, configuration"),
    )
)]
pub struct ApiDoc;

/// `GET /api/v1/openapi.json`.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi() -> Result<impl IntoResponse, super::error::ApiError> {
    let doc = ApiDoc::openapi()
        .to_pretty_json()
        .map_err(super::error::ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], doc))
}

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "ok")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: an atlas is loaded and lookups are answered.
#[utoipa::path(get, path = "/readyz", tag = "meta", responses((status = 200, description = "ready"), (status = 503, description = "no atlas yet")))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let atlas = state.atlas();
    if atlas.features().is_empty() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"ready": false, "reason": "no published generation"})),
        )
    } else {
        (
            StatusCode::OK,
            Json(
                json!({"ready": true, "generation": atlas.generation(), "features": atlas.features().len()}),
            ),
        )
    }
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn metrics(state: State<AppState>) -> impl IntoResponse {
    let body = super::render_metrics(state).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// `GET /api/v1/config`: what the web map needs to start.
#[utoipa::path(get, path = "/api/v1/config", tag = "meta", responses((status = 200, description = "District, bounds, centre, basemap URL, generation", body = Object)))]
pub async fn config(State(state): State<AppState>) -> Json<Value> {
    let atlas = state.atlas();
    let district = atlas
        .features()
        .district()
        .map(|d| json!({"code": d.code, "name": d.name}));
    let bbox = atlas.territory_bbox();
    Json(json!({
        "district": district,
        "bbox": bbox.map(|b| json!([b.min().x, b.min().y, b.max().x, b.max().y])),
        "center": bbox.map(|b| json!([b.center().x, b.center().y])),
        "basemap_url": state.config().basemap_url,
        "generation": atlas.generation(),
        "public_reads": state.config().public_reads,
        // Whether drafts, publishing and cases are possible (false when serving a file).
        "writable": state.store().is_ok(),
    }))
}
