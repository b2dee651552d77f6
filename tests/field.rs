//! The field force over HTTP and in the store, on both stores: check-in inside, on the
//! boundary, 40 m and 60 m outside and at the workstation, with its class around the shift's
//! edges; refusals (accuracy, future, impossible speed, someone else's token); attendance per
//! person and counted, and who may see which; fix ingest (cleaning, repeats), tracks as
//! GeoJSON and who may read them; the roster and duty APIs with their scope checks; the purge of
//! old fixes and check-ins.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use db::TestDb;
use geo::Coord;
use gridatlas::atlas::Atlas;
use gridatlas::field::duty::{DutyEntry, FieldSettings};
use gridatlas::field::roster::{OrgKind, Staff};
use gridatlas::field::{Fix, Track};
use gridatlas::geometry::measure::LocalFrame;
use gridatlas::http::{AppState, ServeConfig};
use gridatlas::model::{FeatureSet, Layer, Role as PersonRole};
use gridatlas::store::{NewDraft, Store, TokenSpec, TrackQuery};
use http_support::{demo, problem, run, serve};
use serde_json::{Value, json};
use std::sync::Arc;

struct Server {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    /// The grid the patroller is assigned to.
    grid: String,
    street: String,
    /// The grid's easternmost vertex.
    east: (f64, f64),
    /// The grid's workstation (80 m west of its westernmost vertex).
    station: (f64, f64),
    /// Bearer headers.
    worker: String,
    other_worker: String,
    dispatcher: String,
    other_dispatcher: String,
    supervisor: String,
    intake: String,
    admin: String,
}

const STAFF: &str = "P0001";

fn offset(p: (f64, f64), east_m: f64, north_m: f64) -> (f64, f64) {
    let f = LocalFrame::new(p.0, p.1);
    let c = f.to_lonlat(Coord {
        x: east_m,
        y: north_m,
    });
    (c.x, c.y)
}

/// The demo district with a workstation on one street grid, published in `store`.
fn district(store: &dyn Store) -> (FeatureSet, String, (f64, f64), (f64, f64)) {
    let (mut features, units) = demo().clone().into_parts();
    let grid = features
        .iter_mut()
        .find(|f| f.layer == Layer::StreetGrid)
        .expect("a street grid");
    let ring = &grid.geometry.as_area().expect("area").0[0].exterior().0;
    let east = ring
        .iter()
        .max_by(|a, b| a.x.total_cmp(&b.x))
        .map(|c| (c.x, c.y))
        .expect("vertex");
    let west = ring
        .iter()
        .min_by(|a, b| a.x.total_cmp(&b.x))
        .map(|c| (c.x, c.y))
        .expect("vertex");
    let station = offset(west, -80.0, 0.0);
    grid.attributes.insert(
        "workstation".into(),
        json!({"lon": station.0, "lat": station.1, "address": "朱泾镇测试路1号"}),
    );
    let code = grid.code.clone();
    let set = FeatureSet::new(features, units).expect("set");
    let id = store
        .create_draft(NewDraft {
            features: &set,
            covered_streets: None,
            report: "{}".into(),
            error_count: 0,
            created_by: "test",
        })
        .expect("draft");
    store.publish(id, "test", None).expect("publish");
    (set, code, east, station)
}

fn token(store: &dyn Store, spec: TokenSpec) -> String {
    let t = gridatlas::service::access::create_token(store, &spec).expect("token");
    format!("Bearer {}", t.secret)
}

fn spec(role: &str, streets: &[&str]) -> TokenSpec {
    TokenSpec {
        role: role.into(),
        streets: streets.iter().map(|s| (*s).to_owned()).collect(),
        ..TokenSpec::default()
    }
}

fn patroller(id: &str, grid: &str, street: &str) -> Staff {
    Staff {
        id: id.into(),
        name: "张伟".into(),
        phone: Some("13800000001".into()),
        role: PersonRole::EnforcementOfficer,
        org: "朱泾城管中队".into(),
        org_kind: OrgKind::CityManagement,
        team: Some("patrol".into()),
        street: street.into(),
        areas: vec![grid.into()],
    }
}

async fn start(db: &TestDb) -> Server {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let (set, grid, east, station) = district(store.as_ref());
    let street = set
        .get(&grid)
        .and_then(|g| g.parent.clone())
        .expect("street");
    let other_street = set
        .layer(Layer::Street)
        .find(|s| s.code != street)
        .map(|s| s.code.clone())
        .expect("another street");
    let n = store.generations().expect("generations").len() as i64;
    let atlas = Atlas::build(set).with_generation(n);
    let s = store.as_ref();
    let worker = token(
        s,
        TokenSpec {
            grids: vec![grid.clone()],
            subject: Some(STAFF.into()),
            ..spec("grid_worker", &[])
        },
    );
    let other_worker = token(
        s,
        TokenSpec {
            grids: vec![grid.clone()],
            subject: Some("P0002".into()),
            ..spec("grid_worker", &[])
        },
    );
    Server {
        worker,
        other_worker,
        dispatcher: token(s, spec("dispatcher", &[&street])),
        other_dispatcher: token(s, spec("dispatcher", &[&other_street])),
        supervisor: token(s, spec("supervisor", &["*"])),
        intake: token(s, spec("intake", &["*"])),
        admin: token(s, spec("admin", &[])),
        store: store.clone(),
        grid,
        street,
        east,
        station,
        client: reqwest::Client::new(),
        base: serve(AppState::with_store(
            atlas,
            ServeConfig::default(),
            Some(store),
        ))
        .await,
    }
}

impl Server {
    async fn send(
        &self,
        method: &str,
        path: &str,
        auth: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self
            .client
            .request(m, format!("{}{path}", self.base))
            .header("authorization", auth);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.expect("request")
    }

