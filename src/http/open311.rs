//! Open311 GeoReport v2 at `/open311/v2/` (<https://wiki.open311.org/GeoReport_v2/>).
//!
//! A service is a case category (`service_code` = category code); a service request is a case.
//! `jurisdiction_id`, when given, must be the district's code. Every endpoint answers in JSON
//! (`.json`) or XML (`.xml`); errors use the spec's format (`[{"code", "description"}]` /
//! `<errors><error>…`) with the matching HTTP status. Writes need `api_key` = a token with role
//! intake. `lat`/`long` are WGS84 as the spec says; the extension parameter `crs` (gcj02, bd09,
//! cgcs2000) accepts coordinates from Chinese web maps.
//!
//! Status mapping: `closed` = the case is finished (结案 closed, 不予受理 rejected, 作废 void),
//! `open` = any other stage; `status_notes` names the stage in Chinese and English (and the
//! department or grid it is dispatched to), `expected_datetime` is the due time of the current
//! stage (on hold: its review date).
//!
//! Reads follow the server's read policy: with `--private-reads` they need a token of any role,
//! as `Authorization: Bearer <token>` or `api_key=<token>` (401 otherwise). A read with an
//! intake or admin token shows every field of a request; any other read shows the public
//! fields only ([`Open311Public`], `serve --open311-public-fields`): by default no description,
//! no media URL and the location rounded to 0.001° (about 100 m). The reporter's contact details
//! are never shown.
//!
//! XML is written with an XML writer (`quick-xml`): text is escaped, and characters XML 1.0
//! cannot carry (controls other than tab, newline and carriage return; U+FFFE, U+FFFF) are
//! replaced with U+FFFD, so every document is well-formed.
//!
//! Posted form fields are checked against their limits in characters before anything else
//! ([`crate::cases::limits`]; the body is at most [`super::cases::MAX_CASE_BODY_BYTES`]).

use super::AppState;
use super::auth::Role;
use super::cases::{CaseInput, MAX_CASE_BODY_BYTES, categories_of, check_text, submit};
use super::drafts::store_error;
use super::error::ApiError;
use crate::cases::{Case, CaseFilter, Stage, Track, limits};
use crate::wire::open311 as wire;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// What a public Open311 read (no token, or a token of a role other than intake or admin) shows
/// of a service request, beyond status, service, agency, block name and times. Reads with an
/// intake or admin token show everything but the reporter's contact details, which no read shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Open311Public {
    /// The description as reported (may name people, phone numbers, doors).
    pub description: bool,
    /// The exact location; without it `lat`/`long` are rounded to 0.001° (about 100 m).
    pub location: bool,
    /// The photo URL (`media_url`).
    pub media: bool,
}

/// Most ids in one `service_request_id` list.
pub const MAX_REQUEST_IDS: usize = 1000;

/// Response format, from the path's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// An Open311 error: status and description, rendered in the request's format.
#[derive(Debug)]
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

