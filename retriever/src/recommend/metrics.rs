//! Offline metrics for next-item prediction with one held-out item per case: hit rate at
//! 10 and 20, MRR@20, NDCG@20, and catalogue coverage (share of the catalogue that appears
//! in any top-20 list).

use std::collections::HashSet;

use super::{CandidateSource, ItemId};

/// One prediction case: what the shopper had, and the item that came next.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub context: Vec<ItemId>,
    pub target: ItemId,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics {
    pub cases: usize,
    pub hr10: f64,
    pub hr20: f64,
    pub mrr20: f64,
    pub ndcg20: f64,
    pub coverage20: f64,
}

impl Metrics {
    /// Scores `source` on `cases`; items in the context are never recommended (the shopper
    /// has them), and coverage is over `catalogue_size` items.
    pub fn measure(
        source: &dyn CandidateSource,
        cases: &[Evaluation],
        catalogue_size: usize,
    ) -> Self {
        let mut metrics = Metrics {
            cases: cases.len(),
            ..Metrics::default()
        };
        let mut shown: HashSet<ItemId> = HashSet::new();
        for case in cases {
            let exclude: HashSet<ItemId> = case.context.iter().copied().collect();
            let list = source.recommend(&case.context, 20, &exclude);
            shown.extend(list.iter().map(|c| c.item));
            if let Some(rank) = list.iter().position(|c| c.item == case.target) {
                metrics.hr20 += 1.0;
                if rank < 10 {
                    metrics.hr10 += 1.0;
                }
                metrics.mrr20 += 1.0 / (rank as f64 + 1.0);
                metrics.ndcg20 += 1.0 / (rank as f64 + 2.0).log2();
            }
        }
        let n = cases.len().max(1) as f64;
        metrics.hr10 /= n;
        metrics.hr20 /= n;
        metrics.mrr20 /= n;
        metrics.ndcg20 /= n;
        metrics.coverage20 = shown.len() as f64 / catalogue_size.max(1) as f64;
        metrics
    }
}
