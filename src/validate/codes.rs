//! Rule `codes` on a feature set: the 15-digit unit-grid code (kind `grid_code_15`, warning),
//! checked when a district switches it on ([`super::Options::grid_codes_15`], off by default; the
//! asset rules' `grid_codes_15` runs the same check on an atlas's features).
//!
//! A unit-grid code is 6 district + 3 street + 3 committee + 3 sequence digits:
//!
//! 1. **Format.** Every grid (of the three kinds) has a 15-digit code whose first 9 digits are
//!    the code of its street (followed through its parents) —
//!    [`check_grid_code15`]. One finding per grid that does not.
//! 2. **Order.** Within one committee (the first 12 digits, among the grids whose codes are
//!    well formed), the 3-digit sequences must number the grids **west→east, then
//!    north→south**, in reading order, exactly so: each grid's representative point is the
//!    centre of its bounding box. *Rows*: the grids taken by that centre's latitude, north first
//!    (ties by code); the first opens a row, and each next grid joins the current row when its
//!    centre lies north of the southern edge of the bounding box of the row's first grid, else it
//!    opens the next row. *Within a row*: by the centre's longitude, west first (ties: north
//!    first, then by code). The grids taken in ascending sequence must come in that order; gaps
//!    in the numbering are allowed (001, 002, 005). One finding per committee out of order,
//!    naming its grids in the expected order.
//!
//! Every finding of this module is a warning with a manual fix.

use super::types::{Ctx, Finding, Fix, FixAction, Message, Options, Rule, Severity};
use crate::model::Feature;
use geo::BoundingRect;
use std::collections::BTreeMap;
use std::fmt;

/// A finding of a rule checked by hand (no geometry to repair): codes and register items.
#[allow(clippy::too_many_arguments)]
pub(crate) fn manual_finding(
    rule: Rule,
    kind: &'static str,
    severity: Severity,
    codes: Vec<String>,
    location: Option<serde_json::Value>,
    message: Message,
    fix: Message,
) -> Finding {
    Finding {
        rule,
        kind,
        severity,
        codes,
        location,
        area_m2: None,
        length_m: None,
        width_m: None,
        message,
        fix: Some(Fix {
            action: FixAction::Manual,
            target: None,
            message: fix,
        }),
        location_simplified: false,
        omitted: None,
        shape: None,
    }
}

fn msg(zh: String, en: String) -> Message {
    Message { zh, en }
}

/// A grid's representative point (the centre of its bounding box) and southern edge.
#[derive(Debug, Clone, Copy)]
struct Placed<'a> {
    x: f64,
    y: f64,
    south: f64,
    code: &'a str,
}

/// The grids in reading order: rows north→south, west→east within a row (see the module doc).
fn reading_order<'a>(grids: &[Placed<'a>]) -> Vec<Placed<'a>> {
    let mut by_lat = grids.to_vec();
    by_lat.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.code.cmp(b.code)));
    let mut rows: Vec<Vec<Placed<'a>>> = Vec::new();
    for g in by_lat {
        match rows.last_mut() {
            Some(row) if g.y > row[0].south => row.push(g),
            _ => rows.push(vec![g]),
        }
    }
    rows.into_iter()
        .flat_map(|mut row| {
            row.sort_by(|a, b| {
                a.x.total_cmp(&b.x)
                    .then(b.y.total_cmp(&a.y))
                    .then(a.code.cmp(b.code))
            });
            row
        })
        .collect()
}

