//! The quality review's rules: the rubric's checks, the draw (reproducible, quotas, shares,
//! stratified allocation), the assignment (nobody reviews their own street, k distinct,
//! balanced) and the results (mean, median, spread, arbitration, street rates); the properties
//! with proptest.

use super::*;
use proptest::prelude::*;

fn case(id: i64, street: &str, group: &str) -> SampledCase {
    SampledCase {
        case_id: id,
        street: street.into(),
        category: format!("{group}01"),
        group: group.into(),
    }
}

fn spec(method: Method, seed: u64) -> SampleSpec {
    SampleSpec {
        method,
        n: None,
        per_street: None,
        fraction: None,
        stratify: None,
        seed,
    }
}

fn random(n: u32, seed: u64) -> SampleSpec {
    SampleSpec {
        n: Some(n),
        ..spec(Method::Random, seed)
    }
}

fn reviewer(subject: &str, street: &str) -> Reviewer {
    Reviewer {
        subject: subject.into(),
        street: street.into(),
    }
}

fn ids(v: &[SampledCase]) -> Vec<i64> {
    v.iter().map(|c| c.case_id).collect()
}

/// 60 cases over three streets (A: 30, B: 20, C: 10), groups SG (two thirds) and RG.
fn population() -> Vec<SampledCase> {
    (1..=60)
        .map(|i| {
            let street = match i % 6 {
                0..=2 => "A",
                3 | 4 => "B",
                _ => "C",
            };
            case(i, street, if i % 3 == 0 { "RG" } else { "SG" })
        })
        .collect()
}

#[test]
fn the_example_rubric_is_valid_and_totals_100() {
    let r = Rubric::from_json(EXAMPLE_RUBRIC).expect("the example parses");
    assert!(r.example);
    assert_eq!(r.max_total(), 100);
    assert_eq!(r.items.len(), 5);
    assert_eq!(r.items[0].name, "立案准确");
    assert_eq!(r.arbitration_spread, 15.0);
}

