//! Retried requests with an `Idempotency-Key` over HTTP on both stores: a case, an action, a
//! check-in and a fix batch sent twice are stored once and answered twice alike (the second
//! marked `Idempotent-Replayed: true`, not announced again on the live events); a key used for
//! a different body is refused (422); keys are per token; concurrent requests with one key make
//! one effect; an invalid key is refused (400); a refused request leaves its key unused; expired
//! keys are purged.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use chrono::{Duration, Utc};
use db::TestDb;
use geo::InteriorPoint;
use gridatlas::atlas::Atlas;
use gridatlas::field::roster::{OrgKind, Staff};
use gridatlas::http::{AppState, ServeConfig};
use gridatlas::model::{Layer, Role as PersonRole};
use gridatlas::store::{Store, TokenSpec, TrackQuery};
use http_support::{demo, problem, run, serve};
use serde_json::{Value, json};
use std::sync::Arc;

const STAFF: &str = "P0001";

struct Server {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    state: AppState,
    /// A point inside a resident grid, the grid and its street.
    point: (f64, f64),
    grid: String,
    street: String,
}

/// A point well inside a block of a resident grid, with the grid's and street's codes.
fn inside() -> (f64, f64, String, String) {
    let set = demo();
    for b in set.layer(Layer::Block) {
        let Some(grid) = set.parent_of(b).filter(|g| g.layer == Layer::ResidentGrid) else {
            continue;
        };
        let Some(p) = b.geometry.as_area().and_then(|a| a.interior_point()) else {
            continue;
        };
        if let Some(street) = set.parent_of(grid) {
            return (p.x(), p.y(), grid.code.clone(), street.code.clone());
        }
    }
    panic!("no block of a resident grid");
}

async fn start(db: &TestDb) -> Server {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    gridatlas::http::serve::bootstrap_categories(store.as_ref()).expect("categories");
    let set = store.load_generation(n).expect("load");
    let (x, y, grid, street) = inside();
    store
        .replace_staff(
            None,
            &[Staff {
                id: STAFF.into(),
                name: "张伟".into(),
                phone: None,
                role: PersonRole::EnforcementOfficer,
                org: "朱泾镇".into(),
                org_kind: OrgKind::CityManagement,
                team: None,
                street: street.clone(),
                areas: vec![grid.clone()],
            }],
        )
        .expect("staff");
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
        point: (x, y),
        grid,
        street,
    }
}

impl Server {
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
            _ => spec.streets = list(scope),
        }
        self.store.create_token_with(&spec, &secret).expect("token");
        secret
    }

    /// POSTs `body` (JSON, or the text of `content_type`) to `path` with `key`.
    async fn post(
        &self,
        path: &str,
        token: &str,
        key: Option<&str>,
        content_type: &str,
        body: String,
    ) -> reqwest::Response {
        let mut r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        if let Some(k) = key {
            r = r.header("idempotency-key", k);
        }
        r.send().await.expect("request")
    }

    async fn post_json(
        &self,
        path: &str,
        token: &str,
        key: Option<&str>,
        body: &Value,
    ) -> reqwest::Response {
        self.post(path, token, key, "application/json", body.to_string())
            .await
    }

    fn case_body(&self, description: &str) -> Value {
        json!({"lon": self.point.0, "lat": self.point.1, "category": "RG0201",
            "source": "hotline", "description": description})
    }

    fn cases(&self) -> i64 {
        let filter = gridatlas::cases::CaseFilter {
            limit: 1000,
            ..Default::default()
        };
        self.store.list_cases(&filter).expect("cases").1
    }

    fn checkins(&self) -> usize {
        let now = Utc::now();
        self.store
            .checkins(now - Duration::days(2), now + Duration::days(1), None)
            .expect("checkins")
            .len()
    }

    fn fixes(&self) -> usize {
        self.store
            .tracks(&TrackQuery::default())
            .expect("tracks")
            .iter()
            .map(|t| t.fixes.len())
            .sum()
    }
}

/// Status, `Idempotent-Replayed`, `Location` and JSON body of an answer.
async fn answer(r: reqwest::Response) -> (u16, Option<String>, Option<String>, Value) {
    let h = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (replayed, location) = (h("idempotent-replayed"), h("location"));
    let status = r.status().as_u16();
    (
        status,
        replayed,
        location,
        r.json::<Value>().await.expect("json"),
    )
}