impl Open311Error {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What is wrong.
    pub fn description(&self) -> &str {
        &self.description
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
        let record = wire::Open311Error {
            code,
            description: self.description,
        };
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

/// `s` with every character XML 1.0 cannot carry replaced by U+FFFD (borrowed when clean).
pub fn xml_chars(s: &str) -> std::borrow::Cow<'_, str> {
    let ok = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if s.chars().all(ok) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(
            s.chars()
                .map(|c| if ok(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

type Xml = Writer<Vec<u8>>;

fn xml_event(w: &mut Xml, e: Event<'_>) -> std::result::Result<(), String> {
    w.write_event(e).map_err(|e| format!("writing XML: {e}"))
}

/// Writes `<tag>…</tag>` for a JSON value: objects as child elements, arrays as repeated
/// children named by the tag less a final `s`, null as `<tag/>`.
fn xml_value(w: &mut Xml, tag: &str, v: &Value) -> std::result::Result<(), String> {
    if v.is_null() {
        return xml_event(w, Event::Empty(BytesStart::new(tag)));
    }
    xml_event(w, Event::Start(BytesStart::new(tag)))?;
    match v {
        Value::Array(items) => {
            let inner = tag.strip_suffix('s').unwrap_or(tag);
            for i in items {
                xml_value(w, inner, i)?;
            }
        }
        Value::Object(o) => {
            for (k, v) in o {
                xml_value(w, k, v)?;
            }
        }
        Value::String(text) => {
            xml_event(w, Event::Text(BytesText::new(&xml_chars(text))))?;
        }
        other => xml_event(w, Event::Text(BytesText::new(&other.to_string())))?,
    }
    xml_event(w, Event::End(BytesEnd::new(tag)))
}

/// An XML document: the declaration, then `<root>` holding `<item>` per record (or, with no
/// item name, the one record as `<root>`).
pub fn xml_document(
    root: &str,
    item: Option<&str>,
    records: &[Value],
) -> std::result::Result<Vec<u8>, String> {
    let mut w = Writer::new(Vec::new());
    xml_event(
        &mut w,
        Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)),
    )?;
    match item {
        Some(item) => {
            xml_event(&mut w, Event::Start(BytesStart::new(root)))?;
            for r in records {
                xml_value(&mut w, item, r)?;
            }
            xml_event(&mut w, Event::End(BytesEnd::new(root)))?;
        }
        None => {
            for r in records {
                xml_value(&mut w, root, r)?;
            }
        }
    }
    Ok(w.into_inner())
}

fn xml_response(doc: std::result::Result<Vec<u8>, String>) -> Response {
    match doc {
        Ok(body) => ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "Open311 XML");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                r#"<?xml version="1.0" encoding="utf-8"?><errors><error><code>500</code><description>internal error</description></error></errors>"#,
            )
                .into_response()
        }
    }
}

/// A list of records (`wire::open311` types) as a JSON array or `<root><item>…</item></root>`
/// (the same members as elements).
fn render<T: serde::Serialize>(format: Format, root: &str, item: &str, records: &[T]) -> Response {
    match format {
        Format::Json => axum::Json(records).into_response(),
        Format::Xml => xml_response(match serde_json::to_value(records) {
            Ok(Value::Array(values)) => xml_document(root, Some(item), &values),
            Ok(_) => Err("records did not serialise as an array".to_owned()),
            Err(e) => Err(e.to_string()),
        }),
    }
}

/// How much of a request a read may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    /// Every field but the reporter's contact details (intake or admin token).
    Full,
    /// The public fields ([`Open311Public`]).
    Public,
}

