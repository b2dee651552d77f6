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
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The registers' settings (data): which rules run, and the points rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AssetSettings {
    /// The register rules.
    pub rules: AssetRules,
    /// Points per failed item and per confirmed frontage case; warning and escalation levels.
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

/// The registers in memory: every component and shop with their indexes (independent of the
/// atlas: grids and blocks are the live atlas's, asked when needed).
pub struct Registers {
    components: Vec<Component>,
    component_index: ComponentIndex,
    shops: Vec<Shop>,
    shop_index: ShopIndex,
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
            components,
            component_index,
            shops,
            shop_index,
        }
    }

    /// Loads both registers from the store and indexes them.
    pub fn load(store: &dyn Store) -> Result<Registers> {
        let mut components = Vec::new();
        store.all_components(&mut |chunk| {
            components.extend(chunk);
            Ok(())
        })?;
        let shops = store.shops(&crate::store::ShopQuery::default())?;
        Ok(Registers::new(components, shops))
    }

    /// Components held.
    pub fn component_count(&self) -> usize {
        self.components.len()
    }

    /// Shops held.
    pub fn shop_count(&self) -> usize {
        self.shops.len()
    }

    /// Components within `radius_m` of the point, nearest first, with their distance.
    pub fn components_within(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<(&Component, f64)> {
        self.component_index
            .within(lon, lat, radius_m)
            .into_iter()
            .filter_map(|(i, d)| self.components.get(i).map(|c| (c, d)))
            .collect()
    }

    /// Shops at the point (within `radius_m`, a footprint containing it at 0), nearest first.
    pub fn shops_at(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<(&Shop, f64)> {
        self.shop_index
            .at(lon, lat, radius_m)
            .into_iter()
            .filter_map(|(i, d)| self.shops.get(i).map(|s| (s, d)))
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
        let c = self.components.get(self.component_index.by_code(code)?)?;
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
        self.shop_index
            .at(lon, lat, radius_m)
            .into_iter()
            .filter_map(|(i, d)| {
                let s = self.shops.get(i)?;
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

/// The streets the atlas places each point in; an item outside every street is the district's.
fn streets_of<'a>(
    atlas: &Atlas,
    points: impl Iterator<Item = (&'a str, f64, f64)>,
) -> Vec<(&'a str, Option<String>)> {
    points
        .map(|(id, lon, lat)| {
            let street = atlas.locate(lon, lat)[0].map(|s| atlas.feature(s).code.clone());
            (id, street)
        })
        .collect()
}

/// Checks the caller may write items at these places: an admin anything; a planner or
/// dispatcher (`roles`) only items inside its streets.
fn may_write(
    caller: &Caller,
    roles: &[Role],
    what: &str,
    places: &[(&str, Option<String>)],
) -> Result<()> {
    caller.require_any(roles)?;
    if caller.is_admin() {
        return Ok(());
    }
    for (id, street) in places {
        if street.is_none() || !caller.has_street(street.as_deref()) {
            return Err(Error::forbidden(format!(
                "{what} {id} lies in street {}: not one of this token's streets",
                street.as_deref().unwrap_or("(none: outside every street)")
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
        let places = streets_of(
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
        crate::assets::rules::check(&components, &[], atlas, &ClassTable::example(), &s.rules);
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
        let places = streets_of(atlas, anchors.iter().map(|(i, x, y)| (i.as_str(), *x, *y)));
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
    let findings =
        crate::assets::rules::check(&[], &shops, atlas, &ClassTable::example(), &s.rules);
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
    let places = streets_of(atlas, std::iter::once((id, lon, lat)));
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
) -> Result<(i64, Standing)> {
    let shop = store
        .shop(&inspection.shop)?
        .ok_or_else(|| Error::not_found(format!("no shop {:?}", inspection.shop)))?;
    let (lon, lat) = crate::assets::binding::anchor(&shop.geometry);
    let places = streets_of(atlas, std::iter::once((shop.id.as_str(), lon, lat)));
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
    let id = store.add_inspection(&inspection)?;
    let points = inspection_points(&inspection, &s.points);
    if points > 0 {
        store.add_points(&PointsEntry {
            shop: shop.id.clone(),
            at: now,
            points,
            reason: PointsReason::Inspection { inspection: id },
        })?;
    }
    Ok((id, shop_standing(store, &shop.id, &s.points, now)?))
}

/// A shop's standing at `now` under `rule`.
pub fn shop_standing(
    store: &dyn Store,
    shop: &str,
    rule: &PointsRule,
    now: DateTime<Utc>,
) -> Result<Standing> {
    let since = now - Duration::days(i64::from(rule.window_days));
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
