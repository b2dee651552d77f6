//! Two real `gridatlas serve` processes on one database: a publish through one is served by the
//! other within a second (PostgreSQL LISTEN/NOTIFY; SQLite polling every 500 ms).

use diesel::{Connection, RunQueryDsl};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Replica(Child, String);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn get(url: &str) -> Option<Value> {
    let out = Command::new("curl")
        .args(["-sf", "-m", "2", url])
        .output()
        .ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

fn start(db: &str) -> Replica {
    start_with(db, &["--demo"], "/readyz")
}

/// `gridatlas serve --database DB EXTRA…`, once `ready` (a path) answers.
fn start_with(db: &str, extra: &[&str], ready: &str) -> Replica {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_gridatlas"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            db,
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(&format!("{base}{ready}")).is_none() {
        assert!(
            Instant::now() < deadline,
            "replica on {db} not ready in 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Replica(child, base)
}

fn generation(r: &Replica) -> i64 {
    get(&format!("{}/readyz", r.1))
        .and_then(|v| v["generation"].as_i64())
        .unwrap_or(-1)
}

fn two_replicas_follow_one_publish(db: &str) {
    // The first replica loads the demo district into the empty store; the second finds it.
    let a = start(db);
    let b = start(db);
    assert_eq!((generation(&a), generation(&b)), (1, 1));
    let token = Command::new(env!("CARGO_BIN_EXE_gridatlas"))
        .args(["token", "create", "--role", "admin", "--database", db])
        .output()
        .expect("token");
    let token = String::from_utf8_lossy(&token.stdout).trim().to_owned();
    assert_eq!(token.len(), 64, "token: {token:?}");
    // Upload one street with a renamed grid through replica A and publish it there.
    let demo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo-district.geojson"
    ))
    .expect("demo");
    let mut fc: Value = serde_json::from_str(&demo).expect("json");
    let features: Vec<Value> = fc["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter(|f| {
            f["properties"]["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("310116105"))
        })
        .cloned()
        .map(|mut f| {
            if f["properties"]["code"] == "310116105" {
                f["properties"]["name"] = Value::from("吕巷镇（改）");
            }
            f
        })
        .collect();
    fc["features"] = Value::Array(features);
    // The management units name grids of every street; a one-street upload leaves them out.
    if let Some(o) = fc.as_object_mut() {
        o.remove("management_units");
    }
    let dir = tempfile::tempdir().expect("tmp");
    let upload = dir.path().join("street.geojson");
    std::fs::write(&upload, fc.to_string()).expect("write");
    let auth = format!("Authorization: Bearer {token}");
    let out = Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            "-H",
            &auth,
            "-H",
            "content-type: application/geo+json",
            "--data-binary",
        ])
        .arg(format!("@{}", upload.display()))
        .arg(format!("{}/api/v1/drafts", a.1))
        .output()
        .expect("upload");
    let draft: Value = serde_json::from_slice(&out.stdout).expect("draft json");
    assert!(draft["id"].is_i64(), "upload: {draft}");
    let id = draft["id"].as_i64().expect("draft id");
    let out = Command::new("curl")
        .args([
            "-sf",
            "-X",
            "POST",
            "-H",
            &auth,
            &format!("{}/api/v1/drafts/{id}/publish", a.1),
        ])
        .output()
        .expect("publish");
    let published: Value = serde_json::from_slice(&out.stdout).expect("publish json");
    assert_eq!(published["generation"], 2);
    let t = Instant::now();
    assert_eq!(
        generation(&a),
        2,
        "the publishing replica serves the new generation at once"
    );
    while generation(&b) != 2 {
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "replica B still on {} after 1 s",
            generation(&b)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "{db}: replica B served generation 2 after {:?}",
        t.elapsed()
    );
    let area = get(&format!("{}/api/v1/areas/310116105", b.1)).expect("area");
    assert_eq!(area["name"], "吕巷镇（改）");
}

/// A database named on the command line is the operator's: `serve` loads no demo district or
/// example task list into it unless asked (`--demo`); it serves, not ready, until a publish.
#[test]
fn a_named_database_gets_no_demo_unless_asked() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("prod.db").to_string_lossy().into_owned();
    let r = start_with(&db, &[], "/api/v1/generations");
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "2"])
        .arg(format!("{}/readyz", r.1))
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "503");
    let cats = get(&format!("{}/api/v1/categories", r.1)).expect("categories");
    assert_eq!(cats["items"].as_array().map(Vec::len), Some(0), "{cats}");
    drop(r);
    let gens = Command::new(env!("CARGO_BIN_EXE_gridatlas"))
        .args(["generations", "--json", "--database", &db])
        .output()
        .expect("generations");
    assert!(gens.status.success());
    assert!(
        gens.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&gens.stdout)
    );
}

#[test]
fn sqlite_replicas_follow_a_publish_within_a_second() {
    let dir = tempfile::tempdir().expect("tmp");
    two_replicas_follow_one_publish(&dir.path().join("g.db").to_string_lossy());
}

#[test]
fn postgis_replicas_follow_a_publish_within_a_second() {
    let Ok(base) = std::env::var("GRIDATLAS_TEST_PG") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "GRIDATLAS_TEST_PG is not set but CI=true"
        );
        eprintln!(
            "\n!!!!! SKIPPED PostGIS replica test: GRIDATLAS_TEST_PG is not set (run scripts/test) !!!!!\n"
        );
        return;
    };
    let base = base.trim_end_matches('/').to_owned();
    let name = format!("test_replicas_{}", std::process::id());
    let mut admin =
        diesel::PgConnection::establish(&format!("{base}/postgres")).expect("PostGIS reachable");
    diesel::sql_query(format!(
        "CREATE DATABASE {name} TEMPLATE gridatlas_template"
    ))
    .execute(&mut admin)
    .expect("create db");
    two_replicas_follow_one_publish(&format!("{base}/{name}"));
    let _ = diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin);
}
