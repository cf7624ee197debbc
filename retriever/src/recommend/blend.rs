//! The blender: a weighted fusion of several candidate sources, either of their ranks
//! (reciprocal-rank fusion) or of their scores, each source's scaled by its own best score
//! (so a source that is sure of its first item counts more than one that barely matched).
//! A source with nothing to say (a new shopper has no co-occurrences) simply adds nothing,
//! so the blend falls back to the sources that answer. Each item keeps the source that gave
//! it the most, as the reason it is shown.

use std::collections::{HashMap, HashSet};

use super::{Candidate, CandidateSource, ItemId};

/// A source and how much its ranks count.
pub struct SourceWeight {
    pub source: Box<dyn CandidateSource>,
    pub weight: f64,
}

/// How the sources' lists are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// `weight / (constant + rank)`; a larger constant flattens the difference between ranks.
    ReciprocalRank { constant: f64 },
    /// `weight * score / best score of that source`.
    Score,
}

pub struct Blender {
    sources: Vec<SourceWeight>,
    fusion: Fusion,
    /// How deep each source's list is read.
    depth: usize,
}

impl Blender {
    pub fn new(sources: Vec<SourceWeight>, fusion: Fusion, depth: usize) -> Self {
        Self {
            sources,
            fusion,
            depth,
        }
    }

    /// The sources back, to be weighted again (tuning tries many weightings).
    pub fn into_sources(self) -> Vec<Box<dyn CandidateSource>> {
        self.sources.into_iter().map(|s| s.source).collect()
    }

    /// Blended items, best first, each with the name of the source that contributed most.
    pub fn recommend_explained(
        &self,
        context: &[ItemId],
        k: usize,
        exclude: &HashSet<ItemId>,
    ) -> Vec<(Candidate, &'static str)> {
        let mut fused: HashMap<ItemId, (f64, f64, &'static str)> = HashMap::new();
        for SourceWeight { source, weight } in &self.sources {
            if *weight <= 0.0 {
                continue;
            }
            let list = source.recommend(context, self.depth, exclude);
            let best = list.first().map_or(1.0, |c| c.score);
            for (rank, candidate) in list.iter().enumerate() {
                let share = match self.fusion {
                    Fusion::ReciprocalRank { constant } => weight / (constant + rank as f64 + 1.0),
                    Fusion::Score => weight * candidate.score / best,
                };
                let entry = fused
                    .entry(candidate.item)
                    .or_insert((0.0, 0.0, source.name()));
                entry.0 += share;
                if share > entry.1 {
                    entry.1 = share;
                    entry.2 = source.name();
                }
            }
        }
        let mut ranked: Vec<(Candidate, &'static str)> = fused
            .into_iter()
            .map(|(item, (score, _, reason))| (Candidate { item, score }, reason))
            .collect();
        ranked.sort_by(|a, b| {
            b.0.score
                .total_cmp(&a.0.score)
                .then(a.0.item.cmp(&b.0.item))
        });
        ranked.truncate(k);
        ranked
    }
}

impl CandidateSource for Blender {
    fn name(&self) -> &'static str {
        "blended"
    }

    fn recommend(&self, context: &[ItemId], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate> {
        self.recommend_explained(context, k, exclude)
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }
}
