//! The transition table, row by row and pair by pair, and the due times it sets.

use super::*;
use crate::cases::Event;
use crate::routing::{Assignment, Confidence};
use chrono::TimeZone;

/// Hours 09:00–12:00 and 13:00–17:00, Saturday and Sunday off, National Day 2026 off
/// (1–7 October) with Saturday 10 October worked.
fn calendar() -> Calendar {
    Calendar::from_json(
        br#"{"utc_offset_h": 8, "work_hours": [["09:00", "12:00"], ["13:00", "17:00"]],
             "weekend": ["sat", "sun"],
             "holidays": ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"],
             "workdays": ["2026-10-10"]}"#,
    )
    .expect("calendar")
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn case(stage: Stage, track: Option<Track>, source: Source) -> Case {
    let at = t("2026-09-25T16:00:00+08:00");
    Case {
        id: 7,
        category: "SG0101".into(),
        source,
        description: String::new(),
        stage,
        track,
        input: serde_json::json!({"lon": 121.0, "lat": 30.7, "crs": "wgs84"}),
        reported_at: at,
        created_at: at,
        updated_at: at,
        due_at: at + chrono::Duration::hours(1),
        done_at: None,
        street: Some("S1".into()),
        grid: Some("G1".into()),
        block: None,
        generation: Some(1),
        assigned_grid: (track == Some(Track::FrontEnd)).then(|| "G1".into()),
        department: (track == Some(Track::BackEnd)).then(|| "区市容绿化局".into()),
        supervised: false,
        duplicate_of: None,
        limits: StageLimits::default(),
        photos: Vec::new(),
        created_by: "test".into(),
        assignment: Assignment {
            category: "SG0101".into(),
            confidence: Confidence::Inside,
            point: [121.0, 30.7],
            street: None,
            grid: None,
            block: None,
            block_head: None,
            grid_people: Vec::new(),
            road_segment: None,
            management_units: Vec::new(),
            layer_mismatch: false,
            mismatch_reason: None,
            candidates: Vec::new(),
            distance_m: None,
            queue: None,
            generation: Some(1),
            due_at: at.fixed_offset(),
            about: Default::default(),
            component: None,
            shop: None,
            dispatch: None,
        },
        events: vec![Event {
            seq: 1,
            at,
            action: Action::Report,
            stage: Stage::Reported,
            by: "test".into(),
            role: "intake".into(),
            note: None,
            photos: Vec::new(),
            grid: None,
            department: None,
            until: None,
            duplicate_of: None,
            due_at: None,
            on_time: None,
        }],
        feedback: None,
    }
}

/// A request of `action` carrying whatever the rule needs.
fn complete(action: Action, at: DateTime<Utc>) -> Request {
    let mut r = Request::new(action, at, "王伟", "dispatcher");
    let rule = action.rule();
    if rule.needs.contains(&Need::Note) {
        r.note = Some("理由".into());
    }
    if rule.needs.contains(&Need::Until) {
        r.until = Some(at + chrono::Duration::days(30));
    }
    if rule.needs.contains(&Need::Target) {
        r.department = Some("区房管局".into());
    }
    r
}

/// A case in `stage` that the action's special conditions accept.
fn ready(stage: Stage, action: Action) -> Case {
    let track = match (stage, action) {
        (Stage::Dispatched, Action::Escalate) => Some(Track::FrontEnd),
        (Stage::Dispatched | Stage::Disposed | Stage::Checked, _) => Some(Track::BackEnd),
        _ => None,
    };
    let mut c = case(stage, track, Source::Hotline);
    if matches!(action, Action::Transfer | Action::Reopen) {
        // transferred from where it is (or was last) dispatched
        let mut e = c.events[0].clone();
        e.seq = 2;
        e.action = Action::Dispatch;
        e.department = Some("区市容绿化局".into());
        c.events.push(e);
    }
    if matches!(action, Action::ApproveExtension | Action::RefuseExtension) {
        let mut e = c.events[0].clone();
        e.seq = 2;
        e.action = Action::RequestExtension;
        e.until = Some(c.due_at + chrono::Duration::days(3));
        c.events.push(e);
    }
    c
}

