//! The asset registers' API shapes: components (部件) with their unit grid and block, shops under
//! frontage duty (门责) with their binding and standing, inspections and the frontage at a point.

use crate::assets::record::Standing;
use crate::assets::{Component, Frontage, Inspection, InspectionItem, PointsEntry, ShopGeometry};
use crate::model::Person;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An area of the atlas named by code and name. (`AssetAreaRef` in the OpenAPI document: the
/// areas' and the cases' `AreaRef`s carry a layer, and one name holds one schema.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AssetAreaRef)]
pub struct AreaRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
}

/// A component as the API shows it: the register's row, the names of its classes and the unit
/// grid and block the live atlas places it in (computed, never stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComponentView {
    /// The register's row.
    #[serde(flatten)]
    pub component: Component,
    /// 大类 name (Chinese), from the class table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_name: Option<String>,
    /// 小类 name (Chinese), from the class table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subclass_name: Option<String>,
    /// The street it lies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<AreaRef>,
    /// The unit grid it lies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<AreaRef>,
    /// The responsibility block it lies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<AreaRef>,
    /// Distance from the point asked about, metres (lookups near a point only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
}

/// A page of components.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentList {
    /// Components, by code.
    pub components: Vec<ComponentView>,
    /// The `after=` of the next page, when this one is full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// Query of `GET /api/v1/components`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComponentListQuery {
    /// `min_lon,min_lat,max_lon,max_lat` (WGS84).
    pub bbox: Option<String>,
    /// Owner department (权属单位), exactly.
    pub owner: Option<String>,
    /// Major class, 2 digits (e.g. `01` 公用设施).
    pub class: Option<String>,
    /// Major class and subclass, 4 digits (e.g. `0101`).
    pub subclass: Option<String>,
    /// State: `intact`, `damaged`, `missing`, `occupied`, `abandoned` (or 完好, 破损, …).
    pub state: Option<String>,
    /// Codes after this one (the previous page's `next_after`).
    pub after: Option<String>,
    /// Page size, 1–10,000 (default 1,000).
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
}

/// Query of `GET /api/v1/components/near`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearQuery {
    /// Longitude (required).
    #[param(value_type = f64, required = true)]
    pub lon: Option<String>,
    /// Latitude (required).
    #[param(value_type = f64, required = true)]
    pub lat: Option<String>,
    /// `wgs84` (default), `cgcs2000`, `gcj02` or `bd09`.
    #[param(value_type = Option<crate::wire::lookup::CrsName>)]
    pub crs: Option<String>,
    /// Radius, metres, up to 1,000 (default 10).
    #[param(value_type = Option<f64>)]
    pub radius_m: Option<String>,
    /// Only this subclass (4 digits) or major class (2 digits).
    pub class: Option<String>,
}

/// Components near a point, nearest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentsNear {
    /// The point asked about, WGS84.
    pub point: [f64; 2],
    /// The radius searched, metres.
    pub radius_m: f64,
    /// Components within it, nearest first (with `distance_m`).
    pub components: Vec<ComponentView>,
}

/// Query of the register writes (`PUT`/`POST /api/v1/components`, `…/shops`).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterImportQuery {
    /// Coordinates of the file: `wgs84` (default), `cgcs2000`, `gcj02` or `bd09`.
    #[param(value_type = Option<crate::wire::lookup::CrsName>)]
    pub crs: Option<String>,
    /// CSV encoding: `utf-8`, `gbk` or absent (detected: valid UTF-8, else GBK).
    #[param(value_type = Option<crate::wire::field::CsvEncoding>)]
    pub encoding: Option<String>,
}

