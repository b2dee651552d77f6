//! Layers of the territory and the kinds allowed on each.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A layer of the territory, from the district down to road segments.
///
/// The order of the variants is the hierarchy order (a parent always sorts before its child),
/// and it is the order in which lookups report layers.
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
pub enum Layer {
    /// 区: the root; at most one per feature set.
    District,
    /// 街镇: sub-district, town or development zone.
    Street,
    /// 居村网格: the grid of one residents' or villagers' committee.
    ResidentGrid,
    /// 街面网格: street-front grid along roads and shop fronts.
    StreetGrid,
    /// 拓展网格: factories, campuses, parks, business districts, institutions, public areas.
    ExtendedGrid,
    /// 责任块: responsibility block inside a grid, with a block head.
    Block,
    /// 责任路段: responsibility road section (a line) inside a grid or block.
    RoadSegment,
}

impl Layer {
    /// Every layer, in hierarchy order.
    pub const ALL: [Layer; 7] = [
        Layer::District,
        Layer::Street,
        Layer::ResidentGrid,
        Layer::StreetGrid,
        Layer::ExtendedGrid,
        Layer::Block,
        Layer::RoadSegment,
    ];

    /// The three grid layers, which together tile a street.
    pub const GRIDS: [Layer; 3] = [Layer::ResidentGrid, Layer::StreetGrid, Layer::ExtendedGrid];

    /// The identifier used in the GeoJSON format, the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::District => "district",
            Layer::Street => "street",
            Layer::ResidentGrid => "resident_grid",
            Layer::StreetGrid => "street_grid",
            Layer::ExtendedGrid => "extended_grid",
            Layer::Block => "block",
            Layer::RoadSegment => "road_segment",
        }
    }

    /// Chinese name, as used on the map and in reports.
    pub fn name_zh(self) -> &'static str {
        match self {
            Layer::District => "区",
            Layer::Street => "街镇",
            Layer::ResidentGrid => "居村网格",
            Layer::StreetGrid => "街面网格",
            Layer::ExtendedGrid => "拓展网格",
            Layer::Block => "责任块",
            Layer::RoadSegment => "责任路段",
        }
    }

    /// True for the three grid layers.
    pub fn is_grid(self) -> bool {
        matches!(
            self,
            Layer::ResidentGrid | Layer::StreetGrid | Layer::ExtendedGrid
        )
    }

    /// True for layers whose geometry is an area (everything but road segments).
    pub fn is_area(self) -> bool {
        !matches!(self, Layer::RoadSegment)
    }

    /// The layers a feature of this layer may name as its parent. Empty: no parent allowed
    /// (district). A street's parent is optional (the district, when there is one).
    pub fn parent_layers(self) -> &'static [Layer] {
        match self {
            Layer::District => &[],
            Layer::Street => &[Layer::District],
            Layer::ResidentGrid | Layer::StreetGrid | Layer::ExtendedGrid => &[Layer::Street],
            Layer::Block => &Layer::GRIDS,
            Layer::RoadSegment => &[
                Layer::Block,
                Layer::ResidentGrid,
                Layer::StreetGrid,
                Layer::ExtendedGrid,
            ],
        }
    }

    /// Whether a parent is required (all but district and street).
    pub fn parent_required(self) -> bool {
        !matches!(self, Layer::District | Layer::Street)
    }

    /// The kinds allowed on this layer; empty when the layer has no kind.
    pub fn kinds(self) -> &'static [Kind] {
        match self {
            Layer::Street => &[Kind::Subdistrict, Kind::Town, Kind::Zone],
            Layer::ResidentGrid => &[Kind::Residents, Kind::Villagers],
            Layer::ExtendedGrid => &[
                Kind::Factory,
                Kind::Campus,
                Kind::IndustrialPark,
                Kind::BusinessDistrict,
                Kind::Institution,
                Kind::PublicArea,
            ],
            _ => &[],
        }
    }

    /// Whether `kind` is required on this layer (it is wherever the layer has kinds).
    pub fn kind_required(self) -> bool {
        !self.kinds().is_empty()
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Layer {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Layer::ALL.into_iter().find(|l| l.as_str() == s).ok_or(())
    }
}

/// The kind of a street, resident grid or extended grid.
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
pub enum Kind {
    /// 街道
    Subdistrict,
    /// 镇
    Town,
    /// 开发区、农场等（类似乡级单位）
    Zone,
    /// 居委网格
    Residents,
    /// 村委网格
    Villagers,
    /// 厂区
    Factory,
    /// 校区
    Campus,
    /// 园区
    IndustrialPark,
    /// 商务区
    BusinessDistrict,
    /// 机关单位
    Institution,
    /// 公共区域
    PublicArea,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 11] = [
        Kind::Subdistrict,
        Kind::Town,
        Kind::Zone,
        Kind::Residents,
        Kind::Villagers,
        Kind::Factory,
        Kind::Campus,
        Kind::IndustrialPark,
        Kind::BusinessDistrict,
        Kind::Institution,
        Kind::PublicArea,
    ];

    /// The identifier used in the GeoJSON format, the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Subdistrict => "subdistrict",
            Kind::Town => "town",
            Kind::Zone => "zone",
            Kind::Residents => "residents",
            Kind::Villagers => "villagers",
            Kind::Factory => "factory",
            Kind::Campus => "campus",
            Kind::IndustrialPark => "industrial_park",
            Kind::BusinessDistrict => "business_district",
            Kind::Institution => "institution",
            Kind::PublicArea => "public_area",
        }
    }

    /// Chinese name.
    pub fn name_zh(self) -> &'static str {
        match self {
            Kind::Subdistrict => "街道",
            Kind::Town => "镇",
            Kind::Zone => "开发区",
            Kind::Residents => "居委",
            Kind::Villagers => "村委",
            Kind::Factory => "厂区",
            Kind::Campus => "校区",
            Kind::IndustrialPark => "园区",
            Kind::BusinessDistrict => "商务区",
            Kind::Institution => "机关单位",
            Kind::PublicArea => "公共区域",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_round_trip() {
        for l in Layer::ALL {
            assert_eq!(l.as_str().parse::<Layer>(), Ok(l));
        }
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
        }
        assert!("grid".parse::<Layer>().is_err());
    }

    #[test]
    fn parents_sort_before_children() {
        for l in Layer::ALL {
            for p in l.parent_layers() {
                assert!(*p < l, "{p} should sort before {l}");
            }
        }
    }

    #[test]
    fn every_kind_belongs_to_exactly_one_layer() {
        for k in Kind::ALL {
            let n = Layer::ALL.iter().filter(|l| l.kinds().contains(&k)).count();
            assert_eq!(n, 1, "{k}");
        }
    }
}
