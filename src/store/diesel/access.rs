//! Access in diesel: API tokens (hashed secrets, expiry, last use).

use super::*;

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
    grids: String,
    department: Option<String>,
    subject: Option<String>,
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
    grids: String,
    department: Option<&'a str>,
    subject: Option<&'a str>,
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
        grids: convert::json_from("token grids", &row.grids)?,
        department: row.department,
        subject: row.subject,
    })
}

impl Access for Db {
    fn create_token_with(&self, spec: &crate::store::TokenSpec, secret: &str) -> StoreResult<i64> {
        use schema::tokens::dsl as t;
        let mut conn = self.conn()?;
        diesel::insert_into(t::tokens)
            .values(&NewTokenRow {
                role: &spec.role,
                streets: convert::try_json("token streets", &spec.streets)?,
                secret_sha256: crate::store::secret_hash(secret),
                created_at: Utc::now(),
                revoked: false,
                expires_at: spec.expires_at,
                grids: convert::try_json("token grids", &spec.grids)?,
                department: spec.department.as_deref(),
                subject: spec.subject.as_deref(),
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
            .filter(t::secret_sha256.eq(crate::store::secret_hash(secret)))
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

    fn touch_tokens(&self, uses: &[(i64, DateTime<Utc>)]) -> StoreResult<()> {
        use schema::tokens::dsl as t;
        if uses.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            for &(id, at) in uses {
                // At most one write a minute per token, however many requests it makes.
                let stale = at - chrono::Duration::seconds(60);
                diesel::update(
                    t::tokens
                        .find(id)
                        .filter(t::last_used_at.is_null().or(t::last_used_at.lt(stale))),
                )
                .set(t::last_used_at.eq(Some(at)))
                .execute(conn)
                .map_err(db_err)?;
            }
            Ok(())
        })
    }
}
