//! The diesel schema of each backend checked against its migrations: the migrations are applied
//! to a fresh SQLite file and to a fresh PostGIS database, and every table the database reports is
//! compared with the diesel schema, column by column (name, SQL type, nullability), in both
//! directions: a column (or table) of the migrations missing from the schema fails, and so does a
//! column (or table) of the schema missing from the migrations.
//!
//! PostGIS is found through `GRIDATLAS_TEST_PG` as in tests/store.rs (with `CI=true` a missing
//! PostGIS is a failure, otherwise a loud skip).
//!
//! A new table: add it to `schema_tables!` (one line); a new SQL type: add it to `sql_name!` with
//! its name on each backend.

use diesel::sql_types::{
    BigInt, Bool, Date, Double, Integer, Nullable, Text, Timestamptz, TimestamptzSqlite,
};
use diesel::{Column, Connection, Expression, QueryableByName, RunQueryDsl, Table};
use gridatlas::store::{schema_pg as pg, schema_sqlite as lite};
use postgis_diesel::sql_types::Geometry;
use std::collections::BTreeMap;

#[macro_use]
#[path = "support/db.rs"]
mod db;
use db::TestDb;

/// One column as diesel declares it or as the database reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Col {
    name: String,
    /// SQLite: the declared type; PostgreSQL: `udt_name`.
    ty: String,
    nullable: bool,
}

#[derive(Clone, Copy)]
enum Db {
    Sqlite,
    Pg,
}

/// The name a diesel SQL type has in each backend's catalogue. `sqlite` lists the declared types
/// accepted (an `INTEGER PRIMARY KEY` is SQLite's 64-bit rowid, so it is a `BigInt`).
trait SqlName {
    const SQLITE: &'static [&'static str];
    const PG: &'static str;
    const NULLABLE: bool = false;
}

macro_rules! sql_name {
    ($($t:ty => [$($lite:literal),+], $pg:literal;)*) => {
        $(impl SqlName for $t {
            const SQLITE: &'static [&'static str] = &[$($lite),+];
            const PG: &'static str = $pg;
        })*
    };
}

sql_name! {
    BigInt => ["BIGINT", "INTEGER"], "int8";
    Integer => ["INTEGER"], "int4";
    Text => ["TEXT"], "text";
    Double => ["DOUBLE"], "float8";
    Bool => ["BOOLEAN"], "bool";
    Date => ["DATE"], "date";
    Timestamptz => ["TIMESTAMPTZ"], "timestamptz";
    TimestamptzSqlite => ["TIMESTAMPTZ"], "timestamptz";
    Geometry => ["BLOB"], "geometry";
}

impl<T: SqlName> SqlName for Nullable<T> {
    const SQLITE: &'static [&'static str] = T::SQLITE;
    const PG: &'static str = T::PG;
    const NULLABLE: bool = true;
}

/// What diesel says of one column: name, accepted type names on `db`, nullability.
struct Declared {
    name: &'static str,
    types: Vec<&'static str>,
    nullable: bool,
}

fn declared<C>(db: Db) -> Declared
where
    C: Column,
    <C as Expression>::SqlType: SqlName,
{
    type St<C> = <C as Expression>::SqlType;
    Declared {
        name: C::NAME,
        types: match db {
            Db::Sqlite => St::<C>::SQLITE.to_vec(),
            Db::Pg => vec![St::<C>::PG],
        },
        nullable: St::<C>::NULLABLE,
    }
}

/// The columns of a table's `all_columns` tuple, in order.
trait Columns {
    fn declared(db: Db) -> Vec<Declared>;
}

macro_rules! columns_tuple {
    ($($c:ident),+) => {
        impl<$($c),+> Columns for ($($c,)+)
        where
            $($c: Column, <$c as Expression>::SqlType: SqlName,)+
        {
            fn declared(db: Db) -> Vec<Declared> {
                vec![$(declared::<$c>(db)),+]
            }
        }
    };
}

macro_rules! all_tuples {
    ($head:ident) => { columns_tuple!($head); };
    ($head:ident, $($tail:ident),+) => {
        columns_tuple!($head, $($tail),+);
        all_tuples!($($tail),+);
    };
}

