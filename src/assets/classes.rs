//! The component class table (部件分类), as data.
//!
//! The major classes follow the national standard for digital city management (CJ/T 214-2007,
//! GB/T 30428.2 管理部件和事件): `01` 公用设施, `02` 道路交通, `03` 市容环境, `04` 园林绿化,
//! `05` 房屋土地, `06` 其他设施, and `07` 扩展部件 for the classes a city adds. Each has
//! subclasses with 2-digit codes; a component's code carries both (digits 7–8 and 9–10, so
//! `0101` is 公用设施 / 上水井盖).
//!
//! The table shipped ([`ClassTable::example`], `fixtures/component-classes.example.json`, marked
//! `"example": true`) has a realistic subclass list, but **it is an example**: the subclasses
//! and their numbering differ between cities, and a district replaces the table with its own
//! ([`ClassTable::parse`]).
//!
//! ```json
//! {"example": false, "classes": [
//!   {"code": "01", "name_zh": "公用设施", "name_en": "Public utilities", "subclasses": [
//!     {"code": "01", "name_zh": "上水井盖", "name_en": "Water supply manhole cover"}]}]}
//! ```

use serde::{Deserialize, Serialize};

/// The shipped example table.
const EXAMPLE: &str = include_str!("../../fixtures/component-classes.example.json");
/// Longest name, in characters.
pub const MAX_NAME: usize = 200;

/// A subclass (小类) of a major class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subclass {
    /// Two digits, unique within the major class.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// A major class (大类).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MajorClass {
    /// Two digits, unique in the table.
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Its subclasses.
    pub subclasses: Vec<Subclass>,
}

impl MajorClass {
    /// The subclass with `code`.
    pub fn subclass(&self, code: &str) -> Option<&Subclass> {
        self.subclasses.iter().find(|s| s.code == code)
    }
}

/// The class table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassTable {
    /// True for the shipped example (its subclass list is to be replaced by the district's).
    #[serde(default)]
    pub example: bool,
    /// A note on the table's source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Major classes.
    pub classes: Vec<MajorClass>,
}

impl ClassTable {
    /// The example table shipped with gridatlas (`fixtures/component-classes.example.json`).
    pub fn example() -> ClassTable {
        static TABLE: std::sync::OnceLock<ClassTable> = std::sync::OnceLock::new();
        TABLE
            .get_or_init(|| {
                // The file is part of the build and tested to parse.
                ClassTable::parse(EXAMPLE.as_bytes()).unwrap_or_else(|e| {
                    panic!("the shipped class table is invalid: {}", e.join("; "))
                })
            })
            .clone()
    }

    /// Whether the table has the major class of `code` (2 digits) or the subclass (4 digits:
    /// major class and subclass), as task-list items name them.
    pub fn has(&self, code: &str) -> bool {
        match (code.get(0..2), code.get(2..4), code.len()) {
            (Some(c), None, 2) => self.major(c).is_some(),
            (Some(c), Some(s), 4) => self.lookup(c, s).is_some(),
            _ => false,
        }
    }

    /// Reads a table from JSON, with every problem: malformed JSON or unknown fields, a code that
    /// is not 2 digits, a major class or subclass code used twice, an empty or too long name.
    pub fn parse(bytes: &[u8]) -> Result<ClassTable, Vec<String>> {
        let table: ClassTable = serde_json::from_slice(bytes).map_err(|e| vec![e.to_string()])?;
        let problems = table.problems();
        if problems.is_empty() {
            Ok(table)
        } else {
            Err(problems)
        }
    }

