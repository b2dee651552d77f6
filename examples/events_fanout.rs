//! Fan-out of the live event stream (used by scripts/bench-events; BENCHMARKS.md, "Live events
//! and the portal (issue 18)"): CLIENTS server-sent event streams (`GET /api/v1/events?street=`)
//! held open at once, cases posted at a constant rate, and the delay from each `POST
//! /api/v1/cases` leaving this program to its `case` event reaching each stream.
//!
//! `cargo run --release --example events_fanout -- URL STREAM_TOKEN POST_TOKEN STREET CLIENTS RATE SECONDS`
//!
//! 1. Points: the centres of up to 40 blocks of STREET (`GET /api/v1/areas?layer=block&q=STREET`)
//!    that the lookup places in that block; the category: RG0105 if the task list has it, else
//!    its first district-wide one.
//! 2. CLIENTS streams are opened (50 connecting at a time) with STREAM_TOKEN; a stream counts as
//!    connected when its `ready` event arrived. Then RATE cases a second for SECONDS seconds,
//!    each sent at its intended time (open loop) with POST_TOKEN, source `hotline`.
//! 3. Each stream records when each `case` event arrived (the time its bytes were read, before
//!    parsing). Two seconds after the last answer the streams are dropped.
//!
//! Prints a JSON line: streams, cases posted (and refused), deliveries expected and received,
//! events missing, `lagged` events, POST latency p50/p99, delivery latency (event arrival −
//! POST sent) p50/p90/p99/p99.9/max in milliseconds over every (stream, case) pair, and the
//! fan-out alone (arrival − the event's `at`, when the server published it; same clock). Client and
//! server share the machine: the latencies include this program's own scheduling.

use anyhow::{Context, anyhow, bail};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, Semaphore, watch};
use tokio::time::Instant;

/// What one stream saw.
#[derive(Default)]
struct Seen {
    /// (case id, arrival, ms from the server's publish (`at`) to arrival) of every `case` event.
    cases: Vec<(i64, Instant, f64)>,
    /// `lagged` events.
    lagged: usize,
    /// The stream ended or failed before it was dropped.
    broken: Option<String>,
}

#[derive(serde::Deserialize)]
struct Live {
    at: chrono::DateTime<chrono::Utc>,
    case: Option<CaseRef>,
}

#[derive(serde::Deserialize)]
struct CaseRef {
    id: i64,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 8 {
        bail!(
            "usage: events_fanout URL STREAM_TOKEN POST_TOKEN STREET CLIENTS RATE SECONDS (got {} arguments)",
            args.len().saturating_sub(1)
        );
    }
    let base = args[1].trim_end_matches('/').to_string();
    let stream_token = args[2].clone();
    let post_token = args[3].clone();
    let street = args[4].clone();
    let clients: usize = args[5].parse().context("CLIENTS: a count")?;
    let rate: f64 = args[6].parse().context("RATE: cases per second")?;
    let secs: f64 = args[7].parse().context("SECONDS: how long to post")?;
    if !(rate > 0.0 && secs > 0.0) {
        bail!("RATE and SECONDS must be positive");
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(Run {
            base,
            stream_token,
            post_token,
            street,
            clients,
            rate,
            secs,
        }))
}

struct Run {
    base: String,
    stream_token: String,
    post_token: String,
    street: String,
    clients: usize,
    rate: f64,
    secs: f64,
}

