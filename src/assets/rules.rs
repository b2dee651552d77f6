//! The registers' rules ([`check`]): findings in the validator's vocabulary
//! ([`crate::validate::Finding`]), one per bad item, each with a message in Chinese and English
//! and a manual fix. Which rules run is the district's data ([`AssetRules`]).
//!
//! | kind | rule | severity | when |
//! | --- | --- | --- | --- |
//! | `component_code_format` | `codes` | error | the code is not 16 digits (the message says which character) |
//! | `component_code_district` | `codes` | error | digits 1–6 are not the district's code |
//! | `component_code_class` | `codes` | error | the major class or subclass is not in the class table |
//! | `component_code_duplicate` | `codes` | error | one finding per code held by several components, naming them all |
//! | `component_outside_district` | `containment` | error | the point is outside the district |
//! | `shop_credit_code` | `codes` | error | the credit code's format or check character is wrong (the message says which) |
//! | `shop_duplicate_id` | `codes` | error | one finding per id held by several shops |
//! | `shop_unbound` | `containment` | warning | no frontage and no road segment within `binding_m` |
//! | `grid_code_15` | `codes` | warning | with `grid_codes_15`: see [`crate::validate::codes`] |
//!
//! The code kinds of components run when `component_codes` is on, `shop_credit_code` when
//! `credit_codes` is on; a component with a malformed code is not also judged for its district or
//! class. Items are named by their position in the slice, from 1 (`component 3`).

use super::binding::{DEFAULT_BINDING_M, anchor, bind};
use super::classes::ClassTable;
use super::codes::{ComponentCode, CreditCodeError, check_credit_code};
use super::{Component, Shop};
use crate::atlas::Atlas;
use crate::model::Layer;
use crate::validate::codes::manual_finding;
use crate::validate::{Finding, Message, Rule, Severity};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// Which register rules a district runs (data; settings `assets.rules`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AssetRules {
    /// The district's 6-digit code that component codes start with; `None`: the atlas's district
    /// code when it is 6 digits, else the first 6 digits of its streets' codes.
    pub district_code: Option<String>,
    /// Check component codes (format, district, class, unique).
    pub component_codes: bool,
    /// Check shops' unified social credit codes.
    pub credit_codes: bool,
    /// The binding distance: a shop with no road segment this near (metres) is unbound.
    pub binding_m: f64,
    /// Check grid codes as 15-digit unit-grid codes (off: the demo's codes do not follow it).
    pub grid_codes_15: bool,
}

impl Default for AssetRules {
    fn default() -> Self {
        AssetRules {
            district_code: None,
            component_codes: true,
            credit_codes: true,
            binding_m: DEFAULT_BINDING_M,
            grid_codes_15: false,
        }
    }
}

impl AssetRules {
    /// Checks the values: a 6-digit district code if given, a binding distance in (0, 1000] m.
    pub fn check(&self) -> Result<(), String> {
        if let Some(d) = &self.district_code {
            if !is_digits(d, 6) {
                return Err(format!("district_code: {d:?} is not 6 digits"));
            }
        }
        if !(self.binding_m > 0.0 && self.binding_m <= 1000.0) {
            return Err(format!(
                "binding_m: {} is not a distance in (0, 1000] metres",
                self.binding_m
            ));
        }
        Ok(())
    }

    /// The district code component codes must start with (see [`AssetRules::district_code`]).
    pub fn district_code_of(&self, atlas: &Atlas) -> Option<String> {
        if let Some(d) = &self.district_code {
            return Some(d.clone());
        }
        let set = atlas.features();
        if let Some(d) = set.district().filter(|d| is_digits(&d.code, 6)) {
            return Some(d.code.clone());
        }
        set.layer(Layer::Street)
            .filter_map(|s| s.code.get(..6))
            .find(|p| is_digits(p, 6))
            .map(str::to_string)
    }
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn msg(zh: String, en: String) -> Message {
    Message { zh, en }
}

fn point(lon: f64, lat: f64) -> Option<serde_json::Value> {
    (lon.is_finite() && lat.is_finite())
        .then(|| json!({"type": "Point", "coordinates": [lon, lat]}))
}

/// `1, 5, 9` (the first 20, then `… (n in all)`).
fn item_list(items: &[usize]) -> String {
    let mut s: Vec<String> = items.iter().take(20).map(|i| (i + 1).to_string()).collect();
    if items.len() > 20 {
        s.push(format!("… ({} in all)", items.len()));
    }
    s.join(", ")
}

/// Indices of the items sharing a key, for keys held by more than one, in order of first use.
fn repeated<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<(&'a str, Vec<usize>)> {
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, k) in keys.enumerate() {
        match by_key.get(k) {
            Some(&g) => groups[g].1.push(i),
            None => {
                by_key.insert(k, groups.len());
                groups.push((k, vec![i]));
            }
        }
    }
    groups.retain(|(_, items)| items.len() > 1);
    groups
}

