//! The server's limits under attack, over real HTTP (reqwest, and raw TCP streams for clients
//! that misbehave): tokens checked and body limits applied before a body is read, slow and idle
//! connections closed while lookups keep being answered, NDJSON lines and streams bounded, JSON
//! batches counted while parsed, past-generation atlases built once and within a budget.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use db::TestDb;
use gridatlas::atlas::Atlas;
use gridatlas::geometry::crs::Crs;
use gridatlas::http::{AppState, ServeConfig, router, serve};
use gridatlas::model::Layer;
use gridatlas::store::Store;
use http_support::{demo, problem, run};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A point well inside a block of the demo district, and that block's code.
fn inner_point() -> (f64, f64, String) {
    let block = demo().layer(Layer::Block).nth(100).expect("blocks");
    let area = block.geometry.as_area().expect("area");
    let p = geo::InteriorPoint::interior_point(area).expect("interior point");
    (p.x(), p.y(), block.code.clone())
}

struct Server {
    base: String,
    addr: String,
    client: reqwest::Client,
    state: AppState,
}

/// Serves `state` the way `gridatlas serve` does (connection limits, peer addresses).
async fn serve_state(state: AppState) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let config = state.config().clone();
    let edge = router(state.clone());
    tokio::spawn(
        async move { serve::serve(listener, edge, &config, std::future::pending()).await },
    );
    Server {
        base: format!("http://{addr}"),
        addr,
        client: reqwest::Client::new(),
        state,
    }
}

async fn start(config: ServeConfig) -> Server {
    serve_state(AppState::new(
        Atlas::build(demo().clone()).with_generation(1),
        config,
    ))
    .await
}

/// A server on `db` after publishing the demo district `publish` more times, serving the
/// current generation (without following later publishes).
async fn start_with_store(db: &TestDb, config: ServeConfig, publish: usize) -> Server {
    let store: Arc<dyn Store> = Arc::from(db.open());
    for _ in 0..publish {
        serve::bootstrap_demo(store.as_ref()).expect("demo");
    }
    let n = store
        .current_generation()
        .expect("current")
        .expect("a generation")
        .number;
    let set = store.load_generation(n).expect("load");
    serve_state(AppState::with_store(
        Atlas::build(set).with_generation(i64::from(n)),
        config,
        Some(store),
    ))
    .await
}

fn token(s: &Server, role: &str) -> String {
    let secret = gridatlas::http::auth::new_secret();
    s.state
        .store()
        .expect("store")
        .create_token(role, &[], &secret)
        .expect("token");
    secret
}

/// Writes `head` (and `body`) on a fresh connection and reads the answer until the connection
/// closes or a whole response with a `Content-Length` body is in, within `within`.
async fn raw(addr: &str, head: &str, body: &[u8], within: Duration) -> String {
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    conn.write_all(head.as_bytes()).await.expect("write head");
    if !body.is_empty() {
        // The server may answer and close before it has read this.
        let _ = conn.write_all(body).await;
    }
    read_answer(&mut conn, within).await
}

