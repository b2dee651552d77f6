//! The ceiling of the HTTP stack: an axum handler returning a constant JSON body of a given size.
//! `cargo run --release --example bare_axum -- 127.0.0.1:18081 BYTES` (used by scripts/bench-http).

use axum::Router;
use axum::routing::get;

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
        let app = Router::new().route(
            "/api/v1/lookup",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body,
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}
