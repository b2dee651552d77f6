//! The codes of the registers: component codes, unified social credit codes (compared with
//! python-stdnum, an independent implementation), and the 15-digit grid-code rule of the
//! validator.

mod support;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use gridatlas::assets::codes::{
    CREDIT_ALPHABET, ComponentCode, ComponentCodeError, CreditCodeError, check_credit_code,
    credit_check_char,
};
use gridatlas::model::{FeatureSet, Geometry, Layer};
use gridatlas::validate::{Options, Rule, Severity, validate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::io::Write;
use std::process::{Command, Stdio};
use support::feature;

#[test]
fn component_codes_at_their_boundaries() {
    assert!(ComponentCode::parse("3101160101000001").is_ok());
    for (code, found) in [("310116010100000", 15), ("31011601010000011", 17), ("", 0)] {
        assert_eq!(
            ComponentCode::parse(code),
            Err(ComponentCodeError::Length { found })
        );
    }
    assert_eq!(
        ComponentCode::parse("310116A101000001"),
        Err(ComponentCodeError::NotDigit {
            position: 7,
            found: 'A',
            part: "major class"
        })
    );
    // Non-ASCII digits are characters, not bytes: 16 characters with one full-width digit.
    assert!(matches!(
        ComponentCode::parse("31011601010000０1"),
        Err(ComponentCodeError::NotDigit { position: 15, .. })
    ));
}

/// A random valid credit code whose first 8 characters are digits (python-stdnum requires it;
/// see [`letters_in_the_first_two_places`]).
fn valid_code(rng: &mut ChaCha8Rng) -> String {
    let alphabet: Vec<char> = CREDIT_ALPHABET.chars().collect();
    let mut head = String::new();
    for _ in 0..8 {
        head.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    for _ in 0..9 {
        head.push(alphabet[rng.random_range(0..alphabet.len())]);
    }
    let c = credit_check_char(&head).expect("17 characters of the alphabet");
    format!("{head}{c}")
}

/// A corruption of a valid code: a changed character, a forbidden letter, a letter among the
/// division digits, a swap, a dropped or added character.
fn corrupt(code: &str, rng: &mut ChaCha8Rng) -> String {
    let mut chars: Vec<char> = code.chars().collect();
    let alphabet: Vec<char> = CREDIT_ALPHABET.chars().collect();
    match rng.random_range(0..6) {
        0 => {
            let i = rng.random_range(2..18);
            chars[i] = alphabet[rng.random_range(0..alphabet.len())];
        }
        1 => {
            let i = rng.random_range(0..18);
            chars[i] = ['I', 'O', 'S', 'V', 'Z'][rng.random_range(0..5)];
        }
        2 => {
            let i = rng.random_range(2..8);
            chars[i] = alphabet[rng.random_range(10..alphabet.len())];
        }
        3 => {
            let i = rng.random_range(2..17);
            chars.swap(i, i + 1);
        }
        4 => {
            chars.remove(rng.random_range(0..18));
        }
        _ => chars.insert(rng.random_range(0..18), '7'),
    }
    chars.into_iter().collect()
}

/// What python-stdnum's `stdnum.cn.uscc.validate` says of each code: `ok`, `length`, `format`
/// or `check_digit`. Fails (does not skip) when Python or stdnum cannot be had.
fn stdnum(codes: &[String]) -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let venv = Command::new(format!("{root}/scripts/py-stdnum"))
        .output()
        .expect("scripts/py-stdnum must run (python3 with venv) for this test");
    assert!(
        venv.status.success(),
        "scripts/py-stdnum failed: {}",
        String::from_utf8_lossy(&venv.stderr)
    );
    let venv = String::from_utf8(venv.stdout).expect("a path");
    let script = "import sys\n\
                  from stdnum.cn import uscc\n\
                  from stdnum.exceptions import InvalidLength, InvalidFormat, InvalidChecksum, InvalidComponent\n\
                  for line in sys.stdin.read().splitlines():\n\
                  \x20   try:\n\
                  \x20       uscc.validate(line)\n\
                  \x20       print('ok')\n\
                  \x20   except InvalidLength:\n\
                  \x20       print('length')\n\
                  \x20   except InvalidChecksum:\n\
                  \x20       print('check_digit')\n\
                  \x20   except (InvalidFormat, InvalidComponent):\n\
                  \x20       print('format')\n";
    let mut child = Command::new(format!("{}/bin/python", venv.trim()))
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the stdnum virtualenv's python must run");
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(codes.join("\n").as_bytes())
        .expect("written to python");
    let out = child.wait_with_output().expect("python ran");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

fn ours(code: &str) -> &'static str {
    match check_credit_code(code) {
        Ok(()) => "ok",
        Err(CreditCodeError::Length { .. }) => "length",
        Err(e) => e.kind(),
    }
}

#[test]
fn credit_codes_agree_with_python_stdnum() {
    let mut rng = ChaCha8Rng::seed_from_u64(32100);
    let mut codes: Vec<String> = Vec::new();
    for _ in 0..200 {
        let v = valid_code(&mut rng);
        codes.push(corrupt(&v, &mut rng));
        codes.push(v);
    }
    // Check characters of every value, 0 among them (31 − 0 → 0).
    codes.push("91310116MA1J0000M0".into());
    codes.push("91310116MA1J0000MY".into());
    let theirs = stdnum(&codes);
    assert_eq!(theirs.len(), codes.len());
    let mut kinds = std::collections::BTreeMap::new();
    for (code, t) in codes.iter().zip(&theirs) {
        assert_eq!(ours(code), t, "{code}");
        *kinds.entry(t.as_str()).or_insert(0) += 1;
    }
    // Every kind of answer was exercised.
    for k in ["ok", "length", "format", "check_digit"] {
        assert!(kinds.get(k).copied().unwrap_or(0) >= 10, "{kinds:?}");
    }
}

/// GB 32100-2015 lets the registering authority (character 1) and the kind of organisation
/// (character 2) be letters (e.g. `Y` other authorities, `N` agriculture); python-stdnum 2.2
/// requires the first 8 characters to be digits. Ours follows the standard.
#[test]
fn letters_in_the_first_two_places() {
    let head = "Y1310116MA1J0000M";
    let code = format!("{head}{}", credit_check_char(head).unwrap());
    assert_eq!(ours(&code), "ok");
    assert_eq!(stdnum(&[code]), ["format"]);
}

#[test]
fn credit_code_messages_say_what_is_wrong() {
    let e = |c: &str| check_credit_code(c).unwrap_err().to_string();
    assert_eq!(e("91310116MA1J0000M"), "17 characters, not 18");
    assert_eq!(
        e("91310116MA1J0000MY"),
        "bad check character 'Y': expected '0'"
    );
    for (bad, position) in [('I', 9), ('O', 10), ('Z', 11), ('S', 12), ('V', 13)] {
        let mut code: Vec<char> = "91310116MA1J0000M0".chars().collect();
        code[position - 1] = bad;
        let code: String = code.into_iter().collect();
        assert_eq!(
            check_credit_code(&code),
            Err(CreditCodeError::BadCharacter {
                position,
                found: bad
            }),
            "{code}"
        );
    }
    assert_eq!(
        e("913101A6MA1J0000M0"),
        "character 7 ('A') is not a digit: characters 3–8 are an administrative division code"
    );
    assert!(e("91310116ma1j0000m0").starts_with("character 9 ('m') is not one of"));
}

// ---------------------------------------------------------------------------------------------
// The 15-digit grid-code rule.

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    let c = |x, y| Coord { x, y };
    MultiPolygon(vec![Polygon::new(
        LineString(vec![c(x0, y0), c(x1, y0), c(x1, y1), c(x0, y1), c(x0, y0)]),
        vec![],
    )])
}

