//! The checks of one feature's members and `properties` (`layer`, `code`, `name`, `parent`,
//! `kind`, `people`, other attributes kept as they are), and the [`crate::model::Feature`] built
//! from a feature without problems ([`check_feature`]).

use super::geometry::check_geometry;
use super::problems::{Ctx, layer_list, one_of, type_name};
use super::raw::{RawFeature, RawFeatureObject};
use crate::model::{Feature, Kind, Layer, Person, Role};
use serde_json::{Map, Value};

pub(super) fn check_code(
    c: &mut Ctx,
    v: Option<Value>,
    path: &str,
    has_id: bool,
) -> Option<String> {
    match v {
        Some(Value::String(s)) if s.is_empty() => {
            c.problem(path, "code is empty".into());
            None
        }
        Some(Value::String(s)) if s.trim() != s => {
            c.problem(
                path,
                format!("code {s:?} has leading or trailing spaces; codes are compared exactly"),
            );
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => {
            c.problem(
                path,
                format!("code must be a string: write \"{n}\" in quotes (numbers lose leading zeros and digits)"),
            );
            None
        }
        None | Some(Value::Null) => {
            let hint = if has_id {
                " (the feature's \"id\" is not used: put the code in properties.code)"
            } else {
                ""
            };
            c.problem(path, format!("missing code{hint}"));
            None
        }
        Some(v) => {
            c.problem(
                path,
                format!("code is {}, expected a string", type_name(&v)),
            );
            None
        }
    }
}

pub(super) fn check_name(c: &mut Ctx, v: Option<Value>, path: &str) -> Option<String> {
    match v {
        Some(Value::String(s)) if s.trim().is_empty() => {
            c.problem(path, "name is empty".into());
            None
        }
        Some(Value::String(s)) => Some(s),
        None | Some(Value::Null) => {
            c.problem(path, "missing name".into());
            None
        }
        Some(v) => {
            c.problem(
                path,
                format!("name is {}, expected a string", type_name(&v)),
            );
            None
        }
    }
}

pub(super) fn optional_string(
    c: &mut Ctx,
    v: Option<Value>,
    path: &str,
    what: &str,
) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(v) => {
            let hint = if matches!(v, Value::Number(_)) {
                " (write it in quotes)"
            } else {
                ""
            };
            c.problem(
                path,
                format!("{what} is {}, expected a string{hint}", type_name(&v)),
            );
            None
        }
    }
}

pub(super) fn check_people(c: &mut Ctx, v: Option<Value>, path: &str) -> Vec<Person> {
    let items = match v {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(a)) => a,
        Some(v) => {
            c.problem(
                path,
                format!(
                    "people is {}, expected an array of {{role, name, phone, photo_url, staff_id}}",
                    type_name(&v)
                ),
            );
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Value::Object(obj) = item else {
            c.problem(
                &p,
                format!("person is {}, expected an object", type_name(&item)),
            );
            continue;
        };
        let (mut role, mut name, mut phone, mut photo, mut staff) = (None, None, None, None, None);
        for (k, v) in obj {
            match k.as_str() {
                "role" => role = Some(v),
                "name" => name = Some(v),
                "phone" => phone = Some(v),
                "photo_url" => photo = Some(v),
                "staff_id" => staff = Some(v),
                other => c.problem(
                    &format!("{p}.{other}"),
                    format!("unknown member {other:?} in a person; allowed: role, name, phone, photo_url, staff_id"),
                ),
            }
        }
        let roles = || one_of(Role::ALL.iter().map(|r| r.as_str()), "or");
        let role = match role {
            Some(Value::String(s)) => match s.parse::<Role>() {
                Ok(r) => Some(r),
                Err(()) => {
                    c.problem(
                        &format!("{p}.role"),
                        format!("unknown role {s:?}; expected {}", roles()),
                    );
                    None
                }
            },
            None | Some(Value::Null) => {
                c.problem(&format!("{p}.role"), format!("missing role ({})", roles()));
                None
            }
            Some(v) => {
                c.problem(
                    &format!("{p}.role"),
                    format!("role is {}, expected a string", type_name(&v)),
                );
                None
            }
        };
        let name = check_name(c, name, &format!("{p}.name"));
        let phone = optional_string(c, phone, &format!("{p}.phone"), "phone");
        let photo_url = optional_string(c, photo, &format!("{p}.photo_url"), "photo_url");
        let staff_id = optional_string(c, staff, &format!("{p}.staff_id"), "staff_id");
        if let (Some(role), Some(name)) = (role, name) {
            out.push(Person {
                role,
                name,
                phone,
                photo_url,
                staff_id,
            });
        }
    }
    out
}

/// What the cross-feature checks need of each feature.
pub(super) struct Meta {
    pub(super) code: Option<String>,
    pub(super) layer: Option<Layer>,
    pub(super) parent: Option<String>,
}