#[test]
fn the_table_has_one_row_per_action_in_order() {
    assert_eq!(RULES.len(), Action::ALL.len());
    for (i, a) in Action::ALL.into_iter().enumerate() {
        assert_eq!(RULES[i].action, a, "row {i}");
        assert_eq!(a.rule().action, a);
    }
}

#[test]
fn every_row_moves_the_case_to_its_stage() {
    let cal = calendar();
    let at = t("2026-09-28T10:00:00+08:00");
    for rule in RULES.iter().filter(|r| r.action != Action::Report) {
        for &from in rule.from {
            let c = ready(from, rule.action);
            let step = apply(&c, &complete(rule.action, at), &cal)
                .unwrap_or_else(|e| panic!("{:?} from {from:?}: {e}", rule.action));
            assert_eq!(
                step.stage,
                rule.to.unwrap_or(from),
                "{:?} from {from:?}",
                rule.action
            );
            assert_eq!(step.event.action, rule.action);
            assert_eq!(step.event.stage, step.stage);
            assert_eq!(step.event.seq, c.events.len() as i32 + 1);
            assert_eq!(step.event.by, "王伟");
            assert_eq!(step.done_at.is_some(), step.stage.is_terminal());
        }
    }
}

#[test]
fn every_refused_pair_names_the_stage_and_the_allowed_actions() {
    let cal = calendar();
    let at = t("2026-09-28T10:00:00+08:00");
    let mut refused = 0;
    for rule in RULES.iter().filter(|r| r.action != Action::Report) {
        for from in Stage::ALL.into_iter().filter(|s| !rule.from.contains(s)) {
            let c = ready(from, rule.action);
            let e = apply(&c, &complete(rule.action, at), &cal).expect_err("refused");
            let Refusal::Conflict {
                detail,
                stage,
                allowed,
            } = e
            else {
                panic!("{:?} from {from:?}: {e:?}", rule.action)
            };
            assert_eq!(stage, from);
            assert_eq!(allowed, from.actions());
            assert!(
                detail.contains(&format!("the case is {}", from.as_str()))
                    && detail.contains(&format!("cannot {}", rule.action.as_str())),
                "{detail}"
            );
            for a in &allowed {
                assert!(detail.contains(a.as_str()), "{detail} lacks {a:?}");
            }
            refused += 1;
        }
    }
    // every action but the report × 11 stages, less the allowed pairs
    let allowed: usize = RULES
        .iter()
        .filter(|r| r.action != Action::Report)
        .map(|r| r.from.len())
        .sum();
    assert_eq!(refused, (RULES.len() - 1) * Stage::ALL.len() - allowed);
    let done = case(Stage::Rejected, None, Source::Hotline);
    let e = apply(&done, &complete(Action::Accept, at), &cal).expect_err("finished");
    assert!(e.to_string().contains("none, the case is finished"), "{e}");
}

#[test]
fn a_dispatch_naming_nobody_goes_as_routed() {
    use crate::routing::{AreaRef, DispatchHint, Principle};
    let cal = calendar();
    let at = t("2026-09-28T10:00:00+08:00");
    let mut c = case(Stage::Opened, None, Source::Hotline);
    c.assignment.grid = Some(AreaRef {
        code: "G1".into(),
        name: "东林".into(),
        layer: crate::model::Layer::StreetGrid,
        kind: None,
    });
    // territory-first: to the routed grid (front end)
    let req = Request::new(Action::Dispatch, at, "x", "dispatcher");
    let step = apply(&c, &req, &cal).expect("dispatched");
    assert_eq!(
        (
            step.track,
            step.assigned_grid.as_deref(),
            step.department.as_deref()
        ),
        (Some(Track::FrontEnd), Some("G1"), None)
    );
    // owner-first: to the component's owner department (back end), the grid kept as territory
    c.assignment.dispatch = Some(DispatchHint {
        principle: Principle::Owner,
        department: Some("区水务局".into()),
        reason: "component".into(),
    });
    let step = apply(&c, &req, &cal).expect("dispatched");
    assert_eq!(
        (
            step.track,
            step.assigned_grid.as_deref(),
            step.department.as_deref()
        ),
        (Some(Track::BackEnd), None, Some("区水务局"))
    );
    assert_eq!(step.event.department.as_deref(), Some("区水务局"));
    assert_eq!(c.grid.as_deref(), Some("G1"), "the territory stays");
    // a transfer still names its target
    let mut d = c.clone();
    d.stage = Stage::Dispatched;
    let e = apply(
        &d,
        &Request::new(Action::Transfer, at, "x", "dispatcher"),
        &cal,
    );
    assert!(
        matches!(
            e,
            Err(Refusal::Invalid {
                field: "grid/department",
                ..
            })
        ),
        "{e:?}"
    );
}

