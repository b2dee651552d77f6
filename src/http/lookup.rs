//! `GET /api/v1/lookup` (one point) and `POST /api/v1/lookup` (a batch, as JSON or NDJSON).
//!
//! The answers are written from the atlas's pre-rendered fragments (`atlas::json`), not through
//! serde types: their shapes are documented by `wire::lookup` (`Placement`, `BatchResponse`,
//! `NdjsonLine`), which tests/wire.rs checks real answers against. The lookups of a batch and of
//! NDJSON lines run on the blocking pool, not on the async workers.
//!
//! Limits of the batches:
//! - **JSON** (`{"crs", "points"}`): the body may be at most [`json_batch_limit`] bytes (256 per
//!   allowed point, at least 1 MiB, at most the upload limit); the points are counted while
//!   they are parsed and the parse stops at the first one over `max_batch_points` (413), so a
//!   large batch never becomes a large vector.
//! - **NDJSON** (one point per line, streamed): the body up to the upload limit (the edge cuts
//!   it), each line at most [`MAX_NDJSON_LINE`] bytes, each byte looked at once (no rescan of
//!   the buffer per chunk). `?crs=` is parsed (URL-decoded) as in `GET`; an unknown value is 400
//!   naming `crs`. The response starts with the first answered line: a problem found before
//!   (an over-long first line, the body cut by the edge, the request timeout) is the response's
//!   status as problem+json. Once answers are streaming, a problem ends the stream with one last
//!   line `{"error", "status", "line"}` (`line`: the first line not answered) — and the request
//!   timeout applies to the whole stream the same way (status 503).

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::atlas::json::push_json_str;
use crate::atlas::{Atlas, Placement};
use crate::geometry::crs::Crs;
use crate::wire;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

/// A required finite number parameter within `range`.
pub fn number_param(
    q: &HashMap<String, String>,
    name: &str,
    range: std::ops::RangeInclusive<f64>,
) -> ApiResult<f64> {
    parse_number(name, q.get(name).map(String::as_str), range)
}

/// Parses the value `raw` of the number parameter `name`: required, finite, within `range`.
fn parse_number(
    name: &str,
    raw: Option<&str>,
    range: std::ops::RangeInclusive<f64>,
) -> ApiResult<f64> {
    let raw = raw.ok_or_else(|| ApiError::invalid_parameter(name, "is required"))?;
    let v: f64 = raw
        .trim()
        .parse()
        .map_err(|_| ApiError::invalid_parameter(name, format!("{raw:?} is not a number")))?;
    if !v.is_finite() || !range.contains(&v) {
        return Err(ApiError::invalid_parameter(
            name,
            format!("{raw} is outside [{}, {}]", range.start(), range.end()),
        ));
    }
    Ok(v)
}

/// The `crs` parameter (default WGS84).
pub fn crs_param(q: &HashMap<String, String>) -> ApiResult<Crs> {
    match q.get("crs") {
        None => Ok(Crs::Wgs84),
        Some(s) => s
            .parse()
            .map_err(|e: String| ApiError::invalid_parameter("crs", e)),
    }
}

/// The full placement document of one point, as a `Value`.
pub fn placement_document(
    atlas: &Atlas,
    input: (f64, f64),
    crs: Crs,
    wgs: (f64, f64),
    p: &Placement,
) -> Value {
    let mut v = atlas.placement_json(wgs.0, wgs.1, p);
    let gcj = Crs::Gcj02.from_wgs84(wgs.0, wgs.1);
    if let Value::Object(o) = &mut v {
        o.insert(
            "input".into(),
            json!({"lon": input.0, "lat": input.1, "crs": crs.as_str()}),
        );
        o.insert("gcj02".into(), json!([gcj.0, gcj.1]));
    }
    v
}

/// The placement document of `GET /api/v1/lookup`, serialised straight from the atlas (the same
/// bytes as [`placement_document`]).
pub struct PlacementDocument<'a> {
    view: crate::atlas::json::PlacementView<'a>,
    input: (f64, f64),
    crs: Crs,
    gcj: (f64, f64),
}

impl<'a> PlacementDocument<'a> {
    /// The document of `p`, the placement of `wgs`, asked for as `input` in `crs`.
    pub fn new(
        atlas: &'a Atlas,
        input: (f64, f64),
        crs: Crs,
        wgs: (f64, f64),
        p: &'a Placement,
    ) -> Self {
        PlacementDocument {
            view: atlas.placement_view(wgs.0, wgs.1, p),
            input,
            crs,
            gcj: Crs::Gcj02.from_wgs84(wgs.0, wgs.1),
        }
    }
}

