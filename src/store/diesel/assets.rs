//! The asset registers in diesel: components and shops written whole or by key in multi-row
//! INSERTs, read by box (PostGIS: the GiST index; SQLite: the lon/lat columns), key lists and
//! keyset pages; the manual frontage kept over a computed one; inspections with their items and
//! photos as JSON; points entries made idempotent per case by a unique index.

use super::*;
use crate::assets::{
    BindingSource, Component, ComponentState, Frontage, Inspection, PointsEntry, PointsReason,
    Shop, ShopGeometry,
};
use crate::store::Backend;
use crate::store::assets::{Assets, ComponentQuery, RegisterScope, ShopQuery};
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::expression::BoxableExpression;
use diesel::sql_types::{Bool, Double};
use std::collections::HashSet;

/// Shop rows per multi-row INSERT (16 bound values each).
const SHOP_CHUNK: usize = 1500;
/// A write of at least this many components drops the register's secondary indexes and builds
/// them again after it: far faster than keeping them up to date row by row.
const BULK_ROWS: usize = 20_000;
/// Components per query of the start-up load.
const LOAD_CHUNK: i64 = 20_000;

type Be = <Conn as diesel::Connection>::Backend;

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::components)]
struct ComponentRow {
    code: String,
    owner: String,
    maintainer: Option<String>,
    state: String,
    survey_date: Option<NaiveDate>,
    attributes: String,
    lon: f64,
    lat: f64,
}

/// A component as written (by the backend's `insert_components`).
#[derive(Insertable)]
#[diesel(table_name = schema::components, treat_none_as_default_value = false)]
pub(in crate::store) struct NewComponentRow<'a> {
    code: &'a str,
    class: Option<&'a str>,
    subclass: Option<&'a str>,
    owner: &'a str,
    maintainer: Option<&'a str>,
    state: &'static str,
    survey_date: Option<NaiveDate>,
    attributes: String,
    lon: f64,
    lat: f64,
    geom: pd::Point,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::shops)]
struct ShopRow {
    id: String,
    name: String,
    credit_code: Option<String>,
    contact: Option<String>,
    phone: Option<String>,
    pledge_signed: Option<NaiveDate>,
    geom: pd::GeometryContainer<pd::Point>,
    frontage_segment: Option<String>,
    frontage_distance_m: Option<f64>,
    frontage_source: Option<String>,
    attributes: String,
}

#[derive(Insertable)]
#[diesel(table_name = schema::shops, treat_none_as_default_value = false)]
struct NewShopRow<'a> {
    id: &'a str,
    name: &'a str,
    credit_code: Option<&'a str>,
    contact: Option<&'a str>,
    phone: Option<&'a str>,
    pledge_signed: Option<NaiveDate>,
    geom: pd::GeometryContainer<pd::Point>,
    min_lon: f64,
    min_lat: f64,
    max_lon: f64,
    max_lat: f64,
    frontage_segment: Option<&'a str>,
    frontage_distance_m: Option<f64>,
    frontage_source: Option<&'static str>,
    attributes: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::shop_inspections)]
struct InspectionRow {
    id: i64,
    shop: String,
    date: NaiveDate,
    inspector: String,
    items: String,
    photos: String,
}

#[derive(Insertable)]
#[diesel(table_name = schema::shop_inspections)]
struct NewInspectionRow<'a> {
    shop: &'a str,
    date: NaiveDate,
    inspector: &'a str,
    items: String,
    photos: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::shop_points)]
struct PointsRow {
    shop: String,
    at: DateTime<Utc>,
    points: i64,
    reason: String,
    inspection_id: Option<i64>,
    case_id: Option<i64>,
    category: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = schema::shop_points, treat_none_as_default_value = false)]
struct NewPointsRow<'a> {
    shop: &'a str,
    at: DateTime<Utc>,
    points: i64,
    reason: &'static str,
    inspection_id: Option<i64>,
    case_id: Option<i64>,
    category: Option<&'a str>,
}

fn bad(what: impl std::fmt::Display) -> StoreError {
    StoreError::Data(format!("assets: {what}"))
}

