//! Retried requests (`Idempotency-Key`, draft-ietf-httpapi-idempotency-key-header): a phone that
//! queued a case, an action, a check-in or a fix batch while offline sends it again when the
//! network returns, with the key it chose; a request whose answer was lost is answered again, not
//! applied twice.
//!
//! 1. [`parse_key`]: the key is 1 to [`MAX_KEY_CHARS`] printable ASCII characters (400 naming the
//!    header otherwise).
//! 2. [`claim`]: the key is the token's (never shared between tokens), for one request: its route
//!    (method and path, with the query) and the SHA-256 of its body.
//! 3. [`earlier`], before the work: a live record of the key is the earlier answer to replay when
//!    the request is the same, and 422 when it is not.
//! 4. The keyed write ([`crate::store::KeyWrite`]) records the key with the answer in the
//!    transaction of the effect; a request that raced with the same key gets the winner's answer
//!    ([`outcome`]). A refused request writes nothing and leaves the key unused.
//! 5. [`purge`]: records older than the time to live (24 h by default) are deleted, a bounded
//!    number per run.

use super::access::Caller;
use super::{Error, Result};
use crate::store::{Answer, KeyClaim, KeyRecord, Keyed, Store, StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// The response header marking a replayed answer.
pub const REPLAYED: &str = "Idempotent-Replayed";
/// Most characters of a key.
pub const MAX_KEY_CHARS: usize = 128;
/// Records deleted per transaction of a purge.
pub const PURGE_BATCH: usize = 5_000;
/// Transactions per purge run: a run deletes at most `PURGE_BATCH * PURGE_BATCHES` records.
pub const PURGE_BATCHES: usize = 10;

/// Checks the value of an `Idempotency-Key` header: 1 to [`MAX_KEY_CHARS`] printable ASCII
/// characters (a UUID typically); 400 naming the header otherwise.
pub fn parse_key(raw: &[u8]) -> Result<String> {
    let bad = |why: &str| {
        Error::invalid_parameter(
            HEADER,
            format!("{why}; send 1 to {MAX_KEY_CHARS} printable ASCII characters (a UUID)"),
        )
    };
    if raw.is_empty() {
        return Err(bad("the key is empty"));
    }
    if raw.len() > MAX_KEY_CHARS {
        return Err(bad(&format!("the key has {} characters", raw.len())));
    }
    if !raw.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(bad("the key has a character that is not printable ASCII"));
    }
    String::from_utf8(raw.to_vec()).map_err(|_| bad("the key is not ASCII"))
}

/// SHA-256 of a request body, lowercase hex.
pub fn body_sha256(body: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The claim of `caller` on `key` for the request `route` with `body`, made at `now`; records
/// older than `ttl` have expired. Needs a token (the key is the token's).
pub fn claim(
    caller: &Caller,
    key: String,
    route: String,
    body: &[u8],
    now: DateTime<Utc>,
    ttl: std::time::Duration,
) -> Result<KeyClaim> {
    let principal = caller
        .token
        .as_ref()
        .map(|t| t.id)
        .ok_or_else(|| Error::bad_request(format!("{HEADER} needs a bearer token")))?;
    let ttl = Duration::from_std(ttl).unwrap_or(Duration::MAX);
    Ok(KeyClaim {
        principal,
        key,
        route,
        request_sha256: body_sha256(body),
        now,
        fresh_after: now
            .checked_sub_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    })
}

/// An earlier answer, to be given again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// HTTP status of the first answer.
    pub status: u16,
    /// Its JSON body.
    pub body: String,
    /// The resource it made or changed.
    pub resource_id: Option<i64>,
}

/// What a keyed request did: its effect now, or an earlier answer.
#[derive(Debug, Clone)]
pub enum Outcome<T> {
    /// Done now.
    Done(T),
    /// Done before: the answer then.
    Replay(Replay),
}

impl<T> Outcome<T> {
    /// The result of a request made without a key (which is never a replay).
    pub fn done(self) -> Result<T> {
        match self {
            Outcome::Done(t) => Ok(t),
            Outcome::Replay(_) => Err(Error::internal("a request without a key was replayed")),
        }
    }
}

/// The earlier answer of `record` to the request of `claim`: 422 when the key was used for a
/// different request (another route or body).
fn replay_of(claim: &KeyClaim, record: KeyRecord) -> Result<Replay> {
    if record.route != claim.route || record.request_sha256 != claim.request_sha256 {
        let what = if record.route == claim.route {
            "a different body".to_owned()
        } else {
            record.route.clone()
        };
        return Err(Error::unprocessable(format!(
            "{HEADER} {:?} was used for a different request ({what}) within the last day; use a new key for a new request",
            claim.key
        ))
        .with_extra(serde_json::json!({"header": HEADER})));
    }
    Ok(Replay {
        status: record.answer.status,
        body: record.answer.body,
        resource_id: record.answer.resource_id,
    })
}

