//! The assets aggregate: the registers of city components (部件) and of shops under frontage duty
//! (门责), the frontage inspections of shops and their points records ([`Assets`]). The rules
//! (codes, classes, binding, escalation) are [`crate::assets`]; this keeps the registers.
//!
//! The registers are kept apart from the boundary generations: a component or a shop is one row,
//! changed in place (a lamp breaks, a shop opens), never versioned with the areas. Each is written
//! whole ([`RegisterScope::All`], an import of the district's register) or by key
//! ([`RegisterScope::Upsert`], a correction). A shop's [`Frontage`] set by a person
//! ([`BindingSource::Manual`]) survives any write that does not itself bring a manual binding:
//! a re-import that computed the nearest segment again does not undo a person's correction.
//!
//! Inspections and points entries name their shop by id and are history: they stay when the shop
//! is deleted or the register replaced. A points entry for a confirmed case is recorded once per
//! shop and case (a unique index, so two processes confirming at once still add one).
//!
//! Tables: `components`, `shops`, `shop_inspections`, `shop_points`; the rules live in the
//! `settings` table under [`Setting::Assets`](super::Setting::Assets).

use super::StoreResult;
#[cfg(doc)]
use crate::assets::BindingSource;
use crate::assets::{Component, ComponentState, Frontage, Inspection, PointsEntry, Shop};
use chrono::{DateTime, NaiveDate, Utc};

/// How a write of a register treats the rows it does not bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterScope {
    /// The rows given are the whole register: every other row is deleted, in the same
    /// transaction.
    All,
    /// Each row given is inserted, or replaces the row with its key; the others stay.
    Upsert,
}

/// Which components to read. Every filter given must hold; the result is ordered by code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComponentQuery<'a> {
    /// Components inside this box `[min_lon, min_lat, max_lon, max_lat]` (edges included).
    pub bbox: Option<[f64; 4]>,
    /// Of these codes only.
    pub codes: Option<&'a [String]>,
    /// Of this owner department (权属单位).
    pub owner: Option<&'a str>,
    /// Of this major class (2 digits, digits 7–8 of the code).
    pub class: Option<&'a str>,
    /// Of this subclass (4 digits: major class and subclass, digits 7–10 of the code).
    pub subclass: Option<&'a str>,
    /// In this state.
    pub state: Option<ComponentState>,
    /// Codes after this one only (keyset paging: the last code of the previous page).
    pub after: Option<&'a str>,
    /// At most this many.
    pub limit: Option<usize>,
}

/// Which shops to read. Every filter given must hold; the result is ordered by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShopQuery<'a> {
    /// Shops whose bounding box meets this one `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: Option<[f64; 4]>,
    /// Of these ids only.
    pub ids: Option<&'a [String]>,
    /// Facing one of these road segments.
    pub segments: Option<&'a [String]>,
    /// Ids after this one only (keyset paging: the last id of the previous page).
    pub after: Option<&'a str>,
    /// At most this many.
    pub limit: Option<usize>,
}

/// The component and shop registers, inspections and points.
pub trait Assets {
    /// Writes components: with [`RegisterScope::All`] they replace the whole register, with
    /// [`RegisterScope::Upsert`] each replaces the component of its code or is added; in one
    /// transaction either way. Two components with one code are a [`Conflict`].
    ///
    /// A write of 20,000 components or more (an import) drops the register's secondary indexes
    /// and builds them again before it commits, and on PostgreSQL writes the rows with one COPY:
    /// a district's 500,000 in seconds. While it runs, readers of the register on PostgreSQL
    /// wait for it (the dropped indexes lock the table); on SQLite they read the register as it
    /// was.
    ///
    /// [`Conflict`]: super::StoreError::Conflict
    fn put_components(&self, components: &[Component], scope: RegisterScope) -> StoreResult<()>;

    /// Deletes the components of these codes; returns how many there were.
    fn delete_components(&self, codes: &[String]) -> StoreResult<usize>;

    /// The components `query` asks for, by code.
    fn components(&self, query: &ComponentQuery<'_>) -> StoreResult<Vec<Component>>;

    /// One component, by code.
    fn component(&self, code: &str) -> StoreResult<Option<Component>>;

    /// How many components the register holds.
    fn component_count(&self) -> StoreResult<usize>;

    /// Sets a component's state; false when no component has that code.
    fn set_component_state(&self, code: &str, state: ComponentState) -> StoreResult<bool>;

    /// Every component, by code, handed to `chunk` a few thousand at a time (the start-up load of
    /// the in-memory index), all from one snapshot of the register; returns how many. An error
    /// returned by `chunk` stops the reading and is returned.
    fn all_components(
        &self,
        chunk: &mut dyn FnMut(Vec<Component>) -> StoreResult<()>,
    ) -> StoreResult<usize>;

    /// Writes shops, like [`put_components`](Assets::put_components), except that a shop whose
    /// stored frontage was set by hand ([`BindingSource::Manual`]) keeps it unless the shop
    /// written brings a manual binding itself: a nearest binding, or none, computed again by an
    /// import does not replace a person's.
    fn put_shops(&self, shops: &[Shop], scope: RegisterScope) -> StoreResult<()>;

    /// The shops `query` asks for, by id.
    fn shops(&self, query: &ShopQuery<'_>) -> StoreResult<Vec<Shop>>;

    /// One shop, by id.
    fn shop(&self, id: &str) -> StoreResult<Option<Shop>>;

    /// Sets (or with `None` removes) a shop's frontage binding as given, whatever it was; false
    /// when no shop has that id.
    fn set_frontage(&self, id: &str, frontage: Option<&Frontage>) -> StoreResult<bool>;

    /// Deletes the shops of these ids (their inspections and points stay); returns how many
    /// there were.
    fn delete_shops(&self, ids: &[String]) -> StoreResult<usize>;

    /// Records a frontage inspection (its `id` is ignored) and, when `points` gives a positive
    /// count, the points entry it costs the shop (dated as given, naming the inspection), in one
    /// transaction: never an inspection without its points or the other way round. Returns the
    /// id given to the inspection.
    fn add_inspection(
        &self,
        inspection: &Inspection,
        points: Option<(DateTime<Utc>, u32)>,
    ) -> StoreResult<i64>;

    /// The inspections dated `from..=to` (of one shop when `shop` is given), by date then id.
    fn inspections(
        &self,
        shop: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Inspection>>;

    /// Adds an entry to a shop's points record; false (and nothing added) when the entry is for
    /// a case and the shop's record already has an entry for that case.
    fn add_points(&self, entry: &PointsEntry) -> StoreResult<bool>;

    /// The points entries at or after `since` (of one shop when `shop` is given), by time.
    fn points(&self, shop: Option<&str>, since: DateTime<Utc>) -> StoreResult<Vec<PointsEntry>>;

    /// The points entries at or after `since` of the shops `shops` (a page of the register), by
    /// shop and time.
    fn points_of(&self, shops: &[String], since: DateTime<Utc>) -> StoreResult<Vec<PointsEntry>>;
}
