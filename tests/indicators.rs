//! The indicators computed by each store in SQL equal the plain reference implementation
//! ([`gridatlas::cases::indicators::compute`] and [`persons`]) over randomised case histories:
//! cases reported over two months, driven through random workflow actions (every action the
//! stage allows, by random people, with random delays on the example calendar, verdicts that
//! reopen cases), then compared for random periods, moments, streets and category sets, on both
//! stores.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use db::TestDb;
use geo::InteriorPoint;
use gridatlas::atlas::Atlas;
use gridatlas::calendar::{Calendar, EXAMPLE_CALENDAR};
use gridatlas::cases::indicators::{Dimension, Scope, compute, persons};
use gridatlas::cases::workflow::{self, Request};
use gridatlas::cases::{Action, Case, CaseFilter, Feedback, NewCase, Satisfaction, Source, Stage};
use gridatlas::model::Layer;
use gridatlas::routing::categories::{Category, EXAMPLE_TASK_LIST, parse_task_list};
use gridatlas::routing::{RouteOptions, route};
use gridatlas::store::Store;
use http_support::demo;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0)
        .single()
        .expect("t0")
}

const PEOPLE: [&str; 4] = ["张三", "李四", "王五", "赵六"];
const DEPARTMENTS: [&str; 3] = ["区建管委", "区绿化市容局", "区房管局"];

