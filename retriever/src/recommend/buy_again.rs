//! Buy again: a shopper's own repeat purchases, by how often and how lately they bought each
//! item, helped by what the shoppers most like them buy (the TIFU-KNN family: Hu et al.,
//! "Modeling Personalized Item Frequency Information for Next-basket Recommendation",
//! SIGIR 2020).
//!
//! A purchase history becomes one vector over items. Its baskets, in time order, are cut
//! into groups of `group_size` counted back from the newest (the oldest group may be
//! short); inside a group each basket weighs `basket_decay^(baskets after it in the group)`
//! and the group is their mean; each group weighs `group_decay^(groups after it)` and the
//! history is their mean. The answer blends the shopper's own vector (`alpha`) with the
//! mean of the `neighbours` most similar histories (cosine), so an item the shopper never
//! bought can still come up when shoppers like them re-buy it.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{distinct, top_k, Candidate, ItemId, Session};

/// Who a history belongs to (a customer id), so a shopper is never their own neighbour.
pub type ShopperId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BuyAgainParams {
    /// Similar shoppers whose histories are blended in; 0 uses the shopper's own alone.
    pub neighbours: usize,
    /// Baskets per group.
    pub group_size: usize,
    /// Weight of a basket against the next one inside its group.
    pub basket_decay: f64,
    /// Weight of a group against the next one.
    pub group_decay: f64,
    /// Share of the shopper's own history in the answer (the rest: their neighbours').
    pub alpha: f64,
}

impl BuyAgainParams {
    /// Each shopper's most-bought items, by the share of their baskets holding each (the
    /// "personal top-frequency" baseline): one group, no decay, no neighbours.
    pub const FREQUENCY: Self = Self {
        neighbours: 0,
        group_size: usize::MAX,
        basket_decay: 1.0,
        group_decay: 1.0,
        alpha: 1.0,
    };
}

/// A history's vector: (item, weight), by item, and its length.
#[derive(Serialize, Deserialize)]
struct HistoryVector {
    weights: Vec<(ItemId, f64)>,
    norm: f64,
}

#[derive(Serialize, Deserialize)]
pub struct BuyAgain {
    params: BuyAgainParams,
    shoppers: Vec<(ShopperId, HistoryVector)>,
    /// Per item, the shoppers whose vector holds it, with its weight there.
    by_item: HashMap<ItemId, Vec<(usize, f64)>>,
}

impl BuyAgain {
    /// Histories by shopper; each history's baskets in any order (they are sorted by time).
    pub fn train(histories: &[(ShopperId, Vec<Session>)], params: BuyAgainParams) -> Self {
        let mut shoppers = Vec::with_capacity(histories.len());
        let mut by_item: HashMap<ItemId, Vec<(usize, f64)>> = HashMap::new();
        if params.neighbours > 0 {
            for (shopper, history) in histories {
                let vector = history_vector(history, &params);
                if vector.weights.is_empty() {
                    continue;
                }
                for (item, weight) in &vector.weights {
                    by_item
                        .entry(*item)
                        .or_default()
                        .push((shoppers.len(), *weight));
                }
                shoppers.push((*shopper, vector));
            }
        }
        Self {
            params,
            shoppers,
            by_item,
        }
    }

    /// Up to `k` items for the shopper with this purchase history, best first, none in
    /// `exclude`. `shopper` keeps their own trained history out of their neighbours.
    pub fn recommend(
        &self,
        shopper: Option<ShopperId>,
        history: &[Session],
        k: usize,
        exclude: &HashSet<ItemId>,
    ) -> Vec<Candidate> {
        let own = history_vector(history, &self.params);
        if own.weights.is_empty() {
            return Vec::new();
        }
        let mut scores: HashMap<ItemId, f64> = own
            .weights
            .iter()
            .map(|(item, weight)| (*item, self.params.alpha * weight))
            .collect();
        let neighbours = self.nearest(shopper, &own);
        if !neighbours.is_empty() {
            let share = (1.0 - self.params.alpha) / neighbours.len() as f64;
            for index in neighbours {
                for (item, weight) in &self.shoppers[index].1.weights {
                    *scores.entry(*item).or_default() += share * weight;
                }
            }
        }
        top_k(scores, k, exclude)
    }

    /// The trained histories most like `own` by cosine, best first (ties: the earlier one).
    fn nearest(&self, shopper: Option<ShopperId>, own: &HistoryVector) -> Vec<usize> {
        if self.params.neighbours == 0 || self.params.alpha >= 1.0 {
            return Vec::new();
        }
        let mut dots: HashMap<usize, f64> = HashMap::new();
        for (item, weight) in &own.weights {
            for (index, theirs) in self.by_item.get(item).into_iter().flatten() {
                *dots.entry(*index).or_default() += weight * theirs;
            }
        }
        let mut ranked: Vec<(usize, f64)> = dots
            .into_iter()
            .filter(|(index, _)| Some(self.shoppers[*index].0) != shopper)
            .map(|(index, dot)| (index, dot / (own.norm * self.shoppers[index].1.norm)))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(self.params.neighbours);
        ranked.into_iter().map(|(index, _)| index).collect()
    }
}

