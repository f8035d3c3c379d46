//! Normalisation of a text into words for shingling.

use crate::text::fold;

/// The words of `text`, lowercased, accents of Latin letters folded, joined by single spaces:
/// "Não RECEBI o produto!!" → "nao recebi o produto".
///
/// A word is a run of Unicode letters and digits (any script: CJK runs without spaces become
/// one long word, which the character shingles of short texts handle). Inside a word,
/// apostrophes are skipped ("don't" → "dont", "d'água" → "dagua") and so are combining marks,
/// so decomposed text ("na\u{303}o") reads as its composed form.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_word = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if !in_word && !out.is_empty() {
                out.push(' ');
            }
            in_word = true;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase().filter(|&l| !is_combining(l)).map(fold));
            }
        } else if !(in_word && (is_apostrophe(c) || is_combining(c))) {
            in_word = false;
        }
    }
    out
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02bc}')
}

/// Combining marks of the blocks Latin, Greek and Cyrillic text use.
fn is_combining(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}' | '\u{1ab0}'..='\u{1aff}' | '\u{1dc0}'..='\u{1dff}'
        | '\u{20d0}'..='\u{20ff}' | '\u{fe20}'..='\u{fe2f}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_runs_of_letters_and_digits() {
        assert_eq!(normalise("Great product, fast delivery!"), "great product fast delivery");
        assert_eq!(normalise("  10/10 -- would buy again :)  "), "10 10 would buy again");
        assert_eq!(normalise("I don't like it"), "i dont like it");
        assert_eq!(normalise("!!! ... 👍"), "");
        assert_eq!(normalise("Ünïcödé ŁÓDŹ Straße"), "unicode lodz straße");
    }

    #[test]
    fn portuguese_accents_fold_whether_composed_or_not() {
        assert_eq!(normalise("Não RECEBI o produto!!"), "nao recebi o produto");
        assert_eq!(normalise("Na\u{303}o recebi"), "nao recebi");
        assert_eq!(
            normalise("Ótimo, CHEGOU ANTES DO PRAZO. Recomendo."),
            normalise("otimo chegou antes do prazo recomendo")
        );
        assert_eq!(normalise("copo d'água"), "copo dagua");
    }

    #[test]
    fn every_extended_a_letter_folds_to_ascii_or_itself() {
        for c in '\u{100}'..='\u{17f}' {
            let f = fold(c);
            assert!(f.is_ascii_lowercase() || f == c, "{c} -> {f}");
        }
        assert_eq!(fold('ő'), 'o');
        assert_eq!(fold('ž'), 'z');
        assert_eq!(fold('œ'), 'œ');
    }
}
