//! The staff roster (人员名册): who works in the field, for which organisation and team, and
//! which areas each person is assigned to (grids, blocks, road segments, management units).
//! A person's 工号 (`id`) is stable: features' people may name it (`staff_id`) so the public
//! board, lookups and attendance show the same person.

use crate::model::Role;
use serde::{Deserialize, Serialize};

/// Longest 工号, name, phone, organisation or team, in characters.
pub const MAX_TEXT: usize = 100;
/// Most areas one person may be assigned to.
pub const MAX_AREAS: usize = 200;
/// Most people in one roster import.
pub const MAX_STAFF: usize = 100_000;

/// What kind of organisation a person works for.
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
pub enum OrgKind {
    /// 居委会 / 村委会: a residents' or villagers' committee.
    Committee,
    /// 城管中队: a city-management team.
    CityManagement,
    /// 派出所: a police station.
    Police,
    /// 市场监管所: market supervision.
    MarketSupervision,
    /// 保洁公司: a cleaning company.
    Cleaning,
    /// 物业: a property management company.
    Property,
    /// 街镇网格中心: the street's grid sub-centre.
    Street,
    /// Anything else.
    Other,
}

impl OrgKind {
    /// Every kind.
    pub const ALL: [OrgKind; 8] = [
        OrgKind::Committee,
        OrgKind::CityManagement,
        OrgKind::Police,
        OrgKind::MarketSupervision,
        OrgKind::Cleaning,
        OrgKind::Property,
        OrgKind::Street,
        OrgKind::Other,
    ];

    /// The identifier used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Committee => "committee",
            OrgKind::CityManagement => "city_management",
            OrgKind::Police => "police",
            OrgKind::MarketSupervision => "market_supervision",
            OrgKind::Cleaning => "cleaning",
            OrgKind::Property => "property",
            OrgKind::Street => "street",
            OrgKind::Other => "other",
        }
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            OrgKind::Committee => "居村委",
            OrgKind::CityManagement => "城管",
            OrgKind::Police => "派出所",
            OrgKind::MarketSupervision => "市场监管",
            OrgKind::Cleaning => "保洁",
            OrgKind::Property => "物业",
            OrgKind::Street => "街镇网格中心",
            OrgKind::Other => "其他",
        }
    }

    /// The kind named by its identifier or its Chinese name.
    pub fn parse(s: &str) -> Option<OrgKind> {
        let s = s.trim();
        OrgKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.name_zh() == s)
    }
}

/// One person of the field force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Staff {
    /// 工号: stable identifier.
    pub id: String,
    /// Name.
    pub name: String,
    /// Phone (personal data: shown only to roles that need it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Role in the grid.
    pub role: Role,
    /// Organisation's name (e.g. 朱泾城管中队).
    pub org: String,
    /// Organisation's kind.
    pub org_kind: OrgKind,
    /// Team (shift templates are per team); `None`: no shifts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Street the person works for (scopes dispatchers' reads).
    pub street: String,
    /// Codes of the assigned areas: grids, blocks, road segments, management units.
    #[serde(default)]
    pub areas: Vec<String>,
}

impl Staff {
    /// Checks lengths and counts; the first problem, naming the field.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("id", Some(self.id.as_str())),
            ("name", Some(self.name.as_str())),
            ("phone", self.phone.as_deref()),
            ("org", Some(self.org.as_str())),
            ("team", self.team.as_deref()),
            ("street", Some(self.street.as_str())),
        ] {
            if let Some(v) = v {
                if v.chars().count() > MAX_TEXT {
                    return Err(format!("{name} is longer than {MAX_TEXT} characters"));
                }
            }
        }
        if self.id.trim().is_empty() {
            return Err("id (工号) is empty".into());
        }
        if self.name.trim().is_empty() {
            return Err("name is empty".into());
        }
        if self.areas.len() > MAX_AREAS {
            return Err(format!("areas: more than {MAX_AREAS}"));
        }
        if let Some(a) = self
            .areas
            .iter()
            .find(|a| a.is_empty() || a.len() > MAX_TEXT)
        {
            return Err(format!("areas: {a:?} is not an area code"));
        }
        Ok(())
    }
}
