//! The codes of the registers, checked exactly:
//!
//! - [`ComponentCode`]: a component's 16-digit code (部件标识码): district (6, the administrative
//!   division code) + major class (2) + subclass (2) + serial (6). [`ComponentCode::parse`] says
//!   what is wrong and where (`character 9 ('x', in the subclass) is not a digit`).
//! - [`check_credit_code`]: the unified social credit code (统一社会信用代码, GB 32100-2015) of a
//!   shop: 18 characters from `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z), characters
//!   3–8 the registering authority's 6-digit administrative division code, and a check
//!   character: with the weights 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
//!   (3ⁱ mod 31) over the values of the first 17 characters, the check value is 31 − (Σ mod 31),
//!   where 31 is written as `0`. Upper case only: a lower-case letter is a bad character (the
//!   code is printed in upper case on the licence). Checked against python-stdnum's
//!   `stdnum.cn.uscc` in `tests/assets_codes.rs`.
//! - [`check_grid_code15`]: the optional 15-digit unit-grid code (6 district + 3 street +
//!   3 committee + 3 sequence), whose first 9 digits must be its street's code.
//!
//! Positions in messages count characters from 1, as a person reads the code.

use std::fmt;

/// The parts of a component code, with their character positions (from 1).
const PARTS: [(&str, usize, usize); 4] = [
    ("district", 1, 6),
    ("major class", 7, 8),
    ("subclass", 9, 10),
    ("serial", 11, 16),
];

/// A well-formed 16-digit component code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentCode([u8; 16]);

/// Why a text is not a component code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentCodeError {
    /// Not 16 characters.
    Length {
        /// Characters found.
        found: usize,
    },
    /// A character that is not an ASCII digit.
    NotDigit {
        /// Position, from 1.
        position: usize,
        /// The character.
        found: char,
        /// The part of the code it is in (`district`, `major class`, `subclass`, `serial`).
        part: &'static str,
    },
}

impl fmt::Display for ComponentCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComponentCodeError::Length { found } => write!(
                f,
                "{found} characters, not 16 digits (district 6 + major class 2 + subclass 2 + \
                 serial 6)"
            ),
            ComponentCodeError::NotDigit {
                position,
                found,
                part,
            } => write!(
                f,
                "character {position} ({found:?}, in the {part}) is not a digit"
            ),
        }
    }
}

impl std::error::Error for ComponentCodeError {}

impl ComponentCode {
    /// Parses exactly 16 ASCII digits (no spaces around).
    pub fn parse(code: &str) -> Result<ComponentCode, ComponentCodeError> {
        let found = code.chars().count();
        if found != 16 {
            return Err(ComponentCodeError::Length { found });
        }
        let mut out = [0u8; 16];
        for (i, c) in code.chars().enumerate() {
            if !c.is_ascii_digit() {
                let position = i + 1;
                let part = PARTS
                    .iter()
                    .find(|(_, a, b)| (*a..=*b).contains(&position))
                    .map_or("code", |p| p.0);
                return Err(ComponentCodeError::NotDigit {
                    position,
                    found: c,
                    part,
                });
            }
            out[i] = c as u8;
        }
        Ok(ComponentCode(out))
    }

    fn part(&self, from: usize, to: usize) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0[from..to]).unwrap_or_default()
    }

    /// The whole code.
    pub fn as_str(&self) -> &str {
        self.part(0, 16)
    }

    /// Digits 1–6: the district's administrative division code.
    pub fn district(&self) -> &str {
        self.part(0, 6)
    }

    /// Digits 7–8: the major class.
    pub fn class(&self) -> &str {
        self.part(6, 8)
    }

    /// Digits 9–10: the subclass within the major class.
    pub fn subclass(&self) -> &str {
        self.part(8, 10)
    }

    /// Digits 11–16: the serial number.
    pub fn serial(&self) -> &str {
        self.part(10, 16)
    }
}

impl fmt::Display for ComponentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The characters of a unified social credit code, in the order of their values 0–30.
pub const CREDIT_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// The weights of the first 17 characters (3ⁱ mod 31).
pub const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Why a text is not a unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditCodeError {
    /// Not 18 characters.
    Length {
        /// Characters found.
        found: usize,
    },
    /// A character outside [`CREDIT_ALPHABET`].
    BadCharacter {
        /// Position, from 1.
        position: usize,
        /// The character.
        found: char,
    },
    /// Characters 3–8 are not a 6-digit administrative division code.
    Division {
        /// Position of the first non-digit, from 1.
        position: usize,
        /// The character.
        found: char,
    },
    /// The check character (the 18th) does not match the first 17.
    CheckDigit {
        /// What the first 17 characters give.
        expected: char,
        /// What the code has.
        found: char,
    },
}

impl CreditCodeError {
    /// `format` for length and character problems, `check_digit` for a wrong check character.
    pub fn kind(&self) -> &'static str {
        match self {
            CreditCodeError::CheckDigit { .. } => "check_digit",
            _ => "format",
        }
    }
}

