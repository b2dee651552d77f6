//! Quality review by sampling (质量考评): the rubric in force, drawing a review (check the
//! request, list the period's closed cases, draw, assign, store in one transaction), assigning
//! reviewers later, what each caller may read of a review, a reviewer's score, the results, and
//! closing a review (its results final). The rules are [`crate::cases::review`].
//!
//! Who: a supervisor (or admin) draws, assigns, reads everything, reads the results and
//! closes; a reviewer (a token of role `reviewer` for one street, naming its holder) reads the
//! reviews and cases assigned to them — the case in full but for the reporter's contact, which
//! is never shown — and scores them, only their own assignments, until the review is closed: a
//! score given again replaces the last one (a reviewer may correct a slip while the review is
//! open; closing it makes the results final and refuses later scores with 409).
//!
//! Input is bounded before any work ([`crate::cases::review::limits`]): counts of streets,
//! reviewers, rubric items and points, lengths of names and comments, the sample's size, `k`,
//! the seed; the period is read like the indicators' (`from`, `to`).

use super::access::{Caller, Role};
use super::assessment::indicator_period;
use super::cases::{case_view, categories, check_text};
use super::error::{Error, Result};
use super::usize_param;
use crate::atlas::Atlas;
use crate::cases::review::{
    self as rules, Assignment, Method, NewReview, Review, Reviewer, Rubric, SampleSpec,
    SampledCase, Stratify, limits,
};
use crate::model::Layer;
use crate::store::{NewScore, ReviewScope, Setting, Store};
use crate::wire::cases::{CaseView, IndicatorsQuery};
use crate::wire::review as wire;
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;
use std::collections::HashMap;

/// Who draws reviews, assigns reviewers, reads everything and the results, and closes reviews
/// (admins too).
pub const MANAGERS: [Role; 1] = [Role::Supervisor];

/// Who reads reviews: managers everything, reviewers their own tasks.
pub const READERS: [Role; 2] = [Role::Supervisor, Role::Reviewer];

/// The rubric in force: the store's, or the example shipped with gridatlas (`true`).
pub fn rubric(store: Option<&dyn Store>) -> Result<(Rubric, bool)> {
    if let Some(json) = store
        .map(|s| s.setting(Setting::ReviewRubric))
        .transpose()?
        .flatten()
    {
        let rubric = Rubric::from_json(json.as_bytes())
            .map_err(|p| Error::internal(format!("the stored review rubric: {}", p.join("; "))))?;
        return Ok((rubric, false));
    }
    Rubric::from_json(rules::EXAMPLE_RUBRIC)
        .map(|r| (r, true))
        .map_err(|p| Error::internal(format!("the embedded example rubric: {}", p.join("; "))))
}

fn rubric_problems(problems: Vec<String>) -> Error {
    Error::unprocessable(format!(
        "the rubric has {} problem(s): {}",
        problems.len(),
        problems.join("; ")
    ))
    .with_extra(json!({"field": "rubric", "problems": problems}))
}

/// Replaces the rubric in force with `body` (the rubric file; admin only); 422 listing every
/// problem. Reviews drawn before keep theirs.
pub fn replace_rubric(store: &dyn Store, caller: &Caller, body: &[u8]) -> Result<wire::RubricView> {
    if !caller.is_admin() {
        return Err(Error::forbidden(
            "replacing the review rubric needs an admin token",
        ));
    }
    let rubric = Rubric::from_json(body).map_err(rubric_problems)?;
    let text = serde_json::to_string(&rubric).map_err(Error::internal)?;
    store.replace_setting(Setting::ReviewRubric, &text)?;
    Ok(wire::RubricView {
        example: false,
        rubric,
    })
}

/// The reviewer a caller is: a `reviewer` token's holder and its one street (403 otherwise).
fn reviewer_of(caller: &Caller) -> Result<Reviewer> {
    let token = caller
        .token
        .as_ref()
        .filter(|t| t.role == Role::Reviewer.as_str())
        .ok_or_else(|| {
            Error::forbidden(format!(
                "this needs the assigned reviewer's own token (role reviewer); this token has role {}",
                caller.role()
            ))
        })?;
    match (token.subject.as_deref(), token.streets.as_slice()) {
        (Some(subject), [street]) if !subject.trim().is_empty() && street != "*" => Ok(Reviewer {
            subject: subject.to_owned(),
            street: street.clone(),
        }),
        _ => Err(Error::forbidden(format!(
            "reviewer token {} names no holder (--subject) or not exactly one street (--street)",
            token.id
        ))),
    }
}

