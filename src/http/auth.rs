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

/// The caller the edge verified for this request (it puts the [`Caller`] in the request's
/// extensions before the body is read: [`super::edge`]), checked again for `roles`; when the
/// edge did not verify one (a route without a role in its policy), the bearer token is verified
/// here. Saves the second token lookup and blocking hand-off of the busiest writes (check-ins,
/// fixes) without trusting the edge's role check alone.
pub async fn require_verified(
    state: &AppState,
    headers: &HeaderMap,
    verified: Option<Caller>,
    roles: &[Role],
) -> Result<Caller, ApiError> {
    match verified {
        Some(caller) => {
            caller.require_any(roles)?;
            Ok(caller)
        }
        None => require_any(state, headers, roles).await,
    }
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
    use super::{Caller, Role, bearer_secret, require_verified};
    use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

    fn worker() -> Caller {
        Caller::with_token(crate::store::Token {
            id: 7,
            role: "grid_worker".into(),
            streets: vec!["310116001".into()],
            created_at: chrono::Utc::now(),
            revoked: false,
            expires_at: None,
            last_used_at: None,
            grids: vec![],
            department: None,
            subject: Some("P0001".into()),
        })
    }

    /// The edge's caller is used without a token lookup (this state has no store, so a lookup
    /// could only fail) and its role checked again; without one the token is verified, so a
    /// request the edge did not check is never let through on its headers alone.
    #[tokio::test]
    async fn the_edge_caller_is_checked_again_and_never_assumed() {
        let atlas = crate::atlas::Atlas::build(crate::model::FeatureSet::default());
        let state = super::AppState::new(atlas, crate::http::ServeConfig::default());
        let none = HeaderMap::new();
        let got = require_verified(&state, &none, Some(worker()), &[Role::GridWorker])
            .await
            .expect("the edge's caller");
        assert_eq!(got.token.as_ref().map(|t| t.id), Some(7));
        let e = require_verified(&state, &none, Some(worker()), &[Role::Admin])
            .await
            .expect_err("a grid worker is not an admin");
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        let e = require_verified(&state, &none, None, &[Role::GridWorker])
            .await
            .expect_err("no edge caller and no token");
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        let mut bearer = HeaderMap::new();
        bearer.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        let e = require_verified(&state, &bearer, None, &[Role::GridWorker])
            .await
            .expect_err("a token that cannot be verified (no store)");
        assert!(e.status.is_server_error(), "{}: {}", e.status, e.detail);
    }

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