async fn get_json(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> anyhow::Result<serde_json::Value> {
    let res = http.get(url).bearer_auth(token).send().await?;
    let status = res.status();
    let body = res.text().await?;
    if !status.is_success() {
        bail!("GET {url}: {status}: {body}");
    }
    Ok(serde_json::from_str(&body)?)
}

/// Points inside blocks of the street, each placed in its block by the lookup.
async fn points(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    street: &str,
) -> anyhow::Result<Vec<(f64, f64)>> {
    let page = get_json(
        http,
        &format!("{base}/api/v1/areas?layer=block&q={street}&limit=200"),
        token,
    )
    .await?;
    let items = page["items"]
        .as_array()
        .ok_or_else(|| anyhow!("areas: no items"))?;
    let mut out = Vec::new();
    for item in items {
        let (Some(code), Some(b)) = (item["code"].as_str(), item["bbox"].as_array()) else {
            continue;
        };
        let v: Vec<f64> = b.iter().filter_map(serde_json::Value::as_f64).collect();
        if v.len() != 4 || !code.starts_with(street) {
            continue;
        }
        let (lon, lat) = ((v[0] + v[2]) / 2.0, (v[1] + v[3]) / 2.0);
        let placed = get_json(
            http,
            &format!("{base}/api/v1/lookup?lon={lon}&lat={lat}"),
            token,
        )
        .await?;
        if placed["block"]["code"].as_str() == Some(code) {
            out.push((lon, lat));
        }
        if out.len() == 40 {
            break;
        }
    }
    if out.is_empty() {
        bail!("no block of street {street} has its bounding box's centre inside it");
    }
    Ok(out)
}

async fn category(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<String> {
    let list = get_json(http, &format!("{base}/api/v1/categories"), token).await?;
    let items = list["items"]
        .as_array()
        .ok_or_else(|| anyhow!("categories: no items"))?;
    let codes: Vec<&str> = items
        .iter()
        .filter(|c| c["street"].is_null())
        .filter_map(|c| c["code"].as_str())
        .collect();
    codes
        .iter()
        .find(|c| **c == "RG0105")
        .or(codes.first())
        .map(|c| (*c).to_string())
        .ok_or_else(|| anyhow!("the task list has no district-wide category"))
}

/// One stream: connects, reports `ready`, records case events until `stop`.
async fn client(
    http: reqwest::Client,
    url: String,
    token: String,
    ready: Arc<AtomicUsize>,
    connect: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) -> Seen {
    let mut seen = Seen::default();
    let permit = connect.acquire_owned().await;
    let res = match http.get(&url).bearer_auth(&token).send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            seen.broken = Some(format!("status {}", r.status()));
            return seen;
        }
        Err(e) => {
            seen.broken = Some(e.to_string());
            return seen;
        }
    };
    let mut body = res.bytes_stream();
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut permit = Some(permit);
    loop {
        let chunk = tokio::select! {
            c = body.next() => c,
            _ = stop.changed() => return seen,
        };
        let at = Instant::now();
        let wall = chrono::Utc::now();
        let bytes = match chunk {
            Some(Ok(b)) => b,
            Some(Err(e)) => {
                seen.broken = Some(e.to_string());
                return seen;
            }
            None => {
                seen.broken = Some("the stream ended".into());
                return seen;
            }
        };
        buf.extend_from_slice(&bytes);
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = buf.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&frame);
            let mut kind = "";
            let mut data = "";
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = v.trim();
                }
            }
            match kind {
                "ready" if permit.take().is_some() => {
                    ready.fetch_add(1, Ordering::SeqCst);
                }
                "lagged" => seen.lagged += 1,
                "case" => match serde_json::from_str::<Live>(data) {
                    Ok(Live {
                        at: published,
                        case: Some(c),
                    }) => {
                        let ms = (wall - published).as_seconds_f64() * 1e3;
                        seen.cases.push((c.id, at, ms));
                    }
                    _ => seen.broken = Some(format!("a case event without a case: {data}")),
                },
                _ => {}
            }
        }
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    (sorted[i.min(sorted.len() - 1)] * 100.0).round() / 100.0
}

