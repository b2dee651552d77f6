//! The case workflow over HTTP on both stores: the whole life of a hotline case across the Spring
//! Festival week on the example calendar (every step by the right role, every due time to the
//! minute), the whole life of a patrol case, roles and scopes refused with what was needed, the
//! escalation when the front-end limit passes, extensions, hold, supervision, duplicates on
//! intake, the street queue, the working calendar's API, and Open311's view of the stages.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use chrono::{DateTime, Duration, Utc};
use db::TestDb;
use geo::InteriorPoint;
use gridatlas::atlas::Atlas;
use gridatlas::http::{AppState, ServeConfig};
use gridatlas::model::{Feature, Layer};
use gridatlas::store::{Store, TokenSpec};
use http_support::{demo, problem, run, serve};
use serde_json::{Value, json};
use std::sync::Arc;

struct Server {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    state: AppState,
}

async fn start(db: &TestDb) -> Server {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    gridatlas::http::serve::bootstrap_categories(store.as_ref()).expect("categories");
    let set = store.load_generation(n).expect("load");
    let state = AppState::with_store(
        Atlas::build(set).with_generation(i64::from(n)),
        ServeConfig::default(),
        Some(store.clone()),
    );
    Server {
        base: serve(state.clone()).await,
        client: reqwest::Client::new(),
        store,
        state,
    }
}

impl Server {
    /// A token of `role` for `streets`, `grids` or `department`, held by `subject`.
    fn token(&self, role: &str, scope: &[&str], subject: &str) -> String {
        let secret = gridatlas::http::auth::new_secret();
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut spec = TokenSpec {
            role: role.into(),
            subject: Some(subject.into()),
            ..TokenSpec::default()
        };
        match role {
            "grid_worker" => spec.grids = list(scope),
            "department" => spec.department = scope.first().map(|d| (*d).to_owned()),
            _ => spec.streets = list(scope),
        }
        self.store.create_token_with(&spec, &secret).expect("token");
        secret
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut r = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.expect("request")
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// Takes `action` on case `id` with `body` as `token`; the case after it (200 expected).
    async fn act(&self, id: i64, token: &str, action: &str, at: &str, body: Value) -> Value {
        let mut b = json!({"action": action, "at": at});
        for (k, v) in body.as_object().expect("object") {
            b[k] = v.clone();
        }
        let r = self
            .post(&format!("/api/v1/cases/{id}/events"), token, b)
            .await;
        let status = r.status().as_u16();
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, 200, "{action} at {at}: {v}");
        v
    }

    /// The problem answered to `action` on case `id` as `token`, which must have `status`.
    async fn refused(&self, id: i64, token: &str, body: Value, status: u16) -> Value {
        problem(
            self.post(&format!("/api/v1/cases/{id}/events"), token, body)
                .await,
            status,
        )
        .await
    }
}

/// A point well inside a block of a grid of `layer`, with the block's grid and street codes.
fn inside(layer: Layer) -> (f64, f64, String, String) {
    let set = demo();
    for b in set.layer(Layer::Block) {
        let Some(grid) = set.parent_of(b).filter(|g| g.layer == layer) else {
            continue;
        };
        let Some(p) = b.geometry.as_area().and_then(|a| a.interior_point()) else {
            continue;
        };
        let street: Option<&Feature> = set.parent_of(grid);
        if let Some(street) = street {
            return (p.x(), p.y(), grid.code.clone(), street.code.clone());
        }
    }
    panic!("no block of a {layer:?}");
}

