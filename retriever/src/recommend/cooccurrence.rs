//! Frequently bought (or viewed) together: how often two items share a session, summed
//! over the context with the most recent items weighing most. `normalise` dampens items
//! that co-occur with everything: a count is divided by `count(j)^normalise`.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{distinct, pair_counts, sum_links, top_k, Candidate, CandidateSource, ItemId, Session};

#[derive(Serialize, Deserialize)]
pub struct CoOccurrence {
    pairs: HashMap<ItemId, HashMap<ItemId, f64>>,
    counts: HashMap<ItemId, f64>,
    normalise: f64,
    recency_decay: f64,
}

impl CoOccurrence {
    /// Sessions longer than `max_session` items add to item counts but pair nothing: they
    /// pair everything with everything.
    pub fn train(
        sessions: &[Session],
        normalise: f64,
        recency_decay: f64,
        max_session: usize,
    ) -> Self {
        let mut counts: HashMap<ItemId, f64> = HashMap::new();
        for session in sessions {
            for item in distinct(&session.items) {
                *counts.entry(item).or_default() += 1.0;
            }
        }
        let pairs = pair_counts(sessions, max_session);
        Self {
            pairs,
            counts,
            normalise,
            recency_decay,
        }
    }
}

impl CandidateSource for CoOccurrence {
    fn name(&self) -> &'static str {
        "bought_together"
    }

    fn recommend(&self, context: &[ItemId], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate> {
        let scores = sum_links(
            context,
            self.recency_decay,
            &self.pairs,
            |other, together| {
                together
                    / self
                        .counts
                        .get(&other)
                        .copied()
                        .unwrap_or(1.0)
                        .powf(self.normalise)
            },
        );
        top_k(scores, k, exclude)
    }
}
