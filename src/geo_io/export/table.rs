//! The columns of an exported layer and each feature's value in them, shared by the Shapefile
//! and GeoPackage writers. See docs/formats.md ("Export: columns") for the mapping.

use crate::model::{Feature, Person};
use serde_json::Value;

/// Where a column's values come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `layer`.
    Layer,
    /// `code`.
    Code,
    /// `name`.
    Name,
    /// `parent`.
    Parent,
    /// `kind`.
    Kind,
    /// `people`, the whole list as JSON text.
    People,
    /// One member of the `index`-th person (0-based).
    Person(usize, PersonPart),
    /// An attribute.
    Attribute(String),
}

/// A member of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonPart {
    /// `role` (the identifier, e.g. `station_head`).
    Role,
    /// `name`.
    Name,
    /// `phone`.
    Phone,
    /// `photo_url`.
    Photo,
    /// `staff_id`.
    Staff,
}

impl PersonPart {
    /// Every member, in column order.
    pub const ALL: [PersonPart; 5] = [
        PersonPart::Role,
        PersonPart::Name,
        PersonPart::Phone,
        PersonPart::Photo,
        PersonPart::Staff,
    ];

    /// The Shapefile column suffix: `role`, `name`, `tel`, `photo`, `staff`.
    pub fn suffix(self) -> &'static str {
        match self {
            PersonPart::Role => "role",
            PersonPart::Name => "name",
            PersonPart::Phone => "tel",
            PersonPart::Photo => "photo",
            PersonPart::Staff => "staff",
        }
    }

    /// The member's name in the GeoJSON format.
    pub fn member(self) -> &'static str {
        match self {
            PersonPart::Role => "role",
            PersonPart::Name => "name",
            PersonPart::Phone => "phone",
            PersonPart::Photo => "photo_url",
            PersonPart::Staff => "staff_id",
        }
    }

    fn of(self, p: &Person) -> Option<String> {
        match self {
            PersonPart::Role => Some(p.role.as_str().to_owned()),
            PersonPart::Name => Some(p.name.clone()),
            PersonPart::Phone => p.phone.clone(),
            PersonPart::Photo => p.photo_url.clone(),
            PersonPart::Staff => p.staff_id.clone(),
        }
    }
}

impl Source {
    /// The property as written in error messages and docs: `name`, `people[0].phone`, `road`.
    pub fn property(&self) -> String {
        match self {
            Source::Layer => "layer".into(),
            Source::Code => "code".into(),
            Source::Name => "name".into(),
            Source::Parent => "parent".into(),
            Source::Kind => "kind".into(),
            Source::People => "people".into(),
            Source::Person(i, part) => format!("people[{i}].{}", part.member()),
            Source::Attribute(k) => k.clone(),
        }
    }

    /// The feature's value (JSON null when absent).
    pub fn value(&self, f: &Feature) -> Value {
        let text = |s: Option<String>| s.map_or(Value::Null, Value::String);
        match self {
            Source::Layer => Value::String(f.layer.as_str().into()),
            Source::Code => Value::String(f.code.clone()),
            Source::Name => Value::String(f.name.clone()),
            Source::Parent => text(f.parent.clone()),
            Source::Kind => text(f.kind.map(|k| k.as_str().to_owned())),
            Source::People if f.people.is_empty() => Value::Null,
            Source::People => serde_json::to_value(&f.people).unwrap_or(Value::Null),
            Source::Person(i, part) => text(f.people.get(*i).and_then(|p| part.of(p))),
            Source::Attribute(k) => f.attributes.get(k).cloned().unwrap_or(Value::Null),
        }
    }
}

/// The type a column's values share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text (strings, or none at all).
    Text,
    /// Whole numbers that fit an `i64`.
    Integer,
    /// Numbers, some not whole.
    Real,
    /// true/false.
    Bool,
    /// Mixed types, arrays or objects: written as text (a string as itself, anything else as
    /// its JSON).
    Json,
}

