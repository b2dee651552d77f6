//! First start: the demo district and the example task list, for an empty store.

use super::error::{Error, Result};
use crate::store::{NewDraft, Store};

/// The demo district, embedded so that a fresh store needs nothing else.
const DEMO: &[u8] = include_bytes!("../../fixtures/demo-district.geojson");

/// Who the demo's draft and generation are recorded as.
const DEMO_BY: &str = "gridatlas (demo district)";

/// Imports and publishes the demo district (金山区) into a store; returns its generation.
pub fn bootstrap_demo(store: &dyn Store) -> Result<i32> {
    tracing::info!("empty store: loading the demo district (金山区) as generation 1");
    let set = crate::geo_io::read_slice(DEMO)
        .map_err(|e| Error::internal(format!("reading the embedded demo district: {e}")))?;
    let (report, errors) = crate::validate::draft_report(&set).map_err(Error::internal)?;
    let id = store.create_draft(NewDraft {
        features: &set,
        covered_streets: None,
        report,
        error_count: errors,
        created_by: DEMO_BY,
    })?;
    Ok(store.publish(id, DEMO_BY, None)?.number)
}

/// Loads the example task list (fixtures/task-list.example.json) into a store without categories.
pub fn bootstrap_categories(store: &dyn Store) -> Result<()> {
    if !store.categories()?.is_empty() {
        return Ok(());
    }
    let cats =
        crate::routing::categories::parse_task_list(crate::routing::categories::EXAMPLE_TASK_LIST)
            .map_err(|p| {
                Error::internal(format!("the embedded example task list: {}", p.join("; ")))
            })?;
    tracing::info!(
        categories = cats.len(),
        "no case categories: loading the example task list"
    );
    Ok(store.replace_categories(&cats)?)
}

/// Who the demo's cases and their events are recorded as.
const DEMO_CASES_BY: &str = "演示数据 (demo)";

/// One demo case: its source, how many hours ago it was reported, and its history as
/// `(action, hours after the report, note, target)`.
type DemoCase = (
    crate::cases::Source,
    i64,
    &'static [(&'static str, i64, &'static str, Option<&'static str>)],
);

/// The demo cases, one or more in every stage of the workflow (the grid target `@` is the case's
/// own grid).
const DEMO_CASES: &[DemoCase] = {
    use crate::cases::Source::{App, Hotline, Open311, Patrol};
    &[
        (Hotline, 1, &[]),
        (
            App,
            5,
            &[("reject", 1, "不属于城市管理范围（物业合同纠纷）", None)],
        ),
        (Hotline, 3, &[("accept", 1, "", None)]),
        (
            Open311,
            6,
            &[("accept", 1, "", None), ("verify", 3, "现场确认属实", None)],
        ),
        (Patrol, 8, &[("accept", 1, "", None), ("open", 2, "", None)]),
        (
            Patrol,
            30,
            &[
                ("accept", 1, "", None),
                ("open", 2, "", None),
                ("dispatch", 3, "", Some("@")),
            ],
        ),
        (
            Hotline,
            50,
            &[
                ("accept", 1, "", None),
                ("verify", 4, "现场确认：人行道破损约2平方米", None),
                ("open", 5, "", None),
                ("dispatch", 6, "", Some("区建设和管理委员会")),
                ("supervise", 20, "群众多次反映，区督办", None),
                ("request_extension", 30, "需协调施工队，申请延期", None),
            ],
        ),
        (
            Patrol,
            26,
            &[
                ("accept", 1, "", None),
                ("open", 1, "", None),
                ("dispatch", 2, "", Some("@")),
                ("dispose", 20, "已劝离占道摊贩", None),
            ],
        ),
        (
            Patrol,
            28,
            &[
                ("accept", 1, "", None),
                ("open", 1, "", None),
                ("dispatch", 2, "", Some("@")),
                ("dispose", 20, "已清理堆物", None),
                ("check", 24, "", None),
            ],
        ),
        (
            Hotline,
            120,
            &[
                ("accept", 1, "", None),
                ("verify", 3, "", None),
                ("open", 4, "", None),
                ("dispatch", 5, "", Some("区房屋管理局")),
                ("return", 24, "不属本单位职责", None),
                ("transfer", 25, "", Some("区绿化和市容管理局")),
                ("dispose", 70, "已清运建筑垃圾", None),
                ("rework", 74, "现场仍有残留", None),
                ("dispose", 96, "残留已清", None),
                ("check", 100, "", None),
                ("close", 101, "", None),
            ],
        ),
        (
            Patrol,
            72,
            &[
                ("accept", 1, "", None),
                ("open", 1, "", None),
                ("dispatch", 2, "", Some("@")),
                ("dispose", 6, "已督促店家整改", None),
                ("check", 8, "", None),
                ("close", 9, "", None),
            ],
        ),
        (
            Hotline,
            96,
            &[
                ("accept", 1, "", None),
                ("verify", 3, "", None),
                ("open", 4, "", None),
                ("dispatch", 5, "", Some("区规划和自然资源局")),
                ("hold", 30, "涉及旧区改造，待征收后处置", None),
            ],
        ),
        // the front-end limit (7 days) passed: escalated by the sweep when the server starts
        (
            Patrol,
            24 * 9,
            &[
                ("accept", 1, "", None),
                ("open", 1, "", None),
                ("dispatch", 2, "", Some("@")),
            ],
        ),
    ]
};

