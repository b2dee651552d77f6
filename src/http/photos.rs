//! Case photos over the native API:
//!
//! - `POST /api/v1/cases/{id}/photos` (`multipart/form-data`: a file part `photo` and a field
//!   `kind` = report | before | after) → 201 with the stored photo's [`wire::PhotoView`]. The
//!   token is checked from the headers before the body is read (the edge, then here), the body
//!   is bounded by `--max-photo-mb` (413 naming the limit);
//! - `GET /api/v1/cases/{id}/photos`: the case's photos;
//! - `GET /api/v1/cases/{id}/photos/{photo}` and `…/{photo}/thumb`: the stored photo (stripped
//!   of its metadata) and its thumbnail, `Cache-Control: private`, with an ETag
//!   (`If-None-Match` → 304).
//!
//! All of them only for the roles that read cases, each within its scope (the same rule as
//! `GET /api/v1/cases/{id}`); the flows are [`crate::service::photos`].

use super::AppState;
use super::auth;
use super::error::{ApiError, ApiResult};
use super::idempotency;
use crate::service::cases::case_id;
use crate::service::idempotency::Outcome;
use crate::service::photos as service;
use crate::wire::cases as wire;
use crate::wire::problem::Problem;
use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

/// Room for the multipart framing and the `kind` field beside the photo itself, bytes.
pub const MULTIPART_OVERHEAD: usize = 16 * 1024;

/// Longest `kind` field, bytes.
const MAX_KIND_BYTES: usize = 64;

/// The body limit of an upload: the photo limit and the multipart framing.
pub fn body_limit(max_photo_bytes: usize) -> usize {
    max_photo_bytes.saturating_add(MULTIPART_OVERHEAD)
}

fn too_large(limit: usize) -> ApiError {
    ApiError::too_large(format!(
        "photo is larger than {limit} bytes, the limit of a photo; send a smaller photo (the phone's 'medium' or 'large' size)"
    ))
    .with_extra(json!({"field": "photo", "limit": limit}))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!("request body: {}", e.body_text()))
    } else {
        ApiError::bad_request(format!("multipart body: {}", e.body_text()))
    }
}

