//! The web map (embedded `web-map/` files) and generated avatar pictures.

use super::AppState;
use super::error::ApiError;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "web-map/"]
#[exclude = "node_modules/*"]
#[exclude = "tests/*"]
#[exclude = "dev/*"]
#[exclude = "package*.json"]
struct Assets;

fn serve(path: &str) -> Response {
    match Assets::get(path) {
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
    }
}

/// `GET /`: the map.
pub async fn index() -> Response {
    serve("index.html")
}

/// `GET /{path}`: a file of the map.
pub async fn asset(Path(path): Path<String>) -> Response {
    serve(&path)
}

/// `GET /avatars/{file}.svg`: a generated portrait placeholder for a person, labelled with the
/// first character of the name of the person whose `photo_url` this is.
pub async fn avatar(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let url = format!("/avatars/{file}");
    let atlas = state.atlas();
    let name = atlas
        .features()
        .features()
        .iter()
        .flat_map(|f| &f.people)
        .find(|p| p.photo_url.as_deref() == Some(url.as_str()))
        .map(|p| p.name.clone());
    let Some(name) = name else {
        return ApiError::not_found(format!("no person has the photo {url}")).into_response();
    };
    let h = file
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    let hue = h % 360;
    let initial: String = name.chars().next().map(String::from).unwrap_or_default();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96"><rect width="96" height="96" rx="12" fill="hsl({hue},45%,88%)"/><circle cx="48" cy="38" r="18" fill="hsl({hue},35%,62%)"/><path d="M14 92c4-22 18-32 34-32s30 10 34 32z" fill="hsl({hue},35%,62%)"/><text x="48" y="45" font-size="18" text-anchor="middle" fill="#fff" font-family="sans-serif">{initial}</text></svg>"##
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    )
        .into_response()
}
