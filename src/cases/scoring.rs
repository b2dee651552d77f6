//! Composite scores and grades of the assessment (考核): a scoring scheme as data — weights per
//! indicator for each assessed kind (street, grid, department) and grade bands — applied to the
//! indicators of a period, and the ranked table. Plain data and arithmetic, no I/O.
//!
//! The scheme file (fixtures/scoring.example.json is an example):
//!
//! ```json
//! {"grades": [["A", 90], ["B", 75], ["C", 60], ["D", 40], ["E", 0]],
//!  "kinds": {"street": [{"indicator": "on_time_rate", "weight": 30},
//!                       {"indicator": "satisfaction_rate", "weight": 25}], …}}
//! ```
//!
//! A score is `100 × Σ weight × value ÷ Σ weight` over the indicators of the kind that have a
//! value in the period (a rate with no denominator counts for nothing either way, so a street with
//! no verdicts yet is scored on the rest); an indicator marked `"lower_is_better": true` (返工率,
//! 退单率) counts `1 − rate`. With no indicator valued the score and grade are `null`. The grade is
//! the first band whose floor the score reaches: exactly 90 is A, 89.99 is B.

use super::indicators::Indicators;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// What is assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssessedKind {
    /// A street (街镇).
    Street,
    /// A grid.
    Grid,
    /// A department or management unit.
    Department,
}

impl AssessedKind {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            AssessedKind::Street => "street",
            AssessedKind::Grid => "grid",
            AssessedKind::Department => "department",
        }
    }
}

impl std::str::FromStr for AssessedKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "street" => Ok(AssessedKind::Street),
            "grid" => Ok(AssessedKind::Grid),
            "department" => Ok(AssessedKind::Department),
            _ => Err(format!(
                "{s:?} is not an assessed kind (street, grid, department)"
            )),
        }
    }
}

/// The indicators a scheme may weigh: the rates of [`Indicators`].
pub use super::indicators::RATES;

/// The value of rate `name` in `ind` (0 to 1), if it has one.
pub fn rate(ind: &Indicators, name: &str) -> Option<f64> {
    ind.rate(name)
}

/// One weighed indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Weight {
    /// The indicator (one of [`RATES`]).
    pub indicator: String,
    /// Its weight (> 0).
    pub weight: f64,
    /// Whether a lower rate is better (it counts 1 − rate).
    #[serde(default)]
    pub lower_is_better: bool,
}

/// A scoring scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    /// Whether it is an example (shipped with gridatlas, not a district's own).
    #[serde(default)]
    pub example: bool,
    /// A note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Grade bands: `[grade, floor]` pairs, floors strictly falling, the last 0.
    #[schema(value_type = Vec<Vec<serde_json::Value>>)]
    pub grades: Vec<(String, f64)>,
    /// Weights per assessed kind (`street`, `grid`, `department`).
    pub kinds: std::collections::BTreeMap<String, Vec<Weight>>,
}

/// The example scheme shipped with gridatlas (fixtures/scoring.example.json).
pub const EXAMPLE_SCHEME: &[u8] = include_bytes!("../../fixtures/scoring.example.json");

