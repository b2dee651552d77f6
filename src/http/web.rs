//! The web map (embedded `web-map/` files) and generated avatar pictures.
//!
//! Every file of the map is served with the browser's security headers: a Content-Security-Policy
//! the map runs under (scripts, styles and fonts from this server only; MapLibre's workers from
//! `blob:` URLs, its images from `data:`/`blob:`; the configured basemap's origin for images and
//! fetches; no framing, no plugins, no `<base>`), `X-Content-Type-Options: nosniff`,
//! `X-Frame-Options: DENY` and `Referrer-Policy: strict-origin-when-cross-origin` (a basemap's
//! tile server still sees which site asks, as e.g. OpenStreetMap's tile policy requires, but no
//! path or query). The generated avatars get a policy that runs nothing at all.

use super::AppState;
use super::error::ApiError;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web-map/"]
#[exclude = "node_modules/*"]
#[exclude = "tests/*"]
#[exclude = "dev/*"]
#[exclude = "package*.json"]
struct Assets;

/// The origin (`scheme://host[:port]`) a basemap URL's tiles or style come from, for the
/// Content-Security-Policy: `None` for a URL on this server (starting with `/`), an error naming
/// what is wrong for anything a policy cannot allow precisely (not http(s), no host, a host with
/// template braces such as `{s}`, or characters a policy cannot hold).
pub fn basemap_origin(url: &str) -> Result<Option<String>, String> {
    if url.starts_with('/') && !url.starts_with("//") {
        return Ok(None);
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("basemap URL {url:?}: neither absolute (http(s)://host/…) nor a path on this server (/…)"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!(
            "basemap URL {url:?}: scheme {scheme:?} is not http or https"
        ));
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if host.is_empty() || host.starts_with(':') || !host.chars().all(allowed) {
        return Err(format!(
            "basemap URL {url:?}: host {host:?} is not a plain host[:port] (a subdomain template such as {{s}} cannot be allowed by the web map's Content-Security-Policy)"
        ));
    }
    Ok(Some(format!("{scheme}://{}", host.to_ascii_lowercase())))
}

/// The origins of a basemap setting: one URL, or several raster tile templates drawn one over
/// the other and separated by `|` (Tianditu's map `vec_w` under its labels `cva_w`); each is
/// checked by [`basemap_origin`]. Distinct origins, in order.
pub fn basemap_origins(setting: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for url in setting.split('|') {
        if url.trim().is_empty() {
            return Err(format!(
                "basemap URL {setting:?}: an empty template between `|` separators"
            ));
        }
        if let Some(o) = basemap_origin(url.trim())? {
            if !out.contains(&o) {
                out.push(o);
            }
        }
    }
    Ok(out)
}

/// The web map's Content-Security-Policy, with the basemap's origins (see [`basemap_origins`]).
pub fn content_security_policy(basemap_url: Option<&str>) -> Result<String, String> {
    let extra: String = basemap_url
        .map(basemap_origins)
        .transpose()?
        .unwrap_or_default()
        .iter()
        .map(|o| format!(" {o}"))
        .collect();
    Ok(format!(
        "default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; \
         style-src 'self'; font-src 'self'; img-src 'self' data: blob:{extra}; \
         connect-src 'self'{extra}; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    ))
}

/// The policy of a generated avatar: an image that runs nothing, even when opened on its own.
const AVATAR_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/// Adds the security headers to a response of the web map (or of an avatar).
fn secure(mut resp: Response, csp: &str) -> Response {
    let h: &mut HeaderMap = resp.headers_mut();
    match HeaderValue::from_str(csp) {
        Ok(v) => {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        // the policy is built from checked parts only; a value a header cannot hold is a bug
        Err(e) => {
            return ApiError::internal(format!("the web map's Content-Security-Policy: {e}"))
                .into_response();
        }
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    resp
}

fn serve(state: &AppState, path: &str) -> Response {
    let csp = match content_security_policy(state.config().basemap_url.as_deref()) {
        Ok(csp) => csp,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let resp = match Assets::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            let mut resp = file.data.into_owned().into_response();
            if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
                resp.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        None => ApiError::not_found(format!("no file /{path}")).into_response(),
    };
    secure(resp, &csp)
}

/// `GET /`: the map.
pub async fn index(State(state): State<AppState>) -> Response {
    serve(&state, "index.html")
}

/// `GET /portal`: the street portal (`?street=CODE`; the district view without).
pub async fn portal(State(state): State<AppState>) -> Response {
    serve(&state, "portal.html")
}

/// `GET /m`: the grid worker's phone page (sign in with `#token=`; works offline through its
/// service worker, `/sw.js`).
pub async fn phone(State(state): State<AppState>) -> Response {
    serve(&state, "m.html")
}

/// `GET /report`: a street's monthly report (`?street=CODE&month=YYYY-MM`), printable on A4.
pub async fn report(State(state): State<AppState>) -> Response {
    serve(&state, "report.html")
}

/// `GET /{path}`: a file of the map.
pub async fn asset(State(state): State<AppState>, Path(path): Path<String>) -> Response {
    serve(&state, &path)
}

/// `GET /avatars/{file}.svg`: a generated portrait placeholder for a person, labelled with the
/// first character of the name of the person whose `photo_url` this is: a person of an area
/// (block head, station staff) or of a management unit (its team).
pub async fn avatar(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let url = format!("/avatars/{file}");
    let atlas = state.atlas();
    let set = atlas.features();
    let name = set
        .features()
        .iter()
        .flat_map(|f| &f.people)
        .chain(set.management_units.iter().flat_map(|u| &u.people))
        .find(|p| p.photo_url.as_deref() == Some(url.as_str()))
        .map(|p| p.name.clone());
    let Some(name) = name else {
        return secure(
            ApiError::not_found(format!("no person has the photo {url}")).into_response(),
            AVATAR_CSP,
        );
    };
    let h = file
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let hue = h % 360;
    // the initial is text in XML: a name starting with `<` or `&` must not break the picture
    let initial: String = match name.chars().next() {
        Some('<') => "&lt;".into(),
        Some('>') => "&gt;".into(),
        Some('&') => "&amp;".into(),
        Some(c) => c.into(),
        None => String::new(),
    };
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96"><rect width="96" height="96" rx="12" fill="hsl({hue},45%,88%)"/><circle cx="48" cy="38" r="18" fill="hsl({hue},35%,62%)"/><path d="M14 92c4-22 18-32 34-32s30 10 34 32z" fill="hsl({hue},35%,62%)"/><text x="48" y="45" font-size="18" text-anchor="middle" fill="#fff" font-family="sans-serif">{initial}</text></svg>"##
    );
    secure(
        (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            svg,
        )
            .into_response(),
        AVATAR_CSP,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::Atlas;
    use crate::http::ServeConfig;
    use crate::model::FeatureSet;

    fn state(basemap_url: Option<&str>) -> AppState {
        AppState::new(
            Atlas::build(FeatureSet::default()),
            ServeConfig {
                basemap_url: basemap_url.map(String::from),
                ..ServeConfig::default()
            },
        )
    }

    fn header_of<'a>(resp: &'a Response, name: &str) -> &'a str {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("(missing)")
    }

    /// Every file of the map, and its 404, carries the policy and the other security headers.
    #[tokio::test]
    async fn the_map_is_served_with_its_security_headers() {
        let st = state(None);
        let pages = [
            index(State(st.clone())).await,
            asset(State(st.clone()), Path("board.html".into())).await,
            asset(State(st.clone()), Path("app.js".into())).await,
            asset(State(st.clone()), Path("no-such-file.js".into())).await,
        ];
        assert_eq!(pages[3].status().as_u16(), 404);
        for resp in &pages {
            let csp = header_of(resp, "content-security-policy");
            for part in [
                "default-src 'self'",
                "script-src 'self';",
                "worker-src 'self' blob:",
                "img-src 'self' data: blob:;",
                "connect-src 'self';",
                "object-src 'none'",
                "frame-ancestors 'none'",
            ] {
                assert!(csp.contains(part), "{part:?} in {csp:?}");
            }
            assert!(!csp.contains("unsafe"), "no unsafe-* source: {csp}");
            assert_eq!(header_of(resp, "x-content-type-options"), "nosniff");
            assert_eq!(header_of(resp, "x-frame-options"), "DENY");
            assert_eq!(
                header_of(resp, "referrer-policy"),
                "strict-origin-when-cross-origin"
            );
        }
    }

    /// The basemap's origin (not its path or template) is allowed for images and fetches.
    #[tokio::test]
    async fn the_basemap_origin_is_allowed_by_the_policy() {
        let st = state(Some("https://Tile.Example.org:8443/osm/{z}/{x}/{y}.png"));
        let resp = index(State(st)).await;
        let csp = header_of(&resp, "content-security-policy");
        assert!(
            csp.contains("img-src 'self' data: blob: https://tile.example.org:8443;"),
            "{csp}"
        );
        assert!(
            csp.contains("connect-src 'self' https://tile.example.org:8443;"),
            "{csp}"
        );
    }

    /// The phone page and its service worker are served, under the policy, as HTML and script.
    #[tokio::test]
    async fn the_phone_page_and_its_service_worker_are_served() {
        let st = state(None);
        let resp = phone(State(st.clone())).await;
        assert_eq!(resp.status().as_u16(), 200);
        assert!(header_of(&resp, "content-type").starts_with("text/html"));
        assert!(header_of(&resp, "content-security-policy").contains("worker-src 'self'"));
        let sw = asset(State(st), Path("sw.js".into())).await;
        assert_eq!(sw.status().as_u16(), 200);
        assert!(
            header_of(&sw, "content-type").contains("javascript"),
            "{}",
            header_of(&sw, "content-type")
        );
    }

    #[test]
    fn basemap_origins_are_checked() {
        assert_eq!(basemap_origin("/tiles/{z}/{x}/{y}.png"), Ok(None));
        assert_eq!(
            basemap_origin("http://t0.tianditu.gov.cn/img_w/wmts?x={x}&y={y}&l={z}"),
            Ok(Some("http://t0.tianditu.gov.cn".into()))
        );
        for bad in [
            "https://{s}.tile.example.org/{z}/{x}/{y}.png",
            "ftp://example.org/{z}/{x}/{y}.png",
            "//example.org/{z}/{x}/{y}.png",
            "tiles/{z}/{x}/{y}.png",
            "https:///{z}/{x}/{y}.png",
            "https://a.org; script-src *",
        ] {
            let e = basemap_origin(bad).expect_err(bad);
            assert!(e.contains("basemap URL"), "{e}");
        }
    }

    /// Tianditu's map and labels: two templates separated by `|`, one origin in the policy.
    #[test]
    fn tianditu_map_and_labels_share_one_origin() {
        let tdt = "http://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY|http://t0.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY";
        assert_eq!(
            basemap_origins(tdt),
            Ok(vec!["http://t0.tianditu.gov.cn".to_string()])
        );
        let csp = content_security_policy(Some(tdt)).expect("policy");
        assert!(
            csp.contains("img-src 'self' data: blob: http://t0.tianditu.gov.cn;"),
            "{csp}"
        );
        assert!(basemap_origins("http://a.org/{z}|").is_err());
        assert!(basemap_origins("http://a.org/{z}|https://{s}.b.org/{z}").is_err());
        assert_eq!(
            basemap_origins("http://a.org/{z}/{x}/{y}|/tiles/{z}/{x}/{y}.png|https://b.org/{z}"),
            Ok(vec![
                "http://a.org".to_string(),
                "https://b.org".to_string()
            ])
        );
    }

    /// A name starting with `<` gives a well-formed picture (it was `<text …><</text>`), served
    /// under a policy that runs nothing.
    #[tokio::test]
    async fn avatars_escape_the_initial_and_run_nothing() {
        use crate::model::{Feature, Geometry, Layer, Person, Role};
        use geo::{MultiPolygon, polygon};
        let block = Feature {
            layer: Layer::Block,
            code: "B1".into(),
            name: "block".into(),
            parent: None,
            kind: None,
            people: vec![Person {
                role: Role::BlockHead,
                name: "<script>".into(),
                phone: None,
                photo_url: Some("/avatars/b1.svg".into()),
                staff_id: None,
            }],
            attributes: serde_json::Map::new(),
            geometry: Geometry::Area(MultiPolygon(vec![polygon![
                (x: 121.0, y: 30.0), (x: 121.001, y: 30.0), (x: 121.001, y: 30.001), (x: 121.0, y: 30.0)
            ]])),
        };
        let set = FeatureSet::new(vec![block], Vec::new()).map_err(|f| f.code.clone());
        let st = AppState::new(
            Atlas::build(set.expect("one feature")),
            ServeConfig::default(),
        );
        let resp = avatar(State(st), Path("b1.svg".into())).await;
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(header_of(&resp, "content-security-policy"), AVATAR_CSP);
        assert_eq!(header_of(&resp, "x-content-type-options"), "nosniff");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        assert!(body.contains(">&lt;</text>"), "{body}");
        assert!(!body.contains("<script"), "{body}");
    }

    /// A management unit's staff have pictures too (`/avatars/310116101C01-1.svg` was a 404: only
    /// the people of areas were looked at); a photo nobody has is still a 404.
    #[tokio::test]
    async fn avatars_of_management_unit_staff_are_served() {
        use crate::model::{ManagementUnit, ManagementUnitKind, Person, Role};
        let unit = ManagementUnit {
            code: "310116101C01".into(),
            name: "朱泾城管第1管理单元".into(),
            kind: ManagementUnitKind::CityManagement,
            grids: vec!["310116101001".into()],
            people: vec![Person {
                role: Role::EnforcementOfficer,
                name: "杨文".into(),
                phone: Some("18882380854".into()),
                photo_url: Some("/avatars/310116101C01-1.svg".into()),
                staff_id: None,
            }],
        };
        let set = FeatureSet::new(Vec::new(), vec![unit]).map_err(|f| f.code.clone());
        let st = AppState::new(
            Atlas::build(set.expect("no features")),
            ServeConfig::default(),
        );
        let resp = avatar(State(st.clone()), Path("310116101C01-1.svg".into())).await;
        assert_eq!(resp.status().as_u16(), 200);
        assert_eq!(header_of(&resp, "content-type"), "image/svg+xml");
        assert_eq!(header_of(&resp, "content-security-policy"), AVATAR_CSP);
        let body = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        assert!(body.contains(">杨</text>"), "{body}");
        let missing = avatar(State(st), Path("310116101C01-9.svg".into())).await;
        assert_eq!(missing.status().as_u16(), 404);
    }
}
