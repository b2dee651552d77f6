//! Shared pieces of the HTTP integration tests: the demo district, the problem+json check, a
//! server on an ephemeral port, a runtime for the `suite!` tests (which are plain `#[test]`
//! functions).

#![allow(dead_code)]

use gridatlas::model::FeatureSet;
use serde_json::Value;
use std::sync::OnceLock;

/// The demo district (fixtures/demo-district.geojson), read once.
pub fn demo() -> &'static FeatureSet {
    static SET: OnceLock<FeatureSet> = OnceLock::new();
    SET.get_or_init(|| {
        gridatlas::geo_io::read_path(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/demo-district.geojson"
        )))
        .expect("demo fixture")
    })
}

/// Asserts that `resp` is a problem+json document with `status`, and returns it.
pub async fn problem(resp: reqwest::Response, status: u16) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["status"], status, "{v}");
    v
}

/// Serves `state`'s router on an ephemeral loopback port; returns the base URL.
pub async fn serve(state: gridatlas::http::AppState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, gridatlas::http::router(state)).await });
    format!("http://{addr}")
}

/// Serves the demo district (published as generation 1 of `store`) with the default
/// configuration on an ephemeral port; returns the base URL and an admin token's secret.
pub async fn start_demo(store: std::sync::Arc<dyn gridatlas::store::Store>) -> (String, String) {
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    let set = store.load_generation(n).expect("load");
    let state = gridatlas::http::AppState::with_store(
        gridatlas::atlas::Atlas::build(set).with_generation(i64::from(n)),
        gridatlas::http::ServeConfig::default(),
        Some(store.clone()),
    );
    let base = serve(state).await;
    let secret = gridatlas::http::auth::new_secret();
    store.create_token("admin", &[], &secret).expect("token");
    (base, secret)
}

/// A query parameter's value percent-encoded.
pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `POST /api/v1/drafts{query}` with `token`, content type `ctype` and `body`.
pub async fn post_draft(
    base: &str,
    token: &str,
    query: &str,
    ctype: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/v1/drafts{query}"))
        .bearer_auth(token)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .expect("post")
}

/// Runs `f` on a two-worker runtime.
pub fn run(f: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f);
}
