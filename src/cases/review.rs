//! Quality review by sampling (质量考评): a sample of closed cases drawn reproducibly, each
//! case given to reviewers of other streets (分组互评), scored on a rubric, and the results per
//! case and per street. Plain data and arithmetic, no I/O.
//!
//! In order:
//!
//! 1. **The rubric** ([`Rubric`], fixtures/rubric.example.json is an example): items with a key,
//!    a name and their maximum points, and the spread between reviewers above which a case goes
//!    to arbitration. Checked by [`Rubric::from_json`] / [`Rubric::check`], every problem named.
//! 2. **The draw** ([`draw`], [`SampleSpec`]): `random` draws `n` cases of the whole population,
//!    `quota` draws `per_street` cases of every street, `share` draws a `fraction` of every
//!    street (rounded to the nearest case, halves up, at least one per street that has cases).
//!    With `stratify: "group"` each draw is first shared out over the category groups of its
//!    population in proportion to their sizes ([`allocate`]: largest remainder, ties to the
//!    group code first), then drawn at random within each group. Reproducible: the population
//!    is sorted by case id first (so the order it came in does not matter) and the random
//!    numbers are ChaCha8's stream 0 for the seed, used by an algorithm fixed in this file (a
//!    partial Fisher–Yates shuffle with rejection sampling for the bounds), so that the same
//!    seed and the same cases give the same sample after upgrades of `rand` too.
//! 3. **The assignment** ([`assign`]): every sampled case, in id order, gets `k` distinct
//!    reviewers whose street is not the case's street (nobody reviews their own street), those
//!    with the fewest assignments so far first, ties broken by ChaCha8's stream 1 for the seed;
//!    fewer than `k` eligible reviewers for a case is an error naming the case and its street.
//! 4. **Scores** ([`Rubric::total_of`]): points for every item of the rubric, each from 0 to the
//!    item's maximum in steps of 0.5 (half points: a reviewer can mark a small lapse without
//!    losing a whole point; every total stays exact in binary floating point).
//! 5. **Results** ([`results`]): per case the totals given, their mean, median and spread
//!    (highest − lowest); `arbitration` when the spread is above the rubric's
//!    `arbitration_spread`. Per street: the cases reviewed (at least one score), the mean of
//!    their case means, and that mean as a fraction of the rubric's total (`rate`, 0 to 1) —
//!    [`street_review_rates`] gives those rates as the `review_score` indicator of the
//!    composite score.

use chrono::{DateTime, Utc};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Bounds of every input of a review.
pub mod limits {
    /// Most items of a rubric.
    pub const ITEMS: usize = 30;
    /// Longest item key, in characters.
    pub const KEY: usize = 40;
    /// Longest name (a rubric's, an item's, a review's, a reviewer's), in characters.
    pub const NAME: usize = 100;
    /// Longest note of a rubric or an item, in characters.
    pub const NOTE: usize = 1_000;
    /// Most points of one item.
    pub const ITEM_MAX: u32 = 1_000;
    /// Most cases in one sample.
    pub const SAMPLE: usize = 5_000;
    /// Most reviewers per case.
    pub const K: u32 = 9;
    /// Most reviewers of one review.
    pub const REVIEWERS: usize = 500;
    /// Most streets named in one review.
    pub const STREETS: usize = 200;
    /// Most closed cases a review draws from (a month of a large district is about 80,000; the
    /// list is read whole, about 100 bytes a case).
    pub const POPULATION: usize = 500_000;
    /// Longest comment of a score, in characters.
    pub const COMMENT: usize = 1_000;
}

/// The largest seed: 2^53 − 1, the largest integer a JSON number read by JavaScript (an IEEE
/// double) keeps exactly, so that a seed shown by the API can be sent back unchanged.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// The name of the composite score's indicator fed by [`street_review_rates`].
pub const INDICATOR: &str = "review_score";

/// The example rubric shipped with gridatlas (fixtures/rubric.example.json).
pub const EXAMPLE_RUBRIC: &[u8] = include_bytes!("../../fixtures/rubric.example.json");