fn a_case_sent_twice_is_stored_once(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let dispatcher = s.token("dispatcher", &[&s.street], "分中心");
        let body = s.case_body("井盖缺失");
        let events = s.state.events().last_seq();
        let first = answer(
            s.post_json("/api/v1/cases", &dispatcher, Some("case-1"), &body)
                .await,
        )
        .await;
        assert_eq!(first.0, 201, "{:?}", first.3);
        assert_eq!(first.1, None);
        assert!(first.3["feedback_secret"].is_string());
        let second = answer(
            s.post_json("/api/v1/cases", &dispatcher, Some("case-1"), &body)
                .await,
        )
        .await;
        assert_eq!(second.0, 201, "{:?}", second.3);
        assert_eq!(second.1.as_deref(), Some("true"));
        assert!(second.2.is_some());
        assert_eq!(second.2, first.2);
        // the same answer, except the feedback secret, which is shown once and never stored
        let mut without = first.3.clone();
        without
            .as_object_mut()
            .expect("object")
            .remove("feedback_secret");
        assert_eq!(second.3, without);
        assert_eq!(s.cases(), 1);
        assert_eq!(s.state.events().last_seq(), events + 1, "announced once");
        // without a key the same body is a new case
        let r = s.post_json("/api/v1/cases", &dispatcher, None, &body).await;
        assert_eq!(r.status().as_u16(), 201);
        assert!(r.headers().get("idempotent-replayed").is_none());
        assert_eq!(s.cases(), 2);
        // the same key with another body, or on another route: refused naming the header
        let other_body = s.case_body("井盖破损");
        let id = first.3["id"].as_i64().expect("id");
        for r in [
            s.post_json("/api/v1/cases", &dispatcher, Some("case-1"), &other_body)
                .await,
            s.post_json(
                &format!("/api/v1/cases/{id}/events"),
                &dispatcher,
                Some("case-1"),
                &json!({"action": "accept"}),
            )
            .await,
        ] {
            let p = problem(r, 422).await;
            let detail = p["detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains("Idempotency-Key") && detail.contains("different request"),
                "{p}"
            );
        }
        assert_eq!(s.cases(), 2);
        let case = s.store.get_case(id).expect("case");
        assert_eq!(case.events.len(), 1, "the refused action did nothing");
        // another token with the same key: its own request, a second case
        let other = s.token("dispatcher", &[&s.street], "分中心二");
        let r = answer(
            s.post_json("/api/v1/cases", &other, Some("case-1"), &body)
                .await,
        )
        .await;
        assert_eq!((r.0, r.1.as_deref()), (201, None), "{:?}", r.3);
        assert_ne!(r.3["id"], first.3["id"]);
        assert_eq!(s.cases(), 3);
    });
}

fn an_action_sent_twice_is_taken_once(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let dispatcher = s.token("dispatcher", &[&s.street], "分中心");
        let r = s
            .post_json("/api/v1/cases", &dispatcher, None, &s.case_body("占道"))
            .await;
        assert_eq!(r.status().as_u16(), 201);
        let id = r.json::<Value>().await.expect("json")["id"]
            .as_i64()
            .expect("id");
        let path = format!("/api/v1/cases/{id}/events");
        let accept = json!({"action": "accept", "note": "受理"});
        let events = s.state.events().last_seq();
        let first = answer(
            s.post_json(&path, &dispatcher, Some("accept-1"), &accept)
                .await,
        )
        .await;
        assert_eq!(first.0, 200, "{:?}", first.3);
        // a retry: the first answer again, not 409 (accept is no longer allowed)
        let second = answer(
            s.post_json(&path, &dispatcher, Some("accept-1"), &accept)
                .await,
        )
        .await;
        assert_eq!((second.0, second.1.as_deref()), (200, Some("true")));
        assert_eq!(second.3, first.3);
        let case = s.store.get_case(id).expect("case");
        assert_eq!(case.events.len(), 2, "report and one accept");
        assert_eq!(s.state.events().last_seq(), events + 1, "announced once");
        // without a key the repeat is refused by the workflow as before
        problem(s.post_json(&path, &dispatcher, None, &accept).await, 409).await;
    });
}