all_tuples!(
    C32, C31, C30, C29, C28, C27, C26, C25, C24, C23, C22, C21, C20, C19, C18, C17, C16, C15, C14,
    C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1
);

fn table<T>(name: &'static str, db: Db) -> (&'static str, Vec<Declared>)
where
    T: Table,
    T::AllColumns: Columns,
{
    (name, <T::AllColumns as Columns>::declared(db))
}

/// Every table of a diesel schema module (`lite` or `pg`), as diesel declares it for `db`.
macro_rules! schema_tables {
    ($schema:ident, $db:expr) => {
        vec![
            table::<$schema::drafts::table>("drafts", $db),
            table::<$schema::draft_features::table>("draft_features", $db),
            table::<$schema::generations::table>("generations", $db),
            table::<$schema::features::table>("features", $db),
            table::<$schema::tokens::table>("tokens", $db),
            table::<$schema::categories::table>("categories", $db),
            table::<$schema::cases::table>("cases", $db),
            table::<$schema::case_events::table>("case_events", $db),
            table::<$schema::settings::table>("settings", $db),
            table::<$schema::case_feedback::table>("case_feedback", $db),
            table::<$schema::case_facts::table>("case_facts", $db),
            table::<$schema::case_photos::table>("case_photos", $db),
            table::<$schema::reviews::table>("reviews", $db),
            table::<$schema::review_cases::table>("review_cases", $db),
            table::<$schema::review_assignments::table>("review_assignments", $db),
            table::<$schema::staff::table>("staff", $db),
            table::<$schema::duty::table>("duty", $db),
            table::<$schema::checkins::table>("checkins", $db),
            table::<$schema::tracks::table>("tracks", $db),
            table::<$schema::positions::table>("positions", $db),
            table::<$schema::components::table>("components", $db),
            table::<$schema::shops::table>("shops", $db),
            table::<$schema::shop_inspections::table>("shop_inspections", $db),
            table::<$schema::shop_points::table>("shop_points", $db),
            table::<$schema::idempotency_keys::table>("idempotency_keys", $db),
        ]
    };
}

