//! A shelf assembled under compiled rules: pins first, then the candidates filtered,
//! boosted and buried, diversified, and capped per vendor and per variant family.

use std::collections::{HashMap, HashSet};

use super::diversity::{diversify, families_first, variant_family};
use super::rules::CompiledRules;
use super::Recommendation;
use crate::domain::Product;

/// How far a shelf may depart from its strategy's order for variety (`Strategy::variety`).
#[derive(Clone, Copy)]
pub enum Variety<'a> {
    /// The order is the point (the shopper's own views, their likely re-buys): kept.
    Kept,
    /// One product per variant family, the order otherwise kept (newest first, most
    /// popular first).
    Families,
    /// Families, then maximal marginal relevance on these embeddings of the candidates
    /// and pins (where known).
    Full(&'a HashMap<u64, Vec<f32>>),
}

impl CompiledRules {
    /// The final list: pinned products first (those given, already checked as
    /// recommendable), then the candidates filtered, boosted, buried, diversified as
    /// `variety` allows and capped per vendor and per variant family.
    pub fn apply(
        &self,
        candidates: Vec<Recommendation>,
        pinned: Vec<Product>,
        purchased: &HashSet<u64>,
        limit: usize,
        variety: Variety<'_>,
    ) -> Vec<Recommendation> {
        let mut seen: HashSet<u64> = HashSet::new();
        let shelf: Vec<Recommendation> = pinned
            .into_iter()
            .filter(|p| !self.excludes(p, purchased))
            .filter(|p| seen.insert(p.id))
            .map(|product| Recommendation {
                product,
                score: 1.0,
                reason: "featured by the shop".to_owned(),
            })
            .take(limit)
            .collect();
        let mut ranked = self.ranked(candidates, &mut seen, purchased);
        // Buried products stay last: novelty re-orders only what comes before them.
        let unburied = ranked.iter().take_while(|(buried, ..)| !buried).count();
        let mut head: Vec<(f32, Recommendation)> = ranked
            .drain(..unburied)
            .map(|(_, score, r)| (score, r))
            .collect();
        if let Variety::Full(vectors) = variety {
            if self.collapse_variants {
                families_first(&mut head, &shelf);
            }
            let shown: Vec<&[f32]> = shelf
                .iter()
                .filter_map(|r| vectors.get(&r.product.id).map(Vec::as_slice))
                .collect();
            let places = limit.saturating_sub(shelf.len());
            diversify(&mut head, vectors, &shown, self.diversity, places);
        }
        let rest = head
            .into_iter()
            .chain(ranked.into_iter().map(|(_, score, r)| (score, r)))
            .map(|(_, r)| r);
        self.fill(
            shelf,
            rest,
            limit,
            !matches!(variety, Variety::Kept) && self.collapse_variants,
        )
    }

    /// The candidates not excluded nor already taken, boosted and buried: buried ones
    /// last, each with its score after boosts (what the shelf is ranked by).
    fn ranked(
        &self,
        candidates: Vec<Recommendation>,
        seen: &mut HashSet<u64>,
        purchased: &HashSet<u64>,
    ) -> Vec<(bool, f32, Recommendation)> {
        // Boosts and buries re-rank by score; the strategies' scores are comparable within
        // one answer, which is all a re-rank needs.
        let mut ranked: Vec<(bool, f32, usize, Recommendation)> = candidates
            .into_iter()
            .filter(|r| !self.excludes(&r.product, purchased) && seen.insert(r.product.id))
            .enumerate()
            .map(|(position, r)| {
                let factor: f32 = self
                    .boost
                    .iter()
                    .filter(|(m, _)| m.matches(&r.product))
                    .map(|(_, f)| *f)
                    .product();
                let buried = self.bury.iter().any(|m| m.matches(&r.product));
                (buried, r.score * factor, position, r)
            })
            .collect();
        if !self.boost.is_empty() || !self.bury.is_empty() {
            ranked.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
        }
        ranked
            .into_iter()
            .map(|(buried, score, _, r)| (buried, score, r))
            .collect()
    }

