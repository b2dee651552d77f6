//! The asset registers' flows, for the CLI and HTTP alike: components (部件) and shops under
//! frontage duty (门责) imported from GeoJSON or CSV (checked by the register rules first: a file
//! with bad codes is refused with one finding per bad code, nothing stored), listed, looked up
//! near a point with their unit grid and block from the atlas; a shop's frontage binding (the
//! nearest road segment when imported, or set by hand); frontage inspections and the shop's
//! points record; the registers in memory ([`Registers`]) that case routing asks.
//!
//! Who may do what:
//!
//! | what | who |
//! |---|---|
//! | settings (rules, points rule), replace a whole register | admin |
//! | add or update components and shops | admin; a planner or dispatcher for the streets of every item it sends (where the atlas places it) |
//! | bind a shop to a segment, record an inspection | admin; a dispatcher or grid worker of the shop's street |
//! | read components, shops, frontage and standing | anyone who may read (contact phones: admin, supervisor, the street's dispatcher) |

use super::access::{Caller, Role};
use super::error::{Error, Result};
use crate::assets::classes::ClassTable;
use crate::assets::index::{ComponentIndex, ShopIndex};
use crate::assets::record::{Standing, inspection_points, standing};
use crate::assets::rules::AssetRules;
use crate::assets::{
    BindingSource, Component, Frontage, Inspection, PointsEntry, PointsReason, PointsRule, Shop,
};
use crate::atlas::Atlas;
use crate::model::Layer;
use crate::routing::{ComponentRef, Registers as RoutingRegisters, ShopHit, ShopRef};
use crate::store::{RegisterScope, Setting, Store};
use crate::validate::{Finding, Severity};
use crate::wire::assets as w;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The registers' settings (data): which rules run, and the points rule. A member left out takes
/// its default (defaults per member, not of the whole: a schema `default` on a member that is an
/// object is refused by OpenAPI client generators).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetSettings {
    /// The register rules.
    #[serde(default)]
    pub rules: AssetRules,
    /// Points per failed item and per confirmed frontage case; warning and escalation levels.
    #[serde(default)]
    pub points: PointsRule,
}

impl AssetSettings {
    /// Reads and checks settings from JSON.
    pub fn from_json(json: &str) -> std::result::Result<AssetSettings, String> {
        let s: AssetSettings = serde_json::from_str(json).map_err(|e| e.to_string())?;
        s.rules.check()?;
        s.points.check()?;
        Ok(s)
    }
}

/// The settings in force (the store's, or the defaults).
pub fn settings(store: &dyn Store) -> Result<AssetSettings> {
    match store.setting(Setting::Assets)? {
        Some(json) => AssetSettings::from_json(&json)
            .map_err(|e| Error::internal(format!("the stored asset settings: {e}"))),
        None => Ok(AssetSettings::default()),
    }
}

/// Replaces the settings (admin).
pub fn replace_settings(store: &dyn Store, caller: &Caller, json: &str) -> Result<AssetSettings> {
    caller.require(Role::Admin)?;
    let s = AssetSettings::from_json(json)
        .map_err(|e| Error::unprocessable(format!("asset settings: {e}")))?;
    let text = serde_json::to_string(&s).map_err(Error::internal)?;
    store.replace_setting(Setting::Assets, &text)?;
    Ok(s)
}

/// The component class table in force: the district's (`PUT /api/v1/component-classes`), or the
/// example shipped with gridatlas.
pub fn class_table(store: &dyn Store) -> Result<ClassTable> {
    match store.setting(Setting::ComponentClasses)? {
        Some(json) => ClassTable::parse(json.as_bytes()).map_err(|e| {
            Error::internal(format!(
                "the stored component class table: {}",
                e.join("; ")
            ))
        }),
        None => Ok(ClassTable::example()),
    }
}