impl ColumnType {
    /// The type of a column holding `values` (nulls do not count).
    pub fn of<'a>(values: impl Iterator<Item = &'a Value>) -> ColumnType {
        let mut t: Option<ColumnType> = None;
        for v in values {
            let this = match v {
                Value::Null => continue,
                Value::String(_) => ColumnType::Text,
                Value::Bool(_) => ColumnType::Bool,
                Value::Number(n) if n.is_i64() => ColumnType::Integer,
                Value::Number(_) => ColumnType::Real,
                Value::Array(_) | Value::Object(_) => return ColumnType::Json,
            };
            t = Some(match (t, this) {
                (None, x) => x,
                (Some(a), b) if a == b => a,
                (Some(ColumnType::Integer), ColumnType::Real)
                | (Some(ColumnType::Real), ColumnType::Integer) => ColumnType::Real,
                _ => return ColumnType::Json,
            });
        }
        t.unwrap_or(ColumnType::Text)
    }
}

/// A value as text: a string as itself, anything else as its JSON; null is `None`.
pub fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The attribute keys of `features`, in first-seen order.
pub fn attribute_keys(features: &[&Feature]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut keys = Vec::new();
    for f in features {
        for k in f.attributes.keys() {
            if seen.insert(k.as_str()) {
                keys.push(k.clone());
            }
        }
    }
    keys
}

/// The sources of a layer's columns, in order, with the people as one JSON column
/// (`split_people` false) or split into one column per person and member that any feature has.
pub fn sources(features: &[&Feature], split_people: bool) -> Vec<Source> {
    let mut out = vec![Source::Layer, Source::Code, Source::Name];
    if features.iter().any(|f| f.parent.is_some()) {
        out.push(Source::Parent);
    }
    if features.iter().any(|f| f.kind.is_some()) {
        out.push(Source::Kind);
    }
    let most = features.iter().map(|f| f.people.len()).max().unwrap_or(0);
    if split_people {
        for i in 0..most {
            for part in PersonPart::ALL {
                if features
                    .iter()
                    .any(|f| f.people.get(i).and_then(|p| part.of(p)).is_some())
                {
                    out.push(Source::Person(i, part));
                }
            }
        }
    } else if most > 0 {
        out.push(Source::People);
    }
    out.extend(attribute_keys(features).into_iter().map(Source::Attribute));
    out
}

/// `name`, or `name_2`, `name_3`, … — the first not in `taken` (compared case-insensitively),
/// each candidate cut to what `fits` accepts; the chosen name is added to `taken`.
pub fn unique_name(
    name: &str,
    taken: &mut std::collections::HashSet<String>,
    fits: impl Fn(&str) -> bool,
) -> Option<String> {
    let cut = |s: &str, suffix: &str| -> Option<String> {
        let mut base: String = s.to_owned();
        loop {
            let candidate = format!("{base}{suffix}");
            if fits(&candidate) {
                return Some(candidate);
            }
            base.pop()?;
        }
    };
    for n in 1..10_000 {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("_{n}")
        };
        let candidate = cut(name, &suffix)?;
        if !candidate.is_empty() && taken.insert(candidate.to_lowercase()) {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashSet;

    #[test]
    fn column_types() {
        let t = |v: Value| ColumnType::of(v.as_array().expect("array").iter());
        assert_eq!(t(json!([null, "a"])), ColumnType::Text);
        assert_eq!(t(json!([])), ColumnType::Text);
        assert_eq!(t(json!([1, null, -3])), ColumnType::Integer);
        assert_eq!(t(json!([1, 2.5])), ColumnType::Real);
        assert_eq!(t(json!([true, false])), ColumnType::Bool);
        assert_eq!(t(json!(["a", 1])), ColumnType::Json);
        assert_eq!(t(json!([[1]])), ColumnType::Json);
    }

    #[test]
    fn names_are_cut_and_made_unique() {
        let mut taken: HashSet<String> = ["code".to_owned()].into();
        let ten = |s: &str| s.len() <= 10;
        assert_eq!(
            unique_name("CODE", &mut taken, ten).as_deref(),
            Some("CODE_2")
        );
        assert_eq!(
            unique_name("police_station", &mut taken, ten).as_deref(),
            Some("police_sta")
        );
        assert_eq!(
            unique_name("police_stations", &mut taken, ten).as_deref(),
            Some("police_s_2")
        );
        assert_eq!(
            unique_name("网格编码名称", &mut taken, ten).as_deref(),
            Some("网格编")
        );
    }
}
