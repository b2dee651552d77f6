//! [`Params`]: a typed query string (a `wire` query struct) with the semantics of the untyped
//! maps it replaced: the last of a repeated parameter wins, unknown parameters are ignored,
//! values are URL-decoded. Values stay strings (`Option<String>` fields); each route parses them
//! with its precise parser, so a bad value is a problem naming the parameter.

use super::error::ApiError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A typed query string (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned> Params<T> {
    /// Parses a raw query string.
    pub fn parse(query: &str) -> Result<T, ApiError> {
        // Collected into a map first: the last of a repeated parameter wins (a struct would
        // refuse the duplicate), then read as a JSON object (which fills `Option` fields).
        let pairs: serde_json::Map<String, serde_json::Value> =
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
                .collect();
        serde_json::from_value(serde_json::Value::Object(pairs))
            .map_err(|e| ApiError::bad_request(format!("query string: {e}")))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Self::parse(parts.uri.query().unwrap_or("")).map(Params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::areas::AreaSearchQuery;

    #[test]
    fn last_wins_unknown_ignored_decoded() {
        let q: AreaSearchQuery =
            Params::parse("limit=1&limit=2&x=y&q=%E4%B8%89&layer=block").expect("parsed");
        assert_eq!(q.limit.as_deref(), Some("2"));
        assert_eq!(q.q.as_deref(), Some("三"));
        assert_eq!(q.layer.as_deref(), Some("block"));
        assert!(q.offset.is_none());
    }
}
