//! `gridatlas serve`: load the current generation, build the atlas, listen (loopback by default).

use super::{AppState, ServeConfig, router};
use crate::atlas::Atlas;
use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `gridatlas serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on. Only loopback unless you say otherwise.
    #[arg(long, env = "GRIDATLAS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Serve this GeoJSON feature file (read-only) instead of the store's current generation.
    #[arg(long)]
    pub data: Option<PathBuf>,
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
    let path = args
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from("fixtures/demo-district.geojson"));
    let t = std::time::Instant::now();
    let set =
        crate::geo_io::read_path(&path).with_context(|| format!("reading {}", path.display()))?;
    let atlas = Atlas::build(set).with_generation(1);
    tracing::info!(
        features = atlas.features().len(),
        elapsed_ms = t.elapsed().as_millis() as u64,
        "atlas ready"
    );
    let state = AppState::new(atlas, args.config());
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
        axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown())
            .await?;
        anyhow::Ok(())
    })?;
    Ok(0)
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
