//! The dependency rule of docs/architecture.md, checked on the source: layers point one way,
//!
//! `cli` → `http` → `service` → `wire` (the API's shapes) → `store`, `atlas`, `validate`,
//! `routing`, `geo_io`, `cases`, `synth`, `field` → `model`, `geometry`
//!
//! so a module may name only the modules below it. A path into a module (`crate::store::…`,
//! `use crate::{store, …}`, `gridatlas::http`) in a file of a lower layer fails this test with the
//! file, the line and the rule it breaks.

use std::path::{Path, PathBuf};

/// The layers, top first. A module may name the modules of the layers below its own, and within
/// its layer only those [`SIDEWAYS`] allows.
const LAYERS: &[&[&str]] = &[
    &["cli"],
    &["http"],
    &["service"],
    &["wire"],
    &[
        "store", "routing", "cases", "atlas", "validate", "geo_io", "synth", "calendar", "field",
        "assets",
    ],
    &["model", "geometry"],
];

/// The edges allowed within a layer: the store keeps cases and categories, routing uses the
/// atlas, a case carries its routing, cases and the task list count stage limits on the working
/// calendar, the atlas and the validator read GeoJSON files in tests and tools; the store keeps
/// the field force, which geofences with the atlas and which the demo's patrol day is made of;
/// the store keeps the asset registers, which bind shops on the atlas, report findings in the
/// validator's terms, read files with geo_io's CRS and the roster's CSV decoding; routing asks
/// them, and the demo synthesises them.
const SIDEWAYS: &[(&str, &str)] = &[
    ("store", "cases"),
    ("store", "routing"),
    ("store", "geo_io"),
    ("routing", "atlas"),
    ("cases", "routing"),
    ("cases", "calendar"),
    ("routing", "calendar"),
    ("atlas", "geo_io"),
    ("validate", "geo_io"),
    ("model", "geometry"),
    ("store", "field"),
    ("field", "atlas"),
    ("synth", "field"),
    ("store", "assets"),
    ("assets", "atlas"),
    ("assets", "validate"),
    ("assets", "geo_io"),
    ("assets", "field"),
    ("routing", "assets"),
    ("synth", "assets"),
];

/// The modules `module` must not name.
fn forbidden(module: &str) -> Vec<&'static str> {
    let level = LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("{module} is in no layer"));
    let mut out: Vec<&str> = LAYERS[..level]
        .iter()
        .flat_map(|l| l.iter().copied())
        .collect();
    out.extend(
        LAYERS[level]
            .iter()
            .copied()
            .filter(|m| *m != module && !SIDEWAYS.contains(&(module, *m))),
    );
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate's modules a line names: `crate::m`, `gridatlas::m`, and the names inside
/// `use crate::{a, b::c}`.
fn named_modules(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut found = Vec::new();
    for prefix in ["crate::", "gridatlas::"] {
        let mut rest = code;
        while let Some(i) = rest.find(prefix) {
            let after = &rest[i + prefix.len()..];
            if let Some(group) = after.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for part in inner.split(',') {
                    let name: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    found.push(name);
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push(name);
            }
            rest = after;
        }
    }
    found
}

#[test]
fn layers_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    let mut checked = 0;
    for module in LAYERS.iter().flat_map(|l| l.iter()) {
        let forbidden = forbidden(module);
        let dir = src.join(module);
        assert!(dir.is_dir(), "src/{module} is not a directory");
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read source");
            checked += 1;
            for (n, line) in text.lines().enumerate() {
                for name in named_modules(line) {
                    if forbidden.contains(&name.as_str()) {
                        broken.push(format!(
                            "{}:{}: `{module}` names `{name}`, a layer above or beside it: {}",
                            file.strip_prefix(&src).unwrap_or(&file).display(),
                            n + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} files checked");
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_rule_forbids_upward_and_unlisted_sideways_imports() {
    assert!(forbidden("atlas").contains(&"store"));
    assert!(forbidden("atlas").contains(&"validate"));
    assert!(!forbidden("atlas").contains(&"geo_io"));
    assert!(forbidden("service").contains(&"http"));
    assert!(!forbidden("service").contains(&"store"));
    assert!(forbidden("wire").contains(&"service"));
    assert!(forbidden("model").contains(&"wire"));
    assert!(forbidden("http").contains(&"cli"));
    assert!(!forbidden("cli").contains(&"http"));
}

#[test]
fn the_checker_sees_every_form_of_path() {
    assert_eq!(named_modules("use crate::store::Store;"), ["store"]);
    assert_eq!(
        named_modules("use crate::{http, store::Store};"),
        ["http", "store"]
    );
    assert_eq!(
        named_modules("let s = crate::service::cases::get(x);"),
        ["service"]
    );
    assert!(named_modules("// see crate::store").is_empty());
    assert_eq!(named_modules("gridatlas::cli::main()"), ["cli"]);
}