/// Replaces the class table with the district's own (admin). Refused (422, every problem named)
/// when the table is not valid, or when it lacks a class that a registered component's code or a
/// task-list item names: those would fail the code rules, or route nowhere, the moment after.
pub fn replace_class_table(
    store: &dyn Store,
    caller: &Caller,
    components: &[Component],
    body: &[u8],
) -> Result<ClassTable> {
    caller.require(Role::Admin)?;
    let table = ClassTable::parse(body).map_err(|problems| {
        Error::unprocessable(format!(
            "the class table has {} problem(s): {}",
            problems.len(),
            problems.first().cloned().unwrap_or_default()
        ))
        .with_extra(serde_json::json!({"problems": problems}))
    })?;
    let mut missing: std::collections::BTreeMap<String, usize> = Default::default();
    for c in components {
        if table.of_code(&c.code).is_none()
            && let Some(class) = c.code.get(6..10)
        {
            *missing.entry(class.to_string()).or_default() += 1;
        }
    }
    let mut problems: Vec<String> = missing
        .iter()
        .map(|(class, n)| {
            format!(
                "class {} subclass {}: used by {n} registered component(s)",
                &class[..2],
                &class[2..]
            )
        })
        .collect();
    for cat in store.categories()? {
        for class in cat.component_classes.iter().filter(|c| !table.has(c)) {
            problems.push(format!(
                "class {class}: named by task-list item {} ({})",
                cat.code, cat.name_zh
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Error::unprocessable(format!(
            "the class table lacks {} class(es) in use: {}",
            problems.len(),
            problems[0]
        ))
        .with_extra(serde_json::json!({"problems": problems})));
    }
    let text = serde_json::to_string(&table).map_err(Error::internal)?;
    store.replace_setting(Setting::ComponentClasses, &text)?;
    Ok(table)
}

/// The registers in memory: every component and shop with their indexes (independent of the
/// atlas: grids and blocks are the live atlas's, asked when needed). Each register is shared
/// between versions: reloading the shops keeps the components' index as it is.
#[derive(Clone)]
pub struct Registers {
    components: std::sync::Arc<(Vec<Component>, ComponentIndex)>,
    shops: std::sync::Arc<(Vec<Shop>, ShopIndex)>,
    classes: std::sync::Arc<ClassTable>,
}

impl Registers {
    /// No components, no shops.
    pub fn empty() -> Registers {
        Registers::new(Vec::new(), Vec::new())
    }

    /// Indexes `components` and `shops`.
    pub fn new(components: Vec<Component>, shops: Vec<Shop>) -> Registers {
        let component_index = ComponentIndex::new(&components);
        let shop_index = ShopIndex::new(&shops);
        Registers {
            components: std::sync::Arc::new((components, component_index)),
            shops: std::sync::Arc::new((shops, shop_index)),
            classes: std::sync::Arc::new(ClassTable::example()),
        }
    }

    /// Loads both registers and the class table from the store and indexes them.
    pub fn load(store: &dyn Store) -> Result<Registers> {
        Registers::empty()
            .with_classes(store)?
            .with_components(store)?
            .with_shops(store)
    }

    /// These registers with the class table in force read again from the store.
    pub fn with_classes(&self, store: &dyn Store) -> Result<Registers> {
        Ok(Registers {
            classes: std::sync::Arc::new(class_table(store)?),
            ..self.clone()
        })
    }

    /// The component class table in force.
    pub fn classes(&self) -> &ClassTable {
        &self.classes
    }

    /// These registers with the component register loaded again from the store.
    pub fn with_components(&self, store: &dyn Store) -> Result<Registers> {
        let mut components = Vec::new();
        store.all_components(&mut |chunk| {
            components.extend(chunk);
            Ok(())
        })?;
        let index = ComponentIndex::new(&components);
        Ok(Registers {
            components: std::sync::Arc::new((components, index)),
            ..self.clone()
        })
    }

    /// These registers with the shop register loaded again from the store.
    pub fn with_shops(&self, store: &dyn Store) -> Result<Registers> {
        let shops = store.shops(&crate::store::ShopQuery::default())?;
        let index = ShopIndex::new(&shops);
        Ok(Registers {
            shops: std::sync::Arc::new((shops, index)),
            ..self.clone()
        })
    }

    /// The shops, by id.
    pub fn shops(&self) -> &[Shop] {
        &self.shops.0
    }

    /// The components, by code.
    pub fn components(&self) -> &[Component] {
        &self.components.0
    }

    /// Components held.
    pub fn component_count(&self) -> usize {
        self.components.0.len()
    }

    /// Shops held.
    pub fn shop_count(&self) -> usize {
        self.shops.0.len()
    }

    /// Components within `radius_m` of the point, nearest first, with their distance.
    pub fn components_within(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<(&Component, f64)> {
        let (items, index) = &*self.components;
        index
            .within(lon, lat, radius_m)
            .into_iter()
            .filter_map(|(i, d)| items.get(i).map(|c| (c, d)))
            .collect()
    }

    /// Shops at the point (within `radius_m`, a footprint containing it at 0), nearest first.
    pub fn shops_at(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<(&Shop, f64)> {
        let (items, index) = &*self.shops;
        index
            .at(lon, lat, radius_m)
            .into_iter()
            .filter_map(|(i, d)| items.get(i).map(|s| (s, d)))
            .collect()
    }

    fn component_ref(c: &Component, distance_m: f64) -> ComponentRef {
        ComponentRef {
            code: c.code.clone(),
            class: c.code.get(6..10).unwrap_or_default().to_owned(),
            owner: c.owner.clone(),
            maintainer: c.maintainer.clone(),
            state: c.state.as_str().to_owned(),
            distance_m,
            found: String::new(),
        }
    }
}

impl RoutingRegisters for Registers {
    fn component(&self, code: &str, lon: f64, lat: f64) -> Option<ComponentRef> {
        let (items, index) = &*self.components;
        let c = items.get(index.by_code(code)?)?;
        Some(Registers::component_ref(
            c,
            crate::field::distance_m((c.lon, c.lat), (lon, lat)),
        ))
    }

    fn components_near(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<ComponentRef> {
        self.components_within(lon, lat, radius_m)
            .into_iter()
            .map(|(c, d)| Registers::component_ref(c, d))
            .collect()
    }

    fn shops_near(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<ShopHit> {
        let (items, index) = &*self.shops;
        index
            .at(lon, lat, radius_m)
            .into_iter()
            .filter_map(|(i, d)| {
                let s = items.get(i)?;
                Some(ShopHit {
                    shop: ShopRef {
                        id: s.id.clone(),
                        name: s.name.clone(),
                        segment: s.frontage.as_ref().map(|f| f.segment.clone()),
                        distance_m: d,
                    },
                    anchor: crate::assets::binding::anchor(&s.geometry),
                })
            })
            .collect()
    }
}

/// What an import did: how many items were stored, and the findings that did not block it
/// (warnings).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Imported {
    /// Items stored.
    pub stored: usize,
    /// Replace (the whole register) or upsert.
    pub replaced: bool,
    /// Warnings (e.g. a shop with no road segment within the binding distance).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<Finding>,
}

/// Why an import was refused: the findings (errors first), one per bad item.
pub fn refused(findings: Vec<Finding>) -> Error {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    Error::unprocessable(format!(
        "{errors} error(s) in the register rules: nothing was stored (see `findings`)"
    ))
    .with_extra(serde_json::json!({ "findings": findings }))
}

/// Where the atlas places an item: its street and unit grid (`None` outside every one).
struct Place<'a> {
    id: &'a str,
    street: Option<String>,
    grid: Option<String>,
}

/// The street and grid the atlas places each point in; an item outside every street is the
/// district's.
fn places_of<'a>(
    atlas: &Atlas,
    points: impl Iterator<Item = (&'a str, f64, f64)>,
) -> Vec<Place<'a>> {
    points
        .map(|(id, lon, lat)| {
            let at = atlas.locate(lon, lat);
            let code = |i: usize| at[i].map(|f| atlas.feature(f).code.clone());
            Place {
                id,
                street: code(1),
                grid: code(2),
            }
        })
        .collect()
}

/// Checks the caller may write items at these places: an admin anything; a planner or
/// dispatcher (of `roles`) only items inside its streets; a grid worker (of `roles`) only items
/// inside its grids.
fn may_write(caller: &Caller, roles: &[Role], what: &str, places: &[Place<'_>]) -> Result<()> {
    caller.require_any(roles)?;
    if caller.is_admin() {
        return Ok(());
    }
    let by_grid = caller.has(Role::GridWorker);
    for p in places {
        let allowed = if by_grid {
            p.grid.is_some() && caller.has_grid(p.grid.as_deref())
        } else {
            p.street.is_some() && caller.has_street(p.street.as_deref())
        };
        if !allowed {
            let (scope, at) = if by_grid {
                ("grid", p.grid.as_deref())
            } else {
                ("street", p.street.as_deref())
            };
            return Err(Error::forbidden(format!(
                "{what} {} lies in {scope} {}: not one of this token's {scope}s",
                p.id,
                at.unwrap_or("(none: outside every one)")
            )));
        }
    }
    Ok(())
}

/// Imports components: checked by the register rules against the atlas (errors refuse the
/// whole file, nothing stored), then stored (replacing the register, admin only, or added and
/// updated by code).
pub fn import_components(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    components: Vec<Component>,
    replace: bool,
) -> Result<Imported> {
    if replace {
        caller.require(Role::Admin)?;
    } else {
        let places = places_of(
            atlas,
            components.iter().map(|c| (c.code.as_str(), c.lon, c.lat)),
        );
        may_write(
            caller,
            &[Role::Planner, Role::Dispatcher],
            "component",
            &places,
        )?;
    }
    let s = settings(store)?;
    let findings =
        crate::assets::rules::check(&components, &[], atlas, &class_table(store)?, &s.rules);
    if findings.iter().any(|f| f.severity == Severity::Error) {
        return Err(refused(findings));
    }
    let scope = if replace {
        RegisterScope::All
    } else {
        RegisterScope::Upsert
    };
    store.put_components(&components, scope)?;
    Ok(Imported {
        stored: components.len(),
        replaced: replace,
        warnings: findings,
    })
}

/// Imports shops: each bound to the nearest road segment within the binding distance (a manual
/// binding in the store is kept), checked by the register rules (errors refuse the file), then
/// stored.
pub fn import_shops(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    mut shops: Vec<Shop>,
    replace: bool,
) -> Result<Imported> {
    if replace {
        caller.require(Role::Admin)?;
    } else {
        let anchors: Vec<(String, f64, f64)> = shops
            .iter()
            .map(|s| {
                let (lon, lat) = crate::assets::binding::anchor(&s.geometry);
                (s.id.clone(), lon, lat)
            })
            .collect();
        let places = places_of(atlas, anchors.iter().map(|(i, x, y)| (i.as_str(), *x, *y)));
        may_write(caller, &[Role::Planner, Role::Dispatcher], "shop", &places)?;
    }
    let s = settings(store)?;
    for shop in &mut shops {
        if shop
            .frontage
            .as_ref()
            .is_none_or(|f| f.source == BindingSource::Nearest)
        {
            shop.frontage = crate::assets::binding::bind(atlas, &shop.geometry, s.rules.binding_m);
        }
    }
    let findings = crate::assets::rules::check(&[], &shops, atlas, &class_table(store)?, &s.rules);
    if findings.iter().any(|f| f.severity == Severity::Error) {
        return Err(refused(findings));
    }
    let scope = if replace {
        RegisterScope::All
    } else {
        RegisterScope::Upsert
    };
    store.put_shops(&shops, scope)?;
    Ok(Imported {
        stored: shops.len(),
        replaced: replace,
        warnings: findings,
    })
}

/// Binds a shop to a road segment by hand (or removes its binding): admin, or a dispatcher or
/// grid worker of the shop's street. The segment must be a road segment of the atlas; the
/// distance is measured.
pub fn set_frontage(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    id: &str,
    segment: Option<&str>,
) -> Result<Option<Frontage>> {
    let shop = store
        .shop(id)?
        .ok_or_else(|| Error::not_found(format!("no shop {id:?}")))?;
    let (lon, lat) = crate::assets::binding::anchor(&shop.geometry);
    let places = places_of(atlas, std::iter::once((id, lon, lat)));
    may_write(
        caller,
        &[Role::Dispatcher, Role::GridWorker],
        "shop",
        &places,
    )?;
    let frontage = match segment {
        None => None,
        Some(code) => {
            let f = atlas
                .find(code)
                .filter(|&f| atlas.feature(f).layer == Layer::RoadSegment)
                .ok_or_else(|| {
                    Error::field(
                        "segment",
                        format!("{code:?} is no road segment of the atlas"),
                    )
                })?;
            let distance_m = crate::assets::binding::distance_to(atlas, &shop.geometry, f)
                .ok_or_else(|| {
                    Error::field("segment", format!("no distance from shop {id} to {code}"))
                })?;
            Some(Frontage {
                segment: code.to_owned(),
                distance_m,
                source: BindingSource::Manual,
            })
        }
    };
    store.set_frontage(id, frontage.as_ref())?;
    Ok(frontage)
}

/// Records a frontage inspection and the points its failed items cost the shop; answers the
/// inspection's id and the shop's standing after it.
pub fn inspect(
    store: &dyn Store,
    atlas: &Atlas,
    caller: &Caller,
    mut inspection: Inspection,
    now: DateTime<Utc>,
) -> Result<(i64, u32, Standing)> {
    let shop = store
        .shop(&inspection.shop)?
        .ok_or_else(|| Error::not_found(format!("no shop {:?}", inspection.shop)))?;
    let (lon, lat) = crate::assets::binding::anchor(&shop.geometry);
    let places = places_of(atlas, std::iter::once((shop.id.as_str(), lon, lat)));
    may_write(
        caller,
        &[Role::Dispatcher, Role::GridWorker],
        "shop",
        &places,
    )?;
    if inspection.items.is_empty() {
        return Err(Error::field(
            "items",
            "an inspection checks at least one item",
        ));
    }
    inspection.id = 0;
    let s = settings(store)?;
    let points = inspection_points(&inspection, &s.points);
    let id = store.add_inspection(&inspection, Some((now, points)))?;
    Ok((id, points, shop_standing(store, &shop.id, &s.points, now)?))
}

/// A shop's standing at `now` under `rule`.
pub fn shop_standing(
    store: &dyn Store,
    shop: &str,
    rule: &PointsRule,
    now: DateTime<Utc>,
) -> Result<Standing> {
    let since = rule.window_start(now);
    let entries = store.points(Some(shop), since)?;
    Ok(standing(&entries, rule, now))
}

/// A confirmed frontage case counts on its shop's record (once per case, whatever retries).
pub fn count_case(
    store: &dyn Store,
    shop: &str,
    case: i64,
    category: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let s = settings(store)?;
    Ok(store.add_points(&PointsEntry {
        shop: shop.to_owned(),
        at: now,
        points: s.points.per_case,
        reason: PointsReason::Case {
            case,
            category: category.to_owned(),
        },
    })?)
}

/// Whether the caller sees a shop's contact person and phone: admins, supervisors, and the
/// dispatchers (by street) and grid workers (by grid) where the shop lies. Anonymous readers
/// and other roles do not.
pub fn sees_contacts(caller: Option<&Caller>, street: Option<&str>, grid: Option<&str>) -> bool {
    let Some(c) = caller else {
        return false;
    };
    c.is_admin()
        || c.has(Role::Supervisor)
        || (c.has(Role::Dispatcher) && street.is_some() && c.has_street(street))
        || (c.has(Role::GridWorker) && grid.is_some() && c.has_grid(grid))
}

/// The street, grid and block the atlas places a point in.
fn areas_at(atlas: &Atlas, lon: f64, lat: f64) -> [Option<w::AreaRef>; 3] {
    let at = atlas.locate(lon, lat);
    let area = |i: usize| {
        at[i].map(|f| {
            let f = atlas.feature(f);
            w::AreaRef {
                code: f.code.clone(),
                name: f.name.clone(),
            }
        })
    };
    [area(1), area(2), area(3)]
}

/// A component as the API shows it: class names from `classes`, areas from the atlas.
pub fn component_view(
    atlas: &Atlas,
    classes: &ClassTable,
    c: Component,
    distance_m: Option<f64>,
) -> w::ComponentView {
    let [street, grid, block] = areas_at(atlas, c.lon, c.lat);
    let (class_name, subclass_name) = match classes.of_code(&c.code) {
        Some((major, sub)) => (Some(major.name_zh.clone()), Some(sub.name_zh.clone())),
        None => (
            c.class()
                .and_then(|k| classes.major(k))
                .map(|m| m.name_zh.clone()),
            None,
        ),
    };
    w::ComponentView {
        component: c,
        class_name,
        subclass_name,
        street,
        grid,
        block,
        distance_m,
    }
}

/// Largest page of a register list.
pub const MAX_PAGE: usize = 10_000;
/// Default page of a register list.
pub const DEFAULT_PAGE: usize = 1_000;
/// Largest radius of a component lookup near a point, metres.
pub const MAX_NEAR_M: f64 = 1_000.0;
/// Largest radius of a frontage lookup at a point, metres.
pub const MAX_FRONTAGE_M: f64 = 200.0;

/// A page size parameter: 1..=[`MAX_PAGE`], [`DEFAULT_PAGE`] when absent.
pub fn page_param(limit: Option<&str>) -> Result<usize> {
    match super::usize_param("limit", limit, DEFAULT_PAGE, MAX_PAGE)? {
        0 => Err(Error::invalid_parameter(
            "limit",
            "0: a page holds at least 1",
        )),
        n => Ok(n),
    }
}

/// A `bbox` parameter: four finite numbers, min before max, within lon/lat range.
pub fn bbox_param(v: Option<&str>) -> Result<Option<[f64; 4]>> {
    let Some(v) = v else { return Ok(None) };
    let parts: Vec<f64> = v
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| Error::invalid_parameter("bbox", format!("{v:?} is not four numbers")))?;
    let [x0, y0, x1, y1] = parts[..] else {
        return Err(Error::invalid_parameter(
            "bbox",
            format!("{v:?}: give min_lon,min_lat,max_lon,max_lat"),
        ));
    };
    let lon_ok = |x: f64| x.is_finite() && (-180.0..=180.0).contains(&x);
    let lat_ok = |y: f64| y.is_finite() && (-90.0..=90.0).contains(&y);
    if !(lon_ok(x0) && lon_ok(x1) && lat_ok(y0) && lat_ok(y1) && x0 <= x1 && y0 <= y1) {
        return Err(Error::invalid_parameter(
            "bbox",
            format!("{v:?}: not a box of longitudes and latitudes with min before max"),
        ));
    }
    Ok(Some([x0, y0, x1, y1]))
}

/// A radius parameter: finite, 0..=`max`, `default` when absent.
pub fn radius_param(v: Option<&str>, default: f64, max: f64) -> Result<f64> {
    let Some(raw) = v else { return Ok(default) };
    match raw.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && (0.0..=max).contains(&r) => Ok(r),
        _ => Err(Error::invalid_parameter(
            "radius_m",
            format!("{raw:?} is not a distance in 0–{max} m"),
        )),
    }
}

/// A required longitude or latitude parameter.
pub fn coordinate_param(name: &str, v: Option<&str>) -> Result<f64> {
    let raw = v.ok_or_else(|| Error::invalid_parameter(name, "is required"))?;
    let max = if name == "lat" { 90.0 } else { 180.0 };
    match raw.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (-max..=max).contains(&x) => Ok(x),
        _ => Err(Error::invalid_parameter(
            name,
            format!("{raw:?} is not a number in [-{max}, {max}]"),
        )),
    }
}

/// A page of components as `query` asks.
pub fn list_components(
    store: &dyn Store,
    atlas: &Atlas,
    classes: &ClassTable,
    q: &w::ComponentListQuery,
) -> Result<w::ComponentList> {
    let limit = page_param(q.limit.as_deref())?;
    let state = match q.state.as_deref() {
        None => None,
        Some(s) => Some(crate::assets::ComponentState::parse(s).ok_or_else(|| {
            Error::invalid_parameter(
                "state",
                format!("{s:?} is not intact, damaged, missing, occupied or abandoned"),
            )
        })?),
    };
    for (name, v, len) in [("class", &q.class, 2), ("subclass", &q.subclass, 4)] {
        if let Some(v) = v {
            if v.len() != len || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid_parameter(
                    name,
                    format!("{v:?} is not {len} digits"),
                ));
            }
        }
    }
    let query = crate::store::ComponentQuery {
        bbox: bbox_param(q.bbox.as_deref())?,
        codes: None,
        owner: q.owner.as_deref(),
        class: q.class.as_deref(),
        subclass: q.subclass.as_deref(),
        state,
        after: q.after.as_deref(),
        limit: Some(limit),
    };
    let rows = store.components(&query)?;
    let next_after = (rows.len() == limit)
        .then(|| rows.last().map(|c| c.code.clone()))
        .flatten();
    Ok(w::ComponentList {
        components: rows
            .into_iter()
            .map(|c| component_view(atlas, classes, c, None))
            .collect(),
        next_after,
    })
}

