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
        assert_eq!(
            s.ok("GET", &path, &s.supervisor, None).await["features"],
            *f
        );
    });
}

suite!(
    check_in_places_and_classes,
    check_in_refusals,
    roster_and_duty_are_scoped,
    tracks_are_stored_and_purged,
    tracks_over_http,
);
