//! Cases in diesel: a case with its assignment and history, the filtered list, and a change
//! decided and written in one transaction.

use super::*;
use crate::cases::indicators::{Dimension, Indicators, PersonIndicators, Scope};
use crate::store::{KeyWrite, Keyed};

/// The result of a write made without a key.
fn unkeyed<T>(k: Keyed<T>) -> StoreResult<T> {
    match k {
        Keyed::Done(t) => Ok(t),
        Keyed::Replay(_) => Err(StoreError::Data(
            "an idempotency record answered a write made without a key".into(),
        )),
    }
}

impl Cases for Db {
    fn create_case(&self, case: &NewCase) -> StoreResult<Case> {
        unkeyed(self.create_case_impl(case, None)?)
    }

    fn create_case_keyed(
        &self,
        case: &NewCase,
        key: Option<&KeyWrite<'_, Case>>,
    ) -> StoreResult<Keyed<Case>> {
        self.create_case_impl(case, key)
    }

    fn get_case(&self, id: i64) -> StoreResult<Case> {
        let mut conn = self.conn()?;
        load_case(&mut conn, id)
    }

    fn list_cases(&self, filter: &CaseFilter) -> StoreResult<(Vec<Case>, i64)> {
        self.list_cases_impl(filter)
    }

    fn change_case(
        &self,
        id: i64,
        decide: &mut dyn FnMut(&Case) -> Result<Step, Refusal>,
    ) -> StoreResult<Result<Case, Refusal>> {
        unkeyed(self.change_case_impl(id, decide, None)?)
    }

    fn change_case_keyed(
        &self,
        id: i64,
        decide: &mut dyn FnMut(&Case) -> Result<Step, Refusal>,
        key: Option<&KeyWrite<'_, Case>>,
    ) -> StoreResult<Keyed<Result<Case, Refusal>>> {
        self.change_case_impl(id, decide, key)
    }

    fn give_feedback(
        &self,
        id: i64,
        feedback: &Feedback,
        secret: Option<&str>,
        decide: &mut dyn FnMut(&Case) -> Result<Option<Step>, Refusal>,
    ) -> StoreResult<Result<Case, Refusal>> {
        self.give_feedback_impl(id, feedback, secret, decide)
    }

    fn indicators(
        &self,
        scope: &Scope,
        by: Dimension,
    ) -> StoreResult<BTreeMap<Option<String>, Indicators>> {
        self.indicators_impl(scope, by)
    }

    fn person_indicators(&self, scope: &Scope) -> StoreResult<BTreeMap<String, PersonIndicators>> {
        self.person_indicators_impl(scope)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::cases)]
pub(super) struct CaseRow {
    id: i64,
    category: String,
    source: String,
    description: String,
    stage: String,
    track: Option<String>,
    input_lon: f64,
    input_lat: f64,
    input_crs: String,
    reported_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    street: Option<String>,
    grid: Option<String>,
    block: Option<String>,
    generation: Option<i64>,
    assigned_grid: Option<String>,
    department: Option<String>,
    supervised: bool,
    duplicate_of: Option<i64>,
    limits: String,
    photos: String,
    created_by: String,
    assignment: String,
}

#[derive(Insertable)]
#[diesel(table_name = schema::cases, treat_none_as_default_value = false)]
struct NewCaseRow<'a> {
    category: &'a str,
    source: &'a str,
    description: &'a str,
    stage: &'a str,
    input_lon: f64,
    input_lat: f64,
    input_crs: &'a str,
    lon: f64,
    lat: f64,
    reported_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    street: Option<&'a str>,
    grid: Option<&'a str>,
    block: Option<&'a str>,
    generation: Option<i64>,
    confidence: &'a str,
    department: Option<&'a str>,
    photos: String,
    contact: Option<String>,
    created_by: &'a str,
    assignment: String,
    track: Option<&'a str>,
    assigned_grid: Option<&'a str>,
    supervised: bool,
    duplicate_of: Option<i64>,
    limits: String,
    feedback_sha256: Option<&'a str>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::case_feedback, treat_none_as_default_value = false)]
struct FeedbackRow {
    case_id: i64,
    at: DateTime<Utc>,
    resolved: bool,
    satisfaction: String,
    comment: Option<String>,
    via: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::case_events, treat_none_as_default_value = false)]
