//! The problems of one feature or management unit ([`Ctx`]: JSON paths relative to the feature,
//! at most [`super::ReadOptions::max_problems_per_feature`] listed) and the wording helpers the
//! checks share.

use super::Problem;
use crate::model::Layer;
use serde_json::Value;

pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// "a, b or c".
pub(super) fn one_of<'a>(items: impl Iterator<Item = &'a str>, last: &str) -> String {
    let items: Vec<&str> = items.collect();
    match items.split_last() {
        None => String::new(),
        Some((l, [])) => (*l).to_string(),
        Some((l, rest)) => format!("{} {last} {l}", rest.join(", ")),
    }
}

pub(super) fn layer_list() -> String {
    one_of(Layer::ALL.iter().map(|l| l.as_str()), "or")
}

/// Problems of one feature (or management unit), with paths relative to `base`.
pub(super) struct Ctx {
    pub(super) index: Option<usize>,
    pub(super) base: String,
    pub(super) code: Option<String>,
    pub(super) problems: Vec<Problem>,
    pub(super) max: usize,
    pub(super) dropped: usize,
}

impl Ctx {
    pub(super) fn new(index: Option<usize>, base: String, max: usize) -> Self {
        Ctx {
            index,
            base,
            code: None,
            problems: Vec::new(),
            max,
            dropped: 0,
        }
    }

    pub(super) fn problem(&mut self, suffix: &str, message: String) {
        if self.problems.len() >= self.max {
            self.dropped += 1;
            return;
        }
        self.problems.push(Problem {
            index: self.index,
            code: None,
            path: format!("{}{suffix}", self.base),
            message,
        });
    }

    pub(super) fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    pub(super) fn into_problems(mut self) -> Vec<Problem> {
        if self.dropped > 0 {
            self.problems.push(Problem {
                index: self.index,
                code: None,
                path: self.base.clone(),
                message: format!(
                    "{} more problem(s) in this feature not listed (at most {} are listed per feature)",
                    self.dropped, self.max
                ),
            });
        }
        self.problems
    }
}

impl Ctx {
    pub(super) fn has_parent_problem(&self) -> bool {
        self.problems
            .iter()
            .any(|p| p.path.ends_with(".properties.parent"))
    }
}
