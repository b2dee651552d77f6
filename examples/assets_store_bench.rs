//! Times the component register of a store at district scale.
//!
//! `assets_store_bench DATABASE [N]` generates N components (500,000 unless told) spread over a
//! district-sized box, and prints one JSON line of timings in milliseconds: the whole register
//! written in one `put_components(All)`, written again over itself (a re-import), read back
//! whole with `all_components` (the start-up load of the index), and a page of a box query.
//! DATABASE is a SQLite path or a `postgres://` URL; its component register is replaced.

use gridatlas::assets::{Component, ComponentState};
use gridatlas::store::{self, ComponentQuery, RegisterScope};
use std::time::Instant;

/// Components with valid-looking codes (district 310116, 6 classes × 20 subclasses, serials),
/// on a jittered lattice over about 20 km × 20 km, every fifth with attributes.
fn components(n: usize) -> Vec<Component> {
    let side = (n as f64).sqrt().ceil() as usize;
    (0..n)
        .map(|i| {
            let class = 1 + i % 6;
            let sub = 1 + (i / 6) % 20;
            let serial = i / 120;
            let jitter = ((i.wrapping_mul(2_654_435_761) % 1000) as f64) / 1000.0;
            let mut attributes = serde_json::Map::new();
            if i % 5 == 0 {
                attributes.insert("材质".into(), serde_json::json!("铸铁"));
                attributes.insert("口径".into(), serde_json::json!(700));
            }
            Component {
                code: format!("310116{class:02}{sub:02}{serial:06}"),
                lon: 121.0 + ((i % side) as f64 + jitter) * (0.2 / side as f64),
                lat: 30.7 + ((i / side) as f64 + jitter) * (0.2 / side as f64),
                owner: format!("权属单位{}", i % 37),
                maintainer: (i % 3 == 0).then(|| format!("养护单位{}", i % 11)),
                state: ComponentState::ALL[i % 5],
                survey_date: chrono::NaiveDate::from_ymd_opt(2026, 1 + (i % 12) as u32, 1),
                attributes,
            }
        })
        .collect()
}

fn ms(t: Instant) -> u128 {
    t.elapsed().as_millis()
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: assets_store_bench DATABASE [N]"))?;
    let n: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(500_000);
    let data = components(n);
    let store = store::open(&url)?;

    let t = Instant::now();
    store.put_components(&data, RegisterScope::All)?;
    let put_all = ms(t);

    let t = Instant::now();
    store.put_components(&data, RegisterScope::All)?;
    let put_again = ms(t);

    let t = Instant::now();
    let mut loaded = 0usize;
    let total = store.all_components(&mut |chunk| {
        loaded += chunk.len();
        Ok(())
    })?;
    let load_all = ms(t);
    anyhow::ensure!(
        total == n && loaded == n,
        "loaded {loaded} of {n} components"
    );

    let t = Instant::now();
    let page = store.components(&ComponentQuery {
        bbox: Some([121.05, 30.75, 121.06, 30.76]),
        limit: Some(1000),
        ..Default::default()
    })?;
    let bbox_page = ms(t);

    println!(
        "{}",
        serde_json::json!({
            "backend": store.backend(),
            "components": n,
            "put_all_ms": put_all,
            "put_all_again_ms": put_again,
            "all_components_ms": load_all,
            "bbox_page_ms": bbox_page,
            "bbox_page_rows": page.len(),
        })
    );
    Ok(())
}