#[derive(serde::Serialize)]
struct InputEcho {
    lon: f64,
    lat: f64,
    crs: &'static str,
}

impl serde::Serialize for PlacementDocument<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        self.view.serialize_entries(&mut m)?;
        let input = InputEcho {
            lon: self.input.0,
            lat: self.input.1,
            crs: self.crs.as_str(),
        };
        m.serialize_entry("input", &input)?;
        m.serialize_entry("gcj02", &[self.gcj.0, self.gcj.1])?;
        m.end()
    }
}

/// The parameters of `GET /api/v1/lookup`, borrowed from the query string where no decoding is
/// needed (the last of a repeated parameter wins; others are ignored).
#[derive(Default)]
struct LookupParams<'a> {
    lon: Option<Cow<'a, str>>,
    lat: Option<Cow<'a, str>>,
    crs: Option<Cow<'a, str>>,
    at: Option<Cow<'a, str>>,
}

impl<'a> LookupParams<'a> {
    fn parse(query: &'a str) -> Self {
        let mut p = LookupParams::default();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "lon" => p.lon = Some(v),
                "lat" => p.lat = Some(v),
                "crs" => p.crs = Some(v),
                "at" => p.at = Some(v),
                _ => {}
            }
        }
        p
    }
}

/// `GET /api/v1/lookup?lon=&lat=&crs=`: who owns this point?
#[utoipa::path(get, path = "/api/v1/lookup", tag = "lookup",
    params(wire::lookup::LookupQuery),
    responses(
        (status = 200, description = "The placement: street, grid, block, block head, people, management units, road segments, fallback", body = wire::lookup::Placement),
        (status = 400, description = "A parameter is missing or invalid", body = wire::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No generation at `at`", body = wire::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Serving a file (no generations), or the atlas of `at` is being built (`Retry-After`)", body = wire::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_lookup(State(state): State<AppState>, uri: Uri) -> ApiResult<Response> {
    let query = uri.query().unwrap_or("");
    if let Some(answer) = lookup_now(&state, query) {
        return answer;
    }
    // Only `at=` needs to wait (the atlas of a past generation may have to be built).
    let (input, crs, wgs, at) = lookup_params(query)?;
    match atlas_at(&state, at.unwrap_or_default()).await {
        Ok(atlas) => answer_one(&atlas, input, crs, wgs),
        Err(e) => Ok(e.into_response()),
    }
}

/// `GET /api/v1/lookup` answered at once on the live atlas, or `None` when the query names a
/// generation (`at=`), which may have to be loaded. The edge service calls this directly for
/// the lookup route (see [`super::edge`]); the routed handler above does the same.
pub fn lookup_now(state: &AppState, query: &str) -> Option<ApiResult<Response>> {
    match lookup_params(query) {
        Err(e) => Some(Err(e)),
        Ok((_, _, _, Some(_))) => None,
        // The live atlas without touching its reference count (shared by all cores).
        Ok((input, crs, wgs, None)) => Some(answer_one(&state.atlas_guard(), input, crs, wgs)),
    }
}

/// The point asked for (as given), its CRS, the point in WGS84, and `at` if given.
type LookupQuery = ((f64, f64), Crs, (f64, f64), Option<String>);

/// The `crs` query parameter (decoded): default WGS84, an unknown value is 400 naming `crs`.
fn query_crs(q: &LookupParams<'_>) -> ApiResult<Crs> {
    match q.crs.as_deref() {
        None => Ok(Crs::Wgs84),
        Some(s) => s
            .parse()
            .map_err(|e: String| ApiError::invalid_parameter("crs", e)),
    }
}

fn lookup_params(query: &str) -> ApiResult<LookupQuery> {
    let q = LookupParams::parse(query);
    let crs = query_crs(&q)?;
    let lon = parse_number("lon", q.lon.as_deref(), -180.0..=180.0)?;
    let lat = parse_number("lat", q.lat.as_deref(), -90.0..=90.0)?;
    Ok((
        (lon, lat),
        crs,
        crs.to_wgs84(lon, lat),
        q.at.map(Cow::into_owned),
    ))
}

/// The response of `GET /api/v1/lookup` for the point `wgs` of `atlas`.
fn answer_one(atlas: &Atlas, input: (f64, f64), crs: Crs, wgs: (f64, f64)) -> ApiResult<Response> {
    let p = atlas.lookup(wgs.0, wgs.1);
    // Registered once: the recorder is installed before any router exists (`AppState::new`).
    static SINGLE: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
    SINGLE
        .get_or_init(|| metrics::counter!("gridatlas_lookups_total", "kind" => "single"))
        .increment(1);
    let mut body = Vec::with_capacity(2048);
    serde_json::to_writer(
        &mut body,
        &PlacementDocument::new(atlas, input, crs, wgs, &p),
    )
    .map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// The atlas of the generation `at` names (a number or an RFC 3339 time): resolved by the
/// service ([`crate::service::generations`]), built once and kept by the state's past atlases.
pub async fn atlas_at(state: &AppState, at: String) -> ApiResult<std::sync::Arc<Atlas>> {
    use crate::service::generations::{Which, resolve};
    let which = Which::parse("at", &at)?;
    let store = state.store()?;
    let n = state
        .blocking(move || resolve(store.as_ref(), which))
        .await?;
    state.atlas_of(n).await
}

struct BatchRequest {
    crs: Option<String>,
    points: Vec<[f64; 2]>,
}

/// Deserialises a [`BatchRequest`] (`{"crs", "points"}`, no other member), counting the points
/// as they are parsed: past `max` the parse stops and `over` is set.
struct BatchSeed<'a> {
    max: usize,
    over: &'a std::cell::Cell<bool>,
}

impl<'de> serde::de::DeserializeSeed<'de> for BatchSeed<'_> {
    type Value = BatchRequest;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<BatchRequest, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for BatchSeed<'_> {
    type Value = BatchRequest;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object {\"crs\", \"points\"}")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<BatchRequest, A::Error> {
        use serde::de::Error;
        let mut crs: Option<Option<String>> = None;
        let mut points: Option<Vec<[f64; 2]>> = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "crs" if crs.is_some() => return Err(A::Error::duplicate_field("crs")),
                "crs" => crs = Some(map.next_value()?),
                "points" if points.is_some() => return Err(A::Error::duplicate_field("points")),
                "points" => {
                    points = Some(map.next_value_seed(PointsSeed {
                        max: self.max,
                        over: self.over,
                    })?)
                }
                other => return Err(A::Error::unknown_field(other, &["crs", "points"])),
            }
        }
        Ok(BatchRequest {
            crs: crs.flatten(),
            points: points.ok_or_else(|| A::Error::missing_field("points"))?,
        })
    }
}

