//! Trending: time-decayed popularity. Each session counts once per item, weighted by
//! `0.5^(age / half_life)` from the newest session the model has seen.

use std::collections::{HashMap, HashSet};

use super::{first_k, top_k, Candidate, CandidateSource, ItemId, Session};

pub struct Popularity {
    ranked: Vec<Candidate>,
}

impl Popularity {
    /// `half_life_secs` of `None` counts every session alike.
    pub fn train(sessions: &[Session], half_life_secs: Option<f64>) -> Self {
        let newest = sessions.iter().map(|s| s.time).max().unwrap_or(0);
        let mut scores: HashMap<ItemId, f64> = HashMap::new();
        for session in sessions {
            let weight = half_life_secs
                .map(|h| 0.5f64.powf((newest - session.time) as f64 / h))
                .unwrap_or(1.0);
            for item in super::distinct(&session.items) {
                *scores.entry(item).or_default() += weight;
            }
        }
        let everything = scores.len();
        Self {
            ranked: top_k(scores, everything, &HashSet::new()),
        }
    }
}

impl CandidateSource for Popularity {
    fn name(&self) -> &'static str {
        "trending"
    }

    fn recommend(
        &self,
        _context: &[ItemId],
        k: usize,
        exclude: &HashSet<ItemId>,
    ) -> Vec<Candidate> {
        first_k(&self.ranked, k, exclude)
    }
}