impl fmt::Display for CreditCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CreditCodeError::Length { found } => {
                write!(f, "{found} characters, not 18")
            }
            CreditCodeError::BadCharacter { position, found } => write!(
                f,
                "character {position} ({found:?}) is not one of {CREDIT_ALPHABET} (no I, O, S, \
                 V, Z; upper case)"
            ),
            CreditCodeError::Division { position, found } => write!(
                f,
                "character {position} ({found:?}) is not a digit: characters 3–8 are an \
                 administrative division code"
            ),
            CreditCodeError::CheckDigit { expected, found } => {
                write!(f, "bad check character {found:?}: expected {expected:?}")
            }
        }
    }
}

impl std::error::Error for CreditCodeError {}

/// The value (0–30) of a credit code character.
fn credit_value(c: char) -> Option<u32> {
    CREDIT_ALPHABET.find(c).map(|i| i as u32)
}

/// The check character of the first 17 characters of a credit code (`None` if one of them is
/// not in [`CREDIT_ALPHABET`] or there are fewer than 17).
pub fn credit_check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    let mut n = 0;
    for (c, w) in first17.chars().zip(CREDIT_WEIGHTS) {
        sum += credit_value(c)? * w;
        n += 1;
    }
    if n != 17 || first17.chars().count() != 17 {
        return None;
    }
    let v = (31 - sum % 31) % 31;
    CREDIT_ALPHABET.chars().nth(v as usize)
}

/// Checks a unified social credit code (GB 32100-2015; see the module doc). The first problem:
/// length, then the first bad character, then the division code, then the check character.
pub fn check_credit_code(code: &str) -> Result<(), CreditCodeError> {
    let found = code.chars().count();
    if found != 18 {
        return Err(CreditCodeError::Length { found });
    }
    if let Some((i, c)) = code
        .chars()
        .enumerate()
        .find(|&(_, c)| credit_value(c).is_none())
    {
        return Err(CreditCodeError::BadCharacter {
            position: i + 1,
            found: c,
        });
    }
    if let Some((i, c)) = code
        .chars()
        .enumerate()
        .skip(2)
        .take(6)
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(CreditCodeError::Division {
            position: i + 1,
            found: c,
        });
    }
    // 18 characters of the alphabet: all ASCII.
    let (head, last) = code.split_at(17);
    let expected = credit_check_char(head).unwrap_or('?');
    let found = last.chars().next().unwrap_or('?');
    if expected != found {
        return Err(CreditCodeError::CheckDigit { expected, found });
    }
    Ok(())
}

pub use crate::validate::codes::{GridCodeError, check_grid_code15};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_codes_split_into_their_parts() {
        let c = ComponentCode::parse("3101160101000017").unwrap();
        assert_eq!(
            (c.district(), c.class(), c.subclass(), c.serial()),
            ("310116", "01", "01", "000017")
        );
        assert_eq!(c.to_string(), "3101160101000017");
        let e = |s: &str| ComponentCode::parse(s).unwrap_err().to_string();
        assert_eq!(
            e("310116010100001"),
            "15 characters, not 16 digits (district 6 + major class 2 + subclass 2 + serial 6)"
        );
        assert!(e("31011601010000170").starts_with("17 characters"));
        assert_eq!(
            e("31011601x1000017"),
            "character 9 ('x', in the subclass) is not a digit"
        );
        assert_eq!(
            e("３101160101000017"),
            "character 1 ('３', in the district) is not a digit"
        );
        assert_eq!(
            e("310116010100001 "),
            "character 16 (' ', in the serial) is not a digit"
        );
    }

    #[test]
    fn credit_codes_by_the_standard() {
        // Check value 31 − (Σ mod 31) is 31 → written 0.
        assert_eq!(credit_check_char("91310116MA1J0000M"), Some('0'));
        assert_eq!(check_credit_code("91310116MA1J0000M0"), Ok(()));
        assert_eq!(
            check_credit_code("91310116MA1J0000MY")
                .unwrap_err()
                .to_string(),
            "bad check character 'Y': expected '0'"
        );
        assert_eq!(
            check_credit_code("91310116MA1J0000"),
            Err(CreditCodeError::Length { found: 16 })
        );
        assert!(matches!(
            check_credit_code("91310116MA1J0O00X0"),
            Err(CreditCodeError::BadCharacter {
                position: 14,
                found: 'O'
            })
        ));
        assert!(matches!(
            check_credit_code("9131A116MA1J000000"),
            Err(CreditCodeError::Division { position: 5, .. })
        ));
    }

    #[test]
    fn grid_codes_of_fifteen_digits_start_with_their_street() {
        assert_eq!(check_grid_code15("310116101001002", "310116101"), Ok(()));
        assert_eq!(
            check_grid_code15("310116102001002", "310116101")
                .unwrap_err()
                .to_string(),
            "starts with 310116102, not with its street's code 310116101"
        );
        assert_eq!(
            check_grid_code15("31011610100100", "310116101"),
            Err(GridCodeError::Length { found: 14 })
        );
        assert!(matches!(
            check_grid_code15("31011610100100A", "310116101"),
            Err(GridCodeError::NotDigit { position: 15, .. })
        ));
        assert!(matches!(
            check_grid_code15("310116101001002", "S01"),
            Err(GridCodeError::StreetCode { .. })
        ));
    }
}
