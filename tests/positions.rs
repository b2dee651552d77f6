//! Each person's newest position (`positions`, kept by triggers on `checkins` and `tracks`;
//! migration `2026-12-15-000001_positions`), on both stores:
//!
//! - a store written before the migration (check-ins, track chunks with and without their last
//!   fix stored beside them) is migrated, and every person's position at every time is what it
//!   was: the newest check-in or chunk end by then, a fix on a tie;
//! - after it, new check-ins and fixes move the newest position, late ones (dated before it) do
//!   not, and a time before the newest still finds the position then;
//! - the purge takes the positions older than the retention with the rows they came from.
//!
//! The answers are compared with a brute force over everything written (`expected`), read through
//! the store's `last_position` and `checkin_context`, which is what the check-in reads.

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/migrations.rs"]
mod migrations;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use db::TestDb;
use diesel::backend::Backend;
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use gridatlas::field::duty::{CheckIn, Class, Place, Punch};
use gridatlas::field::roster::{OrgKind, Staff};
use gridatlas::field::{Fix, Track};
use gridatlas::model::Role;
use gridatlas::store::Store;
use migrations::{PG_MIGRATIONS, SQLITE_MIGRATIONS, migrate_before};

/// The migration that adds `positions`.
const POSITIONS: &str = "20261215000001";

/// A position written: who, when, where, and whether a fix (else a check-in).
#[derive(Debug, Clone, Copy)]
struct Known {
    staff: &'static str,
    t: DateTime<Utc>,
    lon: f64,
    fix: bool,
}

fn base() -> DateTime<Utc> {
    // whole seconds: the SQL below writes them as text
    DateTime::from_timestamp((Utc::now() - Duration::hours(6)).timestamp(), 0).expect("time")
}

/// What the old code had written: A with check-ins and chunks (a check-in and a chunk end at
/// the same time), B with check-ins only, C with a chunk whose last fix is not stored beside it
/// (written before 2026-12-11) and a later check-in, D with a chunk only.
/// An old track chunk: its end, whether its last fix is stored beside it, its fixes (minute, lon).
type OldChunk = (Known, bool, Vec<(i64, f64)>);

fn old_rows(t0: DateTime<Utc>) -> (Vec<Known>, Vec<OldChunk>) {
    let at = |m: i64| t0 + Duration::minutes(m);
    let checkins = vec![
        Known {
            staff: "A",
            t: at(0),
            lon: 121.10,
            fix: false,
        },
        Known {
            staff: "A",
            t: at(30),
            lon: 121.11,
            fix: false,
        },
        Known {
            staff: "B",
            t: at(5),
            lon: 121.20,
            fix: false,
        },
        Known {
            staff: "B",
            t: at(50),
            lon: 121.21,
            fix: false,
        },
        Known {
            staff: "C",
            t: at(40),
            lon: 121.30,
            fix: false,
        },
    ];
    let chunks = vec![
        (
            Known {
                staff: "A",
                t: at(30),
                lon: 121.12,
                fix: true,
            },
            true,
            vec![(20, 121.13), (30, 121.12)],
        ),
        (
            Known {
                staff: "A",
                t: at(10),
                lon: 121.14,
                fix: true,
            },
            true,
            vec![(5, 121.15), (10, 121.14)],
        ),
        (
            Known {
                staff: "C",
                t: at(20),
                lon: 121.31,
                fix: true,
            },
            false,
            vec![(15, 121.32), (20, 121.31)],
        ),
        (
            Known {
                staff: "D",
                t: at(25),
                lon: 121.40,
                fix: true,
            },
            true,
            vec![(25, 121.40)],
        ),
    ];
    (checkins, chunks)
}

