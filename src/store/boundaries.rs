//! The boundaries aggregate: drafts, published generations and their history, diffs, watching
//! for new generations and purging stale drafts ([`Boundaries`]), with the types they use and
//! the pure functions over feature sets that the pipeline needs ([`draft_as_whole`],
//! [`change_counts`], [`canonical`], [`street_of_features`]).
//!
//! Tables: `drafts`, `draft_features`, `generations`, `features`.

use super::{StoreError, StoreResult, diff_sets};
use crate::model::{Feature, FeatureSet, Layer, ManagementUnit};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Identifier of a stored draft.
pub type DraftId = i64;

/// Number of a published generation: 1, 2, …; 0 stands for "nothing published yet".
pub type GenerationNo = i32;

/// The PostgreSQL channel on which a publish announces the new generation number.
pub const NOTIFY_CHANNEL: &str = "gridatlas_generation";

/// What [`Boundaries::create_draft`] stores.
#[derive(Debug, Clone)]
pub struct NewDraft<'a> {
    /// The features uploaded (the whole territory, or only the covered streets' features).
    pub features: &'a FeatureSet,
    /// `None`: the draft is the whole territory. `Some(codes)`: it replaces these streets and
    /// everything under them in the current generation.
    pub covered_streets: Option<Vec<String>>,
    /// Validation report of the draft as a whole (JSON, as validation produces it).
    pub report: serde_json::Value,
    /// Number of errors in the report (a publish is refused while it is not 0).
    pub error_count: usize,
    /// Who uploaded it.
    pub created_by: &'a str,
}

/// A stored draft, without its features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DraftInfo {
    /// Identifier.
    pub id: DraftId,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// Who uploaded it.
    pub created_by: String,
    /// The generation current when it was made (0: none). It can only be published on top of it.
    pub base_generation: GenerationNo,
    /// Streets it replaces; `None` for a whole-territory draft.
    pub covered_streets: Option<Vec<String>>,
    /// Validation report.
    pub report: serde_json::Value,
    /// Errors in the report.
    pub error_count: usize,
    /// Number of features uploaded.
    pub feature_count: usize,
    /// The generation it became, once published.
    pub published_generation: Option<GenerationNo>,
}

/// A stored draft with its features (as uploaded, in upload order).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Metadata and report.
    pub info: DraftInfo,
    /// The uploaded features and management units.
    pub features: FeatureSet,
}

/// What a change count or a diff entry is about: a feature layer, or the management units.
///
/// Serialised as the layer's name (`block`, …) or `management_unit`, so a generation's `changes`
/// map reads `{"block": {…}, "management_unit": {…}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Subject {
    /// Features of one layer.
    Layer(Layer),
    /// Management units (物业, 保洁, … teams serving grids).
    ManagementUnit,
}

impl Subject {
    /// The serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Layer(l) => l.as_str(),
            Subject::ManagementUnit => "management_unit",
        }
    }
}

impl From<Layer> for Subject {
    fn from(l: Layer) -> Self {
        Subject::Layer(l)
    }
}

impl From<Subject> for String {
    fn from(s: Subject) -> Self {
        s.as_str().to_owned()
    }
}

impl TryFrom<String> for Subject {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s == "management_unit" {
            return Ok(Subject::ManagementUnit);
        }
        s.parse::<Layer>()
            .map(Subject::Layer)
            .map_err(|_| format!("{s:?} is neither a layer nor management_unit"))
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of changed features in one layer between a generation and the one before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerChanges {
    /// Features whose code is new.
    pub added: usize,
    /// Features whose code is gone.
    pub removed: usize,
    /// Features whose code stays but whose geometry or properties differ.
    pub changed: usize,
}

/// A published generation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenerationInfo {
    /// Number (1, 2, …).
    pub number: GenerationNo,
    /// When it was published.
    pub created_at: DateTime<Utc>,
    /// Who published it.
    pub created_by: String,
    /// The draft it was published from.
    pub draft_id: DraftId,
    /// The reason given for publishing over validation errors, if that happened.
    pub override_reason: Option<String>,
    /// Errors in the draft's report at publish time.
    pub error_count: usize,
    /// Number of features in the generation.
    pub feature_count: usize,
    /// What changed against the previous generation, per layer and for the management units
    /// (subjects without change omitted).
    pub changes: BTreeMap<Subject, LayerChanges>,
}

/// How an area changed between two generations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Only in the newer generation.
    Added,
    /// Only in the older generation.
    Removed,
    /// In both, with a different geometry or different properties.
    Changed,
}

/// One feature that differs between two generations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaChange {
    /// Layer (or `management_unit`).
    pub layer: Subject,
    /// Code.
    pub code: String,
    /// Name (in the newer generation when it exists there).
    pub name: String,
    /// Added, removed or changed.
    pub change: ChangeKind,
    /// What differs for a changed feature: `geometry`, `name`, `parent`, `kind`, `people`,
    /// `attributes`; for a management unit: `name`, `kind`, `grids`, `people`.
    pub fields: Vec<&'static str>,
    /// Area (m², geodesic) in the newer geometry but not the older one; `None` for road segments.
    pub gained_m2: Option<f64>,
    /// Area (m²) in the older geometry but not the newer one; `None` for road segments.
    pub lost_m2: Option<f64>,
}