/// The due time of the case's stage, in UTC+8 as the examples are written.
fn due(v: &Value) -> String {
    let t: DateTime<Utc> = serde_json::from_value(v["due_at"].clone()).expect("due_at");
    t.with_timezone(&gridatlas::routing::china_standard_time())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

fn hotline_case_across_the_spring_festival(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let (x, y, grid, street) = inside(Layer::ResidentGrid);
        let intake = s.token("intake", &[], "12345热线 李敏");
        let dispatcher = s.token("dispatcher", &[&street], "街镇分中心 王伟");
        let other_street = s.token("dispatcher", &["310116999"], "别的街镇");
        let worker = s.token("grid_worker", &[&grid], "网格员 张强");
        let other_worker = s.token("grid_worker", &["310116999001"], "别的网格员");
        let housing = s.token("department", &["区房管局"], "房管局 赵");
        let greening = s.token("department", &["区绿化市容局"], "绿化市容局 钱");
        let supervisor = s.token("supervisor", &[], "区督办 孙");

        // Friday 13 February 2026, 16:00: the last working Friday before the Spring Festival
        // (15–23 February off; Saturday 14 and Saturday 28 February are 调休 working days; the
        // example calendar's hours are 09:00–12:00 and 13:00–17:00). Category RG0105 (高空抛物):
        // verify 1 work hour, dispose 2 work days (its own), check 1 work day (its group's),
        // accept, open and dispatch 1 work hour, close 1 work day (the defaults).
        let r = s
            .post(
                "/api/v1/cases",
                &intake,
                json!({"lon": x, "lat": y, "category": "RG0105", "source": "hotline",
                       "description": "楼上抛下花盆", "reported_at": "2026-02-13T16:00:00+08:00"}),
            )
            .await;
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.json().await.expect("json");
        let id = v["id"].as_i64().expect("id");
        assert_eq!(
            (v["stage"].as_str(), v["grid"].as_str()),
            (Some("reported"), Some(grid.as_str()))
        );
        // 1 work hour from 16:00 ends exactly at 17:00, the end of the period: that end
        assert_eq!(due(&v), "2026-02-13 17:00");
        assert_eq!(v["limits"]["dispose"], "2 work_days");
        assert_eq!(v["limits"]["verify"], "1 work_hours");
        assert_eq!(v["limits"]["check"], "1 work_days");

        // the wrong parties, each refused with what was needed
        let v = s
            .refused(
                id,
                &other_street,
                json!({"action": "accept", "at": "2026-02-13T16:35:00+08:00"}),
                403,
            )
            .await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("a dispatcher token for street {street}"))),
            "{v}"
        );
        let v = s
            .refused(
                id,
                &worker,
                json!({"action": "accept", "at": "2026-02-13T16:35:00+08:00"}),
                403,
            )
            .await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("dispatcher")),
            "{v}"
        );
        let v = s
            .refused(
                id,
                &dispatcher,
                json!({"action": "close", "at": "2026-02-13T16:35:00+08:00"}),
                409,
            )
            .await;
        assert_eq!(v["stage"], "reported", "{v}");
        assert_eq!(
            v["allowed"],
            json!(["accept", "reject", "void", "supervise"])
        );

        // 受理 16:40: verify within 1 work hour — 20 minutes on Friday, 40 on the 调休 Saturday
        let v = s
            .act(
                id,
                &dispatcher,
                "accept",
                "2026-02-13T16:40:00+08:00",
                json!({}),
            )
            .await;
        assert_eq!(v["stage"], "accepted");
        assert_eq!(due(&v), "2026-02-14 09:40");
        // 核实 by the grid's worker, not another grid's
        let v = s
            .refused(
                id,
                &other_worker,
                json!({"action": "verify", "at": "2026-02-14T09:30:00+08:00"}),
                403,
            )
            .await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("a grid_worker token for grid {grid}"))),
            "{v}"
        );
        let v = s
            .act(
                id,
                &worker,
                "verify",
                "2026-02-14T09:30:00+08:00",
                json!({"photos": ["https://img.example.org/1.jpg"]}),
            )
            .await;
        assert_eq!(
            (v["stage"].as_str(), due(&v).as_str()),
            (Some("verified"), "2026-02-14 10:30")
        );
        // 立案, then 派遣 to the housing bureau: 2 work days = 14 hours — 5.5 on Saturday, the
        // holiday week skipped, 7 on Tuesday 24, 1.5 on Wednesday 25
        let v = s
            .act(
                id,
                &dispatcher,
                "open",
                "2026-02-14T10:00:00+08:00",
                json!({}),
            )
            .await;
        assert_eq!(due(&v), "2026-02-14 11:00");
        let v = s
            .act(
                id,
                &dispatcher,
                "dispatch",
                "2026-02-14T10:30:00+08:00",
                json!({"department": "区房管局"}),
            )
            .await;
        assert_eq!(
            (
                v["stage"].as_str(),
                v["track"].as_str(),
                v["department"].as_str()
            ),
            (Some("dispatched"), Some("back_end"), Some("区房管局"))
        );
        assert_eq!(due(&v), "2026-02-25 10:30");
        // 督办, shown on the case from now on
        let v = s
            .act(
                id,
                &supervisor,
                "supervise",
                "2026-02-24T09:00:00+08:00",
                json!({"note": "节后首日督办"}),
            )
            .await;
        assert_eq!(v["supervised"], true);
        assert_eq!(
            due(&v),
            "2026-02-25 10:30",
            "supervision changes no due time"
        );
        // 退单 by the housing bureau: back to the centre, dispatch within 1 work hour
        let v = s
            .refused(
                id,
                &greening,
                json!({"action": "return", "note": "x", "at": "2026-02-24T09:15:00+08:00"}),
                403,
            )
            .await;
        assert!(
            v["detail"].as_str().is_some_and(|d| d.contains("区房管局")),
            "{v}"
        );
        let v = s
            .refused(
                id,
                &housing,
                json!({"action": "return", "at": "2026-02-24T09:15:00+08:00"}),
                422,
            )
            .await;
        assert_eq!(v["field"], "note");
        let v = s
            .act(
                id,
                &housing,
                "return",
                "2026-02-24T09:15:00+08:00",
                json!({"note": "不属本单位职责"}),
            )
            .await;
        assert_eq!(
            (v["stage"].as_str(), v["returns"].as_u64()),
            (Some("opened"), Some(1))
        );
        assert_eq!(due(&v), "2026-02-24 10:15");
        // 转派 to the greening bureau: 2 work days from Tuesday 09:45
        let v = s.refused(id, &dispatcher, json!({"action": "transfer", "department": "区房管局", "at": "2026-02-24T09:45:00+08:00"}), 409).await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("transfer names another")),
            "{v}"
        );
        let v = s
            .act(
                id,
                &dispatcher,
                "transfer",
                "2026-02-24T09:45:00+08:00",
                json!({"department": "区绿化市容局"}),
            )
            .await;
        assert_eq!(
            (v["stage"].as_str(), v["department"].as_str()),
            (Some("dispatched"), Some("区绿化市容局"))
        );
        assert_eq!(due(&v), "2026-02-26 09:45");
        // the housing bureau no longer acts on it, but still sees it
        s.refused(
            id,
            &housing,
            json!({"action": "dispose", "note": "x", "at": "2026-02-25T15:00:00+08:00"}),
            403,
        )
        .await;
        assert_eq!(
            s.get(&format!("/api/v1/cases/{id}"), Some(&housing))
                .await
                .status()
                .as_u16(),
            200
        );
        // 处置 with photos; 核查 within 1 work day (7 hours): Wednesday 15:00 → Thursday 15:00
        let v = s.act(id, &greening, "dispose", "2026-02-25T15:00:00+08:00",
            json!({"note": "已清理并告知住户", "photos": ["https://img.example.org/before.jpg", "https://img.example.org/after.jpg"]})).await;
        assert_eq!(
            (v["stage"].as_str(), due(&v).as_str()),
            (Some("disposed"), "2026-02-26 15:00")
        );
        // 核查 fails once: 返工, 2 work days from Thursday 10:00 reach the 调休 Saturday 28
        let v = s
            .act(
                id,
                &worker,
                "rework",
                "2026-02-26T10:00:00+08:00",
                json!({"note": "现场仍有碎片"}),
            )
            .await;
        assert_eq!(
            (v["stage"].as_str(), v["reworks"].as_u64()),
            (Some("dispatched"), Some(1))
        );
        assert_eq!(v["department"], "区绿化市容局");
        assert_eq!(due(&v), "2026-02-28 10:00");
        let v = s
            .act(
                id,
                &greening,
                "dispose",
                "2026-02-27T16:00:00+08:00",
                json!({"note": "碎片已清"}),
            )
            .await;
        assert_eq!(due(&v), "2026-02-28 16:00");
        let v = s
            .act(id, &worker, "check", "2026-02-28T11:00:00+08:00", json!({}))
            .await;
        assert_eq!(
            (v["stage"].as_str(), due(&v).as_str()),
            (Some("checked"), "2026-03-02 11:00")
        );
        // 结案
        let v = s
            .act(
                id,
                &dispatcher,
                "close",
                "2026-03-02T09:30:00+08:00",
                json!({}),
            )
            .await;
        assert_eq!(v["stage"], "closed");
        assert_eq!(v["done_at"], "2026-03-02T01:30:00Z");
        // only the reporter's verdict may reopen it now
        assert_eq!(v["next"], json!(["reopen"]));
        assert_eq!(v["overdue"], false);

        // the stored history shows all of it: who, in which role, the due times and on-time
        let stored = s.store.get_case(id).expect("stored");
        let steps: Vec<(&str, &str, &str)> = stored
            .events
            .iter()
            .map(|e| (e.action.as_str(), e.stage.as_str(), e.role.as_str()))
            .collect();
        assert_eq!(
            steps,
            [
                ("report", "reported", "intake"),
                ("accept", "accepted", "dispatcher"),
                ("verify", "verified", "grid_worker"),
                ("open", "opened", "dispatcher"),
                ("dispatch", "dispatched", "dispatcher"),
                ("supervise", "dispatched", "supervisor"),
                ("return", "opened", "department"),
                ("transfer", "dispatched", "dispatcher"),
                ("dispose", "disposed", "department"),
                ("rework", "dispatched", "grid_worker"),
                ("dispose", "disposed", "department"),
                ("check", "checked", "grid_worker"),
                ("close", "closed", "dispatcher"),
            ]
        );
        assert!(
            stored.events[2].by.starts_with("网格员 张强 via token:"),
            "{:?}",
            stored.events[2].by
        );
        assert_eq!(stored.events[8].photos.len(), 2);
        assert_eq!(stored.events[8].department.as_deref(), Some("区绿化市容局"));
        assert_eq!(stored.events[6].department.as_deref(), Some("区房管局"));
        let on_time: Vec<Option<bool>> = stored.events.iter().map(|e| e.on_time).collect();
        // every stage ended in time; the supervision ends none
        assert_eq!(
            on_time,
            [
                None,
                Some(true),
                Some(true),
                Some(true),
                Some(true),
                None,
                Some(true),
                Some(true),
                Some(true),
                Some(true),
                Some(true),
                Some(true),
                Some(true)
            ]
        );
        assert!(stored.supervised);
        assert_eq!((stored.reworks(), stored.returns()), (1, 1));
        // every later change of the task list or calendar leaves these due times alone
        assert_eq!(
            stored.events[4].due_at.map(|d| d.to_rfc3339()),
            Some("2026-02-25T02:30:00+00:00".to_owned())
        );
        // Open311 sees it closed, with the stage in its notes
        let v: Value = s
            .get(&format!("/open311/v2/requests/{id}.json"), None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v[0]["status"], "closed", "{v}");
        assert_eq!(v[0]["status_notes"], "结案 (closed)");
        // listing: a supervised, closed case of the street
        let v: Value = s
            .get(
                &format!("/api/v1/cases?street={street}&stage=closed&supervised=1"),
                Some(&dispatcher),
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["total"], 1, "{v}");
        // a department sees only what was dispatched to it; another street's dispatcher nothing
        let v: Value = s
            .get("/api/v1/cases", Some(&greening))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["total"], 1, "{v}");
        let v: Value = s
            .get("/api/v1/cases", Some(&other_street))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["total"], 0, "{v}");
        problem(
            s.get(&format!("/api/v1/cases/{id}"), Some(&other_worker))
                .await,
            403,
        )
        .await;
    });
}

