//! Open311 GeoReport v2 at `/open311/v2/` (<https://wiki.open311.org/GeoReport_v2/>).
//!
//! A service is a case category (`service_code` = category code); a service request is a case.
//! `jurisdiction_id`, when given, must be the district's code. Every endpoint answers in JSON
//! (`.json`) or XML (`.xml`); errors use the spec's format (`[{"code", "description"}]` /
//! `<errors><error>…`) with the matching HTTP status. Writes need `api_key` = a token with role
//! intake. `lat`/`long` are WGS84 as the spec says; the extension parameter `crs` (gcj02, bd09,
//! cgcs2000) accepts coordinates from Chinese web maps.
//!
//! Status mapping: `open` = assigned or escalated to the back end; `closed` = resolved at the
//! front end or closed.

use super::AppState;
use super::auth::Role;
use super::cases::{CaseInput, categories_of, submit};
use super::drafts::{blocking, store_error};
use super::error::ApiError;
use crate::cases::{Case, CaseFilter, Status};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Response format, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// An Open311 error: status and description, rendered in the request's format.
pub struct Open311Error {
    status: StatusCode,
    description: String,
    format: Format,
}

fn err(format: Format, status: StatusCode, description: impl Into<String>) -> Open311Error {
    Open311Error {
        status,
        description: description.into(),
        format,
    }
}

impl From<(Format, ApiError)> for Open311Error {
    fn from((format, e): (Format, ApiError)) -> Self {
        err(format, e.status, e.detail)
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let code = self.status.as_u16();
        let record = json!({"code": code, "description": self.description});
        let mut resp = render(self.format, "errors", "error", &[record]);
        *resp.status_mut() = self.status;
        resp
    }
}

/// The result of an Open311 handler.
pub type Result<T> = std::result::Result<T, Open311Error>;

/// Splits `name.json` / `name.xml`.
fn split_ext(file: &str) -> std::result::Result<(&str, Format), Open311Error> {
    if let Some(stem) = file.strip_suffix(".json") {
        Ok((stem, Format::Json))
    } else if let Some(stem) = file.strip_suffix(".xml") {
        Ok((stem, Format::Xml))
    } else {
        Err(err(
            Format::Json,
            StatusCode::NOT_FOUND,
            format!("{file}: Open311 resources end in .json or .xml"),
        ))
    }
}

fn xml_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // characters XML 1.0 cannot carry
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

fn xml_value(tag: &str, v: &Value, out: &mut String) {
    match v {
        Value::Null => {
            out.push('<');
            out.push_str(tag);
            out.push_str("/>");
        }
        Value::Array(items) => {
            out.push('<');
            out.push_str(tag);
            out.push('>');
            let inner = tag.strip_suffix('s').unwrap_or(tag);
            for i in items {
                xml_value(inner, i, out);
            }
            out.push_str("</");
            out.push_str(tag);
            out.push('>');
        }
        Value::Object(o) => {
            out.push('<');
            out.push_str(tag);
            out.push('>');
            for (k, v) in o {
                xml_value(k, v, out);
            }
            out.push_str("</");
            out.push_str(tag);
            out.push('>');
        }
        Value::String(s) => {
            out.push('<');
            out.push_str(tag);
            out.push('>');
            xml_escape(s, out);
            out.push_str("</");
            out.push_str(tag);
            out.push('>');
        }
        other => {
            out.push('<');
            out.push_str(tag);
            out.push('>');
            out.push_str(&other.to_string());
            out.push_str("</");
            out.push_str(tag);
            out.push('>');
        }
    }
}

/// A list of records as a JSON array or `<root><item>…</item></root>`.
fn render(format: Format, root: &str, item: &str, records: &[Value]) -> Response {
    match format {
        Format::Json => axum::Json(Value::Array(records.to_vec())).into_response(),
        Format::Xml => {
            let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
            out.push('<');
            out.push_str(root);
            out.push('>');
            for r in records {
                xml_value(item, r, &mut out);
            }
            out.push_str("</");
            out.push_str(root);
            out.push('>');
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
        }
    }
}

/// Checks `jurisdiction_id` when given.
fn check_jurisdiction(state: &AppState, q: &HashMap<String, String>, format: Format) -> Result<()> {
    let Some(j) = q.get("jurisdiction_id").filter(|j| !j.is_empty()) else {
        return Ok(());
    };
    let atlas = state.atlas();
    let district = atlas
        .features()
        .district()
        .map(|d| d.code.clone())
        .unwrap_or_default();
    if *j == district {
        Ok(())
    } else {
        Err(err(
            format,
            StatusCode::NOT_FOUND,
            format!(
                "jurisdiction_id {j} is not served here (this endpoint serves district {district})"
            ),
        ))
    }
}

