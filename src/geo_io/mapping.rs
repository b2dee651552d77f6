//! Attribute mapping: which column of a table (Shapefile DBF, GeoPackage, CSV) is a feature's
//! `layer`, `code`, `name`, `parent`, `kind` and `people`. See docs/formats.md.
//!
//! 1. [`ColumnMapping`] is a small JSON object (a file, the CLI's `--mapping`/`--column`, the
//!    upload's `mapping` query parameter); every member is optional and defaults to the
//!    standard property name of docs/geojson-format.md (`layer`, `code`, …; `people` is then a
//!    column holding the JSON array, if there is one). A CSV's geometry columns are `wkt`, or
//!    `lon` and `lat` (read by [`super::csv_read`]; the other formats ignore them).
//! 2. [`ColumnMapping::resolve`] checks it against one table's columns: a named column that is
//!    missing, or a table without a code column and no mapping, is an error that lists the
//!    columns found.
//! 3. [`Resolved::feature`] makes one record a GeoJSON Feature value for the GeoJSON reader's
//!    checks: the mapped columns become the standard properties (empty cells are absent;
//!    Chinese names of layers, kinds and roles — 居村网格, 镇, 网格站长 — are taken), the rest
//!    are kept as attributes under their own names. [`Resolved::column_of`] maps a property path
//!    back to the column, so problems name the column.

use crate::model::{Kind, Layer, Role};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Which columns hold the standard properties.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// The column holding the layer (`resident_grid` or 居村网格 …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<String>,
    /// The layer of every feature of a file layer (Shapefile stem, GeoPackage table, CSV file
    /// stem) without a layer column, e.g. `{"roads": "road_segment"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub layer_of: BTreeMap<String, String>,
    /// The column holding the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The column holding the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The column holding the parent's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The column holding the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// People, one entry per person column group (a row with an empty name has no such person).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<PersonColumns>,
    /// A CSV's column holding the geometry as WKT (default `wkt`, `WKT` or `geometry`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wkt: Option<String>,
    /// A CSV's column holding a point's longitude or easting (default `lon`), with `lat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<String>,
    /// A CSV's column holding a point's latitude or northing (default `lat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<String>,
}

/// The columns of one person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonColumns {
    /// The role of this person in every row (`station_head` or 网格站长 …); or
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// the column holding the role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_column: Option<String>,
    /// The column holding the name (e.g. 责任人).
    pub name: String,
    /// The column holding the phone number (e.g. 联系电话).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// The column holding the staff number (工号).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
}

/// The most people column groups in a mapping.
pub const MAX_PEOPLE: usize = 32;

