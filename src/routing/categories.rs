//! Task lists (任务清单, 规定+自选) and the case categories they define.
//!
//! A task list file is JSON: `{"groups": [{code, name_zh, name_en, layer, list, street?,
//! items: [{code, name_zh, name_en}]}]}` (fixtures/task-list.example.json). A group is one of the
//! district's categories (e.g. street grids: 3 categories, 11 items); each item is a case
//! category, owned by the grid layer of its group. `list` is `mandatory` (规定: the district's
//! base list, everywhere) or `optional` (自选: one street's own items, `street` required).
//! A group and an item may give stage time limits (`"limits": {"verify": "2 work_hours",
//! "dispose": "5 work_days", "check": "1 work_days"}`, see
//! [`crate::calendar::stages::StageLimits`]): an item's limits over its group's over the
//! defaults. An item says what its cases are about (`"kind"`: `event`, the default, handled
//! territory-first; `component`, owner-first, with the `component_classes` it covers; `frontage`,
//! at a shop's front, to the shop's block head). Plain data, no I/O.

use crate::calendar::stages::{PartialLimits, StageLimits};
use crate::model::Layer;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Whether an item belongs to the district's base list or to one street's own items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// 规定: the district's base list.
    Mandatory,
    /// 自选: a street's own item.
    Optional,
}

/// What a case of a category is about (事件 or 部件), which decides who is asked first.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// 事件: handled by whoever owns the place (属地优先, territory-first).
    #[default]
    Event,
    /// 部件: about a city component, dispatched to its owner department (权属优先, owner-first).
    Component,
    /// 门责: at a shop's frontage, to the shop's block head; counts on the shop's record.
    Frontage,
}

impl ItemKind {
    /// The identifier used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Event => "event",
            ItemKind::Component => "component",
            ItemKind::Frontage => "frontage",
        }
    }

    /// Whether this is the default (an event).
    pub fn is_event(&self) -> bool {
        *self == ItemKind::Event
    }
}

/// One case category (an item of a task list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Category {
    /// Unique code; the Open311 `service_code`.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// The grid layer that owns cases of this category.
    pub layer: Layer,
    /// Code of the group (the task list's category).
    pub group: String,
    /// Chinese name of the group.
    pub group_zh: String,
    /// English name of the group.
    pub group_en: String,
    /// Mandatory (district) or optional (one street).
    pub list: ListKind,
    /// The street an optional item belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// The time limit of every stage for cases of this category (the item's limits over its
    /// group's over the defaults).
    #[serde(default)]
    pub limits: StageLimits,
    /// The limits as the item gave them (for writing the task list back).
    #[serde(default, skip_serializing_if = "PartialLimits::is_empty")]
    pub item_limits: PartialLimits,
    /// The limits as the group gave them.
    #[serde(default, skip_serializing_if = "PartialLimits::is_empty")]
    pub group_limits: PartialLimits,
    /// Event, component or frontage.
    #[serde(default, skip_serializing_if = "ItemKind::is_event")]
    pub kind: ItemKind,
    /// For a component item: the component classes it is about, each a major class (2 digits)
    /// or a class and subclass (4 digits), e.g. `["0101", "0102"]` for manhole covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub component_classes: Vec<String>,
}

impl Category {
    /// Whether a component of class and subclass `class4` (4 digits) is one this item is about.
    pub fn is_about_class(&self, class4: &str) -> bool {
        self.component_classes
            .iter()
            .any(|c| class4.starts_with(c.as_str()))
    }
}

/// An item of a task list file (`PUT /api/v1/categories`, `gridatlas categories import`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskListItem {
    /// The item's code, unique in the file.
    code: String,
    /// Its name in Chinese (not empty).
    name_zh: String,
    /// Its name in English.
    #[serde(default)]
    name_en: String,
    /// Its own stage limits (over the group's and the district's).
    #[serde(default)]
    limits: PartialLimits,
    /// event (default), component or frontage.
    #[serde(default)]
    kind: ItemKind,
    /// Component classes (2 or 4 digits) a `component` item is about.
    #[serde(default)]
    component_classes: Vec<String>,
}

