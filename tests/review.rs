//! The quality review by sampling (质量考评) over HTTP on both stores, with the demo district and
//! closed cases in four of its streets: a draw repeats with its seed (given, or generated and
//! returned), quotas and street filters, nobody reviews their own street, too few reviewers
//! named with the case; reviewers see and score only their own assignments (403 for someone
//! else's, wrong roles refused), points checked against the rubric, a score replaced until the
//! review is closed; results with known means, medians and spreads and an arbitration flag on a
//! hand-built score set; assigning later; the rubric's API; the reviewer token at the CLI.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use chrono::{Duration, Utc};
use db::TestDb;
use geo::InteriorPoint;
use gridatlas::atlas::Atlas;
use gridatlas::http::{AppState, ServeConfig};
use gridatlas::model::Layer;
use gridatlas::service::access::Caller;
use gridatlas::store::{Store, TokenSpec};
use gridatlas::wire::cases::{CaseInput, EventInput};
use http_support::{problem, run, serve};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Closed cases per street in the fixture.
const PER_STREET: usize = 5;

struct Server {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    /// The closed cases of each of the four streets, by street code.
    closed: BTreeMap<String, Vec<i64>>,
    /// An open case (never drawn).
    open: i64,
}

/// A store with the demo district, the example task list and closed cases in four streets,
/// served on an ephemeral port.
async fn start(db: &TestDb) -> Server {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    gridatlas::http::serve::bootstrap_categories(store.as_ref()).expect("categories");
    let atlas = Atlas::build(store.load_generation(n).expect("load")).with_generation(i64::from(n));
    let (closed, open) = cases(store.as_ref(), &atlas);
    let state = AppState::with_store(atlas, ServeConfig::default(), Some(store.clone()));
    Server {
        base: serve(state).await,
        client: reqwest::Client::new(),
        store,
        closed,
        open,
    }
}

/// A point inside a block, and the layer of the block's grid.
type Place = ((f64, f64), Layer);

/// Reports patrol cases in blocks of four streets (five each, of categories of several groups)
/// and takes them to closed as the operator; one more stays open.
fn cases(store: &dyn Store, atlas: &Atlas) -> (BTreeMap<String, Vec<i64>>, i64) {
    use gridatlas::service::cases::{act, check, submit};
    let set = atlas.features();
    let cats = store.categories().expect("categories");
    // (street, point, grid layer) of blocks, a few per street
    let mut places: BTreeMap<String, Vec<Place>> = BTreeMap::new();
    for b in set.layer(Layer::Block) {
        let Some(grid) = set.parent_of(b) else {
            continue;
        };
        let Some(street) = set.parent_of(grid).filter(|s| s.layer == Layer::Street) else {
            continue;
        };
        let Some(p) = b.geometry.as_area().and_then(|a| a.interior_point()) else {
            continue;
        };
        places
            .entry(street.code.clone())
            .or_default()
            .push(((p.x(), p.y()), grid.layer));
    }
    let streets: Vec<String> = places
        .iter()
        .filter(|(_, v)| v.len() > PER_STREET)
        .map(|(s, _)| s.clone())
        .take(4)
        .collect();
    assert_eq!(streets.len(), 4, "four streets with blocks");
    let caller = Caller::operator("测试 (review)");
    let options = gridatlas::routing::RouteOptions::default();
    let now = Utc::now();
    let mut closed: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut open = None;
    let mut k = 0i64;
    for street in &streets {
        let registers = gridatlas::service::assets::Registers::empty();
        for (i, (p, layer)) in places[street].iter().take(PER_STREET + 1).enumerate() {
            let of_layer: Vec<_> = cats
                .iter()
                .filter(|c| c.layer == *layer && c.street.is_none())
                .collect();
            let cat = of_layer[(i * 3) % of_layer.len()];
            k += 1;
            let reported = now - Duration::hours(48) + Duration::minutes(k * 10);
            let input = CaseInput {
                lon: p.0,
                lat: p.1,
                crs: None,
                category: cat.code.clone(),
                description: format!("抽样测试案件 {k}"),
                source: "patrol".into(),
                reported_at: Some(reported.to_rfc3339()),
                photos: vec!["https://example.org/before.jpg".into()],
                at: None,
                component: None,
                address: None,
            };
            let checked = check(input, now).expect("check");
            let case = submit(store, &caller, atlas, &registers, checked, None, &options)
                .expect("submit")
                .case;
            assert_eq!(case.street.as_deref(), Some(street.as_str()));
            if i == PER_STREET {
                // the last of the first street stays open
                if open.is_none() {
                    open = Some(case.id);
                }
                continue;
            }
            let grid = case.grid.clone().expect("grid");
            for (m, action) in ["accept", "open", "dispatch", "dispose", "check", "close"]
                .into_iter()
                .enumerate()
            {
                let mut ev = EventInput {
                    action: action.into(),
                    at: Some((reported + Duration::minutes(m as i64 + 1)).to_rfc3339()),
                    ..EventInput::default()
                };
                match action {
                    "dispatch" => ev.grid = Some(grid.clone()),
                    "dispose" => ev.note = Some("已处置".into()),
                    _ => {}
                }
                act(store, &caller, case.id, ev, now).expect(action);
            }
            closed.entry(street.clone()).or_default().push(case.id);
        }
    }
    (closed, open.expect("an open case"))
}