pub(super) fn check_feature(c: &mut Ctx, raw: RawFeature) -> (Meta, Option<Feature>) {
    let mut meta = Meta {
        code: None,
        layer: None,
        parent: None,
    };
    let raw = match raw {
        RawFeature::NotObject(t) => {
            c.problem("", format!("feature is {t}, expected a Feature object"));
            return (meta, None);
        }
        RawFeature::Object(o) => *o,
    };
    check_members(c, &raw);

    // Properties.
    let props = match raw.properties {
        Some(Value::Object(m)) => m,
        other => {
            let found = match &other {
                None => "missing",
                Some(v) => type_name(v),
            };
            c.problem(
                ".properties",
                format!(
                    "properties is {found}; expected an object with at least layer, code and name"
                ),
            );
            check_geometry(c, raw.geometry, None);
            return (meta, None);
        }
    };
    let (mut layer_v, mut code_v, mut name_v, mut parent_v, mut kind_v, mut people_v) =
        (None, None, None, None, None, None);
    let mut attributes = Map::new();
    for (k, v) in props {
        match k.as_str() {
            "layer" => layer_v = Some(v),
            "code" => code_v = Some(v),
            "name" => name_v = Some(v),
            "parent" => parent_v = Some(v),
            "kind" => kind_v = Some(v),
            "people" => people_v = Some(v),
            _ => {
                attributes.insert(k, v);
            }
        }
    }
    // The code first, so that it can be named in every problem of the feature.
    meta.code = check_code(c, code_v, ".properties.code", raw.has_id);
    let layer = check_layer(c, layer_v);
    meta.layer = layer;
    let name = check_name(c, name_v, ".properties.name");

    let parent = check_parent(c, parent_v, layer);
    meta.parent.clone_from(&parent);

    let kind = check_kind(c, layer, kind_v);
    let people = check_people(c, people_v, ".properties.people");

    let geometry = check_geometry(c, raw.geometry, layer);

    let feature = match (layer, meta.code.clone(), name, geometry) {
        (Some(layer), Some(code), Some(name), Some(geometry)) if !c.has_problems() => {
            Some(Feature {
                layer,
                code,
                name,
                parent,
                kind,
                people,
                attributes,
                geometry,
            })
        }
        _ => None,
    };
    (meta, feature)
}

/// Members repeated in the feature or its properties, and the feature's `type`.
fn check_members(c: &mut Ctx, raw: &RawFeatureObject) {
    for key in &raw.duplicates {
        c.problem(
            &format!(".{key}"),
            format!("member {key:?} appears more than once"),
        );
    }
    for key in &raw.property_duplicates {
        c.problem(
            &format!(".properties.{key}"),
            format!("member {key:?} appears more than once in properties"),
        );
    }
    match &raw.ty {
        Some(Value::String(s)) if s == "Feature" => {}
        None => c.problem(".type", "missing \"type\": \"Feature\"".into()),
        Some(v) => c.problem(".type", format!("type is {v}, expected \"Feature\"")),
    }
}

pub(super) fn check_layer(c: &mut Ctx, v: Option<Value>) -> Option<Layer> {
    match v {
        Some(Value::String(s)) => match s.parse::<Layer>() {
            Ok(l) => Some(l),
            Err(()) => {
                c.problem(
                    ".properties.layer",
                    format!("unknown layer {s:?}; expected {}", layer_list()),
                );
                None
            }
        },
        None | Some(Value::Null) => {
            c.problem(
                ".properties.layer",
                format!("missing layer ({})", layer_list()),
            );
            None
        }
        Some(v) => {
            c.problem(
                ".properties.layer",
                format!("layer is {}, expected a string", type_name(&v)),
            );
            None
        }
    }
}

/// The `parent` member, and whether the layer needs (or, for the district, forbids) one.
fn check_parent(c: &mut Ctx, v: Option<Value>, layer: Option<Layer>) -> Option<String> {
    let parent = match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => {
            c.problem(".properties.parent", "parent is empty".into());
            None
        }
        Some(Value::String(s)) if s.trim() != s => {
            c.problem(
                ".properties.parent",
                format!("parent {s:?} has leading or trailing spaces; codes are compared exactly"),
            );
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => {
            c.problem(
                ".properties.parent",
                format!("parent must be a string: write \"{n}\" in quotes"),
            );
            None
        }
        Some(v) => {
            c.problem(
                ".properties.parent",
                format!("parent is {}, expected a code (string)", type_name(&v)),
            );
            None
        }
    };
    if let Some(l) = layer {
        if l == Layer::District && parent.is_some() {
            c.problem(
                ".properties.parent",
                "a district has no parent; remove parent".into(),
            );
        } else if l.parent_required() && parent.is_none() && !c.has_parent_problem() {
            c.problem(
                ".properties.parent",
                format!(
                    "missing parent: a {l} needs the code of its {}",
                    one_of(l.parent_layers().iter().map(|p| p.as_str()), "or")
                ),
            );
        }
    }
    parent
}

/// The `kind` member: required for the layers that have kinds, forbidden for the others.
fn check_kind(c: &mut Ctx, layer: Option<Layer>, v: Option<Value>) -> Option<Kind> {
    match (layer, v) {
        (None, _) => None,
        (Some(l), k) if l.kinds().is_empty() => {
            if let Some(k) = k.filter(|k| !k.is_null()) {
                c.problem(
                    ".properties.kind",
                    format!(
                        "a {l} has no kind (only street, resident_grid and extended_grid have one); remove kind {k}"
                    ),
                );
            }
            None
        }
        (Some(l), k) => {
            let kinds = || one_of(l.kinds().iter().map(|k| k.as_str()), "or");
            match k {
                Some(Value::String(s)) => match s.parse::<Kind>() {
                    Ok(k) if l.kinds().contains(&k) => Some(k),
                    _ => {
                        c.problem(
                            ".properties.kind",
                            format!("kind {s:?} is not a kind of {l}; expected {}", kinds()),
                        );
                        None
                    }
                },
                None | Some(Value::Null) => {
                    c.problem(
                        ".properties.kind",
                        format!("missing kind: a {l} needs one of {}", kinds()),
                    );
                    None
                }
                Some(v) => {
                    c.problem(
                        ".properties.kind",
                        format!("kind is {}, expected a string ({})", type_name(&v), kinds()),
                    );
                    None
                }
            }
        }
    }
}
