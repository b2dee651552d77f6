//! Features (areas and road segments), management units and the feature set.

use super::{Kind, Layer, Person, Role};
use geo::{MultiLineString, MultiPolygon};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A feature's geometry: an area (streets, grids, blocks, the district) or a line (road segments).
///
/// Polygons are always stored as multipolygons, lines as multilinestrings, so that code handles one
/// shape per kind. Exterior rings are counter-clockwise and holes clockwise (RFC 7946), closed
/// (first position repeated last).
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// Polygon or MultiPolygon.
    Area(MultiPolygon<f64>),
    /// LineString or MultiLineString.
    Line(MultiLineString<f64>),
}

impl Geometry {
    /// The area, if this is one.
    pub fn as_area(&self) -> Option<&MultiPolygon<f64>> {
        match self {
            Geometry::Area(a) => Some(a),
            Geometry::Line(_) => None,
        }
    }

    /// The line, if this is one.
    pub fn as_line(&self) -> Option<&MultiLineString<f64>> {
        match self {
            Geometry::Line(l) => Some(l),
            Geometry::Area(_) => None,
        }
    }

    /// Number of positions (closing positions included), as a file would store them.
    pub fn position_count(&self) -> usize {
        match self {
            Geometry::Area(mp) => mp
                .0
                .iter()
                .map(|p| {
                    p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>()
                })
                .sum(),
            Geometry::Line(ml) => ml.0.iter().map(|l| l.0.len()).sum(),
        }
    }
}

/// One area or road segment of the territory.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Layer.
    pub layer: Layer,
    /// Unique code, stable across versions (opaque; the demo uses statistical codes).
    pub code: String,
    /// Display name.
    pub name: String,
    /// Code of the parent area (none for the district; optional for streets).
    pub parent: Option<String>,
    /// Kind, where the layer has kinds.
    pub kind: Option<Kind>,
    /// People responsible (block head, station head, …).
    pub people: Vec<Person>,
    /// Every other property, kept as given and returned on lookups.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// Geometry, in WGS84 longitude/latitude.
    pub geometry: Geometry,
}

impl Feature {
    /// The first person with `role`, if any (e.g. the block head).
    pub fn person(&self, role: Role) -> Option<&Person> {
        self.people.iter().find(|p| p.role == role)
    }
}

/// What a management unit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ManagementUnitKind {
    /// 城管: city management.
    CityManagement,
    /// 市场监管: market supervision.
    MarketSupervision,
    /// Any other service organised one-to-many.
    Other,
}

/// 管理单元: several grids served one-to-many by one team. No geometry of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ManagementUnit {
    /// Unique code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Service.
    pub kind: ManagementUnitKind,
    /// Codes of the grids served.
    pub grids: Vec<String>,
    /// Team members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<Person>,
}

/// A whole territory: features in file order, their code index, and the management units.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureSet {
    features: Vec<Feature>,
    by_code: HashMap<String, usize>,
    /// Management units.
    pub management_units: Vec<ManagementUnit>,
}

impl FeatureSet {
    /// A feature set from features whose codes are unique. On a duplicate code the later feature
    /// replaces nothing: it is returned as the error (the reader reports duplicates before this).
    pub fn new(
        features: Vec<Feature>,
        management_units: Vec<ManagementUnit>,
    ) -> Result<Self, Box<Feature>> {
        let mut by_code = HashMap::with_capacity(features.len());
        for (i, f) in features.iter().enumerate() {
            if by_code.insert(f.code.clone(), i).is_some() {
                return Err(Box::new(f.clone()));
            }
        }
        Ok(FeatureSet {
            features,
            by_code,
            management_units,
        })
    }