impl Server {
    /// A token of `role` for `street` (if any), held by `subject`.
    fn token(&self, role: &str, street: Option<&str>, subject: &str) -> String {
        let secret = gridatlas::http::auth::new_secret();
        let spec = TokenSpec {
            role: role.into(),
            subject: Some(subject.into()),
            streets: street.map(|s| vec![s.to_owned()]).unwrap_or_default(),
            ..TokenSpec::default()
        };
        self.store.create_token_with(&spec, &secret).expect("token");
        secret
    }

    fn streets(&self) -> Vec<&str> {
        self.closed.keys().map(String::as_str).collect()
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.expect("request")
    }

    async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// `GET` answered 200: its JSON.
    async fn ok(&self, path: &str, token: &str) -> Value {
        let r = self.get(path, token).await;
        let status = r.status().as_u16();
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    /// A review drawn with `body` (201 expected).
    async fn draw(&self, token: &str, body: Value) -> Value {
        let r = self.post("/api/v1/reviews", token, body.clone()).await;
        let status = r.status().as_u16();
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let v: Value = r.json().await.expect("json");
        assert_eq!(status, 201, "{body}: {v}");
        assert_eq!(
            location,
            Some(format!("/api/v1/reviews/{}", v["id"])),
            "Location"
        );
        v
    }

    async fn score(&self, review: i64, case: i64, token: &str, points: Value) -> reqwest::Response {
        self.send(
            reqwest::Method::PUT,
            &format!("/api/v1/reviews/{review}/cases/{case}/score"),
            Some(token),
            Some(json!({"points": points})),
        )
        .await
    }
}

fn ids(review: &Value) -> Vec<i64> {
    review["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c["case_id"].as_i64().expect("id"))
        .collect()
}

fn period() -> (String, String) {
    let now = Utc::now();
    (
        (now - Duration::days(7)).to_rfc3339(),
        (now + Duration::minutes(1)).to_rfc3339(),
    )
}

/// Checks that every case of `review` has `k` distinct reviewers, none of its own street.
fn check_assignments(review: &Value, k: usize) {
    let cases = review["cases"].as_array().expect("cases");
    let assignments = review["assignments"].as_array().expect("assignments");
    assert_eq!(assignments.len(), cases.len() * k, "{review}");
    for c in cases {
        let mine: Vec<&Value> = assignments
            .iter()
            .filter(|a| a["case_id"] == c["case_id"])
            .collect();
        let people: BTreeSet<&str> = mine
            .iter()
            .map(|a| a["reviewer"].as_str().expect("reviewer"))
            .collect();
        assert_eq!(people.len(), k, "{c}: {mine:?}");
        for a in mine {
            assert_ne!(a["reviewer_street"], c["street"], "own street: {a} for {c}");
        }
    }
}

fn draws_repeat_and_nobody_reviews_their_own_street(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let supervisor = s.token("supervisor", None, "区督办 孙");
        let streets = s.streets();
        // two reviewers per street
        let reviewers: Vec<Value> = streets
            .iter()
            .flat_map(|st| {
                [
                    json!({"subject": format!("{st}-甲"), "street": st}),
                    json!({"subject": format!("{st}-乙"), "street": st}),
                ]
            })
            .collect();
        let (from, to) = period();
        let body = json!({"from": from, "to": to, "method": "random", "n": 8, "stratify": "group",
                          "seed": 20_261_202, "k": 2, "reviewers": reviewers});
        let a = s.draw(&supervisor, body.clone()).await;
        assert_eq!(a["population"], 20, "the closed cases, not the open one");
        assert_eq!(ids(&a).len(), 8);
        assert_eq!(a["spec"]["seed"], 20_261_202);
        assert_eq!(a["spec"]["stratify"], "group");
        assert_eq!(a["rubric"]["example"], true, "the example rubric in force");
        check_assignments(&a, 2);
        // the same seed and data: the same sample and the same assignment
        let b = s.draw(&supervisor, body.clone()).await;
        assert_ne!(a["id"], b["id"]);
        assert_eq!(a["cases"], b["cases"]);
        assert_eq!(a["assignments"], b["assignments"]);
        // reviewers listed in another order: the same again
        let mut reversed = body.clone();
        let mut list = reviewers.clone();
        list.reverse();
        reversed["reviewers"] = Value::Array(list);
        let c = s.draw(&supervisor, reversed).await;
        assert_eq!(a["assignments"], c["assignments"]);
        // without a seed: one is made, returned, and repeats the draw
        let mut unseeded = body.clone();
        unseeded.as_object_mut().expect("object").remove("seed");
        let d = s.draw(&supervisor, unseeded.clone()).await;
        let seed = d["spec"]["seed"].as_u64().expect("a seed");
        assert!(seed < 1 << 53, "{seed}");
        unseeded["seed"] = json!(seed);
        let e = s.draw(&supervisor, unseeded).await;
        assert_eq!(d["cases"], e["cases"]);
        assert_eq!(d["assignments"], e["assignments"]);

        // a quota of two per street, of two streets only
        let q = s
            .draw(
                &supervisor,
                json!({"from": from, "to": to, "streets": [streets[1], streets[3]],
                       "method": "quota", "per_street": 2, "seed": 1, "k": 1}),
            )
            .await;
        assert_eq!(q["population"], 10);
        assert_eq!(q["streets"], json!([streets[1], streets[3]]));
        let drawn: Vec<&str> = q["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| c["street"].as_str().expect("street"))
            .collect();
        assert_eq!(drawn.len(), 4);
        for st in [streets[1], streets[3]] {
            assert_eq!(drawn.iter().filter(|x| **x == st).count(), 2, "{st}");
            assert!(ids(&q).iter().all(|id| !s.closed[streets[0]].contains(id)));
        }
        assert_eq!(q["assignments"], json!([]), "no reviewers: none assigned");
        // a share of everything: every closed case, never the open one
        let all = s
            .draw(
                &supervisor,
                json!({"from": from, "to": to, "streets": ["*"], "method": "share",
                       "fraction": 1.0, "seed": 3, "k": 1}),
            )
            .await;
        let mut every: Vec<i64> = s.closed.values().flatten().copied().collect();
        every.sort_unstable();
        assert_eq!(ids(&all), every);
        assert!(!ids(&all).contains(&s.open));

        // seven reviewers per case out of eight, two of them of the case's street: refused,
        // naming a case and its street
        let mut too_many = body.clone();
        too_many["k"] = json!(7);
        let p = problem(s.post("/api/v1/reviews", &supervisor, too_many).await, 422).await;
        let detail = p["detail"].as_str().expect("detail");
        assert!(
            detail.contains("6 reviewer(s) from other streets, 7 needed")
                && detail.contains("(street "),
            "{p}"
        );
        assert_eq!(p["field"], "reviewers");
        // a reviewer twice, or of no street of the district
        let mut twice = body.clone();
        twice["reviewers"] = json!([{"subject": "王伟", "street": streets[0]}, {"subject": "王伟", "street": streets[1]}]);
        problem(s.post("/api/v1/reviews", &supervisor, twice).await, 422).await;
        let mut nowhere = body.clone();
        nowhere["reviewers"] = json!([{"subject": "王伟", "street": "310116999"}]);
        problem(s.post("/api/v1/reviews", &supervisor, nowhere).await, 422).await;
        // fields out of bounds, each named
        for (field, value) in [
            ("method", json!("all")),
            ("n", json!(0)),
            ("n", json!(5001)),
            ("seed", json!(1u64 << 53)),
            ("k", json!(0)),
            ("k", json!(10)),
            ("stratify", json!("street")),
            ("streets", json!(["310116999"])),
            ("streets", json!(["*", streets[0]])),
            ("fraction", json!(0.5)),
        ] {
            let mut bad = body.clone();
            bad[field] = value.clone();
            let p = problem(s.post("/api/v1/reviews", &supervisor, bad).await, 422).await;
            assert_eq!(p["field"], field, "{field} = {value}: {p}");
        }
        let mut bad = body.clone();
        bad["rubric"] = json!({"name": "x", "items": [{"key": "a", "name": "甲", "max": 0}], "arbitration_spread": 1});
        let p = problem(s.post("/api/v1/reviews", &supervisor, bad).await, 422).await;
        assert!(
            p["problems"].as_array().is_some_and(|v| !v.is_empty()),
            "{p}"
        );
        // a period with no closed case
        let p = problem(
            s.post(
                "/api/v1/reviews",
                &supervisor,
                json!({"from": "2025-01-01", "to": "2025-02-01", "method": "random", "n": 3, "k": 1}),
            )
            .await,
            422,
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("no closed case")),
            "{p}"
        );
        problem(
            s.post(
                "/api/v1/reviews",
                &supervisor,
                json!({"from": "soon", "method": "random", "n": 3, "k": 1}),
            )
            .await,
            400,
        )
        .await;
        // the wrong roles, before the body is read
        let dispatcher = s.token("dispatcher", Some(streets[0]), "分中心");
        let reviewer = s.token("reviewer", Some(streets[0]), &format!("{}-甲", streets[0]));
        for t in [&dispatcher, &reviewer] {
            problem(s.post("/api/v1/reviews", t, body.clone()).await, 403).await;
            problem(
                s.post("/api/v1/reviews/1/assignments", t, json!({"reviewers": []}))
                    .await,
                403,
            )
            .await;
            problem(
                s.get(&format!("/api/v1/reviews/{}/results", a["id"]), t)
                    .await,
                403,
            )
            .await;
        }
        problem(
            s.send(
                reqwest::Method::POST,
                "/api/v1/reviews",
                None,
                Some(body.clone()),
            )
            .await,
            401,
        )
        .await;
        // a supervisor lists every review, newest first
        let list = s.ok("/api/v1/reviews?limit=2", &supervisor).await;
        assert_eq!(list["total"], 7);
        assert_eq!(list["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(list["items"][0]["id"], all["id"]);
        problem(s.get("/api/v1/reviews?limit=x", &supervisor).await, 400).await;
        problem(s.get("/api/v1/reviews/0", &supervisor).await, 400).await;
        problem(s.get("/api/v1/reviews/999", &supervisor).await, 404).await;
    });
}

fn reviewers_score_only_their_own_assignments(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let supervisor = s.token("supervisor", None, "区督办 孙");
        let admin = s.token("admin", None, "管理员");
        let streets: Vec<String> = s.streets().into_iter().map(str::to_owned).collect();
        // one reviewer per street: with k = 3, every case goes to the three of other streets
        let names: BTreeMap<&str, String> = streets
            .iter()
            .map(|st| (st.as_str(), format!("评审员 {st}")))
            .collect();
        let tokens: BTreeMap<&str, String> = streets
            .iter()
            .map(|st| {
                (
                    st.as_str(),
                    s.token("reviewer", Some(st), &names[st.as_str()]),
                )
            })
            .collect();
        let reviewers: Vec<Value> = streets
            .iter()
            .map(|st| json!({"subject": names[st.as_str()], "street": st}))
            .collect();
        let (from, to) = period();
        let rubric = json!({"name": "两项细则", "items": [
            {"key": "a", "name": "处置质量", "max": 60},
            {"key": "b", "name": "材料完整", "max": 40}], "arbitration_spread": 15});
        let r = s
            .draw(
                &supervisor,
                json!({"from": from, "to": to, "streets": [streets[0], streets[1]],
                       "method": "quota", "per_street": 1, "seed": 99, "k": 3,
                       "rubric": rubric, "reviewers": reviewers}),
            )
            .await;
        check_assignments(&r, 3);
        assert_eq!(r["rubric"]["name"], "两项细则");
        let id = r["id"].as_i64().expect("id");
        let cases = r["cases"].as_array().expect("cases").clone();
        let (c1, c2) = (&cases[0], &cases[1]);
        let (id1, st1) = (
            c1["case_id"].as_i64().expect("id"),
            c1["street"].as_str().expect("street"),
        );
        let (id2, st2) = (
            c2["case_id"].as_i64().expect("id"),
            c2["street"].as_str().expect("street"),
        );
        assert_eq!((st1, st2), (streets[0].as_str(), streets[1].as_str()));
        let others = |st: &str| -> Vec<&str> {
            streets
                .iter()
                .map(String::as_str)
                .filter(|x| *x != st)
                .collect()
        };

        // a reviewer sees their own tasks only
        let own = s
            .ok(
                &format!("/api/v1/reviews/{id}"),
                &tokens[streets[2].as_str()],
            )
            .await;
        assert_eq!(own["cases"].as_array().map(Vec::len), Some(2));
        assert!(
            own["assignments"]
                .as_array()
                .expect("assignments")
                .iter()
                .all(|a| a["reviewer"] == names[streets[2].as_str()].as_str())
        );
        let mine = s.ok(&format!("/api/v1/reviews/{id}"), &tokens[st1]).await;
        assert_eq!(ids(&mine), [id2], "not the case of their own street");
        let listed = s.ok("/api/v1/reviews", &tokens[st1]).await;
        assert_eq!(
            (
                listed["total"].as_i64(),
                listed["items"][0]["cases"].as_i64()
            ),
            (Some(1), Some(1))
        );
        // the case itself, in full but the reporter's contact
        let case = s
            .ok(&format!("/api/v1/reviews/{id}/cases/{id2}"), &tokens[st1])
            .await;
        assert_eq!(case["id"], id2);
        assert!(
            case["description"]
                .as_str()
                .is_some_and(|d| d.starts_with("抽样测试案件"))
        );
        assert_eq!(case["stage"], "closed");
        assert!(
            case["events"].as_array().is_some_and(|e| e.len() == 7),
            "{case}"
        );
        assert_eq!(case["photos"], json!(["https://example.org/before.jpg"]));
        assert!(case.get("contact").is_none() && case.get("feedback_secret").is_none());
        // …not to a reviewer it is not assigned to, nor as a case reader
        problem(
            s.get(&format!("/api/v1/reviews/{id}/cases/{id1}"), &tokens[st1])
                .await,
            403,
        )
        .await;
        problem(
            s.get(&format!("/api/v1/cases/{id2}"), &tokens[st1]).await,
            403,
        )
        .await;
        problem(
            s.get(
                &format!("/api/v1/reviews/{id}/cases/{}", s.open),
                &supervisor,
            )
            .await,
            404,
        )
        .await;
        s.ok(&format!("/api/v1/reviews/{id}/cases/{id1}"), &supervisor)
            .await;

        // scoring someone else's assignment (the case of their own street): 403
        let p = problem(
            s.score(id, id1, &tokens[st1], json!({"a": 50, "b": 30}))
                .await,
            403,
        )
        .await;
        assert!(
            p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("not assigned to")),
            "{p}"
        );
        // the same name on a token of another street is another reviewer
        let impostor = s.token("reviewer", Some(st1), &names[others(st1)[0]]);
        problem(
            s.score(id, id1, &impostor, json!({"a": 50, "b": 30})).await,
            403,
        )
        .await;
        // the wrong roles: refused at the edge, and an admin does not score for a reviewer
        let dispatcher = s.token("dispatcher", Some(st2), "分中心");
        problem(
            s.score(id, id1, &dispatcher, json!({"a": 50, "b": 30}))
                .await,
            403,
        )
        .await;
        problem(
            s.score(id, id1, &admin, json!({"a": 50, "b": 30})).await,
            403,
        )
        .await;
        problem(
            s.send(
                reqwest::Method::PUT,
                &format!("/api/v1/reviews/{id}/cases/{id1}/score"),
                None,
                Some(json!({"points": {}})),
            )
            .await,
            401,
        )
        .await;
        // points against the rubric, every problem named
        let t = &tokens[others(st1)[0]];
        let p = problem(s.score(id, id1, t, json!({"a": 60.5, "c": 1})).await, 422).await;
        let all = p["problems"].to_string();
        for needle in [
            "points.a: 60.5 is not 0 to 60",
            "points.b: missing",
            "points.c: not an item",
        ] {
            assert!(all.contains(needle), "{needle}: {p}");
        }
        problem(s.score(id, id1, t, json!({"a": 17.25, "b": 1})).await, 422).await;
        problem(s.score(id, 424242, t, json!({"a": 1, "b": 1})).await, 404).await;

        // the hand-built set. Case 1: 80, 90, 70 → mean 80, median 80, spread 20 > 15:
        // arbitration. Case 2: 85, 85.5, 90 → mean 86.83, median 85.5, spread 5.
        let totals1 = [(50.0, 30.0), (55.0, 35.0), (40.0, 30.0)];
        let totals2 = [(50.0, 35.0), (50.5, 35.0), (60.0, 30.0)];
        for (case_id, street, totals) in [(id1, st1, totals1), (id2, st2, totals2)] {
            for (reviewer, (a, b)) in others(street).into_iter().zip(totals) {
                // a first, wrong score, replaced by the right one while the review is open
                let r = s
                    .score(id, case_id, &tokens[reviewer], json!({"a": 1, "b": 1}))
                    .await;
                assert_eq!(r.status().as_u16(), 200);
                let r = s
                    .score(id, case_id, &tokens[reviewer], json!({"a": a, "b": b}))
                    .await;
                let status = r.status().as_u16();
                let v: Value = r.json().await.expect("json");
                assert_eq!(status, 200, "{v}");
                assert_eq!(
                    (v["total"].as_f64(), v["reviewer"].as_str()),
                    (Some(a + b), Some(names[reviewer].as_str()))
                );
                assert!(v["scored_at"].is_string());
            }
        }
        let res = s
            .ok(&format!("/api/v1/reviews/{id}/results"), &supervisor)
            .await;
        assert_eq!(
            (res["max_total"].as_u64(), res["complete"].as_bool()),
            (Some(100), Some(true)),
            "{res}"
        );
        assert_eq!(res["closed_at"], Value::Null);
        let r1 = &res["cases"][0];
        assert_eq!(r1["case_id"], id1);
        assert_eq!(r1["totals"], json!([70.0, 80.0, 90.0]));
        assert_eq!(
            (
                r1["mean"].as_f64(),
                r1["median"].as_f64(),
                r1["spread"].as_f64()
            ),
            (Some(80.0), Some(80.0), Some(20.0))
        );
        assert_eq!(r1["arbitration"], true);
        let r2 = &res["cases"][1];
        assert_eq!(
            (
                r2["mean"].as_f64(),
                r2["median"].as_f64(),
                r2["spread"].as_f64()
            ),
            (Some(86.83), Some(85.5), Some(5.0))
        );
        assert_eq!(r2["arbitration"], false);
        let street_rates: BTreeMap<String, (f64, u64)> = res["streets"]
            .as_array()
            .expect("streets")
            .iter()
            .map(|x| {
                (
                    x["street"].as_str().expect("street").to_owned(),
                    (
                        x["rate"].as_f64().expect("rate"),
                        x["arbitration"].as_u64().expect("n"),
                    ),
                )
            })
            .collect();
        assert_eq!(street_rates[st1], (0.8, 1));
        assert_eq!(street_rates[st2], (0.8683, 0));
        // a reviewer sees no results
        problem(
            s.get(&format!("/api/v1/reviews/{id}/results"), &tokens[st1])
                .await,
            403,
        )
        .await;

        // closing: the results are final, later scores and a second closing are refused
        let r = s
            .post(
                &format!("/api/v1/reviews/{id}/close"),
                &supervisor,
                json!({}),
            )
            .await;
        assert_eq!(r.status().as_u16(), 200);
        let fin: Value = r.json().await.expect("json");
        assert!(fin["closed_at"].is_string());
        assert_eq!(fin["cases"], res["cases"]);
        problem(
            s.score(id, id2, &tokens[st1], json!({"a": 1, "b": 1}))
                .await,
            409,
        )
        .await;
        // the closed review's street rates are the streets' review_score in the ranked table
        let q = |k: &str| fin[k].as_str().expect("time").replace('+', "%2B");
        let period = format!("from={}&to={}", q("from"), q("to"));
        let ranking = s
            .ok(
                &format!("/api/v1/ranking?{period}&review={id}"),
                &supervisor,
            )
            .await;
        assert_eq!(ranking["review"], id, "{ranking}");
        let score_of = |ranking: &Value, street: &str| {
            ranking["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|r| r["code"] == street)
                .map(|r| r["indicators"]["review_score"].clone())
        };
        assert_eq!(score_of(&ranking, st1), Some(json!(0.8)));
        assert_eq!(score_of(&ranking, st2), Some(json!(0.8683)));
        let plain = s
            .ok(&format!("/api/v1/ranking?{period}"), &supervisor)
            .await;
        assert_eq!(score_of(&plain, st1), Some(Value::Null));
        // a review scores streets only
        problem(
            s.get(
                &format!("/api/v1/ranking?{period}&kind=grid&review={id}"),
                &supervisor,
            )
            .await,
            400,
        )
        .await;
        problem(
            s.post(
                &format!("/api/v1/reviews/{id}/close"),
                &supervisor,
                json!({}),
            )
            .await,
            409,
        )
        .await;
        problem(
            s.post(
                &format!("/api/v1/reviews/{id}/close"),
                &tokens[st1],
                json!({}),
            )
            .await,
            403,
        )
        .await;
    });
}

