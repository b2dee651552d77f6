//! Drafts and generations: `POST /api/v1/drafts`, `POST /api/v1/drafts/inspect` (what a
//! table-format file holds, for the map's mapping step), `GET /api/v1/drafts/{id}[/report]`,
//! `POST /api/v1/drafts/{id}/publish`, `GET /api/v1/generations`,
//! `GET /api/v1/generations/{a}/diff/{b}`, and the exports `GET /api/v1/generations/{a}/export`,
//! `GET /api/v1/drafts/{id}/export` (GeoJSON, Shapefile .zip, GeoPackage) and the export of a
//! draft's validation findings, `GET /api/v1/drafts/{id}/report/export`.
//!
//! Each handler authenticates, extracts, makes one call into [`crate::service::drafts`] or
//! [`crate::service::generations`] on the blocking pool and answers its typed result; a publish
//! then swaps the new atlas in.

use super::AppState;
use super::auth::{self, Role};
use super::error::{ApiError, ApiResult};
use super::query::Params;
use crate::geo_io::ReadOptions;
use crate::geo_io::source::{Format, ImportOptions, Requested};
use crate::service::{self, drafts, export, generations};
use crate::store::StoreError;
use crate::wire::drafts as wire;
use crate::wire::problem::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A store error as the API answers it.
pub(crate) fn store_error(e: StoreError) -> ApiError {
    service::Error::from(e).into()
}

/// `POST /api/v1/drafts`: upload a GeoJSON feature file as a draft (planner or admin token).
#[utoipa::path(post, path = "/api/v1/drafts", tag = "drafts",
    params(wire::UploadQuery),
    request_body(content((Object = "application/geo+json"), (Vec<u8> = "application/zip"), (Vec<u8> = "application/geopackage+sqlite3"), (String = "text/csv")), description = "A FeatureCollection in the gridatlas feature format, a zipped Shapefile (one or more .shp with .dbf, .prj, .cpg), a GeoPackage (its feature tables) or a CSV with a WKT or lon/lat columns (docs/formats.md)"),
    responses(
        (status = 201, description = "The stored draft with the counts of its validation report", body = wire::DraftCreated),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The upload would change streets outside the token's scope (named), or make changes only an admin may (the district, units serving several streets, features under no street)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or feature too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not GeoJSON, a zipped Shapefile, a GeoPackage or a CSV (by content type, `format=` or `filename=`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid features: every problem listed with feature index, code and JSON path", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::UploadQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let caller = auth::require(&state, &headers, Role::Planner).await?;
    let (format, import) = reading(
        &state,
        &headers,
        Requested {
            format: q.format.as_deref(),
            file_name: q.filename.as_deref(),
            crs: q.crs.as_deref(),
            encoding: q.encoding.as_deref(),
            mapping: q.mapping.as_deref(),
            ..Requested::default()
        },
        &format!(
            "upload {} (or give format= or a filename= with its extension)",
            Format::CONTENT_TYPES
        ),
    )?;
    let body = body?;
    let store = state.store()?;
    let streets = q.streets.map(|s| s.split(',').map(str::to_owned).collect());
    let done = state
        .blocking(move || {
            drafts::upload(
                store.as_ref(),
                &caller,
                drafts::Upload {
                    source: drafts::Source::Bytes(&body),
                    format: Some(format),
                    name: q.filename,
                    streets,
                    import,
                },
            )
        })
        .await?;
    let id = done.draft.id;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/drafts/{id}"))],
        Json(done.draft),
    )
        .into_response())
}