/// One item of a rubric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricItem {
    /// Its key in a score's `points` (ASCII letters, digits and `_`, at most 40).
    pub key: String,
    /// Its name (e.g. 立案准确).
    pub name: String,
    /// Its maximum points (1 to 1,000).
    pub max: u32,
    /// What the reviewer looks at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A scoring rubric of the quality review (评分细则).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Whether it is an example (shipped with gridatlas, not a district's own).
    #[serde(default)]
    pub example: bool,
    /// A note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Its name.
    pub name: String,
    /// The items (1 to 30, keys unique).
    pub items: Vec<RubricItem>,
    /// A case whose reviewers' totals differ by more than this many points goes to
    /// arbitration (0 to the rubric's total).
    pub arbitration_spread: f64,
}

fn count_chars_over(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().nth(max).is_some()
}

impl Rubric {
    /// Reads a rubric file; every problem is named.
    pub fn from_json(bytes: &[u8]) -> Result<Rubric, Vec<String>> {
        let rubric: Rubric =
            serde_json::from_slice(bytes).map_err(|e| vec![format!("rubric: {e}")])?;
        rubric.check()?;
        Ok(rubric)
    }

    /// Checks a rubric: names, unique keys, maxima above 0, bounded counts and lengths, the
    /// arbitration spread within the total. Every problem is named.
    pub fn check(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() || count_chars_over(&self.name, limits::NAME) {
            problems.push(format!(
                "name: must be 1 to {} characters, not blank",
                limits::NAME
            ));
        }
        if self
            .note
            .as_deref()
            .is_some_and(|n| count_chars_over(n, limits::NOTE))
        {
            problems.push(format!("note: longer than {} characters", limits::NOTE));
        }
        if self.items.is_empty() || self.items.len() > limits::ITEMS {
            problems.push(format!(
                "items: {} item(s); a rubric has 1 to {}",
                self.items.len(),
                limits::ITEMS
            ));
        }
        let mut keys = HashSet::new();
        for (i, it) in self.items.iter().enumerate().take(limits::ITEMS) {
            let key_ok = !it.key.is_empty()
                && it.key.len() <= limits::KEY
                && it
                    .key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !key_ok {
                problems.push(format!(
                    "items[{i}]: the key {:?} must be 1 to {} ASCII letters, digits or _",
                    it.key,
                    limits::KEY
                ));
            } else if !keys.insert(it.key.as_str()) {
                problems.push(format!("items[{i}]: the key {:?} is repeated", it.key));
            }
            if it.name.trim().is_empty() || count_chars_over(&it.name, limits::NAME) {
                problems.push(format!(
                    "items[{i}] ({}): the name must be 1 to {} characters, not blank",
                    it.key,
                    limits::NAME
                ));
            }
            if it
                .note
                .as_deref()
                .is_some_and(|n| count_chars_over(n, limits::NOTE))
            {
                problems.push(format!(
                    "items[{i}] ({}): the note is longer than {} characters",
                    it.key,
                    limits::NOTE
                ));
            }
            if it.max == 0 || it.max > limits::ITEM_MAX {
                problems.push(format!(
                    "items[{i}] ({}): max {} is not 1 to {}",
                    it.key,
                    it.max,
                    limits::ITEM_MAX
                ));
            }
        }
        let total = self.max_total();
        if !(self.arbitration_spread.is_finite()
            && self.arbitration_spread >= 0.0
            && self.arbitration_spread <= f64::from(total))
        {
            problems.push(format!(
                "arbitration_spread: {} is not 0 to the rubric's total ({total})",
                self.arbitration_spread
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The highest total: the sum of the items' maxima.
    pub fn max_total(&self) -> u32 {
        self.items
            .iter()
            .map(|i| i.max)
            .fold(0u32, u32::saturating_add)
    }

    /// The total of a score's `points` (every item of the rubric, each from 0 to its maximum in
    /// steps of 0.5, no other key); the problems name the item (`points.<key>`).
    pub fn total_of(&self, points: &BTreeMap<String, f64>) -> Result<f64, Vec<String>> {
        let mut problems = Vec::new();
        let mut total = 0.0;
        for it in &self.items {
            match points.get(&it.key) {
                None => problems.push(format!(
                    "points.{}: missing ({}, 0 to {})",
                    it.key, it.name, it.max
                )),
                Some(&p) => {
                    if !(p.is_finite() && (0.0..=f64::from(it.max)).contains(&p)) {
                        problems.push(format!(
                            "points.{}: {p} is not 0 to {} ({})",
                            it.key, it.max, it.name
                        ));
                    } else if (p * 2.0).fract() != 0.0 {
                        problems.push(format!(
                            "points.{}: {p} is not a whole or half point",
                            it.key
                        ));
                    } else {
                        total += p;
                    }
                }
            }
        }
        for key in points.keys() {
            if !self.items.iter().any(|i| &i.key == key) {
                let shown: String = key.chars().take(limits::KEY).collect();
                problems.push(format!(
                    "points.{shown}: not an item of the rubric ({})",
                    self.items
                        .iter()
                        .map(|i| i.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        if problems.is_empty() {
            Ok(total)
        } else {
            Err(problems)
        }
    }
}

/// How the sample is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// `n` cases of the whole population.
    Random,
    /// `per_street` cases of every street.
    Quota,
    /// A `fraction` of every street's cases.
    Share,
}

impl Method {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Random => "random",
            Method::Quota => "quota",
            Method::Share => "share",
        }
    }
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [Method::Random, Method::Quota, Method::Share]
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a sampling method (random, quota, share)"))
    }
}

/// How a draw is stratified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stratify {
    /// By the category group (the task list's category) of the case.
    Group,
}

impl std::str::FromStr for Stratify {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "group" => Ok(Stratify::Group),
            _ => Err(format!("{s:?} is not a stratification (group)")),
        }
    }
}

/// What to draw: the method with its one parameter, the stratification, the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SampleSpec {
    /// random | quota | share.
    pub method: Method,
    /// random: how many cases (1 to 5,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// quota: how many cases per street (1 to 5,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_street: Option<u32>,
    /// share: which fraction of every street's cases (above 0, at most 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// `group`: proportional allocation over the category groups, random within each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stratify: Option<Stratify>,
    /// The seed (0 to 2^53 − 1): the same seed and the same cases give the same sample.
    pub seed: u64,
}

impl SampleSpec {
    /// The field of the method's parameter: `n`, `per_street` or `fraction`.
    pub fn method_field(&self) -> &'static str {
        match self.method {
            Method::Random => "n",
            Method::Quota => "per_street",
            Method::Share => "fraction",
        }
    }

