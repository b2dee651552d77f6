//! The reader's state across the features of one stream: the problems found so far, the
//! converted features, and the checks that need more than one feature — duplicate codes and more
//! than one district while streaming, parents after the stream ([`State::finish`]), and a legacy
//! top-level or geometry `crs` member. Management units are checked in [`super::units`].

use super::geometry::crs_problem;
use super::problems::{Ctx, one_of};
use super::properties::Meta;
use super::properties::check_feature;
use super::raw::{Budget, RawFeature};
use super::{Problem, ReadError, ReadOptions};
use crate::model::{Feature, FeatureSet, Layer};
use serde_json::Value;
use std::collections::HashMap;

pub(super) struct State<'o> {
    pub(super) opts: &'o ReadOptions,
    pub(super) problems: Vec<Problem>,
    /// Converted features; dropped (and no longer filled) as soon as there is a problem.
    pub(super) features: Vec<Feature>,
    pub(super) metas: Vec<Meta>,
    pub(super) codes: HashMap<String, usize>,
    pub(super) district: Option<usize>,
    pub(super) seen_type: bool,
    pub(super) seen_features: bool,
    pub(super) units: Option<Value>,
    pub(super) budget: Budget,
    pub(super) too_large: Option<Problem>,
}

impl<'o> State<'o> {
    pub(super) fn new(opts: &'o ReadOptions) -> Self {
        State {
            opts,
            problems: Vec::new(),
            features: Vec::new(),
            metas: Vec::new(),
            codes: HashMap::new(),
            district: None,
            seen_type: false,
            seen_features: false,
            units: None,
            budget: Budget {
                left: usize::MAX,
                exceeded: false,
            },
            too_large: None,
        }
    }

    pub(super) fn top_problem(&mut self, path: &str, message: String) {
        self.problems.push(Problem {
            index: None,
            code: None,
            path: path.to_string(),
            message,
        });
    }

    pub(super) fn finish(mut self) -> Result<FeatureSet, ReadError> {
        if !self.seen_type {
            self.top_problem(
                "type",
                "missing \"type\": \"FeatureCollection\" at the top level".into(),
            );
        }
        if !self.seen_features {
            self.top_problem("features", "missing \"features\" array".into());
        }
        self.check_parents();
        let units = match self.units.take() {
            Some(v) => self.check_units(v),
            None => Vec::new(),
        };
        if !self.problems.is_empty() {
            // Top-level problems first, then by feature, each feature's in the order found.
            self.problems.sort_by_key(|p| p.index.map_or(0, |i| i + 1));
            return Err(ReadError::Invalid(self.problems));
        }
        FeatureSet::new(self.features, units).map_err(|f| {
            ReadError::Invalid(vec![Problem {
                index: None,
                code: Some(f.code.clone()),
                path: "features".into(),
                message: format!("duplicate code {}", f.code),
            }])
        })
    }

    pub(super) fn check_parents(&mut self) {
        for (i, m) in self.metas.iter().enumerate() {
            let (Some(layer), Some(parent)) = (m.layer, m.parent.as_deref()) else {
                continue;
            };
            if layer == Layer::District {
                continue; // reported while streaming
            }
            let path = format!("features[{i}].properties.parent");
            let known = self
                .opts
                .known_parents
                .as_ref()
                .and_then(|k| k.get(parent))
                .copied();
            let message = match self.codes.get(parent) {
                None => match known {
                    Some(pl) if layer.parent_layers().contains(&pl) => continue,
                    Some(pl) => format!(
                        "parent {parent} is a {pl} in the current generation; a {layer}'s parent must be {}",
                        one_of(layer.parent_layers().iter().map(|l| l.as_str()), "or")
                    ),
                    None => format!("unknown parent {parent}: no feature has this code"),
                },
                Some(&j) if j == i => "a feature cannot be its own parent".to_string(),
                Some(&j) => match self.metas[j].layer {
                    Some(pl) if !layer.parent_layers().contains(&pl) => format!(
                        "parent {parent} is a {pl} (feature {j}); a {layer}'s parent must be {}",
                        one_of(layer.parent_layers().iter().map(|l| l.as_str()), "or")
                    ),
                    _ => continue,
                },
            };
            self.problems.push(Problem {
                index: Some(i),
                code: m.code.clone(),
                path,
                message,
            });
        }
    }
    /// Checks one raw feature, records its problems and keeps the converted feature.
    pub(super) fn accept(&mut self, index: usize, raw: RawFeature) {
        let mut c = Ctx::new(
            Some(index),
            format!("features[{index}]"),
            self.opts.max_problems_per_feature,
        );
        let (meta, feature) = check_feature(&mut c, raw);
        if let Some(code) = &meta.code {
            match self.codes.get(code) {
                Some(&j) => c.problem(
                    ".properties.code",
                    format!("duplicate code {code}: feature {j} has the same code"),
                ),
                None => {
                    self.codes.insert(code.clone(), index);
                }
            }
        }
        if meta.layer == Some(Layer::District) {
            match self.district {
                Some(j) => c.problem(
                    ".properties.layer",
                    format!("more than one district: feature {j} is already the district; a file holds at most one"),
                ),
                None => self.district = Some(index),
            }
        }
        let problems = c.into_problems();
        if problems.is_empty() && self.problems.is_empty() {
            if let Some(f) = feature {
                self.features.push(f);
            }
        } else {
            self.features = Vec::new();
        }
        for mut p in problems {
            p.code.clone_from(&meta.code);
            self.problems.push(p);
        }
        self.metas.push(meta);
    }

    pub(super) fn check_crs(&mut self, path: &str, v: &Value) {
        if let Some(message) = crs_problem(v) {
            self.top_problem(path, message);
        }
    }
}
