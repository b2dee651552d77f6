//! An open-loop load generator for `POST /api/v1/checkins` (used by scripts/bench-field): sends
//! requests at a constant rate, each at its intended start time `start + i / RATE` whether or not
//! earlier answers came back, and measures each latency from that intended start (corrected for
//! coordinated omission: a stalled server is charged for the requests it held up).
//!
//! `cargo run --release --example checkin_load -- URL RATE SECONDS FILE [MAX_IN_FLIGHT]`
//!
//! FILE holds one request a line, `TOKEN<TAB>JSON BODY`, used in turn (cycled). Requests beyond
//! MAX_IN_FLIGHT (default 512) outstanding wait for a free slot, their latency still counted from
//! their intended start. Prints a summary and a JSON line: count, achieved rate, answers by
//! status, transport errors, and p50/p90/p99/p99.9/max in milliseconds. With
//! `CHECKIN_LOAD_TRACE=PATH` it also writes each request's intended start (ms from the first)
//! and latency (ms), one a line, to see when slow answers came.

#[path = "support/latency.rs"]
mod latency;

use anyhow::Context;
use axum::body::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// How one request ended: an HTTP status, or a transport error.
enum Outcome {
    Status(u16),
    Error,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        anyhow::bail!("usage: checkin_load URL RATE SECONDS FILE [MAX_IN_FLIGHT]");
    }
    let url: Arc<str> = Arc::from(args[1].as_str());
    let rate: f64 = args[2].parse().context("RATE: requests per second")?;
    let secs: f64 = args[3].parse().context("SECONDS: how long to send")?;
    let max_in_flight: usize = match args.get(5) {
        Some(s) => s.parse().context("MAX_IN_FLIGHT: a count")?,
        None => 512,
    };
    if !(rate > 0.0 && secs > 0.0 && max_in_flight > 0) {
        anyhow::bail!("RATE, SECONDS and MAX_IN_FLIGHT must be positive");
    }
    let text = std::fs::read_to_string(&args[4]).with_context(|| format!("reading {}", args[4]))?;
    let mut requests: Vec<(String, Bytes)> = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (token, body) = line
            .split_once('\t')
            .with_context(|| format!("{}: line {}: expected TOKEN<TAB>BODY", args[4], i + 1))?;
        requests.push((format!("Bearer {token}"), Bytes::from(body.to_owned())));
    }
    if requests.is_empty() {
        anyhow::bail!("{}: no requests", args[4]);
    }
    let requests = Arc::new(requests);
    let total = (rate * secs).round() as u64;

    // One thread: the generator shares the machine with the server it measures.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(max_in_flight)
            .timeout(Duration::from_secs(30))
            .build()?;
        let slots = Arc::new(Semaphore::new(max_in_flight));
        let period = Duration::from_secs_f64(1.0 / rate);
        let start = Instant::now() + Duration::from_millis(50);
        let mut tasks = Vec::with_capacity(total as usize);
        for i in 0..total {
            let intended = start + period.mul_f64(i as f64);
            tokio::time::sleep_until(intended).await;
            let permit = slots.clone().acquire_owned().await?;
            let client = client.clone();
            let requests = requests.clone();
            let url = url.clone();
            tasks.push(tokio::spawn(async move {
                let (token, body) = &requests[(i as usize) % requests.len()];
                let sent = client
                    .post(&*url)
                    .header("authorization", token.as_str())
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let outcome = match sent {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        // Read the whole answer: the latency is until the last byte.
                        match r.bytes().await {
                            Ok(_) => Outcome::Status(status),
                            Err(_) => Outcome::Error,
                        }
                    }
                    Err(_) => Outcome::Error,
                };
                drop(permit);
                (intended.elapsed(), outcome, intended - start)
            }));
        }
        let mut latencies = Vec::with_capacity(tasks.len());
        let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
        let mut errors = 0u64;
        let mut trace = String::new();
        for t in tasks {
            let (latency, outcome, offset) = t.await?;
            latencies.push(latency);
            trace.push_str(&format!(
                "{:.3}\t{:.3}\n",
                offset.as_secs_f64() * 1e3,
                latency.as_secs_f64() * 1e3
            ));
            match outcome {
                Outcome::Status(s) => *statuses.entry(s).or_default() += 1,
                Outcome::Error => errors += 1,
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        if let Ok(path) = std::env::var("CHECKIN_LOAD_TRACE") {
            std::fs::write(&path, trace).with_context(|| format!("writing {path}"))?;
        }
        latencies.sort_unstable();
        let p = latency::Percentiles(&latencies);
        let ok: u64 = statuses
            .iter()
            .filter(|(s, _)| (200..300).contains(*s))
            .map(|(_, n)| n)
            .sum();
        let n = latencies.len() as u64;
        println!(
            "   {n} requests at {rate}/s in {elapsed:.1} s ({:.0}/s achieved); 2xx {ok} ({:.1} %), statuses {statuses:?}, transport errors {errors}",
            n as f64 / elapsed,
            100.0 * ok as f64 / n.max(1) as f64
        );
        println!("{}", p.line());
        let statuses_json: BTreeMap<String, u64> =
            statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        println!(
            "{}",
            serde_json::json!({
                "requests": n,
                "rate": rate,
                "elapsed_s": elapsed,
                "ok": ok,
                "statuses": statuses_json,
                "errors": errors,
                "p50_ms": p.ms(0.5),
                "p90_ms": p.ms(0.9),
                "p99_ms": p.ms(0.99),
                "p999_ms": p.ms(0.999),
                "max_ms": p.ms(1.0),
            })
        );
        anyhow::Ok(())
    })
}
