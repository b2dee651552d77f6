//! The facts of every case (`case_facts`, [`crate::cases::facts`]) and the indicators computed
//! from them in SQL: one query per breakdown, one scan of a period's rows; for the few cases
//! changed after the moment asked for, their stage and due time then are read from their events.
//!
//! The query text is the same on both backends but for the placeholders (`?1` on SQLite, `$1` on
//! PostgreSQL) and the optimisation fence's spelling; `tests/indicators.rs` holds its answers equal to the plain reference in
//! [`crate::cases::indicators`] on both.

use super::*;
use crate::cases::facts::{self, Facts};
use crate::cases::indicators::{
    COUNTS, Dimension, Indicators, PERSON_COUNTS, PersonIndicators, Scope,
};
use crate::store::Backend;
use diesel::sql_types::{BigInt, Nullable, Text};

#[derive(Insertable)]
#[diesel(table_name = schema::case_facts, treat_none_as_default_value = false)]
struct FactsRow<'a> {
    case_id: i64,
    reported: i64,
    street: Option<&'a str>,
    grid: Option<&'a str>,
    category: &'a str,
    department: Option<&'a str>,
    patrol: bool,
    reporter: &'a str,
    verifier: Option<&'a str>,
    resolver: Option<&'a str>,
    accepted: Option<i64>,
    voided: Option<i64>,
    verified: Option<i64>,
    verify_late: Option<i64>,
    opened: Option<i64>,
    dispatched: Option<i64>,
    front: Option<i64>,
    back: Option<i64>,
    disposed: Option<i64>,
    dispose_late: Option<i64>,
    checked: Option<i64>,
    reworked: Option<i64>,
    returned: Option<i64>,
    extended: Option<i64>,
    supervised: Option<i64>,
    reopened: Option<i64>,
    late: Option<i64>,
    verdict: Option<i64>,
    verdict_flags: i32,
    last_event: i64,
    stage: &'a str,
    due: Option<i64>,
}

impl<'a> FactsRow<'a> {
    fn new(f: &'a Facts) -> FactsRow<'a> {
        FactsRow {
            case_id: f.case_id,
            reported: f.reported,
            street: f.street.as_deref(),
            grid: f.grid.as_deref(),
            category: &f.category,
            department: f.department.as_deref(),
            patrol: f.patrol,
            reporter: &f.reporter,
            verifier: f.verifier.as_deref(),
            resolver: f.resolver.as_deref(),
            accepted: f.accepted,
            voided: f.voided,
            verified: f.verified,
            verify_late: f.verify_late,
            opened: f.opened,
            dispatched: f.dispatched,
            front: f.front,
            back: f.back,
            disposed: f.disposed,
            dispose_late: f.dispose_late,
            checked: f.checked,
            reworked: f.reworked,
            returned: f.returned,
            extended: f.extended,
            supervised: f.supervised,
            reopened: f.reopened,
            late: f.late,
            verdict: f.verdict,
            verdict_flags: f.verdict_flags,
            last_event: f.last_event,
            stage: f.stage.as_str(),
            due: f.due,
        }
    }
}

/// Writes the facts of `cases` (replacing their rows), in the caller's transaction.
pub(super) fn write_facts(conn: &mut Conn, cases: &[Case]) -> StoreResult<()> {
    use schema::case_facts::dsl as f;
    if cases.is_empty() {
        return Ok(());
    }
    let facts: Vec<Facts> = cases.iter().map(Facts::of).collect();
    for chunk in facts.chunks(INSERT_CHUNK / 4) {
        let ids: Vec<i64> = chunk.iter().map(|f| f.case_id).collect();
        diesel::delete(f::case_facts.filter(f::case_id.eq_any(&ids)))
            .execute(conn)
            .map_err(db_err)?;
        let rows: Vec<FactsRow> = chunk.iter().map(FactsRow::new).collect();
        diesel::insert_into(f::case_facts)
            .values(&rows)
            .execute(conn)
            .map_err(db_err)?;
    }
    Ok(())
}

/// Cases per batch when facts are computed again.
const REFRESH_BATCH: i64 = 1000;

impl Db {
    /// Computes the facts of every case that has none; returns how many. Run when the store
    /// opens.
    pub(in crate::store) fn refresh_facts_impl(&self) -> StoreResult<usize> {
        use schema::case_facts::dsl as f;
        use schema::cases::dsl as c;
        let mut conn = self.conn()?;
        let mut done = 0;
        // walk the ids upwards: each batch starts after the last, never rescanning what is done
        let mut after = i64::MIN;
        loop {
            let batch: Vec<(i64, Option<i64>)> = c::cases
                .left_join(f::case_facts)
                .filter(c::id.gt(after))
                .select((c::id, f::case_id.nullable()))
                .order(c::id)
                .limit(REFRESH_BATCH * 10)
                .load(&mut conn)
                .map_err(db_err)?;
            let Some(last) = batch.last().map(|(id, _)| *id) else {
                if done > 0 {
                    // the planner's statistics of the table just filled
                    diesel::sql_query("ANALYZE case_facts")
                        .execute(&mut conn)
                        .map_err(db_err)?;
                }
                return Ok(done);
            };
            after = last;
            let stale: Vec<i64> = batch
                .into_iter()
                .filter(|(_, has)| has.is_none())
                .map(|(id, _)| id)
                .collect();
            if stale.is_empty() {
                continue;
            }
            case_tx(&mut conn, |conn| {
                let rows: Vec<super::cases::CaseRow> = c::cases
                    .filter(c::id.eq_any(&stale))
                    .select(super::cases::CaseRow::as_select())
                    .load(conn)
                    .map_err(db_err)?;
                let cases = super::cases::cases_with_events(conn, rows)?;
                write_facts(conn, &cases)
            })?;
            done += stale.len();
        }
    }