/// One component, by code.
pub fn component(
    store: &dyn Store,
    atlas: &Atlas,
    classes: &ClassTable,
    code: &str,
) -> Result<w::ComponentView> {
    let c = store
        .component(code)?
        .ok_or_else(|| Error::not_found(format!("no component {code:?}")))?;
    Ok(component_view(atlas, classes, c, None))
}

/// The components within `radius_m` of a point (WGS84), nearest first, of one class or
/// subclass when `class` is given (2 or 4 digits).
pub fn components_near(
    registers: &Registers,
    atlas: &Atlas,
    (lon, lat): (f64, f64),
    radius_m: f64,
    class: Option<&str>,
) -> Result<w::ComponentsNear> {
    if let Some(k) = class {
        if !(k.len() == 2 || k.len() == 4) || !k.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid_parameter(
                "class",
                format!("{k:?} is not a major class (2 digits) or subclass (4 digits)"),
            ));
        }
    }
    let classes = registers.classes();
    let components = registers
        .components_within(lon, lat, radius_m)
        .into_iter()
        .filter(|(c, _)| class.is_none_or(|k| c.code.get(6..6 + k.len()) == Some(k)))
        .map(|(c, d)| component_view(atlas, classes, c.clone(), Some(d)))
        .collect();
    Ok(w::ComponentsNear {
        point: [lon, lat],
        radius_m,
        components,
    })
}