/// The history's time-decayed, group-averaged item vector.
fn history_vector(history: &[Session], params: &BuyAgainParams) -> HistoryVector {
    let mut baskets: Vec<&Session> = history.iter().filter(|b| !b.items.is_empty()).collect();
    baskets.sort_by_key(|b| b.time);
    let size = params.group_size.max(1);
    // Groups counted back from the newest basket, then put oldest first.
    let mut groups: Vec<&[&Session]> = baskets.rchunks(size).collect();
    groups.reverse();
    let mut weights: HashMap<ItemId, f64> = HashMap::new();
    let group_count = groups.len();
    for (position, group) in groups.iter().enumerate() {
        let group_weight =
            params.group_decay.powi((group_count - 1 - position) as i32) / group_count as f64;
        for (at, basket) in group.iter().enumerate() {
            let basket_weight = params.basket_decay.powi((group.len() - 1 - at) as i32)
                / group.len() as f64
                * group_weight;
            for item in distinct(&basket.items) {
                *weights.entry(item).or_default() += basket_weight;
            }
        }
    }
    let mut weights: Vec<(ItemId, f64)> = weights.into_iter().collect();
    weights.sort_by_key(|(item, _)| *item);
    let norm = weights.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
    HistoryVector { weights, norm }
}

/// The share of repeat buyers' later basket items that they had bought before (0 when no
/// buyer has bought twice).
pub fn repeat_share(histories: &[(ShopperId, Vec<Session>)]) -> f64 {
    let (mut again, mut all) = (0usize, 0usize);
    for (_, baskets) in histories {
        let mut bought: HashSet<ItemId> = Default::default();
        for (n, basket) in baskets.iter().enumerate() {
            if n > 0 {
                all += basket.items.len();
                again += basket.items.iter().filter(|i| bought.contains(i)).count();
            }
            bought.extend(basket.items.iter().copied());
        }
    }
    if all == 0 {
        0.0
    } else {
        again as f64 / all as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basket(items: &[ItemId], time: i64) -> Session {
        Session {
            items: items.to_vec(),
            time,
        }
    }

    fn items(found: &[Candidate]) -> Vec<ItemId> {
        found.iter().map(|c| c.item).collect()
    }

    #[test]
    fn frequency_ranks_what_the_shopper_bought_most_often() {
        let history = [basket(&[1, 2], 1), basket(&[2, 3], 2), basket(&[2], 3)];
        let model = BuyAgain::train(&[], BuyAgainParams::FREQUENCY);
        let found = model.recommend(None, &history, 3, &HashSet::new());
        assert_eq!(items(&found), [2, 1, 3]);
        assert!((found[0].score - 1.0).abs() < 1e-12, "2 is in every basket");
    }

    #[test]
    fn recent_baskets_weigh_more_when_decayed() {
        // 1 was bought twice long ago, 3 once lately.
        let history = [basket(&[1], 1), basket(&[1], 2), basket(&[3], 3)];
        let recent = BuyAgainParams {
            group_size: 1,
            group_decay: 0.3,
            ..BuyAgainParams::FREQUENCY
        };
        let model = BuyAgain::train(&[], recent);
        assert_eq!(
            items(&model.recommend(None, &history, 2, &HashSet::new())),
            [3, 1]
        );
        let flat = BuyAgain::train(&[], BuyAgainParams::FREQUENCY);
        assert_eq!(
            items(&flat.recommend(None, &history, 2, &HashSet::new())),
            [1, 3]
        );
    }

    #[test]
    fn neighbours_bring_what_similar_shoppers_rebuy_but_never_the_shopper_themself() {
        let histories = vec![
            (1, vec![basket(&[10, 11], 1), basket(&[10, 11, 12], 2)]),
            (2, vec![basket(&[10, 11, 12], 1), basket(&[12], 2)]),
            (3, vec![basket(&[50, 51], 1)]),
        ];
        let params = BuyAgainParams {
            neighbours: 1,
            alpha: 0.5,
            ..BuyAgainParams::FREQUENCY
        };
        let model = BuyAgain::train(&histories, params);
        // A new shopper who bought 10 and 11: shopper 1 is nearest, and brings 12.
        let found = model.recommend(None, &[basket(&[10, 11], 5)], 3, &HashSet::new());
        assert_eq!(items(&found), [10, 11, 12]);
        // Shopper 3 has no neighbour sharing an item, and is not their own.
        let alone = model.recommend(Some(3), &histories[2].1, 5, &HashSet::new());
        assert_eq!(items(&alone), [50, 51]);
        assert!(alone.iter().all(|c| (c.score - 0.5).abs() < 1e-12));
    }

    #[test]
    fn the_repeat_share_counts_later_items_bought_before() {
        let histories = vec![
            // The second basket: 1 again, 3 new.
            (1, vec![basket(&[1, 2], 1), basket(&[1, 3], 2)]),
            // One basket: nothing to count.
            (2, vec![basket(&[1], 1)]),
        ];
        assert!((repeat_share(&histories) - 0.5).abs() < 1e-12);
        assert_eq!(repeat_share(&[]), 0.0);
    }

    #[test]
    fn an_empty_history_has_nothing_to_say() {
        let model = BuyAgain::train(&[], BuyAgainParams::FREQUENCY);
        assert!(model.recommend(None, &[], 5, &HashSet::new()).is_empty());
    }
}