/// `n` random cases in `store`, driven through random actions; returns them as stored.
fn random_cases(store: &dyn Store, seed: u64, n: usize) -> Vec<Case> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let atlas = Atlas::build(demo().clone()).with_generation(1);
    let cal = Calendar::from_json(EXAMPLE_CALENDAR).expect("calendar");
    let cats: Vec<Category> = parse_task_list(EXAMPLE_TASK_LIST).expect("task list");
    let blocks: Vec<(f64, f64, String)> = demo()
        .layer(Layer::Block)
        .filter_map(|f| {
            let p = f.geometry.as_area()?.interior_point()?;
            let grid = demo().parent_of(f)?.code.clone();
            Some((p.x(), p.y(), grid))
        })
        .collect();
    let grids: Vec<String> = blocks.iter().map(|b| b.2.clone()).collect();
    let mut ids = Vec::new();
    for _ in 0..n {
        let (x, y, _) = &blocks[rng.random_range(0..blocks.len())];
        let cat = &cats[rng.random_range(0..cats.len())];
        let source = Source::ALL[rng.random_range(0..Source::ALL.len())];
        let reported = t0() + Duration::minutes(rng.random_range(0..60 * 24 * 60));
        let Ok(assignment) = route(&atlas, *x, *y, cat, reported, &RouteOptions::default()) else {
            continue;
        };
        let reporter = PEOPLE[rng.random_range(0..PEOPLE.len())];
        let case = store
            .create_case(&NewCase {
                category: cat.code.clone(),
                source,
                description: String::new(),
                input: (*x, *y, "wgs84".into()),
                reported_at: reported,
                photos: vec![],
                created_by: reporter.into(),
                role: "intake".into(),
                contact: None,
                assignment,
                limits: cat.limits,
                due_at: workflow::due(&cal, reported, cat.limits.accept).expect("due"),
                feedback_sha256: None,
            })
            .expect("stored");
        let mut at = reported;
        let mut stage = case.stage;
        for _ in 0..rng.random_range(0..20) {
            let actions = stage.actions();
            if actions.is_empty() {
                break;
            }
            // mostly forward, as cases go; now and then any action the stage allows
            let forward = match stage {
                Stage::Reported => Action::Accept,
                Stage::Accepted => Action::Verify,
                Stage::Verified => Action::Open,
                Stage::Opened => Action::Dispatch,
                Stage::Dispatched => match rng.random_range(0..10) {
                    0 => Action::RequestExtension,
                    1 | 2 => Action::ApproveExtension,
                    _ => Action::Dispose,
                },
                Stage::Disposed if rng.random_bool(0.2) => Action::Rework,
                Stage::Disposed => Action::Check,
                Stage::Checked => Action::Close,
                _ => Action::Resume,
            };
            let mut action = actions[rng.random_range(0..actions.len())];
            if (rng.random_bool(0.75) || action == Action::Void && rng.random_bool(0.8))
                && actions.contains(&forward)
            {
                action = forward;
            }
            if action == Action::Reopen {
                continue;
            }
            // most steps within hours, some after days
            at += Duration::minutes(if rng.random_bool(0.7) {
                rng.random_range(0..60 * 4)
            } else {
                rng.random_range(0..60 * 24 * 4)
            });
            let by = PEOPLE[rng.random_range(0..PEOPLE.len())];
            let mut req = Request::new(action, at, by, "dispatcher");
            req.note = Some("n".into());
            if matches!(action, Action::Dispatch | Action::Transfer) {
                if rng.random_bool(0.5) {
                    req.grid = Some(grids[rng.random_range(0..grids.len())].clone());
                } else {
                    req.department =
                        Some(DEPARTMENTS[rng.random_range(0..DEPARTMENTS.len())].into());
                }
            }
            if matches!(action, Action::Hold | Action::RequestExtension) {
                req.until = Some(at + Duration::days(rng.random_range(1..20)));
            }
            if let Ok(c) = store
                .change_case(case.id, &mut |c| workflow::apply(c, &req, &cal))
                .expect("store")
            {
                stage = c.stage;
            }
        }
        // a verdict on some closed cases; "not resolved" reopens the case
        if stage == Stage::Closed && rng.random_bool(0.6) {
            at += Duration::minutes(rng.random_range(0..60 * 24 * 5));
            let resolved = rng.random_bool(0.6);
            let feedback = Feedback {
                at,
                resolved,
                satisfaction: [
                    Satisfaction::Satisfied,
                    Satisfaction::BasicallySatisfied,
                    Satisfaction::Dissatisfied,
                ][rng.random_range(0..3)],
                comment: None,
                via: "link".into(),
            };
            store
                .give_feedback(case.id, &feedback, None, &mut |c| {
                    if resolved {
                        Ok(None)
                    } else {
                        let mut req = Request::new(Action::Reopen, at, "resident", "resident");
                        req.note = Some("没有解决".into());
                        workflow::apply(c, &req, &cal).map(Some)
                    }
                })
                .expect("store")
                .expect("verdict");
        }
        ids.push(case.id);
    }
    let (cases, _) = store
        .list_cases(&CaseFilter {
            ids,
            limit: i64::MAX,
            ..CaseFilter::default()
        })
        .expect("list");
    cases
}

fn random_scope(rng: &mut ChaCha8Rng, cases: &[Case], cats: &[Category]) -> Scope {
    let from = t0() + Duration::hours(rng.random_range(-48..24 * 40));
    let to = from + Duration::hours(rng.random_range(1..24 * 60));
    let as_of = if rng.random_bool(0.3) {
        to
    } else {
        from + Duration::hours(rng.random_range(0..24 * 90))
    };
    let street = rng
        .random_bool(0.3)
        .then(|| cases.first().and_then(|c| c.street.clone()))
        .flatten();
    let categories = rng.random_bool(0.3).then(|| {
        cats.iter()
            .filter(|_| rng.random_bool(0.5))
            .map(|c| c.code.clone())
            .collect()
    });
    Scope {
        from,
        to,
        as_of,
        street,
        categories,
    }
}

