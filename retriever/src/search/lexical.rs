//! A shop's catalogue as an inverted index scored with BM25F: each field's term counts are
//! normalised by that field's length and weighted by how much a match there says (a word in
//! the title says more than one deep in the description), then saturated once per term.
//! A word no product has is taken for a typo of the catalogue's words one edit from it, at a
//! discount. Built whole from the catalogue (rebuilding 10,000 products takes tens of
//! milliseconds) and read by any number of requests at once.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::spelling;
use super::text::{is_stop_word, words, Analyzer};
use crate::recommend::{top_k, Candidate, ItemId};

/// BM25's term-frequency saturation: a third mention of a word adds little.
const K1: f32 = 1.2;
/// How much a field's length dampens its counts (0: not at all, 1: fully).
const B: f32 = 0.75;
/// Words of a description that are indexed: the opening says what the product is.
const MAX_DESCRIPTION_WORDS: usize = 300;
/// A word completed from what the shopper is still typing counts a little less than one
/// typed whole.
const COMPLETED_WORD_FACTOR: f32 = 0.8;
/// The completions of a partial word that are searched: the most frequent ones.
const MAX_COMPLETIONS_SEARCHED: usize = 30;
/// A catalogue word one edit from a word no product has counts this much of a word typed
/// right: the shopper most likely meant it, but a correction is a guess (chosen on the
/// tuning half of `kindred eval --search`).
pub const TYPO_FACTOR: f32 = 0.9;

/// What the words of a query found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matches {
    /// The products, best first.
    pub candidates: Vec<Candidate>,
    /// The share of the query's words the best product has, as typed or corrected: 1 when
    /// the words answer the whole query, 0 when they found nothing.
    pub coverage: f64,
}

/// The searchable text of one product, by field.
#[derive(Debug, Clone, Default)]
pub struct ProductText {
    pub id: ItemId,
    pub title: String,
    pub product_type: String,
    pub tags: String,
    pub vendor: String,
    pub description: String,
}

/// Each field's weight: what a match there says about the product.
const FIELDS: [(fn(&ProductText) -> &str, f32); 5] = [
    (|p| &p.title, 3.0),
    (|p| &p.product_type, 2.0),
    (|p| &p.tags, 1.5),
    (|p| &p.vendor, 1.0),
    (|p| &p.description, 0.5),
];

/// A word as shoppers type it, the term it stems to, and how many products use it.
#[derive(Debug, Clone, Copy)]
struct Surface {
    term: u32,
    uses: u32,
}

pub struct LexicalIndex {
    analyzer: Analyzer,
    products: Vec<ItemId>,
    terms: HashMap<String, u32>,
    /// Per term: (product index, BM25F-normalised weighted frequency), by product index.
    postings: Vec<Vec<(u32, f32)>>,
    /// Folded words as written in the catalogue, for completing what is being typed.
    surfaces: BTreeMap<String, Surface>,
    /// The letters the catalogue's words are written in, for correcting typos.
    alphabet: Vec<char>,
    typo_factor: f32,
}

impl LexicalIndex {
    pub fn build(products: &[ProductText]) -> Self {
        let analyzer = Analyzer::english();
        let mut index = Self {
            analyzer,
            products: products.iter().map(|p| p.id).collect(),
            terms: HashMap::new(),
            postings: Vec::new(),
            surfaces: BTreeMap::new(),
            alphabet: Vec::new(),
            typo_factor: TYPO_FACTOR,
        };
        // Per product and field: its words; then each field's mean length.
        let fields: Vec<Vec<Vec<String>>> = products
            .iter()
            .map(|p| {
                FIELDS
                    .iter()
                    .map(|(field, _)| {
                        let mut w = words(field(p));
                        w.truncate(MAX_DESCRIPTION_WORDS);
                        w
                    })
                    .collect()
            })
            .collect();
        let mean_length: Vec<f32> = (0..FIELDS.len())
            .map(|f| {
                let total: usize = fields.iter().map(|p| p[f].len()).sum();
                (total as f32 / products.len().max(1) as f32).max(1.0)
            })
            .collect();
        for (position, product_fields) in fields.iter().enumerate() {
            index.add(position as u32, product_fields, &mean_length);
        }
        let letters: BTreeSet<char> = index.surfaces.keys().flat_map(|w| w.chars()).collect();
        index.alphabet = letters.into_iter().filter(|c| c.is_alphabetic()).collect();
        index
    }

