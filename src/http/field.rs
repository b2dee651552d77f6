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
use super::auth::{self, Role};
use super::drafts::blocking;
use super::error::{ApiError, ApiResult};
use super::query::Params;
use crate::service::field as service;
use crate::wire::field as wire;
use crate::wire::problem::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::de::DeserializeOwned;

/// Most bytes of a roster or duty body: 100,000 people.
pub const MAX_ROSTER_BYTES: usize = 32 * 1024 * 1024;
/// Most bytes of a fix batch: 500,000 NDJSON lines of about 100 bytes.
pub const MAX_FIXES_BYTES: usize = 64 * 1024 * 1024;

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> ApiResult<T> {
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
        blocking(move || service::settings(store.as_ref()).map(|(s, _)| s)).await?,
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
    let caller = auth::require(&state, &headers, Role::Admin).await?;
    let body = body?;
    let v: serde_json::Value = json_body(&headers, &body)?;
    let text = v.to_string();
    let store = state.store()?;
    Ok(Json(
        blocking(move || service::replace_settings(store.as_ref(), &caller, &text)).await?,
    ))
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
    let staff =
        blocking(move || service::list_staff(store.as_ref(), &caller, q.street.as_deref())).await?;
    Ok(Json(wire::StaffList { staff }))
}

/// `PUT /api/v1/staff` (admin; dispatcher for its streets): replaces the roster of the
/// streets of the people sent (or of `streets=`).
#[utoipa::path(put, path = "/api/v1/staff", tag = "field",
    params(wire::StaffImportQuery),
    request_body(content = Vec<crate::field::roster::Staff>, description = "The people (JSON array)"),
    responses((status = 200, description = "What was replaced", body = wire::StaffImported),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin or dispatcher token, or a street outside its scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A 工号 is used by a person of a street not replaced", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over 32 MiB or 100,000 people", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every problem of the roster listed (`problems`): a field too long or empty, a 工号 repeated, an unknown street or area", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn put_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::StaffImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<wire::StaffImported>> {
    let caller = auth::require_any(&state, &headers, &[Role::Admin, Role::Dispatcher]).await?;
    let body = body?;
    let staff: Vec<crate::field::roster::Staff> = json_body(&headers, &body)?;
    let streets = q
        .streets
        .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect());
    let store = state.store()?;
    let atlas = state.atlas();
    Ok(Json(
        blocking(move || service::import_staff(store.as_ref(), &atlas, &caller, streets, staff))
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
    let entries = blocking(move || {
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
    blocking(move || service::put_duty(store.as_ref(), &caller, &input).map(|_| input.entries))
        .await
        .map(|entries| Json(wire::DutyList { entries }))
}

/// `POST /api/v1/checkins` (the person's `grid_worker` token, or admin): check in or out.
#[utoipa::path(post, path = "/api/v1/checkins", tag = "field",
    request_body(content = wire::CheckInInput, description = "The point (`crs`: gcj02 for phones in China), its accuracy, the time (default now) and `punch` (in / out)"),
    responses((status = 201, description = "Recorded: `place` (inside / near / workstation / outside) with `distance_m` and the `area` matched, and `class` (on_time / late / early_leave / outside / no_shift) for the `shift` it counts for", body = wire::CheckInResult),
        (status = 400, description = "Malformed JSON, or an invalid `crs`", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the person's own grid_worker token (its subject is the 工号) or an admin token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No staff member with that 工号", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over its limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not `application/json`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused: accuracy worse than 100 m, a time in the future or older than the retention, an impossible speed since the previous position, coordinates out of range", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No store (serving a file)", body = Problem, content_type = "application/problem+json")))]
pub async fn post_checkin(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &[Role::GridWorker, Role::Admin]).await?;
    let body = body?;
    let input: wire::CheckInInput = json_body(&headers, &body)?;
    let store = state.store()?;
    let atlas = state.atlas();
    let done =
        blocking(move || service::check_in(store.as_ref(), &atlas, &caller, &input, Utc::now()))
            .await?;
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
    let checkins = blocking(move || {
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
        blocking(move || {
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

/// `GET /api/v1/tracks?staff=` (admin, supervisor, the street's dispatcher): a person's paths.
#[utoipa::path(get, path = "/api/v1/tracks", tag = "field",
    params(wire::PeriodQuery),
    responses((status = 200, description = "One GeoJSON feature per path (fixes joined when less than 60 s and 150 m apart), with the time of every fix", body = wire::TrackCollection, content_type = "application/geo+json"),
        (status = 400, description = "Invalid parameter, or no `staff`", body = Problem, content_type = "application/problem+json"),
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
    let staff = q
        .staff
        .clone()
        .ok_or_else(|| ApiError::invalid_parameter("staff", "name the person (工号)"))?;
    let store = state.store()?;
    let tracks = blocking(move || {
        let (settings, _) = service::settings(store.as_ref())?;
        let (from, to) =
            service::period(&settings, q.from.as_deref(), q.to.as_deref(), Utc::now())?;
        let (s, fixes) = service::tracks(store.as_ref(), &caller, &staff, from, to)?;
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
        blocking(move || {
            let cats = crate::service::cases::categories(Some(store.as_ref()))?;
            service::my_shift(store.as_ref(), &caller, &cats, Utc::now())
        })
        .await?,
    ))
}
