// The backend-independent part of a diesel store, compiled once per backend with `include!` from
// sqlite.rs and postgres.rs: the rows and queries of every aggregate, and the `impl`s of the
// aggregate traits (Boundaries, Access, Categories, Cases) and of the umbrella Store for the
// includer's store. Each includer defines, before including this file:
//   `schema` (its diesel schema module), `Conn` (its connection type), `Db` (the store struct,
//   with `fn conn(&self) -> StoreResult<PooledConn>` and `fn watch_impl`), `write_tx` (a write
//   transaction that serialises publishes), `announce` (tell other processes about a new
//   generation), `case_tx` and `lock_case` (a case write transaction and a case row lock),
//   `BACKEND` and `db_err` (map a diesel error, recognising corruption).
// Formatting: `rustfmt --edition 2024 src/store/common.rs` (cargo fmt does not see included files).

use super::convert::{self, Columns};
use super::{
    DraftId, DraftInfo, GenerationInfo, GenerationNo, LayerChanges, NewDraft, Subject, Token,
};
use crate::model::{Feature, FeatureSet};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use postgis_diesel::types as pd;
use std::collections::{BTreeMap, HashMap};

/// Rows per multi-row INSERT: 12 bound values each stays under SQLite's 32,766 and
/// PostgreSQL's 65,535 parameters.
const INSERT_CHUNK: usize = 2000;
/// Ids per `IN (…)` list.
const ID_CHUNK: usize = 10_000;

#[derive(Insertable)]
#[diesel(table_name = schema::features, treat_none_as_default_value = false)]
struct NewFeatureRow<'a> {
    code: &'a str,
    layer: &'a str,
    name: &'a str,
    parent: Option<&'a str>,
    kind: Option<&'a str>,
    people: &'a str,
    attributes: &'a str,
    area: Option<&'a pd::MultiPolygon<pd::Point>>,
    line: Option<&'a pd::MultiLineString<pd::Point>>,
    valid_from: i32,
}

#[derive(Insertable)]
#[diesel(table_name = schema::draft_features, treat_none_as_default_value = false)]
struct NewDraftFeatureRow<'a> {
    draft_id: i64,
    seq: i32,
    code: &'a str,
    layer: &'a str,
    name: &'a str,
    parent: Option<&'a str>,
    kind: Option<&'a str>,
    people: &'a str,
    attributes: &'a str,
    area: Option<&'a pd::MultiPolygon<pd::Point>>,
    line: Option<&'a pd::MultiLineString<pd::Point>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::features)]
struct FeatureRow {
    id: i64,
    code: String,
    layer: String,
    name: String,
    parent: Option<String>,
    kind: Option<String>,
    people: String,
    attributes: String,
    area: Option<pd::MultiPolygon<pd::Point>>,
    line: Option<pd::MultiLineString<pd::Point>>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::draft_features)]
struct DraftFeatureRow {
    code: String,
    layer: String,
    name: String,
    parent: Option<String>,
    kind: Option<String>,
    people: String,
    attributes: String,
    area: Option<pd::MultiPolygon<pd::Point>>,
    line: Option<pd::MultiLineString<pd::Point>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::generations, treat_none_as_default_value = false)]
struct GenerationRow {
    number: i32,
    created_at: DateTime<Utc>,
    created_by: String,
    draft_id: i64,
    override_reason: Option<String>,
    error_count: i32,
    changes: String,
    management_units: String,
    feature_count: i32,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::drafts)]
struct DraftRow {
    id: i64,
    created_at: DateTime<Utc>,
    created_by: String,
    base_generation: i32,
    covered_streets: Option<String>,
    report: String,
    error_count: i32,
    feature_count: i32,
    management_units: String,
    published_generation: Option<i32>,
}

#[derive(Insertable)]
#[diesel(table_name = schema::drafts, treat_none_as_default_value = false)]
struct NewDraftRow<'a> {
    created_at: DateTime<Utc>,
    created_by: &'a str,
    base_generation: i32,
    covered_streets: Option<String>,
    report: String,
    error_count: i32,
    feature_count: i32,
    management_units: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::tokens)]