fn patrol_case_front_end_and_escalation(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let (x, y, grid, street) = inside(Layer::StreetGrid);
        let dispatcher = s.token("dispatcher", &["*"], "区中心");
        let worker = s.token("grid_worker", &[&grid], "网格员 周");
        let now = Utc::now();
        let at = |h: i64| (now - Duration::hours(h)).to_rfc3339();
        // minutes before now: accepting, opening and dispatching within minutes of the report
        // are on time whatever the time of day (a limit of one working hour is at least an
        // hour of clock time; whole hours apart would meet it exactly, to the minute, at some
        // times of day and miss it by seconds)
        let at_m = |m: i64| (now - Duration::minutes(m)).to_rfc3339();
        // reported on patrol by the grid worker; accepting it verifies it at once
        let r = s
            .post("/api/v1/cases", &worker,
                json!({"lon": x, "lat": y, "category": "SG0101", "source": "patrol", "reported_at": at(10)}))
            .await;
        assert_eq!(r.status().as_u16(), 201);
        let id = r.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id");
        let v = s
            .act(id, &dispatcher, "accept", &at_m(590), json!({}))
            .await;
        assert_eq!(v["stage"], "verified");
        s.act(id, &dispatcher, "open", &at_m(585), json!({})).await;
        let v = s
            .act(
                id,
                &dispatcher,
                "dispatch",
                &at_m(580),
                json!({"grid": grid}),
            )
            .await;
        assert_eq!(
            (v["track"].as_str(), v["assigned_grid"].as_str()),
            (Some("front_end"), Some(grid.as_str()))
        );
        // the front-end limit: 7 clock days
        let dispatched: DateTime<Utc> =
            serde_json::from_value(v["events"][3]["at"].clone()).expect("at");
        let due_at: DateTime<Utc> = serde_json::from_value(v["due_at"].clone()).expect("due");
        assert_eq!(due_at - dispatched, Duration::days(7));
        // the grid disposes of it at the front end, checks it, the centre closes it
        let v = s
            .act(
                id,
                &worker,
                "dispose",
                &at(6),
                json!({"note": "摊主已劝离"}),
            )
            .await;
        assert_eq!(v["stage"], "disposed");
        s.act(id, &worker, "check", &at(5), json!({})).await;
        let v = s.act(id, &dispatcher, "close", &at(4), json!({})).await;
        assert_eq!(v["stage"], "closed");
        // the indicators count it as found on patrol and solved at the front end
        let v: Value = s
            .get(&format!("/api/v1/indicators?street={street}"), None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["district"]["patrol"], 1, "{v}");
        assert_eq!(v["district"]["resolved_front_end"], 1, "{v}");
        assert_eq!(v["district"]["on_time_rate"], 1.0, "{v}");

        // a front-end case whose 7 days passed is escalated by the sweep, at its due time
        let r = s
            .post(
                "/api/v1/cases",
                &worker,
                json!({"lon": x, "lat": y, "category": "SG0102", "source": "patrol",
                       "reported_at": (now - Duration::days(9)).to_rfc3339()}),
            )
            .await;
        let late = r.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id");
        let t = |d: i64| (now - Duration::days(d)).to_rfc3339();
        s.act(late, &dispatcher, "accept", &t(9), json!({})).await;
        s.act(late, &dispatcher, "open", &t(9), json!({})).await;
        let v = s
            .act(late, &dispatcher, "dispatch", &t(8), json!({"grid": grid}))
            .await;
        assert_eq!(v["overdue"], true);
        let mut live = s.state.events().subscribe();
        let n = s.state.sweep_cases(Utc::now()).expect("sweep");
        assert_eq!(n, 1);
        // announced on the live events as it is now
        match &live.try_recv().expect("an event").change {
            gridatlas::service::events::Change::Case(c) => {
                assert_eq!((c.id, c.stage.as_str()), (late, "opened"));
            }
            other => panic!("not a case event: {other:?}"),
        }
        let c = s.store.get_case(late).expect("case");
        let last = c.events.last().expect("event");
        assert_eq!(
            (last.action.as_str(), last.role.as_str()),
            ("escalate", "system")
        );
        assert_eq!(
            last.at,
            c.events[3].due_at.expect("due"),
            "escalated when the limit passed"
        );
        assert_eq!(c.stage.as_str(), "opened");
        // escalated: a department takes it, not a grid
        let v = s
            .refused(
                late,
                &dispatcher,
                json!({"action": "dispatch", "grid": grid}),
                409,
            )
            .await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("escalated")),
            "{v}"
        );
        let v = s
            .act(
                late,
                &dispatcher,
                "dispatch",
                &Utc::now().to_rfc3339(),
                json!({"department": "区城管执法局"}),
            )
            .await;
        assert_eq!(v["track"], "back_end");
        // a second sweep finds nothing
        assert_eq!(
            gridatlas::service::cases::sweep(s.store.as_ref(), Utc::now())
                .expect("sweep")
                .len(),
            0
        );
        // an unknown grid is named
        let v = s
            .refused(
                id,
                &dispatcher,
                json!({"action": "transfer", "grid": "nope"}),
                422,
            )
            .await;
        assert_eq!(v["field"], "grid");
    });
}