/// Applies the read policy to an Open311 read: the token comes as `Authorization: Bearer` or as
/// `api_key`; none is needed unless reads are private; a token given must be valid.
async fn read_view(
    state: &AppState,
    headers: &HeaderMap,
    q: &HashMap<String, String>,
    format: Format,
) -> Result<View> {
    let mut auth_headers = HeaderMap::new();
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        auth_headers.insert(header::AUTHORIZATION, v.clone());
    } else if let Some(key) = q.get("api_key").filter(|k| !k.is_empty()) {
        let v = header::HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
            err(
                format,
                StatusCode::UNAUTHORIZED,
                "api_key: not a token (unexpected characters)",
            )
        })?;
        auth_headers.insert(header::AUTHORIZATION, v);
    } else if state.config().public_reads {
        return Ok(View::Public);
    } else {
        return Err(err(
            format,
            StatusCode::UNAUTHORIZED,
            "this server's reads are private: send a token of any role as `api_key=<token>` or `Authorization: Bearer <token>`",
        ));
    }
    match super::auth::require(state, &auth_headers, Role::Intake).await {
        Ok(_) => Ok(View::Full),
        // a valid token of another role may read, and sees the public fields
        Err(e) if e.status == StatusCode::FORBIDDEN => Ok(View::Public),
        Err(e) => Err(err(format, e.status, format!("api_key: {}", e.detail))),
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

fn service_record(c: &crate::routing::categories::Category) -> wire::Service {
    wire::Service {
        service_code: c.code.clone(),
        service_name: c.name_zh.clone(),
        description: format!("{} ({}; {})", c.name_en, c.group_zh, c.layer.name_zh()),
        metadata: false,
        type_: "realtime".to_owned(),
        keywords: format!("{},{},{}", c.group_zh, c.group_en, c.layer.as_str()),
        group: c.group_zh.clone(),
    }
}

/// `GET /open311/v2/{services,requests}.{json,xml}`.
pub async fn root_get(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let (stem, format) = split_ext(&file)?;
    match stem {
        "services" => {
            read_view(&state, &headers, &q, format).await?;
            services(state, format, q).await
        }
        "requests" => {
            let view = read_view(&state, &headers, &q, format).await?;
            get_requests(state, format, q, view).await
        }
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
    let records: Vec<wire::Service> = cats.iter().map(service_record).collect();
    Ok(render(format, "services", "service", &records))
}

/// `GET /open311/v2/services/{code}.{json,xml}`: the service definition (no extra attributes).
pub async fn service_definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let (code, format) = split_ext(&file)?;
    read_view(&state, &headers, &q, format).await?;
    check_jurisdiction(&state, &q, format)?;
    let cats = categories_of(&state).await.map_err(|e| (format, e))?;
    if !cats.iter().any(|c| c.code == code) {
        return Err(err(
            format,
            StatusCode::NOT_FOUND,
            format!("service_code {code} not found"),
        ));
    }
    let def = wire::ServiceDefinition {
        service_code: code.to_owned(),
        attributes: vec![],
    };
    Ok(match format {
        Format::Json => axum::Json(def).into_response(),
        Format::Xml => xml_response(
            serde_json::to_value(&def)
                .map_err(|e| e.to_string())
                .and_then(|v| xml_document("service_definition", None, &[v])),
        ),
    })
}

/// GeoReport v2 knows `open` and `closed`: a case is closed once finished (closed, rejected or
/// void).
fn open311_status(s: Stage) -> &'static str {
    if s.is_terminal() { "closed" } else { "open" }
}