impl AreaChange {
    /// The area that changed hands: gained plus lost, in m² (0 for road segments).
    pub fn changed_hands_m2(&self) -> f64 {
        self.gained_m2.unwrap_or(0.0) + self.lost_m2.unwrap_or(0.0)
    }
}

/// Drafts and generations: upload, publish, read back, compare, watch and purge. Synchronous
/// (diesel); async callers use `spawn_blocking`.
pub trait Boundaries {
    /// Stores a draft with its report; returns its id. The draft is based on the current
    /// generation and can only be published on top of it.
    fn create_draft(&self, draft: NewDraft<'_>) -> StoreResult<DraftId>;

    /// A draft with its features.
    fn get_draft(&self, id: DraftId) -> StoreResult<Draft>;

    /// A draft's metadata and report, without its features.
    fn get_draft_info(&self, id: DraftId) -> StoreResult<DraftInfo>;

    /// All drafts, newest first, without features.
    fn list_drafts(&self) -> StoreResult<Vec<DraftInfo>>;

    /// Publishes a draft as generation N+1, all or nothing.
    ///
    /// Refused with [`StoreError::PublishRefused`] when the draft's report has errors and no
    /// (non-blank) `override_reason` is given; with [`StoreError::Conflict`] when the draft was
    /// already published or the current generation is no longer the one it was based on.
    fn publish(
        &self,
        id: DraftId,
        by: &str,
        override_reason: Option<&str>,
    ) -> StoreResult<GenerationInfo>;

    /// Every generation, oldest first.
    fn generations(&self) -> StoreResult<Vec<GenerationInfo>>;

    /// The newest generation, if any was published.
    fn current_generation(&self) -> StoreResult<Option<GenerationInfo>>;

    /// The features of generation `n` in canonical order (layer, then code).
    fn load_generation(&self, n: GenerationNo) -> StoreResult<FeatureSet>;

    /// The generation that was current at `at` (the newest published at or before it).
    fn generation_at(&self, at: DateTime<Utc>) -> StoreResult<Option<GenerationInfo>> {
        Ok(self
            .generations()?
            .into_iter()
            .rev()
            .find(|g| g.created_at <= at))
    }

    /// The features that differ between generations `a` and `b` (0 = empty), with the area that
    /// changed hands. Order: layer, then code.
    fn diff(&self, a: GenerationNo, b: GenerationNo) -> StoreResult<Vec<AreaChange>> {
        let load = |n: GenerationNo| {
            if n == 0 {
                Ok(FeatureSet::default())
            } else {
                self.load_generation(n)
            }
        };
        Ok(diff_sets(&load(a)?, &load(b)?))
    }

    /// The draft as a whole: for a partial draft, its base generation with the covered streets
    /// replaced; for a whole-territory draft, the draft itself. This is what validation checks.
    fn draft_as_whole(&self, id: DraftId) -> StoreResult<FeatureSet> {
        let draft = self.get_draft(id)?;
        let base = if draft.info.base_generation > 0 {
            self.load_generation(draft.info.base_generation)?
        } else {
            FeatureSet::default()
        };
        draft_as_whole(
            &base,
            &draft.features,
            draft.info.covered_streets.as_deref(),
        )
    }

    /// Deletes the drafts never published and made before `before`, with their features;
    /// returns how many.
    fn purge_drafts(&self, before: DateTime<Utc>) -> StoreResult<usize>;

    /// Blocks, reporting generations as they are published (by this or any other process) until
    /// `on_event` returns false. First comes [`WatchEvent::Ready`] once the watcher listens, then
    /// [`WatchEvent::Published`] for every generation newer than `after` (default: the current
    /// one at that moment), in order. PostgreSQL: LISTEN/NOTIFY, delivered within milliseconds;
    /// SQLite: the generation table is polled every 500 ms.
    fn watch(
        &self,
        after: Option<GenerationNo>,
        on_event: &mut dyn FnMut(WatchEvent) -> bool,
    ) -> StoreResult<()>;
}

/// What [`Boundaries::watch`] reports.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// The watcher is listening; `current` is the newest generation at that moment.
    Ready {
        /// Newest generation (0: none).
        current: GenerationNo,
    },
    /// A generation newer than the last one reported.
    Published(GenerationInfo),
}

/// The features of `set` sorted canonically: layer in hierarchy order, then code.
pub fn canonical(set: &FeatureSet) -> FeatureSet {
    let mut features = set.features().to_vec();
    features.sort_by(|a, b| (a.layer, &a.code).cmp(&(b.layer, &b.code)));
    let mut units = set.management_units.clone();
    units.sort_by(|a, b| a.code.cmp(&b.code));
    // Codes were unique in `set`, so this cannot fail; fall back to the input if it somehow does.
    FeatureSet::new(features, units).unwrap_or_else(|_| set.clone())
}