struct TokenRow {
    id: i64,
    role: String,
    streets: String,
    created_at: DateTime<Utc>,
    revoked: bool,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = schema::tokens)]
struct NewTokenRow<'a> {
    role: &'a str,
    streets: String,
    secret_sha256: String,
    created_at: DateTime<Utc>,
    revoked: bool,
    expires_at: Option<DateTime<Utc>>,
}

fn count_usize(n: i32, what: &str) -> StoreResult<usize> {
    usize::try_from(n).map_err(|_| StoreError::Data(format!("{what} is negative: {n}")))
}

fn count_i32(n: usize, what: &str) -> StoreResult<i32> {
    i32::try_from(n).map_err(|_| StoreError::InvalidDraft(format!("too many {what}: {n}")))
}

fn generation_info(row: GenerationRow) -> StoreResult<GenerationInfo> {
    let changes: BTreeMap<Subject, LayerChanges> = convert::json_from("changes", &row.changes)?;
    Ok(GenerationInfo {
        number: row.number,
        created_at: row.created_at,
        created_by: row.created_by,
        draft_id: row.draft_id,
        override_reason: row.override_reason,
        error_count: count_usize(row.error_count, "error_count")?,
        feature_count: count_usize(row.feature_count, "feature_count")?,
        changes,
    })
}

fn draft_info(row: DraftRow) -> StoreResult<DraftInfo> {
    let covered_streets = match &row.covered_streets {
        Some(s) => Some(convert::json_from("covered streets", s)?),
        None => None,
    };
    Ok(DraftInfo {
        id: row.id,
        created_at: row.created_at,
        created_by: row.created_by,
        base_generation: row.base_generation,
        covered_streets,
        report: convert::json_from("report", &row.report)?,
        error_count: count_usize(row.error_count, "error_count")?,
        feature_count: count_usize(row.feature_count, "feature_count")?,
        published_generation: row.published_generation,
    })
}

fn token(row: TokenRow) -> StoreResult<Token> {
    Ok(Token {
        id: row.id,
        role: row.role,
        streets: convert::json_from("token streets", &row.streets)?,
        created_at: row.created_at,
        revoked: row.revoked,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
    })
}

fn feature_from_row(r: FeatureRow) -> StoreResult<(i64, Feature)> {
    let f = convert::from_columns(
        r.code,
        &r.layer,
        r.name,
        r.parent,
        r.kind.as_deref(),
        &r.people,
        &r.attributes,
        r.area.as_ref(),
        r.line.as_ref(),
    )?;
    Ok((r.id, f))
}

fn current_number(conn: &mut Conn) -> StoreResult<GenerationNo> {
    use schema::generations::dsl as g;
    let n: Option<i32> = g::generations
        .select(diesel::dsl::max(g::number))
        .first(conn)
        .map_err(db_err)?;
    Ok(n.unwrap_or(0))
}

fn generation_row(conn: &mut Conn, n: GenerationNo) -> StoreResult<GenerationRow> {
    use schema::generations::dsl as g;
    g::generations
        .find(n)
        .select(GenerationRow::as_select())
        .first(conn)
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("generation {n}")))
}