async fn read_answer(conn: &mut TcpStream, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if let Some(end) = complete(&answer) {
            answer.truncate(end);
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, conn.read(&mut buf)).await {
            Err(_) => panic!(
                "no complete answer within {within:?}; got {:?}",
                String::from_utf8_lossy(&answer)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// The length of the first complete response in `a`, if its body has a `Content-Length`.
fn complete(a: &[u8]) -> Option<usize> {
    let head_end = a.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&a[..head_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))?
        .trim()
        .parse()
        .ok()?;
    (a.len() >= head_end + len).then_some(head_end + len)
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

/// The problem+json body of a raw answer with `status`.
fn raw_problem(answer: &str, status: u16) -> Value {
    assert_eq!(status_of(answer), status, "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{answer}"
    );
    let body = answer.split("\r\n\r\n").nth(1).expect("body");
    let v: Value = serde_json::from_str(body).expect("problem json");
    assert_eq!(v["status"], status, "{v}");
    v
}

// ---------------------------------------------------------------------------------------------
// Item 4: authentication and body limits before the body

/// A 199 MB upload with a bogus token is refused on its headers: the server answers 401 while the
/// client has sent a kilobyte and waits (it used to read the whole body first); a token without
/// the role gets 403 the same way; a body over the route's limit is 413 on its Content-Length;
/// a chunked body is cut at the route's limit; the `Bearer` scheme is case-insensitive.
fn tokens_and_limits_are_checked_before_the_body(db: &TestDb) {
    run(async {
        let s = start_with_store(db, ServeConfig::default(), 1).await;
        let upload = |auth: &str| {
            format!(
                "POST /api/v1/drafts HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/geo+json\r\nContent-Length: 199000000\r\n\r\n"
            )
        };
        let kb = vec![b' '; 1024];
        let quick = Duration::from_secs(5);
        let v = raw_problem(
            &raw(
                &s.addr,
                &upload("Authorization: Bearer bogus\r\n"),
                &kb,
                quick,
            )
            .await,
            401,
        );
        assert!(
            v["detail"].as_str().is_some_and(|d| d.contains("token")),
            "{v}"
        );
        raw_problem(&raw(&s.addr, &upload(""), &kb, quick).await, 401);
        let intake = token(&s, "intake");
        let v = raw_problem(
            &raw(
                &s.addr,
                &upload(&format!("Authorization: Bearer {intake}\r\n")),
                &kb,
                quick,
            )
            .await,
            403,
        );
        assert!(
            v["detail"].as_str().is_some_and(|d| d.contains("planner")),
            "{v}"
        );

        // Over the case route's limit (128 KiB) on its Content-Length, with a valid token.
        let head = format!(
            "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {intake}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
        );
        let v = raw_problem(&raw(&s.addr, &head, b"{", quick).await, 413);
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("/api/v1/cases")),
            "{v}"
        );
        assert_eq!(v["limit_bytes"], 128 * 1024);
        // Open311 POST: 64 KiB, its token is in the body.
        let head = "POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n";
        raw_problem(&raw(&s.addr, head, b"api_key=", quick).await, 413);

        // The events route takes actions of the workflow: an intake token is refused before its
        // body is read (none is sent: waiting for it would time out).
        let head = format!(
            "POST /api/v1/cases/1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {intake}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        );
        let v = raw_problem(&raw(&s.addr, &head, b"", quick).await, 403);
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("dispatcher")),
            "{v}"
        );
        // A chunked body (no Content-Length) over the events route's 64 KiB is cut: 413.
        let dispatcher = token(&s, "dispatcher");
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            (0..20).map(|_| Ok(vec![b' '; 8 * 1024])).collect();
        let resp = s
            .client
            .post(format!("{}/api/v1/cases/1/events", s.base))
            .header("authorization", format!("Bearer {dispatcher}"))
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await
            .expect("post");
        let v = problem(resp, 413).await;
        assert!(
            v["detail"].as_str().is_some_and(|d| d.contains("65536")),
            "{v}"
        );

        // RFC 7235: the scheme is case-insensitive.
        for scheme in ["bearer", "BEARER", "BeArEr"] {
            let resp = s
                .client
                .get(format!("{}/api/v1/cases", s.base))
                .header("authorization", format!("{scheme} {intake}"))
                .send()
                .await
                .expect("get");
            assert_eq!(resp.status(), 200, "{scheme}");
        }
    });
}