    async fn ok(&self, method: &str, path: &str, auth: &str, body: Option<Value>) -> Value {
        let resp = self.send(method, path, auth, body).await;
        let status = resp.status();
        let v: Value = resp.json().await.expect("json");
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// Loads the roster (the patroller and a second person of the same grid) and yesterday's
    /// day shift for both; returns yesterday's local date.
    async fn roster(&self) -> NaiveDate {
        let staff = vec![
            patroller(STAFF, &self.grid, &self.street),
            patroller("P0002", &self.grid, &self.street),
        ];
        let v = self
            .ok("PUT", "/api/v1/staff", &self.dispatcher, Some(json!(staff)))
            .await;
        assert_eq!(v["staff"], 2);
        let settings = FieldSettings::from_json(gridatlas::field::duty::EXAMPLE).expect("settings");
        let yesterday = settings.local_date(Utc::now()) - Duration::days(1);
        let entries: Vec<DutyEntry> = [STAFF, "P0002"]
            .iter()
            .map(|s| DutyEntry {
                staff: (*s).into(),
                date: yesterday,
                shift: "day".into(),
            })
            .collect();
        self.ok(
            "PUT",
            "/api/v1/duty",
            &self.dispatcher,
            Some(json!({"from": yesterday, "to": yesterday, "entries": entries})),
        )
        .await;
        yesterday
    }

    async fn check_in(&self, p: (f64, f64), t: DateTime<Utc>, punch: &str) -> Value {
        self.ok(
            "POST",
            "/api/v1/checkins",
            &self.worker,
            Some(json!({"lon": p.0, "lat": p.1, "accuracy_m": 8.0, "t": t, "punch": punch})),
        )
        .await
    }
}

/// Local time `hh:mm` of `date` (UTC+8) as UTC.
fn local(date: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    date.and_hms_opt(h, m, 0).expect("time").and_utc() - Duration::hours(8)
}

fn check_in_places_and_classes(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let day = s.roster().await;
        // inside, before the start: on time
        let inside = offset(s.east, -3.0, 0.0);
        let v = s.check_in(inside, local(day, 7, 50), "in").await;
        let c = &v["checkin"];
        assert_eq!(
            (c["place"].as_str(), c["class"].as_str(), c["area"].as_str()),
            (Some("inside"), Some("on_time"), Some(s.grid.as_str())),
            "{v}"
        );
        assert_eq!(v["shift"]["code"], "day");
        assert_eq!(v["shift"]["mode"], "day");
        // on the boundary (the easternmost vertex): counts, 0 m
        let v = s.check_in(s.east, local(day, 8, 0), "in").await;
        let c = &v["checkin"];
        assert!(
            matches!(c["place"].as_str(), Some("inside" | "near")),
            "{v}"
        );
        assert!(c["distance_m"].as_f64().is_some_and(|d| d < 0.01), "{v}");
        // 40 m east of it: near (the 50 m allowance), 40 m; after start + 5 min: late
        let v = s
            .check_in(offset(s.east, 40.0, 0.0), local(day, 8, 10), "in")
            .await;
        let c = &v["checkin"];
        assert_eq!(c["place"], "near", "{v}");
        assert!(
            (c["distance_m"].as_f64().expect("distance") - 40.0).abs() < 0.05,
            "{v}"
        );
        assert_eq!(c["class"], "late");
        // 60 m east: outside
        let v = s
            .check_in(offset(s.east, 60.0, 0.0), local(day, 8, 20), "in")
            .await;
        assert_eq!(v["checkin"]["place"], "outside", "{v}");
        assert_eq!(v["checkin"]["class"], "outside");
        // at the workstation (80 m outside the grid): counts; checking out there before the
        // end is leaving early
        let v = s.check_in(s.station, local(day, 19, 0), "out").await;
        let c = &v["checkin"];
        assert_eq!(
            (c["place"].as_str(), c["class"].as_str()),
            (Some("workstation"), Some("early_leave")),
            "{v}"
        );
        assert!(c["distance_m"].as_f64().is_some_and(|d| d < 0.01), "{v}");
        // a check-in with no shift around it
        let v = s.check_in(inside, local(day, 23, 0), "in").await;
        assert_eq!(v["checkin"]["class"], "no_shift", "{v}");
        assert!(v["shift"].is_null());

        // attendance of the day: the patroller on time, with a punch outside, left early; the
        // other person absent (the shift is over)
        let v = s
            .ok(
                "GET",
                &format!("/api/v1/attendance?date={day}"),
                &s.dispatcher,
                None,
            )
            .await;
        let rows = v["rows"].as_array().expect("rows");
        let row = |id: &str| {
            rows.iter()
                .find(|r| r["staff"] == id)
                .cloned()
                .expect("row")
        };
        let me = row(STAFF);
        assert_eq!(
            (
                me["status"].as_str(),
                me["outside"].as_bool(),
                me["early_leave"].as_bool()
            ),
            (Some("on_time"), Some(true), Some(true)),
            "{me}"
        );
        assert_eq!(row("P0002")["status"], "absent");
        assert_eq!(v["total"]["shifts"], 2);
        assert_eq!(v["total"]["absent"], 1);
        assert_eq!(v["by_grid"][0]["key"], s.grid.as_str());
        assert_eq!(v["by_team"][0]["key"], "patrol");
        // an intake token gets the counts, not the people
        let v = s
            .ok(
                "GET",
                &format!("/api/v1/attendance?date={day}"),
                &s.intake,
                None,
            )
            .await;
        assert!(v.get("rows").is_none(), "{v}");
        assert_eq!(v["total"]["absent"], 1);
        // a dispatcher of another street sees no one of this street
        let v = s
            .ok(
                "GET",
                &format!("/api/v1/attendance?date={day}"),
                &s.other_dispatcher,
                None,
            )
            .await;
        assert_eq!(v["rows"].as_array().map(Vec::len), Some(0), "{v}");
        // check-ins are personal data
        let path = format!("/api/v1/checkins?from={day}&staff={STAFF}");
        let v = s.ok("GET", &path, &s.supervisor, None).await;
        assert_eq!(v["checkins"].as_array().map(Vec::len), Some(6));
        problem(s.send("GET", &path, &s.worker, None).await, 403).await;
    });
}