/// `POST /api/v1/drafts/inspect`: what a table-format file (a zipped Shapefile, …) holds, for the
/// map's mapping step — layers, columns with samples, the first rows, the coordinate system
/// (or why none is known), the encoding, a suggested mapping. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/drafts/inspect", tag = "drafts",
    params(wire::InspectQuery),
    request_body(content((Vec<u8> = "application/zip")), description = "A zipped Shapefile (one or more .shp with .dbf, .prj, .cpg) or another table format (docs/formats.md), as for the upload"),
    responses(
        (status = 200, description = "The file's layers and a suggested column mapping", body = wire::Inspection),
        (status = 400, description = "Invalid parameter (`format`, `crs`, `encoding`)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner or admin token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or feature too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a table format (GeoJSON is uploaded directly)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A problem of the files (a truncated .shp, an unknown .cpg, …), located by file, record and field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn inspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::InspectQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::Inspection>> {
    auth::require(&state, &headers, Role::Planner).await?;
    let (format, import) = reading(
        &state,
        &headers,
        Requested {
            format: q.format.as_deref(),
            file_name: q.filename.as_deref(),
            crs: q.crs.as_deref(),
            encoding: q.encoding.as_deref(),
            ..Requested::default()
        },
        "send a zipped Shapefile as application/zip, a GeoPackage as application/geopackage+sqlite3 or a CSV as text/csv (or give format= or a filename= with its extension)",
    )?;
    let body = body?;
    let found = state
        .blocking(move || drafts::inspect(format, q.filename.as_deref(), &body, &import))
        .await?;
    Ok(Json(found))
}

/// The format and reading options of an upload's body: the parameters `asked` and the request's
/// content type, with the server's limits (vertices per feature, bytes out of an archive); a bad
/// parameter is a 400 naming it, no format a 415 saying `what` to send.
fn reading(
    state: &AppState,
    headers: &HeaderMap,
    asked: Requested<'_>,
    what: &str,
) -> ApiResult<(Format, ImportOptions)> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (format, mut import) = Requested {
        content_type: Some(ctype),
        ..asked
    }
    .resolve()
    .map_err(|(name, e)| ApiError::invalid_parameter(name, e))?;
    let Some(format) = format else {
        return Err(ApiError::unsupported_media_type(format!(
            "{what}, not {:?}",
            if ctype.is_empty() { "(none)" } else { ctype }
        )));
    };
    import.read = ReadOptions {
        max_positions_per_feature: Some(state.config().max_positions_per_feature),
        ..ReadOptions::default()
    };
    import.max_archive_bytes = state
        .config()
        .max_body_bytes
        .saturating_mul(20)
        .min(1 << 30);
    Ok((format, import))
}

fn draft_id(p: Result<Path<String>, PathRejection>) -> ApiResult<i64> {
    let Path(s) = p?;
    s.parse()
        .map_err(|_| ApiError::invalid_parameter("id", format!("{s:?} is not a draft id")))
}

