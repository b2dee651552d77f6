//! Drafts and generations: `POST /api/v1/drafts`, `GET /api/v1/drafts/{id}/report`,
//! `POST /api/v1/drafts/{id}/publish`, `GET /api/v1/generations`,
//! `GET /api/v1/generations/{a}/diff/{b}`.
//!
//! An upload is read with the streaming reader's limits, scoped to the caller's streets, merged
//! into the current generation ("the current generation with these streets replaced"),
//! validated as a whole and stored as a draft. Publishing makes it generation N+1 in one
//! transaction and swaps the new atlas in.

use super::AppState;
use super::auth::{self, Caller, Role};
use super::error::{ApiError, ApiResult};
use crate::geo_io::{self, ReadError, ReadOptions};
use crate::model::{FeatureSet, Layer};
use crate::store::{self, NewDraft, StoreError};
use crate::validate;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub(crate) fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound(what) => ApiError::not_found(what),
        StoreError::Conflict(what) => ApiError::conflict(what),
        StoreError::PublishRefused { errors } => ApiError::conflict(format!(
            "the draft's validation report has {errors} error(s); fix them, or publish with an admin token and an `override_reason`"
        ))
        .with_extra(json!({"errors": errors})),
        StoreError::InvalidDraft(what) => ApiError::unprocessable(what),
        other => ApiError::internal(other),
    }
}

pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

/// A report's counts: `{errors, warnings, by_rule}` from its summary, which counts every finding
/// (a bounded report lists at most a few per rule and feature and summarises the rest). A report
/// stored without a summary is counted from its findings (`omitted` included).
pub fn summary(report: &Value) -> Value {
    let s = &report["summary"];
    if s["errors"].is_u64() && s["warnings"].is_u64() && s["by_rule"].is_object() {
        return json!({"errors": s["errors"], "warnings": s["warnings"], "by_rule": s["by_rule"]});
    }
    let mut errors = 0;
    let mut warnings = 0;
    let mut by_rule: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let n = f["omitted"].as_u64().unwrap_or(1);
        let sev = f["severity"].as_str().unwrap_or("error").to_owned();
        if sev == "error" {
            errors += n;
        } else {
            warnings += n;
        }
        *by_rule
            .entry(f["rule"].as_str().unwrap_or("?").to_owned())
            .or_default()
            .entry(sev)
            .or_default() += n;
    }
    json!({"errors": errors, "warnings": warnings, "by_rule": by_rule})
}