/// Every difference between the diesel schema and the tables the database reports, one line each.
fn differences(
    backend: &str,
    schema: Vec<(&'static str, Vec<Declared>)>,
    mut actual: BTreeMap<String, Vec<Col>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (table, declared) in schema {
        let Some(cols) = actual.remove(table) else {
            out.push(format!(
                "{backend}: table {table} is in the diesel schema but not in the migrations"
            ));
            continue;
        };
        for d in &declared {
            match cols.iter().find(|c| c.name == d.name) {
                None => out.push(format!(
                    "{backend}: column {table}.{} is in the diesel schema but not in the migrations",
                    d.name
                )),
                Some(c) => {
                    if !d.types.iter().any(|t| t.eq_ignore_ascii_case(&c.ty)) {
                        out.push(format!(
                            "{backend}: column {table}.{}: the migrations make it {}, the diesel schema expects {}",
                            d.name,
                            c.ty,
                            d.types.join(" or ")
                        ));
                    }
                    if c.nullable != d.nullable {
                        let says = |n: bool| if n { "nullable" } else { "NOT NULL" };
                        out.push(format!(
                            "{backend}: column {table}.{}: the migrations make it {}, the diesel schema {}",
                            d.name,
                            says(c.nullable),
                            says(d.nullable)
                        ));
                    }
                }
            }
        }
        for c in &cols {
            if !declared.iter().any(|d| d.name == c.name) {
                out.push(format!(
                    "{backend}: column {table}.{} ({}) is in the migrations but not in the diesel schema",
                    c.name, c.ty
                ));
            }
        }
    }
    for table in actual.keys() {
        out.push(format!(
            "{backend}: table {table} is in the migrations but not in the diesel schema"
        ));
    }
    out
}

/// One column as a database catalogue reports it.
#[derive(QueryableByName)]
struct CatalogColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// The catalogue's columns by table.
fn by_table(cols: Vec<CatalogColumn>) -> BTreeMap<String, Vec<Col>> {
    let mut out: BTreeMap<String, Vec<Col>> = BTreeMap::new();
    for c in cols {
        out.entry(c.table_name).or_default().push(Col {
            name: c.column_name,
            ty: c.ty,
            nullable: c.nullable,
        });
    }
    out
}

/// The tables of a SQLite database (diesel's and SQLite's own left out) and their columns, from
/// `pragma table_info`. An `INTEGER PRIMARY KEY` is the rowid: never NULL, whatever `notnull`
/// says.
fn sqlite_tables(path: &str) -> BTreeMap<String, Vec<Col>> {
    let mut conn = diesel::SqliteConnection::establish(path).expect("open SQLite");
    let cols: Vec<CatalogColumn> = diesel::sql_query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS ty, \
                (p.\"notnull\" = 0 AND NOT (p.pk = 1 AND upper(p.type) = 'INTEGER')) AS nullable \
         FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '__diesel_%' \
         ORDER BY m.name, p.cid",
    )
    .load(&mut conn)
    .expect("pragma table_info");
    by_table(cols)
}

/// The base tables of the `public` schema (diesel's and PostGIS's left out) and their columns,
/// from `information_schema.columns` (the type is `udt_name`).
fn pg_tables(url: &str) -> BTreeMap<String, Vec<Col>> {
    let mut conn = diesel::PgConnection::establish(url).expect("connect to PostGIS");
    let cols: Vec<CatalogColumn> = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                c.udt_name::text AS ty, c.is_nullable = 'YES' AS nullable \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
           AND c.table_name NOT LIKE '\\_\\_diesel\\_%' AND c.table_name <> 'spatial_ref_sys' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .load(&mut conn)
    .expect("information_schema.columns");
    by_table(cols)
}

/// Applies the migrations to `db` and compares its tables with the diesel schema.
fn check(
    db: &TestDb,
    backend: &str,
    schema: Vec<(&'static str, Vec<Declared>)>,
    tables: fn(&str) -> BTreeMap<String, Vec<Col>>,
) {
    gridatlas::store::migrate(&db.url).expect("migrate");
    let diffs = differences(backend, schema, tables(&db.url));
    assert!(
        diffs.is_empty(),
        "the diesel schema differs from the migrations:\n  {}",
        diffs.join("\n  ")
    );
}

#[test]
fn sqlite_schema_matches_migrations() {
    let db = TestDb::sqlite();
    check(
        &db,
        "SQLite",
        schema_tables!(lite, Db::Sqlite),
        sqlite_tables,
    );
}

#[test]
fn postgis_schema_matches_migrations() {
    if let Some(db) = TestDb::postgres("schema_matches_migrations") {
        check(&db, "PostgreSQL", schema_tables!(pg, Db::Pg), pg_tables);
    }
}

#[test]
fn a_wrong_schema_is_reported() {
    let col = |name: &str, ty: &str, nullable: bool| Col {
        name: name.into(),
        ty: ty.into(),
        nullable,
    };
    let actual = BTreeMap::from([
        (
            "t".to_string(),
            vec![
                col("a", "int8", false),
                col("b", "text", true),
                col("extra", "text", true),
            ],
        ),
        ("u".to_string(), vec![col("x", "int4", false)]),
    ]);
    let schema = vec![(
        "t",
        vec![
            Declared {
                name: "a",
                types: vec!["int4"],
                nullable: false,
            },
            Declared {
                name: "b",
                types: vec!["text"],
                nullable: false,
            },
            Declared {
                name: "missing",
                types: vec!["text"],
                nullable: false,
            },
        ],
    )];
    let diffs = differences("PostgreSQL", schema, actual);
    let expect = [
        "column t.a: the migrations make it int8, the diesel schema expects int4",
        "column t.b: the migrations make it nullable, the diesel schema NOT NULL",
        "column t.missing is in the diesel schema but not in the migrations",
        "column t.extra (text) is in the migrations but not in the diesel schema",
        "table u is in the migrations but not in the diesel schema",
    ];
    for e in expect {
        assert!(
            diffs.iter().any(|d| d.contains(e)),
            "{e:?} not reported in {diffs:#?}"
        );
    }
    assert_eq!(diffs.len(), expect.len(), "{diffs:#?}");
}
