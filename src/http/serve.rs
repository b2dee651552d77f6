//! `gridatlas serve`: load the current generation, build the atlas, listen (loopback by default).
//!
//! The connection loop ([`serve`]) is hyper's HTTP/1.1 server with what `axum::serve` lacks:
//!
//! 1. **A connection limit** (`--max-connections`; default half the process's open-file limit,
//!    [`default_max_connections`]): a connection is accepted only when a slot is free, so the
//!    process never runs out of descriptors; over the limit new connections wait in the
//!    kernel's listen backlog. An `accept` error (e.g. `EMFILE` from other descriptors) is
//!    logged and retried after 100 ms, never in a busy loop.
//! 2. **A header-read timeout** (`--header-timeout-s`, 10 s): a client must send a request's whole
//!    head within it, or the connection is closed. The same timer runs while an idle keep-alive
//!    connection waits for its next request, so it is also the idle timeout.
//! 3. The body-progress and request timeouts are the edge's ([`super::edge`]).
//! 4. Each request gets its peer's address (`ConnectInfo<SocketAddr>`, for the rate limit).
//! 5. Graceful shutdown: on the signal the listener closes, connections finish the request in
//!    flight and close; the loop returns when all have.

use super::edge::Edge;
use super::ratelimit::RateLimit;
use super::{AppState, ServeConfig, router};
use crate::atlas::Atlas;
use crate::store::Store;
use anyhow::Context;
use axum::extract::ConnectInfo;
use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `gridatlas serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Only loopback unless you say otherwise.
    #[arg(long, env = "GRIDATLAS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Serve this GeoJSON feature file (read-only, no store) instead of the store's current
    /// generation.
    #[arg(long, conflicts_with = "database")]
    pub data: Option<PathBuf>,
    /// The store: a SQLite file (created if missing) or `postgres://…`. Without it, the embedded
    /// store `gridatlas.db`, which gets the demo district (金山区) and the example task list on
    /// first start; a store named here gets them only with `--demo`.
    #[arg(long, env = "DATABASE_URL")]
    pub database: Option<String>,
    /// Load the demo district and the example task list into the store if it is empty (the
    /// default embedded store gets them anyway on first start).
    #[arg(long, conflicts_with = "data")]
    pub demo: bool,
    /// Largest request body in MB (uploads, batch lookups).
    #[arg(long, default_value_t = 200)]
    pub max_body_mb: usize,
    /// Most points in one JSON batch lookup.
    #[arg(long, default_value_t = 100_000)]
    pub max_batch_points: usize,
    /// Most positions in one uploaded feature.
    #[arg(long, default_value_t = 200_000)]
    pub max_positions_per_feature: usize,
    /// Longest a request may take, seconds.
    #[arg(long, default_value_t = 60)]
    pub request_timeout_s: u64,
    /// Most connections served at once (more wait in the listen backlog); 0: half the process's
    /// open-file limit (512 where it cannot be read).
    #[arg(long, default_value_t = 0)]
    pub max_connections: usize,
    /// Longest a client may take to send a request's head, seconds; also how long an idle
    /// keep-alive connection is kept.
    #[arg(long, default_value_t = 10)]
    pub header_timeout_s: u64,
    /// Longest a request body may send nothing, seconds (then 408).
    #[arg(long, default_value_t = 20)]
    pub body_idle_timeout_s: u64,
    /// Memory budget of the atlases of past generations kept for `at=` lookups, MB.
    #[arg(long, default_value_t = 512)]
    pub past_atlas_budget_mb: usize,
    /// Most atlases of past generations built at once (`at=` lookups).
    #[arg(long, default_value_t = 1)]
    pub past_atlas_builds: usize,
    /// Require a token for reads too (lookups, areas, tiles).
    #[arg(long)]
    pub private_reads: bool,
    /// Basemap tile URL template for the web map (e.g. an OSM or Tianditu raster URL with
    /// {z}/{x}/{y}); none by default, so the map works offline.
    #[arg(long, env = "GRIDATLAS_BASEMAP_URL")]
    pub basemap_url: Option<String>,
    /// Days from a case's report to its due date (the 7-day quick disposal).
    #[arg(long, default_value_t = 7)]
    pub due_in_days: u32,
    /// A case within this many metres of another grid is routed with confidence `boundary`.
    #[arg(long, default_value_t = 5.0)]
    pub boundary_tolerance_m: f64,
    /// The district's UTC offset in hours, for due dates and indicator periods (China: 8).
    #[arg(long, default_value_t = 8, allow_hyphen_values = true, value_parser = clap::value_parser!(i32).range(-12..=14))]
    pub utc_offset_h: i32,
    /// API requests per second per client address (IPv6: per /64), sustained; 0 turns the rate
    /// limit off. Over the limit: 429 with Retry-After.
    #[arg(long, default_value_t = 200)]
    pub rate_limit_rps: u32,
    /// Most API requests a client may make at once (the token bucket's size).
    #[arg(long, default_value_t = 400)]
    pub rate_limit_burst: u32,
    /// Limit clients on loopback too. Off by default: on loopback every client is this machine —
    /// typically a reverse proxy in front of gridatlas (which sees the real client addresses and
    /// is where to limit them), a benchmark or an operator's tool.
    #[arg(long)]
    pub rate_limit_loopback: bool,
    /// The public base URL clients reach this server at (e.g. `https://grid.example.gov.cn`), for
    /// the absolute URLs it hands out (TileJSON tile URLs); without it they are server-relative.
    #[arg(long, env = "GRIDATLAS_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<String>,
    /// Days an unpublished draft is kept: older drafts cannot be published and are deleted
    /// (checked at start and hourly).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub draft_ttl_days: u32,
    /// What public Open311 reads (no token, or a token of a role other than intake or admin)
    /// show of a service request, as a comma list: `description` (as reported; may name people
    /// or phone numbers), `location` (exact; otherwise rounded to 0.001°, about 100 m), `media`
    /// (the photo URL). Default: none of them. Reporter contact details are never shown.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub open311_public_fields: Vec<Open311Field>,
}