fn reviewers_are_assigned_later_with_the_reviews_seed(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let supervisor = s.token("supervisor", None, "区督办 孙");
        let reviewers: Vec<Value> = s
            .streets()
            .iter()
            .enumerate()
            .map(|(i, st)| json!({"subject": format!("评审员{i}"), "street": st}))
            .collect();
        let (from, to) = period();
        let body = json!({"from": from, "to": to, "method": "share", "fraction": 0.4,
                          "stratify": "group", "seed": 5, "k": 2});
        let bare = s.draw(&supervisor, body.clone()).await;
        // 5 × 0.4 = 2 per street
        assert_eq!(ids(&bare).len(), 8);
        assert_eq!(bare["assignments"], json!([]));
        let id = bare["id"].as_i64().expect("id");
        let path = format!("/api/v1/reviews/{id}/assignments");
        problem(
            s.post(&path, &supervisor, json!({"reviewers": []})).await,
            422,
        )
        .await;
        let r = s
            .post(&path, &supervisor, json!({"reviewers": reviewers}))
            .await;
        assert_eq!(r.status().as_u16(), 200);
        let later: Value = r.json().await.expect("json");
        check_assignments(&later, 2);
        // the same as drawing and assigning at once with that seed
        let mut at_once = body.clone();
        at_once["reviewers"] = json!(reviewers);
        let once = s.draw(&supervisor, at_once).await;
        assert_eq!(later["assignments"], once["assignments"]);
        // once assigned, not again
        problem(
            s.post(&path, &supervisor, json!({"reviewers": reviewers}))
                .await,
            409,
        )
        .await;
        problem(
            s.post(
                "/api/v1/reviews/999/assignments",
                &supervisor,
                json!({"reviewers": reviewers}),
            )
            .await,
            404,
        )
        .await;
        // a reviewer with no task in a review may not read it
        let stranger = s.token("reviewer", Some(s.streets()[0]), "无任务的人");
        problem(
            s.get(&format!("/api/v1/reviews/{id}"), &stranger).await,
            403,
        )
        .await;
        let none = s.ok("/api/v1/reviews", &stranger).await;
        assert_eq!(none["total"], 0);
    });
}