/// A shop as the API shows it: the register's row with its geometry as GeoJSON, the block it
/// lies in, its frontage binding and its standing. `contact` and `phone` are shown to admins,
/// supervisors and the dispatchers and grid workers of its street only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopView {
    /// Stable identifier.
    pub id: String,
    /// Name (店招).
    pub name: String,
    /// 统一社会信用代码.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<String>,
    /// Contact person (personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// Contact phone (personal data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// When its frontage pledge was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub pledge_signed: Option<NaiveDate>,
    /// Point (its door) or Polygon (its footprint), WGS84.
    #[schema(value_type = crate::wire::GeoJsonGeometry)]
    pub geometry: geojson::Geometry,
    /// The point the shop is placed by (its door, or its footprint's interior point).
    pub anchor: [f64; 2],
    /// The road segment it faces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontage: Option<Frontage>,
    /// The name of that road segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_name: Option<String>,
    /// The street it lies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<AreaRef>,
    /// The unit grid it lies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<AreaRef>,
    /// The responsibility block it lies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<AreaRef>,
    /// Its points within the rule's window and the level they reach.
    pub standing: Standing,
    /// Anything else the file gave.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// A page of shops.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopList {
    /// Shops, by id.
    pub shops: Vec<ShopView>,
    /// The `after=` of the next page, when this one is full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// Query of `GET /api/v1/shops`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShopListQuery {
    /// `min_lon,min_lat,max_lon,max_lat` (WGS84).
    pub bbox: Option<String>,
    /// Only the shops facing this road segment (its frontage list).
    pub segment: Option<String>,
    /// Only the shops of this area (a street, grid, block or road segment code): those facing a
    /// road segment within it and those standing in it, as the public board lists them.
    pub area: Option<String>,
    /// Ids after this one (the previous page's `next_after`).
    pub after: Option<String>,
    /// Page size, 1–10,000 (default 1,000).
    #[param(value_type = Option<u64>)]
    pub limit: Option<String>,
}

/// One shop with its inspections and points record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopDetail {
    /// The shop.
    pub shop: ShopView,
    /// Its frontage inspections within the points window, by date.
    pub inspections: Vec<Inspection>,
    /// Its points entries within the window, by time.
    pub points: Vec<PointsEntry>,
}

/// Body of `PUT /api/v1/shops/{id}/frontage`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrontageInput {
    /// The road segment the shop faces; `null` removes the binding.
    pub segment: Option<String>,
}

/// Answer of `PUT /api/v1/shops/{id}/frontage`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrontageSet {
    /// The shop.
    pub shop: String,
    /// The binding now (`source: manual`), or none.
    pub frontage: Option<Frontage>,
}

/// Body of `POST /api/v1/shops/{id}/inspections`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionInput {
    /// Date of the inspection.
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// Inspector (工号 or name).
    pub inspector: String,
    /// Items checked, at least one, at most 50.
    pub items: Vec<InspectionItem>,
    /// Photo keys, at most 20.
    #[serde(default)]
    pub photos: Vec<String>,
}

/// Answer of `POST /api/v1/shops/{id}/inspections`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Inspected {
    /// The inspection's id.
    pub id: i64,
    /// Points its failed items added.
    pub points: u32,
    /// The shop's standing after it.
    pub standing: Standing,
}

/// Query of `GET /api/v1/frontage`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FrontageQuery {
    /// Longitude (required).
    #[param(value_type = f64, required = true)]
    pub lon: Option<String>,
    /// Latitude (required).
    #[param(value_type = f64, required = true)]
    pub lat: Option<String>,
    /// `wgs84` (default), `cgcs2000`, `gcj02` or `bd09`.
    #[param(value_type = Option<crate::wire::lookup::CrsName>)]
    pub crs: Option<String>,
    /// Radius, metres, up to 200 (default: the routing's shop radius, 15).
    #[param(value_type = Option<f64>)]
    pub radius_m: Option<String>,
}

/// The shop frontage at a point: the shops there (a footprint containing it, or a door within
/// the radius), nearest first, each with the road segment it faces and the head of its block —
/// the person a frontage case goes to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FrontageAt {
    /// The point asked about, WGS84.
    pub point: [f64; 2],
    /// The radius searched, metres.
    pub radius_m: f64,
    /// Shops there, nearest first.
    pub shops: Vec<ShopAt>,
}

/// One shop at a point.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShopAt {
    /// Distance from the point, metres (0 inside its footprint).
    pub distance_m: f64,
    /// The shop.
    pub shop: ShopView,
    /// The head of its block (责任块长), who a frontage case goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_head: Option<Person>,
}

/// A shop's geometry as GeoJSON: a Point, or a Polygon (exterior then holes).
pub fn shop_geometry(g: &ShopGeometry) -> geojson::Geometry {
    let value = match g {
        ShopGeometry::Point(lon, lat) => geojson::Value::Point(vec![*lon, *lat]),
        ShopGeometry::Polygon(p) => geojson::Value::Polygon(
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(|r| r.0.iter().map(|c| vec![c.x, c.y]).collect())
                .collect(),
        ),
    };
    geojson::Geometry::new(value)
}
