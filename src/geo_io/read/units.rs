//! The top-level `management_units` member, checked after the stream (its grids must name grid
//! features of the file, or of the current generation for a partial upload).

use super::problems::{Ctx, type_name};
use super::properties::{check_code, check_name, check_people};
use super::state::State;
use crate::model::{Layer, ManagementUnit, ManagementUnitKind};
use serde_json::Value;
use std::collections::HashMap;

impl State<'_> {
    pub(super) fn check_units(&mut self, v: Value) -> Vec<ManagementUnit> {
        let mut out = Vec::new();
        let items = match v {
            Value::Null => return out,
            Value::Array(a) => a,
            other => {
                self.top_problem(
                    "management_units",
                    format!(
                        "management_units is {}, expected an array",
                        type_name(&other)
                    ),
                );
                return out;
            }
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (u, item) in items.into_iter().enumerate() {
            let base = format!("management_units[{u}]");
            let mut c = Ctx::new(None, base, usize::MAX);
            if let Some(unit) = self.check_unit(u, item, &mut c, &mut seen) {
                out.push(unit);
            }
            let code = c.code.clone();
            for mut p in c.into_problems() {
                p.code.clone_from(&code);
                self.problems.push(p);
            }
        }
        out
    }

    pub(super) fn check_unit(
        &self,
        u: usize,
        item: Value,
        c: &mut Ctx,
        seen: &mut HashMap<String, usize>,
    ) -> Option<ManagementUnit> {
        let Value::Object(obj) = item else {
            c.problem(
                "",
                format!(
                    "management unit is {}, expected an object",
                    type_name(&item)
                ),
            );
            return None;
        };
        let (mut code, mut name, mut kind, mut grids, mut people) = (None, None, None, None, None);
        for (k, v) in obj {
            match k.as_str() {
                "code" => code = Some(v),
                "name" => name = Some(v),
                "kind" => kind = Some(v),
                "grids" => grids = Some(v),
                "people" => people = Some(v),
                other => c.problem(
                    &format!(".{other}"),
                    format!(
                        "unknown member {other:?} in a management unit; allowed: code, name, kind, grids, people"
                    ),
                ),
            }
        }
        let code = check_code(c, code, ".code", false);
        c.code.clone_from(&code);
        if let Some(code) = &code {
            if let Some(&other) = seen.get(code) {
                c.problem(
                    ".code",
                    format!("duplicate management unit code {code}: management_units[{other}] has it too"),
                );
            } else {
                seen.insert(code.clone(), u);
            }
        }
        let name = check_name(c, name, ".name");
        let kind = unit_kind(c, kind);
        let grids = self.unit_grids(c, grids);
        let people = check_people(c, people, ".people");
        if c.problems.is_empty() {
            Some(ManagementUnit {
                code: code?,
                name: name?,
                kind: kind?,
                grids: grids?,
                people,
            })
        } else {
            None
        }
    }

    /// A unit's `grids`: a non-empty list of codes of grid features (of this file, or of the
    /// current generation for a partial upload).
    fn unit_grids(&self, c: &mut Ctx, grids: Option<Value>) -> Option<Vec<String>> {
        match grids {
            Some(Value::Array(a)) if !a.is_empty() => {
                let mut out = Vec::with_capacity(a.len());
                for (g, v) in a.into_iter().enumerate() {
                    let path = format!(".grids[{g}]");
                    match v {
                        Value::String(s) => {
                            let known = self
                                .opts
                                .known_parents
                                .as_ref()
                                .and_then(|k| k.get(&s))
                                .copied();
                            match self.codes.get(&s) {
                                // a grid of the current generation outside this (partial) upload
                                None if known.is_some_and(Layer::is_grid) => {}
                                None => c.problem(
                                    &path,
                                    match known {
                                        Some(l) => format!("{s} is a {l} in the current generation, not a grid; a management unit serves resident, street or extended grids"),
                                        None => format!("unknown grid {s}: no feature has this code"),
                                    },
                                ),
                                Some(&j) => match self.metas[j].layer {
                                    Some(l) if !l.is_grid() => c.problem(
                                        &path,
                                        format!("{s} is a {l} (feature {j}), not a grid; a management unit serves resident, street or extended grids"),
                                    ),
                                    _ => {}
                                },
                            }
                            out.push(s);
                        }
                        other => c.problem(
                            &path,
                            format!("grid code is {}, expected a string", type_name(&other)),
                        ),
                    }
                }
                Some(out)
            }
            Some(Value::Array(_)) | None | Some(Value::Null) => {
                c.problem(
                    ".grids",
                    "missing grids: a management unit serves at least one grid (a list of grid codes)".into(),
                );
                None
            }
            Some(v) => {
                c.problem(
                    ".grids",
                    format!(
                        "grids is {}, expected an array of grid codes",
                        type_name(&v)
                    ),
                );
                None
            }
        }
    }
}

/// A unit's `kind`.
fn unit_kind(c: &mut Ctx, kind: Option<Value>) -> Option<ManagementUnitKind> {
    match kind {
        Some(Value::String(s)) => match s.as_str() {
            "city_management" => Some(ManagementUnitKind::CityManagement),
            "market_supervision" => Some(ManagementUnitKind::MarketSupervision),
            "other" => Some(ManagementUnitKind::Other),
            _ => {
                c.problem(
                    ".kind",
                    format!("unknown management unit kind {s:?}; expected one of city_management, market_supervision, other"),
                );
                None
            }
        },
        None | Some(Value::Null) => {
            c.problem(
                ".kind",
                "missing kind (city_management, market_supervision or other)".into(),
            );
            None
        }
        Some(v) => {
            c.problem(
                ".kind",
                format!("kind is {}, expected a string", type_name(&v)),
            );
            None
        }
    }
}