fn check_in_refusals(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let day = s.roster().await;
        let inside = offset(s.east, -3.0, 0.0);
        let t = local(day, 8, 0);
        let p = problem(
            s.send(
                "POST",
                "/api/v1/checkins",
                &s.worker,
                Some(json!({"lon": inside.0, "lat": inside.1, "accuracy_m": 120.0, "t": t})),
            )
            .await,
            422,
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("accuracy_m")),
            "{p}"
        );
        let future = Utc::now() + Duration::hours(1);
        let p = problem(
            s.send(
                "POST",
                "/api/v1/checkins",
                &s.worker,
                Some(json!({"lon": inside.0, "lat": inside.1, "accuracy_m": 5.0, "t": future})),
            )
            .await,
            422,
        )
        .await;
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains("future")),
            "{p}"
        );
        s.check_in(inside, t, "in").await;
        // 10 km a minute later: 600 km/h
        let far = offset(inside, 10_000.0, 0.0);
        let p = problem(
            s.send("POST", "/api/v1/checkins", &s.worker, Some(json!({"lon": far.0, "lat": far.1, "accuracy_m": 5.0, "t": t + Duration::minutes(1)}))).await,
            422,
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("impossible speed")),
            "{p}"
        );
        // someone else's token, and a role that does not check in
        let p = problem(
            s.send(
                "POST",
                "/api/v1/checkins",
                &s.other_worker,
                Some(json!({"staff": STAFF, "lon": inside.0, "lat": inside.1, "accuracy_m": 5.0})),
            )
            .await,
            403,
        )
        .await;
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains(STAFF)),
            "{p}"
        );
        problem(
            s.send(
                "POST",
                "/api/v1/checkins",
                &s.dispatcher,
                Some(json!({"staff": STAFF, "lon": inside.0, "lat": inside.1, "accuracy_m": 5.0})),
            )
            .await,
            403,
        )
        .await;
        // GCJ-02 from a phone: the same place
        let (gx, gy) = gridatlas::geometry::crs::wgs84_to_gcj02(inside.0, inside.1);
        let v = s
            .ok(
                "POST",
                "/api/v1/checkins",
                &s.worker,
                Some(json!({"lon": gx, "lat": gy, "crs": "gcj02", "accuracy_m": 5.0, "t": t + Duration::minutes(30)})),
            )
            .await;
        assert_eq!(v["checkin"]["place"], "inside", "{v}");
        assert!((v["checkin"]["lon"].as_f64().expect("lon") - inside.0).abs() < 1e-8);
    });
}

fn roster_and_duty_are_scoped(db: &TestDb) {
    run(async {
        let s = start(db).await;
        s.roster().await;
        // another street's dispatcher may not replace this street's roster
        let staff = vec![patroller("P0009", &s.grid, &s.street)];
        let p = problem(
            s.send(
                "PUT",
                "/api/v1/staff",
                &s.other_dispatcher,
                Some(json!(staff)),
            )
            .await,
            403,
        )
        .await;
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains(&s.street)),
            "{p}"
        );
        // unknown areas and a repeated 工号: every problem listed
        let mut bad = vec![
            patroller("P0001", "NO-SUCH-GRID", &s.street),
            patroller("P0001", &s.grid, &s.street),
        ];
        bad[1].name = String::new();
        let p = problem(
            s.send("PUT", "/api/v1/staff", &s.admin, Some(json!(bad)))
                .await,
            422,
        )
        .await;
        let problems = p["problems"].as_array().expect("problems");
        assert_eq!(problems.len(), 2, "{p}");
        assert!(
            problems[0]
                .as_str()
                .is_some_and(|x| x.contains("NO-SUCH-GRID")),
            "{p}"
        );
        // the roster is unchanged, phones shown to the street's dispatcher, none to others
        let v = s.ok("GET", "/api/v1/staff", &s.dispatcher, None).await;
        assert_eq!(v["staff"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["staff"][0]["phone"], "13800000001");
        let v = s
            .ok("GET", "/api/v1/staff", &s.other_dispatcher, None)
            .await;
        assert_eq!(v["staff"].as_array().map(Vec::len), Some(0));
        problem(s.send("GET", "/api/v1/staff", &s.intake, None).await, 403).await;
        // duty: a shift the team lacks, a person of another street
        let day = Utc::now().date_naive();
        let p = problem(
            s.send(
                "PUT",
                "/api/v1/duty",
                &s.dispatcher,
                Some(json!({"from": day, "to": day, "entries": [{"staff": STAFF, "date": day, "shift": "dawn"}]})),
            )
            .await,
            422,
        )
        .await;
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains("dawn")),
            "{p}"
        );
        problem(
            s.send(
                "PUT",
                "/api/v1/duty",
                &s.other_dispatcher,
                Some(json!({"from": day, "to": day, "entries": [{"staff": STAFF, "date": day, "shift": "day"}]})),
            )
            .await,
            403,
        )
        .await;
    });
}

fn tracks_are_stored_and_purged(db: &TestDb) {
    let store = db.open();
    let t0 = Utc::now() - Duration::days(200);
    let mk = |t: DateTime<Utc>, n: usize| -> Vec<Fix> {
        (0..n)
            .map(|i| Fix {
                t_ms: (t + Duration::seconds(10 * i as i64)).timestamp_millis(),
                lon: 121.1 + i as f64 * 1e-4,
                lat: 30.9,
                accuracy_m: None,
            })
            .collect()
    };
    let recent = Utc::now() - Duration::hours(2);
    store
        .add_tracks(&[
            Track {
                staff: "A".into(),
                fixes: mk(t0, 3),
            },
            Track {
                staff: "A".into(),
                fixes: mk(recent, 4),
            },
            Track {
                staff: "B".into(),
                fixes: mk(recent, 2),
            },
        ])
        .expect("add");
    let all = store.tracks(&TrackQuery::default()).expect("tracks");
    assert_eq!(all.iter().map(|t| t.fixes.len()).sum::<usize>(), 9);
    // times survive to the millisecond, coordinates exactly
    assert_eq!(all[1].fixes, mk(recent, 4));
    // a period cuts fixes out of a chunk; people and boxes filter chunks
    let ids = ["A".to_owned()];
    let q = TrackQuery {
        from: Some(recent + Duration::seconds(15)),
        to: Some(recent + Duration::seconds(35)),
        staff: Some(&ids),
        bbox: None,
    };
    let got = store.tracks(&q).expect("tracks");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].fixes.len(), 2);
    let far = TrackQuery {
        bbox: Some([100.0, 20.0, 100.1, 20.1]),
        ..TrackQuery::default()
    };
    assert!(store.tracks(&far).expect("tracks").is_empty());
    let last = store
        .last_position("A", Utc::now())
        .expect("last")
        .expect("a fix");
    assert_eq!(last, mk(recent, 4)[3]);
    // a time inside a chunk: its last fix by then (the chunk is decoded)
    let inside = store
        .last_position("A", recent + Duration::seconds(15))
        .expect("last")
        .expect("a fix");
    assert_eq!(inside, mk(recent, 4)[1]);
    // a time between chunks: the earlier chunk's last fix (kept beside it)
    let between = store
        .last_position("A", recent - Duration::hours(1))
        .expect("last")
        .expect("a fix");
    assert_eq!(between, mk(t0, 3)[2]);
    // before anything
    assert_eq!(
        store
            .last_position("A", t0 - Duration::seconds(1))
            .expect("last"),
        None
    );
    let (bytes, fixes) = store.track_bytes().expect("bytes");
    assert_eq!(fixes, 9);
    assert!(
        bytes > 9 * 24 && bytes < 9 * 80,
        "{bytes} bytes for 9 fixes"
    );
    // the purge goes by the retention (180 days by default): the old chunk goes
    let (chunks, _) = gridatlas::service::field::purge(store.as_ref(), Utc::now()).expect("purge");
    assert_eq!(chunks, 1);
    let all = store.tracks(&TrackQuery::default()).expect("tracks");
    assert_eq!(all.iter().map(|t| t.fixes.len()).sum::<usize>(), 6);
}

