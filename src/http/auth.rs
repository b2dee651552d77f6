//! The bearer token of a request: `Authorization: Bearer <token>`, verified by the service layer
//! ([`crate::service::access`]: roles, street scopes, expiry, tokens stored as SHA-256 hashes).

use super::AppState;
use super::error::ApiError;
use axum::http::{HeaderMap, header};

pub use crate::service::access::{Caller, Role, new_secret};

/// Verifies the bearer token of a request and that it has `role`.
pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    role: Role,
) -> Result<Caller, ApiError> {
    require_any(state, headers, &[role]).await
}

/// Verifies the bearer token of a request and that it has one of `roles`.
pub async fn require_any(
    state: &AppState,
    headers: &HeaderMap,
    roles: &[Role],
) -> Result<Caller, ApiError> {
    let roles = roles.to_vec();
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("this request needs `Authorization: Bearer <token>` (create one with `gridatlas token create`)"))?;
    let secret = bearer_secret(auth)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <token>`"))?
        .to_owned();
    let store = state.store()?;
    let s = state.clone();
    state
        .blocking(move || {
            crate::service::access::authenticate(store.as_ref(), s.token_uses(), &secret, &roles)
        })
        .await
}

/// The secret of an `Authorization` value `Bearer <token>`: the scheme in any case (RFC 7235
/// §2.1), one or more spaces, a non-empty token.
fn bearer_secret(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim_start().split_once(' ')?;
    let secret = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

#[cfg(test)]
mod tests {
    use super::bearer_secret;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "BeArEr   abc ",
            " Bearer abc",
        ] {
            assert_eq!(bearer_secret(v), Some("abc"), "{v:?}");
        }
        for v in [
            "Basic abc",
            "Bearer",
            "Bearer ",
            "Bearerabc",
            "",
            "Token abc",
        ] {
            assert_eq!(bearer_secret(v), None, "{v:?}");
        }
    }
}