    /// The indicators of `scope` broken down by `by`, in SQL.
    pub(super) fn indicators_impl(
        &self,
        scope: &Scope,
        by: Dimension,
    ) -> StoreResult<BTreeMap<Option<String>, Indicators>> {
        let key = match by {
            Dimension::District => "CAST(NULL AS TEXT)",
            Dimension::Street => "f.street",
            Dimension::Grid => "f.grid",
            Dimension::Department => "f.department",
            Dimension::Category => "f.category",
        };
        let sql = counts_sql(key, by != Dimension::District, scope);
        let rows: Vec<CountRow> = bind_scope(diesel::sql_query(sql).into_boxed(), scope)
            .load(&mut self.conn()?)
            .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                let mut ind = Indicators::default();
                for (name, v) in COUNTS.iter().zip(r.values()) {
                    if let Some(slot) = ind.count_mut(name) {
                        *slot = count_u64(v)?;
                    }
                }
                Ok((r.key, ind.finish()))
            })
            .collect()
    }

    /// The indicators per person of `scope`, in SQL.
    pub(super) fn person_indicators_impl(
        &self,
        scope: &Scope,
    ) -> StoreResult<BTreeMap<String, PersonIndicators>> {
        let sql = persons_sql(scope);
        let rows: Vec<PersonRow> = bind_scope(diesel::sql_query(sql).into_boxed(), scope)
            .load(&mut self.conn()?)
            .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                let mut ind = PersonIndicators::default();
                let values = [
                    r.reports,
                    r.reports_decided,
                    r.reports_valid,
                    r.verified,
                    r.verified_on_time,
                    r.resolved_front_end,
                ];
                for (name, v) in PERSON_COUNTS.iter().zip(values) {
                    if let Some(slot) = ind.count_mut(name) {
                        *slot = count_u64(v)?;
                    }
                }
                Ok((r.person, ind.finish()))
            })
            .collect()
    }
}

fn count_u64(v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Data(format!("a negative count: {v}")))
}

/// Placeholder `n` of this backend.
fn p(n: usize) -> String {
    match BACKEND {
        Backend::Sqlite => format!("?{n}"),
        Backend::Postgres => format!("${n}"),
    }
}

type At = <schema::case_events::at as diesel::Expression>::SqlType;
type BoxedSql<'a> = diesel::query_builder::BoxedSqlQuery<
    'a,
    <Conn as diesel::Connection>::Backend,
    diesel::query_builder::SqlQuery,
>;

/// Binds the scope's values in the order the placeholders number them: 1 the moment (µs),
/// 2 the moment (a timestamp, for events), 3 and 4 the period (µs), then the street, then the
/// categories.
fn bind_scope<'a>(q: BoxedSql<'a>, scope: &Scope) -> BoxedSql<'a> {
    let mut q = q
        .bind::<BigInt, _>(facts::micros(scope.as_of))
        .bind::<At, _>(scope.as_of)
        .bind::<BigInt, _>(facts::micros(scope.from))
        .bind::<BigInt, _>(facts::micros(scope.to));
    if let Some(s) = &scope.street {
        q = q.bind::<Text, _>(s.clone());
    }
    for c in scope.categories.iter().flatten() {
        q = q.bind::<Text, _>(c.clone());
    }
    q
}