fn tracks_over_http(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let day = s.roster().await;
        // store a walk of the patroller through the service, as the fixes route will
        let inside = offset(s.east, -3.0, 0.0);
        let t = local(day, 9, 0);
        let fixes: Vec<(String, Fix)> = (0..30)
            .map(|i| {
                let p = offset(inside, -(i as f64) * 10.0, 0.0);
                (
                    STAFF.to_owned(),
                    Fix {
                        t_ms: (t + Duration::seconds(10 * i)).timestamp_millis(),
                        lon: p.0,
                        lat: p.1,
                        accuracy_m: Some(if i == 5 { 150.0 } else { 5.0 }),
                    },
                )
            })
            .collect();
        let caller = gridatlas::service::access::Caller::operator("test");
        let r =
            gridatlas::service::field::ingest(s.store.as_ref(), &caller, fixes.clone(), Utc::now())
                .expect("ingest");
        assert_eq!((r.received, r.stored, r.dropped_accuracy), (30, 29, 1));
        // the same batch again: every fix a repeat
        let r = gridatlas::service::field::ingest(s.store.as_ref(), &caller, fixes, Utc::now())
            .expect("ingest");
        assert_eq!((r.stored, r.dropped_duplicate), (0, 30));
        let path = format!("/api/v1/tracks?staff={STAFF}&from={day}");
        let resp = s.send("GET", &path, &s.dispatcher, None).await;
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/geo+json")
        );
        let v: Value = resp.json().await.expect("json");
        let f = &v["features"];
        assert_eq!(f.as_array().map(Vec::len), Some(1), "{v}");
        assert_eq!(f[0]["geometry"]["type"], "LineString");
        assert_eq!(f[0]["properties"]["fixes"], 29);
        let len = f[0]["properties"]["length_m"].as_f64().expect("length");
        assert!((len - 290.0).abs() < 0.1, "{len}");
        // personal data: not for another street's dispatcher, a grid worker or intake
        problem(s.send("GET", &path, &s.other_dispatcher, None).await, 403).await;
        problem(s.send("GET", &path, &s.worker, None).await, 403).await;
        problem(s.send("GET", &path, &s.intake, None).await, 403).await;
        // a period outside the years 1 to 9999 is a bad parameter, not an overflow
        let far = format!("/api/v1/tracks?staff={STAFF}&from=0000-06-01T00:00:00Z");
        let p = problem(s.send("GET", &far, &s.supervisor, None).await, 400).await;
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains("from")),
            "{p}"
        );
        assert_eq!(
            s.ok("GET", &path, &s.supervisor, None).await["features"],
            *f
        );
        // the street's paths (the portal's layer): every person's, the same path here; personal
        // data as above; at most 7 days
        let street = format!("/api/v1/tracks?street={}&from={day}", s.street);
        let v = s.ok("GET", &street, &s.dispatcher, None).await;
        assert_eq!(v["features"], *f, "{v}");
        assert_eq!(v["features"][0]["properties"]["staff"], STAFF);
        problem(s.send("GET", &street, &s.other_dispatcher, None).await, 403).await;
        problem(s.send("GET", &street, &s.worker, None).await, 403).await;
        let long = format!(
            "/api/v1/tracks?street={}&from={day}&to={}",
            s.street,
            day + Duration::days(8)
        );
        let p = problem(s.send("GET", &long, &s.dispatcher, None).await, 400).await;
        assert_eq!(p["parameter"], "to", "{p}");
        problem(
            s.send("GET", "/api/v1/tracks", &s.dispatcher, None).await,
            400,
        )
        .await;
    });
}

/// Points every `step_m` along the first line of `code`'s geometry.
fn walk_along(code: &str, step_m: f64) -> Vec<(f64, f64)> {
    let f = demo().get(code).expect("segment");
    let line = &f.geometry.as_line().expect("line").0[0].0;
    let mut out = Vec::new();
    for w in line.windows(2) {
        let frame = LocalFrame::new(w[0].x, w[0].y);
        let b = frame.to_xy(w[1]);
        let len = b.x.hypot(b.y);
        let n = (len / step_m).ceil().max(1.0) as usize;
        for i in 0..n {
            let t = i as f64 / n as f64;
            let c = frame.to_lonlat(Coord {
                x: b.x * t,
                y: b.y * t,
            });
            out.push((c.x, c.y));
        }
    }
    if let Some(last) = line.last() {
        out.push((last.x, last.y));
    }
    out
}

