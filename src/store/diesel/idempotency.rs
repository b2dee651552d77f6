//! Idempotency keys in diesel: the record of a key read and written inside the transaction of a
//! keyed write (before the effect: a live record means replay; after it: the record inserted,
//! the primary key deciding a race), and the bounded purge of expired records.

use super::*;
use crate::store::{Answer, Idempotency, KeyClaim, KeyRecord, KeyWrite, Keyed};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schema::idempotency_keys)]
struct KeyRow {
    principal: i64,
    idem_key: String,
    route: String,
    request_sha256: String,
    status: i32,
    body: String,
    resource_id: Option<i64>,
    created_at: DateTime<Utc>,
}

fn record_of(r: KeyRow) -> StoreResult<KeyRecord> {
    Ok(KeyRecord {
        answer: Answer {
            status: u16::try_from(r.status).map_err(|_| {
                StoreError::Data(format!(
                    "idempotency key {:?}: status {}",
                    r.idem_key, r.status
                ))
            })?,
            body: r.body,
            resource_id: r.resource_id,
        },
        route: r.route,
        request_sha256: r.request_sha256,
        created_at: r.created_at,
    })
}

fn find(conn: &mut Conn, principal: i64, key: &str) -> StoreResult<Option<KeyRecord>> {
    use schema::idempotency_keys::dsl as k;
    k::idempotency_keys
        .filter(k::principal.eq(principal).and(k::idem_key.eq(key)))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()
        .map_err(db_err)?
        .map(record_of)
        .transpose()
}

/// In a keyed write's transaction, before its effect: the live record of the claimed key (the
/// effect is then not written). An expired record is deleted, so the key can be used again.
pub(super) fn replay_of(
    conn: &mut Conn,
    claim: Option<&KeyClaim>,
) -> StoreResult<Option<KeyRecord>> {
    use schema::idempotency_keys::dsl as k;
    let Some(claim) = claim else {
        return Ok(None);
    };
    match find(conn, claim.principal, &claim.key)? {
        Some(r) if r.created_at >= claim.fresh_after => Ok(Some(r)),
        Some(_) => {
            diesel::delete(
                k::idempotency_keys
                    .filter(k::principal.eq(claim.principal))
                    .filter(k::idem_key.eq(&claim.key)),
            )
            .execute(conn)
            .map_err(db_err)?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// In a keyed write's transaction, after its effect: records the key with the answer made from
/// `done`. A record inserted meanwhile by another transaction gives [`StoreError::KeyTaken`],
/// which rolls this transaction (the effect with it) back.
pub(super) fn record<T: ?Sized>(
    conn: &mut Conn,
    key: Option<&KeyWrite<'_, T>>,
    done: &T,
) -> StoreResult<()> {
    use schema::idempotency_keys::dsl as k;
    let Some(key) = key else {
        return Ok(());
    };
    let answer = (key.answer)(done)?;
    let claim = key.claim;
    diesel::insert_into(k::idempotency_keys)
        .values(&KeyRow {
            principal: claim.principal,
            idem_key: claim.key.clone(),
            route: claim.route.clone(),
            request_sha256: claim.request_sha256.clone(),
            status: i32::from(answer.status),
            body: answer.body,
            resource_id: answer.resource_id,
            created_at: chrono::SubsecRound::trunc_subsecs(claim.now, 6),
        })
        .execute(conn)
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ) => StoreError::KeyTaken(claim.key.clone()),
            e => db_err(e),
        })?;
    Ok(())
}

/// After a keyed write's transaction: when it lost the race for its key
/// ([`StoreError::KeyTaken`], nothing written), the winner's record to replay.
pub(super) fn settle<T>(
    conn: &mut Conn,
    claim: Option<&KeyClaim>,
    result: StoreResult<Keyed<T>>,
) -> StoreResult<Keyed<T>> {
    match (result, claim) {
        (Err(StoreError::KeyTaken(key)), Some(claim)) => {
            match find(conn, claim.principal, &claim.key)? {
                Some(r) => Ok(Keyed::Replay(r)),
                None => Err(StoreError::KeyTaken(key)),
            }
        }
        (result, _) => result,
    }
}

impl Idempotency for Db {
    fn idempotency_key(&self, principal: i64, key: &str) -> StoreResult<Option<KeyRecord>> {
        let mut conn = self.conn()?;
        find(&mut conn, principal, key)
    }

    fn purge_idempotency_keys(&self, before: DateTime<Utc>, limit: usize) -> StoreResult<usize> {
        use schema::idempotency_keys::dsl as k;
        if limit == 0 {
            return Ok(0);
        }
        let mut conn = self.conn()?;
        case_tx(&mut conn, |conn| {
            // the creation time of the `limit`-th oldest expired record bounds this run (records
            // created in the same microsecond as it go with it)
            let last: Option<DateTime<Utc>> = k::idempotency_keys
                .filter(k::created_at.lt(before))
                .order(k::created_at)
                .offset(i64::try_from(limit - 1).unwrap_or(i64::MAX))
                .select(k::created_at)
                .first(conn)
                .optional()
                .map_err(db_err)?;
            let doomed = k::idempotency_keys.filter(k::created_at.lt(before));
            match last {
                None => diesel::delete(doomed).execute(conn),
                Some(last) => diesel::delete(doomed.filter(k::created_at.le(last))).execute(conn),
            }
            .map_err(db_err)
        })
    }
}