/// The `WHERE` condition of the scope's rows of `case_facts f`.
fn scope_sql(scope: &Scope) -> String {
    let mut sql = format!(
        "f.reported >= {} AND f.reported < {} AND f.reported <= {}",
        p(3),
        p(4),
        p(1)
    );
    let mut n = 5;
    if scope.street.is_some() {
        sql += &format!(" AND f.street = {}", p(n));
        n += 1;
    }
    if let Some(cats) = &scope.categories {
        if cats.is_empty() {
            sql += " AND 1 = 0";
        } else {
            let list: Vec<String> = (n..n + cats.len()).map(p).collect();
            sql += &format!(" AND f.category IN ({})", list.join(", "));
        }
    }
    sql
}

/// "Column `col` of the facts is a time at or before the moment".
fn by(col: &str) -> String {
    format!("(f.{col} IS NOT NULL AND f.{col} <= {})", p(1))
}

/// "The case was rejected by the moment": a rejection is final (the stage `rejected` has no way
/// out), so it is the case's last event.
fn rejected() -> String {
    format!("(f.stage = 'rejected' AND f.last_event <= {})", p(1))
}

fn counts_sql(key: &str, keyed: bool, scope: &Scope) -> String {
    let t = p(1);
    let tt = p(2);
    let verdict = by("verdict");
    let valid = format!("({} AND NOT {})", by("accepted"), by("voided"));
    let awaiting_disposal_late = "(f.stage_t = 'dispatched' AND f.late_t)";
    let conditions: [(&str, String); 27] = [
        ("cases", "1 = 1".into()),
        ("patrol", "f.patrol".into()),
        ("valid", valid.clone()),
        ("patrol_valid", format!("f.patrol AND {valid}")),
        (
            "patrol_decided",
            format!(
                "f.patrol AND ({} OR {} OR {})",
                by("accepted"),
                rejected(),
                by("voided")
            ),
        ),
        ("disposed", format!("({} OR {})", by("front"), by("back"))),
        ("resolved_front_end", by("front")),
        (
            "escalated_back_end",
            format!("NOT {} AND {}", by("front"), by("back")),
        ),
        (
            "verify_due",
            format!(
                "({} OR (f.stage_t = 'accepted' AND f.late_t))",
                by("verified")
            ),
        ),
        ("verified", by("verified")),
        (
            "verified_on_time",
            format!("{} AND NOT {}", by("verified"), by("verify_late")),
        ),
        (
            "dispose_due",
            format!("({} OR {awaiting_disposal_late})", by("disposed")),
        ),
        (
            "disposed_on_time",
            format!(
                "{} AND NOT {} AND NOT {awaiting_disposal_late}",
                by("disposed"),
                by("dispose_late")
            ),
        ),
        ("opened", by("opened")),
        ("closed", "f.stage_t = 'closed'".into()),
        (
            "closed_on_time",
            format!("f.stage_t = 'closed' AND NOT {}", by("late")),
        ),
        ("checked", by("checked")),
        ("reworked", by("reworked")),
        ("dispatched", by("dispatched")),
        ("returned", by("returned")),
        ("extended", by("extended")),
        (
            "overdue",
            "f.stage_t NOT IN ('closed', 'rejected', 'void') AND f.late_t".into(),
        ),
        ("supervised", by("supervised")),
        ("verdicts", verdict.clone()),
        (
            "resolved_by_verdict",
            format!("{verdict} AND (f.verdict_flags & {}) <> 0", facts::RESOLVED),
        ),
        (
            "satisfied",
            format!(
                "{verdict} AND (f.verdict_flags & {}) <> 0",
                facts::SATISFIED
            ),
        ),
        ("reopened", by("reopened")),
    ];
    debug_assert!(conditions.iter().map(|c| c.0).eq(COUNTS));
    let sums: Vec<String> = conditions
        .iter()
        .map(|(name, cond)| format!("SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS {name}"))
        .collect();
    // The outer query reads the inner one as `f` too, so that the conditions name one table.
    // The stage and the lateness at the moment: from the facts when nothing happened to the
    // case after it, else from its latest event by then.
    let stage_t = format!(
        "CASE WHEN f.last_event <= {t} THEN f.stage ELSE (SELECT e.stage FROM case_events e \
         WHERE e.case_id = f.case_id AND e.at <= {tt} ORDER BY e.seq DESC LIMIT 1) END"
    );
    let late_t = format!(
        "CASE WHEN f.last_event <= {t} THEN COALESCE(f.due < {t}, FALSE) ELSE \
         COALESCE((SELECT e.due_at FROM case_events e WHERE e.case_id = f.case_id \
         AND e.at <= {tt} AND e.due_at IS NOT NULL ORDER BY e.seq DESC LIMIT 1) < {tt}, FALSE) END"
    );
    let keep = if keyed {
        format!(" AND {key} IS NOT NULL")
    } else {
        String::new()
    };
    // The inner query is a fence (`OFFSET 0`): flattened into the outer one, the planner would
    // copy the subqueries of `stage_t` and `late_t` into every SUM that reads them and run them
    // once per use (on PostgreSQL 1.5 s instead of 0.2 s for a month at a million cases).
    let fence = match BACKEND {
        Backend::Sqlite => "LIMIT -1 OFFSET 0",
        Backend::Postgres => "OFFSET 0",
    };
    format!(
        "SELECT f.k AS key, {sums} FROM (SELECT f.*, {key} AS k, {stage_t} AS stage_t, \
         {late_t} AS late_t FROM case_facts f WHERE {scope}{keep} {fence}) f GROUP BY f.k",
        sums = sums.join(", "),
        scope = scope_sql(scope),
    )
}

