//! The `Idempotency-Key` header of `POST /api/v1/cases`, `POST /api/v1/cases/{id}/events`,
//! `POST /api/v1/checkins` and `POST /api/v1/fixes` (see [`crate::service::idempotency`]): the
//! key read after the token is verified (400 naming the header when it is not 1 to 128
//! printable ASCII characters), claimed with the request's route and body, and a replay answered
//! with the first answer's status, body and `Location`, marked `Idempotent-Replayed: true`.

use super::AppState;
use super::auth::Caller;
use super::error::ApiResult;
use crate::service::idempotency::{self as service, Replay};
use crate::store::KeyClaim;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

pub use crate::service::idempotency::{HEADER, REPLAYED};

/// The key a request sent, checked; `None` without the header. One header only.
pub fn key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(crate::service::Error::invalid_parameter(
            HEADER,
            "send the header once; send 1 to 128 printable ASCII characters (a UUID)",
        )
        .into());
    }
    Ok(Some(service::parse_key(first.as_bytes())?))
}

/// The claim of `caller` on the request's key for `route` with `body`, at `now` (`None` without
/// the header).
pub fn claim(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    route: String,
    body: &[u8],
    now: DateTime<Utc>,
) -> ApiResult<Option<KeyClaim>> {
    let Some(key) = key(headers)? else {
        return Ok(None);
    };
    Ok(Some(service::claim(
        caller,
        key,
        route,
        body,
        now,
        state.config().idempotency_ttl,
    )?))
}

/// The first answer again: its status and JSON body, `location` when given, and
/// `Idempotent-Replayed: true`.
pub fn replay(r: Replay, location: Option<String>) -> Response {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK);
    let mut resp = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        r.body,
    )
        .into_response();
    let headers = resp.headers_mut();
    headers.insert(
        HeaderName::from_static("idempotent-replayed"),
        HeaderValue::from_static("true"),
    );
    if let Some(v) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, v);
    }
    resp
}