/// `geom && box` on PostGIS, so that a box is found through the GiST index (the exact test on
/// the coordinate columns is added beside it: PostGIS compares boxes in single precision).
fn geom_meets<QS>(b: [f64; 4]) -> Box<dyn BoxableExpression<QS, Be, SqlType = Bool>> {
    let [x0, y0, x1, y1] = b;
    Box::new(
        sql::<Bool>("geom && ST_MakeEnvelope(")
            .bind::<Double, _>(x0)
            .sql(", ")
            .bind::<Double, _>(y0)
            .sql(", ")
            .bind::<Double, _>(x1)
            .sql(", ")
            .bind::<Double, _>(y1)
            .sql(", 4326)"),
    )
}

/// The key lists a query is run for: all of `keys` in lists short enough to bind, or once
/// without a list when `keys` is `None`.
fn key_chunks(keys: Option<&[String]>) -> Vec<Option<&[String]>> {
    match keys {
        None => vec![None],
        Some(k) => k.chunks(ID_CHUNK).map(Some).collect(),
    }
}

/// One secondary index of a table: its name and the statement that makes it.
#[derive(QueryableByName)]
struct IndexDef {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    def: String,
}

/// Drops the secondary indexes of `table` (within the caller's transaction) and returns what
/// builds them again, read from the catalogue so that it is always what the migrations made.
fn drop_indexes(conn: &mut Conn, table: &str) -> StoreResult<Vec<IndexDef>> {
    let q = match BACKEND {
        Backend::Postgres => {
            "SELECT c.relname::text AS name, pg_get_indexdef(i.indexrelid) AS def \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE i.indrelid = CAST($1 AS regclass) AND NOT i.indisprimary"
        }
        Backend::Sqlite => {
            "SELECT name, sql AS def FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
        }
    };
    let defs: Vec<IndexDef> = diesel::sql_query(q)
        .bind::<diesel::sql_types::Text, _>(table)
        .load(conn)
        .map_err(db_err)?;
    for d in &defs {
        diesel::sql_query(format!("DROP INDEX \"{}\"", d.name.replace('"', "\"\"")))
            .execute(conn)
            .map_err(db_err)?;
    }
    Ok(defs)
}

/// Builds again the indexes [`drop_indexes`] dropped.
fn create_indexes(conn: &mut Conn, defs: &[IndexDef]) -> StoreResult<()> {
    for d in defs {
        diesel::sql_query(&d.def).execute(conn).map_err(db_err)?;
    }
    Ok(())
}

/// The rows of a query run once per key list, as one run would give them: by key, each once,
/// at most `limit`.
fn merge_runs<R>(rows: &mut Vec<R>, key: impl Fn(&R) -> &String, limit: Option<usize>) {
    rows.sort_by(|a, b| key(a).cmp(key(b)));
    rows.dedup_by(|a, b| key(a) == key(b));
    if let Some(n) = limit {
        rows.truncate(n);
    }
}

/// The first key that occurs twice, if any.
fn repeated<'a>(keys: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = HashSet::new();
    keys.into_iter().find(|k| !seen.insert(*k))
}

/// A unique violation as a [`StoreError::Conflict`] saying `what`.
fn unique_conflict(what: &str) -> impl Fn(diesel::result::Error) -> StoreError + '_ {
    move |e| match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => StoreError::Conflict(what.to_string()),
        e => db_err(e),
    }
}

fn limit_i64(limit: Option<usize>) -> Option<i64> {
    limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn component_row(c: &Component) -> StoreResult<NewComponentRow<'_>> {
    Ok(NewComponentRow {
        code: &c.code,
        class: c.class(),
        subclass: c.code.get(6..10),
        owner: &c.owner,
        maintainer: c.maintainer.as_deref(),
        state: c.state.as_str(),
        survey_date: c.survey_date,
        attributes: convert::try_json("component attributes", &c.attributes)?,
        lon: c.lon,
        lat: c.lat,
        geom: pd::Point {
            x: c.lon,
            y: c.lat,
            srid: Some(convert::SRID),
        },
    })
}