/// A group of a task list file.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskListGroup {
    /// The group's code, unique in the file.
    code: String,
    /// Its name in Chinese (not empty).
    name_zh: String,
    /// Its name in English.
    #[serde(default)]
    name_en: String,
    /// The grid layer its cases belong to: resident_grid, street_grid or extended_grid.
    #[schema(value_type = crate::model::Layer)]
    layer: String,
    /// mandatory (规定, the whole district) or optional (自选, one street's: name it in `street`).
    list: ListKind,
    /// The street of an optional group.
    #[serde(default)]
    street: Option<String>,
    /// The group's stage limits (over the district's).
    #[serde(default)]
    limits: PartialLimits,
    /// Its items (at least one in the file).
    items: Vec<TaskListItem>,
}

/// A task list file (任务清单): the categories cases are filed under, in groups. Members other
/// than `groups` are for the reader and ignored (the three below are the ones the example file
/// has).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TaskListFile {
    /// The groups (at least one).
    groups: Vec<TaskListGroup>,
    /// Marks an example file; ignored.
    #[serde(default, rename = "example")]
    _example: Option<bool>,
    /// Free text for the reader; ignored.
    #[serde(default, rename = "note")]
    _note: Option<serde_json::Value>,
    /// The district the list was written for (its code); ignored.
    #[serde(default, rename = "district")]
    _district: Option<serde_json::Value>,
}