/// `POST /api/v1/cases/{id}/photos`: adds a photo to a case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/photos", tag = "cases", operation_id = "add_case_photo",
    params(("id" = i64, Path, minimum = 1, description = "Case id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 128, pattern = "^[!-~]([ -~]{0,126}[!-~])?$", description = "1 to 128 printable ASCII characters (a UUID): the same photo and kind sent again with the key is answered as the first time (`Idempotent-Replayed: true`) and stored once; kept 24 hours")),
    request_body(content = wire::PhotoUpload, content_type = "multipart/form-data",
        description = "A file part `photo` (JPEG or PNG; the format is read from the bytes, at most `--max-photo-mb`, default 10 MiB, and `--max-photo-megapixels`, default 40) and a field `kind` (report, before, after). The stored photo keeps no metadata: EXIF (with its GPS position), XMP and comments are stripped; the capture time is kept as `taken_at`."),
    responses(
        (status = 201, description = "The stored photo", body = wire::PhotoView, headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to an earlier request with the same `Idempotency-Key`, given again"))),
        (status = 400, description = "`id` is not a case id, or a malformed multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role that reads no cases, or the case is outside the token's scope (streets, grids, department)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The case has the most photos a case may have (`limit`), or a request with this `Idempotency-Key` is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The photo is over `--max-photo-mb` (`limit`, bytes)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `multipart/form-data`, or the photo is not JPEG or PNG: the problem names the `format` found (heic, heif, avif, webp, gif, tiff, bmp, pdf, unknown) and what to do", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`Idempotency-Key` used for a different request; no `photo` part, a missing or unknown `kind`, an unknown field, a truncated or damaged image, or more pixels than allowed (`width`, `height`, `limit_pixels`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file), or the photo store failed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut req: Request,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &service::PHOTO_ROLES).await?;
    idempotency::key(&headers)?;
    let id = case_id(&id)?;
    let limits = state.config().photo_limits;
    DefaultBodyLimit::max(body_limit(limits.max_bytes)).apply(&mut req);
    let mut form = Multipart::from_request(req, &state)
        .await
        .map_err(|e| ApiError::unsupported_media_type(format!("{}: send the photo as `multipart/form-data` with a file part `photo` and a field `kind`", e.body_text())))?;
    let mut photo: Option<Vec<u8>> = None;
    let mut kind: Option<String> = None;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        let limit = match name.as_str() {
            "photo" => limits.max_bytes,
            "kind" => MAX_KIND_BYTES,
            other => {
                return Err(ApiError::unprocessable(format!(
                    "field `{other}`: unknown (the form has a file part `photo` and a field `kind`)"
                ))
                .with_extra(json!({"field": other})));
            }
        };
        let mut buf = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if buf.len() + chunk.len() > limit {
                return Err(if name == "photo" {
                    too_large(limit)
                } else {
                    ApiError::unprocessable(format!("field `{name}`: longer than {limit} bytes"))
                        .with_extra(json!({"field": name}))
                });
            }
            buf.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "photo" => photo = Some(buf),
            _ => kind = Some(String::from_utf8_lossy(&buf).into_owned()),
        }
    }
    let kind = service::kind(kind.as_deref())?;
    let photo = photo.ok_or_else(|| {
        ApiError::unprocessable("field `photo`: missing (a file part named `photo`)")
            .with_extra(json!({"field": "photo"}))
    })?;
    // a form's boundary changes with every send: the request a key stands for is its kind and
    // the photo's bytes
    let now = Utc::now();
    let key = {
        let mut canon = Vec::with_capacity(photo.len() + 8);
        canon.extend_from_slice(kind.as_str().as_bytes());
        canon.push(0);
        canon.extend_from_slice(&photo);
        idempotency::claim(
            &state,
            &caller,
            &headers,
            format!("POST /api/v1/cases/{id}/photos"),
            &canon,
            now,
        )?
    };
    let store = state.store()?;
    let objects = state.photos()?;
    let outcome = state
        .blocking(move || {
            service::upload_keyed(
                store.as_ref(),
                &objects,
                &caller,
                id,
                kind,
                &photo,
                &limits,
                now,
                key.as_ref(),
            )
        })
        .await?;
    let stored = match outcome {
        Outcome::Done(p) => p,
        Outcome::Replay(r) => {
            let location = r
                .resource_id
                .map(|p| format!("/api/v1/cases/{id}/photos/{p}"));
            return Ok(idempotency::replay(r, location));
        }
    };
    let view = wire::PhotoView::of(&stored);
    let mut resp = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/cases/{id}/photos/{}", stored.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `GET /api/v1/cases/{id}/photos`: the case's photos.
#[utoipa::path(get, path = "/api/v1/cases/{id}/photos", tag = "cases", operation_id = "list_case_photos",
    params(("id" = i64, Path, minimum = 1, description = "Case id")),
    responses((status = 200, description = "The case's photos, oldest first", body = wire::PhotoList),
        (status = 400, description = "`id` is not a case id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role that reads no cases, or the case is outside the token's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &service::PHOTO_ROLES).await?;
    let id = case_id(&id)?;
    let store = state.store()?;
    let photos = state
        .blocking(move || service::list(store.as_ref(), &caller, id))
        .await?;
    let list = wire::PhotoList {
        photos: photos.iter().map(wire::PhotoView::of).collect(),
        limit: state.config().photo_limits.max_per_case,
    };
    let mut resp = Json(list).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(resp)
}

/// `GET /api/v1/cases/{id}/photos/{photo}`: the stored photo.
#[utoipa::path(get, path = "/api/v1/cases/{id}/photos/{photo}", tag = "cases", operation_id = "get_case_photo",
    params(("id" = i64, Path, minimum = 1, description = "Case id"), ("photo" = i64, Path, minimum = 1, description = "Photo id")),
    responses((status = 200, description = "The photo as stored: JPEG or PNG without metadata (no EXIF but the orientation, no GPS, XMP or comments); `Cache-Control: private`, an ETag", content(("image/jpeg"), ("image/png"))),
        (status = 304, description = "Not modified (`If-None-Match` names its ETag)"),
        (status = 400, description = "`id` or `photo` is not an id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role that reads no cases, or the case is outside the token's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or no such photo of it", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file), or the photo store failed", body = Problem, content_type = "application/problem+json")))]
pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, photo)): Path<(String, String)>,
) -> ApiResult<Response> {
    serve(state, headers, id, photo, false).await
}

/// `GET /api/v1/cases/{id}/photos/{photo}/thumb`: the photo's thumbnail.
#[utoipa::path(get, path = "/api/v1/cases/{id}/photos/{photo}/thumb", tag = "cases", operation_id = "get_case_photo_thumb",
    params(("id" = i64, Path, minimum = 1, description = "Case id"), ("photo" = i64, Path, minimum = 1, description = "Photo id")),
    responses((status = 200, description = "The thumbnail: JPEG, upright, longest side at most 320 pixels, no metadata; `Cache-Control: private`, an ETag", content_type = "image/jpeg"),
        (status = 304, description = "Not modified (`If-None-Match` names its ETag)"),
        (status = 400, description = "`id` or `photo` is not an id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A role that reads no cases, or the case is outside the token's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such case, or no such photo of it", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file), or the photo store failed", body = Problem, content_type = "application/problem+json")))]
pub async fn thumb(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, photo)): Path<(String, String)>,
) -> ApiResult<Response> {
    serve(state, headers, id, photo, true).await
}

async fn serve(
    state: AppState,
    headers: HeaderMap,
    id: String,
    photo: String,
    thumb: bool,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &service::PHOTO_ROLES).await?;
    let id = case_id(&id)?;
    let photo = service::photo_id(&photo)?;
    let if_none_match = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let store = state.store()?;
    let objects = state.photos()?;
    let (meta, bytes) = state
        .blocking(move || {
            service::read(
                store.as_ref(),
                &objects,
                &caller,
                id,
                photo,
                thumb,
                if_none_match.as_deref(),
            )
        })
        .await?;
    let etag = service::etag(&meta, thumb);
    let content_type = if thumb {
        "image/jpeg"
    } else {
        meta.content_type.as_str()
    };
    let mut resp = match bytes {
        Some(bytes) => (StatusCode::OK, bytes).into_response(),
        None => StatusCode::NOT_MODIFIED.into_response(),
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}