fn extensions_holds_and_voids(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let (x, y, grid, street) = inside(Layer::ResidentGrid);
        let intake = s.token("intake", &[], "热线");
        let dispatcher = s.token("dispatcher", &[&street], "分中心");
        let worker = s.token("grid_worker", &[&grid], "网格员");
        let dept = s.token("department", &["区建管委"], "建管委");
        let now = Utc::now();
        let at = |m: i64| (now - Duration::minutes(m)).to_rfc3339();
        let new = |minutes: i64| {
            let s = &s;
            let intake = intake.clone();
            async move {
                let r = s
                    .post("/api/v1/cases", &intake, json!({"lon": x, "lat": y, "category": "RG0103",
                        "source": "app", "reported_at": (now - Duration::minutes(minutes)).to_rfc3339()}))
                    .await;
                assert_eq!(r.status().as_u16(), 201);
                r.json::<Value>().await.expect("json")
            }
        };
        let first = new(120).await;
        let id = first["id"].as_i64().expect("id");
        assert!(first.get("possible_duplicates").is_none(), "{first}");
        // the same category 0 m away, an hour later: a possible duplicate
        let second = new(60).await;
        let dup = &second["possible_duplicates"];
        assert_eq!(dup[0]["id"], id, "{second}");
        assert_eq!(dup[0]["distance_m"], 0.0);
        assert_eq!(dup[0]["age_minutes"], 60);
        let sid = second["id"].as_i64().expect("id");
        // voiding it as the duplicate links the two; Open311 says so
        let v = s
            .refused(
                sid,
                &dispatcher,
                json!({"action": "void", "duplicate_of": 999_999, "note": "重复"}),
                422,
            )
            .await;
        assert_eq!(v["field"], "duplicate_of");
        let v = s
            .act(
                sid,
                &dispatcher,
                "void",
                &at(50),
                json!({"note": "重复上报", "duplicate_of": id}),
            )
            .await;
        assert_eq!(
            (v["stage"].as_str(), v["duplicate_of"].as_i64()),
            (Some("void"), Some(id))
        );
        let o: Value = s
            .get(&format!("/open311/v2/requests/{sid}.json"), None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(o[0]["status"], "closed");
        assert_eq!(
            o[0]["status_notes"],
            format!("作废 (void): duplicate of request {id}")
        );
        // a void case is no longer a possible duplicate; the first one still is
        let third = new(30).await;
        let ids: Vec<i64> = third["possible_duplicates"]
            .as_array()
            .expect("dups")
            .iter()
            .map(|d| d["id"].as_i64().expect("id"))
            .collect();
        assert_eq!(ids, [id]);
        // the desk's one-case view lists them too (not the case itself, not the void one), and
        // the first case has none: the others came after it
        let tid = third["id"].as_i64().expect("id");
        let view: Value = s
            .get(&format!("/api/v1/cases/{tid}"), Some(&dispatcher))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(view["possible_duplicates"][0]["id"], id, "{view}");
        assert_eq!(
            view["possible_duplicates"].as_array().map(Vec::len),
            Some(1)
        );
        let view: Value = s
            .get(&format!("/api/v1/cases/{id}"), Some(&dispatcher))
            .await
            .json()
            .await
            .expect("json");
        assert!(view.get("possible_duplicates").is_none(), "{view}");
        // the list by category and reporting period (the portal's heat map)
        let ids_of = |v: &Value| -> Vec<i64> {
            v["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|c| c["id"].as_i64().expect("id"))
                .collect()
        };
        let from = (now - Duration::minutes(100)).to_rfc3339();
        let page: Value = s
            .get(
                &format!(
                    "/api/v1/cases?category=RG0103,RG0101&from={}",
                    urlencoding(&from)
                ),
                Some(&dispatcher),
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(ids_of(&page), [tid, sid], "{page}");
        let page: Value = s
            .get("/api/v1/cases?category=RG0101", Some(&dispatcher))
            .await
            .json()
            .await
            .expect("json");
        assert!(!ids_of(&page).contains(&id), "{page}");
        let r = s
            .get(
                "/api/v1/cases?from=2026-11-02&to=2026-11-01",
                Some(&dispatcher),
            )
            .await;
        assert_eq!(r.status().as_u16(), 400);

        // 延期: asked by the department with a limit, approved by the centre
        s.act(id, &dispatcher, "accept", &at(110), json!({})).await;
        // the street's dispatcher may not verify a case that has a grid: its grid worker does
        let v = s
            .refused(
                id,
                &dispatcher,
                json!({"action": "verify", "at": at(100)}),
                403,
            )
            .await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("grid {grid}"))),
            "{v}"
        );
        s.act(id, &worker, "verify", &at(100), json!({})).await;
        s.act(id, &dispatcher, "open", &at(95), json!({})).await;
        let v = s
            .act(
                id,
                &dispatcher,
                "dispatch",
                &at(90),
                json!({"department": "区建管委"}),
            )
            .await;
        let due0: DateTime<Utc> = serde_json::from_value(v["due_at"].clone()).expect("due");
        let v = s.refused(id, &dept, json!({"action": "request_extension", "note": "x", "until": at(1), "extend_by": "1 work_days"}), 422).await;
        assert_eq!(v["field"], "extend_by");
        let v = s
            .act(
                id,
                &dept,
                "request_extension",
                &at(20),
                json!({"note": "需协调施工单位", "extend_by": "2 work_days"}),
            )
            .await;
        let cal = gridatlas::calendar::Calendar::from_json(gridatlas::calendar::EXAMPLE_CALENDAR)
            .expect("calendar");
        let asked = cal
            .due(due0.fixed_offset(), gridatlas::calendar::Limit::WorkDays(2))
            .expect("due")
            .with_timezone(&Utc);
        let pending: DateTime<Utc> =
            serde_json::from_value(v["pending_extension"].clone()).expect("pending");
        assert_eq!(pending, asked);
        assert_eq!(v["due_at"], json!(due0), "asking changes nothing yet");
        let v = s
            .refused(
                id,
                &dept,
                json!({"action": "request_extension", "note": "再次", "extend_by": "1 work_days"}),
                409,
            )
            .await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("waiting for a decision")),
            "{v}"
        );
        s.refused(id, &dept, json!({"action": "approve_extension"}), 403)
            .await;
        let v = s
            .act(id, &dispatcher, "approve_extension", &at(15), json!({}))
            .await;
        assert_eq!(v["due_at"], json!(asked));
        assert_eq!(v["pending_extension"], Value::Null);
        // 挂账 with a reason and a review date, then back to dispatch
        let review = chrono::SubsecRound::trunc_subsecs(now + Duration::days(30), 0).to_rfc3339();
        let v = s
            .refused(
                id,
                &dispatcher,
                json!({"action": "hold", "note": "待拆迁"}),
                422,
            )
            .await;
        assert_eq!(v["field"], "until");
        let v = s
            .act(
                id,
                &dispatcher,
                "hold",
                &at(10),
                json!({"note": "待拆迁后处理", "until": review}),
            )
            .await;
        assert_eq!(v["stage"], "on_hold");
        let due_hold: DateTime<Utc> = serde_json::from_value(v["due_at"].clone()).expect("due");
        assert_eq!(
            due_hold.to_rfc3339(),
            DateTime::parse_from_rfc3339(&review)
                .expect("t")
                .with_timezone(&Utc)
                .to_rfc3339()
        );
        let v: Value = s
            .get(
                &format!("/api/v1/cases?stage=on_hold&street={street}"),
                Some(&dispatcher),
            )
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["total"], 1, "{v}");
        let v = s.act(id, &dispatcher, "resume", &at(5), json!({})).await;
        assert_eq!(
            (v["stage"].as_str(), v["department"].as_str()),
            (Some("opened"), None)
        );
        // the department that had it still sees it
        assert_eq!(
            s.get(&format!("/api/v1/cases/{id}"), Some(&dept))
                .await
                .status()
                .as_u16(),
            200
        );
        // unknown actions and stages are named
        let v = s
            .refused(id, &dispatcher, json!({"action": "redo"}), 422)
            .await;
        assert_eq!(v["field"], "action");
        problem(
            s.get("/api/v1/cases?stage=assigned", Some(&dispatcher))
                .await,
            400,
        )
        .await;
        problem(
            s.get(
                "/api/v1/cases",
                Some(&s.token("planner", &[&street], "规划")),
            )
            .await,
            403,
        )
        .await;
    });
}

