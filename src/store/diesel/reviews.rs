//! Quality reviews in diesel: the lean list of a period's closed cases, a review with its sample
//! and assignments written in one transaction, reads by scope, scores and closing under the
//! review's row lock.

use super::*;
use crate::cases::review::{Assignment, NewReview, Review, ReviewSummary, Reviewer, SampledCase};
use crate::store::reviews::{NewScore, ReviewScope, Reviews};

/// Rows per multi-row INSERT of assignments (8 bound values each) and sampled cases (5).
const REVIEW_CHUNK: usize = 2000;

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::reviews)]
struct ReviewRow {
    id: i64,
    name: String,
    period_from: DateTime<Utc>,
    period_to: DateTime<Utc>,
    streets: String,
    spec: String,
    rubric: String,
    k: i32,
    population: i64,
    created_by: String,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = schema::reviews, treat_none_as_default_value = false)]
struct NewReviewRow<'a> {
    name: &'a str,
    period_from: DateTime<Utc>,
    period_to: DateTime<Utc>,
    streets: String,
    spec: String,
    rubric: String,
    k: i32,
    seed: i64,
    population: i64,
    created_by: &'a str,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::review_cases, treat_none_as_default_value = false)]
struct ReviewCaseRow {
    review_id: i64,
    case_id: i64,
    street: String,
    category: String,
    grp: String,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::review_assignments, treat_none_as_default_value = false)]
struct AssignmentRow {
    review_id: i64,
    case_id: i64,
    reviewer: String,
    reviewer_street: String,
    points: Option<String>,
    total: Option<f64>,
    comment: Option<String>,
    scored_at: Option<DateTime<Utc>>,
}

fn bad_row(what: impl std::fmt::Display) -> StoreError {
    StoreError::Data(format!("review: {what}"))
}

/// Microseconds: what both databases keep.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    chrono::SubsecRound::trunc_subsecs(t, 6)
}

fn assignment_row(review_id: i64, a: &Assignment) -> StoreResult<AssignmentRow> {
    Ok(AssignmentRow {
        review_id,
        case_id: a.case_id,
        reviewer: a.reviewer.clone(),
        reviewer_street: a.reviewer_street.clone(),
        points: a
            .points
            .as_ref()
            .map(|p| convert::try_json("review points", p))
            .transpose()?,
        total: a.total,
        comment: a.comment.clone(),
        scored_at: a.scored_at.map(micros),
    })
}

fn assignment_from_row(r: AssignmentRow) -> StoreResult<Assignment> {
    Ok(Assignment {
        points: r
            .points
            .map(|p| serde_json::from_str(&p))
            .transpose()
            .map_err(|e| bad_row(format!("{} case {} points: {e}", r.review_id, r.case_id)))?,
        case_id: r.case_id,
        reviewer: r.reviewer,
        reviewer_street: r.reviewer_street,
        total: r.total,
        comment: r.comment,
        scored_at: r.scored_at,
    })
}

fn review_from_row(
    r: ReviewRow,
    cases: Vec<ReviewCaseRow>,
    assignments: Vec<AssignmentRow>,
) -> StoreResult<Review> {
    let id = r.id;
    Ok(Review {
        id,
        name: r.name,
        from: r.period_from,
        to: r.period_to,
        streets: serde_json::from_str(&r.streets)
            .map_err(|e| bad_row(format!("{id} streets: {e}")))?,
        spec: serde_json::from_str(&r.spec).map_err(|e| bad_row(format!("{id} spec: {e}")))?,
        k: u32::try_from(r.k).map_err(|_| bad_row(format!("{id}: k is {}", r.k)))?,
        rubric: serde_json::from_str(&r.rubric)
            .map_err(|e| bad_row(format!("{id} rubric: {e}")))?,
        population: r.population,
        created_by: r.created_by,
        created_at: r.created_at,
        closed_at: r.closed_at,
        cases: cases
            .into_iter()
            .map(|c| SampledCase {
                case_id: c.case_id,
                street: c.street,
                category: c.category,
                group: c.grp,
            })
            .collect(),
        assignments: assignments
            .into_iter()
            .map(assignment_from_row)
            .collect::<StoreResult<_>>()?,
    })
}