/// Before the work of a keyed request: the earlier answer to it, if its key was used (and has
/// not expired); 422 if the key was used for a different request.
pub fn earlier(store: &dyn Store, claim: Option<&KeyClaim>) -> Result<Option<Replay>> {
    let Some(claim) = claim else {
        return Ok(None);
    };
    match store.idempotency_key(claim.principal, &claim.key)? {
        Some(r) if r.created_at >= claim.fresh_after => replay_of(claim, r).map(Some),
        _ => Ok(None),
    }
}

/// The outcome of a keyed write: its result, or the answer of the request that used the key
/// first (422 if that was a different request).
pub fn outcome<T>(claim: Option<&KeyClaim>, written: Keyed<T>) -> Result<Outcome<T>> {
    match (written, claim) {
        (Keyed::Done(t), _) => Ok(Outcome::Done(t)),
        (Keyed::Replay(r), Some(claim)) => replay_of(claim, r).map(Outcome::Replay),
        (Keyed::Replay(_), None) => Err(Error::internal("a write without a key was replayed")),
    }
}

/// The answer to record: `status` and `body` as JSON.
pub fn answer<T: Serialize>(
    status: u16,
    body: &T,
    resource_id: Option<i64>,
) -> StoreResult<Answer> {
    Ok(Answer {
        status,
        body: serde_json::to_string(body)
            .map_err(|e| StoreError::Data(format!("an answer as JSON: {e}")))?,
        resource_id,
    })
}

/// Deletes the records older than `ttl` at `now`, at most [`PURGE_BATCH`] per transaction and
/// [`PURGE_BATCHES`] transactions; returns how many went.
pub fn purge(store: &dyn Store, now: DateTime<Utc>, ttl: std::time::Duration) -> Result<usize> {
    let ttl = Duration::from_std(ttl).unwrap_or(Duration::MAX);
    let before = now
        .checked_sub_signed(ttl)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut total = 0;
    for _ in 0..PURGE_BATCHES {
        let n = store.purge_idempotency_keys(before, PURGE_BATCH)?;
        total += n;
        if n < PURGE_BATCH {
            break;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_printable_ascii_of_1_to_128() {
        assert_eq!(
            parse_key(b"8e0f2f36-3a55-4bd4-9b0e-3c1b4cf0a9d1")
                .ok()
                .as_deref(),
            Some("8e0f2f36-3a55-4bd4-9b0e-3c1b4cf0a9d1")
        );
        assert!(parse_key(b" x ~").is_ok());
        assert!(parse_key(&[b'a'; 128]).is_ok());
        for bad in [
            &b""[..],
            &[b'a'; 129][..],
            "é".as_bytes(),
            b"a\tb",
            b"a\x7fb",
            b"\x00",
        ] {
            let e = parse_key(bad).err().map(|e| e.detail);
            assert!(
                e.as_deref().is_some_and(|d| d.contains(HEADER)),
                "{bad:?}: {e:?}"
            );
        }
    }

    #[test]
    fn a_key_used_for_another_request_is_refused() {
        let now = Utc::now();
        let claim = KeyClaim {
            principal: 1,
            key: "k".into(),
            route: "POST /api/v1/cases".into(),
            request_sha256: body_sha256(b"{}"),
            now,
            fresh_after: now - Duration::hours(24),
        };
        let record = |route: &str, body: &[u8]| KeyRecord {
            route: route.into(),
            request_sha256: body_sha256(body),
            answer: Answer {
                status: 201,
                body: "{}".into(),
                resource_id: Some(7),
            },
            created_at: now,
        };
        assert_eq!(
            replay_of(&claim, record("POST /api/v1/cases", b"{}"))
                .ok()
                .map(|r| (r.status, r.resource_id)),
            Some((201, Some(7)))
        );
        for (route, body) in [
            ("POST /api/v1/cases", &b"{ }"[..]),
            ("POST /api/v1/checkins", b"{}"),
        ] {
            let e = replay_of(&claim, record(route, body)).err();
            assert!(
                e.as_ref()
                    .is_some_and(|e| e.detail.contains("was used for a different request")),
                "{e:?}"
            );
        }
    }
}
