//! The HTTP API (axum): lookups, areas, vector tiles, the web map, health and metrics.
//!
//! Handlers stay thin: parse and check the request (errors name the parameter), make one call
//! into the atlas (or the store), map the result. Every route is listed in [`router`]; every error
//! is problem+json ([`error::ApiError`]). The live atlas sits in an `ArcSwap`: a publish swaps
//! in a new one atomically and a lookup in flight keeps the one it started with.

// ApiError (136 bytes) travels only on the error path of a request; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

pub mod areas;
pub mod auth;
pub mod cases;
pub mod drafts;
pub mod edge;
pub mod error;
pub mod lookup;
pub mod meta;
pub mod open311;
pub mod ratelimit;
pub mod serve;
pub mod tiles;
pub mod web;

use crate::atlas::Atlas;
use crate::store::Store;
use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get, post};
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
    /// Case routing: boundary tolerance, radii, days to the due date, time zone.
    pub routing: crate::routing::RouteOptions,
    /// Per-client rate limit of the API (`None`: unlimited); see [`ratelimit`].
    pub rate_limit: Option<ratelimit::RateLimit>,
    /// The public base URL of this server (`https://grid.example.gov.cn`), for the absolute URLs
    /// it hands out (TileJSON); `None`: server-relative paths. Never taken from a request.
    pub public_url: Option<String>,
    /// How long an unpublished draft lives: older ones cannot be published and are purged.
    pub draft_ttl: Duration,
    /// What public Open311 reads show of a service request (default: no description, no media,
    /// location rounded to about 100 m); see [`open311::Open311Public`].
    pub open311_public: open311::Open311Public,
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
            routing: crate::routing::RouteOptions::default(),
            rate_limit: Some(ratelimit::RateLimit::default()),
            public_url: None,
            draft_ttl: Duration::from_secs(30 * 24 * 3600),
            open311_public: open311::Open311Public::default(),
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
    store: Option<Arc<dyn Store>>,
    /// Serialises rebuilds so two reloads never race to swap an older atlas in.
    reload: std::sync::Mutex<()>,
    /// Atlases of past generations asked for with `at=` (the last few).
    past: std::sync::Mutex<Vec<Arc<Atlas>>>,
}

impl AppState {
    /// State serving `atlas`.
    pub fn new(atlas: Atlas, config: ServeConfig) -> AppState {
        AppState::with_store(atlas, config, None)
    }

    /// State serving `atlas`, with a store for drafts, generations and tokens.
    pub fn with_store(
        atlas: Atlas,
        config: ServeConfig,
        store: Option<Arc<dyn Store>>,
    ) -> AppState {
        if let Some(g) = atlas.generation() {
            metrics::gauge!("gridatlas_generation").set(g as f64);
        }
        AppState {
            inner: Arc::new(Inner {
                atlas: ArcSwap::from_pointee(atlas),
                config,
                metrics: metrics_handle(),
                store,
                reload: std::sync::Mutex::new(()),
                past: std::sync::Mutex::new(Vec::new()),
            }),
        }
    }

    /// The store, or 503 when the server runs without one (`--data`).
    pub fn store(&self) -> Result<Arc<dyn Store>, ApiError> {
        self.inner
            .store
            .clone()
            .ok_or_else(|| ApiError::unavailable("this server serves a file (--data) and has no store: drafts, generations and tokens are unavailable"))
    }

    /// The atlas of generation `n`: the live one, a cached past one, or built from the store
    /// (the last four past generations asked for stay cached). Blocking.
    pub fn atlas_of(&self, n: i32) -> anyhow::Result<Arc<Atlas>> {
        let live = self.atlas();
        if live.generation() == Some(i64::from(n)) {
            return Ok(live);
        }
        let lock =
            |m: &std::sync::Mutex<Vec<Arc<Atlas>>>| m.lock().map(|v| v.clone()).unwrap_or_default();
        if let Some(a) = lock(&self.inner.past)
            .into_iter()
            .find(|a| a.generation() == Some(i64::from(n)))
        {
            return Ok(a);
        }
        let store = self.store().map_err(|e| anyhow::anyhow!(e.detail))?;
        let atlas = Arc::new(Atlas::build(store.load_generation(n)?).with_generation(i64::from(n)));
        if let Ok(mut past) = self.inner.past.lock() {
            past.insert(0, atlas.clone());
            past.truncate(4);
        }
        Ok(atlas)
    }

    /// Loads generation `n` from the store and swaps its atlas in, unless a newer one is live.
    /// Blocking: call from a blocking thread.
    pub fn reload_from_store(&self, n: i32) -> anyhow::Result<()> {
        let store = self.store().map_err(|e| anyhow::anyhow!(e.detail))?;
        let _guard = self
            .inner
            .reload
            .lock()
            .map_err(|_| anyhow::anyhow!("reload lock poisoned"))?;
        if self.atlas().generation().is_some_and(|g| g >= i64::from(n)) {
            return Ok(());
        }
        let t = Instant::now();
        let set = store.load_generation(n)?;
        let atlas = Atlas::build(set).with_generation(i64::from(n));
        self.swap_atlas(atlas);
        tracing::info!(
            generation = n,
            elapsed_ms = t.elapsed().as_millis() as u64,
            "new generation served"
        );
        Ok(())
    }

    /// The live atlas (a cheap snapshot; hold it for the whole request).
    pub fn atlas(&self) -> Arc<Atlas> {
        self.inner.atlas.load_full()
    }

