//! Validation on `synth` output: every injected defect of `--dirty N` is found with the right rule
//! and codes, at its point (100 % recall against the truth), and every finding is explained by an
//! injected defect (precision); clean output gives zero findings; a block pushed into a block of
//! the neighbouring grid is reported as an overlap naming both, not only as lying outside its grid.

use geo::{BooleanOps, Coord, MultiPolygon};
use gridatlas::geometry::measure::LocalFrame;
use gridatlas::geometry::pip;
use gridatlas::model::{FeatureSet, Geometry, Layer};
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
        // Precision: every finding names a feature of an injected defect, or lies within 50 m of
        // one (a bow-tie leaves a tiny gap or overlap with its neighbour at the same spot).
        let near = |f: &Finding, p: [f64; 2]| {
            f.shape.as_ref().is_some_and(|s| {
                let fr = LocalFrame::new(p[0], p[1]);
                s.0.iter().flat_map(|q| q.exterior().0.iter()).any(|c| {
                    let xy = fr.to_xy(*c);
                    xy.x.hypot(xy.y) < 50.0
                })
            })
        };
        let unexplained: Vec<_> = r
            .findings
            .iter()
            .filter(|f| {
                !truth
                    .defects
                    .iter()
                    .any(|d| f.codes.iter().any(|c| d.codes.contains(c)) || near(f, d.point))
            })
            .map(|f| (f.rule, f.kind, &f.codes, f.area_m2))
            .collect();
        assert!(unexplained.is_empty(), "seed {seed}: {unexplained:#?}");
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

/// Pairs of blocks of different grids sharing a stretch of boundary (at least three vertices),
/// with a shared vertex in the middle of it.
fn neighbours_across_grids(set: &FeatureSet) -> Vec<(usize, usize, Coord<f64>)> {
    use std::collections::HashMap;
    let fs = set.features();
    let mut at: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
    for (i, f) in fs.iter().enumerate() {
        if f.layer != Layer::Block {
            continue;
        }
        for c in f
            .geometry
            .as_area()
            .into_iter()
            .flat_map(|a| a.0[0].exterior().0.iter())
        {
            at.entry((c.x.to_bits(), c.y.to_bits()))
                .or_default()
                .push(i);
        }
    }
    let mut shared: HashMap<(usize, usize), Vec<Coord<f64>>> = HashMap::new();
    for (k, v) in &at {
        let mut v = v.clone();
        v.sort_unstable();
        v.dedup();
        if v.len() == 2 && fs[v[0]].parent != fs[v[1]].parent {
            shared.entry((v[0], v[1])).or_default().push(Coord {
                x: f64::from_bits(k.0),
                y: f64::from_bits(k.1),
            });
        }
    }
    let mut out: Vec<_> = shared
        .into_iter()
        .filter(|(_, v)| v.len() >= 3)
        .map(|((a, b), mut v)| {
            v.sort_by(|p, q| p.x.total_cmp(&q.x).then(p.y.total_cmp(&q.y)));
            (a, b, v[v.len() / 2])
        })
        .collect();
    out.sort_by_key(|&(a, b, _)| (a, b));
    out
}

#[test]
fn a_block_pushed_into_the_neighbouring_grid_names_the_neighbour() {
    let (set, _) = synth(&SynthOptions {
        seed: 1,
        scale: 1.0,
        dirty: 0,
    });
    let pairs = neighbours_across_grids(&set);
    assert!(pairs.len() > 20, "{}", pairs.len());
    let mut fs = set.features().to_vec();
    // Three pairs far apart: block a grows a 12 m square around a vertex it shares only with b.
    let picked: Vec<_> = pairs
        .iter()
        .step_by(pairs.len() / 3)
        .take(3)
        .copied()
        .collect();
    for &(a, _, c) in &picked {
        let fr = LocalFrame::new(c.x, c.y);
        let sq: Vec<Coord<f64>> = [
            (-6.0, -6.0),
            (6.0, -6.0),
            (6.0, 6.0),
            (-6.0, 6.0),
            (-6.0, -6.0),
        ]
        .iter()
        .map(|&(x, y)| fr.to_lonlat(Coord { x, y }))
        .collect();
        let sq = MultiPolygon(vec![geo::Polygon::new(geo::LineString(sq), vec![])]);
        if let Some(mp) = fs[a].geometry.as_area() {
            fs[a].geometry = Geometry::Area(mp.union(&sq));
        }
    }
    let dirty = FeatureSet::new(fs.clone(), set.management_units.clone()).expect("unique");
    let r = validate(&dirty, &Options::default());
    for &(a, b, _) in &picked {
        let (ca, cb) = (&fs[a].code, &fs[b].code);
        let grid = fs[a].parent.clone().unwrap_or_default();
        let overlap = r.findings.iter().find(|f| {
            matches!(f.rule, Rule::Overlap | Rule::Sliver)
                && f.kind == "overlap"
                && f.codes.contains(ca)
                && f.codes.contains(cb)
        });
        let Some(overlap) = overlap else {
            panic!(
                "{ca} into {cb}: no overlap; {:#?}",
                r.findings
                    .iter()
                    .map(|f| (f.rule, f.kind, &f.codes, f.area_m2))
                    .collect::<Vec<_>>()
            );
        };
        // About half of the square lies in b (the shared border is nearly straight there).
        let area = overlap.area_m2.unwrap_or(0.0);
        assert!(area > 5.0 && area < 144.0, "{ca}/{cb}: {area} m²");
        assert_eq!(
            overlap.fix.as_ref().and_then(|f| f.target.as_deref()),
            Some(ca.as_str())
        );
        assert!(
            r.findings
                .iter()
                .any(|f| f.rule == Rule::Containment && f.codes == vec![ca.clone(), grid.clone()]),
            "{ca}: no containment finding"
        );
    }
    // Every finding involves one of the grown blocks.
    for f in &r.findings {
        assert!(
            picked
                .iter()
                .any(|&(a, _, _)| f.codes.contains(&fs[a].code)),
            "{:?}",
            (f.rule, f.kind, &f.codes, f.area_m2)
        );
    }
}
