//! Migration of a store written before the case workflow (issue 14, item 5): a store is built at
//! the schema before `2026-12-01-000001_case_workflow` (the embedded migrations run one by one up
//! to it), filled the way the old code wrote it (four statuses, `cases.status`,
//! `case_events.status`, no action or role), then opened as usual, which runs the pending
//! migration; everything is checked through the store's API, on both stores:
//!
//! - every case and every event is still there (same seq, times, actors, notes, departments);
//! - the stages are mapped as the migration says: assigned with a grid → dispatched to that grid
//!   (front end); assigned in a street queue → opened; resolved_front_end → disposed (the grid on
//!   the dispose event); escalated_back_end → dispatched to the department (back end); closed →
//!   closed, finished when the close event happened;
//! - the old due time stays in force (the default limits kept with the case), and whether each
//!   old event ended its stage by it is recorded, so the on-time indicator of old cases is
//!   what it was;
//! - a migrated case continues through the workflow on the example calendar;
//! - old tokens and categories read back (no grids, department or subject; default limits);
//! - the down migration restores exactly the rows the old code wrote, and migrating again gives
//!   the same cases.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/migrations.rs"]
mod migrations;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use db::TestDb;
use diesel::prelude::*;
use diesel_migrations::MigrationHarness;
use gridatlas::calendar::{Calendar, EXAMPLE_CALENDAR, Limit};
use gridatlas::cases::workflow::{self, Refusal, Request, StageLimits};
use gridatlas::cases::{Action, Case, CaseFilter, NewCase, Source, Stage, Track, Visibility};
use gridatlas::model::Layer;
use gridatlas::routing::categories::{Category, EXAMPLE_TASK_LIST, parse_task_list};
use gridatlas::routing::{AreaRef, Assignment, Confidence};
use gridatlas::store::prelude::*;
use gridatlas::store::{Token, TokenSpec, secret_hash};
use migrations::{PG_MIGRATIONS, SQLITE_MIGRATIONS, migrate_before, pending};

/// The version of the case-workflow migration (diesel's: the directory's date without dashes).
const WORKFLOW: &str = "20261201000001";

// ---------------------------------------------------------------------------------------------
// The old rows, as the code before the workflow wrote them

#[derive(Debug, Clone, PartialEq, Queryable)]
struct OldCase {
    id: i64,
    category: String,
    source: String,
    description: String,
    status: String,
    input_lon: f64,
    input_lat: f64,
    input_crs: String,
    lon: f64,
    lat: f64,
    reported_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    street: Option<String>,
    grid: Option<String>,
    block: Option<String>,
    generation: Option<i64>,
    confidence: String,
    department: Option<String>,
    photos: String,
    contact: Option<String>,
    created_by: String,
    assignment: String,
}

#[derive(Debug, Clone, PartialEq, Queryable)]
struct OldEvent {
    case_id: i64,
    seq: i32,
    at: DateTime<Utc>,
    status: String,
    actor: String,
    department: Option<String>,
    note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable)]
struct OldToken {
    id: i64,
    role: String,
    streets: String,
    secret_sha256: String,
    created_at: DateTime<Utc>,
    revoked: bool,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Queryable)]
struct OldCategory {
    code: String,
    position: i32,
    body: String,
}

/// Everything the old store holds (rows in id / (case, seq) / position order).
#[derive(Debug, Clone, PartialEq)]
struct Old {
    cases: Vec<OldCase>,
    events: Vec<OldEvent>,
    tokens: Vec<OldToken>,
    categories: Vec<OldCategory>,
}

