//! Rule `containment` (error):
//! * `outside_parent`: the part of a child (street, grid, block) outside its parent, with its area;
//!   `codes` are the child, then the parent; the fix subtracts the part from the child. Computed
//!   in the boxes the coverage engine ([`super::coverage`]) finds, with overlaps and gaps
//!   ([`outside_parent`]).
//! * `road_outside_grid`: the pieces of a road segment outside its grid (its parent, or its
//!   parent block's grid); a piece counts when it reaches farther than the tolerance from the
//!   grid, so a road drawn along the grid boundary is fine. `length_m` is the geodesic length.

use super::findings::{Defect, fix_msg, round};
use super::geom::{distance_to_boundary_m, measure};
use super::types::{Ctx, Finding, Fix, FixAction, Message, Rule, Severity};
use crate::geo_io::write::geometry_to_json;
use crate::geometry::measure::length_m;
use crate::model::{Geometry, Layer};
use geo::{BooleanOps, Coord, MultiLineString, MultiPolygon};

/// The parts of child `child` (feature index; `clipped` its clipped, oriented area) outside its
/// parent `parent` (clipped: `pclip`): one defect per piece at least `tol` wide.
pub(crate) fn outside_parent(
    clipped: &MultiPolygon<f64>,
    pclip: &MultiPolygon<f64>,
    child: usize,
    parent: usize,
    tol: f64,
    out: &mut Vec<Defect>,
) {
    for p in clipped.difference(pclip).0 {
        let m = measure(&p);
        if m.width_m < tol {
            continue;
        }
        out.push(Defect {
            rule: Rule::Containment,
            what: "outside_parent",
            severity: Severity::Error,
            features: vec![child, parent],
            polygon: p,
            area_m2: m.area_m2,
            width_m: m.width_m,
            target: Some(child),
        });
    }
}

/// The message and fix of an `outside_parent` defect.
pub(crate) fn describe(ctx: &Ctx<'_>, d: &Defect) -> (Message, Option<Fix>) {
    let fs = ctx.features;
    let (c, p) = (&fs[d.features[0]], &fs[d.features[1]]);
    let msg = Message {
        zh: format!(
            "{} {} 有 {:.1} 平方米超出上级{} {}",
            c.layer.name_zh(),
            c.code,
            d.area_m2,
            p.layer.name_zh(),
            p.code
        ),
        en: format!(
            "{} {}: {:.1} m² (width {:.2} m) outside its parent {} {}",
            c.layer, c.code, d.area_m2, d.width_m, p.layer, p.code
        ),
    };
    let fix = fix_msg(
        FixAction::SubtractFrom,
        Some(&c.code),
        format!("从 {} 中去掉超出上级的部分", c.code),
        format!("cut the part outside {} from {}", p.code, c.code),
    );
    (msg, fix)
}

/// Checks road segment `i` against its grid.
pub(crate) fn check_road(ctx: &Ctx<'_>, i: usize) -> Vec<Finding> {
    let fs = ctx.features;
    let Some(line) = fs[i].geometry.as_line() else {
        return Vec::new();
    };
    let Some(mut g) = ctx.parent(i) else {
        return Vec::new();
    };
    if fs[g].layer == Layer::Block {
        match ctx.parent(g) {
            Some(x) => g = x,
            None => return Vec::new(),
        }
    }
    let Some(grid) = fs[g].geometry.as_area() else {
        return Vec::new();
    };
    let tol = ctx.opts.tolerance_m;
    let outside = grid.clip(line, true);
    let far: Vec<_> = outside
        .0
        .into_iter()
        .filter(|piece| {
            piece.0.windows(2).any(|w| {
                let m = Coord {
                    x: (w[0].x + w[1].x) / 2.0,
                    y: (w[0].y + w[1].y) / 2.0,
                };
                [w[0], m, w[1]]
                    .iter()
                    .any(|&c| distance_to_boundary_m(c, grid) > tol)
            })
        })
        .collect();
    if far.is_empty() {
        return Vec::new();
    }
    let ml = MultiLineString(far);
    let len = length_m(&ml);
    let (r, gc) = (&fs[i].code, &fs[g].code);
    vec![Finding {
        rule: Rule::Containment,
        kind: "road_outside_grid",
        severity: Severity::Error,
        codes: vec![r.clone(), gc.clone()],
        location: Some(geometry_to_json(&Geometry::Line(ml))),
        area_m2: None,
        length_m: Some(round(len, 3)),
        width_m: None,
        message: Message {
            zh: format!("责任路段 {r} 有 {len:.1} 米超出网格 {gc}"),
            en: format!("road segment {r}: {len:.1} m outside its grid {gc}"),
        },
        fix: Some(Fix {
            action: FixAction::Manual,
            target: Some(r.clone()),
            message: Message {
                zh: format!("截断路段 {r} 或改挂到其所在网格"),
                en: format!(
                    "cut road segment {r} at the grid boundary or move it to the grid it runs in"
                ),
            },
        }),
        shape: None,
        location_simplified: false,
        omitted: None,
    }]
}

#[cfg(test)]
mod tests {
    use crate::model::Layer;
    use crate::validate::shapes::*;
    use crate::validate::{Options, Rule, validate_features};
    use geo::MultiPolygon;

    fn base() -> Vec<crate::model::Feature> {
        vec![
            area(
                Layer::Street,
                "s",
                None,
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 100.0)]),
            ),
            area(
                Layer::StreetGrid,
                "g",
                Some("s"),
                MultiPolygon(vec![rect(0.0, 0.0, 100.0, 100.0)]),
            ),
        ]
    }

    #[test]
    fn block_outside_its_grid() {
        let mut fs = base();
        fs.push(area(
            Layer::Block,
            "b1",
            Some("g"),
            MultiPolygon(vec![rect(0.0, 0.0, 50.0, 100.0)]),
        ));
        fs.push(area(
            Layer::Block,
            "b2",
            Some("g"),
            MultiPolygon(vec![rect(50.0, 0.0, 110.0, 100.0)]),
        ));
        let r = validate_features(&fs, &Options::default());
        let c: Vec<_> = r
            .findings
            .iter()
            .filter(|f| f.rule == Rule::Containment)
            .collect();
        assert_eq!(c.len(), 1, "{:?}", r.findings);
        assert_eq!(c[0].codes, vec!["b2", "g"]);
        assert!((c[0].area_m2.unwrap_or(0.0) - 1000.0).abs() < 1.0);
        // The street's own check: grid g is inside s, so nothing else.
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    }

    #[test]
    fn road_segments_leaving_their_grid() {
        let mut fs = base();
        fs.push(area(
            Layer::Block,
            "b",
            Some("g"),
            MultiPolygon(vec![rect(0.0, 0.0, 100.0, 100.0)]),
        ));
        fs.push(road("r-in", "b", &[(10.0, 10.0), (90.0, 10.0)]));
        fs.push(road("r-edge", "g", &[(0.0, 0.0), (100.0, 0.0)]));
        fs.push(road("r-out", "g", &[(50.0, 50.0), (130.0, 50.0)]));
        let r = validate_features(&fs, &Options::default());
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        assert_eq!(r.findings[0].codes, vec!["r-out", "g"]);
        assert!((r.findings[0].length_m.unwrap_or(0.0) - 30.0).abs() < 0.05);
    }
}