#[test]
fn a_bad_rubric_names_every_problem() {
    let bad = br#"{"name": " ", "items": [
        {"key": "a", "name": "jia", "max": 0},
        {"key": "a", "name": "yi", "max": 10},
        {"key": "b c", "name": "", "max": 5}],
        "arbitration_spread": 99}"#;
    let p = Rubric::from_json(bad).expect_err("bad");
    let all = p.join("\n");
    for needle in [
        "name: must be",
        "items[0] (a): max 0",
        "items[1]: the key \"a\" is repeated",
        "items[2]: the key \"b c\"",
        "items[2] (b c): the name",
        "arbitration_spread: 99",
    ] {
        assert!(all.contains(needle), "{needle}: {all}");
    }
    assert!(
        Rubric::from_json(br#"{"name": "x", "items": [], "arbitration_spread": 0}"#)
            .expect_err("no items")
            .join("")
            .contains("1 to 30")
    );
    assert!(
        Rubric::from_json(br#"{"name": "x", "items": [], "arbitration_spread": 0, "extra": 1}"#)
            .is_err()
    );
}

#[test]
fn points_are_whole_or_half_within_each_maximum() {
    let r = Rubric::from_json(EXAMPLE_RUBRIC).expect("example");
    let mut p: BTreeMap<String, f64> = [
        ("filing", 20.0),
        ("dispatch", 17.5),
        ("disposal", 25.0),
        ("check", 15.0),
        ("closing", 0.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(r.total_of(&p), Ok(77.5));
    p.insert("filing".into(), 20.5);
    p.insert("dispatch".into(), 17.25);
    p.remove("check");
    p.insert("speed".into(), 1.0);
    let all = r.total_of(&p).expect_err("bad").join("\n");
    for needle in [
        "points.filing: 20.5 is not 0 to 20",
        "points.dispatch: 17.25 is not a whole or half point",
        "points.check: missing",
        "points.speed: not an item",
    ] {
        assert!(all.contains(needle), "{needle}: {all}");
    }
    p.insert("filing".into(), f64::NAN);
    assert!(r.total_of(&p).is_err());
}

#[test]
fn a_spec_needs_its_one_parameter() {
    assert!(random(10, 1).check().is_ok());
    assert_eq!(random(0, 1).check().map_err(|e| e.0), Err("n"));
    assert_eq!(random(5001, 1).check().map_err(|e| e.0), Err("n"));
    assert_eq!(
        spec(Method::Quota, 1).check().map_err(|e| e.0),
        Err("per_street")
    );
    let both = SampleSpec {
        fraction: Some(0.1),
        ..random(10, 1)
    };
    assert_eq!(both.check().map_err(|e| e.0), Err("fraction"));
    for f in [0.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
        let s = SampleSpec {
            fraction: Some(f),
            ..spec(Method::Share, 1)
        };
        assert_eq!(s.check().map_err(|e| e.0), Err("fraction"), "{f}");
    }
    assert_eq!(
        random(1, MAX_SEED + 1).check().map_err(|e| e.0),
        Err("seed")
    );
    assert!(random(1, MAX_SEED).check().is_ok());
    assert_eq!("quota".parse::<Method>(), Ok(Method::Quota));
    assert!("all".parse::<Method>().is_err());
}

#[test]
fn the_draw_is_fixed_by_the_seed() {
    let pop = population();
    let a = draw(&pop, &random(12, 7));
    assert_eq!(a.len(), 12);
    assert_eq!(a, draw(&pop, &random(12, 7)));
    assert_ne!(ids(&a), ids(&draw(&pop, &random(12, 8))));
    assert!(a.windows(2).all(|w| w[0].case_id < w[1].case_id));
    // more than there are: all of them
    assert_eq!(draw(&pop, &random(5000, 7)).len(), 60);
    assert!(draw(&[], &random(3, 7)).is_empty());
    // the draw is pinned: a change of the algorithm (or of rand_chacha's stream) that would
    // change stored reviews fails here
    assert_eq!(ids(&draw(&pop, &random(5, 42))), PINNED_DRAW);
}

/// `draw(population(), random(5, 42))`, as computed when the algorithm was written.
const PINNED_DRAW: [i64; 5] = [17, 29, 39, 53, 58];

#[test]
fn quotas_and_shares_are_per_street() {
    let pop = population();
    let q = SampleSpec {
        per_street: Some(4),
        ..spec(Method::Quota, 3)
    };
    let s = draw(&pop, &q);
    for street in ["A", "B", "C"] {
        assert_eq!(
            s.iter().filter(|c| c.street == street).count(),
            4,
            "{street}"
        );
    }
    let share = SampleSpec {
        fraction: Some(0.15),
        ..spec(Method::Share, 3)
    };
    let s = draw(&pop, &share);
    // A: 30 × 0.15 = 4.5 → 5; B: 3; C: 1.5 → 2
    let count = |st: &str| s.iter().filter(|c| c.street == st).count();
    assert_eq!((count("A"), count("B"), count("C")), (5, 3, 2));
    assert_eq!(share_of(0.01, 10), 1, "at least one per street");
    assert_eq!(share_of(1.0, 10), 10);
    assert_eq!(share_of(0.5, 0), 0);
}

#[test]
fn stratified_draws_follow_the_groups() {
    let pop = population();
    let s = draw(
        &pop,
        &SampleSpec {
            stratify: Some(Stratify::Group),
            ..random(9, 11)
        },
    );
    // RG is a third of the population: 3 of 9
    assert_eq!(s.iter().filter(|c| c.group == "RG").count(), 3);
    assert_eq!(s.len(), 9);
    // largest remainder: 10 over 5/3/2 of 10 → 5/3/2; 4 over 5/3/2 → 2, 1.2, 0.8 → 2/1/1
    assert_eq!(allocate(10, &[5, 3, 2]), [5, 3, 2]);
    assert_eq!(allocate(4, &[5, 3, 2]), [2, 1, 1]);
    // ties go to the earlier stratum
    assert_eq!(allocate(1, &[1, 1]), [1, 0]);
    assert_eq!(allocate(7, &[2, 0, 1]), [2, 0, 1]);
    assert_eq!(allocate(3, &[]), Vec::<usize>::new());
}

#[test]
fn nobody_reviews_their_own_street_and_loads_balance() {
    let pop = population();
    let sample = draw(&pop, &random(30, 5));
    let people = [
        reviewer("王伟", "A"),
        reviewer("李娜", "A"),
        reviewer("张敏", "B"),
        reviewer("刘洋", "B"),
        reviewer("陈静", "C"),
        reviewer("杨帆", "C"),
    ];
    let a = assign(&sample, &people, 2, 5).expect("assign");
    assert_eq!(a.len(), 60);
    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    for x in &a {
        let c = sample
            .iter()
            .find(|c| c.case_id == x.case_id)
            .expect("case");
        assert_ne!(c.street, x.reviewer_street);
        *load.entry(x.reviewer.as_str()).or_default() += 1;
    }
    let (lo, hi) = (
        load.values().min().copied().unwrap_or(0),
        load.values().max().copied().unwrap_or(0),
    );
    assert!(hi - lo <= 3, "{load:?}");
    // reversed reviewers and cases: the same assignment
    let mut rev_people = people.to_vec();
    rev_people.reverse();
    let mut rev_sample = sample.clone();
    rev_sample.reverse();
    assert_eq!(assign(&rev_sample, &rev_people, 2, 5), Ok(a));
    // street A's cases have four reviewers from elsewhere: k = 5 is refused naming a case
    let e = assign(&sample, &people, 5, 5).expect_err("too few");
    assert!(
        e.to_string()
            .contains("4 reviewer(s) from other streets, 5 needed"),
        "{e}"
    );
}

#[test]
fn reviewers_are_checked() {
    assert!(check_reviewers(&[reviewer("a", "A"), reviewer("b", "B")]).is_ok());
    assert!(check_reviewers(&[reviewer("a", "A"), reviewer("a", "B")]).is_err());
    assert!(check_reviewers(&[reviewer(" ", "A")]).is_err());
    assert!(check_reviewers(&[reviewer("a", &"x".repeat(101))]).is_err());
}

fn scored(case_id: i64, reviewer: &str, total: Option<f64>) -> Assignment {
    Assignment {
        case_id,
        reviewer: reviewer.into(),
        reviewer_street: "Z".into(),
        points: None,
        total,
        comment: None,
        scored_at: None,
    }
}

#[test]
fn results_have_mean_median_spread_and_arbitration() {
    let rubric = Rubric::from_json(EXAMPLE_RUBRIC).expect("example");
    let cases = [
        case(1, "A", "SG"),
        case(2, "A", "RG"),
        case(3, "B", "SG"),
        case(4, "C", "SG"),
    ];
    let a = [
        // case 1: 70, 80, 95 → mean 81.67, median 80, spread 25 > 15: arbitration
        scored(1, "x", Some(80.0)),
        scored(1, "y", Some(95.0)),
        scored(1, "z", Some(70.0)),
        // case 2: 90, 75 → mean 82.5, median 82.5, spread 15: not above 15
        scored(2, "x", Some(90.0)),
        scored(2, "y", Some(75.0)),
        // case 3: one score of two
        scored(3, "x", Some(60.5)),
        scored(3, "y", None),
        // case 4: none yet
        scored(4, "x", None),
    ];
    let r = results(&rubric, &cases, &a);
    assert!(!r.complete);
    assert_eq!(r.max_total, 100);
    let c1 = &r.cases[0];
    assert_eq!(c1.totals, [70.0, 80.0, 95.0]);
    assert_eq!(
        (c1.mean, c1.median, c1.spread, c1.arbitration),
        (Some(81.67), Some(80.0), Some(25.0), true)
    );
    let c2 = &r.cases[1];
    assert_eq!(
        (c2.mean, c2.median, c2.spread, c2.arbitration),
        (Some(82.5), Some(82.5), Some(15.0), false)
    );
    assert_eq!((r.cases[2].scored, r.cases[2].assigned), (1, 2));
    assert_eq!(r.cases[2].spread, Some(0.0));
    assert_eq!(r.cases[3].mean, None);
    // street A: (81.666… + 82.5) ÷ 2 = 82.083… → 82.08, rate 0.8208
    let a_street = &r.streets[0];
    assert_eq!(
        (
            a_street.street.as_str(),
            a_street.sampled,
            a_street.reviewed
        ),
        ("A", 2, 2)
    );
    assert_eq!(
        (a_street.mean, a_street.rate, a_street.arbitration),
        (Some(82.08), Some(0.8208), 1)
    );
    let rates = street_review_rates(&r);
    assert_eq!(rates.get("A"), Some(&0.8208));
    assert_eq!(rates.get("B"), Some(&0.605));
    assert_eq!(rates.get("C"), None, "nothing reviewed");
    let done = results(&rubric, &cases[..1], &a[..3]);
    assert!(done.complete);
}

fn arb_population() -> impl Strategy<Value = Vec<SampledCase>> {
    prop::collection::vec((0u8..5, 0u8..4), 0..120).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (s, g))| case(i as i64 * 3 + 1, &format!("S{s}"), &format!("G{g}")))
            .collect()
    })
}