fn fixes_and_coverage_over_http(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let day = s.roster().await;
        let segment = demo()
            .layer(Layer::RoadSegment)
            .find(|r| {
                demo().parent_of(r).is_some_and(|b| {
                    b.code == s.grid || b.parent.as_deref() == Some(s.grid.as_str())
                })
            })
            .map(|r| r.code.clone())
            .expect("a road segment of the grid");
        let t0 = local(day, 9, 0);
        let ndjson: String = walk_along(&segment, 10.0)
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "{}\n",
                    json!({"staff": STAFF, "lon": p.0, "lat": p.1, "accuracy_m": 6,
                           "t": (t0 + Duration::seconds(8 * i as i64)).to_rfc3339()})
                )
            })
            .collect();
        let post = |auth: &str, ct: &str, body: String, query: &str| {
            s.client
                .post(format!("{}/api/v1/fixes{query}", s.base))
                .header("authorization", auth)
                .header("content-type", ct)
                .body(body)
                .send()
        };
        let resp = post(&s.worker, "application/x-ndjson", ndjson.clone(), "")
            .await
            .expect("post");
        assert_eq!(resp.status(), 200);
        let v: Value = resp.json().await.expect("json");
        let n = ndjson.lines().count();
        assert_eq!(
            (v["received"].as_u64(), v["stored"].as_u64()),
            (Some(n as u64), Some(n as u64)),
            "{v}"
        );
        // the segment is covered end to end; the grid was patrolled
        let v = s
            .ok(
                "GET",
                &format!("/api/v1/coverage?grid={}&from={day}", s.grid),
                &s.dispatcher,
                None,
            )
            .await;
        let seg = v["segments"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["code"] == segment.as_str()))
            .expect("segment row");
        assert!(seg["share"].as_f64().is_some_and(|x| x > 0.999), "{seg}");
        assert_eq!(seg["covered"], true);
        let g = &v["grids"][0];
        assert_eq!(g["code"], s.grid.as_str());
        assert_eq!(g["patrolled"], true);
        assert!(
            !g["unpatrolled_segments"]
                .as_array()
                .expect("list")
                .iter()
                .any(|x| x == segment.as_str())
        );
        assert_eq!(v["persons"][0]["staff"], STAFF, "{v}");
        // an intake token gets no persons
        let v = s
            .ok(
                "GET",
                &format!("/api/v1/coverage?grid={}&from={day}", s.grid),
                &s.intake,
                None,
            )
            .await;
        assert!(v.get("persons").is_none());
        // geofence: the walk entered the grid
        let v = s
            .ok(
                "GET",
                &format!("/api/v1/geofence?staff={STAFF}&from={day}"),
                &s.supervisor,
                None,
            )
            .await;
        assert!(
            v["events"]
                .as_array()
                .expect("events")
                .iter()
                .any(|e| e["event"] == "entered" && e["area"] == s.grid.as_str()),
            "{v}"
        );
        // GPX back out, and a GPX in for the second person by the street's dispatcher
        let gpx = s
            .client
            .get(format!(
                "{}/api/v1/tracks.gpx?staff={STAFF}&from={day}",
                s.base
            ))
            .header("authorization", &s.dispatcher)
            .send()
            .await
            .expect("gpx")
            .text()
            .await
            .expect("text");
        let back = gridatlas::field::gpx::read_gpx(gpx.as_bytes(), &Default::default())
            .expect("our GPX reads back");
        assert_eq!(back.len(), n);
        let resp = post(&s.dispatcher, "application/gpx+xml", gpx, "?staff=P0002")
            .await
            .expect("post");
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["stored"].as_u64(), Some(n as u64), "{v}");
        // refusals: someone else's fixes, a bad line named, not NDJSON
        let other = format!(
            "{}\n",
            json!({"staff": "P0002", "lon": 121.1, "lat": 30.8, "t": t0 + Duration::hours(5)})
        );
        problem(
            post(&s.worker, "application/x-ndjson", other, "")
                .await
                .expect("post"),
            403,
        )
        .await;
        let bad = format!(
            "{}\n{}\n",
            json!({"staff": STAFF, "lon": 121.1, "lat": 30.8, "t": t0}),
            json!({"staff": STAFF, "lon": 121.1, "lat": 91, "t": t0})
        );
        let p = problem(
            post(&s.worker, "application/x-ndjson", bad, "")
                .await
                .expect("post"),
            422,
        )
        .await;
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains("line 2")),
            "{p}"
        );
        problem(
            post(&s.worker, "text/plain", "x".into(), "")
                .await
                .expect("post"),
            415,
        )
        .await;
        // the roster as GBK CSV, and back in as CSV
        let bytes = s
            .client
            .get(format!("{}/api/v1/staff.csv?encoding=gbk", s.base))
            .header("authorization", &s.dispatcher)
            .send()
            .await
            .expect("csv")
            .bytes()
            .await
            .expect("bytes");
        let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
        assert!(
            !bad && text.contains("张伟") && text.contains("工号"),
            "{text}"
        );
        let resp = s
            .client
            .put(format!("{}/api/v1/staff?encoding=gbk", s.base))
            .header("authorization", &s.dispatcher)
            .header("content-type", "text/csv")
            .body(bytes.to_vec())
            .send()
            .await
            .expect("put");
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["staff"], 2, "{v}");
    });
}

/// The README's first command's field data, checked against what the synthetic day planted:
/// the supervisor sees the late, absent, early-leaving and outside people, the road segments
/// nobody walked (and, per grid, the astray person's grid as not patrolled by them), and the
/// tracks.
fn the_demo_patrol_day_shows_what_was_planted(db: &TestDb) {
    use gridatlas::service::field as f;
    let store = db.open();
    let s = store.as_ref();
    let n = gridatlas::service::setup::bootstrap_demo(s).expect("demo");
    gridatlas::service::setup::bootstrap_categories(s).expect("categories");
    let atlas = Atlas::build(s.load_generation(n).expect("load")).with_generation(i64::from(n));
    let now = Utc::now();
    let stored = gridatlas::service::setup::bootstrap_field(s, &atlas, now).expect("field");
    assert!(stored > 1_000_000, "{stored} fixes");
    let (settings, _) = f::settings(s).expect("settings");
    let yesterday = settings.local_date(now) - Duration::days(1);
    let day = gridatlas::synth::patrols::patrol_day(atlas.features(), &settings, yesterday, 1);
    let truth = &day.truth;
    let sup = gridatlas::service::access::Caller::operator("supervisor");
    let a = f::attendance_report(s, &atlas, &sup, yesterday, None, None, None, now)
        .expect("attendance");
    let rows = a.rows.expect("rows");
    let status = |id: &str| {
        rows.iter()
            .find(|r| r.staff == id)
            .unwrap_or_else(|| panic!("no row of {id}"))
    };
    assert!(!truth.late.is_empty());
    for l in &truth.late {
        assert_eq!(status(&l.staff).status.as_str(), "late", "{}", l.staff);
    }
    for id in &truth.absent {
        assert_eq!(status(id).status.as_str(), "absent", "{id}");
    }
    for e in &truth.early_leave {
        assert!(status(&e.staff).early_leave, "{}", e.staff);
    }
    assert!(!truth.outside.is_empty());
    for o in &truth.outside {
        assert!(status(&o.staff).outside, "{}", o.staff);
    }
    let late_or_worse = rows
        .iter()
        .filter(|r| r.status.as_str() != "on_time")
        .count();
    assert_eq!(
        late_or_worse,
        truth.late.len() + truth.absent.len() + 1,
        "the astray person's check-ins never count"
    );
    // coverage of yesterday: every unwalked segment has nobody within the radius
    let (from, to) = f::day_span(&settings, yesterday);
    let c = f::coverage(s, &atlas, &sup, None, None, from, to).expect("coverage");
    assert!(c.fixes > 1_000_000);
    assert!(!truth.unwalked_segments.is_empty());
    let mut uncovered = 0;
    for code in &truth.unwalked_segments {
        let row = c
            .segments
            .iter()
            .find(|x| &x.code == code)
            .expect("segment row");
        // nobody walked along it; a walker may have crossed it (the synthetic day leaves out
        // the fixes near it, and the path's chord across it covers at most a crossing's width)
        assert!(!row.covered, "{code}: {row:?}");
        assert!(row.covered_m <= 2.5 * c.radius_m, "{code}: {row:?}");
        let grid = row.grid.as_deref().expect("grid");
        let g = c.grids.iter().find(|g| g.code == grid).expect("grid row");
        assert!(
            g.unpatrolled_segments.contains(code) || row.covered_m > 0.0,
            "{code}"
        );
        uncovered += usize::from(g.unpatrolled_segments.contains(code));
    }
    assert!(
        uncovered * 2 >= truth.unwalked_segments.len(),
        "most unwalked segments are listed as not patrolled at all: {uncovered}"
    );
    // the astray person covered none of their own grid's segments and spent no time in it
    let astray = truth.never_in_grid.as_ref().expect("astray");
    let p = c
        .persons
        .as_ref()
        .and_then(|p| p.iter().find(|r| r.staff == astray.staff))
        .expect("astray person's row");
    assert_eq!((p.covered_segments, p.inside_s), (0, 0.0), "{p:?}");
    assert!(p.fixes > 1000);
    // and their track is there
    let (_, fixes) = f::tracks(s, &sup, &astray.staff, from, to).expect("track");
    assert_eq!(fixes.len(), p.fixes);
}