/// Locks review `id`'s row until the transaction ends (an UPDATE that changes nothing: a row
/// lock on PostgreSQL, and SQLite's write transaction holds the database) and returns when it
/// was closed; `NotFound` when there is no such review.
fn lock_review(conn: &mut Conn, id: i64) -> StoreResult<Option<DateTime<Utc>>> {
    use schema::reviews::dsl as r;
    diesel::update(r::reviews.find(id))
        .set(r::closed_at.eq(r::closed_at))
        .returning(r::closed_at)
        .get_result::<Option<DateTime<Utc>>>(conn)
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("review {id}")))
}

/// Locks open review `id`: `Conflict` when it is closed.
fn lock_open_review(conn: &mut Conn, id: i64) -> StoreResult<()> {
    match lock_review(conn, id)? {
        None => Ok(()),
        Some(at) => Err(StoreError::Conflict(format!(
            "review {id} was closed at {}: its results are final",
            at.to_rfc3339()
        ))),
    }
}

fn insert_assignments(conn: &mut Conn, id: i64, assignments: &[Assignment]) -> StoreResult<()> {
    use schema::review_assignments::dsl as ra;
    for chunk in assignments.chunks(REVIEW_CHUNK) {
        let rows = chunk
            .iter()
            .map(|a| assignment_row(id, a))
            .collect::<StoreResult<Vec<_>>>()?;
        diesel::insert_into(ra::review_assignments)
            .values(&rows)
            .execute(conn)
            .map_err(db_err)?;
    }
    Ok(())
}

/// `(review id, count)` pairs as a map.
fn counts(rows: Vec<(i64, i64)>) -> HashMap<i64, i64> {
    rows.into_iter().collect()
}