fn a_checkin_and_fixes_sent_twice_are_stored_once(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let worker = s.token("grid_worker", &[&s.grid], STAFF);
        let checkin = json!({"lon": s.point.0, "lat": s.point.1, "accuracy_m": 10.0, "punch": "in",
            "t": (Utc::now() - Duration::minutes(30)).to_rfc3339()});
        let events = s.state.events().last_seq();
        let first = answer(
            s.post_json("/api/v1/checkins", &worker, Some("in-1"), &checkin)
                .await,
        )
        .await;
        assert_eq!(first.0, 201, "{:?}", first.3);
        let second = answer(
            s.post_json("/api/v1/checkins", &worker, Some("in-1"), &checkin)
                .await,
        )
        .await;
        assert_eq!((second.0, second.1.as_deref()), (201, Some("true")));
        assert_eq!(second.3, first.3);
        assert_eq!(s.checkins(), 1);
        assert_eq!(s.state.events().last_seq(), events + 1, "announced once");
        // a batch of fixes, sent twice
        let t0 = Utc::now() - Duration::minutes(20);
        let lines: String = (0..5)
            .map(|i| {
                format!(
                    "{}\n",
                    json!({"staff": STAFF, "lon": s.point.0 + f64::from(i) * 0.00001,
                        "lat": s.point.1, "t": (t0 + Duration::seconds(i64::from(i) * 10)).to_rfc3339(),
                        "accuracy_m": 5.0})
                )
            })
            .collect();
        let first = answer(
            s.post(
                "/api/v1/fixes",
                &worker,
                Some("fixes-1"),
                "application/x-ndjson",
                lines.clone(),
            )
            .await,
        )
        .await;
        assert_eq!(first.0, 200, "{:?}", first.3);
        assert_eq!(first.3["stored"], 5, "{:?}", first.3);
        let tracks = s.store.tracks(&TrackQuery::default()).expect("tracks");
        let second = answer(
            s.post(
                "/api/v1/fixes",
                &worker,
                Some("fixes-1"),
                "application/x-ndjson",
                lines.clone(),
            )
            .await,
        )
        .await;
        assert_eq!((second.0, second.1.as_deref()), (200, Some("true")));
        assert_eq!(second.3, first.3, "the counts of the first time");
        assert_eq!(s.fixes(), 5);
        assert_eq!(
            s.store.tracks(&TrackQuery::default()).expect("tracks"),
            tracks
        );
        // the same key with other fixes: refused
        problem(
            s.post(
                "/api/v1/fixes",
                &worker,
                Some("fixes-1"),
                "application/x-ndjson",
                lines.replace("5.0", "6.0"),
            )
            .await,
            422,
        )
        .await;
    });
}

fn concurrent_requests_with_one_key_make_one_effect(db: &TestDb) {
    run(async {
        let s = Arc::new(start(db).await);
        let dispatcher = s.token("dispatcher", &[&s.street], "分中心");
        let worker = s.token("grid_worker", &[&s.grid], STAFF);
        let body = s.case_body("同时提交");
        let checkin = json!({"lon": s.point.0, "lat": s.point.1, "accuracy_m": 10.0});
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (s, dispatcher, worker, body, checkin) = (
                s.clone(),
                dispatcher.clone(),
                worker.clone(),
                body.clone(),
                checkin.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let a = answer(
                    s.post_json("/api/v1/cases", &dispatcher, Some("same"), &body)
                        .await,
                )
                .await;
                let b = answer(
                    s.post_json("/api/v1/checkins", &worker, Some("same"), &checkin)
                        .await,
                )
                .await;
                (a, b)
            }));
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut checkin_ids = std::collections::BTreeSet::new();
        for t in tasks {
            let (a, b) = t.await.expect("task");
            for (status, what) in [(a.0, &a.3), (b.0, &b.3)] {
                assert!(status == 201 || status == 409, "{status}: {what}");
            }
            if a.0 == 201 {
                ids.insert(a.3["id"].as_i64().expect("id"));
            }
            if b.0 == 201 {
                checkin_ids.insert(b.3["checkin"]["id"].as_i64().expect("id"));
            }
        }
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(checkin_ids.len(), 1, "{checkin_ids:?}");
        assert_eq!(s.cases(), 1);
        assert_eq!(s.checkins(), 1);
    });
}