/// Feature rows (with ids) of generation `n`, in canonical order, and its management units.
fn load_rows(conn: &mut Conn, n: GenerationNo) -> StoreResult<(Vec<(i64, Feature)>, FeatureSet)> {
    use schema::features::dsl as f;
    let generation = generation_row(conn, n)?;
    let rows: Vec<FeatureRow> = f::features
        .filter(f::valid_from.le(n))
        .filter(f::valid_to.is_null().or(f::valid_to.gt(n)))
        .select(FeatureRow::as_select())
        .load(conn)
        .map_err(db_err)?;
    let mut with_ids = rows
        .into_iter()
        .map(feature_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    with_ids.sort_by(|(_, a), (_, b)| (a.layer, &a.code).cmp(&(b.layer, &b.code)));
    let mut units = convert::units_from_json(&generation.management_units)?;
    units.sort_by(|a, b| a.code.cmp(&b.code));
    let set = FeatureSet::new(with_ids.iter().map(|(_, f)| f.clone()).collect(), units)
        .map_err(|dup| StoreError::Data(format!("generation {n} holds code {} twice", dup.code)))?;
    Ok((with_ids, set))
}

fn load_draft(conn: &mut Conn, id: DraftId) -> StoreResult<super::Draft> {
    use schema::draft_features::dsl as df;
    use schema::drafts::dsl as d;
    let row: DraftRow = d::drafts
        .find(id)
        .select(DraftRow::as_select())
        .first(conn)
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("draft {id}")))?;
    let units = convert::units_from_json(&row.management_units)?;
    let rows: Vec<DraftFeatureRow> = df::draft_features
        .filter(df::draft_id.eq(id))
        .order(df::seq)
        .select(DraftFeatureRow::as_select())
        .load(conn)
        .map_err(db_err)?;
    let features = rows
        .into_iter()
        .map(|r| {
            convert::from_columns(
                r.code,
                &r.layer,
                r.name,
                r.parent,
                r.kind.as_deref(),
                &r.people,
                &r.attributes,
                r.area.as_ref(),
                r.line.as_ref(),
            )
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let features = FeatureSet::new(features, units)
        .map_err(|dup| StoreError::Data(format!("draft {id} holds code {} twice", dup.code)))?;
    Ok(super::Draft {
        info: draft_info(row)?,
        features,
    })
}

fn insert_features(conn: &mut Conn, cols: &[Columns], valid_from: i32) -> StoreResult<()> {
    for chunk in cols.chunks(INSERT_CHUNK) {
        let rows: Vec<NewFeatureRow<'_>> = chunk
            .iter()
            .map(|c| NewFeatureRow {
                code: &c.code,
                layer: c.layer,
                name: &c.name,
                parent: c.parent.as_deref(),
                kind: c.kind,
                people: &c.people,
                attributes: &c.attributes,
                area: c.area.as_ref(),
                line: c.line.as_ref(),
                valid_from,
            })
            .collect();
        diesel::insert_into(schema::features::table)
            .values(&rows)
            .execute(conn)
            .map_err(db_err)?;
    }
    Ok(())
}

fn publish_in_tx(
    conn: &mut Conn,
    id: DraftId,
    by: &str,
    override_reason: Option<&str>,
) -> StoreResult<GenerationInfo> {
    use schema::drafts::dsl as d;
    use schema::features::dsl as f;

    let draft = load_draft(conn, id)?;
    if let Some(n) = draft.info.published_generation {
        return Err(StoreError::Conflict(format!(
            "draft {id} was already published as generation {n}"
        )));
    }
    let current = current_number(conn)?;
    if current != draft.info.base_generation {
        return Err(StoreError::Conflict(format!(
            "draft {id} was made on generation {}, but generation {current} has been published since; import it again",
            draft.info.base_generation
        )));
    }
    let reason = override_reason.map(str::trim).filter(|r| !r.is_empty());
    if draft.info.error_count > 0 && reason.is_none() {
        return Err(StoreError::PublishRefused {
            errors: draft.info.error_count,
        });
    }

    let (old_rows, old_set) = if current > 0 {
        load_rows(conn, current)?
    } else {
        (Vec::new(), FeatureSet::default())
    };
    let new_set = super::draft_as_whole(
        &old_set,
        &draft.features,
        draft.info.covered_streets.as_deref(),
    )?;
    let changes = super::change_counts(&old_set, &new_set);
    let old_ids: HashMap<&str, (i64, &Feature)> = old_rows
        .iter()
        .map(|(rid, f)| (f.code.as_str(), (*rid, f)))
        .collect();

    // Rows to close: removed or changed features of the current generation.
    let mut close: Vec<i64> = Vec::new();
    for (code, (rid, _)) in &old_ids {
        if new_set.get(code).is_none() {
            close.push(*rid);
        }
    }
    // Rows to insert: added or changed features.
    let mut insert: Vec<Columns> = Vec::new();
    for nf in new_set.features() {
        match old_ids.get(nf.code.as_str()) {
            Some((_, of)) if *of == nf => {}
            Some((rid, _)) => {
                close.push(*rid);
                insert.push(convert::to_columns(nf)?);
            }
            None => insert.push(convert::to_columns(nf)?),
        }
    }

    let number = current + 1;
    let row = GenerationRow {
        number,
        created_at: Utc::now(),
        created_by: by.to_string(),
        draft_id: id,
        override_reason: reason.map(str::to_string),
        error_count: count_i32(draft.info.error_count, "errors")?,
        changes: convert::try_json("changes", &changes)?,
        management_units: convert::units_to_json(&new_set.management_units)?,
        feature_count: count_i32(new_set.len(), "features")?,
    };
    diesel::insert_into(schema::generations::table)
        .values(&row)
        .execute(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => StoreError::Conflict(format!(
                "generation {number} was published concurrently; import the draft again"
            )),
            e => db_err(e),
        })?;
    for chunk in close.chunks(ID_CHUNK) {
        diesel::update(f::features.filter(f::id.eq_any(chunk)))
            .set(f::valid_to.eq(number))
            .execute(conn)
            .map_err(db_err)?;
    }
    insert_features(conn, &insert, number)?;
    let updated = diesel::update(d::drafts.find(id).filter(d::published_generation.is_null()))
        .set(d::published_generation.eq(number))
        .execute(conn)
        .map_err(db_err)?;
    if updated != 1 {
        return Err(StoreError::Conflict(format!(
            "draft {id} was published concurrently"
        )));
    }
    announce(conn, number).map_err(db_err)?;
    generation_info(row)
}