/// Every finding of the registers (see the module doc), ordered as the validator orders
/// findings (rule, severity, codes, kind).
pub fn check(
    components: &[Component],
    shops: &[Shop],
    atlas: &Atlas,
    classes: &ClassTable,
    rules: &AssetRules,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let district = rules.district_code_of(atlas);
    let has_district = atlas.features().district().is_some();
    for (i, c) in components.iter().enumerate() {
        let n = i + 1;
        let code = &c.code;
        let at = point(c.lon, c.lat);
        let code_finding = |kind, zh: String, en: String, fix_zh: &str, fix_en: &str| {
            manual_finding(
                Rule::Codes,
                kind,
                Severity::Error,
                vec![code.clone()],
                at.clone(),
                msg(zh, en),
                msg(fix_zh.to_string(), fix_en.to_string()),
            )
        };
        if rules.component_codes {
            match ComponentCode::parse(code) {
                Err(e) => out.push(code_finding(
                    "component_code_format",
                    format!("第 {n} 个部件的编码 {code:?} 格式错误：{e}"),
                    format!("component {n}: code {code:?}: {e}"),
                    "部件编码为16位数字：区县代码6位 + 大类2位 + 小类2位 + 流水号6位",
                    "a component code is 16 digits: district 6 + major class 2 + subclass 2 + serial 6",
                )),
                Ok(cc) => {
                    if let Some(d) = district.as_deref().filter(|d| *d != cc.district()) {
                        out.push(code_finding(
                            "component_code_district",
                            format!("部件 {code} 的区县代码 {} 不是本区的 {d}", cc.district()),
                            format!(
                                "component {code}: district {} is not this district's {d}",
                                cc.district()
                            ),
                            "部件编码的前6位应为本区的行政区划代码",
                            "the first 6 digits of a component code are the district's code",
                        ));
                    }
                    let (zh, en) = match classes.major(cc.class()) {
                        None => (
                            format!("部件 {code} 的大类 {} 不在部件分类表中", cc.class()),
                            format!(
                                "component {code}: major class {} is not in the class table",
                                cc.class()
                            ),
                        ),
                        Some(m) if m.subclass(cc.subclass()).is_none() => (
                            format!(
                                "部件 {code} 的小类 {}{} 不在{}的分类表中",
                                cc.class(),
                                cc.subclass(),
                                m.name_zh
                            ),
                            format!(
                                "component {code}: subclass {}{} is not in the class table of {}",
                                cc.class(),
                                cc.subclass(),
                                m.name_en
                            ),
                        ),
                        Some(_) => (String::new(), String::new()),
                    };
                    if !zh.is_empty() {
                        out.push(code_finding(
                            "component_code_class",
                            zh,
                            en,
                            "按部件分类表更正大类和小类代码（第7–10位），或把该类加入分类表",
                            "correct the class digits (7–10) from the class table, or add the class to the table",
                        ));
                    }
                }
            }
        }
        let inside = atlas.locate(c.lon, c.lat);
        let outside = if has_district {
            inside[0].is_none()
        } else {
            inside[1].is_none()
        };
        if outside {
            out.push(manual_finding(
                Rule::Containment,
                "component_outside_district",
                Severity::Error,
                vec![code.clone()],
                at.clone(),
                msg(
                    format!("部件 {code} 位于本区范围之外（{}, {}）", c.lon, c.lat),
                    format!(
                        "component {code} lies outside the district ({}, {})",
                        c.lon, c.lat
                    ),
                ),
                msg(
                    "核实部件坐标（WGS84）或删除不属于本区的部件".into(),
                    "check the component's coordinates (WGS84) or remove it from the register"
                        .into(),
                ),
            ));
        }
    }
    if rules.component_codes {
        for (code, items) in repeated(components.iter().map(|c| c.code.as_str())) {
            let list = item_list(&items);
            out.push(manual_finding(
                Rule::Codes,
                "component_code_duplicate",
                Severity::Error,
                vec![code.to_string()],
                None,
                msg(
                    format!("部件编码 {code} 重复：第 {list} 个部件"),
                    format!("component code {code} is held by components {list}"),
                ),
                msg(
                    "每个部件的编码应唯一：为重复的部件重新编流水号".into(),
                    "give each component its own code: renumber the serials of the repeats".into(),
                ),
            ));
        }
    }
    for s in shops {
        let id = &s.id;
        let (lon, lat) = anchor(&s.geometry);
        if rules.credit_codes {
            if let Some(cc) = &s.credit_code {
                if let Err(e) = check_credit_code(cc) {
                    let what_zh = match &e {
                        CreditCodeError::CheckDigit { expected, found } => {
                            format!("校验码错误：为 {found}，应为 {expected}")
                        }
                        CreditCodeError::Length { found } => {
                            format!("格式错误：{found} 位，应为18位")
                        }
                        CreditCodeError::BadCharacter { position, found } => {
                            format!(
                                "格式错误：第 {position} 位 {found:?} 不是允许的字符（不含 I、O、S、V、Z）"
                            )
                        }
                        CreditCodeError::Division { position, found } => {
                            format!(
                                "格式错误：第 {position} 位 {found:?} 不是数字（第3–8位为行政区划码）"
                            )
                        }
                    };
                    out.push(manual_finding(
                        Rule::Codes,
                        "shop_credit_code",
                        Severity::Error,
                        vec![id.clone()],
                        point(lon, lat),
                        msg(
                            format!("门店 {id}（{}）的统一社会信用代码 {cc} {what_zh}", s.name),
                            format!(
                                "shop {id} ({}): credit code {cc}: {} ({e})",
                                s.name,
                                if e.kind() == "check_digit" {
                                    "wrong check character"
                                } else {
                                    "bad format"
                                }
                            ),
                        ),
                        msg(
                            "按营业执照核对统一社会信用代码（18位，GB 32100-2015）".into(),
                            "copy the unified social credit code from the business licence (18 characters, GB 32100-2015)".into(),
                        ),
                    ));
                }
            }
        }
        if s.frontage.is_none() && bind(atlas, &s.geometry, rules.binding_m).is_none() {
            out.push(manual_finding(
                Rule::Containment,
                "shop_unbound",
                Severity::Warning,
                vec![id.clone()],
                point(lon, lat),
                msg(
                    format!(
                        "门店 {id}（{}）{} 米内没有道路段，未绑定门前责任区",
                        s.name, rules.binding_m
                    ),
                    format!(
                        "shop {id} ({}) has no road segment within {} m: no frontage",
                        s.name, rules.binding_m
                    ),
                ),
                msg(
                    "核实门店位置，或手工指定其门前道路段".into(),
                    "check the shop's position, or set its frontage road segment by hand".into(),
                ),
            ));
        }
    }
    for (id, items) in repeated(shops.iter().map(|s| s.id.as_str())) {
        let list = item_list(&items);
        out.push(manual_finding(
            Rule::Codes,
            "shop_duplicate_id",
            Severity::Error,
            vec![id.to_string()],
            None,
            msg(
                format!("门店编号 {id} 重复：第 {list} 个门店"),
                format!("shop id {id} is held by shops {list}"),
            ),
            msg(
                "每个门店的编号应唯一".into(),
                "give each shop its own id".into(),
            ),
        ));
    }
    if rules.grid_codes_15 {
        out.extend(crate::validate::codes::check_features(
            atlas.features().features(),
        ));
    }
    out.sort_by(|a, b| {
        (a.rule, a.severity, &a.codes, a.kind).cmp(&(b.rule, b.severity, &b.codes, b.kind))
    });
    out
}
