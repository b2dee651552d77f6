//! `gridatlas serve`: load the current generation, build the atlas, listen (loopback by default).

use super::ratelimit::RateLimit;
use super::{AppState, ServeConfig, router};
use crate::atlas::Atlas;
use crate::store::Store;
use anyhow::Context;
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
        }
    }
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
        axum::serve(
            listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown())
        .await?;
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
    let (report, errors) = crate::store::cli::validate_for_draft(&set)?;
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
