//! Offline evaluation of search (`kindred eval --search`): NDCG@10 of the lexical half
//! alone, the semantic half alone and the served hybrid, on queries made from the real
//! catalogues themselves, with the same index, fusion and weights as serving. Four kinds
//! of query, all of them what shoppers type:
//!
//! - a product's title without its brand, variant, option values and numbers ("Warrior
//!   Mat - Black" by Alo is "warrior mat"): the product is highly relevant, the other
//!   colourways of its line relevant;
//! - the same title query misspelt (its longest word missing its middle letter: "warior
//!   mat"), as shoppers type in a hurry;
//! - the product in its description's words: the first six words of its description that
//!   its title does not use (the product highly relevant, its line relevant);
//! - a tag a few products share ("cork", "travel"): those products are relevant.
//!
//! The queries, in order of kind and text, are split in two alternately: the lexical share
//! of the fusion and the lexical index's typo factor are chosen on the first half
//! (`tuning`), every figure of the table is measured on the second. Deterministic: no
//! sampling, ties broken by product id (the hybrid's first by closeness in meaning).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use kindred_embedder::Embedder;
use kindred_retriever::recommend::Candidate;
use kindred_retriever::search::text::{is_stop_word, query_for_model, words};
use kindred_retriever::search::{fuse, HybridWeights, LexicalIndex, Matches, ProductText};

use crate::catalog::service::text_of;
use crate::catalog::{read_catalogue, searchable_text};
use crate::domain::Product;
use crate::error::AppError;
use crate::recommend::diversity::variant_family;
use crate::search::WEIGHTS;

const CUTOFF: usize = 10;
/// A tag is a query when this many products share it, at most: wider tags are categories
/// ("yoga", "sale") that any ranking of many products satisfies.
const TAG_PRODUCTS: std::ops::RangeInclusive<usize> = 2..=20;
/// The lexical shares tried on the tuning half.
const SHARES: [f64; 6] = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
/// The typo factors tried on the tuning half (0: no correction).
const TYPO_FACTORS: [f32; 6] = [0.0, 0.5, 0.7, 0.8, 0.9, 1.0];

/// A query and the grade of each relevant product (2: the one meant, 1: relevant).
struct Query {
    kind: &'static str,
    text: String,
    relevant: HashMap<u64, f64>,
}

/// One row of the table: a catalogue, a kind of query, NDCG@10 of each method.
pub struct SearchRow {
    pub catalogue: String,
    pub kind: &'static str,
    pub queries: usize,
    pub lexical: f64,
    pub semantic: f64,
    pub hybrid: f64,
}

/// What one catalogue measured: the table's rows (second half), and on the tuning half
/// NDCG@10 of the hybrid by lexical share and by typo factor.
pub struct SearchEvaluation {
    pub rows: Vec<SearchRow>,
    /// By lexical share, each with the served typo factor.
    pub tuning: Vec<(f64, f64)>,
    /// By the lexical index's typo factor (0: no correction), each with the served weights.
    pub typo_tuning: Vec<(f32, f64)>,
}

/// A query's two lists, as serving reads them.
struct Lists<'q> {
    query: &'q Query,
    lexical: Matches,
    semantic: Vec<Candidate>,
}

/// Evaluates search on one catalogue file or folder.
pub fn evaluate(
    name: &str,
    path: &Path,
    model: &dyn Embedder,
) -> Result<SearchEvaluation, AppError> {
    let products = read_catalogue(path)?.products;
    let queries = queries(&products);
    let texts: Vec<ProductText> = products.iter().map(searchable_text).collect();
    let semantic = semantic_lists(&products, &queries, model)?;
    let lists_with = |index: &LexicalIndex| -> Vec<Lists> {
        queries
            .iter()
            .zip(&semantic)
            .map(|(query, semantic)| Lists {
                query,
                lexical: index.search(&query.text, false, WEIGHTS.depth),
                semantic: semantic.clone(),
            })
            .collect()
    };
    let served = lists_with(&LexicalIndex::build(&texts));
    let tuning = SHARES
        .iter()
        .map(|&share| {
            let weights = HybridWeights {
                lexical_share: share,
                ..WEIGHTS
            };
            (share, tuning_ndcg(&served, &weights))
        })
        .collect();
    let typo_tuning: Vec<(f32, f64)> = TYPO_FACTORS
        .iter()
        .map(|&factor| {
            let index = LexicalIndex::build(&texts).with_typo_factor(factor);
            (factor, tuning_ndcg(&lists_with(&index), &WEIGHTS))
        })
        .collect();
    let tried: Vec<String> = typo_tuning
        .iter()
        .map(|(factor, ndcg)| format!("{factor:.1}: {ndcg:.4}"))
        .collect();
    // The command prints the shares; the typo factors go to the log.
    tracing::info!(
        catalogue = name,
        "tuning half, NDCG@10 by typo factor: {}",
        tried.join(", ")
    );
    let catalogue = format!("{name} ({} products)", products.len());
    Ok(SearchEvaluation {
        rows: rows(&catalogue, served.iter().skip(1).step_by(2)),
        tuning,
        typo_tuning,
    })
}