fn sql_equals_the_reference(db: &TestDb) {
    let store = db.open();
    let cats = parse_task_list(EXAMPLE_TASK_LIST).expect("task list");
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 6,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let all: std::cell::RefCell<Vec<Case>> = std::cell::RefCell::new(Vec::new());
    runner
        .run(&(any::<u64>(), 1usize..30), |(seed, n)| {
            // cases accumulate over the runs: each run's cases join those before
            all.borrow_mut()
                .extend(random_cases(store.as_ref(), seed, n));
            let all = all.borrow();
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
            for _ in 0..8 {
                let scope = random_scope(&mut rng, &all, &cats);
                for by in [
                    Dimension::District,
                    Dimension::Street,
                    Dimension::Grid,
                    Dimension::Department,
                    Dimension::Category,
                ] {
                    let sql = store.indicators(&scope, by).expect("indicators");
                    let reference = compute(&*all, &scope, by);
                    prop_assert_eq!(sql, reference, "{:?} {:?}", by, scope);
                }
                let sql = store.person_indicators(&scope).expect("persons");
                prop_assert_eq!(sql, persons(&*all, &scope), "persons {:?}", scope);
            }
            Ok(())
        })
        .expect("SQL equals the reference");
    let all = all.into_inner();
    // the random histories reached every kind of fact the indicators count
    let scope = Scope {
        from: t0() - Duration::days(1),
        to: t0() + Duration::days(400),
        as_of: t0() + Duration::days(400),
        street: None,
        categories: None,
    };
    let d = &compute(&all, &scope, Dimension::District)[&None];
    for name in [
        "patrol_valid",
        "resolved_front_end",
        "escalated_back_end",
        "verified",
        "closed",
        "reworked",
        "returned",
        "extended",
        "supervised",
        "verdicts",
        "reopened",
        "closed_on_time",
        "overdue",
    ] {
        assert!(d.count(name).is_some_and(|n| n > 0), "no {name}: {d:?}");
    }
}

/// A resident's "not resolved" on a closed case reopens it: 实际解决率 counts the verdict from
/// its time, the case is no longer closed, and the facts follow on both stores.
fn a_not_resolved_verdict_reopens_and_counts(db: &TestDb) {
    let store = db.open();
    let cal = Calendar::from_json(EXAMPLE_CALENDAR).expect("calendar");
    let all = random_cases(store.as_ref(), 7, 40);
    let closed: Vec<&Case> = all
        .iter()
        .filter(|c| c.stage == Stage::Closed && c.feedback.is_none())
        .collect();
    assert!(
        closed.len() >= 2,
        "closed cases without a verdict: {}",
        closed.len()
    );
    let scope = |as_of: DateTime<Utc>| Scope {
        from: t0() - Duration::days(1),
        to: t0() + Duration::days(400),
        as_of,
        street: None,
        categories: None,
    };
    let late = closed
        .iter()
        .map(|c| c.updated_at)
        .max()
        .expect("a closed case")
        + Duration::days(1);
    let before = store
        .indicators(&scope(late), Dimension::District)
        .expect("indicators")[&None]
        .clone();
    let target = closed[0];
    let at = late + Duration::hours(1);
    store
        .give_feedback(
            target.id,
            &Feedback {
                at,
                resolved: false,
                satisfaction: Satisfaction::Dissatisfied,
                comment: Some("还在".into()),
                via: "link".into(),
            },
            None,
            &mut |c| {
                let mut req = Request::new(Action::Reopen, at, "resident", "resident");
                req.note = Some("还在".into());
                workflow::apply(c, &req, &cal).map(Some)
            },
        )
        .expect("store")
        .expect("verdict");
    let after = store
        .indicators(&scope(at), Dimension::District)
        .expect("indicators")[&None]
        .clone();
    assert_eq!(after.verdicts, before.verdicts + 1);
    assert_eq!(after.resolved_by_verdict, before.resolved_by_verdict);
    assert_eq!(after.reopened, before.reopened + 1);
    assert_eq!(after.closed + 1, before.closed);
    assert!(after.actual_resolution_rate < before.actual_resolution_rate.or(Some(1.1)));
    // as of before the verdict nothing changed
    assert_eq!(
        store
            .indicators(&scope(late), Dimension::District)
            .expect("indicators")[&None],
        before
    );
}

suite!(
    sql_equals_the_reference,
    a_not_resolved_verdict_reopens_and_counts
);
