//! Shelves worth looking at: one product per variant family, and maximal marginal
//! relevance on the stored vectors (`kindred_retriever::recommend::mmr_order`), so that a
//! shelf is not five colourways of one item or four teethers of one line. Both are shop
//! settings in the merchandising rules, on by default.

use std::collections::{HashMap, HashSet};

use kindred_retriever::recommend::mmr_order;
pub use kindred_retriever::recommend::POOL_PER_PLACE;

use super::Recommendation;

/// Diversity on by default: the weight of novelty against relevance in MMR. Chosen on the
/// real catalogues (BENCHMARKS.md, *Shelf diversity*): it removes most near-duplicate pairs
/// while the share of same-kind neighbours stays where it was.
pub const DEFAULT_DIVERSITY: f32 = 0.3;

/// Words a title's last part may have and still name a variant ("Black", "Mandala Teal",
/// "3.5MM OR 4.5MM"), not a product of its own.
const MAX_VARIANT_WORDS: usize = 3;
/// Where a title's variant part starts: "Warrior Mat - Black", "Booties | Reindeer",
/// "Yoga Mat (5mm)".
const SEPARATORS: [&str; 6] = [" - ", " – ", " — ", " | ", " / ", " ("];

/// The product line a title belongs to: the title without its last part when that part is
/// short and what remains still names a product (two words or more), else the whole title;
/// lower-cased with spaces collapsed. "Warrior Mat - Black" and "Warrior Mat - Espresso"
/// share "warrior mat"; "ADIDAS | CLASSIC BACKPACK | LEGEND INK" joins "ADIDAS | CLASSIC
/// BACKPACK", while "ADIDAS | KID'S STAN SMITH" (whose rest would be the brand alone) does not.
pub fn variant_family(title: &str) -> String {
    let title = title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let cut = SEPARATORS
        .iter()
        .filter_map(|separator| title.rfind(separator).map(|at| (at, separator.len())))
        .max_by_key(|(at, _)| *at);
    if let Some((at, width)) = cut {
        let (line, variant) = (&title[..at], title[at + width..].trim_end_matches(')'));
        let variant_words = words(variant);
        if words(line) >= 2 && (1..=MAX_VARIANT_WORDS).contains(&variant_words) {
            return line.trim().to_owned();
        }
    }
    title
}

fn words(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// Each variant family's best candidate first, in their order, then the families' other
/// members: so that MMR chooses among product lines rather than colourways (which the
/// shelf holds back anyway). Families of what is already on the shelf count as shown.
pub fn families_first(ranked: &mut Vec<(f32, Recommendation)>, shown: &[Recommendation]) {
    let mut seen: HashSet<String> = shown
        .iter()
        .map(|r| variant_family(&r.product.title))
        .collect();
    let (first, repeats): (Vec<_>, Vec<_>) = ranked
        .drain(..)
        .partition(|(_, r)| seen.insert(variant_family(&r.product.title)));
    ranked.extend(first);
    ranked.extend(repeats);
}

/// Re-orders the head of a ranked shelf by MMR: of the first `places × POOL_PER_PLACE`
/// candidates (each with the score it is ranked by), the first `places` are chosen for
/// novelty as well as relevance. `vectors` holds what the index had for them; `shown` the
/// vectors of what is already on the shelf.
pub fn diversify(
    ranked: &mut [(f32, Recommendation)],
    vectors: &HashMap<u64, Vec<f32>>,
    shown: &[&[f32]],
    diversity: f32,
    places: usize,
) {
    if diversity <= 0.0 || ranked.len() < 2 {
        return;
    }
    let pool = ranked.len().min(places * POOL_PER_PLACE);
    let head = &mut ranked[..pool];
    let own: Vec<Option<&[f32]>> = head
        .iter()
        .map(|(_, r)| vectors.get(&r.product.id).map(Vec::as_slice))
        .collect();
    if own.iter().all(Option::is_none) {
        return;
    }
    // The order given is the relevance order: a score above an earlier one's (a re-buy
    // merged into for-you, say) counts as equal to it, never as a reason to move up.
    let mut ceiling = f32::INFINITY;
    let relevance: Vec<f32> = head
        .iter()
        .map(|(score, _)| {
            ceiling = ceiling.min(*score);
            ceiling
        })
        .collect();
    let order = mmr_order(&relevance, &own, shown, diversity, places);
    let reordered: Vec<(f32, Recommendation)> = order.iter().map(|i| head[*i].clone()).collect();
    head.clone_from_slice(&reordered);
}

#[cfg(test)]
mod tests {
    use super::variant_family;

    #[test]
    fn colourways_and_pack_sizes_share_a_family() {
        let same = [
            ("Warrior Mat - Black", "Warrior Mat - Espresso"),
            (
                "Muslin Cap Mitten Booties | Reindeer",
                "Muslin Cap Mitten Booties | Love",
            ),
            (
                "Combo Yoga Mat - Celestial",
                "Combo Yoga Mat - Aegean Green",
            ),
            (
                "Liforme Magic Galaxy Yoga Mat - Gold & Silver",
                "Liforme Magic Galaxy Yoga Mat - Silver",
            ),
            (
                "ADIDAS | CLASSIC BACKPACK",
                "ADIDAS | CLASSIC BACKPACK | LEGEND INK MULTICOLOUR",
            ),
            ("Foldable Yoga Mat (2mm)", "Foldable  Yoga Mat (4mm)"),
            ("Warrior Mat", "Warrior Mat - Black"),
        ];
        for (a, b) in same {
            assert_eq!(variant_family(a), variant_family(b), "{a} / {b}");
        }
    }

    #[test]
    fn different_products_keep_their_own() {
        let different = [
            ("ADIDAS | CLASSIC BACKPACK", "ADIDAS | KID'S STAN SMITH"),
            (
                "Mountain Lion Cork Yoga Mat | 3.5MM OR 4.5MM",
                "Blossom Cork Yoga Mat | 4.5MM",
            ),
            ("Warrior Mat - Black", "Lightweight Warrior Mat - Black"),
            (
                "Liforme x You - A unique Yoga Mat",
                "Liforme x You - A unique Yoga Block",
            ),
            ("Aura Cork Yoga Mat", "Unity Pro Cork Yoga Mat"),
        ];
        for (a, b) in different {
            assert_ne!(variant_family(a), variant_family(b), "{a} / {b}");
        }
    }
}
