//! The photos of cases ([`Photos`]): one row of metadata per photo; the bytes live in the photo
//! store ([`super::objects`]) under the row's keys.
//!
//! Table: `case_photos`.

use super::{KeyWrite, Keyed, StoreResult};
use crate::cases::photos::Photo;

/// Case photos' metadata.
pub trait Photos {
    /// Records `photo` (its `id` is ignored) in a write transaction with the case's row locked,
    /// unless the case has `max_per_case` photos already
    /// ([`StoreError::Conflict`](super::StoreError::Conflict)) or does not exist
    /// ([`StoreError::NotFound`](super::StoreError::NotFound)); the stored photo with its id.
    fn add_photo(&self, photo: &Photo, max_per_case: usize) -> StoreResult<Photo> {
        match self.add_photo_keyed(photo, max_per_case, None)? {
            Keyed::Done(p) => Ok(p),
            Keyed::Replay(_) => Err(super::StoreError::Data(
                "a photo without a key was answered by a key".into(),
            )),
        }
    }

    /// [`Photos::add_photo`] with an idempotency key, recorded in the same transaction: a key
    /// already used gives its record and writes nothing.
    fn add_photo_keyed(
        &self,
        photo: &Photo,
        max_per_case: usize,
        key: Option<&KeyWrite<'_, Photo>>,
    ) -> StoreResult<Keyed<Photo>>;

    /// The photos of case `case_id`, oldest first.
    fn case_photos(&self, case_id: i64) -> StoreResult<Vec<Photo>>;

    /// Photo `id` of case `case_id` ([`StoreError::NotFound`](super::StoreError::NotFound)
    /// when the case has no such photo).
    fn case_photo(&self, case_id: i64, id: i64) -> StoreResult<Photo>;
}
