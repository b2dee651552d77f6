//! Cases in diesel: a case with its assignment, its events, the filtered list.

use super::*;

impl Cases for Db {
    fn create_case(&self, case: &NewCase) -> StoreResult<Case> {
        self.create_case_impl(case)
    }

    fn get_case(&self, id: i64) -> StoreResult<Case> {
        self.get_case_impl(id)
    }

    fn list_cases(&self, filter: &CaseFilter) -> StoreResult<(Vec<Case>, i64)> {
        self.list_cases_impl(filter)
    }

    fn add_case_event(
        &self,
        id: i64,
        status: Status,
        by: &str,
        department: Option<&str>,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Case> {
        self.add_case_event_impl(id, status, by, department, note, at)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::cases)]
struct CaseRow {
    id: i64,
    category: String,
    source: String,
    description: String,
    status: String,
    input_lon: f64,
    input_lat: f64,
    input_crs: String,
    reported_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    street: Option<String>,
    grid: Option<String>,
    block: Option<String>,
    generation: Option<i64>,
    department: Option<String>,
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
    status: &'a str,
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
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::case_events, treat_none_as_default_value = false)]
struct EventRow {
    case_id: i64,
    seq: i32,
    at: DateTime<Utc>,
    status: String,
    actor: String,
    department: Option<String>,
    note: Option<String>,
}

fn event_from_row(r: EventRow) -> StoreResult<Event> {
    Ok(Event {
        seq: r.seq,
        at: r.at,
        status: r.status.parse().map_err(corrupt_row)?,
        by: r.actor,
        department: r.department,
        note: r.note,
    })
}

fn case_from_row(r: CaseRow, events: Vec<Event>) -> StoreResult<Case> {
    let assignment: crate::routing::Assignment = serde_json::from_str(&r.assignment)
        .map_err(|e| corrupt_row(format!("case {}: {e}", r.id)))?;
    Ok(Case {
        id: r.id,
        category: r.category,
        source: r.source.parse().map_err(corrupt_row)?,
        description: r.description,
        status: r.status.parse().map_err(corrupt_row)?,
        input: serde_json::json!({"lon": r.input_lon, "lat": r.input_lat, "crs": r.input_crs}),
        reported_at: r.reported_at,
        created_at: r.created_at,
        updated_at: r.updated_at,
        due_at: assignment.due_at,
        done_at: r.done_at,
        street: r.street,
        grid: r.grid,
        block: r.block,
        generation: r.generation,
        department: r.department,
        photos: serde_json::from_str(&r.photos)
            .map_err(|e| corrupt_row(format!("case {} photos: {e}", r.id)))?,
        created_by: r.created_by,
        assignment,
        events,
    })
}