fn service_record(c: &crate::routing::categories::Category) -> Value {
    json!({
        "service_code": c.code,
        "service_name": c.name_zh,
        "description": format!("{} ({}; {})", c.name_en, c.group_zh, c.layer.name_zh()),
        "metadata": false,
        "type": "realtime",
        "keywords": format!("{},{},{}", c.group_zh, c.group_en, c.layer.as_str()),
        "group": c.group_zh,
    })
}

/// `GET /open311/v2/{services,requests}.{json,xml}`.
pub async fn root_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let (stem, format) = split_ext(&file)?;
    match stem {
        "services" => services(state, format, q).await,
        "requests" => get_requests(state, format, q).await,
        _ => Err(err(
            format,
            StatusCode::NOT_FOUND,
            format!("no resource {file}"),
        )),
    }
}

/// `GET /open311/v2/services.{json,xml}`.
async fn services(state: AppState, format: Format, q: HashMap<String, String>) -> Result<Response> {
    check_jurisdiction(&state, &q, format)?;
    let cats = categories_of(&state).await.map_err(|e| (format, e))?;
    let records: Vec<Value> = cats.iter().map(service_record).collect();
    Ok(render(format, "services", "service", &records))
}

/// `GET /open311/v2/services/{code}.{json,xml}`: the service definition (no extra attributes).
pub async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let (code, format) = split_ext(&file)?;
    check_jurisdiction(&state, &q, format)?;
    let cats = categories_of(&state).await.map_err(|e| (format, e))?;
    if !cats.iter().any(|c| c.code == code) {
        return Err(err(
            format,
            StatusCode::NOT_FOUND,
            format!("service_code {code} not found"),
        ));
    }
    let def = json!({"service_code": code, "attributes": []});
    Ok(match format {
        Format::Json => axum::Json(def).into_response(),
        Format::Xml => {
            let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
            xml_value("service_definition", &def, &mut out);
            ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], out).into_response()
        }
    })
}

fn open311_status(s: Status) -> &'static str {
    if s.is_done() { "closed" } else { "open" }
}

/// A case as a GeoReport v2 service request.
fn request_record(c: &Case, names: &HashMap<String, String>, offset: chrono::FixedOffset) -> Value {
    let a = &c.assignment;
    let agency = a
        .grid
        .as_ref()
        .map(|g| g.name.clone())
        .or_else(|| a.street.as_ref().map(|s| format!("{} 街镇分中心", s.name)));
    let notes = match c.status {
        Status::Assigned => format!("已派至{}", agency.clone().unwrap_or_default()),
        Status::ResolvedFrontEnd => "前端已解决 (resolved at the front end)".to_owned(),
        Status::EscalatedBackEnd => format!(
            "已转后端部门处置: {}",
            c.department.clone().unwrap_or_default()
        ),
        Status::Closed => "已结案 (closed)".to_owned(),
    };
    let mut o = Map::new();
    o.insert("service_request_id".into(), json!(c.id.to_string()));
    o.insert("status".into(), json!(open311_status(c.status)));
    o.insert("status_notes".into(), json!(notes));
    o.insert("service_name".into(), json!(names.get(&c.category)));
    o.insert("service_code".into(), json!(c.category));
    o.insert("description".into(), json!(c.description));
    o.insert("agency_responsible".into(), json!(agency));
    o.insert("service_notice".into(), Value::Null);
    o.insert(
        "requested_datetime".into(),
        json!(c.reported_at.with_timezone(&offset).to_rfc3339()),
    );
    o.insert(
        "updated_datetime".into(),
        json!(c.updated_at.with_timezone(&offset).to_rfc3339()),
    );
    o.insert("expected_datetime".into(), json!(c.due_at.to_rfc3339()));
    o.insert(
        "address".into(),
        json!(a.block.as_ref().or(a.grid.as_ref()).map(|b| b.name.clone())),
    );
    o.insert(
        "address_id".into(),
        json!(a.block.as_ref().map(|b| b.code.clone())),
    );
    o.insert("zipcode".into(), Value::Null);
    o.insert("lat".into(), json!(a.point[1]));
    o.insert("long".into(), json!(a.point[0]));
    o.insert("media_url".into(), json!(c.photos.first()));
    Value::Object(o)
}

