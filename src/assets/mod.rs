//! City components (部件) and shops under frontage duty (门责): the district's asset registers.
//!
//! Components and shops are **registers**, not boundaries: hundreds of thousands of points that
//! change every day (a lamp breaks, a shop opens), so they are kept apart from the published
//! generations of areas and road segments. Their unit grid and block are never typed in: they are
//! computed from the atlas in force when they are read. A shop's binding to the road segment it
//! faces is computed when it is imported (nearest segment within the binding distance) and then
//! kept, so that a person can correct it.
//!
//! - [`Component`]: a point with a 16-digit code (district 6 + major class 2 + subclass 2 +
//!   serial 6, [`codes::ComponentCode`]), owner department (权属单位), maintainer (养护单位), state
//!   and survey date; classes from a table shipped as data ([`classes::ClassTable`]).
//! - [`Shop`]: a point or polygon with a name, unified social credit code
//!   ([`codes::check_credit_code`]), contact, the date its pledge was signed (签约承诺) and its
//!   [`Frontage`] binding.
//! - [`Inspection`]s of a shop's frontage and the [`PointsEntry`]s of its record; whether it is
//!   escalated is the [`PointsRule`]'s (data).
//!
//! Plain data and pure functions, no I/O beyond the readers of byte slices.

pub mod binding;
pub mod classes;
pub mod codes;
pub mod index;
pub mod io;
pub mod record;
pub mod rules;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A component's state (部件状态).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ComponentState {
    /// 完好
    Intact,
    /// 破损
    Damaged,
    /// 丢失
    Missing,
    /// 占用
    Occupied,
    /// 废弃
    Abandoned,
}

impl ComponentState {
    /// Every state.
    pub const ALL: [ComponentState; 5] = [
        ComponentState::Intact,
        ComponentState::Damaged,
        ComponentState::Missing,
        ComponentState::Occupied,
        ComponentState::Abandoned,
    ];

    /// The identifier used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentState::Intact => "intact",
            ComponentState::Damaged => "damaged",
            ComponentState::Missing => "missing",
            ComponentState::Occupied => "occupied",
            ComponentState::Abandoned => "abandoned",
        }
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            ComponentState::Intact => "完好",
            ComponentState::Damaged => "破损",
            ComponentState::Missing => "丢失",
            ComponentState::Occupied => "占用",
            ComponentState::Abandoned => "废弃",
        }
    }

    /// The state named by its identifier or its Chinese name.
    pub fn parse(s: &str) -> Option<ComponentState> {
        let s = s.trim();
        ComponentState::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.name_zh() == s)
    }
}

/// One city component (部件): a point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Component {
    /// 16-digit code: district (6) + major class (2) + subclass (2) + serial (6).
    pub code: String,
    /// WGS84 longitude.
    pub lon: f64,
    /// WGS84 latitude.
    pub lat: f64,
    /// 权属单位: the owner department (the department a component case is dispatched to).
    pub owner: String,
    /// 养护单位: the maintainer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainer: Option<String>,
    /// State.
    pub state: ComponentState,
    /// Survey date (普查日期).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub survey_date: Option<NaiveDate>,
    /// Anything else the file gave (kept, returned on lookups).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl Component {
    /// The major class code (digits 7–8 of the code), if the code is long enough.
    pub fn class(&self) -> Option<&str> {
        self.code.get(6..8)
    }

    /// The subclass code within the major class (digits 9–10), if the code is long enough.
    pub fn subclass(&self) -> Option<&str> {
        self.code.get(8..10)
    }
}

/// A shop's geometry: a point (its door) or its footprint.
#[derive(Debug, Clone, PartialEq)]
pub enum ShopGeometry {
    /// `(lon, lat)`, WGS84.
    Point(f64, f64),
    /// The footprint, WGS84, exterior counter-clockwise.
    Polygon(geo::Polygon<f64>),
}

/// How a shop came to face its road segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BindingSource {
    /// The nearest road segment within the binding distance, when imported.
    Nearest,
    /// Set by a person (kept over re-binding).
    Manual,
}

/// The road segment a shop faces (门前责任区).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Frontage {
    /// Road segment code.
    pub segment: String,
    /// Distance from the shop to the segment when bound, metres.
    pub distance_m: f64,
    /// Nearest or manual.
    pub source: BindingSource,
}

/// One shop under frontage duty (门责单位).
#[derive(Debug, Clone, PartialEq)]
pub struct Shop {
    /// Stable identifier (the district's shop number).
    pub id: String,
    /// Name (店招).
    pub name: String,
    /// 统一社会信用代码 (18 characters, GB 32100-2015).
    pub credit_code: Option<String>,
    /// Contact person.
    pub contact: Option<String>,
    /// Contact phone (personal data).
    pub phone: Option<String>,
    /// When its frontage pledge (门责承诺书) was signed.
    pub pledge_signed: Option<NaiveDate>,
    /// Point or footprint.
    pub geometry: ShopGeometry,
    /// The road segment it faces, if one lies within the binding distance (or was set by hand).
    pub frontage: Option<Frontage>,
    /// Anything else the file gave.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// One item of a frontage inspection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InspectionItem {
    /// What was checked (e.g. 门前无乱堆物).
    pub item: String,
    /// Passed.
    pub passed: bool,
    /// Note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A frontage inspection (门责检查) of a shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Inspection {
    /// Assigned by the store (0 before).
    #[serde(default)]
    pub id: i64,
    /// The shop.
    pub shop: String,
    /// Date.
    pub date: NaiveDate,
    /// Inspector (工号 or name).
    pub inspector: String,
    /// Items checked.
    pub items: Vec<InspectionItem>,
    /// Photo keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<String>,
}

/// Why points were added to a shop's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PointsReason {
    /// Failed items of an inspection.
    Inspection {
        /// The inspection.
        inspection: i64,
    },
    /// A frontage case confirmed against the shop.
    Case {
        /// The case.
        case: i64,
        /// Its category.
        category: String,
    },
}

/// One entry of a shop's points record (记分).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PointsEntry {
    /// The shop.
    pub shop: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Points (positive).
    pub points: u32,
    /// Why.
    pub reason: PointsReason,
}

/// The points rule (data): points per failed inspection item and per confirmed frontage case,
/// and the total within a rolling window that escalates a shop to city management.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointsRule {
    /// Points per failed inspection item.
    pub per_failed_item: u32,
    /// Points per confirmed frontage case.
    pub per_case: u32,
    /// The window, days (365: a year), 1 to 36,500.
    #[schema(minimum = 1, maximum = 36500)]
    pub window_days: u32,
    /// Points within the window at which the shop is escalated (移交城管).
    pub escalate_at: u32,
    /// Points within the window at which the shop is warned (约谈), below `escalate_at`.
    pub warn_at: u32,
}

impl Default for PointsRule {
    fn default() -> Self {
        PointsRule {
            per_failed_item: 1,
            per_case: 2,
            window_days: 365,
            escalate_at: 12,
            warn_at: 6,
        }
    }
}