impl Scheme {
    /// Reads a scheme file; every problem is named.
    pub fn from_json(bytes: &[u8]) -> Result<Scheme, Vec<String>> {
        let scheme: Scheme =
            serde_json::from_slice(bytes).map_err(|e| vec![format!("scoring scheme: {e}")])?;
        let mut problems = Vec::new();
        if scheme.grades.is_empty() {
            problems.push("grades: no grade band".to_owned());
        }
        let mut names = HashSet::new();
        for (i, w) in scheme.grades.windows(2).enumerate() {
            if w[1].1 >= w[0].1 {
                problems.push(format!(
                    "grades[{}]: the floor {} is not below the previous band's {}",
                    i + 1,
                    w[1].1,
                    w[0].1
                ));
            }
        }
        for (i, (g, floor)) in scheme.grades.iter().enumerate() {
            if g.trim().is_empty() || !names.insert(g.clone()) {
                problems.push(format!("grades[{i}]: the grade {g:?} is empty or repeated"));
            }
            if !(0.0..=100.0).contains(floor) {
                problems.push(format!("grades[{i}]: the floor {floor} is not 0 to 100"));
            }
        }
        if scheme.grades.last().is_some_and(|(_, f)| *f != 0.0) {
            problems
                .push("grades: the last band's floor must be 0 (every score has a grade)".into());
        }
        for (kind, weights) in &scheme.kinds {
            if kind.parse::<AssessedKind>().is_err() {
                problems.push(format!(
                    "kinds.{kind}: not an assessed kind (street, grid, department)"
                ));
            }
            if weights.is_empty() {
                problems.push(format!("kinds.{kind}: no indicator"));
            }
            let mut seen = HashSet::new();
            for (i, w) in weights.iter().enumerate() {
                if !RATES.contains(&w.indicator.as_str()) {
                    problems.push(format!(
                        "kinds.{kind}[{i}]: unknown indicator {:?} ({})",
                        w.indicator,
                        RATES.join(", ")
                    ));
                }
                if !(w.weight.is_finite() && w.weight > 0.0) {
                    problems.push(format!("kinds.{kind}[{i}]: the weight must be above 0"));
                }
                if !seen.insert(w.indicator.clone()) {
                    problems.push(format!("kinds.{kind}[{i}]: {} weighed twice", w.indicator));
                }
            }
        }
        if problems.is_empty() {
            Ok(scheme)
        } else {
            Err(problems)
        }
    }

    /// The score (0 to 100, rounded to 2 decimals) of `ind` as `kind`, or `None` when the scheme
    /// weighs nothing for it or nothing it weighs has a value.
    pub fn score(&self, kind: AssessedKind, ind: &Indicators) -> Option<f64> {
        let weights = self.kinds.get(kind.as_str())?;
        let (mut sum, mut total) = (0.0, 0.0);
        for w in weights {
            if let Some(r) = rate(ind, &w.indicator) {
                let v = if w.lower_is_better { 1.0 - r } else { r };
                sum += w.weight * v.clamp(0.0, 1.0);
                total += w.weight;
            }
        }
        (total > 0.0).then(|| (sum / total * 10_000.0).round() / 100.0)
    }

    /// The grade of `score`: the first band whose floor it reaches.
    pub fn grade(&self, score: f64) -> Option<&str> {
        self.grades
            .iter()
            .find(|(_, floor)| score >= *floor)
            .map(|(g, _)| g.as_str())
    }
}

/// One row of a ranked table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ranked {
    /// 1, 2, …; equal scores share a rank; unscored rows come last, unranked.
    pub rank: Option<usize>,
    /// The assessed area's or department's code (a department: its name).
    pub code: String,
    /// Its name.
    pub name: Option<String>,
    /// The composite score.
    pub score: Option<f64>,
    /// The grade.
    pub grade: Option<String>,
    /// The indicators it was scored on.
    pub indicators: Indicators,
}