/// A reader of a server-sent event stream.
struct Events {
    resp: reqwest::Response,
    buf: Vec<u8>,
}

impl Events {
    /// Opens `/api/v1/events{query}` with `auth` and reads its `ready` event.
    async fn open(s: &Server, auth: &str, query: &str) -> Events {
        let resp = s
            .send("GET", &format!("/api/v1/events{query}"), auth, None)
            .await;
        assert_eq!(resp.status(), 200, "/api/v1/events{query}");
        assert_eq!(
            resp.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        let mut events = Events {
            resp,
            buf: Vec::new(),
        };
        let (kind, data) = events.next().await;
        assert_eq!(kind, "ready", "{data}");
        assert!(data["seq"].is_u64(), "{data}");
        events
    }

    /// The next event: its `event:` name and its `data:` as JSON (keep-alive comments skipped).
    async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buf.drain(..i + 2).collect();
                let text = String::from_utf8(block).expect("utf-8");
                let (mut kind, mut data) = (String::new(), String::new());
                for line in text.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        kind = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if kind.is_empty() && data.is_empty() {
                    continue;
                }
                return (
                    kind,
                    serde_json::from_str(&data).expect("event data is JSON"),
                );
            }
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(10), self.resp.chunk())
                .await
                .expect("an event within 10 s")
                .expect("the stream")
                .expect("the stream is open");
            self.buf.extend_from_slice(&chunk);
        }
    }
}

/// `GET /api/v1/events`: each subscriber sees the changes of its scope as they are committed —
/// a case of its street, a check-in with the person only for the roles that read personal data —
/// and nothing of other streets.
fn live_events_follow_cases_and_checkins_in_scope(db: &TestDb) {
    use geo::InteriorPoint;
    run(async {
        let s = start(db).await;
        gridatlas::service::setup::bootstrap_categories(s.store.as_ref()).expect("task list");
        let day = s.roster().await;
        let mut dispatcher =
            Events::open(&s, &s.dispatcher, &format!("?street={}", s.street)).await;
        let mut other = Events::open(&s, &s.other_dispatcher, "").await;
        let mut intake = Events::open(&s, &s.intake, "").await;
        // refused: no token, a street outside the token's scope
        let r = s
            .client
            .get(format!("{}/api/v1/events", s.base))
            .send()
            .await
            .expect("request");
        problem(r, 401).await;
        let other_street = demo()
            .layer(Layer::Street)
            .find(|f| f.code != s.street)
            .map(|f| f.code.clone())
            .expect("another street");
        problem(
            s.send(
                "GET",
                &format!("/api/v1/events?street={other_street}"),
                &s.dispatcher,
                None,
            )
            .await,
            403,
        )
        .await;

        // a case in the dispatcher's street
        let inside = offset(s.east, -3.0, 0.0);
        let created = s
            .ok(
                "POST",
                "/api/v1/cases",
                &s.intake,
                Some(json!({"lon": inside.0, "lat": inside.1, "category": "RG0105", "source": "hotline", "description": "楼上抛下花盆"})),
            )
            .await;
        let id = created["id"].as_i64().expect("id");
        let (kind, e) = dispatcher.next().await;
        assert_eq!(kind, "case", "{e}");
        assert_eq!(e["case"]["id"], id, "{e}");
        assert_eq!(e["street"], s.street.as_str(), "{e}");
        assert_eq!(e["case"]["stage"], "reported", "{e}");
        let (kind, e) = intake.next().await;
        assert_eq!(
            (kind.as_str(), e["case"]["id"].as_i64()),
            ("case", Some(id))
        );

        // a case in another street: the other street's dispatcher sees it, and nothing before it
        let grid = demo()
            .layer(Layer::ResidentGrid)
            .find(|g| g.parent.as_deref() == Some(other_street.as_str()))
            .expect("a grid of the other street");
        let p = grid
            .geometry
            .as_area()
            .and_then(|a| a.interior_point())
            .expect("interior point");
        let elsewhere = s
            .ok(
                "POST",
                "/api/v1/cases",
                &s.intake,
                Some(json!({"lon": p.x(), "lat": p.y(), "category": "RG0105", "source": "hotline", "description": "另一街镇"})),
            )
            .await;
        let (kind, e) = other.next().await;
        assert_eq!(kind, "case", "{e}");
        assert_eq!(
            e["case"]["id"], elsewhere["id"],
            "the first event of the other street: {e}"
        );
        let (_, e) = intake.next().await;
        assert_eq!(e["case"]["id"], elsewhere["id"]);

        // a check-in: the street's dispatcher sees the person; intake only the class
        let v = s.check_in(inside, local(day, 7, 55), "in").await;
        let (kind, e) = dispatcher.next().await;
        assert_eq!(
            kind, "checkin",
            "the case of the other street is not sent here: {e}"
        );
        assert_eq!(e["checkin"]["staff"], STAFF, "{e}");
        assert_eq!(e["checkin"]["class"], v["checkin"]["class"], "{e}");
        assert_eq!(e["grid"], s.grid.as_str(), "{e}");
        let (kind, e) = intake.next().await;
        assert_eq!(kind, "checkin", "{e}");
        assert_eq!(e["checkin"]["staff"], Value::Null, "{e}");
        assert_eq!(e["checkin"]["area"], Value::Null, "{e}");
        assert_eq!(e["checkin"]["class"], v["checkin"]["class"], "{e}");
        // the other street's dispatcher does not see the check-in: its next event is the next
        // case of its street
        let again = s
            .ok(
                "POST",
                "/api/v1/cases",
                &s.intake,
                Some(json!({"lon": p.x(), "lat": p.y(), "category": "RG0105", "source": "hotline", "description": "又一件"})),
            )
            .await;
        let (kind, e) = other.next().await;
        assert_eq!(
            (kind.as_str(), &e["case"]["id"]),
            ("case", &again["id"]),
            "{e}"
        );
    });
}

