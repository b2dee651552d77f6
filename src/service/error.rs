//! The one error of the service layer: what went wrong, in words a user can act on, and which
//! kind of problem it is. The HTTP layer renders it as problem+json (the kind picks the status and
//! the problem type); the CLI prints the detail and picks the exit status from the kind.

use crate::store::StoreError;
use serde_json::{Value, json};

/// The kind of a problem; each maps to one HTTP status and one problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A malformed request (unparsable body, bad value).
    BadRequest,
    /// A query or path parameter is missing or invalid (`extra.parameter` names it).
    InvalidParameter,
    /// No such resource.
    NotFound,
    /// The request conflicts with the current state (already published, refused transition).
    Conflict,
    /// A body, batch or feature is larger than allowed.
    TooLarge,
    /// The body is not of a media type the operation takes.
    UnsupportedMediaType,
    /// Well formed but not acceptable (invalid features, a field out of range).
    Unprocessable,
    /// No or unknown credentials.
    Unauthorized,
    /// The caller may not do this.
    Forbidden,
    /// Not ready (no store, no atlas yet, too busy).
    Unavailable,
    /// A failure of the server itself; the detail is logged, never shown.
    Internal,
}

/// An error of a service call.
#[derive(Debug, Clone)]
pub struct Error {
    /// Which kind of problem.
    pub kind: Kind,
    /// What exactly is wrong, naming the parameter, field, feature or limit at fault.
    pub detail: String,
    /// Extra members for the problem document (e.g. `problems`, `streets`, `field`).
    pub extra: Option<Value>,
}

/// Short form of `Result<T, Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error of `kind`.
    pub fn new(kind: Kind, detail: impl Into<String>) -> Self {
        Error {
            kind,
            detail: detail.into(),
            extra: None,
        }
    }

    /// Adds extension members.
    pub fn with_extra(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }

    /// [`Kind::BadRequest`].
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(Kind::BadRequest, detail)
    }

    /// [`Kind::InvalidParameter`], naming the parameter.
    pub fn invalid_parameter(name: &str, detail: impl std::fmt::Display) -> Self {
        Self::new(
            Kind::InvalidParameter,
            format!("parameter `{name}`: {detail}"),
        )
        .with_extra(json!({"parameter": name}))
    }

    /// [`Kind::Unprocessable`] naming a query parameter whose value parses but is out of range.
    pub fn out_of_range(name: &str, detail: impl std::fmt::Display) -> Self {
        Self::new(Kind::Unprocessable, format!("parameter `{name}`: {detail}"))
            .with_extra(json!({"parameter": name}))
    }

    /// [`Kind::Unprocessable`] naming a body field.
    pub fn field(name: &str, detail: impl std::fmt::Display) -> Self {
        Self::new(Kind::Unprocessable, format!("field `{name}`: {detail}"))
            .with_extra(json!({"field": name}))
    }

    /// [`Kind::NotFound`].
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(Kind::NotFound, detail)
    }

    /// [`Kind::Conflict`].
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, detail)
    }

    /// [`Kind::TooLarge`].
    pub fn too_large(detail: impl Into<String>) -> Self {
        Self::new(Kind::TooLarge, detail)
    }

    /// [`Kind::UnsupportedMediaType`].
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(Kind::UnsupportedMediaType, detail)
    }

    /// [`Kind::Unprocessable`].
    pub fn unprocessable(detail: impl Into<String>) -> Self {
        Self::new(Kind::Unprocessable, detail)
    }

    /// [`Kind::Unauthorized`].
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(Kind::Unauthorized, detail)
    }

    /// [`Kind::Forbidden`].
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, detail)
    }

    /// [`Kind::Unavailable`].
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(Kind::Unavailable, detail)
    }

    /// [`Kind::Internal`]: keeps the cause for the log (the HTTP answer stays generic).
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(Kind::Internal, cause.to_string())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for Error {}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Error::not_found(what),
            StoreError::Conflict(what) => Error::conflict(what),
            StoreError::PublishRefused { errors } => Error::conflict(format!(
                "the draft's validation report has {errors} error(s); fix them, or publish with an admin token and an `override_reason`"
            ))
            .with_extra(json!({"errors": errors})),
            StoreError::InvalidDraft(what) => Error::unprocessable(what),
            StoreError::KeyTaken(key) => Error::conflict(format!(
                "Idempotency-Key {key:?}: a request with this key is in progress; retry it later"
            )),
            other => Error::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_keep_their_meaning() {
        let e = Error::from(StoreError::PublishRefused { errors: 3 });
        assert_eq!(e.kind, Kind::Conflict);
        assert_eq!(e.extra, Some(json!({"errors": 3})));
        assert_eq!(
            Error::from(StoreError::NotFound("draft 9".into())).kind,
            Kind::NotFound
        );
        assert_eq!(
            Error::from(StoreError::InvalidDraft("x".into())).kind,
            Kind::Unprocessable
        );
        assert_eq!(
            Error::from(StoreError::Pool("gone".into())).kind,
            Kind::Internal
        );
    }

    #[test]
    fn parameters_and_fields_are_named() {
        let e = Error::invalid_parameter("limit", "0 is out of range");
        assert_eq!(e.detail, "parameter `limit`: 0 is out of range");
        assert_eq!(e.extra, Some(json!({"parameter": "limit"})));
        let e = Error::field("photos", "too many");
        assert_eq!(e.kind, Kind::Unprocessable);
        assert_eq!(e.extra, Some(json!({"field": "photos"})));
    }
}
