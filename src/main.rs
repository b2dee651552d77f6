//! The `gridatlas` command line.

fn main() {
    println!("gridatlas");
}
