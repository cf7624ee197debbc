//! Typo tolerance: the words one edit from a word as typed (a letter left out, one added,
//! one changed, two neighbours swapped; Damerau's edits), for the lexical index to look up
//! among the catalogue's words when no product has the word typed. Generated, not indexed:
//! a few hundred lookups for a word no product has, nothing for the rest, so nothing is
//! built per catalogue and the cost stays small enough for every keystroke.

/// Words shorter than this are not corrected: one edit from a three-letter word is another
/// word more often than a typo (`mat`, `map`, `hat`).
const MIN_CORRECTED_LETTERS: usize = 4;

/// Calls `visit` with each spelling one edit from `word`, over the letters of `alphabet`
/// (some spellings more than once). Short words and words with digits (sizes and codes:
/// `6mm` is not a typo of `5mm`) have none.
pub(super) fn one_edit_from(word: &str, alphabet: &[char], mut visit: impl FnMut(&str)) {
    let letters: Vec<char> = word.chars().collect();
    if letters.len() < MIN_CORRECTED_LETTERS || !letters.iter().all(|c| c.is_alphabetic()) {
        return;
    }
    let mut spelt = String::with_capacity(word.len() + 4);
    let mut visit_spelt = |edit: &[char]| {
        spelt.clear();
        spelt.extend(edit);
        visit(&spelt);
    };
    let mut edit: Vec<char> = Vec::with_capacity(letters.len() + 1);
    for at in 0..=letters.len() {
        for &letter in alphabet {
            edit.clear();
            edit.extend(&letters[..at]);
            edit.push(letter);
            edit.extend(&letters[at..]);
            visit_spelt(&edit); // added
            if at < letters.len() && letters[at] != letter {
                edit.remove(at + 1);
                visit_spelt(&edit); // changed
            }
        }
        if at < letters.len() {
            edit.clear();
            edit.extend(&letters[..at]);
            edit.extend(&letters[at + 1..]);
            visit_spelt(&edit); // left out
        }
        if at + 1 < letters.len() && letters[at] != letters[at + 1] {
            edit.clear();
            edit.extend(&letters);
            edit.swap(at, at + 1);
            visit_spelt(&edit); // swapped
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edits(word: &str, alphabet: &str) -> Vec<String> {
        let alphabet: Vec<char> = alphabet.chars().collect();
        let mut found = Vec::new();
        one_edit_from(word, &alphabet, |edit| found.push(edit.to_owned()));
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn every_single_edit_is_offered() {
        let found = edits("cork", "ckor");
        for meant in [
            "ccork", "corkk", "cor", "ork", "ocrk", "crok", "kork", "corr",
        ] {
            assert!(found.contains(&meant.to_owned()), "{meant}: {found:?}");
        }
        assert!(
            !found.contains(&"cork".to_owned()),
            "the word itself is no edit"
        );
        assert!(!found.contains(&"rock".to_owned()), "two edits away");
    }

    #[test]
    fn short_words_and_codes_have_no_edits() {
        assert!(edits("mag", "abcdefghijklmnopqrstuvwxyz").is_empty());
        assert!(edits("6mmm", "abcdefghijklmnopqrstuvwxyz").is_empty());
        assert_eq!(edits("yoga", "").len(), 7, "4 left out, 3 swapped");
    }
}
