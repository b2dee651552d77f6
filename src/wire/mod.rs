//! The JSON shapes of the API: one type per response and per request body or query, each
//! `Serialize + Deserialize + utoipa::ToSchema` (queries: `Deserialize + utoipa::IntoParams`),
//! so the OpenAPI document describes every answer and clients can generate types from it.
//!
//! Conventions:
//! - plain data, no behaviour: `wire` depends on nothing of the crate but plain types; the service
//!   layer builds these from domain values, the handlers answer them;
//! - responses deny unknown fields when deserialized, so a test that reads an answer back into its
//!   type fails when the two drift apart;
//! - query fields are `Option<String>` documented with their real type (`#[param(value_type)]`):
//!   the service parses them with errors that name the parameter exactly.

pub mod cases;
pub mod drafts;