/// Review `id` from its path segment; 400 naming `id` unless a positive integer.
pub fn review_id(raw: &str) -> Result<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|&i| i > 0)
        .ok_or_else(|| Error::invalid_parameter("id", format!("{raw:?} is not a review id")))
}

fn is_street(atlas: &Atlas, code: &str) -> bool {
    atlas
        .find(code)
        .is_some_and(|id| atlas.feature(id).layer == Layer::Street)
}

/// Checks reviewers (count, names, nobody twice) and that their streets are streets of the
/// served district; 422 naming `reviewers`.
fn check_reviewers(atlas: &Atlas, reviewers: &[Reviewer]) -> Result<()> {
    rules::check_reviewers(reviewers).map_err(|e| Error::field("reviewers", e))?;
    if let Some((i, r)) = reviewers
        .iter()
        .enumerate()
        .find(|(_, r)| !is_street(atlas, &r.street))
    {
        return Err(Error::field(
            "reviewers",
            format!("[{i}] ({}): there is no street {}", r.subject, r.street),
        ));
    }
    Ok(())
}

fn u32_field(name: &str, v: Option<u64>) -> Result<Option<u32>> {
    v.map(|x| {
        u32::try_from(x)
            .ok()
            .filter(|&x| x as usize <= limits::SAMPLE)
            .ok_or_else(|| Error::field(name, format!("{x} is not 1 to {}", limits::SAMPLE)))
    })
    .transpose()
}

/// The checked draw of a request: method, its parameter, stratification, seed (a random one
/// when none is given).
fn sample_spec(input: &wire::ReviewInput) -> Result<SampleSpec> {
    let method: Method = input
        .method
        .parse()
        .map_err(|e: String| Error::field("method", e))?;
    let stratify = input
        .stratify
        .as_deref()
        .map(|s| s.parse::<Stratify>())
        .transpose()
        .map_err(|e| Error::field("stratify", e))?;
    let seed = match input.seed {
        Some(s) => s,
        None => rand::random_range(0..=rules::MAX_SEED),
    };
    let spec = SampleSpec {
        method,
        n: u32_field("n", input.n)?,
        per_street: u32_field("per_street", input.per_street)?,
        fraction: input.fraction,
        stratify,
        seed,
    };
    spec.check().map_err(|(f, e)| Error::field(f, e))?;
    Ok(spec)
}

/// Draws a review: checks the request, lists the period's closed cases of the streets, draws
/// the sample, assigns the reviewers given (if any), stores it all in one transaction, and
/// answers the stored review (supervisor or admin).
pub fn create(
    store: &dyn Store,
    caller: &Caller,
    atlas: &Atlas,
    input: wire::ReviewInput,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<Review> {
    caller.require_any(&MANAGERS)?;
    if let Some(n) = &input.name {
        check_text("name", n, limits::NAME)?;
    }
    if input.streets.len() > limits::STREETS {
        return Err(Error::field(
            "streets",
            format!(
                "{} streets; at most {}",
                input.streets.len(),
                limits::STREETS
            ),
        ));
    }
    for s in &input.streets {
        check_text("streets", s, limits::NAME)?;
    }
    let mut streets: Vec<String> = input.streets.clone();
    streets.sort();
    streets.dedup();
    if streets.iter().any(|s| s == "*") {
        if streets.len() > 1 {
            return Err(Error::field("streets", "`*` (every street) stands alone"));
        }
        streets.clear();
    }
    if let Some(s) = streets.iter().find(|s| !is_street(atlas, s)) {
        return Err(Error::field("streets", format!("there is no street {s}")));
    }
    let spec = sample_spec(&input)?;
    let k = u32::try_from(input.k)
        .ok()
        .filter(|k| (1..=limits::K).contains(k))
        .ok_or_else(|| Error::field("k", format!("{} is not 1 to {}", input.k, limits::K)))?;
    let chosen = match input.rubric {
        Some(r) => {
            r.check().map_err(rubric_problems)?;
            Rubric {
                example: false,
                ..r
            }
        }
        None => rubric(Some(store))?.0,
    };
    check_reviewers(atlas, &input.reviewers)?;
    let (from, to) = indicator_period(
        &IndicatorsQuery {
            from: input.from.clone(),
            to: input.to.clone(),
            ..IndicatorsQuery::default()
        },
        offset,
        now,
    )?;
    // the work: the period's closed cases, lean
    let rows = store.closed_cases(from, to, &streets, limits::POPULATION + 1)?;
    if rows.len() > limits::POPULATION {
        return Err(Error::unprocessable(format!(
            "more than {} closed cases in the period: draw from a shorter period or fewer streets",
            limits::POPULATION
        ))
        .with_extra(json!({"limit": limits::POPULATION})));
    }
    let groups: HashMap<String, String> = categories(Some(store))?
        .iter()
        .map(|c| (c.code.clone(), c.group.clone()))
        .collect();
    let population: Vec<SampledCase> = rows
        .into_iter()
        .map(|(case_id, street, category)| SampledCase {
            group: groups.get(&category).cloned().unwrap_or_else(|| "?".into()),
            case_id,
            street,
            category,
        })
        .collect();
    let sample = rules::draw(&population, &spec);
    let period = format!("[{}, {})", from.to_rfc3339(), to.to_rfc3339());
    if sample.is_empty() {
        return Err(Error::unprocessable(format!(
            "no closed case of {} reported in {period}: nothing to draw",
            if streets.is_empty() {
                "any street".to_owned()
            } else {
                format!("street(s) {}", streets.join(", "))
            }
        )));
    }
    if sample.len() > limits::SAMPLE {
        return Err(Error::field(
            spec.method_field(),
            format!(
                "the draw takes {} cases, more than {} in one review",
                sample.len(),
                limits::SAMPLE
            ),
        ));
    }
    let assignments = if input.reviewers.is_empty() {
        Vec::new()
    } else {
        rules::assign(&sample, &input.reviewers, k, spec.seed)
            .map_err(|e| Error::field("reviewers", e))?
    };
    let name = input
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| {
            format!(
                "质量考评 {} – {}",
                from.with_timezone(&offset).format("%Y-%m-%d"),
                to.with_timezone(&offset).format("%Y-%m-%d")
            )
        });
    let id = store.create_review(&NewReview {
        name,
        from,
        to,
        streets,
        spec,
        k,
        rubric: chosen,
        population: i64::try_from(population.len()).unwrap_or(i64::MAX),
        created_by: caller.person(None),
        created_at: now,
        cases: sample,
        assignments,
    })?;
    Ok(store.get_review(id, ReviewScope::All)?)
}