/// Mean NDCG@10 of the hybrid with `weights` on the tuning half: every other query,
/// from the first.
fn tuning_ndcg(lists: &[Lists], weights: &HybridWeights) -> f64 {
    let tuning: Vec<f64> = lists
        .iter()
        .step_by(2)
        .map(|l| ndcg(&hybrid(l, weights), &l.query.relevant))
        .collect();
    tuning.iter().sum::<f64>() / tuning.len().max(1) as f64
}

/// Each query's nearest products in meaning, as serving finds them: exact cosine over the
/// same product texts serving embeds.
fn semantic_lists(
    products: &[Product],
    queries: &[Query],
    model: &dyn Embedder,
) -> Result<Vec<Vec<Candidate>>, AppError> {
    let product_vectors: Vec<Vec<f32>> = model
        .embed(&products.iter().map(text_of).collect::<Vec<_>>())?
        .into_iter()
        .map(unit)
        .collect();
    let texts: Vec<String> = queries.iter().map(|q| query_for_model(&q.text)).collect();
    let ids: Vec<u64> = products.iter().map(|p| p.id).collect();
    Ok(model
        .embed(&texts)?
        .iter()
        .map(|vector| nearest(vector, &ids, &product_vectors, WEIGHTS.depth))
        .collect())
}

/// The served hybrid's order for a query's lists.
fn hybrid(lists: &Lists, weights: &HybridWeights) -> Vec<u64> {
    fuse(&lists.lexical, &lists.semantic, weights, CUTOFF)
        .iter()
        .map(|h| h.item)
        .collect()
}

/// Mean NDCG@10 of each method, per kind of query and over all.
fn rows<'a>(catalogue: &str, measured: impl Iterator<Item = &'a Lists<'a>>) -> Vec<SearchRow> {
    let mut totals: BTreeMap<&'static str, [f64; 4]> = BTreeMap::new();
    for lists in measured {
        let relevant = &lists.query.relevant;
        let lexical: Vec<u64> = lists.lexical.candidates.iter().map(|c| c.item).collect();
        let semantic: Vec<u64> = lists
            .semantic
            .iter()
            .filter(|c| c.score >= f64::from(WEIGHTS.min_similarity))
            .map(|c| c.item)
            .collect();
        let hybrid = hybrid(lists, &WEIGHTS);
        for kind in [lists.query.kind, "all"] {
            let sums = totals.entry(kind).or_default();
            sums[0] += 1.0;
            sums[1] += ndcg(&lexical, relevant);
            sums[2] += ndcg(&semantic, relevant);
            sums[3] += ndcg(&hybrid, relevant);
        }
    }
    totals
        .into_iter()
        .map(|(kind, [n, lexical, semantic, hybrid])| SearchRow {
            catalogue: catalogue.to_owned(),
            kind,
            queries: n as usize,
            lexical: lexical / n,
            semantic: semantic / n,
            hybrid: hybrid / n,
        })
        .collect()
}

/// The markdown table of the rows.
pub fn table(rows: &[SearchRow]) -> String {
    let mut out = String::from(
        "| catalogue | queries | n | NDCG@10 lexical | NDCG@10 semantic | NDCG@10 hybrid |\n\
         |---|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {:.4} | {:.4} | {:.4} |\n",
            r.catalogue, r.kind, r.queries, r.lexical, r.semantic, r.hybrid
        ));
    }
    out
}