/// The 15-digit grid-code checks of a run, for the features kept by `keep`.
pub(crate) fn check(ctx: &Ctx<'_>, keep: &dyn Fn(usize) -> bool) -> Vec<Finding> {
    let fs = ctx.features;
    let mut out = Vec::new();
    // Committee (first 12 digits) → its well-formed grids.
    let mut committees: BTreeMap<&str, Vec<Placed>> = BTreeMap::new();
    for (i, f) in fs.iter().enumerate() {
        if !keep(i) || !f.layer.is_grid() {
            continue;
        }
        // Without a street the hierarchy rule reports the grid.
        let Some(street) = ctx.street_of(i) else {
            continue;
        };
        let street = &fs[street].code;
        if let Err(e) = check_grid_code15(&f.code, street) {
            out.push(manual_finding(
                Rule::Codes,
                "grid_code_15",
                Severity::Warning,
                vec![f.code.clone()],
                None,
                msg(
                    format!("网格编码 {} 不是所属街镇 {street} 的15位单元网格编码：{e}", f.code),
                    format!("grid code {}: not a 15-digit unit-grid code of street {street}: {e}", f.code),
                ),
                msg(
                    format!("网格编码应为15位：街镇编码 {street}（9位）+ 社区3位 + 顺序号3位"),
                    format!("use 15 digits: the street's code {street} (9) + committee (3) + sequence (3)"),
                ),
            ));
            continue;
        }
        let Some(bbox) = f.geometry.as_area().and_then(|a| a.bounding_rect()) else {
            continue;
        };
        committees
            .entry(f.code.get(..12).unwrap_or_default())
            .or_default()
            .push(Placed {
                x: bbox.center().x,
                y: bbox.center().y,
                south: bbox.min().y,
                code: &f.code,
            });
    }
    for (committee, mut grids) in committees {
        // By sequence: the codes share their first 12 digits.
        grids.sort_by(|a, b| a.code.cmp(b.code));
        let expected = reading_order(&grids);
        if expected
            .iter()
            .map(|g| g.code)
            .eq(grids.iter().map(|g| g.code))
        {
            continue;
        }
        let order: Vec<String> = expected.iter().map(|g| g.code.to_string()).collect();
        let list = order.join(", ");
        out.push(manual_finding(
            Rule::Codes,
            "grid_code_15",
            Severity::Warning,
            order.clone(),
            None,
            msg(
                format!(
                    "社区 {committee} 的网格顺序号未按自西向东、自北向南编排；按位置应为：{list}"
                ),
                format!(
                    "the grids of committee {committee} are not numbered west→east, then \
                     north→south; by position they are: {list}"
                ),
            ),
            msg(
                format!(
                    "按网格位置（外接矩形中心）自西向东、自北向南重新编排社区 {committee} 的顺序号"
                ),
                format!(
                    "renumber the grids of committee {committee} west→east, then north→south \
                     (by the centres of their bounding boxes)"
                ),
            ),
        ));
    }
    out
}

/// The 15-digit grid-code checks of a whole set of features (as [`super::validate`] runs them
/// with [`Options::grid_codes_15`] on).
pub fn check_features(features: &[Feature]) -> Vec<Finding> {
    let opts = Options::default();
    let ctx = Ctx::new(features, &opts);
    check(&ctx, &|_| true)
}

/// Why a grid code is not a 15-digit unit-grid code of its street.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GridCodeError {
    /// Not 15 characters.
    Length {
        /// Characters found.
        found: usize,
    },
    /// A character that is not an ASCII digit.
    NotDigit {
        /// Position, from 1.
        position: usize,
        /// The character.
        found: char,
    },
    /// The street's code is not 9 digits, so no grid code can start with it.
    StreetCode {
        /// The street's code.
        street: String,
    },
    /// The first 9 digits are not the street's code.
    Street {
        /// The street's code.
        expected: String,
        /// The first 9 digits of the grid code.
        found: String,
    },
}

impl fmt::Display for GridCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GridCodeError::Length { found } => write!(
                f,
                "{found} characters, not 15 digits (district 6 + street 3 + committee 3 + \
                 sequence 3)"
            ),
            GridCodeError::NotDigit { position, found } => {
                write!(f, "character {position} ({found:?}) is not a digit")
            }
            GridCodeError::StreetCode { street } => write!(
                f,
                "the street's code {street:?} is not 9 digits (district 6 + street 3)"
            ),
            GridCodeError::Street { expected, found } => write!(
                f,
                "starts with {found}, not with its street's code {expected}"
            ),
        }
    }
}

impl std::error::Error for GridCodeError {}

/// Checks a 15-digit unit-grid code against its street's 9-digit code.
pub fn check_grid_code15(code: &str, street_code: &str) -> Result<(), GridCodeError> {
    let found = code.chars().count();
    if found != 15 {
        return Err(GridCodeError::Length { found });
    }
    if let Some((i, c)) = code.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(GridCodeError::NotDigit {
            position: i + 1,
            found: c,
        });
    }
    if street_code.len() != 9 || !street_code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GridCodeError::StreetCode {
            street: street_code.to_string(),
        });
    }
    // 15 ASCII digits.
    let head = code.get(..9).unwrap_or_default();
    if head != street_code {
        return Err(GridCodeError::Street {
            expected: street_code.to_string(),
            found: head.to_string(),
        });
    }
    Ok(())
}
