//! The HTTP API (axum): lookups, areas, vector tiles, the web map, health and metrics.
//!
//! Handlers stay thin: parse and check the request (errors name the parameter), make one call
//! into the atlas (or the store), map the result. Every route is listed in [`router`]; every error
//! is problem+json ([`error::ApiError`]). The live atlas sits in an `ArcSwap`: a publish swaps
//! in a new one atomically and a lookup in flight keeps the one it started with.

// ApiError (136 bytes) travels only on the error path of a request; boxing it buys nothing here.
#![allow(clippy::result_large_err)]

pub mod areas;
pub mod assessment;
pub mod assets;
pub mod auth;
pub mod body;
pub mod cases;
pub mod drafts;
pub mod edge;
pub mod error;
pub mod events;
pub mod field;
pub mod idempotency;
pub mod lookup;
pub mod meta;
pub mod open311;
pub mod photos;
pub mod qr;
pub mod query;
pub mod ratelimit;
pub mod review;
pub mod serve;
pub mod tiles;
pub mod tokens;
pub mod web;

use crate::atlas::Atlas;
use crate::store::Store;
use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, get, post, put};
use error::{ApiError, ApiResult};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Which of the asset registers to load again ([`AppState::reload_register`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Register {
    /// Components and shops.
    Both,
    /// The component register.
    Components,
    /// The shop register.
    Shops,
    /// The component class table.
    Classes,
}

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
    /// Most connections served at once; more wait in the listen backlog (see [`serve::serve`]).
    pub max_connections: usize,
    /// Longest a client may take to send a request's head; also how long an idle keep-alive
    /// connection waits for its next request before it is closed.
    pub header_read_timeout: Duration,
    /// Longest a request body may send nothing while its handler waits for it (408).
    pub body_idle_timeout: Duration,
    /// Memory budget of the atlases of past generations kept for `at=` lookups, bytes.
    pub past_atlas_budget_bytes: usize,
    /// Most atlases of past generations built at once.
    pub past_atlas_builds: usize,
    /// Longest an `at=` request waits for its turn to build an atlas (then 503, Retry-After).
    pub past_atlas_wait: Duration,
    /// Longest a request waits for a store connection before it is answered 503 with
    /// Retry-After (see [`AppState::blocking`]).
    pub store_wait: Duration,
    /// Most live event streams (`GET /api/v1/events`) open at once; one more is answered 503.
    pub max_event_streams: usize,
    /// Longest an event stream stays open (the client reconnects, with its token checked again).
    pub event_stream_max_age: Duration,
    /// How long the answer to a request sent with an `Idempotency-Key` is kept to be given again
    /// (a retry after it is a new request); expired keys are purged every minute.
    pub idempotency_ttl: Duration,
    /// Byte budget of each atlas's cache of encoded vector tiles (0 = no cache); the cache of a
    /// generation dies with its atlas.
    pub tile_cache_bytes: usize,
    /// Where case photos are kept (`None`: photos are unavailable, 503); see
    /// [`crate::store::objects`].
    pub photo_store: Option<crate::store::objects::PhotoStore>,
    /// Largest photo, most photos per case, most pixels.
    pub photo_limits: crate::service::photos::Limits,
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
            max_connections: serve::default_max_connections(),
            header_read_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(20),
            past_atlas_budget_bytes: 512 * 1024 * 1024,
            past_atlas_builds: 1,
            past_atlas_wait: Duration::from_secs(15),
            store_wait: Duration::from_secs(2),
            max_event_streams: 256,
            event_stream_max_age: Duration::from_secs(3600),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            tile_cache_bytes: crate::atlas::tile_cache::DEFAULT_BYTES,
            photo_store: None,
            photo_limits: crate::service::photos::Limits::default(),
        }
    }
}