/// `POST /api/v1/drafts`: upload a GeoJSON feature file as a draft (planner or admin token).
#[utoipa::path(post, path = "/api/v1/drafts", tag = "drafts",
    params(("streets" = Option<String>, Query, description = "Comma-separated street codes the draft replaces (default: the streets the upload touches; a file with the district replaces everything)")),
    request_body(content = Object, content_type = "application/geo+json", description = "A FeatureCollection in the gridatlas feature format"),
    responses(
        (status = 201, description = "`{id, base_generation, features, streets, summary: {errors, warnings, by_rule}}`", body = Object),
        (status = 400, description = "Malformed JSON", content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", content_type = "application/problem+json"),
        (status = 403, description = "The upload would change streets outside the token's scope (named), or make changes only an admin may (the district, units serving several streets, features under no street)", content_type = "application/problem+json"),
        (status = 413, description = "Body or feature too large", content_type = "application/problem+json"),
        (status = 415, description = "Not GeoJSON", content_type = "application/problem+json"),
        (status = 422, description = "Invalid features: every problem listed with feature index, code and JSON path", content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let caller = auth::require(&state, &headers, Role::Planner).await?;
    let Query(q) = q?;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(ctype.starts_with("application/geo+json") || ctype.starts_with("application/json")) {
        return Err(ApiError::unsupported_media_type(format!(
            "upload GeoJSON as application/geo+json (or application/json), not {:?}",
            if ctype.is_empty() { "(none)" } else { ctype }
        )));
    }
    let body = body?;
    let known: HashMap<String, Layer> = state
        .atlas()
        .features()
        .features()
        .iter()
        .map(|f| (f.code.clone(), f.layer))
        .collect();
    let opts = ReadOptions {
        max_positions_per_feature: Some(state.config().max_positions_per_feature),
        known_parents: Some(std::sync::Arc::new(known)),
        ..ReadOptions::default()
    };
    let set = match geo_io::read_slice_with(&body, &opts) {
        Ok(set) => set,
        Err(ReadError::Syntax {
            line,
            column,
            message,
        }) => {
            return Err(ApiError::bad_request(format!(
                "malformed JSON at line {line}, column {column}: {message}"
            )));
        }
        Err(ReadError::TooLarge(p)) => return Err(ApiError::too_large(p.to_string())),
        Err(ReadError::Invalid(problems)) => {
            let first = problems
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            return Err(ApiError::unprocessable(format!(
                "{} problem(s) in the upload; first: {first}",
                problems.len()
            ))
            .with_extra(json!({"problems": problems.iter().take(1000).collect::<Vec<_>>()})));
        }
        Err(ReadError::Io(e)) => {
            return Err(ApiError::bad_request(format!("reading the body: {e}")));
        }
    };
    // Which streets the draft replaces.
    let covered: Option<Vec<String>> = match q.get("streets") {
        Some(s) => Some(
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        None if set.district().is_some() => None,
        None => {
            let streets: BTreeSet<String> = store::street_of_features(&set)
                .values()
                .map(|s| (*s).to_owned())
                .collect();
            Some(streets.into_iter().collect())
        }
    };
    match &covered {
        None if !caller.is_admin() => {
            return Err(ApiError::forbidden(
                "a file with the district feature replaces the whole territory; only an admin token may upload it (planners upload their streets)",
            ));
        }
        None => {}
        Some(streets) => caller.check_streets(streets.iter().map(String::as_str))?,
    }
    // Features outside any covered street (e.g. an orphan grid) must also be in scope.
    if let Some(streets) = &covered {
        let of = store::street_of_features(&set);
        let stray: Vec<&str> = set
            .features()
            .iter()
            .filter(|f| f.layer != Layer::District)
            .filter_map(|f| of.get(f.code.as_str()))
            .filter(|s| !streets.iter().any(|c| c == *s))
            .copied()
            .collect();
        if !stray.is_empty() {
            caller.check_streets(stray)?;
        }
    }
    let store = state.store()?;
    let by = caller.name();
    let (id, base, report, nfeat) = blocking(move || {
        let base = store.current_generation().map_err(store_error)?;
        let base_set = match &base {
            Some(g) => store.load_generation(g.number).map_err(store_error)?,
            None => FeatureSet::default(),
        };
        let whole =
            store::draft_as_whole(&base_set, &set, covered.as_deref()).map_err(store_error)?;
        // What the draft would really change, whatever it declared, must be in scope.
        authorize_change(&caller, &store::effective_change(&base_set, &whole))?;
        let (report, errors) = crate::validate::draft_report(&whole).map_err(ApiError::internal)?;
        let id = store
            .create_draft(NewDraft {
                features: &set,
                covered_streets: covered.clone(),
                report: report.clone(),
                error_count: errors,
                created_by: &by,
            })
            .map_err(store_error)?;
        Ok((
            id,
            base.map_or(0, |g| g.number),
            report,
            (set.len(), covered),
        ))
    })
    .await?;
    let body = json!({
        "id": id,
        "base_generation": base,
        "features": nfeat.0,
        "streets": nfeat.1,
        "summary": summary(&report),
        "report": format!("/api/v1/drafts/{id}/report"),
    });
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/drafts/{id}"))],
        Json(body),
    )
        .into_response())
}

/// Checks the effective change of a draft against the caller: every street it touches must be
/// in the token's scope, and changes outside any one street (the district, units serving several
/// streets, features under no street) need an admin.
fn authorize_change(caller: &Caller, scope: &store::ChangeScope) -> Result<(), ApiError> {
    if !scope.admin_only.is_empty() && !caller.is_admin() {
        return Err(ApiError::forbidden(format!(
            "only an admin token may make these changes: {}",
            scope.admin_only.join("; ")
        ))
        .with_extra(json!({"admin_only": scope.admin_only})));
    }
    caller.check_streets(scope.streets.iter().map(String::as_str))
}

/// Checks that the caller may see draft `info`: an admin, the token that uploaded it, or a planner
/// whose streets include every street the draft covers (a draft of no street or of the whole
/// territory: only its uploader and admins).
fn authorize_read(caller: &Caller, info: &store::DraftInfo) -> Result<(), ApiError> {
    if caller.is_admin() || info.created_by == caller.name() {
        return Ok(());
    }
    match &info.covered_streets {
        Some(streets) if !streets.is_empty() => {
            caller.check_streets(streets.iter().map(String::as_str))
        }
        // A draft of no street (management units only): its uploader and admins.
        Some(_) => Err(ApiError::forbidden(
            "this draft covers no street: only its uploader and admins may read it",
        )),
        None => Err(ApiError::forbidden(
            "a whole-territory draft can only be read by an admin",
        )),
    }
}

/// Draft `id`, if the caller may read it (see [`authorize_read`]).
async fn readable_draft(
    state: &AppState,
    headers: &HeaderMap,
    id: i64,
) -> ApiResult<store::DraftInfo> {
    let caller = auth::require(state, headers, Role::Planner).await?;
    let store = state.store()?;
    let info = blocking(move || store.get_draft_info(id).map_err(store_error)).await?;
    authorize_read(&caller, &info)?;
    Ok(info)
}

/// `offset` and `limit` of a page of findings (default 0 and the largest page).
fn page_params(q: &HashMap<String, String>) -> ApiResult<(usize, usize)> {
    let num = |name: &str, default: usize| -> ApiResult<usize> {
        match q.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::invalid_parameter(name, format!("{v:?} is not a non-negative integer"))
            }),
        }
    };
    let limit = num("limit", validate::report::MAX_PAGE)?;
    if limit == 0 || limit > validate::report::MAX_PAGE {
        return Err(ApiError::invalid_parameter(
            "limit",
            format!("{limit} is out of range 1..={}", validate::report::MAX_PAGE),
        ));
    }
    Ok((num("offset", 0)?, limit))
}

