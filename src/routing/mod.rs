//! Case routing: a point (WGS84) and a case category → the owning grid, block, block head, road
//! segment, management units, the generation used, a due date and a confidence.
//!
//! Rules (docs/cases.md):
//! - the owner is the grid that contains the point by the atlas's boundary rule; if it is of
//!   another layer than the category's, it is still the owner, with `layer_mismatch: true` and the
//!   reason — unless a grid of the category's layer lies within the boundary tolerance, which
//!   then takes the case (a street vendor reported 2 m inside a compound goes to the street grid);
//! - `confidence` is `inside`; `boundary` when another grid lies within the tolerance (every
//!   owner within it is listed in `candidates`, one is chosen as above, deterministically);
//!   `nearest` in a gap between grids (the nearest grid within the nearest radius, with its
//!   distance); `street_queue` when no grid is near: the case goes to the street's sub-centre;
//! - a point outside the district cannot be routed ([`RouteError::Outside`]); an optional (自选)
//!   category of one street cannot be routed to a point in another;
//! - `due_at` = reported time + `due_in_days` days (7: the 7-day quick disposal), in the
//!   district's time zone.
//!
//! Pure: no I/O. Coordinates from Chinese web maps are converted by the caller
//! ([`crate::geometry::crs`]).

pub mod categories;

use crate::atlas::{Atlas, Fallback, FeatureId, LookupOptions};
use crate::model::{Layer, ManagementUnitKind, Person, Role};
use categories::{Category, ItemKind};
use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// How sure the routing is of the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Inside one grid, no other owner within the tolerance.
    Inside,
    /// Within the tolerance of another grid: all are listed, one is chosen.
    Boundary,
    /// In a gap: the nearest grid within the radius.
    Nearest,
    /// No grid near: the street's sub-centre dispatches by hand.
    StreetQueue,
}

impl Confidence {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Inside => "inside",
            Confidence::Boundary => "boundary",
            Confidence::Nearest => "nearest",
            Confidence::StreetQueue => "street_queue",
        }
    }
}

/// Routing parameters.
#[derive(Debug, Clone, Copy)]
pub struct RouteOptions {
    /// Another grid's boundary nearer than this makes the routing `boundary`, metres.
    pub boundary_tolerance_m: f64,
    /// Radius for the road segment of street-grid categories, metres.
    pub road_radius_m: f64,
    /// Radius for the nearest grid when the point lies in a gap, metres.
    pub nearest_radius_m: f64,
    /// Days from report to due date.
    pub due_in_days: u32,
    /// Intake: open cases of the same category within this many metres … (possible duplicates).
    pub duplicate_radius_m: f64,
    /// … reported within this many hours before are returned as possible duplicates.
    pub duplicate_window_h: u32,
    /// The district's time zone (China Standard Time, UTC+8, has no daylight saving).
    pub utc_offset: FixedOffset,
    /// A component case without a named component: the nearest component of the item's classes
    /// within this many metres.
    pub component_radius_m: f64,
    /// A frontage case: the shop within this many metres of the point (nearest).
    pub shop_radius_m: f64,
}

impl Default for RouteOptions {
    fn default() -> Self {
        RouteOptions {
            boundary_tolerance_m: 5.0,
            road_radius_m: 30.0,
            nearest_radius_m: 50.0,
            due_in_days: 7,
            duplicate_radius_m: 50.0,
            duplicate_window_h: 72,
            utc_offset: china_standard_time(),
            component_radius_m: 10.0,
            shop_radius_m: 15.0,
        }
    }
}

/// UTC+8.
pub fn china_standard_time() -> FixedOffset {
    // 8 h is within ±24 h, so this cannot fail; fall back to UTC rather than panic.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

use chrono::Offset as _;

/// An area named in an assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AreaRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Layer.
    pub layer: Layer,
    /// Kind, where the layer has kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Another possible owner of a point near a boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Candidate {
    /// The grid.
    #[serde(flatten)]
    pub area: AreaRef,
    /// Distance from the point to the grid, metres (0 for the grid containing it).
    pub distance_m: f64,
}

/// The road segment a street-grid case is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoadRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Distance from the point, metres.
    pub distance_m: f64,
    /// Its responsible people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<Person>,
}

/// A management unit serving the grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitRef {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Service.
    pub kind: ManagementUnitKind,
    /// Team members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<Person>,
}