impl super::Store for Db {
    fn backend(&self) -> super::Backend {
        BACKEND
    }
}

impl super::Boundaries for Db {
    fn create_draft(&self, draft: NewDraft<'_>) -> StoreResult<DraftId> {
        use schema::drafts::dsl as d;
        let cols: Vec<Columns> = draft
            .features
            .features()
            .iter()
            .map(convert::to_columns)
            .collect::<StoreResult<_>>()?;
        let mut conn = self.conn()?;
        write_tx(&mut conn, |conn| {
            let base = current_number(conn)?;
            let row = NewDraftRow {
                created_at: Utc::now(),
                created_by: draft.created_by,
                base_generation: base,
                covered_streets: draft
                    .covered_streets
                    .as_ref()
                    .map(|c| convert::try_json("covered streets", c))
                    .transpose()?,
                report: convert::try_json("report", &draft.report)?,
                error_count: count_i32(draft.error_count, "errors")?,
                feature_count: count_i32(cols.len(), "features")?,
                management_units: convert::units_to_json(&draft.features.management_units)?,
            };
            let id: i64 = diesel::insert_into(d::drafts)
                .values(&row)
                .returning(d::id)
                .get_result(conn)
                .map_err(db_err)?;
            for (chunk_no, chunk) in cols.chunks(INSERT_CHUNK).enumerate() {
                let rows = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        Ok(NewDraftFeatureRow {
                            draft_id: id,
                            seq: count_i32(chunk_no * INSERT_CHUNK + i, "features")?,
                            code: &c.code,
                            layer: c.layer,
                            name: &c.name,
                            parent: c.parent.as_deref(),
                            kind: c.kind,
                            people: &c.people,
                            attributes: &c.attributes,
                            area: c.area.as_ref(),
                            line: c.line.as_ref(),
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                diesel::insert_into(schema::draft_features::table)
                    .values(&rows)
                    .execute(conn)
                    .map_err(db_err)?;
            }
            Ok(id)
        })
    }

    fn get_draft(&self, id: DraftId) -> StoreResult<super::Draft> {
        let mut conn = self.conn()?;
        load_draft(&mut conn, id)
    }

    fn get_draft_info(&self, id: DraftId) -> StoreResult<DraftInfo> {
        use schema::drafts::dsl as d;
        let mut conn = self.conn()?;
        let row: DraftRow = d::drafts
            .find(id)
            .select(DraftRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| StoreError::NotFound(format!("draft {id}")))?;
        draft_info(row)
    }

    fn list_drafts(&self) -> StoreResult<Vec<DraftInfo>> {
        use schema::drafts::dsl as d;
        let mut conn = self.conn()?;
        let rows: Vec<DraftRow> = d::drafts
            .order(d::id.desc())
            .select(DraftRow::as_select())
            .load(&mut conn)
            .map_err(db_err)?;
        rows.into_iter().map(draft_info).collect()
    }

    fn publish(
        &self,
        id: DraftId,
        by: &str,
        override_reason: Option<&str>,
    ) -> StoreResult<GenerationInfo> {
        let mut conn = self.conn()?;
        write_tx(&mut conn, |conn| {
            publish_in_tx(conn, id, by, override_reason)
        })
    }

    fn generations(&self) -> StoreResult<Vec<GenerationInfo>> {
        use schema::generations::dsl as g;
        let mut conn = self.conn()?;
        let rows: Vec<GenerationRow> = g::generations
            .order(g::number)
            .select(GenerationRow::as_select())
            .load(&mut conn)
            .map_err(db_err)?;
        rows.into_iter().map(generation_info).collect()
    }

    fn current_generation(&self) -> StoreResult<Option<GenerationInfo>> {
        use schema::generations::dsl as g;
        let mut conn = self.conn()?;
        let row: Option<GenerationRow> = g::generations
            .order(g::number.desc())
            .select(GenerationRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(db_err)?;
        row.map(generation_info).transpose()
    }

    fn load_generation(&self, n: GenerationNo) -> StoreResult<FeatureSet> {
        let mut conn = self.conn()?;
        Ok(load_rows(&mut conn, n)?.1)
    }

    fn purge_drafts(&self, before: DateTime<Utc>) -> StoreResult<usize> {
        use schema::draft_features::dsl as df;
        use schema::drafts::dsl as d;
        let mut conn = self.conn()?;
        write_tx(&mut conn, |conn| {
            let stale = d::drafts
                .filter(d::published_generation.is_null())
                .filter(d::created_at.lt(before))
                .select(d::id);
            let ids: Vec<i64> = stale.load(conn).map_err(db_err)?;
            if ids.is_empty() {
                return Ok(0);
            }
            diesel::delete(df::draft_features.filter(df::draft_id.eq_any(&ids)))
                .execute(conn)
                .map_err(db_err)?;
            diesel::delete(d::drafts.filter(d::id.eq_any(&ids)))
                .execute(conn)
                .map_err(db_err)
        })
    }

    fn watch(
        &self,
        after: Option<GenerationNo>,
        on_event: &mut dyn FnMut(super::WatchEvent) -> bool,
    ) -> StoreResult<()> {
        self.watch_impl(after, on_event)
    }
}

impl super::Access for Db {
    fn create_token_until(
        &self,
        role: &str,
        streets: &[String],
        secret: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<i64> {
        use schema::tokens::dsl as t;
        let mut conn = self.conn()?;
        diesel::insert_into(t::tokens)
            .values(&NewTokenRow {
                role,
                streets: convert::try_json("token streets", &streets)?,
                secret_sha256: super::secret_hash(secret),
                created_at: Utc::now(),
                revoked: false,
                expires_at,
            })
            .returning(t::id)
            .get_result(&mut conn)
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                ) => StoreError::Conflict("a token with this secret exists".into()),
                e => db_err(e),
            })
    }

    fn token_by_secret(&self, secret: &str) -> StoreResult<Option<Token>> {
        use schema::tokens::dsl as t;
        let mut conn = self.conn()?;
        let row: Option<TokenRow> = t::tokens
            .filter(t::secret_sha256.eq(super::secret_hash(secret)))
            .select(TokenRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(db_err)?;
        row.map(token).transpose()
    }

    fn list_tokens(&self) -> StoreResult<Vec<Token>> {
        use schema::tokens::dsl as t;
        let mut conn = self.conn()?;
        let rows: Vec<TokenRow> = t::tokens
            .order(t::id)
            .select(TokenRow::as_select())
            .load(&mut conn)
            .map_err(db_err)?;
        rows.into_iter().map(token).collect()
    }

    fn revoke_token(&self, id: i64) -> StoreResult<()> {
        use schema::tokens::dsl as t;
        let mut conn = self.conn()?;
        let n = diesel::update(t::tokens.find(id))
            .set(t::revoked.eq(true))
            .execute(&mut conn)
            .map_err(db_err)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("token {id}")));
        }
        Ok(())
    }

    fn touch_token(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        use schema::tokens::dsl as t;
        let mut conn = self.conn()?;
        // At most one write a minute per token, however many requests it makes.
        let stale = at - chrono::Duration::seconds(60);
        diesel::update(
            t::tokens
                .find(id)
                .filter(t::last_used_at.is_null().or(t::last_used_at.lt(stale))),
        )
        .set(t::last_used_at.eq(Some(at)))
        .execute(&mut conn)
        .map_err(db_err)?;
        Ok(())
    }
}