fn component_from_row(r: ComponentRow) -> StoreResult<Component> {
    Ok(Component {
        state: ComponentState::parse(&r.state)
            .ok_or_else(|| bad(format!("component {}: state {:?}", r.code, r.state)))?,
        attributes: convert::json_from(&format!("component {} attributes", r.code), &r.attributes)?,
        code: r.code,
        lon: r.lon,
        lat: r.lat,
        owner: r.owner,
        maintainer: r.maintainer,
        survey_date: r.survey_date,
    })
}

fn source_str(s: BindingSource) -> &'static str {
    match s {
        BindingSource::Nearest => "nearest",
        BindingSource::Manual => "manual",
    }
}

fn source_from(id: &str, s: &str) -> StoreResult<BindingSource> {
    match s {
        "nearest" => Ok(BindingSource::Nearest),
        "manual" => Ok(BindingSource::Manual),
        _ => Err(bad(format!("shop {id}: frontage source {s:?}"))),
    }
}

/// The bounding box `[min_lon, min_lat, max_lon, max_lat]` of a shop's geometry.
fn shop_bbox(g: &ShopGeometry) -> [f64; 4] {
    match g {
        ShopGeometry::Point(x, y) => [*x, *y, *x, *y],
        ShopGeometry::Polygon(p) => p.exterior().0.iter().fold(
            [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ],
            |b, c| [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)],
        ),
    }
}

/// A shop's row, with `frontage` as its binding (the shop's own, or the manual one kept).
fn shop_row<'a>(s: &'a Shop, frontage: Option<&'a Frontage>) -> StoreResult<NewShopRow<'a>> {
    let bbox = shop_bbox(&s.geometry);
    if bbox.iter().any(|v| !v.is_finite()) {
        return Err(bad(format!(
            "shop {}: an empty or non-finite geometry",
            s.id
        )));
    }
    let geom = match &s.geometry {
        ShopGeometry::Point(x, y) => pd::GeometryContainer::Point(pd::Point {
            x: *x,
            y: *y,
            srid: Some(convert::SRID),
        }),
        ShopGeometry::Polygon(p) => {
            pd::GeometryContainer::Polygon(convert::to_pd_polygon(p, Some(convert::SRID)))
        }
    };
    Ok(NewShopRow {
        id: &s.id,
        name: &s.name,
        credit_code: s.credit_code.as_deref(),
        contact: s.contact.as_deref(),
        phone: s.phone.as_deref(),
        pledge_signed: s.pledge_signed,
        geom,
        min_lon: bbox[0],
        min_lat: bbox[1],
        max_lon: bbox[2],
        max_lat: bbox[3],
        frontage_segment: frontage.map(|f| f.segment.as_str()),
        frontage_distance_m: frontage.map(|f| f.distance_m),
        frontage_source: frontage.map(|f| source_str(f.source)),
        attributes: convert::try_json("shop attributes", &s.attributes)?,
    })
}

fn shop_from_row(r: ShopRow) -> StoreResult<Shop> {
    let geometry = match &r.geom {
        pd::GeometryContainer::Point(p) => ShopGeometry::Point(p.x, p.y),
        pd::GeometryContainer::Polygon(p) => ShopGeometry::Polygon(convert::from_pd_polygon(p)),
        _ => return Err(bad(format!("shop {}: neither a point nor a polygon", r.id))),
    };
    let frontage = match (r.frontage_segment, r.frontage_distance_m, r.frontage_source) {
        (None, None, None) => None,
        (Some(segment), Some(distance_m), Some(source)) => Some(Frontage {
            segment,
            distance_m,
            source: source_from(&r.id, &source)?,
        }),
        _ => return Err(bad(format!("shop {}: a partial frontage binding", r.id))),
    };
    Ok(Shop {
        attributes: convert::json_from(&format!("shop {} attributes", r.id), &r.attributes)?,
        id: r.id,
        name: r.name,
        credit_code: r.credit_code,
        contact: r.contact,
        phone: r.phone,
        pledge_signed: r.pledge_signed,
        geometry,
        frontage,
    })
}