/// Ranks `rows` (code, name, indicators) as `kind` under `scheme`: by score, highest first
/// (ties share a rank and are ordered by code); rows without a score last.
pub fn rank(
    scheme: &Scheme,
    kind: AssessedKind,
    rows: impl IntoIterator<Item = (String, Option<String>, Indicators)>,
) -> Vec<Ranked> {
    let mut out: Vec<Ranked> = rows
        .into_iter()
        .map(|(code, name, indicators)| {
            let score = scheme.score(kind, &indicators);
            Ranked {
                rank: None,
                grade: score.and_then(|s| scheme.grade(s)).map(str::to_owned),
                code,
                name,
                score,
                indicators,
            }
        })
        .collect();
    out.sort_by(|a, b| match (a.score, b.score) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.code.cmp(&b.code)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.code.cmp(&b.code),
    });
    let mut previous: Option<(f64, usize)> = None;
    for (i, r) in out.iter_mut().enumerate() {
        if let Some(s) = r.score {
            let rank = match previous {
                Some((p, rank)) if p == s => rank,
                _ => i + 1,
            };
            r.rank = Some(rank);
            previous = Some((s, rank));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme() -> Scheme {
        Scheme::from_json(
            br#"{"grades": [["A", 90], ["B", 75], ["C", 60], ["D", 40], ["E", 0]],
                 "kinds": {"street": [{"indicator": "on_time_rate", "weight": 3},
                                      {"indicator": "satisfaction_rate", "weight": 1}]}}"#,
        )
        .expect("scheme")
    }

    #[test]
    fn grades_start_exactly_at_their_floors() {
        let s = scheme();
        for (score, grade) in [
            (100.0, "A"),
            (90.0, "A"),
            (89.99, "B"),
            (75.0, "B"),
            (74.99, "C"),
            (60.0, "C"),
            (59.99, "D"),
            (40.0, "D"),
            (39.99, "E"),
            (0.0, "E"),
        ] {
            assert_eq!(s.grade(score), Some(grade), "{score}");
        }
    }

    #[test]
    fn scores_weigh_the_rates_that_have_a_value() {
        let s = scheme();
        let ind = Indicators {
            on_time_rate: Some(0.9),
            satisfaction_rate: Some(0.5),
            ..Indicators::default()
        };
        // (3 × 0.9 + 1 × 0.5) ÷ 4 = 0.8
        assert_eq!(s.score(AssessedKind::Street, &ind), Some(80.0));
        let only = Indicators {
            on_time_rate: Some(0.9),
            ..Indicators::default()
        };
        assert_eq!(s.score(AssessedKind::Street, &only), Some(90.0));
        assert_eq!(s.score(AssessedKind::Street, &Indicators::default()), None);
        assert_eq!(
            s.score(AssessedKind::Grid, &ind),
            None,
            "no weights for grids"
        );
    }

    #[test]
    fn ranks_share_ties_and_put_the_unscored_last() {
        let s = scheme();
        let ind = |r: Option<f64>| Indicators {
            on_time_rate: r,
            ..Indicators::default()
        };
        let rows = vec![
            ("b".to_owned(), None, ind(Some(0.8))),
            ("a".to_owned(), None, ind(Some(0.8))),
            ("c".to_owned(), None, ind(None)),
            ("d".to_owned(), None, ind(Some(0.95))),
            ("e".to_owned(), None, ind(Some(0.3))),
        ];
        let r = rank(&s, AssessedKind::Street, rows);
        let got: Vec<(&str, Option<usize>, Option<&str>)> = r
            .iter()
            .map(|x| (x.code.as_str(), x.rank, x.grade.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("d", Some(1), Some("A")),
                ("a", Some(2), Some("B")),
                ("b", Some(2), Some("B")),
                ("e", Some(4), Some("E")),
                ("c", None, None),
            ]
        );
    }

    #[test]
    fn a_bad_scheme_names_every_problem() {
        let bad = br#"{"grades": [["A", 90], ["B", 95], ["A", 10]],
                       "kinds": {"county": [], "street": [{"indicator": "speed", "weight": 0}]}}"#;
        let p = Scheme::from_json(bad).expect_err("bad");
        let all = p.join("\n");
        for needle in [
            "grades[1]",
            "repeated",
            "last band",
            "kinds.county",
            "speed",
            "above 0",
        ] {
            assert!(all.contains(needle), "{needle}: {all}");
        }
        let example = Scheme::from_json(EXAMPLE_SCHEME).expect("the example parses");
        assert!(example.example);
        assert_eq!(example.grade(90.0), Some("A"));
        for kind in ["street", "grid", "department"] {
            assert!(example.kinds.contains_key(kind), "{kind}");
        }
    }
}