/// A field a public Open311 read may show (`--open311-public-fields`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Open311Field {
    /// The description as reported.
    Description,
    /// The exact location.
    Location,
    /// The photo URL.
    Media,
}

fn parse_public_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("{s:?}: expected http://HOST[:PORT][/PATH] or https://…"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "{s:?}: expected a base URL without query or fragment"
        ));
    }
    Ok(s.trim_end_matches('/').to_owned())
}

impl ServeArgs {
    /// The server configuration these arguments describe.
    pub fn config(&self) -> ServeConfig {
        ServeConfig {
            max_body_bytes: self.max_body_mb.saturating_mul(1024 * 1024),
            max_batch_points: self.max_batch_points,
            max_positions_per_feature: self.max_positions_per_feature,
            request_timeout: Duration::from_secs(self.request_timeout_s),
            public_reads: !self.private_reads,
            basemap_url: self.basemap_url.clone(),
            routing: crate::routing::RouteOptions {
                due_in_days: self.due_in_days,
                boundary_tolerance_m: self.boundary_tolerance_m.max(0.0),
                utc_offset: chrono::FixedOffset::east_opt(self.utc_offset_h * 3600)
                    .unwrap_or_else(crate::routing::china_standard_time),
                ..crate::routing::RouteOptions::default()
            },
            rate_limit: NonZeroU32::new(self.rate_limit_rps).map(|per_second| RateLimit {
                per_second,
                burst: NonZeroU32::new(self.rate_limit_burst).unwrap_or(per_second),
                loopback: self.rate_limit_loopback,
            }),
            public_url: self.public_url.clone(),
            draft_ttl: Duration::from_secs(u64::from(self.draft_ttl_days) * 24 * 3600),
            open311_public: super::open311::Open311Public {
                description: self
                    .open311_public_fields
                    .contains(&Open311Field::Description),
                location: self.open311_public_fields.contains(&Open311Field::Location),
                media: self.open311_public_fields.contains(&Open311Field::Media),
            },
            max_connections: match self.max_connections {
                0 => default_max_connections(),
                n => n,
            },
            header_read_timeout: Duration::from_secs(self.header_timeout_s.max(1)),
            body_idle_timeout: Duration::from_secs(self.body_idle_timeout_s.max(1)),
            past_atlas_budget_bytes: self.past_atlas_budget_mb.saturating_mul(1024 * 1024),
            past_atlas_builds: self.past_atlas_builds.max(1),
            ..ServeConfig::default()
        }
    }
}

