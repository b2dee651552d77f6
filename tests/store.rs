//! The store's integration suite, run for real against both backends: every case below runs once
//! on a fresh SQLite file (`sqlite::…`) and once on a fresh PostGIS database (`postgis::…`) cloned
//! from `gridatlas_template` (see scripts/ensure-postgis.sh).
//!
//! PostGIS is found through `GRIDATLAS_TEST_PG` (a base URL such as
//! `postgres://gridatlas:gridatlas@localhost:5432`, as printed by scripts/ensure-postgis.sh).
//! Unset: with `CI=true` every PostGIS case fails; otherwise each prints a loud skip notice.

use chrono::Utc;
use geo::{Coord, LineString, MultiLineString, MultiPolygon, Polygon};
use gridatlas::cli::store as cli;
use gridatlas::geometry::measure::area_m2;
use gridatlas::model::{Feature, FeatureSet, Geometry, Kind, Layer, Person, Role};
use gridatlas::store::{
    self, ChangeKind, NewDraft, Store, StoreError, Subject, canonical, draft_as_whole,
};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Feature sets built in code

const LON0: f64 = 121.30;
const LAT0: f64 = 30.70;
/// Street width in degrees (streets sit side by side along longitude).
const STREET_W: f64 = 0.02;
const STREET_H: f64 = 0.02;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    let c = |x, y| Coord { x, y };
    MultiPolygon(vec![Polygon::new(
        LineString(vec![c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1), c(x0, y0)]),
        vec![],
    )])
}

fn feature(
    layer: Layer,
    code: String,
    parent: Option<String>,
    geometry: Geometry,
    rev: u32,
) -> Feature {
    let kind = match layer {
        Layer::Street => Some(Kind::Town),
        Layer::ResidentGrid => Some(Kind::Residents),
        _ => None,
    };
    let people = if layer == Layer::Block {
        vec![Person {
            role: Role::BlockHead,
            name: format!("块长{code}"),
            phone: Some("021-5555".into()),
            photo_url: None,
            staff_id: None,
        }]
    } else {
        Vec::new()
    };
    let mut attributes = serde_json::Map::new();
    attributes.insert("rev".into(), serde_json::json!(rev));
    attributes.insert("note".into(), serde_json::json!("测试"));
    Feature {
        layer,
        name: format!("{} {code}", layer.name_zh()),
        code,
        parent,
        kind,
        people,
        attributes,
        geometry,
    }
}

fn street_code(s: usize) -> String {
    format!("310116{:03}", 101 + s)
}

/// One street's features: the street, `grids` resident grids (vertical strips), `blocks` blocks
/// per grid (horizontal slices) and one road segment per grid. `rev` goes into every block's
/// attributes, so two revisions differ in every block.
fn street_features(s: usize, grids: usize, blocks: usize, rev: u32) -> Vec<Feature> {
    let x0 = LON0 + s as f64 * STREET_W;
    let sc = street_code(s);
    let mut out = vec![feature(
        Layer::Street,
        sc.clone(),
        None,
        Geometry::Area(rect(x0, LAT0, x0 + STREET_W, LAT0 + STREET_H)),
        0,
    )];
    let gw = STREET_W / grids as f64;
    let bh = STREET_H / blocks as f64;
    for g in 0..grids {
        let gx = x0 + g as f64 * gw;
        let gc = format!("{sc}{:03}", g + 1);
        out.push(feature(
            Layer::ResidentGrid,
            gc.clone(),
            Some(sc.clone()),
            Geometry::Area(rect(gx, LAT0, gx + gw, LAT0 + STREET_H)),
            0,
        ));
        for b in 0..blocks {
            let by = LAT0 + b as f64 * bh;
            out.push(feature(
                Layer::Block,
                format!("{gc}B{:03}", b + 1),
                Some(gc.clone()),
                Geometry::Area(rect(gx, by, gx + gw, by + bh)),
                rev,
            ));
        }
        out.push(feature(
            Layer::RoadSegment,
            format!("{gc}R01"),
            Some(format!("{gc}B001")),
            Geometry::Line(MultiLineString(vec![LineString(vec![
                Coord {
                    x: gx + gw * 0.1,
                    y: LAT0 + bh * 0.5,
                },
                Coord {
                    x: gx + gw * 0.9,
                    y: LAT0 + bh * 0.5,
                },
            ])])),
            0,
        ));
    }
    out
}

fn territory(streets: usize, grids: usize, blocks: usize, rev: u32) -> FeatureSet {
    let features = (0..streets)
        .flat_map(|s| street_features(s, grids, blocks, rev))
        .collect();
    FeatureSet::new(features, Vec::new()).expect("unique codes")
}

fn small() -> FeatureSet {
    territory(3, 2, 3, 1)
}

