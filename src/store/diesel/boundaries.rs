//! Boundaries in diesel: drafts, publishing a generation (row versions), loading one, history and
//! watch.

use super::*;

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

pub(in crate::store) fn current_number(conn: &mut Conn) -> StoreResult<GenerationNo> {
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

fn load_draft(conn: &mut Conn, id: DraftId) -> StoreResult<crate::store::Draft> {
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
    Ok(crate::store::Draft {
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
    let new_set = crate::store::draft_as_whole(
        &old_set,
        &draft.features,
        draft.info.covered_streets.as_deref(),
    )?;
    let changes = crate::store::change_counts(&old_set, &new_set);
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

impl Boundaries for Db {
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

    fn get_draft(&self, id: DraftId) -> StoreResult<crate::store::Draft> {
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
        on_event: &mut dyn FnMut(crate::store::WatchEvent) -> bool,
    ) -> StoreResult<()> {
        self.watch_impl(after, on_event)
    }
}

/// Generations newer than `after`, oldest first (for watchers).
pub(in crate::store) fn generations_after(
    conn: &mut Conn,
    after: GenerationNo,
) -> StoreResult<Vec<GenerationInfo>> {
    use schema::generations::dsl as g;
    let rows: Vec<GenerationRow> = g::generations
        .filter(g::number.gt(after))
        .order(g::number)
        .select(GenerationRow::as_select())
        .load(conn)
        .map_err(db_err)?;
    rows.into_iter().map(generation_info).collect()
}