async fn service_names(state: &AppState, format: Format) -> Result<HashMap<String, String>> {
    let cats = categories_of(state).await.map_err(|e| (format, e))?;
    Ok(cats
        .iter()
        .map(|c| (c.code.clone(), c.name_zh.clone()))
        .collect())
}

/// `POST /open311/v2/requests.{json,xml}` (form-encoded, `api_key` = an intake token).
pub async fn post_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response> {
    let (stem, format) = split_ext(&file)?;
    if stem != "requests" {
        return Err(err(
            format,
            StatusCode::NOT_FOUND,
            format!("no resource {file}"),
        ));
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ctype.starts_with("application/x-www-form-urlencoded") {
        return Err(err(
            format,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "POST requests must be form-encoded (Content-Type: application/x-www-form-urlencoded)",
        ));
    }
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| err(format, StatusCode::BAD_REQUEST, format!("form body: {e}")))?;
    check_jurisdiction(&state, &form, format)?;
    let api_key = form
        .get("api_key")
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            err(
                format,
                StatusCode::FORBIDDEN,
                "api_key is required to post a service request",
            )
        })?;
    let mut auth_headers = HeaderMap::new();
    if let Ok(v) = header::HeaderValue::from_str(&format!("Bearer {api_key}")) {
        auth_headers.insert(header::AUTHORIZATION, v);
    }
    let caller = super::auth::require(&state, &auth_headers, Role::Intake)
        .await
        .map_err(|e| {
            err(
                format,
                StatusCode::FORBIDDEN,
                format!("api_key: {}", e.detail),
            )
        })?;
    let service_code = form
        .get("service_code")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| err(format, StatusCode::BAD_REQUEST, "service_code is required"))?;
    let number = |name: &str| -> Result<f64> {
        let raw = form.get(name).filter(|s| !s.is_empty()).ok_or_else(|| {
            err(
                format,
                StatusCode::BAD_REQUEST,
                format!("{name} is required: this jurisdiction routes requests by lat and long (address_string alone cannot be placed)"),
            )
        })?;
        raw.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                err(
                    format,
                    StatusCode::BAD_REQUEST,
                    format!("{name}: {raw:?} is not a number"),
                )
            })
    };
    let lat = number("lat")?;
    let lon = number("long")?;
    let mut description = form.get("description").cloned().unwrap_or_default();
    if let Some(addr) = form.get("address_string").filter(|s| !s.is_empty()) {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str("地址: ");
        description.push_str(addr);
    }
    let contact: Map<String, Value> = [
        "email",
        "first_name",
        "last_name",
        "phone",
        "device_id",
        "account_id",
    ]
    .into_iter()
    .filter_map(|k| {
        form.get(k)
            .filter(|v| !v.is_empty())
            .map(|v| (k.to_owned(), json!(v)))
    })
    .collect();
    let input = CaseInput {
        lon,
        lat,
        crs: form.get("crs").cloned(),
        category: service_code.clone(),
        description,
        source: "open311".into(),
        reported_at: None,
        photos: form
            .get("media_url")
            .filter(|s| !s.is_empty())
            .cloned()
            .into_iter()
            .collect(),
        at: None,
    };
    let contact = (!contact.is_empty()).then_some(Value::Object(contact));
    let case = submit(&state, &caller, input, contact).await.map_err(|e| {
        // the spec's errors are 400 for bad input; 404 would say the endpoint is missing
        let status = if e.status.is_client_error() {
            StatusCode::BAD_REQUEST
        } else {
            e.status
        };
        err(format, status, e.detail)
    })?;
    let notice = match (&case.assignment.grid, &case.assignment.block_head) {
        (Some(g), Some(h)) => format!(
            "已派至{}，责任块长{}，{}前处置",
            g.name,
            h.name,
            case.due_at.format("%Y-%m-%d %H:%M")
        ),
        (Some(g), None) => format!(
            "已派至{}，{}前处置",
            g.name,
            case.due_at.format("%Y-%m-%d %H:%M")
        ),
        _ => "已转街镇分中心人工派单".to_owned(),
    };
    let record = json!({
        "service_request_id": case.id.to_string(),
        "service_notice": notice,
        "account_id": form.get("account_id"),
    });
    let mut resp = render(format, "service_requests", "request", &[record]);
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// Parses a w3 datetime parameter.
fn date_param(
    q: &HashMap<String, String>,
    name: &str,
    format: Format,
) -> Result<Option<DateTime<Utc>>> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| {
                err(
                    format,
                    StatusCode::BAD_REQUEST,
                    format!("{name}: {s:?} is not a w3 datetime (e.g. 2026-01-01T00:00:00Z): {e}"),
                )
            }),
    }
}