    /// Checks that the method has its parameter (and no other) within bounds and the seed is
    /// at most [`MAX_SEED`]; the error names the field.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let max = limits::SAMPLE as u32;
        let (need, others): (&str, [(&'static str, bool); 2]) = match self.method {
            Method::Random => (
                "n",
                [
                    ("per_street", self.per_street.is_some()),
                    ("fraction", self.fraction.is_some()),
                ],
            ),
            Method::Quota => (
                "per_street",
                [
                    ("n", self.n.is_some()),
                    ("fraction", self.fraction.is_some()),
                ],
            ),
            Method::Share => (
                "fraction",
                [
                    ("n", self.n.is_some()),
                    ("per_street", self.per_street.is_some()),
                ],
            ),
        };
        if let Some(&(field, _)) = others.iter().find(|(_, given)| *given) {
            return Err((
                field,
                format!(
                    "method {} takes `{need}`, not `{field}`",
                    self.method.as_str()
                ),
            ));
        }
        match self.method {
            Method::Random => match self.n {
                Some(n) if (1..=max).contains(&n) => {}
                Some(n) => return Err(("n", format!("{n} is not 1 to {max}"))),
                None => return Err(("n", "method random needs `n`".into())),
            },
            Method::Quota => match self.per_street {
                Some(n) if (1..=max).contains(&n) => {}
                Some(n) => return Err(("per_street", format!("{n} is not 1 to {max}"))),
                None => return Err(("per_street", "method quota needs `per_street`".into())),
            },
            Method::Share => match self.fraction {
                Some(f) if f.is_finite() && f > 0.0 && f <= 1.0 => {}
                Some(f) => return Err(("fraction", format!("{f} is not above 0 and at most 1"))),
                None => return Err(("fraction", "method share needs `fraction`".into())),
            },
        }
        if self.seed > MAX_SEED {
            return Err((
                "seed",
                format!("{} is above {MAX_SEED} (2^53 − 1)", self.seed),
            ));
        }
        Ok(())
    }
}

/// A case of the population or of the sample: its id, street, category and category group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SampledCase {
    /// The case.
    pub case_id: i64,
    /// Its street's code.
    pub street: String,
    /// Its category's code.
    pub category: String,
    /// Its category's group (`?` for a category no longer in the task list).
    pub group: String,
}

