//! Health, readiness, metrics, the web map's configuration, and the OpenAPI document.

use super::AppState;
use crate::wire;
use crate::wire::meta::{Config, DistrictRef, Readiness};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
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
        super::drafts::inspect,
        super::drafts::get_draft,
        super::drafts::report,
        super::drafts::publish,
        super::drafts::generations,
        super::drafts::diff,
        super::drafts::export_generation,
        super::drafts::export_draft,
        super::drafts::export_findings,
        super::cases::list_categories,
        super::cases::put_categories,
        super::cases::create,
        super::cases::one,
        super::photos::upload,
        super::photos::list,
        super::photos::one,
        super::photos::thumb,
        super::cases::list,
        super::cases::add_event,
        super::cases::give_feedback,
        super::cases::queue,
        super::cases::get_calendar,
        super::cases::put_calendar,
        super::assessment::get_indicators,
        super::assessment::get_persons,
        super::assessment::get_indicators_csv,
        super::assessment::get_indicators_xlsx,
        super::assessment::get_ranking,
        super::assessment::get_ranking_csv,
        super::assessment::get_ranking_xlsx,
        super::assessment::get_scoring,
        super::assessment::put_scoring,
        super::review::create,
        super::review::list,
        super::review::one,
        super::review::assign,
        super::review::case,
        super::review::score,
        super::review::results,
        super::review::close,
        super::review::get_rubric,
        super::review::put_rubric,
        super::field::get_settings,
        super::field::put_settings,
        super::field::get_staff,
        super::field::put_staff,
        super::field::get_duty,
        super::field::put_duty,
        super::field::post_checkin,
        super::field::get_checkins,
        super::events::stream,
        super::cases::stats,
        super::field::get_attendance,
        super::field::get_tracks,
        super::field::get_my_shift,
        super::field::get_staff_csv,
        super::field::post_fixes,
        super::field::get_tracks_gpx,
        super::field::get_geofence,
        super::field::get_coverage,
        super::assets::get_settings,
        super::assets::put_settings,
        super::assets::get_classes,
        super::assets::put_classes,
        super::assets::list_components,
        super::assets::put_components,
        super::assets::post_components,
        super::assets::one_component,
        super::assets::components_near,
        super::assets::list_shops,
        super::assets::put_shops,
        super::assets::post_shops,
        super::assets::one_shop,
        super::assets::put_frontage,
        super::assets::post_inspection,
        super::assets::frontage_at,
        super::tokens::token_self,
        config,
        healthz,
        readyz,
        metrics,
        openapi,
    ),
    components(schemas(
        wire::GeoJsonGeometry,
        wire::Layer,
        wire::Kind,
        wire::Role,
        wire::ManagementUnitKind,
        wire::lookup::NdjsonLine,
        wire::field::CsvEncoding,
    )),
    tags(
        (name = "lookup", description = "Who owns a point"),
        (name = "areas", description = "Streets, grids, blocks, road segments"),
        (name = "tiles", description = "Mapbox Vector Tiles"),
        (name = "drafts", description = "Uploads, validation reports, publishing, generations"),
        (name = "cases", description = "Case categories (task lists) with stage time limits, the working calendar, case intake and routing, the workflow of the national standard (stages, actions, roles), the street queue, indicators; Open311 GeoReport v2 is at /open311/v2/"),
        (name = "events", description = "Live events (server-sent events) of case changes, check-ins and publishes, scoped by token and street, for the street portal and the phone page"),
        (name = "field", description = "The field force (执法力量进网格): the staff roster, duty shifts and modes (2+X), check-in inside the assigned grid (电子考勤), patrol tracks and the coverage of road segments, blocks and grids"),
        (name = "assets", description = "City components (部件) with owner departments and the shops under frontage duty (门责): the registers (GeoJSON or CSV, checked by the code rules), lookups near a point with unit grid and block, shop frontage bindings, inspections and points records"),
        (name = "reviews", description = "Quality review by sampling (质量考评): a reproducible sample of a period's closed cases, reviewers of other streets (分组互评) scoring them on a rubric, results per case (arbitration when reviewers disagree) and per street"),
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
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: an atlas is loaded and lookups are answered.
#[utoipa::path(get, path = "/readyz", tag = "meta", responses((status = 200, description = "ready", body = Readiness), (status = 503, description = "no atlas yet", body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let atlas = state.atlas();
    if atlas.features().is_empty() {
        let r = Readiness {
            ready: false,
            generation: None,
            features: None,
            reason: Some("no published generation".into()),
        };
        (StatusCode::SERVICE_UNAVAILABLE, Json(r))
    } else {
        let r = Readiness {
            ready: true,
            generation: atlas.generation(),
            features: Some(atlas.features().len()),
            reason: None,
        };
        (StatusCode::OK, Json(r))
    }
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "meta", responses((status = 200, description = "Prometheus metrics", content_type = "text/plain")))]
pub async fn metrics(state: State<AppState>) -> impl IntoResponse {
    let body = super::render_metrics(state).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// `GET /api/v1/config`: what the web map needs to start.
#[utoipa::path(get, path = "/api/v1/config", tag = "meta", responses((status = 200, description = "District, bounds, centre, basemap URL, generation", body = Config)))]
pub async fn config(State(state): State<AppState>) -> Json<Config> {
    let atlas = state.atlas();
    let bbox = atlas.territory_bbox();
    Json(Config {
        district: atlas.features().district().map(|d| DistrictRef {
            code: d.code.clone(),
            name: d.name.clone(),
        }),
        bbox: bbox.map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]),
        center: bbox.map(|b| [b.center().x, b.center().y]),
        basemap_url: state.config().basemap_url.clone(),
        generation: atlas.generation(),
        public_reads: state.config().public_reads,
        // Whether drafts, publishing and cases are possible (false when serving a file).
        writable: state.store().is_ok(),
    })
}