/// Rounds a coordinate to 0.001° (about 100 m).
fn round_coarse(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A case as a GeoReport v2 service request, with what `view` may see.
fn request_record(
    c: &Case,
    names: &HashMap<String, String>,
    offset: chrono::FixedOffset,
    view: View,
    public: Open311Public,
) -> wire::ServiceRequest {
    let full = view == View::Full;
    let a = &c.assignment;
    let agency = a
        .grid
        .as_ref()
        .map(|g| g.name.clone())
        .or_else(|| a.street.as_ref().map(|s| format!("{} 街镇分中心", s.name)));
    // the stage in Chinese and English; a department's name is public, a person's is not
    let notes = match c.stage {
        Stage::Dispatched => match (&c.track, &c.department) {
            (Some(Track::BackEnd), Some(d)) => format!("派遣 (dispatched): {d}"),
            _ => format!("派遣 (dispatched): {}", agency.clone().unwrap_or_default()),
        },
        Stage::Void if c.duplicate_of.is_some() => format!(
            "作废 (void): duplicate of request {}",
            c.duplicate_of.unwrap_or_default()
        ),
        s => format!("{} ({})", s.name_zh(), s.as_str().replace('_', " ")),
    };
    let (lon, lat) = if full || public.location {
        (a.point[0], a.point[1])
    } else {
        (round_coarse(a.point[0]), round_coarse(a.point[1]))
    };
    wire::ServiceRequest {
        service_request_id: c.id.to_string(),
        status: open311_status(c.stage).to_owned(),
        status_notes: notes,
        service_name: names.get(&c.category).cloned(),
        service_code: c.category.clone(),
        description: (full || public.description).then(|| c.description.clone()),
        agency_responsible: agency,
        service_notice: None,
        requested_datetime: c.reported_at.with_timezone(&offset).to_rfc3339(),
        updated_datetime: c.updated_at.with_timezone(&offset).to_rfc3339(),
        expected_datetime: c.due_at.with_timezone(&offset).to_rfc3339(),
        address: a.block.as_ref().or(a.grid.as_ref()).map(|b| b.name.clone()),
        address_id: a.block.as_ref().map(|b| b.code.clone()),
        zipcode: None,
        lat,
        long: lon,
        media_url: if full || public.media {
            c.photos.first().cloned()
        } else {
            None
        },
    }
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
    mut req: Request,
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
    let limit = MAX_CASE_BODY_BYTES.min(state.config().max_body_bytes);
    DefaultBodyLimit::max(limit).apply(&mut req);
    let body = axum::body::Bytes::from_request(req, &state)
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                err(
                    format,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the body is larger than {limit} bytes (the limit of a service request)"
                    ),
                )
            } else {
                err(
                    format,
                    StatusCode::BAD_REQUEST,
                    format!("form body: {}", e.body_text()),
                )
            }
        })?;
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| err(format, StatusCode::BAD_REQUEST, format!("form body: {e}")))?;
    check_form_lengths(&form, format)?;
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
    let description = form.get("description").cloned().unwrap_or_default();
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
        address: form.get("address_string").cloned(),
        photos: form
            .get("media_url")
            .filter(|s| !s.is_empty())
            .cloned()
            .into_iter()
            .collect(),
        at: None,
        component: None,
    };
    let contact = (!contact.is_empty()).then_some(Value::Object(contact));
    let submitted = submit(&state, &caller, input, contact).await.map_err(|e| {
        // the spec's errors are 400 for bad input; 404 would say the endpoint is missing
        let status = if e.status.is_client_error() {
            StatusCode::BAD_REQUEST
        } else {
            e.status
        };
        err(format, status, e.detail)
    })?;
    let case = &submitted.case;
    let notice = match (&case.assignment.grid, &case.assignment.block_head) {
        (Some(g), Some(h)) => format!(
            "已上报，所在网格{}（责任块长{}），{}前受理",
            g.name,
            h.name,
            case.due_at
                .with_timezone(&state.config().routing.utc_offset)
                .format("%Y-%m-%d %H:%M")
        ),
        (Some(g), None) => format!(
            "已上报，所在网格{}，{}前受理",
            g.name,
            case.due_at
                .with_timezone(&state.config().routing.utc_offset)
                .format("%Y-%m-%d %H:%M")
        ),
        _ => "已上报，转街镇分中心人工派单".to_owned(),
    };
    let record = wire::PostedRequest {
        service_request_id: case.id.to_string(),
        service_notice: notice,
        account_id: form.get("account_id").cloned(),
        feedback_secret: submitted.feedback_secret.clone(),
    };
    let mut resp = render(format, "service_requests", "request", &[record]);
    *resp.status_mut() = StatusCode::CREATED;
    Ok(resp)
}

/// The form fields of a posted request and their limits in characters.
const FORM_LIMITS: [(&str, usize); 10] = [
    ("description", limits::DESCRIPTION),
    ("address_string", limits::ADDRESS),
    ("media_url", limits::MEDIA_URL),
    ("email", limits::EMAIL),
    ("phone", limits::PHONE),
    ("first_name", limits::NAME),
    ("last_name", limits::NAME),
    ("device_id", limits::ID),
    ("account_id", limits::ID),
    ("service_code", limits::ID),
];

/// Checks every limited form field (400 naming the field and its limit).
fn check_form_lengths(form: &HashMap<String, String>, format: Format) -> Result<()> {
    for (name, max) in FORM_LIMITS {
        if let Some(v) = form.get(name) {
            check_text(name, v, max).map_err(|e| err(format, StatusCode::BAD_REQUEST, e.detail))?;
        }
    }
    Ok(())
}