/// A random integer below `bound` (> 0) from `rng`: rejection sampling on whole `u64`s, so
/// every value is equally likely and the algorithm never changes under us.
fn below(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    // 2^64 mod bound: the values at the top that would favour the low remainders
    let skew = (u64::MAX % bound + 1) % bound;
    loop {
        let x = rng.next_u64();
        if x <= u64::MAX - skew {
            return x % bound;
        }
    }
}

/// `m` of `items` at random (a partial Fisher–Yates shuffle), in the order drawn.
fn pick<T: Clone>(rng: &mut ChaCha8Rng, items: &[T], m: usize) -> Vec<T> {
    let m = m.min(items.len());
    let mut idx: Vec<usize> = (0..items.len()).collect();
    for i in 0..m {
        let rest = (items.len() - i) as u64;
        // below(rest) < rest ≤ items.len(): fits a usize
        let j = i + usize::try_from(below(rng, rest)).unwrap_or(0);
        idx.swap(i, j);
    }
    idx[..m].iter().map(|&i| items[i].clone()).collect()
}

/// Shares `n` out over strata of `sizes` in proportion to their sizes, by largest remainder:
/// each gets `⌊n × size ÷ Σ sizes⌋`, and the seats left go one each to the largest remainders
/// (ties: the earlier stratum). `n` is capped at `Σ sizes`; no stratum gets more than its size;
/// the shares add up to `min(n, Σ sizes)`.
pub fn allocate(n: usize, sizes: &[usize]) -> Vec<usize> {
    let total: u128 = sizes.iter().map(|&s| s as u128).sum();
    if total == 0 {
        return vec![0; sizes.len()];
    }
    let n = (n as u128).min(total);
    let mut out: Vec<usize> = Vec::with_capacity(sizes.len());
    let mut rems: Vec<(u128, usize)> = Vec::with_capacity(sizes.len());
    for (i, &s) in sizes.iter().enumerate() {
        let p = n * s as u128;
        // ≤ s: fits a usize
        out.push(usize::try_from(p / total).unwrap_or(s));
        rems.push((p % total, i));
    }
    let given: usize = out.iter().sum();
    let left = usize::try_from(n)
        .unwrap_or(usize::MAX)
        .saturating_sub(given);
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(r, i) in rems.iter().take(left) {
        // a stratum with no remainder is full at its share; none needs a seat then
        if r > 0 {
            out[i] += 1;
        }
    }
    out
}

/// How many of `len` cases a share of `fraction` draws: rounded to the nearest case (halves
/// up), at least one of a street that has cases.
pub fn share_of(fraction: f64, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    // 1e-9 absorbs the binary error of products such as 0.15 × 10 (= 1.4999…)
    let x = (fraction * len as f64 + 0.5 + 1e-9).floor();
    if x.is_finite() && x >= 1.0 {
        (x as usize).min(len)
    } else {
        1
    }
}