/// A district of one street tiled by a committee's four grids, 2 × 2: `codes` in the order
/// north-west, north-east, south-west, south-east. `dy` lifts the eastern column a little.
fn committee(codes: [&str; 4], dy: f64) -> FeatureSet {
    let (x0, y0, s) = (121.0, 30.75, 0.004);
    let mut fs = vec![
        feature(
            Layer::District,
            "310116",
            None,
            Geometry::Area(rect(x0, y0 - s, x0 + 2.0 * s, y0 + 2.0 * s)),
        ),
        feature(
            Layer::Street,
            "310116101",
            Some("310116"),
            Geometry::Area(rect(x0, y0 - s, x0 + 2.0 * s, y0 + 2.0 * s)),
        ),
    ];
    let cells = [
        (x0, y0 + s, x0 + s, y0 + 2.0 * s),
        (x0 + s, y0 + s + dy, x0 + 2.0 * s, y0 + 2.0 * s),
        (x0, y0 - s, x0 + s, y0 + s),
        (x0 + s, y0 - s, x0 + 2.0 * s, y0 + s + dy),
    ];
    for (code, (a, b, c, d)) in codes.iter().zip(cells) {
        fs.push(feature(
            Layer::StreetGrid,
            code,
            Some("310116101"),
            Geometry::Area(rect(a, b, c, d)),
        ));
    }
    FeatureSet::new(fs, vec![]).expect("unique codes")
}