/// A body that stops arriving is answered 408 after the body-idle time, long before the request
/// timeout (it used to be held until then).
#[tokio::test]
async fn a_stalled_body_is_408() {
    let s = start(ServeConfig {
        body_idle_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_secs(30),
        ..ServeConfig::default()
    })
    .await;
    let started = Instant::now();
    let answer = raw(
        &s.addr,
        "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        b"{\"points\": [",
        Duration::from_secs(10),
    )
    .await;
    let v = raw_problem(&answer, 408);
    assert!(
        v["detail"].as_str().is_some_and(|d| d.contains("0.3 s")),
        "{v}"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(5));
}

// ---------------------------------------------------------------------------------------------
// Item 6: slow and idle connections

/// 300 clients that never finish their request head, against a server with a connection limit of
/// 64 and a header timeout of 1 s: lookups on an open connection keep being answered all along,
/// every slow connection is closed, an idle keep-alive connection too, and new clients get in
/// once the slow ones are gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_and_lookups_go_on() {
    let s = start(ServeConfig {
        max_connections: 64,
        header_read_timeout: Duration::from_secs(1),
        ..ServeConfig::default()
    })
    .await;
    let (x, y, block) = inner_point();
    let lookup = format!("{}/api/v1/lookup?lon={x}&lat={y}", s.base);
    // The client's connection is open before the attack.
    assert_eq!(
        s.client.get(&lookup).send().await.expect("get").status(),
        200
    );

    // The attack, in its own task; lookups go on back to back on the open connection meanwhile.
    let addr = s.addr.clone();
    let attack_started = Instant::now();
    let attack = tokio::spawn(async move {
        let mut slow = Vec::new();
        for _ in 0..300 {
            let mut c = TcpStream::connect(&addr).await.expect("connect");
            c.write_all(b"GET /api/v1/lookup?lon=121.2&lat=30.8 HTTP/1.1\r\nHost: x\r\n")
                .await
                .expect("write");
            slow.push(c);
        }
        slow
    });
    let mut answered = 0u32;
    let mut slowest = Duration::ZERO;
    // On one raw keep-alive connection, opened before the attack: it must stay open.
    let mut kept = TcpStream::connect(&s.addr).await.expect("connect");
    let request = format!("GET /api/v1/lookup?lon={x}&lat={y} HTTP/1.1\r\nHost: x\r\n\r\n");
    while !attack.is_finished() || attack_started.elapsed() < Duration::from_secs(3) {
        let t = Instant::now();
        kept.write_all(request.as_bytes()).await.expect("write");
        let answer = read_answer(&mut kept, Duration::from_secs(2)).await;
        assert_eq!(status_of(&answer), 200, "{answer} after {answered}");
        assert!(answer.contains(block.as_str()), "{answer}");
        slowest = slowest.max(t.elapsed());
        answered += 1;
    }
    let mut slow = attack.await.expect("attack");
    eprintln!(
        "{answered} lookups answered in the {:?} of the attack; slowest {slowest:?}",
        attack_started.elapsed()
    );
    assert!(answered >= 20, "{answered} lookups");
    // A new client's first lookup while slow connections hold every slot waits in the backlog
    // (for the report; bounded by the header timeout times the queue ahead of it).
    let t = Instant::now();
    let fresh = reqwest::Client::new();
    assert_eq!(fresh.get(&lookup).send().await.expect("get").status(), 200);
    eprintln!(
        "a new client's first lookup during the attack: {:?}",
        t.elapsed()
    );

    // Every slow connection is closed by the server (64 at a time, 1 s each).
    let closing = tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        for c in &mut slow {
            loop {
                match c.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(20), closing)
        .await
        .expect("all 300 slow connections closed within 20 s")
        .expect("join");
    eprintln!(
        "300 slow connections closed {:?} after the attack began",
        attack_started.elapsed()
    );

    // An idle keep-alive connection is closed after the header timeout too.
    let mut idle = TcpStream::connect(&s.addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let first = read_answer(&mut idle, Duration::from_secs(5)).await;
    assert_eq!(status_of(&first), 200, "{first}");
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buf))
        .await
        .expect("the idle connection is closed within 5 s");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    assert!(
        t.elapsed() >= Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );

    // A new client gets in at once.
    let t = Instant::now();
    let fresh = reqwest::Client::new();
    assert_eq!(fresh.get(&lookup).send().await.expect("get").status(), 200);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Items 7 and 12: NDJSON and JSON batches

async fn post_ndjson(s: &Server, query: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    s.client
        .post(format!("{}/api/v1/lookup{query}", s.base))
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .expect("post")
}

/// A line over 4 KiB is refused naming its number: 413 problem when it comes first (the server
/// used to buffer it whole and answer 200), a last line `{"error", "status": 413, "line"}` after
/// answers already sent.
#[tokio::test]
async fn ndjson_lines_are_bounded() {
    let s = start(ServeConfig::default()).await;
    let (x, y, block) = inner_point();
    let long = vec![b'1'; 1024 * 1024];
    let v = problem(post_ndjson(&s, "", long).await, 413).await;
    assert_eq!(v["line"], 1, "{v}");
    assert!(
        v["detail"].as_str().is_some_and(|d| d.contains("line 1")),
        "{v}"
    );

    let mut body = format!("[{x},{y}]\n\n").into_bytes();
    body.extend(vec![b' '; 10_000]);
    body.extend_from_slice(b"\n[1,2]\n");
    let resp = post_ndjson(&s, "", body).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("text");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0]["block"], block.as_str());
    assert_eq!(lines[1]["status"], 413);
    assert_eq!(lines[1]["line"], 3);
}