/// Assigns the reviewers of review `id`, drawn without them (supervisor or admin): with the
/// review's `k` and seed, so the assignment too can be repeated; 409 once it has assignments
/// or is closed.
pub fn assign(
    store: &dyn Store,
    caller: &Caller,
    atlas: &Atlas,
    id: i64,
    input: wire::AssignInput,
) -> Result<Review> {
    caller.require_any(&MANAGERS)?;
    if input.reviewers.is_empty() {
        return Err(Error::field("reviewers", "no reviewer given"));
    }
    check_reviewers(atlas, &input.reviewers)?;
    let review = store.get_review(id, ReviewScope::All)?;
    if review.closed_at.is_some() {
        return Err(Error::conflict(format!("review {id} is closed")));
    }
    if !review.assignments.is_empty() {
        return Err(Error::conflict(format!(
            "review {id} already has its {} assignment(s)",
            review.assignments.len()
        )));
    }
    let a = rules::assign(&review.cases, &input.reviewers, review.k, review.spec.seed)
        .map_err(|e| Error::field("reviewers", e))?;
    store.assign_reviewers(id, &a)?;
    Ok(store.get_review(id, ReviewScope::All)?)
}

/// Review `id` as `caller` may see it: a manager everything, a reviewer their own tasks
/// (403 when they have none in it).
pub fn get(store: &dyn Store, caller: &Caller, id: i64) -> Result<Review> {
    caller.require_any(&READERS)?;
    if caller.has(Role::Supervisor) {
        return Ok(store.get_review(id, ReviewScope::All)?);
    }
    let me = reviewer_of(caller)?;
    let review = store.get_review(id, ReviewScope::Reviewer(&me))?;
    if review.assignments.is_empty() {
        return Err(Error::forbidden(format!(
            "review {id} assigns nothing to {} ({})",
            me.subject, me.street
        )));
    }
    Ok(review)
}

/// Reviews, newest first, paged: a manager every review, a reviewer those assigning them
/// something (counted for them).
pub fn list(
    store: &dyn Store,
    caller: &Caller,
    q: &wire::ReviewListQuery,
) -> Result<wire::ReviewList> {
    caller.require_any(&READERS)?;
    let limit = usize_param("limit", q.limit.as_deref(), 50, 1000)?;
    let offset = usize_param("offset", q.offset.as_deref(), 0, 1_000_000)?;
    let me = if caller.has(Role::Supervisor) {
        None
    } else {
        Some(reviewer_of(caller)?)
    };
    let (items, total) = store.list_reviews(
        me.as_ref(),
        i64::try_from(limit).map_err(|_| Error::invalid_parameter("limit", "too large"))?,
        i64::try_from(offset).map_err(|_| Error::invalid_parameter("offset", "too large"))?,
    )?;
    Ok(wire::ReviewList {
        items,
        total,
        limit,
        offset,
    })
}