/// A shop as the API shows it to `caller` (contacts only to those [`sees_contacts`] allows).
pub fn shop_view(
    atlas: &Atlas,
    caller: Option<&Caller>,
    s: Shop,
    standing: Standing,
) -> w::ShopView {
    let (lon, lat) = crate::assets::binding::anchor(&s.geometry);
    let [street, grid, block] = areas_at(atlas, lon, lat);
    let contacts = sees_contacts(
        caller,
        street.as_ref().map(|a| a.code.as_str()),
        grid.as_ref().map(|a| a.code.as_str()),
    );
    let segment_name = s
        .frontage
        .as_ref()
        .and_then(|f| atlas.find(&f.segment))
        .map(|f| atlas.feature(f).name.clone());
    w::ShopView {
        geometry: w::shop_geometry(&s.geometry),
        anchor: [lon, lat],
        id: s.id,
        name: s.name,
        credit_code: s.credit_code,
        contact: s.contact.filter(|_| contacts),
        phone: s.phone.filter(|_| contacts),
        pledge_signed: s.pledge_signed,
        frontage: s.frontage,
        segment_name,
        street,
        grid,
        block,
        standing,
        attributes: s.attributes,
    }
}

/// The standing of each of `shops` at `now` (one read of the window's points).
fn standings(
    store: &dyn Store,
    shops: &[Shop],
    rule: &PointsRule,
    now: DateTime<Utc>,
) -> Result<Vec<Standing>> {
    let since = rule.window_start(now);
    let mut by_shop: std::collections::HashMap<String, Vec<PointsEntry>> =
        std::collections::HashMap::new();
    if !shops.is_empty() {
        let ids: Vec<String> = shops.iter().map(|s| s.id.clone()).collect();
        for e in store.points_of(&ids, since)? {
            by_shop.entry(e.shop.clone()).or_default().push(e);
        }
    }
    Ok(shops
        .iter()
        .map(|s| standing(by_shop.get(&s.id).map_or(&[][..], Vec::as_slice), rule, now))
        .collect())
}

