//! `GET /api/v1/tiles/{z}/{x}/{y}.mvt` and `GET /api/v1/tiles.json` (TileJSON 3.0).

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::atlas::tiles::{MAX_ZOOM, TileError, min_zoom};
use crate::model::Layer;
use crate::wire;
use crate::wire::tiles::{TileJson, VectorLayer};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `GET /api/v1/tiles/{z}/{x}/{y}.mvt`.
#[utoipa::path(get, path = "/api/v1/tiles/{z}/{x}/{y}.mvt", tag = "tiles",
    params(("z" = u8, Path, description = "Zoom 0–18"), ("x" = u32, Path), ("y" = u32, Path)),
    responses((status = 200, description = "Mapbox Vector Tile: one layer per gridatlas layer with code, name, layer, kind, parent", content_type = "application/vnd.mapbox-vector-tile"),
              (status = 304, description = "Not modified (ETag per generation)"),
              (status = 400, description = "Invalid tile address", body = wire::problem::Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not a tile path (tiles end in .mvt)", body = wire::problem::Problem, content_type = "application/problem+json")))]
pub async fn tile(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Path((z, x, y)) = path?;
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .ok_or_else(|| ApiError::not_found("tiles end in .mvt"))?;
    let z: u8 = z
        .parse()
        .map_err(|_| ApiError::invalid_parameter("z", format!("{z:?} is not a zoom level")))?;
    if z > MAX_ZOOM {
        return Err(ApiError::invalid_parameter(
            "z",
            format!("{z} is above the maximum zoom {MAX_ZOOM}"),
        ));
    }
    let n = 1u32 << z;
    let x: u32 = x.parse().ok().filter(|&v| v < n).ok_or_else(|| {
        ApiError::invalid_parameter("x", format!("{x:?} is not a column of zoom {z} (0..{n})"))
    })?;
    let y: u32 = y.parse().ok().filter(|&v| v < n).ok_or_else(|| {
        ApiError::invalid_parameter("y", format!("{y:?} is not a row of zoom {z} (0..{n})"))
    })?;
    let atlas = state.atlas();
    // A generation number names the content; a server of a file has none, so its content's hash
    // does (a restart with another file must not revalidate old tiles).
    let etag = match atlas.generation() {
        Some(g) => format!("\"g{g}-{z}-{x}-{y}\""),
        None => format!("\"f{:016x}-{z}-{x}-{y}\"", atlas.fingerprint()),
    };
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let bytes = tokio::task::spawn_blocking(move || atlas.tile(z, x, y))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            TileError::Address { .. } => ApiError::invalid_parameter("z", e.to_string()),
            TileError::Encode(_) => ApiError::internal(e),
        })?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.mapbox-vector-tile"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60, must-revalidate"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(resp)
}

/// `GET /api/v1/tiles.json`: TileJSON 3.0 describing the tiles.
#[utoipa::path(get, path = "/api/v1/tiles.json", tag = "tiles",
    responses((status = 200, description = "TileJSON 3.0.0", body = TileJson)))]
pub async fn tilejson(State(state): State<AppState>) -> Json<TileJson> {
    let atlas = state.atlas();
    // Never from the request's Host header (a client would choose where other clients fetch
    // tiles from): the configured public URL, else a path on this server.
    let base = state
        .config()
        .public_url
        .as_deref()
        .map_or("", |u| u.trim_end_matches('/'));
    let bbox = atlas.territory_bbox();
    let bounds = bbox.map_or([-180.0, -85.0, 180.0, 85.0], |b| {
        [b.min().x, b.min().y, b.max().x, b.max().y]
    });
    let center = bbox.map_or([0.0, 0.0, 2.0], |b| [b.center().x, b.center().y, 11.0]);
    let fields: std::collections::BTreeMap<String, String> =
        ["code", "name", "layer", "kind", "parent"]
            .into_iter()
            .map(|f| (f.to_owned(), "String".to_owned()))
            .collect();
    let vector_layers = Layer::ALL
        .iter()
        .map(|&l| VectorLayer {
            id: l.as_str().to_owned(),
            description: l.name_zh().to_owned(),
            minzoom: min_zoom(l),
            maxzoom: MAX_ZOOM,
            fields: fields.clone(),
        })
        .collect();
    Json(TileJson {
        tilejson: "3.0.0".into(),
        name: "gridatlas".into(),
        version: atlas.generation().unwrap_or(0).to_string(),
        scheme: "xyz".into(),
        tiles: vec![format!("{base}/api/v1/tiles/{{z}}/{{x}}/{{y}}.mvt")],
        minzoom: 0,
        maxzoom: MAX_ZOOM,
        bounds,
        center,
        vector_layers,
    })
}