#[test]
fn what_each_action_needs_is_named() {
    let cal = calendar();
    let at = t("2026-09-28T10:00:00+08:00");
    let c = case(Stage::Reported, None, Source::Hotline);
    let e = apply(
        &c,
        &Request::new(Action::Reject, at, "x", "dispatcher"),
        &cal,
    );
    assert!(
        matches!(e, Err(Refusal::Invalid { field: "note", .. })),
        "{e:?}"
    );
    let c = case(Stage::Opened, None, Source::Hotline);
    let e = apply(
        &c,
        &Request::new(Action::Dispatch, at, "x", "dispatcher"),
        &cal,
    );
    assert!(
        matches!(
            e,
            Err(Refusal::Invalid {
                field: "grid/department",
                ..
            })
        ),
        "{e:?}"
    );
    let mut both = Request::new(Action::Dispatch, at, "x", "dispatcher");
    both.grid = Some("G1".into());
    both.department = Some("D".into());
    assert!(apply(&c, &both, &cal).is_err());
    let mut hold = complete(Action::Hold, at);
    hold.until = None;
    let e = apply(&c, &hold, &cal);
    assert!(
        matches!(e, Err(Refusal::Invalid { field: "until", .. })),
        "{e:?}"
    );
    hold.until = Some(at - chrono::Duration::hours(1));
    let e = apply(&c, &hold, &cal);
    assert!(
        matches!(e, Err(Refusal::Invalid { field: "until", .. })),
        "{e:?}"
    );
    let mut early = complete(Action::Accept, at);
    early.at = c.events[0].at - chrono::Duration::seconds(1);
    let e = apply(&case(Stage::Reported, None, Source::Hotline), &early, &cal);
    assert!(
        matches!(e, Err(Refusal::Invalid { field: "at", .. })),
        "{e:?}"
    );
    let mut dup = complete(Action::Void, at);
    dup.duplicate_of = Some(7);
    assert!(matches!(
        apply(&c, &dup, &cal),
        Err(Refusal::Invalid {
            field: "duplicate_of",
            ..
        })
    ));
    let mut stray = complete(Action::Open, at);
    stray.duplicate_of = Some(3);
    let v = case(Stage::Verified, None, Source::Hotline);
    assert!(matches!(
        apply(&v, &stray, &cal),
        Err(Refusal::Invalid {
            field: "duplicate_of",
            ..
        })
    ));
}

#[test]
fn a_patrol_report_is_verified_when_accepted() {
    let cal = calendar();
    let at = t("2026-09-28T10:00:00+08:00");
    let c = case(Stage::Reported, None, Source::Patrol);
    let step = apply(&c, &complete(Action::Accept, at), &cal).expect("accept");
    assert_eq!(step.stage, Stage::Verified);
    // the `open` limit, 1 work hour
    assert_eq!(step.due_at, t("2026-09-28T11:00:00+08:00"));
    let c = case(Stage::Reported, None, Source::Hotline);
    let step = apply(&c, &complete(Action::Accept, at), &cal).expect("accept");
    assert_eq!(step.stage, Stage::Accepted);
    // the `verify` limit, 2 work hours, across lunch
    let step = apply(
        &c,
        &complete(Action::Accept, t("2026-09-28T11:00:00+08:00")),
        &cal,
    )
    .expect("accept");
    assert_eq!(step.due_at, t("2026-09-28T14:00:00+08:00"));
}

