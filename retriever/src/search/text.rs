//! How product text and shoppers' queries become search terms: the same words whichever way
//! they were typed. Accents and compatibility forms are folded (`Café` and full-width
//! `ｙｏｇａ` are `cafe` and `yoga`), case is ignored, and each word is reduced to its
//! Snowball stem, so `mats` finds `mat` and `stretching` finds `stretch`.

use qdrant_rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Words too common in product text to tell products apart; a query made only of them
/// still searches on them (`to and from`).
const STOP_WORDS: [&str; 16] = [
    "a", "an", "and", "at", "by", "for", "from", "in", "is", "it", "of", "on", "or", "the", "to",
    "with",
];

/// Folds and stems text into search terms.
pub struct Analyzer {
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::english()
    }
}

impl Analyzer {
    /// English stems: the language of the model the semantic half runs on. Words of other
    /// languages still match exactly once folded.
    pub fn english() -> Self {
        Self {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }

    /// The terms of a text, in order, stop words left out (unless nothing else is left).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let words = words(text);
        let content: Vec<&String> = words.iter().filter(|w| !is_stop_word(w)).collect();
        let kept: Vec<&String> = if content.is_empty() {
            words.iter().collect()
        } else {
            content
        };
        kept.into_iter().map(|w| self.stem(w)).collect()
    }

    /// The stem of one folded word.
    pub fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }
}

/// The words of a text as typed, folded and lower-cased (not stemmed): what completions are
/// made of.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// A query as the model is asked for its vector: compatibility forms composed (full-width
/// letters are letters), lower-cased, spaces collapsed; so the ways one query is typed share
/// one vector (and one cache entry).
pub fn query_for_model(query: &str) -> String {
    let composed: String = query.nfkc().flat_map(char::to_lowercase).collect();
    composed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Compatibility-decomposed, combining marks dropped, lower-cased.
pub fn fold(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_width_case_and_plurals_fold_to_one_term() {
        let analyzer = Analyzer::english();
        assert_eq!(
            analyzer.terms("Café ＹＯＧＡ Mats"),
            ["cafe", "yoga", "mat"]
        );
        assert_eq!(analyzer.terms("Stretching straps"), ["stretch", "strap"]);
        assert_eq!(analyzer.terms("Tapis de yoga écologique")[0], "tapi");
    }

    #[test]
    fn stop_words_go_unless_they_are_the_whole_query() {
        let analyzer = Analyzer::english();
        assert_eq!(analyzer.terms("mat for the beach"), ["mat", "beach"]);
        assert_eq!(analyzer.terms("gift for her"), ["gift", "her"]);
        assert_eq!(analyzer.terms("to and from"), ["to", "and", "from"]);
        assert_eq!(words("Cork-Block (6mm)"), ["cork", "block", "6mm"]);
        assert_eq!(query_for_model("  Cork   ＢＬＯＣＫ "), "cork block");
    }
}