/// Check-ins sent together (SQLite writes them in one transaction: a group commit) are each
/// stored once with their own id, and a key sent twice in the same burst is answered twice
/// with the one check-in.
fn a_burst_of_checkins_is_stored_once_each(db: &TestDb) {
    run(async {
        let s = Arc::new(start(db).await);
        let worker = s.token("grid_worker", &[&s.grid], STAFF);
        let t0 = Utc::now() - Duration::minutes(50);
        let mut tasks = Vec::new();
        for i in 0..24i64 {
            let (s, worker) = (s.clone(), worker.clone());
            // 16 keys, the first 8 sent twice (with the same body)
            let k = i % 16;
            let checkin = json!({"lon": s.point.0, "lat": s.point.1, "accuracy_m": 10.0,
                "t": (t0 + Duration::seconds(k)).to_rfc3339()});
            tasks.push(tokio::spawn(async move {
                let key = format!("burst-{k}");
                let a = answer(
                    s.post_json("/api/v1/checkins", &worker, Some(&key), &checkin)
                        .await,
                )
                .await;
                (k, a)
            }));
        }
        let mut by_key = std::collections::BTreeMap::<i64, std::collections::BTreeSet<i64>>::new();
        for t in tasks {
            let (k, a) = t.await.expect("task");
            // a duplicate racing its twin may find the key in progress (409)
            assert!(a.0 == 201 || a.0 == 409, "{}: {}", a.0, a.3);
            if a.0 == 201 {
                let id = a.3["checkin"]["id"].as_i64().expect("id");
                let t = a.3["checkin"]["t"].as_str().expect("t");
                let sent = t0 + Duration::seconds(k);
                assert_eq!(
                    chrono::DateTime::parse_from_rfc3339(t).expect("time"),
                    sent,
                    "the answer is the key's own check-in"
                );
                by_key.entry(k).or_default().insert(id);
            }
        }
        assert_eq!(by_key.len(), 16, "every key stored: {by_key:?}");
        assert!(
            by_key.values().all(|ids| ids.len() == 1),
            "one id per key: {by_key:?}"
        );
        let ids: std::collections::BTreeSet<i64> = by_key.values().flatten().copied().collect();
        assert_eq!(ids.len(), 16, "distinct ids: {ids:?}");
        assert_eq!(s.checkins(), 16);
    });
}

fn invalid_keys_and_refused_requests(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let dispatcher = s.token("dispatcher", &[&s.street], "分中心");
        let body = s.case_body("无效键");
        let long = "k".repeat(129);
        for key in ["", long.as_str(), "a\tb"] {
            let p = problem(
                s.post_json("/api/v1/cases", &dispatcher, Some(key), &body)
                    .await,
                400,
            )
            .await;
            assert!(p.to_string().contains("Idempotency-Key"), "{key:?}: {p}");
        }
        let r = s
            .client
            .post(format!("{}/api/v1/cases", s.base))
            .bearer_auth(&dispatcher)
            .header(
                "idempotency-key",
                reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").expect("value"),
            )
            .json(&body)
            .send()
            .await
            .expect("request");
        problem(r, 400).await;
        // no token: 401 before the key is looked at
        let r = s
            .client
            .post(format!("{}/api/v1/cases", s.base))
            .header("idempotency-key", "")
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 401);
        assert_eq!(s.cases(), 0);
        // a refused request (422: unknown category) leaves its key unused
        let mut bad = body.clone();
        bad["category"] = json!("XX9999");
        problem(
            s.post_json("/api/v1/cases", &dispatcher, Some("retry-me"), &bad)
                .await,
            422,
        )
        .await;
        let r = answer(
            s.post_json("/api/v1/cases", &dispatcher, Some("retry-me"), &body)
                .await,
        )
        .await;
        assert_eq!((r.0, r.1.as_deref()), (201, None), "{:?}", r.3);
        assert_eq!(s.cases(), 1);
        // expired keys are purged and can be used again
        let ttl = std::time::Duration::from_secs(3600);
        assert_eq!(
            gridatlas::service::idempotency::purge(s.store.as_ref(), Utc::now(), ttl)
                .expect("purge"),
            0
        );
        assert_eq!(
            gridatlas::service::idempotency::purge(
                s.store.as_ref(),
                Utc::now() + Duration::hours(2),
                ttl
            )
            .expect("purge"),
            1
        );
        let r = answer(
            s.post_json("/api/v1/cases", &dispatcher, Some("retry-me"), &body)
                .await,
        )
        .await;
        assert_eq!((r.0, r.1.as_deref()), (201, None));
        assert_eq!(s.cases(), 2);
    });
}

suite!(
    a_case_sent_twice_is_stored_once,
    an_action_sent_twice_is_taken_once,
    a_checkin_and_fixes_sent_twice_are_stored_once,
    concurrent_requests_with_one_key_make_one_effect,
    a_burst_of_checkins_is_stored_once_each,
    invalid_keys_and_refused_requests,
);
