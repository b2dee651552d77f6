//! The asset registers over the native API (see [`crate::service::assets`] for who may do what):
//!
//! - `GET|PUT /api/v1/asset-settings` (write: admin): the register rules and the points rule;
//! - `GET|PUT /api/v1/component-classes` (write: admin): the class table the rules check codes
//!   against, the district's or the example shipped with gridatlas;
//! - `GET /api/v1/components` (a page, filtered), `PUT` (the whole register, admin) and `POST`
//!   (add or update by code; planners and dispatchers within their streets): GeoJSON or CSV
//!   (`text/csv`, UTF-8 or GBK), `crs=` for GCJ-02 / BD-09 files;
//! - `GET /api/v1/components/near?lon&lat[&radius_m][&class]`, `GET /api/v1/components/{code}`:
//!   with class names and the unit grid and block the atlas places them in;
//! - `GET /api/v1/shops` (a page; `segment=` for one road segment's frontage list, `area=` for
//!   the frontage lists of an area's road segments), `PUT`/`POST`
//!   as components; `GET /api/v1/shops/{id}`: with its inspections and points record;
//! - `PUT /api/v1/shops/{id}/frontage`: bind a shop to a road segment by hand;
//!   `POST /api/v1/shops/{id}/inspections`: a frontage inspection;
//! - `GET /api/v1/frontage?lon&lat`: the shops at a point and the block head their cases go to.
//!
//! Contacts of shops are personal data: shown to admins, supervisors and the street's
//! dispatchers and grid workers only. After a write the in-memory registers that case routing
//! asks are reloaded before the answer.

use super::auth::{self, Caller, Role};
use super::error::{ApiError, ApiResult};
use super::field::{admin_json_put, content_type, json_body};
use super::query::Params;
use super::{AppState, Register};
use crate::assets::Inspection;
use crate::assets::classes::ClassTable;
use crate::service::assets::{self as service, AssetSettings, Imported};
use crate::service::field::crs_param;
use crate::wire::assets as wire;
use crate::wire::problem::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use chrono::Utc;

/// Most bytes of a register body: 500,000 components as CSV or about 200,000 as GeoJSON.
pub const MAX_REGISTER_BYTES: usize = 128 * 1024 * 1024;
/// Most items of one inspection.
pub const MAX_INSPECTION_ITEMS: usize = 50;
/// Most photos of one inspection.
pub const MAX_INSPECTION_PHOTOS: usize = 20;
/// Longest text of an inspection (inspector, item, note, photo key), characters.
pub const MAX_INSPECTION_TEXT: usize = 500;

/// The caller of a read, when it sends a token (verified before anything else); `None` when it
/// sends none.
async fn reader(state: &AppState, headers: &HeaderMap) -> ApiResult<Option<Caller>> {
    if headers.contains_key(header::AUTHORIZATION) {
        Ok(Some(auth::require_any(state, headers, &Role::ALL).await?))
    } else {
        Ok(None)
    }
}

/// The point of `lon`, `lat` in `crs`, in WGS84.
fn point_param(lon: Option<&str>, lat: Option<&str>, crs: Option<&str>) -> ApiResult<(f64, f64)> {
    let (lon, lat) = (
        service::coordinate_param("lon", lon)?,
        service::coordinate_param("lat", lat)?,
    );
    crs_param("crs", crs)?
        .checked_to_wgs84(lon, lat)
        .map_err(|e| ApiError::invalid_parameter("lon/lat", e))
}

/// `GET /api/v1/asset-settings`: the register rules and the points rule in force.
#[utoipa::path(get, path = "/api/v1/asset-settings", tag = "assets", operation_id = "get_asset_settings",
    responses((status = 200, description = "The settings", body = AssetSettings),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_settings(State(state): State<AppState>) -> ApiResult<Json<AssetSettings>> {
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || service::settings(store.as_ref()))
            .await?,
    ))
}

/// `PUT /api/v1/asset-settings` (admin): replaces the settings.
#[utoipa::path(put, path = "/api/v1/asset-settings", tag = "assets", operation_id = "put_asset_settings",
    request_body(content = AssetSettings, description = "The settings"),
    responses((status = 200, description = "The new settings", body = AssetSettings),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid settings: the problem names the member", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn put_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<AssetSettings>> {
    admin_json_put(&state, &headers, body, |store, caller, body| {
        service::replace_settings(store, caller, &String::from_utf8_lossy(body))
    })
    .await
}