/// Body limits of the routes that take a body (see [`edge::Policy`]; other routes and methods:
/// [`edge::SMALL_BODY`]).
pub mod limits {
    /// Case creation: a description of 4,000 characters (JSON-escaped, up to 6 bytes each) and 20
    /// photo URLs of up to 2 KiB fit.
    pub const CASE_BODY: usize = 128 * 1024;
    /// Case events, publish, Open311 POST: a few short fields.
    pub const SMALL_BODY: usize = super::edge::SMALL_BODY;
    /// A task list (`PUT /api/v1/categories`).
    pub const TASK_LIST_BODY: usize = 4 * 1024 * 1024;
    /// A quality review's draw or assignment: up to 500 reviewers and a rubric.
    pub const REVIEW_BODY: usize = super::review::MAX_REVIEW_BODY_BYTES;
    /// A staff roster or duty roster: up to 100,000 people.
    pub const ROSTER_BODY: usize = super::field::MAX_ROSTER_BYTES;
    /// A batch of GPS fixes (NDJSON or GPX): up to 500,000 fixes.
    pub const FIXES_BODY: usize = super::field::MAX_FIXES_BYTES;
    /// A component or shop register (GeoJSON or CSV).
    pub const REGISTER_BODY: usize = super::assets::MAX_REGISTER_BYTES;
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    atlas: ArcSwap<Atlas>,
    /// The component and shop registers in memory (loaded from the store at start and after
    /// every write of them).
    registers: ArcSwap<crate::service::assets::Registers>,
    config: ServeConfig,
    metrics: PrometheusHandle,
    store: Option<Arc<dyn Store>>,
    /// Serialises rebuilds so two reloads never race to swap an older atlas in.
    reload: std::sync::Mutex<()>,
    /// Atlases of past generations asked for with `at=`.
    past: PastAtlases,
    /// Turns at the store: as many as it has connections (see [`AppState::blocking`]).
    store_turns: Arc<tokio::sync::Semaphore>,
    /// Token uses noted by authentication, written by the serve loop's flusher.
    token_uses: crate::service::access::TokenUses,
    /// The live events of this process.
    events: crate::service::events::Bus,
    /// Turns to hold an event stream open.
    event_streams: Arc<tokio::sync::Semaphore>,
    /// The photo store, opened on first use ([`AppState::photos`]).
    photos: OnceLock<Result<Arc<crate::store::objects::Objects>, String>>,
}

/// The atlases of past generations (`at=`): each built once however many requests ask for it
/// at once (they share one build), at most `past_atlas_builds` built at a time (a request
/// waiting longer than `past_atlas_wait` for its turn is answered 503 with Retry-After), and
/// kept, most recently used first, while their estimated memory fits `past_atlas_budget_bytes`.
struct PastAtlases {
    /// Most recently used first; a slot whose build is in flight has `bytes == None`.
    slots: std::sync::Mutex<Vec<PastSlot>>,
    /// Permits to build.
    builds: Arc<tokio::sync::Semaphore>,
    /// Builds started (for tests and logs).
    started: Arc<std::sync::atomic::AtomicU64>,
}

/// A build shared by the requests waiting for it, whether it has its permit (is building), and
/// the handle to drop it while it waits for one.
type PastBuild = (
    futures_util::future::Shared<
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Arc<Atlas>, ApiError>> + Send>>,
    >,
    Arc<std::sync::atomic::AtomicBool>,
    tokio::task::AbortHandle,
);

struct PastSlot {
    generation: i32,
    build: PastBuild,
    /// The atlas's estimated memory once built.
    bytes: Option<usize>,
}

