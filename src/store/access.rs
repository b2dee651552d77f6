//! The access aggregate: API tokens ([`Access`], [`Token`]). Only the SHA-256 of a token's
//! secret is stored ([`secret_hash`]); roles and scopes are interpreted by the HTTP layer.
//!
//! Table: `tokens`.

use super::StoreResult;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// An API token (the secret itself is never stored, only its SHA-256).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Token {
    /// Identifier.
    pub id: i64,
    /// Role (e.g. `admin`, `planner`; interpreted by the HTTP layer).
    pub role: String,
    /// Streets the token may act on (a planner with none may change no street; an admin's
    /// scope is everything whatever this says).
    pub streets: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// When it stops working (`None`: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (to the minute; `None`: never).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Grids a `grid_worker` token acts for.
    pub grids: Vec<String>,
    /// The department (or management unit) a `department` token acts for.
    pub department: Option<String>,
    /// The person holding it, recorded on every case event it makes.
    pub subject: Option<String>,
}

/// What a new token may do and for whom (its role and scope).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenSpec {
    /// Role.
    pub role: String,
    /// Streets (`*`: every street of the district).
    pub streets: Vec<String>,
    /// Grids (grid workers).
    pub grids: Vec<String>,
    /// Department (department tokens).
    pub department: Option<String>,
    /// The person holding it.
    pub subject: Option<String>,
    /// When it stops working (`None`: never).
    pub expires_at: Option<DateTime<Utc>>,
}

impl Token {
    /// Whether the token is expired at `now`.
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// API tokens: create, look up by secret, list, revoke, record use.
pub trait Access {
    /// Stores a token that never expires; returns its id. Only the SHA-256 of `secret` is kept.
    fn create_token(&self, role: &str, streets: &[String], secret: &str) -> StoreResult<i64> {
        self.create_token_until(role, streets, secret, None)
    }

    /// Stores a token valid until `expires_at` (`None`: never); returns its id. Only the SHA-256
    /// of `secret` is kept.
    fn create_token_until(
        &self,
        role: &str,
        streets: &[String],
        secret: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<i64> {
        self.create_token_with(
            &TokenSpec {
                role: role.to_owned(),
                streets: streets.to_vec(),
                expires_at,
                ..TokenSpec::default()
            },
            secret,
        )
    }

    /// Stores a token of `spec`; returns its id. Only the SHA-256 of `secret` is kept.
    fn create_token_with(&self, spec: &TokenSpec, secret: &str) -> StoreResult<i64>;

    /// Records that token `id` was used at `at` (written at most once a minute per token).
    fn touch_token(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        self.touch_tokens(&[(id, at)])
    }

    /// Records the last uses of several tokens in one transaction (each written only when its
    /// stored last use is more than a minute older; unknown ids are ignored).
    fn touch_tokens(&self, uses: &[(i64, DateTime<Utc>)]) -> StoreResult<()>;

    /// The token whose secret is `secret`, revoked or not.
    fn token_by_secret(&self, secret: &str) -> StoreResult<Option<Token>>;

    /// All tokens.
    fn list_tokens(&self) -> StoreResult<Vec<Token>>;

    /// Revokes a token.
    fn revoke_token(&self, id: i64) -> StoreResult<()>;
}

/// SHA-256 of a token secret, lower-case hex.
pub fn secret_hash(secret: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_is_sha256_hex() {
        assert_eq!(
            secret_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