fn the_street_queue_and_the_calendar(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let (x, y, grid, street) = inside(Layer::ResidentGrid);
        // a case the routing left in the street's queue (a point in a gap of a redrawn atlas)
        let set = demo();
        let kept: Vec<Feature> = set
            .features()
            .iter()
            .filter(|f| f.code != grid && f.parent.as_deref() != Some(grid.as_str()))
            .filter(|f| {
                f.parent
                    .as_deref()
                    .and_then(|p| set.get(p))
                    .is_none_or(|p| p.parent.as_deref() != Some(grid.as_str()))
            })
            .cloned()
            .collect();
        let units: Vec<_> = set
            .management_units
            .iter()
            .cloned()
            .map(|mut u| {
                u.grids.retain(|g| *g != grid);
                u
            })
            .filter(|u| !u.grids.is_empty())
            .collect();
        let set = gridatlas::model::FeatureSet::new(kept, units).expect("set");
        let gap = Atlas::build(set).with_generation(1);
        let cats = gridatlas::routing::categories::parse_task_list(
            gridatlas::routing::categories::EXAMPLE_TASK_LIST,
        )
        .expect("task list");
        let cat = cats.iter().find(|c| c.code == "RG0101").expect("category");
        let options = gridatlas::routing::RouteOptions {
            nearest_radius_m: 0.0,
            ..Default::default()
        };
        let now = Utc::now();
        let assignment = gridatlas::routing::route(&gap, x, y, cat, now, &options).expect("routed");
        assert_eq!(assignment.confidence.as_str(), "street_queue");
        let queued = s
            .store
            .create_case(&gridatlas::cases::NewCase {
                category: "RG0101".into(),
                source: gridatlas::cases::Source::Hotline,
                description: "地址不详".into(),
                input: (x, y, "wgs84".into()),
                reported_at: now,
                photos: vec![],
                created_by: "test".into(),
                role: "intake".into(),
                contact: None,
                assignment,
                limits: cat.limits,
                due_at: now + Duration::hours(1),
                feedback_sha256: None,
            })
            .expect("stored");
        let dispatcher = s.token("dispatcher", &[&street], "分中心");
        let v: Value = s
            .get("/api/v1/queue", Some(&dispatcher))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["street"], street.as_str(), "{v}");
        assert_eq!(v["total"], 1, "{v}");
        assert_eq!(v["items"][0]["case"]["id"], queued.id);
        // the grid it lies in (in the served atlas) is the first suggestion, at 0 m
        assert_eq!(
            v["items"][0]["suggestions"][0]["code"],
            grid.as_str(),
            "{v}"
        );
        assert_eq!(v["items"][0]["suggestions"][0]["distance_m"], 0.0);
        // dispatched, it leaves the queue
        let id = queued.id;
        let t = |m: i64| (now + Duration::seconds(m)).to_rfc3339();
        s.act(id, &dispatcher, "accept", &t(1), json!({})).await;
        // no grid: the street's dispatcher verifies it
        s.act(id, &dispatcher, "verify", &t(2), json!({})).await;
        s.act(id, &dispatcher, "open", &t(3), json!({})).await;
        s.act(id, &dispatcher, "dispatch", &t(4), json!({"grid": grid}))
            .await;
        let v: Value = s
            .get(&format!("/api/v1/queue?street={street}"), Some(&dispatcher))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["total"], 0, "{v}");
        let other = s.token("dispatcher", &["310116999"], "别处");
        problem(
            s.get(&format!("/api/v1/queue?street={street}"), Some(&other))
                .await,
            403,
        )
        .await;
        problem(
            s.get("/api/v1/queue?street=nope", Some(&dispatcher)).await,
            404,
        )
        .await;
        problem(
            s.get("/api/v1/queue", Some(&s.token("intake", &[], "热线")))
                .await,
            403,
        )
        .await;

        // the calendar: the example until one is loaded; an admin loads one, it is checked
        let v: Value = s
            .get("/api/v1/calendar", None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["example"], true);
        assert_eq!(v["calendar"]["utc_offset_h"], 8);
        let admin = s.token("admin", &[], "管理员");
        let put = |body: Value, token: String| {
            let s = &s;
            async move {
                s.client
                    .put(format!("{}/api/v1/calendar", s.base))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("put")
            }
        };
        let mine = json!({"utc_offset_h": 8, "work_hours": [["08:30", "11:30"], ["13:00", "17:30"]],
                          "weekend": ["sat", "sun"], "holidays": ["2026-10-01"], "workdays": []});
        problem(put(mine.clone(), dispatcher.clone()).await, 403).await;
        let v = problem(
            put(
                json!({"utc_offset_h": 8, "work_hours": [["17:00", "09:00"]]}),
                admin.clone(),
            )
            .await,
            422,
        )
        .await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("work_hours[0]")),
            "{v}"
        );
        let r = put(mine.clone(), admin.clone()).await;
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = s
            .get("/api/v1/calendar", None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(
            (v["example"].as_bool(), &v["calendar"]),
            (Some(false), &mine)
        );
        // new stages are counted on it: 1 work hour from 11:00 on a working day is 13:30
        let r = s
            .post(
                "/api/v1/cases",
                &s.token("intake", &[], "热线"),
                json!({"lon": x, "lat": y, "category": "RG0101", "source": "hotline",
                       "reported_at": "2026-11-27T11:00:00+08:00"}),
            )
            .await;
        let v: Value = r.json().await.expect("json");
        assert_eq!(due(&v), "2026-11-27 13:30", "{v}");
    });
}

