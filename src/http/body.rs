//! What the edge ([`super::edge`]) tells the handlers about a request's body: when the request's
//! time is up ([`Deadline`]) and why a body was cut ([`BodyCut`]). Handlers that stream a body
//! (the NDJSON lookup) read these; the edge writes them.

use super::error::ApiError;
use axum::http::StatusCode;
use std::time::Instant;

/// When the request's time is up (the configured request timeout after it arrived); in the
/// extensions of every request with a body, for handlers that stream their answer.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(pub Instant);

/// Why the edge cut a request body: the error its reader sees (inside an `axum::Error`).
#[derive(Debug, Clone)]
pub struct BodyCut {
    /// 413 (over the route's limit) or 408 (nothing arrived for the body-idle time).
    pub status: StatusCode,
    /// What happened, naming the limit.
    pub detail: String,
}

impl std::fmt::Display for BodyCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for BodyCut {}

impl BodyCut {
    /// The problem the request is answered with.
    pub fn problem(&self) -> ApiError {
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(self.detail.clone())
        } else {
            request_timeout(self.detail.clone())
        }
    }

    /// The cut behind a body read error, if the edge cut the body.
    pub fn of(e: &axum::Error) -> Option<&BodyCut> {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = source {
            if let Some(cut) = s.downcast_ref::<BodyCut>() {
                return Some(cut);
            }
            source = s.source();
        }
        None
    }
}

/// 408 problem+json.
pub(super) fn request_timeout(detail: String) -> ApiError {
    ApiError {
        status: StatusCode::REQUEST_TIMEOUT,
        slug: "request-timeout",
        title: "Request body too slow",
        detail,
        extra: None,
    }
}