fn new_draft<'a>(set: &'a FeatureSet, errors: usize, by: &'a str) -> NewDraft<'a> {
    NewDraft {
        features: set,
        covered_streets: None,
        report: serde_json::json!({"errors": errors}),
        error_count: errors,
        created_by: by,
    }
}

fn publish_set(store: &dyn Store, set: &FeatureSet, by: &str) -> i32 {
    let id = store.create_draft(new_draft(set, 0, by)).expect("draft");
    store.publish(id, by, None).expect("publish").number
}

// ---------------------------------------------------------------------------------------------
// One database per test: tests/support/db.rs

#[macro_use]
#[path = "support/db.rs"]
mod db;
use db::TestDb;

suite!(
    draft_publish_load_is_identical,
    publish_refused_with_errors_allowed_with_reason,
    partial_draft_replaces_only_its_streets,
    generations_list_change_counts,
    generation_at_timestamp,
    diff_reports_area_changed_hands,
    export_import_round_trip_is_identical,
    concurrent_publish_conflicts,
    tokens_store_only_hashes,
    kill_9_during_publish_leaves_old_or_new,
    watch_sees_publish_from_another_process_within_1s,
    cli_imports_one_street_with_or_without_the_district,
    tokens_expire_and_record_their_last_use,
    old_unpublished_drafts_are_purged,
);

// ---------------------------------------------------------------------------------------------
// The cases

fn draft_publish_load_is_identical(db: &TestDb) {
    let store = db.open();
    assert!(store.current_generation().expect("current").is_none());
    let set = small();
    let id = store
        .create_draft(new_draft(&set, 0, "alice"))
        .expect("draft");
    let draft = store.get_draft(id).expect("get draft");
    assert_eq!(draft.features, set, "a draft reads back as uploaded");
    assert_eq!(draft.info.base_generation, 0);
    assert_eq!(draft.info.published_generation, None);
    assert_eq!(store.list_drafts().expect("list")[0].id, id);

    let g = store.publish(id, "alice", None).expect("publish");
    assert_eq!(g.number, 1);
    assert_eq!(g.created_by, "alice");
    assert_eq!(g.feature_count, set.len());
    let loaded = store.load_generation(1).expect("load");
    assert_eq!(loaded, canonical(&set));
    // A second open (another process, a restart) sees the same.
    drop(store);
    let store = db.open();
    assert_eq!(store.load_generation(1).expect("load"), canonical(&set));
    assert_eq!(
        store
            .get_draft(id)
            .expect("draft")
            .info
            .published_generation,
        Some(1)
    );
    // A draft is published at most once.
    assert!(matches!(
        store.publish(id, "alice", None),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.load_generation(2),
        Err(StoreError::NotFound(_))
    ));
}

fn publish_refused_with_errors_allowed_with_reason(db: &TestDb) {
    let store = db.open();
    let set = small();
    let id = store
        .create_draft(new_draft(&set, 3, "bob"))
        .expect("draft");
    match store.publish(id, "bob", None) {
        Err(StoreError::PublishRefused { errors }) => assert_eq!(errors, 3),
        other => panic!("expected refusal, got {other:?}"),
    }
    assert!(matches!(
        store.publish(id, "bob", Some("   ")),
        Err(StoreError::PublishRefused { .. })
    ));
    assert!(store.current_generation().expect("current").is_none());
    let g = store
        .publish(
            id,
            "admin",
            Some("gap accepted until the survey of 2026-12"),
        )
        .expect("override");
    assert_eq!(g.number, 1);
    let listed = store.generations().expect("generations");
    assert_eq!(
        listed[0].override_reason.as_deref(),
        Some("gap accepted until the survey of 2026-12")
    );
    assert_eq!(listed[0].error_count, 3);
    assert_eq!(listed[0].created_by, "admin");
}

