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
use super::{AppState, ServeConfig, router};
use crate::atlas::Atlas;
use crate::store::Store;
use anyhow::Context;
use axum::extract::ConnectInfo;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What `gridatlas serve` starts: where to listen, what to serve and how.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Serve this GeoJSON feature file (read-only, no store) instead of a store.
    pub data: Option<PathBuf>,
    /// The store's URL; `None`: the embedded default store.
    pub database: Option<String>,
    /// Load the demo district and the example task list into an empty store (the default
    /// embedded store gets them anyway).
    pub demo: bool,
    /// Limits and switches.
    pub config: ServeConfig,
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
pub fn run(args: Launch) -> anyhow::Result<i32> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
    // the web map's Content-Security-Policy allows the basemap's origin: refuse one it cannot
    if let Some(url) = &args.config.basemap_url {
        super::web::basemap_origins(url).map_err(anyhow::Error::msg)?;
    }
    let t = std::time::Instant::now();
    let (state, watch) = match &args.data {
        Some(path) => {
            let set = crate::geo_io::read_path(path)
                .with_context(|| format!("reading {}", path.display()))?;
            (AppState::new(Atlas::build(set), args.config.clone()), None)
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
            if demo && current > 0 {
                crate::service::setup::bootstrap_demo_data(
                    store.as_ref(),
                    &atlas,
                    chrono::Utc::now(),
                )?;
            }
            let state = AppState::with_store(atlas, args.config.clone(), Some(store));
            state
                .reload_registers()
                .map_err(|e| anyhow::anyhow!("loading the registers: {}", e.detail))?;
            (state, Some(current))
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
        spawn_escalation_sweep(state.clone());
        spawn_field_purge(state.clone());
        spawn_token_use_flusher(state.clone());
    }
    let last_flush = state.clone();
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
    flush_token_uses(&last_flush);
    Ok(0)
}

pub use crate::service::setup::{bootstrap_categories, bootstrap_demo};

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

/// Escalates front-end cases whose front-end limit passed to the back end, counts opened
/// frontage cases on their shops' records (those not counted yet) and deletes expired
/// idempotency keys (a bounded number), at start and every minute.
fn spawn_escalation_sweep(state: AppState) {
    let spawned = std::thread::Builder::new()
        .name("escalation-sweep".into())
        .spawn(move || {
            loop {
                if let Ok(store) = state.store() {
                    match state.sweep_cases(chrono::Utc::now()) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(cases = n, "front-end limit passed: escalated"),
                        Err(e) => tracing::error!(error = %e.detail, "the escalation sweep failed"),
                    }
                    match crate::service::assets::count_opened_cases(
                        store.as_ref(),
                        chrono::Utc::now(),
                    ) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(cases = n, "opened frontage cases counted"),
                        Err(e) => tracing::error!(error = %e, "counting frontage cases failed"),
                    }
                    match crate::service::idempotency::purge(
                        store.as_ref(),
                        chrono::Utc::now(),
                        state.config().idempotency_ttl,
                    ) {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(keys = n, "expired idempotency keys deleted"),
                        Err(e) => tracing::error!(error = %e, "deleting idempotency keys failed"),
                    }
                }
                std::thread::sleep(Duration::from_secs(60));
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the escalation sweep");
    }
}

/// Deletes fixes and check-ins older than the field settings' retention, at start and every
/// hour.
fn spawn_field_purge(state: AppState) {
    let spawned = std::thread::Builder::new()
        .name("field-purge".into())
        .spawn(move || {
            loop {
                if let Ok(store) = state.store() {
                    match crate::service::field::purge(store.as_ref(), chrono::Utc::now()) {
                        Ok((0, 0)) => {}
                        Ok((chunks, checkins)) => tracing::info!(
                            track_chunks = chunks,
                            checkins,
                            "older than the retention: purged"
                        ),
                        Err(e) => tracing::error!(error = %e, "the purge of old fixes failed"),
                    }
                }
                std::thread::sleep(Duration::from_secs(3600));
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the purge of old fixes");
    }
}

/// Writes the token uses authentication noted (see [`crate::service::access::TokenUses`]), every
/// 10 s: a token's stored last use is at most 70 s behind.
fn spawn_token_use_flusher(state: AppState) {
    let spawned = std::thread::Builder::new()
        .name("token-use-flush".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(10));
                flush_token_uses(&state);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "could not start the token use flusher");
    }
}

fn flush_token_uses(state: &AppState) {
    if state.token_uses().pending() == 0 {
        return;
    }
    if let Ok(store) = state.store() {
        if let Err(e) = state.token_uses().flush(store.as_ref()) {
            tracing::warn!(error = %e.detail, "could not record the tokens' last use; retrying in 10 s");
        }
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