struct EventRow {
    case_id: i64,
    seq: i32,
    at: DateTime<Utc>,
    stage: String,
    actor: String,
    department: Option<String>,
    note: Option<String>,
    action: String,
    role: String,
    photos: String,
    grid: Option<String>,
    until: Option<DateTime<Utc>>,
    duplicate_of: Option<i64>,
    due_at: Option<DateTime<Utc>>,
    on_time: Option<bool>,
}

impl EventRow {
    fn new(case_id: i64, e: &Event) -> StoreResult<EventRow> {
        Ok(EventRow {
            case_id,
            seq: e.seq,
            at: e.at,
            stage: e.stage.as_str().into(),
            actor: e.by.clone(),
            department: e.department.clone(),
            note: e.note.clone(),
            action: e.action.as_str().into(),
            role: e.role.clone(),
            photos: convert::try_json("event photos", &e.photos)?,
            grid: e.grid.clone(),
            until: e.until,
            duplicate_of: e.duplicate_of,
            due_at: e.due_at,
            on_time: e.on_time,
        })
    }
}

fn event_from_row(r: EventRow) -> StoreResult<Event> {
    Ok(Event {
        seq: r.seq,
        at: r.at,
        action: r.action.parse().map_err(corrupt_row)?,
        stage: r.stage.parse().map_err(corrupt_row)?,
        by: r.actor,
        role: r.role,
        note: r.note,
        photos: serde_json::from_str(&r.photos)
            .map_err(|e| corrupt_row(format!("case {} event {} photos: {e}", r.case_id, r.seq)))?,
        grid: r.grid,
        department: r.department,
        until: r.until,
        duplicate_of: r.duplicate_of,
        due_at: r.due_at,
        on_time: r.on_time,
    })
}

fn feedback_from_row(r: FeedbackRow) -> StoreResult<Feedback> {
    Ok(Feedback {
        at: r.at,
        resolved: r.resolved,
        satisfaction: r.satisfaction.parse().map_err(corrupt_row)?,
        comment: r.comment,
        via: r.via,
    })
}

fn case_from_row(r: CaseRow, events: Vec<Event>, feedback: Option<Feedback>) -> StoreResult<Case> {
    let assignment: crate::routing::Assignment = serde_json::from_str(&r.assignment)
        .map_err(|e| corrupt_row(format!("case {}: {e}", r.id)))?;
    Ok(Case {
        id: r.id,
        category: r.category,
        source: r.source.parse().map_err(corrupt_row)?,
        description: r.description,
        stage: r.stage.parse().map_err(corrupt_row)?,
        track: r
            .track
            .map(|t| t.parse())
            .transpose()
            .map_err(corrupt_row)?,
        input: serde_json::json!({"lon": r.input_lon, "lat": r.input_lat, "crs": r.input_crs}),
        reported_at: r.reported_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
        due_at: r.due_at,
        done_at: r.done_at,
        street: r.street,
        grid: r.grid,
        block: r.block,
        generation: r.generation,
        assigned_grid: r.assigned_grid,
        department: r.department,
        supervised: r.supervised,
        duplicate_of: r.duplicate_of,
        limits: serde_json::from_str(&r.limits)
            .map_err(|e| corrupt_row(format!("case {} limits: {e}", r.id)))?,
        photos: serde_json::from_str(&r.photos)
            .map_err(|e| corrupt_row(format!("case {} photos: {e}", r.id)))?,
        created_by: r.created_by,
        assignment,
        events,
        feedback,
    })
}

/// Loads cases by rows, with their events and verdicts.
pub(super) fn cases_with_events(conn: &mut Conn, rows: Vec<CaseRow>) -> StoreResult<Vec<Case>> {
    use schema::case_events::dsl as e;
    use schema::case_feedback::dsl as f;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut by_case: HashMap<i64, Vec<Event>> = HashMap::new();
    let mut verdicts: HashMap<i64, Feedback> = HashMap::new();
    for chunk in ids.chunks(ID_CHUNK) {
        let rows: Vec<FeedbackRow> = f::case_feedback
            .filter(f::case_id.eq_any(chunk))
            .select(FeedbackRow::as_select())
            .load(conn)
            .map_err(db_err)?;
        for r in rows {
            verdicts.insert(r.case_id, feedback_from_row(r)?);
        }
    }
    for chunk in ids.chunks(ID_CHUNK) {
        let evs: Vec<EventRow> = e::case_events
            .filter(e::case_id.eq_any(chunk))
            .order((e::case_id, e::seq))
            .select(EventRow::as_select())
            .load(conn)
            .map_err(db_err)?;
        for ev in evs {
            let id = ev.case_id;
            by_case.entry(id).or_default().push(event_from_row(ev)?);
        }
    }
    rows.into_iter()
        .map(|r| {
            let evs = by_case.remove(&r.id).unwrap_or_default();
            let verdict = verdicts.remove(&r.id);
            case_from_row(r, evs, verdict)
        })
        .collect()
}