/// The `points` array, stopped past `max` points.
struct PointsSeed<'a> {
    max: usize,
    over: &'a std::cell::Cell<bool>,
}

impl<'de> serde::de::DeserializeSeed<'de> for PointsSeed<'_> {
    type Value = Vec<[f64; 2]>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for PointsSeed<'_> {
    type Value = Vec<[f64; 2]>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of [lon, lat]")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut points = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max).min(4096));
        while let Some(p) = seq.next_element::<[f64; 2]>()? {
            if points.len() == self.max {
                self.over.set(true);
                return Err(serde::de::Error::custom(format!(
                    "more than {} points",
                    self.max
                )));
            }
            points.push(p);
        }
        Ok(points)
    }
}

/// The largest JSON batch body: 256 bytes per allowed point (a point is about 40), at least
/// 1 MiB, at most the upload limit.
pub fn json_batch_limit(config: &super::ServeConfig) -> usize {
    config
        .max_batch_points
        .saturating_mul(256)
        .max(1024 * 1024)
        .min(config.max_body_bytes)
}

/// `POST /api/v1/lookup`: a batch of points, as `{"crs", "points": [[lon, lat], …]}` (JSON,
/// results in order) or NDJSON (`[lon, lat]` or `{"lon","lat","crs"}` per line, streamed).
#[utoipa::path(post, path = "/api/v1/lookup", tag = "lookup",
    params(wire::lookup::BatchQuery),
    request_body(content(
        (wire::lookup::BatchRequest = "application/json"),
        (String = "application/x-ndjson", example = json!("[121.47, 31.23]\n{\"lon\": 121.48, \"lat\": 31.22, \"crs\": \"gcj02\"}\n")),
    ), description = "`{\"crs\": \"gcj02\", \"points\": [[lon, lat], …]}` (application/json, up to the batch limit) or one point per line, `[lon, lat]` or `{\"lon\", \"lat\", \"crs\"}` (application/x-ndjson, streamed)"),
    responses(
        (status = 200, description = "`{generation, crs, count, results}` in input order (JSON), or one line per input line (NDJSON; each line a `NdjsonLine`)", content(
            (wire::lookup::BatchResponse = "application/json"),
            (wire::lookup::NdjsonLine = "application/x-ndjson"),
        )),
        (status = 400, description = "Malformed body or parameter", body = wire::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too many points or too large a body", body = wire::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor NDJSON", body = wire::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "JSON of the wrong shape", body = wire::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The request timeout passed before the first answer", body = wire::problem::Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_lookup(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
) -> ApiResult<Response> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.starts_with("application/x-ndjson") || ctype.starts_with("application/ndjson") {
        return ndjson(state, req).await;
    }
    if !ctype.starts_with("application/json") {
        return Err(ApiError::unsupported_media_type(format!(
            "POST /api/v1/lookup takes application/json or application/x-ndjson, not {:?}",
            if ctype.is_empty() {
                "(none)"
            } else {
                ctype.as_str()
            }
        )));
    }
    let limit = json_batch_limit(state.config());
    let max = state.config().max_batch_points;
    let too_large = || {
        ApiError::too_large(format!(
            "a JSON batch body may be at most {limit} bytes (for at most {max} points); use NDJSON streaming for more"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let body = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(b) => b,
        Err(e) => {
            return Err(match super::body::BodyCut::of(&e) {
                Some(cut) => cut.problem(),
                None if is_length_limit(&e) => too_large(),
                None => ApiError::bad_request(format!("reading the body: {e}")),
            });
        }
    };
    let over = std::cell::Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(&body);
    let parsed = serde::de::DeserializeSeed::deserialize(BatchSeed { max, over: &over }, &mut de)
        .and_then(|r| de.end().map(|()| r));
    let req = parsed.map_err(|e| {
        if over.get() {
            ApiError::too_large(format!(
                "more than {max} points in one batch; the limit is {max} (use NDJSON streaming for more)"
            ))
        } else if e.is_data() {
            ApiError::unprocessable(format!(
                "body: {e} (expected {{\"crs\": \"wgs84\", \"points\": [[lon, lat], …]}})"
            ))
        } else {
            ApiError::bad_request(format!("body is not valid JSON: {e}"))
        }
    })?;
    let crs = match req.crs.as_deref() {
        None => Crs::Wgs84,
        Some(s) => s
            .parse()
            .map_err(|e: String| ApiError::unprocessable(format!("crs: {e}")))?,
    };
    let atlas = state.atlas();
    let n = req.points.len();
    // Chunks of points are answered in parallel (rayon) and sent in order, each as it is.
    let parts = tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        const CHUNK: usize = 4096;
        let mut parts: Vec<Bytes> = Vec::with_capacity(n / CHUNK + 3);
        parts.push(Bytes::from(format!(
            "{{\"generation\":{},\"crs\":\"{}\",\"count\":{n},\"results\":[",
            json!(atlas.generation()),
            crs.as_str()
        )));
        let answers: Vec<Bytes> = req
            .points
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, chunk)| {
                let mut out = String::with_capacity(chunk.len() * 200);
                for (k, &[lon, lat]) in chunk.iter().enumerate() {
                    let i = c * CHUNK + k;
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('{');
                    match crs.checked_to_wgs84(lon, lat) {
                        Ok(wgs) => atlas.write_compact(&mut out, wgs, &atlas.lookup(wgs.0, wgs.1)),
                        Err(e) => {
                            let _ = write!(out, "\"index\":{i},\"error\":");
                            push_json_str(&mut out, &e);
                        }
                    }
                    out.push('}');
                }
                Bytes::from(out)
            })
            .collect();
        parts.extend(answers);
        parts.push(Bytes::from_static(b"]}"));
        parts
    })
    .await
    .map_err(ApiError::internal)?;
    metrics::counter!("gridatlas_lookups_total", "kind" => "batch").increment(n as u64);
    let body = Body::from_stream(futures_util::stream::iter(
        parts.into_iter().map(Ok::<_, std::convert::Infallible>),
    ));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Parses one NDJSON line into a point and its CRS.