/// The ids of the shops of area `code`, sorted (for `area=`): those facing a road segment within
/// it (itself when it is one) and those standing in it (their anchor point). Read from the
/// registers in memory, which every write through the API reloads.
fn shops_of_area(registers: &Registers, atlas: &Atlas, code: &str) -> Result<Vec<String>> {
    let root = atlas.find(code).ok_or_else(|| {
        Error::invalid_parameter("area", format!("no area {code:?} in the served generation"))
    })?;
    let mut segments = std::collections::HashSet::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        let f = atlas.feature(id);
        if f.layer == Layer::RoadSegment {
            segments.insert(f.code.as_str());
        }
        stack.extend_from_slice(atlas.children(id));
    }
    let bbox = atlas.bbox(root);
    let inside = |(x, y): (f64, f64)| {
        bbox.is_some_and(|b| {
            (b.min().x..=b.max().x).contains(&x) && (b.min().y..=b.max().y).contains(&y)
        }) && atlas.locate(x, y).contains(&Some(root))
    };
    let mut ids: Vec<String> = registers
        .shops()
        .iter()
        .filter(|s| {
            s.frontage
                .as_ref()
                .is_some_and(|f| segments.contains(f.segment.as_str()))
                || inside(crate::assets::binding::anchor(&s.geometry))
        })
        .map(|s| s.id.clone())
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// A page of shops as `query` asks, with their standing at `now`.
pub fn list_shops(
    store: &dyn Store,
    registers: &Registers,
    atlas: &Atlas,
    caller: Option<&Caller>,
    q: &w::ShopListQuery,
    now: DateTime<Utc>,
) -> Result<w::ShopList> {
    let limit = page_param(q.limit.as_deref())?;
    if q.segment.is_some() && q.area.is_some() {
        return Err(Error::invalid_parameter(
            "area",
            "give `segment` or `area`, not both",
        ));
    }
    let segments = q.segment.clone().map(|s| vec![s]);
    // `area=`: the page's ids chosen here (after `after`, at most `limit`), the rows read by id
    let ids = match &q.area {
        Some(a) => {
            let mut ids = shops_of_area(registers, atlas, a)?;
            if let Some(after) = &q.after {
                ids.retain(|id| id > after);
            }
            ids.truncate(limit);
            Some(ids)
        }
        None => None,
    };
    let query = crate::store::ShopQuery {
        bbox: bbox_param(q.bbox.as_deref())?,
        ids: ids.as_deref(),
        segments: segments.as_deref(),
        after: q.after.as_deref(),
        limit: Some(limit),
    };
    let rows = store.shops(&query)?;
    let next_after = (rows.len() == limit)
        .then(|| rows.last().map(|s| s.id.clone()))
        .flatten();
    let rule = settings(store)?.points;
    let standing = standings(store, &rows, &rule, now)?;
    Ok(w::ShopList {
        shops: rows
            .into_iter()
            .zip(standing)
            .map(|(s, st)| shop_view(atlas, caller, s, st))
            .collect(),
        next_after,
    })
}