fn load_case(conn: &mut Conn, id: i64) -> StoreResult<Case> {
    use schema::cases::dsl as c;
    let row: Option<CaseRow> = c::cases
        .find(id)
        .select(CaseRow::as_select())
        .first(conn)
        .optional()
        .map_err(db_err)?;
    let row = row.ok_or_else(|| StoreError::NotFound(format!("case {id}")))?;
    cases_with_events(conn, vec![row])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("case {id}")))
}

/// Microseconds: what both databases keep, so a case returned equals the case read back.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(t, 6)
}

impl Db {
    fn create_case_impl(
        &self,
        new: &NewCase,
        key: Option<&KeyWrite<'_, Case>>,
    ) -> StoreResult<Keyed<Case>> {
        use crate::cases::{Action, Stage};
        use schema::case_events::dsl as e;
        use schema::cases::dsl as c;
        let mut conn = self.conn()?;
        let now = micros(Utc::now());
        let a = &new.assignment;
        let reported_at = micros(new.reported_at);
        let due_at = micros(new.due_at);
        let row = NewCaseRow {
            category: &new.category,
            source: new.source.as_str(),
            description: &new.description,
            stage: Stage::Reported.as_str(),
            input_lon: new.input.0,
            input_lat: new.input.1,
            input_crs: &new.input.2,
            lon: a.point[0],
            lat: a.point[1],
            reported_at,
            created_at: now,
            updated_at: now,
            due_at,
            done_at: None,
            street: a.street.as_ref().map(|s| s.code.as_str()),
            grid: a.grid.as_ref().map(|s| s.code.as_str()),
            block: a.block.as_ref().map(|s| s.code.as_str()),
            generation: a.generation,
            confidence: a.confidence.as_str(),
            department: None,
            photos: convert::try_json("case photos", &new.photos)?,
            contact: new
                .contact
                .as_ref()
                .map(|v| convert::try_json("case contact", v))
                .transpose()?,
            created_by: &new.created_by,
            assignment: convert::try_json("case assignment", a)?,
            track: None,
            assigned_grid: None,
            supervised: false,
            duplicate_of: None,
            limits: convert::try_json("case limits", &new.limits)?,
            feedback_sha256: new.feedback_sha256.as_deref(),
        };
        let report = Event {
            seq: 1,
            at: reported_at,
            action: Action::Report,
            stage: Stage::Reported,
            by: new.created_by.clone(),
            role: new.role.clone(),
            note: Some(format!("routed: {}", a.confidence.as_str())),
            photos: Vec::new(),
            grid: None,
            department: None,
            until: None,
            duplicate_of: None,
            due_at: Some(due_at),
            on_time: None,
        };
        let claim = key.map(|k| k.claim);
        let written = case_tx(&mut conn, |conn| {
            if let Some(r) = idempotency::replay_of(conn, claim)? {
                return Ok(Keyed::Replay(r));
            }
            let id: i64 = diesel::insert_into(c::cases)
                .values(&row)
                .returning(c::id)
                .get_result(conn)
                .map_err(db_err)?;
            diesel::insert_into(e::case_events)
                .values(&EventRow::new(id, &report)?)
                .execute(conn)
                .map_err(db_err)?;
            // Everything stored is known here: no need to read it back.
            let case = Case {
                id,
                category: new.category.clone(),
                source: new.source,
                description: new.description.clone(),
                stage: Stage::Reported,
                track: None,
                input: serde_json::json!({"lon": new.input.0, "lat": new.input.1, "crs": new.input.2}),
                reported_at,
                created_at: now,
                updated_at: now,
                due_at,
                done_at: None,
                street: a.street.as_ref().map(|s| s.code.clone()),
                grid: a.grid.as_ref().map(|s| s.code.clone()),
                block: a.block.as_ref().map(|s| s.code.clone()),
                generation: a.generation,
                assigned_grid: None,
                department: None,
                supervised: false,
                duplicate_of: None,
                limits: new.limits,
                photos: new.photos.clone(),
                created_by: new.created_by.clone(),
                assignment: a.clone(),
                events: vec![report.clone()],
                feedback: None,
            };
            facts::write_facts(conn, std::slice::from_ref(&case))?;
            idempotency::record(conn, key, &case)?;
            Ok(Keyed::Done(case))
        });
        idempotency::settle(&mut conn, claim, written)
    }

