//! `GET /qr.svg?url=…`: a QR code (SVG) of an http(s) URL, for the public board's 扫码上报 (scan to
//! report) box, which points to the phone page (`/m`) of the server the board is opened from.
//! The picture holds only dark and light modules: no text of the request is written into it.
//! Only URLs of this server are encoded (the host of the request, or of `--public-url`): a QR
//! code under the district's name pointing elsewhere would lend it to phishing.

use super::AppState;
use super::error::ApiError;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;

/// The longest URL encoded (a QR code of version 10 holds 213 bytes at level M; boards are read
/// from a distance, so keep them small).
pub const MAX_URL: usize = 200;

/// The query of `GET /qr.svg`.
#[derive(Debug, Deserialize)]
pub struct QrQuery {
    /// The URL to encode (`http://` or `https://`, at most [`MAX_URL`] bytes).
    pub url: Option<String>,
}

/// The SVG of `url`'s QR code (error correction M, a quiet zone of four modules), or what is wrong.
pub fn qr_svg(url: &str) -> Result<String, ApiError> {
    if url.len() > MAX_URL {
        return Err(ApiError::invalid_parameter(
            "url",
            format!("{} bytes, at most {MAX_URL}", url.len()),
        ));
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(ApiError::invalid_parameter(
            "url",
            "not an http:// or https:// URL",
        ));
    }
    let code = QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::invalid_parameter("url", e))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}

/// The `host[:port]` of an http(s) URL, lowercased (`None`: not one).
fn authority(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    (!auth.is_empty() && !auth.contains('@')).then(|| auth.to_string())
}

/// Whether `url` points to this server: its authority is the request's `Host` or that of the
/// public URL.
pub fn is_own(url: &str, host: Option<&str>, public_url: Option<&str>) -> bool {
    let Some(a) = authority(url) else {
        return false;
    };
    host.is_some_and(|h| h.eq_ignore_ascii_case(&a))
        || public_url.and_then(authority).is_some_and(|p| p == a)
}

/// `GET /qr.svg?url=URL`: `image/svg+xml`, cached for a day; `url` must be this server's.
pub async fn get_qr(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<QrQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let public = state.config().public_url.as_deref();
    let result = q
        .map_err(ApiError::from)
        .and_then(|Query(q)| {
            q.url
                .ok_or_else(|| ApiError::invalid_parameter("url", "missing"))
        })
        .and_then(|url| {
            if url.len() <= MAX_URL && !is_own(&url, host, public) {
                return Err(ApiError::invalid_parameter(
                    "url",
                    "not a URL of this server (its host, or --public-url)",
                ));
            }
            qr_svg(&url)
        });
    match result {
        Ok(svg) => {
            let mut resp = svg.into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            );
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            resp
        }
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_becomes_an_svg_of_modules_only() {
        let svg = qr_svg("http://127.0.0.1:8080/m").expect("svg");
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<svg") && svg.contains("#000000"));
        assert!(!svg.contains("127.0.0.1"), "the URL is not written as text");
    }

    #[test]
    fn only_short_http_urls() {
        for bad in ["javascript:alert(1)", "ftp://a.org/m", "/m", ""] {
            assert_eq!(qr_svg(bad).expect_err(bad).slug, "invalid-parameter");
        }
        let long = format!("https://a.org/{}", "x".repeat(MAX_URL));
        assert_eq!(qr_svg(&long).expect_err("long").slug, "invalid-parameter");
    }

    #[test]
    fn only_urls_of_this_server() {
        let host = Some("127.0.0.1:8080");
        assert!(is_own("http://127.0.0.1:8080/m", host, None));
        assert!(is_own("HTTP://127.0.0.1:8080", host, None));
        assert!(is_own(
            "https://grid.example.gov.cn/m",
            host,
            Some("https://grid.example.gov.cn")
        ));
        for other in [
            "http://evil.example/m",
            "http://127.0.0.1:8080@evil.example/m",
            "http://127.0.0.1:80800/m",
            "http://127.0.0.1/m",
        ] {
            assert!(!is_own(other, host, None), "{other}");
        }
        assert!(!is_own("http://127.0.0.1:8080/m", None, None));
    }
}
