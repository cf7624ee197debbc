//! Session-based k-nearest neighbours (the SKNN family): the past sessions most like the
//! current one vote for their items. Similarity is the overlap of item sets (cosine over
//! binary vectors), each shared item weighted by how recent it is in the current session;
//! only the most recent `sample` sessions of each context item are considered, which keeps
//! a query cheap and favours what shoppers do now.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{distinct, recency_weight, top_k, Candidate, CandidateSource, ItemId, Session};

#[derive(Serialize, Deserialize)]
pub struct SessionKnn {
    sessions: Vec<HashSet<ItemId>>,
    /// Sessions containing each item, oldest first.
    by_item: HashMap<ItemId, Vec<usize>>,
    neighbours: usize,
    sample: usize,
    recency_decay: f64,
}

impl SessionKnn {
    pub fn train(
        sessions: &[Session],
        neighbours: usize,
        sample: usize,
        recency_decay: f64,
    ) -> Self {
        let mut ordered: Vec<&Session> = sessions.iter().collect();
        ordered.sort_by_key(|s| s.time);
        let mut by_item: HashMap<ItemId, Vec<usize>> = HashMap::new();
        let sets: Vec<HashSet<ItemId>> = ordered
            .iter()
            .enumerate()
            .map(|(index, session)| {
                let items: HashSet<ItemId> = session.items.iter().copied().collect();
                for item in &items {
                    by_item.entry(*item).or_default().push(index);
                }
                items
            })
            .collect();
        Self {
            sessions: sets,
            by_item,
            neighbours,
            sample,
            recency_decay,
        }
    }
}

impl CandidateSource for SessionKnn {
    fn name(&self) -> &'static str {
        "shoppers_like_you"
    }

    fn recommend(&self, context: &[ItemId], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate> {
        let context = distinct(context);
        if context.is_empty() {
            return Vec::new();
        }
        let weights: HashMap<ItemId, f64> = context
            .iter()
            .enumerate()
            .map(|(position, item)| {
                (
                    *item,
                    recency_weight(position, context.len(), self.recency_decay),
                )
            })
            .collect();
        let mut candidates: HashSet<usize> = HashSet::new();
        for item in &context {
            if let Some(list) = self.by_item.get(item) {
                candidates.extend(list.iter().rev().take(self.sample));
            }
        }
        let mut similar: Vec<(usize, f64)> = candidates
            .into_iter()
            .map(|index| {
                let other = &self.sessions[index];
                let overlap: f64 = other.iter().filter_map(|item| weights.get(item)).sum();
                (
                    index,
                    overlap / ((context.len() * other.len()) as f64).sqrt(),
                )
            })
            .collect();
        similar.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        similar.truncate(self.neighbours);
        let mut scores: HashMap<ItemId, f64> = HashMap::new();
        for (index, similarity) in similar {
            for item in &self.sessions[index] {
                *scores.entry(*item).or_default() += similarity;
            }
        }
        top_k(scores, k, exclude)
    }
}
