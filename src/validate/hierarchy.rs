//! Rule `hierarchy`: codes and parents.
//!
//! Kinds (all errors):
//! * `duplicate_code`: two features share a code (only reachable through
//!   [`super::validate_features`]; a [`crate::model::FeatureSet`] cannot hold duplicates).
//! * `missing_parent`: a layer that needs a parent (grids, blocks, road segments) has none.
//! * `unexpected_parent`: the district names a parent.
//! * `unknown_parent`: the parent code names no feature.
//! * `wrong_layer_parent`: the parent's layer is not allowed (see `Layer::parent_layers`).
//! * `cycle`: following parents comes back to the start (reported once per cycle).

use super::types::{Ctx, Finding, Fix, FixAction, Message, Rule, Severity};
use rustc_hash::FxHashMap;
use std::collections::HashSet;

fn finding(kind: &'static str, codes: Vec<String>, zh: String, en: String) -> Finding {
    Finding {
        rule: Rule::Hierarchy,
        kind,
        severity: Severity::Error,
        codes,
        location: None,
        area_m2: None,
        length_m: None,
        width_m: None,
        message: Message { zh, en },
        fix: Some(Fix {
            action: FixAction::Manual,
            target: None,
            message: Message {
                zh: "请更正编码或上级编码".into(),
                en: "correct the code or the parent code".into(),
            },
        }),
        shape: None,
        location_simplified: false,
        omitted: None,
    }
}

/// Checks every feature kept by `keep`.
pub(crate) fn check(ctx: &Ctx<'_>, keep: &dyn Fn(usize) -> bool) -> Vec<Finding> {
    let mut out = Vec::new();
    duplicate_codes(ctx, keep, &mut out);
    parents(ctx, keep, &mut out);
    cycles(ctx, keep, &mut out);
    out
}

/// Codes used by more than one feature (reported when either feature is kept).
fn duplicate_codes(ctx: &Ctx<'_>, keep: &dyn Fn(usize) -> bool, out: &mut Vec<Finding>) {
    let fs = ctx.features;
    let mut seen: FxHashMap<&str, usize> = FxHashMap::default();
    for (i, f) in fs.iter().enumerate() {
        if let Some(&first) = seen.get(f.code.as_str()) {
            if keep(i) || keep(first) {
                out.push(finding(
                    "duplicate_code",
                    vec![f.code.clone()],
                    format!("编码 {} 重复（第 {} 和第 {} 个要素）", f.code, first, i),
                    format!("code {} is used twice (features {first} and {i})", f.code),
                ));
            }
        } else {
            seen.insert(&f.code, i);
        }
    }
}

/// Missing, unexpected, unknown and wrong-layer parents.
fn parents(ctx: &Ctx<'_>, keep: &dyn Fn(usize) -> bool, out: &mut Vec<Finding>) {
    let fs = ctx.features;
    for (i, f) in fs.iter().enumerate() {
        if !keep(i) {
            continue;
        }
        let layer = f.layer;
        match f.parent.as_deref() {
            None if layer.parent_required() => out.push(finding(
                "missing_parent",
                vec![f.code.clone()],
                format!("{} {} 缺少上级编码", layer.name_zh(), f.code),
                format!("{layer} {} has no parent", f.code),
            )),
            None => {}
            Some(_) if layer.parent_layers().is_empty() => out.push(finding(
                "unexpected_parent",
                vec![f.code.clone()],
                format!("{} {} 不应有上级", layer.name_zh(), f.code),
                format!("{layer} {} must not have a parent", f.code),
            )),
            Some(p) => match ctx.by_code.get(p) {
                None => out.push(finding(
                    "unknown_parent",
                    vec![f.code.clone(), p.to_string()],
                    format!("{} {} 的上级 {} 不存在", layer.name_zh(), f.code, p),
                    format!("parent {p} of {layer} {} does not exist", f.code),
                )),
                Some(&pi) => {
                    let pl = fs[pi].layer;
                    if !layer.parent_layers().contains(&pl) {
                        out.push(finding(
                            "wrong_layer_parent",
                            vec![f.code.clone(), p.to_string()],
                            format!(
                                "{} {} 的上级 {} 是{}，层级不符",
                                layer.name_zh(),
                                f.code,
                                p,
                                pl.name_zh()
                            ),
                            format!(
                                "parent {p} of {layer} {} is a {pl}, which cannot be its parent",
                                f.code
                            ),
                        ));
                    }
                }
            },
        }
    }
}