impl Reviews for Db {
    fn closed_cases(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        streets: &[String],
        limit: usize,
    ) -> StoreResult<Vec<(i64, String, String)>> {
        use schema::cases::dsl as c;
        let mut conn = self.conn()?;
        let mut q = c::cases
            .filter(c::stage.eq("closed"))
            .filter(c::reported_at.ge(from))
            .filter(c::reported_at.lt(to))
            .filter(c::street.is_not_null())
            .into_boxed();
        if !streets.is_empty() {
            q = q.filter(c::street.eq_any(streets.to_vec()));
        }
        let rows: Vec<(i64, Option<String>, String)> = q
            .select((c::id, c::street, c::category))
            .order(c::id)
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .load(&mut conn)
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, street, category)| street.map(|s| (id, s, category)))
            .collect())
    }

    fn create_review(&self, new: &NewReview) -> StoreResult<i64> {
        use schema::review_cases::dsl as rc;
        use schema::reviews::dsl as r;
        let mut conn = self.conn()?;
        let row = NewReviewRow {
            name: &new.name,
            period_from: micros(new.from),
            period_to: micros(new.to),
            streets: convert::try_json("review streets", &new.streets)?,
            spec: convert::try_json("review spec", &new.spec)?,
            rubric: convert::try_json("review rubric", &new.rubric)?,
            k: i32::try_from(new.k)
                .map_err(|_| StoreError::Data(format!("k = {} is too large", new.k)))?,
            seed: i64::try_from(new.spec.seed)
                .map_err(|_| StoreError::Data(format!("seed {} is too large", new.spec.seed)))?,
            population: new.population,
            created_by: &new.created_by,
            created_at: micros(new.created_at),
            closed_at: None,
        };
        case_tx(&mut conn, |conn| {
            let id: i64 = diesel::insert_into(r::reviews)
                .values(&row)
                .returning(r::id)
                .get_result(conn)
                .map_err(db_err)?;
            for chunk in new.cases.chunks(REVIEW_CHUNK) {
                let rows: Vec<ReviewCaseRow> = chunk
                    .iter()
                    .map(|c| ReviewCaseRow {
                        review_id: id,
                        case_id: c.case_id,
                        street: c.street.clone(),
                        category: c.category.clone(),
                        grp: c.group.clone(),
                    })
                    .collect();
                diesel::insert_into(rc::review_cases)
                    .values(&rows)
                    .execute(conn)
                    .map_err(db_err)?;
            }
            insert_assignments(conn, id, &new.assignments)?;
            Ok(id)
        })
    }

    fn get_review(&self, id: i64, scope: ReviewScope<'_>) -> StoreResult<Review> {
        use schema::review_assignments::dsl as ra;
        use schema::review_cases::dsl as rc;
        use schema::reviews::dsl as r;
        let mut conn = self.conn()?;
        let row: ReviewRow = r::reviews
            .find(id)
            .select(ReviewRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| StoreError::NotFound(format!("review {id}")))?;
        let mut cases = rc::review_cases.filter(rc::review_id.eq(id)).into_boxed();
        let mut assignments = ra::review_assignments
            .filter(ra::review_id.eq(id))
            .into_boxed();
        match scope {
            ReviewScope::All => {}
            ReviewScope::Case(case_id) => {
                cases = cases.filter(rc::case_id.eq(case_id));
                assignments = assignments.filter(ra::case_id.eq(case_id));
            }
            ReviewScope::Reviewer(who) => {
                let mine = ra::review_assignments
                    .filter(ra::review_id.eq(id))
                    .filter(ra::reviewer.eq(who.subject.clone()))
                    .filter(ra::reviewer_street.eq(who.street.clone()))
                    .select(ra::case_id);
                cases = cases.filter(rc::case_id.eq_any(mine));
                assignments = assignments
                    .filter(ra::reviewer.eq(who.subject.clone()))
                    .filter(ra::reviewer_street.eq(who.street.clone()));
            }
        }
        let cases: Vec<ReviewCaseRow> = cases
            .order(rc::case_id)
            .select(ReviewCaseRow::as_select())
            .load(&mut conn)
            .map_err(db_err)?;
        let assignments: Vec<AssignmentRow> = assignments
            .order((ra::case_id, ra::reviewer))
            .select(AssignmentRow::as_select())
            .load(&mut conn)
            .map_err(db_err)?;
        review_from_row(row, cases, assignments)
    }

    fn list_reviews(
        &self,
        reviewer: Option<&Reviewer>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<ReviewSummary>, i64)> {
        use diesel::dsl::{count, count_star};
        use schema::review_assignments::dsl as ra;
        use schema::review_cases::dsl as rc;
        use schema::reviews::dsl as r;
        let mut conn = self.conn()?;
        let mine = |who: &Reviewer| {
            ra::review_assignments
                .filter(ra::reviewer.eq(who.subject.clone()))
                .filter(ra::reviewer_street.eq(who.street.clone()))
                .select(ra::review_id)
        };
        let query = || {
            let mut q = r::reviews.into_boxed();
            if let Some(who) = reviewer {
                q = q.filter(r::id.eq_any(mine(who)));
            }
            q
        };
        let total: i64 = query().count().get_result(&mut conn).map_err(db_err)?;
        let rows: Vec<ReviewRow> = query()
            .order(r::id.desc())
            .offset(offset.max(0))
            .limit(limit.max(0))
            .select(ReviewRow::as_select())
            .load(&mut conn)
            .map_err(db_err)?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        // per review: assignments, and those scored (`count(total)` counts the non-null)
        let tallies: Vec<(i64, i64, i64)> = match reviewer {
            None => ra::review_assignments
                .filter(ra::review_id.eq_any(ids.clone()))
                .group_by(ra::review_id)
                .select((ra::review_id, count_star(), count(ra::total)))
                .load(&mut conn),
            Some(who) => ra::review_assignments
                .filter(ra::review_id.eq_any(ids.clone()))
                .filter(ra::reviewer.eq(&who.subject))
                .filter(ra::reviewer_street.eq(&who.street))
                .group_by(ra::review_id)
                .select((ra::review_id, count_star(), count(ra::total)))
                .load(&mut conn),
        }
        .map_err(db_err)?;
        let assigned = counts(tallies.iter().map(|t| (t.0, t.1)).collect());
        let scored = counts(tallies.iter().map(|t| (t.0, t.2)).collect());
        let sampled = counts(
            rc::review_cases
                .filter(rc::review_id.eq_any(ids))
                .group_by(rc::review_id)
                .select((rc::review_id, count_star()))
                .load(&mut conn)
                .map_err(db_err)?,
        );
        let items = rows
            .into_iter()
            .map(|row| {
                let n_assigned = assigned.get(&row.id).copied().unwrap_or(0);
                ReviewSummary {
                    id: row.id,
                    name: row.name,
                    from: row.period_from,
                    to: row.period_to,
                    created_at: row.created_at,
                    closed_at: row.closed_at,
                    // a reviewer has one assignment per case of theirs
                    cases: if reviewer.is_some() {
                        n_assigned
                    } else {
                        sampled.get(&row.id).copied().unwrap_or(0)
                    },
                    assignments: n_assigned,
                    scored: scored.get(&row.id).copied().unwrap_or(0),
                }
            })
            .collect();
        Ok((items, total))
    }

    fn assign_reviewers(&self, id: i64, assignments: &[Assignment]) -> StoreResult<()> {
        use schema::review_assignments::dsl as ra;
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            lock_open_review(conn, id)?;
            let existing: i64 = ra::review_assignments
                .filter(ra::review_id.eq(id))
                .count()
                .get_result(conn)
                .map_err(db_err)?;
            if existing > 0 {
                return Err(StoreError::Conflict(format!(
                    "review {id} already has its {existing} assignment(s)"
                )));
            }
            insert_assignments(conn, id, assignments)
        })
    }

    fn record_score(
        &self,
        id: i64,
        case_id: i64,
        reviewer: &Reviewer,
        score: &NewScore<'_>,
    ) -> StoreResult<Assignment> {
        use schema::review_assignments::dsl as ra;
        let mut conn = self.conn()?;
        let points = convert::try_json("review points", score.points)?;
        case_tx(&mut conn, |conn| {
            lock_open_review(conn, id)?;
            let row: AssignmentRow = diesel::update(
                ra::review_assignments
                    .filter(ra::review_id.eq(id))
                    .filter(ra::case_id.eq(case_id))
                    .filter(ra::reviewer.eq(&reviewer.subject))
                    .filter(ra::reviewer_street.eq(&reviewer.street)),
            )
            .set((
                ra::points.eq(Some(points)),
                ra::total.eq(Some(score.total)),
                ra::comment.eq(score.comment),
                ra::scored_at.eq(Some(micros(score.at))),
            ))
            .returning(AssignmentRow::as_returning())
            .get_result(conn)
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "case {case_id} of review {id} is not assigned to {} ({})",
                    reviewer.subject, reviewer.street
                ))
            })?;
            assignment_from_row(row)
        })
    }

    fn close_review(&self, id: i64, at: DateTime<Utc>) -> StoreResult<DateTime<Utc>> {
        use schema::reviews::dsl as r;
        let mut conn = self.conn()?;
        let at = micros(at);
        case_tx(&mut conn, |conn| {
            lock_open_review(conn, id)?;
            diesel::update(r::reviews.find(id))
                .set(r::closed_at.eq(Some(at)))
                .execute(conn)
                .map_err(db_err)?;
            Ok(at)
        })
    }
}