/// `GET /open311/v2/requests.{json,xml}`: service requests, with the spec's filters
/// (`service_request_id` list overrides the rest; default: the last 90 days; at most 1000).
async fn get_requests(
    state: AppState,
    format: Format,
    q: HashMap<String, String>,
) -> Result<Response> {
    check_jurisdiction(&state, &q, format)?;
    let mut filter = CaseFilter {
        limit: 1000,
        ..CaseFilter::default()
    };
    if let Some(ids) = q.get("service_request_id").filter(|s| !s.is_empty()) {
        for raw in ids.split(',') {
            let id = raw.trim().parse::<i64>().map_err(|_| {
                err(
                    format,
                    StatusCode::BAD_REQUEST,
                    format!("service_request_id: {raw:?} is not a request id"),
                )
            })?;
            filter.ids.push(id);
        }
    } else {
        if let Some(codes) = q.get("service_code").filter(|s| !s.is_empty()) {
            filter.categories = codes.split(',').map(|s| s.trim().to_owned()).collect();
        }
        let end = date_param(&q, "end_date", format)?;
        let start = date_param(&q, "start_date", format)?;
        let (start, end) = match (start, end) {
            (Some(s), Some(e)) => {
                if e < s {
                    return Err(err(
                        format,
                        StatusCode::BAD_REQUEST,
                        "end_date is before start_date",
                    ));
                }
                if e - s > chrono::Duration::days(90) {
                    return Err(err(
                        format,
                        StatusCode::BAD_REQUEST,
                        "start_date and end_date may not span more than 90 days",
                    ));
                }
                (s, Some(e))
            }
            (Some(s), None) => (s, Some(s + chrono::Duration::days(90))),
            (None, Some(e)) => (e - chrono::Duration::days(90), Some(e)),
            // the most recent 90 days
            (None, None) => (Utc::now() - chrono::Duration::days(90), None),
        };
        filter.reported_from = Some(start);
        filter.reported_to = end;
    }
    let status_filter: Vec<String> = q
        .get("status")
        .filter(|s| !s.is_empty())
        .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect())
        .unwrap_or_default();
    if let Some(bad) = status_filter
        .iter()
        .find(|s| *s != "open" && *s != "closed")
    {
        return Err(err(
            format,
            StatusCode::BAD_REQUEST,
            format!("status: {bad:?} is not open or closed"),
        ));
    }
    let store = state.store().map_err(|e| (format, e))?;
    let (cases, _) = blocking(move || store.list_cases(&filter).map_err(store_error))
        .await
        .map_err(|e| (format, e))?;
    let names = service_names(&state, format).await?;
    let offset = state.config().routing.utc_offset;
    let records: Vec<Value> = cases
        .iter()
        .filter(|c| {
            status_filter.is_empty() || status_filter.iter().any(|s| s == open311_status(c.status))
        })
        .map(|c| request_record(c, &names, offset))
        .collect();
    Ok(render(format, "service_requests", "request", &records))
}

/// `GET /open311/v2/requests/{id}.{json,xml}`: one service request (as a one-element list).
pub async fn get_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let (stem, format) = split_ext(&file)?;
    check_jurisdiction(&state, &q, format)?;
    let id: i64 = stem.parse().map_err(|_| {
        err(
            format,
            StatusCode::NOT_FOUND,
            format!("service_request_id {stem} not found"),
        )
    })?;
    let store = state.store().map_err(|e| (format, e))?;
    let case = blocking(move || store.get_case(id).map_err(store_error))
        .await
        .map_err(|e| {
            if e.status == StatusCode::NOT_FOUND {
                err(
                    format,
                    StatusCode::NOT_FOUND,
                    format!("service_request_id {id} not found"),
                )
            } else {
                (format, e).into()
            }
        })?;
    let names = service_names(&state, format).await?;
    let offset = state.config().routing.utc_offset;
    Ok(render(
        format,
        "service_requests",
        "request",
        &[request_record(&case, &names, offset)],
    ))
}