impl ColumnMapping {
    /// Parses a mapping from JSON text; the error says what is wrong.
    pub fn from_json(text: &str) -> Result<ColumnMapping, String> {
        let m: ColumnMapping =
            serde_json::from_str(text).map_err(|e| format!("the column mapping: {e}"))?;
        if m.people.len() > MAX_PEOPLE {
            return Err(format!(
                "the column mapping has {} people; at most {MAX_PEOPLE}",
                m.people.len()
            ));
        }
        for p in &m.people {
            if p.role.is_some() == p.role_column.is_some() {
                return Err(format!(
                    "the column mapping's person with name column {:?} needs exactly one of role and role_column",
                    p.name
                ));
            }
            if let Some(r) = &p.role {
                if role_of(r).is_none() {
                    return Err(format!(
                        "the column mapping names the role {r:?}; expected one of {}",
                        Role::ALL
                            .iter()
                            .map(|r| format!("{} ({})", r.as_str(), r.name_zh()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        for (k, l) in &m.layer_of {
            if layer_of(l).is_none() {
                return Err(format!(
                    "the column mapping's layer_of gives {k:?} the layer {l:?}; expected one of {}",
                    Layer::ALL.map(|l| l.as_str()).join(", ")
                ));
            }
        }
        Ok(m)
    }

    /// Sets one member from a CLI flag `KEY=COLUMN` (`layer`, `code`, `name`, `parent`, `kind`,
    /// `wkt`, `lon`, `lat`, `layer_of.FILE_LAYER`); people only through JSON.
    pub fn set(&mut self, flag: &str) -> Result<(), String> {
        let (k, v) = flag
            .split_once('=')
            .ok_or_else(|| format!("{flag:?}: expected KEY=COLUMN, e.g. code=网格编码"))?;
        let v = v.to_string();
        match k {
            "layer" => self.layer = Some(v),
            "code" => self.code = Some(v),
            "name" => self.name = Some(v),
            "parent" => self.parent = Some(v),
            "kind" => self.kind = Some(v),
            "wkt" => self.wkt = Some(v),
            "lon" => self.lon = Some(v),
            "lat" => self.lat = Some(v),
            _ => match k.strip_prefix("layer_of.") {
                Some(file) if layer_of(&v).is_some() => {
                    self.layer_of.insert(file.to_string(), v);
                }
                _ => {
                    return Err(format!(
                        "{flag:?}: unknown key {k:?}; expected layer, code, name, parent, kind, wkt, lon, lat or layer_of.FILE_LAYER=LAYER"
                    ));
                }
            },
        }
        Ok(())
    }

    /// Checks the mapping against one table's columns. `given` is false when no mapping was
    /// given (the defaults are used); then a missing `code` column asks for one.
    pub fn resolve(
        &self,
        given: bool,
        file_layer: &str,
        columns: &[String],
    ) -> Result<Resolved, String> {
        let find = |c: &str| columns.iter().position(|x| x == c);
        let listed = || {
            if columns.is_empty() {
                "it has no columns".to_string()
            } else {
                format!("its columns are {}", columns.join(", "))
            }
        };
        let mut missing = Vec::new();
        let mut pick = |what: &str, named: &Option<String>, required: bool| -> Option<usize> {
            match named {
                Some(c) => {
                    let i = find(c);
                    if i.is_none() {
                        missing.push(format!("{what} column {c:?}"));
                    }
                    i
                }
                None => {
                    let i = find(what);
                    if i.is_none() && required {
                        missing.push(format!("a {what} column"));
                    }
                    i
                }
            }
        };
        let fixed_layer = match self.layer_of.get(file_layer) {
            Some(l) => Some(layer_of(l).ok_or_else(|| format!("unknown layer {l:?}"))?),
            None => None,
        };
        let layer = pick("layer", &self.layer, fixed_layer.is_none());
        let code = pick("code", &self.code, true);
        let name = pick("name", &self.name, true);
        let parent = pick("parent", &self.parent, false);
        let kind = pick("kind", &self.kind, false);
        let mut people = Vec::new();
        let mut people_json = None;
        if self.people.is_empty() {
            people_json = find("people");
        }
        for p in &self.people {
            let name = pick("person name", &Some(p.name.clone()), true);
            let phone = p
                .phone
                .as_ref()
                .and_then(|c| pick("person phone", &Some(c.clone()), true));
            let staff = p
                .staff_id
                .as_ref()
                .and_then(|c| pick("person staff_id", &Some(c.clone()), true));
            let role = match (&p.role, &p.role_column) {
                (Some(r), _) => RoleFrom::Fixed(role_of(r).unwrap_or(Role::Assistant)),
                (None, Some(c)) => match pick("person role", &Some(c.clone()), true) {
                    Some(i) => RoleFrom::Column(i),
                    None => RoleFrom::Fixed(Role::Assistant),
                },
                (None, None) => RoleFrom::Fixed(Role::Assistant),
            };
            if let Some(name) = name {
                people.push(ResolvedPerson {
                    role,
                    name,
                    phone,
                    staff,
                });
            }
        }
        if !missing.is_empty() {
            let hint = if given {
                ""
            } else {
                " — give a column mapping (which column is the layer, code, name, parent, kind, people)"
            };
            return Err(format!(
                "{file_layer}: no {}; {}{hint}",
                missing.join(", no "),
                listed()
            ));
        }
        let mut used = vec![false; columns.len()];
        for i in [layer, code, name, parent, kind, people_json]
            .into_iter()
            .flatten()
        {
            used[i] = true;
        }
        for p in &people {
            used[p.name] = true;
            for i in [p.phone, p.staff].into_iter().flatten() {
                used[i] = true;
            }
            if let RoleFrom::Column(i) = p.role {
                used[i] = true;
            }
        }
        Ok(Resolved {
            columns: columns.to_vec(),
            fixed_layer,
            layer,
            code,
            name,
            parent,
            kind,
            people,
            people_json,
            used,
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum RoleFrom {
    Fixed(Role),
    Column(usize),
}

#[derive(Debug, Clone)]
struct ResolvedPerson {
    role: RoleFrom,
    name: usize,
    phone: Option<usize>,
    staff: Option<usize>,
}

/// A mapping checked against one table's columns.
#[derive(Debug, Clone)]
pub struct Resolved {
    columns: Vec<String>,
    fixed_layer: Option<Layer>,
    layer: Option<usize>,
    code: Option<usize>,
    name: Option<usize>,
    parent: Option<usize>,
    kind: Option<usize>,
    people: Vec<ResolvedPerson>,
    people_json: Option<usize>,
    used: Vec<bool>,
}

fn layer_of(s: &str) -> Option<Layer> {
    let s = s.trim();
    Layer::ALL
        .into_iter()
        .find(|l| l.as_str() == s || l.name_zh() == s)
}

fn role_of(s: &str) -> Option<Role> {
    let s = s.trim();
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == s || r.name_zh() == s)
}

fn kind_of(s: &str) -> Option<Kind> {
    let s = s.trim();
    Kind::ALL
        .into_iter()
        .find(|k| k.as_str() == s || k.name_zh() == s)
}

/// A cell as a string (`None` when empty or null); numbers as written.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Resolved {
    /// The record `values` (one per column) and its GeoJSON `geometry` as a Feature value.
    pub fn feature(&self, values: &[Value], geometry: Value) -> Value {
        let get = |i: Option<usize>| i.and_then(|i| values.get(i)).and_then(text);
        let mut p = Map::new();
        let layer = match self.fixed_layer {
            Some(l) => Some(l.as_str().to_string()),
            None => get(self.layer).map(|s| layer_of(&s).map_or(s, |l| l.as_str().into())),
        };
        p.insert("layer".into(), layer.map_or(Value::Null, Value::String));
        // A number cell (a numeric DBF or GeoPackage column) is taken as the digits written.
        let code = get(self.code).map_or(Value::Null, Value::String);
        p.insert("code".into(), code);
        p.insert(
            "name".into(),
            get(self.name).map_or(Value::Null, Value::String),
        );
        if let Some(parent) = get(self.parent) {
            p.insert("parent".into(), Value::String(parent));
        }
        if let Some(kind) = get(self.kind) {
            let k = kind_of(&kind).map_or(kind, |k| k.as_str().into());
            p.insert("kind".into(), Value::String(k));
        }
        let mut people = Vec::new();
        for person in &self.people {
            let Some(name) = get(Some(person.name)) else {
                continue;
            };
            let mut o = Map::new();
            let role = match person.role {
                RoleFrom::Fixed(r) => Value::String(r.as_str().into()),
                RoleFrom::Column(i) => get(Some(i)).map_or(Value::Null, |s| {
                    Value::String(role_of(&s).map_or(s, |r| r.as_str().into()))
                }),
            };
            o.insert("role".into(), role);
            o.insert("name".into(), Value::String(name));
            if let Some(phone) = get(person.phone) {
                o.insert("phone".into(), Value::String(phone));
            }
            if let Some(s) = get(person.staff) {
                o.insert("staff_id".into(), Value::String(s));
            }
            people.push(Value::Object(o));
        }
        if !people.is_empty() {
            p.insert("people".into(), Value::Array(people));
        } else if let Some(s) = get(self.people_json) {
            // A `people` column written from the GeoJSON format holds its JSON array.
            let v = serde_json::from_str(&s).unwrap_or(Value::String(s));
            p.insert("people".into(), v);
        }
        for (i, c) in self.columns.iter().enumerate() {
            if self.used.get(i).copied().unwrap_or(true) || p.contains_key(c) {
                continue;
            }
            if let Some(v) = values.get(i) {
                if !v.is_null() && v.as_str() != Some("") {
                    p.insert(c.clone(), v.clone());
                }
            }
        }
        let mut f = Map::new();
        f.insert("type".into(), Value::String("Feature".into()));
        f.insert("properties".into(), Value::Object(p));
        f.insert("geometry".into(), geometry);
        Value::Object(f)
    }

    /// The column a property path (`properties.code`, `properties.people[1].phone`) comes
    /// from, if a column does.
    pub fn column_of(&self, path: &str) -> Option<&str> {
        let col = |i: Option<usize>| i.and_then(|i| self.columns.get(i)).map(String::as_str);
        let rest = path.strip_prefix("properties.")?;
        let head = rest.split(['.', '[']).next().unwrap_or(rest);
        match head {
            "layer" => col(self.layer),
            "code" => col(self.code),
            "name" => col(self.name),
            "parent" => col(self.parent),
            "kind" => col(self.kind),
            "people" => {
                if self.people.is_empty() {
                    return col(self.people_json);
                }
                let k: usize = rest
                    .strip_prefix("people[")?
                    .split(']')
                    .next()?
                    .parse()
                    .ok()?;
                let member = rest.rsplit('.').next().unwrap_or("");
                // People with an empty name are skipped, so index k is the k-th present one;
                // the column named is that of the k-th group (exact when none is skipped).
                let p = self.people.get(k)?;
                match member {
                    "phone" => col(p.phone),
                    "staff_id" => col(p.staff),
                    "role" => match p.role {
                        RoleFrom::Column(i) => col(Some(i)),
                        RoleFrom::Fixed(_) => None,
                    },
                    _ => col(Some(p.name)),
                }
            }
            other => self
                .columns
                .iter()
                .find(|c| *c == other)
                .map(String::as_str),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cols(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn chinese_columns_mapped() {
        let m = ColumnMapping::from_json(
            r#"{"layer":"图层","code":"网格编码","name":"网格名称","parent":"所属街道","kind":"类型",
                "people":[{"role":"网格站长","name":"责任人","phone":"联系电话"}]}"#,
        )
        .expect("mapping");
        let c = cols(&[
            "图层",
            "网格编码",
            "网格名称",
            "所属街道",
            "类型",
            "责任人",
            "联系电话",
            "备注",
        ]);
        let r = m.resolve(true, "grids", &c).expect("resolve");
        let f = r.feature(
            &[
                json!("居村网格"),
                json!("G1"),
                json!("一网格"),
                json!("S1"),
                json!("居委"),
                json!("张三"),
                json!("138"),
                json!("x"),
            ],
            Value::Null,
        );
        assert_eq!(
            f["properties"],
            json!({"layer":"resident_grid","code":"G1","name":"一网格","parent":"S1","kind":"residents",
                   "people":[{"role":"station_head","name":"张三","phone":"138"}],"备注":"x"})
        );
        assert_eq!(r.column_of("properties.code"), Some("网格编码"));
        assert_eq!(r.column_of("properties.people[0].phone"), Some("联系电话"));
        assert_eq!(r.column_of("properties.备注"), Some("备注"));
    }

    #[test]
    fn missing_columns_listed() {
        let e = ColumnMapping::default()
            .resolve(false, "grids", &cols(&["网格编码", "网格名称"]))
            .expect_err("no code");
        assert!(e.contains("no a layer column"), "{e}");
        assert!(e.contains("its columns are 网格编码, 网格名称"), "{e}");
        assert!(e.contains("give a column mapping"), "{e}");
        let m = ColumnMapping::from_json(r#"{"code":"编码"}"#).expect("m");
        let e = m
            .resolve(true, "grids", &cols(&["layer", "name"]))
            .expect_err("named");
        assert!(e.contains("code column \"编码\""), "{e}");
    }

    #[test]
    fn bad_mappings_refused() {
        assert!(ColumnMapping::from_json(r#"{"cod":"x"}"#).is_err());
        assert!(ColumnMapping::from_json(r#"{"people":[{"name":"a"}]}"#).is_err());
        assert!(ColumnMapping::from_json(r#"{"people":[{"name":"a","role":"boss"}]}"#).is_err());
        assert!(ColumnMapping::from_json(r#"{"layer_of":{"a":"grid"}}"#).is_err());
        let mut m = ColumnMapping::default();
        m.set("code=网格编码").expect("set");
        m.set("layer_of.roads=road_segment").expect("set");
        assert!(m.set("colour=x").is_err());
        assert_eq!(m.code.as_deref(), Some("网格编码"));
        assert_eq!(m.layer_of["roads"], "road_segment");
    }
}