/// The default connection limit: half the soft open-file limit of the process (read from
/// `/proc/self/limits`), at least 64; 512 where the limit cannot be read. The other half is left
/// for the store's connections, files and the blocking pool.
pub fn default_max_connections() -> usize {
    open_file_limit().map_or(512, |n| (n / 2).max(64))
}

/// The soft `RLIMIT_NOFILE` of this process, if known.
fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Serves `edge` on `listener` until `shutdown` completes, with the connection limit and the
/// header-read timeout of `config` (see the module documentation); then lets the connections
/// finish their request in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    edge: Edge,
    config: &ServeConfig,
    shutdown: impl Future<Output = ()>,
) {
    // (Bounded so that all slots can be taken back at once at shutdown.)
    let max = config.max_connections.clamp(1, 1 << 24);
    let slots = Arc::new(tokio::sync::Semaphore::new(max));
    let header_timeout = config.header_read_timeout;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first: over the limit, connections wait in the backlog, not in memory.
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    drop(permit);
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionRefused
                            | std::io::ErrorKind::ConnectionAborted
                            | std::io::ErrorKind::ConnectionReset
                    ) {
                        // EMFILE and the like: wait for descriptors to free up, do not spin.
                        tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        let edge = edge.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = permit;
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    tower::Service::call(&mut edge.clone(), req)
                },
            );
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let stopping = async move {
                let _ = stop.wait_for(|&s| s).await;
            };
            let result = tokio::select! {
                r = conn.as_mut() => r,
                () = stopping => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every slot back: every connection has finished.
    let _ = slots.acquire_many(max as u32).await;
}

/// Runs the server until Ctrl-C / SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<i32> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .try_init();
    // the web map's Content-Security-Policy allows the basemap's origin: refuse one it cannot
    if let Some(url) = &args.basemap_url {
        super::web::basemap_origin(url).map_err(anyhow::Error::msg)?;
    }
    let t = std::time::Instant::now();
    let (state, watch) = match &args.data {
        Some(path) => {
            let set = crate::geo_io::read_path(path)
                .with_context(|| format!("reading {}", path.display()))?;
            (AppState::new(Atlas::build(set), args.config()), None)
        }
        None => {
            // The first-run demo is for the default embedded store (the README's first command)
            // or when asked; a production database named by the operator starts empty.
            let demo = args.demo || args.database.is_none();
            let url = args
                .database
                .clone()
                .unwrap_or_else(|| crate::store::DEFAULT_DATABASE.to_owned());
            let store: Arc<dyn Store> = Arc::from(
                crate::store::open(&url)
                    .with_context(|| format!("opening {}", crate::store::redact_url(&url)))?,
            );
            let current = match store.current_generation()? {
                Some(g) => g.number,
                None if demo => bootstrap_demo(store.as_ref())?,
                None => {
                    tracing::warn!(
                        "the store has no generation yet: lookups answer nothing until a draft is imported and published (or start once with --demo for the demo district)"
                    );
                    0
                }
            };
            if demo {
                bootstrap_categories(store.as_ref())?;
            }
            let atlas = if current > 0 {
                Atlas::build(store.load_generation(current)?).with_generation(i64::from(current))
            } else {
                Atlas::build(crate::model::FeatureSet::default())
            };
            (
                AppState::with_store(atlas, args.config(), Some(store)),
                Some(current),
            )
        }
    };
    tracing::info!(
        features = state.atlas().features().len(),
        generation = state.atlas().generation(),
        elapsed_ms = t.elapsed().as_millis() as u64,
        "atlas ready"
    );
    if let Some(current) = watch {
        spawn_watcher(state.clone(), current);
        spawn_draft_purger(state.clone());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, "gridatlas serving: open http://{addr}/");
        println!("gridatlas listening on http://{addr}/");
        let config = state.config().clone();
        tracing::info!(
            max_connections = config.max_connections,
            header_timeout_s = config.header_read_timeout.as_secs(),
            "connection limits"
        );
        serve(listener, router(state), &config, shutdown()).await;
        anyhow::Ok(())
    })?;
    Ok(0)
}