fn draft_id(p: Result<Path<String>, PathRejection>) -> ApiResult<i64> {
    let Path(s) = p?;
    s.parse()
        .map_err(|_| ApiError::invalid_parameter("id", format!("{s:?} is not a draft id")))
}

/// `GET /api/v1/drafts/{id}`: a draft's metadata and the summary of its report (planners of its
/// streets, admins).
#[utoipa::path(get, path = "/api/v1/drafts/{id}", tag = "drafts",
    params(("id" = i64, Path)),
    responses((status = 200, description = "`{id, created_at, created_by, base_generation, covered_streets, error_count, feature_count, published_generation, summary, report}`", body = Object),
              (status = 401, description = "No or unknown token", content_type = "application/problem+json"),
              (status = 403, description = "The draft covers streets outside the token's scope", content_type = "application/problem+json"),
              (status = 404, description = "Unknown draft", content_type = "application/problem+json")))]
pub async fn get_draft(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let id = draft_id(id)?;
    let info = readable_draft(&state, &headers, id).await?;
    Ok(Json(json!({
        "id": info.id,
        "created_at": info.created_at,
        "created_by": info.created_by,
        "base_generation": info.base_generation,
        "covered_streets": info.covered_streets,
        "error_count": info.error_count,
        "feature_count": info.feature_count,
        "published_generation": info.published_generation,
        "summary": summary(&info.report),
        "report": format!("/api/v1/drafts/{id}/report"),
    })))
}

/// `GET /api/v1/drafts/{id}/report[?format=geojson]`: the validation report (JSON), or its
/// findings as a GeoJSON FeatureCollection a map can draw.
#[utoipa::path(get, path = "/api/v1/drafts/{id}/report", tag = "drafts",
    params(("id" = i64, Path), ("format" = Option<String>, Query, description = "json (default) | geojson"),
           ("offset" = Option<usize>, Query, description = "First finding of the page (default 0)"),
           ("limit" = Option<usize>, Query, description = "Findings per page, 1..=1000 (default 1000)")),
    responses((status = 200, description = "The report", body = Object),
              (status = 401, description = "No or unknown token", content_type = "application/problem+json"),
              (status = 403, description = "The draft covers streets outside the token's scope", content_type = "application/problem+json"),
              (status = 404, description = "Unknown draft", content_type = "application/problem+json")))]