/// `GET /api/v1/component-classes`: the component class table (大类 and 小类) the rules check codes
/// against: the district's, or the example shipped with gridatlas until it gives its own.
#[utoipa::path(get, path = "/api/v1/component-classes", tag = "assets", operation_id = "get_component_classes",
    responses((status = 200, description = "The class table in force (`example: true`: the example shipped with gridatlas)", body = ClassTable)))]
pub async fn get_classes(State(state): State<AppState>) -> Json<ClassTable> {
    Json(state.registers().classes().clone())
}

/// `PUT /api/v1/component-classes` (admin): the district's own class table.
#[utoipa::path(put, path = "/api/v1/component-classes", tag = "assets", operation_id = "put_component_classes",
    request_body(content = ClassTable, description = "The class table: major classes of 2 digits, each with subclasses of 2 digits, names in Chinese and English"),
    responses((status = 200, description = "The class table now in force", body = ClassTable),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid table, or it lacks a class that registered components or task-list items use (`problems`: each one); nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file), or busy", body = Problem, content_type = "application/problem+json")))]
pub async fn put_classes(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<ClassTable>> {
    let registers = state.registers();
    let st = state.clone();
    admin_json_put(&state, &headers, body, move |store, caller, body| {
        let table = service::replace_class_table(store, caller, registers.components(), body)?;
        st.reload_register(Register::Classes)?;
        Ok::<_, ApiError>(table)
    })
    .await
}

/// What a register body holds.
enum RegisterBody {
    Components(Vec<crate::assets::Component>),
    Shops(Vec<crate::assets::Shop>),
}

/// Reads a register body: GeoJSON (`application/geo+json` or `application/json`) or CSV
/// (`text/csv`), every problem located.
fn read_register(
    headers: &HeaderMap,
    q: &wire::RegisterImportQuery,
    body: &[u8],
    shops: bool,
) -> ApiResult<RegisterBody> {
    use crate::assets::io;
    let crs = crs_param("crs", q.crs.as_deref())?;
    let ct = content_type(headers);
    let read = if ct.starts_with("text/csv") {
        let encoding = match q.encoding.as_deref() {
            None => None,
            Some(e) => Some(super::field::encoding_param(e)?),
        };
        if shops {
            io::read_shops_csv(body, encoding, crs).map(RegisterBody::Shops)
        } else {
            io::read_components_csv(body, encoding, crs).map(RegisterBody::Components)
        }
    } else if ct.starts_with("application/geo+json") || ct.starts_with("application/json") {
        if shops {
            io::read_shops_geojson(body, crs).map(RegisterBody::Shops)
        } else {
            io::read_components_geojson(body, crs).map(RegisterBody::Components)
        }
    } else {
        return Err(ApiError::unsupported_media_type(format!(
            "send application/geo+json (a FeatureCollection) or text/csv, not {:?}",
            if ct.is_empty() { "(none)" } else { ct }
        )));
    };
    read.map_err(|e| {
        let problems: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
        ApiError::from(
            crate::service::Error::unprocessable(format!(
                "the file has {} problem(s){}; first: {}",
                problems.len(),
                if e.more > 0 {
                    format!(" (and {} more)", e.more)
                } else {
                    String::new()
                },
                problems.first().map_or("", String::as_str)
            ))
            .with_extra(serde_json::json!({ "problems": problems })),
        )
    })
}

/// A register write: read, checked by the rules, stored, and the routing's registers reloaded.
async fn write_register(
    state: AppState,
    headers: HeaderMap,
    q: wire::RegisterImportQuery,
    body: Result<Bytes, BytesRejection>,
    shops: bool,
    replace: bool,
) -> ApiResult<Json<Imported>> {
    let roles: &[Role] = if replace {
        &[Role::Admin]
    } else {
        &[Role::Admin, Role::Planner, Role::Dispatcher]
    };
    let caller = auth::require_any(&state, &headers, roles).await?;
    let body = body?;
    let store = state.store()?;
    let atlas = state.atlas();
    let st = state.clone();
    Ok(Json(
        state
            .blocking(move || {
                let imported = match read_register(&headers, &q, &body, shops)? {
                    RegisterBody::Components(c) => {
                        let done = service::import_components(
                            store.as_ref(),
                            &atlas,
                            &caller,
                            c,
                            replace,
                        )?;
                        st.reload_register(Register::Components)?;
                        done
                    }
                    RegisterBody::Shops(s) => {
                        let done =
                            service::import_shops(store.as_ref(), &atlas, &caller, s, replace)?;
                        st.reload_register(Register::Shops)?;
                        done
                    }
                };
                Ok::<_, ApiError>(imported)
            })
            .await?,
    ))
}

/// `PUT /api/v1/components` (admin): replaces the whole component register.
#[utoipa::path(put, path = "/api/v1/components", tag = "assets",
    params(wire::RegisterImportQuery),
    request_body(content(
        (serde_json::Value = "application/geo+json"),
        (String = "text/csv")
    ), description = "Components: a GeoJSON FeatureCollection of Points (`layer: component`, `code`, `owner`, `maintainer`, `state`, `survey_date`) or CSV (UTF-8 or GBK; 部件编码, 经度, 纬度, 权属单位, 养护单位, 状态, 普查日期)"),
    responses((status = 400, description = "Invalid parameter (`crs`, `encoding`)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "What was stored (warnings that did not block it)", body = Imported),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 128 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not GeoJSON or CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file's problems by feature or row and field (`problems`), or the register rules' findings (`findings`: a code of another district, an unknown class, a repeated code); nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file), or busy", body = Problem, content_type = "application/problem+json")))]
