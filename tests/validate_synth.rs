//! Validation on `synth` output: every injected defect of `--dirty N` is found with the right rule
//! and codes, at its point (100 % recall against the truth); clean output gives zero findings.

use gridatlas::geometry::pip;
use gridatlas::synth::{DefectKind, SynthOptions, synth};
use gridatlas::validate::{Finding, Options, Report, Rule, validate};

fn found(r: &Report, kind: DefectKind, codes: &[String], point: [f64; 2]) -> bool {
    let has = |f: &Finding, c: &[&String]| c.iter().all(|x| f.codes.contains(x));
    let at_point = |f: &Finding| {
        f.shape
            .as_ref()
            .is_none_or(|s| pip::contains(s, point[0], point[1]))
    };
    r.findings.iter().any(|f| {
        let ok = match kind {
            DefectKind::Gap => {
                matches!((f.rule, f.kind), (Rule::Gap, "gap") | (Rule::Sliver, "gap"))
                    && f.codes.first() == codes.first()
            }
            DefectKind::Overlap => {
                matches!(f.rule, Rule::Overlap | Rule::Sliver)
                    && f.kind == "overlap"
                    && has(f, &[&codes[0], &codes[1]])
            }
            DefectKind::Sliver => {
                f.rule == Rule::Sliver
                    && ((f.kind == "gap" && f.codes.first() == codes.first())
                        || (f.kind == "overlap"
                            && codes.len() >= 3
                            && has(f, &[&codes[1], &codes[2]])))
            }
            DefectKind::BlockOutsideGrid => {
                f.rule == Rule::Containment
                    && f.kind == "outside_parent"
                    && has(f, &[&codes[0], &codes[1]])
            }
            DefectKind::SelfIntersection => {
                f.rule == Rule::InvalidGeometry
                    && f.kind == "self_intersection"
                    && has(f, &[&codes[0]])
            }
        };
        ok && at_point(f)
    })
}

#[test]
fn every_injected_defect_is_found() {
    for seed in [1u64, 7] {
        let (set, truth) = synth(&SynthOptions {
            seed,
            scale: 1.0,
            dirty: 3,
        });
        assert!(!truth.defects.is_empty());
        let r = validate(&set, &Options::default());
        let missed: Vec<_> = truth
            .defects
            .iter()
            .filter(|d| !found(&r, d.kind, &d.codes, d.point))
            .collect();
        assert!(
            missed.is_empty(),
            "seed {seed}: missed {missed:#?}\nfindings: {:#?}",
            r.findings
                .iter()
                .map(|f| (f.rule, f.kind, &f.codes))
                .collect::<Vec<_>>()
        );
        // --fix repairs every injected defect; the repaired set validates without errors.
        let fixed = gridatlas::validate::fix::repair(&set, &r, &Options::default());
        let after = validate(&fixed.set, &Options::default());
        assert!(
            after.is_clean(),
            "seed {seed} after --fix: {:#?}",
            after
                .findings
                .iter()
                .map(|f| (f.rule, f.kind, &f.codes, f.area_m2))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn clean_synth_output_has_no_findings() {
    for (seed, scale) in [(1u64, 1.0), (2, 1.0), (3, 2.0)] {
        let (set, _) = synth(&SynthOptions {
            seed,
            scale,
            dirty: 0,
        });
        let r = validate(&set, &Options::default());
        assert!(
            r.findings.is_empty(),
            "seed {seed} scale {scale}: {:#?}",
            r.findings
                .iter()
                .take(10)
                .map(|f| (f.rule, f.kind, &f.codes, f.area_m2))
                .collect::<Vec<_>>()
        );
    }
}
