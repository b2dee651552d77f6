//! Assessment (考核): the standard indicators of a period per district, street, grid,
//! department, category group and person; the scoring scheme and the ranked table of streets,
//! grids or departments with grades. The counting is the store's, in SQL
//! ([`crate::store::Cases::indicators`]); its meaning is [`crate::cases::indicators`].

use super::access::{Caller, Role};
use super::cases::{categories, check_query_time, time_param};
use super::error::{Error, Result};
use crate::atlas::Atlas;
use crate::cases::indicators::{Dimension, Indicators, NAMES_ZH, Scope};
use crate::cases::scoring::{AssessedKind, EXAMPLE_SCHEME, Scheme, rank};
use crate::model::Layer;
use crate::store::{Setting, Store};
use crate::wire::cases as wire;
use crate::wire::sheet::{self, Cell, Column, ColumnKind, Sheet};
use chrono::{DateTime, FixedOffset, Utc};
use serde_json::json;
use std::collections::BTreeMap;

/// The period of the indicators (`from`, `to`) from its query: default `to` = `now`, `from` =
/// 30 days before `to`; `from` must be before `to`.
pub fn indicator_period(
    q: &wire::IndicatorsQuery,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let to = time_param("to", q.to.as_deref(), offset)?.unwrap_or(now);
    let from = match time_param("from", q.from.as_deref(), offset)? {
        Some(f) => f,
        None => to
            .checked_sub_signed(chrono::Duration::days(30))
            .ok_or_else(|| {
                Error::out_of_range(
                    "to",
                    format!(
                        "the default `from`, 30 days before {}, is not representable",
                        to.to_rfc3339()
                    ),
                )
            })
            .and_then(|f| check_query_time("to", f))?,
    };
    if from >= to {
        return Err(Error::invalid_parameter(
            "from",
            format!("{from} is not before `to` ({to})"),
        ));
    }
    Ok((from, to))
}

/// The scoring scheme in force: the store's, or the example shipped with gridatlas (`true`).
pub fn scoring(store: Option<&dyn Store>) -> Result<(Scheme, bool)> {
    if let Some(json) = store
        .map(|s| s.setting(Setting::Scoring))
        .transpose()?
        .flatten()
    {
        let scheme = Scheme::from_json(json.as_bytes())
            .map_err(|p| Error::internal(format!("the stored scoring scheme: {}", p.join("; "))))?;
        return Ok((scheme, false));
    }
    Scheme::from_json(EXAMPLE_SCHEME)
        .map(|s| (s, true))
        .map_err(|p| Error::internal(format!("the embedded example scheme: {}", p.join("; "))))
}

/// Replaces the scoring scheme with `body` (the scheme file; admin only); 422 listing every
/// problem.
pub fn replace_scoring(
    store: &dyn Store,
    caller: &Caller,
    body: &[u8],
) -> Result<wire::ScoringView> {
    if !caller.is_admin() {
        return Err(Error::forbidden(
            "replacing the scoring scheme needs an admin token",
        ));
    }
    let scheme = Scheme::from_json(body).map_err(|problems| {
        Error::unprocessable(format!(
            "the scoring scheme has {} problem(s): {}",
            problems.len(),
            problems.join("; ")
        ))
        .with_extra(json!({"problems": problems}))
    })?;
    let text = serde_json::to_string(&scheme).map_err(Error::internal)?;
    store.replace_setting(Setting::Scoring, &text)?;
    Ok(wire::ScoringView {
        example: false,
        scheme,
    })
}

/// The breakdowns a report may hold (`by=`), in order.
pub const BREAKDOWNS: [&str; 4] = ["street", "grid", "department", "group"];

/// What the query of a report asks for: the scope of cases and the breakdowns.
struct Asked {
    scope: Scope,
    by: Vec<&'static str>,
}