    /// The shelf filled up to `limit` in the order given, at most `max_per_vendor` of a
    /// vendor and one of a variant family; a cap that would leave it short gives way, best
    /// first.
    fn fill(
        &self,
        mut shelf: Vec<Recommendation>,
        ranked: impl Iterator<Item = Recommendation>,
        limit: usize,
        collapse_variants: bool,
    ) -> Vec<Recommendation> {
        let family =
            |r: &Recommendation| collapse_variants.then(|| variant_family(&r.product.title));
        let mut per_vendor: HashMap<String, usize> = HashMap::new();
        let mut families: HashSet<String> = HashSet::new();
        for r in &shelf {
            *per_vendor.entry(vendor_key(&r.product)).or_default() += 1;
            families.extend(family(r));
        }
        let mut held_back = Vec::new();
        for recommendation in ranked {
            if shelf.len() == limit {
                break;
            }
            let count = per_vendor
                .entry(vendor_key(&recommendation.product))
                .or_default();
            let own_family = family(&recommendation);
            let vendor_full = self.max_per_vendor.is_some_and(|cap| *count >= cap);
            let family_shown = own_family.as_ref().is_some_and(|f| families.contains(f));
            if vendor_full || family_shown {
                held_back.push(recommendation);
            } else {
                *count += 1;
                families.extend(own_family);
                shelf.push(recommendation);
            }
        }
        let room = limit.saturating_sub(shelf.len());
        shelf.extend(held_back.into_iter().take(room));
        shelf
    }
}

fn vendor_key(product: &Product) -> String {
    product
        .vendor
        .as_deref()
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::rules::MerchandisingRules;
    use serde_json::json;

    fn candidates(titles: &[&str]) -> Vec<Recommendation> {
        titles
            .iter()
            .enumerate()
            .map(|(i, title)| Recommendation {
                product: crate::catalog::product_from_json(
                    &json!({"id": i + 1, "title": title, "vendor": "Alo"}),
                )
                .unwrap(),
                score: 0.9 - i as f32 * 0.01,
                reason: "similar".into(),
            })
            .collect()
    }

    fn titles(shelf: &[Recommendation]) -> Vec<&str> {
        shelf.iter().map(|r| r.product.title.as_str()).collect()
    }

    fn apply(rules: serde_json::Value, titles: &[&str], limit: usize) -> Vec<Recommendation> {
        let rules: MerchandisingRules = serde_json::from_value(rules).unwrap();
        let vectors = HashMap::new();
        rules.compile().unwrap().apply(
            candidates(titles),
            Vec::new(),
            &HashSet::new(),
            limit,
            Variety::Full(&vectors),
        )
    }

    const COLOURWAYS: [&str; 4] = [
        "Warrior Mat - Black",
        "Warrior Mat - Espresso",
        "Yoga Strap - Jungle",
        "Warrior Mat - Sand",
    ];

    #[test]
    fn one_product_per_variant_family_unless_the_shelf_would_be_short() {
        let shelf = apply(json!({}), &COLOURWAYS, 2);
        assert_eq!(
            titles(&shelf),
            ["Warrior Mat - Black", "Yoga Strap - Jungle"]
        );
        let shelf = apply(json!({}), &COLOURWAYS, 3);
        assert_eq!(
            titles(&shelf),
            [
                "Warrior Mat - Black",
                "Yoga Strap - Jungle",
                "Warrior Mat - Espresso"
            ]
        );
        let shelf = apply(json!({"collapse_variants": false}), &COLOURWAYS, 2);
        assert_eq!(
            titles(&shelf),
            ["Warrior Mat - Black", "Warrior Mat - Espresso"]
        );
    }

    #[test]
    fn a_shelf_whose_order_is_its_point_keeps_it() {
        let rules = MerchandisingRules::default().compile().unwrap();
        for (variety, expected) in [
            (
                Variety::Kept,
                ["Warrior Mat - Black", "Warrior Mat - Espresso"],
            ),
            (
                Variety::Families,
                ["Warrior Mat - Black", "Yoga Strap - Jungle"],
            ),
        ] {
            let shelf = rules.apply(
                candidates(&COLOURWAYS),
                Vec::new(),
                &HashSet::new(),
                2,
                variety,
            );
            assert_eq!(titles(&shelf), expected);
        }
    }

    #[test]
    fn diversity_out_of_range_is_refused_by_name() {
        for diversity in [-0.1, 1.5] {
            let rules = MerchandisingRules {
                diversity,
                ..Default::default()
            };
            let error = rules.compile().err().expect("refused").to_string();
            assert!(error.contains("`diversity`"), "{error}");
        }
    }
}
