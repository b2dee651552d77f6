//! The ceiling of the HTTP stack: an axum handler returning a constant JSON body of a given size.
//! `cargo run --release --example bare_axum -- 127.0.0.1:18081 BYTES` (used by scripts/bench-http
//! and scripts/bench-field).
//!
//! `GET /api/v1/lookup` answers the constant body; `POST /api/v1/fixes` and
//! `POST /api/v1/checkins` read the whole request body (up to 256 MiB), discard it and answer the
//! same constant body: the HTTP stack alone receiving the bytes gridatlas is sent.

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:18081".into());
    let size: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let body: &'static str = Box::leak(
        format!("{{\"pad\":\"{}\"}}", "x".repeat(size.saturating_sub(10))).into_boxed_str(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let constant = move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
        };
        // Reads the whole body (the extractor collects it), then answers the constant.
        let discard = move |received: Bytes| async move {
            drop(received);
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
        };
        let app = Router::new()
            .route("/api/v1/lookup", get(constant))
            .route("/api/v1/fixes", post(discard))
            .route("/api/v1/checkins", post(discard))
            .layer(DefaultBodyLimit::max(256 << 20));
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}
