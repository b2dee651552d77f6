//! The shape of every error: an RFC 9457 problem document (`application/problem+json`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An RFC 9457 problem. Extension members name what is at fault: `parameter` (an invalid query
/// or path parameter), `line` and `limit_bytes` (an NDJSON line), `problems` (an upload), …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// `urn:gridatlas:problem:<slug>` (e.g. `urn:gridatlas:problem:invalid-parameter`).
    #[serde(rename = "type")]
    pub type_: String,
    /// The problem's stable code: the slug of `type` (`invalid-parameter`, `conflict`,
    /// `forbidden`, …), for a client to pick a message in its user's language; `detail` is the
    /// server's English sentence.
    pub code: String,
    /// Fixed summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What exactly is wrong, naming the parameter, feature or limit at fault.
    pub detail: String,
    /// The parameter at fault (invalid-parameter problems).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// Other extension members.
    #[serde(flatten)]
    #[schema(ignore)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}
