//! The field force's API shapes: the roster, duty, check-ins, fix ingest, attendance, tracks
//! and coverage.

use crate::field::duty::{CheckIn, Class, DutyEntry, Punch};
use crate::field::roster::Staff;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The staff roster.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffList {
    /// People, by 工号 (phones shown to admins, supervisors and the street's dispatchers only).
    pub staff: Vec<Staff>,
}

/// What a roster import changed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffImported {
    /// People stored.
    pub staff: usize,
    /// The streets whose roster was replaced.
    pub streets: Vec<String>,
}

/// The encoding of a CSV file: the schema of the `encoding` parameters in the OpenAPI document.
/// The server also takes `utf8`, `gb2312` and `gb18030`, in any case, for these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum CsvEncoding {
    /// UTF-8 (an export starts with a byte-order mark, which Excel needs).
    #[serde(rename = "utf-8")]
    Utf8,
    /// GBK, as offices' Excel saves CSV in China.
    #[serde(rename = "gbk")]
    Gbk,
}

/// Query of `GET /api/v1/staff` and its CSV export.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffQuery {
    /// Only this street's people.
    pub street: Option<String>,
    /// CSV encoding of the export: `utf-8` (with BOM, default) or `gbk`.
    #[param(value_type = Option<CsvEncoding>)]
    pub encoding: Option<String>,
}

/// Query of `PUT /api/v1/staff`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaffImportQuery {
    /// Replace only these streets' rosters (comma-separated codes; default: the streets of the
    /// people imported).
    pub streets: Option<String>,
    /// CSV encoding: `utf-8`, `gbk` or absent (detected: valid UTF-8, else GBK).
    #[param(value_type = Option<CsvEncoding>)]
    pub encoding: Option<String>,
}

/// Body of `PUT /api/v1/duty`: the duty roster of some people on some dates.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyInput {
    /// First date replaced.
    #[schema(value_type = String, example = "2026-12-01")]
    pub from: NaiveDate,
    /// Last date replaced (inclusive).
    #[schema(value_type = String, example = "2026-12-07")]
    pub to: NaiveDate,
    /// Entries, every one dated `from..=to`; the entries of the people named here on those
    /// dates replace what was stored.
    pub entries: Vec<DutyEntry>,
}

/// The duty roster over some dates.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyList {
    /// Entries, by date then person.
    pub entries: Vec<DutyEntry>,
}

/// Query of `GET /api/v1/duty`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DutyQuery {
    /// First date (default today, local).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last date, inclusive (default `from`).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Only this street's people.
    pub street: Option<String>,
}

/// Body of `POST /api/v1/checkins`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInInput {
    /// 工号 (default: the token's holder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<String>,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// System of the coordinates: `wgs84` (default), `cgcs2000`, `gcj02` (phones in China), `bd09`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::wire::lookup::CrsName>)]
    pub crs: Option<String>,
    /// Horizontal accuracy the device reports, metres.
    pub accuracy_m: f64,
    /// When (default: now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub t: Option<DateTime<Utc>>,
    /// `in` (签到, default) or `out` (签退).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub punch: Option<Punch>,
}

/// A shift as it runs on a date.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftView {
    /// Its local start date.
    #[schema(value_type = String)]
    pub date: NaiveDate,
    /// Template code.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Duty mode code.
    pub mode: String,
    /// Duty mode's Chinese name.
    pub mode_zh: String,
}

/// Answer of `POST /api/v1/checkins`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInResult {
    /// The check-in as recorded, with its place and class.
    pub checkin: CheckIn,
    /// The shift it counts for (`None`: the person has no shift then; class `no_shift`).
    pub shift: Option<ShiftView>,
}

/// Check-ins of a period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInList {
    /// Check-ins, by time.
    pub checkins: Vec<CheckIn>,
}

/// Query of `GET /api/v1/checkins` and of tracks.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// From (RFC 3339, or a date: its local start; default: today's local start).
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub from: Option<String>,
    /// To, exclusive (RFC 3339 or a date: the next day's local start; default: `from` + 1 day).
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub to: Option<String>,
    /// One person (工号).
    pub staff: Option<String>,
    /// One street's people.
    pub street: Option<String>,
}