/// One shop with its inspections and points within the rule's window.
pub fn shop_detail(
    store: &dyn Store,
    atlas: &Atlas,
    caller: Option<&Caller>,
    id: &str,
    now: DateTime<Utc>,
) -> Result<w::ShopDetail> {
    let shop = store
        .shop(id)?
        .ok_or_else(|| Error::not_found(format!("no shop {id:?}")))?;
    let rule = settings(store)?.points;
    let since = rule.window_start(now);
    let points: Vec<PointsEntry> = store
        .points(Some(id), since)?
        .into_iter()
        .filter(|e| rule.in_window(e.at, now))
        .collect();
    let st = standing(&points, &rule, now);
    let inspections = store.inspections(Some(id), since.date_naive(), now.date_naive())?;
    Ok(w::ShopDetail {
        shop: shop_view(atlas, caller, shop, st),
        inspections,
        points,
    })
}

/// The shop frontage at a point (WGS84): the shops there, nearest first, each with its block's
/// head.
pub fn frontage_at(
    store: &dyn Store,
    registers: &Registers,
    atlas: &Atlas,
    caller: Option<&Caller>,
    (lon, lat): (f64, f64),
    radius_m: f64,
    now: DateTime<Utc>,
) -> Result<w::FrontageAt> {
    let hits: Vec<(Shop, f64)> = registers
        .shops_at(lon, lat, radius_m)
        .into_iter()
        .map(|(s, d)| (s.clone(), d))
        .collect();
    let shops: Vec<Shop> = hits.iter().map(|(s, _)| s.clone()).collect();
    let rule = settings(store)?.points;
    let standing = standings(store, &shops, &rule, now)?;
    let shops = hits
        .into_iter()
        .zip(standing)
        .map(|((s, distance_m), st)| {
            let block_head = crate::assets::binding::block_of(atlas, &s.geometry).and_then(|b| {
                atlas
                    .feature(b)
                    .person(crate::model::Role::BlockHead)
                    .cloned()
            });
            w::ShopAt {
                distance_m,
                shop: shop_view(atlas, caller, s, st),
                block_head,
            }
        })
        .collect();
    Ok(w::FrontageAt {
        point: [lon, lat],
        radius_m,
        shops,
    })
}