fn demo_cases_cover_every_stage(db: &TestDb) {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    gridatlas::http::serve::bootstrap_categories(store.as_ref()).expect("categories");
    let atlas = Atlas::build(store.load_generation(n).expect("load")).with_generation(1);
    // as `serve --demo` makes them: cases, then the assets (with two cases of their own), then
    // the patrol day
    let (made, _, _) =
        gridatlas::service::setup::bootstrap_demo_data(store.as_ref(), &atlas, Utc::now())
            .expect("demo data");
    assert!(made >= 14, "{made}");
    // once only
    assert_eq!(
        gridatlas::service::setup::bootstrap_cases(store.as_ref(), &atlas).expect("again"),
        0
    );
    // the sweep escalates the demo case whose front-end limit passed
    assert_eq!(
        gridatlas::service::cases::sweep(store.as_ref(), Utc::now())
            .expect("sweep")
            .len(),
        1
    );
    let (cases, total) = store
        .list_cases(&gridatlas::cases::CaseFilter {
            limit: 100,
            ..Default::default()
        })
        .expect("list");
    // the demo cases and the asset demo's two (a component case, a frontage case)
    assert_eq!(total as usize, made + 2);
    let mut stages: Vec<&str> = cases.iter().map(|c| c.stage.as_str()).collect();
    stages.sort_unstable();
    stages.dedup();
    let mut all: Vec<&str> = gridatlas::cases::Stage::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    all.sort_unstable();
    assert_eq!(stages, all, "every stage has a demo case");
    assert!(
        cases
            .iter()
            .any(|c| c.supervised && c.pending_extension().is_some())
    );
    assert!(cases.iter().any(|c| c.duplicate_of.is_some()));
    assert!(cases.iter().any(|c| c.escalated()));
    assert!(
        cases
            .iter()
            .any(|c| c.reworks() == 1 && c.returns() == 1 && c.stage.as_str() == "closed")
    );
}

suite!(
    demo_cases_cover_every_stage,
    hotline_case_across_the_spring_festival,
    patrol_case_front_end_and_escalation,
    extensions_holds_and_voids,
    the_street_queue_and_the_calendar,
    the_reporters_verdict,
    scores_grades_and_the_ranked_table,
);

