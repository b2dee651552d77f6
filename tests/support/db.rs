//! One fresh database per test, on both backends: a SQLite file in a temporary directory, or a
//! PostGIS database cloned from `gridatlas_template` (scripts/ensure-postgis.sh) and dropped at
//! the end. `suite!(a, b)` makes `sqlite::a`, `postgis::a`, … from `fn a(db: &TestDb)`.
//!
//! PostGIS is found through `GRIDATLAS_TEST_PG` (a base URL such as
//! `postgres://gridatlas:gridatlas@localhost:5432`, as printed by scripts/ensure-postgis.sh).
//! Unset: with `CI=true` every PostGIS case fails; otherwise each prints a loud skip notice.

#![allow(dead_code)]

use diesel::{Connection, RunQueryDsl};
use gridatlas::store::{self, Store};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// (admin URL, database name) of a PostGIS test database, dropped at the end.
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = dir.path().join("gridatlas.db").display().to_string();
        TestDb {
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh database cloned from `gridatlas_template`, or `None` (with a loud notice) when
    /// `GRIDATLAS_TEST_PG` is unset outside CI.
    pub fn postgres(test: &str) -> Option<TestDb> {
        let Ok(base) = std::env::var("GRIDATLAS_TEST_PG") else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "GRIDATLAS_TEST_PG is not set but CI=true: PostGIS tests must run in CI (run scripts/test, which provisions PostGIS)"
                );
            }
            eprintln!(
                "\n!!!!! SKIPPED PostGIS test {test}: GRIDATLAS_TEST_PG is not set (run scripts/test or \
                 export GRIDATLAS_TEST_PG=$(scripts/ensure-postgis.sh)) !!!!!\n"
            );
            return None;
        };
        let base = base.trim_end_matches('/').to_string();
        let admin = format!("{base}/postgres");
        let name = format!(
            "test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            test.to_ascii_lowercase()
        );
        let mut conn = diesel::PgConnection::establish(&admin).unwrap_or_else(|e| {
            panic!("PostGIS at {base} is unreachable ({e}); run scripts/ensure-postgis.sh")
        });
        let mut tries = 0;
        loop {
            match diesel::sql_query(format!(
                "CREATE DATABASE {name} TEMPLATE gridatlas_template"
            ))
            .execute(&mut conn)
            {
                Ok(_) => break,
                // Two clones of the template at the same instant collide; try again.
                Err(e) if tries < 50 && e.to_string().contains("being accessed") => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("cannot create test database {name}: {e}"),
            }
        }
        Some(TestDb {
            url: format!("{base}/{name}"),
            _dir: None,
            pg: Some((admin, name)),
        })
    }

    pub fn open(&self) -> Box<dyn Store> {
        store::open(&self.url).expect("open store")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut conn) = diesel::PgConnection::establish(admin) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn);
            }
        }
    }
}

#[macro_export]
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name(&$crate::db::TestDb::sqlite());
                }
            )*
        }
        mod postgis {
            $(
                #[test]
                fn $name() {
                    if let Some(db) = $crate::db::TestDb::postgres(stringify!($name)) {
                        super::$name(&db);
                    }
                }
            )*
        }
    };
}