#[test]
fn due_times_cross_the_weekend_and_the_holiday_week() {
    let cal = calendar();
    // dispatched to a department on Friday 25 September 16:00: 5 work days of 7 hours are
    // Mon 28, Tue 29, Wed 30 September, (1–7 October off, 3–4 a weekend), Thu 8, Fri 9 October
    // 16:00
    let mut c = case(Stage::Opened, None, Source::Hotline);
    c.events[0].at = t("2026-09-25T15:00:00+08:00");
    let mut r = Request::new(
        Action::Dispatch,
        t("2026-09-25T16:00:00+08:00"),
        "x",
        "dispatcher",
    );
    r.department = Some("区绿化市容局".into());
    let step = apply(&c, &r, &cal).expect("dispatch");
    assert_eq!(step.track, Some(Track::BackEnd));
    assert_eq!(step.department.as_deref(), Some("区绿化市容局"));
    assert_eq!(step.due_at, t("2026-10-09T16:00:00+08:00"));
    assert_eq!(step.event.due_at, Some(step.due_at));
    // the stage it ended was due at 17:00 (1 h after the report in `case`): on time
    assert_eq!(step.event.on_time, Some(true));
    // to a grid: the front-end limit, 7 clock days
    let mut r = Request::new(
        Action::Dispatch,
        t("2026-09-25T16:00:00+08:00"),
        "x",
        "dispatcher",
    );
    r.grid = Some("G1".into());
    let step = apply(&c, &r, &cal).expect("dispatch");
    assert_eq!(step.track, Some(Track::FrontEnd));
    assert_eq!(step.due_at, t("2026-10-02T16:00:00+08:00"));
    // 1 work day from Friday 9 October 16:00 reaches the 调休 Saturday, 10 October 16:00
    let mut d = case(Stage::Disposed, Some(Track::BackEnd), Source::Hotline);
    d.limits.check = Limit::WorkDays(1);
    let step = apply(
        &d,
        &complete(Action::Check, t("2026-10-09T16:00:00+08:00")),
        &cal,
    )
    .expect("check");
    assert_eq!(step.due_at, t("2026-10-10T16:00:00+08:00"));
    assert_eq!(step.event.on_time, Some(false));
}

#[test]
fn an_escalated_case_goes_to_a_department() {
    let cal = calendar();
    let at = t("2026-10-09T09:00:00+08:00");
    let mut c = case(Stage::Dispatched, Some(Track::FrontEnd), Source::Hotline);
    let step = apply(&c, &complete(Action::Escalate, at), &cal).expect("escalate");
    assert_eq!(
        (step.stage, step.track),
        (Stage::Opened, Some(Track::BackEnd))
    );
    assert_eq!(step.assigned_grid, None);
    c.stage = step.stage;
    c.track = step.track;
    c.assigned_grid = None;
    c.events.push(step.event);
    assert!(c.escalated());
    let mut to_grid = Request::new(Action::Dispatch, at, "x", "dispatcher");
    to_grid.grid = Some("G2".into());
    let e = apply(&c, &to_grid, &cal).expect_err("front end");
    assert!(e.to_string().contains("escalated"), "{e}");
    assert!(apply(&c, &complete(Action::Dispatch, at), &cal).is_ok());
    // a back-end case does not escalate
    let b = case(Stage::Dispatched, Some(Track::BackEnd), Source::Hotline);
    assert!(matches!(
        apply(&b, &complete(Action::Escalate, at), &cal),
        Err(Refusal::Conflict { .. })
    ));
}

#[test]
fn extensions_are_asked_once_and_decided_once() {
    let cal = calendar();
    let at = t("2026-09-28T10:00:00+08:00");
    let mut c = case(Stage::Dispatched, Some(Track::BackEnd), Source::Hotline);
    assert!(matches!(
        apply(&c, &complete(Action::ApproveExtension, at), &cal),
        Err(Refusal::Conflict { .. })
    ));
    let mut ask = complete(Action::RequestExtension, at);
    ask.until = Some(c.due_at - chrono::Duration::minutes(1));
    assert!(matches!(
        apply(&c, &ask, &cal),
        Err(Refusal::Invalid { field: "until", .. })
    ));
    let until = t("2026-10-12T17:00:00+08:00");
    ask.until = Some(until);
    let step = apply(&c, &ask, &cal).expect("ask");
    assert_eq!(step.due_at, c.due_at, "asking changes nothing yet");
    c.events.push(step.event);
    assert_eq!(c.pending_extension(), Some(until));
    assert!(matches!(
        apply(&c, &ask, &cal),
        Err(Refusal::Conflict { .. })
    ));
    let step = apply(&c, &complete(Action::ApproveExtension, at), &cal).expect("approve");
    assert_eq!(step.due_at, until);
    c.events.push(step.event);
    assert_eq!(c.pending_extension(), None);
}