fn the_rubric_in_force(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let admin = s.token("admin", None, "管理员");
        let supervisor = s.token("supervisor", None, "督办");
        let anyone = s
            .send(reqwest::Method::GET, "/api/v1/review-rubric", None, None)
            .await;
        let v: Value = anyone.json().await.expect("json");
        assert_eq!(v["example"], true);
        assert_eq!(v["rubric"]["items"].as_array().map(Vec::len), Some(5));
        let put = |t: String, body: Value| {
            let s = &s;
            async move {
                s.send(
                    reqwest::Method::PUT,
                    "/api/v1/review-rubric",
                    Some(&t),
                    Some(body),
                )
                .await
            }
        };
        let mine = json!({"name": "本区细则", "items": [{"key": "q", "name": "质量", "max": 10}], "arbitration_spread": 2});
        problem(put(supervisor.clone(), mine.clone()).await, 403).await;
        let p = problem(
            put(
                admin.clone(),
                json!({"name": "", "items": [], "arbitration_spread": -1}),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(p["problems"].as_array().map(Vec::len), Some(3), "{p}");
        let r = put(admin.clone(), mine).await;
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = s
            .send(reqwest::Method::GET, "/api/v1/review-rubric", None, None)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(
            (v["example"].as_bool(), v["rubric"]["name"].as_str()),
            (Some(false), Some("本区细则"))
        );
        // new reviews take it
        let (from, to) = period();
        let r = s
            .draw(
                &supervisor,
                json!({"from": from, "to": to, "method": "random", "n": 1, "seed": 1, "k": 1}),
            )
            .await;
        assert_eq!(r["rubric"]["name"], "本区细则");
    });
}

