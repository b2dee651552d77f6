//! People shown on the public board (亮明身份: name, photo, phone).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A person's role in a grid or block.
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
pub enum Role {
    /// 网格站长: committee party secretary, heads the grid workstation.
    StationHead,
    /// 网格副站长: committee director, community police officer, …
    DeputyHead,
    /// 城管队员等执法力量: law-enforcement staff assigned into the grid.
    EnforcementOfficer,
    /// 责任块长: responsible for one block.
    BlockHead,
    /// 协管人员: assistants managed by the committee.
    Assistant,
    /// 物业保安、"三长"、群众骨干: volunteers who help patrol.
    Volunteer,
}

impl Role {
    /// Every role, in the order of the organisation chart.
    pub const ALL: [Role; 6] = [
        Role::StationHead,
        Role::DeputyHead,
        Role::EnforcementOfficer,
        Role::BlockHead,
        Role::Assistant,
        Role::Volunteer,
    ];

    /// The identifier used in the GeoJSON format and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::StationHead => "station_head",
            Role::DeputyHead => "deputy_head",
            Role::EnforcementOfficer => "enforcement_officer",
            Role::BlockHead => "block_head",
            Role::Assistant => "assistant",
            Role::Volunteer => "volunteer",
        }
    }

    /// Chinese title.
    pub fn name_zh(self) -> &'static str {
        match self {
            Role::StationHead => "网格站长",
            Role::DeputyHead => "网格副站长",
            Role::EnforcementOfficer => "执法力量",
            Role::BlockHead => "责任块长",
            Role::Assistant => "协管人员",
            Role::Volunteer => "志愿者",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

/// A named person with a role, as shown on the public board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Person {
    /// Role in the grid or block.
    pub role: Role,
    /// Display name.
    pub name: String,
    /// Contact phone, as written (no normalisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Photo URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    /// The person's 工号 in the staff roster, so that the board, lookups and attendance show
    /// the same person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
}