fn inspection_from_row(r: InspectionRow) -> StoreResult<Inspection> {
    Ok(Inspection {
        items: convert::json_from(&format!("inspection {} items", r.id), &r.items)?,
        photos: convert::json_from(&format!("inspection {} photos", r.id), &r.photos)?,
        id: r.id,
        shop: r.shop,
        date: r.date,
        inspector: r.inspector,
    })
}

fn points_from_row(r: PointsRow) -> StoreResult<PointsEntry> {
    let reason = match (r.reason.as_str(), r.inspection_id, r.case_id, r.category) {
        ("inspection", Some(inspection), None, _) => PointsReason::Inspection { inspection },
        ("case", None, Some(case), Some(category)) => PointsReason::Case { case, category },
        (kind, ..) => return Err(bad(format!("points of shop {}: reason {kind:?}", r.shop))),
    };
    Ok(PointsEntry {
        points: u32::try_from(r.points)
            .map_err(|_| bad(format!("points of shop {}: {}", r.shop, r.points)))?,
        shop: r.shop,
        at: r.at,
        reason,
    })
}

impl Db {
    /// The manual frontage bindings stored for `ids` (every shop's when `None`), by shop id.
    fn manual_bindings(
        conn: &mut Conn,
        ids: Option<&[String]>,
    ) -> StoreResult<HashMap<String, Frontage>> {
        use schema::shops::dsl as s;
        let mut out = HashMap::new();
        for chunk in key_chunks(ids) {
            let mut q = s::shops
                .filter(s::frontage_source.eq(source_str(BindingSource::Manual)))
                .select((s::id, s::frontage_segment, s::frontage_distance_m))
                .into_boxed();
            if let Some(chunk) = chunk {
                q = q.filter(s::id.eq_any(chunk));
            }
            let rows: Vec<(String, Option<String>, Option<f64>)> = q.load(conn).map_err(db_err)?;
            for (id, segment, distance) in rows {
                let (Some(segment), Some(distance_m)) = (segment, distance) else {
                    return Err(bad(format!("shop {id}: a partial frontage binding")));
                };
                out.insert(
                    id,
                    Frontage {
                        segment,
                        distance_m,
                        source: BindingSource::Manual,
                    },
                );
            }
        }
        Ok(out)
    }
}