fn persons_sql(scope: &Scope) -> String {
    let w = scope_sql(scope);
    let one = |cond: &str| format!("CASE WHEN {cond} THEN 1 ELSE 0 END");
    let decided = one(&format!(
        "{} OR {} OR {}",
        by("accepted"),
        rejected(),
        by("voided")
    ));
    let valid = one(&format!("{} AND NOT {}", by("accepted"), by("voided")));
    let on_time = one(&format!("NOT {}", by("verify_late")));
    format!(
        "SELECT person, SUM(reports) AS reports, SUM(reports_decided) AS reports_decided, \
         SUM(reports_valid) AS reports_valid, SUM(verified) AS verified, \
         SUM(verified_on_time) AS verified_on_time, SUM(resolved_front_end) AS resolved_front_end \
         FROM (\
         SELECT f.reporter AS person, 1 AS reports, {decided} AS reports_decided, \
         {valid} AS reports_valid, 0 AS verified, 0 AS verified_on_time, 0 AS resolved_front_end \
         FROM case_facts f WHERE {w} AND f.patrol \
         UNION ALL SELECT f.verifier, 0, 0, 0, 1, {on_time}, 0 FROM case_facts f \
         WHERE {w} AND {verified} \
         UNION ALL SELECT f.resolver, 0, 0, 0, 0, 0, 1 FROM case_facts f WHERE {w} AND {front}\
         ) p GROUP BY person",
        verified = by("verified"),
        front = by("front"),
    )
}

#[derive(QueryableByName)]
struct PersonRow {
    #[diesel(sql_type = Text)]
    person: String,
    #[diesel(sql_type = BigInt)]
    reports: i64,
    #[diesel(sql_type = BigInt)]
    reports_decided: i64,
    #[diesel(sql_type = BigInt)]
    reports_valid: i64,
    #[diesel(sql_type = BigInt)]
    verified: i64,
    #[diesel(sql_type = BigInt)]
    verified_on_time: i64,
    #[diesel(sql_type = BigInt)]
    resolved_front_end: i64,
}

macro_rules! count_row {
    ($($name:ident),* $(,)?) => {
        #[derive(QueryableByName)]
        struct CountRow {
            #[diesel(sql_type = Nullable<Text>)]
            key: Option<String>,
            $(#[diesel(sql_type = BigInt)] $name: i64,)*
        }

        impl CountRow {
            /// The counts in the order of [`COUNTS`].
            fn values(&self) -> Vec<i64> {
                vec![$(self.$name),*]
            }
        }
    };
}

count_row!(
    cases,
    patrol,
    valid,
    patrol_valid,
    patrol_decided,
    disposed,
    resolved_front_end,
    escalated_back_end,
    verify_due,
    verified,
    verified_on_time,
    dispose_due,
    disposed_on_time,
    opened,
    closed,
    closed_on_time,
    checked,
    reworked,
    dispatched,
    returned,
    extended,
    overdue,
    supervised,
    verdicts,
    resolved_by_verdict,
    satisfied,
    reopened,
);
