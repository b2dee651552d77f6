//! The live event stream (`GET /api/v1/events`, server-sent events): what a subscriber sees of
//! each committed change (see [`crate::service::events`] for who sees what).

use crate::cases::Stage;
use crate::field::duty::{Class, Place, Punch};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A case was created or took a step.
    Case,
    /// A check-in or check-out was recorded.
    Checkin,
    /// A generation was published.
    Publish,
}

/// One event of the stream (the `data:` of an SSE event whose `event:` is its `kind` and whose
/// `id:` is its `seq`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveEvent {
    /// 1, 2, 3, … in this server process (restarts from 1 with it).
    pub seq: u64,
    /// When it was published.
    pub at: DateTime<Utc>,
    /// What changed.
    pub kind: EventKind,
    /// The street concerned, if any.
    pub street: Option<String>,
    /// The grid concerned, if any.
    pub grid: Option<String>,
    /// The case, for `case`.
    pub case: Option<CaseEvent>,
    /// The check-in, for `checkin`.
    pub checkin: Option<CheckInEvent>,
    /// The generation now served, for `publish`.
    pub generation: Option<i64>,
}

/// A case after its change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseEvent {
    /// Id.
    pub id: i64,
    /// Category code.
    pub category: String,
    /// Its stage now.
    pub stage: Stage,
    /// The stage's Chinese name.
    pub stage_zh: String,
    /// 督办.
    pub supervised: bool,
    /// Past the due time of its stage.
    pub overdue: bool,
    /// The grid it is dispatched to.
    pub assigned_grid: Option<String>,
    /// The department it is dispatched to.
    pub department: Option<String>,
    /// Longitude, WGS84.
    pub lon: f64,
    /// Latitude, WGS84.
    pub lat: f64,
}

/// A check-in: its class for everyone; the person, the area matched and the distance only for
/// the roles that read the field force's personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInEvent {
    /// In or out.
    pub punch: Punch,
    /// The attendance class.
    pub class: Class,
    /// Inside, near, at the workstation or outside.
    pub place: Place,
    /// When (the device's time).
    pub t: DateTime<Utc>,
    /// 工号 (personal: `null` for other roles).
    pub staff: Option<String>,
    /// The assigned area matched (personal).
    pub area: Option<String>,
    /// Distance to the assigned area, metres (personal).
    pub distance_m: Option<f64>,
}

/// `GET /api/v1/events` parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only the events of this street (within the token's scope).
    pub street: Option<String>,
}
