//! The field force over the native API (see [`crate::service::field`] for who may do what):
//!
//! - `GET|PUT /api/v1/field-settings` (read: any; write: admin): duty modes, shift templates,
//!   check-in, track and coverage rules, retention;
//! - `GET|PUT /api/v1/staff` (admin, supervisor, dispatchers for their streets): the roster, as
//!   JSON (`PUT` also takes `text/csv` in UTF-8 or GBK); `GET /api/v1/staff.csv`;
//! - `GET|PUT /api/v1/duty`: who is on which shift on which date;
//! - `POST /api/v1/checkins` (the person's own `grid_worker` token): check in or out — the
//!   answer says where the point lies against the assigned areas and the class;
//!   `GET /api/v1/checkins` (personal data);
//! - `POST /api/v1/fixes`: GPS fixes as NDJSON or a GPX file;
//! - `GET /api/v1/attendance`: per person (personal data) and per street, team and grid;
//! - `GET /api/v1/tracks` (GeoJSON) and `GET /api/v1/tracks.gpx`: one person's paths;
//! - `GET /api/v1/geofence`: entered / left grids and blocks;
//! - `GET /api/v1/coverage`: road segments, blocks and grids covered by the patrols;
//! - `GET /api/v1/my-shift` (`grid_worker`): the current shift and its task list.
//!
//! The edge checks the token of every route taking a body before the body is read.

use super::AppState;
use super::auth::{self, Caller, Role};
use super::error::{ApiError, ApiResult};
use super::idempotency;
use super::query::Params;
use crate::service::field as service;
use crate::service::idempotency::Outcome;
use crate::wire::field as wire;
use crate::wire::problem::Problem;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use serde::de::DeserializeOwned;

/// Most bytes of a roster or duty body: 100,000 people.
pub const MAX_ROSTER_BYTES: usize = 32 * 1024 * 1024;
/// Most bytes of a fix batch: 500,000 NDJSON lines of about 100 bytes.
pub const MAX_FIXES_BYTES: usize = 64 * 1024 * 1024;

pub(crate) fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// An admin's `PUT` of a JSON document the service checks and stores (settings, a class table):
/// the token first, then the body's media type and syntax (415, 400), then `f` on the blocking
/// pool with the store, the caller and the body.
pub(crate) async fn admin_json_put<T, E>(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    f: impl FnOnce(&dyn crate::store::Store, &auth::Caller, &[u8]) -> Result<T, E> + Send + 'static,
) -> ApiResult<Json<T>>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    let caller = auth::require(state, headers, Role::Admin).await?;
    let body = body?;
    let _: serde_json::Value = json_body(headers, &body)?;
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || f(store.as_ref(), &caller, &body))
            .await?,
    ))
}