fn openapi_describes_the_review_api(db: &TestDb) {
    run(async {
        let s = start(db).await;
        let doc: Value = s
            .send(reqwest::Method::GET, "/api/v1/openapi.json", None, None)
            .await
            .json()
            .await
            .expect("json");
        // generated clients break on tuple schemas
        assert!(!doc.to_string().contains("prefixItems"));
        for (path, method, body) in [
            ("/api/v1/reviews", "post", true),
            ("/api/v1/reviews", "get", false),
            ("/api/v1/reviews/{id}", "get", false),
            ("/api/v1/reviews/{id}/assignments", "post", true),
            ("/api/v1/reviews/{id}/cases/{case_id}", "get", false),
            ("/api/v1/reviews/{id}/cases/{case_id}/score", "put", true),
            ("/api/v1/reviews/{id}/results", "get", false),
            ("/api/v1/reviews/{id}/close", "post", false),
            ("/api/v1/review-rubric", "get", false),
            ("/api/v1/review-rubric", "put", true),
        ] {
            let op = &doc["paths"][path][method];
            assert!(op.is_object(), "{method} {path} missing from OpenAPI");
            if body {
                for status in ["400", "415"] {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path} documents no {status}"
                    );
                }
            }
        }
        let created = &doc["paths"]["/api/v1/reviews"]["post"]["responses"]["201"]["content"]["application/json"]
            ["schema"]["$ref"];
        assert_eq!(created, "#/components/schemas/Review");
        assert!(doc["components"]["schemas"]["Rubric"].is_object());
        assert!(doc["components"]["schemas"]["ReviewResults"].is_object());
        // a reviewer's assignment has a name of its own: `Assignment` is a case's routing (one
        // schema overwrote the other, and every case answer broke its schema)
        let props = |name: &str| doc["components"]["schemas"][name]["properties"].clone();
        assert!(
            props("Assignment")["grid"].is_object(),
            "{}",
            props("Assignment")
        );
        assert!(props("ReviewAssignment")["reviewer"].is_object());
    });
}

suite!(
    openapi_describes_the_review_api,
    draws_repeat_and_nobody_reviews_their_own_street,
    reviewers_score_only_their_own_assignments,
    reviewers_are_assigned_later_with_the_reviews_seed,
    the_rubric_in_force,
);

#[test]
fn the_cli_makes_reviewer_tokens_for_one_street_and_a_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("g.db");
    let bin = env!("CARGO_BIN_EXE_gridatlas");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(["token", "create", "--role", "reviewer"])
            .args(args)
            .arg("--database")
            .arg(&db)
            .output()
            .expect("run gridatlas")
    };
    let out = run(&["--street", "310116101", "--subject", "王伟"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 64);
    for args in [
        &["--street", "310116101"][..],
        &["--subject", "王伟"][..],
        &["--street", "*", "--subject", "王伟"][..],
        &[
            "--street",
            "310116101",
            "--street",
            "310116102",
            "--subject",
            "王伟",
        ][..],
    ] {
        let out = run(args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("reviewer token"), "{args:?}: {err}");
    }
}
