//! Case photos in diesel: one row per photo, added with the case's row locked so that the
//! count per case holds under concurrent uploads.

use super::*;
use crate::cases::photos::{Photo, PhotoKind};
use crate::store::photos::Photos;
use crate::store::{KeyWrite, Keyed};

#[derive(Queryable, Selectable)]
#[diesel(table_name = schema::case_photos)]
struct PhotoRow {
    id: i64,
    case_id: i64,
    kind: String,
    object_key: String,
    thumb_key: String,
    content_type: String,
    bytes: i64,
    width: i32,
    height: i32,
    sha256: String,
    taken_at: Option<String>,
    uploaded_at: DateTime<Utc>,
    uploaded_by: String,
}

#[derive(Insertable)]
#[diesel(table_name = schema::case_photos, treat_none_as_default_value = false)]
struct NewPhotoRow<'a> {
    case_id: i64,
    kind: &'a str,
    object_key: &'a str,
    thumb_key: &'a str,
    content_type: &'a str,
    bytes: i64,
    width: i32,
    height: i32,
    sha256: &'a str,
    taken_at: Option<&'a str>,
    uploaded_at: DateTime<Utc>,
    uploaded_by: &'a str,
}

impl PhotoRow {
    fn photo(self) -> StoreResult<Photo> {
        let dim = |v: i32, what: &str| {
            u32::try_from(v).map_err(|_| StoreError::Data(format!("photo {}: {what} {v}", self.id)))
        };
        Ok(Photo {
            id: self.id,
            case_id: self.case_id,
            kind: self
                .kind
                .parse::<PhotoKind>()
                .map_err(|e| StoreError::Data(format!("photo {}: {e}", self.id)))?,
            width: dim(self.width, "width")?,
            height: dim(self.height, "height")?,
            object_key: self.object_key,
            thumb_key: self.thumb_key,
            content_type: self.content_type,
            bytes: self.bytes,
            sha256: self.sha256,
            taken_at: self.taken_at,
            uploaded_at: self.uploaded_at,
            uploaded_by: self.uploaded_by,
        })
    }
}

impl Photos for Db {
    fn add_photo_keyed(
        &self,
        photo: &Photo,
        max_per_case: usize,
        key: Option<&KeyWrite<'_, Photo>>,
    ) -> StoreResult<Keyed<Photo>> {
        use schema::case_photos::dsl as p;
        use schema::cases::dsl as c;
        let dim = |v: u32, what: &str| {
            i32::try_from(v).map_err(|_| StoreError::InvalidDraft(format!("photo {what} {v}")))
        };
        let row = NewPhotoRow {
            case_id: photo.case_id,
            kind: photo.kind.as_str(),
            object_key: &photo.object_key,
            thumb_key: &photo.thumb_key,
            content_type: &photo.content_type,
            bytes: photo.bytes,
            width: dim(photo.width, "width")?,
            height: dim(photo.height, "height")?,
            sha256: &photo.sha256,
            taken_at: photo.taken_at.as_deref(),
            // microseconds: what both databases keep
            uploaded_at: DateTime::from_timestamp_micros(photo.uploaded_at.timestamp_micros())
                .unwrap_or(photo.uploaded_at),
            uploaded_by: &photo.uploaded_by,
        };
        let case_id = photo.case_id;
        let claim = key.map(|k| k.claim);
        let mut conn = self.conn()?;
        let written = case_tx(&mut conn, |conn| {
            lock_case(conn, case_id)?;
            if let Some(r) = idempotency::replay_of(conn, claim)? {
                return Ok(Keyed::Replay(r));
            }
            let exists: i64 = c::cases
                .filter(c::id.eq(case_id))
                .count()
                .get_result(conn)
                .map_err(db_err)?;
            if exists == 0 {
                return Err(StoreError::NotFound(format!("case {case_id}")));
            }
            let n: i64 = p::case_photos
                .filter(p::case_id.eq(case_id))
                .count()
                .get_result(conn)
                .map_err(db_err)?;
            if usize::try_from(n).unwrap_or(usize::MAX) >= max_per_case {
                return Err(StoreError::Conflict(format!(
                    "case {case_id} has {n} photos, the most a case may have ({max_per_case})"
                )));
            }
            let stored = diesel::insert_into(p::case_photos)
                .values(&row)
                .returning(PhotoRow::as_returning())
                .get_result::<PhotoRow>(conn)
                .map_err(db_err)?
                .photo()?;
            idempotency::record(conn, key, &stored)?;
            Ok(Keyed::Done(stored))
        });
        idempotency::settle(&mut conn, claim, written)
    }

    fn case_photos(&self, case_id: i64) -> StoreResult<Vec<Photo>> {
        use schema::case_photos::dsl as p;
        let mut conn = self.conn()?;
        p::case_photos
            .filter(p::case_id.eq(case_id))
            .order(p::id)
            .select(PhotoRow::as_select())
            .load::<PhotoRow>(&mut conn)
            .map_err(db_err)?
            .into_iter()
            .map(PhotoRow::photo)
            .collect()
    }

    fn case_photo(&self, case_id: i64, id: i64) -> StoreResult<Photo> {
        use schema::case_photos::dsl as p;
        let mut conn = self.conn()?;
        p::case_photos
            .filter(p::case_id.eq(case_id).and(p::id.eq(id)))
            .select(PhotoRow::as_select())
            .first::<PhotoRow>(&mut conn)
            .optional()
            .map_err(db_err)?
            .ok_or_else(|| StoreError::NotFound(format!("photo {id} of case {case_id}")))?
            .photo()
    }
}
