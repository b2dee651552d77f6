//! Cases routed and stored per second, on a store (BENCHMARKS.md, "Cases").
//!
//! `cargo run --release --example cases_bench -- DATABASE [CASES] [THREADS]`
//!
//! DATABASE is a SQLite path or a `postgres://` URL; an empty store gets the demo district and the
//! example task list first. CASES random points inside the district (default 5,000) with random
//! categories are routed against the live atlas and stored (`Store::create_case`: one transaction
//! per case, as the API does) by THREADS threads (default 2). Prints one JSON line: route-only
//! rate, routed+stored rate, and the store's backend.

use gridatlas::atlas::Atlas;
use gridatlas::cases::{NewCase, Source};
use gridatlas::routing::{RouteOptions, route};
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .ok_or_else(|| anyhow::anyhow!("usage: cases_bench DATABASE [CASES] [THREADS]"))?;
    let n: usize = args.get(2).map_or(Ok(5000), |s| s.parse())?;
    let threads: usize = args.get(3).map_or(Ok(2), |s| s.parse())?;
    let store: Arc<dyn gridatlas::store::Store> = Arc::from(gridatlas::store::open(url)?);
    let g = match store.current_generation()? {
        Some(g) => g.number,
        None => gridatlas::http::serve::bootstrap_demo(store.as_ref())?,
    };
    gridatlas::http::serve::bootstrap_categories(store.as_ref())?;
    let cats = store.categories()?;
    let atlas = Arc::new(Atlas::build(store.load_generation(g)?).with_generation(i64::from(g)));
    let bbox = atlas
        .territory_bbox()
        .ok_or_else(|| anyhow::anyhow!("empty territory"))?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut points = Vec::with_capacity(n);
    while points.len() < n {
        let x = rng.random_range(bbox.min().x..bbox.max().x);
        let y = rng.random_range(bbox.min().y..bbox.max().y);
        let cat = rng.random_range(0..cats.len());
        if atlas.locate(x, y)[1].is_some() && cats[cat].street.is_none() {
            points.push((x, y, cat));
        }
    }
    let opts = RouteOptions::default();
    let now = chrono::Utc::now();
    let t = Instant::now();
    let mut routed = 0usize;
    for &(x, y, c) in &points {
        routed += usize::from(route(&atlas, x, y, &cats[c], now, &opts).is_ok());
    }
    let route_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let chunk = n.div_ceil(threads.max(1));
    let stored: usize = std::thread::scope(|s| {
        let handles: Vec<_> = points
            .chunks(chunk)
            .map(|part| {
                let (store, atlas, cats) = (store.clone(), atlas.clone(), &cats);
                s.spawn(move || {
                    let mut ok = 0usize;
                    for &(x, y, c) in part {
                        let Ok(assignment) = route(&atlas, x, y, &cats[c], now, &opts) else {
                            continue;
                        };
                        let new = NewCase {
                            category: cats[c].code.clone(),
                            source: Source::Patrol,
                            description: "cases_bench".into(),
                            input: (x, y, "wgs84".into()),
                            reported_at: now,
                            photos: vec![],
                            created_by: "cases_bench".into(),
                            role: "grid_worker".into(),
                            contact: None,
                            assignment,
                            limits: cats[c].limits,
                            due_at: now + chrono::Duration::hours(1),
                            feedback_sha256: None,
                        };
                        ok += usize::from(store.create_case(&new).is_ok());
                    }
                    ok
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    let store_s = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "backend": format!("{:?}", store.backend()),
            "cases": n,
            "threads": threads,
            "routed": routed,
            "route_only_per_s": (routed as f64 / route_s).round(),
            "stored": stored,
            "routed_and_stored_per_s": (stored as f64 / store_s).round(),
        })
    );
    Ok(())
}