/// The old schema (the tables as they were after the migrations before the workflow's), and
/// writing and reading the old rows with the same diesel types the old code used, per backend.
macro_rules! old_store {
    ($module:ident, $conn:ty, $ts:ty) => {
        mod $module {
            use super::{Old, OldCase, OldCategory, OldEvent, OldToken};
            use diesel::prelude::*;

            pub type Ts = $ts;

            diesel::table! {
                use diesel::sql_types::*;
                use crate::$module::Ts;

                cases (id) {
                    id -> BigInt,
                    category -> Text,
                    source -> Text,
                    description -> Text,
                    status -> Text,
                    input_lon -> Double,
                    input_lat -> Double,
                    input_crs -> Text,
                    lon -> Double,
                    lat -> Double,
                    reported_at -> Ts,
                    created_at -> Ts,
                    updated_at -> Ts,
                    due_at -> Ts,
                    done_at -> Nullable<Ts>,
                    street -> Nullable<Text>,
                    grid -> Nullable<Text>,
                    block -> Nullable<Text>,
                    generation -> Nullable<BigInt>,
                    confidence -> Text,
                    department -> Nullable<Text>,
                    photos -> Text,
                    contact -> Nullable<Text>,
                    created_by -> Text,
                    assignment -> Text,
                }
            }

            diesel::table! {
                use diesel::sql_types::*;
                use crate::$module::Ts;

                case_events (case_id, seq) {
                    case_id -> BigInt,
                    seq -> Integer,
                    at -> Ts,
                    status -> Text,
                    actor -> Text,
                    department -> Nullable<Text>,
                    note -> Nullable<Text>,
                }
            }

            diesel::table! {
                use diesel::sql_types::*;
                use crate::$module::Ts;

                tokens (id) {
                    id -> BigInt,
                    role -> Text,
                    streets -> Text,
                    secret_sha256 -> Text,
                    created_at -> Ts,
                    revoked -> Bool,
                    expires_at -> Nullable<Ts>,
                    last_used_at -> Nullable<Ts>,
                }
            }

            diesel::table! {
                categories (code) {
                    code -> Text,
                    position -> Integer,
                    body -> Text,
                }
            }

            /// Writes `old` as the old code did (ids given by the database, checked against
            /// the fixture's).
            pub fn write(conn: &mut $conn, old: &Old) {
                for c in &old.cases {
                    let id: i64 = diesel::insert_into(cases::table)
                        .values((
                            (
                                cases::category.eq(&c.category),
                                cases::source.eq(&c.source),
                                cases::description.eq(&c.description),
                                cases::status.eq(&c.status),
                                cases::input_lon.eq(c.input_lon),
                                cases::input_lat.eq(c.input_lat),
                                cases::input_crs.eq(&c.input_crs),
                                cases::lon.eq(c.lon),
                                cases::lat.eq(c.lat),
                                cases::reported_at.eq(c.reported_at),
                                cases::created_at.eq(c.created_at),
                                cases::updated_at.eq(c.updated_at),
                            ),
                            (
                                cases::due_at.eq(c.due_at),
                                cases::done_at.eq(c.done_at),
                                cases::street.eq(&c.street),
                                cases::grid.eq(&c.grid),
                                cases::block.eq(&c.block),
                                cases::generation.eq(c.generation),
                                cases::confidence.eq(&c.confidence),
                                cases::department.eq(&c.department),
                                cases::photos.eq(&c.photos),
                                cases::contact.eq(&c.contact),
                                cases::created_by.eq(&c.created_by),
                                cases::assignment.eq(&c.assignment),
                            ),
                        ))
                        .returning(cases::id)
                        .get_result(conn)
                        .expect("insert an old case");
                    assert_eq!(id, c.id, "case ids as in the fixture");
                }
                for e in &old.events {
                    diesel::insert_into(case_events::table)
                        .values((
                            case_events::case_id.eq(e.case_id),
                            case_events::seq.eq(e.seq),
                            case_events::at.eq(e.at),
                            case_events::status.eq(&e.status),
                            case_events::actor.eq(&e.actor),
                            case_events::department.eq(&e.department),
                            case_events::note.eq(&e.note),
                        ))
                        .execute(conn)
                        .expect("insert an old event");
                }
                for t in &old.tokens {
                    let id: i64 = diesel::insert_into(tokens::table)
                        .values((
                            tokens::role.eq(&t.role),
                            tokens::streets.eq(&t.streets),
                            tokens::secret_sha256.eq(&t.secret_sha256),
                            tokens::created_at.eq(t.created_at),
                            tokens::revoked.eq(t.revoked),
                            tokens::expires_at.eq(t.expires_at),
                            tokens::last_used_at.eq(t.last_used_at),
                        ))
                        .returning(tokens::id)
                        .get_result(conn)
                        .expect("insert an old token");
                    assert_eq!(id, t.id, "token ids as in the fixture");
                }
                for c in &old.categories {
                    diesel::insert_into(categories::table)
                        .values((
                            categories::code.eq(&c.code),
                            categories::position.eq(c.position),
                            categories::body.eq(&c.body),
                        ))
                        .execute(conn)
                        .expect("insert an old category");
                }
            }

            /// Reads the old tables back.
            pub fn read(conn: &mut $conn) -> Old {
                let cases = cases::table
                    .order(cases::id)
                    .select((
                        cases::id,
                        cases::category,
                        cases::source,
                        cases::description,
                        cases::status,
                        cases::input_lon,
                        cases::input_lat,
                        cases::input_crs,
                        cases::lon,
                        cases::lat,
                        cases::reported_at,
                        cases::created_at,
                        cases::updated_at,
                        cases::due_at,
                        cases::done_at,
                        cases::street,
                        cases::grid,
                        cases::block,
                        cases::generation,
                        cases::confidence,
                        cases::department,
                        cases::photos,
                        cases::contact,
                        cases::created_by,
                        cases::assignment,
                    ))
                    .load::<OldCase>(conn)
                    .expect("old cases");
                let events = case_events::table
                    .order((case_events::case_id, case_events::seq))
                    .load::<OldEvent>(conn)
                    .expect("old events");
                let tokens = tokens::table
                    .order(tokens::id)
                    .load::<OldToken>(conn)
                    .expect("old tokens");
                let categories = categories::table
                    .order(categories::position)
                    .load::<OldCategory>(conn)
                    .expect("old categories");
                Old {
                    cases,
                    events,
                    tokens,
                    categories,
                }
            }
        }
    };
}

old_store!(
    old_sqlite,
    diesel::SqliteConnection,
    diesel::sql_types::TimestamptzSqlite
);
old_store!(old_pg, diesel::PgConnection, diesel::sql_types::Timestamptz);

// ---------------------------------------------------------------------------------------------
// The fixture

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("RFC 3339 time")
        .with_timezone(&Utc)
}

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8")
}

fn area(code: &str, layer: Layer) -> AreaRef {
    AreaRef {
        code: code.into(),
        name: format!("名称{code}"),
        layer,
        kind: None,
    }
}

/// The routing as the old code stored it with the case.
fn assignment(
    category: &str,
    point: [f64; 2],
    street: &str,
    grid: Option<&str>,
    reported: DateTime<Utc>,
) -> Assignment {
    Assignment {
        category: category.into(),
        confidence: if grid.is_some() {
            Confidence::Inside
        } else {
            Confidence::StreetQueue
        },
        point,
        street: Some(area(street, Layer::Street)),
        grid: grid.map(|g| area(g, Layer::StreetGrid)),
        block: grid.map(|g| area(&format!("{g}B1"), Layer::Block)),
        block_head: None,
        grid_people: Vec::new(),
        road_segment: None,
        management_units: Vec::new(),
        layer_mismatch: false,
        mismatch_reason: None,
        candidates: Vec::new(),
        distance_m: None,
        queue: grid.is_none().then(|| street.to_owned()),
        generation: Some(1),
        due_at: (reported + Duration::days(7)).with_timezone(&cst()),
        // stored before items had kinds: read back as events, with no dispatch hint
        about: Default::default(),
        component: None,
        shop: None,
        dispatch: None,
    }
}