/// `checkin_context` reads on one connection what `staff_member`, `setting`, `last_position`
/// and `duty` read one by one (the check-in's reads), and nothing for an unknown 工号.
fn checkin_context_reads_what_the_four_calls_read(db: &TestDb) {
    use gridatlas::store::Setting;
    let store = db.open();
    let a = patroller("A", "310116001001", "310116001");
    let b = patroller("B", "310116001001", "310116001");
    store
        .replace_staff(None, &[a.clone(), b.clone()])
        .expect("staff");
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
    let entries: Vec<DutyEntry> = [(20, "day"), (21, "day"), (21, "night"), (23, "day")]
        .into_iter()
        .flat_map(|(d, shift)| {
            ["A", "B"].map(|staff| DutyEntry {
                staff: staff.into(),
                date: day(d),
                shift: shift.into(),
            })
        })
        .collect();
    store
        .replace_duty(day(1), day(30), &["A".into(), "B".into()], &entries)
        .expect("duty");
    let at = Utc::now() - Duration::hours(1);
    let fix = |t: DateTime<Utc>, lon: f64| Fix {
        t_ms: t.timestamp_millis(),
        lon,
        lat: 30.9,
        accuracy_m: None,
    };
    // A's chunk straddles `at` (its last fix is after it: the chunk is read and decoded); A's
    // check-in between two fixes is older than the second, and the one a microsecond after `at`
    // does not count; B's only positions are check-ins, one at `at` itself (it counts: times keep
    // their microseconds) and one after it.
    store
        .add_tracks(&[Track {
            staff: "A".into(),
            fixes: vec![
                fix(at - Duration::minutes(2), 121.1),
                fix(at - Duration::minutes(1), 121.2),
                fix(at + Duration::minutes(1), 121.3),
            ],
        }])
        .expect("tracks");
    let checkin = |staff: &str, t: DateTime<Utc>, lon: f64| gridatlas::field::duty::CheckIn {
        id: 0,
        staff: staff.into(),
        t,
        punch: gridatlas::field::duty::Punch::In,
        lon,
        lat: 30.9,
        accuracy_m: Some(5.0),
        place: gridatlas::field::duty::Place::Inside,
        distance_m: Some(0.0),
        area: Some("310116001001".into()),
        class: gridatlas::field::duty::Class::OnTime,
        shift_date: None,
        shift: None,
        recorded_at: t,
    };
    for (staff, t, lon) in [
        ("A", at - Duration::seconds(90), 121.15),
        ("A", at + Duration::microseconds(1), 121.4),
        ("B", at, 121.5),
        ("B", at + Duration::seconds(30), 121.6),
    ] {
        store
            .add_checkin(&checkin(staff, t, lon))
            .expect("check-in");
    }
    let empty = store
        .checkin_context("A", at, day(21), day(22))
        .expect("context");
    assert_eq!(empty.settings, None, "no settings stored yet");
    assert_eq!(
        empty.staff.as_ref(),
        Some(&a),
        "the person, without settings"
    );
    assert_eq!(empty.duty.len(), 2, "and their duty, without settings");
    let settings = serde_json::to_string(
        &FieldSettings::from_json(gridatlas::field::duty::EXAMPLE).expect("example"),
    )
    .expect("json");
    store
        .replace_setting(Setting::Field, &settings)
        .expect("settings");
    let got = store
        .checkin_context("A", at, day(21), day(22))
        .expect("context");
    assert_eq!(got.staff, Some(a));
    assert_eq!(got.staff, store.staff_member("A").expect("staff"));
    assert_eq!(got.settings.as_deref(), Some(settings.as_str()));
    assert_eq!(
        got.last_position,
        store.last_position("A", at).expect("last")
    );
    assert_eq!(
        got.last_position,
        Some(fix(at - Duration::minutes(1), 121.2))
    );
    // A's entries of the 21st and 22nd only: not B's, not the 20th's or the 23rd's
    assert_eq!(
        got.duty,
        store.duty(day(21), day(22), Some("A")).expect("duty")
    );
    assert_eq!(
        got.duty
            .iter()
            .map(|e| (e.staff.as_str(), e.date, e.shift.as_str()))
            .collect::<Vec<_>>(),
        [("A", day(21), "day"), ("A", day(21), "night")]
    );
    // B has no track: their check-in at `at` is their position
    let b_context = store
        .checkin_context("B", at, day(21), day(22))
        .expect("context");
    assert_eq!(b_context.staff, Some(b));
    assert_eq!(
        b_context.last_position,
        Some(fix(at, 121.5)),
        "B's check-in at `at` (not the later one)"
    );
    assert_eq!(
        b_context.last_position,
        store.last_position("B", at).expect("last")
    );
    // a microsecond before, B has no position at all; after A's last fix, A's is that fix
    let before = store
        .checkin_context("B", at - Duration::microseconds(1), day(21), day(22))
        .expect("context");
    assert_eq!(before.last_position, None);
    let later = at + Duration::minutes(5);
    let a_later = store
        .checkin_context("A", later, day(21), day(22))
        .expect("context");
    assert_eq!(
        a_later.last_position,
        Some(fix(at + Duration::minutes(1), 121.3))
    );
    assert_eq!(
        a_later.last_position,
        store.last_position("A", later).expect("last")
    );
    // dates without an entry: the person and the rest, no duty
    let off = store
        .checkin_context("A", later, day(24), day(25))
        .expect("context");
    assert_eq!(off.staff, a_later.staff);
    assert_eq!(off.settings, a_later.settings);
    assert_eq!(off.last_position, a_later.last_position);
    assert_eq!(off.duty, []);
    // an unknown 工号: nothing at all (the check-in answers 404)
    let nobody = store
        .checkin_context("Z", at, day(1), day(30))
        .expect("context");
    assert_eq!(nobody, gridatlas::store::CheckInContext::default());
}

