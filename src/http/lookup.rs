//! `GET /api/v1/lookup` (one point) and `POST /api/v1/lookup` (a batch, as JSON or NDJSON).

use super::AppState;
use super::error::{ApiError, ApiResult};
use crate::atlas::json::push_json_str;
use crate::atlas::{Atlas, Placement};
use crate::geometry::crs::Crs;
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

/// Converts a point given in `crs` to WGS84, checking ranges.
pub fn to_wgs84(lon: f64, lat: f64, crs: Crs) -> Result<(f64, f64), String> {
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(format!("longitude {lon} is outside [-180, 180]"));
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(format!("latitude {lat} is outside [-90, 90]"));
    }
    Ok(crs.to_wgs84(lon, lat))
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
    params(
        ("lon" = f64, Query, description = "Longitude in `crs`"),
        ("lat" = f64, Query, description = "Latitude in `crs`"),
        ("crs" = Option<String>, Query, description = "wgs84 (default) | cgcs2000 | gcj02 | bd09"),
        ("at" = Option<String>, Query, description = "A generation number, or an RFC 3339 time (the generation in force then); default: the current one"),
    ),
    responses(
        (status = 200, description = "The placement: street, grid, block, block head, people, management units, road segments, fallback", body = Object),
        (status = 400, description = "A parameter is missing or invalid", content_type = "application/problem+json"),
        (status = 404, description = "No generation at `at`", content_type = "application/problem+json"),
    ))]
pub async fn get_lookup(State(state): State<AppState>, uri: Uri) -> ApiResult<Response> {
    let query = uri.query().unwrap_or("");
    if let Some(answer) = lookup_now(&state, query) {
        return answer;
    }
    // Only `at=` needs to wait (the atlas of a past generation may have to be built).
    let (input, crs, wgs, at) = lookup_params(query)?;
    let atlas = atlas_at(&state, at.unwrap_or_default()).await?;
    answer_one(&atlas, input, crs, wgs)
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

fn lookup_params(query: &str) -> ApiResult<LookupQuery> {
    let q = LookupParams::parse(query);
    let crs = match q.crs.as_deref() {
        None => Crs::Wgs84,
        Some(s) => s
            .parse()
            .map_err(|e: String| ApiError::invalid_parameter("crs", e))?,
    };
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

/// The atlas of the generation `at` names (a number or an RFC 3339 time).
pub async fn atlas_at(state: &AppState, at: String) -> ApiResult<std::sync::Arc<Atlas>> {
    let store = state.store()?;
    let st = state.clone();
    tokio::task::spawn_blocking(move || {
        let n = crate::store::resolve_at(store.as_ref(), &at)
            .map_err(|e| ApiError::invalid_parameter("at", e))?
            .ok_or_else(|| {
                ApiError::not_found(format!("no generation was published at or before {at}"))
            })?;
        st.atlas_of(n).map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchRequest {
    #[serde(default)]
    crs: Option<String>,
    points: Vec<[f64; 2]>,
}

/// `POST /api/v1/lookup`: a batch of points, as `{"crs", "points": [[lon, lat], …]}` (JSON,
/// results in order) or NDJSON (`[lon, lat]` or `{"lon","lat","crs"}` per line, streamed).
#[utoipa::path(post, path = "/api/v1/lookup", tag = "lookup",
    request_body(content = Object, description = "`{\"crs\": \"gcj02\", \"points\": [[lon, lat], …]}` (application/json, up to the batch limit) or one point per line (application/x-ndjson)"),
    responses(
        (status = 200, description = "`{\"generation\", \"results\": [...]}` in input order, or one NDJSON line per input line", body = Object),
        (status = 400, description = "Malformed body", content_type = "application/problem+json"),
        (status = 413, description = "Too many points or too large a body", content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor NDJSON", content_type = "application/problem+json"),
        (status = 422, description = "JSON of the wrong shape", content_type = "application/problem+json"),
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
        return Ok(ndjson(state, req));
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
    let limit = state.config().max_body_bytes;
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::too_large(format!("the body exceeds the limit of {limit} bytes")))?;
    let req: BatchRequest = serde_json::from_slice(&body).map_err(|e| {
        if e.is_data() {
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
    let max = state.config().max_batch_points;
    if req.points.len() > max {
        return Err(ApiError::too_large(format!(
            "{} points in one batch; the limit is {max} (use NDJSON streaming for more)",
            req.points.len()
        )));
    }
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
                    match to_wgs84(lon, lat, crs) {
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
    match parse_ndjson_line(line, default).and_then(|(x, y, crs)| to_wgs84(x, y, crs)) {
        Ok(wgs) => atlas.write_compact(out, wgs, &atlas.lookup(wgs.0, wgs.1)),
        Err(e) => {
            let _ = write!(out, "\"error\":{}", Value::from(e));
        }
    }
    out.push_str("}\n");
}

/// Streams NDJSON: reads the body chunk by chunk, answers each complete line as it arrives.
fn ndjson(state: AppState, req: Request) -> Response {
    let default = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("crs=")))
        .and_then(|c| c.parse().ok())
        .unwrap_or(Crs::Wgs84);
    let atlas = state.atlas();
    let limit = state.config().max_body_bytes;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    let mut body = req.into_body().into_data_stream();
    tokio::spawn(async move {
        let mut pending: Vec<u8> = Vec::new();
        let mut n = 0usize;
        let mut total = 0usize;
        let mut count = 0u64;
        loop {
            let chunk = body.next().await;
            let last = chunk.is_none();
            match chunk {
                Some(Ok(c)) => {
                    total += c.len();
                    pending.extend_from_slice(&c);
                }
                Some(Err(e)) => {
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    return;
                }
                None => {}
            }
            if total > limit {
                let msg = format!("{{\"error\":\"body exceeds the limit of {limit} bytes\"}}\n");
                let _ = tx.send(Ok(Bytes::from(msg))).await;
                return;
            }
            let mut out = String::new();
            let mut start = 0;
            while let Some(pos) = pending[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map(|p| p + start)
            {
                n += 1;
                let line = String::from_utf8_lossy(&pending[start..pos]);
                if !line.trim().is_empty() {
                    ndjson_answer(&atlas, n, line.trim(), default, &mut out);
                    count += 1;
                }
                start = pos + 1;
            }
            pending.drain(..start);
            if last && !pending.is_empty() {
                n += 1;
                let line = String::from_utf8_lossy(&pending).into_owned();
                if !line.trim().is_empty() {
                    ndjson_answer(&atlas, n, line.trim(), default, &mut out);
                    count += 1;
                }
                pending.clear();
            }
            if !out.is_empty() && tx.send(Ok(Bytes::from(out))).await.is_err() {
                return;
            }
            if last {
                metrics::counter!("gridatlas_lookups_total", "kind" => "ndjson").increment(count);
                return;
            }
        }
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|e| ApiError::internal(e).into_response())
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