/// An old case: reported at `reported` (stored a minute later, the store's clock stamping the
/// first event), due 7 days after the report, as the old routing said.
#[allow(clippy::too_many_arguments)]
fn old_case(
    id: i64,
    source: Source,
    status: &str,
    street: &str,
    grid: Option<&str>,
    reported: &str,
    department: Option<&str>,
    last: &str,
    done: Option<&str>,
) -> OldCase {
    let reported = t(reported);
    let category = "SG0101";
    let point = [121.1 + id as f64 * 0.001, 30.8 + id as f64 * 0.001];
    let a = assignment(category, point, street, grid, reported);
    OldCase {
        id,
        category: category.into(),
        source: source.as_str().into(),
        description: format!("旧案件 {id}: 人行道无证设摊"),
        status: status.into(),
        input_lon: point[0],
        input_lat: point[1],
        input_crs: "wgs84".into(),
        lon: point[0],
        lat: point[1],
        reported_at: reported,
        created_at: reported + Duration::minutes(1),
        updated_at: t(last),
        due_at: reported + Duration::days(7),
        done_at: done.map(t),
        street: Some(street.into()),
        grid: grid.map(Into::into),
        block: grid.map(|g| format!("{g}B1")),
        generation: Some(1),
        confidence: a.confidence.as_str().into(),
        department: department.map(Into::into),
        photos: if id == 3 {
            r#"["https://photos.example.org/3/before.jpg"]"#.into()
        } else {
            "[]".into()
        },
        contact: (id == 2).then(|| r#"{"name":"陈先生","phone":"13800000000"}"#.into()),
        created_by: format!("token-{}", if id % 2 == 0 { "app" } else { "hotline" }),
        assignment: serde_json::to_string(&a).expect("assignment JSON"),
    }
}

fn ev(
    case_id: i64,
    seq: i32,
    at: DateTime<Utc>,
    status: &str,
    actor: &str,
    department: Option<&str>,
    note: Option<&str>,
) -> OldEvent {
    OldEvent {
        case_id,
        seq,
        at,
        status: status.into(),
        actor: actor.into(),
        department: department.map(Into::into),
        note: note.map(Into::into),
    }
}

const MARKET: &str = "区市场监管局";
const GREENING: &str = "区绿化市容局";

/// Categories as the old code stored them: the task list's JSON, without the limits (which
/// did not exist). Taken from the example list's groups that give no limits, so that they read
/// back equal to the example's.
fn old_categories() -> (Vec<Category>, Vec<OldCategory>) {
    let cats: Vec<Category> = parse_task_list(EXAMPLE_TASK_LIST)
        .expect("example task list")
        .into_iter()
        .filter(|c| c.group == "RG02" || c.group == "SG01")
        .collect();
    assert!(cats.len() >= 4, "enough example categories");
    let rows = cats
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut body = serde_json::to_value(c).expect("category JSON");
            let obj = body.as_object_mut().expect("an object");
            for k in ["limits", "item_limits", "group_limits"] {
                obj.remove(k);
            }
            OldCategory {
                code: c.code.clone(),
                position: i as i32,
                body: body.to_string(),
            }
        })
        .collect();
    (cats, rows)
}