/// `?crs=` of an NDJSON batch is URL-decoded like every query, and an unknown value is 400 naming
/// `crs` (it used to mean WGS84 silently, ~500 m off for a GCJ-02 point).
#[tokio::test]
async fn ndjson_crs_is_parsed_like_the_get_lookup() {
    let s = start(ServeConfig::default()).await;
    let (x, y, block) = inner_point();
    let (gx, gy) = Crs::Gcj02.from_wgs84(x, y);
    let as_wgs: Value = s
        .client
        .get(format!("{}/api/v1/lookup?lon={gx}&lat={gy}", s.base))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    // The test can only fail if reading the point as WGS84 lands elsewhere.
    assert_ne!(as_wgs["block"]["code"], block.as_str());
    // `gcj%302` is `gcj02` URL-encoded.
    let resp = post_ndjson(&s, "?crs=gcj%302", format!("[{gx},{gy}]\n")).await;
    assert_eq!(resp.status(), 200);
    let line: Value = serde_json::from_str(resp.text().await.expect("text").trim()).expect("json");
    assert_eq!(line["block"], block.as_str(), "{line}");
    for bad in ["?crs=gcj2", "?crs=", "?crs=wgs-84"] {
        let v = problem(post_ndjson(&s, bad, format!("[{gx},{gy}]\n")).await, 400).await;
        assert_eq!(v["parameter"], "crs", "{bad}: {v}");
    }
}