async fn run(r: Run) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?;
    let pts = points(&http, &r.base, &r.post_token, &r.street).await?;
    let cat = category(&http, &r.base, &r.post_token).await?;
    eprintln!(
        "{} points in street {}, category {cat}",
        pts.len(),
        r.street
    );

    // streams have no overall timeout
    let streams = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let ready = Arc::new(AtomicUsize::new(0));
    let connect = Arc::new(Semaphore::new(50));
    let (stop_tx, stop_rx) = watch::channel(false);
    let url = format!("{}/api/v1/events?street={}", r.base, r.street);
    let opened = Instant::now();
    let mut tasks = Vec::with_capacity(r.clients);
    for _ in 0..r.clients {
        tasks.push(tokio::spawn(client(
            streams.clone(),
            url.clone(),
            r.stream_token.clone(),
            ready.clone(),
            connect.clone(),
            stop_rx.clone(),
        )));
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while ready.load(Ordering::SeqCst) < r.clients {
        if Instant::now() > deadline || tasks.iter().any(|t| t.is_finished()) {
            let _ = stop_tx.send(true);
            let mut why = Vec::new();
            for t in tasks {
                if let Ok(Seen {
                    broken: Some(b), ..
                }) = t.await
                {
                    why.push(b);
                }
            }
            bail!(
                "{} of {} streams connected; failures: {:?}",
                ready.load(Ordering::SeqCst),
                r.clients,
                why.iter().take(3).collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_s = opened.elapsed().as_secs_f64();
    eprintln!("{} streams connected in {connect_s:.1} s", r.clients);

    // post at a constant rate
    let n = (r.rate * r.secs).round() as usize;
    let sent: Arc<Mutex<HashMap<i64, Instant>>> = Arc::new(Mutex::new(HashMap::new()));
    let post_ms: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let mut posts = Vec::with_capacity(n);
    for k in 0..n {
        let at = start + Duration::from_secs_f64(k as f64 / r.rate);
        let (lon, lat) = pts[k % pts.len()];
        let body = serde_json::json!({
            "lon": lon, "lat": lat, "category": cat, "source": "hotline",
            "description": format!("fan-out {k}"),
        });
        let (http, url, token) = (
            http.clone(),
            format!("{}/api/v1/cases", r.base),
            r.post_token.clone(),
        );
        let (sent, post_ms, refused) = (sent.clone(), post_ms.clone(), refused.clone());
        posts.push(tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let t0 = Instant::now();
            let res = http.post(&url).bearer_auth(&token).json(&body).send().await;
            let took = t0.elapsed().as_secs_f64() * 1e3;
            match res {
                Ok(res) if res.status().as_u16() == 201 => {
                    let v: serde_json::Value = match res.json().await {
                        Ok(v) => v,
                        Err(_) => {
                            refused.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                    };
                    if let Some(id) = v["id"].as_i64() {
                        sent.lock().await.insert(id, t0);
                        post_ms.lock().await.push(took);
                    } else {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Ok(res) => {
                    let status = res.status();
                    let text = res.text().await.unwrap_or_default();
                    eprintln!("POST refused: {status}: {text}");
                    refused.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => {
                    eprintln!("POST failed: {e}");
                    refused.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    for p in posts {
        p.await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    let mut seen = Vec::with_capacity(r.clients);
    for t in tasks {
        seen.push(t.await?);
    }

    let sent = sent.lock().await;
    let mut lat = Vec::with_capacity(sent.len() * r.clients);
    let mut from_publish = Vec::with_capacity(sent.len() * r.clients);
    let (mut received, mut lagged, mut broken) = (0usize, 0usize, 0usize);
    for s in &seen {
        lagged += s.lagged;
        broken += usize::from(s.broken.is_some());
        for (id, at, ms) in &s.cases {
            if let Some(t0) = sent.get(id) {
                received += 1;
                lat.push(at.saturating_duration_since(*t0).as_secs_f64() * 1e3);
                from_publish.push(*ms);
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    from_publish.sort_by(f64::total_cmp);
    let mut pm = post_ms.lock().await.clone();
    pm.sort_by(f64::total_cmp);
    let expected = sent.len() * r.clients;
    let line = serde_json::json!({
        "streams": r.clients,
        "connect_s": (connect_s * 10.0).round() / 10.0,
        "rate": r.rate,
        "seconds": r.secs,
        "cases_posted": sent.len(),
        "cases_refused": refused.load(Ordering::SeqCst),
        "deliveries_expected": expected,
        "deliveries_received": received,
        "missing": expected.saturating_sub(received),
        "lagged_events": lagged,
        "streams_broken": broken,
        "post_ms": {"p50": pct(&pm, 50.0), "p99": pct(&pm, 99.0)},
        "delivery_ms": {
            "p50": pct(&lat, 50.0), "p90": pct(&lat, 90.0), "p99": pct(&lat, 99.0),
            "p99_9": pct(&lat, 99.9), "max": pct(&lat, 100.0),
        },
        "from_publish_ms": {
            "p50": pct(&from_publish, 50.0), "p99": pct(&from_publish, 99.0),
            "max": pct(&from_publish, 100.0),
        },
    });
    println!("{line}");
    if received != expected {
        bail!("{} deliveries missing", expected - received);
    }
    Ok(())
}