fn partial_draft_replaces_only_its_streets(db: &TestDb) {
    let store = db.open();
    let v1 = territory(3, 2, 3, 1);
    publish_set(store.as_ref(), &v1, "alice");

    // Street 1 re-uploaded: every block revised, one block gone.
    let s1 = street_code(1);
    let mut upload: Vec<Feature> = street_features(1, 2, 3, 2);
    let gone = format!("{s1}001B003");
    upload.retain(|f| f.code != gone);
    let upload = FeatureSet::new(upload, Vec::new()).expect("set");
    let id = store
        .create_draft(NewDraft {
            features: &upload,
            covered_streets: Some(vec![s1.clone()]),
            report: serde_json::json!({}),
            error_count: 0,
            created_by: "carol",
        })
        .expect("draft");

    let whole = store.draft_as_whole(id).expect("whole");
    let expected = draft_as_whole(&v1, &upload, Some(std::slice::from_ref(&s1))).expect("merge");
    assert_eq!(canonical(&whole), canonical(&expected));
    assert!(whole.get(&gone).is_none());
    assert_eq!(whole.len(), v1.len() - 1);
    // Other streets untouched.
    for f in v1.features() {
        if !f.code.starts_with(&s1) {
            assert_eq!(whole.get(&f.code), Some(f));
        }
    }

    let g = store.publish(id, "carol", None).expect("publish");
    assert_eq!(g.number, 2);
    assert_eq!(
        store.load_generation(2).expect("load"),
        canonical(&expected)
    );
    assert_eq!(store.load_generation(1).expect("load"), canonical(&v1));
    let blocks = g.changes[&Subject::Layer(Layer::Block)];
    assert_eq!((blocks.added, blocks.removed, blocks.changed), (0, 1, 5));
    assert!(!g.changes.contains_key(&Subject::Layer(Layer::Street)));
    let diff = store.diff(1, 2).expect("diff");
    assert!(diff.iter().all(|c| c.code.starts_with(&s1)), "{diff:?}");
    assert_eq!(diff.len(), 6);
}

fn generations_list_change_counts(db: &TestDb) {
    let store = db.open();
    let v1 = territory(2, 2, 2, 1);
    publish_set(store.as_ref(), &v1, "alice");
    // v2: one street more, one block revised.
    let mut f2: Vec<Feature> = territory(3, 2, 2, 1).into_parts().0;
    let revised = format!("{}001B001", street_code(0));
    for f in &mut f2 {
        if f.code == revised {
            f.name = "renamed".into();
        }
    }
    let v2 = FeatureSet::new(f2, Vec::new()).expect("set");
    publish_set(store.as_ref(), &v2, "bob");
    let gens = store.generations().expect("generations");
    assert_eq!(gens.len(), 2);
    assert_eq!(gens[0].created_by, "alice");
    assert_eq!(gens[1].created_by, "bob");
    let c1 = &gens[0].changes;
    assert_eq!(c1[&Subject::Layer(Layer::Street)].added, 2);
    assert_eq!(c1[&Subject::Layer(Layer::ResidentGrid)].added, 4);
    assert_eq!(c1[&Subject::Layer(Layer::Block)].added, 8);
    assert_eq!(c1[&Subject::Layer(Layer::RoadSegment)].added, 4);
    let c2 = &gens[1].changes;
    assert_eq!(c2[&Subject::Layer(Layer::Street)].added, 1);
    assert_eq!(c2[&Subject::Layer(Layer::Block)].added, 4);
    assert_eq!(c2[&Subject::Layer(Layer::Block)].changed, 1);
    assert_eq!(c2[&Subject::Layer(Layer::Block)].removed, 0);
    assert_eq!(
        store
            .current_generation()
            .expect("current")
            .map(|g| g.number),
        Some(2)
    );

    // The CLI's listing shows who and what changed.
    let mut out = Vec::new();
    cli::generations(
        &cli::GenerationsArgs {
            json: false,
            db: cli::DatabaseArgs {
                database: db.url.clone(),
            },
        },
        &mut out,
    )
    .expect("cli generations");
    let text = String::from_utf8(out).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].contains("bob") && lines[1].contains("block +4 -0 ~1"),
        "{text}"
    );
}

fn generation_at_timestamp(db: &TestDb) {
    let store = db.open();
    let before = Utc::now();
    std::thread::sleep(Duration::from_millis(30));
    publish_set(store.as_ref(), &territory(1, 1, 2, 1), "alice");
    std::thread::sleep(Duration::from_millis(30));
    let between = Utc::now();
    std::thread::sleep(Duration::from_millis(30));
    publish_set(store.as_ref(), &territory(1, 1, 2, 2), "alice");
    let after = Utc::now();
    assert_eq!(store.generation_at(before).expect("at"), None);
    assert_eq!(
        store.generation_at(between).expect("at").map(|g| g.number),
        Some(1)
    );
    assert_eq!(
        store.generation_at(after).expect("at").map(|g| g.number),
        Some(2)
    );
    // The CLI takes an RFC 3339 instant with an offset (e.g. +08:00).
    let at = between
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("offset"))
        .to_rfc3339();
    let mut out = Vec::new();
    cli::export(
        &cli::ExportArgs {
            generation: None,
            at: Some(at.parse().expect("rfc3339")),
            draft: None,
            from: None,
            from_crs: None,
            from_encoding: None,
            from_mapping: None,
            format: gridatlas::geo_io::export::Format::GeoJson,
            crs: None,
            encoding: gridatlas::geo_io::export::Encoding::Gbk,
            output: None,
            db: cli::DatabaseArgs {
                database: db.url.clone(),
            },
        },
        &mut out,
    )
    .expect("export --at");
    let text = String::from_utf8(out).expect("utf8");
    assert!(text.contains("\"rev\":1") && !text.contains("\"rev\":2"));
}