/// The street each feature of `set` belongs to (following parents up), by code. A street belongs
/// to itself; the district and features whose chain reaches no street belong to none.
pub fn street_of_features(set: &FeatureSet) -> HashMap<&str, &str> {
    let mut out: HashMap<&str, &str> = HashMap::with_capacity(set.len());
    for f in set.features() {
        let mut cur: &Feature = f;
        let mut steps = 0;
        let street = loop {
            if cur.layer == Layer::Street {
                break Some(cur.code.as_str());
            }
            if let Some(s) = out.get(cur.code.as_str()) {
                break Some(*s);
            }
            match set.parent_of(cur) {
                Some(p) if steps < Layer::ALL.len() => {
                    cur = p;
                    steps += 1;
                }
                _ => break None,
            }
        };
        if let Some(s) = street {
            out.insert(f.code.as_str(), s);
        }
    }
    out
}

/// The draft as a whole (see [`Boundaries::draft_as_whole`]): `base` with every feature of the
/// `covered` streets (the streets themselves and everything under them) replaced by `draft`'s
/// features. `covered = None` means the draft is the whole territory.
///
/// The district and features outside the covered streets stay as in `base`, except those the
/// draft holds by code: a draft feature replaces the base feature with its code wherever that is
/// (the file may repeat the district unchanged as context: no change). What that changes outside
/// the covered streets is what [`effective_change`] reports, and what a write is authorized
/// against. Management units of the draft replace the base's units with the same code; the others
/// stay. Fails with [`StoreError::InvalidDraft`] when the result would hold two districts.
pub fn draft_as_whole(
    base: &FeatureSet,
    draft: &FeatureSet,
    covered: Option<&[String]>,
) -> StoreResult<FeatureSet> {
    one_district(draft)?;
    let Some(covered) = covered else {
        return Ok(draft.clone());
    };
    let covered: HashSet<&str> = covered.iter().map(String::as_str).collect();
    let street_of = street_of_features(base);
    let in_draft: HashSet<&str> = draft.features().iter().map(|f| f.code.as_str()).collect();
    let mut features: Vec<Feature> = base
        .features()
        .iter()
        .filter(|f| {
            !in_draft.contains(f.code.as_str())
                && street_of
                    .get(f.code.as_str())
                    .is_none_or(|s| !covered.contains(s))
        })
        .cloned()
        .collect();
    features.extend(draft.features().iter().cloned());
    let draft_units: HashSet<&str> = draft
        .management_units
        .iter()
        .map(|u| u.code.as_str())
        .collect();
    let mut units: Vec<ManagementUnit> = base
        .management_units
        .iter()
        .filter(|u| !draft_units.contains(u.code.as_str()))
        .cloned()
        .collect();
    units.extend(draft.management_units.iter().cloned());
    let whole = FeatureSet::new(features, units).map_err(|dup| {
        StoreError::InvalidDraft(format!("code {} is used twice in the draft", dup.code))
    })?;
    one_district(&whole)?;
    Ok(whole)
}

/// A territory has one district: a set holding two district features is refused.
fn one_district(set: &FeatureSet) -> StoreResult<()> {
    let districts: Vec<&str> = set
        .features()
        .iter()
        .filter(|f| f.layer == Layer::District)
        .map(|f| f.code.as_str())
        .collect();
    if districts.len() > 1 {
        return Err(StoreError::InvalidDraft(format!(
            "a territory has one district, but this one would have {}: {}",
            districts.len(),
            districts.join(", ")
        )));
    }
    Ok(())
}

/// Per-layer counts of added, removed and changed features from `old` to `new`, and the same
/// for the management units (by code).
pub fn change_counts(old: &FeatureSet, new: &FeatureSet) -> BTreeMap<Subject, LayerChanges> {
    let mut out: BTreeMap<Subject, LayerChanges> = BTreeMap::new();
    for f in new.features() {
        match old.get(&f.code) {
            None => out.entry(f.layer.into()).or_default().added += 1,
            Some(o) if o != f => out.entry(f.layer.into()).or_default().changed += 1,
            Some(_) => {}
        }
    }
    for f in old.features() {
        if new.get(&f.code).is_none() {
            out.entry(f.layer.into()).or_default().removed += 1;
        }
    }
    let old_units: HashMap<&str, &ManagementUnit> = old
        .management_units
        .iter()
        .map(|u| (u.code.as_str(), u))
        .collect();
    let new_units: HashMap<&str, &ManagementUnit> = new
        .management_units
        .iter()
        .map(|u| (u.code.as_str(), u))
        .collect();
    for (code, u) in &new_units {
        match old_units.get(code) {
            None => out.entry(Subject::ManagementUnit).or_default().added += 1,
            Some(o) if o != u => out.entry(Subject::ManagementUnit).or_default().changed += 1,
            Some(_) => {}
        }
    }
    for code in old_units.keys() {
        if !new_units.contains_key(code) {
            out.entry(Subject::ManagementUnit).or_default().removed += 1;
        }
    }
    out
}