/// Where a case goes. Self-contained (names, people): stored with the case as routed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Assignment {
    /// The category routed.
    pub category: String,
    /// How sure the routing is.
    pub confidence: Confidence,
    /// The WGS84 point used.
    pub point: [f64; 2],
    /// The street.
    pub street: Option<AreaRef>,
    /// The owning grid (none in the street queue).
    pub grid: Option<AreaRef>,
    /// The block within the grid.
    pub block: Option<AreaRef>,
    /// The block head (责任块长).
    pub block_head: Option<Person>,
    /// The grid's people (station head, deputies …).
    #[serde(default)]
    pub grid_people: Vec<Person>,
    /// The nearest road segment within the radius (street-grid categories).
    pub road_segment: Option<RoadRef>,
    /// Management units serving the grid.
    #[serde(default)]
    pub management_units: Vec<UnitRef>,
    /// Whether the owning grid is of another layer than the category's.
    pub layer_mismatch: bool,
    /// Why, when `layer_mismatch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch_reason: Option<String>,
    /// Every owner within the tolerance (`boundary`), the chosen one first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
    /// Distance to the grid chosen (`nearest`), metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// The queue that dispatches by hand (`street_queue`): the street's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// The generation whose boundaries were used.
    pub generation: Option<i64>,
    /// Reported time + the disposal period, in the district's time zone.
    pub due_at: DateTime<FixedOffset>,
    /// What the case is about (from its category): event, component or frontage.
    #[serde(default, skip_serializing_if = "ItemKind::is_event")]
    pub about: ItemKind,
    /// The component a component case is about (owner-first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentRef>,
    /// The shop at whose frontage a frontage case is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop: Option<ShopRef>,
    /// Who is asked first, and why (absent on cases routed before components and shops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<DispatchHint>,
}

impl Assignment {
    /// The target a dispatch without one goes to: the hint's department (back end) or grid
    /// (front end); `None` when the routing found neither (the street queue).
    pub fn dispatch_target(&self) -> Option<(Principle, &str)> {
        let hint = self.dispatch.as_ref();
        match hint.map(|h| (h.principle, &h.department)) {
            Some((Principle::Owner, Some(d))) => Some((Principle::Owner, d.as_str())),
            _ => self
                .grid
                .as_ref()
                .map(|g| (Principle::Territory, g.code.as_str())),
        }
    }
}

/// Who is asked first to dispose of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Principle {
    /// 属地优先: the grid that owns the place (front end).
    Territory,
    /// 权属优先: the component's owner department (back end); the grid stays the territory.
    Owner,
}

/// Where a case goes first, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DispatchHint {
    /// Territory-first or owner-first.
    pub principle: Principle,
    /// The owner department (owner-first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Why, in words (e.g. no component of the item's classes within 10 m).
    pub reason: String,
}

/// The component a case is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ComponentRef {
    /// 16-digit code.
    pub code: String,
    /// Major class and subclass (4 digits).
    pub class: String,
    /// 权属单位.
    pub owner: String,
    /// 养护单位.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainer: Option<String>,
    /// Its state when the case was routed (`intact`, `damaged`, …).
    pub state: String,
    /// Distance from the case's point, metres.
    pub distance_m: f64,
    /// Named by the reporter (`named`) or the nearest of the item's classes (`nearest`).
    pub found: String,
}

/// The shop at whose frontage a case is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShopRef {
    /// Shop id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The road segment it faces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Distance from the case's point, metres.
    pub distance_m: f64,
}

/// A shop near a point, with the block it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopHit {
    /// What the assignment keeps of it.
    pub shop: ShopRef,
    /// Its anchor `(lon, lat)`: its point, or an interior point of its footprint (the block
    /// that takes the case is the atlas's block there).
    pub anchor: (f64, f64),
}

/// The asset registers as routing sees them (components and shops; implemented over the
/// service's in-memory indexes).
pub trait Registers {
    /// The component with this code, its distance measured from the point.
    fn component(&self, code: &str, lon: f64, lat: f64) -> Option<ComponentRef>;
    /// Components within `radius_m` of the point, nearest first (ties by code).
    fn components_near(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<ComponentRef>;
    /// Shops within `radius_m` of the point (a footprint containing it: 0), nearest first.
    fn shops_near(&self, lon: f64, lat: f64, radius_m: f64) -> Vec<ShopHit>;
}

/// Why a case about an asset cannot be routed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssetRouteError {
    /// The component named does not exist.
    #[error("no component with code {0:?}")]
    UnknownComponent(String),
    /// The component named is of a class the category is not about.
    #[error("component {code} is of class {class}, not one of category {category}'s ({classes})")]
    WrongClass {
        /// The component.
        code: String,
        /// Its class.
        class: String,
        /// The category.
        category: String,
        /// The category's classes.
        classes: String,
    },
    /// A component was named for a category that is not about components.
    #[error("category {category} is about {kind}s, not components: name no component")]
    NotAComponentCategory {
        /// The category.
        category: String,
        /// Its kind.
        kind: &'static str,
    },
}