    fn list_cases_impl(&self, f: &CaseFilter) -> StoreResult<(Vec<Case>, i64)> {
        use schema::cases::dsl as c;
        let mut conn = self.conn()?;
        let stages: Vec<&str> = f.stages.iter().map(|s| s.as_str()).collect();
        let query = || {
            let mut q = c::cases.into_boxed();
            if let Some(g) = &f.grid {
                q = q.filter(c::grid.eq(g.clone()).or(c::assigned_grid.eq(g.clone())));
            }
            if let Some(s) = &f.street {
                q = q.filter(c::street.eq(s.clone()));
            }
            if !stages.is_empty() {
                q = q.filter(c::stage.eq_any(stages.clone()));
            }
            if let Some(d) = &f.department {
                q = q.filter(c::department.eq(d.clone()));
            }
            if let Some(at) = f.overdue_at {
                q = q.filter(
                    c::stage
                        .ne_all(["closed", "rejected", "void"])
                        .and(c::due_at.lt(at)),
                );
            }
            if f.supervised {
                q = q.filter(c::supervised.eq(true));
            }
            if f.queued {
                q = q.filter(c::confidence.eq("street_queue"));
            }
            if !f.categories.is_empty() {
                q = q.filter(c::category.eq_any(f.categories.clone()));
            }
            if !f.ids.is_empty() {
                q = q.filter(c::id.eq_any(f.ids.clone()));
            }
            if let Some(t) = f.reported_from {
                q = q.filter(c::reported_at.ge(t));
            }
            if let Some(t) = f.reported_to {
                q = q.filter(c::reported_at.lt(t));
            }
            if let Some([x0, y0, x1, y1]) = f.bbox {
                q = q.filter(c::lon.between(x0, x1).and(c::lat.between(y0, y1)));
            }
            match &f.visibility {
                Visibility::All => {}
                // a street asked for within the scope needs no second condition (which would
                // make PostgreSQL misjudge the rows and sort a whole street)
                Visibility::Streets(s) => {
                    if !f.street.as_ref().is_some_and(|x| s.contains(x)) {
                        q = q.filter(c::street.eq_any(s.clone()));
                    }
                }
                Visibility::Grids(g) => {
                    q = q.filter(
                        c::grid
                            .eq_any(g.clone())
                            .or(c::assigned_grid.eq_any(g.clone())),
                    )
                }
                Visibility::Departments(d) => {
                    // now, or at any time before (a returned or transferred case stays visible
                    // to the department that had it)
                    use schema::case_events::dsl as e;
                    let had = e::case_events
                        .filter(e::department.eq_any(d.clone()))
                        .select(e::case_id);
                    q = q.filter(c::department.eq_any(d.clone()).or(c::id.eq_any(had)))
                }
            }
            q
        };
        let total: i64 = query().count().get_result(&mut conn).map_err(db_err)?;
        let rows: Vec<CaseRow> = query()
            .order(c::id.desc())
            .offset(f.offset.max(0))
            .limit(f.limit.max(0))
            .select(CaseRow::as_select())
            .load(&mut conn)
            .map_err(db_err)?;
        Ok((cases_with_events(&mut conn, rows)?, total))
    }