/// Seven old cases, one per way a case could be stored by the old code:
///
/// 1. assigned to a grid;
/// 2. assigned in a street queue (no grid);
/// 3. resolved at the front end, on time;
/// 4. escalated to a department;
/// 5. escalated exactly at its due time (on time), then closed half a second after it (late);
/// 6. resolved at the front end on time, then closed after its due time (on time: the old code
///    counted a case done when first resolved);
/// 7. in a street queue, resolved at the front end after its due time (the old code allowed it).
///
/// Plus old tokens (admin, a planner with an expiry and a use, a revoked intake) and categories.
fn old_data() -> Old {
    use Source::*;
    let cases = vec![
        old_case(
            1,
            Hotline,
            "assigned",
            "S1",
            Some("S1G1"),
            "2026-11-02T09:30:00+08:00",
            None,
            "2026-11-02T09:31:00+08:00",
            None,
        ),
        old_case(
            2,
            App,
            "assigned",
            "S1",
            None,
            "2026-11-03T14:00:00+08:00",
            None,
            "2026-11-03T14:01:00+08:00",
            None,
        ),
        old_case(
            3,
            Patrol,
            "resolved_front_end",
            "S1",
            Some("S1G2"),
            "2026-11-04T10:00:00+08:00",
            None,
            "2026-11-05T15:00:00+08:00",
            Some("2026-11-05T15:00:00+08:00"),
        ),
        old_case(
            4,
            Hotline,
            "escalated_back_end",
            "S2",
            Some("S2G1"),
            "2026-11-05T11:00:00+08:00",
            Some(MARKET),
            "2026-11-06T16:00:00+08:00",
            None,
        ),
        old_case(
            5,
            Hotline,
            "closed",
            "S2",
            Some("S2G2"),
            "2026-10-12T09:00:00+08:00",
            Some(GREENING),
            "2026-10-19T09:00:00.500+08:00",
            Some("2026-10-19T09:00:00.500+08:00"),
        ),
        old_case(
            6,
            Patrol,
            "closed",
            "S1",
            Some("S1G1"),
            "2026-10-20T08:00:00+08:00",
            None,
            "2026-10-29T09:00:00+08:00",
            // first done: resolved at the front end, not closed
            Some("2026-10-22T10:00:00+08:00"),
        ),
        old_case(
            7,
            App,
            "resolved_front_end",
            "S2",
            None,
            "2026-11-06T09:00:00+08:00",
            None,
            "2026-11-14T10:00:00+08:00",
            Some("2026-11-14T10:00:00+08:00"),
        ),
    ];
    let routed = |c: &OldCase| {
        ev(
            c.id,
            1,
            c.created_at,
            "assigned",
            &c.created_by,
            None,
            Some(&format!("routed: {}", c.confidence)),
        )
    };
    let mut events: Vec<OldEvent> = cases.iter().map(routed).collect();
    events.extend([
        ev(
            3,
            2,
            t("2026-11-05T15:00:00+08:00"),
            "resolved_front_end",
            "网格员张三",
            None,
            Some("摊贩已劝离"),
        ),
        ev(
            4,
            2,
            t("2026-11-06T16:00:00+08:00"),
            "escalated_back_end",
            "街道分中心李四",
            Some(MARKET),
            Some("需执法"),
        ),
        ev(
            5,
            2,
            t("2026-10-19T09:00:00+08:00"),
            "escalated_back_end",
            "街道分中心李四",
            Some(GREENING),
            None,
        ),
        ev(
            5,
            3,
            t("2026-10-19T09:00:00.500+08:00"),
            "closed",
            "区中心王五",
            None,
            Some("已办结"),
        ),
        ev(
            6,
            2,
            t("2026-10-22T10:00:00+08:00"),
            "resolved_front_end",
            "网格员张三",
            None,
            Some("已清理"),
        ),
        ev(
            6,
            3,
            t("2026-10-29T09:00:00+08:00"),
            "closed",
            "区中心王五",
            None,
            None,
        ),
        ev(
            7,
            2,
            t("2026-11-14T10:00:00+08:00"),
            "resolved_front_end",
            "街道分中心李四",
            None,
            Some("已处理"),
        ),
    ]);
    events.sort_by_key(|e| (e.case_id, e.seq));
    let tokens = vec![
        OldToken {
            id: 1,
            role: "admin".into(),
            streets: "[]".into(),
            secret_sha256: secret_hash("old-admin-secret"),
            created_at: t("2026-10-01T08:00:00+08:00"),
            revoked: false,
            expires_at: None,
            last_used_at: Some(t("2026-11-20T09:00:00+08:00")),
        },
        OldToken {
            id: 2,
            role: "planner".into(),
            streets: r#"["S1","S2"]"#.into(),
            secret_sha256: secret_hash("old-planner-secret"),
            created_at: t("2026-10-02T08:00:00+08:00"),
            revoked: false,
            expires_at: Some(t("2027-10-02T08:00:00+08:00")),
            last_used_at: None,
        },
        OldToken {
            id: 3,
            role: "intake".into(),
            streets: "[]".into(),
            secret_sha256: secret_hash("old-intake-secret"),
            created_at: t("2026-10-03T08:00:00+08:00"),
            revoked: true,
            expires_at: None,
            last_used_at: None,
        },
    ];
    Old {
        cases,
        events,
        tokens,
        categories: old_categories().1,
    }
}

// ---------------------------------------------------------------------------------------------
// Building the old store, reverting

fn is_pg(db: &TestDb) -> bool {
    db.url.starts_with("postgres")
}

fn sqlite_conn(db: &TestDb) -> diesel::SqliteConnection {
    diesel::SqliteConnection::establish(&db.url).expect("SQLite connection")
}

fn pg_conn(db: &TestDb) -> diesel::PgConnection {
    diesel::PgConnection::establish(&db.url).expect("PostgreSQL connection")
}

/// A store at the schema before the workflow, holding `old_data()` as the old code wrote it;
/// only the workflow's migration is pending.
fn old_store(db: &TestDb) -> Old {
    let old = old_data();
    let (applied, left) = if is_pg(db) {
        let mut conn = pg_conn(db);
        let applied = migrate_before(&mut conn, || PG_MIGRATIONS, WORKFLOW);
        old_pg::write(&mut conn, &old);
        (applied, pending(&mut conn, || PG_MIGRATIONS))
    } else {
        let mut conn = sqlite_conn(db);
        let applied = migrate_before(&mut conn, || SQLITE_MIGRATIONS, WORKFLOW);
        old_sqlite::write(&mut conn, &old);
        (applied, pending(&mut conn, || SQLITE_MIGRATIONS))
    };
    assert!(applied.len() >= 3, "the older migrations ran: {applied:?}");
    assert!(applied.iter().all(|v| v.as_str() < WORKFLOW), "{applied:?}");
    assert_eq!(
        left.first().map(String::as_str),
        Some(WORKFLOW),
        "the workflow's migration is the next pending: {left:?}"
    );
    old
}

/// Reverts the migrations down to and including the workflow's (later ones first) and reads
/// the old tables back.
fn revert_workflow(db: &TestDb) -> Old {
    if is_pg(db) {
        let mut conn = pg_conn(db);
        while conn
            .revert_last_migration(PG_MIGRATIONS)
            .expect("revert")
            .to_string()
            != WORKFLOW
        {}
        old_pg::read(&mut conn)
    } else {
        let mut conn = sqlite_conn(db);
        while conn
            .revert_last_migration(SQLITE_MIGRATIONS)
            .expect("revert")
            .to_string()
            != WORKFLOW
        {}
        old_sqlite::read(&mut conn)
    }
}

fn pending_now(db: &TestDb) -> Vec<String> {
    if is_pg(db) {
        pending(&mut pg_conn(db), || PG_MIGRATIONS)
    } else {
        pending(&mut sqlite_conn(db), || SQLITE_MIGRATIONS)
    }
}

// ---------------------------------------------------------------------------------------------
// Checks

fn all_cases(store: &dyn Store) -> Vec<Case> {
    let (cases, total) = store
        .list_cases(&CaseFilter {
            limit: 100,
            ..CaseFilter::default()
        })
        .expect("list cases");
    assert_eq!(total as usize, cases.len());
    cases
}

fn ids(store: &dyn Store, filter: CaseFilter) -> Vec<i64> {
    let (cases, total) = store
        .list_cases(&CaseFilter {
            limit: 100,
            ..filter
        })
        .expect("list cases");
    assert_eq!(total as usize, cases.len());
    cases.iter().map(|c| c.id).collect()
}