/// Routes a case about a component or a shop front on top of its territory routing: the
/// component (named by `component`, or the nearest of the category's classes within
/// `opts.component_radius_m`) and its owner department (owner-first), or the shop at the point
/// (within `opts.shop_radius_m`) whose block and block head take the case; an event stays
/// territory-first. When nothing is found the case stays territory-first and the hint says why.
pub fn route_assets(
    a: &mut Assignment,
    atlas: &Atlas,
    registers: &dyn Registers,
    category: &Category,
    component: Option<&str>,
    opts: &RouteOptions,
) -> Result<(), AssetRouteError> {
    let [lon, lat] = a.point;
    a.about = category.kind;
    let territory = |reason: String| DispatchHint {
        principle: Principle::Territory,
        department: None,
        reason,
    };
    if component.is_some() && category.kind != ItemKind::Component {
        {
            return Err(AssetRouteError::NotAComponentCategory {
                category: category.code.clone(),
                kind: category.kind.as_str(),
            });
        }
    }
    a.dispatch = Some(match category.kind {
        ItemKind::Event => territory("an event: the grid that owns the place (属地优先)".into()),
        ItemKind::Component => {
            let found = match component {
                Some(code) => {
                    let c = registers
                        .component(code, lon, lat)
                        .ok_or_else(|| AssetRouteError::UnknownComponent(code.to_owned()))?;
                    if !category.is_about_class(&c.class) {
                        return Err(AssetRouteError::WrongClass {
                            code: c.code,
                            class: c.class,
                            category: category.code.clone(),
                            classes: category.component_classes.join(", "),
                        });
                    }
                    Some(ComponentRef {
                        distance_m: round_cm(c.distance_m),
                        found: "named".into(),
                        ..c
                    })
                }
                None => registers
                    .components_near(lon, lat, opts.component_radius_m)
                    .into_iter()
                    .find(|c| category.is_about_class(&c.class))
                    .map(|c| ComponentRef {
                        distance_m: round_cm(c.distance_m),
                        found: "nearest".into(),
                        ..c
                    }),
            };
            match found {
                Some(c) => {
                    let hint = DispatchHint {
                        principle: Principle::Owner,
                        department: Some(c.owner.clone()),
                        reason: format!(
                            "component {} (权属优先): its owner department {}",
                            c.code, c.owner
                        ),
                    };
                    a.component = Some(c);
                    hint
                }
                None => territory(format!(
                    "no component of classes {} within {} m: the grid that owns the place",
                    category.component_classes.join(", "),
                    opts.component_radius_m
                )),
            }
        }
        ItemKind::Frontage => {
            let hit = registers
                .shops_near(lon, lat, opts.shop_radius_m)
                .into_iter()
                .next();
            match hit {
                Some(h) => {
                    if let Some(b) = atlas.locate(h.anchor.0, h.anchor.1)[3] {
                        a.block = Some(area_ref(atlas, b));
                        a.block_head = atlas.feature(b).person(Role::BlockHead).cloned();
                    }
                    let reason = format!(
                        "the frontage of shop {} ({}): its block head",
                        h.shop.id, h.shop.name
                    );
                    a.shop = Some(ShopRef {
                        distance_m: round_cm(h.shop.distance_m),
                        ..h.shop
                    });
                    territory(reason)
                }
                None => territory(format!(
                    "no shop within {} m: the grid that owns the place",
                    opts.shop_radius_m
                )),
            }
        }
    });
    Ok(())
}

/// Why a case cannot be routed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RouteError {
    /// The point lies outside the district.
    #[error(
        "the point ({lon}, {lat}) (WGS84) lies outside the district: no street, grid or block owns it"
    )]
    Outside {
        /// Longitude.
        lon: f64,
        /// Latitude.
        lat: f64,
    },
    /// An optional category of one street, at a point in another.
    #[error(
        "category {category} is an optional (自选) item of street {category_street}; the point lies in street {point_street}"
    )]
    OtherStreet {
        /// The category.
        category: String,
        /// Its street.
        category_street: String,
        /// The street of the point.
        point_street: String,
    },
    /// The due date (reported time + `due_in_days`) is past the last time representable.
    #[error(
        "reported at {reported_at}, the due date {due_in_days} days later cannot be represented"
    )]
    DueDate {
        /// The reported time.
        reported_at: DateTime<Utc>,
        /// The days to the due date.
        due_in_days: u32,
    },
}