    fn change_case_impl(
        &self,
        id: i64,
        decide: &mut dyn FnMut(&Case) -> Result<Step, Refusal>,
        key: Option<&KeyWrite<'_, Case>>,
    ) -> StoreResult<Keyed<Result<Case, Refusal>>> {
        let mut conn = self.conn()?;
        let claim = key.map(|k| k.claim);
        let written = case_tx(&mut conn, |conn| {
            lock_case(conn, id)?;
            // after the lock: a request with the same key on this case that came first is seen
            if let Some(r) = idempotency::replay_of(conn, claim)? {
                return Ok(Keyed::Replay(r));
            }
            let case = load_case(conn, id)?;
            match decide(&case) {
                Ok(step) => {
                    let case = write_step(conn, case, step)?;
                    idempotency::record(conn, key, &case)?;
                    Ok(Keyed::Done(Ok(case)))
                }
                Err(refusal) => Ok(Keyed::Done(Err(refusal))),
            }
        });
        idempotency::settle(&mut conn, claim, written)
    }

    fn give_feedback_impl(
        &self,
        id: i64,
        feedback: &Feedback,
        secret: Option<&str>,
        decide: &mut dyn FnMut(&Case) -> Result<Option<Step>, Refusal>,
    ) -> StoreResult<Result<Case, Refusal>> {
        use schema::case_feedback::dsl as f;
        use schema::cases::dsl as c;
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            lock_case(conn, id)?;
            let case = load_case(conn, id)?;
            if let Some(secret) = secret {
                let stored: Option<String> = c::cases
                    .find(id)
                    .select(c::feedback_sha256)
                    .first(conn)
                    .map_err(db_err)?;
                let given = crate::store::secret_hash(secret);
                if stored.as_deref() != Some(given.as_str()) {
                    return Ok(Err(Refusal::Forbidden(format!(
                        "this feedback secret is not case {id}'s"
                    ))));
                }
            }
            let step = match decide(&case) {
                Ok(step) => step,
                Err(refusal) => return Ok(Err(refusal)),
            };
            diesel::insert_into(f::case_feedback)
                .values(&FeedbackRow {
                    case_id: id,
                    at: micros(feedback.at),
                    resolved: feedback.resolved,
                    satisfaction: feedback.satisfaction.as_str().into(),
                    comment: feedback.comment.clone(),
                    via: feedback.via.clone(),
                })
                .execute(conn)
                .map_err(|e| match e {
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    ) => StoreError::Conflict(format!("case {id} already has a verdict")),
                    e => db_err(e),
                })?;
            let mut case = case;
            case.feedback = Some(Feedback {
                at: micros(feedback.at),
                ..feedback.clone()
            });
            match step {
                Some(step) => write_step(conn, case, step).map(Ok),
                None => {
                    facts::write_facts(conn, std::slice::from_ref(&case))?;
                    Ok(Ok(case))
                }
            }
        })
    }
}

/// Records `step` on `case` (read in this transaction): the event appended, the case's state
/// updated; returns the case after it.
fn write_step(conn: &mut Conn, mut case: Case, mut step: Step) -> StoreResult<Case> {
    use schema::case_events::dsl as e;
    use schema::cases::dsl as c;
    let id = case.id;
    step.event.at = micros(step.event.at);
    step.event.until = step.event.until.map(micros);
    step.event.due_at = step.event.due_at.map(micros);
    step.due_at = micros(step.due_at);
    step.done_at = step.done_at.map(micros);
    diesel::insert_into(e::case_events)
        .values(&EventRow::new(id, &step.event)?)
        .execute(conn)
        .map_err(db_err)?;
    diesel::update(c::cases.find(id))
        .set((
            c::stage.eq(step.stage.as_str()),
            c::track.eq(step.track.map(|t| t.as_str())),
            c::assigned_grid.eq(step.assigned_grid.as_deref()),
            c::department.eq(step.department.as_deref()),
            c::due_at.eq(step.due_at),
            c::supervised.eq(step.supervised),
            c::duplicate_of.eq(step.duplicate_of),
            c::done_at.eq(step.done_at),
            c::updated_at.eq(step.event.at),
        ))
        .execute(conn)
        .map_err(db_err)?;
    case.stage = step.stage;
    case.track = step.track;
    case.assigned_grid = step.assigned_grid;
    case.department = step.department;
    case.due_at = step.due_at;
    case.supervised = step.supervised;
    case.duplicate_of = step.duplicate_of;
    case.done_at = step.done_at;
    case.updated_at = step.event.at;
    case.events.push(step.event);
    facts::write_facts(conn, std::slice::from_ref(&case))?;
    Ok(case)
}