    /// The index counting a corrected word `factor` of a word typed right, 0 correcting
    /// none (serving counts `TYPO_FACTOR`; the offline evaluation tries others).
    pub fn with_typo_factor(mut self, factor: f32) -> Self {
        self.typo_factor = factor;
        self
    }

    fn add(&mut self, position: u32, fields: &[Vec<String>], mean_length: &[f32]) {
        let mut weighted: HashMap<u32, f32> = HashMap::new();
        let mut seen_words: HashSet<&str> = HashSet::new();
        for (f, words) in fields.iter().enumerate() {
            let norm = 1.0 - B + B * words.len() as f32 / mean_length[f];
            for word in words.iter().filter(|w| !is_stop_word(w)) {
                let term = self.term_id(word);
                *weighted.entry(term).or_default() += FIELDS[f].1 / norm;
                if seen_words.insert(word) {
                    self.surfaces
                        .entry(word.clone())
                        .or_insert(Surface { term, uses: 0 })
                        .uses += 1;
                }
            }
        }
        for (term, weight) in weighted {
            self.postings[term as usize].push((position, weight));
        }
    }

    fn term_id(&mut self, word: &str) -> u32 {
        let stem = self.analyzer.stem(word);
        if let Some(&id) = self.terms.get(&stem) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.terms.insert(stem, id);
        self.postings.push(Vec::new());
        id
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// The `k` products that match the query best, best first, and how much of the query
    /// the best of them answers. With `typing`, the last word is taken as the start of a
    /// word still being typed.
    pub fn search(&self, query: &str, typing: bool, k: usize) -> Matches {
        let wanted = self.query_terms(query, typing);
        if wanted.is_empty() {
            return Matches::default();
        }
        let mut scores: HashMap<u32, (f32, u32)> = HashMap::new();
        for alternatives in &wanted {
            // Per product: the best of this word's alternatives.
            let mut best: HashMap<u32, f32> = HashMap::new();
            for &(term, factor) in alternatives {
                let postings = &self.postings[term as usize];
                let idf = self.idf(postings.len());
                for &(position, tf) in postings {
                    let score = factor * idf * tf * (K1 + 1.0) / (tf + K1);
                    let entry = best.entry(position).or_default();
                    *entry = entry.max(score);
                }
            }
            for (position, score) in best {
                let entry = scores.entry(position).or_default();
                entry.0 += score;
                entry.1 += 1;
            }
        }
        // A product with every word of the query comes before one with a few of them.
        let words = wanted.len() as f64;
        let scored = scores
            .iter()
            .map(|(&position, &(score, matched))| {
                let coverage = f64::from(matched) / words;
                (
                    self.products[position as usize],
                    f64::from(score) * coverage * coverage,
                )
            })
            .collect();
        let candidates = top_k(scored, k, &HashSet::new());
        // The best product's share of the query, looked up once rather than kept per product.
        let coverage = candidates
            .first()
            .and_then(|best| {
                scores
                    .iter()
                    .find(|(&position, _)| self.products[position as usize] == best.item)
            })
            .map_or(0.0, |(_, &(_, matched))| f64::from(matched) / words);
        Matches {
            candidates,
            coverage,
        }
    }

    /// Whole queries that complete what is being typed, best first: the words typed so far
    /// and each completion of the last that some product has with all of them.
    pub fn completions(&self, query: &str, n: usize) -> Vec<String> {
        let typed = words(query);
        let Some((last, before)) = typed.split_last() else {
            return Vec::new();
        };
        let required: Vec<u32> = before
            .iter()
            .filter(|w| !is_stop_word(w))
            .filter_map(|w| self.terms.get(&self.analyzer.stem(w)).copied())
            .collect();
        if required.len() < before.iter().filter(|w| !is_stop_word(w)).count() {
            return Vec::new(); // a word no product has: nothing completes it
        }
        let having_all = self.products_with_all(&required);
        // Each completion by how much it says about the products that have every word: a
        // word in many titles before one in many descriptions.
        let mut completions: Vec<(f32, &String)> = Vec::new();
        let mut terms_shown = HashSet::new();
        for (word, surface) in self.most_used_starting_with(last) {
            if !terms_shown.insert(surface.term) {
                continue; // `mat` and `mats` are one completion
            }
            let weight: f32 = self.postings[surface.term as usize]
                .iter()
                .filter(|(p, _)| having_all.as_ref().is_none_or(|all| all.contains(p)))
                .map(|(_, tf)| tf)
                .sum();
            if weight > 0.0 {
                completions.push((weight, word));
            }
        }
        completions.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.len().cmp(&b.1.len())));
        let prefix = before.join(" ");
        completions
            .into_iter()
            .take(n)
            .map(|(_, word)| {
                if prefix.is_empty() {
                    word.clone()
                } else {
                    format!("{prefix} {word}")
                }
            })
            .collect()
    }

    /// Products with every one of `terms`; `None` for no terms (every product).
    fn products_with_all(&self, terms: &[u32]) -> Option<HashSet<u32>> {
        let mut sets = terms.iter().map(|&t| {
            self.postings[t as usize]
                .iter()
                .map(|(p, _)| *p)
                .collect::<HashSet<u32>>()
        });
        let first = sets.next()?;
        Some(sets.fold(first, |all, next| {
            all.intersection(&next).copied().collect()
        }))
    }

    /// Words of the catalogue that begin with `prefix`, most used first.
    fn most_used_starting_with(&self, prefix: &str) -> Vec<(&String, Surface)> {
        let mut found: Vec<(&String, Surface)> = self
            .surfaces
            .range(prefix.to_owned()..)
            .take_while(|(word, _)| word.starts_with(prefix))
            .map(|(word, surface)| (word, *surface))
            .collect();
        found.sort_by(|a, b| b.1.uses.cmp(&a.1.uses).then(a.0.cmp(b.0)));
        found.truncate(MAX_COMPLETIONS_SEARCHED);
        found
    }

    /// Per query word: the terms that satisfy it and how much each counts.
    fn query_terms(&self, query: &str, typing: bool) -> Vec<Vec<(u32, f32)>> {
        let typed = words(query);
        let only_stop_words = typed.iter().all(|w| is_stop_word(w));
        let last = typed.len().saturating_sub(1);
        typed
            .iter()
            .enumerate()
            .filter(|(_, w)| only_stop_words || !is_stop_word(w))
            .map(|(i, word)| {
                let exact = self.terms.get(&self.analyzer.stem(word)).copied();
                let mut alternatives: Vec<(u32, f32)> =
                    exact.map(|t| (t, 1.0)).into_iter().collect();
                if typing && i == last {
                    alternatives.extend(
                        self.most_used_starting_with(word)
                            .into_iter()
                            .filter(|(_, s)| Some(s.term) != exact)
                            .map(|(_, s)| (s.term, COMPLETED_WORD_FACTOR)),
                    );
                } else if exact.is_none() && self.typo_factor > 0.0 {
                    alternatives.extend(
                        self.one_edit_from(word)
                            .into_iter()
                            .map(|term| (term, self.typo_factor)),
                    );
                }
                alternatives
            })
            .collect()
    }

    /// The terms of the catalogue's words one edit from `word`: what a shopper most
    /// likely meant by a word no product has.
    fn one_edit_from(&self, word: &str) -> Vec<u32> {
        let mut terms: Vec<u32> = Vec::new();
        spelling::one_edit_from(word, &self.alphabet, |edit| {
            if let Some(surface) = self.surfaces.get(edit) {
                terms.push(surface.term);
            }
        });
        terms.sort_unstable();
        terms.dedup();
        terms
    }

    fn idf(&self, having: usize) -> f32 {
        let n = self.products.len() as f32;
        let df = having as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(id: u64, title: &str, product_type: &str, description: &str) -> ProductText {
        ProductText {
            id,
            title: title.into(),
            product_type: product_type.into(),
            description: description.into(),
            ..ProductText::default()
        }
    }

    fn catalogue() -> LexicalIndex {
        LexicalIndex::build(&[
            product(
                1,
                "Warrior Yoga Mat - Black",
                "Mats",
                "A grippy natural rubber mat.",
            ),
            product(
                2,
                "Cork Yoga Block",
                "Blocks",
                "Use it with your mat for support.",
            ),
            product(3, "Cotton Yoga Strap", "Straps", "For stretching."),
            product(4, "Travel Mat", "Mats", "Folds small."),
            product(5, "Meditation Cushion", "Cushions", "Buckwheat filled."),
        ])
    }

    fn ids(found: &Matches) -> Vec<u64> {
        found.candidates.iter().map(|c| c.item).collect()
    }

    #[test]
    fn every_word_and_the_title_count_most() {
        let index = catalogue();
        let found = index.search("yoga mats", false, 10);
        assert_eq!(ids(&found)[0], 1, "both words, in the title: {found:?}");
        // Both words, one in passing, come before one word in the title.
        assert_eq!(ids(&found)[1..3], [2, 4]);
        // A short title that is the word itself beats a long one; a description's mention
        // comes last.
        assert_eq!(ids(&index.search("mat", false, 10)), [4, 1, 2]);
        assert_eq!(index.search("kettlebell", false, 10), Matches::default());
    }

    #[test]
    fn the_word_being_typed_is_completed() {
        let index = catalogue();
        assert!(index.search("cush", false, 10).candidates.is_empty());
        assert_eq!(ids(&index.search("cush", true, 10)), [5]);
        assert_eq!(ids(&index.search("yoga str", true, 10))[0], 3);
    }

    #[test]
    fn a_word_no_product_has_is_read_as_the_catalogues_word_one_edit_away() {
        let index = catalogue();
        // A letter left out, one added, one changed, two swapped.
        for typo in ["warior mat", "warrrior mat", "warrier mat", "wrarior mat"] {
            let found = index.search(typo, false, 10);
            assert_eq!(ids(&found)[0], 1, "{typo}: {found:?}");
            assert_eq!(found.coverage, 1.0, "the corrected word answers: {typo}");
        }
        assert_eq!(ids(&index.search("meditaton cusion", false, 10)), [5]);
        // The word typed right still outweighs its correction.
        let exact = index.search("warrior", false, 10).candidates[0].score;
        let corrected = index.search("warior", false, 10).candidates[0].score;
        assert!(corrected < exact, "{corrected} against {exact}");
    }

    #[test]
    fn short_words_codes_and_known_words_are_not_corrected() {
        let index = LexicalIndex::build(&[
            product(1, "Yoga Mat 5mm", "Mats", ""),
            product(2, "Yoga Map", "Posters", ""),
        ]);
        // `mag` is one edit from `mat` and `map`: too short to guess.
        assert!(index.search("mag", false, 10).candidates.is_empty());
        assert!(index.search("6mm", false, 10).candidates.is_empty());
        // `map` is a word of the catalogue: it finds the map, not the mat.
        assert_eq!(ids(&index.search("map", false, 10)), [2]);
    }

    #[test]
    fn coverage_is_the_share_of_the_query_the_best_product_answers() {
        let index = catalogue();
        assert_eq!(index.search("cork yoga block", false, 10).coverage, 1.0);
        assert_eq!(index.search("cork kettlebell", false, 10).coverage, 0.5);
        assert_eq!(index.search("kettlebell", false, 10).coverage, 0.0);
    }

    #[test]
    fn completions_are_whole_queries_some_product_answers() {
        let index = catalogue();
        assert_eq!(index.completions("yoga m", 5), ["yoga mat"]);
        let after_cork = index.completions("cork yoga b", 5);
        assert_eq!(after_cork, ["cork yoga block"]);
        assert!(index.completions("kettlebell m", 5).is_empty());
        assert_eq!(index.completions("str", 5)[0], "strap");
    }
}