impl super::Categories for Db {
    fn replace_categories(&self, categories: &[Category]) -> StoreResult<()> {
        self.replace_categories_impl(categories)
    }

    fn categories(&self) -> StoreResult<Vec<Category>> {
        self.categories_impl()
    }
}

impl super::Cases for Db {
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

/// Generations newer than `after`, oldest first (for watchers).
fn generations_after(conn: &mut Conn, after: GenerationNo) -> StoreResult<Vec<GenerationInfo>> {
    use schema::generations::dsl as g;
    let rows: Vec<GenerationRow> = g::generations
        .filter(g::number.gt(after))
        .order(g::number)
        .select(GenerationRow::as_select())
        .load(conn)
        .map_err(db_err)?;
    rows.into_iter().map(generation_info).collect()
}

// ---- case categories and cases -------------------------------------------------------------

use crate::cases::{Case, CaseFilter, Event, NewCase, Status};
use crate::routing::categories::Category;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::categories)]
struct CategoryRow {
    code: String,
    position: i32,
    body: String,
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

fn corrupt_row(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        path: "cases".into(),
        detail: what.to_string(),
    }
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
    fn replace_categories_impl(&self, cats: &[Category]) -> StoreResult<()> {
        use schema::categories::dsl as k;
        let mut conn = self.conn()?;
        let rows: Vec<CategoryRow> = cats
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(CategoryRow {
                    code: c.code.clone(),
                    position: count_i32(i, "categories")?,
                    body: convert::json_to(c),
                })
            })
            .collect::<StoreResult<_>>()?;
        case_tx(&mut conn, |conn| {
            diesel::delete(k::categories)
                .execute(conn)
                .map_err(db_err)?;
            for chunk in rows.chunks(INSERT_CHUNK) {
                diesel::insert_into(k::categories)
                    .values(chunk)
                    .execute(conn)
                    .map_err(db_err)?;
            }
            Ok(())
        })
    }

    fn categories_impl(&self) -> StoreResult<Vec<Category>> {
        use schema::categories::dsl as k;
        let mut conn = self.conn()?;
        let rows: Vec<CategoryRow> = k::categories
            .order(k::position)
            .select(CategoryRow::as_select())
            .load(&mut conn)
            .map_err(db_err)?;
        rows.into_iter()
            .map(|r| {
                serde_json::from_str(&r.body)
                    .map_err(|e| corrupt_row(format!("category {}: {e}", r.code)))
            })
            .collect()
    }

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