fn grid_code_findings(set: &FeatureSet) -> Vec<(Vec<String>, String)> {
    let opts = Options {
        grid_codes_15: true,
        ..Options::default()
    };
    validate(set, &opts)
        .findings
        .into_iter()
        .filter(|f| f.rule == Rule::Codes)
        .map(|f| {
            assert_eq!((f.kind, f.severity), ("grid_code_15", Severity::Warning));
            assert!(f.fix.is_some());
            (f.codes, f.message.en)
        })
        .collect()
}

#[test]
fn grid_codes_numbered_in_reading_order_pass() {
    let good = [
        "310116101001001",
        "310116101001002",
        "310116101001003",
        "310116101001005",
    ];
    assert!(grid_code_findings(&committee(good, 0.0)).is_empty());
    // Rows need not be exactly level: the eastern column lifted by a fifth of a row.
    assert!(grid_code_findings(&committee(good, 0.0008)).is_empty());
    // Off by default: nothing, and the rest of the report is the same.
    let set = committee(good, 0.0);
    let off = validate(&set, &Options::default());
    assert!(off.findings.iter().all(|f| f.rule != Rule::Codes));
}

#[test]
fn grid_codes_out_of_order_give_one_finding_per_committee() {
    // Column by column instead of row by row.
    let f = grid_code_findings(&committee(
        [
            "310116101001001",
            "310116101001003",
            "310116101001002",
            "310116101001004",
        ],
        0.0,
    ));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0].0,
        [
            "310116101001001",
            "310116101001003",
            "310116101001002",
            "310116101001004"
        ]
    );
    assert!(f[0].1.contains("committee 310116101001"), "{}", f[0].1);
}

#[test]
fn grid_codes_of_the_wrong_length_or_street_are_reported_one_by_one() {
    let f = grid_code_findings(&committee(
        [
            "310116101001001",
            "31011610100100",   // 14 digits
            "3101161010010033", // 16 digits
            "310116102001004",  // another street's prefix
        ],
        0.0,
    ));
    let codes: Vec<&str> = f.iter().map(|(c, _)| c[0].as_str()).collect();
    assert_eq!(
        codes,
        ["31011610100100", "3101161010010033", "310116102001004"],
        "{f:?}"
    );
    assert!(f[0].1.contains("14 characters, not 15 digits"));
    assert!(f[1].1.contains("16 characters, not 15 digits"));
    assert!(
        f[2].1
            .contains("starts with 310116102, not with its street's code 310116101")
    );
}