fn parse_ndjson_line(line: &str, default: Crs) -> Result<(f64, f64, Crs), String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
    match v {
        Value::Array(a) if a.len() == 2 => match (a[0].as_f64(), a[1].as_f64()) {
            (Some(x), Some(y)) => Ok((x, y, default)),
            _ => Err("expected [lon, lat] numbers".into()),
        },
        Value::Object(o) => {
            let x = o
                .get("lon")
                .and_then(Value::as_f64)
                .ok_or("missing number `lon`")?;
            let y = o
                .get("lat")
                .and_then(Value::as_f64)
                .ok_or("missing number `lat`")?;
            let crs = match o.get("crs").and_then(Value::as_str) {
                Some(s) => s.parse()?,
                None => default,
            };
            Ok((x, y, crs))
        }
        _ => Err("expected [lon, lat] or {\"lon\", \"lat\", \"crs\"}".into()),
    }
}

fn ndjson_answer(atlas: &Atlas, n: usize, line: &str, default: Crs, out: &mut String) {
    out.push('{');
    let _ = write!(out, "\"line\":{n},");
    match parse_ndjson_line(line, default).and_then(|(x, y, crs)| crs.checked_to_wgs84(x, y)) {
        Ok(wgs) => atlas.write_compact(out, wgs, &atlas.lookup(wgs.0, wgs.1)),
        Err(e) => {
            let _ = write!(out, "\"error\":{}", Value::from(e));
        }
    }
    out.push_str("}\n");
}