/// The catalogue's title and tag queries, each text once.
fn queries(products: &[Product]) -> Vec<Query> {
    let mut by_text: BTreeMap<(&'static str, String), HashMap<u64, f64>> = BTreeMap::new();
    let families: HashMap<u64, String> = products
        .iter()
        .map(|p| (p.id, variant_family(&p.title)))
        .collect();
    for product in products {
        let title = title_query(product);
        let misspelt = title.as_deref().and_then(misspelt);
        let described = description_query(product);
        for (kind, text) in [
            ("title", title),
            ("misspelt", misspelt),
            ("described", described),
        ] {
            let Some(text) = text else { continue };
            let relevant = by_text.entry((kind, text)).or_default();
            let family = &families[&product.id];
            for other in products.iter().filter(|o| &families[&o.id] == family) {
                relevant.entry(other.id).or_insert(1.0);
            }
            relevant.insert(product.id, 2.0);
        }
    }
    let vendors: HashSet<String> = products
        .iter()
        .filter_map(|p| p.vendor.as_deref())
        .map(|v| words(v).join(" "))
        .collect();
    let mut tagged: BTreeMap<String, HashSet<u64>> = BTreeMap::new();
    for product in products {
        for tag in &product.tags {
            let text = words(tag).join(" ");
            let plain = tag
                .chars()
                .all(|c| c.is_alphabetic() || c == ' ' || c == '-');
            if plain && text.len() >= 3 && !vendors.contains(&text) {
                tagged.entry(text).or_default().insert(product.id);
            }
        }
    }
    for (text, ids) in tagged {
        if TAG_PRODUCTS.contains(&ids.len()) {
            by_text.insert(("tag", text), ids.into_iter().map(|id| (id, 1.0)).collect());
        }
    }
    by_text
        .into_iter()
        .map(|((kind, text), relevant)| Query {
            kind,
            text,
            relevant,
        })
        .collect()
}

/// The title as a shopper would put it: no brand, no variant part, no option values, no
/// sizes or codes; `None` when fewer than two words are left.
fn title_query(product: &Product) -> Option<String> {
    let brand: HashSet<String> = product.vendor.iter().flat_map(|v| words(v)).collect();
    let options: HashSet<String> = product
        .options
        .iter()
        .flat_map(|o| o.values.iter().flat_map(|v| words(v)))
        .collect();
    let kept: Vec<String> = words(&variant_family(&product.title))
        .into_iter()
        .filter(|w| !brand.contains(w) && !options.contains(w) && !is_stop_word(w))
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .collect();
    (kept.len() >= 2).then(|| kept.join(" "))
}

/// The title query as typed in a hurry: its longest word (five letters or more) missing
/// its middle letter (`warrior mat` is `warior mat`); `None` when no word is that long.
fn misspelt(query: &str) -> Option<String> {
    let words: Vec<&str> = query.split(' ').collect();
    let (at, longest) = words
        .iter()
        .enumerate()
        .max_by_key(|(i, w)| (w.chars().count(), std::cmp::Reverse(*i)))?;
    let letters: Vec<char> = longest.chars().collect();
    if letters.len() < 5 {
        return None;
    }
    let middle = letters.len() / 2;
    let typo: String = letters[..middle]
        .iter()
        .chain(&letters[middle + 1..])
        .collect();
    let mut typed: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    typed[at] = typo;
    Some(typed.join(" "))
}

/// The product as its description puts it, in words its title does not use: the first
/// six such words of the description (no brand, no numbers); `None` when it has fewer.
fn description_query(product: &Product) -> Option<String> {
    let taken: HashSet<String> = words(&product.title)
        .into_iter()
        .chain(product.vendor.iter().flat_map(|v| words(v)))
        .collect();
    let text = kindred_embedder::product_text::html_to_text(&product.description_html);
    let kept: Vec<String> = words(&text)
        .into_iter()
        .filter(|w| !taken.contains(w) && !is_stop_word(w) && w.len() > 2)
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .take(6)
        .collect();
    (kept.len() == 6).then(|| kept.join(" "))
}

/// Exact cosine nearest products, best first (`vectors` of unit length).
fn nearest(query: &[f32], ids: &[u64], vectors: &[Vec<f32>], k: usize) -> Vec<Candidate> {
    let q = unit(query.to_vec());
    let mut scored: Vec<Candidate> = ids
        .iter()
        .zip(vectors)
        .map(|(&item, v)| Candidate {
            item,
            score: f64::from(v.iter().zip(&q).map(|(a, b)| a * b).sum::<f32>()),
        })
        .collect();
    scored.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item)));
    scored.truncate(k);
    scored
}

fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

/// NDCG at the cutoff, graded gains `2^grade - 1`.
fn ndcg(ranked: &[u64], relevant: &HashMap<u64, f64>) -> f64 {
    let gain = |grade: f64| grade.exp2() - 1.0;
    let discount = |rank: usize| 1.0 / (rank as f64 + 2.0).log2();
    let dcg: f64 = ranked
        .iter()
        .take(CUTOFF)
        .enumerate()
        .map(|(rank, id)| relevant.get(id).map_or(0.0, |&g| gain(g) * discount(rank)))
        .sum();
    let mut grades: Vec<f64> = relevant.values().copied().collect();
    grades.sort_by(|a, b| b.total_cmp(a));
    let ideal: f64 = grades
        .iter()
        .take(CUTOFF)
        .enumerate()
        .map(|(rank, &g)| gain(g) * discount(rank))
        .sum();
    if ideal > 0.0 {
        dcg / ideal
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_is_one_for_the_ideal_order_and_less_otherwise() {
        let relevant = HashMap::from([(1, 2.0), (2, 1.0)]);
        assert!((ndcg(&[1, 2, 3], &relevant) - 1.0).abs() < 1e-9);
        let swapped = ndcg(&[2, 1, 3], &relevant);
        assert!(swapped < 1.0 && swapped > 0.5, "{swapped}");
        assert_eq!(ndcg(&[3, 4], &relevant), 0.0);
    }

    #[test]
    fn a_title_query_drops_brand_variant_options_and_sizes() {
        let product: Product = crate::catalog::product_from_json(&serde_json::json!({
            "id": 1, "title": "Alo Warrior Mat 6mm - Espresso", "vendor": "Alo Yoga",
            "options": [{"name": "Color", "values": ["Espresso", "Black"]}]
        }))
        .unwrap();
        assert_eq!(title_query(&product).as_deref(), Some("warrior mat"));
        assert_eq!(misspelt("warrior mat").as_deref(), Some("warior mat"));
        assert_eq!(misspelt("big mat"), None);
    }
}