fn arb_spec() -> impl Strategy<Value = SampleSpec> {
    (
        0u8..3,
        1u32..60,
        1u32..8,
        0.01f64..=1.0,
        any::<bool>(),
        0u64..=MAX_SEED,
    )
        .prop_map(|(m, n, per, f, strat, seed)| {
            let mut s = match m {
                0 => random(n, seed),
                1 => SampleSpec {
                    per_street: Some(per),
                    ..spec(Method::Quota, seed)
                },
                _ => SampleSpec {
                    fraction: Some(f),
                    ..spec(Method::Share, seed)
                },
            };
            s.stratify = strat.then_some(Stratify::Group);
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The same seed and the same cases, in any order, give the same sample; every sampled case
    /// is of the population, once.
    #[test]
    fn draws_are_reproducible(pop in arb_population(), s in arb_spec(), shuffle_seed in any::<u64>()) {
        let first = draw(&pop, &s);
        let mut shuffled = pop.clone();
        let mut rng = ChaCha8Rng::seed_from_u64(shuffle_seed);
        for i in (1..shuffled.len()).rev() {
            let j = below(&mut rng, i as u64 + 1) as usize;
            shuffled.swap(i, j);
        }
        prop_assert_eq!(&first, &draw(&shuffled, &s));
        let mut seen = std::collections::HashSet::new();
        for c in &first {
            prop_assert!(pop.contains(c));
            prop_assert!(seen.insert(c.case_id));
        }
    }

    /// A quota draws min(quota, street size) of every street; a share rounds within 1 of the
    /// exact share and never draws nothing of a street with cases.
    #[test]
    fn quotas_are_respected(pop in arb_population(), s in arb_spec()) {
        let sample = draw(&pop, &s);
        let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &pop {
            *sizes.entry(c.street.as_str()).or_default() += 1;
        }
        let drawn = |st: &str| sample.iter().filter(|c| c.street == st).count();
        match s.method {
            Method::Random => prop_assert_eq!(sample.len(), (s.n.unwrap_or(0) as usize).min(pop.len())),
            Method::Quota => {
                for (st, size) in &sizes {
                    prop_assert_eq!(drawn(st), (s.per_street.unwrap_or(0) as usize).min(*size));
                }
            }
            Method::Share => {
                for (st, size) in &sizes {
                    let exact = s.fraction.unwrap_or(0.0) * *size as f64;
                    let d = drawn(st);
                    prop_assert!(d >= 1 && d <= *size && (d as f64 - exact).abs() <= 1.0, "{} of {}: {}", d, size, exact);
                }
            }
        }
        prop_assert_eq!(sample.len(), sizes.keys().map(|st| drawn(st)).sum::<usize>());
    }

    /// Stratified allocation adds up to n (capped at the population), never exceeds a stratum,
    /// and is within one of the exact proportional share.
    #[test]
    fn stratified_allocation_sums_to_n(n in 0usize..500, sizes in prop::collection::vec(0usize..200, 0..12)) {
        let a = allocate(n, &sizes);
        let total: usize = sizes.iter().sum();
        prop_assert_eq!(a.len(), sizes.len());
        prop_assert_eq!(a.iter().sum::<usize>(), n.min(total));
        for (x, s) in a.iter().zip(&sizes) {
            prop_assert!(x <= s);
            let exact = n.min(total) as f64 * *s as f64 / total.max(1) as f64;
            prop_assert!((*x as f64 - exact).abs() < 1.0 + 1e-9);
        }
    }

    /// Every case gets k distinct reviewers, none of its own street; the same inputs give the
    /// same assignment; too few reviewers is refused naming a case that lacks them.
    #[test]
    fn no_reviewer_reviews_their_own_street(
        pop in arb_population(),
        s in arb_spec(),
        people in prop::collection::btree_map("[a-z]{1,6}", 0u8..5, 0..12),
        k in 1u32..4,
    ) {
        let sample = draw(&pop, &s);
        let reviewers: Vec<Reviewer> = people
            .iter()
            .map(|(name, st)| reviewer(name, &format!("S{st}")))
            .collect();
        match assign(&sample, &reviewers, k, s.seed) {
            Ok(a) => {
                prop_assert_eq!(a.len(), sample.len() * k as usize);
                for c in &sample {
                    let mine: Vec<&Assignment> = a.iter().filter(|x| x.case_id == c.case_id).collect();
                    prop_assert_eq!(mine.len(), k as usize);
                    let distinct: std::collections::HashSet<&str> =
                        mine.iter().map(|x| x.reviewer.as_str()).collect();
                    prop_assert_eq!(distinct.len(), k as usize);
                    for x in mine {
                        prop_assert_ne!(&x.reviewer_street, &c.street);
                        prop_assert!(reviewers.iter().any(|r| r.subject == x.reviewer && r.street == x.reviewer_street));
                    }
                }
                prop_assert_eq!(Ok(a), assign(&sample, &reviewers, k, s.seed));
            }
            Err(AssignError::TooFew { case_id, street, eligible, .. }) => {
                let c = sample.iter().find(|c| c.case_id == case_id);
                prop_assert!(c.is_some_and(|c| c.street == street));
                prop_assert_eq!(eligible, reviewers.iter().filter(|r| r.street != street).count());
                prop_assert!(eligible < k as usize);
            }
        }
    }
}