/// Reads the scope of `q`: the period, the moment (`as_of`: default the end of the period or
/// now if earlier; not after now, not before `from`), the street (it must exist), the category
/// group (it must be in the task list) and the breakdowns.
fn asked(
    store: &dyn Store,
    atlas: &Atlas,
    q: &wire::IndicatorsQuery,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<Asked> {
    let (from, to) = indicator_period(q, offset, now)?;
    if let Some(s) = &q.street {
        if atlas
            .find(s)
            .is_none_or(|id| atlas.feature(id).layer != Layer::Street)
        {
            return Err(Error::not_found(format!("no street with code {s}")));
        }
    }
    let as_of = match time_param("as_of", q.as_of.as_deref(), offset)? {
        None => to.min(now),
        Some(t) if t > now => {
            return Err(Error::invalid_parameter(
                "as_of",
                format!("{} is in the future", t.to_rfc3339()),
            ));
        }
        Some(t) if t < from => {
            return Err(Error::invalid_parameter(
                "as_of",
                format!(
                    "{} is before `from` ({})",
                    t.to_rfc3339(),
                    from.to_rfc3339()
                ),
            ));
        }
        Some(t) => t,
    };
    let categories = match &q.group {
        None => None,
        Some(g) => {
            let codes: Vec<String> = categories(Some(store))?
                .iter()
                .filter(|c| &c.group == g)
                .map(|c| c.code.clone())
                .collect();
            if codes.is_empty() {
                return Err(Error::invalid_parameter(
                    "group",
                    format!("no category group {g:?} in the task list"),
                ));
            }
            Some(codes)
        }
    };
    let by = match q.by.as_deref() {
        None => BREAKDOWNS.to_vec(),
        Some(list) => {
            let mut by = Vec::new();
            for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let known = BREAKDOWNS.iter().find(|b| **b == part).ok_or_else(|| {
                    Error::invalid_parameter(
                        "by",
                        format!("{part:?} is not a breakdown ({})", BREAKDOWNS.join(", ")),
                    )
                })?;
                if !by.contains(known) {
                    by.push(*known);
                }
            }
            by
        }
    };
    Ok(Asked {
        scope: Scope {
            from,
            to,
            as_of,
            street: q.street.clone(),
            categories,
        },
        by,
    })
}

/// Rows keyed by area code, named from the atlas.
fn named(atlas: &Atlas, rows: BTreeMap<Option<String>, Indicators>) -> Vec<wire::AreaIndicators> {
    rows.into_iter()
        .filter_map(|(code, ind)| code.map(|c| (c, ind)))
        .map(|(code, indicators)| wire::AreaIndicators {
            name: atlas.find(&code).map(|id| atlas.feature(id).name.clone()),
            code,
            indicators,
        })
        .collect()
}

