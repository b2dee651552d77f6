//! Case photos: upload (checked, stripped of metadata, thumbnailed, stored), list and read —
//! each only for a caller who may see the case ([`super::cases::get`]: the roles that read
//! cases, each within its scope; the reporter's photos are personal data).
//!
//! An upload, in order: the caller and the case (403/404 before any work), the kind, the size,
//! the count per case, then [`crate::cases::photos::process`] (format sniffed from the bytes,
//! pixels bounded from the header, metadata stripped, decoded, thumbnail made). Then the bytes
//! go to the photo store ([`Objects`]) and only then the row to the database: never a
//! half-written state — a failed object write leaves no row (and deletes the object written
//! before it), a failed row insert deletes both objects. Should that deletion fail too (the
//! photo store unreachable at that moment) the object stays without a row: unreachable
//! through the API, never served, and logged with its key for removal.

use super::access::{Caller, Role};
use super::error::{Error, Result};
use super::idempotency::{self, Outcome};
use crate::cases::photos::{self as rules, Photo, PhotoError, PhotoKind};
use crate::store::objects::{ObjectError, Objects};
use crate::store::{KeyClaim, KeyWrite, Store, StoreError};
use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::Digest;

/// Limits of photo uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest photo, bytes.
    pub max_bytes: usize,
    /// Most photos per case.
    pub max_per_case: usize,
    /// Most pixels (width × height) of a photo.
    pub max_pixels: u64,
}

/// Default largest photo: 10 MiB.
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;
/// Default most photos per case.
pub const DEFAULT_MAX_PER_CASE: usize = 20;
/// Default most pixels: 40 megapixels.
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: DEFAULT_MAX_BYTES,
            max_per_case: DEFAULT_MAX_PER_CASE,
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

/// The roles that may add and see photos: those that read cases (each within its scope).
pub const PHOTO_ROLES: [Role; 5] = Role::CASE_READERS;

/// The kind of an upload's `kind` field; 422 naming the field.
pub fn kind(raw: Option<&str>) -> Result<PhotoKind> {
    let raw = raw.ok_or_else(|| Error::field("kind", "missing (report, before or after)"))?;
    raw.trim()
        .parse()
        .map_err(|e: String| Error::field("kind", e))
}

/// Photo `id` from its path segment; 400 naming `photo` unless a positive integer.
pub fn photo_id(raw: &str) -> Result<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|&i| i > 0)
        .ok_or_else(|| Error::invalid_parameter("photo", format!("{raw:?} is not a photo id")))
}

fn photo_error(e: PhotoError) -> Error {
    match &e {
        PhotoError::Unsupported { format, .. } => Error::unsupported_media_type(e.to_string())
            .with_extra(json!({
                "field": "photo",
                "format": format,
                "accepted": ["image/jpeg", "image/png"],
            })),
        PhotoError::TooManyPixels {
            width,
            height,
            limit,
        } => Error::unprocessable(e.to_string()).with_extra(json!({
            "field": "photo",
            "width": width,
            "height": height,
            "limit_pixels": limit,
        })),
        PhotoError::Damaged(_) => {
            Error::unprocessable(e.to_string()).with_extra(json!({"field": "photo"}))
        }
    }
}

fn object_error(e: ObjectError) -> Error {
    match e {
        ObjectError::NotFound(key) => {
            tracing::error!(%key, "a photo's object is missing from the photo store");
            Error::not_found("the photo's bytes are missing from the photo store")
        }
        e => {
            tracing::error!(error = %e, "photo store");
            Error::unavailable("the photo store failed; try again shortly")
        }
    }
}

/// Deletes objects written for an upload that did not complete; a failure is logged with the
/// key (an orphan object: never served, since no row names it).
fn discard(objects: &Objects, keys: &[&str]) {
    for key in keys {
        if let Err(e) = objects.delete(key) {
            tracing::error!(%key, error = %e, "orphan photo object: delete it by hand");
        }
    }
}

/// A random object key stem: `cases/<case>/<32 hex digits>`.
fn key_stem(case_id: i64) -> String {
    let n: u128 = rand::random();
    format!("cases/{case_id}/{n:032x}")
}