/// Draws the sample of `spec` from `population` (see the module doc): the sampled cases in
/// case id order. The same seed and the same cases (in any order) give the same sample.
pub fn draw(population: &[SampledCase], spec: &SampleSpec) -> Vec<SampledCase> {
    let mut pop: Vec<&SampledCase> = population.iter().collect();
    pop.sort_by_key(|c| c.case_id);
    pop.dedup_by_key(|c| c.case_id);
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    // the units drawn from, each with its size of draw: the whole population, or every street
    let units: Vec<(usize, Vec<&SampledCase>)> = match spec.method {
        Method::Random => {
            let n = spec.n.map_or(0, |n| n as usize);
            vec![(n, pop)]
        }
        Method::Quota | Method::Share => {
            let mut by_street: BTreeMap<&str, Vec<&SampledCase>> = BTreeMap::new();
            for c in pop {
                by_street.entry(c.street.as_str()).or_default().push(c);
            }
            by_street
                .into_values()
                .map(|cases| {
                    let n = match spec.method {
                        Method::Quota => spec.per_street.map_or(0, |n| n as usize),
                        _ => share_of(spec.fraction.unwrap_or(0.0), cases.len()),
                    };
                    (n, cases)
                })
                .collect()
        }
    };
    let mut out: Vec<SampledCase> = Vec::new();
    for (n, cases) in units {
        match spec.stratify {
            None => out.extend(pick(&mut rng, &cases, n).into_iter().cloned()),
            Some(Stratify::Group) => {
                let mut strata: BTreeMap<&str, Vec<&SampledCase>> = BTreeMap::new();
                for c in cases {
                    strata.entry(c.group.as_str()).or_default().push(c);
                }
                let sizes: Vec<usize> = strata.values().map(Vec::len).collect();
                for (m, stratum) in allocate(n, &sizes).into_iter().zip(strata.values()) {
                    out.extend(pick(&mut rng, stratum, m).into_iter().cloned());
                }
            }
        }
    }
    out.sort_by_key(|c| c.case_id);
    out
}

/// A reviewer: the person (a reviewer token's subject) and their street.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Reviewer {
    /// Who (the `--subject` of their reviewer token; at most 100 characters).
    pub subject: String,
    /// Their street's code (the `--street` of their token).
    pub street: String,
}

/// Checks a list of reviewers: at most [`limits::REVIEWERS`], names and streets not blank and
/// within [`limits::NAME`] characters, nobody twice.
pub fn check_reviewers(reviewers: &[Reviewer]) -> Result<(), String> {
    if reviewers.len() > limits::REVIEWERS {
        return Err(format!(
            "{} reviewers; at most {}",
            reviewers.len(),
            limits::REVIEWERS
        ));
    }
    let mut seen = HashSet::new();
    for (i, r) in reviewers.iter().enumerate() {
        for (what, v) in [("subject", &r.subject), ("street", &r.street)] {
            if v.trim().is_empty() || count_chars_over(v, limits::NAME) || v.contains('\0') {
                return Err(format!(
                    "[{i}].{what}: must be 1 to {} characters, not blank",
                    limits::NAME
                ));
            }
        }
        if !seen.insert(r.subject.as_str()) {
            return Err(format!("[{i}]: {} is listed twice", r.subject));
        }
    }
    Ok(())
}

/// One reviewer's task: a sampled case, and the score once given. (`ReviewAssignment` in the
/// OpenAPI document: `Assignment` is a case's routing.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ReviewAssignment)]
pub struct Assignment {
    /// The case.
    pub case_id: i64,
    /// The reviewer (their token's subject).
    pub reviewer: String,
    /// The reviewer's street (never the case's).
    pub reviewer_street: String,
    /// Points per rubric item, once scored.
    pub points: Option<BTreeMap<String, f64>>,
    /// Their sum, once scored.
    pub total: Option<f64>,
    /// The reviewer's comment.
    pub comment: Option<String>,
    /// When it was (last) scored.
    pub scored_at: Option<DateTime<Utc>>,
}

/// Why reviewers could not be assigned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignError {
    /// Fewer than `k` reviewers come from other streets than the case's.
    #[error(
        "case {case_id} (street {street}): {eligible} reviewer(s) from other streets, {k} needed (nobody reviews their own street)"
    )]
    TooFew {
        /// The case.
        case_id: i64,
        /// Its street.
        street: String,
        /// Reviewers from other streets.
        eligible: usize,
        /// Reviewers needed per case.
        k: u32,
    },
}