/// The chunk's fixes as EWKB hex (MultiPoint M, SRID 4326), as both stores keep them.
fn ewkb(t0: DateTime<Utc>, fixes: &[(i64, f64)]) -> String {
    let mut b: Vec<u8> = vec![1];
    b.extend_from_slice(&(4u32 | 0x4000_0000 | 0x2000_0000).to_le_bytes());
    b.extend_from_slice(&4326u32.to_le_bytes());
    b.extend_from_slice(&(fixes.len() as u32).to_le_bytes());
    for (m, lon) in fixes {
        b.push(1);
        b.extend_from_slice(&(1u32 | 0x4000_0000).to_le_bytes());
        b.extend_from_slice(&lon.to_le_bytes());
        b.extend_from_slice(&30.9f64.to_le_bytes());
        let secs = (t0 + Duration::minutes(*m)).timestamp() as f64;
        b.extend_from_slice(&secs.to_le_bytes());
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes the old rows with plain SQL (as the code before the migration stored them).
/// Migrates to the schema before `POSITIONS` and runs `sql` there, statement by statement.
fn write_before<DB, C>(conn: &mut C, source: impl Fn() -> EmbeddedMigrations, sql: &[String])
where
    DB: Backend,
    C: MigrationHarness<DB> + SimpleConnection,
    EmbeddedMigrations: MigrationSource<DB>,
{
    migrate_before(conn, source, POSITIONS);
    for q in sql {
        conn.batch_execute(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

fn write_old(db: &TestDb, t0: DateTime<Utc>) -> Vec<Known> {
    let pg = db.url.starts_with("postgres");
    let (checkins, chunks) = old_rows(t0);
    let ts = |t: DateTime<Utc>| {
        if pg {
            t.to_rfc3339()
        } else {
            t.format("%Y-%m-%d %H:%M:%S%:z").to_string()
        }
    };
    let mut sql = Vec::new();
    for c in &checkins {
        sql.push(format!(
            "INSERT INTO checkins (staff, t, punch, lon, lat, place, class, recorded_at) \
             VALUES ('{}', '{}', 'in', {}, 30.9, 'inside', 'on_time', '{}')",
            c.staff,
            ts(c.t),
            c.lon,
            ts(c.t)
        ));
    }
    for (end, kept, fixes) in &chunks {
        let from = t0 + Duration::minutes(fixes[0].0);
        let geom = if pg {
            format!("'{}'::geometry", ewkb(t0, fixes))
        } else {
            format!("X'{}'", ewkb(t0, fixes))
        };
        let (lon, lat) = if *kept {
            (end.lon.to_string(), "30.9".to_string())
        } else {
            ("NULL".to_string(), "NULL".to_string())
        };
        sql.push(format!(
            "INSERT INTO tracks (staff, t_from, t_to, n, min_lon, min_lat, max_lon, max_lat, fixes, last_lon, last_lat) \
             VALUES ('{}', '{}', '{}', {}, 121.0, 30.9, 121.5, 30.9, {geom}, {lon}, {lat})",
            end.staff,
            ts(from),
            ts(end.t),
            fixes.len()
        ));
    }
    if pg {
        let mut conn = diesel::PgConnection::establish(&db.url).expect("connection");
        write_before(&mut conn, || PG_MIGRATIONS, &sql);
    } else {
        let mut conn = diesel::SqliteConnection::establish(&db.url).expect("connection");
        write_before(&mut conn, || SQLITE_MIGRATIONS, &sql);
    }
    let mut known = checkins;
    for (end, _, fixes) in &chunks {
        known.extend(fixes.iter().map(|(m, lon)| Known {
            staff: end.staff,
            t: t0 + Duration::minutes(*m),
            lon: *lon,
            fix: true,
        }));
    }
    known
}

/// The position a check-in at `at` must see, by brute force: the newest known by then, a fix
/// on a tie.
fn expected(known: &[Known], staff: &str, at: DateTime<Utc>) -> Option<(i64, f64)> {
    known
        .iter()
        .filter(|k| k.staff == staff && k.t <= at)
        .max_by_key(|k| (k.t, k.fix))
        .map(|k| (k.t.timestamp_millis(), k.lon))
}

/// Every person's position at every minute of the period (and a microsecond either side of each
/// time written), through both of the store's reads, against `expected`.
fn check_all(store: &dyn Store, known: &[Known], t0: DateTime<Utc>, minutes: i64, what: &str) {
    let mut times: Vec<DateTime<Utc>> = (-1..=minutes).map(|m| t0 + Duration::minutes(m)).collect();
    for k in known {
        times.push(k.t - Duration::microseconds(1));
        times.push(k.t + Duration::microseconds(1));
    }
    let day = t0.date_naive();
    for staff in ["A", "B", "C", "D", "E"] {
        for &at in &times {
            let want = expected(known, staff, at);
            let got = store
                .last_position(staff, at)
                .expect("last position")
                .map(|f: Fix| (f.t_ms, f.lon));
            assert_eq!(got, want, "{what}: {staff} at {at}");
            if staff != "E" {
                let ctx = store
                    .checkin_context(staff, at, day, day)
                    .expect("context")
                    .last_position
                    .map(|f| (f.t_ms, f.lon));
                assert_eq!(ctx, want, "{what}: {staff}'s check-in context at {at}");
            }
        }
    }
}

fn checkin(staff: &str, t: DateTime<Utc>, lon: f64) -> CheckIn {
    CheckIn {
        id: 0,
        staff: staff.into(),
        t,
        punch: Punch::In,
        lon,
        lat: 30.9,
        accuracy_m: Some(5.0),
        place: Place::Inside,
        distance_m: Some(0.0),
        area: None,
        class: Class::OnTime,
        shift_date: None::<NaiveDate>,
        shift: None,
        recorded_at: t,
    }
}

fn positions_survive_the_migration_and_follow_new_rows(db: &TestDb) {
    let t0 = base();
    let mut known = write_old(db, t0);
    let store = db.open();
    // the people the check-in context knows (E stays unknown: no rows at all)
    store
        .replace_staff(
            None,
            &["A", "B", "C", "D"].map(|id| Staff {
                id: id.into(),
                name: format!("巡查员{id}"),
                phone: None,
                role: Role::EnforcementOfficer,
                org: "朱泾城管中队".into(),
                org_kind: OrgKind::CityManagement,
                team: None,
                street: "310116001".into(),
                areas: vec!["310116001001".into()],
            }),
        )
        .expect("staff");
    check_all(store.as_ref(), &known, t0, 60, "migrated");

    // new rows: a later check-in of A, a late one (before A's newest), a fix batch for B ending
    // on B's check-in time (the fix wins the tie), a first check-in of D after D's chunk, and a
    // chunk of C straddling C's check-in
    let at = |m: i64| t0 + Duration::minutes(m);
    let fix = |m: i64, lon: f64| Fix {
        t_ms: at(m).timestamp_millis(),
        lon,
        lat: 30.9,
        accuracy_m: None,
    };
    for (staff, m, lon) in [("A", 70, 121.16), ("A", 45, 121.17), ("D", 55, 121.41)] {
        store
            .add_checkin(&checkin(staff, at(m), lon))
            .expect("check-in");
        known.push(Known {
            staff,
            t: at(m),
            lon,
            fix: false,
        });
    }
    let batches = [
        ("B", vec![(48, 121.22), (50, 121.23)]),
        ("C", vec![(35, 121.33), (45, 121.34)]),
    ];
    for (staff, fixes) in &batches {
        store
            .add_tracks(&[Track {
                staff: (*staff).into(),
                fixes: fixes.iter().map(|&(m, lon)| fix(m, lon)).collect(),
            }])
            .expect("tracks");
        known.extend(fixes.iter().map(|&(m, lon)| Known {
            staff,
            t: at(m),
            lon,
            fix: true,
        }));
    }
    check_all(store.as_ref(), &known, t0, 80, "after new rows");
    assert_eq!(
        store
            .last_position("B", at(50))
            .expect("last")
            .map(|f| f.lon),
        Some(121.23),
        "B's fix at 50 min wins the tie with B's check-in then"
    );

    // the purge at 60 min: every row before it goes (all chunks ended before it), and so do
    // the positions older than it — B's, C's and D's newest are, and they must not linger as
    // the answer for a later check-in; A's check-in at 70 min stays
    let cut = at(60);
    store.purge_field(cut).expect("purge");
    known.retain(|k| k.t >= cut);
    check_all(store.as_ref(), &known, t0, 80, "after the purge");
    for staff in ["B", "C", "D"] {
        assert_eq!(
            store.last_position(staff, Utc::now()).expect("last"),
            None,
            "{staff}"
        );
    }
    assert_eq!(
        store
            .last_position("A", Utc::now())
            .expect("last")
            .map(|f| f.lon),
        Some(121.16)
    );
}

suite!(positions_survive_the_migration_and_follow_new_rows);