/// The sampled case `case_id` of review `id` in full (its category, description, stages and
/// events, photos; never the reporter's contact), for a manager or a reviewer it is assigned
/// to.
pub fn case(
    store: &dyn Store,
    caller: &Caller,
    id: i64,
    case_id: i64,
    now: DateTime<Utc>,
) -> Result<CaseView> {
    caller.require_any(&READERS)?;
    let review = store.get_review(id, ReviewScope::Case(case_id))?;
    if review.cases.is_empty() {
        return Err(Error::not_found(format!(
            "case {case_id} is not in the sample of review {id}"
        )));
    }
    if !caller.has(Role::Supervisor) {
        let me = reviewer_of(caller)?;
        if !assigned_to(&review.assignments, &me) {
            return Err(not_yours(id, case_id, &me));
        }
    }
    Ok(case_view(store.get_case(case_id)?, now))
}

fn assigned_to(assignments: &[Assignment], me: &Reviewer) -> bool {
    assignments
        .iter()
        .any(|a| a.reviewer == me.subject && a.reviewer_street == me.street)
}

fn not_yours(id: i64, case_id: i64, me: &Reviewer) -> Error {
    Error::forbidden(format!(
        "case {case_id} of review {id} is not assigned to {} ({}): only its assigned reviewers see and score it",
        me.subject, me.street
    ))
}

/// Records the calling reviewer's score of case `case_id` in review `id`: only the reviewer it
/// is assigned to (the token's holder and street), only while the review is open (409 after);
/// a score given again replaces the last. Every rubric item is scored, 0 to its maximum in
/// whole or half points (422 naming `points.<key>`).
pub fn score(
    store: &dyn Store,
    caller: &Caller,
    id: i64,
    case_id: i64,
    input: wire::ScoreInput,
    now: DateTime<Utc>,
) -> Result<Assignment> {
    let me = reviewer_of(caller)?;
    if input.points.len() > limits::ITEMS {
        return Err(Error::field(
            "points",
            format!(
                "{} items; a rubric has at most {}",
                input.points.len(),
                limits::ITEMS
            ),
        ));
    }
    for key in input.points.keys() {
        check_text("points", key, limits::KEY)?;
    }
    if let Some(c) = &input.comment {
        check_text("comment", c, limits::COMMENT)?;
    }
    let review = store.get_review(id, ReviewScope::Case(case_id))?;
    if review.cases.is_empty() {
        return Err(Error::not_found(format!(
            "case {case_id} is not in the sample of review {id}"
        )));
    }
    if let Some(at) = review.closed_at {
        return Err(Error::conflict(format!(
            "review {id} was closed at {}: its results are final",
            at.to_rfc3339()
        )));
    }
    if !assigned_to(&review.assignments, &me) {
        return Err(not_yours(id, case_id, &me));
    }
    let total = review.rubric.total_of(&input.points).map_err(|problems| {
        Error::unprocessable(format!(
            "the score has {} problem(s): {}",
            problems.len(),
            problems.join("; ")
        ))
        .with_extra(json!({"field": "points", "problems": problems}))
    })?;
    let comment = input.comment.as_deref().filter(|c| !c.trim().is_empty());
    Ok(store.record_score(
        id,
        case_id,
        &me,
        &NewScore {
            points: &input.points,
            total,
            comment,
            at: now,
        },
    )?)
}

fn results_of(review: &Review) -> wire::ReviewResults {
    wire::ReviewResults {
        review: review.id,
        name: review.name.clone(),
        from: review.from,
        to: review.to,
        closed_at: review.closed_at,
        results: rules::results(&review.rubric, &review.cases, &review.assignments),
    }
}

/// The results of review `id`: per case (mean, median, spread, arbitration) and per street
/// (supervisor or admin).
pub fn results(store: &dyn Store, caller: &Caller, id: i64) -> Result<wire::ReviewResults> {
    caller.require_any(&MANAGERS)?;
    Ok(results_of(&store.get_review(id, ReviewScope::All)?))
}

/// Closes review `id`: its results are final and no score is taken after (supervisor or
/// admin; 409 when closed already). Answers the final results.
pub fn close(
    store: &dyn Store,
    caller: &Caller,
    id: i64,
    now: DateTime<Utc>,
) -> Result<wire::ReviewResults> {
    caller.require_any(&MANAGERS)?;
    store.close_review(id, now)?;
    results(store, caller, id)
}