/// The estimated heap memory of an atlas: its index and its features' coordinates and
/// attributes.
pub fn atlas_heap_bytes(atlas: &Atlas) -> usize {
    let set = atlas.features();
    // Per feature: the struct, its strings and attributes (a generous flat estimate).
    let per_feature = std::mem::size_of::<crate::model::Feature>() + 512;
    atlas.index_heap_bytes()
        + set.position_count() * std::mem::size_of::<geo::Coord<f64>>()
        + set.len() * per_feature
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
        let atlas = atlas.with_tile_cache_bytes(config.tile_cache_bytes);
        let turns = store.as_ref().map_or(1, |s| s.connections()).max(1);
        AppState {
            inner: Arc::new(Inner {
                atlas: ArcSwap::from_pointee(atlas),
                registers: ArcSwap::from_pointee(crate::service::assets::Registers::empty()),
                metrics: metrics_handle(),
                store,
                reload: std::sync::Mutex::new(()),
                past: PastAtlases {
                    slots: std::sync::Mutex::new(Vec::new()),
                    builds: Arc::new(tokio::sync::Semaphore::new(config.past_atlas_builds.max(1))),
                    started: Arc::new(std::sync::atomic::AtomicU64::new(0)),
                },
                store_turns: Arc::new(tokio::sync::Semaphore::new(turns)),
                token_uses: crate::service::access::TokenUses::default(),
                events: crate::service::events::Bus::default(),
                event_streams: Arc::new(tokio::sync::Semaphore::new(config.max_event_streams)),
                photos: OnceLock::new(),
                config,
            }),
        }
    }

    /// The store, or 503 when the server runs without one (`--data`).
    /// Token uses noted and not yet written (see [`crate::service::access::TokenUses`]).
    pub fn token_uses(&self) -> &crate::service::access::TokenUses {
        &self.inner.token_uses
    }

    pub fn store(&self) -> Result<Arc<dyn Store>, ApiError> {
        self.inner
            .store
            .clone()
            .ok_or_else(|| ApiError::unavailable("this server serves a file (--data) and has no store: drafts, generations and tokens are unavailable"))
    }

    /// Runs `f` (a service call: database, parsing, validation) on the blocking pool once the
    /// store has a free connection. At most as many calls run as the store has connections;
    /// the others wait here, as futures and not as blocking threads, for at most
    /// [`ServeConfig::store_wait`], then are answered 503 `busy` with Retry-After. Without this
    /// gate a burst beyond what the store serves piles up as blocking threads (up to tokio's
    /// 512), each holding its request, and every answer comes late.
    pub(crate) async fn blocking<T: Send + 'static, E: Into<ApiError> + Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, E> + Send + 'static,
    ) -> ApiResult<T> {
        let wait = self.inner.config.store_wait;
        let turn = match tokio::time::timeout(wait, self.inner.store_turns.clone().acquire_owned())
            .await
        {
            Ok(Ok(turn)) => turn,
            Ok(Err(_)) => return Err(ApiError::internal("the store semaphore is closed")),
            Err(_) => {
                metrics::counter!("gridatlas_store_busy_total").increment(1);
                return Err(store_busy(wait));
            }
        };
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            f()
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(Into::into)
    }

    /// The atlas of generation `n`: the live one, a cached past one, or built from the store —
    /// once for all the requests asking for it at once, within the build limit and the memory
    /// budget of [`PastAtlases`]. A request that waits longer than `past_atlas_wait` for its
    /// turn gets 503 (slug `busy`, with `retry_after_s`); the build goes on for the next one.
    pub async fn atlas_of(&self, n: i32) -> Result<Arc<Atlas>, ApiError> {
        let live = self.atlas();
        if live.generation() == Some(i64::from(n)) {
            return Ok(live);
        }
        let build = {
            let mut slots = self
                .inner
                .past
                .slots
                .lock()
                .map_err(|_| ApiError::internal("the past-atlas cache lock is poisoned"))?;
            match slots.iter().position(|s| s.generation == n) {
                Some(i) => {
                    let slot = slots.remove(i);
                    let build = slot.build.clone();
                    slots.insert(0, slot);
                    build
                }
                None => {
                    let build = self.past_build(n);
                    slots.insert(
                        0,
                        PastSlot {
                            generation: n,
                            build: build.clone(),
                            bytes: None,
                        },
                    );
                    build
                }
            }
        };
        let wait = self.config().past_atlas_wait;
        let result = match tokio::time::timeout(wait, build.0.clone()).await {
            Ok(r) => r,
            // Still waiting for its turn: 503, and the queued build is dropped (a client asking
            // for many generations queues no work beyond its patience).
            Err(_) if !build.1.load(std::sync::atomic::Ordering::Acquire) => {
                build.2.abort();
                if let Ok(mut slots) = self.inner.past.slots.lock() {
                    slots.retain(|s| !(s.generation == n && s.build.0.ptr_eq(&build.0)));
                }
                return Err(busy(wait));
            }
            // Building: wait for it (the edge's request timeout bounds the wait).
            Err(_) => build.0.clone().await,
        };
        let mut slots = self
            .inner
            .past
            .slots
            .lock()
            .map_err(|_| ApiError::internal("the past-atlas cache lock is poisoned"))?;
        let mine = |s: &PastSlot| s.generation == n && s.build.0.ptr_eq(&build.0);
        match &result {
            // A failed build is not kept: the next request tries again.
            Err(_) => slots.retain(|s| !mine(s)),
            Ok(atlas) => {
                if let Some(slot) = slots.iter_mut().find(|s| mine(s)) {
                    slot.bytes.get_or_insert_with(|| atlas_heap_bytes(atlas));
                }
                // Most recently used first: keep built atlases while they fit the budget (one
                // larger than the whole budget is answered but not kept); builds in flight stay.
                let budget = self.config().past_atlas_budget_bytes;
                let mut used = 0usize;
                slots.retain(|s| match s.bytes {
                    None => true,
                    Some(b) => {
                        used = used.saturating_add(b);
                        used <= budget
                    }
                });
                metrics::gauge!("gridatlas_past_atlas_bytes").set(used.min(budget) as f64);
            }
        }
        result
    }

    /// The shared build of the atlas of generation `n`: waits for a build permit (as long as
    /// anyone waits for the build), then loads and builds on the blocking pool.
    fn past_build(&self, n: i32) -> PastBuild {
        use futures_util::FutureExt;
        use std::sync::atomic::Ordering;
        let store = self.store();
        let permits = self.inner.past.builds.clone();
        let building = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = building.clone();
        // Not the state itself: the slot holding this future lives in the state.
        let started = self.inner.past.started.clone();
        // A task of its own: it waits for its permit whether or not anyone polls it (a permit
        // handed to a waiter nobody polls would block every other build).
        let task = tokio::spawn(async move {
            let store = store?;
            let permit = permits
                .acquire_owned()
                .await
                .map_err(|_| ApiError::internal("the past-atlas build semaphore is closed"))?;
            flag.store(true, Ordering::Release);
            started.fetch_add(1, Ordering::Relaxed);
            // The permit goes with the build: released when it ends, whoever still waits.
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                let t = Instant::now();
                let set = store.load_generation(n).map_err(ApiError::internal)?;
                let atlas = Atlas::build(set).with_generation(i64::from(n));
                tracing::info!(
                    generation = n,
                    elapsed_ms = t.elapsed().as_millis() as u64,
                    "past generation built for `at=`"
                );
                Ok(Arc::new(atlas))
            })
            .await
            .map_err(ApiError::internal)?
        });
        let abort = task.abort_handle();
        let fut: std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<Arc<Atlas>, ApiError>> + Send>,
        > = Box::pin(async move {
            match task.await {
                Ok(r) => r,
                Err(e) if e.is_cancelled() => Err(busy(Duration::ZERO)),
                Err(e) => Err(ApiError::internal(e)),
            }
        });
        (fut.shared(), building, abort)
    }

    /// How many atlases of past generations this state has started building.
    pub fn past_atlas_builds(&self) -> u64 {
        self.inner
            .past
            .started
            .load(std::sync::atomic::Ordering::Relaxed)
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
        // Lookups are served from the new atlas already; its tile geometry is built here, off
        // the request path (a tile request meanwhile waits for it rather than building it too).
        self.atlas().prepare_tiles();
        tracing::info!(
            generation = n,
            elapsed_ms = t.elapsed().as_millis() as u64,
            "new generation served"
        );
        Ok(())
    }

    /// The component and shop registers in memory.
    pub fn registers(&self) -> Arc<crate::service::assets::Registers> {
        self.inner.registers.load_full()
    }

    /// Loads the registers from the store and swaps them in. Blocking: call from a blocking
    /// thread (or before serving).
    pub fn reload_registers(&self) -> Result<(), ApiError> {
        self.reload_register(Register::Both)
    }

    /// Loads one register (or both) from the store again and swaps it in; the other keeps its
    /// index. Blocking.
    pub fn reload_register(&self, which: Register) -> Result<(), ApiError> {
        let store = self.store()?;
        let _guard = self
            .inner
            .reload
            .lock()
            .map_err(|_| ApiError::internal("the reload lock is poisoned"))?;
        let t = Instant::now();
        let now = self.inner.registers.load_full();
        let registers = match which {
            Register::Both => crate::service::assets::Registers::load(store.as_ref())?,
            Register::Components => now.with_components(store.as_ref())?,
            Register::Shops => now.with_shops(store.as_ref())?,
            Register::Classes => now.with_classes(store.as_ref())?,
        };
        tracing::info!(
            components = registers.component_count(),
            shops = registers.shop_count(),
            elapsed_ms = t.elapsed().as_millis() as u64,
            "registers loaded"
        );
        self.inner.registers.store(Arc::new(registers));
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
        let atlas = atlas.with_tile_cache_bytes(self.config().tile_cache_bytes);
        if let Some(g) = atlas.generation() {
            metrics::gauge!("gridatlas_generation").set(g as f64);
        }
        let generation = atlas.generation();
        self.inner.atlas.store(Arc::new(atlas));
        if let Some(generation) = generation {
            self.events()
                .publish(crate::service::events::Change::Published { generation });
        }
    }

    /// The live events of this process (`GET /api/v1/events`).
    pub fn events(&self) -> &crate::service::events::Bus {
        &self.inner.events
    }

    /// Publishes a case's change on the live events.
    pub fn announce_case(&self, case: &crate::cases::Case) {
        self.events()
            .publish(crate::service::events::Change::Case(Box::new(case.clone())));
    }

    /// Runs the escalation sweep ([`crate::service::cases::sweep`]) and announces each case it
    /// escalated on the live events; returns how many. Blocking: call from a blocking thread.
    pub fn sweep_cases(&self, now: chrono::DateTime<chrono::Utc>) -> Result<usize, ApiError> {
        let store = self.store()?;
        let escalated = crate::service::cases::sweep(store.as_ref(), now)?;
        for case in &escalated {
            self.announce_case(case);
        }
        Ok(escalated.len())
    }

    /// A turn to hold an event stream open (`None`: `max_event_streams` are open).
    pub fn event_stream_turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.inner.event_streams.clone().try_acquire_owned().ok()
    }

    /// The photo store, opened on first use on the current Tokio runtime (its calls run there
    /// from the blocking pool); 503 when none is configured or it cannot be opened (the cause
    /// logged once).
    pub fn photos(&self) -> Result<Arc<crate::store::objects::Objects>, ApiError> {
        let opened = self.inner.photos.get_or_init(|| {
            let spec = self
                .inner
                .config
                .photo_store
                .as_ref()
                .ok_or_else(|| "no photo store is configured".to_owned())?;
            let runtime = tokio::runtime::Handle::try_current().map_err(|e| e.to_string())?;
            match crate::store::objects::Objects::open(spec, runtime) {
                Ok(o) => {
                    tracing::info!(store = %o.describe(), "photo store opened");
                    Ok(Arc::new(o))
                }
                Err(e) => {
                    tracing::error!(error = %e, "the photo store cannot be opened");
                    Err(e.to_string())
                }
            }
        });
        opened.clone().map_err(|e| {
            ApiError::unavailable(format!("photos are unavailable on this server: {e}"))
        })
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

/// 503 `busy`: an `at=` request waited `wait` for its turn to build an atlas.
fn busy(wait: Duration) -> ApiError {
    ApiError {
        status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
        slug: "busy",
        title: "Server busy",
        detail: format!(
            "the atlas of this past generation is being built or waits its turn (waited {} s); try again shortly",
            wait.as_secs_f64()
        ),
        extra: Some(serde_json::json!({"retry_after_s": BUSY_RETRY_AFTER_S})),
    }
}

/// 503 `busy`: a request waited `wait` for a store connection.
fn store_busy(wait: Duration) -> ApiError {
    ApiError {
        status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
        slug: "busy",
        title: "Server busy",
        detail: format!(
            "every database connection is in use and this request waited {} s for one; try again shortly",
            wait.as_secs_f64()
        ),
        extra: Some(serde_json::json!({"retry_after_s": STORE_RETRY_AFTER_S})),
    }
}

/// The `Retry-After` of a `busy` answer for a store connection, seconds.
pub const STORE_RETRY_AFTER_S: u64 = 1;

/// The `Retry-After` of a `busy` answer, seconds.
pub const BUSY_RETRY_AFTER_S: u64 = 5;

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

/// Every route of the service, behind the [`edge::Edge`] (rate limit, per-route body limit and
/// token check, timeouts, metrics). Serve it with [`serve::serve`] (as `gridatlas serve` does):
/// connection limits and timeouts, and the client address the rate limit needs.
pub fn router(state: AppState) -> edge::Edge {
    router_with(state, true)
}

/// A route: its template, its handlers, and the [`edge::Policy`] of each method taking a body.
type RouteEntry = (
    &'static str,
    MethodRouter<AppState>,
    Vec<(axum::http::Method, edge::Policy)>,
);

/// [`router`], with the edge's lookup fast path on or off (both must answer alike: tested).
fn router_with(state: AppState, fast_lookup: bool) -> edge::Edge {
    use auth::Role;
    use axum::http::Method;
    use edge::Policy;
    let config = state.config();
    let upload = config.max_body_bytes;
    // Full paths merged into the root rather than nested under /api/v1: nesting strips the
    // prefix from every request's URI (a new URI per request).
    let api: Vec<RouteEntry> = vec![
        (
            "/api/v1/lookup",
            get(lookup::get_lookup).post(lookup::post_lookup),
            // NDJSON streams up to the upload limit; a JSON batch has its own, smaller bound
            // (see `lookup::json_batch_limit`).
            vec![(Method::POST, Policy::body(upload))],
        ),
        ("/api/v1/areas", get(areas::list), vec![]),
        ("/api/v1/areas/{code}", get(areas::one), vec![]),
        (
            "/api/v1/areas/{code}/children",
            get(areas::children),
            vec![],
        ),
        ("/api/v1/tiles.json", get(tiles::tilejson), vec![]),
        ("/api/v1/tiles/{z}/{x}/{y}", get(tiles::tile), vec![]),
        (
            "/api/v1/drafts",
            post(drafts::create),
            vec![(Method::POST, Policy::with_roles(upload, &[Role::Planner]))],
        ),
        (
            "/api/v1/drafts/inspect",
            post(drafts::inspect),
            vec![(Method::POST, Policy::with_roles(upload, &[Role::Planner]))],
        ),
        ("/api/v1/drafts/{id}", get(drafts::get_draft), vec![]),
        ("/api/v1/drafts/{id}/report", get(drafts::report), vec![]),
        (
            "/api/v1/drafts/{id}/report/export",
            get(drafts::export_findings),
            vec![],
        ),
        (
            "/api/v1/drafts/{id}/export",
            get(drafts::export_draft),
            vec![],
        ),
        (
            "/api/v1/generations/{a}/export",
            get(drafts::export_generation),
            vec![],
        ),
        (
            "/api/v1/drafts/{id}/publish",
            post(drafts::publish),
            vec![(
                Method::POST,
                Policy::with_roles(limits::SMALL_BODY, &[Role::Planner]),
            )],
        ),
        ("/api/v1/generations", get(drafts::generations), vec![]),
        (
            "/api/v1/generations/{a}/diff/{b}",
            get(drafts::diff),
            vec![],
        ),
        (
            "/api/v1/categories",
            get(cases::list_categories).put(cases::put_categories),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::TASK_LIST_BODY, &[Role::Admin]),
            )],
        ),
        (
            "/api/v1/cases",
            get(cases::list).post(cases::create),
            vec![(
                Method::POST,
                Policy::with_roles(limits::CASE_BODY, &crate::service::cases::REPORTERS),
            )],
        ),
        ("/api/v1/cases/stats", get(cases::stats), vec![]),
        ("/api/v1/cases/{id}", get(cases::one), vec![]),
        (
            "/api/v1/cases/{id}/photos",
            get(photos::list).post(photos::upload),
            vec![(
                Method::POST,
                Policy::with_roles(
                    photos::body_limit(config.photo_limits.max_bytes),
                    &crate::service::photos::PHOTO_ROLES,
                ),
            )],
        ),
        (
            "/api/v1/cases/{id}/photos/{photo}",
            get(photos::one),
            vec![],
        ),
        (
            "/api/v1/cases/{id}/photos/{photo}/thumb",
            get(photos::thumb),
            vec![],
        ),
        (
            "/api/v1/cases/{id}/events",
            post(cases::add_event),
            vec![(
                Method::POST,
                Policy::with_roles(limits::SMALL_BODY, &cases::ACTORS),
            )],
        ),
        (
            "/api/v1/cases/{id}/feedback",
            post(cases::give_feedback),
            vec![(Method::POST, Policy::body(limits::SMALL_BODY))],
        ),
        ("/api/v1/queue", get(cases::queue), vec![]),
        (
            "/api/v1/calendar",
            get(cases::get_calendar).put(cases::put_calendar),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::SMALL_BODY, &[Role::Admin]),
            )],
        ),
        (
            "/api/v1/indicators",
            get(assessment::get_indicators),
            vec![],
        ),
        (
            "/api/v1/indicators/persons",
            get(assessment::get_persons),
            vec![],
        ),
        (
            "/api/v1/indicators.csv",
            get(assessment::get_indicators_csv),
            vec![],
        ),
        (
            "/api/v1/indicators.xlsx",
            get(assessment::get_indicators_xlsx),
            vec![],
        ),
        ("/api/v1/ranking", get(assessment::get_ranking), vec![]),
        (
            "/api/v1/ranking.csv",
            get(assessment::get_ranking_csv),
            vec![],
        ),
        (
            "/api/v1/ranking.xlsx",
            get(assessment::get_ranking_xlsx),
            vec![],
        ),
        (
            "/api/v1/scoring",
            get(assessment::get_scoring).put(assessment::put_scoring),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::SMALL_BODY, &[Role::Admin]),
            )],
        ),
        (
            "/api/v1/reviews",
            get(review::list).post(review::create),
            vec![(
                Method::POST,
                Policy::with_roles(limits::REVIEW_BODY, &crate::service::review::MANAGERS),
            )],
        ),
        ("/api/v1/reviews/{id}", get(review::one), vec![]),
        (
            "/api/v1/reviews/{id}/assignments",
            post(review::assign),
            vec![(
                Method::POST,
                Policy::with_roles(limits::REVIEW_BODY, &crate::service::review::MANAGERS),
            )],
        ),
        (
            "/api/v1/reviews/{id}/cases/{case_id}",
            get(review::case),
            vec![],
        ),
        (
            "/api/v1/reviews/{id}/cases/{case_id}/score",
            put(review::score),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::SMALL_BODY, &[Role::Reviewer]),
            )],
        ),
        ("/api/v1/reviews/{id}/results", get(review::results), vec![]),
        (
            "/api/v1/reviews/{id}/close",
            post(review::close),
            vec![(
                Method::POST,
                Policy::with_roles(limits::SMALL_BODY, &crate::service::review::MANAGERS),
            )],
        ),
        (
            "/api/v1/review-rubric",
            get(review::get_rubric).put(review::put_rubric),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::SMALL_BODY, &[Role::Admin]),
            )],
        ),
        (
            "/api/v1/field-settings",
            get(field::get_settings).put(field::put_settings),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::SMALL_BODY, &[Role::Admin]),
            )],
        ),
        (
            "/api/v1/staff",
            get(field::get_staff).put(field::put_staff),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::ROSTER_BODY, &[Role::Admin, Role::Dispatcher]),
            )],
        ),
        (
            "/api/v1/duty",
            get(field::get_duty).put(field::put_duty),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::ROSTER_BODY, &[Role::Admin, Role::Dispatcher]),
            )],
        ),
        ("/api/v1/events", get(events::stream), vec![]),
        (
            "/api/v1/checkins",
            get(field::get_checkins).post(field::post_checkin),
            vec![(
                Method::POST,
                Policy::with_roles(limits::SMALL_BODY, &[Role::GridWorker, Role::Admin]),
            )],
        ),
        ("/api/v1/attendance", get(field::get_attendance), vec![]),
        ("/api/v1/tracks", get(field::get_tracks), vec![]),
        ("/api/v1/tracks.gpx", get(field::get_tracks_gpx), vec![]),
        ("/api/v1/staff.csv", get(field::get_staff_csv), vec![]),
        ("/api/v1/geofence", get(field::get_geofence), vec![]),
        ("/api/v1/coverage", get(field::get_coverage), vec![]),
        (
            "/api/v1/fixes",
            post(field::post_fixes),
            vec![(
                Method::POST,
                Policy::with_roles(
                    limits::FIXES_BODY,
                    &[Role::GridWorker, Role::Dispatcher, Role::Admin],
                ),
            )],
        ),
        ("/api/v1/my-shift", get(field::get_my_shift), vec![]),
        (
            "/api/v1/asset-settings",
            get(assets::get_settings).put(assets::put_settings),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::SMALL_BODY, &[Role::Admin]),
            )],
        ),
        (
            "/api/v1/component-classes",
            get(assets::get_classes).put(assets::put_classes),
            vec![(
                Method::PUT,
                Policy::with_roles(limits::SMALL_BODY, &[Role::Admin]),
            )],
        ),
        (
            "/api/v1/components",
            get(assets::list_components)
                .put(assets::put_components)
                .post(assets::post_components),
            vec![
                (
                    Method::PUT,
                    Policy::with_roles(limits::REGISTER_BODY, &[Role::Admin]),
                ),
                (
                    Method::POST,
                    Policy::with_roles(
                        limits::REGISTER_BODY,
                        &[Role::Admin, Role::Planner, Role::Dispatcher],
                    ),
                ),
            ],
        ),
        (
            "/api/v1/components/near",
            get(assets::components_near),
            vec![],
        ),
        (
            "/api/v1/components/{code}",
            get(assets::one_component),
            vec![],
        ),
        (
            "/api/v1/shops",
            get(assets::list_shops)
                .put(assets::put_shops)
                .post(assets::post_shops),
            vec![
                (
                    Method::PUT,
                    Policy::with_roles(limits::REGISTER_BODY, &[Role::Admin]),
                ),
                (
                    Method::POST,
                    Policy::with_roles(
                        limits::REGISTER_BODY,
                        &[Role::Admin, Role::Planner, Role::Dispatcher],
                    ),
                ),
            ],
        ),
        ("/api/v1/shops/{id}", get(assets::one_shop), vec![]),
        (
            "/api/v1/shops/{id}/frontage",
            put(assets::put_frontage),
            vec![(
                Method::PUT,
                Policy::with_roles(
                    limits::SMALL_BODY,
                    &[Role::Admin, Role::Dispatcher, Role::GridWorker],
                ),
            )],
        ),
        (
            "/api/v1/shops/{id}/inspections",
            post(assets::post_inspection),
            vec![(
                Method::POST,
                Policy::with_roles(
                    limits::SMALL_BODY,
                    &[Role::Admin, Role::Dispatcher, Role::GridWorker],
                ),
            )],
        ),
        ("/api/v1/frontage", get(assets::frontage_at), vec![]),
        ("/api/v1/tokens/self", get(tokens::token_self), vec![]),
        ("/api/v1/config", get(meta::config), vec![]),
        ("/api/v1/openapi.json", get(meta::openapi), vec![]),
    ];
    let rest: Vec<RouteEntry> = vec![
        // Open311 GeoReport v2: public by the spec (writes carry an `api_key` in the form body,
        // so the token is checked by the handler, after the small body is read).
        (
            "/open311/v2/{file}",
            get(open311::root_get).post(open311::post_request),
            vec![(Method::POST, Policy::body(limits::SMALL_BODY))],
        ),
        (
            "/open311/v2/services/{file}",
            get(open311::service_definition),
            vec![],
        ),
        (
            "/open311/v2/requests/{file}",
            get(open311::get_request),
            vec![],
        ),
        ("/api/v1/{*rest}", any(fallback_404), vec![]),
        ("/healthz", get(meta::healthz), vec![]),
        ("/readyz", get(meta::readyz), vec![]),
        ("/metrics", get(meta::metrics), vec![]),
        ("/avatars/{file}", get(web::avatar), vec![]),
        ("/", get(web::index), vec![]),
        ("/portal", get(web::portal), vec![]),
        ("/m", get(web::phone), vec![]),
        ("/report", get(web::report), vec![]),
        ("/qr.svg", get(qr::get_qr), vec![]),
        ("/{*path}", get(web::asset), vec![]),
    ];
    // Every template is also the `route` label of the metrics and carries the edge's policies:
    // one list for the router, the metrics and the limits.
    let table = api
        .iter()
        .chain(&rest)
        .map(|(path, _, policies)| (*path, policies.clone()))
        .collect();
    let mut api_router = Router::new();
    for (path, m, _) in api {
        api_router = api_router.route(path, m);
    }
    // With public reads the check would pass every request: leave it out of the stack.
    if !config.public_reads {
        api_router =
            api_router.route_layer(middleware::from_fn_with_state(state.clone(), reads_auth));
    }
    let mut r = Router::new().merge(api_router);
    for (path, m, _) in rest {
        r = r.route(path, m);
    }
    let edge = edge::EdgeConfig {
        state: state.clone(),
        // With private reads the router's token check must run: no fast path.
        fast_lookup: fast_lookup && config.public_reads,
        routes: edge::RouteTable::with_policies(table),
        timeout: config.request_timeout,
        body_idle_timeout: config.body_idle_timeout,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A burst beyond the store's connections waits for a turn as a future, and past
    /// `store_wait` is answered 503 `busy` with Retry-After, while the calls that have a turn
    /// finish; once a turn is free the next call runs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_beyond_the_store_connections_are_answered_busy() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("gate.db");
        let store: Arc<dyn Store> =
            Arc::from(crate::store::open(&path.to_string_lossy()).expect("store"));
        let turns = store.connections();
        assert!(turns >= 1);
        let config = ServeConfig {
            store_wait: Duration::from_millis(100),
            ..ServeConfig::default()
        };
        let state = AppState::with_store(
            Atlas::build(crate::model::FeatureSet::default()),
            config,
            Some(store),
        );
        // Every turn taken by a call that waits for its release.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(std::sync::Mutex::new(held));
        let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut holders = Vec::new();
        for _ in 0..turns {
            let (state, held, started_tx) = (state.clone(), held.clone(), started_tx.clone());
            holders.push(tokio::spawn(async move {
                state
                    .blocking(move || {
                        let _ = started_tx.send(());
                        let rx = held.lock().map_err(|_| ApiError::internal("poisoned"))?;
                        rx.recv().map_err(ApiError::internal)?;
                        Ok::<_, ApiError>(())
                    })
                    .await
            }));
        }
        for _ in 0..turns {
            started.recv().await.expect("a holder started");
        }
        let t = Instant::now();
        let refused = state
            .blocking(|| Ok::<_, ApiError>(()))
            .await
            .expect_err("no turn is free");
        assert!(
            t.elapsed() >= Duration::from_millis(100),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(refused.status, axum::http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.slug, "busy");
        let resp = refused.into_response();
        assert_eq!(
            resp.headers()
                .get(axum::http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some(STORE_RETRY_AFTER_S.to_string().as_str())
        );
        for _ in 0..turns {
            release.send(()).expect("release");
        }
        for h in holders {
            h.await.expect("join").expect("the holders finish");
        }
        assert_eq!(
            state
                .blocking(|| Ok::<_, ApiError>(7))
                .await
                .expect("a free turn"),
            7
        );
    }
}