/// Query of `POST /api/v1/fixes`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FixesQuery {
    /// For a GPX body: whose track it is (工号; default the token's holder).
    pub staff: Option<String>,
    /// For a GPX body: its coordinate system (`wgs84` default, `gcj02`, `bd09`, `cgcs2000`).
    #[param(value_type = Option<crate::wire::lookup::CrsName>)]
    pub crs: Option<String>,
}

/// Answer of `POST /api/v1/fixes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixesIngested {
    /// Fixes received.
    pub received: usize,
    /// Fixes stored.
    pub stored: usize,
    /// Dropped: accuracy worse than the limit.
    pub dropped_accuracy: usize,
    /// Dropped: impossible speed since the previous fix.
    pub dropped_speed: usize,
    /// Dropped: a time already sent (a repeated batch) or not after the person's last stored fix.
    pub dropped_duplicate: usize,
    /// People the batch was for.
    pub people: usize,
}

/// Query of `GET /api/v1/attendance`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttendanceQuery {
    /// The shifts starting on this local date (default today).
    #[param(value_type = Option<String>, format = Date)]
    pub date: Option<String>,
    /// One street.
    pub street: Option<String>,
    /// One grid (people assigned to it).
    pub grid: Option<String>,
    /// One team.
    pub team: Option<String>,
}

/// One person's attendance of one shift.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceRow {
    /// 工号.
    pub staff: String,
    /// Name.
    pub name: String,
    /// Team.
    pub team: Option<String>,
    /// Street.
    pub street: String,
    /// Assigned areas.
    pub areas: Vec<String>,
    /// The shift.
    pub shift: ShiftView,
    /// `on_time`, `late`, `absent` or `pending`.
    pub status: Class,
    /// Left early.
    pub early_leave: bool,
    /// A punch outside the assigned areas.
    pub outside: bool,
    /// First check-in that counts.
    pub first_in: Option<DateTime<Utc>>,
    /// Last check-out.
    pub last_out: Option<DateTime<Utc>>,
    /// On duty now.
    pub on_duty: bool,
}

/// Attendance counted over a group of shifts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceSummary {
    /// The street, team or grid code (`*` for everyone).
    pub key: String,
    /// Shifts counted.
    pub shifts: usize,
    /// On time.
    pub on_time: usize,
    /// Late.
    pub late: usize,
    /// Absent.
    pub absent: usize,
    /// Not yet checked in, shift running or to come.
    pub pending: usize,
    /// Left early.
    pub early_leave: usize,
    /// With a punch outside.
    pub outside: usize,
    /// On duty now.
    pub on_duty: usize,
}

/// Answer of `GET /api/v1/attendance`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceReport {
    /// The date.
    #[schema(value_type = String)]
    pub date: NaiveDate,
    /// As of.
    pub now: DateTime<Utc>,
    /// Everyone counted.
    pub total: AttendanceSummary,
    /// Per street.
    pub by_street: Vec<AttendanceSummary>,
    /// Per team.
    pub by_team: Vec<AttendanceSummary>,
    /// Per assigned grid.
    pub by_grid: Vec<AttendanceSummary>,
    /// Per person and shift: admins, supervisors and the street's dispatchers only (personal
    /// data); absent for other roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<AttendanceRow>>,
}

/// Query of `GET /api/v1/coverage`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// One street (or `grid`).
    pub street: Option<String>,
    /// One grid.
    pub grid: Option<String>,
    /// From (RFC 3339 or a date; default today's local start).
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub from: Option<String>,
    /// To, exclusive (default `from` + 1 day).
    #[param(value_type = Option<crate::wire::TimeOrDate>)]
    pub to: Option<String>,
}

/// Coverage of one road segment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentCoverageRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its grid.
    pub grid: Option<String>,
    /// Its block.
    pub block: Option<String>,
    /// Length, metres.
    pub length_m: f64,
    /// Length within the radius of a path, metres.
    pub covered_m: f64,
    /// `covered_m / length_m`.
    pub share: f64,
    /// `share` at least the covered share (default 80 %).
    pub covered: bool,
}