    /// Every problem of the table (see [`ClassTable::parse`]).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut names = |path: &str, zh: &str, en: &str| {
            for (field, v) in [("name_zh", zh), ("name_en", en)] {
                if v.trim().is_empty() {
                    out.push(format!("{path}.{field}: empty"));
                } else if v.chars().count() > MAX_NAME {
                    out.push(format!("{path}.{field}: longer than {MAX_NAME} characters"));
                }
            }
        };
        for (i, c) in self.classes.iter().enumerate() {
            names(&format!("classes[{i}]"), &c.name_zh, &c.name_en);
            for (j, s) in c.subclasses.iter().enumerate() {
                names(
                    &format!("classes[{i}].subclasses[{j}]"),
                    &s.name_zh,
                    &s.name_en,
                );
            }
        }
        for (i, c) in self.classes.iter().enumerate() {
            let path = format!("classes[{i}]");
            code_problems(
                &path,
                &c.code,
                i,
                self.classes.iter().map(|c| &c.code),
                &mut out,
            );
            for (j, s) in c.subclasses.iter().enumerate() {
                let p = format!("{path}.subclasses[{j}]");
                code_problems(
                    &p,
                    &s.code,
                    j,
                    c.subclasses.iter().map(|s| &s.code),
                    &mut out,
                );
            }
        }
        out
    }

    /// The major class with `code`.
    pub fn major(&self, code: &str) -> Option<&MajorClass> {
        self.classes.iter().find(|c| c.code == code)
    }

    /// The major class and subclass of `class` + `subclass` (2 digits each).
    pub fn lookup(&self, class: &str, subclass: &str) -> Option<(&MajorClass, &Subclass)> {
        let c = self.major(class)?;
        Some((c, c.subclass(subclass)?))
    }

    /// The classes of a component code (digits 7–8 and 9–10), if the code is long enough and
    /// the table has them.
    pub fn of_code(&self, code: &str) -> Option<(&MajorClass, &Subclass)> {
        self.lookup(code.get(6..8)?, code.get(8..10)?)
    }
}

/// A code that is not 2 digits, or that an earlier sibling already has (`i`: the item's index
/// among `codes`).
fn code_problems<'a>(
    path: &str,
    code: &str,
    i: usize,
    mut codes: impl Iterator<Item = &'a String>,
    out: &mut Vec<String>,
) {
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
        out.push(format!("{path}.code: {code:?} is not 2 digits"));
    } else if let Some(first) = codes.position(|c| c == code).filter(|&k| k < i) {
        out.push(format!(
            "{path}.code: {code:?} is also the code of item {first}"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_table_parses_and_has_the_standard_major_classes() {
        let t = ClassTable::example();
        assert!(t.example);
        let majors: Vec<(&str, &str)> = t
            .classes
            .iter()
            .map(|c| (c.code.as_str(), c.name_zh.as_str()))
            .collect();
        assert_eq!(
            majors,
            [
                ("01", "公用设施"),
                ("02", "道路交通"),
                ("03", "市容环境"),
                ("04", "园林绿化"),
                ("05", "房屋土地"),
                ("06", "其他设施"),
                ("07", "扩展部件"),
            ]
        );
        let (c, s) = t.of_code("3101160101000001").unwrap();
        assert_eq!(
            (c.name_zh.as_str(), s.name_zh.as_str()),
            ("公用设施", "上水井盖")
        );
        assert_eq!(t.lookup("01", "02").unwrap().1.name_zh, "污水井盖");
        assert_eq!(t.lookup("01", "03").unwrap().1.name_zh, "雨水井盖");
        assert!(t.lookup("01", "99").is_none());
        assert!(t.of_code("31011601").is_none());
        assert!(t.classes.iter().all(|c| !c.subclasses.is_empty()));
    }

    #[test]
    fn every_problem_of_a_table_is_reported() {
        let json = r#"{"classes": [
            {"code": "01", "name_zh": "公用设施", "name_en": "U", "subclasses": [
                {"code": "01", "name_zh": "上水井盖", "name_en": "W"},
                {"code": "01", "name_zh": "污水井盖", "name_en": "S"},
                {"code": "3", "name_zh": " ", "name_en": "X"}]},
            {"code": "01", "name_zh": "again", "name_en": "A", "subclasses": []},
            {"code": "1a", "name_zh": "x", "name_en": "", "subclasses": []}]}"#;
        assert_eq!(
            ClassTable::parse(json.as_bytes()).unwrap_err(),
            [
                "classes[0].subclasses[2].name_zh: empty",
                "classes[2].name_en: empty",
                "classes[0].subclasses[1].code: \"01\" is also the code of item 0",
                "classes[0].subclasses[2].code: \"3\" is not 2 digits",
                "classes[1].code: \"01\" is also the code of item 0",
                "classes[2].code: \"1a\" is not 2 digits",
            ]
        );
        let e = ClassTable::parse(br#"{"classes": [], "colour": 1}"#).unwrap_err();
        assert!(e[0].starts_with("unknown field `colour`"), "{e:?}");
    }
}