/// Gives every case of `cases` (in case id order) `k` distinct reviewers of `reviewers` from
/// other streets than the case's: those with the fewest assignments so far first, ties broken
/// at random (ChaCha8 stream 1 of `seed`). The same seed, cases and reviewers (in any order)
/// give the same assignment. Unscored assignments, by case id then reviewer.
pub fn assign(
    cases: &[SampledCase],
    reviewers: &[Reviewer],
    k: u32,
    seed: u64,
) -> Result<Vec<Assignment>, AssignError> {
    let mut people: Vec<&Reviewer> = reviewers.iter().collect();
    people.sort();
    people.dedup_by(|a, b| a.subject == b.subject);
    let mut ordered: Vec<&SampledCase> = cases.iter().collect();
    ordered.sort_by_key(|c| c.case_id);
    ordered.dedup_by_key(|c| c.case_id);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(1);
    let mut load = vec![0usize; people.len()];
    let k_us = k as usize;
    let mut out = Vec::with_capacity(ordered.len() * k_us);
    for c in ordered {
        let mut eligible: Vec<(usize, u64, usize)> = people
            .iter()
            .enumerate()
            .filter(|(_, r)| r.street != c.street)
            .map(|(i, _)| (load[i], rng.next_u64(), i))
            .collect();
        if eligible.len() < k_us {
            return Err(AssignError::TooFew {
                case_id: c.case_id,
                street: c.street.clone(),
                eligible: eligible.len(),
                k,
            });
        }
        eligible.sort_unstable();
        let mut chosen: Vec<usize> = eligible[..k_us].iter().map(|e| e.2).collect();
        chosen.sort_unstable();
        for i in chosen {
            load[i] += 1;
            out.push(Assignment {
                case_id: c.case_id,
                reviewer: people[i].subject.clone(),
                reviewer_street: people[i].street.clone(),
                points: None,
                total: None,
                comment: None,
                scored_at: None,
            });
        }
    }
    Ok(out)
}

/// A review as stored: what was drawn from, how, the rubric, the sample and the assignments
/// (with their scores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Review {
    /// Id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The period: cases reported at or after…
    pub from: DateTime<Utc>,
    /// …and before.
    pub to: DateTime<Utc>,
    /// The streets drawn from (empty: every street).
    pub streets: Vec<String>,
    /// How the sample was drawn (with the seed that repeats it).
    pub spec: SampleSpec,
    /// Reviewers per case.
    pub k: u32,
    /// The rubric.
    pub rubric: Rubric,
    /// How many closed cases the sample was drawn from.
    pub population: i64,
    /// Who drew it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was closed (its results final; no more scoring).
    pub closed_at: Option<DateTime<Utc>>,
    /// The sampled cases, by case id (for a reviewer: their own).
    pub cases: Vec<SampledCase>,
    /// The assignments, by case id then reviewer (for a reviewer: their own).
    pub assignments: Vec<Assignment>,
}

/// A review to store: everything but its id and closing.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReview {
    /// Its name.
    pub name: String,
    /// Period start.
    pub from: DateTime<Utc>,
    /// Period end.
    pub to: DateTime<Utc>,
    /// The streets (empty: every street).
    pub streets: Vec<String>,
    /// The draw.
    pub spec: SampleSpec,
    /// Reviewers per case.
    pub k: u32,
    /// The rubric.
    pub rubric: Rubric,
    /// The population's size.
    pub population: i64,
    /// Who drew it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The sample.
    pub cases: Vec<SampledCase>,
    /// The assignments (none: assigned later).
    pub assignments: Vec<Assignment>,
}

/// A review in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReviewSummary {
    /// Id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Period start.
    pub from: DateTime<Utc>,
    /// Period end.
    pub to: DateTime<Utc>,
    /// When drawn.
    pub created_at: DateTime<Utc>,
    /// When closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Sampled cases.
    pub cases: i64,
    /// Assignments (for a reviewer: their own).
    pub assignments: i64,
    /// Assignments scored (for a reviewer: their own).
    pub scored: i64,
}

/// The result of one sampled case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseResult {
    /// The case.
    pub case_id: i64,
    /// Its street.
    pub street: String,
    /// Its category group.
    pub group: String,
    /// Reviewers assigned.
    pub assigned: usize,
    /// Scores given.
    pub scored: usize,
    /// The totals given, lowest first.
    pub totals: Vec<f64>,
    /// Their mean (2 decimals).
    pub mean: Option<f64>,
    /// Their median (the mean of the middle two of an even count).
    pub median: Option<f64>,
    /// Highest − lowest.
    pub spread: Option<f64>,
    /// The spread is above the rubric's `arbitration_spread`: the reviewers disagree and the
    /// case goes to arbitration.
    pub arbitration: bool,
}