/// Loads cases by rows, with their events.
fn cases_with_events(conn: &mut Conn, rows: Vec<CaseRow>) -> StoreResult<Vec<Case>> {
    use schema::case_events::dsl as e;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut by_case: HashMap<i64, Vec<Event>> = HashMap::new();
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
            case_from_row(r, evs)
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

impl Db {
    fn create_case_impl(&self, new: &NewCase) -> StoreResult<Case> {
        use schema::case_events::dsl as e;
        use schema::cases::dsl as c;
        let mut conn = self.conn()?;
        // microseconds: what both databases keep, so the case returned equals the case read back
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
        let a = &new.assignment;
        let reported_at = chrono::SubsecRound::trunc_subsecs(new.reported_at, 6);
        let row = NewCaseRow {
            category: &new.category,
            source: new.source.as_str(),
            description: &new.description,
            status: Status::Assigned.as_str(),
            input_lon: new.input.0,
            input_lat: new.input.1,
            input_crs: &new.input.2,
            lon: a.point[0],
            lat: a.point[1],
            reported_at,
            created_at: now,
            updated_at: now,
            due_at: a.due_at.with_timezone(&Utc),
            done_at: None,
            street: a.street.as_ref().map(|s| s.code.as_str()),
            grid: a.grid.as_ref().map(|s| s.code.as_str()),
            block: a.block.as_ref().map(|s| s.code.as_str()),
            generation: a.generation,
            confidence: a.confidence.as_str(),
            department: None,
            photos: convert::json_to(&new.photos),
            contact: new.contact.as_ref().map(convert::json_to),
            created_by: &new.created_by,
            assignment: convert::json_to(a),
        };
        let id = case_tx(&mut conn, |conn| {
            let id: i64 = diesel::insert_into(c::cases)
                .values(&row)
                .returning(c::id)
                .get_result(conn)
                .map_err(db_err)?;
            diesel::insert_into(e::case_events)
                .values(&EventRow {
                    case_id: id,
                    seq: 1,
                    at: now,
                    status: Status::Assigned.as_str().into(),
                    actor: new.created_by.clone(),
                    department: None,
                    note: Some(format!("routed: {}", a.confidence.as_str())),
                })
                .execute(conn)
                .map_err(db_err)?;
            Ok(id)
        })?;
        // Everything stored is known here: no need to read it back.
        Ok(Case {
            id,
            category: new.category.clone(),
            source: new.source,
            description: new.description.clone(),
            status: Status::Assigned,
            input: serde_json::json!({"lon": new.input.0, "lat": new.input.1, "crs": new.input.2}),
            reported_at,
            created_at: now,
            updated_at: now,
            due_at: a.due_at,
            done_at: None,
            street: a.street.as_ref().map(|s| s.code.clone()),
            grid: a.grid.as_ref().map(|s| s.code.clone()),
            block: a.block.as_ref().map(|s| s.code.clone()),
            generation: a.generation,
            department: None,
            photos: new.photos.clone(),
            created_by: new.created_by.clone(),
            assignment: a.clone(),
            events: vec![Event {
                seq: 1,
                at: now,
                status: Status::Assigned,
                by: new.created_by.clone(),
                department: None,
                note: Some(format!("routed: {}", a.confidence.as_str())),
            }],
        })
    }

    fn get_case_impl(&self, id: i64) -> StoreResult<Case> {
        let mut conn = self.conn()?;
        load_case(&mut conn, id)
    }

    fn list_cases_impl(&self, f: &CaseFilter) -> StoreResult<(Vec<Case>, i64)> {
        use schema::cases::dsl as c;
        let mut conn = self.conn()?;
        let query = || {
            let mut q = c::cases.into_boxed();
            if let Some(g) = &f.grid {
                q = q.filter(c::grid.eq(g.clone()));
            }
            if let Some(s) = &f.street {
                q = q.filter(c::street.eq(s.clone()));
            }
            if let Some(s) = f.status {
                q = q.filter(c::status.eq(s.as_str()));
            }
            if let Some(at) = f.overdue_at {
                q = q.filter(c::done_at.is_null().and(c::due_at.lt(at)));
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

    fn add_case_event_impl(
        &self,
        id: i64,
        to: Status,
        by: &str,
        department: Option<&str>,
        note: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Case> {
        use schema::case_events::dsl as e;
        use schema::cases::dsl as c;
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            lock_case(conn, id)?;
            let (status, done_at): (String, Option<DateTime<Utc>>) = c::cases
                .find(id)
                .select((c::status, c::done_at))
                .first(conn)
                .optional()
                .map_err(db_err)?
                .ok_or_else(|| StoreError::NotFound(format!("case {id}")))?;
            let from: Status = status.parse().map_err(corrupt_row)?;
            crate::cases::check_transition(id, from, to, department)
                .map_err(StoreError::Conflict)?;
            // A status change may not precede the previous one (event 1, the routing, is stamped
            // with the store's clock: the API checks new events against it).
            let previous: Option<DateTime<Utc>> = e::case_events
                .filter(e::case_id.eq(id).and(e::seq.gt(1)))
                .order(e::seq.desc())
                .select(e::at)
                .first(conn)
                .optional()
                .map_err(db_err)?;
            crate::cases::check_event_order(id, previous, at).map_err(StoreError::Conflict)?;
            let last: Option<i32> = e::case_events
                .filter(e::case_id.eq(id))
                .select(diesel::dsl::max(e::seq))
                .first(conn)
                .map_err(db_err)?;
            diesel::insert_into(e::case_events)
                .values(&EventRow {
                    case_id: id,
                    seq: last.unwrap_or(0) + 1,
                    at,
                    status: to.as_str().into(),
                    actor: by.to_owned(),
                    department: department.map(str::to_owned),
                    note: note.map(str::to_owned),
                })
                .execute(conn)
                .map_err(db_err)?;
            let done_at = done_at.or(to.is_done().then_some(at));
            diesel::update(c::cases.find(id))
                .set((
                    c::status.eq(to.as_str()),
                    c::updated_at.eq(at),
                    c::done_at.eq(done_at),
                ))
                .execute(conn)
                .map_err(db_err)?;
            if let Some(d) = department {
                diesel::update(c::cases.find(id))
                    .set(c::department.eq(d))
                    .execute(conn)
                    .map_err(db_err)?;
            }
            Ok(())
        })?;
        load_case(&mut conn, id)
    }
}
