//! The HTTP stack's own cost per lookup, without sockets or a load generator: `GET
//! /api/v1/lookup` requests sent straight into the service (`tower::Service::call`) by one
//! thread per core, next to a bare axum router answering a constant body of the same size.
//! The difference is what gridatlas adds per request (edge, handler, lookup, serialisation);
//! unlike a wrk run on a shared 2-core machine it barely moves between runs.
//!
//! `cargo run --release --example http_inproc -- [FILE] [REQUESTS_PER_THREAD] [THREADS]`

use axum::body::Body;
use axum::http::Request;
use gridatlas::atlas::Atlas;
use gridatlas::http::{AppState, ServeConfig, router};
use std::time::Instant;
use tower::{Service, ServiceExt};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let file = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "fixtures/demo-district.geojson".into());
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(300_000);
    let threads: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2);
    let set = gridatlas::geo_io::read_path(std::path::Path::new(&file))?;
    let atlas = Atlas::build(set);
    let bbox = atlas
        .territory_bbox()
        .ok_or_else(|| anyhow::anyhow!("empty atlas"))?;
    // The same 2,000 pseudo-random points in the bounding box as scripts/bench-http draws.
    let mut seed = 1u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let uris: Vec<String> = (0..2000)
        .map(|_| {
            let lon = bbox.min().x + next() * bbox.width();
            let lat = bbox.min().y + next() * bbox.height();
            format!("/api/v1/lookup?lon={lon:.6}&lat={lat:.6}")
        })
        .collect();
    let state = AppState::new(atlas, ServeConfig::default());
    let app = router(state);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    // The body size of the answer at the centre of the bounding box, for the bare router (as
    // scripts/bench-http sizes it).
    let centre = format!(
        "/api/v1/lookup?lon={:.6}&lat={:.6}",
        bbox.center().x,
        bbox.center().y
    );
    let size = rt.block_on(async {
        let resp = app
            .clone()
            .oneshot(Request::get(&centre).body(Body::empty())?)
            .await?;
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
        anyhow::Ok(body.len())
    })?;
    let constant: &'static str = Box::leak("x".repeat(size).into_boxed_str());
    let bare = axum::Router::new().route(
        "/api/v1/lookup",
        axum::routing::get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                constant,
            )
        }),
    );
    let uris = std::sync::Arc::new(uris);
    for round in 0..3 {
        let bare_ns = run(&rt, bare.clone(), &uris, n, threads)?;
        let ga_ns = run(&rt, app.clone(), &uris, n, threads)?;
        println!(
            "round {round}: bare axum {bare_ns:.0} ns/request, gridatlas {ga_ns:.0} ns/request (+{:.0} ns; {size}-byte answers, {threads} threads)",
            ga_ns - bare_ns
        );
    }
    Ok(())
}

/// Wall time per request of `threads` tasks each sending `n` requests, divided by all requests.
fn run<S>(
    rt: &tokio::runtime::Runtime,
    svc: S,
    uris: &std::sync::Arc<Vec<String>>,
    n: usize,
    threads: usize,
) -> anyhow::Result<f64>
where
    S: Service<
            Request<Body>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send,
{
    rt.block_on(async {
        let t = Instant::now();
        let mut tasks = Vec::new();
        for k in 0..threads {
            let (mut svc, uris) = (svc.clone(), uris.clone());
            tasks.push(tokio::spawn(async move {
                let mut bytes = 0usize;
                for i in 0..n {
                    let uri = &uris[(i * 7 + k * 1000) % uris.len()];
                    let req = Request::get(uri.as_str()).body(Body::empty())?;
                    let resp = svc.call(req).await?;
                    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await?;
                    bytes += body.len();
                }
                anyhow::Ok(bytes)
            }));
        }
        for t in tasks {
            t.await??;
        }
        anyhow::Ok(t.elapsed().as_nanos() as f64 * threads as f64 / (n * threads) as f64)
    })
}