/// Coverage of one grid.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GridCoverageRow {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Street.
    pub street: Option<String>,
    /// Road segments.
    pub segments: usize,
    /// Of them covered (share ≥ the covered share).
    pub covered_segments: usize,
    /// Codes of its segments nobody came within the radius of.
    pub unpatrolled_segments: Vec<String>,
    /// Total segment length, metres.
    pub length_m: f64,
    /// Covered length, metres.
    pub covered_m: f64,
    /// Blocks.
    pub blocks: usize,
    /// Blocks a path entered.
    pub blocks_visited: usize,
    /// Seconds on patrol paths inside the grid.
    pub inside_s: f64,
    /// Any fix inside the grid in the period.
    pub patrolled: bool,
}

/// One person's patrol over the period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonCoverageRow {
    /// 工号.
    pub staff: String,
    /// Name.
    pub name: String,
    /// Team.
    pub team: Option<String>,
    /// Fixes.
    pub fixes: usize,
    /// Paths (after joining).
    pub paths: usize,
    /// Length walked along paths, metres.
    pub walked_m: f64,
    /// Road segments of the assigned areas.
    pub segments: usize,
    /// Of them covered by this person's own paths.
    pub covered_segments: usize,
    /// Seconds on paths inside the assigned grids.
    pub inside_s: f64,
}

/// Answer of `GET /api/v1/coverage`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageReport {
    /// From.
    pub from: DateTime<Utc>,
    /// To, exclusive.
    pub to: DateTime<Utc>,
    /// Radius, metres.
    pub radius_m: f64,
    /// Share from which a segment counts as covered.
    pub covered_share: f64,
    /// Fixes read.
    pub fixes: usize,
    /// Per road segment.
    pub segments: Vec<SegmentCoverageRow>,
    /// Per grid.
    pub grids: Vec<GridCoverageRow>,
    /// Grids with no fix inside them in the period.
    pub unpatrolled_grids: Vec<String>,
    /// Per person: admins, supervisors and the street's dispatchers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persons: Option<Vec<PersonCoverageRow>>,
}

/// Answer of `GET /api/v1/my-shift`: the holder's current shift and the task list it focuses on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MyShift {
    /// 工号.
    pub staff: String,
    /// Name.
    pub name: String,
    /// The shift now (or next today), if any.
    pub shift: Option<ShiftView>,
    /// Category codes of the patrol task list, the mode's groups first in the mode's order.
    pub categories: Vec<String>,
}

/// A geofence event: entered or left an area.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeofenceEventView {
    /// 工号.
    pub staff: String,
    /// `entered` or `left`.
    pub event: String,
    /// Layer of the area.
    pub layer: crate::model::Layer,
    /// Area code.
    pub area: String,
    /// When.
    pub t: DateTime<Utc>,
}

/// Answer of `GET /api/v1/geofence`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeofenceEvents {
    /// Events, by person then time.
    pub events: Vec<GeofenceEventView>,
}

/// One path of a person's track, as a GeoJSON feature.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A LineString through the path's fixes (a Point for a path of one fix).
    #[schema(value_type = crate::wire::GeoJsonGeometry)]
    pub geometry: geojson::Geometry,
    /// What the path is.
    pub properties: TrackProperties,
}

/// Properties of a track path.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackProperties {
    /// 工号.
    pub staff: String,
    /// Name.
    pub name: String,
    /// First fix.
    pub from: DateTime<Utc>,
    /// Last fix.
    pub to: DateTime<Utc>,
    /// Fixes.
    pub fixes: usize,
    /// Length, metres.
    pub length_m: f64,
    /// Time of every fix, milliseconds since the epoch, in coordinate order.
    pub times_ms: Vec<i64>,
}

/// Answer of `GET /api/v1/tracks`: a person's paths as a GeoJSON FeatureCollection.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackCollection {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// One feature per path.
    pub features: Vec<TrackFeature>,
}