/// What each old event becomes: action, stage, grid, whether it carries the case's (old) due
/// time, and whether it ended its stage on time.
type Mapped = (Action, Stage, Option<&'static str>, bool, Option<bool>);

fn expected_events(id: i64) -> Vec<Mapped> {
    use Action::*;
    use Stage::*;
    match id {
        1 => vec![(Report, Dispatched, Some("S1G1"), true, None)],
        2 => vec![(Report, Opened, None, true, None)],
        3 => vec![
            (Report, Dispatched, Some("S1G2"), true, None),
            (Dispose, Disposed, Some("S1G2"), false, Some(true)),
        ],
        4 => vec![
            (Report, Dispatched, Some("S2G1"), true, None),
            (Dispatch, Dispatched, None, true, Some(true)),
        ],
        5 => vec![
            (Report, Dispatched, Some("S2G2"), true, None),
            (Dispatch, Dispatched, None, true, Some(true)),
            (Close, Closed, None, false, Some(false)),
        ],
        6 => vec![
            (Report, Dispatched, Some("S1G1"), true, None),
            (Dispose, Disposed, Some("S1G1"), false, Some(true)),
            // no limit ran after a front-end resolution in the old workflow
            (Close, Closed, None, false, None),
        ],
        7 => vec![
            (Report, Opened, None, true, None),
            (Dispose, Disposed, None, false, Some(false)),
        ],
        _ => unreachable!("seven cases"),
    }
}

/// What an old case becomes: stage, track, assigned grid, department, done_at.
type MappedCase = (
    Stage,
    Option<Track>,
    Option<&'static str>,
    Option<&'static str>,
    Option<DateTime<Utc>>,
);

fn expected_case(old: &OldCase) -> MappedCase {
    use Stage::*;
    use Track::*;
    match old.id {
        1 => (Dispatched, Some(FrontEnd), Some("S1G1"), None, None),
        2 => (Opened, None, None, None, None),
        3 => (Disposed, Some(FrontEnd), Some("S1G2"), None, None),
        4 => (Dispatched, Some(BackEnd), None, Some(MARKET), None),
        5 => (
            Closed,
            Some(BackEnd),
            None,
            Some(GREENING),
            Some(t("2026-10-19T09:00:00.500+08:00")),
        ),
        // finished when closed now, not when first resolved; a finished old case keeps its
        // routed grid but names no assignee
        6 => (
            Closed,
            Some(FrontEnd),
            None,
            None,
            Some(t("2026-10-29T09:00:00+08:00")),
        ),
        // resolved by the street's workstation: the front end, with no grid to name
        7 => (Disposed, Some(FrontEnd), None, None, None),
        _ => unreachable!("seven cases"),
    }
}

/// Every old case and event is there, mapped onto the workflow as the migration says.
fn check_mapped(store: &dyn Store, old: &Old) {
    let cases = all_cases(store);
    assert_eq!(
        cases.iter().map(|c| c.id).collect::<Vec<_>>(),
        [7, 6, 5, 4, 3, 2, 1],
        "every case, newest first"
    );
    let n_events: usize = cases.iter().map(|c| c.events.len()).sum();
    assert_eq!(n_events, old.events.len(), "every event");
    for o in &old.cases {
        let c = store.get_case(o.id).expect("get case");
        assert_eq!(
            Some(&c),
            cases.iter().find(|x| x.id == o.id),
            "get and list agree"
        );
        let what = format!("case {} ({})", o.id, o.status);
        // kept as it was
        assert_eq!(c.category, o.category, "{what}");
        assert_eq!(c.source.as_str(), o.source, "{what}");
        assert_eq!(c.description, o.description, "{what}");
        assert_eq!(
            c.input,
            serde_json::json!({"lon": o.input_lon, "lat": o.input_lat, "crs": o.input_crs}),
            "{what}"
        );
        assert_eq!(c.reported_at, o.reported_at, "{what}");
        assert_eq!(c.created_at, o.created_at, "{what}");
        assert_eq!(c.updated_at, o.updated_at, "{what}");
        assert_eq!(c.due_at, o.due_at, "{what}: the old due time stays");
        assert_eq!(c.street, o.street, "{what}");
        assert_eq!(c.grid, o.grid, "{what}");
        assert_eq!(c.block, o.block, "{what}");
        assert_eq!(c.generation, o.generation, "{what}");
        assert_eq!(
            serde_json::to_string(&c.photos).expect("json"),
            o.photos,
            "{what}"
        );
        assert_eq!(c.created_by, o.created_by, "{what}");
        assert_eq!(
            serde_json::to_string(&c.assignment).expect("json"),
            o.assignment,
            "{what}"
        );
        assert_eq!(c.limits, StageLimits::default(), "{what}: default limits");
        assert!(!c.supervised, "{what}");
        assert_eq!(c.duplicate_of, None, "{what}");
        // mapped
        let (stage, track, assigned_grid, department, done_at) = expected_case(o);
        assert_eq!(c.stage, stage, "{what}");
        assert_eq!(c.track, track, "{what}");
        assert_eq!(c.assigned_grid.as_deref(), assigned_grid, "{what}");
        assert_eq!(c.department.as_deref(), department, "{what}");
        assert_eq!(c.department, o.department, "{what}: the department kept");
        assert_eq!(c.done_at, done_at, "{what}");
        // the events
        let olds: Vec<&OldEvent> = old.events.iter().filter(|e| e.case_id == o.id).collect();
        let mapped = expected_events(o.id);
        assert_eq!(c.events.len(), olds.len(), "{what}: every event");
        assert_eq!(c.events.len(), mapped.len(), "{what}");
        for ((e, oe), (action, stage, grid, due, on_time)) in c.events.iter().zip(&olds).zip(mapped)
        {
            let what = format!("{what} event {} ({})", oe.seq, oe.status);
            assert_eq!(e.seq, oe.seq, "{what}");
            assert_eq!(e.at, oe.at, "{what}");
            assert_eq!(e.by, oe.actor, "{what}");
            assert_eq!(e.note, oe.note, "{what}");
            assert_eq!(e.department, oe.department, "{what}");
            assert_eq!(e.role, "migrated", "{what}");
            assert!(e.photos.is_empty(), "{what}");
            assert_eq!(e.until, None, "{what}");
            assert_eq!(e.duplicate_of, None, "{what}");
            assert_eq!(e.action, action, "{what}");
            assert_eq!(e.stage, stage, "{what}");
            assert_eq!(e.grid.as_deref(), grid, "{what}");
            assert_eq!(e.due_at, due.then_some(o.due_at), "{what}");
            assert_eq!(e.on_time, on_time, "{what}");
        }
        // nothing pending, nothing escalated by the front-end limit: the old hand-offs to a
        // department are dispatches to it
        assert_eq!(c.pending_extension(), None, "{what}");
        assert!(!c.escalated(), "{what}");
        assert_eq!((c.reworks(), c.returns()), (0, 0), "{what}");
        // overdue when the old due time passes, unless finished
        let second = Duration::seconds(1);
        assert!(!c.is_overdue(o.due_at - second), "{what}");
        assert_eq!(
            c.is_overdue(o.due_at + second),
            !stage.is_terminal(),
            "{what}"
        );
    }
}

fn check_listing(store: &dyn Store) {
    let f = CaseFilter::default;
    assert_eq!(
        ids(
            store,
            CaseFilter {
                stages: vec![Stage::Dispatched],
                ..f()
            }
        ),
        [4, 1]
    );
    assert_eq!(
        ids(
            store,
            CaseFilter {
                stages: vec![Stage::Disposed],
                ..f()
            }
        ),
        [7, 3]
    );
    assert_eq!(
        ids(
            store,
            CaseFilter {
                stages: Stage::OPEN.to_vec(),
                ..f()
            }
        ),
        [7, 4, 3, 2, 1]
    );
    assert_eq!(
        ids(
            store,
            CaseFilter {
                queued: true,
                ..f()
            }
        ),
        [7, 2]
    );
    assert_eq!(
        ids(
            store,
            CaseFilter {
                grid: Some("S1G1".into()),
                ..f()
            }
        ),
        [6, 1]
    );
    assert_eq!(
        ids(
            store,
            CaseFilter {
                street: Some("S2".into()),
                ..f()
            }
        ),
        [7, 5, 4]
    );
    assert_eq!(
        ids(
            store,
            CaseFilter {
                department: Some(MARKET.into()),
                ..f()
            }
        ),
        [4]
    );
    assert_eq!(
        ids(
            store,
            CaseFilter {
                visibility: Visibility::Departments(vec![GREENING.into()]),
                ..f()
            }
        ),
        [5]
    );
    assert_eq!(
        ids(
            store,
            CaseFilter {
                visibility: Visibility::Grids(vec!["S1G2".into()]),
                ..f()
            }
        ),
        [3]
    );
    // overdue: not finished and past the old due time (case 1: due 11-09 09:30)
    assert_eq!(
        ids(
            store,
            CaseFilter {
                overdue_at: Some(t("2026-11-10T00:00:00+08:00")),
                ..f()
            }
        ),
        [1]
    );
    assert_eq!(
        ids(
            store,
            CaseFilter {
                overdue_at: Some(t("2026-11-30T00:00:00+08:00")),
                ..f()
            }
        ),
        [7, 4, 3, 2, 1]
    );
}

/// The indicators over the migrated cases: who disposed of what, and on time as the old code
/// counted it (case 5 closed after its due time; case 6 resolved in time, closed later).
fn check_indicators(store: &dyn Store) {
    use gridatlas::cases::indicators::{Dimension, Scope, compute};
    let cases = all_cases(store);
    let scope = Scope {
        from: t("2026-01-01T00:00:00+08:00"),
        to: t("2026-11-30T00:00:00+08:00"),
        as_of: t("2026-11-30T00:00:00+08:00"),
        street: None,
        categories: None,
    };
    // the store computed the facts of the migrated cases when it opened: its SQL agrees with
    // the reference over the cases as read back
    for by in [
        Dimension::District,
        Dimension::Street,
        Dimension::Grid,
        Dimension::Department,
    ] {
        assert_eq!(
            store.indicators(&scope, by).expect("indicators"),
            compute(&cases, &scope, by),
            "{by:?}"
        );
    }
    let b = compute(&cases, &scope, Dimension::District);
    let d = &b[&None];
    assert_eq!(d.cases, 7);
    assert_eq!(d.patrol, 2);
    // front end: 3 and 6 (7 was resolved in its street queue: no grid to count it for)
    assert_eq!(d.resolved_front_end, 2);
    // back end: 4 and 5
    assert_eq!(d.escalated_back_end, 2);
    assert_eq!(d.disposed, 4);
    // closed: 5 (late) and 6 (on time)
    assert_eq!((d.closed, d.closed_on_time), (2, 1));
    assert_eq!(d.on_time_rate, Some(0.5));
    // not finished and past the old due time
    assert_eq!(d.overdue, 5);
}

fn check_tokens_and_categories(store: &dyn Store, old: &Old) {
    let tokens = store.list_tokens().expect("tokens");
    assert_eq!(tokens.len(), old.tokens.len());
    for (tok, o) in tokens.iter().zip(&old.tokens) {
        let expected = Token {
            id: o.id,
            role: o.role.clone(),
            streets: serde_json::from_str(&o.streets).expect("streets"),
            created_at: o.created_at,
            revoked: o.revoked,
            expires_at: o.expires_at,
            last_used_at: o.last_used_at,
            grids: Vec::new(),
            department: None,
            subject: None,
        };
        assert_eq!(tok, &expected);
    }
    let planner = store
        .token_by_secret("old-planner-secret")
        .expect("lookup")
        .expect("the old planner token");
    assert_eq!(planner.id, 2);
    assert_eq!(planner.streets, ["S1", "S2"]);
    assert!(planner.grids.is_empty() && planner.department.is_none());
    assert!(
        store
            .token_by_secret("old-intake-secret")
            .expect("lookup")
            .expect("the revoked token")
            .revoked
    );
    // the new columns take new tokens
    let id = store
        .create_token_with(
            &TokenSpec {
                role: "grid_worker".into(),
                streets: vec!["S1".into()],
                grids: vec!["S1G1".into()],
                subject: Some("网格员张三".into()),
                ..TokenSpec::default()
            },
            "new-grid-worker-secret",
        )
        .expect("a new token");
    assert_eq!(id, 4);
    let w = store
        .token_by_secret("new-grid-worker-secret")
        .expect("lookup")
        .expect("the new token");
    assert_eq!(w.grids, ["S1G1"]);
    assert_eq!(w.subject.as_deref(), Some("网格员张三"));

    let (cats, _) = old_categories();
    let stored = store.categories().expect("categories");
    assert_eq!(
        stored, cats,
        "old categories read back, with the default limits"
    );
    assert!(stored.iter().all(|c| c.limits == StageLimits::default()));
    assert_eq!(
        store
            .setting(gridatlas::store::Setting::Calendar)
            .expect("calendar"),
        None
    );
}

fn calendar() -> Calendar {
    Calendar::from_json(EXAMPLE_CALENDAR).expect("example calendar")
}

fn req(action: Action, at: &str, by: &str, role: &str) -> Request {
    Request::new(action, t(at), by, role)
}

fn act(store: &dyn Store, id: i64, r: &Request) -> Result<Case, Refusal> {
    let cal = calendar();
    store
        .change_case(id, &mut |c| workflow::apply(c, r, &cal))
        .expect("store")
}

fn done(store: &dyn Store, id: i64, r: &Request) -> Case {
    act(store, id, r).unwrap_or_else(|e| panic!("case {id}: {:?} refused: {e}", r.action))
}

/// Migrated cases continue through the workflow, due times counted on the example calendar.
fn check_continuing(store: &dyn Store) {
    let cal = calendar();

    // 3 (disposed by its grid): checked on site, then closed
    let c = done(
        store,
        3,
        &req(
            Action::Check,
            "2026-11-20T10:00:00+08:00",
            "网格员张三",
            "grid_worker",
        ),
    );
    assert_eq!(c.stage, Stage::Checked);
    let e = c.events.last().expect("event");
    assert_eq!((e.seq, e.action), (3, Action::Check));
    // the disposed stage ran to the old due time (11-11 10:00): checked late
    assert_eq!(e.on_time, Some(false));
    // 1 working day from Friday 10:00 is Monday 10:00
    assert_eq!(c.due_at, t("2026-11-23T10:00:00+08:00"));
    assert_eq!(e.due_at, Some(c.due_at));
    let c = done(
        store,
        3,
        &req(
            Action::Close,
            "2026-11-23T09:30:00+08:00",
            "区中心王五",
            "dispatcher",
        ),
    );
    assert_eq!(c.stage, Stage::Closed);
    assert_eq!(c.done_at, Some(t("2026-11-23T09:30:00+08:00")));
    assert_eq!(c.events.last().and_then(|e| e.on_time), Some(true));
    assert_eq!(
        c.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(!c.is_overdue(t("2027-01-01T00:00:00+08:00")));
    assert_eq!(store.get_case(3).expect("case 3"), c);

    // 1 (dispatched to its grid): an extension asked for and approved, then escalated when the
    // new due time passes, then dispatched to a department
    let until = "2026-11-12T17:00:00+08:00";
    let mut r = req(
        Action::RequestExtension,
        "2026-11-09T09:00:00+08:00",
        "网格员张三",
        "grid_worker",
    );
    r.note = Some("摊主外出，需再约".into());
    r.until = Some(t(until));
    let c = done(store, 1, &r);
    assert_eq!(c.pending_extension(), Some(t(until)));
    assert_eq!(c.due_at, t("2026-11-09T09:30:00+08:00"), "not yet approved");
    let c = done(
        store,
        1,
        &req(
            Action::ApproveExtension,
            "2026-11-09T09:10:00+08:00",
            "区中心王五",
            "dispatcher",
        ),
    );
    assert_eq!(c.pending_extension(), None);
    assert_eq!(c.due_at, t(until));
    assert!(!c.is_overdue(t(until)));
    assert!(c.is_overdue(t("2026-11-12T17:01:00+08:00")));
    let c = done(
        store,
        1,
        &req(
            Action::Escalate,
            "2026-11-12T17:01:00+08:00",
            "gridatlas",
            "system",
        ),
    );
    assert_eq!(c.stage, Stage::Opened);
    assert_eq!(c.track, Some(Track::BackEnd));
    assert_eq!(c.assigned_grid, None);
    assert!(c.escalated());
    assert_eq!(c.events.last().and_then(|e| e.on_time), Some(false));
    // 1 working hour from Thursday 17:01 (after hours): Friday 10:00
    assert_eq!(c.due_at, t("2026-11-13T10:00:00+08:00"));
    let mut to_grid = req(
        Action::Dispatch,
        "2026-11-13T09:20:00+08:00",
        "区中心王五",
        "dispatcher",
    );
    to_grid.grid = Some("S1G2".into());
    match act(store, 1, &to_grid) {
        Err(Refusal::Conflict { stage, .. }) => assert_eq!(stage, Stage::Opened),
        other => panic!("an escalated case goes to a department: {other:?}"),
    }
    let mut to_dept = to_grid.clone();
    to_dept.grid = None;
    to_dept.department = Some(MARKET.into());
    let c = done(store, 1, &to_dept);
    assert_eq!(
        (c.stage, c.track, c.department.as_deref()),
        (Stage::Dispatched, Some(Track::BackEnd), Some(MARKET))
    );
    // 5 working days from Friday 09:20: the next Friday 09:20
    assert_eq!(c.due_at, t("2026-11-20T09:20:00+08:00"));
    assert_eq!(c.events.len(), 5);

    // 2 (opened, in its street queue): dispatched to a grid, 7 days on the front end
    let mut r = req(
        Action::Dispatch,
        "2026-11-20T11:00:00+08:00",
        "街道分中心李四",
        "dispatcher",
    );
    r.grid = Some("S1G3".into());
    let c = done(store, 2, &r);
    assert_eq!(
        (c.stage, c.track, c.assigned_grid.as_deref()),
        (Stage::Dispatched, Some(Track::FrontEnd), Some("S1G3"))
    );
    assert_eq!(c.due_at, t("2026-11-27T11:00:00+08:00"));
    assert_eq!(
        c.due_at,
        workflow::due(&cal, t("2026-11-20T11:00:00+08:00"), Limit::Days(7)).expect("due")
    );

    // 4 (dispatched to a department): closing is refused, naming the stage; the department
    // disposes of it
    match act(
        store,
        4,
        &req(
            Action::Close,
            "2026-11-09T09:00:00+08:00",
            "区中心王五",
            "dispatcher",
        ),
    ) {
        Err(Refusal::Conflict { stage, allowed, .. }) => {
            assert_eq!(stage, Stage::Dispatched);
            assert!(allowed.contains(&Action::Dispose), "{allowed:?}");
        }
        other => panic!("a dispatched case cannot be closed: {other:?}"),
    }
    let mut r = req(
        Action::Dispose,
        "2026-11-09T10:00:00+08:00",
        "执法队赵六",
        "department",
    );
    r.note = Some("已立案查处".into());
    let c = done(store, 4, &r);
    assert_eq!(c.stage, Stage::Disposed);
    let e = c.events.last().expect("event");
    assert_eq!(
        (e.department.as_deref(), e.grid.as_deref()),
        (Some(MARKET), None)
    );
    // 1 working day from Monday 10:00: Tuesday 10:00
    assert_eq!(c.due_at, t("2026-11-10T10:00:00+08:00"));

    // 5 (closed): nothing more happens
    match act(
        store,
        5,
        &req(
            Action::Supervise,
            "2026-11-20T10:00:00+08:00",
            "督办",
            "supervisor",
        ),
    ) {
        Err(Refusal::Conflict { stage, allowed, .. }) => {
            assert_eq!(stage, Stage::Closed);
            // only the reporter's verdict reopens a closed case
            assert_eq!(allowed, [Action::Reopen]);
        }
        other => panic!("a closed case is finished: {other:?}"),
    }

    // a new case after the old ones
    let reported = t("2026-11-20T10:00:00+08:00");
    let new = NewCase {
        category: "SG0101".into(),
        source: Source::Hotline,
        description: "新案件".into(),
        input: (121.11, 30.81, "wgs84".into()),
        reported_at: reported,
        photos: Vec::new(),
        created_by: "token-hotline".into(),
        role: "intake".into(),
        contact: None,
        assignment: assignment("SG0101", [121.11, 30.81], "S1", Some("S1G1"), reported),
        limits: StageLimits::default(),
        due_at: workflow::due(&cal, reported, Limit::WorkHours(1)).expect("due"),
        feedback_sha256: None,
    };
    let c = store.create_case(&new).expect("a new case");
    assert_eq!(c.id, 8);
    assert_eq!(store.get_case(8).expect("case 8"), c);
}

// ---------------------------------------------------------------------------------------------
// The tests

/// Old store → opened (migrated) → checked through the store's API → continued.
fn migrates_old_cases_and_tokens(db: &TestDb) {
    let old = old_store(db);
    let store = db.open();
    assert!(pending_now(db).is_empty(), "opening ran the migration");
    check_mapped(&*store, &old);
    check_listing(&*store);
    check_indicators(&*store);
    check_tokens_and_categories(&*store, &old);
    check_continuing(&*store);
}

/// Old store → migrated → reverted: the old rows exactly as written → migrated again: the
/// same cases as the first time.
fn down_migration_round_trips(db: &TestDb) {
    let old = old_store(db);
    let first = {
        let store = db.open();
        (
            all_cases(&*store),
            store.list_tokens().expect("tokens"),
            store.categories().expect("categories"),
        )
    };
    let reverted = revert_workflow(db);
    assert_eq!(pending_now(db).first().map(String::as_str), Some(WORKFLOW));
    assert_eq!(reverted.cases.len(), old.cases.len());
    for (r, o) in reverted.cases.iter().zip(&old.cases) {
        assert_eq!(r, o, "case {} as the old code wrote it", o.id);
    }
    assert_eq!(reverted.events.len(), old.events.len());
    for (r, o) in reverted.events.iter().zip(&old.events) {
        assert_eq!(
            r, o,
            "case {} event {} as the old code wrote it",
            o.case_id, o.seq
        );
    }
    assert_eq!(reverted.tokens, old.tokens);
    assert_eq!(reverted.categories, old.categories);
    let store = db.open();
    assert!(pending_now(db).is_empty());
    let again = (
        all_cases(&*store),
        store.list_tokens().expect("tokens"),
        store.categories().expect("categories"),
    );
    assert_eq!(again, first, "migrated again: the same as the first time");
    check_mapped(&*store, &old);
}

suite!(migrates_old_cases_and_tokens, down_migration_round_trips);