/// The demo district, embedded so that a fresh store needs nothing else.
const DEMO: &[u8] = include_bytes!("../../fixtures/demo-district.geojson");

/// Imports and publishes the demo district into an empty store; returns its generation.
pub fn bootstrap_demo(store: &dyn Store) -> anyhow::Result<i32> {
    tracing::info!("empty store: loading the demo district (金山区) as generation 1");
    let set = crate::geo_io::read_slice(DEMO).context("reading the embedded demo district")?;
    let (report, errors) = crate::validate::draft_report(&set)?;
    let id = store.create_draft(crate::store::NewDraft {
        features: &set,
        covered_streets: None,
        report,
        error_count: errors,
        created_by: "gridatlas (demo district)",
    })?;
    let g = store.publish(id, "gridatlas (demo district)", None)?;
    Ok(g.number)
}

/// Loads the example task list (fixtures/task-list.example.json) into a store without categories.
pub fn bootstrap_categories(store: &dyn Store) -> anyhow::Result<()> {
    if store.categories()?.is_empty() {
        let cats = crate::routing::categories::parse_task_list(
            crate::routing::categories::EXAMPLE_TASK_LIST,
        )
        .map_err(|p| anyhow::anyhow!("the embedded example task list: {}", p.join("; ")))?;
        tracing::info!(
            categories = cats.len(),
            "no case categories: loading the example task list"
        );
        store.replace_categories(&cats)?;
    }
    Ok(())
}

/// Deletes unpublished drafts older than the configured time to live, at start and hourly.
fn spawn_draft_purger(state: AppState) {
    let spawned = std::thread::Builder::new()
        .name("draft-purge".into())
        .spawn(move || {
            loop {
                if let Ok(store) = state.store() {
                    let ttl = chrono::Duration::from_std(state.config().draft_ttl)
                        .unwrap_or(chrono::Duration::MAX);
                    let before = chrono::Utc::now()
                        .checked_sub_signed(ttl)
                        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
                    match store.purge_drafts(before) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(drafts = n, "expired drafts deleted"),
                        Err(e) => tracing::error!(error = %e, "deleting expired drafts failed"),
                    }
                }
                std::thread::sleep(Duration::from_secs(3600));
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the draft purger");
    }
}

/// Follows publishes by any process on the same store (LISTEN/NOTIFY on PostgreSQL, polling on
/// SQLite) and swaps each new generation in.
fn spawn_watcher(state: AppState, after: i32) {
    let spawned = std::thread::Builder::new().name("generation-watch".into()).spawn(move || {
        loop {
            let Ok(store) = state.store() else { return };
            let result = store.watch(Some(after.max(state.atlas().generation().map_or(0, |g| g as i32))), &mut |event| {
                if let crate::store::WatchEvent::Published(info) = event {
                    if let Err(e) = state.reload_from_store(info.number) {
                        tracing::error!(error = %e, generation = info.number, "reloading a new generation failed");
                    }
                }
                true
            });
            if let Err(e) = result {
                tracing::warn!(error = %e, "generation watch failed; retrying in 1 s");
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the generation watcher");
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
