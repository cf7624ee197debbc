//! Trending: time-decayed popularity. Each observation of interest weighs
//! `0.5^(age / half_life)`, and nothing older than the window counts. The evaluation feeds
//! it training sessions (each counts once per item, aged from the newest session seen);
//! the server feeds it a shop's daily counts, aged from today. Both rank with this.

use std::collections::{HashMap, HashSet};

use super::{first_k, top_k, Candidate, CandidateSource, ItemId, Session};

/// How interest ages: `half_life_secs` of `None` counts every observation alike, and a
/// `window_secs` of `None` keeps every one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Recency {
    pub half_life_secs: Option<f64>,
    pub window_secs: Option<f64>,
}

impl Recency {
    /// What an observation `age_secs` old weighs, or `None` past the window.
    fn weight(&self, age_secs: f64) -> Option<f64> {
        if self.window_secs.is_some_and(|window| age_secs > window) {
            return None;
        }
        Some(
            self.half_life_secs
                .map(|h| 0.5f64.powf(age_secs / h))
                .unwrap_or(1.0),
        )
    }
}

pub struct Popularity {
    ranked: Vec<Candidate>,
}

impl Popularity {
    /// `half_life_secs` of `None` counts every session alike.
    pub fn train(sessions: &[Session], half_life_secs: Option<f64>) -> Self {
        Self::train_recent(
            sessions,
            Recency {
                half_life_secs,
                window_secs: None,
            },
        )
    }

    /// Sessions aged from the newest one seen.
    pub fn train_recent(sessions: &[Session], recency: Recency) -> Self {
        let newest = sessions.iter().map(|s| s.time).max().unwrap_or(0);
        Self::from_counts(
            sessions.iter().flat_map(|session| {
                let age = (newest - session.time) as f64;
                super::distinct(&session.items)
                    .into_iter()
                    .map(move |item| (item, age, 1.0))
            }),
            recency,
        )
    }

    /// Observations of interest: (item, age in seconds, how many).
    pub fn from_counts(
        counts: impl IntoIterator<Item = (ItemId, f64, f64)>,
        recency: Recency,
    ) -> Self {
        let mut scores: HashMap<ItemId, f64> = HashMap::new();
        for (item, age, count) in counts {
            if let Some(weight) = recency.weight(age) {
                *scores.entry(item).or_default() += count * weight;
            }
        }
        let everything = scores.len();
        Self {
            ranked: top_k(scores, everything, &HashSet::new()),
        }
    }

    /// Every item with interest, best first (ties: the smaller id).
    pub fn ranked(&self) -> &[Candidate] {
        &self.ranked
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