fn diff_reports_area_changed_hands(db: &TestDb) {
    let store = db.open();
    let v1 = territory(1, 2, 2, 1);
    publish_set(store.as_ref(), &v1, "alice");
    // Move the boundary between the two blocks of grid 1: block 1 grows by a strip, block 2
    // shrinks by the same strip.
    let g1 = format!("{}001", street_code(0));
    let (b1, b2) = (format!("{g1}B001"), format!("{g1}B002"));
    let gw = STREET_W / 2.0;
    let bh = STREET_H / 2.0;
    let shift = bh * 0.25;
    let mid = LAT0 + bh;
    let mut f2 = v1.features().to_vec();
    for f in &mut f2 {
        if f.code == b1 {
            f.geometry = Geometry::Area(rect(LON0, LAT0, LON0 + gw, mid + shift));
        } else if f.code == b2 {
            f.geometry = Geometry::Area(rect(LON0, mid + shift, LON0 + gw, LAT0 + STREET_H));
        }
    }
    let removed_code = format!("{}002B002", street_code(0));
    f2.retain(|f| f.code != removed_code);
    let v2 = FeatureSet::new(f2, Vec::new()).expect("set");
    publish_set(store.as_ref(), &v2, "alice");

    let strip = area_m2(&rect(LON0, mid, LON0 + gw, mid + shift));
    let diff = store.diff(1, 2).expect("diff");
    assert_eq!(diff.len(), 3, "{diff:?}");
    let by_code = |c: &str| diff.iter().find(|d| d.code == c).expect("in diff");
    let d1 = by_code(&b1);
    assert_eq!(d1.change, ChangeKind::Changed);
    assert_eq!(d1.fields, vec!["geometry"]);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * b.max(1.0) + 0.01;
    assert!(
        close(d1.gained_m2.expect("area"), strip),
        "{d1:?} vs {strip}"
    );
    assert!(close(d1.lost_m2.expect("area"), 0.0));
    let d2 = by_code(&b2);
    assert!(close(d2.lost_m2.expect("area"), strip), "{d2:?}");
    assert!(close(d2.changed_hands_m2(), strip));
    let d3 = by_code(&removed_code);
    assert_eq!(d3.change, ChangeKind::Removed);
    assert!(close(
        d3.lost_m2.expect("area"),
        area_m2(
            v1.get(&removed_code)
                .expect("f")
                .geometry
                .as_area()
                .expect("area")
        )
    ));
    assert!(strip > 1000.0, "the strip is a real area: {strip} m²");

    // The CLI prints the same, one line per area.
    let mut out = Vec::new();
    cli::diff(
        &cli::DiffArgs {
            a: 1,
            b: 2,
            json: true,
            db: cli::DatabaseArgs {
                database: db.url.clone(),
            },
        },
        &mut out,
    )
    .expect("cli diff");
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines
            .iter()
            .all(|l| l["changed_hands_m2"].as_f64().is_some())
    );
}

fn export_import_round_trip_is_identical(db: &TestDb) {
    let store = db.open();
    let v1 = territory(2, 2, 3, 1);
    publish_set(store.as_ref(), &v1, "alice");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("export.geojson");
    let mut out = Vec::new();
    cli::export(
        &cli::ExportArgs {
            generation: Some(1),
            at: None,
            draft: None,
            from: None,
            from_crs: None,
            from_encoding: None,
            from_mapping: None,
            format: gridatlas::geo_io::export::Format::GeoJson,
            crs: None,
            encoding: gridatlas::geo_io::export::Encoding::Gbk,
            output: None,
            db: cli::DatabaseArgs {
                database: db.url.clone(),
            },
        },
        &mut out,
    )
    .expect("export");
    std::fs::write(&path, &out).expect("write");
    let mut line = Vec::new();
    cli::import(
        &cli::ImportArgs {
            file: path,
            input: Default::default(),
            streets: None,
            by: "alice".into(),
            db: cli::DatabaseArgs {
                database: db.url.clone(),
            },
        },
        &mut line,
    )
    .expect("import of an export");
    let line: serde_json::Value = serde_json::from_slice(&line).expect("json");
    let draft = line["draft"].as_i64().expect("draft id");
    // The draft exports too, as a Shapefile .zip and a GeoPackage in a Gauss-Kruger zone.
    use gridatlas::geo_io::export::{Encoding, Format};
    for (format, magic) in [
        (Format::Shapefile, &b"PK\x03\x04"[..]),
        (Format::GeoPackage, &b"SQLite format 3\0"[..]),
    ] {
        let mut out = Vec::new();
        cli::export(
            &cli::ExportArgs {
                generation: None,
                at: None,
                draft: Some(draft),
                from: None,
                from_crs: None,
                from_encoding: None,
                from_mapping: None,
                format,
                crs: Some(gridatlas::geo_io::crs::FileCrs::from_epsg(4549).expect("4549")),
                encoding: Encoding::Utf8,
                output: None,
                db: cli::DatabaseArgs {
                    database: db.url.clone(),
                },
            },
            &mut out,
        )
        .expect("export of a draft");
        assert!(out.starts_with(magic), "{format:?}");
        if format == Format::Shapefile {
            let zip = zip::ZipArchive::new(std::io::Cursor::new(out)).expect("zip");
            let names: Vec<&str> = zip.file_names().collect();
            for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
                assert!(
                    names.contains(&format!("street.{ext}").as_str()),
                    "{names:?}"
                );
            }
        }
    }
    let g = store.publish(draft, "alice", None).expect("publish");
    assert_eq!(g.number, 2);
    assert!(g.changes.is_empty(), "nothing changed: {:?}", g.changes);
    assert_eq!(
        store.load_generation(2).expect("load"),
        store.load_generation(1).expect("load")
    );
    assert!(store.diff(1, 2).expect("diff").is_empty());
}