/// Adds a photo of `kind` to case `case_id` (see the module documentation for the order of the
/// checks and writes), with an optional idempotency key ([`super::idempotency`]): a key already
/// used for this request gives the answer then (201) and stores nothing — a phone that lost the
/// answer to an upload and sends it again adds the photo once.
#[allow(clippy::too_many_arguments)]
pub fn upload_keyed(
    store: &dyn Store,
    objects: &Objects,
    caller: &Caller,
    case_id: i64,
    kind: PhotoKind,
    bytes: &[u8],
    limits: &Limits,
    now: DateTime<Utc>,
    key: Option<&KeyClaim>,
) -> Result<Outcome<Photo>> {
    super::cases::get(store, caller, case_id)?;
    if let Some(r) = idempotency::earlier(store, key)? {
        return Ok(Outcome::Replay(r));
    }
    if bytes.len() > limits.max_bytes {
        return Err(Error::too_large(format!(
            "photo is {} bytes, over the limit of {} bytes; send a smaller photo",
            bytes.len(),
            limits.max_bytes
        ))
        .with_extra(json!({"field": "photo", "limit": limits.max_bytes})));
    }
    let count = store.case_photos(case_id)?.len();
    if count >= limits.max_per_case {
        return Err(too_many(case_id, count, limits.max_per_case));
    }
    let processed = rules::process(bytes, limits.max_pixels).map_err(photo_error)?;
    let ext = match processed.format {
        rules::Format::Jpeg => "jpg",
        rules::Format::Png => "png",
    };
    let stem = key_stem(case_id);
    let object_key = format!("{stem}.{ext}");
    let thumb_key = format!("{stem}-thumb.jpg");
    let sha256 = hex(&sha2::Sha256::digest(&processed.bytes));
    let photo = Photo {
        id: 0,
        case_id,
        kind,
        object_key: object_key.clone(),
        thumb_key: thumb_key.clone(),
        content_type: processed.format.content_type().to_owned(),
        bytes: i64::try_from(processed.bytes.len()).unwrap_or(i64::MAX),
        width: processed.width,
        height: processed.height,
        sha256,
        taken_at: processed.taken_at,
        uploaded_at: now,
        uploaded_by: caller.person(None),
    };
    objects
        .put(&object_key, processed.bytes)
        .map_err(object_error)?;
    if let Err(e) = objects.put(&thumb_key, processed.thumb) {
        discard(objects, &[&object_key]);
        return Err(object_error(e));
    }
    let answer =
        |p: &Photo| idempotency::answer(201, &crate::wire::cases::PhotoView::of(p), Some(p.id));
    let key = key.map(|claim| KeyWrite {
        claim,
        answer: &answer,
    });
    let written = match store.add_photo_keyed(&photo, limits.max_per_case, key.as_ref()) {
        Ok(w) => w,
        Err(e) => {
            discard(objects, &[&object_key, &thumb_key]);
            return Err(match e {
                StoreError::Conflict(_) => {
                    too_many(case_id, limits.max_per_case, limits.max_per_case)
                }
                e => e.into(),
            });
        }
    };
    match idempotency::outcome(key.as_ref().map(|k| k.claim), written)? {
        Outcome::Done(p) => Ok(Outcome::Done(p)),
        // another request with the key came first: its photo is the one kept
        Outcome::Replay(r) => {
            discard(objects, &[&object_key, &thumb_key]);
            Ok(Outcome::Replay(r))
        }
    }
}

fn too_many(case_id: i64, count: usize, max: usize) -> Error {
    Error::conflict(format!(
        "case {case_id} has {count} photos, the most a case may have ({max})"
    ))
    .with_extra(json!({"limit": max}))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The photos of case `case_id`, if `caller` may see the case.
pub fn list(store: &dyn Store, caller: &Caller, case_id: i64) -> Result<Vec<Photo>> {
    super::cases::get(store, caller, case_id)?;
    Ok(store.case_photos(case_id)?)
}

/// The ETag of a photo (or of its thumbnail): from the SHA-256 of the stored bytes (photos
/// never change once stored).
pub fn etag(photo: &Photo, thumb: bool) -> String {
    if thumb {
        format!("\"{}-thumb\"", photo.sha256)
    } else {
        format!("\"{}\"", photo.sha256)
    }
}

/// Whether an `If-None-Match` value names `etag` (or is `*`).
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// Photo `id` of case `case_id` and its stored bytes (the thumbnail's with `thumb`), if
/// `caller` may see the case; no bytes when `if_none_match` names its [`etag`] (not modified).
pub fn read(
    store: &dyn Store,
    objects: &Objects,
    caller: &Caller,
    case_id: i64,
    id: i64,
    thumb: bool,
    if_none_match: Option<&str>,
) -> Result<(Photo, Option<Vec<u8>>)> {
    let photo = meta(store, caller, case_id, id)?;
    if if_none_match.is_some_and(|v| matches(v, &etag(&photo, thumb))) {
        return Ok((photo, None));
    }
    let key = if thumb {
        &photo.thumb_key
    } else {
        &photo.object_key
    };
    let bytes = objects.get(key).map_err(object_error)?;
    Ok((photo, Some(bytes)))
}

/// Photo `id` of case `case_id` (no bytes), if `caller` may see the case.
pub fn meta(store: &dyn Store, caller: &Caller, case_id: i64, id: i64) -> Result<Photo> {
    super::cases::get(store, caller, case_id)?;
    Ok(store.case_photo(case_id, id)?)
}
