//! Case categories in diesel: the task list, replaced as a whole.

use super::*;

impl Categories for Db {
    fn replace_categories(&self, categories: &[Category]) -> StoreResult<()> {
        self.replace_categories_impl(categories)
    }

    fn categories(&self) -> StoreResult<Vec<Category>> {
        self.categories_impl()
    }

    fn replace_setting(&self, key: Setting, json: &str) -> StoreResult<()> {
        use schema::settings::dsl as s;
        let mut conn = self.conn()?;
        let now = Utc::now();
        case_tx(&mut conn, |conn| {
            diesel::delete(s::settings.filter(s::key.eq(key.key())))
                .execute(conn)
                .map_err(db_err)?;
            diesel::insert_into(s::settings)
                .values((
                    s::key.eq(key.key()),
                    s::body.eq(json),
                    s::updated_at.eq(now),
                ))
                .execute(conn)
                .map_err(db_err)?;
            Ok(())
        })
    }

    fn setting(&self, key: Setting) -> StoreResult<Option<String>> {
        setting_on(&mut *self.conn()?, key)
    }
}

/// A stored setting's body, on a connection the caller holds.
pub(super) fn setting_on(conn: &mut Conn, key: Setting) -> StoreResult<Option<String>> {
    use schema::settings::dsl as s;
    s::settings
        .filter(s::key.eq(key.key()))
        .select(s::body)
        .first(conn)
        .optional()
        .map_err(db_err)
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::categories)]
struct CategoryRow {
    code: String,
    position: i32,
    body: String,
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
}