fn concurrent_publish_conflicts(db: &TestDb) {
    let store = db.open();
    publish_set(store.as_ref(), &territory(2, 2, 3, 1), "alice");
    let a = territory(2, 2, 3, 2);
    let b = territory(2, 2, 3, 3);
    let da = store.create_draft(new_draft(&a, 0, "a")).expect("draft a");
    let db_ = store.create_draft(new_draft(&b, 0, "b")).expect("draft b");
    // Two processes' worth of stores publishing at once: exactly one wins.
    let results: Vec<Result<i32, StoreError>> = std::thread::scope(|s| {
        let handles: Vec<_> = [da, db_]
            .into_iter()
            .map(|id| {
                let url = db.url.clone();
                s.spawn(move || {
                    let st = store::open(&url).expect("open");
                    st.publish(id, "racer", None).map(|g| g.number)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let ok: Vec<_> = results.iter().filter(|r| r.is_ok()).collect();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
        .count();
    assert_eq!((ok.len(), conflicts), (1, 1), "{results:?}");
    assert_eq!(
        store
            .current_generation()
            .expect("current")
            .map(|g| g.number),
        Some(2)
    );
    // The loser is stale: it was made on generation 1.
    let loser = if results[0].is_ok() { db_ } else { da };
    assert!(matches!(
        store.publish(loser, "racer", None),
        Err(StoreError::Conflict(_))
    ));
    let winner_set = if results[0].is_ok() { &a } else { &b };
    assert_eq!(
        store.load_generation(2).expect("load"),
        canonical(winner_set)
    );
}

fn tokens_store_only_hashes(db: &TestDb) {
    let store = db.open();
    let id = store
        .create_token("planner", &[street_code(0)], "s3cret-token")
        .expect("token");
    let t = store
        .token_by_secret("s3cret-token")
        .expect("lookup")
        .expect("found");
    assert_eq!((t.id, t.role.as_str(), t.revoked), (id, "planner", false));
    assert_eq!(t.streets, vec![street_code(0)]);
    assert!(store.token_by_secret("wrong").expect("lookup").is_none());
    store.revoke_token(id).expect("revoke");
    assert!(store.list_tokens().expect("list")[0].revoked);
    assert!(matches!(
        store.revoke_token(id + 100),
        Err(StoreError::NotFound(_))
    ));
}

fn tokens_expire_and_record_their_last_use(db: &TestDb) {
    let store = db.open();
    let now = Utc::now();
    let until = now + chrono::Duration::days(90);
    let id = store
        .create_token_until("intake", &[], "expiring", Some(until))
        .expect("token");
    let t = store
        .token_by_secret("expiring")
        .expect("lookup")
        .expect("found");
    let stored = t.expires_at.expect("expiry");
    assert!(
        (stored - until).num_milliseconds().abs() < 1000,
        "{stored} vs {until}"
    );
    assert!(!t.expired(now));
    assert!(t.expired(until + chrono::Duration::seconds(1)));
    assert_eq!(t.last_used_at, None);
    store.touch_token(id, now).expect("touch");
    let used = |store: &dyn Store| {
        store.list_tokens().expect("list")[0]
            .last_used_at
            .expect("last use")
    };
    assert!((used(store.as_ref()) - now).num_milliseconds().abs() < 1000);
    // Within the minute: not written again.
    store
        .touch_token(id, now + chrono::Duration::seconds(30))
        .expect("touch");
    assert!((used(store.as_ref()) - now).num_milliseconds().abs() < 1000);
    let later = now + chrono::Duration::seconds(61);
    store.touch_token(id, later).expect("touch");
    assert!((used(store.as_ref()) - later).num_milliseconds().abs() < 1000);
    let never = store.create_token("admin", &[], "forever").expect("token");
    let t = store
        .token_by_secret("forever")
        .expect("lookup")
        .expect("found");
    assert_eq!((t.id, t.expires_at), (never, None));
    // Several uses in one transaction: each written when its stored use is a minute older;
    // an unknown id changes nothing.
    let much_later = later + chrono::Duration::seconds(120);
    store
        .touch_tokens(&[
            (id, later + chrono::Duration::seconds(10)),
            (never, much_later),
            (i64::MAX, much_later),
        ])
        .expect("touch several");
    let by_id = |id: i64| {
        store
            .list_tokens()
            .expect("list")
            .into_iter()
            .find(|t| t.id == id)
            .and_then(|t| t.last_used_at)
    };
    assert!((by_id(id).expect("used") - later).num_milliseconds().abs() < 1000);
    assert!(
        (by_id(never).expect("used") - much_later)
            .num_milliseconds()
            .abs()
            < 1000
    );
}

fn old_unpublished_drafts_are_purged(db: &TestDb) {
    let store = db.open();
    let set = territory(1, 2, 2, 1);
    let published = store
        .create_draft(new_draft(&set, 0, "alice"))
        .expect("draft");
    store.publish(published, "alice", None).expect("publish");
    let pending = store
        .create_draft(new_draft(&set, 1, "bob"))
        .expect("draft");
    // Nothing is older than an hour ago.
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    assert_eq!(store.purge_drafts(hour_ago).expect("purge"), 0);
    assert!(store.get_draft(pending).is_ok());
    // Everything is older than a minute from now: only the unpublished draft goes.
    let soon = Utc::now() + chrono::Duration::minutes(1);
    assert_eq!(store.purge_drafts(soon).expect("purge"), 1);
    assert!(matches!(
        store.get_draft(pending),
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .get_draft(published)
            .expect("kept")
            .info
            .published_generation,
        Some(1)
    );
    assert_eq!(
        store.load_generation(1).expect("generation"),
        canonical(&set)
    );
}

/// Runs the real binary.
fn gridatlas() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gridatlas"))
}

fn kill_9_during_publish_leaves_old_or_new(db: &TestDb) {
    const KILLS: usize = 20;
    // A few thousand features: 4 streets × 10 grids × 70 blocks.
    let revs: Vec<FeatureSet> = (1..=2).map(|r| territory(4, 10, 70, r)).collect();
    assert!(revs[0].len() > 2800);
    let store = db.open();
    publish_set(store.as_ref(), &revs[0], "seed");
    let mut current = 1;

    // Time one publish through the binary, to spread the kills over its whole run.
    let next = &revs[1];
    let id = store.create_draft(new_draft(next, 0, "t")).expect("draft");
    let t0 = Instant::now();
    let status = gridatlas()
        .args(["publish", &id.to_string(), "--database", &db.url])
        .stdout(Stdio::null())
        .status()
        .expect("run publish");
    let full = t0.elapsed();
    assert!(status.success());
    current += 1;
    let mut current_set = {
        let loaded = store.load_generation(current).expect("load");
        assert_eq!(loaded, canonical(next));
        loaded
    };
    drop(store);

    let seed = u64::from(Utc::now().timestamp_subsec_nanos());
    eprintln!("kill -9 test: one publish takes {full:?}; seed {seed}");
    let mut rng = seed;
    let mut outcomes = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..KILLS {
        assert!(Instant::now() < deadline, "kill test too slow at round {i}");
        let store = db.open();
        let next = &revs[(current as usize) % 2];
        let id = store.create_draft(new_draft(next, 0, "k")).expect("draft");
        drop(store);
        // xorshift: a delay anywhere from 0 to 120 % of a full publish.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let delay = full.mul_f64((rng % 1200) as f64 / 1000.0);
        let mut child = gridatlas()
            .args(["publish", &id.to_string(), "--database", &db.url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn publish");
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; fails only if it already exited
        let _ = child.wait();

        let store = db.open();
        let g = store
            .current_generation()
            .expect("current after kill")
            .expect("some generation")
            .number;
        let draft = store.get_draft(id).expect("the draft survives");
        assert_eq!(draft.features, *next, "draft intact");
        let loaded = store.load_generation(g).expect("load after kill");
        if g == current {
            assert_eq!(loaded, current_set, "round {i}: old generation intact");
            assert_eq!(draft.info.published_generation, None);
            outcomes.0 += 1;
        } else {
            assert_eq!(g, current + 1, "round {i}");
            assert_eq!(
                loaded,
                canonical(next),
                "round {i}: new generation complete"
            );
            assert_eq!(draft.info.published_generation, Some(g));
            // The previous generation is still readable, unchanged.
            assert_eq!(store.load_generation(current).expect("old"), current_set);
            current = g;
            current_set = loaded;
            outcomes.1 += 1;
        }
    }
    eprintln!(
        "kill -9 test: {} rounds kept the old generation, {} the new one",
        outcomes.0, outcomes.1
    );
}

fn watch_sees_publish_from_another_process_within_1s(db: &TestDb) {
    let store = db.open();
    publish_set(store.as_ref(), &territory(1, 1, 2, 1), "alice");
    let id = store
        .create_draft(new_draft(&territory(1, 1, 2, 2), 0, "bob"))
        .expect("draft");
    drop(store);

    let mut watcher = gridatlas()
        .args(["watch", "--count", "1", "--database", &db.url])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let stderr = watcher.stderr.take().expect("stderr");
    let stdout = watcher.stdout.take().expect("stdout");
    let mut err_lines = BufReader::new(stderr).lines();
    let ready = err_lines.next().expect("a ready line").expect("read");
    assert!(ready.starts_with("watching"), "{ready}");

    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = tx.send((Instant::now(), line));
        }
    });

    let started = Instant::now();
    let status = gridatlas()
        .args(["publish", &id.to_string(), "--database", &db.url])
        .stdout(Stdio::null())
        .status()
        .expect("publish");
    let published = Instant::now();
    assert!(status.success());
    let (arrived, line) = rx
        .recv_timeout(Duration::from_secs(3))
        .expect("the watcher printed the new generation");
    let line: serde_json::Value = serde_json::from_str(&line.expect("line")).expect("json");
    assert_eq!(line["generation"], 2);
    let latency = arrived.saturating_duration_since(published);
    assert!(
        latency < Duration::from_secs(1),
        "new generation seen after {latency:?}"
    );
    eprintln!(
        "watch latency: {latency:?} after the publishing process exited ({:?} after it started)",
        arrived.saturating_duration_since(started)
    );
    let _ = watcher.kill();
    let _ = watcher.wait();
}

// ---------------------------------------------------------------------------------------------
// SQLite only: another process on the same file, damaged files

/// While a store is open its process holds SQLite's shared lock on the file. Another process
/// that reads the file and closes must not find itself the last connection: it would checkpoint
/// and delete the WAL under the open store, and the store's next reads and writes would find
/// the database malformed. (The store once opened and closed the file itself after its pool was
/// up, which released all of the process's locks on it.)
#[test]
fn another_process_reading_leaves_an_open_sqlite_store_whole() {
    let db = TestDb::sqlite();
    let store = db.open();
    publish_set(store.as_ref(), &territory(2, 4, 30, 1), "alice");
    // a second store on the same file in this process (as a watcher or a test opens one)
    let second = db.open();
    assert_eq!(
        second.current_generation().expect("read").map(|g| g.number),
        Some(1)
    );
    let wal = format!("{}-wal", db.url);
    for round in 0..3 {
        // the other process: SQLite as Python ships it (it checkpoints and deletes the WAL when
        // it closes as the last connection of the file)
        let out = Command::new("python3")
            .args([
                "-c",
                "import sqlite3, sys\n\
                 c = sqlite3.connect(sys.argv[1])\n\
                 print(c.execute('SELECT COUNT(*) FROM generations').fetchone()[0])\n\
                 c.close()",
                &db.url,
            ])
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            (round + 1).to_string()
        );
        assert!(
            std::path::Path::new(&wal).exists(),
            "round {round}: the other process deleted the WAL of the open store"
        );
        publish_set(store.as_ref(), &territory(2, 4, 30, round + 2), "bob");
        store.load_generation(round as i32 + 2).expect("reads back");
    }
    drop(second);
}

#[test]
fn corrupt_or_truncated_sqlite_file_is_a_clear_error() {
    let db = TestDb::sqlite();
    {
        let store = db.open();
        publish_set(store.as_ref(), &territory(2, 4, 30, 1), "alice");
    }
    let path = std::path::PathBuf::from(&db.url);
    let bytes = std::fs::read(&path).expect("read db");
    assert!(
        bytes.len() > 16 * 4096,
        "a real database: {} bytes",
        bytes.len()
    );

    let expect_corrupt = |what: &str| {
        match store::open(&db.url) {
            Err(StoreError::Corrupt { path, detail }) => {
                eprintln!("{what}: Corrupt {{ {path}: {detail} }}");
            }
            Err(e) => panic!("{what}: expected Corrupt, got {e}"),
            Ok(s) => {
                // Damage past the pages read at open must show when the data is read.
                match s.load_generation(1) {
                    Err(StoreError::Corrupt { .. }) => {}
                    other => panic!("{what}: expected Corrupt on load, got {other:?}"),
                }
            }
        }
        // The binary says so too, without panicking.
        let out = gridatlas()
            .args(["generations", "--database", &db.url])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}");
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    };

    // Truncated to half.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("truncate");
    expect_corrupt("truncated");
    // Garbage over the header.
    let mut garbage = bytes.clone();
    garbage[..4096].fill(0x5a);
    std::fs::write(&path, &garbage).expect("garbage");
    expect_corrupt("garbage header");
    // Not a database at all.
    std::fs::write(&path, b"{\"type\":\"FeatureCollection\"}").expect("text");
    expect_corrupt("text file");
}

/// The README's one-street workflow from the CLI: `gridatlas import street.geojson --streets S`
/// with a file of one street whose street names the district (not in the file) as parent, and the
/// same file with the district repeated unchanged; each publishes and changes only that street.
fn cli_imports_one_street_with_or_without_the_district(db: &TestDb) {
    let store = db.open();
    let demo = gridatlas::geo_io::read_path(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo-district.geojson"
    )))
    .expect("demo");
    gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    let of = store::street_of_features(&demo);
    let street = "310116101";
    let dir = tempfile::tempdir().expect("tempdir");
    for (with_district, name) in [(false, "不带区"), (true, "带区")] {
        let mut features: Vec<Feature> = demo
            .features()
            .iter()
            .filter(|f| of.get(f.code.as_str()) == Some(&street))
            .cloned()
            .collect();
        for f in &mut features {
            if f.code == "310116101009" {
                f.name = name.into();
            }
        }
        if with_district {
            features.insert(0, demo.district().expect("district").clone());
        }
        let set = FeatureSet::new(features, Vec::new()).expect("set");
        let path = dir.path().join(format!("street-{with_district}.geojson"));
        gridatlas::geo_io::write_path(&set, &path).expect("write");
        let mut line = Vec::new();
        cli::import(
            &cli::ImportArgs {
                file: path,
                input: Default::default(),
                streets: Some(vec![street.into()]),
                by: "planner".into(),
                db: cli::DatabaseArgs {
                    database: db.url.clone(),
                },
            },
            &mut line,
        )
        .expect("one-street import");
        let line: serde_json::Value = serde_json::from_slice(&line).expect("json");
        assert_eq!(line["errors"], 0, "{line}");
        let g = store
            .publish(line["draft"].as_i64().expect("draft id"), "planner", None)
            .expect("publish");
        let changed: Vec<(String, ChangeKind)> = store
            .diff(g.number - 1, g.number)
            .expect("diff")
            .into_iter()
            .map(|c| (c.code, c.change))
            .collect();
        assert_eq!(changed, [("310116101009".to_owned(), ChangeKind::Changed)]);
    }
}

/// Connections the server dropped (a restart, an administrator) are replaced: the pool checks
/// each connection as it is taken, so no call fails on one.
#[test]
fn postgis_connections_the_server_dropped_are_replaced() {
    use diesel::{Connection, RunQueryDsl};
    let Some(db) = TestDb::postgres("dropped_connections") else {
        return;
    };
    let store = db.open();
    // Hold several connections at once so the pool has more than one.
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| store.list_tokens().expect("tokens"));
        }
    });
    let name = db.url.rsplit('/').next().expect("database name").to_owned();
    let mut admin = diesel::PgConnection::establish(&db.url).expect("admin connection");
    #[derive(diesel::QueryableByName)]
    struct Pid {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let pids: Vec<i32> = diesel::sql_query(format!(
        "WITH ours AS MATERIALIZED (SELECT pid FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()) \
         SELECT pid FROM ours WHERE pg_terminate_backend(pid)"
    ))
    .load::<Pid>(&mut admin)
    .expect("terminate")
    .into_iter()
    .map(|p| p.pid)
    .collect();
    assert!(!pids.is_empty(), "the pool held no connection to drop");
    // The server ends them when they see the signal: wait until it has (bounded).
    let list = pids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let gone = (0..200).any(|_| {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let left = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE pid IN ({list})"
        ))
        .get_result::<Count>(&mut admin)
        .expect("count")
        .n;
        std::thread::sleep(std::time::Duration::from_millis(10));
        left == 0
    });
    assert!(
        gone,
        "the server did not end the connections {pids:?} within 2 s"
    );
    // A backend leaves pg_stat_activity a moment before its process exits and its socket
    // closes: give the closes time to arrive (what is tested is a pool holding connections
    // the server dropped, not a call racing the drop).
    std::thread::sleep(std::time::Duration::from_millis(500));
    let results: Vec<bool> = (0..20).map(|_| store.list_tokens().is_ok()).collect();
    assert!(
        results.iter().all(|ok| *ok),
        "calls failed on dropped connections: {results:?}"
    );
}