/// Whether a body read error is the length limit of `axum::body::to_bytes`.
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// The longest NDJSON line, bytes (a point with its CRS and generous whitespace is under 200).
pub const MAX_NDJSON_LINE: usize = 4096;

/// What the NDJSON reader hands the response: answers, or the problem that ends the stream.
enum NdjsonOut {
    Answers(Bytes),
    Problem(ApiError, usize),
}

/// The problem behind a body read error (the edge's cut, or the connection's).
fn body_problem(e: &axum::Error) -> ApiError {
    match super::body::BodyCut::of(e) {
        Some(cut) => cut.problem(),
        None => ApiError::bad_request(format!("reading the body: {e}")),
    }
}

/// The line splitter of an NDJSON body: the bytes not yet answered and the counts so far.
#[derive(Default)]
struct NdjsonReader {
    pending: Vec<u8>,
    /// Bytes of `pending` already known to hold no newline.
    scanned: usize,
    /// Lines seen.
    n: usize,
    /// Lines answered.
    count: u64,
}

impl NdjsonReader {
    /// Answers the complete lines of `pending` (and the rest too when `last`), CPU work: returns
    /// the answers and, if a line is too long, its number.
    fn feed(&mut self, atlas: &Atlas, last: bool, default: Crs) -> (String, Option<usize>) {
        let mut out = String::new();
        let mut start = 0;
        let mut problem = None;
        while let Some(pos) = self.pending[self.scanned..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| p + self.scanned)
        {
            self.n += 1;
            if pos - start > MAX_NDJSON_LINE {
                problem = Some(self.n);
                break;
            }
            let line = String::from_utf8_lossy(&self.pending[start..pos]);
            if !line.trim().is_empty() {
                ndjson_answer(atlas, self.n, line.trim(), default, &mut out);
                self.count += 1;
            }
            start = pos + 1;
            self.scanned = start;
        }
        if problem.is_none() {
            self.pending.drain(..start);
            self.scanned = self.pending.len();
            if self.pending.len() > MAX_NDJSON_LINE {
                problem = Some(self.n + 1);
            } else if last && !self.pending.is_empty() {
                self.n += 1;
                let line = String::from_utf8_lossy(&self.pending).into_owned();
                if !line.trim().is_empty() {
                    ndjson_answer(atlas, self.n, line.trim(), default, &mut out);
                    self.count += 1;
                }
                self.pending.clear();
            }
        }
        (out, problem)
    }
}