/// Parses a w3 datetime parameter.
fn date_param(
    q: &HashMap<String, String>,
    name: &str,
    format: Format,
) -> Result<Option<DateTime<Utc>>> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => {
            let t = DateTime::parse_from_rfc3339(s).map_err(|e| {
                err(
                    format,
                    StatusCode::BAD_REQUEST,
                    format!("{name}: {s:?} is not a w3 datetime (e.g. 2026-01-01T00:00:00Z): {e}"),
                )
            })?;
            super::cases::check_query_time(name, t.with_timezone(&Utc))
                .map(Some)
                .map_err(|e| err(format, StatusCode::BAD_REQUEST, e.detail))
        }
    }
}

/// `t` ± 90 days, or 400 naming the parameter it came from.
fn shift_90_days(
    t: DateTime<Utc>,
    forward: bool,
    name: &str,
    format: Format,
) -> Result<DateTime<Utc>> {
    let d = chrono::Duration::days(90);
    let shifted = if forward {
        t.checked_add_signed(d)
    } else {
        t.checked_sub_signed(d)
    };
    shifted.ok_or_else(|| {
        err(
            format,
            StatusCode::BAD_REQUEST,
            format!(
                "{name}: 90 days from {} is not representable",
                t.to_rfc3339()
            ),
        )
    })
}

/// `GET /open311/v2/requests.{json,xml}`: service requests, with the spec's filters
/// (`service_request_id` list overrides the rest; default: the last 90 days; at most 1000).
async fn get_requests(
    state: AppState,
    format: Format,
    q: HashMap<String, String>,
    view: View,
) -> Result<Response> {
    check_jurisdiction(&state, &q, format)?;
    let (filter, status_filter) = requests_query(&q, format, Utc::now())?;
    let store = state.store().map_err(|e| (format, e))?;
    let (cases, _) = state
        .blocking(move || store.list_cases(&filter).map_err(store_error))
        .await
        .map_err(|e| (format, e))?;
    let names = service_names(&state, format).await?;
    let offset = state.config().routing.utc_offset;
    let public = state.config().open311_public;
    let records: Vec<wire::ServiceRequest> = cases
        .iter()
        .filter(|c| {
            status_filter.is_empty() || status_filter.iter().any(|s| s == open311_status(c.stage))
        })
        .map(|c| request_record(c, &names, offset, view, public))
        .collect();
    Ok(render(format, "service_requests", "request", &records))
}

/// The filter of `GET requests.{fmt}` from its query (and the `status` list); 400 naming the
/// parameter at fault.
pub fn requests_query(
    q: &HashMap<String, String>,
    format: Format,
    now: DateTime<Utc>,
) -> Result<(CaseFilter, Vec<String>)> {
    let mut filter = CaseFilter {
        limit: 1000,
        ..CaseFilter::default()
    };
    if let Some(ids) = q.get("service_request_id").filter(|s| !s.is_empty()) {
        if ids.split(',').nth(MAX_REQUEST_IDS).is_some() {
            return Err(err(
                format,
                StatusCode::BAD_REQUEST,
                format!("service_request_id: more than {MAX_REQUEST_IDS} ids"),
            ));
        }
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
        let end = date_param(q, "end_date", format)?;
        let start = date_param(q, "start_date", format)?;
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
            (Some(s), None) => (s, Some(shift_90_days(s, true, "start_date", format)?)),
            (None, Some(e)) => (shift_90_days(e, false, "end_date", format)?, Some(e)),
            // the most recent 90 days
            (None, None) => (shift_90_days(now, false, "start_date", format)?, None),
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
    Ok((filter, status_filter))
}

/// `GET /open311/v2/requests/{id}.{json,xml}`: one service request (as a one-element list).
pub async fn get_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let (stem, format) = split_ext(&file)?;
    let view = read_view(&state, &headers, &q, format).await?;
    check_jurisdiction(&state, &q, format)?;
    let id: i64 = stem.parse().map_err(|_| {
        err(
            format,
            StatusCode::NOT_FOUND,
            format!("service_request_id {stem} not found"),
        )
    })?;
    let store = state.store().map_err(|e| (format, e))?;
    let case = state
        .blocking(move || store.get_case(id).map_err(store_error))
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
        &[request_record(
            &case,
            &names,
            offset,
            view,
            state.config().open311_public,
        )],
    ))
}
