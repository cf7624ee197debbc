//! Recommendation strategies over shopper interactions: each is a candidate source that
//! scores items for a context (the items a shopper touched, most recent last), and a
//! blender that fuses several sources. The server and the offline evaluation run the same
//! code, so what is measured is what is served.

mod blend;
mod buy_again;
mod content;
mod cooccurrence;
mod diversity;
mod item_walk;
mod metrics;
mod popularity;
mod sequential_rules;
mod session_knn;

use std::collections::{HashMap, HashSet};

pub use blend::{Blender, Fusion, SourceWeight};
pub use buy_again::{repeat_share, BuyAgain, BuyAgainParams, ShopperId};
pub use content::ContentSimilarity;
pub use cooccurrence::CoOccurrence;
pub use diversity::{mmr_order, Diversified, POOL_PER_PLACE};
pub use item_walk::ItemWalk;
pub use metrics::{Evaluation, Metrics};
pub use popularity::{Popularity, Recency};
pub use sequential_rules::SequentialRules;
pub use session_knn::SessionKnn;

pub type ItemId = u64;

/// What a shopper did, in time order: a basket's items or a session's views.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub items: Vec<ItemId>,
    /// When the session ended (seconds); popularity decays with it.
    pub time: i64,
}

/// An item a source suggests, with its score (comparable within one source only).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub item: ItemId,
    pub score: f64,
}

/// A strategy that scores items for a shopper's context.
pub trait CandidateSource: Send + Sync {
    /// A short name for reasons and reports: `popular`, `bought_together`, …
    fn name(&self) -> &'static str;

    /// Up to `k` items, best first, none of them in `exclude`. `context` is in time order.
    fn recommend(&self, context: &[ItemId], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate>;
}

/// A source shared between requests (the server keeps one trained model per shop and blends
/// it anew for each shopper).
impl<T: CandidateSource + ?Sized> CandidateSource for std::sync::Arc<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn recommend(&self, context: &[ItemId], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate> {
        (**self).recommend(context, k, exclude)
    }
}

/// Candidates ranked elsewhere (a vector search, say), blended like any source.
pub struct RankedList {
    pub name: &'static str,
    pub candidates: Vec<Candidate>,
}

impl CandidateSource for RankedList {
    fn name(&self) -> &'static str {
        self.name
    }

    fn recommend(
        &self,
        _context: &[ItemId],
        k: usize,
        exclude: &HashSet<ItemId>,
    ) -> Vec<Candidate> {
        first_k(&self.candidates, k, exclude)
    }
}

/// The first `k` of a ranked list that are not excluded.
pub(crate) fn first_k(ranked: &[Candidate], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate> {
    ranked
        .iter()
        .filter(|c| !exclude.contains(&c.item))
        .take(k)
        .copied()
        .collect()
}

/// The `k` best-scored items, best first; ties go to the smaller id so results never depend
/// on hash order.
pub(crate) fn top_k(
    scores: HashMap<ItemId, f64>,
    k: usize,
    exclude: &HashSet<ItemId>,
) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = scores
        .into_iter()
        .filter(|(item, score)| *score > 0.0 && !exclude.contains(item))
        .map(|(item, score)| Candidate { item, score })
        .collect();
    let best_first =
        |a: &Candidate, b: &Candidate| b.score.total_cmp(&a.score).then(a.item.cmp(&b.item));
    // A walk reaches thousands of items for a shelf of a few dozen: the best k are set
    // apart in linear time and only they are sorted.
    if k == 0 {
        return Vec::new();
    }
    if candidates.len() > k {
        candidates.select_nth_unstable_by(k - 1, best_first);
        candidates.truncate(k);
    }
    candidates.sort_unstable_by(best_first);
    candidates
}

/// Weight of the context item at `position` (0 = oldest) of `len`: the most recent counts
/// most; `decay` 0 weighs all alike.
pub(crate) fn recency_weight(position: usize, len: usize, decay: f64) -> f64 {
    let age = (len - 1 - position) as f64;
    (-decay * age).exp()
}

/// The scores of pair-based sources: every context item's links to other items, weighted
/// by how recent the context item is; `value` turns a link's strength into a score.
pub(crate) fn sum_links(
    context: &[ItemId],
    recency_decay: f64,
    links: &HashMap<ItemId, HashMap<ItemId, f64>>,
    value: impl Fn(ItemId, f64) -> f64,
) -> HashMap<ItemId, f64> {
    let mut scores: HashMap<ItemId, f64> = HashMap::new();
    for (position, item) in context.iter().enumerate() {
        let weight = recency_weight(position, context.len(), recency_decay);
        for (other, strength) in links.get(item).into_iter().flatten() {
            *scores.entry(*other).or_default() += weight * value(*other, *strength);
        }
    }
    scores
}

/// How often each pair of items shares a session (each session's items counted once);
/// sessions of more than `max_session` items are skipped: they pair everything with everything.
pub(crate) fn pair_counts(
    sessions: &[Session],
    max_session: usize,
) -> HashMap<ItemId, HashMap<ItemId, f64>> {
    let mut pairs: HashMap<ItemId, HashMap<ItemId, f64>> = HashMap::new();
    for session in sessions {
        let items = distinct(&session.items);
        if items.len() > max_session {
            continue;
        }
        for a in &items {
            let row = pairs.entry(*a).or_default();
            for b in &items {
                if a != b {
                    *row.entry(*b).or_default() += 1.0;
                }
            }
        }
    }
    pairs
}

/// Each item once, first occurrence kept, order kept.
pub fn distinct(items: &[ItemId]) -> Vec<ItemId> {
    let mut seen = HashSet::with_capacity(items.len());
    items.iter().copied().filter(|i| seen.insert(*i)).collect()
}

#[cfg(test)]
mod tests;