    /// The live atlas for a short, synchronous use (no reference count is touched: cheaper
    /// than [`AppState::atlas`] when many cores read at once). Do not hold it across `.await`.
    pub fn atlas_guard(&self) -> arc_swap::Guard<Arc<Atlas>> {
        self.inner.atlas.load()
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

/// The process-wide Prometheus recorder (installed once), with a thread draining recorded
/// histogram samples into their buckets every 5 s (without it they pile up between scrapes).
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
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "no metrics upkeep thread: histograms drain only when /metrics is read");
            }
            handle
        })
        .clone()
}

/// With `--private-reads`, every API read needs a valid token of any role.
async fn reads_auth(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.config().public_reads {
        let caller = auth::require(&state, req.headers(), auth::Role::Intake).await;
        // Any valid token may read: a planner is refused only for lacking the intake role.
        if let Err(e) = caller {
            if e.status != axum::http::StatusCode::FORBIDDEN {
                return e.into_response();
            }
        }
    }
    next.run(req).await
}

async fn fallback_404(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

/// A known route asked with a method it does not have: 405 problem+json. (axum adds the `Allow`
/// header listing the methods the route has.)
async fn fallback_405(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::method_not_allowed(format!("{} does not answer {method}", uri.path()))
}

/// Every route of the service, behind the [`edge::Edge`] (body limit, rate limit, timeout,
/// metrics). Serve it with `axum::ServiceExt::into_make_service_with_connect_info::<SocketAddr>()`
/// (as `gridatlas serve` does): the rate limit tells clients apart by their address.
pub fn router(state: AppState) -> edge::Edge {
    router_with(state, true)
}

/// [`router`], with the edge's lookup fast path on or off (both must answer alike: tested).
fn router_with(state: AppState, fast_lookup: bool) -> edge::Edge {
    // Full paths merged into the root rather than nested under /api/v1: nesting strips the
    // prefix from every request's URI (a new URI per request).
    let api: Vec<(&'static str, MethodRouter<AppState>)> = vec![
        (
            "/api/v1/lookup",
            get(lookup::get_lookup).post(lookup::post_lookup),
        ),
        ("/api/v1/areas", get(areas::list)),
        ("/api/v1/areas/{code}", get(areas::one)),
        ("/api/v1/areas/{code}/children", get(areas::children)),
        ("/api/v1/tiles.json", get(tiles::tilejson)),
        ("/api/v1/tiles/{z}/{x}/{y}", get(tiles::tile)),
        ("/api/v1/drafts", post(drafts::create)),
        ("/api/v1/drafts/{id}", get(drafts::one)),
        ("/api/v1/drafts/{id}/report", get(drafts::report)),
        ("/api/v1/drafts/{id}/publish", post(drafts::publish)),
        ("/api/v1/generations", get(drafts::generations)),
        ("/api/v1/generations/{a}/diff/{b}", get(drafts::diff)),
        (
            "/api/v1/categories",
            get(cases::list_categories).put(cases::put_categories),
        ),
        ("/api/v1/cases", get(cases::list).post(cases::create)),
        ("/api/v1/cases/{id}", get(cases::one)),
        ("/api/v1/cases/{id}/events", post(cases::add_event)),
        ("/api/v1/indicators", get(cases::get_indicators)),
        ("/api/v1/config", get(meta::config)),
        ("/api/v1/openapi.json", get(meta::openapi)),
    ];
    let rest: Vec<(&'static str, MethodRouter<AppState>)> = vec![
        // Open311 GeoReport v2: public by the spec (writes carry an `api_key`).
        (
            "/open311/v2/{file}",
            get(open311::root_get).post(open311::post_request),
        ),
        (
            "/open311/v2/services/{file}",
            get(open311::service_definition),
        ),
        ("/open311/v2/requests/{file}", get(open311::get_request)),
        ("/api/v1/{*rest}", any(fallback_404)),
        ("/healthz", get(meta::healthz)),
        ("/readyz", get(meta::readyz)),
        ("/metrics", get(meta::metrics)),
        ("/avatars/{file}", get(web::avatar)),
        ("/", get(web::index)),
        ("/{*path}", get(web::asset)),
    ];
    // Every template is also the `route` label of the metrics: one list for both.
    let templates = api.iter().chain(&rest).map(|(path, _)| *path).collect();
    let mut api_router = Router::new();
    for (path, m) in api {
        api_router = api_router.route(path, m);
    }
    // With public reads the check would pass every request: leave it out of the stack.
    if !state.config().public_reads {
        api_router =
            api_router.route_layer(middleware::from_fn_with_state(state.clone(), reads_auth));
    }
    let mut r = Router::new().merge(api_router);
    for (path, m) in rest {
        r = r.route(path, m);
    }
    let config = state.config();
    let edge = edge::EdgeConfig {
        // With private reads the router's token check must run: no fast path.
        fast_lookup: (fast_lookup && config.public_reads).then(|| state.clone()),
        routes: edge::RouteTable::new(templates),
        body_limit: config.max_body_bytes,
        timeout: config.request_timeout,
        limiter: config.rate_limit.map(ratelimit::Limiter::new),
    };
    edge::Edge::new(
        r.fallback(fallback_404)
            .method_not_allowed_fallback(fallback_405)
            .with_state(state),
        edge,
    )
}

/// The render of `/metrics`.
pub async fn render_metrics(State(state): State<AppState>) -> String {
    state.inner.metrics.render()
}