/// Streams NDJSON: reads the body chunk by chunk, answers each complete line as it arrives (see
/// the module documentation for the limits and what the client sees when one is hit).
async fn ndjson(state: AppState, req: Request) -> ApiResult<Response> {
    let default = query_crs(&LookupParams::parse(req.uri().query().unwrap_or("")))?;
    let timeout = state.config().request_timeout;
    let deadline = req
        .extensions()
        .get::<super::body::Deadline>()
        .map_or_else(|| std::time::Instant::now() + timeout, |d| d.0);
    let deadline = tokio::time::Instant::from_std(deadline);
    let atlas = state.atlas();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<NdjsonOut>(16);
    let mut body = req.into_body().into_data_stream();
    tokio::spawn(async move {
        // A send that does not finish by the deadline (a client not reading) ends the stream.
        let send = |out: NdjsonOut| {
            let tx = tx.clone();
            async move {
                matches!(
                    tokio::time::timeout_at(deadline, tx.send(out)).await,
                    Ok(Ok(()))
                )
            }
        };
        let mut reader = NdjsonReader::default();
        let mut answered = 0u64;
        loop {
            let chunk = match tokio::time::timeout_at(deadline, body.next()).await {
                Ok(c) => c,
                Err(_) => {
                    let e = ApiError::unavailable(format!(
                        "the request took longer than the configured request timeout ({} s); lines from {} on were not answered",
                        timeout.as_secs_f64(),
                        reader.n + 1
                    ));
                    send(NdjsonOut::Problem(e, reader.n + 1)).await;
                    break;
                }
            };
            let last = chunk.is_none();
            match chunk {
                Some(Ok(c)) => reader.pending.extend_from_slice(&c),
                Some(Err(e)) => {
                    send(NdjsonOut::Problem(body_problem(&e), reader.n + 1)).await;
                    break;
                }
                None => {}
            }
            // The lookups of the complete lines, on the blocking pool (not on an async worker).
            let a = atlas.clone();
            let next_line = reader.n + 1;
            let fed = tokio::task::spawn_blocking(move || {
                let (out, problem) = reader.feed(&a, last, default);
                (reader, out, problem)
            })
            .await;
            let (out, problem);
            (reader, out, problem) = match fed {
                Ok(r) => r,
                Err(e) => {
                    send(NdjsonOut::Problem(ApiError::internal(e), next_line)).await;
                    break;
                }
            };
            answered = reader.count;
            if !out.is_empty() && !send(NdjsonOut::Answers(Bytes::from(out))).await {
                break;
            }
            if let Some(line) = problem {
                let e = ApiError::too_large(format!(
                    "line {line} is longer than {MAX_NDJSON_LINE} bytes"
                ))
                .with_extra(json!({"line": line, "limit_bytes": MAX_NDJSON_LINE}));
                send(NdjsonOut::Problem(e, line)).await;
                break;
            }
            if last {
                break;
            }
        }
        metrics::counter!("gridatlas_lookups_total", "kind" => "ndjson").increment(answered);
    });
    // The status waits for the first answers: a problem before them is the response's.
    let first = match rx.recv().await {
        None => Bytes::new(),
        Some(NdjsonOut::Problem(e, _)) => return Err(e),
        Some(NdjsonOut::Answers(b)) => b,
    };
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        let item = match rx.recv().await? {
            NdjsonOut::Answers(b) => b,
            NdjsonOut::Problem(e, line) => {
                let mut l = String::from("{\"error\":");
                push_json_str(&mut l, &e.detail);
                let _ = writeln!(l, ",\"status\":{},\"line\":{line}}}", e.status.as_u16());
                Bytes::from(l)
            }
        };
        Some((Ok::<_, std::convert::Infallible>(item), rx))
    });
    let stream = futures_util::stream::once(async move { Ok(first) }).chain(rest);
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_as_serde_json_escapes_them() {
        for s in [
            "",
            "plain",
            "三村居委第1责任块",
            "quote \" backslash \\ slash /",
            "\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f} é 😀",
        ] {
            let mut out = String::new();
            push_json_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).expect("json"), "{s:?}");
        }
    }

    #[test]
    fn lookup_parameters_are_decoded_and_the_last_wins() {
        let q = LookupParams::parse(
            "lon=1&lat=2%2E5&crs=gcj%30%32&x=y&lon=121.5&at=2026-01-01T00%3A00%3A00%2B08%3A00",
        );
        assert_eq!(q.lon.as_deref(), Some("121.5"));
        assert_eq!(q.lat.as_deref(), Some("2.5"));
        assert_eq!(q.crs.as_deref(), Some("gcj02"));
        assert_eq!(q.at.as_deref(), Some("2026-01-01T00:00:00+08:00"));
        let q = LookupParams::parse("");
        assert!(q.lon.is_none() && q.lat.is_none() && q.crs.is_none() && q.at.is_none());
    }
}