fn area_ref(atlas: &Atlas, id: FeatureId) -> AreaRef {
    let f = atlas.feature(id);
    AreaRef {
        code: f.code.clone(),
        name: f.name.clone(),
        layer: f.layer,
        kind: f.kind.map(|k| k.as_str().to_owned()),
    }
}

fn round_cm(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// How far the suggestions of a queued case look for grids, metres.
pub const SUGGESTION_RADIUS_M: f64 = 3000.0;

/// The `n` grids of `street` nearest to `(lon, lat)` (0 m for one containing it, else the
/// distance to its boundary, within [`SUGGESTION_RADIUS_M`]), nearest first: the suggestions
/// for a case in the street queue.
pub fn nearest_grids(atlas: &Atlas, lon: f64, lat: f64, street: &str, n: usize) -> Vec<Candidate> {
    let Some(street_id) = atlas.find(street) else {
        return Vec::new();
    };
    // a grid containing the point is at 0 m (areas_near measures to the boundary)
    let containing: Vec<FeatureId> = atlas.locate(lon, lat).into_iter().flatten().collect();
    let mut all: Vec<(FeatureId, f64)> = Layer::ALL
        .into_iter()
        .filter(|l| l.is_grid())
        .flat_map(|l| atlas.areas_near(l, lon, lat, SUGGESTION_RADIUS_M))
        .filter(|(id, _)| atlas.ancestors(*id).contains(&street_id))
        .map(|(id, d)| (id, if containing.contains(&id) { 0.0 } else { d }))
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.into_iter()
        .take(n)
        .map(|(id, d)| Candidate {
            area: area_ref(atlas, id),
            distance_m: round_cm(d),
        })
        .collect()
}

/// Routes a case of `category` at `(lon, lat)` (WGS84) reported at `reported_at`.
pub fn route(
    atlas: &Atlas,
    lon: f64,
    lat: f64,
    category: &Category,
    reported_at: DateTime<Utc>,
    opts: &RouteOptions,
) -> Result<Assignment, RouteError> {
    let wants_road = category.layer == Layer::StreetGrid;
    let p = atlas.lookup_with(
        lon,
        lat,
        LookupOptions {
            road_radius_m: if wants_road { opts.road_radius_m } else { 0.0 },
            nearest_radius_m: opts.nearest_radius_m,
        },
    );
    if p.fallback == Fallback::Outside {
        return Err(RouteError::Outside { lon, lat });
    }
    let street_code = p.street.map(|s| atlas.feature(s).code.clone());
    if let Some(cs) = &category.street {
        if street_code.as_deref() != Some(cs.as_str()) {
            return Err(RouteError::OtherStreet {
                category: category.code.clone(),
                category_street: cs.clone(),
                point_street: street_code.unwrap_or_else(|| "(none)".into()),
            });
        }
    }
    let mut grid = p.grid;
    let mut block = p.block;
    let mut candidates = Vec::new();
    let mut distance_m = None;
    let confidence = match p.fallback {
        Fallback::Street | Fallback::District | Fallback::Outside => {
            grid = None;
            block = None;
            Confidence::StreetQueue
        }
        Fallback::Nearest => {
            distance_m = p.distance_m.map(round_cm);
            Confidence::Nearest
        }
        Fallback::None | Fallback::Grid => {
            let owner = owner_within_tolerance(atlas, lon, lat, category, opts, grid);
            if let Some((g, b)) = owner.moved_to {
                grid = Some(g);
                block = b;
            }
            candidates = owner.candidates;
            owner.confidence
        }
    };
    let (layer_mismatch, mismatch_reason) = layer_mismatch(atlas, grid, category);
    let road_segment = if wants_road {
        p.roads.first().map(|r| {
            let f = atlas.feature(r.feature);
            RoadRef {
                code: f.code.clone(),
                name: f.name.clone(),
                distance_m: round_cm(r.distance_m),
                people: f.people.clone(),
            }
        })
    } else {
        None
    };
    let management_units = grid
        .into_iter()
        .flat_map(|g| atlas.units_of_grid(g))
        .map(|u| UnitRef {
            code: u.code.clone(),
            name: u.name.clone(),
            kind: u.kind,
            people: u.people.clone(),
        })
        .collect();
    let due_at = reported_at
        .checked_add_signed(chrono::Duration::days(i64::from(opts.due_in_days)))
        .ok_or(RouteError::DueDate {
            reported_at,
            due_in_days: opts.due_in_days,
        })?
        .with_timezone(&opts.utc_offset);
    Ok(Assignment {
        category: category.code.clone(),
        confidence,
        point: [lon, lat],
        street: p.street.map(|s| area_ref(atlas, s)),
        grid: grid.map(|g| area_ref(atlas, g)),
        block: block.map(|b| area_ref(atlas, b)),
        block_head: block.and_then(|b| atlas.feature(b).person(Role::BlockHead).cloned()),
        grid_people: grid
            .map(|g| atlas.feature(g).people.clone())
            .unwrap_or_default(),
        road_segment,
        management_units,
        layer_mismatch,
        mismatch_reason,
        candidates,
        distance_m,
        queue: (confidence == Confidence::StreetQueue)
            .then_some(street_code)
            .flatten(),
        generation: atlas.generation(),
        due_at,
        about: category.kind,
        component: None,
        shop: None,
        dispatch: None,
    })
}

/// The owner of a point inside a grid when other grids lie within the boundary tolerance.
struct NearBoundary {
    /// The grid chosen instead of the one containing the point, with its nearest block.
    moved_to: Option<(FeatureId, Option<FeatureId>)>,
    /// Every grid within the tolerance, the chosen one first (empty: none but the point's own).
    candidates: Vec<Candidate>,
    /// `Inside` when no other grid is within the tolerance, else `Boundary`.
    confidence: Confidence,
}

/// The category's layer decides between the grids within the tolerance: the grid containing the
/// point if it is of that layer, else the nearest that is.
fn owner_within_tolerance(
    atlas: &Atlas,
    lon: f64,
    lat: f64,
    category: &Category,
    opts: &RouteOptions,
    point_grid: Option<FeatureId>,
) -> NearBoundary {
    let mut others: Vec<(FeatureId, f64)> =
        [Layer::ResidentGrid, Layer::StreetGrid, Layer::ExtendedGrid]
            .into_iter()
            .flat_map(|l| atlas.areas_near(l, lon, lat, opts.boundary_tolerance_m))
            .filter(|(id, _)| Some(*id) != point_grid)
            .collect();
    if others.is_empty() {
        return NearBoundary {
            moved_to: None,
            candidates: Vec::new(),
            confidence: Confidence::Inside,
        };
    }
    others.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let own = point_grid.map(|g| (g, 0.0));
    let chosen = own
        .into_iter()
        .chain(others.iter().copied())
        .find(|(id, _)| atlas.feature(*id).layer == category.layer)
        .or(own)
        .map(|(c, _)| c);
    let moved_to = chosen.filter(|c| Some(*c) != point_grid).map(|c| {
        let block = atlas
            .nearest_area(Layer::Block, lon, lat, opts.boundary_tolerance_m, Some(c))
            .map(|(b, _)| b);
        (c, block)
    });
    let mut all: Vec<(FeatureId, f64)> = own.into_iter().chain(others).collect();
    if let Some(i) = all.iter().position(|(id, _)| Some(*id) == chosen) {
        let c = all.remove(i);
        all.insert(0, c);
    }
    let mut candidates: Vec<Candidate> = all
        .into_iter()
        .map(|(id, d)| Candidate {
            area: area_ref(atlas, id),
            distance_m: round_cm(d),
        })
        .collect();
    // the owner's own boundary distance says nothing of the point's position
    if let Some(first) = candidates.first_mut() {
        if moved_to.is_none() {
            first.distance_m = 0.0;
        }
    }
    NearBoundary {
        moved_to,
        candidates,
        confidence: Confidence::Boundary,
    }
}

/// Whether the owning grid is of another layer than the category's, and why that matters.
fn layer_mismatch(
    atlas: &Atlas,
    grid: Option<FeatureId>,
    category: &Category,
) -> (bool, Option<String>) {
    match grid {
        Some(g) if atlas.feature(g).layer != category.layer => {
            let f = atlas.feature(g);
            (
                true,
                Some(format!(
                    "category {} belongs to {} ({}), but the point lies in {} {} {} ({}), which owns the place",
                    category.code,
                    category.layer.name_zh(),
                    category.layer.as_str(),
                    f.layer.name_zh(),
                    f.code,
                    f.name,
                    f.layer.as_str()
                )),
            )
        }
        _ => (false, None),
    }
}