/// Counts on their shops' records the frontage cases opened (立案) within the points window that
/// are not counted yet; returns how many it added. `act` counts a case when it opens it, after
/// the case's transaction; this sweep (run with the escalation sweep, every minute) makes that
/// at-least-once: a process stopped between the two loses no points, and the store's one entry
/// per shop and case keeps a recount from adding twice. The entry is dated at the opening.
pub fn count_opened_cases(store: &dyn Store, now: DateTime<Utc>) -> Result<usize> {
    use crate::cases::workflow::Action;
    use crate::cases::{CaseFilter, Stage};
    use crate::routing::categories::ItemKind;
    let frontage: Vec<String> = store
        .categories()?
        .into_iter()
        .filter(|c| c.kind == ItemKind::Frontage)
        .map(|c| c.code)
        .collect();
    if frontage.is_empty() {
        return Ok(0);
    }
    let rule = settings(store)?.points;
    let mut added = 0;
    let mut offset = 0;
    loop {
        let filter = CaseFilter {
            categories: frontage.clone(),
            stages: vec![
                Stage::Opened,
                Stage::Dispatched,
                Stage::Disposed,
                Stage::Checked,
                Stage::Closed,
                Stage::OnHold,
            ],
            reported_from: Some(rule.window_start(now)),
            offset,
            limit: 1000,
            ..CaseFilter::default()
        };
        let (cases, _) = store.list_cases(&filter)?;
        let n = cases.len();
        for case in cases {
            let Some(shop) = &case.assignment.shop else {
                continue;
            };
            let Some(opened) = case.events.iter().find(|e| e.action == Action::Open) else {
                continue;
            };
            if count_case(store, &shop.id, case.id, &case.category, opened.at)? {
                added += 1;
            }
        }
        if n < 1000 {
            return Ok(added);
        }
        offset += 1000;
    }
}