#[test]
fn the_calendar_cli_loads_shows_and_computes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("g.db");
    let bin = env!("CARGO_BIN_EXE_gridatlas");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .output()
            .expect("run gridatlas")
    };
    let dbs = db.to_str().expect("path");
    // the example is in force until one is loaded, and says so
    let out = run(&["calendar", "show", "--database", dbs]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("example"));
    let shown: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["example"], true);
    // a bad file is refused naming the problem, and nothing is stored
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"utc_offset_h": 8, "work_hours": [["09:00", "25:00"]]}"#,
    )
    .expect("write");
    let out = run(&[
        "calendar",
        "load",
        bad.to_str().expect("path"),
        "--database",
        dbs,
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("work_hours[0]"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mine = dir.path().join("mine.json");
    let text = r#"{"utc_offset_h": 8, "work_hours": [["08:30", "11:30"], ["13:00", "17:30"]], "weekend": ["sat", "sun"], "holidays": ["2026-10-01"], "workdays": ["2026-10-10"]}"#;
    std::fs::write(&mine, text).expect("write");
    let out = run(&[
        "calendar",
        "load",
        mine.to_str().expect("path"),
        "--database",
        dbs,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["calendar", "show", "--database", dbs]);
    let shown: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown, serde_json::from_str::<Value>(text).expect("json"));
    // and the example computes the issue's worked example: 5 work hours from Wednesday
    // 30 September 2026 16:00 with the hours above and 1 October off
    let out = run(&[
        "calendar",
        "due",
        "--calendar",
        mine.to_str().expect("path"),
        "--from",
        "2026-09-30T16:00:00+08:00",
        "--limit",
        "5 work_hours",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "2026-10-02T13:30:00+08:00"
    );
}

fn the_reporters_verdict(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let (x, y, grid, street) = inside(Layer::ResidentGrid);
        let intake = s.token("intake", &[], "热线");
        let dispatcher = s.token("dispatcher", &[&street], "分中心");
        let worker = s.token("grid_worker", &[&grid], "网格员");
        let dept = s.token("department", &["区绿化市容局"], "绿化市容局");
        let now = Utc::now();
        // a case taken to closed over the past hours; its intake answer carries the secret once
        let file = |hours_ago: i64| {
            let s = &s;
            let intake = intake.clone();
            async move {
                let r = s
                    .post("/api/v1/cases", &intake, json!({"lon": x, "lat": y, "category": "RG0201",
                        "source": "hotline", "reported_at": (now - Duration::hours(hours_ago)).to_rfc3339()}))
                    .await;
                assert_eq!(r.status().as_u16(), 201);
                r.json::<Value>().await.expect("json")
            }
        };
        let close = |id: i64, hours_ago: i64| {
            let s = &s;
            let (dispatcher, worker, dept) = (dispatcher.clone(), worker.clone(), dept.clone());
            async move {
                let t =
                    |m: i64| (now - Duration::hours(hours_ago) + Duration::minutes(m)).to_rfc3339();
                s.act(id, &dispatcher, "accept", &t(1), json!({})).await;
                s.act(id, &worker, "verify", &t(2), json!({})).await;
                s.act(id, &dispatcher, "open", &t(3), json!({})).await;
                s.act(
                    id,
                    &dispatcher,
                    "dispatch",
                    &t(4),
                    json!({"department": "区绿化市容局"}),
                )
                .await;
                s.act(id, &dept, "dispose", &t(5), json!({"note": "已处置"}))
                    .await;
                s.act(id, &worker, "check", &t(6), json!({})).await;
                s.act(id, &dispatcher, "close", &t(7), json!({})).await
            }
        };
        let a = file(5).await;
        let id = a["id"].as_i64().expect("id");
        let secret = a["feedback_secret"].as_str().expect("secret").to_owned();
        assert_eq!(secret.len(), 64);
        // shown once: never on a read
        let again: Value = s
            .get(&format!("/api/v1/cases/{id}"), Some(&intake))
            .await
            .json()
            .await
            .expect("json");
        assert!(again.get("feedback_secret").is_none(), "{again}");
        let verdict = |body: Value, token: Option<String>| {
            let s = &s;
            async move {
                let mut r = s
                    .client
                    .post(format!("{}/api/v1/cases/{id}/feedback", s.base))
                    .json(&body);
                if let Some(t) = token {
                    r = r.bearer_auth(t);
                }
                r.send().await.expect("post")
            }
        };
        let no = json!({"secret": secret, "resolved": false, "satisfaction": "不满意", "comment": "花盆还在"});
        // not closed yet
        let v = problem(verdict(no.clone(), None).await, 409).await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("once it is closed")),
            "{v}"
        );
        close(id, 4).await;
        // misuse: no secret and no token; another case's secret; a role other than intake
        problem(
            verdict(json!({"resolved": true, "satisfaction": "satisfied"}), None).await,
            401,
        )
        .await;
        let b = file(3).await;
        let other = b["feedback_secret"].as_str().expect("secret").to_owned();
        let v = problem(
            verdict(
                json!({"secret": other, "resolved": true, "satisfaction": "satisfied"}),
                None,
            )
            .await,
            403,
        )
        .await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("case {id}"))),
            "{v}"
        );
        problem(
            verdict(
                json!({"resolved": true, "satisfaction": "satisfied"}),
                Some(dispatcher.clone()),
            )
            .await,
            403,
        )
        .await;
        let v = problem(
            verdict(
                json!({"secret": secret, "resolved": true, "satisfaction": "so-so"}),
                None,
            )
            .await,
            422,
        )
        .await;
        assert_eq!(v["field"], "satisfaction");
        // "not resolved": the case goes back to its last assignee, counted
        let r = verdict(no.clone(), None).await;
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().await.expect("json");
        assert_eq!(
            (v["stage"].as_str(), v["department"].as_str()),
            (Some("dispatched"), Some("区绿化市容局")),
            "{v}"
        );
        assert_eq!(v["done_at"], Value::Null);
        assert_eq!(v["feedback"]["resolved"], false);
        assert_eq!(v["feedback"]["satisfaction"], "dissatisfied");
        assert_eq!(v["feedback"]["via"], "link");
        let last = v["events"]
            .as_array()
            .and_then(|e| e.last())
            .cloned()
            .expect("event");
        assert_eq!(
            (last["action"].as_str(), last["role"].as_str()),
            (Some("reopen"), Some("reporter"))
        );
        // one verdict per case, even the same one again
        let v = problem(verdict(no, None).await, 409).await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("already has")),
            "{v}"
        );
        // it shows in 实际解决率 and 群众满意率
        let ind: Value = s
            .get(&format!("/api/v1/indicators?street={street}"), None)
            .await
            .json()
            .await
            .expect("json");
        let d = &ind["district"];
        assert_eq!(
            (d["verdicts"].as_u64(), d["reopened"].as_u64()),
            (Some(1), Some(1)),
            "{d}"
        );
        assert_eq!(d["actual_resolution_rate"], 0.0);
        assert_eq!(d["satisfaction_rate"], 0.0);
        // an intake desk records a verdict by phone for the reporter of another case
        close(b["id"].as_i64().expect("id"), 2).await;
        let bid = b["id"].as_i64().expect("id");
        let r = s
            .client
            .post(format!("{}/api/v1/cases/{bid}/feedback", s.base))
            .bearer_auth(&intake)
            .json(&json!({"resolved": true, "satisfaction": "基本满意"}))
            .send()
            .await
            .expect("post");
        let v: Value = r.json().await.expect("json");
        assert_eq!(
            (v["stage"].as_str(), v["feedback"]["satisfaction"].as_str()),
            (Some("closed"), Some("basically_satisfied")),
            "{v}"
        );
        let ind: Value = s
            .get(&format!("/api/v1/indicators?street={street}"), None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(ind["district"]["actual_resolution_rate"], 0.5, "{ind}");
        assert_eq!(ind["district"]["satisfaction_rate"], 0.5);
        // a link expires 30 days after closing (the desk still may)
        let old = file(24 * 40).await;
        let oid = old["id"].as_i64().expect("id");
        close(oid, 24 * 39).await;
        let osecret = old["feedback_secret"].as_str().expect("secret");
        let r = s
            .client
            .post(format!("{}/api/v1/cases/{oid}/feedback", s.base))
            .json(&json!({"secret": osecret, "resolved": true, "satisfaction": "satisfied"}))
            .send()
            .await
            .expect("post");
        let v = problem(r, 403).await;
        assert!(
            v["detail"].as_str().is_some_and(|d| d.contains("expired")),
            "{v}"
        );
        // Open311 gives the reporter the secret as an extension field
        let r = s
            .client
            .post(format!("{}/open311/v2/requests.json", s.base))
            .form(&[
                ("api_key", intake.as_str()),
                ("service_code", "RG0201"),
                ("lat", &y.to_string()),
                ("long", &x.to_string()),
            ])
            .send()
            .await
            .expect("post");
        let v: Value = r.json().await.expect("json");
        assert_eq!(
            v[0]["feedback_secret"].as_str().map(str::len),
            Some(64),
            "{v}"
        );
    });
}