pub(crate) fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> ApiResult<T> {
    let ct = content_type(headers);
    if !ct.starts_with("application/json") {
        return Err(ApiError::unsupported_media_type(format!(
            "send application/json, not {:?}",
            if ct.is_empty() { "(none)" } else { ct }
        )));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(
            "malformed JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

/// `GET /api/v1/field-settings`: the settings in force.
#[utoipa::path(get, path = "/api/v1/field-settings", tag = "field",
    responses((status = 200, description = "The settings (duty modes, shift templates, check-in, track and coverage rules, retention)", body = crate::field::duty::FieldSettings),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_settings(
    State(state): State<AppState>,
) -> ApiResult<Json<crate::field::duty::FieldSettings>> {
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || service::settings(store.as_ref()).map(|(s, _)| s))
            .await?,
    ))
}

/// `PUT /api/v1/field-settings` (admin): replaces the settings.
#[utoipa::path(put, path = "/api/v1/field-settings", tag = "field",
    request_body(content = crate::field::duty::FieldSettings, description = "The settings"),
    responses((status = 200, description = "The new settings", body = crate::field::duty::FieldSettings),
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
) -> ApiResult<Json<crate::field::duty::FieldSettings>> {
    admin_json_put(&state, &headers, body, |store, caller, body| {
        service::replace_settings(store, caller, &String::from_utf8_lossy(body))
    })
    .await
}

/// `GET /api/v1/staff` (admin, supervisor, dispatcher): the roster.
#[utoipa::path(get, path = "/api/v1/staff", tag = "field",
    params(wire::StaffQuery),
    responses((status = 200, description = "People, by 工号 (a dispatcher sees its streets' people)", body = wire::StaffList),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, supervisor or dispatcher token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::StaffQuery>,
) -> ApiResult<Json<wire::StaffList>> {
    let caller = auth::require_any(&state, &headers, &service::PERSONAL).await?;
    let store = state.store()?;
    let staff = state
        .blocking(move || service::list_staff(store.as_ref(), &caller, q.street.as_deref()))
        .await?;
    Ok(Json(wire::StaffList { staff }))
}

/// `PUT /api/v1/staff` (admin; dispatcher for its streets): replaces the roster of the
/// streets of the people sent (or of `streets=`).
#[utoipa::path(put, path = "/api/v1/staff", tag = "field",
    params(wire::StaffImportQuery),
    request_body(content(
        (Vec<crate::field::roster::Staff> = "application/json"),
        (String = "text/csv")
    ), description = "The people: a JSON array, or CSV as offices export it (UTF-8 or GBK, English or Chinese headers: 工号, 姓名, 联系电话, 角色, 所属单位, 单位类型, 班组, 所属街道, 责任区域)"),
    responses((status = 200, description = "What was replaced", body = wire::StaffImported),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or dispatcher token, or a street outside its scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A 工号 is used by a person of a street not replaced", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 32 MiB or 100,000 people", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json` or `text/csv`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every problem of the roster listed (a CSV's by row and column) (`problems`): a field too long or empty, a 工号 repeated, an unknown street or area", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn put_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::StaffImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::StaffImported>> {
    let caller = auth::require_any(&state, &headers, &[Role::Admin, Role::Dispatcher]).await?;
    let body = body?;
    let staff: Vec<crate::field::roster::Staff> = if content_type(&headers).starts_with("text/csv")
    {
        let encoding = match q.encoding.as_deref() {
            None => None,
            Some(e) => Some(encoding_param(e)?),
        };
        crate::field::roster::read_csv(&body, encoding).map_err(roster_problem)?
    } else {
        json_body(&headers, &body)?
    };
    let streets = q
        .streets
        .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect());
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || {
                service::import_staff(store.as_ref(), &atlas, &caller, streets, staff)
            })
            .await?,
    ))
}

/// `GET /api/v1/duty` (admin, supervisor, dispatcher): the duty roster.
#[utoipa::path(get, path = "/api/v1/duty", tag = "field",
    params(wire::DutyQuery),
    responses((status = 200, description = "Entries, by date then person", body = wire::DutyList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, supervisor or dispatcher token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_duty(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::DutyQuery>,
) -> ApiResult<Json<wire::DutyList>> {
    let caller = auth::require_any(&state, &headers, &service::PERSONAL).await?;
    let store = state.store()?;
    let entries = state
        .blocking(move || {
            let now = Utc::now();
            let (settings, _) = service::settings(store.as_ref())?;
            let from = service::date_param(&settings, "from", q.from.as_deref(), now)?;
            let to = match q.to.as_deref() {
                Some(_) => service::date_param(&settings, "to", q.to.as_deref(), now)?,
                None => from,
            };
            if to < from || (to - from).num_days() > 366 {
                return Err(crate::service::Error::invalid_parameter(
                    "to",
                    "must be on or after from, at most 366 days later",
                ));
            }
            service::duty(store.as_ref(), &caller, from, to, q.street.as_deref())
        })
        .await?;
    Ok(Json(wire::DutyList { entries }))
}

/// `PUT /api/v1/duty` (admin; dispatcher for its streets' people): replaces the duty of the
/// people named on the dates given.
#[utoipa::path(put, path = "/api/v1/duty", tag = "field",
    request_body(content = wire::DutyInput, description = "`from`, `to` and the entries"),
    responses((status = 200, description = "The entries stored", body = wire::DutyList),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or dispatcher token, or a person of another street", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An entry of an unknown person, a date outside `from..=to`, a shift the person's team does not have (the problem names the entry)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn put_duty(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::DutyList>> {
    let caller = auth::require_any(&state, &headers, &[Role::Admin, Role::Dispatcher]).await?;
    let body = body?;
    let input: wire::DutyInput = json_body(&headers, &body)?;
    let store = state.store()?;
    state
        .blocking(move || service::put_duty(store.as_ref(), &caller, &input).map(|_| input.entries))
        .await
        .map(|entries| Json(wire::DutyList { entries }))
}

/// `POST /api/v1/checkins` (the person's `grid_worker` token, or admin): check in or out.
#[utoipa::path(post, path = "/api/v1/checkins", tag = "field",
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 128, pattern = "^[!-~]([ -~]{0,126}[!-~])?$", description = "1 to 128 printable ASCII characters (a UUID), chosen by the client for this request and sent again with its retries: a retry of the same request (same route and body) with the same token is answered with the first answer, marked `Idempotent-Replayed: true`, and not applied again; the key is kept for 24 hours (`--idempotency-ttl-hours`)")),
    request_body(content = wire::CheckInInput, description = "The point (`crs`: gcj02 for phones in China), its accuracy, the time (default now) and `punch` (in / out)"),
    responses((status = 201, description = "Recorded: `place` (inside / near / workstation / outside) with `distance_m` and the `area` matched, and `class` (on_time / late / early_leave / outside / no_shift) for the `shift` it counts for", body = wire::CheckInResult, headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to an earlier request with the same `Idempotency-Key`, given again"))),
        (status = 400, description = "Malformed JSON, or an invalid `crs`, or an invalid `Idempotency-Key` header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the person's own grid_worker token (its subject is the 工号) or an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No staff member with that 工号", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this `Idempotency-Key` is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`Idempotency-Key` used for a different request; refused: accuracy worse than 100 m, a time in the future or older than the retention, an impossible speed since the previous position, coordinates out of range", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn post_checkin(
    State(state): State<AppState>,
    headers: HeaderMap,
    verified: Option<Extension<Caller>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let caller = auth::require_verified(
        &state,
        &headers,
        verified.map(|Extension(c)| c),
        &[Role::GridWorker, Role::Admin],
    )
    .await?;
    idempotency::key(&headers)?;
    let body = body?;
    let input: wire::CheckInInput = json_body(&headers, &body)?;
    let now = Utc::now();
    let key = idempotency::claim(
        &state,
        &caller,
        &headers,
        "POST /api/v1/checkins".into(),
        &body,
        now,
    )?;
    let store = state.store()?;
    let atlas = state.atlas();
    let served = atlas.clone();
    let outcome = state
        .blocking(move || {
            service::check_in_keyed(store.as_ref(), &atlas, &caller, &input, now, key.as_ref())
        })
        .await?;
    let done = match outcome {
        Outcome::Done(done) => done,
        Outcome::Replay(r) => return Ok(idempotency::replay(r, None)),
    };
    state
        .events()
        .publish(crate::service::events::checkin_change(
            &served,
            done.checkin.clone(),
        ));
    Ok((axum::http::StatusCode::CREATED, Json(done)).into_response())
}

/// `GET /api/v1/checkins` (admin, supervisor, the street's dispatcher): check-ins of a period.
#[utoipa::path(get, path = "/api/v1/checkins", tag = "field",
    params(wire::PeriodQuery),
    responses((status = 200, description = "Check-ins, by time", body = wire::CheckInList),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, supervisor or dispatcher token", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_checkins(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::PeriodQuery>,
) -> ApiResult<Json<wire::CheckInList>> {
    let caller = auth::require_any(&state, &headers, &service::PERSONAL).await?;
    let store = state.store()?;
    let checkins = state
        .blocking(move || {
            let (settings, _) = service::settings(store.as_ref())?;
            let (from, to) =
                service::period(&settings, q.from.as_deref(), q.to.as_deref(), Utc::now())?;
            service::checkins(
                store.as_ref(),
                &caller,
                from,
                to,
                q.staff.as_deref(),
                q.street.as_deref(),
            )
        })
        .await?;
    Ok(Json(wire::CheckInList { checkins }))
}

/// `GET /api/v1/attendance`: attendance of a date's shifts.
#[utoipa::path(get, path = "/api/v1/attendance", tag = "field",
    params(wire::AttendanceQuery),
    responses((status = 200, description = "Counted per street, team and grid; per person and shift (`rows`) for admins, supervisors and the street's dispatchers", body = wire::AttendanceReport),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A token of a role that reads no cases (planner, reviewer)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_attendance(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::AttendanceQuery>,
) -> ApiResult<Json<wire::AttendanceReport>> {
    let caller = auth::require_any(
        &state,
        &headers,
        &[
            Role::Supervisor,
            Role::Dispatcher,
            Role::Intake,
            Role::Department,
            Role::GridWorker,
        ],
    )
    .await?;
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || {
                let now = Utc::now();
                let (settings, _) = service::settings(store.as_ref())?;
                let date = service::date_param(&settings, "date", q.date.as_deref(), now)?;
                service::attendance_report(
                    store.as_ref(),
                    &atlas,
                    &caller,
                    date,
                    q.street.as_deref(),
                    q.grid.as_deref(),
                    q.team.as_deref(),
                    now,
                )
            })
            .await?,
    ))
}

/// `GET /api/v1/tracks?staff=` (admin, supervisor, the street's dispatcher): a person's paths;
/// `?street=` without `staff`: the paths of every person of the street (at most 7 days).
#[utoipa::path(get, path = "/api/v1/tracks", tag = "field",
    params(wire::PeriodQuery),
    responses((status = 200, description = "One GeoJSON feature per path (fixes joined when less than 60 s and 150 m apart), with the person and the time of every fix; of one person (`staff=`) or of every person of a street (`street=` without `staff`, a period of at most 7 days)", body = wire::TrackCollection, content_type = "application/geo+json"),
        (status = 400, description = "Invalid parameter, no `staff` and no `street`, or a street's period over 7 days", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, supervisor or the person's street's dispatcher token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No staff member with that 工号", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_tracks(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::PeriodQuery>,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &service::PERSONAL).await?;
    let store = state.store()?;
    let tracks = state
        .blocking(move || {
            if q.staff.is_none() && q.street.is_some() {
                return service::street_tracks(store.as_ref(), &caller, &q, Utc::now());
            }
            let (settings, s, fixes) =
                service::track_query(store.as_ref(), &caller, &q, Utc::now())?;
            Ok::<_, crate::service::Error>(service::track_collection(&s, &fixes, &settings.tracks))
        })
        .await?;
    let body = serde_json::to_vec(&tracks).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

/// `GET /api/v1/my-shift` (`grid_worker` whose subject is a 工号): the shift and its task list.
#[utoipa::path(get, path = "/api/v1/my-shift", tag = "field",
    responses((status = 200, description = "The shift now (or the next today) and the category codes of the patrol task list, the duty mode's groups first", body = wire::MyShift),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a grid_worker token naming a staff member", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "The token's subject is no staff member", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_my_shift(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Json<wire::MyShift>> {
    let caller = auth::require(&state, &headers, Role::GridWorker).await?;
    let store = state.store()?;
    Ok(Json(
        state
            .blocking(move || {
                let cats = crate::service::cases::categories(Some(store.as_ref()))?;
                service::my_shift(store.as_ref(), &caller, &cats, Utc::now())
            })
            .await?,
    ))
}

pub(crate) fn encoding_param(e: &str) -> ApiResult<crate::field::roster::Encoding> {
    use crate::field::roster::Encoding;
    match e.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => Ok(Encoding::Utf8),
        "gbk" | "gb2312" | "gb18030" => Ok(Encoding::Gbk),
        _ => Err(ApiError::invalid_parameter(
            "encoding",
            format!("{e:?} is not utf-8 or gbk"),
        )),
    }
}

fn roster_problem(e: crate::field::roster::RosterErrors) -> ApiError {
    let problems: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
    ApiError::from(
        crate::service::Error::unprocessable(format!(
            "the roster has {} problem(s){}; first: {}",
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
}

/// `GET /api/v1/staff.csv` (admin, supervisor, dispatcher): the roster as CSV with Chinese
/// headers (`encoding=gbk` for old Excel; UTF-8 with a BOM by default).
#[utoipa::path(get, path = "/api/v1/staff.csv", tag = "field",
    params(wire::StaffQuery),
    responses((status = 200, description = "The roster", content_type = "text/csv"),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, supervisor or dispatcher token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name GBK cannot hold (with `encoding=gbk`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_staff_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::StaffQuery>,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &service::PERSONAL).await?;
    let (encoding, charset) = match q.encoding.as_deref() {
        None => (crate::field::roster::Encoding::Utf8, "utf-8"),
        Some(e) => {
            let enc = encoding_param(e)?;
            (
                enc,
                if enc == crate::field::roster::Encoding::Gbk {
                    "gbk"
                } else {
                    "utf-8"
                },
            )
        }
    };
    let store = state.store()?;
    let staff = state
        .blocking(move || service::list_staff(store.as_ref(), &caller, q.street.as_deref()))
        .await?;
    let bytes = crate::field::roster::write_csv(&staff, encoding).map_err(roster_problem)?;
    Ok((
        [
            (header::CONTENT_TYPE, format!("text/csv; charset={charset}")),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"staff.csv\"".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `POST /api/v1/fixes`: GPS fixes as NDJSON lines, or one person's GPX file.
#[utoipa::path(post, path = "/api/v1/fixes", tag = "field",
    params(wire::FixesQuery, ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 128, pattern = "^[!-~]([ -~]{0,126}[!-~])?$", description = "1 to 128 printable ASCII characters (a UUID), chosen by the client for this request and sent again with its retries: a retry of the same request (same route and body) with the same token is answered with the first answer, marked `Idempotent-Replayed: true`, and not applied again; the key is kept for 24 hours (`--idempotency-ttl-hours`)")),
    request_body(content(
        (String = "application/x-ndjson"),
        (String = "application/gpx+xml")
    ), description = "NDJSON lines `{\"staff\", \"lon\", \"lat\", \"t\", \"accuracy_m\", \"crs\"?}` (t: RFC 3339 or epoch milliseconds), or a GPX 1.0/1.1 file of one person (`staff=`, `crs=`)"),
    responses((status = 200, description = "How many were stored and how many dropped, and why (a replay: the counts of the first time)", body = wire::FixesIngested, headers(("Idempotent-Replayed" = String, description = "`true` when this is the first answer to an earlier request with the same `Idempotency-Key`, given again"))),
        (status = 400, description = "Invalid parameter, or an invalid `Idempotency-Key` header", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Fixes of someone the token may not send for (a grid_worker sends its holder's; a dispatcher its streets' people's)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A 工号 that is no staff member", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 64 MiB or 500,000 fixes", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither NDJSON nor GPX", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with this `Idempotency-Key` is in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`Idempotency-Key` used for a different request; bad lines, each named by number and member (`problems`); a GPX error located by track, segment and point; a time in the future or older than the retention", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn post_fixes(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::FixesQuery>,
    uri: axum::http::Uri,
    verified: Option<Extension<Caller>>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let caller = auth::require_verified(
        &state,
        &headers,
        verified.map(|Extension(c)| c),
        &[Role::GridWorker, Role::Dispatcher, Role::Admin],
    )
    .await?;
    idempotency::key(&headers)?;
    let ct = content_type(&headers).to_owned();
    let gpx = ct.starts_with("application/gpx+xml") || ct.starts_with("application/xml");
    if !gpx && !ct.starts_with("application/x-ndjson") {
        return Err(ApiError::unsupported_media_type(format!(
            "send fixes as application/x-ndjson or a GPX file as application/gpx+xml, not {:?}",
            if ct.is_empty() { "(none)" } else { ct.as_str() }
        )));
    }
    let body = body?;
    let now = Utc::now();
    // the query names the person and the coordinate system: part of the request
    let route = match uri.query() {
        Some(q) => format!("POST /api/v1/fixes?{q}"),
        None => "POST /api/v1/fixes".into(),
    };
    let key = idempotency::claim(&state, &caller, &headers, route, &body, now)?;
    let holder = caller.token.as_ref().and_then(|t| t.subject.clone());
    let store = state.store()?;
    let outcome = state
        .blocking(move || {
            let staff = q.staff.or(holder);
            let fixes = service::read_fixes(&body, gpx, staff.as_deref(), q.crs.as_deref())?;
            service::ingest_keyed(store.as_ref(), &caller, fixes, now, key.as_ref())
        })
        .await?;
    Ok(match outcome {
        Outcome::Done(done) => Json(done).into_response(),
        Outcome::Replay(r) => idempotency::replay(r, None),
    })
}

/// `GET /api/v1/tracks.gpx?staff=` (admin, supervisor, the street's dispatcher): a person's
/// paths as GPX 1.1, one track segment per path.
#[utoipa::path(get, path = "/api/v1/tracks.gpx", tag = "field",
    params(("staff" = String, Query, min_length = 1, description = "The person (工号)"),
        ("from" = Option<crate::wire::TimeOrDate>, Query, description = "From (RFC 3339, or a date: its local start; default: today's local start)"),
        ("to" = Option<crate::wire::TimeOrDate>, Query, description = "To, exclusive (RFC 3339 or a date: the next day's local start; default: `from` + 1 day)")),
    responses((status = 200, description = "GPX 1.1", content_type = "application/gpx+xml"),
        (status = 400, description = "Invalid parameter, or no `staff`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, supervisor or the person's street's dispatcher token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No staff member with that 工号", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_tracks_gpx(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::PeriodQuery>,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &service::PERSONAL).await?;
    let store = state.store()?;
    let gpx = state
        .blocking(move || {
            let (settings, s, fixes) =
                service::track_query(store.as_ref(), &caller, &q, Utc::now())?;
            let paths = crate::field::paths(&fixes, &settings.tracks);
            crate::field::gpx::write_gpx(Some(&format!("{} {}", s.id, s.name)), &paths)
                .map_err(crate::service::Error::internal)
        })
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/gpx+xml")], gpx).into_response())
}

/// `GET /api/v1/geofence?staff=` (admin, supervisor, the street's dispatcher): a person's
/// entering and leaving grids and blocks.
#[utoipa::path(get, path = "/api/v1/geofence", tag = "field",
    params(("staff" = String, Query, min_length = 1, description = "The person (工号)"),
        ("from" = Option<crate::wire::TimeOrDate>, Query, description = "From (RFC 3339, or a date: its local start; default: today's local start)"),
        ("to" = Option<crate::wire::TimeOrDate>, Query, description = "To, exclusive (RFC 3339 or a date: the next day's local start; default: `from` + 1 day)")),
    responses((status = 200, description = "Events by time; a crossing between two fixes is timed at their midpoint, a path's end leaves", body = wire::GeofenceEvents),
        (status = 400, description = "Invalid parameter, or no `staff`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, supervisor or the person's street's dispatcher token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No staff member with that 工号", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_geofence(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::PeriodQuery>,
) -> ApiResult<Json<wire::GeofenceEvents>> {
    let caller = auth::require_any(&state, &headers, &service::PERSONAL).await?;
    let store = state.store()?;
    let atlas = state.atlas();
    let events = state
        .blocking(move || {
            let (settings, s, fixes) =
                service::track_query(store.as_ref(), &caller, &q, Utc::now())?;
            Ok::<_, crate::service::Error>(service::geofence_events(&atlas, &settings, &s, &fixes))
        })
        .await?;
    Ok(Json(wire::GeofenceEvents { events }))
}

/// `GET /api/v1/coverage?street=|grid=&from=&to=`: road segments, blocks and grids covered.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "field",
    params(wire::CoverageQuery),
    responses((status = 200, description = "Per road segment (share of its length within 20 m of a path), per grid (segments covered ≥ 80 %, segments nobody came near, blocks visited, seconds inside), the grids with no patrol; per person for admins, supervisors and dispatchers", body = wire::CoverageReport),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A token of a role that reads no cases", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No street or grid with that code", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn get_coverage(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::CoverageQuery>,
) -> ApiResult<Json<wire::CoverageReport>> {
    let caller = auth::require_any(
        &state,
        &headers,
        &[
            Role::Supervisor,
            Role::Dispatcher,
            Role::Intake,
            Role::Department,
            Role::GridWorker,
        ],
    )
    .await?;
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        state
            .blocking(move || {
                let (settings, _) = service::settings(store.as_ref())?;
                let (from, to) =
                    service::period(&settings, q.from.as_deref(), q.to.as_deref(), Utc::now())?;
                service::coverage(
                    store.as_ref(),
                    &atlas,
                    &caller,
                    q.street.as_deref(),
                    q.grid.as_deref(),
                    from,
                    to,
                )
            })
            .await?,
    ))
}