/// The request timeout bounds a whole NDJSON stream: a client trickling a line every 200 ms gets
/// its answers, then a last line with status 503, and the stream ends at the time limit (it used
/// to stream for as long as the client kept sending).
#[tokio::test]
async fn an_ndjson_stream_ends_at_the_request_timeout() {
    let s = start(ServeConfig {
        request_timeout: Duration::from_secs(1),
        ..ServeConfig::default()
    })
    .await;
    let (x, y, _) = inner_point();
    let mut conn = TcpStream::connect(&s.addr).await.expect("connect");
    conn.write_all(
        b"POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .await
    .expect("head");
    let started = Instant::now();
    let line = format!("[{x},{y}]\n");
    let chunk = format!("{:x}\r\n{line}\r\n", line.len());
    let (mut rd, mut wr) = conn.into_split();
    let writer = tokio::spawn(async move {
        for _ in 0..25 {
            if wr.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(4), rd.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
        if answer.windows(5).any(|w| w == b"0\r\n\r\n") {
            break;
        }
    }
    let ended = started.elapsed();
    writer.abort();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"block\""), "{text}");
    assert!(text.contains("\"status\":503"), "{text}");
    assert!(text.contains("request timeout"), "{text}");
    assert!(
        ended < Duration::from_secs(3),
        "the stream ended after {ended:?}"
    );
}

/// A JSON batch is counted while it is parsed: past the limit the parse stops (413) before it
/// reaches a malformed point further on, and a body larger than the batch could need is 413 on
/// its Content-Length, before it is read.
#[tokio::test]
async fn json_batches_are_counted_while_parsed() {
    let s = start(ServeConfig {
        max_batch_points: 10,
        ..ServeConfig::default()
    })
    .await;
    let mut points = vec!["[121.2,30.8]"; 11];
    points.push("[1,\"x\"]");
    let body = format!("{{\"points\": [{}]}}", points.join(","));
    let resp = s
        .client
        .post(format!("{}/api/v1/lookup", s.base))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("post");
    let v = problem(resp, 413).await;
    assert!(
        v["detail"].as_str().is_some_and(|d| d.contains("10")),
        "{v}"
    );
    // Ten points are fine; a malformed one within the limit is still 422.
    let resp = s
        .client
        .post(format!("{}/api/v1/lookup", s.base))
        .header("content-type", "application/json")
        .body(format!(
            "{{\"points\": [{}]}}",
            ["[121.2,30.8]"; 10].join(",")
        ))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    let resp = s
        .client
        .post(format!("{}/api/v1/lookup", s.base))
        .header("content-type", "application/json")
        .body("{\"points\": [[1,\"x\"]], \"extra\": 1}")
        .send()
        .await
        .expect("post");
    problem(resp, 422).await;
    // 150 MB announced for at most 10 points: refused on the header (1 MiB bound).
    let answer = raw(
        &s.addr,
        "POST /api/v1/lookup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 150000000\r\n\r\n",
        b"{\"points\": [",
        Duration::from_secs(5),
    )
    .await;
    raw_problem(&answer, 413);
}

// ---------------------------------------------------------------------------------------------
// Item 8: atlases of past generations

/// Eight concurrent `at=1` lookups share one build; with a memory budget too small to keep it,
/// the next one builds again; with one build at a time and a short wait, requests for other
/// generations queued behind it are 503 with Retry-After, and answered once it is done.
fn past_atlases_are_built_once_within_budget(db: &TestDb) {
    run(async {
        let (x, y, block) = inner_point();
        let s = start_with_store(db, ServeConfig::default(), 2).await;
        let url = format!("{}/api/v1/lookup?lon={x}&lat={y}&at=1", s.base);
        let gets = (0..8).map(|_| s.client.get(&url).send());
        for resp in futures_util::future::join_all(gets).await {
            let v: Value = resp.expect("get").json().await.expect("json");
            assert_eq!(v["generation"], 1, "{v}");
            assert_eq!(v["block"]["code"], block.as_str());
        }
        assert_eq!(s.state.past_atlas_builds(), 1);
        assert_eq!(s.client.get(&url).send().await.expect("get").status(), 200);
        assert_eq!(s.state.past_atlas_builds(), 1, "cached");

        let tiny = start_with_store(
            db,
            ServeConfig {
                past_atlas_budget_bytes: 1,
                ..ServeConfig::default()
            },
            0,
        )
        .await;
        let url = format!("{}/api/v1/lookup?lon={x}&lat={y}&at=1", tiny.base);
        for _ in 0..2 {
            assert_eq!(
                tiny.client.get(&url).send().await.expect("get").status(),
                200
            );
        }
        assert_eq!(
            tiny.state.past_atlas_builds(),
            2,
            "not kept over the budget"
        );

        let busy = start_with_store(
            db,
            ServeConfig {
                past_atlas_builds: 1,
                past_atlas_wait: Duration::from_millis(1),
                ..ServeConfig::default()
            },
            0,
        )
        .await;
        // (`db` holds 2 generations; this server serves 2 and does not follow publishes.)
        let store = busy.state.store().expect("store");
        for _ in 0..2 {
            serve::bootstrap_demo(store.as_ref()).expect("publish");
        }
        // Generations 1..=3 are past now that 4 is published (the atlas served stays 2).
        let gets = [1, 3, 4].map(|g| {
            busy.client
                .get(format!(
                    "{}/api/v1/lookup?lon={x}&lat={y}&at={g}",
                    busy.base
                ))
                .send()
        });
        let answers = futures_util::future::join_all(gets).await;
        let mut refused = 0;
        for resp in answers {
            let resp = resp.expect("get");
            if resp.status() == 503 {
                assert_eq!(
                    resp.headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()),
                    Some("5")
                );
                let v = problem(resp, 503).await;
                assert_eq!(v["type"], "urn:gridatlas:problem:busy");
                refused += 1;
            } else {
                assert_eq!(resp.status(), 200);
            }
        }
        assert!(
            refused >= 1,
            "three builds at once with one permit and 1 ms of patience"
        );
        // Once the builds are done, each is answered (the build went on without the waiter).
        for g in [1, 3, 4] {
            let url = format!("{}/api/v1/lookup?lon={x}&lat={y}&at={g}", busy.base);
            let mut last = String::new();
            for _ in 0..600 {
                let resp = busy.client.get(&url).send().await.expect("get");
                if resp.status() == 200 {
                    last.clear();
                    break;
                }
                last = resp.text().await.expect("text");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(
                last.is_empty(),
                "generation {g} answered once its build is done: {last}"
            );
        }
    });
}

/// A refused upload small enough to read is read and dropped after the answer: the client gets
/// the 401 (not a reset while it still sends) and its connection serves the next request. A large
/// one is never read and its answer says `Connection: close`.
fn refused_bodies_leave_the_connection_usable_or_closed(db: &TestDb) {
    run(async {
        let s = start_with_store(db, ServeConfig::default(), 1).await;
        let body = vec![b' '; 600 * 1024];
        let mut conn = TcpStream::connect(&s.addr).await.expect("connect");
        let head = format!(
            "POST /api/v1/drafts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bogus\r\nContent-Type: application/geo+json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).await.expect("head");
        conn.write_all(&body)
            .await
            .expect("the whole body is taken");
        let answer = read_answer(&mut conn, Duration::from_secs(5)).await;
        raw_problem(&answer, 401);
        assert!(
            !answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
        conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("next request");
        let next = read_answer(&mut conn, Duration::from_secs(5)).await;
        assert_eq!(status_of(&next), 200, "{next}");

        let big = raw(
            &s.addr,
            "POST /api/v1/drafts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bogus\r\nContent-Type: application/geo+json\r\nContent-Length: 199000000\r\n\r\n",
            &[b' '; 1024],
            Duration::from_secs(5),
        )
        .await;
        raw_problem(&big, 401);
        assert!(
            big.to_ascii_lowercase().contains("connection: close"),
            "{big}"
        );
    });
}

suite!(
    refused_bodies_leave_the_connection_usable_or_closed,
    tokens_and_limits_are_checked_before_the_body,
    past_atlases_are_built_once_within_budget,
);