fn scores_grades_and_the_ranked_table(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let atlas = Atlas::build(demo().clone()).with_generation(1);
        gridatlas::service::setup::bootstrap_cases(s.store.as_ref(), &atlas).expect("demo cases");
        // the example scheme until one is loaded
        let v: Value = s
            .get("/api/v1/scoring", None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(v["example"], true);
        assert_eq!(v["scheme"]["grades"][0], json!(["A", 90.0]));
        let admin = s.token("admin", &[], "管理员");
        let put = |body: Value, token: String| {
            let s = &s;
            async move {
                s.client
                    .put(format!("{}/api/v1/scoring", s.base))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("put")
            }
        };
        let v = problem(
            put(json!({"grades": [["A", 90], ["B", 95]], "kinds": {"street": [{"indicator": "speed", "weight": 1}]}}), admin.clone()).await,
            422,
        )
        .await;
        assert!(
            v["problems"].as_array().is_some_and(|p| p.len() == 3),
            "{v}"
        );
        problem(
            put(json!({}), s.token("dispatcher", &["*"], "x")).await,
            403,
        )
        .await;
        let scheme = json!({"grades": [["优", 90], ["良", 75], ["中", 60], ["差", 0]],
            "kinds": {"street": [{"indicator": "on_time_rate", "weight": 1}],
                      "grid": [{"indicator": "on_time_rate", "weight": 1}],
                      "department": [{"indicator": "on_time_rate", "weight": 1}]}});
        assert_eq!(put(scheme, admin).await.status().as_u16(), 200);
        for kind in ["street", "grid", "department"] {
            let v: Value = s
                .get(
                    &format!("/api/v1/ranking?kind={kind}&from=2026-01-01"),
                    None,
                )
                .await
                .json()
                .await
                .expect("json");
            assert_eq!(
                (v["kind"].as_str(), v["example_scheme"].as_bool()),
                (Some(kind), Some(false)),
                "{v}"
            );
            let items = v["items"].as_array().expect("items");
            assert!(!items.is_empty(), "{kind}: {v}");
            let mut last = f64::INFINITY;
            for it in items {
                // the score is the on-time rate × 100; the grade its band
                match (
                    it["indicators"]["on_time_rate"].as_f64(),
                    it["score"].as_f64(),
                ) {
                    (Some(r), Some(score)) => {
                        assert!(
                            (score - (r * 10_000.0).round() / 100.0).abs() < 1e-9,
                            "{it}"
                        );
                        let band = if score >= 90.0 {
                            "优"
                        } else if score >= 75.0 {
                            "良"
                        } else if score >= 60.0 {
                            "中"
                        } else {
                            "差"
                        };
                        assert_eq!(it["grade"], band, "{it}");
                        assert!(score <= last, "best first");
                        last = score;
                        assert!(it["rank"].as_u64().is_some());
                    }
                    (None, None) => assert_eq!(it["rank"], Value::Null, "{it}"),
                    other => panic!("{other:?}: {it}"),
                }
            }
        }
        problem(s.get("/api/v1/ranking?kind=county", None).await, 400).await;
    });
}

#[test]
fn the_scoring_cli_checks_loads_and_shows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("g.db");
    let dbs = db.to_str().expect("path");
    let bin = env!("CARGO_BIN_EXE_gridatlas");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .output()
            .expect("run gridatlas")
    };
    let out = run(&["scoring", "show", "--database", dbs]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("example"));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"grades": [["A", 50]], "kinds": {"city": []}}"#).expect("write");
    let out = run(&[
        "scoring",
        "load",
        bad.to_str().expect("path"),
        "--database",
        dbs,
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("3 problem(s)") && err.contains("kinds.city"),
        "{err}"
    );
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/scoring.example.json");
    let out = run(&["scoring", "load", example, "--database", dbs]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["scoring", "show", "--database", dbs]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("example is in force"));
    let shown: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["kinds"]["street"][1]["indicator"], "on_time_rate");
}

/// `s` with the characters a query value cannot hold as they are (`+`, `:`) percent-encoded.
fn urlencoding(s: &str) -> String {
    s.replace('%', "%25")
        .replace('+', "%2B")
        .replace(':', "%3A")
}
