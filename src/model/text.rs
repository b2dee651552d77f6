//! Text safety shared by every writer of spreadsheets and CSV files.

use std::borrow::Cow;

/// What makes a spreadsheet read a cell as a formula when it comes first: ASCII `=` `+` `-` `@`,
/// a tab, a carriage return, and their full-width forms `＝＋－＠`.
const TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠'];

/// Whether `text` starts with a formula trigger, after any `'`s.
fn quoted_trigger(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(TRIGGERS)
}

/// `text` made safe against CSV (formula) injection: prefixed with `'` when it starts with one of
/// the formula triggers (or with `'`s before one, so that [`unneutralise`] gives it back
/// exactly); otherwise unchanged.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if quoted_trigger(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text [`neutralise`] was given: one leading `'` removed when a formula trigger follows
/// the `'`s.
pub fn unneutralise(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if quoted_trigger(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn triggers_are_prefixed_and_plain_text_is_not() {
        for t in ["=1+1", "+8613800000000", "-2", "@SUM(A1)", "\tx", "＝１"] {
            assert_eq!(neutralise(t), format!("'{t}"));
        }
        for t in ["", "居委会", "1=1", "'quoted", "a-b"] {
            assert!(matches!(neutralise(t), Cow::Borrowed(_)), "{t:?}");
        }
        assert_eq!(
            unneutralise("'quoted"),
            "'quoted",
            "a quote before plain text stays"
        );
    }

    proptest! {
        #[test]
        fn unneutralise_undoes_neutralise(t in "\\PC*") {
            let written = neutralise(&t);
            prop_assert_eq!(unneutralise(&written), t.as_str());
        }
    }
}
