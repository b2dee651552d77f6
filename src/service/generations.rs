//! Generations: the published history (list, diff, export), the generation in force at a time,
//! and the atlas of a stored generation. The CLI (`generations`, `diff`, `export`, `watch`,
//! `lookup --database`) and the HTTP API (`/api/v1/generations…`) both come here.

use super::error::{Error, Result};
use crate::atlas::Atlas;
use crate::model::FeatureSet;
use crate::store::{self, ChangeKind, GenerationInfo, GenerationNo, Store};
use crate::wire::drafts as wire;
use chrono::{DateTime, Utc};

/// A generation as the API shows it.
pub fn to_wire(g: &GenerationInfo) -> wire::Generation {
    wire::Generation {
        number: g.number,
        created_at: g.created_at,
        created_by: g.created_by.clone(),
        draft_id: g.draft_id,
        override_reason: g.override_reason.clone(),
        error_count: g.error_count,
        feature_count: g.feature_count,
        changes: g
            .changes
            .iter()
            .map(|(subject, c)| {
                (
                    subject.as_str().to_owned(),
                    wire::LayerChanges {
                        added: c.added,
                        removed: c.removed,
                        changed: c.changed,
                    },
                )
            })
            .collect(),
    }
}

/// Every published generation, oldest first.
pub fn list(store: &dyn Store) -> Result<Vec<GenerationInfo>> {
    Ok(store.generations()?)
}

/// The areas that changed between generations `a` and `b`, with the area that changed hands
/// (to 0.1 m²).
pub fn diff(store: &dyn Store, a: GenerationNo, b: GenerationNo) -> Result<wire::Diff> {
    let items = store
        .diff(a, b)?
        .into_iter()
        .map(|c| wire::AreaChange {
            changed_hands_m2: (c.changed_hands_m2() * 10.0).round() / 10.0,
            layer: c.layer.as_str().to_owned(),
            code: c.code,
            name: c.name,
            change: match c.change {
                ChangeKind::Added => "added",
                ChangeKind::Removed => "removed",
                ChangeKind::Changed => "changed",
            }
            .to_owned(),
            fields: c.fields.iter().map(|f| (*f).to_owned()).collect(),
            gained_m2: c.gained_m2,
            lost_m2: c.lost_m2,
        })
        .collect();
    Ok(wire::Diff {
        from: a,
        to: b,
        items,
    })
}

/// Which generation: a number, the one in force at an instant, or the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// This number.
    Number(GenerationNo),
    /// The one in force at this instant.
    At(DateTime<Utc>),
    /// The newest.
    Current,
}

impl Which {
    /// From a generation number or an RFC 3339 time; 400 naming `name` otherwise.
    pub fn parse(name: &str, raw: &str) -> Result<Which> {
        let raw = raw.trim();
        if let Ok(n) = raw.parse::<GenerationNo>() {
            return Ok(Which::Number(n));
        }
        DateTime::parse_from_rfc3339(raw)
            .map(|t| Which::At(t.with_timezone(&Utc)))
            .map_err(|e| {
                Error::invalid_parameter(
                    name,
                    format!("{raw:?} is neither a generation number nor an RFC 3339 time such as 2026-05-01T00:00:00+08:00 ({e})"),
                )
            })
    }
}

/// The number of generation `which`; 404 when there is none.
pub fn resolve(store: &dyn Store, which: Which) -> Result<GenerationNo> {
    match which {
        Which::Number(n) => {
            if store.generations()?.iter().any(|g| g.number == n) {
                Ok(n)
            } else {
                Err(Error::not_found(format!("no generation {n}")))
            }
        }
        Which::At(t) => store.generation_at(t)?.map(|g| g.number).ok_or_else(|| {
            Error::not_found(format!(
                "no generation was published at or before {}",
                t.to_rfc3339()
            ))
        }),
        Which::Current => store
            .current_generation()?
            .map(|g| g.number)
            .ok_or_else(|| Error::not_found("nothing has been published yet")),
    }
}

/// The features of generation `which`.
pub fn load(store: &dyn Store, which: Which) -> Result<FeatureSet> {
    let n = resolve(store, which)?;
    Ok(store.load_generation(n)?)
}

/// The atlas of generation `which`, marked with its number.
pub fn atlas(store: &dyn Store, which: Which) -> Result<Atlas> {
    let n = resolve(store, which)?;
    Ok(Atlas::build(store.load_generation(n)?).with_generation(i64::from(n)))
}

/// Reports new generations as they are published, by any process, until `on_event` says stop.
pub fn watch(
    store: &dyn Store,
    after: Option<GenerationNo>,
    on_event: &mut dyn FnMut(store::WatchEvent) -> bool,
) -> Result<()> {
    Ok(store.watch(after, on_event)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_reads_a_number_or_a_time_and_names_the_parameter_otherwise() {
        assert_eq!(Which::parse("at", " 3 ").ok(), Some(Which::Number(3)));
        let t = Which::parse("at", "2026-05-01T00:00:00+08:00").expect("time");
        assert_eq!(
            t,
            Which::At(
                DateTime::parse_from_rfc3339("2026-04-30T16:00:00Z")
                    .expect("utc")
                    .with_timezone(&Utc)
            )
        );
        let e = Which::parse("at", "yesterday").unwrap_err();
        assert_eq!(e.kind, crate::service::Kind::InvalidParameter);
        assert!(e.detail.starts_with("parameter `at`:"), "{}", e.detail);
    }
}
