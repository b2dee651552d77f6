//! Rebuilds when a migration is added or changed: `embed_migrations!` reads the migrations
//! directories at compile time, and cargo does not otherwise know it depends on them.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