/// On PostgreSQL the check-in's reads use their indexes however small the tables were when the
/// store first ran them: the one statement of person, newest position (`positions`) and duty,
/// and, for a check-in dated before the newest position, the newest-check-in and newest-track
/// lookups. Here the five tables are analysed near-empty (as `ANALYZE` leaves a new
/// district's), the reads run on them (long enough for a cached statement to switch to a
/// generic plan), the tables then grow to 20,000 check-ins, 2,000 track chunks, 501 people's
/// positions, 501 people and 15,001 duty entries without being analysed again (autovacuum off
/// on them), and the reads run 40 more times. The server's own count of rows read by
/// sequential scans, read once the store's connections have closed (a backend reports its
/// counts as it ends), must stay below one table's worth: a plan kept from the near-empty table
/// reads all of it on each of the 40 calls.
#[test]
fn postgis_checkin_lookups_use_the_index_as_tables_grow() {
    use diesel::{Connection, RunQueryDsl};
    let Some(db) = TestDb::postgres("checkin_plans") else {
        return;
    };
    let store = db.open();
    let mut admin = diesel::PgConnection::establish(&db.url).expect("connection");
    let sql = |conn: &mut diesel::PgConnection, q: &str| {
        diesel::sql_query(q)
            .execute(conn)
            .unwrap_or_else(|e| panic!("{q}: {e}"));
    };
    store
        .replace_staff(None, &[patroller("A", "310116001001", "310116001")])
        .expect("staff");
    for t in ["checkins", "tracks", "positions", "staff", "duty"] {
        sql(
            &mut admin,
            &format!("ALTER TABLE {t} SET (autovacuum_enabled = false)"),
        );
        sql(&mut admin, &format!("ANALYZE {t}"));
    }
    let hour_ago = Utc::now() - Duration::hours(1);
    let at = DateTime::from_timestamp(hour_ago.timestamp(), 0).expect("whole seconds");
    let fix = |t: DateTime<Utc>| Fix {
        t_ms: t.timestamp_millis(),
        lon: 121.2,
        lat: 30.9,
        accuracy_m: None,
    };
    store
        .add_tracks(&[Track {
            staff: "A".into(),
            fixes: vec![
                fix(at - Duration::minutes(3)),
                fix(at - Duration::minutes(2)),
            ],
        }])
        .expect("track");
    sql(
        &mut admin,
        &format!(
            "INSERT INTO checkins (staff, t, punch, lon, lat, place, class, recorded_at) \
             VALUES ('A', '{}', 'in', 121.2, 30.9, 'inside', 'on_time', now())",
            (at - Duration::minutes(1)).to_rfc3339()
        ),
    );
    // A's newest position is after `at`: a check-in at `at` (sent late) searches checkins and
    // tracks; one at `later` reads A's row of `positions`
    sql(
        &mut admin,
        &format!(
            "INSERT INTO checkins (staff, t, punch, lon, lat, place, class, recorded_at) \
             VALUES ('A', '{}', 'in', 121.2, 30.9, 'inside', 'on_time', now())",
            (at + Duration::minutes(1)).to_rfc3339()
        ),
    );
    let later = at + Duration::minutes(2);
    let day = at.date_naive();
    store
        .replace_duty(
            day,
            day,
            &["A".into()],
            &[DutyEntry {
                staff: "A".into(),
                date: day,
                shift: "day".into(),
            }],
        )
        .expect("duty");
    let lookups = |n: usize| {
        for _ in 0..n {
            let c = store.checkin_context("A", at, day, day).expect("context");
            assert_eq!(c.staff.map(|p| p.id).as_deref(), Some("A"));
            assert_eq!(c.duty.len(), 1);
            assert_eq!(
                c.last_position.map(|f| f.t_ms),
                Some(fix(at - Duration::minutes(1)).t_ms)
            );
            let c = store
                .checkin_context("A", later, day, day)
                .expect("context");
            assert_eq!(
                c.last_position.map(|f| f.t_ms),
                Some(fix(at + Duration::minutes(1)).t_ms)
            );
        }
    };
    // more than five calls on each of the pool's connections
    lookups(12 * store.connections());
    sql(
        &mut admin,
        "INSERT INTO checkins (staff, t, punch, lon, lat, place, class, recorded_at) \
         SELECT 'X' || (i % 500), now() - i * interval '1 second', 'in', 121.2, 30.9, \
                'inside', 'on_time', now() FROM generate_series(1, 20000) i",
    );
    let others: Vec<Track> = (0..2000)
        .map(|i| Track {
            staff: format!("X{}", i % 500),
            fixes: vec![
                fix(at - Duration::seconds(i + 20)),
                fix(at - Duration::seconds(i + 10)),
            ],
        })
        .collect();
    store.add_tracks(&others).expect("tracks");
    // the roster and the duty roster grow by imports (the store's only way), here of another
    // street
    let others: Vec<Staff> = (0..500)
        .map(|i| patroller(&format!("X{i}"), "310116002001", "310116002"))
        .collect();
    store
        .replace_staff(Some(&["310116002".into()]), &others)
        .expect("staff");
    let (first, last) = (day - chrono::Days::new(29), day);
    let entries: Vec<DutyEntry> = others
        .iter()
        .flat_map(|p| {
            first
                .iter_days()
                .take_while(|d| *d <= last)
                .map(|date| DutyEntry {
                    staff: p.id.clone(),
                    date,
                    shift: "day".into(),
                })
        })
        .collect();
    let ids: Vec<String> = others.iter().map(|p| p.id.clone()).collect();
    store
        .replace_duty(first, last, &ids, &entries)
        .expect("duty");
    lookups(40);
    drop(store);
    let name = db.url.rsplit('/').next().expect("database name").to_owned();
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let closed = (0..500).any(|_| {
        let left = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ))
        .get_result::<Count>(&mut admin)
        .expect("count")
        .n;
        std::thread::sleep(std::time::Duration::from_millis(10));
        left == 0
    });
    assert!(closed, "the store's connections did not close");
    for (table, rows) in [
        ("checkins", 20_000),
        ("tracks", 2_000),
        ("positions", 501),
        ("staff", 501),
        ("duty", 15_001),
    ] {
        let read = diesel::sql_query(format!(
            "SELECT coalesce(seq_tup_read, 0) AS n FROM pg_stat_user_tables WHERE relname = '{table}'"
        ))
        .get_result::<Count>(&mut admin)
        .expect("stats")
        .n;
        assert!(
            read < rows,
            "{table}: {read} rows read by sequential scans after it grew to {rows}; the lookups kept a plan made for the empty table"
        );
    }
}

suite!(
    check_in_places_and_classes,
    check_in_refusals,
    roster_and_duty_are_scoped,
    tracks_are_stored_and_purged,
    checkin_context_reads_what_the_four_calls_read,
    tracks_over_http,
    fixes_and_coverage_over_http,
    the_demo_patrol_day_shows_what_was_planted,
    live_events_follow_cases_and_checkins_in_scope,
);