impl Assets for Db {
    fn put_components(&self, components: &[Component], scope: RegisterScope) -> StoreResult<()> {
        use schema::components::dsl as c;
        if let Some(code) = repeated(components.iter().map(|c| c.code.as_str())) {
            return Err(StoreError::Conflict(format!(
                "component code {code} is given twice"
            )));
        }
        let mut rows = components
            .iter()
            .map(component_row)
            .collect::<StoreResult<Vec<_>>>()?;
        // In key order, the primary key's B-tree grows at its end.
        rows.sort_unstable_by(|a, b| a.code.cmp(b.code));
        let bulk = rows.len() >= BULK_ROWS;
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            let indexes = if bulk {
                drop_indexes(conn, "components")?
            } else {
                Vec::new()
            };
            match scope {
                RegisterScope::All if bulk && BACKEND == Backend::Postgres => {
                    // A new file for the table (the dropped indexes lock it already): the index
                    // builds read the new rows only, not the deleted ones beside them.
                    diesel::sql_query("TRUNCATE components")
                        .execute(conn)
                        .map_err(db_err)?;
                }
                RegisterScope::All => {
                    diesel::delete(c::components)
                        .execute(conn)
                        .map_err(db_err)?;
                }
                RegisterScope::Upsert => {
                    for chunk in rows.chunks(ID_CHUNK) {
                        let codes: Vec<&str> = chunk.iter().map(|r| r.code).collect();
                        diesel::delete(c::components.filter(c::code.eq_any(codes)))
                            .execute(conn)
                            .map_err(db_err)?;
                    }
                }
            }
            insert_components(conn, &rows)
                .map_err(unique_conflict("a component code is given twice"))?;
            create_indexes(conn, &indexes)
        })
    }

    fn delete_components(&self, codes: &[String]) -> StoreResult<usize> {
        use schema::components::dsl as c;
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            let mut n = 0;
            for chunk in codes.chunks(ID_CHUNK) {
                n += diesel::delete(c::components.filter(c::code.eq_any(chunk)))
                    .execute(conn)
                    .map_err(db_err)?;
            }
            Ok(n)
        })
    }

    fn components(&self, query: &ComponentQuery<'_>) -> StoreResult<Vec<Component>> {
        use schema::components::dsl as c;
        let mut conn = self.conn()?;
        let mut rows: Vec<ComponentRow> = Vec::new();
        let chunks = key_chunks(query.codes);
        for codes in &chunks {
            let mut q = c::components
                .select(ComponentRow::as_select())
                .order(c::code)
                .into_boxed();
            if let Some(codes) = codes {
                q = q.filter(c::code.eq_any(*codes));
            }
            if let Some(owner) = query.owner {
                q = q.filter(c::owner.eq(owner));
            }
            if let Some(class) = query.class {
                q = q.filter(c::class.eq(class));
            }
            if let Some(subclass) = query.subclass {
                q = q.filter(c::subclass.eq(subclass));
            }
            if let Some(state) = query.state {
                q = q.filter(c::state.eq(state.as_str()));
            }
            if let Some(b @ [x0, y0, x1, y1]) = query.bbox {
                if BACKEND == Backend::Postgres {
                    q = q.filter(geom_meets(b));
                }
                q = q.filter(c::lat.between(y0, y1).and(c::lon.between(x0, x1)));
            }
            if let Some(after) = query.after {
                q = q.filter(c::code.gt(after));
            }
            if let Some(n) = limit_i64(query.limit) {
                q = q.limit(n);
            }
            rows.extend(q.load(&mut conn).map_err(db_err)?);
        }
        if chunks.len() > 1 {
            merge_runs(&mut rows, |r| &r.code, query.limit);
        }
        rows.into_iter().map(component_from_row).collect()
    }

    fn component(&self, code: &str) -> StoreResult<Option<Component>> {
        use schema::components::dsl as c;
        let mut conn = self.conn()?;
        c::components
            .filter(c::code.eq(code))
            .select(ComponentRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(db_err)?
            .map(component_from_row)
            .transpose()
    }

    fn component_count(&self) -> StoreResult<usize> {
        use schema::components::dsl as c;
        let mut conn = self.conn()?;
        let n: i64 = c::components
            .count()
            .get_result(&mut conn)
            .map_err(db_err)?;
        usize::try_from(n).map_err(|_| bad(format!("component count {n}")))
    }

    fn set_component_state(&self, code: &str, state: ComponentState) -> StoreResult<bool> {
        use schema::components::dsl as c;
        let mut conn = self.conn()?;
        let n = diesel::update(c::components.filter(c::code.eq(code)))
            .set(c::state.eq(state.as_str()))
            .execute(&mut conn)
            .map_err(db_err)?;
        Ok(n > 0)
    }

    fn all_components(
        &self,
        chunk: &mut dyn FnMut(Vec<Component>) -> StoreResult<()>,
    ) -> StoreResult<usize> {
        use schema::components::dsl as c;
        let mut conn = self.conn()?;
        snapshot_tx(&mut conn, |conn| {
            let mut total = 0;
            let mut after: Option<String> = None;
            loop {
                let mut q = c::components
                    .select(ComponentRow::as_select())
                    .order(c::code)
                    .limit(LOAD_CHUNK)
                    .into_boxed();
                if let Some(a) = &after {
                    q = q.filter(c::code.gt(a.clone()));
                }
                let rows: Vec<ComponentRow> = q.load(conn).map_err(db_err)?;
                let Some(last) = rows.last() else {
                    return Ok(total);
                };
                after = Some(last.code.clone());
                let n = rows.len();
                total += n;
                chunk(
                    rows.into_iter()
                        .map(component_from_row)
                        .collect::<StoreResult<_>>()?,
                )?;
                if i64::try_from(n).is_ok_and(|n| n < LOAD_CHUNK) {
                    return Ok(total);
                }
            }
        })
    }

    fn put_shops(&self, shops: &[Shop], scope: RegisterScope) -> StoreResult<()> {
        use schema::shops::dsl as s;
        if let Some(id) = repeated(shops.iter().map(|s| s.id.as_str())) {
            return Err(StoreError::Conflict(format!("shop {id} is given twice")));
        }
        let ids: Vec<String> = shops.iter().map(|s| s.id.clone()).collect();
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            let manual = Db::manual_bindings(
                conn,
                match scope {
                    RegisterScope::All => None,
                    RegisterScope::Upsert => Some(&ids),
                },
            )?;
            let rows = shops
                .iter()
                .map(|shop| {
                    let own = shop.frontage.as_ref();
                    let frontage = match own {
                        Some(f) if f.source == BindingSource::Manual => own,
                        _ => manual.get(&shop.id).or(own),
                    };
                    shop_row(shop, frontage)
                })
                .collect::<StoreResult<Vec<_>>>()?;
            match scope {
                RegisterScope::All => {
                    diesel::delete(s::shops).execute(conn).map_err(db_err)?;
                }
                RegisterScope::Upsert => {
                    for chunk in ids.chunks(ID_CHUNK) {
                        diesel::delete(s::shops.filter(s::id.eq_any(chunk)))
                            .execute(conn)
                            .map_err(db_err)?;
                    }
                }
            }
            for chunk in rows.chunks(SHOP_CHUNK) {
                diesel::insert_into(s::shops)
                    .values(chunk)
                    .execute(conn)
                    .map_err(unique_conflict("a shop id is given twice"))?;
            }
            Ok(())
        })
    }

    fn shops(&self, query: &ShopQuery<'_>) -> StoreResult<Vec<Shop>> {
        use schema::shops::dsl as s;
        let mut conn = self.conn()?;
        let mut rows: Vec<ShopRow> = Vec::new();
        let mut runs = 0;
        for ids in key_chunks(query.ids) {
            for segments in key_chunks(query.segments) {
                runs += 1;
                let mut q = s::shops
                    .select(ShopRow::as_select())
                    .order(s::id)
                    .into_boxed();
                if let Some(ids) = ids {
                    q = q.filter(s::id.eq_any(ids));
                }
                if let Some(segments) = segments {
                    q = q.filter(s::frontage_segment.eq_any(segments));
                }
                if let Some(b @ [x0, y0, x1, y1]) = query.bbox {
                    if BACKEND == Backend::Postgres {
                        q = q.filter(geom_meets(b));
                    }
                    q = q.filter(
                        s::max_lon
                            .ge(x0)
                            .and(s::min_lon.le(x1))
                            .and(s::max_lat.ge(y0))
                            .and(s::min_lat.le(y1)),
                    );
                }
                if let Some(after) = query.after {
                    q = q.filter(s::id.gt(after));
                }
                if let Some(n) = limit_i64(query.limit) {
                    q = q.limit(n);
                }
                rows.extend(q.load(&mut conn).map_err(db_err)?);
            }
        }
        if runs > 1 {
            merge_runs(&mut rows, |r| &r.id, query.limit);
        }
        rows.into_iter().map(shop_from_row).collect()
    }

    fn shop(&self, id: &str) -> StoreResult<Option<Shop>> {
        use schema::shops::dsl as s;
        let mut conn = self.conn()?;
        s::shops
            .filter(s::id.eq(id))
            .select(ShopRow::as_select())
            .first(&mut conn)
            .optional()
            .map_err(db_err)?
            .map(shop_from_row)
            .transpose()
    }

    fn set_frontage(&self, id: &str, frontage: Option<&Frontage>) -> StoreResult<bool> {
        use schema::shops::dsl as s;
        let mut conn = self.conn()?;
        let n = diesel::update(s::shops.filter(s::id.eq(id)))
            .set((
                s::frontage_segment.eq(frontage.map(|f| f.segment.as_str())),
                s::frontage_distance_m.eq(frontage.map(|f| f.distance_m)),
                s::frontage_source.eq(frontage.map(|f| source_str(f.source))),
            ))
            .execute(&mut conn)
            .map_err(db_err)?;
        Ok(n > 0)
    }

    fn delete_shops(&self, ids: &[String]) -> StoreResult<usize> {
        use schema::shops::dsl as s;
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            let mut n = 0;
            for chunk in ids.chunks(ID_CHUNK) {
                n += diesel::delete(s::shops.filter(s::id.eq_any(chunk)))
                    .execute(conn)
                    .map_err(db_err)?;
            }
            Ok(n)
        })
    }

    fn add_inspection(
        &self,
        i: &Inspection,
        points: Option<(DateTime<Utc>, u32)>,
    ) -> StoreResult<i64> {
        use schema::shop_inspections::dsl as k;
        use schema::shop_points::dsl as p;
        let row = NewInspectionRow {
            shop: &i.shop,
            date: i.date,
            inspector: &i.inspector,
            items: convert::try_json("inspection items", &i.items)?,
            photos: convert::try_json("inspection photos", &i.photos)?,
        };
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            let id: i64 = diesel::insert_into(k::shop_inspections)
                .values(&row)
                .returning(k::id)
                .get_result(conn)
                .map_err(db_err)?;
            if let Some((at, n)) = points.filter(|(_, n)| *n > 0) {
                diesel::insert_into(p::shop_points)
                    .values(&NewPointsRow {
                        shop: &i.shop,
                        at,
                        points: i64::from(n),
                        reason: "inspection",
                        inspection_id: Some(id),
                        case_id: None,
                        category: None,
                    })
                    .execute(conn)
                    .map_err(db_err)?;
            }
            Ok(id)
        })
    }

    fn inspections(
        &self,
        shop: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Inspection>> {
        use schema::shop_inspections::dsl as k;
        let mut conn = self.conn()?;
        let mut q = k::shop_inspections
            .filter(k::date.between(from, to))
            .select(InspectionRow::as_select())
            .order((k::date, k::id))
            .into_boxed();
        if let Some(shop) = shop {
            q = q.filter(k::shop.eq(shop));
        }
        q.load(&mut conn)
            .map_err(db_err)?
            .into_iter()
            .map(inspection_from_row)
            .collect()
    }

    fn add_points(&self, e: &PointsEntry) -> StoreResult<bool> {
        use schema::shop_points::dsl as p;
        let row = match &e.reason {
            PointsReason::Inspection { inspection } => NewPointsRow {
                shop: &e.shop,
                at: e.at,
                points: i64::from(e.points),
                reason: "inspection",
                inspection_id: Some(*inspection),
                case_id: None,
                category: None,
            },
            PointsReason::Case { case, category } => NewPointsRow {
                shop: &e.shop,
                at: e.at,
                points: i64::from(e.points),
                reason: "case",
                inspection_id: None,
                case_id: Some(*case),
                category: Some(category),
            },
        };
        let mut conn = self.conn()?;
        // The unique index on (shop, case_id) decides, so that two confirmations at once add one.
        let n = diesel::insert_into(p::shop_points)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .map_err(db_err)?;
        Ok(n > 0)
    }

    fn points(&self, shop: Option<&str>, since: DateTime<Utc>) -> StoreResult<Vec<PointsEntry>> {
        use schema::shop_points::dsl as p;
        let mut conn = self.conn()?;
        let mut q = p::shop_points
            .filter(p::at.ge(since))
            .select(PointsRow::as_select())
            .order((p::at, p::id))
            .into_boxed();
        if let Some(shop) = shop {
            q = q.filter(p::shop.eq(shop));
        }
        q.load(&mut conn)
            .map_err(db_err)?
            .into_iter()
            .map(points_from_row)
            .collect()
    }

    fn points_of(&self, shops: &[String], since: DateTime<Utc>) -> StoreResult<Vec<PointsEntry>> {
        use schema::shop_points::dsl as p;
        let mut conn = self.conn()?;
        let mut out = Vec::new();
        for chunk in shops.chunks(ID_CHUNK) {
            let rows: Vec<PointsRow> = p::shop_points
                .filter(p::shop.eq_any(chunk))
                .filter(p::at.ge(since))
                .select(PointsRow::as_select())
                .order((p::shop, p::at, p::id))
                .load(&mut conn)
                .map_err(db_err)?;
            for r in rows {
                out.push(points_from_row(r)?);
            }
        }
        Ok(out)
    }
}