pub async fn put_components(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::RegisterImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Imported>> {
    write_register(state, headers, q, body, false, true).await
}

/// `POST /api/v1/components` (admin; planner or dispatcher for its streets): adds components or
/// updates them by code.
#[utoipa::path(post, path = "/api/v1/components", tag = "assets",
    params(wire::RegisterImportQuery),
    request_body(content(
        (serde_json::Value = "application/geo+json"),
        (String = "text/csv")
    ), description = "Components, as for `PUT`"),
    responses((status = 400, description = "Invalid parameter (`crs`, `encoding`)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "What was stored (warnings that did not block it)", body = Imported),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, planner or dispatcher token, or a component outside the token's streets", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 128 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not GeoJSON or CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file's problems (`problems`) or the register rules' findings (`findings`); nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file), or busy", body = Problem, content_type = "application/problem+json")))]
pub async fn post_components(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::RegisterImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Imported>> {
    write_register(state, headers, q, body, false, false).await
}

/// `GET /api/v1/components`: a page of the component register.
#[utoipa::path(get, path = "/api/v1/components", tag = "assets",
    params(wire::ComponentListQuery),
    responses((status = 200, description = "Components by code, with class names, street, grid and block", body = wire::ComponentList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_components(
    State(state): State<AppState>,
    Params(q): Params<wire::ComponentListQuery>,
) -> ApiResult<Json<wire::ComponentList>> {
    let store = state.store()?;
    let atlas = state.atlas();
    let registers = state.registers();
    Ok(Json(
        state
            .blocking(move || {
                service::list_components(store.as_ref(), &atlas, registers.classes(), &q)
            })
            .await?,
    ))
}

/// `GET /api/v1/components/{code}`: one component.
#[utoipa::path(get, path = "/api/v1/components/{code}", tag = "assets",
    params(("code" = String, Path, description = "The 16-digit component code")),
    responses((status = 200, description = "The component, with class names, street, grid and block", body = wire::ComponentView),
        (status = 404, description = "No component of that code", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn one_component(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<wire::ComponentView>> {
    let store = state.store()?;
    let atlas = state.atlas();
    let registers = state.registers();
    Ok(Json(
        state
            .blocking(move || {
                service::component(store.as_ref(), &atlas, registers.classes(), &code)
            })
            .await?,
    ))
}

/// `GET /api/v1/components/near`: the components within a radius of a point.
#[utoipa::path(get, path = "/api/v1/components/near", tag = "assets",
    params(wire::NearQuery),
    responses((status = 200, description = "Components nearest first, with their distance", body = wire::ComponentsNear),
        (status = 400, description = "Invalid parameter (a point outside the coordinate range, a radius over 1,000 m, a class not of 2 or 4 digits)", body = Problem, content_type = "application/problem+json")))]
pub async fn components_near(
    State(state): State<AppState>,
    Params(q): Params<wire::NearQuery>,
) -> ApiResult<Json<wire::ComponentsNear>> {
    let point = point_param(q.lon.as_deref(), q.lat.as_deref(), q.crs.as_deref())?;
    let radius = service::radius_param(q.radius_m.as_deref(), 10.0, service::MAX_NEAR_M)?;
    let registers = state.registers();
    let atlas = state.atlas();
    Ok(Json(service::components_near(
        &registers,
        &atlas,
        point,
        radius,
        q.class.as_deref(),
    )?))
}

/// `PUT /api/v1/shops` (admin): replaces the whole shop register.
#[utoipa::path(put, path = "/api/v1/shops", tag = "assets",
    params(wire::RegisterImportQuery),
    request_body(content(
        (serde_json::Value = "application/geo+json"),
        (String = "text/csv")
    ), description = "Shops: a GeoJSON FeatureCollection of Points or Polygons (`layer: shop`, `id`, `name`, `credit_code`, `contact`, `phone`, `pledge_signed`) or CSV (UTF-8 or GBK; 编号, 店名, 统一社会信用代码, 联系人, 联系电话, 承诺签订日期, 经度, 纬度 or 轮廓 as WKT). Each is bound to the nearest road segment within the binding distance; a binding set by hand is kept"),
    responses((status = 400, description = "Invalid parameter (`crs`, `encoding`)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "What was stored (warnings: shops with no road segment near)", body = Imported),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 128 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not GeoJSON or CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file's problems (`problems`) or the register rules' findings (`findings`: a bad credit code, a repeated id); nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file), or busy", body = Problem, content_type = "application/problem+json")))]
pub async fn put_shops(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::RegisterImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Imported>> {
    write_register(state, headers, q, body, true, true).await
}

/// `POST /api/v1/shops` (admin; planner or dispatcher for its streets): adds shops or updates
/// them by id.
#[utoipa::path(post, path = "/api/v1/shops", tag = "assets",
    params(wire::RegisterImportQuery),
    request_body(content(
        (serde_json::Value = "application/geo+json"),
        (String = "text/csv")
    ), description = "Shops, as for `PUT`"),
    responses((status = 400, description = "Invalid parameter (`crs`, `encoding`)", body = Problem, content_type = "application/problem+json"),
        (status = 200, description = "What was stored", body = Imported),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, planner or dispatcher token, or a shop outside the token's streets", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 128 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not GeoJSON or CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The file's problems (`problems`) or the register rules' findings (`findings`); nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file), or busy", body = Problem, content_type = "application/problem+json")))]
pub async fn post_shops(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::RegisterImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Imported>> {
    write_register(state, headers, q, body, true, false).await
}

/// `GET /api/v1/shops`: a page of the shop register with each shop's standing.
#[utoipa::path(get, path = "/api/v1/shops", tag = "assets",
    params(wire::ShopListQuery),
    responses((status = 200, description = "Shops by id, with frontage, areas and standing (contacts only to the roles that need them)", body = wire::ShopList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "An unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn list_shops(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::ShopListQuery>,
) -> ApiResult<Json<wire::ShopList>> {
    let caller = reader(&state, &headers).await?;
    let store = state.store()?;
    let atlas = state.atlas();
    let registers = state.registers();
    Ok(Json(
        state
            .blocking(move || {
                service::list_shops(
                    store.as_ref(),
                    &registers,
                    &atlas,
                    caller.as_ref(),
                    &q,
                    Utc::now(),
                )
            })
            .await?,
    ))
}

/// `GET /api/v1/shops/{id}`: one shop with its inspections and points record.
#[utoipa::path(get, path = "/api/v1/shops/{id}", tag = "assets",
    params(("id" = String, Path, description = "The shop's id")),
    responses((status = 200, description = "The shop, its inspections and points within the rule's window", body = wire::ShopDetail),
        (status = 401, description = "An unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No shop of that id", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn one_shop(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<wire::ShopDetail>> {
    let caller = reader(&state, &headers).await?;
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || {
                service::shop_detail(store.as_ref(), &atlas, caller.as_ref(), &id, Utc::now())
            })
            .await?,
    ))
}

/// `PUT /api/v1/shops/{id}/frontage` (admin; dispatcher of the shop's street, grid worker of
/// its grid): binds the shop to a road segment by hand (kept over re-imports), or unbinds it.
#[utoipa::path(put, path = "/api/v1/shops/{id}/frontage", tag = "assets",
    params(("id" = String, Path, description = "The shop's id")),
    request_body(content = wire::FrontageInput, description = "The road segment, or null"),
    responses((status = 200, description = "The binding now", body = wire::FrontageSet),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a token of the shop's street or grid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No shop of that id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`segment` is no road segment of the atlas", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn put_frontage(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::FrontageSet>> {
    let caller = auth::require_any(
        &state,
        &headers,
        &[Role::Admin, Role::Dispatcher, Role::GridWorker],
    )
    .await?;
    let body = body?;
    let input: wire::FrontageInput = json_body(&headers, &body)?;
    let store = state.store()?;
    let atlas = state.atlas();
    let st = state.clone();
    Ok(Json(
        state
            .blocking(move || {
                let frontage = service::set_frontage(
                    store.as_ref(),
                    &atlas,
                    &caller,
                    &id,
                    input.segment.as_deref(),
                )?;
                st.reload_register(Register::Shops)?;
                Ok::<_, ApiError>(wire::FrontageSet { shop: id, frontage })
            })
            .await?,
    ))
}

/// Checks an inspection's sizes.
fn check_inspection(i: &wire::InspectionInput) -> ApiResult<()> {
    let long = |s: &str| s.chars().count() > MAX_INSPECTION_TEXT;
    if i.items.len() > MAX_INSPECTION_ITEMS {
        return Err(ApiError::unprocessable(format!(
            "items: {} items, at most {MAX_INSPECTION_ITEMS}",
            i.items.len()
        )));
    }
    if i.photos.len() > MAX_INSPECTION_PHOTOS {
        return Err(ApiError::unprocessable(format!(
            "photos: {} photos, at most {MAX_INSPECTION_PHOTOS}",
            i.photos.len()
        )));
    }
    if i.inspector.trim().is_empty() || long(&i.inspector) {
        return Err(ApiError::unprocessable(format!(
            "inspector: empty or over {MAX_INSPECTION_TEXT} characters"
        )));
    }
    for (k, item) in i.items.iter().enumerate() {
        if item.item.trim().is_empty() || long(&item.item) || item.note.as_deref().is_some_and(long)
        {
            return Err(ApiError::unprocessable(format!(
                "items[{k}]: an empty item, or a text over {MAX_INSPECTION_TEXT} characters"
            )));
        }
    }
    if let Some(k) = i.photos.iter().position(|p| p.is_empty() || long(p)) {
        return Err(ApiError::unprocessable(format!(
            "photos[{k}]: empty or over {MAX_INSPECTION_TEXT} characters"
        )));
    }
    Ok(())
}

/// `POST /api/v1/shops/{id}/inspections` (admin; dispatcher of the shop's street, grid worker
/// of its grid): records a frontage inspection and the points its failed items cost.
#[utoipa::path(post, path = "/api/v1/shops/{id}/inspections", tag = "assets",
    params(("id" = String, Path, description = "The shop's id")),
    request_body(content = wire::InspectionInput, description = "The inspection"),
    responses((status = 200, description = "The inspection's id, its points and the shop's standing", body = wire::Inspected),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a token of the shop's street or grid", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No shop of that id", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No items, too many, or a text too long", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn post_inspection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::Inspected>> {
    let caller = auth::require_any(
        &state,
        &headers,
        &[Role::Admin, Role::Dispatcher, Role::GridWorker],
    )
    .await?;
    let body = body?;
    let input: wire::InspectionInput = json_body(&headers, &body)?;
    check_inspection(&input)?;
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || {
                let inspection = Inspection {
                    id: 0,
                    shop: id,
                    date: input.date,
                    inspector: input.inspector,
                    items: input.items,
                    photos: input.photos,
                };
                service::inspect(store.as_ref(), &atlas, &caller, inspection, Utc::now()).map(
                    |(id, points, standing)| wire::Inspected {
                        id,
                        points,
                        standing,
                    },
                )
            })
            .await?,
    ))
}

/// `GET /api/v1/frontage`: the shops at a point, the road segment each faces and its block's
/// head.
#[utoipa::path(get, path = "/api/v1/frontage", tag = "assets",
    params(wire::FrontageQuery),
    responses((status = 200, description = "Shops at the point, nearest first", body = wire::FrontageAt),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "An unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn frontage_at(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::FrontageQuery>,
) -> ApiResult<Json<wire::FrontageAt>> {
    let caller = reader(&state, &headers).await?;
    let point = point_param(q.lon.as_deref(), q.lat.as_deref(), q.crs.as_deref())?;
    let radius = service::radius_param(
        q.radius_m.as_deref(),
        state.config().routing.shop_radius_m,
        service::MAX_FRONTAGE_M,
    )?;
    let store = state.store()?;
    let registers = state.registers();
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || {
                service::frontage_at(
                    store.as_ref(),
                    &registers,
                    &atlas,
                    caller.as_ref(),
                    point,
                    radius,
                    Utc::now(),
                )
            })
            .await?,
    ))
}
