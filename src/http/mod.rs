//! The HTTP API (axum): lookups, areas, vector tiles, the web map, health and metrics.
//!
//! Handlers stay thin: parse and check the request (errors name the parameter), make one call
//! into the atlas (or the store), map the result. Every route is listed in [`router`]; every error
//! is problem+json ([`error::ApiError`]). The live atlas sits in an `ArcSwap`: a publish swaps
//! in a new one atomically and a lookup in flight keeps the one it started with.

pub mod areas;
pub mod error;
pub mod lookup;
pub mod meta;
pub mod serve;
pub mod tiles;
pub mod web;

use crate::atlas::Atlas;
use arc_swap::ArcSwap;
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use error::ApiError;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Limits and switches of the server; one typed struct, loaded once.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Largest request body, bytes (uploads, batch lookups).
    pub max_body_bytes: usize,
    /// Most points in one batch lookup.
    pub max_batch_points: usize,
    /// Most positions in one uploaded feature.
    pub max_positions_per_feature: usize,
    /// Longest a request may take.
    pub request_timeout: Duration,
    /// Whether reads (lookups, areas, tiles) need no token.
    pub public_reads: bool,
    /// Optional basemap tile URL template for the web map.
    pub basemap_url: Option<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            max_body_bytes: 200 * 1024 * 1024,
            max_batch_points: 100_000,
            max_positions_per_feature: 200_000,
            request_timeout: Duration::from_secs(60),
            public_reads: true,
            basemap_url: None,
        }
    }
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    atlas: ArcSwap<Atlas>,
    config: ServeConfig,
    metrics: PrometheusHandle,
}

impl AppState {
    /// State serving `atlas`.
    pub fn new(atlas: Atlas, config: ServeConfig) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                atlas: ArcSwap::from_pointee(atlas),
                config,
                metrics: metrics_handle(),
            }),
        }
    }

    /// The live atlas (a cheap snapshot; hold it for the whole request).
    pub fn atlas(&self) -> Arc<Atlas> {
        self.inner.atlas.load_full()
    }

    /// Swaps in a new atlas atomically.
    pub fn swap_atlas(&self, atlas: Atlas) {
        if let Some(g) = atlas.generation() {
            metrics::gauge!("gridatlas_generation").set(g as f64);
        }
        self.inner.atlas.store(Arc::new(atlas));
    }

    /// The configuration.
    pub fn config(&self) -> &ServeConfig {
        &self.inner.config
    }
}

/// The process-wide Prometheus recorder (installed once).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05,
                    0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
                ])
                .map(PrometheusBuilder::build_recorder)
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            // Fails only if another recorder is installed; the handle still renders ours.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Request counts and latency per matched route.
async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

async fn timeout_error(err: tower::BoxError) -> Response {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::unavailable("the request took longer than the configured request timeout")
            .into_response()
    } else {
        ApiError::internal(err).into_response()
    }
}

async fn fallback_404(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

/// Every route of the service.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/lookup", get(lookup::get_lookup).post(lookup::post_lookup))
        .route("/areas", get(areas::list))
        .route("/areas/{code}", get(areas::one))
        .route("/areas/{code}/children", get(areas::children))
        .route("/tiles.json", get(tiles::tilejson))
        .route("/tiles/{z}/{x}/{y}", get(tiles::tile))
        .route("/config", get(meta::config))
        .route("/openapi.json", get(meta::openapi));
    let timeout = state.config().request_timeout;
    let body_limit = state.config().max_body_bytes;
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(meta::healthz))
        .route("/readyz", get(meta::readyz))
        .route("/metrics", get(meta::metrics))
        .route("/avatars/{file}", get(web::avatar))
        .route("/", get(web::index))
        .route("/{*path}", get(web::asset))
        .fallback(fallback_404)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            tower::ServiceBuilder::new()
                .layer(HandleErrorLayer::new(timeout_error))
                .timeout(timeout),
        )
        .layer(middleware::from_fn(track))
        .with_state(state)
}

/// The render of `/metrics`.
pub async fn render_metrics(State(state): State<AppState>) -> String {
    state.inner.metrics.render()
}