/// Cycles: follow parent codes regardless of layer.
fn cycles(ctx: &Ctx<'_>, keep: &dyn Fn(usize) -> bool, out: &mut Vec<Finding>) {
    let fs = ctx.features;
    let mut state = vec![0u8; fs.len()]; // 0 new, 1 on current path, 2 done
    let mut reported: HashSet<usize> = HashSet::new();
    for start in 0..fs.len() {
        if state[start] != 0 {
            continue;
        }
        let mut path = Vec::new();
        let mut cur = Some(start);
        while let Some(i) = cur {
            if state[i] == 2 {
                break;
            }
            if state[i] == 1 {
                // Cycle: from i's position in the path to the end.
                let pos = path.iter().position(|&x| x == i).unwrap_or(0);
                let cyc: Vec<usize> = path[pos..].to_vec();
                let min = cyc.iter().copied().min().unwrap_or(i);
                if reported.insert(min) && cyc.iter().any(|&c| keep(c)) {
                    let codes: Vec<String> = cyc.iter().map(|&c| fs[c].code.clone()).collect();
                    out.push(finding(
                        "cycle",
                        codes.clone(),
                        format!("上级关系成环：{}", codes.join(" → ")),
                        format!("parents form a cycle: {}", codes.join(" → ")),
                    ));
                }
                break;
            }
            state[i] = 1;
            path.push(i);
            cur = fs[i]
                .parent
                .as_deref()
                .and_then(|p| ctx.by_code.get(p).copied());
        }
        for i in path {
            state[i] = 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Options, Rule, validate_features};
    use crate::model::Layer;
    use crate::validate::shapes::*;

    fn kinds(fs: &[crate::model::Feature]) -> Vec<(&'static str, Vec<String>)> {
        validate_features(fs, &Options::default())
            .findings
            .into_iter()
            .filter(|f| f.rule == Rule::Hierarchy)
            .map(|f| (f.kind, f.codes))
            .collect()
    }

    #[test]
    fn clean_hierarchy_has_no_findings() {
        let fs = vec![
            area(Layer::Street, "s1", None, sq(0.0, 0.0, 10.0)),
            area(Layer::ResidentGrid, "g1", Some("s1"), sq(0.0, 0.0, 10.0)),
            area(Layer::Block, "b1", Some("g1"), sq(0.0, 0.0, 10.0)),
        ];
        assert!(kinds(&fs).is_empty());
    }

    #[test]
    fn unknown_wrong_layer_missing_duplicate_cycle() {
        let fs = vec![
            area(Layer::Street, "s1", None, sq(0.0, 0.0, 10.0)),
            area(Layer::ResidentGrid, "g1", Some("nope"), sq(0.0, 0.0, 10.0)),
            area(Layer::Block, "b1", Some("s1"), sq(0.0, 0.0, 10.0)),
            area(Layer::Block, "b2", None, sq(0.0, 0.0, 10.0)),
            area(Layer::Block, "b3", None, sq(20.0, 0.0, 10.0)),
            area(Layer::Block, "b3", Some("s1"), sq(40.0, 0.0, 10.0)),
            area(Layer::Block, "c1", Some("c2"), sq(60.0, 0.0, 10.0)),
            area(Layer::Block, "c2", Some("c1"), sq(80.0, 0.0, 10.0)),
        ];
        let k = kinds(&fs);
        let has = |kind: &str, code: &str| k.iter().any(|(k, c)| *k == kind && c[0] == code);
        assert!(has("unknown_parent", "g1"), "{k:?}");
        assert!(has("wrong_layer_parent", "b1"));
        assert!(has("missing_parent", "b2"));
        assert!(has("duplicate_code", "b3"));
        assert!(k.iter().any(|(k, c)| *k == "cycle" && c.len() == 2));
        assert_eq!(k.iter().filter(|(k, _)| *k == "cycle").count(), 1);
    }
}