/// The demo's data beyond the district, in the order that keeps each step's "once only" check
/// true: the cases of every stage first (skipped when the store has any case, so they must come
/// before the asset demo's two cases), then components and shops, then the patrol day. Returns
/// (cases, (components, shops), fixes) made.
pub fn bootstrap_demo_data(
    store: &dyn Store,
    atlas: &crate::atlas::Atlas,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(usize, (usize, usize), usize)> {
    let cases = bootstrap_cases(store, atlas)?;
    let assets = bootstrap_assets(store, atlas, now)?;
    let fixes = bootstrap_field(store, atlas, now)?;
    Ok((cases, assets, fixes))
}

/// Loads demo cases in every stage of the workflow into a store that has none (for the demo
/// district's first start): reported over the last days on blocks of `atlas`, each taken
/// through its history by the operator, plus a duplicate voided against the first.
pub fn bootstrap_cases(store: &dyn Store, atlas: &crate::atlas::Atlas) -> Result<usize> {
    use crate::cases::CaseFilter;
    use crate::model::Layer;
    use crate::wire::cases::{CaseInput, EventInput};
    use geo::InteriorPoint;
    let (_, total) = store.list_cases(&CaseFilter {
        limit: 1,
        ..CaseFilter::default()
    })?;
    if total > 0 {
        return Ok(0);
    }
    let cats = store.categories()?;
    // blocks of grids, each with a category of its grid's layer
    let places: Vec<(f64, f64, String, String)> = atlas
        .features()
        .layer(Layer::Block)
        .filter_map(|b| {
            let grid = atlas.features().parent_of(b)?;
            let cat = cats
                .iter()
                .find(|c| c.layer == grid.layer && c.street.is_none())?;
            let p = b.geometry.as_area()?.interior_point()?;
            Some((p.x(), p.y(), grid.code.clone(), cat.code.clone()))
        })
        .step_by(7)
        .collect();
    if places.is_empty() {
        return Ok(0);
    }
    let caller = super::access::Caller::operator(DEMO_CASES_BY);
    let now = chrono::Utc::now();
    let options = crate::routing::RouteOptions::default();
    let registers = super::assets::Registers::load(store)?;
    let mut first = None;
    let mut n = 0;
    for (i, (source, hours_ago, history)) in DEMO_CASES.iter().enumerate() {
        let (x, y, grid, category) = &places[i % places.len()];
        let reported = now - chrono::Duration::hours(*hours_ago);
        let input = CaseInput {
            lon: *x,
            lat: *y,
            crs: None,
            category: category.clone(),
            description: "演示案件 (demo case)".into(),
            source: source.as_str().into(),
            reported_at: Some(reported.to_rfc3339()),
            photos: Vec::new(),
            at: None,
            component: None,
            address: None,
        };
        let checked = super::cases::check(input.clone(), now)?;
        let case =
            super::cases::submit(store, &caller, atlas, &registers, checked, None, &options)?.case;
        first.get_or_insert((case.id, input));
        for (action, after, note, target) in history.iter() {
            let at = (reported + chrono::Duration::hours(*after)).min(now);
            let mut ev = EventInput {
                action: (*action).into(),
                at: Some(at.to_rfc3339()),
                note: (!note.is_empty()).then(|| (*note).to_owned()),
                ..EventInput::default()
            };
            match target {
                Some("@") => ev.grid = Some(grid.clone()),
                Some(d) => ev.department = Some((*d).to_owned()),
                None => {}
            }
            match *action {
                "hold" => ev.until = Some((now + chrono::Duration::days(30)).to_rfc3339()),
                "request_extension" => ev.extend_by = Some("3 work_days".into()),
                _ => {}
            }
            super::cases::act(store, &caller, case.id, ev, now)?;
        }
        n += 1;
    }
    // a duplicate of the first case, reported at the same place, voided against it
    if let Some((id, mut input)) = first {
        input.reported_at = Some(now.to_rfc3339());
        let checked = super::cases::check(input, now)?;
        let dup =
            super::cases::submit(store, &caller, atlas, &registers, checked, None, &options)?.case;
        let ev = EventInput {
            action: "void".into(),
            note: Some("重复上报".into()),
            duplicate_of: Some(id),
            at: Some(now.to_rfc3339()),
            ..EventInput::default()
        };
        super::cases::act(store, &caller, dup.id, ev, now)?;
        n += 1;
    }
    tracing::info!(cases = n, "no cases: loading demo cases in every stage");
    Ok(n)
}

/// Who the demo's field data is recorded as.
const DEMO_FIELD_BY: &str = "gridatlas (demo patrols)";

/// The demo's field force (on a store with no staff): the example field settings, the roster
/// and duty of the synthetic patrol day (`crate::synth::patrols`) for yesterday and today, their
/// check-ins (each through [`super::field::check_in`], so place and class are the server's) and
/// their fixes (through [`super::field::ingest`]) — today's only up to `now`. Returns the
/// number of fixes stored.
pub fn bootstrap_field(
    store: &dyn Store,
    atlas: &crate::atlas::Atlas,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<usize> {
    use crate::store::Setting;
    if !store.staff(None)?.is_empty() {
        return Ok(0);
    }
    if store.setting(Setting::Field)?.is_none() {
        let s = crate::field::duty::FieldSettings::from_json(crate::field::duty::EXAMPLE)
            .map_err(|e| Error::internal(format!("the example field settings: {e}")))?;
        let text = serde_json::to_string(&s).map_err(Error::internal)?;
        store.replace_setting(Setting::Field, &text)?;
    }
    let (settings, _) = super::field::settings(store)?;
    let today = settings.local_date(now);
    let yesterday = today.pred_opt().unwrap_or(today);
    let caller = super::access::Caller::operator(DEMO_FIELD_BY);
    let mut fixes_stored = 0;
    for (i, date) in [yesterday, today].into_iter().enumerate() {
        let day =
            crate::synth::patrols::patrol_day(atlas.features(), &settings, date, 1 + i as u64);
        if i == 0 {
            store.replace_staff(None, &day.staff)?;
        }
        let ids: Vec<String> = day.staff.iter().map(|s| s.id.clone()).collect();
        store.replace_duty(date, date, &ids, &day.duty)?;
        for c in day.checkins.iter().filter(|c| c.t <= now) {
            let input = crate::wire::field::CheckInInput {
                staff: Some(c.staff.clone()),
                lon: c.lon,
                lat: c.lat,
                crs: None,
                accuracy_m: c.accuracy_m,
                t: Some(c.t),
                punch: Some(c.punch),
            };
            if let Err(e) = super::field::check_in(store, atlas, &caller, &input, now) {
                tracing::warn!(staff = %c.staff, error = %e.detail, "demo check-in refused");
            }
        }
        // in batches of about 100,000 fixes, so the first start stays small in memory
        let now_ms = now.timestamp_millis();
        let mut batch: Vec<(String, crate::field::Fix)> = Vec::new();
        for (i, t) in day.tracks.iter().enumerate() {
            batch.extend(
                t.fixes
                    .iter()
                    .filter(|f| f.t_ms <= now_ms)
                    .map(|f| (t.staff.clone(), *f)),
            );
            if batch.len() >= 100_000 || i + 1 == day.tracks.len() {
                let fixes = std::mem::take(&mut batch);
                fixes_stored += super::field::ingest(store, &caller, fixes, now)?.stored;
            }
        }
    }
    tracing::info!(
        fixes = fixes_stored,
        "no staff: loading the demo's field force"
    );
    Ok(fixes_stored)
}

/// The demo's registers, on a store that has none (first start with `--demo`): components and
/// shops synthesised along the demo's road segments ([`crate::synth::assets`]; those that fall
/// outside the district are left out), shops bound to the segment they face; frontage
/// inspections of the first shops (one shop escalated by its points); a missing manhole cover
/// reported next to a cover and dispatched as routed (owner-first, to the cover's owner
/// department) and a shop-front occupation reported at a shop and opened (counted on its
/// record). Returns the components and shops stored.
pub fn bootstrap_assets(
    store: &dyn Store,
    atlas: &crate::atlas::Atlas,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(usize, usize)> {
    use crate::assets::{Inspection, InspectionItem};
    use crate::model::Layer;
    use crate::wire::cases::{CaseInput, EventInput};
    if store.component_count()? > 0 || atlas.features().is_empty() {
        return Ok((0, 0));
    }
    let today = (now + chrono::Duration::hours(8)).date_naive();
    let (mut components, mut shops) = crate::synth::assets::assets(atlas.features(), 1, today);
    let inside = |lon: f64, lat: f64| atlas.locate(lon, lat)[0].is_some();
    components.retain(|c| inside(c.lon, c.lat));
    shops.retain(|s| {
        let (lon, lat) = crate::assets::binding::anchor(&s.geometry);
        inside(lon, lat)
    });
    let caller = super::access::Caller::operator(DEMO_CASES_BY);
    let n_components =
        super::assets::import_components(store, atlas, &caller, components, true)?.stored;
    let n_shops = super::assets::import_shops(store, atlas, &caller, shops, true)?.stored;
    let registers = super::assets::Registers::load(store)?;
    let bound: Vec<crate::assets::Shop> = store
        .shops(&crate::store::ShopQuery {
            limit: Some(40),
            ..Default::default()
        })?
        .into_iter()
        .filter(|s| s.frontage.is_some())
        .collect();
    // inspections: three items each; the first shop fails all three four times (12 points:
    // escalated), every fifth shop fails one
    let items = ["门前无乱堆物", "无跨门营业", "门前环境整洁"];
    for (i, shop) in bound.iter().enumerate() {
        let rounds = if i == 0 { 4 } else { 1 };
        for r in 0..rounds {
            let inspection = Inspection {
                id: 0,
                shop: shop.id.clone(),
                date: today - chrono::Duration::days(7 * (rounds - r)),
                inspector: "演示巡查员".into(),
                items: items
                    .iter()
                    .enumerate()
                    .map(|(k, item)| InspectionItem {
                        item: (*item).into(),
                        passed: !(i == 0 || (i % 5 == 0 && k == 0)),
                        note: None,
                    })
                    .collect(),
                photos: Vec::new(),
            };
            super::assets::inspect(store, atlas, &caller, inspection, now)?;
        }
    }
    let options = crate::routing::RouteOptions::default();
    let report = |category: &str, (lon, lat): (f64, f64), description: &str| -> Result<i64> {
        let input = CaseInput {
            lon,
            lat,
            crs: None,
            category: category.into(),
            description: description.into(),
            source: "patrol".into(),
            reported_at: Some((now - chrono::Duration::hours(3)).to_rfc3339()),
            photos: Vec::new(),
            at: None,
            component: None,
            address: None,
        };
        let checked = super::cases::check(input, now)?;
        Ok(
            super::cases::submit(store, &caller, atlas, &registers, checked, None, &options)?
                .case
                .id,
        )
    };
    let act = |id: i64, action: &str, hours_ago: i64| -> Result<()> {
        let ev = EventInput {
            action: action.into(),
            at: Some((now - chrono::Duration::hours(hours_ago)).to_rfc3339()),
            ..EventInput::default()
        };
        super::cases::act(store, &caller, id, ev, now).map(|_| ())
    };
    // a manhole cover of a street grid, and the case reported 2 m from it
    let cover = store
        .components(&crate::store::ComponentQuery {
            subclass: Some("0101"),
            limit: Some(200),
            ..Default::default()
        })?
        .into_iter()
        .find(|c| {
            atlas.locate(c.lon, c.lat)[2]
                .is_some_and(|g| atlas.feature(g).layer == Layer::StreetGrid)
        });
    if let Some(c) = cover {
        let at = (c.lon + 2.0 / (111_320.0 * c.lat.to_radians().cos()), c.lat);
        let id = report(
            "SG0202",
            at,
            "演示: 窨井盖缺失 (demo: missing manhole cover)",
        )?;
        for (action, h) in [("accept", 3), ("open", 2), ("dispatch", 2)] {
            act(id, action, h)?;
        }
    }
    if let Some(shop) = bound.get(1) {
        let (lon, lat) = crate::assets::binding::anchor(&shop.geometry);
        let id = report(
            "SG0102",
            (lon, lat + 3.0 / 111_320.0),
            "演示: 跨门营业 (demo: shop-front occupation)",
        )?;
        for (action, h) in [("accept", 3), ("open", 2), ("dispatch", 1)] {
            act(id, action, h)?;
        }
    }
    Ok((n_components, n_shops))
}