#[test]
fn transfer_names_another_assignee_and_supervision_is_raised_once() {
    let cal = calendar();
    let at = t("2026-09-28T10:00:00+08:00");
    let c = ready(Stage::Dispatched, Action::Transfer);
    let mut same = Request::new(Action::Transfer, at, "x", "dispatcher");
    same.department = c.department.clone();
    assert!(matches!(
        apply(&c, &same, &cal),
        Err(Refusal::Conflict { .. })
    ));
    let mut other = Request::new(Action::Transfer, at, "x", "dispatcher");
    other.grid = Some("G9".into());
    let step = apply(&c, &other, &cal).expect("transfer");
    assert_eq!(
        (
            step.stage,
            step.track,
            step.assigned_grid.as_deref(),
            step.department.as_deref()
        ),
        (Stage::Dispatched, Some(Track::FrontEnd), Some("G9"), None)
    );
    // a case never dispatched is dispatched, not transferred
    let o = case(Stage::Opened, None, Source::Hotline);
    let e = apply(&o, &other, &cal).expect_err("never dispatched");
    assert!(e.to_string().contains("never dispatched"), "{e}");
    let mut s = case(Stage::Opened, None, Source::Hotline);
    let step = apply(&s, &complete(Action::Supervise, at), &cal).expect("supervise");
    assert!(step.supervised);
    assert_eq!(step.due_at, s.due_at, "supervision sets no due time");
    s.supervised = true;
    assert!(matches!(
        apply(&s, &complete(Action::Supervise, at), &cal),
        Err(Refusal::Conflict { .. })
    ));
}

#[test]
fn hold_runs_to_its_review_date_and_resumes_to_dispatch() {
    let cal = calendar();
    let at = t("2026-09-28T10:00:00+08:00");
    let c = case(Stage::Dispatched, Some(Track::BackEnd), Source::Hotline);
    let mut hold = complete(Action::Hold, at);
    let review = Utc
        .with_ymd_and_hms(2026, 12, 1, 1, 0, 0)
        .single()
        .expect("time");
    hold.until = Some(review);
    let step = apply(&c, &hold, &cal).expect("hold");
    assert_eq!((step.stage, step.due_at), (Stage::OnHold, review));
    let mut h = case(Stage::OnHold, None, Source::Hotline);
    h.due_at = review;
    let step = apply(&h, &complete(Action::Resume, at), &cal).expect("resume");
    assert_eq!(step.stage, Stage::Opened);
    assert_eq!(step.due_at, t("2026-09-28T11:00:00+08:00"));
}

#[test]
fn a_reopened_case_goes_back_to_its_last_assignee() {
    let cal = calendar();
    let at = t("2026-10-12T10:00:00+08:00");
    let mut c = ready(Stage::Closed, Action::Reopen);
    c.done_at = Some(t("2026-10-09T10:00:00+08:00"));
    let step = apply(&c, &complete(Action::Reopen, at), &cal).expect("reopen");
    assert_eq!(
        (
            step.stage,
            step.track,
            step.department.as_deref(),
            step.done_at
        ),
        (
            Stage::Dispatched,
            Some(Track::BackEnd),
            Some("区市容绿化局"),
            None
        )
    );
    // 5 work days of 7 hours from Monday 12 October 10:00
    assert_eq!(step.due_at, t("2026-10-19T10:00:00+08:00"));
    let never = case(Stage::Closed, None, Source::Hotline);
    assert!(matches!(
        apply(&never, &complete(Action::Reopen, at), &cal),
        Err(Refusal::Conflict { .. })
    ));
}
