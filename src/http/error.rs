//! Errors as RFC 9457 problem details (`application/problem+json`).
//!
//! Every handler returns `Result<_, ApiError>`. The `type` is a URN naming the problem
//! (`urn:gridatlas:problem:<slug>`), `code` is the same slug on its own (a stable key a client
//! translates into its user's language), `title` is fixed per type, `detail` names the parameter,
//! feature or limit at fault. 5xx bodies stay generic; the cause is logged.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An API error, rendered as problem+json.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Problem slug (the last part of the type URN).
    pub slug: &'static str,
    /// Short, fixed summary of the problem type.
    pub title: &'static str,
    /// What exactly is wrong, naming the parameter or feature.
    pub detail: String,
    /// Extra members (e.g. `problems` of a GeoJSON upload, `streets` of a scope error).
    pub extra: Option<Value>,
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            slug,
            title,
            detail: detail.into(),
            extra: None,
        }
    }

    /// Adds extension members.
    pub fn with_extra(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }

    /// 400: a malformed request (bad parameter, unparsable body).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Malformed request",
            detail,
        )
    }

    /// 400: a query or path parameter is missing or invalid.
    pub fn invalid_parameter(name: &str, detail: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-parameter",
            "Invalid parameter",
            format!("parameter `{name}`: {detail}"),
        )
        .with_extra(json!({"parameter": name}))
    }

    /// 404: no such resource.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 405: the route exists but not with this method.
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            detail,
        )
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict", detail)
    }

    /// 413: a body, batch or feature is larger than allowed.
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request too large",
            detail,
        )
    }

    /// 415: wrong media type.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    /// 422: well-formed but not acceptable (e.g. a GeoJSON file with invalid features).
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            "Unprocessable content",
            detail,
        )
    }

    /// 401: no or unknown token.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Authentication required",
            detail,
        )
    }

    /// 403: the token may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    /// 429: rate limited.
    pub fn rate_limited(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            detail,
        )
    }

    /// 503: not ready.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
            detail,
        )
    }

    /// 500: logs `cause`, answers generically.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
            "the server failed to answer this request; the cause has been logged",
        )
    }

    /// The problem document.
    pub fn body(&self) -> Value {
        let mut v = json!({
            "type": format!("urn:gridatlas:problem:{}", self.slug),
            "code": self.slug,
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let (Some(Value::Object(extra)), Value::Object(o)) = (&self.extra, &mut v) {
            for (k, val) in extra {
                o.insert(k.clone(), val.clone());
            }
        }
        v
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A 503 `busy` says when to come back: its `retry_after_s` is also the header.
        let retry_after = self
            .extra
            .as_ref()
            .and_then(|x| x.get("retry_after_s"))
            .and_then(Value::as_u64);
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(s) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(format!("query string: {}", r.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(format!("path: {}", r.body_text()))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::unsupported_media_type("expected `Content-Type: application/json`")
            }
            JsonRejection::JsonDataError(e) => ApiError::unprocessable(e.body_text()),
            JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(e.body_text()),
            JsonRejection::BytesRejection(e) => from_bytes(e),
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        from_bytes(r)
    }
}

fn from_bytes(r: BytesRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!("request body: {}", r.body_text()))
    } else {
        ApiError::bad_request(r.body_text())
    }
}

impl From<crate::service::Error> for ApiError {
    fn from(e: crate::service::Error) -> Self {
        use crate::service::Kind;
        let (status, slug, title) = match e.kind {
            Kind::BadRequest => (StatusCode::BAD_REQUEST, "bad-request", "Malformed request"),
            Kind::InvalidParameter => (
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "Invalid parameter",
            ),
            Kind::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Kind::Conflict => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Kind::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Request too large",
            ),
            Kind::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Kind::Unprocessable => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                "Unprocessable content",
            ),
            Kind::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
            ),
            Kind::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Kind::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            Kind::Internal => return ApiError::internal(e.detail),
        };
        ApiError {
            status,
            slug,
            title,
            detail: e.detail,
            extra: e.extra,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_the_slug_of_the_type() {
        for e in [
            ApiError::bad_request("x"),
            ApiError::invalid_parameter("lon", "NaN"),
            ApiError::conflict("draft 3 was already published"),
            ApiError::unauthorized("unknown or revoked token"),
            ApiError::from(crate::service::Error::forbidden("no")),
        ] {
            let body = e.body();
            assert_eq!(body["code"], e.slug);
            assert_eq!(
                body["type"],
                format!(
                    "urn:gridatlas:problem:{}",
                    body["code"].as_str().unwrap_or("?")
                )
            );
        }
    }
}