/// Parses a task list file into categories (in file order). Reports every problem, each naming
/// the group/item index and code.
pub fn parse_task_list(bytes: &[u8]) -> Result<Vec<Category>, Vec<String>> {
    let file: TaskListFile = serde_json::from_slice(bytes).map_err(|e| vec![format!("{e}")])?;
    let mut problems = Vec::new();
    let mut out = Vec::new();
    let mut codes = HashSet::new();
    if file.groups.is_empty() {
        // An empty list would leave intake with nothing to file a case under and every open
        // case without its category: almost always a mistaken upload, never the district's intent.
        problems.push("groups: the task list has no groups (it needs at least one item)".into());
    }
    for (gi, g) in file.groups.into_iter().enumerate() {
        let at = format!("groups[{gi}] ({})", g.code);
        let layer = match g.layer.parse::<Layer>() {
            Ok(l) if l.is_grid() => Some(l),
            _ => {
                problems.push(format!(
                    "{at}: layer {:?} is not a grid layer (resident_grid, street_grid or extended_grid)",
                    g.layer
                ));
                None
            }
        };
        if g.code.trim().is_empty() || g.name_zh.trim().is_empty() {
            problems.push(format!("{at}: code and name_zh must not be empty"));
        }
        match (g.list, &g.street) {
            (ListKind::Optional, None) => problems.push(format!(
                "{at}: an optional (自选) group needs the `street` it belongs to"
            )),
            (ListKind::Mandatory, Some(s)) => problems.push(format!(
                "{at}: a mandatory (规定) group applies to the whole district and may not name street {s}"
            )),
            _ => {}
        }
        if g.items.is_empty() {
            problems.push(format!("{at}: has no items"));
        }
        for (ii, item) in g.items.into_iter().enumerate() {
            let at = format!("groups[{gi}].items[{ii}] ({})", item.code);
            if item.code.trim().is_empty() || item.name_zh.trim().is_empty() {
                problems.push(format!("{at}: code and name_zh must not be empty"));
            }
            if !item
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                problems.push(format!(
                    "{at}: a code may hold only ASCII letters, digits, '-', '_' and '.' (it is a URL path segment and an Open311 service_code)"
                ));
            }
            match (item.kind, item.component_classes.is_empty()) {
                (ItemKind::Component, true) => problems.push(format!(
                    "{at}: a component item needs `component_classes` (major classes of 2 digits or subclasses of 4, e.g. [\"0101\"])"
                )),
                (ItemKind::Event | ItemKind::Frontage, false) => problems.push(format!(
                    "{at}: only a component item takes `component_classes` (this one is {})",
                    item.kind.as_str()
                )),
                _ => {}
            }
            for c in &item.component_classes {
                if !matches!(c.len(), 2 | 4) || !c.bytes().all(|b| b.is_ascii_digit()) {
                    problems.push(format!("{at}: component class {c:?} is not 2 or 4 digits"));
                }
            }
            if !codes.insert(item.code.clone()) {
                problems.push(format!("{at}: duplicate code {}", item.code));
            }
            if let Some(layer) = layer {
                out.push(Category {
                    name_en: if item.name_en.is_empty() {
                        item.name_zh.clone()
                    } else {
                        item.name_en
                    },
                    code: item.code,
                    name_zh: item.name_zh,
                    layer,
                    group: g.code.clone(),
                    group_zh: g.name_zh.clone(),
                    group_en: g.name_en.clone(),
                    list: g.list,
                    street: g.street.clone(),
                    limits: item.limits.over(g.limits.over(StageLimits::default())),
                    item_limits: item.limits,
                    group_limits: g.limits,
                    kind: item.kind,
                    component_classes: item.component_classes,
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The categories as a task list file (the inverse of [`parse_task_list`]).
pub fn task_list_json(categories: &[Category]) -> serde_json::Value {
    let mut groups: Vec<serde_json::Value> = Vec::new();
    let mut current: Option<&str> = None;
    for c in categories {
        if current != Some(c.group.as_str()) {
            current = Some(c.group.as_str());
            let mut g = serde_json::json!({
                "code": c.group, "name_zh": c.group_zh, "name_en": c.group_en,
                "layer": c.layer.as_str(), "list": c.list, "items": [],
            });
            if let Some(s) = &c.street {
                g["street"] = serde_json::json!(s);
            }
            if !c.group_limits.is_empty() {
                g["limits"] = serde_json::json!(c.group_limits);
            }
            groups.push(g);
        }
        if let Some(items) = groups
            .last_mut()
            .and_then(|g| g.get_mut("items"))
            .and_then(|i| i.as_array_mut())
        {
            let mut item =
                serde_json::json!({"code": c.code, "name_zh": c.name_zh, "name_en": c.name_en});
            if !c.kind.is_event() {
                item["kind"] = serde_json::json!(c.kind);
            }
            if !c.component_classes.is_empty() {
                item["component_classes"] = serde_json::json!(c.component_classes);
            }
            if !c.item_limits.is_empty() {
                item["limits"] = serde_json::json!(c.item_limits);
            }
            items.push(item);
        }
    }
    serde_json::json!({ "groups": groups })
}

/// The example task list shipped with the demo district (fixtures/task-list.example.json).
pub const EXAMPLE_TASK_LIST: &[u8] = include_bytes!("../../fixtures/task-list.example.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_list_has_the_documents_shape() {
        let cats = parse_task_list(EXAMPLE_TASK_LIST).expect("example parses");
        let groups = |layer: Layer| {
            let mut g: Vec<&str> = cats
                .iter()
                .filter(|c| c.layer == layer && c.list == ListKind::Mandatory)
                .map(|c| c.group.as_str())
                .collect();
            g.dedup();
            g.len()
        };
        let items = |layer: Layer| {
            cats.iter()
                .filter(|c| c.layer == layer && c.list == ListKind::Mandatory)
                .count()
        };
        // street grids: 3 categories / 11 items; extended grids: 3 categories / 5 items
        assert_eq!(
            (groups(Layer::StreetGrid), items(Layer::StreetGrid)),
            (3, 11)
        );
        assert_eq!(
            (groups(Layer::ExtendedGrid), items(Layer::ExtendedGrid)),
            (3, 5)
        );
        assert!(items(Layer::ResidentGrid) > 0);
        assert!(
            cats.iter()
                .any(|c| c.list == ListKind::Optional && c.street.is_some())
        );
    }

    #[test]
    fn an_empty_task_list_is_refused() {
        let problems = parse_task_list(br#"{"groups": []}"#).expect_err("empty list refused");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("groups: "), "{problems:?}");
    }

    #[test]
    fn items_say_what_they_are_about() {
        let cats = parse_task_list(EXAMPLE_TASK_LIST).expect("example parses");
        let kind = |code: &str| cats.iter().find(|c| c.code == code).map(|c| c.kind);
        assert_eq!(kind("SG0202"), Some(ItemKind::Component));
        assert_eq!(kind("SG0102"), Some(ItemKind::Frontage));
        assert_eq!(kind("SG0103"), Some(ItemKind::Frontage));
        assert_eq!(kind("SG0201"), Some(ItemKind::Event));
        let cover = cats.iter().find(|c| c.code == "SG0202").expect("SG0202");
        assert!(cover.is_about_class("0101") && cover.is_about_class("0114"));
        assert!(
            !cover.is_about_class("0118"),
            "a street lamp is no manhole cover"
        );

        let file = |item: &str| {
            format!(
                r#"{{"groups": [{{"code": "G", "name_zh": "组", "layer": "street_grid", "list": "mandatory", "items": [{item}]}}]}}"#
            )
        };
        let problems = |item: &str| parse_task_list(file(item).as_bytes()).expect_err("refused");
        assert!(
            problems(r#"{"code": "A", "name_zh": "甲", "kind": "component"}"#)[0]
                .contains("a component item needs `component_classes`")
        );
        assert!(
            problems(
                r#"{"code": "A", "name_zh": "甲", "kind": "frontage", "component_classes": ["01"]}"#
            )[0]
            .contains("only a component item takes `component_classes` (this one is frontage)")
        );
        assert!(
            problems(r#"{"code": "A", "name_zh": "甲", "kind": "component", "component_classes": ["011"]}"#)[0]
                .contains("component class \"011\" is not 2 or 4 digits")
        );
        assert!(
            parse_task_list(file(r#"{"code": "A", "name_zh": "甲", "kind": "parcel"}"#).as_bytes())
                .is_err()
        );
    }

    #[test]
    fn round_trips_through_the_file_format() {
        let cats = parse_task_list(EXAMPLE_TASK_LIST).expect("example parses");
        let again = parse_task_list(task_list_json(&cats).to_string().as_bytes()).expect("parses");
        assert_eq!(cats, again);
    }

    #[test]
    fn limits_come_from_the_item_then_the_group_then_the_defaults() {
        use crate::calendar::Limit;
        let list = r#"{"groups": [
            {"code": "A", "name_zh": "甲", "layer": "street_grid", "list": "mandatory",
             "limits": {"verify": "2 work_hours", "dispose": "5 work_days"},
             "items": [{"code": "A1", "name_zh": "x", "limits": {"dispose": "2 work_days", "check": "3 hours"}},
                       {"code": "A2", "name_zh": "y"}]}
        ]}"#;
        let cats = parse_task_list(list.as_bytes()).expect("parses");
        let d = StageLimits::default();
        assert_eq!(cats[0].limits.dispose, Limit::WorkDays(2));
        assert_eq!(cats[0].limits.check, Limit::Hours(3));
        assert_eq!(cats[0].limits.verify, Limit::WorkHours(2));
        assert_eq!(cats[0].limits.front_end, d.front_end);
        assert_eq!(cats[1].limits.dispose, Limit::WorkDays(5));
        assert_eq!(cats[1].limits.check, d.check);
        let again = parse_task_list(task_list_json(&cats).to_string().as_bytes()).expect("again");
        assert_eq!(cats, again);
        let bad = list.replace("3 hours", "3 fortnights");
        let e = parse_task_list(bad.as_bytes()).expect_err("unknown unit");
        assert!(e[0].contains("fortnights"), "{e:?}");
        let bad = list.replace("\"check\"", "\"chekc\"");
        assert!(parse_task_list(bad.as_bytes()).is_err());
    }

    #[test]
    fn reports_every_problem() {
        let bad = r#"{"groups": [
            {"code": "A", "name_zh": "甲", "layer": "block", "list": "mandatory", "items": [{"code": "A1", "name_zh": "x"}]},
            {"code": "B", "name_zh": "乙", "layer": "street_grid", "list": "optional", "items": [{"code": "A1", "name_zh": "y"}, {"code": "a b", "name_zh": "z"}]}
        ]}"#;
        let problems = parse_task_list(bad.as_bytes()).expect_err("invalid");
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("groups[0] (A)") && problems[0].contains("not a grid layer"));
        assert!(problems[1].contains("groups[1] (B)") && problems[1].contains("street"));
        assert!(problems[2].contains("duplicate code A1"));
        assert!(problems[3].contains("groups[1].items[1] (a b)"));
    }
}
