//! Maximal marginal relevance (Carbonell and Goldstein, 1998): a shelf picked one item at a
//! time, each the best trade between its relevance and its cosine to the closest item
//! already picked, so that five colourways of one product no longer fill five places.
//! Works on any strategy's answer: relevance is scaled within the candidates (scores are
//! comparable only within one answer), similarity is read from the vectors.

use std::collections::{HashMap, HashSet};

use super::{Candidate, CandidateSource, ItemId};

/// Candidates MMR chooses among, per place asked for (shelves use the same pool).
pub const POOL_PER_PLACE: usize = 3;

/// The order to show `relevance.len()` candidates in: the first `take` picked by MMR, the
/// rest after them in their given order. `relevance` is the candidates' scores in any
/// scale, best first or not; `vectors[i]` is candidate `i`'s unit-length embedding, or
/// `None` when it has none (it is then neither penalised nor penalising). `shown` holds
/// the vectors of items already on the shelf (pinned ones), which count as picked.
/// `diversity` is the weight of novelty against relevance: 0 keeps the relevance order,
/// 1 picks by novelty alone.
pub fn mmr_order(
    relevance: &[f32],
    vectors: &[Option<&[f32]>],
    shown: &[&[f32]],
    diversity: f32,
    take: usize,
) -> Vec<usize> {
    let n = relevance.len();
    debug_assert_eq!(n, vectors.len());
    let diversity = diversity.clamp(0.0, 1.0);
    let scaled = scaled_relevance(relevance);
    // The highest cosine of each candidate to anything picked so far; kept up to date
    // after each pick, so a shelf costs take × n dot products.
    let mut closest: Vec<f32> = vectors
        .iter()
        .map(|v| match v {
            Some(v) => shown.iter().map(|s| dot(v, s)).fold(0.0, f32::max),
            None => 0.0,
        })
        .collect();
    let mut picked = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < take.min(n) {
        let best = (0..n)
            .filter(|i| !picked[*i])
            .map(|i| (i, (1.0 - diversity) * scaled[i] - diversity * closest[i]))
            // Ties: the earlier candidate, so that no diversity reproduces the given order.
            .fold(None, |best: Option<(usize, f32)>, (i, value)| match best {
                Some((_, top)) if top >= value => best,
                _ => Some((i, value)),
            });
        let Some((chosen, _)) = best else { break };
        picked[chosen] = true;
        order.push(chosen);
        if let Some(chosen_vector) = vectors[chosen] {
            for (i, vector) in vectors.iter().enumerate() {
                if let (false, Some(vector)) = (picked[i], vector) {
                    closest[i] = closest[i].max(dot(vector, chosen_vector));
                }
            }
        }
    }
    order.extend((0..n).filter(|i| !picked[*i]));
    order
}

/// A source whose answers are re-ordered by MMR on item vectors, as shelves are served:
/// of three candidates per place asked for, the places go by [`mmr_order`]. For measuring
/// what diversity costs in hit rate offline.
pub struct Diversified<S> {
    inner: S,
    vectors: HashMap<ItemId, Vec<f32>>,
    diversity: f32,
}

impl<S: CandidateSource> Diversified<S> {
    pub fn new(inner: S, vectors: HashMap<ItemId, Vec<f32>>, diversity: f32) -> Self {
        Self {
            inner,
            vectors,
            diversity,
        }
    }
}

impl<S: CandidateSource> CandidateSource for Diversified<S> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn recommend(&self, context: &[ItemId], k: usize, exclude: &HashSet<ItemId>) -> Vec<Candidate> {
        let pool = self.inner.recommend(context, k * POOL_PER_PLACE, exclude);
        let relevance: Vec<f32> = pool.iter().map(|c| c.score as f32).collect();
        let vectors: Vec<Option<&[f32]>> = pool
            .iter()
            .map(|c| self.vectors.get(&c.item).map(Vec::as_slice))
            .collect();
        mmr_order(&relevance, &vectors, &[], self.diversity, k)
            .into_iter()
            .take(k)
            .map(|i| pool[i])
            .collect()
    }
}

/// Scores as a share of the best: cosines and blended scores alike keep their ratios, so
/// a candidate almost as good as the best stays almost as good (min-max scaling would
/// stretch 0.95 against 0.80 into 1 against 0). Min-max only where scores go negative.
fn scaled_relevance(relevance: &[f32]) -> Vec<f32> {
    let high = relevance.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let low = relevance.iter().copied().fold(f32::INFINITY, f32::min);
    relevance
        .iter()
        .map(|r| {
            if low >= 0.0 && high > f32::EPSILON {
                r / high
            } else if high - low > f32::EPSILON {
                (r - low) / (high - low)
            } else {
                1.0
            }
        })
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }

    /// Three near-copies of one item, then two different ones.
    fn shelf() -> (Vec<f32>, Vec<Vec<f32>>) {
        let relevance = vec![0.95, 0.94, 0.93, 0.80, 0.70];
        let vectors = vec![
            unit(&[1.0, 0.0, 0.0]),
            unit(&[1.0, 0.05, 0.0]),
            unit(&[1.0, 0.0, 0.05]),
            unit(&[0.3, 1.0, 0.0]),
            unit(&[0.3, 0.0, 1.0]),
        ];
        (relevance, vectors)
    }

    fn order(diversity: f32, take: usize, shown: &[&[f32]]) -> Vec<usize> {
        let (relevance, vectors) = shelf();
        let vectors: Vec<Option<&[f32]>> = vectors.iter().map(|v| Some(v.as_slice())).collect();
        mmr_order(&relevance, &vectors, shown, diversity, take)
    }

    #[test]
    fn no_diversity_keeps_the_relevance_order() {
        assert_eq!(order(0.0, 5, &[]), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn near_copies_give_way_to_different_items() {
        assert_eq!(order(0.3, 3, &[]), [0, 3, 4, 1, 2]);
    }

    #[test]
    fn what_is_already_shown_counts_as_picked() {
        let pinned = unit(&[1.0, 0.0, 0.0]);
        assert_eq!(order(0.3, 1, &[pinned.as_slice()]), [3, 0, 1, 2, 4]);
    }

    #[test]
    fn candidates_without_vectors_keep_their_place_by_relevance() {
        let (relevance, vectors) = shelf();
        let mut vectors: Vec<Option<&[f32]>> = vectors.iter().map(|v| Some(v.as_slice())).collect();
        vectors[1] = None;
        assert_eq!(
            mmr_order(&relevance, &vectors, &[], 0.3, 3),
            [0, 1, 3, 2, 4]
        );
    }

    #[test]
    fn equal_scores_and_empty_shelves_are_harmless() {
        assert_eq!(mmr_order(&[], &[], &[], 0.5, 10), Vec::<usize>::new());
        let v = unit(&[1.0, 1.0]);
        let same = [Some(v.as_slice()), Some(v.as_slice())];
        assert_eq!(mmr_order(&[0.5, 0.5], &same, &[], 0.5, 2), [0, 1]);
    }
}
