//! A short random walk on the co-view graph: from the shopper's items to the items that
//! shared their sessions (one step), and on to the items that shared *those* items'
//! sessions (two steps). Direct co-occurrence stops at items seen together with the context;
//! in a sparse or young catalogue most next items never were (on Diginetica only 83 of 727
//! test targets co-occur with their context, 124 are two steps away), and the second step
//! reaches them. Each step follows transition probabilities (an item's co-occurrence counts
//! divided by their sum), so a hub item spreads its weight thin instead of dominating.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{
    distinct, pair_counts, recency_weight, top_k, Candidate, CandidateSource, ItemId, Session,
};

/// Items of the first step carried into the second: the walk's cost stays bounded however
/// long the shopper's session.
const FRONTIER: usize = 200;

#[derive(Serialize, Deserialize)]
pub struct ItemWalk {
    /// From each item, the items sharing its sessions with the probability of stepping there
    /// (the row's strongest `max_links`, probabilities of the whole row).
    transitions: HashMap<ItemId, Vec<(ItemId, f64)>>,
    /// Weight of the second step's arrivals relative to the first's.
    second_step: f64,
    recency_decay: f64,
}

impl ItemWalk {
    /// Sessions longer than `max_session` items are skipped, as for co-occurrence.
    pub fn train(
        sessions: &[Session],
        max_links: usize,
        max_session: usize,
        second_step: f64,
        recency_decay: f64,
    ) -> Self {
        let counts = pair_counts(sessions, max_session);
        let transitions = counts
            .into_iter()
            .map(|(item, row)| {
                let total: f64 = row.values().sum();
                let mut links: Vec<(ItemId, f64)> =
                    row.into_iter().map(|(to, n)| (to, n / total)).collect();
                links.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                links.truncate(max_links);
                (item, links)
            })
            .collect();
        Self {
            transitions,
            second_step,
            recency_decay,
        }
    }

    /// Where one step from `from` lands, and with how much weight.
    fn step(&self, from: impl IntoIterator<Item = (ItemId, f64)>) -> HashMap<ItemId, f64> {
        let mut landed: HashMap<ItemId, f64> = HashMap::new();
        for (item, weight) in from {
            for (to, probability) in self.transitions.get(&item).into_iter().flatten() {
                *landed.entry(*to).or_default() += weight * probability;
            }
        }
        landed
    }
}

impl CandidateSource for ItemWalk {
    fn name(&self) -> &'static str {
        "browsed_nearby"
    }

    fn recommend(&self, context: &[ItemId], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate> {
        let context = distinct(context);
        let start = context.iter().enumerate().map(|(position, item)| {
            (
                *item,
                recency_weight(position, context.len(), self.recency_decay),
            )
        });
        let first = self.step(start);
        let mut frontier: Vec<(ItemId, f64)> = first.iter().map(|(i, w)| (*i, *w)).collect();
        frontier.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        frontier.truncate(FRONTIER);
        let mut scores = first;
        if self.second_step > 0.0 {
            for (item, weight) in self.step(frontier) {
                *scores.entry(item).or_default() += self.second_step * weight;
            }
        }
        top_k(scores, k, exclude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(items: &[ItemId]) -> Session {
        Session {
            items: items.to_vec(),
            time: 0,
        }
    }

    #[test]
    fn the_second_step_reaches_items_never_seen_with_the_context() {
        // 1 was viewed with 2, and 2 with 3: 3 was never viewed with 1.
        let walk = ItemWalk::train(&[session(&[1, 2]), session(&[2, 3])], 100, 100, 1.0, 0.0);
        let got: Vec<ItemId> = walk
            .recommend(&[1], 10, &HashSet::from([1]))
            .iter()
            .map(|c| c.item)
            .collect();
        assert_eq!(
            got,
            vec![2, 3],
            "direct neighbour first, then two steps away"
        );
        let one_step = ItemWalk::train(&[session(&[1, 2]), session(&[2, 3])], 100, 100, 0.0, 0.0);
        let got: Vec<ItemId> = one_step
            .recommend(&[1], 10, &HashSet::from([1]))
            .iter()
            .map(|c| c.item)
            .collect();
        assert_eq!(got, vec![2]);
    }

    #[test]
    fn a_hub_spreads_its_weight_over_everything_it_touches() {
        // 1 leads to 2 every time; 3 is a hub seen with everything once.
        let sessions = [
            session(&[1, 2]),
            session(&[1, 2]),
            session(&[1, 3]),
            session(&[3, 4]),
            session(&[3, 5]),
            session(&[3, 6]),
        ];
        let walk = ItemWalk::train(&sessions, 100, 100, 1.0, 0.0);
        let got = walk.recommend(&[1], 10, &HashSet::from([1]));
        assert_eq!(got[0].item, 2);
        let through_hub = got
            .iter()
            .find(|c| c.item == 4)
            .expect("two steps via the hub");
        assert!(through_hub.score < got[1].score);
        // Scores come out best first and ties by id, whatever the hash order.
        assert!(got.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn excluded_items_and_long_sessions_are_left_out() {
        let walk = ItemWalk::train(
            &[
                session(&[1, 2]),
                session(&[1, 3]),
                session(&[1, 4, 5, 6, 7]),
            ],
            100,
            3,
            1.0,
            0.0,
        );
        let got: Vec<ItemId> = walk
            .recommend(&[1], 10, &HashSet::from([1, 2]))
            .iter()
            .map(|c| c.item)
            .collect();
        assert_eq!(got, vec![3]);
        assert!(walk.recommend(&[99], 10, &HashSet::new()).is_empty());
    }
}