/// `GET /api/v1/drafts/{id}`: a draft's metadata and the summary of its report (its uploader,
/// planners of its streets, admins).
#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "drafts",
    params(("id" = i64, Path)),
    responses((status = 200, description = "The draft", body = wire::DraftView),
              (status = 400, description = "`id` is not a draft id", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The draft covers streets outside the token's scope", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown draft", body = Problem, content_type = "application/problem+json")))]
pub async fn get_draft(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<wire::DraftView>> {
    let id = draft_id(id)?;
    let caller = auth::require(&state, &headers, Role::Planner).await?;
    let store = state.store()?;
    let view = state
        .blocking(move || drafts::get(store.as_ref(), &caller, id))
        .await?;
    Ok(Json(view))
}

/// `GET /api/v1/drafts/{id}/report[?format=geojson]`: a page of the validation report (JSON), or
/// of its findings as a GeoJSON FeatureCollection a map can draw.
#[utoipa::path(get, path = "/api/v1/drafts/{id}/report", tag = "drafts",
    params(("id" = i64, Path), wire::ReportQuery),
    responses((status = 200, description = "A page of the report (`format=json`, the default)", body = wire::DraftReport),
              (status = 200, description = "A page of the findings as GeoJSON (`format=geojson`)", body = wire::FindingsCollection, content_type = "application/geo+json"),
              (status = 400, description = "Invalid parameter (`id`, `format`, `offset`, `limit`)", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The draft covers streets outside the token's scope", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown draft", body = Problem, content_type = "application/problem+json")))]
pub async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    Params(q): Params<wire::ReportQuery>,
) -> ApiResult<Response> {
    let id = draft_id(id)?;
    let page = drafts::page_params(q.offset.as_deref(), q.limit.as_deref())?;
    let format = drafts::ReportFormat::parse(q.format.as_deref())?;
    let caller = auth::require(&state, &headers, Role::Planner).await?;
    let store = state.store()?;
    let answer = state
        .blocking(move || drafts::report(store.as_ref(), &caller, id, format, page))
        .await?;
    Ok(match answer {
        drafts::ReportPage::Json(r) => Json(r).into_response(),
        drafts::ReportPage::GeoJson(c) => {
            ([(header::CONTENT_TYPE, "application/geo+json")], Json(c)).into_response()
        }
    })
}

/// `POST /api/v1/drafts/{id}/publish`: make the draft generation N+1 and serve it.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/publish", tag = "drafts",
    params(("id" = i64, Path)),
    request_body(content = wire::PublishRequest, description = "Optional: `override_reason` (admin only) to publish over validation errors"),
    responses(
        (status = 200, description = "The new generation, now served", body = wire::Published),
        (status = 400, description = "`id` is not a draft id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the token's streets, or an override by a non-admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown draft", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused (validation errors) or conflicting (already published, expired, or the generation moved)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over 64 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The body is not `{\"override_reason\": …}`", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::Published>> {
    let caller = auth::require(&state, &headers, Role::Planner).await?;
    let id = draft_id(id)?;
    let body = body?;
    let req: wire::PublishRequest = if body.iter().all(u8::is_ascii_whitespace) {
        wire::PublishRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::unprocessable(format!(
                "body: {e} (expected {{\"override_reason\": \"…\"}})"
            ))
        })?
    };
    let store = state.store()?;
    let ttl = state.config().draft_ttl;
    let st = state.clone();
    let g = state
        .blocking(move || {
            let g = drafts::publish(
                store.as_ref(),
                &caller,
                id,
                req.override_reason.as_deref(),
                ttl,
            )?;
            st.reload_from_store(g.number)
                .map_err(service::Error::internal)?;
            Ok::<_, service::Error>(g)
        })
        .await?;
    Ok(Json(wire::Published {
        generation: g.number,
        info: generations::to_wire(&g),
    }))
}

/// `GET /api/v1/generations`: every published generation, oldest first.
#[utoipa::path(get, path = "/api/v1/generations", tag = "drafts",
    responses((status = 200, description = "Every published generation and the one served", body = wire::Generations),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn generations(State(state): State<AppState>) -> ApiResult<Json<wire::Generations>> {
    let store = state.store()?;
    let list = state
        .blocking(move || generations::list(store.as_ref()))
        .await?;
    Ok(Json(wire::Generations {
        items: list.iter().map(generations::to_wire).collect(),
        current: state.atlas().generation(),
    }))
}

/// `GET /api/v1/generations/{a}/diff/{b}`: areas that changed, with the area that changed hands.
#[utoipa::path(get, path = "/api/v1/generations/{a}/diff/{b}", tag = "drafts",
    params(("a" = i32, Path), ("b" = i32, Path)),
    responses((status = 200, description = "The areas that changed", body = wire::Diff),
              (status = 400, description = "`a` or `b` is not a generation number", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown generation", body = Problem, content_type = "application/problem+json")))]
pub async fn diff(
    State(state): State<AppState>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<Json<wire::Diff>> {
    let Path((a, b)) = p?;
    let a: i32 = a.parse().map_err(|_| {
        ApiError::invalid_parameter("a", format!("{a:?} is not a generation number"))
    })?;
    let b: i32 = b.parse().map_err(|_| {
        ApiError::invalid_parameter("b", format!("{b:?} is not a generation number"))
    })?;
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || generations::diff(store.as_ref(), a, b))
            .await?,
    ))
}

fn export_file(f: export::File) -> Response {
    (
        [
            (header::CONTENT_TYPE, f.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", f.file_name),
            ),
        ],
        f.bytes,
    )
        .into_response()
}

/// `GET /api/v1/generations/{a}/export?format=&crs=&encoding=`: a generation (`a`: a number,
/// an RFC 3339 time, or `current`) as GeoJSON, a .zip of Shapefiles or a GeoPackage (planner
/// or admin token: the file holds every person's phone number).
#[utoipa::path(get, path = "/api/v1/generations/{a}/export", tag = "drafts",
    params(("a" = String, Path, description = "Generation number, RFC 3339 time, or `current`"), wire::ExportQuery),
    responses((status = 200, description = "GeoJSON (`format=geojson`, default)", body = Object, content_type = "application/geo+json"),
              (status = 200, description = "A .zip with `<layer>.shp/.shx/.dbf/.prj/.cpg` per layer (`format=shapefile`)", content_type = "application/zip"),
              (status = 200, description = "A GeoPackage, one table per layer (`format=gpkg`)", content_type = "application/geopackage+sqlite3"),
              (status = 400, description = "Invalid parameter (`a`, `format`, `crs`, `encoding`)", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not a planner or admin token", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such generation", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A value the format cannot hold (e.g. a text over 254 bytes in a DBF, a character GBK lacks), naming the feature", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn export_generation(
    State(state): State<AppState>,
    headers: HeaderMap,
    n: Result<Path<String>, PathRejection>,
    Params(q): Params<wire::ExportQuery>,
) -> ApiResult<Response> {
    let Path(n) = n?;
    let which = if n == "current" {
        generations::Which::Current
    } else {
        generations::Which::parse("a", &n)?
    };
    auth::require(&state, &headers, Role::Planner).await?;
    let req = export::Request::parse(q.format.as_deref(), q.crs.as_deref(), q.encoding.as_deref())?;
    let store = state.store()?;
    let f = state
        .blocking(move || export::generation(store.as_ref(), which, &req))
        .await?;
    Ok(export_file(f))
}

/// `GET /api/v1/drafts/{id}/export?format=&crs=&encoding=`: a draft's own features as GeoJSON,
/// a .zip of Shapefiles or a GeoPackage.
#[utoipa::path(get, path = "/api/v1/drafts/{id}/export", tag = "drafts",
    params(("id" = i64, Path), wire::ExportQuery),
    responses((status = 200, description = "GeoJSON (`format=geojson`, default)", body = Object, content_type = "application/geo+json"),
              (status = 200, description = "A .zip with `<layer>.shp/.shx/.dbf/.prj/.cpg` per layer (`format=shapefile`)", content_type = "application/zip"),
              (status = 200, description = "A GeoPackage, one table per layer (`format=gpkg`)", content_type = "application/geopackage+sqlite3"),
              (status = 400, description = "Invalid parameter (`id`, `format`, `crs`, `encoding`)", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The draft covers streets outside the token's scope", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown draft", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A value the format cannot hold, naming the feature", body = Problem, content_type = "application/problem+json")))]
pub async fn export_draft(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    Params(q): Params<wire::ExportQuery>,
) -> ApiResult<Response> {
    let id = draft_id(id)?;
    let caller = auth::require(&state, &headers, Role::Planner).await?;
    let req = export::Request::parse(q.format.as_deref(), q.crs.as_deref(), q.encoding.as_deref())?;
    let store = state.store()?;
    let f = state
        .blocking(move || export::draft(store.as_ref(), &caller, id, &req))
        .await?;
    Ok(export_file(f))
}

/// `GET /api/v1/drafts/{id}/report/export?format=&crs=&encoding=`: every finding of a draft's
/// validation report (not paginated) as GeoJSON, a .zip of Shapefiles or a GeoPackage, one
/// table per dimension of the findings' locations (docs/formats.md).
#[utoipa::path(get, path = "/api/v1/drafts/{id}/report/export", tag = "drafts",
    params(("id" = i64, Path), wire::ExportQuery),
    responses((status = 200, description = "A FeatureCollection, one feature per finding, a null geometry for those without a location (`format=geojson`, default)", body = Object, content_type = "application/geo+json"),
              (status = 200, description = "A .zip with `findings_points`, `findings_lines`, `findings_areas` (`.shp/.shx/.dbf/.prj/.cpg`) and `findings_unlocated` (`.dbf/.cpg`), those with findings (`format=shapefile`)", content_type = "application/zip"),
              (status = 200, description = "A GeoPackage with the same tables, `findings_unlocated` an attributes table (`format=gpkg`)", content_type = "application/geopackage+sqlite3"),
              (status = 400, description = "Invalid parameter (`id`, `format`, `crs`, `encoding`)", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "The draft covers streets outside the token's scope", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Unknown draft", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A value the format cannot hold (a text over 254 bytes in a DBF, a character GBK lacks, a location outside the coordinate system's reach), naming the finding by index and rule", body = Problem, content_type = "application/problem+json")))]
pub async fn export_findings(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    Params(q): Params<wire::ExportQuery>,
) -> ApiResult<Response> {
    let id = draft_id(id)?;
    let caller = auth::require(&state, &headers, Role::Planner).await?;
    let req = export::Request::parse(q.format.as_deref(), q.crs.as_deref(), q.encoding.as_deref())?;
    let store = state.store()?;
    let f = state
        .blocking(move || export::draft_findings(store.as_ref(), &caller, id, &req))
        .await?;
    Ok(export_file(f))
}