/// The standard indicators of the cases reported in the period of `q`, as they stood at its
/// moment: the district (or the street asked for) and the breakdowns asked for, per street,
/// grid, department and category group of the task list; names from `atlas`.
pub fn indicators(
    store: &dyn Store,
    atlas: &Atlas,
    q: &wire::IndicatorsQuery,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<wire::IndicatorsReport> {
    let Asked { scope, by } = asked(store, atlas, q, offset, now)?;
    let district = store
        .indicators(&scope, Dimension::District)?
        .remove(&None)
        // no case in the scope: every count 0, every rate null
        .unwrap_or_else(|| Indicators::default().finish());
    let rows = |dim: Dimension, name: &str| -> Result<BTreeMap<Option<String>, Indicators>> {
        Ok(if by.contains(&name) {
            store.indicators(&scope, dim)?
        } else {
            BTreeMap::new()
        })
    };
    let streets = named(atlas, rows(Dimension::Street, "street")?);
    let grids = named(atlas, rows(Dimension::Grid, "grid")?);
    let departments = rows(Dimension::Department, "department")?
        .into_iter()
        .filter_map(|(code, indicators)| {
            code.map(|code| wire::AreaIndicators {
                name: Some(code.clone()),
                code,
                indicators,
            })
        })
        .collect();
    let groups = if by.contains(&"group") {
        groups(store, store.indicators(&scope, Dimension::Category)?)?
    } else {
        Vec::new()
    };
    Ok(wire::IndicatorsReport {
        from: scope.from.with_timezone(&offset),
        to: scope.to.with_timezone(&offset),
        as_of: scope.as_of.with_timezone(&offset),
        street: scope.street,
        group: q.group.clone(),
        district,
        streets,
        grids,
        departments,
        groups,
    })
}

/// Folds per-category rows into the task list's groups (the counts added, the rates computed
/// again); a category no longer in the task list is a row of its own, named by its code.
fn groups(
    store: &dyn Store,
    per_category: BTreeMap<Option<String>, Indicators>,
) -> Result<Vec<wire::AreaIndicators>> {
    let cats = categories(Some(store))?;
    let mut out: BTreeMap<String, (Option<String>, Indicators)> = BTreeMap::new();
    for (code, ind) in per_category {
        let Some(code) = code else { continue };
        let (key, name) = match cats.iter().find(|c| c.code == code) {
            Some(c) => (c.group.clone(), Some(c.group_zh.clone())),
            None => (code.clone(), None),
        };
        out.entry(key)
            .or_insert_with(|| (name, Indicators::default()))
            .1
            .merge(&ind);
    }
    Ok(out
        .into_iter()
        .map(|(code, (name, ind))| wire::AreaIndicators {
            code,
            name,
            indicators: ind.finish(),
        })
        .collect())
}

/// The indicators per person of the period of `q`: the patrol reports they filed, the
/// verifications they made, the cases they resolved at the front end. Personal data: an admin,
/// a supervisor, or a dispatcher for a street of their token (`street` required unless the
/// token covers every street).
pub fn persons(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    q: &wire::IndicatorsQuery,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<wire::PersonsReport> {
    caller.require_any(&[Role::Supervisor, Role::Dispatcher])?;
    if caller.has(Role::Dispatcher) && !caller.is_admin() && !caller.has_street(q.street.as_deref())
    {
        return Err(Error::forbidden(match &q.street {
            Some(s) => format!("street {s} is outside this token's streets"),
            None => "a dispatcher's token asks for one of its streets (`street=`)".to_owned(),
        }));
    }
    let Asked { scope, .. } = asked(store, atlas, q, offset, now)?;
    let persons = store
        .person_indicators(&scope)?
        .into_iter()
        .map(|(person, indicators)| wire::PersonIndicatorsRow { person, indicators })
        .collect();
    Ok(wire::PersonsReport {
        from: scope.from.with_timezone(&offset),
        to: scope.to.with_timezone(&offset),
        as_of: scope.as_of.with_timezone(&offset),
        street: scope.street,
        group: q.group.clone(),
        persons,
    })
}

/// The ranked table of a period: streets, grids (of one street, or all) or departments, scored
/// and graded under the scoring scheme in force.
pub fn ranking(
    store: &dyn Store,
    atlas: &Atlas,
    q: &wire::RankingQuery,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> Result<wire::Ranking> {
    let kind: AssessedKind = q
        .kind
        .as_deref()
        .unwrap_or("street")
        .parse()
        .map_err(|e: String| Error::invalid_parameter("kind", e))?;
    let by = match kind {
        AssessedKind::Street => "street",
        AssessedKind::Grid => "grid",
        AssessedKind::Department => "department",
    };
    let period = wire::IndicatorsQuery {
        street: q.street.clone(),
        from: q.from.clone(),
        to: q.to.clone(),
        as_of: q.as_of.clone(),
        group: None,
        by: Some(by.to_owned()),
    };
    let report = indicators(store, atlas, &period, offset, now)?;
    let (scheme, example) = scoring(Some(store))?;
    let areas = match kind {
        AssessedKind::Street => report.streets,
        AssessedKind::Grid => report.grids,
        AssessedKind::Department => report.departments,
    };
    // the street rates of a closed quality review, as the `review_score` indicator
    let reviewed = match (&q.review, kind) {
        (None, _) => None,
        (Some(_), AssessedKind::Grid | AssessedKind::Department) => {
            return Err(Error::invalid_parameter(
                "review",
                "a quality review scores streets: `review=` goes with kind=street",
            ));
        }
        (Some(raw), AssessedKind::Street) => {
            let id = super::review::review_id(raw)?;
            let review = store.get_review(id, crate::store::ReviewScope::All)?;
            if review.closed_at.is_none() {
                return Err(Error::conflict(format!(
                    "quality review {id} is not closed: its results are not final"
                )));
            }
            let results =
                crate::cases::review::results(&review.rubric, &review.cases, &review.assignments);
            Some((id, crate::cases::review::street_review_rates(&results)))
        }
    };
    let review_id = reviewed.as_ref().map(|(id, _)| *id);
    let rows = areas.into_iter().map(|mut a| {
        if let Some((_, rates)) = &reviewed {
            a.indicators.review_score = rates.get(&a.code).copied();
        }
        (a.code, a.name, a.indicators)
    });
    Ok(wire::Ranking {
        kind,
        from: report.from,
        to: report.to,
        as_of: report.as_of,
        example_scheme: example,
        review: review_id,
        items: rank(&scheme, kind, rows),
    })
}

/// The columns of an indicators table: code, name, then every count and rate with its Chinese
/// header (the report's JSON names are the keys).
fn indicator_columns(code: &str) -> Vec<Column> {
    let mut cols = vec![
        Column::new("code", code, ColumnKind::Text),
        Column::new("name", "名称", ColumnKind::Text),
    ];
    for (key, zh) in NAMES_ZH {
        let kind = if key.ends_with("_rate") || key == "dispatch_accuracy" || key == "review_score"
        {
            ColumnKind::Rate
        } else {
            ColumnKind::Count
        };
        cols.push(Column::new(key, zh, kind));
    }
    cols
}

/// The cells of `ind` in the order of [`indicator_columns`] after code and name.
fn indicator_cells(ind: &Indicators) -> Result<Vec<Cell>> {
    NAMES_ZH
        .iter()
        .map(|(key, _)| match ind.count(key) {
            Some(n) => i64::try_from(n)
                .map(Cell::Int)
                .map_err(|_| Error::internal(format!("{key} = {n} does not fit a spreadsheet"))),
            None => Ok(Cell::Rate(ind.rate(key))),
        })
        .collect()
}

fn area_sheet(name: &str, code: &str, rows: &[wire::AreaIndicators]) -> Result<Sheet> {
    let rows = rows
        .iter()
        .map(|a| {
            let mut cells = vec![
                Cell::Text(a.code.clone()),
                a.name.clone().map_or(Cell::Empty, Cell::Text),
            ];
            cells.extend(indicator_cells(&a.indicators)?);
            Ok(cells)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Sheet {
        name: name.to_owned(),
        columns: indicator_columns(code),
        rows,
    })
}

/// The tables of an indicators report as spreadsheets, by `table`: `district` (全区), `street`
/// (街镇), `grid` (网格), `department` (部门), `group` (类别组); all of them when `None`.
pub fn indicator_sheets(r: &wire::IndicatorsReport, table: Option<&str>) -> Result<Vec<Sheet>> {
    let district = [wire::AreaIndicators {
        code: r.street.clone().unwrap_or_else(|| "district".to_owned()),
        name: Some(
            if r.street.is_some() {
                "本街镇"
            } else {
                "全区"
            }
            .to_owned(),
        ),
        indicators: r.district.clone(),
    }];
    let all: [(&str, &str, &str, &[wire::AreaIndicators]); 5] = [
        ("district", "全区", "范围", &district),
        ("street", "街镇", "街镇编码", &r.streets),
        ("grid", "网格", "网格编码", &r.grids),
        ("department", "部门", "部门", &r.departments),
        ("group", "类别组", "类别组编码", &r.groups),
    ];
    if let Some(t) = table {
        if !all.iter().any(|(k, ..)| *k == t) {
            return Err(Error::invalid_parameter(
                "table",
                format!("{t:?} is not a table (district, street, grid, department, group)"),
            ));
        }
    }
    all.iter()
        .filter(|(k, ..)| table.is_none_or(|t| t == *k))
        .map(|(_, name, code, rows)| area_sheet(name, code, rows))
        .collect()
}

/// The ranked table as a spreadsheet: rank, code, name, score, grade, then the indicators.
pub fn ranking_sheet(r: &wire::Ranking) -> Result<Sheet> {
    let mut columns = vec![
        Column::new("rank", "排名", ColumnKind::Count),
        Column::new("score", "得分", ColumnKind::Number),
        Column::new("grade", "等级", ColumnKind::Text),
    ];
    columns.extend(indicator_columns(match r.kind {
        AssessedKind::Street => "街镇编码",
        AssessedKind::Grid => "网格编码",
        AssessedKind::Department => "部门",
    }));
    let rows = r
        .items
        .iter()
        .map(|it| {
            let rank = it
                .rank
                .map(|n| i64::try_from(n).map(Cell::Int))
                .transpose()
                .map_err(|_| Error::internal("a rank beyond i64"))?
                .unwrap_or(Cell::Empty);
            let mut cells = vec![
                rank,
                Cell::Number(it.score),
                it.grade.clone().map_or(Cell::Empty, Cell::Text),
                Cell::Text(it.code.clone()),
                it.name.clone().map_or(Cell::Empty, Cell::Text),
            ];
            cells.extend(indicator_cells(&it.indicators)?);
            Ok(cells)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Sheet {
        name: "排名".to_owned(),
        columns,
        rows,
    })
}

/// A spreadsheet export: the bytes and their media type.
pub struct Export {
    /// `text/csv; charset=utf-8` or the XLSX media type.
    pub content_type: &'static str,
    /// The file name offered (`Content-Disposition`).
    pub file_name: String,
    /// The file.
    pub bytes: Vec<u8>,
}

/// The XLSX media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `sheets` as `format` (`csv`: the one sheet; `xlsx`: all of them), named `stem`.
pub fn export(sheets: &[Sheet], format: &str, stem: &str) -> Result<Export> {
    let bytes = match format {
        "csv" => match sheets {
            [one] => sheet::to_csv(one),
            _ => {
                return Err(Error::invalid_parameter(
                    "table",
                    "a CSV holds one table: name it with `table=`",
                ));
            }
        },
        "xlsx" => sheet::to_xlsx(sheets),
        other => {
            return Err(Error::invalid_parameter(
                "format",
                format!("{other:?} is not csv or xlsx"),
            ));
        }
    }
    .map_err(|e| Error::internal(format!("spreadsheet: {e}")))?;
    Ok(Export {
        content_type: if format == "csv" {
            "text/csv; charset=utf-8"
        } else {
            XLSX
        },
        file_name: format!("{stem}.{format}"),
        bytes,
    })
}
