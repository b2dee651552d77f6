//! `gridatlas serve`: the server's arguments, turned into a [`Launch`] (listen address, what to
//! serve, [`ServeConfig`]) that [`crate::http::serve::run`] starts.

use crate::http::ratelimit::RateLimit;
use crate::http::serve::{Launch, default_max_connections};
use crate::http::{ServeConfig, open311};
use crate::store::objects::PhotoStore;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `gridatlas serve`.
#[derive(Debug, Clone, clap::Args)]
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
    /// Longest a request waits for a free database connection, milliseconds (then 503 with
    /// Retry-After: a burst beyond what the database serves is refused quickly, not queued).
    #[arg(long, default_value_t = 2000)]
    pub store_wait_ms: u64,
    /// Byte budget, in MiB, of the cache of encoded vector tiles of the generation served (0 =
    /// no cache); a publish starts an empty one.
    #[arg(long, default_value_t = 64)]
    pub tile_cache_mb: usize,
    /// Most live event streams (`GET /api/v1/events`, the portal's live view) open at once.
    #[arg(long, default_value_t = 256)]
    pub max_event_streams: usize,
    /// Require a token for reads too (lookups, areas, tiles).
    #[arg(long)]
    pub private_reads: bool,
    /// Basemap tile URL template for the web map (e.g. an OSM or Tianditu raster URL with
    /// {z}/{x}/{y}), or several drawn one over the other, separated by `|` (Tianditu's map
    /// `vec_w` and its labels `cva_w`, each with `tk=KEY`: see docs/api.md), or a MapLibre style
    /// URL; none by default, so the map works offline.
    #[arg(long, env = "GRIDATLAS_BASEMAP_URL")]
    pub basemap_url: Option<String>,
    /// Days from a case's report to its due date (the 7-day quick disposal).
    #[arg(long, default_value_t = 7)]
    pub due_in_days: u32,
    /// A new case reports open cases of its category within this many metres as possible
    /// duplicates …
    #[arg(long, default_value_t = 50.0)]
    pub duplicate_radius_m: f64,
    /// … reported at most this many hours before it.
    #[arg(long, default_value_t = 72, value_parser = clap::value_parser!(u32).range(0..=8784))]
    pub duplicate_window_h: u32,
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
    /// Hours the answer to a request sent with an `Idempotency-Key` (case intake and actions,
    /// check-ins, fix batches) is kept to be given again to a retry; older keys are purged
    /// (every minute) and a retry after that is a new request.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=8760))]
    pub idempotency_ttl_hours: u32,
    /// What public Open311 reads (no token, or a token of a role other than intake or admin)
    /// show of a service request, as a comma list: `description` (as reported; may name people
    /// or phone numbers), `location` (exact; otherwise rounded to 0.001°, about 100 m), `media`
    /// (the photo URL). Default: none of them. Reporter contact details are never shown.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub open311_public_fields: Vec<Open311Field>,
    /// Keep case photos in this directory (made when missing). Default: `photos/` beside the
    /// SQLite database file (`./photos` with PostgreSQL).
    #[arg(long, env = "GRIDATLAS_PHOTO_DIR", conflicts_with = "photo_store")]
    pub photo_dir: Option<PathBuf>,
    /// Keep case photos in S3-compatible storage: `s3://bucket/prefix` (endpoint, region and
    /// credentials from the standard AWS_* environment variables: AWS_ENDPOINT,
    /// AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP, …), or a
    /// directory (`file:///srv/photos`).
    #[arg(long, env = "GRIDATLAS_PHOTO_STORE", value_parser = parse_photo_store)]
    pub photo_store: Option<String>,
    /// Largest case photo in MiB (the upload's body may be 16 KiB more, for the form).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_photo_mb: u32,
    /// Most photos per case.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_photos_per_case: u32,
    /// Most megapixels of a case photo (checked from the image header, before decoding).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub max_photo_megapixels: u32,
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

/// A `--photo-store` value, checked ([`PhotoStore::parse`]).
fn parse_photo_store(s: &str) -> Result<String, String> {
    PhotoStore::parse(s).map(|_| s.to_owned())
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
    /// What to start.
    pub fn launch(&self) -> Launch {
        Launch {
            listen: self.listen,
            data: self.data.clone(),
            database: self.database.clone(),
            demo: self.demo,
            config: self.config(),
        }
    }

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
                duplicate_radius_m: self.duplicate_radius_m.clamp(0.0, 10_000.0),
                duplicate_window_h: self.duplicate_window_h,
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
            idempotency_ttl: Duration::from_secs(u64::from(self.idempotency_ttl_hours) * 3600),
            open311_public: open311::Open311Public {
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
            store_wait: Duration::from_millis(self.store_wait_ms.max(1)),
            max_event_streams: self.max_event_streams,
            tile_cache_bytes: self.tile_cache_mb.saturating_mul(1024 * 1024),
            photo_store: self.photo_store(),
            photo_limits: crate::service::photos::Limits {
                max_bytes: (self.max_photo_mb as usize).saturating_mul(1024 * 1024),
                max_per_case: self.max_photos_per_case as usize,
                max_pixels: u64::from(self.max_photo_megapixels) * 1_000_000,
            },
            ..ServeConfig::default()
        }
    }
}

impl ServeArgs {
    /// Where photos are kept: `--photo-store`, `--photo-dir`, or beside the database (none when
    /// serving a file: no cases).
    fn photo_store(&self) -> Option<PhotoStore> {
        if let Some(s) = self
            .photo_store
            .as_deref()
            .and_then(|s| PhotoStore::parse(s).ok())
        {
            return Some(s);
        }
        if let Some(d) = &self.photo_dir {
            return Some(PhotoStore::Dir(d.clone()));
        }
        if self.data.is_some() {
            return None;
        }
        Some(PhotoStore::beside(
            self.database
                .as_deref()
                .unwrap_or(crate::store::DEFAULT_DATABASE),
        ))
    }
}

/// Runs the server until Ctrl-C / SIGTERM.
pub fn run(args: ServeArgs) -> anyhow::Result<i32> {
    crate::http::serve::run(args.launch())
}
