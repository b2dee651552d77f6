//! The serde visitors that stream the top-level object and its `features` one element at a time
//! into the raw forms of `raw.rs`, within the position budget of [`super::ReadOptions`].

use super::Problem;
use super::raw::{Budget, Node, Pos, RawFeature, RawFeatureObject, RawGeometry, RawGeometryObject};
use super::state::State;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// `properties` read as a value, with the keys its object repeats (a plain `Value` would keep the
/// last silently).
pub(super) struct PropertiesWithDuplicates(Value, Vec<String>);

impl<'de> Deserialize<'de> for PropertiesWithDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PropertiesWithDuplicates;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = serde_json::Map::new();
                let mut dups = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v: Value = map.next_value()?;
                    if out.insert(k.clone(), v).is_some() && !dups.contains(&k) {
                        dups.push(k);
                    }
                }
                Ok(PropertiesWithDuplicates(Value::Object(out), dups))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let v = Value::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))?;
                Ok(PropertiesWithDuplicates(v, Vec::new()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::Bool(v), Vec::new()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::from(v), Vec::new()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::from(v), Vec::new()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::from(v), Vec::new()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::from(v), Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::Null, Vec::new()))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(PropertiesWithDuplicates(Value::Null, Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Implements the visitor methods for scalars and containers that are "the wrong JSON type",
/// mapping each to `$wrap(name)` (and draining containers).
macro_rules! other_types {
    ($wrap:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($wrap("a boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($wrap("a number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($wrap("a number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($wrap("a number"))
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($wrap("a string"))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($wrap("an array"))
        }
    };
}

pub(super) struct TopVisitor<'a, 'o> {
    pub(super) st: &'a mut State<'o>,
}

impl<'de> Visitor<'de> for TopVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.st;
        while let Some(key) = map.next_key::<TopKey>()? {
            match key {
                TopKey::Type => {
                    let v: Value = map.next_value()?;
                    if st.seen_type {
                        st.top_problem("type", "member \"type\" appears more than once".into());
                    }
                    st.seen_type = true;
                    if v.as_str() != Some("FeatureCollection") {
                        let hint = match v.as_str() {
                            Some("Feature") => {
                                " (wrap the feature: {\"type\": \"FeatureCollection\", \"features\": [ … ]})"
                            }
                            _ => "",
                        };
                        st.top_problem(
                            "type",
                            format!("type is {v}, expected \"FeatureCollection\"{hint}"),
                        );
                    }
                }
                TopKey::Features => {
                    if st.seen_features {
                        st.top_problem(
                            "features",
                            "member \"features\" appears more than once".into(),
                        );
                    }
                    st.seen_features = true;
                    map.next_value_seed(FeaturesSeed { st: &mut *st })?;
                }
                TopKey::ManagementUnits => {
                    let v: Value = map.next_value()?;
                    if st.units.is_some() {
                        st.top_problem(
                            "management_units",
                            "member \"management_units\" appears more than once".into(),
                        );
                    }
                    st.units = Some(v);
                }
                TopKey::Crs => {
                    let v: Value = map.next_value()?;
                    st.check_crs("crs", &v);
                }
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Deserializes a key into one of a fixed set of names (anything else is `$other`).
macro_rules! key_enum {
    ($name:ident { $($s:literal => $v:ident),* $(,)? } else $other:ident) => {
        enum $name { $($v,)* $other }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("a member name")
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<$name, E> {
                        Ok(match s { $($s => $name::$v,)* _ => $name::$other })
                    }
                }
                d.deserialize_identifier(V)
            }
        }
    };
}

key_enum!(TopKey { "type" => Type, "features" => Features, "management_units" => ManagementUnits, "crs" => Crs } else Other);
key_enum!(FeatureKey { "type" => Type, "properties" => Properties, "geometry" => Geometry, "id" => Id } else Other);
key_enum!(GeometryKey { "type" => Type, "coordinates" => Coordinates, "crs" => Crs } else Other);

pub(super) struct FeaturesSeed<'a, 'o> {
    pub(super) st: &'a mut State<'o>,
}

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let st = self.st;
        loop {
            let index = st.metas.len();
            st.budget = Budget {
                left: st.opts.max_positions_per_feature.unwrap_or(usize::MAX),
                exceeded: false,
            };
            let raw = match seq.next_element_seed(FeatureSeed {
                budget: &mut st.budget,
            }) {
                Ok(Some(raw)) => raw,
                Ok(None) => break,
                Err(e) => {
                    if st.budget.exceeded {
                        let max = st.opts.max_positions_per_feature.unwrap_or(usize::MAX);
                        st.too_large = Some(Problem {
                            index: Some(index),
                            code: None,
                            path: format!("features[{index}].geometry.coordinates"),
                            message: format!(
                                "more than {max} positions in one feature (the limit); simplify the geometry or split the feature"
                            ),
                        });
                    }
                    return Err(e);
                }
            };
            if let Some(max) = st.opts.max_features {
                if index >= max {
                    st.too_large = Some(Problem {
                        index: Some(index),
                        code: None,
                        path: format!("features[{index}]"),
                        message: format!("more than {max} features (the limit)"),
                    });
                    return Err(de::Error::custom("feature limit exceeded"));
                }
            }
            st.accept(index, raw);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.st.top_problem(
            "features",
            "features is an object, expected an array".into(),
        );
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.st
            .top_problem("features", "features is null, expected an array".into());
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.visit_unit()
    }
}

pub(super) struct FeatureSeed<'a> {
    pub(super) budget: &'a mut Budget,
}

impl<'de> DeserializeSeed<'de> for FeatureSeed<'_> {
    type Value = RawFeature;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawFeature, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FeatureSeed<'_> {
    type Value = RawFeature;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Feature object")
    }

    other_types!(RawFeature::NotObject);

    fn visit_unit<E: de::Error>(self) -> Result<RawFeature, E> {
        Ok(RawFeature::NotObject("null"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFeature, A::Error> {
        let mut o = RawFeatureObject {
            ty: None,
            properties: None,
            property_duplicates: Vec::new(),
            geometry: None,
            has_id: false,
            duplicates: Vec::new(),
        };
        while let Some(key) = map.next_key::<FeatureKey>()? {
            match key {
                FeatureKey::Type => {
                    if o.ty.replace(map.next_value()?).is_some() {
                        o.duplicates.push("type");
                    }
                }
                FeatureKey::Properties => {
                    let PropertiesWithDuplicates(v, dups) = map.next_value()?;
                    if o.properties.replace(v).is_some() {
                        o.duplicates.push("properties");
                    }
                    o.property_duplicates = dups;
                }
                FeatureKey::Geometry => {
                    let g = map.next_value_seed(GeometrySeed {
                        budget: &mut *self.budget,
                    })?;
                    if o.geometry.replace(g).is_some() {
                        o.duplicates.push("geometry");
                    }
                }
                FeatureKey::Id => {
                    map.next_value::<IgnoredAny>()?;
                    o.has_id = true;
                }
                FeatureKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(RawFeature::Object(Box::new(o)))
    }
}

pub(super) struct GeometrySeed<'a> {
    pub(super) budget: &'a mut Budget,
}

impl<'de> DeserializeSeed<'de> for GeometrySeed<'_> {
    type Value = RawGeometry;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RawGeometry, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for GeometrySeed<'_> {
    type Value = RawGeometry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a geometry object")
    }

    other_types!(RawGeometry::NotObject);

    fn visit_unit<E: de::Error>(self) -> Result<RawGeometry, E> {
        Ok(RawGeometry::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawGeometry, A::Error> {
        let mut o = RawGeometryObject {
            ty: None,
            coordinates: None,
            crs: None,
            duplicates: Vec::new(),
        };
        while let Some(key) = map.next_key::<GeometryKey>()? {
            match key {
                GeometryKey::Type => {
                    if o.ty.replace(map.next_value()?).is_some() {
                        o.duplicates.push("type");
                    }
                }
                GeometryKey::Coordinates => {
                    let n = map.next_value_seed(NodeSeed {
                        budget: &mut *self.budget,
                    })?;
                    if o.coordinates.replace(n).is_some() {
                        o.duplicates.push("coordinates");
                    }
                }
                GeometryKey::Crs => {
                    if o.crs.replace(map.next_value()?).is_some() {
                        o.duplicates.push("crs");
                    }
                }
                GeometryKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(RawGeometry::Object(o))
    }
}

pub(super) struct NodeSeed<'a> {
    pub(super) budget: &'a mut Budget,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("coordinates")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Other("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Num(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Num(v))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Other("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Other("null"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Node::Other("an object"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let budget = self.budget;
        let first = match seq.next_element_seed(NodeSeed {
            budget: &mut *budget,
        })? {
            None => return Ok(Node::List(Vec::new())),
            Some(n) => n,
        };
        if let Node::Num(x) = first {
            // A position: keep the first two numbers, count the rest.
            let mut p = Pos {
                x,
                y: f64::NAN,
                len: 1,
                bad: 0,
            };
            while let Some(n) = seq.next_element_seed(NodeSeed {
                budget: &mut *budget,
            })? {
                match n {
                    Node::Num(v) if p.len == 1 => p.y = v,
                    Node::Num(_) => {}
                    _ if p.bad == 0 => p.bad = p.len.saturating_add(1),
                    _ => {}
                }
                p.len = p.len.saturating_add(1);
            }
            return Ok(Node::Pos(p));
        }
        let mut items = vec![first];
        spend(budget)?;
        while let Some(n) = seq.next_element_seed(NodeSeed {
            budget: &mut *budget,
        })? {
            spend(budget)?;
            items.push(n);
        }
        Ok(Node::List(items))
    }
}

/// Counts one stored coordinate node against the feature's budget.
pub(super) fn spend<E: de::Error>(budget: &mut Budget) -> Result<(), E> {
    if budget.left == 0 {
        budget.exceeded = true;
        return Err(E::custom("position limit exceeded"));
    }
    budget.left -= 1;
    Ok(())
}