/// The result of one street: its reviewed cases' mean as a fraction of the rubric's total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StreetResult {
    /// The street's code.
    pub street: String,
    /// Its sampled cases.
    pub sampled: usize,
    /// Those with at least one score.
    pub reviewed: usize,
    /// The mean of their case means (2 decimals).
    pub mean: Option<f64>,
    /// `mean` ÷ the rubric's total, 0 to 1 (4 decimals): the `review_score` indicator.
    pub rate: Option<f64>,
    /// Its cases flagged for arbitration.
    pub arbitration: usize,
}

/// The results of a review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Results {
    /// The rubric's total (the highest score of a case).
    pub max_total: u32,
    /// The rubric's arbitration spread.
    pub arbitration_spread: f64,
    /// Every assignment is scored.
    pub complete: bool,
    /// Per sampled case, by case id.
    pub cases: Vec<CaseResult>,
    /// Per street, by code.
    pub streets: Vec<StreetResult>,
}

fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

/// The median of sorted `v` (not empty).
fn median(v: &[f64]) -> f64 {
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// The results of the scores of `assignments` on `cases` under `rubric` (see the module doc).
pub fn results(rubric: &Rubric, cases: &[SampledCase], assignments: &[Assignment]) -> Results {
    let mut by_case: BTreeMap<i64, (usize, Vec<f64>)> = BTreeMap::new();
    for a in assignments {
        let e = by_case.entry(a.case_id).or_default();
        e.0 += 1;
        if let Some(t) = a.total {
            e.1.push(t);
        }
    }
    let mut sorted: Vec<&SampledCase> = cases.iter().collect();
    sorted.sort_by_key(|c| c.case_id);
    sorted.dedup_by_key(|c| c.case_id);
    let mut out_cases = Vec::with_capacity(sorted.len());
    // per street: sampled, case means (unrounded), arbitration count
    let mut streets: BTreeMap<&str, (usize, Vec<f64>, usize)> = BTreeMap::new();
    for c in sorted {
        let (assigned, mut totals) = by_case.remove(&c.case_id).unwrap_or_default();
        totals.sort_by(f64::total_cmp);
        let s = streets.entry(c.street.as_str()).or_default();
        s.0 += 1;
        let (mean, median, spread) = match (totals.first(), totals.last()) {
            (Some(lo), Some(hi)) => {
                let mean = totals.iter().sum::<f64>() / totals.len() as f64;
                s.1.push(mean);
                (Some(mean), Some(median(&totals)), Some(hi - lo))
            }
            _ => (None, None, None),
        };
        let arbitration = spread.is_some_and(|d| d > rubric.arbitration_spread);
        if arbitration {
            s.2 += 1;
        }
        out_cases.push(CaseResult {
            case_id: c.case_id,
            street: c.street.clone(),
            group: c.group.clone(),
            assigned,
            scored: totals.len(),
            totals,
            mean: mean.map(|m| round(m, 2)),
            median: median.map(|m| round(m, 2)),
            spread: spread.map(|d| round(d, 2)),
            arbitration,
        });
    }
    let max_total = rubric.max_total();
    let out_streets = streets
        .into_iter()
        .map(|(street, (sampled, means, arbitration))| {
            let mean = (!means.is_empty()).then(|| means.iter().sum::<f64>() / means.len() as f64);
            StreetResult {
                street: street.to_owned(),
                sampled,
                reviewed: means.len(),
                mean: mean.map(|m| round(m, 2)),
                rate: mean
                    .filter(|_| max_total > 0)
                    .map(|m| round(m / f64::from(max_total), 4)),
                arbitration,
            }
        })
        .collect();
    Results {
        max_total,
        arbitration_spread: rubric.arbitration_spread,
        complete: !assignments.is_empty() && assignments.iter().all(|a| a.total.is_some()),
        cases: out_cases,
        streets: out_streets,
    }
}

/// Every street's review rate (0 to 1): the `review_score` indicator of the composite score.
/// Streets with no reviewed case have none.
pub fn street_review_rates(results: &Results) -> BTreeMap<String, f64> {
    results
        .streets
        .iter()
        .filter_map(|s| s.rate.map(|r| (s.street.clone(), r)))
        .collect()
}

#[cfg(test)]
mod tests;