pub async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let id = draft_id(id)?;
    let Query(q) = q?;
    let (offset, limit) = page_params(&q)?;
    let format = q.get("format").map(String::as_str);
    if let Some(other) = format.filter(|f| !matches!(*f, "json" | "geojson")) {
        return Err(ApiError::invalid_parameter(
            "format",
            format!("{other:?}: expected json or geojson"),
        ));
    }
    let info = readable_draft(&state, &headers, id).await?;
    let page =
        validate::report::page_value(&info.report, offset, limit).map_err(ApiError::internal)?;
    match format {
        None | Some("json") => Ok(Json(json!({
            "draft": id,
            "error_count": info.error_count,
            "summary": summary(&info.report),
            "report": page,
        }))
        .into_response()),
        Some(_) => {
            let features: Vec<Value> = page["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| !f["location"].is_null())
                .map(|f| {
                    let mut props = f.clone();
                    if let Value::Object(o) = &mut props {
                        o.remove("location");
                    }
                    json!({"type": "Feature", "geometry": f["location"], "properties": props})
                })
                .collect();
            Ok((
                [(header::CONTENT_TYPE, "application/geo+json")],
                Json(json!({"type": "FeatureCollection", "features": features,
                    "total": page["total"], "offset": offset, "limit": limit})),
            )
                .into_response())
        }
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    #[serde(default)]
    override_reason: Option<String>,
}

/// `POST /api/v1/drafts/{id}/publish`: make the draft generation N+1 and serve it.
#[utoipa::path(post, path = "/api/v1/drafts/{id}/publish", tag = "drafts",
    params(("id" = i64, Path)),
    request_body(content = Object, description = "Optional `{\"override_reason\": \"…\"}` (admin only) to publish over validation errors"),
    responses(
        (status = 200, description = "`{generation, …}` — the new generation, now served", body = Object),
        (status = 403, description = "Outside the token's streets, or an override by a non-admin", content_type = "application/problem+json"),
        (status = 404, description = "Unknown draft", content_type = "application/problem+json"),
        (status = 409, description = "Refused (validation errors) or conflicting (already published, or the generation moved)", content_type = "application/problem+json"),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let caller = auth::require(&state, &headers, Role::Planner).await?;
    let id = draft_id(id)?;
    let body = body?;
    let req: PublishBody = if body.iter().all(u8::is_ascii_whitespace) {
        PublishBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::unprocessable(format!(
                "body: {e} (expected {{\"override_reason\": \"…\"}})"
            ))
        })?
    };
    let reason = req.override_reason.filter(|r| !r.trim().is_empty());
    if reason.is_some() && !caller.is_admin() {
        return Err(ApiError::forbidden(
            "only an admin token may publish over validation errors (`override_reason`)",
        ));
    }
    let store = state.store()?;
    let st = store.clone();
    let info = blocking(move || st.get_draft(id).map(|d| d.info).map_err(store_error)).await?;
    let ttl = chrono::Duration::from_std(state.config().draft_ttl).unwrap_or(chrono::Duration::MAX);
    if info
        .created_at
        .checked_add_signed(ttl)
        .is_some_and(|end| end <= chrono::Utc::now())
    {
        return Err(ApiError::conflict(format!(
            "draft {id} was made on {} and has expired (drafts live {} days); upload it again",
            info.created_at.to_rfc3339(),
            ttl.num_days()
        )));
    }
    match &info.covered_streets {
        Some(streets) => caller.check_streets(streets.iter().map(String::as_str))?,
        None if !caller.is_admin() => {
            return Err(ApiError::forbidden(
                "a whole-territory draft can only be published by an admin",
            ));
        }
        None => {}
    }
    let by = caller.name();
    let st2 = state.clone();
    let generation = blocking(move || {
        // Again at commit: the effective change of the draft on its base generation (a publish
        // on any other base is refused by the store), against the token as it is now.
        let draft = store.get_draft(id).map_err(store_error)?;
        let base = match draft.info.base_generation {
            0 => FeatureSet::default(),
            n => store.load_generation(n).map_err(store_error)?,
        };
        let whole = store::draft_as_whole(
            &base,
            &draft.features,
            draft.info.covered_streets.as_deref(),
        )
        .map_err(store_error)?;
        authorize_change(&caller, &store::effective_change(&base, &whole))?;
        let g = store
            .publish(id, &by, reason.as_deref())
            .map_err(store_error)?;
        st2.reload_from_store(g.number)
            .map_err(ApiError::internal)?;
        Ok(g)
    })
    .await?;
    Ok(Json(
        json!({"generation": generation.number, "info": generation}),
    ))
}

/// `GET /api/v1/generations`: every published generation, newest last.
#[utoipa::path(get, path = "/api/v1/generations", tag = "drafts", responses((status = 200, description = "`{items: [{number, created_at, created_by, override_reason, changes, …}]}`", body = Object)))]
pub async fn generations(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let store = state.store()?;
    let list = blocking(move || store.generations().map_err(store_error)).await?;
    Ok(Json(
        json!({"items": list, "current": state.atlas().generation()}),
    ))
}

/// `GET /api/v1/generations/{a}/diff/{b}`: areas that changed, with the area that changed hands.
#[utoipa::path(get, path = "/api/v1/generations/{a}/diff/{b}", tag = "drafts",
    params(("a" = i32, Path), ("b" = i32, Path)),
    responses((status = 200, description = "`{items: [{layer, code, name, change, fields, gained_m2, lost_m2, changed_hands_m2}]}`", body = Object),
              (status = 404, description = "Unknown generation", content_type = "application/problem+json")))]
pub async fn diff(
    State(state): State<AppState>,
    p: Result<Path<(String, String)>, PathRejection>,
) -> ApiResult<Json<Value>> {
    let Path((a, b)) = p?;
    let a: i32 = a.parse().map_err(|_| {
        ApiError::invalid_parameter("a", format!("{a:?} is not a generation number"))
    })?;
    let b: i32 = b.parse().map_err(|_| {
        ApiError::invalid_parameter("b", format!("{b:?} is not a generation number"))
    })?;
    let store = state.store()?;
    let changes = blocking(move || store.diff(a, b).map_err(store_error)).await?;
    let items: Vec<Value> = changes
        .iter()
        .map(|c| {
            let mut v = json!(c);
            v["changed_hands_m2"] = json!((c.changed_hands_m2() * 10.0).round() / 10.0);
            v
        })
        .collect();
    Ok(Json(json!({"from": a, "to": b, "items": items})))
}