    /// The set with every position mapped by `f(lon, lat)`: geometries, and each feature's
    /// `workstation` attribute point (`{lon, lat, …}`).
    pub fn map_positions(mut self, f: impl Fn(f64, f64) -> (f64, f64)) -> FeatureSet {
        let g = |c: &mut geo::Coord<f64>| {
            let (x, y) = f(c.x, c.y);
            c.x = x;
            c.y = y;
        };
        for feature in &mut self.features {
            match &mut feature.geometry {
                Geometry::Area(mp) => {
                    for p in &mut mp.0 {
                        p.exterior_mut(|r| r.0.iter_mut().for_each(g));
                        p.interiors_mut(|rs| {
                            rs.iter_mut().for_each(|r| r.0.iter_mut().for_each(g))
                        });
                    }
                }
                Geometry::Line(ml) => ml.0.iter_mut().for_each(|l| l.0.iter_mut().for_each(g)),
            }
            if let Some(w) = feature.attributes.get_mut("workstation")
                && let (Some(lon), Some(lat)) = (
                    w.get("lon").and_then(|v| v.as_f64()),
                    w.get("lat").and_then(|v| v.as_f64()),
                )
            {
                let (x, y) = f(lon, lat);
                w["lon"] = serde_json::json!(x);
                w["lat"] = serde_json::json!(y);
            }
        }
        self
    }

    /// All features, in file order.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// Consumes the set, giving back its features and management units.
    pub fn into_parts(self) -> (Vec<Feature>, Vec<ManagementUnit>) {
        (self.features, self.management_units)
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// True when there are no features.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// Index of the feature with `code`.
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.by_code.get(code).copied()
    }

    /// The feature with `code`.
    pub fn get(&self, code: &str) -> Option<&Feature> {
        self.index_of(code).map(|i| &self.features[i])
    }

    /// The parent feature of `f`, if it names one that exists.
    pub fn parent_of(&self, f: &Feature) -> Option<&Feature> {
        f.parent.as_deref().and_then(|c| self.get(c))
    }

    /// Features of one layer, in file order.
    pub fn layer(&self, layer: Layer) -> impl Iterator<Item = &Feature> {
        self.features.iter().filter(move |f| f.layer == layer)
    }

    /// The district feature, if the set has one.
    pub fn district(&self) -> Option<&Feature> {
        self.layer(Layer::District).next()
    }

    /// Total number of positions over all geometries (the "raw coordinate" count).
    pub fn position_count(&self) -> usize {
        self.features
            .iter()
            .map(|f| f.geometry.position_count())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, MultiLineString, Polygon, polygon};

    #[test]
    fn map_positions_moves_every_position_and_the_workstation() {
        let area = Polygon::new(
            LineString::from(vec![(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 0.0)]),
            vec![LineString::from(vec![
                (0.25, 0.125),
                (0.5, 0.125),
                (0.5, 0.25),
                (0.25, 0.125),
            ])],
        );
        let mut attributes = serde_json::Map::new();
        attributes.insert(
            "workstation".into(),
            serde_json::json!({"lon": 2.0, "lat": 3.0, "address": "x"}),
        );
        let grid = Feature {
            layer: Layer::ResidentGrid,
            code: "G".into(),
            name: "g".into(),
            parent: None,
            kind: None,
            people: vec![],
            attributes,
            geometry: Geometry::Area(MultiPolygon(vec![area])),
        };
        let road = Feature {
            layer: Layer::RoadSegment,
            code: "R".into(),
            name: "r".into(),
            parent: None,
            kind: None,
            people: vec![],
            attributes: serde_json::Map::new(),
            geometry: Geometry::Line(MultiLineString(vec![LineString::from(vec![
                (5.0, 5.0),
                (6.0, 6.0),
            ])])),
        };
        let set = FeatureSet::new(vec![grid, road], vec![])
            .expect("set")
            .map_positions(|x, y| (x + 10.0, y * 2.0));
        let g = set.get("G").expect("grid");
        let want = polygon!(
            exterior: [(x: 10.0, y: 0.0), (x: 11.0, y: 0.0), (x: 11.0, y: 2.0), (x: 10.0, y: 0.0)],
            interiors: [[(x: 10.25, y: 0.25), (x: 10.5, y: 0.25), (x: 10.5, y: 0.5), (x: 10.25, y: 0.25)]],
        );
        assert_eq!(g.geometry, Geometry::Area(MultiPolygon(vec![want])));
        assert_eq!(
            g.attributes["workstation"],
            serde_json::json!({"lon": 12.0, "lat": 6.0, "address": "x"})
        );
        let r = set.get("R").expect("road");
        assert_eq!(
            r.geometry,
            Geometry::Line(MultiLineString(vec![LineString::from(vec![
                (15.0, 10.0),
                (16.0, 12.0)
            ])]))
        );
        assert_eq!(set.index_of("R"), Some(1));
    }
}
